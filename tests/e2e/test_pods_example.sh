#!/usr/bin/env bash
# rig: k8s git flink s3 pods
# The README's example FlinkDeployment (examples/repo/jobs/my-flink-cluster.yaml)
# synced by flinkops onto the rig's real node, with what this machine needs
# changed and nothing else: the rig's Flink image, the counter job from S3
# in place of WordCount, the shared folder for state, memory sizes that fit
# (768m and 1024m), and CPU as requests of a quarter core under limits of
# one (six pods fit the node's two cores; a limit equal to a quarter-core
# request throttles every JVM).
#   - a JobManager and the example's two TaskManagers run with the rendered
#     memory, the job RUNNING on them at parallelism 2; the Flink UI is
#     reached through the rendered NAME-rest Service (kubectl port-forward
#     svc/NAME-rest, as a user without an Ingress reaches it);
#   - parallelism 2 -> 4 with one slot a TaskManager (replicas 2 -> 4, as
#     validate asks them to agree): two more TaskManager pods appear, the
#     job runs at 4 from the upgrade's savepoint, the counter continues.
NAME=pods-ex
. "$(dirname "$0")/lib-pods.sh"
tm_pods() { $K -n $ns get pods -l app.kubernetes.io/component=taskmanager -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}'; }
parallelism() { curl -s --max-time 5 "$(jm_url)/jobs/$1" | jq '[.vertices[].parallelism] | max'; }

# example N: the README's example at N TaskManagers and parallelism N
example() {
	sed -e "s|name: my-flink-cluster|name: counter|" -e "s|namespace: default|namespace: $ns|" \
		-e "s|repository: flinkci/flink|repository: $RIG_PODS_FLINK_REPOSITORY|" \
		-e "s|tag: 1.17.1|tag: \"$RIG_PODS_FLINK_TAG\"|" -e "s|pullPolicy: IfNotPresent|pullPolicy: Never|" \
		-e "s|flinkVersion: 1.17.1|flinkVersion: \"${RIG_PODS_FLINK_TAG%.*}\"|" \
		-e 's|^    resource:$|    resources:|' \
		-e 's|^      memory: 1024m$|      requests: {memory: 768m, cpu: 0.25}\n      limits: {memory: 768m, cpu: 1}|' \
		-e 's|^      memory: 2048m$|      requests: {memory: 1024m, cpu: 0.25}\n      limits: {memory: 1024m, cpu: 1}|' \
		-e '/^      cpu: 1$/d' \
		-e "s|replicas: 2|replicas: $1|" -e "s|parallelism: 2|parallelism: $1|" \
		-e "s|jarURI: .*|jarURI: s3://$RIG_S3_BUCKET/$RIG_S3_TEST_KEY|" \
		-e "s|mainClass: .*|mainClass: $RIG_FLINK_JOB_CLASS\n    args: [--counter-file, $counter, --report-ms, \"100\"]|" \
		-e "s|savepointStorage: .*|savepointStorage: file://$shared/savepoints|" \
		"$(dirname "$0")/../../examples/repo/jobs/my-flink-cluster.yaml"
	cat <<EOF
  flinkConfiguration:
    execution.checkpointing.dir: file://$shared/checkpoints
  podTemplate:
    spec:
      volumes: [{name: shared, hostPath: {path: $shared, type: Directory}}]
      containers: [{name: flink-main-container, volumeMounts: [{name: shared, mountPath: $shared}]}]
EOF
}

# --- the example runs: a JobManager, two TaskManagers, the job at 2 ----------------
example 2 >"$tmp/work/jobs/counter.yaml"
"$FLINKOPS" validate "$tmp/work/jobs/counter.yaml" >"$tmp/validate.out" 2>&1 || fail "the example does not validate: $(cat "$tmp/validate.out")"
publish "the README's example on the rig's node" >/dev/null
t0=$SECONDS
sync_once
job=$(journal .jobId)
if [ $rc = 0 ] && [ "$(job_state "$job")" = RUNNING ] && [ "$(tm_pods)" = "counter-taskmanager-0=True counter-taskmanager-1=True " ] &&
	[ "$(parallelism "$job")" = 2 ] && counter_grows_to 30 && [ "$(status_field phase)" = Running ]; then
	ok "the README's example in $((SECONDS - t0)) s: counter-jobmanager-0 and $(tm_pods)Ready on $RIG_PODS_NODE, job $job RUNNING at 2 on them, counter $(cat "$counter")"
else
	fail "the example: rc=$rc job=$job state=$(job_state "$job") tms=$(tm_pods) parallelism=$(parallelism "$job") $(tail -3 "$tmp/err")"
	$K -n $ns get pods -o wide
	exit 1
fi

# --- the Flink UI through the rendered REST Service -------------------------------
# kubectl port-forward to NAME-rest: the API server picks a pod by the
# Service's selector and port, the kubelet forwards into that pod's network
# namespace
$K -n $ns port-forward svc/counter-rest :rest >"$tmp/pf.out" 2>&1 &
pf=$!
ui_port=
for _ in $(seq 1 60); do
	ui_port=$(sed -n 's/^Forwarding from 127.0.0.1:\([0-9]*\) -> 8081.*/\1/p' "$tmp/pf.out" | head -1)
	[ -n "$ui_port" ] && break
	sleep 0.5
done
ui=http://127.0.0.1:$ui_port
title=$(curl -s --max-time 10 "$ui/" | grep -o '<title>[^<]*</title>')
ui_job=$(curl -s --max-time 10 "$ui/jobs/overview" | jq -r --arg j "$job" '.jobs[] | select(.jid==$j) | .state')
# the memory flinkops rendered, as the processes run it
tm_mem=$(curl -s --max-time 10 "$ui/taskmanagers" | jq -r '.taskmanagers[].id' | while read -r id; do
	curl -s --max-time 10 "$ui/taskmanagers/$id" | jq '.memoryConfiguration.totalProcessMemory'
done | tr '\n' ' ')
jm_mem=$(curl -s --max-time 10 "$ui/jobmanager/config" | jq -r '.[] | select(.key=="jobmanager.memory.process.size") | .value')
kill $pf 2>/dev/null
wait $pf 2>/dev/null
if [ -n "$ui_port" ] && [ "$title" = "<title>Apache Flink Web Dashboard</title>" ] && [ "$ui_job" = RUNNING ] &&
	[ "$tm_mem" = "1073741824 1073741824 " ] && [ "$jm_mem" = 768m ]; then
	ok "the Flink UI through Service counter-rest (kubectl port-forward svc/counter-rest): the dashboard, $job RUNNING, two TaskManagers of 1024 MiB process memory and a JobManager of 768m, as rendered"
else
	fail "UI through counter-rest: port=$ui_port title=$title job=$ui_job tm memory=$tm_mem jm memory=$jm_mem $(tail -3 "$tmp/pf.out")"
fi

# --- parallelism 2 -> 4: two more TaskManager pods, the job at 4 -------------------
counter_grows_to $(($(cat "$counter") + 20))
example 4 >"$tmp/work/jobs/counter.yaml"
publish "parallelism 4: four TaskManagers" >/dev/null
before=$(cat "$counter")
t0=$SECONDS
sync_once
job2=$(journal .jobId)
sp=$(journal .savepointPath)
rm -f "$counter"
first=$(wait_counter)
want="counter-taskmanager-0=True counter-taskmanager-1=True counter-taskmanager-2=True counter-taskmanager-3=True "
if [ $rc = 0 ] && [ "$job2" != "$job" ] && [ "$(job_state "$job2")" = RUNNING ] && [ "$(tm_pods)" = "$want" ] &&
	[ "$(parallelism "$job2")" = 4 ] && [ "$(restored "$job2")" = "$sp" ] && [ -n "$sp" ] && [ "$first" -ge "$before" ] &&
	[ "$(curl -s --max-time 5 "$(jm_url)/taskmanagers" | jq '.taskmanagers | length')" = 4 ]; then
	ok "parallelism 2 -> 4 in $((SECONDS - t0)) s: $(tm_pods)Ready, $job2 runs at 4, restored from $sp; counter $before before, $first first after"
else
	fail "2 -> 4: rc=$rc job2=$job2 state=$(job_state "$job2") tms=$(tm_pods) parallelism=$(parallelism "$job2") restored=$(restored "$job2") sp=$sp before=$before first=$first $(tail -3 "$tmp/err")"
	$K -n $ns get pods -o wide
fi

# --- a pod the node cannot hold: the wait says why -----------------------------------
# Three cores a pod on a node of two: the pods stay Pending, and the sync
# that waits on them names the scheduler's reason (stderr and the status).
example 1 | sed -e 's|name: counter|name: big|' -e 's|cpu: 0.25|cpu: 3|g' -e 's|cpu: 1}|cpu: 3}|g' \
	-e "s|$counter|$shared/big-counter|" >"$tmp/work/jobs/big.yaml"
publish "a deployment too big for the node" >/dev/null
sync_once --timeout 15s
big_status=$("$FLINKOPS" status --repo "$repo" --cache "$tmp/scache" -o json 2>/dev/null |
	jq -r '.deployments[] | select(.name=="big") | .message // ""')
if [ $rc = 1 ] && grep -q "$ns/big: .*big-jobmanager: 0 of 1 pods Ready; pod big-jobmanager-0 is not scheduled: 0/[0-9]* nodes are available: .*Insufficient cpu" "$tmp/err" &&
	grep -q "is not scheduled: .*Insufficient cpu" <<<"$big_status" && [ "$(journal .jobId)" = "$job2" ]; then
	ok "a deployment asking 3 cores waits and says why: \"$(grep -o "$ns/big: .*" "$tmp/err" | cut -c1-160)...\"; the status too; counter's job untouched"
else
	fail "the unschedulable deployment: rc=$rc status=\"$big_status\" $(tail -3 "$tmp/err")"
fi
