/*
 * Planning: what a change to one FlinkDeployment means for the running job.
 * Pure functions over two sides — what is (the base revision, or the live
 * cluster) and what should be (the head revision) — each described by the
 * content hashes that rendering stamps on the objects. The same code answers
 * `flinkops plan` for a pull request, `plan --live` and the agent's own pass,
 * so reviewers see exactly what the agent will do.
 */
#ifndef DEPLOY_PLAN_H
#define DEPLOY_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "flink/flink.h"
#include "render/render.h"

enum deploy_action {
	DEPLOY_NONE,      /* nothing to do */
	DEPLOY_CREATE,    /* new: apply, then start the job */
	DEPLOY_IN_PLACE,  /* objects change but no Flink process restarts */
	DEPLOY_UPGRADE,   /* Flink processes or the job restart: savepoint (or as the mode says) first */
	DEPLOY_SUSPEND,   /* job.state running -> suspended: savepoint, scale to zero */
	DEPLOY_RESUME,    /* job.state suspended -> running: scale up, resume from the savepoint */
	DEPLOY_DELETE,    /* gone from git: final savepoint, then delete the objects */
};

/* One side of a comparison. Every string is borrowed. */
typedef struct deploy_side {
	bool present;
	/* content hash of each rendered object (NULL: the object is missing) */
	const char *hash[RENDER_NCOMPONENTS];
	/* flinkops.io/template-hash of the two StatefulSets */
	const char *template_hash[2];
	/* flinkops.io/job-hash of the JobManager StatefulSet (NULL: no job) */
	const char *job_hash;
	bool suspended;
	/* the model, when the side comes from git (NULL for the live cluster) */
	const flink_deployment *fd;
} deploy_side;

enum deploy_warning_kind {
	DEPLOY_WARN_STATE_DROPPED,      /* stateless upgrade, or a delete without savepoint */
	DEPLOY_WARN_NON_RESTORED_STATE, /* allowNonRestoredState: state of removed operators is dropped */
	DEPLOY_WARN_ENTRY_CLASS,        /* a new entry class may not match the savepoint */
	DEPLOY_WARN_PARALLELISM,        /* parallelism changes: the savepoint is rescaled */
	DEPLOY_WARN_JAR,                /* a new jar: operator uids must match the savepoint */
	DEPLOY_WARN_UPGRADE_MODE,       /* the upgrade mode itself changes */
	DEPLOY_WARN_STATE_AGE,          /* the state the job starts from is older than the plan's limit */
	DEPLOY_WARN_NO_CHECKPOINT,      /* last-state, and the running job has no checkpoint to resume from */
};

typedef struct deploy_warning {
	enum deploy_warning_kind kind;
	char *text;
} deploy_warning;

/* Where the next start of a deployment's job takes its state from. */
enum deploy_state_from {
	DEPLOY_STATE_NONE,       /* the change neither starts a job nor stops one with a savepoint */
	DEPLOY_STATE_SAVEPOINT,  /* the savepoint this change takes (savepoint upgrade; kept by suspend, delete) */
	DEPLOY_STATE_CHECKPOINT, /* the running job's newest checkpoint (last-state upgrade) */
	DEPLOY_STATE_SUSPENDED,  /* the savepoint the suspend took (resume) */
	DEPLOY_STATE_INITIAL,    /* job.initialSavepointPath */
	DEPLOY_STATE_EMPTY,      /* empty state: a new job, or state dropped */
};

/*
 * What the cluster says about a deployment's running job, for `plan --live`
 * (plain `plan` reads nothing: `asked` false). Every string is borrowed.
 */
typedef struct deploy_state_facts {
	bool asked;
	const char *error;             /* Flink (or the journal) could not tell: why */
	const char *job_id;            /* the job the journal names */
	const char *checkpoint_path;   /* its newest completed checkpoint (or savepoint); NULL: none */
	bool checkpoint_is_savepoint;
	int64_t checkpoint_ms;         /* that one's trigger time, ms since the epoch; -1 unknown */
	const char *restored_path;     /* what the job started from; NULL: empty */
	const char *suspend_savepoint; /* the journal's savepoint: what a resume starts from */
	int64_t suspend_savepoint_ms;  /* its time, ms since the epoch; 0 or less: unknown */
	int64_t now_ms;                /* the time of the plan, ms since the epoch */
} deploy_state_facts;

/* The state consequence of one change, for people and for -o json. */
typedef struct deploy_state {
	enum deploy_state_from from;
	char *text;                    /* one line, e.g. "the savepoint the upgrade takes ..."; NULL with NONE */
	char *path;                    /* the state's location when known, else NULL */
	int64_t age_ms;                /* its age when known, else -1 */
	/* an application cluster's job after the change: what a restart of the
	 * JobManager's pod (which runs the job) starts it from; else NULL */
	char *jm_restart;
	deploy_warning *warnings;      /* state older than the limit, operators dropped, no checkpoint */
	size_t nwarnings;
} deploy_state;

/* The default of `plan --max-state-age`: 1 hour. */
#define DEPLOY_MAX_STATE_AGE_MS (60 * 60 * 1000LL)

typedef struct deploy_change {
	enum deploy_action action;
	/* which objects are created, changed or deleted (by enum render_component) */
	bool object_changed[RENDER_NCOMPONENTS];
	bool restarts_pods;       /* a StatefulSet's pod template changes */
	bool restarts_job;        /* the job is stopped and started again */
	bool takes_savepoint;     /* the action stops the job with a savepoint first */
	deploy_warning *warnings;
	size_t nwarnings;
	char *note;               /* NONE: a change no object shows (the upgrade mode alone), or NULL */
	deploy_state state;       /* which state the next start uses (deploy_plan_state, without facts) */
} deploy_change;

/* A side from a rendered set of objects and its model. */
void deploy_side_from_rendered(deploy_side *s, const render_objects *o, const flink_deployment *fd);
/* A side from live objects, indexed by enum render_component (NULL: missing). */
void deploy_side_from_live(deploy_side *s, cJSON *const live[RENDER_NCOMPONENTS]);

/* Decide what turning `from` into `to` means, from the hashes alone. `out`
 * is reset first; free it with deploy_change_free. */
void deploy_classify(const deploy_side *from, const deploy_side *to, deploy_change *out);
/*
 * The planner: what turning `from` into `to` means for one deployment —
 * `plan` (base and head revisions), `plan --live` and the agent's pass all
 * ask this. deploy_classify of the two sides, then what the hashes cannot
 * show: objects that drifted in the cluster (`drift[k]`, when `drift` is
 * not NULL, is the path that differs, e.g. "spec.template...", or NULL) —
 * correcting a pod template's drift restarts pods (an upgrade), any other
 * is in place — and an upgrade mode that changes on its own, which restarts
 * nothing now but decides what the next upgrade keeps (out->note). Pure.
 */
void deploy_plan_change(const deploy_side *from, const deploy_side *to, const char *const drift[RENDER_NCOMPONENTS],
			deploy_change *out);
void deploy_change_free(deploy_change *c);

/*
 * Which state the next start of the job uses after change `c` (whose new
 * side is `to`), in words: the savepoint an upgrade takes, the newest
 * checkpoint (with its path and age when `f` has them from Flink), the
 * suspend's savepoint, job.initialSavepointPath, or empty state; for a
 * suspend or a delete, the savepoint that stops the job. Warns when the
 * state is older than `max_age_ms` (when its age is known; <= 0: never),
 * when job.allowNonRestoredState may drop operators' state, and when a
 * last-state upgrade has no checkpoint to resume from. For an application
 * cluster whose job runs after the change, also what a restart of the
 * JobManager's pod starts the job from (out->jm_restart): the newest
 * checkpoint with high availability, else the state this start uses again;
 * its suspend says the JobManager goes to zero too. `f` may be NULL (plain
 * plan). `out` (zeroed, or from an earlier call) is replaced. Pure.
 */
void deploy_plan_state(const deploy_change *c, const deploy_side *to,
		       const deploy_state_facts *f, int64_t max_age_ms, deploy_state *out);
void deploy_state_free(deploy_state *s);
const char *deploy_state_from_name(enum deploy_state_from f);
/* The state as a JSON object ({"from", "text", "path", "ageSeconds", "jobManagerRestart"}), or NULL with NONE. */
cJSON *deploy_state_json(const deploy_state *s);

/*
 * One deployment between two revisions of git (`plan --base --head`): both
 * models rendered and the change planned with deploy_plan_change. The live
 * cluster's side is planned by the pass instead (deploy_reconcile_plan),
 * with the same deploy_plan_change.
 */
typedef struct deploy_planned {
	const flink_deployment *from_fd, *to_fd; /* borrowed; NULL when absent on that side */
	render_objects from_objs, to_objs;       /* valid when *_rendered */
	bool from_rendered, to_rendered;
	deploy_side from, to;
	deploy_change change;
	char *error;                             /* the head side does not render: not planned */
} deploy_planned;

/* Render both sides of `p` (from_fd and to_fd set) and plan the change. A
 * base that does not render is compared as absent. Pure. */
void deploy_plan_pair(deploy_planned *p);
void deploy_planned_free(deploy_planned *p);

const char *deploy_action_name(enum deploy_action a);
/* A sentence for people: "savepoint upgrade", "stateless restart (state is dropped)", ... */
const char *deploy_action_label(enum deploy_action a, const deploy_side *to, const deploy_side *from);

#endif
