#!/usr/bin/env bash
# rig: k8s git flink
# lane: pods
# A leader that lost its Lease between building its status commit and
# pushing it pushes nothing (issue 20, item 13). Two agents, one Lease
# (lease 6 s, renew deadline 4 s, retry 1 s), one FlinkDeployment without a
# job (no Flink job is started, so the test keeps off the shared Flink's
# slots). Agent a leads, builds its first status commit and is held right
# before the push (FLINKOPS_PAUSE_AFTER=status-push, after the pass checked
# the Lease), then SIGSTOPped; agent b takes the Lease over and pushes its
# own status. a, SIGCONTed, resumes at the push: the fence, checked again
# before each push attempt, refuses it; a's pass ends without a status
# commit, the branch stays at b's commit, and a exits 3.
NAME=fence
. "$(dirname "$0")/lib-rollout.sh"
: "${RIG_KUBECONFIG_AGENT_A:?}" "${RIG_KUBECONFIG_AGENT_B:?}"

LEASE_MS=6000 RENEW_MS=4000 RETRY_MS=1000
lease=e2e-fence-$$
declare -A kubeconfig=([a]=$RIG_KUBECONFIG_AGENT_A [b]=$RIG_KUBECONFIG_AGENT_B)
declare -A awrap=() apid=() alog=()
for x in a b; do
	sed -e "s|kubeconfig: $RIG_KUBECONFIG}|kubeconfig: ${kubeconfig[$x]}}|" \
		-e "s|cacheDir: $tmp/cache}|cacheDir: $tmp/cache-$x}|" -e "s|jarCacheDir: $tmp/jars|jarCacheDir: $tmp/jars-$x|" \
		-e "s|^repository: {|repository: {interval: 10m, |" \
		-e "s|^agent: {name: \(.*\)}|agent: {name: \1, listen: \"127.0.0.1:0\", leaderElection: {enabled: true, leaseName: $lease, namespace: $ns, identity: agent-$x, leaseDuration: ${LEASE_MS}ms, renewDeadline: ${RENEW_MS}ms, retryPeriod: ${RETRY_MS}ms}}|" \
		"$tmp/config.yaml" >"$tmp/config-$x.yaml"
done
stop_all() {
	for x in a b; do
		[ -n "${apid[$x]:-}" ] && kill -CONT "${apid[$x]}" 2>/dev/null && kill -KILL "${apid[$x]}" 2>/dev/null
		[ -n "${awrap[$x]:-}" ] && kill -KILL "${awrap[$x]}" 2>/dev/null
	done
	wait 2>/dev/null
}
trap 'stop_all; cleanup' EXIT
start_one() { # start_one a|b [ENV=VALUE...]
	local x=$1
	shift
	env "$@" "$FLINKOPS" agent --config "$tmp/config-$x.yaml" >"$tmp/agent-$x.out" 2>"$tmp/agent-$x.err" &
	awrap[$x]=$!
	apid[$x]=$(child_binary "${awrap[$x]}")
	alog[$x]=$(readlink "/proc/${apid[$x]}/fd/2")
}
wait_log() { # wait_log a|b PATTERN SECONDS
	for _ in $(seq 1 $(($3 * 10))); do
		grep -q "$2" "${alog[$1]}" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
tip() { git ls-remote "file://$repo" refs/heads/main | cut -f1; }

session web >"$tmp/work/jobs/web.yaml"
commit1=$(publish "a session cluster")
start_one a FLINKOPS_PAUSE_AFTER=status-push
if wait_log a "acquired lease $ns/$lease as agent-a" 30 && wait_log a 'paused for 5 s at "status-push"' 60; then
	kill -STOP "${apid[a]}"
	ok "agent-a leads and is held with its first status commit built, right before the push; SIGSTOPped there"
else
	fail "agent-a never reached the status push: $(tail -3 "${alog[a]}")"
fi
before=$(tip)

start_one b
if wait_log b "acquired lease $ns/$lease as agent-b" 30 && wait_log b 'status committed' 60; then
	ok "agent-b took the Lease over and pushed its status ($(grep -o 'status committed [0-9a-f]*' "${alog[b]}" | head -1))"
else
	fail "agent-b: no takeover or no status: $(tail -3 "${alog[b]}")"
fi
tip_b=$(tip)

kill -CONT "${apid[a]}"
wait_exit "${awrap[a]}" 30
rc=$?
apid[a]=
awrap[a]=
pass_line=$(grep -o 'pass 1: .*' "${alog[a]}" | head -1)
if [ $rc = 3 ] && grep -q "the lease was lost before status push attempt 1 of 5; nothing more is pushed" "${alog[a]}" &&
	[ -n "$pass_line" ] && ! grep -q 'status committed' "${alog[a]}" && [ "$(tip)" = "$tip_b" ] &&
	[ "$tip_b" != "$before" ]; then
	ok "agent-a, SIGCONTed at the push: refused by the fence (\"$(grep -o 'the lease was lost before status push attempt 1 of 5' "${alog[a]}" | head -1)\"), its pass ended without a status commit, the branch is still at agent-b's ${tip_b:0:7}; exit 3"
else
	fail "agent-a after SIGCONT: rc=$rc pass='$pass_line' tip $(tip | cut -c1-7) (agent-b's ${tip_b:0:7}, before ${before:0:7}); $(grep -i 'lease\|status' "${alog[a]}" | tail -4)"
fi
