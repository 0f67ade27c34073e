/*
 * Blue/green: a FlinkBlueGreenDeployment NAME runs as one or two child
 * FlinkDeployments, NAME-blue and NAME-green, each a full cluster with its
 * own rollout journal, driven by the rollout engine like any deployment. An
 * upgrade starts the new colour from a savepoint of the running one beside
 * it, and switches only when the new job has caught up; the old one is then
 * stopped with a savepoint and removed after the deletion delay.
 *
 * This header is the blue/green decision: what git's template is to the
 * active child (deploy_bg_diff), and one pure next step from the blue/green
 * journal and what the children's own journals and Flink say
 * (deploy_bg_next). The journal is written before the step acts, like every
 * rollout step, so an agent that dies anywhere resumes from the record. The
 * states and diff types are upstream's (FlinkBlueGreenDeploymentState,
 * BlueGreenDiffType); where upstream's rule is weak, the rule here is
 * stronger, and each place says so:
 *   - the new child is ready when it has caught up (its first checkpoint
 *     completed and its progress reached the old job's), not when it is
 *     first RUNNING;
 *   - a change is never consumed by a failure: a transition that could not
 *     start waits for its cause to go; only an abort (the new child did not
 *     catch up in time) marks that spec as failed, and the next different
 *     spec is a new attempt;
 *   - the state handed over is a savepoint taken for this transition alone
 *     (its own nonce), never one taken earlier;
 *   - an active child that failed is not left broken: git's spec reaches it
 *     in place, through its own rollout, from its newest state;
 *   - a clock that went back never ends a wait early or late by a guess:
 *     an age that cannot be known is waited on.
 */
#ifndef DEPLOY_BLUEGREEN_H
#define DEPLOY_BLUEGREEN_H

#include <stdbool.h>
#include <stdint.h>

#include "flink/flink.h"
#include "lib/err.h"

enum deploy_bg_colour { DEPLOY_BG_BLUE, DEPLOY_BG_GREEN };

/* Upstream's FlinkBlueGreenDeploymentState. FAILING is no state there
 * either: it is the journal's error beside any state. */
enum deploy_bg_state {
	DEPLOY_BG_INITIALIZING_BLUE,     /* no child yet */
	DEPLOY_BG_ACTIVE_BLUE,
	DEPLOY_BG_ACTIVE_GREEN,
	DEPLOY_BG_SAVEPOINTING_BLUE,     /* blue takes the savepoint green will start from; it runs on */
	DEPLOY_BG_SAVEPOINTING_GREEN,
	DEPLOY_BG_TRANSITIONING_TO_BLUE, /* blue starts (from green's savepoint); green runs on */
	DEPLOY_BG_TRANSITIONING_TO_GREEN,
};

/* What git's template is to the spec the active child runs: upstream's
 * BlueGreenDiffType, in its precedence. */
enum deploy_bg_diff {
	DEPLOY_BG_DIFF_IGNORE,             /* the same child */
	DEPLOY_BG_DIFF_PATCH_CHILD,        /* nothing that restarts the job: applied to the active child */
	DEPLOY_BG_DIFF_SUSPEND,            /* job.state running -> suspended */
	DEPLOY_BG_DIFF_RESUME,             /* job.state suspended -> running */
	DEPLOY_BG_DIFF_SAVEPOINT_REDEPLOY, /* a new savepointRedeployNonce: the other colour starts from
	                                    * job.initialSavepointPath, a human's choice */
	DEPLOY_BG_DIFF_TRANSITION,         /* the job restarts: the other colour starts beside it */
};

/*
 * What git's template (`git`, the child of the active colour as git's
 * template makes it, and `git_template`, its template hash) is to the spec
 * the active child runs (`active`, `active_template`), in upstream's
 * precedence: a job.state change; a new savepointRedeployNonce; the same
 * template; a change that leaves the job's target alone (applied in
 * place: labels, a nonce, the upgrade mode, retention); else a new job.
 * Pure (it renders both).
 */
enum deploy_bg_diff deploy_bg_diff(const flink_deployment *active, const char *active_template,
				   const flink_deployment *git, const char *git_template);

/*
 * What a change of a FlinkBlueGreenDeployment's file does, for `plan`:
 * `from` and `to` are its versions before and after (NULL: created,
 * deleted). Says which colour does what, the state the new job starts
 * from, when the switch comes, and what overlap means: both jobs write to
 * the sinks while they run side by side, and an exactly-once sink whose
 * transactional id prefix both colours share is named. NULL when nothing
 * changes; else text the caller frees. Pure.
 */
char *deploy_bg_plan(const flink_deployment *from, const flink_deployment *to);

#define DEPLOY_BG_PREFIX "flink-bluegreen-"
/* The journal's app.kubernetes.io/managed-by: listed with the rollout
 * journals, never taken for a deployment's object or journal. */
#define DEPLOY_BG_LABEL_VALUE "flinkops-bluegreen"
#define DEPLOY_BG_KEY "bluegreen.json"
#define DEPLOY_BG_VERSION 1
/* The most of a FlinkBlueGreenDeployment's document the journal keeps (two
 * of them fit a ConfigMap's 1 MiB with room to spare); a larger one is
 * refused before anything of it runs. */
#define DEPLOY_BG_SPEC_MAX FLINK_BLUEGREEN_DOC_MAX

/* The blue/green journal (a ConfigMap flink-bluegreen-NAME). The spec each
 * child runs is kept as the document git held (its text, parsed again each
 * pass), so that the old colour keeps its spec while git already holds the
 * new one, whatever becomes of git's history. */
typedef struct deploy_bg_journal {
	enum deploy_bg_state state;
	char *active_target;   /* the template hash of the spec the active child runs */
	char *active_spec;     /* that FlinkBlueGreenDeployment document, as git held it */
	char *next_target;     /* TRANSITIONING: the template hash the new child was given */
	int64_t handover_nonce;/* SAVEPOINTING and after: the savepointTriggerNonce asked of the active
	                        * child for this transition alone (0: none) */
	int64_t handover_git_nonce; /* git's own savepointTriggerNonce when that one was asked: while git's
	                        * stays the same, the child keeps the handover nonce (a flip back would
	                        * ask for another savepoint); a new one of git's is a human's request */
	char *handover_path;   /* TRANSITIONING: the savepoint the new child started from (NULL: none) */
	int64_t started_ms;    /* TRANSITIONING: when the new child was given its spec (agent's clock) */
	int64_t healthy_ms;    /* TRANSITIONING: when the new child was first seen healthy (its first
	                        * checkpoint completed; agent's clock; 0: not yet). Without a progress
	                        * signal it counts as caught up catch_up_ms after this */
	bool retiring;         /* the other colour, stopped at a cut-over, is removed after the delay */
	char *retiring_spec;   /* the document it ran, which it stops with */
	int64_t retired_ms;    /* when it was told to stop */
	char *failed_target;   /* the target whose transition was aborted: not tried again */
	char *error;           /* FAILING: why (NULL: not failing) */
	int64_t generation;    /* transitions begun: makes each handover nonce new */
} deploy_bg_journal;

void deploy_bg_journal_clear(deploy_bg_journal *j);
/* Encode as JSON (the ConfigMap's data); caller frees. */
char *deploy_bg_journal_encode(const deploy_bg_journal *j);
/*
 * Decode, strictly: not an object, a newer format, an unknown key, a value
 * of the wrong type or out of bounds, or a state without what it needs is
 * an error (FO_EINVAL, FO_EUNSUPPORTED for a newer format) and `out` is
 * left empty: a record flinkops cannot read is never acted on, and never
 * overwritten.
 */
int deploy_bg_journal_decode(const char *text, deploy_bg_journal *out, fo_err *e);

/* What git wants. */
typedef struct deploy_bg_desired {
	bool deleting;             /* the FlinkBlueGreenDeployment is gone from git */
	bool suspended;            /* the template's job.state is suspended */
	bool stateless;            /* upgradeMode stateless: nothing is handed over */
	enum deploy_bg_diff diff;  /* git's template against the active child's spec */
	const char *target;        /* git's template hash */
	const char *spec_text;     /* git's document, kept as the spec of a child that takes it */
	const char *initial_savepoint; /* the template's job.initialSavepointPath (NULL: none) */
	int64_t savepoint_nonce;   /* the template's job.savepointTriggerNonce (0: none) */
	int64_t grace_ms;          /* kubernetes.operator.bluegreen.abort.grace-period */
	int64_t delay_ms;          /* kubernetes.operator.bluegreen.deployment-deletion.delay */
	int64_t catch_up_ms;       /* without a progress signal: this long after the new job's first
	                            * checkpoint it counts as caught up */
	int64_t max_lag_ms;        /* with one: how far behind the running job's watermarks it may be */
} deploy_bg_desired;

/*
 * What git wants of `git` (NULL: it is gone from git), against the journal
 * `j`: its template's target, document, state, mode, nonces and settings,
 * and the diff of its template against the spec the active child runs (the
 * document the journal keeps, parsed again). `d` points into `git`. 0, or
 * FO_EINVAL when the kept document does not read back (nothing may then be
 * decided). Pure.
 */
int deploy_bg_desired_of(const flink_deployment *git, const deploy_bg_journal *j, deploy_bg_desired *d, fo_err *e);

/* What the pass observed of one child (its rollout journal, and Flink). */
typedef struct deploy_bg_child {
	bool live;                 /* its objects or its journal exist */
	bool healthy;              /* its job runs its target and completed its first checkpoint */
	bool failed;               /* its rollout failed (its journal: FAILED) */
	bool suspended;            /* suspended with its state recorded, or never started */
	int64_t sp_nonce;          /* the savepointTriggerNonce its journal answered last (0: none) */
	const char *sp_path;       /* the savepoint taken for it (NULL: none, or failed) */
	const char *sp_failure;    /* why that savepoint failed (NULL: it did not) */
	int caught_up;             /* its progress against the other child's: 1 reached, 0 behind,
	                            * -1 no signal (no event time: see catch_up_ms) */
	int64_t behind_ms;         /* with 0: how far its watermarks are behind (-1: it has none yet) */
	const char *progress_error;/* with 0: why the two jobs' progress could not be compared (NULL: it was) */
	const char *problem;       /* why it is not healthy, in its rollout's words (NULL: none known) */
} deploy_bg_child;

typedef struct deploy_bg_observed {
	bool known;                /* the children's journals were read; else nothing is decided */
	deploy_bg_child child[2];  /* by colour */
	int64_t now_ms;            /* the agent's clock (ms since the epoch); 0 unknown */
} deploy_bg_observed;

/*
 * What one child is to the decision (`out`), from its own rollout journal
 * `cj` (NULL: it has none), whether any of its objects exist (`objects`),
 * the target this pass renders for it (`target`, render_target_hash; NULL
 * when the pass gives it none) and the progress signal `caught_up` (1
 * reached, 0 behind, -1 none):
 *   - healthy: its journal is settled on that target with a job that
 *     completed its first checkpoint;
 *   - failed: its rollout gave up on that target (a failure of an older
 *     one is not this target's: its rollout tries the new one);
 *   - suspended: settled without a job (stopped with its state recorded),
 *     or objects without a journal (never started);
 *   - the savepoint it answered last: the nonce its journal handled, and
 *     that request's savepoint, or its failure. The path is the newest
 *     savepoint taken for it, never an older one.
 * out's strings point into `cj`. Pure.
 */
struct deploy_journal;
void deploy_bg_observe_child(const struct deploy_journal *cj, bool objects, const char *target, int caught_up,
			     deploy_bg_child *out);

/*
 * The catch-up signal (deploy_bg_child.caught_up) from the event-time
 * progress of the running job (`old`, read first) and of the new one:
 *   - on every vertex both jobs have (a vertex keeps its id across versions
 *     while its operators keep their uids) and the old one shows a
 *     watermark on, the new job's is at most `max_lag_ms` behind: 1;
 *   - with no such vertex in common (the topology changed), each job's
 *     furthest vertex is compared the same way;
 *   - behind anywhere, or no watermark yet where the old job has one: 0,
 *     with *behind_ms the largest gap (-1 when the new one has none);
 *   - the old job shows no watermark at all (no event time, or every
 *     operator chained into its sources): -1, and the catch-up fallback
 *     decides.
 * Pure.
 */
struct flink_job_watermarks;
int deploy_bg_progress(const struct flink_job_watermarks *old, const struct flink_job_watermarks *cur,
		       int64_t max_lag_ms, int64_t *behind_ms);

enum deploy_bg_op {
	DEPLOY_BG_OP_NONE,       /* settled */
	DEPLOY_BG_OP_WAIT,       /* a child is working: look again later (`why` says on what) */
	DEPLOY_BG_OP_CREATE,     /* record TRANSITIONING_TO_BLUE: blue is created from git's spec (and
	                          * job.initialSavepointPath: `restore`) */
	DEPLOY_BG_OP_PATCH,      /* the active child takes git's spec in place (its own rollout does the
	                          * rest: in place, suspend, resume, or an upgrade from its newest state) */
	DEPLOY_BG_OP_SAVEPOINT,  /* record SAVEPOINTING with a new handover nonce: the active child takes a
	                          * savepoint for this transition and runs on */
	DEPLOY_BG_OP_TRANSITION, /* record TRANSITIONING to the other colour: it is created from git's spec,
	                          * starting from `restore` (NULL: empty state, a stateless job) */
	DEPLOY_BG_OP_FOLLOW,     /* TRANSITIONING: git moved on; the new child takes git's newer spec
	                          * (its own rollout upgrades it) and the grace period starts again */
	DEPLOY_BG_OP_HEALTHY,    /* TRANSITIONING: the new child is healthy for the first time: record
	                          * when (the catch-up fallback counts from then) */
	DEPLOY_BG_OP_FINALIZE,   /* the only child is ready: record ACTIVE (a first deployment) */
	DEPLOY_BG_OP_CUTOVER,    /* the new child caught up: record ACTIVE for it and the old one
	                          * retiring; the old child stops with a savepoint; the Ingress moves */
	DEPLOY_BG_OP_RETIRE,     /* the retired child stopped and the delay passed: its objects go */
	DEPLOY_BG_OP_ABORT,      /* the new child did not catch up in the grace period, or failed: it is
	                          * removed (after its own final savepoint), the old one runs on; record
	                          * ACTIVE for the old one, the error, and the target as failed */
	DEPLOY_BG_OP_CANCEL,     /* git no longer asks for the transition in flight (a revert, a
	                          * suspend): the new child, if any, is removed; record ACTIVE for
	                          * the old one, no error */
	DEPLOY_BG_OP_FAIL,       /* record the error; nothing changes until its cause goes */
	DEPLOY_BG_OP_DELETE,     /* gone from git: both children go (each with its final savepoint) */
	DEPLOY_BG_OP_FORGET,     /* gone from git and no child left: the journal goes */
};

typedef struct deploy_bg_next {
	enum deploy_bg_op op;
	const char *restore;       /* CREATE, TRANSITION: the state the new child starts from (NULL: none) */
	char *why;                 /* WAIT, FAIL, ABORT: why, for the log and the status (the caller frees) */
} deploy_bg_next;

/* The colour that is active in `s` (INITIALIZING: blue, the one to come). */
enum deploy_bg_colour deploy_bg_active(enum deploy_bg_state s);
/*
 * The colour that serves, or is about to serve, of journal `j`: the
 * active one; for a first child (no colour ran before it), the one
 * starting. The resource's Ingress points at it. Pure.
 */
enum deploy_bg_colour deploy_bg_serving(const struct deploy_bg_journal *j);
/* Whether `s` is SAVEPOINTING_* or TRANSITIONING_*. */
bool deploy_bg_savepointing(enum deploy_bg_state s);
bool deploy_bg_transitioning(enum deploy_bg_state s);
/* The state ACTIVE_, SAVEPOINTING_ or TRANSITIONING_TO_ `c`. */
enum deploy_bg_state deploy_bg_state_of(enum deploy_bg_state kind, enum deploy_bg_colour c);
const char *deploy_bg_state_name(enum deploy_bg_state s);
/* "blue" or "green": the child's name suffix, as upstream names them. */
const char *deploy_bg_colour_name(enum deploy_bg_colour c);
const char *deploy_bg_op_name(enum deploy_bg_op op);
const char *deploy_bg_diff_name(enum deploy_bg_diff d);

/*
 * The next blue/green step, from git's wish `d`, the journal `j` and the
 * observation `o`. Pure: the same inputs give the same step, and nothing is
 * read but the arguments. The caller records what the op names in the
 * journal before it acts (deploy_bg_record), then asks again.
 */
void deploy_bg_next_step(const deploy_bg_desired *d, const deploy_bg_journal *j, const deploy_bg_observed *o,
			 deploy_bg_next *n);

/*
 * Write into `j` what step `n` records (the state, the targets, the nonce,
 * the times, the error), at `now_ms` by the agent's clock. Pure; the caller
 * then saves `j`, fenced by the journal's resourceVersion, before it acts.
 */
void deploy_bg_record(deploy_bg_journal *j, const deploy_bg_desired *d, const deploy_bg_next *n, int64_t now_ms);

void deploy_bg_next_clear(deploy_bg_next *n);

/*
 * The children a FlinkBlueGreenDeployment runs in this pass: from git's
 * resource `git` (its template for a new colour) and the journal `j` (the
 * documents its running colours keep), appended to `out`, which owns them:
 *   - the active colour, with the spec the journal keeps for it;
 *   - during a transition, the new colour with git's spec, starting from
 *     the state recorded for it (job.initialSavepointPath is that, or
 *     none: a stateless job never restores the template's old path);
 *   - after a cut-over, the old colour with the spec it ran, suspended
 *     (it stops with a savepoint) until it is retired;
 *   - the colour that took the handover savepoint keeps the handover
 *     nonce as its savepointTriggerNonce while its own spec's nonce is
 *     the one recorded with it (going back to it would ask for another
 *     savepoint; a new one of git's is a human's request).
 * INITIALIZING: none. 0, or FO_EINVAL when a kept document does not read
 * back as the resource (nothing may then be done with its children, and
 * nothing of them deleted). Pure: it parses, nothing else.
 */
int deploy_bg_children(const flink_deployment *git, const deploy_bg_journal *j, flink_deployments *out, fo_err *e);

/* ---- the engine's pass (bgpass.c): the thin I/O around the decision ---- */

struct k8s_client;
struct deploy_live;

/* One FlinkBlueGreenDeployment in a pass. */
typedef struct deploy_bg_item {
	char *ns, *name;
	const flink_deployment *git; /* git's resource (the caller's); NULL: gone from git */
	deploy_bg_journal journal;   /* as recorded when the pass ends */
	bool recorded;               /* a journal exists (read, or written in this pass) */
	char *rv;                    /* its resourceVersion */
	char *uid;                   /* its uid, once written in this pass (the Events' object) */
	enum deploy_bg_op op;        /* the last step decided: NONE, WAIT, DELETE, ... */
	char *why;                   /* that step's reason (WAIT, FAIL, ABORT), or NULL */
	char *error;                 /* what this pass could not do (read, decide, record), or NULL */
	bool held;                   /* its children are kept as they are: nothing of them is known */
	bool forgotten;              /* gone from git with no child left: its journal was deleted */
	bool child_live[2];          /* by colour: the child exists (objects or journal) */
	bool child_running[2];       /* by colour: the child runs this pass (in the pass's deployments) */
	bool active_healthy;         /* the active child was seen healthy on its target (the last decision's
	                              * observation) */
	char *child_job[2];          /* by colour: the job its rollout journal names (NULL: none) */
	char *started_from;          /* what the active colour's job started from, as its journal says */
	char *switched_at;           /* RFC 3339: a cut-over recorded in this pass (NULL: none) */
	unsigned cutovers, aborts, cancels; /* recorded in this pass (for the metrics) */
	int64_t switch_ms;           /* the cut-over's transition: how long it took (-1: none this pass) */
} deploy_bg_item;

typedef struct deploy_bg_pass {
	deploy_bg_item *v;
	size_t n;
	char **held, **removed;      /* "ns/name" of children (deploy_options.bg_held, bg_removed) */
	size_t nheld, nremoved;
} deploy_bg_pass;

/*
 * The blue/green part of a pass: for each FlinkBlueGreenDeployment of
 * `bgs` (git's), and each blue/green journal of `live` whose resource git
 * no longer has, read its journal and its children's rollout journals
 * from `live`; with `decide`, ask deploy_bg_next_step, record each step in
 * the journal on `c` (created if absent, else under the resourceVersion
 * read: a second writer gets a conflict) before anything acts on it, and
 * ask again until it waits or settles; a resource gone from git with no
 * child left has its journal deleted. While a healthy new colour waits
 * to catch up, both jobs' watermarks are read from Flink (through the REST
 * clients of `opts`, whose agent name is stamped on what is written).
 * Without `decide` (plan --live) nothing is written. Then the children the pass runs are appended to
 * `desired` (which owns them), named after their resource's file (NULL:
 * none joins the pass, and every child is kept as it is); the
 * children the engine removes go to out->removed, and those of a resource
 * whose journal, children's journals or kept documents cannot be read, or
 * whose children exist without a journal, to out->held (with the item's
 * error), as are those the engine would remove when nothing was decided
 * or a child's journal cannot be read: nothing of them is changed or
 * deleted. Returns 0, or the first
 * error (each also on its item).
 */
struct deploy_options;
int deploy_bg_pass_run(struct k8s_client *c, const struct deploy_live *live, const flink_deployments *bgs,
		       const struct deploy_options *opts, bool decide, flink_deployments *desired, deploy_bg_pass *out,
		       fo_err *e);
void deploy_bg_pass_free(deploy_bg_pass *p);

/*
 * The status file of blue/green resource `it` after the pass (`st`: the
 * file in git, or a new one): its source (`blob`, `commit`: the file's
 * blob and the source commit, when git has it), its phase and a message
 * that changes only when the state does (never an age, which goes to the
 * log): Deploying while its first colour starts, Upgrading during a
 * transition or an in-place change, Running once the active colour runs
 * git's spec, seen healthy (observedCommit is then the file's commit),
 * Suspended, Failed with the recorded cause (an abort: the old colour runs
 * on) or what the pass could not read, Deleted once no child is left.
 * Pure.
 */
struct flink_status;
void deploy_bg_status_update(struct flink_status *st, const deploy_bg_item *it, const char *blob, const char *commit);

#endif
