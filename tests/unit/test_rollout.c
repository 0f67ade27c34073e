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
	O_CKR_PROGRESS, /* the job runs; the requested checkpoint is in progress */
	O_CKR_DONE,     /* the job runs; the requested checkpoint completed at CK_REQ */
	O_CKR_FAILED,   /* the job runs; the requested checkpoint failed */
	O_CKR_OLD,      /* the job runs; the newest checkpoint flinkops asked for is 2 minutes old */
	O_CKR_NOPATH,   /* the requested checkpoint completed 1 s ago; Flink does not list its path yet */
	O_CKR_NOPATH_LATE, /* the same, 40 s after the request */
	O_LAST = O_CKR_NOPATH_LATE,
};
#define CK_REQ "file:/ck/chk-9"
#define SP_REQ "file:/sp/savepoint-req"

static void observe(enum obs kind, deploy_observed *o)
{
	memset(o, 0, sizeof(*o));
	o->now_s = 1796590830; /* 2026-12-06T21:00:30Z */
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
	case O_CKR_PROGRESS:
	case O_CKR_DONE:
	case O_CKR_FAILED:
	case O_CKR_NOPATH:
	case O_CKR_NOPATH_LATE:
		o->job = FLINK_JOB_RUNNING;
		o->ck_request = kind == O_CKR_PROGRESS ? DEPLOY_TRIGGER_IN_PROGRESS
			      : kind == O_CKR_FAILED   ? DEPLOY_TRIGGER_FAILED
						       : DEPLOY_TRIGGER_COMPLETED;
		o->ck_request_location = kind == O_CKR_DONE ? CK_REQ
				       : kind == O_CKR_NOPATH || kind == O_CKR_NOPATH_LATE ? "checkpoint 9"
											    : NULL;
		o->ck_request_path_known = kind == O_CKR_DONE;
		o->ck_request_failure = kind == O_CKR_FAILED ? "declined" : NULL;
		o->ck_request_age_ms = kind == O_CKR_NOPATH_LATE ? 40000 : 1000;
		break;
	case O_CKR_OLD:
		o->job = FLINK_JOB_RUNNING;
		o->checkpoint_age_ms = 120000;
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
	/* as observe() in rollout.c: statistics that were not read say nothing */
	if (!o->checkpoints_ok) {
		o->newest_path = o->restored_path = NULL;
		o->newest_is_savepoint = false;
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
	/* journals that name targets (the whole rendered target, not only the
	 * job hash): the job at T_OLD ran; T_NEW's start is in flight from the
	 * upgrade's savepoint SP_STOP (recorded as savepointPath) */
	J_APPLIED_T,
	J_UPLOADED_T,
	J_SUBMITTED_T,
	J_SUB_BUDGET_T,    /* the same, its restart budget spent */
	J_FAILED_T,        /* failed at T_NEW (job hash H_NEW); the T_OLD job runs */
	J_RB_IDLE_T,       /* rolled back: T_PREV runs again; git's T_NEW (H_NEW) failed */
	J_SUSPENDED_CK,    /* suspended after the job had ended: resumes from CK_NEW, savepoint SP_OLD older */
	J_TAKEN_SP,        /* SAVEPOINT_TAKEN from the stop's SP_STOP, which is savepointPath */
	J_CANCELLING_T,    /* a last-state upgrade to T_NEW: the T_OLD job cancelled, restore CK_OLD chosen */
	J_CK_REQUEST,      /* job at H_OLD, a manual checkpoint for nonce 9 requested */
	J_CK_HANDLED,      /* job at H_OLD, checkpoint nonce 9 answered */
	J_LAST = J_CK_HANDLED,
};
#define T_OLD "told"
#define T_NEW "tnew"
#define T_PREV "tprev"
#define T_FIX "tfix"   /* H_NEW's job with other memory: a new target, the same job hash */
#define H_NEW2 "hnew2"
#define T_NEW2 "tnew2" /* a fix commit with another job */
#define CK_OLD "file:/ck/chk-5"
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
	case J_CK_REQUEST:
		deploy_journal_set(&j->checkpoint_trigger_id, "0000000000000000000000000000000c");
		deploy_journal_set(&j->checkpoint_reason, "manual");
		deploy_journal_set(&j->checkpoint_nonce, "9");
		break;
	case J_CK_HANDLED:
		deploy_journal_set(&j->handled_checkpoint_nonce, "9");
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
	case J_APPLIED_T:
	case J_UPLOADED_T:
	case J_SUBMITTED_T:
	case J_SUB_BUDGET_T:
		j->step = kind == J_APPLIED_T ? DEPLOY_STEP_APPLIED : kind == J_UPLOADED_T ? DEPLOY_STEP_UPLOADED
											    : DEPLOY_STEP_SUBMITTED;
		deploy_journal_set(&j->target_hash, T_OLD);
		deploy_journal_set(&j->start_hash, T_NEW);
		deploy_journal_set(&j->savepoint_path, SP_STOP);
		deploy_journal_set(&j->restore_path, SP_STOP);
		deploy_journal_set(&j->restore_kind, "savepoint");
		if (kind != J_APPLIED_T)
			deploy_journal_set(&j->jar_id, "j.jar");
		if (kind == J_SUBMITTED_T || kind == J_SUB_BUDGET_T)
			deploy_journal_set(&j->submit_job_id, "00000000000000000000000000000002");
		j->restarts = kind == J_SUB_BUDGET_T ? 3 : 0;
		break;
	case J_FAILED_T:
		j->step = DEPLOY_STEP_FAILED;
		deploy_journal_set(&j->target_hash, T_OLD);
		deploy_journal_set(&j->failed_job_hash, H_NEW);
		deploy_journal_set(&j->failed_hash, T_NEW);
		deploy_journal_set(&j->last_error, "it broke");
		break;
	case J_RB_IDLE_T:
		deploy_journal_set(&j->target_job_hash, H_PREV);
		deploy_journal_set(&j->target_hash, T_PREV);
		deploy_journal_set(&j->rollback_of_hash, H_NEW);
		deploy_journal_set(&j->rollback_of_target, T_NEW);
		deploy_journal_set(&j->failed_job_hash, H_NEW);
		deploy_journal_set(&j->failed_hash, T_NEW);
		deploy_journal_set(&j->rollback_of_commit, C_FAIL);
		deploy_journal_set(&j->rollback_to_commit, C_PREV);
		break;
	case J_SUSPENDED_CK:
		deploy_journal_set(&j->job_id, NULL);
		deploy_journal_set(&j->restore_path, CK_NEW);
		deploy_journal_set(&j->restore_kind, "checkpoint");
		break;
	case J_TAKEN_SP:
		j->step = DEPLOY_STEP_SAVEPOINT_TAKEN;
		deploy_journal_set(&j->target_hash, T_OLD);
		deploy_journal_set(&j->savepoint_path, SP_STOP);
		deploy_journal_set(&j->restore_path, SP_STOP);
		deploy_journal_set(&j->restore_kind, "savepoint");
		break;
	case J_CANCELLING_T:
		j->step = DEPLOY_STEP_CANCELLING;
		deploy_journal_set(&j->target_hash, T_OLD);
		deploy_journal_set(&j->restore_path, CK_OLD);
		deploy_journal_set(&j->restore_kind, "checkpoint");
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
	W_FIX,      /* git's H_NEW job with other memory (target T_FIX), rollback on */
	W_FIX2,     /* a fix commit with another job: H_NEW2 (T_NEW2) */
	W_REVERT,   /* git's C_PREV spec again (H_PREV, T_PREV), by a revert: not a rollback's */
	W_NEW_T_RB, /* git's H_NEW (T_NEW), rollback on */
	W_CRON_DUE, /* git's H_OLD, periodic savepoints at minute 59 of every hour (due since 20:59) */
	W_CRON_LATER, /* git's H_OLD, periodic savepoints at minute 30 of every hour (next at 21:30) */
	W_CK_NONCE,   /* git's H_OLD with checkpointTriggerNonce 9 */
	W_CK_PERIODIC, /* git's H_OLD, periodic checkpoints every minute */
	W_CK_CRON,    /* git's H_OLD, periodic checkpoints at minute 59 of every hour */
	W_SUSPEND_SL, /* suspended, stateless, no savepoint directory named */
	W_DELETE_SL,  /* gone from git, the journal says stateless and no savepoint directory */
	W_DELETE_SL_DIR, /* gone from git, stateless, a savepoint directory named */
	W_LAST = W_DELETE_SL_DIR,
};

static void desired(enum want kind, deploy_desired *d)
{
	memset(d, 0, sizeof(*d));
	d->job_hash = kind == W_SAME || kind == W_NONCE || kind == W_PERIODIC || kind == W_CRON_DUE ||
				      kind == W_CRON_LATER || kind == W_CK_NONCE || kind == W_CK_PERIODIC ||
				      kind == W_CK_CRON
			      ? H_OLD
			      : H_NEW;
	d->checkpoint_nonce = kind == W_CK_NONCE ? 9 : 0;
	d->periodic_checkpoint_ms = kind == W_CK_PERIODIC ? 60000 : 0;
	static flink_cron at59, at30;
	char *why = NULL;
	assert_int_equal(flink_cron_parse("0 59 * * * ?", &at59, &why), 0);
	assert_int_equal(flink_cron_parse("0 30 * * * ?", &at30, &why), 0);
	d->periodic_cron = kind == W_CRON_DUE ? &at59 : kind == W_CRON_LATER ? &at30 : NULL;
	d->periodic_checkpoint_cron = kind == W_CK_CRON ? &at59 : NULL;
	d->savepoint_nonce = kind == W_NONCE ? 7 : 0;
	d->periodic_savepoint_ms = kind == W_PERIODIC ? 60000 : 0;
	d->mode = kind == W_LAST_STATE ? FLINK_UPGRADE_LAST_STATE
		: kind == W_STATELESS  ? FLINK_UPGRADE_STATELESS
				       : FLINK_UPGRADE_SAVEPOINT;
	d->suspended = kind == W_SUSPEND || kind == W_SUSPEND_SL;
	d->deleting = kind == W_DELETE || kind == W_DELETE_SL || kind == W_DELETE_SL_DIR;
	if (kind == W_SUSPEND_SL || kind == W_DELETE_SL || kind == W_DELETE_SL_DIR)
		d->mode = FLINK_UPGRADE_STATELESS;
	d->savepoint_dir = kind != W_SUSPEND_SL && kind != W_DELETE_SL;
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
	if (kind == W_FIX2)
		d->job_hash = H_NEW2;
	if (kind == W_REVERT)
		d->job_hash = H_PREV;
	d->rollback = d->rollback || kind == W_FIX || kind == W_NEW_T_RB || kind == W_REVERT;
	/* the whole target follows the job hash, but where a preset changes
	 * the pods alone (W_PODS) or memory alone (W_FIX) */
	d->target = kind == W_PODS ? "tpods"
		  : kind == W_FIX  ? T_FIX
		  : fo_streq(d->job_hash, H_OLD) ? T_OLD
		  : fo_streq(d->job_hash, H_PREV) ? T_PREV
		  : fo_streq(d->job_hash, H_NEW2) ? T_NEW2
						  : T_NEW;
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
	/* a cron schedule: due once it fired since the newest savepoint (2 minutes ago, at 20:58:30) */
	{J_IDLE, W_CRON_DUE, O_SP_OLD, DEPLOY_OP_SAVEPOINT, NULL, "periodic"},
	{J_IDLE, W_CRON_LATER, O_SP_OLD, DEPLOY_OP_NONE, NULL, "running"},
	{J_IDLE, W_CRON_DUE, O_RUNNING, DEPLOY_OP_NONE, NULL, "running"}, /* a savepoint just now */
	{J_REQUEST, W_CRON_DUE, O_REQ_PROGRESS, DEPLOY_OP_WAIT, NULL, "savepoint of job"},
	{J_IDLE, W_CRON_DUE, O_DOWN, DEPLOY_OP_WAIT, NULL, "does not answer"},
	/* checkpoints asked of the running job: a new nonce, the periodic interval or schedule */
	{J_IDLE, W_CK_NONCE, O_RUNNING, DEPLOY_OP_CHECKPOINT, NULL, "manual"},
	{J_CK_HANDLED, W_CK_NONCE, O_RUNNING, DEPLOY_OP_NONE, NULL, "running"},
	{J_AWAIT, W_CK_NONCE, O_CK_NONE, DEPLOY_OP_WAIT, NULL, "the first checkpoint"}, /* healthy first */
	{J_CK_REQUEST, W_CK_NONCE, O_CKR_PROGRESS, DEPLOY_OP_WAIT, NULL, "the manual checkpoint of job"},
	{J_CK_REQUEST, W_CK_NONCE, O_CKR_DONE, DEPLOY_OP_CHECKPOINT_DONE, CK_REQ, NULL},
	{J_CK_REQUEST, W_CK_NONCE, O_CKR_FAILED, DEPLOY_OP_CHECKPOINT_DONE, "-", "failed: declined; the job keeps running"},
	/* Flink's details lag the trigger's status: the path is waited for, then the id alone recorded */
	{J_CK_REQUEST, W_CK_NONCE, O_CKR_NOPATH, DEPLOY_OP_WAIT, NULL, "checkpoint 9 of job"},
	{J_CK_REQUEST, W_CK_NONCE, O_CKR_NOPATH_LATE, DEPLOY_OP_CHECKPOINT_DONE, "checkpoint 9", NULL},
	{J_CK_REQUEST, W_CK_NONCE, O_RUNNING, DEPLOY_OP_CHECKPOINT, NULL, "manual"}, /* never arrived: again */
	{J_CK_REQUEST, W_NEW, O_CKR_PROGRESS, DEPLOY_OP_STOP, NULL, NULL},        /* an upgrade does not wait */
	{J_CK_REQUEST, W_SUSPEND, O_CKR_PROGRESS, DEPLOY_OP_STOP, NULL, NULL},    /* nor a suspend */
	{J_CK_REQUEST, W_DELETE, O_CKR_PROGRESS, DEPLOY_OP_STOP, NULL, NULL},     /* nor a delete */
	{J_IDLE, W_NONCE, O_CKR_OLD, DEPLOY_OP_SAVEPOINT, NULL, "manual"},        /* a savepoint request first */
	{J_IDLE, W_CK_PERIODIC, O_CKR_OLD, DEPLOY_OP_CHECKPOINT, NULL, "periodic"},
	{J_IDLE, W_CK_PERIODIC, O_RUNNING, DEPLOY_OP_NONE, NULL, "running"},
	{J_IDLE, W_CK_CRON, O_CKR_OLD, DEPLOY_OP_CHECKPOINT, NULL, "periodic"},
	{J_IDLE, W_CK_CRON, O_RUNNING, DEPLOY_OP_NONE, NULL, "running"},
	{J_IDLE, W_CK_PERIODIC, O_DOWN, DEPLOY_OP_WAIT, NULL, "does not answer"},
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
	/* ... but a stateless job with nowhere to put a savepoint is cancelled (else it never ends) */
	{J_IDLE, W_SUSPEND_SL, O_RUNNING, DEPLOY_OP_CANCEL, CK_NEW, NULL}, /* its newest state recorded */
	{J_IDLE, W_DELETE_SL, O_RUNNING, DEPLOY_OP_CANCEL, CK_NEW, NULL},
	{J_IDLE, W_DELETE_SL, O_RUNNING_NOCK, DEPLOY_OP_CANCEL, "-", NULL},    /* it never had state */
	{J_IDLE, W_DELETE_SL_DIR, O_RUNNING, DEPLOY_OP_STOP, NULL, NULL},
	{J_IDLE, W_DELETE_SL, O_DOWN, DEPLOY_OP_WAIT, NULL, "cannot be stopped"},
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
	/* deleting: the state kept is recorded (as savepointPath, which the
	 * status file shows) before the objects may go */
	{J_TAKEN, W_DELETE, O_DOWN, DEPLOY_OP_KEEP, SP_STOP, NULL},
	{J_TAKEN_SP, W_DELETE, O_DOWN, DEPLOY_OP_NONE, NULL, "objects can go"},
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
	/* issue 20.1: a start in flight meets a delete or a suspend: nothing of
	 * it runs; its state is kept (recorded first when it is not yet) */
	{J_APPLIED_T, W_DELETE, O_RUNNING, DEPLOY_OP_NONE, NULL, "objects can go"},
	{J_UPLOADED_T, W_DELETE, O_GONE, DEPLOY_OP_NONE, NULL, "objects can go"},
	{J_UPLOADED, W_DELETE, O_GONE, DEPLOY_OP_KEEP, SP_STOP, NULL}, /* an older journal: SP_STOP recorded first */
	{J_SUBMITTED_T, W_DELETE, O_GONE, DEPLOY_OP_NONE, NULL, "objects can go"}, /* its main() threw */
	{J_SUBMITTED, W_DELETE, O_GONE, DEPLOY_OP_KEEP, SP_STOP, NULL},
	{J_SUBMITTED_T, W_DELETE, O_RUNNING, DEPLOY_OP_ADOPT, NULL, NULL}, /* then stopped with a savepoint */
	{J_SUBMITTED_T, W_DELETE, O_RESTARTING_LATE, DEPLOY_OP_CANCEL, CK_NEW, NULL},
	{J_SUBMITTED_T, W_DELETE, O_FAILED, DEPLOY_OP_KEEP, CK_NEW, NULL},
	{J_SUBMITTED_T, W_DELETE, O_EMPTY_ENDED, DEPLOY_OP_KEEP, SP_STOP, NULL},
	{J_SUBMITTED_T, W_DELETE, O_FAILED_FRESH, DEPLOY_OP_WAIT, NULL, "not available yet"},
	{J_SUBMITTED_T, W_DELETE, O_DOWN, DEPLOY_OP_WAIT, NULL, NULL},
	{J_UPLOADED_T, W_SUSPEND, O_GONE, DEPLOY_OP_SUSPEND, NULL, NULL},
	{J_SUBMITTED_T, W_SUSPEND, O_GONE, DEPLOY_OP_SUSPEND, NULL, NULL},
	{J_SUBMITTED_T, W_SUSPEND, O_RUNNING, DEPLOY_OP_ADOPT, NULL, NULL},
	{J_SUBMITTED, W_SUSPEND, O_GONE, DEPLOY_OP_SUSPEND, NULL, NULL},
	/* a suspend keeps the state it fixed: the resume starts from it, not
	 * from an older savepoint */
	{J_SUSPENDED_CK, W_NEW, O_DOWN, DEPLOY_OP_KEEP, CK_NEW, NULL},
	{J_SUSPENDED_CK, W_DELETE, O_DOWN, DEPLOY_OP_KEEP, CK_NEW, NULL}, /* recorded before the objects go */
	/* issue 20.2: a fix commit while a start is in flight: the fix is applied;
	 * the stale submission is never run, recorded or charged to it */
	{J_APPLIED_T, W_FIX2, O_GONE, DEPLOY_OP_APPLY, NULL, NULL},
	{J_UPLOADED_T, W_FIX2, O_GONE, DEPLOY_OP_APPLY, NULL, NULL},
	{J_UPLOADED_T, W_NEW, O_GONE, DEPLOY_OP_RUN, NULL, NULL},
	{J_SUBMITTED_T, W_FIX2, O_GONE, DEPLOY_OP_APPLY, NULL, NULL},
	{J_SUBMITTED_T, W_NEW, O_GONE, DEPLOY_OP_RUN, NULL, NULL},
	{J_SUBMITTED_T, W_FIX2, O_RUNNING, DEPLOY_OP_ADOPT, NULL, NULL},
	{J_SUBMITTED_T, W_NEW, O_RUNNING, DEPLOY_OP_RECORD, NULL, NULL},
	{J_SUBMITTED_T, W_FIX2, O_FAILED, DEPLOY_OP_KEEP, CK_NEW, NULL},
	{J_SUB_BUDGET_T, W_FIX2, O_FAILED, DEPLOY_OP_KEEP, CK_NEW, NULL},
	{J_SUB_BUDGET_T, W_NEW, O_FAILED, DEPLOY_OP_FAIL, NULL, "after 3 restarts"},
	{J_SUBMITTED_T, W_FIX2, O_STARTING, DEPLOY_OP_CANCEL, CK_NEW, NULL},
	{J_SUBMITTED_T, W_FIX2, O_EMPTY_ENDED, DEPLOY_OP_KEEP, SP_STOP, NULL},
	/* a cancel that never arrived at a job that does not run: cancelled again */
	{J_CANCELLING_T, W_LAST_STATE, O_RESTARTING_LATE, DEPLOY_OP_CANCEL, CK_NEW, NULL},
	{J_CANCELLING_T, W_LAST_STATE, O_RUNNING, DEPLOY_OP_CANCEL, CK_NEW, NULL},
	/* issue 20.6: failures and rollbacks are keyed on the whole target */
	{J_FAILED_T, W_NEW, O_RUNNING, DEPLOY_OP_NONE, NULL, "failed: it broke"},
	{J_FAILED_T, W_FIX, O_RUNNING, DEPLOY_OP_STOP, NULL, NULL},  /* memory alone changed: a new attempt */
	{J_FAILED, W_FIX, O_RUNNING, DEPLOY_OP_NONE, NULL, "failed"}, /* an older journal knows job hashes only */
	{J_RB_IDLE_T, W_FIX, O_RUNNING, DEPLOY_OP_STOP, NULL, NULL},  /* the fix runs */
	{J_RB_IDLE_T, W_NEW_T_RB, O_RUNNING, DEPLOY_OP_WAIT, NULL, "whose spec this pass could not read"},
	{J_RB_IDLE_T, W_REVERT, O_RUNNING, DEPLOY_OP_FORGET_ROLLBACK, NULL, NULL}, /* a revert clears it */
	{J_RB_IDLE_T, W_PREV, O_RUNNING, DEPLOY_OP_NONE, NULL, "running"},         /* the rollback's own spec */
	{J_RB_IDLE, W_REVERT, O_RUNNING, DEPLOY_OP_FORGET_ROLLBACK, NULL, NULL},
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
		bool budget = r->j == J_BUDGET || r->j == J_BUDGET_AWAIT_PREV || r->j == J_SUB_BUDGET_PREV || r->j == J_SUB_BUDGET_T;
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

/* Whether the journal names a job the pass would observe: the job that
 * runs, or during SUBMITTED the submission. Without one, observe() asks
 * Flink about no job, and the sweep's observation says so. */
static bool observes_a_job(const deploy_journal *j)
{
	return j->step == DEPLOY_STEP_SUBMITTED ? j->submit_job_id != NULL : j->job_id != NULL;
}

/*
 * The observation reads the checkpoint statistics only where
 * deploy_reads_checkpoints says; with them unread, as the executor leaves
 * them, no decision waits for them (it would wait for ever: a delete of a
 * stateless job once did). Every journal, desired and observation preset.
 */
static void test_checkpoints_read_when_needed(void **state)
{
	(void)state;
	size_t unread = 0;
	for (int jr = J_NEW; jr <= J_LAST; jr++)
		for (int w = W_NEW; w <= W_LAST; w++)
			for (int ob = O_DOWN; ob <= O_LAST; ob++) {
				deploy_journal j;
				deploy_desired d;
				deploy_observed o;
				deploy_next n;
				journal((enum jr)jr, &j);
				desired((enum want)w, &d);
				observe((enum obs)ob, &o);
				if (!o.flink_ok || deploy_reads_checkpoints(&d, &j, &o)) {
					deploy_journal_clear(&j);
					continue;
				}
				o.checkpoints_ok = false;
				o.newest_path = NULL;
				o.newest_is_savepoint = false;
				unread++;
				deploy_next_step(&d, &j, &o, &n);
				if (n.op == DEPLOY_OP_WAIT && n.why && strstr(n.why, "could not be read"))
					fail_msg("journal %d want %d obs %d: waits on checkpoints it never reads: %s", jr, w, ob,
						 n.why);
				deploy_next_clear(&n);
				deploy_journal_clear(&j);
			}
	assert_true(unread > 100);
}

/* The newest state the observation shows that the next job must start
 * from: the savepoint a stop completed, else the newest checkpoint or
 * savepoint of the observed job, once its statistics are readable. NULL
 * when nothing newer than what the journal fixed was observed. */
static const char *newest_observed(const deploy_journal *j, const deploy_observed *o)
{
	/* from SAVEPOINT_TAKEN to UPLOADED the state is fixed, and the old
	 * job it came from is over: nothing observed of it is newer */
	if (!o->flink_ok || j->step == DEPLOY_STEP_SAVEPOINT_TAKEN || j->step == DEPLOY_STEP_APPLIED ||
	    j->step == DEPLOY_STEP_UPLOADED)
		return NULL;
	if (j->step == DEPLOY_STEP_STOPPING && j->trigger_id && o->trigger == DEPLOY_TRIGGER_COMPLETED)
		return o->trigger_location;
	if (o->job_known && o->checkpoints_ok && o->newest_path)
		return o->newest_path;
	return NULL;
}

/*
 * The promises, checked over everything: every journal preset (every step,
 * old and new formats) x every desired preset (present, suspended,
 * deleting, a changed target, a fix, a revert, a redeploy) x every
 * observation preset x every trigger observation.
 *   - A step that fixes the state to start from (KEEP, CANCEL, RESTART,
 *     ROLLBACK) for a stateful job picks exactly the newest state observed
 *     (the stop's savepoint, else the job's newest checkpoint); when
 *     nothing newer was observed, what the journal fixed (restorePath, else
 *     savepointPath) or what the job started from — never an older
 *     recorded savepoint, never empty state when there was state; only a
 *     human's choice (a redeploy, a new initialSavepointPath after an
 *     unknown state) may differ.
 *   - Nothing acts on a FlinkDeployment that is gone from git, and a
 *     suspended one runs nothing.
 *   - A start in flight for another target is never completed, and nothing
 *     of it is charged to the new target (no restart, no budget failure,
 *     no rollback).
 *   - A failure always says why, only a failure does, and an unreachable
 *     Flink is never acted on.
 */
static void test_sweep(void **state)
{
	(void)state;
	size_t checked = 0;
	/* path 0: a session cluster; 1: an application cluster whose journal
	 * names its applied start; 2: one applied by an older flinkops (no
	 * start journaled), whose JobManager runs a job no journal names */
	for (int path = 0; path <= 2; path++)
	for (int jr = J_NEW; jr <= J_LAST; jr++)
		for (int w = W_NEW; w <= W_LAST; w++)
			for (int ob = O_DOWN; ob <= O_LAST; ob++)
				for (int trig = DEPLOY_TRIGGER_NONE; trig <= DEPLOY_TRIGGER_UNKNOWN; trig++) {
					deploy_journal j;
					deploy_desired d;
					deploy_observed o;
					deploy_next n;
					journal((enum jr)jr, &j);
					desired((enum want)w, &d);
					observe((enum obs)ob, &o);
					d.application = path > 0;
					if (path == 1)
						deploy_journal_set(&j.applied_job_id, "00000000000000000000000000000002");
					if (path == 2 && o.flink_ok)
						o.unjournaled_job = "0000000000000000000000000000000f";
					o.trigger = (enum deploy_trigger_obs)trig;
					if (o.trigger == DEPLOY_TRIGGER_COMPLETED)
						o.trigger_location = SP_STOP;
					if (o.flink_ok && !observes_a_job(&j)) {
						/* no job to ask Flink about */
						o.job_known = false;
						o.checkpoints_ok = false;
						o.newest_path = o.restored_path = NULL;
						o.trigger = DEPLOY_TRIGGER_NONE;
					}
					deploy_next_step(&d, &j, &o, &n);
					checked++;
					char where[160];
					snprintf(where, sizeof(where), "path %d journal %d want %d obs %d trigger %d: %s%s%s", path,
						 jr, w, ob, trig, deploy_op_name(n.op), n.why ? ": " : "", n.why ? n.why : "");
					/* an application cluster: no jar goes over REST, and its
					 * JobManager is only told to run a job it was applied with */
					if (d.application && (n.op == DEPLOY_OP_UPLOAD ||
							      (n.op == DEPLOY_OP_RUN && j.step != DEPLOY_STEP_APPLIED)))
						fail_msg("%s: an application cluster's step", where);
					/* a job its JobManager runs that no journal names is
					 * recorded before anything replaces its pods */
					if (path == 2 && o.flink_ok && n.op != DEPLOY_OP_ADOPT && n.op != DEPLOY_OP_WAIT)
						fail_msg("%s: the unjournaled job is not adopted first", where);
					/* an application JobManager that answers may still start its
					 * job: its pods are not replaced under it within runningTimeout */
					if (path == 1 && j.step == DEPLOY_STEP_SUBMITTED && o.flink_ok && !o.job_known &&
					    (n.op == DEPLOY_OP_SUSPEND || n.op == DEPLOY_OP_NONE ||
					     (n.op == DEPLOY_OP_APPLY && o.objects_current)))
						fail_msg("%s: the start in flight is replaced before it showed", where);
					bool fixes = n.op == DEPLOY_OP_KEEP || n.op == DEPLOY_OP_CANCEL ||
						     n.op == DEPLOY_OP_RESTART || n.op == DEPLOY_OP_ROLLBACK;
					bool stateful = d.mode != FLINK_UPGRADE_STATELESS || d.suspended || d.deleting;
					bool had_state = j.savepoint_path || j.restore_path;
					bool human = w == W_REDEPLOY || w == W_REDEPLOY_LS || fo_streq(j.restore_kind, "initial") ||
						     (j.state_unknown && d.initial_savepoint &&
						      fo_streq(n.restore, d.initial_savepoint)) ||
						     (!had_state && !observes_a_job(&j));
					/* a stateless job with nowhere to put a savepoint is
					 * cancelled on suspend and delete: its newest state is
					 * recorded when it has one, none when it ran from empty */
					bool keeps_none = d.mode == FLINK_UPGRADE_STATELESS && !d.savepoint_dir &&
							  (d.suspended || d.deleting);
					if (fixes && stateful && !human) {
						const char *newest = newest_observed(&j, &o);
						if (had_state && !n.restore && !keeps_none)
							fail_msg("%s: from empty state", where);
						if (newest && !fo_streq(n.restore, newest))
							fail_msg("%s: restore %s, but %s is newer", where,
								 n.restore ? n.restore : "(empty)", newest);
						if (!newest && n.restore) {
							/* nothing newer observed: what the journal fixed, or
							 * what the job started from */
							const char *fixed = j.restore_path ? j.restore_path : j.savepoint_path;
							bool ok = fo_streq(n.restore, fixed) ||
								  (o.job_known && fo_streq(n.restore, o.restored_path)) ||
								  fo_streq(n.restore, j.started_from);
							if (!ok)
								fail_msg("%s: restore %s, not the newest state known (%s)", where,
									 n.restore, fixed ? fixed : "none");
						}
					}
					/* nothing acts on a deployment gone from git */
					if (d.deleting && (deploy_op_acts_on_spec(n.op) || n.op == DEPLOY_OP_FORGET_ROLLBACK))
						fail_msg("%s: while deleting", where);
					/* a suspended deployment runs nothing */
					if (d.suspended && (n.op == DEPLOY_OP_UPLOAD || n.op == DEPLOY_OP_RUN || n.op == DEPLOY_OP_RECORD ||
							    n.op == DEPLOY_OP_APPLY || n.op == DEPLOY_OP_RESTART ||
							    n.op == DEPLOY_OP_SAVEPOINT || n.op == DEPLOY_OP_CHECKPOINT ||
							    n.op == DEPLOY_OP_ROLLBACK))
						fail_msg("%s: while suspended", where);
					/* a start in flight for another target: never completed,
					 * nothing of it charged to the new one */
					if (j.start_hash && !fo_streq(j.start_hash, d.target) &&
					    (n.op == DEPLOY_OP_UPLOAD || n.op == DEPLOY_OP_RUN || n.op == DEPLOY_OP_RECORD ||
					     n.op == DEPLOY_OP_RESTART || n.op == DEPLOY_OP_ROLLBACK ||
					     n.failure == DEPLOY_FAILURE_RESTART_BUDGET))
						fail_msg("%s: a step of target %s while git asks for %s", where, j.start_hash,
							 d.target);
					/* a failure always says why, and only a failure does */
					bool failing = n.op == DEPLOY_OP_FAIL || n.op == DEPLOY_OP_ABORT_STOP ||
						       n.op == DEPLOY_OP_ROLLBACK;
					if (failing != (n.failure != DEPLOY_FAILURE_NONE))
						fail_msg("%s: failure %s", where, deploy_failure_name(n.failure));
					/* an unreachable Flink is never acted on */
					if (!o.flink_ok && (n.op == DEPLOY_OP_STOP || n.op == DEPLOY_OP_RESTOP ||
							    n.op == DEPLOY_OP_CANCEL || n.op == DEPLOY_OP_RUN ||
							    n.op == DEPLOY_OP_UPLOAD || n.op == DEPLOY_OP_RECORD ||
							    n.op == DEPLOY_OP_ADOPT || n.op == DEPLOY_OP_RESTART))
						fail_msg("%s: while Flink does not answer", where);
					deploy_next_clear(&n);
					deploy_journal_clear(&j);
				}
	/* the sweep is exhaustive by construction; a preset list that shrank
	 * would make it vacuous */
	assert_true(checked >= (size_t)(J_LAST + 1) * (W_LAST + 1) * (O_LAST + 1) * 5 * 3);
	assert_true(J_LAST >= 32 && W_LAST >= 18 && O_LAST >= 23);
}

/* Application clusters (issue 21): the JobManager runs the job it was
 * applied with, so the path differs from a session cluster's only where a
 * jar would be uploaded and run, and where a job may not show yet. */
static void test_application(void **state)
{
	(void)state;
	static const struct {
		enum jr j;
		enum want w;
		enum obs o;
		int tweak; /* 1: no slots; 2: past runningTimeout; 3: objects not current; 4: unjournaled job, no start journaled */
		enum deploy_op op;
		const char *why;
	} arows[] = {
		/* the same decisions as a session cluster's around the job */
		{J_NEW, W_NEW, O_DOWN, 0, DEPLOY_OP_KEEP, NULL},
		{J_TAKEN, W_NEW, O_DOWN, 0, DEPLOY_OP_APPLY, NULL},
		{J_IDLE, W_NEW, O_RUNNING, 0, DEPLOY_OP_STOP, NULL},
		{J_IDLE, W_LAST_STATE, O_RUNNING, 0, DEPLOY_OP_CANCEL, NULL},
		{J_IDLE, W_SUSPEND, O_RUNNING, 0, DEPLOY_OP_STOP, NULL},
		{J_TAKEN, W_SUSPEND, O_DOWN, 0, DEPLOY_OP_SUSPEND, NULL},
		{J_IDLE, W_SAME, O_FAILED, 0, DEPLOY_OP_RESTART, NULL},
		/* applied, pods Ready, Flink answers: its JobManager runs the job (no slot wait, no jar) */
		{J_APPLIED, W_NEW, O_RUNNING, 1, DEPLOY_OP_RUN, NULL},
		{J_APPLIED, W_NEW, O_PODS_ROLLING, 0, DEPLOY_OP_WAIT, "the pods are rolling out"},
		{J_APPLIED, W_NEW, O_DOWN, 0, DEPLOY_OP_WAIT, "JobManager is starting"},
		/* submitted: the job shows when its main() submitted it */
		{J_SUBMITTED, W_NEW, O_GONE, 0, DEPLOY_OP_WAIT, "has not started job 00000000000000000000000000000002 yet"},
		{J_SUBMITTED, W_NEW, O_GONE, 2, DEPLOY_OP_FAIL, "did not start job 00000000000000000000000000000002 within flink.runningTimeout"},
		{J_SUBMITTED, W_NEW, O_GONE, 3, DEPLOY_OP_APPLY, NULL},
		{J_SUBMITTED, W_NEW, O_RUNNING, 0, DEPLOY_OP_RECORD, NULL},
		/* a new commit while the start is in flight: its job may still show */
		{J_SUBMITTED_T, W_FIX2, O_GONE, 0, DEPLOY_OP_WAIT, "the new target follows once it has"},
		{J_SUBMITTED_T, W_FIX2, O_GONE, 2, DEPLOY_OP_APPLY, NULL},
		{J_SUBMITTED_T, W_FIX2, O_RUNNING, 0, DEPLOY_OP_ADOPT, NULL},
		{J_SUBMITTED_T, W_FIX2, O_DOWN, 0, DEPLOY_OP_WAIT, "does not answer"},
		{J_SUBMITTED_T, W_FIX2, O_DOWN, 2, DEPLOY_OP_APPLY, NULL},
		{J_SUBMITTED, W_DELETE, O_GONE, 0, DEPLOY_OP_WAIT, "has not started job"},
		/* a session cluster's jar is another target's */
		{J_UPLOADED, W_NEW, O_RUNNING, 0, DEPLOY_OP_APPLY, NULL},
		/* applied by an older flinkops: its JobManager's own job is recorded first */
		{J_IDLE, W_SAME, O_RUNNING, 4, DEPLOY_OP_ADOPT, NULL},
		{J_APPLIED, W_NEW, O_RUNNING, 4, DEPLOY_OP_ADOPT, NULL},
		{J_NEW, W_DELETE, O_RUNNING, 4, DEPLOY_OP_ADOPT, NULL},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(arows); i++) {
		deploy_journal j;
		deploy_desired d;
		deploy_observed o;
		deploy_next n;
		journal(arows[i].j, &j);
		desired(arows[i].w, &d);
		observe(arows[i].o, &o);
		d.application = true;
		if (arows[i].tweak != 4)
			deploy_journal_set(&j.applied_job_id, j.submit_job_id ? j.submit_job_id : "00000000000000000000000000000001");
		if (arows[i].tweak == 1)
			o.slots_total = 0;
		if (arows[i].tweak == 2)
			o.step_age_ms = d.running_timeout_ms + 1;
		if (arows[i].tweak == 3)
			o.objects_current = false;
		if (arows[i].tweak == 4)
			o.unjournaled_job = "0000000000000000000000000000000f";
		if ((arows[i].j == J_SUBMITTED || arows[i].j == J_SUBMITTED_T) && arows[i].o == O_GONE)
			o.job_known = false;
		deploy_next_step(&d, &j, &o, &n);
		if (n.op != arows[i].op)
			fail_msg("application row %zu: got %s, want %s (%s)", i, deploy_op_name(n.op),
				 deploy_op_name(arows[i].op), n.why ? n.why : "");
		if (arows[i].why && !(n.why && strstr(n.why, arows[i].why)))
			fail_msg("application row %zu: why \"%s\" lacks \"%s\"", i, n.why ? n.why : "", arows[i].why);
		if (arows[i].tweak == 4 && !fo_streq(n.job, o.unjournaled_job))
			fail_msg("application row %zu: adopts %s", i, n.job ? n.job : "(the submission)");
		if (n.op == DEPLOY_OP_FAIL && n.failure != DEPLOY_FAILURE_RUN)
			fail_msg("application row %zu: failure %s", i, deploy_failure_name(n.failure));
		deploy_next_clear(&n);
		deploy_journal_clear(&j);
	}
}

/* Issue 20.3 and 20.7: what KEEP records. A redeploy's stop journals the
 * stop's own savepoint (newest state, and flinkops' to dispose of later),
 * never the human's initialSavepointPath; a delete records the state kept,
 * a checkpoint included, as savepointPath with reason delete. */
static void test_keep_records(void **state)
{
	(void)state;
	deploy_journal j;
	journal(J_STOPPING, &j);
	deploy_keep k = {.restore = "file:/sp/chosen", .restore_kind = "initial", .stopped = SP_STOP,
			 .reason = "upgrade", .now = "2026-12-06T10:00:00Z", .now_ms = "2026-12-06T10:00:00.000Z"};
	char *dropped = deploy_journal_keep(&j, &k);
	assert_null(dropped);
	assert_int_equal(j.step, DEPLOY_STEP_SAVEPOINT_TAKEN);
	assert_string_equal(j.restore_path, "file:/sp/chosen");
	assert_string_equal(j.restore_kind, "initial");
	assert_string_equal(j.savepoint_path, SP_STOP);
	assert_int_equal(j.ntaken, 1);
	assert_string_equal(j.taken[0].path, SP_STOP); /* not the human's savepoint */
	assert_null(j.trigger_id);
	deploy_journal_clear(&j);

	/* an upgrade's stop, its savepoint not yet in Flink's statistics: the
	 * next job's state is the stop's savepoint, as old as the stop */
	journal(J_STOPPING, &j);
	deploy_keep ks = {.restore = SP_STOP, .restore_kind = "savepoint", .stopped = SP_STOP,
			  .reason = "upgrade", .now = "2026-12-06T10:00:00Z", .now_ms = "2026-12-06T10:00:00.000Z"};
	dropped = deploy_journal_keep(&j, &ks);
	free(dropped);
	assert_string_equal(j.restore_path, SP_STOP);
	assert_non_null(j.restore_time);
	assert_string_equal(j.restore_time, "2026-12-06T10:00:00Z");
	deploy_journal_clear(&j);

	/* deleting a job that had ended: its newest checkpoint is the state kept */
	journal(J_IDLE, &j);
	deploy_keep kd = {.restore = CK_NEW, .restore_kind = "checkpoint", .restore_time = "2026-12-06T09:59:00Z",
			  .reason = "delete", .deleting = true, .now = "2026-12-06T10:00:00Z",
			  .now_ms = "2026-12-06T10:00:00.000Z"};
	dropped = deploy_journal_keep(&j, &kd);
	assert_null(dropped);
	assert_string_equal(j.savepoint_path, CK_NEW);
	assert_string_equal(j.savepoint_reason, "delete");
	assert_string_equal(j.savepoint_time, "2026-12-06T09:59:00Z"); /* the checkpoint's own time */
	assert_int_equal(j.ntaken, 0); /* a checkpoint is never flinkops' to dispose of */
	assert_null(j.job_id);
	deploy_journal_clear(&j);

	/* an upgrade from a checkpoint (last-state) leaves savepointPath alone */
	journal(J_CANCELLING, &j);
	deploy_keep ku = {.restore = CK_NEW, .restore_kind = "checkpoint", .reason = "upgrade",
			  .now = "2026-12-06T10:00:00Z", .now_ms = "2026-12-06T10:00:00.000Z"};
	dropped = deploy_journal_keep(&j, &ku);
	assert_string_equal(j.savepoint_path, SP_OLD);
	assert_string_equal(j.restore_path, CK_NEW);
	assert_non_null(j.job_id);
	deploy_journal_clear(&j);
	free(dropped);
}

/* Issue 20.11 and 20.2: the restart budget is given back when a restarted
 * job is healthy again, and a new target starts with a budget of its own. */
static void test_restart_budget(void **state)
{
	(void)state;
	deploy_journal j;
	journal(J_AWAIT_PREV, &j);
	j.restarts = 2;
	j.target_restarts = 2;
	deploy_journal_confirm(&j);
	assert_int_equal(j.restarts, 0);
	assert_int_equal(j.target_restarts, 2); /* the status still says how often this version restarted */
	char *text = deploy_journal_encode(&j);
	deploy_journal back;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(deploy_journal_decode(text, &back, &e), 0);
	assert_int_equal(back.target_restarts, 2);
	deploy_journal_clear(&back);
	free(text);
	assert_null(j.await_checkpoint_since);
	assert_null(j.previous_commit);
	assert_null(j.previous_target);
	deploy_journal_clear(&j);

	/* a restart of the job that ran: RESTART left the running target
	 * (targetHash) and no start in flight; it keeps counting */
	journal(J_TAKEN, &j);
	deploy_journal_set(&j.target_hash, T_OLD);
	j.restarts = 1;
	deploy_journal_applied(&j, T_OLD);
	assert_int_equal(j.restarts, 1);
	deploy_journal_clear(&j);

	journal(J_TAKEN, &j);
	j.restarts = 2;
	deploy_journal_set(&j.start_hash, T_NEW);
	deploy_journal_applied(&j, T_NEW); /* a restart of a start in flight keeps counting */
	assert_int_equal(j.restarts, 2);
	assert_int_equal(j.step, DEPLOY_STEP_APPLIED);
	j.target_restarts = 2;
	deploy_journal_applied(&j, T_NEW2); /* a new target: its own budget */
	assert_int_equal(j.restarts, 0);
	assert_int_equal(j.target_restarts, 0);
	assert_string_equal(j.start_hash, T_NEW2);
	deploy_journal_clear(&j);

	/* a job that fails once in a while, healthy in between, is restarted
	 * every time: the fourth failure is no different from the first */
	for (int failure = 0; failure < 5; failure++) {
		journal(J_IDLE, &j);
		j.restarts = 0; /* as CONFIRM left it */
		deploy_desired d;
		deploy_observed o;
		deploy_next n;
		desired(W_SAME, &d);
		observe(O_FAILED, &o);
		deploy_next_step(&d, &j, &o, &n);
		assert_int_equal(n.op, DEPLOY_OP_RESTART);
		deploy_next_clear(&n);
		deploy_journal_clear(&j);
	}
}

/* Each op has a name of its own, the one its comment in rollout.h gives
 * (the log and the executor's error messages name the step by it). */
static void test_op_names(void **state)
{
	(void)state;
	assert_string_equal(deploy_op_name(DEPLOY_OP_NONE), "none");
	assert_string_equal(deploy_op_name(DEPLOY_OP_SAVEPOINT_DONE), "savepoint-done");
	assert_string_equal(deploy_op_name(DEPLOY_OP_CHECKPOINT), "checkpoint");
	assert_string_equal(deploy_op_name(DEPLOY_OP_CHECKPOINT_DONE), "checkpoint-done");
	assert_string_equal(deploy_op_name(DEPLOY_OP_RESTART), "restart");
	assert_string_equal(deploy_op_name(DEPLOY_OP_ROLLBACK), "rollback");
	assert_string_equal(deploy_op_name(DEPLOY_OP_FORGET_ROLLBACK), "forget-rollback");
	assert_string_equal(deploy_op_name((enum deploy_op)(DEPLOY_OP_FORGET_ROLLBACK + 1)), "unknown");
	for (int a = DEPLOY_OP_NONE; a <= DEPLOY_OP_FORGET_ROLLBACK; a++) {
		assert_string_not_equal(deploy_op_name((enum deploy_op)a), "unknown");
		for (int b = DEPLOY_OP_NONE; b < a; b++)
			if (strcmp(deploy_op_name((enum deploy_op)a), deploy_op_name((enum deploy_op)b)) == 0)
				fail_msg("ops %d and %d are both named %s", b, a, deploy_op_name((enum deploy_op)a));
	}
}

/* Issue 20.9: checkpoint statistics are final by Flink's clock alone. */
static void test_stats_final(void **state)
{
	(void)state;
	static const struct {
		enum flink_job_status st;
		int64_t end, now;
		bool final;
	} cases[] = {
		{FLINK_JOB_CANCELED, 100000, 106000, true},
		{FLINK_JOB_CANCELED, 100000, 104000, false}, /* 4 s after it ended, by Flink's clock */
		{FLINK_JOB_CANCELED, 100000, -1, false},     /* no "now": nothing is final */
		{FLINK_JOB_CANCELED, -1, 106000, false},
		{FLINK_JOB_RUNNING, 100000, 106000, false},
		{FLINK_JOB_FINISHED, 100000, 105000, true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flink_job_info info = {.state = cases[i].st, .end_time = cases[i].end, .now = cases[i].now};
		if (deploy_stats_final(&info, DEPLOY_STATS_SETTLE_MS) != cases[i].final)
			fail_msg("case %zu", i);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_application),
		cmocka_unit_test(test_slow_savepoint),
		cmocka_unit_test(test_failure_reasons),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_checkpoints_read_when_needed),
		cmocka_unit_test(test_keep_records),
		cmocka_unit_test(test_restart_budget),
		cmocka_unit_test(test_stats_final),
		cmocka_unit_test(test_op_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
