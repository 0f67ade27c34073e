/*
 * The rollout journal record and its encoding. See journal.h.
 */
#include "deploy/journal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deploy/deploy.h"
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
	X("agent", agent)                            \
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
	X("checkpointTriggerId", checkpoint_trigger_id) \
	X("checkpointRequestTime", checkpoint_request_time) \
	X("checkpointReason", checkpoint_reason)     \
	X("checkpointNonce", checkpoint_nonce)       \
	X("handledCheckpointNonce", handled_checkpoint_nonce) \
	X("checkpointPath", checkpoint_path)         \
	X("checkpointTime", checkpoint_time)         \
	X("checkpointError", checkpoint_error)       \
	X("upgradeMode", upgrade_mode)               \
	X("savepointDir", savepoint_dir)             \
	X("sessionCluster", session_cluster)         \
	X("runningSince", running_since)             \
	X("savepointPath", savepoint_path)           \
	X("savepointTime", savepoint_time)           \
	X("savepointReason", savepoint_reason)       \
	X("jarId", jar_id)                           \
	X("submitJobId", submit_job_id)              \
	X("appliedJobId", applied_job_id)            \
	X("appliedFrom", applied_from)               \
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
	free(j->uid);
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
	dst->target_restarts = src->target_restarts;
	dst->attempt = src->attempt;
	dst->state_unknown = src->state_unknown;
	deploy_journal_set(&dst->resource_version, src->resource_version);
	deploy_journal_set(&dst->uid, src->uid);
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

/* The messages: free text no decision depends on, cut to the bound when
 * written and when read (an older flinkops wrote them uncut). */
static bool is_message(const char *key)
{
	return strcmp(key, "lastError") == 0 || strcmp(key, "savepointError") == 0 || strcmp(key, "rollbackCause") == 0 ||
	       strcmp(key, "checkpointError") == 0;
}

/* A message, cut at a character boundary to what the decoder takes. */
static void add_message(cJSON *o, const char *key, const char *v)
{
	if (!v)
		return;
	char *cut = fo_strndup(v, fo_utf8_cut(v, strlen(v), DEPLOY_JOURNAL_STRING_MAX));
	cJSON_AddStringToObject(o, key, cut);
	free(cut);
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
			add_message(r, "lastError", d->last_error);
			cJSON_AddNumberToObject(r, "attempts", d->attempts);
			cJSON_AddItemToArray(a, r);
		}
	}
}

const char *deploy_json_kind(const cJSON *v)
{
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "true" : "false";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsArray(v))
		return "a list";
	return "an object";
}

/*
 * The keys of object `o` (`where` names it in messages, "" for the journal
 * itself): each must be one of `known`, and none may appear twice (cJSON
 * keeps both, and which one counts would be a guess).
 */
int deploy_json_check_keys(const cJSON *o, const char *where, const char *const *known, size_t nknown,
			   const char *format, fo_err *e)
{
	for (const cJSON *c = o->child; c; c = c->next) {
		bool ok = false;
		for (size_t i = 0; i < nknown && !ok; i++)
			ok = strcmp(c->string, known[i]) == 0;
		if (!ok)
			return fo_err_set(e, FO_EINVAL,
					  "%s%s: not a key of %s (a newer flinkops may have written it: run that one)", where,
					  c->string, format);
		for (const cJSON *d = o->child; d != c; d = d->next)
			if (strcmp(d->string, c->string) == 0)
				return fo_err_set(e, FO_EINVAL, "%s%s: the key appears twice", where, c->string);
	}
	return 0;
}

/* String `key` of `o` into *out (absent: NULL): a string of at most the
 * bound, or a message, which is cut to it. */
int deploy_json_get_string(const cJSON *o, const char *where, const char *key, bool message, char **out, fo_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v)
		return 0;
	if (!cJSON_IsString(v))
		return fo_err_set(e, FO_EINVAL, "%s%s: %s where a string belongs", where, key, deploy_json_kind(v));
	size_t n = strlen(v->valuestring);
	if (n > DEPLOY_JOURNAL_STRING_MAX && !message)
		return fo_err_set(e, FO_EINVAL, "%s%s: %zu bytes, more than the %d a journal string may hold", where, key,
				  n, DEPLOY_JOURNAL_STRING_MAX);
	*out = fo_strndup(v->valuestring, fo_utf8_cut(v->valuestring, n, DEPLOY_JOURNAL_STRING_MAX));
	return 0;
}

/* Counter `key` of `o` into *out (absent: 0): a whole number from 0 to the
 * bound. The range is checked before the conversion, which would be
 * undefined for a double out of int's range. */
int deploy_json_version(const cJSON *o, const char *what, int newest, int *version, fo_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "version");
	/* the range first: converting a double out of int's range is undefined */
	double vd = cJSON_IsNumber(v) ? v->valuedouble : 0;
	if (!cJSON_IsNumber(v) || !(vd >= 1 && vd <= 1e6) || vd != floor(vd))
		return fo_err_set(e, FO_EINVAL, "%s has no valid \"version\"", what);
	*version = (int)vd;
	if (*version > newest)
		return fo_err_set(e, FO_EUNSUPPORTED,
				  "%s is of format %d, newer than this flinkops reads (%d); run the newer flinkops", what,
				  *version, newest);
	return 0;
}

int deploy_json_get_counter(const cJSON *o, const char *where, const char *key, int *out, fo_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	*out = 0;
	if (!v)
		return 0;
	if (!cJSON_IsNumber(v))
		return fo_err_set(e, FO_EINVAL, "%s%s: %s where a whole number belongs", where, key, deploy_json_kind(v));
	double d = v->valuedouble;
	if (!(d >= 0 && d <= DEPLOY_JOURNAL_COUNTER_MAX) || d != floor(d))
		return fo_err_set(e, FO_EINVAL, "%s%s: %.15g is not a whole number from 0 to %d", where, key, d,
				  DEPLOY_JOURNAL_COUNTER_MAX);
	*out = (int)d;
	return 0;
}

/* The journal's own spellings of the helpers above. */
static const char *json_kind(const cJSON *v)
{
	return deploy_json_kind(v);
}

static int check_keys(const cJSON *o, const char *where, const char *const *known, size_t nknown, fo_err *e)
{
	char format[32];
	snprintf(format, sizeof(format), "journal format %d", DEPLOY_JOURNAL_VERSION);
	return deploy_json_check_keys(o, where, known, nknown, format, e);
}

static int get_string(const cJSON *o, const char *where, const char *key, char **out, fo_err *e)
{
	return deploy_json_get_string(o, where, key, is_message(key), out, e);
}

static int get_counter(const cJSON *o, const char *where, const char *key, int *out, fo_err *e)
{
	return deploy_json_get_counter(o, where, key, out, e);
}

static const char *const taken_keys[] = {"path", "time", "reason"};
static const char *const disposal_keys[] = {"path", "triggerId", "time", "lastError", "attempts"};

/*
 * The list `key` of the journal object: absent is empty; anything but an
 * array of at most `max` objects, each with a non-empty "path" and only the
 * keys of its kind, is an error. *arr gets the array (NULL when absent).
 */
static int list_of(const cJSON *o, const char *key, size_t max, const char *const *keys, size_t nkeys,
		   const cJSON **arr, fo_err *e)
{
	*arr = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!*arr)
		return 0;
	if (!cJSON_IsArray(*arr))
		return fo_err_set(e, FO_EINVAL, "%s: %s where a list belongs", key, json_kind(*arr));
	size_t n = (size_t)cJSON_GetArraySize(*arr);
	if (n > max)
		return fo_err_set(e, FO_EINVAL, "%s: %zu entries, more than the %zu flinkops keeps", key, n, max);
	const cJSON *it;
	size_t i = 0;
	int rc = 0;
	cJSON_ArrayForEach(it, *arr)
	{
		char *where = fo_asprintf("%s[%zu]", key, i++);
		const cJSON *path = cJSON_GetObjectItemCaseSensitive(it, "path");
		if (!cJSON_IsObject(it))
			rc = fo_err_set(e, FO_EINVAL, "%s: %s where an entry (an object) belongs", where, json_kind(it));
		else if (!path || (cJSON_IsString(path) && !*path->valuestring))
			rc = fo_err_set(e, FO_EINVAL, "%s: the entry has no \"path\"", where);
		else {
			char *dot = fo_asprintf("%s.", where);
			rc = check_keys(it, dot, keys, nkeys, e);
			free(dot);
		}
		free(where);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int decode_lists(const cJSON *o, deploy_journal *out, fo_err *e)
{
	const cJSON *taken, *disp, *it;
	int rc = list_of(o, "savepointsTaken", DEPLOY_JOURNAL_TAKEN_MAX, taken_keys, FO_ARRAY_LEN(taken_keys), &taken, e);
	if (rc == 0)
		rc = list_of(o, "savepointDisposals", DEPLOY_JOURNAL_DISPOSALS_MAX, disposal_keys,
			     FO_ARRAY_LEN(disposal_keys), &disp, e);
	if (rc < 0)
		return rc;
	size_t nt = taken ? (size_t)cJSON_GetArraySize(taken) : 0;
	size_t nd = disp ? (size_t)cJSON_GetArraySize(disp) : 0;
	if (nt) {
		out->taken = fo_calloc(nt, sizeof(*out->taken));
		cJSON_ArrayForEach(it, taken)
		{
			char *where = fo_asprintf("savepointsTaken[%zu].", out->ntaken);
			deploy_savepoint_rec *r = &out->taken[out->ntaken++];
			if (rc == 0)
				rc = get_string(it, where, "path", &r->path, e);
			if (rc == 0)
				rc = get_string(it, where, "time", &r->time, e);
			if (rc == 0)
				rc = get_string(it, where, "reason", &r->reason, e);
			free(where);
		}
	}
	if (nd && rc == 0) {
		out->disposals = fo_calloc(nd, sizeof(*out->disposals));
		cJSON_ArrayForEach(it, disp)
		{
			char *where = fo_asprintf("savepointDisposals[%zu].", out->ndisposals);
			deploy_disposal *d = &out->disposals[out->ndisposals++];
			if (rc == 0)
				rc = get_string(it, where, "path", &d->path, e);
			if (rc == 0)
				rc = get_string(it, where, "triggerId", &d->trigger_id, e);
			if (rc == 0)
				rc = get_string(it, where, "time", &d->time, e);
			if (rc == 0)
				rc = get_string(it, where, "lastError", &d->last_error, e);
			if (rc == 0)
				rc = get_counter(it, where, "attempts", &d->attempts, e);
			free(where);
		}
	}
	return rc;
}

char *deploy_journal_encode(const deploy_journal *j)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "version", j->applied_job_id || j->applied_from ? DEPLOY_JOURNAL_VERSION
										     : DEPLOY_JOURNAL_VERSION_SESSION);
	cJSON_AddStringToObject(o, "step", deploy_step_name(j->step));
#define ENC(key, f)              \
	if (is_message(key))     \
		add_message(o, key, j->f); \
	else                     \
		add_str(o, key, j->f);
	STRING_FIELDS(ENC)
#undef ENC
	cJSON_AddNumberToObject(o, "restarts", j->restarts);
	if (j->target_restarts) /* left out at 0: a journal without it encodes as before */
		cJSON_AddNumberToObject(o, "targetRestarts", j->target_restarts);
	cJSON_AddNumberToObject(o, "attempt", j->attempt);
	if (j->state_unknown)
		cJSON_AddBoolToObject(o, "stateUnknown", true);
	encode_lists(o, j);
	fo_buf b = FO_BUF_INIT;
	fo_json_canonical(&b, o);
	cJSON_Delete(o);
	return fo_buf_detach(&b);
}

/* Every key a journal may hold. */
#define KEY_NAME(key, f) key,
static const char *const journal_keys[] = {STRING_FIELDS(KEY_NAME) "version", "step", "restarts", "targetRestarts", "attempt",
					   "stateUnknown", "savepointsTaken", "savepointDisposals"};
#undef KEY_NAME

int deploy_journal_decode(const char *text, deploy_journal *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	/* the whole text: a second value after the object is not a journal */
	cJSON *o = cJSON_ParseWithOpts(text ? text : "", NULL, true);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return fo_err_set(e, FO_EINVAL, "the journal is not a JSON object");
	}
	int rc = 0;
	int version = 0;
	if ((rc = deploy_json_version(o, "the journal", DEPLOY_JOURNAL_VERSION, &version, e)) < 0)
		goto cleanup;
	/* a key this flinkops does not know would be lost when it rewrites
	 * the journal, and what it meant with it */
	if ((rc = check_keys(o, "", journal_keys, FO_ARRAY_LEN(journal_keys), e)) < 0)
		goto cleanup;
	const cJSON *sv = cJSON_GetObjectItemCaseSensitive(o, "step");
	if (sv && !cJSON_IsString(sv)) {
		rc = fo_err_set(e, FO_EINVAL, "step: %s where a string belongs", json_kind(sv));
		goto cleanup;
	}
	const char *step = sv ? sv->valuestring : NULL;
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
#define DEC(key, f)                                          \
	if (rc == 0)                                         \
		rc = get_string(o, "", key, &out->f, e);
	STRING_FIELDS(DEC)
#undef DEC
	if (rc == 0)
		rc = get_counter(o, "", "restarts", &out->restarts, e);
	if (rc == 0)
		rc = get_counter(o, "", "targetRestarts", &out->target_restarts, e);
	if (rc == 0)
		rc = get_counter(o, "", "attempt", &out->attempt, e);
	const cJSON *su = cJSON_GetObjectItemCaseSensitive(o, "stateUnknown");
	if (rc == 0 && su && !cJSON_IsBool(su))
		rc = fo_err_set(e, FO_EINVAL, "stateUnknown: %s where true or false belongs", json_kind(su));
	out->state_unknown = cJSON_IsTrue(su);
	if (rc == 0)
		rc = decode_lists(o, out, e);
	if (rc < 0)
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

void deploy_journal_count(int *counter)
{
	if (*counter <= DEPLOY_JOURNAL_COUNTER_MAX)
		(*counter)++;
}

/* What to do about a deployment another agent (`owner`, NULL: none) owns:
 * set agent.name back, or hand the deployment over by relabelling its
 * objects and its journal in one go (the old agent then no longer lists
 * them, and leaves the deployment alone). Caller frees. */
static char *handover_hint(const char *agent, const char *owner, const char *ns, const char *name)
{
	char *cmd = fo_asprintf("kubectl -n %s label configmap,service,statefulset -l '%s=%s,%s in (%s,%s)' %s=%s "
				"--overwrite",
				ns, RENDER_LABEL_INSTANCE, name, RENDER_LABEL_MANAGED_BY, RENDER_MANAGED_BY,
				DEPLOY_JOURNAL_LABEL_VALUE, DEPLOY_LABEL_AGENT, agent);
	char *hint;
	if (owner)
		hint = fo_asprintf("If agent.name was changed by mistake, set it back to \"%s\". To hand the deployment "
				   "over to \"%s\", relabel its objects and journal: %s (then take it out of agent "
				   "\"%s\"'s repository, if that is another one)",
				   owner, agent, cmd, owner);
	else
		hint = fo_asprintf("If the deployment is this agent's, label its objects and journal: %s", cmd);
	free(cmd);
	return hint;
}

bool deploy_object_ours(const char *agent, const cJSON *obj, char **why)
{
	*why = NULL;
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(meta, "labels");
	const char *owner = fo_json_str(labels, DEPLOY_LABEL_AGENT);
	if (owner && strcmp(owner, agent) == 0)
		return true;
	const char *kind = fo_json_str(obj, "kind"), *ns = fo_json_str(meta, "namespace"),
		   *name = fo_json_str(meta, "name"), *inst = fo_json_str(labels, RENDER_LABEL_INSTANCE);
	char *hint = handover_hint(agent, owner && *owner ? owner : NULL, ns ? ns : "", inst ? inst : "NAME");
	if (owner && *owner)
		*why = fo_asprintf("%s %s/%s belongs to agent \"%s\" (its label %s), not to this agent \"%s\": "
				   "nothing of this deployment is applied, and its job is left alone. %s",
				   kind ? kind : "the object", ns ? ns : "", name ? name : "", owner, DEPLOY_LABEL_AGENT,
				   agent, hint);
	else
		*why = fo_asprintf("%s %s/%s exists and is no flinkops agent's (no %s label): nothing of this "
				   "deployment is applied, and its job is left alone. %s",
				   kind ? kind : "the object", ns ? ns : "", name ? name : "", DEPLOY_LABEL_AGENT, hint);
	free(hint);
	return false;
}

enum deploy_journal_verdict deploy_journal_judge(const char *agent, const char *ns, const char *name,
						 const deploy_journal_cm *cm, deploy_journal *j, char **why)
{
	memset(j, 0, sizeof(*j));
	*why = NULL;
	switch (cm->seen) {
	case DEPLOY_JOURNAL_UNREAD:
		return DEPLOY_JOURNAL_GET; /* a listing by label can miss it: never taken as absent */
	case DEPLOY_JOURNAL_NONE:
		return DEPLOY_JOURNAL_CREATE;
	default:
		break;
	}
	const char *label = cm->label && *cm->label ? cm->label : NULL;
	/* another agent's label: its content is that agent's business */
	if (label && strcmp(label, agent) != 0)
		goto foreign;
	fo_err e = FO_ERR_INIT;
	if (deploy_journal_decode(cm->text, j, &e) < 0) {
		*why = fo_asprintf("the journal ConfigMap %s/%s%s does not decode: %s; its job is left alone. "
				   "Restore the ConfigMap, or delete it once the job's newest state is known",
				   ns, DEPLOY_JOURNAL_PREFIX, name, fo_err_msg(&e));
		fo_err_clear(&e);
		return DEPLOY_JOURNAL_BAD;
	}
	/* the label decides; without one, the agent the journal records */
	if (label || (j->agent && strcmp(j->agent, agent) == 0))
		return DEPLOY_JOURNAL_USE;
	label = j->agent;
foreign:;
	const char *how = cm->label && *cm->label ? "its label " DEPLOY_LABEL_AGENT : "its \"agent\" field";
	char *hint = handover_hint(agent, label, ns, name);
	if (label)
		*why = fo_asprintf("the journal ConfigMap %s/%s%s belongs to agent \"%s\" (%s), not to this agent "
				   "\"%s\": nothing of this deployment is applied, and its job is left alone. %s",
				   ns, DEPLOY_JOURNAL_PREFIX, name, label, how, agent, hint);
	else
		*why = fo_asprintf("the journal ConfigMap %s/%s%s names no agent (no %s label, no \"agent\" field): "
				   "nothing of this deployment is applied, and its job is left alone. %s",
				   ns, DEPLOY_JOURNAL_PREFIX, name, DEPLOY_LABEL_AGENT, hint);
	free(hint);
	deploy_journal_clear(j);
	return DEPLOY_JOURNAL_FOREIGN;
}

char *deploy_submit_job_id(const char *ns, const char *name, const char *job_hash, int attempt, const char *uid)
{
	char *seed = uid ? fo_asprintf("%s/%s/%s/%d/%s", ns, name, job_hash ? job_hash : "", attempt, uid)
			 : fo_asprintf("%s/%s/%s/%d", ns, name, job_hash ? job_hash : "", attempt);
	char *h = fo_sha256_hex(seed, strlen(seed));
	h[32] = '\0';
	free(seed);
	return h;
}

/* `s` seconds since the epoch as RFC 3339 in UTC, with `frac_ms` (-1: none) */
static void time_text(time_t s, long frac_ms, char out[40])
{
	struct tm tm;
	gmtime_r(&s, &tm);
	size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac_ms >= 0)
		snprintf(out + n, 40 - n, ".%03ldZ", frac_ms);
	else
		snprintf(out + n, 40 - n, "Z");
}

int64_t deploy_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void deploy_time_now(char out[40], bool ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	time_text(ts.tv_sec, ms ? ts.tv_nsec / 1000000L : -1, out);
}

void deploy_time_text(int64_t ms, char out[40])
{
	time_text((time_t)(ms / 1000), (long)(ms % 1000), out);
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
