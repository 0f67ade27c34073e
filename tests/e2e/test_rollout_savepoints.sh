#!/usr/bin/env bash
# rig: k8s git flink s3
# Savepoints asked of a running job, which keeps running (same job id):
#   - a new job.savepointTriggerNonce takes exactly one savepoint, recorded
#     in the journal, the status (lastSavepoint reason manual, a history
#     entry) and an Event; the next pass takes none;
#   - kubernetes.operator.periodic.savepoint.interval takes one each time
#     the newest savepoint is older than the interval; setting it restarts
#     nothing (Flink never reads the operator's settings).
NAME=spreq
. "$(dirname "$0")/lib-rollout.sh"

start_counter
sleep 1

# --- a new savepointTriggerNonce ---------------------------------------------
deployment 1 savepoint | sed 's/^    upgradeMode: savepoint$/&\n    savepointTriggerNonce: 1/' >"$tmp/work/jobs/counter.yaml"
commit=$(publish "savepointTriggerNonce 1")
sync_once
sp=$(journal .savepointPath)
if [ $rc = 0 ] && [ "$(journal .jobId)" = "$job" ] && [ "$(job_state "$job")" = RUNNING ] &&
	[ "$(journal .savepointReason)" = manual ] && [ -n "$sp" ] && [ "$sp" != null ] && [ "$(savepoints_of "$job")" = 1 ] &&
	[ "$(journal .handledNonce)" = 1 ] && [ "$(journal '.requestTriggerId // "none"')" = none ]; then
	ok "savepointTriggerNonce 1: one savepoint ($sp), job $job still RUNNING"
else
	fail "manual savepoint: rc=$rc job=$(journal .jobId) state=$(job_state "$job") reason=$(journal .savepointReason) savepoints=$(savepoints_of "$job") $(head -3 "$tmp/err")"
fi
if [ "$(status_field lastSavepoint)" = "$sp" ] && status_file | grep -q 'reason: manual' &&
	[ "$(status_field phase)" = Running ] && [ "$(status_field observedCommit)" = "$commit" ] &&
	status_file | grep -q "savepoint: $sp" && events SavepointCompleted | grep -q "manual savepoint of job $job"; then
	ok "the status records it (lastSavepoint reason manual, a history entry), Running at ${commit:0:7}; Event SavepointCompleted"
else
	fail "manual savepoint status: sp=$(status_field lastSavepoint) phase=$(status_field phase) $(events SavepointCompleted)"
fi
sync_once
if [ $rc = 0 ] && [ "$(savepoints_of "$job")" = 1 ] && [ "$(journal .jobId)" = "$job" ]; then
	ok "the next pass takes none: the nonce is answered"
else
	fail "second pass: rc=$rc savepoints=$(savepoints_of "$job")"
fi

# --- periodic savepoints ---------------------------------------------------------
deployment 1 savepoint | sed 's/^    upgradeMode: savepoint$/&\n    savepointTriggerNonce: 1/' |
	sed 's/^spec:$/&\n  flinkConfiguration:\n    kubernetes.operator.periodic.savepoint.interval: 3 s/' >"$tmp/work/jobs/counter.yaml"
publish "periodic savepoints every 3 s" >/dev/null
sync_once
first_rc=$rc
for _ in 1 2; do
	sleep 3.5
	sync_once
done
if [ $first_rc = 0 ] && [ $rc = 0 ] && [ "$(journal .jobId)" = "$job" ] && [ "$(job_state "$job")" = RUNNING ] &&
	[ "$(savepoints_of "$job")" = 3 ] && [ "$(journal .savepointReason)" = periodic ] && status_file | grep -q 'reason: periodic'; then
	ok "periodic savepoints every 3 s: two more taken on schedule, job $job never restarted"
else
	fail "periodic: rc=$first_rc/$rc job=$(journal .jobId) savepoints=$(savepoints_of "$job") reason=$(journal .savepointReason) $(head -3 "$tmp/err")"
fi
