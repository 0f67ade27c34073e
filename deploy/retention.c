/*
 * Savepoint retention, the pure part. See retention.h.
 */
#include "deploy/retention.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "flink/status.h"
#include "lib/util.h"

/* A path as its segments (see deploy_retention_may_be_same), and a hash
 * of each, so that a comparison with thousands of references is mostly
 * integers. */
typedef struct segs {
	char **v;
	uint64_t *h;
	size_t n;
} segs;

static uint64_t seg_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* One segment, %XX decoded (a '%' that does not start an escape stays). */
static char *segment(const char *p, size_t len)
{
	char *s = fo_malloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '%' && i + 2 < len) {
			int hi = hexval(p[i + 1]), lo = hexval(p[i + 2]);
			if (hi >= 0 && lo >= 0) {
				s[n++] = (char)(hi * 16 + lo);
				i += 2;
				continue;
			}
		}
		s[n++] = p[i];
	}
	s[n] = '\0';
	return s;
}

/* The segments of `p` without its scheme ("s3:", "file:" ...: letters,
 * digits, + - . before ":/") and a final "_metadata"; with `resolve`, ".."
 * takes the segment before it away. */
static void split(const char *p, bool resolve, segs *out)
{
	out->v = NULL;
	out->h = NULL;
	out->n = 0;
	const char *q = p;
	if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')) {
		while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '+' ||
		       *q == '-' || *q == '.')
			q++;
		p = q[0] == ':' && q[1] == '/' ? q + 1 : p;
	}
	while (*p) {
		size_t len = strcspn(p, "/");
		if (len) {
			char *s = segment(p, len);
			if (strcmp(s, ".") == 0 || (resolve && strcmp(s, "..") == 0)) {
				if (strcmp(s, "..") == 0 && out->n)
					free(out->v[--out->n]);
				free(s);
			} else {
				out->v = fo_realloc(out->v, (out->n + 1) * sizeof(*out->v));
				out->v[out->n++] = s;
			}
		}
		p += len;
		if (*p)
			p++;
	}
	/* Flink's pointer file names its savepoint: "X/_metadata" is X */
	if (out->n && strcmp(out->v[out->n - 1], "_metadata") == 0)
		free(out->v[--out->n]);
	out->h = fo_calloc(out->n ? out->n : 1, sizeof(*out->h));
	for (size_t i = 0; i < out->n; i++)
		out->h[i] = seg_hash(out->v[i]);
}

/* Whether the shorter list occurs in the longer one as a contiguous run. */
static bool related(const segs *a, const segs *b)
{
	const segs *s = a->n <= b->n ? a : b, *l = a->n <= b->n ? b : a;
	for (size_t at = 0; at + s->n <= l->n; at++) {
		size_t k = 0;
		while (k < s->n && s->h[k] == l->h[at + k])
			k++;
		if (k < s->n)
			continue;
		for (k = 0; k < s->n && strcmp(s->v[k], l->v[at + k]) == 0;)
			k++;
		if (k == s->n)
			return true;
	}
	return false;
}

/* Both readings of a path: [0] ".." as written, [1] resolved. */
struct deploy_retention_split {
	segs form[2];
};

static void split_both(const char *p, segs out[2])
{
	split(p, false, &out[0]);
	split(p, true, &out[1]);
}

static void segs_free(segs v[2])
{
	for (int i = 0; i < 2; i++) {
		fo_strv_free(v[i].v, v[i].n);
		free(v[i].h);
	}
}

/* deploy_retention_may_be_same over paths already split. */
static bool same_split(const char *a, const segs sa[2], const char *b, const segs sb[2])
{
	return strcmp(a, b) == 0 || related(&sa[0], &sb[0]) || related(&sa[1], &sb[1]);
}

bool deploy_retention_may_be_same(const char *a, const char *b)
{
	if (!a || !b)
		return false;
	segs sa[2], sb[2];
	split_both(a, sa);
	split_both(b, sb);
	bool same = same_split(a, sa, b, sb);
	segs_free(sa);
	segs_free(sb);
	return same;
}

static bool referenced(const char *path, const char *const *refs, size_t nrefs)
{
	for (size_t i = 0; i < nrefs; i++)
		if (deploy_retention_may_be_same(path, refs[i]))
			return true;
	return false;
}

size_t deploy_retention_select(const deploy_savepoint_rec *taken, size_t ntaken, const char *const *refs, size_t nrefs,
			       int max_count, int64_t max_age_ms, int64_t now_ms, bool *dispose)
{
	size_t marked = 0;
	for (size_t i = 0; i < ntaken; i++) {
		dispose[i] = false;
		size_t rank = ntaken - 1 - i; /* 0: the newest */
		if (rank == 0 || referenced(taken[i].path, refs, nrefs))
			continue;
		bool over_count = max_count >= 1 && rank >= (size_t)max_count;
		int64_t t = deploy_time_ms(taken[i].time);
		bool too_old = max_age_ms > 0 && t >= 0 && now_ms - t > max_age_ms;
		if (over_count || too_old) {
			dispose[i] = true;
			marked++;
		}
	}
	return marked;
}

bool deploy_retention_retry_due(int attempts, int64_t last_ms, int64_t now_ms)
{
	if (attempts <= 0 || last_ms < 0)
		return true;
	int64_t wait = 60 * 1000;
	for (int i = 1; i < attempts && wait < 3600 * 1000; i++)
		wait *= 2;
	if (wait > 3600 * 1000)
		wait = 3600 * 1000;
	return now_ms - last_ms >= wait;
}

static void add(char ***v, size_t *n, const char *path)
{
	if (!path || !*path)
		return;
	*v = fo_realloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = fo_strdup(path);
}

void deploy_retention_journal_refs(const deploy_journal *j, char ***v, size_t *n)
{
	add(v, n, j->savepoint_path);
	add(v, n, j->restore_path);
	add(v, n, j->started_from);
}

void deploy_retention_status_refs(const flink_status *s, char ***v, size_t *n)
{
	add(v, n, s->last_savepoint.path);
	for (size_t i = 0; i < s->nhistory; i++) {
		add(v, n, s->history[i].started_from.path);
		add(v, n, s->history[i].stopped_with.path);
	}
}

/* ---- the retention context ---------------------------------------------- */

/* The references by their segments' hashes, so that a savepoint is
 * compared only with the references it may be related to: one whose last
 * segment is one of its segments (the reference is the shorter), or one
 * holding its last segment (it is the shorter). */
typedef struct posting {
	uint64_t h;
	size_t ref;
} posting;

struct deploy_retention_index {
	posting *last, *all;
	size_t nlast, nall;
	size_t *empty; /* references without segments: related to every path */
	size_t nempty;
};

static void index_free(deploy_retention_ctx *c)
{
	if (!c->index)
		return;
	free(c->index->last);
	free(c->index->all);
	free(c->index->empty);
	free(c->index);
	c->index = NULL;
}

static int posting_cmp(const void *a, const void *b)
{
	uint64_t x = ((const posting *)a)->h, y = ((const posting *)b)->h;
	return x < y ? -1 : x > y;
}

void deploy_retention_ctx_index(deploy_retention_ctx *c)
{
	index_free(c);
	struct deploy_retention_index *x = fo_calloc(1, sizeof(*x));
	size_t nall = 0;
	for (size_t i = 0; i < c->nrefs; i++)
		for (int f = 0; f < 2; f++)
			nall += c->refs[i].split->form[f].n;
	x->all = fo_calloc(nall ? nall : 1, sizeof(*x->all));
	x->last = fo_calloc(c->nrefs ? 2 * c->nrefs : 1, sizeof(*x->last));
	x->empty = fo_calloc(c->nrefs ? c->nrefs : 1, sizeof(*x->empty));
	for (size_t i = 0; i < c->nrefs; i++) {
		bool empty = false;
		for (int f = 0; f < 2; f++) {
			const segs *g = &c->refs[i].split->form[f];
			empty = empty || g->n == 0;
			if (g->n)
				x->last[x->nlast++] = (posting){g->h[g->n - 1], i};
			for (size_t k = 0; k < g->n; k++)
				x->all[x->nall++] = (posting){g->h[k], i};
		}
		if (empty)
			x->empty[x->nempty++] = i;
	}
	qsort(x->last, x->nlast, sizeof(*x->last), posting_cmp);
	qsort(x->all, x->nall, sizeof(*x->all), posting_cmp);
	c->index = x;
}

/* The first posting of hash `h` in v (sorted), or n. */
static size_t posting_find(const posting *v, size_t n, uint64_t h)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].h < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void deploy_retention_ctx_add(deploy_retention_ctx *c, const char *path, const char *ns, const char *name,
			      const char *source, bool own_taken)
{
	if (!path || !*path)
		return;
	index_free(c);
	c->refs = fo_realloc(c->refs, (c->nrefs + 1) * sizeof(*c->refs));
	deploy_retention_ref *r = &c->refs[c->nrefs++];
	r->path = fo_strdup(path);
	r->ns = ns ? fo_strdup(ns) : NULL;
	r->name = name ? fo_strdup(name) : NULL;
	r->source = fo_strdup(source ? source : "?");
	r->own_taken = own_taken;
	/* split once: every savepoint a pass judges is compared with every reference */
	r->split = fo_calloc(1, sizeof(*r->split));
	split_both(path, r->split->form);
}

void deploy_retention_ctx_doubt(deploy_retention_ctx *c, unsigned flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = fo_vasprintf(fmt, ap);
	va_end(ap);
	c->doubts |= flag;
	if (!c->doubt) {
		c->doubt = msg;
		return;
	}
	char *both = fo_asprintf("%s; %s", c->doubt, msg);
	free(c->doubt);
	free(msg);
	c->doubt = both;
}

void deploy_retention_ctx_add_journal(deploy_retention_ctx *c, const char *ns, const char *name, const char *text)
{
	deploy_journal j;
	fo_err e = FO_ERR_INIT;
	if (!text) {
		deploy_retention_ctx_doubt(c, DEPLOY_RETENTION_DOUBT_JOURNALS, "the journal of %s/%s holds no journal",
					   ns ? ns : "?", name ? name : "?");
		return;
	}
	if (deploy_journal_decode(text, &j, &e) < 0) {
		deploy_retention_ctx_doubt(c, DEPLOY_RETENTION_DOUBT_JOURNALS, "the journal of %s/%s does not decode",
					   ns ? ns : "?", name ? name : "?");
		fo_err_clear(&e);
		return;
	}
	static const struct {
		size_t off;
		const char *what;
	} fields[] = {
		{offsetof(deploy_journal, savepoint_path), "savepointPath"},
		{offsetof(deploy_journal, restore_path), "restorePath"},
		{offsetof(deploy_journal, started_from), "startedFrom"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(fields); i++) {
		const char *path = *(char *const *)((const char *)&j + fields[i].off);
		char *src = fo_asprintf("the journal of %s/%s (%s)", ns, name, fields[i].what);
		deploy_retention_ctx_add(c, path, ns, name, src, false);
		free(src);
	}
	char *src = fo_asprintf("the journal of %s/%s (savepointsTaken)", ns, name);
	for (size_t i = 0; i < j.ntaken; i++)
		deploy_retention_ctx_add(c, j.taken[i].path, ns, name, src, true);
	free(src);
	deploy_journal_clear(&j);
}

void deploy_retention_ctx_add_status(deploy_retention_ctx *c, const char *file, const char *data, size_t len)
{
	flink_status *s = NULL;
	fo_err e = FO_ERR_INIT;
	if (flink_status_parse(file, data, len, &s, &e) < 0) {
		deploy_retention_ctx_doubt(c, DEPLOY_RETENTION_DOUBT_STATUS, "the status file %s does not parse", file);
		fo_err_clear(&e);
		return;
	}
	char **v = NULL;
	size_t n = 0;
	deploy_retention_status_refs(s, &v, &n);
	for (size_t i = 0; i < n; i++)
		deploy_retention_ctx_add(c, v[i], s->namespace, s->name, file, false);
	fo_strv_free(v, n);
	flink_status_free(s);
}

void deploy_retention_ctx_free(deploy_retention_ctx *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nrefs; i++) {
		free(c->refs[i].path);
		free(c->refs[i].ns);
		free(c->refs[i].name);
		free(c->refs[i].source);
		if (c->refs[i].split)
			segs_free(c->refs[i].split->form);
		free(c->refs[i].split);
	}
	free(c->refs);
	free(c->doubt);
	index_free(c);
	memset(c, 0, sizeof(*c));
}

static void set_why(char **why, char *msg)
{
	if (why)
		*why = msg;
	else
		free(msg);
}

bool deploy_retention_may_dispose(const deploy_retention_ctx *c, const char *ns, const char *name,
				  const deploy_journal *own, const char *path, char **why)
{
	if (why)
		*why = NULL;
	if (!c) {
		set_why(why, fo_strdup("what the pass references was not gathered"));
		return false;
	}
	if (c->doubts || !path || !*path) {
		set_why(why, fo_asprintf("disposal is held in this pass: %s", c->doubt ? c->doubt : "no path"));
		return false;
	}
	if (own) {
		char **v = NULL;
		size_t n = 0;
		deploy_retention_journal_refs(own, &v, &n);
		for (size_t i = 0; i < n; i++)
			if (deploy_retention_may_be_same(path, v[i])) {
				set_why(why, fo_asprintf("its own journal references %s", v[i]));
				fo_strv_free(v, n);
				return false;
			}
		fo_strv_free(v, n);
	}
	segs sp[2];
	split_both(path, sp);
	/* the references to compare with: all of them, or those the index
	 * says may be related (a path without segments is related to all) */
	size_t *cand = NULL, ncand = 0;
	const struct deploy_retention_index *x = sp[0].n && sp[1].n ? c->index : NULL;
	if (x) {
		for (int f = 0; f < 2; f++) {
			for (size_t k = 0; k <= sp[f].n; k++) {
				/* k < n: references ending in segment k; k == n: references holding the last one */
				const posting *v = k < sp[f].n ? x->last : x->all;
				size_t n = k < sp[f].n ? x->nlast : x->nall;
				uint64_t h = sp[f].h[k < sp[f].n ? k : sp[f].n - 1];
				for (size_t at = posting_find(v, n, h); at < n && v[at].h == h; at++) {
					cand = fo_realloc(cand, (ncand + 1) * sizeof(*cand));
					cand[ncand++] = v[at].ref;
				}
			}
		}
		for (size_t k = 0; k < x->nempty; k++) {
			cand = fo_realloc(cand, (ncand + 1) * sizeof(*cand));
			cand[ncand++] = x->empty[k];
		}
	}
	bool may = true;
	for (size_t i = 0; i < (x ? ncand : c->nrefs) && may; i++) {
		const deploy_retention_ref *r = &c->refs[x ? cand[i] : i];
		if (r->own_taken && fo_streq(r->ns, ns) && fo_streq(r->name, name))
			continue; /* its own retention list: what is being decided */
		if (same_split(path, sp, r->path, r->split->form)) {
			set_why(why, fo_asprintf("%s references %s", r->source, r->path));
			may = false;
		}
	}
	free(cand);
	segs_free(sp);
	return may;
}

size_t deploy_retention_choose(const deploy_retention_ctx *c, const char *ns, const char *name,
			       const deploy_journal *j, int max_count, int64_t max_age_ms, int64_t now_ms,
			       bool *dispose, char **held)
{
	if (held)
		*held = NULL;
	deploy_retention_select(j->taken, j->ntaken, NULL, 0, max_count, max_age_ms, now_ms, dispose);
	size_t marked = 0;
	for (size_t i = 0; i < j->ntaken; i++) {
		if (!dispose[i])
			continue;
		char *why = NULL;
		if (deploy_retention_may_dispose(c, ns, name, j, j->taken[i].path, &why)) {
			marked++;
		} else {
			dispose[i] = false;
			if (held && !*held)
				*held = fo_asprintf("savepoint %s is kept: %s", j->taken[i].path, why);
		}
		free(why);
	}
	return marked;
}

bool deploy_retention_keep(deploy_journal *j, size_t i)
{
	if (i >= j->ndisposals || j->disposals[i].trigger_id)
		return false;
	bool listed = false;
	for (size_t k = 0; k < j->ntaken && !listed; k++)
		listed = fo_streq(j->taken[k].path, j->disposals[i].path);
	if (!listed && j->ntaken < DEPLOY_JOURNAL_TAKEN_MAX) {
		j->taken = fo_realloc(j->taken, (j->ntaken + 1) * sizeof(*j->taken));
		memmove(&j->taken[1], &j->taken[0], j->ntaken * sizeof(*j->taken));
		j->ntaken++;
		memset(&j->taken[0], 0, sizeof(j->taken[0]));
		j->taken[0].path = fo_strdup(j->disposals[i].path);
	}
	deploy_journal_remove_disposal(j, i);
	return true;
}
