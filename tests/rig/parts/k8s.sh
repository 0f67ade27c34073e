# The rig's Kubernetes part: a real control plane on loopback for the
# end-to-end tests, built from published Go modules and cached by version.
#
# Processes (each started with rig_start, so `rig down k8s` stops exactly
# these): etcd, kube-apiserver (TLS with a CA made here by openssl, RBAC,
# token and client-certificate authentication, service-account keys),
# kube-controller-manager (StatefulSets create pods, service accounts get
# tokens), kube-scheduler, and kwok, which plays the kubelet for one fake
# Node so that pods are scheduled and become Ready without containers.
#
# Data, certificates and kubeconfigs live in $RIG_HOME/data/k8s. Every
# `rig up k8s` starts from an empty etcd (a clean cluster each time); the CA,
# keys and tokens are made once and kept, so that a warm start is quick and
# credentials stay the same across restarts. Kubeconfigs:
#   admin.kubeconfig          user rig-admin (system:masters): certificate-authority
#                             file + token (the token alone is in admin.token)
#   admin-cert.kubeconfig     user rig-admin-cert (system:masters): client-certificate
#                             and client-key files
#   admin-inline.kubeconfig   user rig-admin-inline (system:masters): every certificate
#                             and key inline (*-data)
#   limited.kubeconfig        user rig-limited: token; RBAC lets it only get/list/watch
#                             pods, so any write is 403 Forbidden
#   badtoken.kubeconfig       a token the server does not know (401 Unauthorized)
# Each admin file names its own user, so a test can ask the server
# (SelfSubjectReview) which credential a client really sent. Client keys are
# PKCS#1 ("RSA PRIVATE KEY"), as kubeadm and kind write them.
#
# The wrapper modules that pin the versions are in tests/rig/k8s/; the
# Kubernetes version below must match the one pinned in k8s/kubernetes/go.mod.
#
# Pod IPs (kwok) and service cluster IPs are taken from the loopback range,
# so that nothing which reads them can ever send traffic off this machine.
# Endpoints and EndpointSlices refuse loopback addresses, so the controllers
# that would write them are switched off: Services here have no endpoints.

K8S_VERSION=v1.34.10
K8S_ETCD_VERSION=v3.6.16
K8S_KWOK_VERSION=v0.8.0
K8S_BIN=$RIG_CACHE/k8s-$K8S_VERSION/bin
K8S_DATA=$RIG_HOME/data/k8s
K8S_SRC=$RIG_SRC/k8s
K8S_SERVER=https://127.0.0.1:$RIG_PORT_APISERVER
K8S_SERVICE_RANGE=127.96.0.0/16
K8S_FIRST_SERVICE_IP=127.96.0.1
K8S_POD_RANGE=127.64.0.0/16
K8S_NODE=rig-node

k8s_deps() {
	echo openssl curl ca-certificates
}

# k8s_go_build DIR OUT LDFLAGS PKG...: build PKGs of the wrapper module in DIR
# to OUT (a file, or a folder when it ends in /), without touching the
# module's files. The log of every build is logs/k8s-build.log.
k8s_go_build() {
	local dir=$1 out=$2 ldflags=$3
	shift 3
	command -v go >/dev/null || rig_die "k8s: the Go toolchain is needed to build the control plane"
	(cd "$dir" && GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -ldflags "$ldflags" -o "$out" "$@") \
		>>"$RIG_HOME/logs/k8s-build.log" 2>&1 ||
		rig_die "k8s: building $* failed (log: $RIG_HOME/logs/k8s-build.log)"
}

k8s_build() {
	local b have=1 tmp start
	for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok; do
		[ -x "$K8S_BIN/$b" ] || have=0
	done
	[ $have = 1 ] && return 0

	grep -q "k8s.io/kubernetes $K8S_VERSION" "$K8S_SRC/kubernetes/go.mod" ||
		rig_die "k8s: tests/rig/k8s/kubernetes/go.mod does not pin k8s.io/kubernetes $K8S_VERSION"
	tmp=$RIG_CACHE/k8s-$K8S_VERSION/tmp
	rm -rf "$tmp"
	mkdir -p "$K8S_BIN" "$tmp"

	if [ ! -x "$K8S_BIN/etcd" ]; then
		rig_log "k8s: building etcd $K8S_ETCD_VERSION (log: $RIG_HOME/logs/k8s-build.log)"
		start=$SECONDS
		k8s_go_build "$K8S_SRC/etcd" "$tmp/etcd" "-s -w" go.etcd.io/etcd/server/v3
		mv "$tmp/etcd" "$K8S_BIN/etcd"
		rig_log "k8s: etcd built in $((SECONDS - start))s"
	fi

	if [ ! -x "$K8S_BIN/kwok" ]; then
		rig_log "k8s: building kwok $K8S_KWOK_VERSION"
		start=$SECONDS
		k8s_go_build "$K8S_SRC/kwok" "$tmp/kwok" "-s -w" sigs.k8s.io/kwok/cmd/kwok
		mv "$tmp/kwok" "$K8S_BIN/kwok"
		rig_log "k8s: kwok built in $((SECONDS - start))s"
	fi

	local kube=(kube-apiserver kube-controller-manager kube-scheduler kubectl) missing=0
	for b in "${kube[@]}"; do [ -x "$K8S_BIN/$b" ] || missing=1; done
	if [ $missing = 1 ]; then
		# Without the version stamps /version says v0.0.0 (component-base);
		# client-go's copy is what the components put in their User-Agent.
		local minor=${K8S_VERSION#v1.} ld="-s -w" p
		minor=${minor%%.*}
		for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
			ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
		done
		rig_log "k8s: building Kubernetes $K8S_VERSION (a cold build takes a long while)"
		start=$SECONDS
		k8s_go_build "$K8S_SRC/kubernetes" "$tmp/" "$ld" "${kube[@]/#/k8s.io/kubernetes/cmd/}"
		for b in "${kube[@]}"; do mv "$tmp/$b" "$K8S_BIN/$b"; done
		rig_log "k8s: Kubernetes built in $((SECONDS - start))s"
	fi
	rm -rf "$tmp"
}

# k8s_cert NAME SUBJECT EXTENSIONS: a key and a certificate signed by the
# rig's CA (or by the CA named in $K8S_CA), as NAME.key and NAME.crt in the
# data folder.
k8s_cert() {
	local name=$1 subj=$2 ext=$3 d=$K8S_DATA ca=${K8S_CA:-ca}
	openssl genrsa -traditional -out "$d/$name.key" 2048 2>/dev/null
	openssl req -new -key "$d/$name.key" -subj "$subj" -out "$d/$name.csr" 2>/dev/null
	printf '%s\n' "$ext" >"$d/$name.ext"
	openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca.crt" -CAkey "$d/$ca.key" -CAcreateserial \
		-days 825 -sha256 -extfile "$d/$name.ext" -out "$d/$name.crt" 2>/dev/null
	rm -f "$d/$name.csr" "$d/$name.ext"
}

k8s_client_cert() {
	k8s_cert "$1" "$2" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
}

k8s_make_pki() {
	local d=$K8S_DATA
	rm -f "$d"/*.crt "$d"/*.key "$d"/*.pub "$d"/*.token "$d"/*.kubeconfig "$d/tokens.csv"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 3650 -sha256 \
		-subj "/CN=flinkops-rig-ca" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
	k8s_cert apiserver "/CN=kube-apiserver" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:::1,IP:$K8S_FIRST_SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
	k8s_client_cert admin-cert "/O=system:masters/CN=rig-admin-cert"
	k8s_client_cert admin-inline "/O=system:masters/CN=rig-admin-inline"
	k8s_client_cert controller-manager "/CN=system:kube-controller-manager"
	k8s_client_cert scheduler "/CN=system:kube-scheduler"
	k8s_client_cert kwok "/O=system:masters/CN=rig-kwok"
	# The aggregation layer's own CA and client, as a kubeadm cluster has them;
	# without these the controllers keep logging a missing requestheader CA.
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/front-proxy-ca.key" -out "$d/front-proxy-ca.crt" \
		-days 3650 -sha256 -subj "/CN=flinkops-rig-front-proxy-ca" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
	K8S_CA=front-proxy-ca k8s_client_cert front-proxy-client "/CN=front-proxy-client"
	openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
	openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
	rm -f "$d"/*.srl

	openssl rand -hex 32 >"$d/admin.token"
	openssl rand -hex 32 >"$d/limited.token"
	openssl rand -hex 32 >"$d/bad.token"
	openssl rand -hex 32 >"$d/agent-a.token"
	openssl rand -hex 32 >"$d/agent-b.token"
	openssl rand -hex 32 >"$d/agent-c.token"
	{
		printf '%s,rig-admin,rig-admin,"system:masters"\n' "$(cat "$d/admin.token")"
		printf '%s,rig-limited,rig-limited,"rig:pod-readers"\n' "$(cat "$d/limited.token")"
		# two agents with identities of their own, told apart in the audit log
		printf '%s,rig-agent-a,rig-agent-a,"system:masters"\n' "$(cat "$d/agent-a.token")"
		printf '%s,rig-agent-b,rig-agent-b,"system:masters"\n' "$(cat "$d/agent-b.token")"
		# a third, every request of which the audit log records, reads too
		printf '%s,rig-agent-c,rig-agent-c,"system:masters"\n' "$(cat "$d/agent-c.token")"
	} >"$d/tokens.csv"
	chmod 600 "$d"/*.key "$d"/*.token "$d/tokens.csv"
}

# k8s_kubeconfig FILE USER-LINES...: a one-cluster, one-user kubeconfig whose
# cluster entry trusts the CA file; USER-LINES are the user's fields.
k8s_kubeconfig() {
	local file=$1 cluster_ca=$2
	shift 2
	{
		cat <<-EOF
		apiVersion: v1
		kind: Config
		clusters:
		- name: flinkops-rig
		  cluster:
		    server: $K8S_SERVER
		    $cluster_ca
		users:
		- name: rig-user
		  user:
		EOF
		local line
		for line in "$@"; do printf '    %s\n' "$line"; done
		cat <<-EOF
		contexts:
		- name: flinkops-rig
		  context:
		    cluster: flinkops-rig
		    user: rig-user
		    namespace: default
		current-context: flinkops-rig
		EOF
	} >"$file"
	chmod 600 "$file"
}

k8s_make_kubeconfigs() {
	local d=$K8S_DATA ca="certificate-authority: $K8S_DATA/ca.crt" n
	k8s_kubeconfig "$d/admin.kubeconfig" "$ca" "token: $(cat "$d/admin.token")"
	k8s_kubeconfig "$d/admin-cert.kubeconfig" "$ca" \
		"client-certificate: $d/admin-cert.crt" "client-key: $d/admin-cert.key"
	k8s_kubeconfig "$d/admin-inline.kubeconfig" "certificate-authority-data: $(base64 -w0 "$d/ca.crt")" \
		"client-certificate-data: $(base64 -w0 "$d/admin-inline.crt")" \
		"client-key-data: $(base64 -w0 "$d/admin-inline.key")"
	k8s_kubeconfig "$d/limited.kubeconfig" "$ca" "token: $(cat "$d/limited.token")"
	k8s_kubeconfig "$d/badtoken.kubeconfig" "$ca" "token: $(cat "$d/bad.token")"
	for n in agent-a agent-b agent-c; do
		k8s_kubeconfig "$d/$n.kubeconfig" "$ca" "token: $(cat "$d/$n.token")"
	done
	for n in controller-manager scheduler kwok; do
		k8s_kubeconfig "$d/$n.kubeconfig" "$ca" "client-certificate: $d/$n.crt" "client-key: $d/$n.key"
	done
}

# The audit policy: every request that can change the objects flinkops
# manages (and its Lease and Events) at the Metadata level, so that a test
# can say who wrote what and when, and every request of the installed
# agent's ServiceAccount; nothing else, to keep the log small.
# Blocking mode: an event is in the log before its request is answered.
k8s_audit_policy() {
	cat <<-EOF
	apiVersion: audit.k8s.io/v1
	kind: Policy
	omitStages: [RequestReceived]
	rules:
	# everything the installed agent's ServiceAccount asks, reads too: a
	# test proves it never gets a 403
	- level: Metadata
	  userGroups: ["system:serviceaccounts:flinkops-system"]
	# everything rig-agent-c asks: a test counts the requests of a pass
	- level: Metadata
	  users: ["rig-agent-c"]
	- level: Metadata
	  verbs: [create, update, patch, delete, deletecollection]
	  resources:
	  - group: ""
	    resources: [configmaps, services, events]
	  - group: apps
	    resources: [statefulsets]
	  - group: coordination.k8s.io
	    resources: [leases]
	- level: None
	EOF
}

k8s_kubectl() {
	"$K8S_BIN/kubectl" --kubeconfig "$K8S_DATA/admin.kubeconfig" "$@"
}

k8s_readyz() {
	[ "$(curl -sS --max-time 5 --cacert "$K8S_DATA/ca.crt" "$K8S_SERVER/readyz" 2>/dev/null)" = ok ]
}

k8s_node_ready() {
	[ "$(k8s_kubectl get node "$K8S_NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

k8s_up() {
	local d=$K8S_DATA port
	# A control plane left over from elsewhere would answer our readiness
	# checks and hide a failed start: refuse to start beside one.
	for port in "$RIG_PORT_ETCD" "$RIG_PORT_ETCD_PEER" "$RIG_PORT_APISERVER" "$RIG_PORT_KCM" "$RIG_PORT_SCHEDULER"; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			rig_die "k8s: 127.0.0.1:$port is already in use (not by a process this rig recorded)"
		fi
	done
	rm -rf "$d/etcd" "$d/certs-kcm" "$d/certs-scheduler"
	mkdir -p "$d/etcd" "$d/certs-kcm" "$d/certs-scheduler"
	chmod 700 "$d/etcd"
	local f
	for f in tokens.csv agent-a.token agent-c.token ca.crt front-proxy-client.crt admin-inline.crt sa.pub; do
		[ -s "$d/$f" ] || { k8s_make_pki; break; }
	done
	k8s_make_kubeconfigs
	k8s_audit_policy >"$d/audit-policy.yaml"
	: >"$d/audit.log"

	rig_start k8s etcd "$K8S_BIN/etcd" \
		--name rig --data-dir "$d/etcd" \
		--listen-client-urls "http://127.0.0.1:$RIG_PORT_ETCD" \
		--advertise-client-urls "http://127.0.0.1:$RIG_PORT_ETCD" \
		--listen-peer-urls "http://127.0.0.1:$RIG_PORT_ETCD_PEER" \
		--initial-advertise-peer-urls "http://127.0.0.1:$RIG_PORT_ETCD_PEER" \
		--initial-cluster "rig=http://127.0.0.1:$RIG_PORT_ETCD_PEER" \
		--unsafe-no-fsync --log-level warn
	rig_wait_cmd 60 etcd curl -sf --max-time 2 "http://127.0.0.1:$RIG_PORT_ETCD/health"

	k8s_start_apiserver
	rig_wait_cmd 120 kube-apiserver k8s_readyz
	k8s_after_apiserver
}

# The API server alone, killed and started again with the same flags and
# the same etcd (every object and resourceVersion kept), as after a crash
# of a control-plane node: `rig k8s-restart-apiserver`. Killed, not
# stopped gracefully: its connections end at once, and it is quick.
k8s_restart_apiserver() {
	local pidf=$RIG_HOME/pids/k8s.kube-apiserver.pid pid i
	pid=$(cat "$pidf")
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	k8s_start_apiserver
	rig_wait_cmd 120 kube-apiserver k8s_readyz
}

k8s_start_apiserver() {
	local d=$K8S_DATA
	rig_start k8s kube-apiserver "$K8S_BIN/kube-apiserver" \
		--etcd-servers "http://127.0.0.1:$RIG_PORT_ETCD" \
		--bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$RIG_PORT_APISERVER" \
		--tls-cert-file "$d/apiserver.crt" --tls-private-key-file "$d/apiserver.key" \
		--client-ca-file "$d/ca.crt" --token-auth-file "$d/tokens.csv" \
		--requestheader-client-ca-file "$d/front-proxy-ca.crt" \
		--requestheader-allowed-names front-proxy-client \
		--requestheader-username-headers X-Remote-User \
		--requestheader-group-headers X-Remote-Group \
		--requestheader-extra-headers-prefix X-Remote-Extra- \
		--proxy-client-cert-file "$d/front-proxy-client.crt" \
		--proxy-client-key-file "$d/front-proxy-client.key" \
		--authorization-mode RBAC \
		--service-account-issuer "$K8S_SERVER" \
		--service-account-key-file "$d/sa.pub" --service-account-signing-key-file "$d/sa.key" \
		--service-cluster-ip-range "$K8S_SERVICE_RANGE" \
		--endpoint-reconciler-type none \
		--kubelet-preferred-address-types InternalIP \
		--enable-admission-plugins PodNodeSelector,PodTolerationRestriction \
		--allow-privileged=true --profiling=false \
		--audit-policy-file "$d/audit-policy.yaml" --audit-log-path "$d/audit.log" \
		--audit-log-format json --audit-log-mode blocking --audit-log-maxsize 200 --audit-log-maxbackup 1
}

k8s_after_apiserver() {
	local d=$K8S_DATA

	# What the limited identity may do: read pods, nothing else.
	k8s_kubectl apply -f - >/dev/null <<-EOF
	apiVersion: rbac.authorization.k8s.io/v1
	kind: ClusterRole
	metadata:
	  name: rig-pod-reader
	rules:
	- apiGroups: [""]
	  resources: [pods]
	  verbs: [get, list, watch]
	---
	apiVersion: rbac.authorization.k8s.io/v1
	kind: ClusterRoleBinding
	metadata:
	  name: rig-pod-reader
	roleRef:
	  apiGroup: rbac.authorization.k8s.io
	  kind: ClusterRole
	  name: rig-pod-reader
	subjects:
	- apiGroup: rbac.authorization.k8s.io
	  kind: User
	  name: rig-limited
	---
	apiVersion: v1
	kind: Node
	metadata:
	  name: $K8S_NODE
	  annotations:
	    kwok.x-k8s.io/node: fake
	  labels:
	    kubernetes.io/hostname: $K8S_NODE
	    kubernetes.io/os: linux
	    kubernetes.io/arch: amd64
	    type: kwok
	EOF

	rig_start k8s kube-controller-manager "$K8S_BIN/kube-controller-manager" \
		--kubeconfig "$d/controller-manager.kubeconfig" \
		--authentication-kubeconfig "$d/controller-manager.kubeconfig" \
		--authorization-kubeconfig "$d/controller-manager.kubeconfig" \
		--bind-address 127.0.0.1 --secure-port "$RIG_PORT_KCM" --cert-dir "$d/certs-kcm" \
		--root-ca-file "$d/ca.crt" \
		--service-account-private-key-file "$d/sa.key" \
		--use-service-account-credentials=true \
		--cluster-signing-cert-file "$d/ca.crt" --cluster-signing-key-file "$d/ca.key" \
		--controllers '*,-endpoints-controller,-endpointslice-controller,-endpointslice-mirroring-controller' \
		--leader-elect=false --profiling=false
	rig_start k8s kube-scheduler "$K8S_BIN/kube-scheduler" \
		--kubeconfig "$d/scheduler.kubeconfig" \
		--authentication-kubeconfig "$d/scheduler.kubeconfig" \
		--authorization-kubeconfig "$d/scheduler.kubeconfig" \
		--bind-address 127.0.0.1 --secure-port "$RIG_PORT_SCHEDULER" --cert-dir "$d/certs-scheduler" \
		--leader-elect=false --profiling=false
	rig_start k8s kwok "$K8S_BIN/kwok" \
		--kubeconfig "$d/kwok.kubeconfig" \
		--config "$K8S_SRC/kwok-stages.yaml" \
		--manage-all-nodes=false \
		--manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
		--node-ip 127.0.0.1 --cidr "$K8S_POD_RANGE" \
		--node-lease-duration-seconds 40

	rig_wait_cmd 60 "k8s node $K8S_NODE" k8s_node_ready
	rig_wait_cmd 60 "k8s default service account" k8s_kubectl -n default get serviceaccount default
}

k8s_env() {
	local d=$K8S_DATA
	cat <<-EOF
	export RIG_KUBECONFIG='$d/admin.kubeconfig'
	export RIG_KUBECONFIG_CERT='$d/admin-cert.kubeconfig'
	export RIG_KUBECONFIG_INLINE='$d/admin-inline.kubeconfig'
	export RIG_KUBECONFIG_LIMITED='$d/limited.kubeconfig'
	export RIG_KUBECONFIG_BADTOKEN='$d/badtoken.kubeconfig'
	export RIG_KUBECONFIG_AGENT_A='$d/agent-a.kubeconfig'
	export RIG_KUBECONFIG_AGENT_B='$d/agent-b.kubeconfig'
	export RIG_KUBECONFIG_AGENT_C='$d/agent-c.kubeconfig'
	export RIG_KUBE_AUDIT_LOG='$d/audit.log'
	export RIG_KUBE_SERVER='$K8S_SERVER'
	export RIG_KUBE_CA='$d/ca.crt'
	export RIG_KUBE_TOKEN_FILE='$d/admin.token'
	export RIG_KUBECTL='$K8S_BIN/kubectl'
	export RIG_K8S_VERSION='$K8S_VERSION'
	EOF
}

# k8s_http_code TOKEN METHOD PATH [BODY]: the HTTP status the API server answers.
k8s_http_code() {
	local token=$1 method=$2 path=$3 body=${4:-}
	curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$RIG_KUBE_CA" \
		-H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
		-X "$method" ${body:+--data "$body"} "$RIG_KUBE_SERVER$path"
}

k8s_smoke() {
	local kc=("$RIG_KUBECTL" --kubeconfig "$RIG_KUBECONFIG") out ns ready code deadline name pid
	for name in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
		pid=$(cat "$RIG_HOME/pids/k8s.$name.pid" 2>/dev/null) || pid=
		if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "k8s smoke: $name is not running (log: $RIG_HOME/logs/$name.log)"
			return 1
		fi
	done
	out=$("${kc[@]}" get --raw /readyz 2>&1) || true
	[ "$out" = ok ] || { echo "k8s smoke: /readyz said: $out"; return 1; }

	out=$("${kc[@]}" get --raw /version 2>&1) || true
	case "$out" in
	*"\"gitVersion\": \"$RIG_K8S_VERSION\""* | *"\"gitVersion\":\"$RIG_K8S_VERSION\""*) ;;
	*) echo "k8s smoke: /version does not report $RIG_K8S_VERSION: $out"; return 1 ;;
	esac

	# Every admin kubeconfig authenticates as its own user, with full rights.
	local pair file want
	for pair in "$RIG_KUBECONFIG=rig-admin" "$RIG_KUBECONFIG_CERT=rig-admin-cert" "$RIG_KUBECONFIG_INLINE=rig-admin-inline" \
		"$RIG_KUBECONFIG_AGENT_A=rig-agent-a" "$RIG_KUBECONFIG_AGENT_B=rig-agent-b"; do
		file=${pair%=*} want=${pair##*=}
		out=$("$RIG_KUBECTL" --kubeconfig "$file" auth whoami -o 'jsonpath={.status.userInfo.username}' 2>&1) || true
		[ "$out" = "$want" ] || { echo "k8s smoke: $file authenticates as '$out', want $want"; return 1; }
		"$RIG_KUBECTL" --kubeconfig "$file" auth can-i create statefulsets -A >/dev/null 2>&1 ||
			{ echo "k8s smoke: $file is not an admin"; return 1; }
	done

	ns=rig-smoke-$$
	"${kc[@]}" create namespace "$ns" >/dev/null || { echo "k8s smoke: cannot create namespace $ns"; return 1; }
	# the audit log names who wrote: a ConfigMap made by agent-a is in it
	"$RIG_KUBECTL" --kubeconfig "$RIG_KUBECONFIG_AGENT_A" -n "$ns" create configmap audit-probe >/dev/null ||
		{ echo "k8s smoke: agent-a cannot create a ConfigMap"; return 1; }
	# the ResponseComplete event is written after the answer is sent, so
	# the log may hold it a moment after kubectl returned
	local seen=
	for _ in $(seq 1 50); do
		grep -F '"audit-probe"' "$RIG_KUBE_AUDIT_LOG" | jq -e --arg ns "$ns" 'select(.objectRef.namespace == $ns
			and .objectRef.name == "audit-probe" and .verb == "create" and .user.username == "rig-agent-a"
			and .responseStatus.code == 201)' >/dev/null 2>&1 && { seen=1; break; }
		sleep 0.1
	done
	[ -n "$seen" ] ||
		{ echo "k8s smoke: the audit log $RIG_KUBE_AUDIT_LOG does not show agent-a's ConfigMap"; return 1; }
	"${kc[@]}" -n "$ns" apply -f - >/dev/null <<-EOF || { echo "k8s smoke: cannot create the StatefulSet"; return 1; }
	apiVersion: v1
	kind: Service
	metadata:
	  name: smoke
	spec:
	  clusterIP: None
	  selector: {app: smoke}
	  ports: [{name: http, port: 8081}]
	---
	apiVersion: apps/v1
	kind: StatefulSet
	metadata:
	  name: smoke
	spec:
	  serviceName: smoke
	  replicas: 2
	  selector:
	    matchLabels: {app: smoke}
	  template:
	    metadata:
	      labels: {app: smoke}
	    spec:
	      containers:
	      - name: main
	        image: registry.invalid/flinkops/smoke:1
	        resources:
	          requests: {cpu: 10m, memory: 16Mi}
	EOF
	ready=0 deadline=$((SECONDS + 30))
	while [ $SECONDS -lt $deadline ]; do
		ready=$("${kc[@]}" -n "$ns" get statefulset smoke -o 'jsonpath={.status.readyReplicas}' 2>/dev/null) || true
		[ "${ready:-0}" = 2 ] && break
		sleep 0.2
	done
	if [ "${ready:-0}" != 2 ]; then
		echo "k8s smoke: StatefulSet has ${ready:-0}/2 ready pods after 30s:"
		"${kc[@]}" -n "$ns" get statefulset,pods -o wide 2>&1
		"${kc[@]}" -n "$ns" get events 2>&1 | tail -20
		"${kc[@]}" delete namespace "$ns" --wait=false >/dev/null 2>&1
		return 1
	fi
	if ! "${kc[@]}" -n "$ns" delete statefulset smoke --timeout=60s >/dev/null ||
		! "${kc[@]}" delete namespace "$ns" --timeout=60s >/dev/null; then
		echo "k8s smoke: namespace $ns was not deleted"
		return 1
	fi

	# The limited identity is authenticated (may list pods) but not allowed to write.
	code=$(k8s_http_code "$(sed -n 's/^ *token: //p' "$RIG_KUBECONFIG_LIMITED")" GET /api/v1/namespaces/default/pods)
	[ "$code" = 200 ] || { echo "k8s smoke: limited identity got $code listing pods, want 200"; return 1; }
	out=$("$RIG_KUBECTL" --kubeconfig "$RIG_KUBECONFIG_LIMITED" -n default create configmap rig-smoke --from-literal=a=b 2>&1) &&
		{ echo "k8s smoke: limited identity created a ConfigMap"; return 1; }
	case "$out" in
	*Forbidden* | *forbidden*) ;;
	*) echo "k8s smoke: limited identity: want Forbidden, got: $out"; return 1 ;;
	esac
	code=$(k8s_http_code "$(sed -n 's/^ *token: //p' "$RIG_KUBECONFIG_LIMITED")" \
		POST /api/v1/namespaces/default/configmaps '{"metadata":{"name":"rig-smoke"},"data":{"a":"b"}}')
	[ "$code" = 403 ] || { echo "k8s smoke: limited identity creating a ConfigMap got $code, want 403"; return 1; }

	# A token the server does not know is refused outright.
	code=$(k8s_http_code "$(sed -n 's/^ *token: //p' "$RIG_KUBECONFIG_BADTOKEN")" GET /api/v1/namespaces/default/pods)
	[ "$code" = 401 ] || { echo "k8s smoke: bad token got $code, want 401"; return 1; }
	out=$("$RIG_KUBECTL" --kubeconfig "$RIG_KUBECONFIG_BADTOKEN" get pods 2>&1) &&
		{ echo "k8s smoke: bad token was accepted"; return 1; }
	case "$out" in
	*Unauthorized* | *unauthorized*) ;;
	*) echo "k8s smoke: bad token: want Unauthorized, got: $out"; return 1 ;;
	esac
	return 0
}
