/*
 * Fuzz target "s3_error": the XML error body an S3 server answers a failed
 * GET with (flink_jar_s3_error). The first two bytes give the HTTP status
 * (100 to 599) and whether the request was signed; the rest is the body.
 * Beyond no crash, leak or undefined behaviour: the status maps to the
 * documented code, the message names the object, and the message is valid
 * UTF-8 when the body is (it ends up in status files).
 */
#include "tests/fuzz/fuzz.h"

#include "flink/jar.h"

static int expected_code(long status)
{
	switch (status) {
	case 401: return FO_EAUTH;
	case 403: return FO_EFORBIDDEN;
	case 404: return FO_ENOTFOUND;
	default: return status >= 500 ? FO_ESERVER : FO_EINVAL;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	long status = 100 + (long)(((unsigned)data[0] << 8 | data[1]) % 500);
	bool signed_request = data[0] & 0x80;
	char *body = fuzz_cstr(data + 2, size - 2);
	fo_err e = FO_ERR_INIT;
	int rc = flink_jar_s3_error(status, body, "my-flink-jobs", "wordcount-0.1.jar", "https://s3.eu-west-1.amazonaws.com",
				    signed_request, &e);
	FUZZ_CHECK(rc == expected_code(status), "HTTP %ld gave %d", status, rc);
	FUZZ_CHECK(e.code == rc && e.msg && fo_has_prefix(e.msg, "s3://my-flink-jobs/wordcount-0.1.jar at "),
		   "message \"%s\"", fo_err_msg(&e));
	if (fuzz_utf8_valid(body, strlen(body)))
		FUZZ_CHECK(fuzz_str_utf8(e.msg), "message is not UTF-8: %s", e.msg);
	fo_err_clear(&e);
	free(body);
	return 0;
}
