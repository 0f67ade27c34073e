#!/usr/bin/env bash
# rig: k8s git flink s3
# Savepoints asked of a running job, which keeps running (same job id):
#   - a new job.savepointTriggerNonce takes exactly one savepoint, recorded
#     in the journal, the status (lastSavepoint reason manual, a history
#     entry) and an Event; the next pass takes none;
#   - kubernetes.operator.periodic.savepoint.interval takes one each time
#     the newest savepoint is older than the interval; setting it restarts
#     nothing (Flink never reads the operator's settings); given as a Quartz
#     cron expression, one is taken once the schedule fired since the newest;
#   - a new job.checkpointTriggerNonce takes one checkpoint of the running
#     job (Flink's POST /jobs/:id/checkpoints), recorded in the journal and
#     an Event; kubernetes.operator.periodic.checkpoint.interval takes one
#     when due. The job keeps running, its id unchanged.
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
rc1=$rc n1=$(savepoints_of "$job") # the manual one may already be older than 3 s: then one more here
sleep 3.5
sync_once
rc2=$rc n2=$(savepoints_of "$job") # due: the newest is at least 3.5 s old
sync_once
rc3=$rc n3=$(savepoints_of "$job") # not due: the newest was just taken
sleep 3.5
sync_once
n4=$(savepoints_of "$job")
if [ $rc1 = 0 ] && [ $rc2 = 0 ] && [ $rc3 = 0 ] && [ $rc = 0 ] && [ "$n2" = $((n1 + 1)) ] && [ "$n3" = "$n2" ] &&
	[ "$n4" = $((n3 + 1)) ] && [ "$(journal .jobId)" = "$job" ] && [ "$(job_state "$job")" = RUNNING ] &&
	[ "$(journal .savepointReason)" = periodic ] && status_file | grep -q 'reason: periodic'; then
	ok "periodic savepoints every 3 s: taken when due ($n1 -> $n2, none at once after, -> $n4), job $job never restarted"
else
	fail "periodic: rc=$rc1/$rc2/$rc3/$rc job=$(journal .jobId) savepoints $n1 $n2 $n3 $n4 reason=$(journal .savepointReason) $(head -3 "$tmp/err")"
fi

# --- periodic savepoints on a cron schedule ----------------------------------
# Once a minute, at a second about 15 s from now: the first pass comes
# before it fires (the newest savepoint is newer than its last firing), the
# pass after it takes one, the next takes none (it fires again in a minute).
n0=$(savepoints_of "$job")
fire=$((($(date -u +%s) + 15) % 60))
deployment 1 savepoint | sed 's/^    upgradeMode: savepoint$/&\n    savepointTriggerNonce: 1/' |
	sed "s/^spec:\$/&\n  flinkConfiguration:\n    kubernetes.operator.periodic.savepoint.interval: \"$fire * * * * ?\"/" \
		>"$tmp/work/jobs/counter.yaml"
publish "periodic savepoints at second $fire of every minute" >/dev/null
sync_once
rc1=$rc n1=$(savepoints_of "$job")
while [ "$(date -u +%S | sed 's/^0//')" != "$fire" ]; do sleep 0.2; done
sleep 1.2
sync_once
rc2=$rc n2=$(savepoints_of "$job")
sync_once
n3=$(savepoints_of "$job")
if [ $rc1 = 0 ] && [ $rc2 = 0 ] && [ $rc = 0 ] && [ "$n1" = "$n0" ] && [ "$n2" = $((n1 + 1)) ] && [ "$n3" = "$n2" ] &&
	[ "$(journal .jobId)" = "$job" ] && [ "$(job_state "$job")" = RUNNING ] &&
	[ "$(journal .savepointReason)" = periodic ]; then
	ok "cron \"$fire * * * * ?\": none before it fired ($n1), one after ($n2), none again at once ($n3); job $job never restarted"
else
	fail "cron: rc=$rc1/$rc2/$rc job=$(journal .jobId) savepoints $n0 $n1 $n2 $n3 reason=$(journal .savepointReason) $(head -3 "$tmp/err")"
fi

# --- a new checkpointTriggerNonce, then periodic checkpoints -------------------
# The path recorded is this job's (Flink's own checkpoint directory names the
# job): Flink 1.20's checkpoint details endpoint caches by checkpoint number
# across jobs, and once gave another job's chk-38 here.
ck_count() { curl -s --max-time 5 "$RIG_FLINK_URL/jobs/$job/checkpoints" | jq -r '.counts.completed'; }
c0=$(ck_count)
deployment 1 savepoint | sed 's/^    upgradeMode: savepoint$/&\n    savepointTriggerNonce: 1\n    checkpointTriggerNonce: 1/' \
	>"$tmp/work/jobs/counter.yaml"
publish "checkpointTriggerNonce 1" >/dev/null
sync_once
ck=$(journal .checkpointPath)
# Flink's checkpoint statistics are cached (web.refresh-interval): a few looks
listed=0
for _ in $(seq 1 20); do
	curl -s --max-time 5 "$RIG_FLINK_URL/jobs/$job/checkpoints" |
		jq -en --arg p "$ck" 'input | [.history[] | select(.external_path == $p and .status == "COMPLETED")] | length == 1' \
			>/dev/null && { listed=1; break; }
	sleep 0.5
done
c1=$(ck_count)
if [ $rc = 0 ] && [ "$(journal .jobId)" = "$job" ] && [ "$(job_state "$job")" = RUNNING ] &&
	[ "$(journal .handledCheckpointNonce)" = 1 ] && [ "$(journal '.checkpointTriggerId // "none"')" = none ] &&
	[[ "$ck" == */$job/chk-* ]] && [ $listed = 1 ] && [ "$c1" -gt "$c0" ] &&
	events CheckpointCompleted | grep -q "manual checkpoint of job $job: $ck"; then
	ok "checkpointTriggerNonce 1: one FULL checkpoint ($ck, Flink's history has it), Event CheckpointCompleted, job $job still RUNNING"
else
	fail "manual checkpoint: rc=$rc job=$(journal .jobId) handled=$(journal .handledCheckpointNonce) path=$ck listed=$listed completed $c0 -> $c1 $(head -3 "$tmp/err")"
fi
sync_once
if [ $rc = 0 ] && [ "$(journal .checkpointPath)" = "$ck" ]; then
	ok "the next pass takes none: the checkpoint nonce is answered"
else
	fail "second pass after the checkpoint nonce: rc=$rc path=$(journal .checkpointPath)"
fi
deployment 1 savepoint | sed 's/^    upgradeMode: savepoint$/&\n    savepointTriggerNonce: 1\n    checkpointTriggerNonce: 1/' |
	sed 's/^spec:$/&\n  flinkConfiguration:\n    kubernetes.operator.periodic.checkpoint.interval: 3 s/' >"$tmp/work/jobs/counter.yaml"
publish "periodic checkpoints every 3 s" >/dev/null
sleep 3.5
sync_once
ck2=$(journal .checkpointPath)
sync_once
ck3=$(journal .checkpointPath)
if [ $rc = 0 ] && [[ "$ck2" == */$job/chk-* ]] && [ "$ck2" != "$ck" ] && [ "$ck3" = "$ck2" ] &&
	[ "$(journal .jobId)" = "$job" ] && [ "$(job_state "$job")" = RUNNING ] &&
	events CheckpointCompleted | grep -q "periodic checkpoint of job $job: $ck2"; then
	ok "periodic checkpoints every 3 s: one when due ($ck2), none at once after; job $job never restarted"
else
	fail "periodic checkpoints: rc=$rc $ck -> $ck2 -> $ck3 job=$(journal .jobId) $(head -3 "$tmp/err")"
fi
