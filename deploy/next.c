/*
 * The rollout's next step, as a pure function of (desired, journal,
 * observed). See rollout.h for the rules it keeps; the executor in
 * rollout.c does what it returns. Each branch names the journal state it
 * handles, and the table test walks every one of them.
 */
#include "deploy/rollout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/util.h"

/* by the enum's names, so that an op added anywhere in it cannot shift the others' */
static const char *const op_names[] = {
	[DEPLOY_OP_NONE] = "none",
	[DEPLOY_OP_WAIT] = "wait",
	[DEPLOY_OP_STOP] = "stop",
	[DEPLOY_OP_RESTOP] = "restop",
	[DEPLOY_OP_CANCEL] = "cancel",
	[DEPLOY_OP_KEEP] = "keep",
	[DEPLOY_OP_ABORT_STOP] = "abort-stop",
	[DEPLOY_OP_APPLY] = "apply",
	[DEPLOY_OP_APPLY_ONLY] = "apply-only",
	[DEPLOY_OP_SUSPEND] = "suspend",
	[DEPLOY_OP_UPLOAD] = "upload",
	[DEPLOY_OP_RUN] = "run",
	[DEPLOY_OP_RECORD] = "record",
	[DEPLOY_OP_CONFIRM] = "confirm",
	[DEPLOY_OP_SAVEPOINT] = "savepoint",
	[DEPLOY_OP_SAVEPOINT_DONE] = "savepoint-done",
	[DEPLOY_OP_CHECKPOINT] = "checkpoint",
	[DEPLOY_OP_CHECKPOINT_DONE] = "checkpoint-done",
	[DEPLOY_OP_RESTART] = "restart",
	[DEPLOY_OP_FAIL] = "fail",
	[DEPLOY_OP_ROLLBACK] = "rollback",
	[DEPLOY_OP_ADOPT] = "adopt",
	[DEPLOY_OP_FORGET_ROLLBACK] = "forget-rollback",
};

const char *deploy_op_name(enum deploy_op op)
{
	return (unsigned)op < FO_ARRAY_LEN(op_names) && op_names[op] ? op_names[op] : "unknown";
}

static const char *const failure_names[DEPLOY_NFAILURES] = {
	[DEPLOY_FAILURE_NONE] = "none",
	[DEPLOY_FAILURE_SAVEPOINT] = "savepoint_failed",
	[DEPLOY_FAILURE_STATE_UNKNOWN] = "state_unknown",
	[DEPLOY_FAILURE_NO_CHECKPOINT] = "no_checkpoint",
	[DEPLOY_FAILURE_RESTART_BUDGET] = "restart_budget",
	[DEPLOY_FAILURE_STOP] = "stop_failed",
	[DEPLOY_FAILURE_APPLY] = "apply_failed",
	[DEPLOY_FAILURE_JAR] = "jar_failed",
	[DEPLOY_FAILURE_RUN] = "run_failed",
	[DEPLOY_FAILURE_JOURNAL] = "journal_failed",
	[DEPLOY_FAILURE_FIRST_CHECKPOINT] = "first_checkpoint",
	[DEPLOY_FAILURE_OTHER] = "other",
};

const char *deploy_failure_name(enum deploy_failure f)
{
	return (unsigned)f < FO_ARRAY_LEN(failure_names) ? failure_names[f] : "other";
}

bool deploy_op_acts_on_spec(enum deploy_op op)
{
	switch (op) {
	case DEPLOY_OP_APPLY:
	case DEPLOY_OP_APPLY_ONLY:
	case DEPLOY_OP_SUSPEND:
	case DEPLOY_OP_UPLOAD:
	case DEPLOY_OP_RUN:
	case DEPLOY_OP_RECORD:
	case DEPLOY_OP_CONFIRM:
	case DEPLOY_OP_SAVEPOINT:
	case DEPLOY_OP_CHECKPOINT:
	case DEPLOY_OP_RESTART:
	case DEPLOY_OP_ROLLBACK:
		return true;
	default:
		return false;
	}
}

bool deploy_session_job_holds(const deploy_journal *j, bool bad)
{
	if (bad || !j)
		return true;
	switch (j->step) {
	case DEPLOY_STEP_IDLE:
	case DEPLOY_STEP_FAILED:
		return j->job_id != NULL;
	case DEPLOY_STEP_STOPPING:
	case DEPLOY_STEP_CANCELLING:
	case DEPLOY_STEP_UPLOADED:
	case DEPLOY_STEP_SUBMITTED:
		return true;
	case DEPLOY_STEP_SAVEPOINT_TAKEN:
	case DEPLOY_STEP_APPLIED:
		return false;
	}
	return true;
}

bool deploy_reads_checkpoints(const deploy_desired *d, const deploy_journal *j, const deploy_observed *o)
{
	bool terminal = o->job_known && flink_job_status_is_terminal(o->job);
	return o->job_known && (terminal || j->step != DEPLOY_STEP_IDLE || d->mode == FLINK_UPGRADE_LAST_STATE ||
				o->checkpointing == 1 || (j->await_checkpoint_since && o->checkpointing != 0) ||
				d->suspended || d->deleting);
}

bool deploy_stats_final(const flink_job_info *info, int64_t settle_ms)
{
	return flink_job_status_is_terminal(info->state) && info->end_time > 0 && info->now > 0 &&
	       info->now - info->end_time >= settle_ms;
}

char *deploy_journal_keep(deploy_journal *j, const deploy_keep *k)
{
	j->step = DEPLOY_STEP_SAVEPOINT_TAKEN;
	deploy_journal_set(&j->restore_path, k->restore);
	deploy_journal_set(&j->restore_kind, k->restore ? k->restore_kind : "none");
	deploy_journal_set(&j->restore_time, k->restore ? k->restore_time : NULL);
	const char *taken = k->stopped                                          ? k->stopped
			    : k->deleting && k->restore                            ? k->restore
			    : k->restore && fo_streq(k->restore_kind, "savepoint") ? k->restore
										    : NULL;
	if (taken && !fo_streq(taken, j->savepoint_path)) {
		deploy_journal_set(&j->savepoint_path, taken);
		/* a checkpoint's own time when Flink gave it, else now */
		deploy_journal_set(&j->savepoint_time,
				   !k->stopped && fo_streq(taken, k->restore) && k->restore_time ? k->restore_time : k->now);
		deploy_journal_set(&j->savepoint_reason, k->stopped || k->deleting ? k->reason : "upgrade");
	}
	/* the next job starts from the savepoint just recorded: its age is the
	 * savepoint's (Flink's statistics may not list a stop's savepoint yet) */
	if (k->restore && !j->restore_time && fo_streq(k->restore, j->savepoint_path))
		deploy_journal_set(&j->restore_time, j->savepoint_time);
	char *dropped = NULL;
	if (k->stopped)
		deploy_journal_add_taken(j, k->stopped, k->now_ms, k->reason, &dropped);
	deploy_journal_set(&j->trigger_id, NULL);
	deploy_journal_set(&j->trigger_time, NULL);
	deploy_journal_count(&j->attempt);
	j->state_unknown = false;
	if (k->deleting || k->suspended)
		deploy_journal_set(&j->job_id, NULL); /* nothing runs any more */
	return dropped;
}

void deploy_journal_applied(deploy_journal *j, const char *target)
{
	/* the same target: a start of it in flight (startHash), or the one
	 * that ran (targetHash; a restart after it ended) */
	bool same = j->start_hash ? fo_streq(j->start_hash, target) : fo_streq(j->target_hash, target);
	if (!same) {
		j->restarts = 0;
		j->target_restarts = 0;
	}
	j->step = DEPLOY_STEP_APPLIED;
	deploy_journal_set(&j->start_hash, target);
}

void deploy_journal_confirm(deploy_journal *j)
{
	deploy_journal_set(&j->await_checkpoint_since, NULL);
	deploy_journal_set(&j->previous_commit, NULL);
	deploy_journal_set(&j->previous_job_hash, NULL);
	deploy_journal_set(&j->previous_target, NULL);
	j->restarts = 0;
}

void deploy_next_clear(deploy_next *n)
{
	free(n->why);
	memset(n, 0, sizeof(*n));
}

static void set(deploy_next *n, enum deploy_op op, const char *fmt, ...) FO_PRINTF(3, 4);

static void set(deploy_next *n, enum deploy_op op, const char *fmt, ...)
{
	n->op = op;
	free(n->why);
	n->why = NULL;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		n->why = fo_vasprintf(fmt, ap);
		va_end(ap);
	}
}

static void restore(deploy_next *n, enum deploy_op op, const char *path, const char *kind)
{
	set(n, op, NULL);
	n->restore = path;
	n->restore_kind = path ? kind : "none";
}

static bool alive(const deploy_observed *o)
{
	return o->job_known && !flink_job_status_is_terminal(o->job);
}

static const char *str(const char *s)
{
	return s ? s : "";
}

/*
 * The newest state of the old job that exists: what Flink reports as its
 * newest completed checkpoint or savepoint, else what the job started from
 * (it completed nothing since). True with *path NULL when the job never had
 * state to keep; false (with *why) when it cannot be established.
 */
static bool newest_state(const deploy_journal *j, const deploy_observed *o, const char **path, const char **kind,
			 char **why)
{
	*path = NULL;
	*kind = "none";
	if (!o->job_known) {
		*why = fo_asprintf("Flink no longer knows job %s (or not its checkpoints), so the newest state it "
				   "left cannot be established; the newest recorded savepoint is %s. Find the newest "
				   "savepoint or retained checkpoint of the job, set job.initialSavepointPath to it and "
				   "push: flinkops then starts from exactly that",
				   str(j->job_id), j->savepoint_path ? j->savepoint_path : "none");
		return false;
	}
	if (o->newest_path) {
		*path = o->newest_path;
		*kind = o->newest_is_savepoint ? "savepoint" : "checkpoint";
		return true;
	}
	if (o->restored_path) {
		*path = o->restored_path;
		*kind = fo_streq(o->restored_path, j->savepoint_path) ? "savepoint" : "checkpoint";
		return true;
	}
	if (j->savepoint_path || j->restore_path) {
		*why = fo_asprintf("job %s started from empty state and completed no checkpoint, but state was "
				   "recorded before it (%s); flinkops does not start from empty state on its own. Set "
				   "job.initialSavepointPath to the state to use and push",
				   str(j->job_id), j->savepoint_path ? j->savepoint_path : j->restore_path);
		return false;
	}
	return true; /* it never had state: empty is the newest there is */
}

static bool nonce_is(const char *journaled, int64_t nonce);

/* Whether a target the journal names is the one git asks for now: the
 * whole rendered target when the journal recorded one, else (a journal of
 * an older flinkops) the job hash it kept. */
static bool is_target(const char *target, const char *job_hash, const deploy_desired *d)
{
	if (target)
		return fo_streq(target, d->target);
	return job_hash && fo_streq(job_hash, d->job_hash);
}

/* The journal names a rollback (of the target that failed). */
static bool has_rollback(const deploy_journal *j)
{
	return j->rollback_of_target || j->rollback_of_hash;
}

/* The job the journal names is the one whose failure was rolled back. */
static bool failed_is_rolled_back(const deploy_journal *j)
{
	if (j->rollback_of_target)
		return fo_streq(j->failed_hash, j->rollback_of_target);
	return j->rollback_of_hash && fo_streq(j->failed_job_hash, j->rollback_of_hash);
}

/*
 * A start in flight (APPLIED, UPLOADED, SUBMITTED) belongs to the target
 * whose objects were applied for it: when git asks for another target (a
 * fix commit), for none (deleted) or for a suspend, it is not completed —
 * nothing of it is run, and nothing of it is charged to the new target.
 * A journal of an older flinkops has no startHash: only a delete or a
 * suspend tells there.
 */
static bool start_moved(const deploy_desired *d, const deploy_journal *j)
{
	return d->deleting || d->suspended || (j->start_hash && !fo_streq(j->start_hash, d->target));
}

/*
 * Deleting: the state kept is recorded in the status file, which shows the
 * journal's savepointPath, before the journal goes. When the state the next
 * job was to start from (restorePath) is another one — a checkpoint chosen
 * for a job that had ended, or a start in flight — it is recorded there
 * first (KEEP, reason delete); true when that is done.
 */
static bool final_state_recorded(const deploy_journal *j)
{
	return !j->restore_path || fo_streq(j->restore_path, j->savepoint_path);
}

/* A new job.savepointRedeployNonce: the next job starts from
 * job.initialSavepointPath, the savepoint a human chose (upstream's
 * semantics), whatever newer state exists; the old job's state is still
 * saved by its stop. */
static bool redeploying(const deploy_desired *d, const deploy_journal *j)
{
	return d->redeploy_nonce != 0 && d->initial_savepoint && !d->deleting && !d->suspended &&
	       !nonce_is(j->handled_redeploy_nonce, d->redeploy_nonce);
}

/* The old job is no more (ended, or stopped by us): fix what to start from. */
static void keep_newest(const deploy_desired *d, const deploy_journal *j, const deploy_observed *o, deploy_next *n)
{
	if (redeploying(d, j)) {
		restore(n, DEPLOY_OP_KEEP, d->initial_savepoint, "initial");
		return;
	}
	if (d->mode == FLINK_UPGRADE_STATELESS && !d->deleting && !d->suspended) {
		restore(n, DEPLOY_OP_KEEP, NULL, NULL);
		return;
	}
	if (o->job_known && !o->checkpoints_ok) {
		set(n, DEPLOY_OP_WAIT, "the final checkpoint statistics of job %s are not available yet", str(j->job_id));
		return;
	}
	const char *path, *kind;
	char *why = NULL;
	if (newest_state(j, o, &path, &kind, &why)) {
		restore(n, DEPLOY_OP_KEEP, path, kind);
		return;
	}
	set(n, DEPLOY_OP_FAIL, "%s", why);
	n->state_unknown = true;
	n->failure = DEPLOY_FAILURE_STATE_UNKNOWN;
	free(why);
}

/*
 * A new job did not become healthy (n is its FAIL, `why` its cause): it is
 * rolled back instead when the deployment allows it and the journal names
 * a healthy previous spec to return to, starting from `path` — the state
 * the failed job started from, or anything newer it completed, never
 * older. A rollback's own job that fails is left failed: no rollback of a
 * rollback. `advice` (or NULL) is for a job left as it is, and is added to
 * the cause only then.
 */
static void unhealthy(const deploy_desired *d, const deploy_journal *j, const char *path, const char *kind,
		      enum deploy_failure f, const char *advice, deploy_next *n)
{
	n->failure = f;
	if (!d->rollback || d->rolling_back || !j->previous_commit || !(j->previous_target || j->previous_job_hash) ||
	    is_target(j->previous_target, j->previous_job_hash, d)) {
		if (advice) {
			char *why = fo_asprintf("%s%s", n->why ? n->why : "", advice);
			free(n->why);
			n->why = why;
		}
		return;
	}
	n->op = DEPLOY_OP_ROLLBACK;
	n->restore = path;
	n->restore_kind = path ? kind : "none";
}

/* The newest state of a new job that runs (or ran) under judgment, for
 * its rollback: what it completed, else what it started from. */
static void judged_state(const deploy_journal *j, const deploy_observed *o, const char **path, const char **kind)
{
	if (o->newest_path) {
		*path = o->newest_path;
		*kind = o->newest_is_savepoint ? "savepoint" : "checkpoint";
	} else if (o->restored_path) {
		*path = o->restored_path;
		*kind = fo_streq(o->restored_path, j->savepoint_path) ? "savepoint" : "checkpoint";
	} else {
		*path = j->started_from ? j->started_from : j->restore_path;
		*kind = j->started_from ? str(j->started_from_kind) : str(j->restore_kind);
	}
}

/* The job the journal names must stop (upgrade, suspend or delete). */
static void stop_old(const deploy_desired *d, const deploy_journal *j, const deploy_observed *o, deploy_next *n)
{
	if (!o->flink_ok) {
		set(n, DEPLOY_OP_WAIT, "the Flink REST API does not answer, so job %s cannot be stopped yet", str(j->job_id));
		return;
	}
	if (!alive(o)) {
		keep_newest(d, j, o, n);
		return;
	}
	if (failed_is_rolled_back(j) && (j->step == DEPLOY_STEP_FAILED || j->step == DEPLOY_STEP_CANCELLING)) {
		/* the job that failed its judgment (a rollback, or a new commit
		 * after it): no savepoint of a failing job; it is cancelled, and
		 * what it started from, or anything newer it completed, kept */
		if (!o->checkpoints_ok) {
			set(n, DEPLOY_OP_WAIT, "the checkpoints of job %s could not be read", str(j->job_id));
			return;
		}
		const char *path, *kind;
		judged_state(j, o, &path, &kind);
		restore(n, DEPLOY_OP_CANCEL, path, kind);
		return;
	}
	/* a suspend and a delete keep the state whatever the mode, but for a
	 * stateless job that names no savepoint directory: it has nowhere to
	 * put one (Flink refuses the stop) and keeps no state by its mode, so
	 * it is cancelled, as upstream does; otherwise the delete would never
	 * end. The newest state it left is still recorded when there is one. */
	if ((d->suspended || d->deleting) && d->mode == FLINK_UPGRADE_STATELESS && !d->savepoint_dir) {
		if (!o->checkpoints_ok) {
			set(n, DEPLOY_OP_WAIT, "the checkpoints of job %s could not be read", str(j->job_id));
			return;
		}
		const char *path, *kind;
		char *why = NULL;
		if (!newest_state(j, o, &path, &kind, &why))
			path = NULL, kind = NULL; /* it ran from empty state: its mode's own */
		free(why);
		restore(n, DEPLOY_OP_CANCEL, path, kind);
		return;
	}
	if (d->suspended || d->deleting || d->mode == FLINK_UPGRADE_SAVEPOINT) {
		set(n, DEPLOY_OP_STOP, NULL);
		return;
	}
	if (redeploying(d, j)) {
		/* the chosen savepoint is used; a job that keeps no savepoint
		 * (stateless, last-state) is cancelled, its checkpoints stay */
		restore(n, DEPLOY_OP_CANCEL, d->initial_savepoint, "initial");
		return;
	}
	if (d->mode == FLINK_UPGRADE_STATELESS) {
		restore(n, DEPLOY_OP_CANCEL, NULL, NULL);
		return;
	}
	/* last-state: the newest retained checkpoint, fixed before the cancel */
	if (!o->checkpoints_ok) {
		set(n, DEPLOY_OP_WAIT, "the checkpoints of job %s could not be read", str(j->job_id));
		return;
	}
	const char *path, *kind;
	char *why = NULL;
	if (!newest_state(j, o, &path, &kind, &why) || !path) {
		set(n, DEPLOY_OP_FAIL,
		    "a last-state upgrade needs a completed checkpoint, and job %s has none%s%s; the job keeps "
		    "running. Wait for a checkpoint, or use upgradeMode: savepoint",
		    str(j->job_id), why ? ": " : "", why ? why : "");
		n->failure = DEPLOY_FAILURE_NO_CHECKPOINT;
		free(why);
		return;
	}
	restore(n, DEPLOY_OP_CANCEL, path, kind);
}

/* A new job runs: it is done only once it completed a checkpoint (when it
 * checkpoints at all); RUNNING alone says little about a job that fails at
 * its first checkpoint. Past flink.readyTimeout without one, the rollout
 * fails and says why; the job is left running. */
static void first_checkpoint(const deploy_desired *d, const deploy_journal *j, const deploy_observed *o,
			     deploy_next *n)
{
	if (o->checkpointing == 0 || (o->checkpointing == 1 && o->checkpoints_completed > 0)) {
		set(n, DEPLOY_OP_CONFIRM, NULL);
		return;
	}
	n->wait_ms = o->await_age_ms;
	if (o->checkpointing < 0 || o->checkpoints_completed < 0)
		set(n, DEPLOY_OP_WAIT, "job %s is RUNNING; its checkpoints could not be read", str(j->job_id));
	else if (o->await_age_ms >= 0 && o->await_age_ms > d->ready_timeout_ms) {
		set(n, DEPLOY_OP_FAIL, "job %s is RUNNING but completed no checkpoint within flink.readyTimeout (%lds)%s%s",
		    str(j->job_id), d->ready_timeout_ms / 1000, o->checkpoint_failure ? "; the newest failed: " : "",
		    o->checkpoint_failure ? o->checkpoint_failure : "");
		const char *path, *kind;
		judged_state(j, o, &path, &kind);
		unhealthy(d, j, path, kind, DEPLOY_FAILURE_FIRST_CHECKPOINT,
			  "; it keeps running. Check the job's checkpoints in the Flink UI, fix and push again", n);
	} else
		set(n, DEPLOY_OP_WAIT, "the first checkpoint of job %s (RUNNING)%s%s", str(j->job_id),
		    o->checkpoint_failure ? "; the newest failed: " : "", o->checkpoint_failure ? o->checkpoint_failure : "");
}

/* Whether the journal's decimal nonce (NULL: none, as 0) is `nonce`. */
static bool nonce_is(const char *journaled, int64_t nonce)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%lld", (long long)nonce);
	return fo_streq(journaled ? journaled : "0", buf);
}

/* Whether a periodic snapshot is due: `age_ms` since the newest (-1
 * unknown) has reached `every_ms`, or the cron schedule fired since. */
static bool periodic_due(int64_t every_ms, const flink_cron *cron, long age_ms, int64_t now_s)
{
	if (age_ms < 0)
		return false;
	if (every_ms > 0 && age_ms >= every_ms)
		return true;
	if (cron && now_s > 0) {
		int64_t due = flink_cron_next(cron, now_s - age_ms / 1000);
		return due >= 0 && due <= now_s;
	}
	return false;
}

/*
 * A savepoint of the healthy running job, asked for in git (a new
 * job.savepointTriggerNonce) or due (the periodic interval), which keeps
 * running. Like a stop's, the trigger is journaled before the request, so
 * a lost reply or a restart asks Flink for that trigger rather than taking
 * a second savepoint. True when it decided a step.
 */
static bool requested_savepoint(const deploy_desired *d, const deploy_journal *j, const deploy_observed *o,
				deploy_next *n)
{
	if (j->request_trigger_id) {
		switch (o->request) {
		case DEPLOY_TRIGGER_COMPLETED:
			restore(n, DEPLOY_OP_SAVEPOINT_DONE, o->request_location, "savepoint");
			break;
		case DEPLOY_TRIGGER_FAILED:
			set(n, DEPLOY_OP_SAVEPOINT_DONE, "the %s savepoint of job %s failed: %s; the job keeps running",
			    str(j->request_reason), str(j->job_id), o->request_failure ? o->request_failure : "no cause reported");
			n->restore_kind = "none";
			break;
		case DEPLOY_TRIGGER_IN_PROGRESS:
			n->wait_ms = o->step_age_ms;
			n->late = o->step_age_ms >= 0 && o->step_age_ms > d->savepoint_timeout_ms;
			set(n, DEPLOY_OP_WAIT, "the %s savepoint of job %s is in progress%s", str(j->request_reason),
			    str(j->job_id), n->late ? ", past flink.savepointTimeout" : "");
			break;
		case DEPLOY_TRIGGER_NONE:
		case DEPLOY_TRIGGER_UNKNOWN:
			/* the request never arrived (or Flink forgot it): again, under the same id */
			set(n, DEPLOY_OP_SAVEPOINT, "%s", str(j->request_reason));
			break;
		}
		return true;
	}
	if (d->savepoint_nonce != 0 && !nonce_is(j->handled_nonce, d->savepoint_nonce)) {
		set(n, DEPLOY_OP_SAVEPOINT, "manual");
		return true;
	}
	/* the interval, or a cron schedule that fired since the newest
	 * savepoint (as upstream: the next time after the last trigger has
	 * passed) */
	if (periodic_due(d->periodic_savepoint_ms, d->periodic_cron, o->savepoint_age_ms, o->now_s)) {
		set(n, DEPLOY_OP_SAVEPOINT, "periodic");
		return true;
	}
	return false;
}

/*
 * A checkpoint of the healthy running job, asked for in git (a new
 * job.checkpointTriggerNonce) or due (the periodic checkpoint interval),
 * exactly as requested_savepoint: journaled first, found again under its
 * trigger id. A savepoint request goes first; a checkpoint never changes
 * what a job starts from (Flink's own newest checkpoint does that). True
 * when it decided a step.
 */
static bool requested_checkpoint(const deploy_desired *d, const deploy_journal *j, const deploy_observed *o,
				 deploy_next *n)
{
	if (j->checkpoint_trigger_id) {
		switch (o->ck_request) {
		case DEPLOY_TRIGGER_COMPLETED:
			if (!o->ck_request_path_known && o->ck_request_age_ms >= 0 &&
			    o->ck_request_age_ms < DEPLOY_CHECKPOINT_PATH_WAIT_MS) {
				/* the job's checkpoint history lags behind the trigger's
				 * status: its path comes with a later look */
				n->wait_ms = o->ck_request_age_ms;
				set(n, DEPLOY_OP_WAIT, "%s of job %s completed; Flink does not list its path yet",
				    str(o->ck_request_location), str(j->job_id));
				break;
			}
			set(n, DEPLOY_OP_CHECKPOINT_DONE, NULL);
			n->restore = o->ck_request_location;
			n->restore_kind = "checkpoint";
			break;
		case DEPLOY_TRIGGER_FAILED:
			set(n, DEPLOY_OP_CHECKPOINT_DONE, "the %s checkpoint of job %s failed: %s; the job keeps running",
			    str(j->checkpoint_reason), str(j->job_id),
			    o->ck_request_failure ? o->ck_request_failure : "no cause reported");
			n->restore_kind = "none";
			break;
		case DEPLOY_TRIGGER_IN_PROGRESS:
			n->wait_ms = o->ck_request_age_ms;
			n->late = o->ck_request_age_ms >= 0 && o->ck_request_age_ms > d->savepoint_timeout_ms;
			set(n, DEPLOY_OP_WAIT, "the %s checkpoint of job %s is in progress%s", str(j->checkpoint_reason),
			    str(j->job_id), n->late ? ", past flink.savepointTimeout" : "");
			break;
		case DEPLOY_TRIGGER_NONE:
		case DEPLOY_TRIGGER_UNKNOWN:
			set(n, DEPLOY_OP_CHECKPOINT, "%s", str(j->checkpoint_reason));
			break;
		}
		return true;
	}
	if (d->checkpoint_nonce != 0 && !nonce_is(j->handled_checkpoint_nonce, d->checkpoint_nonce)) {
		set(n, DEPLOY_OP_CHECKPOINT, "manual");
		return true;
	}
	if (periodic_due(d->periodic_checkpoint_ms, d->periodic_checkpoint_cron, o->checkpoint_age_ms, o->now_s)) {
		set(n, DEPLOY_OP_CHECKPOINT, "periodic");
		return true;
	}
	return false;
}

/* A cancel that never arrived, sent again: the state chosen before it, or
 * anything newer the job completed (never in place of a human's choice). */
static void cancel_again(const deploy_journal *j, const deploy_observed *o, deploy_next *n)
{
	if (!o->checkpoints_ok) {
		set(n, DEPLOY_OP_WAIT, "the checkpoints of job %s could not be read", str(j->job_id));
		return;
	}
	if (!fo_streq(j->restore_kind, "initial") && o->newest_path && !fo_streq(o->newest_path, j->restore_path))
		restore(n, DEPLOY_OP_CANCEL, o->newest_path, o->newest_is_savepoint ? "savepoint" : "checkpoint");
	else
		restore(n, DEPLOY_OP_CANCEL, j->restore_path, str(j->restore_kind));
}

/* An application cluster's start that has not shown its job within
 * flink.runningTimeout of being recorded SUBMITTED. */
static bool app_start_late(const deploy_desired *d, const deploy_observed *o)
{
	return o->step_age_ms >= 0 && o->step_age_ms > d->running_timeout_ms;
}

/* APPLIED or UPLOADED (or SUBMITTED with no job) when the start in flight
 * is not to be completed: nothing of it runs, and the state it was to start
 * from stays the state to start from. */
static void not_started(const deploy_desired *d, const deploy_journal *j, deploy_next *n)
{
	if (d->deleting) {
		if (!final_state_recorded(j))
			restore(n, DEPLOY_OP_KEEP, j->restore_path, str(j->restore_kind));
		else
			set(n, DEPLOY_OP_NONE, "no job runs: the objects can go");
	} else if (d->suspended) {
		set(n, DEPLOY_OP_SUSPEND, NULL);
	} else {
		set(n, DEPLOY_OP_APPLY, NULL);
	}
}

/*
 * SUBMITTED, and git no longer asks for the submission's target (a new
 * commit, a suspend, a delete). The submission is never recorded as git's
 * job, and nothing it did is charged to the new target:
 *   - unknown to Flink (never ran, e.g. its main() threw): not started;
 *   - RUNNING: adopted as the job, then stopped as any job is (a savepoint
 *     in savepoint mode, and always for a suspend or a delete);
 *   - alive but not running (restarting, starting): a savepoint needs a
 *     running job, so it is cancelled, keeping its newest checkpoint or
 *     what it started from;
 *   - ended: its newest state, else what it started from, is kept.
 */
static void superseded_submission(const deploy_desired *d, const deploy_journal *j, const deploy_observed *o,
				  deploy_next *n)
{
	if (!o->job_known && d->application && o->flink_ok && !app_start_late(d, o)) {
		/* an application JobManager that answers runs its main() before
		 * the job shows (a main() that throws shows as FAILED, with HA):
		 * the job may still appear, so its pods are not replaced under it */
		n->wait_ms = o->step_age_ms;
		set(n, DEPLOY_OP_WAIT,
		    "the JobManager has not started job %s yet; the new target follows once it has (or after "
		    "flink.runningTimeout)",
		    str(j->submit_job_id));
		return;
	}
	if (!o->job_known) {
		not_started(d, j, n);
		return;
	}
	if (o->job == FLINK_JOB_RUNNING) {
		set(n, DEPLOY_OP_ADOPT, NULL);
		return;
	}
	if (alive(o) && o->job == FLINK_JOB_CANCELLING) {
		set(n, DEPLOY_OP_WAIT, "job %s is cancelling", str(j->submit_job_id));
		return;
	}
	if (!o->checkpoints_ok) {
		set(n, DEPLOY_OP_WAIT, "job %s is %s; its checkpoint statistics are not available yet",
		    str(j->submit_job_id), flink_job_status_name(o->job));
		return;
	}
	const char *path = j->restore_path, *kind = str(j->restore_kind);
	if (d->mode == FLINK_UPGRADE_STATELESS && !d->deleting && !d->suspended) {
		path = NULL; /* the new target starts fresh */
		kind = "none";
	} else if (o->newest_path) {
		path = o->newest_path;
		kind = o->newest_is_savepoint ? "savepoint" : "checkpoint";
	}
	restore(n, alive(o) ? DEPLOY_OP_CANCEL : DEPLOY_OP_KEEP, path, kind);
}

/* IDLE (or FAILED at an older target): the job runs, or must change. */
static void idle(const deploy_desired *d, const deploy_journal *j, const deploy_observed *o, deploy_next *n)
{
	if (d->deleting) {
		if (!j->job_id) {
			if (!final_state_recorded(j))
				restore(n, DEPLOY_OP_KEEP, j->restore_path, str(j->restore_kind));
			else
				set(n, DEPLOY_OP_NONE, "no job runs: the objects can go");
			return;
		}
		stop_old(d, j, o, n);
		return;
	}
	if (d->suspended) {
		if (j->job_id) {
			stop_old(d, j, o, n);
			return;
		}
		if (!o->objects_current) {
			set(n, DEPLOY_OP_APPLY_ONLY, NULL);
			return;
		}
		set(n, DEPLOY_OP_NONE, "suspended");
		return;
	}
	if (!j->job_id) {
		/* never ran, or resumed after a suspend: from the state the suspend
		 * kept (its savepoint, or the newest checkpoint of a job that had
		 * ended), else the newest savepoint flinkops took, else the initial
		 * one; a stateless job starts fresh */
		if (j->restore_path && d->mode != FLINK_UPGRADE_STATELESS)
			restore(n, DEPLOY_OP_KEEP, j->restore_path, str(j->restore_kind));
		else if (j->savepoint_path && d->mode != FLINK_UPGRADE_STATELESS)
			restore(n, DEPLOY_OP_KEEP, j->savepoint_path, "savepoint");
		else
			restore(n, DEPLOY_OP_KEEP, d->initial_savepoint, "initial");
		return;
	}
	bool upgrade = !is_target(j->target_hash, j->target_job_hash, d) || d->restart_pods;
	if (upgrade) {
		stop_old(d, j, o, n);
		return;
	}
	if (has_rollback(j) && !d->rolling_back) {
		/* git asks for the spec that runs (the failed commit was
		 * reverted): the rollback is history, and the failed spec, pushed
		 * again later, gets a new attempt */
		set(n, DEPLOY_OP_FORGET_ROLLBACK, NULL);
		return;
	}
	if (!o->objects_current) {
		set(n, DEPLOY_OP_APPLY_ONLY, NULL); /* in place: the job is not touched */
		return;
	}
	if (!o->flink_ok) {
		set(n, DEPLOY_OP_WAIT, "the Flink REST API does not answer; job %s is not observed", str(j->job_id));
		return;
	}
	if (o->job_known && o->job == FLINK_JOB_RUNNING) {
		if (j->await_checkpoint_since)
			first_checkpoint(d, j, o, n);
		else if (!requested_savepoint(d, j, o, n) && !requested_checkpoint(d, j, o, n))
			set(n, DEPLOY_OP_NONE, "running");
		return;
	}
	if (alive(o)) {
		if (j->await_checkpoint_since && o->await_age_ms >= 0 && o->await_age_ms > d->ready_timeout_ms) {
			/* a new job that keeps restarting never becomes healthy */
			set(n, DEPLOY_OP_FAIL,
			    "job %s is %s and completed no checkpoint within flink.readyTimeout (%lds) of its start%s%s",
			    str(j->job_id), flink_job_status_name(o->job), d->ready_timeout_ms / 1000,
			    o->job_cause ? ": " : "", o->job_cause ? o->job_cause : "");
			const char *path, *kind;
			judged_state(j, o, &path, &kind);
			unhealthy(d, j, path, kind, DEPLOY_FAILURE_FIRST_CHECKPOINT,
				  "; it is left to Flink. Check its exceptions in the Flink UI, fix and push again", n);
			return;
		}
		set(n, DEPLOY_OP_WAIT, "job %s is %s", str(j->job_id), flink_job_status_name(o->job));
		return;
	}
	/* ended outside flinkops (failed, cancelled or finished by hand, or
	 * forgotten by its JobManager): bring it back within the budget */
	const char *state = o->job_known ? flink_job_status_name(o->job) : "unknown to Flink";
	if (o->job_known && !o->checkpoints_ok) {
		/* Flink's statistics and exceptions of a job that just ended can
		 * lag behind its state: the cause and the newest state first */
		set(n, DEPLOY_OP_WAIT, "job %s is %s; its final checkpoint statistics are not available yet",
		    str(j->job_id), state);
		return;
	}
	if (j->restarts >= d->restart_budget) {
		set(n, DEPLOY_OP_FAIL, "job %s is %s after %d restart%s: %s", str(j->job_id), state, j->restarts,
		    j->restarts == 1 ? "" : "s", o->job_cause ? o->job_cause : "no cause reported");
		n->failure = DEPLOY_FAILURE_RESTART_BUDGET;
		if (j->await_checkpoint_since) {
			/* a new job that never completed a checkpoint */
			const char *path, *kind;
			judged_state(j, o, &path, &kind);
			unhealthy(d, j, path, kind, DEPLOY_FAILURE_RESTART_BUDGET, NULL, n);
		}
		return;
	}
	const char *path, *kind;
	char *why = NULL;
	if (!newest_state(j, o, &path, &kind, &why)) {
		set(n, DEPLOY_OP_FAIL, "job %s is %s: %s", str(j->job_id), state, why);
		n->state_unknown = true;
		n->failure = DEPLOY_FAILURE_STATE_UNKNOWN;
		free(why);
		return;
	}
	restore(n, DEPLOY_OP_RESTART, path, kind);
}

void deploy_next_step(const deploy_desired *d, const deploy_journal *j, const deploy_observed *o, deploy_next *n)
{
	memset(n, 0, sizeof(*n));
	n->wait_ms = -1;
	if (has_rollback(j) && is_target(j->rollback_of_target, j->rollback_of_hash, d) && !d->rolling_back &&
	    !d->deleting && !(j->step == DEPLOY_STEP_CANCELLING && alive(o))) {
		/* git still asks for the spec that failed and was rolled back, and
		 * this pass could not read the spec the rollback runs: nothing is
		 * done with the failed one */
		set(n, DEPLOY_OP_WAIT,
		    "the spec of commit %.7s failed and is rolled back to commit %.7s, whose spec this pass could not "
		    "read; nothing changes until it can, or until a new commit",
		    str(j->rollback_of_commit), str(j->rollback_to_commit));
		return;
	}
	if (d->application && o->unjournaled_job && !j->applied_job_id) {
		/* the JobManager runs a job no journal names: it is recorded as the
		 * job before anything replaces its pods, then stopped as any job */
		set(n, DEPLOY_OP_ADOPT, NULL);
		n->job = o->unjournaled_job;
		return;
	}
	switch (j->step) {
	case DEPLOY_STEP_FAILED:
		if (j->state_unknown) {
			/* only a human can say which state to start from: a new
			 * initialSavepointPath, and nothing runs that would be replaced */
			if (d->initial_savepoint && !d->deleting && !fo_streq(d->initial_savepoint, j->restore_path) &&
			    o->flink_ok && !alive(o)) {
				restore(n, DEPLOY_OP_KEEP, d->initial_savepoint, "initial");
				return;
			}
			set(n, DEPLOY_OP_NONE, "failed: %s", str(j->last_error));
			return;
		}
		if (is_target(j->failed_hash, j->failed_job_hash, d) && !d->deleting && !d->suspended) {
			set(n, DEPLOY_OP_NONE, "failed: %s", str(j->last_error));
			return;
		}
		idle(d, j, o, n); /* a new target, a suspend or a delete: a new attempt */
		return;
	case DEPLOY_STEP_IDLE:
		idle(d, j, o, n);
		return;
	case DEPLOY_STEP_STOPPING: {
		if (!o->flink_ok) {
			set(n, DEPLOY_OP_WAIT, "the Flink REST API does not answer; the stop of job %s (trigger %s) is in flight",
			    str(j->job_id), str(j->trigger_id));
			return;
		}
		switch (o->trigger) {
		case DEPLOY_TRIGGER_COMPLETED:
			if (redeploying(d, j))
				restore(n, DEPLOY_OP_KEEP, d->initial_savepoint, "initial");
			else
				restore(n, DEPLOY_OP_KEEP, o->trigger_location, "savepoint");
			break;
		case DEPLOY_TRIGGER_IN_PROGRESS:
			/* Flink still works on it: never abandoned, however long */
			n->wait_ms = o->step_age_ms;
			n->late = o->step_age_ms >= 0 && o->step_age_ms > d->savepoint_timeout_ms;
			set(n, DEPLOY_OP_WAIT, "the savepoint of job %s is in progress%s; the old job runs until it completes",
			    str(j->job_id), n->late ? ", past flink.savepointTimeout" : "");
			break;
		case DEPLOY_TRIGGER_FAILED:
			if (alive(o)) {
				set(n, DEPLOY_OP_ABORT_STOP, "the savepoint of job %s failed: %s; the old job keeps running",
				    str(j->job_id), o->trigger_failure ? o->trigger_failure : "no cause reported");
				n->failure = DEPLOY_FAILURE_SAVEPOINT;
			} else {
				keep_newest(d, j, o, n);
			}
			break;
		case DEPLOY_TRIGGER_NONE: /* no trigger recorded (an older journal): as unknown */
		case DEPLOY_TRIGGER_UNKNOWN:
			if (o->job_known && o->job == FLINK_JOB_RUNNING)
				/* the request never arrived: again, under the recorded id */
				set(n, j->trigger_id ? DEPLOY_OP_RESTOP : DEPLOY_OP_STOP, NULL);
			else if (alive(o))
				set(n, DEPLOY_OP_WAIT, "job %s is %s while its stop is unknown to Flink", str(j->job_id),
				    flink_job_status_name(o->job));
			else
				keep_newest(d, j, o, n); /* stopped, result forgotten: its newest savepoint */
			break;
		}
		return;
	}
	case DEPLOY_STEP_CANCELLING:
		if (!o->flink_ok) {
			set(n, DEPLOY_OP_WAIT, "the Flink REST API does not answer; the cancel of job %s is in flight",
			    str(j->job_id));
			return;
		}
		if (alive(o)) {
			if (o->job == FLINK_JOB_CANCELLING) {
				set(n, DEPLOY_OP_WAIT, "job %s is cancelling", str(j->job_id));
				return;
			}
			if (o->job != FLINK_JOB_RUNNING) {
				/* the cancel never arrived, and a job that does not run
				 * takes no savepoint: cancelled again, keeping what was
				 * chosen or anything newer it completed meanwhile */
				cancel_again(j, o, n);
				return;
			}
			/* the cancel never arrived; a last-state job may have
			 * completed newer checkpoints meanwhile */
			stop_old(d, j, o, n);
			return;
		}
		/* a cancel keeps state in last-state mode, in a rollback (of a
		 * job under judgment) whatever the mode, and in a suspend or a
		 * delete (a stateless job's, with nowhere to put a savepoint) */
		bool keeps = d->mode != FLINK_UPGRADE_STATELESS || d->suspended || d->deleting;
		if (keeps && !o->checkpoints_ok) {
			/* the checkpoint chosen before the cancel is provisional:
			 * newer ones may have completed until the job ended */
			set(n, DEPLOY_OP_WAIT, "the final checkpoint statistics of job %s are not available yet",
			    str(j->job_id));
			return;
		}
		if (keeps && !fo_streq(j->restore_kind, "initial") && o->newest_path &&
		    !fo_streq(o->newest_path, j->restore_path))
			restore(n, DEPLOY_OP_KEEP, o->newest_path, o->newest_is_savepoint ? "savepoint" : "checkpoint");
		else
			restore(n, DEPLOY_OP_KEEP, j->restore_path, str(j->restore_kind));
		return;
	case DEPLOY_STEP_SAVEPOINT_TAKEN:
		if (d->deleting) {
			if (!final_state_recorded(j))
				restore(n, DEPLOY_OP_KEEP, j->restore_path, str(j->restore_kind));
			else
				set(n, DEPLOY_OP_NONE, "final state %s kept: the objects can go",
				    j->restore_path ? j->restore_path : "(none)");
			return;
		}
		set(n, d->suspended ? DEPLOY_OP_SUSPEND : DEPLOY_OP_APPLY, NULL);
		return;
	case DEPLOY_STEP_APPLIED: {
		if (start_moved(d, j) || !o->objects_current) {
			/* the target moved while starting: the state to start from stays */
			not_started(d, j, n);
			return;
		}
		n->wait_ms = o->step_age_ms;
		n->late = o->step_age_ms >= 0 && o->step_age_ms > d->ready_timeout_ms;
		/* a job started before its pods rolled out would run on pods about
		 * to be replaced: the JobManager's would take it down with it */
		if (o->pods_ready == 0)
			set(n, DEPLOY_OP_WAIT, "the pods are rolling out: %s%s", str(o->pods_waiting),
			    n->late ? ", past flink.readyTimeout" : "");
		else if (o->pods_ready < 0)
			set(n, DEPLOY_OP_WAIT, "the pods' rollout could not be read: %s", str(o->pods_waiting));
		else if (!o->flink_ok)
			set(n, DEPLOY_OP_WAIT, "the JobManager is starting (its REST API does not answer yet)%s",
			    n->late ? ", past flink.readyTimeout" : "");
		else if (d->application)
			set(n, DEPLOY_OP_RUN, NULL); /* its JobManager runs the job: slots are the job's to wait for */
		else if (o->slots_total < d->parallelism)
			set(n, DEPLOY_OP_WAIT, "%d of %d task slots%s", o->slots_total < 0 ? 0 : o->slots_total,
			    d->parallelism, n->late ? ", past flink.readyTimeout" : "");
		else
			set(n, DEPLOY_OP_UPLOAD, NULL);
		return;
	}
	case DEPLOY_STEP_UPLOADED:
		if (start_moved(d, j) || !o->objects_current || d->application)
			not_started(d, j, n); /* the jar is another target's: nothing was run */
		else if (!o->flink_ok)
			set(n, DEPLOY_OP_WAIT, "the Flink REST API does not answer");
		else
			set(n, o->jar_known ? DEPLOY_OP_RUN : DEPLOY_OP_UPLOAD, NULL);
		return;
	case DEPLOY_STEP_SUBMITTED: {
		if (!o->flink_ok && d->application && start_moved(d, j) && app_start_late(d, o)) {
			/* a JobManager that never answered within flink.runningTimeout
			 * (its pod crash-looping: a wrong entry class, a start state
			 * that does not exist) runs no job: the new target goes on */
			not_started(d, j, n);
			return;
		}
		if (!o->flink_ok) {
			n->wait_ms = o->step_age_ms;
			n->late = d->application && app_start_late(d, o);
			set(n, DEPLOY_OP_WAIT, "the Flink REST API does not answer; job %s was submitted%s",
			    str(j->submit_job_id), n->late ? ", past flink.runningTimeout" : "");
			return;
		}
		if (start_moved(d, j)) {
			superseded_submission(d, j, o, n);
			return;
		}
		if (!o->job_known && d->application) {
			if (!o->objects_current) {
				/* the JobManager does not carry this start (its objects were
				 * changed or lost): applied again, the same job id */
				set(n, DEPLOY_OP_APPLY, NULL);
				return;
			}
			n->wait_ms = o->step_age_ms;
			if (app_start_late(d, o)) {
				set(n, DEPLOY_OP_FAIL,
				    "the JobManager did not start job %s within flink.runningTimeout (%lds); its log says why "
				    "(a main() that throws, without high availability, shows no job). Fix and push again",
				    str(j->submit_job_id), d->running_timeout_ms / 1000);
				n->failure = DEPLOY_FAILURE_RUN;
			} else {
				set(n, DEPLOY_OP_WAIT, "the JobManager has not started job %s yet", str(j->submit_job_id));
			}
			return;
		}
		if (!o->job_known) {
			/* the run never arrived (or the JobManager lost it): again,
			 * under the same id, so a late first one is not doubled */
			set(n, o->jar_known ? DEPLOY_OP_RUN : DEPLOY_OP_UPLOAD, NULL);
			return;
		}
		if (o->job == FLINK_JOB_RUNNING) {
			set(n, DEPLOY_OP_RECORD, NULL);
			return;
		}
		if (alive(o)) {
			n->wait_ms = o->step_age_ms;
			n->late = o->step_age_ms >= 0 && o->step_age_ms > d->running_timeout_ms;
			set(n, DEPLOY_OP_WAIT, "job %s is %s%s", str(j->submit_job_id), flink_job_status_name(o->job),
			    n->late ? ", past flink.runningTimeout" : "");
			return;
		}
		/* the new job ended before it ran: again from its newest state */
		if (!o->checkpoints_ok) {
			set(n, DEPLOY_OP_WAIT, "job %s is %s; its final checkpoint statistics are not available yet",
			    str(j->submit_job_id), flink_job_status_name(o->job));
			return;
		}
		if (j->restarts >= d->restart_budget) {
			set(n, DEPLOY_OP_FAIL, "job %s is %s after %d restart%s: %s", str(j->submit_job_id),
			    flink_job_status_name(o->job), j->restarts, j->restarts == 1 ? "" : "s",
			    o->job_cause ? o->job_cause : "no cause reported");
			/* it never ran: from its newest state, else the one it was to start from */
			if (o->newest_path)
				unhealthy(d, j, o->newest_path, o->newest_is_savepoint ? "savepoint" : "checkpoint",
					  DEPLOY_FAILURE_RESTART_BUDGET, NULL, n);
			else
				unhealthy(d, j, j->restore_path, str(j->restore_kind), DEPLOY_FAILURE_RESTART_BUDGET, NULL, n);
			return;
		}
		if (o->newest_path)
			restore(n, DEPLOY_OP_RESTART, o->newest_path, o->newest_is_savepoint ? "savepoint" : "checkpoint");
		else
			restore(n, DEPLOY_OP_RESTART, j->restore_path, str(j->restore_kind)); /* completed nothing new */
		return;
	}
	}
	set(n, DEPLOY_OP_FAIL, "the journal's step is unknown");
	n->failure = DEPLOY_FAILURE_OTHER;
}

char *deploy_unmanaged_jobs(const flink_job_list *jobs, const char *const *managed, size_t nmanaged, bool states)
{
	fo_buf b = FO_BUF_INIT;
	for (size_t i = 0; jobs && i < jobs->n; i++) {
		const flink_job_info *j = &jobs->v[i];
		bool ours = false;
		for (size_t k = 0; k < nmanaged && !ours; k++)
			ours = managed[k] && fo_streq(managed[k], j->id);
		if (ours || flink_job_status_is_terminal(j->state))
			continue;
		const char *state = j->state == FLINK_JOB_UNKNOWN && j->state_name ? j->state_name : flink_job_status_name(j->state);
		if (states)
			fo_buf_printf(&b, "%s%s (%s%s%s)", b.len ? ", " : "", j->id ? j->id : "?",
				      j->name ? j->name : "", j->name ? ", " : "", state);
		else
			fo_buf_printf(&b, "%s%s%s%s%s", b.len ? ", " : "", j->id ? j->id : "?", j->name ? " (" : "",
				      j->name ? j->name : "", j->name ? ")" : "");
	}
	return b.len ? fo_buf_detach(&b) : (fo_buf_free(&b), NULL);
}
