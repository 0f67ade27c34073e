/*
 * Fuzz target "model": the bytes as a FlinkDeployment file, the way
 * `flinkops validate` and `render` take one (flink_load_buffer, then
 * flink_check_repository: names, session jobs tied to their clusters, the
 * clusters sized). Beyond no crash, leak or undefined behaviour: every
 * deployment that validates must render (render_deployment never fails on
 * a valid model; a FlinkSessionJob renders no object but its job hash, a
 * FlinkBlueGreenDeployment none of its own but its two children do),
 * and the rendered YAML stream must load back as one
 * document an object, each with the same JSON as the object rendered — so
 * that what `render` prints is what `sync` applies.
 */
#include "tests/fuzz/fuzz.h"

#include "flink/flink.h"
#include "lib/yaml.h"
#include "lib/util.h"
#include "render/render.h"

static void render_and_reload(const flink_deployment *fd)
{
	render_objects o;
	fo_err e = FO_ERR_INIT;
	int rc = render_deployment(fd, &o, &e);
	if (fd->snapshot) {
		/* never a cluster: rendering one is refused, and it is either a
		 * savepoint or a checkpoint of a named job, or a registered path */
		FUZZ_CHECK(rc < 0 && o.n == 0, "snapshot %s/%s rendered %zu objects", fd->namespace, fd->name, o.n);
		FUZZ_CHECK(fd->snap.job_name || (fd->snap.already_exists && fd->snap.path),
			   "snapshot %s/%s of no job and no path", fd->namespace, fd->name);
		FUZZ_CHECK(!fd->snap.checkpoint || (!fd->snap.path && !fd->snap.already_exists),
			   "checkpoint snapshot %s/%s with a savepoint's fields", fd->namespace, fd->name);
		fo_err_clear(&e);
		render_objects_free(&o);
		return;
	}
	if (fd->bg) {
		/* nothing of its own; its children are deployments named after
		 * it, each labelled with its colour, and each renders */
		FUZZ_CHECK(rc < 0 && o.n == 0, "blue/green %s/%s rendered %zu objects", fd->namespace, fd->name, o.n);
		fo_err_clear(&e);
		render_objects_free(&o);
		for (int c = 0; c < 2; c++) {
			const flink_deployment *ch = fd->bg->child[c];
			FUZZ_CHECK(ch && ch->has_job && fo_has_prefix(ch->name, fd->name) &&
					   fo_streq(ch->bluegreen_of, fd->name) && fo_streq(ch->namespace, fd->namespace),
				   "blue/green %s/%s: child %d is not its own", fd->namespace, fd->name, c);
			const cJSON *l = cJSON_GetObjectItemCaseSensitive(ch->labels, FLINK_BLUEGREEN_TYPE_LABEL);
			FUZZ_CHECK(cJSON_IsString(l) && strcmp(l->valuestring, c ? "GREEN" : "BLUE") == 0,
				   "blue/green %s/%s: child %s without its colour label", fd->namespace, fd->name, ch->name);
			render_and_reload(ch);
		}
		return;
	}
	FUZZ_CHECK(rc == 0, "a valid deployment %s/%s does not render: %s", fd->namespace, fd->name, fo_err_msg(&e));
	if (fd->session_job) {
		FUZZ_CHECK(o.n == 0 && o.job_hash, "session job %s/%s: %zu objects, job hash %s", fd->namespace, fd->name,
			   o.n, o.job_hash ? o.job_hash : "none");
		FUZZ_CHECK(fd->deployment_name != NULL, "session job %s/%s without its cluster", fd->namespace, fd->name);
		render_objects_free(&o);
		return;
	}
	fo_buf text = FO_BUF_INIT;
	render_write_yaml(&text, &o);
	fo_yaml_limits lim = {0};
	lim.max_bytes = 256u << 20;
	fo_yaml_file *back = NULL;
	fo_diags d = FO_DIAGS_INIT;
	rc = fo_yaml_load("rendered.yaml", fo_buf_cstr(&text), text.len, &lim, &back, &d);
	FUZZ_CHECK(rc == 0, "the rendered YAML does not load: %s\n---\n%s", d.n ? d.v[0].msg : "?", fo_buf_cstr(&text));
	size_t nobj = 0;
	for (size_t i = 0; i < o.n; i++)
		nobj += o.v[i] != NULL;
	FUZZ_CHECK(back->ndocs == nobj, "%zu objects rendered, %zu documents read back", nobj, back->ndocs);
	for (size_t i = 0, di = 0; i < o.n; i++) {
		if (!o.v[i])
			continue;
		cJSON *j = fo_yaml_to_json(back->docs[di++]);
		if (!fuzz_json_equal(o.v[i], j)) {
			char *a = cJSON_PrintUnformatted(o.v[i]), *b = cJSON_PrintUnformatted(j);
			FUZZ_CHECK(false, "rendered object %zu reads back different\nrendered: %s\nread:     %s", i, a, b);
		}
		cJSON_Delete(j);
	}
	fo_yaml_file_free(back);
	fo_diags_free(&d);
	fo_buf_free(&text);
	render_objects_free(&o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	size_t skipped = 0;
	int rc = flink_load_buffer("fuzz.yaml", (const char *)data, size, &v, &skipped, &d);
	FUZZ_CHECK((rc == 0) == (d.nerrors == 0), "returned %d with %zu errors", rc, d.nerrors);
	flink_check_repository(&v, &d);
	for (size_t i = 0; i < v.n; i++)
		render_and_reload(v.v[i]);
	flink_deployments_free(&v);
	fo_diags_free(&d);
	return 0;
}
