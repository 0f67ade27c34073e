/*
 * Fuzz target "roundtrip": what we write must read back.
 *
 * The bytes as a FlinkDeployment file (as `validate` and `render` take
 * one). For every deployment that validates, each rendered object is
 * written as YAML (`render -o yaml`, status files' writer) and as JSON
 * (`render -o json`, compact as in apply bodies, canonical as hashed), and
 * each text is read back with our reader (JSON is YAML): all equal the
 * object rendered, the content hash computed on what was read back is the
 * hash the object carries, the JSON is UTF-8, and cJSON reads it too. The
 * rendered objects agree with the model: the Flink configuration file
 * holds every key of spec.flinkConfiguration with its value as a string
 * (Flink 1.19 on: read as YAML), and the user's labels are on every object.
 * Every plain scalar in what we wrote, key or value, is a number, bool or
 * null, or a string fo_yaml_plain_safe passes (the predicate that speaks
 * for YAML 1.1 readers too; tests/roundtrip/check asks PyYAML itself).
 *
 * The same bytes, then, as text from outside in a status file: the whole
 * input as the message, each line a field (some set with
 * flink_status_set, some put in the field directly), however long, not
 * UTF-8 or full of control characters: the status writes, reads back with
 * flink_status_parse, and writes again to the same bytes, which
 * flink_status_same agrees with.
 */
#include "tests/fuzz/fuzz.h"

#include "deploy/snapshot.h"
#include "flink/flink.h"
#include "flink/rest.h"
#include "flink/status.h"
#include "lib/yaml.h"
#include "render/render.h"

/* Every plain scalar we wrote is one no YAML reader takes for anything
 * else, keys included: a string only where fo_yaml_plain_safe says so (our
 * reader follows YAML 1.2 alone; the predicate speaks for 1.1 as well). */
static void check_plain(const char *what, const fo_yaml_node *n)
{
	if (n->kind == FO_YAML_SCALAR) {
		bool b;
		double d;
		FUZZ_CHECK(!n->plain || fo_yaml_plain_safe(n->str) || fo_yaml_is_null(n) || fo_yaml_as_bool(n, &b) ||
				   fo_yaml_as_number(n, &d),
			   "%s holds the plain scalar \"%s\" at %d:%d, which a YAML reader may take for another type",
			   what, n->str, n->line, n->col);
		/* a number YAML 1.1 reads as one too: digits, or a dot in it
		 * (1e+17 is a string to PyYAML) */
		const char *digits = n->str + (n->str[0] == '-');
		FUZZ_CHECK(!n->plain || !fo_yaml_as_number(n, &d) || strchr(n->str, '.') ||
				   strspn(digits, "0123456789") == strlen(digits),
			   "%s holds the number %s at %d:%d, which YAML 1.1 reads as a string", what, n->str, n->line,
			   n->col);
		return;
	}
	size_t count = n->kind == FO_YAML_MAP ? 2 * n->n : n->n;
	for (size_t i = 0; i < count; i++) {
		const fo_yaml_node *c = n->items[i];
		if (n->kind == FO_YAML_MAP && i % 2 == 0)
			FUZZ_CHECK(!c->plain || fo_yaml_plain_safe(c->str),
				   "%s holds the plain key \"%s\" at %d:%d, which a YAML reader may take for another type",
				   what, c->str, c->line, c->col);
		else
			check_plain(what, c);
	}
}

/* `text` read back with our reader as one document, as JSON. */
static cJSON *read_back(const char *what, const char *text, size_t len)
{
	fo_yaml_limits lim = {0};
	lim.max_bytes = 256u << 20;
	fo_yaml_file *f = NULL;
	fo_diags d = FO_DIAGS_INIT;
	int rc = fo_yaml_load(what, text, len, &lim, &f, &d);
	FUZZ_CHECK(rc == 0 && f->ndocs == 1, "%s does not read back: %s\n%s", what, d.n ? d.v[0].msg : "?", text);
	if (f->docs[0])
		check_plain(what, f->docs[0]);
	cJSON *j = fo_yaml_to_json(f->docs[0]);
	fo_yaml_file_free(f);
	fo_diags_free(&d);
	return j;
}

/* `text` must read back as `obj`, and hash as `obj` says it does. */
static void check_text(const char *what, const cJSON *obj, const char *text, size_t len)
{
	cJSON *back = read_back(what, text, len);
	if (!fuzz_json_equal(obj, back)) {
		char *a = fo_json_print(obj, false), *b = fo_json_print(back, false);
		FUZZ_CHECK(false, "%s reads back different\nrendered: %s\nread:     %s", what, a, b);
	}
	char *h = render_compute_hash(back);
	const char *want = render_object_hash(obj);
	FUZZ_CHECK(want && strcmp(h, want) == 0, "%s: the hash of what reads back is %s, the object says %s", what, h,
		   want ? want : "nothing");
	free(h);
	cJSON_Delete(back);
}

static void check_object(const cJSON *obj)
{
	fo_buf y = FO_BUF_INIT;
	fo_yaml_emit(&y, obj);
	check_text("the YAML", obj, fo_buf_cstr(&y), y.len);
	/* the canonical form (hashed) is the compact one with keys sorted:
	 * the hash check covers it */
	char *compact = fo_json_print(obj, false), *pretty = fo_json_print(obj, true);
	check_text("the compact JSON", obj, compact, strlen(compact));
	check_text("the formatted JSON", obj, pretty, strlen(pretty));
	FUZZ_CHECK(fuzz_str_utf8(compact) && fuzz_str_utf8(pretty), "the JSON is not UTF-8: %s", compact);
	cJSON *parsed = cJSON_Parse(compact);
	FUZZ_CHECK(parsed != NULL, "cJSON does not read our JSON: %s", compact);
	cJSON_Delete(parsed);
	free(compact);
	free(pretty);
	fo_buf_free(&y);
}

/* The rendered objects say what the model says. */
static void check_model(const flink_deployment *fd, const render_objects *o)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(o->v[RENDER_CONFIGMAP], "data");
	const char *file = render_conf_file_name(fd);
	const char *conf = fo_json_str(data, file);
	FUZZ_CHECK(conf != NULL, "the ConfigMap lacks %s", file);
	if (strcmp(file, "config.yaml") == 0) {
		cJSON *m = read_back("config.yaml", conf, strlen(conf));
		for (size_t i = 0; i < fd->conf.n; i++) {
			if (fo_has_prefix(fd->conf.v[i].key, "kubernetes.operator."))
				continue;
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, fd->conf.v[i].key);
			FUZZ_CHECK(cJSON_IsString(v) && strcmp(v->valuestring, fd->conf.v[i].value) == 0,
				   "config.yaml reads \"%s\" as %s, not the string \"%s\"\n%s", fd->conf.v[i].key,
				   v ? fo_json_print(v, false) : "nothing", fd->conf.v[i].value, conf);
		}
		cJSON_Delete(m);
	}
	for (size_t k = 0; k < o->n && fd->labels; k++) {
		if (!o->v[k])
			continue;
		const cJSON *labels =
			cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o->v[k], "metadata"), "labels");
		/* on the Ingress, spec.ingress.labels win over the deployment's */
		const cJSON *own = k == RENDER_INGRESS && fd->ingress ? fd->ingress->labels : NULL;
		for (const cJSON *l = fd->labels->child; l; l = l->next) {
			const char *want = own && fo_json_str(own, l->string) ? fo_json_str(own, l->string) : l->valuestring;
			if (!fo_has_prefix(l->string, "app.kubernetes.io/"))
				FUZZ_CHECK(fo_streq(fo_json_str(labels, l->string), want),
					   "label \"%s\" is not \"%s\" on object %zu", l->string, want, k);
		}
	}
	/* and spec.ingress's own labels and annotations reach the Ingress as written */
	const cJSON *ing = o->v[RENDER_INGRESS];
	FUZZ_CHECK((ing != NULL) == (fd->ingress != NULL), "an Ingress rendered %s spec.ingress", ing ? "without" : "for");
	for (int part = 0; ing && part < 2; part++) {
		const cJSON *src = part ? fd->ingress->annotations : fd->ingress->labels;
		const cJSON *got = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ing, "metadata"),
								    part ? "annotations" : "labels");
		for (const cJSON *l = src ? src->child : NULL; l; l = l->next)
			FUZZ_CHECK(fo_streq(fo_json_str(got, l->string), l->valuestring), "Ingress %s \"%s\" is not \"%s\"",
				   part ? "annotation" : "label", l->string, l->valuestring);
	}
}

/* A session job has no objects: what it sends is its run request, whose
 * flinkConfiguration must carry each of its job's options as it is. */
static void check_session_job(const flink_deployment *fd)
{
	flink_run_opts ro = {0};
	ro.args = (const char *const *)fd->job.args;
	ro.nargs = fd->job.nargs;
	ro.conf = &fd->conf;
	char *body = flink_rest_run_body(&ro);
	cJSON *j = cJSON_Parse(body);
	FUZZ_CHECK(j != NULL, "the run request is not JSON: %s", body);
	const cJSON *conf = cJSON_GetObjectItemCaseSensitive(j, "flinkConfiguration");
	for (size_t i = 0; i < fd->conf.n; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(conf, fd->conf.v[i].key);
		bool passed = flink_session_conf_passed(fd->conf.v[i].key);
		FUZZ_CHECK(passed ? cJSON_IsString(v) && strcmp(v->valuestring, fd->conf.v[i].value) == 0 : v == NULL,
			   "run request: \"%s\" %s\n%s", fd->conf.v[i].key, passed ? "not carried as it is" : "carried", body);
	}
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(j, "programArgsList");
	FUZZ_CHECK((size_t)cJSON_GetArraySize(args) == fd->job.nargs, "run request: %d args, not %zu",
		   cJSON_GetArraySize(args), fd->job.nargs);
	cJSON_Delete(j);
	free(body);
}

/* A snapshot writes only its record: what it would record of its spec
 * reads back the same. */
static void check_snapshot(const flink_deployment *fd)
{
	deploy_snapshot_rec r;
	memset(&r, 0, sizeof(r));
	r.state = fd->snap.already_exists ? DEPLOY_SNAP_COMPLETED : DEPLOY_SNAP_IN_PROGRESS;
	r.type = fd->snap.checkpoint ? "checkpoint" : "savepoint";
	r.job_kind = fd->snap.job_kind;
	r.job_name = fd->snap.job_name;
	r.cluster = fd->snap.job_name ? fd->snap.job_name : "none";
	r.job_id = "0123456789abcdef0123456789abcdef";
	r.trigger_id = "0123456789abcdef0123456789abcdef";
	r.path = fd->snap.path ? fd->snap.path : "file:/x";
	r.dispose = fd->snap.dispose_on_delete;
	char *hash = deploy_snapshot_spec_hash(fd);
	r.spec_hash = hash;
	char *text = deploy_snapshot_encode(&r);
	deploy_snapshot_rec back;
	fo_err e = FO_ERR_INIT;
	int rc = deploy_snapshot_decode(text, &back, &e);
	FUZZ_CHECK(rc == 0, "snapshot %s/%s: its record does not read back: %s\n%s", fd->namespace, fd->name,
		   fo_err_msg(&e), text);
	FUZZ_CHECK(fo_streq(back.path, r.path) && fo_streq(back.job_name, r.job_name) && back.dispose == r.dispose &&
			   fo_streq(back.spec_hash, hash),
		   "snapshot %s/%s: its record reads back different\n%s", fd->namespace, fd->name, text);
	deploy_snapshot_rec_clear(&back);
	fo_err_clear(&e);
	free(text);
	free(hash);
}

static void check_deployment(const flink_deployment *fd)
{
	if (fd->snapshot) {
		check_snapshot(fd);
		return;
	}
	if (fd->session_job) {
		check_session_job(fd);
		return;
	}
	if (fd->bg) {
		/* nothing of its own: its two children are deployments */
		render_objects none;
		fo_err ne = FO_ERR_INIT;
		FUZZ_CHECK(render_deployment(fd, &none, &ne) < 0, "a FlinkBlueGreenDeployment %s/%s rendered itself",
			   fd->namespace, fd->name);
		fo_err_clear(&ne);
		check_deployment(fd->bg->child[0]);
		check_deployment(fd->bg->child[1]);
		return;
	}
	render_objects o;
	fo_err e = FO_ERR_INIT;
	int rc = render_deployment(fd, &o, &e);
	FUZZ_CHECK(rc == 0, "a valid deployment %s/%s does not render: %s", fd->namespace, fd->name, fo_err_msg(&e));
	for (size_t i = 0; i < o.n; i++)
		if (o.v[i])
			check_object(o.v[i]);
	check_model(fd, &o);
	render_objects_free(&o);
}

/* Put `v` in `field`: through the setter, or as it is (a field filled
 * without the setter must write as stably). */
static void put_field(char **field, const char *v, bool setter)
{
	if (setter) {
		flink_status_set(field, v);
	} else {
		free(*field);
		*field = fo_strdup(v);
	}
}

static void check_status(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	flink_status *s = flink_status_new("default", "fuzz");
	s->phase = (enum flink_phase)(size ? data[0] % 8 : 0);
	s->job.restarts = size > 1 ? data[1] : 0;
	put_field(&s->message, text, size > 2 && data[2] & 1);
	char **top[] = {&s->source.path,       &s->source.blob,     &s->source.commit,   &s->observed_commit,
			&s->failed_commit,     &s->job.id,          &s->job.state,       &s->job.start_time,
			&s->last_savepoint.path, &s->last_savepoint.time, &s->update_time};
	size_t n = 0;
	for (char *line = text, *next; line && n < 200; line = next, n++) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		bool setter = n % 3 != 0;
		if (n < FO_ARRAY_LEN(top)) {
			put_field(top[n], line, setter);
			continue;
		}
		size_t k = n - FO_ARRAY_LEN(top);
		if (k % 4 == 0) {
			flink_status_add_history(s, line, (enum flink_phase)(k % 8), line, setter ? line : NULL);
			continue;
		}
		flink_status_history *h = &s->history[0];
		put_field(k % 4 == 1 ? &h->job_id : k % 4 == 2 ? &h->started_from.path : &h->stopped_with.path, line,
			  setter);
		if (k % 4 == 2)
			put_field(&h->started_from.kind, "checkpoint", true);
	}
	fo_buf a = FO_BUF_INIT, b = FO_BUF_INIT;
	flink_status_write(s, &a);
	FUZZ_CHECK(a.len <= FLINK_STATUS_FILE_MAX, "a status of %zu bytes was written", a.len);
	flink_status *back = NULL;
	fo_err e = FO_ERR_INIT;
	int rc = flink_status_parse("status.yaml", fo_buf_cstr(&a), a.len, &back, &e);
	FUZZ_CHECK(rc == 0, "a status we wrote does not read back: %s\n%s", fo_err_msg(&e), fo_buf_cstr(&a));
	flink_status_write(back, &b);
	FUZZ_CHECK(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0, "written again, the status differs\n%s\n----\n%s",
		   fo_buf_cstr(&a), fo_buf_cstr(&b));
	FUZZ_CHECK(flink_status_same(s, back), "the status read back is not the same");
	flink_status_free(back);
	flink_status_free(s);
	fo_buf_free(&a);
	fo_buf_free(&b);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	size_t skipped = 0;
	flink_load_buffer("fuzz.yaml", (const char *)data, size, &v, &skipped, &d);
	flink_check_repository(&v, &d);
	for (size_t i = 0; i < v.n; i++)
		check_deployment(v.v[i]);
	flink_deployments_free(&v);
	fo_diags_free(&d);
	check_status(data, size);
	return 0;
}
