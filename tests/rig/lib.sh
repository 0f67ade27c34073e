# Shared helpers for the rig's parts: logging, starting a process in the
# background with its pid recorded, waiting for a port, stopping by pid.
# Sourced by tests/rig/rig; every part script may use these.

RIG_HOME=${FLINKOPS_RIG_HOME:-/tmp/flinkops-rig}
RIG_CACHE=${FLINKOPS_RIG_CACHE:-$HOME/.cache/flinkops-rig}
export RIG_HOME RIG_CACHE
mkdir -p "$RIG_HOME"/{logs,pids,env,data} "$RIG_CACHE"

rig_log() { printf 'rig: %s\n' "$*" >&2; }
rig_die() { printf 'rig: error: %s\n' "$*" >&2; exit 1; }

# rig_apt_install PKG...: install the Debian packages that are missing.
rig_apt_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	rig_log "installing ${missing[*]}"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The Go toolchain that builds the k8s, s3, pods and prom parts. Debian 12's
# golang (1.19) is older than the wrapper modules' `go` lines, so the rig
# fetches the toolchain module golang.org/toolchain from the Go module proxy,
# as `go` itself does for GOTOOLCHAIN, pinned by the SHA-256 of its zip
# (its h1: hash is the one sum.golang.org records), and caches it by version.
# A `go` on PATH that is at least as new as every module needs is used as it is.
RIG_GO_VERSION=1.26.8
RIG_GO_ZIP_SHA256_amd64=30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7
RIG_GO_ROOT=$RIG_CACHE/go-$RIG_GO_VERSION
[ -x "$RIG_GO_ROOT/bin/go" ] && PATH=$RIG_GO_ROOT/bin:$PATH && export GOTOOLCHAIN=local

# rig_go_deps: the Debian packages rig_go_ensure needs.
rig_go_deps() { echo curl ca-certificates unzip; }

# rig_go_ensure: a `go` on PATH new enough for every go.mod of the rig;
# fetched into the cache (and put first on PATH) when there is none.
rig_go_ensure() {
	local need have arch sum url tmp
	need=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$RIG_SRC"/*/go.mod "$RIG_SRC"/*/*/go.mod | sort -V | tail -1)
	have=$(go env GOVERSION 2>/dev/null | sed 's/^go//') || have=""
	[ -n "$have" ] && [ "$(printf '%s\n' "$need" "$have" | sort -V | head -1)" = "$need" ] && return 0
	arch=$(dpkg --print-architecture)
	sum=RIG_GO_ZIP_SHA256_$arch
	[ -n "${!sum:-}" ] || rig_die "no Go >= $need on PATH, and the rig pins no toolchain for $arch: install Go $need or newer"
	rig_apt_install $(rig_go_deps)
	rig_log "fetching the Go $RIG_GO_VERSION toolchain module (Go ${have:-none} on PATH, the rig needs $need)"
	url=${GOPROXY:-https://proxy.golang.org}
	url=${url%%[,|]*}/golang.org/toolchain/@v/v0.0.1-go$RIG_GO_VERSION.linux-$arch.zip
	tmp=$(mktemp -d "$RIG_CACHE/go.XXXXXX")
	curl -fsSL --retry 3 -o "$tmp/go.zip" "$url" || { rm -rf "$tmp"; rig_die "could not fetch $url"; }
	echo "${!sum}  $tmp/go.zip" | sha256sum -c --quiet - || { rm -rf "$tmp"; rig_die "$url: SHA-256 differs from the pinned one"; }
	unzip -q "$tmp/go.zip" -d "$tmp/x"
	# module zips keep no file modes: make the commands executable again, as go does
	chmod +x "$tmp"/x/golang.org/toolchain@*/bin/* "$tmp"/x/golang.org/toolchain@*/pkg/tool/*/*
	rm -rf "$RIG_GO_ROOT"
	mv "$tmp"/x/golang.org/toolchain@* "$RIG_GO_ROOT"
	rm -rf "$tmp"
	PATH=$RIG_GO_ROOT/bin:$PATH
	export GOTOOLCHAIN=local
	rig_log "Go $("$RIG_GO_ROOT/bin/go" env GOVERSION) in $RIG_GO_ROOT"
}

# rig_start PART NAME CMD...: start CMD in its own session, output to
# logs/NAME.log, pid to pids/PART.NAME.pid. The pid file is how `rig down`
# finds exactly this process and nothing else.
rig_start() {
	local part=$1 name=$2
	shift 2
	# without the caller's other descriptors: a test's lock (tests/e2e/run
	# holds them on fd 3 and up) must not live on in a server it restarts
	setsid bash -c 'for fd in /proc/self/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null
		exec "$@"' rig-start "$@" >>"$RIG_HOME/logs/$name.log" 2>&1 </dev/null &
	echo $! >"$RIG_HOME/pids/$part.$name.pid"
}

# rig_wait_port PORT [SECONDS] [NAME]: wait until something listens on 127.0.0.1:PORT.
rig_wait_port() {
	local port=$1 secs=${2:-60} name=${3:-port $1} i
	for ((i = 0; i < secs * 10; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.1
	done
	rig_die "$name did not listen on 127.0.0.1:$port within ${secs}s (logs: $RIG_HOME/logs)"
}

# rig_wait_cmd SECONDS NAME CMD...: wait until CMD succeeds.
rig_wait_cmd() {
	local secs=$1 name=$2 i
	shift 2
	for ((i = 0; i < secs * 5; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	rig_die "$name not ready within ${secs}s (logs: $RIG_HOME/logs)"
}

rig_part_pids() {
	local f
	for f in "$RIG_HOME"/pids/"$1".*.pid; do
		[ -f "$f" ] && cat "$f"
	done
	return 0
}

rig_part_running() {
	local pid any=1
	for pid in $(rig_part_pids "$1"); do
		kill -0 "$pid" 2>/dev/null && any=0
	done
	return $any
}

# rig_stop_part PART: TERM each recorded process group, then KILL what is left.
rig_stop_part() {
	local part=$1 f pid i
	# newest first: the reverse of the start order, so that a server stops
	# before what it depends on (the API server before etcd)
	for f in $(ls -t "$RIG_HOME"/pids/"$part".*.pid 2>/dev/null); do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
			for ((i = 0; i < 100; i++)); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
		fi
		rm -f "$f"
	done
	rm -f "$RIG_HOME/env/$part.env"
}

# Loopback ports, one table so that parts never collide. Override any with
# the environment (e.g. RIG_PORT_APISERVER=36443).
: "${RIG_PORT_ETCD:=23790}" "${RIG_PORT_ETCD_PEER:=23791}"
: "${RIG_PORT_APISERVER:=26443}" "${RIG_PORT_KCM:=26257}" "${RIG_PORT_SCHEDULER:=26259}"
: "${RIG_PORT_FLINK_REST:=28081}"
: "${RIG_PORT_GIT_DAEMON:=29418}" "${RIG_PORT_GIT_HTTPS:=28443}" "${RIG_PORT_GIT_SSH:=22222}"
: "${RIG_PORT_S3:=29000}"
: "${RIG_PORT_PROM:=29090}"
# the pods part: the kubelet listens on the pod bridge's address, the rest on loopback
: "${RIG_PORT_KUBELET:=30250}" "${RIG_PORT_KUBELET_HEALTHZ:=30248}" "${RIG_PORT_PODS_KCM:=30257}"
: "${RIG_PORT_PODS_DNS_HEALTH:=30280}" "${RIG_PORT_PODS_DNS_READY:=30281}" "${RIG_PORT_PODS_APISERVER:=30443}"
: "${RIG_PORT_PODS_GIT:=30418}"
export RIG_PORT_ETCD RIG_PORT_ETCD_PEER RIG_PORT_APISERVER RIG_PORT_KCM RIG_PORT_SCHEDULER RIG_PORT_FLINK_REST \
	RIG_PORT_GIT_DAEMON RIG_PORT_GIT_HTTPS RIG_PORT_GIT_SSH RIG_PORT_S3 RIG_PORT_PROM \
	RIG_PORT_KUBELET RIG_PORT_KUBELET_HEALTHZ RIG_PORT_PODS_KCM RIG_PORT_PODS_DNS_HEALTH RIG_PORT_PODS_DNS_READY RIG_PORT_PODS_APISERVER \
	RIG_PORT_PODS_GIT
