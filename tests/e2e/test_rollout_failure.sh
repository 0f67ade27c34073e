#!/usr/bin/env bash
# rig: k8s git flink s3
# A job that fails at runtime (the counter job's fail marker, with Flink's
# own restarts off) is started again by the next pass from its newest
# retained checkpoint, within the restart budget; past the budget the
# deployment is Failed with Flink's cause, in the status file too.
set -u
: "${FLINKOPS:?}" "${RIG_KUBECONFIG:?}" "${RIG_FLINK_URL:?}" "${RIG_S3_ENDPOINT:?}"
K="$RIG_KUBECTL --kubeconfig $RIG_KUBECONFIG"
tmp=$(mktemp -d)
ns=e2e-fail-$$
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
repo=$("$RIG_GIT_NEW_REPO" --force "e2e-fail-$$")
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
agent: {name: e2e-fail-$$}
flink:
  restUrl: $RIG_FLINK_URL
  jarCacheDir: $tmp/jars
  s3Endpoint: $RIG_S3_ENDPOINT
  s3Region: $RIG_S3_REGION
  s3AccessKeyFile: $tmp/access
  s3SecretKeyFile: $RIG_S3_SECRET_KEY_FILE
  savepointTimeout: 30s
  restartBudget: 1
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

marker=$tmp/marker
deployment 1 savepoint ", --fail-marker, $marker, --restart-attempts, \"0\"" >"$tmp/work/jobs/counter.yaml"
publish "counter job" >/dev/null
sync_once
job=$(journal .jobId)
echo "$job" >>"$tmp/ours"
[ $rc = 0 ] && [ "$(job_state "$job")" = RUNNING ] && ok "job $job RUNNING" || fail "create: rc=$rc $(head -3 "$tmp/err")"
# let it count and complete a few checkpoints
for _ in $(seq 1 50); do
	n=$(curl -s "$RIG_FLINK_URL/jobs/$job/checkpoints" | jq -r '.counts.completed // 0')
	[ "$n" -ge 2 ] && break
	sleep 0.2
done

touch "$marker"
for _ in $(seq 1 50); do [ "$(job_state "$job")" = FAILED ] && break; sleep 0.2; done
rm -f "$marker"
failed_at=$(cat "$counter")
sync_once
rm -f "$counter"
new=$(journal .jobId)
echo "$new" >>"$tmp/ours"
first=$(wait_counter)
restored=$(curl -s "$RIG_FLINK_URL/jobs/$new/checkpoints" | jq -r '.latest.restored.external_path // ""')
if [ $rc = 0 ] && [ "$new" != "$job" ] && [ "$(job_state "$new")" = RUNNING ] && [ "$(journal .restarts)" = 1 ] &&
	grep -q '/chk-' <<<"$restored" && [ "$first" -gt 1 ]; then
	ok "a job that failed at runtime is restarted by the next pass from checkpoint $restored (counter $failed_at at the failure, $first after)"
else
	fail "restart: rc=$rc new=$new restarts=$(journal .restarts) restored=$restored first=$first $(head -2 "$tmp/err")"
fi

touch "$marker"
for _ in $(seq 1 50); do [ "$(job_state "$new")" = FAILED ] && break; sleep 0.2; done
sync_once
if [ $rc = 1 ] && grep -q 'FAILED after 1 restart: .*fail marker present' "$tmp/err" && [ "$(journal .step)" = failed ] &&
	[ "$(status_field phase)" = Failed ] && grep -q 'fail marker present' <<<"$(status_field message)"; then
	ok "past the restart budget: exit 1, status Failed with Flink's cause"
else
	fail "budget: rc=$rc step=$(journal .step) phase=$(status_field phase) $(head -2 "$tmp/err")"
fi
rm -f "$marker"
