#!/usr/bin/env bash
# rig: k8s git flink s3
# Crash safety and the other job transitions against the rig's real
# servers: the agent killed (SIGKILL, at the moment a step is recorded)
# after the savepoint, after the apply and after the jar upload, then run
# again — the upgrade completes once, from the recorded savepoint, and the
# counter never resets; suspend and resume through job.state; deleting the
# file takes a final savepoint before the objects go.
NAME=crash
. "$(dirname "$0")/lib-rollout.sh"

savepoints_of() { ls "$RIG_FLINK_SAVEPOINT_DIR" 2>/dev/null | grep -c "^savepoint-${1:0:6}-" ; }
deployment 1 savepoint >"$tmp/work/jobs/counter.yaml"
publish "counter job" >/dev/null
sync_once
job=$(journal .jobId)
echo "$job" >>"$tmp/ours"
[ $rc = 0 ] && [ "$(job_state "$job")" = RUNNING ] && ok "job $job RUNNING" || fail "create: rc=$rc $(head -3 "$tmp/err")"
sleep 2

p=1
for point in savepoint-taken applied uploaded; do
	p=$((p % 3 + 1))
	deployment $p savepoint >"$tmp/work/jobs/counter.yaml"
	publish "parallelism $p" >/dev/null
	# (in a subshell, so that the shell's own "Killed" notice stays out of the output)
	# (a subshell that outlives the command reports the kill to /dev/null, not here)
	(
		FLINKOPS_CRASH_AFTER=$point "$FLINKOPS" sync --config "$tmp/config.yaml" --once -o json >"$tmp/out.json" 2>"$tmp/err"
		echo $? >"$tmp/crc"
	) 2>/dev/null
	crc=$(cat "$tmp/crc")
	step=$(journal .step)
	sp=$(journal .savepointPath)
	stop=$(cat "$counter")
	sync_once
	rm -f "$counter"
	new=$(journal .jobId)
	echo "$new" >>"$tmp/ours"
	first=$(wait_counter)
	running=$(curl -s "$RIG_FLINK_URL/jobs/overview" | jq -r '[.jobs[] | select(.state=="RUNNING") | .jid] | join(" ")')
	n_ours=0
	for j in $running; do grep -qx "$j" "$tmp/ours" && n_ours=$((n_ours + 1)); done
	if [ $crc = 137 ] && [ "$step" = "$point" ] && [ $rc = 0 ] && [ "$(job_state "$job")" = FINISHED ] &&
		[ "$(savepoints_of "$job")" = 1 ] && [ "$(journal .savepointPath)" = "$sp" ] && [ "$new" != "$job" ] &&
		[ "$(job_state "$new")" = RUNNING ] && [ $n_ours = 1 ] && [ "$first" -ge "$stop" ]; then
		ok "killed after $point, run again: one savepoint, one new job ($new) from $sp; counter $stop -> $first"
	else
		fail "crash after $point: exit $crc step=$step rc=$rc old=$(job_state "$job") savepoints=$(savepoints_of "$job") new=$new running=$n_ours counter $stop -> $first $(head -2 "$tmp/err")"
	fi
	job=$new
	sleep 2
done

# --- suspend and resume through job.state ------------------------------------
sed -i 's/^    upgradeMode: savepoint$/    upgradeMode: savepoint\n    state: suspended/' "$tmp/work/jobs/counter.yaml"
publish "suspend" >/dev/null
sync_once
tm=$($K -n $ns get sts counter-taskmanager -o jsonpath='{.spec.replicas}')
ssp=$(journal .savepointPath)
stop=$(cat "$counter")
if [ $rc = 0 ] && [ "$(job_state "$job")" = FINISHED ] && [ "$(journal .savepointReason)" = suspend ] && [ "$tm" = 0 ] &&
	[ "$(status_field phase)" = Suspended ]; then
	ok "suspend: stopped with savepoint $ssp, StatefulSets at 0, status Suspended"
else
	fail "suspend: rc=$rc state=$(job_state "$job") reason=$(journal .savepointReason) tm=$tm phase=$(status_field phase) $(head -2 "$tmp/err")"
fi
sed -i '/^    state: suspended$/d' "$tmp/work/jobs/counter.yaml"
publish "resume" >/dev/null
sync_once
rm -f "$counter"
job=$(journal .jobId)
echo "$job" >>"$tmp/ours"
first=$(wait_counter)
if [ $rc = 0 ] && [ "$(job_state "$job")" = RUNNING ] && [ "$first" -ge "$stop" ] && [ "$(status_field phase)" = Running ]; then
	ok "resume: job $job from the suspend savepoint, counter $stop -> $first"
else
	fail "resume: rc=$rc job=$job first=$first stop=$stop $(head -2 "$tmp/err")"
fi

# --- delete: a final savepoint, then the objects go -----------------------------
git -C "$tmp/work" rm -q jobs/counter.yaml
publish "delete" >/dev/null
"$FLINKOPS" sync --config "$tmp/config.yaml" --once --force-prune -o json >"$tmp/out.json" 2>"$tmp/err"
rc=$?
left=$($K -n $ns get configmap,service,statefulset -l app.kubernetes.io/instance=counter -o name | wc -l)
if [ $rc = 0 ] && [ "$(job_state "$job")" = FINISHED ] && [ "$left" = 0 ] && [ "$(status_field phase)" = Deleted ] &&
	status_file | grep -q 'reason: delete'; then
	ok "delete: final savepoint $(status_field lastSavepoint) in the status, objects gone"
else
	fail "delete: rc=$rc state=$(job_state "$job") left=$left phase=$(status_field phase) $(head -2 "$tmp/err")"
fi
