/*
 * Fuzz target "status": the bytes as a status file (flink_status_parse).
 * Beyond no crash, leak or undefined behaviour: a status that parses is
 * written (flink_status_write), the text parses again, and writing that
 * gives the same bytes — a status file the agent rewrites without a change
 * makes no commit. Then the same status with the input text as its message,
 * repeated past FLINK_STATUS_STRING_MAX (the writer cuts a long message, as
 * one from a server can be), must write and parse back too.
 */
#include "tests/fuzz/fuzz.h"

#include "flink/status.h"
#include "lib/buf.h"

/* Write `s`, parse the text, and require the same bytes when written again. */
static void write_read(const flink_status *s)
{
	fo_buf a = FO_BUF_INIT, b = FO_BUF_INIT;
	flink_status_write(s, &a);
	flink_status *back = NULL;
	fo_err e = FO_ERR_INIT;
	int rc = flink_status_parse("written.yaml", fo_buf_cstr(&a), a.len, &back, &e);
	FUZZ_CHECK(rc == 0, "a written status does not parse: %s\n---\n%s", fo_err_msg(&e), fo_buf_cstr(&a));
	flink_status_write(back, &b);
	FUZZ_CHECK(a.len == b.len && memcmp(fo_buf_cstr(&a), fo_buf_cstr(&b), a.len) == 0,
		   "a written status reads back different\n--- written\n%s--- read and written\n%s", fo_buf_cstr(&a),
		   fo_buf_cstr(&b));
	FUZZ_CHECK(flink_status_same(s, back), "flink_status_same says the status changed");
	flink_status_free(back);
	fo_buf_free(&a);
	fo_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	flink_status *s = NULL;
	fo_err e = FO_ERR_INIT;
	if (flink_status_parse("fuzz.yaml", (const char *)data, size, &s, &e) == 0) {
		write_read(s);
		char *text = fuzz_cstr(data, size);
		if (*text) {
			fo_buf m = FO_BUF_INIT;
			while (m.len <= FLINK_STATUS_STRING_MAX)
				fo_buf_puts(&m, text);
			flink_status_set(&s->message, fo_buf_cstr(&m));
			write_read(s);
			fo_buf_free(&m);
		}
		free(text);
		flink_status_free(s);
	} else {
		FUZZ_CHECK(!s && e.msg, "a failed parse must say why");
	}
	fo_err_clear(&e);
	return 0;
}
