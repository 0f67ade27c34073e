/*
 * `flinkops plan --repo DIR_OR_URL --base REV --head REV`: the review of a
 * pull request without touching any cluster. For every FlinkDeployment that
 * is added, changed or removed between the two revisions — matched by
 * namespace/name, so a renamed file is not a delete and a create — both
 * sides are parsed, and deploy/'s planner renders them and decides the
 * change (deploy_plan_pair; `plan --live` and the agent's pass decide with
 * the same deploy_plan_change), and the action, its warnings and a unified
 * diff of the rendered objects are printed as text, Markdown (a PR comment)
 * or JSON. This file only reads git, pairs the models of both revisions by
 * namespace/name (plan_collect), diffs and prints: it decides nothing.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "agent/gitcli.h"
#include "deploy/plan.h"
#include "deploy/bluegreen.h"
#include "deploy/snapshot.h"
#include "flink/status.h"
#include "deploy/retention.h"
#include "lib/buf.h"
#include "lib/diff.h"
#include "lib/json.h"
#include "render/render.h"

static const char usage[] =
	"usage: flinkops plan [--repo DIR_OR_URL] [--base REV] [--head REV] [-o text|markdown|json|yaml]\n"
	"                     [--path FOLDER] [--glob G] [--status-folder F]\n"
	"\n"
	"Show what merging HEAD into BASE would do, without touching any cluster: for\n"
	"each FlinkDeployment added, changed or removed, the action (create, in place,\n"
	"savepoint upgrade, stateless restart, suspend, resume, delete with a final\n"
	"savepoint), the state the job's next start uses (the savepoint the upgrade\n"
	"takes, the newest checkpoint, the initial savepoint or empty state),\n"
	"warnings (state dropped, savepoint compatibility) and a unified\n"
	"diff of the rendered Kubernetes objects. A renamed file that keeps its\n"
	"deployment is a change of that deployment, not a delete and a create.\n"
	"\n"
	"  --base REV             the target branch or commit (default main)\n"
	"  --head REV             the proposed branch or commit (default HEAD)\n"
	"  -o, --output FORMAT    text (default), markdown (for a PR comment), json or yaml\n"
	"  --path FOLDER          only manifests under FOLDER\n"
	"  --glob G               manifest file names (default *.yaml and *.yml)\n"
	"  --status-folder F      the agent's status folder, never read (default status)\n"
	"  --max-state-age D      warn when a job would start from state older than D\n"
	"                         (default 1h; the age is known with --live)\n"
	"  -h, --help             this help\n"
	"\n"
	"With --live --config FILE, compare with the cluster instead of BASE (see\n"
	"'flinkops plan --live --help').\n"
	"\n"
	"Exit status: 0 nothing changes, 2 something changes, 1 an error (an invalid\n"
	"file in HEAD is printed as path:line:col: message).\n"
	"\n";

/* ---- collecting the pairs ---- */

typedef struct plan_item {
	const char *namespace, *name;
	deploy_planned p; /* its models are borrowed from plan_list */
	char *diff;       /* unified diff of the rendered YAML, "" when equal */
	/* a session cluster: the running FlinkSessionJobs on it at HEAD, "a, b"
	 * (a restart of its pods stops them with a savepoint first), or NULL */
	char *session_jobs;
} plan_item;

/* A FlinkStateSnapshot or a FlinkBlueGreenDeployment whose file changed,
 * and what the change does. */
typedef struct plan_snap {
	const flink_deployment *from, *to; /* borrowed from plan_list */
	char *text;                        /* deploy_snapshot_plan, deploy_bg_plan; NULL: no change */
} plan_snap;
/* A ServiceAccount, Role or RoleBinding that the change creates, changes
 * or deletes (matched by kind/namespace/name, like deployments). */
typedef struct plan_object {
	const flink_plain *from, *to; /* borrowed from plan_list's models; NULL: absent there */
	const char *action;           /* "create", "change" or "delete" */
} plan_object;

typedef struct plan_list {
	plan_snap *snaps;
	size_t nsnaps, scap;
	flink_deployments base_snaps, head_snaps; /* own the snapshots the entries borrow */
	plan_snap *bgs;               /* the FlinkBlueGreenDeployments, likewise */
	size_t nbgs, bcap;
	flink_deployments base_bgs, head_bgs;
	plan_item *v;
	size_t n, cap;
	plan_object *objs;
	size_t nobjs, objs_cap;
	flink_deployments base, head; /* own the models the items borrow */
	fo_diags diags;               /* problems in HEAD's files: errors */
	fo_diags notes;               /* problems in BASE's files and skipped files: warnings */
	char base_commit[SYNC_OID_HEX], head_commit[SYNC_OID_HEX];
	size_t nfiles; /* changed manifest files */
} plan_list;

static void plan_list_free(plan_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		deploy_planned_free(&l->v[i].p);
		free(l->v[i].diff);
		free(l->v[i].session_jobs);
	}
	free(l->v);
	for (size_t i = 0; i < l->nsnaps; i++)
		free(l->snaps[i].text);
	free(l->snaps);
	flink_deployments_free(&l->base_snaps);
	flink_deployments_free(&l->head_snaps);
	for (size_t i = 0; i < l->nbgs; i++)
		free(l->bgs[i].text);
	free(l->bgs);
	flink_deployments_free(&l->base_bgs);
	flink_deployments_free(&l->head_bgs);
	free(l->objs);
	flink_deployments_free(&l->base);
	flink_deployments_free(&l->head);
	fo_diags_free(&l->diags);
	fo_diags_free(&l->notes);
}

static bool same_name(const flink_deployment *a, const char *ns, const char *name)
{
	return strcmp(a->namespace, ns) == 0 && strcmp(a->name, name) == 0;
}

static plan_item *item_for(plan_list *l, const char *ns, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].namespace, ns) == 0 && strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	l->v = fo_grow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	plan_item *x = &l->v[l->n++];
	memset(x, 0, sizeof(*x));
	x->namespace = ns;
	x->name = name;
	return x;
}

/* Parse one side of a changed file into `into`; returns whether it parsed cleanly. */
static bool load_side(sync_repo *r, const char *commit, const char *path, flink_deployments *into, fo_diags *d,
		      fo_err *e)
{
	char *data = NULL;
	size_t len = 0;
	if (sync_read_file(r, commit, path, &data, &len, e) < 0) {
		fo_diag_add(d, FO_SEV_ERROR, path, 0, 0, "%s", fo_err_msg(e));
		fo_err_clear(e);
		return false;
	}
	size_t before = d->nerrors;
	flink_load_buffer(path, data, len, into, NULL, d);
	free(data);
	return d->nerrors == before;
}

/* Every deployment of `commit` (the whole repository, not just the files
 * that changed): what session jobs and their clusters are checked and
 * sized against. Problems are the changed files' to report, not these. */
static void load_all(sync_repo *r, const char *commit, const sync_select *sel, flink_deployments *all)
{
	sync_files files = {0};
	fo_diags scratch = FO_DIAGS_INIT;
	fo_err e = FO_ERR_INIT;
	if (sync_read_manifests(r, commit, sel, &files, &scratch, &e) == 0)
		for (size_t i = 0; i < files.n; i++)
			flink_load_buffer(files.v[i].path, files.v[i].data, files.v[i].len, all, NULL, &scratch);
	fo_err_clear(&e);
	fo_diags_free(&scratch);
	sync_files_free(&files);
}

static bool same_name(const flink_deployment *a, const char *ns, const char *name);

/* Pair the resources of `base` and `head` (of the changed files) by
 * namespace/name into *v: from (base) and to (head), either NULL. */
static void pair_sides(const flink_deployments *base, const flink_deployments *head, plan_snap **v, size_t *n,
		       size_t *cap)
{
	for (int side = 0; side < 2; side++) {
		const flink_deployments *list = side ? base : head;
		for (size_t i = 0; i < list->n; i++) {
			const flink_deployment *s = list->v[i];
			plan_snap *x = NULL;
			for (size_t k = 0; k < *n && !x; k++) {
				const flink_deployment *o = (*v)[k].to ? (*v)[k].to : (*v)[k].from;
				if (same_name(o, s->namespace, s->name))
					x = &(*v)[k];
			}
			if (!x) {
				*v = fo_grow(*v, cap, *n + 1, sizeof(**v));
				x = &(*v)[(*n)++];
				memset(x, 0, sizeof(*x));
			}
			if (side)
				x->from = s;
			else
				x->to = s;
		}
	}
}

/* Pair the snapshots of the changed files by namespace/name and say what
 * each change does, against the whole head tree `all` for their jobs. */
static void plan_snapshots(plan_list *l, const flink_deployments *all)
{
	pair_sides(&l->base_snaps, &l->head_snaps, &l->snaps, &l->nsnaps, &l->scap);
	for (size_t k = 0; k < l->nsnaps; k++) {
		plan_snap *x = &l->snaps[k];
		bool job = false;
		for (size_t i = 0; x->to && x->to->snap.job_name && i < all->n && !job; i++) {
			const flink_deployment *fd = all->v[i];
			job = !fd->snapshot && fd->has_job && same_name(fd, x->to->namespace, x->to->snap.job_name) &&
			      fd->session_job == fo_streq(x->to->snap.job_kind, FLINK_KIND_SESSION_JOB);
		}
		x->text = deploy_snapshot_plan(x->from, x->to, job);
	}
}

static const flink_plain *plain_find(const flink_plains *v, const flink_plain *p)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->v[i]->kind, p->kind) == 0 && strcmp(v->v[i]->namespace, p->namespace) == 0 &&
		    strcmp(v->v[i]->name, p->name) == 0)
			return v->v[i];
	return NULL;
}

static void plan_object_add(plan_list *l, const flink_plain *from, const flink_plain *to, const char *action)
{
	l->objs = fo_grow(l->objs, &l->objs_cap, l->nobjs + 1, sizeof(*l->objs));
	l->objs[l->nobjs++] = (plan_object){from, to, action};
}

/* The plain objects of the changed files: created, changed (their content
 * hash differs) or deleted. One whose head file is broken (`broken`, its
 * paths) is not judged deleted, as a deployment is not. */
static void plan_objects(plan_list *l, char **broken, size_t nbroken)
{
	for (size_t i = 0; i < l->head.plain.n; i++) {
		const flink_plain *to = l->head.plain.v[i], *from = plain_find(&l->base.plain, to);
		if (!from) {
			plan_object_add(l, NULL, to, "create");
			continue;
		}
		char *a = flink_plain_hash(from), *b = flink_plain_hash(to);
		if (strcmp(a, b) != 0)
			plan_object_add(l, from, to, "change");
		free(a);
		free(b);
	}
	for (size_t i = 0; i < l->base.plain.n; i++) {
		const flink_plain *from = l->base.plain.v[i];
		bool skip = false;
		for (size_t b = 0; b < nbroken && !skip; b++)
			skip = fo_streq(from->source, broken[b]);
		if (!skip && !plain_find(&l->head.plain, from))
			plan_object_add(l, from, NULL, "delete");
	}
}

/* Whether `v` holds a session job or a session cluster. */
static bool touches_sessions(const flink_deployments *v)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->v[i]->session_job || !v->v[i]->has_job)
			return true;
	return false;
}

/*
 * Pair the FlinkDeployments of the files that changed between `base` and
 * `head` by namespace/name. A deployment whose head file is invalid gets no
 * item (its errors are in l->diags), so a broken file never reads as a
 * delete. Returns 0, or a negative code when git could not be read.
 */
static int plan_collect(sync_repo *r, const char *base, const char *head, const sync_select *sel, plan_list *l,
			fo_err *e)
{
	sync_changes ch = {0};
	int rc = sync_diff(r, base, head, sel, &ch, e);
	if (rc < 0)
		return rc;
	l->nfiles = ch.n;
	/* paths whose head version is broken: their base deployments are not judged */
	char **broken = fo_calloc(ch.n + 1, sizeof(*broken));
	size_t nbroken = 0;
	for (size_t i = 0; i < ch.n; i++) {
		const sync_change *c = &ch.v[i];
		if (c->kind != SYNC_ADDED) {
			fo_diags bd = FO_DIAGS_INIT;
			if (!load_side(r, base, c->path, &l->base, &bd, e))
				fo_diag_add(&l->notes, FO_SEV_WARNING, c->path, 0, 0,
					    "invalid in the base revision; its deployments there are not compared");
			fo_diags_free(&bd);
		}
		if (c->kind != SYNC_REMOVED && !load_side(r, head, c->path, &l->head, &l->diags, e))
			broken[nbroken++] = c->path;
	}
	/* snapshots are planned apart: they are no deployments */
	flink_split_snapshots(&l->head, &l->head_snaps);
	flink_split_snapshots(&l->base, &l->base_snaps);
	/* and blue/green deployments, whose children are planned by their colour */
	flink_split_bluegreens(&l->head, &l->head_bgs);
	flink_split_bluegreens(&l->base, &l->base_bgs);
	/* session jobs and their clusters, and the job a snapshot is of, may be
	 * in files that did not change: when the change touches either, the
	 * whole trees are read */
	flink_deployments head_all = {0}, base_all = {0};
	if (touches_sessions(&l->head) || touches_sessions(&l->base) || l->head_snaps.n) {
		load_all(r, head, sel, &head_all);
		load_all(r, base, sel, &base_all);
	}
	plan_snapshots(l, &head_all);
	/* blue/green: what the change of its template does to its colours */
	pair_sides(&l->base_bgs, &l->head_bgs, &l->bgs, &l->nbgs, &l->bcap);
	for (size_t k = 0; k < l->nbgs; k++)
		l->bgs[k].text = deploy_bg_plan(l->bgs[k].from, l->bgs[k].to);
	fo_diags scratch = FO_DIAGS_INIT;
	flink_note_defaults(&l->head, &l->notes);
	flink_check_unique(&l->head, &l->diags);
	flink_plain_check_unique(&l->head.plain, &l->diags);
	plan_objects(l, broken, nbroken);
	flink_link_session_jobs(&l->head, &head_all, &l->diags);
	flink_link_session_jobs(&l->base, &base_all, &scratch);
	fo_diags_free(&scratch);
	for (size_t i = 0; i < l->head.n; i++) {
		const flink_deployment *cl = l->head.v[i];
		if (cl->session_job || cl->has_job)
			continue;
		fo_buf b = FO_BUF_INIT;
		for (size_t k = 0; k < head_all.n; k++) {
			const flink_deployment *j = head_all.v[k];
			if (!j->session_job || j->job.state == FLINK_STATE_SUSPENDED ||
			    !same_name(cl, j->namespace, j->deployment_name))
				continue;
			/* and ran there before the change */
			bool ran = false;
			for (size_t m = 0; m < base_all.n && !ran; m++) {
				const flink_deployment *o = base_all.v[m];
				ran = o->session_job && o->job.state != FLINK_STATE_SUSPENDED && same_name(o, j->namespace, j->name) &&
				      fo_streq(o->deployment_name, j->deployment_name);
			}
			if (ran)
				fo_buf_printf(&b, "%s%s", b.len ? ", " : "", j->name);
		}
		if (b.len)
			item_for(l, cl->namespace, cl->name)->session_jobs = fo_buf_detach(&b);
		fo_buf_free(&b);
	}
	flink_deployments_free(&head_all);
	flink_deployments_free(&base_all);
	for (size_t i = 0; i < l->head.n; i++) {
		const flink_deployment *fd = l->head.v[i];
		item_for(l, fd->namespace, fd->name)->p.to_fd = fd;
	}
	for (size_t i = 0; i < l->base.n; i++) {
		const flink_deployment *fd = l->base.v[i];
		bool skip = false;
		for (size_t b = 0; b < nbroken && !skip; b++)
			skip = fo_streq(fd->source, broken[b]);
		/* gone from its file but defined in another head file: found there */
		bool elsewhere = false;
		for (size_t h = 0; h < l->head.n && !elsewhere; h++)
			elsewhere = same_name(l->head.v[h], fd->namespace, fd->name);
		if (skip && !elsewhere)
			continue;
		item_for(l, fd->namespace, fd->name)->p.from_fd = fd;
	}
	free(broken);
	sync_changes_free(&ch);
	return 0;
}

/* The rendered YAML without the hash annotations: they change with every
 * change and would only hide the lines that matter to a reviewer. */
static void objects_yaml(const render_objects *o, fo_buf *b)
{
	fo_buf all = FO_BUF_INIT;
	render_write_yaml(&all, o);
	const char *p = fo_buf_cstr(&all), *end = p + all.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		const char *t = p;
		while (t < p + len && *t == ' ')
			t++;
		bool hash = fo_has_prefix(t, RENDER_ANNOTATION_HASH ":") || fo_has_prefix(t, RENDER_ANNOTATION_CONFIG_HASH ":") ||
			    fo_has_prefix(t, RENDER_ANNOTATION_JOB_HASH ":") ||
			    fo_has_prefix(t, RENDER_ANNOTATION_TEMPLATE_HASH ":");
		if (!hash)
			fo_buf_put(b, p, len);
		p += len;
	}
	fo_buf_free(&all);
}

/* Plan every item (deploy_plan_pair), and diff its rendered objects. */
static void plan_evaluate(plan_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		plan_item *x = &l->v[i];
		deploy_plan_pair(&x->p);
		if (x->p.error)
			continue;
		fo_buf a = FO_BUF_INIT, b = FO_BUF_INIT, d = FO_BUF_INIT;
		if (x->p.from_rendered)
			objects_yaml(&x->p.from_objs, &a);
		if (x->p.to_rendered)
			objects_yaml(&x->p.to_objs, &b);
		char *an = fo_asprintf("a/%s/%s (%.7s)", x->namespace, x->name, l->base_commit);
		char *bn = fo_asprintf("b/%s/%s (%.7s)", x->namespace, x->name, l->head_commit);
		fo_diff_unified(&d, a.ptr, a.len, b.ptr, b.len, x->p.from_rendered ? an : "/dev/null",
				x->p.to_rendered ? bn : "/dev/null", 3);
		x->diff = fo_buf_detach(&d);
		free(an);
		free(bn);
		fo_buf_free(&a);
		fo_buf_free(&b);
	}
}

/*
 * A job that starts from job.initialSavepointPath: when that path is a
 * FlinkStateSnapshot's — registered in git (alreadyExists), or taken and
 * recorded in its status file at HEAD — its state line says so. Read only
 * when some job starts from such a path.
 */
static void name_snapshots(sync_repo *r, const char *head, const sync_select *sel, plan_list *l)
{
	bool any = false;
	for (size_t i = 0; i < l->n && !any; i++)
		any = l->v[i].p.change.state.from == DEPLOY_STATE_INITIAL && l->v[i].p.change.state.path;
	if (!any)
		return;
	char **labels = NULL, **paths = NULL;
	size_t n = 0, cap = 0, pcap = 0;
	flink_deployments all = {0};
	load_all(r, head, sel, &all);
	for (size_t i = 0; i < all.n; i++)
		if (all.v[i]->snapshot && all.v[i]->snap.already_exists && all.v[i]->snap.path) {
			labels = fo_grow(labels, &cap, n + 1, sizeof(*labels));
			paths = fo_grow(paths, &pcap, n + 1, sizeof(*paths));
			labels[n] = fo_asprintf("%s/%s", all.v[i]->namespace, all.v[i]->name);
			paths[n++] = fo_strdup(all.v[i]->snap.path);
		}
	flink_deployments_free(&all);
	sync_select ss = {sel->status_folder ? sel->status_folder : "status", "*.yaml", "", FLINK_STATUS_FILE_MAX};
	sync_files files = {0};
	fo_diags notes = FO_DIAGS_INIT;
	fo_err e = FO_ERR_INIT;
	if (sync_read_manifests(r, head, &ss, &files, &notes, &e) == 0)
		for (size_t i = 0; i < files.n; i++) {
			flink_status *st = NULL;
			if (flink_status_parse(files.v[i].path, files.v[i].data, files.v[i].len, &st, &e) == 0 &&
			    st->snapshot.path && st->phase == FLINK_PHASE_COMPLETED) {
				labels = fo_grow(labels, &cap, n + 1, sizeof(*labels));
				paths = fo_grow(paths, &pcap, n + 1, sizeof(*paths));
				labels[n] = fo_asprintf("%s/%s", st->namespace, st->name);
				paths[n++] = fo_strdup(st->snapshot.path);
			}
			fo_err_clear(&e);
			flink_status_free(st);
		}
	fo_err_clear(&e);
	fo_diags_free(&notes);
	sync_files_free(&files);
	for (size_t i = 0; i < l->n; i++) {
		deploy_state *st = &l->v[i].p.change.state;
		if (st->from != DEPLOY_STATE_INITIAL || !st->path)
			continue;
		for (size_t k = 0; k < n; k++)
			if (deploy_retention_may_be_same(st->path, paths[k])) {
				char *t = fo_asprintf("%s — the savepoint of FlinkStateSnapshot %s", st->text, labels[k]);
				free(st->text);
				st->text = t;
				break;
			}
	}
	for (size_t k = 0; k < n; k++) {
		free(labels[k]);
		free(paths[k]);
	}
	free(labels);
	free(paths);
}

/* ---- printing ---- */

static const char *item_path(const plan_item *x)
{
	if (x->p.to_fd && x->p.from_fd && !fo_streq(x->p.to_fd->source, x->p.from_fd->source))
		return NULL; /* renamed: both are printed */
	return x->p.to_fd ? x->p.to_fd->source : x->p.from_fd ? x->p.from_fd->source : "";
}

static char *item_file(const plan_item *x)
{
	const char *p = item_path(x);
	if (p)
		return fo_strdup(p);
	return fo_asprintf("%s -> %s", x->p.from_fd->source, x->p.to_fd->source);
}

/* A session cluster whose pods restart under running session jobs. */
static bool session_restart(const plan_item *x)
{
	return x->session_jobs && x->p.change.restarts_pods && x->p.change.action != DEPLOY_CREATE &&
	       x->p.change.action != DEPLOY_DELETE;
}

static const char *label(const plan_item *x)
{
	return deploy_action_label(x->p.change.action, &x->p.to, &x->p.from);
}

static void changed_objects(const plan_item *x, fo_buf *b, const char *sep, bool code)
{
	bool first = true;
	for (size_t k = 0; k < RENDER_NCOMPONENTS; k++) {
		if (!x->p.change.object_changed[k])
			continue;
		const cJSON *o = x->p.to_rendered && x->p.to_objs.v[k] ? x->p.to_objs.v[k]
				 : x->p.from_rendered                 ? x->p.from_objs.v[k]
								    : NULL;
		if (!o)
			continue;
		const char *kind = fo_json_str(o, "kind");
		const cJSON *md = cJSON_GetObjectItemCaseSensitive(o, "metadata");
		const char *name = md ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "name")) : NULL;
		fo_buf_printf(b, "%s%s%s/%s%s", first ? "" : sep, code ? "`" : "", kind ? kind : "?", name ? name : "?",
			      code ? "`" : "");
		first = false;
	}
	if (first)
		fo_buf_puts(b, "none");
}

/* "Role ns/name (file)" of a plain object's change. */
static char *object_line(const plan_object *o)
{
	const flink_plain *p = o->to ? o->to : o->from;
	if (o->from && o->to && !fo_streq(o->from->source, o->to->source))
		return fo_asprintf("%s %s/%s (%s -> %s)", p->kind, p->namespace, p->name, o->from->source, o->to->source);
	return fo_asprintf("%s %s/%s (%s)", p->kind, p->namespace, p->name, p->source);
}

static size_t count_changes(const plan_list *l)
{
	size_t n = l->nobjs;
	for (size_t i = 0; i < l->nsnaps; i++)
		n += l->snaps[i].text != NULL;
	for (size_t i = 0; i < l->nbgs; i++)
		n += l->bgs[i].text != NULL;
	for (size_t i = 0; i < l->n; i++)
		n += l->v[i].p.error || l->v[i].p.change.note || l->v[i].p.change.action != DEPLOY_NONE;
	return n;
}

static size_t count_errors(const plan_list *l)
{
	size_t n = l->diags.nerrors;
	for (size_t i = 0; i < l->n; i++)
		n += l->v[i].p.error != NULL;
	return n;
}

static void print_text(const plan_list *l, const char *repo)
{
	size_t n = count_changes(l);
	printf("Plan for %s: %.7s..%.7s, %zu manifest file%s changed\n", repo, l->base_commit, l->head_commit,
	       l->nfiles, l->nfiles == 1 ? "" : "s");
	for (size_t i = 0; i < l->n; i++) {
		const plan_item *x = &l->v[i];
		char *file = item_file(x);
		if (x->p.error) {
			printf("\n%s/%s (%s): error: %s\n", x->namespace, x->name, file, x->p.error);
		} else if (x->p.change.action == DEPLOY_NONE && x->p.change.note) {
			printf("\n%s/%s (%s): no restart now (the rendered objects are the same)\n", x->namespace, x->name,
			       file);
			printf("  warning: %s\n", x->p.change.note);
		} else if (x->p.change.action == DEPLOY_NONE) {
			printf("\n%s/%s (%s): no change (the rendered objects are the same)\n", x->namespace, x->name, file);
		} else {
			fo_buf objs = FO_BUF_INIT;
			changed_objects(x, &objs, ", ", false);
			printf("\n%s/%s (%s%s%s): %s\n", x->namespace, x->name, file,
			       x->p.to_fd && x->p.to_fd->session_job ? ", a FlinkSessionJob on " : "",
			       x->p.to_fd && x->p.to_fd->session_job ? x->p.to_fd->deployment_name : "", label(x));
			printf("  savepoint first: %s; job restarts: %s; pods restart: %s\n",
			       x->p.change.takes_savepoint ? "yes" : "no", x->p.change.restarts_job ? "yes" : "no",
			       x->p.change.restarts_pods ? "yes" : "no");
			printf("  objects: %s\n", fo_buf_cstr(&objs));
			if (session_restart(x))
				printf("  session jobs: %s stop with a savepoint before the pods restart, and resume from it "
				       "on the new pods\n", x->session_jobs);
			const deploy_state *st = &x->p.change.state;
			if (st->text)
				printf("  state: %s\n", st->text);
			if (st->jm_restart)
				printf("  JobManager restart: %s\n", st->jm_restart);
			for (size_t w = 0; w < x->p.change.nwarnings; w++)
				printf("  warning: %s\n", x->p.change.warnings[w].text);
			for (size_t w = 0; w < st->nwarnings; w++)
				printf("  warning: %s\n", st->warnings[w].text);
			if (x->diff && *x->diff)
				printf("%s", x->diff);
			fo_buf_free(&objs);
		}
		free(file);
	}
	for (size_t i = 0; i < l->nsnaps + l->nbgs; i++) {
		const plan_snap *x = i < l->nsnaps ? &l->snaps[i] : &l->bgs[i - l->nsnaps];
		const flink_deployment *fd = x->to ? x->to : x->from;
		if (x->text)
			printf("\n%s/%s (%s, a %s): %s\n", fd->namespace, fd->name, fd->source, flink_kind_name(fd),
			       x->text);
	}
	for (size_t i = 0; i < l->nobjs; i++) {
		char *line = object_line(&l->objs[i]);
		printf("\n%s: %s\n", line, l->objs[i].action);
		free(line);
	}
	n -= l->nobjs;
	if (n)
		printf("\n%zu FlinkDeployment%s change%s.\n", n, n == 1 ? "" : "s", n == 1 ? "s" : "");
	else if (count_errors(l) == 0 && !l->nobjs)
		printf("\nNo FlinkDeployment changes.\n");
	if (l->nobjs)
		printf("%s%zu ServiceAccount, Role or RoleBinding change%s.\n", n ? "" : "\n", l->nobjs,
		       l->nobjs == 1 ? "" : "s");
}

static void md_diag(const fo_diag *d)
{
	char *s = fo_diag_format(d);
	printf("- `%s`\n", s);
	free(s);
}

static void markdown_body(const plan_list *l);

/* The plain objects' changes as a Markdown table (nothing when none). */
static void markdown_objects(const plan_list *l)
{
	if (!l->nobjs)
		return;
	printf("\n| object | file | change |\n|---|---|---|\n");
	for (size_t i = 0; i < l->nobjs; i++) {
		const plan_object *o = &l->objs[i];
		const flink_plain *p = o->to ? o->to : o->from;
		printf("| `%s %s/%s` | `%s` | %s |\n", p->kind, p->namespace, p->name, p->source, o->action);
	}
}

static void print_markdown(const plan_list *l)
{
	markdown_body(l);
	markdown_objects(l);
}

static void markdown_body(const plan_list *l)
{
	size_t n = count_changes(l) - l->nobjs, nerr = count_errors(l);
	printf("### flinkops plan: %zu FlinkDeployment%s change%s (`%.7s`..`%.7s`)\n\n", n, n == 1 ? "" : "s",
	       n == 1 ? "s" : "", l->base_commit, l->head_commit);
	if (nerr) {
		printf(":x: **%zu error%s** — this change cannot be rolled out as it is:\n\n", nerr, nerr == 1 ? "" : "s");
		for (size_t i = 0; i < l->diags.n; i++)
			md_diag(&l->diags.v[i]);
		for (size_t i = 0; i < l->n; i++)
			if (l->v[i].p.error)
				printf("- `%s`\n", l->v[i].p.error);
		printf("\n");
	}
	for (size_t i = 0; i < l->notes.n; i++)
		md_diag(&l->notes.v[i]);
	if (n == 0) {
		printf("No FlinkDeployment changes.\n");
		return;
	}
	for (size_t i = 0; i < l->nsnaps + l->nbgs; i++) {
		const plan_snap *x = i < l->nsnaps ? &l->snaps[i] : &l->bgs[i - l->nsnaps];
		const flink_deployment *fd = x->to ? x->to : x->from;
		if (x->text)
			printf("- %s `%s/%s` (`%s`): %s\n", flink_kind_name(fd), fd->namespace, fd->name, fd->source,
			       x->text);
	}
	printf("\n");
	printf("| deployment | file | action | savepoint first | job restarts |\n|---|---|---|---|---|\n");
	for (size_t i = 0; i < l->n; i++) {
		const plan_item *x = &l->v[i];
		if (x->p.error || (x->p.change.action == DEPLOY_NONE && !x->p.change.note))
			continue;
		char *file = item_file(x);
		printf("| `%s/%s` | `%s` | %s | %s | %s |\n", x->namespace, x->name, file,
		       x->p.change.action == DEPLOY_NONE ? "no restart now (upgrade mode changes)" : label(x),
		       x->p.change.takes_savepoint ? "yes" : "no", x->p.change.restarts_job ? "yes" : "no");
		free(file);
	}
	for (size_t i = 0; i < l->n; i++) {
		const plan_item *x = &l->v[i];
		if (x->p.error || (x->p.change.action == DEPLOY_NONE && !x->p.change.note))
			continue;
		if (x->p.change.action == DEPLOY_NONE) {
			printf("\n#### `%s/%s`: no restart now\n\n> :warning: %s\n", x->namespace, x->name, x->p.change.note);
			continue;
		}
		fo_buf objs = FO_BUF_INIT;
		changed_objects(x, &objs, ", ", true);
		printf("\n#### `%s/%s`: %s\n\n", x->namespace, x->name, label(x));
		printf("Objects: %s\n\n", fo_buf_cstr(&objs));
		if (session_restart(x))
			printf("Session jobs: %s stop with a savepoint before the pods restart, and resume from it on the "
			       "new pods\n\n", x->session_jobs);
		const deploy_state *st = &x->p.change.state;
		if (st->text)
			printf("State: %s\n\n", st->text);
		if (st->jm_restart)
			printf("JobManager restart: %s\n\n", st->jm_restart);
		for (size_t w = 0; w < x->p.change.nwarnings; w++)
			printf("> :warning: %s\n>\n", x->p.change.warnings[w].text);
		for (size_t w = 0; w < st->nwarnings; w++)
			printf("> :warning: %s\n>\n", st->warnings[w].text);
		if (x->diff && *x->diff) {
			/* a fence longer than any run of backticks in the diff */
			printf("<details><summary>Rendered objects diff</summary>\n\n````diff\n%s````\n\n</details>\n",
			       x->diff);
		}
		fo_buf_free(&objs);
	}
}

/* A snapshot's or a blue/green deployment's entry in `plan -o json`. */
static cJSON *kind_json(const plan_snap *x)
{
	const flink_deployment *fd = x->to ? x->to : x->from;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "namespace", fd->namespace);
	cJSON_AddStringToObject(j, "name", fd->name);
	cJSON_AddStringToObject(j, "path", fd->source);
	cJSON_AddStringToObject(j, "action", !x->from ? "create" : !x->to ? "delete" : "update");
	cJSON_AddStringToObject(j, "description", x->text);
	return j;
}

static void print_json(const plan_list *l, bool yaml)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "base", l->base_commit);
	cJSON_AddStringToObject(o, "head", l->head_commit);
	cJSON_AddNumberToObject(o, "changedFiles", (double)l->nfiles);
	cJSON *arr = cJSON_AddArrayToObject(o, "deployments");
	for (size_t i = 0; i < l->n; i++) {
		const plan_item *x = &l->v[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "namespace", x->namespace);
		cJSON_AddStringToObject(j, "name", x->name);
		if (x->p.from_fd)
			cJSON_AddStringToObject(j, "fromPath", x->p.from_fd->source);
		if (x->p.to_fd)
			cJSON_AddStringToObject(j, "toPath", x->p.to_fd->source);
		if (x->p.error) {
			cJSON_AddStringToObject(j, "error", x->p.error);
		} else {
			cJSON_AddStringToObject(j, "action", deploy_action_name(x->p.change.action));
			cJSON_AddStringToObject(j, "description", label(x));
			cJSON_AddBoolToObject(j, "takesSavepoint", x->p.change.takes_savepoint);
			cJSON_AddBoolToObject(j, "restartsJob", x->p.change.restarts_job);
			cJSON_AddBoolToObject(j, "restartsPods", x->p.change.restarts_pods);
			if (x->p.to_fd && x->p.to_fd->session_job)
				cJSON_AddStringToObject(j, "sessionCluster", x->p.to_fd->deployment_name);
			if (session_restart(x))
				cJSON_AddStringToObject(j, "sessionJobsSavepointed", x->session_jobs);
			cJSON *objs = cJSON_AddArrayToObject(j, "changedObjects");
			for (size_t k = 0; k < RENDER_NCOMPONENTS; k++) {
				if (!x->p.change.object_changed[k])
					continue;
				const cJSON *ob = x->p.to_rendered && x->p.to_objs.v[k] ? x->p.to_objs.v[k]
						  : x->p.from_rendered                 ? x->p.from_objs.v[k]
										     : NULL;
				const cJSON *md = ob ? cJSON_GetObjectItemCaseSensitive(ob, "metadata") : NULL;
				char *s = fo_asprintf("%s/%s", ob ? fo_json_str(ob, "kind") : "?",
						      md ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "name")) : "?");
				cJSON_AddItemToArray(objs, cJSON_CreateString(s));
				free(s);
			}
			cJSON *w = cJSON_AddArrayToObject(j, "warnings");
			if (x->p.change.note)
				cJSON_AddItemToArray(w, cJSON_CreateString(x->p.change.note));
			for (size_t k = 0; k < x->p.change.nwarnings; k++)
				cJSON_AddItemToArray(w, cJSON_CreateString(x->p.change.warnings[k].text));
			const deploy_state *st = &x->p.change.state;
			for (size_t k = 0; k < st->nwarnings; k++)
				cJSON_AddItemToArray(w, cJSON_CreateString(st->warnings[k].text));
			cJSON *sj = deploy_state_json(st);
			if (sj)
				cJSON_AddItemToObject(j, "state", sj);
			cJSON_AddStringToObject(j, "diff", x->diff ? x->diff : "");
		}
		cJSON_AddItemToArray(arr, j);
	}
	cJSON *sarr = cJSON_AddArrayToObject(o, "snapshots");
	for (size_t i = 0; i < l->nsnaps; i++)
		if (l->snaps[i].text)
			cJSON_AddItemToArray(sarr, kind_json(&l->snaps[i]));
	cJSON *barr = cJSON_AddArrayToObject(o, "blueGreenDeployments");
	for (size_t i = 0; i < l->nbgs; i++) {
		const plan_snap *x = &l->bgs[i];
		if (!x->text)
			continue;
		cJSON *j = kind_json(x);
		if (x->from && x->to && x->from->bg->child[0] && x->to->bg->child[0])
			cJSON_AddStringToObject(j, "diff",
						deploy_bg_diff_name(deploy_bg_diff(x->from->bg->child[0], x->from->bg->template_hash,
										   x->to->bg->child[0], x->to->bg->template_hash)));
		cJSON_AddItemToArray(barr, j);
	}
	cJSON *objs = cJSON_AddArrayToObject(o, "objects");
	for (size_t i = 0; i < l->nobjs; i++) {
		const plan_object *x = &l->objs[i];
		const flink_plain *p = x->to ? x->to : x->from;
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "kind", p->kind);
		cJSON_AddStringToObject(j, "namespace", p->namespace);
		cJSON_AddStringToObject(j, "name", p->name);
		if (x->from)
			cJSON_AddStringToObject(j, "fromPath", x->from->source);
		if (x->to)
			cJSON_AddStringToObject(j, "toPath", x->to->source);
		cJSON_AddStringToObject(j, "action", x->action);
		cJSON_AddItemToArray(objs, j);
	}
	cJSON *errs = cJSON_AddArrayToObject(o, "errors");
	for (size_t i = 0; i < l->diags.n; i++) {
		char *s = fo_diag_format(&l->diags.v[i]);
		cJSON_AddItemToArray(errs, cJSON_CreateString(s));
		free(s);
	}
	cli_print_answer(o, yaml);
	cJSON_Delete(o);
}

enum { O_BASE = 1, O_HEAD, O_PATH, O_GLOB, O_STATUS, O_MAX_AGE };
static const struct option options[] = {
	{"base", required_argument, NULL, O_BASE},
	{"head", required_argument, NULL, O_HEAD},
	{"path", required_argument, NULL, O_PATH},
	{"glob", required_argument, NULL, O_GLOB},
	{"status-folder", required_argument, NULL, O_STATUS},
	{"max-state-age", required_argument, NULL, O_MAX_AGE},
	{"output", required_argument, NULL, 'o'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};
static const char *const outputs[] = {"text", "markdown", "json", "yaml", NULL};

/* plan and plan --live: completion offers the options of both */
const cli_verb cli_verb_plan = {
	.name = "plan",
	.run = cmd_plan,
	.optstring = "o:h",
	.options = (const struct option *const[]){options, cli_git_long_options, cli_plan_live_options, NULL},
	.outputs = outputs,
};

int cmd_plan(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--live") == 0)
			return cmd_plan_live(argc, argv);
	struct option opts[FO_ARRAY_LEN(options) + CLI_GIT_NOPTS];
	cli_options_join(opts, FO_ARRAY_LEN(opts), options, cli_git_long_options);
	cli_git_opts g = {0};
	const char *base = "main", *head = "HEAD", *format = "text";
	sync_select sel = {0};
	int c, status = EXIT_FAIL;
	sync_repo *r = NULL;
	fo_err e = FO_ERR_INIT;
	plan_list l = {0};
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_verb_plan.optstring, opts, NULL)) != -1) {
		if (cli_git_option(c, optarg, &g))
			continue;
		switch (c) {
		case O_BASE: base = optarg; break;
		case O_HEAD: head = optarg; break;
		case O_PATH: sel.folder = optarg; break;
		case O_GLOB: sel.glob = optarg; break;
		case O_STATUS: sel.status_folder = optarg; break;
		case O_MAX_AGE: {
			/* no age is known without --live: checked, so a CI script can pass it to both */
			int64_t ms;
			if (cli_max_state_age(optarg, &ms) < 0)
				goto cleanup;
			break;
		}
		case 'o':
			if (cli_choice("plan", "output format", outputs, optarg) < 0)
				goto cleanup;
			format = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			fputs(cli_git_usage, stdout);
			status = EXIT_OK;
			goto cleanup;
		default:
			/* through cleanup: a bad shared option before this one set g.bad */
			status = cli_usage_error("plan", "unknown option");
			goto cleanup;
		}
	}
	if (g.bad.code) {
		status = cli_usage_error("plan", "%s", fo_err_msg(&g.bad));
		goto cleanup;
	}
	if (optind < argc) {
		status = cli_usage_error("plan", "unexpected argument \"%s\"", argv[optind]);
		goto cleanup;
	}
	if (cli_git_open(&g, &r, &e) < 0) {
		fprintf(stderr, "flinkops plan: %s\n", fo_err_msg(&e));
		goto cleanup;
	}
	if (!cli_git_is_local(&g) && sync_fetch(r, base, l.base_commit, &e) < 0) {
		fprintf(stderr, "flinkops plan: %s\n", fo_err_msg(&e));
		goto cleanup;
	}
	if (sync_resolve(r, base, l.base_commit, &e) < 0 || sync_resolve(r, head, l.head_commit, &e) < 0) {
		fprintf(stderr, "flinkops plan: %s\n", fo_err_msg(&e));
		goto cleanup;
	}
	if (plan_collect(r, l.base_commit, l.head_commit, &sel, &l, &e) < 0) {
		fprintf(stderr, "flinkops plan: %s\n", fo_err_msg(&e));
		goto cleanup;
	}
	plan_evaluate(&l);
	name_snapshots(r, l.head_commit, &sel, &l);
	cli_print_diags(&l.diags);
	cli_print_diags(&l.notes);
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].p.error)
			fprintf(stderr, "%s\n", l.v[i].p.error);
	if (strcmp(format, "json") == 0 || strcmp(format, "yaml") == 0)
		print_json(&l, strcmp(format, "yaml") == 0);
	else if (strcmp(format, "markdown") == 0)
		print_markdown(&l);
	else
		print_text(&l, sync_display_url(r));
	status = count_errors(&l) ? EXIT_FAIL : count_changes(&l) ? EXIT_CHANGES : EXIT_OK;
cleanup:
	plan_list_free(&l);
	sync_free(r);
	fo_err_clear(&e);
	fo_err_clear(&g.bad);
	return status;
}
