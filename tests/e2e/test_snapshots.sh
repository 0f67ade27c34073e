#!/usr/bin/env bash
# rig: k8s git flink s3
# FlinkStateSnapshot as the upstream operator writes it, on the rig's Flink
# (flink.restUrl points every name at it):
#   - plan on a commit adding a savepoint snapshot of the counter says it is
#     taken once; sync takes it: the savepoint is on disk, the job runs on
#     (same id), status/NS/s1.yaml is Completed and names it, wait exits 0;
#     a second sync takes nothing more and commits nothing;
#   - a new FlinkDeployment names that path as its initialSavepointPath:
#     plan says it is s1's savepoint; Flink says its job restored from it,
#     and its counter goes on from the snapshot's state;
#   - a checkpoint snapshot: taken, its path recorded; one of a job not in
#     git: Abandoned, and wait on its commit exits 1;
#   - a crash right after a snapshot is recorded, before Flink was asked,
#     with an upgrade of its job pushed meanwhile: the next sync asks again
#     under the same trigger id, the upgrade's stop waits for the snapshot
#     (the job's rollout says so), then the job upgrades: one snapshot
#     savepoint and one upgrade savepoint, never two snapshots;
#   - removed from git: s3 (disposeOnDelete: true) has its savepoint
#     disposed of and its record forgotten; s1 (disposeOnDelete: true too),
#     whose path the new deployment still names, keeps its data and its
#     record, and its status says why;
#   - a snapshot of a suspended job: sync does not wait for it; its status
#     is Pending and says why; nothing is recorded or asked of Flink;
#   - a snapshot whose file no longer parses is not taken as gone, even in
#     a pass with no deployment to prune: its record and status stay.
NAME=snap
. "$(dirname "$0")/lib-rollout.sh"
snapfile() { # snapfile NAME KIND JOB (savepoint|checkpoint) [DISPOSE]
	if [ "$4" = checkpoint ]; then
		body="checkpoint: {}"
	else
		body="savepoint: {disposeOnDelete: ${5:-false}}"
	fi
	cat <<EOF
apiVersion: flink.apache.org/v1beta1
kind: FlinkStateSnapshot
metadata: {name: $1, namespace: $ns}
spec:
  backoffLimit: 0
  jobReference: {kind: $2, name: $3}
  $body
EOF
}
rec() { $K -n $ns get configmap "flink-snapshot-$1" -o jsonpath='{.data.snapshot\.json}' 2>/dev/null | jq -r "$2"; }
sfield() {
	"$FLINKOPS" status --repo "$repo" --cache "$tmp/scache" -o json 2>/dev/null |
		jq -r --arg n "$1" --arg f "$2" '.deployments[] | select(.name==$n) | .[$f] // ""'
}
sfile() {
	git -C "$tmp/work" fetch -q origin main 2>/dev/null
	git -C "$tmp/work" show "origin/main:status/$ns/$1.yaml" 2>/dev/null
}
exists() { [ -e "${1#file:}/_metadata" ]; }

# --- the counter runs; a savepoint snapshot of it is committed -----------------------
deployment 1 savepoint >"$tmp/work/jobs/counter.yaml"
publish "counter" >/dev/null
sync_once
j1=$(journal .jobId)
echo "$j1" >>"$tmp/ours"
snapfile s1 FlinkDeployment counter savepoint true >"$tmp/work/jobs/s1.yaml"
git -C "$tmp/work" add -A && git -C "$tmp/work" commit -qm "snapshot s1"
"$FLINKOPS" plan --repo "$tmp/work" --base HEAD~1 --head HEAD >"$tmp/plan" 2>&1
prc=$?
publish "snapshot s1" >/dev/null
c1=$(git -C "$tmp/work" rev-parse HEAD)
sync_once
p1=$(rec s1 .path)
if [ $prc = 2 ] && grep -q "s1 (jobs/s1.yaml, a FlinkStateSnapshot): takes a savepoint of FlinkDeployment counter once" "$tmp/plan" &&
	[ $rc = 0 ] && [ "$(rec s1 .state)" = COMPLETED ] && [ -n "$p1" ] && exists "$p1" && [ "$(rec s1 .jobId)" = "$j1" ] &&
	[ "$(journal .jobId)" = "$j1" ] && [ "$(job_state "$j1")" = RUNNING ] && [ "$(sfield s1 phase)" = Completed ] &&
	sfile s1 | grep -q "path: $p1" && [ "$(savepoints_of "$j1")" = 1 ] &&
	"$FLINKOPS" wait --repo "$repo" --commit "$c1" --timeout 10s --interval 1s >"$tmp/wait" 2>&1; then
	ok "FlinkStateSnapshot s1: plan said it is taken once; sync took savepoint $p1 of $j1 (on disk), which runs on; status/$ns/s1.yaml Completed names it; wait --commit exits 0"
else
	fail "s1: plan rc=$prc $(grep s1 "$tmp/plan") rc=$rc state=$(rec s1 .state) path=$p1 job=$(journal .jobId) phase=$(sfield s1 phase) sps=$(savepoints_of "$j1") wait: $(tail -2 "$tmp/wait") $(tail -3 "$tmp/err")"
fi

# --- a second sync: nothing more taken, nothing committed ----------------------------
head0=$(git -C "$tmp/work" ls-remote origin main | cut -f1)
sync_once
if [ $rc = 0 ] && [ "$(savepoints_of "$j1")" = 1 ] && [ "$(git -C "$tmp/work" ls-remote origin main | cut -f1)" = "$head0" ]; then
	ok "a second sync: no second savepoint, no status commit"
else
	git -C "$tmp/work" fetch -q origin main
	fail "second sync: rc=$rc sps=$(savepoints_of "$j1") head moved: $head0 -> $(git -C "$tmp/work" ls-remote origin main | cut -f1): $(git -C "$tmp/work" diff "$head0" origin/main | grep '^[-+]' | head -20)"
fi

# --- a new deployment starts from the snapshot ---------------------------------------
at=$(cat "$counter")
deployment 1 savepoint | sed "s/name: counter,/name: fork,/; s|$counter|$tmp/counter-fork|; s|^    upgradeMode: savepoint$|&\n    initialSavepointPath: $p1|" >"$tmp/work/jobs/fork.yaml"
git -C "$tmp/work" pull -q --rebase origin main
git -C "$tmp/work" add -A && git -C "$tmp/work" commit -qm "fork from s1"
"$FLINKOPS" plan --repo "$tmp/work" --base HEAD~1 --head HEAD >"$tmp/plan" 2>&1
publish "fork from s1" >/dev/null
sync_once
fj=$($K -n $ns get configmap flink-journal-fork -o jsonpath='{.data.journal\.json}' | jq -r .jobId)
echo "$fj" >>"$tmp/ours"
sleep 1
first=$(head -1 "$tmp/counter-fork" 2>/dev/null || echo 0)
if grep -q "state: job.initialSavepointPath, $p1 — the savepoint of FlinkStateSnapshot $ns/s1" "$tmp/plan" &&
	[ $rc = 0 ] && [ -n "$fj" ] && [ "$(job_state "$fj")" = RUNNING ] && [ "$(restored "$fj")" = "$p1" ] && [ "${first:-0}" -gt 0 ]; then
	ok "FlinkDeployment fork with initialSavepointPath $p1: plan named it the savepoint of FlinkStateSnapshot s1; Flink restored its job $fj from it; its counter went on from the snapshot's state ($first; the counter was at $at later)"
else
	fail "fork: plan: $(grep state: "$tmp/plan") rc=$rc job=$fj state=$(job_state "$fj") restored=$(restored "$fj") first=$first $(tail -3 "$tmp/err")"
fi

# --- a checkpoint snapshot, and one of a job not in git ------------------------------
snapfile c1 FlinkDeployment counter checkpoint >"$tmp/work/jobs/c1.yaml"
snapfile lost FlinkDeployment nosuch savepoint >"$tmp/work/jobs/lost.yaml"
c2=$(publish "checkpoint c1, snapshot of a missing job")
sync_once
"$FLINKOPS" wait --repo "$repo" --commit "$c2" --timeout 10s --interval 1s >"$tmp/wait" 2>&1
wrc=$?
if [ "$(rec c1 .state)" = COMPLETED ] && [ -n "$(rec c1 .path)" ] && [ "$(rec c1 .type)" = checkpoint ] &&
	[ "$(sfield c1 phase)" = Completed ] && [ "$(rec lost .state)" = ABANDONED ] && [ "$(sfield lost phase)" = Abandoned ] &&
	[ $wrc = 1 ] && grep -q "lost Abandoned" "$tmp/wait" && grep -q "jobs/lost.yaml:1:1: warning: FlinkStateSnapshot $ns/lost: jobReference FlinkDeployment nosuch is not in the repository" "$tmp/err"; then
	ok "checkpoint snapshot c1 taken ($(rec c1 .path)); snapshot lost of a job not in git: a positioned warning, Abandoned, and wait on its commit exits 1"
else
	fail "c1/lost: c1=$(rec c1 .state)/$(rec c1 .path) lost=$(rec lost .state)/$(sfield lost phase) wait rc=$wrc $(tail -2 "$tmp/wait") $(grep lost "$tmp/err" | head -2)"
fi

# --- a crash between the record and the request, an upgrade meanwhile ----------------
snapfile s3 FlinkDeployment counter savepoint true >"$tmp/work/jobs/s3.yaml"
publish "snapshot s3" >/dev/null
FLINKOPS_CRASH_AFTER=snapshot-recorded "$FLINKOPS" sync --config "$tmp/config.yaml" --once >/dev/null 2>"$tmp/crash"
crc=$?
t3=$(rec s3 .triggerId)
st3=$(rec s3 .state)
sp_before=$(savepoints_of "$j1")
deployment 1 savepoint ', --rate, "150"' >"$tmp/work/jobs/counter.yaml"
publish "counter upgraded" >/dev/null
sync_once
j2=$(journal .jobId)
echo "$j2" >>"$tmp/ours"
p3=$(rec s3 .path)
if [ $crc = 137 ] && [ "$st3" = IN_PROGRESS ] && [ -n "$t3" ] && [ "$sp_before" = 1 ] && [ $rc = 0 ] &&
	[ "$(rec s3 .state)" = COMPLETED ] && exists "$p3" && [ "$(rec s3 .jobId)" = "$j1" ] &&
	grep -q "the job is stopped once its FlinkStateSnapshot s3 (in progress) has ended" "$tmp/err" &&
	[ "$j2" != "$j1" ] && [ "$(job_state "$j2")" = RUNNING ] && [ "$(savepoints_of "$j1")" = 3 ] &&
	[ "$(restored "$j2")" = "$(journal .startedFrom)" ] && [ "$(journal .startedFrom)" != "$p3" ]; then
	ok "killed after s3 was recorded (trigger $t3), before Flink was asked; the next sync asked again under it while the upgrade's stop waited for it; s3 completed ($p3) on $j1, then $j1 stopped with its own savepoint and $j2 started from that: 3 savepoints of $j1 in all (s1, s3, the upgrade)"
else
	fail "crash: rc=$crc state=$st3 trigger=$t3 before=$sp_before; sync rc=$rc s3=$(rec s3 .state)/$p3 j2=$j2 sps=$(savepoints_of "$j1") held=$(grep -c 'FlinkStateSnapshot s3' "$tmp/err") $(tail -3 "$tmp/err")"
fi

# --- removed from git: disposed of when asked and unreferenced -----------------------
git -C "$tmp/work" rm -q jobs/s3.yaml jobs/s1.yaml
publish "s1 and s3 removed" >/dev/null
sync_once
sync_once # the records go once their status files are pushed
if [ $rc = 0 ] && ! exists "$p3" && ! $K -n $ns get configmap flink-snapshot-s3 >/dev/null 2>&1 &&
	[ "$(sfield s3 phase)" = Deleted ] && exists "$p1" && [ "$(rec s1 .state)" = COMPLETED ] &&
	sfile s1 | grep -q "is kept for now: .*fork"; then
	ok "s3 (disposeOnDelete: true) removed from git: its savepoint disposed of, its record gone, its status Deleted; s1 (disposeOnDelete: true) removed while FlinkDeployment fork names its path: its savepoint $p1 kept, its record too, and its status says why"
else
	fail "removed: rc=$rc p3 exists=$(exists "$p3" && echo yes) s3=$(rec s3 .state) s1 rec=$(rec s1 .state) phases=$(sfield s3 phase)/$(sfield s1 phase) s1: $(sfile s1 | grep message) $(tail -3 "$tmp/err")"
fi

# --- a snapshot of a suspended job: not waited for, pending, says why ----------------
sed -i "s|^    upgradeMode: savepoint$|&\n    state: suspended|" "$tmp/work/jobs/fork.yaml"
snapfile s5 FlinkDeployment fork savepoint >"$tmp/work/jobs/s5.yaml"
publish "fork suspended, a snapshot of it" >/dev/null
t0=$SECONDS
sync_once
if [ $rc = 0 ] && [ $((SECONDS - t0)) -lt 60 ] && [ "$(sfield s5 phase)" = Pending ] &&
	sfile s5 | grep -q "its job does not run" && [ -z "$(rec s5 .state)" ]; then
	ok "a snapshot of the suspended fork: sync returned in $((SECONDS - t0)) s without waiting for it; status Pending says its job does not run; nothing recorded or asked"
else
	fail "suspended: rc=$rc $((SECONDS - t0)) s phase=$(sfield s5 phase) rec=$(rec s5 .state) $(sfile s5 | grep message) $(tail -3 "$tmp/err")"
fi

# --- a snapshot's file that no longer parses: its record is not taken as gone --------
sed -i 's/^  backoffLimit: 0$/  backoffLimit: -5/' "$tmp/work/jobs/c1.yaml"
publish "c1 broken" >/dev/null
sync_once
if [ $rc = 1 ] && grep -q "jobs/c1.yaml:.*backoffLimit: must be at least -1" "$tmp/err" && [ "$(rec c1 .state)" = COMPLETED ] &&
	[ "$(sfield c1 phase)" = Completed ]; then
	ok "c1's file broken (and no deployment to prune in the pass): sync exits 1 at the file; c1's record is kept and its status stays Completed, not Deleted"
else
	fail "broken c1: rc=$rc rec=$(rec c1 .state) phase=$(sfield c1 phase) $(grep c1.yaml "$tmp/err" | head -2)"
fi
