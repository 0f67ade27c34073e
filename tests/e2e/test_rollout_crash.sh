#!/usr/bin/env bash
# rig: k8s git flink s3
# Crash safety and the other job transitions against the rig's real
# servers: the agent killed (SIGKILL) at every crash point the code names —
# the moment each journal step is recorded, and right after each request
# that changes a job — then run again: the upgrade completes once, with one
# savepoint per stop, exactly one job submitted to Flink (journaled or not),
# restored from exactly the stop's savepoint (or, last-state, the old job's
# newest checkpoint), and the counter never resets;
# suspend and resume through job.state; deleting the file takes a final
# savepoint before the objects go, even when killed right after it.
# With CRASH_SESSION_JOB set (test_session_crash.sh), the same for a
# FlinkSessionJob "counter" on the session cluster sess: its own journal
# and status file, no objects of its own.
NAME=crash${CRASH_SESSION_JOB:+-sj}
. "$(dirname "$0")/lib-rollout.sh"
if [ -n "${CRASH_SESSION_JOB:-}" ]; then
	session sess 3 >"$tmp/work/jobs/sess.yaml"
	deployment() { # deployment PARALLELISM MODE [EXTRA_ARGS] [SAVEPOINT_DIR], as a session job
		cat <<EOF
apiVersion: flink.apache.org/v1beta1
kind: FlinkSessionJob
metadata: {name: counter, namespace: $ns}
spec:
  deploymentName: sess
  job:
    jarURI: s3://$RIG_S3_BUCKET/$RIG_S3_TEST_KEY
    entryClass: $RIG_FLINK_JOB_CLASS
    args: [--counter-file, $counter, --report-ms, "100"${3:-}]
    parallelism: $1
    upgradeMode: $2
${4:+    savepointStorage: $4}
EOF
	}
fi

# every job the rig's Flink knows, one id a line (tests run one at a time:
# a job not known before this test started is this test's)
flink_jobs() { curl -s "$RIG_FLINK_URL/jobs/overview" | jq -r '.jobs[].jid' | sort; }
# Every crash point the code defines (journal steps, and right after each
# request to Flink that changes a job), read from the binary, so that a new
# step is covered without editing this test. Points on the cancel path are
# reached by a last-state upgrade, the others by a savepoint upgrade. The
# list may grow, never lose a point: an empty or short list would skip the
# sweep and pass.
read_crash_points || exit 1
flink_jobs >"$tmp/known"
start_counter
sleep 2

p=1
for point in $points; do
	case $point in *cancel*) mode=last-state ;; *) mode=savepoint ;; esac
	p=$((p % 3 + 1))
	deployment $p $mode >"$tmp/work/jobs/counter.yaml"
	publish "parallelism $p ($mode)" >/dev/null
	flink_jobs >"$tmp/known"
	# (in a subshell, so that the shell's own "Killed" notice stays out of the output)
	(
		FLINKOPS_CRASH_AFTER=$point "$FLINKOPS" sync --config "$tmp/config.yaml" --once -o json >"$tmp/out.json" 2>"$tmp/err"
		echo $? >"$tmp/crc"
	) 2>/dev/null
	crc=$(cat "$tmp/crc")
	step=$(journal .step)
	stop=$(cat "$counter")
	sync_once
	rm -f "$counter"
	new=$(journal .jobId)
	echo "$new" >>"$tmp/ours"
	first=$(wait_counter)
	n_ours=$(ours_running)
	# every job Flink got since the crash, journaled or not (one the killed
	# agent submitted and the next pass abandoned is one of them): exactly
	# the new one
	fresh=$(flink_jobs | grep -vxF -f "$tmp/known" | tr '\n' ' ' | sed 's/ $//')
	printf '%s\n' $fresh >>"$tmp/ours" # the cleanup cancels them all
	nsp=$(savepoints_of "$job")
	want_sp=1
	kept=yes
	if [ $mode = last-state ]; then
		# no savepoint: the new job starts from the old one's newest retained
		# checkpoint, as Flink reports it now that the old job has ended (its
		# count may be below the last one published before the cancel)
		want_sp=0
		newest=$(curl -s "$RIG_FLINK_URL/jobs/$job/checkpoints" | jq -r '.latest.completed.external_path // empty')
		restored=$(curl -s "$RIG_FLINK_URL/jobs/$new/checkpoints" | jq -r '.latest.restored.external_path // empty')
		[ -n "$newest" ] && [ "$restored" = "$newest" ] && [ "$first" -gt 0 ] || kept="no: restored $restored, newest $newest"
	else
		# the new job starts from exactly the savepoint the stop took: the one
		# Flink reported for the old job, the journal's and the status file's
		flink_sp=$(curl -s "$RIG_FLINK_URL/jobs/$job/checkpoints" | jq -r '.latest.savepoint.external_path // empty')
		restored=$(restored "$new")
		jsp=$(journal .savepointPath)
		ssp=$(status_field lastSavepoint)
		[ -n "$flink_sp" ] && [ "$restored" = "$flink_sp" ] && [ "$jsp" = "$flink_sp" ] && [ "$ssp" = "$flink_sp" ] &&
			[ "$first" -ge "$stop" ] ||
			kept="no: restored '$restored', Flink's savepoint of the stop '$flink_sp', journal '$jsp', status '$ssp', counter $stop -> $first"
	fi
	if [ "$crc" = 137 ] && [ $rc = 0 ] && [ "$(job_state "$job")" != RUNNING ] && [ "$nsp" = $want_sp ] &&
		[ "$new" != "$job" ] && [ "$(job_state "$new")" = RUNNING ] && [ $n_ours = 1 ] && [ "$kept" = yes ] &&
		[ "$fresh" = "$new" ] && [ "$(journal .step)" = idle ]; then
		ok "killed after $point ($mode, journal at $step), run again: $nsp savepoint$([ "$nsp" = 1 ] || echo s) of the old job, one new job ($new, the only job Flink got) restored from $restored; counter $stop -> $first"
	else
		fail "crash after $point ($mode): exit $crc step=$step rc=$rc old=$(job_state "$job") savepoints=$nsp new=$new running=$n_ours jobs Flink got: [$fresh] counter $stop -> $first kept=$kept $(head -2 "$tmp/err")"
	fi
	job=$new
	sleep 2
done
deployment 1 savepoint >"$tmp/work/jobs/counter.yaml"
publish "back to savepoint mode" >/dev/null
sync_once
job=$(journal .jobId)
echo "$job" >>"$tmp/ours"

# --- suspend and resume through job.state ------------------------------------
sed -i 's/^    upgradeMode: savepoint$/    upgradeMode: savepoint\n    state: suspended/' "$tmp/work/jobs/counter.yaml"
publish "suspend" >/dev/null
sync_once
tm=$($K -n $ns get sts counter-taskmanager -o jsonpath='{.spec.replicas}')
ssp=$(journal .savepointPath)
stop=$(cat "$counter")
# (a session job's cluster keeps its TaskManagers)
[ -n "${CRASH_SESSION_JOB:-}" ] && tm=0
if [ $rc = 0 ] && [ "$(job_state "$job")" = FINISHED ] && [ "$(journal .savepointReason)" = suspend ] && [ "$tm" = 0 ] &&
	[ "$(status_field phase)" = Suspended ]; then
	ok "suspend: stopped with savepoint $ssp, $([ -n "${CRASH_SESSION_JOB:-}" ] && echo "its cluster left as it is" || echo "StatefulSets at 0"), status Suspended"
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
# killed right after the final savepoint is recorded: the next pass still
# knows it, deletes the objects and records it in the status file
git -C "$tmp/work" rm -q jobs/counter.yaml
publish "delete" >/dev/null
(
	FLINKOPS_CRASH_AFTER=savepoint-taken "$FLINKOPS" sync --config "$tmp/config.yaml" --once --force-prune -o json >"$tmp/out.json" 2>"$tmp/err"
	echo $? >"$tmp/crc"
) 2>/dev/null
dsp=$(journal .savepointPath)
kept=$($K -n $ns get statefulset -l app.kubernetes.io/instance=counter -o name | wc -l)
want_kept=2
[ -n "${CRASH_SESSION_JOB:-}" ] && want_kept=0 # a session job has no objects of its own
if [ "$(cat "$tmp/crc")" = 137 ] && [ "$(journal .savepointReason)" = delete ] && [ -n "$dsp" ] && [ "$kept" = $want_kept ]; then
	ok "delete killed after the final savepoint: the journal holds it ($dsp)$([ -n "${CRASH_SESSION_JOB:-}" ] || echo ", the objects are still there")"
else
	fail "delete crash: exit $(cat "$tmp/crc") reason=$(journal .savepointReason) sp=$dsp statefulsets=$kept"
fi
"$FLINKOPS" sync --config "$tmp/config.yaml" --once --force-prune -o json >"$tmp/out.json" 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && status_file | grep -q "path: $dsp" && ! $K -n $ns get configmap flink-journal-counter >/dev/null 2>&1; then
	ok "the next pass deletes the objects, records $dsp in the status file, and only then drops the journal"
else
	fail "after the delete crash: rc=$rc $(status_file | grep -A3 lastSavepoint | tr '\n' ' ') $(head -2 "$tmp/err")"
fi
left=$($K -n $ns get configmap,service,statefulset -l app.kubernetes.io/instance=counter -o name | wc -l)
if [ $rc = 0 ] && [ "$(job_state "$job")" = FINISHED ] && [ "$left" = 0 ] && [ "$(status_field phase)" = Deleted ] &&
	status_file | grep -q 'reason: delete'; then
	ok "delete: final savepoint $(status_field lastSavepoint) in the status, objects gone"
else
	fail "delete: rc=$rc state=$(job_state "$job") left=$left phase=$(status_field phase) $(head -2 "$tmp/err")"
fi
