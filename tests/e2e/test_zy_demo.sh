#!/usr/bin/env bash
# rig: k8s git flink s3
# `make demo` tells its story against the running rig and exits 0 with
# every step checked, then `demo down --keep-rig` removes what it made
# (its agent, namespace and repository) and leaves the rig to the other
# tests. Its own home, port and name, so a demo someone runs is untouched.
set -u
here=$(cd "$(dirname "$0")" && pwd)
home=$(mktemp -d)
export FLINKOPS_DEMO_HOME=$home/demo FLINKOPS_DEMO_PORT=18181 FLINKOPS_DEMO_NAME=e2e-demo-$$
trap '"$here/../../examples/demo/demo" down --keep-rig >/dev/null 2>&1; rm -rf "$home"' EXIT
fail=0
out=$("$here/../../examples/demo/demo" up "$FLINKOPS" 2>&1)
rc=$?
if [ $rc -eq 0 ]; then echo "ok   demo up exits 0"; else echo "FAIL demo up exited $rc"; echo "$out" | tail -30; fail=1; fi
for want in "RUNNING, counter at" "stopped with savepoint file:" "RUNNING with parallelism 2" \
	"restored from that savepoint" "the counter went on from its state" "status: counter Running at"; do
	if grep -q "ok: .*$want" <<<"$out"; then echo "ok   demo step: $want"; else echo "FAIL demo step missing: $want"; fail=1; fi
done
agent=$(cat "$FLINKOPS_DEMO_HOME/agent.pid" 2>/dev/null)
if [ -n "$agent" ] && kill -0 "$agent" 2>/dev/null && curl -sf "http://127.0.0.1:$FLINKOPS_DEMO_PORT/metrics" | grep -q '^flinkops_'; then
	echo "ok   the agent keeps running after the story, metrics served"
else
	echo "FAIL the agent is not running after the story"; fail=1
fi
"$here/../../examples/demo/demo" down --keep-rig >/dev/null 2>&1
if [ -n "$agent" ] && { kill -0 -- "-$agent" 2>/dev/null || curl -s -o /dev/null "http://127.0.0.1:$FLINKOPS_DEMO_PORT/healthz"; }; then
	echo "FAIL demo down left the agent running"; fail=1; else echo "ok   demo down stops the agent"; fi
K="$RIG_KUBECTL --kubeconfig $RIG_KUBECONFIG"
phase=$($K get namespace "$FLINKOPS_DEMO_NAME" -o jsonpath='{.status.phase}' 2>/dev/null)
case "$phase" in "" | Terminating) echo "ok   demo down removes its namespace" ;; *) echo "FAIL namespace $FLINKOPS_DEMO_NAME is $phase"; fail=1 ;; esac
exit $fail
