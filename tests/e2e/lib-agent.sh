# Shared by the end-to-end tests of `flinkops agent` that read its passes
# and metrics, sourced after lib-rollout.sh (which starts and stops the
# agent: start_agent, stop_agent, agent_term): names these tests use, on
# those helpers.
#
#   term_agent              SIGTERM, and wait for its exit: true when it was 0 (rc has it)
#   started, ended          how many passes started / ended so far
#   wait_ended N [SECONDS]  until N passes have ended (30 s unless told)
#   metric LINE_START       the value of the first /metrics sample that starts
#                           with LINE_START (name and labels as printed)
#   settled FROM            until a pass ended after log line FROM with nothing
#                           waiting (180 s at most)
term_agent() {
	agent_term
	rc=$term_rc
	[ "$rc" = 0 ]
}
started() { grep -c 'pass [0-9]* started' "$log"; }
ended() { passes_ended; }
wait_ended() { wait_passes_ended "$@"; }
metric() { curl -s "$url/metrics" | awk -v s="$1 " 'index($0, s) == 1 { print $NF; exit }'; }
ms() { date +%s%3N; }
settled() {
	for _ in $(seq 1 1800); do
		tail -n +"$1" "$log" | grep -q 'pass [0-9]*: [a-z]* in [0-9.]* s (0 waiting' && return 0
		sleep 0.1
	done
	return 1
}
