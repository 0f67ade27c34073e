/*
 * The blue/green decision (bluegreen.h): given git's template, the
 * blue/green journal and what the children's journals and Flink say, the one
 * next step, and what recording it writes into the journal. Pure; the
 * children's own rollouts (next.c) do everything that touches a job, so a
 * savepoint, a start from it and a final stop keep every rule of the rollout
 * engine, and this file only says which child runs which spec.
 */
#include "deploy/bluegreen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy/journal.h"
#include "flink/rest.h"
#include "flink/status.h"
#include "lib/buf.h"
#include "lib/duration.h"
#include "lib/json.h"
#include "lib/util.h"
#include "render/render.h"

/* The handover nonces: far above any a human writes, so that the one asked
 * for a transition is never one git's spec had or will have. */
#define BG_NONCE_BASE (INT64_C(1) << 62)

void deploy_bg_journal_clear(deploy_bg_journal *j)
{
	if (!j)
		return;
	free(j->active_target);
	free(j->active_spec);
	free(j->retiring_spec);
	free(j->next_target);
	free(j->handover_path);
	free(j->failed_target);
	free(j->error);
	memset(j, 0, sizeof(*j));
}

void deploy_bg_next_clear(deploy_bg_next *n)
{
	if (!n)
		return;
	free(n->why);
	memset(n, 0, sizeof(*n));
}

enum deploy_bg_colour deploy_bg_active(enum deploy_bg_state s)
{
	switch (s) {
	case DEPLOY_BG_ACTIVE_GREEN:
	case DEPLOY_BG_SAVEPOINTING_GREEN:
	case DEPLOY_BG_TRANSITIONING_TO_BLUE: /* green runs while blue starts */
		return DEPLOY_BG_GREEN;
	default:
		return DEPLOY_BG_BLUE;
	}
}

enum deploy_bg_colour deploy_bg_serving(const deploy_bg_journal *j)
{
	if (!j->active_target && j->state == DEPLOY_BG_TRANSITIONING_TO_GREEN)
		return DEPLOY_BG_GREEN;
	if (!j->active_target && j->state == DEPLOY_BG_TRANSITIONING_TO_BLUE)
		return DEPLOY_BG_BLUE;
	return deploy_bg_active(j->state);
}

bool deploy_bg_savepointing(enum deploy_bg_state s)
{
	return s == DEPLOY_BG_SAVEPOINTING_BLUE || s == DEPLOY_BG_SAVEPOINTING_GREEN;
}

bool deploy_bg_transitioning(enum deploy_bg_state s)
{
	return s == DEPLOY_BG_TRANSITIONING_TO_BLUE || s == DEPLOY_BG_TRANSITIONING_TO_GREEN;
}

static enum deploy_bg_colour other(enum deploy_bg_colour c)
{
	return c == DEPLOY_BG_BLUE ? DEPLOY_BG_GREEN : DEPLOY_BG_BLUE;
}

enum deploy_bg_state deploy_bg_state_of(enum deploy_bg_state kind, enum deploy_bg_colour c)
{
	bool blue = c == DEPLOY_BG_BLUE;
	if (deploy_bg_savepointing(kind))
		return blue ? DEPLOY_BG_SAVEPOINTING_BLUE : DEPLOY_BG_SAVEPOINTING_GREEN;
	if (deploy_bg_transitioning(kind))
		return blue ? DEPLOY_BG_TRANSITIONING_TO_BLUE : DEPLOY_BG_TRANSITIONING_TO_GREEN;
	return blue ? DEPLOY_BG_ACTIVE_BLUE : DEPLOY_BG_ACTIVE_GREEN;
}

/* upstream's names (FlinkBlueGreenDeploymentState), by enum value */
static const char *const bg_state_names[] = {
	"INITIALIZING_BLUE", "ACTIVE_BLUE", "ACTIVE_GREEN", "SAVEPOINTING_BLUE",
	"SAVEPOINTING_GREEN", "TRANSITIONING_TO_BLUE", "TRANSITIONING_TO_GREEN",
};

const char *deploy_bg_state_name(enum deploy_bg_state s)
{
	return (size_t)s < FO_ARRAY_LEN(bg_state_names) ? bg_state_names[s] : "?";
}

const char *deploy_bg_colour_name(enum deploy_bg_colour c)
{
	return c == DEPLOY_BG_BLUE ? "blue" : "green";
}

const char *deploy_bg_op_name(enum deploy_bg_op op)
{
	static const char *const names[] = {
		[DEPLOY_BG_OP_NONE] = "none",
		[DEPLOY_BG_OP_WAIT] = "wait",
		[DEPLOY_BG_OP_CREATE] = "create",
		[DEPLOY_BG_OP_PATCH] = "patch",
		[DEPLOY_BG_OP_SAVEPOINT] = "savepoint",
		[DEPLOY_BG_OP_TRANSITION] = "transition",
		[DEPLOY_BG_OP_FOLLOW] = "follow",
		[DEPLOY_BG_OP_HEALTHY] = "healthy",
		[DEPLOY_BG_OP_FINALIZE] = "finalize",
		[DEPLOY_BG_OP_CUTOVER] = "cutover",
		[DEPLOY_BG_OP_RETIRE] = "retire",
		[DEPLOY_BG_OP_ABORT] = "abort",
		[DEPLOY_BG_OP_CANCEL] = "cancel",
		[DEPLOY_BG_OP_FAIL] = "fail",
		[DEPLOY_BG_OP_DELETE] = "delete",
		[DEPLOY_BG_OP_FORGET] = "forget",
	};
	return (size_t)op < FO_ARRAY_LEN(names) && names[op] ? names[op] : "?";
}

const char *deploy_bg_diff_name(enum deploy_bg_diff d)
{
	static const char *const names[] = {
		[DEPLOY_BG_DIFF_IGNORE] = "IGNORE",
		[DEPLOY_BG_DIFF_PATCH_CHILD] = "PATCH_CHILD",
		[DEPLOY_BG_DIFF_SUSPEND] = "SUSPEND",
		[DEPLOY_BG_DIFF_RESUME] = "RESUME",
		[DEPLOY_BG_DIFF_SAVEPOINT_REDEPLOY] = "SAVEPOINT_REDEPLOY",
		[DEPLOY_BG_DIFF_TRANSITION] = "TRANSITION",
	};
	return (size_t)d < FO_ARRAY_LEN(names) && names[d] ? names[d] : "?";
}

/* A duration for a message: "250ms" under a second, else "45s", "3m04s". */
static const char *dur(int64_t ms, char out[32])
{
	if (ms >= 0 && ms < 1000)
		snprintf(out, 32, "%lldms", (long long)ms);
	else
		fo_duration_short(ms / 1000, out);
	return out;
}

static void set(deploy_bg_next *n, enum deploy_bg_op op, char *why)
{
	n->op = op;
	free(n->why);
	n->why = why;
}

/* How long ago `since_ms` was by the agent's clock, or -1 when that cannot
 * be known: no time recorded, no clock, or a clock that went back. */
static int64_t age_ms(int64_t now_ms, int64_t since_ms)
{
	return now_ms > 0 && since_ms > 0 && now_ms >= since_ms ? now_ms - since_ms : -1;
}

/* A failure is recorded once: while the journal already says it, the step
 * is NONE (a loop that writes the same error on every turn writes
 * nothing). */
static void fail_once(deploy_bg_next *n, const deploy_bg_journal *j, char *why)
{
	set(n, fo_streq(j->error, why) ? DEPLOY_BG_OP_NONE : DEPLOY_BG_OP_FAIL, why);
}

/* Whether the new child `c` has caught up: its first checkpoint completed
 * and its progress reached the old job's; without a progress signal, once
 * it has run catch_up_ms past the time it was first seen so (`healthy_age`,
 * -1 unknown). Upstream takes RUNNING once as ready, and cuts over while
 * the new job is still behind. */
static bool caught_up(const deploy_bg_desired *d, const deploy_bg_child *c, int64_t healthy_age)
{
	if (!c->healthy)
		return false;
	if (c->caught_up >= 0)
		return c->caught_up == 1;
	return healthy_age >= 0 && healthy_age >= d->catch_up_ms;
}

/* Why the new child is not ready yet, for WAIT and for an abort. */
static char *not_ready(const deploy_bg_desired *d, const deploy_bg_child *c, enum deploy_bg_colour col,
		       int64_t healthy_age)
{
	const char *name = deploy_bg_colour_name(col);
	if (!c->healthy)
		return fo_asprintf("%s has not completed its first checkpoint yet%s%s", name, c->problem ? ": " : "",
				   c->problem ? c->problem : "");
	char a[32], b[32];
	if (c->caught_up == 0 && c->progress_error)
		return fo_asprintf("%s runs, but its progress cannot be compared with the running job's: %s", name,
				   c->progress_error);
	if (c->caught_up == 0 && c->behind_ms >= 0)
		return fo_asprintf("%s runs, its watermarks %s behind the running job's (at most %s counts as caught up)",
				   name, dur(c->behind_ms, a), dur(d->max_lag_ms, b));
	if (c->caught_up == 0)
		return fo_asprintf("%s runs but shows no watermark yet where the running job has one", name);
	return fo_asprintf("%s runs; without an event-time signal it counts as caught up %s after its first "
			   "checkpoint (%s so far)",
			   name, dur(d->catch_up_ms, a), healthy_age >= 0 ? dur(healthy_age, b) : "unknown");
}

/* The gap from `cur` up to `old` (0 when cur is ahead), saturated. */
static int64_t gap_ms(int64_t old, int64_t cur)
{
	if (cur >= old)
		return 0;
	uint64_t g = (uint64_t)old - (uint64_t)cur;
	return g > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)g;
}

/* The furthest watermark of `w`: FLINK_NO_WATERMARK when none has one. */
static int64_t furthest(const flink_job_watermarks *w)
{
	int64_t best = FLINK_NO_WATERMARK;
	for (size_t i = 0; w && i < w->n; i++)
		if (w->v[i].watermark > best)
			best = w->v[i].watermark;
	return best;
}

int deploy_bg_progress(const flink_job_watermarks *old, const flink_job_watermarks *cur, int64_t max_lag_ms,
		       int64_t *behind_ms)
{
	*behind_ms = -1;
	if (furthest(old) == FLINK_NO_WATERMARK)
		return -1;
	int64_t worst = 0;
	bool common = false, missing = false;
	for (size_t i = 0; i < old->n; i++) {
		if (old->v[i].watermark == FLINK_NO_WATERMARK)
			continue;
		for (size_t k = 0; cur && k < cur->n; k++) {
			if (!fo_streq(old->v[i].id, cur->v[k].id))
				continue;
			common = true;
			if (cur->v[k].watermark == FLINK_NO_WATERMARK)
				missing = true;
			else if (gap_ms(old->v[i].watermark, cur->v[k].watermark) > worst)
				worst = gap_ms(old->v[i].watermark, cur->v[k].watermark);
		}
	}
	if (!common) {
		int64_t f = furthest(cur);
		if (f == FLINK_NO_WATERMARK)
			missing = true;
		else
			worst = gap_ms(furthest(old), f);
	}
	if (missing)
		return 0;
	if (worst > max_lag_ms) {
		*behind_ms = worst;
		return 0;
	}
	return 1;
}

static void transitioning(const deploy_bg_desired *d, const deploy_bg_journal *j, const deploy_bg_observed *o,
			  deploy_bg_next *n)
{
	enum deploy_bg_colour to = other(deploy_bg_active(j->state)), from = other(to);
	const deploy_bg_child *cn = &o->child[to];
	bool first = j->active_target == NULL; /* no child ran before this one */
	if (!first && fo_streq(d->target, j->active_target))
		return set(n, DEPLOY_BG_OP_CANCEL,
			   fo_asprintf("git asks for the spec %s runs again: %s is not needed", deploy_bg_colour_name(from),
				       deploy_bg_colour_name(to)));
	if (!first && d->suspended)
		return set(n, DEPLOY_BG_OP_CANCEL,
			   fo_asprintf("a suspend: the transition to %s is cancelled, then %s is suspended",
				       deploy_bg_colour_name(to), deploy_bg_colour_name(from)));
	if (!fo_streq(d->target, j->next_target))
		return set(n, DEPLOY_BG_OP_FOLLOW,
			   fo_asprintf("git moved on during the transition: %s takes the newer spec",
				       deploy_bg_colour_name(to)));
	if (first) {
		if (cn->healthy || (d->suspended && cn->suspended))
			return set(n, DEPLOY_BG_OP_FINALIZE, NULL);
		if (cn->failed)
			return fail_once(n, j, fo_asprintf("%s failed: %s", deploy_bg_colour_name(to),
							  cn->problem ? cn->problem : "its rollout failed"));
		return set(n, DEPLOY_BG_OP_WAIT, not_ready(d, cn, to, -1));
	}
	if (cn->failed)
		return set(n, DEPLOY_BG_OP_ABORT,
			   fo_asprintf("%s failed (%s); %s runs on", deploy_bg_colour_name(to),
				       cn->problem ? cn->problem : "its rollout failed", deploy_bg_colour_name(from)));
	if (cn->healthy && !j->healthy_ms && o->now_ms > 0)
		/* the fallback's clock starts now, recorded: a restarted agent
		 * counts from the same moment, never from its own start */
		return set(n, DEPLOY_BG_OP_HEALTHY, NULL);
	int64_t healthy_age = cn->healthy ? age_ms(o->now_ms, j->healthy_ms) : -1;
	if (caught_up(d, cn, healthy_age))
		return set(n, DEPLOY_BG_OP_CUTOVER, NULL);
	int64_t age = age_ms(o->now_ms, j->started_ms);
	if (age >= 0 && age > d->grace_ms) {
		char *why = not_ready(d, cn, to, healthy_age), g[32];
		set(n, DEPLOY_BG_OP_ABORT,
		    fo_asprintf("%s did not catch up within the abort grace period (%s): %s; it is removed and %s runs on",
				deploy_bg_colour_name(to), dur(d->grace_ms, g), why, deploy_bg_colour_name(from)));
		free(why);
		return;
	}
	set(n, DEPLOY_BG_OP_WAIT, not_ready(d, cn, to, healthy_age));
}

static void savepointing(const deploy_bg_desired *d, const deploy_bg_journal *j, const deploy_bg_observed *o,
			 deploy_bg_next *n)
{
	enum deploy_bg_colour x = deploy_bg_active(j->state);
	const deploy_bg_child *cx = &o->child[x];
	if (d->diff != DEPLOY_BG_DIFF_TRANSITION)
		/* the change that needed the savepoint is gone (reverted, or now
		 * one applied in place); a savepoint taken stays as any other */
		return set(n, DEPLOY_BG_OP_CANCEL,
			   fo_asprintf("git no longer asks for a new job (%s): no transition", deploy_bg_diff_name(d->diff)));
	if (cx->sp_nonce == j->handover_nonce && j->handover_nonce) {
		if (cx->sp_path && o->child[other(x)].live)
			/* never started over a child of that name still there */
			return set(n, DEPLOY_BG_OP_WAIT,
				   fo_asprintf("%s still exists; the transition to it begins once it is gone",
					       deploy_bg_colour_name(other(x))));
		if (cx->sp_path) {
			n->restore = cx->sp_path;
			return set(n, DEPLOY_BG_OP_TRANSITION, NULL);
		}
		return set(n, DEPLOY_BG_OP_ABORT,
			   fo_asprintf("the savepoint of %s for the transition failed (%s); %s runs on",
				       deploy_bg_colour_name(x), cx->sp_failure ? cx->sp_failure : "no savepoint",
				       deploy_bg_colour_name(x)));
	}
	if (cx->failed)
		return set(n, DEPLOY_BG_OP_ABORT,
			   fo_asprintf("%s failed while taking the savepoint for the transition (%s)",
				       deploy_bg_colour_name(x), cx->problem ? cx->problem : "its rollout failed"));
	set(n, DEPLOY_BG_OP_WAIT,
	    fo_asprintf("%s takes the savepoint the new job starts from; it runs on", deploy_bg_colour_name(x)));
}

static void active(const deploy_bg_desired *d, const deploy_bg_journal *j, const deploy_bg_observed *o,
		   deploy_bg_next *n)
{
	enum deploy_bg_colour x = deploy_bg_active(j->state), y = other(x);
	const deploy_bg_child *cx = &o->child[x], *cy = &o->child[y];
	if (j->retiring) {
		/* the old colour is removed once its stop has recorded its state
		 * and the deletion delay has passed; never before its stop */
		int64_t age = age_ms(o->now_ms, j->retired_ms);
		if (!cy->live || (cy->suspended && age >= 0 && age >= d->delay_ms))
			return set(n, DEPLOY_BG_OP_RETIRE, NULL);
	}
	switch (d->diff) {
	case DEPLOY_BG_DIFF_IGNORE:
		if (j->error || j->failed_target)
			/* git went back to what runs: nothing is failing any more */
			return set(n, DEPLOY_BG_OP_CANCEL, NULL);
		if (j->retiring) {
			char g[32];
			return set(n, DEPLOY_BG_OP_WAIT,
				   fo_asprintf("%s stops with a savepoint and is removed %s after the cut-over",
					       deploy_bg_colour_name(y), dur(d->delay_ms, g)));
		}
		return set(n, DEPLOY_BG_OP_NONE, NULL);
	case DEPLOY_BG_DIFF_PATCH_CHILD:
	case DEPLOY_BG_DIFF_SUSPEND:
	case DEPLOY_BG_DIFF_RESUME:
		return set(n, DEPLOY_BG_OP_PATCH, NULL);
	case DEPLOY_BG_DIFF_SAVEPOINT_REDEPLOY:
	case DEPLOY_BG_DIFF_TRANSITION:
		break;
	}
	if (cx->suspended && !cx->healthy)
		/* nothing runs to stand beside: the change waits in the suspended
		 * child, and a resume starts it from its suspend savepoint */
		return set(n, DEPLOY_BG_OP_PATCH, NULL);
	if (cx->failed)
		/* nothing healthy to hand over from: git's spec reaches the
		 * failed child in place, started by its own rollout from its
		 * newest state (upstream leaves it failed until a second edit) */
		return set(n, DEPLOY_BG_OP_PATCH,
			   fo_asprintf("%s failed: the new spec is applied to it in place, from its newest state",
				       deploy_bg_colour_name(x)));
	if (fo_streq(d->target, j->failed_target))
		return set(n, DEPLOY_BG_OP_NONE, NULL); /* that attempt failed; a new spec is a new attempt */
	if (j->retiring || cy->live)
		return set(n, DEPLOY_BG_OP_WAIT,
			   fo_asprintf("%s is still being removed; the transition begins once it is gone",
				       deploy_bg_colour_name(y)));
	if (!cx->healthy)
		return set(n, DEPLOY_BG_OP_WAIT,
			   fo_asprintf("%s is not running healthy yet%s%s; the transition begins once it is",
				       deploy_bg_colour_name(x), cx->problem ? ": " : "", cx->problem ? cx->problem : ""));
	if (d->diff == DEPLOY_BG_DIFF_SAVEPOINT_REDEPLOY) {
		n->restore = d->initial_savepoint; /* a human's choice, not the running job's state */
		return set(n, DEPLOY_BG_OP_TRANSITION, NULL);
	}
	if (d->stateless)
		return set(n, DEPLOY_BG_OP_TRANSITION, NULL); /* upgradeMode stateless: empty state, as asked */
	set(n, DEPLOY_BG_OP_SAVEPOINT, NULL);
}

void deploy_bg_observe_child(const deploy_journal *cj, bool objects, const char *target, int caught_up,
			     deploy_bg_child *out)
{
	memset(out, 0, sizeof(*out));
	out->caught_up = caught_up;
	out->behind_ms = -1;
	out->live = cj || objects;
	if (!cj) {
		out->suspended = objects; /* objects, never started */
		return;
	}
	bool settled = cj->step == DEPLOY_STEP_IDLE;
	out->failed = cj->step == DEPLOY_STEP_FAILED && (!cj->failed_hash || !target || fo_streq(cj->failed_hash, target));
	out->healthy = settled && cj->job_id && !cj->await_checkpoint_since && target && fo_streq(cj->target_hash, target);
	out->suspended = settled && !cj->job_id;
	out->problem = cj->last_error;
	if (cj->handled_nonce) {
		char *end = NULL;
		errno = 0;
		long long v = strtoll(cj->handled_nonce, &end, 10);
		/* the rollout journal's decoder checked it; a nonce that does not
		 * read is no answer to any handover */
		out->sp_nonce = errno || end == cj->handled_nonce || *end ? 0 : v;
	}
	if (out->sp_nonce) {
		out->sp_failure = cj->savepoint_error;
		out->sp_path = cj->savepoint_error ? NULL : cj->savepoint_path;
	}
}

void deploy_bg_next_step(const deploy_bg_desired *d, const deploy_bg_journal *j, const deploy_bg_observed *o,
			 deploy_bg_next *n)
{
	memset(n, 0, sizeof(*n));
	if (!o->known)
		return set(n, DEPLOY_BG_OP_WAIT, fo_strdup("the children's journals could not be read"));
	if (d->deleting) {
		bool any = o->child[DEPLOY_BG_BLUE].live || o->child[DEPLOY_BG_GREEN].live;
		return set(n, any ? DEPLOY_BG_OP_DELETE : DEPLOY_BG_OP_FORGET, NULL);
	}
	if (j->state == DEPLOY_BG_INITIALIZING_BLUE) {
		if (d->suspended)
			return set(n, DEPLOY_BG_OP_NONE, NULL); /* nothing is created while suspended */
		n->restore = d->initial_savepoint;
		return set(n, DEPLOY_BG_OP_CREATE, NULL);
	}
	if (deploy_bg_transitioning(j->state))
		return transitioning(d, j, o, n);
	if (deploy_bg_savepointing(j->state))
		return savepointing(d, j, o, n);
	active(d, j, o, n);
}

void deploy_bg_record(deploy_bg_journal *j, const deploy_bg_desired *d, const deploy_bg_next *n, int64_t now_ms)
{
	enum deploy_bg_colour x = deploy_bg_active(j->state);
	switch (n->op) {
	case DEPLOY_BG_OP_NONE:
	case DEPLOY_BG_OP_WAIT:
	case DEPLOY_BG_OP_DELETE:
		break;
	case DEPLOY_BG_OP_CREATE:
		j->state = DEPLOY_BG_TRANSITIONING_TO_BLUE;
		deploy_journal_set(&j->next_target, d->target);
		deploy_journal_set(&j->handover_path, n->restore);
		j->started_ms = now_ms;
		break;
	case DEPLOY_BG_OP_PATCH:
		deploy_journal_set(&j->active_target, d->target);
		deploy_journal_set(&j->active_spec, d->spec_text);
		/* a failed child patched in place is named for this step; the
		 * next, git's spec being the one it runs (IGNORE), clears it by
		 * CANCEL, and the child's own status says how it fares */
		deploy_journal_set(&j->error, n->why);
		deploy_journal_set(&j->failed_target, NULL);
		break;
	case DEPLOY_BG_OP_SAVEPOINT:
		j->state = deploy_bg_state_of(DEPLOY_BG_SAVEPOINTING_BLUE, x);
		j->generation++;
		j->handover_nonce = BG_NONCE_BASE + j->generation;
		j->handover_git_nonce = d->savepoint_nonce;
		deploy_journal_set(&j->error, NULL);
		break;
	case DEPLOY_BG_OP_TRANSITION:
		j->state = deploy_bg_state_of(DEPLOY_BG_TRANSITIONING_TO_BLUE, other(x));
		deploy_journal_set(&j->next_target, d->target);
		deploy_journal_set(&j->handover_path, n->restore);
		j->started_ms = now_ms;
		j->healthy_ms = 0;
		deploy_journal_set(&j->error, NULL);
		break;
	case DEPLOY_BG_OP_FOLLOW:
		deploy_journal_set(&j->next_target, d->target);
		j->started_ms = now_ms;
		j->healthy_ms = 0; /* the newer spec's first checkpoint is still to come */
		break;
	case DEPLOY_BG_OP_HEALTHY:
		j->healthy_ms = now_ms;
		break;
	case DEPLOY_BG_OP_FINALIZE:
	case DEPLOY_BG_OP_CUTOVER:
		/* TRANSITIONING_TO_c: c becomes active */
		j->state = deploy_bg_state_of(DEPLOY_BG_ACTIVE_BLUE, other(x));
		if (n->op == DEPLOY_BG_OP_CUTOVER) {
			/* the old colour stops with the spec it ran */
			free(j->retiring_spec);
			j->retiring_spec = j->active_spec;
			j->active_spec = NULL;
		}
		/* FOLLOW keeps next_target git's: this is git's document */
		deploy_journal_set(&j->active_spec, d->spec_text);
		deploy_journal_set(&j->active_target, j->next_target);
		deploy_journal_set(&j->next_target, NULL);
		deploy_journal_set(&j->error, NULL);
		deploy_journal_set(&j->failed_target, NULL);
		j->started_ms = j->healthy_ms = 0;
		if (n->op == DEPLOY_BG_OP_CUTOVER) {
			j->retiring = true;
			j->retired_ms = now_ms;
		}
		break;
	case DEPLOY_BG_OP_RETIRE:
		j->retiring = false;
		deploy_journal_set(&j->retiring_spec, NULL);
		j->retired_ms = 0;
		j->handover_nonce = j->handover_git_nonce = 0;
		deploy_journal_set(&j->handover_path, NULL);
		break;
	case DEPLOY_BG_OP_ABORT:
	case DEPLOY_BG_OP_CANCEL:
		/* back to the colour that ran before the step */
		j->state = deploy_bg_state_of(DEPLOY_BG_ACTIVE_BLUE, x);
		deploy_journal_set(&j->failed_target, n->op == DEPLOY_BG_OP_ABORT ? (j->next_target ? j->next_target : d->target) : NULL);
		deploy_journal_set(&j->error, n->op == DEPLOY_BG_OP_ABORT ? n->why : NULL);
		deploy_journal_set(&j->next_target, NULL);
		j->started_ms = j->healthy_ms = 0;
		break;
	case DEPLOY_BG_OP_FAIL:
		deploy_journal_set(&j->error, n->why);
		break;
	case DEPLOY_BG_OP_FORGET:
		deploy_bg_journal_clear(j);
		break;
	}
}

enum deploy_bg_diff deploy_bg_diff(const flink_deployment *active, const char *active_template,
				   const flink_deployment *git, const char *git_template)
{
	bool was = active->job.state == FLINK_STATE_SUSPENDED, now = git->job.state == FLINK_STATE_SUSPENDED;
	if (now && !was)
		return DEPLOY_BG_DIFF_SUSPEND;
	if (was && !now)
		return DEPLOY_BG_DIFF_RESUME;
	if (git->job.savepoint_redeploy_nonce && git->job.savepoint_redeploy_nonce != active->job.savepoint_redeploy_nonce)
		return DEPLOY_BG_DIFF_SAVEPOINT_REDEPLOY;
	if (fo_streq(active_template, git_template))
		return DEPLOY_BG_DIFF_IGNORE;
	char *a = render_target_hash_of(active), *g = render_target_hash_of(git);
	enum deploy_bg_diff d = a && g && strcmp(a, g) == 0 ? DEPLOY_BG_DIFF_PATCH_CHILD : DEPLOY_BG_DIFF_TRANSITION;
	free(a);
	free(g);
	return d;
}

/* A transactional id prefix the template gives both colours alike (an
 * argument or a Flink option whose name says so), or NULL. */
static const char *shared_transactional_prefix(const flink_deployment *fd, const char **where)
{
	for (size_t i = 0; i < fd->job.nargs; i++) {
		const char *a = fd->job.args[i];
		if (!strstr(a, "transactional-id-prefix") && !strstr(a, "transactional.id"))
			continue;
		*where = "spec.template.spec.job.args";
		const char *eq = strchr(a, '=');
		if (eq)
			return eq + 1;
		return i + 1 < fd->job.nargs ? fd->job.args[i + 1] : a;
	}
	for (size_t i = 0; i < fd->conf.n; i++)
		if (strstr(fd->conf.v[i].key, "transactional-id-prefix") || strstr(fd->conf.v[i].key, "transactional.id")) {
			*where = fd->conf.v[i].key;
			return fd->conf.v[i].value;
		}
	return NULL;
}

char *deploy_bg_plan(const flink_deployment *from, const flink_deployment *to)
{
	const flink_deployment *b = to ? to : from;
	if (!b || !b->bg || !b->bg->child[0] || !b->bg->child[1])
		return NULL;
	const char *blue = b->bg->child[0]->name, *green = b->bg->child[1]->name;
	if (!to)
		return fo_asprintf("deleted: the running colour stops with a final savepoint, then the objects of %s "
				   "and %s are deleted",
				   blue, green);
	const flink_deployment *nb = to->bg->child[0];
	char g[32], dl[32], cu[32], ml[32];
	dur(to->bg->grace_ms, g);
	dur(to->bg->delay_ms, dl);
	dur(to->bg->catch_up_ms, cu);
	dur(to->bg->max_lag_ms, ml);
	if (!from) {
		const char *sp = nb->job.initial_savepoint_path;
		return fo_asprintf("created: %s starts %s%s; an upgrade later starts %s beside it and switches once the "
				   "new job has caught up%s%s%s",
				   blue, sp ? "from job.initialSavepointPath " : "with empty state", sp ? sp : "", green,
				   to->bg->ingress ? "; the Ingress " : "", to->bg->ingress ? to->name : "",
				   to->bg->ingress ? " routes to the colour that runs, and moves at each switch" : "");
	}
	if (!from->bg || !from->bg->child[0])
		return NULL;
	enum deploy_bg_diff diff = deploy_bg_diff(from->bg->child[0], from->bg->template_hash, nb, to->bg->template_hash);
	fo_buf o = FO_BUF_INIT;
	const flink_ingress *ia = from->bg->ingress, *ib = to->bg->ingress;
	const char *ingress = NULL;
	if (!ia != !ib || (ia && ib && (!fo_streq(ia->template, ib->template) || !fo_streq(ia->class_name, ib->class_name))))
		ingress = !ib ? "its Ingress is deleted (under the prune's guards, as an object gone from git)"
		      : !ia ? "its Ingress is created, to the colour that runs"
			    : "its Ingress changes";
	switch (diff) {
	case DEPLOY_BG_DIFF_IGNORE:
		if (from->bg->grace_ms != to->bg->grace_ms || from->bg->delay_ms != to->bg->delay_ms ||
		    from->bg->catch_up_ms != to->bg->catch_up_ms || from->bg->reschedule_ms != to->bg->reschedule_ms ||
		    from->bg->max_lag_ms != to->bg->max_lag_ms)
			fo_buf_printf(&o, "its blue/green settings change (abort grace period %s, deletion delay %s, "
					  "catch-up fallback %s, catch-up max-lag %s); no job is touched",
				      g, dl, cu, ml);
		break;
	case DEPLOY_BG_DIFF_PATCH_CHILD:
		fo_buf_printf(&o, "in place on the running colour (%s or %s); its job keeps running", blue, green);
		break;
	case DEPLOY_BG_DIFF_SUSPEND:
		fo_buf_printf(&o, "suspend: the running colour's job stops (upgradeMode %s) and its pods go",
			      flink_upgrade_mode_name(nb->job.upgrade_mode));
		break;
	case DEPLOY_BG_DIFF_RESUME:
		fo_buf_printf(&o, "resume: the suspended colour starts again from the state it stopped with");
		break;
	case DEPLOY_BG_DIFF_SAVEPOINT_REDEPLOY:
	case DEPLOY_BG_DIFF_TRANSITION: {
		bool redeploy = diff == DEPLOY_BG_DIFF_SAVEPOINT_REDEPLOY;
		bool stateless = nb->job.upgrade_mode == FLINK_UPGRADE_STATELESS;
		if (redeploy)
			fo_buf_printf(&o, "a new job: the idle colour starts beside the running one from "
					  "job.initialSavepointPath %s (savepointRedeployNonce: a human's choice, not the "
					  "running job's state)",
				      nb->job.initial_savepoint_path ? nb->job.initial_savepoint_path : "(none: empty state)");
		else if (stateless)
			fo_buf_printf(&o, "a new job: the idle colour starts beside the running one with empty state "
					  "(upgradeMode stateless)");
		else
			fo_buf_printf(&o, "a new job: the running colour takes a savepoint and runs on; the idle colour "
					  "starts from that savepoint beside it");
		fo_buf_printf(&o, "; the switch comes once the new job has completed a checkpoint and caught up (its "
				  "watermarks within %s of the running job's, or %s after that checkpoint without event "
				  "time), within %s, or the new "
				  "colour is removed and the running one stays; then the old job stops with a savepoint "
				  "and its cluster goes %s later. Overlap: until the switch both jobs run and both write to "
				  "the sinks, so what the new job replays from its savepoint is written twice; an "
				  "exactly-once sink needs a transactional id prefix of its own per colour",
			      ml, cu, g, dl);
		if (to->bg->ingress)
			fo_buf_printf(&o, ". The Ingress %s moves to the new colour's REST Service at the switch", to->name);
		const char *where = NULL, *prefix = shared_transactional_prefix(nb, &where);
		if (prefix)
			fo_buf_printf(&o, ". Warning: %s gives both colours the transactional id prefix \"%s\": their "
					  "transactions fence each other",
				      where, prefix);
		break;
	}
	}
	if (ingress)
		fo_buf_printf(&o, "%s%s", o.len ? "; " : "", ingress);
	return o.len ? fo_buf_detach(&o) : (fo_buf_free(&o), NULL);
}

/* ---- the journal's record ---- */

#define BG_STRINGS(X)                        \
	X("activeTarget", active_target)     \
	X("nextTarget", next_target)         \
	X("handoverPath", handover_path)     \
	X("failedTarget", failed_target)     \
	X("error", error)
#define BG_TIMES(X)                  \
	X("startedAt", started_ms)   \
	X("retiredAt", retired_ms)   \
	X("healthyAt", healthy_ms)
#define BG_NONCES(X)                              \
	X("handoverNonce", handover_nonce)        \
	X("handoverGitNonce", handover_git_nonce)
#define BG_SPECS(X)                          \
	X("activeSpec", active_spec)         \
	X("retiringSpec", retiring_spec)

/* ms since the epoch as RFC 3339 with milliseconds, in UTC (none at 0) */
static void add_time(cJSON *o, const char *key, int64_t ms)
{
	char buf[40];
	if (!ms)
		return;
	deploy_time_text(ms, buf);
	cJSON_AddStringToObject(o, key, buf);
}

char *deploy_bg_journal_encode(const deploy_bg_journal *j)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "version", DEPLOY_BG_VERSION);
	cJSON_AddStringToObject(o, "state", deploy_bg_state_name(j->state));
#define ENC(k, f)            \
	if (j->f)            \
		cJSON_AddStringToObject(o, k, j->f);
	BG_STRINGS(ENC)
	BG_SPECS(ENC)
#undef ENC
#define ENC_TIME(k, f) add_time(o, k, j->f);
	BG_TIMES(ENC_TIME)
#undef ENC_TIME
	/* as decimal strings: a nonce is a 64-bit integer, beyond what a JSON
	 * number carries exactly */
#define ENC_NONCE(k, f)                                                   \
	if (j->f) {                                                       \
		char nb[32];                                              \
		snprintf(nb, sizeof(nb), "%lld", (long long)j->f);        \
		cJSON_AddStringToObject(o, k, nb);                        \
	}
	BG_NONCES(ENC_NONCE)
#undef ENC_NONCE
	if (j->retiring)
		cJSON_AddBoolToObject(o, "retiring", true);
	if (j->generation)
		cJSON_AddNumberToObject(o, "generation", (double)j->generation);
	fo_buf b = FO_BUF_INIT;
	fo_json_canonical(&b, o);
	cJSON_Delete(o);
	return fo_buf_detach(&b);
}

#define KEY(k, f) k,
static const char *const bg_keys[] = {"version", "state", "retiring", "generation", BG_STRINGS(KEY) BG_SPECS(KEY)
					      BG_TIMES(KEY) BG_NONCES(KEY)};
#undef KEY

/* A spec document `key` of `o` into *out (absent: NULL), at most DEPLOY_BG_SPEC_MAX bytes. */
static int get_spec(const cJSON *o, const char *key, char **out, fo_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v)
		return 0;
	if (!cJSON_IsString(v))
		return fo_err_set(e, FO_EINVAL, "%s: %s where a string belongs", key, deploy_json_kind(v));
	if (strlen(v->valuestring) > DEPLOY_BG_SPEC_MAX)
		return fo_err_set(e, FO_EINVAL, "%s: %zu bytes, more than the %d a spec may have", key,
				  strlen(v->valuestring), DEPLOY_BG_SPEC_MAX);
	*out = fo_strdup(v->valuestring);
	return 0;
}

static int get_time(const cJSON *o, const char *key, int64_t *out, fo_err *e)
{
	char *s = NULL;
	int rc = deploy_json_get_string(o, "", key, false, &s, e);
	if (rc == 0 && s && (*out = deploy_time_ms(s)) <= 0)
		rc = fo_err_set(e, FO_EINVAL, "%s: \"%s\" is not an RFC 3339 time", key, s);
	free(s);
	return rc;
}

static int get_nonce(const cJSON *o, const char *key, int64_t *out, fo_err *e)
{
	char *s = NULL, *end = NULL;
	int rc = deploy_json_get_string(o, "", key, false, &s, e);
	if (rc == 0 && s) {
		errno = 0;
		long long v = strtoll(s, &end, 10);
		if (errno || end == s || *end)
			rc = fo_err_set(e, FO_EINVAL, "%s: \"%s\" is not a whole number", key, s);
		*out = v;
	}
	free(s);
	return rc;
}

int deploy_bg_journal_decode(const char *text, deploy_bg_journal *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	cJSON *o = cJSON_ParseWithOpts(text ? text : "", NULL, true);
	int rc = 0;
	char format[40];
	snprintf(format, sizeof(format), "blue/green journal format %d", DEPLOY_BG_VERSION);
	if (!cJSON_IsObject(o)) {
		rc = fo_err_set(e, FO_EINVAL, "the blue/green journal is not a JSON object");
		goto cleanup;
	}
	int version = 0;
	if ((rc = deploy_json_version(o, "the blue/green journal", DEPLOY_BG_VERSION, &version, e)) < 0)
		goto cleanup;
	if ((rc = deploy_json_check_keys(o, "", bg_keys, FO_ARRAY_LEN(bg_keys), format, e)) < 0)
		goto cleanup;
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "state");
	bool known = false;
	for (size_t i = 0; cJSON_IsString(st) && i < FO_ARRAY_LEN(bg_state_names); i++)
		if (strcmp(st->valuestring, bg_state_names[i]) == 0) {
			out->state = (enum deploy_bg_state)i;
			known = true;
		}
	if (!known) {
		rc = fo_err_set(e, FO_EINVAL, "state: %s is not a blue/green state",
				cJSON_IsString(st) ? st->valuestring : deploy_json_kind(st));
		goto cleanup;
	}
#define DEC(k, f)    \
	if (rc == 0) \
		rc = deploy_json_get_string(o, "", k, strcmp(k, "error") == 0, &out->f, e);
	BG_STRINGS(DEC)
#undef DEC
#define DEC_SPEC(k, f) \
	if (rc == 0)   \
		rc = get_spec(o, k, &out->f, e);
	BG_SPECS(DEC_SPEC)
#undef DEC_SPEC
#define DEC_TIME(k, f) \
	if (rc == 0)   \
		rc = get_time(o, k, &out->f, e);
	BG_TIMES(DEC_TIME)
#undef DEC_TIME
#define DEC_NONCE(k, f) \
	if (rc == 0)    \
		rc = get_nonce(o, k, &out->f, e);
	BG_NONCES(DEC_NONCE)
#undef DEC_NONCE
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "retiring");
	if (rc == 0 && r && !cJSON_IsBool(r))
		rc = fo_err_set(e, FO_EINVAL, "retiring: %s where true or false belongs", deploy_json_kind(r));
	out->retiring = cJSON_IsTrue(r);
	int gen = 0;
	if (rc == 0)
		rc = deploy_json_get_counter(o, "", "generation", &gen, e);
	out->generation = gen;
	/* what each state needs, so that a decision never reads what is not there */
	bool active = out->state != DEPLOY_BG_INITIALIZING_BLUE;
	if (rc == 0 && deploy_bg_transitioning(out->state) && (!out->next_target || !out->started_ms))
		rc = fo_err_set(e, FO_EINVAL, "state %s without nextTarget and startedAt", deploy_bg_state_name(out->state));
	if (rc == 0 && active && !deploy_bg_transitioning(out->state) && (!out->active_target || !out->active_spec))
		rc = fo_err_set(e, FO_EINVAL, "state %s without activeTarget and activeSpec",
				deploy_bg_state_name(out->state));
	if (rc == 0 && out->healthy_ms && !deploy_bg_transitioning(out->state))
		rc = fo_err_set(e, FO_EINVAL, "healthyAt in state %s, outside a transition", deploy_bg_state_name(out->state));
	if (rc == 0 && deploy_bg_savepointing(out->state) && !out->handover_nonce)
		rc = fo_err_set(e, FO_EINVAL, "state %s without handoverNonce", deploy_bg_state_name(out->state));
	if (rc == 0 && out->retiring && (!out->retiring_spec || !out->retired_ms))
		rc = fo_err_set(e, FO_EINVAL, "retiring without retiringSpec and retiredAt");
	if (rc == 0 && !!out->active_target != !!out->active_spec)
		rc = fo_err_set(e, FO_EINVAL, "activeTarget and activeSpec go together");
cleanup:
	cJSON_Delete(o);
	if (rc < 0)
		deploy_bg_journal_clear(out);
	return rc;
}

/* Child `c` of the FlinkBlueGreenDeployment `text` keeps (the journal of
 * `ns`/`name`), or NULL with `e` set. */
static flink_deployment *kept_child(const char *text, const char *ns, const char *name, enum deploy_bg_colour c,
				    fo_err *e)
{
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	char *label = fo_asprintf("the blue/green journal of %s/%s", ns, name);
	flink_load_buffer(label, text, strlen(text), &v, NULL, &d);
	flink_deployment *child = NULL;
	for (size_t i = 0; i < v.n && !child; i++) {
		flink_deployment *b = v.v[i];
		if (b->bg && fo_streq(b->name, name) && fo_streq(b->namespace, ns) && b->bg->child[c]) {
			child = b->bg->child[c];
			b->bg->child[c] = NULL;
		}
	}
	if (!child)
		fo_err_set(e, FO_EINVAL, "%s keeps a document that does not read back as it (%s)", label,
			   d.n ? d.v[0].msg : "no such resource in it");
	free(label);
	flink_deployments_free(&v);
	fo_diags_free(&d);
	return child;
}

int deploy_bg_desired_of(const flink_deployment *git, const deploy_bg_journal *j, deploy_bg_desired *d, fo_err *e)
{
	memset(d, 0, sizeof(*d));
	if (!git || !git->bg) {
		d->deleting = true;
		return 0;
	}
	const flink_bluegreen *bg = git->bg;
	const flink_deployment *t = bg->child[DEPLOY_BG_BLUE];
	d->suspended = t->job.state == FLINK_STATE_SUSPENDED;
	d->stateless = t->job.upgrade_mode == FLINK_UPGRADE_STATELESS;
	d->target = bg->template_hash;
	d->spec_text = bg->doc_text;
	d->initial_savepoint = t->job.initial_savepoint_path;
	d->savepoint_nonce = t->job.savepoint_trigger_nonce;
	d->grace_ms = bg->grace_ms;
	d->delay_ms = bg->delay_ms;
	d->catch_up_ms = bg->catch_up_ms;
	d->max_lag_ms = bg->max_lag_ms;
	d->diff = DEPLOY_BG_DIFF_TRANSITION; /* nothing runs yet: a first child */
	if (j->active_spec) {
		enum deploy_bg_colour x = deploy_bg_active(j->state);
		flink_deployment *kept = kept_child(j->active_spec, git->namespace, git->name, x, e);
		if (!kept)
			return FO_EINVAL;
		d->diff = deploy_bg_diff(kept, j->active_target, bg->child[x], bg->template_hash);
		flink_deployment_free(kept);
	}
	return 0;
}

static void append(flink_deployments *out, flink_deployment *fd)
{
	out->v = fo_grow(out->v, &out->cap, out->n + 1, sizeof(*out->v));
	out->v[out->n++] = fd;
}

int deploy_bg_children(const flink_deployment *git, const deploy_bg_journal *j, flink_deployments *out, fo_err *e)
{
	if (!git || !git->bg || j->state == DEPLOY_BG_INITIALIZING_BLUE)
		return 0;
	const char *ns = git->namespace, *name = git->name;
	enum deploy_bg_colour x = deploy_bg_active(j->state), y = other(x);
	flink_deployment *kids[2] = {NULL, NULL};
	/* the colour that took the handover savepoint keeps its nonce */
	enum deploy_bg_colour with_nonce = j->retiring ? y : x;
	if (j->active_spec && !(kids[x] = kept_child(j->active_spec, ns, name, x, e)))
		return FO_EINVAL;
	if (deploy_bg_transitioning(j->state)) {
		/* the new colour: git's template, from the state recorded for it */
		flink_deployments v = {0};
		fo_diags d = FO_DIAGS_INIT;
		const char *text = git->bg->doc_text;
		flink_load_buffer(git->source, text ? text : "", text ? strlen(text) : 0, &v, NULL, &d);
		for (size_t i = 0; i < v.n && !kids[y]; i++)
			if (v.v[i]->bg && fo_streq(v.v[i]->name, name) && v.v[i]->bg->child[y]) {
				kids[y] = v.v[i]->bg->child[y];
				v.v[i]->bg->child[y] = NULL;
			}
		flink_deployments_free(&v);
		fo_diags_free(&d);
		if (!kids[y]) {
			flink_deployment_free(kids[x]);
			return fo_err_set(e, FO_EINVAL, "%s/%s: git's document does not read back as it", ns, name);
		}
		free(kids[y]->job.initial_savepoint_path);
		kids[y]->job.initial_savepoint_path = j->handover_path ? fo_strdup(j->handover_path) : NULL;
	} else if (j->retiring && j->retiring_spec) {
		if (!(kids[y] = kept_child(j->retiring_spec, ns, name, y, e))) {
			flink_deployment_free(kids[x]);
			return FO_EINVAL;
		}
		kids[y]->job.state = FLINK_STATE_SUSPENDED; /* it stops with a savepoint, then goes */
	}
	flink_deployment *k = kids[with_nonce];
	if (k && j->handover_nonce && k->job.savepoint_trigger_nonce == j->handover_git_nonce)
		k->job.savepoint_trigger_nonce = j->handover_nonce;
	for (int c = 0; c < 2; c++)
		if (kids[c])
			append(out, kids[c]);
	return 0;
}

void deploy_bg_status_update(struct flink_status *st, const deploy_bg_item *it, const char *blob, const char *commit)
{
	const flink_deployment *git = it->git;
	const deploy_bg_journal *j = &it->journal;
	/* the source commit moves only when the manifest does: the agent's
	 * own status commits are no news */
	if (git && (!st->source.commit || !fo_streq(st->source.blob, blob) || !fo_streq(st->source.path, git->source))) {
		flink_status_set(&st->source.path, git->source);
		flink_status_set(&st->source.blob, blob);
		flink_status_set(&st->source.commit, commit);
	}
	commit = st->source.commit;
	enum deploy_bg_colour x = deploy_bg_active(j->state), y = other(x);
	const char *cx = deploy_bg_colour_name(x), *cy = deploy_bg_colour_name(y);
	char *msg = NULL;
	if (it->forgotten) {
		st->phase = FLINK_PHASE_DELETED;
		msg = fo_strdup("gone from git: its children stopped with a final savepoint and were removed");
	} else if (it->error) {
		st->phase = FLINK_PHASE_FAILED;
		msg = fo_strdup(it->error);
	} else if (!git) {
		/* gone from git, or its file does not read this pass: the prune
		 * guards decide when its children go */
		msg = fo_strdup("not among git's valid manifests: its children stop with a final savepoint and are removed "
				"once the pass may delete (never while a manifest has problems)");
	} else if (j->error) {
		/* an abort (or a failure of the first colour): recorded once, the
		 * same until git's spec changes */
		st->phase = FLINK_PHASE_FAILED;
		msg = fo_strdup(j->error);
	} else if (j->state == DEPLOY_BG_INITIALIZING_BLUE) {
		st->phase = git->bg->child[0]->job.state == FLINK_STATE_SUSPENDED ? FLINK_PHASE_SUSPENDED : FLINK_PHASE_PENDING;
		msg = st->phase == FLINK_PHASE_SUSPENDED ? fo_strdup("suspended: no colour is created") : NULL;
	} else if (deploy_bg_transitioning(j->state) && !j->active_target) {
		st->phase = FLINK_PHASE_DEPLOYING;
		msg = fo_asprintf("%s starts", cy);
	} else if (deploy_bg_savepointing(j->state)) {
		st->phase = FLINK_PHASE_UPGRADING;
		msg = fo_asprintf("%s takes the savepoint the new job starts from, and runs on", cx);
	} else if (deploy_bg_transitioning(j->state)) {
		st->phase = FLINK_PHASE_UPGRADING;
		msg = j->handover_path ? fo_asprintf("%s starts beside %s from %s; the switch comes once it has caught up", cy,
						     cx, j->handover_path)
				       : fo_asprintf("%s starts beside %s from empty state; the switch comes once it has "
						     "caught up",
						     cy, cx);
	} else if (git->bg->child[0]->job.state == FLINK_STATE_SUSPENDED && fo_streq(j->active_target, git->bg->template_hash)) {
		st->phase = FLINK_PHASE_SUSPENDED;
		msg = fo_asprintf("%s is suspended", cx);
	} else if (fo_streq(j->active_target, git->bg->template_hash) && it->active_healthy) {
		st->phase = FLINK_PHASE_RUNNING;
		flink_status_set(&st->observed_commit, commit);
		msg = j->retiring ? fo_asprintf("%s runs; %s stops with a savepoint and is removed", cx, cy)
				  : fo_asprintf("%s runs", cx);
	} else {
		st->phase = fo_streq(j->active_target, git->bg->template_hash) ? FLINK_PHASE_DEPLOYING : FLINK_PHASE_UPGRADING;
		msg = fo_asprintf("%s takes git's spec", cx);
	}
	flink_status_set(&st->message, msg);
	free(msg);
	if (it->held && it->error)
		return; /* what runs is not known: the block says what was last known */
	/* no colour is active before the first one runs */
	bool none = it->forgotten || j->state == DEPLOY_BG_INITIALIZING_BLUE || !j->active_target;
	flink_status_set(&st->bluegreen.state, it->forgotten ? NULL : deploy_bg_state_name(j->state));
	flink_status_set(&st->bluegreen.active, none ? NULL : cx);
	flink_status_set(&st->bluegreen.blue_job, it->child_job[DEPLOY_BG_BLUE]);
	flink_status_set(&st->bluegreen.green_job, it->child_job[DEPLOY_BG_GREEN]);
	if (it->started_from)
		flink_status_set(&st->bluegreen.started_from, it->started_from);
	if (it->switched_at)
		flink_status_set(&st->bluegreen.switched_at, it->switched_at);
}
