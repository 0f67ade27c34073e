/*
 * `flinkops status [--repo DIR_OR_URL] [--branch B] [-o json]`: the status
 * files the agent wrote (status/NS/NAME.yaml on the branch), as a table for
 * people or JSON for scripts. Reads git only.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cli.h"
#include "agent/gitcli.h"
#include "flink/status.h"
#include "lib/duration.h"

static const char usage[] =
	"usage: flinkops status [--repo DIR_OR_URL] [--branch B] [--status-folder F] [-o text|json|yaml] [[NS/]NAME]\n"
	"\n"
	"Print the status files the agent wrote: per FlinkDeployment its phase, the\n"
	"newest commit rolled out, the job, the last savepoint and the last message.\n"
	"With NAME (or NAMESPACE/NAME), one deployment and its history: per version,\n"
	"the job that ran it, the state it started from (and how old that state was\n"
	"at the start) and the savepoint taken when it stopped.\n"
	"A URL is fetched first; a local folder is read as it is.\n"
	"\n"
	"  --branch B             the branch that holds the status files (default main)\n"
	"  --status-folder F      their folder (default status)\n"
	"  -o, --output FORMAT    text (default), json or yaml\n"
	"  -h, --help             this help\n"
	"\n";

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static cJSON *status_json(const flink_status *s, const char *file)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "file", file);
	cJSON_AddStringToObject(o, "namespace", s->namespace);
	cJSON_AddStringToObject(o, "name", s->name);
	cJSON_AddStringToObject(o, "phase", flink_phase_name(s->phase));
#define STR(k, v) \
	if (v)    \
	cJSON_AddStringToObject(o, k, v)
	STR("observedCommit", s->observed_commit);
	STR("failedCommit", s->failed_commit);
	STR("sourceCommit", s->source.commit);
	STR("sourcePath", s->source.path);
	STR("message", s->message);
	STR("jobId", s->job.id);
	STR("jobState", s->job.state);
	STR("lastSavepoint", s->last_savepoint.path);
	STR("updateTime", s->update_time);
#undef STR
	if (s->job.restarts > 0)
		cJSON_AddNumberToObject(o, "jobRestarts", (double)s->job.restarts);
	if (s->savepoints.retained || s->savepoints.disposing) {
		cJSON_AddNumberToObject(o, "savepointsRetained", s->savepoints.retained);
		cJSON_AddNumberToObject(o, "savepointsPendingDisposal", s->savepoints.disposing);
	}
	if (s->bluegreen.state) { /* a FlinkBlueGreenDeployment's */
		cJSON *bg = cJSON_AddObjectToObject(o, "blueGreen");
		const char *keys[] = {"state", "active", "blueJob", "greenJob", "startedFrom", "switchedAt"};
		const char *vals[] = {s->bluegreen.state,     s->bluegreen.active,       s->bluegreen.blue_job,
				      s->bluegreen.green_job, s->bluegreen.started_from, s->bluegreen.switched_at};
		for (size_t i = 0; i < FO_ARRAY_LEN(keys); i++)
			if (vals[i])
				cJSON_AddStringToObject(bg, keys[i], vals[i]);
	}
	cJSON *hist = cJSON_AddArrayToObject(o, "history");
	for (size_t i = 0; i < s->nhistory; i++) {
		const flink_status_history *h = &s->history[i];
		cJSON *x = cJSON_CreateObject();
#define HSTR(k, v) \
	if (v)     \
	cJSON_AddStringToObject(x, k, v)
		HSTR("commit", h->commit);
		cJSON_AddStringToObject(x, "phase", flink_phase_name(h->phase));
		HSTR("time", h->time);
		HSTR("jobId", h->job_id);
		HSTR("startedFromKind", h->started_from.kind);
		HSTR("startedFrom", h->started_from.path);
		HSTR("startedFromTime", h->started_from.time);
		HSTR("stoppedWith", h->stopped_with.path);
#undef HSTR
		long age = flink_status_seconds_between(h->started_from.time, h->time);
		if (age >= 0)
			cJSON_AddNumberToObject(x, "stateAgeSeconds", (double)age);
		cJSON_AddItemToArray(hist, x);
	}
	return o;
}

/* One deployment: its summary, then its history as a table. */
static void print_one(const flink_status *s)
{
	printf("%s/%s: %s", s->namespace, s->name, flink_phase_name(s->phase));
	if (s->observed_commit)
		printf(" at %.7s", s->observed_commit);
	if (s->job.id)
		printf(", job %s %s", s->job.id, or_dash(s->job.state));
	if (s->job.id && s->job.restarts > 0)
		printf(", restarted by Flink %lld time%s", s->job.restarts, s->job.restarts > 1 ? "s" : "");
	printf("\n");
	if (s->message)
		printf("message: %s\n", s->message);
	if (s->last_savepoint.path)
		printf("last savepoint: %s (%s, %s)\n", s->last_savepoint.path,
		       flink_savepoint_reason_name(s->last_savepoint.reason), or_dash(s->last_savepoint.time));
	printf("\n%-8s %-10s %-20s %-32s %-10s %-9s %s\n", "COMMIT", "PHASE", "TIME", "JOB", "FROM", "STATE AGE",
	       "STATE / STOPPED WITH");
	for (size_t i = 0; i < s->nhistory; i++) {
		const flink_status_history *h = &s->history[i];
		char commit[8], age[FO_DURATION_SHORT];
		snprintf(commit, sizeof(commit), "%.7s", or_dash(h->commit));
		fo_duration_short(flink_status_seconds_between(h->started_from.time, h->time), age);
		printf("%-8s %-10s %-20s %-32s %-10s %-9s %s\n", commit, flink_phase_name(h->phase), or_dash(h->time),
		       or_dash(h->job_id), or_dash(h->started_from.kind), age, or_dash(h->started_from.path));
		if (h->stopped_with.path)
			printf("%-8s %-10s %-20s %-32s %-10s %-9s stopped with %s\n", "", "", "", "", "", "",
			       h->stopped_with.path);
	}
}

/* Whether status `s` is the one `want` names: NAME, or NAMESPACE/NAME. */
static bool status_named(const flink_status *s, const char *want)
{
	const char *slash = strchr(want, '/');
	if (!slash)
		return strcmp(s->name, want) == 0;
	return strlen(s->namespace) == (size_t)(slash - want) && strncmp(s->namespace, want, (size_t)(slash - want)) == 0 &&
	       strcmp(s->name, slash + 1) == 0;
}

enum { O_BRANCH = 1, O_STATUS };
static const struct option options[] = {
	{"branch", required_argument, NULL, O_BRANCH},
	{"status-folder", required_argument, NULL, O_STATUS},
	{"output", required_argument, NULL, 'o'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

const cli_verb cli_verb_status = {
	.name = "status",
	.run = cmd_status,
	.optstring = "o:h",
	.options = (const struct option *const[]){options, cli_git_long_options, NULL},
	.outputs = cli_outputs,
	.operands = CLI_OPERAND_WORD,
};

int cmd_status(int argc, char **argv)
{
	struct option opts[FO_ARRAY_LEN(options) + CLI_GIT_NOPTS];
	cli_options_join(opts, FO_ARRAY_LEN(opts), options, cli_git_long_options);
	cli_git_opts g = {0};
	const char *branch = "main", *folder = "status";
	bool json = false, yaml = false;
	int c, status = EXIT_FAIL;
	sync_repo *r = NULL;
	sync_files files = {0};
	fo_err e = FO_ERR_INIT;
	cJSON *list = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_verb_status.optstring, opts, NULL)) != -1) {
		if (cli_git_option(c, optarg, &g))
			continue;
		switch (c) {
		case O_BRANCH: branch = optarg; break;
		case O_STATUS: folder = optarg; break;
		case 'o':
			if (cli_output("status", optarg, &json, &yaml) < 0)
				goto cleanup;
			break;
		case 'h':
			fputs(usage, stdout);
			fputs(cli_git_usage, stdout);
			status = EXIT_OK;
			goto cleanup;
		default:
			/* through cleanup: a bad shared option before this one set g.bad */
			status = cli_usage_error("status", "unknown option");
			goto cleanup;
		}
	}
	if (g.bad.code) {
		status = cli_usage_error("status", "%s", fo_err_msg(&g.bad));
		goto cleanup;
	}
	const char *want = optind < argc ? argv[optind++] : NULL;
	if (optind < argc) {
		status = cli_usage_error("status", "unexpected argument \"%s\"", argv[optind]);
		goto cleanup;
	}
	char commit[SYNC_OID_HEX];
	if (cli_git_open(&g, &r, &e) < 0 || sync_fetch(r, branch, commit, &e) < 0) {
		fprintf(stderr, "flinkops status: %s\n", fo_err_msg(&e));
		goto cleanup;
	}
	sync_select sel = {folder, "*.yaml", "", 0};
	fo_diags notes = FO_DIAGS_INIT;
	int rc = sync_read_manifests(r, commit, &sel, &files, &notes, &e);
	cli_print_diags(&notes);
	fo_diags_free(&notes);
	if (rc < 0) {
		fprintf(stderr, "flinkops status: %s\n", fo_err_msg(&e));
		goto cleanup;
	}
	status = EXIT_OK;
	size_t found = 0;
	if (json) {
		list = cJSON_CreateObject();
		cJSON_AddStringToObject(list, "commit", commit);
		cJSON_AddArrayToObject(list, "deployments");
	} else if (files.n == 0) {
		fprintf(stderr, "no status files under %s/ at %.7s of %s\n", folder, commit, sync_display_url(r));
	} else if (!want) {
		printf("%-16s %-28s %-10s %-8s %-10s %-20s %s\n", "NAMESPACE", "NAME", "PHASE", "OBSERVED", "JOB",
		       "UPDATED", "MESSAGE");
	}
	for (size_t i = 0; i < files.n; i++) {
		flink_status *s = NULL;
		fo_err pe = FO_ERR_INIT;
		if (flink_status_parse(files.v[i].path, files.v[i].data, files.v[i].len, &s, &pe) < 0) {
			fprintf(stderr, "%s\n", fo_err_msg(&pe));
			fo_err_clear(&pe);
			status = EXIT_FAIL;
			continue;
		}
		if (want && !status_named(s, want)) {
			flink_status_free(s);
			continue;
		}
		found++;
		if (json) {
			cJSON_AddItemToArray(cJSON_GetObjectItem(list, "deployments"), status_json(s, files.v[i].path));
		} else if (want) {
			if (found > 1)
				printf("\n");
			print_one(s);
		} else {
			char obs[8];
			snprintf(obs, sizeof(obs), "%.7s", or_dash(s->observed_commit));
			printf("%-16s %-28s %-10s %-8s %-10s %-20s %s\n", s->namespace, s->name, flink_phase_name(s->phase),
			       obs, or_dash(s->job.state), or_dash(s->update_time), s->message ? s->message : "");
		}
		flink_status_free(s);
	}
	if (want && !found) {
		fprintf(stderr, "flinkops status: no status file for \"%s\" under %s/ at %.7s of %s\n", want, folder,
			commit, sync_display_url(r));
		status = EXIT_FAIL;
	}
	if (json)
		cli_print_answer(list, yaml);
cleanup:
	cJSON_Delete(list);
	sync_files_free(&files);
	sync_free(r);
	fo_err_clear(&e);
	fo_err_clear(&g.bad);
	return status;
}
