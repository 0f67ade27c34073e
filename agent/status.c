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
#include "flink/status.h"
#include "sync/sync.h"

static const char *blob_of(const cli_source *src, const char *path)
{
	for (size_t i = 0; i < src->n; i++)
		if (fo_streq(src->files[i].path, path))
			return src->files[i].blob;
	return NULL;
}

/* The status an item should have now, starting from the one in git. */
static void update(flink_status *s, const deploy_item *it, const cli_source *src, const char *commit)
{
	const deploy_journal *j = &it->journal;
	if (!it->fd) {
		if (!it->deleted)
			return; /* kept: refused or failed to delete, the old status stands */
		s->phase = FLINK_PHASE_DELETED;
		flink_status_set(&s->message, "gone from git; its objects were deleted");
		if (it->journal.savepoint_path && fo_streq(it->journal.savepoint_reason, "delete")) {
			flink_status_set(&s->last_savepoint.path, it->journal.savepoint_path);
			flink_status_set(&s->last_savepoint.time, it->journal.savepoint_time);
			s->last_savepoint.reason = FLINK_SAVEPOINT_DELETE;
		}
		flink_status_set(&s->observed_commit, commit);
		flink_status_set(&s->job.id, NULL);
		flink_status_set(&s->job.state, NULL);
		return;
	}
	const flink_deployment *fd = it->fd;
	/* The source commit moves only when the manifest does: the agent's own
	 * status commits (or unrelated ones) must not look like new specs, or
	 * every pass would write a status that the next pass sees as news. */
	const char *blob = blob_of(src, fd->source);
	if (!s->source.commit || !fo_streq(s->source.blob, blob) || !fo_streq(s->source.path, fd->source)) {
		flink_status_set(&s->source.path, fd->source);
		flink_status_set(&s->source.blob, blob);
		flink_status_set(&s->source.commit, commit);
	}
	commit = s->source.commit;
	if (j->savepoint_path) {
		flink_status_set(&s->last_savepoint.path, j->savepoint_path);
		flink_status_set(&s->last_savepoint.time, j->savepoint_time);
		int reason = j->savepoint_reason ? flink_savepoint_reason_parse(j->savepoint_reason) : -1;
		s->last_savepoint.reason = reason < 0 ? FLINK_SAVEPOINT_UPGRADE : (enum flink_savepoint_reason)reason;
	}
	bool suspended = fd->has_job && fd->job.state == FLINK_STATE_SUSPENDED;
	if (it->error) {
		s->phase = FLINK_PHASE_FAILED;
		flink_status_set(&s->message, it->error);
	} else if (j->step == DEPLOY_STEP_FAILED) {
		/* the job failed past its restart budget; a new commit retries */
		s->phase = FLINK_PHASE_FAILED;
		flink_status_set(&s->message, j->last_error ? j->last_error : "the job failed");
	} else if (suspended) {
		s->phase = FLINK_PHASE_SUSPENDED;
		flink_status_set(&s->message, "suspended in git");
		flink_status_set(&s->observed_commit, commit);
		flink_status_set(&s->job.state, NULL);
	} else if (fd->has_job && (!j->job_id || (it->job_pending && !it->job_started))) {
		s->phase = FLINK_PHASE_DEPLOYING;
		flink_status_set(&s->message, "waiting for the job to start");
	} else {
		s->phase = FLINK_PHASE_RUNNING;
		flink_status_set(&s->message, NULL);
		flink_status_set(&s->observed_commit, commit);
		if (fd->has_job) {
			flink_status_set(&s->job.id, j->job_id);
			flink_status_set(&s->job.state, "RUNNING");
		}
	}
}

int cli_write_statuses(cli_pass *p, const deploy_pass *pass, char commit_out[41], fo_err *e)
{
	commit_out[0] = '\0';
	if (!p->src.repo || !p->cfg->status.enabled)
		return 0;
	char *now = flink_status_time(time(NULL));
	const char *branch = p->cfg->status.branch ? p->cfg->status.branch : p->cfg->repository.branch;
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
		char *data = NULL;
		size_t len = 0;
		if (tip[0] && sync_read_file(p->src.repo, tip, path, &data, &len, &ignore) == 0 &&
		    flink_status_parse(path, data, len, &old, &ignore) < 0)
			old = NULL; /* unreadable: written anew */
		fo_err_clear(&ignore);
		free(data);
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
		update(cur, it, &p->src, p->commit);
		if (old && flink_status_same(old, cur)) {
			flink_status_free(old);
			flink_status_free(cur);
			free(path);
			continue;
		}
		if (!old || before != cur->phase)
			flink_status_add_history(cur, cur->source.commit ? cur->source.commit : p->commit, cur->phase, now,
						 cur->last_savepoint.path);
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
		rc = sync_commit_push(p->src.repo, branch, puts, n, message, &author, 5, commit_out, e);
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
