#!/usr/bin/env bash
# rig: k8s git flink s3
# Runs last (tests run in name order): no secret of the rig appears in what
# flinkops printed during this e2e run — every invocation's stdout and
# stderr, which tests/e2e/run keeps in $E2E_LOG_DIR — nor anywhere in the
# history of the rig's git repositories, where the agent commits status
# files. The secrets: the git HTTPS password, the S3 secret key, the
# Kubernetes bearer token and the SSH private key. Several tests feed these
# to flinkops on purpose, also through the paths that fail.
set -u
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; }
: "${E2E_LOG_DIR:?run me through tests/e2e/run}"
secrets=()
add() { [ -n "$2" ] && secrets+=("$1=$2"); }
add "git https password" "$(cat "$RIG_GIT_HTTPS_PASSWORD_FILE" 2>/dev/null)"
add "S3 secret key" "$(cat "$RIG_S3_SECRET_KEY_FILE" 2>/dev/null)"
add "Kubernetes token" "$(cat "$RIG_KUBE_TOKEN_FILE" 2>/dev/null)"
add "SSH private key" "$(sed -n 3p "$RIG_GIT_SSH_KEY" 2>/dev/null)"  # line 2 starts alike in every key
if [ ${#secrets[@]} != 4 ]; then
	fail "could not read the rig's four secrets (got ${#secrets[@]})"
	exit 1
fi
corpus=$(mktemp)
trap 'rm -f "$corpus"' EXIT
cat "$E2E_LOG_DIR"/* >"$corpus" 2>/dev/null
nlogs=$(ls "$E2E_LOG_DIR" | wc -l)
nrepos=0
for r in "$RIG_GIT_ROOT"/*.git; do
	[ -d "$r" ] || continue
	git -C "$r" log --all -p --format='commit %H%n%B' >>"$corpus" 2>/dev/null
	nrepos=$((nrepos + 1))
done
bytes=$(wc -c <"$corpus")
if [ "$nlogs" -lt 10 ] || [ "$nrepos" -lt 1 ]; then
	fail "too little to check: $nlogs invocation logs, $nrepos repositories"
	exit 1
fi
leaks=0
for s in "${secrets[@]}"; do
	name=${s%%=*}
	value=${s#*=}
	if grep -qF -- "$value" "$corpus"; then
		fail "the $name appears in what flinkops printed or committed"
		grep -lF -- "$value" "$E2E_LOG_DIR"/* 2>/dev/null | head -3 | sed 's/^/     in /'
		leaks=$((leaks + 1))
	fi
done
[ $leaks = 0 ] && ok "no rig secret in $nlogs invocation logs and the history of $nrepos repositories ($bytes bytes)"
