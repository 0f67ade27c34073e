/*
 * Status files (see status.h): the model, its YAML form written through
 * lib/yaml's deterministic emitter, and a strict parser over the bounded
 * YAML tree so that a hand-edited or corrupted status file gives a
 * positioned error instead of a guess.
 */
#include "flink/status.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lib/yaml.h"

static const char *const phase_names[] = {"Pending", "Deploying", "Upgrading", "Running",
					  "Suspended", "Failed", "Deleted", "RolledBack", "Completed", "Abandoned"};
static const char *const reason_names[] = {"", "upgrade", "suspend", "delete", "manual", "periodic"};

const char *flink_phase_name(enum flink_phase p)
{
	return (size_t)p < FO_ARRAY_LEN(phase_names) ? phase_names[p] : "Unknown";
}

int flink_phase_parse(const char *s)
{
	for (size_t i = 0; s && i < FO_ARRAY_LEN(phase_names); i++)
		if (strcmp(s, phase_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *flink_savepoint_reason_name(enum flink_savepoint_reason r)
{
	return (size_t)r < FO_ARRAY_LEN(reason_names) ? reason_names[r] : "";
}

int flink_savepoint_reason_parse(const char *s)
{
	for (size_t i = 1; s && i < FO_ARRAY_LEN(reason_names); i++)
		if (strcmp(s, reason_names[i]) == 0)
			return (int)i;
	return -1;
}

flink_status *flink_status_new(const char *namespace, const char *name)
{
	flink_status *s = fo_calloc(1, sizeof(*s));
	s->namespace = fo_strdup(namespace ? namespace : "default");
	s->name = fo_strdup(name ? name : "");
	s->phase = FLINK_PHASE_PENDING;
	return s;
}

static void history_clear(flink_status_history *h)
{
	free(h->commit);
	free(h->time);
	free(h->savepoint);
	free(h->job_id);
	free(h->started_from.kind);
	free(h->started_from.path);
	free(h->started_from.time);
	free(h->stopped_with.path);
	free(h->stopped_with.time);
	memset(h, 0, sizeof(*h));
}

void flink_status_free(flink_status *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->namespace);
	free(s->source.path);
	free(s->source.blob);
	free(s->source.commit);
	free(s->observed_commit);
	free(s->failed_commit);
	free(s->message);
	free(s->job.id);
	free(s->job.state);
	free(s->job.start_time);
	free(s->last_savepoint.path);
	free(s->last_savepoint.time);
	free(s->snapshot.type);
	free(s->snapshot.of);
	free(s->snapshot.path);
	free(s->snapshot.time);
	free(s->snapshot.trigger_id);
	free(s->bluegreen.state);
	free(s->bluegreen.active);
	free(s->bluegreen.blue_job);
	free(s->bluegreen.green_job);
	free(s->bluegreen.started_from);
	free(s->bluegreen.switched_at);
	for (size_t i = 0; i < s->nhistory; i++)
		history_clear(&s->history[i]);
	free(s->history);
	free(s->update_time);
	free(s);
}

void flink_status_set(char **field, const char *value)
{
	/* the edge: text from outside (a server's error page) is made text
	 * that reads back as written, once, so the value is stable from here */
	char *v = value ? fo_text_clean(value, FLINK_STATUS_STRING_MAX) : NULL;
	free(*field);
	*field = v;
}

void flink_status_add_history(flink_status *s, const char *commit, enum flink_phase phase, const char *time,
			      const char *savepoint)
{
	if (!s->history)
		s->history = fo_calloc(FLINK_STATUS_HISTORY_MAX, sizeof(*s->history));
	if (s->nhistory == FLINK_STATUS_HISTORY_MAX)
		history_clear(&s->history[--s->nhistory]);
	memmove(&s->history[1], &s->history[0], s->nhistory * sizeof(*s->history));
	flink_status_history *h = &s->history[0];
	memset(h, 0, sizeof(*h));
	flink_status_set(&h->commit, commit);
	h->phase = phase;
	flink_status_set(&h->time, time);
	flink_status_set(&h->savepoint, savepoint);
	s->nhistory++;
}

static bool rfc3339_seconds(const char *t, time_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *rest = t ? strptime(t, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!rest)
		return false;
	if (*rest == '.')
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			;
	if (strcmp(rest, "Z") != 0)
		return false;
	*out = timegm(&tm);
	return true;
}

long flink_status_seconds_between(const char *from, const char *to)
{
	time_t a, b;
	if (!rfc3339_seconds(from, &a) || !rfc3339_seconds(to, &b) || b < a)
		return -1;
	return (long)(b - a);
}

bool flink_status_state_kind_valid(const char *kind)
{
	static const char *const kinds[] = {"savepoint", "checkpoint", "initial", "empty"};
	for (size_t i = 0; kind && i < FO_ARRAY_LEN(kinds); i++)
		if (strcmp(kind, kinds[i]) == 0)
			return true;
	return false;
}

char *flink_status_path(const char *folder, const char *namespace, const char *name)
{
	const char *f = folder && *folder ? folder : "status";
	size_t l = strlen(f);
	while (l > 1 && f[l - 1] == '/')
		l--;
	return fo_asprintf("%.*s/%s/%s.yaml", (int)l, f, namespace, name);
}

char *flink_status_time(time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	return fo_asprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			   tm.tm_min, tm.tm_sec);
}

char *flink_status_commit_message(const flink_status *const *v, size_t n)
{
	fo_buf b = FO_BUF_INIT;
	fo_buf_puts(&b, "status:");
	const char *commit = n ? v[0]->source.commit : NULL;
	bool same = true;
	for (size_t i = 1; i < n; i++)
		same = same && fo_streq(v[i]->source.commit, commit);
	for (size_t i = 0; i < n && i < 5; i++) {
		fo_buf_printf(&b, "%s %s %s", i ? "," : "", v[i]->name, flink_phase_name(v[i]->phase));
		if (!same && v[i]->source.commit)
			fo_buf_printf(&b, " at %.7s", v[i]->source.commit);
	}
	if (n > 5)
		fo_buf_printf(&b, ", and %zu more", n - 5);
	if (same && commit)
		fo_buf_printf(&b, " at %.7s", commit);
	if (n == 0)
		fo_buf_puts(&b, " nothing changed");
	return fo_buf_detach(&b);
}

/* ---- writing ---- */

/* Add string `v` as the reader takes it back: clean text (a field set
 * without flink_status_set is cleaned here too), at most `max` bytes. */
static void add_str_max(cJSON *o, const char *key, const char *v, size_t max)
{
	if (!v)
		return;
	char *clean = fo_text_clean(v, max);
	cJSON_AddStringToObject(o, key, clean);
	free(clean);
}

/* Add `child` under `key` when it has any field, else drop it. */
static void add_obj(cJSON *o, const char *key, cJSON *child)
{
	if (cJSON_GetArraySize(child) > 0)
		cJSON_AddItemToObject(o, key, child);
	else
		cJSON_Delete(child);
}

/* The status as a JSON value: strings at most `max` bytes, the newest
 * `nhistory` history entries. */
static cJSON *status_json(const flink_status *s, size_t max, size_t nhistory)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "apiVersion", FLINK_STATUS_API_VERSION);
	cJSON_AddStringToObject(o, "kind", FLINK_STATUS_KIND);
	cJSON *md = cJSON_AddObjectToObject(o, "metadata");
	add_str_max(md, "name", s->name, FLINK_STATUS_STRING_MAX); /* never cut shorter */
	add_str_max(md, "namespace", s->namespace, FLINK_STATUS_STRING_MAX);
	cJSON *src = cJSON_CreateObject();
	add_str_max(src, "path", s->source.path, max);
	add_str_max(src, "blob", s->source.blob, max);
	add_str_max(src, "commit", s->source.commit, max);
	add_obj(o, "source", src);
	add_str_max(o, "observedCommit", s->observed_commit, max);
	add_str_max(o, "failedCommit", s->failed_commit, max);
	cJSON_AddStringToObject(o, "phase", flink_phase_name(s->phase));
	add_str_max(o, "message", s->message, max);
	cJSON *job = cJSON_CreateObject();
	add_str_max(job, "id", s->job.id, max);
	add_str_max(job, "state", s->job.state, max);
	add_str_max(job, "startTime", s->job.start_time, max);
	if (s->job.restarts > 0)
		cJSON_AddNumberToObject(job, "restarts",
					(double)(s->job.restarts < FLINK_STATUS_COUNT_MAX ? s->job.restarts
											  : FLINK_STATUS_COUNT_MAX));
	add_obj(o, "job", job);
	cJSON *sp = cJSON_CreateObject();
	add_str_max(sp, "path", s->last_savepoint.path, max);
	add_str_max(sp, "time", s->last_savepoint.time, max);
	if (s->last_savepoint.reason != FLINK_SAVEPOINT_NONE)
		cJSON_AddStringToObject(sp, "reason", flink_savepoint_reason_name(s->last_savepoint.reason));
	add_obj(o, "lastSavepoint", sp);
	if (s->savepoints.retained > 0 || s->savepoints.disposing > 0) {
		cJSON *n = cJSON_AddObjectToObject(o, "savepoints");
		cJSON_AddNumberToObject(n, "retained", s->savepoints.retained);
		cJSON_AddNumberToObject(n, "pendingDisposal", s->savepoints.disposing);
	}
	cJSON *snap = cJSON_CreateObject();
	add_str_max(snap, "type", s->snapshot.type, max);
	add_str_max(snap, "of", s->snapshot.of, max);
	add_str_max(snap, "path", s->snapshot.path, max);
	add_str_max(snap, "time", s->snapshot.time, max);
	add_str_max(snap, "triggerId", s->snapshot.trigger_id, max);
	if (s->snapshot.failures > 0)
		cJSON_AddNumberToObject(snap, "failures",
					(double)(s->snapshot.failures < FLINK_STATUS_COUNT_MAX ? s->snapshot.failures
												: FLINK_STATUS_COUNT_MAX));
	add_obj(o, "snapshot", snap);
	cJSON *bg = cJSON_CreateObject();
	add_str_max(bg, "state", s->bluegreen.state, max);
	add_str_max(bg, "active", s->bluegreen.active, max);
	add_str_max(bg, "blueJob", s->bluegreen.blue_job, max);
	add_str_max(bg, "greenJob", s->bluegreen.green_job, max);
	add_str_max(bg, "startedFrom", s->bluegreen.started_from, max);
	add_str_max(bg, "switchedAt", s->bluegreen.switched_at, max);
	add_obj(o, "bluegreen", bg);
	if (nhistory) {
		cJSON *h = cJSON_AddArrayToObject(o, "history");
		for (size_t i = 0; i < nhistory; i++) {
			cJSON *x = cJSON_CreateObject();
			add_str_max(x, "commit", s->history[i].commit, max);
			cJSON_AddStringToObject(x, "phase", flink_phase_name(s->history[i].phase));
			add_str_max(x, "time", s->history[i].time, max);
			add_str_max(x, "savepoint", s->history[i].savepoint, max);
			add_str_max(x, "jobId", s->history[i].job_id, max);
			cJSON *from = cJSON_CreateObject();
			add_str_max(from, "kind", s->history[i].started_from.kind, max);
			add_str_max(from, "path", s->history[i].started_from.path, max);
			add_str_max(from, "time", s->history[i].started_from.time, max);
			add_obj(x, "startedFrom", from);
			cJSON *stop = cJSON_CreateObject();
			add_str_max(stop, "path", s->history[i].stopped_with.path, max);
			add_str_max(stop, "time", s->history[i].stopped_with.time, max);
			add_obj(x, "stoppedWith", stop);
			cJSON_AddItemToArray(h, x);
		}
	}
	add_str_max(o, "updateTime", s->update_time, max);
	return o;
}

/*
 * What is written is bounded by what flink_status_parse accepts, so that a
 * file we wrote always reads back: each string at most
 * FLINK_STATUS_STRING_MAX bytes (clean text, so that is its length read
 * back too), and the whole file at most FLINK_STATUS_FILE_MAX bytes, which
 * escaping and ten long history entries can pass. Past it, the oldest
 * history entries go first, down to the newest, then every string is cut
 * shorter (halved until it fits) and the entries tried again. Written
 * again after being read, the same status gives the same bytes: it fits
 * at the first try.
 */
void flink_status_write(const flink_status *s, fo_buf *out)
{
	size_t keep = s->nhistory < FLINK_STATUS_HISTORY_MAX ? s->nhistory : FLINK_STATUS_HISTORY_MAX;
	fo_buf b = FO_BUF_INIT;
	size_t least = keep ? 1 : 0;
	for (size_t max = FLINK_STATUS_STRING_MAX;; max /= 2) {
		for (size_t h = keep + 1; h-- > least;) {
			cJSON *o = status_json(s, max, h);
			fo_buf_clear(&b);
			fo_yaml_emit(&b, o);
			cJSON_Delete(o);
			/* 64 bytes a string is always small enough: a dozen fields
			 * and ten entries of ten, escaped, are far below the limit */
			if (b.len <= FLINK_STATUS_FILE_MAX || max <= 64) {
				fo_buf_put(out, fo_buf_cstr(&b), b.len);
				fo_buf_free(&b);
				return;
			}
		}
	}
}

bool flink_status_same(const flink_status *a, const flink_status *b)
{
	if (!a || !b)
		return a == b;
	fo_buf x = FO_BUF_INIT, y = FO_BUF_INIT;
	flink_status ca = *a, cb = *b;
	ca.update_time = cb.update_time = NULL;
	flink_status_write(&ca, &x);
	flink_status_write(&cb, &y);
	bool same = x.len == y.len && memcmp(fo_buf_cstr(&x), fo_buf_cstr(&y), x.len) == 0;
	fo_buf_free(&x);
	fo_buf_free(&y);
	return same;
}

/* ---- parsing ---- */

typedef struct pctx {
	const char *name;
	fo_err *e;
} pctx;

static int bad(pctx *p, const fo_yaml_node *n, const char *fmt, ...) FO_PRINTF(3, 4);

static int bad(pctx *p, const fo_yaml_node *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = fo_vasprintf(fmt, ap);
	va_end(ap);
	if (n)
		fo_err_set(p->e, FO_EINVAL, "%s:%d:%d: %s", p->name, n->line, n->col, m);
	else
		fo_err_set(p->e, FO_EINVAL, "%s: %s", p->name, m);
	free(m);
	return FO_EINVAL;
}

/* Check that every key of `map` is one of `known`. */
static int known_keys(pctx *p, const fo_yaml_node *map, const char *where, const char *const *known, size_t nknown)
{
	for (size_t i = 0; i < map->n; i++) {
		const fo_yaml_node *k = map->items[2 * i];
		bool ok = false;
		for (size_t j = 0; j < nknown && !ok; j++)
			ok = k->kind == FO_YAML_SCALAR && strcmp(k->str, known[j]) == 0;
		if (!ok)
			return bad(p, k, "%s: unknown field \"%s\"", where, k->kind == FO_YAML_SCALAR ? k->str : "?");
	}
	return 0;
}

static int get_map(pctx *p, const fo_yaml_node *parent, const char *key, const char *where, const fo_yaml_node **out)
{
	*out = NULL;
	const fo_yaml_node *n = fo_yaml_get(parent, key);
	if (!n || fo_yaml_is_null(n))
		return 0;
	if (n->kind != FO_YAML_MAP)
		return bad(p, n, "%s%s: expected a mapping, got %s", where, key, fo_yaml_kind_name(n));
	*out = n;
	return 0;
}

static int get_str(pctx *p, const fo_yaml_node *parent, const char *key, const char *where, char **out)
{
	const fo_yaml_node *n = fo_yaml_get(parent, key);
	if (!n || fo_yaml_is_null(n))
		return 0;
	if (n->kind != FO_YAML_SCALAR)
		return bad(p, n, "%s%s: expected a string, got %s", where, key, fo_yaml_kind_name(n));
	if (n->len > FLINK_STATUS_STRING_MAX)
		return bad(p, n, "%s%s: longer than %d bytes", where, key, FLINK_STATUS_STRING_MAX);
	if (strlen(n->str) != n->len)
		return bad(p, n, "%s%s: contains a NUL byte", where, key);
	free(*out);
	*out = fo_strdup(n->str);
	return 0;
}

/* A count from 0 to `max` (absent: 0). */
static int get_count_max(pctx *p, const fo_yaml_node *parent, const char *key, const char *where, long long max,
			 long long *out)
{
	const fo_yaml_node *n = fo_yaml_get(parent, key);
	if (!n || fo_yaml_is_null(n))
		return 0;
	char *end = NULL;
	errno = 0;
	long long v = n->kind == FO_YAML_SCALAR ? strtoll(n->str, &end, 10) : -1;
	if (n->kind != FO_YAML_SCALAR || end == n->str || *end || errno || v < 0 || v > max)
		return bad(p, n, "%s%s: expected a count from 0 to %lld", where, key, max);
	*out = v;
	return 0;
}

static int get_count(pctx *p, const fo_yaml_node *parent, const char *key, const char *where, int *out)
{
	long long v = *out;
	int rc = get_count_max(p, parent, key, where, 1000, &v);
	*out = (int)v;
	return rc;
}

static int get_phase(pctx *p, const fo_yaml_node *parent, const char *where, bool required, enum flink_phase *out)
{
	const fo_yaml_node *n = fo_yaml_get(parent, "phase");
	if (!n || fo_yaml_is_null(n)) {
		if (required)
			return bad(p, parent, "%s\"phase\" is required", where);
		return 0;
	}
	int ph = n->kind == FO_YAML_SCALAR ? flink_phase_parse(n->str) : -1;
	if (ph < 0)
		return bad(p, n, "%sphase: \"%s\" is not a phase (Pending, Deploying, Upgrading, Running, Suspended, "
				 "Failed, Deleted, RolledBack, Completed, Abandoned)",
			   where, n->kind == FO_YAML_SCALAR ? n->str : fo_yaml_kind_name(n));
	*out = (enum flink_phase)ph;
	return 0;
}

static int parse_doc(pctx *p, const fo_yaml_node *doc, flink_status *s)
{
	static const char *const top[] = {"apiVersion", "kind", "metadata", "source", "observedCommit", "failedCommit",
					  "phase", "message", "job", "lastSavepoint", "savepoints", "snapshot", "bluegreen",
					  "history", "updateTime"};
	static const char *const snapk[] = {"type", "of", "path", "time", "triggerId", "failures"};
	static const char *const bgk[] = {"state", "active", "blueJob", "greenJob", "startedFrom", "switchedAt"};
	static const char *const counts[] = {"retained", "pendingDisposal"};
	static const char *const meta[] = {"name", "namespace"};
	static const char *const src[] = {"path", "blob", "commit"};
	static const char *const job[] = {"id", "state", "startTime", "restarts"};
	static const char *const sp[] = {"path", "time", "reason"};
	static const char *const hist[] = {"commit",  "phase",       "time",       "savepoint",
					   "jobId",   "startedFrom", "stoppedWith"};
	static const char *const from[] = {"kind", "path", "time"};
	static const char *const stop[] = {"path", "time"};
	int rc;
	if (!doc || doc->kind != FO_YAML_MAP)
		return bad(p, doc, "a status file must be a mapping, got %s", doc ? fo_yaml_kind_name(doc) : "nothing");
	if ((rc = known_keys(p, doc, "status", top, FO_ARRAY_LEN(top))) < 0)
		return rc;
	const fo_yaml_node *av = fo_yaml_get(doc, "apiVersion"), *kind = fo_yaml_get(doc, "kind");
	if (!av || av->kind != FO_YAML_SCALAR || strcmp(av->str, FLINK_STATUS_API_VERSION) != 0)
		return bad(p, av ? av : doc, "apiVersion must be %s", FLINK_STATUS_API_VERSION);
	if (!kind || kind->kind != FO_YAML_SCALAR || strcmp(kind->str, FLINK_STATUS_KIND) != 0)
		return bad(p, kind ? kind : doc, "kind must be %s", FLINK_STATUS_KIND);
	const fo_yaml_node *m = NULL;
	if ((rc = get_map(p, doc, "metadata", "", &m)) < 0)
		return rc;
	if (!m)
		return bad(p, doc, "\"metadata\" is required");
	if ((rc = known_keys(p, m, "metadata", meta, FO_ARRAY_LEN(meta))) < 0 ||
	    (rc = get_str(p, m, "name", "metadata.", &s->name)) < 0 ||
	    (rc = get_str(p, m, "namespace", "metadata.", &s->namespace)) < 0)
		return rc;
	if (!s->name || !*s->name)
		return bad(p, m, "metadata: \"name\" is required");
	if (!s->namespace || !*s->namespace)
		return bad(p, m, "metadata: \"namespace\" is required");
	if ((rc = get_map(p, doc, "source", "", &m)) < 0)
		return rc;
	if (m && ((rc = known_keys(p, m, "source", src, FO_ARRAY_LEN(src))) < 0 ||
		  (rc = get_str(p, m, "path", "source.", &s->source.path)) < 0 ||
		  (rc = get_str(p, m, "blob", "source.", &s->source.blob)) < 0 ||
		  (rc = get_str(p, m, "commit", "source.", &s->source.commit)) < 0))
		return rc;
	if ((rc = get_str(p, doc, "observedCommit", "", &s->observed_commit)) < 0 ||
	    (rc = get_str(p, doc, "failedCommit", "", &s->failed_commit)) < 0 ||
	    (rc = get_phase(p, doc, "", true, &s->phase)) < 0 || (rc = get_str(p, doc, "message", "", &s->message)) < 0 ||
	    (rc = get_str(p, doc, "updateTime", "", &s->update_time)) < 0)
		return rc;
	if ((rc = get_map(p, doc, "job", "", &m)) < 0)
		return rc;
	if (m && ((rc = known_keys(p, m, "job", job, FO_ARRAY_LEN(job))) < 0 ||
		  (rc = get_str(p, m, "id", "job.", &s->job.id)) < 0 ||
		  (rc = get_str(p, m, "state", "job.", &s->job.state)) < 0 ||
		  (rc = get_str(p, m, "startTime", "job.", &s->job.start_time)) < 0 ||
		  (rc = get_count_max(p, m, "restarts", "job.", FLINK_STATUS_COUNT_MAX, &s->job.restarts)) < 0))
		return rc;
	if ((rc = get_map(p, doc, "lastSavepoint", "", &m)) < 0)
		return rc;
	if (m) {
		if ((rc = known_keys(p, m, "lastSavepoint", sp, FO_ARRAY_LEN(sp))) < 0 ||
		    (rc = get_str(p, m, "path", "lastSavepoint.", &s->last_savepoint.path)) < 0 ||
		    (rc = get_str(p, m, "time", "lastSavepoint.", &s->last_savepoint.time)) < 0)
			return rc;
		const fo_yaml_node *r = fo_yaml_get(m, "reason");
		if (r && !fo_yaml_is_null(r)) {
			int v = r->kind == FO_YAML_SCALAR ? flink_savepoint_reason_parse(r->str) : -1;
			if (v < 0)
				return bad(p, r, "lastSavepoint.reason: \"%s\" is not a reason (upgrade, suspend, delete, "
						 "manual, periodic)",
					   r->kind == FO_YAML_SCALAR ? r->str : fo_yaml_kind_name(r));
			s->last_savepoint.reason = (enum flink_savepoint_reason)v;
		}
	}
	if ((rc = get_map(p, doc, "savepoints", "", &m)) < 0)
		return rc;
	if (m && ((rc = known_keys(p, m, "savepoints", counts, FO_ARRAY_LEN(counts))) < 0 ||
		  (rc = get_count(p, m, "retained", "savepoints.", &s->savepoints.retained)) < 0 ||
		  (rc = get_count(p, m, "pendingDisposal", "savepoints.", &s->savepoints.disposing)) < 0))
		return rc;
	if ((rc = get_map(p, doc, "snapshot", "", &m)) < 0)
		return rc;
	if (m && ((rc = known_keys(p, m, "snapshot", snapk, FO_ARRAY_LEN(snapk))) < 0 ||
		  (rc = get_str(p, m, "type", "snapshot.", &s->snapshot.type)) < 0 ||
		  (rc = get_str(p, m, "of", "snapshot.", &s->snapshot.of)) < 0 ||
		  (rc = get_str(p, m, "path", "snapshot.", &s->snapshot.path)) < 0 ||
		  (rc = get_str(p, m, "time", "snapshot.", &s->snapshot.time)) < 0 ||
		  (rc = get_str(p, m, "triggerId", "snapshot.", &s->snapshot.trigger_id)) < 0 ||
		  (rc = get_count_max(p, m, "failures", "snapshot.", FLINK_STATUS_COUNT_MAX, &s->snapshot.failures)) < 0))
		return rc;
	if ((rc = get_map(p, doc, "bluegreen", "", &m)) < 0)
		return rc;
	if (m && ((rc = known_keys(p, m, "bluegreen", bgk, FO_ARRAY_LEN(bgk))) < 0 ||
		  (rc = get_str(p, m, "state", "bluegreen.", &s->bluegreen.state)) < 0 ||
		  (rc = get_str(p, m, "active", "bluegreen.", &s->bluegreen.active)) < 0 ||
		  (rc = get_str(p, m, "blueJob", "bluegreen.", &s->bluegreen.blue_job)) < 0 ||
		  (rc = get_str(p, m, "greenJob", "bluegreen.", &s->bluegreen.green_job)) < 0 ||
		  (rc = get_str(p, m, "startedFrom", "bluegreen.", &s->bluegreen.started_from)) < 0 ||
		  (rc = get_str(p, m, "switchedAt", "bluegreen.", &s->bluegreen.switched_at)) < 0))
		return rc;
	const fo_yaml_node *h = fo_yaml_get(doc, "history");
	if (h && !fo_yaml_is_null(h)) {
		if (h->kind != FO_YAML_SEQ)
			return bad(p, h, "history: expected a list, got %s", fo_yaml_kind_name(h));
		if (h->n > FLINK_STATUS_HISTORY_MAX)
			return bad(p, h, "history: %zu entries, more than the %d kept", h->n, FLINK_STATUS_HISTORY_MAX);
		s->history = fo_calloc(FLINK_STATUS_HISTORY_MAX, sizeof(*s->history));
		for (size_t i = 0; i < h->n; i++) {
			const fo_yaml_node *x = h->items[i];
			if (x->kind != FO_YAML_MAP)
				return bad(p, x, "history[%zu]: expected a mapping, got %s", i, fo_yaml_kind_name(x));
			flink_status_history *e = &s->history[s->nhistory++];
			if ((rc = known_keys(p, x, "history", hist, FO_ARRAY_LEN(hist))) < 0 ||
			    (rc = get_str(p, x, "commit", "history.", &e->commit)) < 0 ||
			    (rc = get_phase(p, x, "history.", true, &e->phase)) < 0 ||
			    (rc = get_str(p, x, "time", "history.", &e->time)) < 0 ||
			    (rc = get_str(p, x, "savepoint", "history.", &e->savepoint)) < 0 ||
			    (rc = get_str(p, x, "jobId", "history.", &e->job_id)) < 0)
				return rc;
			if ((rc = get_map(p, x, "startedFrom", "history.", &m)) < 0)
				return rc;
			if (m && ((rc = known_keys(p, m, "history.startedFrom", from, FO_ARRAY_LEN(from))) < 0 ||
				  (rc = get_str(p, m, "kind", "history.startedFrom.", &e->started_from.kind)) < 0 ||
				  (rc = get_str(p, m, "path", "history.startedFrom.", &e->started_from.path)) < 0 ||
				  (rc = get_str(p, m, "time", "history.startedFrom.", &e->started_from.time)) < 0))
				return rc;
			if (m && !flink_status_state_kind_valid(e->started_from.kind))
				return bad(p, fo_yaml_get(m, "kind") ? fo_yaml_get(m, "kind") : m,
					   "history.startedFrom.kind: \"%s\" is not a kind of state (savepoint, "
					   "checkpoint, initial, empty)",
					   e->started_from.kind ? e->started_from.kind : "");
			if ((rc = get_map(p, x, "stoppedWith", "history.", &m)) < 0)
				return rc;
			if (m && ((rc = known_keys(p, m, "history.stoppedWith", stop, FO_ARRAY_LEN(stop))) < 0 ||
				  (rc = get_str(p, m, "path", "history.stoppedWith.", &e->stopped_with.path)) < 0 ||
				  (rc = get_str(p, m, "time", "history.stoppedWith.", &e->stopped_with.time)) < 0))
				return rc;
		}
	}
	return 0;
}

int flink_status_parse(const char *name, const char *data, size_t len, flink_status **out, fo_err *e)
{
	*out = NULL;
	fo_yaml_limits lim = {0};
	lim.max_bytes = FLINK_STATUS_FILE_MAX;
	lim.max_depth = 8;
	lim.max_nodes = 10000;
	lim.max_alias_nodes = 100;
	lim.max_docs = 1;
	fo_yaml_file *f = NULL;
	fo_diags d = FO_DIAGS_INIT;
	pctx p = {name, e};
	int rc = fo_yaml_load(name, data, len, &lim, &f, &d);
	if (rc < 0) {
		if (d.n) {
			char *m = fo_diag_format(&d.v[0]);
			fo_err_set(e, rc, "%s", m);
			free(m);
		} else {
			fo_err_set(e, rc, "%s: not a valid status file", name);
		}
		fo_diags_free(&d);
		return rc;
	}
	fo_diags_free(&d);
	if (f->ndocs != 1) {
		rc = bad(&p, NULL, "a status file holds exactly one YAML document, this one has %zu", f->ndocs);
		goto cleanup;
	}
	flink_status *s = fo_calloc(1, sizeof(*s));
	rc = parse_doc(&p, f->docs[0], s);
	if (rc < 0) {
		flink_status_free(s);
		goto cleanup;
	}
	*out = s;
cleanup:
	fo_yaml_file_free(f);
	return rc;
}
