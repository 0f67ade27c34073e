/*
 * Unit tests for the watched inventory (k8s/cache.c) and the reading of a
 * watch stream (k8s_watch_parse): what a pass is served and when it must
 * list for real, our own writes against their echoes, what a broken watch
 * missed, label selectors, and streams cut anywhere, errors and 410 Gone.
 * The threads and the API server's side are in tests/e2e/test_agent_watch.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "k8s/k8s.h"
#include "lib/util.h"

#define SEL "app.kubernetes.io/managed-by=flinkops,flinkops.io/agent=a"

static cJSON *object(const char *kind, const char *ns, const char *name, const char *rv, const char *labels,
		     const char *extra)
{
	const char *av = strcmp(kind, "StatefulSet") == 0 ? "apps/v1" : "v1";
	char *text = fo_asprintf("{\"apiVersion\":\"%s\",\"kind\":\"%s\",\"metadata\":{\"name\":\"%s\",\"namespace\":"
				 "\"%s\",\"resourceVersion\":\"%s\",\"labels\":{%s},\"managedFields\":[{}]},"
				 "\"status\":{\"x\":1}%s}",
				 av, kind, name, ns, rv, labels, extra ? extra : "");
	cJSON *o = cJSON_Parse(text);
	assert_non_null(o);
	free(text);
	return o;
}

#define OURS "\"app.kubernetes.io/managed-by\":\"flinkops\",\"flinkops.io/agent\":\"a\""

typedef struct served {
	char names[16][64];
	size_t n;
	bool stripped; /* every object came without status and managedFields */
} served;

static int take(cJSON *item, void *arg)
{
	served *s = arg;
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(item, "metadata");
	if (s->n < 16)
		snprintf(s->names[s->n++], 64, "%s/%s", cJSON_GetObjectItemCaseSensitive(meta, "namespace")->valuestring,
			 cJSON_GetObjectItemCaseSensitive(meta, "name")->valuestring);
	if (cJSON_GetObjectItemCaseSensitive(item, "status") || cJSON_GetObjectItemCaseSensitive(meta, "managedFields"))
		s->stripped = false;
	cJSON_Delete(item);
	return 0;
}

static bool serve(k8s_cache *c, const k8s_kind *kind, const char *ns, const char *sel, served *s)
{
	memset(s, 0, sizeof(*s));
	s->stripped = true;
	int rc = 0;
	bool got = k8s_cache_serve(c, kind, ns, sel, K8S_LIST_NO_STATUS, take, s, &rc) == 1;
	assert_int_equal(rc, 0);
	return got;
}

/* A key is served only once its LIST was read, in LIST order, stripped as
 * k8s_list_each strips; never before, never after its watch broke. */
static void test_serve_when_live(void **state)
{
	(void)state;
	k8s_cache *c = k8s_cache_new();
	served s;
	assert_false(serve(c, &k8s_kind_statefulset, NULL, SEL, &s)); /* registered, not listed */
	size_t id;
	const k8s_kind *kind;
	char *ns, *sel;
	unsigned flags;
	assert_true(k8s_cache_take_unwatched(c, &id, &kind, &ns, &sel, &flags));
	assert_ptr_equal(kind, &k8s_kind_statefulset);
	assert_null(ns);
	assert_string_equal(sel, SEL);
	assert_int_equal(flags, K8S_LIST_NO_STATUS);
	free(sel);
	assert_false(k8s_cache_take_unwatched(c, &id, &kind, &ns, &sel, &flags)); /* taken once */
	assert_false(serve(c, &k8s_kind_statefulset, NULL, SEL, &s));
	cJSON *items[] = {object("StatefulSet", "ns2", "a", "10", OURS, NULL),
			  object("StatefulSet", "ns1", "b", "11", OURS, NULL),
			  object("StatefulSet", "ns1", "a", "12", OURS, NULL)};
	assert_false(k8s_cache_reset(c, id, items, 3, "20")); /* a first LIST misses nothing */
	for (int i = 0; i < 3; i++)
		cJSON_Delete(items[i]);
	assert_true(serve(c, &k8s_kind_statefulset, NULL, SEL, &s));
	assert_int_equal(s.n, 3);
	assert_string_equal(s.names[0], "ns1/a");
	assert_string_equal(s.names[1], "ns1/b");
	assert_string_equal(s.names[2], "ns2/a");
	assert_true(s.stripped);
	char *rv = k8s_cache_version(c, id);
	assert_string_equal(rv, "20");
	free(rv);
	/* another selector, namespace or kind is another key */
	assert_false(serve(c, &k8s_kind_statefulset, "ns1", SEL, &s));
	assert_false(serve(c, &k8s_kind_statefulset, NULL, "x=y", &s));
	assert_false(serve(c, &k8s_kind_service, NULL, SEL, &s));
	/* the watch broke: the pass lists for real until the next LIST */
	k8s_cache_unsync(c, id);
	assert_false(serve(c, &k8s_kind_statefulset, NULL, SEL, &s));
	k8s_cache_free(c);
}

/* What is never served: pods (they change with every container), a LIST
 * that wants status, a selector this reader does not parse. */
static void test_not_watched(void **state)
{
	(void)state;
	k8s_cache *c = k8s_cache_new();
	int rc;
	served s = {0};
	assert_int_equal(k8s_cache_serve(c, &k8s_kind_pod, "ns", SEL, K8S_LIST_NO_STATUS, take, &s, &rc), 0);
	assert_int_equal(k8s_cache_serve(c, &k8s_kind_configmap, "ns", SEL, 0, take, &s, &rc), 0);
	assert_int_equal(k8s_cache_serve(c, &k8s_kind_configmap, "ns", "a in (b", K8S_LIST_NO_STATUS, take, &s, &rc), 0);
	assert_int_equal(k8s_cache_serve(c, &k8s_kind_configmap, "ns", "a=b,,c", K8S_LIST_NO_STATUS, take, &s, &rc), 0);
	size_t id;
	const k8s_kind *kind;
	char *ns, *sel;
	unsigned flags;
	assert_false(k8s_cache_take_unwatched(c, &id, &kind, &ns, &sel, &flags)); /* none was registered */
	k8s_cache_free(c);
}

/* A key whose LIST was read, for the tests below. */
static size_t live_key(k8s_cache *c, const k8s_kind *kind, const char *sel, cJSON **items, size_t n)
{
	served s;
	assert_false(serve(c, kind, NULL, sel, &s));
	size_t id;
	const k8s_kind *k;
	char *ns, *selc;
	unsigned flags;
	assert_true(k8s_cache_take_unwatched(c, &id, &k, &ns, &selc, &flags));
	free(ns);
	free(selc);
	k8s_cache_reset(c, id, items, n, "100");
	for (size_t i = 0; i < n; i++)
		cJSON_Delete(items[i]);
	return id;
}

static int keep(cJSON *item, void *arg)
{
	cJSON_AddItemToArray(arg, item);
	return 0;
}

/* Events: someone's change is news, the echo of our own write is not, an
 * event older than our write does not undo it, a bookmark moves the
 * version only, a deletion is news once. */
static void test_events(void **state)
{
	(void)state;
	k8s_cache *c = k8s_cache_new();
	cJSON *items[] = {object("StatefulSet", "ns", "a", "100", OURS, ",\"spec\":{\"replicas\":2}")};
	size_t id = live_key(c, &k8s_kind_statefulset, SEL, items, 1);

	/* kubectl scale: news */
	cJSON *scaled = object("StatefulSet", "ns", "a", "105", OURS, ",\"spec\":{\"replicas\":5}");
	assert_true(k8s_cache_event(c, id, "MODIFIED", scaled));
	/* a status update (the controller's): status is not kept, no news */
	cJSON *status = object("StatefulSet", "ns", "a", "106", OURS, ",\"spec\":{\"replicas\":5}");
	assert_false(k8s_cache_event(c, id, "MODIFIED", status));
	/* our apply's answer is put in first: its echo is no news */
	cJSON *ours = object("StatefulSet", "ns", "a", "110", OURS, ",\"spec\":{\"replicas\":2}");
	k8s_cache_expect(c, &k8s_kind_statefulset, "ns", "a");
	k8s_cache_put(c, &k8s_kind_statefulset, "ns", "a", ours);
	assert_false(k8s_cache_event(c, id, "MODIFIED", ours));
	/* the echo before the answer: no news either, and the answer after it
	 * changes nothing */
	cJSON *ours2 = object("StatefulSet", "ns", "a", "112", OURS, ",\"spec\":{\"replicas\":3}");
	k8s_cache_expect(c, &k8s_kind_statefulset, "ns", "a");
	assert_false(k8s_cache_event(c, id, "MODIFIED", ours2));
	k8s_cache_put(c, &k8s_kind_statefulset, "ns", "a", ours2);
	/* a write that failed: the next event is news again */
	k8s_cache_expect(c, &k8s_kind_statefulset, "ns", "a");
	k8s_cache_unexpect(c, &k8s_kind_statefulset, "ns", "a");
	cJSON *back = object("StatefulSet", "ns", "a", "114", OURS, ",\"spec\":{\"replicas\":2}");
	assert_true(k8s_cache_event(c, id, "MODIFIED", back));
	cJSON_Delete(ours2);
	cJSON_Delete(back);
	/* an event from before our write, late: neither news nor taken */
	assert_false(k8s_cache_event(c, id, "MODIFIED", scaled));
	served s;
	assert_true(serve(c, &k8s_kind_statefulset, NULL, SEL, &s));
	assert_int_equal(s.n, 1);
	int rc;
	cJSON *arr = cJSON_CreateArray();
	assert_int_equal(k8s_cache_serve(c, &k8s_kind_statefulset, NULL, SEL, K8S_LIST_NO_STATUS, keep, arr, &rc), 1);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(
				 cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, 0), "spec"), "replicas")
				 ->valueint,
			 2);
	cJSON_Delete(arr);
	/* a bookmark moves the version, nothing else */
	cJSON *bm = cJSON_Parse("{\"kind\":\"StatefulSet\",\"apiVersion\":\"apps/v1\",\"metadata\":{\"resourceVersion\":\"120\"}}");
	assert_false(k8s_cache_event(c, id, "BOOKMARK", bm));
	char *rv = k8s_cache_version(c, id);
	assert_string_equal(rv, "120");
	free(rv);
	/* someone adds one of ours, then deletes it */
	cJSON *b = object("StatefulSet", "ns", "b", "121", OURS, NULL);
	assert_true(k8s_cache_event(c, id, "ADDED", b));
	assert_true(k8s_cache_event(c, id, "DELETED", b));
	assert_false(k8s_cache_event(c, id, "DELETED", b));
	/* our delete: out at once, its event no news */
	k8s_cache_expect(c, &k8s_kind_statefulset, "ns", "a");
	k8s_cache_drop(c, &k8s_kind_statefulset, "ns", "a");
	assert_false(k8s_cache_event(c, id, "DELETED", ours));
	assert_true(serve(c, &k8s_kind_statefulset, NULL, SEL, &s));
	assert_int_equal(s.n, 0);
	/* someone takes our label off: it is no longer ours */
	cJSON *c1 = object("StatefulSet", "ns", "c", "130", OURS, NULL);
	cJSON *c2 = object("StatefulSet", "ns", "c", "131", "\"app.kubernetes.io/managed-by\":\"else\"", NULL);
	assert_true(k8s_cache_event(c, id, "ADDED", c1));
	assert_true(k8s_cache_event(c, id, "MODIFIED", c2));
	assert_true(serve(c, &k8s_kind_statefulset, NULL, SEL, &s));
	assert_int_equal(s.n, 0);
	cJSON *all[] = {scaled, status, ours, bm, b, c1, c2};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		cJSON_Delete(all[i]);
	k8s_cache_free(c);
}

/* After a broken watch, the next LIST says whether anything was missed. */
static void test_relist_after_break(void **state)
{
	(void)state;
	k8s_cache *c = k8s_cache_new();
	cJSON *items[] = {object("ConfigMap", "ns", "a", "100", OURS, ",\"data\":{\"k\":\"1\"}")};
	size_t id = live_key(c, &k8s_kind_configmap, SEL, items, 1);
	k8s_cache_unsync(c, id);
	k8s_cache_unsync(c, id); /* twice is once */
	cJSON *same[] = {object("ConfigMap", "ns", "a", "140", OURS, ",\"data\":{\"k\":\"1\"}")};
	assert_false(k8s_cache_reset(c, id, same, 1, "150")); /* only versions moved */
	k8s_cache_unsync(c, id);
	cJSON *edited[] = {object("ConfigMap", "ns", "a", "160", OURS, ",\"data\":{\"k\":\"2\"}")};
	assert_true(k8s_cache_reset(c, id, edited, 1, "170"));
	k8s_cache_unsync(c, id);
	assert_true(k8s_cache_reset(c, id, NULL, 0, "180")); /* deleted meanwhile */
	k8s_cache_unsync(c, id);
	cJSON *added[] = {object("ConfigMap", "ns", "z", "190", OURS, NULL)};
	assert_true(k8s_cache_reset(c, id, added, 1, "200"));
	/* what we wrote while the watch was broken is no news after it */
	k8s_cache_unsync(c, id);
	cJSON *mine = object("ConfigMap", "ns", "m", "210", OURS, NULL);
	k8s_cache_expect(c, &k8s_kind_configmap, "ns", "m");
	k8s_cache_put(c, &k8s_kind_configmap, "ns", "m", mine);
	served s;
	assert_false(serve(c, &k8s_kind_configmap, NULL, SEL, &s)); /* still not served */
	cJSON *both[] = {cJSON_Duplicate(mine, true), object("ConfigMap", "ns", "z", "190", OURS, NULL)};
	assert_false(k8s_cache_reset(c, id, both, 2, "220"));
	cJSON_Delete(both[0]);
	cJSON_Delete(both[1]);
	cJSON_Delete(mine);
	cJSON_Delete(same[0]);
	cJSON_Delete(edited[0]);
	cJSON_Delete(added[0]);
	k8s_cache_free(c);
}

/* Selectors: the forms the passes write, and the others of the syntax. */
static void test_selectors(void **state)
{
	(void)state;
	static const struct {
		const char *sel;
		const char *labels;
		bool match;
	} cases[] = {
		{SEL, OURS, true},
		{SEL, "\"app.kubernetes.io/managed-by\":\"flinkops\"", false},
		{"app.kubernetes.io/managed-by in (flinkops-journal, flinkops-snapshot),flinkops.io/agent=a",
		 "\"app.kubernetes.io/managed-by\":\"flinkops-snapshot\",\"flinkops.io/agent\":\"a\"", true},
		{"app.kubernetes.io/managed-by in (flinkops-journal,flinkops-snapshot)",
		 "\"app.kubernetes.io/managed-by\":\"flinkops\"", false},
		{"x notin (a,b)", "\"x\":\"c\"", true},
		{"x notin (a,b)", "\"x\":\"a\"", false},
		{"x notin (a,b)", "", true},
		{"x!=a", "\"x\":\"b\"", true},
		{"x!=a", "\"x\":\"a\"", false},
		{"x==a", "\"x\":\"a\"", true},
		{"x", "\"x\":\"\"", true},
		{"x", "", false},
		{"!x", "", true},
		{"!x", "\"x\":\"1\"", false},
		{"", "", true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		k8s_cache *c = k8s_cache_new();
		cJSON *items[] = {object("ConfigMap", "ns", "a", "1", cases[i].labels, NULL)};
		live_key(c, &k8s_kind_configmap, cases[i].sel, items, 1);
		served s;
		assert_true(serve(c, &k8s_kind_configmap, NULL, cases[i].sel, &s));
		if ((s.n == 1) != cases[i].match)
			fail_msg("case %zu: selector \"%s\" on {%s}: served %zu", i, cases[i].sel, cases[i].labels, s.n);
		k8s_cache_free(c);
	}
}

typedef struct seen {
	char log[512];
} seen;

static int record(const char *type, const cJSON *obj, void *arg)
{
	seen *s = arg;
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
	size_t at = strlen(s->log);
	snprintf(s->log + at, sizeof(s->log) - at, "%s:%s:%s ", type, cJSON_IsString(name) ? name->valuestring : "-",
		 cJSON_IsString(rv) ? rv->valuestring : "-");
	return strcmp(type, "DELETED") == 0 && cJSON_IsString(name) && strcmp(name->valuestring, "stop") == 0 ? -99 : 0;
}

/* A stream read in pieces of 7 bytes: events across reads, blank and \r\n
 * lines, a last line without its newline, an unknown event type, ERROR
 * events (410 and others), an error status, events that are not events,
 * and a callback that ends the watch. */
static void test_watch_stream(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		long status;
		int want;
		const char *log;
		const char *err;
	} cases[] = {
		{"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"5\"}}}\n\n"
		 "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"6\"}}}\r\n"
		 "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}\n"
		 "{\"type\":\"NEWTYPE\",\"object\":{}}\n"
		 "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"10\"}}}",
		 200, 0, "ADDED:a:5 MODIFIED:a:6 BOOKMARK:-:9 DELETED:a:10 ", NULL},
		{"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
		 "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"message\":\"too old resource version\"}}\n"
		 "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"b\"}}}\n",
		 200, K8S_WATCH_GONE, "ADDED:a:- ", NULL},
		{"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":500,\"message\":\"etcd down\"}}\n", 200,
		 FO_ESERVER, "", "watch X: the server ended the watch: etcd down"},
		{"{\"kind\":\"Status\",\"code\":410,\"message\":\"gone\"}\n", 410, K8S_WATCH_GONE, "", NULL},
		{"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"forbidden: no\","
		 "\"reason\":\"Forbidden\",\"code\":403}\n",
		 403, FO_EFORBIDDEN, "", "forbidden: no"},
		{"[1,2]\n", 200, FO_ESERVER, "", "is not {type, object}"},
		{"{\"type\":\"ADDED\",\"object\":\"x\"}\n", 200, FO_ESERVER, "", "is not {type, object}"},
		{"{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"stop\"}}}\n"
		 "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"late\"}}}\n",
		 200, -99, "DELETED:stop:- ", NULL},
		{"", 200, 0, "", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		seen s = {{0}};
		fo_err e = FO_ERR_INIT;
		int rc = k8s_watch_parse(cases[i].body, strlen(cases[i].body), cases[i].status, "watch X", record, &s, &e);
		if (rc != cases[i].want || strcmp(s.log, cases[i].log) != 0 ||
		    (cases[i].err && !strstr(fo_err_msg(&e), cases[i].err)))
			fail_msg("case %zu: rc %d (want %d), events \"%s\" (want \"%s\"), error \"%s\"", i, rc, cases[i].want,
				 s.log, cases[i].log, fo_err_msg(&e));
		fo_err_clear(&e);
	}
	/* one event longer than the bound ends the watch */
	size_t big = K8S_WATCH_MAX_EVENT + 16;
	char *body = fo_calloc(big + 1, 1);
	memset(body, ' ', big);
	body[big] = '\0';
	seen s = {{0}};
	fo_err e = FO_ERR_INIT;
	assert_int_equal(k8s_watch_parse(body, big, 200, "watch X", record, &s, &e), FO_ETOOBIG);
	assert_non_null(strstr(fo_err_msg(&e), "an event longer than"));
	fo_err_clear(&e);
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serve_when_live), cmocka_unit_test(test_not_watched),
		cmocka_unit_test(test_events),		cmocka_unit_test(test_relist_after_break),
		cmocka_unit_test(test_selectors),	cmocka_unit_test(test_watch_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
