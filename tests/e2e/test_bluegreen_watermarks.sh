#!/usr/bin/env bash
# rig: k8s git flink s3
# The blue/green switch decided by the jobs' watermarks, against the rig's
# real Flink. The counter job runs in event time (--event-time-origin: each
# number carries a timestamp and is emitted no earlier, so a job restored
# from a savepoint replays what it missed and then keeps pace with the
# clock). The catch-up fallback is 10 minutes, longer than any sync here
# waits, so only the watermarks can make a switch come:
#   - created: blue's job shows event time (a watermark on its counter
#     vertex, read as the agent reads it);
#   - a parallelism change: green starts from blue's savepoint, reaches
#     blue's watermarks and the switch comes; the fallback's wait is never
#     logged; the counter continues;
#   - a new job whose event time stays two minutes behind the running one's
#     (--event-time-lag-ms): it checkpoints (healthy) but never catches up,
#     and is aborted after the grace period with the gap as the cause while
#     green runs on; flinkops wait on that commit exits 1.
NAME=bgwm
. "$(dirname "$0")/lib-rollout.sh"

origin=$(date +%s%3N)
bluegreen() { # bluegreen PARALLELISM [EXTRA_ARGS] [GRACE]: the counter in event time as the template
	bluegreen_head 10min "${3:-3min}"
	deployment "$1" savepoint ", --event-time-origin, \"$origin\"${2:-}" | sed -n '/^spec:/,$p' | sed 's/^/    /'
}
bgj() { $K -n $ns get configmap flink-bluegreen-counter -o jsonpath='{.data.bluegreen\.json}' 2>/dev/null | jq -r "$1"; }
cj() { $K -n $ns get configmap "flink-journal-counter-$1" -o jsonpath='{.data.journal\.json}' 2>/dev/null | jq -r "$2"; }
objects() { $K -n $ns get statefulsets,services,configmaps -l "app.kubernetes.io/instance=counter-$1" -o name 2>/dev/null | wc -l; }
bg_sync() {
	"$FLINKOPS" sync --config "$tmp/config.yaml" --once --timeout 4m "$@" -o json >"$tmp/out.json" 2>"$tmp/err"
	rc=$?
}
# watermark JOB: the furthest input watermark over JOB's vertices, each the
# lowest of its subtasks (empty when none has one), as the agent reads it
watermark() {
	local v w best=
	for v in $(curl -s --max-time 5 "$RIG_FLINK_URL/jobs/$1" | jq -r '.vertices[]?.id'); do
		w=$(curl -s --max-time 5 "$RIG_FLINK_URL/jobs/$1/vertices/$v/watermarks" |
			jq -r 'if length == 0 then empty else (map(.value | tonumber) | min) end')
		[ -n "$w" ] && [ "$w" != -9223372036854775808 ] && { [ -z "$best" ] || [ "$w" -gt "$best" ]; } && best=$w
	done
	echo "$best"
}

# --- created: blue runs in event time -----------------------------------------
bluegreen 1 >"$tmp/work/jobs/counter.yaml"
publish "a blue/green counter in event time" >/dev/null
bg_sync
blue=$(cj blue .jobId)
echo "$blue" >>"$tmp/ours"
wm=
for _ in $(seq 1 60); do # Flink's metric fetcher gathers every 10 s
	wm=$(watermark "$blue")
	[ -n "$wm" ] && break
	sleep 0.5
done
if [ $rc = 0 ] && [ "$(bgj .state)" = ACTIVE_BLUE ] && [ "$(job_state "$blue")" = RUNNING ] && [ -n "$wm" ] &&
	[ "$wm" -gt "$origin" ]; then
	ok "created: blue's job $blue RUNNING in event time, its watermark $(($(date +%s%3N) - wm)) ms behind the clock"
else
	fail "create: rc=$rc state=$(bgj .state) blue=$blue ($(job_state "$blue")) watermark '$wm' $(grep -v '^$' "$tmp/err" | tail -3)"
fi

# --- a parallelism change: the switch comes when green's watermarks reach blue's
counter_grows_to 20
before=$(cat "$counter")
bluegreen 2 >"$tmp/work/jobs/counter.yaml"
commit2=$(publish "parallelism 2")
t0=$(date +%s)
bg_sync
took=$(($(date +%s) - t0))
green=$(cj green .jobId)
echo "$green" >>"$tmp/ours"
from=$(cj green '.startedFrom // .restorePath // ""')
if [ $rc = 0 ] && [ "$(bgj .state)" = ACTIVE_GREEN ] && [ "$(job_state "$green")" = RUNNING ] &&
	! grep -q "without an event-time signal" "$tmp/err" && grep -q "TRANSITIONING_TO_GREEN: cutover" "$tmp/err"; then
	ok "the switch by watermarks: green's job $green ACTIVE in ${took} s (the fallback would take 10 min, and its wait was never logged)"
else
	fail "switch: rc=$rc in ${took} s state=$(bgj .state) green=$green ($(job_state "$green")) $(grep 'bluegreen' "$tmp/err" | tail -4)"
fi
case "$from" in
*savepoint-"${blue:0:6}"-*) [ "$(restored "$green")" = "$from" ] &&
	ok "green started from blue's savepoint for the transition, as Flink says: $(basename "$from")" ||
	fail "green's journal says $from, Flink $(restored "$green")" ;;
*) fail "green started from '$from', not a savepoint of blue's job $blue" ;;
esac
counter_grows_to $((before + 5)) && after=$(cat "$counter") || after=0
[ "$after" -gt "$before" ] && [ "$(job_state "$blue")" = FINISHED ] && [ "$(objects blue)" = 0 ] &&
	ok "blue stopped with a savepoint and was removed; the counter continues on green: $before before, $after now" ||
	fail "after the switch: counter $before -> $after, blue $(job_state "$blue"), objects $(objects blue)"

# --- a new job two minutes behind in event time: healthy, never caught up ------
bluegreen 1 ", --event-time-lag-ms, \"120000\"" 45s >"$tmp/work/jobs/counter.yaml"
commitlag=$(publish "a job whose event time stays two minutes behind")
bg_sync
if [ $rc = 1 ] && [ "$(bgj .state)" = ACTIVE_GREEN ] && [ "$(job_state "$green")" = RUNNING ] &&
	[ "$(objects blue)" = 0 ] && bgj .error | grep -q "blue did not catch up within the abort grace period (45s): blue runs, its watermarks 1m5[0-9]s behind\|blue did not catch up within the abort grace period (45s): blue runs, its watermarks 2m0[0-9]s behind"; then
	ok "aborted by the watermarks: $(bgj .error | cut -c1-150); green's job $green runs on"
else
	fail "lagging job: rc=$rc state=$(bgj .state) error='$(bgj .error)' green $(job_state "$green") blue objects $(objects blue) $(grep 'bluegreen' "$tmp/err" | tail -3)"
fi
"$FLINKOPS" wait --repo "$repo" --commit "$commitlag" --timeout 10s --interval 1s >"$tmp/wait" 2>&1
wrc=$?
[ $wrc = 1 ] && grep -q "watermarks" "$tmp/wait" && [ "$(status_field observedCommit)" = "$commit2" ] &&
	ok "flinkops wait on that commit exits 1 with the cause; observedCommit stays ${commit2:0:7}" ||
	fail "wait after the lagging job: $wrc $(tail -2 "$tmp/wait") observed $(status_field observedCommit)"
