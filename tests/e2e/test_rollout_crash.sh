#!/usr/bin/env bash
# rig: k8s git flink s3
# Crash safety and the other job transitions against the rig's real
# servers: the agent killed (SIGKILL, at the moment a step is recorded)
# after the savepoint, after the apply and after the jar upload, then run
# again — the upgrade completes once, from the recorded savepoint, and the
# counter never resets; suspend and resume through job.state; deleting the
# file takes a final savepoint before the objects go.
set -u
: "${FLINKOPS:?}" "${RIG_KUBECONFIG:?}" "${RIG_FLINK_URL:?}" "${RIG_S3_ENDPOINT:?}"
K="$RIG_KUBECTL --kubeconfig $RIG_KUBECONFIG"
tmp=$(mktemp -d)
ns=e2e-crash-$$
cleanup() {
	# cancel what this test started, so the shared cluster's slots are free
	for j in $(curl -s "$RIG_FLINK_URL/jobs/overview" | jq -r '.jobs[] | select(.state=="RUNNING") | .jid'); do
		grep -qx "$j" "$tmp/ours" 2>/dev/null && curl -s -X PATCH "$RIG_FLINK_URL/jobs/$j?mode=cancel" >/dev/null
	done
	rm -rf "$tmp"
	$K delete namespace $ns --wait=false >/dev/null 2>&1
}
trap cleanup EXIT
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; }
$K create namespace $ns >/dev/null
printf '%s' "$RIG_S3_ACCESS_KEY" >"$tmp/access"
repo=$("$RIG_GIT_NEW_REPO" --force "e2e-crash-$$")
git clone -q "$repo" "$tmp/work" 2>/dev/null
git -C "$tmp/work" config user.email t@example.com
git -C "$tmp/work" config user.name t
mkdir -p "$tmp/work/jobs"
counter=$tmp/counter

deployment() { # deployment PARALLELISM MODE [EXTRA_ARGS] [SAVEPOINT_DIR]
	cat <<EOF
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: counter, namespace: $ns}
spec:
  image: flink:1.20
  jobManager: {resource: {memory: 1g}}
  taskManager: {resource: {memory: 1g}}
  job:
    jarURI: s3://$RIG_S3_BUCKET/$RIG_S3_TEST_KEY
    entryClass: $RIG_FLINK_JOB_CLASS
    args: [--counter-file, $counter, --report-ms, "100"${3:-}]
    parallelism: $1
    upgradeMode: $2
${4:+    savepointStorage: $4}
EOF
}
publish() { # commit on top of what the agent pushed (its status commits), then push
	git -C "$tmp/work" add -A
	git -C "$tmp/work" commit -qm "$1"
	git -C "$tmp/work" pull -q --rebase origin main 2>/dev/null
	git -C "$tmp/work" push -q origin HEAD:main 2>/dev/null
	git -C "$tmp/work" rev-parse HEAD
}
# status FIELD: a field of the status file the agent pushed, as `flinkops status` reads it
status_field() {
	"$FLINKOPS" status --repo "$repo" --cache "$tmp/scache" -o json 2>/dev/null |
		jq -r --arg n counter --arg f "$1" '.deployments[] | select(.name==$n) | .[$f] // ""'
}
status_file() {
	git -C "$tmp/work" fetch -q origin main 2>/dev/null
	git -C "$tmp/work" show "origin/main:status/$ns/counter.yaml" 2>/dev/null
}
cat >"$tmp/config.yaml" <<EOF
repository: {url: "file://$repo", path: jobs, cacheDir: $tmp/cache}
kubernetes: {kubeconfig: $RIG_KUBECONFIG}
agent: {name: e2e-crash-$$}
flink:
  restUrl: $RIG_FLINK_URL
  jarCacheDir: $tmp/jars
  s3Endpoint: $RIG_S3_ENDPOINT
  s3Region: $RIG_S3_REGION
  s3AccessKeyFile: $tmp/access
  s3SecretKeyFile: $RIG_S3_SECRET_KEY_FILE
  savepointTimeout: 30s
  runningTimeout: 60s
EOF
sync_once() {
	"$FLINKOPS" sync --config "$tmp/config.yaml" --once -o json >"$tmp/out.json" 2>"$tmp/err"
	rc=$?
}
journal() { $K -n $ns get configmap flink-journal-counter -o jsonpath='{.data.journal\.json}' | jq -r "$1"; }
job_state() { curl -s "$RIG_FLINK_URL/jobs/overview" | jq -r --arg j "$1" '.jobs[] | select(.jid==$j) | .state'; }
# wait_counter: the first value the (new) job writes after the file was removed
wait_counter() {
	for _ in $(seq 1 150); do
		[ -s "$counter" ] && { cat "$counter"; return; }
		sleep 0.1
	done
	echo 0
}

savepoints_of() { ls "$RIG_FLINK_SAVEPOINT_DIR" 2>/dev/null | grep -c "^savepoint-${1:0:6}-" ; }
deployment 1 savepoint >"$tmp/work/jobs/counter.yaml"
publish "counter job" >/dev/null
sync_once
job=$(journal .jobId)
echo "$job" >>"$tmp/ours"
[ $rc = 0 ] && [ "$(job_state "$job")" = RUNNING ] && ok "job $job RUNNING" || fail "create: rc=$rc $(head -3 "$tmp/err")"
sleep 2

p=1
for point in savepoint-taken applied uploaded; do
	p=$((p % 3 + 1))
	deployment $p savepoint >"$tmp/work/jobs/counter.yaml"
	publish "parallelism $p" >/dev/null
	# (in a subshell, so that the shell's own "Killed" notice stays out of the output)
	# (a subshell that outlives the command reports the kill to /dev/null, not here)
	(
		FLINKOPS_CRASH_AFTER=$point "$FLINKOPS" sync --config "$tmp/config.yaml" --once -o json >"$tmp/out.json" 2>"$tmp/err"
		echo $? >"$tmp/crc"
	) 2>/dev/null
	crc=$(cat "$tmp/crc")
	step=$(journal .step)
	sp=$(journal .savepointPath)
	stop=$(cat "$counter")
	sync_once
	rm -f "$counter"
	new=$(journal .jobId)
	echo "$new" >>"$tmp/ours"
	first=$(wait_counter)
	running=$(curl -s "$RIG_FLINK_URL/jobs/overview" | jq -r '[.jobs[] | select(.state=="RUNNING") | .jid] | join(" ")')
	n_ours=0
	for j in $running; do grep -qx "$j" "$tmp/ours" && n_ours=$((n_ours + 1)); done
	if [ $crc = 137 ] && [ "$step" = "$point" ] && [ $rc = 0 ] && [ "$(job_state "$job")" = FINISHED ] &&
		[ "$(savepoints_of "$job")" = 1 ] && [ "$(journal .savepointPath)" = "$sp" ] && [ "$new" != "$job" ] &&
		[ "$(job_state "$new")" = RUNNING ] && [ $n_ours = 1 ] && [ "$first" -ge "$stop" ]; then
		ok "killed after $point, run again: one savepoint, one new job ($new) from $sp; counter $stop -> $first"
	else
		fail "crash after $point: exit $crc step=$step rc=$rc old=$(job_state "$job") savepoints=$(savepoints_of "$job") new=$new running=$n_ours counter $stop -> $first $(head -2 "$tmp/err")"
	fi
	job=$new
	sleep 2
done

# --- suspend and resume through job.state ------------------------------------
sed -i 's/^    upgradeMode: savepoint$/    upgradeMode: savepoint\n    state: suspended/' "$tmp/work/jobs/counter.yaml"
publish "suspend" >/dev/null
sync_once
tm=$($K -n $ns get sts counter-taskmanager -o jsonpath='{.spec.replicas}')
ssp=$(journal .savepointPath)
stop=$(cat "$counter")
if [ $rc = 0 ] && [ "$(job_state "$job")" = FINISHED ] && [ "$(journal .savepointReason)" = suspend ] && [ "$tm" = 0 ] &&
	[ "$(status_field phase)" = Suspended ]; then
	ok "suspend: stopped with savepoint $ssp, StatefulSets at 0, status Suspended"
else
	fail "suspend: rc=$rc state=$(job_state "$job") reason=$(journal .savepointReason) tm=$tm phase=$(status_field phase) $(head -2 "$tmp/err")"
fi
sed -i '/^    state: suspended$/d' "$tmp/work/jobs/counter.yaml"
publish "resume" >/dev/null
sync_once
rm -f "$counter"
job=$(journal .jobId)
echo "$job" >>"$tmp/ours"
first=$(wait_counter)
if [ $rc = 0 ] && [ "$(job_state "$job")" = RUNNING ] && [ "$first" -ge "$stop" ] && [ "$(status_field phase)" = Running ]; then
	ok "resume: job $job from the suspend savepoint, counter $stop -> $first"
else
	fail "resume: rc=$rc job=$job first=$first stop=$stop $(head -2 "$tmp/err")"
fi

# --- delete: a final savepoint, then the objects go -----------------------------
git -C "$tmp/work" rm -q jobs/counter.yaml
publish "delete" >/dev/null
"$FLINKOPS" sync --config "$tmp/config.yaml" --once --force-prune -o json >"$tmp/out.json" 2>"$tmp/err"
rc=$?
left=$($K -n $ns get configmap,service,statefulset -l app.kubernetes.io/instance=counter -o name | wc -l)
if [ $rc = 0 ] && [ "$(job_state "$job")" = FINISHED ] && [ "$left" = 0 ] && [ "$(status_field phase)" = Deleted ] &&
	status_file | grep -q 'reason: delete'; then
	ok "delete: final savepoint $(status_field lastSavepoint) in the status, objects gone"
else
	fail "delete: rc=$rc state=$(job_state "$job") left=$left phase=$(status_field phase) $(head -2 "$tmp/err")"
fi
