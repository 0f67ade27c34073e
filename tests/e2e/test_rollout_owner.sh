#!/usr/bin/env bash
# rig: k8s git flink s3
# A deployment belongs to one agent. A job and a session cluster are
# deployed by agent A (`sync --once`), the job upgraded once (so that its
# journal's attempt counter is past 1); then agent.name is changed to B under
# the running job: B's listing (by its own label) holds neither the journal
# nor the objects, which used to look like a new deployment — the journal
# overwritten unread and a second job started from empty state beside the
# running one. Now B reads them by name, finds A's, and leaves them alone:
# the pass fails, both deployments are Failed with a message naming A and
# what to do, Flink runs the one job it ran (same id), the journal holds A's
# record byte for byte, and B wrote nothing to the cluster. agent.name set
# back to A carries on as before.
NAME=owner
. "$(dirname "$0")/lib-rollout.sh"
agent_a=e2e-$NAME-$$
agent_b=e2e-$NAME-$$-b
set_agent() { sed -i "s|^agent: {name: .*}|agent: {name: $1}|" "$tmp/config.yaml"; }
running_jobs() { curl -s "$RIG_FLINK_URL/jobs/overview" | jq -r '.jobs[] | select(.state=="RUNNING") | .jid' | sort; }
label_of() { $K -n $ns get "$1" -o jsonpath='{.metadata.labels.flinkops\.io/agent}'; }
error_of() { jq -r --arg n "$1" '.deployments[] | select(.name==$n) | .error // ""' "$tmp/out.json"; }

session s1 >"$tmp/work/jobs/s1.yaml"
start_counter
# an upgrade, so that the journal's attempt is past what an empty journal
# would submit under: an agent that took the journal for absent would start
# a job of another id, from empty state, beside this one
sleep 2
deployment 2 savepoint >"$tmp/work/jobs/counter.yaml"
publish "parallelism 2" >/dev/null
sync_once
old_job=$job
job=$(journal .jobId)
echo "$job" >>"$tmp/ours"
if [ $rc = 0 ] && [ "$job" != "$old_job" ] && [ "$(job_state "$job")" = RUNNING ] && [ "$(journal .attempt)" -ge 2 ]; then
	ok "upgraded by agent $agent_a: job $job RUNNING from savepoint $(journal .savepointPath) (attempt $(journal .attempt))"
else
	fail "upgrade by A: rc=$rc job=$job state=$(job_state "$job") attempt=$(journal .attempt) $(head -3 "$tmp/err")"
fi
journal_a=$($K -n $ns get configmap flink-journal-counter -o jsonpath='{.data.journal\.json}')
if [ "$(jq -r .agent <<<"$journal_a")" = "$agent_a" ] && [ "$(label_of configmap/flink-journal-counter)" = "$agent_a" ] &&
	[ "$(label_of statefulset/s1-jobmanager)" = "$agent_a" ]; then
	ok "agent $agent_a records itself in the journal (\"agent\") and labels it and the objects"
else
	fail "owner recorded: field=$(jq -r .agent <<<"$journal_a") label=$(label_of configmap/flink-journal-counter)"
fi

# --- agent.name changed under the running job --------------------------------
set_agent "$agent_b"
before=$(running_jobs)
sync_once
after=$(running_jobs)
msg=$(error_of counter)
if [ $rc != 0 ] && grep -q "the journal ConfigMap $ns/flink-journal-counter belongs to agent \"$agent_a\"" <<<"$msg" &&
	grep -q "not to this agent \"$agent_b\"" <<<"$msg" && grep -q "set it back to \"$agent_a\"" <<<"$msg" &&
	grep -q "flinkops.io/agent=$agent_b --overwrite" <<<"$msg" &&
	[ "$(jq -r '.deployments[] | select(.name=="counter") | .outcome' "$tmp/out.json")" = failed ]; then
	ok "agent.name changed: the pass fails (exit $rc), counter Failed: $(cut -c1-150 <<<"$msg")..."
else
	fail "foreign journal: rc=$rc error=$msg $(head -3 "$tmp/err")"
fi
if [ "$after" = "$before" ] && [ "$(job_state "$job")" = RUNNING ] && [ "$(ours_running)" = 1 ]; then
	ok "no second job: Flink runs the same jobs as before the pass, job $job still RUNNING"
else
	fail "jobs: before=[$before] after=[$after] state=$(job_state "$job")"
fi
journal_now=$($K -n $ns get configmap flink-journal-counter -o jsonpath='{.data.journal\.json}')
if [ "$journal_now" = "$journal_a" ] && [ "$(jq -r .jobId <<<"$journal_now")" = "$job" ] &&
	[ "$(label_of configmap/flink-journal-counter)" = "$agent_a" ] &&
	[ "$(label_of statefulset/counter-jobmanager)" = "$agent_a" ] &&
	[ "$(jq -r '.requests.writes' "$tmp/out.json")" = 0 ]; then
	ok "the journal holds agent $agent_a's record byte for byte (job $job), its objects keep their label, nothing written to the cluster"
else
	fail "journal after B: writes=$(jq -r '.requests.writes' "$tmp/out.json") label=$(label_of configmap/flink-journal-counter) $(diff <(echo "$journal_a") <(echo "$journal_now"))"
fi
s1msg=$(error_of s1)
if grep -q "s1-jobmanager belongs to agent \"$agent_a\"" <<<"$s1msg" || grep -q "belongs to agent \"$agent_a\"" <<<"$s1msg"; then
	ok "a session cluster (no journal) of agent $agent_a: Failed too, its objects not applied over: $(cut -c1-100 <<<"$s1msg")..."
else
	fail "session of another agent: $s1msg"
fi
if [ "$(status_field phase)" = Failed ] && grep -q "belongs to agent \"$agent_a\"" <<<"$(status_field message)"; then
	ok "the status file says Failed, with the message"
else
	fail "status under B: phase=$(status_field phase) message=$(status_field message)"
fi

# --- set back: carries on ---------------------------------------------------
set_agent "$agent_a"
sync_once
if [ $rc = 0 ] && [ "$(journal .jobId)" = "$job" ] && [ "$(job_state "$job")" = RUNNING ] && [ "$(ours_running)" = 1 ] &&
	[ "$(running_jobs)" = "$before" ] && [ "$(status_field phase)" = Running ] && [ -z "$(error_of s1)" ]; then
	ok "agent.name back to $agent_a: the pass succeeds, job $job runs on, status Running"
else
	fail "back to A: rc=$rc job=$(journal .jobId) state=$(job_state "$job") phase=$(status_field phase) $(head -3 "$tmp/err")"
fi
