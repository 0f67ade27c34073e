/*
 * FlinkStateSnapshot: a savepoint or a checkpoint declared in git, taken
 * once (or, with alreadyExists, registered), as upstream's snapshot
 * resource is. Each snapshot has a record of its own, a ConfigMap
 * flink-snapshot-NAME beside the journals, written before each request to
 * Flink as a journal is: the trigger id is chosen and recorded first, so a
 * snapshot that outlives the agent is found, never taken twice in
 * silence. The decision of the next step is one pure function with a
 * table test (tests/unit/test_snapshot.c); the executor around it is thin.
 *
 * A snapshot is asked of its job only while that job's rollout is settled
 * and the job was seen RUNNING in the same pass; while one is in flight,
 * the job's own rollout does not stop or cancel the job (it waits,
 * deploy_snapshot_hold_step), so a snapshot never races an upgrade,
 * suspend or delete. A snapshot gone from git is forgotten; its data is
 * disposed of only when its file said disposeOnDelete: true, the
 * savepoint is not referenced by anything the pass knows, and no prune
 * guard holds the pass.
 */
#ifndef DEPLOY_SNAPSHOT_H
#define DEPLOY_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "deploy/deploy.h"
#include "deploy/rollout.h"
#include "flink/flink.h"
#include "lib/err.h"

#define DEPLOY_SNAPSHOT_PREFIX "flink-snapshot-"
#define DEPLOY_SNAPSHOT_KEY "snapshot.json"
#define DEPLOY_SNAPSHOT_LABEL_VALUE "flinkops-snapshot"
/* The record format this flinkops writes and reads (a newer one is refused). */
#define DEPLOY_SNAPSHOT_VERSION 1
/* A retry after a failure waits 10 s, doubling, at most 10 min (upstream's
 * backoff starts at 10 s and doubles too). */
#define DEPLOY_SNAPSHOT_BACKOFF_MS 10000L
#define DEPLOY_SNAPSHOT_BACKOFF_MAX_MS 600000L

/* Upstream's snapshot states (FlinkStateSnapshotStatus.State). */
enum deploy_snap_state {
	DEPLOY_SNAP_PENDING,     /* TRIGGER_PENDING: not asked yet (or asked again after a failure) */
	DEPLOY_SNAP_IN_PROGRESS, /* asked of Flink under trigger_id (maybe sent) */
	DEPLOY_SNAP_COMPLETED,   /* taken (or registered): path */
	DEPLOY_SNAP_FAILED,      /* failed more often than backoffLimit allows */
	DEPLOY_SNAP_ABANDONED,   /* its job stopped, or is gone, before it was taken */
};
#define DEPLOY_SNAP_NSTATES (DEPLOY_SNAP_ABANDONED + 1)

typedef struct deploy_snapshot_rec {
	enum deploy_snap_state state;
	char *agent;          /* the agent that wrote it (its label says so too) */
	char *type;           /* savepoint | checkpoint */
	char *job_kind;       /* FlinkDeployment | FlinkSessionJob (NULL: a registered savepoint) */
	char *job_name;
	char *cluster;        /* the FlinkDeployment whose REST API it was asked through */
	char *job_id;         /* the job it was asked of */
	char *trigger_id;     /* IN_PROGRESS: the trigger id flinkops chose */
	char *trigger_time;   /* RFC 3339 with ms: the last request (a retry backs off from it) */
	char *path;           /* COMPLETED: the savepoint, or the checkpoint's path (or "checkpoint N") */
	char *time;           /* COMPLETED: when */
	char *error;          /* the last failure, or why it was abandoned */
	int failures;         /* failed attempts so far */
	bool dispose;         /* git said disposeOnDelete: true */
	char *dispose_trigger;/* a disposal asked of Flink (its request id), once git no longer has it */
	char *spec_hash;      /* the spec it answers: another spec is not taken again */
	char *commit;         /* the source commit it was first seen at */
	char *updated;
	char *resource_version; /* not encoded: the ConfigMap's version as read */
} deploy_snapshot_rec;

const char *deploy_snap_state_name(enum deploy_snap_state s);
/* Encode (JSON); caller frees. */
char *deploy_snapshot_encode(const deploy_snapshot_rec *r);
/* Decode, strictly (as deploy_journal_decode): an unknown key, a wrong
 * type, a newer format, a string over DEPLOY_JOURNAL_STRING_MAX, a count
 * out of bounds is an error, never a default. */
int deploy_snapshot_decode(const char *text, deploy_snapshot_rec *r, fo_err *e);
void deploy_snapshot_rec_clear(deploy_snapshot_rec *r);

/* The hash of what a snapshot's spec asks (type, path, format, job,
 * alreadyExists): hex, caller frees. */
char *deploy_snapshot_spec_hash(const flink_deployment *s);

/* ---- the decision ---- */

typedef struct deploy_snapshot_want {
	bool in_git;          /* its file is in git (else: gone, or this is a record alone) */
	bool already_exists;  /* register spec.savepoint.path, take nothing */
	const char *spec_hash;
	int backoff_limit;    /* -1: retry without end */
	bool job_in_git;      /* jobReference names a job git has */
} deploy_snapshot_want;

typedef struct deploy_snapshot_obs {
	/* the job's rollout settled in this pass with its job seen RUNNING
	 * (not suspended, nothing in flight, its first checkpoint done) */
	bool job_ready;
	/* not ready, and its rollout is not moving towards running either
	 * (suspended, failed, or left unread): nothing to wait for now */
	bool job_still;
	bool flink_ok;        /* IN_PROGRESS: Flink answered for the trigger */
	enum deploy_trigger_obs trigger;
	const char *location; /* COMPLETED: the path */
	const char *failure;  /* FAILED: Flink's cause */
	int job_running;      /* IN_PROGRESS: the job asked is RUNNING (1), not (0: ended, unknown to Flink), -1 unknown */
	long since_attempt_ms;/* since the last request (trigger_time); -1 unknown */
} deploy_snapshot_obs;

enum deploy_snap_op {
	DEPLOY_SNAP_OP_NONE,     /* settled: nothing to do (why: the state) */
	DEPLOY_SNAP_OP_WAIT,     /* look again later (why: for what) */
	DEPLOY_SNAP_OP_REGISTER, /* record COMPLETED with spec.savepoint.path (alreadyExists) */
	DEPLOY_SNAP_OP_TRIGGER,  /* record IN_PROGRESS under a new trigger id, then ask Flink */
	DEPLOY_SNAP_OP_RESEND,   /* Flink does not know the recorded trigger, the job runs: ask again under it */
	DEPLOY_SNAP_OP_COMPLETE, /* record COMPLETED with the location */
	DEPLOY_SNAP_OP_RETRY,    /* record the failure (failures + 1), PENDING: asked again after the backoff */
	DEPLOY_SNAP_OP_FAIL,     /* record FAILED (failures + 1): the backoff limit is spent */
	DEPLOY_SNAP_OP_ABANDON,  /* record ABANDONED with why */
};
const char *deploy_snap_op_name(enum deploy_snap_op op);

typedef struct deploy_snapshot_next {
	enum deploy_snap_op op;
	char *why;            /* owned: deploy_snapshot_next_clear */
} deploy_snapshot_next;
void deploy_snapshot_next_clear(deploy_snapshot_next *n);

/* The backoff after `failures` failed attempts (10 s doubling, at most 10 min). */
long deploy_snapshot_backoff_ms(int failures);

/*
 * The next step of one snapshot (pure). `r` is its record (state PENDING
 * and no trigger when it has none). Rules:
 *   - a settled snapshot (COMPLETED, FAILED, ABANDONED) is never asked
 *     again, whatever git says now (a new snapshot needs a new name);
 *   - a snapshot is asked only of a job that is ready (o->job_ready);
 *   - Flink still working, or not answering, is waited for;
 *   - a trigger Flink does not know is sent again (same id) while the job
 *     runs, abandoned once the job is gone;
 *   - a failure is retried after the backoff until backoffLimit is spent.
 */
void deploy_snapshot_next_step(const deploy_snapshot_want *w, const deploy_snapshot_rec *r,
			       const deploy_snapshot_obs *o, deploy_snapshot_next *n);

/*
 * The hold a snapshot in flight puts on its job's rollout (pure): when
 * `hold` names snapshots (non-NULL) and `n` would stop or cancel the job
 * (STOP, RESTOP, CANCEL), `n` becomes a WAIT saying so. Anything else
 * passes: a savepoint request, a failed job's restart, a start.
 */
void deploy_snapshot_hold_step(deploy_next *n, const char *hold);

/*
 * What a change to a FlinkStateSnapshot's file does (pure), for `plan`:
 * `from` at the base, `to` at the head (either NULL), `job_in_git`
 * whether the head's jobReference names a job of the head's repository.
 * A sentence (caller frees), or NULL when nothing changes.
 */
char *deploy_snapshot_plan(const flink_deployment *from, const flink_deployment *to, bool job_in_git);

/* ---- the pass ---- */

/* What a pass did with one snapshot, for its status file. */
typedef struct deploy_snapshot_item {
	const flink_deployment *fd;   /* NULL: gone from git (its record alone) */
	char *ns, *name;
	deploy_snapshot_rec rec;      /* after the pass */
	bool has_rec;                 /* a record exists (or was written) */
	bool rec_bad;                 /* the record does not decode: nothing is done with it */
	enum deploy_outcome outcome;
	char *waiting;                /* WAITING: on what */
	char *error;                  /* FAILED: why (the pass could not act); the record's error is Flink's */
	bool forget;                  /* gone from git, settled (and disposed of, when asked): the record
	                               * goes once its status is pushed (deploy_snapshots_forget) */
} deploy_snapshot_item;

typedef struct deploy_snapshots {
	deploy_snapshot_item *v;
	size_t n, cap;
} deploy_snapshots;

/*
 * Gather the snapshots of a pass (pure): one item for each snapshot of
 * `snaps` (git's) and one for each record in `live` that git no longer
 * has; each record decoded. Then put the holds on the jobs of `p`: a job
 * with a snapshot IN_PROGRESS gets its name in snapshot_hold (also when
 * the snapshot's file is gone, and when its record does not decode and it
 * may be in flight: then every job of its namespace holds).
 */
void deploy_snapshots_plan(const flink_deployments *snaps, const deploy_live *live, deploy_pass *p,
			   deploy_snapshots *out);
/*
 * Advance every snapshot as far as it can go now (after the pass's
 * rollouts, whose outcome says which jobs are ready). A snapshot gone
 * from git is disposed of (when asked and safe) and marked to forget only
 * when the pass may delete (no prune guard holds it, the API server
 * answered). Returns 0, or the first error (each item has its own).
 */
int deploy_snapshots_run(k8s_client *c, deploy_pass *p, deploy_snapshots *s, const deploy_options *o, fo_err *e);
/* After the status files are pushed: delete the records of the snapshots
 * marked to forget. */
int deploy_snapshots_forget(k8s_client *c, const deploy_snapshots *s, fo_err *e);
/*
 * The status policy for a snapshot (pure): `st` (the file in git, or a new
 * one) updated with what the pass did with `it`. `blob` is its manifest's
 * blob id, `commit` the source commit.
 */
void deploy_snapshot_status_update(struct flink_status *st, const deploy_snapshot_item *it, const char *blob,
				   const char *commit);
void deploy_snapshots_free(deploy_snapshots *s);

#endif
