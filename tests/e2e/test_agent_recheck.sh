#!/usr/bin/env bash
# rig: k8s git flink s3
# The daemon re-checks deployments that wait on Flink without fetching:
# `flinkops agent` (60 s interval) deploys the counter job, then a pushed
# parallelism change announced by a signed webhook is a savepoint upgrade;
# the job's snapshots are held back (its --slow-snapshot-marker) until the
# agent has looked again at least three times (100 ms after the stop, then
# doubling up to 3 s while nothing moves: the log's delays say so) at the
# commit it already fetched. The log shows those passes as
# "re-check at COMMIT, no fetch", flinkops_git_fetch_duration_seconds_count
# grows only by the passes that fetched, the upgrade completes (the counter
# continues) and the status file names the pushed commit.
NAME=recheck
. "$(dirname "$0")/lib-rollout.sh"
. "$(dirname "$0")/lib-agent.sh"

agent_config 60s

slow=", --slow-snapshot-marker, $tmp/slow"
deployment 1 savepoint "$slow" >"$tmp/work/jobs/counter.yaml"
commit1=$(publish "counter, parallelism 1")

start_agent
fetches() { curl -s "$url/metrics" | sed -n 's/^flinkops_git_fetch_duration_seconds_count //p'; }

if [ -n "$port" ] && settled 1; then
	job1=$(journal .jobId)
	echo "$job1" >>"$tmp/ours"
	first=$(grep -c 'started (waiting; re-check at' "$log")
	ok "the agent deployed the counter ($job1 $(job_state "$job1")); $first re-check(s) without a fetch while it started"
else
	fail "first deployment: port=$port $(tail -5 "$log")"
fi

# --- a savepoint upgrade announced by a webhook -----------------------------
sleep 2
deployment 2 savepoint "$slow" >"$tmp/work/jobs/counter.yaml"
commit2=$(publish "parallelism 2")
before=$(cat "$counter" 2>/dev/null || echo 0)
f0=$(fetches)
mark=$(($(wc -l <"$log") + 1))
body='{"ref":"refs/heads/main","after":"'$commit2'"}'
touch "$tmp/slow" # the savepoint waits until this is gone
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/webhook" -H 'X-GitHub-Event: push' \
	-H "X-Hub-Signature-256: sha256=$(sign "$body")" --data-binary "$body")
# three re-checks have ended while the savepoint waits, and the looks have
# slowed down to every 3 s (well inside flink.savepointTimeout, 30 s)
for _ in $(seq 1 300); do
	[ "$(tail -n +"$mark" "$log" | grep -c 'no fetch')" -ge 4 ] &&
		tail -n +"$mark" "$log" | grep -q 'waiting, .*next in 3.0 s$' && break
	sleep 0.1
done
waited=$(tail -n +"$mark" "$log" | grep -c 'no fetch')
# each waiting pass's length and the delay it chose, in order, until the
# first of 3 s
tail -n +"$mark" "$log" |
	sed -n 's/.*pass [0-9]*: success in \([0-9.]*\) s ([1-9][0-9]* waiting, .*; next in \([0-9.]*\) s$/\1 \2/p' |
	awk '{ print } $2 == "3.0" { exit }' >"$tmp/delays"
rm -f "$tmp/slow"
if settled "$mark"; then
	f1=$(fetches)
	tail -n +"$mark" "$log" | grep 'pass [0-9]* started' >"$tmp/started"
	fetched=$(grep -vc 'no fetch' "$tmp/started")
	rechecks=$(grep -c "re-check at ${commit2:0:7}, no fetch" "$tmp/started")
	# the longest run of re-checks with no fetching pass between them
	run=$(awk '/no fetch/ { n++; if (n > m) m = n; next } { n = 0 } END { print m + 0 }' "$tmp/started")
	job2=$(journal .jobId)
	echo "$job2" >>"$tmp/ours"
	if [ "$code" = 202 ] && head -1 "$tmp/started" | grep -q 'started (webhook)$' && [ "$run" -ge 3 ] &&
		[ "$rechecks" -ge 3 ] && [ "$waited" -ge 3 ] && [ $((f1 - f0)) = "$fetched" ]; then
		ok "webhook 202, then $rechecks re-checks at ${commit2:0:7} ($run in a row) with no fetch; git fetches counted $f0 -> $f1 ($fetched fetching pass(es))"
	else
		fail "re-checks: code=$code fetched=$fetched rechecks=$rechecks run=$run fetches $f0 -> $f1: $(cat "$tmp/started")"
	fi
	# while nothing moved, the i-th waiting pass (from 0) looked again after
	# 0.1 s doubled i times, or twice its own length when that is longer,
	# at most 3 s (as the log rounds them): soon, then less often, and
	# never back to back however slow the machine
	if [ -s "$tmp/delays" ] && awk '{ d = 0.1 * 2 ^ (NR - 1); want = 2 * $1 > d ? 2 * $1 : d; if (want > 3) want = 3
		lo = d > 3 ? 3 : d; if ($2 < lo - 0.051 || $2 > want + 0.07) bad = 1; last = $2 }
		END { exit (bad || last != "3.0" || NR < 4) }' "$tmp/delays"; then
		ok "the waiting passes (length, then delay, in s) looked again: $(paste -sd',' "$tmp/delays"): 100 ms doubling, or twice the pass, up to 3 s"
	else
		fail "re-check delays while waiting (length, delay): $(paste -sd',' "$tmp/delays")"
	fi
	sp=$(journal .savepointPath)
	rm -f "$counter"
	c2=$(wait_counter)
	if [ -n "$job1" ] && [ "$job2" != "$job1" ] && [ "$(job_state "$job2")" = RUNNING ] && [ -n "$sp" ] && [ "$sp" != null ] &&
		[ "$(journal .savepointReason)" = upgrade ] && [ "$c2" -ge "$before" ]; then
		ok "the upgrade completed: $job1 stopped with savepoint $sp, $job2 RUNNING, counter $before before, $c2 after"
	else
		fail "upgrade: job1=$job1 job2=$job2 state=$(job_state "$job2") sp=$sp counter $before -> $c2"
	fi
	if [ "$(status_field observedCommit)" = "$commit2" ] && [ "$(status_field phase)" = Running ] &&
		[ "$(status_field lastSavepoint)" = "$sp" ]; then
		ok "the status file says Running at ${commit2:0:7} with the upgrade's savepoint"
	else
		fail "status: observed=$(status_field observedCommit) (want $commit2) phase=$(status_field phase) sp=$(status_field lastSavepoint)"
	fi
else
	fail "the upgrade did not settle: webhook $code; $(tail -5 "$log")"
fi

agent_term
rc=$term_rc
[ $rc = 0 ] && ok "SIGTERM: exit 0" || fail "SIGTERM: rc=$rc $(tail -3 "$log")"
