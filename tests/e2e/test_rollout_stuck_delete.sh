#!/usr/bin/env bash
# rig: k8s git flink s3
# A deployment whose new job never starts (its main() throws), then removed
# from git, against the rig's real servers:
#   - the counter job runs, then a commit gives it an argument its main()
#     refuses: the upgrade stops the good job with a savepoint, the new
#     submission throws and the journal stays at the submission;
#   - the file is deleted from git: every `sync --once` pass ends with an
#     exit status (no signal, no sanitizer report), the status file says
#     Deleted with lastSavepoint the upgrade's savepoint (exact path), the
#     objects and the journal go — the objects once the state is in the
#     journal, the journal only after the status file recording that state
#     was pushed (a pre-receive hook on the repository notes what the
#     cluster held when each push arrived; the agent pushes over git:// so
#     that the hook runs for its pushes too); the savepoint stays;
#   - the same under `flinkops agent` with a second deployment: the daemon
#     keeps running and answers /healthz after the deletion passes.
NAME=stuckdel
EXTRA_FLINK="  readyTimeout: 20s"
. "$(dirname "$0")/lib-rollout.sh"
. "$(dirname "$0")/lib-agent.sh"

# bad: an argument the counter job's main() refuses (IllegalArgumentException)
bad=", --rate, bogus-$$"
# the agent reads and pushes over git:// (the rig's git daemon runs the
# repository's hooks; a file:// push by libgit2 does not); deleting the only
# deployment is allowed
gurl=${RIG_GIT_DAEMON_URL}$(basename "$repo")
sed -i "s|^repository: {url: \"file://$repo\", |repository: {url: \"$gurl\", |" "$tmp/config.yaml"
printf 'prune: {maxDeleteRatio: 1}\n' >>"$tmp/config.yaml"
grep -q "url: \"$gurl\"" "$tmp/config.yaml" || { fail "config: $(head -1 "$tmp/config.yaml")"; exit 1; }
# every push: its new commit and the namespace's StatefulSets, Services and
# ConfigMaps at the moment it arrived (before it lands)
cat >"$repo/hooks/pre-receive" <<EOF
#!/usr/bin/env bash
while read -r old new ref; do
	objs=\$($K -n $ns get statefulset,service,configmap -o name 2>/dev/null | sed 's|.*/||' | sort | tr '\n' ' ')
	echo "\$new \$objs" >>"$tmp/pushes"
done
exit 0
EOF
chmod +x "$repo/hooks/pre-receive"

# named NAME: the deployment on stdin renamed NAME, its counter file $counter.NAME
named() { sed "s|{name: counter, |{name: $1, |; s|--counter-file, $counter,|--counter-file, $counter.$1,|"; }
journal_of() { $K -n $ns get configmap "flink-journal-$1" -o jsonpath='{.data.journal\.json}' 2>/dev/null | jq -r "$2"; }
status_of() { # status_of NAME FIELD
	"$FLINKOPS" status --repo "$repo" --cache "$tmp/scache" -o json 2>/dev/null |
		jq -r --arg n "$1" --arg f "$2" '.deployments[] | select(.name==$n) | .[$f] // ""'
}
# objects_of NAME: the objects of deployment NAME in the namespace, one line
objects_of() {
	$K -n $ns get statefulset,service,configmap -l "app.kubernetes.io/instance=$1" -o name 2>/dev/null |
		sed 's|.*/||' | grep -v '^flink-journal-' | sort | tr '\n' ' '
}
. "$(dirname "$0")/../sanitizer.sh"
# signalled RC ERRFILE: the pass died of a signal, or a sanitizer reported
# (its own exit code, or a report in the log whatever the exit code)
signalled() { [ "$1" -ge 128 ] || [ "$1" = "$FO_SAN_EXIT" ] || san_reports "$2" >/dev/null; }
# sp_dir PATH: the folder of savepoint PATH (a file: URI)
sp_dir() { local p=${1#file://}; echo "${p#file:}"; }
# at_first_deleted NAME: what the hook saw at the first push whose status
# file of NAME says Deleted ("none" when there was no such push)
at_first_deleted() {
	local sha objs
	while read -r sha objs; do
		git --git-dir="$repo" cat-file -e "$sha^{commit}" 2>/dev/null || continue
		if git --git-dir="$repo" show "$sha:status/$ns/$1.yaml" 2>/dev/null | grep -q '^phase: Deleted$'; then
			echo "${sha:0:7}: $objs"
			return
		fi
	done <"$tmp/pushes"
	echo none
}
has() { grep -qw -- "$2" <<<"$1"; }
# recorded_first NAME OBJECTS PREFIX: NAME's journal was still there when the
# first status commit saying Deleted was pushed (OBJECTS, the names of its
# objects before the delete, are not required to be)
recorded_first() {
	local seen
	seen=$(at_first_deleted "$1")
	if [ "$seen" != none ] && has "$seen" "flink-journal-$1"; then
		ok "${3}the journal of $1 was still there when its Deleted status was pushed"
	else
		fail "${3}the journal of $1 went before the status file recorded the state: at the first Deleted push $seen"
	fi
	# (the objects may go before that push: the state is in the journal,
	# which stays until the status file records it, and a journal without
	# objects is finished by a later pass)
}

# --- the good job, then an upgrade whose main() throws -------------------------
start_counter
job1=$job
counter_grows_to 50
objects=$(objects_of counter)
deployment 1 savepoint "$bad" >"$tmp/work/jobs/counter.yaml"
commit2=$(publish "counter: --rate bogus")
sync_once
sp=$(journal .savepointPath)
step=$(journal .step)
bad_id=$(journal .submitJobId)
if [ "$rc" = 1 ] && { [ "$step" = submitted ] || [ "$step" = uploaded ]; } && [ "$(job_state "$job1")" = FINISHED ] &&
	[ -n "$sp" ] && [ "$(journal .savepointReason)" = upgrade ] && [ "$(journal .restorePath)" = "$sp" ] &&
	[ "$(basename "$sp" | cut -c11-16)" = "${job1:0:6}" ] && [ -z "$(job_state "$bad_id")" ]; then
	ok "commit ${commit2:0:7}: $job1 stopped with savepoint $sp, the new job's main() throws: journal at $step, exit 1"
else
	fail "bad upgrade: rc=$rc step=$step sp=$sp reason=$(journal .savepointReason) restore=$(journal .restorePath) job1=$(job_state "$job1") $(tail -3 "$tmp/err")"
fi
sync_once
if [ "$rc" = 1 ] && [ "$(journal .step)" = "$step" ] && [ "$(journal .restorePath)" = "$sp" ]; then
	ok "the next pass is stuck there too (exit 1, journal at $step from $(basename "$sp"))"
else
	fail "stuck pass: rc=$rc step=$(journal .step) restore=$(journal .restorePath) $(tail -3 "$tmp/err")"
fi

# --- the file is deleted -------------------------------------------------------
git -C "$tmp/work" rm -q jobs/counter.yaml
commit3=$(publish "delete counter")
crashed=
passes=0
for i in 1 2 3; do
	sync_once
	cp "$tmp/err" "$tmp/err.delete$i"
	passes=$i
	signalled "$rc" "$tmp/err" && crashed="$crashed pass $i: exit $rc $(san_excerpt "$tmp/err" | head -1);"
	[ -z "$(objects_of counter)" ] && ! $K -n $ns get configmap flink-journal-counter >/dev/null 2>&1 && [ $i -ge 2 ] && break
done
if [ -z "$crashed" ]; then
	ok "$passes sync --once passes after the delete, each ended with an exit status (last $rc), no signal, no sanitizer report"
else
	fail "a pass after the delete crashed:$crashed $(tail -3 "$tmp/err")"
fi
left=$(objects_of counter)
if [ "$(status_field phase)" = Deleted ] && [ "$(status_field lastSavepoint)" = "$sp" ] && [ -z "$left" ] &&
	! $K -n $ns get configmap flink-journal-counter >/dev/null 2>&1 && [ "$rc" = 0 ]; then
	ok "status Deleted with lastSavepoint $sp (the upgrade's savepoint); objects and journal gone; the last pass exits 0"
else
	fail "after the delete: rc=$rc phase=$(status_field phase) lastSavepoint=$(status_field lastSavepoint) (want $sp) left=[$left] journal=$($K -n $ns get configmap flink-journal-counter -o name 2>&1 | head -1)"
fi
recorded_first counter "$objects" ""
if [ -f "$(sp_dir "$sp")/_metadata" ] && [ "$(ours_running)" = 0 ] && [ -z "$(job_state "$bad_id")" ]; then
	ok "the savepoint $(basename "$sp") is still there; nothing of ours runs, the bad submission never became a job"
else
	fail "after the delete: savepoint dir $(ls -d "$(sp_dir "$sp")" 2>&1) running=$(ours_running) bad job=$(job_state "$bad_id")"
fi

# --- the same under the daemon ---------------------------------------------------
agent_config 2s
counter2=$counter.counter2
mkdir -p "$tmp/work/jobs" # (git rm took the folder with its last file)
deployment 1 savepoint | named counter2 >"$tmp/work/jobs/counter2.yaml"
publish "counter2" >/dev/null
start_agent || fail "agent start: $(tail -3 "$log")"
# until_true SECONDS COMMAND...: until COMMAND succeeds, SECONDS at most
until_true() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $end ]; do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}
idle_running() { [ "$(journal_of counter2 .step)" = idle ] && [ "$(job_state "$(journal_of counter2 .jobId)")" = RUNNING ] && [ -s "$counter2" ]; }
if until_true 90 idle_running; then
	j21=$(journal_of counter2 .jobId)
	echo "$j21" >>"$tmp/ours"
	ok "agent: counter2 runs as $j21"
else
	fail "agent: counter2 did not start: step=$(journal_of counter2 .step) $(tail -3 "$log")"
fi
deployment 1 savepoint "$bad" | named counter2 >"$tmp/work/jobs/counter2.yaml"
publish "counter2: --rate bogus" >/dev/null
stuck() {
	local s
	s=$(journal_of counter2 .step)
	{ [ "$s" = submitted ] || [ "$s" = uploaded ]; } && [ -n "$(journal_of counter2 '.savepointPath // empty')" ]
}
objects2=$(objects_of counter2)
if until_true 60 stuck && n=$(ended) && wait_ended $((n + 2)) 30; then
	sp2=$(journal_of counter2 .savepointPath)
	ok "agent: counter2 stopped with savepoint $(basename "$sp2"), its new job's main() throws: journal at $(journal_of counter2 .step) over two more passes"
else
	sp2=$(journal_of counter2 .savepointPath)
	fail "agent: not stuck: step=$(journal_of counter2 .step) sp=$sp2 $(tail -3 "$log")"
fi
git -C "$tmp/work" rm -q jobs/counter2.yaml
publish "delete counter2" >/dev/null
gone2() { [ -z "$(objects_of counter2)" ] && ! $K -n $ns get configmap flink-journal-counter2 >/dev/null 2>&1; }
until_true 60 gone2
n=$(ended)
wait_ended $((n + 2)) 30
alive=no
[ -n "$agent" ] && [ -e "/proc/$agent" ] && [ "$(awk '{print $3}' "/proc/$agent/stat" 2>/dev/null)" != Z ] && alive=yes
h=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$url/healthz")
if [ $alive = yes ] && [ "$h" = 200 ] && gone2 && ! san_reports "$log" >/dev/null; then
	ok "agent: after the delete it keeps running ($(ended) passes ended), /healthz 200; counter2's objects and journal gone"
else
	fail "agent after the delete: alive=$alive healthz=$h objects=[$(objects_of counter2)] $(tail -3 "$log")"
fi
if [ "$(status_of counter2 phase)" = Deleted ] && [ -n "$sp2" ] && [ "$(status_of counter2 lastSavepoint)" = "$sp2" ] &&
	[ -f "$(sp_dir "$sp2")/_metadata" ]; then
	ok "agent: status Deleted with lastSavepoint $(basename "$sp2"), the upgrade's savepoint, which stays"
else
	fail "agent: status phase=$(status_of counter2 phase) lastSavepoint=$(status_of counter2 lastSavepoint) (want $sp2)"
fi
recorded_first counter2 "$objects2" "agent: "
if [ $alive = yes ] && term_agent; then
	ok "agent: SIGTERM, exit 0"
else
	fail "agent: exit $rc $(tail -3 "$log")"
fi
