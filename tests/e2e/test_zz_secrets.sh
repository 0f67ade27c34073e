#!/usr/bin/env bash
# rig: k8s git flink s3
# Runs last (tests run in name order): no secret the rig or a test handed to
# flinkops appears, plain or encoded, in anything flinkops wrote during this
# e2e run:
#   - every invocation's stdout and stderr, which tests/e2e/run keeps in
#     $E2E_LOG_DIR;
#   - every object of the rig's git repositories (status commits, reachable
#     or not) and their files (config, logs, hooks), and the copies tests
#     kept of the repositories and caches they reached with a password or
#     a key before removing them (tests/e2e/lib-keep.sh);
#   - Kubernetes Events and ConfigMaps: those of every test namespace, kept
#     before it was deleted, and all that are left in the cluster;
#   - the agents' /metrics, scraped before each was stopped.
# The secrets: the git HTTPS password, the S3 secret key, every Kubernetes
# token the rig hands out (and its client keys), the SSH private key's
# material, and the webhook secrets tests made. The forms: plain,
# URL-encoded, JSON-escaped and base64 (standard and URL-safe, at each of
# the three alignments, so that a secret inside a longer encoded string,
# such as user:password in a Basic header, is found too). Several tests
# feed these to flinkops on purpose, also through the paths that fail.
set -u
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; }
: "${E2E_LOG_DIR:?run me through tests/e2e/run}"
K="$RIG_KUBECTL --kubeconfig $RIG_KUBECONFIG"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- the secrets, NAME<TAB>VALUE a line ----------------------------------------
secrets=$work/secrets
add() { [ -n "$2" ] && printf '%s\t%s\n' "$1" "$2" >>"$secrets"; }
# pem_body NAME FILE: each line of a key's base64 body (the armour lines and
# the first body line, alike in every OpenSSH key, left out)
pem_body() {
	local skip=0
	grep -q 'OPENSSH PRIVATE KEY' "$2" 2>/dev/null && skip=1
	grep -v -- '-----' "$2" 2>/dev/null | tail -n +$((skip + 1)) | while read -r l; do
		[ ${#l} -ge 16 ] && add "$1" "$l"
	done
}
kubeconfig_field() { sed -n "s/^ *$2: *//p" "$1" 2>/dev/null | head -1; }
add "git HTTPS password" "$(cat "$RIG_GIT_HTTPS_PASSWORD_FILE" 2>/dev/null)"
add "S3 secret key" "$(cat "$RIG_S3_SECRET_KEY_FILE" 2>/dev/null)"
add "Kubernetes token (admin)" "$(cat "$RIG_KUBE_TOKEN_FILE" 2>/dev/null)"
for kc in AGENT_A AGENT_B LIMITED BADTOKEN; do
	f=RIG_KUBECONFIG_$kc
	add "Kubernetes token (${kc,,})" "$(kubeconfig_field "${!f}" token)"
done
add "Kubernetes client key (inline)" "$(kubeconfig_field "$RIG_KUBECONFIG_INLINE" client-key-data)"
pem_body "Kubernetes client key" "$(kubeconfig_field "$RIG_KUBECONFIG_CERT" client-key)"
pem_body "SSH private key" "$RIG_GIT_SSH_KEY"
n_rig=$(cut -f1 "$secrets" | sed 's/ (.*//' | sort -u | wc -l)
[ -s "${E2E_SECRETS:-}" ] && sort -u "$E2E_SECRETS" >>"$secrets"
n_hooks=$(grep -c '^webhook secret	' "$secrets")
# git password, S3 key, tokens, client key, SSH key: all five kinds
if [ "$n_rig" -lt 5 ] || ! grep -q '^SSH private key	' "$secrets" || [ "$(grep -c '^Kubernetes token' "$secrets")" -lt 5 ]; then
	fail "could not read the rig's secrets: $(cut -f1 "$secrets" | sort | uniq -c | tr '\n' ';')"
	exit 1
fi

# every form of every secret, PATTERN<TAB>NAME (form) a line
python3 - "$secrets" >"$work/forms" <<'EOF'
import base64, json, sys, urllib.parse
seen = {}
def form(name, kind, v):
    if len(v) >= 12 and v not in seen:
        seen[v] = f"{name} ({kind})"
for line in open(sys.argv[1], encoding="utf-8"):
    name, _, v = line.rstrip("\n").partition("\t")
    form(name, "plain", v)
    form(name, "URL-encoded", urllib.parse.quote(v, safe=""))
    form(name, "URL-encoded", urllib.parse.quote_plus(v))
    form(name, "JSON-escaped", json.dumps(v)[1:-1])
    form(name, "JSON-escaped", json.dumps(v)[1:-1].replace("/", "\\/"))
    b = v.encode()
    for k in range(3):  # the characters that depend on the secret alone
        lo, hi = -(-8 * k // 6), 8 * (k + len(b)) // 6
        std = base64.b64encode(b"\0" * k + b).decode()[lo:hi]
        form(name, "base64", std)
        form(name, "base64url", std.replace("+", "-").replace("/", "_"))
for v, what in seen.items():
    print(f"{v}\t{what}")
EOF
cut -f1 "$work/forms" >"$work/patterns"

# --- what flinkops wrote -------------------------------------------------------
scan=$work/scan
mkdir -p "$scan"
# every object of a repository, uncompressed, reachable or not; its files too
dump_repo() {
	git --git-dir="$1" cat-file --batch-all-objects --batch 2>/dev/null
	find "$1" -type f ! -path '*/objects/*' -exec cat {} + 2>/dev/null
}
nrepos=0
for r in "$RIG_GIT_ROOT"/*.git; do
	[ -d "$r" ] || continue
	dump_repo "$r" >"$scan/repo-$(basename "$r")"
	nrepos=$((nrepos + 1))
done
# what tests kept: repositories and caches (scanned raw, and each git
# folder's objects uncompressed), namespaces, /metrics
nkept=0
if [ -d "${E2E_KEEP_DIR:-}" ]; then
	while read -r g; do
		dump_repo "$g" >"$scan/kept-$nkept"
		nkept=$((nkept + 1))
	done < <(find "$E2E_KEEP_DIR" -type d -name objects -printf '%h\n')
fi
nns=$(ls "${E2E_KEEP_DIR:-/nonexistent}"/namespace-*.json 2>/dev/null | wc -l)
nmetrics=$(ls "${E2E_KEEP_DIR:-/nonexistent}"/metrics.* 2>/dev/null | wc -l)
$K get events,configmaps -A -o json >"$scan/cluster-events-configmaps.json" 2>/dev/null
nlogs=$(ls "$E2E_LOG_DIR" | wc -l)
if [ "$nlogs" -lt 10 ] || [ "$nrepos" -lt 1 ] || ! [ -s "$scan/cluster-events-configmaps.json" ]; then
	fail "too little to check: $nlogs invocation logs, $nrepos repositories, cluster dump $(wc -c <"$scan/cluster-events-configmaps.json") bytes"
	exit 1
fi

bytes=$(cat "$E2E_LOG_DIR"/* "$scan"/* | wc -c)
grep -rFoa -f "$work/patterns" "$E2E_LOG_DIR" "$scan" ${E2E_KEEP_DIR:+"$E2E_KEEP_DIR"} 2>/dev/null | sort -u >"$work/hits"
if [ -s "$work/hits" ]; then
	# FILE:PATTERN -> the secret and the form it was found in
	awk -F'\t' 'NR == FNR { what[$1] = $2; next }
		{ i = index($0, ":"); f = substr($0, 1, i - 1); p = substr($0, i + 1)
		  printf "FAIL the %s appears in %s\n", (p in what ? what[p] : "secret"), f }' \
		"$work/forms" "$work/hits" | sort -u | head -20
	exit 1
fi
ok "no secret ($(cut -f1 "$secrets" | sort -u | wc -l) kinds, $n_hooks webhook secrets; $(wc -l <"$work/patterns") plain and encoded forms) in $nlogs invocation logs, the objects and files of $nrepos repositories, $nkept kept repositories and caches, $nns namespaces' and the cluster's Events and ConfigMaps, $nmetrics /metrics scrapes ($bytes bytes)"
