#!/usr/bin/env bash
# rig: k8s git flink s3
# A new job that never starts, then a commit that fixes it, against the
# rig's real servers (sync --once each time). Twice:
#   - an argument the counter job's main() refuses, fixed by the next commit's
#     arguments;
#   - a new build of the jar whose main() throws, fixed by the next commit
#     going back to the good jar.
# Each time the good job is stopped with a savepoint by the bad commit's
# upgrade and the bad submission stays stuck (journal at the submission,
# exit 1); the fix commit's job then runs: Flink shows it RUNNING with the
# fix's arguments (its job name), started from exactly the upgrade's
# savepoint (Flink's checkpoint statistics), the journal's target is the
# fix's commit and job hash, the status says Running at the fix commit and
# `flinkops wait` exits 0 for it, and the bad submission is not run again
# (its error is not in the fix's pass; it never became a Flink job).
NAME=stuckfix
EXTRA_FLINK="  readyTimeout: 20s"
. "$(dirname "$0")/lib-rollout.sh"

job_name() { curl -s "$RIG_FLINK_URL/jobs/overview" | jq -r --arg j "$1" '.jobs[] | select(.jid==$j) | .name'; }
# stuck WHAT ERROR_WORD: the bad commit's pass: the old job stopped with a
# savepoint, the new submission refused; sets sp (the savepoint), bad_id
stuck() {
	sync_once
	sp=$(journal .savepointPath)
	bad_id=$(journal .submitJobId)
	local step
	step=$(journal .step)
	if [ "$rc" = 1 ] && { [ "$step" = submitted ] || [ "$step" = uploaded ]; } && [ "$(job_state "$job")" = FINISHED ] &&
		[ "$(journal .savepointReason)" = upgrade ] && [ "$(journal .restorePath)" = "$sp" ] &&
		[ "$(basename "$sp" | cut -c11-16)" = "${job:0:6}" ] && grep -q -- "$2" "$tmp/err" && [ -z "$(job_state "$bad_id")" ]; then
		ok "$1: $job stopped with savepoint $(basename "$sp"), the new submission's main() throws ($2): journal at $step, exit 1"
	else
		fail "$1: rc=$rc step=$step sp=$sp reason=$(journal .savepointReason) old job $(job_state "$job") $(tail -3 "$tmp/err")"
	fi
	sync_once
	if [ "$rc" = 1 ] && [ "$(journal .step)" = "$step" ] && [ "$(journal .restorePath)" = "$sp" ] && grep -q -- "$2" "$tmp/err"; then
		ok "$1: the next pass is stuck there too (exit 1)"
	else
		fail "$1: the stuck pass: rc=$rc step=$(journal .step) $(tail -3 "$tmp/err")"
	fi
}
# fixed WHAT COMMIT JOBNAME ERROR_WORD: the fix's pass; sets job
fixed() {
	local before first
	before=$(cat "$counter")
	sync_once
	job=$(journal .jobId)
	echo "$job" >>"$tmp/ours"
	rm -f "$counter"
	first=$(wait_counter)
	if [ "$rc" = 0 ] && [ "$(job_state "$job")" = RUNNING ] && [ "$(job_name "$job")" = "$3" ] && [ "$job" != "$bad_id" ] &&
		[ "$(restored "$job")" = "$sp" ] && [ "$first" -ge "$before" ]; then
		ok "$1: the fix runs: $job RUNNING as \"$3\" from $(basename "$sp"); counter $before before, $first first after"
	else
		fail "$1: the fix: rc=$rc job=$job state=$(job_state "$job") name=$(job_name "$job") restored=$(restored "$job") (want $sp) counter $before -> $first $(tail -3 "$tmp/err")"
	fi
	"$FLINKOPS" wait --repo "$repo" --commit "$2" --timeout 10s --interval 1s >"$tmp/wait" 2>&1
	local wrc=$?
	if [ "$(journal .step)" = idle ] && [ "$(journal .targetCommit)" = "$2" ] && [ -n "$(job_hash "$2")" ] &&
		[ "$(journal .targetJobHash)" = "$(job_hash "$2")" ] && [ "$(status_field phase)" = Running ] &&
		[ "$(status_field observedCommit)" = "$2" ] && [ "$(status_field jobId)" = "$job" ] && [ $wrc = 0 ]; then
		ok "$1: journal idle at ${2:0:7} (its job hash), status Running at ${2:0:7}; flinkops wait --commit ${2:0:7} exits 0"
	else
		fail "$1: journal step=$(journal .step) target=$(journal .targetCommit) hash=$(journal .targetJobHash) (want $(job_hash "$2")); status phase=$(status_field phase) observed=$(status_field observedCommit) job=$(status_field jobId); wait $wrc: $(tail -1 "$tmp/wait")"
	fi
	if ! grep -q -- "$4" "$tmp/err" && [ -z "$(job_state "$bad_id")" ] && [ "$(ours_running)" = 1 ]; then
		ok "$1: the bad submission was not run again (no \"$4\" in the fix's pass), only $job runs"
	else
		fail "$1: the bad submission: $(grep -c -- "$4" "$tmp/err") error(s) in the fix's pass, bad job $(job_state "$bad_id"), $(ours_running) running"
	fi
}

start_counter
counter_grows_to 50

# --- an argument main() refuses, fixed by the next commit's arguments ----------
deployment 1 savepoint ", --rate, bogus-$$" >"$tmp/work/jobs/counter.yaml"
publish "counter: --rate bogus" >/dev/null
stuck "bad arguments" "bogus-$$"
deployment 1 savepoint ", --name, counter-fixed-a" >"$tmp/work/jobs/counter.yaml"
fix1=$(publish "counter: arguments fixed")
fixed "fixed arguments" "$fix1" counter-fixed-a "bogus-$$"
counter_grows_to $(($(cat "$counter") + 25))

# --- a new build of the jar whose main() throws, fixed by going back -----------
# the counter's class, built again: its main() throws
mkdir -p "$tmp/v2/io/flinkops/rig" "$tmp/v2c"
cat >"$tmp/v2/io/flinkops/rig/CounterJob.java" <<EOF
package io.flinkops.rig;
public final class CounterJob {
	public static void main(String[] args) {
		throw new IllegalStateException("e2e-$$: this build of the counter job refuses to start");
	}
}
EOF
v2key=e2e-$NAME-$$/counter-v2.jar
if javac --release 11 -d "$tmp/v2c" "$tmp/v2/io/flinkops/rig/CounterJob.java" && jar cf "$tmp/v2.jar" -C "$tmp/v2c" . &&
	"$RIG_S3_PUT" "$RIG_S3_BUCKET" "$v2key" "$tmp/v2.jar" >/dev/null; then
	ok "a build of the counter job whose main() throws is at s3://$RIG_S3_BUCKET/$v2key"
else
	fail "the throwing jar could not be built or put"
fi
deployment 1 savepoint ", --name, counter-fixed-a" | sed "s|jarURI: .*|jarURI: s3://$RIG_S3_BUCKET/$v2key|" >"$tmp/work/jobs/counter.yaml"
publish "counter: jar v2" >/dev/null
stuck "a jar whose main() throws" "e2e-$$: this build"
deployment 1 savepoint ", --name, counter-fixed-b" >"$tmp/work/jobs/counter.yaml"
fix2=$(publish "counter: back to the good jar")
fixed "back to the good jar" "$fix2" counter-fixed-b "e2e-$$: this build"
