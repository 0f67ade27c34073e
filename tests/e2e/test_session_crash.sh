#!/usr/bin/env bash
# rig: k8s git flink s3
# test_rollout_crash.sh for a FlinkSessionJob: the agent SIGKILLed at every
# crash point of a session job's upgrade, then run again (one savepoint per
# stop, one new job, from exactly that state, the counter never resets),
# suspend and resume, and a delete killed right after its final savepoint.
CRASH_SESSION_JOB=1 exec "$(dirname "$0")/test_rollout_crash.sh"
