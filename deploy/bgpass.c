/*
 * The blue/green engine's pass: the thin I/O around deploy_bg_next_step
 * (bluegreen.c). For each FlinkBlueGreenDeployment of git, and each
 * blue/green journal whose resource git no longer has, it reads the
 * journal, observes the two children from their own rollout journals,
 * decides, records each step in the journal (fenced by its
 * resourceVersion) before anything acts on it, and asks again until the
 * step waits; then it builds the children the pass runs and appends them
 * to the pass's FlinkDeployments, where the rollout engine drives each as
 * any other deployment: the handover savepoint is the active child's own
 * savepointTriggerNonce, the new colour's start is its initialSavepointPath,
 * the old colour's stop is its suspend. What the engine removes is named
 * for the reconcile (deploy_options.bg_removed); a resource of which
 * anything cannot be read keeps its children as they are (bg_held).
 */
#include "deploy/bluegreen.h"

#include <stdlib.h>
#include <string.h>

#include "deploy/deploy.h"
#include "deploy/journal.h"
#include "flink/rest.h"
#include "k8s/k8s.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/util.h"
#include "render/render.h"

/* Steps one resource may take in one pass; each records before the next,
 * so the bound only stops a bug (a decision that never settles). */
#define BG_STEPS_MAX 12

static void add_name(char ***v, size_t *n, const char *ns, const char *name)
{
	*v = fo_realloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = fo_asprintf("%s/%s", ns, name);
}

static deploy_bg_item *item_add(deploy_bg_pass *p, const char *ns, const char *name)
{
	p->v = fo_realloc(p->v, (p->n + 1) * sizeof(*p->v));
	deploy_bg_item *it = &p->v[p->n++];
	memset(it, 0, sizeof(*it));
	it->switch_ms = -1;
	it->ns = fo_strdup(ns);
	it->name = fo_strdup(name);
	return it;
}

static void item_error(deploy_bg_item *it, const char *msg)
{
	if (!it->error)
		it->error = fo_strdup(msg);
	it->held = true;
	fo_error("bluegreen", "%s/%s: %s; its children are kept as they are", it->ns, it->name, msg);
}

/* Write the journal of `it` (created when none was read, else under the
 * resourceVersion read). */
static int record(k8s_client *c, deploy_bg_item *it, const char *agent, fo_err *e)
{
	char *cm = fo_asprintf(DEPLOY_BG_PREFIX "%s", it->name);
	char *text = deploy_bg_journal_encode(&it->journal);
	int rc = deploy_record_write(c, it->ns, cm, it->name, DEPLOY_BG_LABEL_VALUE, agent, DEPLOY_BG_KEY, text, &it->rv,
				     &it->uid, e);
	if (rc == 0)
		it->recorded = true;
	else
		fo_err_prefix(e, "recording blue/green step of %s/%s in ConfigMap %s", it->ns, it->name, cm);
	free(text);
	free(cm);
	return rc;
}

/*
 * A Kubernetes Event for a step just recorded, on the journal ConfigMap
 * (the one object a FlinkBlueGreenDeployment has of its own): a
 * transition begun, a switch, an abort (a warning), a cancel, the old
 * colour retired. Best effort: one that cannot be posted is a warning in
 * the log, never a failed step. Messages hold colours, times and savepoint
 * paths, never a credential.
 */
static void step_event(k8s_client *c, const deploy_bg_item *it, const char *agent, const deploy_bg_next *n,
		       enum deploy_bg_colour was)
{
	const char *reason = NULL;
	char *msg = NULL;
	enum deploy_bg_colour now = deploy_bg_active(it->journal.state);
	const char *from = deploy_bg_colour_name(was), *to = deploy_bg_colour_name(now == was ? (enum deploy_bg_colour)!was : now);
	switch (n->op) {
	case DEPLOY_BG_OP_TRANSITION:
		reason = "BlueGreenTransition";
		msg = fo_asprintf("%s starts beside %s from %s", to, from,
				  it->journal.handover_path ? it->journal.handover_path : "empty state");
		break;
	case DEPLOY_BG_OP_CUTOVER:
		reason = "BlueGreenSwitched";
		msg = fo_asprintf("%s caught up and took over; %s stops with a savepoint", deploy_bg_colour_name(now),
				  deploy_bg_colour_name(was));
		break;
	case DEPLOY_BG_OP_ABORT:
		reason = "BlueGreenAborted";
		msg = fo_strdup(n->why ? n->why : "aborted");
		break;
	case DEPLOY_BG_OP_CANCEL:
		if (!n->why)
			return; /* a failure cleared: nothing to announce */
		reason = "BlueGreenCancelled";
		msg = fo_strdup(n->why);
		break;
	case DEPLOY_BG_OP_RETIRE:
		reason = "BlueGreenRetired";
		msg = fo_asprintf("%s stopped with a savepoint and is removed", deploy_bg_colour_name((enum deploy_bg_colour)!now));
		break;
	default:
		return;
	}
	char *cm = fo_asprintf(DEPLOY_BG_PREFIX "%s", it->name);
	k8s_event ev = {.ns = it->ns,
			.kind = &k8s_kind_configmap,
			.name = cm,
			.uid = it->uid,
			.reason = reason,
			.message = msg,
			.warning = n->op == DEPLOY_BG_OP_ABORT,
			.component = "flinkops",
			.instance = agent};
	fo_err e = FO_ERR_INIT;
	if (k8s_event_create(c, &ev, &e) < 0)
		fo_warn("bluegreen", "%s/%s: the %s Event was not recorded: %s", it->ns, it->name, reason, fo_err_msg(&e));
	fo_err_clear(&e);
	free(cm);
	free(msg);
}

static const flink_deployment *kid_named(const flink_deployments *kids, const char *name)
{
	for (size_t i = 0; i < kids->n; i++)
		if (fo_streq(kids->v[i]->name, name))
			return kids->v[i];
	return NULL;
}

/*
 * The catch-up signal of the new colour `to` into `out` (deploy_bg_progress),
 * from the watermarks of both jobs, the running one read first so that the
 * new one, read after it, can only look further behind than it is. A call
 * that fails leaves the new colour behind, and says why in *error (the
 * caller frees it): what cannot be compared never counts as caught up.
 */
static void observe_progress(const deploy_options *opts, const deploy_bg_item *it, const deploy_journal cj[2],
			     char *const cname[2], enum deploy_bg_colour from, enum deploy_bg_colour to,
			     const deploy_bg_desired *d, deploy_bg_child *out, char **error)
{
	if (!cj[from].job_id) {
		out->caught_up = -1; /* no running job to catch up with: the fallback decides */
		return;
	}
	flink_job_watermarks w[2];
	memset(w, 0, sizeof(w));
	const enum deploy_bg_colour order[2] = {from, to};
	fo_err e = FO_ERR_INIT;
	int rc = 0;
	for (int i = 0; i < 2 && rc == 0; i++) {
		enum deploy_bg_colour k = order[i];
		flink_rest *r = NULL;
		if (!cj[k].job_id)
			rc = fo_err_set(&e, FO_EINVAL, "%s has no job recorded", cname[k]);
		else if ((rc = deploy_rest_open(opts, it->ns, cname[k], &r, &e)) == 0)
			rc = flink_rest_job_watermarks(r, cj[k].job_id, &w[k], &e);
		flink_rest_free(r);
	}
	if (rc < 0) {
		out->caught_up = 0;
		*error = fo_strdup(fo_err_msg(&e));
		fo_warn("bluegreen", "%s/%s: the progress of %s and %s cannot be compared: %s", it->ns, it->name,
			cname[from], cname[to], *error);
	} else {
		out->caught_up = deploy_bg_progress(&w[from], &w[to], d->max_lag_ms, &out->behind_ms);
	}
	fo_err_clear(&e);
	flink_job_watermarks_free(&w[0]);
	flink_job_watermarks_free(&w[1]);
}

/* Decide and record until the step waits or settles (with `decide`). */
static void advance(k8s_client *c, const deploy_options *opts, bool decide, bool known, deploy_bg_item *it,
		    const deploy_journal cj[2], const bool has_cj[2], char *const cname[2])
{
	const char *agent = opts->agent;
	for (int step = 0; step < BG_STEPS_MAX; step++) {
		flink_deployments kids = {0};
		deploy_bg_desired d;
		deploy_bg_observed o;
		deploy_bg_next n;
		fo_err e = FO_ERR_INIT;
		if (deploy_bg_desired_of(it->git, &it->journal, &d, &e) < 0 ||
		    deploy_bg_children(it->git, &it->journal, &kids, &e) < 0) {
			item_error(it, fo_err_msg(&e));
			fo_err_clear(&e);
			flink_deployments_free(&kids);
			return;
		}
		memset(&o, 0, sizeof(o));
		o.known = known;
		o.now_ms = deploy_wall_ms();
		for (int k = 0; k < 2; k++) {
			const flink_deployment *kid = kid_named(&kids, cname[k]);
			char *target = kid ? render_target_hash_of(kid) : NULL;
			/* no progress signal yet: the fallback (catch-up.fallback
			 * after the first checkpoint) decides */
			deploy_bg_observe_child(has_cj[k] ? &cj[k] : NULL, it->child_live[k], target, -1, &o.child[k]);
			free(target);
		}
		/* the watermarks are read only while a transition to a healthy new
		 * colour waits on them, beside an old colour that runs (not for a
		 * first child, nor beside a failed one: nothing to catch up with,
		 * and the fallback decides) */
		char *progress_error = NULL;
		/* in TRANSITIONING_TO_x the active colour is the one running on */
		enum deploy_bg_colour from = deploy_bg_active(it->journal.state), to = (enum deploy_bg_colour)!from;
		if (known && deploy_bg_transitioning(it->journal.state) && it->journal.active_target &&
		    it->journal.healthy_ms && o.child[to].healthy && o.child[from].healthy)
			observe_progress(opts, it, cj, cname, from, to, &d, &o.child[to], &progress_error);
		o.child[to].progress_error = progress_error;
		deploy_bg_next_step(&d, &it->journal, &o, &n);
		free(progress_error);
		o.child[to].progress_error = NULL;
		it->active_healthy = it->journal.state != DEPLOY_BG_INITIALIZING_BLUE &&
				     o.child[deploy_bg_active(it->journal.state)].healthy;
		it->op = n.op;
		free(it->why);
		it->why = n.why ? fo_strdup(n.why) : NULL;
		bool writes = decide && n.op != DEPLOY_BG_OP_NONE && n.op != DEPLOY_BG_OP_WAIT && n.op != DEPLOY_BG_OP_DELETE;
		if (writes && n.op == DEPLOY_BG_OP_FORGET) {
			char *cm = fo_asprintf(DEPLOY_BG_PREFIX "%s", it->name);
			fo_info("bluegreen", "%s/%s: gone from git and no child left: its journal %s goes", it->ns, it->name, cm);
			int rc = it->recorded ? k8s_delete(c, &k8s_kind_configmap, it->ns, cm, NULL, &e) : 0;
			if (rc < 0 && rc != FO_ENOTFOUND)
				item_error(it, fo_err_msg(&e));
			else
				it->forgotten = true;
			free(cm);
			writes = false;
		} else if (writes) {
			/* the step is recorded before anything acts on it; a
			 * record that fails leaves the journal as it was read */
			char *was = deploy_bg_journal_encode(&it->journal);
			fo_info("bluegreen", "%s/%s: %s: %s%s%s", it->ns, it->name, deploy_bg_state_name(it->journal.state),
				deploy_bg_op_name(n.op), n.why ? " (" : "", n.why ? n.why : "");
			int64_t began = it->journal.started_ms;
			enum deploy_bg_colour before = deploy_bg_active(it->journal.state);
			deploy_bg_record(&it->journal, &d, &n, o.now_ms);
			if (record(c, it, agent, &e) < 0) {
				deploy_bg_journal_clear(&it->journal);
				fo_err ignore = FO_ERR_INIT;
				deploy_bg_journal_decode(was, &it->journal, &ignore);
				fo_err_clear(&ignore);
				item_error(it, fo_err_msg(&e));
				writes = false;
			} else {
				if (n.op == DEPLOY_BG_OP_CUTOVER) {
					char when[40];
					deploy_time_text(o.now_ms, when);
					free(it->switched_at);
					it->switched_at = fo_strdup(when);
					it->cutovers++;
					it->switch_ms = began > 0 && o.now_ms >= began ? o.now_ms - began : -1;
				}
				it->aborts += n.op == DEPLOY_BG_OP_ABORT;
				it->cancels += n.op == DEPLOY_BG_OP_CANCEL;
				step_event(c, it, agent, &n, before);
				char *point = fo_asprintf("bluegreen-%s", deploy_bg_op_name(n.op));
				deploy_fault_point(point); /* the crash tests' "bluegreen-OP" */
				free(point);
			}
			free(was);
		} else if (n.op == DEPLOY_BG_OP_WAIT && n.why) {
			fo_info("bluegreen", "%s/%s: waiting: %s", it->ns, it->name, n.why);
		}
		fo_err_clear(&e);
		deploy_bg_next_clear(&n);
		flink_deployments_free(&kids);
		if (!writes || it->forgotten)
			return;
	}
	item_error(it, "the blue/green decision did not settle in one pass (this is a bug in flinkops: please report it)");
}

/* Take the children of `it` for this pass into `desired`. */
static void take_children(deploy_bg_item *it, char *const cname[2], flink_deployments *desired)
{
	flink_deployments kids = {0};
	fo_err e = FO_ERR_INIT;
	if (deploy_bg_children(it->git, &it->journal, &kids, &e) < 0) {
		item_error(it, fo_err_msg(&e));
		fo_err_clear(&e);
		flink_deployments_free(&kids);
		return;
	}
	for (size_t i = 0; i < kids.n; i++) {
		flink_deployment *kid = kids.v[i];
		for (int k = 0; k < 2; k++)
			it->child_running[k] = it->child_running[k] || fo_streq(kid->name, cname[k]);
		/* a child's status file and its problems name the file it came from */
		free(kid->source);
		kid->source = fo_strdup(it->git->source);
		kid->line = it->git->line;
		kid->col = it->git->col;
		desired->v = fo_grow(desired->v, &desired->cap, desired->n + 1, sizeof(*desired->v));
		desired->v[desired->n++] = kid;
		kids.v[i] = NULL;
	}
	flink_deployments_free(&kids);
}

/*
 * The resource's own Ingress (spec.ingress), named after it: to the REST
 * Service of the colour its journal makes serve (deploy_bg_serving), so it
 * moves in the pass that records the cut-over, before the old colour
 * stops. Applied only when its content hash differs from the cluster's (a
 * settled pass writes nothing). Removed when git drops spec.ingress, under
 * the prune's guards, and with the journal once no child is left. Only
 * with `decide`, and never for a held resource: what is not known is kept.
 */
static void sync_ingress(k8s_client *c, const deploy_live *live, const deploy_options *opts, deploy_bg_item *it)
{
	cJSON *have = deploy_live_get(live, &k8s_kind_ingress, it->ns, it->name);
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(have, "metadata"), "labels");
	if (have && !(fo_streq(fo_json_str(labels, RENDER_LABEL_INSTANCE), it->name) &&
		      fo_streq(fo_json_str(labels, RENDER_LABEL_COMPONENT), "ingress"))) {
		cJSON_Delete(have); /* not this resource's: left alone */
		have = NULL;
	}
	fo_err e = FO_ERR_INIT;
	bool want = it->git && it->git->bg && it->git->bg->ingress && it->recorded && !it->forgotten;
	if (want) {
		char *child = fo_asprintf("%s-%s", it->name, deploy_bg_colour_name(deploy_bg_serving(&it->journal)));
		cJSON *obj = render_bluegreen_ingress(it->git, child);
		fo_json_set(fo_json_obj(fo_json_obj(obj, "metadata"), "labels"), DEPLOY_LABEL_AGENT,
			    cJSON_CreateString(deploy_agent_name(opts)));
		char *where = NULL;
		/* changed in git, or edited in the cluster (drift) */
		if (!have || !fo_streq(render_object_hash(obj), render_object_hash(have)) ||
		    !deploy_subset_equal(obj, have, &where)) {
			fo_info("bluegreen", "%s/%s: Ingress %s to %s-rest%s%s", it->ns, it->name, it->name, child,
				where ? ": the cluster's differs at " : "", where ? where : "");
			if (k8s_apply(c, obj, false, NULL, &e) < 0)
				item_error(it, fo_err_msg(&e));
		}
		free(where);
		cJSON_Delete(obj);
		free(child);
	} else if (have && (it->forgotten || (it->git && opts->prune && !opts->prune_skip_reason))) {
		fo_info("bluegreen", "%s/%s: Ingress %s is no longer asked for: deleted", it->ns, it->name, it->name);
		if (k8s_delete(c, &k8s_kind_ingress, it->ns, it->name, NULL, &e) < 0)
			item_error(it, fo_err_msg(&e));
	} else if (have && it->git) {
		fo_info("bluegreen", "%s/%s: Ingress %s is no longer in git; kept: %s", it->ns, it->name, it->name,
			opts->prune_skip_reason ? opts->prune_skip_reason : "pruning is disabled");
	}
	fo_err_clear(&e);
	cJSON_Delete(have);
}

static void run_item(k8s_client *c, const deploy_live *live, const deploy_options *opts, bool decide, deploy_bg_item *it,
		     flink_deployments *desired, deploy_bg_pass *out)
{
	deploy_journal cj[2];
	bool has_cj[2] = {false, false};
	char *cname[2];
	memset(cj, 0, sizeof(cj));
	/* a journal ConfigMap that does not say whose it is may be a child's */
	bool known = deploy_live_journals_unread(live) == 0;
	for (int k = 0; k < 2; k++) {
		cname[k] = fo_asprintf("%s-%s", it->name, deploy_bg_colour_name((enum deploy_bg_colour)k));
		it->child_live[k] = deploy_live_has_instance(live, it->ns, cname[k]);
		const char *text = deploy_live_journal(live, it->ns, cname[k]);
		fo_err e = FO_ERR_INIT;
		if (text && deploy_journal_decode(text, &cj[k], &e) < 0) {
			known = false;
			fo_warn("bluegreen", "%s/%s: the journal of %s does not decode (%s): nothing is decided", it->ns,
				it->name, cname[k], fo_err_msg(&e));
		} else if (text) {
			has_cj[k] = true;
		}
		fo_err_clear(&e);
		if (has_cj[k] && cj[k].job_id)
			it->child_job[k] = fo_strdup(cj[k].job_id);
	}
	if (it->git && !it->recorded && (it->child_live[0] || it->child_live[1])) {
		char *msg = fo_asprintf("%s exists but the blue/green journal %s%s does not: which colour runs which "
					"spec is unknown. Delete the children (their final savepoints are taken) or "
					"restore the journal",
					it->child_live[0] ? cname[0] : cname[1], DEPLOY_BG_PREFIX, it->name);
		item_error(it, msg);
		free(msg);
	} else {
		advance(c, opts, decide, known, it, cj, has_cj, cname);
		/* the lineage: what the colour that is active now started from */
		int x = deploy_bg_active(it->journal.state);
		if (it->journal.state != DEPLOY_BG_INITIALIZING_BLUE && has_cj[x] && cj[x].started_from)
			it->started_from = fo_strdup(cj[x].started_from);
		if (!it->held && it->git && desired)
			take_children(it, cname, desired);
		if (!it->held && decide && known)
			sync_ingress(c, live, opts, it);
	}
	for (int k = 0; k < 2; k++) {
		bool gone = it->git && it->child_live[k] && !it->child_running[k];
		if (it->held || (gone && (!known || !decide)))
			/* nothing of it known, or nothing decided in this pass (plan
			 * --live, jobs off): kept as it is, never taken for a prune */
			add_name(&out->held, &out->nheld, it->ns, cname[k]);
		else if (gone)
			/* aborted, cancelled or retired: removed with its final savepoint */
			add_name(&out->removed, &out->nremoved, it->ns, cname[k]);
		deploy_journal_clear(&cj[k]);
		free(cname[k]);
	}
}

int deploy_bg_pass_run(k8s_client *c, const deploy_live *live, const flink_deployments *bgs, const deploy_options *opts,
		       bool decide, flink_deployments *desired, deploy_bg_pass *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	/* git's resources, with the journal each has */
	for (size_t i = 0; i < bgs->n; i++) {
		const flink_deployment *g = bgs->v[i];
		deploy_bg_item *it = item_add(out, g->namespace, g->name);
		it->git = g;
	}
	/* and every journal: its resource's, or one git no longer has */
	const char *key, *text, *rv;
	for (size_t i = 0; deploy_live_bluegreen_at(live, i, &key, &text, &rv); i++) {
		const char *slash = strchr(key, '/');
		if (!slash || slash == key || !slash[1]) {
			fo_warn("bluegreen", "a blue/green journal without its labels is left alone");
			continue;
		}
		char *ns = fo_strndup(key, (size_t)(slash - key));
		deploy_bg_item *it = NULL;
		for (size_t k = 0; k < out->n && !it; k++)
			if (fo_streq(out->v[k].ns, ns) && fo_streq(out->v[k].name, slash + 1))
				it = &out->v[k];
		if (!it)
			it = item_add(out, ns, slash + 1);
		free(ns);
		it->recorded = true;
		it->rv = rv ? fo_strdup(rv) : NULL;
		fo_err de = FO_ERR_INIT;
		if (!text || deploy_bg_journal_decode(text, &it->journal, &de) < 0) {
			char *msg = fo_asprintf("its journal %s%s does not decode: %s", DEPLOY_BG_PREFIX, it->name,
						text ? fo_err_msg(&de) : "no " DEPLOY_BG_KEY " in it");
			item_error(it, msg);
			free(msg);
		}
		fo_err_clear(&de);
	}
	int first = 0;
	for (size_t i = 0; i < out->n; i++) {
		deploy_bg_item *it = &out->v[i];
		if (!it->held)
			run_item(c, live, opts, decide, it, desired, out);
		else
			for (int k = 0; k < 2; k++) {
				char *cn = fo_asprintf("%s-%s", it->name, deploy_bg_colour_name((enum deploy_bg_colour)k));
				add_name(&out->held, &out->nheld, it->ns, cn);
				free(cn);
			}
		/* the resource's own name: its Ingress (instance NAME) is the
		 * engine's, never taken for a deployment gone from git */
		add_name(&out->held, &out->nheld, it->ns, it->name);
		if (it->error && !first)
			first = fo_err_set(e, FO_EREFUSED, "FlinkBlueGreenDeployment %s/%s: %s", it->ns, it->name, it->error);
	}
	return first;
}

void deploy_bg_pass_free(deploy_bg_pass *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		deploy_bg_item *it = &p->v[i];
		free(it->ns);
		free(it->name);
		deploy_bg_journal_clear(&it->journal);
		free(it->rv);
		free(it->uid);
		free(it->why);
		free(it->error);
		free(it->child_job[0]);
		free(it->child_job[1]);
		free(it->started_from);
		free(it->switched_at);
	}
	free(p->v);
	for (size_t i = 0; i < p->nheld; i++)
		free(p->held[i]);
	free(p->held);
	for (size_t i = 0; i < p->nremoved; i++)
		free(p->removed[i]);
	free(p->removed);
	memset(p, 0, sizeof(*p));
}
