#!/usr/bin/env bash
# rig: k8s git flink s3
# The daemon against the rig's real servers: `flinkops agent` with a 10 s
# interval on a loopback port deploys a pushed change within one interval;
# a signed GitHub-style webhook starts a pass within 2 s; a wrong signature
# gets 401, a push to another branch and a ping start nothing; the same
# delivery again (or its body under a new id) 200, nothing; 100 signed
# webhooks in a second make at most 2 passes; /healthz, /readyz and
# /metrics answer; SIGTERM makes it exit 0 within the grace period. Objects
# only (flink.submitJobs: false): no Flink slot is used.
NAME=agent
EXTRA_FLINK="  submitJobs: false"
. "$(dirname "$0")/lib-rollout.sh"

secret=$(openssl rand -hex 24)
printf '%s\n' "$secret" >"$tmp/secret"
sed -i "s|^repository: {|repository: {interval: 10s, |; s|^agent: {name: \(.*\)}|agent: {name: \1, listen: \"127.0.0.1:0\", webhookSecretFile: $tmp/secret}|" \
	"$tmp/config.yaml"

trap 'agent_kill; cleanup' EXIT
ms() { date +%s%3N; }

deployment 1 savepoint >"$tmp/work/jobs/counter.yaml"
publish "counter, one TaskManager" >/dev/null

agent_start
port=${url##*:}
started() { grep -c 'pass [0-9]* started' "$log"; }
if [ -n "$url" ] && wait_passes_ended 1; then
	ok "the agent listens on 127.0.0.1:$port and its first pass ended: $(grep 'pass 1: ' "$log" | sed 's/.*agent: //')"
else
	fail "agent start: port=$port $(tail -5 "$log")"
fi
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
h=$(code "$url/healthz")
r=000
for _ in $(seq 1 50); do
	r=$(code "$url/readyz")
	[ "$r" = 200 ] && break
	sleep 0.1
done
[ "$h" = 200 ] && [ "$r" = 200 ] && [ "$(code "$url/nope")" = 404 ] && [ "$(code "$url/webhook")" = 405 ] &&
	ok "/healthz 200, /readyz 200; an unknown path 404, GET /webhook 405" ||
	fail "health: healthz=$h readyz=$r"

# --- a pushed change is deployed within one interval, no webhook ------------
deployment 2 savepoint >"$tmp/work/jobs/counter.yaml"
t0=$(ms)
publish "two TaskManagers" >/dev/null
replicas=
for _ in $(seq 1 150); do
	replicas=$($K -n $ns get sts counter-taskmanager -o jsonpath='{.spec.replicas}' 2>/dev/null)
	[ "$replicas" = 2 ] && break
	sleep 0.1
done
dt=$(($(ms) - t0))
[ "$replicas" = 2 ] && [ $dt -le 12000 ] &&
	ok "a pushed change (1 -> 2 TaskManagers) applied by the interval pass $dt ms after the push (interval 10 s)" ||
	fail "interval: replicas=$replicas after $dt ms"

# the webhook cases start right after a pass ended, so the next interval
# pass is ~10 s away and every pass seen is one a webhook started
quiet() {
	local n
	n=$(passes_ended)
	while [ "$(started)" -gt "$n" ]; do # a pass is running: let it end
		wait_passes_ended $((n + 1))
		n=$(passes_ended)
	done
	wait_passes_ended $((n + 1)) # ...and the next (the interval's) too
}
hook() { # hook BODY SIGNATURE EVENT
	curl -s -o /dev/null -w '%{http_code}' -X POST "$url/webhook" -H 'Content-Type: application/json' \
		-H "X-GitHub-Event: $3" -H "X-Hub-Signature-256: sha256=$2" --data-binary "$1"
}
main='{"ref":"refs/heads/main","after":"0000000000000000000000000000000000000000"}'
other='{"ref":"refs/heads/other"}'
ping='{"zen":"Keep it logically awesome.","hook_id":1}'

quiet
n=$(started)
bad=$(hook "$main" "$(sign "$main" | tr '0-9a-f' '1-9a-f0')" push)
nosig=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/webhook" -H 'X-GitHub-Event: push' --data-binary "$main")
sha1=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/webhook" -H 'X-GitHub-Event: push' \
	-H "X-Hub-Signature: sha1=$(printf '%s' "$main" | openssl dgst -sha1 -hmac "$secret" -r | cut -d' ' -f1)" --data-binary "$main")
oth=$(hook "$other" "$(sign "$other")" push)
png=$(hook "$ping" "$(sign "$ping")" ping)
big=$(head -c 1100000 /dev/zero | tr '\0' 'x' | curl -s -o /dev/null -w '%{http_code}' -X POST "$url/webhook" \
	-H 'X-GitHub-Event: push' -H "X-Hub-Signature-256: sha256=00" --data-binary @-)
sleep 2
if [ "$bad" = 401 ] && [ "$nosig" = 401 ] && [ "$sha1" = 401 ] && [ "$big" = 413 ] && [ "$(started)" = "$n" ]; then
	ok "a wrong signature, none, and SHA-1 alone get 401; a body over 1 MiB 413; none started a pass"
else
	fail "bad webhooks: wrong=$bad none=$nosig sha1=$sha1 big=$big passes started $n -> $(started)"
fi
# README: 200 for a ping and a push to another branch (nothing to do), 202
# only when a pass is requested
if [ "$oth" = 200 ] && [ "$png" = 200 ] && [ "$(started)" = "$n" ]; then
	ok "a push to another branch ($oth) and a ping ($png): 200, no pass started"
else
	fail "other/ping: other=$oth ping=$png passes started $n -> $(started)"
fi

# --- a signed push starts a pass within 2 s ---------------------------------
quiet
n=$(started)
t0=$(ms)
c=$(hook "$main" "$(sign "$main")" push)
t1=$(ms)
while [ "$(started)" = "$n" ] && [ $(($(ms) - t0)) -lt 5000 ]; do sleep 0.02; done
dt=$(($(ms) - t0))
[ "$c" = 202 ] && [ $((t1 - t0)) -lt 1000 ] && [ "$(started)" -gt "$n" ] && [ $dt -le 2000 ] &&
	ok "a signed GitHub push: 202 in $((t1 - t0)) ms, pass started $dt ms after the webhook was sent" ||
	fail "signed webhook: code=$c reply $((t1 - t0)) ms, started $n -> $(started) after $dt ms"

# --- the same delivery again: 200, nothing started ---------------------------
# README: a delivery acted on within 10 minutes — by its id, or by its
# signed body under a new id — starts nothing
quiet
n=$(started)
again=$(hook "$main" "$(sign "$main")" push)
newid=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/webhook" -H 'X-GitHub-Event: push' \
	-H "X-GitHub-Delivery: replayed-$$" -H "X-Hub-Signature-256: sha256=$(sign "$main")" --data-binary "$main")
sleep 2
[ "$again" = 200 ] && [ "$newid" = 200 ] && [ "$(started)" = "$n" ] &&
	ok "the signed push replayed, as it was and under a new delivery id: 200, no pass started" ||
	fail "replay: $again / $newid, passes started $n -> $(started)"

# --- 100 signed webhooks within a second: at most 2 passes -------------------
# one push (a new body) sent 100 times: the first is acted on, the rest are
# the same delivery
quiet
n=$(started)
burst='{"ref":"refs/heads/main","after":"1111111111111111111111111111111111111111"}'
sig=$(sign "$burst")
urls=()
for _ in $(seq 1 100); do urls+=("$url/webhook"); done
t0=$(ms)
codes=$(curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "X-GitHub-Event: push" -H "X-Hub-Signature-256: sha256=$sig" \
	--data-binary "$burst" "${urls[@]}" 2>/dev/null | grep -xE '[0-9]{3}' | sort | uniq -c | awk '{printf "%s%s:%s", (NR > 1 ? " " : ""), $2, $1}')
sent=$(($(ms) - t0))
sleep 4
passes=$(($(started) - n))
[ "$codes" = "200:99 202:1" ] && [ $sent -le 1000 ] && [ $passes -ge 1 ] && [ $passes -le 2 ] &&
	ok "100 signed webhooks in $sent ms (one 202, 99 already seen) made $passes pass(es)" ||
	fail "burst: codes $codes in $sent ms, $passes passes"

# --- /metrics -----------------------------------------------------------------
curl -s "$url/metrics" >"$tmp/metrics"
missing=
for f in flinkops_build_info flinkops_passes_total flinkops_pass_duration_seconds flinkops_last_successful_pass_timestamp_seconds \
	flinkops_git_fetch_duration_seconds flinkops_objects_applied_total flinkops_rollouts_in_progress flinkops_webhook_requests_total; do
	grep -q "^# TYPE $f " "$tmp/metrics" || missing="$missing $f"
done
cumulative=$(awk '/^flinkops_pass_duration_seconds_bucket/ { v = $NF + 0; if (v < prev) bad = 1; prev = v; inf = v }
	/^flinkops_pass_duration_seconds_count/ { count = $NF + 0 }
	END { print (bad || inf != count) ? "no" : "yes" }' "$tmp/metrics")
applied=$(sed -n 's/^flinkops_objects_applied_total{kind="StatefulSet",result="success"} //p' "$tmp/metrics")
hooks401=$(sed -n 's/^flinkops_webhook_requests_total{provider="github",code="401"} //p' "$tmp/metrics")
if [ -z "$missing" ] && [ "$cumulative" = yes ] && [ "${applied:-0}" -ge 1 ] && [ "${hooks401:-0}" -ge 2 ] &&
	grep -q '^flinkops_passes_total{result="success"} [1-9]' "$tmp/metrics"; then
	ok "/metrics: every family there, pass buckets cumulative with +Inf = _count; $applied StatefulSet applies, $hooks401 GitHub 401s counted"
else
	fail "metrics: missing=$missing cumulative=$cumulative applied=$applied 401s=$hooks401"
fi
if grep -qF "$secret" "$log" "$tmp/metrics"; then
	fail "the webhook secret appears in the log or the metrics"
else
	ok "the webhook secret is in neither the log nor the metrics"
fi

# --- SIGTERM: exit 0 within the grace period ----------------------------------
agent_term
[ $term_rc = 0 ] && [ $term_ms -le 30000 ] && grep -q 'SIGTERM: interrupting' "$log" &&
	ok "SIGTERM: exit 0 after $term_ms ms (grace period 120 s)" ||
	fail "SIGTERM: rc=$term_rc after $term_ms ms $(tail -3 "$log")"
