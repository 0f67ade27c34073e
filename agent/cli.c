/*
 * Shared pieces of the verbs: printing diagnostics, usage errors, loading
 * manifests from local paths.
 */
#include "agent/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/duration.h"
#include "lib/fs.h"
#include "lib/log.h"

const char *const cli_log_formats[] = {"text", "json", NULL};

int cli_log_format(const char *value, const char *where)
{
	size_t i = 0;
	while (cli_log_formats[i] && strcmp(value, cli_log_formats[i]) != 0)
		i++;
	if (!cli_log_formats[i]) {
		fprintf(stderr, "flinkops: %s: unknown log format \"%s\" (text or json)\n", where, value);
		return -1;
	}
	fo_log_set_json(strcmp(value, "json") == 0);
	return 0;
}

bool cli_is_daemon(const char *verb)
{
	return verb && strcmp(verb, "agent") == 0;
}

void cli_report(const char *verb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = fo_vasprintf(fmt, ap);
	va_end(ap);
	if (cli_is_daemon(verb))
		fo_error("agent", "%s", m);
	else
		fprintf(stderr, "flinkops %s: %s\n", verb, m);
	free(m);
}

void cli_print_diags(const fo_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		char *line = fo_diag_format(&d->v[i]);
		fprintf(stderr, "%s\n", line);
		free(line);
	}
	if (d->nerrors + 0 > d->n)
		fprintf(stderr, "(%zu more problems not shown)\n", d->nerrors - d->n);
}

void cli_report_diags(const char *verb, const fo_diags *d)
{
	if (!cli_is_daemon(verb)) {
		cli_print_diags(d);
		return;
	}
	for (size_t i = 0; i < d->n; i++) {
		char *line = fo_diag_format(&d->v[i]);
		fo_warn("agent", "%s", line);
		free(line);
	}
	if (d->nerrors > d->n)
		fo_warn("agent", "(%zu more problems not shown)", d->nerrors - d->n);
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = fo_vasprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "flinkops %s: %s\nRun 'flinkops %s --help' for usage.\n", verb, m, verb);
	free(m);
	return EXIT_FAIL;
}

void cli_options_join(struct option *out, size_t cap, const struct option *a, const struct option *b)
{
	const struct option *tables[] = {a, b};
	size_t n = 0;
	for (size_t k = 0; k < FO_ARRAY_LEN(tables); k++)
		for (const struct option *t = tables[k]; t && t->name; t++) {
			if (n + 1 >= cap) {
				fprintf(stderr, "flinkops: the option tables do not fit (%zu entries)\n", cap);
				abort();
			}
			out[n++] = *t;
		}
	memset(&out[n], 0, sizeof(out[n]));
}

void cli_print_answer(const cJSON *v, bool yaml)
{
	if (yaml) {
		fo_buf b = FO_BUF_INIT;
		fo_yaml_emit(&b, v);
		fwrite(fo_buf_cstr(&b), 1, b.len, stdout);
		fo_buf_free(&b);
		return;
	}
	char *s = cJSON_Print(v);
	puts(s);
	free(s);
}

int cli_choice(const char *verb, const char *what, const char *const *choices, const char *value)
{
	size_t n = 0;
	for (; choices[n]; n++)
		if (strcmp(value, choices[n]) == 0)
			return (int)n;
	fo_buf list = FO_BUF_INIT;
	for (size_t i = 0; i < n; i++)
		fo_buf_printf(&list, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", choices[i]);
	cli_usage_error(verb, "unknown %s \"%s\" (%s)", what, value, fo_buf_cstr(&list));
	fo_buf_free(&list);
	return -1;
}

const char *const cli_outputs[] = {"text", "json", "yaml", NULL};

int cli_output(const char *verb, const char *value, bool *json, bool *yaml)
{
	int f = cli_choice(verb, "output format", cli_outputs, value);
	if (f < 0)
		return -1;
	*json = f != 0;
	*yaml = strcmp(cli_outputs[f], "yaml") == 0;
	return 0;
}

int cli_max_state_age(const char *value, int64_t *ms)
{
	fo_err e = FO_ERR_INIT;
	int rc = fo_duration_parse(value, ms, &e);
	if (rc == 0 && *ms <= 0)
		rc = fo_err_set(&e, FO_EINVAL, "it must be above zero");
	if (rc < 0) {
		cli_usage_error("plan", "--max-state-age \"%s\": %s", value, fo_err_msg(&e));
		rc = -1;
	}
	fo_err_clear(&e);
	return rc;
}

int cli_load_manifests(char **paths, int npaths, flink_deployments *out, size_t *nfiles, fo_diags *d)
{
	fo_paths files = {0};
	int rc = 0;
	for (int i = 0; i < npaths; i++) {
		fo_err e = FO_ERR_INIT;
		if (fo_fs_collect(paths[i], &files, &e) < 0) {
			fo_diag_add(d, FO_SEV_ERROR, paths[i], 0, 0, "%s", fo_err_msg(&e));
			rc = FO_EINVAL;
		}
		fo_err_clear(&e);
	}
	for (size_t i = 0; i < files.n; i++)
		if (flink_load_file(files.v[i], out, NULL, d) < 0)
			rc = FO_EINVAL;
	if (flink_check_repository(out, d))
		rc = FO_EINVAL;
	*nfiles = files.n;
	fo_paths_free(&files);
	return rc;
}
