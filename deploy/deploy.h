/*
 * The deploy module's public face: planning (plan.h) and reconciling the
 * cluster's objects with what git renders. A pass is three steps so that
 * each can be tested and reused on its own:
 *
 *   1. deploy_live_load   — the live inventory: every object labelled
 *                           managed-by=flinkops, a few LISTs per kind;
 *   2. deploy_reconcile_plan — pure: per deployment, which objects are
 *                           missing, changed in git or drifted in the
 *                           cluster, how the change is classified, and which
 *                           deployments are gone from git (prune, with its
 *                           guard);
 *   3. deploy_reconcile_apply — server-side apply of what differs, then the
 *                           prune; each object's outcome is recorded only
 *                           after the server confirmed it.
 */
#ifndef DEPLOY_DEPLOY_H
#define DEPLOY_DEPLOY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "deploy/journal.h"
#include "deploy/plain.h"
#include "deploy/plan.h"
#include "deploy/rollout.h"
#include "flink/flink.h"
#include "flink/jar.h"
#include "k8s/k8s.h"
#include "lib/err.h"
#include "render/render.h"

/* ---- comparing objects (pure) ---- */

/*
 * True when every field set in `want` has the same value in `have`. Fields
 * the server adds are ignored; resource quantities compare by amount
 * ("1024Mi" equals "1Gi"); an empty map or list in `want` matches an absent
 * one. On a difference, *where (when non-NULL) gets its path, e.g.
 * "spec.replicas: 2 != 5"; the caller frees it.
 */
bool deploy_subset_equal(const cJSON *want, const cJSON *have, char **where);
/* True when two objects are equal once the fields the server maintains
 * (resourceVersion, managedFields, generation, uid, creationTimestamp,
 * status) are ignored. Used to confirm drift with a dry-run apply. */
bool deploy_same_stored(const cJSON *a, const cJSON *b, char **where);
/*
 * Whether a StatefulSet as the server returned it has rolled out its spec:
 * the controller saw its generation, every wanted pod runs it and is Ready,
 * and no pod beyond them is left. A job started before that would run on
 * pods about to be replaced. Else false, with *why (the caller frees it),
 * e.g. "wc-taskmanager: 1 of 2 pods updated".
 */
bool deploy_statefulset_rolled_out(const cJSON *sts, char **why);
/* Longest message of a pod's condition or container state quoted. */
#define DEPLOY_POD_REASON_MAX 300
/*
 * Why a pod of a StatefulSet that has not rolled out is stuck, when the
 * pod says so: not scheduled (the scheduler's message, e.g. "0/3 nodes are
 * available: 3 Insufficient cpu"), a container waiting for a reason other
 * than a normal start (ErrImageNeverPull, CrashLoopBackOff,
 * CreateContainerConfigError ...), or restarted after an end with a reason
 * (OOMKilled). A new one-line string (cut, control characters replaced),
 * or NULL when the pod gives no such reason.
 */
char *deploy_pod_stuck_reason(const cJSON *pod);

/* ---- the live inventory ---- */

typedef struct deploy_live deploy_live;

/* The label that says which agent applied an object: each agent (one per
 * repository) lists and prunes only its own objects. */
#define DEPLOY_LABEL_AGENT "flinkops.io/agent"

/* LIST ConfigMaps, Services and StatefulSets labelled managed-by=flinkops and
 * flinkops.io/agent=`agent` (and the rollout journals), in each of the `n`
 * namespaces, or in all namespaces when n is 0 — an agent whose RBAC grants
 * it only some namespaces lists only those. */
int deploy_live_load(k8s_client *c, const char *agent, char *const *namespaces, size_t n, deploy_live **out,
		     fo_err *e);
/*
 * Keep only the FlinkDeployments and plain objects (ServiceAccounts, Roles,
 * RoleBindings) in the `n` namespaces an agent manages (all when n is 0);
 * each one elsewhere is an error in `d` at its document
 * ("namespace X is not one this agent manages") and is dropped, so that it
 * is neither applied nor — the error making the pass skip pruning — taken
 * as gone. Returns how many were dropped. Pure.
 */
size_t deploy_scope_filter(flink_deployments *v, char *const *namespaces, size_t n, fo_diags *d);
/* The journal `i` of the inventory (from 0, in the order listed): its
 * deployment as "ns/name", and its text. False past the last. */
bool deploy_live_journal_at(const deploy_live *l, size_t i, const char **key, const char **text);
/* The FlinkStateSnapshot record `i` of the inventory (from 0): its
 * snapshot as "ns/name", its text (NULL when the ConfigMap holds none) and
 * its resourceVersion. False past the last. */
bool deploy_live_snapshot_at(const deploy_live *l, size_t i, const char **key, const char **text, const char **rv);
/* The blue/green journal `i` of the inventory (from 0), as the snapshot
 * records above. False past the last. */
bool deploy_live_bluegreen_at(const deploy_live *l, size_t i, const char **key, const char **text, const char **rv);
/* Whether any object of deployment ns/name, or its journal, is live. */
bool deploy_live_has_instance(const deploy_live *l, const char *ns, const char *name);
/* How many journal ConfigMaps were listed that hold no journal, or lack
 * the labels that name their deployment (so none of the above). */
size_t deploy_live_journals_unread(const deploy_live *l);
/* A copy of the live object of a kind (the caller frees it), or NULL. */
cJSON *deploy_live_get(const deploy_live *l, const k8s_kind *kind, const char *ns, const char *name);
void deploy_live_free(deploy_live *l);

/* ---- a reconcile pass ---- */

enum deploy_obj_state {
	DEPLOY_OBJ_EQUAL,    /* same content hash, nothing drifted */
	DEPLOY_OBJ_MISSING,  /* not in the cluster */
	DEPLOY_OBJ_CHANGED,  /* git renders something new */
	DEPLOY_OBJ_DRIFTED,  /* same hash, but someone edited the live object */
	DEPLOY_OBJ_EXTRA,    /* git renders none (an optional component, spec.ingress
	                      * removed) and one is live: deleted when applied */
};

/* What a pass did with one deployment: the only words a status may use. */
enum deploy_outcome {
	DEPLOY_OUTCOME_NOT_ATTEMPTED, /* the pass did not get to it (aborted, or an earlier error) */
	DEPLOY_OUTCOME_WAITING,       /* Flink or the cluster is working on it: `waiting` says on what */
	DEPLOY_OUTCOME_SETTLED,       /* applied (or nothing to do); with a job: as observed */
	DEPLOY_OUTCOME_FAILED,        /* `error` says why */
};

typedef struct deploy_item {
	const flink_deployment *fd;     /* NULL for a deployment that is gone from git */
	char *ns, *name;
	/* A FlinkSessionJob: the session cluster it runs on (git's, or for
	 * one gone from git its journal's), whose REST API and pods it uses;
	 * NULL for a FlinkDeployment */
	char *cluster;
	/* a session job whose cluster's pods restart in this change: its job
	 * stops with a savepoint first, and starts again on the new pods */
	bool cluster_restarts;
	/* a session job: its cluster's objects are not yet what git renders
	 * (a start waits for them, and for their pods) */
	bool cluster_pending;
	/* a session cluster whose pods would restart while these session
	 * jobs still run (or stop, or start) on it: it waits for them */
	char *held_by;
	/* FlinkStateSnapshots of its job in flight ("a, b"): the rollout
	 * does not stop or cancel the job until they end */
	char *snapshot_hold;
	/* a session cluster whose TaskManagers git makes fewer (its jobs need
	 * fewer slots): the shrink waits for the jobs that are stopping */
	bool tm_shrinks;
	render_objects objs;            /* rendered while compared or applied, empty otherwise */
	cJSON *live[RENDER_NCOMPONENTS];/* owned; for desired deployments only while planning,
	                                 * unless deploy_options.keep_live */
	enum deploy_obj_state state[RENDER_NCOMPONENTS];
	/* an optional component git renders none of and none is live (its
	 * state is EQUAL: nothing to do, nothing to report) */
	bool absent[RENDER_NCOMPONENTS];
	char *drift[RENDER_NCOMPONENTS];/* what drifted, for the report */
	deploy_change change;           /* classification live -> git */
	bool applied[RENDER_NCOMPONENTS];
	bool deleted;                   /* pruned, confirmed by the server */
	bool bg_removed;                /* a blue/green colour its engine removes (options.bg_removed) */
	char *error;                    /* first error for this deployment, or NULL */
	char *job_hash;                 /* the rendered job hash (NULL without a job) */
	char *target_hash;              /* the rendered target: job hash and pod templates (render_target_hash) */
	/* An application cluster: the start its JobManager was last applied
	 * with, as the journal says (render_start); both NULL when it says none */
	char *start_job_id, *start_from;
	bool job_pending;               /* the journal says the job is not (yet) the rendered one */
	bool job_started;               /* a job was started in this pass */
	bool watch_job;                 /* check the running job (and restart it if it failed) */
	long ms_total, ms_savepoint, ms_job_start; /* a rollout's wall time, and Flink's part of it */
	deploy_journal journal;         /* what the journal says after the pass (for status files) */
	bool journal_bad;               /* the journal did not decode, or is another agent's (or
	                                 * could not be read): the job is left alone */
	bool unread;                    /* the plan was aborted before it was read: nothing is
	                                 * known of it, nothing is done with it (NOT_ATTEMPTED) */
	enum deploy_outcome outcome;
	char *waiting;                  /* WAITING: on what */
	bool late;                      /* WAITING past its timeout */
	long wait_ms;                   /* WAITING: for how long (-1 unknown); for the log and metrics only,
	                                 * never in `waiting` or a status file */
	bool job_running;               /* settled with the target's job seen RUNNING by Flink */
	char *job_state;                /* the job's state as Flink reported it in this pass, or NULL */
	bool flink_restarts_known;      /* job_running, and Flink answered for its restarts: */
	long long flink_restarts;       /* how often Flink itself restarted the running job */
	bool drift_job;                 /* the job had ended outside flinkops and was started again */
	/* What the rollout finished or failed in this pass, for the agent's
	 * metrics (rollout.c fills them; deploy formats no metric): */
	bool savepoint_done;            /* a stop's savepoint completed: ms_savepoint is trigger -> COMPLETED */
	bool upgrade_done;              /* an upgrade's job RUNNING: ms_upgrade is its first step -> RUNNING */
	long ms_upgrade;
	enum deploy_failure failure;    /* a rollout step failed: why (DEPLOY_FAILURE_NONE: none) */
	bool rollback_started;          /* this pass started a rollback (journaled it, cancelled the failed job) */
} deploy_item;

typedef struct deploy_pass {
	deploy_item *items;             /* desired deployments first, then prunes */
	size_t n;
	size_t nprune;                  /* items with fd == NULL */
	bool prune_refused;             /* the guard (or unreadable manifests) stopped the prune */
	char *prune_reason;
	bool prune_disabled;            /* prune.enabled is false: gone deployments are kept */
	bool aborted;                   /* the API server became unreachable */
	bool stopped;                   /* deploy_options.stop was set: the rest was not attempted */
	char *abort_reason;
	/* the repository's ServiceAccounts, Roles and RoleBindings (plain.h):
	 * what the pass decided and did with them */
	deploy_plain_plan plain;
	bool plain_listed;              /* they were listed and decided (else nothing was done) */
} deploy_pass;

/* How jobs are run (deploy/rollout.c); without it a pass handles objects only. */
typedef struct deploy_rollout_opts {
	const char *rest_url;           /* template: {name}, {namespace} */
	long savepoint_timeout_ms, ready_timeout_ms, running_timeout_ms;
	int restart_budget;             /* restarts of a failed job before it is left Failed */
	bool rollback;                  /* flink.rollback auto: a new job that never becomes healthy is
	                                 * rolled back (a deployment's own setting wins) */
	flink_jar_opts jar;             /* where jars come from and are cached */
	const char *ca_file;            /* CA bundle for an https:// REST endpoint */
	long call_timeout_ms;           /* each REST call (0: the client's default) */
	const char *commit;             /* the source commit, recorded in the journal */
	const fo_fence *fence;          /* leader election: Flink actions refused unless held (NULL: none) */
	/* savepoint retention (retention.h): everything the pass knows is
	 * referenced, and its doubts; NULL: nothing is disposed of */
	const struct deploy_retention_ctx *retention;
} deploy_rollout_opts;

typedef struct deploy_options {
	bool prune;                     /* delete objects of deployments gone from git */
	double max_delete_ratio;        /* refuse a prune of more than this share (0.5) */
	bool force_prune;               /* override the guard */
	const char *prune_skip_reason;  /* e.g. "2 manifest files have errors" */
	bool confirm_drift;             /* confirm a suspected drift with a dry-run apply */
	int concurrency;                /* deployments applied at once, each on its own connection (1) */
	const char *agent;              /* the agent's name, stamped on every object (default "flinkops") */
	bool keep_live;                 /* keep each item's live objects after planning (to show them) */
	const deploy_rollout_opts *rollout; /* run jobs too; NULL: objects only */
	const atomic_bool *stop;        /* when set (shutdown), no further deployment is started;
	                                 * the one in flight finishes its step, which is journaled,
	                                 * or, in a jar's download, upload or run or a Flink call,
	                                 * is cut as a crash there would (the journal came first) */
	atomic_llong *alive;            /* the rollouts' transfers mark progress here (NULL: not kept) */
	/* Blue/green (deploy_bg_pass_run), each as "ns/name": the children
	 * git has no file for that the pass must keep as they are (those of
	 * a blue/green resource whose record or whose children's journals
	 * cannot be read), and those its engine removes (a colour aborted,
	 * cancelled or retired). A removal is the engine's decision from a
	 * record it read, not a file found missing: it is deleted, with its
	 * final savepoint, whatever prune.enabled and the delete ratio say,
	 * and is not counted in that ratio; never in a pass that lost the
	 * API server. */
	char *const *bg_held;
	size_t nbg_held;
	char *const *bg_removed;
	size_t nbg_removed;
} deploy_options;

/*
 * Build the pass for `desired` against the live inventory. With a client
 * and opts->confirm_drift, a suspected drift is confirmed by a dry-run
 * apply; without a client the comparison is purely local.
 */
int deploy_reconcile_plan(const flink_deployments *desired, const deploy_live *live, k8s_client *c,
			  const deploy_options *opts, deploy_pass *out, fo_err *e);
/*
 * Tie each session job of `p` to its cluster's item (deploy_reconcile_plan
 * calls it last): a cluster whose pods restart waits (held_by) for the jobs
 * on it that still run or start (deploy_session_job_holds), which stop with
 * a savepoint first (cluster_restarts); one whose TaskManagers shrink
 * (tm_shrinks) waits for the jobs that are stopping (suspended or gone
 * from git), whose savepoint a TaskManager removed under it could fail —
 * a job that keeps running may have its tasks restarted by Flink from its
 * newest checkpoint, as on any TaskManager's loss; a job's start waits until its
 * cluster's objects are what git renders (cluster_pending; also when the
 * cluster's item is missing, failed or unread). Pure.
 */
void deploy_link_session_jobs(deploy_pass *p);
/*
 * The session jobs of `p` on cluster item `cl` that are not deleted yet, as
 * "a, b" (caller frees), with every prune of `cl`'s namespace whose journal
 * cannot be read and that has no objects of its own (it may be one); NULL
 * when none. A cluster gone from git
 * is deleted only once this is NULL: its jobs go first, each with its
 * final savepoint. Pure.
 */
char *deploy_session_jobs_on(const deploy_pass *p, const deploy_item *cl);
/* Apply what differs and prune what is gone (unless refused). Returns 0 when
 * everything succeeded; otherwise the first error, with per-item errors set. */
int deploy_reconcile_apply(k8s_client *c, deploy_pass *p, const deploy_options *opts, fo_err *e);
void deploy_pass_free(deploy_pass *p);

/* The journal text of a deployment from the inventory, or NULL; *rv gets
 * its ConfigMap's resourceVersion. */
const char *deploy_live_journal(const deploy_live *l, const char *ns, const char *name);
const char *deploy_live_journal_rv(const deploy_live *l, const char *ns, const char *name, const char **rv);
/* The uid of a deployment's journal ConfigMap from the inventory, or NULL. */
const char *deploy_live_journal_uid(const deploy_live *l, const char *ns, const char *name);
/* After the status files that record them are pushed: delete the journals
 * of the deployments this pass deleted (their final savepoint is in git). */
int deploy_pass_forget_deleted(k8s_client *c, const deploy_pass *p, fo_err *e);

/*
 * The job side of one deployment (rollout.c): advance its rollout as far as
 * it can go now — each step decided by deploy_next_step (rollout.h) from the
 * journal and what Flink reports, recorded in the journal before it acts.
 * A step that waits on Flink leaves it->outcome WAITING and returns 0.
 */
int deploy_rollout_item(k8s_client *c, deploy_item *it, const deploy_options *o,
			int (*apply_objects)(k8s_client *, deploy_item *, void *), void *arg, fo_err *e);

/* Replace an item's rendered objects with `objs` (taken over; *objs is
 * left empty), labelled for the agent of `opts`. */
void deploy_item_set_objects(deploy_item *it, render_objects *objs, const deploy_options *opts);

/* A REST client for the Flink cluster `cluster` of namespace `ns`, as the
 * rollout options of `o` say (URL template, CA, call timeout, fence, the
 * stop request): what every call to Flink in a pass goes through. */
struct flink_rest;
int deploy_rest_open(const deploy_options *o, const char *ns, const char *cluster, struct flink_rest **out,
		     fo_err *e);
/* The agent's name that labels and owns what it writes (options.agent, or
 * "flinkops" when none is set). */
const char *deploy_agent_name(const deploy_options *opts);
/* Record the start an application cluster's JobManager is applied with
 * (render_start; copied), which later renders of `it` use. */
void deploy_item_set_start(deploy_item *it, const char *job_id, const char *from);

/* Before a deployment gone from git is deleted: stop its job with a final
 * savepoint, recorded in the journal (it->journal) before anything goes.
 * The objects may go only when it->outcome is SETTLED. */
int deploy_rollout_final_savepoint(k8s_client *c, deploy_item *it, const deploy_options *o, fo_err *e);

/* The named crash points (FLINKOPS_CRASH_AFTER) in the order a rollout
 * passes them; fills up to `max` and returns how many. */
size_t deploy_crash_points(const char **out, size_t max);
/* Kill the process or pause the pass at the named point when
 * FLINKOPS_CRASH_AFTER or FLINKOPS_PAUSE_AFTER names it (rollout.c lists
 * every point and what it is for). */
void deploy_fault_point(const char *name);

/*
 * The status policy (status.c): update `s` (the status file in git, or a new
 * one) with what this pass did with `it`. `blob` is the manifest's blob id,
 * `commit` the source commit; `jobs` whether the agent runs jobs;
 * `not_attempted_why` says why the pass did not get to deployments it did
 * not attempt. Pure.
 */
struct flink_status;
void deploy_status_update(struct flink_status *s, const deploy_item *it, const char *blob, const char *commit,
			  bool jobs, const char *not_attempted_why);

/*
 * The history after deploy_status_update (status.c), pure: `before` is the
 * phase and `before_savepoint` the lastSavepoint path the file had, `now`
 * the time of the pass. A savepoint newly taken for a stop (upgrade,
 * suspend, delete) is written as stoppedWith on the newest entry of a job
 * that has none; a job seen running that no entry names gets an entry with
 * its id and the state it started from (the journal's startedFrom*); any
 * other change of phase gets a plain entry, as does a file's first status.
 */
void deploy_status_history(struct flink_status *s, int before, const char *before_savepoint,
			   const deploy_item *it, const char *now);

/* Counts for reports. */
typedef struct deploy_summary {
	size_t deployments, unchanged, created, updated, drifted, pruned, failed;
	size_t unread; /* not read before the pass was aborted: neither unchanged nor changed */
	size_t objects_applied, objects_deleted;
} deploy_summary;
void deploy_pass_summary(const deploy_pass *p, deploy_summary *s);
/* The pass as JSON (for -o json and for logs). */
cJSON *deploy_pass_json(const deploy_pass *p);
const char *deploy_obj_state_name(enum deploy_obj_state s);

#endif
