# Shared by the e2e tests on the rig's pods part (sourced after NAME is set;
# sources lib-rollout.sh): the test's namespace on the real node, a folder
# every pod mounts at the same path (savepoints, checkpoints, HA data, the
# counter file), the REST URL template of each deployment's own JobManager
# (its headless Service, resolved by the rig's CoreDNS) and sync_once, which
# runs `flinkops sync --once` with that DNS; jm_url, job_state and restored
# ask the deployment's own JobManager (counter-jobmanager-0) in place of the
# shared session cluster.
. "$(dirname "$0")/lib-rollout.sh"
: "${RIG_PODS_NAMESPACE:?}" "${RIG_PODS_DNS:?}" "${RIG_PODS_FLINK_REPOSITORY:?}" "${RIG_PODS_FLINK_TAG:?}"
"$RIG_PODS_NAMESPACE" "$ns"
# the pods' shared folder: the Flink image runs as uid 9999
shared=$(mktemp -d /tmp/flinkops-pods.XXXXXX)
chmod 0777 "$shared"
trap 'cleanup; rm -rf "$shared"' EXIT
counter=$shared/counter
sed -i "s|^  restUrl: .*|  restUrl: \"http://{name}.{namespace}.svc.cluster.local:8081\"|" "$tmp/config.yaml"
printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$RIG_PODS_DNS" >"$tmp/resolv.conf"

# sync_once [ARGS...]: the agent, its names resolved by the cluster's DNS
# (a mount namespace of its own whose /etc/resolv.conf names it); sets rc,
# $tmp/out.json and $tmp/err
sync_once() {
	unshare -m bash -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' _ "$tmp/resolv.conf" \
		"$FLINKOPS" sync --config "$tmp/config.yaml" --once --timeout 240s -o json "$@" >"$tmp/out.json" 2>"$tmp/err"
	rc=$?
}

jm_url() { echo "http://$($K -n $ns get pod counter-jobmanager-0 -o jsonpath='{.status.podIP}' 2>/dev/null):8081"; }
job_state() { curl -s --max-time 5 "$(jm_url)/jobs/overview" | jq -r --arg j "$1" '.jobs[] | select(.jid==$j) | .state'; }
restored() { curl -s --max-time 5 "$(jm_url)/jobs/$1/checkpoints" | jq -r '.latest.restored.external_path // empty'; }

# pods_ha_account: the objects Flink's Kubernetes HA needs (ha_objects),
# applied with kubectl, as a team that keeps them outside the manifest
# path has them
pods_ha_account() {
	ha_objects "$ns" | $K apply -f - >/dev/null
}
# newest_checkpoint JOB: the newest retained checkpoint of JOB in the shared
# folder, as the path Flink restores it under (the JobManager here answers no
# checkpoint statistics for a job that has ended); empty when it has none
newest_checkpoint() {
	local n
	n=$(ls "$shared/checkpoints/$1" 2>/dev/null | sed -n 's/^chk-\([0-9]*\)$/\1/p' | sort -n | tail -1)
	echo "${n:+file:$shared/checkpoints/$1/chk-$n}"
}

# pods_template: a FlinkDeployment spec's podTemplate for this node (two
# spaces in): the shared folder mounted at its own path, and the API server
# that Flink's Kubernetes HA reaches through the rig's relay
pods_template() {
	cat <<EOF
  podTemplate:
    spec:
      hostAliases: [{ip: $RIG_PODS_APISERVER_IP, hostnames: [kubernetes.default.svc]}]
      volumes: [{name: shared, hostPath: {path: $shared, type: Directory}}]
      containers:
      - name: flink-main-container
        volumeMounts: [{name: shared, mountPath: $shared}]
        env:
        - {name: KUBERNETES_SERVICE_HOST, value: kubernetes.default.svc}
        - {name: KUBERNETES_SERVICE_PORT, value: "$RIG_PODS_APISERVER_PORT"}
EOF
}
