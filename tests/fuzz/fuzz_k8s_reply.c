/*
 * Fuzz target "k8s_reply": what the Kubernetes API server answers. The low
 * bit of the first byte picks the reader: k8s_error_from_response, with
 * the HTTP status from the first two bytes, or one page of a LIST
 * (k8s_list_page_parse, the next bit asking to drop status); the rest is
 * the body. Beyond no crash, leak or undefined behaviour: an error maps its
 * status to the documented code and its message names the request; a list
 * page hands on only objects, typed, without managedFields (or status when
 * asked); and every message is valid UTF-8 when the body is, because it
 * ends up in status files.
 */
#include "tests/fuzz/fuzz.h"

#include "k8s/k8s.h"

#define WHAT "apply StatefulSet default/wc-jobmanager"

static bool body_utf8;

static int item(cJSON *it, void *arg)
{
	unsigned flags = *(unsigned *)arg;
	FUZZ_CHECK(cJSON_IsObject(it), "a list item that is not an object");
	FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(it, "apiVersion") && cJSON_GetObjectItemCaseSensitive(it, "kind"),
		   "a list item without apiVersion or kind");
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(it, "metadata");
	FUZZ_CHECK(!cJSON_GetObjectItemCaseSensitive(meta, "managedFields"), "managedFields kept");
	if (flags & K8S_LIST_NO_STATUS)
		FUZZ_CHECK(!cJSON_GetObjectItemCaseSensitive(it, "status"), "status kept");
	cJSON_Delete(it);
	return 0;
}

static int expected_code(long status)
{
	switch (status) {
	case 401: return FO_EAUTH;
	case 403: return FO_EFORBIDDEN;
	case 404: return FO_ENOTFOUND;
	case 409: return FO_ECONFLICT;
	case 429: return FO_ESERVER;
	default: return status >= 500 ? FO_ESERVER : FO_EINVAL;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	char *body = fuzz_cstr(data + 2, size - 2);
	body_utf8 = fuzz_utf8_valid(body, strlen(body));
	fo_err e = FO_ERR_INIT;
	if (data[0] & 1) {
		unsigned flags = data[0] & 2 ? K8S_LIST_NO_STATUS : 0;
		char *next = NULL;
		int rc = k8s_list_page_parse(body, &k8s_kind_statefulset, flags, "list StatefulSet", item, &flags, &next, &e);
		FUZZ_CHECK(rc == 0 || (rc == FO_ESERVER && e.msg && !next), "list page: %d", rc);
		FUZZ_CHECK(!next || *next, "an empty continue token");
		free(next);
	} else {
		long status = 100 + (long)(((unsigned)data[0] << 7 | data[1]) % 500);
		int rc = k8s_error_from_response(status, body, WHAT, &e);
		FUZZ_CHECK(rc == expected_code(status), "HTTP %ld gave %d", status, rc);
		FUZZ_CHECK(e.code == rc && e.msg && fo_has_prefix(e.msg, WHAT ": "), "message \"%s\"", fo_err_msg(&e));
	}
	if (body_utf8)
		FUZZ_CHECK(fuzz_str_utf8(e.msg), "error message is not UTF-8: %s", e.msg);
	fo_err_clear(&e);
	free(body);
	return 0;
}
