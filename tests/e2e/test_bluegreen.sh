#!/usr/bin/env bash
# rig: k8s git flink s3
# A FlinkBlueGreenDeployment rolled out by `sync --once` against the rig's
# real servers: both colours' REST URLs are the rig's one Flink session
# cluster (flink.restUrl), so each colour's job runs there beside the
# other. Created: blue runs, the journal says ACTIVE_BLUE, the status file
# Running at the commit (the agent killed after each step it records on the
# way). A new job whose main() refuses its arguments never
# catches up: after the grace period (and the agent killed right after it
# recorded the abort) green is removed, blue runs on, the
# status says Failed and `wait` exits 1; the same spec is not tried again.
# A parallelism change: blue takes a savepoint for the transition and runs on, green
# starts from exactly that savepoint (Flink's restored path), counts as
# caught up catch-up.fallback after its first checkpoint, and the switch
# stops blue with a savepoint and removes it; the counter continues. A
# second pass writes nothing. Back to blue with the agent killed right after
# each step the blue/green engine records: each sync resumes, one job is
# started, from green's savepoint. The resource's spec.ingress is one
# Ingress, counter, to the REST Service of the colour that runs: moved by
# each switch, gone with the journal. Deleted from git: blue stops with a
# final savepoint, then its objects, the children's journals and the
# blue/green journal go.
NAME=bg
. "$(dirname "$0")/lib-rollout.sh"

bluegreen() { # bluegreen PARALLELISM [EXTRA_ARGS] [GRACE]: lib-rollout.sh's counter as the template
	bluegreen_head 2s "${3:-3min}" '  ingress: {template: "{{name}}.{{namespace}}.flinkops.test"}'
	deployment "$1" savepoint "${2:-}" | sed -n '/^spec:/,$p' | sed 's/^/    /'
}
bgj() { $K -n $ns get configmap flink-bluegreen-counter -o jsonpath='{.data.bluegreen\.json}' 2>/dev/null | jq -r "$1"; }
cj() { $K -n $ns get configmap "flink-journal-counter-$1" -o jsonpath='{.data.journal\.json}' 2>/dev/null | jq -r "$2"; }
objects() { $K -n $ns get statefulsets,services,configmaps -l "app.kubernetes.io/instance=counter-$1" -o name 2>/dev/null | wc -l; }
# routed: the Service the resource's own Ingress "counter" routes to (empty when it has none)
routed() { $K -n $ns get ingress counter -o jsonpath='{.spec.rules[0].host} {.spec.rules[0].http.paths[0].backend.service.name}' 2>/dev/null; }
bg_sync() {
	"$FLINKOPS" sync --config "$tmp/config.yaml" --once --timeout 4m "$@" -o json >"$tmp/out.json" 2>"$tmp/err"
	rc=$?
}

# --- created: blue runs ------------------------------------------------------
# (the agent killed right after each step the engine records on the way:
# create, then finalize; the next sync resumes)
bluegreen 1 >"$tmp/work/jobs/counter.yaml"
commit1=$(publish "a blue/green counter")
t0=$(date +%s%3N)
crashed=
for op in create finalize; do
	FLINKOPS_CRASH_AFTER=bluegreen-$op "$FLINKOPS" sync --config "$tmp/config.yaml" --once --timeout 4m -o json \
		>"$tmp/out.json" 2>"$tmp/err"
	[ $? -ge 128 ] && crashed="$crashed $op($(bgj .state))"
done
bg_sync
blue=$(cj blue .jobId)
echo "$blue" >>"$tmp/ours"
c1=$(wait_counter)
started=$(curl -s "$RIG_FLINK_URL/jobs/overview" | jq --argjson t "$t0" '[.jobs[] | select(."start-time" >= $t)] | length')
if [ $rc = 0 ] && [ "$(bgj .state)" = ACTIVE_BLUE ] && [ "$(job_state "$blue")" = RUNNING ] && [ "$c1" -gt 0 ] &&
	[ "$(objects green)" = 0 ] && [ "$(objects blue)" -gt 0 ] && [ "$started" = 1 ] &&
	[ "$crashed" = " create(TRANSITIONING_TO_BLUE) finalize(ACTIVE_BLUE)" ]; then
	ok "created, the agent killed after each recorded step ($crashed): counter-blue's job $blue RUNNING (counter $c1, the one job started), the blue/green journal ACTIVE_BLUE, no green"
else
	fail "create: killed at '$crashed', rc=$rc state=$(bgj .state) blue=$blue ($(job_state "$blue")) jobs started $started green objects $(objects green) $(grep -v '^$' "$tmp/err" | tail -3)"
fi

"$FLINKOPS" wait --repo "$repo" --commit "$commit1" --timeout 10s --interval 1s >"$tmp/wait" 2>&1
wrc=$?
[ "$(status_field phase)" = Running ] && [ "$(status_field observedCommit)" = "$commit1" ] && [ $wrc = 0 ] &&
	ok "status/$ns/counter.yaml: Running at ${commit1:0:7} (\"$(status_field message)\"); flinkops wait exits 0" ||
	fail "status after create: phase=$(status_field phase) observed=$(status_field observedCommit) wait $wrc: $(tail -2 "$tmp/wait")"

[ "$(routed)" = "counter.$ns.flinkops.test counter-blue-rest" ] &&
	ok "the resource's Ingress counter routes $(routed | tr ' ' '>') " ||
	fail "Ingress after create: '$(routed)'"

# --- a new job that never catches up: aborted after the grace period --------
# (its main() refuses the argument: its submission never becomes a job);
# green is removed, blue runs on untouched, the status says why
# (the agent killed right after it records the abort; the next sync removes green)
bluegreen 2 ", --rate, bogus-$$" 15s >"$tmp/work/jobs/counter.yaml"
commitbad=$(publish "a new job whose main() refuses its arguments")
FLINKOPS_CRASH_AFTER=bluegreen-abort "$FLINKOPS" sync --config "$tmp/config.yaml" --once --timeout 4m -o json \
	>"$tmp/out.json" 2>"$tmp/err"
crc=$?
[ $crc -ge 128 ] && [ "$(bgj .state)" = ACTIVE_BLUE ] && [ "$(objects green)" -gt 0 ] &&
	ok "killed right after the abort was recorded: the journal says ACTIVE_BLUE, green's objects still there" ||
	fail "crash after abort: exit $crc state=$(bgj .state) green objects $(objects green)"
bg_sync
if [ $rc = 1 ] && [ "$(bgj .state)" = ACTIVE_BLUE ] && bgj .error | grep -q "green did not catch up within the abort grace period (15s)" &&
	[ -n "$(bgj '.failedTarget // empty')" ] && [ "$(job_state "$blue")" = RUNNING ] && [ "$(cj blue .jobId)" = "$blue" ] &&
	[ "$(objects green)" = 0 ]; then
	ok "aborted: green removed after the grace period, blue's job $blue runs on, exit 1: $(bgj .error | cut -c1-90)"
else
	fail "abort: rc=$rc state=$(bgj .state) error='$(bgj .error)' blue $(job_state "$blue") green objects $(objects green) $(grep -v '^$' "$tmp/err" | tail -3)"
fi
"$FLINKOPS" wait --repo "$repo" --commit "$commitbad" --timeout 10s --interval 1s >"$tmp/wait" 2>&1
wrc=$?
[ "$(status_field phase)" = Failed ] && [ "$(status_field observedCommit)" = "$commit1" ] && [ $wrc = 1 ] &&
	grep -q "counter Failed at ${commitbad:0:7}: green did not catch up" "$tmp/wait" &&
	ok "status Failed with the cause, observedCommit still ${commit1:0:7}; flinkops wait on the bad commit exits 1" ||
	fail "status after abort: phase=$(status_field phase) observed=$(status_field observedCommit) wait $wrc: $(tail -2 "$tmp/wait")"
bg_sync
[ $rc = 1 ] && [ "$(bgj .state)" = ACTIVE_BLUE ] && [ "$(objects green)" = 0 ] && [ "$(jq -r '.requests.writes' "$tmp/out.json")" = 0 ] &&
	ok "the failed spec is not tried again while git asks for it: nothing written" ||
	fail "after abort: rc=$rc state=$(bgj .state) green objects $(objects green) $(jq -c '.requests' "$tmp/out.json")"

# --- a new job: blue's savepoint, green beside it, the switch ----------------
sleep 2
counter_grows_to $((c1 + 5))
before=$(cat "$counter")
bluegreen 2 >"$tmp/work/jobs/counter.yaml"
commit2=$(publish "parallelism 2")
bg_sync
green=$(cj green .jobId)
echo "$green" >>"$tmp/ours"
from=$(cj green '.startedFrom // .restorePath // ""')
if [ $rc = 0 ] && [ "$(bgj .state)" = ACTIVE_GREEN ] && [ -n "$green" ] && [ "$green" != "$blue" ] &&
	[ "$(job_state "$green")" = RUNNING ]; then
	ok "the switch: green's job $green RUNNING, the blue/green journal ACTIVE_GREEN"
else
	fail "transition: rc=$rc state=$(bgj .state) green=$green ($(job_state "$green")) $(bgj .error) $(grep -v '^$' "$tmp/err" | tail -4)"
fi
[ "$(routed)" = "counter.$ns.flinkops.test counter-green-rest" ] &&
	ok "the Ingress moved with the switch: $(routed | tr ' ' '>')" ||
	fail "Ingress after the switch: '$(routed)'"
case "$from" in
*savepoint-"${blue:0:6}"-*) ok "green started from blue's savepoint for the transition: $(basename "$from")" ;;
*) fail "green started from '$from', not a savepoint of blue's job $blue" ;;
esac
[ -n "$from" ] && [ "$(restored "$green")" = "$from" ] &&
	ok "Flink says green restored from that savepoint" ||
	fail "Flink says green restored from '$(restored "$green")', the journal '$from'"
bstate=$(job_state "$blue")
if [ "$bstate" = FINISHED ] && [ "$(objects blue)" = 0 ] && [ -z "$(cj blue .step)" ] &&
	[ "$(bgj '.retiring // false')" = false ]; then
	ok "blue stopped with a savepoint ($bstate) and was removed after the switch: objects and journal gone"
else
	fail "blue after the switch: job $bstate, objects $(objects blue), journal step '$(cj blue .step)', retiring $(bgj .retiring)"
fi
counter_grows_to $((before + 5)) && after=$(cat "$counter") || after=0
[ "$after" -gt "$before" ] && ok "the counter continues on green: $before before the change, $after now" ||
	fail "counter: $before before, $after after"
"$FLINKOPS" wait --repo "$repo" --commit "$commit2" --timeout 10s --interval 1s >"$tmp/wait" 2>&1
wrc=$?
[ "$(status_field phase)" = Running ] && [ "$(status_field observedCommit)" = "$commit2" ] && [ $wrc = 0 ] &&
	ok "status Running at ${commit2:0:7}: \"$(status_field message)\"; flinkops wait exits 0" ||
	fail "status after the switch: phase=$(status_field phase) observed=$(status_field observedCommit) wait $wrc: $(tail -2 "$tmp/wait")"
bgs=$("$FLINKOPS" status --repo "$repo" --cache "$tmp/scache" -o json 2>/dev/null | jq -c '.deployments[] | select(.name=="counter") | .blueGreen')
[ "$(jq -r .state <<<"$bgs")" = ACTIVE_GREEN ] && [ "$(jq -r .active <<<"$bgs")" = green ] &&
	[ "$(jq -r .greenJob <<<"$bgs")" = "$green" ] && [ "$(jq -r .startedFrom <<<"$bgs")" = "$from" ] &&
	[ -n "$(jq -r '.switchedAt // empty' <<<"$bgs")" ] &&
	ok "the status file's bluegreen block: green active, its job, the savepoint it started from, the switch time" ||
	fail "bluegreen block: $bgs (green $green from $from)"
evs=$($K -n $ns get events --field-selector involvedObject.name=flink-bluegreen-counter \
	-o jsonpath='{range .items[*]}{.reason}:{.type} {end}' 2>/dev/null)
case "$evs" in
*BlueGreenAborted:Warning*) ;;
*) evs="no abort: $evs" ;;
esac
for r in BlueGreenTransition BlueGreenSwitched BlueGreenRetired; do
	case "$evs" in *"$r:Normal"*) ;; *) evs="missing $r: $evs" ;; esac
done
case "$evs" in
missing* | no*) fail "Events on flink-bluegreen-counter: $evs" ;;
*) ok "Events on the blue/green journal: the abort (Warning), the transition, the switch, the retirement" ;;
esac
grep -q "counter: ACTIVE_BLUE: savepoint" "$tmp/err" && grep -q "SAVEPOINTING_BLUE: transition" "$tmp/err" &&
	grep -q "TRANSITIONING_TO_GREEN: healthy" "$tmp/err" && grep -q "TRANSITIONING_TO_GREEN: cutover" "$tmp/err" &&
	grep -q "ACTIVE_GREEN: retire" "$tmp/err" &&
	ok "the steps, each recorded before it acted: savepoint, transition, healthy, cutover, retire" ||
	fail "steps: $(grep 'bluegreen' "$tmp/err" | head -8)"

# --- nothing changed: nothing written ------------------------------------------
bg_sync
[ $rc = 0 ] && [ "$(jq -r '.requests.writes' "$tmp/out.json")" = 0 ] && [ "$(cj green .jobId)" = "$green" ] &&
	ok "a second pass writes nothing and starts nothing" ||
	fail "second pass: rc=$rc $(jq -c '.requests' "$tmp/out.json") $(grep -v '^$' "$tmp/err" | tail -3)"

# --- back to blue, the agent killed right after each step it records ---------
# (FLINKOPS_CRASH_AFTER=bluegreen-OP, as a power cut would): each next
# sync resumes from the journal; blue starts from green's savepoint for this
# transition, exactly one new job is started, the counter continues
counter_grows_to $(($(cat "$counter") + 5))
before=$(cat "$counter")
bluegreen 1 >"$tmp/work/jobs/counter.yaml"
commit3=$(publish "parallelism 1 again")
t0=$(date +%s%3N)
crashed=""
for op in savepoint transition healthy cutover retire; do
	FLINKOPS_CRASH_AFTER=bluegreen-$op "$FLINKOPS" sync --config "$tmp/config.yaml" --once --timeout 4m -o json \
		>"$tmp/out.json" 2>"$tmp/err"
	rc=$?
	[ $rc -ge 128 ] && crashed="$crashed $op($(bgj .state))"
done
bg_sync
blue2=$(cj blue .jobId)
echo "$blue2" >>"$tmp/ours"
from=$(cj blue '.startedFrom // .restorePath // ""')
# the jobs started on the rig's Flink since the change (its main lane runs one test at a time)
started=$(curl -s "$RIG_FLINK_URL/jobs/overview" | jq --argjson t "$t0" '[.jobs[] | select(."start-time" >= $t)] | length')
if [ "$crashed" = " savepoint(SAVEPOINTING_GREEN) transition(TRANSITIONING_TO_BLUE) healthy(TRANSITIONING_TO_BLUE) cutover(ACTIVE_BLUE) retire(ACTIVE_BLUE)" ] &&
	[ $rc = 0 ] && [ "$(bgj .state)" = ACTIVE_BLUE ] && [ "$(job_state "$blue2")" = RUNNING ] &&
	[ "$(job_state "$green")" = FINISHED ] && [ "$(objects green)" = 0 ] && [ "$started" = 1 ]; then
	ok "killed after each recorded step ($crashed), resumed: blue's job $blue2 RUNNING (the one job started since the change), green stopped and removed"
else
	fail "crash walk: killed at '$crashed', rc=$rc state=$(bgj .state) blue2=$blue2 ($(job_state "$blue2")) green $(job_state "$green") objects $(objects green) jobs started $started $(grep -v '^$' "$tmp/err" | tail -3)"
fi
case "$from" in
*savepoint-"${green:0:6}"-*) [ "$(restored "$blue2")" = "$from" ] &&
	ok "blue started from green's savepoint for this transition, as Flink says: $(basename "$from")" ||
	fail "blue's journal says $from, Flink $(restored "$blue2")" ;;
*) fail "blue started from '$from', not a savepoint of green's job $green" ;;
esac
counter_grows_to $((before + 5)) && after=$(cat "$counter") || after=0
[ "$after" -gt "$before" ] && ok "the counter continues on blue: $before before the change, $after now" ||
	fail "counter after the crash walk: $before before, $after after"
[ "$(routed)" = "counter.$ns.flinkops.test counter-blue-rest" ] &&
	ok "the Ingress is back on blue after the crash walk" || fail "Ingress after the crash walk: '$(routed)'"

# --- deleted from git: blue stops with a final savepoint, everything goes ----
git -C "$tmp/work" pull -q --rebase origin main 2>/dev/null
git -C "$tmp/work" rm -q jobs/counter.yaml
git -C "$tmp/work" commit -qm "delete the blue/green counter"
for _ in 1 2 3; do
	git -C "$tmp/work" pull -q --rebase origin main 2>/dev/null
	git -C "$tmp/work" push -q origin HEAD:main 2>/dev/null && break
done
sps=$(savepoints_of "$blue2")
bg_sync --force-prune
if [ $rc = 0 ] && [ "$(job_state "$blue2")" = FINISHED ] && [ "$(savepoints_of "$blue2")" -gt "$sps" ] &&
	[ "$(objects blue)" = 0 ] && [ -z "$(cj blue .step)" ]; then
	ok "deleted: blue stopped with a final savepoint, its objects and journal gone"
else
	fail "delete: rc=$rc blue $(job_state "$blue2") savepoints $sps -> $(savepoints_of "$blue2") objects $(objects blue) $(grep -v '^$' "$tmp/err" | tail -3)"
fi
bg_sync
[ $rc = 0 ] && ! $K -n $ns get configmap flink-bluegreen-counter >/dev/null 2>&1 && [ "$(status_field phase)" = Deleted ] &&
	[ -z "$(routed)" ] &&
	ok "the blue/green journal and its Ingress go once no child is left; status Deleted" ||
	fail "journal after delete: rc=$rc state=$(bgj .state) $(grep -v '^$' "$tmp/err" | tail -3)"
