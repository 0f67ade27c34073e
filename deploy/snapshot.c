/*
 * FlinkStateSnapshot: its record, the pure decision of its next step, the
 * hold it puts on its job's rollout, and the thin executor that asks Flink
 * and writes the record first. See snapshot.h.
 */
#include "deploy/snapshot.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deploy/journal.h"
#include "deploy/retention.h"
#include "flink/rest.h"
#include "flink/status.h"
#include "k8s/k8s.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/log.h"

static const char *const state_names[DEPLOY_SNAP_NSTATES] = {"TRIGGER_PENDING", "IN_PROGRESS", "COMPLETED", "FAILED",
							      "ABANDONED"};

const char *deploy_snap_state_name(enum deploy_snap_state s)
{
	return (unsigned)s < FO_ARRAY_LEN(state_names) ? state_names[s] : "UNKNOWN";
}

static const char *const op_names[] = {"none",     "wait",  "register", "trigger", "resend",
				       "complete", "retry", "fail",     "abandon"};

const char *deploy_snap_op_name(enum deploy_snap_op op)
{
	return (unsigned)op < FO_ARRAY_LEN(op_names) ? op_names[op] : "unknown";
}

/* ---- the record ---------------------------------------------------------- */

#define SNAP_STRINGS(X)                        \
	X("agent", agent)                      \
	X("type", type)                        \
	X("jobKind", job_kind)                 \
	X("jobName", job_name)                 \
	X("cluster", cluster)                  \
	X("jobId", job_id)                     \
	X("triggerId", trigger_id)             \
	X("triggerTime", trigger_time)         \
	X("path", path)                        \
	X("time", time)                        \
	X("error", error)                      \
	X("disposeTrigger", dispose_trigger)   \
	X("specHash", spec_hash)               \
	X("commit", commit)                    \
	X("updated", updated)

static const char *const snap_keys[] = {"version", "state", "failures", "dispose",
#define KEY(k, f) k,
					SNAP_STRINGS(KEY)
#undef KEY
};

char *deploy_snapshot_encode(const deploy_snapshot_rec *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "version", DEPLOY_SNAPSHOT_VERSION);
	cJSON_AddStringToObject(o, "state", deploy_snap_state_name(r->state));
	/* the error is free text no decision depends on: cut to the bound */
#define ENC(k, f)                                                                                              \
	if (r->f) {                                                                                            \
		char *cut = fo_strndup(r->f, fo_utf8_cut(r->f, strlen(r->f), DEPLOY_JOURNAL_STRING_MAX)); \
		cJSON_AddStringToObject(o, k, cut);                                                           \
		free(cut);                                                                                    \
	}
	SNAP_STRINGS(ENC)
#undef ENC
	if (r->failures)
		cJSON_AddNumberToObject(o, "failures", r->failures);
	if (r->dispose)
		cJSON_AddBoolToObject(o, "dispose", true);
	char *text = fo_json_print(o, false);
	cJSON_Delete(o);
	return text;
}

int deploy_snapshot_decode(const char *text, deploy_snapshot_rec *r, fo_err *e)
{
	memset(r, 0, sizeof(*r));
	cJSON *o = cJSON_ParseWithOpts(text ? text : "", NULL, true);
	int rc = 0;
	char format[32];
	snprintf(format, sizeof(format), "snapshot record format %d", DEPLOY_SNAPSHOT_VERSION);
	if (!cJSON_IsObject(o)) {
		rc = fo_err_set(e, FO_EINVAL, "the snapshot record is not a JSON object");
		goto cleanup;
	}
	int version = 0;
	if ((rc = deploy_json_version(o, "the snapshot record", DEPLOY_SNAPSHOT_VERSION, &version, e)) < 0)
		goto cleanup;
	if ((rc = deploy_json_check_keys(o, "", snap_keys, FO_ARRAY_LEN(snap_keys), format, e)) < 0)
		goto cleanup;
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "state");
	bool known = false;
	for (size_t i = 0; cJSON_IsString(st) && i < FO_ARRAY_LEN(state_names); i++)
		if (strcmp(st->valuestring, state_names[i]) == 0) {
			r->state = (enum deploy_snap_state)i;
			known = true;
		}
	if (!known) {
		rc = fo_err_set(e, FO_EINVAL, "state: %s is not a snapshot state",
				cJSON_IsString(st) ? st->valuestring : deploy_json_kind(st));
		goto cleanup;
	}
#define DEC(k, f)      \
	if (rc == 0)   \
		rc = deploy_json_get_string(o, "", k, strcmp(k, "error") == 0, &r->f, e);
	SNAP_STRINGS(DEC)
#undef DEC
	if (rc == 0)
		rc = deploy_json_get_counter(o, "", "failures", &r->failures, e);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "dispose");
	if (rc == 0 && d && !cJSON_IsBool(d))
		rc = fo_err_set(e, FO_EINVAL, "dispose: %s where true or false belongs", deploy_json_kind(d));
	r->dispose = cJSON_IsTrue(d);
	/* what each state needs, so that a decision never reads what is not there */
	if (rc == 0 && r->state == DEPLOY_SNAP_IN_PROGRESS && (!r->trigger_id || !r->job_id || !r->cluster))
		rc = fo_err_set(e, FO_EINVAL, "state IN_PROGRESS without triggerId, jobId and cluster");
	if (rc == 0 && r->state == DEPLOY_SNAP_COMPLETED && !r->path)
		rc = fo_err_set(e, FO_EINVAL, "state COMPLETED without a path");
cleanup:
	cJSON_Delete(o);
	if (rc < 0)
		deploy_snapshot_rec_clear(r);
	return rc;
}

void deploy_snapshot_rec_clear(deploy_snapshot_rec *r)
{
	if (!r)
		return;
#define FREE(k, f) free(r->f);
	SNAP_STRINGS(FREE)
#undef FREE
	free(r->resource_version);
	memset(r, 0, sizeof(*r));
}

char *deploy_snapshot_spec_hash(const flink_deployment *s)
{
	const flink_snapshot *p = &s->snap;
	char *text = fo_asprintf("%s\n%s\n%s\n%s\n%s\n%d", p->checkpoint ? "checkpoint" : "savepoint",
				 p->job_kind ? p->job_kind : "", p->job_name ? p->job_name : "", p->path ? p->path : "",
				 p->format_type ? p->format_type : "", p->already_exists);
	char *h = fo_sha256_hex(text, strlen(text));
	free(text);
	return h;
}

/* ---- the decision ------------------------------------------------------- */

long deploy_snapshot_backoff_ms(int failures)
{
	long ms = DEPLOY_SNAPSHOT_BACKOFF_MS;
	for (int i = 1; i < failures && ms < DEPLOY_SNAPSHOT_BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < DEPLOY_SNAPSHOT_BACKOFF_MAX_MS ? ms : DEPLOY_SNAPSHOT_BACKOFF_MAX_MS;
}

void deploy_snapshot_next_clear(deploy_snapshot_next *n)
{
	free(n->why);
	n->why = NULL;
}

static void set(deploy_snapshot_next *n, enum deploy_snap_op op, char *why)
{
	n->op = op;
	n->why = why;
}

/* A failure of the request in flight: tried again after the backoff, or
 * the end when backoffLimit is spent (-1: never). */
static void failure(const deploy_snapshot_want *w, const deploy_snapshot_rec *r, deploy_snapshot_next *n,
		    const char *cause)
{
	int failures = r->failures + 1;
	if (w->backoff_limit >= 0 && failures > w->backoff_limit)
		set(n, DEPLOY_SNAP_OP_FAIL,
		    fo_asprintf("the %s failed %d time%s (backoffLimit %d): %s", r->type ? r->type : "snapshot",
				failures, failures == 1 ? "" : "s", w->backoff_limit, cause));
	else
		set(n, DEPLOY_SNAP_OP_RETRY,
		    fo_asprintf("the %s failed (attempt %d; asked again in %ld s): %s", r->type ? r->type : "snapshot",
				failures, deploy_snapshot_backoff_ms(failures) / 1000, cause));
}

void deploy_snapshot_next_step(const deploy_snapshot_want *w, const deploy_snapshot_rec *r,
			       const deploy_snapshot_obs *o, deploy_snapshot_next *n)
{
	memset(n, 0, sizeof(*n));
	switch (r->state) {
	case DEPLOY_SNAP_COMPLETED:
		set(n, DEPLOY_SNAP_OP_NONE,
		    w->in_git && r->spec_hash && w->spec_hash && strcmp(r->spec_hash, w->spec_hash) != 0
			    ? fo_strdup("taken; its spec changed since, which takes nothing new (a snapshot is taken "
					"once: add one with a new name)")
			    : fo_strdup("taken"));
		return;
	case DEPLOY_SNAP_FAILED:
	case DEPLOY_SNAP_ABANDONED:
		set(n, DEPLOY_SNAP_OP_NONE, fo_strdup(r->error ? r->error : deploy_snap_state_name(r->state)));
		return;
	case DEPLOY_SNAP_IN_PROGRESS:
		/* asked already: only Flink's answer moves it, whatever git says now */
		if (!o->flink_ok) {
			set(n, DEPLOY_SNAP_OP_WAIT, fo_asprintf("the %s of job %s: Flink does not answer", r->type, r->job_id));
			return;
		}
		switch (o->trigger) {
		case DEPLOY_TRIGGER_COMPLETED:
			set(n, DEPLOY_SNAP_OP_COMPLETE, NULL);
			return;
		case DEPLOY_TRIGGER_FAILED:
			failure(w, r, n, o->failure ? o->failure : "Flink gave no cause");
			return;
		case DEPLOY_TRIGGER_UNKNOWN:
		case DEPLOY_TRIGGER_NONE:
			/* never arrived, or forgotten: asked again under the same id
			 * while the job runs; a job that is gone is abandoned, as
			 * upstream does */
			if (o->job_running == 1)
				set(n, DEPLOY_SNAP_OP_RESEND, NULL);
			else if (o->job_running == 0)
				set(n, DEPLOY_SNAP_OP_ABANDON,
				    fo_asprintf("job %s stopped before its %s was taken", r->job_id, r->type));
			else
				set(n, DEPLOY_SNAP_OP_WAIT, fo_asprintf("the %s of job %s: its job's state is unknown",
									r->type, r->job_id));
			return;
		case DEPLOY_TRIGGER_IN_PROGRESS:
		default:
			set(n, DEPLOY_SNAP_OP_WAIT, fo_asprintf("the %s of job %s is in progress", r->type, r->job_id));
			return;
		}
	case DEPLOY_SNAP_PENDING:
	default:
		break;
	}
	/* never asked (or asked again after a failure) */
	if (!w->in_git) {
		set(n, DEPLOY_SNAP_OP_NONE, fo_strdup("gone from git before it was taken"));
		return;
	}
	if (w->already_exists) {
		set(n, DEPLOY_SNAP_OP_REGISTER, NULL);
		return;
	}
	if (!w->job_in_git) {
		set(n, DEPLOY_SNAP_OP_ABANDON, fo_strdup("its jobReference names no job in git"));
		return;
	}
	if (r->failures > 0) {
		long wait = deploy_snapshot_backoff_ms(r->failures);
		if (o->since_attempt_ms >= 0 && o->since_attempt_ms < wait) {
			set(n, DEPLOY_SNAP_OP_WAIT, fo_asprintf("asked again after the backoff (%ld s) of failure %d", wait / 1000,
								r->failures));
			return;
		}
	}
	if (!o->job_ready && o->job_still) {
		/* a later pass takes it once the job runs; a `sync --once` does
		 * not wait for that */
		set(n, DEPLOY_SNAP_OP_NONE, fo_strdup("not taken yet: its job does not run (suspended or failed); it is "
						      "taken once the job runs its spec"));
		return;
	}
	if (!o->job_ready) {
		set(n, DEPLOY_SNAP_OP_WAIT, fo_strdup("waits for its job to run its spec (a snapshot is asked only of "
						      "a job whose rollout is settled)"));
		return;
	}
	set(n, DEPLOY_SNAP_OP_TRIGGER, NULL);
}

void deploy_snapshot_hold_step(deploy_next *n, const char *hold)
{
	if (!hold || (n->op != DEPLOY_OP_STOP && n->op != DEPLOY_OP_RESTOP && n->op != DEPLOY_OP_CANCEL))
		return;
	const char *what = n->op == DEPLOY_OP_CANCEL ? "cancelled" : "stopped";
	deploy_next_clear(n);
	n->op = DEPLOY_OP_WAIT;
	n->wait_ms = -1;
	n->why = fo_asprintf("the job is %s once its FlinkStateSnapshot %s (in progress) has ended", what, hold);
}

char *deploy_snapshot_plan(const flink_deployment *from, const flink_deployment *to, bool job_in_git)
{
	if (!to && !from)
		return NULL;
	if (!to) {
		const flink_snapshot *f = &from->snap;
		if (!f->checkpoint && f->dispose_on_delete)
			return fo_strdup("gone from git: its savepoint is disposed of (disposeOnDelete: true) unless a job, a "
					 "journal or a status file still names it, then its record is forgotten");
		return fo_strdup("gone from git: its record is forgotten; its data is kept");
	}
	const flink_snapshot *t = &to->snap;
	if (from) {
		char *a = deploy_snapshot_spec_hash(from), *b = deploy_snapshot_spec_hash(to);
		bool same = strcmp(a, b) == 0;
		free(a);
		free(b);
		if (same && from->snap.dispose_on_delete == t->dispose_on_delete && from->snap.backoff_limit == t->backoff_limit)
			return NULL;
		if (same)
			return fo_strdup("its disposeOnDelete or backoffLimit changed: taken as written from now on");
		return fo_strdup("its spec changed: a snapshot is taken once, so one taken already is not taken again "
				 "(add a FlinkStateSnapshot with a new name for another)");
	}
	if (t->already_exists)
		return fo_asprintf("registers savepoint %s as taken (alreadyExists): nothing is asked of Flink; a job "
				   "may name it as its initialSavepointPath",
				   t->path);
	if (!job_in_git)
		return fo_asprintf("takes nothing: jobReference %s %s names no job of the repository",
				   t->job_kind ? t->job_kind : "", t->job_name ? t->job_name : "");
	const char *what = t->checkpoint ? "checkpoint" : "savepoint";
	return fo_asprintf("takes a %s%s%s of %s %s once, when its job runs its spec (the job keeps running)%s%s; "
			   "the path is recorded in its status file, for a job to name as its initialSavepointPath",
			   t->format_type && !t->checkpoint ? t->format_type : "", t->format_type && !t->checkpoint ? " " : "",
			   what, t->job_kind, t->job_name, t->path ? ", into " : "", t->path ? t->path : "");
}

/* ---- the pass ------------------------------------------------------------ */

static deploy_snapshot_item *add_item(deploy_snapshots *s)
{
	s->v = fo_grow(s->v, &s->cap, s->n + 1, sizeof(*s->v));
	deploy_snapshot_item *it = &s->v[s->n++];
	memset(it, 0, sizeof(*it));
	return it;
}

/* The job item of `p` that snapshot record `r` (or spec `fd`) is of, or NULL. */
static deploy_item *job_item(deploy_pass *p, const char *ns, const char *kind, const char *name)
{
	if (!name)
		return NULL;
	bool session = fo_streq(kind, FLINK_KIND_SESSION_JOB);
	for (size_t i = 0; i < p->n; i++) {
		deploy_item *it = &p->items[i];
		if (fo_streq(it->ns, ns) && fo_streq(it->name, name) && (it->cluster != NULL) == session)
			return it;
	}
	return NULL;
}

static void add_hold(deploy_item *it, const char *snapshot)
{
	char *h = fo_asprintf("%s%s%s", it->snapshot_hold ? it->snapshot_hold : "", it->snapshot_hold ? ", " : "",
			      snapshot);
	free(it->snapshot_hold);
	it->snapshot_hold = h;
}

void deploy_snapshots_plan(const flink_deployments *snaps, const deploy_live *live, deploy_pass *p,
			   deploy_snapshots *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; snaps && i < snaps->n; i++) {
		deploy_snapshot_item *it = add_item(out);
		it->fd = snaps->v[i];
		it->ns = fo_strdup(it->fd->namespace);
		it->name = fo_strdup(it->fd->name);
	}
	const char *key, *text, *rv;
	for (size_t i = 0; deploy_live_snapshot_at(live, i, &key, &text, &rv); i++) {
		const char *slash = strchr(key, '/');
		deploy_snapshot_item *it = NULL;
		for (size_t k = 0; k < out->n && !it; k++)
			if (slash && strncmp(out->v[k].ns, key, (size_t)(slash - key)) == 0 &&
			    !out->v[k].ns[slash - key] && strcmp(out->v[k].name, slash + 1) == 0)
				it = &out->v[k];
		if (!it) {
			it = add_item(out);
			it->ns = fo_strndup(key, slash ? (size_t)(slash - key) : strlen(key));
			it->name = fo_strdup(slash ? slash + 1 : "");
		}
		fo_err e = FO_ERR_INIT;
		if (deploy_snapshot_decode(text, &it->rec, &e) < 0) {
			it->rec_bad = true;
			it->error = fo_asprintf("the record of FlinkStateSnapshot %s/%s does not read: %s; nothing is done "
						"with it (and every job of its namespace keeps running: it may be in "
						"flight) until it is mended or deleted (ConfigMap " DEPLOY_SNAPSHOT_PREFIX "%s)",
						it->ns, it->name, fo_err_msg(&e), it->name);
		} else {
			it->rec.resource_version = rv ? fo_strdup(rv) : NULL;
		}
		it->has_rec = true;
		fo_err_clear(&e);
	}
	/* the holds: a snapshot in flight keeps its job from stopping */
	for (size_t k = 0; k < out->n; k++) {
		deploy_snapshot_item *it = &out->v[k];
		if (it->rec_bad) {
			for (size_t i = 0; i < p->n; i++)
				if (fo_streq(p->items[i].ns, it->ns))
					add_hold(&p->items[i], it->name);
		} else if (it->has_rec && it->rec.state == DEPLOY_SNAP_IN_PROGRESS) {
			deploy_item *job = job_item(p, it->ns, it->rec.job_kind, it->rec.job_name);
			if (job)
				add_hold(job, it->name);
		}
	}
}

typedef struct snap_exec {
	k8s_client *c;
	deploy_pass *p;
	const deploy_options *o;
	const char *agent;
} snap_exec;

static int save(snap_exec *x, deploy_snapshot_item *it, fo_err *e)
{
	char ts[40];
	deploy_time_now(ts, true);
	deploy_journal_set(&it->rec.updated, ts);
	deploy_journal_set(&it->rec.agent, x->agent);
	char *text = deploy_snapshot_encode(&it->rec);
	deploy_snapshot_rec back;
	fo_err be = FO_ERR_INIT;
	if (deploy_snapshot_decode(text, &back, &be) < 0) {
		fo_err_set(e, FO_EINVAL, "the record of FlinkStateSnapshot %s/%s is not written: it would not read back (%s)",
			   it->ns, it->name, fo_err_msg(&be));
		fo_err_clear(&be);
		free(text);
		return FO_EINVAL;
	}
	deploy_snapshot_rec_clear(&back);
	char *cm = fo_asprintf(DEPLOY_SNAPSHOT_PREFIX "%s", it->name);
	int rc = deploy_record_write(x->c, it->ns, cm, it->name, DEPLOY_SNAPSHOT_LABEL_VALUE, x->agent,
				     DEPLOY_SNAPSHOT_KEY, text, &it->rec.resource_version, NULL, e);
	free(cm);
	free(text);
	if (rc < 0)
		return fo_err_prefix(e, "recording FlinkStateSnapshot %s/%s", it->ns, it->name);
	it->has_rec = true;
	if (it->rec.state == DEPLOY_SNAP_IN_PROGRESS)
		deploy_fault_point("snapshot-recorded");
	return 0;
}

/* Ask Flink for the snapshot recorded in flight (again, under the same id). */
static int send(deploy_snapshot_item *it, flink_rest *r, const deploy_item *job, fo_err *e)
{
	const deploy_snapshot_rec *rec = &it->rec;
	char *got = NULL;
	int rc;
	if (fo_streq(rec->type, "checkpoint")) {
		const char *type = job && job->fd && job->fd->job.checkpoint_type ? job->fd->job.checkpoint_type : "FULL";
		rc = flink_rest_checkpoint_trigger(r, rec->job_id, type, rec->trigger_id, &got, e);
	} else {
		const char *dir = it->fd && it->fd->snap.path ? it->fd->snap.path
				  : job && job->fd  ? flink_savepoint_dir(job->fd)
						    : NULL;
		rc = flink_rest_savepoint_trigger(r, rec->job_id, dir, it->fd ? it->fd->snap.format_type : NULL,
						  rec->trigger_id, &got, e);
	}
	free(got);
	if (rc < 0)
		return fo_err_prefix(e, "FlinkStateSnapshot %s/%s", it->ns, it->name);
	fo_info("snapshot", "%s/%s: %s of job %s asked of Flink (trigger %s)", it->ns, it->name, rec->type, rec->job_id,
		rec->trigger_id);
	deploy_fault_point("snapshot-sent");
	return 0;
}

static flink_rest *rest_for(snap_exec *x, const char *ns, const char *cluster, fo_err *e)
{
	flink_rest *r = NULL;
	return deploy_rest_open(x->o, ns, cluster, &r, e) < 0 ? NULL : r;
}

/* What Flink says of the snapshot in flight, for the decision: the
 * trigger as the rollout reads it, and when Flink does not know it,
 * whether the job asked still runs. */
static void observe(flink_rest *r, const deploy_snapshot_rec *rec, deploy_snapshot_obs *ob, flink_savepoint_status *sp,
		    char **ck_location)
{
	bool checkpoint = fo_streq(rec->type, "checkpoint"), known = false;
	ob->flink_ok = true;
	ob->trigger = deploy_trigger_state(r, rec->job_id, rec->trigger_id, checkpoint, sp, ck_location, &known,
					   &ob->flink_ok);
	ob->location = checkpoint ? *ck_location : sp->location;
	ob->failure = sp->failure;
	if (ob->flink_ok && ob->trigger == DEPLOY_TRIGGER_UNKNOWN) {
		fo_err e = FO_ERR_INIT;
		enum flink_job_status js;
		int jrc = flink_rest_job_state(r, rec->job_id, &js, &e);
		ob->job_running = jrc == 0 ? js == FLINK_JOB_RUNNING : jrc == FO_ENOTFOUND ? 0 : -1;
		fo_err_clear(&e);
	}
}

/* Whether the job item is ready for a snapshot: its rollout settled in
 * this pass, nothing in flight, its job seen RUNNING and healthy. */
static bool job_ready(const deploy_item *job)
{
	return job && job->fd && job->fd->has_job && !job->error && job->outcome == DEPLOY_OUTCOME_SETTLED &&
	       job->job_running && !job->journal_bad && job->journal.step == DEPLOY_STEP_IDLE && job->journal.job_id &&
	       !job->journal.await_checkpoint_since && job->fd->job.state != FLINK_STATE_SUSPENDED;
}

static void set_waiting(deploy_snapshot_item *it, const char *why)
{
	it->outcome = DEPLOY_OUTCOME_WAITING;
	free(it->waiting);
	it->waiting = fo_strdup(why);
	fo_info("snapshot", "%s/%s: waiting: %s", it->ns, it->name, why);
}

/* One snapshot as far as it can go now (a few steps: record, ask, look). */
static int advance(snap_exec *x, deploy_snapshot_item *it, fo_err *e)
{
	const flink_deployment *fd = it->fd;
	deploy_item *job = fd ? job_item(x->p, it->ns, fd->snap.job_kind, fd->snap.job_name) : NULL;
	char *hash = fd ? deploy_snapshot_spec_hash(fd) : NULL;
	deploy_snapshot_want w = {0};
	w.in_git = fd != NULL;
	w.already_exists = fd && fd->snap.already_exists;
	w.spec_hash = hash;
	w.backoff_limit = fd ? fd->snap.backoff_limit : -1;
	w.job_in_git = job && job->fd && job->fd->has_job;
	int rc = 0;
	for (int step = 0; step < 4 && rc == 0; step++) {
		deploy_snapshot_obs ob = {0};
		ob.job_ready = job_ready(job);
		ob.job_still = job && job->outcome != DEPLOY_OUTCOME_WAITING &&
			       (job->outcome == DEPLOY_OUTCOME_FAILED || job->journal_bad || job->unread ||
				(job->fd && job->fd->job.state == FLINK_STATE_SUSPENDED) ||
				job->journal.step == DEPLOY_STEP_FAILED);
		ob.since_attempt_ms = -1;
		int64_t t = deploy_time_ms(it->rec.trigger_time);
		if (t >= 0) {
			char now[40];
			deploy_time_now(now, true);
			int64_t n = deploy_time_ms(now);
			ob.since_attempt_ms = n >= t ? (long)(n - t) : 0;
		}
		flink_rest *r = NULL;
		flink_savepoint_status sp = {0};
		char *location = NULL;
		if (it->rec.state == DEPLOY_SNAP_IN_PROGRESS) {
			fo_err re = FO_ERR_INIT;
			r = rest_for(x, it->ns, it->rec.cluster, &re);
			fo_err_clear(&re);
			if (r)
				observe(r, &it->rec, &ob, &sp, &location);
		}
		deploy_snapshot_next n;
		deploy_snapshot_next_step(&w, &it->rec, &ob, &n);
		fo_log(FO_LOG_DEBUG, "snapshot", "%s/%s: state %s, next %s%s%s", it->ns, it->name,
		       deploy_snap_state_name(it->rec.state), deploy_snap_op_name(n.op), n.why ? ": " : "",
		       n.why ? n.why : "");
		char ts[40];
		deploy_time_now(ts, true);
		bool done = false;
		switch (n.op) {
		case DEPLOY_SNAP_OP_NONE:
			it->outcome = DEPLOY_OUTCOME_SETTLED;
			if (it->rec.state == DEPLOY_SNAP_PENDING && n.why) {
				/* said in its status, not waited for */
				free(it->waiting);
				it->waiting = fo_strdup(n.why);
			}
			done = true;
			break;
		case DEPLOY_SNAP_OP_WAIT:
			set_waiting(it, n.why);
			done = true;
			break;
		case DEPLOY_SNAP_OP_REGISTER:
			it->rec.state = DEPLOY_SNAP_COMPLETED;
			deploy_journal_set(&it->rec.type, "savepoint");
			deploy_journal_set(&it->rec.path, fd->snap.path);
			deploy_journal_set(&it->rec.time, ts);
			deploy_journal_set(&it->rec.spec_hash, hash);
			it->rec.dispose = fd->snap.dispose_on_delete;
			if ((rc = save(x, it, e)) == 0)
				fo_info("snapshot", "%s/%s: savepoint %s registered (alreadyExists)", it->ns, it->name,
					fd->snap.path);
			break;
		case DEPLOY_SNAP_OP_TRIGGER: {
			char *trigger = NULL;
			if (fo_random_hex(16, &trigger) < 0) {
				rc = fo_err_set(e, FO_EIO, "no random trigger id for FlinkStateSnapshot %s/%s", it->ns,
						it->name);
				break;
			}
			/* recorded before it is asked: a crash after the request
			 * finds it under this id, never takes a second in silence */
			it->rec.state = DEPLOY_SNAP_IN_PROGRESS;
			deploy_journal_set(&it->rec.type, fd->snap.checkpoint ? "checkpoint" : "savepoint");
			deploy_journal_set(&it->rec.job_kind, fd->snap.job_kind);
			deploy_journal_set(&it->rec.job_name, fd->snap.job_name);
			deploy_journal_set(&it->rec.cluster, job->cluster ? job->cluster : job->name);
			deploy_journal_set(&it->rec.job_id, job->journal.job_id);
			deploy_journal_set(&it->rec.trigger_id, trigger);
			deploy_journal_set(&it->rec.trigger_time, ts);
			deploy_journal_set(&it->rec.spec_hash, hash);
			if (!it->rec.commit && x->o->rollout->commit)
				deploy_journal_set(&it->rec.commit, x->o->rollout->commit);
			it->rec.dispose = fd->snap.dispose_on_delete;
			free(trigger);
			if ((rc = save(x, it, e)) < 0)
				break;
			/* the job holds from now on: this pass's later steps too */
			add_hold(job, it->name);
			fo_err re = FO_ERR_INIT;
			flink_rest *tr = rest_for(x, it->ns, it->rec.cluster, &re);
			if (!tr || send(it, tr, job, &re) < 0)
				fo_warn("snapshot", "%s/%s: %s; asked again", it->ns, it->name, fo_err_msg(&re));
			fo_err_clear(&re);
			flink_rest_free(tr);
			break;
		}
		case DEPLOY_SNAP_OP_RESEND: {
			fo_err re = FO_ERR_INIT;
			if (send(it, r, job, &re) < 0)
				fo_warn("snapshot", "%s/%s: %s; asked again", it->ns, it->name, fo_err_msg(&re));
			fo_err_clear(&re);
			set_waiting(it, "asked again: Flink did not know the request");
			done = true;
			break;
		}
		case DEPLOY_SNAP_OP_COMPLETE:
			it->rec.state = DEPLOY_SNAP_COMPLETED;
			deploy_journal_set(&it->rec.path, ob.location);
			deploy_journal_set(&it->rec.time, ts);
			deploy_journal_set(&it->rec.trigger_id, NULL);
			deploy_journal_set(&it->rec.error, NULL);
			if ((rc = save(x, it, e)) == 0)
				fo_info("snapshot", "%s/%s: %s of job %s completed: %s", it->ns, it->name, it->rec.type,
					it->rec.job_id, it->rec.path);
			break;
		case DEPLOY_SNAP_OP_RETRY:
		case DEPLOY_SNAP_OP_FAIL:
		case DEPLOY_SNAP_OP_ABANDON:
			if (n.op != DEPLOY_SNAP_OP_ABANDON)
				deploy_journal_count(&it->rec.failures);
			it->rec.state = n.op == DEPLOY_SNAP_OP_RETRY  ? DEPLOY_SNAP_PENDING
					: n.op == DEPLOY_SNAP_OP_FAIL ? DEPLOY_SNAP_FAILED
								      : DEPLOY_SNAP_ABANDONED;
			deploy_journal_set(&it->rec.error, n.why);
			deploy_journal_set(&it->rec.trigger_id, NULL);
			if (n.op == DEPLOY_SNAP_OP_ABANDON && !it->rec.type && fd)
				deploy_journal_set(&it->rec.type, fd->snap.checkpoint ? "checkpoint" : "savepoint");
			if ((rc = save(x, it, e)) == 0)
				fo_warn("snapshot", "%s/%s: %s", it->ns, it->name, n.why);
			break;
		}
		deploy_snapshot_next_clear(&n);
		flink_savepoint_status_free(&sp);
		free(location);
		flink_rest_free(r);
		if (done)
			break;
	}
	free(hash);
	if (rc < 0) {
		it->outcome = DEPLOY_OUTCOME_FAILED;
		free(it->error);
		it->error = fo_strdup(fo_err_msg(e));
	} else if (it->outcome == DEPLOY_OUTCOME_NOT_ATTEMPTED) {
		it->outcome = it->rec.state == DEPLOY_SNAP_IN_PROGRESS ? DEPLOY_OUTCOME_WAITING : DEPLOY_OUTCOME_SETTLED;
	}
	return rc;
}

/*
 * A snapshot gone from git whose record is settled: its data disposed of
 * when its file said so (a savepoint taken or registered that nothing the
 * pass knows references), then the record forgotten. A disposal Flink
 * cannot do now is tried again by a later pass; the record stays till then.
 */
static void gone(snap_exec *x, deploy_snapshot_item *it)
{
	deploy_snapshot_rec *rec = &it->rec;
	bool dispose = rec->dispose && rec->state == DEPLOY_SNAP_COMPLETED && fo_streq(rec->type, "savepoint") &&
		       rec->path && rec->cluster;
	if (!dispose) {
		it->forget = true;
		it->outcome = DEPLOY_OUTCOME_SETTLED;
		return;
	}
	const deploy_retention_ctx *ctx = x->o->rollout ? x->o->rollout->retention : NULL;
	char *why = NULL;
	if (!deploy_retention_may_dispose(ctx, it->ns, it->name, NULL, rec->path, &why)) {
		/* referenced, or a doubt: the data stays, and so does the
		 * record, which a later pass without the doubt disposes of */
		free(it->waiting);
		it->waiting = fo_asprintf("gone from git; its savepoint %s is kept for now: %s", rec->path,
					  why ? why : "no retention context");
		fo_info("snapshot", "%s/%s: %s", it->ns, it->name, it->waiting);
		it->outcome = DEPLOY_OUTCOME_SETTLED; /* nothing to wait for: a later pass looks again */
		free(why);
		return;
	}
	fo_err e = FO_ERR_INIT;
	flink_rest *r = rest_for(x, it->ns, rec->cluster, &e);
	if (r && !rec->dispose_trigger) {
		char *trigger = NULL;
		if (flink_rest_savepoint_dispose(r, rec->path, &trigger, &e) == 0) {
			deploy_journal_set(&rec->dispose_trigger, trigger);
			fo_info("snapshot", "%s/%s: gone from git: disposing of savepoint %s (disposeOnDelete)", it->ns,
				it->name, rec->path);
			fo_err se = FO_ERR_INIT;
			if (save(x, it, &se) < 0)
				fo_warn("snapshot", "%s", fo_err_msg(&se));
			fo_err_clear(&se);
		}
		free(trigger);
	}
	if (r && rec->dispose_trigger && !e.code) {
		flink_disposal_status ds = {0};
		int rc = flink_rest_savepoint_disposal_status(r, rec->dispose_trigger, &ds, &e);
		if (rc == 0 && ds.done) {
			fo_info("snapshot", "%s/%s: savepoint %s disposed of", it->ns, it->name, rec->path);
			it->forget = true;
			it->outcome = DEPLOY_OUTCOME_SETTLED;
		} else if (rc < 0 && ds.missing) {
			it->forget = true; /* already gone */
			it->outcome = DEPLOY_OUTCOME_SETTLED;
		} else if (rc == FO_ENOTFOUND) {
			deploy_journal_set(&rec->dispose_trigger, NULL); /* forgotten: asked again next pass */
		}
		flink_disposal_status_free(&ds);
	}
	if (!it->forget && e.code) {
		/* Flink cannot dispose of it now (its cluster gone or down): the
		 * data and the record stay, a later pass asks again; nothing to
		 * wait for in this one */
		free(it->waiting);
		it->waiting = fo_asprintf("gone from git; the disposal of its savepoint %s waits: %s", rec->path,
					  fo_err_msg(&e));
		fo_warn("snapshot", "%s/%s: %s", it->ns, it->name, it->waiting);
		it->outcome = DEPLOY_OUTCOME_SETTLED;
	} else if (!it->forget) {
		char *w = fo_asprintf("disposal of savepoint %s is in progress", rec->path);
		set_waiting(it, w);
		free(w);
	}
	fo_err_clear(&e);
	flink_rest_free(r);
}

int deploy_snapshots_run(k8s_client *c, deploy_pass *p, deploy_snapshots *s, const deploy_options *o, fo_err *e)
{
	if (!o || !o->rollout)
		return 0;
	snap_exec x = {c, p, o, deploy_agent_name(o)};
	int first = 0;
	/* the options, not only the pass's verdict: a pass with nothing of
	 * its own to prune never judges its guards, and a snapshot whose file
	 * does not parse must not read as gone */
	bool may_delete = o->prune && !o->prune_skip_reason && !p->prune_refused && !p->prune_disabled && !p->aborted;
	for (size_t i = 0; i < s->n && !p->aborted; i++) {
		deploy_snapshot_item *it = &s->v[i];
		if (o->stop && atomic_load(o->stop))
			break;
		if (it->rec_bad) {
			it->outcome = DEPLOY_OUTCOME_FAILED;
			if (!first)
				first = fo_err_set(e, FO_EREFUSED, "%s", it->error);
			continue;
		}
		if (!it->fd && !(it->has_rec && it->rec.state == DEPLOY_SNAP_IN_PROGRESS)) {
			/* gone from git, settled: only when the pass may delete */
			if (may_delete)
				gone(&x, it);
			continue;
		}
		fo_err se = FO_ERR_INIT;
		if (advance(&x, it, &se) < 0 && !first)
			first = fo_err_set(e, se.code, "%s", fo_err_msg(&se));
		fo_err_clear(&se);
	}
	return first;
}

int deploy_snapshots_forget(k8s_client *c, const deploy_snapshots *s, fo_err *e)
{
	int first = 0;
	for (size_t i = 0; i < s->n; i++) {
		const deploy_snapshot_item *it = &s->v[i];
		if (!it->forget || !it->has_rec)
			continue;
		char *cm = fo_asprintf(DEPLOY_SNAPSHOT_PREFIX "%s", it->name);
		fo_err de = FO_ERR_INIT;
		int rc = k8s_delete(c, &k8s_kind_configmap, it->ns, cm, NULL, &de);
		if (rc < 0 && rc != FO_ENOTFOUND && !first)
			first = fo_err_set(e, rc, "%s", fo_err_msg(&de));
		fo_err_clear(&de);
		free(cm);
	}
	return first;
}

void deploy_snapshot_status_update(struct flink_status *st, const deploy_snapshot_item *it, const char *blob,
				   const char *commit)
{
	const deploy_snapshot_rec *r = &it->rec;
	const flink_deployment *fd = it->fd;
	/* the source commit moves only when the manifest does (as a
	 * deployment's): the agent's own status commits are no news */
	if (fd && (!st->source.commit || !fo_streq(st->source.blob, blob) || !fo_streq(st->source.path, fd->source))) {
		flink_status_set(&st->source.path, fd->source);
		flink_status_set(&st->source.blob, blob);
		flink_status_set(&st->source.commit, commit);
	}
	if (st->source.commit)
		commit = st->source.commit;
	char *msg = NULL;
	if (it->forget) {
		st->phase = FLINK_PHASE_DELETED;
		msg = r->dispose && r->dispose_trigger ? fo_asprintf("gone from git: its savepoint was disposed of")
						       : fo_strdup("gone from git: forgotten, its data kept");
	} else if (it->rec_bad || (it->error && it->outcome == DEPLOY_OUTCOME_FAILED)) {
		st->phase = FLINK_PHASE_FAILED;
		msg = fo_strdup(it->error);
	} else {
		switch (r->state) {
		case DEPLOY_SNAP_COMPLETED:
			st->phase = FLINK_PHASE_COMPLETED;
			if (it->waiting)
				msg = fo_strdup(it->waiting);
			break;
		case DEPLOY_SNAP_FAILED:
			st->phase = FLINK_PHASE_FAILED;
			msg = r->error ? fo_strdup(r->error) : NULL;
			break;
		case DEPLOY_SNAP_ABANDONED:
			st->phase = FLINK_PHASE_ABANDONED;
			msg = r->error ? fo_strdup(r->error) : NULL;
			break;
		case DEPLOY_SNAP_IN_PROGRESS:
		case DEPLOY_SNAP_PENDING:
		default:
			st->phase = FLINK_PHASE_PENDING;
			msg = it->waiting ? fo_strdup(it->waiting)
			      : r->error  ? fo_asprintf("%s", r->error)
					  : NULL;
			break;
		}
	}
	flink_status_set(&st->message, msg);
	free(msg);
	const char *type = r->type ? r->type : fd ? (fd->snap.checkpoint ? "checkpoint" : "savepoint") : NULL;
	flink_status_set(&st->snapshot.type, type);
	char *of = r->job_name ? fo_asprintf("%s/%s", r->job_kind ? r->job_kind : "", r->job_name)
		   : fd && fd->snap.job_name ? fo_asprintf("%s/%s", fd->snap.job_kind ? fd->snap.job_kind : "", fd->snap.job_name)
					     : NULL;
	flink_status_set(&st->snapshot.of, of);
	free(of);
	flink_status_set(&st->snapshot.path, r->path);
	flink_status_set(&st->snapshot.time, r->time);
	flink_status_set(&st->snapshot.trigger_id, r->state == DEPLOY_SNAP_IN_PROGRESS ? r->trigger_id : NULL);
	st->snapshot.failures = r->failures;
	flink_status_set(&st->job.id, r->job_id);
	/* observed: taken (or registered) for the spec this commit has */
	if (r->state == DEPLOY_SNAP_COMPLETED && fd) {
		char *h = deploy_snapshot_spec_hash(fd);
		if (fo_streq(h, r->spec_hash))
			flink_status_set(&st->observed_commit, commit);
		free(h);
	}
}

void deploy_snapshots_free(deploy_snapshots *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		deploy_snapshot_item *it = &s->v[i];
		free(it->ns);
		free(it->name);
		free(it->waiting);
		free(it->error);
		deploy_snapshot_rec_clear(&it->rec);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}
