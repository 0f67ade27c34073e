/*
 * Unit tests for render/: golden files (tests/golden/NAME.yaml renders to
 * NAME.out.yaml; run with FO_UPDATE_GOLDEN=1 to rewrite them after a change
 * that was checked by hand), determinism, which hashes move for which change,
 * the example of docs/flinkdeployment.md, and that every line of Flink's configuration file
 * comes from a key: no value, however YAML-like, is read as a setting.
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
#include "lib/yaml.h"
#include "render/render.h"
#include "want.h"

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
	"  image: flink:1.20\n  flinkVersion: v1_20\n"
	"  flinkConfiguration:\n    a.one: x\n    b.two: y\n"
	"  jobManager: {resource: {memory: 1g}}\n"
	"  taskManager: {resource: {memory: 2g}}\n"
	"  job: {jarURI: s3://b/j.jar, parallelism: 2, upgradeMode: savepoint}\n";

/* spec.ingress as upstream's advanced example writes it renders the Ingress
 * upstream's documentation shows (one rule: host, and the path to the REST
 * Service), with flinkops' labels and hash; without spec.ingress, none. */
static void test_ingress(void **state)
{
	(void)state;
	static const char text[] =
		"apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\n"
		"metadata: {name: advanced-ingress, namespace: default}\nspec:\n"
		"  image: flink:1.20\n  flinkVersion: v1_20\n"
		"  ingress:\n"
		"    template: \"flink.k8s.io/{{namespace}}/{{name}}(/|$)(.*)\"\n"
		"    className: nginx\n"
		"    annotations:\n      nginx.ingress.kubernetes.io/rewrite-target: \"/$2\"\n"
		"    labels: {team: data}\n"
		"    tls:\n    - hosts: [flink.k8s.io]\n      secretName: flink-tls\n"
		"  jobManager: {resource: {memory: 1g}}\n"
		"  taskManager: {resource: {memory: 2g}, replicas: 1}\n";
	static const char want[] =
		"{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"Ingress\",\"metadata\":{\"name\":\"advanced-ingress\","
		"\"namespace\":\"default\",\"labels\":{\"app.kubernetes.io/managed-by\":\"flinkops\","
		"\"app.kubernetes.io/name\":\"flink\",\"app.kubernetes.io/instance\":\"advanced-ingress\","
		"\"app.kubernetes.io/component\":\"ingress\",\"team\":\"data\"},\"annotations\":{"
		"\"nginx.ingress.kubernetes.io/rewrite-target\":\"/$2\"}},\"spec\":{\"ingressClassName\":\"nginx\","
		"\"tls\":[{\"hosts\":[\"flink.k8s.io\"],\"secretName\":\"flink-tls\"}],\"rules\":[{\"host\":\"flink.k8s.io\","
		"\"http\":{\"paths\":[{\"path\":\"/default/advanced-ingress(/|$)(.*)\",\"pathType\":\"ImplementationSpecific\","
		"\"backend\":{\"service\":{\"name\":\"advanced-ingress-rest\",\"port\":{\"number\":8081}}}}]}}]}}";
	flink_deployment *fd = parse_text("ing", text);
	render_objects o;
	assert_int_equal(render_deployment(fd, &o, NULL), 0);
	cJSON *ing = o.v[RENDER_INGRESS];
	assert_non_null(ing);
	/* the hash is the content's */
	char *h = render_compute_hash(ing);
	assert_string_equal(h, render_object_hash(ing));
	free(h);
	cJSON *bare = cJSON_Duplicate(ing, true);
	cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(bare, "metadata"),
										 "annotations"),
						RENDER_ANNOTATION_HASH);
	cJSON *expect = cJSON_Parse(want);
	assert_non_null(expect);
	if (!cJSON_Compare(bare, expect, true)) {
		char *got = cJSON_PrintUnformatted(bare);
		fail_msg("got %s", got);
	}
	cJSON_Delete(expect);
	cJSON_Delete(bare);
	/* written as YAML, the Ingress is one more document, after the rest */
	char *y = render_text(fd);
	assert_non_null(strstr(y, "kind: Ingress"));
	assert_true(strstr(y, "kind: Ingress") > strstr(y, "name: advanced-ingress-taskmanager"));
	free(y);
	render_objects_free(&o);
	flink_deployment_free(fd);

	/* without spec.ingress: no Ingress, and no empty document */
	flink_deployment *plain = parse_text("plain", base);
	assert_int_equal(render_deployment(plain, &o, NULL), 0);
	assert_null(o.v[RENDER_INGRESS]);
	char *py = render_text(plain);
	assert_null(strstr(py, "Ingress"));
	assert_null(strstr(py, "---\n---"));
	free(py);
	render_objects_free(&o);
	flink_deployment_free(plain);
}

/* A session cluster whose manifest lets its deletion kill jobs no
 * FlinkSessionJob manages carries that on its JobManager, where it is read
 * once the manifest is gone; by default (and under the old key name too)
 * nothing is rendered, so no existing cluster changes. */
static void test_unmanaged_jobs_annotation(void **state)
{
	(void)state;
	static const struct {
		const char *conf;
		const char *want; /* the annotation, or NULL */
	} cases[] = {
		{"", NULL},
		{"    kubernetes.operator.session.deletion.block-on-unmanaged-jobs: \"true\"\n", NULL},
		{"    kubernetes.operator.session.deletion.block-on-unmanaged-jobs: \"false\"\n", "true"},
		{"    kubernetes.operator.session.block-on-unmanaged-jobs: \"false\"\n", "true"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		char *text = fo_asprintf("apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: s}\n"
					 "spec:\n  image: flink:1.20\n  flinkVersion: v1_20\n  flinkConfiguration:\n"
					 "    a: b\n%s  jobManager: {resource: {memory: 1g}}\n"
					 "  taskManager: {resource: {memory: 2g}, replicas: 1}\n",
					 cases[i].conf);
		flink_deployment *fd = parse_text("s", text);
		render_objects o;
		assert_int_equal(render_deployment(fd, &o, NULL), 0);
		const char *got = render_object_annotation(o.v[RENDER_STATEFULSET_JOBMANAGER], RENDER_ANNOTATION_DELETE_UNMANAGED);
		if (!fo_streq(got, cases[i].want))
			fail_msg("case %zu: %s", i, got ? got : "(none)");
		render_objects_free(&o);
		flink_deployment_free(fd);
		free(text);
	}
}

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
		bool changes[RENDER_NCOMPONENTS]; /* cm, svc, rest, tm-svc, jm-sts, tm-sts, ingress */
		bool target, job; /* render_target_hash, render_job_hash: memory, image and
				   * configuration move the target, never the job hash */
	} cases[] = {
		{"memory: 2g}}", "memory: 3g}}", {true, false, false, false, true, true}, true, false},
		{"image: flink:1.20", "image: flink:1.20.1", {false, false, false, false, true, true}, true, false},
		{"parallelism: 2,", "parallelism: 3,", {true, false, false, false, true, true}, true, true},
		{"jarURI: s3://b/j.jar", "jarURI: s3://b/k.jar", {false, false, false, false, true, false}, true, true},
		{"upgradeMode: savepoint", "upgradeMode: stateless", {false, false, false, false, false, false}, false, false},
		{"a.one: x", "a.one: z", {true, false, false, false, true, true}, true, false},
		/* an Ingress comes and goes by itself: nothing restarts */
		{"image: flink:1.20\n", "image: flink:1.20\n  ingress: {template: \"/{{name}}(/|$)(.*)\"}\n",
		 {false, false, false, false, false, false, true}, false, false},
	};
	char *ta = NULL, *ja = NULL;
	flink_deployment *a = parse_text("a", base);
	render_objects ra;
	assert_int_equal(render_deployment(a, &ra, NULL), 0);
	ta = render_target_hash(&ra);
	ja = render_job_hash(a);
	assert_non_null(ta);
	char *ta2 = render_target_hash_of(a);
	assert_string_equal(ta, ta2); /* the same target, however it is asked for */
	free(ta2);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = strstr(base, cases[i].from);
		assert_non_null(p);
		char *t = fo_asprintf("%.*s%s%s", (int)(p - base), base, cases[i].to, p + strlen(cases[i].from));
		flink_deployment *b = parse_text("b", t);
		render_objects rb;
		assert_int_equal(render_deployment(b, &rb, NULL), 0);
		for (int k = 0; k < RENDER_NCOMPONENTS; k++) {
			bool moved = !fo_streq(render_object_hash(ra.v[k]), render_object_hash(rb.v[k]));
			if (moved != cases[i].changes[k])
				fail_msg("%s -> %s: object %d hash %s", cases[i].from, cases[i].to, k,
					 moved ? "changed but should not" : "should change");
			if (!rb.v[k])
				continue;
			/* the stamped hash is the hash of the content */
			char *h = render_compute_hash(rb.v[k]);
			assert_string_equal(h, render_object_hash(rb.v[k]));
			free(h);
		}
		char *tb = render_target_hash(&rb), *jb = render_job_hash(b);
		if ((strcmp(ta, tb) != 0) != cases[i].target || (strcmp(ja, jb) != 0) != cases[i].job)
			fail_msg("%s -> %s: target %s, job hash %s", cases[i].from, cases[i].to,
				 strcmp(ta, tb) ? "moved" : "same", strcmp(ja, jb) ? "moved" : "same");
		free(tb);
		free(jb);
		render_objects_free(&rb);
		flink_deployment_free(b);
		free(t);
	}
	free(ta);
	free(ja);
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

static void test_docs_example(void **state)
{
	(void)state;
	char *page = read_all(FO_SRCDIR "/docs/flinkdeployment.md");
	const char *marker = "<!-- example: my-flink-cluster -->";
	char *at = strstr(page, marker);
	assert_non_null(at);
	char *start = strstr(at, "```yaml\n");
	assert_non_null(start);
	start += strlen("```yaml\n");
	char *end = strstr(start, "```");
	assert_non_null(end);
	char *example = fo_strndup(start, (size_t)(end - start));
	/* the page and the example repository carry the same file */
	char *file = read_all(FO_SRCDIR "/examples/repo/jobs/my-flink-cluster.yaml");
	assert_string_equal(example, file);

	flink_deployment *fd = parse_text("docs/flinkdeployment.md", example);
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
	free(page);
}

/* ---- Flink's configuration file: one line per key, whatever the values ---- */

/* Values that pass validation but mean something to a YAML reader or to
 * Flink's legacy line reader. */
static const char *const tricky_values[] = {
	"rocksdb: rest.port: 9999", "x # rest.port: 9999", "#rest.port: 9999", "- rest.port: 9999",
	"? rest.port", "{rest.port: 9999}", "[rest.port, 9999]", "'quoted'", "\"double\"", "&anchor x",
	"*alias", "!tag x", "| rest.port: 9999", "> rest.port: 9999", "%YAML 1.2", "@at", "`tick`", "---",
	"...", "yes", "null", "~", "1:30", "0x1f", "1e3", "trailing space ", " leading space",
	"back\\nslash", "\u00e9t\u00e9 \u2713", "rest.port:9999", "a: b: c", "k=v, rest.port: 9999",
};

/* The manifest for a Flink version with every tricky value, and a few
 * unusual keys that are still Flink keys. */
static char *tricky_manifest(const char *version)
{
	fo_buf b = FO_BUF_INIT;
	fo_buf_printf(&b, "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: wc}\nspec:\n"
			  "  image: flink:%s\n  flinkVersion: \"%s\"\n  jobManager: {resource: {memory: 1g}}\n"
			  "  taskManager: {resource: {memory: 2g}, replicas: 1}\n  flinkConfiguration:\n",
		      version, version);
	for (size_t i = 0; i < FO_ARRAY_LEN(tricky_values); i++) {
		fo_buf_printf(&b, "    t.v%zu: ", i);
		fo_buf_put_json_string(&b, tricky_values[i]); /* a JSON string is a YAML double-quoted scalar */
		fo_buf_putc(&b, '\n');
	}
	fo_buf_puts(&b, "    $internal.pipeline.job-id: x\n    containerized.master.env.JAVA_HOME: /opt/java\n"
			"    fs.s3a.bucket.b-1/x_y: z\n");
	return fo_buf_detach(&b);
}

/* The configuration file the ConfigMap holds. */
static const char *conf_text(const render_objects *o, const char *file)
{
	const char *t = fo_json_str(cJSON_GetObjectItem(o->v[RENDER_CONFIGMAP], "data"), file);
	assert_non_null(t);
	return t;
}

static char *trim(const char *s, size_t n)
{
	while (n && (unsigned char)*s <= ' ')
		s++, n--;
	while (n && (unsigned char)s[n - 1] <= ' ')
		n--;
	return fo_strndup(s, n);
}

/*
 * Check a flink-conf.yaml text the way Flink's legacy reader takes it
 * (GlobalConfiguration.loadYAMLResource: '#' starts a comment, the first
 * ": " ends the key, both sides trimmed): each line that is not our comment
 * is "KEY: " and one of `want`'s keys, each key on one line, and Flink reads
 * that line as KEY or skips it, never as another key.
 */
static void check_legacy(const char *text, const flink_kvs *want)
{
	size_t lines = 0;
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (len && line[0] != '#') {
			lines++;
			const char *sep = memchr(line, ':', len);
			assert_non_null(sep);
			char *written = fo_strndup(line, (size_t)(sep - line));
			if (!flink_conf_get(want, written))
				fail_msg("the line \"%.*s\" sets \"%s\", which is no key of the model", (int)len, line, written);
			size_t conf = strcspn(line, "#");
			if (conf > len)
				conf = len;
			char *body = trim(line, conf);
			char *split = strstr(body, ": ");
			if (split) {
				char *read = trim(body, (size_t)(split - body));
				if (strcmp(read, written) != 0)
					fail_msg("Flink reads the line \"%.*s\" as key \"%s\"", (int)len, line, read);
				free(read);
			}
			free(body);
			free(written);
		}
		line += len + (nl ? 1 : 0);
	}
	assert_int_equal(lines, want->n);
}

/* Check a config.yaml text as a YAML reader takes it: exactly `want`. */
static void check_yaml(const char *text, const flink_kvs *want)
{
	fo_yaml_file *f = NULL;
	fo_diags d = FO_DIAGS_INIT;
	assert_int_equal(fo_yaml_load("config.yaml", text, strlen(text), NULL, &f, &d), 0);
	const fo_yaml_node *m = f->docs[0];
	assert_int_equal(m->kind, FO_YAML_MAP);
	assert_int_equal(m->n, want->n);
	for (size_t i = 0; i < m->n; i++) {
		const fo_yaml_node *k = m->items[2 * i], *v = m->items[2 * i + 1];
		const char *expect = flink_conf_get(want, k->str);
		if (!expect)
			fail_msg("config.yaml sets \"%s\", which is no key of the model", k->str);
		if (v->kind != FO_YAML_SCALAR || strcmp(v->str, expect) != 0)
			fail_msg("config.yaml reads \"%s\" as \"%s\", not \"%s\"", k->str,
				 v->kind == FO_YAML_SCALAR ? v->str : "(not a scalar)", expect);
	}
	fo_yaml_file_free(f);
	fo_diags_free(&d);
}

static void test_conf_lines_only_from_keys(void **state)
{
	(void)state;
	static const char *const versions[] = {"1.17", "1.20"};
	for (size_t vi = 0; vi < FO_ARRAY_LEN(versions); vi++) {
		char *text = tricky_manifest(versions[vi]);
		flink_deployment *fd = parse_text("tricky.yaml", text);
		assert_int_equal(fd->conf.n, FO_ARRAY_LEN(tricky_values) + 3);
		render_objects o;
		assert_int_equal(render_deployment(fd, &o, NULL), 0);
		const char *conf = conf_text(&o, render_conf_file_name(fd));
		/* what flinkops sets, then the user's keys over it */
		flink_kvs want = {0};
		flink_kvs user = fd->conf;
		fd->conf = (flink_kvs){0};
		render_objects plain;
		assert_int_equal(render_deployment(fd, &plain, NULL), 0);
		fd->conf = user;
		const char *ours = conf_text(&plain, render_conf_file_name(fd));
		for (const char *line = ours; *line; line = strchr(line, '\n') + 1) {
			if (line[0] != '#') {
				char *k = fo_strndup(line, strcspn(line, ":"));
				flink_kvs_set(&want, k, "");
				free(k);
			}
		}
		for (size_t i = 0; i < fd->conf.n; i++)
			flink_kvs_set(&want, fd->conf.v[i].key, fd->conf.v[i].value);
		if (strcmp(versions[vi], "1.17") == 0) {
			check_legacy(conf, &want);
		} else {
			/* flinkops' own values are checked by the golden files */
			fo_yaml_file *f = NULL;
			fo_diags d = FO_DIAGS_INIT;
			assert_int_equal(fo_yaml_load("c", ours, strlen(ours), NULL, &f, &d), 0);
			for (size_t i = 0; i < f->docs[0]->n; i++) {
				const fo_yaml_node *k = f->docs[0]->items[2 * i];
				if (!flink_conf_get(&user, k->str))
					flink_kvs_set(&want, k->str, f->docs[0]->items[2 * i + 1]->str);
			}
			fo_yaml_file_free(f);
			fo_diags_free(&d);
			check_yaml(conf, &want);
		}
		flink_kvs_free(&want);
		render_objects_free(&plain);
		render_objects_free(&o);
		flink_deployment_free(fd);
		free(text);
	}
}

/* A model that did not come from the parser (or a parser that let something
 * through) still cannot add a line: rendering refuses it. */
static void test_render_refuses_line_breaks(void **state)
{
	(void)state;
	static const struct {
		const char *key, *value, *job_savepoint_dir;
	} cases[] = {
		{"state.backend", "rocksdb\nrest.port: 9999", NULL},
		{"state.backend", "rocksdb\rrest.port: 9999", NULL},
		{"rest.port: 9999 #", "x", NULL},
		{"a\nrest.port", "9999", NULL},
		{NULL, NULL, "s3://b/sp\nrest.port: 9999"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		flink_deployment *fd = parse_text("a", base);
		if (cases[i].key)
			flink_kvs_set(&fd->conf, cases[i].key, cases[i].value);
		if (cases[i].job_savepoint_dir) {
			free(fd->job.savepoint_dir);
			fd->job.savepoint_dir = fo_strdup(cases[i].job_savepoint_dir);
		}
		render_objects o;
		fo_err e = FO_ERR_INIT;
		assert_int_equal(render_deployment(fd, &o, &e), FO_EINVAL);
		if (!strstr(fo_err_msg(&e), "default/wc: flinkConfiguration \"") || fo_has_ctl(fo_err_msg(&e)))
			fail_msg("case %zu: %s", i, fo_err_msg(&e));
		fo_err_clear(&e);
		flink_deployment_free(fd);
	}
}

/* The main container of a rendered StatefulSet. */
static const cJSON *main_container(const render_objects *o, int which)
{
	const cJSON *spec = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o->v[which], "spec"), "template"), "spec");
	return cJSON_GetArrayItem(cJSON_GetObjectItem(spec, "containers"), 0);
}

/* Whether a container's args hold "-D jobmanager.rpc.address=$(POD_IP)" and
 * its env POD_IP from the pod's status.podIP. */
static bool advertises_pod_ip(const cJSON *c)
{
	bool arg = false, env = false;
	const cJSON *args = cJSON_GetObjectItem(c, "args");
	for (int i = 0; i + 1 < cJSON_GetArraySize(args); i++)
		arg = arg || (strcmp(cJSON_GetArrayItem(args, i)->valuestring, "-D") == 0 &&
			      strcmp(cJSON_GetArrayItem(args, i + 1)->valuestring, "jobmanager.rpc.address=$(POD_IP)") == 0);
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(c, "env"))
	{
		const cJSON *ref = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "valueFrom"), "fieldRef");
		env = env || (fo_streq(fo_json_str(e, "name"), "POD_IP") && fo_streq(fo_json_str(ref, "fieldPath"), "status.podIP"));
	}
	assert_true(arg == env);
	return arg && env;
}

/* High availability: what Flink's Kubernetes HA needs is rendered, and
 * nothing of it without HA. */
static void test_high_availability(void **state)
{
	(void)state;
	static const struct {
		const char *conf; /* flinkConfiguration lines */
		bool ha, kubernetes;
	} cases[] = {
		{"    a.one: x\n", false, false},
		{"    high-availability.type: NONE\n", false, false},
		{"    high-availability.type: kubernetes\n    high-availability.storageDir: s3://b/ha\n", true, true},
		{"    high-availability.type: KUBERNETES\n    high-availability.storageDir: s3://b/ha\n", true, true},
		{"    high-availability: kubernetes\n    high-availability.storageDir: s3://b/ha\n", true, true},
		{"    high-availability.type: org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory\n"
		 "    high-availability.storageDir: s3://b/ha\n", true, true},
		{"    high-availability.type: zookeeper\n    high-availability.storageDir: s3://b/ha\n"
		 "    high-availability.zookeeper.quorum: zk:2181\n", true, false},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		char *t = fo_asprintf("apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\n"
				      "metadata: {name: wc, namespace: team}\nspec:\n"
				      "  image: flink:1.20\n  flinkVersion: v1_20\n  flinkConfiguration:\n%s"
				      "  jobManager: {resource: {memory: 1g}, replicas: %d}\n"
				      "  taskManager: {resource: {memory: 2g}}\n"
				      "  job: {jarURI: s3://b/j.jar, parallelism: 2}\n",
				      cases[i].conf, cases[i].ha ? 2 : 1);
		flink_deployment *fd = parse_text("ha", t);
		render_objects o;
		assert_int_equal(render_deployment(fd, &o, NULL), 0);
		const char *conf = conf_text(&o, "config.yaml");
		if (advertises_pod_ip(main_container(&o, RENDER_STATEFULSET_JOBMANAGER)) != cases[i].ha)
			fail_msg("case %zu: the JobManager %s its pod IP", i, cases[i].ha ? "does not advertise" : "advertises");
		/* TaskManagers find the leader through HA, never by a pod IP of theirs */
		assert_false(advertises_pod_ip(main_container(&o, RENDER_STATEFULSET_TASKMANAGER)));
		if ((strstr(conf, "\nhigh-availability.cluster-id: wc\n") != NULL) != cases[i].ha ||
		    (strstr(conf, "\nhigh-availability.jobmanager.port: \"6123\"\n") != NULL) != cases[i].ha)
			fail_msg("case %zu: high-availability.cluster-id/jobmanager.port wrong in\n%s", i, conf);
		/* standby JobManagers: the agent's upload and run reach one replica */
		const cJSON *rest = cJSON_GetObjectItem(o.v[RENDER_SERVICE_REST], "spec");
		if (fo_streq(fo_json_str(rest, "sessionAffinity"), "ClientIP") != cases[i].ha)
			fail_msg("case %zu: sessionAffinity of the REST Service", i);
		if ((strstr(conf, "\nkubernetes.cluster-id: wc\n") != NULL) != cases[i].kubernetes ||
		    (strstr(conf, "\nkubernetes.namespace: team\n") != NULL) != cases[i].kubernetes)
			fail_msg("case %zu: kubernetes.cluster-id/namespace wrong in\n%s", i, conf);
		render_objects_free(&o);
		flink_deployment_free(fd);
		free(t);
	}
}

/* resources.claims reach the container: the spec's, else the template's. */
/* An application cluster's start (issue 21): the job id and the state go
 * into the JobManager's arguments before the job's own, and on annotations
 * its content hash covers; the target (job hash, pod templates) is the
 * same whatever the start, so a new start is never a new target. */
static void test_application_start(void **state)
{
	(void)state;
	flink_deployment *fd = parse_text("app.yaml", "apiVersion: flink.apache.org/v1beta1\n"
						      "kind: FlinkDeployment\n"
						      "metadata: {name: app, namespace: ns}\n"
						      "spec:\n"
						      "  image: reg/app:1\n"
						      "  flinkVersion: v1_20\n"
						      "  jobManager: {resource: {memory: 1g}}\n"
						      "  taskManager: {resource: {memory: 1g}}\n"
						      "  job:\n"
						      "    jarURI: local:///opt/flink/usrlib/app.jar\n"
						      "    entryClass: com.example.App\n"
						      "    args: [--rate, \"5\"]\n"
						      "    allowNonRestoredState: true\n"
						      "    initialSavepointPath: file:/sp/initial\n");
	assert_true(flink_application_cluster(fd));
	render_objects a, b, c;
	fo_err e = FO_ERR_INIT;
	render_start s1 = {"0123456789abcdef0123456789abcdef", "file:/sp/savepoint-1"};
	render_start s2 = {"fedcba9876543210fedcba9876543210", NULL};
	assert_int_equal(render_deployment(fd, &a, &e), 0);
	assert_int_equal(render_deployment_at(fd, &s1, &b, &e), 0);
	assert_int_equal(render_deployment_at(fd, &s2, &c, &e), 0);
	char *ta = render_target_hash(&a), *tb = render_target_hash(&b), *tc = render_target_hash(&c);
	assert_string_equal(ta, tb);
	assert_string_equal(ta, tc);
	const cJSON *jb = b.v[RENDER_STATEFULSET_JOBMANAGER];
	assert_string_not_equal(render_object_hash(a.v[RENDER_STATEFULSET_JOBMANAGER]), render_object_hash(jb));
	assert_string_not_equal(render_object_hash(jb), render_object_hash(c.v[RENDER_STATEFULSET_JOBMANAGER]));
	assert_string_equal(render_object_annotation(jb, RENDER_ANNOTATION_JOB_ID), s1.job_id);
	assert_string_equal(render_object_annotation(jb, RENDER_ANNOTATION_START_FROM), s1.from);
	assert_null(render_object_annotation(c.v[RENDER_STATEFULSET_JOBMANAGER], RENDER_ANNOTATION_START_FROM));
	for (int k = 0; k < RENDER_NCOMPONENTS; k++)
		if (k != RENDER_STATEFULSET_JOBMANAGER)
			assert_true(fo_streq(render_object_hash(a.v[k]), render_object_hash(b.v[k])));
	/* the arguments: every option before the job's own (Flink passes
	 * everything from the first word it does not know to main()) */
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(
		fo_json_find_named(cJSON_GetObjectItemCaseSensitive(
					   cJSON_GetObjectItemCaseSensitive(
						   cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(jb, "spec"), "template"),
						   "spec"),
					   "containers"),
				   RENDER_CONTAINER),
		"args");
	char *got = cJSON_PrintUnformatted(args);
	assert_string_equal(got, "[\"standalone-job\",\"--job-classname\",\"com.example.App\",\"--job-id\","
				 "\"0123456789abcdef0123456789abcdef\",\"--fromSavepoint\",\"file:/sp/savepoint-1\","
				 "\"--allowNonRestoredState\",\"--rate\",\"5\"]");
	free(got);
	/* no start given: the initial savepoint, no job id */
	assert_string_equal(render_object_annotation(a.v[RENDER_STATEFULSET_JOBMANAGER], RENDER_ANNOTATION_START_FROM),
			    "file:/sp/initial");
	assert_null(render_object_annotation(a.v[RENDER_STATEFULSET_JOBMANAGER], RENDER_ANNOTATION_JOB_ID));
	free(ta);
	free(tb);
	free(tc);
	render_objects_free(&a);
	render_objects_free(&b);
	render_objects_free(&c);
	flink_deployment_free(fd);
}

static void test_claims(void **state)
{
	(void)state;
	flink_deployment *fd = parse_text("claims", "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\n"
				       "metadata: {name: wc}\nspec:\n  image: flink:1.20\n  flinkVersion: v1_20\n"
				       "  jobManager:\n    resource: {memory: 1g}\n    podTemplate:\n      spec:\n"
				       "        containers:\n        - name: flink-main-container\n"
				       "          resources: {requests: {memory: 9Gi}, claims: [{name: fpga}]}\n"
				       "  taskManager:\n    replicas: 1\n"
				       "    resources: {requests: {memory: 2g}, claims: [{name: gpu, request: big}]}\n");
	render_objects o;
	assert_int_equal(render_deployment(fd, &o, NULL), 0);
	const cJSON *jm = cJSON_GetObjectItem(main_container(&o, RENDER_STATEFULSET_JOBMANAGER), "resources");
	const cJSON *tm = cJSON_GetObjectItem(main_container(&o, RENDER_STATEFULSET_TASKMANAGER), "resources");
	assert_string_equal(fo_json_str(cJSON_GetObjectItem(jm, "requests"), "memory"), "1024Mi");
	assert_string_equal(fo_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(jm, "claims"), 0), "name"), "fpga");
	assert_string_equal(fo_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(tm, "claims"), 0), "name"), "gpu");
	assert_string_equal(fo_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(tm, "claims"), 0), "request"), "big");
	render_objects_free(&o);
	flink_deployment_free(fd);
}

/* Names up to upstream's 45 characters: every object name fits its kind's
 * limit, and a StatefulSet's name with the 11 characters of the revision
 * hash the controller appends fits a label value (63). Up to 40 the names
 * are upstream's; past it the StatefulSets get NAME-jm and NAME-tm. */
static void test_long_names(void **state)
{
	(void)state;
	static const struct {
		size_t len;
		const char *jm_suffix, *tm_suffix;
	} cases[] = {{1, "-jobmanager", "-taskmanager"},
		     {40, "-jobmanager", "-taskmanager"},
		     {41, "-jm", "-tm"},
		     {45, "-jm", "-tm"}};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		char name[64];
		memset(name, 'a', cases[i].len);
		name[cases[i].len] = '\0';
		char *text = fo_asprintf("apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\n"
					 "metadata: {name: %s}\nspec:\n  image: flink:1.20\n  flinkVersion: v1_20\n"
					 "  jobManager: {resource: {memory: 1g}}\n"
					 "  taskManager: {resource: {memory: 2g}, replicas: 1}\n",
					 name);
		flink_deployment *fd = parse_text("long", text);
		render_objects o;
		assert_int_equal(render_deployment(fd, &o, NULL), 0);
		for (int k = 0; k < RENDER_NCOMPONENTS; k++) {
			if (k == RENDER_INGRESS && !o.v[k])
				continue; /* optional; named as the deployment */
			const char *n = fo_json_str(cJSON_GetObjectItem(o.v[k], "metadata"), "name");
			char *want = render_object_name((enum render_component)k, name);
			assert_string_equal(n, want);
			free(want);
			bool sts = k == RENDER_STATEFULSET_JOBMANAGER || k == RENDER_STATEFULSET_TASKMANAGER;
			bool svc = k != RENDER_CONFIGMAP && !sts;
			if (sts && strlen(n) + 11 > 63)
				fail_msg("len %zu: StatefulSet %s leaves no room for the revision hash", cases[i].len, n);
			if (svc && strlen(n) > 63)
				fail_msg("len %zu: Service %s is longer than a DNS label", cases[i].len, n);
		}
		char *jm = fo_asprintf("%s%s", name, cases[i].jm_suffix), *tm = fo_asprintf("%s%s", name, cases[i].tm_suffix);
		assert_string_equal(fo_json_str(cJSON_GetObjectItem(o.v[RENDER_STATEFULSET_JOBMANAGER], "metadata"), "name"), jm);
		assert_string_equal(fo_json_str(cJSON_GetObjectItem(o.v[RENDER_STATEFULSET_TASKMANAGER], "metadata"), "name"), tm);
		/* the TaskManagers' Service keeps upstream's name */
		char *tms = fo_asprintf("%s-taskmanager", name);
		assert_string_equal(fo_json_str(cJSON_GetObjectItem(o.v[RENDER_STATEFULSET_TASKMANAGER], "spec"), "serviceName"), tms);
		free(jm);
		free(tm);
		free(tms);
		free(text);
		render_objects_free(&o);
		flink_deployment_free(fd);
	}
}

/* Flink's own kubernetes.* pod options, which upstream applies in
 * standalone mode too, land on the rendered pods: over the pod template,
 * under flinkops's own labels; limits are the requests times the factors
 * unless given. */
static void test_flink_pod_options(void **state)
{
	(void)state;
	flink_deployment *fd = parse_text(
		"podopts",
		"apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: wc}\nspec:\n"
		"  image: flink:1.20\n  flinkVersion: v1_20\n  serviceAccount: flink\n"
		"  podTemplate:\n    metadata: {labels: {team: a, tier: x}}\n"
		"    spec:\n      tolerations: [{key: t0, operator: Exists}]\n      imagePullSecrets: [{name: old}]\n"
		"  flinkConfiguration:\n"
		"    kubernetes.container.image.pull-secrets: regcred;old\n"
		"    kubernetes.jobmanager.labels: tier:jm,app.kubernetes.io/instance:nope\n"
		"    kubernetes.jobmanager.annotations: a.example/b:c\n"
		"    kubernetes.taskmanager.node-selector: pool:tm,zone:z1\n"
		"    kubernetes.taskmanager.tolerations: key:gpu,operator:Equal,value:yes,effect:NoSchedule;"
		"Key:spot,Operator:Exists,TolerationSeconds:30\n"
		"    kubernetes.taskmanager.service-account: tm-sa\n"
		"    kubernetes.taskmanager.memory.limit-factor: \"1.5\"\n"
		"    kubernetes.jobmanager.cpu.limit-factor: \"2\"\n"
		"  jobManager: {resource: {memory: 1g, cpu: 0.5}}\n"
		"  taskManager: {resource: {memory: 2g, cpu: 1}, replicas: 1}\n");
	render_objects o;
	assert_int_equal(render_deployment(fd, &o, NULL), 0);
	const cJSON *jt = cJSON_GetObjectItem(cJSON_GetObjectItem(o.v[RENDER_STATEFULSET_JOBMANAGER], "spec"), "template");
	const cJSON *tt = cJSON_GetObjectItem(cJSON_GetObjectItem(o.v[RENDER_STATEFULSET_TASKMANAGER], "spec"), "template");
	const cJSON *jl = cJSON_GetObjectItem(cJSON_GetObjectItem(jt, "metadata"), "labels");
	assert_string_equal(fo_json_str(jl, "tier"), "jm");      /* Flink's option over the template */
	assert_string_equal(fo_json_str(jl, "team"), "a");       /* the template's kept */
	assert_string_equal(fo_json_str(jl, "app.kubernetes.io/instance"), "wc"); /* never overridden */
	assert_string_equal(fo_json_str(cJSON_GetObjectItem(cJSON_GetObjectItem(jt, "metadata"), "annotations"), "a.example/b"), "c");
	const cJSON *js = cJSON_GetObjectItem(jt, "spec"), *ts = cJSON_GetObjectItem(tt, "spec");
	assert_string_equal(fo_json_str(js, "serviceAccountName"), "flink");
	assert_string_equal(fo_json_str(ts, "serviceAccountName"), "tm-sa");
	assert_null(cJSON_GetObjectItem(js, "nodeSelector"));
	assert_string_equal(fo_json_str(cJSON_GetObjectItem(ts, "nodeSelector"), "zone"), "z1");
	const cJSON *tol = cJSON_GetObjectItem(ts, "tolerations");
	assert_int_equal(cJSON_GetArraySize(tol), 3); /* the template's, then Flink's two */
	assert_string_equal(fo_json_str(cJSON_GetArrayItem(tol, 1), "effect"), "NoSchedule");
	assert_string_equal(fo_json_str(cJSON_GetArrayItem(tol, 2), "key"), "spot");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(tol, 2), "tolerationSeconds")->valuedouble, 30);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(js, "tolerations")), 1);
	const cJSON *ps = cJSON_GetObjectItem(js, "imagePullSecrets");
	assert_int_equal(cJSON_GetArraySize(ps), 2); /* old once, regcred */
	const cJSON *jr = cJSON_GetObjectItem(main_container(&o, RENDER_STATEFULSET_JOBMANAGER), "resources");
	const cJSON *tr = cJSON_GetObjectItem(main_container(&o, RENDER_STATEFULSET_TASKMANAGER), "resources");
	assert_string_equal(fo_json_str(cJSON_GetObjectItem(jr, "limits"), "cpu"), "1");
	assert_string_equal(fo_json_str(cJSON_GetObjectItem(jr, "limits"), "memory"), "1024Mi");
	assert_string_equal(fo_json_str(cJSON_GetObjectItem(tr, "limits"), "memory"), "3072Mi");
	assert_string_equal(fo_json_str(cJSON_GetObjectItem(tr, "requests"), "memory"), "2048Mi");
	render_objects_free(&o);
	flink_deployment_free(fd);
}

/* config.yaml (Flink 1.19 on) is standard YAML: a key or value that a YAML
 * 1.1 or 1.2 reader would take for a number, null, bool, float or date is
 * quoted, so Flink reads the string the manifest holds. */
static void test_conf_yaml_quotes_keys_and_values(void **state)
{
	(void)state;
	flink_deployment *fd = parse_text("q", "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\n"
				       "metadata: {name: wc}\nspec:\n  image: flink:1.20\n  flinkVersion: v1_20\n"
				       "  jobManager: {resource: {memory: 1g}}\n  taskManager: {resource: {memory: 2g}, replicas: 1}\n"
				       "  flinkConfiguration:\n    \"1.10\": a\n    \"null\": b\n    \"true\": c\n"
				       "    \"y\": d\n    \"0o17\": e\n"
				       "    v.inf: \"+.inf\"\n    v.Inf: \"+.Inf\"\n    v.nan: \".NaN\"\n"
				       "    v.date: \"2024-01-01t00:00:00z\"\n    v.ts: \"2001-12-14t21:59:43.10-05:00\"\n"
				       "    v.end: \"...\"\n    v.int: \"1_000\"\n    v.hex: \"0x1F\"\n");
	render_objects o;
	assert_int_equal(render_deployment(fd, &o, NULL), 0);
	const char *conf = conf_text(&o, "config.yaml");
	static const char *const lines[] = {
		"\n\"1.10\": a\n", "\n\"null\": b\n", "\n\"true\": c\n", "\n\"y\": d\n", "\n\"0o17\": e\n",
		"\nv.inf: \"+.inf\"\n", "\nv.Inf: \"+.Inf\"\n", "\nv.nan: \".NaN\"\n",
		"\nv.date: \"2024-01-01t00:00:00z\"\n", "\nv.ts: \"2001-12-14t21:59:43.10-05:00\"\n",
		"\nv.end: \"...\"\n", "\nv.int: \"1_000\"\n", "\nv.hex: \"0x1F\"\n",
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(lines); i++)
		if (!strstr(conf, lines[i]))
			fail_msg("config.yaml lacks the line %s in:\n%s", lines[i], conf);
	/* and our reader takes every key and value back as the string meant */
	fo_yaml_file *f = NULL;
	fo_diags d = FO_DIAGS_INIT;
	assert_int_equal(fo_yaml_load("config.yaml", conf, strlen(conf), NULL, &f, &d), 0);
	for (size_t i = 0; i < fd->conf.n; i++) {
		const fo_yaml_node *v = fo_yaml_get(f->docs[0], fd->conf.v[i].key);
		assert_non_null(v);
		cJSON *j = fo_yaml_to_json(v);
		assert_true(cJSON_IsString(j));
		assert_string_equal(j->valuestring, fd->conf.v[i].value);
		cJSON_Delete(j);
	}
	fo_yaml_file_free(f);
	fo_diags_free(&d);
	render_objects_free(&o);
	flink_deployment_free(fd);
}

/* A podTemplate's integers past 2^53 reach the rendered object, its YAML,
 * its JSON and its content hash exactly. */
static void test_pod_template_exact_integers(void **state)
{
	(void)state;
	static const char tmpl[] = "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\n"
				   "metadata: {name: wc}\nspec:\n  image: flink:1.20\n  flinkVersion: v1_20\n"
				   "  jobManager: {resource: {memory: 1g}}\n  taskManager: {resource: {memory: 2g}, replicas: 1}\n"
				   "  podTemplate:\n    spec:\n      securityContext: {runAsUser: %s}\n"
				   "      activeDeadlineSeconds: 123456789012345678\n";
	char *hashes[2], *texts[2];
	static const char *const users[] = {"9007199254740993", "9007199254740992"};
	for (int i = 0; i < 2; i++) {
		char *m = fo_asprintf(tmpl, users[i]);
		flink_deployment *fd = parse_text("big", m);
		render_objects o;
		assert_int_equal(render_deployment(fd, &o, NULL), 0);
		hashes[i] = fo_strdup(render_object_hash(o.v[RENDER_STATEFULSET_JOBMANAGER]));
		fo_buf b = FO_BUF_INIT;
		render_write_yaml(&b, &o);
		texts[i] = fo_buf_detach(&b);
		char *want = fo_asprintf("runAsUser: %s\n", users[i]);
		want_contains(texts[i], want);
		want_contains(texts[i], "activeDeadlineSeconds: 123456789012345678\n");
		free(want);
		render_objects_free(&o);
		flink_deployment_free(fd);
		free(m);
	}
	/* 2^53 + 1 is not 2^53: the hash tells them apart */
	assert_string_not_equal(hashes[0], hashes[1]);
	for (int i = 0; i < 2; i++) {
		free(hashes[i]);
		free(texts[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_files),
		cmocka_unit_test(test_application_start),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_hash_moves),
		cmocka_unit_test(test_docs_example),
		cmocka_unit_test(test_conf_lines_only_from_keys),
		cmocka_unit_test(test_render_refuses_line_breaks),
		cmocka_unit_test(test_high_availability),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_flink_pod_options),
		cmocka_unit_test(test_conf_yaml_quotes_keys_and_values),
		cmocka_unit_test(test_pod_template_exact_integers),
		cmocka_unit_test(test_ingress),
		cmocka_unit_test(test_unmanaged_jobs_annotation),
	};
	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
