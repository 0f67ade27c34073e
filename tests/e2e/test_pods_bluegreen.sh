#!/usr/bin/env bash
# rig: k8s git flink s3 pods
# Blue/green on the rig's real node: a FlinkBlueGreenDeployment whose
# template is the application-mode example of docs/flinkdeployment.md (the
# counter job in the image, Kubernetes HA, state on a folder every pod
# mounts), each colour a cluster of its own pods (NAME-blue, NAME-green),
# a quarter of a core each pod, so that both colours fit the node beside
# the other lane's pods.
# The counter runs in event time (--event-time-origin), so a new colour
# started from a savepoint replays what it missed and catches up; each
# job's count is read from its own JobManager (the gauge
# counter-report.maxCount), since both colours run the same arguments.
#   - created: blue's JobManager runs the job; no green;
#   - an image bump v1 -> v2: blue takes a savepoint and keeps running (its
#     count grows while green starts); green starts from exactly that
#     savepoint, catches up (watermarks), and the switch stops blue with a
#     savepoint and removes its pods; green's count is never behind blue's
#     last at the switch;
#   - a new job whose main() refuses its arguments: green never becomes
#     healthy, is removed after the grace period; blue's job untouched,
#     the status Failed with the cause, `wait` exits 1;
#   - back to v1 with the agent SIGKILLed right after each step the
#     blue/green engine records: one transition, one new job, never a
#     third cluster, the count continues;
#   - deleted from git: the running colour stops with a final savepoint,
#     its objects and the journals go.
NAME=pods-bg
. "$(dirname "$0")/lib-pods.sh"
: "${RIG_PODS_APISERVER_IP:?}" "${RIG_PODS_APISERVER_PORT:?}" "${RIG_PODS_APP_REPOSITORY:?}" "${RIG_PODS_APP_JAR:?}"
: "${RIG_PODS_APP_TAG_1:?}" "${RIG_PODS_APP_TAG_2:?}" "${RIG_PODS_APP_JOB_CLASS:?}"

pods_ha_account
origin=$(date +%s%3N)

# bluegreen TAG [EXTRA_ARGS] [GRACE]: the application-mode example of
# docs/flinkdeployment.md as the template, for this machine
bluegreen() {
	bluegreen_head 10min "${3:-4min}"
	{
		sed -n '/<!-- example: application-mode -->/,/^```$/p' "$(dirname "$0")/../../docs/flinkdeployment.md" |
			sed -e '1,2d' -e '$d' \
				-e "s|image: .*|image: $RIG_PODS_APP_REPOSITORY:$1|" \
				-e "s|high-availability.storageDir: .*|high-availability.storageDir: file://$shared/ha|" \
				-e "s|execution.checkpointing.interval: .*|execution.checkpointing.interval: 2s|" \
				-e "s|execution.checkpointing.dir: .*|execution.checkpointing.dir: file://$shared/checkpoints|" \
				-e "s|jarURI: .*|jarURI: $RIG_PODS_APP_JAR|" \
				-e "s|entryClass: .*|entryClass: $RIG_PODS_APP_JOB_CLASS\n    args: [--event-time-origin, \"$origin\"${2:-}]|" \
				-e "s|savepointStorage: .*|savepointStorage: file://$shared/savepoints|" \
				-e "s|^\(      memory: .*\)|\1\n      cpu: 0.25|"
		pods_template
	} | sed -n '/^spec:/,$p' | sed 's/^/    /'
}
bgj() { $K -n $ns get configmap flink-bluegreen-counter -o jsonpath='{.data.bluegreen\.json}' 2>/dev/null | jq -r "$1"; }
cj() { $K -n $ns get configmap "flink-journal-counter-$1" -o jsonpath='{.data.journal\.json}' 2>/dev/null | jq -r "$2"; }
objects() { $K -n $ns get statefulsets,services,configmaps -l "app.kubernetes.io/instance=counter-$1" -o name 2>/dev/null | wc -l; }
clusters() { $K -n $ns get statefulsets -o name 2>/dev/null | grep -c -- '-jobmanager$'; }
jm_of() { echo "http://$($K -n $ns get pod "counter-$1-jobmanager-0" -o jsonpath='{.status.podIP}' 2>/dev/null):8081"; }
state_of() { curl -s --max-time 5 "$(jm_of "$1")/jobs/overview" | jq -r --arg j "$2" '.jobs[] | select(.jid==$j) | .state'; }
restored_of() { curl -s --max-time 5 "$(jm_of "$1")/jobs/$2/checkpoints" | jq -r '.latest.restored.external_path // empty'; }
running_of() { curl -s --max-time 5 "$(jm_of "$1")/jobs/overview" | jq '[.jobs[] | select(.state=="RUNNING")] | length'; }
# count COLOUR JOB: the job's largest count, from its own JobManager (empty while unknown)
count() {
	local url v
	url=$(jm_of "$1")
	v=$(curl -s --max-time 5 "$url/jobs/$2" | jq -r '.vertices[]? | select(.name | test("counter-report")) | .id' | head -1)
	[ -n "$v" ] && curl -s --max-time 5 "$url/jobs/$2/vertices/$v/metrics?get=0.counter-report.maxCount" |
		jq -r '.[0].value // empty' | grep -E '^[0-9]+$'
}
# count_reaches COLOUR JOB N: until the count is at least N (60 s at most; the metric fetcher gathers every 10 s)
count_reaches() {
	local c
	for _ in $(seq 1 120); do
		c=$(count "$1" "$2")
		[ -n "$c" ] && [ "$c" -ge "$3" ] && return 0
		sleep 0.5
	done
	return 1
}

# --- created: blue's JobManager runs the job -----------------------------------
bluegreen "$RIG_PODS_APP_TAG_1" >"$tmp/work/jobs/counter.yaml"
"$FLINKOPS" validate "$tmp/work/jobs/counter.yaml" >"$tmp/validate.out" 2>&1 || fail "the template does not validate: $(cat "$tmp/validate.out")"
publish "a blue/green counter on the node" >/dev/null
t0=$SECONDS
sync_once
blue=$(cj blue .jobId)
if [ $rc = 0 ] && [ "$(bgj .state)" = ACTIVE_BLUE ] && [ "$(state_of blue "$blue")" = RUNNING ] &&
	[ "$(objects green)" = 0 ] && [ "$(clusters)" = 1 ] && count_reaches blue "$blue" 20; then
	ok "created in $((SECONDS - t0)) s: counter-blue's JobManager runs job $blue (count $(count blue "$blue")), no green"
else
	fail "create: rc=$rc state=$(bgj .state) blue=$blue ($(state_of blue "$blue")) clusters=$(clusters) $(tail -3 "$tmp/err")"
	$K -n $ns get pods -o wide
	exit 1
fi

# --- an image bump: green beside blue, then the switch ---------------------------
bluegreen "$RIG_PODS_APP_TAG_2" >"$tmp/work/jobs/counter.yaml"
commit2=$(publish "image $RIG_PODS_APP_TAG_2")
# blue's count sampled while the sync runs: it grows while green starts, and
# its last sample is what green must not be behind
(
	while :; do
		c=$(count blue "$blue")
		[ -n "$c" ] && echo "$(date +%s%3N) $c $([ -n "$($K -n $ns get pod counter-green-jobmanager-0 -o name 2>/dev/null)" ] && echo green)"
		sleep 1
	done
) >"$tmp/blue-counts" 2>/dev/null &
sampler=$!
t0=$SECONDS
sync_once
kill $sampler 2>/dev/null
wait $sampler 2>/dev/null
green=$(cj green .jobId)
from=$(cj green '.startedFrom // .restorePath // ""')
during=$(awk '$3 == "green" { print $2 }' "$tmp/blue-counts")
first_during=$(head -1 <<<"$during")
last_during=$(tail -1 <<<"$during")
blue_last=$(awk 'END { print $2 }' "$tmp/blue-counts")
if [ $rc = 0 ] && [ "$(bgj .state)" = ACTIVE_GREEN ] && [ "$(state_of green "$green")" = RUNNING ] &&
	[ "$(objects blue)" = 0 ] && [ "$(clusters)" = 1 ] && ! grep -q "without an event-time signal" "$tmp/err"; then
	ok "image $RIG_PODS_APP_TAG_1 -> $RIG_PODS_APP_TAG_2 in $((SECONDS - t0)) s: green's JobManager runs $green, blue stopped and its pods removed, one cluster left"
else
	fail "transition: rc=$rc state=$(bgj .state) green=$green ($(state_of green "$green")) blue objects $(objects blue) clusters $(clusters) $(bgj .error) $(grep bluegreen "$tmp/err" | tail -4)"
fi
[ -n "$first_during" ] && [ -n "$last_during" ] && [ "$last_during" -gt "$first_during" ] &&
	ok "blue kept counting while green started: $first_during -> $last_during" ||
	fail "blue's count while green existed: '$first_during' -> '$last_during' ($(wc -l <"$tmp/blue-counts") samples)"
case "$from" in
"file:$shared/savepoints/savepoint-${blue:0:6}-"*) [ "$(restored_of green "$green")" = "$from" ] &&
	ok "green started from blue's savepoint for the transition, as its JobManager says: $(basename "$from")" ||
	fail "green's journal says $from, its JobManager $(restored_of green "$green")" ;;
*) fail "green started from '$from', not a savepoint of blue's job $blue" ;;
esac
count_reaches green "$green" "${blue_last:-1}" && ok "green's count $(count green "$green") is not behind blue's last at the switch ($blue_last)" ||
	fail "green's count $(count green "$green") behind blue's last $blue_last"
grep -q "TRANSITIONING_TO_GREEN: cutover" "$tmp/err" && grep -q "ACTIVE_GREEN: retire" "$tmp/err" &&
	ok "the switch came by the watermarks (the fallback is 10 min), then blue retired" ||
	fail "steps: $(grep bluegreen "$tmp/err" | tail -6)"

# --- a new job that never becomes healthy: aborted, green runs on ------------------
c0=$(count green "$green")
bluegreen "$RIG_PODS_APP_TAG_1" ", --rate, bogus" 45s >"$tmp/work/jobs/counter.yaml"
commitbad=$(publish "a job whose main() refuses its arguments")
sync_once
if [ $rc = 1 ] && [ "$(bgj .state)" = ACTIVE_GREEN ] && [ -n "$(bgj '.error // empty')" ] &&
	[ "$(state_of green "$green")" = RUNNING ] && [ "$(cj green .jobId)" = "$green" ] && [ "$(objects blue)" = 0 ] &&
	count_reaches green "$green" $((c0 + 20)); then
	ok "aborted: blue removed, green's job $green runs on and counts ($c0 -> $(count green "$green")): $(bgj .error | cut -c1-110)"
else
	fail "abort: rc=$rc state=$(bgj .state) error='$(bgj .error)' green $(state_of green "$green") blue objects $(objects blue) $(tail -3 "$tmp/err")"
fi
"$FLINKOPS" wait --repo "$repo" --commit "$commitbad" --timeout 10s --interval 1s >"$tmp/wait" 2>&1
wrc=$?
[ $wrc = 1 ] && [ "$(status_field phase)" = Failed ] && [ "$(status_field observedCommit)" = "$commit2" ] &&
	ok "status Failed with the cause, observedCommit still ${commit2:0:7}; flinkops wait exits 1" ||
	fail "status after the abort: phase=$(status_field phase) observed=$(status_field observedCommit) wait $wrc $(tail -1 "$tmp/wait")"

# --- back to v1, the agent SIGKILLed after each step the engine records -------------
before=$(count green "$green")
bluegreen "$RIG_PODS_APP_TAG_1" >"$tmp/work/jobs/counter.yaml"
publish "image $RIG_PODS_APP_TAG_1 again" >/dev/null
crashed=
most=0
for op in savepoint transition healthy cutover retire; do
	(
		FLINKOPS_CRASH_AFTER=bluegreen-$op sync_once
		echo $rc >"$tmp/crc"
	) 2>/dev/null
	[ "$(cat "$tmp/crc")" -ge 128 ] && crashed="$crashed $op($(bgj .state))"
	[ "$(clusters)" -gt "$most" ] && most=$(clusters)
done
sync_once
blue2=$(cj blue .jobId)
from=$(cj blue '.startedFrom // .restorePath // ""')
if [ "$crashed" = " savepoint(SAVEPOINTING_GREEN) transition(TRANSITIONING_TO_BLUE) healthy(TRANSITIONING_TO_BLUE) cutover(ACTIVE_BLUE) retire(ACTIVE_BLUE)" ] &&
	[ $rc = 0 ] && [ "$(bgj .state)" = ACTIVE_BLUE ] && [ "$(state_of blue "$blue2")" = RUNNING ] &&
	[ "$(running_of blue)" = 1 ] && [ "$most" -le 2 ] && [ "$(clusters)" = 1 ] && [ "$(objects green)" = 0 ]; then
	ok "killed after each recorded step ($crashed), resumed: one job on blue ($blue2), at most $most clusters at once, green removed"
else
	fail "crash walk: killed at '$crashed', rc=$rc state=$(bgj .state) blue2=$blue2 ($(state_of blue "$blue2")) running $(running_of blue) clusters at most $most, now $(clusters) $(tail -3 "$tmp/err")"
fi
case "$from" in
"file:$shared/savepoints/savepoint-${green:0:6}-"*) [ "$(restored_of blue "$blue2")" = "$from" ] &&
	ok "blue started from green's savepoint for this transition: $(basename "$from")" ||
	fail "blue's journal says $from, its JobManager $(restored_of blue "$blue2")" ;;
*) fail "blue started from '$from', not a savepoint of green's job $green" ;;
esac
count_reaches blue "$blue2" "${before:-1}" && ok "the count continues on blue: $before before the change, $(count blue "$blue2") now" ||
	fail "count after the crash walk: $before before, $(count blue "$blue2") now"

# --- deleted from git: a final savepoint, then everything goes ----------------------
git -C "$tmp/work" rm -q jobs/counter.yaml
publish "delete the blue/green counter" >/dev/null
sps=$(ls "$shared/savepoints" 2>/dev/null | grep -c "^savepoint-${blue2:0:6}-")
sync_once --force-prune
sync_once
if [ $rc = 0 ] && [ "$(objects blue)" = 0 ] && [ "$(clusters)" = 0 ] &&
	[ "$(ls "$shared/savepoints" 2>/dev/null | grep -c "^savepoint-${blue2:0:6}-")" -gt "$sps" ] &&
	! $K -n $ns get configmap flink-bluegreen-counter >/dev/null 2>&1 && [ "$(status_field phase)" = Deleted ]; then
	ok "deleted: blue stopped with a final savepoint, its pods, objects and the journals gone; status Deleted"
else
	fail "delete: rc=$rc objects $(objects blue) clusters $(clusters) savepoints of $blue2: $sps -> $(ls "$shared/savepoints" 2>/dev/null | grep -c "^savepoint-${blue2:0:6}-") $(tail -3 "$tmp/err")"
fi
