/*
 * Leader election's pure part (see leader.h): the Lease record, its JSON,
 * its time format, and the decision client-go's LeaderElector makes on each
 * try. No clock is read here: every time comes in through the view, so each
 * row of the decision table in tests/unit/test_leader.c is one call.
 */
#include "agent/leader.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"
#include "lib/util.h"

void agent_lease_clear(agent_lease *l)
{
	free(l->holder);
	free(l->acquire_time);
	free(l->renew_time);
	free(l->resource_version);
	free(l->sync_requested);
	memset(l, 0, sizeof(*l));
}

static char *dup_or_null(const char *s)
{
	return s ? fo_strdup(s) : NULL;
}

void agent_lease_copy(agent_lease *dst, const agent_lease *src)
{
	agent_lease_clear(dst);
	dst->holder = fo_strdup(src->holder ? src->holder : "");
	dst->duration_s = src->duration_s;
	dst->acquire_time = dup_or_null(src->acquire_time);
	dst->renew_time = dup_or_null(src->renew_time);
	dst->transitions = src->transitions;
	dst->resource_version = dup_or_null(src->resource_version);
	dst->sync_requested = dup_or_null(src->sync_requested);
}

bool agent_lease_same(const agent_lease *a, const agent_lease *b)
{
	return fo_streq(a->holder, b->holder) && a->duration_s == b->duration_s &&
	       fo_streq(a->acquire_time, b->acquire_time) && fo_streq(a->renew_time, b->renew_time) &&
	       a->transitions == b->transitions;
}

static const char *str_item(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t int_item(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15 ? (int64_t)v->valuedouble : 0;
}

int agent_lease_parse(const cJSON *obj, agent_lease *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
	const char *kind = str_item(obj, "kind");
	if (!cJSON_IsObject(meta) || (kind && strcmp(kind, "Lease") != 0) || (spec && !cJSON_IsObject(spec)))
		return fo_err_set(e, FO_ESERVER, "the API server's answer is not a Lease");
	const char *holder = str_item(spec, "holderIdentity");
	out->holder = fo_strdup(holder ? holder : "");
	out->duration_s = int_item(spec, "leaseDurationSeconds");
	out->acquire_time = dup_or_null(str_item(spec, "acquireTime"));
	out->renew_time = dup_or_null(str_item(spec, "renewTime"));
	out->transitions = int_item(spec, "leaseTransitions");
	out->resource_version = dup_or_null(str_item(meta, "resourceVersion"));
	out->sync_requested = dup_or_null(str_item(cJSON_GetObjectItemCaseSensitive(meta, "annotations"),
						   AGENT_SYNC_ANNOTATION));
	return 0;
}

/* o[key], an object: made (or made anew over a value that is not one). */
static cJSON *object_item(cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (cJSON_IsObject(v))
		return v;
	fo_json_remove(o, key);
	return cJSON_AddObjectToObject(o, key);
}

/* o[key] = value, replacing any. */
static void set_string(cJSON *o, const char *key, const char *value)
{
	fo_json_remove(o, key);
	cJSON_AddStringToObject(o, key, value);
}

cJSON *agent_lease_object(const char *ns, const char *name, const agent_lease *rec, const cJSON *base)
{
	cJSON *o = base ? cJSON_Duplicate(base, true) : cJSON_CreateObject();
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = cJSON_CreateObject();
	}
	set_string(o, "apiVersion", "coordination.k8s.io/v1");
	set_string(o, "kind", "Lease");
	cJSON *meta = object_item(o, "metadata");
	set_string(meta, "name", name);
	set_string(meta, "namespace", ns);
	fo_json_remove(meta, "resourceVersion");
	if (rec->resource_version)
		cJSON_AddStringToObject(meta, "resourceVersion", rec->resource_version);
	set_string(object_item(meta, "labels"), "app.kubernetes.io/managed-by", "flinkops");
	fo_json_remove(o, "spec");
	cJSON *spec = cJSON_AddObjectToObject(o, "spec");
	/* a released Lease has no holder: the field is left out, as client-go does */
	if (rec->holder && rec->holder[0])
		cJSON_AddStringToObject(spec, "holderIdentity", rec->holder);
	cJSON_AddNumberToObject(spec, "leaseDurationSeconds", (double)rec->duration_s);
	if (rec->acquire_time)
		cJSON_AddStringToObject(spec, "acquireTime", rec->acquire_time);
	if (rec->renew_time)
		cJSON_AddStringToObject(spec, "renewTime", rec->renew_time);
	cJSON_AddNumberToObject(spec, "leaseTransitions", (double)rec->transitions);
	return o;
}

cJSON *agent_lease_annotate(const cJSON *base, const char *key, const char *value)
{
	cJSON *o = cJSON_Duplicate(base, true);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = cJSON_CreateObject();
	}
	set_string(object_item(object_item(o, "metadata"), "annotations"), key, value);
	return o;
}

char *agent_lease_time(int64_t unix_us)
{
	time_t secs = (time_t)(unix_us / 1000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	return fo_asprintf("%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			   tm.tm_min, tm.tm_sec, (long)(unix_us % 1000000));
}

const char *agent_lease_action_name(enum agent_lease_action a)
{
	switch (a) {
	case AGENT_LEASE_CREATE: return "create";
	case AGENT_LEASE_TAKEOVER: return "take over";
	case AGENT_LEASE_RENEW: return "renew";
	case AGENT_LEASE_STANDBY: return "stand by";
	case AGENT_LEASE_LOST: return "lost";
	}
	return "?";
}

/* The record we write when holding: ours, our duration, renewed now. */
static void holding(const agent_lease_view *v, agent_lease *w)
{
	w->holder = fo_strdup(v->me);
	w->duration_s = (v->lease_duration_ms + 999) / 1000;
	w->renew_time = fo_strdup(v->wall_now);
	w->resource_version = v->observed ? dup_or_null(v->observed->resource_version) : NULL;
}

void agent_lease_decide(const agent_lease_view *v, agent_lease_decision *d)
{
	memset(d, 0, sizeof(*d));
	const agent_lease *o = v->observed;
	if (v->leading && v->now - v->renewed_at >= v->renew_deadline_ms) {
		d->action = AGENT_LEASE_LOST;
		d->why = "not renewed within the renew deadline";
		return;
	}
	if (!o) {
		d->action = AGENT_LEASE_CREATE;
		d->why = "there is no Lease";
		holding(v, &d->write);
		d->write.acquire_time = fo_strdup(v->wall_now);
		return;
	}
	const char *holder = o->holder ? o->holder : "";
	if (strcmp(holder, v->me) == 0) {
		d->action = AGENT_LEASE_RENEW;
		d->why = "we hold it";
		holding(v, &d->write);
		d->write.acquire_time = fo_strdup(o->acquire_time ? o->acquire_time : v->wall_now);
		d->write.transitions = o->transitions;
		return;
	}
	if (v->leading) {
		d->action = AGENT_LEASE_LOST;
		d->why = holder[0] ? "another replica holds it" : "it was released";
		return;
	}
	/* the holder's own duration, as client-go uses; judged on our clock */
	int64_t duration_ms = o->duration_s > 0 ? o->duration_s * 1000 : v->lease_duration_ms;
	if (holder[0] && v->now - v->observed_at < duration_ms) {
		d->action = AGENT_LEASE_STANDBY;
		d->why = "another replica holds it and renewed it recently by our clock";
		return;
	}
	d->action = AGENT_LEASE_TAKEOVER;
	d->why = holder[0] ? "its holder has not renewed it for its lease duration by our clock" : "it was released";
	holding(v, &d->write);
	d->write.acquire_time = fo_strdup(v->wall_now);
	d->write.transitions = o->transitions + 1;
}

bool agent_lease_release(const char *me, const agent_lease *observed, const char *wall_now, agent_lease *out)
{
	memset(out, 0, sizeof(*out));
	if (!observed || !fo_streq(observed->holder, me))
		return false;
	out->holder = fo_strdup("");
	out->duration_s = 1;
	out->acquire_time = fo_strdup(wall_now);
	out->renew_time = fo_strdup(wall_now);
	out->transitions = observed->transitions;
	out->resource_version = dup_or_null(observed->resource_version);
	return true;
}
