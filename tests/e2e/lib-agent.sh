# Shared by the end-to-end tests of `flinkops agent` that run it as a
# daemon, sourced after lib-rollout.sh: start it and find its port, read its
# log live, count its passes, scrape its /metrics, stop it.
#
#   start_agent             run the agent on $tmp/config.yaml (which must say
#                           agent.listen: "127.0.0.1:0"); sets agent (its pid),
#                           log (its stderr, as the e2e runner keeps it), port, url
#   stop_agent              KILL exactly the agent and its wrapper
#   term_agent              SIGTERM, and wait for its exit: true when it was 0 (rc has it)
#   started, ended          how many passes started / ended so far
#   wait_ended N [SECONDS]  until N passes have ended (30 s unless told)
#   metric LINE_START       the value of the first /metrics sample that starts
#                           with LINE_START (name and labels as printed)
wrapper=
agent=
log=
port=
url=
stop_agent() {
	# the agent runs under the e2e runner's wrapper: end both, never anything else
	[ -n "$agent" ] && kill -KILL "$agent" 2>/dev/null
	[ -n "$wrapper" ] && kill -KILL "$wrapper" 2>/dev/null
	agent=
	wrapper=
}
term_agent() {
	kill -TERM "$agent" 2>/dev/null
	wait "$wrapper" 2>/dev/null
	rc=$?
	agent=
	wrapper=
	[ $rc = 0 ]
}
start_agent() {
	"$FLINKOPS" agent --config "$tmp/config.yaml" >"$tmp/agent.out" 2>"$tmp/agent.err" &
	wrapper=$!
	agent=
	for _ in $(seq 1 50); do
		agent=$(pgrep -P "$wrapper" | head -1)
		[ -n "$agent" ] && break
		sleep 0.1
	done
	# the wrapper keeps the agent's log in a file: read it live
	log=$(readlink "/proc/$agent/fd/2")
	port=
	for _ in $(seq 1 100); do
		port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" 2>/dev/null | head -1)
		[ -n "$port" ] && break
		sleep 0.1
	done
	url=http://127.0.0.1:$port
	[ -n "$port" ]
}
started() { grep -c 'pass [0-9]* started' "$log"; }
ended() { grep -c 'pass [0-9]*: ' "$log"; }
wait_ended() {
	local i
	for ((i = 0; i < ${2:-30} * 10; i++)); do
		[ "$(ended)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
metric() { curl -s "$url/metrics" | awk -v s="$1 " 'index($0, s) == 1 { print $NF; exit }'; }
ms() { date +%s%3N; }
