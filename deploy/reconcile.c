/*
 * The object side of a pass: inventory, per-object comparison, apply and
 * prune. See deploy.h. Job handling (savepoints, submission) is layered on
 * top of this by the rollout; here every change is an apply.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "deploy/deploy.h"
#include "deploy/journal.h"
#include "deploy/bluegreen.h"
#include "deploy/snapshot.h"
#include "flink/rest.h"
#include "lib/json.h"
#include "lib/log.h"

#define SELECTOR RENDER_LABEL_MANAGED_BY "=" RENDER_MANAGED_BY

/*
 * The start an application cluster's JobManager was last applied with, as
 * its journal says (appliedJobId, appliedFrom): rendered so, the live
 * JobManager compares equal while it runs that start, and a pass neither
 * sees drift nor restarts it. When the journal was not read (a plan
 * without jobs), the listed journal text is decoded for it; without
 * either, the start render_deployment gives.
 */
static void item_find_start(deploy_item *it, const deploy_live *live, bool read)
{
	if (!it->fd || !flink_application_cluster(it->fd))
		return;
	deploy_journal scratch;
	memset(&scratch, 0, sizeof(scratch));
	const deploy_journal *j = NULL;
	if (read) {
		if (!it->journal_bad)
			j = &it->journal;
	} else {
		const char *text = deploy_live_journal(live, it->ns, it->name);
		fo_err e = FO_ERR_INIT;
		if (text && deploy_journal_decode(text, &scratch, &e) == 0)
			j = &scratch;
		fo_err_clear(&e);
	}
	if (j && (j->applied_job_id || j->applied_from))
		deploy_item_set_start(it, j->applied_job_id, j->applied_from);
	deploy_journal_clear(&scratch);
}

/* The start to render `it` with (NULL: render_deployment's). */
static const render_start *item_start(const deploy_item *it, render_start *s)
{
	if (!it->start_job_id && !it->start_from)
		return NULL;
	s->job_id = it->start_job_id;
	s->from = it->start_from;
	return s;
}

static const k8s_kind *const component_kind[RENDER_NCOMPONENTS] = {
	&k8s_kind_configmap,   &k8s_kind_service,     &k8s_kind_service, &k8s_kind_service,
	&k8s_kind_statefulset, &k8s_kind_statefulset, &k8s_kind_ingress,
};

/* ---- inventory ---------------------------------------------------------- */

/* Each live object is kept as compact JSON text and parsed again only when
 * it is compared: a tree of thousands of objects costs several times the
 * text, and a pass needs each object once. */
typedef struct live_entry {
	char *key;        /* "Kind/namespace/name" */
	char *ns;
	char *instance;   /* app.kubernetes.io/instance, or NULL */
	char *json;
	char *uid;        /* a journal's: its ConfigMap's metadata.uid */
} live_entry;

struct deploy_live {
	live_entry *v;
	size_t n, cap;
	live_entry *journals;   /* journal ConfigMaps: key "ns/name", json = the journal text */
	size_t njournals, jcap;
	size_t journals_unread; /* journal ConfigMaps listed without a journal or its labels */
	live_entry *snapshots;  /* FlinkStateSnapshot records: key "ns/name", json = the record text,
	                         * instance = the resourceVersion */
	size_t nsnapshots, scap;
	live_entry *bluegreens; /* blue/green journals: as the snapshot records */
	size_t nbluegreens, bcap;
	size_t *index;    /* open addressing: position in v plus one */
	size_t icap;
	/* Where Ingresses could not be listed and why (an install from
	 * before spec.ingress, without the permission; ns NULL: the listing
	 * of every namespace): a deployment there that asks for one fails,
	 * and none there is pruned. Kept per namespace, since an agent may
	 * hold the grant in some namespaces and not in others. */
	struct ingress_gap {
		char *ns, *why;
	} *ingress_gaps;
	size_t ningress_gaps;
};

/* Why Ingresses of namespace `ns` could not be listed, or NULL when they were. */
static const char *ingresses_unlisted(const deploy_live *l, const char *ns)
{
	for (size_t i = 0; l && i < l->ningress_gaps; i++)
		if (!l->ingress_gaps[i].ns || fo_streq(l->ingress_gaps[i].ns, ns))
			return l->ingress_gaps[i].why;
	return NULL;
}

static uint64_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static char *obj_key(const char *kind, const char *ns, const char *name)
{
	return fo_asprintf("%s/%s/%s", kind, ns ? ns : "", name);
}

static const char *meta_str(const cJSON *o, const char *field)
{
	return fo_json_str(cJSON_GetObjectItemCaseSensitive(o, "metadata"), field);
}

static const char *label(const cJSON *o, const char *key)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "metadata");
	return fo_json_str(cJSON_GetObjectItemCaseSensitive(m, "labels"), key);
}

static int keep_entry(cJSON *o, void *arg)
{
	deploy_live *l = arg;
	const char *name = meta_str(o, "name"), *ns = meta_str(o, "namespace"), *kind = fo_json_str(o, "kind");
	if (name && kind) {
		l->v = fo_grow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
		live_entry *en = &l->v[l->n++];
		en->key = obj_key(kind, ns, name);
		en->ns = fo_strdup(ns ? ns : "");
		const char *inst = label(o, RENDER_LABEL_INSTANCE);
		en->instance = inst ? fo_strdup(inst) : NULL;
		en->json = fo_json_print(o, false); /* numbers exact: cJSON's printer rounds */
	}
	cJSON_Delete(o);
	return 0;
}

/* A FlinkStateSnapshot's record (deploy/snapshot.h) or a blue/green
 * journal (deploy/bluegreen.h), listed with the journals, its text under
 * `key`, into `*v`. */
static void keep_record(live_entry **v, size_t *n, size_t *cap, const cJSON *o, const char *key)
{
	const char *ns = meta_str(o, "namespace"), *inst = label(o, RENDER_LABEL_INSTANCE);
	const char *text = fo_json_str(cJSON_GetObjectItemCaseSensitive(o, "data"), key);
	*v = fo_grow(*v, cap, *n + 1, sizeof(**v));
	live_entry *en = &(*v)[(*n)++];
	memset(en, 0, sizeof(*en));
	/* one without its labels or its text is kept too: it may be in flight,
	 * and what is unknown holds (deploy_snapshots_plan, deploy_bg_pass_run) */
	en->key = fo_asprintf("%s/%s", ns ? ns : "", inst ? inst : "");
	en->ns = fo_strdup(ns ? ns : "");
	en->json = text ? fo_strdup(text) : NULL;
	const char *rv = meta_str(o, "resourceVersion");
	en->instance = rv ? fo_strdup(rv) : NULL;
}

bool deploy_live_snapshot_at(const deploy_live *l, size_t i, const char **key, const char **text, const char **rv)
{
	if (!l || i >= l->nsnapshots)
		return false;
	*key = l->snapshots[i].key;
	*text = l->snapshots[i].json;
	*rv = l->snapshots[i].instance;
	return true;
}

bool deploy_live_bluegreen_at(const deploy_live *l, size_t i, const char **key, const char **text, const char **rv)
{
	if (!l || i >= l->nbluegreens)
		return false;
	*key = l->bluegreens[i].key;
	*text = l->bluegreens[i].json;
	*rv = l->bluegreens[i].instance;
	return true;
}

static int keep_journal(cJSON *o, void *arg)
{
	deploy_live *l = arg;
	if (fo_streq(label(o, RENDER_LABEL_MANAGED_BY), DEPLOY_SNAPSHOT_LABEL_VALUE)) {
		keep_record(&l->snapshots, &l->nsnapshots, &l->scap, o, DEPLOY_SNAPSHOT_KEY);
		cJSON_Delete(o);
		return 0;
	}
	if (fo_streq(label(o, RENDER_LABEL_MANAGED_BY), DEPLOY_BG_LABEL_VALUE)) {
		keep_record(&l->bluegreens, &l->nbluegreens, &l->bcap, o, DEPLOY_BG_KEY);
		cJSON_Delete(o);
		return 0;
	}
	const char *ns = meta_str(o, "namespace"), *inst = label(o, RENDER_LABEL_INSTANCE);
	const char *text = fo_json_str(cJSON_GetObjectItemCaseSensitive(o, "data"), DEPLOY_JOURNAL_KEY);
	if (ns && inst && text) {
		l->journals = fo_grow(l->journals, &l->jcap, l->njournals + 1, sizeof(*l->journals));
		live_entry *en = &l->journals[l->njournals++];
		memset(en, 0, sizeof(*en));
		en->key = fo_asprintf("%s/%s", ns, inst);
		en->ns = fo_strdup(ns);
		en->json = fo_strdup(text);
		const char *rv = meta_str(o, "resourceVersion"), *uid = meta_str(o, "uid");
		en->instance = rv ? fo_strdup(rv) : NULL; /* for journals: the resourceVersion */
		en->uid = uid ? fo_strdup(uid) : NULL;
	} else {
		l->journals_unread++; /* what it references is unknown */
	}
	cJSON_Delete(o);
	return 0;
}

bool deploy_live_journal_at(const deploy_live *l, size_t i, const char **key, const char **text)
{
	if (!l || i >= l->njournals)
		return false;
	*key = l->journals[i].key;
	*text = l->journals[i].json;
	return true;
}

size_t deploy_live_journals_unread(const deploy_live *l)
{
	return l ? l->journals_unread : 0;
}

/* The inventory's journal entry of ns/name, or NULL. */
static const live_entry *journal_entry(const deploy_live *l, const char *ns, const char *name)
{
	char *key = fo_asprintf("%s/%s", ns, name);
	const live_entry *found = NULL;
	for (size_t i = 0; l && i < l->njournals && !found; i++)
		if (strcmp(l->journals[i].key, key) == 0)
			found = &l->journals[i];
	free(key);
	return found;
}

const char *deploy_live_journal_rv(const deploy_live *l, const char *ns, const char *name, const char **rv)
{
	const live_entry *en = journal_entry(l, ns, name);
	if (rv)
		*rv = en ? en->instance : NULL;
	return en ? en->json : NULL;
}

const char *deploy_live_journal_uid(const deploy_live *l, const char *ns, const char *name)
{
	const live_entry *en = journal_entry(l, ns, name);
	return en ? en->uid : NULL;
}

const char *deploy_live_journal(const deploy_live *l, const char *ns, const char *name)
{
	return deploy_live_journal_rv(l, ns, name, NULL);
}

int deploy_live_load(k8s_client *c, const char *agent, char *const *namespaces, size_t n, deploy_live **out,
		     fo_err *e)
{
	*out = NULL;
	const char *who = agent && *agent ? agent : "flinkops";
	char *selector = fo_asprintf("%s,%s=%s", SELECTOR, DEPLOY_LABEL_AGENT, who);
	/* the rollout journals: what each job is doing */
	/* and the FlinkStateSnapshot records and blue/green journals, in the same LIST */
	char *jsel = fo_asprintf("%s in (%s,%s,%s),%s=%s", RENDER_LABEL_MANAGED_BY, DEPLOY_JOURNAL_LABEL_VALUE,
				 DEPLOY_SNAPSHOT_LABEL_VALUE, DEPLOY_BG_LABEL_VALUE, DEPLOY_LABEL_AGENT, who);
	deploy_live *l = fo_calloc(1, sizeof(*l));
	static const k8s_kind *const kinds[4] = {&k8s_kind_configmap, &k8s_kind_service, &k8s_kind_statefulset,
						 &k8s_kind_ingress};
	int rc = 0;
	for (size_t i = 0; i < (n ? n : 1) && rc == 0; i++) {
		const char *ns = n ? namespaces[i] : NULL;
		for (int k = 0; k < 4 && rc == 0; k++) {
			rc = k8s_list_each(c, kinds[k], ns, selector, K8S_LIST_NO_STATUS, keep_entry, l, e);
			if (kinds[k] == &k8s_kind_ingress && (rc == FO_EFORBIDDEN || rc == FO_ENOTFOUND)) {
				/* an install from before spec.ingress: only a
				 * deployment that asks for one needs them */
				l->ingress_gaps = fo_realloc(l->ingress_gaps,
							     (l->ningress_gaps + 1) * sizeof(*l->ingress_gaps));
				l->ingress_gaps[l->ningress_gaps++] =
					(struct ingress_gap){ns ? fo_strdup(ns) : NULL, fo_strdup(fo_err_msg(e))};
				fo_err_clear(e);
				rc = 0;
			}
			if (rc < 0)
				fo_err_prefix(e, "reading what flinkops manages");
		}
		if (rc == 0 && (rc = k8s_list_each(c, &k8s_kind_configmap, ns, jsel, K8S_LIST_NO_STATUS, keep_journal, l,
						   e)) < 0)
			fo_err_prefix(e, "reading the rollout journals");
	}
	free(selector);
	free(jsel);
	if (rc < 0) {
		deploy_live_free(l);
		return rc;
	}
	l->icap = 16;
	while (l->icap < 2 * l->n + 2)
		l->icap *= 2;
	l->index = fo_calloc(l->icap, sizeof(*l->index));
	for (size_t i = 0; i < l->n; i++) {
		size_t mask = l->icap - 1, j = hash_key(l->v[i].key) & mask;
		while (l->index[j])
			j = (j + 1) & mask;
		l->index[j] = i + 1;
	}
	*out = l;
	return 0;
}

/* Whether `ns` is one of the `n` namespaces (all when n is 0). */
static bool in_scope(const char *ns, char *const *namespaces, size_t n)
{
	for (size_t j = 0; j < n; j++)
		if (strcmp(ns, namespaces[j]) == 0)
			return true;
	return n == 0;
}

/* The error for a document of namespace `ns`, which the agent does not manage. */
static void out_of_scope(fo_diags *d, const char *file, int line, int col, const char *kind, const char *ns,
			 const char *name, char *const *namespaces, size_t n)
{
	fo_buf list = FO_BUF_INIT;
	for (size_t j = 0; j < n; j++)
		fo_buf_printf(&list, "%s%s", j ? ", " : "", namespaces[j]);
	fo_diag_add(d, FO_SEV_ERROR, file, line, col,
		    "%s %s/%s: namespace %s is not one this agent manages (kubernetes.namespaces: %s); "
		    "add it there (and grant the agent its Role in it) or move the %s",
		    kind, ns, name, ns, list.ptr, strcmp(kind, FLINK_KIND) == 0 ? "deployment" : "object");
	fo_buf_free(&list);
}

size_t deploy_scope_filter(flink_deployments *v, char *const *namespaces, size_t n, fo_diags *d)
{
	if (!n)
		return 0;
	size_t kept = 0, dropped = 0;
	for (size_t i = 0; i < v->n; i++) {
		flink_deployment *fd = v->v[i];
		if (in_scope(fd->namespace, namespaces, n)) {
			v->v[kept++] = fd;
			continue;
		}
		out_of_scope(d, fd->source, fd->line, fd->col, "FlinkDeployment", fd->namespace, fd->name, namespaces, n);
		flink_deployment_free(fd);
		dropped++;
	}
	v->n = kept;
	kept = 0;
	for (size_t i = 0; i < v->plain.n; i++) {
		flink_plain *po = v->plain.v[i];
		if (in_scope(po->namespace, namespaces, n)) {
			v->plain.v[kept++] = po;
			continue;
		}
		out_of_scope(d, po->source, po->line, po->col, po->kind, po->namespace, po->name, namespaces, n);
		flink_plain_free(po);
		dropped++;
	}
	v->plain.n = kept;
	return dropped;
}

cJSON *deploy_live_get(const deploy_live *l, const k8s_kind *kind, const char *ns, const char *name)
{
	if (!l || !l->icap)
		return NULL;
	char *key = obj_key(kind->kind, ns, name);
	size_t mask = l->icap - 1, i = hash_key(key) & mask;
	cJSON *found = NULL;
	while (l->index[i]) {
		const live_entry *en = &l->v[l->index[i] - 1];
		if (strcmp(en->key, key) == 0) {
			found = cJSON_Parse(en->json);
			break;
		}
		i = (i + 1) & mask;
	}
	free(key);
	return found;
}

typedef struct instance {
	char *ns, *name;
} instance;

/* Add ns/name to v unless it is there. */
static void add_instance(instance **v, size_t *cnt, size_t *cap, const char *ns, const char *name)
{
	for (size_t j = 0; j < *cnt; j++)
		if (strcmp((*v)[j].name, name) == 0 && strcmp((*v)[j].ns, ns) == 0)
			return;
	*v = fo_grow(*v, cap, *cnt + 1, sizeof(**v));
	(*v)[*cnt].ns = fo_strdup(ns);
	(*v)[*cnt].name = fo_strdup(name);
	(*cnt)++;
}

/*
 * Distinct namespace/instance pairs of the inventory, in the order first
 * seen: those of the objects, then those of journals without objects — a
 * deployment whose objects are gone while its journal stays (the status
 * file that records its final state was not pushed yet) is finished by a
 * later pass, never forgotten with its state.
 */
/* Whether "ns/name" is one of `v`. */
static bool named(char *const *v, size_t n, const char *ns, const char *name)
{
	size_t lns = strlen(ns);
	for (size_t i = 0; v && i < n; i++)
		if (strncmp(v[i], ns, lns) == 0 && v[i][lns] == '/' && strcmp(v[i] + lns + 1, name) == 0)
			return true;
	return false;
}

bool deploy_live_has_instance(const deploy_live *l, const char *ns, const char *name)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (l->v[i].instance && fo_streq(l->v[i].instance, name) && fo_streq(l->v[i].ns, ns))
			return true;
	return deploy_live_journal(l, ns, name) != NULL;
}

static instance *live_instances(const deploy_live *l, size_t *n)
{
	instance *v = NULL;
	size_t cnt = 0, cap = 0;
	for (size_t i = 0; l && i < l->n; i++)
		if (l->v[i].instance)
			add_instance(&v, &cnt, &cap, l->v[i].ns, l->v[i].instance);
	for (size_t i = 0; l && i < l->njournals; i++) {
		const char *slash = strchr(l->journals[i].key, '/');
		if (slash && l->journals[i].ns)
			add_instance(&v, &cnt, &cap, l->journals[i].ns, slash + 1);
	}
	*n = cnt;
	return v;
}

static void instances_free(instance *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].ns);
		free(v[i].name);
	}
	free(v);
}

/* The records of a list (journals, snapshot records, blue/green journals). */
static void entries_free(live_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].json);
		free(v[i].instance);
		free(v[i].ns);
		free(v[i].uid);
	}
	free(v);
}

void deploy_live_free(deploy_live *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].ns);
		free(l->v[i].instance);
		cJSON_free(l->v[i].json);
	}
	free(l->v);
	entries_free(l->journals, l->njournals);
	entries_free(l->snapshots, l->nsnapshots);
	entries_free(l->bluegreens, l->nbluegreens);
	free(l->index);
	for (size_t i = 0; i < l->ningress_gaps; i++) {
		free(l->ingress_gaps[i].ns);
		free(l->ingress_gaps[i].why);
	}
	free(l->ingress_gaps);
	free(l);
}

/* ---- planning ----------------------------------------------------------- */

static void item_find_live(deploy_item *it, const deploy_live *live)
{
	for (int k = 0; k < RENDER_NCOMPONENTS; k++) {
		char *n = render_object_name((enum render_component)k, it->name);
		it->live[k] = deploy_live_get(live, component_kind[k], it->ns, n);
		free(n);
	}
}

/* Whether an optional component git no longer renders may be deleted:
 * pruning is on and no manifest is in doubt (the same guards as a
 * deployment gone from git). */
static bool may_prune_component(const deploy_options *opts)
{
	return opts && opts->prune && !opts->prune_skip_reason;
}

static enum deploy_obj_state compare_one(deploy_item *it, int k, k8s_client *c, const deploy_options *opts)
{
	const cJSON *want = it->objs.v[k], *have = it->live[k];
	if (!want) {
		/* an optional component: one left from an earlier spec goes */
		it->absent[k] = !have;
		if (have && !may_prune_component(opts))
			fo_info("deploy", "%s/%s: %s %s is no longer in git; kept: %s", it->ns, it->name,
				component_kind[k]->kind, meta_str(have, "name"),
				opts && opts->prune_skip_reason ? opts->prune_skip_reason : "pruning is disabled");
		return have && may_prune_component(opts) ? DEPLOY_OBJ_EXTRA : DEPLOY_OBJ_EQUAL;
	}
	if (!have)
		return DEPLOY_OBJ_MISSING;
	if (!fo_streq(render_object_hash(want), render_object_hash(have)))
		return DEPLOY_OBJ_CHANGED;
	char *where = NULL;
	if (deploy_subset_equal(want, have, &where))
		return DEPLOY_OBJ_EQUAL;
	if (c && opts && opts->confirm_drift) {
		/* The local comparison can be fooled by what the server rewrites;
		 * ask the server what applying would store, and compare that. */
		cJSON *result = NULL;
		fo_err e = FO_ERR_INIT;
		if (k8s_apply(c, want, true, &result, &e) == 0) {
			char *why = NULL;
			bool same = deploy_same_stored(result, have, &why);
			cJSON_Delete(result);
			if (same) {
				free(where);
				free(why);
				return DEPLOY_OBJ_EQUAL;
			}
			free(why);
		} else {
			fo_warn("deploy", "cannot confirm drift of %s/%s: %s", it->ns, it->name, fo_err_msg(&e));
		}
		fo_err_clear(&e);
	}
	it->drift[k] = where;
	return DEPLOY_OBJ_DRIFTED;
}

static bool unreachable(int rc)
{
	/* FO_EREFUSED: a server's TLS certificate that is not valid for it, which
	 * every further request meets as well */
	return rc == FO_ENET || rc == FO_ETIMEOUT || rc == FO_EREFUSED;
}

/*
 * The deployment's journal: from the inventory, or read by name when the
 * inventory (a listing by this agent's label) does not hold it — a journal
 * is never taken as absent unread. One that does not decode (edited by
 * hand, or of a newer flinkops) or that belongs to another agent fails the
 * deployment, and its job is left alone: acting without it could submit a
 * second job or lose where the state is. Without a client (nothing is
 * read) a journal not listed is taken as absent.
 */
static int load_journal(deploy_item *it, const deploy_live *live, k8s_client *c, const char *agent)
{
	int rc = 0;
	const char *rv = NULL;
	deploy_journal_cm cm = {DEPLOY_JOURNAL_UNREAD, NULL, NULL};
	cm.text = deploy_live_journal_rv(live, it->ns, it->name, &rv);
	if (cm.text) {
		cm.seen = DEPLOY_JOURNAL_LISTED;
		cm.label = agent; /* listed by it */
	} else if (!c) {
		cm.seen = DEPLOY_JOURNAL_NONE;
	}
	char *why = NULL;
	enum deploy_journal_verdict v = deploy_journal_judge(agent, it->ns, it->name, &cm, &it->journal, &why);
	if (v == DEPLOY_JOURNAL_USE) {
		const char *uid = deploy_live_journal_uid(live, it->ns, it->name);
		it->journal.resource_version = rv ? fo_strdup(rv) : NULL;
		it->journal.uid = uid ? fo_strdup(uid) : NULL;
	}
	fo_err e = FO_ERR_INIT;
	if (v == DEPLOY_JOURNAL_GET && (rc = deploy_journal_load(c, agent, it->ns, it->name, &it->journal, &v, &why, &e)) < 0) {
		/* unknown for now: nothing is done with the job in this pass */
		it->journal_bad = true;
		it->error = fo_asprintf("%s; its job is left alone in this pass", fo_err_msg(&e));
	}
	fo_err_clear(&e);
	if (v == DEPLOY_JOURNAL_FOREIGN || v == DEPLOY_JOURNAL_BAD) {
		it->journal_bad = true;
		it->error = why;
		why = NULL;
	}
	if (it->journal_bad)
		it->outcome = DEPLOY_OUTCOME_FAILED;
	free(why);
	return rc;
}

/*
 * Objects of a deployment missing from this agent's listing may exist under
 * another agent's label (agent.name changed, two agents naming one
 * deployment), where an apply would take them over unread: each is read by
 * name first, and a deployment with one that is not this agent's is left
 * alone (it->error: nothing applied, its job untouched, Failed).
 */
static int claim_objects(deploy_item *it, k8s_client *c, const char *agent)
{
	int failed = 0;
	for (int k = 0; k < RENDER_NCOMPONENTS && c && !it->error; k++) {
		if (it->live[k] || !it->objs.v[k])
			continue;
		char *n = render_object_name((enum render_component)k, it->name);
		cJSON *obj = NULL;
		fo_err e = FO_ERR_INIT;
		char *why = NULL;
		int rc = k8s_get(c, component_kind[k], it->ns, n, &obj, &e);
		if (rc < 0 && rc != FO_ENOTFOUND) {
			it->error = fo_asprintf("%s; nothing of this deployment is applied in this pass", fo_err_msg(&e));
			failed = rc;
		}
		else if (rc == 0 && !deploy_object_ours(agent, obj, &why))
			it->error = why;
		cJSON_Delete(obj);
		fo_err_clear(&e);
		free(n);
	}
	if (it->error)
		it->outcome = DEPLOY_OUTCOME_FAILED;
	return failed;
}

/*
 * A read the plan could not make because the API server did not answer ends
 * the plan there: every further read would wait out the same timeouts and
 * retries (minutes over a fleet), and the deployments after it are marked
 * unread, so that nothing is applied, pruned or disposed of on their account.
 */
static void plan_abort_on(deploy_pass *p, const deploy_item *it, int rc)
{
	if (rc >= 0 || !unreachable(rc) || p->aborted)
		return;
	p->aborted = true;
	p->abort_reason = fo_strdup(it->error ? it->error : "the API server did not answer");
}

static deploy_item *add_item(deploy_pass *p)
{
	p->items = fo_realloc(p->items, (p->n + 1) * sizeof(*p->items));
	deploy_item *it = &p->items[p->n++];
	memset(it, 0, sizeof(*it));
	return it;
}

/*
 * A session job's side in the cluster: its journal (the job that runs or
 * ran, and whether it was suspended), since it has no objects to list.
 * Read from the item's journal when loaded, else from the inventory's.
 */
static void session_job_side(deploy_side *s, deploy_item *it, const deploy_live *live)
{
	memset(s, 0, sizeof(*s));
	const char *rv = NULL, *text = deploy_live_journal_rv(live, it->ns, it->name, &rv);
	if (!it->journal_bad && !it->journal.resource_version && text) {
		/* not read for a rollout (a plan without jobs): decoded here */
		fo_err e = FO_ERR_INIT;
		if (deploy_journal_decode(text, &it->journal, &e) == 0)
			it->journal.resource_version = fo_strdup(rv ? rv : "");
		else
			deploy_journal_clear(&it->journal);
		fo_err_clear(&e);
	}
	const deploy_journal *j = it->journal_bad ? NULL : &it->journal;
	if (j && j->resource_version) {
		s->present = true;
		s->job_hash = j->target_job_hash;
		s->suspended = j->step == DEPLOY_STEP_IDLE && !j->job_id && j->target_job_hash;
	}
}

/* spec.replicas of a StatefulSet (absent: -1). */
static int sts_replicas(const cJSON *sts)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(sts, "spec"), "replicas");
	return cJSON_IsNumber(r) ? r->valueint : -1;
}

/* The session cluster item `job` runs on, or NULL. */
/* The job ids the session jobs of `p` on cluster `cl` run or are submitting
 * (their journals' job and submission ids), in or gone from git; `*n` set.
 * The caller frees the array, not the ids. */
static const char **managed_job_ids(const deploy_pass *p, const deploy_item *cl, size_t *n)
{
	const char **v = fo_calloc(2 * p->n + 1, sizeof(*v));
	*n = 0;
	for (size_t i = 0; i < p->n; i++) {
		const deploy_item *j = &p->items[i];
		if (!j->cluster || !fo_streq(j->cluster, cl->name) || !fo_streq(j->ns, cl->ns))
			continue;
		/* a job in the middle of its submission runs under the submission's id */
		v[(*n)++] = j->journal.job_id;
		v[(*n)++] = j->journal.submit_job_id;
	}
	return v;
}

/* List the jobs on session cluster `cl`: 0 with `*ids` the unmanaged ones
 * (deploy_unmanaged_jobs; NULL when none), or an error with `e` set. */
static int list_unmanaged_jobs(const deploy_pass *p, const deploy_item *cl, const deploy_options *opts, char **ids,
			       fo_err *e)
{
	flink_rest *r = NULL;
	flink_job_list jobs = {0};
	*ids = NULL;
	int rc = deploy_rest_open(opts, cl->ns, cl->name, &r, e);
	if (rc == 0)
		rc = flink_rest_jobs(r, &jobs, e);
	if (rc == 0) {
		size_t n = 0;
		const char **managed = managed_job_ids(p, cl, &n);
		*ids = deploy_unmanaged_jobs(&jobs, managed, n, false);
		/* their states go to the log, not to the status (see deploy_unmanaged_jobs) */
		char *states = *ids ? deploy_unmanaged_jobs(&jobs, managed, n, true) : NULL;
		if (states)
			fo_info("deploy", "%s/%s: jobs no FlinkSessionJob manages: %s", cl->ns, cl->name, states);
		free(states);
		free(managed);
	}
	flink_job_list_free(&jobs);
	flink_rest_free(r);
	return rc;
}

/*
 * A session cluster gone from git takes every job on it down with it, and
 * the jobs no FlinkSessionJob manages (submitted by hand, by the CLI) get no
 * final savepoint: as upstream's
 * kubernetes.operator.session.deletion.block-on-unmanaged-jobs (true by
 * default) does, the delete waits until none runs — and, where upstream
 * goes ahead, also while its jobs cannot be listed (nothing deleted on
 * doubt). The key's "false", rendered onto the JobManager while the
 * manifest was in git, lets it go. NULL when the cluster may be deleted,
 * else why not (the caller frees it).
 */
static char *unmanaged_jobs_hold(const deploy_pass *p, const deploy_item *it, const deploy_options *opts)
{
	const cJSON *jm = it->live[RENDER_STATEFULSET_JOBMANAGER];
	if (!opts || !opts->rollout || it->cluster || !jm || render_object_annotation(jm, RENDER_ANNOTATION_JOB_HASH) ||
	    fo_streq(render_object_annotation(jm, RENDER_ANNOTATION_DELETE_UNMANAGED), "true"))
		return NULL; /* no jobs run here, a cluster that runs its own job, or the key said so */
	fo_err e = FO_ERR_INIT;
	char *why = NULL, *ids = NULL;
	if (list_unmanaged_jobs(p, it, opts, &ids, &e) < 0)
		why = fo_asprintf("not deleted: the jobs on the session cluster cannot be listed (%s), and one that no "
				  "FlinkSessionJob manages would die with it; it is deleted once they can be listed and "
				  "none runs (or delete its objects by hand)",
				  fo_err_msg(&e));
	else if (ids)
		why = fo_asprintf("not deleted: jobs that no FlinkSessionJob manages run on the session cluster: %s; stop "
				  "them (with a savepoint, to keep their state) or cancel them, or let the cluster go with "
				  "them by setting kubernetes.operator.session.deletion.block-on-unmanaged-jobs: \"false\" "
				  "in its flinkConfiguration before deleting it",
				  ids);
	free(ids);
	fo_err_clear(&e);
	return why;
}

/*
 * A session cluster whose pods this change restarts, without high
 * availability: the jobs on it that no FlinkSessionJob stops first would be
 * killed and not come back, their state with them. So before any session
 * job stops for the restart (deploy_link_session_jobs runs after this), the
 * cluster's jobs are listed, and one that is neither a session job's of the
 * repository nor ended holds the change: the cluster fails, naming it, and
 * its session jobs keep running. The key that lets a delete go with such
 * jobs lets the restart go too. A JobManager that does not answer runs
 * nothing that could be lost, and a broken cluster must stay fixable from
 * git: the restart goes ahead.
 */
static void hold_restart_on_unmanaged_jobs(const deploy_pass *p, deploy_item *cl, const deploy_options *opts)
{
	const flink_deployment *fd = cl->fd;
	if (!opts || !opts->rollout || !fd || fd->has_job || fd->session_job || cl->error || cl->unread ||
	    !cl->change.restarts_pods || cl->change.action == DEPLOY_CREATE ||
	    fd->delete_with_unmanaged_jobs || flink_ha_mode(&fd->conf) != FLINK_HA_NONE)
		return;
	fo_err e = FO_ERR_INIT;
	char *ids = NULL;
	if (list_unmanaged_jobs(p, cl, opts, &ids, &e) < 0)
		fo_info("deploy", "%s/%s: its jobs cannot be listed (%s): its pods restart", cl->ns, cl->name, fo_err_msg(&e));
	else if (ids) {
		cl->error = fo_asprintf("its pods would restart under jobs that no FlinkSessionJob manages, which without "
					"high availability would not come back: %s; stop them (with a savepoint) or cancel "
					"them, or set kubernetes.operator.session.deletion.block-on-unmanaged-jobs: \"false\" "
					"to restart it under them; nothing of it is applied, and its session jobs keep running",
					ids);
		cl->outcome = DEPLOY_OUTCOME_FAILED;
		fo_warn("deploy", "%s/%s: %s", cl->ns, cl->name, cl->error);
	}
	free(ids);
	fo_err_clear(&e);
}

static deploy_item *cluster_item(deploy_pass *p, const deploy_item *job)
{
	for (size_t i = 0; i < p->n; i++) {
		deploy_item *c = &p->items[i];
		if (!c->cluster && c != job && fo_streq(c->name, job->cluster) && fo_streq(c->ns, job->ns))
			return c;
	}
	return NULL;
}

void deploy_link_session_jobs(deploy_pass *p)
{
	for (size_t i = 0; i < p->n; i++) {
		deploy_item *job = &p->items[i];
		if (!job->cluster)
			continue;
		deploy_item *cl = cluster_item(p, job);
		bool pending = !cl || cl->error || cl->unread;
		for (int k = 0; cl && k < RENDER_NCOMPONENTS; k++)
			pending = pending || (cl->fd && cl->state[k] != DEPLOY_OBJ_EQUAL);
		job->cluster_pending = pending;
		/* a cluster that failed in planning is not applied: its jobs keep running */
		bool restarts = cl && cl->fd && !cl->error && cl->change.restarts_pods && pending;
		job->cluster_restarts = restarts && job->fd;
		/* a TaskManager removed under a job's stop could fail its
		 * savepoint: a shrink waits for the jobs that are stopping */
		bool stopping = !job->fd || job->fd->job.state == FLINK_STATE_SUSPENDED;
		bool shrinks = cl && cl->fd && cl->tm_shrinks && pending && stopping;
		if (cl && cl->fd && (restarts || shrinks) &&
		    deploy_session_job_holds(&job->journal, job->journal_bad || job->unread)) {
			char *h = fo_asprintf("%s%s%s", cl->held_by ? cl->held_by : "", cl->held_by ? ", " : "", job->name);
			free(cl->held_by);
			cl->held_by = h;
		}
	}
}

int deploy_reconcile_plan(const flink_deployments *desired, const deploy_live *live, k8s_client *c,
			  const deploy_options *opts, deploy_pass *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	if (c)
		deploy_fault_point("listed");
	for (size_t i = 0; i < desired->n; i++) {
		const flink_deployment *fd = desired->v[i];
		deploy_item *it = add_item(out);
		it->fd = fd;
		it->ns = fo_strdup(fd->namespace);
		it->name = fo_strdup(fd->name);
		if (out->aborted) {
			it->unread = true; /* nothing known of it: nothing is done with it */
			continue;
		}
		bool jobs = opts && opts->rollout && fd->has_job;
		if (jobs) /* before rendering: an application cluster's start is in it */
			plan_abort_on(out, it, load_journal(it, live, c, deploy_agent_name(opts)));
		item_find_start(it, live, jobs);
		render_start st;
		render_objects objs = {0};
		int rc = render_deployment_at(fd, item_start(it, &st), &objs, e);
		if (rc < 0) {
			render_objects_free(&objs);
			it->error = fo_strdup(fo_err_msg(e));
			fo_err_clear(e);
			continue;
		}
		deploy_item_set_objects(it, &objs, opts);
		deploy_side from, to;
		if (fd->session_job) {
			/* no objects of its own: it runs on its cluster's, and its
			 * journal says what ran before */
			it->cluster = fo_strdup(fd->deployment_name);
			session_job_side(&from, it, live);
		} else {
			item_find_live(it, live);
			for (int k = 0; k < RENDER_NCOMPONENTS; k++)
				it->state[k] = compare_one(it, k, c, opts);
			const char *no_ingresses = ingresses_unlisted(live, it->ns);
			if (it->objs.v[RENDER_INGRESS] && no_ingresses && !it->error) {
				it->error = fo_asprintf("spec.ingress: Ingresses cannot be listed (%s); grant the agent "
							"list, create, patch and delete on ingresses.networking.k8s.io in "
							"%s, as examples/install/rbac.yaml does; nothing of this "
							"deployment is applied in this pass",
							no_ingresses, it->ns);
				it->outcome = DEPLOY_OUTCOME_FAILED;
			}
			deploy_side_from_live(&from, it->live);
		}
		deploy_side_from_rendered(&to, &it->objs, fd);
		const char *drift[RENDER_NCOMPONENTS];
		for (int k = 0; k < RENDER_NCOMPONENTS; k++)
			drift[k] = it->state[k] == DEPLOY_OBJ_DRIFTED ? (it->drift[k] ? it->drift[k] : "") : NULL;
		deploy_plan_change(&from, &to, drift, &it->change);
		if (fd->session_job) {
			it->job_hash = fo_strdup(it->objs.job_hash);
			it->target_hash = fo_strdup(it->objs.job_hash);
		} else if (fd->has_job) {
			const char *jh = render_object_annotation(it->objs.v[RENDER_STATEFULSET_JOBMANAGER], RENDER_ANNOTATION_JOB_HASH);
			it->job_hash = jh ? fo_strdup(jh) : NULL;
			it->target_hash = render_target_hash(&it->objs);
		}
		if (jobs) {
			/* the journal, not the objects, says whether the job is the
			 * rendered one; every pass looks at the job (watch_job), so a
			 * status says what Flink reports */
			if (!it->journal_bad)
				it->job_pending = it->journal.step != DEPLOY_STEP_IDLE || !it->journal.job_id ||
						  !fo_streq(it->journal.target_job_hash, it->job_hash);
			it->watch_job = !it->journal_bad;
		}
		if (!fd->has_job && !fd->session_job)
			it->tm_shrinks = sts_replicas(it->objs.v[RENDER_STATEFULSET_TASKMANAGER]) <
					 sts_replicas(it->live[RENDER_STATEFULSET_TASKMANAGER]);
		plan_abort_on(out, it, claim_objects(it, c, deploy_agent_name(opts)));
		/* Rendering is deterministic and cheap: the objects are rendered
		 * again when applied instead of being held for the whole pass; the
		 * live objects are not needed again unless the caller shows them. */
		render_objects_free(&it->objs);
		if (!(opts && opts->keep_live))
			for (int k = 0; k < RENDER_NCOMPONENTS; k++) {
				cJSON_Delete(it->live[k]);
				it->live[k] = NULL;
			}
	}

	/* deployments in the cluster that git no longer has */
	size_t ninst = 0, nremoved = 0;
	instance *inst = live_instances(live, &ninst);
	for (size_t i = 0; i < ninst; i++) {
		bool wanted = false;
		for (size_t j = 0; j < desired->n && !wanted; j++)
			wanted = strcmp(desired->v[j]->name, inst[i].name) == 0 &&
				 strcmp(desired->v[j]->namespace, inst[i].ns) == 0;
		if (wanted || (opts && named(opts->bg_held, opts->nbg_held, inst[i].ns, inst[i].name)))
			continue;
		deploy_item *it = add_item(out);
		it->bg_removed = opts && named(opts->bg_removed, opts->nbg_removed, inst[i].ns, inst[i].name);
		it->ns = fo_strdup(inst[i].ns);
		it->name = fo_strdup(inst[i].name);
		item_find_live(it, live);
		if (out->aborted)
			it->unread = true;
		else if (opts && opts->rollout) /* the job to stop before the objects go */
			plan_abort_on(out, it, load_journal(it, live, c, deploy_agent_name(opts)));
		if (it->journal.session_cluster)
			it->cluster = fo_strdup(it->journal.session_cluster);
		deploy_side from, to;
		if (it->cluster) {
			session_job_side(&from, it, live);
		} else {
			deploy_side_from_live(&from, it->live);
		}
		memset(&to, 0, sizeof(to));
		deploy_plan_change(&from, &to, NULL, &it->change);
		if (it->bg_removed)
			nremoved++;
		else
			out->nprune++;
	}
	instances_free(inst, ninst);
	/* the share is of what the inventory holds beside the engine's removals */
	ninst -= nremoved;
	if (c)
		for (size_t i = 0; i < out->n && !out->aborted; i++)
			hold_restart_on_unmanaged_jobs(out, &out->items[i], opts);
	deploy_link_session_jobs(out);

	if (out->nprune) {
		double share = ninst ? (double)out->nprune / (double)ninst : 1.0;
		double limit = opts ? opts->max_delete_ratio : 0.5;
		if (opts && !opts->prune) {
			/* configured, not refused: nothing is deleted and nothing is wrong */
			out->prune_disabled = true;
		} else if (opts && opts->prune_skip_reason) {
			out->prune_refused = true;
			out->prune_reason = fo_asprintf("nothing is deleted in this pass: %s", opts->prune_skip_reason);
		} else if (share > limit && !(opts && opts->force_prune)) {
			out->prune_refused = true;
			out->prune_reason = fo_asprintf(
				"this pass would delete %zu of %zu deployments (%.0f%%), more than the limit of %.0f%%; "
				"nothing was deleted. If the repository is right, raise prune.maxDeleteRatio or run once "
				"with --force-prune",
				out->nprune, ninst, share * 100, limit * 100);
		}
	}
	return 0;
}

/* ---- applying ----------------------------------------------------------- */

typedef struct applier {
	deploy_pass *p;
	const deploy_options *opts;
	pthread_mutex_t lock;
	size_t next;
	atomic_bool aborted;
	int first;
	fo_err *e;
} applier;

static void record_error(applier *a, deploy_item *it, int rc, const char *msg)
{
	it->error = fo_strdup(msg);
	pthread_mutex_lock(&a->lock);
	if (!a->first)
		a->first = fo_err_set(a->e, rc, "%s", msg);
	if (unreachable(rc) && !a->p->abort_reason)
		a->p->abort_reason = fo_strdup(msg);
	pthread_mutex_unlock(&a->lock);
	if (unreachable(rc))
		atomic_store(&a->aborted, true);
}

/* Apply one deployment's rendered objects, in order, stopping at the first error. */
static int apply_objects(k8s_client *c, deploy_item *it, void *arg)
{
	applier *a = arg;
	fo_err e = FO_ERR_INIT;
	for (int k = 0; k < RENDER_NCOMPONENTS && !atomic_load(&a->aborted); k++) {
		if (it->state[k] == DEPLOY_OBJ_EQUAL)
			continue;
		int rc;
		if (it->state[k] == DEPLOY_OBJ_EXTRA) {
			char *n = render_object_name((enum render_component)k, it->name);
			fo_info("deploy", "%s/%s: deleting %s %s: no longer in git", it->ns, it->name, component_kind[k]->kind,
				n);
			rc = k8s_delete(c, component_kind[k], it->ns, n, "Background", &e);
			free(n);
			if (rc == FO_ENOTFOUND)
				rc = 0;
		} else {
			rc = k8s_apply(c, it->objs.v[k], false, NULL, &e);
		}
		if (rc == 0) {
			it->applied[k] = true;
			continue;
		}
		record_error(a, it, rc, fo_err_msg(&e));
		fo_err_clear(&e);
		return rc; /* the rest of this deployment waits for the next pass */
	}
	return atomic_load(&a->aborted) ? FO_ENET : 0;
}

/* Render one deployment, then apply it — with its job when jobs are run. */
static void apply_item(applier *a, k8s_client *c, deploy_item *it)
{
	fo_err e = FO_ERR_INIT;
	if (it->held_by) {
		/* its pods would restart under running jobs: they stop first */
		it->outcome = DEPLOY_OUTCOME_WAITING;
		free(it->waiting);
		it->waiting = fo_asprintf("its pods restart (or its TaskManagers shrink) once its session jobs (%s) "
					  "have stopped with a savepoint",
					  it->held_by);
		it->wait_ms = -1;
		fo_info("deploy", "%s/%s: waiting: %s", it->ns, it->name, it->waiting);
		return;
	}
	render_start st;
	render_objects objs = {0};
	if (render_deployment_at(it->fd, item_start(it, &st), &objs, &e) < 0) {
		render_objects_free(&objs);
		record_error(a, it, e.code, fo_err_msg(&e));
		fo_err_clear(&e);
		return;
	}
	deploy_item_set_objects(it, &objs, a->opts);
	if (a->opts && a->opts->rollout && it->fd->has_job) {
		int rc = deploy_rollout_item(c, it, a->opts, apply_objects, a, &e);
		if (rc < 0 && !it->error)
			record_error(a, it, rc, fo_err_msg(&e));
		fo_err_clear(&e);
	} else {
		it->outcome = apply_objects(c, it, a) == 0 ? DEPLOY_OUTCOME_SETTLED : DEPLOY_OUTCOME_FAILED;
	}
	if (it->error)
		it->outcome = DEPLOY_OUTCOME_FAILED;
	render_objects_free(&it->objs);
}

static bool needs_apply(const deploy_item *it)
{
	if (!it->fd || it->error || it->journal_bad || it->unread)
		return false;
	if (it->job_pending || it->watch_job)
		return true;
	for (int k = 0; k < RENDER_NCOMPONENTS; k++)
		if (it->state[k] != DEPLOY_OBJ_EQUAL)
			return true;
	return false;
}

static bool stop_requested(const deploy_options *o)
{
	return o && o->stop && atomic_load(o->stop);
}

typedef struct worker {
	applier *a;
	k8s_client *c;
} worker;

static void *apply_worker(void *arg)
{
	worker *w = arg;
	applier *a = w->a;
	for (;;) {
		pthread_mutex_lock(&a->lock);
		size_t i = a->next;
		while (i < a->p->n && !needs_apply(&a->p->items[i]))
			i++;
		a->next = i + 1;
		/* stopping between deployments is safe: each step was journaled before it acted */
		bool stop = i < a->p->n && stop_requested(a->opts);
		if (stop)
			a->p->stopped = true;
		pthread_mutex_unlock(&a->lock);
		if (i >= a->p->n || atomic_load(&a->aborted) || stop)
			break;
		apply_item(a, w->c, &a->p->items[i]);
	}
	return NULL;
}

static bool has_live(const deploy_item *it)
{
	for (int k = 0; k < RENDER_NCOMPONENTS; k++)
		if (it->live[k])
			return true;
	return false;
}

char *deploy_session_jobs_on(const deploy_pass *p, const deploy_item *cl)
{
	fo_buf b = FO_BUF_INIT;
	for (size_t i = 0; i < p->n; i++) {
		const deploy_item *j = &p->items[i];
		if (j->cluster && !j->deleted && fo_streq(j->cluster, cl->name) && fo_streq(j->ns, cl->ns))
			fo_buf_printf(&b, "%s%s", b.len ? ", " : "", j->name);
		/* a journal that cannot be read, without objects of its own, may
		 * be a session job's on it */
		else if (j != cl && !j->fd && j->journal_bad && fo_streq(j->ns, cl->ns) && !has_live(j))
			fo_buf_printf(&b, "%s%s (its journal cannot be read)", b.len ? ", " : "", j->name);
	}
	return b.len ? fo_buf_detach(&b) : (fo_buf_free(&b), NULL);
}

int deploy_reconcile_apply(k8s_client *c, deploy_pass *p, const deploy_options *opts, fo_err *e)
{
	applier a;
	memset(&a, 0, sizeof(a));
	a.p = p;
	a.e = e;
	a.opts = opts;
	pthread_mutex_init(&a.lock, NULL);
	/* a plan that met an unreachable server applies nothing */
	atomic_init(&a.aborted, p->aborted);
	if (p->aborted)
		a.first = fo_err_set(e, FO_ENET, "%s", p->abort_reason);
	size_t pending = 0;
	for (size_t i = 0; i < p->n; i++)
		pending += needs_apply(&p->items[i]);
	int nworkers = opts && opts->concurrency > 0 ? opts->concurrency : 1;
	if ((size_t)nworkers > pending)
		nworkers = pending ? (int)pending : 1;
	/* Each worker has its own client, hence its own connection; the API
	 * server handles requests in parallel, so a first sync of many
	 * deployments is bounded by the server, not by round trips. */
	worker *ws = fo_calloc((size_t)nworkers, sizeof(*ws));
	pthread_t *th = fo_calloc((size_t)nworkers, sizeof(*th));
	int started = 0;
	for (int i = 0; i < nworkers; i++) {
		ws[i].a = &a;
		if (i == 0) {
			ws[i].c = c;
		} else if (k8s_client_clone(c, &ws[i].c, e) < 0) {
			break;
		}
		if (i > 0 && pthread_create(&th[i], NULL, apply_worker, &ws[i]) != 0) {
			k8s_client_free(ws[i].c);
			ws[i].c = NULL;
			break;
		}
		started = i + 1;
	}
	apply_worker(&ws[0]);
	for (int i = 1; i < started; i++) {
		pthread_join(th[i], NULL);
		k8s_client_add_stats(c, ws[i].c);
		k8s_client_free(ws[i].c);
	}
	free(ws);
	free(th);
	pthread_mutex_destroy(&a.lock);
	p->aborted = atomic_load(&a.aborted);
	int first = a.first;
	for (size_t i = 0; i < p->n; i++) {
		deploy_item *it = &p->items[i];
		if (it->fd && it->outcome == DEPLOY_OUTCOME_NOT_ATTEMPTED && !it->error && !it->unread && !needs_apply(it))
			it->outcome = DEPLOY_OUTCOME_SETTLED; /* nothing to do, and nothing was */
		else if (it->error)
			it->outcome = DEPLOY_OUTCOME_FAILED;
	}

	if (p->aborted)
		return first;
	/* a refused or disabled prune keeps what git lost; the blue/green
	 * engine's removals go on (deploy_options.bg_removed) */
	bool prune = !p->prune_refused && !p->prune_disabled;
	/* StatefulSets first, so no pod is left without its configuration */
	static const int order[RENDER_NCOMPONENTS] = {
		RENDER_INGRESS,      RENDER_STATEFULSET_TASKMANAGER, RENDER_STATEFULSET_JOBMANAGER, RENDER_SERVICE_TASKMANAGER,
		RENDER_SERVICE_REST, RENDER_SERVICE_JOBMANAGER,      RENDER_CONFIGMAP};
	/* session jobs first: a session cluster goes only after every job on
	 * it has stopped with its final savepoint and is gone */
	for (size_t i = 0; i < 2 * p->n && !p->aborted; i++) {
		deploy_item *it = &p->items[i % p->n];
		if (it->fd || (i < p->n) != (it->cluster != NULL) || (!prune && !it->bg_removed))
			continue;
		char *on = i >= p->n ? deploy_session_jobs_on(p, it) : NULL;
		if (on) {
			it->outcome = DEPLOY_OUTCOME_WAITING;
			free(it->waiting);
			it->waiting = fo_asprintf("deleted once its session jobs (%s) have stopped with a final savepoint "
						  "and are gone", on);
			it->wait_ms = -1;
			fo_info("deploy", "%s/%s: waiting: %s", it->ns, it->name, it->waiting);
			free(on);
			continue;
		}
		if (stop_requested(opts)) {
			p->stopped = true;
			break;
		}
		bool ok = true;
		if (it->journal_bad) {
			if (!first)
				first = fo_err_set(e, FO_EREFUSED, "%s", it->error);
			continue; /* where its state is is unknown: keep everything */
		}
		if (opts && opts->rollout) {
			fo_err fe = FO_ERR_INIT;
			int rc = deploy_rollout_final_savepoint(c, it, opts, &fe);
			if (rc < 0) {
				it->error = fo_strdup(fo_err_msg(&fe));
				it->outcome = DEPLOY_OUTCOME_FAILED;
				if (!first)
					first = fo_err_set(e, rc, "%s", fo_err_msg(&fe));
				fo_err_clear(&fe);
				continue;
			}
			fo_err_clear(&fe);
			if (it->outcome != DEPLOY_OUTCOME_SETTLED)
				continue; /* the final savepoint is in progress: the objects stay */
		}
		char *hold = unmanaged_jobs_hold(p, it, opts);
		if (hold) {
			fo_warn("deploy", "%s/%s: %s", it->ns, it->name, hold);
			it->error = hold;
			it->outcome = DEPLOY_OUTCOME_FAILED;
			if (!first)
				first = fo_err_set(e, FO_EREFUSED, "%s/%s: %s", it->ns, it->name, hold);
			continue;
		}
		if (has_live(it))
			fo_info("deploy", "%s/%s: gone from git: deleting its objects", it->ns, it->name);
		for (int j = 0; j < RENDER_NCOMPONENTS && ok; j++) {
			int k = order[j];
			if (!it->live[k])
				continue;
			fo_err de = FO_ERR_INIT;
			int rc = k8s_delete(c, component_kind[k], it->ns, meta_str(it->live[k], "name"), "Background", &de);
			if (rc < 0) {
				ok = false;
				it->error = fo_strdup(fo_err_msg(&de));
				if (!first)
					first = fo_err_set(e, rc, "%s", fo_err_msg(&de));
				if (unreachable(rc)) {
					p->aborted = true;
					p->abort_reason = fo_strdup(fo_err_msg(&de));
				}
			} else {
				it->applied[k] = true;
			}
			fo_err_clear(&de);
		}
		/* the journal stays until the status file that records the final
		 * savepoint is pushed (deploy_pass_forget_deleted) */
		it->deleted = ok;
		it->outcome = ok ? DEPLOY_OUTCOME_SETTLED : DEPLOY_OUTCOME_FAILED;
	}
	return first;
}

int deploy_pass_forget_deleted(k8s_client *c, const deploy_pass *p, fo_err *e)
{
	int first = 0;
	for (size_t i = 0; i < p->n; i++) {
		const deploy_item *it = &p->items[i];
		if (it->fd || !it->deleted)
			continue;
		fo_err je = FO_ERR_INIT;
		int rc = deploy_journal_delete(c, it->ns, it->name, &je);
		if (rc < 0 && rc != FO_ENOTFOUND && !first)
			first = fo_err_set(e, rc, "%s", fo_err_msg(&je));
		fo_err_clear(&je);
	}
	return first;
}

void deploy_pass_free(deploy_pass *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		deploy_item *it = &p->items[i];
		free(it->ns);
		free(it->name);
		render_objects_free(&it->objs);
		for (int k = 0; k < RENDER_NCOMPONENTS; k++) {
			free(it->drift[k]);
			cJSON_Delete(it->live[k]);
		}
		deploy_change_free(&it->change);
		free(it->error);
		free(it->cluster);
		free(it->held_by);
		free(it->snapshot_hold);
		free(it->job_hash);
		free(it->target_hash);
		free(it->start_job_id);
		free(it->start_from);
		free(it->waiting);
		free(it->job_state);
		deploy_journal_clear(&it->journal);
	}
	free(p->items);
	free(p->prune_reason);
	deploy_plain_plan_free(&p->plain);
	free(p->abort_reason);
	memset(p, 0, sizeof(*p));
}

/* ---- reporting ---------------------------------------------------------- */

const char *deploy_obj_state_name(enum deploy_obj_state s)
{
	switch (s) {
	case DEPLOY_OBJ_MISSING: return "missing";
	case DEPLOY_OBJ_CHANGED: return "changed";
	case DEPLOY_OBJ_DRIFTED: return "drifted";
	case DEPLOY_OBJ_EXTRA: return "extra";
	default: return "equal";
	}
}

void deploy_pass_summary(const deploy_pass *p, deploy_summary *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < p->n; i++) {
		const deploy_item *it = &p->items[i];
		if (it->error)
			s->failed++;
		if (!it->fd) {
			if (it->deleted) {
				s->pruned++;
				for (int k = 0; k < RENDER_NCOMPONENTS; k++)
					s->objects_deleted += it->applied[k];
			}
			continue;
		}
		s->deployments++;
		if (it->unread) {
			s->unread++;
			continue;
		}
		bool drift = false, any = false;
		for (int k = 0; k < RENDER_NCOMPONENTS; k++) {
			drift = drift || it->state[k] == DEPLOY_OBJ_DRIFTED;
			any = any || it->state[k] != DEPLOY_OBJ_EQUAL;
			s->objects_applied += it->applied[k];
		}
		if (drift)
			s->drifted++;
		if (!any)
			s->unchanged++;
		else if (it->change.action == DEPLOY_CREATE)
			s->created++;
		else
			s->updated++;
	}
}

cJSON *deploy_pass_json(const deploy_pass *p)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *items = cJSON_AddArrayToObject(o, "deployments");
	for (size_t i = 0; i < p->n; i++) {
		const deploy_item *it = &p->items[i];
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "namespace", it->ns);
		cJSON_AddStringToObject(x, "name", it->name);
		/* an unread deployment's change and objects are unknown, not "none" */
		cJSON_AddStringToObject(x, "action", it->unread ? "unknown" : deploy_action_name(it->change.action));
		if (it->fd)
			cJSON_AddStringToObject(x, "source", it->fd->source);
		cJSON *objs = cJSON_AddArrayToObject(x, "objects");
		for (int k = 0; k < RENDER_NCOMPONENTS && !it->unread; k++) {
			if ((!it->fd && !it->live[k]) || (it->fd && it->absent[k]))
				continue;
			cJSON *ob = cJSON_CreateObject();
			cJSON_AddStringToObject(ob, "kind", component_kind[k]->kind);
			char *cn = render_object_name((enum render_component)k, it->name);
			cJSON_AddStringToObject(ob, "name", cn);
			free(cn);
			cJSON_AddStringToObject(ob, "state", it->fd ? deploy_obj_state_name(it->state[k]) : "pruned");
			if (it->drift[k])
				cJSON_AddStringToObject(ob, "drift", it->drift[k]);
			cJSON_AddBoolToObject(ob, it->fd ? "applied" : "deleted", it->applied[k]);
			cJSON_AddItemToArray(objs, ob);
		}
		const deploy_state *st = &it->change.state;
		for (size_t w = 0; w < it->change.nwarnings + st->nwarnings; w++) {
			cJSON *ws = cJSON_GetObjectItemCaseSensitive(x, "warnings");
			if (!ws)
				ws = cJSON_AddArrayToObject(x, "warnings");
			const deploy_warning *dw = w < it->change.nwarnings ? &it->change.warnings[w]
									    : &st->warnings[w - it->change.nwarnings];
			cJSON_AddItemToArray(ws, cJSON_CreateString(dw->text));
		}
		cJSON *sj = deploy_state_json(st);
		if (sj)
			cJSON_AddItemToObject(x, "state", sj);
		if (it->job_started) {
			cJSON_AddBoolToObject(x, "jobStarted", true);
			/* where the time went: Flink's savepoint and job start, and the rest */
			cJSON *t = cJSON_AddObjectToObject(x, "rolloutMs");
			cJSON_AddNumberToObject(t, "total", (double)it->ms_total);
			cJSON_AddNumberToObject(t, "savepoint", (double)it->ms_savepoint);
			cJSON_AddNumberToObject(t, "jobStart", (double)it->ms_job_start);
		}
		static const char *const outcomes[] = {"not-attempted", "waiting", "settled", "failed"};
		cJSON_AddStringToObject(x, "outcome", outcomes[it->outcome]);
		if (it->outcome == DEPLOY_OUTCOME_WAITING) {
			cJSON_AddStringToObject(x, "waiting", it->waiting ? it->waiting : "");
			if (it->late)
				cJSON_AddBoolToObject(x, "late", true);
		}
		if (it->job_state)
			cJSON_AddStringToObject(x, "jobState", it->job_state);
		if (it->drift_job)
			cJSON_AddStringToObject(x, "jobDrift", "the job had ended outside flinkops; started again from its newest state");
		if (it->error)
			cJSON_AddStringToObject(x, "error", it->error);
		cJSON_AddItemToArray(items, x);
	}
	if (p->plain_listed) {
		cJSON *objs = cJSON_AddArrayToObject(o, "objects");
		for (size_t i = 0; i < p->plain.n; i++) {
			const deploy_plain_action *a = &p->plain.v[i];
			cJSON *x = cJSON_CreateObject();
			cJSON_AddStringToObject(x, "kind", a->kind->kind);
			cJSON_AddStringToObject(x, "namespace", a->ns);
			cJSON_AddStringToObject(x, "name", a->name);
			cJSON_AddStringToObject(x, "action", deploy_plain_op_name(a->op));
			cJSON_AddBoolToObject(x, "done", a->done);
			if (a->refused)
				cJSON_AddStringToObject(x, "kept", a->why);
			if (a->error)
				cJSON_AddStringToObject(x, "error", a->error);
			cJSON_AddItemToArray(objs, x);
		}
		if (p->plain.prune_refused)
			cJSON_AddStringToObject(o, "objectsPruneRefused", p->plain.prune_reason);
	}
	if (p->prune_refused)
		cJSON_AddStringToObject(o, "pruneRefused", p->prune_reason);
	if (p->prune_disabled && p->nprune)
		cJSON_AddStringToObject(o, "pruneDisabled", "prune.enabled is false: deployments gone from git keep their objects");
	if (p->aborted)
		cJSON_AddStringToObject(o, "aborted", p->abort_reason);
	deploy_summary s;
	deploy_pass_summary(p, &s);
	cJSON *sum = cJSON_AddObjectToObject(o, "summary");
	cJSON_AddNumberToObject(sum, "deployments", (double)s.deployments);
	cJSON_AddNumberToObject(sum, "unchanged", (double)s.unchanged);
	cJSON_AddNumberToObject(sum, "created", (double)s.created);
	cJSON_AddNumberToObject(sum, "updated", (double)s.updated);
	cJSON_AddNumberToObject(sum, "drifted", (double)s.drifted);
	cJSON_AddNumberToObject(sum, "pruned", (double)s.pruned);
	cJSON_AddNumberToObject(sum, "failed", (double)s.failed);
	cJSON_AddNumberToObject(sum, "objectsApplied", (double)s.objects_applied);
	cJSON_AddNumberToObject(sum, "objectsDeleted", (double)s.objects_deleted);
	if (s.unread)
		cJSON_AddNumberToObject(sum, "unread", (double)s.unread);
	return o;
}
