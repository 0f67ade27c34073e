#!/usr/bin/env bash
# rig: k8s git flink s3
# job.savepointRedeployNonce with job.initialSavepointPath (upstream's
# semantics), against the rig's real servers: a new nonce starts the job
# again from the savepoint a human chose, even though newer state exists —
# the running job is still stopped with a savepoint, so its state is kept
# and recorded; the status history names the chosen savepoint as what the
# new job started from (kind initial); the same nonce does nothing again.
# And a deployment created with a savepointTriggerNonce takes no savepoint
# for it (upstream's rule).
NAME=redeploy
. "$(dirname "$0")/lib-rollout.sh"

# --- created with a savepointTriggerNonce: as upstream, it takes no savepoint ----
deployment 1 savepoint | sed 's/^    upgradeMode: savepoint$/&\n    savepointTriggerNonce: 3/' >"$tmp/work/jobs/counter.yaml"
publish "counter job, created with savepointTriggerNonce 3" >/dev/null
sync_once
job1=$(journal .jobId)
echo "$job1" >>"$tmp/ours"
counter_grows_to 50
sync_once
[ $rc = 0 ] && [ "$(job_state "$job1")" = RUNNING ] && [ "$(journal .handledNonce)" = 3 ] &&
	[ "$(savepoints_of "$job1")" = 0 ] && [ "$(journal '.savepointPath // "none"')" = none ] &&
	ok "created with savepointTriggerNonce 3: the nonce is answered by the creation, no savepoint taken (two passes)" ||
	fail "nonce at create: rc=$rc handled=$(journal .handledNonce) savepoints=$(savepoints_of "$job1")"

# --- a savepoint to go back to: the one the first upgrade takes -------------------
deployment 2 savepoint >"$tmp/work/jobs/counter.yaml"
publish "parallelism 2" >/dev/null
low=$(cat "$counter")
sync_once
job2=$(journal .jobId)
echo "$job2" >>"$tmp/ours"
spA=$(journal .savepointPath)
counter_grows_to $((low + 150))
[ $rc = 0 ] && [ "$(restored "$job2")" = "$spA" ] && ok "job $job2 runs from $spA (taken at counter >= $low)" ||
	fail "setup: rc=$rc job2=$job2 sp=$spA $(head -3 "$tmp/err")"

# --- a new redeploy nonce: back to the chosen savepoint ------------------------
{
	deployment 2 savepoint
	printf '    initialSavepointPath: %s\n    savepointRedeployNonce: 1\n' "$spA"
} >"$tmp/work/jobs/counter.yaml"
commit3=$(publish "redeploy from $spA")
before=$(cat "$counter")
sync_once
job3=$(journal .jobId)
echo "$job3" >>"$tmp/ours"
spB=$(journal .savepointPath)
rm -f "$counter"
c3=$(wait_counter)
if [ $rc = 0 ] && [ "$job3" != "$job2" ] && [ "$(job_state "$job3")" = RUNNING ] && [ "$(restored "$job3")" = "$spA" ] &&
	[ "$c3" -lt "$before" ] && [ "$c3" -ge "$low" ] && [ "$(job_state "$job2")" = FINISHED ] &&
	[ "$spB" != "$spA" ] && [ "$(basename "$spB" | cut -c11-16)" = "${job2:0:6}" ] && [ -d "${spB#file:}" ] &&
	[ "$(journal .handledRedeployNonce)" = 1 ]; then
	ok "savepointRedeployNonce 1: $job3 started from the chosen $spA (counter $before before, $c3 first after: back to that state); $job2's state kept in $spB"
else
	fail "redeploy: rc=$rc job3=$job3 restored=$(restored "$job3") before=$before first=$c3 low=$low spB=$spB $(head -3 "$tmp/err")"
fi
hist=$("$FLINKOPS" status --repo "$repo" --cache "$tmp/scache" -o json counter 2>/dev/null | jq -c '.deployments[0].history[0]')
if [ "$(jq -r .jobId <<<"$hist")" = "$job3" ] && [ "$(jq -r .startedFromKind <<<"$hist")" = initial ] &&
	[ "$(jq -r .startedFrom <<<"$hist")" = "$spA" ] && [ "$(status_field observedCommit)" = "$commit3" ]; then
	ok "the status history records $job3 as started from the chosen savepoint (kind initial), Running at ${commit3:0:7}"
else
	fail "redeploy history: $hist observed=$(status_field observedCommit)"
fi

# --- the same nonce again: nothing restarts ---------------------------------------
sync_once
[ $rc = 0 ] && [ "$(journal .jobId)" = "$job3" ] && [ "$(jq -r '.requests.writes' "$tmp/out.json")" = 0 ] &&
	ok "the same nonce in the next pass: $job3 runs on, nothing written" ||
	fail "second pass: rc=$rc job=$(journal .jobId) $(head -2 "$tmp/err")"
