/*
 * Comparing a rendered object with its live version. The API server adds
 * defaults and rewrites quantities, so "equal" means: everything flinkops
 * set is there with the same value. See deploy.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "deploy/deploy.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/quantity.h"

static char *value_text(const cJSON *v)
{
	if (!v)
		return fo_strdup("(absent)");
	char *s = fo_json_print(v, false);
	if (strlen(s) > 80) {
		s[77] = s[78] = s[79] = '.';
		s[80] = '\0';
	}
	return s;
}

static void note(char **where, const fo_buf *path, const cJSON *want, const cJSON *have)
{
	if (!where || *where)
		return;
	char *a = value_text(want), *b = value_text(have);
	*where = fo_asprintf("%s: %s != %s", path->len ? path->ptr : "(object)", a, b);
	free(a);
	free(b);
}

static bool empty_container(const cJSON *v)
{
	return (cJSON_IsObject(v) || cJSON_IsArray(v)) && !v->child;
}

/* Under resources.requests or resources.limits: compare amounts. */
static bool in_quantities(const fo_buf *path)
{
	const char *p = fo_buf_cstr(path);
	return strstr(p, "resources.requests.") || strstr(p, "resources.limits.");
}

/* Two numbers, either an exact integer (a raw item, see fo_yaml_to_json)
 * or a double: raw ones by their digits; a raw one and a double (the live
 * object, which cJSON reads into a double) by the double, all that
 * survived of the server's digits. */
static bool number_equal(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsRaw(a) && cJSON_IsRaw(b))
		return strcmp(a->valuestring, b->valuestring) == 0;
	double x = cJSON_IsRaw(a) ? strtod(a->valuestring, NULL) : a->valuedouble;
	double y = cJSON_IsRaw(b) ? strtod(b->valuestring, NULL) : b->valuedouble;
	return x == y;
}

static bool subset(const cJSON *want, const cJSON *have, fo_buf *path, char **where)
{
	if (cJSON_IsNull(want))
		return true;
	if (!have || cJSON_IsNull(have)) {
		if (empty_container(want))
			return true;
		note(where, path, want, have);
		return false;
	}
	if (cJSON_IsObject(want)) {
		if (!cJSON_IsObject(have)) {
			note(where, path, want, have);
			return false;
		}
		size_t mark = path->len;
		for (const cJSON *c = want->child; c; c = c->next) {
			if (path->len)
				fo_buf_putc(path, '.');
			fo_buf_puts(path, c->string);
			bool ok = subset(c, cJSON_GetObjectItemCaseSensitive(have, c->string), path, where);
			path->len = mark;
			path->ptr[mark] = '\0';
			if (!ok)
				return false;
		}
		return true;
	}
	if (cJSON_IsArray(want)) {
		if (!cJSON_IsArray(have) || cJSON_GetArraySize(want) != cJSON_GetArraySize(have)) {
			note(where, path, want, have);
			return false;
		}
		size_t mark = path->len;
		int i = 0;
		for (const cJSON *a = want->child, *b = have->child; a && b; a = a->next, b = b->next, i++) {
			fo_buf_printf(path, "[%d]", i);
			bool ok = subset(a, b, path, where);
			path->len = mark;
			path->ptr[mark] = '\0';
			if (!ok)
				return false;
		}
		return true;
	}
	if (cJSON_IsString(want) && cJSON_IsString(have)) {
		if (strcmp(want->valuestring, have->valuestring) == 0)
			return true;
		long double x, y;
		if (in_quantities(path) && fo_quantity_parse(want->valuestring, &x) && fo_quantity_parse(have->valuestring, &y) &&
		    fabsl(x - y) < 1e-9L)
			return true;
		note(where, path, want, have);
		return false;
	}
	if ((cJSON_IsNumber(want) || cJSON_IsRaw(want)) && (cJSON_IsNumber(have) || cJSON_IsRaw(have))) {
		if (number_equal(want, have))
			return true;
		note(where, path, want, have);
		return false;
	}
	if (cJSON_IsBool(want) && cJSON_IsBool(have) && cJSON_IsTrue(want) == cJSON_IsTrue(have))
		return true;
	note(where, path, want, have);
	return false;
}

bool deploy_subset_equal(const cJSON *want, const cJSON *have, char **where)
{
	fo_buf path = FO_BUF_INIT;
	fo_buf_puts(&path, "");
	if (where)
		*where = NULL;
	bool ok = subset(want, have, &path, where);
	fo_buf_free(&path);
	return ok;
}

static cJSON *stripped(const cJSON *o)
{
	static const char *const meta_fields[] = {"managedFields", "resourceVersion", "generation", "uid",
						  "creationTimestamp", "selfLink"};
	cJSON *c = cJSON_Duplicate(o, true);
	fo_json_remove(c, "status");
	cJSON *m = cJSON_GetObjectItemCaseSensitive(c, "metadata");
	for (size_t i = 0; m && i < FO_ARRAY_LEN(meta_fields); i++)
		fo_json_remove(m, meta_fields[i]);
	return c;
}

bool deploy_same_stored(const cJSON *a, const cJSON *b, char **where)
{
	cJSON *x = stripped(a), *y = stripped(b);
	/* equal both ways round is equality */
	bool same = deploy_subset_equal(x, y, where) && deploy_subset_equal(y, x, where);
	cJSON_Delete(x);
	cJSON_Delete(y);
	return same;
}

/* A whole, non-negative number at o.key, else `def` (an absent count is
 * the server's zero). */
static double count_at(const cJSON *o, const char *key, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e9 ? v->valuedouble : def;
}

bool deploy_statefulset_rolled_out(const cJSON *sts, char **why)
{
	*why = NULL;
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(sts, "metadata");
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(sts, "spec");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(sts, "status");
	const char *name = fo_json_str(md, "name");
	name = name ? name : "?";
	long gen = (long)count_at(md, "generation", 0), seen = (long)count_at(st, "observedGeneration", 0);
	long want = (long)count_at(spec, "replicas", 1), have = (long)count_at(st, "replicas", 0);
	long updated = (long)count_at(st, "updatedReplicas", 0), ready = (long)count_at(st, "readyReplicas", 0);
	if (seen < gen)
		*why = fo_asprintf("%s: the StatefulSet controller has not yet seen generation %ld", name, gen);
	else if (updated < want)
		*why = fo_asprintf("%s: %ld of %ld pods updated", name, updated, want);
	else if (ready < want)
		*why = fo_asprintf("%s: %ld of %ld pods Ready", name, ready, want);
	else if (have > want)
		*why = fo_asprintf("%s: %ld pods, %ld wanted", name, have, want);
	return *why == NULL;
}

/* `s` on one line, cut to `max` bytes (a UTF-8 character kept whole):
 * the kubelet's and scheduler's messages go into a status file. */
static char *one_line(const char *s, size_t max)
{
	size_t n = fo_utf8_cut(s, strlen(s), max);
	char *out = fo_strndup(s, n);
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return out;
}

/* A container state's reason and message as "REASON: MESSAGE" (or REASON). */
static char *state_reason(const cJSON *state)
{
	const char *reason = fo_json_str(state, "reason"), *msg = fo_json_str(state, "message");
	if (!reason)
		return NULL;
	char *r = one_line(reason, 64);
	char *m = msg && *msg ? one_line(msg, DEPLOY_POD_REASON_MAX) : NULL;
	char *out = m ? fo_asprintf("%s: %s", r, m) : fo_strdup(r);
	free(r);
	free(m);
	return out;
}

char *deploy_pod_stuck_reason(const cJSON *pod)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(pod, "metadata");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(pod, "status");
	const char *name = fo_json_str(md, "name");
	if (!cJSON_IsObject(st) || !name)
		return NULL;
	char *pname = one_line(name, 253);
	char *out = NULL;
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(st, "conditions"))
	{
		if (!fo_streq(fo_json_str(c, "type"), "PodScheduled") || !fo_streq(fo_json_str(c, "status"), "False"))
			continue;
		const char *msg = fo_json_str(c, "message");
		char *m = one_line(msg ? msg : (fo_json_str(c, "reason") ? fo_json_str(c, "reason") : "no reason given"),
				   DEPLOY_POD_REASON_MAX);
		out = fo_asprintf("pod %s is not scheduled: %s", pname, m);
		free(m);
		goto done;
	}
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(st, "containerStatuses"))
	{
		const cJSON *waiting = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "state"), "waiting");
		const char *wr = fo_json_str(waiting, "reason");
		/* the ordinary steps of a start say nothing */
		bool stuck = wr && !fo_streq(wr, "ContainerCreating") && !fo_streq(wr, "PodInitializing");
		const cJSON *last = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "lastState"),
								     "terminated");
		long restarts = (long)count_at(c, "restartCount", 0);
		/* or running again, not Ready, after an end that says why (OOMKilled, Error) */
		bool ended = last && restarts > 0;
		if (!stuck && !(ended && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "ready"))))
			continue;
		char *r = stuck ? state_reason(waiting) : NULL;
		char *l = ended ? state_reason(last) : NULL;
		if (stuck && l)
			out = fo_asprintf("pod %s: %s (restarted %ld time%s, last ended: %s)", pname, r, restarts,
					  restarts == 1 ? "" : "s", l);
		else if (stuck)
			out = fo_asprintf("pod %s: %s", pname, r);
		else
			out = fo_asprintf("pod %s restarted %ld time%s, last ended: %s", pname, restarts,
					  restarts == 1 ? "" : "s", l ? l : "no reason given");
		free(r);
		free(l);
		break;
	}
done:
	free(pname);
	return out;
}
