/*
 * The status policy: what a status file says after a pass, as a pure
 * function of the status in git, what the pass did with the deployment and
 * what it observed. The one rule it keeps: a status says only what was
 * observed — `Running` with an observedCommit means the pass saw the job of
 * that commit's spec RUNNING in Flink; a deployment the pass did not get to
 * keeps what it had, and says so. The history keeps each job's lineage.
 * Table-tested in tests/unit/test_status_policy.c.
 */
#include "deploy/deploy.h"

#include <stdlib.h>
#include <string.h>

#include "flink/status.h"

static void set_job(flink_status *s, const deploy_item *it)
{
	/* Flink's word for the job, never a constant: a job cancelled by hand
	 * shows CANCELED until it is brought back */
	if (it->job_state)
		flink_status_set(&s->job.state, it->job_state);
}

/* The running job's id, and Flink's count of its own restarts: a new job
 * starts from none; a count Flink did not give in this pass stands. */
static void set_running_job(flink_status *s, const deploy_item *it, const char *job_id)
{
	if (!fo_streq(s->job.id, job_id))
		s->job.restarts = 0;
	if (it->flink_restarts_known)
		s->job.restarts = it->flink_restarts;
	flink_status_set(&s->job.id, job_id);
	flink_status_set(&s->job.state, "RUNNING");
}

static void deleted(flink_status *s, const deploy_item *it, const char *commit)
{
	if (it->deleted) {
		s->phase = FLINK_PHASE_DELETED;
		flink_status_set(&s->message, "gone from git; its objects were deleted");
		flink_status_set(&s->observed_commit, commit);
		flink_status_set(&s->job.id, NULL);
		flink_status_set(&s->job.state, NULL);
		s->job.restarts = 0;
	} else if (it->outcome == DEPLOY_OUTCOME_WAITING) {
		char *m = fo_asprintf("gone from git; deleting after its final savepoint: %s", it->waiting);
		flink_status_set(&s->message, m);
		free(m);
	} else if (it->error) {
		s->phase = FLINK_PHASE_FAILED;
		flink_status_set(&s->message, it->error);
	}
	/* The state kept is recorded as soon as it is fixed, deleted or not,
	 * and before the journal goes: the journal's savepointPath, which a
	 * delete sets to the state the next job would have started from (a
	 * final savepoint, or the newest checkpoint of a job that had ended). */
	const deploy_journal *j = &it->journal;
	if (j->savepoint_path && !it->journal_bad) {
		flink_status_set(&s->last_savepoint.path, j->savepoint_path);
		flink_status_set(&s->last_savepoint.time, j->savepoint_time);
		int reason = j->savepoint_reason ? flink_savepoint_reason_parse(j->savepoint_reason) : -1;
		s->last_savepoint.reason = reason < 0 ? FLINK_SAVEPOINT_DELETE : (enum flink_savepoint_reason)reason;
	}
}

void deploy_status_update(flink_status *s, const deploy_item *it, const char *blob, const char *commit, bool jobs,
			  const char *not_attempted_why)
{
	if (!it->fd) {
		deleted(s, it, commit);
		return;
	}
	const flink_deployment *fd = it->fd;
	const deploy_journal *j = &it->journal;
	/* The source commit moves only when the manifest does: the agent's own
	 * status commits (or unrelated ones) must not look like new specs, or
	 * every pass would write a status that the next pass sees as news. */
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
	/* the journal's retention lists, as counts */
	if (!it->journal_bad) {
		s->savepoints.retained = (int)j->ntaken;
		s->savepoints.disposing = (int)j->ndisposals;
	}
	bool has_job = jobs && fd->has_job;
	bool suspended = has_job && fd->job.state == FLINK_STATE_SUSPENDED;
	/* git's spec failed and this pass ran the older one it was rolled back to */
	bool rolled_back = has_job && fd->spec_commit && j->rollback_of_hash;
	if (it->outcome != DEPLOY_OUTCOME_NOT_ATTEMPTED)
		flink_status_set(&s->failed_commit, NULL);
	switch (it->outcome) {
	case DEPLOY_OUTCOME_NOT_ATTEMPTED: {
		/* nothing happened: the phase and observedCommit stand */
		char *m = fo_asprintf("not attempted in the last pass%s%s", not_attempted_why ? ": " : "",
				      not_attempted_why ? not_attempted_why : "");
		flink_status_set(&s->message, m);
		free(m);
		return;
	}
	case DEPLOY_OUTCOME_FAILED:
		s->phase = FLINK_PHASE_FAILED;
		flink_status_set(&s->message, it->error ? it->error : "failed");
		set_job(s, it);
		return;
	case DEPLOY_OUTCOME_WAITING: {
		char *m = fo_asprintf("waiting: %s%s", it->waiting ? it->waiting : "on Flink",
				      it->late ? " (past its timeout; still waited for)" : "");
		flink_status_set(&s->message, m);
		free(m);
		set_job(s, it);
		/* a savepoint asked of the running job: it runs on, with this spec */
		if (j->step == DEPLOY_STEP_IDLE && j->request_trigger_id && fo_streq(j->target_job_hash, it->job_hash) &&
		    !j->await_checkpoint_since && s->phase == FLINK_PHASE_RUNNING)
			return;
		/* Upgrading: something was rolled out before; a first job that
		 * runs but has not yet checkpointed is still Deploying */
		bool had_job = j->target_job_hash != NULL && s->observed_commit != NULL;
		s->phase = suspended || had_job ? FLINK_PHASE_UPGRADING : FLINK_PHASE_DEPLOYING;
		return;
	}
	case DEPLOY_OUTCOME_SETTLED:
		break;
	}
	if (!has_job) {
		/* only objects are managed: applied is all there is to see */
		s->phase = FLINK_PHASE_RUNNING;
		flink_status_set(&s->message, NULL);
		flink_status_set(&s->observed_commit, commit);
		return;
	}
	if (j->step == DEPLOY_STEP_FAILED) {
		s->phase = FLINK_PHASE_FAILED;
		flink_status_set(&s->message, j->last_error ? j->last_error : "failed");
		set_job(s, it);
		return;
	}
	if (suspended && !j->job_id) {
		s->phase = FLINK_PHASE_SUSPENDED;
		flink_status_set(&s->message, "suspended in git");
		flink_status_set(&s->observed_commit, commit);
		flink_status_set(&s->job.state, NULL);
		return;
	}
	if (it->job_running && fo_streq(j->target_job_hash, it->job_hash) && rolled_back) {
		/* observedCommit is the commit whose spec was seen running */
		s->phase = FLINK_PHASE_ROLLED_BACK;
		/* the commit that failed: the one that brought the file's spec */
		char *m = fo_asprintf("the spec of commit %.7s did not become healthy and was rolled back to commit %.7s, "
				      "which runs again from %s: %s",
				      commit ? commit : "?",
				      j->target_commit ? j->target_commit : "?",
				      j->started_from ? j->started_from : "empty state",
				      j->rollback_cause ? j->rollback_cause : "no cause recorded");
		flink_status_set(&s->message, m);
		free(m);
		flink_status_set(&s->observed_commit, j->target_commit);
		flink_status_set(&s->failed_commit, commit);
		set_running_job(s, it, j->job_id);
		return;
	}
	if (it->job_running && fo_streq(j->target_job_hash, it->job_hash)) {
		s->phase = FLINK_PHASE_RUNNING;
		/* restarts count since this version started: it may have been
		 * restarted in an earlier pass than the one that saw it healthy */
		if (j->savepoint_error) {
			flink_status_set(&s->message, j->savepoint_error);
		} else if (it->drift_job || j->target_restarts > 0) {
			/* how often this version was restarted, whatever the budget
			 * left (it is whole again once a restarted job is healthy) */
			char *m = fo_asprintf("the job had ended outside flinkops and was started again from its newest "
					      "state (%d restart%s of this version)",
					      j->target_restarts > 0 ? j->target_restarts : 1, j->target_restarts > 1 ? "s" : "");
			flink_status_set(&s->message, m);
			free(m);
		} else {
			flink_status_set(&s->message, NULL);
		}
		flink_status_set(&s->observed_commit, commit);
		set_running_job(s, it, j->job_id);
		return;
	}
	/* settled without the target's job seen running: say what was seen */
	s->phase = FLINK_PHASE_DEPLOYING;
	flink_status_set(&s->message, "the job is not observed running");
	set_job(s, it);
}

/* The newest entry that names a job, or NULL. */
static flink_status_history *newest_job_entry(flink_status *s)
{
	for (size_t i = 0; i < s->nhistory; i++)
		if (s->history[i].job_id)
			return &s->history[i];
	return NULL;
}

static bool history_names_job(const flink_status *s, const char *job_id)
{
	for (size_t i = 0; i < s->nhistory; i++)
		if (fo_streq(s->history[i].job_id, job_id))
			return true;
	return false;
}

/* The journal's word for a job's starting state as a status kind. */
static const char *state_kind(const char *journal_kind, const char *path)
{
	if (!path)
		return "empty";
	return flink_status_state_kind_valid(journal_kind) ? journal_kind : "savepoint";
}

void deploy_status_history(flink_status *s, int before, const char *before_savepoint, const deploy_item *it,
			   const char *now)
{
	const char *commit = s->source.commit;
	enum flink_savepoint_reason r = s->last_savepoint.reason;
	if (s->last_savepoint.path && !fo_streq(s->last_savepoint.path, before_savepoint) &&
	    (r == FLINK_SAVEPOINT_UPGRADE || r == FLINK_SAVEPOINT_SUSPEND || r == FLINK_SAVEPOINT_DELETE)) {
		/* the stopped job is the newest one recorded; an entry keeps its first stop */
		flink_status_history *h = newest_job_entry(s);
		if (h && !h->stopped_with.path) {
			flink_status_set(&h->stopped_with.path, s->last_savepoint.path);
			flink_status_set(&h->stopped_with.time, s->last_savepoint.time);
		}
	}
	if (s->last_savepoint.path && !fo_streq(s->last_savepoint.path, before_savepoint) &&
	    (r == FLINK_SAVEPOINT_MANUAL || r == FLINK_SAVEPOINT_PERIODIC) && s->phase == FLINK_PHASE_RUNNING &&
	    history_names_job(s, s->job.id)) {
		/* a savepoint the running job was asked for: an entry of its own */
		flink_status_add_history(s, commit, s->phase, now, s->last_savepoint.path);
		return;
	}
	const deploy_journal *j = it ? &it->journal : NULL;
	bool runs = s->phase == FLINK_PHASE_RUNNING || s->phase == FLINK_PHASE_ROLLED_BACK;
	if (runs && s->job.id && !history_names_job(s, s->job.id)) {
		/* a rollback's job runs the older commit's spec: that commit */
		flink_status_add_history(s, s->phase == FLINK_PHASE_ROLLED_BACK ? s->observed_commit : commit, s->phase,
					 now, s->last_savepoint.path);
		flink_status_history *h = &s->history[0];
		flink_status_set(&h->job_id, s->job.id);
		/* the journal's lineage belongs to this job only when it names it */
		if (j && fo_streq(j->job_id, s->job.id) && j->started_from_kind) {
			flink_status_set(&h->started_from.kind, state_kind(j->started_from_kind, j->started_from));
			flink_status_set(&h->started_from.path, j->started_from);
			flink_status_set(&h->started_from.time, j->started_from_time);
		}
		return;
	}
	if (s->nhistory == 0 || before != (int)s->phase)
		flink_status_add_history(s, commit, s->phase, now, s->last_savepoint.path);
}
