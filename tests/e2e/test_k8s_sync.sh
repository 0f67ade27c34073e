#!/usr/bin/env bash
# rig: k8s git
# lane: alone
# flinkops sync --once against the rig's real kube-apiserver, with the
# manifests in a real git repository served by the rig: objects created with
# labels and hashes, pods Ready, a second pass that writes nothing, drift
# corrected, an upgrade classified, a float in a pod template applied
# exactly (the apply body's printer), prune and its guard, a ServiceAccount,
# Role and RoleBinding from git applied and pruned (not while a manifest is
# invalid), spec.ingress's Ingress created, changed and deleted in place,
# and the faults (apiserver gone mid-pass, 403, 422, 401).
set -u
: "${FLINKOPS:?}" "${RIG_KUBECONFIG:?}" "${RIG_GIT_NEW_REPO:?}"
K="$RIG_KUBECTL --kubeconfig $RIG_KUBECONFIG"
tmp=$(mktemp -d)
ns=e2e-sync-$$
ns2=e2e-sync2-$$ # a second namespace, where the limited identity may list Ingresses
trap 'rm -rf "$tmp"; $K delete namespace $ns $ns2 --wait=false >/dev/null 2>&1' EXIT
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; }
. "$(dirname "$0")/lib-git.sh" # ha_objects (its publish is this test's own, below)

$K create namespace $ns >/dev/null

# a repository on the rig's git server, and a work tree to push from
repo=$("$RIG_GIT_NEW_REPO" --force "e2e-sync-$$")
git clone -q "$repo" "$tmp/work" 2>/dev/null
git -C "$tmp/work" config user.email t@example.com
git -C "$tmp/work" config user.name t
mkdir -p "$tmp/work/jobs"

deployment() { # deployment NAME TM_MEMORY [EXTRA_SPEC_LINES]
	cat <<EOF
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata:
  name: $1
  namespace: $ns
spec:
  image: flink:1.20
  flinkVersion: v1_20
  jobManager:
    resource: {memory: 1g, cpu: 0.5}
  taskManager:
    resource: {memory: $2, cpu: 0.5}
    replicas: 2
  job:
    jarURI: s3://jobs/$1.jar
    parallelism: 2
    upgradeMode: savepoint
${3:-}
EOF
}

publish() { # commit and push the work tree
	git -C "$tmp/work" add -A
	git -C "$tmp/work" commit -qm "${1:-change}" --allow-empty
	git -C "$tmp/work" push -q origin HEAD:main 2>/dev/null
}

config() { # config FILE KUBECONFIG [EXTRA]
	cat >"$1" <<EOF
repository:
  url: file://$repo
  branch: main
  path: jobs
  cacheDir: $tmp/cache
status:
  enabled: false
kubernetes:
  kubeconfig: $2
  timeout: ${TIMEOUT:-10s}
agent:
  name: e2e-$$
flink:
  submitJobs: false   # this test is about the objects; jobs: test_rollout.sh
${3:-}
EOF
}
config "$tmp/config.yaml" "$RIG_KUBECONFIG"

sync_once() { # sync_once CONFIG [FLAGS] -> $tmp/out.json, $tmp/err, $rc
	"$FLINKOPS" sync --config "$@" --once -o json >"$tmp/out.json" 2>"$tmp/err"
	rc=$?
}
jqo() { jq -r "$@" "$tmp/out.json"; }

# --- 1. create: six objects with labels and hashes, pods Ready ------------
deployment wc 2g >"$tmp/work/jobs/wc.yaml"
deployment other 2g >"$tmp/work/jobs/other.yaml"
publish "two deployments"
sync_once "$tmp/config.yaml"
if [ $rc = 0 ] && [ "$(jqo '.summary.created')" = 2 ] && [ "$(jqo '.requests.apply')" = 12 ]; then
	ok "first pass creates 2 deployments with 12 applies"
else
	fail "first pass: rc=$rc $(cat "$tmp/err") $(jqo .summary)"
fi
objs=$($K -n $ns get configmap,service,statefulset -l app.kubernetes.io/instance=wc,app.kubernetes.io/managed-by=flinkops \
	-o jsonpath='{range .items[*]}{.kind}/{.metadata.name} {.metadata.labels.app\.kubernetes\.io/name} {.metadata.annotations.flinkops\.io/content-hash}{"\n"}{end}')
n=$(grep -c . <<<"$objs")
nhash=$(awk 'length($3) == 64 && $2 == "flink"' <<<"$objs" | wc -l)
if [ "$n" = 6 ] && [ "$nhash" = 6 ]; then
	ok "wc has its six objects, each labelled and with a 64-hex content hash"
else
	fail "objects of wc: $objs"
fi
ready=""
for _ in $(seq 1 60); do
	jm=$($K -n $ns get sts wc-jobmanager -o jsonpath='{.status.readyReplicas}')
	tm=$($K -n $ns get sts wc-taskmanager -o jsonpath='{.status.readyReplicas}')
	[ "$jm" = 1 ] && [ "$tm" = 2 ] && { ready=yes; break; }
	sleep 0.5
done
[ -n "$ready" ] && ok "the StatefulSets' pods become Ready (1 JobManager, 2 TaskManagers)" ||
	fail "pods not Ready in 30 s: jm=$jm tm=$tm"

# --- 1b. a name of 45 characters, upstream's limit: the StatefulSets get
# short names, and the controller can label their pods with the revision
long=long-name-of-forty-five-characters-0123456789
deployment $long 2g >"$tmp/work/jobs/long.yaml"
publish "a name of 45 characters"
sync_once "$tmp/config.yaml"
ready=""
for _ in $(seq 1 60); do
	jm=$($K -n $ns get sts $long-jm -o jsonpath='{.status.readyReplicas}' 2>/dev/null)
	tm=$($K -n $ns get sts $long-tm -o jsonpath='{.status.readyReplicas}' 2>/dev/null)
	[ "$jm" = 1 ] && [ "$tm" = 2 ] && { ready=yes; break; }
	sleep 0.5
done
if [ ${#long} = 45 ] && [ $rc = 0 ] && [ -n "$ready" ] && $K -n $ns get service $long-taskmanager $long-rest >/dev/null; then
	ok "a 45-character name: StatefulSets $long-jm and -tm, their pods Ready"
else
	fail "45-character name: rc=$rc jm=$jm tm=$tm $(head -3 "$tmp/err") $($K -n $ns get events --field-selector reason=FailedCreate -o jsonpath='{.items[*].message}' | head -c 400)"
fi
git -C "$tmp/work" rm -q jobs/long.yaml
publish "the long name goes"
sync_once "$tmp/config.yaml"
left=$($K -n $ns get configmap,service,statefulset -l app.kubernetes.io/instance=$long -o name | wc -l)
[ $rc = 0 ] && [ "$left" = 0 ] && ok "and pruned with its objects when its file goes" || fail "long name prune: rc=$rc left=$left"

# --- 2. a second pass writes nothing --------------------------------------
sync_once "$tmp/config.yaml"
if [ $rc = 0 ] && [ "$(jqo '.requests.writes')" = 0 ] && [ "$(jqo '.requests.get')" = 0 ] &&
	[ "$(jqo '.requests.list')" -le 9 ] && [ "$(jqo '.summary.unchanged')" = 2 ]; then
	ok "second pass: 0 writes, 0 GETs, $(jqo '.requests.list') LISTs"
else
	fail "second pass: rc=$rc requests=$(jqo -c .requests) $(cat "$tmp/err")"
fi
# the same pass as YAML: what a YAML reader gets is the JSON's shape and counts
"$FLINKOPS" sync --config "$tmp/config.yaml" --once -o yaml >"$tmp/out.yaml" 2>"$tmp/err.yaml"
yrc=$?
if [ $yrc = 0 ] && python3 -c 'import json, sys, yaml
j = json.load(open(sys.argv[1])); y = yaml.safe_load(open(sys.argv[2]))
ok = sorted(j) == sorted(y) and j["summary"] == y["summary"] and j["requests"] == y["requests"] and \
	[d["name"] for d in j["deployments"]] == [d["name"] for d in y["deployments"]]
sys.exit(0 if ok else 1)' "$tmp/out.json" "$tmp/out.yaml"; then
	ok "sync -o yaml: the pass as -o json gives it (the same keys, summary and requests)"
else
	fail "sync -o yaml: rc=$yrc $(head -c 300 "$tmp/out.yaml") $(cat "$tmp/err.yaml")"
fi

# --- 3. drift: someone scales the TaskManagers -----------------------------
$K -n $ns scale statefulset wc-taskmanager --replicas=5 >/dev/null
sync_once "$tmp/config.yaml"
replicas=$($K -n $ns get sts wc-taskmanager -o jsonpath='{.spec.replicas}')
drift=$(jqo '.deployments[] | select(.name=="wc") | .objects[] | select(.name=="wc-taskmanager" and .kind=="StatefulSet") | .drift')
if [ $rc = 0 ] && [ "$replicas" = 2 ] && [ "$(jqo '.summary.drifted')" = 1 ] && grep -q 'spec.replicas: 2 != 5' <<<"$drift"; then
	ok "kubectl scale to 5 is reported as drift ($drift) and restored to 2"
else
	fail "drift: rc=$rc replicas=$replicas drift=$drift"
fi

# --- 4. a TaskManager memory change is an upgrade -------------------------
deployment wc 3g >"$tmp/work/jobs/wc.yaml"
publish "more memory"
sync_once "$tmp/config.yaml"
action=$(jqo '.deployments[] | select(.name=="wc") | .action')
mem=$($K -n $ns get sts wc-taskmanager -o jsonpath='{.spec.template.spec.containers[0].resources.requests.memory}')
if [ $rc = 0 ] && [ "$action" = upgrade ] && { [ "$mem" = 3Gi ] || [ "$mem" = 3072Mi ]; }; then
	ok "TaskManager memory 2g -> 3g is classified as an upgrade and applied ($mem)"
else
	fail "memory change: rc=$rc action=$action memory=$mem"
fi

# --- 4b. what is applied is what was hashed: a number cJSON's printer rounds
# (0.30000000000000004 prints as 0.3 there) reaches the API server exactly,
# so the server's quantity is 301m, not 300m, and the next pass sees no change
deployment exact 2g "  podTemplate:
    spec:
      initContainers:
        - name: exact
          image: busybox
          resources: {requests: {cpu: 0.30000000000000004}}" >"$tmp/work/jobs/exact.yaml"
publish "a float in the pod template"
sync_once "$tmp/config.yaml"
cpu=$($K -n $ns get sts exact-jobmanager -o jsonpath='{.spec.template.spec.initContainers[0].resources.requests.cpu}')
sync_once "$tmp/config.yaml"
again=$(jqo '.deployments[] | select(.name=="exact") | .action')
if [ "$cpu" = 301m ] && [ $rc = 0 ] && [ "$again" = none ]; then
	ok "a float applied exactly: cpu 0.30000000000000004 is $cpu on the server (300m if rounded); the next pass changes nothing"
else
	fail "exact float: cpu=$cpu rc=$rc action=$again $(head -3 "$tmp/err")"
fi
git -C "$tmp/work" rm -q jobs/exact.yaml
publish "the float goes"
sync_once "$tmp/config.yaml" >/dev/null

# --- 5. 422: the server refuses an invalid object, with the field path ----
deployment bad 2g "  podTemplate:
    spec:
      dnsPolicy: Sometimes" >"$tmp/work/jobs/bad.yaml"
publish "invalid pod template"
sync_once "$tmp/config.yaml"
err=$(jqo '.deployments[] | select(.name=="bad") | .error')
if [ $rc = 1 ] && grep -q 'apply StatefulSet '"$ns"'/bad-jobmanager: StatefulSet.apps "bad-jobmanager" is invalid: spec.template.spec.dnsPolicy: Unsupported value: "Sometimes"' <<<"$err"; then
	ok "an invalid object fails with the server's 422 message and field path"
else
	fail "422: rc=$rc err=$err"
fi
git -C "$tmp/work" rm -q jobs/bad.yaml
publish "drop the invalid one"
sync_once "$tmp/config.yaml" >/dev/null

# --- 6. prune: a removed file is deleted; removing all is refused ---------
git -C "$tmp/work" rm -q jobs/other.yaml
publish "remove other"
sync_once "$tmp/config.yaml"
left=$($K -n $ns get configmap,service,statefulset -l app.kubernetes.io/instance=other -o name | wc -l)
if [ $rc = 0 ] && [ "$left" = 0 ] && [ "$(jqo '.summary.pruned')" -ge 1 ]; then
	ok "removing other.yaml deletes its objects"
else
	fail "prune: rc=$rc left=$left $(jqo -c .summary)"
fi
git -C "$tmp/work" rm -q jobs/wc.yaml
publish "remove everything"
sync_once "$tmp/config.yaml"
left=$($K -n $ns get configmap,service,statefulset -l app.kubernetes.io/instance=wc -o name | wc -l)
if [ $rc = 1 ] && [ "$left" = 6 ] && [ "$(jqo '.requests.delete')" = 0 ] && grep -q 'more than the limit of 50%' <<<"$(jqo .pruneRefused)"; then
	ok "removing every file is refused by the prune guard; nothing deleted"
else
	fail "guard: rc=$rc left=$left deletes=$(jqo .requests.delete) $(jqo .pruneRefused)"
fi
git -C "$tmp/work" revert --no-edit HEAD >/dev/null
publish "restore"

# --- 6b. the ServiceAccount, Role and RoleBinding of Kubernetes HA in git:
# applied with the agent's labels; a Role removed from git is deleted, but
# not while a manifest is invalid ---
plain() { $K -n $ns get serviceaccount,role,rolebinding -l app.kubernetes.io/managed-by=flinkops,flinkops.io/agent=e2e-$$ \
	-o jsonpath='{range .items[*]}{.kind}/{.metadata.name}={.metadata.annotations.flinkops\.io/content-hash} {end}'; }
ha_objects $ns >"$tmp/work/jobs/ha.yaml"
publish "the HA objects"
"$FLINKOPS" plan --live --config "$tmp/config.yaml" >"$tmp/plan.txt" 2>"$tmp/err"
rc=$?
if [ $rc = 2 ] && grep -qx "ServiceAccount $ns/flink: create" "$tmp/plan.txt" && grep -qx "Role $ns/flink-ha: create" "$tmp/plan.txt" &&
	grep -qx "RoleBinding $ns/flink-ha: create" "$tmp/plan.txt" && [ -z "$(plain)" ]; then
	ok "plan --live lists the three it would create (exit 2), and creates nothing"
else
	fail "plan --live of the HA objects: rc=$rc $(cat "$tmp/plan.txt" "$tmp/err")"
fi
sync_once "$tmp/config.yaml"
got=$(plain)
if [ $rc = 0 ] && [ "$(grep -oE '(ServiceAccount/flink|Role/flink-ha|RoleBinding/flink-ha)=[0-9a-f]{64}' <<<"$got" | wc -l)" = 3 ] &&
	[ "$(jqo '[.objects[] | select(.done and .action == "create")] | length')" = 3 ]; then
	ok "a ServiceAccount, Role and RoleBinding in git are created with the agent's labels and a content hash"
else
	fail "HA objects: rc=$rc live: $got objects: $(jqo -c .objects) $(cat "$tmp/err")"
fi
sync_once "$tmp/config.yaml"
[ $rc = 0 ] && [ "$(jqo '.requests.writes')" = 0 ] && ok "and the next pass writes nothing (no false drift)" ||
	fail "HA objects, second pass: rc=$rc requests=$(jqo -c .requests) objects=$(jqo -c .objects)"
# the Role goes from git while another manifest is invalid: kept
ha_objects $ns | awk 'BEGIN { RS = "---\n"; ORS = "" } !/kind: Role\n/ { print (n++ ? "---\n" : "") $0 }' >"$tmp/work/jobs/ha.yaml"
grep -q 'kind: Role$' "$tmp/work/jobs/ha.yaml" && fail "the Role is still in ha.yaml"
publish "Role removed"
"$FLINKOPS" plan --live --config "$tmp/config.yaml" >"$tmp/plan.txt" 2>"$tmp/err"
[ $? = 2 ] && grep -qx "Role $ns/flink-ha: delete" "$tmp/plan.txt" && [ "$(grep -c ': delete\|: create\|: update' "$tmp/plan.txt")" = 1 ] &&
	ok "plan --live: the Role removed from git would be deleted, nothing else" || fail "plan --live of the Role's delete: $(cat "$tmp/plan.txt")"
deployment broken 2g "  bogusField: 1" >"$tmp/work/jobs/broken.yaml"
publish "and a broken manifest"
sync_once "$tmp/config.yaml"
if [ $rc = 1 ] && $K -n $ns get role flink-ha >/dev/null 2>&1 && [ "$(jqo '.requests.delete')" = 0 ] &&
	grep -q 'problem' <<<"$(jqo .objectsPruneRefused)"; then
	ok "with an invalid manifest in the repository, the Role gone from git is not deleted ($(jqo .objectsPruneRefused))"
else
	fail "invalid manifest: rc=$rc deletes=$(jqo .requests.delete) refused=$(jqo .objectsPruneRefused) $(plain)"
fi
git -C "$tmp/work" rm -q jobs/broken.yaml
publish "the broken manifest fixed"
sync_once "$tmp/config.yaml"
got=$(plain)
if [ $rc = 0 ] && ! $K -n $ns get role flink-ha >/dev/null 2>&1 && grep -q 'ServiceAccount/flink=' <<<"$got" &&
	grep -q 'RoleBinding/flink-ha=' <<<"$got" && [ "$(jqo '.requests.delete')" = 1 ]; then
	ok "once every manifest is valid, the Role removed from git is deleted; the ServiceAccount and RoleBinding stay"
else
	fail "Role prune: rc=$rc deletes=$(jqo .requests.delete) live: $got $(cat "$tmp/err")"
fi

# --- 6c. spec.ingress: an Ingress to the REST Service, changed in place,
# deleted when spec.ingress goes (not while a manifest is invalid), and
# with its deployment ---
ingress() { $K -n $ns get ingress "$1" \
	-o jsonpath='{.metadata.labels.app\.kubernetes\.io/managed-by}/{.metadata.labels.flinkops\.io/agent} {.spec.ingressClassName} {.spec.rules[0].host}{.spec.rules[0].http.paths[0].path} {.spec.rules[0].http.paths[0].pathType} {.spec.rules[0].http.paths[0].backend.service.name}:{.spec.rules[0].http.paths[0].backend.service.port.number} {.metadata.annotations.nginx\.ingress\.kubernetes\.io/rewrite-target}' 2>&1; }
sts_rv() { $K -n $ns get sts wc-jobmanager wc-taskmanager -o jsonpath='{.items[*].metadata.resourceVersion}'; }
rv0=$(sts_rv)
deployment wc 3g '  ingress:
    template: "{{name}}.{{namespace}}.flink.example.com/"
    className: nginx' >"$tmp/work/jobs/wc.yaml"
publish "an Ingress for wc"
sync_once "$tmp/config.yaml"
got=$(ingress wc)
if [ $rc = 0 ] && [ "$got" = "flinkops/e2e-$$ nginx wc.$ns.flink.example.com/ ImplementationSpecific wc-rest:8081 " ] &&
	[ "$(jqo '.deployments[] | select(.name=="wc") | .action')" = in-place ] && [ "$(jqo '.requests.apply')" = 1 ] &&
	[ "$(sts_rv)" = "$rv0" ]; then
	ok "spec.ingress added: the Ingress is created in place (1 apply, the StatefulSets untouched): $got"
else
	fail "Ingress create: rc=$rc got=$got action=$(jqo '.deployments[] | select(.name=="wc") | .action') requests=$(jqo -c .requests) $(head -3 "$tmp/err")"
fi
sync_once "$tmp/config.yaml"
[ $rc = 0 ] && [ "$(jqo '.requests.writes')" = 0 ] && ok "and the next pass writes nothing (the server's Ingress compares equal)" ||
	fail "Ingress second pass: rc=$rc requests=$(jqo -c .requests) objects=$(jqo -c '.deployments[] | select(.name=="wc") | .objects')"
deployment wc 3g '  ingress:
    template: "flink.example.com/{{namespace}}/{{name}}(/|$)(.*)"
    className: nginx
    annotations: {nginx.ingress.kubernetes.io/rewrite-target: "/$2"}' >"$tmp/work/jobs/wc.yaml"
publish "path-based"
"$FLINKOPS" plan --live --config "$tmp/config.yaml" >"$tmp/plan.txt" 2>"$tmp/err"
prc=$?
sync_once "$tmp/config.yaml"
got=$(ingress wc)
if [ $prc = 2 ] && grep -q "^$ns/wc: in place (no restart)" "$tmp/plan.txt" && grep -q '^+.*path: /'"$ns"'/wc(/|\$)(.\*)' "$tmp/plan.txt" &&
	[ $rc = 0 ] && [ "$got" = "flinkops/e2e-$$ nginx flink.example.com/$ns/wc(/|\$)(.*) ImplementationSpecific wc-rest:8081 /\$2" ] &&
	[ "$(jqo '.requests.apply')" = 1 ] && [ "$(sts_rv)" = "$rv0" ]; then
	ok "a new template: plan --live shows the Ingress's new path (in place, exit 2), sync applies only it: $got"
else
	fail "Ingress change: plan rc=$prc $(cat "$tmp/plan.txt") sync rc=$rc got=$got requests=$(jqo -c .requests)"
fi
# spec.ingress removed while another manifest is invalid: kept
deployment wc 3g >"$tmp/work/jobs/wc.yaml"
deployment broken 2g "  bogusField: 1" >"$tmp/work/jobs/broken.yaml"
publish "no Ingress, and a broken manifest"
sync_once "$tmp/config.yaml"
if [ $rc = 1 ] && [ -n "$($K -n $ns get ingress wc -o name 2>/dev/null)" ] && [ "$(jqo '.requests.delete')" = 0 ]; then
	ok "spec.ingress removed while a manifest is invalid: the Ingress is kept"
else
	fail "Ingress kept on doubt: rc=$rc deletes=$(jqo .requests.delete) $($K -n $ns get ingress -o name 2>&1)"
fi
git -C "$tmp/work" rm -q jobs/broken.yaml
publish "the broken manifest fixed"
sync_once "$tmp/config.yaml"
if [ $rc = 0 ] && [ -z "$($K -n $ns get ingress wc -o name 2>/dev/null)" ] && [ "$(jqo '.requests.delete')" = 1 ] &&
	[ "$(jqo '.requests.apply')" = 0 ] && [ "$(sts_rv)" = "$rv0" ] &&
	[ "$(jqo '.deployments[] | select(.name=="wc") | .objects[] | select(.kind=="Ingress") | .state')" = extra ]; then
	ok "then spec.ingress removed deletes the Ingress alone (1 delete, nothing applied)"
else
	fail "Ingress removal: rc=$rc deletes=$(jqo .requests.delete) applies=$(jqo .requests.apply) $($K -n $ns get ingress -o name 2>&1) $(jqo -c '.deployments[] | select(.name=="wc") | .objects')"
fi
deployment ing2 2g '  ingress: {template: "/{{name}}"}' >"$tmp/work/jobs/ing2.yaml"
publish "ing2 with an Ingress"
sync_once "$tmp/config.yaml"
made=$(ingress ing2)
git -C "$tmp/work" rm -q jobs/ing2.yaml
publish "ing2 goes"
sync_once "$tmp/config.yaml"
left=$($K -n $ns get configmap,service,statefulset,ingress -l app.kubernetes.io/instance=ing2 -o name | wc -l)
if [ "$made" = "flinkops/e2e-$$  /ing2 ImplementationSpecific ing2-rest:8081 " ] && [ $rc = 0 ] && [ "$left" = 0 ]; then
	ok "a deployment with an Ingress removed from git: its Ingress goes with its other objects"
else
	fail "ing2: made='$made' rc=$rc left=$left"
fi

# --- 6d. a FlinkBlueGreenDeployment with jobs off (submitJobs: false): its
# switch is decided by its jobs, so it is not rolled out, said, and nothing
# is deleted while it is there (the rollout: test_bluegreen.sh) ----------
deployment bgtmp 2g >"$tmp/work/jobs/bgtmp.yaml"
publish "bgtmp"
sync_once "$tmp/config.yaml"
cat >"$tmp/work/jobs/bg.yaml" <<EOF
apiVersion: flink.apache.org/v1beta1
kind: FlinkBlueGreenDeployment
metadata: {name: bgc, namespace: $ns}
spec:
  template:
    spec:
      image: flink:1.20
      flinkVersion: v1_20
      mode: standalone
      jobManager: {resource: {memory: 1g, cpu: 0.2}}
      taskManager: {resource: {memory: 1g, cpu: 0.2}}
      job: {jarURI: "s3://jobs/counter.jar", parallelism: 1, upgradeMode: stateless}
EOF
git -C "$tmp/work" rm -q jobs/bgtmp.yaml
publish "a blue/green deployment, and bgtmp removed"
sync_once "$tmp/config.yaml"
left=$($K -n $ns get configmap,service,statefulset -l app.kubernetes.io/instance=bgtmp -o name | wc -l)
made=$($K -n $ns get configmap,service,statefulset -o name | grep -c "bgc-" || true)
if [ $rc = 1 ] && grep -q "jobs/bg.yaml:1:1: FlinkBlueGreenDeployment $ns/bgc: a blue/green switch is decided by its jobs, and flink.submitJobs is false" "$tmp/err" &&
	[ "$left" = 6 ] && [ "$made" = 0 ] && [ "$(jqo '.requests.delete')" = 0 ]; then
	ok "a FlinkBlueGreenDeployment without jobs: the pass says it is not rolled out (exit 1), creates nothing of it and deletes nothing meanwhile"
else
	fail "blue/green refused: rc=$rc left=$left made=$made deletes=$(jqo .requests.delete) $(grep -i blue "$tmp/err" | head -2)"
fi
git -C "$tmp/work" rm -q jobs/bg.yaml
publish "the blue/green deployment goes"
sync_once "$tmp/config.yaml"
left=$($K -n $ns get configmap,service,statefulset -l app.kubernetes.io/instance=bgtmp -o name | wc -l)
[ $rc = 0 ] && [ "$left" = 0 ] && ok "then bgtmp is pruned" || fail "bgtmp after: rc=$rc left=$left"

# --- 7. 401 and 403 -------------------------------------------------------
config "$tmp/bad.yaml" "$RIG_KUBECONFIG_BADTOKEN"
sync_once "$tmp/bad.yaml"
if [ $rc = 1 ] && grep -q 'list ConfigMap in all namespaces: Unauthorized (Unauthorized, HTTP 401); the credentials were refused' "$tmp/err"; then
	ok "a bad token gives a clear 401 message"
else
	fail "401: rc=$rc $(cat "$tmp/err")"
fi
# the limited identity may read what flinkops manages but not write it
cat <<EOF | $K apply -f - >/dev/null
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-flinkops-read}
rules:
- apiGroups: ["", "apps"]
  resources: [configmaps, services, statefulsets]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-flinkops-read}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-flinkops-read}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "rig:pod-readers"}
EOF
deployment limited 2g >"$tmp/work/jobs/limited.yaml"
# and one that asks for an Ingress, which the identity cannot even list
deployment limited-ing 2g '  ingress: {template: "/{{name}}"}' >"$tmp/work/jobs/limited-ing.yaml"
publish "two for the limited identity"
config "$tmp/limited.yaml" "$RIG_KUBECONFIG_LIMITED"
sync_once "$tmp/limited.yaml"
err=$(jqo '.deployments[] | select(.name=="limited") | .error')
ierr=$(jqo '.deployments[] | select(.name=="limited-ing") | .error')
if [ $rc = 1 ] && grep -q "apply ConfigMap $ns/flink-config-limited: configmaps \"flink-config-limited\" is forbidden: User \"rig-limited\" cannot patch resource \"configmaps\"" <<<"$err"; then
	ok "an identity without rights: the 403 message names verb and resource"
else
	fail "403: rc=$rc err=$err $(cat "$tmp/err")"
fi
if grep -q "spec.ingress: Ingresses cannot be listed (.*cannot list resource \"ingresses\".*); grant the agent list, create, patch and delete on ingresses.networking.k8s.io" <<<"$ierr" &&
	[ -z "$($K -n $ns get configmap flink-config-limited-ing -o name 2>/dev/null)" ]; then
	ok "an identity that cannot list Ingresses: only the deployment that asks for one fails, saying which grant it needs"
else
	fail "Ingress 403: $ierr"
fi
# the verdict is per namespace: where the identity may list Ingresses, one
# that asks for an Ingress goes as far as its rights go (the 403 of its
# first write), while in the other namespace it still cannot be listed
$K create namespace $ns2 >/dev/null
cat <<EOF | $K apply -f - >/dev/null
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: e2e-list-ingresses, namespace: $ns2}
rules:
- apiGroups: [networking.k8s.io]
  resources: [ingresses]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: e2e-list-ingresses, namespace: $ns2}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: e2e-list-ingresses}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "rig:pod-readers"}
EOF
deployment limited-ing2 2g '  ingress: {template: "/{{name}}"}' | sed "s/^  namespace: $ns\$/  namespace: $ns2/" >"$tmp/work/jobs/limited-ing2.yaml"
publish "one more in a namespace where Ingresses may be listed"
sed "s/^kubernetes:\$/&\n  namespaces: [$ns, $ns2]/" "$tmp/limited.yaml" >"$tmp/limited2.yaml"
sync_once "$tmp/limited2.yaml"
ierr=$(jqo '.deployments[] | select(.name=="limited-ing") | .error')
ierr2=$(jqo '.deployments[] | select(.name=="limited-ing2") | .error')
if grep -q "spec.ingress: Ingresses cannot be listed" <<<"$ierr" && ! grep -q "Ingresses cannot be listed" <<<"$ierr2" &&
	grep -q "apply ConfigMap $ns2/flink-config-limited-ing2: .*forbidden: User \"rig-limited\" cannot patch" <<<"$ierr2"; then
	ok "Ingresses listed in one namespace and not in another: only the deployment in the other fails for it"
else
	fail "Ingress 403 per namespace: $ns: $ierr; $ns2: $ierr2"
fi
git -C "$tmp/work" rm -q jobs/limited-ing2.yaml
git -C "$tmp/work" rm -q jobs/limited-ing.yaml
publish "limited-ing goes"
$K delete clusterrolebinding e2e-flinkops-read >/dev/null
$K delete clusterrole e2e-flinkops-read >/dev/null

# --- 8. the API server goes away mid-pass ---------------------------------
mkdir -p "$tmp/work/jobs"
for i in $(seq 1 60); do deployment "many-$i" 2g >"$tmp/work/jobs/many-$i.yaml"; done
publish "sixty more"
pid=$(cat "$FLINKOPS_RIG_HOME/pids/k8s.kube-apiserver.pid")
config "$tmp/fast.yaml" "$RIG_KUBECONFIG" "prune: {enabled: false}"
sed -i 's/timeout: 10s/timeout: 2s/' "$tmp/fast.yaml"
# the API server is stopped for 30 s at most, whatever the pass does: a
# request that outlived its 2 s timeout was seen once under the sanitizers
# (curl_easy_perform polling an HTTP/2 connection for minutes), and a
# stopped API server would fail every test after this one
( sleep 0.4; kill -STOP "$pid"; sleep 30; kill -CONT "$pid" ) &
stopper=$!
t_mid=$SECONDS
sync_once "$tmp/fast.yaml"
mid_s=$((SECONDS - t_mid))
kill -CONT "$pid"
kill "$stopper" 2>/dev/null
wait
$K get --raw /readyz >/dev/null 2>&1 || sleep 2
applied=$(jq -r '.deployments[] | .objects[] | select(.applied) | "\(.kind) \(.name)"' "$tmp/out.json" | sort)
missing=0
while read -r kind name; do
	[ -z "$kind" ] && continue
	$K -n $ns get "$kind" "$name" >/dev/null 2>&1 || missing=$((missing + 1))
done <<<"$applied"
napplied=$(grep -c . <<<"$applied")
if [ $rc = 1 ] && grep -q 'gave up after' "$tmp/err" && [ "$(jqo '.requests.retries')" -ge 1 ] &&
	[ "$(jqo '.aborted')" != null ] && [ $missing = 0 ] && [ "$napplied" -lt 366 ]; then
	ok "apiserver stopped mid-pass: clear error after $(jqo '.requests.retries') retries in $mid_s s; the $napplied objects reported applied all exist"
else
	fail "mid-pass: rc=$rc missing=$missing applied=$napplied retries=$(jqo .requests.retries) after $mid_s s $(head -3 "$tmp/err")"
fi
# --- 9. the API server goes away between the listing and the reads ------
# Deployments the listing does not hold are read by name before anything is
# applied. The pass pauses where the listing is done (the "listed" pause
# point), the API server is stopped there, and the first read that gets no
# answer must end the pass: no apply, every deployment after it unread (not
# "unchanged"), one read's retries and not one for each deployment.
for i in $(seq 61 80); do deployment "many-$i" 2g >"$tmp/work/jobs/many-$i.yaml"; done
publish "twenty more"
FLINKOPS_PAUSE_AFTER=listed "$FLINKOPS" sync --config "$tmp/fast.yaml" --once -o json >"$tmp/out.json" 2>"$tmp/err" &
spid=$!
# the runner's wrapper keeps the binary's stderr in its log until the end:
# read that one live (under the wrapper's pid), or $tmp/err without it
live_err() { cat "$tmp/err" ${E2E_LOG_DIR:+"$E2E_LOG_DIR"/*."$spid".err} 2>/dev/null; }
for _ in $(seq 1 300); do live_err | grep -q 'paused for 5 s at "listed"' && break; sleep 0.1; done
paused=$(live_err | grep -c 'paused for 5 s at "listed"')
kill -STOP "$pid"
t_plan=$SECONDS
for _ in $(seq 1 300); do kill -0 $spid 2>/dev/null || break; sleep 0.1; done
kill -CONT "$pid"
wait $spid
rc=$?
plan_s=$((SECONDS - t_plan))
$K get --raw /readyz >/dev/null 2>&1 || sleep 2
unread=$(jq '[.deployments[] | select(.outcome == "not-attempted" and .action == "unknown")] | length' "$tmp/out.json")
if [ "$paused" = 1 ] && [ $rc = 1 ] && grep -q 'gave up after' "$tmp/err" && [ "$(jqo '.aborted')" != null ] &&
	[ "$(jqo '.requests.apply')" = 0 ] && [ "$(jqo '.requests.retries')" -le 3 ] &&
	[ "$(jqo '.summary.unread')" -ge 19 ] && [ "$unread" = "$(jqo '.summary.unread')" ]; then
	ok "apiserver stopped after the listing: the first unanswered read ends the pass ($(jqo '.requests.retries') retries, $plan_s s); nothing applied, $unread deployments reported unread"
else
	fail "plan phase: paused=$paused rc=$rc unread=$unread $(jqo -c .summary) $(jqo -c .requests) aborted=$(jqo .aborted) after $plan_s s $(head -3 "$tmp/err")"
fi

sync_once "$tmp/fast.yaml"
if [ $rc = 0 ] && [ "$(jqo '.summary.failed')" = 0 ]; then
	ok "the next pass finishes what the interrupted one left"
else
	fail "after the outage: rc=$rc $(jqo -c .summary) $(head -3 "$tmp/err")"
fi
