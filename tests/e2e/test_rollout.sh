#!/usr/bin/env bash
# rig: k8s git flink s3
# The job side of sync --once against the rig's real servers: a job whose
# jar is on S3 is started; raising parallelism stops it with a savepoint and
# resumes from it (the counter continues); a stateless change starts fresh;
# a savepoint that fails changes nothing and leaves the old job running.
# The rig's Flink is one session cluster that flink.restUrl points at.
NAME=roll
. "$(dirname "$0")/lib-rollout.sh"

# --- create: the jar comes from S3, the job runs -----------------------------
deployment 1 savepoint >"$tmp/work/jobs/counter.yaml"
commit1=$(publish "counter job")
sync_once
job1=$(journal .jobId)
echo "$job1" >>"$tmp/ours"
c=$(wait_counter)
if [ $rc = 0 ] && [ "$(job_state "$job1")" = RUNNING ] && [ "$(journal .step)" = idle ] && [ "$c" -gt 0 ] &&
	[ "$(jq -r '.deployments[0].jobStarted' "$tmp/out.json")" = true ]; then
	ok "a new FlinkDeployment with its jar on S3: objects applied, job $job1 RUNNING, journal idle, counter $c"
else
	fail "create: rc=$rc job=$job1 state=$(job_state "$job1") $(head -3 "$tmp/err")"
fi
if [ "$(status_field phase)" = Running ] && [ "$(status_field jobId)" = "$job1" ] &&
	[ "$(status_field observedCommit)" = "$commit1" ] && [ "$(status_field sourcePath)" = jobs/counter.yaml ]; then
	ok "status/$ns/counter.yaml pushed back: Running, job $job1, observedCommit ${commit1:0:7}"
else
	fail "status after create: phase=$(status_field phase) job=$(status_field jobId) observed=$(status_field observedCommit)"
fi
sync_once
[ $rc = 0 ] && [ "$(jq -r '.requests.writes' "$tmp/out.json")" = 0 ] && [ "$(journal .jobId)" = "$job1" ] &&
	[ "$(jq -r '.statusCommit // "none"' "$tmp/out.json")" = none ] &&
	ok "a second pass starts nothing, writes nothing to the cluster and commits no status" ||
	fail "second pass: rc=$rc $(jq -c '.requests, .statusCommit' "$tmp/out.json")"

# --- savepoint upgrade: the counter continues ------------------------------
sleep 2
deployment 2 savepoint >"$tmp/work/jobs/counter.yaml"
commit2=$(publish "parallelism 2")
# the counter is read before the sync: once the sync returned, the file may
# already hold the new job's first value, which compared with itself proves
# nothing
before=$(cat "$counter")
sync_once
rm -f "$counter"
job2=$(journal .jobId)
echo "$job2" >>"$tmp/ours"
sp=$(journal .savepointPath)
c2=$(wait_counter)
if [ $rc = 0 ] && [ "$job2" != "$job1" ] && [ "$(job_state "$job1")" = FINISHED ] && [ "$(job_state "$job2")" = RUNNING ] &&
	[ -n "$sp" ] && [ "$sp" != null ] && [ "$(journal .savepointReason)" = upgrade ] && [ "$(restored "$job2")" = "$sp" ] &&
	[ "$c2" -ge "$before" ]; then
	ok "parallelism 1 -> 2: stopped with savepoint $sp, resumed as $job2 from it; counter $before before the upgrade, $c2 first after"
else
	fail "savepoint upgrade: rc=$rc job2=$job2 sp=$sp restored=$(restored "$job2") before=$before first=$c2 $(head -3 "$tmp/err")"
fi
if [ "$(status_field lastSavepoint)" = "$sp" ] && status_file | grep -q 'reason: upgrade' &&
	[ "$(status_field observedCommit)" = "$commit2" ] &&
	"$FLINKOPS" wait --repo "$repo" --commit "$commit2" --timeout 5s --interval 1s >/dev/null 2>&1; then
	ok "the status shows lastSavepoint and the new observedCommit; flinkops wait --commit ${commit2:0:7} exits 0"
else
	fail "status after upgrade: sp=$(status_field lastSavepoint) observed=$(status_field observedCommit)"
fi
# the lineage: job2 ran commit 2 from that savepoint; job1 ran commit 1 from empty state and stopped with it
hist=$("$FLINKOPS" status --repo "$repo" --cache "$tmp/scache" -o json counter 2>/dev/null | jq -c '.deployments[0].history')
h2=$(jq -c --arg j "$job2" '[.[] | select(.jobId == $j)][0]' <<<"$hist")
h1=$(jq -c --arg j "$job1" '[.[] | select(.jobId == $j)][0]' <<<"$hist")
if [ "$(jq -r .commit <<<"$h2")" = "$commit2" ] && [ "$(jq -r .startedFromKind <<<"$h2")" = savepoint ] &&
	[ "$(jq -r .startedFrom <<<"$h2")" = "$sp" ] && [ "$(jq -r '.stateAgeSeconds // -1' <<<"$h2")" -ge 0 ] &&
	[ "$(jq -r .commit <<<"$h1")" = "$commit1" ] && [ "$(jq -r .startedFromKind <<<"$h1")" = empty ] &&
	[ "$(jq -r .stoppedWith <<<"$h1")" = "$sp" ] &&
	"$FLINKOPS" status --repo "$repo" --cache "$tmp/scache" counter | grep -q "stopped with $sp"; then
	ok "status counter: $job2 ran ${commit2:0:7} from savepoint (state $(jq -r .stateAgeSeconds <<<"$h2") s old), $job1 ran ${commit1:0:7} from empty state and stopped with it"
else
	fail "lineage after the upgrade: $hist"
fi
# the rollout's steps as Kubernetes Events on the JobManager StatefulSet
if events SavepointCompleted | grep -q "savepoint of job $job1 (upgrade) completed at $sp" &&
	events JobStarted | grep -q "job $job2 RUNNING, started from savepoint $sp" &&
	events JobStarted | grep -q "job $job1 RUNNING, started with empty state" &&
	[ "$($K -n $ns get events --field-selector involvedObject.name=counter-jobmanager,reason=JobStarted \
		-o jsonpath='{.items[0].involvedObject.uid}')" = "$($K -n $ns get sts counter-jobmanager -o jsonpath='{.metadata.uid}')" ]; then
	ok "Events on counter-jobmanager: SavepointCompleted ($sp), JobStarted for $job1 and $job2, with the StatefulSet's uid"
else
	fail "events after the upgrade: $($K -n $ns get events -o custom-columns=REASON:.reason,MSG:.message --no-headers | tr '\n' ';')"
fi

# --- a savepoint that fails: nothing changes, the old job keeps running -------
sleep 1
deployment 3 savepoint "" "file:///proc/flinkops-cannot-write" >"$tmp/work/jobs/counter.yaml"
commit3=$(publish "unwritable savepoint folder")
sync_once
tm=$($K -n $ns get sts counter-taskmanager -o jsonpath='{.spec.replicas}')
if [ $rc = 1 ] && grep -q "$ns/counter: the savepoint of job $job2 failed" "$tmp/err" && [ "$(job_state "$job2")" = RUNNING ] &&
	[ "$tm" = 2 ] && [ "$(journal .jobId)" = "$job2" ]; then
	ok "a failing savepoint: exit 1 with Flink's cause, no object changed (2 TaskManagers), $job2 still RUNNING"
else
	fail "failed savepoint: rc=$rc tm=$tm state=$(job_state "$job2") $(head -3 "$tmp/err")"
fi
"$FLINKOPS" wait --repo "$repo" --commit "$commit3" --timeout 5s --interval 1s >"$tmp/wait" 2>&1
wrc=$?
if [ "$(status_field phase)" = Failed ] && grep -q 'savepoint' <<<"$(status_field message)" && [ $wrc = 1 ] &&
	grep -q 'savepoint' "$tmp/wait"; then
	ok "the status says Failed with the savepoint's cause; flinkops wait exits 1 with it"
else
	fail "status after the failed savepoint: phase=$(status_field phase) wait=$wrc $(head -2 "$tmp/wait")"
fi
if events SavepointFailed | grep -q "the savepoint of job $job2 failed" &&
	events UpgradeFailed | grep -q "the savepoint of job $job2 failed" &&
	[ "$($K -n $ns get events --field-selector involvedObject.name=counter-jobmanager,reason=UpgradeFailed \
		-o jsonpath='{.items[0].type}')" = Warning ]; then
	ok "Events: SavepointFailed and UpgradeFailed (Warning) with Flink's cause"
else
	fail "events after the failed savepoint: $($K -n $ns get events -o custom-columns=REASON:.reason,MSG:.message --no-headers | tr '\n' ';')"
fi

# --- fix the folder and push again: the upgrade goes through -------------------
deployment 3 savepoint >"$tmp/work/jobs/counter.yaml"
commit4=$(publish "fixed savepoint folder")
stop=$(cat "$counter")
sync_once
rm -f "$counter"
job4=$(journal .jobId)
echo "$job4" >>"$tmp/ours"
c4=$(wait_counter)
if [ $rc = 0 ] && [ "$job4" != "$job2" ] && [ "$(job_state "$job4")" = RUNNING ] && [ "$c4" -ge "$stop" ] &&
	[ "$(status_field phase)" = Running ] && [ "$(status_field observedCommit)" = "$commit4" ]; then
	ok "fixed and pushed again: upgraded to parallelism 3 from a savepoint (counter $stop -> $c4), status Running"
else
	fail "after the fix: rc=$rc job4=$job4 first=$c4 stop=$stop phase=$(status_field phase) $(head -3 "$tmp/err")"
fi
job2=$job4

# --- stateless: fresh state --------------------------------------------------
deployment 2 stateless ", --rate, \"300\"" >"$tmp/work/jobs/counter.yaml"
publish "stateless" >/dev/null
high=$(cat "$counter")
sync_once
rm -f "$counter"
job3=$(journal .jobId)
echo "$job3" >>"$tmp/ours"
c3=$(wait_counter)
if [ $rc = 0 ] && [ "$job3" != "$job2" ] && [ "$(job_state "$job3")" = RUNNING ] && [ "$c3" -lt "$high" ]; then
	ok "stateless: cancelled and started fresh as $job3 (counter $c3, was $high)"
else
	fail "stateless: rc=$rc job3=$job3 first=$c3 high=$high $(head -3 "$tmp/err")"
fi

# --- a stateless job that names no savepoint directory, deleted from git ------
# It has nowhere to put a final savepoint (on its own cluster Flink would
# refuse the stop) and keeps no state by its mode: plan says it is
# cancelled, sync cancels it and the delete completes (before, the stop was
# asked for on every pass, for ever).
[ "$(journal .upgradeMode)" = stateless ] && [ "$(journal '.savepointDir // "none"')" = none ] &&
	ok "the journal records what a delete needs: upgradeMode stateless, no savepoint directory" ||
	fail "journal: upgradeMode=$(journal .upgradeMode) savepointDir=$(journal .savepointDir)"
before=$(savepoints_of "$job3")
git -C "$tmp/work" pull -q --rebase origin main
base=$(git -C "$tmp/work" rev-parse HEAD)
git -C "$tmp/work" rm -q jobs/counter.yaml
git -C "$tmp/work" commit -qm "delete the stateless counter"
"$FLINKOPS" plan --repo "$tmp/work" --base "$base" --head HEAD -o json >"$tmp/plan.json" 2>"$tmp/plan.err"
if jq -en 'input | .deployments[] | select(.name == "counter") | .action == "delete" and (.takesSavepoint | not) and
	any(.warnings[]; test("the job is cancelled, with no final savepoint"))' "$tmp/plan.json" >/dev/null; then
	ok "plan: delete, no final savepoint promised, the cancel said"
else
	fail "plan on the stateless delete: $(jq -c '.deployments' "$tmp/plan.json" 2>/dev/null | head -c 400) $(head -2 "$tmp/plan.err")"
fi
for _ in 1 2 3; do
	git -C "$tmp/work" pull -q --rebase origin main 2>/dev/null
	git -C "$tmp/work" push -q origin HEAD:main 2>/dev/null && break
done
# A wrong decision for a deployment gone from git (FLINKOPS_FAULT_DECISION
# stands in for a bug in deploy_next_step: no real server can produce one):
# the executor refuses a step that needs the spec it no longer has. Before
# that guard, `run` dereferenced the absent FlinkDeployment (SIGSEGV) on
# every pass; `upload` the same.
for op in run upload; do
	FLINKOPS_FAULT_DECISION=$op "$FLINKOPS" sync --config "$tmp/config.yaml" --once --force-prune --timeout 20s \
		-o json >"$tmp/out.json" 2>"$tmp/err"
	rc=$?
	left=$($K -n $ns get statefulsets -l app.kubernetes.io/instance=counter -o name 2>/dev/null | wc -l)
	if [ $rc = 1 ] && grep -q "asked for step $op .* but the deployment is gone from git; nothing is done" "$tmp/err" &&
		[ "$(job_state "$job3")" = RUNNING ] && [ "$left" -gt 0 ] && [ "$(journal .jobId)" = "$job3" ]; then
		ok "a wrong decision ($op) for a deployment gone from git: refused with an error (exit 1), job, objects and journal kept"
	else
		fail "wrong decision $op: rc=$rc state=$(job_state "$job3") statefulsets=$left journal=$(journal .jobId) $(grep -v FLINKOPS_FAULT "$tmp/err" | head -3)"
	fi
done
# the only deployment goes: past the prune guard on purpose
"$FLINKOPS" sync --config "$tmp/config.yaml" --once --force-prune -o json >"$tmp/out.json" 2>"$tmp/err"
rc=$?
left=$($K -n $ns get statefulsets -l app.kubernetes.io/instance=counter -o name 2>/dev/null | wc -l)
if [ $rc = 0 ] && [ "$(job_state "$job3")" = CANCELED ] && [ "$(savepoints_of "$job3")" = "$before" ] && [ "$left" = 0 ] &&
	! $K -n $ns get configmap flink-journal-counter >/dev/null 2>&1; then
	ok "sync: job $job3 cancelled (no savepoint), its objects and journal deleted"
else
	fail "stateless delete: rc=$rc state=$(job_state "$job3") savepoints $before -> $(savepoints_of "$job3") statefulsets=$left $(head -3 "$tmp/err")"
fi
