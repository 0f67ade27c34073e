#!/usr/bin/env bash
# rig: k8s git flink s3
# `flinkops plan --live` names the state a last-state upgrade would resume
# from, read from the rig's Flink: the running counter job's newest
# checkpoint, its path and its age. The counter job's snapshots are held
# back with its slow-snapshot marker, so the newest checkpoint is fixed while
# the plan reads it:
#   - no checkpoint completed yet: the state is "none" and the plan warns
#     that the upgrade would fail;
#   - a checkpoint completed and then held for a few seconds: the plan names
#     exactly Flink's newest checkpoint and an age of at least those seconds,
#     warns past --max-state-age, not below it, and -o json says the same;
#   - nothing in the cluster or in Flink changed (the same job runs).
NAME=planstate
. "$(dirname "$0")/lib-rollout.sh"
marker=$tmp/slow-snapshots
slow_args=", --slow-snapshot-marker, $marker"
trap 'rm -f "$marker"; cleanup' EXIT

latest() { curl -s "$RIG_FLINK_URL/jobs/$1/checkpoints" | jq -r ".latest.completed.$2 // empty"; }
completed() { curl -s "$RIG_FLINK_URL/jobs/$1/checkpoints" | jq -r '.counts.completed // 0'; }
plan_live() { "$FLINKOPS" plan --live --config "$tmp/config.yaml" --manifests "$tmp/work/jobs" "$@" >"$tmp/plan" 2>"$tmp/plan.err"; prc=$?; }

# --- the job runs, but has completed no checkpoint --------------------------
touch "$marker"
deployment 1 last-state "$slow_args" >"$tmp/work/jobs/counter.yaml"
publish "counter job, last-state, its checkpoints held back" >/dev/null
# (short syncs: the first checkpoint, which the sync would wait for, is held;
# the JobManager may take a while to be Ready on a loaded machine)
deadline=$((SECONDS + 180))
while [ $SECONDS -lt $deadline ]; do
	"$FLINKOPS" sync --config "$tmp/config.yaml" --once --timeout 3s -o json >"$tmp/out.json" 2>"$tmp/err"
	job=$(journal '.jobId // empty')
	[ -n "$job" ] && [ "$(job_state "$job")" = RUNNING ] && break
done
job=$(journal .jobId)
echo "$job" >>"$tmp/ours"
if [ "$(job_state "$job")" != RUNNING ]; then
	fail "the counter job did not start: $(tail -3 "$tmp/err")"
	exit 0
fi
deployment 2 last-state "$slow_args" >"$tmp/work/jobs/counter.yaml" # a pending edit, not pushed
plan_live
if [ $prc = 2 ] && grep -q "^$ns/counter: last-state upgrade" "$tmp/plan" &&
	grep -qx "  state: none: job $job has completed no checkpoint" "$tmp/plan" &&
	grep -q "^  warning: a last-state upgrade needs a completed checkpoint and job $job has none: the upgrade fails" "$tmp/plan"; then
	ok "no checkpoint yet: the plan says so and warns that the last-state upgrade would fail"
else
	fail "no checkpoint: rc=$prc $(grep -E 'counter|state:|warning:' "$tmp/plan" | head -8) $(head -3 "$tmp/plan.err")"
fi

# --- a checkpoint completes, then the next ones are held ----------------------
rm -f "$marker"
for _ in $(seq 1 150); do [ "$(completed "$job")" -ge 1 ] && break; sleep 0.2; done
touch "$marker"
sleep 1.5 # a snapshot already past the marker may still complete
path=$(latest "$job" external_path)
sleep 3
if [ -z "$path" ] || [ "$(latest "$job" external_path)" != "$path" ]; then
	fail "Flink's newest checkpoint did not hold still: '$path' then '$(latest "$job" external_path)'"
	exit 0
fi
age_at_least=$((($(date +%s%3N) - $(latest "$job" trigger_timestamp)) / 1000))
plan_live
line=$(grep '^  state: ' "$tmp/plan")
secs=$(sed -n 's/.*, taken \([0-9]*\)s ago$/\1/p' <<<"$line")
if [ $prc = 2 ] && [ "$line" = "  state: the newest checkpoint of job $job, $path, taken ${secs}s ago" ] &&
	[ -n "$secs" ] && [ "$secs" -ge "$age_at_least" ] && [ "$secs" -ge 3 ] && [ "$secs" -lt 60 ] &&
	! grep -q 'warning: the state the job starts from' "$tmp/plan"; then
	ok "the plan names Flink's newest checkpoint $path and its age (${secs}s); under the default limit of 1h, no warning"
else
	fail "checkpoint line: rc=$prc want path $path, age >= $age_at_least s; got: $line $(head -3 "$tmp/plan.err")"
fi
plan_live --max-state-age 2s
if [ $prc = 2 ] && grep -q "^  warning: the state the job starts from is [0-9]*s old, older than 2s (--max-state-age)" "$tmp/plan"; then
	ok "--max-state-age 2s: the checkpoint is older, the plan warns"
else
	fail "age warning: rc=$prc $(grep -E 'state:|warning:' "$tmp/plan")"
fi
plan_live -o json --max-state-age 10m
st=$(jq -c --arg n counter '.deployments[] | select(.name==$n) | .state' "$tmp/plan" 2>/dev/null)
if [ $prc = 2 ] && [ "$(jq -r .from <<<"$st")" = checkpoint ] && [ "$(jq -r .path <<<"$st")" = "$path" ] &&
	[ "$(jq -r .ageSeconds <<<"$st")" -ge 3 ] &&
	! jq -e '.deployments[] | select(.name=="counter") | .warnings // [] | any(test("older than"))' "$tmp/plan" >/dev/null; then
	ok "-o json: state {from: checkpoint, path, ageSeconds $(jq -r .ageSeconds <<<"$st")}, no age warning under 10m"
else
	fail "json state: rc=$prc $st"
fi

# --- plan changed nothing ------------------------------------------------------
if [ "$(journal .jobId)" = "$job" ] && [ "$(job_state "$job")" = RUNNING ] && [ "$(ours_running)" = 1 ]; then
	ok "the same job $job still runs: plan --live read, and changed nothing"
else
	fail "after plan: journal job $(journal .jobId), $job $(job_state "$job"), ours running $(ours_running)"
fi
rm -f "$marker"
