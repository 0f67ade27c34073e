#!/usr/bin/env bash
# rig: k8s git flink s3 pods
# Application clusters on the rig's real node: the job's jar is in the
# image (jarURI local:///opt/flink/usrlib/counter.jar, the rig's
# application image in two tags), and the JobManager runs the job itself
# (standalone-job) under the job id flinkops journaled, from the state it
# chose. The FlinkDeployment is the application-mode example of
# docs/flinkdeployment.md with what this machine needs changed: that image,
# the counter job, state on a folder every pod mounts, a checkpoint every
# 2 s, and the API server relay Flink's Kubernetes HA reaches (as
# tests/e2e/test_pods_ha.sh).
#   - create: the job RUNNING on its own JobManager under the journaled id;
#   - an image bump v1 -> v2: plan --live says what the sync then does;
#     the job stopped with a savepoint, both StatefulSets rolled to v2, the
#     new job restored from exactly that savepoint, the counter continues;
#     afterwards plan --live and a second sync see nothing to change;
#   - the JobManager pod deleted under the running job: the same job comes
#     back (Kubernetes HA) from its newest checkpoint, never older state;
#   - the agent SIGKILLed at every crash point of the application path,
#     then run again: one job, a new one, from exactly the old one's final
#     state, one savepoint per stop, the counter never resets;
#   - last-state: the new job restores exactly the newest retained
#     checkpoint; suspend -> resume and a delete, each with its savepoint in
#     the status file; stateless starts empty and says so.
NAME=pods-app
. "$(dirname "$0")/lib-pods.sh"
: "${RIG_PODS_APISERVER_IP:?}" "${RIG_PODS_APISERVER_PORT:?}" "${RIG_PODS_APP_REPOSITORY:?}" "${RIG_PODS_APP_JAR:?}"
: "${RIG_PODS_APP_TAG_1:?}" "${RIG_PODS_APP_TAG_2:?}" "${RIG_PODS_APP_JOB_CLASS:?}"

pods_ha_account

# app TAG MODE [STATE] [REPORT_MS]: the example of docs/flinkdeployment.md, for this machine
app() {
	sed -n '/<!-- example: application-mode -->/,/^```$/p' "$(dirname "$0")/../../docs/flinkdeployment.md" | sed -e '1,2d' -e '$d' \
		-e "s|name: clicks|name: counter|" -e "s|namespace: default|namespace: $ns|" \
		-e "s|image: .*|image: $RIG_PODS_APP_REPOSITORY:$1|" \
		-e "s|high-availability.storageDir: .*|high-availability.storageDir: file://$shared/ha|" \
		-e "s|execution.checkpointing.interval: .*|execution.checkpointing.interval: 2s|" \
		-e "s|execution.checkpointing.dir: .*|execution.checkpointing.dir: file://$shared/checkpoints|" \
		-e "s|jarURI: .*|jarURI: $RIG_PODS_APP_JAR|" \
		-e "s|entryClass: .*|entryClass: $RIG_PODS_APP_JOB_CLASS\n    args: [--counter-file, $counter, --report-ms, \"${4:-100}\"]\n    state: ${3:-running}|" \
		-e "s|upgradeMode: .*|upgradeMode: $2|" \
		-e "s|savepointStorage: .*|savepointStorage: file://$shared/savepoints|"
	pods_template
}
# plan_live [ARGS...]: plan --live -o json against the cluster and the JobManager; sets prc, $tmp/plan
plan_live() {
	unshare -m bash -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' _ "$tmp/resolv.conf" \
		"$FLINKOPS" plan --live --config "$tmp/config.yaml" --manifests "$tmp/work/jobs" -o json "$@" \
		>"$tmp/plan" 2>"$tmp/plan.err"
	prc=$?
}
planned() { jq -r --arg f "$1" '.deployments[] | select(.name=="counter") | '"$1"' // empty' "$tmp/plan"; }
sts_image() { $K -n $ns get sts "counter-$1" -o jsonpath='{.spec.template.spec.containers[0].image}'; }
sts_ann() { $K -n $ns get sts counter-jobmanager -o jsonpath="{.metadata.annotations.flinkops\.io/$1}"; }
running_jobs() { curl -s --max-time 5 "$(jm_url)/jobs/overview" | jq '[.jobs[] | select(.state=="RUNNING" or .state=="CREATED" or .state=="INITIALIZING" or .state=="RESTARTING")] | length'; }

# --- create: the JobManager runs the job under the journaled id ------------------
app "$RIG_PODS_APP_TAG_1" savepoint >"$tmp/work/jobs/counter.yaml"
"$FLINKOPS" validate "$tmp/work/jobs/counter.yaml" >"$tmp/validate.out" 2>&1 || fail "the example does not validate: $(cat "$tmp/validate.out")"
publish "the README's application-mode example on the rig's node" >/dev/null
t0=$SECONDS
sync_once
job=$(journal .jobId)
if [ $rc = 0 ] && [ -n "$job" ] && [ "$(job_state "$job")" = RUNNING ] && [ "$(sts_ann job-id)" = "$job" ] &&
	[ "$(journal .appliedJobId)" = "$job" ] && [ "$(running_jobs)" = 1 ] && counter_grows_to 30 &&
	[ "$(status_field phase)" = Running ] && [ "$(status_field jobId)" = "$job" ]; then
	ok "the README's application-mode example in $((SECONDS - t0)) s: its JobManager runs job $job, the id journaled and in its arguments; status Running"
else
	fail "create: rc=$rc job=$job state=$(job_state "$job") sts job-id=$(sts_ann job-id) running=$(running_jobs) $(tail -3 "$tmp/err")"
	$K -n $ns get pods -o wide
	exit 1
fi

# --- an image bump: plan, then the savepoint upgrade it promised ------------------
app "$RIG_PODS_APP_TAG_2" savepoint >"$tmp/work/jobs/counter.yaml"
publish "image $RIG_PODS_APP_TAG_2" >/dev/null
plan_live
if [ $prc = 2 ] && [ "$(planned .action)" = upgrade ] && [ "$(planned .state.from)" = savepoint ] &&
	planned .state.jobManagerRestart | grep -q "newest checkpoint"; then
	ok "plan --live on the image bump: upgrade from the savepoint it takes; a JobManager restart: $(planned .state.jobManagerRestart | cut -c1-60)..."
else
	fail "plan on the image bump: rc=$prc action=$(planned .action) from=$(planned .state.from) $(head -3 "$tmp/plan.err")"
fi
before=$(cat "$counter")
t0=$SECONDS
sync_once
job2=$(journal .jobId)
sp=$(journal .savepointPath)
stop=$(cat "$counter")
rm -f "$counter"
first=$(wait_counter)
if [ $rc = 0 ] && [ "$job2" != "$job" ] && [ "$(job_state "$job2")" = RUNNING ] && [ "$(running_jobs)" = 1 ] &&
	[ "$(sts_image jobmanager)" = "$RIG_PODS_APP_REPOSITORY:$RIG_PODS_APP_TAG_2" ] &&
	[ "$(sts_image taskmanager)" = "$RIG_PODS_APP_REPOSITORY:$RIG_PODS_APP_TAG_2" ] &&
	[ "$(journal .savepointReason)" = upgrade ] && case $sp in "file:$shared/savepoints/savepoint-${job:0:6}-"*) true ;; *) false ;; esac &&
	[ "$(restored "$job2")" = "$sp" ] && [ "$first" -ge "$before" ] && [ "$(status_field lastSavepoint)" = "$sp" ]; then
	ok "image $RIG_PODS_APP_TAG_1 -> $RIG_PODS_APP_TAG_2 in $((SECONDS - t0)) s: $job stopped with $sp, both StatefulSets rolled, $job2 restored from exactly it; counter $before before, $first first after"
else
	fail "image bump: rc=$rc job2=$job2 state=$(job_state "$job2") images=$(sts_image jobmanager),$(sts_image taskmanager) sp=$sp restored=$(restored "$job2") before=$before first=$first $(tail -3 "$tmp/err")"
fi
rv=$($K -n $ns get sts counter-jobmanager -o jsonpath='{.metadata.resourceVersion}')
plan_live
p1=$prc
sync_once
if [ $p1 = 0 ] && [ $rc = 0 ] && [ "$(journal .jobId)" = "$job2" ] && [ "$(job_state "$job2")" = RUNNING ] &&
	[ "$($K -n $ns get sts counter-jobmanager -o jsonpath='{.metadata.resourceVersion}')" = "$rv" ]; then
	ok "after the upgrade: plan --live sees nothing to change, and a sync changes nothing (the JobManager's start is the journaled one)"
else
	fail "after the upgrade: plan rc=$p1 ($(planned .action)), sync rc=$rc job=$(journal .jobId) rv $rv -> $($K -n $ns get sts counter-jobmanager -o jsonpath='{.metadata.resourceVersion}')"
fi

# --- the JobManager pod deleted: Kubernetes HA brings the job back from its newest checkpoint
sleep 5 # a few checkpoints
ck_before=$(newest_checkpoint "$job2")
$K -n $ns delete pod counter-jobmanager-0 --wait=true >/dev/null
t0=$SECONDS
back=
for _ in $(seq 1 120); do
	[ "$(job_state "$job2" 2>/dev/null)" = RUNNING ] && [ -n "$(restored "$job2" 2>/dev/null)" ] && { back=yes; break; }
	sleep 1
done
from=$(restored "$job2")
nb=${ck_before##*chk-}
nf=${from##*chk-}
case $from in "file:$shared/checkpoints/$job2/chk-"*) ;; *) nf=-1 ;; esac
sync_once
if [ -n "$back" ] && [ -n "$ck_before" ] && [ "$nf" -ge "$nb" ] && [ $rc = 0 ] && [ "$(journal .jobId)" = "$job2" ] &&
	[ "$(running_jobs)" = 1 ]; then
	ok "JobManager pod deleted: $job2 RUNNING again after $((SECONDS - t0)) s, recovered from $from (the newest before the delete: chk-$nb), not from $sp; a sync leaves it"
else
	fail "JobManager pod deleted: back=$back restored=$from newest before=$ck_before sync rc=$rc job=$(journal .jobId) running=$(running_jobs) $(tail -2 "$tmp/err")"
fi

# --- SIGKILL at every crash point of the application path ----------------------------
# The job's arguments change (its report interval): a new job hash, the
# JobManager's pod alone restarts.
read_crash_points application || exit 1
r=100
for point in $points; do
	case $point in *cancel*) mode=last-state ;; *) mode=savepoint ;; esac
	r=$((r == 100 ? 101 : 100))
	app "$RIG_PODS_APP_TAG_2" $mode running $r >"$tmp/work/jobs/counter.yaml"
	publish "report every $r ms ($mode)" >/dev/null
	stop=$(cat "$counter")
	old=$(journal .jobId)
	(
		FLINKOPS_CRASH_AFTER=$point sync_once
		echo $rc >"$tmp/crc"
	) 2>/dev/null
	crc=$(cat "$tmp/crc")
	step=$(journal .step)
	sync_once
	new=$(journal .jobId)
	live=$(running_jobs)
	rm -f "$counter"
	first=$(wait_counter)
	nsp=$(ls "$shared/savepoints" 2>/dev/null | grep -c "^savepoint-${old:0:6}-")
	want_sp=1
	[ $mode = last-state ] && want_sp=0
	if [ $mode = last-state ]; then
		want_from=$(newest_checkpoint "$old")
	else
		want_from=$(journal .savepointPath)
		case $want_from in
		"file:$shared/savepoints/savepoint-${old:0:6}-"*) [ -d "${want_from#file:}" ] || want_from="(missing) $want_from" ;;
		*) want_from="(not a savepoint of $old) $want_from" ;;
		esac
	fi
	from=$(restored "$new")
	if [ "$crc" = 137 ] && [ $rc = 0 ] && [ "$(job_state "$new")" = RUNNING ] && [ "$live" = 1 ] &&
		[ -n "$new" ] && [ "$new" != "$old" ] && [ -n "$want_from" ] && [ "$from" = "$want_from" ] &&
		[ "$first" -ge "$stop" ] && [ "$(journal .step)" = idle ] && [ "$nsp" = $want_sp ] && [ "$(sts_ann job-id)" = "$new" ]; then
		ok "killed after $point (journal $step), run again: one job, $new (not $old) RUNNING from $from, $nsp savepoint(s) of $old; counter $stop before, $first after"
	else
		fail "crash after $point: crc=$crc step=$step rc=$rc old=$old new=$new state=$(job_state "$new") live=$live restored from '$from', want '$want_from'; savepoints of $old=$nsp stop=$stop first=$first $(tail -2 "$tmp/err")"
	fi
done

# --- last-state: exactly the newest retained checkpoint -------------------------------
old=$(journal .jobId)
app "$RIG_PODS_APP_TAG_1" last-state >"$tmp/work/jobs/counter.yaml"
publish "image $RIG_PODS_APP_TAG_1, last-state" >/dev/null
sleep 3
sync_once
new=$(journal .jobId)
want_from=$(newest_checkpoint "$old")
if [ $rc = 0 ] && [ "$new" != "$old" ] && [ "$(job_state "$new")" = RUNNING ] && [ -n "$want_from" ] &&
	[ "$(restored "$new")" = "$want_from" ] && [ "$(journal .startedFromKind)" = checkpoint ]; then
	ok "last-state image bump: $new restored exactly $old's newest retained checkpoint $want_from"
else
	fail "last-state: rc=$rc new=$new restored=$(restored "$new") want $want_from kind=$(journal .startedFromKind) $(tail -2 "$tmp/err")"
fi

# --- suspend, then resume --------------------------------------------------------------
old=$(journal .jobId)
app "$RIG_PODS_APP_TAG_1" savepoint suspended >"$tmp/work/jobs/counter.yaml"
publish "suspend" >/dev/null
plan_live
if [ $prc = 2 ] && [ "$(planned .action)" = suspend ] && planned .state.text | grep -q "scaled to zero"; then
	ok "plan --live on the suspend: $(planned .state.text | cut -c1-90)..."
else
	fail "plan on the suspend: rc=$prc action=$(planned .action) state=$(planned .state.text)"
fi
sync_once
ssp=$(journal .savepointPath)
stop=$(cat "$counter")
reps=$($K -n $ns get sts counter-jobmanager counter-taskmanager -o jsonpath='{range .items[*]}{.spec.replicas}{end}')
if [ $rc = 0 ] && [ "$(journal .savepointReason)" = suspend ] && [ "$reps" = 00 ] && [ "$(status_field phase)" = Suspended ] &&
	[ "$(status_field lastSavepoint)" = "$ssp" ] && case $ssp in "file:$shared/savepoints/savepoint-${old:0:6}-"*) true ;; *) false ;; esac; then
	ok "suspended: $old stopped with $ssp (in the status file), both StatefulSets at 0"
else
	fail "suspend: rc=$rc reason=$(journal .savepointReason) replicas=$reps phase=$(status_field phase) sp=$ssp status sp=$(status_field lastSavepoint) $(tail -2 "$tmp/err")"
fi
app "$RIG_PODS_APP_TAG_1" savepoint running >"$tmp/work/jobs/counter.yaml"
publish "resume" >/dev/null
sync_once
new=$(journal .jobId)
rm -f "$counter"
first=$(wait_counter)
if [ $rc = 0 ] && [ "$(job_state "$new")" = RUNNING ] && [ "$(restored "$new")" = "$ssp" ] && [ "$first" -ge "$stop" ]; then
	ok "resumed: $new restored from the suspend's $ssp; counter $stop at the suspend, $first first after"
else
	fail "resume: rc=$rc new=$new restored=$(restored "$new") want $ssp stop=$stop first=$first $(tail -2 "$tmp/err")"
fi

# --- stateless: starts empty, and says so --------------------------------------------
old=$new
app "$RIG_PODS_APP_TAG_2" stateless >"$tmp/work/jobs/counter.yaml"
publish "stateless" >/dev/null
plan_live
if [ $prc = 2 ] && [ "$(planned .action)" = upgrade ] &&
	jq -en 'input | .deployments[] | select(.name=="counter") | .warnings // [] | any(test("state is dropped"))' "$tmp/plan" >/dev/null &&
	planned .state.jobManagerRestart | grep -q "newest checkpoint (Kubernetes HA)"; then
	# (with HA, a JobManager restart still recovers the running job's newest checkpoint)
	ok "plan --live on the switch to stateless: upgrade, the state is dropped; a JobManager restart: its newest checkpoint (HA)"
else
	fail "plan on stateless: rc=$prc action=$(planned .action) warnings=$(planned .warnings) jm=$(planned .state.jobManagerRestart)"
fi
sync_once
new=$(journal .jobId)
if [ $rc = 0 ] && [ "$new" != "$old" ] && [ "$(job_state "$new")" = RUNNING ] && [ -z "$(restored "$new")" ] &&
	[ "$(journal .startedFromKind)" = none ] && [ -z "$(sts_ann start-from)" ]; then
	ok "stateless: $new started from empty state, its JobManager given no state to start from"
else
	fail "stateless: rc=$rc new=$new restored=$(restored "$new") kind=$(journal .startedFromKind) start-from=$(sts_ann start-from)"
fi

# --- delete: a final savepoint, recorded before the objects go ---------------------------
app "$RIG_PODS_APP_TAG_2" savepoint >"$tmp/work/jobs/counter.yaml"
publish "savepoint mode again" >/dev/null
sync_once
old=$(journal .jobId)
git -C "$tmp/work" rm -q jobs/counter.yaml
publish "delete the deployment" >/dev/null
sync_once --force-prune # its only deployment: past the prune guard's share
left=$($K -n $ns get sts,svc,cm -l app.kubernetes.io/instance=counter -o name 2>/dev/null | wc -l)
final=$(status_field lastSavepoint)
if [ $rc = 0 ] && [ "$left" = 0 ] && status_file | grep -q 'reason: delete' &&
	case $final in "file:$shared/savepoints/savepoint-${old:0:6}-"*) [ -d "${final#file:}" ] ;; *) false ;; esac; then
	ok "deleted: $old stopped with the final savepoint $final, recorded in the status file; the objects are gone"
else
	fail "delete: rc=$rc left=$left final=$final $(tail -2 "$tmp/err")"
fi
