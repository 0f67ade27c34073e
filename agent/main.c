/*
 * flinkops: a GitOps pull agent for Apache Flink on Kubernetes. This file
 * holds main(): global options and the dispatch to one function a verb.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <git2.h>
#include <yaml.h>

#include "agent/cli.h"
#include "lib/log.h"
#include "sync/sync.h"

static const char usage[] =
	"usage: flinkops [--log-level LEVEL] [--log-format text|json] VERB [ARGS]\n"
	"\n"
	"flinkops keeps Apache Flink jobs on Kubernetes in step with FlinkDeployment\n"
	"files in git.\n"
	"\n"
	"Verbs:\n"
	"  validate PATH...   parse and check FlinkDeployment files (file:line:col errors)\n"
	"  render PATH...     print the Kubernetes objects a FlinkDeployment becomes\n"
	"  sync --once        one pass: apply what git says to the cluster, prune what it no longer has\n"
	"  agent              the daemon: passes on an interval and on webhooks, health and metrics\n"
	"  plan --repo R --base REV --head REV   review a change: actions, warnings, rendered diff\n"
	"  wait --repo R --commit SHA            wait until the status files show SHA rolled out\n"
	"  status [--repo R]  a table of the status files\n"
	"  explain [PATH]     what flinkops does with a field or configuration key\n"
	"  completion bash|zsh                  print a shell completion script\n"
	"\n"
	"Global options:\n"
	"  --log-level LEVEL  debug, info (default), warn or error\n"
	"  --log-format FMT   text (default) or json: one JSON object a log line\n"
	"                     (also FLINKOPS_LOG_FORMAT)\n"
	"  -h, --help         this help; 'flinkops VERB --help' for a verb\n"
	"  --version          print the version and the libraries in use\n";

/* hidden: git (fetch, diff and status pushes by hand, for tests and
 * benchmarks; see cmd_git.c) and flink (one Flink REST call or jar fetch by
 * hand, for tests and diagnosis; see cmd_flink.c) */
const cli_verb *const cli_verbs[] = {
	&cli_verb_validate, &cli_verb_render, &cli_verb_sync, &cli_verb_agent, &cli_verb_plan,
	&cli_verb_wait, &cli_verb_status, &cli_verb_explain, &cli_verb_completion, &cli_verb_git, &cli_verb_flink,
};
const size_t cli_nverbs = FO_ARRAY_LEN(cli_verbs);

enum { G_HELP = 'h', G_VERSION = 256, G_LOG_LEVEL, G_LOG_FORMAT };
/* Read by hand below, not with getopt: getopt keeps its ordering from its
 * first call in a process, and each verb's own getopt_long must be that
 * first call to permute its options. */
const struct option cli_global_options[] = {
	{"log-level", required_argument, NULL, G_LOG_LEVEL},
	{"log-format", required_argument, NULL, G_LOG_FORMAT},
	{"help", no_argument, NULL, G_HELP},
	{"version", no_argument, NULL, G_VERSION},
	{NULL, 0, NULL, 0},
};
const char cli_global_optstring[] = "h";

static void print_version(void)
{
	int maj, min, rev;
	git_libgit2_version(&maj, &min, &rev);
	printf("flinkops %s (%s)\n", FO_VERSION, FO_GIT_REV);
	printf("libgit2 %d.%d.%d, %s, libyaml %s, cJSON %s\n", maj, min, rev,
	       curl_version(), yaml_get_version_string(), cJSON_Version());
}

static int run(int argc, char **argv);

/* The global option `arg` names ("--NAME", or "-X" of cli_global_optstring), or NULL. */
static const struct option *global_option(const char *arg)
{
	bool shrt = arg[0] == '-' && arg[1] && arg[1] != '-' && !arg[2] && strchr(cli_global_optstring, arg[1]);
	if (!shrt && strncmp(arg, "--", 2) != 0)
		return NULL;
	for (const struct option *o = cli_global_options; o->name; o++)
		if (shrt ? o->val == arg[1] : strcmp(arg + 2, o->name) == 0)
			return o;
	return NULL;
}

int main(int argc, char **argv)
{
	/* libcurl's global state is set up once, before anything could start a thread */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	sync_global_init(); /* libgit2, bounded for a long-running process */
	int status;
	if (!sync_worker_main(argc, argv, &status))
		status = run(argc, argv);
	git_libgit2_shutdown();
	curl_global_cleanup();
	return status;
}

static int run(int argc, char **argv)
{
	/* the environment first, so that a flag overrides it */
	const char *env_format = getenv("FLINKOPS_LOG_FORMAT");
	if (env_format && *env_format && cli_log_format(env_format, "FLINKOPS_LOG_FORMAT") < 0)
		return EXIT_FAIL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		const struct option *o = global_option(a);
		if (!o || (o->has_arg == required_argument && i + 1 >= argc)) {
			fprintf(stderr, "flinkops: unknown option \"%s\"\nRun 'flinkops --help' for usage.\n", a);
			return EXIT_FAIL;
		}
		switch (o->val) {
		case G_HELP:
			fputs(usage, stdout);
			return EXIT_OK;
		case G_VERSION:
			print_version();
			return EXIT_OK;
		case G_LOG_LEVEL: {
			int lvl = fo_log_level_parse(argv[++i]);
			if (lvl < 0) {
				fprintf(stderr, "flinkops: unknown log level \"%s\" (debug, info, warn, error)\n", argv[i]);
				return EXIT_FAIL;
			}
			fo_log_set_level((enum fo_log_level)lvl);
			break;
		}
		case G_LOG_FORMAT:
			if (cli_log_format(argv[++i], "--log-format") < 0)
				return EXIT_FAIL;
			break;
		}
	}
	if (i >= argc) {
		fputs(usage, stderr);
		return EXIT_FAIL;
	}
	for (size_t v = 0; v < cli_nverbs; v++)
		if (strcmp(argv[i], cli_verbs[v]->name) == 0)
			return cli_verbs[v]->run(argc - i, argv + i);
	fprintf(stderr, "flinkops: unknown verb \"%s\"\nRun 'flinkops --help' for the verbs.\n", argv[i]);
	return EXIT_FAIL;
}
