/*
 * Fuzz target "yaml": lib/yaml's loader (fo_yaml_load, default limits) on the
 * raw bytes. Beyond no crash, leak or undefined behaviour it checks the
 * promise that what we write reads back: every document that loads is
 * turned into JSON (fo_yaml_to_json), written out (fo_yaml_emit), and that
 * text must load again as one document with the same JSON (fo_json_hash).
 * The reload may be larger than the input (aliases are expanded, strings
 * quoted), so it gets a larger byte limit; the content must be equal.
 */
#include "tests/fuzz/fuzz.h"

#include "lib/yaml.h"

static void round_trip(const fo_yaml_node *doc)
{
	cJSON *j = fo_yaml_to_json(doc);
	fo_buf text = FO_BUF_INIT;
	fo_yaml_emit(&text, j);
	fo_yaml_limits lim = {0};
	lim.max_bytes = 256u << 20;
	fo_yaml_file *back = NULL;
	fo_diags d = FO_DIAGS_INIT;
	int rc = fo_yaml_load("emitted.yaml", fo_buf_cstr(&text), text.len, &lim, &back, &d);
	FUZZ_CHECK(rc == 0, "the emitted YAML does not load: %s\n---\n%s", d.n ? d.v[0].msg : "?", fo_buf_cstr(&text));
	FUZZ_CHECK(back->ndocs == 1, "the emitted YAML holds %zu documents\n---\n%s", back->ndocs, fo_buf_cstr(&text));
	cJSON *j2 = fo_yaml_to_json(back->docs[0]);
	if (!fuzz_json_equal(j, j2)) {
		char *a = cJSON_PrintUnformatted(j), *b = cJSON_PrintUnformatted(j2);
		FUZZ_CHECK(false, "the emitted YAML reads back different\nwritten: %s\nread:    %s\n---\n%s", a, b,
			   fo_buf_cstr(&text));
	}
	cJSON_Delete(j2);
	fo_yaml_file_free(back);
	fo_diags_free(&d);
	fo_buf_free(&text);
	cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fo_yaml_file *f = NULL;
	fo_diags d = FO_DIAGS_INIT;
	if (fo_yaml_load("fuzz.yaml", (const char *)data, size, NULL, &f, &d) == 0) {
		FUZZ_CHECK(d.nerrors == 0, "loaded with %zu errors", d.nerrors);
		for (size_t i = 0; i < f->ndocs; i++)
			round_trip(f->docs[i]);
		fo_yaml_file_free(f);
	} else {
		FUZZ_CHECK(f == NULL && d.nerrors > 0, "a failed load must leave a diagnostic and no file");
	}
	fo_diags_free(&d);
	return 0;
}
