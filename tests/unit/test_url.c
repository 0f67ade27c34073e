/*
 * Unit tests for URLs in messages (lib/url.c): what fo_url_redact shows of
 * well-formed and malformed URLs, how user info is classified for the
 * refusals in the configuration, the password-free cache key, and the
 * scrubbing of library messages, as tables of cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/url.h"

static const struct {
	const char *in;
	const char *shown;
	enum fo_url_userinfo info;
} cases[] = {
	/* nothing to hide */
	{"", "", FO_URL_NO_USERINFO},
	{"https://git.example.com/team/jobs.git", "https://git.example.com/team/jobs.git", FO_URL_NO_USERINFO},
	{"http://wc-rest.prod.svc:8081", "http://wc-rest.prod.svc:8081", FO_URL_NO_USERINFO},
	{"s3://bucket/jobs/wc.jar", "s3://bucket/jobs/wc.jar", FO_URL_NO_USERINFO},
	{"file:///opt/jobs/wc.jar", "file:///opt/jobs/wc.jar", FO_URL_NO_USERINFO},
	{"/var/cache/repo", "/var/cache/repo", FO_URL_NO_USERINFO},
	{"github.com:team/jobs.git", "github.com:team/jobs.git", FO_URL_NO_USERINFO},
	/* user info */
	{"https://user:hunter2@git.example.com/jobs.git", "https://***@git.example.com/jobs.git", FO_URL_PASSWORD},
	{"https://user:@h/x", "https://***@h/x", FO_URL_PASSWORD},
	{"https://:hunter2@h/x", "https://***@h/x", FO_URL_PASSWORD},
	{"https://ghp_token1234@github.com/o/r.git", "https://***@github.com/o/r.git", FO_URL_USER},
	{"ssh://git@git.example.com:2222/jobs.git", "ssh://***@git.example.com:2222/jobs.git", FO_URL_USER},
	{"git@github.com:team/jobs.git", "***@github.com:team/jobs.git", FO_URL_USER},
	{"HTTPS://u:p@h", "HTTPS://***@h", FO_URL_PASSWORD},
	{"https://u:p@ss@h/x", "https://***@h/x", FO_URL_PASSWORD},
	/* query and fragment */
	{"https://b.s3.amazonaws.com/wc.jar?X-Amz-Signature=SECRET&X-Amz-Credential=AKIA",
	 "https://b.s3.amazonaws.com/wc.jar?***", FO_URL_NO_USERINFO},
	{"https://user:pw@127.0.0.1:1/j.jar?X-Amz-Signature=SECRET", "https://***@127.0.0.1:1/j.jar?***", FO_URL_PASSWORD},
	{"https://h/x.jar?sig=1#frag", "https://h/x.jar?***", FO_URL_NO_USERINFO},
	{"https://h/x.jar#access_token=t", "https://h/x.jar#***", FO_URL_NO_USERINFO},
	{"https://h?q", "https://h?***", FO_URL_NO_USERINFO},
	{"https://h/x?", "https://h/x?***", FO_URL_NO_USERINFO},
	{"jobs.jar?token=t", "jobs.jar?***", FO_URL_NO_USERINFO},
	/* '@' outside the authority is not user info */
	{"https://h/users/@me/wc.jar", "https://h/users/@me/wc.jar", FO_URL_NO_USERINFO},
	{"https://h:8443/a@b", "https://h:8443/a@b", FO_URL_NO_USERINFO},
	{"file:///tmp/a@b.jar", "file:///tmp/a@b.jar", FO_URL_NO_USERINFO},
	{"/srv/git/a@b", "/srv/git/a@b", FO_URL_NO_USERINFO},
	{"https://h/x?next=https://u:p@evil/", "https://h/x?***", FO_URL_NO_USERINFO},
	/* IPv6 hosts */
	{"http://[::1]:8081/jobs", "http://[::1]:8081/jobs", FO_URL_NO_USERINFO},
	{"http://u:p@[fe80::1%25eth0]:8081/", "http://***@[fe80::1%25eth0]:8081/", FO_URL_PASSWORD},
	{"http://[::1", "http://[::1", FO_URL_NO_USERINFO},
	/* malformed: a password holding '/', '?' or '#' seems to end the authority */
	{"https://user:pa/ss@h/x", "https://***@h/x", FO_URL_PASSWORD},
	{"https://user:pa?ss@h/x", "https://***@h/x", FO_URL_PASSWORD},
	{"https://user:pa#ss@h/x", "https://***@h/x", FO_URL_PASSWORD},
	/* malformed: slashes curl forgives, no slashes, no host */
	{"http:/u:p@h/x", "http:/***@h/x", FO_URL_PASSWORD},
	{"http:///u:p@h/x", "http:///***@h/x", FO_URL_PASSWORD},
	{"http:u:p@h", "http:***@h", FO_URL_PASSWORD},
	{"https://", "https://", FO_URL_NO_USERINFO},
	{"https://@", "https://***@", FO_URL_USER},
	{"://u:p@h", "://***@h", FO_URL_PASSWORD},
	{"//u:p@h/x", "//***@h/x", FO_URL_PASSWORD},
	{"u:p@h", "u:***@h", FO_URL_USER},
	/* control characters cannot start a log line of their own */
	{"https://h/x\n2026-01-01 info forged", "https://h/x%0A2026-01-01 info forged", FO_URL_NO_USERINFO},
	{"https://h/\x1b[31mred", "https://h/%1B[31mred", FO_URL_NO_USERINFO},
};

static void test_redact(void **state)
{
	(void)state;
	int bad = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = fo_url_redact(cases[i].in);
		if (strcmp(got, cases[i].shown) != 0) {
			print_error("case %zu: redact(\"%s\") = \"%s\", want \"%s\"\n", i, cases[i].in, got, cases[i].shown);
			bad++;
		}
		if (fo_url_userinfo(cases[i].in) != cases[i].info) {
			print_error("case %zu: userinfo(\"%s\") = %d, want %d\n", i, cases[i].in,
				    (int)fo_url_userinfo(cases[i].in), (int)cases[i].info);
			bad++;
		}
		/* whatever the input, no password and no query survives */
		if (strstr(got, "hunter2") || strstr(got, "SECRET") || strstr(got, "token="))
			fail_msg("case %zu: \"%s\" shows a secret", i, got);
		free(got);
	}
	assert_int_equal(bad, 0);
	char *none = fo_url_redact(NULL);
	assert_string_equal(none, "");
	free(none);
	assert_int_equal(fo_url_userinfo(NULL), FO_URL_NO_USERINFO);
}

static void test_without_password(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} cases2[] = {
		{"https://user:pw@h/x.git", "https://user@h/x.git"},
		{"https://user@h/x.git", "https://user@h/x.git"},
		{"ssh://git:pw@h:22/x?y", "ssh://git@h:22/x?y"},
		{"https://h/x.git", "https://h/x.git"},
		{"git@h:x.git", "git@h:x.git"},
		{"file:///srv/a@b", "file:///srv/a@b"},
	};
	for (size_t i = 0; i < sizeof(cases2) / sizeof(cases2[0]); i++) {
		char *got = fo_url_without_password(cases2[i].in);
		if (strcmp(got, cases2[i].want) != 0)
			fail_msg("without_password(\"%s\") = \"%s\", want \"%s\"", cases2[i].in, got, cases2[i].want);
		free(got);
	}
}

static void test_scrub(void **state)
{
	(void)state;
	static const struct {
		const char *msg, *url, *want;
	} cases3[] = {
		{"failed to connect to https://u:s3cr%2Ft@h/x", "https://u:s3cr%2Ft@h/x", "failed to connect to https://u:***@h/x"},
		{"auth failed with s3cr/t", "https://u:s3cr%2Ft@h/x", "auth failed with ***"},
		{"GET /j.jar?X-Amz-Signature=abc: 403", "https://h/j.jar?X-Amz-Signature=abc", "GET /j.jar?***: 403"},
		{"nothing secret here", "https://u@h/x", "nothing secret here"},
		{"empty query", "https://h/x?", "empty query"},
		{"no url", NULL, "no url"},
	};
	for (size_t i = 0; i < sizeof(cases3) / sizeof(cases3[0]); i++) {
		char *got = fo_url_scrub(cases3[i].msg, cases3[i].url);
		if (strcmp(got, cases3[i].want) != 0)
			fail_msg("scrub(\"%s\") = \"%s\", want \"%s\"", cases3[i].msg, got, cases3[i].want);
		free(got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_without_password),
		cmocka_unit_test(test_scrub),
	};
	return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
