/*
 * `flinkops validate PATH...`: parse and check FlinkDeployment files without
 * touching any cluster; every problem printed as file:line:col: message.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "lib/buf.h"

static const char usage[] =
	"usage: flinkops validate [-o text|json] PATH...\n"
	"\n"
	"Parse and check FlinkDeployment and FlinkSessionJob files. PATH is a file or\n"
	"a folder, read recursively for *.yaml and *.yml. A FlinkSessionJob must name\n"
	"a session FlinkDeployment (one without spec.job) of its namespace among them.\n"
	"Documents of other kinds are reported: an error for the upstream operator's\n"
	"kinds flinkops does not run (FlinkStateSnapshot, FlinkBlueGreenDeployment), a\n"
	"warning for the rest, which it does not apply.\n"
	"Every problem is printed on stderr as file:line:col: message.\n"
	"\n"
	"  -o, --output FORMAT   text (default) or json\n"
	"  -h, --help            this help\n"
	"\n"
	"Exit status: 0 when every FlinkDeployment is valid, 1 otherwise.\n";

static void print_json(const flink_deployments *v, const fo_diags *d, size_t nfiles)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "valid", d->nerrors == 0);
	cJSON_AddNumberToObject(o, "files", (double)nfiles);
	cJSON *deps = cJSON_AddArrayToObject(o, "deployments");
	for (size_t i = 0; i < v->n; i++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "namespace", v->v[i]->namespace);
		cJSON_AddStringToObject(x, "name", v->v[i]->name);
		cJSON_AddStringToObject(x, "kind", flink_kind_name(v->v[i]));
		cJSON_AddStringToObject(x, "file", v->v[i]->source);
		cJSON_AddNumberToObject(x, "line", v->v[i]->line);
		cJSON_AddItemToArray(deps, x);
	}
	cJSON *diags = cJSON_AddArrayToObject(o, "diagnostics");
	for (size_t i = 0; i < d->n; i++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "severity", d->v[i].sev == FO_SEV_ERROR ? "error" : "warning");
		cJSON_AddStringToObject(x, "file", d->v[i].file);
		cJSON_AddNumberToObject(x, "line", d->v[i].line);
		cJSON_AddNumberToObject(x, "column", d->v[i].col);
		cJSON_AddStringToObject(x, "message", d->v[i].msg);
		cJSON_AddItemToArray(diags, x);
	}
	char *s = cJSON_Print(o);
	printf("%s\n", s);
	free(s);
	cJSON_Delete(o);
}

int cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "text") != 0)
				return cli_usage_error("validate", "unknown output format \"%s\" (text or json)", optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("validate", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("validate", "no PATH given");

	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	size_t nfiles = 0;
	cli_load_manifests(argv + optind, argc - optind, &v, &nfiles, &d);
	flink_note_defaults(&v, &d);
	if (json) {
		print_json(&v, &d, nfiles);
	} else {
		cli_print_diags(&d);
		for (size_t i = 0; i < v.n; i++)
			printf("%s: %s %s/%s is valid\n", v.v[i]->source, flink_kind_name(v.v[i]), v.v[i]->namespace,
			       v.v[i]->name);
		if (d.nerrors)
			fprintf(stderr, "%zu error%s in %zu file%s\n", d.nerrors, d.nerrors == 1 ? "" : "s", nfiles,
				nfiles == 1 ? "" : "s");
		else if (v.n == 0)
			fprintf(stderr, "no FlinkDeployment found in %zu file%s\n", nfiles, nfiles == 1 ? "" : "s");
	}
	int status = d.nerrors ? EXIT_FAIL : EXIT_OK;
	flink_deployments_free(&v);
	fo_diags_free(&d);
	return status;
}
