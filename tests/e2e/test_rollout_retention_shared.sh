#!/usr/bin/env bash
# rig: k8s git flink s3
# Savepoint retention across deployments (max.count 1, dispose-on-delete), the savepoints
# taken on demand (job.savepointTriggerNonce):
#   - counter takes M1; a second deployment, standby (suspended, never
#     started), names M1 as its job.initialSavepointPath;
#   - standby's file then has a typo, and counter takes M2, which puts M1
#     beyond the count: with a problem in the manifests nothing is disposed
#     of, M1 included (its folder is there, no Event or log line says it was
#     disposed of, the journal still keeps it), and a debug line says why;
#   - the typo fixed, counter takes M3: retention works again (M2 is
#     disposed of) and M1, which standby still names (spelled with
#     /_metadata and without its scheme), stays;
#   - a disposal of M1 written into the journal (as a pass that did not
#     see standby would have) is not sent: M1 goes back to the kept ones;
#   - standby's file no longer names M1, but its journal does (the state it
#     resumes from): counter takes M4, and M1 still stays; M3 goes.
NAME=sprs
. "$(dirname "$0")/lib-rollout.sh"

# counter_yaml NONCE: counter keeping 1 savepoint, a savepoint asked with each new NONCE
counter_yaml() {
	deployment 1 savepoint |
		sed "s/^spec:\$/&\n  flinkConfiguration:\n    kubernetes.operator.savepoint.history.max.count: \"1\"\n    kubernetes.operator.savepoint.dispose-on-delete: \"true\"/" |
		sed "s/^    upgradeMode: savepoint\$/&\n    savepointTriggerNonce: $1/"
}
# standby_yaml PATH [typo]: suspended, to start from PATH (none when empty); "typo" misspells a field
standby_yaml() {
	deployment 1 savepoint | sed "s/name: counter,/name: standby,/" |
		sed "s|^    upgradeMode: savepoint\$|&\n    state: suspended${1:+\\n    initialSavepointPath: $1}|" |
		if [ "${2:-}" = typo ]; then sed "s/^    parallelism:/    paralelism:/"; else cat; fi
}
on_disk() { [ -d "${1#file:}" ]; }
passes_log=$tmp/passes.log
sync_logged() {
	"$FLINKOPS" --log-level debug sync --config "$tmp/config.yaml" --once -o json >"$tmp/out.json" 2>"$tmp/err"
	rc=$?
	cat "$tmp/err" >>"$passes_log"
}
# disposed PATH: an Event or a log line says PATH was (or is being) disposed of
disposed() {
	events SavepointDisposed | grep -qF "$1" || grep -F "$1" "$passes_log" | grep -qE "disposed of savepoint|disposing of"
}
taken() { journal '[.savepointsTaken[].path] | join(" ")'; }
# take_savepoint NONCE: counter asks for a savepoint; sets sp to the new one
take_savepoint() {
	local was
	was=$(journal .savepointPath)
	counter_yaml "$1" >"$tmp/work/jobs/counter.yaml"
	publish "counter: savepoint nonce $1" >/dev/null
	sync_logged
	sp=$(journal .savepointPath)
	[ -n "$sp" ] && [ "$sp" != null ] && [ "$sp" != "$was" ] && [ "$(journal .savepointReason)" = manual ]
}

counter_yaml 1 >"$tmp/work/jobs/counter.yaml"
publish "counter job, 1 savepoint kept" >/dev/null
sync_logged
job=$(journal .jobId)
echo "$job" >>"$tmp/ours"
[ $rc = 0 ] && [ "$(job_state "$job")" = RUNNING ] && ok "job $job RUNNING" || fail "create: rc=$rc $(head -3 "$tmp/err")"

# --- M1, and standby starting from it -------------------------------------------
take_savepoint 2 && m1=$sp || fail "M1: rc=$rc $(journal .savepointReason) $(head -3 "$tmp/err")"
m1=${m1:-none}
# standby names M1 as Flink writes it, with /_metadata and without "file:"
standby_yaml "${m1#file:}/_metadata" >"$tmp/work/jobs/standby.yaml"
publish "standby, to start from M1" >/dev/null
sync_logged
if [ $rc = 0 ] && on_disk "$m1" && [ "$(taken)" = "$m1" ]; then
	ok "M1 $m1 taken; standby (suspended) names it"
else
	fail "standby: rc=$rc taken=$(taken) $(grep -v DEBUG "$tmp/err" | head -3)"
fi

# --- a typo in standby's file: nothing is disposed of ----------------------------
standby_yaml "${m1#file:}/_metadata" typo >"$tmp/work/jobs/standby.yaml"
publish "standby: a typo" >/dev/null
take_savepoint 3 && m2=$sp || fail "M2: rc=$rc $(journal .savepointReason) $(grep -v DEBUG "$tmp/err" | head -3)"
m2=${m2:-none}
sync_logged
if grep -q 'paralelism' "$tmp/err" && [ $rc = 1 ] && [ "$(job_state "$job")" = RUNNING ]; then
	ok "the typo is reported (sync exits 1); counter keeps running"
else
	fail "typo: rc=$rc $(grep -v DEBUG "$tmp/err" | head -3)"
fi
if on_disk "$m1" && ! disposed "$m1" && [ "$(taken)" = "$m1 $m2" ] &&
	[ "$(journal '.savepointDisposals // [] | length')" = 0 ]; then
	ok "M1 is beyond the count and standby's file does not parse: it is not disposed of (on disk, still taken, no Event)"
else
	fail "M1 with a typo in standby: on disk $(on_disk "$m1" && echo yes || echo no), taken=$(taken), disposals=$(journal '.savepointDisposals // []'), $(grep -F "$m1" "$passes_log" | grep -i dispos | tail -3)"
fi
if grep -q "no savepoint is disposed of in this pass: [0-9]* problems\? in the manifests" "$passes_log"; then
	ok "a debug line says why disposal is held"
else
	fail "no line says why disposal is held: $(grep -i 'dispos' "$passes_log" | tail -3)"
fi

# --- the typo fixed: retention works again, and M1 stays while standby names it ---
standby_yaml "${m1#file:}/_metadata" >"$tmp/work/jobs/standby.yaml"
publish "standby: the typo fixed" >/dev/null
take_savepoint 4 && m3=$sp || fail "M3: rc=$rc $(grep -v DEBUG "$tmp/err" | head -3)"
m3=${m3:-none}
sync_logged
if [ $rc = 0 ] && ! on_disk "$m2" && events SavepointDisposed | grep -qF "$m2" && on_disk "$m3"; then
	ok "the typo fixed: M2, beyond the count, is disposed of (its folder is gone, an Event says so)"
else
	fail "M2: rc=$rc on disk $(on_disk "$m2" && echo yes || echo no), taken=$(taken) $(grep -i dispos "$tmp/err" | tail -3)"
fi
if on_disk "$m1" && ! disposed "$m1" && [ "$(taken)" = "$m1 $m3" ] && [ "$(journal '.savepointDisposals // [] | length')" = 0 ]; then
	ok "M1, which standby names (as ${m1#file:}/_metadata), stays"
else
	fail "M1 after the fix: on disk $(on_disk "$m1" && echo yes || echo no), taken=$(taken), $(grep -F "$m1" "$passes_log" | grep -i dispos | tail -3)"
fi

# --- a disposal journaled before standby named M1 is not sent ---------------------
# (as if chosen by a pass that did not yet see standby's file)
edited=$(journal . | jq -c --arg m "$m1" '.savepointsTaken |= map(select(.path != $m)) | .savepointDisposals = [{path: $m, attempts: 0}]')
$K -n $ns patch configmap flink-journal-counter --type merge \
	-p "$(jq -n --arg j "$edited" '{data: {"journal.json": $j}}')" >/dev/null
sync_logged
if [ $rc = 0 ] && on_disk "$m1" && [ "$(journal '.savepointDisposals // [] | length')" = 0 ] &&
	[ "$(taken)" = "$m1 $m3" ] && events SavepointKept | grep -qF "$m1" &&
	! grep -F "$m1" "$tmp/err" | grep -qE "disposed of savepoint|disposing of savepoint"; then
	ok "a journaled disposal of M1, which standby names, is not sent: M1 is kept again (Event SavepointKept)"
else
	fail "journaled disposal of M1: rc=$rc on disk $(on_disk "$m1" && echo yes || echo no), taken=$(taken), disposals=$(journal '.savepointDisposals // []'), events=$(events SavepointKept) $(grep -F "$m1" "$tmp/err" | tail -3)"
fi

# --- another deployment's journal alone names M1: it stays ------------------------
# standby's file names no savepoint any more; its journal keeps M1 as the state
# it resumes from (restorePath, as a suspend leaves it), written here by hand:
# a suspended standby that never ran has no journal of its own
standby_yaml "" >"$tmp/work/jobs/standby.yaml"
publish "standby: no initialSavepointPath" >/dev/null
sjournal=$(journal . | jq -c --arg m "$m1" '{version, agent, step: "idle", restorePath: $m, restoreKind: "savepoint"}')
$K -n $ns get configmap flink-journal-counter -o json |
	jq --arg j "$sjournal" '{apiVersion, kind, metadata: {name: "flink-journal-standby", namespace: .metadata.namespace,
		labels: (.metadata.labels | .["app.kubernetes.io/instance"] = "standby")}, data: {"journal.json": $j}}' |
	$K create -f - >/dev/null
take_savepoint 5 && m4=$sp || fail "M4: rc=$rc $(grep -v DEBUG "$tmp/err" | head -3)"
m4=${m4:-none}
sync_logged
if [ $rc = 0 ] && on_disk "$m1" && ! disposed "$m1" && [ "$(taken)" = "$m1 $m4" ] && ! on_disk "$m3" &&
	[ "$($K -n $ns get configmap flink-journal-standby -o jsonpath='{.data.journal\.json}' | jq -r .restorePath)" = "$m1" ]; then
	ok "M1, which only standby's journal names (restorePath), stays; M3, beyond the count, is disposed of"
else
	fail "M1 named by standby's journal: rc=$rc on disk $(on_disk "$m1" && echo yes || echo no), taken=$(taken), M3 on disk $(on_disk "$m3" && echo yes || echo no) $(grep -F "$m1" "$passes_log" | grep -i dispos | tail -3) $(grep -v DEBUG "$tmp/err" | head -3)"
fi
