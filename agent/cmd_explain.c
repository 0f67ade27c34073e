/*
 * `flinkops explain [PATH]`: what flinkops does with a field of a manifest
 * or a configuration key, its default, and how that differs from the
 * upstream operator, answered from the tables the validator reads
 * (flink/fields.c), so that it says what the code does.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "flink/fields.h"
#include "lib/buf.h"

static const char usage[] =
	"usage: flinkops explain [-o text|json|yaml] [PATH]\n"
	"\n"
	"Say what flinkops does with a field of a manifest or a configuration key: its\n"
	"type, its default, what flinkops does with it and how that differs from the\n"
	"upstream Flink Kubernetes Operator; a mapping's fields one a line. The answer\n"
	"comes from the tables the validator reads.\n"
	"\n"
	"  PATH is a field (spec.job.upgradeMode; a kind first for another kind than\n"
	"  FlinkDeployment: FlinkSessionJob.spec.deploymentName), a kind alone, or a\n"
	"  configuration key: flinkConfiguration.KEY (spec.flinkConfiguration.KEY;\n"
	"  FlinkBlueGreenDeployment.spec.configuration.KEY for blue/green settings).\n"
	"  Without PATH: the kinds and their fields.\n"
	"\n"
	"  -o, --output FORMAT   text (default), json or yaml\n"
	"  -h, --help            this help\n"
	"\n"
	"Exit status: 0, or 1 for a path flinkops does not know (with the nearest).\n";

static const struct option options[] = {
	{"output", required_argument, NULL, 'o'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

const cli_verb cli_verb_explain = {
	.name = "explain",
	.run = cmd_explain,
	.optstring = "o:h",
	.options = (const struct option *const[]){options, NULL},
	.outputs = cli_outputs,
	.operands = CLI_OPERAND_WORD,
};

/* `text` after a label of `indent` columns, wrapped at 78 columns. */
static void put_wrapped(fo_buf *b, const char *label, size_t indent, const char *text)
{
	fo_buf_printf(b, "  %-*s", (int)(indent - 2), label);
	size_t col = indent;
	const char *p = text;
	while (*p) {
		size_t w = strcspn(p, " ");
		if (col > indent && col + 1 + w > 78) {
			fo_buf_printf(b, "\n%*s", (int)indent, "");
			col = indent;
		} else if (col > indent) {
			fo_buf_putc(b, ' ');
			col++;
		}
		fo_buf_put(b, p, w);
		col += w;
		p += w;
		while (*p == ' ')
			p++;
	}
	fo_buf_putc(b, '\n');
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The names of the strings of array `a`, joined with ", ". */
static void put_names(fo_buf *b, const cJSON *a)
{
	const cJSON *x;
	bool first = true;
	cJSON_ArrayForEach(x, a)
	{
		fo_buf_printf(b, "%s%s", first ? "" : ", ", x->valuestring);
		first = false;
	}
}

static void print_kinds(const cJSON *answer)
{
	fo_buf b = FO_BUF_INIT;
	fo_buf_puts(&b, "The kinds flinkops reads ('flinkops explain KIND' or 'KIND.PATH' for more):\n");
	const cJSON *k;
	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(answer, "kinds"))
	{
		fo_buf_printf(&b, "\n%s\n", str(k, "kind"));
		put_wrapped(&b, "", 4, str(k, "flinkops"));
		fo_buf names = FO_BUF_INIT;
		fo_buf_puts(&names, "");
		const cJSON *f;
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(k, "fields"))
		{
			fo_buf_printf(&names, "%s%s", names.len ? ", " : "", str(f, "name"));
		}
		put_wrapped(&b, "  fields:", 12, fo_buf_cstr(&names));
		const cJSON *spec = cJSON_GetObjectItemCaseSensitive(k, "spec");
		if (spec) {
			fo_buf_clear(&names);
			put_names(&names, spec);
			put_wrapped(&b, "  spec:", 12, fo_buf_cstr(&names));
		}
		fo_buf_free(&names);
	}
	fputs(fo_buf_cstr(&b), stdout);
	fo_buf_free(&b);
}

static void print_text(const cJSON *answer)
{
	if (cJSON_GetObjectItemCaseSensitive(answer, "kinds") && !str(answer, "path")) {
		print_kinds(answer);
		return;
	}
	fo_buf b = FO_BUF_INIT;
	const char *path = str(answer, "path");
	fo_buf_printf(&b, "%s%s%s\n", str(answer, "kind"), *path ? " " : "", path);
	put_wrapped(&b, "type", 12, str(answer, "type"));
	put_wrapped(&b, "default", 12, str(answer, "default"));
	put_wrapped(&b, "flinkops", 12, str(answer, "flinkops"));
	put_wrapped(&b, "upstream", 12, str(answer, "upstream"));
	if (str(answer, "note"))
		put_wrapped(&b, "note", 12, str(answer, "note"));
	const cJSON *kinds = cJSON_GetObjectItemCaseSensitive(answer, "kinds");
	if (cJSON_GetArraySize(kinds) > 1) {
		fo_buf also = FO_BUF_INIT;
		put_names(&also, kinds);
		put_wrapped(&b, "kinds", 12, fo_buf_cstr(&also));
		fo_buf_free(&also);
	}
	const cJSON *fields = cJSON_GetObjectItemCaseSensitive(answer, "fields");
	if (fields) {
		size_t w = 0;
		const cJSON *f;
		cJSON_ArrayForEach(f, fields)
		{
			if (strlen(str(f, "name")) > w)
				w = strlen(str(f, "name"));
		}
		fo_buf_puts(&b, "fields:\n");
		cJSON_ArrayForEach(f, fields)
		{
			fo_buf_printf(&b, "  %-*s  %s\n", (int)w, str(f, "name"), str(f, "summary"));
		}
	}
	fputs(fo_buf_cstr(&b), stdout);
	fo_buf_free(&b);
}

int cmd_explain(int argc, char **argv)
{
	bool json = false, yaml = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_verb_explain.optstring, options, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (cli_output("explain", optarg, &json, &yaml) < 0)
				return EXIT_FAIL;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("explain", "unknown option");
		}
	}
	if (argc - optind > 1)
		return cli_usage_error("explain", "unexpected argument \"%s\" (one PATH at most)", argv[optind + 1]);
	cJSON *answer = NULL;
	fo_err e = FO_ERR_INIT;
	if (flink_explain(optind < argc ? argv[optind] : NULL, &answer, &e) < 0) {
		fprintf(stderr, "flinkops explain: %s\n", fo_err_msg(&e));
		fo_err_clear(&e);
		return EXIT_FAIL;
	}
	if (json)
		cli_print_answer(answer, yaml);
	else
		print_text(answer);
	cJSON_Delete(answer);
	return EXIT_OK;
}
