#!/usr/bin/env bash
# rig: k8s git flink s3
# The install, proven on the rig. `kubectl apply -k examples/install` is
# admitted in a namespace enforcing the Pod Security "restricted" level;
# then flinkops runs FROM THE IMAGE (podman, host network, read-only root,
# no capabilities, user 65532) with a token minted for the install's
# ServiceAccount mounted where in-cluster configuration reads it, and syncs
# a repository through a create and a savepoint upgrade. The API server's
# audit log shows no 403 for that identity, and `kubectl auth can-i --list`
# for it is exactly examples/install/permissions.txt.
#
# Containers here: podman with crun fails on this machine's hybrid cgroup
# layout ("cgroups in hybrid mode not supported"), so the OCI runtime is
# runc (also Debian's), with the cgroupfs manager; the process may not
# raise rlimits (no CAP_SYS_RESOURCE), so podman's default ulimits are off.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
K="$RIG_KUBECTL --kubeconfig $RIG_KUBECONFIG"
sa=system:serviceaccount:flinkops-system:flinkops
tmp=$(mktemp -d)
chmod 755 "$tmp"
ctr=flinkops-install-$$
fails=0
ok() { echo "ok   install: $*"; }
bad() { echo "FAIL install: $*"; fails=$((fails + 1)); }
export CONTAINERS_CONF=$tmp/containers.conf
printf '[containers]\ndefault_ulimits = []\n' >"$CONTAINERS_CONF"
podman_() { podman --runtime runc --cgroup-manager cgroupfs "$@"; }
cleanup() {
	podman_ rm -f "$ctr" >/dev/null 2>&1
	jid=$($K -n flink-jobs get configmap flink-journal-counter -o jsonpath='{.data.journal\.json}' 2>/dev/null | jq -r '.jobId // empty')
	[ -n "$jid" ] && curl -s -X PATCH "$RIG_FLINK_URL/jobs/$jid?mode=cancel" >/dev/null
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

# --- 3. the image, as the ServiceAccount ---
image=$top/build/flinkops-image.oci.tar
[ -f "$image" ] || (cd "$top" && make -s image >/dev/null) || bad "make image"
# the archive names the image by its tag alone (the OCI layout's ref name),
# which podman turns into localhost/TAG:latest; give it a proper name
ref=$(podman_ load -q -i "$image" 2>/dev/null | sed -n 's/^Loaded image[^:]*: *//p' | tail -1)
podman_ tag "$ref" localhost/flinkops:test >/dev/null 2>&1 || bad "podman load/tag of $image (loaded '$ref')"
mkdir -p "$tmp/sa" "$tmp/conf" "$tmp/secrets"
$K -n flinkops-system create token flinkops --duration 1h >"$tmp/sa/token" || bad "kubectl create token"
cp "$RIG_KUBE_CA" "$tmp/sa/ca.crt"
echo flinkops-system >"$tmp/sa/namespace"
printf '%s' "$RIG_S3_ACCESS_KEY" >"$tmp/secrets/s3-access"
cp "$RIG_S3_SECRET_KEY_FILE" "$tmp/secrets/s3-secret"
name=e2e-install-$$
repo=$("$RIG_GIT_NEW_REPO" --force "$name")
git clone -q "$repo" "$tmp/work" 2>/dev/null
git -C "$tmp/work" config user.email t@example.com
git -C "$tmp/work" config user.name t
mkdir -p "$tmp/work/jobs"
counter=$tmp/counter-dir/counter
mkdir -p "$tmp/counter-dir"
job() {
	cat <<-YAML
	apiVersion: flink.apache.org/v1beta1
	kind: FlinkDeployment
	metadata: {name: counter, namespace: flink-jobs}
	spec:
	  image: flink:1.20
	  flinkVersion: v1_20
	  jobManager: {resource: {memory: 1g, cpu: 1}}
	  taskManager: {resource: {memory: 1g, cpu: 1}}
	  job:
	    jarURI: s3://$RIG_S3_BUCKET/$RIG_S3_TEST_KEY
	    entryClass: $RIG_FLINK_JOB_CLASS
	    args: [--counter-file, $counter, --report-ms, "100"]
	    parallelism: $1
	    upgradeMode: savepoint
	YAML
}
publish() {
	git -C "$tmp/work" add -A
	git -C "$tmp/work" commit -qm "$1"
	git -C "$tmp/work" pull -q --rebase origin main 2>/dev/null
	git -C "$tmp/work" push -q origin HEAD:main 2>/dev/null
	git -C "$tmp/work" rev-parse HEAD
}
job 1 >"$tmp/work/jobs/counter.yaml"
c1=$(publish "counter")
# the install's configuration, with the rig's endpoints
sed -e "s|url: https://git.example.com/team/flink-jobs.git.*|url: ${RIG_GIT_DAEMON_URL%/}/$name.git|" \
	-e '/username:/d' -e '/passwordFile:/d' -e 's|interval: 1m|interval: 5s|' "$top/examples/install/config.yaml" >"$tmp/conf/config.yaml"
cat >>"$tmp/conf/config.yaml" <<-YAML
YAML
python3 - "$tmp/conf/config.yaml" "$RIG_FLINK_URL" "$RIG_S3_ENDPOINT" "$RIG_S3_REGION" <<-'PY'
import sys
p, flink, s3, region = sys.argv[1:]
s = open(p).read()
s = s.replace("flink:\n  jarCacheDir: /var/cache/flinkops/jars\n",
    "flink:\n  jarCacheDir: /var/cache/flinkops/jars\n  restUrl: %s\n  s3Endpoint: %s\n  s3Region: %s\n"
    "  s3AccessKeyFile: /etc/flinkops/s3/s3-access\n  s3SecretKeyFile: /etc/flinkops/s3/s3-secret\n"
    "  savepointTimeout: 60s\n" % (flink, s3, region))
s = s.replace('  webhookSecretFile: /etc/flinkops/webhook/secret\n', '')
s = s.replace('  listen: ":8080"', '  listen: "127.0.0.1:18282"')
open(p, "w").write(s)
PY
chmod -R a+rX "$tmp/sa" "$tmp/conf" "$tmp/secrets"
chmod 777 "$tmp/counter-dir"
# the caches: an emptyDir in the cluster, a folder the agent's user owns here
mkdir -p "$tmp/cache" && chown 65532:65532 "$tmp/cache" && chmod 700 "$tmp/cache"
since=$(date -u +%Y-%m-%dT%H:%M:%S)
port=${RIG_KUBE_SERVER##*:}
podman_ run -d --name "$ctr" --pull=never --network host --read-only --user 65532:65532 \
	--cap-drop ALL --security-opt no-new-privileges \
	-e KUBERNETES_SERVICE_HOST=127.0.0.1 -e KUBERNETES_SERVICE_PORT="$port" -e POD_NAME="$ctr" -e POD_NAMESPACE=flinkops-system \
	-v "$tmp/sa:/var/run/secrets/kubernetes.io/serviceaccount:ro" -v "$tmp/conf:/etc/flinkops/config:ro" \
	-v "$tmp/secrets:/etc/flinkops/s3:ro" -v "$tmp/counter-dir:$tmp/counter-dir" \
	-v "$tmp/cache:/var/cache/flinkops" --tmpfs /tmp:rw,mode=1777 \
	localhost/flinkops:test agent --config /etc/flinkops/config/config.yaml >/dev/null ||
	{ bad "podman run"; exit 1; }
status_of() { # PHASE COMMIT
	local s
	s=$("$FLINKOPS" status --repo "$repo" --cache "$tmp/scache" -o json 2>/dev/null | jq -c '.deployments[] | select(.name=="counter")')
	[ "$(jq -r .phase <<<"$s")" = "$1" ] && [ "$(jq -r .observedCommit <<<"$s")" = "$2" ]
}
wait_status() {
	for _ in $(seq 1 "$3"); do status_of "$1" "$2" && return 0; sleep 1; done
	return 1
}
if wait_status Running "$c1" 240; then ok "the agent from the image created the deployment: Running at ${c1:0:7}"; else
	bad "no Running at ${c1:0:7}; the agent said:"; podman_ logs --tail 20 "$ctr" 2>&1; fi
job1=$("$FLINKOPS" status --repo "$repo" --cache "$tmp/scache" -o json | jq -r '.deployments[0].jobId')
job 2 >"$tmp/work/jobs/counter.yaml"
c2=$(publish "counter: parallelism 2")
if wait_status Running "$c2" 240; then
	job2=$("$FLINKOPS" status --repo "$repo" --cache "$tmp/scache" -o json | jq -r '.deployments[0].jobId')
	sp=$("$FLINKOPS" status --repo "$repo" --cache "$tmp/scache" -o json | jq -r '.deployments[0].lastSavepoint')
	restored=$(curl -s "$RIG_FLINK_URL/jobs/$job2/checkpoints" | jq -r '.latest.restored.external_path // empty')
	if [ "$job2" != "$job1" ] && [ -n "$sp" ] && [ "$restored" = "$sp" ]; then
		ok "savepoint upgrade from the image: $job1 -> $job2, restored from $sp"
	else
		bad "upgrade: job $job1 -> $job2, savepoint '$sp', Flink restored from '$restored'"
	fi
else
	bad "no Running at ${c2:0:7}"; podman_ logs --tail 20 "$ctr" 2>&1
fi
podman_ stop -t 30 "$ctr" >/dev/null 2>&1
code=$(podman_ inspect "$ctr" --format '{{.State.ExitCode}}' 2>/dev/null)
[ "$code" = 0 ] && ok "SIGTERM: the agent in the container exited 0" || bad "exit code after podman stop: $code"

# --- 4. the audit log: what that identity asked, and not one 403 ---
n=$(jq -c --arg u "$sa" --arg t "$since" 'select(.user.username == $u and .requestReceivedTimestamp >= $t)' "$RIG_KUBE_AUDIT_LOG" | wc -l)
f=$(jq -c --arg u "$sa" --arg t "$since" 'select(.user.username == $u and .requestReceivedTimestamp >= $t and .responseStatus.code == 403)' "$RIG_KUBE_AUDIT_LOG")
if [ "$n" -gt 10 ] && [ -z "$f" ]; then ok "audit log: $n requests by $sa, no 403"; else
	bad "audit log: $n requests by $sa; 403s: $(head -c 600 <<<"$f")"; fi
exit $((fails > 0))
