#!/usr/bin/env bash
# rig: k8s git flink
# A 200 MiB jar on a slow link, against real servers: lighttpd (the server
# of the rig's HTTPS part, with the rig's certificate) serves the jar at
# 512 KiB/s through its own rate limit (connection.kbytes-per-second), so
# the download would take about 7 minutes. The agent runs with leader
# election and a 1 s interval. During the download /healthz stays 200 for
# longer than the budget the agent logs at its start — the longest single
# silence its configuration allows plus 60 s: the heartbeat between passes
# cannot move then, so the download's progress must be what keeps it
# alive. Then SIGTERM mid-download: the download is interrupted by the
# stop request, the agent exits 0 within seconds (not at the end of the
# download), the journal is as it was before (the step is no failure), no
# jar is left in the cache, and the Lease has no holder.
NAME=slowjar
. "$(dirname "$0")/lib-rollout.sh"
: "${RIG_GIT_CA:?}" "${FLINKOPS_RIG_HOME:?}"
lease=e2e-slowjar-$$
RATE_KBPS=512
sed -i -e "s|^repository: {|repository: {interval: 1s, |" \
	-e "s|^agent: {name: \(.*\)}|agent: {name: \1, listen: \"127.0.0.1:0\", leaderElection: {enabled: true, leaseName: $lease, namespace: $ns, identity: slowjar-$$}}|" \
	-e "s|^  jarCacheDir: |  caFile: $RIG_GIT_CA\n  jarCacheDir: |" "$tmp/config.yaml"

# --- the slow server: lighttpd's own rate limit, the rig's TLS certificate ---
mkdir -p "$tmp/htdocs"
# a zip's header, then 200 MiB: made here, removed with the test's folder
{ printf 'PK\003\004'; head -c $((200 << 20)) /dev/zero; } >"$tmp/htdocs/big.jar"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
tls=$FLINKOPS_RIG_HOME/data/git/tls
cat >"$tmp/lighttpd.conf" <<EOF
server.modules = ( "mod_openssl" )
server.bind = "127.0.0.1"
server.port = $port
server.document-root = "$tmp/htdocs"
server.errorlog = "$tmp/lighttpd.err"
ssl.engine = "enable"
ssl.pemfile = "$tls/server.pem"
ssl.privkey = "$tls/server.key"
connection.kbytes-per-second = $RATE_KBPS
EOF
lighttpd -D -f "$tmp/lighttpd.conf" &
slow=$!
trap 'agent_kill; kill "$slow" 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 50); do curl -s -o /dev/null --cacert "$RIG_GIT_CA" "https://localhost:$port/" && break; sleep 0.1; done
rate=$(curl -s --cacert "$RIG_GIT_CA" --max-time 4 -o /dev/null -w '%{speed_download}' "https://localhost:$port/big.jar")
rate=${rate%.*}
if [ "${rate:-0}" -gt 0 ] && [ "$rate" -le $((RATE_KBPS * 1024 * 2)) ]; then
	ok "lighttpd serves the 200 MiB jar at $((rate / 1024)) KiB/s (limit $RATE_KBPS KiB/s)"
else
	fail "the slow server: ${rate:-none} bytes/s $(cat "$tmp/lighttpd.err" 2>/dev/null | tail -2)"
	exit 1
fi

deployment 1 savepoint | sed "s|jarURI: .*|jarURI: https://localhost:$port/big.jar|" >"$tmp/work/jobs/counter.yaml"
publish "the counter from a 200 MiB jar on a slow link" >/dev/null
agent_start
budget=$(sed -n 's|.*/healthz fails after \([0-9]*\) s without progress.*|\1|p' "$log" | head -1)
# the download has begun once the temporary file in the jar cache grows
partial=
for _ in $(seq 1 600); do
	partial=$(find "$tmp/jars" -type f -size +1M 2>/dev/null | head -1)
	[ -n "$partial" ] && break
	sleep 0.1
done
journal_before=$(journal .)
passes_before=$(passes_ended)
t0=$(date +%s)
bad=
checks=0
# /healthz every 2 s for the budget + 15 s, all the while in the download
while [ -n "$budget" ] && [ $(($(date +%s) - t0)) -le $((budget + 15)) ]; do
	code=$(curl -s -o "$tmp/health" -w '%{http_code}' --max-time 2 "$url/healthz")
	checks=$((checks + 1))
	[ "$code" = 200 ] || { bad="$code after $(($(date +%s) - t0)) s: $(cat "$tmp/health")"; break; }
	sleep 2
done
got=$(stat -c %s "$partial" 2>/dev/null || echo 0)
passes=$(passes_ended)
if [ -n "$budget" ] && [ -n "$partial" ] && [ -z "$bad" ] && [ "$passes" = "$passes_before" ] && [ "$got" -lt $((200 << 20)) ]; then
	ok "/healthz 200 in $checks checks over $(($(date +%s) - t0)) s of one download (budget $budget s; no pass ended meanwhile, $((got >> 20)) MiB of 200 so far)"
else
	fail "/healthz during the download: budget=$budget partial=$partial bad=$bad passes $passes_before -> $passes bytes=$got $(tail -3 "$log")"
fi

holder=$($K -n $ns get lease $lease -o jsonpath='{.spec.holderIdentity}')
agent_term
holder_after=$($K -n $ns get lease $lease -o jsonpath='{.spec.holderIdentity}')
jars=$(find "$tmp/jars" -type f 2>/dev/null | wc -l)
if [ "$holder" = "slowjar-$$" ] && [ $term_rc = 0 ] && [ $term_ms -le 10000 ] && [ -z "$holder_after" ] &&
	grep -q 'interrupted by stop request' "$log" && [ "$jars" = 0 ]; then
	ok "SIGTERM mid-download: exit 0 after $term_ms ms (grace period 120 s), Lease $lease released (holder was $holder), no jar left: $(grep -o 'upload interrupted by stop request.*' "$log" | cut -c1-150)"
else
	fail "SIGTERM mid-download: rc=$term_rc after $term_ms ms, holder $holder -> '$holder_after', files in the jar cache: $jars $(tail -4 "$log")"
fi
journal_after=$(journal .)
if [ -n "$journal_before" ] && [ "$journal_after" = "$journal_before" ] && [ "$(journal '.lastError // empty')" = "" ] &&
	[ -z "$(events UpgradeFailed)" ]; then
	ok "the journal is as before the download (step $(journal .step)): the interrupted step is no failure, no UpgradeFailed Event"
else
	fail "journal changed: before $(jq -c . <<<"$journal_before") after $(jq -c . <<<"$journal_after") events: $(events UpgradeFailed)"
fi
