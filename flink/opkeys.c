/*
 * The upstream operator's own keys in a FlinkDeployment's
 * flinkConfiguration (kubernetes.operator.*, and the autoscaler's
 * job.autoscaler.*), and what flinkops does with each: a manifest written
 * for the upstream operator must not lose a setting in silence. A key
 * flinkops honours has no note; every other known key has one saying what
 * flinkops does instead; an unknown key is named with the nearest known one
 * (a typo such as kubernetes.operator.job.restart.faild would otherwise do
 * nothing without a word). The key list is upstream's
 * KubernetesOperatorConfigOptions (operator 1.14).
 */
#include "flink/flink.h"
#include "flink/fields.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define OP "kubernetes.operator."

/* set for every resource by upstream, but flinkops's settings are in the
 * agent's configuration */
#define AGENT_WIDE                                                                                                     \
	"an operator-wide setting of the upstream operator; flinkops has no such setting per deployment (see the "   \
	"agent's configuration)"

static const flink_opkey keys[] = {
	{"checkpoint.trigger.grace-period",
	 "flinkops asks Flink for the result of a checkpoint it triggered until Flink answers (a late one is "
	 "logged past flink.savepointTimeout)"},
	{"checkpoint.type", NULL},
	{"cluster.health-check.checkpoint-progress.enabled",
	 "flinkops judges a new job by its first completed checkpoint (flink.readyTimeout) and its restarts "
	 "(flink.restartBudget), not by this health check"},
	{"cluster.health-check.checkpoint-progress.window",
	 "flinkops judges a new job by its first completed checkpoint (flink.readyTimeout), not by this window"},
	{"cluster.health-check.enabled",
	 "flinkops judges a new job by its restarts (flink.restartBudget) and its first checkpoint, always"},
	{"cluster.health-check.restarts.threshold",
	 "flinkops counts the restarts of a new job against flink.restartBudget in the agent's configuration"},
	{"cluster.health-check.restarts.window",
	 "flinkops counts the restarts of a new job against flink.restartBudget in the agent's configuration"},
	{"cluster.resource-view.refresh-interval", AGENT_WIDE},
	{"config.cache.size", AGENT_WIDE},
	{"config.cache.timeout", AGENT_WIDE},
	{"deployment.readiness.timeout", "flinkops waits flink.readyTimeout (the agent's configuration) for a new job"},
	{"deployment.rollback.enabled", NULL},
	{"dynamic.config.check.interval", AGENT_WIDE},
	{"dynamic.config.enabled", AGENT_WIDE},
	{"dynamic.namespaces.enabled", AGENT_WIDE},
	{"events.exceptions.limit-per-reconciliation", AGENT_WIDE},
	{"events.exceptions.stacktrace-lines", AGENT_WIDE},
	{"exception.field.max.length", AGENT_WIDE},
	{"exception.label.mapper", "flinkops puts no exception labels in the status"},
	{"exception.stacktrace.enabled", AGENT_WIDE},
	{"exception.stacktrace.max.length", AGENT_WIDE},
	{"exception.throwable.list.max.count", AGENT_WIDE},
	{"flink.client.cancel.timeout", AGENT_WIDE},
	{"flink.client.timeout", AGENT_WIDE},
	{"health.canary.resource.timeout", AGENT_WIDE},
	{"health.probe.enabled", AGENT_WIDE},
	{"health.probe.port", AGENT_WIDE},
	{"ingress.manage", "flinkops always creates the Ingress spec.ingress describes, and deletes it when spec.ingress goes"},
	{"jm-deployment-recovery.enabled",
	 "flinkops applies a missing or changed JobManager again in every pass, always"},
	{"jm-deployment.shutdown-ttl", "flinkops runs Flink standalone; the JobManager is a StatefulSet it keeps"},
	{"jm-deployment.startup.probe.enabled", "flinkops renders the JobManager's probes itself"},
	{"job.drain-on-savepoint-deletion", "flinkops stops a deleted job with a savepoint and does not drain it"},
	{"job.restart.failed",
	 "flinkops always starts a job that ended outside it (failed, cancelled) again from its newest state, "
	 "within flink.restartBudget"},
	{"job.savepoint-on-deletion", "flinkops always stops a deleted or suspended job with a savepoint"},
	{"job.submission.timeout", AGENT_WIDE},
	{"job.upgrade.ignore-pending-savepoint", "flinkops waits for a savepoint in progress before an upgrade"},
	{"job.upgrade.inplace-scaling.enabled", "flinkops changes a job's parallelism through an upgrade (upgradeMode)"},
	{"job.upgrade.last-state-fallback.enabled",
	 "flinkops never falls back to another upgrade mode: an upgrade that cannot keep the state stops and says why"},
	{"job.upgrade.last-state.job-cancel.enabled", "a last-state upgrade cancels the job after fixing its newest checkpoint"},
	{"job.upgrade.last-state.max.allowed.checkpoint.age",
	 "flinkops does not limit the age here; `flinkops plan --live --max-state-age` warns of an old checkpoint"},
	{"label.selector", AGENT_WIDE},
	{"leader-election.enabled", AGENT_WIDE},
	{"leader-election.lease-duration", AGENT_WIDE},
	{"leader-election.lease-name", AGENT_WIDE},
	{"leader-election.renew-deadline", AGENT_WIDE},
	{"leader-election.retry-period", AGENT_WIDE},
	{"observer.progress-check.interval", AGENT_WIDE},
	{"observer.rest-ready.delay", AGENT_WIDE},
	{"periodic.checkpoint.interval", NULL},
	{"periodic.savepoint.interval", NULL},
	{"pod-template.merge-arrays-by-name", "flinkops merges the pod templates' containers by name, always"},
	{"rate-limiter.limit", AGENT_WIDE},
	{"rate-limiter.refresh-period", AGENT_WIDE},
	{"reconcile.interval", AGENT_WIDE},
	{"reconcile.parallelism", AGENT_WIDE},
	{"resource.cleanup.timeout", AGENT_WIDE},
	{"resource.deletion.propagation", AGENT_WIDE},
	{"retry.initial.interval", AGENT_WIDE},
	{"retry.interval.multiplier", AGENT_WIDE},
	{"retry.max.attempts", AGENT_WIDE},
	{"retry.max.interval", AGENT_WIDE},
	{"savepoint.cleanup.enabled", NULL},
	{"savepoint.dispose-on-delete", NULL},
	{"savepoint.format.type", "flinkops asks Flink for its default savepoint format (CANONICAL)"},
	{"savepoint.history.max.age", NULL},
	{"savepoint.history.max.count", NULL},
	{"savepoint.trigger.grace-period", "flinkops takes a periodic savepoint when its interval has passed"},
	{"session.block-on-unmanaged-jobs", NULL},
	{"session.deletion.block-on-session-jobs",
	 "flinkops always deletes a session cluster after its session jobs (each with a final savepoint), and refuses "
	 "while a FlinkSessionJob in git names it"},
	{"session.deletion.block-on-unmanaged-jobs", NULL},
	{"snapshot.resource.enabled", NULL},
	{"startup.stop-on-informer-error", AGENT_WIDE},
	{"termination.timeout", AGENT_WIDE},
	{"user.artifacts.allowed-schemes", AGENT_WIDE},
	{"user.artifacts.base.dir", AGENT_WIDE},
	{"user.artifacts.disallow-restricted-hosts", AGENT_WIDE},
	{"user.artifacts.http.header", "flinkops fetches a job's jar itself and sends no extra headers"},
	{"watched.namespaces", AGENT_WIDE},
};

#define NO_AUTOSCALER                                                                                                  \
	"flinkops has no autoscaler: the job runs at spec.job.parallelism and this key changes nothing"

const flink_opkey *flink_operator_keys(size_t *n)
{
	*n = FO_ARRAY_LEN(keys);
	return keys;
}

const char *flink_operator_key_note(const char *key, const char **near)
{
	*near = NULL;
	if (fo_has_prefix(key, "job.autoscaler.") || fo_has_prefix(key, OP "job.autoscaler."))
		return NO_AUTOSCALER;
	if (!fo_has_prefix(key, OP))
		return NULL;
	const char *k = key + strlen(OP);
	if (fo_has_prefix(k, "plugins.listeners."))
		return "flinkops loads no plugins of the upstream operator";
	for (size_t i = 0; i < FO_ARRAY_LEN(keys); i++)
		if (strcmp(k, keys[i].key) == 0)
			return keys[i].note;
	size_t best = (size_t)-1;
	for (size_t i = 0; i < FO_ARRAY_LEN(keys); i++) {
		size_t d = fo_edit_distance(k, keys[i].key);
		if (d < best) {
			best = d;
			*near = keys[i].key;
		}
	}
	/* a near miss is one or two slips per ten characters, at most four */
	size_t len = strlen(k);
	if (best > 4 || best * 5 > len)
		*near = NULL;
	return "not a key of the upstream operator; it does nothing";
}
