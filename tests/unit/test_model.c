/*
 * Unit tests for the FlinkDeployment model (flink/model.c): every kind of
 * validation error with its message and position, TaskManager replica
 * arithmetic, both dialects normalising to one model, and the handling of
 * documents of other kinds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flink/flink.h"
#include "lib/buf.h"
#include "render/render.h"

/* Seven lines every case starts from, RES two more; case text continues at line 10. */
#define HEAD(meta)                                         \
	"apiVersion: flink.apache.org/v1beta1\n"           \
	"kind: FlinkDeployment\n"                          \
	"metadata:\n"                                      \
	meta                                               \
	"spec:\n"                                          \
	"  image: flink:1.20\n"                             \
	"  flinkVersion: v1_20\n"
/* The same without flinkVersion: six lines. */
#define HEAD0(meta)                                        \
	"apiVersion: flink.apache.org/v1beta1\n"           \
	"kind: FlinkDeployment\n"                          \
	"metadata:\n"                                      \
	meta                                               \
	"spec:\n"                                          \
	"  image: flink:1.20\n"
#define NAME "  name: wc\n"
#define RES "  jobManager: {resource: {memory: 1g}}\n  taskManager: {resource: {memory: 2g}, replicas: 1}\n"
#define JOB "  job:\n    jarURI: s3://b/j.jar\n"
#define CONF "  flinkConfiguration:\n"
/* an application cluster: the jar is in the image */
#define APPJOB "  job:\n    jarURI: local:///opt/flink/usrlib/job.jar\n"
#define K8S_HA CONF "    high-availability.type: kubernetes\n    high-availability.storageDir: s3://b/ha\n"

static const struct {
	const char *text;
	int line, col;
	const char *msg;
} error_cases[] = {
	{HEAD(NAME) RES "  jobmanager: {}\n", 10, 3, "spec: unknown field \"jobmanager\" (did you mean \"jobManager\"?)"},
	{HEAD(NAME) RES "  zzz: 1\n", 10, 3, "spec: unknown field \"zzz\" (known fields: image, imagePullPolicy"},
	{HEAD(NAME) RES JOB "    parallelism: two\n", 12, 18, "spec.job.parallelism: expected an integer, got string \"two\""},
	{HEAD(NAME) RES JOB "    parallelism: 0\n", 12, 18, "spec.job.parallelism: must be at least 1, got 0"},
	{HEAD(NAME) RES JOB "    parallelism: \"2\"\n", 12, 18, "expected an integer, got string \"2\""},
	{HEAD(NAME) RES JOB "    parallelism: [1]\n", 12, 18, "expected an integer, got a list"},
	{HEAD("  name: My_Job\n") RES, 4, 9, "metadata.name: \"My_Job\" is not a valid name"},
	{HEAD("  name: wc\n  namespace: Prod\n") RES, 5, 14, "metadata.namespace: \"Prod\" is not a valid namespace"},
	{HEAD("  name: a234567890123456789012345678901234567890x2345x\n") RES, 4, 9, "at most 45 fit"},
	{HEAD("  labels: {}\n") RES, 4, 3, "metadata: \"name\" is required"},
	{HEAD(NAME) "  jobManager: {resource: {memory: -2g}}\n  taskManager: {resource: {memory: 2g}}\n", 8, 35,
	 "spec.jobManager.resource.memory: memory \"-2g\" must be greater than zero"},
	{HEAD(NAME) "  jobManager: {resource: {memory: 1g}}\n  taskManager: {resource: {memory: lots}}\n", 9, 36,
	 "spec.taskManager.resource.memory: \"lots\" is not a memory size"},
	{HEAD(NAME) "  jobManager: {resource: {memory: 1g, cpu: 0}}\n" "  taskManager: {resource: {memory: 2g}}\n", 8, 44,
	 "spec.jobManager.resource.cpu: cpu \"0\" must be greater than zero"},
	{HEAD(NAME) "  jobManager: {resource: {cpu: 1}}\n  taskManager: {resource: {memory: 2g}}\n", 8, 26,
	 "spec.jobManager.resource: \"memory\" is required"},
	{HEAD(NAME) "  taskManager: {resource: {memory: 2g}}\n", 6, 3, "spec: \"jobManager\" is required"},
	{HEAD(NAME) "  jobManager: {resource: {memory: 1g}, resources: {requests: {memory: 1g}}}\n"
		    "  taskManager: {resource: {memory: 2g}}\n", 8, 40, "give either \"resource\""},
	{HEAD(NAME) RES JOB "    upgradeMode: sometimes\n", 12, 18, "\"sometimes\" is not an upgrade mode"},
	{HEAD(NAME) RES JOB "    state: paused\n", 12, 12, "\"paused\" is not a job state: use running or suspended"},
	{HEAD(NAME) RES JOB "    allowNonRestoredState: yes\n", 12, 28, "expected true or false, got string \"yes\""},
	{HEAD(NAME) RES "  job:\n    jarURI: ftp://host/j.jar\n", 11, 13, "scheme \"ftp\" is not supported"},
	{HEAD(NAME) RES "  job:\n    jarURI: job.jar\n", 11, 13, "is not a URI"},
	{HEAD(NAME) RES "  job:\n    jarURI: file://relative.jar\n", 11, 13, "must be an absolute path"},
	{HEAD(NAME) RES "  job:\n    parallelism: 2\n", 11, 5, "\"jarURI\" is required"},
	{HEAD(NAME) RES JOB "    entryClass: a.B\n    mainClass: a.C\n", 13, 5, "give either \"entryClass\" or \"mainClass\""},
	{HEAD(NAME) RES JOB "    args: --x\n", 12, 11, "spec.job.args: expected a list of strings"},
	{HEAD(NAME) "  jobManager: {resource: {memory: 1g}}\n  taskManager: {resource: {memory: 2g}, replicas: 1}\n" JOB
		    "    parallelism: 4\n", 9, 3, "1 TaskManagers with 1 slots each give 1 slots but job.parallelism is 4; the upstream operator would run the job at 1"},
	{HEAD(NAME) RES "  flinkConfiguration:\n    taskmanager.numberOfTaskSlots: \"4\"\n" JOB
		    "    parallelismPerK8sResource: 2\n", 10, 3, "taskmanager.numberOfTaskSlots is 4 but job.parallelismPerK8sResource is 2"},
	{HEAD(NAME) RES "  flinkConfiguration:\n    rest.port: \"9999\"\n", 11, 5, "\"rest.port\" is set by flinkops to 8081"},
	/* the value flinkops sets is accepted as written (upstream's blue/green files write it) */
	{HEAD(NAME) RES "  flinkConfiguration:\n    rest.port: \"8081\"\n    blob.server.port: 7000\n", 12, 5,
	 "\"blob.server.port\" is set by flinkops to 6124"},
	/* lists are joined as upstream joins them; their items must be scalars */
	{HEAD(NAME) RES CONF "    a.b: [1, [2]]\n", 11, 14, "\"a.b\" item 2 must be a string or number, got a list"},
	{HEAD(NAME) RES CONF "    a.b: []\n", 11, 10, "\"a.b\" is an empty list"},
	{HEAD(NAME) RES CONF "    a.b: [x, \"y\\nrest.port: 1\"]\n", 11, 14, "the value holds a line break"},
	/* replicas and parallelism must mean the same to flinkops and upstream */
	{HEAD(NAME) "  jobManager: {resource: {memory: 1g}}\n  taskManager: {resource: {memory: 2g}, replicas: 2}\n" JOB
		    "    parallelism: 3\n", 9, 3,
	 "2 TaskManagers with 1 slots each give 2 slots but job.parallelism is 3; the upstream operator would run "
	 "the job at 2. Give one of taskManager.replicas"},
	{HEAD(NAME) "  jobManager: {resource: {memory: 1g}}\n  taskManager: {resource: {memory: 2g}, replicas: 2}\n" JOB
		    "    parallelism: 1\n", 9, 3, "give 2 slots but job.parallelism is 1"},
	/* flinkVersion is required, as upstream requires it */
	{HEAD0("  name: wc\n") RES, 6, 3,
	 "spec: \"flinkVersion\" is required: the Flink version of the image, one of v1_13 to v1_20, v2_0 to v2_4"},
	{HEAD0("  name: wc\n") "  flinkVersion: v1_12\n" RES, 7, 17, "\"v1_12\" is not a Flink version flinkops knows: use one of v1_13"},
	{HEAD0("  name: wc\n") "  flinkVersion: v3_0\n" RES, 7, 17, "\"v3_0\" is not a Flink version flinkops knows"},
	/* standby JobManagers only with high availability */
	{HEAD(NAME) "  jobManager: {resource: {memory: 1g}, replicas: 2}\n  taskManager: {resource: {memory: 2g}, replicas: 1}\n",
	 8, 3, "spec.jobManager: replicas 2 needs high availability"},
	{HEAD(NAME) "  jobManager: {resource: {memory: 1g}, replicas: 2}\n  taskManager: {resource: {memory: 2g}, replicas: 1}\n"
		    CONF "    high-availability.type: NONE\n", 8, 3, "spec.jobManager: replicas 2 needs high availability"},
	{HEAD(NAME) RES CONF "    high-availability:\n      type: kubernetes\n", 12, 7,
	 "spec.flinkConfiguration: high-availability.type needs high-availability.storageDir"},
	{HEAD(NAME) RES CONF "    high-availability: kubernetes\n", 11, 5, "high-availability needs high-availability.storageDir"},
	{HEAD(NAME) RES CONF "    high-availability.type: org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory\n",
	 11, 5, "high-availability.type needs high-availability.storageDir"},
	{HEAD(NAME) RES CONF "    kubernetes.cluster-id: other\n", 11, 5, "\"kubernetes.cluster-id\" is set by flinkops"},
	/* Flink's own pod options: what Flink could not read either */
	/* periodic savepoints: a duration or a Quartz cron expression */
	{HEAD(NAME) RES CONF "    kubernetes.operator.periodic.savepoint.interval: 0 0 2 * * *\n" JOB, 11, 5,
	 "interval \"0 0 2 * * *\": exactly one of day-of-month and day-of-week must be '?'"},
	{HEAD(NAME) RES CONF "    kubernetes.operator.periodic.savepoint.interval: 0 0 26 * * ?\n" JOB, 11, 5,
	 "hours takes 0 to 23, got \"26\""},
	{HEAD(NAME) RES CONF "    kubernetes.operator.periodic.savepoint.interval: 0 0 2 * *\n" JOB, 11, 5,
	 "a Quartz cron expression has 6 or 7 fields"},
	{HEAD(NAME) RES CONF "    kubernetes.operator.periodic.savepoint.interval: daily\n" JOB, 11, 5,
	 "must be a duration of at least 1 s (\"10min\", \"1 h\"; 0 for none) or a Quartz cron expression"},
	{HEAD(NAME) RES CONF "    kubernetes.operator.periodic.savepoint.interval: 0 0 2 * * ?\n", 11, 5,
	 "kubernetes.operator.periodic.savepoint.interval needs a job to take savepoints of"},
	{HEAD(NAME) RES CONF "    kubernetes.operator.periodic.checkpoint.interval: 0 0 2 ? * ?\n" JOB, 11, 5,
	 "periodic.checkpoint.interval \"0 0 2 ? * ?\": exactly one of day-of-month and day-of-week"},
	{HEAD(NAME) RES CONF "    kubernetes.operator.periodic.checkpoint.interval: 500ms\n" JOB, 11, 5,
	 "kubernetes.operator.periodic.checkpoint.interval must be a duration of at least 1 s"},
	{HEAD(NAME) RES CONF "    kubernetes.operator.checkpoint.type: SOMETIMES\n" JOB, 11, 5,
	 "kubernetes.operator.checkpoint.type must be FULL, INCREMENTAL or CONFIGURED, got \"SOMETIMES\""},
	{HEAD(NAME) RES CONF "    kubernetes.taskmanager.tolerations: key:a,colour:red\n", 11, 5,
	 "kubernetes.taskmanager.tolerations: \"colour\" is not a toleration field"},
	{HEAD(NAME) RES CONF "    kubernetes.taskmanager.tolerations: key:a,tolerationSeconds:soon\n", 11, 5,
	 "tolerationSeconds must be a whole number, got \"soon\""},
	{HEAD(NAME) RES CONF "    kubernetes.jobmanager.labels: team\n", 11, 5,
	 "kubernetes.jobmanager.labels: \"team\" is not key:value"},
	{HEAD(NAME) RES CONF "    kubernetes.taskmanager.memory.limit-factor: \"0.5\"\n", 11, 5,
	 "kubernetes.taskmanager.memory.limit-factor must be a number from 1"},
	{HEAD(NAME) RES CONF "    kubernetes.jobmanager.service-account: Bad_Name\n", 11, 5,
	 "kubernetes.jobmanager.service-account: \"Bad_Name\" is not a valid name"},
	{HEAD(NAME) RES CONF "    high-availability.cluster-id: other\n", 11, 5, "\"high-availability.cluster-id\" is set by flinkops"},
	/* resources.claims */
	{HEAD(NAME) "  jobManager: {resources: {requests: {memory: 1g}, claims: gpu}}\n  taskManager: {resource: {memory: 2g}, replicas: 1}\n",
	 8, 60, "spec.jobManager.resources.claims: expected a list of {name, request}, got a string"},
	{HEAD(NAME) "  jobManager: {resources: {requests: {memory: 1g}, claims: [{request: x}]}}\n"
		    "  taskManager: {resource: {memory: 2g}, replicas: 1}\n", 8, 61, "spec.jobManager.resources.claims: item 1 needs a name"},
	{HEAD(NAME) "  jobManager: {resources: {requests: {memory: 1g}, claims: [{name: a, size: 1}]}}\n"
		    "  taskManager: {resource: {memory: 2g}, replicas: 1}\n", 8, 71, "unknown field \"size\""},
	/* Flink's memory model: sizes Flink refuses at start */
	{HEAD(NAME) "  jobManager: {resource: {memory: 1g}}\n  taskManager: {resource: {memory: 981m}, replicas: 1}\n", 9, 36,
	 "spec.taskManager.resource.memory: Flink cannot start a TaskManager of 981m: framework heap, framework off-heap, "
	 "task off-heap, managed and network memory add up to 533.20m, more than the Flink memory (533m); give at least 982m"},
	{HEAD(NAME) "  jobManager: {resource: {memory: 576m}}\n  taskManager: {resource: {memory: 2g}, replicas: 1}\n", 8, 35,
	 "spec.jobManager.resource.memory: Flink cannot start a JobManager of 576m: the Flink memory (128m) leaves no heap "
	 "after the off-heap memory (128m); give at least 608m"},
	/* Flink derives it, but the JobManager does not come up with so little heap */
	{HEAD(NAME) "  jobManager: {resource: {memory: 607m}}\n  taskManager: {resource: {memory: 2g}, replicas: 1}\n", 8, 35,
	 "spec.jobManager.resource.memory: a JobManager of 607m does not start: its JVM heap would be 31m, below the 32m a "
	 "JobManager needs to start; give at least 608m"},
	{HEAD(NAME) RES CONF "    jobmanager.memory.heap.size: 16m\n", 8, 35,
	 "a JobManager of 1024m does not start: its JVM heap would be 16m, below the 32m a JobManager needs to start; set "
	 "jobmanager.memory.heap.size to at least 32m"},
	{HEAD(NAME) "  jobManager: {resources: {requests: {memory: 500Mi}}}\n  taskManager: {resource: {memory: 2g}, replicas: 1}\n",
	 8, 47, "spec.jobManager.resources.requests.memory: Flink cannot start a JobManager of 500m: the Flink memory (52m) leaves "
	 "no heap after the off-heap memory (128m); give at least 608m"},
	{HEAD(NAME) RES CONF "    taskmanager.memory.managed.size: 2g\n", 9, 36,
	 "Flink cannot start a TaskManager of 2048m: framework heap, framework off-heap, task off-heap, managed and network "
	 "memory add up to 2462.72m, more than the Flink memory (1587.20m); give at least 3129m"},
	{HEAD(NAME) RES CONF "    taskmanager.memory.flink.size: 600m\n", 9, 36,
	 "Flink cannot start a TaskManager of 2048m: the derived JVM overhead (1192m) is outside its configured range [192m, 1024m]"},
	{HEAD(NAME) RES CONF "    taskmanager.memory.flink.size: 1800m\n", 9, 36,
	 "Flink memory (1800m) and JVM metaspace (256m) exceed the process size (2048m)"},
	{HEAD(NAME) RES CONF "    jobmanager.memory.heap.size: 1g\n", 8, 35,
	 "Flink cannot start a JobManager of 1024m: Flink memory (1152m) and JVM metaspace (256m) exceed the process size (1024m)"},
	{HEAD(NAME) RES CONF "    taskmanager.memory.network.min: lots\n", 9, 36,
	 "flinkConfiguration taskmanager.memory.network.min: \"lots\" is not a size Flink reads"},
	{HEAD(NAME) RES CONF "    jobmanager.memory.jvm-overhead.fraction: \"1.5\"\n", 8, 35,
	 "jobmanager.memory.jvm-overhead.fraction must be at least 0 and below 1, got 1.5"},
	/* a flinkConfiguration key or value stays one line of Flink's configuration file */
	{HEAD(NAME) RES CONF "    state.backend: \"rocksdb\\nrest.port: 9999\\njobmanager.rpc.address: evil\"\n", 11, 20,
	 "spec.flinkConfiguration.\"state.backend\": the value holds a line break (\\n) at character 8, which would "
	 "start a line of its own in Flink's configuration file; write the value on one line"},
	{HEAD(NAME) RES CONF "    a.b: \"x\\ry\"\n", 11, 10, "the value holds a carriage return (\\r) at character 2"},
	{HEAD(NAME) RES CONF "    a.b: \"x\\ty\"\n", 11, 10, "the value holds a tab (\\t) at character 2"},
	{HEAD(NAME) RES CONF "    a.b: \"\\e[31m\"\n", 11, 10, "the value holds the control character U+001B at character 1"},
	{HEAD(NAME) RES CONF "    a.b: \"x\\x7f\"\n", 11, 10, "the control character U+007F at character 2"},
	{HEAD(NAME) RES CONF "    a.b: \"\\x01\"\n", 11, 10, "the control character U+0001 at character 1"},
	{HEAD(NAME) RES CONF "    a.b: \"x\\Nrest.port: 1\"\n", 11, 10, "a next-line character (U+0085) at character 2"},
	{HEAD(NAME) RES CONF "    a.b: \"\\u00e9\\Lrest.port: 1\"\n", 11, 10, "a line separator (U+2028) at character 2"},
	{HEAD(NAME) RES CONF "    a.b: \"x\\Prest.port: 1\"\n", 11, 10, "a paragraph separator (U+2029) at character 2"},
	{HEAD(NAME) RES CONF "    a.b: |\n      x\n      rest.port: 1\n", 11, 10, "the value holds a line break (\\n) at character 2"},
	{HEAD(NAME) RES CONF "    state:\n      backend: \"a\\nb\"\n", 12, 16,
	 "spec.flinkConfiguration.\"state.backend\": the value holds a line break"},
	{HEAD(NAME) RES CONF "    \"a\\nb\": x\n", 11, 5,
	 "spec.flinkConfiguration.\"a\\nb\": the key holds a line break (\\n) at character 2"},
	{HEAD(NAME) RES CONF "    \"rest.port: 7777 #\": x\n", 11, 5,
	 "spec.flinkConfiguration.\"rest.port: 7777 #\": the key holds ':' at character 10, which can change how Flink "
	 "reads the line; write the key as Flink documents it"},
	{HEAD(NAME) RES CONF "    \"'rest.bind-port'\": x\n", 11, 5, "the key holds \"'\" at character 1"},
	{HEAD(NAME) RES CONF "    \"a b\": x\n", 11, 5, "the key holds ' ' at character 2"},
	{HEAD(NAME) RES CONF "    \"a\\tb\": x\n", 11, 5, "the key holds a tab (\\t) at character 2"},
	{HEAD(NAME) RES CONF "    \"a=b\": x\n", 11, 5, "the key holds '=' at character 2"},
	{HEAD(NAME) RES CONF "    \"\\u00e9t\\u00e9\": x\n", 11, 5, "the key holds '\xc3\xa9' at character 1"},
	{HEAD(NAME) RES CONF "    state:\n      \"a b\": x\n", 12, 7, "spec.flinkConfiguration.\"state.a b\": the key holds ' '"},
	{HEAD(NAME) RES CONF "    \"\": x\n", 11, 5, "spec.flinkConfiguration.\"\": the key is empty"},
	/* other spec strings that become lines of Flink's configuration file */
	{HEAD(NAME) RES JOB "    savepointStorage: \"s3://b/sp\\nrest.port: 1\"\n", 12, 23,
	 "spec.job.savepointStorage: the value holds a line break (\\n) at character 10"},
	{HEAD(NAME) RES "  job:\n    jarURI: \"local:///opt/j.jar\\nrest.port: 1\"\n", 11, 13,
	 "spec.job.jarURI: \"local:///opt/j.jar%0Arest.port: 1\" holds a control character; percent-encode it"},
	{HEAD(NAME) RES "  logConfiguration:\n    \"log4j\\nx.properties\": \"a=b\"\n", 11, 5,
	 "spec.logConfiguration: \"log4j\\nx.properties\" is not a log configuration file name"},
	{HEAD(NAME) RES "  logConfiguration:\n    ../log4j.properties: \"a=b\"\n", 11, 5, "is not a log configuration file name"},
	{HEAD(NAME) RES "  logConfiguration:\n    config.yaml: \"a=b\"\n", 11, 5, "is not a log configuration file name"},
	/* credentials in a jar URI would show wherever the URI does */
	{HEAD(NAME) RES "  job:\n    jarURI: https://user:pw@h/j.jar?X-Amz-Signature=SECRET\n", 11, 13,
	 "spec.job.jarURI: \"https://***@h/j.jar?***\" holds credentials"},
	{HEAD(NAME) RES "  job:\n    jarURI: s3://AKIA:SECRET@bucket/j.jar\n", 11, 13, "\"s3://***@bucket/j.jar\" holds credentials"},
	{HEAD(NAME) RES "  job:\n    jarURI: ftp://h/j.jar?token=SECRET\n", 11, 13, "scheme \"ftp\" is not supported"},
	{HEAD(NAME) RES "  job:\n    jarURI: j.jar?token=SECRET\n", 11, 13, "\"j.jar?***\" is not a URI"},
	{HEAD(NAME) RES "  job:\n    jarURI: h/j.jar?sig=SECRET&next=s3://b/k\n", 11, 13, "\"h/j.jar?***\" is not a URI"},
	{HEAD(NAME) RES CONF "    kubernetes.operator.session.deletion.block-on-unmanaged-jobs: \"no\"\n", 11, 5,
	 "block-on-unmanaged-jobs must be \"true\" or \"false\", got \"no\""},
	/* spec.ingress: what upstream would drop, or the API server refuse */
#define ING "  ingress:\n"
	{HEAD(NAME) RES ING "    className: nginx\n", 11, 5, "\"template\" is required"},
	{HEAD(NAME) RES ING "    template: \"flink.example.com:8080/{{name}}\"\n", 11, 15, "has a port"},
	{HEAD(NAME) RES ING "    template: \"/{{name}}?x=1\"\n", 11, 15, "has a query"},
	{HEAD(NAME) RES ING "    template: \"/{{name}}#top\"\n", 11, 15, "has a fragment"},
	{HEAD(NAME) RES ING "    template: \"u@flink.example.com/\"\n", 11, 15, "has user information"},
	{HEAD(NAME) RES ING "    template: \"{{nom}}.example.com\"\n", 11, 15,
	 "\"{{nom}}\": only {{name}} and {{namespace}} are replaced"},
	{HEAD(NAME) RES ING "    template: \"10.0.0.1/{{name}}\"\n", 11, 15, "is an IP address"},
	{HEAD(NAME) RES ING "    template: \"Flink.Example.com/\"\n", 11, 15, "\"Flink.Example.com\" is not a DNS name"},
	{HEAD(NAME) RES ING "    template: /x\n    hosts: [a]\n", 12, 5, "unknown field \"hosts\""},
	{HEAD(NAME) RES ING "    template: /x\n    className: Nginx_1\n", 12, 16, "is not a valid IngressClass name"},
	{HEAD(NAME) RES ING "    template: /x\n    labels: {app.kubernetes.io/name: y}\n", 12, 14,
	 "app.kubernetes.io/ labels are flinkops' own"},
	{HEAD(NAME) RES ING "    template: /x\n    annotations: {flinkops.io/content-hash: y}\n", 12, 19,
	 "flinkops.io/ annotations are flinkops' own"},
	{HEAD(NAME) RES ING "    template: /x\n    labels: {team: [a]}\n", 12, 20, "value of \"team\" must be a string"},
	{HEAD(NAME) RES ING "    template: /x\n    tls: {hosts: [a]}\n", 12, 10, "spec.ingress.tls: expected a list"},
	{HEAD(NAME) RES ING "    template: /x\n    tls:\n    - hosts: [\"A_B\"]\n", 13, 15, "\"A_B\" is not a DNS name"},
	{HEAD(NAME) RES ING "    template: /x\n    tls:\n    - secretName: \"Not/Valid\"\n", 13, 19,
	 "is not a valid Secret name"},
#undef ING
	{HEAD0("  name: wc\n") "  flinkVersion: latest\n" RES, 7, 17, "\"latest\" is not a Flink version"},
	{HEAD(NAME) RES "  mode: hybrid\n", 10, 9, "\"hybrid\" is not a mode"},
	{HEAD(NAME) RES "  imagePullPolicy: Sometimes\n", 10, 20, "image pull policy \"Sometimes\" is not one of"},
	{HEAD(NAME) RES "  podTemplate: {kind: Deployment}\n", 10, 23, "kind must be Pod"},
	{HEAD(NAME) RES "  podTemplate:\n    spec:\n      containers:\n      - image: x\n", 13, 9,
	 "spec.containers item 1 needs a name"},
	/* a name that is not a string validated, then failed to render (found by fuzzing) */
	{HEAD(NAME) RES "  podTemplate:\n    spec:\n      containers:\n      - name: 5\n", 13, 15,
	 "spec.containers item 1: name must be a string, got a number"},
	{HEAD(NAME) RES "  podTemplate:\n    spec:\n      containers:\n      - {name: true}\n", 13, 16,
	 "spec.containers item 1: name must be a string, got a boolean"},
	{"apiVersion: flink.apache.org/v1\nkind: FlinkDeployment\nmetadata: {name: wc}\nspec: {}\n", 1, 13,
	 "apiVersion: a FlinkDeployment must have apiVersion flink.apache.org/v1beta1"},
	{"apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: wc}\nspec:\n"
	 "  image: [a]\n" RES, 5, 10, "spec.image: expected a string (repo:tag) or a mapping"},
	{"apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: wc}\nspec:\n"
	 "  image: {repository: flink, tag: x}\n" RES, 5, 3, "\"flinkVersion\" is required"},
	{"apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: wc}\nspec:\n"
	 "  jobManager: {resource: {memory: 1g}}\n  jobManager: {resource: {memory: 1g}}\n", 6, 3,
	 "duplicate key \"jobManager\""},
	{HEAD(NAME) RES CONF "    kubernetes.operator.deployment.rollback.enabled: \"maybe\"\n" JOB, 10, 3,
	 "kubernetes.operator.deployment.rollback.enabled must be \"true\" or \"false\", got \"maybe\""},
	{HEAD(NAME) RES CONF "    kubernetes.operator.deployment.rollback.enabled: \"true\"\n" JOB, 10, 3,
	 "a stateless job has no state to roll back with"},
	{HEAD(NAME) RES JOB "    savepointRedeployNonce: 2\n", 12, 29,
	 "spec.job.savepointRedeployNonce: redeploys the job from job.initialSavepointPath, which is not set"},
	/* a stateful application cluster needs HA: a restarted JobManager would run its start state again */
	{HEAD(NAME) RES APPJOB "    upgradeMode: savepoint\n", 12, 18,
	 "spec.job.upgradeMode: savepoint with a local:// jar needs high availability: without it a restarted "
	 "JobManager runs the job again from the state it started with, not its newest checkpoint"},
	{HEAD(NAME) RES APPJOB "    upgradeMode: SAVEPOINT_ON_RESTART\n", 12, 18,
	 "spec.job.upgradeMode: savepoint with a local:// jar needs high availability"},
	{HEAD(NAME) RES APPJOB "    upgradeMode: last-state\n", 12, 18,
	 "spec.job.upgradeMode: last-state with a local:// jar needs high availability"},
	{HEAD(NAME) RES CONF "    high-availability.type: NONE\n" APPJOB "    upgradeMode: last-state\n", 14, 18,
	 "or use upgradeMode: stateless"},
	{"", 1, 1, "the file holds no YAML document"},
	{"# only a comment\n", 1, 1, "the file holds no YAML document"},
	{"- just\n- a list\n", 1, 1, "a Kubernetes manifest must be a mapping, got a list"},
};

/* Upstream's templates (its docs and examples) read as upstream reads them. */
static void test_ingress_url(void **state)
{
	(void)state;
	static const struct {
		const char *tmpl, *host, *path, *err;
	} cases[] = {
		{"flink.k8s.io/{{namespace}}/{{name}}(/|$)(.*)", "flink.k8s.io", "/default/wc(/|$)(.*)", NULL},
		{"{{name}}.{{namespace}}.flink.k8s.io/", "wc.default.flink.k8s.io", "/", NULL},
		{"{{name}}.{{namespace}}.flink.k8s.io", "wc.default.flink.k8s.io", NULL, NULL},
		{"/{{namespace}}/{{name}}(/|$)(.*)", NULL, "/default/wc(/|$)(.*)", NULL},
		{"HTTPS://{{Name}}.example.com/ui", "wc.example.com", "/ui", NULL},
		{"http://*.example.com/{{NAMESPACE}}", "*.example.com", "/default", NULL},
		{"http://", NULL, NULL, NULL},
		{"ftp://x.example.com/", NULL, NULL, "has a port"}, /* "ftp:" reads as a host with a port */
		{"x.example.com:443", NULL, NULL, "has a port"},
		{"[::1]/x", NULL, NULL, "has a port or an IP address"},
		{"::1", NULL, NULL, "has a port"},
		{"127.0.0.1", NULL, NULL, "is an IP address"},
		{"/a?b", NULL, NULL, "has a query"},
		{"a.example.com/{{name}", NULL, NULL, "\"{{name}\": only {{name}} and {{namespace}}"},
		{"a.example.com/{{x", NULL, NULL, "\"{{x\": only {{name}}"},
		{"-a.example.com", NULL, NULL, "is not a DNS name"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		char *host = NULL, *path = NULL;
		fo_err e = FO_ERR_INIT;
		int rc = flink_ingress_url(cases[i].tmpl, "wc", "default", &host, &path, &e);
		if (cases[i].err) {
			if (rc != FO_EINVAL || !strstr(fo_err_msg(&e), cases[i].err))
				fail_msg("%s: want an error with \"%s\", got %d \"%s\"", cases[i].tmpl, cases[i].err, rc,
					 fo_err_msg(&e));
			assert_null(host);
			assert_null(path);
		} else {
			if (rc != 0)
				fail_msg("%s: %s", cases[i].tmpl, fo_err_msg(&e));
			if (!fo_streq(host, cases[i].host) || !fo_streq(path, cases[i].path))
				fail_msg("%s: host %s path %s", cases[i].tmpl, host ? host : "(none)", path ? path : "(none)");
		}
		free(host);
		free(path);
		fo_err_clear(&e);
	}
}

static void test_error_cases(void **state)
{
	(void)state;
	int bad = 0;
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		flink_deployments v = {0};
		fo_diags d = FO_DIAGS_INIT;
		const char *t = error_cases[i].text;
		int rc = flink_load_buffer("case.yaml", t, strlen(t), &v, NULL, &d);
		if (rc == 0)
			fail_msg("case %zu should fail with \"%s\"", i, error_cases[i].msg);
		bool found = false;
		for (size_t k = 0; k < d.n; k++) {
			if (d.v[k].sev == FO_SEV_ERROR && strstr(d.v[k].msg, error_cases[i].msg) &&
			    d.v[k].line == error_cases[i].line && d.v[k].col == error_cases[i].col)
				found = true;
			/* a message is one line, and shows no secret of the input */
			if (fo_has_ctl(d.v[k].msg) || strstr(d.v[k].msg, "SECRET") || strstr(d.v[k].msg, "pw@"))
				fail_msg("case %zu: message \"%s\" holds a control character or a secret", i, d.v[k].msg);
		}
		if (!found) {
			fo_buf all = FO_BUF_INIT;
			for (size_t k = 0; k < d.n; k++) {
				char *s = fo_diag_format(&d.v[k]);
				fo_buf_printf(&all, "  %s\n", s);
				free(s);
			}
			print_error("case %zu: want %d:%d: ...%s..., got:\n%s", i, error_cases[i].line, error_cases[i].col,
				    error_cases[i].msg, all.ptr ? all.ptr : "  (nothing)\n");
			fo_buf_free(&all);
			bad++;
		}
		assert_int_equal(v.n, 0);
		flink_deployments_free(&v);
		fo_diags_free(&d);
	}
	assert_int_equal(bad, 0);
}

static flink_deployment *parse_one(const char *text)
{
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	int rc = flink_load_buffer("ok.yaml", text, strlen(text), &v, NULL, &d);
	for (size_t k = 0; k < d.n; k++)
		if (d.v[k].sev == FO_SEV_ERROR)
			fail_msg("unexpected error %d:%d: %s", d.v[k].line, d.v[k].col, d.v[k].msg);
	assert_int_equal(rc, 0);
	assert_int_equal(v.n, 1);
	flink_deployment *fd = v.v[0];
	free(v.v);
	fo_diags_free(&d);
	return fd;
}

/* Documents that validate: the application-cluster HA rule refuses only
 * stateful local:// jobs without HA. */
static const char *const valid_cases[] = {
	HEAD(NAME) RES K8S_HA APPJOB "    upgradeMode: savepoint\n",
	HEAD(NAME) RES CONF "    high-availability: zookeeper\n    high-availability.zookeeper.quorum: zk:2181\n"
		       "    high-availability.storageDir: s3://b/ha\n" APPJOB "    upgradeMode: last-state\n",
	HEAD(NAME) RES APPJOB "    upgradeMode: stateless\n",
	HEAD(NAME) RES APPJOB, /* no upgradeMode: stateless, upstream's default */
	HEAD(NAME) RES JOB "    upgradeMode: savepoint\n", /* a session cluster: the agent submits the job */
	HEAD(NAME) RES JOB "    upgradeMode: last-state\n",
};

static void test_valid_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
		flink_deployment *fd = parse_one(valid_cases[i]);
		assert_int_equal(flink_application_cluster(fd), strstr(valid_cases[i], "local://") != NULL);
		flink_deployment_free(fd);
	}
}

static void test_replicas(void **state)
{
	(void)state;
	static const struct {
		const char *tm;     /* taskManager line tail */
		const char *extra;  /* more spec lines */
		int parallelism;    /* 0: not given */
		int want_replicas, want_slots, want_parallelism;
	} cases[] = {
		{"", "", 1, 1, 1, 1},
		{"", "", 2, 2, 1, 2},
		{"", "", 7, 7, 1, 7},
		{"", "", 0, 1, 1, 1},
		{"", "    parallelismPerK8sResource: 2\n", 7, 4, 2, 7},
		{"", "    parallelismPerK8sResource: 4\n", 8, 2, 4, 8},
		{"", "    parallelismPerK8sResource: 10\n", 3, 1, 10, 3},
		/* both given: accepted only when replicas × slots is the parallelism */
		{", replicas: 5", "", 5, 5, 1, 5},
		{", replicas: 2", "    parallelismPerK8sResource: 1\n", 2, 2, 1, 2},
		{", replicas: 2", "    parallelismPerK8sResource: 3\n", 6, 2, 3, 6},
		/* replicas alone: the job runs at replicas × slots, as upstream runs it */
		{", replicas: 3", "", 0, 3, 1, 3},
		{", replicas: 3", "    parallelismPerK8sResource: 2\n", 0, 3, 2, 6},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *par = cases[i].parallelism ? fo_asprintf("    parallelism: %d\n", cases[i].parallelism) : fo_strdup("");
		char *t = fo_asprintf(HEAD(NAME) "  jobManager: {resource: {memory: 1g}}\n"
					"  taskManager: {resource: {memory: 2g}%s}\n" JOB "%s%s",
				      cases[i].tm, par, cases[i].extra);
		flink_deployment *fd = parse_one(t);
		if (fd->tm.replicas != cases[i].want_replicas || fd->slots != cases[i].want_slots ||
		    fd->job.parallelism != cases[i].want_parallelism)
			fail_msg("case %zu: want %d replicas x %d slots at parallelism %d, got %d x %d at %d", i,
				 cases[i].want_replicas, cases[i].want_slots, cases[i].want_parallelism, fd->tm.replicas,
				 fd->slots, fd->job.parallelism);
		flink_deployment_free(fd);
		free(t);
		free(par);
	}
	/* slots from flinkConfiguration */
	flink_deployment *fd = parse_one(HEAD(NAME) "  jobManager: {resource: {memory: 1g}}\n"
					  "  taskManager: {resource: {memory: 2g}}\n"
					  "  flinkConfiguration:\n    taskmanager.numberOfTaskSlots: 3\n"
					  JOB "    parallelism: 7\n");
	assert_int_equal(fd->slots, 3);
	assert_int_equal(fd->tm.replicas, 3);
	flink_deployment_free(fd);
}

static const char short_form[] =
	"apiVersion: flink.apache.org/v1beta1\n"
	"kind: FlinkDeployment\n"
	"metadata:\n  name: my-flink-cluster\n  namespace: default\n"
	"spec:\n"
	"  image:\n    repository: flinkci/flink\n    tag: 1.17.1\n    pullPolicy: IfNotPresent\n"
	"  flinkVersion: 1.17.1\n"
	"  jobManager:\n    resource:\n      memory: 1024m\n      cpu: 1\n"
	"  taskManager:\n    resource:\n      memory: 2048m\n      cpu: 1\n    replicas: 2\n"
	"  job:\n    jarURI: s3://my-flink-jobs/wordcount-0.1.jar\n"
	"    mainClass: org.apache.flink.examples.java.wordcount.WordCount\n"
	"    parallelism: 2\n    parallelismPerK8sResource: 1\n"
	"    upgradeMode: SAVEPOINT_ON_RESTART\n"
	"    savepointStorage: s3://my-flink-savepoints/wordcount/\n";

/* The same deployment in the upstream operator's spelling. */
static const char upstream_form[] =
	"apiVersion: flink.apache.org/v1beta1\n"
	"kind: FlinkDeployment\n"
	"metadata:\n  namespace: default\n  name: my-flink-cluster\n"
	"spec:\n"
	"  image: flinkci/flink:1.17.1\n"
	"  imagePullPolicy: IfNotPresent\n"
	"  flinkVersion: v1_17\n"
	"  flinkConfiguration:\n    taskmanager.numberOfTaskSlots: \"1\"\n"
	"    state.savepoints.dir: s3://my-flink-savepoints/wordcount/\n"
	"  jobManager:\n    resources:\n      requests: {memory: 1Gi, cpu: \"1\"}\n"
	"  taskManager:\n    replicas: 2\n    resource: {cpu: 1000m, memory: 2Gi}\n"
	"  job:\n    jarURI: s3://my-flink-jobs/wordcount-0.1.jar\n"
	"    entryClass: org.apache.flink.examples.java.wordcount.WordCount\n"
	"    parallelism: 2\n"
	"    upgradeMode: savepoint\n";

static void test_dialects_normalise(void **state)
{
	(void)state;
	flink_deployment *a = parse_one(short_form);
	flink_deployment *b = parse_one(upstream_form);
	assert_string_equal(a->image, "flinkci/flink:1.17.1");
	assert_string_equal(a->image, b->image);
	assert_string_equal(a->image_pull_policy, b->image_pull_policy);
	assert_string_equal(a->flink_version, "1.17");
	assert_string_equal(b->flink_version, "1.17");
	assert_int_equal(a->jm.res.memory, 1024ull << 20);
	assert_int_equal(b->jm.res.memory, 1024ull << 20);
	assert_int_equal(a->tm.res.memory, 2048ull << 20);
	assert_int_equal(b->tm.res.memory, 2048ull << 20);
	assert_int_equal(a->tm.res.cpu_milli, 1000);
	assert_int_equal(b->tm.res.cpu_milli, 1000);
	assert_int_equal(a->job.upgrade_mode, FLINK_UPGRADE_SAVEPOINT);
	assert_int_equal(b->job.upgrade_mode, FLINK_UPGRADE_SAVEPOINT);
	assert_string_equal(a->job.entry_class, b->job.entry_class);
	assert_int_equal(a->tm.replicas, 2);
	assert_int_equal(b->tm.replicas, 2);
	assert_int_equal(a->slots, b->slots);
	/* the rendered StatefulSets are the same bytes (the ConfigMap differs
	 * only in where the user put the savepoint directory and slots) */
	render_objects ra, rb;
	assert_int_equal(render_deployment(a, &ra, NULL), 0);
	assert_int_equal(render_deployment(b, &rb, NULL), 0);
	for (int k = RENDER_SERVICE_JOBMANAGER; k <= RENDER_SERVICE_TASKMANAGER; k++)
		assert_string_equal(render_object_hash(ra.v[k]), render_object_hash(rb.v[k]));
	render_objects_free(&ra);
	render_objects_free(&rb);
	flink_deployment_free(a);
	flink_deployment_free(b);
}

static void test_other_kinds_skipped(void **state)
{
	(void)state;
	const char *t = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n---\n" HEAD(NAME) RES
			"---\napiVersion: apps/v1\nkind: Deployment\nnonsense: [1, 2]\n";
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	size_t skipped = 0;
	assert_int_equal(flink_load_buffer("multi.yaml", t, strlen(t), &v, &skipped, &d), 0);
	assert_int_equal(v.n, 1);
	assert_int_equal(skipped, 2);
	assert_int_equal(v.v[0]->line, 6);
	flink_deployments_free(&v);
	fo_diags_free(&d);
}

static void test_one_bad_document_keeps_others(void **state)
{
	(void)state;
	const char *t = HEAD(NAME) RES "---\n" HEAD("  name: Bad_Name\n") RES "---\n" HEAD("  name: other\n") RES;
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	assert_true(flink_load_buffer("three.yaml", t, strlen(t), &v, NULL, &d) < 0);
	assert_int_equal(d.nerrors, 1);
	assert_int_equal(v.n, 2);
	assert_string_equal(v.v[0]->name, "wc");
	assert_string_equal(v.v[1]->name, "other");
	flink_deployments_free(&v);
	fo_diags_free(&d);
}

static void test_unique_names(void **state)
{
	(void)state;
	const char *t = HEAD(NAME) RES "---\n" HEAD(NAME) RES;
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	assert_int_equal(flink_load_buffer("dup.yaml", t, strlen(t), &v, NULL, &d), 0);
	assert_int_equal(flink_check_unique(&v, &d), 1);
	assert_int_equal(d.v[0].line, 11);
	assert_non_null(strstr(d.v[0].msg, "default/wc is already defined at dup.yaml:1:1"));
	flink_deployments_free(&v);
	fo_diags_free(&d);
}

static void test_conf_flattened_and_sorted(void **state)
{
	(void)state;
	flink_deployment *fd = parse_one(HEAD(NAME) RES "  flinkConfiguration:\n"
						       "    state.backend.type: rocksdb\n"
						       "    execution:\n      checkpointing:\n        interval: 10s\n"
						       "    a.first: 1\n");
	assert_int_equal(fd->conf.n, 3);
	assert_string_equal(fd->conf.v[0].key, "a.first");
	assert_string_equal(fd->conf.v[1].key, "execution.checkpointing.interval");
	assert_string_equal(fd->conf.v[1].value, "10s");
	assert_string_equal(flink_conf_get(&fd->conf, "state.backend.type"), "rocksdb");
	flink_deployment_free(fd);
}

static void expect_diag(const fo_diags *d, size_t i, enum fo_severity sev, int line, int col, const char *msg)
{
	assert_true(i < d->n);
	assert_int_equal(d->v[i].sev, sev);
	if (line)
		assert_int_equal(d->v[i].line, line);
	if (col)
		assert_int_equal(d->v[i].col, col);
	if (!strstr(d->v[i].msg, msg))
		fail_msg("diagnostic %zu \"%s\" does not say \"%s\"", i, d->v[i].msg, msg);
}

/* Fields of the current v1beta1 CRD: parsed and carried; a list value of
 * flinkConfiguration joined with ';' as upstream joins it. */
static void test_upstream_fields(void **state)
{
	(void)state;
	const char *t = HEAD(NAME)
		"  jobManager: {resource: {memory: 1g}}\n"
		"  taskManager:\n    replicas: 1\n    resources:\n      requests: {memory: 2g}\n"
		"      claims: [{name: gpu, request: one}]\n"
		CONF "    metrics.reporters: [prom, jmx]\n    pipeline:\n      jars: [a.jar, 7]\n"
		JOB "    autoscalerResetNonce: 4\n    checkpointTriggerNonce: 2\n";
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	assert_int_equal(flink_load_buffer("up.yaml", t, strlen(t), &v, NULL, &d), 0);
	assert_int_equal(v.n, 1);
	flink_deployment *fd = v.v[0];
	assert_string_equal(flink_conf_get(&fd->conf, "metrics.reporters"), "prom;jmx");
	assert_string_equal(flink_conf_get(&fd->conf, "pipeline.jars"), "a.jar;7");
	assert_int_equal(fd->job.autoscaler_reset_nonce, 4);
	assert_non_null(fd->tm.claims);
	assert_int_equal(cJSON_GetArraySize(fd->tm.claims), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(fd->tm.claims, 0), "name")->valuestring, "gpu");
	assert_null(fd->jm.claims);
	/* checkpointTriggerNonce is honoured (a checkpoint of the running job);
	 * autoscalerResetNonce is a warning at its position, not an error */
	assert_int_equal(fd->job.checkpoint_trigger_nonce, 2);
	assert_string_equal(fd->job.checkpoint_type, "FULL");
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.n, 1);
	expect_diag(&d, 0, FO_SEV_WARNING, 20, 27, "autoscalerResetNonce: has no effect in flinkops");
	flink_deployments_free(&v);
	fo_diags_free(&d);
}

/* A manifest exported with `kubectl get -o yaml`: what the API server set
 * in metadata and the operator's status are accepted, each named once in a
 * positioned warning; a misspelt field beside them is still an error. */
static void test_exported_manifest(void **state)
{
	(void)state;
	const char *t = HEAD(NAME "  uid: 0b1c\n  resourceVersion: \"77\"\n  generation: 3\n"
			     "  creationTimestamp: \"2026-01-01T00:00:00Z\"\n  finalizers: [f]\n"
			     "  managedFields: [{manager: kubectl}]\n") RES JOB "status:\n  lifecycleState: STABLE\n";
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	assert_int_equal(flink_load_buffer("exported.yaml", t, strlen(t), &v, NULL, &d), 0);
	assert_int_equal(v.n, 1);
	assert_string_equal(v.v[0]->name, "wc");
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.n, 2);
	bool meta = false, status = false;
	for (size_t i = 0; i < d.n; i++) {
		assert_int_equal(d.v[i].sev, FO_SEV_WARNING);
		if (strstr(d.v[i].msg, "uid, resourceVersion, generation, creationTimestamp, finalizers, managedFields: set by "
				       "the API server")) {
			meta = true;
			assert_int_equal(d.v[i].line, 5); /* uid, the first of them */
			assert_int_equal(d.v[i].col, 3);
		}
		if (strstr(d.v[i].msg, "status: written by the upstream operator, ignored")) {
			status = true;
			assert_int_equal(d.v[i].col, 1);
		}
	}
	assert_true(meta && status);
	flink_deployments_free(&v);
	fo_diags_free(&d);

	const char *typo = HEAD(NAME "  resourceVersio: \"77\"\n") RES JOB;
	fo_diags d2 = FO_DIAGS_INIT;
	flink_deployments v2 = {0};
	flink_load_buffer("typo.yaml", typo, strlen(typo), &v2, NULL, &d2);
	assert_int_equal(v2.n, 0);
	assert_int_equal(d2.nerrors, 1);
	assert_non_null(strstr(d2.v[0].msg, "unknown field \"resourceVersio\" (did you mean \"resourceVersion\"?)"));
	flink_deployments_free(&v2);
	fo_diags_free(&d2);
}

/* A session cluster without taskManager.replicas: one TaskManager, as
 * upstream's standalone mode, and a warning where the size would go. */
static void test_session_cluster_default_replicas(void **state)
{
	(void)state;
	const char *t = HEAD(NAME) "  jobManager: {resource: {memory: 1g}}\n  taskManager: {resource: {memory: 2g}}\n";
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	assert_int_equal(flink_load_buffer("session.yaml", t, strlen(t), &v, NULL, &d), 0);
	assert_int_equal(v.n, 1);
	assert_false(v.v[0]->has_job);
	assert_int_equal(v.v[0]->tm.replicas, 1);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].sev, FO_SEV_WARNING);
	assert_int_equal(d.v[0].line, 9);
	assert_int_equal(d.v[0].col, 3);
	assert_non_null(strstr(d.v[0].msg, "no \"replicas\" for a session cluster (no job): as many TaskManagers as"));
	flink_deployments_free(&v);
	fo_diags_free(&d);
}

/* Flink's spellings of a duration, as upstream reads the periodic interval. */
static void test_periodic_savepoint_interval(void **state)
{
	(void)state;
	static const struct {
		const char *v;
		int64_t ms;
	} cases[] = {{"10min", 600000}, {"1 h", 3600000}, {"30 s", 30000}, {"90000", 90000}, {"2d", 172800000}, {"0", 0}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = fo_asprintf(HEAD(NAME) RES CONF "    kubernetes.operator.periodic.savepoint.interval: \"%s\"\n" JOB,
					 cases[i].v);
		flink_deployment *fd = parse_one(text);
		assert_null(fd->job.periodic_savepoint_cron);
		if (fd->job.periodic_savepoint_ms != cases[i].ms)
			fail_msg("\"%s\": %lld ms, want %lld", cases[i].v, (long long)fd->job.periodic_savepoint_ms,
				 (long long)cases[i].ms);
		flink_deployment_free(fd);
		free(text);
	}
}

/* Upstream's second spelling: a Quartz cron expression, kept as written
 * for the plan and parsed for the schedule (its rules: test_cron.c). */
static void test_periodic_savepoint_cron(void **state)
{
	(void)state;
	flink_deployment *fd = parse_one(HEAD(NAME) RES CONF
					 "    kubernetes.operator.periodic.savepoint.interval: 0 30 2 ? * MON-FRI\n" JOB);
	assert_int_equal(fd->job.periodic_savepoint_ms, 0);
	assert_string_equal(fd->job.periodic_savepoint_cron, "0 30 2 ? * MON-FRI");
	/* after Sunday 2026-12-06 noon UTC comes Monday 02:30 */
	assert_int_equal(flink_cron_next(&fd->job.periodic_cron, 1796558400), 1796610600);
	flink_deployment_free(fd);
	/* periodic checkpoints: the same two spellings, and the checkpoint type */
	fd = parse_one(HEAD(NAME) RES CONF "    kubernetes.operator.periodic.checkpoint.interval: 30 s\n"
					   "    kubernetes.operator.checkpoint.type: incremental\n" JOB);
	assert_int_equal(fd->job.periodic_checkpoint_ms, 30000);
	assert_null(fd->job.periodic_checkpoint_cron);
	assert_string_equal(fd->job.checkpoint_type, "INCREMENTAL");
	flink_deployment_free(fd);
	fd = parse_one(HEAD(NAME) RES CONF "    kubernetes.operator.periodic.checkpoint.interval: 0 0 * * * ?\n" JOB);
	assert_int_equal(fd->job.periodic_checkpoint_ms, 0);
	assert_string_equal(fd->job.periodic_checkpoint_cron, "0 0 * * * ?");
	flink_deployment_free(fd);
}

/* Upstream's per-deployment rollback switch; without it the agent's flink.rollback decides. */
static void test_rollback_setting(void **state)
{
	(void)state;
	static const struct {
		const char *v;
		int want;
	} cases[] = {{NULL, FLINK_ROLLBACK_DEFAULT}, {"true", FLINK_ROLLBACK_ON}, {"false", FLINK_ROLLBACK_OFF}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = cases[i].v ? fo_asprintf(HEAD(NAME) RES CONF
						      "    kubernetes.operator.deployment.rollback.enabled: \"%s\"\n" JOB
						      "    upgradeMode: savepoint\n",
						      cases[i].v)
					: fo_strdup(HEAD(NAME) RES JOB "    upgradeMode: savepoint\n");
		flink_deployment *fd = parse_one(text);
		if ((int)fd->job.rollback != cases[i].want)
			fail_msg("%s: rollback %d, want %d", cases[i].v ? cases[i].v : "(unset)", (int)fd->job.rollback,
				 cases[i].want);
		flink_deployment_free(fd);
		free(text);
	}
}

static void test_defaults(void **state)
{
	(void)state;
	flink_deployment *fd = parse_one(HEAD(NAME) RES JOB);
	assert_string_equal(fd->namespace, "default");
	assert_int_equal(fd->job.parallelism, 1);
	assert_int_equal(fd->job.upgrade_mode, FLINK_UPGRADE_STATELESS);
	assert_int_equal(fd->job.state, FLINK_STATE_RUNNING);
	assert_int_equal(fd->jm.res.cpu_milli, 1000);
	assert_int_equal(fd->jm.replicas, 1);
	assert_string_equal(fd->flink_version, "1.20");
	flink_deployment_free(fd);
}

/* Load `text` as file `name`: so many deployments, diagnostics and errors. */
static void load_expect(const char *name, const char *text, flink_deployments *v, fo_diags *d, size_t ndeployments,
			size_t ndiags, size_t nerrors)
{
	flink_load_buffer(name, text, strlen(text), v, NULL, d);
	assert_int_equal(v->n, ndeployments);
	assert_int_equal(d->n, ndiags);
	assert_int_equal(d->nerrors, nerrors);
}

/* Diagnostic i is of severity `sev`, at line:col (0: not checked), and
 * says `msg`. */

/* Every document that is not a FlinkDeployment gets a verdict: an error
 * for what flinkops would not do that the file asks for, a warning for
 * what it leaves to other tools; none is skipped in silence. */
/* FlinkSessionJob: parsed as upstream writes it, tied to a session cluster
 * of its namespace (else an error at its document, and dropped), names
 * unique across both kinds, and the cluster sized for its running jobs. */
static void test_session_jobs(void **state)
{
	(void)state;
#define SJ(name, cluster, rest)                                                                         \
	"---\napiVersion: flink.apache.org/v1beta1\nkind: FlinkSessionJob\nmetadata:\n  name: " name "\n" \
	"spec:\n  deploymentName: " cluster "\n" rest
#define SJOB(par, extra) "  job:\n    jarURI: s3://b/j.jar\n    parallelism: " par "\n" extra
	const char *t =
		HEAD("  name: session\n") "  jobManager: {resource: {memory: 1g}}\n  taskManager: {resource: {memory: 2g}}\n"
		CONF "    taskmanager.numberOfTaskSlots: \"2\"\n    state.savepoints.dir: s3://b/sp\n"
		SJ("a", "session", SJOB("2", "") "  flinkConfiguration:\n    pipeline.name: counter-a\n"
		   "    kubernetes.operator.periodic.savepoint.interval: 1h\n    taskmanager.memory.process.size: 2g\n")
		SJ("b", "session", SJOB("3", ""))
		SJ("c", "session", SJOB("8", "    state: suspended\n"))
		SJ("d", "nowhere", SJOB("1", ""))
		SJ("session", "session", SJOB("1", ""))
		"---\n" HEAD("  name: app\n") RES JOB
		SJ("e", "app", SJOB("1", ""))
		SJ("f", "session", "  job:\n    jarURI: local:///opt/flink/usrlib/j.jar\n");
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	flink_load_buffer("repo.yaml", t, strlen(t), &v, NULL, &d);
	assert_int_equal(d.nerrors, 1); /* f: a local:// jar */
	size_t errors = flink_check_repository(&v, &d);
	assert_int_equal(errors, 3);     /* d: no cluster; session: name taken; e: not a session cluster */
	bool seen_d = false, seen_e = false, seen_dup = false, seen_local = false, seen_conf = false;
	for (size_t i = 0; i < d.n; i++) {
		const fo_diag *g = &d.v[i];
		seen_d |= g->sev == FO_SEV_ERROR && strstr(g->msg, "FlinkSessionJob default/d: deploymentName nowhere names no FlinkDeployment") != NULL;
		seen_e |= g->sev == FO_SEV_ERROR && strstr(g->msg, "deploymentName app is the FlinkDeployment at repo.yaml:") != NULL;
		seen_dup |= g->sev == FO_SEV_ERROR && strstr(g->msg, "FlinkSessionJob default/session: the name is taken by the FlinkDeployment at repo.yaml:1:1") != NULL;
		seen_local |= g->sev == FO_SEV_ERROR && strstr(g->msg, "local:// names a jar in an image") != NULL;
		seen_conf |= g->sev == FO_SEV_WARNING && strstr(g->msg, "taskmanager.memory.process.size is an option of the cluster") != NULL;
	}
	assert_true(seen_d && seen_e && seen_dup && seen_local && seen_conf);
	/* kept: the two clusters, a, b, c and the clashing name (reported; two
	 * files must not fight, and the pass deletes nothing while it stands) */
	const flink_deployment *session = NULL, *a = NULL;
	size_t jobs = 0;
	for (size_t i = 0; i < v.n; i++) {
		if (!v.v[i]->session_job && strcmp(v.v[i]->name, "session") == 0)
			session = v.v[i];
		if (strcmp(v.v[i]->name, "a") == 0)
			a = v.v[i];
		jobs += v.v[i]->session_job;
		assert_true(strcmp(v.v[i]->name, "d") != 0 && strcmp(v.v[i]->name, "e") != 0);
	}
	assert_int_equal(jobs, 4);
	assert_non_null(session);
	assert_non_null(a);
	assert_string_equal(a->deployment_name, "session");
	assert_true(a->has_job);
	assert_int_equal(a->job.periodic_savepoint_ms, 3600000);
	/* no savepoint directory of its own: its cluster's, where Flink puts them */
	assert_string_equal(flink_savepoint_dir(a), "s3://b/sp");
	assert_true(flink_session_conf_passed("pipeline.name"));
	assert_false(flink_session_conf_passed("kubernetes.operator.periodic.savepoint.interval"));
	assert_false(flink_session_conf_passed("taskmanager.memory.process.size"));
	/* a: 2, b: 3, the clashing one: 1, c suspended: none; 6 slots of 2 */
	assert_int_equal(session->session_slots_needed, 6);
	assert_int_equal(session->tm.replicas, 3);
	flink_deployments_free(&v);
	fo_diags_free(&d);

	/* given replicas that offer too few slots: a warning, the size kept */
	const char *t2 = HEAD("  name: session\n") "  jobManager: {resource: {memory: 1g}}\n"
			 "  taskManager: {resource: {memory: 2g}, replicas: 1}\n" SJ("a", "session", SJOB("4", ""));
	flink_deployments v2 = {0};
	fo_diags d2 = FO_DIAGS_INIT;
	flink_load_buffer("repo.yaml", t2, strlen(t2), &v2, NULL, &d2);
	assert_int_equal(flink_check_repository(&v2, &d2), 0);
	assert_int_equal(v2.n, 2);
	assert_int_equal(v2.v[0]->tm.replicas, 1);
	assert_int_equal(d2.n, 1);
	assert_non_null(strstr(d2.v[0].msg, "its session jobs need 4 slots, but 1 TaskManager of 1 slot offer 1"));
	flink_deployments_free(&v2);
	fo_diags_free(&d2);
#undef SJ
#undef SJOB
}

static void test_kind_verdicts(void **state)
{
	(void)state;
	static const struct {
		const char *api, *kind;
		bool read;
		enum fo_severity sev;
		const char *msg;
	} cases[] = {
		{"flink.apache.org/v1beta1", "FlinkDeployment", true, FO_SEV_WARNING, NULL},
		{NULL, "FlinkDeployment", true, FO_SEV_WARNING, NULL}, /* its apiVersion is checked by the parser */
		{"flink.apache.org/v1beta1", "FlinkSessionJob", true, FO_SEV_WARNING, NULL},
		{"flink.apache.org/v1beta1", "FlinkStateSnapshot", true, FO_SEV_WARNING, NULL},
		{"flink.apache.org/v1beta1", "FlinkBlueGreenDeployment", true, FO_SEV_WARNING, NULL},
		{"flink.apache.org/v1beta1", "FlinkDeploymnet", false, FO_SEV_ERROR, "unknown kind \"FlinkDeploymnet\" (did you mean \"FlinkDeployment\"?)"},
		{"v1", "flinkdeployment", false, FO_SEV_ERROR, "did you mean \"FlinkDeployment\"?"},
		{"flink.apache.org/v1beta1", "FlinkCluster", false, FO_SEV_ERROR, "unknown kind \"FlinkCluster\" of flink.apache.org"},
		{"v1", "ServiceAccount", true, FO_SEV_WARNING, NULL}, /* applied as written (flink/plain.c) */
		{"rbac.authorization.k8s.io/v1", "Role", true, FO_SEV_WARNING, NULL},
		{"rbac.authorization.k8s.io/v1", "RoleBinding", true, FO_SEV_WARNING, NULL},
		{"rbac.authorization.k8s.io/v1", "ClusterRole", false, FO_SEV_WARNING, "this ClusterRole is not applied"},
		{"v1", "Secret", false, FO_SEV_WARNING, "this Secret is not applied"},
		{"kustomize.config.k8s.io/v1beta1", "Kustomization", false, FO_SEV_WARNING, "this Kustomization is not applied"},
		{NULL, NULL, false, FO_SEV_WARNING, "a document without \"kind\" is not a Kubernetes manifest"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		enum fo_severity sev;
		char *msg;
		bool r = flink_kind_verdict(cases[i].api, cases[i].kind, &sev, &msg);
		if (r != cases[i].read)
			fail_msg("case %zu (%s): read %d, want %d", i, cases[i].kind, r, cases[i].read);
		if (!cases[i].read) {
			if (sev != cases[i].sev || !msg || !strstr(msg, cases[i].msg))
				fail_msg("case %zu (%s): severity %d \"%s\", want %d \"%s\"", i, cases[i].kind, sev,
					 msg ? msg : "(none)", cases[i].sev, cases[i].msg);
		} else if (msg) {
			fail_msg("case %zu: a message for a kind that is read: %s", i, msg);
		}
		free(msg);
	}
	/* in a file: each at its kind's line and column, the FlinkDeployment read */
	const char *text = HEAD(NAME) RES "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: flink}\n"
			   "---\napiVersion: flink.apache.org/v1beta1\nkind: FlinkSessionJob\nmetadata: {name: j}\n";
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	load_expect("mixed.yaml", text, &v, &d, 1, 2, 1);
	expect_diag(&d, 0, FO_SEV_WARNING, 0, 7, "this ConfigMap is not applied");
	/* a FlinkSessionJob is read: one without a spec is its own error */
	expect_diag(&d, 1, FO_SEV_ERROR, d.v[0].line + 3, 1, "\"spec\" is required");
	flink_deployments_free(&v);
	fo_diags_free(&d);
	/* upstream's canary: a warning at its label, not "spec is required" */
	const char *canary = "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata:\n  name: canary\n"
			     "  labels:\n    \"flink.apache.org/canary\": \"true\"\n";
	load_expect("canary.yaml", canary, &v, &d, 0, 1, 0);
	expect_diag(&d, 0, FO_SEV_WARNING, 6, 0, "an upstream operator canary");
	flink_deployments_free(&v);
	fo_diags_free(&d);
}

/* The upstream operator's keys: honoured ones pass in silence, every other
 * one says what flinkops does instead, a typo names the key it is near. */
static void test_operator_keys(void **state)
{
	(void)state;
	static const struct {
		const char *key, *note, *near;
	} cases[] = {
		{"kubernetes.operator.savepoint.history.max.count", NULL, NULL},
		{"kubernetes.operator.periodic.savepoint.interval", NULL, NULL},
		{"kubernetes.operator.deployment.rollback.enabled", NULL, NULL},
		{"kubernetes.operator.savepoint.dispose-on-delete", NULL, NULL},
		{"state.backend.type", NULL, NULL}, /* Flink's own: not the operator's business */
		{"kubernetes.rest-service.exposed.type", NULL, NULL},
		{"kubernetes.operator.job.restart.failed", "always starts a job that ended outside it", NULL},
		{"kubernetes.operator.job.restart.faild", "not a key of the upstream operator", "job.restart.failed"},
		{"kubernetes.operator.savepoint.history.max.cnt", "not a key", "savepoint.history.max.count"},
		{"kubernetes.operator.periodic.checkpoint.interval", NULL, NULL},
		{"kubernetes.operator.checkpoint.type", NULL, NULL},
		{"kubernetes.operator.checkpoint.trigger.grace-period", "until Flink answers", NULL},
		{"kubernetes.operator.job.savepoint-on-deletion", "always stops a deleted or suspended job with a savepoint", NULL},
		{"kubernetes.operator.reconcile.interval", "an operator-wide setting", NULL},
		{"kubernetes.operator.plugins.listeners.audit.class", "loads no plugins", NULL},
		{"job.autoscaler.enabled", "no autoscaler", NULL},
		{"kubernetes.operator.job.autoscaler.target.utilization", "no autoscaler", NULL},
		{"kubernetes.operator.something.entirely.else", "not a key of the upstream operator", NULL},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		const char *near = "unset";
		const char *note = flink_operator_key_note(cases[i].key, &near);
		if ((note == NULL) != (cases[i].note == NULL) || (note && !strstr(note, cases[i].note)))
			fail_msg("%s: note \"%s\", want \"%s\"", cases[i].key, note ? note : "(none)",
				 cases[i].note ? cases[i].note : "(none)");
		if (!fo_streq(near, cases[i].near))
			fail_msg("%s: near \"%s\", want \"%s\"", cases[i].key, near ? near : "(none)",
				 cases[i].near ? cases[i].near : "(none)");
	}
	/* in a manifest: a warning at the key, nested spelling included; the
	 * deployment stays valid */
	const char *text = HEAD(NAME) RES "  flinkConfiguration:\n    kubernetes.operator.job.restart.faild: \"true\"\n"
			   "    kubernetes.operator:\n      savepoint.history.max.count: \"3\"\n"
			   "      reconcile.interval: 15 s\n";
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	load_expect("wc.yaml", text, &v, &d, 1, 2, 0);
	expect_diag(&d, 0, FO_SEV_WARNING, 0, 5, "did you mean kubernetes.operator.job.restart.failed?");
	expect_diag(&d, 1, FO_SEV_WARNING, 0, 7, "kubernetes.operator.reconcile.interval: an operator-wide setting");
	flink_deployments_free(&v);
	fo_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_cases),
		cmocka_unit_test(test_valid_cases),
		cmocka_unit_test(test_replicas),
		cmocka_unit_test(test_dialects_normalise),
		cmocka_unit_test(test_other_kinds_skipped),
		cmocka_unit_test(test_one_bad_document_keeps_others),
		cmocka_unit_test(test_unique_names),
		cmocka_unit_test(test_conf_flattened_and_sorted),
		cmocka_unit_test(test_periodic_savepoint_interval),
		cmocka_unit_test(test_periodic_savepoint_cron),
		cmocka_unit_test(test_rollback_setting),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_upstream_fields),
		cmocka_unit_test(test_exported_manifest),
		cmocka_unit_test(test_session_cluster_default_replicas),
		cmocka_unit_test(test_ingress_url),
		cmocka_unit_test(test_session_jobs),
		cmocka_unit_test(test_kind_verdicts),
		cmocka_unit_test(test_operator_keys),
	};
	return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
