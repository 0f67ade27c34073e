/*
 * Fuzz target "config": the bytes as the agent's configuration file
 * (config_load_text) with an empty environment, so that nothing from the
 * machine running the fuzzer leaks in. Beyond no crash, leak or undefined
 * behaviour: a configuration that loads keeps the rules check() promises
 * (a repository URL, an interval of at least 1 s, 1 to 64 concurrent
 * deployments, a prune ratio between 0 and 1, an agent name), and one that
 * fails says why.
 */
#include "tests/fuzz/fuzz.h"

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *const env[] = {NULL};
	config *c = NULL;
	fo_diags d = FO_DIAGS_INIT;
	if (config_load_text("fuzz.yaml", (const char *)data, size, env, &c, &d) == 0) {
		FUZZ_CHECK(c && d.nerrors == 0, "loaded with %zu errors", d.nerrors);
		FUZZ_CHECK(c->repository.url && *c->repository.url, "no repository.url");
		FUZZ_CHECK(c->repository.interval_ms >= 1000, "interval %lld ms", (long long)c->repository.interval_ms);
		FUZZ_CHECK(c->kubernetes.concurrency >= 1 && c->kubernetes.concurrency <= 64, "concurrency %d",
			   c->kubernetes.concurrency);
		FUZZ_CHECK(c->prune.max_delete_ratio >= 0 && c->prune.max_delete_ratio <= 1, "maxDeleteRatio %g",
			   c->prune.max_delete_ratio);
		FUZZ_CHECK(c->agent.name && *c->agent.name, "no agent.name");
		FUZZ_CHECK(c->kubernetes.in_cluster || c->kubernetes.kubeconfig, "no way to reach Kubernetes");
		config_free(c);
	} else {
		FUZZ_CHECK(!c && d.nerrors > 0, "a failed load must say why");
	}
	fo_diags_free(&d);
	return 0;
}
