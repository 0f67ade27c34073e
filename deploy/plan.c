/*
 * Classification of a change to one FlinkDeployment. See plan.h. The rule:
 * a change restarts the job when a StatefulSet's pod template changes (which
 * the template hash says, and which covers the Flink configuration through
 * the ConfigMap hash on the template) or when the job itself changes (the
 * job hash); any other changed object is applied in place.
 */
#include "deploy/plan.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/duration.h"
#include "lib/json.h"
#include "lib/url.h"

void deploy_side_from_rendered(deploy_side *s, const render_objects *o, const flink_deployment *fd)
{
	memset(s, 0, sizeof(*s));
	s->present = true;
	for (size_t k = 0; k < RENDER_NCOMPONENTS && k < o->n; k++)
		s->hash[k] = render_object_hash(o->v[k]);
	s->template_hash[0] = render_object_annotation(o->v[RENDER_STATEFULSET_JOBMANAGER], RENDER_ANNOTATION_TEMPLATE_HASH);
	s->template_hash[1] = render_object_annotation(o->v[RENDER_STATEFULSET_TASKMANAGER], RENDER_ANNOTATION_TEMPLATE_HASH);
	s->job_hash = o->job_hash ? o->job_hash
				  : render_object_annotation(o->v[RENDER_STATEFULSET_JOBMANAGER], RENDER_ANNOTATION_JOB_HASH);
	s->suspended = fd && fd->has_job && fd->job.state == FLINK_STATE_SUSPENDED;
	s->fd = fd;
}

void deploy_side_from_live(deploy_side *s, cJSON *const live[RENDER_NCOMPONENTS])
{
	memset(s, 0, sizeof(*s));
	for (size_t k = 0; k < RENDER_NCOMPONENTS; k++) {
		if (!live[k])
			continue;
		s->present = true;
		s->hash[k] = render_object_hash(live[k]);
	}
	const cJSON *jm = live[RENDER_STATEFULSET_JOBMANAGER];
	if (jm) {
		s->template_hash[0] = render_object_annotation(jm, RENDER_ANNOTATION_TEMPLATE_HASH);
		s->job_hash = render_object_annotation(jm, RENDER_ANNOTATION_JOB_HASH);
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(jm, "spec"), "replicas");
		s->suspended = s->job_hash && cJSON_IsNumber(r) && r->valueint == 0;
	}
	if (live[RENDER_STATEFULSET_TASKMANAGER])
		s->template_hash[1] = render_object_annotation(live[RENDER_STATEFULSET_TASKMANAGER], RENDER_ANNOTATION_TEMPLATE_HASH);
}

/* A stateless job that names no savepoint directory is cancelled on a
 * suspend or a delete, with no final savepoint (deploy/next.c, stop_old). */
static bool stop_cancels(const flink_deployment *fd)
{
	return fd && fd->has_job && fd->job.upgrade_mode == FLINK_UPGRADE_STATELESS && !flink_savepoint_dir(fd);
}

/* Contract: append a warning of `kind` with the formatted text to v[*n]. */
static void push_warning(deploy_warning **v, size_t *n, enum deploy_warning_kind kind, const char *fmt, va_list ap)
{
	char *t = fo_vasprintf(fmt, ap);
	*v = fo_realloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].kind = kind;
	(*v)[*n].text = t;
	(*n)++;
}

static void warn(deploy_change *c, enum deploy_warning_kind kind, const char *fmt, ...) FO_PRINTF(3, 4);

static void warn(deploy_change *c, enum deploy_warning_kind kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	push_warning(&c->warnings, &c->nwarnings, kind, fmt, ap);
	va_end(ap);
}

static void state_warn(deploy_state *s, enum deploy_warning_kind kind, const char *fmt, ...) FO_PRINTF(3, 4);

static void state_warn(deploy_state *s, enum deploy_warning_kind kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	push_warning(&s->warnings, &s->nwarnings, kind, fmt, ap);
	va_end(ap);
}

static void upgrade_warnings(const deploy_side *from, const deploy_side *to, deploy_change *c)
{
	const flink_deployment *nf = to->fd, *of = from->fd;
	if (!nf || !nf->has_job)
		return;
	if (nf->job.upgrade_mode == FLINK_UPGRADE_STATELESS)
		warn(c, DEPLOY_WARN_STATE_DROPPED,
		     "upgradeMode is stateless: the job is cancelled and starts again from empty state; its state is dropped");
	if (!of || !of->has_job)
		return;
	if (of->job.upgrade_mode != nf->job.upgrade_mode)
		warn(c, DEPLOY_WARN_UPGRADE_MODE, "upgradeMode changes from %s to %s; this upgrade already uses %s",
		     flink_upgrade_mode_name(of->job.upgrade_mode), flink_upgrade_mode_name(nf->job.upgrade_mode),
		     flink_upgrade_mode_name(nf->job.upgrade_mode));
	if (nf->job.upgrade_mode == FLINK_UPGRADE_STATELESS)
		return; /* nothing is restored, so nothing below can mismatch */
	if (!fo_streq(of->job.entry_class, nf->job.entry_class))
		warn(c, DEPLOY_WARN_ENTRY_CLASS,
		     "the entry class changes (%s -> %s): the savepoint only restores into operators with the same uids",
		     of->job.entry_class ? of->job.entry_class : "from the jar manifest",
		     nf->job.entry_class ? nf->job.entry_class : "from the jar manifest");
	if (of->job.parallelism != nf->job.parallelism)
		warn(c, DEPLOY_WARN_PARALLELISM,
		     "parallelism changes from %d to %d: state is redistributed; it must stay within the job's max parallelism",
		     of->job.parallelism, nf->job.parallelism);
	if (!fo_streq(of->job.jar_uri, nf->job.jar_uri)) {
		/* plans end up in pull request comments: no presigned signatures there */
		char *a = fo_url_redact(of->job.jar_uri), *b = fo_url_redact(nf->job.jar_uri);
		warn(c, DEPLOY_WARN_JAR, "the jar changes (%s -> %s): operator uids must match the savepoint", a, b);
		free(a);
		free(b);
	}
}

void deploy_classify(const deploy_side *from, const deploy_side *to, deploy_change *c)
{
	memset(c, 0, sizeof(*c));
	if (!from->present && !to->present)
		return;
	for (size_t k = 0; k < RENDER_NCOMPONENTS; k++)
		c->object_changed[k] = !fo_streq(from->present ? from->hash[k] : NULL, to->present ? to->hash[k] : NULL);
	/* a session job has no pods of its own */
	bool pods = !((to->fd && to->fd->session_job) || (from->fd && from->fd->session_job));
	if (!from->present) {
		c->action = DEPLOY_CREATE;
		c->restarts_pods = pods;
		c->restarts_job = to->job_hash && !to->suspended;
		return;
	}
	if (!to->present) {
		c->action = DEPLOY_DELETE;
		bool stops = from->job_hash && !from->suspended;
		c->takes_savepoint = stops && !stop_cancels(from->fd);
		if (stops && stop_cancels(from->fd))
			warn(c, DEPLOY_WARN_STATE_DROPPED,
			     "upgradeMode is stateless and no savepoint directory is named: the job is cancelled, "
			     "with no final savepoint");
		return;
	}
	c->restarts_pods = !fo_streq(from->template_hash[0], to->template_hash[0]) ||
			   !fo_streq(from->template_hash[1], to->template_hash[1]);
	bool job_changed = !fo_streq(from->job_hash, to->job_hash);
	bool any = false;
	for (size_t k = 0; k < RENDER_NCOMPONENTS; k++)
		any = any || c->object_changed[k];

	if (from->suspended != to->suspended) {
		c->action = to->suspended ? DEPLOY_SUSPEND : DEPLOY_RESUME;
		c->takes_savepoint = to->suspended && !stop_cancels(to->fd);
		if (to->suspended && !c->takes_savepoint)
			warn(c, DEPLOY_WARN_STATE_DROPPED,
			     "upgradeMode is stateless and no savepoint directory is named: the job is cancelled, "
			     "with no savepoint to resume from");
		c->restarts_job = !to->suspended;
		if (!to->suspended && to->fd && to->fd->has_job && to->fd->job.upgrade_mode == FLINK_UPGRADE_STATELESS)
			warn(c, DEPLOY_WARN_STATE_DROPPED,
			     "upgradeMode is stateless: the job resumes from empty state, not from its suspend savepoint");
		return;
	}
	if (to->suspended) {
		/* nothing runs: objects are brought up to date, no job is touched */
		c->action = any ? DEPLOY_IN_PLACE : DEPLOY_NONE;
		c->restarts_pods = false;
		return;
	}
	if (c->restarts_pods || job_changed) {
		c->action = DEPLOY_UPGRADE;
		c->restarts_job = to->job_hash != NULL;
		c->takes_savepoint = to->fd && to->fd->has_job && to->fd->job.upgrade_mode == FLINK_UPGRADE_SAVEPOINT;
		upgrade_warnings(from, to, c);
		return;
	}
	c->action = any ? DEPLOY_IN_PLACE : DEPLOY_NONE;
}

void deploy_plan_change(const deploy_side *from, const deploy_side *to, const char *const drift[RENDER_NCOMPONENTS],
			deploy_change *c)
{
	deploy_classify(from, to, c);
	/* Drift is invisible to hashes: correcting it is in place, unless
	 * someone edited a pod template, whose correction restarts pods. */
	for (int k = 0; drift && k < RENDER_NCOMPONENTS && to->present; k++) {
		if (!drift[k])
			continue;
		bool template = fo_has_prefix(drift[k], "spec.template");
		if (template && c->action != DEPLOY_CREATE && !to->suspended) {
			c->action = DEPLOY_UPGRADE;
			c->restarts_pods = true;
		} else if (c->action == DEPLOY_NONE) {
			c->action = DEPLOY_IN_PLACE;
		}
	}
	/* The upgrade mode is not part of any rendered object: switching it
	 * restarts nothing now but decides what the next upgrade keeps. */
	const flink_deployment *of = from->fd, *nf = to->fd;
	/* A new savepointTriggerNonce, or a new periodic interval, shows in no
	 * object either: the running job is savepointed, nothing restarts. */
	if (c->action == DEPLOY_NONE && of && nf && of->has_job && nf->has_job && !to->suspended &&
	    (of->job.savepoint_trigger_nonce != nf->job.savepoint_trigger_nonce ||
	     of->job.periodic_savepoint_ms != nf->job.periodic_savepoint_ms ||
	     !fo_streq(of->job.periodic_savepoint_cron, nf->job.periodic_savepoint_cron))) {
		if (of->job.savepoint_trigger_nonce != nf->job.savepoint_trigger_nonce && nf->job.savepoint_trigger_nonce)
			c->note = fo_asprintf("savepointTriggerNonce changes to %lld: a savepoint of the running job is "
					      "taken; nothing restarts",
					      (long long)nf->job.savepoint_trigger_nonce);
		else if (nf->job.periodic_savepoint_ms)
			c->note = fo_asprintf("periodic savepoints every %lld s; nothing restarts",
					      (long long)(nf->job.periodic_savepoint_ms / 1000));
		else if (nf->job.periodic_savepoint_cron)
			c->note = fo_asprintf("periodic savepoints on the cron schedule \"%s\" (UTC); nothing restarts",
					      nf->job.periodic_savepoint_cron);
		else if (of->job.periodic_savepoint_ms || of->job.periodic_savepoint_cron)
			c->note = fo_strdup("periodic savepoints stop; nothing restarts");
	}
	/* Nor does a new checkpointTriggerNonce or periodic checkpoint schedule. */
	if (c->action == DEPLOY_NONE && !c->note && of && nf && of->has_job && nf->has_job && !to->suspended &&
	    (of->job.checkpoint_trigger_nonce != nf->job.checkpoint_trigger_nonce ||
	     of->job.periodic_checkpoint_ms != nf->job.periodic_checkpoint_ms ||
	     !fo_streq(of->job.periodic_checkpoint_cron, nf->job.periodic_checkpoint_cron))) {
		if (of->job.checkpoint_trigger_nonce != nf->job.checkpoint_trigger_nonce && nf->job.checkpoint_trigger_nonce)
			c->note = fo_asprintf("checkpointTriggerNonce changes to %lld: a %s checkpoint of the running job is "
					      "taken; nothing restarts",
					      (long long)nf->job.checkpoint_trigger_nonce, nf->job.checkpoint_type);
		else if (nf->job.periodic_checkpoint_ms)
			c->note = fo_asprintf("periodic %s checkpoints every %lld s; nothing restarts", nf->job.checkpoint_type,
					      (long long)(nf->job.periodic_checkpoint_ms / 1000));
		else if (nf->job.periodic_checkpoint_cron)
			c->note = fo_asprintf("periodic %s checkpoints on the cron schedule \"%s\" (UTC); nothing restarts",
					      nf->job.checkpoint_type, nf->job.periodic_checkpoint_cron);
		else if (of->job.periodic_checkpoint_ms || of->job.periodic_checkpoint_cron)
			c->note = fo_strdup("periodic checkpoints stop; nothing restarts");
	}
	/* Savepoint retention (kubernetes.operator.savepoint.*) shows in no
	 * object: old savepoints flinkops took go sooner or later. */
	if (c->action == DEPLOY_NONE && !c->note && of && nf && of->has_job && nf->has_job &&
	    (of->job.savepoint_history_max_count != nf->job.savepoint_history_max_count ||
	     of->job.savepoint_history_max_age_ms != nf->job.savepoint_history_max_age_ms ||
	     of->job.savepoint_cleanup != nf->job.savepoint_cleanup)) {
		const flink_job *j = &nf->job;
		if (j->savepoint_cleanup == FLINK_CLEANUP_OFF)
			c->note = fo_strdup("savepoint retention is off: flinkops disposes of no savepoint; nothing restarts");
		else
			c->note = fo_asprintf("savepoint retention: the newest %d savepoints flinkops took are kept, older "
					      "ones past %lld s %s (never one the history references); nothing restarts",
					      j->savepoint_history_max_count ? j->savepoint_history_max_count
									     : FLINK_SAVEPOINT_HISTORY_COUNT_DEFAULT,
					      (long long)((j->savepoint_history_max_age_ms ? j->savepoint_history_max_age_ms
											    : FLINK_SAVEPOINT_HISTORY_AGE_DEFAULT_MS) /
							  1000),
					      j->savepoint_cleanup == FLINK_CLEANUP_DISPOSE
						      ? "disposed of"
						      : "no longer tracked, their data left where it is");
	}
	if (c->action == DEPLOY_NONE && of && nf && of->has_job && nf->has_job &&
	    of->job.upgrade_mode != nf->job.upgrade_mode) {
		free(c->note);
		enum flink_upgrade_mode m = nf->job.upgrade_mode;
		c->note = fo_asprintf("upgradeMode changes from %s to %s: nothing restarts now, but %s",
				      flink_upgrade_mode_name(of->job.upgrade_mode), flink_upgrade_mode_name(m),
				      m == FLINK_UPGRADE_STATELESS
					      ? "the next upgrade cancels the job and starts it from empty state: its state is dropped"
					      : "the next upgrade keeps the job's state");
	}
	deploy_plan_state(c, to, NULL, 0, &c->state);
}

/* Contract: out->age_ms from the state's time `at_ms` and the plan's
 * `now_ms` (a clock a little behind Flink's is no negative age), and its
 * text ("5m00s") into `age`. */
static void set_age(deploy_state *out, int64_t at_ms, int64_t now_ms, char age[FO_DURATION_SHORT])
{
	out->age_ms = now_ms > at_ms ? now_ms - at_ms : 0;
	fo_duration_short(out->age_ms / 1000, age);
}

/* Contract: out->text "the newest checkpoint ..." (and path, age, warnings)
 * for a last-state upgrade of the running job that `f` describes (NULL: not
 * asked). */
static void newest_checkpoint(const deploy_state_facts *f, deploy_state *out)
{
	if (!f || !f->asked) {
		out->text = fo_strdup("the newest checkpoint of the running job (its path and age: plan --live)");
		return;
	}
	if (f->error) {
		out->text = fo_asprintf("the newest checkpoint of the running job (not read: %s)", f->error);
		return;
	}
	if (f->checkpoint_path) {
		out->path = fo_strdup(f->checkpoint_path);
		const char *kind = f->checkpoint_is_savepoint ? "savepoint" : "checkpoint";
		if (f->checkpoint_ms >= 0 && f->now_ms >= 0) {
			char age[FO_DURATION_SHORT];
			set_age(out, f->checkpoint_ms, f->now_ms, age);
			out->text = fo_asprintf("the newest %s of job %s, %s, taken %s ago", kind, f->job_id ? f->job_id : "?",
						f->checkpoint_path, age);
		} else {
			out->text = fo_asprintf("the newest %s of job %s, %s (its time is unknown)", kind,
						f->job_id ? f->job_id : "?", f->checkpoint_path);
		}
		return;
	}
	if (f->restored_path) {
		/* it completed nothing since its start: what it started from is its newest state */
		out->path = fo_strdup(f->restored_path);
		out->text = fo_asprintf("what job %s started from, %s (it has completed no checkpoint since)",
					f->job_id ? f->job_id : "?", f->restored_path);
		return;
	}
	out->text = fo_asprintf("none: job %s has completed no checkpoint", f->job_id ? f->job_id : "?");
	state_warn(out, DEPLOY_WARN_NO_CHECKPOINT,
		   "a last-state upgrade needs a completed checkpoint and job %s has none: the upgrade fails and the job "
		   "keeps running; wait for a checkpoint, or use upgradeMode: savepoint",
		   f->job_id ? f->job_id : "?");
}

/* Contract: a job that starts from job.initialSavepointPath `initial` when
 * set, else from empty state (`why`: the reason in words, NULL for a new
 * job); returns what is restored ("initial savepoint") or NULL. */
static const char *initial_or_empty(const char *initial, const char *why, deploy_state *out)
{
	if (!initial) {
		out->from = DEPLOY_STATE_EMPTY;
		out->text = fo_asprintf("empty state (%s)", why ? why : "a new job");
		return NULL;
	}
	out->from = DEPLOY_STATE_INITIAL;
	out->path = fo_strdup(initial);
	out->text = why ? fo_asprintf("job.initialSavepointPath, %s (%s)", initial, why)
			: fo_asprintf("job.initialSavepointPath, %s", initial);
	return "initial savepoint";
}

/* Contract: out->jm_restart for an application cluster `fd` whose job
 * starts from out->from: what Flink does when the JobManager's pod restarts
 * (it runs the job itself, so the job restarts with it). */
static void jm_restart(const flink_deployment *fd, deploy_state *out)
{
	enum flink_ha ha = flink_ha_mode(&fd->conf);
	if (ha != FLINK_HA_NONE) {
		out->jm_restart = fo_asprintf("the newest checkpoint (%s HA): the JobManager runs the job itself and "
					      "recovers it from its HA store",
					      ha == FLINK_HA_KUBERNETES   ? "Kubernetes"
					      : ha == FLINK_HA_ZOOKEEPER ? "ZooKeeper"
									 : "its");
		return;
	}
	/* validation allows this for stateless jobs only */
	out->jm_restart = fo_asprintf("%s again, not its newest checkpoint: the JobManager runs the job itself and, "
				      "without high availability, starts it from the state it started with",
				      out->from == DEPLOY_STATE_EMPTY     ? "empty state"
				      : out->from == DEPLOY_STATE_INITIAL ? "job.initialSavepointPath"
									  : "the state this start uses");
}

void deploy_plan_state(const deploy_change *c, const deploy_side *to,
		       const deploy_state_facts *f, int64_t max_age_ms, deploy_state *out)
{
	deploy_state_free(out);
	out->age_ms = -1;
	const flink_deployment *nf = to && to->fd && to->fd->has_job ? to->fd : NULL;
	enum flink_upgrade_mode mode = nf ? nf->job.upgrade_mode : FLINK_UPGRADE_SAVEPOINT;
	const char *initial = nf ? nf->job.initial_savepoint_path : NULL;
	const char *what = NULL; /* what is restored, for the allowNonRestoredState warning */
	switch (c->action) {
	case DEPLOY_CREATE:
		if (!c->restarts_job || !nf)
			return;
		what = initial_or_empty(initial, NULL, out);
		break;
	case DEPLOY_UPGRADE:
		if (!c->restarts_job || !nf)
			return;
		if (mode == FLINK_UPGRADE_STATELESS) {
			out->from = DEPLOY_STATE_EMPTY;
			out->text = fo_strdup("empty state (state dropped: upgradeMode is stateless)");
		} else if (mode == FLINK_UPGRADE_LAST_STATE) {
			out->from = DEPLOY_STATE_CHECKPOINT;
			newest_checkpoint(f, out);
			what = "checkpoint";
		} else {
			out->from = DEPLOY_STATE_SAVEPOINT;
			out->text = fo_strdup("the savepoint the upgrade takes when it stops the job");
			what = "savepoint";
		}
		break;
	case DEPLOY_RESUME: {
		if (!nf)
			return;
		/* as the rollout resumes: the suspend's savepoint (never for a
		 * stateless job), else the initial savepoint, else empty */
		const char *sp = f && f->asked ? f->suspend_savepoint : NULL;
		if (mode == FLINK_UPGRADE_STATELESS) {
			out->from = DEPLOY_STATE_EMPTY;
			out->text = fo_strdup("empty state (state dropped: a stateless job does not resume from its suspend "
					      "savepoint)");
		} else if (sp || !f || !f->asked || f->error) {
			out->from = DEPLOY_STATE_SUSPENDED;
			out->path = sp ? fo_strdup(sp) : NULL;
			what = "savepoint";
			if (!sp) {
				out->text = fo_strdup("the savepoint the suspend took");
			} else if (f->suspend_savepoint_ms > 0 && f->now_ms > 0) {
				char age[FO_DURATION_SHORT];
				set_age(out, f->suspend_savepoint_ms, f->now_ms, age);
				out->text = fo_asprintf("the savepoint the suspend took, %s, taken %s ago", sp, age);
			} else {
				out->text = fo_asprintf("the savepoint the suspend took, %s", sp);
			}
		} else {
			what = initial_or_empty(initial, "the suspend left no savepoint", out);
		}
		break;
	}
	case DEPLOY_SUSPEND:
		if (!c->takes_savepoint)
			return;
		out->from = DEPLOY_STATE_SAVEPOINT;
		out->text = nf && flink_application_cluster(nf)
				    ? fo_strdup("the savepoint the suspend takes when it stops the job; the JobManager, "
						"which runs the job, is scaled to zero with the TaskManagers; a resume "
						"starts from it")
				    : fo_strdup("the savepoint the suspend takes when it stops the job; a resume starts from it");
		return;
	case DEPLOY_DELETE:
		if (!c->takes_savepoint)
			return;
		out->from = DEPLOY_STATE_SAVEPOINT;
		out->text = fo_strdup("the final savepoint the delete takes; its path is kept in the status file, "
				      "nothing starts");
		return;
	default:
		return;
	}
	if (flink_application_cluster(nf))
		jm_restart(nf, out);
	if (out->age_ms >= 0 && max_age_ms > 0 && out->age_ms > max_age_ms) {
		char age[FO_DURATION_SHORT], max[FO_DURATION_SHORT];
		fo_duration_short(out->age_ms / 1000, age);
		fo_duration_short(max_age_ms / 1000, max);
		state_warn(out, DEPLOY_WARN_STATE_AGE,
			   "the state the job starts from is %s old, older than %s (--max-state-age): the job resumes "
			   "from that point",
			   age, max);
	}
	if (what && nf->job.allow_non_restored_state && out->from != DEPLOY_STATE_EMPTY)
		state_warn(out, DEPLOY_WARN_NON_RESTORED_STATE,
			   "allowNonRestoredState is true: state in the %s of operators the new job no longer has is "
			   "dropped silently",
			   what);
}

void deploy_state_free(deploy_state *s)
{
	for (size_t i = 0; i < s->nwarnings; i++)
		free(s->warnings[i].text);
	free(s->warnings);
	free(s->text);
	free(s->path);
	free(s->jm_restart);
	memset(s, 0, sizeof(*s));
	s->age_ms = -1;
}

const char *deploy_state_from_name(enum deploy_state_from f)
{
	switch (f) {
	case DEPLOY_STATE_SAVEPOINT: return "savepoint";
	case DEPLOY_STATE_CHECKPOINT: return "checkpoint";
	case DEPLOY_STATE_SUSPENDED: return "suspend-savepoint";
	case DEPLOY_STATE_INITIAL: return "initial";
	case DEPLOY_STATE_EMPTY: return "empty";
	default: return "none";
	}
}

cJSON *deploy_state_json(const deploy_state *s)
{
	if (s->from == DEPLOY_STATE_NONE)
		return NULL;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "from", deploy_state_from_name(s->from));
	cJSON_AddStringToObject(o, "text", s->text ? s->text : "");
	if (s->path)
		cJSON_AddStringToObject(o, "path", s->path);
	if (s->age_ms >= 0)
		cJSON_AddNumberToObject(o, "ageSeconds", (double)(s->age_ms / 1000));
	if (s->jm_restart)
		cJSON_AddStringToObject(o, "jobManagerRestart", s->jm_restart);
	return o;
}

void deploy_plan_pair(deploy_planned *x)
{
	fo_err e = FO_ERR_INIT;
	memset(&x->from, 0, sizeof(x->from));
	memset(&x->to, 0, sizeof(x->to));
	if (x->from_fd) {
		if (render_deployment(x->from_fd, &x->from_objs, &e) == 0) {
			x->from_rendered = true;
			deploy_side_from_rendered(&x->from, &x->from_objs, x->from_fd);
		} else {
			fo_err_clear(&e); /* the base could not render: compare with nothing */
		}
	}
	if (x->to_fd) {
		if (render_deployment(x->to_fd, &x->to_objs, &e) < 0) {
			x->error = fo_asprintf("%s: %s", x->to_fd->source, fo_err_msg(&e));
			fo_err_clear(&e);
			return;
		}
		x->to_rendered = true;
		deploy_side_from_rendered(&x->to, &x->to_objs, x->to_fd);
	}
	deploy_plan_change(&x->from, &x->to, NULL, &x->change);
}

void deploy_planned_free(deploy_planned *x)
{
	if (x->from_rendered)
		render_objects_free(&x->from_objs);
	if (x->to_rendered)
		render_objects_free(&x->to_objs);
	deploy_change_free(&x->change);
	free(x->error);
	memset(x, 0, sizeof(*x));
}

void deploy_change_free(deploy_change *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nwarnings; i++)
		free(c->warnings[i].text);
	free(c->warnings);
	c->warnings = NULL;
	c->nwarnings = 0;
	free(c->note);
	c->note = NULL;
	deploy_state_free(&c->state);
}

const char *deploy_action_name(enum deploy_action a)
{
	switch (a) {
	case DEPLOY_CREATE: return "create";
	case DEPLOY_IN_PLACE: return "in-place";
	case DEPLOY_UPGRADE: return "upgrade";
	case DEPLOY_SUSPEND: return "suspend";
	case DEPLOY_RESUME: return "resume";
	case DEPLOY_DELETE: return "delete";
	default: return "none";
	}
}

const char *deploy_action_label(enum deploy_action a, const deploy_side *to, const deploy_side *from)
{
	const flink_deployment *fd = to && to->fd ? to->fd : NULL;
	switch (a) {
	case DEPLOY_CREATE:
		return fd && fd->has_job ? "create and start the job" : "create";
	case DEPLOY_IN_PLACE:
		return "in place (no restart)";
	case DEPLOY_UPGRADE:
		if (!fd || !fd->has_job)
			return "restart the cluster (no job)";
		switch (fd->job.upgrade_mode) {
		case FLINK_UPGRADE_SAVEPOINT: return "savepoint upgrade (stop with a savepoint, upgrade, resume from it)";
		case FLINK_UPGRADE_LAST_STATE: return "last-state upgrade (resume from the newest checkpoint)";
		default: return "stateless restart (state is dropped)";
		}
	case DEPLOY_SUSPEND:
		return "suspend (stop with a savepoint, scale to zero)";
	case DEPLOY_RESUME:
		return "resume from the suspend savepoint";
	case DEPLOY_DELETE:
		return from && from->job_hash && !from->suspended ? "delete with a final savepoint" : "delete";
	default:
		return "no change";
	}
}
