/*
 * A client for the REST API of one Flink cluster (the JobManager's port
 * 8081): cluster overview, jobs, checkpoints, jar upload and run, savepoints,
 * stop and cancel. It is what the rollout drives; every call has a timeout,
 * every response a size limit, and every answer is checked field by field,
 * because a JobManager is a server like any other: it may be old, busy,
 * half-started or not Flink at all. Results are typed structs, not JSON.
 *
 * Errors carry the verb, the cluster and Flink's own cause, trimmed of its
 * Java stack trace, e.g.
 *   run jar 5f0c..._job.jar on http://wc-rest.prod.svc:8081: org.apache.flink.
 *   client.program.ProgramInvocationException: The program's entry point
 *   class 'x.Y' was not found in the jar file. (POST /jars/5f0c..._job.jar/run, HTTP 500)
 * HTTP statuses map to codes: 404 FO_ENOTFOUND, 400 FO_EINVAL, 401 FO_EAUTH,
 * 403 FO_EFORBIDDEN, 409 FO_ECONFLICT, other failures FO_ESERVER; no answer
 * at all, or one cut short, is FO_ENET or FO_ETIMEOUT (worth retrying), and
 * a body that is not JSON (an HTML page) or not the expected shape is
 * FO_ESERVER. A redirect is FO_EINVAL (the URL should be the final one), a
 * TLS certificate not valid for the host FO_EREFUSED, an answer over
 * max_body FO_ETOOBIG: retrying changes none of these.
 *
 * Flink caches what GET /jobs/:id reports for `web.refresh-interval`
 * (3 s by default): a state read right after a cancel or stop may still show
 * the old state. GET /jobs/overview is not cached.
 */
#ifndef FLINK_REST_H
#define FLINK_REST_H

#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "lib/fence.h"

typedef struct flink_rest flink_rest;

/* The defaults a liveness budget must allow for (agent_health_budget_ms):
 * a call, its connect, a jar's run (Flink runs the jar's main() before it
 * answers: no byte moves meanwhile) and an upload's stall (nothing taken
 * for this long ends it). */
#define FLINK_REST_TIMEOUT_MS 30000L
#define FLINK_REST_CONNECT_TIMEOUT_MS 5000L
#define FLINK_REST_RUN_TIMEOUT_MS 120000L
#define FLINK_REST_UPLOAD_STALL_MS 60000L

typedef struct flink_rest_opts {
	long timeout_ms;          /* each call (default 30 s) */
	long connect_timeout_ms;  /* default 5 s */
	long upload_timeout_ms;   /* POST /jars/upload (default 5 min) */
	long run_timeout_ms;      /* POST /jars/:id/run, which runs the jar's main() (default 2 min) */
	size_t max_body;          /* larger answers fail with FO_ETOOBIG (default 8 MiB) */
	const char *ca_file;      /* for an https:// REST endpoint */
	bool insecure;            /* skip TLS verification */
	const fo_fence *fence;    /* NULL: always allowed; else every POST, PATCH and DELETE (stop,
	                           * savepoint, cancel, jar upload, run and delete) is refused with
	                           * FO_EFENCED, before it is sent, while the fence is not held */
	const atomic_bool *stop;  /* when set (shutdown): the waits end at once, as at their deadline,
	                           * and a jar's upload or run in flight ends with FO_ESTOPPED */
	atomic_llong *alive;      /* each answer and each byte moved marks progress here (NULL: not kept) */
} flink_rest_opts;

/*
 * A client for the cluster at `base_url` ("http://host:8081"; a path prefix
 * is kept, a trailing slash dropped). One connection is kept and reused; a
 * client is used by one thread at a time (one per rollout worker). A URL
 * with user info, a query or a fragment is refused, and messages show the
 * URL as fo_url_redact does. Returns 0, or FO_EINVAL for a URL that is not
 * http(s).
 */
int flink_rest_new(const char *base_url, const flink_rest_opts *opts, flink_rest **out, fo_err *e);
void flink_rest_free(flink_rest *c);
/* The base URL as the messages show it. */
const char *flink_rest_base(const flink_rest *c);

/* ---- typed results ---- */

/* A job's state as Flink names it (JobStatus). */
enum flink_job_status {
	FLINK_JOB_UNKNOWN = 0, /* a name this client does not know */
	FLINK_JOB_INITIALIZING,
	FLINK_JOB_CREATED,
	FLINK_JOB_RUNNING,
	FLINK_JOB_FAILING,
	FLINK_JOB_FAILED,
	FLINK_JOB_CANCELLING,
	FLINK_JOB_CANCELED,
	FLINK_JOB_FINISHED,
	FLINK_JOB_RESTARTING,
	FLINK_JOB_SUSPENDED,
	FLINK_JOB_RECONCILING,
};
#define FLINK_JOB_STATUS_COUNT 12

/* "RUNNING", ...; "UNKNOWN" for FLINK_JOB_UNKNOWN. */
const char *flink_job_status_name(enum flink_job_status s);
/* The state named `s` (exact, as Flink spells it), or FLINK_JOB_UNKNOWN. */
enum flink_job_status flink_job_status_parse(const char *s);
/* FAILED, CANCELED and FINISHED: the job will never run again. */
bool flink_job_status_is_terminal(enum flink_job_status s);
/* A set of states for flink_rest_job_wait. */
#define FLINK_JOB_MASK(s) (1u << (s))

typedef struct flink_cluster_config {
	char *flink_version;      /* "1.20.5" */
	char *flink_revision;     /* may be NULL */
	long refresh_interval_ms; /* how long GET /jobs/:id may be stale; -1 when not given */
	bool web_submit;          /* jar upload and run allowed (web.submit.enable) */
	bool web_cancel;
} flink_cluster_config;

typedef struct flink_overview {
	int taskmanagers;
	int slots_total;
	int slots_available;
	int jobs_running;
	int jobs_finished;
	int jobs_cancelled;
	int jobs_failed;
	char *flink_version;      /* NULL when not given */
} flink_overview;

typedef struct flink_taskmanager {
	char *id;
	int slots;
	int free_slots;
} flink_taskmanager;

typedef struct flink_taskmanagers {
	flink_taskmanager *v;
	size_t n;
} flink_taskmanagers;

typedef struct flink_job_info {
	char *id;                 /* 32 lower-case hex digits */
	char *name;               /* may be NULL */
	enum flink_job_status state;
	char *state_name;         /* as Flink sent it, for states this client does not know */
	int64_t start_time;       /* ms since the epoch; -1 when not started */
	int64_t end_time;         /* -1 while running */
	int64_t duration;         /* ms; -1 when not given */
	int64_t now;              /* Flink's clock when it answered (GET /jobs/:id), ms since the epoch;
	                           * -1 when not given. Compared with start/end times, never ours. */
} flink_job_info;

/* One job vertex's event-time progress: the lowest input watermark over
 * its subtasks (ms since the epoch), FLINK_NO_WATERMARK when a subtask has
 * none or the vertex has no inputs (a source: its input shows nothing). */
#define FLINK_NO_WATERMARK INT64_MIN
typedef struct flink_vertex_watermark {
	char *id;                 /* the JobVertexID, 32 lower-case hex digits */
	int64_t watermark;
} flink_vertex_watermark;

typedef struct flink_job_watermarks {
	flink_vertex_watermark *v;
	size_t n;
} flink_job_watermarks;

typedef struct flink_job_list {
	flink_job_info *v;
	size_t n;
} flink_job_list;

typedef struct flink_checkpoint_info {
	int64_t completed;        /* counts */
	int64_t failed;
	int64_t in_progress;
	int64_t restored;
	/* the newest completed checkpoint (or savepoint); id -1 when none */
	int64_t latest_id;
	char *latest_path;        /* its external_path, e.g. "file:/.../chk-3"; NULL when none */
	bool latest_is_savepoint;
	int64_t latest_trigger_time;
	char *latest_savepoint_path; /* the newest savepoint, NULL when none */
	char *restored_path;      /* what the job started from, NULL when fresh */
	char *latest_failure;     /* the newest failed checkpoint's message, NULL when none */
} flink_checkpoint_info;

enum flink_savepoint_state {
	FLINK_SAVEPOINT_IN_PROGRESS,
	FLINK_SAVEPOINT_COMPLETED,
	FLINK_SAVEPOINT_FAILED,   /* Flink says COMPLETED with a failure-cause */
};

/* A savepoint's (or a triggered checkpoint's) operation status. */
typedef struct flink_savepoint_status {
	enum flink_savepoint_state state;
	char *location;           /* COMPLETED savepoint: e.g. "file:/savepoints/savepoint-000000-b600..." */
	int64_t checkpoint_id;    /* COMPLETED checkpoint: its id (Flink names no path there) */
	char *failure;            /* FAILED: Flink's cause, trimmed of its stack trace */
} flink_savepoint_status;

typedef struct flink_run_opts {
	const char *entry_class;  /* NULL: the jar manifest's Main-Class */
	const char *const *args;  /* programArgsList */
	size_t nargs;
	int parallelism;          /* 0: the cluster's default */
	const char *savepoint_path; /* start from this savepoint or retained checkpoint */
	bool allow_non_restored_state;
	/*
	 * The job id to give the job (32 hex digits), NULL to let Flink choose.
	 * Choosing it makes a resubmit after a crash safe: running the same id
	 * again while the first is still known fails with FO_ECONFLICT instead
	 * of starting a second job.
	 */
	const char *job_id;
	/* A session job's flinkConfiguration: the keys flink_session_conf_passed
	 * accepts go into the request's "flinkConfiguration" (Flink 1.17 on);
	 * NULL: none */
	const struct flink_kvs *conf;
} flink_run_opts;

void flink_cluster_config_free(flink_cluster_config *c);
void flink_overview_free(flink_overview *o);
void flink_taskmanagers_free(flink_taskmanagers *t);
void flink_job_info_free(flink_job_info *j);
void flink_job_list_free(flink_job_list *l);
void flink_job_watermarks_free(flink_job_watermarks *w);
void flink_checkpoint_info_free(flink_checkpoint_info *c);
void flink_savepoint_status_free(flink_savepoint_status *s);

/* ---- calls; each fills `out` (freed with its _free in every case) ---- */

/* GET /config: version and whether jar submission is enabled. */
int flink_rest_config(flink_rest *c, flink_cluster_config *out, fo_err *e);
/* GET /overview: TaskManagers and slots. */
int flink_rest_overview(flink_rest *c, flink_overview *out, fo_err *e);
/* GET /taskmanagers. */
int flink_rest_taskmanagers(flink_rest *c, flink_taskmanagers *out, fo_err *e);
/* GET /jobs/overview: every job the cluster knows, newest first as Flink lists them. */
int flink_rest_jobs(flink_rest *c, flink_job_list *out, fo_err *e);
/* GET /jobs/:id (name, state, times; the state may be up to
 * web.refresh-interval old). An unknown job is FO_ENOTFOUND. */
int flink_rest_job(flink_rest *c, const char *job_id, flink_job_info *out, fo_err *e);
/*
 * The job's current state from GET /jobs/overview, which Flink does not
 * cache (GET /jobs/:id may lag by web.refresh-interval): what a decision
 * should rest on. An unknown job is FO_ENOTFOUND.
 */
int flink_rest_job_state(flink_rest *c, const char *job_id, enum flink_job_status *state, fo_err *e);
/* GET /jobs/:id/checkpoints. */
int flink_rest_checkpoints(flink_rest *c, const char *job_id, flink_checkpoint_info *out, fo_err *e);
/* GET /jobs/:id/checkpoints/config: *interval_ms the job's checkpoint
 * interval, 0 when checkpointing is off (Flink answers 404, or an interval
 * of Long.MAX_VALUE, for a job that never checkpoints). */
int flink_rest_checkpointing(flink_rest *c, const char *job_id, int64_t *interval_ms, fo_err *e);
/* GET /jobs/:id/metrics?get=numRestarts: how often Flink itself restarted
 * the job (its restart strategy: a lost TaskManager, a failed task) since
 * it was submitted; *restarts is -1 while Flink has no such metric yet. */
int flink_rest_job_restarts(flink_rest *c, const char *job_id, int64_t *restarts, fo_err *e);
/*
 * The event-time progress of each vertex of a job: GET /jobs/:id for its
 * vertices, then GET /jobs/:id/vertices/:vid/watermarks for each (at most
 * FLINK_MAX_VERTICES). The values are what Flink's metric fetcher last
 * gathered (metrics.fetcher.update-interval, 10 s by default), never newer.
 */
#define FLINK_MAX_VERTICES 256
int flink_rest_job_watermarks(flink_rest *c, const char *job_id, flink_job_watermarks *out, fo_err *e);
/*
 * GET /jobs/:id/exceptions: the newest failure's text (first lines of its
 * stack trace, bounded) in *root_cause, or NULL when the job never failed.
 */
int flink_rest_exceptions(flink_rest *c, const char *job_id, char **root_cause, fo_err *e);

/*
 * POST /jars/upload of the local file `path` (multipart field `jarfile`;
 * Flink wants the name to end in .jar). *jar_id gets the id for run and
 * delete: "<uuid>_<file name>". Caller frees.
 */
int flink_rest_jar_upload(flink_rest *c, const char *path, char **jar_id, fo_err *e);
/* POST /jars/:id/run. *job_id gets the new job's id. Caller frees. */
int flink_rest_jar_run(flink_rest *c, const char *jar_id, const flink_run_opts *o, char **job_id, fo_err *e);
/* DELETE /jars/:id. */
int flink_rest_jar_delete(flink_rest *c, const char *jar_id, fo_err *e);

/*
 * POST /jobs/:id/stop {targetDirectory, drain: false, triggerId}: stop with a
 * savepoint. `target_dir` NULL uses the cluster's default savepoint
 * directory. `want_trigger` (32 hex digits, or NULL to let Flink choose) is
 * the trigger id to use: a caller that records it before the request can
 * ask for the result even when the reply is lost, and sending the same id
 * again does not start a second savepoint. *trigger_id gets the id to poll
 * with flink_rest_savepoint_status or flink_rest_savepoint_wait. Caller frees.
 */
int flink_rest_job_stop(flink_rest *c, const char *job_id, const char *target_dir, const char *want_trigger,
			char **trigger_id, fo_err *e);
/* GET /jars: whether the jar `jar_id` is uploaded on the cluster. */
int flink_rest_jar_exists(flink_rest *c, const char *jar_id, bool *exists, fo_err *e);
/* Parse the reply of GET /jars: whether it lists `jar_id`. */
int flink_rest_parse_jar_list(const char *body, const char *jar_id, bool *exists, fo_err *e);
/* POST /jobs/:id/savepoints {"target-directory", "cancel-job": false,
 * "formatType", "triggerId"}: `format_type` CANONICAL or NATIVE (NULL:
 * Flink's default, CANONICAL); the rest as for flink_rest_job_stop. */
int flink_rest_savepoint_trigger(flink_rest *c, const char *job_id, const char *target_dir, const char *format_type,
				 const char *want_trigger, char **trigger_id, fo_err *e);
/*
 * GET /jobs/:id/savepoints/:triggerid. Returns 0 for IN_PROGRESS and
 * COMPLETED. A failed savepoint fills out->failure and returns FO_ESERVER
 * with Flink's cause in `e`.
 */
int flink_rest_savepoint_status(flink_rest *c, const char *job_id, const char *trigger_id,
				flink_savepoint_status *out, fo_err *e);
/*
 * Poll a savepoint (or stop) operation until it completes, fails or
 * `timeout_ms` passes (FO_ETIMEOUT). Connection failures while polling are
 * retried until the deadline. On success *location gets the savepoint's
 * path; caller frees.
 */
int flink_rest_savepoint_wait(flink_rest *c, const char *job_id, const char *trigger_id, long timeout_ms,
			      char **location, fo_err *e);
/*
 * POST /jobs/:id/checkpoints {"checkpointType", "triggerId"} (Flink 1.17
 * on): a checkpoint of the running job. `type` is FULL, INCREMENTAL or
 * CONFIGURED; `want_trigger` as for flink_rest_job_stop. *trigger_id gets
 * the id to poll with flink_rest_checkpoint_status. Caller frees.
 */
int flink_rest_checkpoint_trigger(flink_rest *c, const char *job_id, const char *type, const char *want_trigger,
				  char **trigger_id, fo_err *e);
/*
 * GET /jobs/:id/checkpoints/:triggerid: as flink_rest_savepoint_status,
 * with out->checkpoint_id set once COMPLETED. A trigger Flink does not
 * know is FO_ENOTFOUND.
 */
int flink_rest_checkpoint_status(flink_rest *c, const char *job_id, const char *trigger_id,
				 flink_savepoint_status *out, fo_err *e);
/*
 * The completed checkpoint's external path, from the job's own checkpoint
 * history (GET /jobs/:id/checkpoints): *path (caller frees), NULL when the
 * history does not list it completed yet (Flink caches the statistics for
 * up to web.refresh-interval) or Flink kept it nowhere addressable. Not
 * GET /jobs/:id/checkpoints/details/:checkpointid: Flink 1.20 caches those
 * by checkpoint id alone, across jobs, and answered another job's
 * checkpoint of the same number on the rig's session cluster.
 */
int flink_rest_checkpoint_path(flink_rest *c, const char *job_id, int64_t checkpoint_id, char **path, fo_err *e);
/* A savepoint disposal asked of the cluster (POST /savepoint-disposal). */
typedef struct flink_disposal_status {
	bool done;                /* COMPLETED: disposed of, unless failure is set */
	bool missing;             /* failed because no savepoint is there (already gone) */
	char *failure;            /* Flink's cause, trimmed of its stack trace */
} flink_disposal_status;
void flink_disposal_status_free(flink_disposal_status *s);
/*
 * POST /savepoint-disposal {"savepoint-path": PATH}: the JobManager deletes
 * the savepoint's files (its metadata and state). *trigger_id gets the
 * request id to poll with flink_rest_savepoint_disposal_status. Caller frees.
 */
int flink_rest_savepoint_dispose(flink_rest *c, const char *path, char **trigger_id, fo_err *e);
/*
 * GET /savepoint-disposal/:triggerid. Returns 0 while IN_PROGRESS (done
 * false) and once disposed of (done true); a failed disposal fills
 * out->failure (and out->missing when the savepoint does not exist) and
 * returns FO_ESERVER with Flink's cause; a trigger the JobManager does not
 * know (it restarted, or forgot) is FO_ENOTFOUND.
 */
int flink_rest_savepoint_disposal_status(flink_rest *c, const char *trigger_id, flink_disposal_status *out,
					 fo_err *e);
/* PATCH /jobs/:id?mode=cancel. Cancelling a job that already ended is not an error. */
int flink_rest_job_cancel(flink_rest *c, const char *job_id, fo_err *e);
/*
 * Poll the job's state until it is in `want` (a FLINK_JOB_MASK set) or
 * `timeout_ms` passes (FO_ETIMEOUT, naming the last state seen). It reads
 * GET /jobs/overview, which Flink does not cache, so a change shows within
 * one poll (50 ms growing to 500 ms) instead of after web.refresh-interval.
 * A job that reaches a terminal state not in `want` fails at once with
 * FO_ESERVER and, for FAILED, the job's root cause; an unknown job is
 * FO_ENOTFOUND. *state (may be NULL) gets the last state seen.
 */
int flink_rest_job_wait(flink_rest *c, const char *job_id, unsigned want, long timeout_ms,
			enum flink_job_status *state, fo_err *e);

/* ---- pure parts, exposed for the unit tests ---- */

/*
 * The meaningful text of a Flink error body ({"errors": [...]}): the last
 * element that is more than "Internal server error.", without the
 * "<Exception on server side:" wrapper and stack frames; the first line and,
 * when different, the deepest "Caused by:" line. At most `max` bytes (an
 * ellipsis marks a cut). NULL when the body holds no such text. Caller frees.
 */
char *flink_rest_error_text(const char *body, size_t max);
/* The same trimming for a bare Java stack trace. Caller frees; never NULL. */
char *flink_rest_trace_text(const char *trace, size_t max);
/* Turn an HTTP error into `e`: "WHAT on BASE: CAUSE (METHOD PATH, HTTP N)". Returns the code. */
int flink_rest_http_error(const char *what, const char *base, const char *method, const char *path, long status,
			  const char *body, fo_err *e);

int flink_rest_parse_config(const char *body, flink_cluster_config *out, fo_err *e);
int flink_rest_parse_overview(const char *body, flink_overview *out, fo_err *e);
int flink_rest_parse_taskmanagers(const char *body, flink_taskmanagers *out, fo_err *e);
int flink_rest_parse_jobs(const char *body, flink_job_list *out, fo_err *e);
int flink_rest_parse_job(const char *body, flink_job_info *out, fo_err *e);
int flink_rest_parse_checkpoints(const char *body, flink_checkpoint_info *out, fo_err *e);
int flink_rest_parse_checkpoint_config(const char *body, int64_t *interval_ms, fo_err *e);
int flink_rest_parse_restarts(const char *body, int64_t *restarts, fo_err *e);
/* The vertex ids of the answer of GET /jobs/:id (at most FLINK_MAX_VERTICES,
 * each 32 hex digits), into out (each watermark FLINK_NO_WATERMARK). */
int flink_rest_parse_job_vertices(const char *body, flink_job_watermarks *out, fo_err *e);
/* The answer of GET /jobs/:id/vertices/:vid/watermarks ([{"id":
 * "N.currentInputWatermark", "value": "MS"}], one a subtask): the lowest,
 * or FLINK_NO_WATERMARK when the list is empty or a subtask has none. */
int flink_rest_parse_watermarks(const char *body, int64_t *watermark, fo_err *e);
/* Returns FO_ESERVER (with the cause) for a failed savepoint, as flink_rest_savepoint_status. */
int flink_rest_parse_savepoint_status(const char *body, flink_savepoint_status *out, fo_err *e);
/* The answer of GET /jobs/:id/checkpoints/:triggerid, as flink_rest_checkpoint_status. */
int flink_rest_parse_checkpoint_status(const char *body, flink_savepoint_status *out, fo_err *e);
/* The path of checkpoint `checkpoint_id` in the answer of GET
 * /jobs/:id/checkpoints, as flink_rest_checkpoint_path. */
int flink_rest_parse_checkpoint_history(const char *body, int64_t checkpoint_id, char **path, fo_err *e);
/* The answer of GET /savepoint-disposal/:triggerid, as flink_rest_savepoint_disposal_status. */
int flink_rest_parse_disposal_status(const char *body, flink_disposal_status *out, fo_err *e);
/* {"request-id": "..."} of a savepoint trigger or stop. */
int flink_rest_parse_trigger(const char *body, char **trigger_id, fo_err *e);
/* {"filename": ".../<uuid>_name.jar", "status": "success"}: the jar id. */
int flink_rest_parse_upload(const char *body, char **jar_id, fo_err *e);
/* {"jobid": "<32 hex>"}. */
int flink_rest_parse_run(const char *body, char **job_id, fo_err *e);
/* GET /jobs/:id/exceptions: the newest failure, or NULL. */
int flink_rest_parse_exceptions(const char *body, char **root_cause, fo_err *e);
/* The body of POST /jars/:id/run. Caller frees. */
char *flink_rest_run_body(const flink_run_opts *o);
/* A job id is 32 hex digits; a jar id a file name without '/' ending in .jar. */
bool flink_rest_valid_job_id(const char *s);
bool flink_rest_valid_jar_id(const char *s);

#endif
