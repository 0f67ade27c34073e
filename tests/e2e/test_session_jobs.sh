#!/usr/bin/env bash
# rig: k8s git flink s3
# FlinkSessionJob as the upstream operator writes it: jobs on a named
# session FlinkDeployment, each with a journal and a status file of its own,
# run over the session cluster's REST API (here the rig's Flink, which
# flink.restUrl points every name at).
#   - a session cluster without replicas and two session jobs a and b: both
#     run; the cluster's TaskManagers are sized for their slots;
#   - b's arguments change: only b takes a savepoint and starts from it; a
#     keeps its job id and its counter goes on; plan said so first;
#   - a savepointTriggerNonce on a: one savepoint, the job runs on, its
#     status file names it and `flinkops wait` on that commit exits 0;
#   - a suspended: the cluster's TaskManagers shrink only after its
#     savepoint; resumed, they grow again and a restores from it;
#   - the cluster's configuration changes (its pods restart): both jobs
#     stop with a savepoint before its objects are applied, and resume from
#     them;
#   - the cluster deleted while a job still names it: refused, at the job's
#     document; nothing is deleted and both jobs keep running;
#   - a deleted: its final savepoint in its status file, b untouched;
#   - the cluster and b deleted in one change: b stops with its final
#     savepoint first, then the cluster's objects go.
NAME=sjob
. "$(dirname "$0")/lib-rollout.sh"
ca=$tmp/counter-a
cb=$tmp/counter-b
cluster() { # cluster [EXTRA_CONF]
	# the rig's one Flink runs every test's jobs: seen from sess, the other
	# tests' jobs are jobs no FlinkSessionJob of this repository manages,
	# which would hold its delete (block-on-unmanaged-jobs; the pods test
	# test_pods_session.sh shows that on a cluster of its own)
	local conf="  flinkConfiguration: {kubernetes.operator.session.deletion.block-on-unmanaged-jobs: \"false\"${1:+, $1}}"
	cat <<EOF
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: sess, namespace: $ns}
spec:
  image: flink:1.20
  flinkVersion: v1_20
  jobManager: {resource: {memory: 1g}}
  taskManager: {resource: {memory: 1g}}
$conf
EOF
}
sjob() { # sjob NAME COUNTER [REPORT_MS]
	cat <<EOF
apiVersion: flink.apache.org/v1beta1
kind: FlinkSessionJob
metadata: {name: $1, namespace: $ns}
spec:
  deploymentName: sess
  flinkConfiguration:
    execution.checkpointing.timeout: 77s
  job:
    jarURI: s3://$RIG_S3_BUCKET/$RIG_S3_TEST_KEY
    entryClass: $RIG_FLINK_JOB_CLASS
    args: [--counter-file, $2, --report-ms, "${3:-100}"]
    parallelism: 1
    upgradeMode: savepoint
EOF
}
jr() { $K -n $ns get configmap "flink-journal-$1" -o jsonpath='{.data.journal\.json}' 2>/dev/null | jq -r "$2"; }
sfield() {
	"$FLINKOPS" status --repo "$repo" --cache "$tmp/scache" -o json 2>/dev/null |
		jq -r --arg n "$1" --arg f "$2" '.deployments[] | select(.name==$n) | .[$f] // ""'
}
grows() { # grows FILE: the counter in FILE moves on within 10 s
	local a
	a=$(cat "$1" 2>/dev/null || echo 0)
	for _ in $(seq 1 100); do
		[ "$(cat "$1" 2>/dev/null || echo 0)" -gt "$a" ] && return 0
		sleep 0.1
	done
	return 1
}
note_jobs() { for j in a b; do jr $j .jobId; done >>"$tmp/ours"; }

# --- a session cluster and two jobs on it -------------------------------------------
cluster >"$tmp/work/jobs/sess.yaml"
sjob a "$ca" >"$tmp/work/jobs/a.yaml"
sjob b "$cb" >"$tmp/work/jobs/b.yaml"
publish "a session cluster, two session jobs" >/dev/null
sync_once
note_jobs
a1=$(jr a .jobId)
b1=$(jr b .jobId)
tms=$($K -n $ns get sts sess-taskmanager -o jsonpath='{.spec.replicas}')
if [ $rc = 0 ] && [ -n "$a1" ] && [ -n "$b1" ] && [ "$a1" != "$b1" ] && [ "$(job_state "$a1")" = RUNNING ] &&
	[ "$(job_state "$b1")" = RUNNING ] && [ "$(jr a .sessionCluster)" = sess ] && grows "$ca" && grows "$cb" &&
	[ "$tms" = 2 ] && [ "$(sfield a phase)" = Running ] && [ "$(sfield b jobId)" = "$b1" ] &&
	! $K -n $ns get sts a-jobmanager >/dev/null 2>&1 &&
	[ "$(curl -s "$RIG_FLINK_URL/jobs/$a1/checkpoints/config" | jq .timeout)" = 77000 ]; then
	ok "session cluster sess and FlinkSessionJobs a ($a1) and b ($b1) RUNNING on it, each journaled (sessionCluster sess) with a status file; 2 TaskManagers for their 2 slots; no objects of their own; a's flinkConfiguration went with its submission (checkpoint timeout 77 s)"
else
	fail "create: rc=$rc a=$a1 b=$b1 states=$(job_state "$a1")/$(job_state "$b1") tms=$tms phase=$(sfield a phase) timeout=$(curl -s "$RIG_FLINK_URL/jobs/$a1/checkpoints/config" | jq .timeout) $(tail -3 "$tmp/err")"
fi

# --- plan --live after the sync: nothing would change ---------------------------------
"$FLINKOPS" plan --live --config "$tmp/config.yaml" >"$tmp/live" 2>&1
lrc=$?
[ $lrc = 0 ] && grep -q '0 of 3 deployments would change' "$tmp/live" &&
	ok "plan --live after the sync: 0 of 3 deployments would change (the session jobs judged by their journals)" ||
	fail "plan --live after create: exit $lrc $(tail -5 "$tmp/live")"

# --- b changes: only b savepoints and upgrades --------------------------------------
sjob b "$cb" 50 >"$tmp/work/jobs/b.yaml"
git -C "$tmp/work" add -A && git -C "$tmp/work" commit -qm "b reports faster"
"$FLINKOPS" plan --repo "$tmp/work" --base HEAD~1 --head HEAD -o json >"$tmp/plan.json" 2>/dev/null
prc=$?
publish "b reports faster" >/dev/null
before_a=$(cat "$ca")
sync_once
note_jobs
b2=$(jr b .jobId)
spb=$(jr b .savepointPath)
if [ $prc = 2 ] && [ "$(jq -r '[.deployments[] | select(.name=="b")][0] | .action + " " + (.takesSavepoint|tostring) + " " + .sessionCluster' "$tmp/plan.json")" = "upgrade true sess" ] &&
	[ "$(jq '[.deployments[] | select(.name!="b")] | length' "$tmp/plan.json")" = 0 ] &&
	[ $rc = 0 ] && [ "$b2" != "$b1" ] && [ "$(job_state "$b2")" = RUNNING ] && [ "$(restored "$b2")" = "$spb" ] &&
	[ "$(jr b .savepointReason)" = upgrade ] && [ "$(jr a .jobId)" = "$a1" ] && [ "$(job_state "$a1")" = RUNNING ] &&
	[ "$(jr a .savepointPath)" = null ] && [ "$(cat "$ca")" -ge "$before_a" ] && grows "$ca"; then
	ok "b's arguments changed: plan said upgrade of b alone, with a savepoint, on sess; b stopped with $spb and resumed as $b2 from it; a untouched (same job $a1, no savepoint, counter went on)"
else
	fail "b upgrade: plan rc=$prc $(jq -c '.deployments' "$tmp/plan.json" | cut -c1-300) rc=$rc b2=$b2 sp=$spb restored=$(restored "$b2") a=$(jr a .jobId) $(tail -3 "$tmp/err")"
fi

# --- a nonce on a: one savepoint of a, the job keeps running; wait sees it ----------
sjob a "$ca" | sed 's/^    upgradeMode: savepoint$/&\n    savepointTriggerNonce: 1/' >"$tmp/work/jobs/a.yaml"
ncommit=$(publish "a: savepointTriggerNonce 1")
sync_once
spn=$(jr a .savepointPath)
if [ $rc = 0 ] && [ "$(jr a .jobId)" = "$a1" ] && [ "$(job_state "$a1")" = RUNNING ] && [ "$(jr a .savepointReason)" = manual ] &&
	[ "$(savepoints_of "$a1")" = 1 ] && [ "$(sfield a lastSavepoint)" = "$spn" ] && [ "$(jr b .jobId)" = "$b2" ] &&
	"$FLINKOPS" wait --repo "$repo" --commit "$ncommit" --timeout 10s --interval 1s >"$tmp/wait" 2>&1; then
	ok "savepointTriggerNonce 1 on a: one savepoint ($spn) of $a1, which keeps running; status/$ns/a.yaml names it; flinkops wait --commit ${ncommit:0:7} exits 0"
else
	fail "nonce on a: rc=$rc job=$(jr a .jobId) reason=$(jr a .savepointReason) savepoints=$(savepoints_of "$a1") status=$(sfield a lastSavepoint) wait: $(tail -2 "$tmp/wait") $(tail -3 "$tmp/err")"
fi

# --- a suspended: its savepoint first, then the cluster shrinks; resumed: it grows ---
sjob a "$ca" | sed 's/^    upgradeMode: savepoint$/&\n    savepointTriggerNonce: 1\n    state: suspended/' >"$tmp/work/jobs/a.yaml"
publish "a suspended" >/dev/null
sync_once
sps=$(jr a .savepointPath)
tms=$($K -n $ns get sts sess-taskmanager -o jsonpath='{.spec.replicas}')
if [ $rc = 0 ] && [ "$(job_state "$a1")" = FINISHED ] && [ "$(jr a .savepointReason)" = suspend ] && [ "$tms" = 1 ] &&
	grep -q "$ns/sess: waiting: its pods restart (or its TaskManagers shrink) once its session jobs (a) have stopped" "$tmp/err" &&
	[ "$(sfield a phase)" = Suspended ] && [ "$(jr b .jobId)" = "$b2" ] && [ "$(job_state "$b2")" = RUNNING ]; then
	ok "a suspended: the cluster's shrink to 1 TaskManager waited until a stopped with $sps; b runs on"
else
	fail "suspend a: rc=$rc state=$(job_state "$a1") reason=$(jr a .savepointReason) tms=$tms phase=$(sfield a phase) b=$(job_state "$b2") $(grep -c 'TaskManagers shrink' "$tmp/err") $(tail -3 "$tmp/err")"
fi
sjob a "$ca" | sed 's/^    upgradeMode: savepoint$/&\n    savepointTriggerNonce: 1/' >"$tmp/work/jobs/a.yaml"
publish "a resumed" >/dev/null
sync_once
note_jobs
a1=$(jr a .jobId)
tms=$($K -n $ns get sts sess-taskmanager -o jsonpath='{.spec.replicas}')
if [ $rc = 0 ] && [ "$(job_state "$a1")" = RUNNING ] && [ "$(restored "$a1")" = "$sps" ] && [ "$tms" = 2 ] && grows "$ca"; then
	ok "a resumed: 2 TaskManagers again, a runs as $a1 from its suspend savepoint"
else
	fail "resume a: rc=$rc job=$a1 state=$(job_state "$a1") restored=$(restored "$a1") want $sps tms=$tms $(tail -3 "$tmp/err")"
fi

# --- the cluster's pods restart: its jobs stop with a savepoint first ---------------
cluster 'pipeline.auto-watermark-interval: 300ms' >"$tmp/work/jobs/sess.yaml"
git -C "$tmp/work" add -A && git -C "$tmp/work" commit -qm "a cluster configuration change"
"$FLINKOPS" plan --repo "$tmp/work" --base HEAD~1 --head HEAD -o json >"$tmp/plan.json" 2>/dev/null
publish "a cluster configuration change" >/dev/null
sync_once
note_jobs
a3=$(jr a .jobId)
b3=$(jr b .jobId)
spa=$(jr a .savepointPath)
spb3=$(jr b .savepointPath)
conf=$($K -n $ns get configmap flink-config-sess -o json | jq -r '.data | to_entries[] | .value' | grep -c auto-watermark-interval)
# the JobManager's StatefulSet was applied after both savepoints were recorded
sts_rv_time=$($K -n $ns get sts sess-jobmanager -o json --show-managed-fields | jq -r '.metadata.managedFields[] | select(.manager=="flinkops") | .time' | sort | tail -1)
if [ $rc = 0 ] && [ "$a3" != "$a1" ] && [ "$b3" != "$b2" ] && [ "$(restored "$a3")" = "$spa" ] &&
	[ "$(restored "$b3")" = "$spb3" ] && [ "$spb3" != "$spb" ] && [ "$(job_state "$a3")" = RUNNING ] &&
	[ "$(job_state "$b3")" = RUNNING ] && [ "$conf" -ge 1 ] &&
	[ "$(jq -r '[.deployments[] | select(.name=="sess")][0].sessionJobsSavepointed' "$tmp/plan.json")" = "a, b" ] &&
	grep -q "session jobs (a, b) have stopped with a savepoint\|session jobs (b, a) have stopped with a savepoint" "$tmp/err" &&
	[ "$(jr a .savepointTime | cut -c1-19)" \< "$(cut -c1-19 <<<"$sts_rv_time")" -o "$(jr a .savepointTime | cut -c1-19)" = "$(cut -c1-19 <<<"$sts_rv_time")" ]; then
	ok "sess's configuration changed (its pods restart): plan named a, b to be savepointed; the cluster waited for them, a stopped with $spa and b with $spb3, the new objects were applied, and both resumed from their savepoints ($a3, $b3)"
else
	jq -c '.deployments' "$tmp/plan.json"
	fail "cluster restart: rc=$rc a3=$a3 b3=$b3 spa=$spa restored=$(restored "$a3") spb=$spb3 restored=$(restored "$b3") conf=$conf plan=$(jq -c '[.deployments[] | select(.name=="sess")]' "$tmp/plan.json" | cut -c1-200) sts=$sts_rv_time sp=$(jr a .savepointTime) $(grep -c "session jobs" "$tmp/err") $(tail -3 "$tmp/err")"
fi

# --- the cluster deleted while its jobs remain: refused -----------------------------
git -C "$tmp/work" rm -q jobs/sess.yaml
publish "remove the session cluster alone" >/dev/null
sync_once
if [ $rc != 0 ] && grep -q "a.yaml:1:1: FlinkSessionJob $ns/a: deploymentName sess names no FlinkDeployment" "$tmp/err" &&
	$K -n $ns get sts sess-jobmanager >/dev/null 2>&1 && [ "$(jr a .jobId)" = "$a3" ] &&
	[ "$(job_state "$a3")" = RUNNING ] && [ "$(job_state "$b3")" = RUNNING ]; then
	ok "the session cluster removed while a and b still name it: exit $rc, reported at jobs/a.yaml:1:1; nothing deleted, both jobs still RUNNING"
else
	fail "cluster removed alone: rc=$rc $(grep -m1 deploymentName "$tmp/err") sts=$($K -n $ns get sts sess-jobmanager -o name 2>&1) $(tail -3 "$tmp/err")"
fi
cluster 'pipeline.auto-watermark-interval: 300ms' >"$tmp/work/jobs/sess.yaml"
publish "the session cluster back" >/dev/null

# --- a deleted: its final savepoint in its status file ------------------------------
git -C "$tmp/work" rm -q jobs/a.yaml
publish "remove session job a" >/dev/null
sync_once
spa_final=$(sfield a lastSavepoint)
if [ $rc = 0 ] && [ "$(job_state "$a3")" = FINISHED ] && [ -n "$spa_final" ] && [ "$spa_final" != "$spa" ] &&
	[ "$(sfield a phase)" = Deleted ] && ! $K -n $ns get configmap flink-journal-a >/dev/null 2>&1 &&
	[ "$(jr b .jobId)" = "$b3" ] && [ "$(job_state "$b3")" = RUNNING ] && $K -n $ns get sts sess-jobmanager >/dev/null; then
	ok "session job a removed from git: stopped with its final savepoint $spa_final, which status/$ns/a.yaml records (Deleted); its journal gone; b and the cluster untouched"
else
	fail "a deleted: rc=$rc state=$(job_state "$a3") final=$spa_final phase=$(sfield a phase) b=$(jr b .jobId) $(tail -3 "$tmp/err")"
fi

# --- the cluster and b in one change: b first, then the cluster ---------------------
git -C "$tmp/work" rm -q jobs/sess.yaml jobs/b.yaml
publish "remove the cluster and b" >/dev/null
# two of two deployments: past the prune guard's share, on purpose
"$FLINKOPS" sync --config "$tmp/config.yaml" --once --force-prune -o json >"$tmp/out.json" 2>"$tmp/err"
rc=$?
spb_final=$(sfield b lastSavepoint)
if [ $rc = 0 ] && [ "$(job_state "$b3")" = FINISHED ] && [ -n "$spb_final" ] && [ "$spb_final" != "$spb3" ] &&
	[ "$(sfield b phase)" = Deleted ] && [ "$(sfield sess phase)" = Deleted ] &&
	stop_line=$(grep -n "$ns/b: stopping job $b3 with a savepoint (delete" "$tmp/err" | head -1 | cut -d: -f1) &&
	del_line=$(grep -n "$ns/sess: gone from git: deleting its objects" "$tmp/err" | head -1 | cut -d: -f1) &&
	[ -n "$stop_line" ] && [ -n "$del_line" ] && [ "$stop_line" -lt "$del_line" ] &&
	! $K -n $ns get sts sess-jobmanager >/dev/null 2>&1 && ! $K -n $ns get configmap flink-journal-b >/dev/null 2>&1; then
	ok "the cluster and b removed in one change: b stopped with its final savepoint $spb_final (status Deleted), then the cluster's objects were deleted"
else
	fail "cluster and b deleted: rc=$rc state=$(job_state "$b3") final=$spb_final phases=$(sfield b phase)/$(sfield sess phase) sts=$($K -n $ns get sts -o name 2>&1) journal=$($K -n $ns get configmap flink-journal-b -o name 2>&1) lines: b stop ${stop_line:-none}, sess delete ${del_line:-none} $(tail -3 "$tmp/err")"
fi
