#!/usr/bin/env bash
# rig: k8s git flink s3
# Two agents, one Lease: the same configuration but for each its own
# identity and Kubernetes user (rig-agent-a, rig-agent-b), short timings
# (lease 6 s, renew deadline 4 s, retry 1 s), a 10 min interval (so that only
# a webhook explains a pass), one FlinkDeployment with a job. One agent leads
# and deploys; both are Ready. A pushed upgrade, its signed push sent to the
# STANDBY: 202, recorded on the Lease, and the leader's webhook pass starts
# within seconds; a replay of the delivery to either replica is 200 "already
# seen" and records nothing more. The leader is
# SIGSTOPped mid-rollout (right after it sent the stop with a savepoint); the other takes over within leaseDuration + 2 x
# retryPeriod and finishes the rollout; the first, SIGCONTed, makes no
# further write and exits 3. From the API server's audit log: writes to
# ConfigMaps, Services and StatefulSets of the test's namespace come from
# one agent at a time (one switch, old leader to new). From Flink, polled
# throughout: never two live jobs of the deployment. SIGTERM on the new
# leader releases the Lease and exits 0. Finally a third replica whose API
# server is unreachable: a push to it is 503 with Retry-After, not
# remembered (the redelivery is 503 again), and the Lease is left as it was.
NAME=leader
. "$(dirname "$0")/lib-rollout.sh"
: "${RIG_KUBECONFIG_AGENT_A:?}" "${RIG_KUBECONFIG_AGENT_B:?}" "${RIG_KUBE_AUDIT_LOG:?}"

LEASE_MS=6000 RENEW_MS=4000 RETRY_MS=1000
lease=e2e-leader-$$
jobname=e2e-leader-$$
ms() { date +%s%3N; }

# agent-c's API server: nothing listens on port 1
sed 's|^\( *server:\).*|\1 https://127.0.0.1:1|' "$RIG_KUBECONFIG_AGENT_B" >"$tmp/agent-c.kubeconfig"
declare -A kubeconfig=([a]=$RIG_KUBECONFIG_AGENT_A [b]=$RIG_KUBECONFIG_AGENT_B [c]=$tmp/agent-c.kubeconfig)
declare -A user=([a]=rig-agent-a [b]=rig-agent-b)
declare -A awrap=() apid=() alog=() # per agent (a, b, c); not the single-agent helpers' wrapper, agent and log
for x in a b c; do
	sed -e "s|kubeconfig: $RIG_KUBECONFIG}|kubeconfig: ${kubeconfig[$x]}}|" \
		-e "s|cacheDir: $tmp/cache}|cacheDir: $tmp/cache-$x}|" -e "s|jarCacheDir: $tmp/jars|jarCacheDir: $tmp/jars-$x|" \
		-e "s|^repository: {|repository: {interval: 10m, |" \
		-e "s|^agent: {name: \(.*\)}|agent: {name: \1, listen: \"127.0.0.1:0\", webhookSecretFile: $tmp/secret, leaderElection: {enabled: true, leaseName: $lease, namespace: $ns, identity: agent-$x, leaseDuration: ${LEASE_MS}ms, renewDeadline: ${RENEW_MS}ms, retryPeriod: ${RETRY_MS}ms}}|" \
		"$tmp/config.yaml" >"$tmp/config-$x.yaml"
done

poller=
stop_all() {
	# the agents run under the e2e runner's wrapper: end them, never anything else
	for x in a b c; do
		[ -n "${apid[$x]:-}" ] && kill -CONT "${apid[$x]}" 2>/dev/null && kill -KILL "${apid[$x]}" 2>/dev/null
		[ -n "${awrap[$x]:-}" ] && kill -KILL "${awrap[$x]}" 2>/dev/null
	done
	[ -n "$poller" ] && kill "$poller" 2>/dev/null
	wait 2>/dev/null
}
trap 'stop_all; cleanup' EXIT

start_agent() { # start_agent a|b
	local x=$1
	# FLINKOPS_PAUSE_AFTER holds a pass for 5 s right after the stop with a
	# savepoint is sent: the SIGSTOP lands at a known point of the upgrade
	FLINKOPS_PAUSE_AFTER=stop-sent "$FLINKOPS" agent --config "$tmp/config-$x.yaml" >"$tmp/agent-$x.out" 2>"$tmp/agent-$x.err" &
	awrap[$x]=$!
	apid[$x]=$(child_binary "${awrap[$x]}")
	alog[$x]=$(readlink "/proc/${apid[$x]}/fd/2") # the wrapper keeps the agent's log in a file: read it live
}

# Flink, polled throughout: the live jobs of this deployment (by job name),
# one "TIME COUNT" line a poll; every job id seen is noted for cleanup
live='select(.state!="FINISHED" and .state!="CANCELED" and .state!="FAILED")'
(
	while :; do
		ov=$(curl -s --max-time 5 "$RIG_FLINK_URL/jobs/overview")
		jq -r --arg n "$jobname" '.jobs[] | select(.name==$n) | .jid' <<<"$ov" >>"$tmp/ours" 2>/dev/null
		echo "$(ms) $(jq --arg n "$jobname" "[.jobs[] | select(.name==\$n) | $live] | length" <<<"$ov" 2>/dev/null)"
		sleep 0.2
	done >"$tmp/jobs.log"
) &
poller=$!

extra=", --name, $jobname"
deployment 1 savepoint "$extra" >"$tmp/work/jobs/counter.yaml"
commit1=$(publish "counter")
start_agent a
start_agent b

# --- one leader -----------------------------------------------------------------
leader=
for _ in $(seq 1 300); do
	for x in a b; do grep -q "acquired lease $ns/$lease as agent-$x" "${alog[$x]}" 2>/dev/null && leader=$x; done
	[ -n "$leader" ] && break
	sleep 0.1
done
other=$([ "$leader" = a ] && echo b || echo a)
if [ -n "$leader" ] && ! grep -q "acquired lease" "${alog[$other]}" &&
	$K -n $ns get lease $lease -o jsonpath='{.spec.holderIdentity}' | grep -qx "agent-$leader"; then
	ok "agent-$leader holds Lease $ns/$lease; agent-$other stands by"
else
	fail "election: leader=$leader; $(tail -3 "${alog[a]}") / $(tail -3 "${alog[b]}")"
fi

running() { curl -s "$RIG_FLINK_URL/jobs/overview" | jq -r --arg n "$jobname" '.jobs[] | select(.name==$n and .state=="RUNNING") | .jid'; }
job1=
for _ in $(seq 1 600); do
	job1=$(running)
	[ -n "$job1" ] && [ "$(status_field observedCommit)" = "$commit1" ] && break
	sleep 0.2
done
[ -n "$job1" ] && [ "$(status_field phase)" = Running ] &&
	ok "the leader deployed the counter: job $job1 RUNNING, status Running at ${commit1:0:7}" ||
	fail "first deployment: job=$job1 phase=$(status_field phase) $(grep -i 'error\|fail' "${alog[$leader]}" | tail -3)"
passes_other=$(grep -c 'pass [0-9]* started' "${alog[$other]}")
[ "$passes_other" = 0 ] && ok "the standby ran no pass" || fail "the standby ran $passes_other passes"

# --- both Ready; an upgrade pushed, its webhook sent to the standby ----------
# README: a standby is Ready (it reads the Lease); a push it receives is
# recorded on the Lease (202) and the leader runs the pass
port_of() { sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "${alog[$1]}" | head -1; }
sport=$(port_of "$other") lport=$(port_of "$leader")
sready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$sport/readyz")
lready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$lport/readyz")
hook() { # hook PORT DELIVERY BODY: the status of a signed GitHub push
	curl -s -o /dev/null -w '%{http_code}' --max-time 20 -X POST "http://127.0.0.1:$1/webhook" -H 'X-GitHub-Event: push' \
		-H "X-GitHub-Delivery: $2" -H "X-Hub-Signature-256: sha256=$(sign "$3")" --data-binary "$3"
}
sync_requested() { $K -n $ns get lease $lease -o jsonpath='{.metadata.annotations.flinkops\.io/sync-requested}'; }
deployment 1 savepoint ", --rate, \"150\"$extra" >"$tmp/work/jobs/counter.yaml"
commit2=$(publish "counter: rate 150")
body='{"ref":"refs/heads/main","after":"'$commit2'"}'
lpasses=$(grep -c 'pass [0-9]* started' "${alog[$leader]}")
t_hook=$(ms)
scode=$(hook "$sport" "e2e-$$-1" "$body")
t_pass=
for _ in $(seq 1 100); do
	[ "$(grep -c 'pass [0-9]* started (webhook)' "${alog[$leader]}")" = 1 ] && t_pass=$(ms) && break
	sleep 0.1
done
requested=$(sync_requested)
passes_other=$(grep -c 'pass [0-9]* started' "${alog[$other]}")
[ "$sready" = 200 ] && [ "$lready" = 200 ] && [ "$scode" = 202 ] && [ -n "$requested" ] && [ -n "$t_pass" ] &&
	[ $((t_pass - t_hook)) -le 5000 ] && [ "$passes_other" = 0 ] &&
	ok "/readyz 200 on both; a signed push to the standby: 202, recorded on the Lease ($requested), the leader's webhook pass started $((t_pass - t_hook)) ms later (its passes before: $lpasses, interval 10 min); the standby ran no pass" ||
	fail "standby: readyz $sready (leader $lready), push $scode, Lease annotation '$requested', leader's webhook pass ${t_pass:+after $((t_pass - t_hook)) ms}, standby passes $passes_other; $(grep -i 'lease\|webhook' "${alog[$other]}" | tail -3)"

# a provider's redelivery (the same delivery id and body) to either replica
rs=$(hook "$sport" "e2e-$$-1" "$body")
rl=$(hook "$lport" "e2e-$$-1" "$body")
[ "$rs" = 200 ] && [ "$rl" = 200 ] && [ "$(sync_requested)" = "$requested" ] &&
	ok "the same delivery again: 200 from the standby and from the leader (acted on through the Lease), nothing recorded" ||
	fail "replay: standby $rs, leader $rl, Lease annotation '$(sync_requested)' (was '$requested')"

# --- the upgrade; the leader is stopped in the middle of it ------------------
for _ in $(seq 1 300); do
	grep -q "stopping job $job1 with a savepoint" "${alog[$leader]}" && break
	sleep 0.1
done
kill -STOP "${apid[$leader]}"
t_stop=$(ms)
step=$(journal '.step // "idle"' 2>/dev/null)
[ "$step" = stopping ] && ok "agent-$leader SIGSTOPped during the upgrade, its savepoint in flight (journal step: $step)" ||
	fail "the upgrade did not start: step=$step"

# the takeover, as the API server saw it: the other's first successful write of the Lease
ts='(.requestReceivedTimestamp | capture("^(?<s>[^.]+)\\.(?<f>[0-9]+)Z$")) as $t | ((($t.s + "Z") | fromdate) * 1000 + (($t.f + "000")[0:3] | tonumber))'
t_take=
for _ in $(seq 1 300); do
	t_take=$(jq -r --arg u "${user[$other]}" --arg ns "$ns" --arg l "$lease" --argjson t0 "$t_stop" \
		"select(.user.username==\$u and .objectRef.resource==\"leases\" and .objectRef.namespace==\$ns and .objectRef.name==\$l and .responseStatus.code<300) | $ts | select(. >= \$t0)" \
		"$RIG_KUBE_AUDIT_LOG" 2>/dev/null | head -1)
	[ -n "$t_take" ] && break
	sleep 0.1
done
bound=$((LEASE_MS + 2 * RETRY_MS))
if [ -n "$t_take" ] && [ $((t_take - t_stop)) -le $bound ] && grep -q "acquired lease $ns/$lease as agent-$other" "${alog[$other]}"; then
	ok "agent-$other took over $((t_take - t_stop)) ms after the SIGSTOP (bound: lease $LEASE_MS + 2 x retry $RETRY_MS = $bound ms)"
else
	fail "takeover: ${t_take:-none} - $t_stop > $bound ms; $(grep leader "${alog[$other]}" | tail -3)"
fi

job2=
for _ in $(seq 1 900); do
	job2=$(running)
	[ -n "$job2" ] && [ "$job2" != "$job1" ] && [ "$(status_field observedCommit)" = "$commit2" ] && break
	sleep 0.2
done
if [ -n "$job2" ] && [ "$job2" != "$job1" ] && [ "$(status_field phase)" = Running ] &&
	[ "$(status_field observedCommit)" = "$commit2" ] && [ -n "$(status_field lastSavepoint)" ]; then
	ok "agent-$other finished the rollout: job $job2 RUNNING from savepoint $(basename "$(status_field lastSavepoint)"), status at ${commit2:0:7}"
else
	fail "rollout after takeover: job2=$job2 phase=$(status_field phase) observed=$(status_field observedCommit) $(grep -i 'error\|fail' "${alog[$other]}" | tail -3)"
fi

# --- the old leader wakes up: no write, exit 3 -------------------------------
t_cont=$(ms)
kill -CONT "${apid[$leader]}"
wait_exit "${awrap[$leader]}" 30
rc=$?
dt=$(($(ms) - t_cont))
apid[$leader]=
awrap[$leader]=
# what its loop tried meanwhile, if anything, the fence refused
fenced=$(grep -c 'not the leader: lease not renewed' "${alog[$leader]}")
[ $rc = 3 ] && [ $dt -le 10000 ] && grep -q "lost lease $ns/$lease as agent-$leader" "${alog[$leader]}" &&
	ok "agent-$leader, SIGCONTed, found the Lease lost and exited 3 after $dt ms ($fenced writes refused by the fence): $(grep -o 'lost lease.*' "${alog[$leader]}" | head -1 | cut -c1-100)" ||
	fail "old leader after SIGCONT: rc=$rc after $dt ms $(tail -3 "${alog[$leader]}")"

# --- the audit log ------------------------------------------------------------
writes='select(.objectRef.namespace==$ns and (.objectRef.resource=="configmaps" or .objectRef.resource=="services" or .objectRef.resource=="statefulsets") and (.verb=="create" or .verb=="update" or .verb=="patch" or .verb=="delete") and (.user.username=="rig-agent-a" or .user.username=="rig-agent-b"))'
jq -r --arg ns "$ns" "$writes | \"\\($ts) \\(.user.username) \\(.verb) \\(.objectRef.resource)/\\(.objectRef.name) \\(.responseStatus.code)\"" \
	"$RIG_KUBE_AUDIT_LOG" | sort -n >"$tmp/writes"
n_writes=$(wc -l <"$tmp/writes")
switches=$(awk 'NR > 1 && $2 != prev { n++ } { prev = $2 } END { print n + 0 }' "$tmp/writes")
first=$(head -1 "$tmp/writes" | cut -d' ' -f2)
old_after_stop=$(awk -v u="${user[$leader]}" -v t="$t_stop" '$2 == u && $1 >= t' "$tmp/writes" | wc -l)
new_before_take=$(awk -v u="${user[$other]}" -v t="${t_take:-0}" '$2 == u && $1 < t' "$tmp/writes" | wc -l)
if [ "$n_writes" -gt 0 ] && [ "$switches" = 1 ] && [ "$first" = "${user[$leader]}" ] && [ "$old_after_stop" = 0 ] &&
	[ "$new_before_take" = 0 ]; then
	ok "audit: $n_writes writes to ConfigMaps/Services/StatefulSets in $ns, $(grep -c "${user[$leader]}" "$tmp/writes") by ${user[$leader]} then $(grep -c "${user[$other]}" "$tmp/writes") by ${user[$other]}: one writer at a time, none by the old leader after its SIGSTOP"
else
	fail "audit: $n_writes writes, $switches switches, first $first, old leader after stop $old_after_stop, new before takeover $new_before_take"
	sed 's/^/    /' "$tmp/writes" | tail -20
fi
lease_after=$(jq -r --arg u "${user[$leader]}" --arg ns "$ns" --argjson t0 "$t_cont" \
	"select(.user.username==\$u and .objectRef.namespace==\$ns and .verb!=\"get\") | $ts as \$t | select(\$t >= \$t0) | \"\\(.verb) \\(.objectRef.resource) \\(.responseStatus.code)\"" \
	"$RIG_KUBE_AUDIT_LOG")
[ -z "$lease_after" ] && ok "audit: no request written by ${user[$leader]} after its SIGCONT, not even to the Lease" ||
	fail "audit: ${user[$leader]} after SIGCONT: $lease_after"

# --- Flink: never two live jobs of the deployment --------------------------------
kill "$poller" 2>/dev/null
wait "$poller" 2>/dev/null
poller=
polls=$(grep -c . "$tmp/jobs.log")
most=$(awk '$2 != "" && $2 > m { m = $2 } END { print m + 0 }' "$tmp/jobs.log")
gap=$(awk 'NR > 1 && $1 - prev > g { g = $1 - prev } { prev = $1 } END { print g + 0 }' "$tmp/jobs.log")
during=$(awk -v a="$t_stop" -v b="$t_cont" '$1 >= a && $1 <= b' "$tmp/jobs.log" | wc -l)
[ "$during" -ge 5 ] && [ "$most" = 1 ] &&
	ok "Flink, polled $polls times ($during between the SIGSTOP and the SIGCONT, at most $gap ms apart): never more than one live job named $jobname" ||
	fail "Flink: at most $most live jobs in $polls polls ($during during the takeover)"

# --- SIGTERM: the new leader releases the Lease ----------------------------------
t0=$(ms)
kill -TERM "${apid[$other]}"
wait_exit "${awrap[$other]}" 150
rc=$?
apid[$other]=
awrap[$other]=
holder=$($K -n $ns get lease $lease -o jsonpath='{.spec.holderIdentity}')
dur=$($K -n $ns get lease $lease -o jsonpath='{.spec.leaseDurationSeconds}')
trans=$($K -n $ns get lease $lease -o jsonpath='{.spec.leaseTransitions}')
[ $rc = 0 ] && [ -z "$holder" ] && [ "$dur" = 1 ] && grep -q "released lease $ns/$lease" "${alog[$other]}" &&
	ok "SIGTERM: agent-$other exited 0 after $(($(ms) - t0)) ms and released the Lease (no holder, leaseDurationSeconds 1, transitions $trans)" ||
	fail "release: rc=$rc holder=$holder duration=$dur $(tail -3 "${alog[$other]}")"

# --- a standby that cannot reach the API server: 503, nothing remembered -----
before=$(sync_requested)
start_agent c
cport=
for _ in $(seq 1 100); do
	cport=$(port_of c)
	[ -n "$cport" ] && break
	sleep 0.1
done
body='{"ref":"refs/heads/main","after":"'$commit2'"}'
answer=$(curl -s -D - -o /dev/null --max-time 20 -X POST "http://127.0.0.1:$cport/webhook" -H 'X-GitHub-Event: push' \
	-H "X-GitHub-Delivery: e2e-$$-2" -H "X-Hub-Signature-256: sha256=$(sign "$body")" --data-binary "$body" | tr -d '\r')
ccode=$(head -1 <<<"$answer" | cut -d' ' -f2)
after=$(sed -n 's/^retry-after: *//Ip' <<<"$answer")
again=$(hook "$cport" "e2e-$$-2" "$body")
[ "$ccode" = 503 ] && [ -n "$after" ] && [ "$again" = 503 ] && [ "$(sync_requested)" = "$before" ] &&
	ok "a standby without its API server: a signed push 503 (Retry-After: $after), its redelivery 503 again (not remembered), the Lease untouched" ||
	fail "unreachable API: push $ccode Retry-After '$after', again $again, Lease annotation '$(sync_requested)' (was '$before'); $(grep -i 'lease\|webhook' "${alog[c]}" | tail -3)"
