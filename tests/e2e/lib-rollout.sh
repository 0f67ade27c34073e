# Shared by the rollout end-to-end tests (test_rollout*.sh), sourced after
# setting NAME (a short word for the namespace, repository and agent) and,
# optionally, EXTRA_FLINK (more lines for the flink: section of the agent's
# configuration). It makes a namespace, a git repository on the rig's server,
# a work tree to push from and a configuration pointing flink.restUrl at the
# rig's Flink session cluster, and defines the helpers the tests share: one
# FlinkDeployment "counter" running the rig's counter job from S3, session
# deployments without a job, publish, sync_once, journal, job_state,
# status_field, status_file, wait_counter, ours_running, savepoints_of,
# read_crash_points, job_hash, and
# for the daemon agent_config, start_agent, stop_agent, sign. Jobs the test
# started are cancelled, and an agent it started is killed, when it exits.
set -u
: "${FLINKOPS:?}" "${RIG_KUBECONFIG:?}" "${RIG_FLINK_URL:?}" "${RIG_S3_ENDPOINT:?}"
. "$(dirname "${BASH_SOURCE[0]}")/lib-keep.sh"
. "$(dirname "${BASH_SOURCE[0]}")/lib-git.sh" # git_work, publish
K="$RIG_KUBECTL --kubeconfig $RIG_KUBECONFIG"
tmp=$(mktemp -d)
ns=e2e-$NAME-$$
wrapper=
agent=
stop_agent() { agent_kill; } # (agent_kill: below)
cleanup() {
	stop_agent
	# cancel what this test started, so the shared cluster's slots are free:
	# the jobs it noted, and every job a journal in its namespace names
	for cm in $($K -n $ns get configmap -o name 2>/dev/null | grep flink-journal-); do
		$K -n $ns get "$cm" -o jsonpath='{.data.journal\.json}' 2>/dev/null | jq -r '.jobId // empty, .submitJobId // empty'
	done >>"$tmp/ours" 2>/dev/null
	for j in $(curl -s "$RIG_FLINK_URL/jobs/overview" |
		jq -r '.jobs[] | select(.state!="FINISHED" and .state!="CANCELED" and .state!="FAILED") | .jid'); do
		grep -qx "$j" "$tmp/ours" 2>/dev/null && curl -s -X PATCH "$RIG_FLINK_URL/jobs/$j?mode=cancel" >/dev/null
	done
	rm -rf "$tmp"
	# what flinkops wrote there, for the secrets scan
	keep_namespace $ns
	$K delete namespace $ns --wait=false >/dev/null 2>&1
}
trap cleanup EXIT
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; }
$K create namespace $ns >/dev/null
printf '%s' "$RIG_S3_ACCESS_KEY" >"$tmp/access"
git_work "e2e-$NAME-$$"
counter=$tmp/counter

deployment() { # deployment PARALLELISM MODE [EXTRA_ARGS] [SAVEPOINT_DIR]
	cat <<EOF
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: counter, namespace: $ns}
spec:
  image: flink:1.20
  mode: standalone
  flinkVersion: v1_20
  jobManager: {resource: {memory: 1g}}
  taskManager: {resource: {memory: 1g}}
  job:
    jarURI: s3://$RIG_S3_BUCKET/$RIG_S3_TEST_KEY
    entryClass: $RIG_FLINK_JOB_CLASS
    args: [--counter-file, $counter, --report-ms, "100"${3:-}]
    parallelism: $1
    upgradeMode: $2
${4:+    savepointStorage: $4}
EOF
}
# bluegreen_head FALLBACK GRACE [LINES]: a FlinkBlueGreenDeployment "counter"
# up to its template, with catch-up.fallback FALLBACK and the abort grace
# period GRACE (LINES: more of its spec, two spaces in); the caller appends
# the template's spec, four spaces in
bluegreen_head() {
	printf 'apiVersion: flink.apache.org/v1beta1\nkind: FlinkBlueGreenDeployment\n'
	printf 'metadata: {name: counter, namespace: %s}\nspec:\n' "$ns"
	[ -z "${3:-}" ] || printf '%s\n' "$3"
	printf '  configuration:\n    flinkops.bluegreen.catch-up.fallback: %s\n' "$1"
	printf '    kubernetes.operator.bluegreen.abort.grace-period: %s\n  template:\n' "$2"
}
# status FIELD: a field of the status file the agent pushed, as `flinkops status` reads it
status_field() {
	"$FLINKOPS" status --repo "$repo" --cache "$tmp/scache" -o json 2>/dev/null |
		jq -r --arg n counter --arg f "$1" '.deployments[] | select(.name==$n) | .[$f] // ""'
}
status_file() {
	git -C "$tmp/work" fetch -q origin main 2>/dev/null
	git -C "$tmp/work" show "origin/main:status/$ns/counter.yaml" 2>/dev/null
}
cat >"$tmp/config.yaml" <<EOF
repository: {url: "file://$repo", path: jobs, cacheDir: $tmp/cache}
kubernetes: {kubeconfig: $RIG_KUBECONFIG}
agent: {name: e2e-$NAME-$$}
flink:
  restUrl: $RIG_FLINK_URL
  jarCacheDir: $tmp/jars
  s3Endpoint: $RIG_S3_ENDPOINT
  s3Region: $RIG_S3_REGION
  s3AccessKeyFile: $tmp/access
  s3SecretKeyFile: $RIG_S3_SECRET_KEY_FILE
  savepointTimeout: 30s
  runningTimeout: 60s
${EXTRA_FLINK:-}
EOF
sync_once() {
	"$FLINKOPS" sync --config "$tmp/config.yaml" --once -o json >"$tmp/out.json" 2>"$tmp/err"
	rc=$?
}
# session NAME [TASKMANAGERS]: a FlinkDeployment without a job (objects only)
session() {
	cat <<EOF
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: $1, namespace: $ns}
spec:
  image: flink:1.20
  mode: standalone
  flinkVersion: v1_20
  jobManager: {resource: {memory: 1g}}
  taskManager: {resource: {memory: 1g}, replicas: ${2:-1}}
  flinkConfiguration:
    # the rig's one Flink runs every test's jobs, which a cluster mapped to
    # it sees as jobs no FlinkSessionJob manages: they would hold its delete
    kubernetes.operator.session.deletion.block-on-unmanaged-jobs: "false"
EOF
}
# ours_running: how many jobs this test started run now
ours_running() {
	local n=0
	for j in $(curl -s "$RIG_FLINK_URL/jobs/overview" | jq -r '.jobs[] | select(.state=="RUNNING") | .jid'); do
		grep -qx "$j" "$tmp/ours" && n=$((n + 1))
	done
	echo $n
}
# savepoints_of JOB: how many savepoints of JOB the rig's Flink wrote
savepoints_of() { ls "$RIG_FLINK_SAVEPOINT_DIR" 2>/dev/null | grep -c "^savepoint-${1:0:6}-"; }
journal() { $K -n $ns get configmap flink-journal-counter -o jsonpath='{.data.journal\.json}' | jq -r "$1"; }
job_state() { curl -s "$RIG_FLINK_URL/jobs/overview" | jq -r --arg j "$1" '.jobs[] | select(.jid==$j) | .state'; }
# counter_grows_to N: until the running job's counter is at least N (30 s at most)
counter_grows_to() {
	for _ in $(seq 1 300); do
		[ "$(cat "$counter" 2>/dev/null || echo 0)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# restored JOB: the path Flink says JOB started from
restored() { curl -s --max-time 5 "$RIG_FLINK_URL/jobs/$1/checkpoints" | jq -r '.latest.restored.external_path // empty'; }
# wait_counter: the first value the (new) job writes after the file was removed
wait_counter() {
	for _ in $(seq 1 150); do
		[ -s "$counter" ] && { cat "$counter"; return; }
		sleep 0.1
	done
	echo 0
}

# agent_start [ARGS...]: run `flinkops agent` on the test's configuration in
# the background. Sets wrapper (the e2e runner's wrapper around the binary,
# or the binary itself), agent (the flinkops process), log (its stderr, read
# live from the file the wrapper writes) and, once it listens, url. The
# configuration must name agent.listen (port 0 is fine).
# agent_kill: SIGKILL both, never anything else.
wrapper=
agent=
url=
agent_start() {
	"$FLINKOPS" agent --config "$tmp/config.yaml" "$@" >"$tmp/agent.out" 2>"$tmp/agent.err" &
	wrapper=$!
	agent=$(child_binary "$wrapper")
	log=$(readlink "/proc/$agent/fd/2")
	local port=
	for _ in $(seq 1 100); do
		port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" 2>/dev/null | head -1)
		[ -n "$port" ] && break
		sleep 0.1
	done
	url=${port:+http://127.0.0.1:$port}
}
# child_binary PID: the process that runs the binary under test for PID
# (started as `"$FLINKOPS" ... &`): its child once that child has exec'd
# the binary (its stderr is then the log file), or PID itself when
# $FLINKOPS is the binary, not the e2e wrapper. A child still running
# the shell (forked, not yet exec'd) is not taken: its descriptors are
# not yet the binary's. Nor is env(1) on its way to the shell (a wrapper
# that starts with "#!/usr/bin/env bash" runs env first): taking it once
# made a test watch the wrapper's stderr for the agent's log.
child_binary() {
	local shell envbin c exe
	shell=$(readlink "/proc/$$/exe")
	envbin=$(readlink -f "$(command -v env)")
	for _ in $(seq 1 100); do
		exe=$(readlink "/proc/$1/exe" 2>/dev/null)
		[ -n "$exe" ] && [ "$exe" != "$shell" ] && [ "$exe" != "$envbin" ] && { echo "$1"; return; }
		for c in $(pgrep -P "$1"); do
			exe=$(readlink "/proc/$c/exe" 2>/dev/null) || continue
			[ -n "$exe" ] && [ "$exe" != "$shell" ] && [ "$exe" != "$envbin" ] && { echo "$c"; return; }
		done
		sleep 0.1
	done
	echo "$1"
}
agent_kill() {
	# runs in the EXIT trap under set -u: an unbound name there would end
	# the trap before the cleanup (jobs left running, namespace kept)
	[ -n "${agent:-}" ] && keep_metrics "${url:-}"
	[ -n "${agent:-}" ] && kill -KILL "$agent" 2>/dev/null
	[ -n "${wrapper:-}" ] && kill -KILL "$wrapper" 2>/dev/null
	agent=
	wrapper=
}
# passes_ended: how many passes the running agent has ended
passes_ended() { grep -c 'pass [0-9]*: ' "$log"; }
# wait_passes_ended N [SECONDS]: until N passes have ended (30 s by default)
wait_passes_ended() {
	for _ in $(seq 1 $((${2:-30} * 10))); do
		[ "$(passes_ended)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# wait_exit PID SECONDS: wait for the child PID to exit, at most SECONDS;
# its exit status, or 124 when it was still running and was killed (a
# process that hangs fails its test, it does not hang the suite)
wait_exit() {
	local i
	for i in $(seq 1 $(($2 * 10))); do
		[ -e "/proc/$1" ] || break
		[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ] && break
		sleep 0.1
	done
	if [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; then
		pkill -KILL -P "$1" 2>/dev/null
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		return 124
	fi
	wait "$1"
}
# agent_term: SIGTERM the agent and wait for it; sets term_rc (its exit
# status) and term_ms (how long it took to exit)
agent_term() {
	local t0
	t0=$(date +%s%3N)
	keep_metrics "${url:-}"
	kill -TERM "$agent"
	# the grace period is 120 s: past 150 s the agent is killed
	wait_exit "$wrapper" 150
	term_rc=$?
	term_ms=$(($(date +%s%3N) - t0))
	agent=
	wrapper=
}
# start_counter [EXTRA_ARGS]: the counter job at parallelism 1 in savepoint
# mode, deployed by one `sync --once`; sets job and reports it RUNNING
start_counter() {
	deployment 1 savepoint "${1:-}" >"$tmp/work/jobs/counter.yaml"
	publish "counter job" >/dev/null
	sync_once
	job=$(journal .jobId)
	echo "$job" >>"$tmp/ours"
	[ $rc = 0 ] && [ "$(job_state "$job")" = RUNNING ] && ok "job $job RUNNING" || fail "create: rc=$rc $(head -3 "$tmp/err")"
}
# job_hash COMMIT: the flinkops.io/job-hash the counter's spec at COMMIT renders to
job_hash() {
	git -C "$tmp/work" show "$1:jobs/counter.yaml" >"$tmp/at.yaml"
	"$FLINKOPS" render -o json "$tmp/at.yaml" 2>/dev/null |
		jq -r '[.items[] | .metadata.annotations["flinkops.io/job-hash"] // empty][0] // empty'
}
# read_crash_points: sets points to the crash points `flinkops sync
# --crash-points` names, one a line; false (and a FAIL) when the list is
# empty or lacks one of the points known when this was written: a sweep
# over an empty or short list would pass without testing. The list may grow.
# read_crash_points [application]: the points a session cluster's rollout
# passes (the default), or an application cluster's: its JobManager runs
# the job, so it has no jar to upload or run, and its start is applied.
read_crash_points() {
	local want missing= all path=${1:-session}
	all=$("$FLINKOPS" sync --crash-points)
	for want in stopping cancelling savepoint-taken applied uploaded submitted idle stop-sent cancel-sent run-sent start-applied; do
		grep -qx -- "$want" <<<"$all" || missing="$missing $want"
	done
	if [ "$path" = application ]; then
		points=$(grep -vxE 'uploaded|run-sent' <<<"$all")
	else
		points=$(grep -vxE 'start-applied' <<<"$all")
	fi
	if [ -n "$points" ] && [ -z "$missing" ]; then
		ok "sync --crash-points names $(wc -l <<<"$all") points; the $path path passes $(wc -l <<<"$points"): $(tr '\n' ' ' <<<"$points")"
		return 0
	fi
	fail "sync --crash-points: missing:${missing} (got: $(tr '\n' ' ' <<<"$points"))"
	return 1
}
# events REASON: the messages of the Kubernetes Events of that reason on
# counter's JobManager StatefulSet, one a line
events() {
	$K -n $ns get events --field-selector "involvedObject.name=counter-jobmanager,reason=$1" \
		-o jsonpath='{range .items[*]}{.message}{"\n"}{end}'
}

# agent_config INTERVAL: the configuration runs the daemon too: a pass every
# INTERVAL, a loopback port the kernel picks, webhooks signed with $secret
secret=$(openssl rand -hex 24)
note_secret "webhook secret" "$secret"
printf '%s\n' "$secret" >"$tmp/secret"
agent_config() {
	sed -i "s|^repository: {|repository: {interval: $1, |; s|^agent: {name: \(.*\)}|agent: {name: \1, listen: \"127.0.0.1:0\", webhookSecretFile: $tmp/secret}|" \
		"$tmp/config.yaml"
}
sign() { printf '%s' "$1" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1; }
# start_agent: agent_start, with port set; true once it listens
start_agent() {
	agent_start "$@"
	port=${url##*:}
	[ -n "$url" ]
}
