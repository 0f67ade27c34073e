/*
 * `flinkops render PATH`: print the Kubernetes objects that FlinkDeployments
 * become, as a YAML stream or a JSON List. Nothing is printed to stdout
 * unless every input is valid, so that a pipe into kubectl never gets half.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "render/render.h"

static const char usage[] =
	"usage: flinkops render [-o yaml|json] PATH...\n"
	"\n"
	"Print the Kubernetes objects each FlinkDeployment becomes: the ConfigMap\n"
	"flink-config-NAME, the Services NAME, NAME-rest and NAME-taskmanager, and\n"
	"the StatefulSets NAME-jobmanager and NAME-taskmanager. PATH is a file or a\n"
	"folder. Rendering is deterministic: the same input prints the same bytes.\n"
	"\n"
	"  -o, --output FORMAT   yaml (default, one document an object) or json (a List)\n"
	"  -h, --help            this help\n"
	"\n"
	"Exit status: 0 on success, 1 when any input is invalid (nothing printed).\n";

static const struct option options[] = {
	{"output", required_argument, NULL, 'o'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};
static const char *const outputs[] = {"yaml", "json", NULL};

const cli_verb cli_verb_render = {
	.name = "render",
	.run = cmd_render,
	.optstring = "o:h",
	.options = (const struct option *const[]){options, NULL},
	.outputs = outputs,
	.operands = CLI_OPERAND_PATHS,
};

int cmd_render(int argc, char **argv)
{
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_verb_render.optstring, options, NULL)) != -1) {
		switch (c) {
		case 'o': {
			int f = cli_choice("render", "output format", outputs, optarg);
			if (f < 0)
				return EXIT_FAIL;
			json = strcmp(outputs[f], "json") == 0;
			break;
		}
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("render", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("render", "no PATH given");

	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	size_t nfiles = 0;
	int status = EXIT_OK;
	cli_load_manifests(argv + optind, argc - optind, &v, &nfiles, &d);
	cli_print_diags(&d);
	if (d.nerrors) {
		status = EXIT_FAIL;
		goto cleanup;
	}
	if (v.n == 0) {
		fprintf(stderr, "flinkops render: no FlinkDeployment found in %zu file%s\n", nfiles, nfiles == 1 ? "" : "s");
		status = EXIT_FAIL;
		goto cleanup;
	}

	/* Every input is valid here, and rendering a valid model cannot fail, so
	 * each deployment is written as soon as it is rendered: memory stays
	 * flat however many deployments there are. */
	cJSON *list = NULL, *items = NULL;
	if (json) {
		list = cJSON_CreateObject();
		cJSON_AddStringToObject(list, "apiVersion", "v1");
		cJSON_AddStringToObject(list, "kind", "List");
		items = cJSON_AddArrayToObject(list, "items");
	}
	fo_buf out = FO_BUF_INIT;
	for (size_t i = 0; i < v.n && status == EXIT_OK; i++) {
		render_objects objs;
		fo_err e = FO_ERR_INIT;
		if (v.v[i]->snapshot) {
			if (!json)
				printf("# FlinkStateSnapshot %s/%s renders no object: a %s of %s %s, taken by the agent\n",
				       v.v[i]->namespace, v.v[i]->name, v.v[i]->snap.checkpoint ? "checkpoint" : "savepoint",
				       v.v[i]->snap.job_kind ? v.v[i]->snap.job_kind : "no job",
				       v.v[i]->snap.job_name ? v.v[i]->snap.job_name : "(registered: alreadyExists)");
			continue;
		}
		/* a blue/green deployment renders as its blue child, the colour a
		 * first deployment creates (green is the same under its name) */
		const flink_deployment *fd = v.v[i]->bg ? v.v[i]->bg->child[0] : v.v[i];
		if (v.v[i]->bg && !json)
			printf("# FlinkBlueGreenDeployment %s/%s: its template as %s, the colour a first deployment "
			       "creates; an upgrade creates %s beside it, the same objects under that name\n",
			       v.v[i]->namespace, v.v[i]->name, fd->name, v.v[i]->bg->child[1]->name);
		if (render_deployment(fd, &objs, &e) < 0) {
			fprintf(stderr, "flinkops render: %s\n", fo_err_msg(&e));
			fo_err_clear(&e);
			status = EXIT_FAIL;
			break;
		}
		if (json) {
			render_append_items(items, &objs);
		} else if (v.v[i]->session_job) {
			/* nothing of its own: a comment says so, and where it runs */
			printf("# FlinkSessionJob %s/%s renders no object: its job runs on the session cluster %s\n",
			       v.v[i]->namespace, v.v[i]->name, v.v[i]->deployment_name);
		} else {
			fo_buf_clear(&out);
			render_write_yaml(&out, &objs);
			fwrite(fo_buf_cstr(&out), 1, out.len, stdout);
		}
		render_objects_free(&objs);
	}
	fo_buf_free(&out);
	if (json && status == EXIT_OK) {
		char *s = fo_json_print(list, true); /* exact numbers, as applied and hashed */
		puts(s);
		free(s);
	}
	cJSON_Delete(list);

cleanup:
	flink_deployments_free(&v);
	fo_diags_free(&d);
	return status;
}
