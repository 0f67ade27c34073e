#!/usr/bin/env bash
# rig: git
# `flinkops plan --base --head` on pull-request branches of a repository
# served by the rig: a parallelism raise (exit 2, the deployment and the
# savepoint named), a comment-only change (exit 0), a broken file (exit 1,
# path:line:col), a switch to stateless (state dropped), a deleted file
# (delete with a final savepoint), a renamed file (not a delete), and the
# Markdown and JSON forms. Branches are read both from a local clone and
# through the git:// URL (fetched into a cache).
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

repo=e2e-plan
"$RIG_GIT_NEW_REPO" --force "$repo" >/dev/null
url="${RIG_GIT_DAEMON_URL}$repo.git"
w=$t/w
git clone -q "$url" "$w" 2>/dev/null
mkdir -p "$w/jobs"
cat >"$w/jobs/wordcount.yaml" <<'EOF'
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata:
  name: wordcount
  namespace: default
spec:
  image: flink:1.17.1
  flinkVersion: v1_17
  jobManager:
    resource: {memory: 1024m, cpu: 1}
  taskManager:
    resource: {memory: 2048m, cpu: 1}
  # The job section
  job:
    jarURI: s3://jobs/wordcount.jar
    entryClass: org.example.WordCount
    parallelism: 2
    upgradeMode: savepoint
EOF
git -C "$w" add -A && git -C "$w" commit -qm base && git -C "$w" push -q origin main

# branch NAME CMD: make branch NAME from main with CMD run in the work tree
branch() {
	local name=$1
	shift
	git -C "$w" checkout -q -b "$name" main
	(cd "$w" && eval "$*")
	git -C "$w" add -A && git -C "$w" commit -qm "$name" && git -C "$w" push -q origin "$name"
	git -C "$w" checkout -q main
}
branch raise "sed -i 's/parallelism: 2/parallelism: 4/' jobs/wordcount.yaml"
branch comment "sed -i 's/# The job section/# The job section: what runs/' jobs/wordcount.yaml"
branch broken "sed -i 's/parallelism: 2/parallelism: two/' jobs/wordcount.yaml"
branch stateless "sed -i 's/upgradeMode: savepoint/upgradeMode: stateless/; s/parallelism: 2/parallelism: 3/' jobs/wordcount.yaml"
branch modeonly "sed -i 's/upgradeMode: savepoint/upgradeMode: stateless/' jobs/wordcount.yaml"
branch delete "git rm -q jobs/wordcount.yaml"
branch rename "git mv jobs/wordcount.yaml jobs/wc.yaml"

# plan WANT_EXIT ARGS...: run plan, keep stdout/stderr
plan() {
	local want=$1
	shift
	"$FLINKOPS" plan "$@" >"$t/out" 2>"$t/err"
	local rc=$?
	[ "$rc" = "$want" ] || { echo "  (exit $rc, want $want)"; cat "$t/out" "$t/err" | head -20; return 1; }
}

if plan 2 --repo "$url" --cache "$t/cache" --base main --head raise &&
	grep -q "^default/wordcount (jobs/wordcount.yaml): savepoint upgrade (stop with a savepoint" "$t/out" &&
	grep -q "warning: parallelism changes from 2 to 4" "$t/out" && grep -q "^+    parallelism.default: 4" "$t/out"; then
	ok "parallelism raise over git://: exit 2, default/wordcount savepoint upgrade, warning, diff"
else
	fail "parallelism raise"
fi
if plan 0 --repo "$w" --base main --head comment && grep -q "no change" "$t/out" &&
	grep -q "No FlinkDeployment changes." "$t/out"; then
	ok "comment-only change: exit 0, no change"
else
	fail "comment-only change"
fi
if plan 1 --repo "$w" --base main --head broken &&
	grep -q "^jobs/wordcount.yaml:17:18: spec.job.parallelism: expected an integer" "$t/err" &&
	! grep -q "delete" "$t/out"; then
	ok "broken file: exit 1, $(head -1 "$t/err" | cut -c1-70)..., not read as a delete"
else
	fail "broken file"
fi
if plan 2 --repo "$w" --base main --head stateless && grep -q "stateless restart (state is dropped)" "$t/out" &&
	grep -q "warning: upgradeMode is stateless.*state is dropped" "$t/out"; then
	ok "switch to stateless with a rescale: stateless restart, warning that state is dropped"
else
	fail "switch to stateless"
fi
if plan 2 --repo "$w" --base main --head modeonly &&
	grep -q "warning: upgradeMode changes from savepoint to stateless.*its state is dropped" "$t/out"; then
	ok "switch to stateless alone: nothing restarts now, warning that the next upgrade drops state"
else
	fail "switch to stateless alone"
fi
if plan 2 --repo "$w" --base main --head delete &&
	grep -q "^default/wordcount (jobs/wordcount.yaml): delete with a final savepoint" "$t/out" &&
	grep -q "savepoint first: yes" "$t/out"; then
	ok "deleted file: delete with a final savepoint"
else
	fail "deleted file"
fi
if plan 0 --repo "$w" --base main --head rename && grep -q "jobs/wordcount.yaml -> jobs/wc.yaml): no change" "$t/out"; then
	ok "renamed file: the same deployment, no change (not a delete and a create)"
else
	fail "renamed file"
fi
if plan 2 --repo "$w" --base main --head raise -o markdown && grep -q "^### flinkops plan: 1 FlinkDeployment changes" "$t/out" &&
	grep -q '^| `default/wordcount` | `jobs/wordcount.yaml` | savepoint upgrade' "$t/out" &&
	grep -q '^````diff' "$t/out"; then
	ok "markdown: heading, table row, fenced diff"
else
	fail "markdown"
fi
if plan 2 --repo "$w" --base main --head raise -o json &&
	jq -en 'input | .deployments[0] | .action == "upgrade" and .takesSavepoint and (.warnings | length) == 1' "$t/out" >/dev/null; then
	ok "json: action upgrade, takesSavepoint, one warning"
else
	fail "json"
fi
if plan 1 --repo "$w" --base main --head no-such-branch && grep -q '"no-such-branch" not found' "$t/err"; then
	ok "unknown revision: exit 1, named"
else
	fail "unknown revision"
fi
rm -rf "${RIG_GIT_ROOT:?}/$repo.git"
exit $failed
