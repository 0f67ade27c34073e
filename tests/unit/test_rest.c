/*
 * Unit tests for the pure parts of flink/rest.c and flink/jar.c: each shape
 * of answer the Flink REST API gives (as the rig's Flink 1.20 sends them),
 * malformed, huge and half-missing answers, the trimming of Flink's Java
 * stack traces into messages, the run request body, jar URIs, cache paths,
 * S3 error messages, and file:// delivery into a cache in a temporary
 * folder. What needs a server is in tests/e2e/test_flink_rest.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "flink/jar.h"
#include "flink/rest.h"
#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "tests/unit/want.h"

/* ---- error bodies ---- */

/* POST /jars/:id/run with an unknown entry class (HTTP 500), trimmed frames */
static const char bad_class_body[] =
	"{\"errors\":[\"Internal server error.\",\"<Exception on server side:\\n"
	"java.util.concurrent.CompletionException: org.apache.flink.client.program.ProgramInvocationException: "
	"The program's entry point class 'no.Such' was not found in the jar file.\\n"
	"\\tat java.base/java.util.concurrent.CompletableFuture.encodeThrowable(CompletableFuture.java:315)\\n"
	"\\tat java.base/java.lang.Thread.run(Thread.java:840)\\n"
	"Caused by: org.apache.flink.client.program.ProgramInvocationException: The program's entry point class "
	"'no.Such' was not found in the jar file.\\n"
	"\\tat org.apache.flink.client.program.PackagedProgram.loadMainClass(PackagedProgram.java:481)\\n"
	"\\t... 50 more\\n"
	"Caused by: java.lang.ClassNotFoundException: no.Such\\n"
	"\\tat java.base/java.net.URLClassLoader.findClass(URLClassLoader.java:445)\\n"
	"\\t... 54 more\\n"
	"\\nEnd of exception on server side>\"]}";

static const char not_found_body[] =
	"{\"errors\":[\"org.apache.flink.runtime.rest.NotFoundException: Job 0123 not found\\n"
	"\\tat org.apache.flink.runtime.rest.handler.job.AbstractExecutionGraphHandler.lambda$handleRequest$1"
	"(AbstractExecutionGraphHandler.java:99)\\n"
	"Caused by: org.apache.flink.runtime.messages.FlinkJobNotFoundException: Could not find Flink job (0123)\\n"
	"\\tat org.apache.flink.runtime.dispatcher.Dispatcher.requestExecutionGraphInfo(Dispatcher.java:915)\\n"
	"\\t... 5 more\\n\"]}";

static const char duplicate_body[] =
	"{\"errors\":[\"org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application.\\n"
	"\\tat org.apache.flink.runtime.webmonitor.handlers.JarRunHandler.lambda$handleRequest$1(JarRunHandler.java:114)\\n"
	"Caused by: java.util.concurrent.CompletionException: org.apache.flink.util.FlinkRuntimeException: Could not "
	"execute application.\\n\\t... 1 more\\n"
	"Caused by: org.apache.flink.util.FlinkRuntimeException: Could not execute application.\\n\\t... 1 more\\n"
	"Caused by: org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: "
	"Failed to execute job 'counter'.\\n\\t... 4 more\\n"
	"Caused by: org.apache.flink.util.FlinkException: Failed to execute job 'counter'.\\n\\t... 7 more\\n"
	"Caused by: org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has already been submitted.\\n"
	"\\t... 7 more\\n\"]}";

static void test_error_text(void **state)
{
	(void)state;
	char *t = flink_rest_error_text(bad_class_body, 1000);
	assert_string_equal(t, "org.apache.flink.client.program.ProgramInvocationException: The program's entry point "
			       "class 'no.Such' was not found in the jar file.; caused by: "
			       "java.lang.ClassNotFoundException: no.Such");
	free(t);
	t = flink_rest_error_text(not_found_body, 1000);
	assert_string_equal(t, "org.apache.flink.runtime.rest.NotFoundException: Job 0123 not found; caused by: "
			       "org.apache.flink.runtime.messages.FlinkJobNotFoundException: Could not find Flink job (0123)");
	free(t);
	/* wrappers that repeat their cause are dropped */
	t = flink_rest_error_text(duplicate_body, 1000);
	assert_string_equal(t, "org.apache.flink.util.FlinkRuntimeException: Could not execute application.; caused by: "
			       "org.apache.flink.util.FlinkException: Failed to execute job 'counter'.; caused by: "
			       "org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has already been submitted.");
	free(t);
	/* bounded: the outermost and the root cause survive a cut */
	t = flink_rest_error_text(duplicate_body, 200);
	assert_true(strlen(t) <= 203);
	want_contains(t, "FlinkRuntimeException");
	want_contains(t, "...");
	free(t);
	/* only the generic line */
	t = flink_rest_error_text("{\"errors\":[\"Internal server error.\"]}", 1000);
	assert_string_equal(t, "Internal server error.");
	free(t);
	/* not Flink's shape */
	static const char *none[] = {
		"", "null", "[]", "{}", "{\"errors\":[]}", "{\"errors\":\"x\"}", "{\"errors\":[1,{},null]}",
		"<html>502 Bad Gateway</html>", "{\"errors\":[\"\"]}", "{\"errors\":[\"\\n\\tat x.y(Z.java:1)\\n\"]}",
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(none); i++) {
		t = flink_rest_error_text(none[i], 1000);
		if (t)
			fail_msg("%s: got \"%s\"", none[i], t);
	}
	assert_null(flink_rest_error_text(NULL, 1000));
	/* control characters never reach a message */
	t = flink_rest_error_text("{\"errors\":[\"a\\u0007b\\u001b[31m: c\\r\"]}", 1000);
	assert_string_equal(t, "a b [31m: c");
	free(t);
}

static void test_error_text_huge(void **state)
{
	(void)state;
	/* a 4 MiB message and 100,000 frames: bounded output, no quadratic blowup */
	fo_buf b = FO_BUF_INIT;
	fo_buf_puts(&b, "{\"errors\":[\"java.lang.RuntimeException: ");
	for (int i = 0; i < (4 << 20) / 8; i++)
		fo_buf_puts(&b, "abcdefgh");
	for (int i = 0; i < 100000; i++)
		fo_buf_puts(&b, "\\n\\tat a.b.C.d(C.java:1)");
	fo_buf_puts(&b, "\\nCaused by: java.io.IOException: disk full\"]}");
	char *t = flink_rest_error_text(b.ptr, 1000);
	assert_non_null(t);
	assert_true(strlen(t) <= 1003);
	want_contains(t, "java.lang.RuntimeException: abcdefgh");
	free(t);
	fo_buf_free(&b);
	/* many distinct causes */
	fo_buf_puts(&b, "{\"errors\":[\"x.A: top");
	for (int i = 0; i < 5000; i++)
		fo_buf_printf(&b, "\\nCaused by: x.E%d: cause number %d", i, i);
	fo_buf_puts(&b, "\"]}");
	t = flink_rest_error_text(b.ptr, 500);
	assert_true(strlen(t) <= 503);
	assert_true(strncmp(t, "x.A: top; ...; caused by: ", 26) == 0);
	free(t);
	fo_buf_free(&b);
}

/* Texts cut to a bound are cut between UTF-8 characters: they end up in
 * status files, which must stay UTF-8 to read back (found by fuzzing). */
static void test_cuts_keep_utf8(void **state)
{
	(void)state;
	assert_int_equal(fo_utf8_cut("ab\xc3\xa9", 4, 3), 2);
	assert_int_equal(fo_utf8_cut("ab\xc3\xa9", 4, 4), 4);
	assert_int_equal(fo_utf8_cut("a\xf0\x9f\x98\x80", 5, 4), 1);
	assert_int_equal(fo_utf8_cut("\x80\x80\x80\x80\x80", 5, 4), 4); /* not UTF-8: cut where asked */
	fo_buf b = FO_BUF_INIT;
	for (int i = 0; i < 99; i++)
		fo_buf_putc(&b, 'x');
	fo_buf_puts(&b, "\xc3\xa9\xc3\xa9");
	char *t = flink_rest_trace_text(b.ptr, 100);
	assert_true(strlen(t) <= 100 + 3);
	want_lacks(t, "\xc3");
	free(t);
	fo_err e = FO_ERR_INIT;
	flink_job_info j;
	fo_buf_clear(&b);
	for (int i = 0; i < 79; i++)
		fo_buf_putc(&b, '[');
	fo_buf_puts(&b, "\xe2\x80\xa8");
	assert_int_equal(flink_rest_parse_job(b.ptr, &j, &e), FO_ESERVER);
	want_contains(fo_err_msg(&e), "[[[...\"");
	fo_err_clear(&e);
	fo_buf_clear(&b);
	fo_buf_puts(&b, "<Error><Code>X</Code><Message>");
	for (int i = 0; i < 299; i++)
		fo_buf_putc(&b, 'm');
	fo_buf_puts(&b, "\xc3\xa9</Message></Error>");
	flink_jar_s3_error(400, b.ptr, "b", "k", "https://s3", true, &e);
	want_contains(fo_err_msg(&e), "mmm...)");
	fo_err_clear(&e);
	fo_buf_free(&b);
}

static void test_http_error(void **state)
{
	(void)state;
	static const struct {
		long status;
		const char *body;
		int code;
		const char *want;
	} cases[] = {
		{500, bad_class_body, FO_ESERVER,
		 "run jar 5f_job.jar on http://h:8081: org.apache.flink.client.program.ProgramInvocationException: The "
		 "program's entry point class 'no.Such' was not found in the jar file.; caused by: "
		 "java.lang.ClassNotFoundException: no.Such (POST /jars/5f_job.jar/run, HTTP 500)"},
		{404, not_found_body, FO_ENOTFOUND, "Could not find Flink job (0123) (POST /jars/5f_job.jar/run, HTTP 404)"},
		{400, duplicate_body, FO_ECONFLICT, "Job has already been submitted."},
		{400, "{\"errors\":[\"Request did not match expected format JarRunRequestBody.\"]}", FO_EINVAL,
		 "on http://h:8081: Request did not match expected format JarRunRequestBody. (POST"},
		{502, "<html>\nBad Gateway</html>", FO_ESERVER, "on http://h:8081: \"<html> Bad Gateway</html>\" (POST"},
		{401, "", FO_EAUTH, "on http://h:8081: no error text (POST /jars/5f_job.jar/run, HTTP 401)"},
		{403, NULL, FO_EFORBIDDEN, "HTTP 403"},
		{409, "{}", FO_ECONFLICT, "HTTP 409"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		fo_err e = FO_ERR_INIT;
		int code = flink_rest_http_error("run jar 5f_job.jar", "http://h:8081", "POST", "/jars/5f_job.jar/run",
						 cases[i].status, cases[i].body, &e);
		assert_int_equal(code, cases[i].code);
		assert_int_equal(e.code, cases[i].code);
		want_contains(fo_err_msg(&e), cases[i].want);
		fo_err_clear(&e);
	}
}

/* ---- answers ---- */

static void test_overview_config(void **state)
{
	(void)state;
	flink_overview o;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(flink_rest_parse_overview("{\"taskmanagers\":1,\"slots-total\":8,\"slots-available\":6,"
						   "\"jobs-running\":1,\"jobs-finished\":5,\"jobs-cancelled\":5,"
						   "\"jobs-failed\":0,\"flink-version\":\"1.20.5\",\"flink-commit\":\"0980485\"}",
						   &o, &e),
			 0);
	assert_int_equal(o.taskmanagers, 1);
	assert_int_equal(o.slots_total, 8);
	assert_int_equal(o.slots_available, 6);
	assert_int_equal(o.jobs_running, 1);
	assert_int_equal(o.jobs_cancelled, 5);
	assert_string_equal(o.flink_version, "1.20.5");
	flink_overview_free(&o);
	static const struct {
		const char *body;
		const char *want;
	} bad[] = {
		{"{\"taskmanagers\":1,\"slots-available\":6,\"jobs-running\":0}", "\"slots-total\" is missing"},
		{"{\"taskmanagers\":1,\"slots-total\":\"8\",\"slots-available\":6,\"jobs-running\":0}", "\"slots-total\""},
		{"{\"taskmanagers\":-1,\"slots-total\":8,\"slots-available\":6,\"jobs-running\":0}", "\"taskmanagers\""},
		{"{\"taskmanagers\":1.5,\"slots-total\":8,\"slots-available\":6,\"jobs-running\":0}", "\"taskmanagers\""},
		{"{\"taskmanagers\":1e300,\"slots-total\":8,\"slots-available\":6,\"jobs-running\":0}", "\"taskmanagers\""},
		{"{\"taskmanagers\":1,\"slots-total\":8,\"slots-available\":9,\"jobs-running\":0}", "9 slots available of 8"},
		{"[1,2]", "not a JSON object"},
		{"<html>", "not a JSON object: \"<html>\""},
		{"", "not a JSON object"},
		{NULL, "not a JSON object"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(bad); i++) {
		assert_int_equal(flink_rest_parse_overview(bad[i].body, &o, &e), FO_ESERVER);
		want_contains(fo_err_msg(&e), bad[i].want);
		assert_null(o.flink_version);
		fo_err_clear(&e);
	}
	flink_cluster_config c;
	assert_int_equal(flink_rest_parse_config("{\"refresh-interval\":3000,\"timezone-name\":\"UTC\",\"flink-version\":"
						 "\"1.20.5\",\"flink-revision\":\"0980485 @ 2026\",\"features\":"
						 "{\"web-submit\":true,\"web-cancel\":true,\"web-rescale\":false}}",
						 &c, &e),
			 0);
	assert_string_equal(c.flink_version, "1.20.5");
	assert_int_equal(c.refresh_interval_ms, 3000);
	assert_true(c.web_submit);
	assert_true(c.web_cancel);
	flink_cluster_config_free(&c);
	assert_int_equal(flink_rest_parse_config("{\"features\":7,\"flink-version\":\"1.17.1\"}", &c, &e), 0);
	assert_false(c.web_submit);
	assert_int_equal(c.refresh_interval_ms, -1);
	flink_cluster_config_free(&c);
	assert_int_equal(flink_rest_parse_config("{\"status\":\"ok\"}", &c, &e), FO_ESERVER);
	want_contains(fo_err_msg(&e), "is this Flink's REST API?");
	fo_err_clear(&e);
}

static void test_taskmanagers(void **state)
{
	(void)state;
	flink_taskmanagers t;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(flink_rest_parse_taskmanagers(
				 "{\"taskmanagers\":[{\"id\":\"a7a8\",\"path\":\"pekko://flink/user/rpc/taskmanager_0\","
				 "\"slotsNumber\":8,\"freeSlots\":6,\"hardware\":{\"cpuCores\":2}},"
				 "{\"id\":\"b\",\"slotsNumber\":2,\"freeSlots\":0}]}",
				 &t, &e),
			 0);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.v[0].id, "a7a8");
	assert_int_equal(t.v[0].slots, 8);
	assert_int_equal(t.v[0].free_slots, 6);
	assert_int_equal(t.v[1].free_slots, 0);
	flink_taskmanagers_free(&t);
	assert_int_equal(flink_rest_parse_taskmanagers("{\"taskmanagers\":[]}", &t, &e), 0);
	assert_int_equal(t.n, 0);
	flink_taskmanagers_free(&t);
	assert_int_equal(flink_rest_parse_taskmanagers("{\"taskmanagers\":[{\"id\":\"a\",\"slotsNumber\":8}]}", &t, &e),
			 FO_ESERVER);
	want_contains(fo_err_msg(&e), "TaskManager a: unexpected answer: \"freeSlots\"");
	assert_null(t.v);
	fo_err_clear(&e);
	assert_int_equal(flink_rest_parse_taskmanagers("{\"taskmanagers\":[{\"slotsNumber\":8,\"freeSlots\":1}]}", &t, &e),
			 FO_ESERVER);
	want_contains(fo_err_msg(&e), "TaskManager 0 has no \"id\"");
	fo_err_clear(&e);
	assert_int_equal(flink_rest_parse_taskmanagers("{\"taskmanagers\":{}}", &t, &e), FO_ESERVER);
	fo_err_clear(&e);
}

static void test_jobs(void **state)
{
	(void)state;
	flink_job_list l;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(
		flink_rest_parse_jobs(
			"{\"jobs\":[{\"jid\":\"d798c34a02d95b38a3ba4d588bc390ca\",\"name\":\"flinkops-rig-counter\","
			"\"start-time\":1795462744559,\"end-time\":1795462749187,\"duration\":4628,\"state\":\"FINISHED\","
			"\"last-modification\":1795462749187,\"tasks\":{\"running\":0,\"total\":5}},"
			"{\"jid\":\"00000000000000000000000000000ABC\",\"state\":\"RUNNING\",\"start-time\":1,"
			"\"end-time\":-1},"
			"{\"jid\":\"0123456789abcdef0123456789abcdef\",\"state\":\"SOMETHING_NEW\"}]}",
			&l, &e),
		0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].id, "d798c34a02d95b38a3ba4d588bc390ca");
	assert_string_equal(l.v[0].name, "flinkops-rig-counter");
	assert_int_equal(l.v[0].state, FLINK_JOB_FINISHED);
	assert_true(l.v[0].start_time == 1795462744559LL);
	assert_int_equal(l.v[0].duration, 4628);
	assert_int_equal(l.v[1].state, FLINK_JOB_RUNNING);
	assert_int_equal(l.v[1].end_time, -1);
	assert_null(l.v[1].name);
	assert_int_equal(l.v[1].duration, -1);
	assert_int_equal(l.v[1].now, -1); /* no "now" in the reply: unknown, so nothing is final by it */
	assert_int_equal(l.v[2].state, FLINK_JOB_UNKNOWN);
	assert_string_equal(l.v[2].state_name, "SOMETHING_NEW");
	flink_job_list_free(&l);
	static const struct {
		const char *body;
		const char *want;
	} bad[] = {
		{"{\"jobs\":[{\"jid\":\"abc\",\"state\":\"RUNNING\"}]}", "not 32 hex digits"},
		{"{\"jobs\":[{\"jid\":\"0123456789abcdef0123456789abcdeg\",\"state\":\"RUNNING\"}]}", "not 32 hex digits"},
		{"{\"jobs\":[{\"jid\":\"0123456789abcdef0123456789abcdef\"}]}", "has no \"state\""},
		{"{\"jobs\":[{\"jid\":\"0123456789abcdef0123456789abcdef\",\"state\":7}]}", "has no \"state\""},
		{"{\"jobs\":[{\"jid\":\"0123456789abcdef0123456789abcdef\",\"state\":\"RUNNING\",\"start-time\":\"x\"}]}",
		 "not a whole number"},
		{"{\"jobs\":[{\"jid\":\"0123456789abcdef0123456789abcdef\",\"state\":\"FAILED\",\"now\":\"x\"}]}",
		 "not a whole number"},
		{"{\"jobs\":[1]}", "not an object"},
		{"{\"jobs\":null}", "\"jobs\" is missing"},
		{"{\"jobs\":[{\"jid\":\"0123456789abcdef0123456789abcdef\",\"state\":\"RUNNING\"},{}]}", "\"jid\""},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(bad); i++) {
		assert_int_equal(flink_rest_parse_jobs(bad[i].body, &l, &e), FO_ESERVER);
		want_contains(fo_err_msg(&e), bad[i].want);
		assert_null(l.v);
		fo_err_clear(&e);
	}
	flink_job_info j;
	assert_int_equal(flink_rest_parse_job("{\"jid\":\"00000000000000000000000000000abc\",\"name\":\"n\",\"isStoppable\":"
					      "false,\"state\":\"CANCELLING\",\"start-time\":1795464225028,\"end-time\":-1,"
					      "\"now\":1795464230117,"
					      "\"vertices\":[{\"id\":\"x\"}],\"timestamps\":{\"RUNNING\":1}}",
					      &j, &e),
			 0);
	assert_int_equal(j.state, FLINK_JOB_CANCELLING);
	assert_string_equal(j.name, "n");
	/* Flink's own clock, which judges when its statistics are final (deploy_stats_final) */
	assert_true(j.now == 1795464230117LL);
	flink_job_info_free(&j);
	assert_int_equal(flink_rest_parse_job("{\"errors\":[\"x\"]}", &j, &e), FO_ESERVER);
	fo_err_clear(&e);
}

static void test_job_status_names(void **state)
{
	(void)state;
	for (int i = 1; i < FLINK_JOB_STATUS_COUNT; i++)
		assert_int_equal(flink_job_status_parse(flink_job_status_name((enum flink_job_status)i)), i);
	assert_int_equal(flink_job_status_parse("running"), FLINK_JOB_UNKNOWN);
	assert_int_equal(flink_job_status_parse(NULL), FLINK_JOB_UNKNOWN);
	assert_string_equal(flink_job_status_name((enum flink_job_status)99), "UNKNOWN");
	assert_true(flink_job_status_is_terminal(FLINK_JOB_FAILED));
	assert_true(flink_job_status_is_terminal(FLINK_JOB_CANCELED));
	assert_true(flink_job_status_is_terminal(FLINK_JOB_FINISHED));
	assert_false(flink_job_status_is_terminal(FLINK_JOB_SUSPENDED));
	assert_false(flink_job_status_is_terminal(FLINK_JOB_RESTARTING));
	assert_true(flink_rest_valid_job_id("0123456789abcdefABCDEF0123456789"));
	assert_false(flink_rest_valid_job_id("0123456789abcdef0123456789abcde"));
	assert_false(flink_rest_valid_job_id("../../../../../../../../etc/pas"));
	assert_false(flink_rest_valid_job_id(NULL));
	assert_true(flink_rest_valid_jar_id("601ec2fe-0aae-4f39-89a0-01f104996fa4_counter-job.jar"));
	assert_false(flink_rest_valid_jar_id("../x.jar"));
	assert_false(flink_rest_valid_jar_id("a/x.jar"));
	assert_false(flink_rest_valid_jar_id("x.zip"));
	assert_false(flink_rest_valid_jar_id(".jar"));
	assert_false(flink_rest_valid_jar_id("a\nb.jar"));
	assert_false(flink_rest_valid_jar_id(""));
}

static void test_checkpoints(void **state)
{
	(void)state;
	flink_checkpoint_info c;
	fo_err e = FO_ERR_INIT;
	/* the real shape, a checkpoint newer than the savepoint, restored from one */
	assert_int_equal(
		flink_rest_parse_checkpoints(
			"{\"counts\":{\"restored\":1,\"total\":9,\"in_progress\":0,\"completed\":8,\"failed\":1},"
			"\"summary\":{\"state_size\":{\"min\":5562}},"
			"\"latest\":{\"completed\":{\"className\":\"completed\",\"id\":9,\"status\":\"COMPLETED\","
			"\"is_savepoint\":false,\"trigger_timestamp\":1795464227570,\"external_path\":"
			"\"file:/cp/0abc/chk-9\",\"discarded\":false},"
			"\"savepoint\":{\"id\":7,\"is_savepoint\":true,\"external_path\":\"file:/sp/savepoint-0abc-1\"},"
			"\"failed\":{\"id\":8,\"failure_message\":\"java.io.IOException: no space\\n\\tat x.y(Y.java:1)\"},"
			"\"restored\":{\"id\":6,\"restore_timestamp\":1,\"is_savepoint\":true,"
			"\"external_path\":\"file:/sp/savepoint-old\"}},\"history\":[]}",
			&c, &e),
		0);
	assert_int_equal(c.completed, 8);
	assert_int_equal(c.failed, 1);
	assert_int_equal(c.restored, 1);
	assert_int_equal(c.latest_id, 9);
	assert_string_equal(c.latest_path, "file:/cp/0abc/chk-9");
	assert_false(c.latest_is_savepoint);
	assert_true(c.latest_trigger_time == 1795464227570LL);
	assert_string_equal(c.latest_savepoint_path, "file:/sp/savepoint-0abc-1");
	assert_string_equal(c.restored_path, "file:/sp/savepoint-old");
	assert_string_equal(c.latest_failure, "java.io.IOException: no space");
	flink_checkpoint_info_free(&c);
	/* a savepoint newer than the last checkpoint is the latest */
	assert_int_equal(flink_rest_parse_checkpoints(
				 "{\"counts\":{\"completed\":3,\"failed\":0},\"latest\":{\"completed\":{\"id\":2,"
				 "\"external_path\":\"file:/cp/chk-2\"},\"savepoint\":{\"id\":3,\"is_savepoint\":true,"
				 "\"external_path\":\"file:/sp/s3\"},\"failed\":null,\"restored\":null}}",
				 &c, &e),
			 0);
	assert_int_equal(c.latest_id, 3);
	assert_string_equal(c.latest_path, "file:/sp/s3");
	assert_true(c.latest_is_savepoint);
	assert_null(c.restored_path);
	assert_null(c.latest_failure);
	flink_checkpoint_info_free(&c);
	/* a fresh job: nothing yet */
	assert_int_equal(flink_rest_parse_checkpoints("{\"counts\":{\"restored\":0,\"total\":0,\"in_progress\":0,"
						      "\"completed\":0,\"failed\":0},\"latest\":{\"completed\":null,"
						      "\"savepoint\":null,\"failed\":null,\"restored\":null},\"history\":[]}",
						      &c, &e),
			 0);
	assert_int_equal(c.latest_id, -1);
	assert_null(c.latest_path);
	flink_checkpoint_info_free(&c);
	/* a completed checkpoint without a path (not externalised) is still counted */
	assert_int_equal(flink_rest_parse_checkpoints("{\"counts\":{\"completed\":1,\"failed\":0},\"latest\":{\"completed\":"
						      "{\"id\":1,\"external_path\":\"<checkpoint-not-externally-addressable>\"}}}",
						      &c, &e),
			 0);
	assert_int_equal(c.latest_id, 1);
	flink_checkpoint_info_free(&c);
	static const char *bad[] = {
		"{}",
		"{\"counts\":{\"completed\":\"1\",\"failed\":0}}",
		"{\"counts\":{\"completed\":-1,\"failed\":0}}",
		"{\"counts\":{\"completed\":1,\"failed\":0},\"latest\":[]}",
		"{\"counts\":{\"completed\":1,\"failed\":0},\"latest\":{\"completed\":{\"external_path\":\"x\"}}}",
		/* the checkpointing of a batch job answers with an error body */
		"{\"errors\":[\"Checkpointing has not been enabled.\"]}",
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(bad); i++) {
		if (flink_rest_parse_checkpoints(bad[i], &c, &e) != FO_ESERVER)
			fail_msg("accepted %s", bad[i]);
		want_contains(fo_err_msg(&e), "unexpected answer");
		assert_null(c.latest_path);
		fo_err_clear(&e);
	}
}

/* A checkpoint asked of a running job (POST /jobs/:id/checkpoints): its
 * status as Flink 1.17+ answers, and the completed checkpoint's path. */
static void test_checkpoint_status(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		int rc;
		enum flink_savepoint_state st;
		int64_t id;
		const char *msg; /* a substring of the error or failure */
	} cases[] = {
		{"{\"status\":{\"id\":\"IN_PROGRESS\"}}", 0, FLINK_SAVEPOINT_IN_PROGRESS, -1, NULL},
		{"{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"checkpointId\":42}}", 0, FLINK_SAVEPOINT_COMPLETED, 42,
		 NULL},
		{"{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"failure-cause\":{\"class\":"
		 "\"org.apache.flink.runtime.checkpoint.CheckpointException\",\"stack-trace\":"
		 "\"org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint triggering task is not being "
		 "executed.\\n\\tat X.y(X.java:1)\"}}}",
		 FO_ESERVER, FLINK_SAVEPOINT_FAILED, -1, "the checkpoint failed: org.apache.flink.runtime.checkpoint."
		 "CheckpointException: Checkpoint triggering task is not being executed."},
		{"{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{}}", FO_ESERVER, FLINK_SAVEPOINT_IN_PROGRESS, -1,
		 "a COMPLETED checkpoint without a checkpointId"},
		{"{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"checkpointId\":-3}}", FO_ESERVER,
		 FLINK_SAVEPOINT_IN_PROGRESS, -1, "without a checkpointId"},
		{"{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"checkpointId\":\"42\"}}", FO_ESERVER,
		 FLINK_SAVEPOINT_IN_PROGRESS, -1, "without a checkpointId"},
		{"{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"checkpointId\":1.5}}", FO_ESERVER,
		 FLINK_SAVEPOINT_IN_PROGRESS, -1, "without a checkpointId"},
		{"[]", FO_ESERVER, FLINK_SAVEPOINT_IN_PROGRESS, -1, NULL},
		{"{\"status\":{\"id\":\"WEIRD\"}}", FO_ESERVER, FLINK_SAVEPOINT_IN_PROGRESS, -1, "status \"WEIRD\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flink_savepoint_status s;
		fo_err e = FO_ERR_INIT;
		int rc = flink_rest_parse_checkpoint_status(cases[i].body, &s, &e);
		if (rc != cases[i].rc || s.state != cases[i].st || s.checkpoint_id != cases[i].id)
			fail_msg("case %zu: rc %d state %d id %lld (%s)", i, rc, s.state, (long long)s.checkpoint_id,
				 fo_err_msg(&e));
		if (cases[i].msg && !strstr(fo_err_msg(&e), cases[i].msg))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, fo_err_msg(&e), cases[i].msg);
		flink_savepoint_status_free(&s);
		fo_err_clear(&e);
	}
	/* the path, from the job's own history (Flink's details cache mixes jobs) */
	static const char hist[] =
		"{\"counts\":{\"completed\":2,\"failed\":0},\"history\":["
		"{\"id\":43,\"status\":\"IN_PROGRESS\",\"external_path\":\"<checkpoint-not-externally-addressable>\"},"
		"{\"id\":42,\"status\":\"COMPLETED\",\"external_path\":\"file:/ck/x/chk-42\"},"
		"{\"id\":41,\"status\":\"COMPLETED\",\"external_path\":\"<checkpoint-not-externally-addressable>\"},"
		"{\"id\":40,\"status\":\"FAILED\"}, 7]}";
	static const struct {
		const char *body;
		int64_t id;
		int rc;
		const char *path; /* or the error's substring */
	} history[] = {
		{hist, 42, 0, "file:/ck/x/chk-42"},
		{hist, 43, 0, NULL}, /* not completed yet */
		{hist, 41, 0, NULL}, /* nowhere addressable */
		{hist, 40, 0, NULL},
		{hist, 39, 0, NULL}, /* not listed (yet, or any more) */
		{"{\"counts\":{}}", 42, 0, NULL},
		{"{\"history\":{}}", 42, FO_ESERVER, "the checkpoint \"history\" is not a list"},
		{"nope", 42, FO_ESERVER, NULL},
	};
	for (size_t i = 0; i < sizeof(history) / sizeof(history[0]); i++) {
		char *path = NULL;
		fo_err e = FO_ERR_INIT;
		int rc = flink_rest_parse_checkpoint_history(history[i].body, history[i].id, &path, &e);
		if (rc != history[i].rc)
			fail_msg("history %zu: rc %d (%s)", i, rc, fo_err_msg(&e));
		if (rc == 0 && !fo_streq(path, history[i].path))
			fail_msg("history %zu: path %s", i, path ? path : "(none)");
		if (rc < 0 && history[i].path && !strstr(fo_err_msg(&e), history[i].path))
			fail_msg("history %zu: \"%s\"", i, fo_err_msg(&e));
		free(path);
		fo_err_clear(&e);
	}
}

static void test_savepoint_status(void **state)
{
	(void)state;
	flink_savepoint_status s;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(flink_rest_parse_savepoint_status("{\"status\":{\"id\":\"IN_PROGRESS\"}}", &s, &e), 0);
	assert_int_equal(s.state, FLINK_SAVEPOINT_IN_PROGRESS);
	assert_null(s.location);
	flink_savepoint_status_free(&s);
	assert_int_equal(flink_rest_parse_savepoint_status("{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"location\":"
							   "\"file:/tmp/fx/sp/savepoint-000000-b6002718b4a0\"}}",
							   &s, &e),
			 0);
	assert_int_equal(s.state, FLINK_SAVEPOINT_COMPLETED);
	assert_string_equal(s.location, "file:/tmp/fx/sp/savepoint-000000-b6002718b4a0");
	flink_savepoint_status_free(&s);
	/* a failed savepoint is COMPLETED with a failure-cause: an error with Flink's cause */
	assert_int_equal(
		flink_rest_parse_savepoint_status(
			"{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"failure-cause\":{\"class\":"
			"\"java.util.concurrent.CompletionException\",\"stack-trace\":\"java.util.concurrent.CompletionException: "
			"org.apache.flink.runtime.checkpoint.CheckpointException: An Exception occurred while triggering the "
			"checkpoint. IO-problem detected.\\n\\tat java.base/java.util.concurrent.CompletableFuture.encodeRelay"
			"(CompletableFuture.java:368)\\nCaused by: org.apache.flink.runtime.checkpoint.CheckpointException: An "
			"Exception occurred while triggering the checkpoint. IO-problem detected.\\n\\tat x.y(Y.java:1)\\n"
			"Caused by: java.io.IOException: Failed to create savepoint directory at /tmp/fx/afile/sub\\n\\t... 3 more\\n"
			"Caused by: java.nio.file.FileAlreadyExistsException: /tmp/fx/afile\\n\\t... 8 more\\n\","
			"\"serialized-throwable\":\"rO0ABXNy\"}}}",
			&s, &e),
		FO_ESERVER);
	assert_int_equal(s.state, FLINK_SAVEPOINT_FAILED);
	assert_null(s.location);
	assert_string_equal(s.failure, "org.apache.flink.runtime.checkpoint.CheckpointException: An Exception occurred "
				       "while triggering the checkpoint. IO-problem detected.; caused by: java.io.IOException: "
				       "Failed to create savepoint directory at /tmp/fx/afile/sub; caused by: "
				       "java.nio.file.FileAlreadyExistsException: /tmp/fx/afile");
	want_contains(fo_err_msg(&e), "the savepoint failed: org.apache.flink.runtime.checkpoint.CheckpointException");
	flink_savepoint_status_free(&s);
	fo_err_clear(&e);
	/* a failure-cause with only a class, or nothing */
	assert_int_equal(flink_rest_parse_savepoint_status("{\"status\":{\"id\":\"COMPLETED\"},\"operation\":"
							   "{\"failure-cause\":{\"class\":\"x.Y\"}}}",
							   &s, &e),
			 FO_ESERVER);
	assert_string_equal(s.failure, "x.Y");
	flink_savepoint_status_free(&s);
	fo_err_clear(&e);
	assert_int_equal(flink_rest_parse_savepoint_status("{\"status\":{\"id\":\"COMPLETED\"},\"operation\":"
							   "{\"failure-cause\":7}}",
							   &s, &e),
			 FO_ESERVER);
	assert_string_equal(s.failure, "no cause given");
	flink_savepoint_status_free(&s);
	fo_err_clear(&e);
	static const struct {
		const char *body;
		const char *want;
	} bad[] = {
		{"{\"status\":{\"id\":\"COMPLETED\"}}", "without \"operation\""},
		{"{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{}}", "without a location"},
		{"{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"location\":5}}", "without a location"},
		{"{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"location\":\"\"}}", "without a location"},
		{"{\"status\":{\"id\":\"WEIRD\\n\"}}", "savepoint status \"WEIRD \""},
		{"{\"status\":\"COMPLETED\"}", "no \"status\""},
		{"{}", "no \"status\""},
		{"[]", "not a JSON object"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(bad); i++) {
		assert_int_equal(flink_rest_parse_savepoint_status(bad[i].body, &s, &e), FO_ESERVER);
		want_contains(fo_err_msg(&e), bad[i].want);
		assert_null(s.location);
		assert_null(s.failure);
		fo_err_clear(&e);
	}
	/* an absurd location is refused, not copied */
	fo_buf b = FO_BUF_INIT;
	fo_buf_puts(&b, "{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"location\":\"file:/");
	for (int i = 0; i < 10000; i++)
		fo_buf_putc(&b, 'a');
	fo_buf_puts(&b, "\"}}");
	assert_int_equal(flink_rest_parse_savepoint_status(b.ptr, &s, &e), FO_ETOOBIG);
	assert_null(s.location);
	fo_err_clear(&e);
	fo_buf_free(&b);
}

static void test_ids(void **state)
{
	(void)state;
	char *id = NULL;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(flink_rest_parse_trigger("{\"request-id\":\"787480a179f6a2f9699e8b7a6a9ad6e9\"}", &id, &e), 0);
	assert_string_equal(id, "787480a179f6a2f9699e8b7a6a9ad6e9");
	free(id);
	assert_int_equal(flink_rest_parse_trigger("{}", &id, &e), FO_ESERVER);
	assert_null(id);
	want_contains(fo_err_msg(&e), "\"request-id\" is missing");
	fo_err_clear(&e);
	assert_int_equal(flink_rest_parse_trigger("{\"request-id\":\"../x\"}", &id, &e), FO_ESERVER);
	fo_err_clear(&e);
	assert_int_equal(flink_rest_parse_run("{\"jobid\":\"00000000000000000000000000000abc\"}", &id, &e), 0);
	assert_string_equal(id, "00000000000000000000000000000abc");
	free(id);
	assert_int_equal(flink_rest_parse_run("{\"jobid\":12}", &id, &e), FO_ESERVER);
	fo_err_clear(&e);
	assert_int_equal(flink_rest_parse_upload("{\"filename\":\"/tmp/flinkops-rig/data/flink/jars/flink-web-upload/"
						 "601ec2fe-0aae-4f39-89a0-01f104996fa4_counter-job.jar\","
						 "\"status\":\"success\"}",
						 &id, &e),
			 0);
	assert_string_equal(id, "601ec2fe-0aae-4f39-89a0-01f104996fa4_counter-job.jar");
	free(id);
	/* Windows-free, relative name still works */
	assert_int_equal(flink_rest_parse_upload("{\"filename\":\"abc_x.jar\",\"status\":\"success\"}", &id, &e), 0);
	assert_string_equal(id, "abc_x.jar");
	free(id);
	static const struct {
		const char *body;
		const char *want;
	} bad[] = {
		{"{\"filename\":\"/a/b_x.jar\",\"status\":\"failure\"}", "upload status \"failure\""},
		{"{\"filename\":\"/a/b_x.jar\"}", "upload status \"(none)\""},
		{"{\"filename\":\"/a/\",\"status\":\"success\"}", "does not end in a jar name"},
		{"{\"filename\":\"/a/..\",\"status\":\"success\"}", "does not end in a jar name"},
		{"{\"status\":\"success\"}", "\"filename\" is missing"},
		{"{\"filename\":[],\"status\":\"success\"}", "\"filename\" is missing"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(bad); i++) {
		assert_int_equal(flink_rest_parse_upload(bad[i].body, &id, &e), FO_ESERVER);
		want_contains(fo_err_msg(&e), bad[i].want);
		assert_null(id);
		fo_err_clear(&e);
	}
}

static void test_exceptions(void **state)
{
	(void)state;
	char *cause = NULL;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(flink_rest_parse_exceptions("{\"root-exception\":null,\"timestamp\":null,\"all-exceptions\":[],"
						     "\"truncated\":false,\"exceptionHistory\":{\"entries\":[],"
						     "\"truncated\":false}}",
						     &cause, &e),
			 0);
	assert_null(cause);
	assert_int_equal(
		flink_rest_parse_exceptions(
			"{\"root-exception\":\"org.apache.flink.runtime.JobException: Recovery is suppressed\\n\\tat a.b(C.java:1)\","
			"\"exceptionHistory\":{\"entries\":[{\"exceptionName\":\"java.lang.IllegalStateException\","
			"\"stacktrace\":\"java.lang.IllegalStateException: flinkops-rig: fail marker present: /tmp/m\\n"
			"\\tat io.flinkops.rig.CounterJob$Counter.processElement(CounterJob.java:99)\\n\","
			"\"timestamp\":1}]}}",
			&cause, &e),
		0);
	assert_string_equal(cause, "java.lang.IllegalStateException: flinkops-rig: fail marker present: /tmp/m");
	free(cause);
	/* older versions: root-exception only */
	assert_int_equal(flink_rest_parse_exceptions("{\"root-exception\":\"java.lang.Exception: boom\\n\\tat a.b(C.java:1)\"}",
						     &cause, &e),
			 0);
	assert_string_equal(cause, "java.lang.Exception: boom");
	free(cause);
	assert_int_equal(flink_rest_parse_exceptions("{\"exceptionHistory\":{\"entries\":[{\"exceptionName\":\"x.Y\"}]}}",
						     &cause, &e),
			 0);
	assert_string_equal(cause, "x.Y");
	free(cause);
	assert_int_equal(flink_rest_parse_exceptions("{\"exceptionHistory\":{\"entries\":\"no\"}}", &cause, &e), 0);
	assert_null(cause);
	assert_int_equal(flink_rest_parse_exceptions("nope", &cause, &e), FO_ESERVER);
	fo_err_clear(&e);
}

static void test_run_body(void **state)
{
	(void)state;
	const char *args[] = {"--counter-file", "/tmp/c \"x\"", "--rate", "10"};
	flink_run_opts o = {0};
	o.entry_class = "io.flinkops.rig.CounterJob";
	o.args = args;
	o.nargs = 4;
	o.parallelism = 2;
	o.savepoint_path = "file:/sp/savepoint-1";
	o.allow_non_restored_state = true;
	o.job_id = "00000000000000000000000000000abc";
	char *body = flink_rest_run_body(&o);
	cJSON *j = cJSON_Parse(body);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "entryClass")->valuestring, "io.flinkops.rig.CounterJob");
	cJSON *a = cJSON_GetObjectItem(j, "programArgsList");
	assert_int_equal(cJSON_GetArraySize(a), 4);
	assert_string_equal(cJSON_GetArrayItem(a, 1)->valuestring, "/tmp/c \"x\"");
	assert_int_equal(cJSON_GetObjectItem(j, "parallelism")->valueint, 2);
	assert_string_equal(cJSON_GetObjectItem(j, "savepointPath")->valuestring, "file:/sp/savepoint-1");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "allowNonRestoredState")));
	assert_string_equal(cJSON_GetObjectItem(j, "jobId")->valuestring, "00000000000000000000000000000abc");
	cJSON_Delete(j);
	free(body);
	flink_run_opts none = {0};
	body = flink_rest_run_body(&none);
	assert_string_equal(body, "{\"allowNonRestoredState\":false}");
	free(body);
}

static void test_client_urls(void **state)
{
	(void)state;
	flink_rest *c = NULL;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(flink_rest_new("http://wc-rest.prod.svc:8081///", NULL, &c, &e), 0);
	assert_string_equal(flink_rest_base(c), "http://wc-rest.prod.svc:8081");
	/* ids are checked before any request is made */
	flink_job_info j;
	assert_int_equal(flink_rest_job(c, "../overview", &j, &e), FO_EINVAL);
	want_contains(fo_err_msg(&e), "\"../overview\" is not a Flink job id");
	fo_err_clear(&e);
	char *id = NULL;
	flink_run_opts o = {0};
	assert_int_equal(flink_rest_jar_run(c, "a/../b.jar", &o, &id, &e), FO_EINVAL);
	fo_err_clear(&e);
	o.job_id = "xyz";
	assert_int_equal(flink_rest_jar_run(c, "b.jar", &o, &id, &e), FO_EINVAL);
	fo_err_clear(&e);
	assert_int_equal(flink_rest_jar_upload(c, "/tmp/job.zip", &id, &e), FO_EINVAL);
	want_contains(fo_err_msg(&e), "ends in .jar");
	fo_err_clear(&e);
	flink_savepoint_status s;
	assert_int_equal(flink_rest_savepoint_status(c, "00000000000000000000000000000abc", "x/y", &s, &e), FO_EINVAL);
	fo_err_clear(&e);
	flink_rest_free(c);
	static const char *bad[] = {
		"ftp://h:8081", "wc-rest:8081", "http://", "http:///x", "http://user:secret@h:8081", "http://h:8081/?x=1",
		"http://h:8081/#f", NULL,
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(bad); i++) {
		assert_int_equal(flink_rest_new(bad[i], NULL, &c, &e), FO_EINVAL);
		assert_null(c);
		want_lacks(fo_err_msg(&e), "secret");
		fo_err_clear(&e);
	}
}


/* Every parser on every prefix and on byte-flipped copies of real answers:
 * errors or results, never a crash or a leak (valgrind and ASan watch). */
static void run_all_parsers(const char *body)
{
	fo_err e = FO_ERR_INIT;
	flink_cluster_config cc;
	flink_overview ov;
	flink_taskmanagers tm;
	flink_job_list jl;
	flink_job_info ji;
	flink_checkpoint_info ci;
	flink_savepoint_status ss;
	char *s = NULL;
	flink_rest_parse_config(body, &cc, &e);
	flink_cluster_config_free(&cc);
	flink_rest_parse_overview(body, &ov, &e);
	flink_overview_free(&ov);
	flink_rest_parse_taskmanagers(body, &tm, &e);
	flink_taskmanagers_free(&tm);
	flink_rest_parse_jobs(body, &jl, &e);
	flink_job_list_free(&jl);
	flink_rest_parse_job(body, &ji, &e);
	flink_job_info_free(&ji);
	flink_rest_parse_checkpoints(body, &ci, &e);
	flink_checkpoint_info_free(&ci);
	flink_rest_parse_savepoint_status(body, &ss, &e);
	flink_savepoint_status_free(&ss);
	flink_rest_parse_trigger(body, &s, &e);
	free(s);
	flink_rest_parse_run(body, &s, &e);
	free(s);
	flink_rest_parse_upload(body, &s, &e);
	free(s);
	flink_rest_parse_exceptions(body, &s, &e);
	free(s);
	int64_t n;
	flink_rest_parse_restarts(body, &n, &e);
	flink_rest_parse_watermarks(body, &n, &e);
	flink_job_watermarks w;
	flink_rest_parse_job_vertices(body, &w, &e);
	flink_job_watermarks_free(&w);
	free(flink_rest_error_text(body, 300));
	free(flink_rest_trace_text(body, 300));
	fo_err_clear(&e);
}

static void test_parsers_survive_garbage(void **state)
{
	(void)state;
	static const char *const samples[] = {
		"{\"taskmanagers\":1,\"slots-total\":8,\"slots-available\":6,\"jobs-running\":1,\"flink-version\":\"1.20.5\"}",
		"{\"taskmanagers\":[{\"id\":\"a\",\"slotsNumber\":8,\"freeSlots\":6}]}",
		"{\"jobs\":[{\"jid\":\"d798c34a02d95b38a3ba4d588bc390ca\",\"name\":\"n\",\"state\":\"RUNNING\","
		"\"start-time\":1,\"end-time\":-1,\"duration\":4}]}",
		"{\"counts\":{\"completed\":3,\"failed\":0},\"latest\":{\"completed\":{\"id\":2,\"external_path\":"
		"\"file:/cp/chk-2\"},\"savepoint\":{\"id\":3,\"external_path\":\"file:/sp\"},\"failed\":{\"id\":1,"
		"\"failure_message\":\"x: y\"},\"restored\":{\"external_path\":\"file:/r\"}}}",
		"{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"failure-cause\":{\"class\":\"a.B\",\"stack-trace\":"
		"\"a.B: c\\n\\tat d.e(F.java:1)\\nCaused by: g.H: i\"}}}",
		"{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"location\":\"file:/sp/savepoint-1\"}}",
		"{\"filename\":\"/u/1_counter-job.jar\",\"status\":\"success\"}",
		"{\"exceptionHistory\":{\"entries\":[{\"exceptionName\":\"x.Y\",\"stacktrace\":\"x.Y: z\"}]}}",
		"{\"errors\":[\"Internal server error.\",\"<Exception on server side:\\na.B: c\\n\\tat d\\nCaused by: e.F: g\\n"
		"End of exception on server side>\"]}",
	};
	unsigned seed = 12345;
	for (size_t i = 0; i < FO_ARRAY_LEN(samples); i++) {
		size_t n = strlen(samples[i]);
		char *copy = fo_malloc(n + 1);
		for (size_t cut = 0; cut <= n; cut++) {
			memcpy(copy, samples[i], cut);
			copy[cut] = '\0';
			run_all_parsers(copy);
		}
		for (int round = 0; round < 200; round++) {
			memcpy(copy, samples[i], n + 1);
			for (int flips = 0; flips < 3; flips++) {
				seed = seed * 1103515245u + 12345u;
				size_t at = (seed >> 8) % n;
				static const char alphabet[] = "{}[]\":,0-1e9xnull\\\n\t";
				copy[at] = alphabet[(seed >> 20) % (sizeof(alphabet) - 1)];
			}
			run_all_parsers(copy);
		}
		free(copy);
	}
	/* deep nesting */
	fo_buf b = FO_BUF_INIT;
	for (int i = 0; i < 100000; i++)
		fo_buf_putc(&b, '[');
	run_all_parsers(b.ptr);
	fo_buf_free(&b);
}

/* ---- jars ---- */

static void test_jar_uris(void **state)
{
	(void)state;
	flink_jar_uri u;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(flink_jar_uri_parse("s3://my-flink-jobs/team/wordcount-0.1.jar", &u, &e), 0);
	assert_int_equal(u.scheme, FLINK_JAR_S3);
	assert_string_equal(u.bucket, "my-flink-jobs");
	assert_string_equal(u.key, "team/wordcount-0.1.jar");
	assert_string_equal(u.name, "wordcount-0.1.jar");
	flink_jar_uri_free(&u);
	assert_int_equal(flink_jar_uri_parse("https://repo.example.com/a/b/job%20v2.jar?sig=abc#frag", &u, &e), 0);
	assert_int_equal(u.scheme, FLINK_JAR_HTTPS);
	assert_string_equal(u.name, "job_20v2.jar");
	flink_jar_uri_free(&u);
	assert_int_equal(flink_jar_uri_parse("http://h:8080/download", &u, &e), 0);
	assert_int_equal(u.scheme, FLINK_JAR_HTTP);
	assert_string_equal(u.name, "download.jar");
	flink_jar_uri_free(&u);
	assert_int_equal(flink_jar_uri_parse("file:///opt/jobs/.hidden.jar", &u, &e), 0);
	assert_int_equal(u.scheme, FLINK_JAR_FILE);
	assert_string_equal(u.path, "/opt/jobs/.hidden.jar");
	assert_string_equal(u.name, "_hidden.jar");
	flink_jar_uri_free(&u);
	assert_int_equal(flink_jar_uri_parse("file:/opt/jobs/x.jar", &u, &e), 0);
	assert_string_equal(u.path, "/opt/jobs/x.jar");
	flink_jar_uri_free(&u);
	assert_int_equal(flink_jar_uri_parse("file://localhost/opt/x.jar", &u, &e), 0);
	assert_string_equal(u.path, "/opt/x.jar");
	flink_jar_uri_free(&u);
	assert_int_equal(flink_jar_uri_parse("local:///opt/flink/usrlib/job.jar", &u, &e), 0);
	assert_int_equal(u.scheme, FLINK_JAR_LOCAL);
	assert_string_equal(u.path, "/opt/flink/usrlib/job.jar");
	flink_jar_uri_free(&u);
	static const struct {
		const char *uri;
		const char *want;
	} bad[] = {
		{"", "empty"},
		{"ftp://h/x.jar", "unsupported scheme \"ftp\""},
		{"job.jar", "unsupported scheme \"\""},
		{"s3://Bad_Bucket/x.jar", "not an S3 bucket name"},
		{"s3://ab/x.jar", "not an S3 bucket name"},
		{"s3://bucket", "no object key"},
		{"s3://bucket/", "no object key"},
		{"s3://AKIA:secret@bucket/x.jar", "credentials in the URI are not supported"},
		{"https://user:secret@h/x.jar", "credentials in the URI are not supported"},
		{"https:///x.jar", "no host"},
		{"https://h", "no path"},
		{"https://h/?x", "no path"},
		{"http://h/a b.jar", "percent-encoded"},
		{"file://otherhost/x.jar", "only local paths"},
		{"file:relative/x.jar", "absolute path"},
		{"local:///", "absolute path"},
		{"file:///x.jar?y", "without '?'"},
		{"s3://bucket/a\nb", "control characters"},
		{"s3://AKIA:se/cret@bucket/x.jar", "credentials in the URI are not supported"},
		{"https://user:se/cret@h/x.jar", "credentials in the URI are not supported"},
		{"s3://bucket/x.jar?X-Amz-Signature=secret", "a key without '?' or '#'"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(bad); i++) {
		if (flink_jar_uri_parse(bad[i].uri, &u, &e) != FO_EINVAL)
			fail_msg("accepted %s", bad[i].uri);
		want_contains(fo_err_msg(&e), bad[i].want);
		want_lacks(fo_err_msg(&e), "secret");
		want_lacks(fo_err_msg(&e), "se/");
		fo_err_clear(&e);
	}
}

static void test_jar_cache_paths(void **state)
{
	(void)state;
	char *a = flink_jar_cache_path("/c", "s3://b-1/x.jar", "\"etag1\"", "x.jar");
	char *b = flink_jar_cache_path("/c", "s3://b-1/x.jar", "\"etag1\"", "x.jar");
	char *c = flink_jar_cache_path("/c", "s3://b-1/x.jar", "\"etag2\"", "x.jar");
	char *d = flink_jar_cache_path("/c", "s3://b-2/x.jar", "\"etag1\"", "x.jar");
	char *dir = flink_jar_cache_dir("/c", "s3://b-1/x.jar");
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
	/* /c/<32 hex>/<16 hex>/x.jar, under the URI's folder */
	assert_int_equal(strlen(a), strlen("/c/") + 32 + 1 + 16 + strlen("/x.jar"));
	assert_true(strncmp(a, dir, strlen(dir)) == 0);
	assert_true(strncmp(c, dir, strlen(dir)) == 0);
	assert_true(fo_has_suffix(a, "/x.jar"));
	/* sha256("s3://b-1/x.jar"), first 32 hex digits */
	char *want = fo_sha256_hex("s3://b-1/x.jar", 14);
	assert_true(strncmp(dir + 3, want, 32) == 0);
	free(want);
	free(a);
	free(b);
	free(c);
	free(d);
	free(dir);
	char *k = flink_jar_s3_key_escape("team a/job+1 (ü).jar");
	assert_string_equal(k, "team%20a/job%2B1%20%28%C3%BC%29.jar");
	free(k);
}

static void test_s3_errors(void **state)
{
	(void)state;
	fo_err e = FO_ERR_INIT;
	static const char sig[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request "
		"signature we calculated does not match the signature you provided. Check your key and signing method."
		"</Message><Key>jars/counter-job.jar</Key><BucketName>flink-jobs</BucketName></Error>";
	assert_int_equal(flink_jar_s3_error(403, sig, "flink-jobs", "jars/counter-job.jar", "http://127.0.0.1:29000", true,
					    &e),
			 FO_EFORBIDDEN);
	assert_string_equal(fo_err_msg(&e),
			    "s3://flink-jobs/jars/counter-job.jar at http://127.0.0.1:29000: access denied (HTTP 403 "
			    "SignatureDoesNotMatch: The request signature we calculated does not match the signature you "
			    "provided. Check your key and signing method.); check the S3 access key and secret "
			    "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or the key files) and that they may read this object");
	fo_err_clear(&e);
	assert_int_equal(flink_jar_s3_error(403, "<Error><Code>AccessDenied</Code></Error>", "b-1", "k", "https://s3", false,
					    &e),
			 FO_EFORBIDDEN);
	want_contains(fo_err_msg(&e), "(HTTP 403 AccessDenied); no S3 credentials were given");
	fo_err_clear(&e);
	assert_int_equal(flink_jar_s3_error(404, "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist."
						 "</Message></Error>",
					    "b-1", "k", "https://s3", true, &e),
			 FO_ENOTFOUND);
	want_contains(fo_err_msg(&e), "no such bucket or key (HTTP 404 NoSuchKey: The specified key does not exist.)");
	fo_err_clear(&e);
	assert_int_equal(flink_jar_s3_error(503, NULL, "b-1", "k", "https://s3", true, &e), FO_ESERVER);
	want_contains(fo_err_msg(&e), "the server failed (HTTP 503)");
	fo_err_clear(&e);
	assert_int_equal(flink_jar_s3_error(301, "", "b-1", "k", "https://s3", true, &e), FO_EINVAL);
	want_contains(fo_err_msg(&e), "set the S3 region and endpoint");
	fo_err_clear(&e);
	/* a huge or hostile message is bounded and printable */
	fo_buf b = FO_BUF_INIT;
	fo_buf_puts(&b, "<Error><Code>X\n\x1b[31m</Code><Message>");
	for (int i = 0; i < 100000; i++)
		fo_buf_putc(&b, 'm');
	fo_buf_puts(&b, "</Message></Error>");
	flink_jar_s3_error(400, b.ptr, "b-1", "k", "https://s3", true, &e);
	assert_true(strlen(fo_err_msg(&e)) < 600);
	want_lacks(fo_err_msg(&e), "\x1b");
	want_lacks(fo_err_msg(&e), "\n");
	fo_err_clear(&e);
	fo_buf_free(&b);
}

static char *temp_dir(void)
{
	const char *t = getenv("TMPDIR");
	char *d = fo_asprintf("%s/test_rest.XXXXXX", t && *t ? t : "/tmp");
	assert_non_null(mkdtemp(d));
	return d;
}

static void write_file(const char *path, const char *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void test_jar_file_fetch(void **state)
{
	(void)state;
	char *dir = temp_dir();
	char *src = fo_asprintf("%s/job.jar", dir);
	char *cache = fo_asprintf("%s/cache/jars", dir);
	char *uri = fo_asprintf("file://%s", src);
	/* a zip header is all the check looks at */
	static const char jar1[] = "PK\x03\x04 first version";
	write_file(src, jar1, sizeof(jar1) - 1);
	flink_jar_opts o = {0};
	o.cache_dir = cache;
	flink_jar_result r;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(flink_jar_fetch_ex(uri, &o, &r, &e), 0);
	assert_false(r.from_cache);
	assert_true(fo_has_prefix(r.path, cache));
	assert_true(fo_has_suffix(r.path, "/job.jar"));
	char *first = fo_strdup(r.path);
	flink_jar_result_free(&r);
	assert_int_equal(flink_jar_fetch_ex(uri, &o, &r, &e), 0);
	assert_true(r.from_cache);
	assert_string_equal(r.path, first);
	flink_jar_result_free(&r);
	/* a changed file (size and time) is a new version */
	static const char jar2[] = "PK\x03\x04 second, longer version";
	write_file(src, jar2, sizeof(jar2) - 1);
	char *path = NULL;
	assert_int_equal(flink_jar_fetch(uri, &o, &path, &e), 0);
	assert_string_not_equal(path, first);
	char *got = NULL;
	size_t n = 0;
	assert_int_equal(fo_fs_read(path, 1000, &got, &n, &e), 0);
	assert_int_equal(n, sizeof(jar2) - 1);
	assert_memory_equal(got, jar2, n);
	free(got);
	free(path);
	/* in place */
	o.file_in_place = true;
	assert_int_equal(flink_jar_fetch(uri, &o, &path, &e), 0);
	assert_string_equal(path, src);
	free(path);
	o.file_in_place = false;
	/* size limit, not a jar, missing, a folder */
	o.max_bytes = 10;
	assert_int_equal(flink_jar_fetch(uri, &o, &path, &e), FO_ETOOBIG);
	assert_null(path);
	want_contains(fo_err_msg(&e), "more than the limit of 10");
	fo_err_clear(&e);
	o.max_bytes = 0;
	write_file(src, "<html>", 6);
	assert_int_equal(flink_jar_fetch(uri, &o, &path, &e), FO_EINVAL);
	want_contains(fo_err_msg(&e), "not a jar");
	fo_err_clear(&e);
	unlink(src);
	assert_int_equal(flink_jar_fetch(uri, &o, &path, &e), FO_ENOTFOUND);
	fo_err_clear(&e);
	char *folder_uri = fo_asprintf("file://%s", dir);
	assert_int_equal(flink_jar_fetch(folder_uri, &o, &path, &e), FO_EINVAL);
	want_contains(fo_err_msg(&e), "not a regular file");
	fo_err_clear(&e);
	/* local:// is the caller's to handle; no cache is no fetch */
	assert_int_equal(flink_jar_fetch("local:///opt/flink/usrlib/job.jar", &o, &path, &e), FO_EUNSUPPORTED);
	want_contains(fo_err_msg(&e), "application mode");
	fo_err_clear(&e);
	o.cache_dir = NULL;
	assert_int_equal(flink_jar_fetch("s3://bucket/x.jar", &o, &path, &e), FO_EINVAL);
	want_contains(fo_err_msg(&e), "no jar cache folder");
	fo_err_clear(&e);
	/* S3 credentials must come in pairs */
	o.cache_dir = cache;
	char *keyfile = fo_asprintf("%s/access", dir);
	write_file(keyfile, "AKIAEXAMPLE\n", 12);
	o.s3_access_key_file = keyfile;
	o.s3_endpoint = "http://127.0.0.1:1";
	unsetenv("AWS_SECRET_ACCESS_KEY");
	assert_int_equal(flink_jar_fetch("s3://bucket/x.jar", &o, &path, &e), FO_EINVAL);
	want_contains(fo_err_msg(&e), "an access key without its secret");
	fo_err_clear(&e);
	o.s3_endpoint = "http://user:pw@127.0.0.1:1";
	assert_int_equal(flink_jar_fetch("s3://bucket/x.jar", &o, &path, &e), FO_EINVAL);
	want_lacks(fo_err_msg(&e), "pw");
	fo_err_clear(&e);
	/* no temporary files left behind by any of it */
	char *cmd = fo_asprintf("test -z \"$(find '%s' -name '.download-*')\"", cache);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	cmd = fo_asprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(keyfile);
	free(folder_uri);
	free(first);
	free(uri);
	free(cache);
	free(src);
	free(dir);
}

/* The jar cache's bound: least recently used first, never what is in use. */
static void test_jar_cache_evict(void **state)
{
	(void)state;
	enum { MIN = 60 * 1000 };
	const int64_t now = 1000L * MIN;
	static const struct {
		const char *what;
		uint64_t max;
		size_t n;
		flink_jar_cached c[4];
		const char *want;   /* 'x' evicted, '.' kept, per version */
		uint64_t left;
	} cases[] = {
		{"under the bound: nothing goes", 100, 3, {{30, now - 90 * MIN, false}, {30, now - 60 * MIN, false}, {30, now - 30 * MIN, false}}, "...", 90},
		{"the oldest goes first, only as many as needed", 70, 3,
		 {{30, now - 30 * MIN, false}, {30, now - 90 * MIN, false}, {30, now - 60 * MIN, false}}, ".x.", 60},
		{"all but the newest", 30, 3, {{30, now - 30 * MIN, false}, {30, now - 90 * MIN, false}, {30, now - 60 * MIN, false}}, ".xx", 30},
		{"the jar handed out now stays even when oldest", 50, 3,
		 {{40, now - 99 * MIN, true}, {30, now - 90 * MIN, false}, {30, now - 60 * MIN, false}}, ".xx", 40},
		{"a jar used within the in-use window stays", 10, 3,
		 {{30, now - 5 * MIN, false}, {30, now - 90 * MIN, false}, {30, now - 14 * MIN, false}}, ".x.", 60},
		{"in use alone over the bound: the rest goes, the bound is exceeded", 10, 2, {{80, now, true}, {30, now - 90 * MIN, false}}, ".x", 80},
		{"equal times: the larger first", 60, 3, {{20, now - 60 * MIN, false}, {50, now - 60 * MIN, false}, {20, now - 20 * MIN, false}}, ".x.", 40},
		{"an empty cache", 10, 0, {{0, 0, false}}, "", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool evict[4] = {true, true, true, true};
		uint64_t left = flink_jar_cache_evict(cases[i].c, cases[i].n, cases[i].max, now, FLINK_JAR_IN_USE_MS, evict);
		char got[5] = {0};
		for (size_t k = 0; k < cases[i].n; k++)
			got[k] = evict[k] ? 'x' : '.';
		if (strcmp(got, cases[i].want) != 0 || left != cases[i].left)
			fail_msg("%s: evicted %s, want %s; %llu bytes left, want %llu", cases[i].what, got, cases[i].want,
				 (unsigned long long)left, (unsigned long long)cases[i].left);
	}
}

/* On disk: a fetch over the bound removes the least recently used version
 * folder, keeps the jar it hands out, and clears a dead download's file. */
static void test_jar_cache_trim(void **state)
{
	(void)state;
	char *dir = temp_dir();
	char *cache = fo_asprintf("%s/jars", dir);
	flink_jar_opts o = {0};
	o.cache_dir = cache;
	char *paths[3];
	static const char body[] = "PK\x03\x04 0123456789012345678901234567890123456789";
	fo_err e = FO_ERR_INIT;
	for (int i = 0; i < 3; i++) {
		char *src = fo_asprintf("%s/job%d.jar", dir, i);
		write_file(src, body, sizeof(body) - 1);
		char *uri = fo_asprintf("file://%s", src);
		assert_int_equal(flink_jar_fetch(uri, &o, &paths[i], &e), 0);
		/* used 3, 2 and 1 hours ago */
		struct timespec t[2] = {{time(NULL) - (3 - i) * 3600, 0}, {time(NULL) - (3 - i) * 3600, 0}};
		assert_int_equal(utimensat(AT_FDCWD, paths[i], t, 0), 0);
		free(uri);
		free(src);
	}
	char *udir = fo_strndup(paths[0], strrchr(paths[0], '/') - paths[0]);
	*strrchr(udir, '/') = '\0';
	char *dead = fo_asprintf("%s/.download-abc123", udir);
	write_file(dead, "partial", 7);
	struct timespec old[2] = {{time(NULL) - 2 * 86400, 0}, {time(NULL) - 2 * 86400, 0}};
	assert_int_equal(utimensat(AT_FDCWD, dead, old, 0), 0);
	/* room for two: the oldest goes; the one named as in use stays however old */
	uint64_t removed = 0;
	assert_int_equal(flink_jar_cache_trim(cache, 2 * (sizeof(body) - 1), paths[1], &removed, &e), 0);
	assert_int_equal(removed, sizeof(body) - 1);
	assert_int_equal(access(paths[0], F_OK), -1);
	assert_int_equal(access(paths[1], F_OK), 0);
	assert_int_equal(access(paths[2], F_OK), 0);
	assert_int_equal(access(dead, F_OK), -1);
	/* a fetch with a bound of one jar: the jar handed out is the one kept */
	o.cache_max_bytes = sizeof(body) - 1;
	char *src = fo_asprintf("%s/job1.jar", dir);
	char *uri = fo_asprintf("file://%s", src);
	char *again = NULL;
	assert_int_equal(flink_jar_fetch(uri, &o, &again, &e), 0);
	assert_string_equal(again, paths[1]);
	assert_int_equal(access(paths[1], F_OK), 0);
	assert_int_equal(access(paths[2], F_OK), -1);
	/* a missing cache is not an error */
	char *none = fo_asprintf("%s/none", dir);
	assert_int_equal(flink_jar_cache_trim(none, 1, NULL, &removed, &e), 0);
	assert_int_equal(removed, 0);
	free(none);
	free(again);
	free(uri);
	free(src);
	free(dead);
	free(udir);
	for (int i = 0; i < 3; i++)
		free(paths[i]);
	free(cache);
	char *cmd = fo_asprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(dir);
}

/* The checkpoint configuration as Flink 1.20 answers it: an interval, or
 * Long.MAX_VALUE for a job that never checkpoints. */
static void test_checkpoint_config(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		int rc;
		int64_t interval;
	} cases[] = {
		{"{\"mode\":\"exactly_once\",\"interval\":1000,\"timeout\":600000}", 0, 1000},
		{"{\"mode\":\"exactly_once\",\"interval\":9223372036854775807}", 0, 0},
		{"{\"interval\":0}", 0, 0},
		{"{\"interval\":-5}", 0, 0},
		{"{\"mode\":\"at_least_once\"}", FO_ESERVER, 0},
		{"{\"interval\":\"1s\"}", FO_ESERVER, 0},
		{"{\"interval\":1.5}", FO_ESERVER, 0},
		{"[1]", FO_ESERVER, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -1;
		fo_err e = FO_ERR_INIT;
		int rc = flink_rest_parse_checkpoint_config(cases[i].body, &v, &e);
		if (rc != cases[i].rc || (rc == 0 && v != cases[i].interval))
			fail_msg("case %zu (%s): rc %d interval %lld (%s)", i, cases[i].body, rc, (long long)v, fo_err_msg(&e));
		fo_err_clear(&e);
	}
}

/* Flink's numRestarts metric as GET /jobs/:id/metrics?get=numRestarts
 * answers it: a list of {id, value} with the value a string. */
static void test_restarts(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		int rc;
		int64_t n;
	} cases[] = {
		{"[{\"id\":\"numRestarts\",\"value\":\"0\"}]", 0, 0},
		{"[{\"id\":\"numRestarts\",\"value\":\"3\"}]", 0, 3},
		{"[{\"id\":\"other\",\"value\":\"7\"},{\"id\":\"numRestarts\",\"value\":\"12\"}]", 0, 12},
		{"[]", 0, -1}, /* not registered yet: unknown, not 0 */
		{"[{\"id\":\"numRestarts\",\"value\":\"-1\"}]", FO_ESERVER, -1},
		{"[{\"id\":\"numRestarts\",\"value\":\"3x\"}]", FO_ESERVER, -1},
		{"[{\"id\":\"numRestarts\",\"value\":\"\"}]", FO_ESERVER, -1},
		{"[{\"id\":\"numRestarts\",\"value\":3}]", FO_ESERVER, -1},
		{"[{\"id\":\"numRestarts\",\"value\":\"99999999999999999999\"}]", FO_ESERVER, -1},
		{"{\"id\":\"numRestarts\",\"value\":\"3\"}", FO_ESERVER, -1},
		{"", FO_ESERVER, -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = 42;
		fo_err e = FO_ERR_INIT;
		int rc = flink_rest_parse_restarts(cases[i].body, &v, &e);
		if (rc != cases[i].rc || v != cases[i].n)
			fail_msg("case %zu (%s): rc %d restarts %lld (%s)", i, cases[i].body, rc, (long long)v, fo_err_msg(&e));
		fo_err_clear(&e);
	}
}

/* A job's vertices (GET /jobs/:id) and one vertex's input watermarks (GET
 * /jobs/:id/vertices/:vid/watermarks), as Flink 1.20 answers on the rig:
 * one entry a subtask, Long.MIN_VALUE while a subtask has none, and an
 * empty list for a source, which has no input. */
static void test_watermarks(void **state)
{
	(void)state;
	static const struct {
		const char *body;
		int rc;
		int64_t wm;
	} cases[] = {
		{"[{\"id\":\"0.currentInputWatermark\",\"value\":\"1765100000000\"}]", 0, INT64_C(1765100000000)},
		{"[{\"id\":\"0.currentInputWatermark\",\"value\":\"1765100000500\"},"
		 "{\"id\":\"1.currentInputWatermark\",\"value\":\"1765100000000\"}]",
		 0, INT64_C(1765100000000)}, /* the slowest subtask */
		{"[{\"id\":\"0.currentInputWatermark\",\"value\":\"1765100000500\"},"
		 "{\"id\":\"1.currentInputWatermark\",\"value\":\"-9223372036854775808\"}]",
		 0, FLINK_NO_WATERMARK}, /* one subtask without: the vertex has none */
		{"[{\"id\":\"0.currentInputWatermark\",\"value\":\"-9223372036854775808\"}]", 0, FLINK_NO_WATERMARK},
		{"[]", 0, FLINK_NO_WATERMARK}, /* a source */
		{"[{\"id\":\"0.currentInputWatermark\",\"value\":\"9223372036854775807\"}]", 0, INT64_MAX}, /* input ended */
		{"[{\"id\":\"0.currentInputWatermark\",\"value\":\"12x\"}]", FO_ESERVER, FLINK_NO_WATERMARK},
		{"[{\"id\":\"0.currentInputWatermark\",\"value\":12}]", FO_ESERVER, FLINK_NO_WATERMARK},
		{"[{\"id\":\"0.currentInputWatermark\",\"value\":\"99999999999999999999\"}]", FO_ESERVER,
		 FLINK_NO_WATERMARK},
		{"{\"value\":\"1\"}", FO_ESERVER, FLINK_NO_WATERMARK},
		{"", FO_ESERVER, FLINK_NO_WATERMARK},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = 42;
		fo_err e = FO_ERR_INIT;
		int rc = flink_rest_parse_watermarks(cases[i].body, &v, &e);
		if (rc != cases[i].rc || v != cases[i].wm)
			fail_msg("case %zu (%s): rc %d watermark %lld (%s)", i, cases[i].body, rc, (long long)v,
				 fo_err_msg(&e));
		fo_err_clear(&e);
	}

	const char *job = "{\"jid\":\"5b015f731e29e670dd1c88b5edd2ee3d\",\"state\":\"RUNNING\",\"vertices\":["
			  "{\"id\":\"8e438e001276993a86ff80dcf02e0237\",\"name\":\"Source: sequence\",\"parallelism\":1},"
			  "{\"id\":\"0da08f51eaa85fc298e176a139b3649a\",\"name\":\"counter -> counter-report\"}]}";
	flink_job_watermarks w;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(flink_rest_parse_job_vertices(job, &w, &e), 0);
	assert_int_equal(w.n, 2);
	assert_string_equal(w.v[0].id, "8e438e001276993a86ff80dcf02e0237");
	assert_string_equal(w.v[1].id, "0da08f51eaa85fc298e176a139b3649a");
	assert_true(w.v[0].watermark == FLINK_NO_WATERMARK && w.v[1].watermark == FLINK_NO_WATERMARK);
	flink_job_watermarks_free(&w);
	flink_job_watermarks_free(NULL);
	static const char *const bad[] = {
		"{\"vertices\":[{\"id\":\"../../jars\"}]}", /* never put into a path */
		"{\"vertices\":[{\"name\":\"no id\"}]}",
		"{\"vertices\":{}}",
		"{\"jid\":\"5b015f731e29e670dd1c88b5edd2ee3d\"}",
		"[]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (flink_rest_parse_job_vertices(bad[i], &w, &e) != FO_ESERVER || w.n != 0 || w.v)
			fail_msg("bad %zu (%s) accepted", i, bad[i]);
		fo_err_clear(&e);
	}
	/* more vertices than are read: refused, not cut */
	fo_buf many = FO_BUF_INIT;
	fo_buf_puts(&many, "{\"vertices\":[");
	for (int i = 0; i <= FLINK_MAX_VERTICES; i++)
		fo_buf_printf(&many, "%s{\"id\":\"%032x\"}", i ? "," : "", i);
	fo_buf_puts(&many, "]}");
	assert_int_equal(flink_rest_parse_job_vertices(many.ptr, &w, &e), FO_ESERVER);
	assert_non_null(strstr(fo_err_msg(&e), "vertices"));
	fo_err_clear(&e);
	fo_buf_free(&many);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watermarks),
		cmocka_unit_test(test_checkpoint_config),
		cmocka_unit_test(test_restarts),
		cmocka_unit_test(test_error_text),
		cmocka_unit_test(test_error_text_huge),
		cmocka_unit_test(test_cuts_keep_utf8),
		cmocka_unit_test(test_http_error),
		cmocka_unit_test(test_overview_config),
		cmocka_unit_test(test_taskmanagers),
		cmocka_unit_test(test_jobs),
		cmocka_unit_test(test_job_status_names),
		cmocka_unit_test(test_checkpoints),
		cmocka_unit_test(test_savepoint_status),
		cmocka_unit_test(test_checkpoint_status),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_exceptions),
		cmocka_unit_test(test_run_body),
		cmocka_unit_test(test_client_urls),
		cmocka_unit_test(test_parsers_survive_garbage),
		cmocka_unit_test(test_jar_uris),
		cmocka_unit_test(test_jar_cache_paths),
		cmocka_unit_test(test_s3_errors),
		cmocka_unit_test(test_jar_file_fetch),
		cmocka_unit_test(test_jar_cache_evict),
		cmocka_unit_test(test_jar_cache_trim),
	};
	return cmocka_run_group_tests_name("rest", tests, NULL, NULL);
}
