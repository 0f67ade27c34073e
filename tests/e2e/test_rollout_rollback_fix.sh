#!/usr/bin/env bash
# rig: k8s git flink s3
# What git asks for after a rollback, against the rig's real servers (sync
# --once each time, flink.rollback on by default). An upgrade whose job fails
# at start (the counter job's fail marker) is rolled back: the previous
# commit's spec runs, status RolledBack, wait exits 1. Then:
#   - `git revert` of the failed commit (back to the spec that runs) clears
#     the rollback: status Running at the revert, no failedCommit, wait exits
#     0, the journal holds no rollback; and applying the failed commit's spec
#     again later is attempted (it runs, its marker gone);
#   - after a second failing upgrade is rolled back, a fix commit that
#     changes only the TaskManager's memory (the same job hash as the failed
#     commit) is a new target and runs: the fix's objects are applied, its
#     job runs from the rolled-back job's savepoint, status Running at the
#     fix commit, `flinkops wait --commit FIX` exits 0.
NAME=rbfix
EXTRA_FLINK="  readyTimeout: 8s"
. "$(dirname "$0")/lib-rollout.sh"
m1=$tmp/fail1
m2=$tmp/fail2

# same_spec A B: commits A and B hold the same counter.yaml (A may be a
# status commit the agent pushed on top of B)
same_spec() {
	git -C "$tmp/work" fetch -q origin main 2>/dev/null
	[ -n "$1" ] && [ "$(git -C "$tmp/work" show "$1:jobs/counter.yaml" 2>&1)" = "$(git -C "$tmp/work" show "$2:jobs/counter.yaml")" ]
}
# tm_resources COMMIT: the TaskManager container's resources COMMIT renders
# to, memory in MiB (the API server writes 2048Mi back as 2Gi)
mib='walk(if type == "string" and test("^[0-9]+(Gi|Mi)$") then (if endswith("Gi") then (.[:-2] | tonumber * 1024) else (.[:-2] | tonumber) end) else . end)'
tm_resources() {
	git -C "$tmp/work" show "$1:jobs/counter.yaml" >"$tmp/at.yaml"
	"$FLINKOPS" render -o json "$tmp/at.yaml" 2>/dev/null |
		jq -cS ".items[] | select(.kind==\"StatefulSet\" and .metadata.name==\"counter-taskmanager\") | .spec.template.spec.containers[0].resources | $mib"
}
live_tm_resources() { $K -n $ns get statefulset counter-taskmanager -o json | jq -cS ".spec.template.spec.containers[0].resources | $mib"; }
# pass_at COMMIT: a sync --once pass, then `flinkops wait --commit COMMIT`;
# sets old (the job before), job (the journal's after), rc and wrc
pass_at() {
	old=$job
	sync_once
	job=$(journal .jobId)
	echo "$job" >>"$tmp/ours"
	"$FLINKOPS" wait --repo "$repo" --commit "$1" --timeout 20s --interval 1s >"$tmp/wait" 2>&1
	wrc=$?
}
# rolled_back COMMIT: the pass of a commit whose job fails at start; sets job (the rollback's job)
rolled_back() {
	pass_at "$1"
	if [ "$rc" = 1 ] && [ "$job" != "$old" ] && [ "$(job_state "$job")" = RUNNING ] && same_spec "$(journal .rollbackOfCommit)" "$1" &&
		same_spec "$(journal .targetCommit)" "$2" &&
		[ "$(status_field phase)" = RolledBack ] && status_file | grep -Eq "^failedCommit: \"?$1\"?$" && [ $wrc = 1 ]; then
		ok "commit ${1:0:7} failed at start and was rolled back: $job runs the spec of ${2:0:7}; RolledBack, wait exits 1"
	else
		fail "rollback of ${1:0:7}: rc=$rc job=$job state=$(job_state "$job") of=$(journal .rollbackOfCommit) runs=$(journal .targetCommit) phase=$(status_field phase) wait=$wrc $(tail -3 "$tmp/err")"
	fi
}
# runs_at COMMIT WHAT: the pass of a commit that must run (a new target);
# sets job (after a revert it may be the job that ran: its spec is COMMIT's)
runs_at() {
	pass_at "$1"
	if [ "$rc" = 0 ] && [ "$(job_state "$job")" = RUNNING ] && same_spec "$(journal .targetCommit)" "$1" &&
		[ "$(journal .targetJobHash)" = "$(job_hash "$1")" ] && [ "$(journal '.rollbackOfHash // empty')" = "" ] &&
		[ "$(status_field phase)" = Running ] && [ "$(status_field observedCommit)" = "$1" ] &&
		! status_file | grep -q '^failedCommit:' && [ $wrc = 0 ]; then
		ok "$2: commit ${1:0:7} runs as $job (its job hash, was $old); no rollback in the journal; Running at ${1:0:7}, no failedCommit; wait --commit ${1:0:7} exits 0"
	else
		fail "$2: rc=$rc job=$job state=$(job_state "$job") target=$(journal .targetCommit) (want $1) hash=$(journal .targetJobHash) (want $(job_hash "$1")) rollbackOf=$(journal '.rollbackOfCommit // empty') phase=$(status_field phase) observed=$(status_field observedCommit) failed=$(status_file | sed -n 's/^failedCommit: //p') wait=$wrc $(tail -1 "$tmp/wait" 2>/dev/null) $(tail -2 "$tmp/err")"
	fi
}

# --- a healthy job, an upgrade that fails at start, git revert of it -----------
deployment 1 savepoint >"$tmp/work/jobs/counter.yaml"
commit1=$(publish "counter job")
sync_once
job=$(journal .jobId)
echo "$job" >>"$tmp/ours"
[ "$rc" = 0 ] && [ "$(job_state "$job")" = RUNNING ] && ok "commit ${commit1:0:7}: job $job RUNNING" ||
	fail "create: rc=$rc $(tail -3 "$tmp/err")"
counter_grows_to 50
touch "$m1"
deployment 1 savepoint ", --fail-marker, $m1" >"$tmp/work/jobs/counter.yaml"
commit2=$(publish "fails at start")
rolled_back "$commit2" "$commit1"
revert() { # revert COMMIT: git revert of COMMIT, pushed; prints the new commit
	git -C "$tmp/work" pull -q --rebase origin main 2>/dev/null
	git -C "$tmp/work" revert --no-edit "$1" >/dev/null
	git -C "$tmp/work" push -q origin HEAD:main 2>/dev/null
	git -C "$tmp/work" rev-parse HEAD
}
commit3=$(revert "$commit2")
runs_at "$commit3" "git revert of ${commit2:0:7}"
# applying the reverted commit's spec again: attempted (it runs, its marker gone)
rm -f "$m1"
commit4=$(revert "$commit3")
if [ "$(job_hash "$commit4")" = "$(job_hash "$commit2")" ]; then
	runs_at "$commit4" "${commit2:0:7}'s spec applied again"
else
	fail "the re-apply is not ${commit2:0:7}'s spec"
fi

# --- a second failing upgrade, then a memory-only fix: the same job hash --------
counter_grows_to $(($(cat "$counter") + 25))
touch "$m2"
deployment 1 savepoint ", --fail-marker, $m2" >"$tmp/work/jobs/counter.yaml"
commit5=$(publish "fails at start again")
rolled_back "$commit5" "$commit4"
rm -f "$m2"
deployment 1 savepoint ", --fail-marker, $m2" | sed 's|taskManager: {resource: {memory: 1g}}|taskManager: {resource: {memory: 2g}}|' \
	>"$tmp/work/jobs/counter.yaml"
commit6=$(publish "TaskManager memory 2g")
if [ -n "$(job_hash "$commit6")" ] && [ "$(job_hash "$commit6")" = "$(job_hash "$commit5")" ] &&
	[ "$(tm_resources "$commit6")" != "$(tm_resources "$commit5")" ]; then
	ok "commit ${commit6:0:7} changes only the TaskManager's memory: job hash $(job_hash "$commit6") as ${commit5:0:7}'s"
else
	fail "the fix is not memory-only: hash $(job_hash "$commit6") vs $(job_hash "$commit5"), resources $(tm_resources "$commit6") vs $(tm_resources "$commit5")"
fi
rb_job=$job
before=$(cat "$counter")
runs_at "$commit6" "the memory-only fix"
sp=$(journal .savepointPath)
rm -f "$counter"
first=$(wait_counter)
if [ "$job" != "$rb_job" ] && [ "$(job_state "$rb_job")" = FINISHED ] && [ "$(restored "$job")" = "$sp" ] &&
	[ "$(basename "$sp" | cut -c11-16)" = "${rb_job:0:6}" ] && [ "$(live_tm_resources)" = "$(tm_resources "$commit6")" ] &&
	[ "$first" -ge "$before" ]; then
	ok "the fix's TaskManager runs with $(live_tm_resources); its job started from $(basename "$sp"), the savepoint of the rolled-back job $rb_job; counter $before before, $first first after"
else
	fail "the fix's run: job=$job rolled-back job $rb_job $(job_state "$rb_job") restored=$(restored "$job") sp=$sp resources $(live_tm_resources) (want $(tm_resources "$commit6")) counter $before -> $first"
fi
