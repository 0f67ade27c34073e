#!/usr/bin/env bash
# rig: k8s git flink s3
# The agent when its git server goes away: `flinkops agent` with a 10 s
# interval reads its repository over git:// from a git daemon of this
# test's own (the rig's git servers are shared, so they stay up), which is
# killed for three intervals and started again. Throughout, /healthz and
# /readyz answer 200; the failed passes show in the metrics (passes by
# result "error", consecutive failures) and in the log, with the delay
# before the next pass growing (backoff); once the server is back, a pushed
# change is deployed (the StatefulSet applied with the new spec) and the
# status is committed to the repository. A signed push during the backoff
# does not start a pass before the backoff's retry. Objects only: no Flink slot is used.
NAME=gitdown
EXTRA_FLINK="  submitJobs: false"
. "$(dirname "$0")/lib-rollout.sh"
. "$(dirname "$0")/lib-agent.sh"

# --- a git daemon of this test's own, serving a copy of its repository --------
srv=$tmp/srv
mkdir -p "$srv"
git clone -q --bare "$repo" "$srv/r.git" 2>/dev/null
git -C "$srv/r.git" symbolic-ref HEAD refs/heads/main
gport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
daemon=
start_daemon() {
	git daemon --reuseaddr --listen=127.0.0.1 --port="$gport" --export-all --enable=receive-pack \
		--base-path="$srv" "$srv" >>"$tmp/daemon.log" 2>&1 &
	daemon=$!
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$gport") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
stop_daemon() { # exactly the daemon this test started, and its children
	[ -n "$daemon" ] || return 0
	pkill -KILL -P "$daemon" 2>/dev/null
	kill -KILL "$daemon" 2>/dev/null
	wait "$daemon" 2>/dev/null
	daemon=
}
trap 'stop_agent; stop_daemon; cleanup' EXIT
start_daemon || { fail "the test's git daemon did not start: $(cat "$tmp/daemon.log")"; exit 1; }
gurl=git://127.0.0.1:$gport/r.git
git -C "$tmp/work" remote set-url origin "$gurl"
sed -i "s|^repository: {url: \"file://$repo\", |repository: {url: \"$gurl\", interval: 10s, |; s|^agent: {name: \(.*\)}|agent: {name: \1, listen: \"127.0.0.1:0\", webhookSecretFile: $tmp/secret}|" \
	"$tmp/config.yaml"
grep -q "url: \"$gurl\", interval: 10s" "$tmp/config.yaml" || { fail "config: $(head -1 "$tmp/config.yaml")"; exit 1; }

deployment 1 savepoint >"$tmp/work/jobs/counter.yaml"
publish "counter, one TaskManager" >/dev/null
start_agent && wait_ended 1 && grep -q 'pass 1: success' "$log" &&
	ok "the agent on $gurl: pass 1 succeeded" ||
	{ fail "agent start: port=$port $(tail -5 "$log")"; exit 1; }

code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$1"; }
# probe SECONDS: /healthz and /readyz every half second; prints the answers that were not 200
probe() {
	local i h r
	for ((i = 0; i < $1 * 2; i++)); do
		h=$(code "$url/healthz")
		r=$(code "$url/readyz")
		[ "$h" = 200 ] || echo "healthz=$h"
		[ "$r" = 200 ] || echo "readyz=$r"
		sleep 0.5
	done
}

# --- the server goes away for three intervals ---------------------------------
errors0=$(metric 'flinkops_passes_total{result="error"}')
applied0=$(metric 'flinkops_objects_applied_total{kind="StatefulSet",result="success"}')
n0=$(ended)
stop_daemon
t_down=$(ms)
# A signed push while the agent backs off does not bring the retry forward
# (a webhook only asks for a pass; after a failure the backoff's retry is the
# earliest one may start): the first failed pass names its delay, a push is
# sent the moment that line appears, and the next pass starts no earlier
# than the delay says, as the push's pass (the request is kept, not dropped).
mark=$(($(wc -l <"$log") + 1))
delay=
for _ in $(seq 1 300); do
	delay=$(tail -n +"$mark" "$log" | sed -n 's/.*pass [0-9]*: error in .*; next in \([0-9.]*\) s$/\1/p' | head -1)
	[ -n "$delay" ] && break
	sleep 0.1
done
t_err=$(ms)
body='{"ref":"refs/heads/main","after":"0000000000000000000000000000000000000000"}'
hc=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/webhook" -H 'X-GitHub-Event: push' \
	-H "X-GitHub-Delivery: backoff-$$" -H "X-Hub-Signature-256: sha256=$(sign "$body")" --data-binary "$body")
n_err=$(started)
next_line=
for _ in $(seq 1 600); do
	[ "$(started)" -gt "$n_err" ] && next_line=$(grep 'pass [0-9]* started' "$log" | tail -1) && break
	sleep 0.1
done
waited=$(($(ms) - t_err))
want=$(awk -v d="${delay:-0}" 'BEGIN { printf "%d", d * 1000 - 1000 }')
if [ -n "$delay" ] && [ "$hc" = 202 ] && [ "$waited" -ge "$want" ] && grep -q 'started (webhook)$' <<<"$next_line"; then
	ok "a push during the backoff (202) waited for the retry: the failed pass said next in $delay s, the push's pass started $waited ms later"
else
	fail "push during the backoff: delay '$delay', webhook $hc, next pass $waited ms later (at least $want wanted): '$next_line'"
fi
bad=$(probe 30)
errors1=$(metric 'flinkops_passes_total{result="error"}')
consecutive=$(metric flinkops_consecutive_failed_passes)
# the passes that ended while it was down, and the delay each chose
sed -n 's/.*pass \([0-9]*\): error in .*; next in \([0-9.]*\) s$/\2/p' "$log" >"$tmp/delays"
delays=$(tr '\n' ' ' <"$tmp/delays")
growing=$(awk 'NR > 1 && $1 <= prev { bad = 1 } { prev = $1 } END { print (NR >= 2 && !bad) ? "yes" : "no" }' "$tmp/delays")
[ -z "$bad" ] && ok "git down for $((($(ms) - t_down) / 1000)) s: /healthz and /readyz answered 200 every half second" ||
	fail "health while git was down: $(sort <<<"$bad" | uniq -c | tr '\n' ' ')"
if [ "$((errors1 - errors0))" -ge 2 ] && [ "${consecutive:-0}" -ge 2 ] && [ "$growing" = yes ]; then
	ok "backoff: $((errors1 - errors0)) passes ended in error (metrics), $consecutive in a row; the log's next delays $delays s"
else
	fail "backoff: errors $errors0 -> $errors1, consecutive=$consecutive, delays '$delays' $(grep -E 'pass [0-9]+: ' "$log" | tail -3)"
fi
grep -qE "agent: pass [0-9]+: error" "$log" && grep -v 'pass ' "$log" | grep -qiE 'git|fetch|repository' &&
	ok "the log says why: $(grep -iE 'git|fetch|repositor' "$log" | grep -v 'pass ' | tail -1 | cut -c1-160)" ||
	fail "the log does not say the repository failed: $(tail -4 "$log")"

# --- it comes back; the next push is deployed -----------------------------------
start_daemon || fail "the git daemon did not start again"
deployment 2 savepoint >"$tmp/work/jobs/counter.yaml"
commit=$(publish "two TaskManagers, after the outage")
t_up=$(ms)
replicas=
for _ in $(seq 1 1200); do # the backoff may hold the next pass for up to 40 s
	replicas=$($K -n $ns get sts counter-taskmanager -o jsonpath='{.spec.replicas}' 2>/dev/null)
	[ "$replicas" = 2 ] && break
	sleep 0.1
done
dt=$((($(ms) - t_up) / 1000))
# the pass that applied it records its end in the metrics when it is over
for _ in $(seq 1 300); do
	[ "$(metric flinkops_consecutive_failed_passes)" = 0 ] && break
	sleep 0.1
done
[ "$replicas" = 2 ] && [ "$(metric flinkops_consecutive_failed_passes)" = 0 ] &&
	ok "git back: the push (${commit:0:7}) applied $dt s later (2 TaskManagers); no failure in a row any more" ||
	fail "after the outage: replicas=$replicas consecutive=$(metric flinkops_consecutive_failed_passes) $(grep 'pass ' "$log" | tail -3)"
# the status commit the agent pushed for it (a pass that read the repository
# just before the push may commit a status of the commit before it first),
# and the applies counted: the pass that applied the StatefulSet records
# them when it ends, which may come after an earlier pass of the upgrade
# (its savepoint) already set the failures in a row to 0 (seen under the
# sanitizers)
st=
for _ in $(seq 1 300); do
	applied=$(metric 'flinkops_objects_applied_total{kind="StatefulSet",result="success"}')
	git -C "$tmp/work" fetch -q origin main 2>/dev/null
	if [ -z "$st" ] && git -C "$tmp/work" show "origin/main:status/$ns/counter.yaml" 2>/dev/null | grep -qE "observedCommit: \"?$commit\"?$"; then
		st=$(git -C "$tmp/work" log -1 --format=%H origin/main -- "status/$ns/counter.yaml")
	fi
	[ -n "$st" ] && [ "${applied:-0}" -gt "${applied0:-0}" ] && break
	sleep 0.1
done
if [ -n "$st" ] && git -C "$tmp/work" merge-base --is-ancestor "$commit" "$st" && [ "${applied:-0}" -gt "${applied0:-0}" ]; then
	ok "status committed (${st:0:7}, after the push) with observedCommit ${commit:0:7}; StatefulSet applies counted $applied0 -> $applied"
else
	fail "status after the outage: commit=$st applied $applied0 -> $applied $(git -C "$tmp/work" show "origin/main:status/$ns/counter.yaml" 2>&1 | grep -E 'observedCommit|phase')"
fi
term_agent && ok "SIGTERM: the agent exited 0" || fail "SIGTERM: exit $rc $(tail -3 "$log")"
