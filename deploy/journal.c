/*
 * The rollout journal record and its encoding. See journal.h.
 */
#include "deploy/journal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"

static const char *const step_names[DEPLOY_NSTEPS] = {"idle",    "stopping",  "cancelling", "savepoint-taken",
							"applied", "uploaded",  "submitted",  "failed"};

const char *deploy_step_name(enum deploy_step s)
{
	return (unsigned)s < FO_ARRAY_LEN(step_names) ? step_names[s] : "unknown";
}

void deploy_journal_set(char **field, const char *value)
{
	char *v = value ? fo_strdup(value) : NULL;
	free(*field);
	*field = v;
}

/* The string fields in one table, for encoding, decoding and copying alike. */
#define STRING_FIELDS(X)                             \
	X("targetCommit", target_commit)             \
	X("targetJobHash", target_job_hash)          \
	X("targetHash", target_hash)                 \
	X("startHash", start_hash)                   \
	X("jobId", job_id)                           \
	X("triggerId", trigger_id)                   \
	X("triggerTime", trigger_time)               \
	X("upgradeStarted", upgrade_started)         \
	X("restorePath", restore_path)               \
	X("restoreKind", restore_kind)               \
	X("restoreTime", restore_time)               \
	X("startedFrom", started_from)               \
	X("startedFromKind", started_from_kind)      \
	X("startedFromTime", started_from_time)      \
	X("awaitCheckpointSince", await_checkpoint_since) \
	X("requestTriggerId", request_trigger_id)    \
	X("requestTime", request_time)               \
	X("requestReason", request_reason)           \
	X("requestNonce", request_nonce)             \
	X("handledNonce", handled_nonce)             \
	X("savepointError", savepoint_error)         \
	X("handledRedeployNonce", handled_redeploy_nonce) \
	X("runningSince", running_since)             \
	X("savepointPath", savepoint_path)           \
	X("savepointTime", savepoint_time)           \
	X("savepointReason", savepoint_reason)       \
	X("jarId", jar_id)                           \
	X("submitJobId", submit_job_id)              \
	X("failedJobHash", failed_job_hash)          \
	X("failedHash", failed_hash)                 \
	X("previousCommit", previous_commit)         \
	X("previousJobHash", previous_job_hash)      \
	X("previousTarget", previous_target)         \
	X("rollbackOfHash", rollback_of_hash)        \
	X("rollbackOfTarget", rollback_of_target)    \
	X("rollbackOfCommit", rollback_of_commit)    \
	X("rollbackToCommit", rollback_to_commit)    \
	X("rollbackCause", rollback_cause)           \
	X("lastError", last_error)                   \
	X("updated", updated)

static void savepoint_rec_free(deploy_savepoint_rec *r)
{
	free(r->path);
	free(r->time);
	free(r->reason);
}

static void disposal_free(deploy_disposal *d)
{
	free(d->path);
	free(d->trigger_id);
	free(d->time);
	free(d->last_error);
}

void deploy_journal_clear(deploy_journal *j)
{
#define FREE(key, f) free(j->f);
	STRING_FIELDS(FREE)
#undef FREE
	free(j->resource_version);
	for (size_t i = 0; i < j->ntaken; i++)
		savepoint_rec_free(&j->taken[i]);
	free(j->taken);
	for (size_t i = 0; i < j->ndisposals; i++)
		disposal_free(&j->disposals[i]);
	free(j->disposals);
	memset(j, 0, sizeof(*j));
}

static char *dup_or_null(const char *s)
{
	return s ? fo_strdup(s) : NULL;
}

/* Copy the retention lists of src into dst, whose lists are empty. */
static void copy_lists(deploy_journal *dst, const deploy_journal *src)
{
	if (src->ntaken) {
		dst->taken = fo_calloc(src->ntaken, sizeof(*dst->taken));
		for (size_t i = 0; i < src->ntaken; i++) {
			dst->taken[i].path = dup_or_null(src->taken[i].path);
			dst->taken[i].time = dup_or_null(src->taken[i].time);
			dst->taken[i].reason = dup_or_null(src->taken[i].reason);
		}
		dst->ntaken = src->ntaken;
	}
	if (src->ndisposals) {
		dst->disposals = fo_calloc(src->ndisposals, sizeof(*dst->disposals));
		for (size_t i = 0; i < src->ndisposals; i++) {
			const deploy_disposal *d = &src->disposals[i];
			dst->disposals[i].path = dup_or_null(d->path);
			dst->disposals[i].trigger_id = dup_or_null(d->trigger_id);
			dst->disposals[i].time = dup_or_null(d->time);
			dst->disposals[i].last_error = dup_or_null(d->last_error);
			dst->disposals[i].attempts = d->attempts;
		}
		dst->ndisposals = src->ndisposals;
	}
}

void deploy_journal_add_taken(deploy_journal *j, const char *path, const char *time, const char *reason,
			      char **dropped)
{
	*dropped = NULL;
	if (!path)
		return;
	for (size_t i = 0; i < j->ntaken; i++)
		if (fo_streq(j->taken[i].path, path))
			return;
	if (j->ntaken >= DEPLOY_JOURNAL_TAKEN_MAX) {
		*dropped = fo_strdup(j->taken[0].path);
		deploy_journal_remove_taken(j, 0);
	}
	j->taken = fo_realloc(j->taken, (j->ntaken + 1) * sizeof(*j->taken));
	deploy_savepoint_rec *r = &j->taken[j->ntaken++];
	r->path = fo_strdup(path);
	r->time = dup_or_null(time);
	r->reason = dup_or_null(reason);
}

void deploy_journal_remove_taken(deploy_journal *j, size_t i)
{
	if (i >= j->ntaken)
		return;
	savepoint_rec_free(&j->taken[i]);
	memmove(&j->taken[i], &j->taken[i + 1], (j->ntaken - i - 1) * sizeof(*j->taken));
	j->ntaken--;
}

void deploy_journal_remove_disposal(deploy_journal *j, size_t i)
{
	if (i >= j->ndisposals)
		return;
	disposal_free(&j->disposals[i]);
	memmove(&j->disposals[i], &j->disposals[i + 1], (j->ndisposals - i - 1) * sizeof(*j->disposals));
	j->ndisposals--;
}

void deploy_journal_copy(deploy_journal *dst, const deploy_journal *src)
{
	deploy_journal_clear(dst);
	dst->step = src->step;
	dst->restarts = src->restarts;
	dst->attempt = src->attempt;
	dst->state_unknown = src->state_unknown;
	deploy_journal_set(&dst->resource_version, src->resource_version);
#define COPY(key, f) deploy_journal_set(&dst->f, src->f);
	STRING_FIELDS(COPY)
#undef COPY
	copy_lists(dst, src);
}

static void add_str(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
}

/* The retention lists, only when they hold something: a journal without
 * them encodes as before they existed. */
static void encode_lists(cJSON *o, const deploy_journal *j)
{
	if (j->ntaken) {
		cJSON *a = cJSON_AddArrayToObject(o, "savepointsTaken");
		for (size_t i = 0; i < j->ntaken; i++) {
			cJSON *r = cJSON_CreateObject();
			add_str(r, "path", j->taken[i].path);
			add_str(r, "time", j->taken[i].time);
			add_str(r, "reason", j->taken[i].reason);
			cJSON_AddItemToArray(a, r);
		}
	}
	if (j->ndisposals) {
		cJSON *a = cJSON_AddArrayToObject(o, "savepointDisposals");
		for (size_t i = 0; i < j->ndisposals; i++) {
			const deploy_disposal *d = &j->disposals[i];
			cJSON *r = cJSON_CreateObject();
			add_str(r, "path", d->path);
			add_str(r, "triggerId", d->trigger_id);
			add_str(r, "time", d->time);
			add_str(r, "lastError", d->last_error);
			cJSON_AddNumberToObject(r, "attempts", d->attempts);
			cJSON_AddItemToArray(a, r);
		}
	}
}

/* A string of a list entry, cut as the journal's other strings are. */
static char *list_str(const cJSON *o, const char *key)
{
	const char *s = fo_json_str(o, key);
	return s ? fo_strndup(s, fo_utf8_cut(s, strlen(s), 4096)) : NULL;
}

/*
 * The list `key` of the journal object: absent is empty; anything but an
 * array of objects each with a non-empty "path", or more than `max`
 * entries, is an error. *arr gets the array (NULL when absent).
 */
static int list_of(const cJSON *o, const char *key, size_t max, const cJSON **arr, fo_err *e)
{
	*arr = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!*arr)
		return 0;
	if (!cJSON_IsArray(*arr))
		return fo_err_set(e, FO_EINVAL, "the journal's \"%s\" is not a list", key);
	size_t n = (size_t)cJSON_GetArraySize(*arr);
	if (n > max)
		return fo_err_set(e, FO_EINVAL, "the journal's \"%s\" holds %zu entries, more than the %zu flinkops keeps",
				  key, n, max);
	const cJSON *it;
	cJSON_ArrayForEach(it, *arr)
	{
		const char *path = fo_json_str(it, "path");
		if (!cJSON_IsObject(it) || !path || !*path)
			return fo_err_set(e, FO_EINVAL, "an entry of the journal's \"%s\" has no \"path\"", key);
	}
	return 0;
}

static int decode_lists(const cJSON *o, deploy_journal *out, fo_err *e)
{
	const cJSON *taken, *disp, *it;
	int rc = list_of(o, "savepointsTaken", DEPLOY_JOURNAL_TAKEN_MAX, &taken, e);
	if (rc == 0)
		rc = list_of(o, "savepointDisposals", DEPLOY_JOURNAL_DISPOSALS_MAX, &disp, e);
	if (rc < 0)
		return rc;
	size_t nt = taken ? (size_t)cJSON_GetArraySize(taken) : 0;
	size_t nd = disp ? (size_t)cJSON_GetArraySize(disp) : 0;
	if (nt) {
		out->taken = fo_calloc(nt, sizeof(*out->taken));
		cJSON_ArrayForEach(it, taken)
		{
			deploy_savepoint_rec *r = &out->taken[out->ntaken++];
			r->path = list_str(it, "path");
			r->time = list_str(it, "time");
			r->reason = list_str(it, "reason");
		}
	}
	if (nd) {
		out->disposals = fo_calloc(nd, sizeof(*out->disposals));
		cJSON_ArrayForEach(it, disp)
		{
			deploy_disposal *d = &out->disposals[out->ndisposals++];
			d->path = list_str(it, "path");
			d->trigger_id = list_str(it, "triggerId");
			d->time = list_str(it, "time");
			d->last_error = list_str(it, "lastError");
			const cJSON *a = cJSON_GetObjectItemCaseSensitive(it, "attempts");
			d->attempts = cJSON_IsNumber(a) && a->valueint >= 0 ? a->valueint : 0;
		}
	}
	return 0;
}

char *deploy_journal_encode(const deploy_journal *j)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "version", DEPLOY_JOURNAL_VERSION);
	cJSON_AddStringToObject(o, "step", deploy_step_name(j->step));
#define ENC(key, f) \
	if (j->f)   \
		cJSON_AddStringToObject(o, key, j->f);
	STRING_FIELDS(ENC)
#undef ENC
	cJSON_AddNumberToObject(o, "restarts", j->restarts);
	cJSON_AddNumberToObject(o, "attempt", j->attempt);
	if (j->state_unknown)
		cJSON_AddBoolToObject(o, "stateUnknown", true);
	encode_lists(o, j);
	fo_buf b = FO_BUF_INIT;
	fo_json_canonical(&b, o);
	cJSON_Delete(o);
	return fo_buf_detach(&b);
}

int deploy_journal_decode(const char *text, deploy_journal *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	cJSON *o = cJSON_Parse(text ? text : "");
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return fo_err_set(e, FO_EINVAL, "the journal is not a JSON object");
	}
	int rc = 0;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "version");
	/* the range first: converting a double out of int's range is undefined */
	double vd = cJSON_IsNumber(v) ? v->valuedouble : 0;
	if (!cJSON_IsNumber(v) || !(vd >= 1 && vd <= 1e6) || vd != floor(vd)) {
		rc = fo_err_set(e, FO_EINVAL, "the journal has no valid \"version\"");
		goto cleanup;
	}
	int version = (int)vd;
	if (version > DEPLOY_JOURNAL_VERSION) {
		rc = fo_err_set(e, FO_EUNSUPPORTED,
				"the journal is of format %d, newer than this flinkops reads (%d); run the newer flinkops",
				version, DEPLOY_JOURNAL_VERSION);
		goto cleanup;
	}
	const char *step = fo_json_str(o, "step");
	bool known = false;
	for (size_t i = 0; step && i < FO_ARRAY_LEN(step_names); i++)
		if (strcmp(step, step_names[i]) == 0) {
			out->step = (enum deploy_step)i;
			known = true;
		}
	if (!known) {
		rc = fo_err_set(e, FO_EINVAL, "the journal's step \"%s\" is unknown", step ? step : "");
		goto cleanup;
	}
#define DEC(key, f)                                         \
	{                                                   \
		const char *s = fo_json_str(o, key);        \
		if (s)                                      \
			out->f = fo_strndup(s, fo_utf8_cut(s, strlen(s), 4096)); \
	}
	STRING_FIELDS(DEC)
#undef DEC
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "restarts");
	out->restarts = cJSON_IsNumber(r) && r->valueint >= 0 ? r->valueint : 0;
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "attempt");
	out->attempt = cJSON_IsNumber(a) && a->valueint >= 0 ? a->valueint : 0;
	out->state_unknown = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "stateUnknown"));
	if ((rc = decode_lists(o, out, e)) < 0)
		goto cleanup;
	/* format 1 kept the state to start from in savepointPath only */
	if (version == 1 && out->step >= DEPLOY_STEP_SAVEPOINT_TAKEN && out->step != DEPLOY_STEP_FAILED &&
	    !out->restore_path && out->savepoint_path)
		out->restore_path = fo_strdup(out->savepoint_path);
cleanup:
	cJSON_Delete(o);
	if (rc < 0)
		deploy_journal_clear(out);
	return rc;
}

char *deploy_submit_job_id(const char *ns, const char *name, const char *job_hash, int attempt)
{
	char *seed = fo_asprintf("%s/%s/%s/%d", ns, name, job_hash ? job_hash : "", attempt);
	char *h = fo_sha256_hex(seed, strlen(seed));
	h[32] = '\0';
	free(seed);
	return h;
}

int64_t deploy_time_ms(const char *rfc3339)
{
	if (!rfc3339)
		return -1;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -1;
	int64_t frac_ms = 0;
	if (*end == '.') {
		/* the first three digits are the milliseconds; more are finer */
		int64_t scale = 100;
		for (end++; *end >= '0' && *end <= '9'; end++, scale /= 10)
			frac_ms += scale > 0 ? (*end - '0') * scale : 0;
	}
	if (strcmp(end, "Z") != 0)
		return -1;
	return (int64_t)timegm(&tm) * 1000 + frac_ms;
}
