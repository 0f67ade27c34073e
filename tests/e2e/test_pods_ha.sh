#!/usr/bin/env bash
# rig: k8s git flink s3 pods
# Flink's Kubernetes HA on the pods flinkops renders: two JobManager
# replicas, each advertising its own pod IP (the -D jobmanager.rpc.address
# flinkops renders, upstream's FLINK-30518), leader election and job
# recovery through ConfigMaps named after the rendered kubernetes.cluster-id,
# HA data on a hostPath every pod mounts.
#   - the ServiceAccount, Role and RoleBinding HA needs are in git beside
#     the FlinkDeployment, applied by flinkops before it (with its labels),
#     and the JobManagers run as that ServiceAccount;
#   - create: both JobManager pods run; one holds the leadership (the
#     cluster ConfigMap names its address, a pod's own IP, not the Service);
#     the TaskManager registers with it; the job runs and checkpoints;
#   - the leader's pod deleted: the standby takes the leadership and
#     recovers the same job from its latest checkpoint (Flink's restored
#     path is that checkpoint); the counter continues; a sync afterwards
#     finds the job running and writes nothing.
# The pods reach the API server through the rig's relay on the bridge (no
# Service routing here: see tests/rig/parts/pods.sh); the rest of each
# pod's spec is what flinkops renders.
NAME=pods-ha
. "$(dirname "$0")/lib-pods.sh"
: "${RIG_PODS_APISERVER_IP:?}" "${RIG_PODS_APISERVER_PORT:?}"

# what HA needs of the cluster, in git beside the deployment: flinkops
# applies it before the deployment, whose pods run as its ServiceAccount
ha_objects "$ns" >"$tmp/work/jobs/flink-ha.yaml"

cat >"$tmp/work/jobs/counter.yaml" <<EOF
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: counter, namespace: $ns}
spec:
  image: {repository: $RIG_PODS_FLINK_REPOSITORY, tag: "$RIG_PODS_FLINK_TAG", pullPolicy: Never}
  flinkVersion: v1_20
  serviceAccount: flink
  flinkConfiguration:
    taskmanager.numberOfTaskSlots: "1"
    execution.checkpointing.dir: file://$shared/checkpoints
    high-availability.type: kubernetes
    high-availability.storageDir: file://$shared/ha
$(pods_template)
  jobManager: {replicas: 2, resource: {memory: 768m, cpu: 0.5}}
  taskManager: {replicas: 1, resource: {memory: 1024m, cpu: 0.5}}
  job:
    jarURI: s3://$RIG_S3_BUCKET/$RIG_S3_TEST_KEY
    entryClass: $RIG_FLINK_JOB_CLASS
    args: [--counter-file, $counter, --report-ms, "100"]
    parallelism: 1
    upgradeMode: savepoint
    savepointStorage: file://$shared/savepoints
EOF
publish "counter with two JobManagers and Kubernetes HA" >/dev/null

# the leading JobManager's address as Flink's HA ConfigMap records it
# ("SESSION-ID,pekko.tcp://flink@IP:6123/user/rpc/dispatcher_1"), and its pod
leader_rpc() {
	$K -n $ns get configmap counter-cluster-config-map -o json 2>/dev/null |
		jq -r '.data["org.apache.flink.k8s.leader.dispatcher"] // empty'
}
leader_ip() { leader_rpc | sed -n 's|.*@\([0-9.]*\):6123/.*|\1|p'; }
pod_of_ip() {
	$K -n $ns get pods -l app.kubernetes.io/instance=counter -o json |
		jq -r --arg ip "$1" '.items[]? | select(.status.podIP==$ip) | .metadata.name'
}
job_state_at() { curl -s --max-time 5 "http://$1:8081/jobs/overview" | jq -r --arg j "$2" '.jobs[]? | select(.jid==$j) | .state'; }

t0=$SECONDS
sync_once
# the HA objects flinkops applied, labelled its own, and the pods run as them
ours=$($K -n $ns get serviceaccounts,roles,rolebindings -l app.kubernetes.io/managed-by=flinkops,flinkops.io/agent \
	-o name 2>/dev/null | grep -cxE 'serviceaccount/flink|role.rbac.authorization.k8s.io/flink-ha|rolebinding.rbac.authorization.k8s.io/flink-ha')
hash=$($K -n $ns get role/flink-ha -o jsonpath='{.metadata.annotations.flinkops\.io/content-hash}' 2>/dev/null)
sas=$($K -n $ns get pods -l app.kubernetes.io/instance=counter -o jsonpath='{range .items[*]}{.spec.serviceAccountName} {end}')
if [ "$ours" = 3 ] && [ -n "$hash" ] && [ "$(tr ' ' '\n' <<<"$sas" | grep -c .)" = 3 ] &&
	[ -z "$(tr ' ' '\n' <<<"$sas" | grep -v '^flink$' | grep .)" ]; then
	ok "the ServiceAccount, Role and RoleBinding in git applied by flinkops with its labels and content hash; the JobManagers and TaskManager run as ServiceAccount flink"
else
	fail "HA objects in git: $ours labelled ours (hash '$hash'), pods' ServiceAccounts '$sas'"
fi
job=$(journal .jobId)
jms=$($K -n $ns get pods -l app.kubernetes.io/component=jobmanager -o jsonpath='{range .items[*]}{.metadata.name}={.status.podIP} {end}')
ip=$(leader_ip)
leader=$(pod_of_ip "$ip")
rpc=$(leader_rpc)
if [ $rc = 0 ] && [ "$(job_state_at "$ip" "$job")" = RUNNING ] && [ "$(wc -w <<<"$jms")" = 2 ] &&
	[ -n "$leader" ] && [[ $leader == counter-jobmanager-* ]] && counter_grows_to 30 && [ "$(status_field phase)" = Running ]; then
	ok "created in $((SECONDS - t0)) s: JobManagers $jms; $leader leads (the HA ConfigMap names $ip, its own pod IP), job $job RUNNING; counter $(cat "$counter")"
else
	fail "create with HA: rc=$rc job=$job jms=$jms leader=$leader ip=$ip rpc=$rpc state=$(job_state_at "$ip" "$job") $(tail -3 "$tmp/err")"
	$K -n $ns get pods -o wide
	$K -n $ns get configmap counter-cluster-config-map -o jsonpath='{.data}'
	exit 1
fi

# --- the leader's pod goes: the standby takes over and recovers the job -------------
# A checkpoint that holds at least the counter read now: two more complete
# (one at a time, Flink's default), so the second was triggered after it.
completed() { curl -s --max-time 5 "http://$ip:8081/jobs/$job/checkpoints" | jq -r '.counts.completed // 0'; }
v0=$(cat "$counter")
c0=$(completed)
for _ in $(seq 1 60); do
	[ "$(completed)" -ge $((c0 + 2)) ] && break
	sleep 0.5
done
c1=$(completed)
cid=$(curl -s --max-time 5 "http://$ip:8081/jobs/$job/checkpoints" | jq -r '.latest.completed.id // 0')
before=$(cat "$counter")
$K -n $ns delete pod "$leader" --wait=false >/dev/null
t0=$SECONDS
new_ip= state=
for _ in $(seq 1 240); do
	n=$(leader_ip)
	if [ -n "$n" ] && [ "$n" != "$ip" ]; then
		state=$(job_state_at "$n" "$job")
		[ "$state" = RUNNING ] && { new_ip=$n; break; }
	fi
	sleep 0.5
done
took=$((SECONDS - t0))
new_leader=$(pod_of_ip "$new_ip")
restored=$(curl -s --max-time 5 "http://$new_ip:8081/jobs/$job/checkpoints" | jq -r '.latest.restored.external_path // empty')
rm -f "$counter"
first=$(wait_counter)
rid=${restored##*/chk-}
if [ -n "$new_ip" ] && [ -n "$new_leader" ] && [ "$new_ip" != "$ip" ] &&
	[[ $restored == "file:$shared/checkpoints/$job/chk-"* ]] && [ "$rid" -ge "$cid" ] && [ "$c1" -ge $((c0 + 2)) ] &&
	[ "$first" -ge "$v0" ]; then
	ok "deleted the leader $leader ($ip): $new_leader ($new_ip) leads after $took s and runs the same job $job, recovered from its checkpoint $restored (checkpoint $cid had completed before the delete); counter $v0 when that checkpoint began, $before at the delete, $first first after"
else
	fail "leader failover: new_ip=$new_ip new_leader=$new_leader state=$state restored=$restored checkpoints $c0 -> $c1 v0=$v0 before=$before first=$first"
	$K -n $ns get pods -o wide
fi

# flinkops finds its job running on the new leader and changes nothing
counter_grows_to $(($(cat "$counter") + 20))
sync_once
if [ $rc = 0 ] && [ "$(journal .jobId)" = "$job" ] && [ "$(jq -r '.requests.writes' "$tmp/out.json")" = 0 ] &&
	[ "$(status_field phase)" = Running ] && [ "$(status_field jobId)" = "$job" ]; then
	ok "a sync after the failover: $job Running, nothing written to the cluster"
else
	fail "sync after failover: rc=$rc job=$(journal .jobId) writes=$(jq -r '.requests.writes' "$tmp/out.json") phase=$(status_field phase) $(tail -3 "$tmp/err")"
fi
