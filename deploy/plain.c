/*
 * The plain objects' reconciler (plain.h): a repository's ServiceAccounts,
 * Roles and RoleBindings, applied as git has them with flinkops' labels and
 * a content hash, listed by those labels, and deleted when git no longer
 * has them — only when every guard a FlinkDeployment's prune has lets it.
 * The decision is pure (deploy_plain_decide); the rest is one request per
 * object to change.
 */
#include "deploy/plain.h"

#include <stdlib.h>
#include <string.h>

#include "deploy/deploy.h"
#include "lib/json.h"
#include "lib/log.h"
#include "render/render.h"

/* Apply order: what a later kind names exists first. */
static const k8s_kind *const plain_kinds[] = {&k8s_kind_serviceaccount, &k8s_kind_role, &k8s_kind_rolebinding};

const k8s_kind *deploy_plain_kind(const char *kind)
{
	for (size_t i = 0; kind && i < FO_ARRAY_LEN(plain_kinds); i++)
		if (strcmp(plain_kinds[i]->kind, kind) == 0)
			return plain_kinds[i];
	return NULL;
}

const char *deploy_plain_op_name(enum deploy_plain_op op)
{
	switch (op) {
	case DEPLOY_PLAIN_CREATE: return "create";
	case DEPLOY_PLAIN_UPDATE: return "update";
	case DEPLOY_PLAIN_DELETE: return "delete";
	default: return "keep";
	}
}

static const char *agent_or_default(const char *agent)
{
	return agent && *agent ? agent : "flinkops";
}

cJSON *deploy_plain_object(const flink_plain *p, const char *agent)
{
	cJSON *o = cJSON_Duplicate(p->obj, true);
	cJSON *meta = fo_json_obj(o, "metadata");
	cJSON *labels = fo_json_obj(meta, "labels");
	fo_json_set(labels, RENDER_LABEL_MANAGED_BY, cJSON_CreateString(RENDER_MANAGED_BY));
	fo_json_set(labels, DEPLOY_LABEL_AGENT, cJSON_CreateString(agent_or_default(agent)));
	char *hash = flink_plain_hash(p);
	fo_json_set(fo_json_obj(meta, "annotations"), RENDER_ANNOTATION_HASH, cJSON_CreateString(hash));
	free(hash);
	return o;
}

static const char *meta_str(const cJSON *o, const char *key)
{
	return fo_json_str(cJSON_GetObjectItemCaseSensitive(o, "metadata"), key);
}

static deploy_plain_action *add_action(deploy_plain_plan *p, enum deploy_plain_op op, const k8s_kind *kind,
				       const char *ns, const char *name)
{
	p->v = fo_grow(p->v, &p->cap, p->n + 1, sizeof(*p->v));
	deploy_plain_action *a = &p->v[p->n++];
	memset(a, 0, sizeof(*a));
	a->op = op;
	a->kind = kind;
	a->ns = fo_strdup(ns);
	a->name = fo_strdup(name);
	return a;
}

static const deploy_plain_live_obj *live_find(const deploy_plain_live *l, const k8s_kind *kind, const char *ns,
					      const char *name)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (l->v[i].kind == kind && strcmp(l->v[i].ns, ns) == 0 && strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

static bool held(const deploy_plain_guard *g, const char *ns)
{
	for (size_t i = 0; g && i < g->nheld; i++)
		if (strcmp(g->held_ns[i], ns) == 0)
			return true;
	return false;
}

void deploy_plain_decide(const flink_plains *desired, const deploy_plain_live *live, const char *agent,
			 const deploy_plain_guard *g, deploy_plain_plan *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < desired->n; i++) {
		const flink_plain *p = desired->v[i];
		const k8s_kind *kind = deploy_plain_kind(p->kind);
		const deploy_plain_live_obj *l = live_find(live, kind, p->namespace, p->name);
		cJSON *want = deploy_plain_object(p, agent);
		char *where = NULL;
		enum deploy_plain_op op = DEPLOY_PLAIN_KEEP;
		if (!l) {
			op = DEPLOY_PLAIN_CREATE;
		} else if (!fo_streq(render_object_hash(l->obj), render_object_hash(want))) {
			op = DEPLOY_PLAIN_UPDATE;
			where = fo_strdup("changed in git");
		} else if (!deploy_subset_equal(want, l->obj, &where)) {
			/* someone edited it in the cluster: git's is applied again */
			op = DEPLOY_PLAIN_UPDATE;
		}
		cJSON_Delete(want);
		deploy_plain_action *a = add_action(out, op, kind, p->namespace, p->name);
		a->want = p;
		a->why = where;
	}
	size_t ndelete = 0;
	for (size_t i = 0; live && i < live->n; i++) {
		const deploy_plain_live_obj *l = &live->v[i];
		bool wanted = false;
		for (size_t j = 0; j < desired->n && !wanted; j++)
			wanted = deploy_plain_kind(desired->v[j]->kind) == l->kind &&
				 strcmp(desired->v[j]->namespace, l->ns) == 0 && strcmp(desired->v[j]->name, l->name) == 0;
		if (wanted)
			continue;
		deploy_plain_action *a = add_action(out, DEPLOY_PLAIN_DELETE, l->kind, l->ns, l->name);
		ndelete++;
		if (held(g, l->ns)) {
			a->refused = true;
			a->why = fo_strdup("waits until the FlinkDeployments of its namespace that are gone from git are "
					   "deleted (their pods may use it)");
		}
	}
	if (!ndelete)
		return;
	size_t nlive = live ? live->n : 0;
	double share = nlive ? (double)ndelete / (double)nlive : 1.0;
	double limit = g ? g->max_delete_ratio : 0.5;
	if (!g || !g->prune) {
		out->prune_disabled = true; /* configured, not refused */
	} else if (g->skip_reason) {
		out->prune_refused = true;
		out->prune_reason = fo_asprintf("nothing is deleted in this pass: %s", g->skip_reason);
	} else if (g->refused_reason) {
		out->prune_refused = true;
		out->prune_reason = fo_asprintf("nothing is deleted in this pass: %s", g->refused_reason);
	} else if (share > limit && !g->force_prune) {
		out->prune_refused = true;
		out->prune_reason = fo_asprintf(
			"this pass would delete %zu of %zu ServiceAccounts, Roles and RoleBindings (%.0f%%), more than "
			"the limit of %.0f%%; nothing was deleted. If the repository is right, raise "
			"prune.maxDeleteRatio or run once with --force-prune",
			ndelete, nlive, share * 100, limit * 100);
	}
	if (out->prune_refused || out->prune_disabled)
		for (size_t i = 0; i < out->n; i++)
			if (out->v[i].op == DEPLOY_PLAIN_DELETE && !out->v[i].refused) {
				out->v[i].refused = true;
				out->v[i].why = fo_strdup(out->prune_disabled ? "prune.enabled is false" : out->prune_reason);
			}
}

typedef struct list_arg {
	deploy_plain_live *l;
	const k8s_kind *kind;
} list_arg;

static int keep_live(cJSON *o, void *arg)
{
	list_arg *a = arg;
	const char *name = meta_str(o, "name"), *ns = meta_str(o, "namespace");
	if (!name || !ns) {
		cJSON_Delete(o);
		return 0;
	}
	deploy_plain_live *l = a->l;
	l->v = fo_grow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	deploy_plain_live_obj *x = &l->v[l->n++];
	x->kind = a->kind;
	x->ns = fo_strdup(ns);
	x->name = fo_strdup(name);
	x->obj = o;
	return 0;
}

int deploy_plain_list(k8s_client *c, const char *agent, char *const *namespaces, size_t n, deploy_plain_live *out,
		      fo_err *e)
{
	memset(out, 0, sizeof(*out));
	char *selector = fo_asprintf("%s=%s,%s=%s", RENDER_LABEL_MANAGED_BY, RENDER_MANAGED_BY, DEPLOY_LABEL_AGENT,
				     agent_or_default(agent));
	int rc = 0;
	for (size_t i = 0; i < (n ? n : 1) && rc == 0; i++)
		for (size_t k = 0; k < FO_ARRAY_LEN(plain_kinds) && rc == 0; k++) {
			list_arg a = {out, plain_kinds[k]};
			rc = k8s_list_each(c, plain_kinds[k], n ? namespaces[i] : NULL, selector, K8S_LIST_NO_STATUS,
					   keep_live, &a, e);
			if (rc < 0)
				fo_err_prefix(e, "reading the ServiceAccounts, Roles and RoleBindings flinkops manages");
		}
	free(selector);
	if (rc < 0)
		deploy_plain_live_free(out);
	return rc;
}

int deploy_plain_apply(k8s_client *c, deploy_plain_plan *p, const char *agent, fo_err *e)
{
	int first = 0;
	for (size_t k = 0; k < FO_ARRAY_LEN(plain_kinds); k++)
		for (size_t i = 0; i < p->n; i++) {
			deploy_plain_action *a = &p->v[i];
			if (a->kind != plain_kinds[k] || (a->op != DEPLOY_PLAIN_CREATE && a->op != DEPLOY_PLAIN_UPDATE))
				continue;
			cJSON *o = deploy_plain_object(a->want, agent);
			fo_err ae = FO_ERR_INIT;
			int rc = k8s_apply(c, o, false, NULL, &ae);
			cJSON_Delete(o);
			if (rc < 0) {
				a->error = fo_strdup(fo_err_msg(&ae));
				if (!first)
					first = fo_err_set(e, rc, "%s", fo_err_msg(&ae));
			} else {
				a->done = true;
				fo_info("deploy", "%s %s/%s: %s%s%s", a->kind->kind, a->ns, a->name,
					a->op == DEPLOY_PLAIN_CREATE ? "created" : "updated", a->why ? ": " : "",
					a->why ? a->why : "");
			}
			fo_err_clear(&ae);
		}
	return first;
}

int deploy_plain_prune(k8s_client *c, deploy_plain_plan *p, fo_err *e)
{
	int first = 0;
	for (size_t k = FO_ARRAY_LEN(plain_kinds); k-- > 0;)
		for (size_t i = 0; i < p->n; i++) {
			deploy_plain_action *a = &p->v[i];
			if (a->kind != plain_kinds[k] || a->op != DEPLOY_PLAIN_DELETE || a->refused)
				continue;
			fo_err de = FO_ERR_INIT;
			fo_info("deploy", "%s %s/%s: gone from git: deleting it", a->kind->kind, a->ns, a->name);
			int rc = k8s_delete(c, a->kind, a->ns, a->name, NULL, &de);
			if (rc < 0) {
				a->error = fo_strdup(fo_err_msg(&de));
				if (!first)
					first = fo_err_set(e, rc, "%s", fo_err_msg(&de));
			} else {
				a->done = true;
			}
			fo_err_clear(&de);
		}
	return first;
}

void deploy_plain_live_free(deploy_plain_live *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].ns);
		free(l->v[i].name);
		cJSON_Delete(l->v[i].obj);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void deploy_plain_plan_free(deploy_plain_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].ns);
		free(p->v[i].name);
		free(p->v[i].why);
		free(p->v[i].error);
	}
	free(p->v);
	free(p->prune_reason);
	memset(p, 0, sizeof(*p));
}
