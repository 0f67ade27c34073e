/*
 * Unit tests for the field tables and `flinkops explain` (flink/fields.c):
 * every field, configuration key and blue/green setting has its texts;
 * every field the validator accepts resolves in explain, and the validator
 * has no list of fields of its own (its sources are read to check that);
 * every flinkConfiguration key the validator reads by name is explained as
 * read, not as passed through; and a few answers as the user sees them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flink/fields.h"
#include "flink/flink.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "want.h"

static void want_text(const char *what, const char *where, const char *s)
{
	if (!s || !*s)
		fail_msg("%s has no %s", where, what);
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* explain `query`: its answer (the caller deletes it), failing the test on an error */
static cJSON *explain_ok(const char *query)
{
	cJSON *a = NULL;
	fo_err e = FO_ERR_INIT;
	if (flink_explain(query, &a, &e) < 0)
		fail_msg("explain %s: %s", query, fo_err_msg(&e));
	fo_err_clear(&e);
	return a;
}

/* explain `query` must fail with a message that holds `want` */
static void explain_fails(const char *query, const char *want)
{
	cJSON *a = NULL;
	fo_err e = FO_ERR_INIT;
	if (flink_explain(query, &a, &e) == 0)
		fail_msg("explain %s succeeded", query);
	assert_null(a);
	want_contains(fo_err_msg(&e), want);
	fo_err_clear(&e);
}

/* (a) every field has its texts, is found at its own path, and is among
 * the fields of its parent, which explain lists */
static void test_every_field_described(void **state)
{
	(void)state;
	size_t n;
	const flink_field *fs = flink_fields(&n);
	assert_true(n > 150);
	for (size_t i = 0; i < n; i++) {
		const flink_field *f = &fs[i];
		char *where = fo_asprintf("%s %s", f->kind, f->path);
		want_text("type", where, f->type);
		want_text("default", where, f->def);
		want_text("description", where, f->what);
		want_text("difference from upstream", where, f->upstream);
		if (flink_field_find(f->kind, f->path) != f)
			fail_msg("%s is not found at its own path", where);
		if (*f->path) {
			const char *dot = strrchr(f->path, '.');
			char *parent = dot ? fo_strndup(f->path, (size_t)(dot - f->path)) : fo_strdup("");
			size_t nc;
			const flink_field **ch = flink_field_children(f->kind, parent, &nc);
			bool listed = false;
			for (size_t c = 0; c < nc && !listed; c++)
				listed = strcmp(flink_field_name(ch[c]), flink_field_name(f)) == 0;
			if (!listed)
				fail_msg("%s is not among the fields of %s", where, parent);
			free(ch);
			free(parent);
		}
		char *q = *f->path ? fo_asprintf("%s.%s", f->kind, f->path) : fo_strdup(f->kind);
		cJSON_Delete(explain_ok(q));
		free(q);
		free(where);
	}
	size_t nk;
	const char *const *kinds = flink_explain_kinds(&nk);
	assert_int_equal(nk, 7);
	for (size_t k = 0; k < nk; k++)
		assert_non_null(flink_field_find(kinds[k], ""));
}

/* (b) every field the validator accepts resolves in explain: for every
 * mapping of every kind, each field flink_field_children gives the
 * validator is explained at that path, with the same texts */
static void test_validator_fields_resolve(void **state)
{
	(void)state;
	size_t n, total = 0;
	const flink_field *fs = flink_fields(&n);
	for (size_t i = 0; i < n; i++) {
		const flink_field *f = &fs[i];
		if (f->flags & (FLINK_FIELD_OPEN | FLINK_FIELD_CONF | FLINK_FIELD_BG_CONF))
			continue;
		size_t nc;
		const flink_field **ch = flink_field_children(f->kind, f->path, &nc);
		for (size_t c = 0; c < nc; c++) {
			char *path = *f->path ? fo_asprintf("%s.%s", f->path, flink_field_name(ch[c]))
					      : fo_strdup(flink_field_name(ch[c]));
			char *q = fo_asprintf("%s.%s", f->kind, path);
			cJSON *a = explain_ok(q);
			const flink_field *own = flink_field_find(f->kind, path);
			assert_non_null(own);
			assert_string_equal(str(a, "flinkops"), own->what);
			assert_string_equal(str(a, "default"), own->def);
			cJSON_Delete(a);
			free(q);
			free(path);
			total++;
		}
		free(ch);
	}
	/* the blue/green template is a FlinkDeployment spec: its fields resolve there too */
	cJSON *a = explain_ok("FlinkBlueGreenDeployment.spec.template.spec.taskManager.resources.claims[0].request");
	assert_string_equal(str(a, "path"), "spec.template.spec.taskManager.resources.claims[].request");
	cJSON_Delete(a);
	assert_true(total > 200);
}

/* The text of file `rel` under the source tree. Caller frees. */
static char *read_source(const char *rel)
{
	char *path = fo_asprintf("%s/%s", FO_SRCDIR, rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot read %s", path);
	fo_buf b = FO_BUF_INIT;
	char chunk[4096];
	size_t got;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fo_buf_put(&b, chunk, got);
	fclose(f);
	free(path);
	fo_buf_puts(&b, "");
	return fo_buf_detach(&b);
}

/* (b) structurally: the validator reads no list of fields of its own, and
 * every mapping it checks is one the table describes (check_fields with a
 * literal path; flink_field_children aborts on any other at run time) */
static void test_validator_has_no_lists(void **state)
{
	(void)state;
	static const char *const sources[] = {"flink/model.c", "flink/plain.c"};
	for (size_t s = 0; s < FO_ARRAY_LEN(sources); s++) {
		char *text = read_source(sources[s]);
		want_lacks(text, "const known[]");
		want_lacks(text, "known_fields(c, rule, path, known");
		size_t calls = 0;
		static const char *const fns[] = {"check_fields(", "known_fields("};
		for (size_t k = 0; k < FO_ARRAY_LEN(fns); k++)
			for (const char *p = strstr(text, fns[k]); p; p = strstr(p + 1, fns[k])) {
				/* the literal path of a call, if any: check_fields(c, m, "spec.image") */
				const char *close = strchr(p, ')');
				const char *q = strchr(p, '"');
				if (!q || !close || q > close)
					continue;
				const char *end = strchr(q + 1, '"');
				char *lit = fo_strndup(q + 1, (size_t)(end - q - 1));
				size_t nk;
				const char *const *kinds = flink_explain_kinds(&nk);
				bool found = false;
				for (size_t i = 0; i < nk && !found; i++)
					found = flink_field_find(kinds[i], lit) != NULL;
				if (!found)
					fail_msg("%s checks the fields of \"%s\", which no kind has in flink/fields.c", sources[s],
						 lit);
				free(lit);
				calls++;
			}
		assert_true(calls > 0);
		free(text);
	}
}

/* Every flinkConfiguration key model.c reads by name ("KEY" in
 * flink_conf_get(&fd->conf, "KEY"), and every kubernetes.operator.* text)
 * is explained as flinkops reads it, never as a key passed through. */
static void test_conf_keys_read_are_explained(void **state)
{
	(void)state;
	char *text = read_source("flink/model.c");
	size_t checked = 0;
	static const char *const marks[] = {"flink_conf_get(&fd->conf, \"", "\"kubernetes.operator."};
	for (size_t m = 0; m < FO_ARRAY_LEN(marks); m++)
		for (const char *p = strstr(text, marks[m]); p; p = strstr(p + 1, marks[m])) {
			const char *q = strchr(p, '"');
			const char *end = q + 1 + strcspn(q + 1, "\"% ");
			if (*end != '"')
				continue; /* a format ("kubernetes.%s.%s") or a message */
			char *key = fo_strndup(q + 1, (size_t)(end - q - 1));
			if (key[strlen(key) - 1] == '.') { /* a prefix: kubernetes.operator. itself */
				free(key);
				continue;
			}
			char *query = fo_asprintf("flinkConfiguration.%s", key);
			cJSON *a = NULL;
			fo_err e = FO_ERR_INIT;
			if (flink_explain(query, &a, &e) < 0)
				fail_msg("model.c reads %s, which explain does not know: %s", key, fo_err_msg(&e));
			fo_err_clear(&e);
			want_lacks(str(a, "flinkops"), "flinkops does not read it");
			cJSON_Delete(a);
			free(query);
			free(key);
			checked++;
		}
	/* the component keys model.c builds with a format */
	static const char *const built[] = {"labels", "annotations", "node-selector", "tolerations", "service-account",
					    "cpu.limit-factor", "memory.limit-factor"};
	for (size_t i = 0; i < FO_ARRAY_LEN(built); i++)
		for (int tm = 0; tm < 2; tm++) {
			char *query = fo_asprintf("flinkConfiguration.kubernetes.%s.%s", tm ? "taskmanager" : "jobmanager",
						  built[i]);
			cJSON *a = explain_ok(query);
			want_lacks(str(a, "flinkops"), "flinkops does not read it");
			cJSON_Delete(a);
			free(query);
		}
	assert_true(checked > 20);
	free(text);
}

/* Every key of the tables has its texts; every operator key explains, the
 * honoured ones from flink_conf_keys, the others with their note. */
static void test_conf_tables(void **state)
{
	(void)state;
	size_t n;
	const flink_conf_key *ks = flink_conf_keys(&n);
	for (size_t i = 0; i < n; i++) {
		want_text("default", ks[i].key, ks[i].def);
		want_text("description", ks[i].key, ks[i].what);
		want_text("difference from upstream", ks[i].key, ks[i].upstream);
		char *q = fo_asprintf("flinkConfiguration.%s%s", ks[i].key, (ks[i].flags & FLINK_CONF_PREFIX) ? "x" : "");
		cJSON *a = explain_ok(q);
		assert_string_equal(str(a, "flinkops"), ks[i].what);
		cJSON_Delete(a);
		free(q);
	}
	const flink_bluegreen_setting *bs = flink_bluegreen_settings(&n);
	for (size_t i = 0; i < n; i++) {
		want_text("default", bs[i].key, bs[i].def);
		want_text("description", bs[i].key, bs[i].what);
		char *q = fo_asprintf("FlinkBlueGreenDeployment.spec.configuration.%s", bs[i].key);
		cJSON *a = explain_ok(q);
		assert_string_equal(str(a, "default"), bs[i].def);
		cJSON_Delete(a);
		free(q);
	}
	const flink_opkey *ops = flink_operator_keys(&n);
	assert_true(n > 70);
	for (size_t i = 0; i < n; i++) {
		char *q = fo_asprintf("flinkConfiguration.kubernetes.operator.%s", ops[i].key);
		cJSON *a = explain_ok(q);
		if (ops[i].note)
			want_contains(str(a, "flinkops"), ops[i].note);
		else
			want_contains(str(a, "type"), "(honoured)");
		cJSON_Delete(a);
		free(q);
	}
}

/* (c) answers as the user sees them */
static void test_answers(void **state)
{
	(void)state;
	cJSON *a = explain_ok("spec.job.upgradeMode");
	assert_string_equal(str(a, "kind"), "FlinkDeployment");
	assert_string_equal(str(a, "path"), "spec.job.upgradeMode");
	assert_string_equal(str(a, "default"), "stateless");
	want_contains(str(a, "type"), "last-state");
	want_contains(str(a, "upstream"), "never falls back");
	cJSON *kinds = cJSON_GetObjectItemCaseSensitive(a, "kinds");
	assert_int_equal(cJSON_GetArraySize(kinds), 2);
	assert_string_equal(cJSON_GetArrayItem(kinds, 1)->valuestring, "FlinkSessionJob");
	cJSON_Delete(a);

	/* a mapping lists its fields in the validator's order */
	a = explain_ok("FlinkStateSnapshot.spec.savepoint");
	cJSON *fields = cJSON_GetObjectItemCaseSensitive(a, "fields");
	assert_int_equal(cJSON_GetArraySize(fields), 4);
	assert_string_equal(str(cJSON_GetArrayItem(fields, 0), "name"), "path");
	assert_string_equal(str(cJSON_GetArrayItem(fields, 3), "name"), "disposeOnDelete");
	cJSON_Delete(a);

	/* the TaskManager's own replicas, its other fields the JobManager's */
	a = explain_ok("spec.taskManager.replicas");
	want_contains(str(a, "default"), "ceil(parallelism / slots)");
	cJSON_Delete(a);
	a = explain_ok("spec.taskManager.resource.memory");
	assert_string_equal(str(a, "path"), "spec.taskManager.resource.memory");
	cJSON_Delete(a);

	/* configuration keys */
	a = explain_ok("flinkConfiguration.kubernetes.operator.savepoint.history.max.count");
	assert_string_equal(str(a, "default"), "10");
	assert_string_equal(str(a, "key"), "kubernetes.operator.savepoint.history.max.count");
	cJSON_Delete(a);
	a = explain_ok("kubernetes.operator.savepoint.history.max.count"); /* alone */
	assert_string_equal(str(a, "path"), "spec.flinkConfiguration.kubernetes.operator.savepoint.history.max.count");
	cJSON_Delete(a);
	a = explain_ok("spec.flinkConfiguration.rest.port");
	want_contains(str(a, "flinkops"), "refused unless written as 8081");
	cJSON_Delete(a);
	a = explain_ok("flinkConfiguration.state.backend.type");
	want_contains(str(a, "flinkops"), "passed to Flink unchanged");
	cJSON_Delete(a);
	a = explain_ok("FlinkSessionJob.flinkConfiguration.taskmanager.numberOfTaskSlots");
	want_contains(str(a, "flinkops"), "an option of the cluster");
	cJSON_Delete(a);
	a = explain_ok("FlinkSessionJob.flinkConfiguration.pipeline.max-parallelism");
	want_contains(str(a, "flinkops"), "with the job's submission");
	cJSON_Delete(a);
	a = explain_ok("flinkops.bluegreen.catch-up.max-lag");
	assert_string_equal(str(a, "kind"), "FlinkBlueGreenDeployment");
	assert_string_equal(str(a, "default"), "1 s");
	cJSON_Delete(a);

	/* inside a map of the user's own, or a part passed through */
	a = explain_ok("spec.podTemplate.spec.containers[0].name");
	assert_string_equal(str(a, "path"), "spec.podTemplate.spec");
	want_contains(str(a, "note"), "containers.name is below spec.podTemplate.spec");
	cJSON_Delete(a);

	/* no path: the kinds */
	a = explain_ok(NULL);
	cJSON *list = cJSON_GetObjectItemCaseSensitive(a, "kinds");
	assert_int_equal(cJSON_GetArraySize(list), 7);
	assert_string_equal(str(cJSON_GetArrayItem(list, 0), "kind"), "FlinkDeployment");
	cJSON_Delete(a);

	/* unknown: the validator's words */
	explain_fails("spec.job.upgradeMod", "FlinkDeployment spec.job: unknown field \"upgradeMod\" (did you mean "
					     "\"upgradeMode\"?)");
	explain_fails("FlinkSessionJob.spec.image", "FlinkSessionJob spec: unknown field \"image\" (known fields: "
						    "deploymentName, job, flinkConfiguration, restartNonce)");
	explain_fails("spec.ingress.tls[0].host", "(did you mean \"hosts\"?)");
	explain_fails("flinkConfiguration.kubernetes.operator.savepoint.history.max.cout",
		      "(did you mean kubernetes.operator.savepoint.history.max.count?)");
	explain_fails("FlinkBlueGreenDeployment.spec.configuration.flinkops.bluegreen.catch-up.maxlag",
		      "(did you mean \"flinkops.bluegreen.catch-up.max-lag\"?)");
	explain_fails("execution.checkpointing.interval", "a configuration key is explained as flinkConfiguration.KEY");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_field_described),   cmocka_unit_test(test_validator_fields_resolve),
		cmocka_unit_test(test_validator_has_no_lists), cmocka_unit_test(test_conf_keys_read_are_explained),
		cmocka_unit_test(test_conf_tables),            cmocka_unit_test(test_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
