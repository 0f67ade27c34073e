/*
 * Rendering: a FlinkDeployment becomes the plain Kubernetes objects that run
 * it (ConfigMap, three Services, two StatefulSets, and an Ingress when
 * spec.ingress asks for one), as cJSON values. It is
 * pure and deterministic: the same model gives the same bytes, and every
 * object carries a hash of its own content so that planning compares hashes
 * instead of walking objects. No I/O happens here.
 */
#ifndef RENDER_RENDER_H
#define RENDER_RENDER_H

#include <cjson/cJSON.h>

#include "flink/flink.h"
#include "lib/buf.h"
#include "lib/err.h"

#define RENDER_MANAGED_BY "flinkops"
#define RENDER_LABEL_MANAGED_BY "app.kubernetes.io/managed-by"
#define RENDER_LABEL_NAME "app.kubernetes.io/name"
#define RENDER_LABEL_INSTANCE "app.kubernetes.io/instance"
#define RENDER_LABEL_COMPONENT "app.kubernetes.io/component"
/* SHA-256 of the object's canonical JSON without this annotation; a part
 * with its own hash annotation (pod template, ConfigMap data) counts through
 * that annotation. */
#define RENDER_ANNOTATION_HASH "flinkops.io/content-hash"
/* On pod templates and on the ConfigMap: the hash of the ConfigMap's data,
 * so a configuration change rolls the pods. */
#define RENDER_ANNOTATION_CONFIG_HASH "flinkops.io/config-hash"
/* On the JobManager StatefulSet: hash of the job fields that need a resubmit. */
#define RENDER_ANNOTATION_JOB_HASH "flinkops.io/job-hash"
#define RENDER_ANNOTATION_RESTART_NONCE "flinkops.io/restart-nonce"
/* On an application cluster's JobManager StatefulSet: the job id its
 * JobManager runs, and the state that job starts from (render_start). */
#define RENDER_ANNOTATION_JOB_ID "flinkops.io/job-id"
#define RENDER_ANNOTATION_START_FROM "flinkops.io/start-from"
/* On a session cluster's JobManager StatefulSet, "true" when its deletion
 * may kill jobs no FlinkSessionJob manages (upstream's
 * kubernetes.operator.session.deletion.block-on-unmanaged-jobs false). */
#define RENDER_ANNOTATION_DELETE_UNMANAGED "flinkops.io/delete-with-unmanaged-jobs"
/* On StatefulSets: hash of the pod template; when it changes, pods restart. */
#define RENDER_ANNOTATION_TEMPLATE_HASH "flinkops.io/template-hash"

#define RENDER_PORT_RPC 6123
#define RENDER_PORT_BLOB 6124
#define RENDER_PORT_REST 8081
#define RENDER_PORT_TM_RPC 6122
#define RENDER_CONTAINER "flink-main-container"
#define RENDER_CONF_MOUNT "/opt/flink/conf"
/* With high availability: the JobManager's pod IP (downward API), its RPC address */
#define RENDER_ENV_POD_IP "POD_IP"

enum render_component {
	RENDER_CONFIGMAP,
	RENDER_SERVICE_JOBMANAGER,
	RENDER_SERVICE_REST,
	RENDER_SERVICE_TASKMANAGER,
	RENDER_STATEFULSET_JOBMANAGER,
	RENDER_STATEFULSET_TASKMANAGER,
	/* Optional: rendered only with spec.ingress (v[RENDER_INGRESS] NULL
	 * otherwise, and a live one is then pruned). Last, so that it is
	 * applied after the Service it routes to. */
	RENDER_INGRESS,
	RENDER_NCOMPONENTS
};

/*
 * The name of a deployment's object of kind `k` (the caller frees it). Up
 * to FLINK_NAME_SHORT characters the StatefulSets are NAME-jobmanager and
 * NAME-taskmanager; a longer name (up to upstream's limit,
 * FLINK_NAME_MAX) gets NAME-jm and NAME-tm, because a StatefulSet's name
 * with the revision hash the controller appends to it must fit a label
 * value (63 characters): NAME-taskmanager-0123456789 fits up to 40.
 */
char *render_object_name(enum render_component k, const char *name);

typedef struct render_objects {
	cJSON *v[RENDER_NCOMPONENTS]; /* in the order of enum render_component; an optional one may be NULL */
	size_t n;
	/* A FlinkSessionJob renders no object (it runs on its session
	 * cluster's): its job hash (render_job_hash) stands here instead of
	 * on a JobManager StatefulSet. NULL otherwise. */
	char *job_hash;
} render_objects;

/*
 * Render `fd` into `out` (which the caller frees with render_objects_free).
 * Returns 0, or a negative code with `e` set when the model cannot be
 * rendered (e.g. a podTemplate that is not shaped like a Pod).
 */
int render_deployment(const flink_deployment *fd, render_objects *out, fo_err *e);

/* Which job an application cluster's JobManager runs (a `local://` jar:
 * the JobManager runs the job itself, Flink's standalone application mode). */
typedef struct render_start {
	const char *job_id; /* the job id flinkops chose for this start (32 hex digits), or NULL */
	const char *from;   /* the state the job starts from, or NULL: empty state */
} render_start;
/*
 * render_deployment, with the start of an application cluster's job: its
 * id and state go into the JobManager's arguments (and annotations), and
 * nothing else changes — the job hash and the pod templates' hashes, hence
 * render_target_hash, are those of render_deployment. `start` NULL (as
 * render_deployment does): no job id, and job.initialSavepointPath as the
 * state. Ignored for a session cluster.
 */
int render_deployment_at(const flink_deployment *fd, const render_start *start, render_objects *out, fo_err *e);
void render_objects_free(render_objects *o);

/* The content hash an object carries, or NULL. */
const char *render_object_hash(const cJSON *obj);
/* Any annotation of an object, or NULL. */
const char *render_object_annotation(const cJSON *obj, const char *key);
/* Compute the content hash of `obj` (ignoring the hash annotation). Caller frees. */
char *render_compute_hash(const cJSON *obj);
/* Hash of the job fields whose change needs the job resubmitted; NULL
 * without a job. A session job's adds its cluster, the configuration its
 * submission carries and its restartNonce. */
char *render_job_hash(const flink_deployment *fd);
/*
 * The hash of the whole target a job runs on: its job hash and both pod
 * templates (image, resources, Flink configuration through the config
 * hash). Any change of these restarts the job, so it is a new target —
 * a rollback or a failure is keyed on it, never on the job hash alone.
 * NULL when `o` has no JobManager StatefulSet with a job. Caller frees.
 */
char *render_target_hash(const render_objects *o);
/* The same for `fd`, rendered for the purpose (NULL without a job, or when
 * it does not render). Caller frees. */
char *render_target_hash_of(const flink_deployment *fd);
/*
 * The Ingress of the FlinkBlueGreenDeployment `bg` (its spec.ingress, the
 * template's host and path filled with the resource's own name, as
 * upstream does): named after the resource, labelled as its own (instance
 * NAME, component ingress), to the REST Service of its child `child`
 * (NAME-blue or NAME-green), content hash stamped. NULL when it has none.
 * Caller deletes it.
 */
cJSON *render_bluegreen_ingress(const flink_deployment *bg, const char *child);
/* The Flink configuration file's name for this Flink version. */
const char *render_conf_file_name(const flink_deployment *fd);

/* Write objects as a YAML stream ("---" between documents). */
void render_write_yaml(fo_buf *b, const render_objects *o);
/* Append duplicates of the objects to a JSON array (a List's items). */
void render_append_items(cJSON *items, const render_objects *o);

#endif
