#!/usr/bin/env bash
# rig: k8s git flink s3
# lane: alone
# A pass that loses the API server half way must not report what it did not
# do: three deployments change in one commit; the pass is held just after
# the first one's objects are applied (FLINKOPS_PAUSE_AFTER=applied, one
# deployment at a time: kubernetes.concurrency 1), the
# API server is frozen (SIGSTOP: it accepts connections and never answers,
# as a partitioned or overloaded server does), and the pass ends. The other
# two are then not Running at that commit, and `flinkops wait` for the
# commit does not exit 0. The server is thawed afterwards and a new pass
# completes all three.
NAME=abort
. "$(dirname "$0")/lib-rollout.sh"
sed -i 's|^kubernetes: {kubeconfig: \(.*\)}$|kubernetes: {kubeconfig: \1, timeout: 3s, concurrency: 1}|' "$tmp/config.yaml"
apiserver_pid=$(cat "${FLINKOPS_RIG_HOME:-/tmp/flinkops-rig}/pids/k8s.kube-apiserver.pid" 2>/dev/null)
thaw() { [ -n "$apiserver_pid" ] && kill -CONT "$apiserver_pid" 2>/dev/null; }
trap 'thaw; cleanup' EXIT

session a2 1 >"$tmp/work/jobs/a2.yaml"
session a3 1 >"$tmp/work/jobs/a3.yaml"
publish "two deployments" >/dev/null
sync_once
[ $rc = 0 ] && ok "two deployments applied" || fail "setup: rc=$rc $(head -3 "$tmp/err")"

# one commit changes three: a1 is new (a job: its pass records each step, so
# it can be held right after its objects are applied), a2 and a3 get more
# TaskManagers; the pass takes them in file order, one at a time
deployment 2 savepoint | sed 's/name: counter,/name: a1-counter,/' >"$tmp/work/jobs/a1.yaml"
session a2 2 >"$tmp/work/jobs/a2.yaml"
session a3 2 >"$tmp/work/jobs/a3.yaml"
commit=$(publish "change all three")
FLINKOPS_PAUSE_AFTER=applied "$FLINKOPS" sync --config "$tmp/config.yaml" --once --timeout 60s -o json \
	>"$tmp/out.json" 2>"$tmp/err" &
pid=$!
# a1's new objects are applied (its TaskManagers at 2): freeze the API server
frozen=no
for _ in $(seq 1 200); do
	if [ "$($K -n $ns get sts a1-counter-taskmanager -o jsonpath='{.spec.replicas}' 2>/dev/null)" = 2 ]; then
		kill -STOP "$apiserver_pid" && frozen=yes
		break
	fi
	sleep 0.1
done
wait $pid
rc=$?
thaw
for _ in $(seq 1 50); do $K get --raw /readyz >/dev/null 2>&1 && break; sleep 0.2; done
a2=$($K -n $ns get sts a2-taskmanager -o jsonpath='{.spec.replicas}')
a3=$($K -n $ns get sts a3-taskmanager -o jsonpath='{.spec.replicas}')
st() { "$FLINKOPS" status --repo "$repo" --cache "$tmp/scache" -o json 2>/dev/null |
	jq -r --arg n "$1" --arg f "$2" '.deployments[] | select(.name==$n) | .[$f] // ""'; }
if [ $frozen = yes ] && [ $rc = 1 ] && [ "$a2" = 1 ] && [ "$a3" = 1 ] && [ "$(st a2 observedCommit)" != "$commit" ] &&
	[ "$(st a3 observedCommit)" != "$commit" ] && [ "$(st a1-counter observedCommit)" != "$commit" ] &&
	grep -q 'not attempted' <<<"$(st a2 message)"; then
	ok "API server frozen after a1 was applied: exit 1; a2 and a3 untouched, not attempted, and no deployment shows ${commit:0:7} as observed"
else
	fail "aborted pass: frozen=$frozen rc=$rc a2=$a2 a3=$a3 a2:$(st a2 phase)/$(st a2 observedCommit) a3:$(st a3 phase)/$(st a3 observedCommit) a1:$(st a1-counter phase)/$(st a1-counter observedCommit) $(tail -3 "$tmp/err")"
fi
"$FLINKOPS" wait --repo "$repo" --commit "$commit" --timeout 5s --interval 1s >"$tmp/wait" 2>&1
wrc=$?
[ $wrc != 0 ] && ok "flinkops wait --commit ${commit:0:7} does not exit 0 (exit $wrc)" || fail "wait exited 0: $(cat "$tmp/wait")"

sync_once
new=$($K -n $ns get configmap flink-journal-a1-counter -o jsonpath='{.data.journal\.json}' | jq -r .jobId)
echo "$new" >>"$tmp/ours"
if [ $rc = 0 ] && [ "$(st a2 observedCommit)" = "$commit" ] && [ "$(st a3 observedCommit)" = "$commit" ] &&
	[ "$(st a1-counter observedCommit)" = "$commit" ] && [ "$(job_state "$new")" = RUNNING ] &&
	"$FLINKOPS" wait --repo "$repo" --commit "$commit" --timeout 5s --interval 1s >/dev/null 2>&1; then
	ok "with the API server back, the next pass completes all three; wait exits 0"
else
	fail "after the thaw: rc=$rc a1=$(st a1-counter phase) a2=$(st a2 phase) a3=$(st a3 phase) $(head -3 "$tmp/err")"
fi
