#!/usr/bin/env bash
# rig: k8s git flink s3 pods
# FlinkSessionJobs on a session cluster flinkops renders and the rig's real
# node runs (JobManager and TaskManager pods of the locally built Flink
# image): the session FlinkDeployment and two FlinkSessionJobs come from
# git, their jars from S3, and each job is run over the cluster's own REST
# API (its headless Service, resolved by the rig's CoreDNS).
#   - create: the cluster's pods boot (one TaskManager of two slots, sized
#     for the two jobs), then both jobs run on its JobManager;
#   - a's jar changes (a new version of it on S3): only a takes a savepoint
#     and starts from it; b keeps its job id and its counter goes on;
#   - a deleted from git: it stops with a final savepoint, which its status
#     file records; b still runs;
#   - a FlinkStateSnapshot of b committed: its savepoint is on the shared
#     folder and its status file names it, b runs on; a new FlinkSessionJob
#     c names that path as its initialSavepointPath, and Flink says c
#     restored from it (its counter goes on from b's state).
#   - a job submitted by hand to the cluster holds a restart of its pods (a
#     configuration change: Failed, the job named, b and c not stopped) and
#     its delete from git (the session jobs go, each with its final
#     savepoint; the cluster stays) until it is cancelled; then it goes.
NAME=pods-sj
. "$(dirname "$0")/lib-pods.sh"
ca=$shared/counter-a
cb=$shared/counter-b
cluster() {
	cat <<EOF
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: counter, namespace: $ns}
spec:
  image: {repository: $RIG_PODS_FLINK_REPOSITORY, tag: "$RIG_PODS_FLINK_TAG", pullPolicy: Never}
  flinkVersion: v1_20
  flinkConfiguration:
    taskmanager.numberOfTaskSlots: "2"
    execution.checkpointing.dir: file://$shared/checkpoints
    execution.checkpointing.savepoint-dir: file://$shared/savepoints
  podTemplate:
    spec:
      volumes: [{name: shared, hostPath: {path: $shared, type: Directory}}]
      containers: [{name: flink-main-container, volumeMounts: [{name: shared, mountPath: $shared}]}]
  jobManager: {resource: {memory: 768m, cpu: 0.5}}
  taskManager: {resource: {memory: 1024m, cpu: 0.5}}
EOF
}
sjob() { # sjob NAME COUNTER JAR_KEY
	cat <<EOF
apiVersion: flink.apache.org/v1beta1
kind: FlinkSessionJob
metadata: {name: $1, namespace: $ns}
spec:
  deploymentName: counter
  job:
    jarURI: s3://$RIG_S3_BUCKET/$3
    entryClass: $RIG_FLINK_JOB_CLASS
    args: [--counter-file, $2, --report-ms, "100"]
    parallelism: 1
    upgradeMode: savepoint
EOF
}
jr() { $K -n $ns get configmap "flink-journal-$1" -o jsonpath='{.data.journal\.json}' 2>/dev/null | jq -r "$2"; }
sfield() {
	"$FLINKOPS" status --repo "$repo" --cache "$tmp/scache" -o json 2>/dev/null |
		jq -r --arg n "$1" --arg f "$2" '.deployments[] | select(.name==$n) | .[$f] // ""'
}
grows() { # grows FILE: the counter in FILE moves on within 20 s
	local a
	a=$(cat "$1" 2>/dev/null || echo 0)
	for _ in $(seq 1 200); do
		[ "$(cat "$1" 2>/dev/null || echo 0)" -gt "$a" ] && return 0
		sleep 0.1
	done
	return 1
}

# --- create: the cluster's pods, then both jobs on its JobManager ----------------------
cluster >"$tmp/work/jobs/counter.yaml"
sjob a "$ca" "$RIG_S3_TEST_KEY" >"$tmp/work/jobs/a.yaml"
sjob b "$cb" "$RIG_S3_TEST_KEY" >"$tmp/work/jobs/b.yaml"
publish "a session cluster and two session jobs" >/dev/null
t0=$SECONDS
sync_once
a1=$(jr a .jobId)
b1=$(jr b .jobId)
tms=$($K -n $ns get sts counter-taskmanager -o jsonpath='{.status.readyReplicas}')
if [ $rc = 0 ] && [ -n "$a1" ] && [ -n "$b1" ] && [ "$(job_state "$a1")" = RUNNING ] && [ "$(job_state "$b1")" = RUNNING ] &&
	grows "$ca" && grows "$cb" && [ "$tms" = 1 ] && [ "$(sfield a phase)" = Running ] && [ "$(sfield b phase)" = Running ]; then
	ok "created in $((SECONDS - t0)) s: counter-jobmanager-0 and one TaskManager of 2 slots on $RIG_PODS_NODE; session jobs a ($a1) and b ($b1) RUNNING on that JobManager ($(jm_url)), both counters moving"
else
	fail "create: rc=$rc a=$a1 b=$b1 states=$(job_state "$a1")/$(job_state "$b1") tms=$tms $(tail -3 "$tmp/err")"
	$K -n $ns get pods -o wide
	exit 1
fi

# --- a's jar changes: only a savepoints and upgrades --------------------------------
v2key=e2e-$NAME-$$/counter-v2.jar
"$RIG_S3_PUT" "$RIG_S3_BUCKET" "$v2key" "$RIG_S3_TEST_FILE" >/dev/null || fail "the second version of the jar was not put on S3"
sjob a "$ca" "$v2key" >"$tmp/work/jobs/a.yaml"
publish "a: a new version of its jar" >/dev/null
before=$(cat "$ca")
sync_once
a2=$(jr a .jobId)
spa=$(jr a .savepointPath)
rm -f "$ca"
for _ in $(seq 1 150); do [ -s "$ca" ] && break; sleep 0.1; done
first=$(cat "$ca" 2>/dev/null || echo 0)
if [ $rc = 0 ] && [ -n "$a2" ] && [ "$a2" != "$a1" ] && [ "$(job_state "$a2")" = RUNNING ] &&
	[ "$(restored "$a2")" = "$spa" ] && [ -d "${spa#file:}" ] && [ "$first" -ge "$before" ] &&
	[ "$(jr b .jobId)" = "$b1" ] && [ "$(job_state "$b1")" = RUNNING ] && [ "$(jr b .savepointPath)" = null ] && grows "$cb"; then
	ok "a's jar changed: a stopped with $spa and resumed as $a2 from it (counter $before before, $first first after); b untouched: same job $b1, no savepoint, its counter moving"
else
	fail "a upgrade: rc=$rc a2=$a2 sp=$spa restored=$(restored "$a2") before=$before first=$first b=$(jr b .jobId)/$(job_state "$b1") $(tail -3 "$tmp/err")"
fi

# --- a deleted: its final savepoint in its status file ------------------------------
git -C "$tmp/work" rm -q jobs/a.yaml
publish "remove session job a" >/dev/null
sync_once
final=$(sfield a lastSavepoint)
if [ $rc = 0 ] && [ "$(job_state "$a2")" = FINISHED ] && [ -n "$final" ] && [ "$final" != "$spa" ] && [ -d "${final#file:}" ] &&
	[ "$(sfield a phase)" = Deleted ] && ! $K -n $ns get configmap flink-journal-a >/dev/null 2>&1 &&
	[ "$(job_state "$b1")" = RUNNING ] && grows "$cb"; then
	ok "a removed from git: stopped with its final savepoint $final, recorded in status/$ns/a.yaml (Deleted); b still RUNNING"
else
	fail "a deleted: rc=$rc state=$(job_state "$a2") final=$final phase=$(sfield a phase) b=$(job_state "$b1") $(tail -3 "$tmp/err")"
fi

# --- a snapshot of b; a new session job c starts from it ------------------------------
cat >"$tmp/work/jobs/snap.yaml" <<EOF
apiVersion: flink.apache.org/v1beta1
kind: FlinkStateSnapshot
metadata: {name: snap-b, namespace: $ns}
spec:
  backoffLimit: 1
  jobReference: {kind: FlinkSessionJob, name: b}
  savepoint: {disposeOnDelete: false}
EOF
publish "a snapshot of b" >/dev/null
sync_once
snap=$($K -n $ns get configmap flink-snapshot-snap-b -o jsonpath='{.data.snapshot\.json}' 2>/dev/null | jq -r .path)
at=$(cat "$cb")
if [ $rc = 0 ] && [ -n "$snap" ] && [ "$snap" != null ] && [ -e "${snap#file:}/_metadata" ] && [ "$(sfield snap-b phase)" = Completed ] &&
	[ "$(jr b .jobId)" = "$b1" ] && [ "$(job_state "$b1")" = RUNNING ]; then
	ok "FlinkStateSnapshot snap-b: savepoint $snap of b ($b1) on the shared folder, status Completed; b runs on"
else
	fail "snapshot: rc=$rc path=$snap phase=$(sfield snap-b phase) b=$(jr b .jobId)/$(job_state "$b1") $(tail -3 "$tmp/err")"
fi
cc=$shared/counter-c
sjob c "$cc" "$RIG_S3_TEST_KEY" | sed "s|^    upgradeMode: savepoint$|&\n    initialSavepointPath: $snap|" >"$tmp/work/jobs/c.yaml"
publish "session job c from snap-b" >/dev/null
sync_once
c1=$(jr c .jobId)
for _ in $(seq 1 150); do [ -s "$cc" ] && break; sleep 0.1; done
firstc=$(cat "$cc" 2>/dev/null || echo 0)
if [ $rc = 0 ] && [ -n "$c1" ] && [ "$(job_state "$c1")" = RUNNING ] && [ "$(restored "$c1")" = "$snap" ] &&
	[ "$firstc" -gt 0 ] && grows "$cc" && [ "$(job_state "$b1")" = RUNNING ]; then
	ok "FlinkSessionJob c with initialSavepointPath $snap: Flink restored $c1 from the snapshot (its counter went on from b's state: $firstc; b was at $at); b still RUNNING"
else
	fail "c from snapshot: rc=$rc c=$c1 state=$(job_state "$c1") restored=$(restored "$c1") first=$firstc $(tail -3 "$tmp/err")"
fi

# --- a job no FlinkSessionJob manages holds the cluster's delete -----------------------
# (upstream's kubernetes.operator.session.deletion.block-on-unmanaged-jobs,
# on by default): submitted by hand to the cluster's JobManager, it would
# die with the cluster without a savepoint
jar=$(curl -s --max-time 60 -H 'Expect:' -F "jarfile=@$RIG_FLINK_JOB_JAR;type=application/java-archive" "$(jm_url)/jars/upload" |
	jq -r '.filename // empty')
cu=$shared/counter-u
u=$(curl -s --max-time 60 -X POST -H 'Content-Type: application/json' \
	-d "$(jq -cn --arg c "$RIG_FLINK_JOB_CLASS" --arg f "$cu" '{entryClass: $c, programArgsList: ["--counter-file", $f, "--report-ms", "100"], parallelism: 1}')" \
	"$(jm_url)/jars/${jar##*/}/run" | jq -r '.jobid // empty')
# its pods' restart (a configuration change) waits too: without high
# availability u would not come back; b and c are not stopped for it
cluster | sed 's|^  flinkConfiguration:$|&\n    pipeline.auto-watermark-interval: 300ms|' >"$tmp/work/jobs/counter.yaml"
publish "a configuration change of the cluster" >/dev/null
jm_uid=$($K -n $ns get pod counter-jobmanager-0 -o jsonpath='{.metadata.uid}')
sync_once
msg=$(sfield counter message)
if [ -n "$u" ] && [ $rc = 1 ] && [ "$(sfield counter phase)" = Failed ] &&
	grep -q "its pods would restart under jobs that no FlinkSessionJob manages, which without high availability would not come back: $u" <<<"$msg" &&
	[ "$($K -n $ns get pod counter-jobmanager-0 -o jsonpath='{.metadata.uid}')" = "$jm_uid" ] &&
	[ "$(jr b .jobId)" = "$b1" ] && [ "$(job_state "$b1")" = RUNNING ] && [ "$(jr c .jobId)" = "$c1" ] &&
	[ "$(job_state "$c1")" = RUNNING ] && grows "$cb"; then
	ok "a job submitted by hand ($u): the cluster's configuration change does not restart its pods (Failed, the job named); b and c keep running, not stopped"
else
	fail "restart hold: u=$u rc=$rc phase=$(sfield counter phase) msg=$msg b=$(jr b .jobId)/$(job_state "$b1") c=$(jr c .jobId)/$(job_state "$c1") $(tail -3 "$tmp/err")"
fi
git -C "$tmp/work" rm -q jobs/counter.yaml jobs/b.yaml jobs/c.yaml jobs/snap.yaml
publish "the session cluster and its jobs removed" >/dev/null
sync_once --force-prune
msg=$(sfield counter message)
ustate=$(job_state "$u")
if [ -n "$u" ] && [ $rc = 1 ] && [ "$(sfield counter phase)" = Failed ] && grep -q "jobs that no FlinkSessionJob manages run on the session cluster: $u" <<<"$msg" &&
	$K -n $ns get sts counter-jobmanager >/dev/null 2>&1 && [ -n "$ustate" ] && [ "$ustate" != CANCELED ] &&
	[ "$(sfield b phase)" = Deleted ] && [ "$(sfield c phase)" = Deleted ] && [ -n "$(sfield c lastSavepoint)" ]; then
	ok "the cluster removed from git with a job submitted by hand ($u, $ustate) on it: b and c stop with their final savepoints, the cluster stays (Failed: the job named)"
else
	fail "unmanaged job: u=$u ($ustate) rc=$rc phase=$(sfield counter phase) msg=$msg b=$(sfield b phase) c=$(sfield c phase) $(tail -3 "$tmp/err")"
fi
curl -s --max-time 30 -X PATCH "$(jm_url)/jobs/$u?mode=cancel" >/dev/null
for _ in $(seq 1 100); do [ "$(job_state "$u")" = CANCELED ] && break; sleep 0.2; done
sync_once --force-prune
if [ $rc = 0 ] && [ "$(sfield counter phase)" = Deleted ] && [ -z "$($K -n $ns get sts,svc,configmap -l app.kubernetes.io/instance=counter -o name 2>/dev/null)" ]; then
	ok "once that job is cancelled, the next pass deletes the cluster (Deleted)"
else
	fail "cluster delete after the cancel: rc=$rc phase=$(sfield counter phase) $(sfield counter message) $(tail -3 "$tmp/err")"
fi
