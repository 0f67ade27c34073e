/*
 * After a pass: what happened to each deployment, written back to the
 * repository as status/NS/NAME.yaml — one commit for the pass, only for the
 * files whose content changed, pushed without force (sync/ rebuilds it on a
 * newer tip when someone pushed meanwhile). CI reads these with `wait`.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cli.h"
#include "deploy/retention.h"
#include "flink/status.h"
#include "sync/sync.h"

static const char *blob_of(const cli_source *src, const char *path)
{
	for (size_t i = 0; i < src->n; i++)
		if (fo_streq(src->files[i].path, path))
			return src->files[i].blob;
	return NULL;
}

/* The branch the status files are on. */
static const char *status_branch(const cli_pass *p)
{
	return p->cfg->status.branch ? p->cfg->status.branch : p->cfg->repository.branch;
}

/* The status file `path` at `tip`: 0 with *out, FO_ENOTFOUND when there is
 * none, another negative code when it could not be read or parsed. */
static int read_status(cli_pass *p, const char *tip, const char *path, flink_status **out)
{
	*out = NULL;
	char *data = NULL;
	size_t len = 0;
	fo_err ignore = FO_ERR_INIT;
	int rc = sync_read_file(p->src.repo, tip, path, &data, &len, &ignore);
	if (rc == 0)
		rc = flink_status_parse(path, data, len, out, &ignore);
	fo_err_clear(&ignore);
	free(data);
	return rc;
}

void cli_status_refs(cli_pass *p, deploy_pass *pass)
{
	char tip[SYNC_OID_HEX] = "";
	bool files = p->src.repo && p->cfg->status.enabled;
	if (files) {
		fo_err ignore = FO_ERR_INIT;
		if (sync_resolve(p->src.repo, status_branch(p), tip, &ignore) < 0)
			tip[0] = '\0';
		fo_err_clear(&ignore);
	}
	for (size_t i = 0; i < pass->n; i++) {
		deploy_item *it = &pass->items[i];
		if (!it->fd || it->journal.ntaken < 2)
			continue; /* nothing retention could choose */
		if (!p->src.repo) {
			continue; /* manifests from a folder: the history is unknown, nothing is disposed of */
		}
		if (!p->cfg->status.enabled) {
			it->retain_refs_read = true; /* no status files: no history to keep */
			continue;
		}
		if (!tip[0])
			continue;
		char *path = flink_status_path(p->cfg->status.folder, it->ns, it->name);
		flink_status *s = NULL;
		int rc = read_status(p, tip, path, &s);
		if (rc == 0)
			deploy_retention_status_refs(s, &it->retain_refs, &it->nretain_refs);
		it->retain_refs_read = rc == 0 || rc == FO_ENOTFOUND;
		flink_status_free(s);
		free(path);
	}
	/* a deployment may start from another's savepoint (its
	 * job.initialSavepointPath): no deployment disposes of one */
	for (size_t i = 0; i < pass->n; i++) {
		deploy_item *it = &pass->items[i];
		if (!it->retain_refs_read)
			continue;
		for (size_t k = 0; k < pass->n; k++) {
			const flink_deployment *fd = pass->items[k].fd;
			if (k != i && fd && fd->job.initial_savepoint_path) {
				it->retain_refs = fo_realloc(it->retain_refs, (it->nretain_refs + 1) * sizeof(*it->retain_refs));
				it->retain_refs[it->nretain_refs++] = fo_strdup(fd->job.initial_savepoint_path);
			}
		}
	}
}

int cli_write_statuses(cli_pass *p, const deploy_pass *pass, char commit_out[41], fo_err *e)
{
	commit_out[0] = '\0';
	if (!p->src.repo || !p->cfg->status.enabled)
		return 0;
	char *now = flink_status_time(time(NULL));
	const char *branch = status_branch(p);
	/* read the current files from the branch tip, which may be newer than
	 * the commit the manifests came from */
	char tip[SYNC_OID_HEX] = "";
	fo_err ignore = FO_ERR_INIT;
	if (sync_resolve(p->src.repo, branch, tip, &ignore) < 0)
		tip[0] = '\0';
	fo_err_clear(&ignore);
	sync_put *puts = fo_calloc(pass->n ? pass->n : 1, sizeof(*puts));
	char **paths = fo_calloc(pass->n ? pass->n : 1, sizeof(*paths));
	fo_buf *texts = fo_calloc(pass->n ? pass->n : 1, sizeof(*texts));
	flink_status **changed = fo_calloc(pass->n ? pass->n : 1, sizeof(*changed));
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; i < pass->n; i++) {
		const deploy_item *it = &pass->items[i];
		char *path = flink_status_path(p->cfg->status.folder, it->ns, it->name);
		flink_status *old = NULL, *cur = NULL;
		if (tip[0])
			read_status(p, tip, path, &old); /* unreadable: written anew */
		cur = old ? NULL : flink_status_new(it->ns, it->name);
		if (old) {
			/* a copy to compare against: parse the same text again */
			fo_buf w = FO_BUF_INIT;
			flink_status_write(old, &w);
			flink_status_parse(path, fo_buf_cstr(&w), w.len, &cur, &ignore);
			fo_err_clear(&ignore);
			fo_buf_free(&w);
		}
		if (!cur) {
			flink_status_free(old);
			free(path);
			continue;
		}
		enum flink_phase before = cur->phase;
		char *before_savepoint = cur->last_savepoint.path ? fo_strdup(cur->last_savepoint.path) : NULL;
		deploy_status_update(cur, it, it->fd ? blob_of(&p->src, it->fd->source) : NULL, p->commit,
				     p->opts.rollout != NULL, pass->aborted ? pass->abort_reason : NULL);
		deploy_status_history(cur, (int)before, before_savepoint, it, now);
		free(before_savepoint);
		if (old && flink_status_same(old, cur)) {
			flink_status_free(old);
			flink_status_free(cur);
			free(path);
			continue;
		}
		flink_status_set(&cur->update_time, now);
		flink_status_write(cur, &texts[n]);
		paths[n] = path;
		puts[n].path = path;
		puts[n].content = fo_buf_cstr(&texts[n]);
		changed[n] = cur;
		n++;
		flink_status_free(old);
	}
	if (n) {
		char *message = flink_status_commit_message((const flink_status *const *)changed, n);
		sync_author author = {p->cfg->status.author_name, p->cfg->status.author_email};
		sync_push_opts po = {.attempts = 5, .stop = p->opts.stop, .fence = p->fence};
		rc = sync_commit_push_ex(p->src.repo, branch, puts, n, message, &author, &po, commit_out, e);
		free(message);
		if (rc < 0)
			fo_err_prefix(e, "writing status files to %s", branch);
	}
	for (size_t i = 0; i < n; i++) {
		free(paths[i]);
		fo_buf_free(&texts[i]);
		flink_status_free(changed[i]);
	}
	free(paths);
	free(texts);
	free(changed);
	free(puts);
	free(now);
	return rc;
}
