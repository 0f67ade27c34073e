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
if [ $rc = 0 ] && [ "$new" != "$job" ] && [ "$(job_state "$new")" = RUNNING ] && [ "$(journal .restarts)" = 1 ] &&
	[ -n "$newest" ] && [ "$restored" = "$newest" ] && grep -q '/chk-[0-9]*$' <<<"$restored" && [ "$first" -gt 1 ]; then
	ok "a job that failed at runtime is restarted by the next pass from its newest checkpoint $restored (counter $failed_at at the failure, $first after)"
else
	fail "restart: rc=$rc new=$new restarts=$(journal .restarts) restored '$restored', the failed job's newest checkpoint '$newest'; first=$first $(head -2 "$tmp/err")"
fi

touch "$marker"
for _ in $(seq 1 50); do [ "$(job_state "$new")" = FAILED ] && break; sleep 0.2; done
sync_once
if [ $rc = 1 ] && grep -q 'FAILED after 1 restart: .*fail marker present' "$tmp/err" && [ "$(journal .step)" = failed ] &&
	[ "$(status_field phase)" = Failed ] && grep -q 'fail marker present' <<<"$(status_field message)"; then
	ok "past the restart budget: exit 1, status Failed with Flink's cause"
else
	fail "budget: rc=$rc step=$(journal .step) phase=$(status_field phase) $(head -2 "$tmp/err")"
fi
if events RestartBudgetExhausted | grep -q "job $new is FAILED after 1 restart: .*fail marker present" &&
	[ -z "$(events UpgradeFailed)" ]; then
	ok "Event RestartBudgetExhausted (not UpgradeFailed) with Flink's cause on counter-jobmanager"
else
	fail "budget event: $($K -n $ns get events -o custom-columns=REASON:.reason,MSG:.message --no-headers | tr '\n' ';')"
fi
rm -f "$marker"
