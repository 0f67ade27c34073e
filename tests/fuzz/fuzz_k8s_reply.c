/*
 * Fuzz target "k8s_reply": what the Kubernetes API server answers. The low
 * bit of the first byte picks the reader: k8s_error_from_response, with
 * the HTTP status from the first two bytes, or one page of a LIST
 * (k8s_list_page_parse, the next bit asking to drop status); the rest is
 * the body; with the bit of 4 set too, a watch stream (k8s_watch_parse),
 * whose events go into a key of the watched inventory (k8s_cache_event).
 * Beyond no crash, leak or undefined behaviour: an error maps its
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

typedef struct stream {
	k8s_cache *cache;
	size_t id;
} stream;

static int event(const char *type, const cJSON *obj, void *arg)
{
	stream *st = arg;
	FUZZ_CHECK(strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0 || strcmp(type, "DELETED") == 0 ||
			   strcmp(type, "BOOKMARK") == 0,
		   "event type %s handed on", type);
	FUZZ_CHECK(cJSON_IsObject(obj), "an event whose object is not an object");
	k8s_cache_event(st->cache, st->id, type, obj);
	return 0;
}

#define SEL "app.kubernetes.io/managed-by=flinkops"

static int served(cJSON *it, void *arg)
{
	(void)arg;
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(it, "metadata");
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(meta, "labels"),
							   "app.kubernetes.io/managed-by");
	FUZZ_CHECK(cJSON_IsString(by) && strcmp(by->valuestring, "flinkops") == 0, "served an object not selected");
	FUZZ_CHECK(!cJSON_GetObjectItemCaseSensitive(meta, "managedFields") &&
			   !cJSON_GetObjectItemCaseSensitive(it, "status"),
		   "served an object with managedFields or status");
	cJSON_Delete(it);
	return 0;
}

static void watch_stream(const char *body, fo_err *e)
{
	stream st = {k8s_cache_new(), 0};
	int rc = 0;
	k8s_cache_serve(st.cache, &k8s_kind_statefulset, NULL, SEL, K8S_LIST_NO_STATUS, served, NULL, &rc);
	const k8s_kind *kind;
	char *ns = NULL, *sel = NULL;
	unsigned flags;
	FUZZ_CHECK(k8s_cache_take_unwatched(st.cache, &st.id, &kind, &ns, &sel, &flags), "no key registered");
	free(ns);
	free(sel);
	k8s_cache_reset(st.cache, st.id, NULL, 0, "1");
	rc = k8s_watch_parse(body, strlen(body), 200, "watch StatefulSet", event, &st, e);
	FUZZ_CHECK(rc == 0 || rc == K8S_WATCH_GONE || ((rc == FO_ESERVER || rc == FO_ETOOBIG) && e->msg),
		   "watch stream: %d", rc);
	int src = 0;
	FUZZ_CHECK(k8s_cache_serve(st.cache, &k8s_kind_statefulset, NULL, SEL, K8S_LIST_NO_STATUS, served, NULL, &src) == 1,
		   "a live key not served");
	k8s_cache_free(st.cache);
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
	if ((data[0] & 5) == 5) {
		watch_stream(body, &e);
	} else if (data[0] & 1) {
		unsigned flags = data[0] & 2 ? K8S_LIST_NO_STATUS : 0;
		char *next = NULL;
		int rc = k8s_list_page_parse(body, &k8s_kind_statefulset, flags, "list StatefulSet", item, &flags, &next, NULL, &e);
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
