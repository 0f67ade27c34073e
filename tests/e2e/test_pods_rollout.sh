#!/usr/bin/env bash
# rig: k8s git flink s3 pods
# Rollouts on the Flink processes flinkops renders, not on the shared
# MiniCluster: the rig's pods part runs each rendered pod as a real
# JobManager or TaskManager (kubelet, containerd, runc, the locally built
# Flink image). The counter job runs on its own deployment's JobManager,
# reached through the REST URL template — here the JobManager's headless
# Service, http://{name}.{namespace}.svc.cluster.local:8081, resolved by the
# rig's CoreDNS (the agent gets a resolv.conf naming it, in a mount
# namespace of its own) — and savepoints, checkpoints and the counter file
# live on a hostPath volume every pod mounts at the same path.
#   - create: a JobManager and a TaskManager pod boot from the rendered
#     ConfigMap; the job runs there;
#   - parallelism 1 -> 2 (one slot a TaskManager) scales the TaskManagers
#     1 -> 2 (a new pod), through a savepoint; the job runs at 2; the
#     counter continues;
#   - a Flink configuration change restarts every pod under the running
#     job: flinkops stops it with a savepoint, waits until the StatefulSets
#     rolled out, and resumes it on the new pods;
#   - kubectl delete pod NAME-taskmanager-0: the pod comes back and Flink
#     recovers the job from its checkpoint by itself; flinkops changes
#     nothing in the cluster, and the status file records Flink's restart
#     (job.restarts, Flink's numRestarts);
#   - the agent SIGKILLed at every crash point, then run again: one job,
#     a new one, started from exactly the old job's final state (the stop's
#     savepoint, or last-state its newest checkpoint), one savepoint per
#     stop, the counter never resets.
NAME=pods
. "$(dirname "$0")/lib-pods.sh"
taskmanagers() { curl -s --max-time 5 "$(jm_url)/taskmanagers" | jq '.taskmanagers | length'; }
uids() { $K -n $ns get pods -l app.kubernetes.io/instance=counter -o jsonpath='{range .items[*]}{.metadata.uid} {end}'; }

# deployment PARALLELISM MODE SLOTS [EXTRA_CONF_LINE]: half a core a pod
# (the node has two: a JobManager and three TaskManagers fit)
pods_deployment() {
	cat <<EOF
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: counter, namespace: $ns}
spec:
  image: {repository: $RIG_PODS_FLINK_REPOSITORY, tag: "$RIG_PODS_FLINK_TAG", pullPolicy: Never}
  flinkVersion: v1_20
  flinkConfiguration:
    taskmanager.numberOfTaskSlots: "$3"
    execution.checkpointing.dir: file://$shared/checkpoints
${4:+    $4}
  podTemplate:
    spec:
      volumes: [{name: shared, hostPath: {path: $shared, type: Directory}}]
      containers: [{name: flink-main-container, volumeMounts: [{name: shared, mountPath: $shared}]}]
  jobManager: {resource: {memory: 768m, cpu: 0.5}}
  taskManager: {resource: {memory: 1024m, cpu: 0.5}}
  job:
    jarURI: s3://$RIG_S3_BUCKET/$RIG_S3_TEST_KEY
    entryClass: $RIG_FLINK_JOB_CLASS
    args: [--counter-file, $counter, --report-ms, "100"]
    parallelism: $1
    upgradeMode: $2
    savepointStorage: file://$shared/savepoints
EOF
}

# --- create: the rendered pods boot and run the job -------------------------------
pods_deployment 1 savepoint 1 >"$tmp/work/jobs/counter.yaml"
commit=$(publish "counter job on its own pods")
t0=$SECONDS
sync_once
job=$(journal .jobId)
nodes=$($K -n $ns get pods -o jsonpath='{range .items[*]}{.spec.nodeName} {end}')
if [ $rc = 0 ] && [ "$(job_state "$job")" = RUNNING ] && [ "$(taskmanagers)" = 1 ] && counter_grows_to 30 &&
	[ "$nodes" = "$RIG_PODS_NODE $RIG_PODS_NODE " ] && [ "$(status_field phase)" = Running ]; then
	ok "created in $((SECONDS - t0)) s: counter-jobmanager-0 and counter-taskmanager-0 run on $RIG_PODS_NODE, job $job RUNNING on that JobManager ($(jm_url)), counter $(cat "$counter")"
else
	fail "create on pods: rc=$rc job=$job state=$(job_state "$job") tms=$(taskmanagers) nodes=$nodes $(tail -3 "$tmp/err")"
	$K -n $ns get pods -o wide
	exit 1
fi

# --- scale: parallelism 1 -> 2 is a second TaskManager pod ------------------------
pods_deployment 2 savepoint 1 >"$tmp/work/jobs/counter.yaml"
publish "parallelism 2: two TaskManagers" >/dev/null
before=$(cat "$counter")
t0=$SECONDS
sync_once
job2=$(journal .jobId)
sp=$(journal .savepointPath)
stop=$(cat "$counter")
rm -f "$counter"
first=$(wait_counter)
par=$(curl -s --max-time 5 "$(jm_url)/jobs/$job2" | jq '[.vertices[].parallelism] | max')
if [ $rc = 0 ] && [ "$job2" != "$job" ] && [ "$(job_state "$job2")" = RUNNING ] && [ "$(taskmanagers)" = 2 ] &&
	[ "$par" = 2 ] && [ "$(restored "$job2")" = "$sp" ] && [ -d "${sp#file:}" ] && [ "$first" -ge "$before" ] &&
	[ "$($K -n $ns get sts counter-taskmanager -o jsonpath='{.status.readyReplicas}')" = 2 ]; then
	ok "parallelism 1 -> 2 in $((SECONDS - t0)) s: 2 TaskManager pods, $job2 runs at 2, restored from $sp; counter $before before, $first first after"
else
	fail "scale: rc=$rc job2=$job2 tms=$(taskmanagers) parallelism=$par restored=$(restored "$job2") sp=$sp before=$before first=$first $(tail -3 "$tmp/err")"
fi

# --- a configuration change restarts every pod under the running job ------------
old_uids=$(uids)
counter_grows_to $(($(cat "$counter") + 20))
pods_deployment 2 savepoint 1 'pipeline.auto-watermark-interval: 300ms' >"$tmp/work/jobs/counter.yaml"
publish "a Flink configuration change" >/dev/null
before=$(cat "$counter")
t0=$SECONDS
sync_once
job3=$(journal .jobId)
sp3=$(journal .savepointPath)
rm -f "$counter"
first=$(wait_counter)
new_uids=$(uids)
kept=0
for u in $old_uids; do grep -q "$u" <<<"$new_uids" && kept=$((kept + 1)); done
conf=$(curl -s --max-time 5 "$(jm_url)/jobmanager/config" | jq -r '.[] | select(.key=="pipeline.auto-watermark-interval") | .value')
# the job started once every pod was Ready (to the second, the resolution of a condition's time)
ready_last=$($K -n $ns get pods -l app.kubernetes.io/instance=counter -o json |
	jq '[.items[].status.conditions[] | select(.type=="Ready") | .lastTransitionTime | fromdate] | max')
started=$(curl -s --max-time 5 "$(jm_url)/jobs/$job3" | jq '.["start-time"] / 1000 | floor')
if [ $rc = 0 ] && [ "$job3" != "$job2" ] && [ "$(job_state "$job3")" = RUNNING ] && [ "$kept" = 0 ] &&
	[ "$conf" = 300ms ] && [ "$(restored "$job3")" = "$sp3" ] && [ "$sp3" != "$sp" ] && [ "$first" -ge "$before" ] &&
	[ -n "$ready_last" ] && [ "$started" -ge "$ready_last" ]; then
	ok "configuration change in $((SECONDS - t0)) s: all 3 pods replaced (none kept), the new JobManager runs with it; $job3 started $((started - ready_last)) s after the last pod was Ready, from $sp3; counter $before before, $first first after"
else
	fail "config change: rc=$rc job3=$job3 state=$(job_state "$job3") kept=$kept conf=$conf restored=$(restored "$job3") sp=$sp3 before=$before first=$first started=$started ready=$ready_last $(tail -3 "$tmp/err")"
fi

# --- kubectl delete pod: Flink recovers, flinkops has nothing to do ---------------
counter_grows_to $(($(cat "$counter") + 20))
tm_uid=$($K -n $ns get pod counter-taskmanager-0 -o jsonpath='{.metadata.uid}')
$K -n $ns delete pod counter-taskmanager-0 --wait=false >/dev/null
t0=$SECONDS
back=
for _ in $(seq 1 240); do
	u=$($K -n $ns get pod counter-taskmanager-0 -o jsonpath='{.metadata.uid} {.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)
	[ -n "$u" ] && [ "${u% *}" != "$tm_uid" ] && [ "${u#* }" = True ] && [ "$(taskmanagers)" = 2 ] &&
		[ "$(job_state "$job3")" = RUNNING ] && { back=$((SECONDS - t0)); break; }
	sleep 0.5
done
before=$(cat "$counter")
counter_grows_to $((before + 20))
status_restarts_before=$(status_field jobRestarts)
# Flink's REST metrics are refreshed every 10 s: the restart shows there first
for _ in $(seq 1 60); do
	[ "$(curl -s --max-time 5 "$(jm_url)/jobs/$job3/metrics?get=numRestarts" | jq -r '.[0].value // 0')" -ge 1 ] && break
	sleep 0.5
done
sync_once
status_restarts=$(status_field jobRestarts)
flink_restarts=$(curl -s --max-time 5 "$(jm_url)/jobs/$job3/metrics?get=numRestarts" | jq -r '.[0].value')
if [ -n "$back" ] && [ $rc = 0 ] && [ "$(journal .jobId)" = "$job3" ] && [ "$(jq -r '.requests.writes' "$tmp/out.json")" = 0 ] &&
	[ "$(cat "$counter")" -ge $((before + 20)) ] && [ "$(status_field phase)" = Running ] &&
	[ -z "$status_restarts_before" ] && [ "${status_restarts:-0}" -ge 1 ] && [ "${flink_restarts:-0}" -ge "$status_restarts" ] &&
	[ "$(status_field jobId)" = "$job3" ]; then
	ok "kubectl delete pod counter-taskmanager-0: a new pod Ready and $job3 RUNNING again after ${back} s, recovered by Flink from its checkpoint; the counter went on; a sync changes nothing in the cluster, and the status records Flink's restart (job.restarts $status_restarts)"
else
	fail "TaskManager pod deleted: back=$back rc=$rc job=$(journal .jobId) state=$(job_state "$job3") writes=$(jq -r '.requests.writes' "$tmp/out.json") restarts: Flink $flink_restarts, status $status_restarts_before -> $status_restarts $(tail -2 "$tmp/err")"
fi

# --- SIGKILL at every crash point, on pods ------------------------------------------
# Two slots a TaskManager: parallelism 1 <-> 2 changes the job, not the pods.
pods_deployment 1 savepoint 2 'pipeline.auto-watermark-interval: 300ms' >"$tmp/work/jobs/counter.yaml"
publish "two slots a TaskManager" >/dev/null
sync_once
[ $rc = 0 ] || fail "two slots: rc=$rc $(tail -3 "$tmp/err")"
read_crash_points || exit 1
p=1
for point in $points; do
	case $point in *cancel*) mode=last-state ;; *) mode=savepoint ;; esac
	p=$((p % 2 + 1))
	pods_deployment $p $mode 2 'pipeline.auto-watermark-interval: 300ms' >"$tmp/work/jobs/counter.yaml"
	publish "parallelism $p ($mode)" >/dev/null
	stop=$(cat "$counter")
	old=$(journal .jobId)
	(
		FLINKOPS_CRASH_AFTER=$point sync_once
		echo $rc >"$tmp/crc"
	) 2>/dev/null
	crc=$(cat "$tmp/crc")
	step=$(journal .step)
	sync_once
	new=$(journal .jobId)
	live=$(curl -s --max-time 5 "$(jm_url)/jobs/overview" | jq '[.jobs[] | select(.state=="RUNNING" or .state=="CREATED" or .state=="INITIALIZING" or .state=="RESTARTING")] | length')
	rm -f "$counter"
	first=$(wait_counter)
	# a savepoint upgrade stops the old job once: one savepoint of it
	nsp=$(ls "$shared/savepoints" 2>/dev/null | grep -c "^savepoint-${old:0:6}-")
	want_sp=1
	[ $mode = last-state ] && want_sp=0
	# the new job is another job, started from exactly the old one's final
	# state, as the shared folder holds it (the JobManager here answers no
	# checkpoint statistics for a job that has ended): in savepoint mode
	# the journal's savepoint, which must be one of the old job and exist;
	# in last-state mode the old job's newest retained checkpoint
	if [ $mode = last-state ]; then
		want_from=$(newest_checkpoint "$old")
	else
		want_from=$(journal .savepointPath)
		case $want_from in
		"file:$shared/savepoints/savepoint-${old:0:6}-"*) [ -d "${want_from#file:}" ] || want_from="(missing) $want_from" ;;
		*) want_from="(not a savepoint of $old) $want_from" ;;
		esac
	fi
	from=$(restored "$new")
	if [ "$crc" = 137 ] && [ $rc = 0 ] && [ "$(job_state "$new")" = RUNNING ] && [ "$live" = 1 ] &&
		[ -n "$new" ] && [ "$new" != "$old" ] && [ -n "$want_from" ] && [ "$from" = "$want_from" ] &&
		[ "$first" -ge "$stop" ] && [ "$(journal .step)" = idle ] && [ "$nsp" = $want_sp ]; then
		ok "killed after $point (journal $step), run again: one job, $new (not $old) RUNNING at parallelism $p from $from, $nsp savepoint(s) of $old; counter $stop before, $first after"
	else
		fail "crash after $point: crc=$crc step=$step rc=$rc old=$old new=$new state=$(job_state "$new") live=$live restored from '$from', want '$want_from'; savepoints of $old=$nsp stop=$stop first=$first $(tail -2 "$tmp/err")"
	fi
done
