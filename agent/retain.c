/*
 * What savepoint retention must know, gathered once a pass (see
 * deploy/retention.h): pure over what the pass read — every journal of the
 * inventory, the manifests (valid or not), the status files — and what it
 * could not read. The reading itself is in status.c and repo.c.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/pass.h"

#include "deploy/bluegreen.h"
#include "deploy/snapshot.h"
#include "lib/yaml.h"
#include "sync/sync.h"

/* A scalar's string, or NULL for anything else (a null, a map, a list). */
static const char *scalar(const fo_yaml_node *n)
{
	return n && n->kind == FO_YAML_SCALAR && !fo_yaml_is_null(n) ? n->str : NULL;
}

void cli_retention_scan_manifest(deploy_retention_ctx *c, const char *file, const char *data, size_t len)
{
	fo_yaml_file *f = NULL;
	fo_diags ignore = FO_DIAGS_INIT; /* the manifest's own load reports them */
	if (fo_yaml_load(file, data, len, NULL, &f, &ignore) == 0) {
		for (size_t i = 0; i < f->ndocs; i++) {
			const fo_yaml_node *doc = f->docs[i], *meta = fo_yaml_get(doc, "metadata");
			const fo_yaml_node *spec = fo_yaml_get(doc, "spec");
			const char *path = scalar(fo_yaml_get(fo_yaml_get(spec, "job"), "initialSavepointPath"));
			if (!path) /* a FlinkBlueGreenDeployment's template */
				path = scalar(fo_yaml_get(
					fo_yaml_get(fo_yaml_get(fo_yaml_get(spec, "template"), "spec"), "job"),
					"initialSavepointPath"));
			char *src = fo_asprintf("%s (job.initialSavepointPath)", file);
			deploy_retention_ctx_add(c, path, scalar(fo_yaml_get(meta, "namespace")), scalar(fo_yaml_get(meta, "name")),
						 src, false);
			free(src);
		}
	}
	fo_yaml_file_free(f);
	fo_diags_free(&ignore);
}

/* "ns/name" as its two parts (caller frees both). */
static void split_key(const char *key, char **ns, char **name)
{
	const char *slash = strchr(key, '/');
	*ns = slash ? fo_strndup(key, (size_t)(slash - key)) : fo_strdup("");
	*name = fo_strdup(slash ? slash + 1 : key);
}

void cli_retention_build(const cli_retention_input *in, deploy_retention_ctx *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < in->njournals; i++) {
		char *ns = NULL, *name = NULL;
		split_key(in->journal_keys[i], &ns, &name);
		deploy_retention_ctx_add_journal(out, ns, name, in->journal_texts[i]);
		free(ns);
		free(name);
	}
	/* a FlinkStateSnapshot's savepoint is referenced by it (as its own:
	 * its own disposal, once its file is gone, may go) */
	for (size_t i = 0; i < in->nsnapshots; i++) {
		char *ns = NULL, *name = NULL;
		split_key(in->snapshot_keys[i], &ns, &name);
		deploy_snapshot_rec r;
		fo_err e = FO_ERR_INIT;
		if (deploy_snapshot_decode(in->snapshot_texts[i], &r, &e) < 0) {
			deploy_retention_ctx_doubt(out, DEPLOY_RETENTION_DOUBT_JOURNALS,
						   "the record of FlinkStateSnapshot %s/%s does not read: %s", ns, name,
						   fo_err_msg(&e));
		} else {
			char *src = fo_asprintf("FlinkStateSnapshot %s/%s", ns, name);
			deploy_retention_ctx_add(out, r.path, ns, name, src, true);
			free(src);
		}
		fo_err_clear(&e);
		deploy_snapshot_rec_clear(&r);
		free(ns);
		free(name);
	}
	/* a blue/green transition's handover savepoint, which its new colour
	 * starts (or started) from, and the specs its colours keep */
	for (size_t i = 0; i < in->nbluegreens; i++) {
		char *ns = NULL, *name = NULL;
		split_key(in->bluegreen_keys[i], &ns, &name);
		deploy_bg_journal j;
		fo_err e = FO_ERR_INIT;
		if (deploy_bg_journal_decode(in->bluegreen_texts[i], &j, &e) < 0) {
			deploy_retention_ctx_doubt(out, DEPLOY_RETENTION_DOUBT_JOURNALS,
						   "the blue/green journal of %s/%s does not read: %s", ns, name,
						   fo_err_msg(&e));
		} else {
			char *src = fo_asprintf("FlinkBlueGreenDeployment %s/%s (its handover savepoint)", ns, name);
			deploy_retention_ctx_add(out, j.handover_path, ns, name, src, false);
			free(src);
			const char *kept[] = {j.active_spec, j.retiring_spec};
			for (size_t k = 0; k < FO_ARRAY_LEN(kept); k++)
				if (kept[k]) {
					char *what = fo_asprintf("the blue/green journal of %s/%s", ns, name);
					cli_retention_scan_manifest(out, what, kept[k], strlen(kept[k]));
					free(what);
				}
		}
		fo_err_clear(&e);
		deploy_bg_journal_clear(&j);
		free(ns);
		free(name);
	}
	if (in->journals_unread)
		deploy_retention_ctx_doubt(out, DEPLOY_RETENTION_DOUBT_JOURNALS,
					   "%zu journal ConfigMap%s without a journal or the labels naming its deployment",
					   in->journals_unread, in->journals_unread == 1 ? "" : "s");
	/* the specs the pass runs: a rollback's older spec names its own */
	for (size_t i = 0; in->desired && i < in->desired->n; i++) {
		const flink_deployment *fd = in->desired->v[i];
		char *src = fo_asprintf("%s (job.initialSavepointPath)", fd->source ? fd->source : "the manifest");
		deploy_retention_ctx_add(out, fd->job.initial_savepoint_path, fd->namespace, fd->name, src, false);
		free(src);
	}
	for (size_t i = 0; in->manifests && i < in->manifests->nrefs; i++) {
		const deploy_retention_ref *r = &in->manifests->refs[i];
		deploy_retention_ctx_add(out, r->path, r->ns, r->name, r->source, false);
	}
	if (in->manifest_problems)
		deploy_retention_ctx_doubt(out, DEPLOY_RETENTION_DOUBT_MANIFESTS,
					   "%zu problem%s in the manifests, so a deployment's job.initialSavepointPath may "
					   "be unknown",
					   in->manifest_problems, in->manifest_problems == 1 ? "" : "s");
	if (in->not_repository)
		deploy_retention_ctx_doubt(out, DEPLOY_RETENTION_DOUBT_REPOSITORY, "%s", in->not_repository);
	if (in->status_unread)
		deploy_retention_ctx_doubt(out, DEPLOY_RETENTION_DOUBT_STATUS, "%s", in->status_unread);
	for (size_t i = 0; in->status && i < in->status->n; i++)
		deploy_retention_ctx_add_status(out, in->status->v[i].path, in->status->v[i].data, in->status->v[i].len);
	deploy_retention_ctx_index(out);
}
