/*
 * Kubernetes Events: the core v1 Event that flinkops posts on an object
 * (the JobManager StatefulSet of a deployment) when a rollout step people
 * look for in `kubectl describe` happens — a savepoint taken or failed, a
 * job started, an upgrade failed, the restart budget spent. This file builds
 * the Event (pure); k8s_event_create in client.c sends it.
 */
#include "k8s/k8s.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

cJSON *k8s_event_build(const k8s_event *ev, const char *name, const char *time)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "apiVersion", "v1");
	cJSON_AddStringToObject(o, "kind", "Event");
	cJSON *meta = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(meta, "name", name);
	cJSON_AddStringToObject(meta, "namespace", ev->ns);
	cJSON *inv = cJSON_AddObjectToObject(o, "involvedObject");
	cJSON_AddStringToObject(inv, "apiVersion", ev->kind->group_version);
	cJSON_AddStringToObject(inv, "kind", ev->kind->kind);
	cJSON_AddStringToObject(inv, "namespace", ev->ns);
	cJSON_AddStringToObject(inv, "name", ev->name);
	/* `kubectl describe` finds an object's Events by its uid too */
	if (ev->uid && ev->uid[0])
		cJSON_AddStringToObject(inv, "uid", ev->uid);
	cJSON_AddStringToObject(o, "reason", ev->reason);
	const char *msg = ev->message ? ev->message : "";
	size_t cut = fo_utf8_cut(msg, strlen(msg), K8S_EVENT_MESSAGE_MAX);
	char *m = fo_strndup(msg, cut);
	cJSON_AddStringToObject(o, "message", m);
	free(m);
	cJSON_AddStringToObject(o, "type", ev->warning ? "Warning" : "Normal");
	cJSON *src = cJSON_AddObjectToObject(o, "source");
	cJSON_AddStringToObject(src, "component", ev->component);
	cJSON_AddStringToObject(o, "firstTimestamp", time);
	cJSON_AddStringToObject(o, "lastTimestamp", time);
	cJSON_AddNumberToObject(o, "count", 1);
	cJSON_AddStringToObject(o, "reportingComponent", ev->component);
	if (ev->instance && ev->instance[0])
		cJSON_AddStringToObject(o, "reportingInstance", ev->instance);
	return o;
}
