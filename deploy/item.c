/*
 * A deployment's item: the names of its objects, the objects it is to have
 * (stamped with the agent's label) and the start an application cluster is
 * rendered with. Shared by the object side of a pass (reconcile.c) and the
 * rollout (rollout.c), below both.
 */
#include <stdlib.h>
#include <string.h>

#include "deploy/deploy.h"
#include "lib/json.h"

const char *deploy_agent_name(const deploy_options *opts)
{
	return opts && opts->agent && *opts->agent ? opts->agent : "flinkops";
}

/* Put the agent's label on every rendered object. It is added after the
 * content hash was stamped: it is the same for every object of an agent, so
 * it needs no hash, and two agents never see each other's objects. */
static void stamp_agent(render_objects *o, const char *agent)
{
	for (size_t k = 0; k < o->n; k++) {
		if (!o->v[k])
			continue;
		cJSON *labels = fo_json_obj(fo_json_obj(o->v[k], "metadata"), "labels");
		fo_json_set(labels, DEPLOY_LABEL_AGENT, cJSON_CreateString(agent));
	}
}

void deploy_item_set_objects(deploy_item *it, render_objects *objs, const deploy_options *opts)
{
	render_objects_free(&it->objs);
	it->objs = *objs;
	memset(objs, 0, sizeof(*objs));
	stamp_agent(&it->objs, deploy_agent_name(opts));
}

void deploy_item_set_start(deploy_item *it, const char *job_id, const char *from)
{
	free(it->start_job_id);
	free(it->start_from);
	it->start_job_id = job_id ? fo_strdup(job_id) : NULL;
	it->start_from = from ? fo_strdup(from) : NULL;
}

