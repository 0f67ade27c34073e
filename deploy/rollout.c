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
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deploy/deploy.h"
#include "deploy/journal.h"
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

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static char *journal_name(const char *name)
{
	return fo_asprintf(DEPLOY_JOURNAL_PREFIX "%s", name);
}

int deploy_journal_load(k8s_client *c, const char *ns, const char *name, deploy_journal *j, fo_err *e)
{
	memset(j, 0, sizeof(*j));
	char *cm = journal_name(name);
	cJSON *obj = NULL;
	int rc = k8s_get(c, &k8s_kind_configmap, ns, cm, &obj, e);
	free(cm);
	if (rc == FO_ENOTFOUND) {
		fo_err_clear(e);
		return 0; /* never rolled out: an empty journal */
	}
	if (rc < 0)
		return rc;
	const char *text = fo_json_str(cJSON_GetObjectItemCaseSensitive(obj, "data"), DEPLOY_JOURNAL_KEY);
	rc = deploy_journal_decode(text, j, e);
	cJSON_Delete(obj);
	if (rc < 0)
		return fo_err_prefix(e, "journal of %s/%s", ns, name);
	return 0;
}

int deploy_journal_save(k8s_client *c, const char *ns, const char *name, const char *agent, deploy_journal *j,
			fo_err *e)
{
	char ts[32];
	now_rfc3339(ts);
	deploy_journal_set(&j->updated, ts);
	char *text = deploy_journal_encode(j);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "apiVersion", "v1");
	cJSON_AddStringToObject(o, "kind", "ConfigMap");
	cJSON *meta = cJSON_AddObjectToObject(o, "metadata");
	char *cm = journal_name(name);
	cJSON_AddStringToObject(meta, "name", cm);
	cJSON_AddStringToObject(meta, "namespace", ns);
	cJSON *labels = cJSON_AddObjectToObject(meta, "labels");
	/* not managed-by=flinkops: the journal is not one of the rendered
	 * objects, so it never shows in the inventory as drift or prune */
	cJSON_AddStringToObject(labels, RENDER_LABEL_MANAGED_BY, DEPLOY_JOURNAL_LABEL_VALUE);
	cJSON_AddStringToObject(labels, RENDER_LABEL_INSTANCE, name);
	cJSON_AddStringToObject(labels, DEPLOY_LABEL_AGENT, agent);
	cJSON *data = cJSON_AddObjectToObject(o, "data");
	cJSON_AddStringToObject(data, DEPLOY_JOURNAL_KEY, text);
	int rc = k8s_apply(c, o, false, NULL, e);
	cJSON_Delete(o);
	free(cm);
	free(text);
	if (rc < 0)
		return fo_err_prefix(e, "recording the journal of %s/%s", ns, name);
	/* For crash tests: FLINKOPS_CRASH_AFTER=STEP kills the process the moment
	 * that step is recorded, as a power cut or kill -9 would. */
	const char *crash = getenv("FLINKOPS_CRASH_AFTER");
	if (crash && strcmp(crash, deploy_step_name(j->step)) == 0)
		raise(SIGKILL);
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

/* Wait until the cluster offers `slots` task slots in all. */
static int wait_slots(flink_rest *r, int slots, long timeout_ms, fo_err *e)
{
	long waited = 0, step = 200;
	for (;;) {
		flink_overview ov = {0};
		int rc = flink_rest_overview(r, &ov, e);
		int total = ov.slots_total;
		flink_overview_free(&ov);
		if (rc == 0 && total >= slots)
			return 0;
		if (waited >= timeout_ms) {
			if (rc == 0)
				return fo_err_set(e, FO_ETIMEOUT, "%s has %d task slots after %ld ms, the job needs %d",
						  flink_rest_base(r), total, waited, slots);
			return fo_err_prefix(e, "the JobManager did not answer within %ld ms", waited);
		}
		fo_err_clear(e);
		sleep_ms(step);
		waited += step;
		if (step < 2000)
			step *= 2;
	}
}

/* Is the job `id` running, or about to (not ended)? */
static bool job_alive(flink_rest *r, const char *id)
{
	enum flink_job_status st = FLINK_JOB_UNKNOWN;
	fo_err e = FO_ERR_INIT;
	int rc = flink_rest_job_state(r, id, &st, &e);
	fo_err_clear(&e);
	return rc == 0 && !flink_job_status_is_terminal(st);
}

/*
 * Stop the job the journal names, keeping what the upgrade mode keeps.
 * *restore_from gets the savepoint or checkpoint to start the new job from
 * (NULL: fresh). A failed or late savepoint returns an error and leaves the
 * old job running: nothing has been applied yet.
 */
static int stop_old_job(k8s_client *c, flink_rest *r, deploy_item *it, deploy_journal *j,
			const deploy_options *o, bool suspend, char **restore_from, fo_err *e)
{
	const flink_deployment *fd = it->fd;
	/* a suspend always keeps the state, whatever the upgrade mode */
	enum flink_upgrade_mode mode = suspend ? FLINK_UPGRADE_SAVEPOINT : fd->job.upgrade_mode;
	*restore_from = NULL;
	if (j->step >= DEPLOY_STEP_SAVEPOINT_TAKEN && j->savepoint_path && j->step != DEPLOY_STEP_FAILED) {
		/* an earlier pass took the savepoint and died after: use it */
		*restore_from = fo_strdup(j->savepoint_path);
		return 0;
	}
	if (!j->job_id || !job_alive(r, j->job_id)) {
		/* nothing runs: start from the newest savepoint we took, if any */
		if (fd->job.upgrade_mode != FLINK_UPGRADE_STATELESS && j->savepoint_path)
			*restore_from = fo_strdup(j->savepoint_path);
		else if (fd->job.initial_savepoint_path)
			*restore_from = fo_strdup(fd->job.initial_savepoint_path);
		return 0;
	}
	int rc = 0;
	switch (mode) {
	case FLINK_UPGRADE_SAVEPOINT: {
		j->step = DEPLOY_STEP_STOPPING;
		if ((rc = deploy_journal_save(c, it->ns, it->name, o->agent, j, e)) < 0)
			return rc;
		char *trigger = NULL, *location = NULL;
		long t0 = now_ms();
		rc = flink_rest_job_stop(r, j->job_id, fd->job.savepoint_dir, &trigger, e);
		if (rc == 0) {
			deploy_journal_set(&j->trigger_id, trigger);
			deploy_journal_save(c, it->ns, it->name, o->agent, j, e);
			rc = flink_rest_savepoint_wait(r, j->job_id, trigger, o->rollout->savepoint_timeout_ms, &location, e);
		}
		it->ms_savepoint += now_ms() - t0;
		free(trigger);
		if (rc < 0) {
			/* the old job keeps running; nothing was applied */
			j->step = DEPLOY_STEP_IDLE;
			deploy_journal_set(&j->trigger_id, NULL);
			deploy_journal_set(&j->last_error, fo_err_msg(e));
			fo_err ignore = FO_ERR_INIT;
			deploy_journal_save(c, it->ns, it->name, o->agent, j, &ignore);
			fo_err_clear(&ignore);
			return fo_err_prefix(e, "stop %s/%s with a savepoint", it->ns, it->name);
		}
		char ts[32];
		now_rfc3339(ts);
		j->step = DEPLOY_STEP_SAVEPOINT_TAKEN;
		deploy_journal_set(&j->savepoint_path, location);
		deploy_journal_set(&j->savepoint_time, ts);
		deploy_journal_set(&j->savepoint_reason, suspend ? "suspend" : "upgrade");
		deploy_journal_set(&j->trigger_id, NULL);
		*restore_from = location;
		return deploy_journal_save(c, it->ns, it->name, o->agent, j, e);
	}
	case FLINK_UPGRADE_LAST_STATE: {
		flink_checkpoint_info ck = {0};
		if (flink_rest_checkpoints(r, j->job_id, &ck, e) == 0 && ck.latest_path)
			*restore_from = fo_strdup(ck.latest_path);
		flink_checkpoint_info_free(&ck);
		fo_err_clear(e);
		break;
	}
	default:
		break;
	}
	if ((rc = flink_rest_job_cancel(r, j->job_id, e)) < 0)
		return fo_err_prefix(e, "cancel %s/%s", it->ns, it->name);
	return flink_rest_job_wait(r, j->job_id,
				   FLINK_JOB_MASK(FLINK_JOB_CANCELED) | FLINK_JOB_MASK(FLINK_JOB_FINISHED) |
					   FLINK_JOB_MASK(FLINK_JOB_FAILED),
				   o->rollout->savepoint_timeout_ms, NULL, e);
}

/* Upload the jar and run it under a job id derived from the target, so that
 * a resubmit after a crash finds the job instead of starting a second one. */
static int submit(k8s_client *c, flink_rest *r, deploy_item *it, deploy_journal *j, const char *job_hash,
		  const char *restore_from, const deploy_options *o, fo_err *e)
{
	const flink_deployment *fd = it->fd;
	char *local = NULL, *jar_id = NULL, *job = NULL;
	long t_run = now_ms();
	int rc = flink_jar_fetch(fd->job.jar_uri, &o->rollout->jar, &local, e);
	if (rc == 0)
		rc = flink_rest_jar_upload(r, local, &jar_id, e);
	free(local);
	if (rc < 0)
		return fo_err_prefix(e, "deliver the jar of %s/%s", it->ns, it->name);
	j->step = DEPLOY_STEP_UPLOADED;
	deploy_journal_set(&j->jar_id, jar_id);
	if ((rc = deploy_journal_save(c, it->ns, it->name, o->agent, j, e)) < 0)
		goto cleanup;
	for (int attempt = j->restarts; attempt < j->restarts + 5; attempt++) {
		char *id = deploy_submit_job_id(it->ns, it->name, job_hash, attempt);
		j->step = DEPLOY_STEP_SUBMITTED;
		deploy_journal_set(&j->submit_job_id, id);
		if ((rc = deploy_journal_save(c, it->ns, it->name, o->agent, j, e)) < 0) {
			free(id);
			goto cleanup;
		}
		flink_run_opts ro = {0};
		ro.entry_class = fd->job.entry_class;
		ro.args = (const char *const *)fd->job.args;
		ro.nargs = fd->job.nargs;
		ro.parallelism = fd->job.parallelism;
		ro.savepoint_path = restore_from;
		ro.allow_non_restored_state = fd->job.allow_non_restored_state;
		ro.job_id = id;
		t_run = now_ms();
		rc = flink_rest_jar_run(r, jar_id, &ro, &job, e);
		if (rc == FO_ECONFLICT && job_alive(r, id)) {
			/* submitted by a pass that died before recording it: adopt it */
			fo_err_clear(e);
			job = fo_strdup(id);
			rc = 0;
		}
		free(id);
		if (rc != FO_ECONFLICT)
			break;
		fo_err_clear(e); /* that id belongs to a job that ended: take the next */
	}
	if (rc < 0) {
		rc = fo_err_prefix(e, "run %s/%s", it->ns, it->name);
		goto cleanup;
	}
	rc = flink_rest_job_wait(r, job, FLINK_JOB_MASK(FLINK_JOB_RUNNING), o->rollout->running_timeout_ms, NULL, e);
	it->ms_job_start += now_ms() - t_run;
	if (rc < 0) {
		rc = fo_err_prefix(e, "%s/%s did not reach RUNNING", it->ns, it->name);
		goto cleanup;
	}
	j->step = DEPLOY_STEP_IDLE;
	if (!fo_streq(j->target_job_hash, job_hash))
		j->restarts = 0; /* a new target gets a fresh restart budget */
	deploy_journal_set(&j->job_id, job);
	deploy_journal_set(&j->submit_job_id, NULL);
	deploy_journal_set(&j->target_job_hash, job_hash);
	deploy_journal_set(&j->target_commit, o->rollout->commit);
	deploy_journal_set(&j->last_error, NULL);
	rc = deploy_journal_save(c, it->ns, it->name, o->agent, j, e);
	fo_info("rollout", "%s/%s: job %s RUNNING%s%s", it->ns, it->name, job, restore_from ? " from " : "",
		restore_from ? restore_from : "");
cleanup:
	if (jar_id) {
		fo_err ignore = FO_ERR_INIT;
		flink_rest_jar_delete(r, jar_id, &ignore);
		fo_err_clear(&ignore);
	}
	free(jar_id);
	free(job);
	return rc;
}

/*
 * A job that runs the current target: if it FAILED on its own, start it
 * again from its newest retained checkpoint (or the last savepoint), up to
 * the restart budget; past it, the deployment is Failed with Flink's cause.
 */
static int watch_job(k8s_client *c, flink_rest *r, deploy_item *it, deploy_journal *j, const char *job_hash,
		     const deploy_options *o, fo_err *e)
{
	enum flink_job_status st = FLINK_JOB_UNKNOWN;
	int rc = flink_rest_job_state(r, j->job_id, &st, e);
	if (rc == FO_ENOTFOUND) {
		/* the JobManager forgot it (a new pod without HA): treat as failed */
		fo_err_clear(e);
		st = FLINK_JOB_FAILED;
	} else if (rc < 0) {
		return fo_err_prefix(e, "state of %s/%s", it->ns, it->name);
	}
	if (st != FLINK_JOB_FAILED)
		return 0;
	char *cause = NULL;
	fo_err ignore = FO_ERR_INIT;
	flink_rest_exceptions(r, j->job_id, &cause, &ignore);
	fo_err_clear(&ignore);
	if (j->restarts >= o->rollout->restart_budget) {
		j->step = DEPLOY_STEP_FAILED;
		deploy_journal_set(&j->last_error, cause ? cause : "the job failed");
		rc = fo_err_set(e, FO_ESERVER, "job %s of %s/%s FAILED after %d restart%s: %s", j->job_id, it->ns, it->name,
				j->restarts, j->restarts == 1 ? "" : "s", cause ? cause : "no cause reported");
		deploy_journal_save(c, it->ns, it->name, o->agent, j, &ignore);
		fo_err_clear(&ignore);
		free(cause);
		return rc;
	}
	/* the newest retained checkpoint is newer than any savepoint */
	char *from = NULL;
	flink_checkpoint_info ck = {0};
	if (flink_rest_checkpoints(r, j->job_id, &ck, &ignore) == 0 && ck.latest_path)
		from = fo_strdup(ck.latest_path);
	else if (j->savepoint_path)
		from = fo_strdup(j->savepoint_path);
	flink_checkpoint_info_free(&ck);
	fo_err_clear(&ignore);
	fo_warn("rollout", "%s/%s: job %s FAILED (%s); restart %d of %d from %s", it->ns, it->name, j->job_id,
		cause ? cause : "no cause", j->restarts + 1, o->rollout->restart_budget, from ? from : "empty state");
	free(cause);
	j->restarts++;
	if ((rc = deploy_journal_save(c, it->ns, it->name, o->agent, j, e)) == 0)
		rc = submit(c, r, it, j, job_hash, from, o, e);
	if (rc == 0)
		it->job_started = true;
	free(from);
	return rc;
}

int deploy_rollout_item(k8s_client *c, deploy_item *it, const deploy_options *o,
			int (*apply_objects)(k8s_client *, deploy_item *, void *), void *arg, fo_err *e)
{
	const flink_deployment *fd = it->fd;
	const char *job_hash = render_object_annotation(it->objs.v[RENDER_STATEFULSET_JOBMANAGER], RENDER_ANNOTATION_JOB_HASH);
	long t_start = now_ms();
	/* the journal as this pass's inventory read it (empty when there is none) */
	deploy_journal j = {0};
	deploy_journal_copy(&j, &it->journal);
	int rc = 0;
	bool suspended = fd->job.state == FLINK_STATE_SUSPENDED;
	bool in_flight = j.step != DEPLOY_STEP_IDLE && j.step != DEPLOY_STEP_FAILED;
	bool target_new = !fo_streq(j.target_job_hash, job_hash);
	bool restart = !suspended && (it->change.restarts_job || target_new || in_flight || !j.job_id);
	char *url = deploy_rest_url(o->rollout->rest_url, it->ns, it->name);
	flink_rest *r = NULL;
	char *restore_from = NULL;
	flink_rest_opts ro = {0};
	if (suspended && j.job_id && j.step == DEPLOY_STEP_IDLE) {
		/* suspend: stop with a savepoint before the StatefulSets scale to zero */
		if ((rc = flink_rest_new(url, &ro, &r, e)) < 0)
			goto cleanup;
		if (job_alive(r, j.job_id)) {
			if ((rc = stop_old_job(c, r, it, &j, o, true, &restore_from, e)) < 0)
				goto cleanup;
			j.step = DEPLOY_STEP_IDLE;
			deploy_journal_set(&j.job_id, NULL);
			if ((rc = deploy_journal_save(c, it->ns, it->name, o->agent, &j, e)) < 0)
				goto cleanup;
		}
	}
	if (!restart) {
		rc = apply_objects(c, it, arg);
		if (rc == 0 && !suspended && j.job_id && j.step == DEPLOY_STEP_IDLE) {
			if (!r && (rc = flink_rest_new(url, &ro, &r, e)) < 0)
				goto cleanup;
			rc = watch_job(c, r, it, &j, job_hash, o, e);
		}
		goto cleanup;
	}
	if (!r && (rc = flink_rest_new(url, &ro, &r, e)) < 0)
		goto cleanup;
	/* an earlier pass may have died between submitting and recording: adopt */
	if (j.step == DEPLOY_STEP_SUBMITTED && j.submit_job_id && job_alive(r, j.submit_job_id)) {
		j.step = DEPLOY_STEP_IDLE;
		deploy_journal_set(&j.job_id, j.submit_job_id);
		deploy_journal_set(&j.target_job_hash, job_hash);
		rc = deploy_journal_save(c, it->ns, it->name, o->agent, &j, e);
		if (rc == 0)
			rc = apply_objects(c, it, arg);
		goto cleanup;
	}
	if (j.job_id) {
		if ((rc = stop_old_job(c, r, it, &j, o, false, &restore_from, e)) < 0)
			goto cleanup;
	} else if (j.savepoint_path && fd->job.upgrade_mode != FLINK_UPGRADE_STATELESS) {
		/* resumed after a suspend (or started again): from the newest savepoint */
		restore_from = fo_strdup(j.savepoint_path);
	} else if (fd->job.initial_savepoint_path) {
		restore_from = fo_strdup(fd->job.initial_savepoint_path);
	}
	if ((rc = apply_objects(c, it, arg)) < 0)
		goto cleanup;
	if (j.step < DEPLOY_STEP_APPLIED) {
		j.step = DEPLOY_STEP_APPLIED;
		if ((rc = deploy_journal_save(c, it->ns, it->name, o->agent, &j, e)) < 0)
			goto cleanup;
	}
	if ((rc = wait_slots(r, fd->job.parallelism, o->rollout->ready_timeout_ms, e)) < 0)
		goto cleanup;
	rc = submit(c, r, it, &j, job_hash, restore_from, o, e);
cleanup:
	it->ms_total = now_ms() - t_start;
	/* what the journal says now is what the status file reports */
	if (rc < 0)
		deploy_journal_set(&j.last_error, fo_err_msg(e));
	deploy_journal_copy(&it->journal, &j);
	free(restore_from);
	flink_rest_free(r);
	free(url);
	deploy_journal_clear(&j);
	return rc;
}

int deploy_rollout_final_savepoint(k8s_client *c, deploy_item *it, const deploy_options *o, fo_err *e)
{
	deploy_journal j;
	int rc = deploy_journal_load(c, it->ns, it->name, &j, e);
	if (rc < 0)
		return rc;
	char *url = deploy_rest_url(o->rollout->rest_url, it->ns, it->name);
	flink_rest *r = NULL;
	char *trigger = NULL, *location = NULL;
	flink_rest_opts ro = {0};
	if (!j.job_id || (rc = flink_rest_new(url, &ro, &r, e)) < 0 || !job_alive(r, j.job_id))
		goto cleanup; /* nothing runs: nothing to keep */
	rc = flink_rest_job_stop(r, j.job_id, NULL, &trigger, e);
	if (rc == 0)
		rc = flink_rest_savepoint_wait(r, j.job_id, trigger, o->rollout->savepoint_timeout_ms, &location, e);
	if (rc < 0) {
		rc = fo_err_prefix(e, "final savepoint of %s/%s (its objects are kept)", it->ns, it->name);
		goto cleanup;
	}
	char ts[32];
	now_rfc3339(ts);
	deploy_journal_set(&j.savepoint_path, location);
	deploy_journal_set(&j.savepoint_time, ts);
	deploy_journal_set(&j.savepoint_reason, "delete");
	deploy_journal_set(&j.job_id, NULL);
	fo_info("rollout", "%s/%s: final savepoint %s", it->ns, it->name, location);
cleanup:
	deploy_journal_copy(&it->journal, &j);
	free(trigger);
	free(location);
	flink_rest_free(r);
	free(url);
	deploy_journal_clear(&j);
	return rc;
}
