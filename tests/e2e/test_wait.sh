#!/usr/bin/env bash
# rig: git
# `flinkops wait --commit SHA` against a repository on the rig's git
# server, with the agent's status commits written here with git: exit 0
# once the status shows SHA rolled out (while wait is polling), 1 with the
# message when the deployment Failed at SHA, 124 when the timeout passes,
# 0 at once for a commit that changes no FlinkDeployment.
set -u
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$t/home GIT_TERMINAL_PROMPT=0
mkdir -p "$HOME"
git config --global user.name "e2e" && git config --global user.email "e2e@flinkops.invalid"
git config --global init.defaultBranch main
failed=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failed=1; }

repo=e2e-wait
"$RIG_GIT_NEW_REPO" --force "$repo" >/dev/null
url="${RIG_GIT_HTTPS_URL}$repo.git"
auth=(--username "$RIG_GIT_HTTPS_USER" --password-file "$RIG_GIT_HTTPS_PASSWORD_FILE" --ca-file "$RIG_GIT_CA")
w=$t/w
git clone -q "$RIG_GIT_ROOT/$repo.git" "$w" 2>/dev/null

manifest() { # manifest PARALLELISM
	mkdir -p "$w/jobs"
	cat >"$w/jobs/wc.yaml" <<EOF
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: wc, namespace: prod}
spec:
  image: flink:1.17.1
  flinkVersion: v1_17
  jobManager: {resource: {memory: 1g}}
  taskManager: {resource: {memory: 2g}}
  job: {jarURI: s3://jobs/wc.jar, parallelism: $1, upgradeMode: savepoint}
EOF
	git -C "$w" add -A && git -C "$w" commit -qm "wc parallelism $1" && git -C "$w" push -q origin HEAD:main
	git -C "$w" rev-parse HEAD
}
status() { # status PHASE SOURCE_COMMIT OBSERVED_COMMIT MESSAGE: what the agent would push
	mkdir -p "$w/status/prod"
	cat >"$w/status/prod/wc.yaml" <<EOF
apiVersion: flinkops.io/v1alpha1
kind: FlinkDeploymentStatus
metadata: {name: wc, namespace: prod}
source: {path: jobs/wc.yaml, commit: "$2"}
observedCommit: "$3"
phase: $1
message: "$4"
EOF
	git -C "$w" pull -q --ff-only origin main 2>/dev/null
	git -C "$w" add -A && git -C "$w" commit -qm "status: wc $1 at ${2:0:7}" && git -C "$w" push -q origin HEAD:main
}

sha1=$(manifest 2)
start=$(date +%s)
"$FLINKOPS" wait --repo "$url" "${auth[@]}" --cache "$t/cache" --commit "$sha1" --timeout 60s --interval 300ms \
	>"$t/out" 2>"$t/err" &
pid=$!
sleep 1.5
status Deploying "$sha1" "" "starting"
sleep 1
status Running "$sha1" "$sha1" "running"
wait $pid
rc=$?
if [ $rc = 0 ] && grep -q "waiting for prod/wc: Deploying" "$t/err" && grep -q "prod/wc rolled out: Running at ${sha1:0:7}" "$t/err"; then
	ok "rolled out while waiting: exit 0 after $(($(date +%s) - start)) s, progress on stderr"
else
	fail "rolled out: exit $rc: $(cat "$t/err")"
fi

sha2=$(manifest 4)
status Failed "$sha2" "$sha1" "savepoint of job 1234 failed: timed out after 10m"
if "$FLINKOPS" wait --repo "$url" "${auth[@]}" --cache "$t/cache" --commit "$sha2" --timeout 30s --interval 300ms \
	>"$t/out" 2>"$t/err"; then
	fail "a Failed deployment gave exit 0"
else
	rc=$?
	if [ $rc = 1 ] && grep -q "prod/wc Failed at ${sha2:0:7}: savepoint of job 1234 failed: timed out after 10m" "$t/err"; then
		ok "Failed at the commit: exit 1 with its message"
	else
		fail "Failed: exit $rc: $(cat "$t/err")"
	fi
fi

# an older commit is contained in the newer observedCommit: rolled out
status Running "$sha2" "$sha2" "running"
if "$FLINKOPS" wait --repo "$url" "${auth[@]}" --cache "$t/cache" --commit "${sha1:0:10}" --timeout 10s >/dev/null 2>"$t/err"; then
	ok "a short SHA whose change is contained in a later rollout: exit 0"
else
	fail "contained commit: $(cat "$t/err")"
fi

sha3=$(manifest 6)
start=$(date +%s)
"$FLINKOPS" wait --repo "$RIG_GIT_ROOT/$repo.git" --commit "$sha3" --timeout 2s --interval 500ms >"$t/out" 2>"$t/err"
rc=$?
if [ $rc = 124 ] && grep -q "timed out: not rolled out: prod/wc" "$t/err" && [ $(($(date +%s) - start)) -le 6 ]; then
	ok "never rolled out: exit 124 after the 2 s timeout (local bare repository)"
else
	fail "timeout: exit $rc: $(cat "$t/err")"
fi

echo "docs" >"$w/README"
git -C "$w" add -A && git -C "$w" commit -qm docs && git -C "$w" push -q origin HEAD:main
if "$FLINKOPS" wait --repo "$url" "${auth[@]}" --cache "$t/cache" --commit "$(git -C "$w" rev-parse HEAD)" \
	--timeout 5s >/dev/null 2>"$t/err" && grep -q "changes no FlinkDeployment" "$t/err"; then
	ok "a commit that changes no FlinkDeployment: exit 0 at once"
else
	fail "no deployment: $(cat "$t/err")"
fi
if "$FLINKOPS" wait --repo "$url" "${auth[@]}" --cache "$t/cache" --commit 0123456789abcdef --timeout 5s 2>"$t/err"; then
	fail "an unknown commit gave exit 0"
elif grep -q "not found" "$t/err"; then
	ok "an unknown commit: exit 1, named"
else
	fail "unknown commit: $(cat "$t/err")"
fi
if "$FLINKOPS" status --repo "$url" "${auth[@]}" --cache "$t/cache" >"$t/out" 2>"$t/err" &&
	grep -q "^prod  *wc  *Running  *${sha2:0:7}" "$t/out"; then
	ok "status: the table shows prod/wc Running at ${sha2:0:7}"
else
	fail "status: $(cat "$t/out" "$t/err")"
fi
# reached with the password: the secrets scan reads them before they go
. "$(dirname "$0")/lib-keep.sh"
keep_for_scan "$RIG_GIT_ROOT/$repo.git" "$repo.git"
keep_for_scan "$t/cache" wait-cache
rm -rf "${RIG_GIT_ROOT:?}/$repo.git"
exit $failed
