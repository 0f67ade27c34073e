#!/usr/bin/env bash
# rig: k8s
# lane: pods
# The install's manifests, proven on the rig. install.yaml is what the base
# renders, and the API server takes every object of it under strict
# validation; `kubectl apply -k examples/install` is admitted in a namespace
# enforcing the Pod Security "restricted" level; `kubectl auth can-i --list`
# for the install's ServiceAccount is exactly examples/install/permissions.txt.
# The install running on a real node (the image in containerd, the kubelet's
# probes, the audit log of what the agent asks) is
# tests/e2e/test_pods_install.sh; both use the install's namespaces, so
# this test runs in the pods tests' lane (`# lane: pods`), never beside it.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
K="$RIG_KUBECTL --kubeconfig $RIG_KUBECONFIG"
sa=system:serviceaccount:flinkops-system:flinkops
tmp=$(mktemp -d)
fails=0
ok() { echo "ok   install: $*"; }
bad() { echo "FAIL install: $*"; fails=$((fails + 1)); }
cleanup() {
	$K delete -k "$top/examples/install" --wait=false >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

$K delete namespace flink-jobs flinkops-system --wait=true >/dev/null 2>&1

# --- 0. the schema: install.yaml is what the base renders, and the API
# server takes every object of it with strict field validation (a server-side
# dry run: unknown and duplicate fields are errors), and refuses a typo ---
{
	echo "# Rendered from examples/install by \`make install-yaml\` (kubectl kustomize); do not edit."
	echo "# kubectl apply -f install.yaml — read examples/install/kustomization.yaml first: two Secrets come before it."
	$RIG_KUBECTL kustomize "$top/examples/install"
} >"$tmp/rendered.yaml"
cmp -s "$tmp/rendered.yaml" "$top/examples/install/install.yaml" && ok "install.yaml is what kubectl kustomize renders" ||
	bad "install.yaml is stale: run make install-yaml"
$K apply -f "$top/examples/install/namespace.yaml" >/dev/null
out=$($K apply --dry-run=server --validate=strict -f "$top/examples/install/install.yaml" 2>&1)
if [ $? -eq 0 ] && [ "$(grep -c 'server dry run' <<<"$out")" -eq "$(grep -c '^kind:' "$top/examples/install/install.yaml")" ]; then
	ok "server-side dry run, strict validation: all $(grep -c '^kind:' "$top/examples/install/install.yaml") objects accepted"
else
	bad "server-side dry run: $out"
fi
sed 's/^  replicas: 2$/  replicaz: 2/' "$top/examples/install/install.yaml" >"$tmp/typo.yaml"
out=$($K apply --dry-run=server --validate=strict -f "$tmp/typo.yaml" 2>&1)
grep -q 'unknown field "spec.replicaz"' <<<"$out" && ok "a typo in a field is refused by the same check" ||
	bad "a typo passed the dry run: $out"

# --- 1. admitted at the restricted level ---
out=$($K apply -k "$top/examples/install" 2>&1)
if [ $? -eq 0 ] && ! grep -qi 'warning' <<<"$out"; then ok "kubectl apply -k examples/install: admitted, no warning"; else bad "apply: $out"; fi
[ "$($K get namespace flinkops-system -o jsonpath='{.metadata.labels.pod-security\.kubernetes\.io/enforce}')" = restricted ] &&
	ok "flinkops-system enforces Pod Security restricted" || bad "flinkops-system is not labelled restricted"
for _ in $(seq 1 60); do
	n=$($K -n flinkops-system get pods -l app.kubernetes.io/component=agent --no-headers 2>/dev/null | wc -l)
	[ "$n" -ge 2 ] && break
	sleep 1
done
[ "$n" -ge 2 ] && ok "the Deployment's 2 pods were admitted and created" ||
	bad "pods: $n; $($K -n flinkops-system get events --field-selector reason=FailedCreate -o jsonpath='{.items[*].message}')"
# the control: the same namespace refuses a pod that is not restricted
out=$($K -n flinkops-system run not-restricted --image=flinkops:0.1.0 --restart=Never 2>&1)
grep -q 'violates PodSecurity "restricted' <<<"$out" && ok "a non-restricted pod is refused there (enforcement is on)" ||
	bad "a non-restricted pod was not refused: $out"

# --- 2. exactly the documented permissions ---
perm() {
	for ns in flink-jobs flinkops-system; do
		$K auth can-i --list --as="$sa" -n "$ns" 2>/dev/null | awk -v ns="$ns" 'NR > 1 && $1 !~ /^\[/ && $1 !~ /^self/ {
			res = $1; names = $3; verbs = ""; for (i = 4; i <= NF; i++) verbs = verbs " " $i
			print ns, res, names, verbs }'
	done | sed 's/  */ /g' | sort
}
perm >"$tmp/perm"
grep -v '^#' "$top/examples/install/permissions.txt" | sed 's/  */ /g' | sort >"$tmp/want"
if diff -u "$tmp/want" "$tmp/perm" >"$tmp/permdiff"; then ok "kubectl auth can-i --list matches examples/install/permissions.txt ($(wc -l <"$tmp/want") rules)"; else
	bad "permissions differ from examples/install/permissions.txt:"; cat "$tmp/permdiff"; fi

exit $((fails > 0))
