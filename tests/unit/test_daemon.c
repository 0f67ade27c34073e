/*
 * Unit tests for the daemon's pure pieces (agent/schedule.c, webhook.c,
 * metrics.c): the delay before the next pass, whether it fetches, agent.listen, webhook
 * verification and the Prometheus text, as tables of cases. The HMAC
 * vectors were computed with `printf %s BODY | openssl dgst -sha256 -hmac KEY`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "agent/daemon.h"

static void test_schedule(void **state)
{
	(void)state;
	static const struct {
		int64_t interval, initial, max;
		double jitter;
		unsigned failures;
		bool waiting;
		int64_t want;
		const char *why;
	} cases[] = {
		{60000, 5000, 300000, 0, 0, false, 60000, "the interval"},
		{60000, 5000, 300000, 1, 0, false, 63000, "+5% at most"},
		{60000, 5000, 300000, -1, 0, false, 57000, "-5% at most"},
		{60000, 5000, 300000, 7, 0, false, 63000, "a draw out of range is clamped"},
		{60000, 5000, 300000, 0.5, 0, false, 61500, "half the jitter"},
		{60000, 5000, 300000, 1, 0, true, 3000, "waiting on Flink: soon, no jitter"},
		{60000, 5000, 300000, 0, 1, false, 5000, "first failure: the initial retry"},
		{60000, 5000, 300000, 0, 2, false, 10000, "doubled"},
		{60000, 5000, 300000, 0, 3, true, 20000, "failures win over waiting"},
		{60000, 5000, 300000, 0, 7, false, 300000, "5 s * 64 = 320 s: capped at 5 m"},
		{60000, 5000, 300000, 1, 7, false, 315000, "the cap gets the jitter too"},
		{60000, 5000, 300000, 0, 4000000000u, false, 300000, "no overflow after very many failures"},
		{10000, 5000, 300000, -1, 0, false, 9500, "a 10 s interval"},
		{1000, 0, 0, -1, 1, false, 1, "never below 1 ms"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		agent_sched s = {cases[i].interval, cases[i].initial, cases[i].max, AGENT_WAITING_MS};
		int64_t got = agent_next_delay_ms(&s, cases[i].jitter, cases[i].failures, cases[i].waiting);
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
	"# HELP flinkops_rollouts_in_progress Deployments the last pass left waiting on Flink or the cluster.\n"
	"# TYPE flinkops_rollouts_in_progress gauge\n"
	"flinkops_rollouts_in_progress 2\n"
	"# HELP flinkops_webhook_requests_total Webhook requests by provider and HTTP status answered.\n"
	"# TYPE flinkops_webhook_requests_total counter\n"
	"flinkops_webhook_requests_total{provider=\"unknown\",code=\"413\"} 1\n"
	"flinkops_webhook_requests_total{provider=\"github\",code=\"202\"} 2\n"
	"flinkops_webhook_requests_total{provider=\"github\",code=\"401\"} 1\n"
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
	agent_metric_hook(&v, AGENT_HOOK_GITHUB, 202);
	agent_metric_hook(&v, AGENT_HOOK_GITHUB, 202);
	agent_metric_hook(&v, AGENT_HOOK_GITHUB, 401);
	agent_metric_hook(&v, AGENT_HOOK_UNKNOWN, 413);
	agent_metric_hook(&v, AGENT_HOOK_GITLAB, 599); /* unlisted: counted as 500 */
	fo_buf b = FO_BUF_INIT;
	agent_metrics_format(&v, &b);
	assert_string_equal(fo_buf_cstr(&b), want_metrics);
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
		fo_buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule),
		cmocka_unit_test(test_fetches),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_webhook),
		cmocka_unit_test(test_metrics_text),
		cmocka_unit_test(test_metrics_cumulative),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
