# The rig's Flink part: a real Flink session cluster (one JVM built from the
# published Flink artifacts, see tests/rig/flink/) with its REST API on
# loopback, jar upload and run, savepoints into a local folder, and a small
# stateful job (io.flinkops.rig.CounterJob) whose counter must survive every
# stop-with-savepoint and restore. Sourced by tests/rig/rig; defines
# flink_deps, flink_build, flink_up, flink_env and flink_smoke.

FLINK_RIG_SRC="$RIG_SRC/flink"
FLINK_RIG_VERSION=$(sed -n 's:.*<flink.version>\(.*\)</flink.version>.*:\1:p' "$FLINK_RIG_SRC/pom.xml")
FLINK_RIG_HOME="$RIG_CACHE/flink-$FLINK_RIG_VERSION"
FLINK_RIG_DATA="$RIG_HOME/data/flink"
FLINK_RIG_SLOTS=8
FLINK_RIG_JOB_CLASS=io.flinkops.rig.CounterJob

flink_deps() {
	echo curl jq openjdk-17-jdk-headless maven
}

# A checksum of everything the Maven build reads; the cache is reused while
# it matches.
flink_sources_sum() {
	(
		cd "$FLINK_RIG_SRC" || exit 1
		find pom.xml log4j2.properties src -type f | LC_ALL=C sort | xargs sha256sum
	) | sha256sum | cut -d' ' -f1
}

flink_build() {
	local sum work new
	sum=$(flink_sources_sum)
	if [ -f "$FLINK_RIG_HOME/sources.sha256" ] && [ "$(cat "$FLINK_RIG_HOME/sources.sha256")" = "$sum" ] &&
		[ -f "$FLINK_RIG_HOME/cluster/flinkops-rig-flink.jar" ] && [ -f "$FLINK_RIG_HOME/counter-job.jar" ] &&
		[ -d "$FLINK_RIG_HOME/lib-kubernetes" ] && [ -d "$FLINK_RIG_HOME/lib-container" ]; then
		rig_log "flink: cached in $FLINK_RIG_HOME"
		return 0
	fi
	rig_log "flink: building Flink $FLINK_RIG_VERSION cluster and job with Maven (log: $RIG_HOME/logs/flink-build.log)"
	# Build outside the work tree so that no target/ appears in it.
	work="$RIG_CACHE/flink-build.$$"
	rm -rf "$work"
	mkdir -p "$work"
	cp -r "$FLINK_RIG_SRC/pom.xml" "$FLINK_RIG_SRC/log4j2.properties" "$FLINK_RIG_SRC/src" "$work/"
	if ! (cd "$work" && mvn -B -q -DskipTests package) >"$RIG_HOME/logs/flink-build.log" 2>&1; then
		tail -30 "$RIG_HOME/logs/flink-build.log" >&2
		rm -rf "$work"
		rig_die "flink: Maven build failed (log: $RIG_HOME/logs/flink-build.log)"
	fi
	new="$FLINK_RIG_HOME.new.$$"
	rm -rf "$new"
	mkdir -p "$new/cluster"
	cp "$work/target/flinkops-rig-flink.jar" "$work/log4j2.properties" "$new/cluster/"
	cp -r "$work/target/lib" "$new/cluster/lib"
	cp -r "$work/target/lib-kubernetes" "$new/lib-kubernetes"
	cp -r "$work/target/lib-container" "$new/lib-container"
	cp "$work/target/counter-job.jar" "$new/"
	echo "$sum" >"$new/sources.sha256"
	rm -rf "$FLINK_RIG_HOME" "$work"
	mv "$new" "$FLINK_RIG_HOME"
}

flink_up() {
	local port=$RIG_PORT_FLINK_REST pid i
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		rig_die "flink: 127.0.0.1:$port is already in use"
	fi
	# Uploaded jars, blobs and temporary files start empty; savepoints and
	# checkpoints are kept, as durable storage would keep them.
	rm -rf "$FLINK_RIG_DATA/jars" "$FLINK_RIG_DATA/blobs" "$FLINK_RIG_DATA/tmp"
	mkdir -p "$FLINK_RIG_DATA"
	rig_start flink flink-cluster env FLINKOPS_RIG_FLINK_HOME="$FLINK_RIG_HOME" \
		"$FLINK_RIG_SRC/run-cluster" "$port" "$FLINK_RIG_SLOTS" "$FLINK_RIG_DATA"
	pid=$(cat "$RIG_HOME/pids/flink.flink-cluster.pid")
	# Ready when the REST API answers and every slot is registered.
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || rig_die "flink: cluster exited while starting (log: $RIG_HOME/logs/flink-cluster.log)"
		if curl -sf "http://127.0.0.1:$port/overview" 2>/dev/null |
			jq -en --argjson n "$FLINK_RIG_SLOTS" 'input | .["slots-total"] >= $n' >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	rig_die "flink: REST /overview not ready on 127.0.0.1:$port within 120s (log: $RIG_HOME/logs/flink-cluster.log)"
}

flink_env() {
	cat <<EOF
# Flink session cluster (Flink $FLINK_RIG_VERSION, $FLINK_RIG_SLOTS slots, REST API with jar upload/run).
export RIG_FLINK_URL='http://127.0.0.1:$RIG_PORT_FLINK_REST'
export RIG_FLINK_VERSION='$FLINK_RIG_VERSION'
export RIG_FLINK_SLOTS='$FLINK_RIG_SLOTS'
export RIG_FLINK_DATA_DIR='$FLINK_RIG_DATA'
export RIG_FLINK_SAVEPOINT_DIR='$FLINK_RIG_DATA/savepoints'
export RIG_FLINK_CHECKPOINT_DIR='$FLINK_RIG_DATA/checkpoints'
# More clusters: \$RIG_FLINK_RUN_CLUSTER PORT SLOTS DATA_DIR [flink.key=value ...] (foreground).
export RIG_FLINK_RUN_CLUSTER='$FLINK_RIG_SRC/run-cluster'
export FLINKOPS_RIG_FLINK_HOME='$FLINK_RIG_HOME'
# The stateful job: upload RIG_FLINK_JOB_JAR, run RIG_FLINK_JOB_CLASS with programArgsList
#   --counter-file PATH  the job keeps PATH holding the largest keyed count ("123\n", replaced
#                        atomically); after a restore it continues above the value at the stop
#   --fail-marker PATH   the job fails (and restarts) while PATH exists
#   --rate N (200/s)  --keys N (8)  --checkpoint-ms N (1000)  --restart-attempts N (unbounded)
# The same count is the gauge RIG_FLINK_COUNTER_METRIC of the vertex "counter-report -> ...":
#   GET /jobs/JOB/vertices/VERTEX/metrics?get=0.counter-report.maxCount
export RIG_FLINK_JOB_JAR='$FLINK_RIG_HOME/counter-job.jar'
export RIG_FLINK_JOB_CLASS='$FLINK_RIG_JOB_CLASS'
export RIG_FLINK_COUNTER_METRIC='0.counter-report.maxCount'
EOF
}

# ---- smoke test -------------------------------------------------------------
# Runs inside `if`, where set -e does not apply: every step checks itself.

_flink_fail() {
	printf 'rig: flink smoke: %s\n' "$*" >&2
	return 1
}

# _flink_req METHOD PATH [CURL_ARGS...]: print the response body; fail on
# transport errors and HTTP >= 400 with Flink's first error line.
_flink_req() {
	local method=$1 path=$2 out code
	shift 2
	out=$(curl -sS -X "$method" -w '\n%{http_code}' "$@" "$RIG_FLINK_URL$path") ||
		{ _flink_fail "$method $path: request failed"; return 1; }
	code=${out##*$'\n'}
	out=${out%$'\n'*}
	if [ "$code" -ge 400 ]; then
		_flink_fail "$method $path: HTTP $code: $(jq -r '.errors[-1]? // .' <<<"$out" 2>/dev/null | head -3 | head -c 600)"
		return 1
	fi
	printf '%s' "$out"
}

_flink_post_json() {
	_flink_req POST "$1" -H 'Content-Type: application/json' -d "$2"
}

_flink_state() {
	_flink_req GET "/jobs/$1" | jq -r '.state'
}

# _flink_wait SECONDS WHAT CMD...: wait until CMD succeeds.
_flink_wait() {
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 5; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	_flink_fail "timed out after ${secs}s waiting for $what"
}

_flink_state_is() {
	local s
	s=$(_flink_state "$1") || return 1
	case " ${*:2} " in *" $s "*) return 0 ;; esac
	return 1
}

_flink_counter() {
	local v
	v=$(cat "$1" 2>/dev/null) || return 1
	[[ $v =~ ^[0-9]+$ ]] || return 1
	echo "$v"
}

_flink_counter_above() {
	local v
	v=$(_flink_counter "$1") || return 1
	[ "$v" -gt "$2" ]
}

_flink_has_checkpoint() {
	local n
	n=$(_flink_req GET "/jobs/$1/checkpoints" | jq -r '.counts.completed') || return 1
	[ "$n" -ge 1 ]
}

# _flink_savepoint_wait JOB TRIGGER: poll the savepoint operation; print its location.
_flink_savepoint_wait() {
	local job=$1 trig=$2 i out status
	for ((i = 0; i < 300; i++)); do
		out=$(_flink_req GET "/jobs/$job/savepoints/$trig") || return 1
		status=$(jq -r '.status.id' <<<"$out")
		if [ "$status" = COMPLETED ]; then
			# A failed savepoint is COMPLETED too, with operation.failure-cause.
			if jq -e '.operation["failure-cause"]' <<<"$out" >/dev/null; then
				_flink_fail "savepoint $trig failed: $(jq -r '.operation["failure-cause"]["stack-trace"]' <<<"$out" | head -3)"
				return 1
			fi
			jq -r '.operation.location // empty' <<<"$out"
			return 0
		fi
		sleep 0.2
	done
	_flink_fail "savepoint $trig not COMPLETED within 60s (last: $out)"
}

_flink_run() {
	local jar=$1 body=$2 out
	out=$(_flink_post_json "/jars/$jar/run" "$body") || return 1
	jq -er '.jobid' <<<"$out" || _flink_fail "run: no jobid in $out"
}

_flink_smoke_steps() {
	local dir=$RIG_HOME/data/flink-smoke out jar job trig loc stoploc stopped first before args_json
	rm -rf "$dir" "$RIG_FLINK_SAVEPOINT_DIR/smoke" "$RIG_FLINK_SAVEPOINT_DIR/smoke-trigger"
	mkdir -p "$dir"
	local cfile=$dir/counter marker=$dir/fail

	out=$(_flink_req GET /overview) || return 1
	[ "$(jq -r '.["flink-version"]' <<<"$out")" = "$RIG_FLINK_VERSION" ] ||
		{ _flink_fail "cluster reports version $(jq -r '.["flink-version"]' <<<"$out"), expected $RIG_FLINK_VERSION"; return 1; }
	[ "$(jq -r '.["slots-available"]' <<<"$out")" -ge 2 ] || { _flink_fail "fewer than 2 free slots: $out"; return 1; }

	# Upload the job jar.
	out=$(_flink_req POST /jars/upload -H 'Expect:' -F "jarfile=@$RIG_FLINK_JOB_JAR;type=application/java-archive") || return 1
	[ "$(jq -r .status <<<"$out")" = success ] || { _flink_fail "upload: $out"; return 1; }
	jar=$(jq -r '.filename | split("/") | last' <<<"$out")
	FLINK_SMOKE_JAR=$jar
	_flink_req GET /jars | jq -en --arg id "$jar" 'input | .files[] | select(.id == $id)' >/dev/null ||
		{ _flink_fail "uploaded jar $jar not listed by GET /jars"; return 1; }
	rig_log "flink smoke: uploaded $jar"

	# Run with parallelism 2 and wait for RUNNING and a counter.
	args_json=$(jq -nc --arg c "$cfile" --arg m "$marker" '["--counter-file", $c, "--fail-marker", $m]')
	job=$(_flink_run "$jar" "$(jq -nc --arg cls "$RIG_FLINK_JOB_CLASS" --argjson a "$args_json" \
		'{entryClass: $cls, parallelism: 2, programArgsList: $a}')") || return 1
	FLINK_SMOKE_JOBS+=("$job")
	_flink_wait 60 "job $job RUNNING" _flink_state_is "$job" RUNNING || return 1
	# Count well past what a fresh start reaches in its first second, so that
	# a restore that lost the state cannot pass for one that kept it.
	_flink_wait 60 "counter file $cfile > 100" _flink_counter_above "$cfile" 100 || return 1
	rig_log "flink smoke: job $job RUNNING, counter $(_flink_counter "$cfile")"

	# A savepoint while running (this body spells "target-directory"; the
	# stop body below spells "targetDirectory").
	out=$(_flink_post_json "/jobs/$job/savepoints" \
		"$(jq -nc --arg d "$RIG_FLINK_SAVEPOINT_DIR/smoke-trigger" '{"target-directory": $d, "cancel-job": false}')") || return 1
	trig=$(jq -er '.["request-id"]' <<<"$out") || { _flink_fail "savepoint trigger: $out"; return 1; }
	loc=$(_flink_savepoint_wait "$job" "$trig") || return 1
	case "$loc" in
	"file:$RIG_FLINK_SAVEPOINT_DIR/smoke-trigger/"*) ;;
	*) _flink_fail "savepoint '$loc' is not under $RIG_FLINK_SAVEPOINT_DIR/smoke-trigger"; return 1 ;;
	esac
	[ -f "${loc#file:}/_metadata" ] || { _flink_fail "savepoint location '$loc' has no _metadata"; return 1; }
	rig_log "flink smoke: savepoint $loc"

	# Stop with a savepoint into a chosen folder.
	out=$(_flink_post_json "/jobs/$job/stop" "$(jq -nc --arg d "$RIG_FLINK_SAVEPOINT_DIR/smoke" '{targetDirectory: $d, drain: false}')") || return 1
	trig=$(jq -er '.["request-id"]' <<<"$out") || { _flink_fail "stop: $out"; return 1; }
	stoploc=$(_flink_savepoint_wait "$job" "$trig") || return 1
	case "$stoploc" in
	"file:$RIG_FLINK_SAVEPOINT_DIR/smoke/"*) ;;
	*) _flink_fail "stop savepoint '$stoploc' is not under $RIG_FLINK_SAVEPOINT_DIR/smoke"; return 1 ;;
	esac
	_flink_wait 30 "job $job FINISHED after stop" _flink_state_is "$job" FINISHED || return 1
	stopped=$(_flink_counter "$cfile") || { _flink_fail "no counter after stop"; return 1; }
	rig_log "flink smoke: stopped with savepoint $stoploc at counter $stopped"

	# Restore: the counter must continue above the value at the stop.
	rm -f "$cfile"
	job=$(_flink_run "$jar" "$(jq -nc --arg cls "$RIG_FLINK_JOB_CLASS" --argjson a "$args_json" --arg sp "$stoploc" \
		'{entryClass: $cls, parallelism: 2, programArgsList: $a, savepointPath: $sp}')") || return 1
	FLINK_SMOKE_JOBS+=("$job")
	_flink_wait 60 "restored job $job RUNNING" _flink_state_is "$job" RUNNING || return 1
	_flink_wait 60 "counter file after restore" _flink_counter "$cfile" || return 1
	first=$(_flink_counter "$cfile")
	[ "$first" -gt "$stopped" ] ||
		{ _flink_fail "counter restarted: first value after restore $first <= $stopped at the stop"; return 1; }
	out=$(_flink_req GET "/jobs/$job/checkpoints") || return 1
	[ "$(jq -r '.latest.restored.external_path // empty' <<<"$out")" = "$stoploc" ] ||
		{ _flink_fail "job $job does not report a restore from $stoploc: $(jq -c .latest.restored <<<"$out")"; return 1; }
	_flink_wait 30 "counter to grow after restore" _flink_counter_above "$cfile" "$first" || return 1
	rig_log "flink smoke: restored job $job continued: $stopped at stop, $first first after restore, now $(_flink_counter "$cfile")"

	# Fail on demand: the job restarts, the exception names the marker, and
	# after the marker is gone it recovers from its checkpoint and continues.
	_flink_wait 10 "a completed checkpoint of $job" _flink_has_checkpoint "$job" || return 1
	before=$(_flink_counter "$cfile")
	touch "$marker"
	_flink_wait 30 "job $job RESTARTING or FAILED with the marker" _flink_state_is "$job" RESTARTING FAILED || { rm -f "$marker"; return 1; }
	out=$(_flink_req GET "/jobs/$job/exceptions") || { rm -f "$marker"; return 1; }
	rm -f "$marker"
	jq -e '[.exceptionHistory.entries[].stacktrace] | any(contains("fail marker present"))' <<<"$out" >/dev/null ||
		{ _flink_fail "exceptions of $job do not show the fail marker: $(jq -c '.exceptionHistory.entries[0] // .' <<<"$out" | head -c 400)"; return 1; }
	_flink_wait 60 "job $job RUNNING again" _flink_state_is "$job" RUNNING || return 1
	_flink_wait 60 "counter above $before after recovery" _flink_counter_above "$cfile" "$before" || return 1
	rig_log "flink smoke: fail marker made $job restart; it recovered and counts on ($before -> $(_flink_counter "$cfile"))"

	# Cancel, delete the jar.
	_flink_req PATCH "/jobs/$job?mode=cancel" >/dev/null || return 1
	_flink_wait 30 "job $job CANCELED" _flink_state_is "$job" CANCELED || return 1
	_flink_req DELETE "/jars/$jar" >/dev/null || return 1
	FLINK_SMOKE_JAR=
	! _flink_req GET /jars | jq -e --arg id "$jar" '.files[] | select(.id == $id)' >/dev/null 2>&1 ||
		{ _flink_fail "jar $jar still listed after DELETE"; return 1; }
	rig_log "flink smoke: cancelled $job, deleted $jar"
}

flink_smoke() {
	local rc=0 j
	FLINK_SMOKE_JOBS=()
	FLINK_SMOKE_JAR=
	_flink_smoke_steps || rc=1
	# Leave nothing running behind, whatever happened.
	for j in "${FLINK_SMOKE_JOBS[@]}"; do
		if _flink_state_is "$j" RUNNING RESTARTING CREATED INITIALIZING 2>/dev/null; then
			_flink_req PATCH "/jobs/$j?mode=cancel" >/dev/null 2>&1 || true
		fi
	done
	[ -z "$FLINK_SMOKE_JAR" ] || _flink_req DELETE "/jars/$FLINK_SMOKE_JAR" >/dev/null 2>&1 || true
	rm -f "$RIG_HOME/data/flink-smoke/fail"
	return $rc
}
