/*
 * Unit tests for savepoint retention (deploy/retention.h): the table of
 * which savepoints flinkops disposes of (count, age, references, the newest,
 * ties, an empty list), the retry back-off, the retention lists of the
 * journal (round trip, an older journal, bounds), the references a status
 * history holds, the model's keys, and Flink's answers to a disposal.
 * No servers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/pass.h"
#include "deploy/journal.h"
#include "deploy/retention.h"
#include "flink/flink.h"
#include "flink/rest.h"
#include "flink/status.h"
#include "lib/buf.h"
#include "sync/sync.h"
#include "tests/unit/want.h"

#define MIN (60 * 1000LL)
#define HOUR (60 * MIN)
/* "now" of the table: 2026-12-03T12:00:00Z */
#define NOW 1796299200000LL

/* Up to 8 savepoints, oldest first, each "name@minutes-ago" ("name@?" for
 * a time that does not parse); refs by name; the names disposed of. */
typedef struct {
	const char *name;
	const char *taken[8];
	const char *refs[4];
	int max_count;
	int64_t max_age_ms;
	const char *want; /* names disposed of, space-separated, oldest first */
} select_case;

static const select_case select_cases[] = {
	{"empty", {NULL}, {NULL}, 10, 24 * HOUR, ""},
	{"one savepoint: the newest stays even past count and age", {"a@5000"}, {NULL}, 1, MIN, ""},
	{"within count and age", {"a@30", "b@20", "c@10"}, {NULL}, 3, 24 * HOUR, ""},
	{"beyond the count: the oldest go", {"a@50", "b@40", "c@30", "d@20", "e@10"}, {NULL}, 2, 24 * HOUR, "a b c"},
	{"max.count 1 keeps the newest only", {"a@3", "b@2", "c@1"}, {NULL}, 1, 24 * HOUR, "a b"},
	{"past max.age: older go, within the count", {"a@180", "b@90", "c@10"}, {NULL}, 10, HOUR, "a b"},
	{"past max.age: the newest stays however old", {"a@300", "b@200"}, {NULL}, 10, HOUR, "a"},
	{"an age exactly at max.age stays", {"a@60", "b@1"}, {NULL}, 10, HOUR, ""},
	{"count and age together", {"a@5", "b@4", "c@3", "d@200", "e@1"}, {NULL}, 3, HOUR, "a b d"},
	{"a referenced savepoint stays beyond the count", {"a@50", "b@40", "c@30", "d@20"}, {"b"}, 2, 24 * HOUR, "a"},
	{"a referenced savepoint stays past the age", {"a@500", "b@400", "c@1"}, {"a"}, 10, HOUR, "b"},
	{"every old one referenced: nothing goes", {"a@5", "b@4", "c@3"}, {"a", "b"}, 1, HOUR, ""},
	{"references count towards max.count", {"a@5", "b@4", "c@3", "d@2"}, {"c"}, 2, 24 * HOUR, "a b"},
	{"a reference to no savepoint changes nothing", {"a@5", "b@4", "c@3"}, {"zz"}, 2, 24 * HOUR, "a"},
	/* equal times: the list's order (the order of completion) decides */
	{"ties: the later entry is the newer", {"a@10", "b@10", "c@10"}, {NULL}, 1, 24 * HOUR, "a b"},
	{"ties past the age: the last stays", {"a@500", "b@500"}, {NULL}, 10, HOUR, "a"},
	{"a time that does not parse is judged by count alone", {"a@?", "b@?", "c@1"}, {NULL}, 2, HOUR, "a"},
	{"out-of-order times: the list's order decides the newest", {"a@1", "b@500"}, {NULL}, 10, HOUR, ""},
};

static char *rfc3339_ago(int64_t minutes)
{
	time_t t = (time_t)((NOW - minutes * MIN) / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char buf[32];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return fo_strdup(buf);
}

static char *sp_path(const char *name, size_t len)
{
	return fo_asprintf("file:/savepoints/savepoint-%.*s", (int)len, name);
}

static void test_select_table(void **state)
{
	(void)state;
	for (size_t c = 0; c < FO_ARRAY_LEN(select_cases); c++) {
		const select_case *tc = &select_cases[c];
		deploy_savepoint_rec recs[8];
		memset(recs, 0, sizeof(recs));
		size_t n = 0;
		for (; n < 8 && tc->taken[n]; n++) {
			const char *at = strchr(tc->taken[n], '@');
			recs[n].path = sp_path(tc->taken[n], (size_t)(at - tc->taken[n]));
			recs[n].time = at[1] == '?' ? fo_strdup("yesterday") : rfc3339_ago(atoll(at + 1));
		}
		char *refs[4] = {0};
		size_t nrefs = 0;
		for (; nrefs < 4 && tc->refs[nrefs]; nrefs++)
			refs[nrefs] = sp_path(tc->refs[nrefs], strlen(tc->refs[nrefs]));
		bool dispose[8];
		size_t marked = deploy_retention_select(recs, n, (const char *const *)refs, nrefs, tc->max_count,
							tc->max_age_ms, NOW, dispose);
		fo_buf got = FO_BUF_INIT;
		size_t count = 0;
		for (size_t i = 0; i < n; i++)
			if (dispose[i]) {
				const char *at = strchr(tc->taken[i], '@');
				fo_buf_printf(&got, "%s%.*s", got.len ? " " : "", (int)(at - tc->taken[i]), tc->taken[i]);
				count++;
			}
		if (strcmp(fo_buf_cstr(&got), tc->want) != 0)
			fail_msg("%s: disposed of \"%s\", want \"%s\"", tc->name, fo_buf_cstr(&got), tc->want);
		assert_int_equal(marked, count);
		fo_buf_free(&got);
		for (size_t i = 0; i < n; i++) {
			free(recs[i].path);
			free(recs[i].time);
		}
		for (size_t i = 0; i < nrefs; i++)
			free(refs[i]);
	}
}

/* The path relation: every spelling of one savepoint, a directory and what
 * it holds, and what must stay apart. */
static void test_may_be_same(void **state)
{
	(void)state;
	static const struct {
		const char *a, *b;
		bool same;
	} cases[] = {
		{"file:/sp/savepoint-1", "file:/sp/savepoint-1", true},
		{"file:/sp/savepoint-1", "file:///sp/savepoint-1", true},
		{"file:/sp/savepoint-1", "/sp/savepoint-1", true},
		{"file:///sp/savepoint-1", "/sp/savepoint-1", true},
		{"file://localhost/sp/savepoint-1", "/sp/savepoint-1", true},
		{"file:/sp/savepoint-1/", "file:/sp/savepoint-1", true},
		{"file:/sp/savepoint-1///", "file:/sp/savepoint-1", true},
		{"s3://b/sp/savepoint-1/", "s3://b/sp/savepoint-1", true},
		{"s3://b/sp/savepoint-1", "s3a://b/sp/savepoint-1", true},
		{"s3p://b/sp/savepoint-1", "s3a://b/sp/savepoint-1/", true},
		{"S3://b/sp/savepoint-1", "s3://b/sp/savepoint-1", true},
		{"s3://b/sp/savepoint-1", "b/sp/savepoint-1", true},
		{"s3://b/sp/savepoint-1/_metadata", "s3://b/sp/savepoint-1", true},
		{"s3a://b/sp/savepoint-1/_metadata", "s3://b/sp/savepoint-1/", true},
		{"file:/sp/savepoint-1/_metadata", "/sp/savepoint-1", true},
		{"file:/sp//savepoint-1", "file:/sp/savepoint-1", true},
		{"file:/sp/./savepoint-1", "file:/sp/savepoint-1", true},
		{"file:/sp/x/../savepoint-1", "file:/sp/savepoint-1", true},
		{"s3://b/sp/savepoint%2D1", "s3://b/sp/savepoint-1", true},
		{"hdfs://nn:8020/flink/sp/savepoint-1", "hdfs:///flink/sp/savepoint-1", true},
		/* a directory and what it holds, either way round */
		{"s3://b/sp", "s3://b/sp/savepoint-1", true},
		{"s3://b/sp/savepoint-1/chk-shared/file", "s3://b/sp/savepoint-1", true},
		{"s3://b/sp/savepoint-1/_metadata", "s3://b/sp/savepoint-1/sub", true},
		{"/", "file:/sp/savepoint-1", true},
		/* apart */
		{"file:/sp/savepoint-1", "file:/sp/savepoint-12", false},
		{"file:/sp/savepoint-1", "file:/sp/savepoint-2", false},
		{"s3://b/sp/1", "s3://c/sp/1", false},
		{"s3://b/sp/savepoint-1", "s3://b/other/savepoint-1", false},
		{"s3://b/sp/savepoint-1/_metadata", "s3://b/sp/savepoint-2/_metadata", false},
		{"file:/sp/savepoint-1", "file:/sp/savepoint-1-old", false},
		{"file:/sp/savepoint-1", NULL, false},
		{NULL, NULL, false},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		const char *a = cases[i].a, *b = cases[i].b;
		if (deploy_retention_may_be_same(a, b) != cases[i].same || deploy_retention_may_be_same(b, a) != cases[i].same)
			fail_msg("may_be_same(%s, %s) != %d", a ? a : "NULL", b ? b : "NULL", cases[i].same);
	}
	/* the index answers as a comparison with every reference does: each
	 * path of the table, as a reference alone and among all of them */
	deploy_retention_ctx all = {0};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++)
		deploy_retention_ctx_add(&all, cases[i].a, "ns", "r", "refs", false);
	deploy_retention_ctx indexed = {0};
	for (size_t i = 0; i < all.nrefs; i++)
		deploy_retention_ctx_add(&indexed, all.refs[i].path, "ns", "r", "refs", false);
	deploy_retention_ctx_index(&indexed);
	for (size_t r = 0; r < FO_ARRAY_LEN(cases); r++) {
		deploy_retention_ctx one = {0};
		deploy_retention_ctx_add(&one, cases[r].a, "ns", "r", "ref", false);
		deploy_retention_ctx one_indexed = {0};
		deploy_retention_ctx_add(&one_indexed, cases[r].a, "ns", "r", "ref", false);
		deploy_retention_ctx_index(&one_indexed);
		for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
			const char *p = cases[i].b;
			if (!p || !cases[r].a)
				continue;
			bool want = !deploy_retention_may_be_same(p, cases[r].a);
			if (deploy_retention_may_dispose(&one, "ns", "a", NULL, p, NULL) != want ||
			    deploy_retention_may_dispose(&one_indexed, "ns", "a", NULL, p, NULL) != want)
				fail_msg("may_dispose(%s) with the reference %s: want %d", p, cases[r].a, want);
			if (r == 0 && deploy_retention_may_dispose(&all, "ns", "a", NULL, p, NULL) !=
					      deploy_retention_may_dispose(&indexed, "ns", "a", NULL, p, NULL))
				fail_msg("may_dispose(%s): the index answers otherwise", p);
		}
		deploy_retention_ctx_free(&one);
		deploy_retention_ctx_free(&one_indexed);
	}
	deploy_retention_ctx_free(&all);
	deploy_retention_ctx_free(&indexed);
}

static void test_retry_and_time(void **state)
{
	(void)state;
	static const struct {
		int attempts;
		int64_t ago_ms; /* -1: never tried / unknown */
		bool due;
	} cases[] = {
		{0, -1, true},      {1, 30 * 1000, false}, {1, MIN, true},          {2, MIN, false},
		{2, 2 * MIN, true}, {3, 3 * MIN, false},   {3, 4 * MIN, true},      {10, 59 * MIN, false},
		{10, HOUR, true},   {1000, HOUR, true},    {5, -1, true},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		int64_t last = cases[i].ago_ms < 0 ? -1 : NOW - cases[i].ago_ms;
		if (deploy_retention_retry_due(cases[i].attempts, last, NOW) != cases[i].due)
			fail_msg("retry after %d attempts, %lld ms ago: want %d", cases[i].attempts,
				 (long long)cases[i].ago_ms, cases[i].due);
	}
	assert_int_equal(deploy_time_ms("2026-12-03T12:00:00Z"), NOW);
	assert_int_equal(deploy_time_ms("2026-12-03T12:00:00.250Z"), NOW + 250);
	assert_int_equal(deploy_time_ms("2026-12-03T12:00:00.2509Z"), NOW + 250);
	assert_int_equal(deploy_time_ms("2026-12-03T12:00:00+01:00"), -1);
	assert_int_equal(deploy_time_ms("yesterday"), -1);
	assert_int_equal(deploy_time_ms(NULL), -1);
}

static void test_journal_lists(void **state)
{
	(void)state;
	deploy_journal j = {0};
	j.step = DEPLOY_STEP_IDLE;
	deploy_journal_set(&j.job_id, "a1b2");
	char *dropped = NULL;
	deploy_journal_add_taken(&j, "file:/sp/1", "2026-12-03T11:00:00.000Z", "upgrade", &dropped);
	assert_null(dropped);
	deploy_journal_add_taken(&j, "file:/sp/2", "2026-12-03T11:30:00.000Z", "periodic", &dropped);
	deploy_journal_add_taken(&j, "file:/sp/2", "2026-12-03T11:31:00.000Z", "periodic", &dropped); /* already there */
	assert_int_equal(j.ntaken, 2);
	j.disposals = fo_calloc(2, sizeof(*j.disposals));
	j.ndisposals = 2;
	j.disposals[0].path = fo_strdup("file:/sp/0");
	j.disposals[0].trigger_id = fo_strdup("0123456789abcdef0123456789abcdef");
	j.disposals[0].attempts = 1;
	j.disposals[1].path = fo_strdup("s3://b/sp/old");
	j.disposals[1].last_error = fo_strdup("dispose of savepoint s3://b/sp/old: access denied");
	j.disposals[1].time = fo_strdup("2026-12-03T11:59:00.000Z");
	j.disposals[1].attempts = 3;
	char *text = deploy_journal_encode(&j);
	want_contains(text, "\"savepointsTaken\"");
	want_contains(text, "\"savepointDisposals\"");
	deploy_journal k, c = {0};
	fo_err e = FO_ERR_INIT;
	assert_int_equal(deploy_journal_decode(text, &k, &e), 0);
	assert_int_equal(k.ntaken, 2);
	assert_string_equal(k.taken[0].path, "file:/sp/1");
	assert_string_equal(k.taken[1].reason, "periodic");
	assert_int_equal(k.ndisposals, 2);
	assert_string_equal(k.disposals[0].trigger_id, "0123456789abcdef0123456789abcdef");
	assert_null(k.disposals[0].last_error);
	assert_int_equal(k.disposals[1].attempts, 3);
	deploy_journal_copy(&c, &k);
	char *again = deploy_journal_encode(&c);
	assert_string_equal(text, again);
	free(again);
	/* removal keeps the order of the rest */
	deploy_journal_remove_taken(&c, 0);
	deploy_journal_remove_disposal(&c, 0);
	deploy_journal_remove_disposal(&c, 5); /* out of range: nothing */
	assert_int_equal(c.ntaken, 1);
	assert_string_equal(c.taken[0].path, "file:/sp/2");
	assert_int_equal(c.ndisposals, 1);
	assert_string_equal(c.disposals[0].path, "s3://b/sp/old");
	/* emptied lists are not written: such a journal reads as before retention */
	deploy_journal_remove_taken(&c, 0);
	deploy_journal_remove_disposal(&c, 0);
	again = deploy_journal_encode(&c);
	want_lacks(again, "savepointsTaken");
	want_lacks(again, "savepointDisposals");
	free(again);
	deploy_journal_clear(&c);
	deploy_journal_clear(&k);
	free(text);

	/* a full list drops its oldest entry, and says which */
	for (int i = 3; i < DEPLOY_JOURNAL_TAKEN_MAX + 2; i++) {
		char *p = fo_asprintf("file:/sp/%d", i);
		deploy_journal_add_taken(&j, p, NULL, "periodic", &dropped);
		free(p);
		if (j.ntaken == DEPLOY_JOURNAL_TAKEN_MAX && dropped)
			break;
		assert_null(dropped);
	}
	assert_non_null(dropped);
	assert_string_equal(dropped, "file:/sp/1");
	free(dropped);
	assert_int_equal(j.ntaken, DEPLOY_JOURNAL_TAKEN_MAX);
	assert_string_equal(j.taken[0].path, "file:/sp/2");
	text = deploy_journal_encode(&j);
	assert_int_equal(deploy_journal_decode(text, &k, &e), 0);
	deploy_journal_clear(&k);
	free(text);
	deploy_journal_clear(&j);

	/* an older journal (no lists) decodes with empty ones */
	assert_int_equal(deploy_journal_decode("{\"version\":2,\"step\":\"idle\",\"jobId\":\"a1\"}", &k, &e), 0);
	assert_int_equal(k.ntaken, 0);
	assert_int_equal(k.ndisposals, 0);
	deploy_journal_clear(&k);

	static const struct {
		const char *text, *msg;
	} bad[] = {
		{"{\"version\":2,\"step\":\"idle\",\"savepointsTaken\":{}}", "savepointsTaken: an object where a list belongs"},
		{"{\"version\":2,\"step\":\"idle\",\"savepointsTaken\":[\"file:/sp/1\"]}", "savepointsTaken[0]: a string where an entry"},
		{"{\"version\":2,\"step\":\"idle\",\"savepointsTaken\":[{\"time\":\"x\"}]}", "has no \"path\""},
		{"{\"version\":2,\"step\":\"idle\",\"savepointsTaken\":[{\"path\":\"\"}]}", "has no \"path\""},
		{"{\"version\":2,\"step\":\"idle\",\"savepointDisposals\":[{\"path\":7}]}", "savepointDisposals[0].path: a number where a string belongs"},
		{"{\"version\":2,\"step\":\"idle\",\"savepointDisposals\":\"x\"}", "a string where a list belongs"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(bad); i++) {
		assert_true(deploy_journal_decode(bad[i].text, &k, &e) < 0);
		want_contains(fo_err_msg(&e), bad[i].msg);
		fo_err_clear(&e);
	}
	/* more entries than flinkops writes: refused, naming the bound */
	fo_buf big = FO_BUF_INIT;
	fo_buf_puts(&big, "{\"version\":2,\"step\":\"idle\",\"savepointDisposals\":[");
	for (int i = 0; i <= DEPLOY_JOURNAL_DISPOSALS_MAX; i++)
		fo_buf_printf(&big, "%s{\"path\":\"file:/sp/%d\",\"attempts\":-4}", i ? "," : "", i);
	fo_buf_puts(&big, "]}");
	assert_true(deploy_journal_decode(fo_buf_cstr(&big), &k, &e) < 0);
	want_contains(fo_err_msg(&e), "more than the 32 flinkops keeps");
	fo_err_clear(&e);
	fo_buf_free(&big);
}

static void test_refs(void **state)
{
	(void)state;
	deploy_journal j = {0};
	deploy_journal_set(&j.savepoint_path, "file:/sp/newest");
	deploy_journal_set(&j.started_from, "file:/sp/started");
	char **v = NULL;
	size_t n = 0;
	deploy_retention_journal_refs(&j, &v, &n);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "file:/sp/newest");
	assert_string_equal(v[1], "file:/sp/started");
	deploy_journal_set(&j.restore_path, "file:/sp/restore");
	deploy_retention_journal_refs(&j, &v, &n);
	assert_int_equal(n, 5);
	assert_string_equal(v[3], "file:/sp/restore");
	fo_strv_free(v, n);
	deploy_journal_clear(&j);

	static const char status[] = "apiVersion: flinkops.io/v1alpha1\n"
				     "kind: FlinkDeploymentStatus\n"
				     "metadata: {name: wc, namespace: ns}\n"
				     "phase: Running\n"
				     "lastSavepoint: {path: \"file:/sp/p9\", time: \"2026-12-03T11:00:00Z\", reason: periodic}\n"
				     "history:\n"
				     "- {commit: abc, phase: Running, time: \"2026-12-03T11:00:00Z\", savepoint: \"file:/sp/p9\"}\n"
				     "- commit: abc\n"
				     "  phase: Running\n"
				     "  time: \"2026-12-03T10:00:00Z\"\n"
				     "  jobId: 0123456789abcdef0123456789abcdef\n"
				     "  startedFrom: {kind: savepoint, path: \"file:/sp/up\"}\n"
				     "- commit: abb\n"
				     "  phase: Running\n"
				     "  time: \"2026-12-03T09:00:00Z\"\n"
				     "  jobId: 0123456789abcdef0123456789abcdee\n"
				     "  startedFrom: {kind: empty}\n"
				     "  stoppedWith: {path: \"file:/sp/up\"}\n";
	flink_status *s = NULL;
	fo_err e = FO_ERR_INIT;
	if (flink_status_parse("status.yaml", status, strlen(status), &s, &e) < 0)
		fail_msg("%s", fo_err_msg(&e));
	v = NULL;
	n = 0;
	deploy_retention_status_refs(s, &v, &n);
	/* lastSavepoint, then each entry's startedFrom and stoppedWith; a
	 * periodic entry's own savepoint is not lineage */
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "file:/sp/p9");
	assert_string_equal(v[1], "file:/sp/up");
	assert_string_equal(v[2], "file:/sp/up");
	fo_strv_free(v, n);
	flink_status_free(s);
}

static void test_disposal_answers(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		int rc;
		bool done, missing;
		const char *msg; /* in the error or the failure */
	} cases[] = {
		{"{\"status\":{\"id\":\"IN_PROGRESS\"}}", 0, false, false, NULL},
		{"{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{}}", 0, true, false, NULL},
		{"{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"failure-cause\":null}}", 0, true, false, NULL},
		{"{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"failure-cause\":{\"class\":\"org.apache.flink.util."
		 "FlinkException\",\"stack-trace\":\"org.apache.flink.util.FlinkException: Could not dispose savepoint "
		 "file:/sp/x.\\n\\tat org.apache.flink.runtime.dispatcher.Dispatcher.lambda$disposeSavepoint$11(Dispatcher."
		 "java:806)\\nCaused by: java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory "
		 "'file:/sp/x' on file system 'file'.\\n\\tat org.apache.flink.runtime.state.filesystem.X.y(X.java:275)\\n\"}}}",
		 FO_ESERVER, true, true, "Cannot find checkpoint or savepoint"},
		{"{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"failure-cause\":{\"class\":\"org.apache.flink.util."
		 "FlinkException\",\"stack-trace\":\"org.apache.flink.util.FlinkException: Could not dispose savepoint "
		 "s3://b/x.\\nCaused by: java.nio.file.AccessDeniedException: s3://b/x: 403\\n\"}}}",
		 FO_ESERVER, true, false, "AccessDeniedException"},
		{"{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"failure-cause\":{}}}", FO_ESERVER, true, false,
		 "no cause given"},
		{"{\"status\":{\"id\":\"COMPLETED\"}}", FO_ESERVER, false, false, "without \"operation\""},
		{"{\"status\":{\"id\":\"DANCING\"}}", FO_ESERVER, false, false, "disposal status \"DANCING\""},
		{"{}", FO_ESERVER, false, false, "no \"status\""},
		{"<html>", FO_ESERVER, false, false, NULL},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		flink_disposal_status st;
		fo_err e = FO_ERR_INIT;
		int rc = flink_rest_parse_disposal_status(cases[i].body, &st, &e);
		if (rc != cases[i].rc || st.done != cases[i].done || st.missing != cases[i].missing)
			fail_msg("case %zu: rc %d done %d missing %d (%s)", i, rc, st.done, st.missing, fo_err_msg(&e));
		if (cases[i].msg)
			want_contains(fo_err_msg(&e), cases[i].msg);
		if (st.failure)
			want_lacks(st.failure, "\tat ");
		flink_disposal_status_free(&st);
		fo_err_clear(&e);
	}
}

static const char manifest[] = "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\n"
			       "metadata: {name: wc, namespace: ns}\n"
			       "spec:\n"
			       "  image: flink:1.20\n"
			       "  flinkVersion: v1_20\n"
			       "  flinkConfiguration:\n%s"
			       "  jobManager: {resource: {memory: 1g}}\n"
			       "  taskManager: {resource: {memory: 2g}}\n"
			       "  job: {jarURI: 's3://b/j.jar', parallelism: 1, upgradeMode: savepoint}\n";

static void test_model_keys(void **state)
{
	(void)state;
	static const struct {
		const char *conf, *err;
		int count;
		int64_t age_ms;
		enum flink_savepoint_cleanup cleanup;
	} cases[] = {
		{"    state.backend.type: rocksdb\n", NULL, 0, 0, FLINK_CLEANUP_FORGET},
		{"    kubernetes.operator.savepoint.history.max.count: \"2\"\n", NULL, 2, 0, FLINK_CLEANUP_FORGET},
		{"    kubernetes.operator.savepoint.history.max.count: \"32\"\n", NULL, 32, 0, FLINK_CLEANUP_FORGET},
		{"    kubernetes.operator.savepoint.history.max.age: 7 d\n", NULL, 0, 7 * 24 * HOUR, FLINK_CLEANUP_FORGET},
		{"    kubernetes.operator.savepoint.history.max.age: 90min\n", NULL, 0, 90 * MIN, FLINK_CLEANUP_FORGET},
		{"    kubernetes.operator.savepoint.cleanup.enabled: \"false\"\n", NULL, 0, 0, FLINK_CLEANUP_OFF},
		{"    kubernetes.operator.savepoint.history.max.count: \"0\"\n", "max.count must be a whole number from 1 to 32", 0, 0, FLINK_CLEANUP_FORGET},
		{"    kubernetes.operator.savepoint.history.max.count: \"33\"\n", "from 1 to 32", 0, 0, FLINK_CLEANUP_FORGET},
		{"    kubernetes.operator.savepoint.history.max.count: \"2x\"\n", "got \"2x\"", 0, 0, FLINK_CLEANUP_FORGET},
		{"    kubernetes.operator.savepoint.history.max.age: \"0\"\n", "max.age must be a duration of at least 1 s", 0, 0, FLINK_CLEANUP_FORGET},
		{"    kubernetes.operator.savepoint.history.max.age: soon\n", "got \"soon\"", 0, 0, FLINK_CLEANUP_FORGET},
		{"    kubernetes.operator.savepoint.cleanup.enabled: \"yes\"\n", "must be true or false", 0, 0, FLINK_CLEANUP_FORGET},
		/* upstream keeps a dropped savepoint's data unless asked */
		{"    kubernetes.operator.savepoint.dispose-on-delete: \"true\"\n", NULL, 0, 0, FLINK_CLEANUP_DISPOSE},
		{"    kubernetes.operator.savepoint.dispose-on-delete: \"FALSE\"\n", NULL, 0, 0, FLINK_CLEANUP_FORGET},
		{"    kubernetes.operator.snapshot.resource.enabled: \"false\"\n", NULL, 0, 0, FLINK_CLEANUP_DISPOSE},
		{"    kubernetes.operator.snapshot.resource.enabled: \"false\"\n"
		 "    kubernetes.operator.savepoint.cleanup.enabled: \"false\"\n", NULL, 0, 0, FLINK_CLEANUP_OFF},
		{"    kubernetes.operator.savepoint.dispose-on-delete: \"true\"\n"
		 "    kubernetes.operator.savepoint.cleanup.enabled: \"False\"\n", NULL, 0, 0, FLINK_CLEANUP_OFF},
		{"    kubernetes.operator.savepoint.dispose-on-delete: \"1\"\n", "dispose-on-delete must be true or false", 0, 0, FLINK_CLEANUP_FORGET},
		{"    kubernetes.operator.snapshot.resource.enabled: \"no\"\n", "snapshot.resource.enabled must be true or false", 0, 0, FLINK_CLEANUP_FORGET},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		char *text = fo_asprintf(manifest, cases[i].conf);
		flink_deployments v = {0};
		fo_diags d = FO_DIAGS_INIT;
		flink_load_buffer("wc.yaml", text, strlen(text), &v, NULL, &d);
		if (cases[i].err) {
			bool found = false;
			for (size_t k = 0; k < d.n; k++)
				found = found || strstr(d.v[k].msg, cases[i].err);
			if (!found)
				fail_msg("case %zu: no error \"%s\" (%zu diagnostics)", i, cases[i].err, d.n);
		} else {
			if (d.nerrors || v.n != 1)
				fail_msg("case %zu: %zu errors: %s", i, d.nerrors, d.n ? d.v[0].msg : "");
			assert_int_equal(v.v[0]->job.savepoint_history_max_count, cases[i].count);
			assert_int_equal(v.v[0]->job.savepoint_history_max_age_ms, cases[i].age_ms);
			assert_int_equal(v.v[0]->job.savepoint_cleanup, cases[i].cleanup);
		}
		flink_deployments_free(&v);
		fo_diags_free(&d);
		free(text);
	}
}

/* ---- the invariant: what a pass knows, and may_dispose ------------------ */

static const char journal_b[] = "{\"version\":2,\"step\":\"savepoint-taken\",\"jobId\":\"b1\","
				"\"restorePath\":\"s3://b/sp/savepoint-restore\","
				"\"savepointPath\":\"s3://b/sp/savepoint-newest-b\","
				"\"startedFrom\":\"s3://b/sp/savepoint-started-b\","
				"\"savepointsTaken\":[{\"path\":\"s3://b/sp/savepoint-taken-b\"}]}";
static const char journal_a[] = "{\"version\":2,\"step\":\"idle\",\"jobId\":\"a1\","
				"\"savepointsTaken\":[{\"path\":\"s3://b/sp/savepoint-a1\"},"
				"{\"path\":\"s3://b/sp/savepoint-a2\"}]}";
static const char status_c[] = "apiVersion: flinkops.io/v1alpha1\n"
			       "kind: FlinkDeploymentStatus\n"
			       "metadata: {name: c, namespace: ns}\n"
			       "phase: Suspended\n"
			       "lastSavepoint: {path: \"s3://b/sp/savepoint-last-c\", time: \"2026-12-03T11:00:00Z\", "
			       "reason: suspend}\n"
			       "history:\n"
			       "- commit: abc\n"
			       "  phase: Running\n"
			       "  time: \"2026-12-03T10:00:00Z\"\n"
			       "  jobId: 0123456789abcdef0123456789abcdef\n"
			       "  startedFrom: {kind: savepoint, path: \"s3://b/sp/savepoint-lineage-c\"}\n"
			       "  stoppedWith: {path: \"s3://b/sp/savepoint-stopped-c\"}\n";

/* Every source of a reference once: ns/b's journal, ns/a's own journal (its
 * taken list), ns/c's status file, ns/d's manifest. */
static void fixture(deploy_retention_ctx *c)
{
	memset(c, 0, sizeof(*c));
	deploy_retention_ctx_add_journal(c, "ns", "b", journal_b);
	deploy_retention_ctx_add_journal(c, "ns", "a", journal_a);
	deploy_retention_ctx_add_status(c, "status/ns/c.yaml", status_c, strlen(status_c));
	deploy_retention_ctx_add(c, "s3://b/sp/savepoint-initial-d", "ns", "d", "jobs/d.yaml (job.initialSavepointPath)",
				 false);
}

static void test_may_dispose(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		const char *path;   /* asked by ns/a (whose journal is `own` below) */
		unsigned doubt;     /* a doubt added to the fixture */
		bool may;
		const char *why;    /* in the answer */
	} cases[] = {
		{"unreferenced", "s3://b/sp/savepoint-a1", 0, true, NULL},
		{"another journal's restorePath", "s3a://b/sp/savepoint-restore/_metadata", 0, false,
		 "the journal of ns/b (restorePath)"},
		{"another journal's savepointPath", "s3://b/sp/savepoint-newest-b", 0, false, "(savepointPath)"},
		{"another journal's startedFrom", "s3://b/sp/savepoint-started-b/", 0, false, "(startedFrom)"},
		{"another journal's taken list", "s3://b/sp/savepoint-taken-b", 0, false, "(savepointsTaken)"},
		{"a status file's lastSavepoint", "b/sp/savepoint-last-c", 0, false, "status/ns/c.yaml"},
		{"a status file's startedFrom", "s3://b/sp/savepoint-lineage-c", 0, false, "status/ns/c.yaml"},
		{"a status file's stoppedWith", "s3://b/sp/savepoint-stopped-c", 0, false, "status/ns/c.yaml"},
		{"a manifest's initialSavepointPath", "s3p://b/sp/savepoint-initial-d", 0, false, "jobs/d.yaml"},
		{"its own journal's savepointPath", "s3://b/sp/savepoint-own", 0, false, "its own journal"},
		{"inside a referenced directory", "s3://b/sp/savepoint-restore/sub", 0, false, "restorePath"},
		{"a doubt about manifests", "s3://b/sp/savepoint-a1", DEPLOY_RETENTION_DOUBT_MANIFESTS, false, "held"},
		{"a doubt about journals", "s3://b/sp/savepoint-a1", DEPLOY_RETENTION_DOUBT_JOURNALS, false, "held"},
		{"a doubt about status files", "s3://b/sp/savepoint-a1", DEPLOY_RETENTION_DOUBT_STATUS, false, "held"},
		{"a doubt about the repository", "s3://b/sp/savepoint-a1", DEPLOY_RETENTION_DOUBT_REPOSITORY, false, "held"},
	};
	deploy_journal own = {0};
	deploy_journal_set(&own.savepoint_path, "s3://b/sp/savepoint-own");
	for (size_t t = 0; t < 2 * FO_ARRAY_LEN(cases); t++) {
		size_t i = t % FO_ARRAY_LEN(cases);
		deploy_retention_ctx c;
		fixture(&c);
		if (t >= FO_ARRAY_LEN(cases))
			deploy_retention_ctx_index(&c); /* the same answers with the index */
		assert_int_equal(c.doubts, 0);
		if (cases[i].doubt)
			deploy_retention_ctx_doubt(&c, cases[i].doubt, "doubt %s", cases[i].name);
		char *why = NULL;
		bool may = deploy_retention_may_dispose(&c, "ns", "a", &own, cases[i].path, &why);
		if (may != cases[i].may)
			fail_msg("%s: may_dispose(%s) = %d (%s)", cases[i].name, cases[i].path, may, why ? why : "");
		if (cases[i].why)
			want_contains(why, cases[i].why);
		else
			assert_null(why);
		free(why);
		deploy_retention_ctx_free(&c);
	}
	/* a deployment's own taken list keeps nothing from itself, but from
	 * every other deployment */
	deploy_retention_ctx c;
	fixture(&c);
	assert_true(deploy_retention_may_dispose(&c, "ns", "b", NULL, "s3://b/sp/savepoint-taken-c", NULL));
	assert_false(deploy_retention_may_dispose(&c, "ns", "b", NULL, "s3://b/sp/savepoint-a1", NULL));
	assert_true(deploy_retention_may_dispose(&c, "ns", "a", NULL, "s3://b/sp/savepoint-a2", NULL));
	assert_false(deploy_retention_may_dispose(&c, "other", "a", NULL, "s3://b/sp/savepoint-a2", NULL));
	/* what cannot be read is a doubt, named */
	deploy_retention_ctx_add_journal(&c, "ns", "x", "{\"version\":99}");
	assert_int_equal(c.doubts, DEPLOY_RETENTION_DOUBT_JOURNALS);
	deploy_retention_ctx_add_journal(&c, "ns", "y", NULL);
	deploy_retention_ctx_add_status(&c, "status/ns/z.yaml", "phase: [", 8);
	assert_int_equal(c.doubts, DEPLOY_RETENTION_DOUBT_JOURNALS | DEPLOY_RETENTION_DOUBT_STATUS);
	want_contains(c.doubt, "the journal of ns/x does not decode");
	want_contains(c.doubt, "the journal of ns/y holds no journal");
	want_contains(c.doubt, "the status file status/ns/z.yaml does not parse");
	char *why = NULL;
	assert_false(deploy_retention_may_dispose(&c, "ns", "b", NULL, "s3://b/sp/savepoint-taken-c", &why));
	want_contains(why, "ns/x");
	free(why);
	deploy_retention_ctx_free(&c);
	/* no context: nothing is known, nothing goes */
	assert_false(deploy_retention_may_dispose(NULL, "ns", "a", NULL, "s3://b/sp/savepoint-a1", &why));
	want_contains(why, "not gathered");
	free(why);
	deploy_journal_clear(&own);
}

/* The choice of a pass: count and age as deploy_retention_select says,
 * then the invariant over everything the pass knows. */
static void test_choose(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		const char *ref;    /* another deployment's restorePath, or NULL */
		unsigned doubt;
		bool no_ctx;
		const char *want;   /* names disposed of */
		const char *held;   /* in the message of what was kept */
	} cases[] = {
		{"nothing referenced: beyond the count go", NULL, 0, false, "a b c d", NULL},
		{"another deployment starts from c (spelled otherwise)", "s3a://b/sp/savepoint-c/_metadata", 0, false, "a b d",
		 "savepoint s3://b/sp/savepoint-c is kept: the journal of ns/b (restorePath)"},
		{"a reference to the savepoints' folder keeps all", "s3://b/sp/", 0, false, "", "savepoint-a is kept"},
		{"a doubt: nothing goes", NULL, DEPLOY_RETENTION_DOUBT_MANIFESTS, false, "", "held in this pass: typo"},
		{"no context: nothing goes", NULL, 0, true, "", "not gathered"},
	};
	for (size_t t = 0; t < FO_ARRAY_LEN(cases); t++) {
		deploy_journal j = {0};
		const char *names[] = {"a", "b", "c", "d", "e"};
		for (size_t i = 0; i < 5; i++) {
			char *p = fo_asprintf("s3://b/sp/savepoint-%s", names[i]);
			char *dropped = NULL;
			deploy_journal_add_taken(&j, p, NULL, "periodic", &dropped);
			free(p);
		}
		deploy_retention_ctx c = {0};
		if (cases[t].ref) {
			char *text = fo_asprintf("{\"version\":2,\"step\":\"savepoint-taken\",\"restorePath\":\"%s\"}", cases[t].ref);
			deploy_retention_ctx_add_journal(&c, "ns", "b", text);
			free(text);
		}
		if (cases[t].doubt)
			deploy_retention_ctx_doubt(&c, cases[t].doubt, "typo");
		bool dispose[5];
		char *held = NULL;
		size_t n = deploy_retention_choose(cases[t].no_ctx ? NULL : &c, "ns", "a", &j, 1, 0, NOW, dispose, &held);
		fo_buf got = FO_BUF_INIT;
		size_t count = 0;
		for (size_t i = 0; i < 5; i++)
			if (dispose[i]) {
				fo_buf_printf(&got, "%s%s", got.len ? " " : "", names[i]);
				count++;
			}
		if (strcmp(fo_buf_cstr(&got), cases[t].want) != 0)
			fail_msg("%s: disposed of \"%s\", want \"%s\"", cases[t].name, fo_buf_cstr(&got), cases[t].want);
		assert_int_equal(n, count);
		if (cases[t].held)
			want_contains(held, cases[t].held);
		else
			assert_null(held);
		free(held);
		fo_buf_free(&got);
		deploy_retention_ctx_free(&c);
		deploy_journal_clear(&j);
	}
}

/* A disposal whose savepoint became referenced goes back to `taken`, as
 * its oldest entry; one in flight cannot; a full list drops it. */
static void test_keep(void **state)
{
	(void)state;
	deploy_journal j = {0};
	char *dropped = NULL;
	deploy_journal_add_taken(&j, "file:/sp/x", "2026-12-03T11:00:00Z", "upgrade", &dropped);
	deploy_journal_add_taken(&j, "file:/sp/y", "2026-12-03T11:30:00Z", "upgrade", &dropped);
	j.disposals = fo_calloc(2, sizeof(*j.disposals));
	j.ndisposals = 2;
	j.disposals[0].path = fo_strdup("file:/sp/p");
	j.disposals[0].attempts = 2;
	j.disposals[1].path = fo_strdup("file:/sp/q");
	j.disposals[1].trigger_id = fo_strdup("0123");
	assert_true(deploy_retention_keep(&j, 0));
	assert_int_equal(j.ntaken, 3);
	assert_string_equal(j.taken[0].path, "file:/sp/p");
	assert_null(j.taken[0].time);
	assert_string_equal(j.taken[2].path, "file:/sp/y");
	assert_int_equal(j.ndisposals, 1);
	/* one that is taken already is not listed twice */
	j.disposals = fo_realloc(j.disposals, 2 * sizeof(*j.disposals));
	memset(&j.disposals[1], 0, sizeof(j.disposals[1]));
	j.disposals[1].path = fo_strdup("file:/sp/x");
	j.ndisposals = 2;
	assert_true(deploy_retention_keep(&j, 1));
	assert_int_equal(j.ntaken, 3);
	assert_int_equal(j.ndisposals, 1);
	assert_false(deploy_retention_keep(&j, 0)); /* in flight */
	assert_false(deploy_retention_keep(&j, 3));
	assert_int_equal(j.ndisposals, 1);
	/* it reads back */
	char *text = deploy_journal_encode(&j);
	deploy_journal k;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(deploy_journal_decode(text, &k, &e), 0);
	assert_int_equal(k.ntaken, 3);
	deploy_journal_clear(&k);
	free(text);
	/* a full list: dropped, so never disposed of */
	for (int i = 0; j.ntaken < DEPLOY_JOURNAL_TAKEN_MAX; i++) {
		char *p = fo_asprintf("file:/sp/%d", i);
		deploy_journal_add_taken(&j, p, NULL, "periodic", &dropped);
		free(p);
	}
	assert_false(deploy_retention_keep(&j, 0)); /* q is still in flight */
	j.disposals = fo_realloc(j.disposals, 2 * sizeof(*j.disposals));
	memset(&j.disposals[1], 0, sizeof(j.disposals[1]));
	j.disposals[1].path = fo_strdup("file:/sp/r");
	j.ndisposals = 2;
	assert_true(deploy_retention_keep(&j, 1));
	assert_int_equal(j.ntaken, DEPLOY_JOURNAL_TAKEN_MAX);
	assert_int_equal(j.ndisposals, 1);
	assert_string_equal(j.taken[0].path, "file:/sp/p");
	deploy_journal_clear(&j);
}

/* The agent's gathering (agent/retain.c): each source it reads reaches the
 * context, and each thing it could not read is a doubt. */
static const char manifests_bd[] = "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\n"
				   "metadata: {name: b, namespace: ns}\n"
				   "spec:\n"
				   "  image: flink:1.20\n"
				   "  flinkVersion: v1_20\n"
				   "  jobManager: {resource: {memory: 1g}}\n"
				   "  taskManager: {resource: {memory: 1g}}\n"
				   "  job: {jarURI: 's3://b/j.jar', upgradeMode: savepoint, state: suspended,\n"
				   "        initialSavepointPath: 's3://b/sp/savepoint-from-invalid', paralelism: 1}\n"
				   "---\n"
				   "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\n"
				   "metadata: {name: d, namespace: ns}\n"
				   "spec:\n"
				   "  image: flink:1.20\n"
				   "  flinkVersion: v1_20\n"
				   "  jobManager: {resource: {memory: 1g}}\n"
				   "  taskManager: {resource: {memory: 1g}}\n"
				   "  job:\n"
				   "    jarURI: s3://b/j.jar\n"
				   "    upgradeMode: savepoint\n"
				   "    initialSavepointPath: s3://b/sp/savepoint-from-valid\n";

/* A blue/green journal mid-transition: green starts from blue's handover
 * savepoint; the kept document names its own initialSavepointPath. */
static const char journal_bg[] =
	"{\"activeSpec\":\"apiVersion: flink.apache.org/v1beta1\\nkind: FlinkBlueGreenDeployment\\n"
	"metadata: {name: g, namespace: ns}\\nspec:\\n  template:\\n    spec:\\n      job: {jarURI: 's3://b/j.jar', "
	"initialSavepointPath: 's3://b/sp/savepoint-kept-spec'}\\n\",\"activeTarget\":\"t1\",\"generation\":1,"
	"\"handoverNonce\":\"4611686018427387905\",\"handoverPath\":\"s3://b/sp/savepoint-handover\","
	"\"nextTarget\":\"t2\",\"startedAt\":\"2026-12-07T12:00:00.000Z\",\"state\":\"TRANSITIONING_TO_GREEN\","
	"\"version\":1}";

static void test_build(void **state)
{
	(void)state;
	/* the manifests: one document with a typo (it does not validate), one valid */
	flink_deployments desired = {0};
	fo_diags d = FO_DIAGS_INIT;
	flink_load_buffer("jobs/bd.yaml", manifests_bd, strlen(manifests_bd), &desired, NULL, &d);
	assert_int_equal(desired.n, 1);
	assert_true(d.nerrors > 0);
	deploy_retention_ctx scanned = {0};
	cli_retention_scan_manifest(&scanned, "jobs/bd.yaml", manifests_bd, strlen(manifests_bd));
	cli_retention_scan_manifest(&scanned, "jobs/broken.yaml", "a: [", 4); /* not YAML: nothing */
	assert_int_equal(scanned.nrefs, 2);
	/* (and a blue/green template's, scanned below: 3) */
	/* a rollback's spec: the pass runs an older one whose path differs */
	free(desired.v[0]->job.initial_savepoint_path);
	desired.v[0]->job.initial_savepoint_path = fo_strdup("s3://b/sp/savepoint-rollback-spec");
	sync_file sf = {.path = "status/ns/c.yaml", .data = (char *)status_c, .len = strlen(status_c)};
	sync_files status = {.v = &sf, .n = 1};
	const char *keys[] = {"ns/b", "ns/a"}, *texts[] = {journal_b, journal_a};
	const char *bkeys[] = {"ns/g"}, *btexts[] = {journal_bg};
	static const char bg_file[] = "kind: FlinkBlueGreenDeployment\nmetadata: {name: g, namespace: ns}\nspec:\n"
				      "  template:\n    spec:\n      job: {initialSavepointPath: 's3://b/sp/savepoint-bg-template'}\n";
	cli_retention_scan_manifest(&scanned, "jobs/g.yaml", bg_file, strlen(bg_file));
	cli_retention_input in = {
		.bluegreen_keys = bkeys,
		.bluegreen_texts = btexts,
		.nbluegreens = 1,
		.journal_keys = keys,
		.journal_texts = texts,
		.njournals = 2,
		.desired = &desired,
		.manifests = &scanned,
		.status = &status,
	};
	deploy_retention_ctx c;
	cli_retention_build(&in, &c);
	assert_int_equal(c.doubts, 0);
	static const char *const kept[] = {
		"s3://b/sp/savepoint-restore",     "s3://b/sp/savepoint-newest-b",     "s3://b/sp/savepoint-started-b",
		"s3://b/sp/savepoint-taken-b",     "s3://b/sp/savepoint-from-invalid", "s3://b/sp/savepoint-from-valid",
		"s3://b/sp/savepoint-rollback-spec", "s3://b/sp/savepoint-last-c",     "s3://b/sp/savepoint-lineage-c",
		"s3://b/sp/savepoint-stopped-c",   "s3://b/sp/savepoint-handover",    "s3://b/sp/savepoint-kept-spec",
		"s3://b/sp/savepoint-bg-template",
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(kept); i++)
		if (deploy_retention_may_dispose(&c, "ns", "a", NULL, kept[i], NULL))
			fail_msg("%s is referenced, but may be disposed of", kept[i]);
	assert_true(deploy_retention_may_dispose(&c, "ns", "a", NULL, "s3://b/sp/savepoint-a1", NULL));
	deploy_retention_ctx_free(&c);

	/* each thing not read is a doubt */
	static const struct {
		const char *name;
		unsigned flag;
	} doubts[] = {
		{"manifest problems", DEPLOY_RETENTION_DOUBT_MANIFESTS}, {"a journal without text", DEPLOY_RETENTION_DOUBT_JOURNALS},
		{"an unread journal", DEPLOY_RETENTION_DOUBT_JOURNALS},  {"a folder", DEPLOY_RETENTION_DOUBT_REPOSITORY},
		{"status unread", DEPLOY_RETENTION_DOUBT_STATUS},
		{"a blue/green journal that does not read", DEPLOY_RETENTION_DOUBT_JOURNALS},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(doubts); i++) {
		cli_retention_input di = in;
		const char *texts2[] = {journal_b, NULL};
		const char *btexts2[] = {"{\"version\":1,\"state\":\"FAILING\"}"};
		if (i == 0)
			di.manifest_problems = d.nerrors;
		else if (i == 1)
			di.journal_texts = texts2;
		else if (i == 2)
			di.journals_unread = 1;
		else if (i == 3)
			di.not_repository = "manifests from a folder";
		else if (i == 4)
			di.status_unread = "the status branch could not be read";
		else if (i == 5)
			di.bluegreen_texts = btexts2;
		cli_retention_build(&di, &c);
		if (c.doubts != doubts[i].flag)
			fail_msg("%s: doubts %#x, want %#x", doubts[i].name, c.doubts, doubts[i].flag);
		assert_false(deploy_retention_may_dispose(&c, "ns", "a", NULL, "s3://b/sp/savepoint-a1", NULL));
		deploy_retention_ctx_free(&c);
	}
	deploy_retention_ctx_free(&scanned);
	flink_deployments_free(&desired);
	fo_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select_table),   cmocka_unit_test(test_may_be_same),
		cmocka_unit_test(test_may_dispose),    cmocka_unit_test(test_choose),
		cmocka_unit_test(test_keep),           cmocka_unit_test(test_build),
		cmocka_unit_test(test_retry_and_time), cmocka_unit_test(test_journal_lists),
		cmocka_unit_test(test_refs),           cmocka_unit_test(test_disposal_answers),
		cmocka_unit_test(test_model_keys),
	};
	return cmocka_run_group_tests_name("retention", tests, NULL, NULL);
}
