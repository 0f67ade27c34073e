/*
 * Unit tests for the daemon's pure pieces (agent/schedule.c, webhook.c,
 * metrics.c): the delay before the next pass, whether it fetches, agent.listen, webhook
 * verification and the Prometheus text, as tables of cases. The HMAC
 * vectors were computed with `printf %s BODY | openssl dgst -sha256 -hmac KEY`.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "agent/daemon.h"
#include "deploy/bluegreen.h"
#include "config/config.h"

static void test_schedule(void **state)
{
	(void)state;
	static const struct {
		int64_t interval, initial, max;
		double jitter;
		unsigned failures;
		int64_t waiting; /* agent_wait_delay_ms's answer, 0: not waiting */
		int64_t want;
		const char *why;
	} cases[] = {
		{60000, 5000, 300000, 0, 0, 0, 60000, "the interval"},
		{60000, 5000, 300000, 1, 0, 0, 63000, "+5% at most"},
		{60000, 5000, 300000, -1, 0, 0, 57000, "-5% at most"},
		{60000, 5000, 300000, 7, 0, 0, 63000, "a draw out of range is clamped"},
		{60000, 5000, 300000, 0.5, 0, 0, 61500, "half the jitter"},
		{60000, 5000, 300000, 1, 0, 3000, 3000, "waiting on Flink: its own delay, no jitter"},
		{60000, 5000, 300000, -1, 0, 100, 100, "a wait's first look"},
		{60000, 5000, 300000, 0, 1, 0, 5000, "first failure: the initial retry"},
		{60000, 5000, 300000, 0, 2, 0, 10000, "doubled"},
		{60000, 5000, 300000, 0, 3, 3000, 20000, "failures win over waiting"},
		{60000, 5000, 300000, 0, 7, 0, 300000, "5 s * 64 = 320 s: capped at 5 m"},
		{60000, 5000, 300000, 1, 7, 0, 315000, "the cap gets the jitter too"},
		{60000, 5000, 300000, 0, 4000000000u, 0, 300000, "no overflow after very many failures"},
		{10000, 5000, 300000, -1, 0, 0, 9500, "a 10 s interval"},
		{1000, 0, 0, -1, 1, 0, 1, "never below 1 ms"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		agent_sched s = {cases[i].interval, cases[i].initial, cases[i].max, AGENT_WAITING_MS};
		int64_t got = agent_next_delay_ms(&s, cases[i].jitter, cases[i].failures, cases[i].waiting);
		if (got != cases[i].want)
			fail_msg("case %zu (%s): got %lld, want %lld", i, cases[i].why, (long long)got,
				 (long long)cases[i].want);
	}
}

/* A wait is looked at again soon, then less often while nothing moves;
 * a recorded step starts over; a slow pass is never run back to back. */
static void test_wait_delay(void **state)
{
	(void)state;
	static const struct {
		unsigned streak;
		int64_t pass_ms, cap_ms, want;
		const char *why;
	} cases[] = {
		{0, 5, 3000, 100, "the first look: 100 ms"},
		{1, 5, 3000, 200, "nothing moved: doubled"},
		{4, 5, 3000, 1600, "four looks in a row"},
		{5, 5, 3000, 3000, "3.2 s: capped at the agent's 3 s"},
		{5, 5, 1000, 1000, "sync --once's cap of 1 s"},
		{4000000000u, 5, 3000, 3000, "no overflow after very many looks"},
		{0, 300, 3000, 600, "a 300 ms pass: twice its length before the next"},
		{3, 300, 3000, 800, "the doubling past twice the pass"},
		{0, 2000, 3000, 3000, "a pass longer than half the cap: the cap"},
		{0, INT64_MAX, 3000, 3000, "no overflow for an absurd pass length"},
		{0, -5, 3000, 100, "a clock that went back: the first look"},
		{0, 5, 0, 1, "never below 1 ms"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t got = agent_wait_delay_ms(cases[i].streak, cases[i].pass_ms, cases[i].cap_ms);
		if (got != cases[i].want)
			fail_msg("case %zu (%s): got %lld, want %lld", i, cases[i].why, (long long)got,
				 (long long)cases[i].want);
	}
	static const struct {
		unsigned streak;
		bool was_waiting;
		uint64_t last, now;
		unsigned want;
		const char *why;
	} streaks[] = {
		{0, false, 7, 7, 0, "the first waiting pass"},
		{3, false, 7, 7, 0, "a wait after passes that did not wait starts over"},
		{0, true, 7, 7, 1, "the same journals: one more look"},
		{5, true, 7, 7, 6, "and again"},
		{5, true, 7, 8, 0, "a step recorded (a journal's version moved): start over"},
		{UINT_MAX, true, 7, 7, UINT_MAX, "saturates"},
	};
	for (size_t i = 0; i < sizeof(streaks) / sizeof(streaks[0]); i++) {
		unsigned got = agent_wait_streak(streaks[i].streak, streaks[i].was_waiting, streaks[i].last, streaks[i].now);
		if (got != streaks[i].want)
			fail_msg("streak case %zu (%s): got %u, want %u", i, streaks[i].why, got, streaks[i].want);
	}
	/* the schedule a 60 s savepoint sees: 100 ms, doubling, then every 3 s */
	int64_t total = 0;
	unsigned n = 0, streak = 0;
	for (; total < 60000; n++) {
		total += agent_wait_delay_ms(streak, 5, AGENT_WAITING_MS);
		streak = agent_wait_streak(streak, true, 1, 1);
	}
	assert_int_equal(n, 24); /* 5 looks in 3.1 s, then 19 of 3 s (20 at a fixed 3 s) */
}

/* The /healthz budget follows the longest single silence the configuration
 * allows, plus the slack; neither the interval nor a jar's size is in it. */
static void test_health_budget(void **state)
{
	(void)state;
	enum { S = AGENT_HEALTH_SLACK_MS, G = AGENT_GIT_GRACE_MS + AGENT_GIT_BACKOFF_MS };
	static const struct {
		agent_health_bounds b; /* loop, kubernetes, git, flink call, jar connect, jar stall, upload stall, run */
		int64_t want;
		const char *why;
	} cases[] = {
		{{5000, 30000, 60000, 30000, 10000, 60000, 60000, 120000}, 120000 + S,
		 "the defaults: a jar's run (120 s) is the longest silence"},
		{{5000, 30000, 300000, 30000, 10000, 60000, 60000, 120000}, 300000 + G + S,
		 "repository.timeout 5m: a git worker, its grace and a push's backoff"},
		{{5000, 200000, 60000, 30000, 10000, 60000, 60000, 120000}, 200000 + S,
		 "kubernetes.timeout over the run's"},
		{{5000, 10000, 60000, 10000, 10000, 60000, 60000, 120000}, 120000 + S,
		 "leader election holds Flink calls to kubernetes.timeout: the run still bounds"},
		{{5000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}, 1000 + G + S, "every timeout at its floor"},
		{{5000, 0, 0, 0, 0, 0, 0, 0}, G + S, "no timeouts at all: a git worker's grace and a push's backoff"},
		{{90000, 0, 0, 0, 0, 0, 0, 0}, 90000 + S, "a longer sleep of the loop"},
		{{5000, 30000, 60000, 30000, 10000, 400000, 60000, 120000}, 400000 + S,
		 "a longer download stall"},
		{{5000, 30000, 60000, 30000, 10000, 60000, 500000, 120000}, 500000 + S, "a longer upload stall"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t got = agent_health_budget_ms(&cases[i].b);
		if (got != cases[i].want)
			fail_msg("case %zu (%s): got %lld, want %lld", i, cases[i].why, (long long)got,
				 (long long)cases[i].want);
	}
}

static void test_fetches(void **state)
{
	(void)state;
	enum { S = AGENT_TRIGGER_START, I = AGENT_TRIGGER_INTERVAL, H = AGENT_TRIGGER_WEBHOOK, W = AGENT_TRIGGER_WAITING,
	       R = AGENT_TRIGGER_RETRY };
	static const struct {
		int trigger;
		bool have_commit;
		int64_t since, interval;
		bool want;
		const char *why;
	} cases[] = {
		{W, true, 3000, 60000, false, "a re-check 3 s after the fetch: the same commit, no fetch"},
		{W, true, 59999, 60000, false, "just inside the interval: still a re-check"},
		{W, true, 60000, 60000, true, "the interval is due: a push must be seen, fetch"},
		{W, true, 600000, 60000, true, "a rollout that waits for ten intervals fetches every interval"},
		{W, false, 3000, 60000, true, "no commit fetched yet: fetch"},
		{W, true, -5, 60000, true, "a fetch time in the future: do not trust it, fetch"},
		{H, true, 0, 60000, true, "a webhook always fetches, even right after a fetch"},
		{H, true, 3000, 60000, true, "a webhook during a rollout's waits fetches"},
		{I, true, 60000, 60000, true, "the interval fetches"},
		{I, true, 1000, 60000, true, "an interval pass fetches whatever the clock says"},
		{S, false, 0, 60000, true, "the first pass fetches"},
		{S, true, 0, 60000, true, "start with a commit (cannot happen) still fetches"},
		{R, true, 3000, 60000, true, "a retry after a failed pass fetches (git may have been the failure)"},
		{W, true, 9999, 10000, false, "a 10 s interval, 9.999 s after: re-check"},
		{W, true, 10000, 10000, true, "a 10 s interval, 10 s after: fetch"},
		{AGENT_TRIGGER_WATCH, true, 3000, 60000, false, "a watch event's pass: a re-check, no fetch"},
		{AGENT_TRIGGER_WATCH, true, 60000, 60000, true, "a watch event's pass when the interval is due: fetch"},
		{AGENT_TRIGGER_WATCH, false, 0, 60000, true, "a watch event's pass before any fetch: fetch"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = agent_pass_fetches((enum agent_trigger)cases[i].trigger, cases[i].have_commit, cases[i].since,
					      cases[i].interval);
		if (got != cases[i].want)
			fail_msg("case %zu (%s): got %d, want %d", i, cases[i].why, got, cases[i].want);
	}
	assert_string_equal(agent_trigger_name(AGENT_TRIGGER_WAITING), "waiting");
	assert_string_equal(agent_trigger_name(AGENT_TRIGGER_WEBHOOK), "webhook");
	assert_string_equal(agent_trigger_name(AGENT_NTRIGGERS), "?");
}

static void test_wake(void **state)
{
	(void)state;
#define I AGENT_TRIGGER_INTERVAL
#define H AGENT_TRIGGER_WEBHOOK
#define W AGENT_TRIGGER_WAITING
#define R AGENT_TRIGGER_RETRY
#define E AGENT_TRIGGER_ELECTED
#define NO (-1)
	static const struct {
		agent_wake w;
		int want;       /* the trigger of a pass that starts now, or NO */
		int64_t at;     /* with NO: when to decide again */
		const char *why;
	} cases[] = {
		{{.now = 100000, .next_at = 160000, .next_why = I, .last_end = 100000}, NO, 160000, "idle: the interval"},
		{{.now = 160000, .next_at = 160000, .next_why = I, .last_end = 100000}, I, 0, "the interval is due"},
		{{.now = 103000, .next_at = 103000, .next_why = W, .last_end = 100000}, W, 0, "a re-check is due"},
		{{.now = 110000, .next_at = 160000, .next_why = I, .requested = true, .requested_at = 110000, .last_end = 100000},
		 NO, 110000 + AGENT_DEBOUNCE_MS, "a webhook: debounced"},
		{{.now = 110500, .next_at = 160000, .next_why = I, .requested = true, .requested_at = 110000, .last_end = 100000},
		 H, 0, "a webhook: its pass after the debounce"},
		{{.now = 100600, .next_at = 160000, .next_why = I, .requested = true, .requested_at = 100000, .last_end = 100200},
		 NO, 101200, "a webhook right after a pass: the minimum gap"},
		/* the backoff holds against webhooks */
		{{.now = 110500, .next_at = 140000, .next_why = R, .requested = true, .requested_at = 110000, .last_end = 100000,
		  .failures = 3},
		 NO, 140000, "after failures a webhook waits for the retry"},
		{{.now = 139999, .next_at = 140000, .next_why = R, .requested = true, .requested_at = 110000, .last_end = 100000,
		  .failures = 1},
		 NO, 140000, "one failure is enough: not a millisecond early"},
		{{.now = 140000, .next_at = 140000, .next_why = R, .requested = true, .requested_at = 110000, .last_end = 100000,
		  .failures = 3},
		 H, 0, "at the retry the webhook's pass runs (it fetches)"},
		{{.now = 140000, .next_at = 140000, .next_why = R, .last_end = 100000, .failures = 3}, R, 0,
		 "the retry without a webhook"},
		{{.now = 100000, .next_at = 400000, .next_why = R, .requested = true, .requested_at = 99000, .last_end = 90000,
		  .failures = 9},
		 NO, 400000, "a flood during a long backoff starts nothing early"},
		{{.now = 110500, .next_at = 103000, .next_why = W, .requested = true, .requested_at = 110000, .last_end = 100000},
		 H, 0, "no failures: a webhook is not held back"},
		{{.now = 100000, .next_at = 400000, .next_why = R, .last_end = 99000, .failures = 9, .elected = true}, E, 0,
		 "just elected: at once"},
		/* someone changed a managed object (the watch saw it) */
		{{.now = 110050, .next_at = 160000, .next_why = I, .changed = true, .changed_at = 110000, .last_end = 100000},
		 NO, 110000 + AGENT_WATCH_DEBOUNCE_MS, "a watch event: debounced"},
		{{.now = 110100, .next_at = 160000, .next_why = I, .changed = true, .changed_at = 110000, .last_end = 100000},
		 AGENT_TRIGGER_WATCH, 0, "a watch event: its pass after the debounce"},
		{{.now = 100300, .next_at = 160000, .next_why = I, .changed = true, .changed_at = 100200, .last_end = 100100},
		 NO, 101100, "a watch event right after a pass (its own echo, say): the minimum gap"},
		{{.now = 110500, .next_at = 160000, .next_why = I, .requested = true, .requested_at = 110000, .changed = true,
		  .changed_at = 110000, .last_end = 100000},
		 H, 0, "a webhook and a watch event: the webhook's pass, which fetches"},
		{{.now = 110500, .next_at = 140000, .next_why = R, .changed = true, .changed_at = 110000, .last_end = 100000,
		  .failures = 2},
		 NO, 140000, "after failures a watch event waits for the retry"},
		{{.now = 103000, .next_at = 103000, .next_why = W, .changed = true, .changed_at = 102950, .last_end = 100000},
		 W, 0, "a due re-check is not held back by a watch event's debounce"},
	};
#undef I
#undef H
#undef W
#undef R
#undef E
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum agent_trigger why = AGENT_NTRIGGERS;
		int64_t at = -1;
		bool now = agent_wake_decide(&cases[i].w, &why, &at);
		if (cases[i].want == NO ? (now || at != cases[i].at) : (!now || (int)why != cases[i].want))
			fail_msg("case %zu (%s): got %s %s at %lld", i, cases[i].why, now ? "start" : "wait",
				 now ? agent_trigger_name(why) : "", (long long)at);
	}
#undef NO
}

static void test_listen(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int family; /* 0: refused */
		const char *host;
		int port;
	} cases[] = {
		{"127.0.0.1:8080", AF_INET, "127.0.0.1", 8080},
		{":8080", AF_INET, "0.0.0.0", 8080},
		{"0.0.0.0:9", AF_INET, "0.0.0.0", 9},
		{"127.0.0.1:0", AF_INET, "127.0.0.1", 0},
		{"[::1]:8443", AF_INET6, "::1", 8443},
		{"[::]:80", AF_INET6, "::", 80},
		{"127.0.0.1:65535", AF_INET, "127.0.0.1", 65535},
		{"127.0.0.1:65536", 0, NULL, 0},
		{"127.0.0.1:-1", 0, NULL, 0},
		{"127.0.0.1:+80", 0, NULL, 0},
		{"127.0.0.1:", 0, NULL, 0},
		{"127.0.0.1", 0, NULL, 0},
		{"8080", 0, NULL, 0},
		{"localhost:8080", 0, NULL, 0},
		{"::1:8080", 0, NULL, 0},
		{"[::1:8080", 0, NULL, 0},
		{"[nope]:8080", 0, NULL, 0},
		{"127.0.0.1:80x", 0, NULL, 0},
		{"", 0, NULL, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage a;
		socklen_t len = 0;
		fo_err e = FO_ERR_INIT;
		int rc = agent_listen_parse(cases[i].in, &a, &len, &e);
		if (!cases[i].family) {
			if (rc == 0)
				fail_msg("\"%s\": accepted", cases[i].in);
			assert_non_null(strstr(fo_err_msg(&e), "agent.listen"));
			fo_err_clear(&e);
			continue;
		}
		if (rc < 0)
			fail_msg("\"%s\": %s", cases[i].in, fo_err_msg(&e));
		assert_int_equal(a.ss_family, cases[i].family);
		char host[INET6_ADDRSTRLEN];
		int port;
		if (a.ss_family == AF_INET) {
			const struct sockaddr_in *a4 = (const struct sockaddr_in *)&a;
			inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host));
			port = ntohs(a4->sin_port);
			assert_int_equal(len, sizeof(*a4));
		} else {
			const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&a;
			inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
			port = ntohs(a6->sin6_port);
			assert_int_equal(len, sizeof(*a6));
		}
		assert_string_equal(host, cases[i].host);
		assert_int_equal(port, cases[i].port);
	}
}

typedef struct hdrs {
	const char *kv[8]; /* name, value, ... NULL */
} hdrs;

static const char *lookup(void *arg, const char *name)
{
	const hdrs *h = arg;
	for (size_t i = 0; i + 1 < 8 && h->kv[i]; i += 2)
		if (strcasecmp(h->kv[i], name) == 0)
			return h->kv[i + 1];
	return NULL;
}

#define MAIN "{\"ref\":\"refs/heads/main\"}"
#define OTHER "{\"ref\":\"refs/heads/other\"}"
#define ZEN "{\"zen\":\"hi\"}"
/* HMAC-SHA256 with key "s3cret" */
#define SIG_MAIN "232a5e067b6a5aa567ed5a1d21a0dffaf6ef0eeecb6bd9bcf43b3d5ef3fc4f43"
#define SIG_OTHER "c478ab1988ddfa02cf0f7de6bf0c2d92450793ff162b345a67b60d91cde013e1"
#define SIG_ZEN "b18ce78d18646301e6811d72dbafbde385e5ab0f65482fdb261485ca0773c8bc"
#define SIG_EMPTY "91dfac70c5348b04e1babb8b421ac92cec08b565b49ca16130dccb72503647b7"
#define SIG_MAIN_UPPER "232A5E067B6A5AA567ED5A1D21A0DFFAF6EF0EEECB6BD9BCF43B3D5EF3FC4F43"

static void test_webhook(void **state)
{
	(void)state;
	static const struct {
		hdrs h;
		const char *body;
		enum agent_provider provider;
		int code;
		bool pass;
		const char *why;
	} cases[] = {
		{{{"X-Hub-Signature-256", "sha256=" SIG_MAIN, "X-GitHub-Event", "push"}}, MAIN, AGENT_HOOK_GITHUB, 202, true,
		 "GitHub push to the branch"},
		{{{"x-hub-signature-256", "sha256=" SIG_MAIN_UPPER, "x-github-event", "push"}}, MAIN, AGENT_HOOK_GITHUB, 202,
		 true, "header names and hex digits in any case"},
		{{{"X-Hub-Signature-256", "sha256=" SIG_OTHER, "X-GitHub-Event", "push"}}, OTHER, AGENT_HOOK_GITHUB, 200,
		 false, "a push to another branch"},
		{{{"X-Hub-Signature-256", "sha256=" SIG_ZEN, "X-GitHub-Event", "ping"}}, ZEN, AGENT_HOOK_GITHUB, 200, false,
		 "ping"},
		{{{"X-Hub-Signature-256", "sha256=" SIG_ZEN, "X-GitHub-Event", "issues"}}, ZEN, AGENT_HOOK_GITHUB, 200, false,
		 "another event"},
		{{{"X-Hub-Signature-256", "sha256=" SIG_OTHER, "X-GitHub-Event", "push"}}, MAIN, AGENT_HOOK_GITHUB, 401,
		 false, "the signature of another body"},
		{{{"X-Hub-Signature-256", SIG_MAIN, "X-GitHub-Event", "push"}}, MAIN, AGENT_HOOK_GITHUB, 401, false,
		 "no sha256= prefix"},
		{{{"X-Hub-Signature-256", "sha256=" SIG_EMPTY, "X-GitHub-Event", "push"}}, "", AGENT_HOOK_GITHUB, 400, false,
		 "an empty body, signed: no ref"},
		{{{"X-Hub-Signature-256", "sha256=232a", "X-GitHub-Event", "push"}}, MAIN, AGENT_HOOK_GITHUB, 401, false,
		 "a truncated signature"},
		{{{"X-Hub-Signature-256", "sha256=" SIG_MAIN "00", "X-GitHub-Event", "push"}}, MAIN, AGENT_HOOK_GITHUB, 401,
		 false, "a signature too long"},
		{{{"X-Hub-Signature-256", "sha256=zz2a5e067b6a5aa567ed5a1d21a0dffaf6ef0eeecb6bd9bcf43b3d5ef3fc4f43",
		   "X-GitHub-Event", "push"}},
		 MAIN, AGENT_HOOK_GITHUB, 401, false, "not hex"},
		{{{"X-Hub-Signature", "sha1=0123456789abcdef0123456789abcdef01234567", "X-GitHub-Event", "push"}}, MAIN,
		 AGENT_HOOK_GITHUB, 401, false, "SHA-1 is refused"},
		{{{"X-GitHub-Event", "push"}}, MAIN, AGENT_HOOK_UNKNOWN, 401, false, "no signature"},
		{{{"X-Hub-Signature-256", "sha256=" SIG_MAIN}}, MAIN, AGENT_HOOK_GITHUB, 400, false, "no event header"},
		{{{"X-Gitea-Signature", SIG_MAIN, "X-Gitea-Event", "push"}}, MAIN, AGENT_HOOK_GITEA, 202, true, "Gitea"},
		{{{"X-Forgejo-Signature", SIG_MAIN, "X-Forgejo-Event", "push"}}, MAIN, AGENT_HOOK_GITEA, 202, true, "Forgejo"},
		{{{"X-Gitea-Signature", "sha256=" SIG_MAIN, "X-Gitea-Event", "push"}}, MAIN, AGENT_HOOK_GITEA, 401, false,
		 "Gitea sends bare hex"},
		{{{"X-Gitea-Signature", SIG_MAIN, "X-Gitea-Event", "create", "X-Hub-Signature-256", "sha256=00"}}, MAIN,
		 AGENT_HOOK_GITEA, 200, false, "Gitea's own header wins; not a push"},
		{{{"X-Gitlab-Token", "s3cret", "X-Gitlab-Event", "Push Hook"}}, MAIN, AGENT_HOOK_GITLAB, 202, true, "GitLab"},
		{{{"X-Gitlab-Token", "s3cret", "X-Gitlab-Event", "Push Hook"}}, OTHER, AGENT_HOOK_GITLAB, 200, false,
		 "GitLab, another branch"},
		{{{"X-Gitlab-Token", "s3cret", "X-Gitlab-Event", "Tag Push Hook"}}, MAIN, AGENT_HOOK_GITLAB, 200, false,
		 "GitLab tag push"},
		{{{"X-Gitlab-Token", "s3cre", "X-Gitlab-Event", "Push Hook"}}, MAIN, AGENT_HOOK_GITLAB, 401, false,
		 "GitLab, a prefix of the secret"},
		{{{"X-Gitlab-Token", "s3cret2", "X-Gitlab-Event", "Push Hook"}}, MAIN, AGENT_HOOK_GITLAB, 401, false,
		 "GitLab, the secret and more"},
		{{{"X-Gitlab-Token", "", "X-Gitlab-Event", "Push Hook"}}, MAIN, AGENT_HOOK_GITLAB, 401, false,
		 "GitLab, empty token"},
		{{{"X-Flinkops-Signature-256", "sha256=" SIG_MAIN}}, MAIN, AGENT_HOOK_GENERIC, 202, true, "generic"},
		{{{"X-Flinkops-Signature-256", "sha256=" SIG_ZEN}}, ZEN, AGENT_HOOK_GENERIC, 202, true,
		 "generic without a ref: any change"},
		{{{"X-Flinkops-Signature-256", "sha256=" SIG_OTHER}}, OTHER, AGENT_HOOK_GENERIC, 200, false,
		 "generic, another branch"},
		{{{"X-Flinkops-Signature-256", "sha256=" SIG_MAIN, "X-Flinkops-Event", "ping"}}, MAIN, AGENT_HOOK_GENERIC, 200,
		 false, "generic ping"},
		{{{"X-Flinkops-Signature-256", "sha256=" SIG_EMPTY}}, "", AGENT_HOOK_GENERIC, 202, true,
		 "generic, empty body"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		agent_hook_verdict v;
		hdrs h = cases[i].h;
		agent_webhook_check("s3cret", 6, "main", lookup, &h, cases[i].body, strlen(cases[i].body), &v);
		if (v.code != cases[i].code || v.pass != cases[i].pass || v.provider != cases[i].provider)
			fail_msg("case %zu (%s): got %d pass=%d provider=%s (%s)", i, cases[i].why, v.code, v.pass,
				 agent_provider_name(v.provider), v.why);
		assert_non_null(v.why);
		assert_null(strstr(v.why, "s3cret")); /* the secret is never said back */
	}
	/* no secret configured: every webhook is refused */
	agent_hook_verdict v;
	hdrs h = {{"X-Hub-Signature-256", "sha256=" SIG_MAIN, "X-GitHub-Event", "push"}};
	agent_webhook_check(NULL, 0, "main", lookup, &h, MAIN, strlen(MAIN), &v);
	assert_int_equal(v.code, 401);
	assert_false(v.pass);
	/* the RFC 4231-style vector everyone quotes: key "key", the quick brown fox */
	const char *fox = "The quick brown fox jumps over the lazy dog";
	hdrs g = {{"X-Flinkops-Signature-256", "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"}};
	agent_webhook_check("key", 3, "main", lookup, &g, fox, strlen(fox), &v);
	assert_int_equal(v.code, 202);
	/* a body with a NUL byte is signed as bytes, not as a string */
	static const char nul_body[] = "{\"ref\":\"refs/heads/main\"}\0tail";
	hdrs n = {{"X-Flinkops-Signature-256", "sha256=" SIG_MAIN}};
	agent_webhook_check("s3cret", 6, "main", lookup, &n, nul_body, sizeof(nul_body) - 1, &v);
	assert_int_equal(v.code, 401);
}

static void test_delivery(void **state)
{
	(void)state;
	static const struct {
		enum agent_provider p;
		hdrs h;
		const char *want;
	} cases[] = {
		{AGENT_HOOK_GITHUB, {{"X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"}}, "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		{AGENT_HOOK_GITEA, {{"X-Gitea-Delivery", "g-1"}}, "g-1"},
		{AGENT_HOOK_GITEA, {{"X-Forgejo-Delivery", "f-1"}}, "f-1"},
		{AGENT_HOOK_GITLAB, {{"X-Gitlab-Event-UUID", "u-1", "Idempotency-Key", "k-1"}}, "k-1"},
		{AGENT_HOOK_GITLAB, {{"X-Gitlab-Event-UUID", "u-1"}}, "u-1"},
		{AGENT_HOOK_GENERIC, {{"X-Flinkops-Delivery", "d-1"}}, "d-1"},
		{AGENT_HOOK_GITHUB, {{"X-Gitea-Delivery", "g-1"}}, NULL},
		{AGENT_HOOK_GITHUB, {{"X-GitHub-Delivery", ""}}, NULL},
		{AGENT_HOOK_UNKNOWN, {{"X-GitHub-Delivery", "x"}}, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hdrs h = cases[i].h;
		const char *got = agent_webhook_delivery(cases[i].p, lookup, &h);
		if (cases[i].want ? !got || strcmp(got, cases[i].want) != 0 : got != NULL)
			fail_msg("case %zu: got %s, want %s", i, got ? got : "NULL", cases[i].want ? cases[i].want : "NULL");
	}
}

static void test_seen(void **state)
{
	(void)state;
	static agent_seen s; /* zeroed: empty */
	const int64_t t = 1000000, win = AGENT_SEEN_WINDOW_MS;
	const char *b1 = MAIN, *b2 = OTHER;
	size_t l1 = strlen(b1), l2 = strlen(b2);
	assert_false(agent_seen_check(&s, AGENT_HOOK_GITHUB, "d1", b1, l1, t));          /* first: acted on */
	assert_true(agent_seen_check(&s, AGENT_HOOK_GITHUB, "d1", b1, l1, t + 1000));    /* a replay */
	assert_true(agent_seen_check(&s, AGENT_HOOK_GITHUB, "d2", b1, l1, t + 2000));    /* a new id, the same signed body */
	assert_true(agent_seen_check(&s, AGENT_HOOK_GITHUB, "d1", b2, l2, t + 3000));    /* the same id, another body */
	assert_false(agent_seen_check(&s, AGENT_HOOK_GITEA, "d1", b1, l1, t + 4000));    /* another provider's id space */
	assert_false(agent_seen_check(&s, AGENT_HOOK_GITHUB, "d3", b2, l2, t + 5000));   /* a new push */
	assert_true(agent_seen_check(&s, AGENT_HOOK_GITHUB, NULL, b2, l2, t + 6000));    /* no id: known by its body */
	assert_true(agent_seen_check(&s, AGENT_HOOK_GITHUB, "d1", b1, l1, t + win - 1)); /* still within the window */
	assert_false(agent_seen_check(&s, AGENT_HOOK_GITHUB, "d1", b1, l1, t + win));    /* past it: acted on again */
	/* the generic provider's bodies repeat by design: only its id counts */
	assert_false(agent_seen_check(&s, AGENT_HOOK_GENERIC, "g1", "{}", 2, t));
	assert_false(agent_seen_check(&s, AGENT_HOOK_GENERIC, "g2", "{}", 2, t + 1));
	assert_false(agent_seen_check(&s, AGENT_HOOK_GENERIC, NULL, "{}", 2, t + 2));
	assert_false(agent_seen_check(&s, AGENT_HOOK_GENERIC, NULL, "{}", 2, t + 3));
	assert_true(agent_seen_check(&s, AGENT_HOOK_GENERIC, "g1", "{}", 2, t + 4));
	/* bounded: a ring of AGENT_SEEN_MAX; the oldest make room, the newest stay */
	static agent_seen r;
	char id[32];
	for (int i = 0; i < 2 * AGENT_SEEN_MAX; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		assert_false(agent_seen_check(&r, AGENT_HOOK_GENERIC, id, "", 0, t + i));
	}
	snprintf(id, sizeof(id), "id-%d", 2 * AGENT_SEEN_MAX - 1);
	assert_true(agent_seen_check(&r, AGENT_HOOK_GENERIC, id, "", 0, t + 2 * AGENT_SEEN_MAX));
	snprintf(id, sizeof(id), "id-%d", AGENT_SEEN_MAX + 1);
	assert_true(agent_seen_check(&r, AGENT_HOOK_GENERIC, id, "", 0, t + 2 * AGENT_SEEN_MAX));
	assert_false(agent_seen_check(&r, AGENT_HOOK_GENERIC, "id-0", "", 0, t + 2 * AGENT_SEEN_MAX)); /* evicted */
	assert_true(sizeof(agent_seen) < 64 * 1024);
}

static void test_webhook_answer(void **state)
{
	(void)state;
	static agent_seen s;
	agent_hook_verdict v = {.provider = AGENT_HOOK_GITHUB, .code = 202, .pass = true, .why = "pass requested"};
	agent_webhook_answer(&v, AGENT_ROLE_ACTS, &s, "d1", MAIN, strlen(MAIN), 5000);
	assert_int_equal(v.code, 202);
	assert_true(v.pass);
	v = (agent_hook_verdict){.provider = AGENT_HOOK_GITHUB, .code = 202, .pass = true, .why = "pass requested"};
	agent_webhook_answer(&v, AGENT_ROLE_ACTS, &s, "d1", MAIN, strlen(MAIN), 6000); /* the replay */
	assert_int_equal(v.code, 200);
	assert_false(v.pass);
	assert_non_null(strstr(v.why, "already seen"));
	/* what asks for nothing is not recorded: a ping, a 401, another branch */
	v = (agent_hook_verdict){.provider = AGENT_HOOK_GITHUB, .code = 200, .pass = false, .why = "pong"};
	agent_webhook_answer(&v, AGENT_ROLE_ACTS, &s, "d2", ZEN, strlen(ZEN), 7000);
	assert_int_equal(v.code, 200);
	v = (agent_hook_verdict){.provider = AGENT_HOOK_GITHUB, .code = 401, .pass = false, .why = "the signature does not match"};
	agent_webhook_answer(&v, AGENT_ROLE_ACTS, &s, "d3", OTHER, strlen(OTHER), 7000);
	assert_int_equal(v.code, 401);
	v = (agent_hook_verdict){.provider = AGENT_HOOK_GITHUB, .code = 202, .pass = true, .why = "pass requested"};
	agent_webhook_answer(&v, AGENT_ROLE_ACTS, &s, "d3", OTHER, strlen(OTHER), 8000); /* its genuine delivery is acted on */
	assert_int_equal(v.code, 202);
	assert_true(v.pass);

	/* a replica that runs no pass never answers 202 to a push it drops: a
	 * standby relays it (202 only once the Lease carries it), a replica
	 * shutting down answers 503 */
	static const struct {
		enum agent_role role;
		agent_hook_verdict in;
		int code;
		bool pass, relay;
		const char *says;
	} rows[] = {
		{AGENT_ROLE_STANDBY, {.provider = AGENT_HOOK_GITHUB, .code = 202, .pass = true, .why = "pass requested"}, 202, false, true, "pass requested"},
		{AGENT_ROLE_STANDBY, {.provider = AGENT_HOOK_GITLAB, .code = 202, .pass = true, .why = "pass requested"}, 202, false, true, "pass requested"},
		{AGENT_ROLE_STOPPING, {.provider = AGENT_HOOK_GITEA, .code = 202, .pass = true, .why = "pass requested"}, 503, false, false, "shutting down"},
		{AGENT_ROLE_STANDBY, {.provider = AGENT_HOOK_GITHUB, .code = 200, .pass = false, .why = "pong"}, 200, false, false, "pong"},
		{AGENT_ROLE_STANDBY, {.provider = AGENT_HOOK_GITHUB, .code = 401, .pass = false, .why = "the signature does not match"}, 401, false, false,
		 "signature"},
		{AGENT_ROLE_STANDBY, {.provider = AGENT_HOOK_GITHUB, .code = 200, .pass = false, .why = "a push to another branch: nothing to do"}, 200, false,
		 false, "another branch"},
		{AGENT_ROLE_ACTS, {.provider = AGENT_HOOK_GITHUB, .code = 202, .pass = true, .why = "pass requested"}, 202, true, false, "pass requested"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		static agent_seen fresh;
		memset(&fresh, 0, sizeof(fresh));
		v = rows[i].in;
		agent_webhook_answer(&v, rows[i].role, &fresh, "id-1", ZEN, strlen(ZEN), 1000);
		if (v.code != rows[i].code || v.pass != rows[i].pass || v.relay != rows[i].relay ||
		    !strstr(v.why, rows[i].says))
			fail_msg("row %zu: got %d pass=%d relay=%d \"%s\"", i, v.code, v.pass, v.relay, v.why);
		/* a relay that could not be written: 503, and not remembered */
		agent_webhook_relayed(&v, false, &fresh, 1500);
		if (rows[i].relay && (v.code != 503 || v.relay || !strstr(v.why, "redeliver")))
			fail_msg("row %zu: a failed relay got %d \"%s\"", i, v.code, v.why);
		/* what a standby refused is not remembered: its redelivery is acted on */
		v = (agent_hook_verdict){.provider = AGENT_HOOK_GITHUB, .code = 202, .pass = true, .why = "pass requested"};
		agent_webhook_answer(&v, AGENT_ROLE_ACTS, &fresh, "id-1", ZEN, strlen(ZEN), 2000);
		if (rows[i].role != AGENT_ROLE_ACTS && v.code != 202)
			fail_msg("row %zu: the redelivery after a %d got %d", i, rows[i].code, v.code);
	}

	/* a relay written on the Lease: 202, remembered, so that a redelivery
	 * to this standby records nothing more */
	static agent_seen r;
	v = (agent_hook_verdict){.provider = AGENT_HOOK_GITHUB, .code = 202, .pass = true, .why = "pass requested"};
	agent_webhook_answer(&v, AGENT_ROLE_STANDBY, &r, "id-9", MAIN, strlen(MAIN), 1000);
	assert_true(v.relay);
	assert_true(v.keys.has_id && v.keys.has_body);
	agent_webhook_relayed(&v, true, &r, 1100);
	assert_int_equal(v.code, 202);
	assert_false(v.pass);
	assert_false(v.relay);
	assert_non_null(strstr(v.why, "Lease"));
	v = (agent_hook_verdict){.provider = AGENT_HOOK_GITHUB, .code = 202, .pass = true, .why = "pass requested"};
	agent_webhook_answer(&v, AGENT_ROLE_STANDBY, &r, "id-9", MAIN, strlen(MAIN), 2000);
	assert_int_equal(v.code, 200);
	assert_false(v.relay);
	assert_non_null(strstr(v.why, "already seen"));
	/* settling what was not a relay changes nothing */
	agent_webhook_relayed(&v, true, &r, 2100);
	assert_int_equal(v.code, 200);
}

/* The Lease annotation's value carries the delivery's keys: the leader
 * knows a delivery it already acted on, whichever replica got it. */
static void test_sync_value(void **state)
{
	(void)state;
	agent_seen_keys k, back;
	agent_seen_keys_make(AGENT_HOOK_GITHUB, "d-1", MAIN, strlen(MAIN), &k);
	char *val = agent_sync_value(&k, 1764979200123);
	assert_int_equal(strlen(val), 1 + 64 + 2 + 64 + 1 + 13);
	assert_true(agent_sync_keys(val, &back));
	assert_true(back.has_id && back.has_body);
	assert_memory_equal(back.id, k.id, 32);
	assert_memory_equal(back.body, k.body, 32);
	/* acted on by the standby's relay or by the leader itself: the same
	 * record either way */
	static agent_seen s;
	assert_false(agent_seen_check(&s, AGENT_HOOK_GITHUB, "d-1", MAIN, strlen(MAIN), 1000));
	assert_true(agent_seen_known(&s, &back, 2000, true));
	free(val);
	/* the generic provider without an id: no key at all, a new value each time */
	agent_seen_keys_make(AGENT_HOOK_GENERIC, NULL, "{}", 2, &k);
	val = agent_sync_value(&k, 5);
	assert_string_equal(val, "i-.b-.5");
	assert_true(agent_sync_keys(val, &back));
	assert_false(back.has_id || back.has_body);
	assert_false(agent_seen_known(&s, &back, 3000, true)); /* nothing to know it by: a pass */
	free(val);
	static const char *const bad[] = {NULL, "", "i-.b-.", "i-.b-.12x", "x-.b-.1", "i-b-.1", "iab.b-.1", "i-.b-"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (agent_sync_keys(bad[i], &back) || back.has_id || back.has_body)
			fail_msg("\"%s\" parsed", bad[i] ? bad[i] : "(null)");

	/* whether the elector asks for a pass on what it read of the Lease */
	static const struct {
		bool leading;
		const char *acted, *observed;
		bool want;
	} rows[] = {
		{true, NULL, "v1", true},   /* a new request */
		{true, "v1", "v1", false},  /* acted on already */
		{true, "v1", "v2", true},   /* another one since */
		{true, "v1", NULL, false},  /* the annotation is gone: nothing asked */
		{true, NULL, "", false},
		{false, NULL, "v1", false}, /* a standby never runs a pass */
		{false, "v1", "v2", false},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (agent_sync_wake(rows[i].leading, rows[i].acted, rows[i].observed) != rows[i].want)
			fail_msg("row %zu: want %d", i, rows[i].want);
}

static void test_ready(void **state)
{
	(void)state;
	static const struct {
		agent_ready_view v;
		bool want;
		const char *why;
	} rows[] = {
		{{.api_ready = false, .electing = false, .lease_seen = false}, false, "alone, the API not reached yet"},
		{{.api_ready = true, .electing = false, .lease_seen = false}, true, "alone, a pass reached the API"},
		{{.api_ready = false, .electing = true, .lease_seen = false}, false, "electing, nothing answered yet"},
		{{.api_ready = false, .electing = true, .lease_seen = true}, true,
		 "a standby: it runs no pass, but reads the Lease"},
		{{.api_ready = true, .electing = true, .lease_seen = true}, true, "the leader"},
		{{.api_ready = true, .electing = true, .lease_seen = false}, true, "a pass reached the API first"},
		{{.api_ready = false, .electing = false, .lease_seen = true}, false,
		 "no election: a Lease flag (cannot happen) does not count"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *why = NULL;
		bool got = agent_ready(&rows[i].v, &why);
		if (got != rows[i].want)
			fail_msg("row %zu (%s): got %d", i, rows[i].why, got);
		if (!got && (!why || !strstr(why, "Kubernetes API")))
			fail_msg("row %zu: no reason given", i);
	}
}

static size_t check_exposition(const char *text);

static const char want_metrics[] =
	"# HELP flinkops_build_info The version of flinkops running (always 1).\n"
	"# TYPE flinkops_build_info gauge\n"
	"flinkops_build_info{version=\"1.2.3\",revision=\"ab\\\"c\"} 1\n"
	"# HELP flinkops_passes_total Passes by result: success, failed (deployments failed), error (could not complete).\n"
	"# TYPE flinkops_passes_total counter\n"
	"flinkops_passes_total{result=\"success\"} 3\n"
	"flinkops_passes_total{result=\"failed\"} 0\n"
	"flinkops_passes_total{result=\"error\"} 1\n"
	"# HELP flinkops_pass_duration_seconds How long a pass took.\n"
	"# TYPE flinkops_pass_duration_seconds histogram\n"
	"flinkops_pass_duration_seconds_bucket{le=\"0.1\"} 1\n"
	"flinkops_pass_duration_seconds_bucket{le=\"0.25\"} 2\n"
	"flinkops_pass_duration_seconds_bucket{le=\"0.5\"} 2\n"
	"flinkops_pass_duration_seconds_bucket{le=\"1\"} 2\n"
	"flinkops_pass_duration_seconds_bucket{le=\"2.5\"} 2\n"
	"flinkops_pass_duration_seconds_bucket{le=\"5\"} 3\n"
	"flinkops_pass_duration_seconds_bucket{le=\"10\"} 3\n"
	"flinkops_pass_duration_seconds_bucket{le=\"30\"} 3\n"
	"flinkops_pass_duration_seconds_bucket{le=\"60\"} 3\n"
	"flinkops_pass_duration_seconds_bucket{le=\"120\"} 3\n"
	"flinkops_pass_duration_seconds_bucket{le=\"300\"} 3\n"
	"flinkops_pass_duration_seconds_bucket{le=\"+Inf\"} 4\n"
	"flinkops_pass_duration_seconds_sum 1005.25\n"
	"flinkops_pass_duration_seconds_count 4\n"
	"# HELP flinkops_last_successful_pass_timestamp_seconds Unix time of the last pass that completed with no "
	"deployment failed (0: none yet).\n"
	"# TYPE flinkops_last_successful_pass_timestamp_seconds gauge\n"
	"flinkops_last_successful_pass_timestamp_seconds 1700000000\n"
	"# HELP flinkops_consecutive_failed_passes Passes in a row that could not complete (the backoff grows with it).\n"
	"# TYPE flinkops_consecutive_failed_passes gauge\n"
	"flinkops_consecutive_failed_passes 1\n"
	"# HELP flinkops_git_fetch_duration_seconds How long fetching and reading the repository took.\n"
	"# TYPE flinkops_git_fetch_duration_seconds histogram\n"
	"flinkops_git_fetch_duration_seconds_bucket{le=\"0.01\"} 0\n"
	"flinkops_git_fetch_duration_seconds_bucket{le=\"0.05\"} 0\n"
	"flinkops_git_fetch_duration_seconds_bucket{le=\"0.1\"} 1\n"
	"flinkops_git_fetch_duration_seconds_bucket{le=\"0.25\"} 1\n"
	"flinkops_git_fetch_duration_seconds_bucket{le=\"0.5\"} 1\n"
	"flinkops_git_fetch_duration_seconds_bucket{le=\"1\"} 1\n"
	"flinkops_git_fetch_duration_seconds_bucket{le=\"2.5\"} 1\n"
	"flinkops_git_fetch_duration_seconds_bucket{le=\"5\"} 1\n"
	"flinkops_git_fetch_duration_seconds_bucket{le=\"10\"} 1\n"
	"flinkops_git_fetch_duration_seconds_bucket{le=\"30\"} 1\n"
	"flinkops_git_fetch_duration_seconds_bucket{le=\"60\"} 1\n"
	"flinkops_git_fetch_duration_seconds_bucket{le=\"+Inf\"} 1\n"
	"flinkops_git_fetch_duration_seconds_sum 0.1\n"
	"flinkops_git_fetch_duration_seconds_count 1\n"
	"# HELP flinkops_objects_applied_total Kubernetes objects applied, by kind and result.\n"
	"# TYPE flinkops_objects_applied_total counter\n"
	"flinkops_objects_applied_total{kind=\"ConfigMap\",result=\"success\"} 2\n"
	"flinkops_objects_applied_total{kind=\"ConfigMap\",result=\"error\"} 0\n"
	"flinkops_objects_applied_total{kind=\"Service\",result=\"success\"} 6\n"
	"flinkops_objects_applied_total{kind=\"Service\",result=\"error\"} 0\n"
	"flinkops_objects_applied_total{kind=\"StatefulSet\",result=\"success\"} 4\n"
	"flinkops_objects_applied_total{kind=\"StatefulSet\",result=\"error\"} 1\n"
	"flinkops_objects_applied_total{kind=\"Ingress\",result=\"success\"} 0\n"
	"flinkops_objects_applied_total{kind=\"Ingress\",result=\"error\"} 0\n"
	"# HELP flinkops_rollouts_in_progress Deployments the last pass left waiting on Flink or the cluster.\n"
	"# TYPE flinkops_rollouts_in_progress gauge\n"
	"flinkops_rollouts_in_progress 2\n"
	"# HELP flinkops_rollout_wait_seconds How long a deployment the last pass left waiting has waited, by the "
	"journal step it waits at.\n"
	"# TYPE flinkops_rollout_wait_seconds gauge\n"
	"# HELP flinkops_leader 1 while this replica holds the leader election's Lease and may act (always 1 without "
	"leader election).\n"
	"# TYPE flinkops_leader gauge\n"
	"flinkops_leader 1\n"
	"# HELP flinkops_leader_transitions_total Times this replica's leadership changed: acquired, lost or released.\n"
	"# TYPE flinkops_leader_transitions_total counter\n"
	"flinkops_leader_transitions_total 3\n"
	"# HELP flinkops_savepoint_duration_seconds How long a deployment's savepoints took, from the stop's trigger "
	"to Flink's COMPLETED.\n"
	"# TYPE flinkops_savepoint_duration_seconds histogram\n"
	"# HELP flinkops_upgrade_duration_seconds How long a deployment's upgrades took, from the first step (the "
	"old job's stop or cancel) to the new job RUNNING.\n"
	"# TYPE flinkops_upgrade_duration_seconds histogram\n"
	"# HELP flinkops_upgrade_failures_total Rollout steps that failed, by reason (savepoint_failed, "
	"state_unknown, restart_budget, ...).\n"
	"# TYPE flinkops_upgrade_failures_total counter\n"
	"flinkops_upgrade_failures_total{reason=\"savepoint_failed\"} 0\n"
	"flinkops_upgrade_failures_total{reason=\"state_unknown\"} 0\n"
	"flinkops_upgrade_failures_total{reason=\"no_checkpoint\"} 0\n"
	"flinkops_upgrade_failures_total{reason=\"restart_budget\"} 0\n"
	"flinkops_upgrade_failures_total{reason=\"stop_failed\"} 0\n"
	"flinkops_upgrade_failures_total{reason=\"apply_failed\"} 0\n"
	"flinkops_upgrade_failures_total{reason=\"jar_failed\"} 0\n"
	"flinkops_upgrade_failures_total{reason=\"run_failed\"} 0\n"
	"flinkops_upgrade_failures_total{reason=\"journal_failed\"} 0\n"
	"flinkops_upgrade_failures_total{reason=\"first_checkpoint\"} 0\n"
	"flinkops_upgrade_failures_total{reason=\"other\"} 0\n"
	"# HELP flinkops_rollbacks_total Rollbacks started: an upgrade's new job judged unhealthy, its failed job "
	"cancelled and the previous commit's spec set to run again (the cause is counted in "
	"flinkops_upgrade_failures_total).\n"
	"# TYPE flinkops_rollbacks_total counter\n"
	"flinkops_rollbacks_total 0\n"
	"# HELP flinkops_bluegreen_switches_total Blue/green transitions that ended: cutover (the new colour caught up "
	"and took over), abort (it did not in the grace period, or failed: removed, the old colour runs on), cancel "
	"(git went back or suspended).\n"
	"# TYPE flinkops_bluegreen_switches_total counter\n"
	"flinkops_bluegreen_switches_total{result=\"cutover\"} 0\n"
	"flinkops_bluegreen_switches_total{result=\"abort\"} 0\n"
	"flinkops_bluegreen_switches_total{result=\"cancel\"} 0\n"
	"# HELP flinkops_bluegreen_switch_duration_seconds How long a blue/green transition took, from the new "
	"colour's start to the cut-over.\n"
	"# TYPE flinkops_bluegreen_switch_duration_seconds histogram\n"
	"flinkops_bluegreen_switch_duration_seconds_bucket{le=\"0.5\"} 0\n"
	"flinkops_bluegreen_switch_duration_seconds_bucket{le=\"1\"} 0\n"
	"flinkops_bluegreen_switch_duration_seconds_bucket{le=\"2.5\"} 0\n"
	"flinkops_bluegreen_switch_duration_seconds_bucket{le=\"5\"} 0\n"
	"flinkops_bluegreen_switch_duration_seconds_bucket{le=\"10\"} 0\n"
	"flinkops_bluegreen_switch_duration_seconds_bucket{le=\"30\"} 0\n"
	"flinkops_bluegreen_switch_duration_seconds_bucket{le=\"60\"} 0\n"
	"flinkops_bluegreen_switch_duration_seconds_bucket{le=\"120\"} 0\n"
	"flinkops_bluegreen_switch_duration_seconds_bucket{le=\"300\"} 0\n"
	"flinkops_bluegreen_switch_duration_seconds_bucket{le=\"600\"} 0\n"
	"flinkops_bluegreen_switch_duration_seconds_bucket{le=\"1200\"} 0\n"
	"flinkops_bluegreen_switch_duration_seconds_bucket{le=\"1800\"} 0\n"
	"flinkops_bluegreen_switch_duration_seconds_bucket{le=\"3600\"} 0\n"
	"flinkops_bluegreen_switch_duration_seconds_bucket{le=\"+Inf\"} 0\n"
	"flinkops_bluegreen_switch_duration_seconds_sum 0\n"
	"flinkops_bluegreen_switch_duration_seconds_count 0\n"
	"# HELP flinkops_webhook_requests_total Webhook requests by provider and HTTP status answered.\n"
	"# TYPE flinkops_webhook_requests_total counter\n"
	"flinkops_webhook_requests_total{provider=\"unknown\",code=\"413\"} 1\n"
	"flinkops_webhook_requests_total{provider=\"github\",code=\"202\"} 2\n"
	"flinkops_webhook_requests_total{provider=\"github\",code=\"401\"} 1\n"
	"flinkops_webhook_requests_total{provider=\"gitea\",code=\"503\"} 1\n"
	"flinkops_webhook_requests_total{provider=\"gitlab\",code=\"500\"} 1\n";

static void test_metrics_text(void **state)
{
	(void)state;
	agent_metric_values v;
	agent_metric_values_init(&v, "1.2.3", "ab\"c");
	v.passes[AGENT_PASS_SUCCESS] = 3;
	v.passes[AGENT_PASS_ERROR] = 1;
	static const double seconds[] = {0.05, 0.2, 5, 1000}; /* a boundary value counts in its bucket */
	for (size_t i = 0; i < 4; i++)
		agent_hist_observe(&v.pass_seconds, seconds[i]);
	agent_hist_observe(&v.fetch_seconds, 0.1);
	v.last_success = 1700000000;
	v.consecutive_failures = 1;
	v.applied[AGENT_KIND_CONFIGMAP][0] = 2;
	v.applied[AGENT_KIND_SERVICE][0] = 6;
	v.applied[AGENT_KIND_STATEFULSET][0] = 4;
	v.applied[AGENT_KIND_STATEFULSET][1] = 1;
	v.rollouts_in_progress = 2;
	v.leader = 1;
	v.leader_transitions = 3;
	agent_metric_hook(&v, AGENT_HOOK_GITHUB, 202);
	agent_metric_hook(&v, AGENT_HOOK_GITHUB, 202);
	agent_metric_hook(&v, AGENT_HOOK_GITHUB, 401);
	agent_metric_hook(&v, AGENT_HOOK_UNKNOWN, 413);
	agent_metric_hook(&v, AGENT_HOOK_GITLAB, 599); /* unlisted: counted as 500 */
	agent_metric_hook(&v, AGENT_HOOK_GITEA, 503);  /* a standby's answer is its own series */
	fo_buf b = FO_BUF_INIT;
	agent_metrics_format(&v, &b);
	assert_string_equal(fo_buf_cstr(&b), want_metrics);
	assert_int_equal(check_exposition(fo_buf_cstr(&b)), 3); /* pass, fetch, blue/green switch */
	fo_buf_free(&b);
}

/* Whatever is observed, buckets never decrease and +Inf equals _count. */
static void test_metrics_cumulative(void **state)
{
	(void)state;
	static const struct {
		double v[6];
		size_t n;
	} cases[] = {
		{{0}, 0},
		{{0}, 1},
		{{0.1, 0.1, 0.1}, 3},
		{{301, 1e9, 0.0001}, 3},
		{{2.5, 2.6, 2.4, 60, 59.9, 300}, 6},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		agent_metric_values v;
		agent_metric_values_init(&v, "x", "y");
		for (size_t k = 0; k < cases[i].n; k++)
			agent_hist_observe(&v.pass_seconds, cases[i].v[k]);
		fo_buf b = FO_BUF_INIT;
		agent_metrics_format(&v, &b);
		unsigned long long prev = 0, last = 0, count = ~0ull;
		for (const char *p = strstr(fo_buf_cstr(&b), "flinkops_pass_duration_seconds_bucket"); p;
		     p = strstr(p + 1, "flinkops_pass_duration_seconds_bucket")) {
			last = strtoull(strchr(p, '}') + 2, NULL, 10);
			assert_true(last >= prev);
			prev = last;
		}
		const char *c = strstr(fo_buf_cstr(&b), "flinkops_pass_duration_seconds_count ");
		assert_non_null(c);
		count = strtoull(c + strlen("flinkops_pass_duration_seconds_count "), NULL, 10);
		assert_int_equal(last, count);
		assert_int_equal(count, cases[i].n);
		check_exposition(fo_buf_cstr(&b));
		fo_buf_free(&b);
	}
}

/*
 * The rules of the text format a scraper relies on, checked on any
 * exposition: HELP and TYPE once per family and before its samples, the
 * samples of a family together; per histogram series (its labels but le)
 * buckets cumulative, ending in +Inf, whose value is the series' _count.
 * Returns the number of histogram series seen.
 */
static size_t check_exposition(const char *text)
{
	char fam[128] = "", type[16] = "", series[512] = "";
	char done[32][128];
	size_t ndone = 0, nseries = 0;
	unsigned long long prev = 0, inf = 0;
	bool open = false; /* a series whose +Inf was seen, waiting for its _count */
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		assert_non_null(nl);
		char buf[1024];
		size_t len = (size_t)(nl - line);
		assert_true(len < sizeof(buf));
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = nl + 1;
		char name[128], t[16];
		if (sscanf(buf, "# HELP %127s", name) == 1) {
			assert_true(strcspn(buf + 7, " ") < sizeof(name));
			for (size_t i = 0; i < ndone; i++)
				if (strcmp(done[i], name) == 0)
					fail_msg("HELP of %s twice", name);
			assert_true(ndone < 32);
			strcpy(done[ndone++], name);
			strcpy(fam, name);
			type[0] = '\0';
			continue;
		}
		if (sscanf(buf, "# TYPE %127s %15s", name, t) == 2) {
			if (strcmp(name, fam) != 0 || type[0])
				fail_msg("TYPE of %s not right after its HELP, or twice", name);
			strcpy(type, t);
			continue;
		}
		/* a sample: its name must be the family's (plus a histogram's suffix) */
		size_t n = strcspn(buf, "{ ");
		size_t f = strlen(fam);
		if (n < f || strncmp(buf, fam, f) != 0 || !type[0])
			fail_msg("sample outside its family %s: %s", fam, buf);
		const char *suffix = buf + f;
		if (strcmp(type, "histogram") != 0) {
			if (n != f)
				fail_msg("%s: a %s has no suffixes", buf, type);
			continue;
		}
		/* the series: the labels without le */
		char lab[512] = "";
		const char *lb = strchr(buf, '{');
		if (lb && lb < buf + n + 1) {
			const char *rb = strstr(lb, "} ");
			assert_non_null(rb);
			assert_true((size_t)(rb - lb) < sizeof(lab));
			snprintf(lab, sizeof(lab), "%.*s", (int)(rb - lb - 1), lb + 1);
			char *le = strstr(lab, "le=\"");
			if (le)
				*(le > lab && le[-1] == ',' ? le - 1 : le) = '\0';
		}
		unsigned long long val = strtoull(strrchr(buf, ' ') + 1, NULL, 10);
		if (strncmp(suffix, "_bucket", 7) == 0) {
			if (strcmp(lab, series) != 0 || !open) {
				if (open && strcmp(lab, series) == 0)
					fail_msg("%s: buckets after +Inf", buf);
				snprintf(series, sizeof(series), "%s", lab);
				prev = 0;
				open = true;
				inf = ~0ull;
				nseries++;
			}
			if (val < prev)
				fail_msg("%s: bucket below the one before (%llu)", buf, prev);
			prev = val;
			if (strstr(buf, "le=\"+Inf\""))
				inf = val;
		} else if (strncmp(suffix, "_count", 6) == 0) {
			if (strcmp(lab, series) != 0 || inf == ~0ull)
				fail_msg("%s: a _count without its +Inf bucket", buf);
			if (val != inf)
				fail_msg("%s: _count %llu, +Inf %llu", buf, val, inf);
			open = false;
		} else if (strncmp(suffix, "_sum", 4) != 0) {
			fail_msg("%s: not a histogram sample", buf);
		}
	}
	return nseries;
}

/* What rollouts finished becomes per-deployment histograms and failures by
 * reason; the series of a deployment gone from git are dropped. */
static void test_metrics_rollouts(void **state)
{
	(void)state;
	static const flink_deployment fd; /* "in git"; its content does not matter here */
	deploy_item items[4];
	memset(items, 0, sizeof(items));
	items[0] = (deploy_item){.fd = &fd, .ns = "team-a", .name = "counter", .savepoint_done = true,
				 .ms_savepoint = 1500, .upgrade_done = true, .ms_upgrade = 42000};
	items[1] = (deploy_item){.fd = &fd, .ns = "team-a", .name = "we\"ird\\na\nme", .savepoint_done = true,
				 .ms_savepoint = 0, .failure = DEPLOY_FAILURE_APPLY};
	items[2] = (deploy_item){.fd = NULL, .ns = "team-b", .name = "gone", .savepoint_done = true,
				 .ms_savepoint = 3000, .failure = DEPLOY_FAILURE_SAVEPOINT};
	items[3] = (deploy_item){.fd = &fd, .ns = "team-0", .name = "quiet", /* nothing finished */
				 .failure = DEPLOY_FAILURE_FIRST_CHECKPOINT, .rollback_started = true};
	deploy_pass p = {.items = items, .n = 4};

	agent_metric_values v;
	agent_metric_values_init(&v, "x", "y");
	agent_metric_rollouts(&v, &p, true);
	items[0].ms_savepoint = 4000000; /* a second pass: above the last bound, into +Inf only */
	items[0].upgrade_done = false;
	items[1].failure = DEPLOY_FAILURE_NONE;
	items[2].failure = DEPLOY_FAILURE_NONE;
	items[3].failure = DEPLOY_FAILURE_NONE;
	items[3].rollback_started = false; /* rolled back once; the next pass runs the older spec */
	agent_metric_rollouts(&v, &p, true);
	assert_int_equal(v.ndeps, 2); /* the quiet one and the gone one have none */

	fo_buf b = FO_BUF_INIT;
	agent_metrics_format(&v, &b);
	const char *t = fo_buf_cstr(&b);
	static const char *const want[] = {
		"flinkops_savepoint_duration_seconds_bucket{namespace=\"team-a\",name=\"counter\",le=\"1\"} 0\n",
		"flinkops_savepoint_duration_seconds_bucket{namespace=\"team-a\",name=\"counter\",le=\"2.5\"} 1\n",
		"flinkops_savepoint_duration_seconds_bucket{namespace=\"team-a\",name=\"counter\",le=\"3600\"} 1\n",
		"flinkops_savepoint_duration_seconds_bucket{namespace=\"team-a\",name=\"counter\",le=\"+Inf\"} 2\n",
		"flinkops_savepoint_duration_seconds_sum{namespace=\"team-a\",name=\"counter\"} 4001.5\n",
		"flinkops_savepoint_duration_seconds_count{namespace=\"team-a\",name=\"counter\"} 2\n",
		/* the name escaped: quote, backslash, newline */
		"flinkops_savepoint_duration_seconds_bucket{namespace=\"team-a\",name=\"we\\\"ird\\\\na\\nme\","
		"le=\"1\"} 2\n",
		"flinkops_upgrade_duration_seconds_bucket{namespace=\"team-a\",name=\"counter\",le=\"30\"} 0\n",
		"flinkops_upgrade_duration_seconds_bucket{namespace=\"team-a\",name=\"counter\",le=\"60\"} 1\n",
		"flinkops_upgrade_duration_seconds_count{namespace=\"team-a\",name=\"counter\"} 1\n",
		"flinkops_upgrade_failures_total{reason=\"savepoint_failed\"} 1\n",
		"flinkops_upgrade_failures_total{reason=\"apply_failed\"} 1\n",
		"flinkops_upgrade_failures_total{reason=\"run_failed\"} 0\n",
		"flinkops_upgrade_failures_total{reason=\"first_checkpoint\"} 1\n",
		"flinkops_rollbacks_total 1\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(t, want[i]))
			fail_msg("missing: %s", want[i]);
	/* a deployment with savepoints only has no upgrade series; the gone one none at all */
	assert_null(strstr(t, "flinkops_upgrade_duration_seconds_count{namespace=\"team-a\",name=\"we"));
	assert_null(strstr(t, "team-b"));
	assert_null(strstr(t, "quiet"));
	/* pass, fetch, blue/green switch, 2 savepoint and 1 upgrade series */
	assert_int_equal(check_exposition(t), 6);
	fo_buf_free(&b);

	/* an incomplete pass (a manifest unread) forgets nothing ... */
	p.n = 1;
	agent_metric_rollouts(&v, &p, false);
	assert_int_equal(v.ndeps, 2);
	/* ... a complete one drops what is no longer in git */
	agent_metric_rollouts(&v, &p, true);
	assert_int_equal(v.ndeps, 1);
	assert_string_equal(v.deps[0].name, "counter");
	p.n = 0;
	agent_metric_rollouts(&v, &p, true);
	assert_int_equal(v.ndeps, 0);
	agent_metric_values_free(&v);
}

/* What the blue/green engine recorded: cut-overs, aborts and cancels add
 * up over passes; each cut-over's duration is observed once. */
static void test_metrics_bluegreen(void **state)
{
	(void)state;
	deploy_bg_item items[2];
	memset(items, 0, sizeof(items));
	items[0].cutovers = 1;
	items[0].switch_ms = 45000;
	items[1].aborts = 1;
	items[1].switch_ms = -1;
	deploy_bg_pass bg = {.v = items, .n = 2};
	agent_metric_values v;
	agent_metric_values_init(&v, "x", "y");
	agent_metric_bluegreen(&v, &bg);
	items[0] = (deploy_bg_item){.cancels = 1, .switch_ms = -1};
	agent_metric_bluegreen(&v, &bg);
	agent_metric_bluegreen(&v, NULL);
	fo_buf b = FO_BUF_INIT;
	agent_metrics_format(&v, &b);
	const char *t = fo_buf_cstr(&b);
	static const char *const want[] = {
		"flinkops_bluegreen_switches_total{result=\"cutover\"} 1\n",
		"flinkops_bluegreen_switches_total{result=\"abort\"} 2\n",
		"flinkops_bluegreen_switches_total{result=\"cancel\"} 1\n",
		"flinkops_bluegreen_switch_duration_seconds_bucket{le=\"30\"} 0\n",
		"flinkops_bluegreen_switch_duration_seconds_bucket{le=\"60\"} 1\n",
		"flinkops_bluegreen_switch_duration_seconds_sum 45\n",
		"flinkops_bluegreen_switch_duration_seconds_count 1\n",
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(want); i++)
		if (!strstr(t, want[i]))
			fail_msg("missing: %s", want[i]);
	fo_buf_free(&b);
	agent_metric_values_free(&v);
}

/* A wait's age, which no status file shows, is a gauge by deployment and
 * journal step: it follows the last pass, and goes when the wait ends. */
static void test_metrics_wait(void **state)
{
	(void)state;
	static const flink_deployment fd;
	deploy_item items[2];
	memset(items, 0, sizeof(items));
	items[0] = (deploy_item){.fd = &fd, .ns = "team-a", .name = "counter", .outcome = DEPLOY_OUTCOME_WAITING,
				 .wait_ms = 12500};
	items[0].journal.step = DEPLOY_STEP_STOPPING;
	items[1] = (deploy_item){.fd = &fd, .ns = "team-a", .name = "other", .outcome = DEPLOY_OUTCOME_WAITING,
				 .wait_ms = -1}; /* for how long unknown: no sample */
	deploy_pass p = {.items = items, .n = 2};
	agent_metric_values v;
	agent_metric_values_init(&v, "x", "y");
	agent_metric_rollouts(&v, &p, true);
	items[0].wait_ms = 15500; /* the next re-check */
	agent_metric_rollouts(&v, &p, true);
	fo_buf b = FO_BUF_INIT;
	agent_metrics_format(&v, &b);
	const char *want = "flinkops_rollout_wait_seconds{namespace=\"team-a\",name=\"counter\",step=\"stopping\"} 15.5\n";
	if (!strstr(fo_buf_cstr(&b), want))
		fail_msg("missing %s in:\n%s", want, fo_buf_cstr(&b));
	assert_null(strstr(fo_buf_cstr(&b), "name=\"other\",step"));
	check_exposition(fo_buf_cstr(&b));
	/* a pass that did not get to it leaves the gauge; one that settled it removes it */
	items[0].outcome = DEPLOY_OUTCOME_NOT_ATTEMPTED;
	agent_metric_rollouts(&v, &p, false);
	fo_buf_clear(&b);
	agent_metrics_format(&v, &b);
	assert_non_null(strstr(fo_buf_cstr(&b), want));
	items[0].outcome = DEPLOY_OUTCOME_SETTLED;
	agent_metric_rollouts(&v, &p, true);
	fo_buf_clear(&b);
	agent_metrics_format(&v, &b);
	assert_null(strstr(fo_buf_cstr(&b), "flinkops_rollout_wait_seconds{"));
	fo_buf_free(&b);
	agent_metric_values_free(&v);
}

/* A shutdown is never held up by a pause: fo_pause_ms ends at once when
 * the stop flag is already set, and within a slice of it being set. */
static void *set_later(void *arg)
{
	struct timespec ts = {0, 100 * 1000000L};
	nanosleep(&ts, NULL);
	atomic_store((atomic_bool *)arg, true);
	return NULL;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_pause_stops(void **state)
{
	(void)state;
	atomic_bool stop;
	atomic_init(&stop, false);
	int64_t t0 = mono_ms();
	assert_false(fo_pause_ms(120, &stop)); /* not stopped: the whole pause */
	assert_false(fo_pause_ms(30, NULL));
	int64_t t1 = mono_ms();
	assert_true(t1 - t0 >= 150);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, set_later, &stop), 0);
	assert_true(fo_pause_ms(60 * 1000, &stop)); /* a minute, cut short */
	int64_t t2 = mono_ms();
	pthread_join(th, NULL);
	assert_true(t2 - t1 >= 90);
	assert_true(t2 - t1 < 2000);
	assert_true(fo_pause_ms(60 * 1000, &stop)); /* already set: at once */
	assert_true(mono_ms() - t2 < 100);
}

/* agent.probeListen's default: the next port on the same address, 0 stays
 * 0, 65535 has none; errors of the probe setting name it, not agent.listen. */
static void test_probe_listen(void **state)
{
	(void)state;
	static const struct {
		const char *listen, *want; /* want NULL: refused */
	} cases[] = {
		{":8080", "0.0.0.0:8081"},
		{"127.0.0.1:0", "127.0.0.1:0"},
		{"10.1.2.3:9000", "10.1.2.3:9001"},
		{"[::1]:8443", "[::1]:8444"},
		{"127.0.0.1:65535", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage a, p;
		socklen_t len;
		fo_err e = FO_ERR_INIT;
		assert_int_equal(agent_listen_parse(cases[i].listen, &a, &len, &e), 0);
		int rc = agent_probe_listen_default(&a, &p, &e);
		if (!cases[i].want) {
			assert_true(rc < 0);
			assert_non_null(strstr(fo_err_msg(&e), "agent.probeListen"));
			fo_err_clear(&e);
			continue;
		}
		assert_int_equal(rc, 0);
		char host[INET6_ADDRSTRLEN], got[80];
		if (p.ss_family == AF_INET6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&p)->sin6_addr, host, sizeof(host));
			snprintf(got, sizeof(got), "[%s]:%d", host, ntohs(((struct sockaddr_in6 *)&p)->sin6_port));
		} else {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&p)->sin_addr, host, sizeof(host));
			snprintf(got, sizeof(got), "%s:%d", host, ntohs(((struct sockaddr_in *)&p)->sin_port));
		}
		assert_string_equal(got, cases[i].want);
	}
	struct sockaddr_storage a;
	socklen_t len;
	fo_err e = FO_ERR_INIT;
	assert_true(agent_listen_parse_as("agent.probeListen", "localhost:8081", &a, &len, &e) < 0);
	assert_non_null(strstr(fo_err_msg(&e), "agent.probeListen \"localhost:8081\""));
	fo_err_clear(&e);
}

/* A webhook's body: refused before reading when its announced length is
 * over the limit, cut off the moment a chunked body grows over it, never
 * read to its end. */
static void test_body_step(void **state)
{
	(void)state;
	const uint64_t max = 1024 * 1024;
	/* the call with the headers */
	assert_int_equal(agent_body_step(NULL, true, 0, 0, max), AGENT_BODY_TAKE); /* chunked: not known yet */
	assert_int_equal(agent_body_step("1048576", true, 0, 0, max), AGENT_BODY_TAKE);
	assert_int_equal(agent_body_step("1048577", true, 0, 0, max), AGENT_BODY_REFUSE);
	assert_int_equal(agent_body_step("99999999999999999999", true, 0, 0, max), AGENT_BODY_REFUSE);
	/* the calls with data */
	assert_int_equal(agent_body_step(NULL, false, 0, 4096, max), AGENT_BODY_TAKE);
	assert_int_equal(agent_body_step(NULL, false, max - 10, 10, max), AGENT_BODY_TAKE);
	assert_int_equal(agent_body_step(NULL, false, max - 10, 11, max), AGENT_BODY_CLOSE);
	assert_int_equal(agent_body_step(NULL, false, max, 1, max), AGENT_BODY_CLOSE);
	/* no wrap-around: a huge chunk never looks small */
	assert_int_equal(agent_body_step(NULL, false, 10, UINT64_MAX - 5, max), AGENT_BODY_CLOSE);
	assert_int_equal(agent_body_step(NULL, false, max + 1, 0, max), AGENT_BODY_CLOSE);
	/* the request's deadline: past it only after the whole timeout */
	assert_false(agent_request_expired(1000, 31000, 30000));
	assert_true(agent_request_expired(1000, 31001, 30000));
	assert_false(agent_request_expired(5000, 5000, 30000));
}

/* The listener's settings: defaults, bounds, TLS both or neither. */
static void test_listener_config(void **state)
{
	(void)state;
	const char *base = "repository: {url: x}\nkubernetes: {kubeconfig: k}\n";
	fo_diags d = FO_DIAGS_INIT;
	char *noenv[] = {NULL};
	config *c = NULL;
	assert_int_equal(config_load_text("c.yaml", base, strlen(base), noenv, &c, &d), 0);
	assert_null(c->agent.probe_listen);
	assert_int_equal(c->agent.max_connections_per_client, 8);
	assert_int_equal(c->agent.request_timeout_ms, 30000);
	assert_null(c->agent.tls.cert_file);
	assert_null(c->agent.tls.key_file);
	config_free(c);
	static const struct {
		const char *agent, *env;
		int line, col;
		const char *msg; /* NULL: accepted */
	} cases[] = {
		{"agent: {probeListen: \"127.0.0.1:9090\", maxConnectionsPerClient: 64, requestTimeout: 1s,\n"
		 "  tls: {certFile: /tls/tls.crt, keyFile: /tls/tls.key}}\n", NULL, 0, 0, NULL},
		{"agent:\n  maxConnectionsPerClient: 0\n", NULL, 4, 28, "agent.maxConnectionsPerClient (0) must be from 1 to 64"},
		{"agent:\n  maxConnectionsPerClient: 65\n", NULL, 4, 28, "agent.maxConnectionsPerClient: expected a whole number from 0 to 64"},
		{"agent:\n  requestTimeout: 500ms\n", NULL, 4, 19, "agent.requestTimeout (500 ms) must be at least 1000 ms"},
		{"agent:\n  tls:\n    certFile: /tls/tls.crt\n", NULL, 5, 15,
		 "agent.tls.certFile is set but agent.tls.keyFile is not"},
		{"agent:\n  tls: {keyFile: /tls/tls.key}\n", NULL, 4, 18, "agent.tls.keyFile is set but agent.tls.certFile is not"},
		{"", "FLINKOPS_AGENT_TLS_CERT_FILE=/tls/tls.crt", 0, 0,
		 "FLINKOPS_AGENT_TLS_CERT_FILE overrides agent.tls.certFile is set but agent.tls.keyFile is not"},
		{"", "FLINKOPS_AGENT_REQUEST_TIMEOUT=0s", 0, 0,
		 "FLINKOPS_AGENT_REQUEST_TIMEOUT overrides agent.requestTimeout (0 ms)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = fo_asprintf("%s%s", base, cases[i].agent);
		char *env1[] = {(char *)cases[i].env, NULL};
		fo_diags bd = FO_DIAGS_INIT;
		config *x = NULL;
		int rc = config_load_text("c.yaml", text, strlen(text), env1, &x, &bd);
		if (!cases[i].msg) {
			if (rc != 0)
				fail_msg("case %zu refused: %s", i, bd.n ? bd.v[0].msg : "");
			assert_string_equal(x->agent.probe_listen, "127.0.0.1:9090");
			assert_int_equal(x->agent.max_connections_per_client, 64);
			assert_int_equal(x->agent.request_timeout_ms, 1000);
			assert_string_equal(x->agent.tls.cert_file, "/tls/tls.crt");
			assert_string_equal(x->agent.tls.key_file, "/tls/tls.key");
		} else {
			assert_int_equal(rc, FO_EINVAL);
			bool found = false;
			for (size_t k = 0; k < bd.n; k++)
				found = found || (strstr(bd.v[k].msg, cases[i].msg) && bd.v[k].line == cases[i].line &&
						  bd.v[k].col == cases[i].col);
			if (!found)
				fail_msg("case %zu: want %d:%d %s, got %d:%d %s", i, cases[i].line, cases[i].col, cases[i].msg,
					 bd.n ? bd.v[0].line : -1, bd.n ? bd.v[0].col : -1, bd.n ? bd.v[0].msg : "(none)");
		}
		config_free(x);
		fo_diags_free(&bd);
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_wait_delay),
		cmocka_unit_test(test_health_budget),
		cmocka_unit_test(test_pause_stops),
		cmocka_unit_test(test_fetches),
		cmocka_unit_test(test_wake),
		cmocka_unit_test(test_delivery),
		cmocka_unit_test(test_seen),
		cmocka_unit_test(test_webhook_answer),
		cmocka_unit_test(test_sync_value),
		cmocka_unit_test(test_ready),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_probe_listen),
		cmocka_unit_test(test_body_step),
		cmocka_unit_test(test_listener_config),
		cmocka_unit_test(test_webhook),
		cmocka_unit_test(test_metrics_text),
		cmocka_unit_test(test_metrics_cumulative),
		cmocka_unit_test(test_metrics_rollouts),
		cmocka_unit_test(test_metrics_bluegreen),
		cmocka_unit_test(test_metrics_wait),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
