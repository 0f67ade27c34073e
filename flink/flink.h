/*
 * The FlinkDeployment model: the one normalised shape that both accepted
 * spellings become (the upstream operator's flink.apache.org/v1beta1 and the
 * short form of our README), its validation with `file:line:col` diagnostics,
 * and Flink's units. Everything here is pure: no I/O but what lib/ gives.
 */
#ifndef FLINK_FLINK_H
#define FLINK_FLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "lib/err.h"
#include "lib/yaml.h"

#define FLINK_API_VERSION "flink.apache.org/v1beta1"
#define FLINK_KIND "FlinkDeployment"
#define FLINK_KIND_SESSION_JOB "FlinkSessionJob"
#define FLINK_KIND_SNAPSHOT "FlinkStateSnapshot"
#define FLINK_KIND_BLUEGREEN "FlinkBlueGreenDeployment"
/* The label upstream puts on a blue/green child: BLUE or GREEN */
#define FLINK_BLUEGREEN_TYPE_LABEL "flink/blue-green-deployment-type"
/* The largest FlinkBlueGreenDeployment document flinkops keeps (two fit a
 * ConfigMap's 1 MiB with room to spare) */
#define FLINK_BLUEGREEN_DOC_MAX (256 * 1024)
/* Longest name whose derived objects still fit Kubernetes' limits: the
 * StatefulSet "NAME-taskmanager" labels its revisions with
 * "NAME-taskmanager-" plus a 10-character hash, which must stay within 63. */
/* upstream's limit; past FLINK_NAME_SHORT the StatefulSets get short names
 * (render_object_name) */
#define FLINK_NAME_MAX 45
#define FLINK_NAME_SHORT 40

enum flink_upgrade_mode {
	FLINK_UPGRADE_STATELESS,
	FLINK_UPGRADE_SAVEPOINT,  /* also the README's SAVEPOINT_ON_RESTART */
	FLINK_UPGRADE_LAST_STATE,
};

enum flink_job_state { FLINK_STATE_RUNNING, FLINK_STATE_SUSPENDED };

enum flink_mode { FLINK_MODE_STANDALONE, FLINK_MODE_NATIVE };

/* Flink's high availability as the configuration selects it. */
enum flink_ha { FLINK_HA_NONE, FLINK_HA_KUBERNETES, FLINK_HA_ZOOKEEPER, FLINK_HA_OTHER };

typedef struct flink_kv {
	char *key;
	char *value;
} flink_kv;

/* A string map kept sorted by key, so that key order in git never matters. */
typedef struct flink_kvs {
	flink_kv *v;
	size_t n, cap;
} flink_kvs;

typedef struct flink_resources {
	int64_t cpu_milli;          /* request, in thousandths of a core */
	int64_t cpu_limit_milli;    /* limit; the request times Flink's
	                             * kubernetes.*.cpu.limit-factor unless given */
	uint64_t memory;            /* bytes; the Flink process size */
	uint64_t memory_limit;      /* bytes; memory times the memory limit-factor unless given */
	uint64_t ephemeral;         /* bytes; 0 when not given */
	bool cpu_limit_given, memory_limit_given;
} flink_resources;

typedef struct flink_process {
	flink_resources res;
	cJSON *claims;              /* resources.claims (dynamic resource claims), or NULL */
	int replicas;               /* TaskManagers: computed when not given */
	bool replicas_given;
	cJSON *pod_template;        /* jobManager/taskManager podTemplate, or NULL */
	/* Flink's own pod options in flinkConfiguration, which upstream applies
	 * in standalone mode too (kubernetes.jobmanager.labels, ...): objects
	 * (labels, annotations, node selector), an array (tolerations), or NULL */
	cJSON *k8s_labels, *k8s_annotations, *k8s_node_selector, *k8s_tolerations;
	char *service_account;      /* kubernetes.{jobmanager,taskmanager}.service-account, or NULL */
} flink_process;

/* Upstream's defaults for kubernetes.operator.savepoint.history.max.*, and
 * the largest count flinkops keeps (its journal lists what it took). */
#define FLINK_SAVEPOINT_HISTORY_COUNT_DEFAULT 10
#define FLINK_SAVEPOINT_HISTORY_AGE_DEFAULT_MS (24LL * 3600 * 1000)
#define FLINK_SAVEPOINT_HISTORY_COUNT_MAX 32

/*
 * What becomes of a savepoint flinkops took once it is past the history
 * bounds. Upstream (1.10 on, with FlinkStateSnapshot resources, its default)
 * deletes the snapshot resource and keeps the data unless
 * kubernetes.operator.savepoint.dispose-on-delete is true; without snapshot
 * resources (kubernetes.operator.snapshot.resource.enabled false) it
 * disposes of the data; savepoint.cleanup.enabled false does neither.
 */
enum flink_savepoint_cleanup {
	FLINK_CLEANUP_FORGET,  /* the journal forgets it, the data stays (the default) */
	FLINK_CLEANUP_DISPOSE, /* Flink disposes of the data (POST /savepoint-disposal) */
	FLINK_CLEANUP_OFF,     /* kept and tracked */
};

/*
 * A Quartz cron schedule (upstream's second spelling of its periodic
 * snapshot intervals), as the sets of times it fires at, in UTC. Bit n of
 * each set stands for value n (day-of-week: 1 Sunday .. 7 Saturday, as
 * Quartz numbers them; year: bit n is 1970 + n).
 */
typedef struct flink_cron {
	uint64_t sec, min;
	uint32_t hour, dom;
	uint16_t month;
	uint8_t dow;
	bool by_weekday;  /* day-of-month is '?': the days are dow's */
	bool dom_last;    /* day-of-month is L: the month's last day */
	uint64_t year[3];
} flink_cron;

/* Parse a Quartz cron expression (6 or 7 fields; *, ?, lists, ranges,
 * steps, month and day names, a lone L for the last day of the month).
 * Returns 0, or -1 with *why (caller frees) saying what is wrong. */
int flink_cron_parse(const char *expr, flink_cron *c, char **why);
/* The first time (seconds since the epoch, UTC) after `after` that `c`
 * fires at; -1 when it never does again (before 2100). Pure. */
int64_t flink_cron_next(const flink_cron *c, int64_t after);

typedef struct flink_job {
	char *jar_uri;
	char *entry_class;          /* entryClass or mainClass; NULL: the jar's manifest */
	char **args;
	size_t nargs;
	int parallelism;
	enum flink_upgrade_mode upgrade_mode;
	enum flink_job_state state;
	bool allow_non_restored_state;
	char *initial_savepoint_path;
	char *savepoint_dir;        /* savepointStorage */
	int64_t savepoint_trigger_nonce;   /* a new value asks for a savepoint (0: none) */
	int64_t savepoint_redeploy_nonce;
	int64_t periodic_savepoint_ms;     /* kubernetes.operator.periodic.savepoint.interval (0: none) */
	char *periodic_savepoint_cron;     /* ... when it is a cron expression (NULL: none) */
	flink_cron periodic_cron;          /* that expression, parsed */
	/* Checkpoints asked of the running job (Flink's POST /jobs/:id/checkpoints,
	 * Flink 1.17 on): job.checkpointTriggerNonce (0: none), and
	 * kubernetes.operator.periodic.checkpoint.interval as a duration or a
	 * cron expression; kubernetes.operator.checkpoint.type (FULL, upstream's
	 * default, INCREMENTAL or CONFIGURED) */
	int64_t checkpoint_trigger_nonce;
	int64_t periodic_checkpoint_ms;
	char *periodic_checkpoint_cron;
	flink_cron periodic_checkpoint_cron_parsed;
	const char *checkpoint_type;       /* static: "FULL", "INCREMENTAL" or "CONFIGURED" */
	/* Savepoint retention (upstream's kubernetes.operator.savepoint.*):
	 * history.max.count (0: not given, upstream's 10), history.max.age
	 * (0: not given, upstream's 24 h), and what becomes of a savepoint past
	 * them (flink_savepoint_cleanup) */
	int savepoint_history_max_count;
	int64_t savepoint_history_max_age_ms;
	enum flink_savepoint_cleanup savepoint_cleanup;
	int64_t autoscaler_reset_nonce; /* carried; flinkops has no autoscaler */
	/* kubernetes.operator.deployment.rollback.enabled: a new job that never
	 * becomes healthy is rolled back (ON) or left failed (OFF); DEFAULT
	 * follows the agent's flink.rollback */
	enum { FLINK_ROLLBACK_DEFAULT, FLINK_ROLLBACK_ON, FLINK_ROLLBACK_OFF } rollback;
	bool parallelism_given;
} flink_job;

/* A FlinkStateSnapshot's spec (upstream's FlinkStateSnapshotSpec): a
 * savepoint or a checkpoint of a job, taken once, or a savepoint that
 * already exists, registered. */
typedef struct flink_snapshot {
	char *job_kind;          /* jobReference.kind: FlinkDeployment or FlinkSessionJob; NULL: none */
	char *job_name;          /* jobReference.name */
	bool checkpoint;         /* spec.checkpoint: a checkpoint; else spec.savepoint */
	char *path;              /* savepoint.path: where to write it, or with already_exists the savepoint */
	bool already_exists;     /* savepoint.alreadyExists: registered, never taken */
	char *format_type;       /* savepoint.formatType: CANONICAL (upstream's default) or NATIVE */
	/* savepoint.disposeOnDelete as written; upstream's default is true, but
	 * flinkops keeps a snapshot's data unless it is written (a file gone
	 * from git never deletes state on its own) */
	bool dispose_on_delete;
	int backoff_limit;       /* retries after a failure; -1 without end (upstream's default) */
} flink_snapshot;

/* spec.ingress, as upstream reads it: an Ingress to the JobManager's REST
 * Service (NAME-rest, port 8081) at the host and path its template names. */
typedef struct flink_ingress {
	char *template;      /* as written */
	char *host;          /* the template's host with {{name}}, {{namespace}} replaced; NULL: any host */
	char *path;          /* the template's path, likewise; NULL: none (every path) */
	char *class_name;    /* spec.ingressClassName, or NULL: the cluster's default class */
	cJSON *annotations;  /* object of strings, or NULL */
	cJSON *labels;       /* object of strings, or NULL */
	cJSON *tls;          /* [{hosts: [...], secretName}] as written, or NULL */
} flink_ingress;

/*
 * The host and path of an Ingress from upstream's template: a scheme
 * (http:// or https://, any case) is optional, {{name}} and {{namespace}}
 * (any case) are replaced, what follows the scheme up to the first '/' is
 * the host and the rest the path. Where upstream's reading (java.net.URL)
 * would drop a part without a word — a port, user information, a query,
 * a fragment — or the API server would refuse the host (not a DNS name,
 * an IP address), this refuses with the reason. 0 with `*host` and
 * `*path` set (each NULL when empty; the caller frees them), or FO_EINVAL.
 */
int flink_ingress_url(const char *tmpl, const char *name, const char *ns, char **host, char **path, fo_err *e);
void flink_ingress_free(flink_ingress *in);

/* A FlinkBlueGreenDeployment's own settings (spec.configuration, upstream's
 * kubernetes.operator.bluegreen.* keys and flinkops' own) and its children:
 * the template as the FlinkDeployments NAME-blue and NAME-green. */
struct flink_deployment;
typedef struct flink_bluegreen {
	int64_t grace_ms;      /* kubernetes.operator.bluegreen.abort.grace-period (upstream's 10 min):
	                        * how long the new child has to catch up before it is removed */
	int64_t delay_ms;      /* ...deployment-deletion.delay (0): from the cut-over to the old child's removal */
	int64_t reschedule_ms; /* ...reconciliation.reschedule-interval (15 s): how soon a transition is looked
	                        * at again */
	int64_t catch_up_ms;   /* flinkops.bluegreen.catch-up.fallback (1 min): without an event-time signal,
	                        * how long after its first checkpoint the new job counts as caught up */
	int64_t max_lag_ms;    /* flinkops.bluegreen.catch-up.max-lag (1 s): how far the new job's watermarks
	                        * may be behind the running job's and count as caught up */
	flink_ingress *ingress;/* spec.ingress: one Ingress NAME to the active child's REST Service */
	char *template_hash;   /* spec.template as one value: equal when the children are */
	/* The document as written (its bytes in the file, at most
	 * FLINK_BLUEGREEN_DOC_MAX): what a child that takes this spec keeps
	 * in the blue/green journal, to run it again after git moved on.
	 * Read back, it is the same FlinkBlueGreenDeployment (checked). */
	char *doc_text;
	struct flink_deployment *child[2]; /* the template as NAME-blue [0] and NAME-green [1] */
} flink_bluegreen;

typedef struct flink_deployment {
	char *name;
	char *namespace;
	char *source;               /* file the document came from */
	int line, col;              /* where the document starts */
	cJSON *labels;              /* metadata.labels, object of strings, or NULL */
	cJSON *annotations;
	char *image;                /* repository:tag */
	char *image_pull_policy;    /* NULL: Kubernetes' default */
	char *service_account;      /* spec.serviceAccount, else kubernetes.service-account */
	cJSON *image_pull_secrets;  /* kubernetes.container.image.pull-secrets as [{name}], or NULL */
	char *flink_version;        /* normalised "MAJOR.MINOR", e.g. "1.17" */
	int flink_major, flink_minor;
	enum flink_mode mode;
	flink_kvs conf;             /* flinkConfiguration, flattened, sorted */
	flink_kvs log_conf;         /* logConfiguration: file name -> content */
	cJSON *pod_template;        /* spec.podTemplate, or NULL */
	flink_ingress *ingress;     /* spec.ingress, or NULL */
	flink_process jm, tm;
	int slots;                  /* task slots per TaskManager */
	char *restart_nonce;
	bool has_job;
	flink_job job;
	/* A FlinkSessionJob: only the job (has_job), its flinkConfiguration
	 * (the job's own options and kubernetes.operator.* keys) and
	 * restartNonce are set; it runs on the session cluster
	 * deployment_name (a FlinkDeployment without a job in the same
	 * namespace) and renders no object of its own. */
	bool session_job;
	char *deployment_name;
	/* A session cluster whose taskManager.replicas were not given: sized
	 * from the session jobs that target it (flink_check_repository) */
	int session_slots_needed;
	/* A session cluster whose deletion may kill jobs no FlinkSessionJob
	 * manages: kubernetes.operator.session.deletion.block-on-unmanaged-jobs
	 * (or its old name session.block-on-unmanaged-jobs) "false" */
	bool delete_with_unmanaged_jobs;
	/* A FlinkStateSnapshot: only `snap` is set (no job, no cluster). It
	 * renders nothing and is never a deployment: flink_split_snapshots
	 * takes snapshots out of a list before it is rendered or planned. */
	bool snapshot;
	flink_snapshot snap;
	/* A FlinkBlueGreenDeployment: only name, namespace, source, labels and
	 * `bg` are set; its template is in bg->child. It renders nothing of its
	 * own and is never a deployment: flink_split_bluegreens takes it out
	 * of a list before it is rendered or planned. */
	flink_bluegreen *bg;
	/* A blue/green child: the FlinkBlueGreenDeployment it belongs to (NULL otherwise) */
	char *bluegreen_of;
	/* Upstream's spelling without spec.mode (native there), where spec
	 * starts: flink_note_defaults reports it; 0 otherwise */
	int mode_unset_line, mode_unset_col;
	/* The commit this spec was read at when it is not the pass's own: the
	 * older spec a rollback runs again (NULL otherwise). Not from YAML. */
	char *spec_commit;
} flink_deployment;

/* ---- plain kinds (plain.c) ---- */

/* The Kubernetes kinds flinkops applies as they are written, beside
 * FlinkDeployments: what Flink's pods run as (Kubernetes HA needs a
 * ServiceAccount allowed to edit ConfigMaps). */
#define FLINK_PLAIN_SERVICE_ACCOUNT "ServiceAccount"
#define FLINK_PLAIN_ROLE "Role"
#define FLINK_PLAIN_ROLE_BINDING "RoleBinding"
#define FLINK_PLAIN_RBAC_GROUP "rbac.authorization.k8s.io"

/* One document of a plain kind, checked. */
typedef struct flink_plain {
	const char *kind;           /* one of FLINK_PLAIN_* (static) */
	char *namespace, *name;     /* the namespace defaulted to "default", as for FlinkDeployments */
	char *source;               /* file the document came from */
	int line, col;              /* where the document starts */
	/* the document as JSON: apiVersion, kind, metadata (name, namespace,
	 * labels and annotations only: what the API server sets is dropped)
	 * and the kind's own fields, as written */
	cJSON *obj;
} flink_plain;

typedef struct flink_plains {
	flink_plain **v;
	size_t n, cap;
} flink_plains;

typedef struct flink_deployments {
	flink_deployment **v;
	size_t n, cap;
	flink_plains plain;         /* the plain objects of the same files */
} flink_deployments;

/* Whether `kind` is one of the plain kinds (ServiceAccount, Role, RoleBinding). */
bool flink_plain_kind(const char *kind);
/* The apiVersion a plain kind must have ("v1", "rbac.authorization.k8s.io/v1"). */
const char *flink_plain_api_version(const char *kind);
/*
 * Parse one document of a plain kind: apiVersion exactly the kind's, every
 * field known, metadata.name a DNS-1123 subdomain, the namespace a label
 * ("default" when not given). A Role may grant only what the agent holds
 * (flink_plain_agent_holds): creating one that grants more needs RBAC's
 * escalate, which the agent does not have. A RoleBinding binds a Role (not
 * a ClusterRole: the agent has no bind permission) to ServiceAccounts
 * only. Errors go to `d` with their position; NULL when there is one.
 */
flink_plain *flink_plain_parse(const fo_yaml_node *doc, const char *file, fo_diags *d);
/* Whether the agent's install (examples/install/rbac.yaml) grants `verb` on
 * `resource` of API group `group` ("" for the core group) in the
 * namespaces it manages. Pure. */
bool flink_plain_agent_holds(const char *group, const char *resource, const char *verb);
/* Report every plain object whose kind/namespace/name an earlier one
 * already used. Returns the count. */
size_t flink_plain_check_unique(const flink_plains *v, fo_diags *d);
/* The content hash of a plain object as it is applied (its JSON; the
 * labels flinkops adds are not part of it). Caller frees. */
char *flink_plain_hash(const flink_plain *p);
void flink_plain_free(flink_plain *p);
void flink_plains_free(flink_plains *v);
/* Check the keys of `meta` (a document's metadata map) and warn once
 * about those the API server sets (uid, resourceVersion, managedFields...),
 * which are ignored. */
void flink_metadata_fields(const fo_yaml_node *meta, const char *file, fo_diags *d);
/* Whether `key` of metadata is one the API server sets. */
bool flink_metadata_server_set(const char *key);

/*
 * Parse every FlinkDeployment document in `f` and append each valid one to
 * `out`. Every document of another kind gets a diagnostic (see
 * flink_kind_verdict; their count goes to *skipped when non-NULL). Every
 * problem is added to `d` with its position; returns 0 when no error was
 * found, FO_EINVAL otherwise. A document with errors is not appended, but
 * the file's other documents still are.
 */
int flink_parse_file(const fo_yaml_file *f, flink_deployments *out, size_t *skipped, fo_diags *d);
/* What flinkops does with a document of `kind` (NULL: none) and
 * `api_version` (may be NULL): true when it reads it (a FlinkDeployment);
 * otherwise false with *msg (caller frees) saying what happens instead: an
 * error for the upstream operator's kinds it does not run and for
 * misspellings of its own, a warning for other Kubernetes kinds, which it
 * does not apply. */
/* The savepoint directory `fd` names: job.savepointStorage, else the
 * configuration's execution.checkpointing.savepoint-dir or
 * state.savepoints.dir; NULL when it names none. */
const char *flink_savepoint_dir(const flink_deployment *fd);
bool flink_kind_verdict(const char *api_version, const char *kind, enum fo_severity *sev, char **msg);
/* What flinkops does with `key` of a flinkConfiguration when it is one of
 * the upstream operator's (kubernetes.operator.*, job.autoscaler.*): NULL
 * when flinkops honours it or it is none of those; otherwise a note saying
 * what flinkops does instead (static). For an unknown key *near gets the
 * closest known one after "kubernetes.operator." when it is a likely typo. */
const char *flink_operator_key_note(const char *key, const char **near);
/*
 * Load `len` bytes named `name` (bounded YAML, see lib/yaml.h) and parse them
 * as flink_parse_file does. A file holding no YAML document at all is an
 * error: an empty manifest is more likely a mistake than an intent.
 */
int flink_load_buffer(const char *name, const char *data, size_t len, flink_deployments *out,
		      size_t *skipped, fo_diags *d);
/* The same for a local file. */
int flink_load_file(const char *path, flink_deployments *out, size_t *skipped, fo_diags *d);
/* Parse one document known to be a FlinkDeployment; NULL on error. */
flink_deployment *flink_deployment_parse(const fo_yaml_node *doc, const char *file, fo_diags *d);
/* Report every FlinkDeployment whose namespace/name an earlier one already
 * used (two files must not fight over one cluster). Returns the count. */
size_t flink_check_unique(const flink_deployments *v, fo_diags *d);
/*
 * The checks across documents of one repository: flink_check_unique
 * (a FlinkSessionJob shares the namespace's names with FlinkDeployments:
 * its journal and status file are named after it), then every
 * FlinkSessionJob's deploymentName must be a session cluster (a
 * FlinkDeployment without a job) of its namespace in `v`; one that is not
 * is an error at its document and is dropped from `v`, so that nothing
 * runs it. A session cluster without taskManager.replicas is then sized
 * for the slots its running session jobs need (the sum of their
 * parallelism), and one whose given replicas offer fewer slots gets a
 * warning. Returns the number of errors added.
 */
size_t flink_check_repository(flink_deployments *v, fo_diags *d);
/* The session part of that: each FlinkSessionJob of `v` against the
 * session clusters of `all` (the whole repository; may be `v`), each
 * session cluster of `v` sized from the session jobs of `all`. For a plan
 * that reads only the files a change touched. */
size_t flink_link_session_jobs(flink_deployments *v, const flink_deployments *all, fo_diags *d);
/* Whether a session job's flinkConfiguration key goes to Flink with the
 * job's submission (POST /jars/:id/run, "flinkConfiguration"): not
 * flinkops' own keys (kubernetes.operator.*, job.autoscaler.*) nor the
 * cluster's, which a job cannot change (they get a warning). */
bool flink_session_conf_passed(const char *key);
/* The name of the kind of `fd` ("FlinkDeployment", "FlinkSessionJob" or
 * "FlinkStateSnapshot"). */
const char *flink_kind_name(const flink_deployment *fd);
/* Parse one document known to be a FlinkStateSnapshot; NULL on error. */
flink_deployment *flink_snapshot_parse(const fo_yaml_node *doc, const char *file, fo_diags *d);
/* Parse a FlinkBlueGreenDeployment document, its template as its two
 * children (fd->bg->child); NULL on errors (added to `d`). */
flink_deployment *flink_bluegreen_parse(const fo_yaml_node *doc, const char *file, fo_diags *d);
/*
 * Move the FlinkStateSnapshots of `v` to the end of `snaps` (in order), so
 * that `v` holds only FlinkDeployments and FlinkSessionJobs: what is
 * rendered, planned and rolled out. Call after flink_check_repository,
 * which checks each snapshot's jobReference against `v`.
 */
void flink_split_snapshots(flink_deployments *v, flink_deployments *snaps);
/* Move the FlinkBlueGreenDeployments of `v` into `bgs`, keeping the order of both. */
void flink_split_bluegreens(flink_deployments *v, flink_deployments *bgs);
/*
 * Warnings, at each document, where a manifest in the upstream operator's
 * spelling leaves a default that upstream and flinkops read differently
 * (a missing spec.mode: native there, standalone here). Not part of
 * parsing, so that a model's own diagnostics stay about what is wrong;
 * `validate`, `plan` and every pass add these.
 */
void flink_note_defaults(const flink_deployments *v, fo_diags *d);
/* Parse one document known to be a FlinkSessionJob; NULL on error. */
flink_deployment *flink_session_job_parse(const fo_yaml_node *doc, const char *file, fo_diags *d);
void flink_deployment_free(flink_deployment *fd);
void flink_deployments_free(flink_deployments *v);

const char *flink_upgrade_mode_name(enum flink_upgrade_mode m);
const char *flink_job_state_name(enum flink_job_state s);
/*
 * The high availability that `conf` selects, as Flink reads it:
 * high-availability.type, else the older high-availability; NONE, ZOOKEEPER,
 * KUBERNETES in any case, or a factory class name (Flink's own Kubernetes
 * factory counts as KUBERNETES, any other as OTHER).
 */
enum flink_ha flink_ha_mode(const flink_kvs *conf);
/*
 * True for an application cluster: a job whose jar is in the image
 * (`jarURI: local://...`), which the JobManager runs itself.
 */
bool flink_application_cluster(const flink_deployment *fd);
/* The flinkConfiguration value of `key`, or NULL. */
const char *flink_conf_get(const flink_kvs *kv, const char *key);
/*
 * Why `s` (`len` bytes) cannot be written into Flink's configuration file as
 * a key (`key`) or a value, or NULL when it can; the reason says what to do.
 * Flink reads flink-conf.yaml line by line and config.yaml as YAML, so a
 * line break or other control character in a key or value, or in a key
 * anything but letters, digits and . _ - $ /, could turn one setting into
 * several. Caller frees.
 */
char *flink_conf_problem(const char *s, size_t len, bool key);
/* Set (replace) a key, keeping the map sorted. */
void flink_kvs_set(flink_kvs *kv, const char *key, const char *value);
void flink_kvs_free(flink_kvs *kv);

/* ---- units (units.c) ---- */

/*
 * Parse a memory size. Flink's MemorySize first (an integer and a
 * case-insensitive unit b, k/kb, m/mb, g/gb, t/tb, or the long names; every
 * unit a power of 1024; "1024m" is 1 GiB), then a Kubernetes quantity
 * ("2Gi", "1500M" in powers of 1000, "1e9"), as the upstream operator does.
 * Returns 0 and the size in bytes, or FO_EINVAL with a reason in `e`.
 */
int flink_memory_parse(const char *s, uint64_t *bytes, fo_err *e);
/* Parse a cpu amount ("1", "0.5", "500m") into thousandths of a core. */
int flink_cpu_parse(const char *s, int64_t *milli, fo_err *e);
/* Whole mebibytes of `bytes`, rounded down as Flink does. */
uint64_t flink_memory_mib(uint64_t bytes);
/*
 * Parse a size as Flink's MemorySize reads a configuration value (no
 * Kubernetes quantities, zero allowed, at most a Java long). 0 or FO_EINVAL.
 */
int flink_memory_parse_flink(const char *s, uint64_t *bytes, fo_err *e);
/* True for a DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63. */
bool flink_dns1123_label(const char *s);
/* True for a DNS-1123 subdomain: labels joined by '.', at most 253. */
bool flink_dns1123_subdomain(const char *s);

/* ---- Flink's process memory model (memory.c) ---- */

/* The parts of a JobManager's or TaskManager's memory, in bytes, as Flink
 * 1.20 derives them from the process size and flinkConfiguration. */
typedef struct flink_memory {
	uint64_t process, flink, metaspace, overhead;
	/* TaskManager */
	uint64_t framework_heap, framework_off_heap, task_heap, task_off_heap, network, managed;
	/* JobManager */
	uint64_t heap, off_heap;
} flink_memory;

/*
 * Derive a TaskManager's memory from its process size `process` and the
 * taskmanager.memory.* options of `conf` (Flink's defaults for the rest), as
 * Flink 1.20 does at start. 0, or FO_EINVAL with the reason Flink would
 * refuse to start for in `e`.
 */
int flink_tm_memory_derive(const flink_kvs *conf, uint64_t process, flink_memory *m, fo_err *e);
/* The same for a JobManager (jobmanager.memory.* options). */
int flink_jm_memory_derive(const flink_kvs *conf, uint64_t process, flink_memory *m, fo_err *e);
/*
 * The smallest JVM heap with which a JobManager comes up. Flink derives a
 * JobManager of 577m (its own floor with the defaults) with a heap of 1 MiB,
 * which the JVM refuses; started from Flink 1.20.5's jars with the options
 * BashJavaUtils derives, a JobManager with 16 MiB of heap fails with an
 * OutOfMemoryError, 17 MiB answers GET /overview on some starts and hangs
 * out of memory on others, 18 to 24 MiB answered every time. 32 MiB leaves
 * room for the first jobs and requests.
 */
#define FLINK_JM_MIN_HEAP_MIB 32
/* 0 when a derived JobManager memory `m` has at least FLINK_JM_MIN_HEAP_MIB
 * of heap, else FO_EINVAL naming the heap and the minimum. */
int flink_jm_heap_check(const flink_memory *m, fo_err *e);
/* The smallest process size in whole MiB that derives with `conf` (for a
 * TaskManager when `tm`; for a JobManager, with at least the minimum heap),
 * or 0 when there is no single minimum (the Flink memory or heap is
 * configured, so the size must fit a window) or none below 1 TiB. */
uint64_t flink_memory_min_mib(const flink_kvs *conf, bool tm);

#endif
