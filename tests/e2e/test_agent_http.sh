#!/usr/bin/env bash
# rig: k8s git flink s3
# The agent's HTTP listeners under hostile clients, the agent as a host
# process on loopback ports (objects only: no Flink slot is used).
# 1. 64 slow clients (tests/e2e/slow-clients: a byte of a POST /webhook
#    every 2 s on each) fill the webhook listener (per-client limit raised
#    to 64): /healthz and /readyz on the probe listener answer 200 within
#    1 s, again and again, while the webhook port itself is full; every
#    trickling request is closed at agent.requestTimeout (6 s here), not
#    held for as long as it trickles. A chunked body over 1 MiB is cut off
#    at the limit: the server closes before the client has sent it all.
# 2. With the default per-client limit (8), 64 connections from one
#    address: 8 are held, the rest refused at once.
# 3. agent.tls.certFile/keyFile (a certificate made here with openssl): a
#    signed webhook over HTTPS, verified with curl --cacert, is accepted and
#    starts a pass; plain HTTP to that port gets no answer; a client that
#    does not trust the certificate fails verification.
NAME=http
EXTRA_FLINK="  submitJobs: false"
. "$(dirname "$0")/lib-rollout.sh"
. "$(dirname "$0")/lib-agent.sh"
slow=$(dirname "$0")/slow-clients

trap 'agent_kill; cleanup' EXIT
cp "$tmp/config.yaml" "$tmp/base.yaml"
# configure AGENT_FIELDS: the agent section, on loopback ports the kernel picks
configure() {
	sed -e "s|^repository: {|repository: {interval: 10s, |" \
		-e "s|^agent: {name: \(.*\)}|agent: {name: \1, listen: \"127.0.0.1:0\", webhookSecretFile: $tmp/secret$1}|" \
		"$tmp/base.yaml" >"$tmp/config.yaml"
}
# the probe listener's URL, from the start line
probe_url() {
	local p
	p=$(sed -n 's/.*probes on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
	[ -n "$p" ] && echo "http://127.0.0.1:$p"
}
# timed URL: "CODE SECONDS" of a GET, at most 1 s
timed() { curl -s -o /dev/null -m 1 -w '%{http_code} %{time_total}' "$1"; }
main='{"ref":"refs/heads/main","after":"0000000000000000000000000000000000000000"}'

# --- 1. the probes while 64 slow clients hold the webhook port -------------
configure ", maxConnectionsPerClient: 64, requestTimeout: 6s"
agent_start
purl=$(probe_url || true)
if [ -n "$url" ] && [ -n "$purl" ] && wait_ended 1; then
	ok "the agent listens: webhooks on $url, probes on $purl"
else
	fail "agent start: url=$url probes=$purl $(tail -5 "$log")"
	exit 1
fi
SLOW_CLIENTS_INTERVAL=2 "$slow" 127.0.0.1 "${url##*:}" 64 20 >"$tmp/slow1" 2>&1 &
slow_pid=$!
sleep 2
probes_ok=0 probes_bad="" hook_full=0
for i in $(seq 1 12); do
	h=$(timed "$purl/healthz")
	r=$(timed "$purl/readyz")
	# both 200, each within the 1 s curl allows
	if [ "${h% *}" = 200 ] && [ "${r% *}" = 200 ]; then
		probes_ok=$((probes_ok + 1))
	else
		probes_bad="$probes_bad [$i: healthz $h, readyz $r]"
	fi
	w=$(timed "$url/healthz")
	[ "${w% *}" != 200 ] && hook_full=$((hook_full + 1))
	sleep 1
done
wait "$slow_pid"
slow1=$(tail -1 "$tmp/slow1")
if [ "$probes_ok" = 12 ]; then
	ok "64 slow clients on the webhook port: /healthz and /readyz on the probe port answered 200 within 1 s 12 times out of 12 (the webhook port's own /healthz did not answer $hook_full times)"
else
	fail "probes under 64 slow clients: $probes_ok of 12 answered in time;$probes_bad"
fi
[ "$hook_full" -gt 0 ] && ok "the slow clients did fill the webhook listener ($hook_full of 12 requests there got no answer)" ||
	fail "the webhook listener was never full: the slow clients did not load it ($slow1)"
# every connection trickled for longer than the deadline was cut there: the
# longest stayed open the deadline plus the sweeper's half second and slack
declare -A s1
for kv in $slow1; do s1[${kv%%=*}]=${kv#*=}; done
if [ "${s1[cut]:-0}" -ge 64 ] && awk -v l="${s1[longest]:-99}" 'BEGIN { exit !(l <= 8.0) }' &&
	grep -q 'ran past agent.requestTimeout (6000 ms)' "$log"; then
	ok "trickling requests closed at agent.requestTimeout 6 s: $slow1"
else
	fail "trickling requests not closed at the deadline: $slow1"
fi
# the cuts are logged once a minute at most, however many rounds of them
lines=$(grep -c 'ran past agent.requestTimeout' "$log")
[ "${s1[cut]:-0}" -gt 64 ] && [ "$lines" = 1 ] &&
	ok "${s1[cut]} connections cut in more than one round, logged in $lines line (at most one a minute)" ||
	fail "cut ${s1[cut]:-0} connections, logged in $lines lines"

# a chunked body of 64 MiB: the server reads up to the 1 MiB limit and closes
python3 - "${url##*:}" >"$tmp/chunked" 2>&1 <<-'PY'
	import socket, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
	s.sendall(b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\n"
	          b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
	size, total, sent = 64 * 1024, 64 * 1024 * 1024, 0
	piece = b"%x\r\n" % size + b" " * size + b"\r\n"
	s.settimeout(20)
	try:
	    while sent < total:
	        s.sendall(piece)
	        sent += size
	    s.sendall(b"0\r\n\r\n")
	    answer = s.recv(100)
	    print("sent=%d complete=1 answer=%r" % (sent, answer[:20]))
	except OSError as e:
	    print("sent=%d complete=0 %s" % (sent, type(e).__name__))
	PY
read -r chunked <"$tmp/chunked"
sent=$(sed -n 's/^sent=\([0-9]*\).*/\1/p' <<<"$chunked")
read_bytes=$(sed -n 's/.*chunked body grew over 1 MiB (\([0-9]*\) bytes read).*/\1/p' "$log" | tail -1)
# what the client got into the socket includes the kernel's buffers
if [[ "$chunked" == *complete=0* ]] && [ -n "$read_bytes" ] && [ "$read_bytes" -le $((1024 * 1024 + 64 * 1024)) ] &&
	[ "${sent:-0}" -lt $((16 * 1024 * 1024)) ]; then
	ok "a chunked body of 64 MiB: the server read $read_bytes bytes and closed; the client got $sent bytes out ($chunked)"
else
	fail "a chunked body over the limit: client $chunked, server read '${read_bytes}'"
fi
if curl -sf "$url/healthz" >/dev/null && kill -0 "$agent" 2>/dev/null; then
	ok "the agent still serves after all that"
else
	fail "the agent after the slow clients: $(tail -3 "$log")"
fi
term_agent || fail "SIGTERM: exit $rc"

# --- 2. the default per-client limit -------------------------------------
configure ""
agent_start
if [ -n "$url" ] && wait_ended 1; then :; else fail "agent start (defaults): $(tail -5 "$log")"; fi
"$slow" 127.0.0.1 "${url##*:}" 64 4 >"$tmp/slow2" 2>&1
slow2=$(tail -1 "$tmp/slow2")
declare -A s2
for kv in $slow2; do s2[${kv%%=*}]=${kv#*=}; done
if [ "${s2[held]:-}" = 8 ] && [ "${s2[accepted]:-}" = 8 ] && [ "${s2[refused]:-0}" -ge 56 ]; then
	ok "64 connections from one address with agent.maxConnectionsPerClient 8 (the default): $slow2"
else
	fail "per-client limit: want held=8 accepted=8 refused>=56, got $slow2"
fi
term_agent || fail "SIGTERM: exit $rc"

# --- 3. HTTPS on the webhook listener ------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=flinkops-e2e \
	-addext "subjectAltName=IP:127.0.0.1" -keyout "$tmp/tls.key" -out "$tmp/tls.crt" 2>/dev/null
configure ", tls: {certFile: $tmp/tls.crt, keyFile: $tmp/tls.key}"
agent_start
if [ -n "$url" ] && grep -q 'listening on 127.0.0.1:[0-9]* (HTTPS' "$log" && wait_ended 1; then
	ok "the agent serves HTTPS on ${url#http://}"
else
	fail "agent start with TLS: $(tail -5 "$log")"
fi
https=https://${url#http://}
n=$(started)
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$tmp/tls.crt" -X POST "$https/webhook" \
	-H 'Content-Type: application/json' -H 'X-GitHub-Event: push' -H "X-GitHub-Delivery: tls-$$" \
	-H "X-Hub-Signature-256: sha256=$(sign "$main")" --data-binary "$main")
for _ in $(seq 1 50); do [ "$(started)" -gt "$n" ] && break; sleep 0.1; done
if [ "$code" = 202 ] && [ "$(started)" -gt "$n" ]; then
	ok "a signed webhook over HTTPS (curl --cacert): 202 and a pass started"
else
	fail "webhook over HTTPS: $code, passes started $n -> $(started)"
fi
plain=0
curl -s -o /dev/null -m 3 "$url/healthz" || plain=$?
untrusted=0
curl -s -o /dev/null -m 3 "$https/healthz" || untrusted=$?
# 52: empty reply, 56: reset; 60: the certificate is not trusted
if [ "$plain" != 0 ] && [ "$untrusted" = 60 ]; then
	ok "plain HTTP to the TLS port fails (curl exit $plain); without --cacert the certificate is refused (exit 60)"
else
	fail "plain HTTP to the TLS port: curl exit $plain; untrusted: exit $untrusted"
fi
term_agent || fail "SIGTERM: exit $rc"
