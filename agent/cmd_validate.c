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
	"usage: flinkops validate [-o text|json|yaml] PATH...\n"
	"\n"
	"Parse and check FlinkDeployment and FlinkSessionJob files. PATH is a file or\n"
	"a folder, read recursively for *.yaml and *.yml. A FlinkSessionJob must name\n"
	"a session FlinkDeployment (one without spec.job) of its namespace among them.\n"
	"ServiceAccounts (v1), Roles and RoleBindings (rbac.authorization.k8s.io/v1)\n"
	"are applied as written and checked: a Role may grant only what the agent\n"
	"holds, a RoleBinding binds a Role to ServiceAccounts. Documents of other kinds\n"
	"are reported: an error for another flink.apache.org kind, a warning for the\n"
	"rest, which it does not apply. FlinkStateSnapshots and\n"
	"FlinkBlueGreenDeployments (their template as NAME-blue and NAME-green) are\n"
	"checked too.\n"
	"Every problem is printed on stderr as file:line:col: message.\n"
	"\n"
	"  -o, --output FORMAT   text (default), json or yaml\n"
	"  -h, --help            this help\n"
	"\n"
	"Exit status: 0 when every FlinkDeployment is valid, 1 otherwise.\n";

static const struct option options[] = {
	{"output", required_argument, NULL, 'o'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

const cli_verb cli_verb_validate = {
	.name = "validate",
	.run = cmd_validate,
	.optstring = "o:h",
	.options = (const struct option *const[]){options, NULL},
	.outputs = cli_outputs,
	.operands = CLI_OPERAND_PATHS,
};

/* One valid document in the JSON output. */
static void add_valid(cJSON *arr, const char *kind, const char *ns, const char *name, const char *file, int line)
{
	cJSON *x = cJSON_CreateObject();
	cJSON_AddStringToObject(x, "namespace", ns);
	cJSON_AddStringToObject(x, "name", name);
	cJSON_AddStringToObject(x, "kind", kind);
	cJSON_AddStringToObject(x, "file", file);
	cJSON_AddNumberToObject(x, "line", line);
	cJSON_AddItemToArray(arr, x);
}

static void print_json(const flink_deployments *v, const fo_diags *d, size_t nfiles, bool yaml)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "valid", d->nerrors == 0);
	cJSON_AddNumberToObject(o, "files", (double)nfiles);
	cJSON *deps = cJSON_AddArrayToObject(o, "deployments");
	for (size_t i = 0; i < v->n; i++)
		add_valid(deps, flink_kind_name(v->v[i]), v->v[i]->namespace, v->v[i]->name, v->v[i]->source,
			  v->v[i]->line);
	cJSON *objs = cJSON_AddArrayToObject(o, "objects");
	for (size_t i = 0; i < v->plain.n; i++) {
		const flink_plain *p = v->plain.v[i];
		add_valid(objs, p->kind, p->namespace, p->name, p->source, p->line);
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
	cli_print_answer(o, yaml);
	cJSON_Delete(o);
}

int cmd_validate(int argc, char **argv)
{
	bool json = false, yaml = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_verb_validate.optstring, options, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (cli_output("validate", optarg, &json, &yaml) < 0)
				return EXIT_FAIL;
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
		print_json(&v, &d, nfiles, yaml);
	} else {
		cli_print_diags(&d);
		for (size_t i = 0; i < v.n; i++)
			printf("%s: %s %s/%s is valid\n", v.v[i]->source, flink_kind_name(v.v[i]), v.v[i]->namespace,
			       v.v[i]->name);
		for (size_t i = 0; i < v.plain.n; i++)
			printf("%s: %s %s/%s is valid\n", v.plain.v[i]->source, v.plain.v[i]->kind,
			       v.plain.v[i]->namespace, v.plain.v[i]->name);
		if (d.nerrors)
			fprintf(stderr, "%zu error%s in %zu file%s\n", d.nerrors, d.nerrors == 1 ? "" : "s", nfiles,
				nfiles == 1 ? "" : "s");
		else if (v.n == 0 && v.plain.n == 0)
			fprintf(stderr, "no FlinkDeployment found in %zu file%s\n", nfiles, nfiles == 1 ? "" : "s");
	}
	int status = d.nerrors ? EXIT_FAIL : EXIT_OK;
	flink_deployments_free(&v);
	fo_diags_free(&d);
	return status;
}
