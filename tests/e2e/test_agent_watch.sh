#!/usr/bin/env bash
# rig: k8s git flink s3
# lane: alone
# The daemon's watched inventory against the rig's real API server, as
# identity rig-agent-c, every request of which the audit log records.
# Three FlinkDeployments without jobs (18 objects). The agent starts with
# FLINKOPS_FAULT_WATCH_VERSION=1, so each watch resumes once from a version
# the API server has compacted away and gets its real 410 Gone: every
# watch lists again. Then:
#   - a pass that changes nothing (a webhook's, which fetches git) sends no
#     request to the API server: the audit log has none between its start
#     and its end, and the pass says its LISTs came from the watch;
#   - a TaskManager StatefulSet scaled with kubectl, and a Service deleted
#     with kubectl, are restored within 2 s, by a pass the watch started;
#   - the agent is SIGSTOPped, the API server restarted (killed, started
#     on the same etcd), a StatefulSet scaled meanwhile, the agent
#     SIGCONTed: its broken watches list again, find what they missed and
#     the pass restores it; a pass meanwhile lists for real, so none acts
#     on what the broken watches held; afterwards a no-op pass is served
#     from the watch again;
#   - nothing was deleted along the way; SIGTERM exits 0 within 10 s.
NAME=watch
. "$(dirname "$0")/lib-rollout.sh"
. "$(dirname "$0")/lib-agent.sh"
: "${RIG_KUBECONFIG_AGENT_C:?}" "${RIG_KUBE_AUDIT_LOG:?}"
RIG=$(dirname "$0")/../rig/rig

agent_config 10m
sed -i "s|kubeconfig: $RIG_KUBECONFIG}|kubeconfig: $RIG_KUBECONFIG_AGENT_C}|" "$tmp/config.yaml"
for n in w1 w2 w3; do session $n >"$tmp/work/jobs/$n.yaml"; done
commit=$(publish "three deployments")

# the requests rig-agent-c made, but its watches (which stay open)
requests() {
	grep -F '"rig-agent-c"' "$RIG_KUBE_AUDIT_LOG" | jq -c 'select(.verb != "watch" and .stage == "ResponseComplete")
		| [.verb, .objectRef.resource, (.objectRef.name // "")]'
}
objects() { $K -n $ns get configmap,service,statefulset -l app.kubernetes.io/managed-by=flinkops -o name | wc -l; }
replicas() { $K -n $ns get sts "$1" -o jsonpath='{.spec.replicas}'; }
# noop_pass: push a commit that changes no manifest, announce it with a
# signed webhook and wait for its pass to end; line has that pass's last
# log line, code the webhook's answer
noop_pass() {
	local n body mark
	echo "$RANDOM" >"$tmp/work/notes.txt"
	commit=$(publish "not a manifest")
	body='{"ref":"refs/heads/main","after":"'$commit'"}'
	mark=$(($(wc -l <"$log") + 1))
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/webhook" -H 'X-GitHub-Event: push' \
		-H "X-Hub-Signature-256: sha256=$(sign "$body")" --data-binary "$body")
	line=
	for _ in $(seq 1 100); do
		n=$(tail -n +"$mark" "$log" | sed -n 's/.*pass \([0-9]*\) started (webhook)$/\1/p' | head -1)
		[ -n "$n" ] && line=$(tail -n +"$mark" "$log" | grep "pass $n: ")
		[ -n "$line" ] && break
		sleep 0.1
	done
}
# quiet: until no pass has run for 1.1 s (a pass the watch starts may then
# start at once: at least 1 s after the last)
quiet() {
	local size
	for _ in $(seq 1 50); do
		size=$(wc -l <"$log")
		sleep 1.1
		[ "$(wc -l <"$log")" = "$size" ] && return
	done
}
# restored_within MS CMD...: true once CMD succeeds, polled every 50 ms for MS
# ms; took has the time it took
restored_within() {
	local limit=$1 t0 now
	shift
	t0=$(date +%s%3N)
	while :; do
		"$@" && break
		now=$(date +%s%3N)
		[ $((now - t0)) -ge "$limit" ] && { took=$((now - t0)); return 1; }
		sleep 0.05
	done
	took=$(($(date +%s%3N) - t0))
}
is_replicas() { [ "$(replicas "$1")" = "$2" ]; }
has_service() { $K -n $ns get service "$1" >/dev/null 2>&1; }

export FLINKOPS_FAULT_WATCH_VERSION=1
start_agent
unset FLINKOPS_FAULT_WATCH_VERSION
if [ -n "$url" ] && settled 1 && [ "$(objects)" = 18 ]; then
	ok "pass 1 created the 18 objects of w1, w2, w3"
else
	fail "first pass: url=$url objects=$(objects) $(tail -5 "$log")"
fi

# --- every watch got the API server's 410 for version 1, and listed again ----
for _ in $(seq 1 100); do
	[ "$(grep -c 'the version is gone (410); listing again' "$log")" -ge 5 ] && break
	sleep 0.1
done
gone=$(grep -c 'the version is gone (410); listing again' "$log")
[ "$gone" -ge 5 ] && ok "$gone watches were told 410 Gone by the API server and listed again" ||
	fail "410: $gone watches said so: $(grep 'k8s:' "$log" | tail -5)"

# --- a pass that changes nothing sends nothing to the API server -------------
quiet
before=$(requests | wc -l)
noop_pass
after=$(requests | wc -l)
if [ "$code" = 202 ] && grep -q 'success in .* (0 waiting, 0 failed; 0 API requests, [1-9][0-9]* LISTs from the watch)' <<<"$line" &&
	[ "$after" = "$before" ]; then
	ok "a no-op pass (webhook, fetching git): no request in the audit log ($before before, $after after): ${line#*agent: }"
else
	fail "no-op pass: webhook $code, audit $before -> $after: $(requests | tail -n +"$((before + 1))" | head -5) $line"
fi

# --- drift is corrected at once, not at the interval (10 m) ------------------
quiet
mark=$(($(wc -l <"$log") + 1))
$K -n $ns scale sts w1-taskmanager --replicas=4 >/dev/null
if restored_within 2000 is_replicas w1-taskmanager 1 &&
	tail -n +"$mark" "$log" | grep -q 'StatefulSet .*/w1-taskmanager changed, not by this agent' &&
	tail -n +"$mark" "$log" | grep -q 'started (watch; re-check at'; then
	ok "kubectl scale w1-taskmanager to 4: restored to 1 in $took ms by a pass the watch started"
else
	fail "drift: replicas $(replicas w1-taskmanager) after $took ms: $(tail -n +"$mark" "$log" | tail -5)"
fi
quiet
mark=$(($(wc -l <"$log") + 1))
$K -n $ns delete service w2-rest >/dev/null
if restored_within 2000 has_service w2-rest &&
	tail -n +"$mark" "$log" | grep -q 'Service .*/w2-rest deleted, not by this agent'; then
	ok "kubectl delete service w2-rest: created again in $took ms"
else
	fail "deleted service: after $took ms: $(tail -n +"$mark" "$log" | tail -5)"
fi

# --- the API server restarted under a stopped agent; a change meanwhile -------
quiet
mark=$(($(wc -l <"$log") + 1))
kill -STOP "$agent"
"$RIG" k8s-restart-apiserver
$K -n $ns scale sts w3-taskmanager --replicas=3 >/dev/null
kill -CONT "$agent"
if restored_within 20000 is_replicas w3-taskmanager 1; then
	ok "API server restarted while the agent was stopped, w3-taskmanager scaled meanwhile: restored $took ms after SIGCONT"
else
	fail "after the restart: replicas $(replicas w3-taskmanager) after $took ms: $(tail -n +"$mark" "$log" | tail -8)"
fi
for _ in $(seq 1 50); do
	tail -n +"$mark" "$log" | grep -q 'changed while their watch was broken' && break
	sleep 0.1
done
broke=$(tail -n +"$mark" "$log" | grep -c 'broke after')
missed=$(tail -n +"$mark" "$log" | grep -c 'changed while their watch was broken')
# no event told of w3's change (it came while the watches were down): only
# the LIST after the break can have shown it, and a watch that served its
# old inventory on would have left it at 3 until the interval
if [ "$broke" -ge 5 ] && [ "$missed" -ge 1 ]; then
	ok "$broke watches broke and listed again, and the LIST found what they missed: $(tail -n +"$mark" "$log" | grep -m1 'changed while their watch was broken' | sed 's/.*agent: //')"
else
	fail "restart: broke=$broke missed=$missed: $(tail -n +"$mark" "$log" | grep 'k8s:\|agent:' | tail -8)"
fi
quiet
before=$(requests | wc -l)
noop_pass
after=$(requests | wc -l)
if grep -q '0 API requests, [1-9][0-9]* LISTs from the watch' <<<"$line" && [ "$after" = "$before" ]; then
	ok "after the restart, a no-op pass is served from the watch again: no request ($before -> $after)"
else
	fail "no-op after restart: webhook $code audit $before -> $after: $line"
fi

# --- nothing was deleted on the way; SIGTERM --------------------------------
deletes=$(requests | grep -c '"delete"' || true)
[ "$(objects)" = 18 ] && [ "$deletes" = 0 ] && ok "18 objects, no delete by the agent" ||
	fail "objects $(objects), deletes $deletes"
agent_term
[ "$term_rc" = 0 ] && [ "$term_ms" -lt 10000 ] && ok "SIGTERM: exit 0 in $term_ms ms (watches cut)" ||
	fail "SIGTERM: rc=$term_rc in $term_ms ms $(tail -3 "$log")"
