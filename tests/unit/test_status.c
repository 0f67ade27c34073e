/*
 * Unit tests for status files (flink/status.c): the exact YAML written for a
 * full status, the round trip write -> parse -> write, the bounded history,
 * and a table of bad inputs, each with its message and position.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flink/status.h"

static flink_status *full_status(void)
{
	flink_status *s = flink_status_new("default", "wordcount");
	flink_status_set(&s->source.path, "jobs/wordcount.yaml");
	flink_status_set(&s->source.blob, "57a8431feea75aab4fb9c853a2c643ee2891d374");
	flink_status_set(&s->source.commit, "1a2b3c4d5e6f70811a2b3c4d5e6f70811a2b3c4d");
	flink_status_set(&s->observed_commit, "1a2b3c4d5e6f70811a2b3c4d5e6f70811a2b3c4d");
	s->phase = FLINK_PHASE_RUNNING;
	flink_status_set(&s->message, "upgraded: yes, \"quoted\" and: colons");
	flink_status_set(&s->job.id, "0123456789abcdef0123456789abcdef");
	flink_status_set(&s->job.state, "RUNNING");
	flink_status_set(&s->job.start_time, "2026-11-23T19:00:00Z");
	flink_status_set(&s->last_savepoint.path, "s3://sp/wordcount/savepoint-1");
	flink_status_set(&s->last_savepoint.time, "2026-11-23T18:59:00Z");
	s->last_savepoint.reason = FLINK_SAVEPOINT_UPGRADE;
	flink_status_add_history(s, "0000000000000000000000000000000000000001", FLINK_PHASE_DEPLOYING,
				 "2026-11-23T18:00:00Z", NULL);
	flink_status_add_history(s, "1a2b3c4d5e6f70811a2b3c4d5e6f70811a2b3c4d", FLINK_PHASE_RUNNING,
				 "2026-11-23T19:00:00Z", "s3://sp/wordcount/savepoint-1");
	flink_status_set(&s->history[0].job_id, "0123456789abcdef0123456789abcdef");
	flink_status_set(&s->history[0].started_from.kind, "savepoint");
	flink_status_set(&s->history[0].started_from.path, "s3://sp/wordcount/savepoint-1");
	flink_status_set(&s->history[0].started_from.time, "2026-11-23T18:59:00Z");
	flink_status_set(&s->history[1].stopped_with.path, "s3://sp/wordcount/savepoint-1");
	flink_status_set(&s->history[1].stopped_with.time, "2026-11-23T18:59:00Z");
	flink_status_set(&s->update_time, "2026-11-23T19:00:01Z");
	return s;
}

static const char full_yaml[] =
	"apiVersion: flinkops.io/v1alpha1\n"
	"kind: FlinkDeploymentStatus\n"
	"metadata:\n"
	"  name: wordcount\n"
	"  namespace: default\n"
	"source:\n"
	"  path: jobs/wordcount.yaml\n"
	"  blob: \"57a8431feea75aab4fb9c853a2c643ee2891d374\"\n"
	"  commit: \"1a2b3c4d5e6f70811a2b3c4d5e6f70811a2b3c4d\"\n"
	"observedCommit: \"1a2b3c4d5e6f70811a2b3c4d5e6f70811a2b3c4d\"\n"
	"phase: Running\n";

static void test_write_exact_and_round_trip(void **state)
{
	(void)state;
	flink_status *s = full_status();
	fo_buf a = FO_BUF_INIT, b = FO_BUF_INIT;
	flink_status_write(s, &a);
	assert_true(strncmp(fo_buf_cstr(&a), full_yaml, strlen(full_yaml)) == 0);
	assert_non_null(strstr(fo_buf_cstr(&a), "lastSavepoint:\n  path: s3://sp/wordcount/savepoint-1\n"));
	assert_non_null(strstr(fo_buf_cstr(&a), "  reason: upgrade\n"));
	assert_non_null(strstr(fo_buf_cstr(&a), "history:\n- commit: \"1a2b3c4d"));

	flink_status *p = NULL;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(flink_status_parse("status/default/wordcount.yaml", a.ptr, a.len, &p, &e), 0);
	assert_string_equal(p->name, "wordcount");
	assert_int_equal(p->phase, FLINK_PHASE_RUNNING);
	assert_string_equal(p->message, "upgraded: yes, \"quoted\" and: colons");
	assert_int_equal(p->nhistory, 2);
	assert_int_equal(p->history[0].phase, FLINK_PHASE_RUNNING); /* newest first */
	assert_null(p->history[1].savepoint);
	assert_string_equal(p->history[0].started_from.kind, "savepoint");
	assert_string_equal(p->history[0].started_from.time, "2026-11-23T18:59:00Z");
	assert_string_equal(p->history[1].stopped_with.path, "s3://sp/wordcount/savepoint-1");
	assert_null(p->history[1].job_id);
	assert_int_equal(p->last_savepoint.reason, FLINK_SAVEPOINT_UPGRADE);
	flink_status_write(p, &b);
	assert_string_equal(fo_buf_cstr(&a), fo_buf_cstr(&b));
	/* the same, updateTime aside; a phase change is not */
	flink_status_set(&p->update_time, "2030-01-01T00:00:00Z");
	assert_true(flink_status_same(s, p));
	p->phase = FLINK_PHASE_FAILED;
	assert_false(flink_status_same(s, p));
	flink_status_free(p);
	flink_status_free(s);
	fo_buf_free(&a);
	fo_buf_free(&b);
}

static void test_minimal_and_numeric_looking_strings(void **state)
{
	(void)state;
	flink_status *s = flink_status_new("prod", "wc");
	/* a commit id of digits only must stay a string */
	flink_status_set(&s->observed_commit, "1234567890123456789012345678901234567890");
	flink_status_set(&s->job.state, "yes");
	fo_buf a = FO_BUF_INIT;
	flink_status_write(s, &a);
	assert_null(strstr(fo_buf_cstr(&a), "source:"));  /* empty sections are left out */
	assert_null(strstr(fo_buf_cstr(&a), "history:"));
	flink_status *p = NULL;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(flink_status_parse("x.yaml", a.ptr, a.len, &p, &e), 0);
	assert_string_equal(p->observed_commit, "1234567890123456789012345678901234567890");
	assert_string_equal(p->job.state, "yes");
	assert_int_equal(p->phase, FLINK_PHASE_PENDING);
	flink_status_free(p);
	flink_status_free(s);
	fo_buf_free(&a);
}

/* A rollback's status reads back: its phase, and the commit that failed
 * beside the one observed running. */
static void test_rolled_back_round_trip(void **state)
{
	(void)state;
	flink_status *s = flink_status_new("prod", "wc");
	s->phase = FLINK_PHASE_ROLLED_BACK;
	flink_status_set(&s->observed_commit, "1111111111111111111111111111111111111111");
	flink_status_set(&s->failed_commit, "2222222222222222222222222222222222222222");
	fo_buf a = FO_BUF_INIT;
	flink_status_write(s, &a);
	assert_non_null(strstr(fo_buf_cstr(&a), "failedCommit: \"2222222222222222222222222222222222222222\"\n"
						"phase: RolledBack\n"));
	flink_status *p = NULL;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(flink_status_parse("x.yaml", a.ptr, a.len, &p, &e), 0);
	assert_int_equal(p->phase, FLINK_PHASE_ROLLED_BACK);
	assert_string_equal(p->failed_commit, "2222222222222222222222222222222222222222");
	assert_true(flink_status_same(s, p));
	flink_status_free(p);
	flink_status_free(s);
	fo_buf_free(&a);
}

/* The retention counts read back, are left out at zero, and refuse what
 * is not a count. */
static void test_savepoint_counts(void **state)
{
	(void)state;
	flink_status *s = flink_status_new("prod", "wc");
	fo_buf a = FO_BUF_INIT;
	flink_status_write(s, &a);
	assert_null(strstr(fo_buf_cstr(&a), "savepoints"));
	fo_buf_free(&a);
	s->savepoints.retained = 4;
	s->savepoints.disposing = 1;
	flink_status_write(s, &a);
	assert_non_null(strstr(fo_buf_cstr(&a), "savepoints:\n  retained: 4\n  pendingDisposal: 1\n"));
	flink_status *p = NULL;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(flink_status_parse("x.yaml", a.ptr, a.len, &p, &e), 0);
	assert_int_equal(p->savepoints.retained, 4);
	assert_int_equal(p->savepoints.disposing, 1);
	assert_true(flink_status_same(s, p));
	flink_status_free(p);
	fo_buf_free(&a);
	static const char *const bad[] = {"retained: -1", "retained: 1001", "retained: two", "pendingDisposal: [1]",
					  "kept: 1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = fo_asprintf("apiVersion: flinkops.io/v1alpha1\nkind: FlinkDeploymentStatus\n"
					 "metadata: {name: wc, namespace: prod}\nphase: Running\nsavepoints: {%s}\n",
					 bad[i]);
		p = NULL;
		if (flink_status_parse("x.yaml", text, strlen(text), &p, &e) == 0)
			fail_msg("savepoints {%s} was accepted", bad[i]);
		assert_non_null(strstr(fo_err_msg(&e), "savepoints"));
		fo_err_clear(&e);
		free(text);
	}
	flink_status_free(s);
}

/* Flink's restart count of the job: left out at 0, written and read back
 * exactly up to the largest count a double holds, refused past it. */
static void test_job_restarts(void **state)
{
	(void)state;
	flink_status *s = full_status();
	fo_buf a = FO_BUF_INIT;
	flink_status_write(s, &a);
	assert_null(strstr(fo_buf_cstr(&a), "restarts"));
	static const long long counts[] = {1, 7, 1000, 123456789012LL, 9007199254740992LL};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		s->job.restarts = counts[i];
		fo_buf_clear(&a);
		flink_status_write(s, &a);
		char *want = fo_asprintf("  startTime: \"2026-11-23T19:00:00Z\"\n  restarts: %lld\n", counts[i]);
		if (!strstr(fo_buf_cstr(&a), want))
			fail_msg("restarts %lld written as:\n%s", counts[i], fo_buf_cstr(&a));
		free(want);
		flink_status *p = NULL;
		fo_err e = FO_ERR_INIT;
		assert_int_equal(flink_status_parse("x.yaml", a.ptr, a.len, &p, &e), 0);
		assert_true(p->job.restarts == counts[i]);
		assert_true(flink_status_same(s, p));
		flink_status_free(p);
	}
	/* Flink counts in a long: past what the file holds, the bound is written, and reads back */
	s->job.restarts = 9223372036854775807LL;
	fo_buf_clear(&a);
	flink_status_write(s, &a);
	flink_status *big = NULL;
	fo_err ebig = FO_ERR_INIT;
	assert_int_equal(flink_status_parse("x.yaml", a.ptr, a.len, &big, &ebig), 0);
	assert_true(big->job.restarts == FLINK_STATUS_COUNT_MAX);
	flink_status_free(big);
	fo_buf_free(&a);
	flink_status_free(s);
	static const char *const bad[] = {"restarts: -1", "restarts: 9007199254740993", "restarts: 1.5",
					  "restarts: many", "restarts: [1]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = fo_asprintf("apiVersion: flinkops.io/v1alpha1\nkind: FlinkDeploymentStatus\n"
					 "metadata: {name: wc, namespace: prod}\nphase: Running\njob: {%s}\n",
					 bad[i]);
		flink_status *p = NULL;
		fo_err e = FO_ERR_INIT;
		if (flink_status_parse("x.yaml", text, strlen(text), &p, &e) == 0)
			fail_msg("job {%s} was accepted", bad[i]);
		if (!strstr(fo_err_msg(&e), "x.yaml:5:17: job.restarts: expected a count from 0 to"))
			fail_msg("job {%s}: \"%s\"", bad[i], fo_err_msg(&e));
		fo_err_clear(&e);
		free(text);
	}
}

static void test_history_bounded(void **state)
{
	(void)state;
	flink_status *s = flink_status_new("default", "wc");
	for (int i = 0; i < 25; i++) {
		char c[16];
		snprintf(c, sizeof(c), "c%02d", i);
		flink_status_add_history(s, c, FLINK_PHASE_RUNNING, "t", i % 2 ? "sp" : NULL);
	}
	assert_int_equal(s->nhistory, FLINK_STATUS_HISTORY_MAX);
	assert_string_equal(s->history[0].commit, "c24");
	assert_string_equal(s->history[FLINK_STATUS_HISTORY_MAX - 1].commit, "c15");
	flink_status_free(s);
}

static void test_helpers(void **state)
{
	(void)state;
	char *p = flink_status_path(NULL, "ns", "wc");
	assert_string_equal(p, "status/ns/wc.yaml");
	free(p);
	p = flink_status_path("deploy/status/", "ns", "wc");
	assert_string_equal(p, "deploy/status/ns/wc.yaml");
	free(p);
	char *t = flink_status_time(0);
	assert_string_equal(t, "1970-01-01T00:00:00Z");
	free(t);
	for (int i = FLINK_PHASE_PENDING; i <= FLINK_PHASE_ROLLED_BACK; i++)
		assert_int_equal(flink_phase_parse(flink_phase_name((enum flink_phase)i)), i);
	assert_int_equal(flink_phase_parse("running"), -1);
	assert_int_equal(flink_savepoint_reason_parse("periodic"), FLINK_SAVEPOINT_PERIODIC);
	assert_int_equal(flink_savepoint_reason_parse(""), -1);
}

static void test_commit_message(void **state)
{
	(void)state;
	flink_status *v[7];
	const char *names[] = {"a", "b", "c", "d", "e", "f", "g"};
	for (int i = 0; i < 7; i++) {
		v[i] = flink_status_new("default", names[i]);
		flink_status_set(&v[i]->source.commit, "1a2b3c4d5e6f70811a2b3c4d5e6f70811a2b3c4d");
		v[i]->phase = i == 1 ? FLINK_PHASE_FAILED : FLINK_PHASE_RUNNING;
	}
	const flink_status *const *cv = (const flink_status *const *)v;
	char *m = flink_status_commit_message(cv, 1);
	assert_string_equal(m, "status: a Running at 1a2b3c4");
	free(m);
	m = flink_status_commit_message(cv, 2);
	assert_string_equal(m, "status: a Running, b Failed at 1a2b3c4");
	free(m);
	m = flink_status_commit_message(cv, 7);
	assert_string_equal(m, "status: a Running, b Failed, c Running, d Running, e Running, and 2 more at 1a2b3c4");
	free(m);
	flink_status_set(&v[1]->source.commit, "ffffffffffffffffffffffffffffffffffffffff");
	m = flink_status_commit_message(cv, 2);
	assert_string_equal(m, "status: a Running at 1a2b3c4, b Failed at fffffff");
	free(m);
	for (int i = 0; i < 7; i++)
		flink_status_free(v[i]);
}

#define HEAD "apiVersion: flinkops.io/v1alpha1\nkind: FlinkDeploymentStatus\nmetadata: {name: wc, namespace: default}\n"

static const struct {
	const char *text;
	const char *msg; /* expected inside the message, position included */
} bad_cases[] = {
	{HEAD "phase: Running\nphaze: x\n", "x.yaml:5:1: status: unknown field \"phaze\""},
	{HEAD "phase: running\n", "x.yaml:4:8: phase: \"running\" is not a phase"},
	{HEAD "message: hi\n", "x.yaml:1:1: \"phase\" is required"},
	{HEAD "phase: Running\nmessage: [a]\n", "x.yaml:5:10: message: expected a string, got list"},
	{HEAD "phase: Running\njob: {id: 1, pid: 2}\n", "x.yaml:5:14: job: unknown field \"pid\""},
	{HEAD "phase: Running\nlastSavepoint: {reason: later}\n", "x.yaml:5:25: lastSavepoint.reason: \"later\" is not a reason"},
	{HEAD "phase: Running\nhistory: {a: 1}\n", "x.yaml:5:10: history: expected a list"},
	{HEAD "phase: Running\nhistory: [{commit: a}]\n", "\"phase\" is required"},
	{HEAD "phase: Running\nhistory: [1,2,3,4,5,6,7,8,9,10,11]\n", "history: 11 entries, more than the 10 kept"},
	{HEAD "phase: Running\nsource: x\n", "x.yaml:5:9: source: expected a mapping"},
	{HEAD "phase: Running\nhistory: [{phase: Running, startedFrom: {kind: backup, path: /x}}]\n",
	 "x.yaml:5:48: history.startedFrom.kind: \"backup\" is not a kind of state"},
	{HEAD "phase: Running\nhistory: [{phase: Running, startedFrom: {path: /x}}]\n",
	 "history.startedFrom.kind: \"\" is not a kind of state"},
	{HEAD "phase: Running\nhistory: [{phase: Running, stoppedWith: {path: /x, why: y}}]\n",
	 "history.stoppedWith: unknown field \"why\""},
	{HEAD "phase: Running\nhistory: [{phase: Running, startedFrom: 1}]\n",
	 "x.yaml:5:41: history.startedFrom: expected a mapping"},
	{"apiVersion: v1\nkind: FlinkDeploymentStatus\nmetadata: {name: a, namespace: b}\nphase: Running\n",
	 "x.yaml:1:13: apiVersion must be flinkops.io/v1alpha1"},
	{"apiVersion: flinkops.io/v1alpha1\nkind: Other\nmetadata: {name: a, namespace: b}\nphase: Running\n",
	 "kind must be FlinkDeploymentStatus"},
	{"apiVersion: flinkops.io/v1alpha1\nkind: FlinkDeploymentStatus\nmetadata: {namespace: b}\nphase: Running\n",
	 "metadata: \"name\" is required"},
	{"- a\n- b\n", "x.yaml:1:1: a status file must be a mapping"},
	{HEAD "phase: Running\n---\n" HEAD "phase: Running\n", "x.yaml:5:1: more than 1 documents"},
	{HEAD "phase: Running\nphase: Failed\n", "x.yaml:5:1"}, /* duplicate key, from lib/yaml */
	{"", "exactly one YAML document, this one has 0"},
	{"\x01\x02", "x.yaml"},
};

static void test_bad_input(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		flink_status *s = NULL;
		fo_err e = FO_ERR_INIT;
		int rc = flink_status_parse("x.yaml", bad_cases[i].text, strlen(bad_cases[i].text), &s, &e);
		if (rc == 0 || !strstr(fo_err_msg(&e), bad_cases[i].msg))
			fail_msg("case %zu: rc %d, message \"%s\", want \"%s\"", i, rc, fo_err_msg(&e), bad_cases[i].msg);
		assert_null(s);
		fo_err_clear(&e);
	}
}

static void test_oversized(void **state)
{
	(void)state;
	size_t n = FLINK_STATUS_FILE_MAX + 10;
	char *big = malloc(n + 1);
	memset(big, 'a', n);
	big[n] = '\0';
	flink_status *s = NULL;
	fo_err e = FO_ERR_INIT;
	assert_true(flink_status_parse("x.yaml", big, n, &s, &e) < 0);
	assert_null(s);
	fo_err_clear(&e);
	/* a message longer than the bound is cut on write, and the result reads back */
	flink_status *st = flink_status_new("default", "wc");
	char *msg = malloc(FLINK_STATUS_STRING_MAX * 2 + 1);
	memset(msg, 'm', FLINK_STATUS_STRING_MAX * 2);
	msg[FLINK_STATUS_STRING_MAX * 2] = '\0';
	flink_status_set(&st->message, msg);
	fo_buf b = FO_BUF_INIT;
	flink_status_write(st, &b);
	assert_int_equal(flink_status_parse("x.yaml", b.ptr, b.len, &s, &e), 0);
	assert_int_equal(strlen(s->message), FLINK_STATUS_STRING_MAX);
	flink_status_free(s);
	/* the cut never splits a character, or the file would not be UTF-8 */
	msg[FLINK_STATUS_STRING_MAX - 1] = '\xc3';
	msg[FLINK_STATUS_STRING_MAX] = '\xa9';
	flink_status_set(&st->message, msg);
	fo_buf_clear(&b);
	flink_status_write(st, &b);
	assert_int_equal(flink_status_parse("x.yaml", b.ptr, b.len, &s, &e), 0);
	assert_int_equal(strlen(s->message), FLINK_STATUS_STRING_MAX - 1);
	flink_status_free(s);
	flink_status_free(st);
	fo_buf_free(&b);
	free(msg);
	free(big);
}

/* Write `s`, read it back, write again: the same bytes, and the status
 * read back says the same (no commit on the next pass). Returns the status
 * read back; caller frees. */
static flink_status *rewrite_identical(const flink_status *s)
{
	fo_buf a = FO_BUF_INIT, b = FO_BUF_INIT;
	flink_status_write(s, &a);
	assert_true(a.len <= FLINK_STATUS_FILE_MAX);
	flink_status *back = NULL;
	fo_err e = FO_ERR_INIT;
	if (flink_status_parse("x.yaml", a.ptr, a.len, &back, &e) < 0)
		fail_msg("a status we wrote (%zu bytes) does not read back: %s", a.len, fo_err_msg(&e));
	flink_status_write(back, &b);
	if (a.len != b.len || memcmp(a.ptr, b.ptr, a.len) != 0)
		fail_msg("written again after reading, the status differs:\n%s\n---- then ----\n%s", a.ptr, b.ptr);
	assert_true(flink_status_same(s, back));
	fo_buf_free(&a);
	fo_buf_free(&b);
	return back;
}

/* Text from outside (an error page quoted from a server) with bytes that
 * are not UTF-8, control characters and CR LF: written, read and written
 * again it is the same, whether it was set with flink_status_set or put in
 * the field directly. */
static void test_outside_text_reads_back(void **state)
{
	(void)state;
	static const char page[] = "<html>\r\n<body>bad gateway \xff\xfe\xc3( \x01\x1b[31m \xe2\x80\xa8\xc2\x85"
				   "\x7f\t\"q\"\r</body>\r\n\xf0\x9f\x98";
	flink_status *s = full_status();
	flink_status_set(&s->message, page);
	flink_status_set(&s->job.state, "RUN\xffNING");
	/* cleaned at the edge: the field holds what a read gives back, before any write */
	assert_string_equal(s->job.state, "RUN\xef\xbf\xbdNING");
	flink_status_add_history(s, "c", FLINK_PHASE_FAILED, "2026-11-23T19:00:00Z", "s3://sp/\xc0\xafx");
	flink_status_free(rewrite_identical(s));
	/* a field filled without the setter is written the same way */
	free(s->message);
	s->message = strdup(page);
	free(s->history[0].savepoint);
	s->history[0].savepoint = strdup("s3://sp/\xc0\xafx\x02");
	/* what is kept: valid text, U+FFFD for the rest, line feeds for CR LF */
	flink_status *back = rewrite_identical(s);
	assert_string_equal(back->message, "<html>\n<body>bad gateway \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd( "
					   "\xef\xbf\xbd\xef\xbf\xbd[31m \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\t\"q\"\n"
					   "</body>\n\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	flink_status_free(back);
	flink_status_free(s);
}

/* A status at the limits reads back: a message of 4096 bytes that are not
 * UTF-8 (each one U+FFFD, three bytes, when read), and every field at its
 * longest, full of characters that escaping doubles, with the full history
 * (ten times 64 KiB would not fit in one file). */
static void test_status_at_limits(void **state)
{
	(void)state;
	flink_status *s = full_status();
	char *junk = malloc(FLINK_STATUS_STRING_MAX + 1);
	memset(junk, 0xff, FLINK_STATUS_STRING_MAX);
	junk[FLINK_STATUS_STRING_MAX] = '\0';
	free(s->message);
	s->message = strdup(junk);
	flink_status_free(rewrite_identical(s));
	char *quotes = malloc(FLINK_STATUS_STRING_MAX + 1);
	memset(quotes, '"', FLINK_STATUS_STRING_MAX);
	quotes[FLINK_STATUS_STRING_MAX] = '\0';
	char **fields[] = {&s->source.path, &s->source.blob, &s->source.commit, &s->observed_commit,
			   &s->failed_commit, &s->message, &s->job.id, &s->job.state, &s->job.start_time,
			   &s->last_savepoint.path, &s->last_savepoint.time, &s->update_time};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		flink_status_set(fields[i], quotes);
	for (int i = 0; i < FLINK_STATUS_HISTORY_MAX; i++)
		flink_status_add_history(s, quotes, FLINK_PHASE_RUNNING, quotes, quotes);
	for (int i = 0; i < FLINK_STATUS_HISTORY_MAX; i++) {
		flink_status_set(&s->history[i].job_id, quotes);
		flink_status_set(&s->history[i].started_from.kind, "savepoint");
		flink_status_set(&s->history[i].started_from.path, quotes);
		flink_status_set(&s->history[i].stopped_with.path, quotes);
	}
	/* the newest entry is the one kept */
	flink_status *back = rewrite_identical(s);
	assert_true(back->nhistory >= 1);
	assert_int_equal(back->history[0].phase, FLINK_PHASE_RUNNING);
	assert_non_null(back->message);
	flink_status_free(back);
	free(quotes);
	free(junk);
	flink_status_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_exact_and_round_trip),
		cmocka_unit_test(test_minimal_and_numeric_looking_strings),
		cmocka_unit_test(test_history_bounded),
		cmocka_unit_test(test_rolled_back_round_trip),
		cmocka_unit_test(test_savepoint_counts),
		cmocka_unit_test(test_job_restarts),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_commit_message),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_outside_text_reads_back),
		cmocka_unit_test(test_status_at_limits),
	};
	return cmocka_run_group_tests_name("status", tests, NULL, NULL);
}
