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

/* A path as its segments (see deploy_retention_may_be_same). */
typedef struct segs {
	char **v;
	size_t n;
} segs;

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
 * digits, + - . before ":/"); with `resolve`, ".." takes the segment
 * before it away. */
static void split(const char *p, bool resolve, segs *out)
{
	out->v = NULL;
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
}

/* Whether the shorter list occurs in the longer one as a contiguous run. */
static bool related(const segs *a, const segs *b)
{
	const segs *s = a->n <= b->n ? a : b, *l = a->n <= b->n ? b : a;
	for (size_t at = 0; at + s->n <= l->n; at++) {
		size_t k = 0;
		while (k < s->n && strcmp(s->v[k], l->v[at + k]) == 0)
			k++;
		if (k == s->n)
			return true;
	}
	return false;
}

bool deploy_retention_may_be_same(const char *a, const char *b)
{
	if (!a || !b)
		return false;
	if (strcmp(a, b) == 0)
		return true;
	bool same = false;
	for (int resolve = 0; resolve < 2 && !same; resolve++) {
		segs sa, sb;
		split(a, resolve, &sa);
		split(b, resolve, &sb);
		same = related(&sa, &sb);
		fo_strv_free(sa.v, sa.n);
		fo_strv_free(sb.v, sb.n);
	}
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

void deploy_retention_ctx_add(deploy_retention_ctx *c, const char *path, const char *ns, const char *name,
			      const char *source, bool own_taken)
{
	if (!path || !*path)
		return;
	c->refs = fo_realloc(c->refs, (c->nrefs + 1) * sizeof(*c->refs));
	deploy_retention_ref *r = &c->refs[c->nrefs++];
	r->path = fo_strdup(path);
	r->ns = ns ? fo_strdup(ns) : NULL;
	r->name = name ? fo_strdup(name) : NULL;
	r->source = fo_strdup(source ? source : "?");
	r->own_taken = own_taken;
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
	}
	free(c->refs);
	free(c->doubt);
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
	for (size_t i = 0; i < c->nrefs; i++) {
		const deploy_retention_ref *r = &c->refs[i];
		if (r->own_taken && fo_streq(r->ns, ns) && fo_streq(r->name, name))
			continue; /* its own retention list: what is being decided */
		if (deploy_retention_may_be_same(path, r->path)) {
			set_why(why, fo_asprintf("%s references %s", r->source, r->path));
			return false;
		}
	}
	return true;
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
