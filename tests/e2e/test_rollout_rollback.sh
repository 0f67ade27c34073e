#!/usr/bin/env bash
# rig: k8s git flink s3
# Which state a job runs from, steered from git, against the rig's real
# servers (sync --once each time):
#   - `git revert` of a healthy upgrade runs the old spec again from the
#     savepoint of the version it replaces, not from an older one;
#   - an upgrade to a job that fails at start (the counter job's fail
#     marker) never becomes healthy: it is cancelled and the previous spec
#     runs again from the upgrade's savepoint; plan --live says so; status RolledBack with the
#     failed commit, `flinkops wait` exits 1 for it, sync exits 1, the
#     counter continues;
#   - with flink.rollback: off, the next such commit stays Failed.
NAME=rollback
EXTRA_FLINK="  readyTimeout: 8s"
. "$(dirname "$0")/lib-rollout.sh"
marker=$tmp/fail
fail_args=", --fail-marker, $marker"
# same_spec A B: commits A and B hold the same counter.yaml (A may be a
# status commit the agent pushed on top of B)
same_spec() {
	git -C "$tmp/work" fetch -q origin main 2>/dev/null
	[ -n "$1" ] && [ "$(git -C "$tmp/work" show "$1:jobs/counter.yaml" 2>&1)" = "$(git -C "$tmp/work" show "$2:jobs/counter.yaml")" ]
}

# --- a healthy start and a healthy upgrade --------------------------------------
deployment 1 savepoint >"$tmp/work/jobs/counter.yaml"
commit1=$(publish "counter job")
sync_once
job1=$(journal .jobId)
echo "$job1" >>"$tmp/ours"
counter_grows_to 50
deployment 2 savepoint >"$tmp/work/jobs/counter.yaml"
commit2=$(publish "parallelism 2")
sync_once
job2=$(journal .jobId)
echo "$job2" >>"$tmp/ours"
if [ $rc = 0 ] && [ "$job2" != "$job1" ] && [ "$(job_state "$job2")" = RUNNING ] &&
	[ "$(status_field observedCommit)" = "$commit2" ]; then
	ok "commit ${commit2:0:7}: parallelism 1 -> 2, job $job2 Running"
else
	fail "healthy upgrade: rc=$rc job2=$job2 $(head -3 "$tmp/err")"
fi

# --- git revert: the old spec, from the savepoint of the version it replaces ---
counter_grows_to $(($(cat "$counter") + 25))
git -C "$tmp/work" pull -q --rebase origin main 2>/dev/null
git -C "$tmp/work" revert --no-edit "$commit2" >/dev/null
git -C "$tmp/work" push -q origin HEAD:main 2>/dev/null
commit3=$(git -C "$tmp/work" rev-parse HEAD)
before=$(cat "$counter")
sync_once
job3=$(journal .jobId)
echo "$job3" >>"$tmp/ours"
sp3=$(journal .savepointPath)
rm -f "$counter"
c3=$(wait_counter)
if [ $rc = 0 ] && [ "$job3" != "$job2" ] && [ "$(job_state "$job2")" = FINISHED ] &&
	[ "$(job_state "$job3")" = RUNNING ] && [ "$(restored "$job3")" = "$sp3" ] &&
	[ "${sp3#*savepoint-}" != "$sp3" ] && [ "$(basename "$sp3" | cut -c11-16)" = "${job2:0:6}" ] &&
	[ "$c3" -ge "$before" ] && [ "$(status_field observedCommit)" = "$commit3" ] &&
	[ "$(status_field phase)" = Running ]; then
	ok "git revert of ${commit2:0:7}: the old spec runs as $job3 from $sp3, the savepoint of $job2 (the version it replaced); counter $before before, $c3 first after; Running at ${commit3:0:7}"
else
	fail "revert: rc=$rc job3=$job3 restored=$(restored "$job3") sp=$sp3 before=$before first=$c3 phase=$(status_field phase) $(head -3 "$tmp/err")"
fi

# --- an upgrade that fails at start: rolled back from the upgrade's savepoint ---
counter_grows_to $(($(cat "$counter") + 25))
touch "$marker"
deployment 2 savepoint "$fail_args" >"$tmp/work/jobs/counter.yaml"
commit4=$(publish "parallelism 2, fails at start")
before=$(cat "$counter")
t0=$(date +%s)
sync_once
took=$(($(date +%s) - t0))
job5=$(journal .jobId)
echo "$job5" >>"$tmp/ours"
# the job that failed: started after $job3 and before $job5
failed_job=$(curl -s "$RIG_FLINK_URL/jobs/overview" | jq -r --arg a "$job3" --arg b "$job5" '
	(.jobs[] | select(.jid == $a) | .["start-time"]) as $t3 | (.jobs[] | select(.jid == $b) | .["start-time"]) as $t5 |
	[.jobs[] | select(.["start-time"] > $t3 and .["start-time"] < $t5)] | sort_by(.["start-time"]) | last | .jid')
echo "$failed_job" >>"$tmp/ours"
sp4=$(journal .savepointPath)
rm -f "$counter"
c4=$(wait_counter)
if [ $rc = 1 ] && [ "$job5" != "$job3" ] && [ "$(job_state "$job3")" = FINISHED ] &&
	[ "$(job_state "$job5")" = RUNNING ] && [ "$(journal .savepointReason)" = upgrade ] &&
	[ "$(basename "$sp4" | cut -c11-16)" = "${job3:0:6}" ] && [ "$(restored "$job5")" = "$sp4" ] &&
	same_spec "$(journal .targetCommit)" "$commit3" && same_spec "$(journal .rollbackOfCommit)" "$commit4" &&
	[ "$c4" -ge "$before" ] && grep -q "rolled back" "$tmp/err"; then
	ok "commit ${commit4:0:7} failed at start and was rolled back in one sync ($took s, exit 1): $job5 runs ${commit3:0:7}'s spec from the upgrade's savepoint $sp4; counter $before before, $c4 first after"
else
	fail "rollback: rc=$rc job5=$job5 state=$(job_state "$job5") restored=$(restored "$job5") sp=$sp4 target=$(journal .targetCommit) of=$(journal .rollbackOfCommit) before=$before first=$c4 $(tail -3 "$tmp/err")"
fi
if [ -n "$failed_job" ] && [ "$failed_job" != null ] && [ "$(job_state "$failed_job")" = CANCELED ] &&
	[ "$(restored "$failed_job")" = "$sp4" ] && ! ls "$RIG_FLINK_SAVEPOINT_DIR" | grep -q "^savepoint-${failed_job:0:6}-"; then
	ok "the failed job $failed_job (it started from $sp4) was cancelled, no savepoint taken of it"
else
	fail "the failed job: $failed_job state=$(job_state "$failed_job") restored=$(restored "$failed_job")"
fi
"$FLINKOPS" wait --repo "$repo" --commit "$commit4" --timeout 10s --interval 1s >"$tmp/wait" 2>&1
wrc=$?
observed=$(status_field observedCommit)
if [ "$(status_field phase)" = RolledBack ] && same_spec "$observed" "$commit3" &&
	status_file | grep -Eq "^failedCommit: \"?$commit4\"?$" &&
	grep -q "the spec of commit ${commit4:0:7} did not become healthy and was rolled back to commit ${observed:0:7}" <<<"$(status_field message)" &&
	[ $wrc = 1 ] && grep -q "RolledBack at ${commit4:0:7}" "$tmp/wait"; then
	ok "status RolledBack, observedCommit ${observed:0:7} (${commit3:0:7}'s spec), failedCommit ${commit4:0:7}, with the cause; flinkops wait --commit ${commit4:0:7} exits 1"
else
	fail "RolledBack status: phase=$(status_field phase) observed=$(status_field observedCommit) wait=$wrc $(cat "$tmp/wait" | tail -2)"
fi
ev=$(events RollbackStarted)
back_to=$(sed -n 's/^rolling back to the spec of commit \([0-9a-f]*\), from .*/\1/p' <<<"$ev" | head -1)
if [ "$(grep -c . <<<"$ev")" = 1 ] && same_spec "$back_to" "$commit3" && grep -q "from $sp4: " <<<"$ev"; then
	ok "Event RollbackStarted on counter-jobmanager names the commit it returns to"
else
	fail "rollback event: $ev"
fi
# the next pass keeps it: git still asks for the failed spec, nothing restarts
sync_once
[ $rc = 1 ] && [ "$(journal .jobId)" = "$job5" ] && [ "$(job_state "$job5")" = RUNNING ] &&
	[ "$(jq -r '.requests.writes' "$tmp/out.json")" = 0 ] &&
	ok "the next sync leaves $job5 running (no writes) and still exits 1: the commit did not roll out" ||
	fail "after rollback: rc=$rc job=$(journal .jobId) writes=$(jq -r '.requests.writes' "$tmp/out.json") $(tail -2 "$tmp/err")"
# plan --live names the rollback: the older spec runs, git's failed
"$FLINKOPS" plan --live --config "$tmp/config.yaml" >"$tmp/plan" 2>&1
prc=$?
if [ $prc = 0 ] && grep -q "^$ns/counter: rolled back$" "$tmp/plan" &&
	grep -q "git's spec (as of commit $(journal .rollbackOfCommit | cut -c1-7)) did not become healthy: .*; the spec as of commit $(journal .rollbackToCommit | cut -c1-7) runs instead" "$tmp/plan" &&
	same_spec "$(journal .rollbackOfCommit)" "$commit4" && same_spec "$(journal .rollbackToCommit)" "$commit3" &&
	grep -q "0 of 1 deployment would change" "$tmp/plan"; then
	ok "plan --live: \"$(sed -n 2p "$tmp/plan" | cut -c1-150)...\", nothing would change (exit 0)"
else
	fail "plan --live after the rollback: rc=$prc $(cat "$tmp/plan")"
fi

# --- flink.rollback: off: the next failing commit stays Failed -----------------
sed -i 's/^  readyTimeout: 8s/  readyTimeout: 8s\n  rollback: "off"/' "$tmp/config.yaml"
deployment 3 savepoint "$fail_args" >"$tmp/work/jobs/counter.yaml"
commit6=$(publish "parallelism 3, fails at start")
sync_once
job6=$(journal .jobId)
echo "$job6" >>"$tmp/ours"
"$FLINKOPS" wait --repo "$repo" --commit "$commit6" --timeout 10s --interval 1s >"$tmp/wait" 2>&1
wrc=$?
if [ $rc = 1 ] && [ "$job6" != "$job5" ] && [ "$(journal .step)" = failed ] && [ "$(status_field phase)" = Failed ] &&
	[ "$(journal '.rollbackOfHash // "none"')" = none ] && [ $wrc = 1 ] && grep -q "Failed at ${commit6:0:7}" "$tmp/wait"; then
	ok "with flink.rollback: off, commit ${commit6:0:7} failed at start and stays Failed (no rollback); wait exits 1"
else
	fail "rollback off: rc=$rc job6=$job6 step=$(journal .step) phase=$(status_field phase) wait=$wrc $(tail -2 "$tmp/err")"
fi
rm -f "$marker"
