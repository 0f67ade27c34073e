/*
 * The rollout's decision as a table: every journal step, crossed with the
 * observations that matter to it (Flink unreachable; the job running,
 * ended or forgotten; the savepoint trigger in progress, completed, failed
 * or unknown; slots; the jar), each with the one step deploy_next_step must
 * return. Every journal step is a point where the agent may have died, so
 * these rows are also the crash cases: the row says what the next pass does.
 * A last check walks every step x every observation and requires that no
 * combination starts a stateful job from an older state than the newest
 * one observed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deploy/rollout.h"

#define H_OLD "hold"
#define H_NEW "hnew"
#define SP_OLD "file:/sp/savepoint-old"
#define SP_STOP "file:/sp/savepoint-stop"
#define CK_NEW "file:/ck/chk-9"

/* Observation presets */
enum obs {
	O_DOWN,         /* Flink does not answer */
	O_RUNNING,      /* the job runs; checkpoints readable, newest CK_NEW */
	O_RUNNING_NOCK, /* the job runs, no checkpoint, fresh start */
	O_FAILED,       /* the job FAILED; newest CK_NEW */
	O_CANCELED,     /* cancelled by hand; newest CK_NEW */
	O_FINISHED_SP,  /* stopped with a savepoint: newest is SP_STOP */
	O_GONE,         /* Flink does not know the job */
	O_CANCELLING,
	O_STARTING,     /* INITIALIZING */
	O_EMPTY_ENDED,  /* ended, never checkpointed, started fresh */
	O_STALE,        /* cancelled, but Flink's cached statistics still show it running */
	O_CK_OFF,       /* the job runs and does not checkpoint (Flink says) */
	O_CK_NONE,      /* the job runs, checkpoints, completed none yet, 1 s after its start */
	O_CK_DONE,      /* the job runs and completed a checkpoint */
	O_CK_LATE,      /* the job runs, completed none, past readyTimeout, the newest failed */
	O_CK_UNREAD,    /* the job runs; its checkpointing could not be read */
	O_RESTARTING_LATE, /* RESTARTING past readyTimeout of its start */
	O_FAILED_SEMI,     /* FAILED, its cause with "; it " in Flink's words */
	O_FAILED_FRESH, /* FAILED a moment ago: statistics and exceptions not final yet */
	O_REQ_PROGRESS, /* the job runs; the requested savepoint is in progress */
	O_REQ_DONE,     /* the job runs; the requested savepoint completed at SP_REQ */
	O_REQ_FAILED,   /* the job runs; the requested savepoint failed */
	O_SP_OLD,       /* the job runs; its newest savepoint is 2 minutes old */
	O_PODS_ROLLING, /* Flink answers with enough slots, but the StatefulSets are still rolling out */
};
#define SP_REQ "file:/sp/savepoint-req"

static void observe(enum obs kind, deploy_observed *o)
{
	memset(o, 0, sizeof(*o));
	o->slots_total = 4;
	o->objects_current = true;
	o->pods_ready = kind == O_PODS_ROLLING ? 0 : 1;
	o->pods_waiting = kind == O_PODS_ROLLING ? "wc-taskmanager: 1 of 2 pods updated" : NULL;
	o->jar_known = true;
	o->step_age_ms = 1000;
	if (kind == O_DOWN)
		return;
	o->flink_ok = true;
	o->job_known = kind != O_GONE;
	o->checkpoints_ok = kind != O_GONE && kind != O_STALE;
	o->newest_path = CK_NEW;
	o->restored_path = SP_OLD;
	switch (kind) {
	case O_RUNNING: o->job = FLINK_JOB_RUNNING; break;
	case O_RUNNING_NOCK:
		o->job = FLINK_JOB_RUNNING;
		o->newest_path = o->restored_path = NULL;
		break;
	case O_FAILED: o->job = FLINK_JOB_FAILED; o->job_cause = "boom"; break;
	case O_CANCELED: o->job = FLINK_JOB_CANCELED; break;
	case O_FINISHED_SP:
		o->job = FLINK_JOB_FINISHED;
		o->newest_path = SP_STOP;
		o->newest_is_savepoint = true;
		break;
	case O_CANCELLING: o->job = FLINK_JOB_CANCELLING; break;
	case O_STALE: o->job = FLINK_JOB_CANCELED; o->newest_path = o->restored_path = NULL; break;
	case O_STARTING: o->job = FLINK_JOB_INITIALIZING; break;
	case O_EMPTY_ENDED:
		o->job = FLINK_JOB_CANCELED;
		o->newest_path = o->restored_path = NULL;
		break;
	case O_CK_OFF:
	case O_CK_NONE:
	case O_CK_DONE:
	case O_CK_LATE:
	case O_CK_UNREAD:
		o->job = FLINK_JOB_RUNNING;
		if (kind == O_CK_NONE || kind == O_CK_LATE)
			o->newest_path = NULL; /* it completed none */
		o->checkpointing = kind == O_CK_OFF ? 0 : kind == O_CK_UNREAD ? -1 : 1;
		o->checkpoints_completed = kind == O_CK_DONE ? 1 : kind == O_CK_UNREAD ? -1 : 0;
		o->await_age_ms = kind == O_CK_LATE ? 400000 : 1000;
		o->checkpoint_failure = kind == O_CK_LATE ? "Checkpoint expired before completing." : NULL;
		break;
	case O_REQ_PROGRESS:
	case O_REQ_DONE:
	case O_REQ_FAILED:
		o->job = FLINK_JOB_RUNNING;
		o->request = kind == O_REQ_PROGRESS ? DEPLOY_TRIGGER_IN_PROGRESS
			   : kind == O_REQ_DONE     ? DEPLOY_TRIGGER_COMPLETED
						    : DEPLOY_TRIGGER_FAILED;
		o->request_location = kind == O_REQ_DONE ? SP_REQ : NULL;
		o->request_failure = kind == O_REQ_FAILED ? "disk full" : NULL;
		break;
	case O_SP_OLD:
		o->job = FLINK_JOB_RUNNING;
		o->savepoint_age_ms = 120000;
		break;
	case O_FAILED_FRESH:
		o->job = FLINK_JOB_FAILED;
		o->checkpoints_ok = false;
		break;
	case O_RESTARTING_LATE:
		o->job = FLINK_JOB_RESTARTING;
		o->job_cause = "boom";
		o->await_age_ms = 400000;
		break;
	case O_FAILED_SEMI:
		o->job = FLINK_JOB_FAILED;
		o->job_cause = "java.io.IOException: sink closed; it was never opened";
		break;
	default: break;
	}
}

/* Journal presets */
enum jr {
	J_NEW,        /* never ran */
	J_IDLE,       /* job running at H_OLD, savepoint SP_OLD recorded */
	J_IDLE_NOSP,  /* job at H_OLD, no savepoint ever */
	J_STOPPING,
	J_CANCELLING, /* restore CK_NEW chosen */
	J_TAKEN,      /* restore SP_STOP */
	J_APPLIED,
	J_UPLOADED,
	J_SUBMITTED,
	J_FAILED,     /* failed at H_NEW */
	J_FAILED_UNKNOWN,
	J_SUSPENDED,  /* no job, savepoint SP_OLD (reason suspend) */
	J_BUDGET,     /* job at H_OLD, restarts used up */
	J_AWAIT,      /* job at H_OLD recorded running, awaiting its first checkpoint */
	J_HANDLED,    /* job at H_OLD, savepoint nonce 7 answered */
	J_REQUEST,    /* job at H_OLD, a manual savepoint for nonce 7 requested */
	/* rollback: the healthy job before the upgrade ran H_PREV at C_PREV */
	J_AWAIT_PREV,      /* the new job at H_OLD awaits its first checkpoint; it started from SP_OLD */
	J_BUDGET_AWAIT_PREV, /* the same, its restarts used up */
	J_SUB_BUDGET_PREV, /* a submission of H_NEW (from SP_STOP) that never ran, restarts used up */
	J_RB_CANCELLING,   /* rolling back: the failed H_OLD job being cancelled, restore SP_STOP */
	J_RB_IDLE,         /* rolled back: H_PREV runs again; git's H_OLD failed */
	J_RB_AWAIT,        /* rolled back, and the rollback's own job awaits its first checkpoint */
	J_REDEPLOYED,      /* job at H_NEW, started for redeploy nonce 5 */
	J_CANCELLING_INITIAL, /* a redeploy's cancel: restore file:/sp/chosen (initial) */
};
#define H_PREV "hprev"
#define C_PREV "c0ffee0000000000000000000000000000000001"
#define C_FAIL "badc0de000000000000000000000000000000002"

static void journal(enum jr kind, deploy_journal *j)
{
	memset(j, 0, sizeof(*j));
	if (kind == J_NEW)
		return;
	deploy_journal_set(&j->target_job_hash, H_OLD);
	deploy_journal_set(&j->job_id, "00000000000000000000000000000001");
	if (kind != J_IDLE_NOSP)
		deploy_journal_set(&j->savepoint_path, SP_OLD);
	switch (kind) {
	case J_STOPPING:
		j->step = DEPLOY_STEP_STOPPING;
		deploy_journal_set(&j->trigger_id, "0000000000000000000000000000000a");
		break;
	case J_CANCELLING:
		j->step = DEPLOY_STEP_CANCELLING;
		deploy_journal_set(&j->restore_path, CK_NEW);
		break;
	case J_TAKEN: j->step = DEPLOY_STEP_SAVEPOINT_TAKEN; deploy_journal_set(&j->restore_path, SP_STOP); break;
	case J_APPLIED: j->step = DEPLOY_STEP_APPLIED; deploy_journal_set(&j->restore_path, SP_STOP); break;
	case J_UPLOADED:
		j->step = DEPLOY_STEP_UPLOADED;
		deploy_journal_set(&j->restore_path, SP_STOP);
		deploy_journal_set(&j->jar_id, "j.jar");
		break;
	case J_SUBMITTED:
		j->step = DEPLOY_STEP_SUBMITTED;
		deploy_journal_set(&j->restore_path, SP_STOP);
		deploy_journal_set(&j->jar_id, "j.jar");
		deploy_journal_set(&j->submit_job_id, "00000000000000000000000000000002");
		break;
	case J_FAILED:
		j->step = DEPLOY_STEP_FAILED;
		deploy_journal_set(&j->failed_job_hash, H_NEW);
		deploy_journal_set(&j->last_error, "it broke");
		break;
	case J_FAILED_UNKNOWN:
		j->step = DEPLOY_STEP_FAILED;
		j->state_unknown = true;
		deploy_journal_set(&j->failed_job_hash, H_NEW);
		deploy_journal_set(&j->last_error, "newest state unknown");
		break;
	case J_SUSPENDED: deploy_journal_set(&j->job_id, NULL); break;
	case J_BUDGET: j->restarts = 3; break;
	case J_AWAIT: deploy_journal_set(&j->await_checkpoint_since, "2026-12-01T10:00:00.000Z"); break;
	case J_HANDLED: deploy_journal_set(&j->handled_nonce, "7"); break;
	case J_REQUEST:
		deploy_journal_set(&j->request_trigger_id, "0000000000000000000000000000000b");
		deploy_journal_set(&j->request_reason, "manual");
		deploy_journal_set(&j->request_nonce, "7");
		break;
	case J_AWAIT_PREV:
	case J_BUDGET_AWAIT_PREV:
		deploy_journal_set(&j->await_checkpoint_since, "2026-12-01T10:00:00.000Z");
		deploy_journal_set(&j->started_from, SP_OLD);
		deploy_journal_set(&j->started_from_kind, "savepoint");
		deploy_journal_set(&j->previous_commit, C_PREV);
		deploy_journal_set(&j->previous_job_hash, H_PREV);
		j->restarts = kind == J_BUDGET_AWAIT_PREV ? 3 : 0;
		break;
	case J_SUB_BUDGET_PREV:
		j->step = DEPLOY_STEP_SUBMITTED;
		j->restarts = 3;
		deploy_journal_set(&j->target_job_hash, H_PREV);
		deploy_journal_set(&j->restore_path, SP_STOP);
		deploy_journal_set(&j->restore_kind, "savepoint");
		deploy_journal_set(&j->submit_job_id, "00000000000000000000000000000002");
		deploy_journal_set(&j->previous_commit, C_PREV);
		deploy_journal_set(&j->previous_job_hash, H_PREV);
		break;
	case J_RB_CANCELLING:
		j->step = DEPLOY_STEP_CANCELLING;
		deploy_journal_set(&j->restore_path, SP_STOP);
		deploy_journal_set(&j->restore_kind, "savepoint");
		/* fall through */
	case J_RB_IDLE:
	case J_RB_AWAIT:
		deploy_journal_set(&j->rollback_of_hash, H_OLD);
		deploy_journal_set(&j->failed_job_hash, H_OLD);
		deploy_journal_set(&j->rollback_of_commit, C_FAIL);
		deploy_journal_set(&j->rollback_to_commit, C_PREV);
		if (kind != J_RB_CANCELLING)
			deploy_journal_set(&j->target_job_hash, H_PREV);
		if (kind == J_RB_AWAIT)
			deploy_journal_set(&j->await_checkpoint_since, "2026-12-01T10:00:00.000Z");
		break;
	case J_REDEPLOYED:
		deploy_journal_set(&j->target_job_hash, H_NEW);
		deploy_journal_set(&j->handled_redeploy_nonce, "5");
		break;
	case J_CANCELLING_INITIAL:
		j->step = DEPLOY_STEP_CANCELLING;
		deploy_journal_set(&j->restore_path, "file:/sp/chosen");
		deploy_journal_set(&j->restore_kind, "initial");
		break;
	default: break;
	}
}

/* Desired presets */
enum want {
	W_NEW, W_SAME, W_SUSPEND, W_DELETE, W_LAST_STATE, W_STATELESS, W_INITIAL, W_PODS, W_NONCE, W_PERIODIC,
	W_SAME_RB, /* git's H_OLD, rollback on */
	W_NEW_RB,  /* git's H_NEW, rollback on */
	W_PREV,    /* the rollback's spec: C_PREV's H_PREV, run again */
	W_REDEPLOY, /* git's H_NEW with a new savepointRedeployNonce 5 and initialSavepointPath file:/sp/chosen */
	W_REDEPLOY_LS, /* the same in last-state mode */
};

static void desired(enum want kind, deploy_desired *d)
{
	memset(d, 0, sizeof(*d));
	d->job_hash = kind == W_SAME || kind == W_NONCE || kind == W_PERIODIC ? H_OLD : H_NEW;
	d->savepoint_nonce = kind == W_NONCE ? 7 : 0;
	d->periodic_savepoint_ms = kind == W_PERIODIC ? 60000 : 0;
	d->mode = kind == W_LAST_STATE ? FLINK_UPGRADE_LAST_STATE
		: kind == W_STATELESS  ? FLINK_UPGRADE_STATELESS
				       : FLINK_UPGRADE_SAVEPOINT;
	d->suspended = kind == W_SUSPEND;
	d->deleting = kind == W_DELETE;
	d->restart_pods = kind == W_PODS;
	if (kind == W_PODS)
		d->job_hash = H_OLD;
	d->initial_savepoint = kind == W_INITIAL ? "file:/sp/chosen" : NULL;
	d->parallelism = 2;
	d->restart_budget = 3;
	d->savepoint_timeout_ms = 600000;
	d->ready_timeout_ms = 300000;
	d->running_timeout_ms = 300000;
	d->rollback = kind == W_SAME_RB || kind == W_NEW_RB || kind == W_PREV;
	d->rolling_back = kind == W_PREV;
	if (kind == W_SAME_RB)
		d->job_hash = H_OLD;
	if (kind == W_PREV)
		d->job_hash = H_PREV;
	if (kind == W_REDEPLOY || kind == W_REDEPLOY_LS) {
		d->redeploy_nonce = 5;
		d->initial_savepoint = "file:/sp/chosen";
		d->mode = kind == W_REDEPLOY_LS ? FLINK_UPGRADE_LAST_STATE : FLINK_UPGRADE_SAVEPOINT;
	}
}

static const struct row {
	enum jr j;
	enum want w;
	enum obs o;
	enum deploy_op op;
	const char *restore; /* for KEEP/CANCEL/RESTART; "-" for NULL */
	const char *why;     /* a substring of n.why, or NULL */
} rows[] = {
	/* a new deployment: from the initial savepoint when given, else fresh */
	{J_NEW, W_NEW, O_DOWN, DEPLOY_OP_KEEP, "-", NULL},
	{J_NEW, W_INITIAL, O_DOWN, DEPLOY_OP_KEEP, "file:/sp/chosen", NULL},
	/* settled, in place, drift */
	{J_IDLE, W_SAME, O_RUNNING, DEPLOY_OP_NONE, NULL, "running"},
	{J_IDLE, W_SAME, O_DOWN, DEPLOY_OP_WAIT, NULL, "does not answer"},
	{J_IDLE, W_SAME, O_STARTING, DEPLOY_OP_WAIT, NULL, "INITIALIZING"},
	{J_IDLE, W_SAME, O_FAILED, DEPLOY_OP_RESTART, CK_NEW, NULL},
	{J_IDLE, W_SAME, O_CANCELED, DEPLOY_OP_RESTART, CK_NEW, NULL},
	{J_IDLE, W_SAME, O_GONE, DEPLOY_OP_FAIL, NULL, "cannot be established"},
	{J_IDLE, W_SAME, O_EMPTY_ENDED, DEPLOY_OP_FAIL, NULL, "does not start from empty state on its own"},
	{J_IDLE_NOSP, W_SAME, O_EMPTY_ENDED, DEPLOY_OP_RESTART, "-", NULL},
	{J_BUDGET, W_SAME, O_FAILED, DEPLOY_OP_FAIL, NULL, "after 3 restarts: boom"},
	/* the budget is judged on final statistics: the cause is there by then */
	{J_BUDGET, W_SAME, O_FAILED_FRESH, DEPLOY_OP_WAIT, NULL, "not available yet"},
	{J_SUBMITTED, W_NEW, O_FAILED_FRESH, DEPLOY_OP_WAIT, NULL, "not available yet"},
	/* a new job is done once it completed a checkpoint (or does not checkpoint) */
	{J_AWAIT, W_SAME, O_CK_OFF, DEPLOY_OP_CONFIRM, NULL, NULL},
	{J_AWAIT, W_SAME, O_CK_DONE, DEPLOY_OP_CONFIRM, NULL, NULL},
	{J_AWAIT, W_SAME, O_CK_NONE, DEPLOY_OP_WAIT, NULL, "the first checkpoint of job"},
	{J_AWAIT, W_SAME, O_CK_UNREAD, DEPLOY_OP_WAIT, NULL, "checkpoints could not be read"},
	{J_AWAIT, W_SAME, O_CK_LATE, DEPLOY_OP_FAIL, NULL,
	 "completed no checkpoint within flink.readyTimeout (300s); the newest failed: Checkpoint expired"},
	{J_AWAIT, W_SAME, O_RESTARTING_LATE, DEPLOY_OP_FAIL, NULL, "is RESTARTING and completed no checkpoint"},
	{J_AWAIT, W_SAME, O_STARTING, DEPLOY_OP_WAIT, NULL, "INITIALIZING"},
	{J_AWAIT, W_SAME, O_FAILED, DEPLOY_OP_RESTART, CK_NEW, NULL},
	{J_AWAIT, W_NEW, O_CK_NONE, DEPLOY_OP_STOP, NULL, NULL}, /* a newer commit does not wait for it */
	{J_IDLE, W_SAME, O_CK_NONE, DEPLOY_OP_NONE, NULL, "running"}, /* confirmed before: settled */
	/* savepoints asked of the running job: a new nonce, the periodic interval */
	{J_IDLE, W_NONCE, O_RUNNING, DEPLOY_OP_SAVEPOINT, NULL, "manual"},
	{J_HANDLED, W_NONCE, O_RUNNING, DEPLOY_OP_NONE, NULL, "running"},
	{J_AWAIT, W_NONCE, O_CK_NONE, DEPLOY_OP_WAIT, NULL, "the first checkpoint"}, /* healthy first */
	{J_REQUEST, W_NONCE, O_REQ_PROGRESS, DEPLOY_OP_WAIT, NULL, "the manual savepoint of job"},
	{J_REQUEST, W_NONCE, O_REQ_DONE, DEPLOY_OP_SAVEPOINT_DONE, SP_REQ, NULL},
	{J_REQUEST, W_NONCE, O_REQ_FAILED, DEPLOY_OP_SAVEPOINT_DONE, "-", "failed: disk full; the job keeps running"},
	{J_REQUEST, W_NONCE, O_RUNNING, DEPLOY_OP_SAVEPOINT, NULL, "manual"}, /* never arrived: again, same id */
	{J_REQUEST, W_NEW, O_REQ_PROGRESS, DEPLOY_OP_STOP, NULL, NULL},     /* an upgrade does not wait for it */
	{J_IDLE, W_PERIODIC, O_SP_OLD, DEPLOY_OP_SAVEPOINT, NULL, "periodic"},
	{J_IDLE, W_PERIODIC, O_RUNNING, DEPLOY_OP_NONE, NULL, "running"},
	/* an upgrade, by mode */
	{J_IDLE, W_NEW, O_RUNNING, DEPLOY_OP_STOP, NULL, NULL},
	{J_IDLE, W_PODS, O_RUNNING, DEPLOY_OP_STOP, NULL, NULL},
	{J_IDLE, W_NEW, O_DOWN, DEPLOY_OP_WAIT, NULL, "cannot be stopped"},
	{J_IDLE, W_LAST_STATE, O_RUNNING, DEPLOY_OP_CANCEL, CK_NEW, NULL},
	{J_IDLE, W_LAST_STATE, O_RUNNING_NOCK, DEPLOY_OP_FAIL, NULL, "needs a completed checkpoint"},
	{J_IDLE, W_STATELESS, O_RUNNING, DEPLOY_OP_CANCEL, "-", NULL},
	{J_IDLE, W_NEW, O_FAILED, DEPLOY_OP_KEEP, CK_NEW, NULL},
	{J_IDLE, W_STATELESS, O_FAILED, DEPLOY_OP_KEEP, "-", NULL},
	{J_IDLE, W_NEW, O_GONE, DEPLOY_OP_FAIL, NULL, "cannot be established"},
	/* suspend and delete keep the state whatever the mode */
	{J_IDLE, W_SUSPEND, O_RUNNING, DEPLOY_OP_STOP, NULL, NULL},
	{J_IDLE, W_DELETE, O_RUNNING, DEPLOY_OP_STOP, NULL, NULL},
	{J_IDLE, W_DELETE, O_CANCELED, DEPLOY_OP_KEEP, CK_NEW, NULL},
	{J_IDLE, W_DELETE, O_DOWN, DEPLOY_OP_WAIT, NULL, NULL},
	{J_NEW, W_DELETE, O_DOWN, DEPLOY_OP_NONE, NULL, "objects can go"},
	{J_SUSPENDED, W_SUSPEND, O_RUNNING, DEPLOY_OP_NONE, NULL, "suspended"},
	{J_SUSPENDED, W_NEW, O_DOWN, DEPLOY_OP_KEEP, SP_OLD, NULL}, /* resume from the suspend savepoint */
	{J_SUSPENDED, W_STATELESS, O_DOWN, DEPLOY_OP_KEEP, "-", NULL},
	/* STOPPING: the trigger is state */
	{J_STOPPING, W_NEW, O_DOWN, DEPLOY_OP_WAIT, NULL, "in flight"},
	{J_STOPPING, W_NEW, O_FINISHED_SP, DEPLOY_OP_KEEP, SP_STOP, NULL}, /* trigger forgotten: newest savepoint */
	{J_STOPPING, W_NEW, O_RUNNING, DEPLOY_OP_RESTOP, NULL, NULL},      /* trigger unknown, job runs */
	{J_STOPPING, W_NEW, O_GONE, DEPLOY_OP_FAIL, NULL, "cannot be established"},
	{J_STOPPING, W_NEW, O_CANCELLING, DEPLOY_OP_WAIT, NULL, "CANCELLING"},
	/* CANCELLING */
	{J_CANCELLING, W_LAST_STATE, O_CANCELLING, DEPLOY_OP_WAIT, NULL, "cancelling"},
	{J_CANCELLING, W_LAST_STATE, O_RUNNING, DEPLOY_OP_CANCEL, CK_NEW, NULL}, /* the cancel never arrived */
	{J_CANCELLING, W_LAST_STATE, O_CANCELED, DEPLOY_OP_KEEP, CK_NEW, NULL},
	{J_CANCELLING, W_STATELESS, O_DOWN, DEPLOY_OP_WAIT, NULL, NULL},
	/* a job that just ended: its statistics must be final before they count */
	{J_CANCELLING, W_LAST_STATE, O_STALE, DEPLOY_OP_WAIT, NULL, "not available yet"},
	{J_IDLE, W_SAME, O_STALE, DEPLOY_OP_WAIT, NULL, "not available yet"},
	{J_STOPPING, W_NEW, O_STALE, DEPLOY_OP_WAIT, NULL, "not available yet"},
	{J_IDLE, W_NEW, O_STALE, DEPLOY_OP_WAIT, NULL, "not available yet"},
	/* after the state is fixed: objects, slots, jar, run */
	{J_TAKEN, W_NEW, O_DOWN, DEPLOY_OP_APPLY, NULL, NULL},
	{J_TAKEN, W_SUSPEND, O_DOWN, DEPLOY_OP_SUSPEND, NULL, NULL},
	{J_TAKEN, W_DELETE, O_DOWN, DEPLOY_OP_NONE, NULL, "objects can go"},
	{J_APPLIED, W_NEW, O_DOWN, DEPLOY_OP_WAIT, NULL, "JobManager is starting"},
	{J_APPLIED, W_NEW, O_GONE, DEPLOY_OP_UPLOAD, NULL, NULL},
	/* not on pods about to be replaced: the old JobManager still answers */
	{J_APPLIED, W_NEW, O_PODS_ROLLING, DEPLOY_OP_WAIT, NULL, "the pods are rolling out: wc-taskmanager: 1 of 2"},
	{J_UPLOADED, W_NEW, O_GONE, DEPLOY_OP_RUN, NULL, NULL},
	{J_UPLOADED, W_NEW, O_DOWN, DEPLOY_OP_WAIT, NULL, NULL},
	/* SUBMITTED: the job is the submission */
	{J_SUBMITTED, W_NEW, O_RUNNING, DEPLOY_OP_RECORD, NULL, NULL},
	{J_SUBMITTED, W_NEW, O_STARTING, DEPLOY_OP_WAIT, NULL, "INITIALIZING"},
	{J_SUBMITTED, W_NEW, O_GONE, DEPLOY_OP_RUN, NULL, NULL}, /* the run never arrived: same id again */
	{J_SUBMITTED, W_NEW, O_FAILED, DEPLOY_OP_RESTART, CK_NEW, NULL},
	{J_SUBMITTED, W_NEW, O_EMPTY_ENDED, DEPLOY_OP_RESTART, SP_STOP, NULL}, /* completed nothing: what it had */
	{J_SUBMITTED, W_NEW, O_DOWN, DEPLOY_OP_WAIT, NULL, "was submitted"},
	/* FAILED */
	{J_FAILED, W_NEW, O_RUNNING, DEPLOY_OP_NONE, NULL, "failed: it broke"},
	{J_FAILED, W_SAME, O_FAILED, DEPLOY_OP_RESTART, CK_NEW, NULL}, /* not the failed target: a new attempt */
	{J_FAILED_UNKNOWN, W_NEW, O_GONE, DEPLOY_OP_NONE, NULL, "newest state unknown"},
	{J_FAILED_UNKNOWN, W_INITIAL, O_GONE, DEPLOY_OP_KEEP, "file:/sp/chosen", NULL}, /* a human chose */
	{J_FAILED_UNKNOWN, W_INITIAL, O_RUNNING, DEPLOY_OP_NONE, NULL, NULL}, /* not while a job runs */
	/* rollback: a new job that never became healthy runs the previous spec
	 * again, from the state it started from, or anything newer it completed */
	{J_AWAIT_PREV, W_SAME_RB, O_CK_LATE, DEPLOY_OP_ROLLBACK, SP_OLD, "completed no checkpoint within"},
	{J_AWAIT_PREV, W_SAME_RB, O_RESTARTING_LATE, DEPLOY_OP_ROLLBACK, CK_NEW, "is RESTARTING"},
	{J_AWAIT_PREV, W_SAME_RB, O_CK_NONE, DEPLOY_OP_WAIT, NULL, "the first checkpoint"}, /* not yet */
	{J_AWAIT_PREV, W_SAME_RB, O_CK_DONE, DEPLOY_OP_CONFIRM, NULL, NULL},               /* healthy */
	{J_AWAIT_PREV, W_SAME, O_CK_LATE, DEPLOY_OP_FAIL, NULL, "completed no checkpoint"}, /* rollback: off */
	{J_AWAIT, W_SAME_RB, O_CK_LATE, DEPLOY_OP_FAIL, NULL, "completed no checkpoint"},   /* nothing to return to */
	{J_BUDGET_AWAIT_PREV, W_SAME_RB, O_FAILED, DEPLOY_OP_ROLLBACK, CK_NEW, "after 3 restarts: boom"},
	{J_BUDGET_AWAIT_PREV, W_SAME_RB, O_EMPTY_ENDED, DEPLOY_OP_ROLLBACK, SP_OLD, NULL},
	{J_SUB_BUDGET_PREV, W_NEW_RB, O_EMPTY_ENDED, DEPLOY_OP_ROLLBACK, SP_STOP, "after 3 restarts"},
	{J_SUB_BUDGET_PREV, W_NEW_RB, O_FAILED, DEPLOY_OP_ROLLBACK, CK_NEW, NULL},
	{J_SUB_BUDGET_PREV, W_NEW, O_FAILED, DEPLOY_OP_FAIL, NULL, "after 3 restarts"},
	/* the cause is Flink's, whole, whatever words it holds */
	{J_BUDGET_AWAIT_PREV, W_SAME_RB, O_FAILED_SEMI, DEPLOY_OP_ROLLBACK, CK_NEW, "sink closed; it was never opened"},
	{J_SUB_BUDGET_PREV, W_NEW, O_FAILED_SEMI, DEPLOY_OP_FAIL, NULL, "sink closed; it was never opened"},
	/* the rollback runs: the failed job is cancelled, never stopped with a savepoint */
	{J_RB_CANCELLING, W_PREV, O_CANCELLING, DEPLOY_OP_WAIT, NULL, "cancelling"},
	{J_RB_CANCELLING, W_PREV, O_RUNNING, DEPLOY_OP_CANCEL, CK_NEW, NULL}, /* the cancel never arrived */
	{J_RB_CANCELLING, W_PREV, O_EMPTY_ENDED, DEPLOY_OP_KEEP, SP_STOP, NULL},
	{J_RB_CANCELLING, W_PREV, O_CANCELED, DEPLOY_OP_KEEP, CK_NEW, NULL}, /* it completed one meanwhile */
	{J_RB_CANCELLING, W_PREV, O_STALE, DEPLOY_OP_WAIT, NULL, "not available yet"},
	{J_RB_CANCELLING, W_SAME_RB, O_RUNNING, DEPLOY_OP_CANCEL, CK_NEW, NULL}, /* the cancel goes on */
	/* rolled back: settled while git asks for the failed spec */
	{J_RB_IDLE, W_PREV, O_RUNNING, DEPLOY_OP_NONE, NULL, "running"},
	{J_RB_IDLE, W_SAME_RB, O_RUNNING, DEPLOY_OP_WAIT, NULL, "whose spec this pass could not read"},
	{J_RB_IDLE, W_NEW_RB, O_RUNNING, DEPLOY_OP_STOP, NULL, NULL}, /* a new commit: a new attempt */
	{J_RB_AWAIT, W_PREV, O_CK_LATE, DEPLOY_OP_FAIL, NULL, "completed no checkpoint"}, /* no rollback of a rollback */
	/* a new savepointRedeployNonce: from the savepoint a human chose; the
	 * running job's state is still saved by its stop (savepoint mode) */
	{J_IDLE, W_REDEPLOY, O_RUNNING, DEPLOY_OP_STOP, NULL, NULL},
	{J_STOPPING, W_REDEPLOY, O_FINISHED_SP, DEPLOY_OP_KEEP, "file:/sp/chosen", NULL},
	{J_IDLE, W_REDEPLOY, O_FAILED, DEPLOY_OP_KEEP, "file:/sp/chosen", NULL},
	{J_IDLE, W_REDEPLOY_LS, O_RUNNING, DEPLOY_OP_CANCEL, "file:/sp/chosen", NULL},
	{J_CANCELLING_INITIAL, W_REDEPLOY_LS, O_CANCELED, DEPLOY_OP_KEEP, "file:/sp/chosen", NULL}, /* not CK_NEW */
	{J_REDEPLOYED, W_REDEPLOY, O_RUNNING, DEPLOY_OP_NONE, NULL, "running"}, /* answered: once */
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		deploy_journal j;
		deploy_desired d;
		deploy_observed o;
		deploy_next n;
		journal(r->j, &j);
		desired(r->w, &d);
		observe(r->o, &o);
		deploy_next_step(&d, &j, &o, &n);
		if (n.op != r->op)
			fail_msg("row %zu (journal %d, want %d, obs %d): got %s, want %s (%s)", i, r->j, r->w, r->o,
				 deploy_op_name(n.op), deploy_op_name(r->op), n.why ? n.why : "");
		if (r->restore) {
			const char *want = strcmp(r->restore, "-") == 0 ? NULL : r->restore;
			if (!fo_streq(n.restore, want))
				fail_msg("row %zu: restore %s, want %s", i, n.restore ? n.restore : "(none)",
					 want ? want : "(none)");
		}
		/* a rollback's reason is the cause only: the advice for a job left as it is does not apply */
		if (n.op == DEPLOY_OP_ROLLBACK && n.why && (strstr(n.why, "left to Flink") || strstr(n.why, "keeps running")))
			fail_msg("row %zu: rollback why \"%s\" carries the advice", i, n.why);
		if (r->why && !(n.why && strstr(n.why, r->why)))
			fail_msg("row %zu: why \"%s\" lacks \"%s\"", i, n.why ? n.why : "", r->why);
		/* the RestartBudgetExhausted Event, not UpgradeFailed: only when the budget is what ran out */
		bool budget = r->j == J_BUDGET || r->j == J_BUDGET_AWAIT_PREV || r->j == J_SUB_BUDGET_PREV;
		if ((n.failure == DEPLOY_FAILURE_RESTART_BUDGET) !=
		    ((n.op == DEPLOY_OP_FAIL || n.op == DEPLOY_OP_ROLLBACK) && budget))
			fail_msg("row %zu: failure %d", i, (int)n.failure);
		deploy_next_clear(&n);
		deploy_journal_clear(&j);
	}
}

/* Each way a rollout gives up names its reason (the agent counts them). */
static void test_failure_reasons(void **state)
{
	(void)state;
	static const struct {
		enum jr j;
		enum want w;
		enum obs o;
		const char *reason;
	} cases[] = {
		{J_IDLE, W_SAME, O_GONE, "state_unknown"},
		{J_STOPPING, W_NEW, O_GONE, "state_unknown"},
		{J_IDLE, W_SAME, O_EMPTY_ENDED, "state_unknown"},
		{J_BUDGET, W_SAME, O_FAILED, "restart_budget"},
		{J_IDLE, W_LAST_STATE, O_RUNNING_NOCK, "no_checkpoint"},
		{J_IDLE, W_NEW, O_RUNNING, "none"}, /* a stop is no failure */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		deploy_journal j;
		deploy_desired d;
		deploy_observed o;
		deploy_next n;
		journal(cases[i].j, &j);
		desired(cases[i].w, &d);
		observe(cases[i].o, &o);
		deploy_next_step(&d, &j, &o, &n);
		if (strcmp(deploy_failure_name(n.failure), cases[i].reason) != 0)
			fail_msg("case %zu: %s with reason %s, want %s", i, deploy_op_name(n.op),
				 deploy_failure_name(n.failure), cases[i].reason);
		deploy_next_clear(&n);
		deploy_journal_clear(&j);
	}
	assert_string_equal(deploy_failure_name(DEPLOY_NFAILURES), "other");
}

/* A savepoint slower than its timeout is waited for, marked late, never
 * abandoned; a completed one is used; a failed one leaves the job running. */
static void test_slow_savepoint(void **state)
{
	(void)state;
	deploy_journal j;
	deploy_desired d;
	deploy_observed o;
	deploy_next n;
	journal(J_STOPPING, &j);
	desired(W_NEW, &d);
	observe(O_RUNNING, &o);
	o.trigger = DEPLOY_TRIGGER_IN_PROGRESS;
	o.step_age_ms = 20 * 60 * 1000;
	deploy_next_step(&d, &j, &o, &n);
	assert_int_equal(n.op, DEPLOY_OP_WAIT);
	assert_true(n.late);
	assert_non_null(strstr(n.why, "past flink.savepointTimeout"));
	deploy_next_clear(&n);
	o.trigger = DEPLOY_TRIGGER_COMPLETED;
	o.trigger_location = SP_STOP;
	o.job = FLINK_JOB_FINISHED;
	deploy_next_step(&d, &j, &o, &n);
	assert_int_equal(n.op, DEPLOY_OP_KEEP);
	assert_string_equal(n.restore, SP_STOP);
	deploy_next_clear(&n);
	observe(O_RUNNING, &o);
	o.trigger = DEPLOY_TRIGGER_FAILED;
	o.trigger_failure = "disk full";
	deploy_next_step(&d, &j, &o, &n);
	assert_int_equal(n.op, DEPLOY_OP_ABORT_STOP);
	assert_non_null(strstr(n.why, "disk full"));
	assert_string_equal(deploy_failure_name(n.failure), "savepoint_failed");
	deploy_next_clear(&n);
	deploy_journal_clear(&j);
}

/* The promise, checked over everything: whatever the journal and the
 * observation, a step that fixes the state to start from (KEEP, CANCEL,
 * RESTART) for a stateful job that had state picks the newest the
 * observation shows, or what a human named — never SP_OLD when something
 * newer was observed, and never empty state. */
static void test_never_older_state(void **state)
{
	(void)state;
	for (int jr = J_NEW; jr <= J_RB_AWAIT; jr++)
		for (int w = W_NEW; w <= W_PREV; w++) /* (a redeploy starts from a human's choice, not the newest) */
			for (int ob = O_DOWN; ob <= O_STALE; ob++)
				for (int trig = DEPLOY_TRIGGER_NONE; trig <= DEPLOY_TRIGGER_UNKNOWN; trig++) {
					deploy_journal j;
					deploy_desired d;
					deploy_observed o;
					deploy_next n;
					journal((enum jr)jr, &j);
					desired((enum want)w, &d);
					observe((enum obs)ob, &o);
					/* (a trigger is observed only when the journal has
					 * one; the others are combinations that cannot occur,
					 * kept as a robustness check) */
					o.trigger = (enum deploy_trigger_obs)trig;
					if (o.trigger == DEPLOY_TRIGGER_COMPLETED)
						o.trigger_location = SP_STOP;
					deploy_next_step(&d, &j, &o, &n);
					bool fixes = n.op == DEPLOY_OP_KEEP || n.op == DEPLOY_OP_CANCEL ||
						     n.op == DEPLOY_OP_RESTART || n.op == DEPLOY_OP_ROLLBACK;
					bool stateful = d.mode != FLINK_UPGRADE_STATELESS || d.suspended || d.deleting;
					bool had_state = j.savepoint_path || j.restore_path;
					if (fixes && stateful && had_state) {
						if (!n.restore)
							fail_msg("journal %d want %d obs %d trigger %d: %s from empty state", jr,
								 w, ob, trig, deploy_op_name(n.op));
						if (fo_streq(n.restore, SP_OLD) && o.flink_ok && o.checkpoints_ok &&
						    (o.newest_path || (o.trigger_location && j.trigger_id)) &&
						    jr != J_SUSPENDED)
							fail_msg("journal %d want %d obs %d trigger %d: %s from the older %s",
								 jr, w, ob, trig, deploy_op_name(n.op), SP_OLD);
					}
					/* a failure always says why, and only a failure does */
					bool failing = n.op == DEPLOY_OP_FAIL || n.op == DEPLOY_OP_ABORT_STOP ||
						       n.op == DEPLOY_OP_ROLLBACK;
					if (failing != (n.failure != DEPLOY_FAILURE_NONE))
						fail_msg("journal %d want %d obs %d trigger %d: %s with failure %s", jr, w, ob,
							 trig, deploy_op_name(n.op), deploy_failure_name(n.failure));
					/* an unreachable Flink is never acted on */
					if (!o.flink_ok && (n.op == DEPLOY_OP_STOP || n.op == DEPLOY_OP_RESTOP ||
							    n.op == DEPLOY_OP_CANCEL || n.op == DEPLOY_OP_RUN ||
							    n.op == DEPLOY_OP_UPLOAD || n.op == DEPLOY_OP_RECORD))
						fail_msg("journal %d want %d: %s while Flink does not answer", jr, w,
							 deploy_op_name(n.op));
					deploy_next_clear(&n);
					deploy_journal_clear(&j);
				}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_slow_savepoint),
		cmocka_unit_test(test_failure_reasons),
		cmocka_unit_test(test_never_older_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
