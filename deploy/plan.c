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
	s->job_hash = render_object_annotation(o->v[RENDER_STATEFULSET_JOBMANAGER], RENDER_ANNOTATION_JOB_HASH);
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

static void warn(deploy_change *c, enum deploy_warning_kind kind, const char *fmt, ...) FO_PRINTF(3, 4);

static void warn(deploy_change *c, enum deploy_warning_kind kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *t = fo_vasprintf(fmt, ap);
	va_end(ap);
	c->warnings = fo_realloc(c->warnings, (c->nwarnings + 1) * sizeof(*c->warnings));
	c->warnings[c->nwarnings].kind = kind;
	c->warnings[c->nwarnings].text = t;
	c->nwarnings++;
}

static void upgrade_warnings(const deploy_side *from, const deploy_side *to, deploy_change *c)
{
	const flink_deployment *nf = to->fd, *of = from->fd;
	if (!nf || !nf->has_job)
		return;
	if (nf->job.upgrade_mode == FLINK_UPGRADE_STATELESS)
		warn(c, DEPLOY_WARN_STATE_DROPPED,
		     "upgradeMode is stateless: the job is cancelled and starts again from empty state; its state is dropped");
	if (nf->job.allow_non_restored_state)
		warn(c, DEPLOY_WARN_NON_RESTORED_STATE,
		     "allowNonRestoredState is true: state of operators missing from the new job is dropped silently");
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
	if (!from->present) {
		c->action = DEPLOY_CREATE;
		c->restarts_pods = true;
		c->restarts_job = to->job_hash && !to->suspended;
		return;
	}
	if (!to->present) {
		c->action = DEPLOY_DELETE;
		c->takes_savepoint = from->job_hash && !from->suspended;
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
		c->takes_savepoint = to->suspended;
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
	     of->job.periodic_savepoint_ms != nf->job.periodic_savepoint_ms)) {
		if (of->job.savepoint_trigger_nonce != nf->job.savepoint_trigger_nonce && nf->job.savepoint_trigger_nonce)
			c->note = fo_asprintf("savepointTriggerNonce changes to %lld: a savepoint of the running job is "
					      "taken; nothing restarts",
					      (long long)nf->job.savepoint_trigger_nonce);
		else if (nf->job.periodic_savepoint_ms)
			c->note = fo_asprintf("periodic savepoints every %lld s; nothing restarts",
					      (long long)(nf->job.periodic_savepoint_ms / 1000));
		else if (of->job.periodic_savepoint_ms)
			c->note = fo_strdup("periodic savepoints stop; nothing restarts");
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
