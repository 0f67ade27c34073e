#!/usr/bin/env bash
# rig: k8s git flink s3
# A status file changes only when something observable changes. Under
# `flinkops agent` a savepoint upgrade whose savepoint takes 60 s (the
# counter job's --slow-snapshot-marker holds its snapshots back) is
# re-checked every 3 s; between the stop being sent and the savepoint
# completing the agent makes at most one status commit (the one that says
# Upgrading, the savepoint in progress), while its log shows the wait's
# age growing and flinkops_rollout_wait_seconds reports it. Then the
# savepoint completes and the upgrade runs to Running at the new commit.
NAME=quiet
. "$(dirname "$0")/lib-rollout.sh"
. "$(dirname "$0")/lib-agent.sh"

agent_config 60s
# the 60 s wait stays inside flink.savepointTimeout: "past its timeout"
# would be news once more, and is not what this test counts
sed -i 's/^  savepointTimeout: 30s$/  savepointTimeout: 5m/' "$tmp/config.yaml"
grep -q 'savepointTimeout: 5m' "$tmp/config.yaml" || fail "config: savepointTimeout not set"

slow=", --slow-snapshot-marker, $tmp/slow"
deployment 1 savepoint "$slow" >"$tmp/work/jobs/counter.yaml"
publish "counter, parallelism 1" >/dev/null

# the agent's status commits on the branch it writes (main)
status_commits() {
	git -C "$tmp/work" fetch -q origin main 2>/dev/null
	git -C "$tmp/work" log --format=%s origin/main | grep -c '^status:'
}

start_agent
if [ -n "$port" ] && settled 1; then
	job1=$(journal .jobId)
	echo "$job1" >>"$tmp/ours"
	ok "the agent deployed the counter ($job1 $(job_state "$job1"))"
else
	fail "first deployment: port=$port $(tail -5 "$log")"
fi

# --- a savepoint upgrade whose savepoint takes 60 s --------------------------
sleep 2
deployment 2 savepoint "$slow" >"$tmp/work/jobs/counter.yaml"
touch "$tmp/slow" # the snapshots wait until this is gone
commit2=$(publish "parallelism 2")
c0=$(status_commits)
mark=$(($(wc -l <"$log") + 1))
body='{"ref":"refs/heads/main","after":"'$commit2'"}'
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/webhook" -H 'X-GitHub-Event: push' \
	-H "X-Hub-Signature-256: sha256=$(sign "$body")" --data-binary "$body")
for _ in $(seq 1 300); do
	tail -n +"$mark" "$log" | grep -q 'stopping job .* with a savepoint' && break
	sleep 0.1
done
if tail -n +"$mark" "$log" | grep -q 'stopping job .* with a savepoint'; then
	ok "webhook $code; the stop with a savepoint was sent"
else
	fail "no stop sent: webhook $code $(tail -5 "$log")"
fi
t0=$(date +%s)
gauge='flinkops_rollout_wait_seconds{namespace="'$ns'",name="counter",step="stopping"}'
g1=
while [ $(($(date +%s) - t0)) -lt 60 ]; do
	sleep 5
	[ -z "$g1" ] && g1=$(metric "$gauge")
done
g2=$(metric "$gauge")
c1=$(status_commits)
waits=$(tail -n +"$mark" "$log" | sed -n 's/.*counter: waiting for \([0-9]*\)s: the savepoint of job .* is in progress.*/\1/p')
first=$(echo "$waits" | head -1)
last=$(echo "$waits" | tail -1)
phase=$(status_field phase)
msg=$(status_field message)
if [ $((c1 - c0)) -le 1 ] && [ "$phase" = Upgrading ] && echo "$msg" | grep -q 'savepoint of job .* is in progress' &&
	! echo "$msg" | grep -q ' for [0-9]*s'; then
	ok "a 60 s savepoint wait made $((c1 - c0)) status commit(s) ($c0 -> $c1); the file says: $msg"
else
	fail "status commits during the wait: $c0 -> $c1, phase=$phase message=$msg; $(git -C "$tmp/work" log --format=%s origin/main | head -5 | tr '\n' '|')"
fi
if [ "$(echo "$waits" | grep -c .)" -ge 10 ] && [ "${last:-0}" -ge 50 ] && [ "${last:-0}" -gt "${first:-0}" ]; then
	ok "the log shows the wait's age growing: $(echo "$waits" | grep -c .) lines, ${first}s -> ${last}s"
else
	fail "wait lines in the log: $(echo "$waits" | tr '\n' ' ')"
fi
if [ -n "$g1" ] && [ -n "$g2" ] && awk -v a="$g1" -v b="$g2" 'BEGIN { exit !(b >= 50 && b > a) }'; then
	ok "$gauge: $g1 -> $g2"
else
	fail "the wait gauge: '$g1' -> '$g2'"
fi

# --- the savepoint completes: the upgrade runs to the end ---------------------
rm -f "$tmp/slow"
if settled "$mark"; then
	job2=$(journal .jobId)
	echo "$job2" >>"$tmp/ours"
	sp=$(journal .savepointPath)
	if [ "$job2" != "$job1" ] && [ "$(job_state "$job2")" = RUNNING ] && [ "$(status_field phase)" = Running ] &&
		[ "$(status_field observedCommit)" = "$commit2" ] && [ "$(status_field lastSavepoint)" = "$sp" ] &&
		[ -z "$(metric "$gauge")" ]; then
		ok "the upgrade completed: $job2 RUNNING from $sp, the status says Running at ${commit2:0:7}, the gauge is gone"
	else
		fail "after the wait: job1=$job1 job2=$job2 phase=$(status_field phase) observed=$(status_field observedCommit) sp=$sp gauge=$(metric "$gauge")"
	fi
else
	fail "the upgrade did not settle: $(tail -5 "$log")"
fi

agent_term
rc=$term_rc
[ $rc = 0 ] && ok "SIGTERM: exit 0" || fail "SIGTERM: rc=$rc $(tail -3 "$log")"
