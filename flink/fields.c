/*
 * The table of every field of every kind flinkops reads, the table of the
 * flinkConfiguration keys it sets, refuses or reads, the blue/green
 * settings, and `flinkops explain` over them. The validator takes the
 * fields a mapping may hold from flink_field_children (model.c's
 * check_fields, plain.c's known_fields) and the reserved keys and
 * blue/green settings from here, so explain answers from the very tables
 * that decide what is accepted.
 */
#include "flink/fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flink/flink.h"
#include "lib/buf.h"
#include "lib/util.h"

#define FD FLINK_KIND
#define FSJ FLINK_KIND_SESSION_JOB
#define FSS FLINK_KIND_SNAPSHOT
#define FBG FLINK_KIND_BLUEGREEN
#define SA FLINK_PLAIN_SERVICE_ACCOUNT
#define ROLE FLINK_PLAIN_ROLE
#define RB FLINK_PLAIN_ROLE_BINDING

#define AS_UPSTREAM "as upstream"

/* F: a field; FL: with flags; AS: whose fields are those of another path */
#define F(k, p, t, d, w, u) {.kind = k, .path = p, .type = t, .def = d, .what = w, .upstream = u}
#define FL(k, p, t, d, w, u, fl) {.kind = k, .path = p, .type = t, .def = d, .what = w, .upstream = u, .flags = fl}
#define AS(k, p, t, d, w, u, ak, ap)                                                                               \
	{.kind = k, .path = p, .type = t, .def = d, .what = w, .upstream = u, .as_kind = ak, .as_path = ap}

/* The fields every document of the upstream operator's kinds has:
 * apiVersion and kind, then metadata (META, or FlinkDeployment's own),
 * then spec and status (TOP_TAIL). */
#define TOP_HEAD(k)                                                                                                 \
	F(k, "apiVersion", "string", "required",                                                                    \
	  "must be flink.apache.org/v1beta1; anything else is an error at the document.", AS_UPSTREAM),             \
	F(k, "kind", "string", "required", "must be " k ".", AS_UPSTREAM)
#define META(k)                                                                                                     \
	AS(k, "metadata", "mapping", "required",                                                                    \
	   "the resource's name, namespace, labels and annotations, as a FlinkDeployment's; what the API server "  \
	   "sets is ignored with a warning.",                                                                        \
	   AS_UPSTREAM, FD, "metadata")
#define TOP_TAIL(k, spec_what)                                                                                      \
	F(k, "spec", "mapping", "required", spec_what, AS_UPSTREAM),                                                \
	F(k, "status", "mapping", "none",                                                                           \
	  "written by the upstream operator: ignored with a warning; flinkops writes its own status files to git "  \
	  "(status/NS/NAME.yaml).",                                                                                  \
	  "upstream keeps the status in the resource; flinkops keeps it in git")
#define TOP(k, spec_what) TOP_HEAD(k), META(k), TOP_TAIL(k, spec_what)

/* The fields of a plain kind's document. */
#define PLAIN_TOP(k, version)                                                                                       \
	F(k, "apiVersion", "string", "required", "must be exactly " version ".", AS_UPSTREAM),                     \
	F(k, "kind", "string", "required", "the kind, applied by flinkops as written.", AS_UPSTREAM),              \
	AS(k, "metadata", "mapping", "required",                                                                    \
	   "its name (a DNS-1123 subdomain), namespace (default \"default\"), labels and annotations; what the API "    \
	   "server sets is ignored with a warning.",                                                                 \
	   AS_UPSTREAM, FD, "metadata")

static const flink_field fields[] = {
	/* ---- FlinkDeployment ---- */
	F(FD, "", "document", "none",
	  "a Flink cluster and, with spec.job, its job: rendered into a ConfigMap, three Services and two "
	  "StatefulSets (and an Ingress), applied with server-side apply, and the job rolled out as its upgradeMode "
	  "says.",
	  "the upstream operator runs it from a custom resource in the cluster; flinkops reads it from git and needs "
	  "no custom resource definition"),
	TOP_HEAD(FD),
	F(FD, "metadata", "mapping", "required",
	  "the resource's name, namespace, labels and annotations; what the API server sets is ignored with a "
	  "warning.",
	  AS_UPSTREAM),
	TOP_TAIL(FD, "the cluster (image, flinkVersion, jobManager, taskManager, flinkConfiguration) and its job."),
	F(FD, "metadata.name", "string", "required",
	  "a DNS-1123 label of at most 45 characters; the rendered objects are named after it (from 41 characters "
	  "on the StatefulSets are NAME-jm and NAME-tm).",
	  AS_UPSTREAM),
	F(FD, "metadata.namespace", "string", "\"default\"",
	  "the namespace the objects are applied in (a DNS-1123 label); it must be one the agent manages.",
	  AS_UPSTREAM),
	FL(FD, "metadata.labels", "map of strings", "none", "the resource's labels, put on what it renders.",
	   AS_UPSTREAM, FLINK_FIELD_OPEN),
	FL(FD, "metadata.annotations", "map of strings", "none", "the resource's annotations.", AS_UPSTREAM,
	   FLINK_FIELD_OPEN),
#define SERVER_SET(name)                                                                                            \
	FL(FD, "metadata." name, "set by the API server", "none",                                                   \
	   "accepted in a manifest exported with kubectl get -o yaml, ignored, and named in one warning.",          \
	   "upstream's API server sets it; it means nothing to a desired state in git",                             \
	   FLINK_FIELD_SERVER_SET | FLINK_FIELD_OPEN)
	SERVER_SET("uid"),
	SERVER_SET("resourceVersion"),
	SERVER_SET("generation"),
	SERVER_SET("creationTimestamp"),
	SERVER_SET("deletionTimestamp"),
	SERVER_SET("deletionGracePeriodSeconds"),
	SERVER_SET("finalizers"),
	SERVER_SET("managedFields"),
	SERVER_SET("selfLink"),
#undef SERVER_SET
	F(FD, "spec.image", "string (repo:tag) or mapping {repository, tag, pullPolicy}", "required",
	  "the image of the JobManager and TaskManager containers (flink-main-container); no whitespace.",
	  "upstream takes a string only; the mapping is flinkops' short form"),
	F(FD, "spec.image.repository", "string", "required",
	  "the image's repository; with tag it becomes repository:tag (repository@tag for a sha256: digest).",
	  "the short form's own field"),
	F(FD, "spec.image.tag", "string", "none", "the image's tag, or a sha256: digest.",
	  "the short form's own field"),
	F(FD, "spec.image.pullPolicy", "string: Always, IfNotPresent or Never", "Kubernetes' default",
	  "the containers' imagePullPolicy; giving it here and in spec.imagePullPolicy is an error.",
	  "the short form's spelling of spec.imagePullPolicy"),
	F(FD, "spec.imagePullPolicy", "string: Always, IfNotPresent or Never", "Kubernetes' default",
	  "the containers' imagePullPolicy.", AS_UPSTREAM),
	F(FD, "spec.serviceAccount", "string", "the namespace's default ServiceAccount",
	  "the pods' serviceAccountName (unless kubernetes.jobmanager/taskmanager.service-account names one); "
	  "Kubernetes HA needs one that may edit ConfigMaps.",
	  AS_UPSTREAM),
	F(FD, "spec.flinkVersion", "string: v1_13 to v1_20, v2_0 to v2_4 (or 1.20, 1.20.1)", "required",
	  "the Flink version of the image: it chooses the configuration file (flink-conf.yaml before 1.19, "
	  "config.yaml from 1.19) and option names.",
	  AS_UPSTREAM),
	F(FD, "spec.ingress", "mapping", "none",
	  "an Ingress named NAME to the REST Service NAME-rest (port 8081), at the host and path of its template; "
	  "deleted when the field goes.",
	  "as upstream reads it; kubernetes.operator.ingress.manage has no counterpart: the Ingress is managed "
	  "whenever spec.ingress asks for one"),
	F(FD, "spec.ingress.template", "string", "required",
	  "the host and path of the Flink UI: {{name}} and {{namespace}} are replaced, what precedes the first / "
	  "is the host, the rest the path (pathType ImplementationSpecific); an optional http:// or https://.",
	  "a port, user information, a query or a fragment, which upstream drops without a word, are errors"),
	F(FD, "spec.ingress.className", "string", "the cluster's default IngressClass", "the Ingress's ingressClassName.",
	  AS_UPSTREAM),
	FL(FD, "spec.ingress.annotations", "map of strings", "none",
	   "the Ingress's annotations (e.g. nginx.ingress.kubernetes.io/rewrite-target); flinkops.io/ ones are "
	   "refused.",
	   AS_UPSTREAM, FLINK_FIELD_OPEN),
	FL(FD, "spec.ingress.labels", "map of strings", "none",
	   "the Ingress's labels besides flinkops' own; app.kubernetes.io/ ones are refused.", AS_UPSTREAM,
	   FLINK_FIELD_OPEN),
	FL(FD, "spec.ingress.tls", "list of {hosts, secretName}", "none", "the Ingress's tls, as an Ingress takes it.",
	   AS_UPSTREAM, FLINK_FIELD_LIST),
	F(FD, "spec.ingress.tls.hosts", "list of strings", "none", "DNS names (a leading *. allowed) the certificate covers.",
	  AS_UPSTREAM),
	F(FD, "spec.ingress.tls.secretName", "string", "none", "the Secret holding the certificate (a DNS-1123 subdomain).",
	  AS_UPSTREAM),
	F(FD, "spec.podTemplate", "mapping (a Pod)", "none",
	  "the base both components' pods are built on: sidecars, volumes, env, tolerations and security context "
	  "stay; the container named flink-main-container gets the image, args, ports, resources, probes and the "
	  "configuration mount. jobManager.podTemplate and taskManager.podTemplate are merged over it.",
	  "as upstream; containers are always merged by name"),
	F(FD, "spec.podTemplate.apiVersion", "string", "v1", "must be v1.", AS_UPSTREAM),
	F(FD, "spec.podTemplate.kind", "string", "Pod", "must be Pod.", AS_UPSTREAM),
	F(FD, "spec.podTemplate.metadata", "mapping", "none",
	  "labels and annotations for the pods (flinkops' selector labels always win).", AS_UPSTREAM),
	FL(FD, "spec.podTemplate.metadata.labels", "map of strings", "none", "the pods' labels.", AS_UPSTREAM,
	   FLINK_FIELD_OPEN),
	FL(FD, "spec.podTemplate.metadata.annotations", "map of strings", "none", "the pods' annotations.", AS_UPSTREAM,
	   FLINK_FIELD_OPEN),
	FL(FD, "spec.podTemplate.metadata.name", "string", "none", "accepted and not used: the StatefulSets name the pods.",
	   AS_UPSTREAM, FLINK_FIELD_OPEN),
	FL(FD, "spec.podTemplate.spec", "mapping (a PodSpec)", "none",
	   "passed through to the pods as written; only spec.containers is checked: a list whose every item has a "
	   "name (the merge is by name).",
	   AS_UPSTREAM, FLINK_FIELD_OPEN),
	F(FD, "spec.jobManager", "mapping", "required",
	  "the JobManager: its resources (resource.memory at least), replicas and pod template; a StatefulSet "
	  "NAME-jobmanager.",
	  "as upstream; flinkops runs it as a StatefulSet in standalone mode"),
	F(FD, "spec.jobManager.resource", "mapping {cpu, memory, ephemeralStorage}", "required (or resources)",
	  "Flink's form of the container's resources: the request; the limit is the request times "
	  "kubernetes.*.cpu/memory.limit-factor (1). Give resource or resources, not both.",
	  AS_UPSTREAM),
	F(FD, "spec.jobManager.resource.cpu", "number or quantity (1, 0.5, 500m)", "1",
	  "the container's cpu request in cores.", AS_UPSTREAM),
	F(FD, "spec.jobManager.resource.memory", "memory size (2048m, 2g, 2Gi)", "required",
	  "the Flink process size (jobmanager/taskmanager.memory.process.size) and the container's memory; every "
	  "unit of Flink's (m, g) is a power of 1024; checked with Flink's own memory model, naming the smallest "
	  "size that fits.",
	  "upstream accepts a size Flink refuses at start; flinkops reports it at the field"),
	F(FD, "spec.jobManager.resource.ephemeralStorage", "memory size", "none",
	  "the container's ephemeral-storage request and limit.", AS_UPSTREAM),
	F(FD, "spec.jobManager.resources", "mapping {requests, limits, claims} (Kubernetes' form)",
	  "required (or resource)",
	  "Kubernetes' form of the container's resources; requests.memory (or limits.memory) is the Flink "
	  "process size. Give resource or resources, not both.",
	  AS_UPSTREAM),
	F(FD, "spec.jobManager.resources.requests", "mapping {cpu, memory, ephemeral-storage}", "the limits",
	  "the container's requests; a missing one is the limit.", AS_UPSTREAM),
	F(FD, "spec.jobManager.resources.requests.cpu", "number or quantity", "1 (or the limit)", "the cpu request.",
	  AS_UPSTREAM),
	F(FD, "spec.jobManager.resources.requests.memory", "memory size", "the limit",
	  "the memory request: the Flink process size.", AS_UPSTREAM),
	F(FD, "spec.jobManager.resources.requests.ephemeral-storage", "memory size", "none",
	  "the ephemeral-storage request.", AS_UPSTREAM),
	F(FD, "spec.jobManager.resources.limits", "mapping {cpu, memory, ephemeral-storage}", "the requests",
	  "the container's limits: the requests times the limit factors unless given; below the request is an "
	  "error.",
	  AS_UPSTREAM),
	F(FD, "spec.jobManager.resources.limits.cpu", "number or quantity", "the request", "the cpu limit.",
	  AS_UPSTREAM),
	F(FD, "spec.jobManager.resources.limits.memory", "memory size", "the request", "the memory limit.",
	  AS_UPSTREAM),
	F(FD, "spec.jobManager.resources.limits.ephemeral-storage", "memory size", "none",
	  "accepted; the request is what flinkops renders.", AS_UPSTREAM),
	FL(FD, "spec.jobManager.resources.claims", "list of {name, request}", "none",
	   "dynamic resource claims (Kubernetes 1.26+) of the container, as given; a pod template container's "
	   "claims stay when none are given.",
	   AS_UPSTREAM, FLINK_FIELD_LIST),
	F(FD, "spec.jobManager.resources.claims.name", "string", "required",
	  "a claim of the pod's spec.resourceClaims (in a podTemplate).", AS_UPSTREAM),
	F(FD, "spec.jobManager.resources.claims.request", "string", "none", "the request of that claim to use.",
	  AS_UPSTREAM),
	F(FD, "spec.jobManager.replicas", "integer 1 to 10000", "1",
	  "JobManagers: more than one (standbys) needs high availability, and the REST Service then gets "
	  "sessionAffinity: ClientIP.",
	  "as upstream, which refuses standbys without high availability too"),
	AS(FD, "spec.jobManager.podTemplate", "mapping (a Pod)", "none",
	   "merged over spec.podTemplate for this component's pods.", AS_UPSTREAM, NULL, "spec.podTemplate"),
	AS(FD, "spec.taskManager", "mapping", "required",
	   "the TaskManagers: a StatefulSet NAME-taskmanager of fixed size; the same fields as jobManager.",
	   "upstream's native mode (its default) starts TaskManager pods on demand; flinkops always runs standalone",
	   NULL, "spec.jobManager"),
	F(FD, "spec.taskManager.replicas", "integer 1 to 10000", "ceil(parallelism / slots); 1 for a session cluster",
	  "TaskManager pods. Alone, the job runs at replicas x slots; with job.parallelism both must agree. A "
	  "session cluster without it gets as many as its session jobs' slots need, at least one (a warning).",
	  "upstream runs at replicas x slots and ignores job.parallelism; flinkops refuses a pair that disagrees"),
	FL(FD, "spec.logConfiguration", "map of file name to text", "log4j-console.properties of flinkops",
	   "files written into the ConfigMap beside Flink's configuration (e.g. log4j-console.properties); names "
	   "of letters, digits, '-', '_' and '.'.",
	   AS_UPSTREAM, FLINK_FIELD_OPEN),
	F(FD, "spec.mode", "string: standalone or native", "standalone",
	  "flinkops always runs Flink standalone: TaskManagers are a StatefulSet of fixed size; native is accepted "
	  "with a warning.",
	  "upstream's default is native; a manifest in its spelling without mode gets a warning"),
	FL(FD, "spec.flinkConfiguration", "map of configuration keys (nested maps join with '.')", "none",
	   "Flink's configuration, written into the ConfigMap's flink-conf.yaml or config.yaml; kubernetes.operator.* "
	   "keys tell flinkops what to do and are never written. Explain a key: flinkConfiguration.KEY.",
	   "as upstream flattens it (lists joined with ';'); keys the Services depend on are refused",
	   FLINK_FIELD_CONF),
	F(FD, "spec.restartNonce", "string", "none",
	  "a new value restarts the pods (it is an annotation of both pod templates), upgrading the job in its "
	  "upgradeMode.",
	  AS_UPSTREAM),
	F(FD, "spec.job", "mapping", "none (a session cluster)",
	  "the job the cluster runs; without it the FlinkDeployment is a session cluster for FlinkSessionJobs.",
	  AS_UPSTREAM),
	F(FD, "spec.job.jarURI", "URI: s3://, https://, http://, file:/// or local:///", "required",
	  "the job's jar: fetched by the agent and uploaded (local:// is in the image: an application cluster). "
	  "Credentials in the URI are refused; messages redact it.",
	  "as upstream for local://; flinkops fetches s3://, https://, http:// and file:// jars with the agent's "
	  "settings (flink.s3*) and submits them over Flink's REST API"),
	F(FD, "spec.job.entryClass", "string", "the jar's manifest", "the job's main class.", AS_UPSTREAM),
	F(FD, "spec.job.mainClass", "string", "the jar's manifest",
	  "the short form's spelling of entryClass; giving both is an error.", "the short form's own field"),
	F(FD, "spec.job.args", "list of strings", "none", "the arguments of the job's main().", AS_UPSTREAM),
	F(FD, "spec.job.parallelism", "integer 1 to 100000", "1, or replicas x slots",
	  "the job's parallelism; with taskManager.replicas both must agree; TaskManagers are computed from it.",
	  "upstream ignores it when taskManager.replicas is set"),
	F(FD, "spec.job.parallelismPerK8sResource", "integer 1 to 10000", "1 (taskmanager.numberOfTaskSlots)",
	  "task slots per TaskManager; must agree with taskmanager.numberOfTaskSlots when both are given. On a "
	  "FlinkSessionJob it is ignored with a warning (the cluster's slots count).",
	  "the short form's spelling of taskmanager.numberOfTaskSlots"),
	F(FD, "spec.job.upgradeMode", "string: stateless, savepoint (or SAVEPOINT_ON_RESTART), last-state",
	  "stateless",
	  "how a change that restarts the job stops it: savepoint stops it with a savepoint and resumes from it; "
	  "last-state resumes from the newest retained checkpoint; stateless cancels and starts fresh. A savepoint "
	  "that fails changes nothing.",
	  "as upstream, except that a last-state upgrade never falls back to another mode, and a stateful "
	  "local:// job needs high availability"),
	F(FD, "spec.job.state", "string: running or suspended", "running",
	  "suspended stops the job with a savepoint (as its upgradeMode allows) and scales both StatefulSets to "
	  "zero; running resumes it from that state.",
	  AS_UPSTREAM),
	F(FD, "spec.job.allowNonRestoredState", "boolean", "false",
	  "start from state that holds operators the new job lacks (their state is dropped; plan warns).",
	  AS_UPSTREAM),
	F(FD, "spec.job.initialSavepointPath", "string", "none",
	  "the savepoint a new job starts from when there is no newer state of its own.", AS_UPSTREAM),
	F(FD, "spec.job.savepointTriggerNonce", "integer", "none",
	  "a new value takes one savepoint of the running job, which keeps running; its trigger id is journaled "
	  "first. The value a deployment is created with takes none.",
	  AS_UPSTREAM),
	F(FD, "spec.job.savepointRedeployNonce", "integer", "none",
	  "a new value starts the job again from initialSavepointPath (required with it), stopping the running job "
	  "as its upgradeMode says.",
	  AS_UPSTREAM),
	F(FD, "spec.job.checkpointTriggerNonce", "integer", "none",
	  "a new value takes one checkpoint of the running job (Flink 1.17 on) of "
	  "kubernetes.operator.checkpoint.type.",
	  AS_UPSTREAM),
	F(FD, "spec.job.autoscalerResetNonce", "integer", "none",
	  "accepted with a warning and has no effect: flinkops has no autoscaler.",
	  "upstream's autoscaler resets its scaling decisions when it changes"),
	F(FD, "spec.job.savepointStorage", "URI (s3://..., file:///...)", "the configuration's savepoint directory",
	  "the savepoint directory, written as execution.checkpointing.savepoint-dir (Flink 1.20 on) or "
	  "state.savepoints.dir; it must agree with those keys when they are given.",
	  "the short form's spelling of those keys"),

	/* ---- FlinkSessionJob ---- */
	F(FSJ, "", "document", "none",
	  "a job on a session cluster (a FlinkDeployment without spec.job of the same namespace), with the "
	  "lifecycle of a job of its own: upgrades, suspend, delete with a final savepoint, nonces, retention, "
	  "rollback.",
	  "upstream restarts a session cluster under its jobs; flinkops stops them with savepoints first"),
	TOP(FSJ, "the session cluster, the job and its configuration."),
	F(FSJ, "spec.deploymentName", "string", "required",
	  "the session FlinkDeployment of the same namespace the job runs on; one that is not in git is an error.",
	  AS_UPSTREAM),
	AS(FSJ, "spec.job", "mapping", "required",
	   "the job, as a FlinkDeployment's; its jar is uploaded to the cluster (local:// is refused).",
	   AS_UPSTREAM, FD, "spec.job"),
	FL(FSJ, "spec.flinkConfiguration", "map of configuration keys", "none",
	   "the job's own options, passed with its submission (Flink 1.17 on), and flinkops' kubernetes.operator.* "
	   "keys; an option of the cluster gets a warning and is not passed. Explain a key: "
	   "FlinkSessionJob.flinkConfiguration.KEY.",
	   AS_UPSTREAM, FLINK_FIELD_CONF),
	F(FSJ, "spec.restartNonce", "string", "none", "a new value submits the job again, in its upgradeMode.",
	  AS_UPSTREAM),

	/* ---- FlinkStateSnapshot ---- */
	F(FSS, "", "document", "none",
	  "a savepoint or checkpoint of a job, taken once while the job's rollout is settled, or an existing "
	  "savepoint registered; its trigger id is recorded before Flink is asked.",
	  AS_UPSTREAM),
	TOP(FSS, "the job, and a savepoint or a checkpoint."),
	F(FSS, "spec.jobReference", "mapping {kind, name}", "required (but with savepoint.alreadyExists)",
	  "the job to take the snapshot of; one not in git gets a warning and the snapshot is Abandoned.",
	  AS_UPSTREAM),
	F(FSS, "spec.jobReference.kind", "string: FlinkDeployment or FlinkSessionJob", "required", "the job's kind.",
	  AS_UPSTREAM),
	F(FSS, "spec.jobReference.name", "string", "required", "the job's resource name.", AS_UPSTREAM),
	F(FSS, "spec.savepoint", "mapping", "none (exactly one of savepoint and checkpoint)",
	  "take a savepoint (the job keeps running).", AS_UPSTREAM),
	F(FSS, "spec.savepoint.path", "string", "the job's savepoint directory",
	  "where to write it; with alreadyExists, the savepoint to register.", AS_UPSTREAM),
	F(FSS, "spec.savepoint.alreadyExists", "boolean", "false",
	  "register the savepoint at path, never take one.", AS_UPSTREAM),
	F(FSS, "spec.savepoint.formatType", "string: CANONICAL or NATIVE", "CANONICAL", "the savepoint's format.",
	  AS_UPSTREAM),
	F(FSS, "spec.savepoint.disposeOnDelete", "boolean", "false",
	  "true: when the file goes from git, Flink disposes of the savepoint (when nothing names it and no prune "
	  "guard holds).",
	  "upstream's default is true; flinkops keeps the data unless it is written, and warns where it is not"),
	F(FSS, "spec.checkpoint", "empty mapping", "none (exactly one of savepoint and checkpoint)",
	  "take a checkpoint; its data is Flink's and may be gone after newer checkpoints.", AS_UPSTREAM),
	F(FSS, "spec.backoffLimit", "integer -1 to 1000", "-1 (no end)",
	  "retries after a failure (10 s, doubling up to 10 min); then Failed.", AS_UPSTREAM),

	/* ---- FlinkBlueGreenDeployment ---- */
	F(FBG, "", "document", "none",
	  "a job upgraded without stopping it first: its template runs as FlinkDeployments NAME-blue and "
	  "NAME-green; the new colour starts from a savepoint taken for the switch, and the old one stops once "
	  "the new has caught up.",
	  "upstream switches once the new job is RUNNING; flinkops once it has caught up in event time"),
	TOP(FBG, "the template, the settings and the Ingress."),
	F(FBG, "spec.template", "mapping {metadata, spec}", "required", "what both colours run.", AS_UPSTREAM),
	F(FBG, "spec.template.metadata", "mapping {labels, annotations}", "none",
	  "labels and annotations of both children (besides flink/blue-green-deployment-type: BLUE|GREEN).",
	  AS_UPSTREAM),
	FL(FBG, "spec.template.metadata.labels", "map of strings", "none", "the children's labels.", AS_UPSTREAM,
	   FLINK_FIELD_OPEN),
	FL(FBG, "spec.template.metadata.annotations", "map of strings", "none", "the children's annotations.",
	   AS_UPSTREAM, FLINK_FIELD_OPEN),
	AS(FBG, "spec.template.spec", "mapping (a FlinkDeployment spec)", "required",
	   "the FlinkDeployment spec both colours run; it must have a job. Checked as both children; a problem is "
	   "reported once.",
	   AS_UPSTREAM, FD, "spec"),
	FL(FBG, "spec.configuration", "map of blue/green settings", "none",
	   "its settings (durations); any other key is an error naming the nearest. Explain a key: "
	   "FlinkBlueGreenDeployment.spec.configuration.KEY.",
	   "upstream ignores unknown keys without a word", FLINK_FIELD_BG_CONF),
	AS(FBG, "spec.ingress", "mapping", "none",
	   "one Ingress named NAME to the REST Service of the colour that serves, moved at each switch; {{name}} "
	   "is the resource's own name.",
	   AS_UPSTREAM, FD, "spec.ingress"),

	/* ---- the plain kinds ---- */
	F(SA, "", "document", "none",
	  "a ServiceAccount applied as written beside the FlinkDeployments (before them), e.g. for Kubernetes HA.",
	  "not the upstream operator's kind; applied by flinkops"),
	PLAIN_TOP(SA, "v1"),
	F(SA, "secrets", "list of {name}", "none", "as Kubernetes reads it.", "Kubernetes' field"),
	F(SA, "imagePullSecrets", "list of {name}", "none", "as Kubernetes reads it.", "Kubernetes' field"),
	F(SA, "automountServiceAccountToken", "boolean", "Kubernetes' default", "as Kubernetes reads it.",
	  "Kubernetes' field"),
	F(ROLE, "", "document", "none",
	  "a Role applied as written; it may grant only what the agent holds (creating more would need RBAC's "
	  "escalate).",
	  "not the upstream operator's kind; applied by flinkops"),
	PLAIN_TOP(ROLE, FLINK_PLAIN_RBAC_GROUP "/v1"),
	FL(ROLE, "rules", "list of rules", "none", "what the Role grants: every group x resource x verb must be the agent's.",
	   "Kubernetes' field", FLINK_FIELD_LIST),
	F(ROLE, "rules.apiGroups", "list of strings", "required", "the API groups (\"\" the core group).",
	  "Kubernetes' field"),
	F(ROLE, "rules.resources", "list of strings", "required", "the resources.", "Kubernetes' field"),
	F(ROLE, "rules.verbs", "list of strings", "required", "the verbs.", "Kubernetes' field"),
	F(ROLE, "rules.resourceNames", "list of strings", "none", "the names it is limited to.", "Kubernetes' field"),
	F(ROLE, "rules.nonResourceURLs", "list of strings", "none", "refused: a Role grants no URLs.",
	  "Kubernetes' field"),
	F(RB, "", "document", "none", "a RoleBinding applied as written: a Role of its namespace to ServiceAccounts.",
	  "not the upstream operator's kind; applied by flinkops"),
	PLAIN_TOP(RB, FLINK_PLAIN_RBAC_GROUP "/v1"),
	F(RB, "roleRef", "mapping {apiGroup, kind, name}", "required", "the Role to bind (not a ClusterRole).",
	  "Kubernetes' field"),
	F(RB, "roleRef.apiGroup", "string", "required", "must be " FLINK_PLAIN_RBAC_GROUP ".", "Kubernetes' field"),
	F(RB, "roleRef.kind", "string", "required", "must be Role.", "Kubernetes' field"),
	F(RB, "roleRef.name", "string", "required", "the Role's name.", "Kubernetes' field"),
	FL(RB, "subjects", "list of {kind, name, namespace, apiGroup}", "none", "who is bound: ServiceAccounts only.",
	   "Kubernetes' field", FLINK_FIELD_LIST),
	F(RB, "subjects.kind", "string", "required", "must be ServiceAccount.", "Kubernetes' field"),
	F(RB, "subjects.name", "string", "required", "the ServiceAccount's name.", "Kubernetes' field"),
	F(RB, "subjects.namespace", "string", "the RoleBinding's", "the ServiceAccount's namespace.", "Kubernetes' field"),
	F(RB, "subjects.apiGroup", "string", "\"\"", "must be empty (the core group).", "Kubernetes' field"),
};

static const char *const kinds[] = {FD, FSJ, FSS, FBG, SA, ROLE, RB};

const flink_field *flink_fields(size_t *n)
{
	*n = FO_ARRAY_LEN(fields);
	return fields;
}

const char *const *flink_explain_kinds(size_t *n)
{
	*n = FO_ARRAY_LEN(kinds);
	return kinds;
}

/* ---- configuration keys ------------------------------------------------ */

#define OPK "kubernetes.operator."
#define SETS "set by flinkops (the Services depend on it): "

/* The keys with FLINK_CONF_SET are checked in this order (model.c). */
static const flink_conf_key conf_keys[] = {
	{"jobmanager.rpc.address", "NAME.NS (the JobManager's Service)",
	 SETS "refused in flinkConfiguration. With high availability each JobManager advertises its pod address "
	      "instead (-D jobmanager.rpc.address=$(POD_IP)).",
	 AS_UPSTREAM, FLINK_CONF_SET, NULL},
	{"jobmanager.rpc.port", "6123", SETS "refused unless written as 6123.", AS_UPSTREAM, FLINK_CONF_SET, "6123"},
	{"blob.server.port", "6124", SETS "refused unless written as 6124.", AS_UPSTREAM, FLINK_CONF_SET, "6124"},
	{"rest.port", "8081", SETS "refused unless written as 8081.", AS_UPSTREAM, FLINK_CONF_SET, "8081"},
	{"rest.bind-port", "none", SETS "refused.", AS_UPSTREAM, FLINK_CONF_SET, NULL},
	{"taskmanager.rpc.port", "6122", SETS "refused unless written as 6122.", AS_UPSTREAM, FLINK_CONF_SET, "6122"},
	{"kubernetes.cluster-id", "NAME (with Kubernetes HA)",
	 "set by flinkops to the resource's name with Kubernetes HA (the leader ConfigMaps are named after it); "
	 "refused.",
	 "as upstream, which refuses it too", FLINK_CONF_SET, NULL},
	{"kubernetes.namespace", "NS (with Kubernetes HA)",
	 "set by flinkops to the resource's namespace with Kubernetes HA; refused.", "as upstream, which refuses it too",
	 FLINK_CONF_SET, NULL},
	{"high-availability.cluster-id", "NAME (with high availability)",
	 "set by flinkops to the resource's name with any high availability; refused.",
	 "as upstream, which refuses it too", FLINK_CONF_SET, NULL},
	{"high-availability.jobmanager.port", "6123 (with high availability)",
	 "set by flinkops with any high availability (HA's default is a random port the Services do not know); "
	 "refused.",
	 AS_UPSTREAM, FLINK_CONF_SET, NULL},
	{"jobmanager.memory.process.size", "jobManager.resource.memory",
	 "refused: it comes from spec.jobManager.resource.memory (or resources).", AS_UPSTREAM, FLINK_CONF_REFUSED, NULL},
	{"taskmanager.memory.process.size", "taskManager.resource.memory",
	 "refused: it comes from spec.taskManager.resource.memory (or resources).", AS_UPSTREAM, FLINK_CONF_REFUSED,
	 NULL},
	{"jobmanager.memory.", "Flink's",
	 "passed to Flink; validate derives the JobManager's memory with them as Flink 1.20 does and refuses a size "
	 "Flink would not start with, or a heap below 32m.",
	 "upstream accepts what Flink refuses at start", FLINK_CONF_PREFIX, NULL},
	{"taskmanager.memory.", "Flink's",
	 "passed to Flink; validate derives the TaskManager's memory with them as Flink 1.20 does and refuses a size "
	 "Flink would not start with.",
	 "upstream accepts what Flink refuses at start", FLINK_CONF_PREFIX, NULL},
	{"taskmanager.numberOfTaskSlots", "1 (or job.parallelismPerK8sResource)",
	 "task slots per TaskManager: TaskManager replicas are ceil(parallelism / slots); must agree with "
	 "job.parallelismPerK8sResource when both are given.",
	 AS_UPSTREAM, FLINK_CONF_DEFAULT, NULL},
	{"parallelism.default", "job.parallelism",
	 "written from job.parallelism; a different value is an error. A FlinkSessionJob without job.parallelism "
	 "takes it as its parallelism.",
	 AS_UPSTREAM, FLINK_CONF_DEFAULT, NULL},
	{"high-availability.type", "NONE",
	 "kubernetes (or Flink's KubernetesHaServicesFactory): flinkops renders what Kubernetes HA needs (cluster "
	 "id, namespace, the pod address as RPC address). Any type needs high-availability.storageDir; standby "
	 "JobManagers and stateful local:// jobs need one.",
	 "as upstream, but a stateful local:// job without it is refused", 0, NULL},
	{"high-availability", "NONE", "the older name of high-availability.type, read the same way.", AS_UPSTREAM, 0,
	 NULL},
	{"high-availability.storageDir", "none", "durable storage every JobManager reaches; required with high availability.",
	 AS_UPSTREAM, 0, NULL},
	{"high-availability.zookeeper.storageDir", "none", "accepted instead of high-availability.storageDir.",
	 AS_UPSTREAM, 0, NULL},
	{"execution.checkpointing.savepoint-dir", "job.savepointStorage",
	 "the savepoint directory flinkops takes savepoints into; must agree with job.savepointStorage.", AS_UPSTREAM, 0,
	 NULL},
	{"state.savepoints.dir", "job.savepointStorage", "the older name of execution.checkpointing.savepoint-dir.",
	 AS_UPSTREAM, 0, NULL},
	{"execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION",
	 "written unless given: retained checkpoints are what last-state upgrades and restarts resume from.",
	 AS_UPSTREAM, FLINK_CONF_DEFAULT, NULL},
	{"pipeline.name", "NAME", "written unless given, for a job.", AS_UPSTREAM, FLINK_CONF_DEFAULT, NULL},
	{"jobmanager.bind-host", "0.0.0.0", "written unless given.", AS_UPSTREAM, FLINK_CONF_DEFAULT, NULL},
	{"taskmanager.bind-host", "0.0.0.0", "written unless given.", AS_UPSTREAM, FLINK_CONF_DEFAULT, NULL},
	{"rest.address", "NAME", "written unless given.", AS_UPSTREAM, FLINK_CONF_DEFAULT, NULL},
	{"rest.bind-address", "0.0.0.0", "written unless given.", AS_UPSTREAM, FLINK_CONF_DEFAULT, NULL},
	{"pipeline.classpaths", "file://PATH of a local:// jar", "written unless given, for an application cluster.",
	 AS_UPSTREAM, FLINK_CONF_DEFAULT, NULL},
	{"execution.shutdown-on-application-finish", "false (application clusters)",
	 "written unless given for an application cluster: the JobManager stays up after its job stops, so flinkops "
	 "sees how it ended.",
	 AS_UPSTREAM, FLINK_CONF_DEFAULT, NULL},
	{"execution.submit-failed-job-on-application-error", "true (application clusters with HA)",
	 "written unless given: a main() that throws shows as a FAILED job.", AS_UPSTREAM, FLINK_CONF_DEFAULT, NULL},
	{"kubernetes.rest-service.exposed.type", "ClusterIP", "the type of the REST Service NAME-rest.", AS_UPSTREAM, 0,
	 NULL},
#define POD_OPTION(comp, opt, what)                                                                                 \
	{"kubernetes." comp "." opt, "none", what " (applied to the pods over the templates, as upstream's "        \
						    "standalone mode does).",                                         \
	 AS_UPSTREAM, 0, NULL}
#define POD_OPTIONS(comp)                                                                                           \
	POD_OPTION(comp, "labels", "pod labels, k1:v1,k2:v2"),                                                      \
	POD_OPTION(comp, "annotations", "pod annotations, k1:v1,k2:v2"),                                            \
	POD_OPTION(comp, "node-selector", "the pods' nodeSelector, k1:v1,...; merged"),                             \
	POD_OPTION(comp, "tolerations", "tolerations, key:k,operator:Equal,value:v,effect:NoSchedule;...; after the " \
					 "template's"),                                                             \
	POD_OPTION(comp, "service-account", "the pods' serviceAccountName, before spec.serviceAccount"),            \
	POD_OPTION(comp, "cpu.limit-factor", "the cpu limit is the request times it (at least 1) unless limits are " \
					      "given"),                                                              \
	POD_OPTION(comp, "memory.limit-factor", "the memory limit is the request times it (at least 1) unless "    \
						 "limits are given")
	POD_OPTIONS("jobmanager"),
	POD_OPTIONS("taskmanager"),
#undef POD_OPTIONS
#undef POD_OPTION
	{"kubernetes.service-account", "none", "the pods' serviceAccountName when neither spec.serviceAccount nor a "
					       "component's service-account names one.",
	 AS_UPSTREAM, 0, NULL},
	{"kubernetes.container.image.pull-secrets", "none", "the pods' imagePullSecrets, a;b; both components.",
	 AS_UPSTREAM, 0, NULL},
	/* the upstream operator's keys flinkops honours (flink_operator_keys with no note) */
	{OPK "checkpoint.type", "FULL",
	 "the type of the checkpoints flinkops asks for (checkpointTriggerNonce, periodic.checkpoint.interval): "
	 "FULL, INCREMENTAL or CONFIGURED. Never written into Flink's configuration.",
	 AS_UPSTREAM, 0, NULL},
	{OPK "deployment.rollback.enabled", "the agent's flink.rollback (auto: on)",
	 "true: a new job that never becomes healthy (no checkpoint within flink.readyTimeout) is rolled back to "
	 "the previous commit's spec; false: left Failed. true with a stateless job is an error.",
	 "upstream's rollback is experimental and off by default; flinkops judges health by the first checkpoint", 0,
	 NULL},
	{OPK "periodic.checkpoint.interval", "0 (none)",
	 "a duration (at least 1 s) or a Quartz cron expression: flinkops takes a checkpoint of the running job on "
	 "that schedule (Flink 1.17 on); needs a job.",
	 AS_UPSTREAM, 0, NULL},
	{OPK "periodic.savepoint.interval", "0 (none)",
	 "a duration (at least 1 s) or a Quartz cron expression (UTC): a pass takes a savepoint when the newest is "
	 "older than that, or the schedule fired since; needs a job.",
	 "as upstream; a pass takes it, so at most one pass interval late", 0, NULL},
	{OPK "savepoint.cleanup.enabled", "true", "false: let no savepoint go, dispose of none.", AS_UPSTREAM, 0, NULL},
	{OPK "savepoint.dispose-on-delete", "false",
	 "true: dispose of the data of a savepoint flinkops took and let go (never one anything references).",
	 AS_UPSTREAM, 0, NULL},
	{OPK "savepoint.history.max.age", "24 h",
	 "savepoints flinkops took that are older are let go (a duration of at least 1 s); the newest is kept.",
	 AS_UPSTREAM, 0, NULL},
	{OPK "savepoint.history.max.count", "10",
	 "keep the newest this many savepoints flinkops took (1 to 32); older ones are let go: dropped from the "
	 "journal, their data kept unless savepoint.dispose-on-delete.",
	 "upstream allows more than 32; flinkops' journal lists at most 32", 0, NULL},
	{OPK "session.block-on-unmanaged-jobs", "true", "the older name of session.deletion.block-on-unmanaged-jobs.",
	 AS_UPSTREAM, 0, NULL},
	{OPK "session.deletion.block-on-unmanaged-jobs", "true",
	 "a session cluster gone from git, or restarted, while jobs no FlinkSessionJob manages run on it waits "
	 "(Failed, naming them); \"false\" lets it go with them. Only for a session cluster.",
	 "upstream deletes anyway when the jobs cannot be listed, and restarts the cluster regardless; flinkops "
	 "keeps it",
	 0, NULL},
	{OPK "snapshot.resource.enabled", "true",
	 "false (upstream's legacy history): a savepoint let go is disposed of too.", AS_UPSTREAM, 0, NULL},
};

const flink_conf_key *flink_conf_keys(size_t *n)
{
	*n = FO_ARRAY_LEN(conf_keys);
	return conf_keys;
}

static const flink_bluegreen_setting bluegreen_settings[] = {
	{OPK "bluegreen.abort.grace-period", 600000, offsetof(flink_bluegreen, grace_ms), "10 min",
	 "how long the new colour has to catch up; past it, it is removed and the running one stays.",
	 "upstream gives it until it is RUNNING, flinkops until it has caught up"},
	{OPK "bluegreen.deployment-deletion.delay", 0, offsetof(flink_bluegreen, delay_ms), "0",
	 "from the switch to the old colour's removal.", AS_UPSTREAM},
	{OPK "bluegreen.reconciliation.reschedule-interval", 15000, offsetof(flink_bluegreen, reschedule_ms), "15 s",
	 "how soon a transition is looked at again.", AS_UPSTREAM},
	{"flinkops.bluegreen.catch-up.fallback", 60000, offsetof(flink_bluegreen, catch_up_ms), "1 min",
	 "for a job without event time (no watermarks), how long after its first checkpoint the new job counts as "
	 "caught up.",
	 "flinkops' own: upstream switches once the new job is RUNNING"},
	{"flinkops.bluegreen.catch-up.max-lag", 1000, offsetof(flink_bluegreen, max_lag_ms), "1 s",
	 "how far the new job's watermarks may be behind the running job's and count as caught up.",
	 "flinkops' own: upstream switches once the new job is RUNNING"},
};

const flink_bluegreen_setting *flink_bluegreen_settings(size_t *n)
{
	*n = FO_ARRAY_LEN(bluegreen_settings);
	return bluegreen_settings;
}

/* ---- looking fields up --------------------------------------------------- */

/* `path` without its "[...]" parts (list indices). Caller frees. */
static char *norm_path(const char *path)
{
	fo_buf b = FO_BUF_INIT;
	fo_buf_puts(&b, "");
	for (const char *p = path ? path : ""; *p; p++) {
		if (*p == '[') {
			const char *close = strchr(p, ']');
			if (close) {
				p = close;
				continue;
			}
		}
		fo_buf_putc(&b, *p);
	}
	return fo_buf_detach(&b);
}

static const flink_field *exact(const char *kind, const char *path)
{
	for (size_t i = 0; i < FO_ARRAY_LEN(fields); i++)
		if (strcmp(fields[i].kind, kind) == 0 && strcmp(fields[i].path, path) == 0)
			return &fields[i];
	return NULL;
}

/* The entry of normalised `path`: its own, else through its parent. An
 * entry reached through an as_path is looked for beside that entry first
 * (an entry of its own below the as_path wins), then under the parent's
 * as_path. `depth` bounds the chain. */
static const flink_field *find_norm(const char *kind, const char *path, int depth)
{
	const flink_field *f = exact(kind, path);
	const char *dot = strrchr(path, '.');
	if (f || !dot || depth > 16)
		return f;
	size_t plen = (size_t)(dot - path);
	char *parent = fo_strndup(path, plen);
	const flink_field *p = find_norm(kind, parent, depth + 1);
	free(parent);
	if (!p)
		return NULL;
	char *next;
	const char *next_kind;
	if (strcmp(p->kind, kind) != 0 || strlen(p->path) != plen || strncmp(p->path, path, plen) != 0) {
		next = fo_asprintf("%s%s", p->path, dot);
		next_kind = p->kind;
	} else if (p->as_path) {
		next = fo_asprintf("%s%s", p->as_path, dot);
		next_kind = p->as_kind ? p->as_kind : p->kind;
	} else {
		return NULL;
	}
	f = find_norm(next_kind, next, depth + 1);
	free(next);
	return f;
}

const flink_field *flink_field_find(const char *kind, const char *path)
{
	char *n = norm_path(path);
	const flink_field *f = find_norm(kind, n, 0);
	free(n);
	return f;
}

const char *flink_field_name(const flink_field *f)
{
	const char *dot = strrchr(f->path, '.');
	return dot ? dot + 1 : f->path;
}

/* Whether `path` is a direct child of `parent` ("" the document). */
static bool child_of(const char *path, const char *parent)
{
	size_t n = strlen(parent);
	if (!*path)
		return false;
	if (n == 0)
		return !strchr(path, '.');
	return strncmp(path, parent, n) == 0 && path[n] == '.' && !strchr(path + n + 1, '.');
}

const flink_field **flink_field_children(const char *kind, const char *path, size_t *n)
{
	const flink_field *f = flink_field_find(kind, path ? path : "");
	for (int hops = 0; f && f->as_path && hops < 16; hops++)
		f = find_norm(f->as_kind ? f->as_kind : f->kind, f->as_path, 0);
	if (!f || f->as_path) {
		fprintf(stderr, "flinkops: flink/fields.c has no field %s of %s\n", path ? path : "(the document)", kind);
		abort();
	}
	const flink_field **out = NULL;
	size_t cap = 0;
	*n = 0;
	for (size_t i = 0; i < FO_ARRAY_LEN(fields); i++)
		if (strcmp(fields[i].kind, f->kind) == 0 && child_of(fields[i].path, f->path)) {
			out = fo_grow(out, &cap, *n + 1, sizeof(*out));
			out[(*n)++] = &fields[i];
		}
	return out;
}

const char *flink_field_suggest(const flink_field *const *fs, size_t n, const char *key, char **known)
{
	const char *best = NULL;
	size_t best_d = 3;
	*known = NULL;
	for (size_t i = 0; i < n; i++) {
		size_t d = fo_edit_distance(key, flink_field_name(fs[i]));
		if (d < best_d) {
			best_d = d;
			best = flink_field_name(fs[i]);
		}
	}
	if (best)
		return best;
	fo_buf list = FO_BUF_INIT;
	fo_buf_puts(&list, "");
	for (size_t i = 0; i < n; i++)
		fo_buf_printf(&list, "%s%s", i ? ", " : "", flink_field_name(fs[i]));
	*known = fo_buf_detach(&list);
	return NULL;
}

/* ---- explain -------------------------------------------------------------- */

/* Where a walk down a path of one kind ended. */
typedef struct walk {
	const flink_field *f; /* the field reached */
	fo_buf path;          /* its path as shown: "[]" after a list that has a field after it */
	fo_buf table;         /* its path as the table looks it up */
	const char *rest;     /* what is below an open field or a configuration map, or NULL */
} walk;

static void walk_free(walk *w)
{
	fo_buf_free(&w->path);
	fo_buf_free(&w->table);
}

/* Walk `path` (normalised; "" the document) of `kind` field by field, as
 * the validator would read a document holding it. 0, or FO_EINVAL with
 * the validator's message for the first unknown field. */
static int walk_path(const char *kind, const char *path, walk *w, fo_err *e)
{
	*w = (walk){exact(kind, ""), FO_BUF_INIT, FO_BUF_INIT, NULL};
	fo_buf_puts(&w->path, "");
	fo_buf_puts(&w->table, "");
	const char *p = path;
	while (*p) {
		if (w->f->flags & (FLINK_FIELD_OPEN | FLINK_FIELD_CONF | FLINK_FIELD_BG_CONF)) {
			w->rest = p;
			return 0;
		}
		size_t len = strcspn(p, ".");
		char *seg = fo_strndup(p, len);
		size_t n;
		const flink_field **ch = flink_field_children(kind, fo_buf_cstr(&w->table), &n);
		const flink_field *hit = NULL;
		for (size_t i = 0; i < n && !hit; i++)
			if (strcmp(flink_field_name(ch[i]), seg) == 0)
				hit = ch[i];
		if (!hit) {
			char *known = NULL;
			const char *best = flink_field_suggest(ch, n, seg, &known);
			const char *at = fo_buf_cstr(&w->path);
			if (best)
				fo_err_set(e, FO_EINVAL, "%s %s%sunknown field \"%s\" (did you mean \"%s\"?)", kind, at,
					   *at ? ": " : "", seg, best);
			else
				fo_err_set(e, FO_EINVAL, "%s %s%sunknown field \"%s\" (known fields: %s)", kind, at,
					   *at ? ": " : "", seg, known);
			free(known);
			free(ch);
			free(seg);
			walk_free(w);
			return FO_EINVAL;
		}
		free(ch);
		bool list = w->f->flags & FLINK_FIELD_LIST;
		fo_buf_printf(&w->path, "%s%s%s", list ? "[]" : "", w->table.len ? "." : "", seg);
		fo_buf_printf(&w->table, "%s%s", w->table.len ? "." : "", seg);
		w->f = flink_field_find(kind, fo_buf_cstr(&w->table));
		free(seg);
		p += len;
		if (*p == '.')
			p++;
	}
	return 0;
}

/* The first sentence of `s`, for a line of a list. Caller frees. */
static char *first_sentence(const char *s)
{
	const char *end = strstr(s, ". ");
	return end ? fo_strndup(s, (size_t)(end - s) + 1) : fo_strdup(s);
}

static void add_texts(cJSON *o, const char *type, const char *def, const char *what, const char *upstream)
{
	cJSON_AddStringToObject(o, "type", type);
	cJSON_AddStringToObject(o, "default", def);
	cJSON_AddStringToObject(o, "flinkops", what);
	cJSON_AddStringToObject(o, "upstream", upstream);
}

/* A field's answer: its texts and, for a mapping, one line a field. */
static cJSON *field_answer(const char *kind, const walk *w)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "kind", kind);
	cJSON_AddStringToObject(o, "path", fo_buf_cstr(&w->path));
	add_texts(o, w->f->type, w->f->def, w->f->what, w->f->upstream);
	if (w->f->flags & (FLINK_FIELD_OPEN | FLINK_FIELD_CONF | FLINK_FIELD_BG_CONF))
		return o;
	size_t n;
	const flink_field **ch = flink_field_children(kind, fo_buf_cstr(&w->table), &n);
	cJSON *arr = n ? cJSON_AddArrayToObject(o, "fields") : NULL;
	for (size_t i = 0; i < n; i++) {
		const char *name = flink_field_name(ch[i]);
		char *p = w->table.len ? fo_asprintf("%s.%s", fo_buf_cstr(&w->table), name) : fo_strdup(name);
		const flink_field *c = flink_field_find(kind, p); /* an entry of its own wins */
		free(p);
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "name", name);
		cJSON_AddStringToObject(x, "type", c->type);
		cJSON_AddStringToObject(x, "default", c->def);
		char *s = first_sentence(c->what);
		cJSON_AddStringToObject(x, "summary", s);
		free(s);
		cJSON_AddItemToArray(arr, x);
	}
	free(ch);
	return o;
}

static const flink_conf_key *conf_key_find(const char *key)
{
	for (size_t i = 0; i < FO_ARRAY_LEN(conf_keys); i++) {
		const flink_conf_key *k = &conf_keys[i];
		if ((k->flags & FLINK_CONF_PREFIX) ? fo_has_prefix(key, k->key) : strcmp(key, k->key) == 0)
			return k;
	}
	return NULL;
}

static const flink_bluegreen_setting *bluegreen_find(const char *key)
{
	for (size_t i = 0; i < FO_ARRAY_LEN(bluegreen_settings); i++)
		if (strcmp(key, bluegreen_settings[i].key) == 0)
			return &bluegreen_settings[i];
	return NULL;
}

/* Whether `key` is one of the upstream operator's (a note or not). */
static bool operator_key_known(const char *key)
{
	if (fo_has_prefix(key, "job.autoscaler.") || fo_has_prefix(key, OPK "job.autoscaler.") ||
	    fo_has_prefix(key, OPK "plugins.listeners."))
		return true;
	if (!fo_has_prefix(key, OPK))
		return false;
	size_t n;
	const flink_opkey *ks = flink_operator_keys(&n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(key + strlen(OPK), ks[i].key) == 0)
			return true;
	return false;
}

/* The answer for `key` of the configuration map `w` reached (a
 * flinkConfiguration, or a blue/green spec.configuration). */
static int conf_answer(const char *kind, const walk *w, const char *key, cJSON **out, fo_err *e)
{
	const char *map = fo_buf_cstr(&w->path);
	const char *type = "configuration key", *def, *what, *upstream;
	char *owned = NULL;
	if (!*key)
		return fo_err_set(e, FO_EINVAL, "%s %s: name a key after it", kind, map);
	if (w->f->flags & FLINK_FIELD_BG_CONF) {
		const flink_bluegreen_setting *s = bluegreen_find(key);
		if (!s) {
			size_t best = 0;
			for (size_t b = 1; b < FO_ARRAY_LEN(bluegreen_settings); b++)
				if (fo_edit_distance(key, bluegreen_settings[b].key) <
				    fo_edit_distance(key, bluegreen_settings[best].key))
					best = b;
			return fo_err_set(e, FO_EINVAL,
					  "%s %s: \"%s\" is not a blue/green setting (did you mean \"%s\"?); the Flink "
					  "configuration of the job goes in spec.template.spec.flinkConfiguration",
					  kind, map, key, bluegreen_settings[best].key);
		}
		type = "blue/green setting: a duration (\"10 min\", \"30 s\"; a bare number is milliseconds)";
		def = s->def;
		what = s->what;
		upstream = s->upstream;
	} else {
		const flink_conf_key *k = conf_key_find(key);
		const char *near = NULL;
		const char *note = flink_operator_key_note(key, &near);
		bool session = strcmp(kind, FSJ) == 0;
		if (note && !operator_key_known(key))
			return near ? fo_err_set(e, FO_EINVAL,
						 "%s %s: \"%s\" is not a key of the upstream operator; it does nothing "
						 "(did you mean kubernetes.operator.%s?)",
						 kind, map, key, near)
				    : fo_err_set(e, FO_EINVAL,
						 "%s %s: \"%s\" is not a key of the upstream operator; it does nothing",
						 kind, map, key);
		if (note) {
			type = "configuration key of the upstream operator";
			def = "none: flinkops does not read it";
			what = owned = fo_asprintf("not honoured, and validate warns at the key: %s.", note);
			upstream = "upstream reads it";
		} else if (session && !fo_has_prefix(key, OPK) && !flink_session_conf_passed(key)) {
			def = "the session cluster's";
			what = "an option of the cluster, which a job cannot change: validate warns, and it is not passed "
			       "with the job's submission; set it on the session FlinkDeployment.";
			upstream = AS_UPSTREAM;
		} else if (k) {
			type = fo_has_prefix(key, OPK) ? "configuration key of the upstream operator (honoured)"
						       : "Flink configuration key";
			def = k->def;
			what = k->what;
			upstream = k->upstream;
		} else {
			type = "Flink configuration key";
			def = "Flink's";
			what = session ? "passed to Flink unchanged with the job's submission (its flinkConfiguration, "
					 "Flink 1.17 on); flinkops does not read it."
				       : "passed to Flink unchanged: written into the cluster's configuration file "
					 "(flink-conf.yaml or config.yaml); flinkops does not read it. A change restarts the "
					 "pods (an upgrade in the job's upgradeMode).";
			upstream = AS_UPSTREAM;
		}
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "kind", kind);
	char *path = fo_asprintf("%s.%s", map, key);
	cJSON_AddStringToObject(o, "path", path);
	free(path);
	cJSON_AddStringToObject(o, "key", key);
	add_texts(o, type, def, what, upstream);
	free(owned);
	*out = o;
	return 0;
}

/* The answer at the end of walk `w` of `kind`. */
static int answer(const char *kind, const walk *w, cJSON **out, fo_err *e)
{
	if (w->rest && (w->f->flags & (FLINK_FIELD_CONF | FLINK_FIELD_BG_CONF)))
		return conf_answer(kind, w, w->rest, out, e);
	*out = field_answer(kind, w);
	if (w->rest) {
		char *note = fo_asprintf("%s is below %s, which flinkops takes as written: it does not check what is "
					 "inside field by field",
					 w->rest, fo_buf_cstr(&w->path));
		cJSON_AddStringToObject(*out, "note", note);
		free(note);
	}
	return 0;
}

/* The kinds and their fields, for explain without a path. */
static cJSON *kinds_answer(void)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(o, "kinds");
	for (size_t k = 0; k < FO_ARRAY_LEN(kinds); k++) {
		walk w;
		fo_err e = FO_ERR_INIT;
		walk_path(kinds[k], "", &w, &e); /* the document: always there */
		cJSON *x = field_answer(kinds[k], &w);
		walk_free(&w);
		fo_err_clear(&e);
		const flink_field *spec = exact(kinds[k], "spec");
		if (spec) {
			size_t n;
			const flink_field **ch = flink_field_children(kinds[k], "spec", &n);
			cJSON *names = cJSON_AddArrayToObject(x, "spec");
			for (size_t i = 0; i < n; i++)
				cJSON_AddItemToArray(names, cJSON_CreateString(flink_field_name(ch[i])));
			free(ch);
		}
		cJSON_AddItemToArray(arr, x);
	}
	return o;
}

/* The kind `query` starts with (then *rest is after it and its '.'), or NULL. */
static const char *kind_prefix(const char *query, const char **rest)
{
	for (size_t k = 0; k < FO_ARRAY_LEN(kinds); k++) {
		size_t n = strlen(kinds[k]);
		if (strncmp(query, kinds[k], n) == 0 && (query[n] == '\0' || query[n] == '.')) {
			*rest = query[n] ? query + n + 1 : query + n;
			return kinds[k];
		}
	}
	return NULL;
}

/* The short spellings of configuration maps, as the table spells them. Caller frees. */
static char *expand(const char *kind, const char *path)
{
	bool bg = kind && strcmp(kind, FBG) == 0;
	const char *conf = bg ? "spec.template.spec.flinkConfiguration" : "spec.flinkConfiguration";
	if (strcmp(path, "flinkConfiguration") == 0 || fo_has_prefix(path, "flinkConfiguration."))
		return fo_asprintf("%s%s", conf, path + strlen("flinkConfiguration"));
	if ((!kind || bg) && (strcmp(path, "configuration") == 0 || fo_has_prefix(path, "configuration.")))
		return fo_asprintf("spec.%s", path);
	return fo_strdup(path);
}

int flink_explain(const char *query, cJSON **out, fo_err *e)
{
	*out = NULL;
	if (!query || !*query) {
		*out = kinds_answer();
		return 0;
	}
	const char *rest = query;
	const char *kind = kind_prefix(query, &rest);
	char *n = norm_path(rest);
	char *path = expand(kind, n);
	free(n);
	int rc;
	walk w;
	if (kind) {
		rc = walk_path(kind, path, &w, e);
		if (rc == 0) {
			rc = answer(kind, &w, out, e);
			walk_free(&w);
		}
		free(path);
		return rc;
	}
	/* no kind: the first that has the path; the answer names every one that does */
	cJSON *also = cJSON_CreateArray();
	fo_err why = FO_ERR_INIT; /* FlinkDeployment's reason, or the answer's */
	bool walked = false;
	rc = FO_EINVAL;
	for (size_t k = 0; k < FO_ARRAY_LEN(kinds) && (!walked || rc == 0); k++) {
		fo_err ke = FO_ERR_INIT;
		if (walk_path(kinds[k], path, &w, k == 0 ? &why : &ke) == 0) {
			if (!walked) {
				walked = true;
				fo_err_clear(&why);
				rc = answer(kinds[k], &w, out, &why);
			}
			if (rc == 0)
				cJSON_AddItemToArray(also, cJSON_CreateString(kinds[k]));
			walk_free(&w);
		}
		fo_err_clear(&ke);
	}
	if (!walked && (conf_key_find(path) || operator_key_known(path) || bluegreen_find(path))) {
		/* a configuration key flinkops knows, written alone */
		bool bg = bluegreen_find(path) != NULL;
		char *conf = fo_asprintf("%s.%s", bg ? "spec.configuration" : "spec.flinkConfiguration", path);
		fo_err ce = FO_ERR_INIT;
		if (walk_path(bg ? FBG : FD, conf, &w, &ce) == 0) {
			walked = true;
			fo_err_clear(&why);
			rc = answer(bg ? FBG : FD, &w, out, &why);
			if (rc == 0)
				cJSON_AddItemToArray(also, cJSON_CreateString(bg ? FBG : FD));
			walk_free(&w);
		}
		fo_err_clear(&ce);
		free(conf);
	}
	if (rc == 0) {
		cJSON_AddItemToObject(*out, "kinds", also);
	} else {
		cJSON_Delete(also);
		/* a first word no kind has may be a configuration key written alone */
		size_t len = strcspn(path, ".");
		bool top = false;
		for (size_t i = 0; i < FO_ARRAY_LEN(fields) && !top; i++)
			top = !strchr(fields[i].path, '.') && strlen(fields[i].path) == len &&
			      strncmp(fields[i].path, path, len) == 0;
		if (walked || top)
			fo_err_set(e, why.code, "%s", fo_err_msg(&why));
		else
			fo_err_set(e, FO_EINVAL, "%s; a configuration key is explained as flinkConfiguration.KEY",
				   fo_err_msg(&why));
	}
	fo_err_clear(&why);
	free(path);
	return rc;
}
