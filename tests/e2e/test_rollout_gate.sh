#!/usr/bin/env bash
# rig: k8s git flink s3
# A rollout is done when the new job completed its first checkpoint, not
# when it is RUNNING: the rig's counter job blocks its snapshots while a
# marker file exists, as a job whose state cannot be written would.
#   - while the first checkpoint is pending the status says so, and the
#     commit is not rolled out (observedCommit does not move);
#   - past flink.readyTimeout without one the rollout fails: status Failed
#     with the reason, `flinkops wait` exits 1, the job is left running;
#   - a later commit is a new attempt, rolled out once its job checkpointed.
NAME=gate
EXTRA_FLINK="  readyTimeout: 6s"
. "$(dirname "$0")/lib-rollout.sh"
marker=$tmp/slow-snapshots
slow_args=", --slow-snapshot-marker, $marker"

# --- the first checkpoint pending: not rolled out yet -------------------------
touch "$marker"
deployment 1 savepoint "$slow_args" >"$tmp/work/jobs/counter.yaml"
commit1=$(publish "counter job, its checkpoints blocked")
# (short syncs until the job runs: the pods roll out first, and the first
# checkpoint, which a sync waits for, is blocked)
deadline=$((SECONDS + 180)) # the JobManager may take a while to be Ready on a loaded machine
while [ $SECONDS -lt $deadline ]; do
	"$FLINKOPS" sync --config "$tmp/config.yaml" --once --timeout 3s -o json >"$tmp/out.json" 2>"$tmp/err"
	rc=$?
	job=$(journal '.jobId // empty')
	[ -n "$job" ] && [ "$(job_state "$job")" = RUNNING ] && break
done
job=$(journal .jobId)
echo "$job" >>"$tmp/ours"
if [ $rc = 1 ] && [ "$(job_state "$job")" = RUNNING ] && grep -q "the first checkpoint of job $job" "$tmp/err" &&
	[ "$(status_field phase)" = Deploying ] &&
	[ "$(journal .awaitCheckpointSince)" != null ] && [ "$(status_field observedCommit)" != "$commit1" ] &&
	grep -q 'waiting: the first checkpoint' <<<"$(status_field message)"; then
	ok "job $job RUNNING without a checkpoint: still waiting (exit 1), status $(status_field phase), observedCommit not moved"
else
	fail "first checkpoint pending: rc=$rc state=$(job_state "$job") phase=$(status_field phase) msg=$(status_field message) $(tail -2 "$tmp/err")"
fi

# --- past readyTimeout: Failed, wait exits 1, the job is left running ----------
sleep 4
sync_once
"$FLINKOPS" wait --repo "$repo" --commit "$commit1" --timeout 5s --interval 1s >"$tmp/wait" 2>&1
wrc=$?
if [ $rc = 1 ] && grep -q "completed no checkpoint within flink.readyTimeout (6s)" "$tmp/err" &&
	[ "$(status_field phase)" = Failed ] && grep -q 'completed no checkpoint' <<<"$(status_field message)" &&
	[ $wrc = 1 ] && [ "$(job_state "$job")" = RUNNING ] && [ "$(journal .step)" = failed ]; then
	ok "past readyTimeout: exit 1, status Failed with the reason, flinkops wait exits 1, job $job left RUNNING"
else
	fail "gate timeout: rc=$rc phase=$(status_field phase) wait=$wrc state=$(job_state "$job") $(head -2 "$tmp/err") $(head -2 "$tmp/wait")"
fi
if events UpgradeFailed | grep -q "completed no checkpoint"; then
	ok "Event UpgradeFailed says the job completed no checkpoint"
else
	fail "gate event: $(events UpgradeFailed)"
fi

# --- a later commit is a new attempt ------------------------------------------
rm -f "$marker"
sleep 2 # the blocked checkpoint completes once the marker is gone
deployment 2 savepoint "$slow_args" >"$tmp/work/jobs/counter.yaml"
commit2=$(publish "parallelism 2, checkpoints free")
sync_once
job2=$(journal .jobId)
echo "$job2" >>"$tmp/ours"
done_ck=$(curl -s "$RIG_FLINK_URL/jobs/$job2/checkpoints" | jq -r '.counts.completed // 0')
if [ $rc = 0 ] && [ "$job2" != "$job" ] && [ "$(job_state "$job2")" = RUNNING ] && [ "$done_ck" -ge 1 ] &&
	[ "$(journal .awaitCheckpointSince)" = null ] && [ "$(status_field phase)" = Running ] &&
	[ "$(status_field observedCommit)" = "$commit2" ] &&
	"$FLINKOPS" wait --repo "$repo" --commit "$commit2" --timeout 5s --interval 1s >/dev/null 2>&1; then
	ok "the next commit: $job2 RUNNING with $done_ck checkpoint(s) completed, status Running at ${commit2:0:7}, wait exits 0"
else
	fail "new attempt: rc=$rc job2=$job2 state=$(job_state "$job2") checkpoints=$done_ck phase=$(status_field phase) $(head -3 "$tmp/err")"
fi
