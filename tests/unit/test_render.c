/*
 * Unit tests for render/: golden files (tests/golden/NAME.yaml renders to
 * NAME.out.yaml; run with FO_UPDATE_GOLDEN=1 to rewrite them after a change
 * that was checked by hand), determinism, which hashes move for which change,
 * and the README's example.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flink/flink.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "render/render.h"

#define GOLDEN FO_SRCDIR "/tests/golden"

static flink_deployment *parse_text(const char *name, const char *text)
{
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	int rc = flink_load_buffer(name, text, strlen(text), &v, NULL, &d);
	for (size_t k = 0; k < d.n; k++)
		if (d.v[k].sev == FO_SEV_ERROR)
			fail_msg("%s:%d:%d: %s", name, d.v[k].line, d.v[k].col, d.v[k].msg);
	assert_int_equal(rc, 0);
	assert_int_equal(v.n, 1);
	flink_deployment *fd = v.v[0];
	free(v.v);
	fo_diags_free(&d);
	return fd;
}

static char *render_text(const flink_deployment *fd)
{
	render_objects o;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(render_deployment(fd, &o, &e), 0);
	fo_buf b = FO_BUF_INIT;
	render_write_yaml(&b, &o);
	render_objects_free(&o);
	return fo_buf_detach(&b);
}

static char *read_all(const char *path)
{
	char *s = NULL;
	fo_err e = FO_ERR_INIT;
	if (fo_fs_read(path, 1 << 22, &s, NULL, &e) < 0)
		fail_msg("%s", fo_err_msg(&e));
	return s;
}

static void test_golden_files(void **state)
{
	(void)state;
	DIR *d = opendir(GOLDEN);
	assert_non_null(d);
	struct dirent *ent;
	int checked = 0;
	bool update = getenv("FO_UPDATE_GOLDEN") != NULL;
	while ((ent = readdir(d)) != NULL) {
		if (!fo_has_suffix(ent->d_name, ".yaml") || fo_has_suffix(ent->d_name, ".out.yaml"))
			continue;
		char *in = fo_asprintf(GOLDEN "/%s", ent->d_name);
		char *out = fo_asprintf(GOLDEN "/%.*s.out.yaml", (int)(strlen(ent->d_name) - 5), ent->d_name);
		char *text = read_all(in);
		flink_deployment *fd = parse_text(ent->d_name, text);
		char *got = render_text(fd);
		if (update) {
			FILE *f = fopen(out, "w");
			assert_non_null(f);
			fputs(got, f);
			fclose(f);
		}
		char *want = read_all(out);
		if (strcmp(got, want) != 0)
			fail_msg("%s renders differently from %s (FO_UPDATE_GOLDEN=1 rewrites it after a checked change)",
				 in, out);
		checked++;
		free(want);
		free(got);
		flink_deployment_free(fd);
		free(text);
		free(in);
		free(out);
	}
	closedir(d);
	assert_true(checked >= 4);
}

static const char base[] =
	"apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: wc}\nspec:\n"
	"  image: flink:1.20\n"
	"  flinkConfiguration:\n    a.one: x\n    b.two: y\n"
	"  jobManager: {resource: {memory: 1g}}\n"
	"  taskManager: {resource: {memory: 2g}}\n"
	"  job: {jarURI: s3://b/j.jar, parallelism: 2, upgradeMode: savepoint}\n";

static void test_deterministic(void **state)
{
	(void)state;
	flink_deployment *a = parse_text("a", base);
	char *r1 = render_text(a), *r2 = render_text(a);
	assert_string_equal(r1, r2);
	/* keys in another order in git: the same objects, the same hashes */
	char *reordered = fo_strdup(base);
	char *p = strstr(reordered, "    a.one: x\n    b.two: y\n");
	memcpy(p, "    b.two: y\n    a.one: x\n", strlen("    b.two: y\n    a.one: x\n"));
	flink_deployment *b = parse_text("b", reordered);
	char *r3 = render_text(b);
	assert_string_equal(r1, r3);
	free(r1);
	free(r2);
	free(r3);
	free(reordered);
	flink_deployment_free(a);
	flink_deployment_free(b);
}

/* Which objects' hashes change for which edit: the basis of classifying a
 * change as in place or as an upgrade. */
static void test_hash_moves(void **state)
{
	(void)state;
	static const struct {
		const char *from, *to;
		bool changes[RENDER_NCOMPONENTS]; /* cm, svc, rest, tm-svc, jm-sts, tm-sts */
	} cases[] = {
		{"memory: 2g}}", "memory: 3g}}", {true, false, false, false, true, true}},
		{"image: flink:1.20", "image: flink:1.20.1", {false, false, false, false, true, true}},
		{"parallelism: 2,", "parallelism: 3,", {true, false, false, false, true, true}},
		{"jarURI: s3://b/j.jar", "jarURI: s3://b/k.jar", {false, false, false, false, true, false}},
		{"upgradeMode: savepoint", "upgradeMode: stateless", {false, false, false, false, false, false}},
		{"a.one: x", "a.one: z", {true, false, false, false, true, true}},
	};
	flink_deployment *a = parse_text("a", base);
	render_objects ra;
	assert_int_equal(render_deployment(a, &ra, NULL), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = strstr(base, cases[i].from);
		assert_non_null(p);
		char *t = fo_asprintf("%.*s%s%s", (int)(p - base), base, cases[i].to, p + strlen(cases[i].from));
		flink_deployment *b = parse_text("b", t);
		render_objects rb;
		assert_int_equal(render_deployment(b, &rb, NULL), 0);
		for (int k = 0; k < RENDER_NCOMPONENTS; k++) {
			bool moved = strcmp(render_object_hash(ra.v[k]), render_object_hash(rb.v[k])) != 0;
			if (moved != cases[i].changes[k])
				fail_msg("%s -> %s: object %d hash %s", cases[i].from, cases[i].to, k,
					 moved ? "changed but should not" : "should change");
			/* the stamped hash is the hash of the content */
			char *h = render_compute_hash(rb.v[k]);
			assert_string_equal(h, render_object_hash(rb.v[k]));
			free(h);
		}
		render_objects_free(&rb);
		flink_deployment_free(b);
		free(t);
	}
	render_objects_free(&ra);
	flink_deployment_free(a);
}

/* Every memory quantity under any "resources" must be whole Mi. */
static void check_resources(const cJSON *v, int *seen)
{
	if (!v)
		return;
	if (v->string && strcmp(v->string, "memory") == 0 && cJSON_IsString(v)) {
		const char *s = v->valuestring;
		size_t l = strlen(s);
		if (l < 3 || strcmp(s + l - 2, "Mi") != 0)
			fail_msg("memory \"%s\" is not whole Mi", s);
		for (size_t i = 0; i < l - 2; i++)
			if (s[i] < '0' || s[i] > '9')
				fail_msg("memory \"%s\" is not whole Mi", s);
		(*seen)++;
	}
	for (const cJSON *c = v->child; c; c = c->next)
		check_resources(c, seen);
}

static void test_readme_example(void **state)
{
	(void)state;
	char *readme = read_all(FO_SRCDIR "/README.md");
	const char *marker = "<!-- example: my-flink-cluster -->";
	char *at = strstr(readme, marker);
	assert_non_null(at);
	char *start = strstr(at, "```yaml\n");
	assert_non_null(start);
	start += strlen("```yaml\n");
	char *end = strstr(start, "```");
	assert_non_null(end);
	char *example = fo_strndup(start, (size_t)(end - start));
	/* the README and the example repository carry the same file */
	char *file = read_all(FO_SRCDIR "/examples/repo/jobs/my-flink-cluster.yaml");
	assert_string_equal(example, file);

	flink_deployment *fd = parse_text("README.md", example);
	render_objects o;
	assert_int_equal(render_deployment(fd, &o, NULL), 0);
	const cJSON *jm = o.v[RENDER_STATEFULSET_JOBMANAGER], *tm = o.v[RENDER_STATEFULSET_TASKMANAGER];
	const cJSON *jmc = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(jm, "spec"), "template"), "spec"), "containers"), 0);
	const cJSON *tmc = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(tm, "spec"), "template"), "spec"), "containers"), 0);
	assert_string_equal(fo_json_str(jmc, "image"), "flinkci/flink:1.17.1");
	assert_string_equal(fo_json_str(tmc, "image"), "flinkci/flink:1.17.1");
	const cJSON *jreq = cJSON_GetObjectItem(cJSON_GetObjectItem(jmc, "resources"), "requests");
	const cJSON *treq = cJSON_GetObjectItem(cJSON_GetObjectItem(tmc, "resources"), "requests");
	assert_string_equal(fo_json_str(jreq, "memory"), "1024Mi");
	assert_string_equal(fo_json_str(treq, "memory"), "2048Mi");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(tm, "spec"), "replicas")->valueint, 2);
	int seen = 0;
	for (size_t k = 0; k < o.n; k++)
		check_resources(o.v[k], &seen);
	assert_int_equal(seen, 4); /* requests and limits of two containers */
	render_objects_free(&o);
	flink_deployment_free(fd);
	free(file);
	free(example);
	free(readme);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_files),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_hash_moves),
		cmocka_unit_test(test_readme_example),
	};
	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
