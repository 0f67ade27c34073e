/*
 * The hidden verb `flinkops flink`, which runs one call of the Flink REST
 * client (flink/rest.h) or the jar delivery (flink/jar.h) by hand. The
 * end-to-end tests drive a real Flink cluster and S3 server through it, and
 * an operator can use it to look at a cluster the way flinkops sees it:
 *
 *   flinkops flink overview|config|taskmanagers|jobs --url URL
 *   flinkops flink job|state|checkpoints|exceptions --url URL JOB
 *   flinkops flink upload --url URL FILE.jar
 *   flinkops flink run --url URL JAR_ID [--class C] [--parallelism N] [--savepoint PATH]
 *                      [--allow-non-restored-state] [--job-id ID] [--arg A]...
 *   flinkops flink wait --url URL JOB --state S[,S...] [--timeout D]
 *   flinkops flink savepoint|stop --url URL JOB [--dir D] [--timeout D] [--no-wait]
 *   flinkops flink savepoint-status --url URL JOB TRIGGER
 *   flinkops flink cancel --url URL JOB
 *   flinkops flink delete-jar --url URL JAR_ID
 *   flinkops flink fetch-jar URI --cache DIR [S3 and TLS options]
 *
 * Queries print JSON built from the client's typed results; actions print
 * `key value` lines (jar, job, trigger, location, state, elapsed-ms, ...).
 * It is not listed in `flinkops --help`: the agent does all of this itself.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "agent/cli.h"
#include "flink/jar.h"
#include "flink/rest.h"
#include "lib/duration.h"

static const char usage[] =
	"usage: flinkops flink OPERATION [OPTIONS] [ARGS]\n"
	"\n"
	"One call of flinkops' Flink REST client or jar delivery, for tests and diagnosis.\n"
	"\n"
	"Operations (all but fetch-jar need --url):\n"
	"  overview | config | taskmanagers | jobs      cluster queries, printed as JSON\n"
	"  job JOB | checkpoints JOB | exceptions JOB   one job, printed as JSON\n"
	"  state JOB                       the job's current (uncached) state: \"state S\"\n"
	"  upload FILE.jar                 prints \"jar ID\"\n"
	"  run JAR_ID                      prints \"job ID\"; --class, --parallelism, --savepoint,\n"
	"                                  --allow-non-restored-state, --job-id, --arg (repeat)\n"
	"  wait JOB --state S[,S...]       wait for one of the states; prints \"state S\"\n"
	"  savepoint JOB [--dir D]         trigger and wait; prints \"location PATH\" (--no-wait: \"trigger ID\")\n"
	"  stop JOB [--dir D]              stop with a savepoint and wait; prints \"location PATH\"\n"
	"  savepoint-status JOB TRIGGER    prints \"status IN_PROGRESS|COMPLETED\" and the location\n"
	"  cancel JOB                      cancel the job\n"
	"  delete-jar JAR_ID               delete an uploaded jar\n"
	"  fetch-jar URI --cache DIR       fetch s3://, https://, http:// or file:// into the cache;\n"
	"                                  prints \"path P\", \"version V\", \"cached yes|no\"\n"
	"\n"
	"Options:\n"
	"  --url URL                 the Flink REST endpoint, e.g. http://wc-rest.prod.svc:8081\n"
	"  --timeout D               wait, savepoint, stop: the deadline (default 5m)\n"
	"  --call-timeout D          each HTTP call (default 30s)\n"
	"  --max-body BYTES          the largest REST answer accepted (default 8 MiB)\n"
	"  --ca-file FILE            CA bundle for https (REST endpoint, jar URLs, S3)\n"
	"  --cache DIR               fetch-jar: the jar cache\n"
	"  --s3-endpoint URL         fetch-jar: S3-compatible endpoint (path-style), default AWS\n"
	"  --s3-region R             fetch-jar: region (default $AWS_REGION or us-east-1)\n"
	"  --s3-access-key-file F    fetch-jar: access key (default $AWS_ACCESS_KEY_ID)\n"
	"  --s3-secret-key-file F    fetch-jar: secret (default $AWS_SECRET_ACCESS_KEY)\n"
	"  --max-size BYTES          fetch-jar: the largest jar accepted (default 1 GiB)\n"
	"  --in-place                fetch-jar: use a file:// jar where it lies\n";

enum {
	OPT_URL = 256,
	OPT_TIMEOUT,
	OPT_CALL_TIMEOUT,
	OPT_CA_FILE,
	OPT_CACHE,
	OPT_S3_ENDPOINT,
	OPT_S3_REGION,
	OPT_S3_ACCESS,
	OPT_S3_SECRET,
	OPT_MAX_SIZE,
	OPT_IN_PLACE,
	OPT_CLASS,
	OPT_PARALLELISM,
	OPT_SAVEPOINT,
	OPT_ALLOW_NON_RESTORED,
	OPT_JOB_ID,
	OPT_ARG,
	OPT_STATE,
	OPT_DIR,
	OPT_NO_WAIT,
	OPT_MAX_BODY,
};

typedef struct flink_cli {
	const char *url;
	int64_t timeout_ms;
	int64_t call_timeout_ms;
	flink_jar_opts jar;
	flink_run_opts run;
	const char **args;
	size_t nargs, cap;
	const char *states;
	const char *dir;
	bool no_wait;
	size_t max_body;
} flink_cli;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(fo_err *e)
{
	fprintf(stderr, "flinkops flink: %s\n", fo_err_msg(e));
	fo_err_clear(e);
	return EXIT_FAIL;
}

static void print_json(cJSON *j)
{
	char *s = cJSON_Print(j);
	if (s)
		printf("%s\n", s);
	cJSON_free(s);
	cJSON_Delete(j);
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static cJSON *job_json(const flink_job_info *j)
{
	cJSON *o = cJSON_CreateObject();
	add_str(o, "id", j->id);
	add_str(o, "name", j->name);
	add_str(o, "state", j->state == FLINK_JOB_UNKNOWN ? j->state_name : flink_job_status_name(j->state));
	cJSON_AddNumberToObject(o, "startTime", (double)j->start_time);
	cJSON_AddNumberToObject(o, "endTime", (double)j->end_time);
	cJSON_AddNumberToObject(o, "duration", (double)j->duration);
	return o;
}

/* A comma-separated list of state names as a FLINK_JOB_MASK set; 0 when one is unknown. */
static unsigned parse_states(const char *list)
{
	unsigned mask = 0;
	char *copy = fo_strdup(list), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		enum flink_job_status s = flink_job_status_parse(t);
		if (s == FLINK_JOB_UNKNOWN) {
			mask = 0;
			break;
		}
		mask |= FLINK_JOB_MASK(s);
	}
	free(copy);
	return mask;
}

static int op_fetch_jar(flink_cli *o, int argc, char **argv)
{
	if (argc != 1)
		return cli_usage_error("flink", "fetch-jar takes one URI");
	if (!o->jar.cache_dir)
		return cli_usage_error("flink", "fetch-jar needs --cache DIR");
	flink_jar_result r;
	fo_err e = FO_ERR_INIT;
	int64_t t0 = now_ms();
	if (flink_jar_fetch_ex(argv[0], &o->jar, &r, &e) < 0)
		return fail(&e);
	printf("path %s\nversion %s\ncached %s\nelapsed-ms %lld\n", r.path, r.version, r.from_cache ? "yes" : "no",
	       (long long)(now_ms() - t0));
	flink_jar_result_free(&r);
	return EXIT_OK;
}

static int need_args(const char *op, int argc, int want, const char *what)
{
	if (argc == want)
		return 0;
	cli_usage_error("flink", "%s takes %s", op, what);
	return -1;
}

static int run_op(flink_rest *c, flink_cli *o, const char *op, int argc, char **argv)
{
	fo_err e = FO_ERR_INIT;
	int64_t t0 = now_ms();
	long deadline = o->timeout_ms > 0 ? (long)o->timeout_ms : 300000L;
	if (strcmp(op, "overview") == 0) {
		flink_overview ov;
		if (need_args(op, argc, 0, "no arguments") < 0)
			return EXIT_FAIL;
		if (flink_rest_overview(c, &ov, &e) < 0)
			return fail(&e);
		cJSON *j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "taskmanagers", ov.taskmanagers);
		cJSON_AddNumberToObject(j, "slotsTotal", ov.slots_total);
		cJSON_AddNumberToObject(j, "slotsAvailable", ov.slots_available);
		cJSON_AddNumberToObject(j, "jobsRunning", ov.jobs_running);
		add_str(j, "flinkVersion", ov.flink_version);
		flink_overview_free(&ov);
		print_json(j);
	} else if (strcmp(op, "config") == 0) {
		flink_cluster_config cc;
		if (need_args(op, argc, 0, "no arguments") < 0)
			return EXIT_FAIL;
		if (flink_rest_config(c, &cc, &e) < 0)
			return fail(&e);
		cJSON *j = cJSON_CreateObject();
		add_str(j, "flinkVersion", cc.flink_version);
		cJSON_AddNumberToObject(j, "refreshIntervalMs", cc.refresh_interval_ms);
		cJSON_AddBoolToObject(j, "webSubmit", cc.web_submit);
		flink_cluster_config_free(&cc);
		print_json(j);
	} else if (strcmp(op, "taskmanagers") == 0) {
		flink_taskmanagers t;
		if (need_args(op, argc, 0, "no arguments") < 0)
			return EXIT_FAIL;
		if (flink_rest_taskmanagers(c, &t, &e) < 0)
			return fail(&e);
		cJSON *a = cJSON_CreateArray();
		for (size_t i = 0; i < t.n; i++) {
			cJSON *x = cJSON_CreateObject();
			add_str(x, "id", t.v[i].id);
			cJSON_AddNumberToObject(x, "slots", t.v[i].slots);
			cJSON_AddNumberToObject(x, "freeSlots", t.v[i].free_slots);
			cJSON_AddItemToArray(a, x);
		}
		flink_taskmanagers_free(&t);
		print_json(a);
	} else if (strcmp(op, "jobs") == 0) {
		flink_job_list l;
		if (need_args(op, argc, 0, "no arguments") < 0)
			return EXIT_FAIL;
		if (flink_rest_jobs(c, &l, &e) < 0)
			return fail(&e);
		cJSON *a = cJSON_CreateArray();
		for (size_t i = 0; i < l.n; i++)
			cJSON_AddItemToArray(a, job_json(&l.v[i]));
		flink_job_list_free(&l);
		print_json(a);
	} else if (strcmp(op, "job") == 0) {
		flink_job_info j;
		if (need_args(op, argc, 1, "a job id") < 0)
			return EXIT_FAIL;
		if (flink_rest_job(c, argv[0], &j, &e) < 0)
			return fail(&e);
		print_json(job_json(&j));
		flink_job_info_free(&j);
	} else if (strcmp(op, "state") == 0) {
		enum flink_job_status st;
		if (need_args(op, argc, 1, "a job id") < 0)
			return EXIT_FAIL;
		if (flink_rest_job_state(c, argv[0], &st, &e) < 0)
			return fail(&e);
		printf("state %s\n", flink_job_status_name(st));
	} else if (strcmp(op, "checkpoints") == 0) {
		flink_checkpoint_info ci;
		if (need_args(op, argc, 1, "a job id") < 0)
			return EXIT_FAIL;
		if (flink_rest_checkpoints(c, argv[0], &ci, &e) < 0)
			return fail(&e);
		cJSON *j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "completed", (double)ci.completed);
		cJSON_AddNumberToObject(j, "failed", (double)ci.failed);
		cJSON_AddNumberToObject(j, "restored", (double)ci.restored);
		cJSON_AddNumberToObject(j, "latestId", (double)ci.latest_id);
		add_str(j, "latestPath", ci.latest_path);
		cJSON_AddBoolToObject(j, "latestIsSavepoint", ci.latest_is_savepoint);
		add_str(j, "latestSavepointPath", ci.latest_savepoint_path);
		add_str(j, "restoredPath", ci.restored_path);
		add_str(j, "latestFailure", ci.latest_failure);
		flink_checkpoint_info_free(&ci);
		print_json(j);
	} else if (strcmp(op, "exceptions") == 0) {
		char *cause = NULL;
		if (need_args(op, argc, 1, "a job id") < 0)
			return EXIT_FAIL;
		if (flink_rest_exceptions(c, argv[0], &cause, &e) < 0)
			return fail(&e);
		cJSON *j = cJSON_CreateObject();
		add_str(j, "rootCause", cause);
		free(cause);
		print_json(j);
	} else if (strcmp(op, "upload") == 0) {
		char *jar = NULL;
		if (need_args(op, argc, 1, "a jar file") < 0)
			return EXIT_FAIL;
		if (flink_rest_jar_upload(c, argv[0], &jar, &e) < 0)
			return fail(&e);
		printf("jar %s\nelapsed-ms %lld\n", jar, (long long)(now_ms() - t0));
		free(jar);
	} else if (strcmp(op, "run") == 0) {
		char *job = NULL;
		if (need_args(op, argc, 1, "a jar id") < 0)
			return EXIT_FAIL;
		o->run.args = o->args;
		o->run.nargs = o->nargs;
		if (flink_rest_jar_run(c, argv[0], &o->run, &job, &e) < 0)
			return fail(&e);
		printf("job %s\nelapsed-ms %lld\n", job, (long long)(now_ms() - t0));
		free(job);
	} else if (strcmp(op, "wait") == 0) {
		if (need_args(op, argc, 1, "a job id") < 0)
			return EXIT_FAIL;
		unsigned mask = o->states ? parse_states(o->states) : 0;
		if (!mask)
			return cli_usage_error("flink", "wait needs --state with Flink job states, e.g. RUNNING");
		enum flink_job_status st;
		if (flink_rest_job_wait(c, argv[0], mask, deadline, &st, &e) < 0)
			return fail(&e);
		printf("state %s\nelapsed-ms %lld\n", flink_job_status_name(st), (long long)(now_ms() - t0));
	} else if (strcmp(op, "savepoint") == 0 || strcmp(op, "stop") == 0) {
		char *trigger = NULL, *loc = NULL;
		if (need_args(op, argc, 1, "a job id") < 0)
			return EXIT_FAIL;
		int rc = op[1] == 't' ? flink_rest_job_stop(c, argv[0], o->dir, NULL, &trigger, &e)
				      : flink_rest_savepoint_trigger(c, argv[0], o->dir, NULL, NULL, &trigger, &e);
		if (rc < 0)
			return fail(&e);
		printf("trigger %s\n", trigger);
		if (!o->no_wait) {
			fflush(stdout);
			rc = flink_rest_savepoint_wait(c, argv[0], trigger, deadline, &loc, &e);
			if (rc == 0)
				printf("location %s\nelapsed-ms %lld\n", loc, (long long)(now_ms() - t0));
		}
		free(trigger);
		free(loc);
		if (rc < 0)
			return fail(&e);
	} else if (strcmp(op, "savepoint-status") == 0) {
		flink_savepoint_status st;
		if (need_args(op, argc, 2, "a job id and a trigger id") < 0)
			return EXIT_FAIL;
		int rc = flink_rest_savepoint_status(c, argv[0], argv[1], &st, &e);
		if (rc == 0)
			printf("status %s\n", st.state == FLINK_SAVEPOINT_IN_PROGRESS ? "IN_PROGRESS" : "COMPLETED");
		if (st.location)
			printf("location %s\n", st.location);
		flink_savepoint_status_free(&st);
		if (rc < 0)
			return fail(&e);
	} else if (strcmp(op, "cancel") == 0) {
		if (need_args(op, argc, 1, "a job id") < 0)
			return EXIT_FAIL;
		if (flink_rest_job_cancel(c, argv[0], &e) < 0)
			return fail(&e);
		printf("cancelled %s\n", argv[0]);
	} else if (strcmp(op, "delete-jar") == 0) {
		if (need_args(op, argc, 1, "a jar id") < 0)
			return EXIT_FAIL;
		if (flink_rest_jar_delete(c, argv[0], &e) < 0)
			return fail(&e);
		printf("deleted %s\n", argv[0]);
	} else {
		return cli_usage_error("flink", "unknown operation \"%s\"", op);
	}
	return EXIT_OK;
}

static int parse_duration_opt(const char *name, const char *arg, int64_t *ms)
{
	fo_err e = FO_ERR_INIT;
	if (fo_duration_parse(arg, ms, &e) < 0 || *ms <= 0 || *ms > 24 * 3600 * 1000LL) {
		cli_usage_error("flink", "%s %s: give a duration such as 30s or 10m (up to 24h)", name, arg);
		fo_err_clear(&e);
		return -1;
	}
	return 0;
}

static const struct option options[] = {
	{"url", required_argument, NULL, OPT_URL},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"call-timeout", required_argument, NULL, OPT_CALL_TIMEOUT},
	{"ca-file", required_argument, NULL, OPT_CA_FILE},
	{"cache", required_argument, NULL, OPT_CACHE},
	{"s3-endpoint", required_argument, NULL, OPT_S3_ENDPOINT},
	{"s3-region", required_argument, NULL, OPT_S3_REGION},
	{"s3-access-key-file", required_argument, NULL, OPT_S3_ACCESS},
	{"s3-secret-key-file", required_argument, NULL, OPT_S3_SECRET},
	{"max-size", required_argument, NULL, OPT_MAX_SIZE},
	{"in-place", no_argument, NULL, OPT_IN_PLACE},
	{"class", required_argument, NULL, OPT_CLASS},
	{"parallelism", required_argument, NULL, OPT_PARALLELISM},
	{"savepoint", required_argument, NULL, OPT_SAVEPOINT},
	{"allow-non-restored-state", no_argument, NULL, OPT_ALLOW_NON_RESTORED},
	{"job-id", required_argument, NULL, OPT_JOB_ID},
	{"arg", required_argument, NULL, OPT_ARG},
	{"state", required_argument, NULL, OPT_STATE},
	{"dir", required_argument, NULL, OPT_DIR},
	{"no-wait", no_argument, NULL, OPT_NO_WAIT},
	{"max-body", required_argument, NULL, OPT_MAX_BODY},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

const cli_verb cli_verb_flink = {
	.name = "flink",
	.run = cmd_flink,
	.optstring = "h",
	.options = (const struct option *const[]){options, NULL},
	.operands = CLI_OPERAND_WORD,
	.hidden = true,
};

int cmd_flink(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_FAIL : EXIT_OK;
	}
	const char *op = argv[1];
	flink_cli o = {0};
	int status = EXIT_FAIL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, cli_verb_flink.optstring, options, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case OPT_URL: o.url = optarg; break;
		case OPT_TIMEOUT:
			if (parse_duration_opt("--timeout", optarg, &o.timeout_ms) < 0)
				goto cleanup;
			break;
		case OPT_CALL_TIMEOUT:
			if (parse_duration_opt("--call-timeout", optarg, &o.call_timeout_ms) < 0)
				goto cleanup;
			break;
		case OPT_CA_FILE: o.jar.ca_file = optarg; break;
		case OPT_CACHE: o.jar.cache_dir = optarg; break;
		case OPT_S3_ENDPOINT: o.jar.s3_endpoint = optarg; break;
		case OPT_S3_REGION: o.jar.s3_region = optarg; break;
		case OPT_S3_ACCESS: o.jar.s3_access_key_file = optarg; break;
		case OPT_S3_SECRET: o.jar.s3_secret_key_file = optarg; break;
		case OPT_MAX_SIZE:
			o.jar.max_bytes = strtoull(optarg, &end, 10);
			if (!end || *end || o.jar.max_bytes == 0) {
				cli_usage_error("flink", "--max-size %s: give a number of bytes", optarg);
				goto cleanup;
			}
			break;
		case OPT_IN_PLACE: o.jar.file_in_place = true; break;
		case OPT_CLASS: o.run.entry_class = optarg; break;
		case OPT_PARALLELISM: {
			long p = strtol(optarg, &end, 10);
			if (!end || *end || p < 1 || p > 32768) {
				cli_usage_error("flink", "--parallelism %s: give 1 to 32768", optarg);
				goto cleanup;
			}
			o.run.parallelism = (int)p;
			break;
		}
		case OPT_SAVEPOINT: o.run.savepoint_path = optarg; break;
		case OPT_ALLOW_NON_RESTORED: o.run.allow_non_restored_state = true; break;
		case OPT_JOB_ID: o.run.job_id = optarg; break;
		case OPT_ARG:
			o.args = fo_grow(o.args, &o.cap, o.nargs + 1, sizeof(*o.args));
			o.args[o.nargs++] = optarg;
			break;
		case OPT_STATE: o.states = optarg; break;
		case OPT_DIR: o.dir = optarg; break;
		case OPT_NO_WAIT: o.no_wait = true; break;
		case OPT_MAX_BODY: {
			unsigned long long m = strtoull(optarg, &end, 10);
			if (!end || *end || m == 0 || m > (1ull << 30)) {
				cli_usage_error("flink", "--max-body %s: give a number of bytes", optarg);
				goto cleanup;
			}
			o.max_body = (size_t)m;
			break;
		}
		case 'h':
			fputs(usage, stdout);
			status = EXIT_OK;
			goto cleanup;
		default: cli_usage_error("flink", "unknown option"); goto cleanup;
		}
	}
	int nargs = argc - 1 - optind;
	char **args = argv + 1 + optind;
	if (strcmp(op, "fetch-jar") == 0) {
		o.jar.timeout_ms = (long)o.timeout_ms;
		status = op_fetch_jar(&o, nargs, args);
		goto cleanup;
	}
	if (!o.url) {
		cli_usage_error("flink", "--url is required (the Flink REST endpoint)");
		goto cleanup;
	}
	flink_rest_opts ro = {0};
	ro.timeout_ms = (long)o.call_timeout_ms;
	ro.max_body = o.max_body;
	ro.ca_file = o.jar.ca_file;
	flink_rest *client = NULL;
	fo_err e = FO_ERR_INIT;
	if (flink_rest_new(o.url, &ro, &client, &e) < 0) {
		status = fail(&e);
		goto cleanup;
	}
	status = run_op(client, &o, op, nargs, args);
	flink_rest_free(client);
cleanup:
	free(o.args);
	return status;
}
