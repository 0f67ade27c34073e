#!/usr/bin/env bash
# rig: flink s3
# The Flink REST client and jar delivery against the rig's real Flink
# session cluster and real S3 server, driven through the hidden verb
# `flinkops flink`: the job jar fetched from S3 (and from the cache the second
# time, and refused with a wrong secret), uploaded, run with a chosen job id,
# a savepoint taken, a savepoint into an unwritable folder failing with
# Flink's cause, stop with a savepoint, a run from that savepoint whose
# stateful counter continues, a bad entry class, a job failing at runtime,
# cancel and jar delete. Timings go to "# timing" lines.
set -u
: "${FLINKOPS:?}" "${RIG_FLINK_URL:?}" "${RIG_FLINK_JOB_CLASS:?}" "${RIG_S3_ENDPOINT:?}" "${RIG_S3_SECRET_KEY_FILE:?}"
tmp=$(mktemp -d)
jobs_started=()
jar=
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; }
fl() { "$FLINKOPS" flink "$@" --url "$RIG_FLINK_URL"; }
cleanup() {
	local j
	for j in "${jobs_started[@]}"; do fl cancel "$j" >/dev/null 2>&1; done
	[ -z "$jar" ] || fl delete-jar "$jar" >/dev/null 2>&1
	# the object this test put on S3 (credentials on stdin, as the rig does)
	printf 'user = "%s:%s"\n' "$RIG_S3_ACCESS_KEY" "$(cat "$RIG_S3_SECRET_KEY_FILE")" |
		curl -K - -sS -o /dev/null --aws-sigv4 "aws:amz:$RIG_S3_REGION:s3" -X DELETE \
			-H "x-amz-content-sha256: $(printf '' | sha256sum | cut -d' ' -f1)" \
			"$RIG_S3_ENDPOINT/$RIG_S3_BUCKET/e2e-rest/$$/job.jar" 2>/dev/null
	rm -rf "$tmp" "$RIG_FLINK_SAVEPOINT_DIR/e2e-rest-$$"
}
trap cleanup EXIT
val() { sed -n "s/^$1 //p" "$2"; } # val KEY FILE: the value of a "key value" line
counter() { local v; v=$(cat "$1" 2>/dev/null) && [[ $v =~ ^[0-9]+$ ]] && echo "$v"; }
wait_counter_above() { # wait_counter_above FILE N SECONDS
	local i v
	for ((i = 0; i < $3 * 10; i++)); do
		v=$(counter "$1") && [ "$v" -gt "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
spdir=$RIG_FLINK_SAVEPOINT_DIR/e2e-rest-$$
secret=$(cat "$RIG_S3_SECRET_KEY_FILE")
s3uri=s3://$RIG_S3_BUCKET/$RIG_S3_TEST_KEY

# --- 1. jar from S3: credentials from the environment, then the cache ------
s3env() { AWS_ACCESS_KEY_ID=$RIG_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$1 AWS_REGION=$RIG_S3_REGION \
	AWS_ENDPOINT_URL_S3=$RIG_S3_ENDPOINT "${@:2}"; }
s3env "$secret" "$FLINKOPS" flink fetch-jar "$s3uri" --cache "$tmp/cache" >"$tmp/fetch1" 2>"$tmp/err"
rc=$?
local_jar=$(val path "$tmp/fetch1")
if [ $rc = 0 ] && [ "$(val cached "$tmp/fetch1")" = no ] && cmp -s "$local_jar" "$RIG_S3_TEST_FILE" &&
	[ "$(basename "$local_jar")" = "$(basename "$RIG_S3_TEST_KEY")" ]; then
	ok "fetch $s3uri from S3 with SigV4: the same bytes, under the jar's own name"
else
	fail "fetch from S3: rc=$rc $(cat "$tmp/err") $(cat "$tmp/fetch1")"
fi
s3env "$secret" "$FLINKOPS" flink fetch-jar "$s3uri" --cache "$tmp/cache" >"$tmp/fetch2" 2>"$tmp/err"
if [ $? = 0 ] && [ "$(val cached "$tmp/fetch2")" = yes ] && [ "$(val path "$tmp/fetch2")" = "$local_jar" ]; then
	ok "second fetch answered from the cache (conditional GET, 304)"
else
	fail "second fetch: $(cat "$tmp/err") $(cat "$tmp/fetch2")"
fi
# key files instead of the environment, and a changed object gets a new version
echo "$RIG_S3_ACCESS_KEY" >"$tmp/access"
cp "$RIG_S3_TEST_FILE" "$tmp/changed.jar" && printf 'x' >>"$tmp/changed.jar"
"$RIG_S3_PUT" "$RIG_S3_BUCKET" "e2e-rest/$$/job.jar" "$RIG_S3_TEST_FILE" >/dev/null
kf=(--s3-endpoint "$RIG_S3_ENDPOINT" --s3-region "$RIG_S3_REGION" --s3-access-key-file "$tmp/access"
	--s3-secret-key-file "$RIG_S3_SECRET_KEY_FILE" --cache "$tmp/cache")
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$FLINKOPS" flink fetch-jar "s3://$RIG_S3_BUCKET/e2e-rest/$$/job.jar" "${kf[@]}" >"$tmp/v1" 2>"$tmp/err"
"$RIG_S3_PUT" "$RIG_S3_BUCKET" "e2e-rest/$$/job.jar" "$tmp/changed.jar" >/dev/null
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$FLINKOPS" flink fetch-jar "s3://$RIG_S3_BUCKET/e2e-rest/$$/job.jar" "${kf[@]}" >"$tmp/v2" 2>>"$tmp/err"
if [ "$(val cached "$tmp/v1")" = no ] && [ "$(val cached "$tmp/v2")" = no ] &&
	[ "$(val path "$tmp/v1")" != "$(val path "$tmp/v2")" ] && cmp -s "$(val path "$tmp/v2")" "$tmp/changed.jar" &&
	cmp -s "$(val path "$tmp/v1")" "$RIG_S3_TEST_FILE"; then
	ok "credentials from key files; a changed object (new ETag) is downloaded again beside the old version"
else
	fail "versions: $(cat "$tmp/err") v1: $(cat "$tmp/v1") v2: $(cat "$tmp/v2")"
fi
if [ -z "$(find "$tmp/cache" -name '.download-*')" ]; then
	ok "no temporary files left in the cache"
else
	fail "temporary files left: $(find "$tmp/cache" -name '.download-*')"
fi

# --- 2. a wrong secret: 403 naming bucket and key, never the secret --------
s3env "wrong-$secret" "$FLINKOPS" flink fetch-jar "$s3uri" --cache "$tmp/cache2" >/dev/null 2>"$tmp/err"
rc=$?
msg=$(cat "$tmp/err")
if [ $rc = 1 ] && [[ $msg == *"HTTP 403"* ]] && [[ $msg == *"$s3uri"* ]] && [[ $msg == *SignatureDoesNotMatch* ]] &&
	[[ $msg != *"$secret"* ]]; then
	ok "wrong secret: exit 1, \"${msg:0:110}...\" (no secret in it)"
else
	fail "wrong secret: rc=$rc $msg"
fi
s3env "$secret" "$FLINKOPS" flink fetch-jar "s3://$RIG_S3_BUCKET/no/such.jar" --cache "$tmp/cache" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q 'NoSuchKey' "$tmp/err" && ok "a missing key: $(cat "$tmp/err")" ||
	fail "missing key: $(cat "$tmp/err")"
"$FLINKOPS" flink fetch-jar local:///opt/flink/usrlib/job.jar --cache "$tmp/cache" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q 'application mode' "$tmp/err" && ok "local:// is not fetched" || fail "local://: $(cat "$tmp/err")"

# --- 3. cluster, upload, run with a chosen job id -------------------------
fl overview >"$tmp/ov.json" 2>"$tmp/err"
if [ "$(jq -r .slotsAvailable "$tmp/ov.json")" -ge 2 ] && [ "$(jq -r .flinkVersion "$tmp/ov.json")" = "$RIG_FLINK_VERSION" ]; then
	ok "overview: $(jq -c . "$tmp/ov.json")"
else
	fail "overview: $(cat "$tmp/err") $(cat "$tmp/ov.json")"
fi
fl upload "$local_jar" >"$tmp/up" 2>"$tmp/err"
jar=$(val jar "$tmp/up")
[[ $jar == *_counter-job.jar ]] && ok "upload: jar $jar in $(val elapsed-ms "$tmp/up") ms" ||
	fail "upload: $(cat "$tmp/err") $(cat "$tmp/up")"

cfile=$tmp/counter
job1=$(printf '%08x%024x' $$ "$(date +%s)")
runargs=(--class "$RIG_FLINK_JOB_CLASS" --parallelism 2 --arg --counter-file --arg "$cfile")
t0=$(date +%s%N)
fl run "$jar" "${runargs[@]}" --job-id "$job1" >"$tmp/run" 2>"$tmp/err"
[ "$(val job "$tmp/run")" = "$job1" ] && jobs_started+=("$job1") && ok "run with the chosen job id $job1" ||
	fail "run: $(cat "$tmp/err") $(cat "$tmp/run")"
fl wait "$job1" --state RUNNING --timeout 60s >"$tmp/wait" 2>"$tmp/err"
t1=$(date +%s%N)
[ "$(val state "$tmp/wait")" = RUNNING ] && ok "job RUNNING" || fail "wait RUNNING: $(cat "$tmp/err")"
echo "# timing: run request $(val elapsed-ms "$tmp/run") ms, submit to RUNNING $(((t1 - t0) / 1000000)) ms"
wait_counter_above "$cfile" 100 60 && ok "the counter runs ($(counter "$cfile"))" || fail "no counter above 100 in $cfile"
t2=$(date +%s%N)
echo "# timing: RUNNING to counter above 100: $(((t2 - t1) / 1000000)) ms"
fl job "$job1" >"$tmp/job.json" 2>"$tmp/err"
[ "$(jq -r .state "$tmp/job.json")" = RUNNING ] && [ "$(jq -r .name "$tmp/job.json")" = flinkops-rig-counter ] &&
	ok "job: $(jq -c '{id,name,state}' "$tmp/job.json")" || fail "job: $(cat "$tmp/err")"

fl run "$jar" "${runargs[@]}" --job-id "$job1" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q 'already been submitted' "$tmp/err" && ok "the same job id again is refused: $(cut -c1-160 "$tmp/err")..." ||
	fail "duplicate job id: $(cat "$tmp/err")"

# --- 4. a savepoint while running, and one that fails ---------------------
fl savepoint "$job1" --dir "$spdir/trigger" --timeout 2m >"$tmp/sp" 2>"$tmp/err"
loc=$(val location "$tmp/sp")
if [[ $loc == "file:$spdir/trigger/"* ]] && [ -f "${loc#file:}/_metadata" ]; then
	ok "savepoint COMPLETED at $loc"
else
	fail "savepoint: $(cat "$tmp/err") $(cat "$tmp/sp")"
fi
echo "# timing: savepoint trigger to COMPLETED $(val elapsed-ms "$tmp/sp") ms"
echo "not a folder" >"$tmp/file"
fl savepoint "$job1" --dir "$tmp/file/sub" --timeout 1m >"$tmp/sp2" 2>"$tmp/err"
rc=$?
msg=$(cat "$tmp/err")
if [ $rc = 1 ] && [[ $msg == *"savepoint failed"* ]] && [[ $msg == *"Failed to create savepoint directory at $tmp/file/sub"* ]]; then
	ok "a savepoint into an unwritable folder fails with Flink's cause: ${msg:0:400}"
else
	fail "failing savepoint: rc=$rc $msg"
fi
fl wait "$job1" --state RUNNING --timeout 10s >/dev/null 2>"$tmp/err" && ok "the job still RUNNING after the failed savepoint" ||
	fail "after failed savepoint: $(cat "$tmp/err")"
fl checkpoints "$job1" >"$tmp/cp.json" 2>"$tmp/err"
if [ "$(jq -r .completed "$tmp/cp.json")" -ge 1 ] && [ "$(jq -r .latestSavepointPath "$tmp/cp.json")" = "$loc" ]; then
	ok "checkpoints: $(jq -c '{completed, latestPath, latestSavepointPath}' "$tmp/cp.json")"
else
	fail "checkpoints: $(cat "$tmp/err") $(cat "$tmp/cp.json")"
fi

# --- 5. stop with a savepoint, run from it: the counter continues ---------
fl stop "$job1" --dir "$spdir/stop" --timeout 2m >"$tmp/stop" 2>"$tmp/err"
stoploc=$(val location "$tmp/stop")
[[ $stoploc == "file:$spdir/stop/"* ]] && ok "stop with a savepoint at $stoploc" || fail "stop: $(cat "$tmp/err") $(cat "$tmp/stop")"
echo "# timing: stop to savepoint COMPLETED $(val elapsed-ms "$tmp/stop") ms"
fl wait "$job1" --state FINISHED --timeout 30s >"$tmp/wait" 2>"$tmp/err" && ok "stopped job FINISHED ($(val elapsed-ms "$tmp/wait") ms after the savepoint)" ||
	fail "FINISHED: $(cat "$tmp/err")"
stopped=$(counter "$cfile")
rm -f "$cfile"
t0=$(date +%s%N)
fl run "$jar" "${runargs[@]}" --savepoint "$stoploc" >"$tmp/run2" 2>"$tmp/err"
job2=$(val job "$tmp/run2")
[ -n "$job2" ] && jobs_started+=("$job2")
fl wait "$job2" --state RUNNING --timeout 60s >/dev/null 2>"$tmp/err" || fail "restored job: $(cat "$tmp/err")"
t1=$(date +%s%N)
echo "# timing: run from savepoint to RUNNING $(((t1 - t0) / 1000000)) ms"
wait_counter_above "$cfile" 0 60
first=$(counter "$cfile")
t2=$(date +%s%N)
echo "# timing: run from savepoint to first counter write $(((t2 - t0) / 1000000)) ms"
if [ -n "$first" ] && [ -n "$stopped" ] && [ "$first" -gt "$stopped" ]; then
	ok "the counter continues from the savepoint: $stopped at the stop, $first first after the restore"
else
	fail "counter after restore: stopped=$stopped first=$first"
fi
fl checkpoints "$job2" >"$tmp/cp2.json" 2>"$tmp/err"
[ "$(jq -r .restoredPath "$tmp/cp2.json")" = "$stoploc" ] && ok "the new job reports its restore from $stoploc" ||
	fail "restoredPath: $(cat "$tmp/err") $(cat "$tmp/cp2.json")"
fl exceptions "$job2" >"$tmp/exc.json" 2>"$tmp/err"
[ "$(jq -r .rootCause "$tmp/exc.json")" = null ] && ok "a healthy job has no root cause" || fail "exceptions: $(cat "$tmp/err") $(cat "$tmp/exc.json")"

# --- 6. faults: bad entry class, bad savepoint path, a job failing at runtime
fl run "$jar" --class no.such.Main >/dev/null 2>"$tmp/err"
msg=$(cat "$tmp/err")
if [[ $msg == "flinkops flink: run jar $jar on $RIG_FLINK_URL: "*ProgramInvocationException*"'no.such.Main' was not found"*"(POST /jars/$jar/run, HTTP 500)" ]]; then
	ok "bad entry class: $msg"
else
	fail "bad entry class: $msg"
fi
fl run "$jar" --class "$RIG_FLINK_JOB_CLASS" --savepoint "$tmp/no-such-savepoint" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "Cannot find checkpoint or savepoint file/directory '$tmp/no-such-savepoint'" "$tmp/err" &&
	ok "missing savepoint: $(cat "$tmp/err")" || fail "missing savepoint: $(cat "$tmp/err")"
touch "$tmp/marker"
fl run "$jar" "${runargs[@]}" --arg --fail-marker --arg "$tmp/marker" --arg --restart-attempts --arg 0 >"$tmp/run3" 2>"$tmp/err"
job3=$(val job "$tmp/run3")
[ -n "$job3" ] && jobs_started+=("$job3")
fl wait "$job3" --state FINISHED,CANCELED --timeout 60s >/dev/null 2>"$tmp/err"
rc=$?
msg=$(cat "$tmp/err")
if [ $rc = 1 ] && [[ $msg == *"is FAILED: "*"fail marker present"* ]]; then
	ok "a job failing at runtime: wait reports FAILED with the cause: $msg"
else
	fail "failing job: rc=$rc $msg"
fi

# --- 7. cancel, delete the jar, unknown job -------------------------------
fl job "$job2" >/dev/null 2>&1 # GET /jobs/:id now caches the job for web.refresh-interval
fl cancel "$job2" >/dev/null 2>"$tmp/err" && fl wait "$job2" --state CANCELED --timeout 30s >"$tmp/wait" 2>>"$tmp/err" &&
	ok "cancel: CANCELED after $(val elapsed-ms "$tmp/wait") ms" || fail "cancel: $(cat "$tmp/err")"
fl state "$job2" >"$tmp/state" 2>"$tmp/err"
[ "$(val state "$tmp/state")" = CANCELED ] && ok "state reads the uncached state: CANCELED ($(fl job "$job2" 2>/dev/null | jq -r .state) from GET /jobs/:id)" ||
	fail "state: $(cat "$tmp/err") $(cat "$tmp/state")"
fl delete-jar "$jar" >/dev/null 2>"$tmp/err" && ok "jar deleted" || fail "delete jar: $(cat "$tmp/err")"
fl delete-jar "$jar" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q 'does not exist' "$tmp/err" && ok "deleting it again: $(cut -c1-160 "$tmp/err")" ||
	fail "delete again: $(cat "$tmp/err")"
jar=
fl job 0123456789abcdef0123456789abcdef >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q 'HTTP 404' "$tmp/err" && ok "unknown job: 404 in the message" || fail "unknown job: $(cat "$tmp/err")"
"$FLINKOPS" flink overview --url http://127.0.0.1:1 >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q 'get overview on http://127.0.0.1:1' "$tmp/err" && ok "no cluster: $(cat "$tmp/err")" ||
	fail "no cluster: $(cat "$tmp/err")"

# --- 8. bounds: a jar over the size limit, an answer over the body limit, a silent server
s3env "$secret" "$FLINKOPS" flink fetch-jar "$s3uri" --cache "$tmp/cache3" --max-size 1000 >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q 'larger than the limit of 1000 bytes' "$tmp/err" && [ -z "$(find "$tmp/cache3" -type f)" ] &&
	ok "a jar over --max-size is refused and nothing stays in the cache: $(cat "$tmp/err")" ||
	fail "size limit: $(cat "$tmp/err") $(find "$tmp/cache3" -type f)"
fl jobs --max-body 100 >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q 'larger than 100 bytes' "$tmp/err" && ok "an answer over the body limit: $(cat "$tmp/err")" ||
	fail "body limit: $(cat "$tmp/err")"
if command -v python3 >/dev/null; then
	# A listener that accepts connections and never answers: a fault Flink cannot be made to show on demand.
	python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(8)
print(s.getsockname()[1], flush=True)
conns=[]
end=time.time()+30
while time.time()<end:
    s.settimeout(end-time.time())
    try: conns.append(s.accept()[0])
    except Exception: break' >"$tmp/port" &
	silent=$!
	for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
	t0=$(date +%s%N)
	"$FLINKOPS" flink overview --url "http://127.0.0.1:$(cat "$tmp/port")" --call-timeout 1s >/dev/null 2>"$tmp/err"
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	kill $silent 2>/dev/null
	wait $silent 2>/dev/null
	[ $rc = 1 ] && grep -q 'no answer within 1000 ms' "$tmp/err" && [ $ms -lt 5000 ] &&
		ok "a server that never answers: the call gives up after the timeout ($ms ms): $(cat "$tmp/err")" ||
		fail "silent server: rc=$rc ${ms}ms $(cat "$tmp/err")"
fi
