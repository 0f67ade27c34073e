/*
 * Unit tests for FlinkStateSnapshot (deploy/snapshot.h): the decision of
 * its next step for every state and observation, the hold it puts on its
 * job's rollout, its record's strict encoding, what `plan` says of a
 * change, and the status file a pass writes. The walk through the edges:
 * a snapshot whose job is suspended, upgrading, deleted or unreachable;
 * one whose file is gone mid-flight; a trigger Flink forgot; a retry
 * inside and past the backoff; a spec changed after it was taken. No
 * servers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deploy/snapshot.h"
#include "flink/status.h"
#include "lib/util.h"

enum { IN_GIT = 1, GONE = 0 };

/* Every state against the observations that move it. */
static void test_next_table(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		enum deploy_snap_state st;
		int failures;
		bool in_git, already, job_in_git, ready;
		int limit;
		bool flink_ok;
		enum deploy_trigger_obs trig;
		int running;
		long since;
		enum deploy_snap_op want;
	} cases[] = {
		/* never asked */
		{"new, job ready", DEPLOY_SNAP_PENDING, 0, IN_GIT, false, true, true, -1, true, DEPLOY_TRIGGER_NONE, -1, -1,
		 DEPLOY_SNAP_OP_TRIGGER},
		{"new, job upgrading/suspended/starting", DEPLOY_SNAP_PENDING, 0, IN_GIT, false, true, false, -1, true,
		 DEPLOY_TRIGGER_NONE, -1, -1, DEPLOY_SNAP_OP_WAIT},
		{"new, job not in git", DEPLOY_SNAP_PENDING, 0, IN_GIT, false, false, false, -1, true, DEPLOY_TRIGGER_NONE,
		 -1, -1, DEPLOY_SNAP_OP_ABANDON},
		{"new, alreadyExists", DEPLOY_SNAP_PENDING, 0, IN_GIT, true, false, false, -1, true, DEPLOY_TRIGGER_NONE, -1,
		 -1, DEPLOY_SNAP_OP_REGISTER},
		{"new, gone from git before asked", DEPLOY_SNAP_PENDING, 0, GONE, false, false, false, -1, true,
		 DEPLOY_TRIGGER_NONE, -1, -1, DEPLOY_SNAP_OP_NONE},
		/* a retry: inside the backoff it waits, past it it asks */
		{"retry inside backoff", DEPLOY_SNAP_PENDING, 1, IN_GIT, false, true, true, 3, true, DEPLOY_TRIGGER_NONE, -1,
		 5000, DEPLOY_SNAP_OP_WAIT},
		{"retry past backoff", DEPLOY_SNAP_PENDING, 1, IN_GIT, false, true, true, 3, true, DEPLOY_TRIGGER_NONE, -1,
		 10000, DEPLOY_SNAP_OP_TRIGGER},
		{"retry past backoff, job not ready", DEPLOY_SNAP_PENDING, 1, IN_GIT, false, true, false, 3, true,
		 DEPLOY_TRIGGER_NONE, -1, 10000, DEPLOY_SNAP_OP_WAIT},
		/* in flight: only Flink moves it, whatever git says */
		{"in flight, Flink down", DEPLOY_SNAP_IN_PROGRESS, 0, IN_GIT, false, true, true, -1, false, DEPLOY_TRIGGER_NONE,
		 -1, -1, DEPLOY_SNAP_OP_WAIT},
		{"in flight, working", DEPLOY_SNAP_IN_PROGRESS, 0, IN_GIT, false, true, true, -1, true,
		 DEPLOY_TRIGGER_IN_PROGRESS, 1, -1, DEPLOY_SNAP_OP_WAIT},
		{"in flight, completed", DEPLOY_SNAP_IN_PROGRESS, 0, IN_GIT, false, true, true, -1, true,
		 DEPLOY_TRIGGER_COMPLETED, 1, -1, DEPLOY_SNAP_OP_COMPLETE},
		{"in flight, completed, file gone", DEPLOY_SNAP_IN_PROGRESS, 0, GONE, false, false, false, -1, true,
		 DEPLOY_TRIGGER_COMPLETED, 1, -1, DEPLOY_SNAP_OP_COMPLETE},
		{"in flight, failed, no limit", DEPLOY_SNAP_IN_PROGRESS, 0, IN_GIT, false, true, true, -1, true,
		 DEPLOY_TRIGGER_FAILED, 1, -1, DEPLOY_SNAP_OP_RETRY},
		{"in flight, failed, limit 0", DEPLOY_SNAP_IN_PROGRESS, 0, IN_GIT, false, true, true, 0, true,
		 DEPLOY_TRIGGER_FAILED, 1, -1, DEPLOY_SNAP_OP_FAIL},
		{"in flight, failed, limit 1, first failure", DEPLOY_SNAP_IN_PROGRESS, 0, IN_GIT, false, true, true, 1, true,
		 DEPLOY_TRIGGER_FAILED, 1, -1, DEPLOY_SNAP_OP_RETRY},
		{"in flight, failed, limit 1, second failure", DEPLOY_SNAP_IN_PROGRESS, 1, IN_GIT, false, true, true, 1, true,
		 DEPLOY_TRIGGER_FAILED, 1, -1, DEPLOY_SNAP_OP_FAIL},
		{"in flight, forgotten, job runs", DEPLOY_SNAP_IN_PROGRESS, 0, IN_GIT, false, true, true, -1, true,
		 DEPLOY_TRIGGER_UNKNOWN, 1, -1, DEPLOY_SNAP_OP_RESEND},
		{"in flight, forgotten, job gone (upgraded, deleted)", DEPLOY_SNAP_IN_PROGRESS, 0, IN_GIT, false, true, true,
		 -1, true, DEPLOY_TRIGGER_UNKNOWN, 0, -1, DEPLOY_SNAP_OP_ABANDON},
		{"in flight, forgotten, job unknown", DEPLOY_SNAP_IN_PROGRESS, 0, IN_GIT, false, true, true, -1, true,
		 DEPLOY_TRIGGER_UNKNOWN, -1, -1, DEPLOY_SNAP_OP_WAIT},
		/* settled: never asked again */
		{"completed", DEPLOY_SNAP_COMPLETED, 0, IN_GIT, false, true, true, -1, true, DEPLOY_TRIGGER_NONE, -1, -1,
		 DEPLOY_SNAP_OP_NONE},
		{"failed", DEPLOY_SNAP_FAILED, 1, IN_GIT, false, true, true, -1, true, DEPLOY_TRIGGER_NONE, -1, -1,
		 DEPLOY_SNAP_OP_NONE},
		{"abandoned", DEPLOY_SNAP_ABANDONED, 0, IN_GIT, false, true, true, -1, true, DEPLOY_TRIGGER_NONE, -1, -1,
		 DEPLOY_SNAP_OP_NONE},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		deploy_snapshot_want w = {cases[i].in_git, cases[i].already, "h1", cases[i].limit, cases[i].job_in_git};
		deploy_snapshot_rec r;
		memset(&r, 0, sizeof(r));
		r.state = cases[i].st;
		r.failures = cases[i].failures;
		r.type = "savepoint";
		r.job_id = "0123456789abcdef0123456789abcdef";
		r.spec_hash = "h1";
		deploy_snapshot_obs o = {cases[i].ready, false, cases[i].flink_ok, cases[i].trig, "file:/sp/savepoint-1",
					 "boom", cases[i].running, cases[i].since};
		deploy_snapshot_next n;
		deploy_snapshot_next_step(&w, &r, &o, &n);
		if (n.op != cases[i].want)
			fail_msg("case %zu (%s): %s, want %s (%s)", i, cases[i].name, deploy_snap_op_name(n.op),
				 deploy_snap_op_name(cases[i].want), n.why ? n.why : "");
		/* every wait, failure and end says why */
		if ((n.op == DEPLOY_SNAP_OP_WAIT || n.op == DEPLOY_SNAP_OP_FAIL || n.op == DEPLOY_SNAP_OP_RETRY ||
		     n.op == DEPLOY_SNAP_OP_ABANDON) && (!n.why || !*n.why))
			fail_msg("case %zu (%s): no reason", i, cases[i].name);
		deploy_snapshot_next_clear(&n);
	}
}

/* A job that is not moving towards running (suspended, failed): the
 * snapshot is not waited for — it stays pending and says why — while a
 * job mid-rollout is waited for; a snapshot in flight ignores both. */
static void test_job_still(void **state)
{
	(void)state;
	static const struct {
		enum deploy_snap_state st;
		bool ready, still;
		enum deploy_snap_op want;
	} cases[] = {
		{DEPLOY_SNAP_PENDING, false, true, DEPLOY_SNAP_OP_NONE},
		{DEPLOY_SNAP_PENDING, false, false, DEPLOY_SNAP_OP_WAIT},
		{DEPLOY_SNAP_PENDING, true, false, DEPLOY_SNAP_OP_TRIGGER},
		{DEPLOY_SNAP_IN_PROGRESS, false, true, DEPLOY_SNAP_OP_WAIT}, /* Flink still working */
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		deploy_snapshot_want w = {IN_GIT, false, "h1", -1, true};
		deploy_snapshot_rec r;
		memset(&r, 0, sizeof(r));
		r.state = cases[i].st;
		r.type = "savepoint";
		r.job_id = "0123456789abcdef0123456789abcdef";
		deploy_snapshot_obs o = {0};
		o.job_ready = cases[i].ready;
		o.job_still = cases[i].still;
		o.flink_ok = true;
		o.trigger = DEPLOY_TRIGGER_IN_PROGRESS;
		o.job_running = 1;
		o.since_attempt_ms = -1;
		deploy_snapshot_next n;
		deploy_snapshot_next_step(&w, &r, &o, &n);
		if (n.op != cases[i].want)
			fail_msg("case %zu: %s, want %s", i, deploy_snap_op_name(n.op), deploy_snap_op_name(cases[i].want));
		if (n.op == DEPLOY_SNAP_OP_NONE)
			assert_non_null(strstr(n.why, "its job does not run"));
		deploy_snapshot_next_clear(&n);
	}
}

/* A snapshot taken stays taken when its spec changes, and says so. */
static void test_spec_changed(void **state)
{
	(void)state;
	deploy_snapshot_want w = {IN_GIT, false, "h2", -1, true};
	deploy_snapshot_rec r;
	memset(&r, 0, sizeof(r));
	r.state = DEPLOY_SNAP_COMPLETED;
	r.path = "file:/sp/x";
	r.spec_hash = "h1";
	deploy_snapshot_obs o = {true, false, true, DEPLOY_TRIGGER_NONE, NULL, NULL, 1, -1};
	deploy_snapshot_next n;
	deploy_snapshot_next_step(&w, &r, &o, &n);
	assert_int_equal(n.op, DEPLOY_SNAP_OP_NONE);
	assert_non_null(strstr(n.why, "its spec changed since"));
	deploy_snapshot_next_clear(&n);
}

static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(deploy_snapshot_backoff_ms(1), 10000);
	assert_int_equal(deploy_snapshot_backoff_ms(2), 20000);
	assert_int_equal(deploy_snapshot_backoff_ms(3), 40000);
	assert_int_equal(deploy_snapshot_backoff_ms(10), DEPLOY_SNAPSHOT_BACKOFF_MAX_MS);
	assert_int_equal(deploy_snapshot_backoff_ms(1000000), DEPLOY_SNAPSHOT_BACKOFF_MAX_MS);
}

/* The hold: a stop or cancel of the job waits; anything else passes. */
static void test_hold(void **state)
{
	(void)state;
	for (int op = DEPLOY_OP_NONE; op <= DEPLOY_OP_FORGET_ROLLBACK; op++) {
		for (int held = 0; held < 2; held++) {
			deploy_next n;
			memset(&n, 0, sizeof(n));
			n.op = (enum deploy_op)op;
			n.why = fo_strdup("x");
			deploy_snapshot_hold_step(&n, held ? "snap-a" : NULL);
			bool stops = op == DEPLOY_OP_STOP || op == DEPLOY_OP_RESTOP || op == DEPLOY_OP_CANCEL;
			if (held && stops) {
				if (n.op != DEPLOY_OP_WAIT || !strstr(n.why, "FlinkStateSnapshot snap-a"))
					fail_msg("%s held: %s", deploy_op_name((enum deploy_op)op), deploy_op_name(n.op));
			} else if (n.op != (enum deploy_op)op || strcmp(n.why, "x") != 0) {
				fail_msg("%s (held %d) changed to %s", deploy_op_name((enum deploy_op)op), held,
					 deploy_op_name(n.op));
			}
			deploy_next_clear(&n);
		}
	}
}

/* The record reads back to the same values, and a bad one is refused. */
static void test_record(void **state)
{
	(void)state;
	deploy_snapshot_rec r;
	memset(&r, 0, sizeof(r));
	r.state = DEPLOY_SNAP_IN_PROGRESS;
	r.type = "savepoint";
	r.job_kind = "FlinkDeployment";
	r.job_name = "wc";
	r.cluster = "wc";
	r.job_id = "0123456789abcdef0123456789abcdef";
	r.trigger_id = "fedcba9876543210fedcba9876543210";
	r.trigger_time = "2026-12-07T05:00:00.250Z";
	r.failures = 2;
	r.dispose = true;
	r.error = "a \"quoted\" cause\nover two lines";
	char *text = deploy_snapshot_encode(&r);
	deploy_snapshot_rec back;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(deploy_snapshot_decode(text, &back, &e), 0);
	assert_int_equal(back.state, DEPLOY_SNAP_IN_PROGRESS);
	assert_string_equal(back.trigger_id, r.trigger_id);
	assert_string_equal(back.error, r.error);
	assert_int_equal(back.failures, 2);
	assert_true(back.dispose);
	char *again = deploy_snapshot_encode(&back);
	assert_string_equal(text, again);
	free(again);
	free(text);
	deploy_snapshot_rec_clear(&back);

	static const struct {
		const char *text, *err;
	} bad[] = {
		{"[]", "not a JSON object"},
		{"{\"state\":\"COMPLETED\",\"path\":\"x\"}", "no valid \"version\""},
		{"{\"version\":2,\"state\":\"COMPLETED\",\"path\":\"x\"}", "newer than this flinkops reads"},
		{"{\"version\":1,\"state\":\"DONE\"}", "state: DONE is not a snapshot state"},
		{"{\"version\":1,\"state\":\"COMPLETED\"}", "COMPLETED without a path"},
		{"{\"version\":1,\"state\":\"IN_PROGRESS\",\"jobId\":\"j\",\"cluster\":\"c\"}", "IN_PROGRESS without triggerId"},
		{"{\"version\":1,\"state\":\"COMPLETED\",\"path\":\"x\",\"owner\":\"y\"}", "owner: not a key of snapshot record format 1"},
		{"{\"version\":1,\"state\":\"COMPLETED\",\"path\":\"x\",\"path\":\"y\"}", "path: the key appears twice"},
		{"{\"version\":1,\"state\":\"COMPLETED\",\"path\":\"x\",\"failures\":-1}", "failures: -1 is not a whole number"},
		{"{\"version\":1,\"state\":\"COMPLETED\",\"path\":\"x\",\"dispose\":\"yes\"}", "dispose: a string where true or false"},
		{"{\"version\":1,\"state\":\"COMPLETED\",\"path\":null}", "path: null where a string belongs"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(bad); i++) {
		deploy_snapshot_rec x;
		fo_err be = FO_ERR_INIT;
		if (deploy_snapshot_decode(bad[i].text, &x, &be) == 0)
			fail_msg("bad %zu decoded", i);
		if (!strstr(fo_err_msg(&be), bad[i].err))
			fail_msg("bad %zu: \"%s\", want \"%s\"", i, fo_err_msg(&be), bad[i].err);
		fo_err_clear(&be);
	}
}

static flink_deployment *snapshot(const char *yaml)
{
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	flink_load_buffer("s.yaml", yaml, strlen(yaml), &v, NULL, &d);
	if (d.nerrors)
		fail_msg("%s: %s", yaml, d.v[0].msg);
	fo_diags_free(&d);
	assert_int_equal(v.n, 1);
	flink_deployment *fd = v.v[0];
	free(v.v);
	return fd;
}

#define SNAP_HEAD "apiVersion: flink.apache.org/v1beta1\nkind: FlinkStateSnapshot\nmetadata: {name: s1}\n"

/* What `plan` says of each change: taken once, registered, forgotten,
 * disposed of, nothing new. */
static void test_plan(void **state)
{
	(void)state;
	flink_deployment *sp = snapshot(SNAP_HEAD "spec: {jobReference: {kind: FlinkDeployment, name: wc}, savepoint: "
						  "{formatType: NATIVE, disposeOnDelete: false}}\n");
	flink_deployment *sp2 = snapshot(SNAP_HEAD "spec: {jobReference: {kind: FlinkDeployment, name: wc}, savepoint: "
						   "{path: /other, disposeOnDelete: false}}\n");
	flink_deployment *disp = snapshot(SNAP_HEAD "spec: {jobReference: {kind: FlinkDeployment, name: wc}, savepoint: "
						    "{disposeOnDelete: true}}\n");
	flink_deployment *reg = snapshot(SNAP_HEAD "spec: {savepoint: {alreadyExists: true, path: /sp/x, "
						   "disposeOnDelete: false}}\n");
	flink_deployment *ck = snapshot(SNAP_HEAD "spec: {jobReference: {kind: FlinkSessionJob, name: j}, checkpoint: {}}\n");
	static const struct {
		int from, to;
		bool job;
		const char *want; /* NULL: no change */
	} cases[] = {
		{-1, 0, true, "takes a NATIVE savepoint of FlinkDeployment wc once, when its job runs its spec"},
		{-1, 0, false, "takes nothing: jobReference FlinkDeployment wc names no job"},
		{-1, 3, false, "registers savepoint /sp/x as taken (alreadyExists)"},
		{-1, 4, true, "takes a checkpoint of FlinkSessionJob j once"},
		{0, 0, true, NULL},
		{0, 1, true, "its spec changed: a snapshot is taken once"},
		{0, -1, true, "its record is forgotten; its data is kept"},
		{2, -1, true, "its savepoint is disposed of (disposeOnDelete: true) unless a job"},
		{4, -1, true, "its record is forgotten; its data is kept"},
	};
	const flink_deployment *all[] = {sp, sp2, disp, reg, ck};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		char *t = deploy_snapshot_plan(cases[i].from >= 0 ? all[cases[i].from] : NULL,
					       cases[i].to >= 0 ? all[cases[i].to] : NULL, cases[i].job);
		if (!cases[i].want ? t != NULL : !t || !strstr(t, cases[i].want))
			fail_msg("case %zu: \"%s\", want \"%s\"", i, t ? t : "(none)", cases[i].want ? cases[i].want : "(none)");
		free(t);
	}
	for (size_t i = 0; i < FO_ARRAY_LEN(all); i++)
		flink_deployment_free((flink_deployment *)all[i]);
}

/* The status file: the phase for each state, the path once taken, the
 * observed commit only for the spec it was taken for, and it reads back. */
static void test_status(void **state)
{
	(void)state;
	flink_deployment *fd = snapshot(SNAP_HEAD "spec: {jobReference: {kind: FlinkDeployment, name: wc}, savepoint: "
						  "{disposeOnDelete: false}}\n");
	char *hash = deploy_snapshot_spec_hash(fd);
	static const struct {
		enum deploy_snap_state st;
		enum deploy_outcome out;
		bool same_spec, forget;
		enum flink_phase phase;
		bool observed;
	} cases[] = {
		{DEPLOY_SNAP_PENDING, DEPLOY_OUTCOME_WAITING, true, false, FLINK_PHASE_PENDING, false},
		{DEPLOY_SNAP_IN_PROGRESS, DEPLOY_OUTCOME_WAITING, true, false, FLINK_PHASE_PENDING, false},
		{DEPLOY_SNAP_COMPLETED, DEPLOY_OUTCOME_SETTLED, true, false, FLINK_PHASE_COMPLETED, true},
		{DEPLOY_SNAP_COMPLETED, DEPLOY_OUTCOME_SETTLED, false, false, FLINK_PHASE_COMPLETED, false},
		{DEPLOY_SNAP_FAILED, DEPLOY_OUTCOME_SETTLED, true, false, FLINK_PHASE_FAILED, false},
		{DEPLOY_SNAP_ABANDONED, DEPLOY_OUTCOME_SETTLED, true, false, FLINK_PHASE_ABANDONED, false},
		{DEPLOY_SNAP_COMPLETED, DEPLOY_OUTCOME_SETTLED, true, true, FLINK_PHASE_DELETED, true},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		deploy_snapshot_item it;
		memset(&it, 0, sizeof(it));
		it.fd = fd;
		it.ns = "default";
		it.name = "s1";
		it.outcome = cases[i].out;
		it.forget = cases[i].forget;
		it.waiting = cases[i].out == DEPLOY_OUTCOME_WAITING ? "the savepoint of job J is in progress" : NULL;
		it.rec.state = cases[i].st;
		it.rec.type = "savepoint";
		it.rec.job_kind = "FlinkDeployment";
		it.rec.job_name = "wc";
		it.rec.job_id = "0123456789abcdef0123456789abcdef";
		it.rec.spec_hash = cases[i].same_spec ? hash : "other";
		it.rec.path = cases[i].st == DEPLOY_SNAP_COMPLETED ? "file:/sp/savepoint-1" : NULL;
		it.rec.error = cases[i].st == DEPLOY_SNAP_FAILED || cases[i].st == DEPLOY_SNAP_ABANDONED ? "why" : NULL;
		flink_status *st = flink_status_new("default", "s1");
		deploy_snapshot_status_update(st, &it, "blob1", "c0ffee");
		if (st->phase != cases[i].phase)
			fail_msg("case %zu: phase %s, want %s", i, flink_phase_name(st->phase), flink_phase_name(cases[i].phase));
		if (cases[i].observed != (st->observed_commit != NULL))
			fail_msg("case %zu: observedCommit %s", i, st->observed_commit ? st->observed_commit : "(none)");
		assert_string_equal(st->snapshot.of, "FlinkDeployment/wc");
		if (cases[i].st == DEPLOY_SNAP_COMPLETED)
			assert_string_equal(st->snapshot.path, "file:/sp/savepoint-1");
		fo_buf b = FO_BUF_INIT;
		flink_status_write(st, &b);
		flink_status *back = NULL;
		fo_err e = FO_ERR_INIT;
		if (flink_status_parse("s1.yaml", fo_buf_cstr(&b), b.len, &back, &e) < 0)
			fail_msg("case %zu: %s\n%s", i, fo_err_msg(&e), fo_buf_cstr(&b));
		assert_true(flink_status_same(st, back));
		flink_status_free(back);
		fo_buf_free(&b);
		flink_status_free(st);
	}
	/* a later pass at another commit (the agent's own status commit) with
	 * the same blob: nothing in the file moves */
	deploy_snapshot_item it;
	memset(&it, 0, sizeof(it));
	it.fd = fd;
	it.ns = "default";
	it.name = "s1";
	it.outcome = DEPLOY_OUTCOME_SETTLED;
	it.rec.state = DEPLOY_SNAP_COMPLETED;
	it.rec.type = "savepoint";
	it.rec.spec_hash = hash;
	it.rec.path = "file:/sp/savepoint-1";
	flink_status *a = flink_status_new("default", "s1");
	deploy_snapshot_status_update(a, &it, "blob1", "c0ffee");
	flink_status *b = flink_status_new("default", "s1");
	deploy_snapshot_status_update(b, &it, "blob1", "c0ffee");
	deploy_snapshot_status_update(b, &it, "blob1", "5747e5");
	assert_true(flink_status_same(a, b));
	assert_string_equal(b->observed_commit, "c0ffee");
	/* a new blob is a new source commit */
	deploy_snapshot_status_update(b, &it, "blob2", "5747e5");
	assert_string_equal(b->source.commit, "5747e5");
	flink_status_free(a);
	flink_status_free(b);
	free(hash);
	flink_deployment_free(fd);
}

/* The parser: what upstream writes, and what it refuses. */
static void test_parse(void **state)
{
	(void)state;
	static const struct {
		const char *spec;
		const char *err; /* NULL: valid */
	} cases[] = {
		{"spec: {backoffLimit: 0, jobReference: {kind: FlinkDeployment, name: x}, savepoint: {alreadyExists: false, "
		 "disposeOnDelete: true, formatType: NATIVE}}", NULL},
		{"spec: {jobReference: {kind: FlinkDeployment, name: x}, checkpoint: {}}", NULL},
		{"spec: {savepoint: {alreadyExists: true, disposeOnDelete: false, path: /sp/x}}", NULL},
		{"spec: {jobReference: {kind: FlinkDeployment, name: x}}", "exactly one of \"savepoint\" and \"checkpoint\""},
		{"spec: {jobReference: {kind: FlinkDeployment, name: x}, checkpoint: {}, savepoint: {}}", "exactly one of"},
		{"spec: {savepoint: {disposeOnDelete: false}}", "\"jobReference\" is required"},
		{"spec: {savepoint: {alreadyExists: true, disposeOnDelete: false}}", "alreadyExists: true needs \"path\""},
		{"spec: {jobReference: {kind: Deployment, name: x}, checkpoint: {}}", "\"Deployment\" is not FlinkDeployment"},
		{"spec: {jobReference: {name: x}, checkpoint: {}}", "\"kind\" is required"},
		{"spec: {jobReference: {kind: FlinkDeployment, name: x}, savepoint: {formatType: RAW}}", "not a savepoint format"},
		{"spec: {jobReference: {kind: FlinkDeployment, name: x}, checkpoint: {}, backoffLimit: -2}", "at least -1"},
		{"spec: {jobReference: {kind: FlinkDeployment, name: x}, checkpoint: {type: FULL}}", "unknown field \"type\""},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		char *yaml = fo_asprintf(SNAP_HEAD "%s\n", cases[i].spec);
		flink_deployments v = {0};
		fo_diags d = FO_DIAGS_INIT;
		flink_load_buffer("s.yaml", yaml, strlen(yaml), &v, NULL, &d);
		if (!cases[i].err) {
			if (d.nerrors || v.n != 1 || !v.v[0]->snapshot)
				fail_msg("case %zu: %s", i, d.nerrors ? d.v[0].msg : "not read");
		} else {
			bool found = false;
			for (size_t k = 0; k < d.n; k++)
				found = found || (d.v[k].sev == FO_SEV_ERROR && strstr(d.v[k].msg, cases[i].err));
			if (!found || v.n)
				fail_msg("case %zu: want error \"%s\" (%zu errors, %zu read)", i, cases[i].err, d.nerrors, v.n);
		}
		flink_deployments_free(&v);
		fo_diags_free(&d);
		free(yaml);
	}
}

/* The repository check: names shared with the other kinds; a jobReference
 * to a job missing, jobless or of the other kind is a warning, and the
 * snapshot is kept (its record outlives its job); split leaves only
 * deployments. */
static void test_repository(void **state)
{
	(void)state;
	const char *yaml =
		"apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: wc}\n"
		"spec: {image: flink:1.20, flinkVersion: v1_20, jobManager: {resource: {memory: 1g, cpu: 1}}, "
		"taskManager: {resource: {memory: 1g, cpu: 1}}, job: {jarURI: 'https://x/j.jar', parallelism: 1, "
		"upgradeMode: stateless}}\n---\n" SNAP_HEAD
		"spec: {jobReference: {kind: FlinkDeployment, name: wc}, checkpoint: {}}\n---\n"
		"apiVersion: flink.apache.org/v1beta1\nkind: FlinkStateSnapshot\nmetadata: {name: s2}\n"
		"spec: {jobReference: {kind: FlinkSessionJob, name: wc}, checkpoint: {}}\n---\n"
		"apiVersion: flink.apache.org/v1beta1\nkind: FlinkStateSnapshot\nmetadata: {name: wc}\n"
		"spec: {jobReference: {kind: FlinkDeployment, name: wc}, checkpoint: {}}\n";
	flink_deployments v = {0}, snaps = {0};
	fo_diags d = FO_DIAGS_INIT;
	flink_load_buffer("r.yaml", yaml, strlen(yaml), &v, NULL, &d);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(v.n, 4);
	size_t errors = flink_check_repository(&v, &d);
	assert_int_equal(errors, 1); /* the snapshot named wc */
	bool name_taken = false, s2_warned = false;
	for (size_t k = 0; k < d.n; k++) {
		name_taken = name_taken || strstr(d.v[k].msg, "the name is taken by the FlinkDeployment");
		s2_warned = s2_warned || (d.v[k].sev == FO_SEV_WARNING && strstr(d.v[k].msg, "default/s2: jobReference "
											      "FlinkSessionJob wc is not in"));
	}
	assert_true(name_taken);
	assert_true(s2_warned);
	flink_split_snapshots(&v, &snaps);
	assert_int_equal(v.n, 1);
	assert_false(v.v[0]->snapshot);
	assert_int_equal(snaps.n, 3);
	for (size_t i = 0; i < snaps.n; i++)
		assert_true(snaps.v[i]->snapshot);
	flink_deployments_free(&v);
	flink_deployments_free(&snaps);
	fo_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next_table), cmocka_unit_test(test_job_still),    cmocka_unit_test(test_spec_changed),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_hold),       cmocka_unit_test(test_record),       cmocka_unit_test(test_plan),
		cmocka_unit_test(test_status),     cmocka_unit_test(test_parse),        cmocka_unit_test(test_repository),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
