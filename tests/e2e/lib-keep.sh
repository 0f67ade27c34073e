# Sourced by the e2e tests (lib-rollout.sh sources it): what a test hands to
# the secrets scan that runs last (test_zz_secrets.sh), in the folders
# tests/e2e/run makes for its run (deleted with the logs when the run
# passes, kept with them when it fails). Run by hand, outside
# tests/e2e/run, these do nothing.
#   keep_for_scan PATH NAME  a copy of PATH (a file, a git repository, a
#                            cache), taken before the test removes it
#   note_secret NAME VALUE   a secret the test made itself (a webhook
#                            secret); never written where the scan looks
#   keep_namespace NS        the Events and ConfigMaps of NS (flinkops
#                            writes both), before the namespace is deleted
#   keep_metrics URL         a scrape of the agent's /metrics at URL
keep_for_scan() {
	[ -n "${E2E_KEEP_DIR:-}" ] && [ -e "$1" ] || return 0
	mkdir -p "$E2E_KEEP_DIR"
	cp -a "$1" "$E2E_KEEP_DIR/$2.$$.$RANDOM" 2>/dev/null
	return 0
}
note_secret() {
	[ -n "${E2E_SECRETS:-}" ] && [ -n "$2" ] || return 0
	printf '%s\t%s\n' "$1" "$2" >>"$E2E_SECRETS"
}
keep_namespace() {
	[ -n "${E2E_KEEP_DIR:-}" ] || return 0
	mkdir -p "$E2E_KEEP_DIR"
	$RIG_KUBECTL --kubeconfig "$RIG_KUBECONFIG" -n "$1" get events,configmaps -o json \
		>"$E2E_KEEP_DIR/namespace-$1.json" 2>/dev/null
	return 0
}
keep_metrics() {
	[ -n "${E2E_KEEP_DIR:-}" ] && [ -n "${1:-}" ] || return 0
	mkdir -p "$E2E_KEEP_DIR"
	curl -s --max-time 3 "$1/metrics" >"$E2E_KEEP_DIR/metrics.$$.$RANDOM" 2>/dev/null
	return 0
}
