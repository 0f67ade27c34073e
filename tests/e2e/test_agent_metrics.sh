#!/usr/bin/env bash
# rig: k8s git flink s3 prom
# The agent's /metrics as a real Prometheus reads it: `flinkops agent` with
# a 5 s interval deploys the counter job, upgrades it with a savepoint
# (parallelism 1 -> 2), then meets a savepoint that fails. The rig's
# Prometheus scrapes the agent every second (a file_sd target of this
# test's own); through its HTTP API: the target is up (so the text parsed),
# every metric family the agent documents is there, the deployment's
# savepoint and upgrade durations were observed (the upgrade at least as
# long as its savepoint), the failure is counted by its reason, and every
# histogram's buckets are cumulative with +Inf equal to _count — checked
# in Prometheus and in the raw text.
NAME=metrics
. "$(dirname "$0")/lib-rollout.sh"
. "$(dirname "$0")/lib-agent.sh"
: "${RIG_PROM_URL:?}" "${RIG_PROM_TARGETS:?}"

secret=$(openssl rand -hex 24)
note_secret "webhook secret" "$secret"
printf '%s\n' "$secret" >"$tmp/secret"
sed -i "s|^repository: {|repository: {interval: 5s, |; s|^agent: {name: \(.*\)}|agent: {name: \1, listen: \"127.0.0.1:0\", webhookSecretFile: $tmp/secret}|" \
	"$tmp/config.yaml"
tag=e2e-metrics-$$
target=$RIG_PROM_TARGETS/$tag.json
trap 'stop_agent; rm -f "$target"; cleanup' EXIT

deployment 1 savepoint >"$tmp/work/jobs/counter.yaml"
publish "counter, parallelism 1" >/dev/null
if start_agent; then
	ok "the agent listens on 127.0.0.1:$port"
else
	fail "agent start: $(tail -5 "$log" 2>/dev/null)"
	exit 1
fi
# this test's target for the rig's Prometheus (written whole, then renamed)
printf '[{"targets": ["127.0.0.1:%s"], "labels": {"test": "%s"}}]\n' "$port" "$tag" >"$target.tmp"
mv "$target.tmp" "$target"

# wait_journal SECONDS JQ_CONDITION: until the journal satisfies it
wait_journal() {
	local i
	for ((i = 0; i < $1 * 2; i++)); do
		[ "$($K -n $ns get configmap flink-journal-counter -o jsonpath='{.data.journal\.json}' 2>/dev/null |
			jq -r "$2" 2>/dev/null)" = true ] && return 0
		sleep 0.5
	done
	return 1
}
# wait_metric SECONDS LINE_START MIN: until the agent's sample is at least MIN
wait_metric() {
	local i v
	for ((i = 0; i < $1 * 2; i++)); do
		v=$(metric "$2")
		[ -n "$v" ] && awk -v v="$v" -v m="$3" 'BEGIN { exit !(v + 0 >= m + 0) }' && return 0
		sleep 0.5
	done
	return 1
}

# --- the job starts, then a savepoint upgrade --------------------------------
if wait_journal 120 '.step == "idle" and (.jobId // "") != ""'; then
	job1=$(journal .jobId)
	echo "$job1" >>"$tmp/ours"
	ok "the agent started job $job1"
else
	fail "the job did not start: $(journal .step) $(grep -E 'error|failed' "$log" | tail -3)"
	exit 1
fi
deployment 2 savepoint >"$tmp/work/jobs/counter.yaml"
publish "parallelism 2" >/dev/null
t_push=$(ms)
if wait_journal 180 ".step == \"idle\" and (.jobId // \"\") != \"$job1\" and .savepointReason == \"upgrade\"" &&
	wait_metric 30 "flinkops_upgrade_duration_seconds_count{namespace=\"$ns\",name=\"counter\"}" 1; then
	t_done=$(ms) # the upgrade took less than this since the push (the agent's pass starts later)
	job2=$(journal .jobId)
	echo "$job2" >>"$tmp/ours"
	ok "parallelism 1 -> 2: stopped with a savepoint and resumed as $job2; the agent counted the upgrade"
else
	fail "the upgrade: step=$(journal .step) job=$(journal .jobId) $(grep -E 'rollout|error' "$log" | tail -4)"
fi

# --- a savepoint that fails: counted by its reason ---------------------------
deployment 3 savepoint "" "file:///proc/flinkops-cannot-write" >"$tmp/work/jobs/counter.yaml"
publish "unwritable savepoint folder" >/dev/null
t0=$(ms)
if wait_metric 90 'flinkops_upgrade_failures_total{reason="savepoint_failed"}' 1; then
	ok "a failing savepoint counted $(($(ms) - t0)) ms after the push: upgrade failures {reason=\"savepoint_failed\"} $(metric 'flinkops_upgrade_failures_total{reason="savepoint_failed"}')"
else
	fail "savepoint failure not counted: $(curl -s "$url/metrics" | grep upgrade_failures | tr '\n' ' ')"
fi
# a signed ping, so that the webhook family has a series
ping='{"zen":"Design for failure.","hook_id":1}'
sig=$(printf '%s' "$ping" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
curl -s -o /dev/null -X POST "$url/webhook" -H 'X-GitHub-Event: ping' -H "X-Hub-Signature-256: sha256=$sig" --data-binary "$ping"

# --- what Prometheus scraped ---------------------------------------------------
q() { # q PROMQL [TIME]: the query API's JSON
	curl -fsS "$RIG_PROM_URL/api/v1/query" --data-urlencode "query=$1" ${2:+--data-urlencode "time=$2"}
}
health=
for _ in $(seq 1 300); do
	health=$(curl -fsS "$RIG_PROM_URL/api/v1/targets?state=active" |
		jq -r --arg t "$tag" '.data.activeTargets[] | select(.labels.test == $t) | "\(.health) \(.lastError)"')
	[ "$health" = "up " ] && break
	sleep 0.1
done
[ "$health" = "up " ] && [ "$(q "up{test=\"$tag\"}" | jq -r '.data.result[0].value[1]')" = 1 ] &&
	ok "Prometheus: the agent's target is up, no scrape error, up == 1" ||
	fail "Prometheus target: '$health'"
# until Prometheus has a scrape that includes the failure and the ping
seen=
for _ in $(seq 1 300); do
	seen=$(q "flinkops_upgrade_failures_total{test=\"$tag\",reason=\"savepoint_failed\"} >= 1 and on() flinkops_webhook_requests_total{test=\"$tag\",provider=\"github\",code=\"200\"} >= 1" |
		jq -r '.data.result | length')
	[ "$seen" = 1 ] && break
	sleep 0.1
done
[ "$seen" = 1 ] || fail "Prometheus did not get a scrape with the failure and the ping"

names=$(curl -fsS -G "$RIG_PROM_URL/api/v1/label/__name__/values" --data-urlencode "match[]={test=\"$tag\"}" | jq -r '.data[]')
missing=
for f in flinkops_build_info flinkops_passes_total flinkops_pass_duration_seconds_bucket \
	flinkops_pass_duration_seconds_sum flinkops_pass_duration_seconds_count \
	flinkops_last_successful_pass_timestamp_seconds flinkops_consecutive_failed_passes \
	flinkops_git_fetch_duration_seconds_bucket flinkops_objects_applied_total flinkops_rollouts_in_progress \
	flinkops_savepoint_duration_seconds_bucket flinkops_savepoint_duration_seconds_count \
	flinkops_upgrade_duration_seconds_bucket flinkops_upgrade_duration_seconds_count \
	flinkops_upgrade_failures_total flinkops_webhook_requests_total flinkops_bluegreen_switches_total \
	flinkops_bluegreen_switch_duration_seconds_bucket flinkops_bluegreen_switch_duration_seconds_count; do
	grep -qx "$f" <<<"$names" || missing="$missing $f"
done
[ -z "$missing" ] && ok "Prometheus has every family: $(grep -c '^flinkops_' <<<"$names") flinkops series names" ||
	fail "families missing in Prometheus:$missing"

version=$(q "flinkops_build_info{test=\"$tag\"}" | jq -r '.data.result[0].metric.version')
[ "$version" = "$("$FLINKOPS" --version | awk '{print $2; exit}')" ] &&
	ok "flinkops_build_info{version=\"$version\"} matches flinkops --version" ||
	fail "build info version '$version', flinkops --version says '$("$FLINKOPS" --version | head -1)'"

# one instant for every query, so that all of them read the same scrape
at=$(q "time()" | jq -r '.data.result[1]')
sel="test=\"$tag\",namespace=\"$ns\",name=\"counter\""
spn=$(q "flinkops_savepoint_duration_seconds_count{$sel}" "$at" | jq -r '.data.result[0].value[1] // 0')
sps=$(q "flinkops_savepoint_duration_seconds_sum{$sel}" "$at" | jq -r '.data.result[0].value[1] // 0')
upn=$(q "flinkops_upgrade_duration_seconds_count{$sel}" "$at" | jq -r '.data.result[0].value[1] // 0')
ups=$(q "flinkops_upgrade_duration_seconds_sum{$sel}" "$at" | jq -r '.data.result[0].value[1] // 0')
if [ "$spn" = 1 ] && [ "$upn" = 1 ] && awk -v s="$sps" -v u="$ups" -v w="$(((t_done - t_push) / 1000 + 1))" \
	'BEGIN { exit !(u >= s && s > 0 && u < w) }'; then
	ok "Prometheus: $ns/counter had $spn savepoint ($sps s) and $upn upgrade ($ups s: not shorter than its savepoint, shorter than the $((t_done - t_push)) ms the test saw from push to RUNNING)"
else
	fail "durations in Prometheus: savepoints $spn ($sps s), upgrades $upn ($ups s)"
fi

# hist_ok NAME: in Prometheus, every series of the histogram NAME has
# cumulative buckets whose +Inf is its _count (prints how many series)
hist_ok() {
	local b c
	b=$(q "$1_bucket{test=\"$tag\"}" "$at")
	c=$(q "$1_count{test=\"$tag\"}" "$at")
	jq -rn --argjson b "$b" --argjson c "$c" '
		[$b.data.result | group_by(.metric | del(.le)) | .[]
		 | (sort_by(.metric.le | if . == "+Inf" then infinite else tonumber end) | map(.value[1] | tonumber)) as $v
		 | (.[0].metric | del(.le, .__name__)) as $key
		 | ([$c.data.result[] | select((.metric | del(.__name__)) == $key) | .value[1] | tonumber][0]) as $count
		 | (.[-1].metric.le == "+Inf") and ([range(1; $v | length) as $i | $v[$i] >= $v[$i - 1]] | all) and ($v[-1] == $count)]
		| if length > 0 and all then length else "bad" end'
}
bad=
for h in flinkops_pass_duration_seconds flinkops_git_fetch_duration_seconds flinkops_savepoint_duration_seconds \
	flinkops_upgrade_duration_seconds; do
	r=$(hist_ok $h)
	[[ "$r" =~ ^[0-9]+$ ]] || bad="$bad $h"
done
[ -z "$bad" ] && ok "Prometheus: the buckets of every histogram series are cumulative and +Inf equals _count" ||
	fail "histograms in Prometheus:$bad"

# --- the raw text ----------------------------------------------------------------
curl -s "$url/metrics" >"$tmp/metrics"
raw=$(awk '
	/^# HELP / { if (help[$3]++) { print "HELP twice: " $3; bad = 1 } next }
	/^# TYPE / { if (type[$3]++) { print "TYPE twice: " $3; bad = 1 } next }
	/_bucket\{/ {
		lab = $1; sub(/^[^{]*\{/, "", lab); sub(/\}$/, "", lab)
		le = lab; sub(/.*le="/, "", le); sub(/".*/, "", le)
		sub(/,?le="[^"]*"/, "", lab)
		name = $1; sub(/_bucket\{.*/, "", name)
		key = name "{" lab "}"
		if ((key in prev) && $NF + 0 < prev[key]) { print "not cumulative: " key; bad = 1 }
		prev[key] = $NF + 0
		if (le == "+Inf") inf[key] = $NF + 0
		next
	}
	/^[a-z_]+_count[{ ]/ {
		key = $1; sub(/_count/, "", key)
		if (key !~ /\{/) key = key "{}"
		count[key] = $NF + 0
	}
	END {
		n = 0
		for (k in prev) {
			n++
			if (!(k in inf) || !(k in count) || inf[k] != count[k]) { print "+Inf != _count: " k; bad = 1 }
		}
		if (!bad) print n " histogram series"
	}' "$tmp/metrics")
if [[ "$raw" =~ ^[0-9]+\ histogram\ series$ ]] && [ "${raw%% *}" -ge 4 ]; then
	ok "raw /metrics: HELP and TYPE once per family; $raw, each cumulative with +Inf = _count"
else
	fail "raw /metrics: $raw"
fi
if grep -qF "$secret" "$log" "$tmp/metrics"; then
	fail "the webhook secret appears in the log or the metrics"
fi
term_agent && ok "SIGTERM: the agent exited 0" || fail "SIGTERM: exit $rc $(tail -3 "$log")"
