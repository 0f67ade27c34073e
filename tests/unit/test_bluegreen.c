/*
 * The blue/green decision as tables: the whole life of a
 * FlinkBlueGreenDeployment walked step by step (create, upgrade through a
 * savepoint, cut-over, retirement), every edge the rollout engine's
 * reviews keep finding met at every state (a delete, a suspend, a new
 * commit, a revert, a child that fails, a clock that went back, journals
 * that cannot be read), and a sweep over every state x diff x observation
 * that checks the rules no row may break: a new child starts only from the
 * savepoint taken for its own transition (never an older one), or from
 * empty state only for a stateless job; nothing is removed or cut over on
 * doubt or before the new job caught up; a failure is written once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deploy/bluegreen.h"
#include "deploy/journal.h"
#include "flink/rest.h"
#include "flink/status.h"
#include "lib/json.h"
#include "lib/util.h"
#include "render/render.h"

#define T1 "target-1"
#define T2 "target-2"
#define T3 "target-3"
#define SP_HANDOVER "s3://sp/savepoint-handover"
#define SP_OLDER "s3://sp/savepoint-older"
#define SP_INITIAL "s3://sp/savepoint-initial"
#define NOW INT64_C(1796590830000)
#define GRACE INT64_C(600000)
#define DELAY INT64_C(2000)
#define CATCH_UP INT64_C(30000)

static void want_defaults(deploy_bg_desired *d, const char *target, enum deploy_bg_diff diff)
{
	memset(d, 0, sizeof(*d));
	d->target = target;
	d->diff = diff;
	d->grace_ms = GRACE;
	d->delay_ms = DELAY;
	d->catch_up_ms = CATCH_UP;
}

static deploy_bg_child healthy_child(void)
{
	return (deploy_bg_child){.live = true, .healthy = true, .caught_up = -1};
}

static void observe_none(deploy_bg_observed *o)
{
	memset(o, 0, sizeof(*o));
	o->known = true;
	o->now_ms = NOW;
	o->child[0].caught_up = o->child[1].caught_up = -1;
}

/* Ask for the next step, check its op, record it; returns the step's
 * restore (static storage of the test) for the caller's checks. */
static const char *step(deploy_bg_journal *j, const deploy_bg_desired *d, const deploy_bg_observed *o,
			enum deploy_bg_op want, const char *where)
{
	deploy_bg_next n;
	deploy_bg_next_step(d, j, o, &n);
	if (n.op != want)
		fail_msg("%s: %s in %s, want %s (%s)", where, deploy_bg_op_name(n.op), deploy_bg_state_name(j->state),
			 deploy_bg_op_name(want), n.why ? n.why : "");
	const char *restore = n.restore;
	deploy_bg_record(j, d, &n, o->now_ms);
	deploy_bg_next_clear(&n);
	return restore;
}

/* The whole life: created blue, upgraded to green through a savepoint of
 * blue taken for that transition, cut over once green caught up, blue
 * stopped and removed after the delay; then back to blue the same way. */
static void test_life(void **state)
{
	(void)state;
	deploy_bg_journal j = {0};
	deploy_bg_desired d;
	deploy_bg_observed o;
	want_defaults(&d, T1, DEPLOY_BG_DIFF_TRANSITION);
	d.initial_savepoint = SP_INITIAL;
	observe_none(&o);
	assert_string_equal(step(&j, &d, &o, DEPLOY_BG_OP_CREATE, "first"), SP_INITIAL);
	assert_int_equal(j.state, DEPLOY_BG_TRANSITIONING_TO_BLUE);
	assert_string_equal(j.next_target, T1);
	o.child[DEPLOY_BG_BLUE] = (deploy_bg_child){.live = true, .caught_up = -1};
	step(&j, &d, &o, DEPLOY_BG_OP_WAIT, "blue starting");
	o.child[DEPLOY_BG_BLUE] = healthy_child();
	step(&j, &d, &o, DEPLOY_BG_OP_FINALIZE, "blue healthy: nothing to catch up with");
	assert_int_equal(j.state, DEPLOY_BG_ACTIVE_BLUE);
	assert_string_equal(j.active_target, T1);
	assert_false(j.retiring);
	d.diff = DEPLOY_BG_DIFF_IGNORE;
	step(&j, &d, &o, DEPLOY_BG_OP_NONE, "settled");

	/* an upgrade */
	want_defaults(&d, T2, DEPLOY_BG_DIFF_TRANSITION);
	d.initial_savepoint = SP_INITIAL; /* still in the template: not used again */
	d.savepoint_nonce = 7;
	step(&j, &d, &o, DEPLOY_BG_OP_SAVEPOINT, "an upgrade");
	assert_int_equal(j.state, DEPLOY_BG_SAVEPOINTING_BLUE);
	int64_t nonce = j.handover_nonce;
	assert_true(nonce > 1000000 && nonce != 7);
	assert_int_equal(j.handover_git_nonce, 7);
	/* an older savepoint blue answered (a human's nonce) is not the handover */
	o.child[DEPLOY_BG_BLUE].sp_nonce = 7;
	o.child[DEPLOY_BG_BLUE].sp_path = SP_OLDER;
	step(&j, &d, &o, DEPLOY_BG_OP_WAIT, "savepoint in flight");
	o.child[DEPLOY_BG_BLUE].sp_nonce = nonce;
	o.child[DEPLOY_BG_BLUE].sp_path = SP_HANDOVER;
	assert_string_equal(step(&j, &d, &o, DEPLOY_BG_OP_TRANSITION, "savepoint taken"), SP_HANDOVER);
	assert_int_equal(j.state, DEPLOY_BG_TRANSITIONING_TO_GREEN);
	assert_string_equal(j.handover_path, SP_HANDOVER);
	assert_string_equal(j.next_target, T2);
	assert_string_equal(j.active_target, T1); /* blue runs on */
	o.child[DEPLOY_BG_GREEN] = (deploy_bg_child){.live = true, .caught_up = -1};
	step(&j, &d, &o, DEPLOY_BG_OP_WAIT, "green starting");
	/* running with its first checkpoint, but behind the running job */
	o.child[DEPLOY_BG_GREEN] = healthy_child();
	o.child[DEPLOY_BG_GREEN].caught_up = 0;
	step(&j, &d, &o, DEPLOY_BG_OP_HEALTHY, "green healthy: the time recorded");
	assert_int_equal(j.healthy_ms, NOW);
	step(&j, &d, &o, DEPLOY_BG_OP_WAIT, "green behind");
	o.child[DEPLOY_BG_GREEN].caught_up = 1;
	step(&j, &d, &o, DEPLOY_BG_OP_CUTOVER, "green caught up");
	assert_int_equal(j.state, DEPLOY_BG_ACTIVE_GREEN);
	assert_string_equal(j.active_target, T2);
	assert_true(j.retiring);
	assert_int_equal(j.retired_ms, NOW);
	d.diff = DEPLOY_BG_DIFF_IGNORE;
	/* blue stops with its savepoint; removed only once stopped and after the delay */
	step(&j, &d, &o, DEPLOY_BG_OP_WAIT, "blue stopping");
	o.child[DEPLOY_BG_BLUE].healthy = false;
	o.child[DEPLOY_BG_BLUE].suspended = true;
	step(&j, &d, &o, DEPLOY_BG_OP_WAIT, "blue stopped, delay not over");
	o.now_ms = NOW + DELAY;
	step(&j, &d, &o, DEPLOY_BG_OP_RETIRE, "delay over");
	assert_false(j.retiring);
	assert_int_equal(j.handover_nonce, 0);
	o.child[DEPLOY_BG_BLUE] = (deploy_bg_child){.caught_up = -1};
	step(&j, &d, &o, DEPLOY_BG_OP_NONE, "settled on green");

	/* and back to blue, stateless: no savepoint, empty state as asked */
	want_defaults(&d, T3, DEPLOY_BG_DIFF_TRANSITION);
	d.stateless = true;
	d.initial_savepoint = SP_INITIAL;
	o.now_ms = NOW + 10000;
	assert_null(step(&j, &d, &o, DEPLOY_BG_OP_TRANSITION, "stateless: no handover"));
	assert_int_equal(j.state, DEPLOY_BG_TRANSITIONING_TO_BLUE);
	/* the template's old initialSavepointPath is never restored by a stateless transition */
	assert_null(j.handover_path);
	deploy_bg_journal_clear(&j);
}

/* A journal in state `s` with the usual fields of that state. */
static void journal_in(deploy_bg_journal *j, enum deploy_bg_state s)
{
	memset(j, 0, sizeof(*j));
	j->state = s;
	j->generation = 3;
	if (s != DEPLOY_BG_INITIALIZING_BLUE)
		j->active_target = fo_strdup(T1);
	if (deploy_bg_savepointing(s)) {
		j->handover_nonce = (INT64_C(1) << 62) + 3;
	}
	if (deploy_bg_transitioning(s)) {
		j->handover_nonce = (INT64_C(1) << 62) + 3;
		j->next_target = fo_strdup(T2);
		j->handover_path = fo_strdup(SP_HANDOVER);
		j->started_ms = NOW - 1000;
	}
}

struct row {
	const char *name;
	enum deploy_bg_state state;
	bool first;                /* TRANSITIONING without an active child before (a first deployment) */
	const char *target;        /* git's (T1: the active child's, T2: the transition's) */
	enum deploy_bg_diff diff;
	bool deleting, suspended, stateless, retiring;
	const char *failed_target;
	const char *error;
	/* observation, by role: x the active (old) colour, y the other */
	bool unknown;
	int x, y;                  /* 0 absent, 1 starting, 2 healthy, 3 failed, 4 suspended, 5 healthy+caught up,
	                            * 6 healthy and behind, 7 healthy without signal, young */
	int sp;                    /* x answered: 0 nothing, 1 the handover nonce with a path, 2 the handover
	                            * nonce failed, 3 an older nonce with a path */
	int64_t now_delta;         /* added to NOW (negative: a clock that went back) */
	bool unseen;               /* the new child healthy, the journal not yet saying since when */
	enum deploy_bg_op want;
	const char *restore;
};

static deploy_bg_child child_of(int kind)
{
	deploy_bg_child c = {.caught_up = -1};
	if (kind == 0)
		return c;
	c.live = true;
	switch (kind) {
	case 1:
		c.problem = "the job is INITIALIZING";
		break;
	case 2:
		c.healthy = true;
		break;
	case 3:
		c.failed = true;
		c.problem = "the job FAILED: NullPointerException";
		break;
	case 4:
		c.suspended = true;
		break;
	case 5:
		c.healthy = true;
		c.caught_up = 1;
		break;
	case 6:
		c.healthy = true;
		c.caught_up = 0;
		break;
	case 7:
		c.healthy = true;
		break;
	}
	return c;
}

/* How long ago a healthy child of `kind` (child_of) was first seen so; -1: it is not healthy. */
static int64_t healthy_age_of(int kind)
{
	return kind == 2 || kind == 6 ? 60000 : kind == 5 || kind == 7 ? 1000 : -1;
}

static void setup_row(const struct row *r, deploy_bg_journal *j, deploy_bg_desired *d, deploy_bg_observed *o)
{
	journal_in(j, r->state);
	if (r->first) {
		free(j->active_target);
		j->active_target = NULL;
	}
	j->retiring = r->retiring;
	if (r->retiring)
		j->retired_ms = NOW - 1000;
	if (r->failed_target)
		j->failed_target = fo_strdup(r->failed_target);
	if (r->error)
		j->error = fo_strdup(r->error);
	want_defaults(d, r->target ? r->target : T2, r->diff);
	d->deleting = r->deleting;
	d->suspended = r->suspended;
	d->stateless = r->stateless;
	d->initial_savepoint = SP_INITIAL;
	observe_none(o);
	o->known = !r->unknown;
	o->now_ms = NOW + r->now_delta;
	enum deploy_bg_colour x = deploy_bg_active(r->state);
	enum deploy_bg_colour y = x == DEPLOY_BG_BLUE ? DEPLOY_BG_GREEN : DEPLOY_BG_BLUE;
	o->child[x] = child_of(r->x);
	o->child[y] = child_of(r->y);
	/* the journal recorded when the new child was first seen healthy,
	 * unless the row says it was not yet */
	if (deploy_bg_transitioning(r->state) && healthy_age_of(r->y) >= 0 && !r->unseen)
		j->healthy_ms = NOW - healthy_age_of(r->y);
	if (r->sp == 1 || r->sp == 2) {
		o->child[x].sp_nonce = j->handover_nonce;
		o->child[x].sp_path = r->sp == 1 ? SP_HANDOVER : NULL;
		o->child[x].sp_failure = r->sp == 2 ? "Checkpoint expired before completing" : NULL;
	} else if (r->sp == 3) {
		o->child[x].sp_nonce = 7;
		o->child[x].sp_path = SP_OLDER;
	}
}

#define TR(s) DEPLOY_BG_TRANSITIONING_TO_##s
#define SP(s) DEPLOY_BG_SAVEPOINTING_##s
#define AC(s) DEPLOY_BG_ACTIVE_##s
#define D(x) DEPLOY_BG_DIFF_##x
#define OP(x) DEPLOY_BG_OP_##x

static const struct row rows[] = {
	/* INITIALIZING */
	{"new", DEPLOY_BG_INITIALIZING_BLUE, .diff = D(TRANSITION), .want = OP(CREATE), .restore = SP_INITIAL},
	{"new, suspended: nothing created", DEPLOY_BG_INITIALIZING_BLUE, .suspended = true, .want = OP(NONE)},
	{"new, deleted before anything ran", DEPLOY_BG_INITIALIZING_BLUE, .deleting = true, .want = OP(FORGET)},
	{"journals unread", DEPLOY_BG_INITIALIZING_BLUE, .unknown = true, .want = OP(WAIT)},
	/* the first child starting */
	{"first: starting", TR(GREEN), .first = true, .y = 1, .want = OP(WAIT)},
	{"first: healthy", TR(GREEN), .first = true, .y = 2, .want = OP(FINALIZE)},
	{"first: healthy without signal, young: no one to catch up with", TR(GREEN), .first = true, .y = 7,
	 .want = OP(FINALIZE)},
	{"first: failed", TR(GREEN), .first = true, .y = 3, .want = OP(FAIL)},
	{"first: failed, already said", TR(GREEN), .first = true, .y = 3,
	 .error = "green failed: the job FAILED: NullPointerException", .want = OP(NONE)},
	{"first: past the grace period, no one to fall back to", TR(GREEN), .first = true, .y = 1,
	 .now_delta = GRACE + 5000, .want = OP(WAIT)},
	{"first: a fix pushed", TR(GREEN), .first = true, .target = T3, .y = 3, .want = OP(FOLLOW)},
	{"first: suspended in git", TR(GREEN), .first = true, .target = T3, .suspended = true, .y = 1,
	 .want = OP(FOLLOW)},
	{"first: suspended, the child stopped", TR(GREEN), .first = true, .suspended = true, .y = 4,
	 .want = OP(FINALIZE)},
	{"first: deleted", TR(GREEN), .first = true, .deleting = true, .y = 1, .want = OP(DELETE)},
	/* TRANSITIONING_TO_GREEN: blue (x) runs, green (y) starts from the handover */
	{"transition: green starting", TR(GREEN), .x = 2, .y = 1, .want = OP(WAIT)},
	{"transition: green healthy, behind", TR(GREEN), .x = 2, .y = 6, .want = OP(WAIT)},
	{"transition: green caught up", TR(GREEN), .x = 2, .y = 5, .want = OP(CUTOVER)},
	{"transition: green healthy without signal, not long enough", TR(GREEN), .x = 2, .y = 7, .want = OP(WAIT)},
	{"transition: green healthy without signal, long enough", TR(GREEN), .x = 2, .y = 2, .want = OP(CUTOVER)},
	{"transition: green healthy for the first time: when is recorded", TR(GREEN), .x = 2, .y = 7, .unseen = true,
	 .want = OP(HEALTHY)},
	{"transition: green caught up, first seen healthy now: recorded first", TR(GREEN), .x = 2, .y = 5,
	 .unseen = true, .want = OP(HEALTHY)},
	{"transition: green healthy for the first time, no clock: nothing recorded", TR(GREEN), .x = 2, .y = 7,
	 .unseen = true, .now_delta = -NOW, .want = OP(WAIT)},
	{"transition: green healthy since, the clock went back: not caught up by a guess", TR(GREEN), .x = 2, .y = 2,
	 .now_delta = -3600000, .want = OP(WAIT)},
	{"transition: green failed", TR(GREEN), .x = 2, .y = 3, .want = OP(ABORT)},
	{"transition: past the grace period", TR(GREEN), .x = 2, .y = 1, .now_delta = GRACE + 5000, .want = OP(ABORT)},
	{"transition: behind past the grace period", TR(GREEN), .x = 2, .y = 6, .now_delta = GRACE + 5000,
	 .want = OP(ABORT)},
	{"transition: the clock went back", TR(GREEN), .x = 2, .y = 1, .now_delta = -3600000, .want = OP(WAIT)},
	{"transition: no clock", TR(GREEN), .x = 2, .y = 1, .now_delta = -NOW, .want = OP(WAIT)},
	{"transition: a new commit", TR(GREEN), .target = T3, .x = 2, .y = 1, .want = OP(FOLLOW)},
	{"transition: a new commit, green caught up meanwhile", TR(GREEN), .target = T3, .x = 2, .y = 5,
	 .want = OP(FOLLOW)},
	{"transition: reverted to blue's spec", TR(GREEN), .target = T1, .x = 2, .y = 1, .want = OP(CANCEL)},
	{"transition: suspended", TR(GREEN), .target = T3, .suspended = true, .x = 2, .y = 1, .want = OP(CANCEL)},
	{"transition: deleted", TR(GREEN), .deleting = true, .x = 2, .y = 1, .want = OP(DELETE)},
	{"transition: blue failed meanwhile, green caught up", TR(GREEN), .x = 3, .y = 5, .want = OP(CUTOVER)},
	{"transition: journals unread", TR(GREEN), .unknown = true, .x = 2, .y = 5, .want = OP(WAIT)},
	{"transition to blue: blue caught up", TR(BLUE), .x = 2, .y = 5, .want = OP(CUTOVER)},
	/* SAVEPOINTING_BLUE: blue takes the handover savepoint */
	{"savepointing: in flight", SP(BLUE), .diff = D(TRANSITION), .x = 2, .want = OP(WAIT)},
	{"savepointing: an older savepoint is not the handover", SP(BLUE), .diff = D(TRANSITION), .x = 2, .sp = 3,
	 .want = OP(WAIT)},
	{"savepointing: taken", SP(BLUE), .diff = D(TRANSITION), .x = 2, .sp = 1, .want = OP(TRANSITION),
	 .restore = SP_HANDOVER},
	{"savepointing: taken, git moved on to another new job", SP(BLUE), .target = T3, .diff = D(TRANSITION), .x = 2,
	 .sp = 1, .want = OP(TRANSITION), .restore = SP_HANDOVER},
	{"savepointing: failed", SP(BLUE), .diff = D(TRANSITION), .x = 2, .sp = 2, .want = OP(ABORT)},
	{"savepointing: blue failed", SP(BLUE), .diff = D(TRANSITION), .x = 3, .want = OP(ABORT)},
	{"savepointing: reverted", SP(BLUE), .target = T1, .diff = D(IGNORE), .x = 2, .want = OP(CANCEL)},
	{"savepointing: suspended", SP(BLUE), .diff = D(SUSPEND), .suspended = true, .x = 2, .want = OP(CANCEL)},
	{"savepointing: now in place only", SP(BLUE), .diff = D(PATCH_CHILD), .x = 2, .want = OP(CANCEL)},
	{"savepointing: deleted", SP(BLUE), .deleting = true, .diff = D(TRANSITION), .x = 2, .want = OP(DELETE)},
	{"savepointing: journals unread", SP(BLUE), .unknown = true, .diff = D(TRANSITION), .x = 2, .sp = 1,
	 .want = OP(WAIT)},
	/* ACTIVE_BLUE */
	{"active: settled", AC(BLUE), .target = T1, .diff = D(IGNORE), .x = 2, .want = OP(NONE)},
	{"active: in place", AC(BLUE), .diff = D(PATCH_CHILD), .x = 2, .want = OP(PATCH)},
	{"active: suspend", AC(BLUE), .diff = D(SUSPEND), .suspended = true, .x = 2, .want = OP(PATCH)},
	{"active: resume", AC(BLUE), .diff = D(RESUME), .x = 4, .want = OP(PATCH)},
	{"active: suspended, a new job: waits in the child", AC(BLUE), .diff = D(TRANSITION), .x = 4, .want = OP(PATCH)},
	{"active: a new job", AC(BLUE), .diff = D(TRANSITION), .x = 2, .want = OP(SAVEPOINT)},
	{"active: a new job, stateless", AC(BLUE), .diff = D(TRANSITION), .stateless = true, .x = 2,
	 .want = OP(TRANSITION)},
	{"active: a savepoint redeploy", AC(BLUE), .diff = D(SAVEPOINT_REDEPLOY), .x = 2, .want = OP(TRANSITION),
	 .restore = SP_INITIAL},
	{"active: a new job, blue starting", AC(BLUE), .diff = D(TRANSITION), .x = 1, .want = OP(WAIT)},
	{"active: a new job, blue failed: in place", AC(BLUE), .diff = D(TRANSITION), .x = 3, .want = OP(PATCH)},
	{"active: a new job, green still being removed", AC(BLUE), .diff = D(TRANSITION), .x = 2, .y = 1,
	 .want = OP(WAIT)},
	{"active: the aborted spec again", AC(BLUE), .diff = D(TRANSITION), .failed_target = T2,
	 .error = "green did not catch up", .x = 2, .want = OP(NONE)},
	{"active: another spec after an abort", AC(BLUE), .target = T3, .diff = D(TRANSITION), .failed_target = T2,
	 .error = "green did not catch up", .x = 2, .want = OP(SAVEPOINT)},
	{"active: reverted after an abort", AC(BLUE), .target = T1, .diff = D(IGNORE), .failed_target = T2,
	 .error = "green did not catch up", .x = 2, .want = OP(CANCEL)},
	{"active: deleted", AC(BLUE), .deleting = true, .x = 2, .want = OP(DELETE)},
	{"active: deleted, nothing left", AC(BLUE), .deleting = true, .want = OP(FORGET)},
	{"active: journals unread, deleted", AC(BLUE), .unknown = true, .deleting = true, .x = 2, .want = OP(WAIT)},
	/* ACTIVE_BLUE with green retiring after a cut-over */
	{"retiring: green still running", AC(BLUE), .target = T1, .diff = D(IGNORE), .retiring = true, .x = 2, .y = 2,
	 .now_delta = DELAY, .want = OP(WAIT)},
	{"retiring: green stopped, delay not over", AC(BLUE), .target = T1, .diff = D(IGNORE), .retiring = true,
	 .x = 2, .y = 4, .want = OP(WAIT)},
	{"retiring: green stopped, delay over", AC(BLUE), .target = T1, .diff = D(IGNORE), .retiring = true, .x = 2,
	 .y = 4, .now_delta = DELAY, .want = OP(RETIRE)},
	{"retiring: green stopped, the clock went back", AC(BLUE), .target = T1, .diff = D(IGNORE), .retiring = true,
	 .x = 2, .y = 4, .now_delta = -3600000, .want = OP(WAIT)},
	{"retiring: green gone already", AC(BLUE), .target = T1, .diff = D(IGNORE), .retiring = true, .x = 2,
	 .want = OP(RETIRE)},
	{"retiring: a new job waits for it", AC(BLUE), .diff = D(TRANSITION), .retiring = true, .x = 2, .y = 2,
	 .want = OP(WAIT)},
	{"retiring: in place meanwhile", AC(BLUE), .diff = D(PATCH_CHILD), .retiring = true, .x = 2, .y = 2,
	 .want = OP(PATCH)},
	{"retiring: deleted", AC(BLUE), .deleting = true, .retiring = true, .x = 2, .y = 4, .want = OP(DELETE)},
	{"retiring: journals unread", AC(BLUE), .unknown = true, .target = T1, .diff = D(IGNORE), .retiring = true,
	 .x = 2, .y = 4, .now_delta = DELAY, .want = OP(WAIT)},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < FO_ARRAY_LEN(rows); i++) {
		const struct row *r = &rows[i];
		deploy_bg_journal j;
		deploy_bg_desired d;
		deploy_bg_observed o;
		deploy_bg_next n;
		setup_row(r, &j, &d, &o);
		deploy_bg_next_step(&d, &j, &o, &n);
		if (n.op != r->want)
			fail_msg("row %zu \"%s\": %s, want %s (%s)", i, r->name, deploy_bg_op_name(n.op),
				 deploy_bg_op_name(r->want), n.why ? n.why : "");
		if (r->restore && !fo_streq(n.restore, r->restore))
			fail_msg("row %zu \"%s\": restore %s, want %s", i, r->name, n.restore ? n.restore : "(none)",
				 r->restore);
		if ((n.op == OP(WAIT) || n.op == OP(FAIL) || n.op == OP(ABORT)) && !n.why)
			fail_msg("row %zu \"%s\": %s without saying why", i, r->name, deploy_bg_op_name(n.op));
		deploy_bg_next_clear(&n);
		deploy_bg_journal_clear(&j);
	}
}

/* What an op records, checked on its own: the journal reads as the state
 * the op names, and an abort leaves the old colour active with the failed
 * spec and its cause. */
static void test_record(void **state)
{
	(void)state;
	deploy_bg_journal j;
	deploy_bg_desired d;
	deploy_bg_observed o;
	deploy_bg_next n;
	const struct row abort_row = {"abort", TR(GREEN), .x = 2, .y = 3, .want = OP(ABORT)};
	setup_row(&abort_row, &j, &d, &o);
	deploy_bg_next_step(&d, &j, &o, &n);
	assert_int_equal(n.op, OP(ABORT));
	deploy_bg_record(&j, &d, &n, o.now_ms);
	assert_int_equal(j.state, AC(BLUE));
	assert_string_equal(j.failed_target, T2);
	assert_non_null(strstr(j.error, "green failed (the job FAILED: NullPointerException); blue runs on"));
	assert_null(j.next_target);
	assert_string_equal(j.active_target, T1);
	deploy_bg_next_clear(&n);
	/* the next pass: green is removed (being), the same spec is not tried again */
	o.child[DEPLOY_BG_GREEN] = child_of(0);
	d.diff = D(TRANSITION);
	deploy_bg_next_step(&d, &j, &o, &n);
	assert_int_equal(n.op, OP(NONE));
	deploy_bg_next_clear(&n);
	deploy_bg_journal_clear(&j);

	/* a cancel mid-transition returns to blue without an error */
	const struct row cancel_row = {"cancel", TR(GREEN), .target = T1, .x = 2, .y = 1, .want = OP(CANCEL)};
	setup_row(&cancel_row, &j, &d, &o);
	deploy_bg_next_step(&d, &j, &o, &n);
	deploy_bg_record(&j, &d, &n, o.now_ms);
	assert_int_equal(j.state, AC(BLUE));
	assert_null(j.error);
	assert_null(j.failed_target);
	assert_null(j.next_target);
	deploy_bg_next_clear(&n);
	deploy_bg_journal_clear(&j);

	/* a handover nonce is new on every transition */
	journal_in(&j, AC(GREEN));
	want_defaults(&d, T2, D(TRANSITION));
	n = (deploy_bg_next){.op = OP(SAVEPOINT)};
	deploy_bg_record(&j, &d, &n, NOW);
	int64_t first = j.handover_nonce;
	assert_int_equal(j.state, SP(GREEN));
	j.state = AC(GREEN);
	deploy_bg_record(&j, &d, &n, NOW);
	assert_true(j.handover_nonce > first);
	deploy_bg_journal_clear(&j);
}

/* Every state x diff x observation x journal flag: the rules no row may
 * break, and no op that writes is asked twice in a row (a loop that writes
 * on every turn). */
static void test_sweep(void **state)
{
	(void)state;
	size_t checked = 0, combination = 0;
	/* under valgrind one combination in 13 (memory errors do not hide in
	 * the rest); the sanitizer build and a plain run take them all */
	size_t stride = getenv("FO_UNDER_VALGRIND") ? 13 : 1;
	static const char *const targets[] = {T1, T2, T3};
	for (int s = DEPLOY_BG_INITIALIZING_BLUE; s <= DEPLOY_BG_TRANSITIONING_TO_GREEN; s++)
	for (int first = 0; first <= 1; first++)
	for (int t = 0; t < 3; t++)
	for (int diff = D(IGNORE); diff <= D(TRANSITION); diff++)
	for (int flags = 0; flags < 64; flags++)
	for (int x = 0; x <= 7; x++)
	for (int y = 0; y <= 7; y++)
	for (int sp = 0; sp <= 3; sp++)
	for (int clock = 0; clock <= 2; clock++)
	for (int unseen = 0; unseen <= 1; unseen++) {
		if (first && !deploy_bg_transitioning((enum deploy_bg_state)s))
			continue;
		if (unseen && (!deploy_bg_transitioning((enum deploy_bg_state)s) || healthy_age_of(y) < 0))
			continue;
		if (combination++ % stride)
			continue;
		/* the diff against the active child's spec is IGNORE exactly when git asks for it */
		bool same = t == 0 && !first && s != DEPLOY_BG_INITIALIZING_BLUE;
		if (same != (diff == D(IGNORE)))
			continue;
		struct row r = {"sweep", (enum deploy_bg_state)s, .first = first, .target = targets[t],
				.diff = (enum deploy_bg_diff)diff, .deleting = flags & 1, .suspended = flags & 2,
				.stateless = flags & 4, .retiring = (flags & 8) && !deploy_bg_transitioning(s),
				.failed_target = flags & 16 ? T2 : NULL, .unknown = flags & 32, .x = x, .y = y, .sp = sp,
				.now_delta = clock == 0 ? 0 : clock == 1 ? GRACE + DELAY + 5000 : -3600000,
				.unseen = unseen};
		if (first)
			r.x = 0;
		deploy_bg_journal j;
		deploy_bg_desired d;
		deploy_bg_observed o;
		deploy_bg_next n;
		setup_row(&r, &j, &d, &o);
		deploy_bg_next_step(&d, &j, &o, &n);
		checked++;
		enum deploy_bg_colour cx = deploy_bg_active(j.state);
		enum deploy_bg_colour cy = cx == DEPLOY_BG_BLUE ? DEPLOY_BG_GREEN : DEPLOY_BG_BLUE;
		const deploy_bg_child *ox = &o.child[cx], *oy = &o.child[cy];
		char where[256];
		snprintf(where, sizeof(where), "%s first %d target %s diff %s flags %d x %d y %d sp %d clock %d: %s%s%s",
			 deploy_bg_state_name(j.state), first, targets[t], deploy_bg_diff_name(d.diff), flags, x, y, sp,
			 clock, deploy_bg_op_name(n.op), n.why ? ": " : "", n.why ? n.why : "");
		/* nothing is decided on journals that could not be read */
		if (!o.known && n.op != OP(WAIT))
			fail_msg("%s: acts on unread journals", where);
		/* the state a new child starts from */
		if (n.op == OP(TRANSITION)) {
			if (d.diff == D(SAVEPOINT_REDEPLOY)) {
				if (!fo_streq(n.restore, d.initial_savepoint))
					fail_msg("%s: a redeploy not from initialSavepointPath", where);
			} else if (d.stateless && deploy_bg_savepointing(j.state) == false) {
				if (n.restore)
					fail_msg("%s: a stateless transition restores %s", where, n.restore);
			} else if (!n.restore || !fo_streq(n.restore, ox->sp_path) || ox->sp_nonce != j.handover_nonce ||
				   !j.handover_nonce) {
				fail_msg("%s: a stateful new child starts from %s, not the savepoint of its own "
					 "transition", where, n.restore ? n.restore : "empty state");
			}
			if (oy->live)
				fail_msg("%s: the other colour is started while it still exists", where);
		}
		if (n.op == OP(SAVEPOINT) && !ox->healthy)
			fail_msg("%s: a handover savepoint asked of a job that is not healthy", where);
		/* a cut-over only to a job that caught up; never past a doubt */
		if (n.op == OP(CUTOVER) &&
		    (!oy->healthy || (oy->caught_up == 0) ||
		     (oy->caught_up < 0 && (!j.healthy_ms || o.now_ms < j.healthy_ms || o.now_ms - j.healthy_ms < d.catch_up_ms))))
			fail_msg("%s: cut over to a job that has not caught up", where);
		/* the fallback's clock starts once, when the new child is first seen healthy */
		if (n.op == OP(HEALTHY) && (!oy->healthy || j.healthy_ms || !deploy_bg_transitioning(j.state)))
			fail_msg("%s: healthy recorded for a child that is not, or again", where);
		/* the retiring child goes only once stopped with its state, after the delay */
		if (n.op == OP(RETIRE) && oy->live &&
		    (!oy->suspended || clock != 1))
			fail_msg("%s: retired before it stopped or before the delay passed", where);
		/* an abort for time only on a clock that says the time passed */
		if (n.op == OP(ABORT) && deploy_bg_transitioning(j.state) && clock != 1 && !oy->failed)
			fail_msg("%s: aborted without the grace period having passed", where);
		/* a delete removes children only when git says so */
		if ((n.op == OP(DELETE) || n.op == OP(FORGET)) && !d.deleting)
			fail_msg("%s: deletes what git still has", where);
		if ((n.op == OP(WAIT) || n.op == OP(FAIL) || n.op == OP(ABORT)) && !n.why)
			fail_msg("%s: no reason", where);
		/* an op that writes, recorded, is not asked again at once */
		if (n.op != OP(NONE) && n.op != OP(WAIT) && n.op != OP(DELETE) && n.op != OP(FORGET)) {
			deploy_bg_record(&j, &d, &n, o.now_ms);
			/* what the caller's diff says once the journal moved on */
			if (n.op == OP(PATCH) || n.op == OP(FINALIZE) || n.op == OP(CUTOVER))
				d.diff = fo_streq(d.target, j.active_target) ? D(IGNORE) : d.diff;
			deploy_bg_next again;
			deploy_bg_next_step(&d, &j, &o, &again);
			if (again.op == n.op && n.op != OP(PATCH))
				fail_msg("%s: asked again after it was recorded (%s)", where,
					 again.why ? again.why : "");
			deploy_bg_next_clear(&again);
		}
		deploy_bg_next_clear(&n);
		deploy_bg_journal_clear(&j);
	}
	assert_true(checked > 100000);
	print_message("sweep: %zu combinations checked\n", checked);
}

/* A FlinkBlueGreenDeployment as upstream's docs write it, with `extra`
 * replacing the line "@EXTRA@" (under template.spec.job) and `top` the
 * line "@TOP@" (under template.spec). */
static const char *bg_doc = "apiVersion: flink.apache.org/v1beta1\n"
			    "kind: FlinkBlueGreenDeployment\n"
			    "metadata:\n"
			    "  name: counter\n"
			    "  namespace: jobs\n"
			    "spec:\n"
			    "  configuration:\n"
			    "    kubernetes.operator.bluegreen.abort.grace-period: \"5 min\"\n"
			    "    kubernetes.operator.bluegreen.deployment-deletion.delay: \"2s\"\n"
			    "  template:\n"
			    "    metadata:\n"
			    "      labels: {team: data}\n"
			    "    spec:\n"
			    "      image: flink:1.20\n"
			    "      flinkVersion: v1_20\n"
			    "      mode: standalone\n"
			    "      flinkConfiguration:\n"
			    "        taskmanager.numberOfTaskSlots: \"2\"\n"
			    "        state.savepoints.dir: s3://sp/counter\n"
			    "@TOP@\n"
			    "      jobManager: {resource: {memory: 1g, cpu: 1}}\n"
			    "      taskManager: {resource: {memory: 2g, cpu: 1}}\n"
			    "      job:\n"
			    "        jarURI: s3://jobs/counter.jar\n"
			    "        parallelism: 2\n"
			    "        upgradeMode: savepoint\n"
			    "@EXTRA@\n";

/* `s` with its first `from` replaced by `to` (the caller frees). */
static char *text_replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	if (!at)
		fail_msg("\"%s\" is not in the document", from);
	return fo_asprintf("%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
}

static char *doc_with(const char *top, const char *extra)
{
	char *a = text_replace(bg_doc, "@TOP@", top ? top : "#");
	char *b = text_replace(a, "@EXTRA@", extra ? extra : "#");
	free(a);
	return b;
}

/* Parse `text`: the one FlinkBlueGreenDeployment, or NULL with the
 * problems in *d. */
static flink_deployment *load_bg(const char *text, fo_diags *d)
{
	flink_deployments v = {0};
	flink_load_buffer("bg.yaml", text, strlen(text), &v, NULL, d);
	flink_check_repository(&v, d);
	flink_deployment *fd = NULL;
	for (size_t i = 0; i < v.n; i++)
		if (v.v[i]->bg && !fd) {
			fd = v.v[i];
			v.v[i] = NULL;
		}
	flink_deployments_free(&v);
	return d->nerrors ? (flink_deployment_free(fd), NULL) : fd;
}

/* The kind as upstream writes it: its settings, and its template as two
 * children named and labelled as upstream names them. */
static void test_parse(void **state)
{
	(void)state;
	fo_diags d = FO_DIAGS_INIT;
	char *text = doc_with(NULL, NULL);
	flink_deployment *fd = load_bg(text, &d);
	free(text);
	assert_non_null(fd);
	assert_string_equal(flink_kind_name(fd), "FlinkBlueGreenDeployment");
	assert_int_equal(fd->bg->grace_ms, 300000);
	assert_int_equal(fd->bg->delay_ms, 2000);
	assert_int_equal(fd->bg->reschedule_ms, 15000); /* upstream's default */
	assert_int_equal(fd->bg->catch_up_ms, 60000);
	for (int c = 0; c < 2; c++) {
		const flink_deployment *ch = fd->bg->child[c];
		assert_string_equal(ch->name, c ? "counter-green" : "counter-blue");
		assert_string_equal(ch->namespace, "jobs");
		assert_string_equal(ch->bluegreen_of, "counter");
		assert_string_equal(cJSON_GetObjectItem(ch->labels, "flink/blue-green-deployment-type")->valuestring,
				    c ? "GREEN" : "BLUE");
		assert_string_equal(cJSON_GetObjectItem(ch->labels, "team")->valuestring, "data");
		assert_true(ch->has_job);
		assert_int_equal(ch->job.parallelism, 2);
	}
	flink_deployment_free(fd);
	fo_diags_free(&d);
}

/* The document is kept as written, and alone it reads back as the same
 * resource: what the journal keeps for a child to run again. */
static void test_document_kept(void **state)
{
	(void)state;
	char *doc = doc_with(NULL, NULL);
	char *text = fo_asprintf("# caf\xc3\xa9 \xe2\x82\xac\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: flink, "
				 "namespace: jobs}\n---\n%s...\n---\n# after\n",
				 doc);
	fo_diags d = FO_DIAGS_INIT;
	flink_deployment *fd = load_bg(text, &d);
	assert_non_null(fd);
	char *want = fo_asprintf("---\n%s...", doc);
	assert_string_equal(fd->bg->doc_text, want);
	flink_deployment *again = load_bg(fd->bg->doc_text, &d);
	assert_non_null(again);
	assert_string_equal(again->bg->template_hash, fd->bg->template_hash);
	assert_string_equal(again->bg->doc_text, fd->bg->doc_text);
	flink_deployment_free(again);
	flink_deployment_free(fd);
	free(want);
	free(text);
	/* a document too large to keep with the journal */
	size_t pad = FLINK_BLUEGREEN_DOC_MAX;
	char *comment = fo_calloc(pad + 1, 1);
	memset(comment, 'x', pad);
	text = fo_asprintf("%s# %s\n", doc, comment);
	fd = load_bg(text, &d);
	assert_null(fd);
	bool found = false;
	for (size_t k = 0; k < d.n; k++)
		found = found || strstr(d.v[k].msg, "flinkops keeps a blue/green deployment's document with its journal, "
						   "at most 262144 bytes");
	assert_true(found);
	free(text);
	free(comment);
	free(doc);
	fo_diags_free(&d);
}

/* The children of each state: which colour runs which kept document, the
 * new colour from the handover state (never the template's old path), the
 * retiring one suspended, the handover nonce on the colour that took it. */
static void test_children(void **state)
{
	(void)state;
	fo_diags d = FO_DIAGS_INIT;
	char *t1 = doc_with(NULL, "        savepointTriggerNonce: 7\n        initialSavepointPath: s3://sp/old");
	char *t2 = doc_with(NULL, "        savepointTriggerNonce: 7\n        initialSavepointPath: s3://sp/old\n        args: [x]");
	flink_deployment *g1 = load_bg(t1, &d), *g2 = load_bg(t2, &d);
	assert_non_null(g1);
	assert_non_null(g2);
	deploy_bg_journal j = {0};
	flink_deployments out = {0};
	fo_err e = FO_ERR_INIT;
	/* INITIALIZING: none */
	assert_int_equal(deploy_bg_children(g1, &j, &out, &e), 0);
	assert_int_equal(out.n, 0);
	/* SAVEPOINTING_BLUE: blue runs its kept spec with the handover nonce */
	j.state = DEPLOY_BG_SAVEPOINTING_BLUE;
	j.active_target = fo_strdup(g1->bg->template_hash);
	j.active_spec = fo_strdup(g1->bg->doc_text);
	j.handover_nonce = (INT64_C(1) << 62) + 1;
	j.handover_git_nonce = 7;
	assert_int_equal(deploy_bg_children(g2, &j, &out, &e), 0);
	assert_int_equal(out.n, 1);
	assert_string_equal(out.v[0]->name, "counter-blue");
	assert_true(out.v[0]->job.savepoint_trigger_nonce == j.handover_nonce);
	assert_int_equal(out.v[0]->job.nargs, 0); /* its own spec, not git's new one */
	flink_deployments_free(&out);
	memset(&out, 0, sizeof(out));
	/* TRANSITIONING_TO_GREEN: blue as kept, green from git's spec and the handover savepoint */
	j.state = DEPLOY_BG_TRANSITIONING_TO_GREEN;
	j.next_target = fo_strdup(g2->bg->template_hash);
	j.handover_path = fo_strdup(SP_HANDOVER);
	j.started_ms = NOW;
	assert_int_equal(deploy_bg_children(g2, &j, &out, &e), 0);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.v[0]->name, "counter-blue");
	assert_string_equal(out.v[1]->name, "counter-green");
	assert_string_equal(out.v[1]->job.initial_savepoint_path, SP_HANDOVER);
	assert_int_equal(out.v[1]->job.nargs, 1);
	assert_true(out.v[1]->job.savepoint_trigger_nonce == 7); /* the nonce stays with blue */
	flink_deployments_free(&out);
	memset(&out, 0, sizeof(out));
	/* a stateless transition: nothing to start from, not the template's old path */
	free(j.handover_path);
	j.handover_path = NULL;
	assert_int_equal(deploy_bg_children(g2, &j, &out, &e), 0);
	assert_null(out.v[1]->job.initial_savepoint_path);
	flink_deployments_free(&out);
	memset(&out, 0, sizeof(out));
	/* ACTIVE_GREEN, blue retiring: green as kept, blue suspended with its spec and the nonce */
	j.state = DEPLOY_BG_ACTIVE_GREEN;
	j.retiring = true;
	j.retired_ms = NOW;
	j.retiring_spec = j.active_spec;
	j.active_spec = fo_strdup(g2->bg->doc_text);
	assert_int_equal(deploy_bg_children(g2, &j, &out, &e), 0);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.v[0]->name, "counter-blue");
	assert_int_equal(out.v[0]->job.state, FLINK_STATE_SUSPENDED);
	assert_true(out.v[0]->job.savepoint_trigger_nonce == j.handover_nonce);
	assert_int_equal(out.v[0]->job.nargs, 0);
	assert_string_equal(out.v[1]->name, "counter-green");
	assert_int_equal(out.v[1]->job.state, FLINK_STATE_RUNNING);
	assert_true(out.v[1]->job.savepoint_trigger_nonce == 7);
	flink_deployments_free(&out);
	memset(&out, 0, sizeof(out));
	/* a human's new nonce reaches the colour that had the handover one */
	j.retiring = false;
	free(j.retiring_spec);
	j.retiring_spec = NULL;
	j.state = DEPLOY_BG_ACTIVE_GREEN;
	char *t3 = text_replace(t2, "savepointTriggerNonce: 7", "savepointTriggerNonce: 8");
	flink_deployment *g3 = load_bg(t3, &d);
	free(j.active_spec);
	j.active_spec = fo_strdup(g3->bg->doc_text);
	assert_int_equal(deploy_bg_children(g3, &j, &out, &e), 0);
	assert_true(out.v[0]->job.savepoint_trigger_nonce == 8);
	flink_deployments_free(&out);
	memset(&out, 0, sizeof(out));
	/* a kept document that no longer reads back: an error, no child */
	free(j.active_spec);
	j.active_spec = fo_strdup("kind: FlinkBlueGreenDeployment\nmetadata: {name: counter}\n");
	assert_int_equal(deploy_bg_children(g3, &j, &out, &e), FO_EINVAL);
	assert_int_equal(out.n, 0);
	assert_non_null(strstr(fo_err_msg(&e), "the blue/green journal of jobs/counter keeps a document that does not read back"));
	fo_err_clear(&e);
	flink_deployments_free(&out);
	deploy_bg_journal_clear(&j);
	flink_deployment_free(g1);
	flink_deployment_free(g2);
	flink_deployment_free(g3);
	free(t1);
	free(t2);
	free(t3);
	fo_diags_free(&d);
}

/* Each problem said where it is, under the path it is written at. */
static void test_parse_errors(void **state)
{
	(void)state;
	static const struct {
		const char *from, *to, *want;
	} cases[] = {
		{"  configuration:\n", "  configuration:\n    kubernetes.operator.bluegreen.abort.grace-perod: 1s\n",
		 "bg.yaml:8:5: spec.configuration: \"kubernetes.operator.bluegreen.abort.grace-perod\" is not a blue/green "
		 "setting (did you mean \"kubernetes.operator.bluegreen.abort.grace-period\"?)"},
		{"\"5 min\"", "\"five minutes\"", "bg.yaml:8:55: spec.configuration: "
						  "kubernetes.operator.bluegreen.abort.grace-period: \"five minutes\" is not a duration"},
		{"        parallelism: 2\n", "        parallelism: -2\n", "bg.yaml:25:22: spec.template.spec.job.parallelism"},
		{"      job:\n        jarURI: s3://jobs/counter.jar\n        parallelism: 2\n        "
		 "upgradeMode: savepoint\n",
		 "", "spec.template.spec: \"job\" is required: blue/green upgrades a job"},
		{"  name: counter\n", "  name: a-name-of-forty-characters-for-bluegreen\n",
		 "bg.yaml:4:9: metadata.name: \"a-name-of-forty-characters-for-bluegreen\" is 40 characters; its children"},
		{"  template:\n    metadata:\n", "  templat:\n    metadata:\n", "\"template\" is required"},
		{"      labels: {team: data}\n", "      labels: {team: data}\n      name: other\n",
		 "bg.yaml:13:7: spec.template.metadata: unknown field \"name\""},
		/* its own Ingress is read as a FlinkDeployment's is */
		{"  template:\n", "  ingress: {template: \"{{name}}.{{colour}}.example.com\"}\n  template:\n",
		 "spec.ingress.template: \"{{colour}}\": only {{name}} and {{namespace}} are replaced"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		char *base = doc_with(NULL, NULL);
		char *text = text_replace(base, cases[i].from, cases[i].to);
		free(base);
		fo_diags d = FO_DIAGS_INIT;
		flink_deployment *fd = load_bg(text, &d);
		bool found = false;
		for (size_t k = 0; k < d.n && !found; k++) {
			char *line = fo_asprintf("%s:%d:%d: %s", d.v[k].file, d.v[k].line, d.v[k].col, d.v[k].msg);
			found = d.v[k].sev == FO_SEV_ERROR && strstr(line, cases[i].want);
			free(line);
		}
		if (fd || !found) {
			for (size_t k = 0; k < d.n; k++)
				print_message("  %s:%d:%d: %s\n", d.v[k].file, d.v[k].line, d.v[k].col, d.v[k].msg);
			fail_msg("row %zu: want an error \"%s\"", i, cases[i].want);
		}
		free(text);
		fo_diags_free(&d);
	}
	/* a child named like a FlinkDeployment of the repository */
	char *base = doc_with(NULL, NULL);
	char *text = fo_asprintf("%s---\napiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: "
				 "counter-green, namespace: jobs}\nspec: {image: flink:1.20, flinkVersion: v1_20, "
				 "mode: standalone, jobManager: {resource: {memory: 1g, cpu: 1}}, taskManager: {resource: "
				 "{memory: 1g, cpu: 1}, replicas: 1}}\n",
				 base);
	fo_diags d = FO_DIAGS_INIT;
	flink_deployment *fd = load_bg(text, &d);
	assert_null(fd);
	bool found = false;
	for (size_t k = 0; k < d.n; k++)
		found = found || strstr(d.v[k].msg, "its green child counter-green is named like the FlinkDeployment");
	assert_true(found);
	fo_diags_free(&d);
	free(text);
	free(base);
}

/* What git's template is to the active child's: upstream's diff types,
 * from real templates. */
static void test_diff(void **state)
{
	(void)state;
	static const struct {
		const char *top, *extra;
		enum deploy_bg_diff want;
	} cases[] = {
		{NULL, NULL, D(IGNORE)},
		{"      # a comment only", NULL, D(IGNORE)},
		{NULL, "        savepointTriggerNonce: 3", D(PATCH_CHILD)},
		{NULL, "        state: suspended", D(SUSPEND)},
		{NULL, "        savepointRedeployNonce: 1\n        initialSavepointPath: s3://sp/x", D(SAVEPOINT_REDEPLOY)},
		{NULL, "        args: [--rate, \"5\"]", D(TRANSITION)},
		{"      imagePullPolicy: Always", NULL, D(TRANSITION)},
		{"      serviceAccount: flink", NULL, D(TRANSITION)},
		{NULL, "        upgradeMode: last-state", D(PATCH_CHILD)},
		{"        kubernetes.operator.savepoint.history.max.count: \"5\"", NULL, D(PATCH_CHILD)},
		{"        taskmanager.memory.managed.fraction: \"0.5\"", NULL, D(TRANSITION)},
		{NULL, "        checkpointTriggerNonce: 2", D(PATCH_CHILD)},
	};
	fo_diags d = FO_DIAGS_INIT;
	char *text = doc_with(NULL, NULL);
	flink_deployment *active = load_bg(text, &d);
	free(text);
	assert_non_null(active);
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		char *extra = cases[i].extra && strstr(cases[i].extra, "upgradeMode") ? NULL : (char *)cases[i].extra;
		char *t = doc_with(cases[i].top, extra);
		if (cases[i].extra && strstr(cases[i].extra, "upgradeMode")) {
			char *u = text_replace(t, "upgradeMode: savepoint", "upgradeMode: last-state");
			free(t);
			t = u;
		}
		flink_deployment *git = load_bg(t, &d);
		free(t);
		if (!git) {
			for (size_t k = 0; k < d.n; k++)
				print_message("  %s:%d:%d: %s\n", d.v[k].file, d.v[k].line, d.v[k].col, d.v[k].msg);
			fail_msg("row %zu does not parse", i);
		}
		enum deploy_bg_diff got = deploy_bg_diff(active->bg->child[0], active->bg->template_hash,
							 git->bg->child[0], git->bg->template_hash);
		if (got != cases[i].want)
			fail_msg("row %zu: %s, want %s", i, deploy_bg_diff_name(got), deploy_bg_diff_name(cases[i].want));
		/* and back: a resume */
		if (cases[i].want == D(SUSPEND))
			assert_int_equal(deploy_bg_diff(git->bg->child[0], git->bg->template_hash, active->bg->child[0],
							active->bg->template_hash),
					 D(RESUME));
		flink_deployment_free(git);
	}
	/* labels of the template's metadata: on the objects, not the job */
	char *base = doc_with(NULL, NULL);
	char *t = text_replace(base, "{team: data}", "{team: ops}");
	flink_deployment *git = load_bg(t, &d);
	assert_non_null(git);
	assert_int_equal(deploy_bg_diff(active->bg->child[0], active->bg->template_hash, git->bg->child[0],
					git->bg->template_hash),
			 D(PATCH_CHILD));
	flink_deployment_free(git);
	free(t);
	free(base);
	flink_deployment_free(active);
	fo_diags_free(&d);
}

/* Every journal the life walk writes reads back to the same values, and
 * encodes again to the same bytes; a nonce past 2^53 stays exact. */
static void test_journal_roundtrip(void **state)
{
	(void)state;
	deploy_bg_journal j = {0};
	deploy_bg_desired d;
	deploy_bg_observed o;
	want_defaults(&d, T1, D(TRANSITION));
	d.spec_text = "kind: FlinkBlueGreenDeployment # one\n";
	d.initial_savepoint = SP_INITIAL;
	observe_none(&o);
	size_t checked = 0;
	/* the walk of test_life, each journal encoded and decoded */
	struct {
		enum deploy_bg_op op;
		int blue, green; /* the children as the step sees them */
		const char *target, *text;
		int sp;          /* blue answered the handover */
	} walk[] = {
		{OP(CREATE), 0, 0, T1, NULL, 0},
		{OP(FINALIZE), 2, 0, T1, NULL, 0},
		{OP(SAVEPOINT), 2, 0, T2, "kind: FlinkBlueGreenDeployment # two \"quoted\" \u00e9\n", 0},
		{OP(TRANSITION), 2, 0, T2, NULL, 1},
		{OP(HEALTHY), 2, 5, T2, NULL, 1},
		{OP(CUTOVER), 2, 5, T2, NULL, 1},
		{OP(RETIRE), 4, 5, T2, NULL, 0},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(walk); i++) {
		o.child[DEPLOY_BG_BLUE] = child_of(walk[i].blue);
		o.child[DEPLOY_BG_GREEN] = child_of(walk[i].green);
		if (walk[i].sp) {
			o.child[DEPLOY_BG_BLUE].sp_nonce = j.handover_nonce;
			o.child[DEPLOY_BG_BLUE].sp_path = SP_HANDOVER;
		}
		if (walk[i].op == OP(RETIRE))
			o.now_ms += DELAY + 10000;
		d.target = walk[i].target;
		d.diff = fo_streq(j.active_target, d.target) ? D(IGNORE) : D(TRANSITION);
		if (walk[i].text)
			d.spec_text = walk[i].text;
		deploy_bg_next n;
		deploy_bg_next_step(&d, &j, &o, &n);
		if (n.op != walk[i].op)
			fail_msg("walk %zu: %s, want %s (%s)", i, deploy_bg_op_name(n.op), deploy_bg_op_name(walk[i].op),
				 n.why ? n.why : "");
		deploy_bg_record(&j, &d, &n, o.now_ms + (int64_t)i * 1001);
		deploy_bg_next_clear(&n);
		char *text = deploy_bg_journal_encode(&j);
		deploy_bg_journal back;
		fo_err e = FO_ERR_INIT;
		if (deploy_bg_journal_decode(text, &back, &e) < 0)
			fail_msg("walk %zu: %s does not read back: %s", i, text, fo_err_msg(&e));
		assert_int_equal(back.state, j.state);
		assert_true(fo_streq(back.active_target, j.active_target));
		assert_true(fo_streq(back.active_spec, j.active_spec));
		assert_true(fo_streq(back.retiring_spec, j.retiring_spec));
		assert_true(fo_streq(back.next_target, j.next_target));
		assert_true(fo_streq(back.handover_path, j.handover_path));
		assert_true(back.handover_nonce == j.handover_nonce);
		assert_true(back.handover_git_nonce == j.handover_git_nonce);
		assert_true(back.started_ms == j.started_ms);
		assert_true(back.retired_ms == j.retired_ms);
		assert_int_equal(back.retiring, j.retiring);
		assert_true(back.generation == j.generation);
		char *again = deploy_bg_journal_encode(&back);
		assert_string_equal(again, text);
		free(again);
		free(text);
		deploy_bg_journal_clear(&back);
		checked++;
	}
	assert_int_equal(checked, FO_ARRAY_LEN(walk));
	assert_true(j.handover_nonce == 0 && j.retiring_spec == NULL);
	assert_string_equal(j.active_spec, "kind: FlinkBlueGreenDeployment # two \"quoted\" \u00e9\n");
	deploy_bg_journal_clear(&j);
}

/* A record flinkops cannot read whole is refused, never half read. */
static void test_journal_strict(void **state)
{
	(void)state;
	static const struct {
		const char *text, *want;
		int rc;
	} cases[] = {
		{"[]", "not a JSON object", FO_EINVAL},
		{"{\"state\":\"ACTIVE_BLUE\"}", "no valid \"version\"", FO_EINVAL},
		{"{\"version\":2,\"state\":\"ACTIVE_BLUE\"}", "format 2, newer than this flinkops reads", FO_EUNSUPPORTED},
		{"{\"version\":1,\"state\":\"FAILING\"}", "state: FAILING is not a blue/green state", FO_EINVAL},
		{"{\"version\":1,\"state\":\"INITIALIZING_BLUE\",\"colour\":\"blue\"}", "colour", FO_EINVAL},
		{"{\"version\":1,\"state\":\"ACTIVE_BLUE\"}", "without activeTarget and activeSpec", FO_EINVAL},
		{"{\"version\":1,\"state\":\"ACTIVE_BLUE\",\"activeTarget\":\"t\",\"activeSpec\":7}",
		 "activeSpec: a number where a string belongs", FO_EINVAL},
		{"{\"version\":1,\"state\":\"TRANSITIONING_TO_GREEN\",\"nextTarget\":\"t\"}",
		 "without nextTarget and startedAt", FO_EINVAL},
		{"{\"version\":1,\"state\":\"TRANSITIONING_TO_GREEN\",\"nextTarget\":\"t\",\"startedAt\":\"yesterday\"}",
		 "startedAt: \"yesterday\" is not an RFC 3339 time", FO_EINVAL},
		{"{\"version\":1,\"state\":\"SAVEPOINTING_BLUE\",\"activeTarget\":\"t\",\"activeSpec\":\"s\","
		 "\"handoverNonce\":4611686018427387907}",
		 "handoverNonce: a number where a string belongs", FO_EINVAL},
		{"{\"version\":1,\"state\":\"SAVEPOINTING_BLUE\",\"activeTarget\":\"t\",\"activeSpec\":\"s\","
		 "\"handoverNonce\":\"12x\"}",
		 "handoverNonce: \"12x\" is not a whole number", FO_EINVAL},
		{"{\"version\":1,\"state\":\"ACTIVE_BLUE\",\"activeTarget\":\"t\",\"activeSpec\":\"s\",\"retiring\":true}",
		 "retiring without retiringSpec and retiredAt", FO_EINVAL},
		{"{\"version\":1,\"state\":\"ACTIVE_BLUE\",\"activeTarget\":\"t\",\"activeSpec\":\"s\","
		 "\"healthyAt\":\"2026-12-07T10:00:00.000Z\"}",
		 "healthyAt in state ACTIVE_BLUE, outside a transition", FO_EINVAL},
		{"{\"version\":1,\"state\":\"ACTIVE_BLUE\",\"activeTarget\":\"t\",\"activeSpec\":\"s\",\"retiring\":1}",
		 "retiring: a number where true or false belongs", FO_EINVAL},
		{"{\"version\":1,\"state\":\"ACTIVE_BLUE\",\"activeTarget\":\"t\",\"activeSpec\":\"s\"} {}", "not a JSON object",
		 FO_EINVAL},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		deploy_bg_journal j;
		fo_err e = FO_ERR_INIT;
		int rc = deploy_bg_journal_decode(cases[i].text, &j, &e);
		if (rc != cases[i].rc || !strstr(fo_err_msg(&e), cases[i].want))
			fail_msg("case %zu: rc %d \"%s\", want %d \"%s\"", i, rc, fo_err_msg(&e), cases[i].rc, cases[i].want);
		assert_null(j.active_target);
		assert_null(j.active_spec);
		fo_err_clear(&e);
	}
	/* a spec past the bound */
	size_t big = DEPLOY_BG_SPEC_MAX + 1;
	char *spec = fo_calloc(big + 1, 1);
	memset(spec, 'x', big);
	char *text = fo_asprintf("{\"version\":1,\"state\":\"ACTIVE_BLUE\",\"activeTarget\":\"t\",\"activeSpec\":\"%s\"}",
				 spec);
	deploy_bg_journal j;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(deploy_bg_journal_decode(text, &j, &e), FO_EINVAL);
	assert_non_null(strstr(fo_err_msg(&e), "more than the 262144 a spec may have"));
	fo_err_clear(&e);
	free(text);
	free(spec);
}

/* What a child's own rollout journal says to the decision: a journal per
 * row (none, settled, starting, failed for this target or an older one,
 * suspended, answering a savepoint or failing one) -> the child. */
static void test_observe_child(void **state)
{
	(void)state;
	static const char *const H = "4611686018427387907"; /* a handover nonce: 2^62 + 3 */
	static const struct {
		const char *name;
		bool journal, objects;
		enum deploy_step step;
		const char *job, *target_hash, *await, *failed_hash, *handled, *sp, *sp_error, *error;
		const char *target; /* what the pass renders for it */
		bool live, healthy, failed, suspended;
		int64_t sp_nonce;
		const char *want_sp, *want_sp_failure;
	} crows[] = {
		{"nothing", .target = T2},
		{"objects, no journal: never started", .objects = true, .target = T2, .live = true, .suspended = true},
		{"settled on the target, first checkpoint done", true, true, DEPLOY_STEP_IDLE, "j1", T2, .target = T2,
		 .live = true, .healthy = true},
		{"settled, awaiting its first checkpoint", true, true, DEPLOY_STEP_IDLE, "j1", T2,
		 "2026-12-07T10:00:00.000Z", .target = T2, .live = true},
		{"settled on an older target: git's is still to come", true, true, DEPLOY_STEP_IDLE, "j1", T1,
		 .target = T2, .live = true},
		{"settled, but the pass renders nothing for it (retiring)", true, true, DEPLOY_STEP_IDLE, "j1", T2,
		 .live = true},
		{"starting: submitted", true, true, DEPLOY_STEP_SUBMITTED, "j0", T1, .target = T2, .live = true},
		{"stopping with a savepoint", true, true, DEPLOY_STEP_STOPPING, "j1", T2, .target = T2, .live = true},
		{"failed on this target", true, true, DEPLOY_STEP_FAILED, "j1", T1, .failed_hash = T2,
		 .error = "the job FAILED", .target = T2, .live = true, .failed = true},
		{"failed on an older target: the new one is tried", true, true, DEPLOY_STEP_FAILED, "j1", T1,
		 .failed_hash = T1, .error = "the job FAILED", .target = T2, .live = true},
		{"failed, from an older journal without its target", true, true, DEPLOY_STEP_FAILED, .error = "x",
		 .target = T2, .live = true, .failed = true},
		{"suspended with its state recorded", true, true, DEPLOY_STEP_IDLE, NULL, T2, .sp = SP_OLDER,
		 .target = T2, .live = true, .suspended = true},
		{"suspended, objects already gone", true, false, DEPLOY_STEP_IDLE, .target = T2, .live = true,
		 .suspended = true},
		{"answered the handover", true, true, DEPLOY_STEP_IDLE, "j1", T2, .handled = H, .sp = SP_HANDOVER,
		 .target = T2, .live = true, .healthy = true, .sp_nonce = (INT64_C(1) << 62) + 3, .want_sp = SP_HANDOVER},
		{"the handover failed: the older savepoint is not offered", true, true, DEPLOY_STEP_IDLE, "j1", T2,
		 .handled = H, .sp = SP_OLDER, .sp_error = "Checkpoint expired", .target = T2, .live = true,
		 .healthy = true, .sp_nonce = (INT64_C(1) << 62) + 3, .want_sp_failure = "Checkpoint expired"},
		{"a savepoint without a nonce answered", true, true, DEPLOY_STEP_IDLE, "j1", T2, .sp = SP_OLDER,
		 .target = T2, .live = true, .healthy = true},
		{"a human's nonce answered", true, true, DEPLOY_STEP_IDLE, "j1", T2, .handled = "7", .sp = SP_OLDER,
		 .target = T2, .live = true, .healthy = true, .sp_nonce = 7, .want_sp = SP_OLDER},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(crows); i++) {
		deploy_journal j;
		memset(&j, 0, sizeof(j));
		j.step = crows[i].step;
		j.job_id = (char *)crows[i].job;
		j.target_hash = (char *)crows[i].target_hash;
		j.await_checkpoint_since = (char *)crows[i].await;
		j.failed_hash = (char *)crows[i].failed_hash;
		j.handled_nonce = (char *)crows[i].handled;
		j.savepoint_path = (char *)crows[i].sp;
		j.savepoint_error = (char *)crows[i].sp_error;
		j.last_error = (char *)crows[i].error;
		deploy_bg_child c;
		deploy_bg_observe_child(crows[i].journal ? &j : NULL, crows[i].objects, crows[i].target, -1, &c);
		if (c.live != crows[i].live || c.healthy != crows[i].healthy || c.failed != crows[i].failed ||
		    c.suspended != crows[i].suspended || c.sp_nonce != crows[i].sp_nonce ||
		    !fo_streq(c.sp_path, crows[i].want_sp) || !fo_streq(c.sp_failure, crows[i].want_sp_failure) ||
		    c.caught_up != -1)
			fail_msg("%s: live %d healthy %d failed %d suspended %d nonce %lld path %s failure %s", crows[i].name,
				 c.live, c.healthy, c.failed, c.suspended, (long long)c.sp_nonce,
				 c.sp_path ? c.sp_path : "-", c.sp_failure ? c.sp_failure : "-");
		if (crows[i].failed && !fo_streq(c.problem, crows[i].error))
			fail_msg("%s: the problem said is %s", crows[i].name, c.problem ? c.problem : "none");
	}
}

/* The resource's status file through a life: the phase, observedCommit
 * only once the active colour runs git's spec healthy, a message without
 * ages, the bluegreen block; what is written reads back the same, and an
 * unknown key of the block is refused. */
/* The catch-up signal from two jobs' watermarks (deploy_bg_progress): per
 * vertex both have, else each job's furthest; an old job without event time
 * leaves it to the fallback; a new job without watermarks, or further
 * behind than max-lag, is behind, never caught up. Vertex "a" is the
 * source (no input watermark), "b" and "c" downstream. */
#define WM(id, w) {(char *)(id), (w)}
#define NO FLINK_NO_WATERMARK
static void test_progress(void **state)
{
	(void)state;
	const int64_t T = INT64_C(1765100000000), LAG = 1000;
	static const struct {
		const char *name;
		flink_vertex_watermark old[3], cur[3];
		size_t nold, ncur;
		int want;
		int64_t behind;
	} cases[] = {
		{"equal", {WM("a", NO), WM("b", 0), WM("c", 0)}, {WM("a", NO), WM("b", 0), WM("c", 0)}, 3, 3, 1, -1},
		{"ahead", {WM("b", 0)}, {WM("b", 5000)}, 1, 1, 1, -1},
		{"within max-lag", {WM("b", 0)}, {WM("b", -1000)}, 1, 1, 1, -1},
		{"just beyond it", {WM("b", 0)}, {WM("b", -1001)}, 1, 1, 0, 1001},
		{"one vertex behind", {WM("b", 0), WM("c", 0)}, {WM("b", 0), WM("c", -60000)}, 2, 2, 0, 60000},
		{"the worst gap is told", {WM("b", 0), WM("c", 0)}, {WM("b", -5000), WM("c", -9000)}, 2, 2, 0, 9000},
		{"no watermark yet where the old has one", {WM("b", 0)}, {WM("b", NO)}, 1, 1, 0, -1},
		{"the new job has no vertices yet", {WM("b", 0)}, {WM("b", 0)}, 1, 0, 0, -1},
		{"the old job has no event time", {WM("a", NO), WM("b", NO)}, {WM("a", NO), WM("b", 0)}, 2, 2, -1, -1},
		{"the old job shows no vertex", {WM("a", 0)}, {WM("b", 0)}, 0, 1, -1, -1},
		{"only the old one's vertices with a watermark count",
		 {WM("b", NO), WM("c", 0)}, {WM("b", NO), WM("c", 0)}, 2, 2, 1, -1},
		{"topology changed: the furthest of each", {WM("b", 0), WM("c", -7000)}, {WM("x", -500)}, 2, 1, 1, -1},
		{"topology changed and behind", {WM("b", 0)}, {WM("x", -2000), WM("y", -3000)}, 1, 2, 0, 2000},
		{"topology changed, no watermark", {WM("b", 0)}, {WM("x", NO)}, 1, 1, 0, -1},
		{"end of input (Long.MAX_VALUE) is ahead of anything", {WM("b", 0)}, {WM("b", INT64_MAX)}, 1, 1, 1, -1},
		{"a gap beyond int64 is saturated, never wrapped", {WM("b", INT64_MAX)}, {WM("b", INT64_MIN + 1)}, 1, 1, 0,
		 INT64_MAX},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flink_vertex_watermark ov[3], cv[3];
		for (size_t k = 0; k < 3; k++) {
			ov[k] = cases[i].old[k];
			cv[k] = cases[i].cur[k];
			/* times relative to T, so that the table stays readable */
			if (ov[k].watermark != NO && ov[k].watermark != INT64_MAX && ov[k].watermark > -100000000)
				ov[k].watermark += T;
			if (cv[k].watermark != NO && cv[k].watermark != INT64_MAX && cv[k].watermark > -100000000)
				cv[k].watermark += T;
		}
		flink_job_watermarks old = {ov, cases[i].nold}, cur = {cv, cases[i].ncur};
		int64_t behind = 42;
		int got = deploy_bg_progress(&old, &cur, LAG, &behind);
		if (got != cases[i].want || behind != cases[i].behind)
			fail_msg("%s: signal %d behind %lld, want %d behind %lld", cases[i].name, got, (long long)behind,
				 cases[i].want, (long long)cases[i].behind);
	}

	/* what the decision says of each: the gap, or that there is no watermark */
	deploy_bg_desired d;
	want_defaults(&d, T2, DEPLOY_BG_DIFF_TRANSITION);
	d.max_lag_ms = LAG;
	deploy_bg_journal j;
	memset(&j, 0, sizeof(j));
	j.state = DEPLOY_BG_TRANSITIONING_TO_GREEN;
	j.active_target = (char *)T1;
	j.next_target = (char *)T2;
	j.started_ms = NOW - 1000;
	j.healthy_ms = NOW - 500;
	deploy_bg_observed o;
	observe_none(&o);
	o.child[DEPLOY_BG_BLUE] = healthy_child();
	o.child[DEPLOY_BG_GREEN] = healthy_child();
	o.child[DEPLOY_BG_GREEN].caught_up = 0;
	o.child[DEPLOY_BG_GREEN].behind_ms = 42000;
	deploy_bg_next n = {0};
	deploy_bg_next_step(&d, &j, &o, &n);
	assert_int_equal(n.op, DEPLOY_BG_OP_WAIT);
	assert_non_null(strstr(n.why, "42s behind"));
	deploy_bg_next_clear(&n);
	o.child[DEPLOY_BG_GREEN].behind_ms = -1;
	deploy_bg_next_step(&d, &j, &o, &n);
	assert_non_null(strstr(n.why, "no watermark yet"));
	deploy_bg_next_clear(&n);
	o.child[DEPLOY_BG_GREEN].progress_error = "get watermarks: HTTP 503";
	deploy_bg_next_step(&d, &j, &o, &n);
	assert_int_equal(n.op, DEPLOY_BG_OP_WAIT); /* what cannot be compared never counts as caught up */
	assert_non_null(strstr(n.why, "cannot be compared"));
	assert_non_null(strstr(n.why, "HTTP 503"));
	deploy_bg_next_clear(&n);
	/* past the grace period the reason is the abort's */
	o.now_ms = NOW + GRACE + 1;
	deploy_bg_next_step(&d, &j, &o, &n);
	assert_int_equal(n.op, DEPLOY_BG_OP_ABORT);
	assert_non_null(strstr(n.why, "cannot be compared"));
	deploy_bg_next_clear(&n);
}

/* The resource's own Ingress: named after it, its template filled with its
 * own name (as upstream fills it), to the REST Service of the colour that
 * serves: the one starting while none ran before, then the active one,
 * moved by the cut-over's record and by nothing else. */
static void test_ingress(void **state)
{
	(void)state;
	fo_diags d = FO_DIAGS_INIT;
	char *base = doc_with(NULL, NULL);
	char *text = text_replace(base, "  template:\n",
				  "  ingress:\n    template: \"{{name}}.{{namespace}}.example.com/ui\"\n"
				  "    className: nginx\n    labels: {team: data}\n  template:\n");
	free(base);
	flink_deployment *fd = load_bg(text, &d);
	free(text);
	assert_non_null(fd);
	assert_non_null(fd->bg->ingress);
	assert_null(fd->bg->child[0]->ingress); /* the children have none of their own */
	cJSON *o = render_bluegreen_ingress(fd, "counter-green");
	assert_non_null(o);
	const cJSON *meta = cJSON_GetObjectItem(o, "metadata"), *labels = cJSON_GetObjectItem(meta, "labels");
	assert_string_equal(fo_json_str(o, "kind"), "Ingress");
	assert_string_equal(fo_json_str(meta, "name"), "counter");
	assert_string_equal(fo_json_str(meta, "namespace"), "jobs");
	assert_string_equal(fo_json_str(labels, "app.kubernetes.io/instance"), "counter");
	assert_string_equal(fo_json_str(labels, "app.kubernetes.io/component"), "ingress");
	assert_string_equal(fo_json_str(labels, "team"), "data");
	const cJSON *spec = cJSON_GetObjectItem(o, "spec");
	assert_string_equal(fo_json_str(spec, "ingressClassName"), "nginx");
	const cJSON *rule = cJSON_GetArrayItem(cJSON_GetObjectItem(spec, "rules"), 0);
	assert_string_equal(fo_json_str(rule, "host"), "counter.jobs.example.com");
	const cJSON *path = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(rule, "http"), "paths"), 0);
	assert_string_equal(fo_json_str(path, "path"), "/ui");
	const cJSON *svc = cJSON_GetObjectItem(cJSON_GetObjectItem(path, "backend"), "service");
	assert_string_equal(fo_json_str(svc, "name"), "counter-green-rest");
	assert_non_null(render_object_hash(o));
	/* another colour is another object: its hash differs, so the switch applies it */
	cJSON *b = render_bluegreen_ingress(fd, "counter-blue");
	assert_string_not_equal(render_object_hash(o), render_object_hash(b));
	cJSON_Delete(b);
	cJSON_Delete(o);
	assert_null(render_bluegreen_ingress(fd, NULL));
	/* what plan says of it */
	char *plain_text = doc_with(NULL, NULL);
	flink_deployment *plain = load_bg(plain_text, &d);
	free(plain_text);
	assert_non_null(plain);
	char *said = deploy_bg_plan(NULL, fd);
	assert_non_null(strstr(said, "the Ingress counter routes to the colour that runs, and moves at each switch"));
	free(said);
	said = deploy_bg_plan(plain, fd);
	assert_string_equal(said, "its Ingress is created, to the colour that runs");
	free(said);
	said = deploy_bg_plan(fd, plain);
	assert_non_null(strstr(said, "its Ingress is deleted"));
	free(said);
	flink_deployment_free(plain);
	flink_deployment_free(fd);
	fo_diags_free(&d);

	/* which colour serves, state by state */
	static const struct {
		enum deploy_bg_state state;
		bool ran_before; /* a colour ran before (active_target set) */
		enum deploy_bg_colour want;
	} serving[] = {
		{DEPLOY_BG_INITIALIZING_BLUE, false, DEPLOY_BG_BLUE},
		{DEPLOY_BG_TRANSITIONING_TO_BLUE, false, DEPLOY_BG_BLUE}, /* the first child, starting */
		{DEPLOY_BG_ACTIVE_BLUE, true, DEPLOY_BG_BLUE},
		{DEPLOY_BG_SAVEPOINTING_BLUE, true, DEPLOY_BG_BLUE},
		{DEPLOY_BG_TRANSITIONING_TO_GREEN, true, DEPLOY_BG_BLUE}, /* blue serves until the cut-over */
		{DEPLOY_BG_ACTIVE_GREEN, true, DEPLOY_BG_GREEN},
		{DEPLOY_BG_SAVEPOINTING_GREEN, true, DEPLOY_BG_GREEN},
		{DEPLOY_BG_TRANSITIONING_TO_BLUE, true, DEPLOY_BG_GREEN},
		{DEPLOY_BG_TRANSITIONING_TO_GREEN, false, DEPLOY_BG_GREEN},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(serving); i++) {
		deploy_bg_journal j;
		memset(&j, 0, sizeof(j));
		j.state = serving[i].state;
		j.active_target = serving[i].ran_before ? (char *)T1 : NULL;
		if (deploy_bg_serving(&j) != serving[i].want)
			fail_msg("row %zu: %s (ran before: %d) serves %s", i, deploy_bg_state_name(serving[i].state),
				 serving[i].ran_before, deploy_bg_colour_name(deploy_bg_serving(&j)));
	}
}

static void test_status(void **state)
{
	(void)state;
	static const char doc[] = "apiVersion: flink.apache.org/v1beta1\nkind: FlinkBlueGreenDeployment\n"
				  "metadata: {name: counter, namespace: jobs}\nspec:\n  template:\n    spec:\n"
				  "      image: flink:1.20\n      flinkVersion: v1_20\n      mode: standalone\n"
				  "      jobManager: {resource: {memory: 1g, cpu: 1}}\n"
				  "      taskManager: {resource: {memory: 1g, cpu: 1}}\n"
				  "      job: {jarURI: 's3://j/c.jar', parallelism: 1, upgradeMode: savepoint}\n";
	fo_diags dg = FO_DIAGS_INIT;
	flink_deployment *git = load_bg(doc, &dg);
	assert_non_null(git);
	fo_diags_free(&dg);
	const char *t = git->bg->template_hash;
	static const struct {
		const char *name;
		enum deploy_bg_state state;
		bool same_target, healthy, retiring, error, forgotten;
		enum flink_phase phase;
		bool observed;
		const char *message, *active;
	} srows[] = {
		{"the first colour starts", DEPLOY_BG_TRANSITIONING_TO_BLUE, .phase = FLINK_PHASE_DEPLOYING,
		 .message = "blue starts"},
		{"blue runs git's spec, healthy", DEPLOY_BG_ACTIVE_BLUE, true, true, .phase = FLINK_PHASE_RUNNING,
		 .observed = true, .message = "blue runs", .active = "blue"},
		{"blue takes the handover savepoint", DEPLOY_BG_SAVEPOINTING_BLUE, .phase = FLINK_PHASE_UPGRADING,
		 .message = "blue takes the savepoint the new job starts from, and runs on", .active = "blue"},
		{"green starts beside blue", DEPLOY_BG_TRANSITIONING_TO_GREEN, .phase = FLINK_PHASE_UPGRADING,
		 .message = "green starts beside blue from s3://sp/savepoint-h; the switch comes once it has caught up",
		 .active = "blue"},
		{"switched, blue retiring", DEPLOY_BG_ACTIVE_GREEN, true, true, true, .phase = FLINK_PHASE_RUNNING,
		 .observed = true, .message = "green runs; blue stops with a savepoint and is removed", .active = "green"},
		{"green runs git's spec, not seen healthy", DEPLOY_BG_ACTIVE_GREEN, true, .phase = FLINK_PHASE_DEPLOYING,
		 .message = "green takes git's spec", .active = "green"},
		{"aborted", DEPLOY_BG_ACTIVE_BLUE, .healthy = true, .error = true, .phase = FLINK_PHASE_FAILED,
		 .message = "green did not catch up", .active = "blue"},
		{"forgotten", DEPLOY_BG_ACTIVE_BLUE, .forgotten = true, .phase = FLINK_PHASE_DELETED,
		 .message = "gone from git: its children stopped with a final savepoint and were removed"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(srows); i++) {
		deploy_bg_item it;
		memset(&it, 0, sizeof(it));
		it.ns = "jobs";
		it.name = "counter";
		it.git = git;
		journal_in(&it.journal, srows[i].state);
		if (srows[i].state == DEPLOY_BG_TRANSITIONING_TO_BLUE) {
			free(it.journal.active_target);
			it.journal.active_target = NULL; /* a first colour */
		}
		free(it.journal.handover_path);
		it.journal.handover_path = deploy_bg_transitioning(srows[i].state) ? fo_strdup("s3://sp/savepoint-h") : NULL;
		if (srows[i].same_target) {
			free(it.journal.active_target);
			it.journal.active_target = fo_strdup(t);
		}
		it.journal.retiring = srows[i].retiring;
		if (srows[i].error)
			it.journal.error = fo_strdup("green did not catch up");
		it.active_healthy = srows[i].healthy;
		it.forgotten = srows[i].forgotten;
		it.child_job[DEPLOY_BG_BLUE] = "b1";
		it.started_from = "s3://sp/savepoint-h";
		it.switched_at = srows[i].retiring ? "2026-12-07T12:00:00.000Z" : NULL;
		flink_status *st = flink_status_new("jobs", "counter");
		deploy_bg_status_update(st, &it, "blob1", "c0ffee");
		if (st->phase != srows[i].phase || !!st->observed_commit != srows[i].observed ||
		    !fo_streq(st->message, srows[i].message) || !fo_streq(st->bluegreen.active, srows[i].active))
			fail_msg("%s: %s observed %s \"%s\" active %s", srows[i].name, flink_phase_name(st->phase),
				 st->observed_commit ? st->observed_commit : "-", st->message ? st->message : "",
				 st->bluegreen.active ? st->bluegreen.active : "-");
		if (srows[i].observed)
			assert_string_equal(st->observed_commit, "c0ffee");
		assert_string_equal(st->source.path, git->source);
		if (!srows[i].forgotten) {
			assert_string_equal(st->bluegreen.state, deploy_bg_state_name(srows[i].state));
			assert_string_equal(st->bluegreen.blue_job, "b1");
			assert_null(st->bluegreen.green_job);
		}
		/* what is written reads back, and writes the same bytes */
		fo_buf a = FO_BUF_INIT, b = FO_BUF_INIT;
		flink_status_write(st, &a);
		flink_status *back = NULL;
		fo_err e = FO_ERR_INIT;
		if (flink_status_parse("s.yaml", fo_buf_cstr(&a), a.len, &back, &e) < 0)
			fail_msg("%s: does not read back: %s\n%s", srows[i].name, fo_err_msg(&e), fo_buf_cstr(&a));
		flink_status_write(back, &b);
		assert_string_equal(fo_buf_cstr(&a), fo_buf_cstr(&b));
		if (srows[i].retiring)
			assert_non_null(strstr(fo_buf_cstr(&a), "bluegreen:\n  state: ACTIVE_GREEN\n  active: green\n"
								"  blueJob: b1\n  startedFrom: s3://sp/savepoint-h\n"
								"  switchedAt: \"2026-12-07T12:00:00.000Z\"\n"));
		flink_status_free(back);
		flink_status_free(st);
		fo_buf_free(&a);
		fo_buf_free(&b);
		it.child_job[0] = it.started_from = it.switched_at = NULL;
		it.ns = it.name = NULL;
		deploy_bg_journal_clear(&it.journal);
	}
	flink_deployment_free(git);
	/* strict: an unknown key of the block is refused */
	static const char bad[] = "apiVersion: flinkops.io/v1alpha1\nkind: FlinkDeploymentStatus\n"
				  "metadata: {name: c, namespace: n}\nphase: Running\nbluegreen: {colour: blue}\n";
	flink_status *st = NULL;
	fo_err e = FO_ERR_INIT;
	assert_true(flink_status_parse("bad.yaml", bad, strlen(bad), &st, &e) < 0);
	assert_non_null(strstr(fo_err_msg(&e), "colour"));
	fo_err_clear(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_life),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_document_kept),
		cmocka_unit_test(test_children),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_journal_roundtrip),
		cmocka_unit_test(test_journal_strict),
		cmocka_unit_test(test_observe_child),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_ingress),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
