/*
 * Unit tests for leader election: the decision (agent/leader.c) as a table
 * of rows — every situation a try can meet, with times chosen so that
 * only our monotonic clock can explain the outcome —, the Lease record's
 * JSON and time format, the release record, the settings' checks
 * (config/config.c), and the write fence (lib/fence.c) alone and in front
 * of the Kubernetes and Flink clients, pointed at a port where nothing
 * listens: a request that got past the fence would fail differently.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/leader.h"
#include "config/config.h"
#include "flink/rest.h"
#include "k8s/k8s.h"

#define S 1000 /* ms */

static void test_decide(void **state)
{
	(void)state;
	/* holder, leaseDurationSeconds, renewTime (as the other side's clock has it), transitions */
	static const struct {
		const char *why;
		bool exists;
		const char *holder;
		int64_t dur_s;
		const char *renew_time;
		int64_t transitions;
		int64_t observed_at, now;  /* monotonic ms */
		bool leading;
		int64_t renewed_at;
		enum agent_lease_action want;
		int64_t want_transitions;  /* of the record written */
		bool keeps_acquire;        /* the written acquireTime is the observed one */
	} rows[] = {
		{"no Lease: create it", false, NULL, 0, NULL, 0, 0, 100 * S, false, 0, AGENT_LEASE_CREATE, 0, false},
		{"held by another, changed 3 s ago: stand by", true, "b", 15, "2026-12-03T00:00:00.000000Z", 4, 97 * S,
		 100 * S, false, 0, AGENT_LEASE_STANDBY, 0, false},
		{"held by another, changed just under its 15 s ago: stand by", true, "b", 15, "2026-12-03T00:00:00.000000Z",
		 4, 85 * S + 1, 100 * S, false, 0, AGENT_LEASE_STANDBY, 0, false},
		{"held by another, unchanged for its 15 s by our clock: take over", true, "b", 15,
		 "2026-12-03T00:00:00.000000Z", 4, 85 * S, 100 * S, false, 0, AGENT_LEASE_TAKEOVER, 5, false},
		{"the holder's own duration counts, not ours (30 s)", true, "b", 30, "2026-12-03T00:00:00.000000Z", 4,
		 80 * S, 100 * S, false, 0, AGENT_LEASE_STANDBY, 0, false},
		{"no duration in the record: ours (15 s)", true, "b", 0, "2026-12-03T00:00:00.000000Z", 4, 80 * S, 100 * S,
		 false, 0, AGENT_LEASE_TAKEOVER, 5, false},
		{"released (no holder): take over at once", true, "", 1, "2026-12-03T00:00:00.000000Z", 7, 99 * S, 100 * S,
		 false, 0, AGENT_LEASE_TAKEOVER, 8, false},
		{"ours, leading: renew, acquireTime and transitions kept", true, "me", 15, "2026-12-03T00:00:00.000000Z", 2,
		 98 * S, 100 * S, true, 98 * S, AGENT_LEASE_RENEW, 2, true},
		{"ours after a restart with the same identity: renew (client-go)", true, "me", 15,
		 "2026-12-03T00:00:00.000000Z", 2, 100 * S, 100 * S, false, 0, AGENT_LEASE_RENEW, 2, true},
		{"renewal failing up to just under the deadline: still renew", true, "me", 15,
		 "2026-12-03T00:00:00.000000Z", 2, 90 * S, 100 * S, true, 90 * S + 1, AGENT_LEASE_RENEW, 2, true},
		{"renewal failing past the deadline (10 s): lost", true, "me", 15, "2026-12-03T00:00:00.000000Z", 2, 90 * S,
		 100 * S, true, 90 * S, AGENT_LEASE_LOST, 0, false},
		{"past the deadline even though the Lease still names us: lost", true, "me", 15,
		 "2026-12-03T00:00:00.000000Z", 2, 99 * S, 100 * S, true, 80 * S, AGENT_LEASE_LOST, 0, false},
		{"leading, but another holder wrote (after a conflict): lost", true, "b", 15, "2026-12-03T00:00:00.000000Z",
		 3, 99 * S, 100 * S, true, 95 * S, AGENT_LEASE_LOST, 0, false},
		{"leading, but it was released by someone: lost", true, "", 1, "2026-12-03T00:00:00.000000Z", 3, 99 * S,
		 100 * S, true, 95 * S, AGENT_LEASE_LOST, 0, false},
		/* the other side's clock: its renewTime is never compared with ours */
		{"renewTime far in the past, but changed 1 s ago by our clock: stand by", true, "b", 15,
		 "1970-01-01T00:00:01.000000Z", 4, 99 * S, 100 * S, false, 0, AGENT_LEASE_STANDBY, 0, false},
		{"renewTime far in the future, but unchanged for 16 s by our clock: take over", true, "b", 15,
		 "2999-12-31T23:59:59.999999Z", 4, 84 * S, 100 * S, false, 0, AGENT_LEASE_TAKEOVER, 5, false},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		agent_lease obs = {0};
		obs.holder = (char *)rows[i].holder;
		obs.duration_s = rows[i].dur_s;
		obs.acquire_time = (char *)"2026-12-01T00:00:00.000000Z";
		obs.renew_time = (char *)rows[i].renew_time;
		obs.transitions = rows[i].transitions;
		obs.resource_version = (char *)"42";
		agent_lease_view v = {"me", rows[i].exists ? &obs : NULL, rows[i].observed_at, rows[i].now, 15 * S, 10 * S,
				      rows[i].leading, rows[i].renewed_at, "2026-12-03T10:00:00.123456Z"};
		agent_lease_decision d;
		agent_lease_decide(&v, &d);
		if (d.action != rows[i].want)
			fail_msg("row %zu (%s): %s, want %s", i, rows[i].why, agent_lease_action_name(d.action),
				 agent_lease_action_name(rows[i].want));
		if (d.action == AGENT_LEASE_CREATE || d.action == AGENT_LEASE_TAKEOVER || d.action == AGENT_LEASE_RENEW) {
			if (strcmp(d.write.holder, "me") != 0 || d.write.duration_s != 15 ||
			    strcmp(d.write.renew_time, "2026-12-03T10:00:00.123456Z") != 0 ||
			    d.write.transitions != rows[i].want_transitions)
				fail_msg("row %zu (%s): wrote holder %s duration %lld renew %s transitions %lld", i, rows[i].why,
					 d.write.holder, (long long)d.write.duration_s, d.write.renew_time,
					 (long long)d.write.transitions);
			const char *acq = rows[i].keeps_acquire ? "2026-12-01T00:00:00.000000Z" : "2026-12-03T10:00:00.123456Z";
			if (strcmp(d.write.acquire_time, acq) != 0)
				fail_msg("row %zu (%s): acquireTime %s, want %s", i, rows[i].why, d.write.acquire_time, acq);
			/* a replace is conditional on the version read; a create has none */
			if (rows[i].exists ? !fo_streq(d.write.resource_version, "42") : d.write.resource_version != NULL)
				fail_msg("row %zu (%s): resourceVersion %s", i, rows[i].why,
					 d.write.resource_version ? d.write.resource_version : "(none)");
		}
		agent_lease_clear(&d.write);
	}
}

/* A race for an expired Lease: both replicas decide to take it over, the
 * API server keeps one write (the other gets 409 Conflict), and the loser,
 * reading the winner's record, stands by for a full lease duration. */
static void test_conflict(void **state)
{
	(void)state;
	agent_lease old = {(char *)"gone", 15, NULL, NULL, 1, (char *)"7", NULL};
	agent_lease_view a = {"a", &old, 0, 20 * S, 15 * S, 10 * S, false, 0, "2026-12-03T10:00:00.000000Z"};
	agent_lease_view b = a;
	b.me = "b";
	agent_lease_decision da, db;
	agent_lease_decide(&a, &da);
	agent_lease_decide(&b, &db);
	assert_int_equal(da.action, AGENT_LEASE_TAKEOVER);
	assert_int_equal(db.action, AGENT_LEASE_TAKEOVER);
	assert_string_equal(db.write.resource_version, "7"); /* b's write loses: 409, rv 7 is gone */
	agent_lease won;
	memset(&won, 0, sizeof(won));
	agent_lease_copy(&won, &da.write);
	free(won.resource_version);
	won.resource_version = fo_strdup("8");
	agent_lease_view after = {"b", &won, 21 * S, 21 * S, 15 * S, 10 * S, false, 0, "2026-12-03T10:00:01.000000Z"};
	agent_lease_decision d2;
	agent_lease_decide(&after, &d2);
	assert_int_equal(d2.action, AGENT_LEASE_STANDBY);
	after.now = 21 * S + 15 * S - 1;
	agent_lease_decide(&after, &d2);
	assert_int_equal(d2.action, AGENT_LEASE_STANDBY);
	after.now = 21 * S + 15 * S;
	agent_lease_decide(&after, &d2);
	assert_int_equal(d2.action, AGENT_LEASE_TAKEOVER);
	assert_int_equal(d2.write.transitions, 3);
	agent_lease_clear(&d2.write);
	agent_lease_clear(&won);
	agent_lease_clear(&da.write);
	agent_lease_clear(&db.write);
}

static void test_release_and_record(void **state)
{
	(void)state;
	agent_lease mine = {(char *)"me", 15, (char *)"2026-12-01T00:00:00.000000Z", (char *)"2026-12-03T00:00:00.000000Z",
			    6, (char *)"99", NULL};
	agent_lease rel;
	assert_true(agent_lease_release("me", &mine, "2026-12-03T10:00:00.000001Z", &rel));
	assert_string_equal(rel.holder, "");
	assert_int_equal(rel.duration_s, 1);
	assert_int_equal(rel.transitions, 6);
	assert_string_equal(rel.resource_version, "99");
	assert_string_equal(rel.renew_time, "2026-12-03T10:00:00.000001Z");
	cJSON *o = agent_lease_object("ns", "flinkops", &rel, NULL);
	char *txt = cJSON_PrintUnformatted(o);
	assert_string_equal(txt, "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":"
				 "\"flinkops\",\"namespace\":\"ns\",\"resourceVersion\":\"99\",\"labels\":{\"app."
				 "kubernetes.io/managed-by\":\"flinkops\"}},\"spec\":{\"leaseDurationSeconds\":1,"
				 "\"acquireTime\":\"2026-12-03T10:00:00.000001Z\",\"renewTime\":\"2026-12-03T10:00:00."
				 "000001Z\",\"leaseTransitions\":6}}");
	/* read back: no holder is "" */
	agent_lease back;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(agent_lease_parse(o, &back, &e), 0);
	assert_true(agent_lease_same(&back, &rel));
	agent_lease_clear(&back);
	cJSON_free(txt);
	cJSON_Delete(o);
	agent_lease_clear(&rel);
	agent_lease other = mine;
	other.holder = (char *)"b";
	assert_false(agent_lease_release("me", &other, "2026-12-03T10:00:00.000001Z", &rel));
	assert_false(agent_lease_release("me", NULL, "2026-12-03T10:00:00.000001Z", &rel));

	cJSON *notlease = cJSON_Parse("{\"kind\":\"ConfigMap\",\"metadata\":{}}");
	assert_int_equal(agent_lease_parse(notlease, &back, &e), FO_ESERVER);
	agent_lease_clear(&back);
	cJSON_Delete(notlease);
	fo_err_clear(&e);

	static const struct {
		int64_t us;
		const char *want;
	} times[] = {
		{0, "1970-01-01T00:00:00.000000Z"},
		{1136214245000000LL, "2006-01-02T15:04:05.000000Z"},
		{1796256000123456LL, "2026-12-03T00:00:00.123456Z"},
		{1796256000000001LL, "2026-12-03T00:00:00.000001Z"},
	};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		char *t = agent_lease_time(times[i].us);
		assert_string_equal(t, times[i].want);
		free(t);
	}
}

static void test_config_rows(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *env; /* one NAME=value, or NULL */
		int line, col;
		const char *msg; /* NULL: loads */
	} rows[] = {
		{"agent:\n  leaderElection:\n    leaseDuration: 10s\n    renewDeadline: 10s\n", NULL, 3, 20,
		 "agent.leaderElection.leaseDuration (10000 ms) must be longer than agent.leaderElection.renewDeadline"},
		{"agent:\n  leaderElection:\n    renewDeadline: 20s\n", NULL, 3, 20,
		 "leaseDuration (15000 ms) must be longer than agent.leaderElection.renewDeadline (20000 ms)"},
		{"agent:\n  leaderElection:\n    renewDeadline: 2400ms\n", NULL, 3, 20,
		 "renewDeadline (2400 ms) must be longer than 1.2 x agent.leaderElection.retryPeriod (2000 ms)"},
		{"agent:\n  leaderElection:\n    retryPeriod: 9s\n", NULL, 3, 18,
		 "renewDeadline (10000 ms) must be longer than 1.2 x agent.leaderElection.retryPeriod (9000 ms)"},
		{"agent:\n  leaderElection: {retryPeriod: 0s}\n", NULL, 2, 33, "agent.leaderElection.retryPeriod must be above zero"},
		/* every retryPeriod is a call to the API server: not a hot loop */
		{"agent:\n  leaderElection: {leaseDuration: 6s, renewDeadline: 4s, retryPeriod: 10ms}\n", NULL, 2, 71,
		 "agent.leaderElection.retryPeriod (10 ms) must be at least 100 ms"},
		/* timings that leave a Kubernetes call no time at all */
		{"agent:\n  leaderElection: {enabled: true, leaseDuration: 1500ms, renewDeadline: 1s, retryPeriod: 100ms}\n",
		 NULL, 2, 50, "agent.leaderElection.leaseDuration (1500 ms) and renewDeadline (1000 ms) leave 500 ms for a Kubernetes call"},
		{"agent: {}\n", "FLINKOPS_AGENT_LEADER_ELECTION_LEASE_DURATION=5s", 0, 0,
		 "FLINKOPS_AGENT_LEADER_ELECTION_LEASE_DURATION overrides agent.leaderElection.leaseDuration (5000 ms) must be longer"},
		{"kubernetes: {kubeconfig: k, timeout: 30s}\nagent:\n  leaderElection: {enabled: true}\n", NULL, 1, 38,
		 "kubernetes.timeout (30000 ms) is too long for leader election: a call must end within 5000 ms"},
		{"kubernetes: {kubeconfig: k, timeout: 30s}\nagent: {leaderElection: {enabled: false}}\n", NULL, 0, 0, NULL},
		{"kubernetes: {kubeconfig: k, timeout: 5s}\nagent: {leaderElection: {enabled: true}}\n", NULL, 0, 0, NULL},
		{"agent: {leaderElection: {enabled: true, leaseDuration: 6s, renewDeadline: 4s, retryPeriod: 1s}}\n", NULL,
		 0, 0, NULL},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *text = fo_asprintf("repository: {url: x}\n%s%s", rows[i].text,
					 strstr(rows[i].text, "kubernetes:") ? "" : "kubernetes: {kubeconfig: k}\n");
		fo_diags d = FO_DIAGS_INIT;
		char *env[] = {(char *)rows[i].env, NULL};
		config *c = NULL;
		int rc = config_load_text("c.yaml", text, strlen(text), env, &c, &d);
		if (!rows[i].msg) {
			if (rc != 0)
				fail_msg("row %zu: refused: %s", i, d.n ? d.v[0].msg : "");
		} else {
			bool found = false;
			/* the row's line counts from its own text: one line was put before it */
			for (size_t k = 0; k < d.n; k++)
				found = found || (strstr(d.v[k].msg, rows[i].msg) &&
						  d.v[k].line == (rows[i].line ? rows[i].line + 1 : 0) &&
						  d.v[k].col == rows[i].col);
			if (rc != FO_EINVAL || !found)
				fail_msg("row %zu: want %d:%d %s; got rc %d, %d:%d %s", i, rows[i].line + 1, rows[i].col,
					 rows[i].msg, rc, d.n ? d.v[0].line : -1, d.n ? d.v[0].col : -1,
					 d.n ? d.v[0].msg : "(none)");
		}
		config_free(c);
		fo_diags_free(&d);
		free(text);
	}

	/* defaults; on by default only in a cluster; the timeout lowered to the bound */
	char *noenv[] = {NULL};
	const char *t1 = "repository: {url: x}\nkubernetes: {kubeconfig: k}\n";
	config *c = NULL;
	fo_diags d = FO_DIAGS_INIT;
	assert_int_equal(config_load_text("c.yaml", t1, strlen(t1), noenv, &c, &d), 0);
	assert_false(c->agent.leader_election.enabled);
	assert_int_equal(c->agent.leader_election.lease_duration_ms, 15000);
	assert_int_equal(c->agent.leader_election.renew_deadline_ms, 10000);
	assert_int_equal(c->agent.leader_election.retry_period_ms, 2000);
	assert_null(c->agent.leader_election.identity);
	assert_int_equal(c->kubernetes.timeout_ms, 30000); /* off: untouched */
	config_free(c);
	const char *t2 = "repository: {url: x}\nkubernetes: {inCluster: true}\n";
	assert_int_equal(config_load_text("c.yaml", t2, strlen(t2), noenv, &c, &d), 0);
	assert_true(c->agent.leader_election.enabled);
	assert_int_equal(c->kubernetes.timeout_ms, 5000);
	config_free(c);
	char *env2[] = {"FLINKOPS_AGENT_LEADER_ELECTION_ENABLED=false", "FLINKOPS_AGENT_LEADER_ELECTION_IDENTITY=pod-1",
			"FLINKOPS_AGENT_LEADER_ELECTION_LEASE_NAME=l", NULL};
	assert_int_equal(config_load_text("c.yaml", t2, strlen(t2), env2, &c, &d), 0);
	assert_false(c->agent.leader_election.enabled);
	assert_string_equal(c->agent.leader_election.identity, "pod-1");
	assert_string_equal(c->agent.leader_election.lease_name, "l");
	config_free(c);
	const char *t3 = "repository: {url: x}\nkubernetes: {kubeconfig: k}\n"
			 "agent: {leaderElection: {enabled: true, leaseDuration: 6s, renewDeadline: 4s, retryPeriod: 1s}}\n";
	assert_int_equal(config_load_text("c.yaml", t3, strlen(t3), noenv, &c, &d), 0);
	assert_int_equal(c->kubernetes.timeout_ms, 2000); /* min(4 s / 2, 6 s - 4 s) */
	config_free(c);
	fo_diags_free(&d);
}

/* A Lease as the API server keeps it, annotated by a standby and then
 * renewed by the leader: every field survives both edits. */
#define STORED                                                                                                       \
	"{\"kind\":\"Lease\",\"apiVersion\":\"coordination.k8s.io/v1\",\"metadata\":{\"name\":\"flinkops\","           \
	"\"namespace\":\"ns\",\"uid\":\"u-1\",\"resourceVersion\":\"41\",\"creationTimestamp\":\"2026-12-01T00:00:00Z\","  \
	"\"labels\":{\"app.kubernetes.io/managed-by\":\"flinkops\",\"team\":\"data\"},\"annotations\":{\"note\":\"kept\"},"   \
	"\"managedFields\":[{\"manager\":\"x\"}]},\"spec\":{\"holderIdentity\":\"a\",\"leaseDurationSeconds\":15,"      \
	"\"acquireTime\":\"2026-12-01T00:00:00.000000Z\",\"renewTime\":\"2026-12-03T00:00:00.000000Z\","                \
	"\"leaseTransitions\":2}}"

static void test_annotate_round_trip(void **state)
{
	(void)state;
	cJSON *stored = cJSON_Parse(STORED);
	assert_non_null(stored);
	fo_err e = FO_ERR_INIT;
	agent_lease before, after;
	assert_int_equal(agent_lease_parse(stored, &before, &e), 0);
	assert_null(before.sync_requested);

	/* the standby's edit: the annotation added, nothing else changed */
	cJSON *marked = agent_lease_annotate(stored, AGENT_SYNC_ANNOTATION, "i-.b-.17");
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(marked, "metadata");
	cJSON *ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(ann, AGENT_SYNC_ANNOTATION)->valuestring, "i-.b-.17");
	cJSON_DeleteItemFromObjectCaseSensitive(ann, AGENT_SYNC_ANNOTATION);
	assert_true(cJSON_Compare(marked, stored, true)); /* without it: the object as read, resourceVersion too */
	cJSON_Delete(marked);
	marked = agent_lease_annotate(stored, AGENT_SYNC_ANNOTATION, "i-.b-.17");
	assert_int_equal(agent_lease_parse(marked, &after, &e), 0);
	assert_string_equal(after.sync_requested, "i-.b-.17");
	assert_string_equal(after.resource_version, "41"); /* the replace is conditional on what was read */
	assert_true(agent_lease_same(&before, &after));    /* no change of the holder's record... */
	/* ...nor is a version moved by the annotation alone: neither restarts a standby's expiry clock */
	free(after.resource_version);
	after.resource_version = fo_strdup("42");
	assert_true(agent_lease_same(&before, &after));
	free(after.renew_time);
	after.renew_time = fo_strdup("2026-12-03T00:00:02.000000Z");
	assert_false(agent_lease_same(&before, &after)); /* a renewal does */
	agent_lease_clear(&after);
	/* an annotation written again is replaced, not doubled */
	cJSON *again = agent_lease_annotate(marked, AGENT_SYNC_ANNOTATION, "i-.b-.18");
	ann = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(again, "metadata"), "annotations");
	assert_int_equal(cJSON_GetArraySize(ann), 2);
	cJSON_Delete(again);

	/* the leader's renewal over what it read: the new spec and version,
	 * every annotation (the standby's request above all), label and field kept */
	agent_lease rec = {(char *)"a", 15, (char *)"2026-12-01T00:00:00.000000Z", (char *)"2026-12-03T00:00:04.000000Z", 2,
			   (char *)"43", NULL};
	cJSON *renewed = agent_lease_object("ns", "flinkops", &rec, marked);
	assert_int_equal(agent_lease_parse(renewed, &after, &e), 0);
	assert_string_equal(after.sync_requested, "i-.b-.17");
	assert_string_equal(after.resource_version, "43");
	assert_string_equal(after.renew_time, "2026-12-03T00:00:04.000000Z");
	agent_lease_clear(&after);
	cJSON *spec = cJSON_DetachItemFromObjectCaseSensitive(renewed, "spec");
	cJSON *want = cJSON_Duplicate(marked, true);
	cJSON_DeleteItemFromObjectCaseSensitive(want, "spec");
	cJSON *wm = cJSON_GetObjectItemCaseSensitive(want, "metadata");
	cJSON_ReplaceItemInObjectCaseSensitive(wm, "resourceVersion", cJSON_CreateString("43"));
	assert_true(cJSON_Compare(renewed, want, true));
	char *st = cJSON_PrintUnformatted(spec);
	assert_string_equal(st, "{\"holderIdentity\":\"a\",\"leaseDurationSeconds\":15,\"acquireTime\":\"2026-12-01T00:00:"
				"00.000000Z\",\"renewTime\":\"2026-12-03T00:00:04.000000Z\",\"leaseTransitions\":2}");
	cJSON_free(st);
	cJSON_Delete(spec);
	cJSON_Delete(want);
	cJSON_Delete(renewed);
	cJSON_Delete(marked);
	agent_lease_clear(&before);
	cJSON_Delete(stored);
	fo_err_clear(&e);
}

/* The fence and the Lease's expiry count the time the machine was
 * suspended: CLOCK_BOOTTIME, never CLOCK_MONOTONIC (which stops). */
static void test_fence_clock(void **state)
{
	(void)state;
	assert_int_equal(fo_mono_clock(), CLOCK_BOOTTIME);
	struct timespec a, b;
	clock_gettime(CLOCK_BOOTTIME, &a);
	int64_t now = fo_mono_ms();
	clock_gettime(CLOCK_BOOTTIME, &b);
	assert_in_range(now, (int64_t)a.tv_sec * 1000 + a.tv_nsec / 1000000, (int64_t)b.tv_sec * 1000 + b.tv_nsec / 1000000);
	/* the fence judges against that clock: renewed by it just under the
	 * deadline ago, held; just over, refused */
	fo_fence f;
	fo_fence_init(&f, 10 * S);
	fo_err e = FO_ERR_INIT;
	fo_fence_renewed(&f, fo_mono_ms() - 10 * S + 2 * S);
	assert_int_equal(fo_fence_check(&f, "x", &e), 0);
	fo_fence_close(&f);
	fo_fence_renewed(&f, fo_mono_ms() - 10 * S - 1);
	assert_int_equal(fo_fence_check(&f, "x", &e), FO_EFENCED);
	fo_err_clear(&e);
	/* a condition's deadline: on CLOCK_MONOTONIC, as far ahead as asked */
	struct timespec m, d = fo_mono_deadline(fo_mono_ms() + 1500);
	clock_gettime(CLOCK_MONOTONIC, &m);
	int64_t ahead = ((int64_t)d.tv_sec - m.tv_sec) * 1000 + (d.tv_nsec - m.tv_nsec) / 1000000;
	assert_in_range(ahead, 1400, 1500);
	assert_in_range(d.tv_nsec, 0, 999999999);
}

static void test_fence(void **state)
{
	(void)state;
	fo_fence f;
	fo_fence_init(&f, 10 * S);
	fo_err e = FO_ERR_INIT;
	assert_int_equal(fo_fence_check_at(&f, 100 * S, "apply StatefulSet ns/x", &e), FO_EFENCED);
	assert_string_equal(fo_err_msg(&e), "not the leader: the lease is not held; refusing apply StatefulSet ns/x");
	fo_fence_renewed(&f, 100 * S);
	assert_int_equal(fo_fence_check_at(&f, 100 * S, "x", &e), 0);
	assert_int_equal(fo_fence_check_at(&f, 110 * S - 1, "x", &e), 0);
	assert_int_equal(fo_fence_check_at(&f, 110 * S, "apply StatefulSet ns/x", &e), FO_EFENCED);
	assert_string_equal(fo_err_msg(&e), "not the leader: lease not renewed for 10000 ms (renew deadline 10000 ms); "
					    "refusing apply StatefulSet ns/x");
	/* a late answer to an older renewal does not move the time back */
	fo_fence_renewed(&f, 105 * S);
	fo_fence_renewed(&f, 101 * S);
	int64_t age;
	assert_true(fo_fence_held_at(&f, 106 * S, &age));
	assert_int_equal(age, 1 * S);
	fo_fence_close(&f);
	assert_false(fo_fence_held_at(&f, 106 * S, &age));
	assert_int_equal(age, -1);
	/* held again after a new acquisition */
	fo_fence_renewed(&f, 200 * S);
	assert_true(fo_fence_held_at(&f, 200 * S, NULL));
	assert_int_equal(fo_fence_check(NULL, "x", &e), 0);
	fo_err_clear(&e);
}

/* Nothing listens on port 1 of the loopback: a request sent there fails
 * with a network error, one refused by the fence never leaves. */
static void test_fence_in_clients(void **state)
{
	(void)state;
	fo_fence f;
	fo_fence_init(&f, 10 * S);
	k8s_config kc = {0};
	kc.server = (char *)"https://127.0.0.1:1";
	kc.insecure = true;
	k8s_options ko = {0};
	ko.fence = &f;
	ko.retries = -1;
	ko.timeout_ms = 2000;
	k8s_client *c = NULL;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(k8s_client_new(&kc, &ko, &c, &e), 0);
	cJSON *sts = cJSON_Parse("{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"x\","
				 "\"namespace\":\"ns\"}}");
	assert_int_equal(k8s_apply(c, sts, false, NULL, &e), FO_EFENCED);
	assert_string_equal(fo_err_msg(&e), "not the leader: the lease is not held; refusing apply StatefulSet ns/x");
	assert_int_equal(k8s_apply(c, sts, true, NULL, &e), FO_EFENCED); /* a dry run too */
	assert_int_equal(k8s_delete(c, &k8s_kind_statefulset, "ns", "x", "Background", &e), FO_EFENCED);
	assert_int_equal(k8s_create(c, sts, NULL, &e), FO_EFENCED);
	assert_int_equal(k8s_replace(c, sts, NULL, &e), FO_EFENCED);
	assert_string_equal(fo_err_msg(&e), "not the leader: the lease is not held; refusing replace StatefulSet ns/x");
	/* reads pass the fence (and reach the closed port) */
	cJSON *got = NULL;
	assert_int_equal(k8s_get(c, &k8s_kind_statefulset, "ns", "x", &got, &e), FO_ENET);
	/* held: the write goes out, and meets the closed port */
	fo_fence_renewed(&f, fo_mono_ms());
	assert_int_equal(k8s_apply(c, sts, false, NULL, &e), FO_ENET);
	const k8s_stats *s = k8s_client_stats(c);
	assert_int_equal(s->apply, 1); /* only the attempt past the fence counted as sent */
	assert_int_equal(s->dry_run + s->del + s->other, 0);
	cJSON_Delete(sts);
	k8s_client_free(c);

	fo_fence_close(&f);
	flink_rest_opts ro = {0};
	ro.fence = &f;
	ro.timeout_ms = 2000;
	flink_rest *r = NULL;
	assert_int_equal(flink_rest_new("http://127.0.0.1:1", &ro, &r, &e), 0);
	char *trigger = NULL;
	assert_int_equal(flink_rest_savepoint_trigger(r, "0123456789abcdef0123456789abcdef", "/sp", NULL, NULL, &trigger, &e),
			 FO_EFENCED);
	assert_non_null(strstr(fo_err_msg(&e), "not the leader: the lease is not held; refusing "));
	assert_non_null(strstr(fo_err_msg(&e), "(POST /jobs/0123456789abcdef0123456789abcdef/savepoints)"));
	assert_int_equal(flink_rest_job_cancel(r, "0123456789abcdef0123456789abcdef", &e), FO_EFENCED);
	assert_int_equal(flink_rest_jar_delete(r, "5f0c0e0e-0000-0000-0000-000000000000_job.jar", &e), FO_EFENCED);
	flink_overview ov;
	assert_int_equal(flink_rest_overview(r, &ov, &e), FO_ENET); /* a GET is not fenced */
	fo_fence_renewed(&f, fo_mono_ms());
	assert_int_equal(flink_rest_job_cancel(r, "0123456789abcdef0123456789abcdef", &e), FO_ENET);
	flink_rest_free(r);
	fo_err_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_conflict),
		cmocka_unit_test(test_release_and_record),
		cmocka_unit_test(test_config_rows),
		cmocka_unit_test(test_fence),
		cmocka_unit_test(test_annotate_round_trip),
		cmocka_unit_test(test_fence_clock),
		cmocka_unit_test(test_fence_in_clients),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
