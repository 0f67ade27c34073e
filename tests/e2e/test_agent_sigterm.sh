#!/usr/bin/env bash
# rig: k8s git flink s3
# SIGTERM during a savepoint upgrade, against the rig's real servers: the
# agent starts a savepoint upgrade of the counter job whose snapshots are
# held (the counter job's slow-snapshot marker), and is sent SIGTERM while
# Flink works on the savepoint. It exits 0 well within the grace period,
# leaving the savepoint to Flink and its trigger in the journal; a second
# agent started afterwards resumes that same trigger (no second savepoint),
# completes the upgrade from it, and the counter continues. The rollout's
# Kubernetes Events are on the JobManager StatefulSet.
NAME=sigterm
. "$(dirname "$0")/lib-rollout.sh"
sed -i "s|^repository: {|repository: {interval: 10s, |; s|^agent: {name: \(.*\)}|agent: {name: \1, listen: \"127.0.0.1:0\"}|" \
	"$tmp/config.yaml"
trap 'agent_kill; cleanup' EXIT
marker=$tmp/slow-snapshots
slow_args=", --slow-snapshot-marker, $marker"

start_counter "$slow_args"
sleep 2

# --- the first agent starts the upgrade; SIGTERM while the savepoint runs ---
touch "$marker"
sleep 1.5 # a checkpoint is now held too, as a large state would hold it
deployment 2 savepoint "$slow_args" >"$tmp/work/jobs/counter.yaml"
commit=$(publish "parallelism 2, slow savepoint")
# the pass holds 5 s right after the stop request reached Flink, so that
# SIGTERM lands while a pass is in flight, not between passes
FLINKOPS_PAUSE_AFTER=stop-sent agent_start
trigger=
sp_state=
for _ in $(seq 1 300); do
	trigger=$([ "$(journal .step)" = stopping ] && journal '.triggerId // empty')
	if [ -n "$trigger" ]; then
		sp_state=$(curl -s "$RIG_FLINK_URL/jobs/$job/savepoints/$trigger" | jq -r '.status.id // empty')
		[ "$sp_state" = IN_PROGRESS ] && break
	fi
	sleep 0.1
done
first_log=$log
agent_term
step=$(journal .step)
after=$(curl -s "$RIG_FLINK_URL/jobs/$job/savepoints/$trigger" | jq -r '.status.id // empty')
if [ "$sp_state" = IN_PROGRESS ] && [ $term_rc = 0 ] && [ $term_ms -le 30000 ] && [ "$step" = stopping ] &&
	[ "$(journal .triggerId)" = "$trigger" ] && [ "$after" = IN_PROGRESS ] && [ "$(job_state "$job")" = RUNNING ] &&
	[ "$(sed -n '/SIGTERM: interrupting/,$p' "$first_log" | grep -c 'pass 1: ')" = 1 ] &&
	! grep -q 'pass 2 started' "$first_log"; then
	ok "SIGTERM in a pass, while savepoint $trigger was IN_PROGRESS: the pass ended, no other started, exit 0 after $term_ms ms (grace period 120 s); journal stopping under that trigger, left to Flink, old job RUNNING"
else
	fail "SIGTERM during the savepoint: before=$sp_state rc=$term_rc after $term_ms ms step=$step trigger=$trigger/$(journal .triggerId) flink=$after old=$(job_state "$job") $(tail -3 "$first_log")"
fi

# --- a second agent resumes the same trigger -----------------------------------
# (its log in JSON: one object a line, checked at the end)
FLINKOPS_LOG_FORMAT=json agent_start
wait_passes_ended 1 60
looked=$?
nsp=$(curl -s "$RIG_FLINK_URL/jobs/$job/checkpoints" | jq '[.history[] | select(.is_savepoint)] | length')
if [ "$(journal .triggerId)" = "$trigger" ] && [ "$(journal .step)" = stopping ] && [ "$nsp" = 1 ] &&
	[ $looked = 0 ] && ! grep -q 'stopping job .* with a savepoint' "$log"; then
	ok "the second agent waits on the same trigger $trigger: one savepoint in Flink's history, no second stop sent"
else
	fail "second agent, savepoint held: trigger=$(journal .triggerId) step=$(journal .step) savepoints in history=$nsp looked=$looked $(grep -m2 'stopping job\|rollout' "$log")"
fi
rm -f "$marker"
for _ in $(seq 1 300); do [ "$(job_state "$job")" = FINISHED ] && break; sleep 0.2; done
stop=$(cat "$counter")
rm -f "$counter"
sp_flink=$(curl -s "$RIG_FLINK_URL/jobs/$job/savepoints/$trigger" | jq -r '.operation.location // empty')
new=
for _ in $(seq 1 600); do
	new=$(journal '.jobId // empty')
	[ "$new" != "$job" ] && [ "$(journal .step)" = idle ] && [ "$(job_state "$new")" = RUNNING ] && break
	sleep 0.2
done
echo "$new" >>"$tmp/ours"
first=$(wait_counter)
# the status file of the pass that recorded the new job
observed=
for _ in $(seq 1 300); do
	observed=$(status_field observedCommit)
	[ "$observed" = "$commit" ] && break
	sleep 0.2
done
if [ -n "$sp_flink" ] && [ "$(journal .savepointPath)" = "$sp_flink" ] && [ "$(savepoints_of "$job")" = 1 ] &&
	[ "$new" != "$job" ] && [ "$(job_state "$new")" = RUNNING ] && [ "$(ours_running)" = 1 ] &&
	[ "$first" -ge "$stop" ] && [ "$observed" = "$commit" ]; then
	ok "the upgrade completed from that trigger's savepoint $sp_flink: one savepoint of the old job, one new job $new, counter $stop -> $first"
else
	fail "resume: flink=$sp_flink journal=$(journal .savepointPath) savepoints=$(savepoints_of "$job") new=$new state=$(job_state "$new") running=$(ours_running) counter $stop -> $first observedCommit=$observed (want $commit) $(grep -m3 'warn\|error' "$log")"
fi

# one savepoint, so one SavepointCompleted Event, naming the trigger's savepoint
if [ "$(events SavepointCompleted | grep -c .)" = 1 ] && events SavepointCompleted | grep -q "completed at $sp_flink" &&
	events JobStarted | grep -q "job $new RUNNING, started from savepoint $sp_flink"; then
	ok "Events on counter-jobmanager: one SavepointCompleted ($sp_flink), JobStarted for $new from it"
else
	fail "events: $($K -n $ns get events -o custom-columns=REASON:.reason,MSG:.message --no-headers | tr '\n' ';')"
fi

# every line of the second agent's log is one JSON object; the rollout's
# lines name the deployment and the journal step, a pass's end its duration
bad=$(jq -R 'fromjson? // "BAD"' "$log" | grep -c '^"BAD"$')
rollout_fields=$(jq -r 'select(.component=="rollout") | "\(.deployment) \(.step) \(.pass)"' "$log" | sort -u | head -3 | tr '\n' ';')
if [ "$bad" = 0 ] && [ "$(jq -r '.time' "$log" | grep -c .)" = "$(wc -l <"$log")" ] &&
	jq -c --arg d "$ns/counter" 'select(.component=="rollout" and .deployment==$d and .step=="savepoint-taken" and (.msg | test("the next job starts from")) and (.pass >= 1))' "$log" | grep -q . &&
	jq -c 'select(.component=="agent" and (.msg | test("^pass [0-9]+: ")) and (.duration_ms >= 0) and (.pass >= 1))' "$log" | grep -q .; then
	ok "FLINKOPS_LOG_FORMAT=json: $(wc -l <"$log") lines, each a JSON object; rollout lines carry deployment, step and pass ($rollout_fields)"
else
	fail "JSON log: $bad lines not JSON; rollout fields: $rollout_fields; $(head -2 "$log")"
fi

agent_term
[ $term_rc = 0 ] && [ $term_ms -le 30000 ] && ok "the second agent, idle: SIGTERM, exit 0 after $term_ms ms" ||
	fail "second SIGTERM: rc=$term_rc after $term_ms ms $(tail -3 "$log")"
