/*
 * FlinkDeployment -> Kubernetes objects. Names follow the upstream operator's
 * standalone mode where it has one (flink-config-NAME, NAME, NAME-rest,
 * NAME-taskmanager); the JobManager and TaskManagers are StatefulSets so
 * that pods have stable names. The user's podTemplate is the base that the
 * rendered pod is merged onto: their sidecars, volumes, env and tolerations
 * stay, and the container named flink-main-container is ours to complete.
 */
#include "render/render.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/yaml.h"

static const char *component_name[] = {"config", "jobmanager", "rest", "taskmanager",
				       "jobmanager", "taskmanager"};

/* ---- small builders ----------------------------------------------------- */

static char *mi(uint64_t bytes)
{
	return fo_asprintf("%" PRIu64 "Mi", flink_memory_mib(bytes));
}

static char *cpu_quantity(int64_t milli)
{
	if (milli % 1000 == 0)
		return fo_asprintf("%" PRId64, milli / 1000);
	return fo_asprintf("%" PRId64 "m", milli);
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	cJSON_AddItemToObject(o, k, cJSON_CreateString(v));
}

static void add_owned_str(cJSON *o, const char *k, char *v)
{
	cJSON_AddItemToObject(o, k, cJSON_CreateString(v));
	free(v);
}

static cJSON *selector_labels(const flink_deployment *fd, const char *component)
{
	cJSON *l = cJSON_CreateObject();
	add_str(l, RENDER_LABEL_NAME, "flink");
	add_str(l, RENDER_LABEL_INSTANCE, fd->name);
	add_str(l, RENDER_LABEL_COMPONENT, component);
	return l;
}

/* The user's labels, then ours (which win). */
static cJSON *object_labels(const flink_deployment *fd, const char *component)
{
	cJSON *l = cJSON_CreateObject();
	if (fd->labels)
		for (const cJSON *c = fd->labels->child; c; c = c->next)
			if (!fo_has_prefix(c->string, "app.kubernetes.io/"))
				add_str(l, c->string, c->valuestring);
	add_str(l, RENDER_LABEL_MANAGED_BY, RENDER_MANAGED_BY);
	add_str(l, RENDER_LABEL_NAME, "flink");
	add_str(l, RENDER_LABEL_INSTANCE, fd->name);
	add_str(l, RENDER_LABEL_COMPONENT, component);
	return l;
}

static cJSON *new_object(const char *api, const char *kind, const char *name,
			 const flink_deployment *fd, const char *component)
{
	cJSON *o = cJSON_CreateObject();
	add_str(o, "apiVersion", api);
	add_str(o, "kind", kind);
	cJSON *meta = cJSON_AddObjectToObject(o, "metadata");
	add_str(meta, "name", name);
	add_str(meta, "namespace", fd->namespace);
	cJSON_AddItemToObject(meta, "labels", object_labels(fd, component));
	cJSON_AddObjectToObject(meta, "annotations");
	return o;
}

static cJSON *port(const char *name, int number, bool service)
{
	cJSON *p = cJSON_CreateObject();
	add_str(p, "name", name);
	if (service) {
		add_str(p, "protocol", "TCP");
		cJSON_AddNumberToObject(p, "port", number);
		add_str(p, "targetPort", name);
	} else {
		cJSON_AddNumberToObject(p, "containerPort", number);
		add_str(p, "protocol", "TCP");
	}
	return p;
}

/* ---- the Flink configuration file ------------------------------------- */

const char *render_conf_file_name(const flink_deployment *fd)
{
	/* Flink 1.19 introduced config.yaml (standard YAML); 2.0 dropped flink-conf.yaml. */
	if (fd->flink_major > 1 || (fd->flink_major == 1 && fd->flink_minor >= 19))
		return "config.yaml";
	return "flink-conf.yaml";
}

static bool standard_yaml(const flink_deployment *fd)
{
	return strcmp(render_conf_file_name(fd), "config.yaml") == 0;
}

/* `s` as one scalar of config.yaml: plain when every YAML reader takes it
 * back as this string (fo_yaml_plain_safe), else double-quoted. */
static void conf_yaml_scalar(fo_buf *b, const char *s)
{
	if (fo_yaml_plain_safe(s)) {
		fo_buf_puts(b, s);
		return;
	}
	cJSON *str = cJSON_CreateString(s);
	fo_buf tmp = FO_BUF_INIT;
	fo_yaml_emit(&tmp, str);
	/* a one-line scalar (the model refuses line breaks): drop the newline */
	if (tmp.len && tmp.ptr[tmp.len - 1] == '\n')
		tmp.ptr[--tmp.len] = '\0';
	fo_buf_puts(b, fo_buf_cstr(&tmp));
	fo_buf_free(&tmp);
	cJSON_Delete(str);
}

/*
 * One "key: value" line. The model refuses what cannot be one line; this is
 * checked again here, where the line is written, so that a model built any
 * other way can never add a line of its own to Flink's configuration.
 */
static int conf_line(fo_buf *b, bool yaml, const char *k, const char *v, const flink_deployment *fd, fo_err *e)
{
	char *why = flink_conf_problem(k, strlen(k), true);
	if (!why)
		why = flink_conf_problem(v, strlen(v), false);
	if (why) {
		fo_buf q = FO_BUF_INIT;
		fo_buf_put_json_string(&q, k);
		int rc = fo_err_set(e, FO_EINVAL, "%s/%s: flinkConfiguration %s: %s", fd->namespace, fd->name,
				    fo_buf_cstr(&q), why);
		fo_buf_free(&q);
		free(why);
		return rc;
	}
	/* The legacy flink-conf.yaml reader takes everything after ": " verbatim,
	 * so quoting would end up in the value; config.yaml is real YAML, where
	 * a key or value such as 1.10, null, +.inf or a date would be read as
	 * something other than the string we mean. */
	if (!yaml) {
		fo_buf_printf(b, "%s: %s\n", k, v);
		return 0;
	}
	conf_yaml_scalar(b, k);
	fo_buf_puts(b, ": ");
	conf_yaml_scalar(b, v);
	fo_buf_putc(b, '\n');
	return 0;
}

static int render_flink_conf(const flink_deployment *fd, char **out, fo_err *e)
{
	flink_kvs ours = {0};
	char *tmp;
	tmp = fo_asprintf("%s.%s", fd->name, fd->namespace);
	flink_kvs_set(&ours, "jobmanager.rpc.address", tmp);
	free(tmp);
	flink_kvs_set(&ours, "jobmanager.rpc.port", "6123");
	flink_kvs_set(&ours, "jobmanager.bind-host", "0.0.0.0");
	flink_kvs_set(&ours, "blob.server.port", "6124");
	flink_kvs_set(&ours, "rest.port", "8081");
	flink_kvs_set(&ours, "rest.address", fd->name);
	flink_kvs_set(&ours, "rest.bind-address", "0.0.0.0");
	flink_kvs_set(&ours, "taskmanager.rpc.port", "6122");
	flink_kvs_set(&ours, "taskmanager.bind-host", "0.0.0.0");
	tmp = fo_asprintf("%d", fd->slots);
	flink_kvs_set(&ours, "taskmanager.numberOfTaskSlots", tmp);
	free(tmp);
	tmp = fo_asprintf("%" PRIu64 "m", flink_memory_mib(fd->jm.res.memory));
	flink_kvs_set(&ours, "jobmanager.memory.process.size", tmp);
	free(tmp);
	tmp = fo_asprintf("%" PRIu64 "m", flink_memory_mib(fd->tm.res.memory));
	flink_kvs_set(&ours, "taskmanager.memory.process.size", tmp);
	free(tmp);
	enum flink_ha ha = flink_ha_mode(&fd->conf);
	if (ha != FLINK_HA_NONE) {
		/* as upstream's standalone mode: HA data of one cluster under its
		 * own name, and the JobManager's RPC on the port the Services and
		 * TaskManagers know (HA's default is a random port) */
		flink_kvs_set(&ours, "high-availability.cluster-id", fd->name);
		flink_kvs_set(&ours, "high-availability.jobmanager.port", "6123");
	}
	if (ha == FLINK_HA_KUBERNETES) {
		/* Kubernetes HA names its leader ConfigMaps after the cluster id
		 * and looks for them in this namespace */
		flink_kvs_set(&ours, "kubernetes.cluster-id", fd->name);
		flink_kvs_set(&ours, "kubernetes.namespace", fd->namespace);
	}
	/* Retained checkpoints are what last-state upgrades and restarts resume from. */
	flink_kvs_set(&ours, "execution.checkpointing.externalized-checkpoint-retention",
		      "RETAIN_ON_CANCELLATION");
	if (fd->has_job) {
		tmp = fo_asprintf("%d", fd->job.parallelism);
		flink_kvs_set(&ours, "parallelism.default", tmp);
		free(tmp);
		flink_kvs_set(&ours, "pipeline.name", fd->name);
		if (fd->job.savepoint_dir) {
			bool new_key = fd->flink_major > 1 || (fd->flink_major == 1 && fd->flink_minor >= 20);
			flink_kvs_set(&ours, new_key ? "execution.checkpointing.savepoint-dir" : "state.savepoints.dir",
				      fd->job.savepoint_dir);
		}
		if (flink_application_cluster(fd)) {
			tmp = fo_asprintf("file://%s", fd->job.jar_uri + strlen("local://"));
			flink_kvs_set(&ours, "pipeline.classpaths", tmp);
			free(tmp);
			/* a job that stopped (with a savepoint) or failed leaves its
			 * JobManager up: flinkops observes how it ended before the
			 * next start, as upstream's operator does */
			flink_kvs_set(&ours, "execution.shutdown-on-application-finish", "false");
			/* a main() that throws shows as a FAILED job under the id
			 * flinkops chose, not as a job that never appears; Flink
			 * allows this only with HA */
			if (ha != FLINK_HA_NONE)
				flink_kvs_set(&ours, "execution.submit-failed-job-on-application-error", "true");
		}
	}

	bool yaml = standard_yaml(fd);
	int rc = 0;
	fo_buf b = FO_BUF_INIT;
	fo_buf_printf(&b, "# Rendered by flinkops for %s/%s; change the FlinkDeployment, not this file.\n",
		      fd->namespace, fd->name);
	for (size_t i = 0; i < ours.n && rc == 0; i++)
		if (!flink_conf_get(&fd->conf, ours.v[i].key))
			rc = conf_line(&b, yaml, ours.v[i].key, ours.v[i].value, fd, e);
	/* the operator's own settings (kubernetes.operator.*) tell flinkops
	 * what to do; Flink never reads them, so changing one restarts nothing */
	bool header = false;
	for (size_t i = 0; i < fd->conf.n && rc == 0; i++) {
		if (fo_has_prefix(fd->conf.v[i].key, "kubernetes.operator."))
			continue;
		if (!header)
			fo_buf_puts(&b, "# spec.flinkConfiguration\n");
		header = true;
		rc = conf_line(&b, yaml, fd->conf.v[i].key, fd->conf.v[i].value, fd, e);
	}
	flink_kvs_free(&ours);
	if (rc < 0) {
		fo_buf_free(&b);
		return rc;
	}
	*out = fo_buf_detach(&b);
	return 0;
}

static const char default_log4j[] =
	"# Log to the console, where kubectl logs reads it.\n"
	"rootLogger.level = INFO\n"
	"rootLogger.appenderRef.console.ref = ConsoleAppender\n"
	"appender.console.name = ConsoleAppender\n"
	"appender.console.type = CONSOLE\n"
	"appender.console.layout.type = PatternLayout\n"
	"appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n\n"
	"logger.pekko.name = org.apache.pekko\n"
	"logger.pekko.level = INFO\n"
	"logger.netty.name = org.apache.flink.shaded.netty4.io.netty.channel.nio.NioEventLoop\n"
	"logger.netty.level = OFF\n";

static cJSON *render_configmap(const flink_deployment *fd, int *rc, fo_err *e)
{
	char *conf = NULL;
	if ((*rc = render_flink_conf(fd, &conf, e)) < 0)
		return NULL;
	char *name = render_object_name(RENDER_CONFIGMAP, fd->name);
	cJSON *o = new_object("v1", "ConfigMap", name, fd, "config");
	free(name);
	cJSON *data = cJSON_AddObjectToObject(o, "data");
	/* keys in sorted order, whatever the user's file names */
	flink_kvs files = {0};
	flink_kvs_set(&files, render_conf_file_name(fd), conf);
	free(conf);
	flink_kvs_set(&files, "log4j-console.properties", default_log4j);
	for (size_t i = 0; i < fd->log_conf.n; i++)
		flink_kvs_set(&files, fd->log_conf.v[i].key, fd->log_conf.v[i].value);
	for (size_t i = 0; i < files.n; i++)
		add_str(data, files.v[i].key, files.v[i].value);
	flink_kvs_free(&files);
	return o;
}

char *render_object_name(enum render_component k, const char *name)
{
	bool brief = strlen(name) > FLINK_NAME_SHORT;
	switch (k) {
	case RENDER_CONFIGMAP: return fo_asprintf("flink-config-%s", name);
	case RENDER_SERVICE_JOBMANAGER: return fo_strdup(name);
	case RENDER_SERVICE_REST: return fo_asprintf("%s-rest", name);
	case RENDER_SERVICE_TASKMANAGER: return fo_asprintf("%s-taskmanager", name); /* a Service: 63 suffice */
	case RENDER_STATEFULSET_JOBMANAGER: return fo_asprintf("%s-%s", name, brief ? "jm" : "jobmanager");
	case RENDER_INGRESS: return fo_strdup(name); /* upstream's name */
	default: return fo_asprintf("%s-%s", name, brief ? "tm" : "taskmanager");
	}
}

/* ---- Ingress ----------------------------------------------------------- */

/*
 * The Ingress spec.ingress describes, as upstream builds it: one rule with
 * the template's host (when it has one) and one path (the template's, when
 * it has one; ImplementationSpecific, so a regular expression in it means
 * what the controller makes of it) to the REST Service's port; the class,
 * TLS, annotations and labels as written, flinkops' labels over them.
 */
static cJSON *ingress_to(const flink_deployment *fd, const flink_ingress *in, const char *service)
{
	char *name = render_object_name(RENDER_INGRESS, fd->name);
	cJSON *o = new_object("networking.k8s.io/v1", "Ingress", name, fd, "ingress");
	free(name);
	cJSON *meta = fo_json_obj(o, "metadata");
	cJSON *labels = fo_json_obj(meta, "labels"), *ann = fo_json_obj(meta, "annotations");
	/* the parser refused app.kubernetes.io/ keys: ours stay */
	for (const cJSON *c = in->labels ? in->labels->child : NULL; c; c = c->next)
		if (!fo_has_prefix(c->string, "app.kubernetes.io/"))
			fo_json_set(labels, c->string, cJSON_CreateString(c->valuestring));
	for (const cJSON *c = in->annotations ? in->annotations->child : NULL; c; c = c->next)
		fo_json_set(ann, c->string, cJSON_CreateString(c->valuestring));
	cJSON *spec = cJSON_AddObjectToObject(o, "spec");
	if (in->class_name)
		add_str(spec, "ingressClassName", in->class_name);
	if (in->tls)
		cJSON_AddItemToObject(spec, "tls", cJSON_Duplicate(in->tls, true));
	cJSON *rule = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, "rules"), rule);
	if (in->host)
		add_str(rule, "host", in->host);
	cJSON *path = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(cJSON_AddObjectToObject(rule, "http"), "paths"), path);
	if (in->path)
		add_str(path, "path", in->path);
	add_str(path, "pathType", "ImplementationSpecific");
	cJSON *svc = cJSON_AddObjectToObject(cJSON_AddObjectToObject(path, "backend"), "service");
	add_str(svc, "name", service);
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(svc, "port"), "number", RENDER_PORT_REST);
	return o;
}

static cJSON *render_ingress(const flink_deployment *fd)
{
	char *service = render_object_name(RENDER_SERVICE_REST, fd->name);
	cJSON *o = ingress_to(fd, fd->ingress, service);
	free(service);
	return o;
}

/* ---- Services --------------------------------------------------------- */

static cJSON *render_service(const flink_deployment *fd, enum render_component which)
{
	const char *comp = component_name[which];
	const char *select = which == RENDER_SERVICE_TASKMANAGER ? "taskmanager" : "jobmanager";
	char *name = render_object_name(which, fd->name);
	cJSON *o = new_object("v1", "Service", name, fd, comp);
	free(name);
	cJSON *spec = cJSON_AddObjectToObject(o, "spec");
	if (which == RENDER_SERVICE_REST) {
		const char *type = flink_conf_get(&fd->conf, "kubernetes.rest-service.exposed.type");
		add_str(spec, "type", type ? type : "ClusterIP");
		/* With standby JobManagers a jar uploaded to one replica's REST
		 * endpoint exists only there: keep a client (the agent) on one
		 * replica so that its upload and run meet. */
		if (fd->jm.replicas > 1)
			add_str(spec, "sessionAffinity", "ClientIP");
	} else {
		add_str(spec, "clusterIP", "None");
		/* TaskManagers must find the JobManager (and each other) before the
		 * readiness probes pass, or the cluster never forms. */
		cJSON_AddBoolToObject(spec, "publishNotReadyAddresses", true);
	}
	cJSON_AddItemToObject(spec, "selector", selector_labels(fd, select));
	cJSON *ports = cJSON_AddArrayToObject(spec, "ports");
	if (which == RENDER_SERVICE_JOBMANAGER) {
		cJSON_AddItemToArray(ports, port("jobmanager-rpc", RENDER_PORT_RPC, true));
		cJSON_AddItemToArray(ports, port("blobserver", RENDER_PORT_BLOB, true));
	} else if (which == RENDER_SERVICE_REST) {
		cJSON_AddItemToArray(ports, port("rest", RENDER_PORT_REST, true));
	} else {
		cJSON_AddItemToArray(ports, port("taskmanager-rpc", RENDER_PORT_TM_RPC, true));
	}
	return o;
}

/* ---- pods and StatefulSets -------------------------------------------- */

static cJSON *probe_tcp(const char *portname, int delay, int period)
{
	cJSON *p = cJSON_CreateObject();
	cJSON *t = cJSON_AddObjectToObject(p, "tcpSocket");
	add_str(t, "port", portname);
	cJSON_AddNumberToObject(p, "initialDelaySeconds", delay);
	cJSON_AddNumberToObject(p, "periodSeconds", period);
	cJSON_AddNumberToObject(p, "failureThreshold", 6);
	return p;
}

static cJSON *probe_http(const char *path, const char *portname, int delay, int period)
{
	cJSON *p = cJSON_CreateObject();
	cJSON *h = cJSON_AddObjectToObject(p, "httpGet");
	add_str(h, "path", path);
	add_str(h, "port", portname);
	cJSON_AddNumberToObject(p, "initialDelaySeconds", delay);
	cJSON_AddNumberToObject(p, "periodSeconds", period);
	cJSON_AddNumberToObject(p, "failureThreshold", 6);
	return p;
}

static cJSON *resources(const flink_resources *r)
{
	cJSON *o = cJSON_CreateObject();
	for (int lim = 0; lim < 2; lim++) {
		cJSON *x = cJSON_AddObjectToObject(o, lim ? "limits" : "requests");
		add_owned_str(x, "cpu", cpu_quantity(lim ? r->cpu_limit_milli : r->cpu_milli));
		add_owned_str(x, "memory", mi(lim ? r->memory_limit : r->memory));
		if (r->ephemeral) /* a request alone lets a pod fill the node's disk */
			add_owned_str(x, "ephemeral-storage", mi(r->ephemeral));
	}
	return o;
}

/*
 * With high availability every JobManager publishes its own address for
 * leader retrieval; the shared Service name would send TaskManagers and
 * clients to any replica, not the leader (upstream's FLINK-30518). The pod
 * IP comes from the downward API (POD_IP) and Kubernetes expands $(POD_IP)
 * in args. "-D" and its value are two words: jobmanager.sh reads a single
 * "-Dk=v" word as a host name.
 */
static void add_rpc_address_args(const flink_deployment *fd, cJSON *a)
{
	if (flink_ha_mode(&fd->conf) == FLINK_HA_NONE)
		return;
	cJSON_AddItemToArray(a, cJSON_CreateString("-D"));
	cJSON_AddItemToArray(a, cJSON_CreateString("jobmanager.rpc.address=$(" RENDER_ENV_POD_IP ")"));
}

static cJSON *jm_args(const flink_deployment *fd)
{
	cJSON *a = cJSON_CreateArray();
	if (!flink_application_cluster(fd)) {
		cJSON_AddItemToArray(a, cJSON_CreateString("jobmanager"));
		add_rpc_address_args(fd, a);
		return a;
	}
	/* application mode: the jar is in the image and the JobManager runs it */
	cJSON_AddItemToArray(a, cJSON_CreateString("standalone-job"));
	if (fd->job.entry_class) {
		cJSON_AddItemToArray(a, cJSON_CreateString("--job-classname"));
		cJSON_AddItemToArray(a, cJSON_CreateString(fd->job.entry_class));
	}
	if (fd->job.allow_non_restored_state)
		cJSON_AddItemToArray(a, cJSON_CreateString("--allowNonRestoredState"));
	/* the job id and the state to start from follow (render_start) */
	add_rpc_address_args(fd, a); /* before the job's own arguments, which are the job's */
	for (size_t i = 0; i < fd->job.nargs; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(fd->job.args[i]));
	return a;
}

/* Put `item` into `arr` replacing the entry with the same name, else append. */
static void upsert_named(cJSON *arr, cJSON *item)
{
	const char *name = fo_json_str(item, "name");
	int i = 0;
	for (cJSON *c = arr->child; c; c = c->next, i++) {
		if (fo_streq(fo_json_str(c, "name"), name)) {
			cJSON_ReplaceItemInArray(arr, i, item);
			return;
		}
	}
	cJSON_AddItemToArray(arr, item);
}

static void complete_container(const flink_deployment *fd, cJSON *c, bool jm, const flink_process *pr)
{
	fo_json_set(c, "name", cJSON_CreateString(RENDER_CONTAINER));
	fo_json_set(c, "image", cJSON_CreateString(fd->image));
	if (fd->image_pull_policy)
		fo_json_set(c, "imagePullPolicy", cJSON_CreateString(fd->image_pull_policy));
	if (jm)
		fo_json_set(c, "args", jm_args(fd));
	else {
		cJSON *a = cJSON_CreateArray();
		cJSON_AddItemToArray(a, cJSON_CreateString("taskmanager"));
		fo_json_set(c, "args", a);
	}
	cJSON *ports = fo_json_arr(c, "ports");
	if (jm) {
		upsert_named(ports, port("jobmanager-rpc", RENDER_PORT_RPC, false));
		upsert_named(ports, port("blobserver", RENDER_PORT_BLOB, false));
		upsert_named(ports, port("rest", RENDER_PORT_REST, false));
	} else {
		upsert_named(ports, port("taskmanager-rpc", RENDER_PORT_TM_RPC, false));
	}
	/* The FlinkDeployment's resources are the truth: a template cannot
	 * make the container differ from what Flink is configured for. Claims
	 * (devices) are not sizes Flink reads: the spec's win, else the
	 * template container's stay. */
	cJSON *res = resources(&pr->res);
	cJSON *tclaims = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "resources"), "claims");
	if (pr->claims)
		cJSON_AddItemToObject(res, "claims", cJSON_Duplicate(pr->claims, true));
	else if (cJSON_IsArray(tclaims))
		cJSON_AddItemToObject(res, "claims", cJSON_Duplicate(tclaims, true));
	fo_json_set(c, "resources", res);
	if (jm && flink_ha_mode(&fd->conf) != FLINK_HA_NONE) {
		cJSON *env = cJSON_CreateObject();
		add_str(env, "name", RENDER_ENV_POD_IP);
		cJSON *ref = cJSON_AddObjectToObject(cJSON_AddObjectToObject(env, "valueFrom"), "fieldRef");
		add_str(ref, "apiVersion", "v1");
		add_str(ref, "fieldPath", "status.podIP");
		upsert_named(fo_json_arr(c, "env"), env);
	}
	if (!cJSON_GetObjectItemCaseSensitive(c, "readinessProbe"))
		fo_json_set(c, "readinessProbe", jm ? probe_http("/config", "rest", 5, 5)
						    : probe_tcp("taskmanager-rpc", 5, 5));
	if (!cJSON_GetObjectItemCaseSensitive(c, "livenessProbe"))
		fo_json_set(c, "livenessProbe", jm ? probe_tcp("jobmanager-rpc", 30, 10)
						   : probe_tcp("taskmanager-rpc", 30, 10));
	cJSON *mounts = fo_json_arr(c, "volumeMounts");
	cJSON *m = cJSON_CreateObject();
	add_str(m, "name", "flink-config-volume");
	add_str(m, "mountPath", RENDER_CONF_MOUNT);
	upsert_named(mounts, m);
}

/* Set every member of `from` (strings; may be NULL) on `to`. */
static void set_each(cJSON *to, const cJSON *from)
{
	for (const cJSON *x = from ? from->child : NULL; x; x = x->next)
		fo_json_set(to, x->string, cJSON_Duplicate(x, true));
}

static cJSON *pod_template(const flink_deployment *fd, bool jm, const char *config_hash, int *rc, fo_err *e)
{
	const flink_process *pr = jm ? &fd->jm : &fd->tm;
	const char *comp = jm ? "jobmanager" : "taskmanager";
	cJSON *t = cJSON_CreateObject();
	if (fd->pod_template)
		fo_json_merge(t, fd->pod_template);
	if (pr->pod_template)
		fo_json_merge(t, pr->pod_template);
	cJSON_DeleteItemFromObjectCaseSensitive(t, "apiVersion");
	cJSON_DeleteItemFromObjectCaseSensitive(t, "kind");

	cJSON *meta = fo_json_obj(t, "metadata");
	cJSON_DeleteItemFromObjectCaseSensitive(meta, "name");
	cJSON *labels = fo_json_obj(meta, "labels");
	/* Flink's own pod options over the templates, as Flink's decorators
	 * apply them; flinkops's labels and annotations after them, so a
	 * selector can never be overridden */
	set_each(labels, pr->k8s_labels);
	set_each(fo_json_obj(meta, "annotations"), pr->k8s_annotations);
	cJSON *sel = selector_labels(fd, comp);
	for (cJSON *l = sel->child; l; l = l->next)
		fo_json_set(labels, l->string, cJSON_CreateString(l->valuestring));
	cJSON_Delete(sel);
	/* the upstream operator's standalone labels, for dashboards that use them */
	fo_json_set(labels, "app", cJSON_CreateString(fd->name));
	fo_json_set(labels, "component", cJSON_CreateString(comp));
	fo_json_set(labels, "type", cJSON_CreateString("flink-standalone-kubernetes"));
	cJSON *ann = fo_json_obj(meta, "annotations");
	fo_json_set(ann, RENDER_ANNOTATION_CONFIG_HASH, cJSON_CreateString(config_hash));
	if (fd->restart_nonce)
		fo_json_set(ann, RENDER_ANNOTATION_RESTART_NONCE, cJSON_CreateString(fd->restart_nonce));

	cJSON *spec = fo_json_obj(t, "spec");
	const char *sa = pr->service_account ? pr->service_account : fd->service_account;
	if (sa)
		fo_json_set(spec, "serviceAccountName", cJSON_CreateString(sa));
	if (pr->k8s_node_selector)
		set_each(fo_json_obj(spec, "nodeSelector"), pr->k8s_node_selector);
	for (cJSON *x = pr->k8s_tolerations ? pr->k8s_tolerations->child : NULL; x; x = x->next)
		cJSON_AddItemToArray(fo_json_arr(spec, "tolerations"), cJSON_Duplicate(x, true));
	for (cJSON *x = fd->image_pull_secrets ? fd->image_pull_secrets->child : NULL; x; x = x->next)
		upsert_named(fo_json_arr(spec, "imagePullSecrets"), cJSON_Duplicate(x, true));
	cJSON *containers = fo_json_arr(spec, "containers");
	cJSON *main = fo_json_find_named(containers, RENDER_CONTAINER);
	if (main) {
		main = cJSON_DetachItemViaPointer(containers, main);
	} else {
		main = cJSON_CreateObject();
	}
	/* The model checked that every container is a mapping with a name; these
	 * guards keep a model built some other way from crashing the renderer. */
	if (!cJSON_IsObject(main)) {
		cJSON_Delete(main);
		cJSON_Delete(t);
		*rc = fo_err_set(e, FO_EINVAL, "%s: podTemplate container %s is not a mapping", fd->source, RENDER_CONTAINER);
		return NULL;
	}
	for (cJSON *c = containers->child; c; c = c->next) {
		if (!cJSON_IsObject(c) || !fo_json_str(c, "name")) {
			cJSON_Delete(main);
			cJSON_Delete(t);
			*rc = fo_err_set(e, FO_EINVAL, "%s: every podTemplate container needs a name", fd->source);
			return NULL;
		}
	}
	complete_container(fd, main, jm, pr);
	cJSON_InsertItemInArray(containers, 0, main);

	cJSON *volumes = fo_json_arr(spec, "volumes");
	cJSON *v = cJSON_CreateObject();
	add_str(v, "name", "flink-config-volume");
	cJSON *cm = cJSON_AddObjectToObject(v, "configMap");
	add_owned_str(cm, "name", render_object_name(RENDER_CONFIGMAP, fd->name));
	upsert_named(volumes, v);
	return t;
}

/*
 * An application cluster's JobManager runs one job: the id flinkops chose
 * for this start and the state it starts from go into its arguments, right
 * after the entry class (Flink's StandaloneApplicationClusterEntryPoint
 * reads --job-id and --fromSavepoint, and they win over the configuration
 * file). They also go on the StatefulSet as annotations, which its content
 * hash covers: the live object says which start it carries. The pod
 * template's own hash (flinkops.io/template-hash) was taken without them,
 * so a new start is never mistaken for a new target.
 */
static void add_start(const flink_deployment *fd, cJSON *sts, const render_start *start)
{
	const char *id = start ? start->job_id : NULL;
	const char *from = start ? start->from : fd->job.initial_savepoint_path;
	cJSON *ann = fo_json_obj(fo_json_obj(sts, "metadata"), "annotations");
	if (id)
		add_str(ann, RENDER_ANNOTATION_JOB_ID, id);
	if (from)
		add_str(ann, RENDER_ANNOTATION_START_FROM, from);
	cJSON *tspec = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(sts, "spec"), "template");
	cJSON *c = fo_json_find_named(fo_json_arr(fo_json_obj(tspec, "spec"), "containers"), RENDER_CONTAINER);
	cJSON *args = cJSON_GetObjectItemCaseSensitive(c, "args");
	if (!cJSON_IsArray(args))
		return;
	/* after "standalone-job" and "--job-classname CLASS"; a new array (this
	 * cJSON's cJSON_InsertItemInArray does not insert in the middle) */
	int at = fd->job.entry_class ? 3 : 1, i = 0;
	cJSON *out = cJSON_CreateArray();
	for (cJSON *w = args->child;; w = w->next, i++) {
		if (i == at) {
			if (id) {
				cJSON_AddItemToArray(out, cJSON_CreateString("--job-id"));
				cJSON_AddItemToArray(out, cJSON_CreateString(id));
			}
			if (from) {
				cJSON_AddItemToArray(out, cJSON_CreateString("--fromSavepoint"));
				cJSON_AddItemToArray(out, cJSON_CreateString(from));
			}
		}
		if (!w)
			break;
		cJSON_AddItemToArray(out, cJSON_Duplicate(w, true));
	}
	fo_json_set(c, "args", out);
}

static cJSON *render_statefulset(const flink_deployment *fd, bool jm, const char *config_hash, int *rc, fo_err *e)
{
	const char *comp = jm ? "jobmanager" : "taskmanager";
	char *name = render_object_name(jm ? RENDER_STATEFULSET_JOBMANAGER : RENDER_STATEFULSET_TASKMANAGER, fd->name);
	cJSON *o = new_object("apps/v1", "StatefulSet", name, fd, comp);
	free(name);
	if (jm && fd->has_job) {
		char *jh = render_job_hash(fd);
		cJSON *ann = fo_json_obj(fo_json_obj(o, "metadata"), "annotations");
		add_owned_str(ann, RENDER_ANNOTATION_JOB_HASH, jh);
	}
	if (jm && !fd->has_job && fd->delete_with_unmanaged_jobs)
		/* read when the cluster is gone from git and its manifest with it */
		fo_json_set(fo_json_obj(fo_json_obj(o, "metadata"), "annotations"), RENDER_ANNOTATION_DELETE_UNMANAGED,
			    cJSON_CreateString("true"));
	cJSON *spec = cJSON_AddObjectToObject(o, "spec");
	bool suspended = fd->has_job && fd->job.state == FLINK_STATE_SUSPENDED;
	int replicas = suspended ? 0 : jm ? fd->jm.replicas : fd->tm.replicas;
	cJSON_AddNumberToObject(spec, "replicas", replicas);
	if (jm)
		add_str(spec, "serviceName", fd->name);
	else
		add_owned_str(spec, "serviceName", render_object_name(RENDER_SERVICE_TASKMANAGER, fd->name));
	/* Flink processes need no ordered start; Parallel starts them together. */
	add_str(spec, "podManagementPolicy", "Parallel");
	cJSON *selector = cJSON_AddObjectToObject(spec, "selector");
	cJSON_AddItemToObject(selector, "matchLabels", selector_labels(fd, comp));
	cJSON *tmpl = pod_template(fd, jm, config_hash, rc, e);
	if (!tmpl) {
		cJSON_Delete(o);
		return NULL;
	}
	/* The template's own hash tells a planner whether pods restart (template
	 * changed) or only the object around them did (labels, replicas). */
	char *th = fo_json_hash(tmpl);
	add_owned_str(fo_json_obj(fo_json_obj(o, "metadata"), "annotations"), RENDER_ANNOTATION_TEMPLATE_HASH, th);
	cJSON_AddItemToObject(spec, "template", tmpl);
	return o;
}

/* ---- hashes ------------------------------------------------------------ */

/*
 * The content hash of an object, without its own hash annotation. A large
 * part that already has its own hash annotation on the object — the pod
 * template (flinkops.io/template-hash) or a ConfigMap's data
 * (flinkops.io/config-hash) — is left out: the annotation stands for it, so
 * it is hashed once instead of twice. Parts are detached for the moment
 * rather than the object copied.
 */
static char *content_hash(cJSON *obj)
{
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	cJSON *ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
	cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
	cJSON *own = ann ? cJSON_DetachItemFromObjectCaseSensitive(ann, RENDER_ANNOTATION_HASH) : NULL;
	cJSON *tmpl = NULL, *data = NULL;
	if (fo_json_str(ann, RENDER_ANNOTATION_TEMPLATE_HASH) && spec)
		tmpl = cJSON_DetachItemFromObjectCaseSensitive(spec, "template");
	if (fo_json_str(ann, RENDER_ANNOTATION_CONFIG_HASH))
		data = cJSON_DetachItemFromObjectCaseSensitive(obj, "data");
	char *h = fo_json_hash(obj);
	if (tmpl)
		cJSON_AddItemToObject(spec, "template", tmpl);
	if (data)
		cJSON_AddItemToObject(obj, "data", data);
	if (own)
		cJSON_AddItemToObject(ann, RENDER_ANNOTATION_HASH, own);
	return h;
}

char *render_compute_hash(const cJSON *obj)
{
	/* content_hash puts back everything it takes out */
	return content_hash((cJSON *)obj);
}

const char *render_object_annotation(const cJSON *obj, const char *key)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	return fo_json_str(cJSON_GetObjectItemCaseSensitive(meta, "annotations"), key);
}

const char *render_object_hash(const cJSON *obj)
{
	return render_object_annotation(obj, RENDER_ANNOTATION_HASH);
}

char *render_target_hash(const render_objects *o)
{
	if (o->n <= RENDER_STATEFULSET_TASKMANAGER)
		return NULL;
	const cJSON *jm = o->v[RENDER_STATEFULSET_JOBMANAGER], *tm = o->v[RENDER_STATEFULSET_TASKMANAGER];
	const char *job = render_object_annotation(jm, RENDER_ANNOTATION_JOB_HASH);
	if (!job)
		return NULL;
	const char *parts[] = {job, render_object_annotation(jm, RENDER_ANNOTATION_TEMPLATE_HASH),
			       render_object_annotation(tm, RENDER_ANNOTATION_TEMPLATE_HASH)};
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < FO_ARRAY_LEN(parts); i++)
		cJSON_AddItemToArray(a, parts[i] ? cJSON_CreateString(parts[i]) : cJSON_CreateNull());
	char *h = fo_json_hash(a);
	cJSON_Delete(a);
	return h;
}

char *render_target_hash_of(const flink_deployment *fd)
{
	if (fd->session_job)
		return render_job_hash(fd); /* no pods of its own */
	render_objects objs = {0};
	fo_err e = FO_ERR_INIT;
	char *h = render_deployment(fd, &objs, &e) == 0 ? render_target_hash(&objs) : NULL;
	render_objects_free(&objs);
	fo_err_clear(&e);
	return h;
}

char *render_job_hash(const flink_deployment *fd)
{
	if (!fd->has_job)
		return NULL;
	cJSON *j = cJSON_CreateObject();
	add_str(j, "jarURI", fd->job.jar_uri);
	if (fd->job.entry_class)
		add_str(j, "entryClass", fd->job.entry_class);
	cJSON *args = cJSON_AddArrayToObject(j, "args");
	for (size_t i = 0; i < fd->job.nargs; i++)
		cJSON_AddItemToArray(args, cJSON_CreateString(fd->job.args[i]));
	cJSON_AddNumberToObject(j, "parallelism", fd->job.parallelism);
	cJSON_AddBoolToObject(j, "allowNonRestoredState", fd->job.allow_non_restored_state);
	cJSON_AddNumberToObject(j, "savepointRedeployNonce", (double)fd->job.savepoint_redeploy_nonce);
	if (fd->session_job) {
		/* what else a session job's submission carries, and where */
		add_str(j, "deploymentName", fd->deployment_name);
		cJSON *conf = cJSON_AddObjectToObject(j, "flinkConfiguration");
		for (size_t i = 0; i < fd->conf.n; i++)
			if (flink_session_conf_passed(fd->conf.v[i].key))
				add_str(conf, fd->conf.v[i].key, fd->conf.v[i].value);
		if (fd->restart_nonce)
			add_str(j, "restartNonce", fd->restart_nonce);
	}
	char *h = fo_json_hash(j);
	cJSON_Delete(j);
	return h;
}

static void stamp_hash(cJSON *obj)
{
	char *h = content_hash(obj);
	cJSON *ann = fo_json_obj(fo_json_obj(obj, "metadata"), "annotations");
	fo_json_set(ann, RENDER_ANNOTATION_HASH, cJSON_CreateString(h));
	free(h);
}

cJSON *render_bluegreen_ingress(const flink_deployment *bg, const char *child)
{
	if (!bg->bg || !bg->bg->ingress || !child)
		return NULL;
	char *service = render_object_name(RENDER_SERVICE_REST, child);
	cJSON *o = ingress_to(bg, bg->bg->ingress, service);
	free(service);
	stamp_hash(o);
	return o;
}

int render_deployment(const flink_deployment *fd, render_objects *out, fo_err *e)
{
	return render_deployment_at(fd, NULL, out, e);
}

int render_deployment_at(const flink_deployment *fd, const render_start *start, render_objects *out, fo_err *e)
{
	int rc = 0;
	memset(out, 0, sizeof(*out));
	if (fd->snapshot) /* never a cluster: a caller that forgot flink_split_snapshots gets an error */
		return fo_err_set(e, FO_EINVAL, "FlinkStateSnapshot %s/%s renders no object", fd->namespace, fd->name);
	if (fd->bg) /* its children do, each a FlinkDeployment of its own */
		return fo_err_set(e, FO_EINVAL, "FlinkBlueGreenDeployment %s/%s renders no object of its own: its children "
						 "%s-blue and %s-green do",
				  fd->namespace, fd->name, fd->name, fd->name);
	if (fd->session_job) {
		/* it runs on its session cluster's objects: only its job hash */
		out->job_hash = render_job_hash(fd);
		return 0;
	}
	out->v[RENDER_CONFIGMAP] = render_configmap(fd, &rc, e);
	if (rc < 0)
		return rc;
	/* Pods restart when what Flink reads changes: the files, not the labels. */
	char *config_hash = fo_json_hash(cJSON_GetObjectItemCaseSensitive(out->v[RENDER_CONFIGMAP], "data"));
	fo_json_set(fo_json_obj(fo_json_obj(out->v[RENDER_CONFIGMAP], "metadata"), "annotations"),
		    RENDER_ANNOTATION_CONFIG_HASH, cJSON_CreateString(config_hash));
	out->v[RENDER_SERVICE_JOBMANAGER] = render_service(fd, RENDER_SERVICE_JOBMANAGER);
	out->v[RENDER_SERVICE_REST] = render_service(fd, RENDER_SERVICE_REST);
	out->v[RENDER_SERVICE_TASKMANAGER] = render_service(fd, RENDER_SERVICE_TASKMANAGER);
	out->v[RENDER_STATEFULSET_JOBMANAGER] = render_statefulset(fd, true, config_hash, &rc, e);
	if (rc == 0)
		out->v[RENDER_STATEFULSET_TASKMANAGER] = render_statefulset(fd, false, config_hash, &rc, e);
	free(config_hash);
	if (rc < 0) {
		render_objects_free(out);
		return rc;
	}
	if (flink_application_cluster(fd))
		add_start(fd, out->v[RENDER_STATEFULSET_JOBMANAGER], start);
	if (fd->ingress)
		out->v[RENDER_INGRESS] = render_ingress(fd);
	out->n = RENDER_NCOMPONENTS;
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i])
			stamp_hash(out->v[i]);
	return 0;
}

void render_objects_free(render_objects *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < RENDER_NCOMPONENTS; i++) {
		cJSON_Delete(o->v[i]);
		o->v[i] = NULL;
	}
	o->n = 0;
	free(o->job_hash);
	o->job_hash = NULL;
}

void render_write_yaml(fo_buf *b, const render_objects *o)
{
	for (size_t i = 0; i < o->n; i++) {
		if (!o->v[i])
			continue;
		fo_buf_puts(b, "---\n");
		fo_yaml_emit(b, o->v[i]);
	}
}

void render_append_items(cJSON *items, const render_objects *o)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->v[i])
			cJSON_AddItemToArray(items, cJSON_Duplicate(o->v[i], true));
}
