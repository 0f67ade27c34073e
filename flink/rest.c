/*
 * The Flink REST client. See rest.h. Requests go through lib/http (one curl
 * handle, so one kept-alive connection); answers are parsed into the typed
 * structs by the flink_rest_parse_* functions, which know nothing of the
 * network and are what the unit tests exercise. Flink's error bodies are
 * Java stack traces wrapped in JSON; flink_rest_trace_text keeps the lines a
 * person needs (the exception and its distinct causes) and drops the frames.
 */
#include "flink/flink.h"
#include "flink/rest.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "lib/buf.h"
#include "lib/http.h"
#include "lib/log.h"
#include "lib/url.h"

#define DEFAULT_TIMEOUT_MS FLINK_REST_TIMEOUT_MS
#define DEFAULT_CONNECT_TIMEOUT_MS FLINK_REST_CONNECT_TIMEOUT_MS
#define DEFAULT_UPLOAD_TIMEOUT_MS 300000L
#define DEFAULT_RUN_TIMEOUT_MS FLINK_REST_RUN_TIMEOUT_MS
#define UPLOAD_STALL_MS FLINK_REST_UPLOAD_STALL_MS
#define DEFAULT_MAX_BODY (8u << 20)
/* How much of Flink's cause goes into a message. */
#define CAUSE_MAX 1000
/* Lines of a stack trace considered (the rest are frames anyway). */
#define TRACE_LINES_MAX 2000
/* Longest id accepted in a URL path. */
#define ID_MAX 255
/* Items read from a list answer. */
#define LIST_MAX 100000

struct flink_rest {
	fo_http *http;
	char *base;
	char *shown;            /* the base as messages show it (lib/url.h) */
	long timeout_ms;
	long upload_timeout_ms;
	long run_timeout_ms;
	const fo_fence *fence;  /* writes refused while it is not held; NULL: none */
	const atomic_bool *stop;
};

/* ---- small helpers ---- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool is_hex32(const char *s)
{
	if (!s)
		return false;
	size_t n = 0;
	for (; s[n]; n++) {
		char ch = s[n];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
			return false;
	}
	return n == 32;
}

bool flink_rest_valid_job_id(const char *s)
{
	return is_hex32(s);
}

bool flink_rest_valid_jar_id(const char *s)
{
	if (!s || !*s || strlen(s) > ID_MAX || !fo_has_suffix(s, ".jar") || strcmp(s, ".jar") == 0)
		return false;
	if (s[0] == '.')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
			return false;
	return true;
}

/* A copy of `s` cut to `max` bytes with control characters made spaces. */
static char *clean_copy(const char *s, size_t len, size_t max)
{
	fo_buf b = FO_BUF_INIT;
	bool cut = len > max;
	if (cut)
		len = fo_utf8_cut(s, len, max);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		fo_buf_putc(&b, ch < 0x20 || ch == 0x7f ? ' ' : (char)ch);
	}
	if (cut)
		fo_buf_puts(&b, "...");
	return fo_buf_detach(&b);
}

/* The string at `key`, or NULL when missing or not a string. */
static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

static char *jstrdup(const cJSON *o, const char *key)
{
	const char *s = jstr(o, key);
	return s ? fo_strdup(s) : NULL;
}

/* An integral number at `key` that fits int64 exactly; false otherwise. */
static bool jint(const cJSON *o, const char *key, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v))
		return false;
	double d = v->valuedouble;
	if (!isfinite(d) || d != floor(d) || d < -9007199254740992.0 || d > 9007199254740992.0)
		return false;
	*out = (int64_t)d;
	return true;
}

static bool jint_or(const cJSON *o, const char *key, int64_t dflt, int64_t *out)
{
	if (!cJSON_GetObjectItemCaseSensitive(o, key) || cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, key))) {
		*out = dflt;
		return true;
	}
	return jint(o, key, out);
}

/* A count (0 .. INT32_MAX) at `key`. */
static int jcount(const cJSON *o, const char *key, int *out, fo_err *e)
{
	int64_t v;
	if (!jint(o, key, &v) || v < 0 || v > 0x7fffffff)
		return fo_err_set(e, FO_ESERVER, "unexpected answer: \"%s\" is missing or not a count", key);
	*out = (int)v;
	return 0;
}

static int parse_object(const char *body, cJSON **out, fo_err *e)
{
	*out = NULL;
	cJSON *j = body ? cJSON_Parse(body) : NULL;
	if (!j || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		char *start = clean_copy(body ? body : "", body ? strlen(body) : 0, 80);
		int rc = fo_err_set(e, FO_ESERVER, "unexpected answer: not a JSON object: \"%s\"", start);
		free(start);
		return rc;
	}
	*out = j;
	return 0;
}

/* ---- job states ---- */

static const char *const status_names[FLINK_JOB_STATUS_COUNT] = {
	"UNKNOWN",  "INITIALIZING", "CREATED",  "RUNNING",    "FAILING",   "FAILED",
	"CANCELLING", "CANCELED",   "FINISHED", "RESTARTING", "SUSPENDED", "RECONCILING",
};

const char *flink_job_status_name(enum flink_job_status s)
{
	return (unsigned)s < FLINK_JOB_STATUS_COUNT ? status_names[s] : "UNKNOWN";
}

enum flink_job_status flink_job_status_parse(const char *s)
{
	if (!s)
		return FLINK_JOB_UNKNOWN;
	for (int i = 1; i < FLINK_JOB_STATUS_COUNT; i++)
		if (strcmp(s, status_names[i]) == 0)
			return (enum flink_job_status)i;
	return FLINK_JOB_UNKNOWN;
}

bool flink_job_status_is_terminal(enum flink_job_status s)
{
	return s == FLINK_JOB_FAILED || s == FLINK_JOB_CANCELED || s == FLINK_JOB_FINISHED;
}

/* ---- error bodies ---- */

static bool is_frame(const char *line, size_t len)
{
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len - i >= 3 && strncmp(line + i, "at ", 3) == 0 && i > 0)
		return true;
	if (len - i >= 3 && strncmp(line + i, "...", 3) == 0)
		return true;
	return false;
}

/* The message part of "some.Class: message": after the first ": " when what
 * precedes it has no space (looks like a class name); else the whole line. */
static const char *message_part(const char *line)
{
	const char *colon = strstr(line, ": ");
	if (!colon)
		return line;
	for (const char *p = line; p < colon; p++)
		if (*p == ' ')
			return line;
	return colon + 2;
}

static void strv_remove(char **v, size_t *n, size_t i)
{
	free(v[i]);
	memmove(v + i, v + i + 1, (*n - i - 1) * sizeof(*v));
	(*n)--;
}

char *flink_rest_trace_text(const char *trace, size_t max)
{
	if (!trace)
		trace = "";
	if (max < 16)
		max = 16;
	/* the exception line and each unindented "Caused by:" line */
	char **lines = NULL;
	size_t n = 0, cap = 0, seen = 0;
	bool first = true;
	const char *p = trace;
	while (*p && seen < TRACE_LINES_MAX) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		seen++;
		const char *line = p;
		p = nl ? nl + 1 : p + len;
		while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
			len--;
		if (len == 0 || is_frame(line, len))
			continue;
		if (len >= 26 && strncmp(line, "<Exception on server side:", 26) == 0) {
			line += 26;
			len -= 26;
			while (len && *line == ' ') {
				line++;
				len--;
			}
			if (!len)
				continue;
		}
		if (len >= 32 && strncmp(line, "End of exception on server side>", 32) == 0)
			continue;
		bool cause = len > 11 && strncmp(line, "Caused by: ", 11) == 0;
		if (!first && !cause)
			continue; /* the rest of a multi-line message, or Suppressed: ... */
		if (cause) {
			line += 11;
			len -= 11;
		}
		first = false;
		/* each line bounded, so that one huge message cannot crowd out the rest */
		lines = fo_grow(lines, &cap, n + 1, sizeof(*lines));
		lines[n++] = clean_copy(line, len, max);
	}
	/* Drop wrappers: a line that contains the next one ("A: B: msg" before
	 * "B: msg"), or whose message ends with the next one's message ("A: could
	 * not run: failed X" before "B: failed X"). */
	for (size_t i = 0; i + 1 < n;) {
		const char *next = lines[i + 1];
		const char *mi = message_part(lines[i]);
		const char *mn = message_part(next);
		if (strstr(lines[i], next) || strcmp(mi, mn) == 0 || (strlen(mn) > 8 && fo_has_suffix(mi, mn))) {
			strv_remove(lines, &n, i);
			/* the line before may now repeat the new next one */
			if (i > 0)
				i--;
		} else {
			i++;
		}
	}
	fo_buf b = FO_BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (i)
			fo_buf_puts(&b, "; caused by: ");
		fo_buf_puts(&b, lines[i]);
	}
	if (b.len > max && n > 1) {
		/* the outermost and the root cause say most */
		fo_buf_clear(&b);
		fo_buf_printf(&b, "%s; ...; caused by: %s", lines[0], lines[n - 1]);
	}
	if (b.len > max) {
		char *cut = clean_copy(b.ptr, b.len, max);
		fo_buf_free(&b);
		fo_buf_puts(&b, cut);
		free(cut);
	}
	fo_strv_free(lines, n);
	return fo_buf_detach(&b);
}

char *flink_rest_error_text(const char *body, size_t max)
{
	cJSON *j = body ? cJSON_Parse(body) : NULL;
	const cJSON *errs = cJSON_GetObjectItemCaseSensitive(j, "errors");
	const char *pick = NULL;
	if (cJSON_IsArray(errs)) {
		const cJSON *it;
		cJSON_ArrayForEach(it, errs)
		{
			if (!cJSON_IsString(it) || !it->valuestring[0])
				continue;
			/* the last one that is more than the generic first line */
			if (!pick || strcmp(it->valuestring, "Internal server error.") != 0)
				pick = it->valuestring;
		}
	}
	char *out = pick ? flink_rest_trace_text(pick, max) : NULL;
	if (out && !*out) {
		free(out);
		out = NULL;
	}
	cJSON_Delete(j);
	return out;
}

int flink_rest_http_error(const char *what, const char *base, const char *method, const char *path, long status,
			  const char *body, fo_err *e)
{
	int code;
	switch (status) {
	case 400: code = FO_EINVAL; break;
	case 401: code = FO_EAUTH; break;
	case 403: code = FO_EFORBIDDEN; break;
	case 404: code = FO_ENOTFOUND; break;
	case 409: code = FO_ECONFLICT; break;
	default: code = FO_ESERVER; break;
	}
	char *cause = flink_rest_error_text(body, CAUSE_MAX);
	/* a job id that Flink already has is a conflict, whatever the status */
	if (cause && strstr(cause, "DuplicateJobSubmissionException"))
		code = FO_ECONFLICT;
	if (!cause && body && *body) {
		char *start = clean_copy(body, strlen(body), 200);
		cause = fo_asprintf("\"%s\"", start);
		free(start);
	}
	fo_err_set(e, code, "%s on %s: %s (%s %s, HTTP %ld)", what, base, cause ? cause : "no error text", method, path,
		   status);
	free(cause);
	return code;
}

/* ---- parsing ---- */

void flink_cluster_config_free(flink_cluster_config *c)
{
	if (!c)
		return;
	free(c->flink_version);
	free(c->flink_revision);
	memset(c, 0, sizeof(*c));
}

int flink_rest_parse_config(const char *body, flink_cluster_config *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	cJSON *j;
	int rc = parse_object(body, &j, e);
	if (rc < 0)
		return rc;
	const char *v = jstr(j, "flink-version");
	if (!v) {
		rc = fo_err_set(e, FO_ESERVER, "unexpected answer: no \"flink-version\" (is this Flink's REST API?)");
		goto cleanup;
	}
	out->flink_version = fo_strdup(v);
	out->flink_revision = jstrdup(j, "flink-revision");
	int64_t ri;
	out->refresh_interval_ms = jint(j, "refresh-interval", &ri) && ri >= 0 && ri <= 0x7fffffff ? (long)ri : -1;
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "features");
	out->web_submit = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "web-submit"));
	out->web_cancel = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "web-cancel"));
cleanup:
	cJSON_Delete(j);
	if (rc < 0)
		flink_cluster_config_free(out);
	return rc;
}

void flink_overview_free(flink_overview *o)
{
	if (!o)
		return;
	free(o->flink_version);
	memset(o, 0, sizeof(*o));
}

int flink_rest_parse_overview(const char *body, flink_overview *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	cJSON *j;
	int rc = parse_object(body, &j, e);
	if (rc < 0)
		return rc;
	if ((rc = jcount(j, "taskmanagers", &out->taskmanagers, e)) < 0 ||
	    (rc = jcount(j, "slots-total", &out->slots_total, e)) < 0 ||
	    (rc = jcount(j, "slots-available", &out->slots_available, e)) < 0 ||
	    (rc = jcount(j, "jobs-running", &out->jobs_running, e)) < 0)
		goto cleanup;
	/* counts that older versions may lack */
	int64_t v;
	out->jobs_finished = jint(j, "jobs-finished", &v) && v >= 0 && v <= 0x7fffffff ? (int)v : 0;
	out->jobs_cancelled = jint(j, "jobs-cancelled", &v) && v >= 0 && v <= 0x7fffffff ? (int)v : 0;
	out->jobs_failed = jint(j, "jobs-failed", &v) && v >= 0 && v <= 0x7fffffff ? (int)v : 0;
	if (out->slots_available > out->slots_total) {
		rc = fo_err_set(e, FO_ESERVER, "unexpected answer: %d slots available of %d", out->slots_available,
				out->slots_total);
		goto cleanup;
	}
	out->flink_version = jstrdup(j, "flink-version");
cleanup:
	cJSON_Delete(j);
	if (rc < 0)
		flink_overview_free(out);
	return rc;
}

void flink_taskmanagers_free(flink_taskmanagers *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].id);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

int flink_rest_parse_taskmanagers(const char *body, flink_taskmanagers *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	cJSON *j;
	int rc = parse_object(body, &j, e);
	if (rc < 0)
		return rc;
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "taskmanagers");
	if (!cJSON_IsArray(arr)) {
		rc = fo_err_set(e, FO_ESERVER, "unexpected answer: \"taskmanagers\" is missing or not a list");
		goto cleanup;
	}
	int count = cJSON_GetArraySize(arr);
	if (count > LIST_MAX) {
		rc = fo_err_set(e, FO_ETOOBIG, "unexpected answer: %d TaskManagers (more than %d)", count, LIST_MAX);
		goto cleanup;
	}
	out->v = fo_calloc((size_t)count + 1, sizeof(*out->v));
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		const char *id = jstr(it, "id");
		flink_taskmanager *tm = &out->v[out->n];
		if (!id) {
			rc = fo_err_set(e, FO_ESERVER, "unexpected answer: TaskManager %zu has no \"id\"", out->n);
			goto cleanup;
		}
		if ((rc = jcount(it, "slotsNumber", &tm->slots, e)) < 0 ||
		    (rc = jcount(it, "freeSlots", &tm->free_slots, e)) < 0) {
			fo_err_prefix(e, "TaskManager %s", id);
			goto cleanup;
		}
		tm->id = fo_strdup(id);
		out->n++;
	}
cleanup:
	cJSON_Delete(j);
	if (rc < 0)
		flink_taskmanagers_free(out);
	return rc;
}

void flink_job_info_free(flink_job_info *j)
{
	if (!j)
		return;
	free(j->id);
	free(j->name);
	free(j->state_name);
	memset(j, 0, sizeof(*j));
}

/* One job of /jobs/overview ("jid") or /jobs/:id ("jid" as well). */
static int parse_job_object(const cJSON *o, flink_job_info *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(o))
		return fo_err_set(e, FO_ESERVER, "unexpected answer: a job is not an object");
	const char *id = jstr(o, "jid");
	if (!flink_rest_valid_job_id(id))
		return fo_err_set(e, FO_ESERVER, "unexpected answer: a job's \"jid\" is missing or not 32 hex digits");
	const char *state = jstr(o, "state");
	if (!state || !*state || strlen(state) > 64)
		return fo_err_set(e, FO_ESERVER, "unexpected answer: job %s has no \"state\"", id);
	int64_t st, et, du, now;
	if (!jint_or(o, "start-time", -1, &st) || !jint_or(o, "end-time", -1, &et) || !jint_or(o, "duration", -1, &du) ||
	    !jint_or(o, "now", -1, &now))
		return fo_err_set(e, FO_ESERVER, "unexpected answer: job %s: a time is not a whole number", id);
	out->id = fo_strdup(id);
	out->name = jstr(o, "name") ? clean_copy(jstr(o, "name"), strlen(jstr(o, "name")), 512) : NULL;
	out->state = flink_job_status_parse(state);
	out->state_name = clean_copy(state, strlen(state), 64);
	out->start_time = st;
	out->end_time = et;
	out->duration = du;
	out->now = now;
	return 0;
}

int flink_rest_parse_job(const char *body, flink_job_info *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	cJSON *j;
	int rc = parse_object(body, &j, e);
	if (rc < 0)
		return rc;
	rc = parse_job_object(j, out, e);
	cJSON_Delete(j);
	return rc;
}

void flink_job_watermarks_free(flink_job_watermarks *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i].id);
	free(w->v);
	w->v = NULL;
	w->n = 0;
}

void flink_job_list_free(flink_job_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		flink_job_info_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int flink_rest_parse_jobs(const char *body, flink_job_list *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	cJSON *j;
	int rc = parse_object(body, &j, e);
	if (rc < 0)
		return rc;
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "jobs");
	if (!cJSON_IsArray(arr)) {
		rc = fo_err_set(e, FO_ESERVER, "unexpected answer: \"jobs\" is missing or not a list");
		goto cleanup;
	}
	int count = cJSON_GetArraySize(arr);
	if (count > LIST_MAX) {
		rc = fo_err_set(e, FO_ETOOBIG, "unexpected answer: %d jobs (more than %d)", count, LIST_MAX);
		goto cleanup;
	}
	out->v = fo_calloc((size_t)count + 1, sizeof(*out->v));
	const cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		if ((rc = parse_job_object(it, &out->v[out->n], e)) < 0) {
			flink_job_info_free(&out->v[out->n]);
			goto cleanup;
		}
		out->n++;
	}
cleanup:
	cJSON_Delete(j);
	if (rc < 0)
		flink_job_list_free(out);
	return rc;
}

void flink_checkpoint_info_free(flink_checkpoint_info *c)
{
	if (!c)
		return;
	free(c->latest_path);
	free(c->latest_savepoint_path);
	free(c->restored_path);
	free(c->latest_failure);
	memset(c, 0, sizeof(*c));
}

/* A bounded copy of a path-like string field, or NULL. */
static char *jpath(const cJSON *o, const char *key)
{
	const char *s = jstr(o, key);
	if (!s || !*s)
		return NULL;
	return clean_copy(s, strlen(s), 4096);
}

int flink_rest_parse_checkpoint_config(const char *body, int64_t *interval_ms, fo_err *e)
{
	*interval_ms = 0;
	cJSON *j;
	int rc = parse_object(body, &j, e);
	if (rc < 0)
		return rc;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "interval");
	double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (!isfinite(d) || d != floor(d)) {
		cJSON_Delete(j);
		return fo_err_set(e, FO_ESERVER, "unexpected answer: the checkpoint configuration has no \"interval\"");
	}
	/* Long.MAX_VALUE (beyond a double's exact integers) means never */
	*interval_ms = d > 0 && d <= 9007199254740992.0 ? (int64_t)d : 0;
	cJSON_Delete(j);
	return 0;
}

/* A metrics answer, [{"id": NAME, "value": "DECIMAL"}, ...]: the list, or
 * FO_ESERVER naming `what` it should have been. */
static int metric_list(const char *body, const char *what, cJSON **out, fo_err *e)
{
	*out = body ? cJSON_Parse(body) : NULL;
	if (cJSON_IsArray(*out))
		return 0;
	cJSON_Delete(*out);
	*out = NULL;
	char *start = clean_copy(body ? body : "", body ? strlen(body) : 0, 80);
	int rc = fo_err_set(e, FO_ESERVER, "unexpected answer: not a JSON list of %s: \"%s\"", what, start);
	free(start);
	return rc;
}

/* The value of metric `m` (Flink writes numbers as strings), or FO_ESERVER
 * saying it is not `kind`. */
static int metric_value(const cJSON *m, const char *name, const char *kind, long long *n, fo_err *e)
{
	const char *v = jstr(m, "value");
	char *end = NULL;
	errno = 0;
	*n = v ? strtoll(v, &end, 10) : 0;
	if (v && end != v && !*end && !errno)
		return 0;
	char *shown = clean_copy(v ? v : "", v ? strlen(v) : 0, 40);
	int rc = fo_err_set(e, FO_ESERVER, "unexpected answer: %s is \"%s\", not %s", name, shown, kind);
	free(shown);
	return rc;
}

int flink_rest_parse_restarts(const char *body, int64_t *restarts, fo_err *e)
{
	*restarts = -1;
	cJSON *j;
	int rc = metric_list(body, "metrics", &j, e);
	/* [{"id":"numRestarts","value":"3"}]; an empty list: the metric is
	 * not (yet) registered, which says nothing */
	const cJSON *m;
	cJSON_ArrayForEach(m, j)
	{
		if (!fo_streq(jstr(m, "id"), "numRestarts"))
			continue;
		long long n;
		if ((rc = metric_value(m, "numRestarts", "a count", &n, e)) == 0 && n < 0)
			rc = fo_err_set(e, FO_ESERVER, "unexpected answer: numRestarts is \"%lld\", not a count", n);
		if (rc < 0)
			break;
		*restarts = n;
	}
	if (rc < 0)
		*restarts = -1;
	cJSON_Delete(j);
	return rc;
}

int flink_rest_parse_job_vertices(const char *body, flink_job_watermarks *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	cJSON *j = body ? cJSON_Parse(body) : NULL;
	const cJSON *vs = cJSON_GetObjectItemCaseSensitive(j, "vertices");
	int rc = 0;
	if (!cJSON_IsArray(vs)) {
		char *start = clean_copy(body ? body : "", body ? strlen(body) : 0, 80);
		rc = fo_err_set(e, FO_ESERVER, "unexpected answer: a job without a list of vertices: \"%s\"", start);
		free(start);
		goto cleanup;
	}
	int n = cJSON_GetArraySize(vs);
	if (n > FLINK_MAX_VERTICES) {
		rc = fo_err_set(e, FO_ESERVER, "unexpected answer: a job of %d vertices (at most %d are read)", n,
				FLINK_MAX_VERTICES);
		goto cleanup;
	}
	out->v = fo_calloc((size_t)n + 1, sizeof(*out->v));
	const cJSON *v;
	cJSON_ArrayForEach(v, vs)
	{
		const char *id = jstr(v, "id");
		if (!flink_rest_valid_job_id(id)) { /* a JobVertexID is written as a job id is */
			char *shown = clean_copy(id ? id : "", id ? strlen(id) : 0, 40);
			rc = fo_err_set(e, FO_ESERVER, "unexpected answer: a vertex id \"%s\" (not 32 hex digits)", shown);
			free(shown);
			flink_job_watermarks_free(out);
			goto cleanup;
		}
		out->v[out->n].id = fo_strdup(id);
		out->v[out->n++].watermark = FLINK_NO_WATERMARK;
	}
cleanup:
	cJSON_Delete(j);
	return rc;
}

int flink_rest_parse_watermarks(const char *body, int64_t *watermark, fo_err *e)
{
	*watermark = FLINK_NO_WATERMARK;
	cJSON *j;
	int rc = metric_list(body, "watermarks", &j, e);
	/* one entry a subtask; Long.MIN_VALUE is Flink's "no watermark yet",
	 * and one such subtask holds the whole vertex back */
	int64_t low = INT64_MAX;
	bool any = false, none = false;
	const cJSON *m;
	cJSON_ArrayForEach(m, j)
	{
		long long w;
		if ((rc = metric_value(m, "a watermark", "a number", &w, e)) < 0)
			break;
		if (w == INT64_MIN)
			none = true;
		else if (w < low)
			low = w;
		any = true;
	}
	cJSON_Delete(j);
	if (rc == 0 && any && !none)
		*watermark = low;
	return rc;
}

int flink_rest_parse_checkpoints(const char *body, flink_checkpoint_info *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	out->latest_id = -1;
	out->latest_trigger_time = -1;
	cJSON *j;
	int rc = parse_object(body, &j, e);
	if (rc < 0)
		return rc;
	const cJSON *counts = cJSON_GetObjectItemCaseSensitive(j, "counts");
	if (!cJSON_IsObject(counts) || !jint(counts, "completed", &out->completed) || !jint(counts, "failed", &out->failed) ||
	    !jint_or(counts, "in_progress", 0, &out->in_progress) || !jint_or(counts, "restored", 0, &out->restored) ||
	    out->completed < 0 || out->failed < 0) {
		rc = fo_err_set(e, FO_ESERVER, "unexpected answer: \"counts\" is missing or not counts of checkpoints");
		goto cleanup;
	}
	const cJSON *latest = cJSON_GetObjectItemCaseSensitive(j, "latest");
	if (latest && !cJSON_IsNull(latest) && !cJSON_IsObject(latest)) {
		rc = fo_err_set(e, FO_ESERVER, "unexpected answer: \"latest\" is not an object");
		goto cleanup;
	}
	const cJSON *done = cJSON_GetObjectItemCaseSensitive(latest, "completed");
	const cJSON *sp = cJSON_GetObjectItemCaseSensitive(latest, "savepoint");
	const cJSON *restored = cJSON_GetObjectItemCaseSensitive(latest, "restored");
	const cJSON *failed = cJSON_GetObjectItemCaseSensitive(latest, "failed");
	/* the newest of the latest checkpoint and the latest savepoint */
	const cJSON *newest = cJSON_IsObject(done) ? done : NULL;
	int64_t a = -1, b = -1;
	if (cJSON_IsObject(sp) && jint(sp, "id", &b) && (!newest || !jint(newest, "id", &a) || b > a))
		newest = sp;
	if (newest) {
		if (!jint(newest, "id", &out->latest_id)) {
			rc = fo_err_set(e, FO_ESERVER, "unexpected answer: the latest checkpoint has no \"id\"");
			goto cleanup;
		}
		out->latest_path = jpath(newest, "external_path");
		out->latest_is_savepoint = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(newest, "is_savepoint"));
		if (!jint_or(newest, "trigger_timestamp", -1, &out->latest_trigger_time))
			out->latest_trigger_time = -1;
	}
	if (cJSON_IsObject(sp))
		out->latest_savepoint_path = jpath(sp, "external_path");
	if (cJSON_IsObject(restored))
		out->restored_path = jpath(restored, "external_path");
	if (cJSON_IsObject(failed)) {
		const char *m = jstr(failed, "failure_message");
		if (m && *m)
			out->latest_failure = flink_rest_trace_text(m, CAUSE_MAX);
	}
cleanup:
	cJSON_Delete(j);
	if (rc < 0)
		flink_checkpoint_info_free(out);
	return rc;
}

void flink_savepoint_status_free(flink_savepoint_status *s)
{
	if (!s)
		return;
	free(s->location);
	free(s->failure);
	memset(s, 0, sizeof(*s));
}

/*
 * The answer about an asynchronous operation ({"status": {"id"},
 * "operation": {...}}), as Flink sends it for savepoints and disposals: *j
 * the parsed answer (caller deletes), *done false while IN_PROGRESS; once
 * COMPLETED, *op the operation and *failure (caller frees) Flink's cause
 * when it failed, NULL when it succeeded. `what` names it in messages.
 */
static int parse_operation(const char *body, const char *what, cJSON **j, const cJSON **op, bool *done,
			   char **failure, fo_err *e)
{
	*op = NULL;
	*done = false;
	*failure = NULL;
	int rc = parse_object(body, j, e);
	if (rc < 0)
		return rc;
	const char *id = jstr(cJSON_GetObjectItemCaseSensitive(*j, "status"), "id");
	if (!id)
		return fo_err_set(e, FO_ESERVER, "unexpected answer: no \"status\": {\"id\"}");
	if (strcmp(id, "IN_PROGRESS") == 0)
		return 0;
	if (strcmp(id, "COMPLETED") != 0) {
		char *s = clean_copy(id, strlen(id), 64);
		rc = fo_err_set(e, FO_ESERVER, "unexpected answer: %s status \"%s\"", what, s);
		free(s);
		return rc;
	}
	*op = cJSON_GetObjectItemCaseSensitive(*j, "operation");
	if (!cJSON_IsObject(*op))
		return fo_err_set(e, FO_ESERVER, "unexpected answer: a COMPLETED %s without \"operation\"", what);
	*done = true;
	const cJSON *fc = cJSON_GetObjectItemCaseSensitive(*op, "failure-cause");
	if (fc && !cJSON_IsNull(fc)) {
		const char *trace = jstr(fc, "stack-trace");
		const char *cls = jstr(fc, "class");
		if (trace && *trace)
			*failure = flink_rest_trace_text(trace, CAUSE_MAX);
		else if (cls && *cls)
			*failure = clean_copy(cls, strlen(cls), 256);
		else
			*failure = fo_strdup("no cause given");
	}
	return 0;
}

int flink_rest_parse_savepoint_status(const char *body, flink_savepoint_status *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	cJSON *j = NULL;
	const cJSON *op;
	bool done;
	int rc = parse_operation(body, "savepoint", &j, &op, &done, &out->failure, e);
	if (rc < 0 || !done) {
		out->state = FLINK_SAVEPOINT_IN_PROGRESS;
		goto cleanup;
	}
	if (out->failure) {
		out->state = FLINK_SAVEPOINT_FAILED;
		rc = fo_err_set(e, FO_ESERVER, "the savepoint failed: %s", out->failure);
		goto cleanup;
	}
	const char *loc = jstr(op, "location");
	if (!loc || !*loc) {
		rc = fo_err_set(e, FO_ESERVER, "unexpected answer: a COMPLETED savepoint without a location");
		goto cleanup;
	}
	if (strlen(loc) > 4096) {
		rc = fo_err_set(e, FO_ETOOBIG, "unexpected answer: a savepoint location of %zu bytes", strlen(loc));
		goto cleanup;
	}
	out->state = FLINK_SAVEPOINT_COMPLETED;
	out->location = clean_copy(loc, strlen(loc), 4096);
cleanup:
	cJSON_Delete(j);
	if (rc < 0) {
		/* keep the cause for the caller, drop the rest */
		char *failure = out->failure;
		out->failure = NULL;
		enum flink_savepoint_state st = out->state;
		flink_savepoint_status_free(out);
		out->failure = failure;
		out->state = st;
	}
	return rc;
}

int flink_rest_parse_checkpoint_status(const char *body, flink_savepoint_status *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	out->checkpoint_id = -1;
	cJSON *j = NULL;
	const cJSON *op;
	bool done;
	int rc = parse_operation(body, "checkpoint", &j, &op, &done, &out->failure, e);
	if (rc < 0 || !done) {
		out->state = FLINK_SAVEPOINT_IN_PROGRESS;
		goto cleanup;
	}
	if (out->failure) {
		out->state = FLINK_SAVEPOINT_FAILED;
		rc = fo_err_set(e, FO_ESERVER, "the checkpoint failed: %s", out->failure);
		goto cleanup;
	}
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(op, "checkpointId");
	if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble > 9e15 ||
	    id->valuedouble != (double)(int64_t)id->valuedouble) {
		rc = fo_err_set(e, FO_ESERVER, "unexpected answer: a COMPLETED checkpoint without a checkpointId");
		goto cleanup;
	}
	out->state = FLINK_SAVEPOINT_COMPLETED;
	out->checkpoint_id = (int64_t)id->valuedouble;
cleanup:
	cJSON_Delete(j);
	return rc;
}

int flink_rest_parse_checkpoint_history(const char *body, int64_t checkpoint_id, char **path, fo_err *e)
{
	*path = NULL;
	cJSON *j = NULL;
	int rc = parse_object(body, &j, e);
	if (rc < 0)
		return rc;
	const cJSON *history = cJSON_GetObjectItemCaseSensitive(j, "history");
	if (history && !cJSON_IsArray(history)) {
		rc = fo_err_set(e, FO_ESERVER, "unexpected answer: the checkpoint \"history\" is not a list");
		goto cleanup;
	}
	const cJSON *h;
	cJSON_ArrayForEach(h, history)
	{
		int64_t id;
		if (!cJSON_IsObject(h) || !jint(h, "id", &id) || id != checkpoint_id)
			continue;
		const char *p = jstr(h, "external_path");
		if (fo_streq(jstr(h, "status"), "COMPLETED") && p && strcmp(p, "<checkpoint-not-externally-addressable>") != 0)
			*path = jpath(h, "external_path");
		break;
	}
cleanup:
	cJSON_Delete(j);
	return rc;
}

void flink_disposal_status_free(flink_disposal_status *s)
{
	if (!s)
		return;
	free(s->failure);
	memset(s, 0, sizeof(*s));
}

int flink_rest_parse_disposal_status(const char *body, flink_disposal_status *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	cJSON *j = NULL;
	const cJSON *op;
	int rc = parse_operation(body, "disposal", &j, &op, &out->done, &out->failure, e);
	if (rc == 0 && out->failure) {
		/* Flink resolves the path before it deletes anything: a savepoint
		 * that is not there fails with java.io.FileNotFoundException */
		const cJSON *fc = cJSON_GetObjectItemCaseSensitive(op, "failure-cause");
		const char *trace = jstr(fc, "stack-trace"), *cls = jstr(fc, "class");
		out->missing = (trace && strstr(trace, "java.io.FileNotFoundException")) ||
			       fo_streq(cls, "java.io.FileNotFoundException");
		rc = fo_err_set(e, FO_ESERVER, "the disposal failed: %s", out->failure);
	}
	cJSON_Delete(j);
	return rc;
}

static int parse_id_field(const char *body, const char *key, bool hex32, char **out, fo_err *e)
{
	*out = NULL;
	cJSON *j;
	int rc = parse_object(body, &j, e);
	if (rc < 0)
		return rc;
	const char *v = jstr(j, key);
	if (!v || (hex32 && !is_hex32(v)))
		rc = fo_err_set(e, FO_ESERVER, "unexpected answer: \"%s\" is missing or not 32 hex digits", key);
	else
		*out = fo_strdup(v);
	cJSON_Delete(j);
	return rc;
}

int flink_rest_parse_trigger(const char *body, char **trigger_id, fo_err *e)
{
	return parse_id_field(body, "request-id", true, trigger_id, e);
}

int flink_rest_parse_run(const char *body, char **job_id, fo_err *e)
{
	return parse_id_field(body, "jobid", true, job_id, e);
}

int flink_rest_parse_upload(const char *body, char **jar_id, fo_err *e)
{
	*jar_id = NULL;
	cJSON *j;
	int rc = parse_object(body, &j, e);
	if (rc < 0)
		return rc;
	const char *status = jstr(j, "status");
	const char *file = jstr(j, "filename");
	if (!status || strcmp(status, "success") != 0) {
		char *s = status ? clean_copy(status, strlen(status), 64) : NULL;
		rc = fo_err_set(e, FO_ESERVER, "unexpected answer: upload status \"%s\"", s ? s : "(none)");
		free(s);
		goto cleanup;
	}
	const char *slash = file ? strrchr(file, '/') : NULL;
	const char *id = slash ? slash + 1 : file;
	if (!flink_rest_valid_jar_id(id)) {
		rc = fo_err_set(e, FO_ESERVER, "unexpected answer: \"filename\" is missing or does not end in a jar name");
		goto cleanup;
	}
	*jar_id = fo_strdup(id);
cleanup:
	cJSON_Delete(j);
	return rc;
}

int flink_rest_parse_exceptions(const char *body, char **root_cause, fo_err *e)
{
	*root_cause = NULL;
	cJSON *j;
	int rc = parse_object(body, &j, e);
	if (rc < 0)
		return rc;
	/* the newest entry of exceptionHistory (1.13+), else root-exception */
	const cJSON *hist = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "exceptionHistory"),
							     "entries");
	const cJSON *first = cJSON_IsArray(hist) ? cJSON_GetArrayItem(hist, 0) : NULL;
	const char *trace = jstr(first, "stacktrace");
	if (!trace || !*trace)
		trace = jstr(j, "root-exception");
	if (!trace || !*trace) {
		const char *name = jstr(first, "exceptionName");
		if (name && *name)
			*root_cause = clean_copy(name, strlen(name), 256);
		goto cleanup;
	}
	*root_cause = flink_rest_trace_text(trace, CAUSE_MAX);
cleanup:
	cJSON_Delete(j);
	return rc;
}

char *flink_rest_run_body(const flink_run_opts *o)
{
	cJSON *j = cJSON_CreateObject();
	if (o->entry_class)
		cJSON_AddStringToObject(j, "entryClass", o->entry_class);
	if (o->nargs) {
		cJSON *a = cJSON_AddArrayToObject(j, "programArgsList");
		for (size_t i = 0; i < o->nargs; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(o->args[i] ? o->args[i] : ""));
	}
	if (o->parallelism > 0)
		cJSON_AddNumberToObject(j, "parallelism", o->parallelism);
	if (o->savepoint_path)
		cJSON_AddStringToObject(j, "savepointPath", o->savepoint_path);
	cJSON_AddBoolToObject(j, "allowNonRestoredState", o->allow_non_restored_state);
	if (o->job_id)
		cJSON_AddStringToObject(j, "jobId", o->job_id);
	if (o->conf) {
		cJSON *conf = NULL;
		for (size_t i = 0; i < o->conf->n; i++) {
			if (!flink_session_conf_passed(o->conf->v[i].key))
				continue;
			if (!conf)
				conf = cJSON_AddObjectToObject(j, "flinkConfiguration");
			cJSON_AddStringToObject(conf, o->conf->v[i].key, o->conf->v[i].value);
		}
	}
	char *s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!s) {
		fputs("flinkops: out of memory\n", stderr);
		abort();
	}
	char *out = fo_strdup(s);
	cJSON_free(s);
	return out;
}

/* ---- the client ---- */

int flink_rest_new(const char *base_url, const flink_rest_opts *opts, flink_rest **out, fo_err *e)
{
	*out = NULL;
	char *shown = fo_url_redact(base_url);
	int rc = FO_EINVAL;
	const char *host = base_url ? strstr(base_url, "://") : NULL;
	if (!base_url || !(fo_has_prefix(base_url, "http://") || fo_has_prefix(base_url, "https://")))
		fo_err_set(e, rc, "Flink REST URL \"%s\": give http://HOST:PORT or https://HOST:PORT", shown);
	else if (strcspn(host + 3, "/?#") == 0)
		fo_err_set(e, rc, "Flink REST URL \"%s\" has no host", shown);
	else if (fo_url_userinfo(base_url) != FO_URL_NO_USERINFO)
		fo_err_set(e, rc, "Flink REST URL \"%s\": user:password@ in the URL is not supported", shown);
	else if (strpbrk(base_url, "?# \t\r\n"))
		fo_err_set(e, rc, "Flink REST URL \"%s\": no query, fragment or spaces", shown);
	else
		rc = 0;
	free(shown);
	if (rc < 0)
		return rc;
	flink_rest *c = fo_calloc(1, sizeof(*c));
	size_t len = strlen(base_url);
	while (len > 0 && base_url[len - 1] == '/')
		len--;
	c->base = fo_strndup(base_url, len);
	c->shown = fo_url_redact(c->base);
	fo_http_opts ho = {0};
	ho.timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	ho.connect_timeout_ms = opts && opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
	ho.max_response_bytes = opts && opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;
	ho.ca_file = opts ? opts->ca_file : NULL;
	ho.insecure = opts && opts->insecure;
	c->timeout_ms = ho.timeout_ms;
	c->upload_timeout_ms = opts && opts->upload_timeout_ms > 0 ? opts->upload_timeout_ms : DEFAULT_UPLOAD_TIMEOUT_MS;
	c->run_timeout_ms = opts && opts->run_timeout_ms > 0 ? opts->run_timeout_ms : DEFAULT_RUN_TIMEOUT_MS;
	c->fence = opts ? opts->fence : NULL;
	c->stop = opts ? opts->stop : NULL;
	ho.stop = c->stop;
	ho.alive = opts ? opts->alive : NULL;
	rc = fo_http_new(&ho, &c->http, e);
	if (rc < 0) {
		flink_rest_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void flink_rest_free(flink_rest *c)
{
	if (!c)
		return;
	fo_http_free(c->http);
	free(c->base);
	free(c->shown);
	free(c);
}

const char *flink_rest_base(const flink_rest *c)
{
	return c->shown;
}

typedef struct call_args {
	const char *method;
	const char *path;       /* from the base on, starting with '/' */
	const char *json;       /* request body (application/json), or NULL */
	const char *upload;     /* a file to POST as multipart field jarfile */
	long timeout_ms;        /* 0: the client's */
	const char *what;       /* "run jar X": for messages */
} call_args;

/*
 * One request. 2xx: *body (when wanted) gets the answer, 0 returned.
 * Otherwise the error names what was asked, the cluster and Flink's cause.
 */
static int call(flink_rest *c, const call_args *a, char **body, long *status, fo_err *e)
{
	if (body)
		*body = NULL;
	if (c->fence && strcmp(a->method, "GET") != 0) {
		char *what = fo_asprintf("%s on %s (%s %s)", a->what, c->shown, a->method, a->path);
		int rc = fo_fence_check(c->fence, what, e);
		free(what);
		if (rc < 0)
			return rc;
	}
	char *url = fo_asprintf("%s%s", c->base, a->path);
	fo_http_request req = {0};
	req.method = a->method;
	req.url = url;
	req.timeout_ms = a->timeout_ms ? a->timeout_ms : c->timeout_ms;
	if (a->json) {
		req.content_type = "application/json";
		req.body = a->json;
		req.body_len = strlen(a->json);
	}
	if (a->upload) {
		req.multipart_file = a->upload;
		req.multipart_field = "jarfile";
		/* a link that stops taking the jar fails in a minute, not at the
		 * end of the upload's timeout */
		req.stall_timeout_ms = UPLOAD_STALL_MS;
	}
	fo_http_response resp;
	fo_err herr = FO_ERR_INIT;
	int rc = fo_http_do(c->http, &req, &resp, &herr);
	if (status)
		*status = resp.status;
	if (rc < 0) {
		fo_err_set(e, rc, "%s on %s: %s", a->what, c->shown, fo_err_msg(&herr));
	} else if (resp.status < 200 || resp.status > 299) {
		rc = flink_rest_http_error(a->what, c->shown, a->method, a->path, resp.status, fo_buf_cstr(&resp.body), e);
	} else if (body && (rc = fo_http_expect_json(&resp, a->method, url, &herr)) < 0) {
		/* a proxy's page in front of the JobManager, not Flink */
		fo_err_set(e, rc, "%s on %s: %s", a->what, c->shown, fo_err_msg(&herr));
	} else if (body) {
		*body = fo_buf_detach(&resp.body);
	}
	fo_debug("flink", "%s %s%s: %s", a->method, c->shown, a->path, rc == 0 ? "ok" : fo_err_msg(e));
	fo_http_response_free(&resp);
	fo_err_clear(&herr);
	free(url);
	return rc;
}

/* A GET whose answer `parse` turns into `out`. */
static int get_parsed(flink_rest *c, const char *path, const char *what, int (*parse)(const char *, void *, fo_err *),
		      void *out, fo_err *e)
{
	call_args a = {"GET", path, NULL, NULL, 0, what};
	char *body = NULL;
	int rc = call(c, &a, &body, NULL, e);
	if (rc == 0 && (rc = parse(body, out, e)) < 0)
		fo_err_prefix(e, "%s on %s (GET %s)", what, c->shown, path);
	free(body);
	return rc;
}

static int parse_config_v(const char *b, void *o, fo_err *e) { return flink_rest_parse_config(b, o, e); }
static int parse_overview_v(const char *b, void *o, fo_err *e) { return flink_rest_parse_overview(b, o, e); }
static int parse_tms_v(const char *b, void *o, fo_err *e) { return flink_rest_parse_taskmanagers(b, o, e); }
static int parse_jobs_v(const char *b, void *o, fo_err *e) { return flink_rest_parse_jobs(b, o, e); }
static int parse_job_v(const char *b, void *o, fo_err *e) { return flink_rest_parse_job(b, o, e); }
static int parse_cp_v(const char *b, void *o, fo_err *e) { return flink_rest_parse_checkpoints(b, o, e); }
static int parse_exc_v(const char *b, void *o, fo_err *e) { return flink_rest_parse_exceptions(b, o, e); }

static int check_job_id(const char *what, const char *id, fo_err *e)
{
	if (flink_rest_valid_job_id(id))
		return 0;
	char *s = clean_copy(id ? id : "", id ? strlen(id) : 0, 80);
	int rc = fo_err_set(e, FO_EINVAL, "%s: \"%s\" is not a Flink job id (32 hex digits)", what, s);
	free(s);
	return rc;
}

int flink_rest_config(flink_rest *c, flink_cluster_config *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	return get_parsed(c, "/config", "get config", parse_config_v, out, e);
}

int flink_rest_overview(flink_rest *c, flink_overview *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	return get_parsed(c, "/overview", "get overview", parse_overview_v, out, e);
}

int flink_rest_taskmanagers(flink_rest *c, flink_taskmanagers *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	return get_parsed(c, "/taskmanagers", "list TaskManagers", parse_tms_v, out, e);
}

int flink_rest_jobs(flink_rest *c, flink_job_list *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	return get_parsed(c, "/jobs/overview", "list jobs", parse_jobs_v, out, e);
}

/* GET /jobs/JOB_ID + suffix, parsed into `out`: the shape every per-job
 * getter shares. `verb` names the request in errors ("get checkpoints"),
 * followed by " of job JOB_ID" (or " JOB_ID" for the job itself); the job
 * id is checked before it becomes part of a path. */
static int get_job_parsed(flink_rest *c, const char *job_id, const char *suffix, const char *verb,
			  int (*parse)(const char *, void *, fo_err *), void *out, fo_err *e)
{
	int rc = check_job_id(verb, job_id, e);
	if (rc < 0)
		return rc;
	char *path = fo_asprintf("/jobs/%s%s", job_id, suffix);
	char *what = fo_asprintf("%s%s %s", verb, *suffix ? " of job" : "", job_id);
	rc = get_parsed(c, path, what, parse, out, e);
	free(path);
	free(what);
	return rc;
}

int flink_rest_job(flink_rest *c, const char *job_id, flink_job_info *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	return get_job_parsed(c, job_id, "", "get job", parse_job_v, out, e);
}

int flink_rest_checkpoints(flink_rest *c, const char *job_id, flink_checkpoint_info *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	return get_job_parsed(c, job_id, "/checkpoints", "get checkpoints", parse_cp_v, out, e);
}

static int parse_ckconf_v(const char *b, void *o, fo_err *e) { return flink_rest_parse_checkpoint_config(b, o, e); }

int flink_rest_checkpointing(flink_rest *c, const char *job_id, int64_t *interval_ms, fo_err *e)
{
	*interval_ms = 0;
	int rc = get_job_parsed(c, job_id, "/checkpoints/config", "get checkpoint configuration", parse_ckconf_v,
				interval_ms, e);
	if (rc == FO_ENOTFOUND) { /* "Checkpointing is not enabled for this job" */
		fo_err_clear(e);
		rc = 0;
	}
	return rc;
}

static int parse_restarts_v(const char *b, void *o, fo_err *e) { return flink_rest_parse_restarts(b, o, e); }

int flink_rest_job_restarts(flink_rest *c, const char *job_id, int64_t *restarts, fo_err *e)
{
	*restarts = -1;
	return get_job_parsed(c, job_id, "/metrics?get=numRestarts", "get numRestarts", parse_restarts_v, restarts, e);
}

static int parse_vertices_v(const char *b, void *o, fo_err *e) { return flink_rest_parse_job_vertices(b, o, e); }
static int parse_wm_v(const char *b, void *o, fo_err *e) { return flink_rest_parse_watermarks(b, o, e); }

int flink_rest_job_watermarks(flink_rest *c, const char *job_id, flink_job_watermarks *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	int rc = get_job_parsed(c, job_id, "", "get vertices", parse_vertices_v, out, e);
	for (size_t i = 0; rc == 0 && i < out->n; i++) {
		char *suffix = fo_asprintf("/vertices/%s/watermarks", out->v[i].id);
		rc = get_job_parsed(c, job_id, suffix, "get watermarks", parse_wm_v, &out->v[i].watermark, e);
		free(suffix);
	}
	if (rc < 0)
		flink_job_watermarks_free(out);
	return rc;
}

int flink_rest_exceptions(flink_rest *c, const char *job_id, char **root_cause, fo_err *e)
{
	*root_cause = NULL;
	return get_job_parsed(c, job_id, "/exceptions", "get exceptions", parse_exc_v, root_cause, e);
}

int flink_rest_jar_upload(flink_rest *c, const char *path, char **jar_id, fo_err *e)
{
	*jar_id = NULL;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (!flink_rest_valid_jar_id(base))
		return fo_err_set(e, FO_EINVAL, "upload %s: Flink accepts only files whose name ends in .jar", path);
	char *what = fo_asprintf("upload jar %s", base);
	call_args a = {"POST", "/jars/upload", NULL, path, c->upload_timeout_ms, what};
	char *body = NULL;
	int rc = call(c, &a, &body, NULL, e);
	if (rc == 0 && (rc = flink_rest_parse_upload(body, jar_id, e)) < 0)
		fo_err_prefix(e, "%s on %s", what, c->shown);
	free(body);
	free(what);
	return rc;
}

static int check_jar_id(const char *what, const char *id, fo_err *e)
{
	if (flink_rest_valid_jar_id(id))
		return 0;
	char *s = clean_copy(id ? id : "", id ? strlen(id) : 0, 80);
	int rc = fo_err_set(e, FO_EINVAL, "%s: \"%s\" is not a jar id (a file name ending in .jar)", what, s);
	free(s);
	return rc;
}

int flink_rest_jar_run(flink_rest *c, const char *jar_id, const flink_run_opts *o, char **job_id, fo_err *e)
{
	*job_id = NULL;
	int rc = check_jar_id("run jar", jar_id, e);
	if (rc < 0)
		return rc;
	if (o->job_id && !flink_rest_valid_job_id(o->job_id))
		return check_job_id("run jar", o->job_id, e);
	if (o->parallelism < 0)
		return fo_err_set(e, FO_EINVAL, "run jar %s: parallelism %d", jar_id, o->parallelism);
	char *esc = fo_http_escape(jar_id);
	char *path = fo_asprintf("/jars/%s/run", esc);
	char *what = fo_asprintf("run jar %s", jar_id);
	char *json = flink_rest_run_body(o);
	call_args a = {"POST", path, json, NULL, c->run_timeout_ms, what};
	char *body = NULL;
	rc = call(c, &a, &body, NULL, e);
	if (rc == 0 && (rc = flink_rest_parse_run(body, job_id, e)) < 0)
		fo_err_prefix(e, "%s on %s", what, c->shown);
	if (rc == 0 && o->job_id && strcasecmp(*job_id, o->job_id) != 0) {
		rc = fo_err_set(e, FO_ESERVER, "%s on %s: asked for job id %s, Flink started %s", what, c->shown, o->job_id,
				*job_id);
		free(*job_id);
		*job_id = NULL;
	}
	free(body);
	free(json);
	free(what);
	free(path);
	free(esc);
	return rc;
}

int flink_rest_jar_delete(flink_rest *c, const char *jar_id, fo_err *e)
{
	int rc = check_jar_id("delete jar", jar_id, e);
	if (rc < 0)
		return rc;
	char *esc = fo_http_escape(jar_id);
	char *path = fo_asprintf("/jars/%s", esc);
	char *what = fo_asprintf("delete jar %s", jar_id);
	call_args a = {"DELETE", path, NULL, NULL, 0, what};
	rc = call(c, &a, NULL, NULL, e);
	free(what);
	free(path);
	free(esc);
	return rc;
}

static int post_trigger(flink_rest *c, const char *job_id, const char *verb, const char *suffix, cJSON *body_json,
			char **trigger_id, fo_err *e)
{
	char *path = fo_asprintf("/jobs/%s/%s", job_id, suffix);
	char *what = fo_asprintf("%s job %s", verb, job_id);
	char *json = cJSON_PrintUnformatted(body_json);
	call_args a = {"POST", path, json, NULL, 0, what};
	char *body = NULL;
	int rc = call(c, &a, &body, NULL, e);
	if (rc == 0 && (rc = flink_rest_parse_trigger(body, trigger_id, e)) < 0)
		fo_err_prefix(e, "%s on %s", what, c->shown);
	free(body);
	cJSON_free(json);
	free(what);
	free(path);
	return rc;
}

int flink_rest_job_stop(flink_rest *c, const char *job_id, const char *target_dir, const char *want_trigger,
			char **trigger_id, fo_err *e)
{
	*trigger_id = NULL;
	int rc = check_job_id("stop job", job_id, e);
	if (rc < 0)
		return rc;
	if (want_trigger && !is_hex32(want_trigger))
		return fo_err_set(e, FO_EINVAL, "stop job %s: the trigger id is not 32 hex digits", job_id);
	cJSON *j = cJSON_CreateObject();
	if (target_dir)
		cJSON_AddStringToObject(j, "targetDirectory", target_dir);
	cJSON_AddBoolToObject(j, "drain", false);
	if (want_trigger)
		cJSON_AddStringToObject(j, "triggerId", want_trigger);
	rc = post_trigger(c, job_id, "stop with a savepoint", "stop", j, trigger_id, e);
	cJSON_Delete(j);
	return rc;
}

int flink_rest_parse_jar_list(const char *body, const char *jar_id, bool *exists, fo_err *e)
{
	*exists = false;
	cJSON *o = cJSON_Parse(body ? body : "");
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(o, "files");
	if (!cJSON_IsObject(o) || (files && !cJSON_IsArray(files))) {
		cJSON_Delete(o);
		return fo_err_set(e, FO_ESERVER, "the jar list is not a JSON object with a \"files\" list");
	}
	for (const cJSON *f = files ? files->child : NULL; f && !*exists; f = f->next)
		*exists = fo_streq(jstr(f, "id"), jar_id);
	cJSON_Delete(o);
	return 0;
}

int flink_rest_jar_exists(flink_rest *c, const char *jar_id, bool *exists, fo_err *e)
{
	*exists = false;
	call_args a = {"GET", "/jars", NULL, NULL, 0, "list jars"};
	char *body = NULL;
	int rc = call(c, &a, &body, NULL, e);
	if (rc == 0 && (rc = flink_rest_parse_jar_list(body, jar_id, exists, e)) < 0)
		fo_err_prefix(e, "list jars on %s", c->base);
	free(body);
	return rc;
}

int flink_rest_savepoint_trigger(flink_rest *c, const char *job_id, const char *target_dir, const char *format_type,
				 const char *want_trigger, char **trigger_id, fo_err *e)
{
	*trigger_id = NULL;
	int rc = check_job_id("trigger a savepoint", job_id, e);
	if (rc < 0)
		return rc;
	if (want_trigger && !is_hex32(want_trigger))
		return fo_err_set(e, FO_EINVAL, "savepoint of job %s: the trigger id is not 32 hex digits", job_id);
	cJSON *j = cJSON_CreateObject();
	if (target_dir)
		cJSON_AddStringToObject(j, "target-directory", target_dir);
	cJSON_AddBoolToObject(j, "cancel-job", false);
	if (format_type)
		cJSON_AddStringToObject(j, "formatType", format_type);
	if (want_trigger)
		cJSON_AddStringToObject(j, "triggerId", want_trigger); /* the same id again is the same savepoint */
	rc = post_trigger(c, job_id, "trigger a savepoint of", "savepoints", j, trigger_id, e);
	cJSON_Delete(j);
	return rc;
}

/* GET /jobs/:id/NOUNs/:triggerid (NOUN: savepoint or checkpoint), the
 * answer read by `parse`. */
static int snapshot_status(flink_rest *c, const char *noun, const char *job_id, const char *trigger_id,
			   int (*parse)(const char *, flink_savepoint_status *, fo_err *), flink_savepoint_status *out,
			   fo_err *e)
{
	memset(out, 0, sizeof(*out));
	char *what = fo_asprintf("%s status", noun);
	int rc = check_job_id(what, job_id, e);
	free(what);
	if (rc < 0)
		return rc;
	if (!is_hex32(trigger_id))
		return fo_err_set(e, FO_EINVAL, "%s status of job %s: the trigger id is not 32 hex digits", noun, job_id);
	char *path = fo_asprintf("/jobs/%s/%ss/%s", job_id, noun, trigger_id);
	what = fo_asprintf("%s %s of job %s", noun, trigger_id, job_id);
	call_args a = {"GET", path, NULL, NULL, 0, what};
	char *body = NULL;
	rc = call(c, &a, &body, NULL, e);
	if (rc == 0 && (rc = parse(body, out, e)) < 0)
		fo_err_prefix(e, "%s on %s", what, c->shown);
	free(body);
	free(what);
	free(path);
	return rc;
}

int flink_rest_savepoint_status(flink_rest *c, const char *job_id, const char *trigger_id,
				flink_savepoint_status *out, fo_err *e)
{
	return snapshot_status(c, "savepoint", job_id, trigger_id, flink_rest_parse_savepoint_status, out, e);
}

int flink_rest_checkpoint_trigger(flink_rest *c, const char *job_id, const char *type, const char *want_trigger,
				  char **trigger_id, fo_err *e)
{
	*trigger_id = NULL;
	int rc = check_job_id("trigger a checkpoint", job_id, e);
	if (rc < 0)
		return rc;
	if (want_trigger && !is_hex32(want_trigger))
		return fo_err_set(e, FO_EINVAL, "checkpoint of job %s: the trigger id is not 32 hex digits", job_id);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "checkpointType", type ? type : "FULL");
	if (want_trigger)
		cJSON_AddStringToObject(j, "triggerId", want_trigger); /* the same id again is the same checkpoint */
	rc = post_trigger(c, job_id, "trigger a checkpoint of", "checkpoints", j, trigger_id, e);
	cJSON_Delete(j);
	return rc;
}

int flink_rest_checkpoint_status(flink_rest *c, const char *job_id, const char *trigger_id,
				 flink_savepoint_status *out, fo_err *e)
{
	return snapshot_status(c, "checkpoint", job_id, trigger_id, flink_rest_parse_checkpoint_status, out, e);
}

int flink_rest_checkpoint_path(flink_rest *c, const char *job_id, int64_t checkpoint_id, char **path, fo_err *e)
{
	*path = NULL;
	int rc = check_job_id("checkpoint history", job_id, e);
	if (rc < 0)
		return rc;
	char *url = fo_asprintf("/jobs/%s/checkpoints", job_id);
	char *what = fo_asprintf("the checkpoints of job %s", job_id);
	call_args a = {"GET", url, NULL, NULL, 0, what};
	char *body = NULL;
	rc = call(c, &a, &body, NULL, e);
	if (rc == 0 && (rc = flink_rest_parse_checkpoint_history(body, checkpoint_id, path, e)) < 0)
		fo_err_prefix(e, "%s on %s", what, c->shown);
	free(body);
	free(what);
	free(url);
	return rc;
}

int flink_rest_savepoint_dispose(flink_rest *c, const char *path, char **trigger_id, fo_err *e)
{
	*trigger_id = NULL;
	if (!path || !*path || strlen(path) > 4096 || fo_has_ctl(path))
		return fo_err_set(e, FO_EINVAL, "dispose of a savepoint: the path is empty, too long or holds control characters");
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "savepoint-path", path);
	char *json = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	char *what = fo_asprintf("dispose of savepoint %s", path);
	call_args a = {"POST", "/savepoint-disposal", json, NULL, 0, what};
	char *body = NULL;
	int rc = call(c, &a, &body, NULL, e);
	if (rc == 0 && (rc = flink_rest_parse_trigger(body, trigger_id, e)) < 0)
		fo_err_prefix(e, "%s on %s (POST /savepoint-disposal)", what, c->shown);
	free(body);
	free(what);
	cJSON_free(json);
	return rc;
}

int flink_rest_savepoint_disposal_status(flink_rest *c, const char *trigger_id, flink_disposal_status *out,
					 fo_err *e)
{
	memset(out, 0, sizeof(*out));
	if (!is_hex32(trigger_id))
		return fo_err_set(e, FO_EINVAL, "savepoint disposal status: the trigger id is not 32 hex digits");
	char *path = fo_asprintf("/savepoint-disposal/%s", trigger_id);
	char *what = fo_asprintf("savepoint disposal %s", trigger_id);
	call_args a = {"GET", path, NULL, NULL, 0, what};
	char *body = NULL;
	int rc = call(c, &a, &body, NULL, e);
	if (rc == 0 && (rc = flink_rest_parse_disposal_status(body, out, e)) < 0)
		fo_err_prefix(e, "%s on %s (GET %s)", what, c->shown, path);
	free(body);
	free(what);
	free(path);
	return rc;
}

int flink_rest_savepoint_wait(flink_rest *c, const char *job_id, const char *trigger_id, long timeout_ms,
			      char **location, fo_err *e)
{
	*location = NULL;
	int64_t start = now_ms();
	int64_t deadline = start + (timeout_ms > 0 ? timeout_ms : 0);
	long delay = 50;
	fo_err last = FO_ERR_INIT;
	int rc;
	for (;;) {
		flink_savepoint_status st;
		fo_err_clear(&last);
		rc = flink_rest_savepoint_status(c, job_id, trigger_id, &st, &last);
		if (rc == 0 && st.state == FLINK_SAVEPOINT_COMPLETED) {
			*location = st.location;
			st.location = NULL;
			flink_savepoint_status_free(&st);
			fo_debug("flink", "savepoint %s of job %s completed in %lld ms: %s", trigger_id, job_id,
				 (long long)(now_ms() - start), *location);
			break;
		}
		flink_savepoint_status_free(&st);
		/* no answer: the JobManager may be busy; keep asking until the deadline */
		if (rc < 0 && rc != FO_ENET && rc != FO_ETIMEOUT) {
			fo_err_set(e, rc, "%s", fo_err_msg(&last));
			break;
		}
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			rc = fo_err_set(e, FO_ETIMEOUT, "savepoint %s of job %s on %s: not completed within %ld ms%s%s",
					trigger_id, job_id, c->shown, timeout_ms, rc < 0 ? "; last poll: " : "",
					rc < 0 ? fo_err_msg(&last) : "");
			break;
		}
		if (fo_pause_ms(delay < left ? delay : (long)left, c->stop)) {
			rc = fo_err_set(e, FO_ETIMEOUT, "savepoint %s of job %s on %s: no longer waited for (stopping)",
					trigger_id, job_id, c->shown);
			break;
		}
		delay = delay * 2 > 1000 ? 1000 : delay * 2;
	}
	fo_err_clear(&last);
	return rc;
}

int flink_rest_job_cancel(flink_rest *c, const char *job_id, fo_err *e)
{
	int rc = check_job_id("cancel job", job_id, e);
	if (rc < 0)
		return rc;
	char *path = fo_asprintf("/jobs/%s?mode=cancel", job_id);
	char *what = fo_asprintf("cancel job %s", job_id);
	call_args a = {"PATCH", path, NULL, NULL, 0, what};
	rc = call(c, &a, NULL, NULL, e);
	free(what);
	free(path);
	return rc;
}

/* The job's state from /jobs/overview, which Flink does not cache. */
static int job_state_now(flink_rest *c, const char *job_id, enum flink_job_status *state, char **name, fo_err *e)
{
	flink_job_list l;
	*name = NULL;
	int rc = flink_rest_jobs(c, &l, e);
	if (rc < 0)
		return rc;
	rc = FO_ENOTFOUND;
	for (size_t i = 0; i < l.n; i++) {
		if (strcasecmp(l.v[i].id, job_id) == 0) {
			*state = l.v[i].state;
			*name = fo_strdup(l.v[i].state_name);
			rc = 0;
			break;
		}
	}
	flink_job_list_free(&l);
	if (rc < 0)
		fo_err_set(e, rc, "job %s is not known to %s", job_id, c->shown);
	return rc;
}

int flink_rest_job_state(flink_rest *c, const char *job_id, enum flink_job_status *state, fo_err *e)
{
	*state = FLINK_JOB_UNKNOWN;
	int rc = check_job_id("get job state", job_id, e);
	if (rc < 0)
		return rc;
	char *name = NULL;
	rc = job_state_now(c, job_id, state, &name, e);
	free(name);
	return rc;
}

int flink_rest_job_wait(flink_rest *c, const char *job_id, unsigned want, long timeout_ms,
			enum flink_job_status *state, fo_err *e)
{
	int rc = check_job_id("wait for job", job_id, e);
	if (rc < 0)
		return rc;
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	long delay = 50;
	enum flink_job_status st = FLINK_JOB_UNKNOWN;
	char *name = NULL;
	fo_err last = FO_ERR_INIT;
	for (;;) {
		free(name);
		name = NULL;
		fo_err_clear(&last);
		rc = job_state_now(c, job_id, &st, &name, &last);
		if (rc == 0 && (want & FLINK_JOB_MASK(st)))
			break;
		if (rc < 0 && rc != FO_ENET && rc != FO_ETIMEOUT) {
			fo_err_set(e, rc, "%s", fo_err_msg(&last));
			break;
		}
		if (rc == 0 && flink_job_status_is_terminal(st)) {
			char *cause = NULL;
			fo_err ee = FO_ERR_INIT;
			if (st == FLINK_JOB_FAILED)
				flink_rest_exceptions(c, job_id, &cause, &ee);
			rc = fo_err_set(e, FO_ESERVER, "job %s on %s is %s%s%s", job_id, c->shown, name,
					cause ? ": " : "", cause ? cause : "");
			free(cause);
			fo_err_clear(&ee);
			break;
		}
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			rc = fo_err_set(e, FO_ETIMEOUT, "job %s on %s: still %s after %ld ms%s%s", job_id, c->shown,
					name ? name : "unknown", timeout_ms, rc < 0 ? "; last poll: " : "",
					rc < 0 ? fo_err_msg(&last) : "");
			break;
		}
		if (fo_pause_ms(delay < left ? delay : (long)left, c->stop)) {
			rc = fo_err_set(e, FO_ETIMEOUT, "job %s on %s: still %s, no longer waited for (stopping)", job_id,
					c->shown, name ? name : "unknown");
			break;
		}
		delay = delay * 2 > 500 ? 500 : delay * 2;
	}
	if (state)
		*state = st;
	free(name);
	fo_err_clear(&last);
	return rc;
}
