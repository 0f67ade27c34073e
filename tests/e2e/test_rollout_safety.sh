#!/usr/bin/env bash
# rig: k8s git flink s3
# State safety against the rig's real servers, one case for each way the
# agent used to lose state or report what did not happen:
#   - a savepoint slower than flink.savepointTimeout (the rig's counter job
#     blocks its snapshots while a marker file exists): the pass reports it
#     waiting, the old job keeps running, and when the stop completes late a
#     later pass resumes from that savepoint — no older one, one job;
#   - a job cancelled by hand: the status shows it, the next pass brings it
#     back from its newest checkpoint and the counter continues;
#   - a journal ConfigMap edited by hand: that deployment Failed with the
#     decode error, no second job submitted, the running job left alone;
#   - a manifest grown past 1 MiB in a repository of three deployments:
#     nothing is deleted, and the pass names the file;
#   - a second writer of the journal: the pass is refused (a conflict on the
#     resourceVersion it read) and the next pass completes from the record.
NAME=safe
EXTRA_FLINK="  restartBudget: 3"
. "$(dirname "$0")/lib-rollout.sh"
sed -i 's/^  savepointTimeout: 30s$/  savepointTimeout: 3s/' "$tmp/config.yaml"
marker=$tmp/slow-snapshots
slow_args=", --slow-snapshot-marker, $marker"

start_counter "$slow_args"
sleep 2

# --- a savepoint slower than savepointTimeout --------------------------------
touch "$marker"
sleep 1.5 # a checkpoint is now blocked too, as a large state would block it
deployment 2 savepoint "$slow_args" >"$tmp/work/jobs/counter.yaml"
commit=$(publish "parallelism 2, slow savepoint")
"$FLINKOPS" sync --config "$tmp/config.yaml" --once --timeout 8s -o json >"$tmp/out.json" 2>"$tmp/err"
rc=$?
step=$(journal .step)
trigger=$(journal .triggerId)
if [ $rc = 1 ] && [ "$step" = stopping ] && [ -n "$trigger" ] && grep -q 'still waiting' "$tmp/err" &&
	grep -q 'past flink.savepointTimeout' "$tmp/err" && [ "$(job_state "$job")" = RUNNING ] &&
	[ "$(status_field phase)" = Upgrading ] && [ "$(status_field observedCommit)" != "$commit" ]; then
	ok "a savepoint past its timeout: the pass waits (exit 1, named), journal stopping under trigger $trigger, old job RUNNING, status Upgrading, observedCommit not moved"
else
	fail "slow savepoint: rc=$rc step=$step trigger=$trigger state=$(job_state "$job") phase=$(status_field phase) $(tail -3 "$tmp/err")"
fi
stop=$(cat "$counter")
rm -f "$marker"
# Flink completes the stop on its own, late; the next pass finds its result
for _ in $(seq 1 100); do [ "$(job_state "$job")" = FINISHED ] && break; sleep 0.2; done
sp_flink=$(curl -s "$RIG_FLINK_URL/jobs/$job/savepoints/$trigger" | jq -r '.operation.location // empty')
sync_once
rm -f "$counter"
new=$(journal .jobId)
echo "$new" >>"$tmp/ours"
first=$(wait_counter)
if [ $rc = 0 ] && [ -n "$sp_flink" ] && [ "$(journal .savepointPath)" = "$sp_flink" ] && [ "$(savepoints_of "$job")" = 1 ] &&
	[ "$(job_state "$new")" = RUNNING ] && [ "$(ours_running)" = 1 ] && [ "$first" -ge "$stop" ] &&
	[ "$(status_field observedCommit)" = "$commit" ]; then
	ok "the late stop completed: the next pass resumed from that savepoint ($sp_flink), one savepoint, one job, counter $stop -> $first"
else
	fail "after the slow savepoint: rc=$rc flink=$sp_flink journal=$(journal .savepointPath) savepoints=$(savepoints_of "$job") new=$new running=$(ours_running) counter $stop -> $first $(head -2 "$tmp/err")"
fi
job=$new
sleep 3

# --- a job cancelled by hand -----------------------------------------------------
curl -s -X PATCH "$RIG_FLINK_URL/jobs/$job?mode=cancel" >/dev/null
for _ in $(seq 1 50); do [ "$(job_state "$job")" = CANCELED ] && break; sleep 0.2; done
sleep 4 # Flink's checkpoint statistics are cached for 3 s
ck=$(curl -s "$RIG_FLINK_URL/jobs/$job/checkpoints" | jq -r '.latest.completed.external_path // empty')
stop=$(cat "$counter")
sync_once
rm -f "$counter"
new=$(journal .jobId)
echo "$new" >>"$tmp/ours"
first=$(wait_counter)
restored=$(curl -s "$RIG_FLINK_URL/jobs/$new/checkpoints" | jq -r '.latest.restored.external_path // empty')
if [ $rc = 0 ] && [ "$new" != "$job" ] && [ "$(job_state "$new")" = RUNNING ] && [ -n "$ck" ] && [ "$restored" = "$ck" ] &&
	grep -q 'ended outside flinkops' <<<"$(status_field message)" && [ "$(ours_running)" = 1 ] && [ "$first" -gt 0 ]; then
	ok "cancelled by hand: the status says so, the pass restarted it as $new from its newest checkpoint $ck (counter $stop -> $first)"
else
	fail "cancelled by hand: rc=$rc new=$new ck=$ck restored=$restored message=$(status_field message) $(head -2 "$tmp/err")"
fi
job=$new

# --- a journal edited by hand ------------------------------------------------------
good=$($K -n $ns get configmap flink-journal-counter -o jsonpath='{.data.journal\.json}')
$K -n $ns patch configmap flink-journal-counter --type merge -p '{"data":{"journal.json":"{\"version\":9,\"step\":\"idle\"}"}}' >/dev/null
deployment 1 savepoint "$slow_args" >"$tmp/work/jobs/counter.yaml"
publish "parallelism 1 while the journal is broken" >/dev/null
sync_once
if [ $rc = 1 ] && grep -q 'does not decode: the journal is of format 9' "$tmp/out.json" && [ "$(job_state "$job")" = RUNNING ] &&
	[ "$(ours_running)" = 1 ] && [ "$(status_field phase)" = Failed ] && [ "$(savepoints_of "$job")" = 0 ] &&
	grep -q 'does not decode' <<<"$(status_field message)"; then
	ok "a journal of a newer format: Failed with the decode error, job $job left alone, no second job, no savepoint"
else
	fail "corrupt journal: rc=$rc state=$(job_state "$job") running=$(ours_running) phase=$(status_field phase) savepoints=$(savepoints_of "$job") $(jq -c '.deployments[0].error' "$tmp/out.json")"
fi
$K -n $ns create configmap flink-journal-counter --from-literal=journal.json="$good" --dry-run=client -o yaml |
	$K -n $ns apply -f - >/dev/null 2>&1

# --- a manifest past the size limit ------------------------------------------------
session s1 >"$tmp/work/jobs/s1.yaml"
session s2 >"$tmp/work/jobs/s2.yaml"
publish "two session clusters" >/dev/null
sync_once
{ session s2; python3 -c 'print("# padding\n" * 120000)'; } >"$tmp/work/jobs/s2.yaml"
publish "s2 past 1 MiB" >/dev/null
sync_once
left=$($K -n $ns get statefulset -l app.kubernetes.io/instance=s2 -o name | wc -l)
if [ $rc = 1 ] && grep -q 'jobs/s2.yaml: .*skipped: .* more than the limit' "$tmp/err" && [ "$left" = 2 ] &&
	[ "$(jq -r '.summary.pruned' "$tmp/out.json")" = 0 ] && grep -q 'nothing is deleted' <<<"$(jq -r '.pruneRefused // ""' "$tmp/out.json")"; then
	ok "a manifest past 1 MiB: the pass names jobs/s2.yaml, prunes nothing, s2 keeps its objects"
else
	fail "oversized manifest: rc=$rc left=$left $(jq -c '.summary, .pruneRefused' "$tmp/out.json") $(head -2 "$tmp/err")"
fi

# --- a second writer: the journal is fenced by its resourceVersion ----------------
# The pass is held right after it records the savepoint it will start from;
# meanwhile someone else writes the journal ConfigMap. The pass's next write
# is refused (it never overwrites a record it did not read), it stops; the
# next pass reads the record afresh and completes the upgrade from that
# savepoint.
session s2 >"$tmp/work/jobs/s2.yaml"
publish "s2 back to its size" >/dev/null
sync_once
job=$(journal .jobId)
echo "$job" >>"$tmp/ours"
[ $rc = 0 ] || fail "before the fence: rc=$rc $(head -2 "$tmp/err")"
sleep 2
deployment 2 savepoint "$slow_args" >"$tmp/work/jobs/counter.yaml"
publish "parallelism 2, with a second writer" >/dev/null
FLINKOPS_PAUSE_AFTER=savepoint-taken "$FLINKOPS" sync --config "$tmp/config.yaml" --once --timeout 30s -o json \
	>"$tmp/out.json" 2>"$tmp/err" &
pid=$!
for _ in $(seq 1 100); do [ "$(journal .step)" = savepoint-taken ] && break; sleep 0.1; done
$K -n $ns annotate configmap flink-journal-counter example.com/touched-by=someone-else --overwrite >/dev/null
wait $pid
rc=$?
kept=$(journal .restorePath)
if [ $rc = 1 ] && grep -q 'changed since this agent read it' "$tmp/out.json" "$tmp/err" && [ "$(journal .step)" = savepoint-taken ]; then
	ok "a journal written by someone else meanwhile: the pass's next write is refused (conflict), it stops"
else
	fail "fence: rc=$rc step=$(journal .step) $(jq -c '.deployments[0].error' "$tmp/out.json") $(tail -2 "$tmp/err")"
fi
sync_once
new=$(journal .jobId)
echo "$new" >>"$tmp/ours"
restored=$(curl -s "$RIG_FLINK_URL/jobs/$new/checkpoints" | jq -r '.latest.restored.external_path // empty')
if [ $rc = 0 ] && [ "$new" != "$job" ] && [ "$(job_state "$new")" = RUNNING ] && [ "$(ours_running)" = 1 ] &&
	[ "$(savepoints_of "$job")" = 1 ] && [ -n "$kept" ] && [ "$restored" = "$kept" ]; then
	ok "the next pass reads the journal afresh and completes from the recorded savepoint ($kept): one savepoint, one job"
else
	fail "after the fence: rc=$rc new=$new running=$(ours_running) savepoints=$(savepoints_of "$job") $(head -2 "$tmp/err")"
fi
