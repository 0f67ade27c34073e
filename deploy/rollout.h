/*
 * The rollout's decision: one pure function that, given what git wants for a
 * deployment, what its journal says and what this pass observed of Flink and
 * of the cluster, returns the one next step. The executor (rollout.c)
 * gathers the observations, runs that step, saves the journal and asks
 * again; nothing about a rollout is decided anywhere else. Every journal
 * state is a point where the process may die, so every (state, observation)
 * pair is a row of the table test in tests/unit/test_rollout.c.
 *
 * The rules the function keeps (DESIGN.md, "Rollout semantics"):
 *   - a job is started only from the newest state that exists: the savepoint
 *     of the stop it recorded, else the newest completed checkpoint or
 *     savepoint Flink reports for the old job; never an older recorded one;
 *   - when that newest state cannot be established, nothing starts and a
 *     human is asked (FAIL with state_unknown);
 *   - Flink still working (a slow savepoint, a job starting) is waited for,
 *     never abandoned: the old job keeps running until its stop completes;
 *   - an unreachable Flink is waited for, never acted on;
 *   - a rollback starts the previous spec from the state the failed job
 *     started from, only while that job completed nothing newer; a job
 *     that did is cancelled and its newest state kept, as in last-state.
 */
#ifndef DEPLOY_ROLLOUT_H
#define DEPLOY_ROLLOUT_H

#include <stdbool.h>

#include "deploy/journal.h"
#include "flink/flink.h"
#include "flink/rest.h"

/* How long after a job ended its checkpoint statistics are taken as final:
 * Flink's REST caches them for web.refresh-interval (3 s by default). */
#define DEPLOY_STATS_SETTLE_MS 5000

/*
 * Whether the checkpoint statistics of a job Flink described in `info`
 * (GET /jobs/:id) are final: it ended, and had been over for `settle_ms`
 * when Flink answered — by Flink's own clock (its reply's "now"), never
 * the agent's: an agent whose clock runs ahead would take statistics that
 * still miss the job's last checkpoint as final. A reply without "now"
 * says nothing final. Pure.
 */
struct flink_job_info;
bool deploy_stats_final(const struct flink_job_info *info, int64_t settle_ms);

/* What git wants of one deployment. */
typedef struct deploy_desired {
	const char *job_hash;          /* the rendered job hash */
	const char *target;            /* the whole rendered target: job hash and pod templates */
	bool suspended;                /* job.state: suspended */
	bool deleting;                 /* gone from git: stop with a final savepoint, then the objects go */
	bool restart_pods;             /* the object change restarts the Flink processes (pod template, config) */
	enum flink_upgrade_mode mode;
	bool savepoint_dir;            /* the deployment names a savepoint directory (flink_savepoint_dir) */
	const char *initial_savepoint; /* job.initialSavepointPath */
	int parallelism;
	int restart_budget;
	long savepoint_timeout_ms, ready_timeout_ms, running_timeout_ms;
	int64_t savepoint_nonce;       /* job.savepointTriggerNonce: a new value asks for a savepoint (0: none) */
	int64_t redeploy_nonce;        /* job.savepointRedeployNonce: a new value starts the job again from
	                                * initial_savepoint, a human's choice (0: none) */
	int64_t periodic_savepoint_ms; /* a savepoint when the newest is older than this (0: none) */
	const struct flink_cron *periodic_cron; /* or when this schedule fired since the newest (NULL: none) */
	int64_t checkpoint_nonce;      /* job.checkpointTriggerNonce: a new value asks for a checkpoint (0: none) */
	int64_t periodic_checkpoint_ms; /* a checkpoint when the newest flinkops asked for is older (0: none) */
	const struct flink_cron *periodic_checkpoint_cron; /* or when this schedule fired since (NULL: none) */
	bool rollback;                 /* a new job that never becomes healthy is rolled back to the
	                                * journal's previous spec (never for a stateless job) */
	bool rolling_back;             /* this is that previous spec, run again by a rollback */
	bool application;              /* an application cluster: the JobManager runs the job itself
	                                * (a `local://` jar), started by applying its objects with the
	                                * job id and state to start from (render_start); no jar is
	                                * uploaded and nothing is run over REST */
} deploy_desired;

/* How long a completed checkpoint's path is waited for (the job's
 * checkpoint history lags its trigger's status by up to
 * web.refresh-interval); then it is recorded by its id alone. */
#define DEPLOY_CHECKPOINT_PATH_WAIT_MS 30000L

enum deploy_trigger_obs {
	DEPLOY_TRIGGER_NONE,           /* nothing asked (no trigger in the journal) */
	DEPLOY_TRIGGER_IN_PROGRESS,
	DEPLOY_TRIGGER_COMPLETED,      /* trigger_location holds the savepoint */
	DEPLOY_TRIGGER_FAILED,         /* trigger_failure holds Flink's cause */
	DEPLOY_TRIGGER_UNKNOWN,        /* Flink does not know the trigger (never arrived, or forgotten) */
};

/* What Flink says of savepoint `trigger` of `job` (a stop's, or one the
 * running job was asked for), or with `checkpoint` of a checkpoint it was
 * asked for; *flink_ok (true on entry) false when it could not say. A
 * completed checkpoint's path goes to *ck_location (caller frees) as the
 * job's checkpoint history names it, *ck_known whether it did (else
 * "checkpoint N"); a completed savepoint's is sp->location. */
enum deploy_trigger_obs deploy_trigger_state(flink_rest *r, const char *job, const char *trigger, bool checkpoint,
					     flink_savepoint_status *sp, char **ck_location, bool *ck_known,
					     bool *flink_ok);

/* What the pass observed. The job is the journal's job_id, or during
 * SUBMITTED the submission (submit_job_id). */
typedef struct deploy_observed {
	bool flink_ok;                 /* the REST API answered */
	bool job_known;                /* Flink knows the job */
	enum flink_job_status job;     /* its state when known */
	const char *job_cause;         /* its failure cause, when FAILED */
	bool checkpoints_ok;           /* the job's checkpoint statistics were read */
	const char *newest_path;       /* its newest completed checkpoint or savepoint (NULL: none) */
	bool newest_is_savepoint;
	const char *restored_path;     /* what the job started from (NULL: fresh) */
	enum deploy_trigger_obs trigger;
	const char *trigger_location;
	const char *trigger_failure;
	bool jar_known;                /* the journal's jar_id is on the cluster */
	bool objects_current;          /* every rendered object is live and equal */
	int pods_ready;                /* APPLIED: both StatefulSets rolled out, every pod Ready: 1;
	                                * not yet: 0 (pods_waiting says what); unknown: -1 */
	const char *pods_waiting;
	int slots_total;               /* task slots offered; -1 unknown */
	long step_age_ms;              /* since the journal's step was recorded; -1 unknown */
	/* IDLE with awaitCheckpointSince: is the new job healthy yet? */
	int checkpointing;             /* the job's checkpointing: 1 on, 0 off, -1 unknown (not read) */
	int64_t checkpoints_completed; /* checkpoints (and savepoints) the job completed; -1 unknown */
	const char *checkpoint_failure;/* the newest failed checkpoint's message, or NULL */
	long await_age_ms;             /* since the job was recorded running; -1 unknown */
	/* a savepoint requested of the running job (journal requestTriggerId) */
	enum deploy_trigger_obs request;
	const char *request_location;
	const char *request_failure;
	long savepoint_age_ms;         /* since the newest savepoint (else the job's start); -1 unknown */
	int64_t now_s;                 /* the agent's clock at the observation (seconds, UTC); 0 unknown */
	/* a checkpoint requested of the running job (journal checkpointTriggerId) */
	enum deploy_trigger_obs ck_request;
	const char *ck_request_location; /* COMPLETED: its path, or "checkpoint N" */
	bool ck_request_path_known;    /* COMPLETED: Flink listed its path (else only its id is known) */
	const char *ck_request_failure;
	long ck_request_age_ms;        /* since the request was recorded; -1 unknown */
	long checkpoint_age_ms;        /* since the newest checkpoint flinkops asked for (else the job's
	                                * start); -1 unknown */
	/* An application cluster whose journal names no start it applied (a
	 * flinkops before format 3 applied it, and its JobManager started the
	 * job on its own): a job that JobManager runs, which no journal names */
	const char *unjournaled_job;
} deploy_observed;

/* Whether the observation reads the job's checkpoint statistics (one
 * more request): wherever a step may fix the state to keep from them —
 * a job that ended, a step in flight, last-state mode, a job awaiting
 * its first checkpoint (unless Flink said it does not checkpoint), a
 * suspend or a delete (which cancel a stateless
 * job with nowhere to put a savepoint, keeping its newest checkpoint).
 * `o` needs job_known, job and checkpointing set. A decision never waits
 * on statistics this does not read (the sweep in test_rollout checks it). */
bool deploy_reads_checkpoints(const deploy_desired *d, const deploy_journal *j, const deploy_observed *o);

enum deploy_op {
	DEPLOY_OP_NONE,        /* settled (running, suspended, failed, or ready to delete) */
	DEPLOY_OP_WAIT,        /* Flink or the cluster is working, or unreachable: look again later */
	DEPLOY_OP_STOP,        /* record STOPPING with a new trigger id, then stop with a savepoint under it */
	DEPLOY_OP_RESTOP,      /* Flink never got the recorded stop: send it again under the same trigger id */
	DEPLOY_OP_CANCEL,      /* record CANCELLING with `restore`, then cancel the old job */
	DEPLOY_OP_KEEP,        /* record SAVEPOINT_TAKEN with `restore` (the old job is no more) */
	DEPLOY_OP_ABORT_STOP,  /* the savepoint failed and the old job runs on: record IDLE and the error */
	DEPLOY_OP_APPLY,       /* apply the objects, record APPLIED */
	DEPLOY_OP_APPLY_ONLY,  /* apply the objects, the journal stays (in place, or a suspended deployment) */
	DEPLOY_OP_SUSPEND,     /* apply the objects (at zero), record IDLE without a job */
	DEPLOY_OP_UPLOAD,      /* deliver the jar, record UPLOADED */
	DEPLOY_OP_RUN,         /* record SUBMITTED under the attempt's job id, then run the jar (an
	                        * application cluster: record SUBMITTED only; its JobManager, applied
	                        * with that id, runs the job itself) */
	DEPLOY_OP_RECORD,      /* the submitted job is RUNNING: record IDLE at the target, awaiting its first checkpoint */
	DEPLOY_OP_CONFIRM,     /* the job completed its first checkpoint (or does not checkpoint): clear the wait */
	DEPLOY_OP_SAVEPOINT,   /* a savepoint of the running job, which keeps running: record the request
	                        * (reason in `why`: manual or periodic) under a new trigger id, or send it
	                        * again under the recorded one, then trigger it */
	DEPLOY_OP_SAVEPOINT_DONE, /* the requested savepoint ended: record it (`restore`) or its failure (`why`) */
	DEPLOY_OP_CHECKPOINT,  /* a checkpoint of the running job (job.checkpointTriggerNonce, the periodic
	                        * checkpoint interval), as DEPLOY_OP_SAVEPOINT: record the request (reason
	                        * in `why`) under a new trigger id, or send it again under the recorded one */
	DEPLOY_OP_CHECKPOINT_DONE, /* the requested checkpoint ended: record it (`restore`: its path) or its
	                        * failure (`why`); the state to start from is Flink's business, not this */
	DEPLOY_OP_RESTART,     /* the job ended on its own: record SAVEPOINT_TAKEN with `restore`, restarts + 1 */
	DEPLOY_OP_FAIL,        /* record FAILED with `why` (and state_unknown when the newest state is unknown) */
	DEPLOY_OP_ROLLBACK,    /* the new job never became healthy: record FAILED with `why` and the
	                        * rollback to the journal's previous spec, which the next pass runs again
	                        * (the failed job is cancelled, and the state it started from kept) */
	DEPLOY_OP_ADOPT,       /* SUBMITTED: the submission runs, but git asks for another target (or
	                        * none): record it as the job (IDLE at the submission's target, never
	                        * git's), so that the next step stops it as any job is stopped. Also
	                        * an application cluster's unjournaled job (`job`): recorded as the
	                        * job, of no target, and stopped the same way */
	DEPLOY_OP_FORGET_ROLLBACK, /* git asks for the spec that runs (a revert): the rollback is
	                        * history; the failed spec gets a new attempt when pushed again */
};

/* Why a rollout step failed, as one of a small fixed set (the agent counts
 * upgrade failures by it; the message says the rest). Each is counted where
 * it happens: a FAIL or ABORT_STOP once, as it is recorded; a request that
 * failed (and is tried again by the next pass) once per pass. */
enum deploy_failure {
	DEPLOY_FAILURE_NONE,
	DEPLOY_FAILURE_SAVEPOINT,      /* savepoint_failed: Flink failed the stop's savepoint; the old job runs on */
	DEPLOY_FAILURE_STATE_UNKNOWN,  /* state_unknown: the newest state could not be established */
	DEPLOY_FAILURE_NO_CHECKPOINT,  /* no_checkpoint: a last-state upgrade and no completed checkpoint */
	DEPLOY_FAILURE_RESTART_BUDGET, /* restart_budget: the job ended again with the restart budget spent */
	DEPLOY_FAILURE_STOP,           /* stop_failed: Flink refused the stop or the cancel request */
	DEPLOY_FAILURE_APPLY,          /* apply_failed: applying the objects failed */
	DEPLOY_FAILURE_JAR,            /* jar_failed: fetching or uploading the jar failed */
	DEPLOY_FAILURE_RUN,            /* run_failed: Flink refused to run the jar */
	DEPLOY_FAILURE_JOURNAL,        /* journal_failed: a step could not be recorded (e.g. another writer) */
	DEPLOY_FAILURE_FIRST_CHECKPOINT, /* first_checkpoint: RUNNING, but no checkpoint within flink.readyTimeout */
	DEPLOY_FAILURE_OTHER,          /* other */
	DEPLOY_NFAILURES
};
/* The label word of a failure reason ("savepoint_failed", ...). */
const char *deploy_failure_name(enum deploy_failure f);

typedef struct deploy_next {
	enum deploy_op op;
	const char *restore;   /* CANCEL, KEEP, RESTART: the state the next job starts from; NULL: fresh */
	const char *restore_kind; /* "savepoint", "checkpoint", "initial" or "none" */
	char *why;             /* WAIT: what is waited for; FAIL: the reason; NONE: the settled state */
	bool late;             /* WAIT: past its timeout (reported, still waited for) */
	long wait_ms;          /* WAIT: how long it has been waited for (-1 unknown). Never part of `why`,
	                        * which a status file shows: an age changes on every look, so a status
	                        * carrying it would be committed on every re-check; the log and the
	                        * metrics show it */
	bool state_unknown;    /* FAIL: the newest state could not be established */
	enum deploy_failure failure; /* FAIL, ABORT_STOP: the reason, for counting */
	const char *job;       /* ADOPT of an unjournaled job: its id (NULL: the submission) */
} deploy_next;

/* What a KEEP records: the state the next job starts from is fixed. */
typedef struct deploy_keep {
	const char *restore, *restore_kind; /* the state the next job starts from (NULL: fresh) */
	const char *restore_time;           /* when it was taken, when known */
	const char *stopped;   /* the savepoint the stop took, as Flink reported it COMPLETED; NULL: none */
	const char *reason;    /* why the old job stopped: upgrade | suspend | delete */
	bool deleting, suspended;
	const char *now, *now_ms; /* RFC 3339, without and with milliseconds */
} deploy_keep;

/*
 * Record KEEP in `j` (SAVEPOINT_TAKEN, restorePath). The savepoint a stop
 * took is the newest state: it becomes savepointPath and enters the
 * `taken` list flinkops may later dispose of — the stop's own savepoint,
 * never the path the next job starts from when that is another (a
 * redeploy's job.initialSavepointPath, chosen by a human, is never
 * flinkops' to dispose of). Deleting, the state kept (a savepoint, or the
 * newest checkpoint of a job that had ended) becomes savepointPath with
 * reason delete, which the status file records before the journal goes.
 * Returns the path pushed out of a full `taken` list (caller frees), or
 * NULL. Pure.
 */
char *deploy_journal_keep(deploy_journal *j, const deploy_keep *k);

/* Record APPLIED for `target`: the start in flight belongs to it from now
 * on, and a new target gets a restart budget of its own (a restart of the
 * same target keeps counting). Pure. */
void deploy_journal_applied(deploy_journal *j, const char *target);
/* Record CONFIRM: the job completed its first checkpoint (or does not
 * checkpoint). It is healthy: no rollback to the job it replaced any more,
 * and the restart budget is whole again — restarts count since the last
 * healthy run. Pure. */
void deploy_journal_confirm(deploy_journal *j);

/* Whether step `op` acts on git's FlinkDeployment (its objects, jar or
 * spec) or on a job running git's target: never decided for a deployment
 * that is gone from git, and refused by the executor if it were. */
bool deploy_op_acts_on_spec(enum deploy_op op);

/*
 * Whether a session job with journal `j` keeps its session cluster's pods
 * from restarting: a job runs on them or may (IDLE with a job, a FAILED
 * target whose job was left to Flink), a stop is in flight (STOPPING,
 * CANCELLING), or a start is (UPLOADED, SUBMITTED). A pod restart would
 * end such a job without a savepoint, and without high availability Flink
 * would forget its checkpoints. A journal that cannot be read (`bad`)
 * holds too: what runs is unknown. Once the job stopped with its state
 * fixed (SAVEPOINT_TAKEN, APPLIED), or never ran or was suspended, the
 * cluster may restart. Pure.
 */
bool deploy_session_job_holds(const deploy_journal *j, bool bad);

/* The next step. Pure: no I/O, no clock. n->why is allocated; free it with
 * deploy_next_clear. */
void deploy_next_step(const deploy_desired *d, const deploy_journal *j, const deploy_observed *o, deploy_next *n);
void deploy_next_clear(deploy_next *n);
const char *deploy_op_name(enum deploy_op op);

/*
 * The jobs on a session cluster that would be lost with it (its delete, or
 * its pods' restart without high availability) and that no FlinkSessionJob
 * stops first: every job of `jobs` that is not one of the `nmanaged` job ids
 * of its session jobs (`managed`, NULL entries skipped) and not in a
 * globally terminal state (FAILED, CANCELED, FINISHED; a state this client
 * does not know counts as running). NULL when there is none, else
 * "ID (NAME, STATE), ..." with `states`, or "ID (NAME), ..." without: a
 * status message names the jobs only, since a job that flaps between
 * RUNNING and RESTARTING would otherwise change the status file, and
 * commit it, on every flip (the caller frees it). Pure.
 */
char *deploy_unmanaged_jobs(const flink_job_list *jobs, const char *const *managed, size_t nmanaged, bool states);

#endif
