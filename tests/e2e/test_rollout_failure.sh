#!/usr/bin/env bash
# rig: k8s git flink s3
# A job that fails at runtime (the counter job's fail marker, with Flink's
# own restarts off) is started again by the next pass from its newest
# retained checkpoint, within the restart budget; past the budget the
# deployment is Failed with Flink's cause, in the status file too.
NAME=fail
EXTRA_FLINK="  restartBudget: 1"
. "$(dirname "$0")/lib-rollout.sh"

marker=$tmp/marker
start_counter ", --fail-marker, $marker, --restart-attempts, \"0\""
# let it count and complete a few checkpoints
for _ in $(seq 1 50); do
	n=$(curl -s "$RIG_FLINK_URL/jobs/$job/checkpoints" | jq -r '.counts.completed // 0')
	[ "$n" -ge 2 ] && break
	sleep 0.2
done

touch "$marker"
for _ in $(seq 1 50); do [ "$(job_state "$job")" = FAILED ] && break; sleep 0.2; done
rm -f "$marker"
failed_at=$(cat "$counter")
sync_once
rm -f "$counter"
new=$(journal .jobId)
echo "$new" >>"$tmp/ours"
first=$(wait_counter)
restored=$(restored "$new")
# the failed job's newest completed checkpoint, as Flink reports it now that
# its statistics are final (the pass waited for them)
newest=$(curl -s "$RIG_FLINK_URL/jobs/$job/checkpoints" | jq -r '.latest.completed.external_path // empty')
# sync --once waits for the restarted job's first checkpoint: healthy again,
# its restart budget is whole again (restarts count since the last healthy run)
if [ $rc = 0 ] && [ "$new" != "$job" ] && [ "$(job_state "$new")" = RUNNING ] && [ "$(journal .restarts // 0)" = 0 ] &&
	[ -n "$newest" ] && [ "$restored" = "$newest" ] && grep -q '/chk-[0-9]*$' <<<"$restored" && [ "$first" -gt 1 ]; then
	ok "a job that failed at runtime is restarted by the next pass from its newest checkpoint $restored (counter $failed_at at the failure, $first after), and once healthy its restart budget is whole again"
else
	fail "restart: rc=$rc new=$new restarts=$(journal .restarts) restored '$restored', the failed job's newest checkpoint '$newest'; first=$first $(head -2 "$tmp/err")"
fi

# It fails again: with the budget given back it is restarted once more, and
# that job (the marker still there) fails before it is ever healthy: past
# the budget, the deployment is Failed.
touch "$marker"
for _ in $(seq 1 50); do [ "$(job_state "$new")" = FAILED ] && break; sleep 0.2; done
sync_once
last=$(journal .jobId)
if [ $rc = 1 ] && grep -q 'FAILED after 1 restart: .*fail marker present' "$tmp/err" && [ "$(journal .step)" = failed ] &&
	[ "$(status_field phase)" = Failed ] && grep -q 'fail marker present' <<<"$(status_field message)"; then
	ok "past the restart budget: exit 1, status Failed with Flink's cause"
else
	fail "budget: rc=$rc step=$(journal .step) phase=$(status_field phase) $(head -2 "$tmp/err")"
fi
echo "$last" >>"$tmp/ours"
if events RestartBudgetExhausted | grep -q "job [0-9a-f]* is FAILED after 1 restart: .*fail marker present" &&
	[ -z "$(events UpgradeFailed)" ]; then
	ok "Event RestartBudgetExhausted (not UpgradeFailed) with Flink's cause on counter-jobmanager"
else
	fail "budget event: $($K -n $ns get events -o custom-columns=REASON:.reason,MSG:.message --no-headers | tr '\n' ';')"
fi
rm -f "$marker"
