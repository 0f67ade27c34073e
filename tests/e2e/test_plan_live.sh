#!/usr/bin/env bash
# rig: k8s git
# flinkops plan --live against the rig's kube-apiserver: after a sync it
# reports no change (exit 0); a pending edit is shown with its action and a
# diff (exit 2) and drift is named — and the cluster is left untouched.
set -u
: "${FLINKOPS:?}" "${RIG_KUBECONFIG:?}" "${RIG_GIT_NEW_REPO:?}"
K="$RIG_KUBECTL --kubeconfig $RIG_KUBECONFIG"
tmp=$(mktemp -d)
ns=e2e-live-$$
trap 'rm -rf "$tmp"; $K delete namespace $ns --wait=false >/dev/null 2>&1' EXIT
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; }
$K create namespace $ns >/dev/null
repo=$("$RIG_GIT_NEW_REPO" --force "e2e-live-$$")
git clone -q "$repo" "$tmp/work" 2>/dev/null
git -C "$tmp/work" config user.email t@example.com
git -C "$tmp/work" config user.name t
mkdir -p "$tmp/work/jobs"
cat >"$tmp/work/jobs/wc.yaml" <<EOF
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: wc, namespace: $ns}
spec:
  image: flink:1.20
  flinkVersion: v1_20
  jobManager: {resource: {memory: 1g}}
  taskManager: {resource: {memory: 2g}, replicas: 2}
  job: {jarURI: s3://jobs/wc.jar, parallelism: 2, upgradeMode: savepoint}
EOF
git -C "$tmp/work" add -A && git -C "$tmp/work" commit -qm wc && git -C "$tmp/work" push -q origin HEAD:main 2>/dev/null
cat >"$tmp/config.yaml" <<EOF
repository: {url: "file://$repo", path: jobs, cacheDir: $tmp/cache}
kubernetes: {kubeconfig: $RIG_KUBECONFIG}
agent: {name: e2e-live-$$}
flink: {submitJobs: false}
EOF
"$FLINKOPS" sync --config "$tmp/config.yaml" --once >/dev/null 2>&1 || fail "the first sync failed"

"$FLINKOPS" plan --live --config "$tmp/config.yaml" >"$tmp/out" 2>&1
rc=$?
[ $rc = 0 ] && grep -q '0 of 1 deployment would change' "$tmp/out" && ok "plan --live after a sync: nothing would change (exit 0)" ||
	fail "no-change plan: rc=$rc $(cat "$tmp/out")"

sed -i 's/memory: 2g/memory: 3g/' "$tmp/work/jobs/wc.yaml"
"$FLINKOPS" plan --live --config "$tmp/config.yaml" --manifests "$tmp/work/jobs" >"$tmp/out" 2>&1
rc=$?
mem=$($K -n $ns get sts wc-taskmanager -o jsonpath='{.spec.template.spec.containers[0].resources.requests.memory}')
if [ $rc = 2 ] && grep -q "$ns/wc: savepoint upgrade" "$tmp/out" && grep -q '^-            memory: 2Gi' "$tmp/out" &&
	grep -q '^+            memory: 3072Mi' "$tmp/out" && [ "$mem" = 2Gi ]; then
	ok "a pending memory change: exit 2, savepoint upgrade, the diff shows 2Gi -> 3072Mi; the cluster still has 2Gi"
else
	fail "pending change: rc=$rc mem=$mem $(head -40 "$tmp/out")"
fi

$K -n $ns scale sts wc-taskmanager --replicas=4 >/dev/null
"$FLINKOPS" plan --live --config "$tmp/config.yaml" -o markdown >"$tmp/out" 2>&1
rc=$?
replicas=$($K -n $ns get sts wc-taskmanager -o jsonpath='{.spec.replicas}')
if [ $rc = 2 ] && grep -q 'drift: `spec.replicas: 2 != 4`' "$tmp/out" && grep -q '^### `'"$ns"'/wc`' "$tmp/out" && [ "$replicas" = 4 ]; then
	ok "drift is named in the markdown plan and not corrected by it"
else
	fail "drift plan: rc=$rc replicas=$replicas $(head -30 "$tmp/out")"
fi
