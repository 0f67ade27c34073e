# The rig's pods part: a real Kubernetes node that runs the pods the API
# server schedules to it, so that what flinkops renders boots as real Flink
# processes. Opt-in: not among the default parts; start it after k8s:
#
#   tests/rig/rig up k8s pods
#
# Processes (each started with rig_start, so `rig down pods` stops exactly
# these, after it has stopped the pods' containers):
#   containerd   Debian's containerd 1.6 with Debian's runc (cgroupfs driver,
#                cgroup v1), the CNI bridge and host-local plugins of
#                Debian's containernetworking-plugins; its own root, state,
#                socket and runc root under $RIG_HOME/data/pods
#   coredns      the cluster DNS (CoreDNS with its kubernetes plugin), on the
#                bridge's address; it answers cluster.local names and
#                forwards nothing
#   kube-controller-manager-endpoints
#                the EndpointSlice and Endpoints controllers, which the k8s
#                part leaves off (kwok's loopback pod addresses cannot be
#                endpoints): headless Services here resolve to pod addresses
#   kubelet      the kubelet of the rig's Kubernetes version, node $PODS_NODE
#   apiserver-relay
#                socat, relaying the bridge's address, port
#                $RIG_PORT_PODS_APISERVER, to the API server on loopback: the
#                one way out of the pod network, for in-cluster clients
#                (Flink's Kubernetes HA). With no Service routing, a pod
#                reaches it as kubernetes.default.svc (a name the API
#                server's certificate carries) mapped to the bridge's
#                address by the pod's hostAliases, on that port; pods_env
#                gives both
#   git-relay    socat, relaying the bridge's address, port $RIG_PORT_PODS_GIT,
#                to the git part's git daemon on loopback: the way a pod
#                (the installed agent) reaches the rig's repositories, as
#                git://$PODS_GATEWAY:$RIG_PORT_PODS_GIT/NAME.git; it relays
#                whether or not the git part runs (each connection is made
#                when it comes)
#
# Network: one Linux bridge ($PODS_BRIDGE) with $PODS_GATEWAY on it; every
# pod is a network namespace with a veth on the bridge and an address from
# $PODS_SUBNET (a private range used nowhere else here). Pods get no default
# route, so from inside a pod only the pod network (other pods, the node's
# address = the DNS server) can be reached; the host reaches pods through
# the bridge (the kubelet's probes, a test's curl). No NAT, no iptables
# rules. Images are never pulled: containerd's registry traffic goes to a
# proxy address on loopback that refuses, and the images pods use (the Flink
# image, the pause image) are built here and imported. Service cluster IPs
# are the k8s part's loopback range and nothing routes them (no kube-proxy):
# reach a pod by its address or a Service by DNS from inside the pod network.
#
# The node is tainted (flinkops-rig/pods=real:NoSchedule): pods come here
# only from namespaces that tests/rig/pods-namespace annotated (the API
# server's PodNodeSelector and PodTolerationRestriction give their pods the
# node selector flinkops-rig/node=pods and the toleration); every other pod
# stays on kwok's node, so tests that need no real pods run as before beside
# the part.
#
# Cgroups: pods live under the cgroup this rig runs in (its memory cgroup
# path + /flinkops-rig-pods, in every v1 hierarchy), so their memory counts
# where the rig's does. The kubelet needs cgroup v1 here (failCgroupV1
# false); oom_score_adj is restricted (containerd cannot lower it).
#
# Built once and cached: the kubelet (tests/rig/pods/kubelet, the same
# k8s.io/kubernetes module as the k8s part), CoreDNS (tests/rig/pods/coredns),
# a static pause binary, the Flink image (tests/rig/pods/flink-image:
# Debian's JDK 17 + the flink part's jars + tests/rig/pods/flink-entrypoint)
# and the application image (tests/rig/pods/app-image: the Flink image + the
# flink part's counter job jar at $PODS_APP_JAR_PATH, under the tags
# $PODS_APP_TAGS of $PODS_APP_REPO) as OCI archives. Sourced by
# tests/rig/rig.

PODS_NODE=rig-pods
PODS_BRIDGE=${RIG_PODS_BRIDGE:-flkrig0}
PODS_SUBNET=${RIG_PODS_SUBNET:-10.213.0.0/24}
PODS_GATEWAY=${RIG_PODS_GATEWAY:-10.213.0.1}
PODS_COREDNS_VERSION=v1.12.4
PODS_PAUSE_IMAGE=flinkops-rig.invalid/pause:1
PODS_FLINK_REPO=flinkops-rig.invalid/flink
# the application image: two tags, two images (an image bump to upgrade by)
PODS_APP_REPO=flinkops-rig.invalid/flink-counter
PODS_APP_TAGS=(v1 v2)
PODS_APP_JAR_PATH=/opt/flink/usrlib/counter.jar
PODS_SRC=$RIG_SRC/pods
PODS_DATA=$RIG_HOME/data/pods
PODS_SOCK=$PODS_DATA/containerd/containerd.sock
# a registry proxy that refuses: nothing is ever pulled from anywhere
PODS_NO_PULL=(HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9
	https_proxy=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost)

# The Flink image needs the flink part's jars, the node the k8s part's
# certificates and binaries.
# shellcheck source=k8s.sh
. "$RIG_SRC/parts/k8s.sh"
# shellcheck source=flink.sh
. "$RIG_SRC/parts/flink.sh"

PODS_KUBELET_BIN=$RIG_CACHE/pods-kubelet-$K8S_VERSION/kubelet
PODS_COREDNS_BIN=$RIG_CACHE/pods-coredns-$PODS_COREDNS_VERSION/coredns
PODS_FLINK_IMAGE=$PODS_FLINK_REPO:$FLINK_RIG_VERSION

pods_deps() {
	echo containerd runc containernetworking-plugins umoci iproute2 socat gcc libc6-dev curl jq $(flink_deps)
}

pods_ctr() {
	ctr -a "$PODS_SOCK" -n k8s.io "$@"
}

# A checksum of what the images are made of; the image cache is keyed by it.
pods_images_sum() {
	{
		cat "$PODS_SRC/flink-image" "$PODS_SRC/flink-entrypoint" "$PODS_SRC/pause.c" "$PODS_SRC/app-image"
		# the flink part's sources make its jars, the counter job's among them
		echo "$FLINK_RIG_VERSION $(flink_sources_sum) ${PODS_APP_TAGS[*]} $PODS_APP_JAR_PATH"
	} | sha256sum | cut -c1-16
}

pods_images_dir() {
	echo "$RIG_CACHE/pods-images-$(pods_images_sum)"
}

pods_go_build() {
	local dir=$1 out=$2 ldflags=$3 pkg=$4 name=$5 start=$SECONDS
	command -v go >/dev/null || rig_die "pods: the Go toolchain is needed to build $name"
	rig_log "pods: building $name (log: $RIG_HOME/logs/pods-build.log)"
	mkdir -p "$(dirname "$out")"
	(cd "$dir" && GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" nice -n 5 \
		go build -trimpath -ldflags "$ldflags" -o "$out.tmp" "$pkg") >>"$RIG_HOME/logs/pods-build.log" 2>&1 ||
		rig_die "pods: building $name failed (log: $RIG_HOME/logs/pods-build.log)"
	mv "$out.tmp" "$out"
	rig_log "pods: $name built in $((SECONDS - start))s"
}

pods_build() {
	flink_build
	if [ ! -x "$PODS_KUBELET_BIN" ]; then
		grep -q "k8s.io/kubernetes $K8S_VERSION" "$PODS_SRC/kubelet/go.mod" ||
			rig_die "pods: tests/rig/pods/kubelet/go.mod does not pin k8s.io/kubernetes $K8S_VERSION"
		local minor=${K8S_VERSION#v1.} ld="-s -w" p
		minor=${minor%%.*}
		for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
			ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
		done
		pods_go_build "$PODS_SRC/kubelet" "$PODS_KUBELET_BIN" "$ld" k8s.io/kubernetes/cmd/kubelet "kubelet $K8S_VERSION"
	fi
	if [ ! -x "$PODS_COREDNS_BIN" ]; then
		grep -q "github.com/coredns/coredns $PODS_COREDNS_VERSION" "$PODS_SRC/coredns/go.mod" ||
			rig_die "pods: tests/rig/pods/coredns/go.mod does not pin CoreDNS $PODS_COREDNS_VERSION"
		pods_go_build "$PODS_SRC/coredns" "$PODS_COREDNS_BIN" \
			"-s -w -X github.com/coredns/coredns/coremain.GitCommit=$PODS_COREDNS_VERSION" . "CoreDNS $PODS_COREDNS_VERSION"
	fi
	local images tmp start=$SECONDS
	images=$(pods_images_dir)
	[ -f "$images/flink.oci.tar" ] && [ -f "$images/pause.oci.tar" ] && [ -f "$images/app.oci.tar" ] && return 0
	rig_log "pods: building the Flink $FLINK_RIG_VERSION, application and pause images (log: $RIG_HOME/logs/pods-build.log)"
	tmp=$images.tmp.$$
	rm -rf "$tmp"
	mkdir -p "$tmp/pause/rootfs"
	{
		gcc -static -O2 -s -o "$tmp/pause/rootfs/pause" "$PODS_SRC/pause.c" &&
			tar --numeric-owner -C "$tmp/pause/rootfs" -cf "$tmp/pause/layer.tar" . &&
			umoci init --layout "$tmp/pause/oci" &&
			umoci new --image "$tmp/pause/oci:${PODS_PAUSE_IMAGE##*:}" &&
			umoci raw add-layer --image "$tmp/pause/oci:${PODS_PAUSE_IMAGE##*:}" "$tmp/pause/layer.tar" &&
			umoci config --image "$tmp/pause/oci:${PODS_PAUSE_IMAGE##*:}" --config.entrypoint /pause &&
			umoci gc --layout "$tmp/pause/oci" &&
			tar -C "$tmp/pause/oci" -cf "$tmp/pause.oci.tar" . &&
			"$PODS_SRC/flink-image" "$FLINK_RIG_HOME/cluster/lib" "$FLINK_RIG_VERSION" "$tmp/flink.oci.tar" \
				"$FLINK_RIG_HOME/lib-kubernetes" "$FLINK_RIG_HOME/lib-container" &&
			"$PODS_SRC/app-image" "$tmp/flink.oci.tar" "$FLINK_RIG_VERSION" "$FLINK_RIG_HOME/counter-job.jar" \
				"${PODS_APP_JAR_PATH##*/}" "$tmp/app.oci.tar" "${PODS_APP_TAGS[@]}"
	} >>"$RIG_HOME/logs/pods-build.log" 2>&1 || rig_die "pods: building the images failed (log: $RIG_HOME/logs/pods-build.log)"
	rm -rf "$tmp/pause"
	rm -rf "$images"
	mv "$tmp" "$images"
	rig_log "pods: images built in $((SECONDS - start))s"
}

# The cgroup (v1) under which pods run: the rig's own memory cgroup path +
# /flinkops-rig-pods, made in every hierarchy; cpuset needs its cpus and
# mems filled down the path before anything can join.
pods_cgroup_root() {
	local base
	base=$(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup)
	[ "$base" = / ] && base=
	echo "$base/flinkops-rig-pods"
}

pods_make_cgroups() {
	local root=$1 h d part
	[ -d /sys/fs/cgroup/memory ] || rig_die "pods: needs cgroup v1 hierarchies (/sys/fs/cgroup/memory)"
	for h in /sys/fs/cgroup/*/; do
		h=${h%/}
		[ -f "$h/cgroup.procs" ] || continue
		case $h in */unified) continue ;; esac
		mkdir -p "$h$root" || rig_die "pods: cannot make cgroup $h$root"
	done
	d=/sys/fs/cgroup/cpuset
	for part in ${root//\// }; do
		d=$d/$part
		[ -s "$d/cpuset.cpus" ] && [ "$(cat "$d/cpuset.cpus")" != "" ] || cat /sys/fs/cgroup/cpuset/cpuset.cpus >"$d/cpuset.cpus"
		[ "$(cat "$d/cpuset.mems")" != "" ] || cat /sys/fs/cgroup/cpuset/cpuset.mems >"$d/cpuset.mems"
	done
}

pods_remove_cgroups() {
	local root=$1 h
	for h in /sys/fs/cgroup/*/; do
		h=${h%/}
		[ -d "$h$root" ] || continue
		find "$h$root" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	done
}

# pods_unmount DIR: unmount everything mounted at or under DIR, deepest
# first (the kubelet bind-mounts its root folder onto itself to share
# mounts, and mounts the pods' volumes below it).
pods_unmount() {
	local dir=$1 m
	awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
}

pods_containerd_config() {
	cat <<-EOF
	# Generated by tests/rig/parts/pods.sh.
	version = 2
	root = "$PODS_DATA/containerd/root"
	state = "$PODS_DATA/containerd/state"
	disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]
	[grpc]
	  address = "$PODS_SOCK"
	[ttrpc]
	  address = "$PODS_SOCK.ttrpc"
	[debug]
	  address = ""
	[metrics]
	  address = ""
	[plugins."io.containerd.grpc.v1.cri"]
	  sandbox_image = "$PODS_PAUSE_IMAGE"
	  stream_server_address = "127.0.0.1"
	  stream_server_port = "0"
	  enable_selinux = false
	  disable_apparmor = true
	  # this machine does not let containerd lower oom_score_adj
	  restrict_oom_score_adj = true
	  [plugins."io.containerd.grpc.v1.cri".containerd]
	    snapshotter = "overlayfs"
	    default_runtime_name = "runc"
	    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
	      runtime_type = "io.containerd.runc.v2"
	      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
	        SystemdCgroup = false
	        BinaryName = "$(command -v runc)"
	        Root = "$PODS_DATA/containerd/runc"
	  [plugins."io.containerd.grpc.v1.cri".cni]
	    bin_dir = "/usr/lib/cni"
	    conf_dir = "$PODS_DATA/cni"
	  [plugins."io.containerd.grpc.v1.cri".registry]
	    config_path = ""
	EOF
}

pods_cni_config() {
	cat <<-EOF
	{
	  "cniVersion": "1.0.0",
	  "name": "flinkops-rig-pods",
	  "plugins": [
	    {
	      "type": "bridge",
	      "bridge": "$PODS_BRIDGE",
	      "isGateway": true,
	      "isDefaultGateway": false,
	      "ipMasq": false,
	      "hairpinMode": true,
	      "ipam": {
	        "type": "host-local",
	        "ranges": [[{"subnet": "$PODS_SUBNET", "gateway": "$PODS_GATEWAY"}]],
	        "dataDir": "$PODS_DATA/cni-ipam"
	      }
	    }
	  ]
	}
	EOF
}

pods_corefile() {
	cat <<-EOF
	# Generated by tests/rig/parts/pods.sh: cluster names only, nothing forwarded.
	cluster.local:53 in-addr.arpa:53 {
	    bind $PODS_GATEWAY
	    errors
	    health 127.0.0.1:$RIG_PORT_PODS_DNS_HEALTH
	    ready 127.0.0.1:$RIG_PORT_PODS_DNS_READY
	    kubernetes cluster.local in-addr.arpa {
	        kubeconfig $K8S_DATA/pods-node.kubeconfig
	        pods insecure
	        ttl 5
	    }
	    cache 5
	}
	.:53 {
	    bind $PODS_GATEWAY
	    errors
	}
	EOF
}

pods_kubelet_config() {
	cat <<-EOF
	# Generated by tests/rig/parts/pods.sh.
	apiVersion: kubelet.config.k8s.io/v1beta1
	kind: KubeletConfiguration
	address: $PODS_GATEWAY
	port: $RIG_PORT_KUBELET
	readOnlyPort: 0
	healthzBindAddress: 127.0.0.1
	healthzPort: $RIG_PORT_KUBELET_HEALTHZ
	# only the API server calls the kubelet (logs, exec), on the bridge address
	authentication:
	  anonymous: {enabled: true}
	  webhook: {enabled: false}
	authorization: {mode: AlwaysAllow}
	cgroupDriver: cgroupfs
	cgroupRoot: $(pods_cgroup_root)
	cgroupsPerQOS: true
	enforceNodeAllocatable: []
	failSwapOn: false
	failCgroupV1: false
	clusterDNS: [$PODS_GATEWAY]
	clusterDomain: cluster.local
	resolvConf: $PODS_DATA/resolv.conf
	podLogsDir: $PODS_DATA/pod-logs
	containerRuntimeEndpoint: unix://$PODS_SOCK
	# the images cannot be pulled again: never collect them
	imageGCHighThresholdPercent: 100
	imageGCLowThresholdPercent: 99
	evictionHard: {memory.available: "1Mi", nodefs.available: "0%", imagefs.available: "0%", nodefs.inodesFree: "0%"}
	maxPods: 30
	podCIDR: $PODS_SUBNET
	registerNode: true
	syncFrequency: 10s
	nodeStatusUpdateFrequency: 10s
	fileCheckFrequency: 0s
	shutdownGracePeriod: 0s
	EOF
}

# pods_import_images: put the cached images into containerd. The images
# keep their names when what they are made of changes: containerd's copies
# are replaced when they came from other archives ($PODS_DATA/images-sum).
pods_import_images() {
	local d=$PODS_DATA images sum f ref have archive missing
	images=$(pods_images_dir)
	sum=$(pods_images_sum)
	local -a app_refs=("${PODS_APP_TAGS[@]/#/$PODS_APP_REPO:}")
	[ "$(cat "$d/images-sum" 2>/dev/null)" = "$sum" ] ||
		pods_ctr images rm "$PODS_PAUSE_IMAGE" "$PODS_FLINK_IMAGE" "${app_refs[@]}" >/dev/null 2>&1 || true
	have=$(pods_ctr images ls -q)
	# one archive per repository: ref list=archive
	for f in "$PODS_PAUSE_IMAGE=$images/pause.oci.tar" "$PODS_FLINK_IMAGE=$images/flink.oci.tar" \
		"${app_refs[*]}=$images/app.oci.tar"; do
		archive=${f##*=}
		missing=
		for ref in ${f%=*}; do grep -qx "$ref" <<<"$have" || missing+=" $ref"; done
		[ -n "$missing" ] || continue
		ref=${f%%[ =]*}
		rig_log "pods: importing$missing"
		pods_ctr images import --base-name "${ref%:*}" "$archive" >>"$RIG_HOME/logs/containerd.log" 2>&1 ||
			rig_die "pods: importing $archive failed (log: $RIG_HOME/logs/containerd.log)"
	done
	echo "$sum" >"$d/images-sum"
}

# pods_git_relay: start the git relay unless it runs (a part started
# before the relay existed gets it on the next `rig up`).
pods_git_relay() {
	local pid
	pid=$(cat "$RIG_HOME/pids/pods.git-relay.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null && return 0
	rig_start pods git-relay socat "TCP-LISTEN:$RIG_PORT_PODS_GIT,bind=$PODS_GATEWAY,reuseaddr,fork" \
		"TCP:127.0.0.1:$RIG_PORT_GIT_DAEMON"
	rig_wait_cmd 30 "the git relay" bash -c "exec 3<>/dev/tcp/$PODS_GATEWAY/$RIG_PORT_PODS_GIT"
}

# pods_refresh: a running part takes rebuilt images, the git relay and the current env.
pods_refresh() {
	pods_sock_ready || rig_die "pods: containerd does not answer on $PODS_SOCK"
	pods_import_images
	pods_git_relay
	pods_env >"$RIG_HOME/env/pods.env"
}

pods_node_ready() {
	[ "$(k8s_kubectl get node "$PODS_NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

pods_sock_ready() {
	pods_ctr version >/dev/null 2>&1
}

pods_up() {
	local d=$PODS_DATA port f cgroot images
	rig_part_running k8s || rig_die "pods: the k8s part is not running (start both: rig up k8s pods)"
	[ -x "$PODS_KUBELET_BIN" ] || rig_die "pods: not built (rig build pods)"
	# what a run of this rig left when it ended without `rig down` (its
	# processes killed, the machine kept): its bridge, containers, mounts
	if [ -f "$d/bridge" ] || [ -f "$d/cgroup-root" ]; then
		rig_log "pods: clearing what an earlier run left"
		pods_down
	fi
	for port in "$RIG_PORT_KUBELET_HEALTHZ" "$RIG_PORT_PODS_KCM" "$RIG_PORT_PODS_DNS_HEALTH" "$RIG_PORT_PODS_DNS_READY"; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			rig_die "pods: 127.0.0.1:$port is already in use (not by a process this rig recorded)"
		fi
	done
	if ip link show "$PODS_BRIDGE" >/dev/null 2>&1; then
		rig_die "pods: the bridge $PODS_BRIDGE exists (another rig's pods part? RIG_PODS_BRIDGE and RIG_PODS_SUBNET move it)"
	fi
	if ip route show | grep -v "dev $PODS_BRIDGE" | grep -q "^${PODS_SUBNET%%/*}"; then
		rig_die "pods: $PODS_SUBNET is routed on this machine already"
	fi
	# The kubelet's state, the pods' logs, the IP allocations and the
	# containers of a previous run go; containerd's image store stays.
	pods_unmount "$d/kubelet"
	pods_unmount "$d/containerd/state"
	rm -rf "$d/kubelet" "$d/pod-logs" "$d/cni-ipam" "$d/containerd/state" "$d/certs-kcm"
	mkdir -p "$d/kubelet" "$d/pod-logs" "$d/cni-ipam" "$d/cni" "$d/containerd" "$d/certs-kcm"
	: >"$d/resolv.conf"
	pods_cni_config >"$d/cni/10-flinkops-rig-pods.conflist"
	pods_containerd_config >"$d/containerd.toml"
	pods_corefile >"$d/Corefile"
	pods_kubelet_config >"$d/kubelet.yaml"
	cgroot=$(pods_cgroup_root)
	pods_make_cgroups "$cgroot"
	echo "$cgroot" >"$d/cgroup-root"

	# The node's identity: a client certificate of the rig's CA (admin, as
	# kwok's; the API server runs RBAC only, without the Node authorizer).
	if [ ! -s "$K8S_DATA/pods-node.crt" ] || ! openssl verify -CAfile "$K8S_DATA/ca.crt" "$K8S_DATA/pods-node.crt" >/dev/null 2>&1; then
		k8s_client_cert pods-node "/O=system:masters/CN=rig-pods-node"
	fi
	k8s_kubeconfig "$K8S_DATA/pods-node.kubeconfig" "certificate-authority: $K8S_DATA/ca.crt" \
		"client-certificate: $K8S_DATA/pods-node.crt" "client-key: $K8S_DATA/pods-node.key"

	# The bridge exists before the first pod, so that the DNS server and the
	# kubelet can listen on its address; the CNI bridge plugin adopts it.
	ip link add "$PODS_BRIDGE" type bridge
	ip addr add "$PODS_GATEWAY/${PODS_SUBNET##*/}" dev "$PODS_BRIDGE"
	ip link set "$PODS_BRIDGE" up
	echo "$PODS_BRIDGE" >"$d/bridge"

	rig_start pods containerd env "${PODS_NO_PULL[@]}" containerd --config "$d/containerd.toml"
	rig_wait_cmd 30 containerd pods_sock_ready
	pods_import_images

	rig_start pods apiserver-relay socat "TCP-LISTEN:$RIG_PORT_PODS_APISERVER,bind=$PODS_GATEWAY,reuseaddr,fork" \
		"TCP:127.0.0.1:$RIG_PORT_APISERVER"
	rig_wait_cmd 30 "the API server relay" curl -sk --max-time 2 -o /dev/null \
		"https://$PODS_GATEWAY:$RIG_PORT_PODS_APISERVER/readyz"
	pods_git_relay

	rig_start pods coredns "$PODS_COREDNS_BIN" -conf "$d/Corefile"
	rig_wait_cmd 30 "CoreDNS" curl -fsS --max-time 2 "http://127.0.0.1:$RIG_PORT_PODS_DNS_READY/ready"

	rig_start pods kube-controller-manager-endpoints "$K8S_BIN/kube-controller-manager" \
		--kubeconfig "$K8S_DATA/pods-node.kubeconfig" \
		--authentication-kubeconfig "$K8S_DATA/pods-node.kubeconfig" \
		--authorization-kubeconfig "$K8S_DATA/pods-node.kubeconfig" \
		--bind-address 127.0.0.1 --secure-port "$RIG_PORT_PODS_KCM" --cert-dir "$d/certs-kcm" \
		--controllers endpointslice-controller,endpoints-controller \
		--leader-elect=false --profiling=false

	rig_start pods kubelet env "${PODS_NO_PULL[@]}" "$PODS_KUBELET_BIN" \
		--config "$d/kubelet.yaml" \
		--kubeconfig "$K8S_DATA/pods-node.kubeconfig" \
		--hostname-override "$PODS_NODE" --node-ip "$PODS_GATEWAY" \
		--root-dir "$d/kubelet" --cert-dir "$d/kubelet/pki" \
		--node-labels "flinkops-rig/node=pods" \
		--register-with-taints "flinkops-rig/pods=real:NoSchedule"
	rig_wait_cmd 90 "node $PODS_NODE" pods_node_ready
}

pods_env() {
	cat <<-EOF
	# A real node ($PODS_NODE: kubelet, containerd, runc, CNI bridge, CoreDNS) for the pods of
	# namespaces made with \$RIG_PODS_NAMESPACE NS... (the rest stay on kwok's node).
	export RIG_PODS_NODE='$PODS_NODE'
	export RIG_PODS_NAMESPACE='$RIG_SRC/pods-namespace'
	export RIG_PODS_SUBNET='$PODS_SUBNET'
	export RIG_PODS_DNS='$PODS_GATEWAY'
	# The Flink image: entrypoint args jobmanager | taskmanager | standalone-job, config in /opt/flink/conf.
	export RIG_PODS_FLINK_IMAGE='$PODS_FLINK_IMAGE'
	export RIG_PODS_FLINK_REPOSITORY='$PODS_FLINK_REPO'
	export RIG_PODS_FLINK_TAG='$FLINK_RIG_VERSION'
	# The application image: the Flink image + the counter job jar (class \$RIG_PODS_APP_JOB_CLASS)
	# at \$RIG_PODS_APP_JAR; two tags, distinct images (FLINKOPS_RIG_APP_TAG=tag in their env):
	# a bump from \$RIG_PODS_APP_TAG_1 to \$RIG_PODS_APP_TAG_2 is an image upgrade. TaskManagers run
	# it too (the job's class path names usrlib/counter.jar relative to /opt/flink).
	export RIG_PODS_APP_REPOSITORY='$PODS_APP_REPO'
	export RIG_PODS_APP_TAG_1='${PODS_APP_TAGS[0]}'
	export RIG_PODS_APP_TAG_2='${PODS_APP_TAGS[1]}'
	export RIG_PODS_APP_IMAGE_1='$PODS_APP_REPO:${PODS_APP_TAGS[0]}'
	export RIG_PODS_APP_IMAGE_2='$PODS_APP_REPO:${PODS_APP_TAGS[1]}'
	export RIG_PODS_APP_JAR='local://$PODS_APP_JAR_PATH'
	export RIG_PODS_APP_JOB_CLASS='$FLINK_RIG_JOB_CLASS'
	export RIG_PODS_CONTAINERD_SOCK='$PODS_SOCK'
	# The API server from inside a pod (no Service routing here): put in the pod's spec
	#   hostAliases: [{ip: \$RIG_PODS_APISERVER_IP, hostnames: [kubernetes.default.svc]}]
	#   env: KUBERNETES_SERVICE_HOST=kubernetes.default.svc KUBERNETES_SERVICE_PORT=\$RIG_PODS_APISERVER_PORT
	export RIG_PODS_APISERVER_IP='$PODS_GATEWAY'
	export RIG_PODS_APISERVER_PORT='$RIG_PORT_PODS_APISERVER'
	# The git part's git daemon from inside a pod (a relay on the bridge's address): REPO.git appended
	export RIG_PODS_GIT_URL='git://$PODS_GATEWAY:$RIG_PORT_PODS_GIT/'
	export RIG_PODS_CGROUP_ROOT='$(pods_cgroup_root)'
	EOF
}

# pods_down: stop the containers first (with the kubelet gone they would
# outlive it: containerd's shims run on their own), then the processes,
# then the bridge, the pods' network namespaces and the cgroups.
pods_down() {
	local d=$PODS_DATA f pid id ns i
	# nothing to do unless this part was started
	[ -n "$(rig_part_pids pods)" ] || [ -f "$d/bridge" ] || [ -f "$d/cgroup-root" ] || return 0
	f=$RIG_HOME/pids/pods.kubelet.pid
	if [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; then
		pid=$(cat "$f")
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL -- "-$pid" 2>/dev/null || true
		rm -f "$f"
	fi
	if pods_sock_ready; then
		for id in $(pods_ctr tasks ls -q 2>/dev/null); do
			pods_ctr tasks kill -s KILL "$id" >/dev/null 2>&1 || true
		done
		for ((i = 0; i < 50; i++)); do
			pods_ctr tasks ls 2>/dev/null | grep -q RUNNING || break
			sleep 0.2
		done
		for id in $(pods_ctr containers ls -q 2>/dev/null); do
			ns=$(pods_ctr containers info "$id" 2>/dev/null |
				jq -r '.Spec.linux.namespaces[]? | select(.type == "network") | .path // empty' 2>/dev/null) || ns=
			pods_ctr tasks rm -f "$id" >/dev/null 2>&1 || true
			pods_ctr containers rm "$id" >/dev/null 2>&1 || true
			case $ns in /var/run/netns/cni-* | /run/netns/cni-*) ip netns delete "${ns##*/}" 2>/dev/null || true ;; esac
		done
	fi
	# the shims of this containerd, should any be left (containerd records
	# each one's pid in its state folder)
	for f in "$d"/containerd/state/io.containerd.runtime.v2.task/*/*/shim.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
	done
	rig_stop_part pods
	pods_unmount "$d/kubelet"
	pods_unmount "$d/containerd/state"
	if [ -f "$d/bridge" ]; then
		ip link delete "$(cat "$d/bridge")" 2>/dev/null || true
		rm -f "$d/bridge"
	fi
	rm -rf "$d/cni-ipam"
	if [ -f "$d/cgroup-root" ]; then
		pods_remove_cgroups "$(cat "$d/cgroup-root")"
		rm -f "$d/cgroup-root"
	fi
	# the node is gone: its pods are deleted by the pod garbage collector
	if [ -f "$K8S_DATA/admin.kubeconfig" ] && k8s_readyz 2>/dev/null; then
		k8s_kubectl delete node "$PODS_NODE" --wait=false >/dev/null 2>&1 || true
	fi
	return 0
}

# ---- smoke test -------------------------------------------------------------
# The README's example FlinkDeployment, with this rig's image and memory
# sizes that fit the machine, rendered by ./flinkops and applied as flinkops
# applies it: a JobManager and a TaskManager pod run Flink from the rendered
# ConfigMap, become Ready by the rendered probes, and the JobManager's REST
# API lists the TaskManager's slot (the TaskManager found the JobManager by
# its Service name through the cluster DNS); the flink part's counter job,
# uploaded to that JobManager, runs on the TaskManager pod and counts.

_pods_fail() {
	printf 'rig: pods smoke: %s\n' "$*" >&2
	return 1
}

# _pods_wait_ready NS NAME [IMAGE]: NAME-jobmanager-0 and NAME-taskmanager-0
# (pods labelled app.kubernetes.io/instance=NAME) Ready within 180s, running
# IMAGE when given, or fail with the namespace's pods and events.
_pods_wait_ready() {
	local ns=$1 name=$2 image=${3:-} kc=("$RIG_KUBECTL" --kubeconfig "$RIG_KUBECONFIG") ready deadline=$((SECONDS + 180))
	while :; do
		ready=$("${kc[@]}" -n "$ns" get pods -l "app.kubernetes.io/instance=$name" \
			-o 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}@{.status.containerStatuses[0].image} {end}' 2>/dev/null) || true
		case " $ready" in *" $name-jobmanager-0=True@$image"*) case " $ready" in *" $name-taskmanager-0=True@$image"*) break ;; esac ;; esac
		if [ $SECONDS -ge $deadline ]; then
			_pods_fail "pods of $name not Ready within 180s: $ready"
			"${kc[@]}" -n "$ns" get pods -o wide >&2
			"${kc[@]}" -n "$ns" get events --sort-by=.lastTimestamp 2>&1 | tail -15 >&2
			return 1
		fi
		sleep 0.5
	done
	rig_log "pods smoke: both pods of $name Ready $((SECONDS + 180 - deadline))s after the apply"
}

# _pods_job_counts JM_IP JOB [ABOVE]: prints the counter job's count once JOB
# is RUNNING on the JobManager at JM_IP and its gauge is past 100 (the job
# really runs on a TaskManager's slot), or fails after 90s. With ABOVE, the
# first count the gauge shows must be above it (the job continued from
# state holding at least that count; a job started empty shows a handful).
_pods_job_counts() {
	local jm_ip=$1 job=$2 above=${3:-} vertex count=0 deadline=$((SECONDS + 90))
	while [ $SECONDS -lt $deadline ]; do
		vertex=$(curl -sS --max-time 2 "http://$jm_ip:8081/jobs/$job" 2>/dev/null |
			jq -r 'select(.state == "RUNNING") | .vertices[] | select(.name | contains("counter-report")) | .id' 2>/dev/null) || vertex=
		if [ -n "$vertex" ]; then
			count=$(curl -sS --max-time 2 "http://$jm_ip:8081/jobs/$job/vertices/$vertex/metrics?get=0.counter-report.maxCount" 2>/dev/null |
				jq -r '.[0].value // 0' 2>/dev/null) || count=0
			count=${count%.*}
			if [ -n "$above" ] && [ "$count" -gt 0 ] 2>/dev/null; then
				[ "$count" -gt "$above" ] && { echo "$count"; return 0; }
				_pods_fail "job $job's first count $count is not above $above: it did not continue from its state"
				return 1
			fi
			[ "$count" -gt 100 ] 2>/dev/null && { echo "$count"; return 0; }
		fi
		sleep 0.5
	done
	_pods_fail "job $job did not count past 100 on a TaskManager within 90s (state: $(curl -sS --max-time 2 "http://$jm_ip:8081/jobs/$job" | jq -r .state))"
}

_pods_smoke_steps() {
	local ns=$1 dir=$2 kc=("$RIG_KUBECTL" --kubeconfig "$RIG_KUBECONFIG") bin=$RIG_SRC/../../flinkops
	local name=my-flink-cluster i jm_ip tm_ip out slots cg lim pod
	[ -x "$bin" ] || { _pods_fail "no ./flinkops binary at $bin (run make)"; return 1; }
	sed -e "s|namespace: default|namespace: $ns|" \
		-e "s|repository: flinkci/flink|repository: $RIG_PODS_FLINK_REPOSITORY|" \
		-e "s|tag: 1.17.1|tag: \"$RIG_PODS_FLINK_TAG\"|" \
		-e "s|flinkVersion: 1.17.1|flinkVersion: \"${RIG_PODS_FLINK_TAG%.*}\"|" \
		-e 's|memory: 1024m|memory: 768m|' -e 's|memory: 2048m|memory: 1024m|' \
		-e 's|cpu: 1$|cpu: 0.5|' -e 's|replicas: 2|replicas: 1|' -e 's|parallelism: 2|parallelism: 1|' \
		-e "s|savepointStorage: .*|savepointStorage: file:///tmp/flink-savepoints|" \
		"$RIG_SRC/../../examples/repo/jobs/my-flink-cluster.yaml" >"$dir/$name.yaml"
	"$bin" render "$dir/$name.yaml" >"$dir/rendered.yaml" 2>"$dir/render.err" ||
		{ _pods_fail "flinkops render: $(cat "$dir/render.err")"; return 1; }
	"$RIG_PODS_NAMESPACE" "$ns" || { _pods_fail "cannot create namespace $ns"; return 1; }
	"${kc[@]}" apply --server-side --field-manager flinkops -f "$dir/rendered.yaml" >/dev/null ||
		{ _pods_fail "applying the rendered objects failed"; return 1; }
	_pods_wait_ready "$ns" "$name" || return 1
	jm_ip=$("${kc[@]}" -n "$ns" get pod "$name-jobmanager-0" -o 'jsonpath={.status.podIP}')
	tm_ip=$("${kc[@]}" -n "$ns" get pod "$name-taskmanager-0" -o 'jsonpath={.status.podIP}')
	for pod in jobmanager-0 taskmanager-0; do
		out=$("${kc[@]}" -n "$ns" get pod "$name-$pod" -o 'jsonpath={.spec.nodeName}')
		[ "$out" = "$RIG_PODS_NODE" ] || { _pods_fail "$name-$pod runs on node '$out', not $RIG_PODS_NODE"; return 1; }
	done
	rig_log "pods smoke: $name-jobmanager-0 Ready at $jm_ip, $name-taskmanager-0 Ready at $tm_ip, on $RIG_PODS_NODE"
	# The TaskManager registers with the JobManager it found by name.
	for ((i = 0; i < 300; i++)); do
		out=$(curl -sS --max-time 2 "http://$jm_ip:8081/overview" 2>/dev/null) || out=
		slots=$(jq -r '.["slots-total"] // 0' <<<"$out" 2>/dev/null) || slots=0
		[ "${slots:-0}" -ge 1 ] && break
		sleep 0.2
	done
	[ "${slots:-0}" -ge 1 ] || { _pods_fail "JobManager /overview at $jm_ip shows no slots: $out"; return 1; }
	[ "$(jq -r '.["flink-version"]' <<<"$out")" = "$RIG_PODS_FLINK_TAG" ] ||
		{ _pods_fail "JobManager reports another version: $out"; return 1; }
	rig_log "pods smoke: JobManager /overview: $out"
	out=$(curl -sS --max-time 5 "http://$jm_ip:8081/taskmanagers") || { _pods_fail "GET /taskmanagers failed"; return 1; }
	jq -e --arg ip "$tm_ip" '[.taskmanagers[].id] | any(startswith($ip))' <<<"$out" >/dev/null ||
		{ _pods_fail "the TaskManager at $tm_ip is not registered: $out"; return 1; }
	# The rendered configuration is what Flink runs with.
	out=$(curl -sS --max-time 5 "http://$jm_ip:8081/jobmanager/config") || { _pods_fail "GET /jobmanager/config failed"; return 1; }
	jq -e --arg a "$name.$ns" '[.[] | select(.key == "jobmanager.rpc.address") | .value] == [$a]' <<<"$out" >/dev/null ||
		{ _pods_fail "jobmanager.rpc.address is not $name.$ns: $(jq -c '.[] | select(.key == "jobmanager.rpc.address")' <<<"$out")"; return 1; }
	jq -e '[.[] | select(.key == "jobmanager.memory.process.size") | .value] == ["768m"]' <<<"$out" >/dev/null ||
		{ _pods_fail "jobmanager.memory.process.size is not the rendered 768m"; return 1; }
	# The containers' memory limits are the rendered resources.
	for pod in jobmanager-0=805306368 taskmanager-0=1073741824; do
		cg=$("${kc[@]}" -n "$ns" get pod "$name-${pod%=*}" -o 'jsonpath={.metadata.uid}')
		lim=$(find /sys/fs/cgroup/memory"$RIG_PODS_CGROUP_ROOT" -path "*pod${cg}/*" -name memory.limit_in_bytes 2>/dev/null |
			xargs -r cat | sort -u | grep -x "${pod#*=}") || true
		[ -n "$lim" ] || { _pods_fail "no container of $name-${pod%=*} has the memory limit ${pod#*=}"; return 1; }
	done
	# kubectl logs goes through the API server to this kubelet.
	out=$("${kc[@]}" -n "$ns" logs "$name-taskmanager-0" 2>&1 | grep -m1 'Successful registration at resource manager') ||
		{ _pods_fail "kubectl logs of the TaskManager shows no registration: $("${kc[@]}" -n "$ns" logs "$name-taskmanager-0" 2>&1 | tail -3)"; return 1; }
	rig_log "pods smoke: TaskManager log: ${out:0:200}"
	# A job runs on the TaskManager's slot: the flink part's counter job,
	# uploaded to and run by this JobManager, counts (its gauge grows).
	local jar job count
	out=$(curl -sS --max-time 30 -H 'Expect:' -F "jarfile=@$FLINK_RIG_HOME/counter-job.jar;type=application/java-archive" \
		"http://$jm_ip:8081/jars/upload") || { _pods_fail "jar upload to $jm_ip failed"; return 1; }
	jar=$(jq -r '.filename // empty | split("/") | last' <<<"$out")
	[ -n "$jar" ] || { _pods_fail "jar upload: $out"; return 1; }
	out=$(curl -sS --max-time 30 -H 'Content-Type: application/json' \
		-d "$(jq -nc --arg c "$FLINK_RIG_JOB_CLASS" '{entryClass: $c, parallelism: 1, programArgsList: ["--counter-file", "/tmp/counter"]}')" \
		"http://$jm_ip:8081/jars/$jar/run") || { _pods_fail "jar run failed"; return 1; }
	job=$(jq -r '.jobid // empty' <<<"$out")
	[ -n "$job" ] || { _pods_fail "jar run: ${out:0:400}"; return 1; }
	count=$(_pods_job_counts "$jm_ip" "$job") || return 1
	rig_log "pods smoke: job $job RUNNING on the TaskManager pod, counter at $count"
	curl -sS --max-time 10 -X PATCH "http://$jm_ip:8081/jobs/$job?mode=cancel" >/dev/null || true
	return 0
}

# _pods_app_objects NS SHARED IMAGE JOB [OPTION...]: the application
# cluster counter-app of the pods smoke: its configuration, JobManager
# Service, and JobManager and TaskManager StatefulSets of IMAGE; the
# JobManager runs `standalone-job --job-classname CLASS --job-id JOB OPTION...`
# and the counter job's arguments; savepoints and checkpoints go to the
# hostPath folder SHARED, mounted at the same path in both pods.
_pods_app_objects() {
	local ns=$1 shared=$2 image=$3 job=$4 name=counter-app role args mem a
	shift 4
	{
		cat <<-EOF
		apiVersion: v1
		kind: ConfigMap
		metadata: {name: $name-config, namespace: $ns}
		data:
		  config.yaml: |
		    blob.server.port: "6124"
		    execution.shutdown-on-application-finish: false
		    execution.submit-failed-job-on-application-error: true
		    execution.checkpointing.savepoint-dir: file://$shared/savepoints
		    execution.checkpointing.dir: file://$shared/checkpoints
		    jobmanager.bind-host: "0.0.0.0"
		    jobmanager.memory.process.size: 768m
		    jobmanager.rpc.address: $name.$ns
		    jobmanager.rpc.port: "6123"
		    parallelism.default: "1"
		    rest.bind-address: "0.0.0.0"
		    rest.port: "8081"
		    taskmanager.bind-host: "0.0.0.0"
		    taskmanager.memory.process.size: 1024m
		    taskmanager.numberOfTaskSlots: "1"
		    taskmanager.rpc.port: "6122"
		  log4j-console.properties: |
		    rootLogger.level = INFO
		    rootLogger.appenderRef.console.ref = ConsoleAppender
		    appender.console.name = ConsoleAppender
		    appender.console.type = CONSOLE
		    appender.console.layout.type = PatternLayout
		    appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
		---
		apiVersion: v1
		kind: Service
		metadata: {name: $name, namespace: $ns}
		spec:
		  clusterIP: None
		  publishNotReadyAddresses: true
		  selector: {app.kubernetes.io/instance: $name, app.kubernetes.io/component: jobmanager}
		  ports:
		  - {name: jobmanager-rpc, port: 6123}
		  - {name: blobserver, port: 6124}
		EOF
		for role in jobmanager taskmanager; do
			args="[taskmanager]" mem=1024Mi
			if [ $role = jobmanager ]; then
				args="[standalone-job, --job-classname, $RIG_PODS_APP_JOB_CLASS, --job-id, \"$job\","
				for a in "$@"; do args+=" \"$a\","; done
				args+=" --name, rig-app-smoke, --rate, \"100\"]"
				mem=768Mi
			fi
			cat <<-EOF
			---
			apiVersion: apps/v1
			kind: StatefulSet
			metadata: {name: $name-$role, namespace: $ns}
			spec:
			  replicas: 1
			  serviceName: $name
			  selector:
			    matchLabels: {app.kubernetes.io/instance: $name, app.kubernetes.io/component: $role}
			  template:
			    metadata:
			      labels: {app.kubernetes.io/instance: $name, app.kubernetes.io/component: $role}
			    spec:
			      containers:
			      - name: flink-main-container
			        image: $image
			        imagePullPolicy: IfNotPresent
			        args: $args
			        resources:
			          limits: {cpu: 500m, memory: $mem}
			        volumeMounts: [{name: config, mountPath: /opt/flink/conf}, {name: shared, mountPath: $shared}]
			      volumes: [{name: config, configMap: {name: $name-config}}, {name: shared, hostPath: {path: $shared, type: Directory}}]
			EOF
		done
	}
}

# An application cluster from the application image, objects written here
# (not rendered): a JobManager StatefulSet running `standalone-job` with the
# counter job's class, a job id, a -D property and job arguments, and a
# TaskManager StatefulSet of the same image that finds it by its Service's
# DNS name. The job runs under exactly that id, named by its arguments, and
# counts; the JobManager runs with the options an application cluster needs
# (stay up after the job ends, a failed application driver reported as a
# failed job). Then the image upgrade: stop with a savepoint (the JobManager
# stays up, the job FINISHED), both StatefulSets moved to the second tag
# with a new job id and --fromSavepoint; the new job restores exactly that
# savepoint and its count continues.
_pods_app_smoke_steps() {
	local ns=$1 dir=$2 kc=("$RIG_KUBECTL" --kubeconfig "$RIG_KUBECONFIG")
	local name=counter-app image=$RIG_PODS_APP_IMAGE_1 shared=$2/shared job job2 out jm_ip count d1 d2 trigger loc i
	job=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	job2=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	mkdir -p "$shared"
	chmod 1777 "$shared"
	# both tags are in containerd, as distinct images
	out=$(pods_ctr images ls 2>/dev/null) || out=
	d1=$(awk -v r="$RIG_PODS_APP_IMAGE_1" '$1 == r { print $3 }' <<<"$out")
	d2=$(awk -v r="$RIG_PODS_APP_IMAGE_2" '$1 == r { print $3 }' <<<"$out")
	[ -n "$d1" ] && [ -n "$d2" ] && [ "$d1" != "$d2" ] ||
		{ _pods_fail "containerd lacks $RIG_PODS_APP_IMAGE_1 and $RIG_PODS_APP_IMAGE_2 as distinct images ('$d1' '$d2')"; return 1; }
	_pods_app_objects "$ns" "$shared" "$image" "$job" -D rest.flamegraph.enabled=true >"$dir/$name.yaml"
	"${kc[@]}" apply --server-side --field-manager flinkops -f "$dir/$name.yaml" >/dev/null ||
		{ _pods_fail "applying $dir/$name.yaml failed"; return 1; }
	_pods_wait_ready "$ns" "$name" || return 1
	jm_ip=$("${kc[@]}" -n "$ns" get pod "$name-jobmanager-0" -o 'jsonpath={.status.podIP}')
	out=$("${kc[@]}" -n "$ns" get pod "$name-jobmanager-0" -o 'jsonpath={.status.containerStatuses[0].image}')
	[ "$out" = "$image" ] || { _pods_fail "$name-jobmanager-0 runs image '$out', not $image"; return 1; }
	# the entry class came from /opt/flink/usrlib: nothing else has it
	count=$(_pods_job_counts "$jm_ip" "$job") || {
		"${kc[@]}" -n "$ns" logs "$name-jobmanager-0" 2>&1 | grep -E 'ERROR|Exception' | head -5 >&2
		return 1
	}
	out=$(curl -sS --max-time 5 "http://$jm_ip:8081/jobs") || { _pods_fail "GET /jobs failed"; return 1; }
	jq -e --arg j "$job" '[.jobs[].id] == [$j]' <<<"$out" >/dev/null ||
		{ _pods_fail "the application cluster runs other jobs than $job: $out"; return 1; }
	out=$(curl -sS --max-time 5 "http://$jm_ip:8081/jobs/$job") || { _pods_fail "GET /jobs/$job failed"; return 1; }
	[ "$(jq -r .name <<<"$out")" = rig-app-smoke ] ||
		{ _pods_fail "job $job is named '$(jq -r .name <<<"$out")', not by its --name argument"; return 1; }
	rig_log "pods smoke: application job $job (--job-id) RUNNING from $RIG_PODS_APP_JAR, counter at $count"
	# what the JobManager runs with: the file's options, the -D one, the id
	out=$(curl -sS --max-time 5 "http://$jm_ip:8081/jobmanager/config") || { _pods_fail "GET /jobmanager/config failed"; return 1; }
	jq -en --arg j "$job" 'input | map({(.key): .value}) | add |
		.["execution.shutdown-on-application-finish"] == "false" and
		.["execution.submit-failed-job-on-application-error"] == "true" and
		.["rest.flamegraph.enabled"] == "true" and .["$internal.pipeline.job-id"] == $j and
		(.["pipeline.classpaths"] | contains("usrlib/counter.jar"))' <<<"$out" >/dev/null ||
		{ _pods_fail "the JobManager's configuration lacks what it was given: $(jq -c 'map(select(.key | test("^execution\\.|job-id|classpaths|flamegraph")))' <<<"$out")"; return 1; }
	rig_log "pods smoke: JobManager config: $(jq -c 'map(select(.key | test("application|job-id|classpaths"))) | map({(.key): .value}) | add' <<<"$out")"

	# The image upgrade, by hand: stop with a savepoint ...
	count=$(_pods_job_counts "$jm_ip" "$job") || return 1
	out=$(curl -sS --max-time 10 -H 'Content-Type: application/json' -d '{"drain": false}' \
		"http://$jm_ip:8081/jobs/$job/stop") || { _pods_fail "POST /jobs/$job/stop failed"; return 1; }
	trigger=$(jq -r '.["request-id"] // empty' <<<"$out")
	[ -n "$trigger" ] || { _pods_fail "stop of $job: $out"; return 1; }
	for ((i = 0; i < 120; i++)); do
		out=$(curl -sS --max-time 2 "http://$jm_ip:8081/jobs/$job/savepoints/$trigger" 2>/dev/null) || out=
		[ "$(jq -r '.status.id // empty' <<<"$out" 2>/dev/null)" = COMPLETED ] && break
		sleep 0.5
	done
	loc=$(jq -r '.operation.location // empty' <<<"$out" 2>/dev/null) || loc=
	case $loc in
	file:*"$shared"/savepoints/*) ;;
	*) _pods_fail "stop-with-savepoint of $job did not complete under $shared/savepoints: $out"; return 1 ;;
	esac
	# ... the JobManager stays up and shows the job FINISHED ...
	for ((i = 0; i < 60; i++)); do
		out=$(curl -sS --max-time 2 "http://$jm_ip:8081/jobs/$job" 2>/dev/null | jq -r .state 2>/dev/null) || out=
		[ "$out" = FINISHED ] && break
		sleep 0.5
	done
	[ "$out" = FINISHED ] || { _pods_fail "after the stop the JobManager shows $job as '$out', not FINISHED"; return 1; }
	rig_log "pods smoke: application job $job stopped at count >= $count with savepoint $loc; the JobManager stays up"
	# ... then both StatefulSets on the second tag, a new job id, that savepoint.
	image=$RIG_PODS_APP_IMAGE_2
	_pods_app_objects "$ns" "$shared" "$image" "$job2" --fromSavepoint "$loc" >"$dir/$name-2.yaml"
	"${kc[@]}" apply --server-side --field-manager flinkops -f "$dir/$name-2.yaml" >/dev/null ||
		{ _pods_fail "applying $dir/$name-2.yaml failed"; return 1; }
	_pods_wait_ready "$ns" "$name" "$image" || return 1
	jm_ip=$("${kc[@]}" -n "$ns" get pod "$name-jobmanager-0" -o 'jsonpath={.status.podIP}')
	count=$(_pods_job_counts "$jm_ip" "$job2" "$count") || return 1
	out=$(curl -sS --max-time 5 "http://$jm_ip:8081/jobs/$job2/checkpoints") || { _pods_fail "GET /jobs/$job2/checkpoints failed"; return 1; }
	[ "$(jq -r '.latest.restored.external_path // empty' <<<"$out")" = "$loc" ] ||
		{ _pods_fail "job $job2 on $image does not report a restore from $loc: $(jq -c .latest.restored <<<"$out")"; return 1; }
	rig_log "pods smoke: on $image, job $job2 restored $loc and counts on ($count)"
}

pods_smoke() {
	local ns=rig-pods-smoke-$$ dir=$RIG_HOME/data/pods-smoke rc=0 i n
	rm -rf "$dir"
	mkdir -p "$dir"
	_pods_smoke_steps "$ns" "$dir" || rc=1
	[ $rc = 1 ] || _pods_app_smoke_steps "$ns" "$dir" || rc=1
	"$RIG_KUBECTL" --kubeconfig "$RIG_KUBECONFIG" delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
	# Deleting the namespace stops the pods: the kubelet stops the JVMs and
	# removes the containers' network namespaces.
	for ((i = 0; i < 300; i++)); do
		n=$("$RIG_KUBECTL" --kubeconfig "$RIG_KUBECONFIG" -n "$ns" get pods -o name 2>/dev/null | wc -l)
		[ "$n" = 0 ] && break
		sleep 0.2
	done
	[ "$n" = 0 ] || { _pods_fail "pods of $ns still there 60s after the namespace was deleted"; rc=1; }
	return $rc
}
