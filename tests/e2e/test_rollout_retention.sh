#!/usr/bin/env bash
# rig: k8s git flink s3
# Savepoint retention (kubernetes.operator.savepoint.history.max.count 2):
#   - two savepoint upgrades (S1, S2), then periodic savepoints every 2 s
#     (P1 .. P4), the job never restarted by them;
#   - with kubernetes.operator.savepoint.dispose-on-delete true,
#     savepoints beyond the count are disposed of through Flink's
#     POST /savepoint-disposal (P1, P2: their folders are gone, Flink
#     answered COMPLETED, an Event says so), and the journal forgets them;
#   - the newest two stay (P3, P4), and so do the ones the status history
#     references though they are beyond the count: S1 (the second job
#     started from it, the first stopped with it; the journal no longer
#     names it) and S2 (the running job started from it);
#   - disposals written into the journal by hand: one of a savepoint that
#     is not there counts as done; one Flink cannot do (no file system for
#     its scheme) stays journaled with its error and an Event, the
#     deployment stays Running, and the next pass backs off; the status
#     file counts the savepoints retained and pending disposal;
#   - without that key (upstream's default, which keeps the data), more
#     periodic savepoints put the tracked ones beyond the count: the
#     journal forgets them, their folders stay, nothing is sent to Flink.
NAME=sprt
. "$(dirname "$0")/lib-rollout.sh"

# counter ARGS [CONF_LINES]: the counter FlinkDeployment keeping 2 savepoints,
# disposing of older ones while $dispose holds the key that asks for it
dispose='\n    kubernetes.operator.savepoint.dispose-on-delete: "true"'
counter_yaml() {
	deployment 1 savepoint "$1" |
		sed "s/^spec:\$/&\n  flinkConfiguration:\n    kubernetes.operator.savepoint.history.max.count: \"2\"$dispose${2:-}/"
}
# on_disk PATH: the savepoint's folder exists ("file:/..." as Flink names it)
on_disk() { [ -d "${1#file:}" ]; }
passes_log=$tmp/passes.log
sync_logged() {
	sync_once
	cat "$tmp/err" >>"$passes_log"
}

# periodic_savepoints N LAST: N passes 2.2 s apart; the periodic savepoints
# they took after LAST, in order, in new_sps
periodic_savepoints() {
	local last=$2 p
	new_sps=()
	for _ in $(seq 1 "$1"); do
		sleep 2.2
		sync_logged
		p=$(journal .savepointPath)
		if [ "$(journal .savepointReason)" = periodic ] && [ "$p" != "$last" ]; then
			new_sps+=("$p")
			last=$p
		fi
	done
}

counter_yaml "" >"$tmp/work/jobs/counter.yaml"
publish "counter job, 2 savepoints kept" >/dev/null
sync_logged
job=$(journal .jobId)
echo "$job" >>"$tmp/ours"
[ $rc = 0 ] && [ "$(job_state "$job")" = RUNNING ] && ok "job $job RUNNING" || fail "create: rc=$rc $(head -3 "$tmp/err")"

# --- two savepoint upgrades: S1, S2 ---------------------------------------------
counter_yaml ', --rate, "300"' >"$tmp/work/jobs/counter.yaml"
publish "rate 300" >/dev/null
sync_logged
s1=$(journal .savepointPath)
job2=$(journal .jobId)
echo "$job2" >>"$tmp/ours"
counter_yaml ', --rate, "200"' >"$tmp/work/jobs/counter.yaml"
publish "rate 200" >/dev/null
sync_logged
s2=$(journal .savepointPath)
job3=$(journal .jobId)
echo "$job3" >>"$tmp/ours"
if [ $rc = 0 ] && [ -n "$s1" ] && [ "$s1" != null ] && [ -n "$s2" ] && [ "$s2" != "$s1" ] &&
	[ "$(journal .startedFrom)" = "$s2" ] && [ "$(job_state "$job3")" = RUNNING ] &&
	[ "$(journal '[.savepointsTaken[].path] | join(" ")')" = "$s1 $s2" ] &&
	status_file | grep -qF "$s1"; then
	ok "two upgrades: S1 $s1, S2 $s2 taken and journaled; the status history names S1"
else
	fail "upgrades: rc=$rc s1=$s1 s2=$s2 taken=$(journal .savepointsTaken) $(head -3 "$tmp/err")"
fi

# --- periodic savepoints, 2 kept ------------------------------------------------
counter_yaml ', --rate, "200"' '\n    kubernetes.operator.periodic.savepoint.interval: 2 s' >"$tmp/work/jobs/counter.yaml"
publish "periodic savepoints every 2 s" >/dev/null
periodic_savepoints 4 "$s2"
periodic=("${new_sps[@]}")
# passes after the last savepoint until no disposal is in flight (each
# looks at those of the pass before again). When a pass took long (the
# sanitizer build), 2 s may have passed since the last savepoint, and the
# next pass takes one more: then the newest two are the last two taken, and
# every periodic one before them goes
for _ in 1 2 3 4 5; do
	sync_logged
	if [ "$(journal .savepointReason)" = periodic ] && [ "$(journal .savepointPath)" != "${periodic[${#periodic[@]} - 1]:-}" ]; then
		periodic+=("$(journal .savepointPath)")
	fi
	[ "$(journal '.savepointDisposals // [] | length')" = 0 ] && break
done
p1=${periodic[0]:-} p2=${periodic[1]:-}
p3=${periodic[${#periodic[@]} - 2]:-} p4=${periodic[${#periodic[@]} - 1]:-}
if [ ${#periodic[@]} -ge 4 ] && [ "$(journal .jobId)" = "$job3" ] && [ "$(job_state "$job3")" = RUNNING ]; then
	ok "${#periodic[@]} periodic savepoints, job $job3 never restarted"
else
	fail "periodic: ${#periodic[@]} savepoints (${periodic[*]}), job $(journal .jobId) $(job_state "$job3") $(head -3 "$tmp/err")"
fi
if [ -n "$p2" ] && ! on_disk "$p1" && ! on_disk "$p2" &&
	grep -q "disposed of savepoint $p1\$" "$passes_log" && grep -q "disposed of savepoint $p2\$" "$passes_log" &&
	events SavepointDisposed | grep -q "$p1" && events SavepointDisposed | grep -q "$p2"; then
	ok "beyond the count: P1 and P2 disposed of (their folders are gone, Flink's disposal COMPLETED, Events SavepointDisposed)"
else
	fail "disposal: P1 on disk $(on_disk "$p1" && echo yes || echo no), P2 $(on_disk "$p2" && echo yes || echo no); $(grep -i dispos "$passes_log" | tail -5)"
fi
taken=$(journal '[.savepointsTaken[].path] | join(" ")')
if [ -n "$p4" ] && on_disk "$p3" && on_disk "$p4" && on_disk "$s1" && on_disk "$s2" &&
	[ "$taken" = "$s1 $s2 $p3 $p4" ] && [ "$(journal '.savepointDisposals // [] | length')" = 0 ] &&
	status_file | grep -q "startedFrom:" && status_file | grep -qF "$s1" &&
	[ "$(journal '[.savepointPath, .startedFrom, .restorePath] | index("'"$s1"'") // "none"')" = none ]; then
	ok "kept: the newest two (P3, P4) and, beyond the count, S1 (the status history's) and S2 (the running job's start)"
else
	fail "kept: taken=$taken disposals=$(journal '.savepointDisposals // []') S1 on disk $(on_disk "$s1" && echo yes || echo no) S2 $(on_disk "$s2" && echo yes || echo no) P3 $(on_disk "$p3" && echo yes || echo no) P4 $(on_disk "$p4" && echo yes || echo no)"
fi

# --- a disposal Flink cannot do is kept and asked again; one of a savepoint
# that is gone counts as done ----------------------------------------------------
gone=${p4%/*}/savepoint-000000-gone00000000
nofs=nofs://bucket/savepoint-000000-nofs00000000
edited=$(journal . | jq -c --arg g "$gone" --arg n "$nofs" '.savepointDisposals = [{path: $g, attempts: 0}, {path: $n, attempts: 0}]')
$K -n $ns patch configmap flink-journal-counter --type merge \
	-p "$(jq -n --arg j "$edited" '{data: {"journal.json": $j}}')" >/dev/null
sync_logged
if [ $rc = 0 ] && grep -q "disposed of savepoint $gone (it was already gone)" "$passes_log" &&
	[ "$(journal '[.savepointDisposals[].path] | join(" ")')" = "$nofs" ]; then
	ok "a savepoint already gone counts as disposed of; a failed disposal stays journaled"
else
	fail "injected disposals: rc=$rc disposals=$(journal '.savepointDisposals') $(grep -i dispos "$tmp/err" | tail -3)"
fi
if [ "$(journal '.savepointDisposals[0].attempts')" = 1 ] && [ -n "$(journal '.savepointDisposals[0].lastError // empty')" ] &&
	events SavepointDisposalFailed | grep -q "$nofs" && [ "$(job_state "$job3")" = RUNNING ] &&
	[ "$(status_field phase)" = Running ]; then
	ok "the failure is recorded (attempt 1: $(journal '.savepointDisposals[0].lastError' | cut -c1-100)), an Event says so, the deployment stays Running"
else
	fail "failed disposal: $(journal '.savepointDisposals') phase=$(status_field phase) events=$(events SavepointDisposalFailed)"
fi
sync_logged
if [ $rc = 0 ] && [ "$(journal '.savepointDisposals[0].attempts')" = 1 ] && [ "$(journal '.savepointDisposals | length')" = 1 ] &&
	[ "$(status_field savepointsRetained)" = 4 ] && [ "$(status_field savepointsPendingDisposal)" = 1 ]; then
	ok "the next pass, within a minute, does not ask again (back-off); the disposal is not forgotten; the status counts 4 retained, 1 pending"
else
	fail "back-off: rc=$rc $(journal '.savepointDisposals')"
fi

# --- upstream's default: past the retention, forgotten and kept ---------------
# the periodic savepoints tracked now (the passes above took more than P1..P4
# and disposed of the older ones), besides S1 and S2
dispose=
counter_yaml ', --rate, "200"' '\n    kubernetes.operator.periodic.savepoint.interval: 2 s' >"$tmp/work/jobs/counter.yaml"
publish "dispose-on-delete back to its default" >/dev/null
mapfile -t tracked < <(journal '.savepointsTaken[].path | select(. != "'"$s1"'" and . != "'"$s2"'")')
: >"$passes_log"
periodic_savepoints 3 "$(journal .savepointPath)"
more=("${new_sps[@]}")
taken=$(journal '[.savepointsTaken[].path] | join(" ")')
np=${#more[@]}
kept=yes
for sp in "${tracked[@]}"; do
	on_disk "$sp" && grep -q "savepoint $sp .*no longer tracked; its data stays" "$passes_log" &&
		! grep -q "disposed of savepoint $sp" "$passes_log" && ! events SavepointDisposed | grep -qF "$sp" || kept="no: $sp"
done
# S1 stays tracked while the status history (its last 10 entries) names it;
# how many entries the passes above added depends on how fast the job
# became Running each time, so it may have left that history: then it is
# forgotten as the others are, its folder kept
s1_kept=yes
if [ "$taken" = "$s2 ${more[np - 2]} ${more[np - 1]}" ]; then
	on_disk "$s1" && grep -q "savepoint $s1 .*no longer tracked; its data stays" "$passes_log" || s1_kept="no: $s1"
	taken="$s1 $taken"
fi
if [ "$np" -ge 2 ] && [ ${#tracked[@]} -ge 1 ] && [ "$kept" = yes ] && [ "$s1_kept" = yes ] &&
	[ "$taken" = "$s1 $s2 ${more[np - 2]} ${more[np - 1]}" ] &&
	[ "$(journal '[.savepointDisposals[].path] | join(" ")')" = "$nofs" ] && [ "$(job_state "$job3")" = RUNNING ]; then
	ok "without dispose-on-delete (upstream's default): the ${#tracked[@]} periodic savepoints now beyond the count are forgotten, their folders kept; nothing sent to Flink"
else
	fail "default retention: tracked before ${tracked[*]}, kept $kept, S1 kept $s1_kept; $np new savepoints (${more[*]}), taken=$taken; $(grep -iE "tracked|dispos" "$passes_log" | tail -4)"
fi
