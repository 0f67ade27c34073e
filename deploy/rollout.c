/*
 * The job side of a pass: when a deployment's job must (re)start, stop the
 * old job as its upgrade mode says (savepoint, newest checkpoint, or
 * nothing), apply the objects, wait for task slots, upload the jar and run
 * it from what was kept. Every step is recorded in the journal ConfigMap
 * before the next one starts, so that a pass that dies is resumed by the
 * next one without a second savepoint or a second job (see journal.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deploy/deploy.h"
#include "deploy/journal.h"
#include "deploy/retention.h"
#include "deploy/rollout.h"
#include "deploy/snapshot.h"
#include "flink/jar.h"
#include "flink/rest.h"
#include "lib/json.h"
#include "lib/log.h"

static void now_rfc3339(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void now_rfc3339_ms(char out[40])
{
	deploy_time_now(out, true);
}

/* A Flink timestamp (ms since the epoch) as RFC 3339 UTC. */
static void epoch_ms_rfc3339(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}


/* Whose pods and REST API a deployment's job uses: its session cluster's
 * for a FlinkSessionJob, else its own. */
static const char *cluster_of(const deploy_item *it)
{
	return it->cluster ? it->cluster : it->name;
}

static char *journal_name(const char *name)
{
	return fo_asprintf(DEPLOY_JOURNAL_PREFIX "%s", name);
}

int deploy_journal_load(k8s_client *c, const char *agent, const char *ns, const char *name, deploy_journal *j,
			enum deploy_journal_verdict *verdict, char **why, fo_err *e)
{
	memset(j, 0, sizeof(*j));
	*why = NULL;
	char *cm = journal_name(name);
	cJSON *obj = NULL;
	int rc = k8s_get(c, &k8s_kind_configmap, ns, cm, &obj, e);
	free(cm);
	deploy_journal_cm found = {DEPLOY_JOURNAL_READ, NULL, NULL};
	if (rc == FO_ENOTFOUND) {
		fo_err_clear(e);
		found.seen = DEPLOY_JOURNAL_NONE;
	} else if (rc < 0) {
		return fo_err_prefix(e, "reading the journal of %s/%s", ns, name);
	}
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	found.text = fo_json_str(cJSON_GetObjectItemCaseSensitive(obj, "data"), DEPLOY_JOURNAL_KEY);
	found.label = fo_json_str(cJSON_GetObjectItemCaseSensitive(meta, "labels"), DEPLOY_LABEL_AGENT);
	*verdict = deploy_journal_judge(agent, ns, name, &found, j, why);
	if (*verdict == DEPLOY_JOURNAL_USE) {
		const char *rv = fo_json_str(meta, "resourceVersion"), *uid = fo_json_str(meta, "uid");
		j->resource_version = rv ? fo_strdup(rv) : NULL;
		j->uid = uid ? fo_strdup(uid) : NULL;
	}
	cJSON_Delete(obj);
	return 0;
}

/* The named points where FLINKOPS_CRASH_AFTER=POINT kills the process (as a
 * power cut or kill -9 would), for the crash tests: right after each journal
 * step is recorded, and right after each request to Flink that changes a
 * job; FLINKOPS_PAUSE_AFTER=POINT pauses there instead (5 s).
 * tests/e2e/test_rollout_crash.sh reads this list from
 * `flinkops sync --crash-points`, so a new step is covered without editing
 * the test. Two more points are for pausing only, and not in that list (a
 * crash there is a crash before anything was done): "listed", where a pass
 * has listed the cluster and is about to read by name what the listing did
 * not hold (tests/e2e/test_k8s_sync.sh takes the API server away there);
 * "status-push", where the daemon's pass has built its status commit and
 * checked the Lease, right before the push (tests/e2e/test_agent_fence.sh
 * lets another replica take the Lease there). One more is in k8s/watch.c:
 * FLINKOPS_FAULT_WATCH_VERSION=RV makes each watch of the daemon's
 * inventory resume once from RV, a version the API server has compacted
 * away, so that tests/e2e/test_agent_watch.sh gets the server's own 410. */
static const char *const sent_points[] = {"stop-sent", "cancel-sent", "run-sent", "start-applied"};

/* The blue/green engine (bgpass.c) has a point after each step it
 * records, "bluegreen-OP" (bluegreen-savepoint, -transition, -healthy,
 * -cutover, -retire, ...: deploy_bg_op_name), for tests/e2e/test_bluegreen.sh;
 * they are not in the list above, whose test drives a FlinkDeployment. */

/* FLINKOPS_FAULT_DECISION=OP (an op's name, as `deploy_op_name` spells it)
 * replaces the decision for a deployment that is gone from git or being
 * deleted with OP, as a wrong decision would: the one fault a real server
 * cannot produce, for tests/e2e/test_rollout.sh to show that the executor
 * refuses a step that needs a spec it does not have (an error, never a
 * crash or a job started). */
static void fault_decision(deploy_next *n, bool gone)
{
	const char *want = getenv("FLINKOPS_FAULT_DECISION");
	if (!want || !gone)
		return;
	const char *name;
	for (int op = 0; strcmp(name = deploy_op_name((enum deploy_op)op), "unknown") != 0; op++)
		if (strcmp(name, want) == 0) {
			fo_warn("deploy", "decision %s replaced by %s (FLINKOPS_FAULT_DECISION)", deploy_op_name(n->op), want);
			n->op = (enum deploy_op)op;
			return;
		}
}

size_t deploy_crash_points(const char **out, size_t max)
{
	size_t n = 0;
	for (int s = DEPLOY_STEP_STOPPING; s < DEPLOY_NSTEPS; s++)
		if (s != DEPLOY_STEP_FAILED && n < max)
			out[n++] = deploy_step_name((enum deploy_step)s);
	if (n < max)
		out[n++] = deploy_step_name(DEPLOY_STEP_IDLE);
	for (size_t i = 0; i < FO_ARRAY_LEN(sent_points) && n < max; i++)
		out[n++] = sent_points[i];
	return n;
}

void deploy_fault_point(const char *name)
{
	const char *crash = getenv("FLINKOPS_CRASH_AFTER");
	if (crash && strcmp(crash, name) == 0)
		raise(SIGKILL);
	/* FLINKOPS_PAUSE_AFTER=POINT holds the pass there for 5 s, so that a
	 * test can take a server away at a known moment */
	const char *pause = getenv("FLINKOPS_PAUSE_AFTER");
	if (pause && strcmp(pause, name) == 0) {
		fo_warn("deploy", "paused for 5 s at \"%s\" (FLINKOPS_PAUSE_AFTER)", name);
		struct timespec ts = {5, 0};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
}

int deploy_record_write(k8s_client *c, const char *ns, const char *cm, const char *instance, const char *managed_by,
			const char *agent, const char *key, const char *text, char **resource_version, char **uid,
			fo_err *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "apiVersion", "v1");
	cJSON_AddStringToObject(o, "kind", "ConfigMap");
	cJSON *meta = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(meta, "name", cm);
	cJSON_AddStringToObject(meta, "namespace", ns);
	/* The version read is the precondition of the write: a second writer
	 * (another agent, a standby that believes it leads) gets a conflict
	 * instead of overwriting a record it never read. */
	if (*resource_version)
		cJSON_AddStringToObject(meta, "resourceVersion", *resource_version);
	cJSON *labels = cJSON_AddObjectToObject(meta, "labels");
	/* not managed-by=flinkops: a record is not one of the rendered
	 * objects, so it never shows in the inventory as drift or prune */
	cJSON_AddStringToObject(labels, RENDER_LABEL_MANAGED_BY, managed_by);
	cJSON_AddStringToObject(labels, RENDER_LABEL_INSTANCE, instance);
	cJSON_AddStringToObject(labels, DEPLOY_LABEL_AGENT, agent);
	cJSON *data = cJSON_AddObjectToObject(o, "data");
	cJSON_AddStringToObject(data, key, text);
	cJSON *result = NULL;
	/* A record not read is created, never applied: a create fails when
	 * one exists (one this agent's listing missed, another agent's), where
	 * an apply would overwrite it unread. */
	int rc = *resource_version ? k8s_apply(c, o, false, &result, e) : k8s_create(c, o, &result, e);
	cJSON_Delete(o);
	if (rc == 0) {
		const cJSON *rmeta = cJSON_GetObjectItemCaseSensitive(result, "metadata");
		const char *rv = fo_json_str(rmeta, "resourceVersion"), *id = fo_json_str(rmeta, "uid");
		free(*resource_version);
		*resource_version = rv ? fo_strdup(rv) : NULL;
		if (uid && id) {
			free(*uid);
			*uid = fo_strdup(id);
		}
	}
	cJSON_Delete(result);
	return rc;
}

int deploy_journal_save(k8s_client *c, const char *ns, const char *name, const char *agent, deploy_journal *j,
			fo_err *e)
{
	char ts[32];
	now_rfc3339(ts);
	deploy_journal_set(&j->updated, ts);
	deploy_journal_set(&j->agent, agent); /* the owner, in the record as in its label */
	char *text = deploy_journal_encode(j);
	/* what is written must read back: a counter or a string past its
	 * bound fails this step instead of the journal */
	deploy_journal back;
	fo_err be = FO_ERR_INIT;
	if (deploy_journal_decode(text, &back, &be) < 0) {
		fo_err_set(e, FO_EINVAL, "the journal of %s/%s is not recorded: it would not read back (%s)", ns, name,
			   fo_err_msg(&be));
		fo_err_clear(&be);
		free(text);
		return FO_EINVAL;
	}
	deploy_journal_clear(&back);
	char *cm = journal_name(name);
	int rc = deploy_record_write(c, ns, cm, name, DEPLOY_JOURNAL_LABEL_VALUE, agent, DEPLOY_JOURNAL_KEY, text,
				     &j->resource_version, &j->uid, e);
	free(cm);
	free(text);
	if (rc == FO_ECONFLICT && !j->resource_version)
		return fo_err_prefix(e, "the journal of %s/%s exists although this agent found none (another agent's?); "
					"nothing more is done for it in this pass, and the next pass reads it",
				     ns, name);
	if (rc == FO_ECONFLICT)
		return fo_err_prefix(e, "the journal of %s/%s changed since this agent read it (another writer?); "
					"nothing more is done for it in this pass",
				     ns, name);
	if (rc < 0)
		return fo_err_prefix(e, "recording the journal of %s/%s", ns, name);
	deploy_fault_point(deploy_step_name(j->step));
	return 0;
}

int deploy_journal_delete(k8s_client *c, const char *ns, const char *name, fo_err *e)
{
	char *cm = journal_name(name);
	int rc = k8s_delete(c, &k8s_kind_configmap, ns, cm, NULL, e);
	free(cm);
	return rc;
}

char *deploy_rest_url(const char *tmpl, const char *ns, const char *name)
{
	fo_buf b = FO_BUF_INIT;
	for (const char *p = tmpl; *p; p++) {
		if (strncmp(p, "{name}", 6) == 0) {
			fo_buf_puts(&b, name);
			p += 5;
		} else if (strncmp(p, "{namespace}", 11) == 0) {
			fo_buf_puts(&b, ns);
			p += 10;
		} else {
			fo_buf_putc(&b, *p);
		}
	}
	return fo_buf_detach(&b);
}


/* ---- the executor ------------------------------------------------------- */


/* The time since an RFC 3339 time in UTC ("...:SSZ" or "...:SS.fffZ"), in
 * ms; -1 when it does not parse. */
static long age_ms(const char *rfc3339)
{
	int64_t t = deploy_time_ms(rfc3339);
	if (t < 0)
		return -1;
	int64_t now = deploy_wall_ms();
	return now >= t ? (long)(now - t) : 0;
}

/* The age of the newest of three recorded times (RFC 3339, NULL: none); -1
 * when none is known. */
static long youngest_age_ms(const char *a, const char *b, const char *c)
{
	const char *times[] = {a, b, c};
	long young = -1;
	for (size_t i = 0; i < FO_ARRAY_LEN(times); i++) {
		long t = age_ms(times[i]);
		if (t >= 0 && (young < 0 || t < young))
			young = t;
	}
	return young;
}

typedef struct exec {
	k8s_client *c;
	deploy_item *it;
	const deploy_options *o;
	int (*apply_objects)(k8s_client *, deploy_item *, void *);
	void *arg;
	flink_rest *r;
	deploy_journal j;
	deploy_desired d;
	deploy_observed ob;
	/* what the observations point into */
	flink_checkpoint_info ck;
	flink_savepoint_status sp;
	flink_savepoint_status rsp;   /* a savepoint the running job was asked for */
	flink_savepoint_status csp;   /* a checkpoint the running job was asked for */
	char *ck_location;            /* its path (or "checkpoint N") once completed */
	char *cause;
	char *unjournaled;    /* an application JobManager's job no journal names */
	bool objects_current;
	bool save_failed;      /* the last step failed to record the journal */
	char *sts_uid;        /* the JobManager StatefulSet's uid, once an Event needed it */
	char *pods_waiting;   /* what the pods' rollout waits for */
	int pods_rc;          /* the API server did not answer the pods' GET (FO_ENET, FO_ETIMEOUT): 0 if it did */
	bool evented_failure; /* the FAIL step's Event already says why this rollout stopped */
} exec;

static void observations_clear(exec *x)
{
	flink_checkpoint_info_free(&x->ck);
	flink_savepoint_status_free(&x->sp);
	flink_savepoint_status_free(&x->rsp);
	flink_savepoint_status_free(&x->csp);
	free(x->ck_location);
	x->ck_location = NULL;
	free(x->cause);
	x->cause = NULL;
	free(x->unjournaled);
	x->unjournaled = NULL;
	free(x->pods_waiting);
	x->pods_waiting = NULL;
	memset(&x->ck, 0, sizeof(x->ck));
	memset(&x->sp, 0, sizeof(x->sp));
	memset(&x->rsp, 0, sizeof(x->rsp));
	memset(&x->csp, 0, sizeof(x->csp));
	memset(&x->ob, 0, sizeof(x->ob));
}

/*
 * A line of the rollout of x's deployment: the text starts "NS/NAME: " as
 * every rollout line does, and a JSON line carries the deployment and the
 * journal step it was written at as fields of their own.
 */
static void FO_PRINTF(4, 0) vrlog(const exec *x, enum fo_log_level lvl, long ms, const char *fmt, va_list ap)
{
	char *msg = fo_vasprintf(fmt, ap);
	char *dep = fo_asprintf("%s/%s", x->it->ns, x->it->name);
	fo_log_fields f = {.deployment = dep, .step = deploy_step_name(x->j.step), .duration_ms = ms};
	fo_logf(lvl, "rollout", &f, "%s: %s", dep, msg);
	free(dep);
	free(msg);
}

static void FO_PRINTF(3, 4) rlog(const exec *x, enum fo_log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vrlog(x, lvl, -1, fmt, ap);
	va_end(ap);
}

/* The same with how long what the line reports took (a JSON line's
 * durationMs; < 0: unknown). */
static void FO_PRINTF(4, 5) rlog_ms(const exec *x, enum fo_log_level lvl, long ms, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vrlog(x, lvl, ms, fmt, ap);
	va_end(ap);
}

/* What Flink says of savepoint `trigger` of `job` (a stop's, or one the
 * running job was asked for), or with `checkpoint` of a checkpoint it was
 * asked for; *flink_ok false when it could not say. A completed
 * checkpoint's path goes to *ck_location as the job's checkpoint history
 * names it, and *ck_known says whether it did (else "checkpoint N": the
 * history lags the trigger's status by up to web.refresh-interval, or
 * Flink kept the checkpoint nowhere addressable). */
enum deploy_trigger_obs deploy_trigger_state(flink_rest *r, const char *job, const char *trigger, bool checkpoint,
					     flink_savepoint_status *sp, char **ck_location, bool *ck_known,
					     bool *flink_ok)
{
	fo_err e = FO_ERR_INIT;
	enum deploy_trigger_obs t;
	int rc = checkpoint ? flink_rest_checkpoint_status(r, job, trigger, sp, &e)
			    : flink_rest_savepoint_status(r, job, trigger, sp, &e);
	if (rc == 0 && checkpoint && sp->state == FLINK_SAVEPOINT_COMPLETED) {
		t = DEPLOY_TRIGGER_COMPLETED;
		int prc = flink_rest_checkpoint_path(r, job, sp->checkpoint_id, ck_location, &e);
		*ck_known = prc == 0 && *ck_location;
		if (prc < 0) {
			fo_log(FO_LOG_DEBUG, "rollout", "checkpoint %lld of job %s completed; its history: %s",
			       (long long)sp->checkpoint_id, job, fo_err_msg(&e));
			fo_err_clear(&e);
		}
		if (!*ck_location)
			*ck_location = fo_asprintf("checkpoint %lld", (long long)sp->checkpoint_id);
	} else if (rc == 0)
		t = sp->state == FLINK_SAVEPOINT_COMPLETED && sp->location ? DEPLOY_TRIGGER_COMPLETED
									    : DEPLOY_TRIGGER_IN_PROGRESS;
	else if (sp->state == FLINK_SAVEPOINT_FAILED)
		t = DEPLOY_TRIGGER_FAILED;
	else if (rc == FO_ENOTFOUND)
		t = DEPLOY_TRIGGER_UNKNOWN;
	else {
		*flink_ok = false;
		t = DEPLOY_TRIGGER_NONE;
	}
	if (t == DEPLOY_TRIGGER_FAILED && !sp->failure)
		sp->failure = fo_strdup(fo_err_msg(&e));
	fo_err_clear(&e);
	return t;
}

/* Gather what the decision needs. Nothing here changes anything; a server
 * that does not answer is an observation (flink_ok false), not an error. */
static int first_stuck(cJSON *pod, void *arg)
{
	char **reason = arg;
	if (!*reason)
		*reason = deploy_pod_stuck_reason(pod);
	cJSON_Delete(pod);
	return 0;
}

/*
 * Why the pods of a StatefulSet that has not rolled out are stuck, when a
 * pod says so (the scheduler's or the kubelet's words), appended to
 * x->pods_waiting: a rollout that waits should say on what. Best effort:
 * the pods are listed by the StatefulSet's own selector; a list that fails
 * adds nothing (the wait itself stands on the StatefulSet).
 */
static void pods_stuck(exec *x, const cJSON *sts)
{
	const cJSON *ml = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(sts, "spec"), "selector"), "matchLabels");
	fo_buf sel = FO_BUF_INIT;
	const cJSON *l;
	cJSON_ArrayForEach(l, ml)
	{
		if (cJSON_IsString(l))
			fo_buf_printf(&sel, "%s%s=%s", sel.len ? "," : "", l->string, l->valuestring);
	}
	char *reason = NULL;
	fo_err e = FO_ERR_INIT;
	if (sel.len && k8s_list_each(x->c, &k8s_kind_pod, x->it->ns, fo_buf_cstr(&sel), 0, first_stuck, &reason, &e) < 0)
		rlog(x, FO_LOG_DEBUG, "pods of %s/%s not listed: %s", x->it->ns, x->it->name, fo_err_msg(&e));
	if (reason) {
		char *w = fo_asprintf("%s; %s", x->pods_waiting ? x->pods_waiting : "", reason);
		free(x->pods_waiting);
		x->pods_waiting = w;
	}
	free(reason);
	fo_err_clear(&e);
	fo_buf_free(&sel);
}

/* APPLIED: have the JobManager and TaskManager StatefulSets rolled out
 * what was applied? */
static int pods_ready(exec *x)
{
	static const enum render_component sts[] = {RENDER_STATEFULSET_JOBMANAGER, RENDER_STATEFULSET_TASKMANAGER};
	if (x->it->cluster_pending) {
		x->pods_waiting = fo_asprintf("session cluster %s is not yet what git says", x->it->cluster);
		return 0;
	}
	int ready = 1;
	for (size_t i = 0; i < FO_ARRAY_LEN(sts) && ready == 1; i++) {
		char *name = render_object_name(sts[i], cluster_of(x->it));
		cJSON *obj = NULL;
		fo_err e = FO_ERR_INIT;
		int rc = k8s_get(x->c, &k8s_kind_statefulset, x->it->ns, name, &obj, &e);
		if (rc < 0) {
			x->pods_waiting = fo_asprintf("%s", fo_err_msg(&e));
			ready = -1;
			if (rc == FO_ENET || rc == FO_ETIMEOUT)
				x->pods_rc = rc; /* the API server is away: the pass stops, as on any call */
		} else if (!deploy_statefulset_rolled_out(obj, &x->pods_waiting)) {
			ready = 0;
			pods_stuck(x, obj);
		}
		cJSON_Delete(obj);
		fo_err_clear(&e);
		free(name);
	}
	return ready;
}

static void observe(exec *x)
{
	observations_clear(x);
	deploy_observed *o = &x->ob;
	deploy_journal *j = &x->j;
	o->objects_current = x->objects_current;
	o->pods_ready = j->step == DEPLOY_STEP_APPLIED && !x->d.deleting ? pods_ready(x) : 1;
	o->pods_waiting = x->pods_waiting;
	o->slots_total = -1;
	o->step_age_ms = age_ms(j->step == DEPLOY_STEP_STOPPING && j->trigger_time ? j->trigger_time : j->updated);
	fo_err e = FO_ERR_INIT;
	flink_overview ov = {0};
	if (flink_rest_overview(x->r, &ov, &e) < 0) {
		rlog(x, FO_LOG_DEBUG, "Flink not observed: %s", fo_err_msg(&e));
		fo_err_clear(&e);
		return;
	}
	o->flink_ok = true;
	o->slots_total = ov.slots_total;
	flink_overview_free(&ov);
	const char *job = j->step == DEPLOY_STEP_SUBMITTED ? j->submit_job_id : j->job_id;
	if (job) {
		enum flink_job_status st = FLINK_JOB_UNKNOWN;
		int rc = flink_rest_job_state(x->r, job, &st, &e);
		if (rc == 0) {
			o->job_known = true;
			o->job = st;
		} else if (rc != FO_ENOTFOUND) {
			o->flink_ok = false; /* cannot tell: act on nothing */
		}
		fo_err_clear(&e);
	}
	bool terminal = o->job_known && flink_job_status_is_terminal(o->job);
	/* a job awaiting its first checkpoint: does it checkpoint, and did it */
	bool awaiting = j->step == DEPLOY_STEP_IDLE && j->await_checkpoint_since && o->job_known &&
			o->job == FLINK_JOB_RUNNING;
	o->checkpointing = -1;
	o->checkpoints_completed = -1;
	o->await_age_ms = age_ms(j->await_checkpoint_since);
	if (awaiting) {
		int64_t interval = 0;
		if (flink_rest_checkpointing(x->r, job, &interval, &e) == 0)
			o->checkpointing = interval > 0;
		fo_err_clear(&e);
	}
	bool need_ck = deploy_reads_checkpoints(&x->d, j, o);
	if (o->flink_ok && need_ck) {
		o->checkpoints_ok = flink_rest_checkpoints(x->r, job, &x->ck, &e) == 0;
		fo_err_clear(&e);
		if (o->checkpoints_ok && terminal) {
			/* Flink answers checkpoint statistics from a cache (up to
			 * web.refresh-interval and rest.cache.checkpoint-statistics.timeout
			 * old, 3 s by default). Right after a job ends they can still
			 * miss its last checkpoints, so they count as final only
			 * once the job has been over for longer than that. */
			flink_job_info info = {0};
			o->checkpoints_ok = flink_rest_job(x->r, job, &info, &e) == 0 &&
					    deploy_stats_final(&info, DEPLOY_STATS_SETTLE_MS);
			flink_job_info_free(&info);
			fo_err_clear(&e);
		}
		if (o->checkpoints_ok) {
			o->checkpoints_completed = x->ck.completed;
			o->checkpoint_failure = x->ck.latest_failure;
			o->newest_path = x->ck.latest_path;
			o->newest_is_savepoint = x->ck.latest_is_savepoint;
			o->restored_path = x->ck.restored_path;
		}
	}
	if (o->flink_ok && o->job_known && o->job == FLINK_JOB_FAILED) {
		flink_rest_exceptions(x->r, job, &x->cause, &e);
		fo_err_clear(&e);
		o->job_cause = x->cause;
	}
	if (o->flink_ok && j->step == DEPLOY_STEP_STOPPING && j->trigger_id && j->job_id) {
		o->trigger = deploy_trigger_state(x->r, j->job_id, j->trigger_id, false, &x->sp, NULL, NULL, &o->flink_ok);
		o->trigger_location = x->sp.location;
		o->trigger_failure = x->sp.failure;
	}
	o->request = DEPLOY_TRIGGER_NONE;
	if (o->flink_ok && j->step == DEPLOY_STEP_IDLE && j->request_trigger_id && j->job_id && o->job_known) {
		o->request = deploy_trigger_state(x->r, j->job_id, j->request_trigger_id, false, &x->rsp, NULL, NULL, &o->flink_ok);
		o->request_location = x->rsp.location;
		o->request_failure = x->rsp.failure;
		o->step_age_ms = age_ms(j->request_time);
	}
	o->ck_request = DEPLOY_TRIGGER_NONE;
	o->ck_request_age_ms = -1;
	if (o->flink_ok && j->step == DEPLOY_STEP_IDLE && j->checkpoint_trigger_id && j->job_id && o->job_known) {
		o->ck_request = deploy_trigger_state(x->r, j->job_id, j->checkpoint_trigger_id, true, &x->csp, &x->ck_location,
					      &o->ck_request_path_known, &o->flink_ok);
		o->ck_request_location = x->ck_location;
		o->ck_request_failure = x->csp.failure;
		o->ck_request_age_ms = age_ms(j->checkpoint_request_time);
	}
	/* periodic snapshots: since the newest one, the job's start or the last attempt */
	o->now_s = deploy_wall_ms() / 1000;
	o->checkpoint_age_ms = youngest_age_ms(j->checkpoint_time, j->running_since, j->checkpoint_request_time);
	o->savepoint_age_ms = youngest_age_ms(j->savepoint_time, j->running_since, j->request_time);
	if (o->flink_ok && x->d.application && !j->applied_job_id &&
	    (!j->job_id || j->step == DEPLOY_STEP_APPLIED || j->step == DEPLOY_STEP_UPLOADED)) {
		/* an application JobManager applied by a flinkops that journaled
		 * no start runs a job of its own choosing: find it */
		flink_job_list jobs = {0};
		if (flink_rest_jobs(x->r, &jobs, &e) < 0) {
			o->flink_ok = false; /* cannot tell: act on nothing */
		} else {
			for (size_t i = 0; i < jobs.n && !x->unjournaled; i++)
				if (jobs.v[i].id && !flink_job_status_is_terminal(jobs.v[i].state))
					x->unjournaled = fo_strdup(jobs.v[i].id);
			o->unjournaled_job = x->unjournaled;
		}
		flink_job_list_free(&jobs);
		fo_err_clear(&e);
	}
	if (o->flink_ok && j->jar_id && (j->step == DEPLOY_STEP_UPLOADED || j->step == DEPLOY_STEP_SUBMITTED)) {
		if (flink_rest_jar_exists(x->r, j->jar_id, &o->jar_known, &e) < 0)
			o->flink_ok = false;
		fo_err_clear(&e);
	}
}

/*
 * A Kubernetes Event on the deployment's JobManager StatefulSet, where
 * `kubectl describe` shows it. Best effort: an Event that cannot be posted
 * is a warning in the log and never fails the rollout. Messages hold job
 * ids, savepoint paths and Flink's causes, never a credential.
 */
static void FO_PRINTF(4, 5) event(exec *x, const char *reason, bool warning, const char *fmt, ...)
{
	deploy_item *it = x->it;
	char *sts = render_object_name(RENDER_STATEFULSET_JOBMANAGER, cluster_of(it));
	fo_err e = FO_ERR_INIT;
	if (!x->sts_uid) {
		cJSON *obj = NULL;
		if (k8s_get(x->c, &k8s_kind_statefulset, it->ns, sts, &obj, &e) == 0) {
			const char *uid = fo_json_str(cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "uid");
			x->sts_uid = fo_strdup(uid ? uid : "");
		}
		cJSON_Delete(obj);
		fo_err_clear(&e); /* without the uid the Event still lists under the name */
	}
	va_list ap;
	va_start(ap, fmt);
	char *text = fo_vasprintf(fmt, ap);
	va_end(ap);
	/* a session job's Events are on its cluster's JobManager: say whose */
	char *msg = it->cluster ? fo_asprintf("FlinkSessionJob %s: %s", it->name, text) : fo_strdup(text);
	free(text);
	k8s_event ev = {.ns = it->ns,
			.kind = &k8s_kind_statefulset,
			.name = sts,
			.uid = x->sts_uid,
			.reason = reason,
			.message = msg,
			.warning = warning,
			.component = "flinkops",
			.instance = x->o->agent};
	if (k8s_event_create(x->c, &ev, &e) < 0)
		rlog(x, FO_LOG_WARN, "the %s Event was not recorded: %s", reason, fo_err_msg(&e));
	fo_err_clear(&e);
	free(msg);
	free(sts);
}

/* The time the state the next job starts from was taken, when known: a
 * savepoint flinkops recorded, or the checkpoint (or savepoint) Flink
 * reported as the job's newest; "" when unknown. */
static void restore_time(const exec *x, const deploy_next *n, char ts[32])
{
	const deploy_journal *j = &x->j;
	ts[0] = '\0';
	if (n->restore && fo_streq(n->restore, j->savepoint_path) && j->savepoint_time)
		snprintf(ts, 32, "%s", j->savepoint_time);
	else if (n->restore && fo_streq(n->restore, j->restore_path) && j->restore_time)
		snprintf(ts, 32, "%s", j->restore_time);
	else if (n->restore && fo_streq(n->restore, x->ck.latest_path) && x->ck.latest_trigger_time > 0)
		epoch_ms_rfc3339(x->ck.latest_trigger_time, ts);
}

/* Journal the state the next job starts from, with the time it was taken. */
static void set_restore(exec *x, const deploy_next *n)
{
	deploy_journal *j = &x->j;
	char ts[32];
	restore_time(x, n, ts);
	deploy_journal_set(&j->restore_path, n->restore);
	deploy_journal_set(&j->restore_kind, n->restore_kind);
	deploy_journal_set(&j->restore_time, ts[0] ? ts : NULL);
}

/* A job now runs from the state it was started from: that state becomes
 * its lineage (startedFrom*, kept while it runs), and nothing is pending. */
static void started_from_restore(deploy_journal *j)
{
	deploy_journal_set(&j->started_from, j->restore_path);
	deploy_journal_set(&j->started_from_kind, j->restore_path ? j->restore_kind : "none");
	deploy_journal_set(&j->started_from_time, j->restore_path ? j->restore_time : NULL);
	deploy_journal_set(&j->restore_path, NULL);
	deploy_journal_set(&j->restore_kind, NULL);
	deploy_journal_set(&j->restore_time, NULL);
}

static int save(exec *x, fo_err *e)
{
	int rc = deploy_journal_save(x->c, x->it->ns, x->it->name, x->o->agent, &x->j, e);
	x->save_failed = rc < 0;
	return rc;
}

static void forget_rollback(deploy_journal *j)
{
	deploy_journal_set(&j->rollback_of_hash, NULL);
	deploy_journal_set(&j->rollback_of_target, NULL);
	deploy_journal_set(&j->rollback_of_commit, NULL);
	deploy_journal_set(&j->rollback_to_commit, NULL);
	deploy_journal_set(&j->rollback_cause, NULL);
}

/*
 * A new job never became healthy: journal the rollback first (what
 * failed, the commit whose spec runs again, why, and the state it starts
 * from), then cancel the job if it still runs. This pass leaves the
 * deployment there; the next renders the previous commit's spec in place
 * of the failed one (agent/pass.c) and runs it from that state.
 */
static int roll_back(exec *x, const deploy_next *n, fo_err *e)
{
	deploy_item *it = x->it;
	deploy_journal *j = &x->j;
	bool running = x->ob.job_known && !flink_job_status_is_terminal(x->ob.job);
	const char *failed = j->step == DEPLOY_STEP_IDLE && j->target_commit ? j->target_commit : x->o->rollout->commit;
	char *failed_copy = failed ? fo_strdup(failed) : NULL;
	deploy_journal_set(&j->rollback_of_hash, x->d.job_hash);
	deploy_journal_set(&j->rollback_of_target, x->d.target);
	deploy_journal_set(&j->rollback_of_commit, failed_copy);
	deploy_journal_set(&j->rollback_to_commit, j->previous_commit);
	deploy_journal_set(&j->rollback_cause, n->why);
	deploy_journal_set(&j->failed_job_hash, x->d.job_hash);
	deploy_journal_set(&j->failed_hash, x->d.target);
	deploy_journal_set(&j->last_error, n->why);
	deploy_journal_set(&j->upgrade_started, NULL);
	free(failed_copy);
	if (j->step == DEPLOY_STEP_SUBMITTED) {
		/* the submission that never ran is the job that failed */
		deploy_journal_set(&j->job_id, j->submit_job_id);
		deploy_journal_set(&j->submit_job_id, NULL);
	}
	deploy_journal_set(&j->await_checkpoint_since, NULL);
	j->restarts = 0;
	j->target_restarts = 0;
	set_restore(x, n);
	j->step = running ? DEPLOY_STEP_CANCELLING : DEPLOY_STEP_SAVEPOINT_TAKEN;
	if (!running)
		deploy_journal_count(&j->attempt); /* the next submission gets an id of its own */
	int rc = save(x, e);
	if (rc < 0)
		return rc;
	rlog(x, FO_LOG_WARN, "rolling back to commit %.7s, from %s: %s", j->rollback_to_commit,
	     n->restore ? n->restore : "empty state", n->why);
	event(x, "RollbackStarted", true, "rolling back to the spec of commit %.7s, from %s: %s", j->rollback_to_commit,
	      n->restore ? n->restore : "empty state", n->why);
	x->evented_failure = true;
	it->failure = n->failure != DEPLOY_FAILURE_NONE ? n->failure : DEPLOY_FAILURE_OTHER;
	it->rollback_started = true;
	if (running && (rc = flink_rest_job_cancel(x->r, j->job_id, e)) < 0)
		return fo_err_prefix(e, "cancel %s/%s for its rollback", it->ns, it->name);
	it->outcome = DEPLOY_OUTCOME_WAITING;
	free(it->waiting);
	it->waiting = fo_asprintf("rolling back to commit %.7s", j->rollback_to_commit);
	it->wait_ms = -1;
	return 1;
}

/* The first step away from a settled job (IDLE, or FAILED at an older
 * target) towards a new one starts an upgrade: its time is journaled, so
 * that the upgrade's duration survives a restart of the agent. A first
 * start, a resume after a suspend, a suspend and a delete are no upgrade. */
static void upgrade_begin(exec *x)
{
	deploy_journal *j = &x->j;
	if ((j->step != DEPLOY_STEP_IDLE && j->step != DEPLOY_STEP_FAILED) || !j->job_id || x->d.deleting ||
	    x->d.suspended)
		return;
	char ts[40];
	now_rfc3339_ms(ts);
	deploy_journal_set(&j->upgrade_started, ts);
	/* what a rollback would return to: the spec of the job being left,
	 * when that job was healthy (running, its first checkpoint done);
	 * leaving a job that never became healthy keeps the last healthy spec
	 * (CONFIRM clears it once a job is healthy) */
	bool healthy = j->step == DEPLOY_STEP_IDLE && !j->await_checkpoint_since && j->target_job_hash &&
		       j->target_commit && !x->d.rolling_back;
	if (healthy) {
		deploy_journal_set(&j->previous_commit, j->target_commit);
		deploy_journal_set(&j->previous_job_hash, j->target_job_hash);
		deploy_journal_set(&j->previous_target, j->target_hash);
	} else if (x->d.rolling_back) {
		deploy_journal_set(&j->previous_commit, NULL);
		deploy_journal_set(&j->previous_job_hash, NULL);
		deploy_journal_set(&j->previous_target, NULL);
	}
	if (!x->d.rolling_back)
		forget_rollback(j); /* a new target: the rollback is history */
}

static const char *stop_reason(const exec *x)
{
	return x->d.deleting ? "delete" : x->d.suspended ? "suspend" : "upgrade";
}

static int apply_all(exec *x, fo_err *e)
{
	if (!x->apply_objects)
		return fo_err_set(e, FO_EINVAL, "%s/%s: nothing to apply while deleting", x->it->ns, x->it->name);
	int rc = x->apply_objects(x->c, x->it, x->arg);
	if (rc < 0)
		return fo_err_set(e, rc, "%s", x->it->error ? x->it->error : "applying the objects failed");
	x->objects_current = true;
	x->d.restart_pods = false; /* the processes now run what git says */
	return 0;
}

/*
 * The job id of this attempt's submission (deploy_submit_job_id), derived
 * from the journal's uid: one of a deployment created again under its name
 * differs from its earlier life's (a session cluster still lists that
 * job, finished; it would be taken for this start's). A journal not
 * written yet has no uid: it is written first, so that the id a crash makes
 * the next pass derive again is the same.
 */
static int submission_id(exec *x, const char *hash, char **out, fo_err *e)
{
	*out = NULL;
	if (!x->j.uid) {
		int rc = save(x, e);
		if (rc < 0)
			return rc;
	}
	*out = deploy_submit_job_id(x->it->ns, x->it->name, hash, x->j.attempt, x->j.uid);
	return 0;
}

/*
 * An application cluster's start: its JobManager runs the job itself, so
 * the job id of this attempt and the state to start from go into its
 * objects. They are journaled first (appliedJobId, appliedFrom, and the
 * id as the submission's), then the objects are rendered with them; the
 * caller applies. The id is the attempt's for the whole target, so that
 * applying the same start again (a crash before APPLIED was recorded)
 * changes nothing, and a new image is a new id.
 */
static int apply_start(exec *x, fo_err *e)
{
	deploy_item *it = x->it;
	deploy_journal *j = &x->j;
	char *id = NULL;
	int rc = submission_id(x, x->d.target, &id, e);
	if (rc < 0)
		return rc;
	deploy_journal_set(&j->submit_job_id, id);
	deploy_journal_set(&j->applied_job_id, id);
	deploy_journal_set(&j->applied_from, j->restore_path);
	free(id);
	if ((rc = save(x, e)) < 0)
		return rc;
	render_objects objs = {0};
	render_start start = {j->applied_job_id, j->applied_from};
	deploy_item_set_start(it, start.job_id, start.from);
	if ((rc = render_deployment_at(it->fd, &start, &objs, e)) < 0)
		return fo_err_prefix(e, "render %s/%s", it->ns, it->name);
	/* the JobManager's StatefulSet carries the start: applied whatever the
	 * plan compared (server-side apply of an equal object changes nothing) */
	deploy_item_set_objects(it, &objs, x->o);
	it->state[RENDER_STATEFULSET_JOBMANAGER] = DEPLOY_OBJ_CHANGED;
	return 0;
}

static int deliver_jar(exec *x, fo_err *e)
{
	char *local = NULL, *jar_id = NULL;
	long t0 = now_ms();
	flink_jar_opts jo = x->o->rollout->jar;
	jo.stop = x->o->stop;
	jo.alive = x->o->alive;
	int rc = flink_jar_fetch(x->it->fd->job.jar_uri, &jo, &local, e);
	if (rc == 0)
		rc = flink_rest_jar_upload(x->r, local, &jar_id, e);
	x->it->ms_job_start += now_ms() - t0;
	free(local);
	if (rc < 0)
		return fo_err_prefix(e, "deliver the jar of %s/%s", x->it->ns, x->it->name);
	if (x->j.jar_id && !fo_streq(x->j.jar_id, jar_id)) {
		fo_err ignore = FO_ERR_INIT;
		flink_rest_jar_delete(x->r, x->j.jar_id, &ignore);
		fo_err_clear(&ignore);
	}
	x->j.step = DEPLOY_STEP_UPLOADED;
	deploy_journal_set(&x->j.jar_id, jar_id);
	free(jar_id);
	return save(x, e);
}

static int run_job(exec *x, fo_err *e)
{
	const flink_deployment *fd = x->it->fd;
	int rc = 0;
	/* a run sent again (Flink never got it) goes under the id recorded,
	 * so that a late first one is not doubled, whatever derived it */
	if (x->j.step != DEPLOY_STEP_SUBMITTED || !x->j.submit_job_id) {
		char *id = NULL;
		if ((rc = submission_id(x, x->d.job_hash, &id, e)) < 0)
			return rc;
		x->j.step = DEPLOY_STEP_SUBMITTED;
		deploy_journal_set(&x->j.submit_job_id, id);
		free(id);
	}
	if ((rc = save(x, e)) < 0)
		return rc;
	flink_run_opts ro = {0};
	ro.entry_class = fd->job.entry_class;
	ro.args = (const char *const *)fd->job.args;
	ro.nargs = fd->job.nargs;
	ro.parallelism = fd->job.parallelism;
	ro.savepoint_path = x->j.restore_path;
	ro.allow_non_restored_state = fd->job.allow_non_restored_state;
	ro.job_id = x->j.submit_job_id;
	if (fd->session_job)
		ro.conf = &fd->conf; /* the job's own options go with it */
	char *job = NULL;
	long t0 = now_ms();
	rc = flink_rest_jar_run(x->r, x->j.jar_id, &ro, &job, e);
	x->it->ms_job_start += now_ms() - t0;
	free(job);
	if (rc == FO_ECONFLICT) {
		/* that id is already known: the next observation says whether it runs */
		fo_err_clear(e);
		rc = 0;
	}
	if (rc < 0)
		return fo_err_prefix(e, "run %s/%s", x->it->ns, x->it->name);
	deploy_fault_point("run-sent");
	rlog(x, FO_LOG_INFO, "job %s submitted%s%s", x->j.submit_job_id,
		x->j.restore_path ? " from " : " with empty state", x->j.restore_path ? x->j.restore_path : "");
	return 0;
}

static int send_stop(exec *x, fo_err *e)
{
	deploy_item *it = x->it;
	deploy_journal *j = &x->j;
	char *got = NULL;
	rlog(x, FO_LOG_INFO, "stopping job %s with a savepoint (%s, trigger %s)", j->job_id,
		stop_reason(x), j->trigger_id);
	int rc = flink_rest_job_stop(x->r, j->job_id, it->fd ? it->fd->job.savepoint_dir : NULL, j->trigger_id, &got, e);
	free(got);
	if (rc < 0)
		return fo_err_prefix(e, "stop %s/%s with a savepoint", it->ns, it->name);
	deploy_fault_point("stop-sent");
	return 0;
}

/* The fields of a snapshot requested of the running job (a savepoint's or
 * a checkpoint's request in the journal). */
typedef struct snapshot_request {
	const char *what; /* "savepoint" or "checkpoint" */
	char **trigger_id, **time, **reason, **nonce;
	int64_t nonce_wanted;
} snapshot_request;

/* Journal a new request for `r` (reason manual or periodic, from n->why)
 * under a new trigger id, unless one is recorded already (then Flink never
 * got it, and it is sent again under the same id). */
static int journal_request(exec *x, const deploy_next *n, const snapshot_request *r, fo_err *e)
{
	if (*r->trigger_id)
		return 0;
	char *trigger = NULL;
	if (fo_random_hex(16, &trigger) < 0)
		return fo_err_set(e, FO_EIO, "no random trigger id for a %s of %s/%s", r->what, x->it->ns, x->it->name);
	char ts[40], nonce[24];
	now_rfc3339_ms(ts);
	snprintf(nonce, sizeof(nonce), "%lld", (long long)r->nonce_wanted);
	bool manual = fo_streq(n->why, "manual");
	deploy_journal_set(r->trigger_id, trigger);
	deploy_journal_set(r->time, ts);
	deploy_journal_set(r->reason, manual ? "manual" : "periodic");
	deploy_journal_set(r->nonce, manual ? nonce : NULL);
	free(trigger);
	return save(x, e);
}

/* A savepoint of the running job, which keeps running: the request is
 * journaled under its trigger id before it is sent (again, under the same
 * id, when Flink never got it). */
static int request_savepoint(exec *x, const deploy_next *n, fo_err *e)
{
	deploy_item *it = x->it;
	deploy_journal *j = &x->j;
	snapshot_request r = {"savepoint", &j->request_trigger_id, &j->request_time, &j->request_reason,
			      &j->request_nonce, x->d.savepoint_nonce};
	int rc = journal_request(x, n, &r, e);
	if (rc < 0)
		return rc;
	rlog(x, FO_LOG_INFO, "%s savepoint of job %s (trigger %s); the job keeps running", j->request_reason,
	     j->job_id, j->request_trigger_id);
	char *got = NULL;
	rc = flink_rest_savepoint_trigger(x->r, j->job_id, it->fd ? it->fd->job.savepoint_dir : NULL, NULL,
					  j->request_trigger_id, &got, e);
	free(got);
	if (rc < 0)
		return fo_err_prefix(e, "savepoint of %s/%s", it->ns, it->name);
	return 0;
}

/* A checkpoint of the running job, as request_savepoint: journaled under
 * its trigger id before it is sent (again, under the same id, when Flink
 * never got it). */
static int request_checkpoint(exec *x, const deploy_next *n, fo_err *e)
{
	deploy_item *it = x->it;
	deploy_journal *j = &x->j;
	snapshot_request r = {"checkpoint", &j->checkpoint_trigger_id, &j->checkpoint_request_time,
			      &j->checkpoint_reason, &j->checkpoint_nonce, x->d.checkpoint_nonce};
	int rc = journal_request(x, n, &r, e);
	if (rc < 0)
		return rc;
	const char *type = it->fd && it->fd->job.checkpoint_type ? it->fd->job.checkpoint_type : "FULL";
	rlog(x, FO_LOG_INFO, "%s %s checkpoint of job %s (trigger %s); the job keeps running", j->checkpoint_reason,
	     type, j->job_id, j->checkpoint_trigger_id);
	char *got = NULL;
	rc = flink_rest_checkpoint_trigger(x->r, j->job_id, type, j->checkpoint_trigger_id, &got, e);
	free(got);
	if (rc < 0)
		return fo_err_prefix(e, "checkpoint of %s/%s", it->ns, it->name);
	return 0;
}

/* The requested checkpoint ended: record it, or its failure; either way
 * the nonce it answered is handled. */
static int checkpoint_done(exec *x, const deploy_next *n, fo_err *e)
{
	deploy_journal *j = &x->j;
	char *reason = fo_strdup(j->checkpoint_reason ? j->checkpoint_reason : "manual");
	if (j->checkpoint_nonce)
		deploy_journal_set(&j->handled_checkpoint_nonce, j->checkpoint_nonce);
	if (n->restore) {
		char ts[32];
		now_rfc3339(ts);
		deploy_journal_set(&j->checkpoint_path, n->restore);
		deploy_journal_set(&j->checkpoint_time, ts);
		deploy_journal_set(&j->checkpoint_error, NULL);
		deploy_journal_set(&j->checkpoint_request_time, NULL);
	} else {
		deploy_journal_set(&j->checkpoint_error, n->why);
		/* checkpoint_request_time stays: the next periodic attempt counts from it */
	}
	deploy_journal_set(&j->checkpoint_trigger_id, NULL);
	deploy_journal_set(&j->checkpoint_reason, NULL);
	deploy_journal_set(&j->checkpoint_nonce, NULL);
	int rc = save(x, e);
	if (rc == 0 && n->restore) {
		rlog(x, FO_LOG_INFO, "%s checkpoint of job %s: %s", reason, j->job_id, n->restore);
		event(x, "CheckpointCompleted", false, "%s checkpoint of job %s: %s; the job keeps running", reason,
		      j->job_id, n->restore);
	} else if (rc == 0) {
		rlog(x, FO_LOG_WARN, "%s", n->why);
		event(x, "CheckpointFailed", true, "%s", n->why);
	}
	free(reason);
	return rc;
}

/* Savepoint retention: at the end of this file. */
static void record_taken(exec *x, const char *path, const char *reason);
static void retention(exec *x);

/* The requested savepoint ended: record it, or its failure; either way the
 * nonce it answered is handled (a new nonce asks again). */
static int request_done(exec *x, const deploy_next *n, fo_err *e)
{
	deploy_journal *j = &x->j;
	char *reason = j->request_reason ? fo_strdup(j->request_reason) : fo_strdup("manual");
	if (j->request_nonce)
		deploy_journal_set(&j->handled_nonce, j->request_nonce);
	if (n->restore) {
		char ts[32];
		now_rfc3339(ts);
		deploy_journal_set(&j->savepoint_path, n->restore);
		deploy_journal_set(&j->savepoint_time, ts);
		deploy_journal_set(&j->savepoint_reason, reason);
		deploy_journal_set(&j->savepoint_error, NULL);
		deploy_journal_set(&j->request_time, NULL);
		record_taken(x, n->restore, reason);
	} else {
		deploy_journal_set(&j->savepoint_error, n->why);
		/* request_time stays: the next periodic attempt counts from it */
	}
	deploy_journal_set(&j->request_trigger_id, NULL);
	deploy_journal_set(&j->request_reason, NULL);
	deploy_journal_set(&j->request_nonce, NULL);
	int rc = save(x, e);
	if (rc < 0) {
		free(reason);
		return rc;
	}
	if (n->restore) {
		rlog(x, FO_LOG_INFO, "%s savepoint of job %s: %s", reason, j->job_id, n->restore);
		event(x, "SavepointCompleted", false, "%s savepoint of job %s: %s; the job keeps running", reason, j->job_id,
		      n->restore);
	} else {
		rlog(x, FO_LOG_WARN, "%s", n->why);
		event(x, "SavepointFailed", true, "%s", n->why);
	}
	free(reason);
	return 0;
}

/* Flink's own restarts of the running job (a lost TaskManager pod, a
 * failed task), for the status file. Only what Flink said is recorded: a
 * question it does not answer leaves the count unknown and the pass goes
 * on, as the job itself was seen RUNNING. */
static void observe_restarts(exec *x)
{
	fo_err e = FO_ERR_INIT;
	int64_t n = -1;
	if (flink_rest_job_restarts(x->r, x->j.job_id, &n, &e) < 0)
		rlog(x, FO_LOG_DEBUG, "restarts of job %s unknown: %s", x->j.job_id, fo_err_msg(&e));
	else if (n >= 0) {
		x->it->flink_restarts_known = true;
		x->it->flink_restarts = n;
	}
	fo_err_clear(&e);
}

static int execute_step(exec *x, const deploy_next *n, fo_err *e)
{
	deploy_item *it = x->it;
	deploy_journal *j = &x->j;
	int rc = 0;
	/* a wrong decision is an error here, never a crash */
	if (deploy_op_acts_on_spec(n->op) && (!it->fd || x->d.deleting))
		return fo_err_set(e, FO_EINVAL,
				  "%s/%s: the rollout asked for step %s at journal step %s, but the deployment is gone "
				  "from git; nothing is done (this is a bug in flinkops: please report it)",
				  it->ns, it->name, deploy_op_name(n->op), deploy_step_name(j->step));
	switch (n->op) {
	case DEPLOY_OP_NONE:
		it->outcome = DEPLOY_OUTCOME_SETTLED;
		if (j->step == DEPLOY_STEP_FAILED)
			it->error = fo_strdup(j->last_error ? j->last_error : "failed");
		it->job_running = j->step == DEPLOY_STEP_IDLE && j->job_id && x->ob.job_known && x->ob.job == FLINK_JOB_RUNNING;
		if (it->job_running)
			observe_restarts(x);
		if (it->job_running && !j->await_checkpoint_since && !j->request_trigger_id)
			retention(x); /* settled and healthy: old savepoints may go */
		return 1;
	case DEPLOY_OP_WAIT:
		it->outcome = DEPLOY_OUTCOME_WAITING;
		free(it->waiting);
		it->waiting = fo_strdup(n->why);
		it->late = n->late;
		/* the wait's age goes to the log and the metrics only: the status
		 * file shows `waiting`, which stays the same while nothing changes */
		it->wait_ms = n->wait_ms;
		if (n->wait_ms >= 0)
			rlog_ms(x, FO_LOG_INFO, n->wait_ms, "waiting for %lds: %s%s", n->wait_ms / 1000, n->why ? n->why : "",
				n->late ? " (past its timeout; still waited for)" : "");
		else
			rlog(x, FO_LOG_INFO, "waiting: %s", n->why ? n->why : "");
		return 1;
	case DEPLOY_OP_STOP: {
		char *trigger = NULL;
		if (fo_random_hex(16, &trigger) < 0)
			return fo_err_set(e, FO_EIO, "no random trigger id for the stop of %s/%s", it->ns, it->name);
		upgrade_begin(x);
		char ts[40];
		now_rfc3339_ms(ts);
		j->step = DEPLOY_STEP_STOPPING;
		deploy_journal_set(&j->trigger_id, trigger);
		deploy_journal_set(&j->trigger_time, ts);
		free(trigger);
		if ((rc = save(x, e)) < 0)
			return rc;
		return send_stop(x, e);
	}
	case DEPLOY_OP_RESTOP:
		return send_stop(x, e);
	case DEPLOY_OP_CANCEL:
		upgrade_begin(x);
		if (j->step == DEPLOY_STEP_SUBMITTED) {
			/* a superseded submission that does not run: it is the job cancelled */
			deploy_journal_set(&j->job_id, j->submit_job_id);
			deploy_journal_set(&j->submit_job_id, NULL);
		}
		j->step = DEPLOY_STEP_CANCELLING;
		set_restore(x, n);
		if ((rc = save(x, e)) < 0)
			return rc;
		if ((rc = flink_rest_job_cancel(x->r, j->job_id, e)) < 0)
			return fo_err_prefix(e, "cancel %s/%s", it->ns, it->name);
		deploy_fault_point("cancel-sent");
		return 0;
	case DEPLOY_OP_KEEP: {
		bool from_stop = j->step == DEPLOY_STEP_STOPPING;
		/* the stopped job, for its Event: a delete or suspend forgets it below */
		char *old_job = from_stop && j->job_id ? fo_strdup(j->job_id) : NULL;
		if (from_stop && x->ob.step_age_ms >= 0) {
			it->ms_savepoint = x->ob.step_age_ms;
			/* the trigger recorded -> Flink said COMPLETED (not a stop whose
			 * result was lost, where the newest state is used instead) */
			it->savepoint_done = x->ob.trigger == DEPLOY_TRIGGER_COMPLETED;
		}
		upgrade_begin(x); /* an old job that had ended: no stop, straight to its state */
		char ts[32], tsms[40], rt[32];
		now_rfc3339(ts);
		now_rfc3339_ms(tsms);
		restore_time(x, n, rt);
		deploy_keep k = {.restore = n->restore,
				 .restore_kind = n->restore_kind,
				 .restore_time = rt[0] ? rt : NULL,
				 .stopped = from_stop && x->ob.trigger == DEPLOY_TRIGGER_COMPLETED ? x->ob.trigger_location : NULL,
				 .reason = stop_reason(x),
				 .deleting = x->d.deleting,
				 .suspended = x->d.suspended,
				 .now = ts,
				 .now_ms = tsms};
		bool stopped = k.stopped != NULL;
		char *dropped = deploy_journal_keep(j, &k);
		if (dropped)
			rlog(x, FO_LOG_WARN,
			     "more than %d savepoints kept: %s is no longer tracked, and flinkops will not dispose of it",
			     DEPLOY_JOURNAL_TAKEN_MAX, dropped);
		free(dropped);
		rlog(x, FO_LOG_INFO, "the next job starts from %s",
			n->restore ? n->restore : "empty state");
		rc = save(x, e);
		if (rc == 0 && stopped)
			event(x, "SavepointCompleted", false, "savepoint of job %s (%s) completed at %s", old_job ? old_job : "?",
			      stop_reason(x), j->savepoint_path ? j->savepoint_path : "?");
		free(old_job);
		return rc;
	}
	case DEPLOY_OP_ABORT_STOP:
		j->step = DEPLOY_STEP_IDLE;
		deploy_journal_set(&j->trigger_id, NULL);
		deploy_journal_set(&j->trigger_time, NULL);
		deploy_journal_set(&j->upgrade_started, NULL); /* the next try is an upgrade of its own */
		deploy_journal_set(&j->last_error, n->why);
		if ((rc = save(x, e)) < 0)
			return rc;
		event(x, "SavepointFailed", true, "%s", n->why);
		return fo_err_set(e, FO_ESERVER, "%s/%s: %s", it->ns, it->name, n->why);
	case DEPLOY_OP_APPLY:
		if (x->d.application && (rc = apply_start(x, e)) < 0)
			return rc;
		if ((rc = apply_all(x, e)) < 0)
			return rc;
		if (x->d.application)
			deploy_fault_point("start-applied");
		deploy_journal_applied(j, x->d.target);
		return save(x, e);
	case DEPLOY_OP_APPLY_ONLY:
		return apply_all(x, e);
	case DEPLOY_OP_SUSPEND:
		if ((rc = apply_all(x, e)) < 0)
			return rc;
		/* restorePath stays: the state the job resumes from (the
		 * suspend's savepoint, or the newest checkpoint of a job that had
		 * ended), never an older recorded savepoint */
		j->step = DEPLOY_STEP_IDLE;
		deploy_journal_set(&j->job_id, NULL);
		deploy_journal_set(&j->start_hash, NULL);
		deploy_journal_set(&j->await_checkpoint_since, NULL);
		deploy_journal_set(&j->upgrade_started, NULL);
		return save(x, e);
	case DEPLOY_OP_UPLOAD:
		return deliver_jar(x, e);
	case DEPLOY_OP_RUN:
		if (x->d.application) {
			/* its JobManager, applied with this id, runs the job */
			j->step = DEPLOY_STEP_SUBMITTED;
			rlog(x, FO_LOG_INFO, "the JobManager runs job %s%s%s", j->submit_job_id,
			     j->restore_path ? " from " : " with empty state", j->restore_path ? j->restore_path : "");
			return save(x, e);
		}
		return run_job(x, e);
	case DEPLOY_OP_RECORD: {
		/* what the job started from, for its Event, before the journal forgets it */
		char *from = j->restore_path ? fo_asprintf("from %s %s", j->restore_kind ? j->restore_kind : "state", j->restore_path)
					     : fo_strdup("with empty state");
		bool new_target = !fo_streq(j->target_job_hash, x->d.job_hash);
		if (new_target) {
			j->restarts = 0; /* a new target gets a fresh restart budget */
			j->target_restarts = 0;
		}
		j->step = DEPLOY_STEP_IDLE;
		deploy_journal_set(&j->job_id, j->submit_job_id);
		deploy_journal_set(&j->submit_job_id, NULL);
		deploy_journal_set(&j->target_job_hash, x->d.job_hash);
		deploy_journal_set(&j->target_hash, x->d.target);
		deploy_journal_set(&j->start_hash, NULL);
		/* a rollback's job runs the older commit's spec: that commit */
		deploy_journal_set(&j->target_commit, x->d.rolling_back && it->fd && it->fd->spec_commit
							      ? it->fd->spec_commit
							      : x->o->rollout->commit);
		if (x->d.rolling_back) {
			deploy_journal_set(&j->previous_commit, NULL);
			deploy_journal_set(&j->previous_job_hash, NULL);
			deploy_journal_set(&j->previous_target, NULL);
		} else {
			forget_rollback(j);
		}
		/* the lineage: what this job started from, kept while it runs */
		started_from_restore(j);
		char since[40];
		now_rfc3339_ms(since);
		deploy_journal_set(&j->await_checkpoint_since, since);
		deploy_journal_set(&j->running_since, since);
		/* a savepoint asked of the old job is moot; a new target (an
		 * upgrade or the first start) answers the nonce it came with */
		if (new_target) {
			char nonce[24];
			snprintf(nonce, sizeof(nonce), "%lld", (long long)x->d.savepoint_nonce);
			deploy_journal_set(&j->handled_nonce, nonce);
			snprintf(nonce, sizeof(nonce), "%lld", (long long)x->d.redeploy_nonce);
			deploy_journal_set(&j->handled_redeploy_nonce, nonce);
			snprintf(nonce, sizeof(nonce), "%lld", (long long)x->d.checkpoint_nonce);
			deploy_journal_set(&j->handled_checkpoint_nonce, nonce);
		}
		/* a checkpoint asked of the old job is moot too */
		deploy_journal_set(&j->checkpoint_trigger_id, NULL);
		deploy_journal_set(&j->checkpoint_request_time, NULL);
		deploy_journal_set(&j->checkpoint_reason, NULL);
		deploy_journal_set(&j->checkpoint_nonce, NULL);
		deploy_journal_set(&j->request_trigger_id, NULL);
		deploy_journal_set(&j->request_time, NULL);
		deploy_journal_set(&j->request_reason, NULL);
		deploy_journal_set(&j->request_nonce, NULL);
		deploy_journal_set(&j->savepoint_error, NULL);
		deploy_journal_set(&j->failed_job_hash, NULL);
		deploy_journal_set(&j->failed_hash, NULL);
		deploy_journal_set(&j->last_error, NULL);
		long upgrade_ms = age_ms(j->upgrade_started);
		deploy_journal_set(&j->upgrade_started, NULL);
		if (j->jar_id) {
			fo_err ignore = FO_ERR_INIT;
			flink_rest_jar_delete(x->r, j->jar_id, &ignore);
			fo_err_clear(&ignore);
			deploy_journal_set(&j->jar_id, NULL);
		}
		if ((rc = save(x, e)) < 0) {
			free(from);
			return rc;
		}
		it->job_started = true;
		if (upgrade_ms >= 0) {
			it->upgrade_done = true;
			it->ms_upgrade = upgrade_ms;
		}
		rlog(x, FO_LOG_INFO, "job %s RUNNING", j->job_id);
		event(x, "JobStarted", false, "job %s RUNNING, started %s", j->job_id, from);
		free(from);
		return 0;
	}
	case DEPLOY_OP_CONFIRM:
		if (x->ob.checkpointing == 1)
			rlog(x, FO_LOG_INFO, "job %s completed its first checkpoint", j->job_id);
		deploy_journal_confirm(j);
		return save(x, e);
	case DEPLOY_OP_SAVEPOINT:
		return request_savepoint(x, n, e);
	case DEPLOY_OP_SAVEPOINT_DONE:
		return request_done(x, n, e);
	case DEPLOY_OP_CHECKPOINT:
		return request_checkpoint(x, n, e);
	case DEPLOY_OP_CHECKPOINT_DONE:
		return checkpoint_done(x, n, e);
	case DEPLOY_OP_RESTART:
		rlog(x, FO_LOG_WARN, "job %s ended (%s); restart %d of %d from %s",
			j->step == DEPLOY_STEP_SUBMITTED ? j->submit_job_id : j->job_id,
			x->ob.job_known ? flink_job_status_name(x->ob.job) : "unknown to Flink", j->restarts + 1,
			x->d.restart_budget, n->restore ? n->restore : "empty state");
		it->drift_job = j->step == DEPLOY_STEP_IDLE;
		j->step = DEPLOY_STEP_SAVEPOINT_TAKEN;
		set_restore(x, n);
		deploy_journal_count(&j->restarts);
		deploy_journal_count(&j->target_restarts);
		deploy_journal_count(&j->attempt);
		return save(x, e);
	case DEPLOY_OP_FAIL:
		j->step = DEPLOY_STEP_FAILED;
		j->state_unknown = n->state_unknown;
		deploy_journal_set(&j->last_error, n->why);
		deploy_journal_set(&j->upgrade_started, NULL);
		deploy_journal_set(&j->failed_job_hash, x->d.job_hash);
		deploy_journal_set(&j->failed_hash, x->d.target);
		if ((rc = save(x, e)) < 0)
			return rc;
		event(x, n->failure == DEPLOY_FAILURE_RESTART_BUDGET ? "RestartBudgetExhausted" : "UpgradeFailed", true, "%s", n->why);
		x->evented_failure = true;
		return fo_err_set(e, FO_EREFUSED, "%s/%s: %s", it->ns, it->name, n->why);
	case DEPLOY_OP_ROLLBACK:
		return roll_back(x, n, e);
	case DEPLOY_OP_ADOPT:
		/* the submission runs a target git no longer asks for: it becomes
		 * the job (never git's: no job hash, no commit of its own), and
		 * the next step stops it as any job is stopped */
		if (n->job) {
			/* an application JobManager's job that no journal names: of
			 * no target, so the next step stops it (with a savepoint in
			 * savepoint mode, and for a suspend or a delete) */
			rlog(x, FO_LOG_WARN, "the JobManager runs job %s, which no journal names (applied by an older "
			     "flinkops); it is stopped before anything else", n->job);
			j->step = DEPLOY_STEP_IDLE;
			deploy_journal_set(&j->job_id, n->job);
			deploy_journal_set(&j->target_hash, NULL);
			deploy_journal_set(&j->target_job_hash, NULL);
			deploy_journal_set(&j->start_hash, NULL);
			deploy_journal_set(&j->submit_job_id, NULL);
			return save(x, e);
		}
		rlog(x, FO_LOG_INFO, "job %s runs a target git no longer asks for; it is stopped before anything else",
		     j->submit_job_id);
		j->step = DEPLOY_STEP_IDLE;
		deploy_journal_set(&j->job_id, j->submit_job_id);
		deploy_journal_set(&j->submit_job_id, NULL);
		deploy_journal_set(&j->target_hash, j->start_hash);
		deploy_journal_set(&j->target_job_hash, NULL);
		deploy_journal_set(&j->start_hash, NULL);
		started_from_restore(j);
		return save(x, e);
	case DEPLOY_OP_FORGET_ROLLBACK:
		rlog(x, FO_LOG_INFO, "git asks for the spec that runs: the rollback of commit %.7s is history",
		     j->rollback_of_commit ? j->rollback_of_commit : "?");
		forget_rollback(j);
		deploy_journal_set(&j->failed_job_hash, NULL);
		deploy_journal_set(&j->failed_hash, NULL);
		return save(x, e);
	}
	return fo_err_set(e, FO_EINVAL, "unknown rollout step");
}


/* Why a step failed, for counting: the decision's reason for FAIL and
 * ABORT_STOP (recorded as intended), else the request that failed. */
static enum deploy_failure failure_of(const exec *x, const deploy_next *n)
{
	if (n->op == DEPLOY_OP_FAIL || n->op == DEPLOY_OP_ABORT_STOP || n->op == DEPLOY_OP_ROLLBACK)
		return n->failure != DEPLOY_FAILURE_NONE ? n->failure : DEPLOY_FAILURE_OTHER;
	if (x->save_failed)
		return DEPLOY_FAILURE_JOURNAL;
	switch (n->op) {
	case DEPLOY_OP_STOP:
	case DEPLOY_OP_RESTOP:
	case DEPLOY_OP_CANCEL:
		return DEPLOY_FAILURE_STOP;
	case DEPLOY_OP_APPLY:
	case DEPLOY_OP_APPLY_ONLY:
	case DEPLOY_OP_SUSPEND:
		return DEPLOY_FAILURE_APPLY;
	case DEPLOY_OP_UPLOAD:
		return DEPLOY_FAILURE_JAR;
	case DEPLOY_OP_RUN:
		return DEPLOY_FAILURE_RUN;
	default:
		return DEPLOY_FAILURE_OTHER;
	}
}

/* Run one step. Returns 0 when the step was done (ask again), 1 when the
 * item is settled or waits (the pass moves on), or a negative error. */
static int execute(exec *x, const deploy_next *n_in, fo_err *e)
{
	/* n_in's strings may point into the journal, which this step rewrites */
	deploy_next copy = *n_in;
	char *restore_copy = n_in->restore ? fo_strdup(n_in->restore) : NULL;
	char *kind_copy = n_in->restore_kind ? fo_strdup(n_in->restore_kind) : NULL;
	copy.restore = restore_copy;
	copy.restore_kind = kind_copy;
	x->save_failed = false;
	int rc = execute_step(x, &copy, e);
	/* cut by the stop request: no failure of the step's own */
	if (rc < 0 && rc != FO_ESTOPPED && x->it->failure == DEPLOY_FAILURE_NONE)
		x->it->failure = failure_of(x, n_in);
	free(restore_copy);
	free(kind_copy);
	return rc;
}


static bool stop_requested(const exec *x)
{
	return x->o->stop && atomic_load(x->o->stop);
}

/* Shutdown: what is done is journaled; no new step starts, and the next
 * agent resumes from the journal. */
static int stopping(exec *x)
{
	x->it->outcome = DEPLOY_OUTCOME_WAITING;
	free(x->it->waiting);
	x->it->waiting = fo_strdup("the agent is stopping; the next pass resumes from the journal");
	x->it->wait_ms = -1;
	return 0;
}

/* One deployment as far as it can go now: observe, decide, act, repeat. */
static int advance(exec *x, fo_err *e)
{
	int rc = 0;
	/* a rollout has at most a dozen steps; the bound only stops a bug */
	for (int i = 0; i < 32; i++) {
		if (i > 0 && stop_requested(x))
			return stopping(x);
		x->pods_rc = 0;
		observe(x);
		/* the stop request may have cut the observation's calls: decide
		 * nothing from what they did not say */
		if (stop_requested(x))
			return stopping(x);
		if (x->pods_rc)
			return fo_err_set(e, x->pods_rc, "%s/%s: %s", x->it->ns, x->it->name, x->pods_waiting);
		deploy_next n;
		deploy_next_step(&x->d, &x->j, &x->ob, &n);
		deploy_snapshot_hold_step(&n, x->it->snapshot_hold);
		fault_decision(&n, x->d.deleting || !x->it->fd);
		rlog(x, FO_LOG_DEBUG, "step %s, next %s%s%s", deploy_step_name(x->j.step),
			 deploy_op_name(n.op), n.why ? ": " : "", n.why ? n.why : "");
		rc = execute(x, &n, e);
		enum deploy_op op = n.op;
		deploy_next_clear(&n);
		if (rc == FO_ESTOPPED) {
			/* a transfer the stop request cut: the journal is as a
			 * crash at that point would leave it, and the step is no
			 * failure; the next agent takes it up from there */
			rlog(x, FO_LOG_INFO, "%s interrupted by stop request: %s", deploy_op_name(op), fo_err_msg(e));
			fo_err_clear(e);
			return stopping(x);
		}
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	return fo_err_set(e, FO_EINVAL, "%s/%s: the rollout did not settle in 32 steps", x->it->ns, x->it->name);
}

static void desired_of(exec *x, bool deleting)
{
	const deploy_item *it = x->it;
	const deploy_rollout_opts *ro = x->o->rollout;
	deploy_desired *d = &x->d;
	memset(d, 0, sizeof(*d));
	d->deleting = deleting;
	d->savepoint_timeout_ms = ro->savepoint_timeout_ms;
	d->ready_timeout_ms = ro->ready_timeout_ms;
	d->running_timeout_ms = ro->running_timeout_ms;
	d->restart_budget = ro->restart_budget;
	/* gone from git: what git last asked, as the journal recorded it (a
	 * journal that recorded nothing: a savepoint, as before it did) */
	d->mode = FLINK_UPGRADE_SAVEPOINT;
	for (int m = FLINK_UPGRADE_STATELESS; m <= FLINK_UPGRADE_LAST_STATE; m++)
		if (fo_streq(x->j.upgrade_mode, flink_upgrade_mode_name((enum flink_upgrade_mode)m)))
			d->mode = (enum flink_upgrade_mode)m;
	d->savepoint_dir = x->j.savepoint_dir != NULL || !x->j.upgrade_mode;
	if (it->fd) {
		const flink_deployment *fd = it->fd;
		d->job_hash = it->job_hash;
		d->target = it->target_hash;
		d->suspended = fd->job.state == FLINK_STATE_SUSPENDED;
		d->mode = fd->job.upgrade_mode;
		d->savepoint_dir = flink_savepoint_dir(fd) != NULL;
		d->initial_savepoint = fd->job.initial_savepoint_path;
		d->parallelism = fd->job.parallelism;
		/* a session job restarts when its cluster's pods do */
		d->restart_pods = it->cluster ? it->cluster_restarts : it->change.restarts_job;
		d->savepoint_nonce = fd->job.savepoint_trigger_nonce;
		d->redeploy_nonce = fd->job.savepoint_redeploy_nonce;
		d->periodic_savepoint_ms = fd->job.periodic_savepoint_ms;
		d->periodic_cron = fd->job.periodic_savepoint_cron ? &fd->job.periodic_cron : NULL;
		d->checkpoint_nonce = fd->job.checkpoint_trigger_nonce;
		d->periodic_checkpoint_ms = fd->job.periodic_checkpoint_ms;
		d->periodic_checkpoint_cron =
			fd->job.periodic_checkpoint_cron ? &fd->job.periodic_checkpoint_cron_parsed : NULL;
		d->rolling_back = fd->spec_commit != NULL;
		d->application = flink_application_cluster(fd);
		/* a stateless job has no state to bring back */
		d->rollback = fd->job.upgrade_mode != FLINK_UPGRADE_STATELESS &&
			      (fd->job.rollback == FLINK_ROLLBACK_ON ||
			       (fd->job.rollback == FLINK_ROLLBACK_DEFAULT && ro->rollback));
	}
}

int deploy_rest_open(const deploy_options *o, const char *ns, const char *cluster, flink_rest **out, fo_err *e)
{
	char *url = deploy_rest_url(o->rollout->rest_url, ns, cluster);
	flink_rest_opts ro = {0};
	ro.ca_file = o->rollout->ca_file;
	ro.timeout_ms = o->rollout->call_timeout_ms;
	ro.fence = o->rollout->fence;
	ro.stop = o->stop;
	ro.alive = o->alive;
	int rc = flink_rest_new(url, &ro, out, e);
	free(url);
	return rc;
}

static int rollout_run(k8s_client *c, deploy_item *it, const deploy_options *o, bool deleting,
		       int (*apply_objects)(k8s_client *, deploy_item *, void *), void *arg, fo_err *e)
{
	exec x;
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.it = it;
	x.o = o;
	x.apply_objects = apply_objects;
	x.arg = arg;
	long t_start = now_ms();
	deploy_journal_copy(&x.j, &it->journal);
	desired_of(&x, deleting);
	bool remember = false;
	if (!deleting && it->fd && it->fd->has_job) {
		/* what a delete will need once git no longer says it: carried by
		 * the next step's write, or written once when it changed in an
		 * existing journal, never on every pass */
		const char *mode = flink_upgrade_mode_name(it->fd->job.upgrade_mode);
		const char *dir = flink_savepoint_dir(it->fd);
		const char *cluster = it->fd->session_job ? it->fd->deployment_name : NULL;
		remember = x.j.resource_version && (!fo_streq(x.j.upgrade_mode, mode) || !fo_streq(x.j.savepoint_dir, dir) ||
						    !fo_streq(x.j.session_cluster, cluster));
		deploy_journal_set(&x.j.upgrade_mode, mode);
		deploy_journal_set(&x.j.savepoint_dir, dir);
		deploy_journal_set(&x.j.session_cluster, cluster);
	}
	x.objects_current = true;
	for (int k = 0; k < RENDER_NCOMPONENTS && !deleting; k++)
		x.objects_current = x.objects_current && it->state[k] == DEPLOY_OBJ_EQUAL;
	int rc = deploy_rest_open(o, it->ns, cluster_of(it), &x.r, e);
	if (rc < 0)
		it->failure = DEPLOY_FAILURE_OTHER;
	if (rc == 0 && remember)
		rc = save(&x, e);
	if (rc == 0)
		rc = advance(&x, e);
	it->ms_total = now_ms() - t_start;
	if (rc < 0) {
		it->outcome = DEPLOY_OUTCOME_FAILED;
		deploy_journal_set(&x.j.last_error, fo_err_msg(e));
		if (!x.evented_failure)
			event(&x, "UpgradeFailed", true, "%s", fo_err_msg(e));
	}
	/* what Flink said of the job is what the status file shows */
	free(it->job_state);
	it->job_state = x.ob.job_known ? fo_strdup(flink_job_status_name(x.ob.job)) : NULL;
	deploy_journal_copy(&it->journal, &x.j);
	observations_clear(&x);
	free(x.sts_uid);
	flink_rest_free(x.r);
	deploy_journal_clear(&x.j);
	return rc;
}

int deploy_rollout_item(k8s_client *c, deploy_item *it, const deploy_options *o,
			int (*apply_objects)(k8s_client *, deploy_item *, void *), void *arg, fo_err *e)
{
	return rollout_run(c, it, o, false, apply_objects, arg, e);
}

int deploy_rollout_final_savepoint(k8s_client *c, deploy_item *it, const deploy_options *o, fo_err *e)
{
	return rollout_run(c, it, o, true, NULL, NULL, e);
}


/* ---- savepoint retention (retention.h) ----------------------------------- */

/* Disposals asked of Flink in one pass at most: the rest wait for the next. */
#define RETENTION_SENDS_MAX 8

/* Record a savepoint flinkops took in the journal's retention list; the
 * step that records the savepoint saves it. */
static void record_taken(exec *x, const char *path, const char *reason)
{
	char ts[40];
	now_rfc3339_ms(ts);
	char *dropped = NULL;
	deploy_journal_add_taken(&x->j, path, ts, reason, &dropped);
	if (dropped)
		rlog(x, FO_LOG_WARN,
		     "more than %d savepoints kept: %s is no longer tracked, and flinkops will not dispose of it",
		     DEPLOY_JOURNAL_TAKEN_MAX, dropped);
	free(dropped);
}

/* Ask Flink how the disposals in flight went: one disposed of (or already
 * gone) leaves the journal; one that failed, or that Flink forgot, is asked
 * again later. *busy: one is still in progress. True when the journal changed. */
static bool retention_poll(exec *x, bool *busy)
{
	deploy_journal *j = &x->j;
	bool changed = false;
	*busy = false;
	for (size_t i = 0; i < j->ndisposals;) {
		deploy_disposal *d = &j->disposals[i];
		if (!d->trigger_id) {
			i++;
			continue;
		}
		flink_disposal_status st;
		fo_err e = FO_ERR_INIT;
		int rc = flink_rest_savepoint_disposal_status(x->r, d->trigger_id, &st, &e);
		if (rc == 0 && !st.done) {
			*busy = true;
			i++;
		} else if (rc == 0 || st.missing) {
			rlog(x, FO_LOG_INFO, "disposed of savepoint %s%s", d->path, st.missing ? " (it was already gone)" : "");
			event(x, "SavepointDisposed", false, "savepoint %s disposed of%s (kubernetes.operator.savepoint.history.max.*)",
			      d->path, st.missing ? ": it was already gone" : "");
			deploy_journal_remove_disposal(j, i);
			changed = true;
		} else if (rc == FO_ENOTFOUND || st.failure) {
			/* failed, or forgotten by a restarted JobManager: asked again later */
			if (st.failure) {
				char *msg = fo_asprintf("dispose of savepoint %s on %s: %s", d->path, flink_rest_base(x->r),
							st.failure);
				deploy_journal_set(&d->last_error, msg);
				rlog(x, FO_LOG_WARN, "%s (attempt %d; asked again later)", msg, d->attempts);
				event(x, "SavepointDisposalFailed", true, "%s (attempt %d; asked again later)", msg, d->attempts);
				free(msg);
			}
			deploy_journal_set(&d->trigger_id, NULL);
			changed = true;
			i++;
		} else {
			rlog(x, FO_LOG_DEBUG, "disposal of %s not observed: %s", d->path, fo_err_msg(&e));
			i++; /* Flink did not answer: looked at again in the next pass */
		}
		flink_disposal_status_free(&st);
		fo_err_clear(&e);
	}
	return changed;
}

/* What the pass knows is referenced (retention.h), or NULL. */
static const deploy_retention_ctx *retention_ctx(const exec *x)
{
	return x->o->rollout ? x->o->rollout->retention : NULL;
}

/* Move the savepoints retention lets go, and deploy_retention_may_dispose
 * allows, from `taken` to `disposals` (not yet asked of Flink), or, unless
 * the deployment asks for their disposal (flink_savepoint_cleanup), only
 * out of `taken`: their data stays where it is, as upstream keeps it. True
 * when the journal changed. */
static bool retention_choose(exec *x)
{
	deploy_journal *j = &x->j;
	const deploy_item *it = x->it;
	const flink_job *fj = &it->fd->job;
	bool dispose = fj->savepoint_cleanup == FLINK_CLEANUP_DISPOSE;
	if (fj->savepoint_cleanup == FLINK_CLEANUP_OFF || j->ntaken < 2 ||
	    (dispose && j->ndisposals >= DEPLOY_JOURNAL_DISPOSALS_MAX))
		return false;
	bool *chosen = fo_calloc(j->ntaken, sizeof(*chosen));
	int count = fj->savepoint_history_max_count ? fj->savepoint_history_max_count : FLINK_SAVEPOINT_HISTORY_COUNT_DEFAULT;
	int64_t age = fj->savepoint_history_max_age_ms ? fj->savepoint_history_max_age_ms : FLINK_SAVEPOINT_HISTORY_AGE_DEFAULT_MS;
	char *held = NULL;
	deploy_retention_choose(retention_ctx(x), it->ns, it->name, j, count, age, deploy_wall_ms(), chosen, &held);
	if (held)
		rlog(x, FO_LOG_DEBUG, "%s", held); /* every pass while it holds: not an Event */
	free(held);
	bool moved = false;
	/* oldest first, as long as there is room; the rest stay taken */
	for (size_t i = 0, k = 0; k < j->ntaken && (!dispose || j->ndisposals < DEPLOY_JOURNAL_DISPOSALS_MAX); i++) {
		if (!chosen[i]) {
			k++;
			continue;
		}
		if (!dispose) {
			rlog(x, FO_LOG_INFO,
			     "savepoint %s (%s, %s) is past the retention (max.count %d, max.age %llds): no longer "
			     "tracked; its data stays (kubernetes.operator.savepoint.dispose-on-delete is not true)",
			     j->taken[k].path, j->taken[k].reason ? j->taken[k].reason : "?",
			     j->taken[k].time ? j->taken[k].time : "?", count, (long long)(age / 1000));
			deploy_journal_remove_taken(j, k);
			moved = true;
			continue;
		}
		j->disposals = fo_realloc(j->disposals, (j->ndisposals + 1) * sizeof(*j->disposals));
		deploy_disposal *d = &j->disposals[j->ndisposals++];
		memset(d, 0, sizeof(*d));
		d->path = fo_strdup(j->taken[k].path);
		rlog(x, FO_LOG_INFO, "savepoint %s (%s, %s) is past the retention (max.count %d, max.age %llds): disposing of it",
		     d->path, j->taken[k].reason ? j->taken[k].reason : "?", j->taken[k].time ? j->taken[k].time : "?", count,
		     (long long)(age / 1000));
		deploy_journal_remove_taken(j, k);
		moved = true;
	}
	free(chosen);
	return moved;
}

/* Ask Flink to dispose of each journaled disposal not in flight whose
 * retry is due, each allowed by deploy_retention_may_dispose right before
 * it is sent: with a doubt in this pass none is sent (it stays journaled);
 * one whose savepoint has become referenced since it was chosen goes back
 * to `taken`. True when the journal changed. */
static bool retention_send(exec *x)
{
	deploy_journal *j = &x->j;
	const deploy_retention_ctx *ctx = retention_ctx(x);
	bool changed = false;
	int sent = 0;
	int64_t now = deploy_wall_ms();
	for (size_t i = 0; i < j->ndisposals && sent < RETENTION_SENDS_MAX;) {
		deploy_disposal *d = &j->disposals[i];
		if (d->trigger_id || !deploy_retention_retry_due(d->attempts, deploy_time_ms(d->time), now)) {
			i++;
			continue;
		}
		if (x->o->stop && atomic_load(x->o->stop))
			break;
		char *why = NULL;
		if (!deploy_retention_may_dispose(ctx, x->it->ns, x->it->name, j, d->path, &why)) {
			if (!ctx || ctx->doubts) {
				rlog(x, FO_LOG_DEBUG, "savepoint %s is not disposed of yet: %s", d->path, why);
				i++;
			} else {
				rlog(x, FO_LOG_INFO, "savepoint %s is kept, not disposed of: %s", d->path, why);
				event(x, "SavepointKept", false, "savepoint %s is kept, not disposed of: %s", d->path, why);
				deploy_retention_keep(j, i);
				changed = true;
			}
			free(why);
			continue;
		}
		free(why);
		char ts[40];
		now_rfc3339_ms(ts);
		deploy_journal_count(&d->attempts);
		deploy_journal_set(&d->time, ts);
		changed = true;
		sent++;
		char *trigger = NULL;
		fo_err e = FO_ERR_INIT;
		if (flink_rest_savepoint_dispose(x->r, d->path, &trigger, &e) == 0) {
			deploy_journal_set(&d->trigger_id, trigger);
			rlog(x, FO_LOG_INFO, "disposing of savepoint %s (request %s)", d->path, trigger);
		} else {
			deploy_journal_set(&d->last_error, fo_err_msg(&e));
			rlog(x, FO_LOG_WARN, "%s (attempt %d; asked again later)", fo_err_msg(&e), d->attempts);
			event(x, "SavepointDisposalFailed", true, "%s (attempt %d; asked again later)", fo_err_msg(&e),
			      d->attempts);
		}
		free(trigger);
		fo_err_clear(&e);
		i++;
	}
	return changed;
}

/*
 * A settled, healthy deployment: dispose of the savepoints flinkops took
 * that retention lets go. Each choice is journaled before Flink is asked
 * (a disposal never sent is asked for by the next pass; one sent twice is
 * already gone the second time, which counts as disposed of). Errors are
 * logged and sent as Events, never a failed rollout: a failed disposal
 * stays in the journal and is asked again later.
 */
static void retention(exec *x)
{
	if (!x->it->fd)
		return;
	fo_err e = FO_ERR_INIT;
	bool busy = false;
	bool changed = retention_poll(x, &busy);
	changed = retention_choose(x) || changed;
	if (changed && save(x, &e) < 0)
		goto failed;
	changed = retention_send(x);
	/* a disposal of a small savepoint takes milliseconds: look for up to a second */
	for (int i = 0; i < 10 && x->j.ndisposals; i++) {
		changed = retention_poll(x, &busy) || changed;
		if (!busy || fo_pause_ms(100, x->o->stop))
			break;
	}
	if (changed && save(x, &e) < 0)
		goto failed;
	return;
failed:
	rlog(x, FO_LOG_WARN, "savepoint retention: %s; tried again in the next pass", fo_err_msg(&e));
	fo_err_clear(&e);
}
