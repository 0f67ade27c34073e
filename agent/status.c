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
#include "lib/log.h"
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

/* Every status file of the status branch's tip into *out: NULL, or why
 * not all could be read (the caller frees it). */
static char *read_all_statuses(cli_pass *p, sync_files *out)
{
	char tip[SYNC_OID_HEX] = "";
	fo_err e = FO_ERR_INIT;
	fo_diags notes = FO_DIAGS_INIT;
	char *why = NULL;
	if (sync_resolve(p->src.repo, status_branch(p), tip, &e) < 0) {
		why = fo_asprintf("the status branch %s could not be read: %s", status_branch(p), fo_err_msg(&e));
		goto cleanup;
	}
	/* the status folder itself, every file in it (none is skipped as a status folder) */
	sync_select sel = {p->cfg->status.folder ? p->cfg->status.folder : "status", "*.yaml", "", FLINK_STATUS_FILE_MAX};
	if (sync_read_manifests(p->src.repo, tip, &sel, out, &notes, &e) < 0)
		why = fo_asprintf("the status files could not be read: %s", fo_err_msg(&e));
	else if (notes.nerrors)
		why = fo_asprintf("status file %s:%d:%d: %s", notes.v[0].file, notes.v[0].line, notes.v[0].col,
				  notes.v[0].msg);
cleanup:
	fo_err_clear(&e);
	fo_diags_free(&notes);
	return why;
}

void cli_retention_context(cli_pass *p, const deploy_pass *pass)
{
	deploy_retention_ctx_free(&p->retention);
	p->rollout.retention = &p->retention;
	/* the status files are read only when some deployment may dispose of a savepoint */
	bool needed = false;
	for (size_t i = 0; i < pass->n && !needed; i++)
		needed = pass->items[i].journal.ntaken >= 2 || pass->items[i].journal.ndisposals;
	/* or a snapshot gone from git whose file asked for its disposal */
	for (size_t i = 0; i < p->snaps.n && !needed; i++)
		needed = !p->snaps.v[i].fd && p->snaps.v[i].rec.dispose && p->snaps.v[i].rec.state == DEPLOY_SNAP_COMPLETED;
	sync_files status = {0};
	char *status_unread = NULL;
	if (!p->src.repo)
		status_unread = fo_strdup("the manifests are read from a folder: the status history is unknown");
	else if (!needed)
		status_unread = fo_strdup("the status files are not read when no deployment has a savepoint to dispose of");
	else if (p->cfg->status.enabled)
		status_unread = read_all_statuses(p, &status);
	/* else: no status files, no history that could name a savepoint */
	size_t nj = 0;
	const char *key, *text;
	while (deploy_live_journal_at(p->live, nj, &key, &text))
		nj++;
	const char **keys = fo_calloc(nj ? nj : 1, sizeof(*keys)), **texts = fo_calloc(nj ? nj : 1, sizeof(*texts));
	for (size_t i = 0; i < nj; i++)
		deploy_live_journal_at(p->live, i, &keys[i], &texts[i]);
	size_t ns = 0;
	const char *rv;
	while (deploy_live_snapshot_at(p->live, ns, &key, &text, &rv))
		ns++;
	const char **skeys = fo_calloc(ns ? ns : 1, sizeof(*skeys)), **stexts = fo_calloc(ns ? ns : 1, sizeof(*stexts));
	for (size_t i = 0; i < ns; i++)
		deploy_live_snapshot_at(p->live, i, &skeys[i], &stexts[i], &rv);
	size_t nb = 0;
	while (deploy_live_bluegreen_at(p->live, nb, &key, &text, &rv))
		nb++;
	const char **bkeys = fo_calloc(nb ? nb : 1, sizeof(*bkeys)), **btexts = fo_calloc(nb ? nb : 1, sizeof(*btexts));
	for (size_t i = 0; i < nb; i++)
		deploy_live_bluegreen_at(p->live, i, &bkeys[i], &btexts[i], &rv);
	cli_retention_input in = {
		.bluegreen_keys = bkeys,
		.bluegreen_texts = btexts,
		.nbluegreens = nb,
		.snapshot_keys = skeys,
		.snapshot_texts = stexts,
		.nsnapshots = ns,
		.journal_keys = keys,
		.journal_texts = texts,
		.njournals = nj,
		.journals_unread = deploy_live_journals_unread(p->live),
		.desired = &p->desired,
		.manifests = &p->src.initial,
		.manifest_problems = p->bad,
		.not_repository = p->src.repo ? NULL : "the manifests are read from a folder, not the repository",
		.status = &status,
		.status_unread = status_unread,
	};
	cli_retention_build(&in, &p->retention);
	if (p->retention.doubts && needed)
		fo_log(FO_LOG_DEBUG, "retention", "no savepoint is disposed of in this pass: %s", p->retention.doubt);
	free(keys);
	free(texts);
	free(skeys);
	free(stexts);
	free(bkeys);
	free(btexts);
	free(status_unread);
	sync_files_free(&status);
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
	size_t total = pass->n + p->snaps.n + p->bg.n;
	sync_put *puts = fo_calloc(total ? total : 1, sizeof(*puts));
	char **paths = fo_calloc(total ? total : 1, sizeof(*paths));
	fo_buf *texts = fo_calloc(total ? total : 1, sizeof(*texts));
	flink_status **changed = fo_calloc(total ? total : 1, sizeof(*changed));
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; i < total; i++) {
		/* the deployments, then the FlinkStateSnapshots, then the
		 * FlinkBlueGreenDeployments */
		size_t nd = pass->n, ns_end = pass->n + p->snaps.n;
		const deploy_item *it = i < nd ? &pass->items[i] : NULL;
		const deploy_snapshot_item *sn = i >= nd && i < ns_end ? &p->snaps.v[i - nd] : NULL;
		const deploy_bg_item *bg = i >= ns_end ? &p->bg.v[i - ns_end] : NULL;
		const char *ns = it ? it->ns : sn ? sn->ns : bg->ns, *name = it ? it->name : sn ? sn->name : bg->name;
		/* a snapshot the pass did not get to (or whose record is not
		 * there yet, gone from git) keeps the file it has */
		if (sn && sn->outcome == DEPLOY_OUTCOME_NOT_ATTEMPTED)
			continue;
		char *path = flink_status_path(p->cfg->status.folder, ns, name);
		flink_status *old = NULL, *cur = NULL;
		if (tip[0])
			read_status(p, tip, path, &old); /* unreadable: written anew */
		cur = old ? NULL : flink_status_new(ns, name);
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
		if (sn || bg) {
			enum flink_phase before = cur->phase;
			if (sn)
				deploy_snapshot_status_update(cur, sn, sn->fd ? blob_of(&p->src, sn->fd->source) : NULL,
							      p->commit);
			else
				deploy_bg_status_update(cur, bg, bg->git ? blob_of(&p->src, bg->git->source) : NULL,
							p->commit);
			if (cur->phase != before || !cur->nhistory)
				flink_status_add_history(cur, p->commit, cur->phase, now, NULL);
		} else {
			enum flink_phase before = cur->phase;
			char *before_savepoint = cur->last_savepoint.path ? fo_strdup(cur->last_savepoint.path) : NULL;
			deploy_status_update(cur, it, it->fd ? blob_of(&p->src, it->fd->source) : NULL, p->commit,
					     p->opts.rollout != NULL, pass->aborted ? pass->abort_reason : NULL);
			deploy_status_history(cur, (int)before, before_savepoint, it, now);
			free(before_savepoint);
		}
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
		deploy_fault_point("status-push");
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
