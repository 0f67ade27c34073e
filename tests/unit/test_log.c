/*
 * Unit tests for the logger's line format (lib/log.c): a text line as
 * people read it, and a JSON line that any JSON parser reads back to the
 * same message and fields, whatever the message holds (quotes, backslashes,
 * newlines, control characters, UTF-8).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "lib/log.h"

static void test_text_line(void **state)
{
	(void)state;
	fo_buf b = FO_BUF_INIT;
	fo_log_fields f = {"prod/wc", "stopping", 1200};
	fo_log_format(&b, false, "2026-01-02T03:04:05Z", FO_LOG_WARN, "rollout", 7, &f, "prod/wc: slow");
	/* the fields are already in the words of a text line */
	assert_string_equal(fo_buf_cstr(&b), "2026-01-02T03:04:05Z warn  rollout: prod/wc: slow\n");
	fo_buf_free(&b);
}

static void test_json_lines(void **state)
{
	(void)state;
	static const struct {
		const char *msg;
		unsigned long pass;
		fo_log_fields f;
		bool has_fields;
	} cases[] = {
		{"plain", 0, {NULL, NULL, -1}, false},
		{"quote \" backslash \\ slash /", 3, {"prod/wc", "stopping", 0}, true},
		{"two\nlines\r\tand a tab", 12, {"ns/x", NULL, 1500}, true},
		{"control \x01\x1f and DEL \x7f", 1, {NULL, "savepoint-taken", -1}, true},
		{"UTF-8: \xc3\xa9t\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x9a\x80", 99999, {"\xc3\xa9/\"x\"", NULL, 7}, true},
		{"", 0, {"", "", -1}, true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fo_buf b = FO_BUF_INIT;
		fo_log_format(&b, true, "2026-01-02T03:04:05Z", FO_LOG_INFO, "agent", cases[i].pass,
			      cases[i].has_fields ? &cases[i].f : NULL, cases[i].msg);
		const char *line = fo_buf_cstr(&b);
		/* one line: the only newline is the last character */
		assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
		cJSON *o = cJSON_Parse(line);
		if (!o)
			fail_msg("case %zu: not JSON: %s", i, line);
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "time")->valuestring, "2026-01-02T03:04:05Z");
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "level")->valuestring, "info");
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "component")->valuestring, "agent");
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "msg")->valuestring, cases[i].msg);
		const cJSON *pass = cJSON_GetObjectItemCaseSensitive(o, "pass");
		if (cases[i].pass)
			assert_true(cJSON_IsNumber(pass) && pass->valuedouble == (double)cases[i].pass);
		else
			assert_null(pass);
		const fo_log_fields *f = &cases[i].f;
		const cJSON *dep = cJSON_GetObjectItemCaseSensitive(o, "deployment");
		const cJSON *step = cJSON_GetObjectItemCaseSensitive(o, "step");
		const cJSON *dur = cJSON_GetObjectItemCaseSensitive(o, "duration_ms");
		if (cases[i].has_fields && f->deployment)
			assert_string_equal(dep->valuestring, f->deployment);
		else
			assert_null(dep);
		if (cases[i].has_fields && f->step)
			assert_string_equal(step->valuestring, f->step);
		else
			assert_null(step);
		if (cases[i].has_fields && f->duration_ms >= 0)
			assert_true(cJSON_IsNumber(dur) && dur->valuedouble == (double)f->duration_ms);
		else
			assert_null(dur);
		/* nothing else */
		int n = 0;
		for (const cJSON *c = o->child; c; c = c->next)
			n++;
		assert_int_equal(n, 4 + (pass != NULL) + (dep != NULL) + (step != NULL) + (dur != NULL));
		cJSON_Delete(o);
		fo_buf_free(&b);
	}
}

static void test_levels(void **state)
{
	(void)state;
	static const char *const names[] = {"debug", "info", "warn", "error"};
	for (int l = FO_LOG_DEBUG; l <= FO_LOG_ERROR; l++) {
		assert_int_equal(fo_log_level_parse(names[l]), l);
		fo_buf b = FO_BUF_INIT;
		fo_log_format(&b, true, "t", (enum fo_log_level)l, "x", 0, NULL, "m");
		cJSON *o = cJSON_Parse(fo_buf_cstr(&b));
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "level")->valuestring, names[l]);
		cJSON_Delete(o);
		fo_buf_free(&b);
	}
	assert_int_equal(fo_log_level_parse("verbose"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_line),
		cmocka_unit_test(test_json_lines),
		cmocka_unit_test(test_levels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
