/*
 * Unit tests for the pure parts of k8s/ and the object comparison in
 * deploy/: kubeconfig reading, API error messages, and which differences
 * between a rendered and a live object count as drift; and the agent's
 * configuration (config/), credentials in its URLs included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "deploy/deploy.h"
#include "k8s/k8s.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/yaml.h"

static const char kubeconfig[] =
	"apiVersion: v1\nkind: Config\ncurrent-context: a\n"
	"clusters:\n"
	"- name: c1\n  cluster: {server: \"https://10.0.0.1:6443/\", certificate-authority: ca.crt}\n"
	"- name: c2\n  cluster: {server: https://k2:443, certificate-authority-data: \"LS0tLS1CRUdJTg==\", "
	"insecure-skip-tls-verify: true}\n"
	"users:\n"
	"- name: u1\n  user: {token: abc123}\n"
	"- name: u2\n  user: {client-certificate: /abs/c.crt, client-key: k.key, tokenFile: tok}\n"
	"- name: u3\n  user: {exec: {command: aws}}\n"
	"- name: u4\n  user: {client-certificate-data: \"Y2VydA==\"}\n"
	"contexts:\n"
	"- name: a\n  context: {cluster: c1, user: u1, namespace: team}\n"
	"- name: b\n  context: {cluster: c2, user: u2}\n"
	"- name: x\n  context: {cluster: c2, user: u3}\n"
	"- name: y\n  context: {cluster: nope, user: u1}\n"
	"- name: z\n  context: {cluster: c1, user: u4}\n";

static k8s_config *load(const char *context, int want_rc, const char *want_msg)
{
	k8s_config *c = NULL;
	fo_err e = FO_ERR_INIT;
	int rc = k8s_config_from_kubeconfig_text("kc", kubeconfig, strlen(kubeconfig), "/etc/kube", context, &c, &e);
	if (rc != want_rc)
		fail_msg("context %s: rc %d (%s), want %d", context ? context : "(current)", rc, fo_err_msg(&e), want_rc);
	if (want_msg && !strstr(fo_err_msg(&e), want_msg))
		fail_msg("context %s: \"%s\" lacks \"%s\"", context, fo_err_msg(&e), want_msg);
	fo_err_clear(&e);
	return c;
}

static void test_kubeconfig(void **state)
{
	(void)state;
	k8s_config *a = load(NULL, 0, NULL);
	assert_string_equal(a->server, "https://10.0.0.1:6443");
	assert_string_equal(a->ca_file, "/etc/kube/ca.crt");
	assert_string_equal(a->token, "abc123");
	assert_string_equal(a->namespace, "team");
	assert_false(a->insecure);
	k8s_config_free(a);
	k8s_config *b = load("b", 0, NULL);
	assert_string_equal(b->ca_pem, "-----BEGIN");
	assert_true(b->insecure);
	assert_string_equal(b->cert_file, "/abs/c.crt");
	assert_string_equal(b->key_file, "/etc/kube/k.key");
	assert_string_equal(b->token_file, "/etc/kube/tok");
	assert_null(b->token);
	k8s_config_free(b);
	assert_null(load("x", FO_EUNSUPPORTED, "exec plugin"));
	assert_null(load("y", FO_ENOTFOUND, "cluster \"nope\", which is not defined"));
	assert_null(load("nosuch", FO_ENOTFOUND, "context \"nosuch\" not found"));
	assert_null(load("z", FO_EINVAL, "a client certificate without its key"));
}

static void test_kubeconfig_bad_text(void **state)
{
	(void)state;
	k8s_config *c = NULL;
	fo_err e = FO_ERR_INIT;
	const char *t = "clusters: [\n";
	assert_true(k8s_config_from_kubeconfig_text("kc", t, strlen(t), NULL, NULL, &c, &e) < 0);
	assert_non_null(strstr(fo_err_msg(&e), "kc:2:1:"));
	fo_err_clear(&e);
	const char *t2 = "- a list\n";
	assert_true(k8s_config_from_kubeconfig_text("kc", t2, strlen(t2), NULL, NULL, &c, &e) < 0);
	assert_non_null(strstr(fo_err_msg(&e), "not a kubeconfig"));
	fo_err_clear(&e);
	/* a scheme alone names no server: "https://" became "https:" (found by fuzzing) */
	static const char *const no_host[] = {"https://", "https:///", "http://", "ftp://k"};
	for (size_t i = 0; i < sizeof(no_host) / sizeof(no_host[0]); i++) {
		char *t3 = fo_asprintf("current-context: a\nclusters: [{name: c, cluster: {server: \"%s\"}}]\n"
				       "contexts: [{name: a, context: {cluster: c}}]\n",
				       no_host[i]);
		assert_int_equal(k8s_config_from_kubeconfig_text("kc", t3, strlen(t3), NULL, NULL, &c, &e), FO_EINVAL);
		assert_non_null(strstr(fo_err_msg(&e), "has no https:// server"));
		fo_err_clear(&e);
		free(t3);
	}
}

static void test_error_messages(void **state)
{
	(void)state;
	static const struct {
		long status;
		const char *body;
		int code;
		const char *want;
	} cases[] = {
		{422,
		 "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"StatefulSet.apps \\\"x\\\" is invalid: "
		 "spec.replicas: Invalid value: -1\",\"reason\":\"Invalid\",\"code\":422}",
		 FO_EINVAL, "apply StatefulSet ns/x: StatefulSet.apps \"x\" is invalid: spec.replicas: Invalid value: -1 (Invalid, HTTP 422)"},
		{403, "{\"kind\":\"Status\",\"message\":\"statefulsets.apps \\\"x\\\" is forbidden: User \\\"u\\\" cannot patch\",\"reason\":\"Forbidden\"}",
		 FO_EFORBIDDEN, "cannot patch (Forbidden, HTTP 403); grant flinkops this permission with RBAC"},
		{401, "{\"kind\":\"Status\",\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}", FO_EAUTH,
		 "Unauthorized (Unauthorized, HTTP 401); the credentials were refused"},
		{502, "<html>bad gateway</html>", FO_ESERVER, "apply StatefulSet ns/x: HTTP 502: <html>bad gateway</html>"},
		{404, "", FO_ENOTFOUND, "apply StatefulSet ns/x: HTTP 404"},
	};
	/* the quoted start of a body is cut between characters (found by fuzzing) */
	char body[256];
	memset(body, 'b', sizeof(body));
	memcpy(body + 199, "\xc3\xa9", 2);
	body[255] = '\0';
	fo_err be = FO_ERR_INIT;
	k8s_error_from_response(502, body, "get x", &be);
	assert_int_equal(strlen(fo_err_msg(&be)), strlen("get x: HTTP 502: ") + 199);
	fo_err_clear(&be);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fo_err e = FO_ERR_INIT;
		int code = k8s_error_from_response(cases[i].status, cases[i].body, "apply StatefulSet ns/x", &e);
		assert_int_equal(code, cases[i].code);
		if (!strstr(fo_err_msg(&e), cases[i].want))
			fail_msg("%ld: \"%s\" lacks \"%s\"", cases[i].status, fo_err_msg(&e), cases[i].want);
		fo_err_clear(&e);
	}
}

static int collect(cJSON *item, void *arg)
{
	cJSON_AddItemToArray(arg, item);
	return 0;
}

/* One LIST page: items typed and stripped, the continue token, and bodies
 * that are not a list of objects refused (a non-object item was handed on
 * before fuzzing found it). A key the server repeats is stripped in every
 * copy: only the first went before fuzzing found a page with two. */
static void test_list_page(void **state)
{
	(void)state;
	const char *page = "{\"kind\":\"StatefulSetList\",\"metadata\":{\"continue\":\"tok\"},\"items\":["
			   "{\"metadata\":{\"name\":\"a\",\"managedFields\":[{\"manager\":\"x\"}],\"managedFields\":1},"
			   "\"status\":{},\"status\":{\"replicas\":1}},"
			   "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"b\"}}]}";
	cJSON *got = cJSON_CreateArray();
	char *next = NULL;
	fo_err e = FO_ERR_INIT;
	char *rv = NULL;
	assert_int_equal(k8s_list_page_parse(page, &k8s_kind_statefulset, K8S_LIST_NO_STATUS, "list", collect, got,
					     &next, &rv, &e), 0);
	assert_string_equal(next, "tok");
	assert_null(rv); /* the page says none */
	free(next);
	assert_int_equal(cJSON_GetArraySize(got), 2);
	char *first = cJSON_PrintUnformatted(cJSON_GetArrayItem(got, 0));
	assert_string_equal(first, "{\"metadata\":{\"name\":\"a\"},\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\"}");
	free(first);
	cJSON_Delete(got);

	const char *bad[] = {"{\"items\":[{},1]}", "{\"items\":[\"x\"],\"metadata\":{\"continue\":\"t\"}}", "[]", "<html>"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		got = cJSON_CreateArray();
		assert_int_equal(k8s_list_page_parse(bad[i], &k8s_kind_statefulset, 0, "list StatefulSet", collect, got,
						     &next, NULL, &e),
				 FO_ESERVER);
		assert_null(next);
		assert_non_null(strstr(fo_err_msg(&e), "list StatefulSet: "));
		fo_err_clear(&e);
		cJSON_Delete(got);
	}
}

static void test_subset(void **state)
{
	(void)state;
	static const struct {
		const char *want, *have;
		bool equal;
		const char *where;
	} cases[] = {
		{"{\"a\":1}", "{\"a\":1,\"b\":2}", true, NULL},
		{"{\"spec\":{\"replicas\":2}}", "{\"spec\":{\"replicas\":5}}", false, "spec.replicas: 2 != 5"},
		{"{\"r\":{\"resources\":{\"requests\":{\"memory\":\"1024Mi\",\"cpu\":\"1\"}}}}",
		 "{\"r\":{\"resources\":{\"requests\":{\"memory\":\"1Gi\",\"cpu\":\"1000m\"}}}}", true, NULL},
		{"{\"r\":{\"resources\":{\"requests\":{\"memory\":\"1024Mi\"}}}}",
		 "{\"r\":{\"resources\":{\"requests\":{\"memory\":\"2Gi\"}}}}", false, "r.resources.requests.memory"},
		{"{\"image\":\"1024Mi\"}", "{\"image\":\"1Gi\"}", false, "image"},
		{"{\"l\":[{\"n\":\"a\"}]}", "{\"l\":[{\"n\":\"a\",\"x\":1}]}", true, NULL},
		{"{\"l\":[1,2]}", "{\"l\":[1]}", false, "l: [1,2] != [1]"},
		{"{\"e\":{},\"f\":[]}", "{}", true, NULL},
		{"{\"b\":true}", "{\"b\":false}", false, "b"},
		{"{\"s\":\"x\"}", "{\"s\":1}", false, "s"},
		{"{\"c\":[{\"image\":\"a\"}]}", "{\"c\":[{\"image\":\"b\"}]}", false, "c[0].image: \"a\" != \"b\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *w = cJSON_Parse(cases[i].want), *h = cJSON_Parse(cases[i].have);
		char *where = NULL;
		bool eq = deploy_subset_equal(w, h, &where);
		if (eq != cases[i].equal)
			fail_msg("case %zu: want %d, got %d (%s)", i, cases[i].equal, eq, where ? where : "");
		if (cases[i].where && (!where || !strstr(where, cases[i].where)))
			fail_msg("case %zu: where \"%s\" lacks \"%s\"", i, where ? where : "(none)", cases[i].where);
		free(where);
		cJSON_Delete(w);
		cJSON_Delete(h);
	}
	/* an exact integer from YAML (a raw item) against the server's answer,
	 * which cJSON reads into a double: equal when the double is the same,
	 * whether the live object was parsed or printed and parsed again */
	fo_yaml_file *f = NULL;
	fo_diags d = FO_DIAGS_INIT;
	assert_int_equal(fo_yaml_load("w", "u: 9007199254740993\n", 20, NULL, &f, &d), 0);
	cJSON *want = fo_yaml_to_json(f->docs[0]);
	assert_true(cJSON_IsRaw(cJSON_GetObjectItem(want, "u")));
	cJSON *live = cJSON_Parse("{\"u\":9007199254740993}"), *other = cJSON_Parse("{\"u\":9007199254740996}");
	assert_true(deploy_subset_equal(want, live, NULL));
	char *text = fo_json_print(live, false);
	cJSON *stored = cJSON_Parse(text);
	assert_true(deploy_subset_equal(want, stored, NULL));
	assert_true(deploy_same_stored(want, want, NULL));
	assert_false(deploy_subset_equal(want, other, NULL));
	free(text);
	cJSON_Delete(stored);
	cJSON_Delete(live);
	cJSON_Delete(other);
	cJSON_Delete(want);
	fo_yaml_file_free(f);
	fo_diags_free(&d);
	/* what the server maintains is not a difference */
	cJSON *a = cJSON_Parse("{\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"1\",\"managedFields\":[1]},\"spec\":{},\"status\":{\"r\":1}}");
	cJSON *b = cJSON_Parse("{\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"2\"},\"spec\":{},\"status\":{\"r\":2}}");
	assert_true(deploy_same_stored(a, b, NULL));
	cJSON_AddNumberToObject(cJSON_GetObjectItem(b, "spec"), "x", 1);
	assert_false(deploy_same_stored(a, b, NULL));
	cJSON_Delete(a);
	cJSON_Delete(b);
}

static void test_config(void **state)
{
	(void)state;
	const char *text = "repository:\n  url: https://git.example.com/jobs.git\n  interval: 30s\n"
			   "kubernetes:\n  kubeconfig: /k\nprune:\n  maxDeleteRatio: 0.25\n";
	char *env[] = {"FLINKOPS_REPOSITORY_BRANCH=release", "FLINKOPS_KUBERNETES_FORCE_CONFLICTS=false", NULL};
	config *c = NULL;
	fo_diags d = FO_DIAGS_INIT;
	assert_int_equal(config_load_text("c.yaml", text, strlen(text), env, &c, &d), 0);
	assert_string_equal(c->repository.url, "https://git.example.com/jobs.git");
	assert_int_equal(c->repository.interval_ms, 30000);
	assert_string_equal(c->repository.branch, "release");
	assert_string_equal(c->status.branch, "release");
	assert_false(c->kubernetes.force_conflicts);
	assert_true(c->prune.max_delete_ratio == 0.25);
	assert_int_equal(c->flink.savepoint_timeout_ms, 600000);
	assert_int_equal(c->flink.jar_cache_max_bytes, 1ull << 30); /* 1g: Flink's units */
	char *url = deploy_rest_url(c->flink.rest_url, "prod", "wc");
	assert_string_equal(url, "http://wc-rest.prod.svc:8081");
	free(url);
	config_free(c);
	/* both unit systems, from the environment too */
	static const struct {
		const char *env;
		uint64_t bytes;
	} sizes[] = {{"FLINKOPS_FLINK_JAR_CACHE_MAX_SIZE=512m", 512ull << 20}, {"FLINKOPS_FLINK_JAR_CACHE_MAX_SIZE=2Gi", 2ull << 30},
		     {"FLINKOPS_FLINK_JAR_CACHE_MAX_SIZE=1500M", 1500ull << 20} /* Flink reads M as MiB */};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *env2[] = {(char *)sizes[i].env, NULL};
		assert_int_equal(config_load_text("c.yaml", text, strlen(text), env2, &c, &d), 0);
		assert_int_equal(c->flink.jar_cache_max_bytes, sizes[i].bytes);
		config_free(c);
	}
	char *var = config_env_name("repository.passwordFile");
	assert_string_equal(var, "FLINKOPS_REPOSITORY_PASSWORD_FILE");
	free(var);

	static const struct {
		const char *text;
		const char *env; /* one NAME=value, or NULL */
		int line, col;
		const char *msg;
	} bad[] = {
		{"repository:\n  url: x\n  password: hunter2\nkubernetes: {kubeconfig: k}\n", NULL, 3, 3, "secrets do not belong"},
		{"repository:\n  url: x\n  intervall: 1m\nkubernetes: {kubeconfig: k}\n", NULL, 3, 3, "unknown setting \"repository.intervall\""},
		{"repository:\n  url: x\n  interval: soon\nkubernetes: {kubeconfig: k}\n", NULL, 3, 13, "repository.interval: \"soon\" is not a duration"},
		{"repository:\n  url: x\nprune: {maxDeleteRatio: 2}\nkubernetes: {kubeconfig: k}\n", NULL, 3, 25, "a share between 0 and 1"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nflink: {jarCacheMaxSize: 0}\n", NULL, 3, 26, "flink.jarCacheMaxSize: memory \"0\" must be greater than zero"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nflink: {jarCacheMaxSize: lots}\n", NULL, 3, 26, "flink.jarCacheMaxSize:"},
		{"repository: {url: x}\n", NULL, 0, 0, "name kubernetes.kubeconfig"},
		{"kubernetes: {kubeconfig: k}\n", NULL, 0, 0, "repository.url is required"},
		/* credentials in URLs: refused where they stand, never quoted */
		{"repository:\n  url: https://flinkops:hunter2@git.example.com/jobs.git\nkubernetes: {kubeconfig: k}\n", NULL, 2, 8,
		 "repository.url: the URL holds a password; put it in a file and name it with repository.passwordFile"},
		{"repository:\n  url: https://flinkops:@git.example.com/jobs.git\nkubernetes: {kubeconfig: k}\n", NULL, 2, 8,
		 "repository.url: the URL holds a password"},
		{"repository:\n  url: https://flinkops:hun/ter2@git.example.com/jobs.git\nkubernetes: {kubeconfig: k}\n", NULL, 2, 8,
		 "repository.url: the URL holds a password"},
		{"repository:\n  url: ssh://git:hunter2@git.example.com/jobs.git\nkubernetes: {kubeconfig: k}\n", NULL, 2, 8,
		 "repository.url: the URL holds a password"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nflink:\n  restUrl: http://admin:hunter2@{name}-rest:8081\n", NULL,
		 4, 12, "flink.restUrl: the URL holds a password; flinkops sends no credentials to Flink's REST API"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nflink:\n  restUrl: http://admin@{name}-rest:8081\n", NULL,
		 4, 12, "flink.restUrl: the URL holds a user name (user@)"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nflink:\n  s3Endpoint: https://AKIA:hunter2@minio:9000\n", NULL,
		 4, 15, "flink.s3Endpoint: the URL holds a password; name files holding the keys with flink.s3AccessKeyFile"},
		{"kubernetes: {kubeconfig: k}\n", "FLINKOPS_REPOSITORY_URL=https://u:hunter2@h/r.git", 0, 0,
		 "FLINKOPS_REPOSITORY_URL overrides repository.url: the URL holds a password"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\n", "FLINKOPS_FLINK_S3_ENDPOINT=http://k:hunter2@m:9000", 0, 0,
		 "FLINKOPS_FLINK_S3_ENDPOINT overrides flink.s3Endpoint: the URL holds a password"},
		/* NaN compares false with everything: it switched the prune guard off */
		{"repository:\n  url: x\nprune: {maxDeleteRatio: nan}\nkubernetes: {kubeconfig: k}\n", NULL, 3, 25, "a share between 0 and 1"},
		{"repository:\n  url: x\nprune: {maxDeleteRatio: -NAN}\nkubernetes: {kubeconfig: k}\n", NULL, 3, 25, "a share between 0 and 1"},
		/* the namespaces an agent manages are namespace names */
		{"repository: {url: x}\nkubernetes:\n  kubeconfig: k\n  namespaces: [jobs, Prod]\n", NULL, 4, 15,
		 "kubernetes.namespaces: \"Prod\" is not a namespace name"},
		{"repository: {url: x}\nkubernetes:\n  kubeconfig: k\n  namespaces: [jobs, [a]]\n", NULL, 4, 22,
		 "kubernetes.namespaces: expected a namespace name"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\n", "FLINKOPS_KUBERNETES_NAMESPACES=a,-b", 0, 0,
		 "FLINKOPS_KUBERNETES_NAMESPACES overrides kubernetes.namespaces: \"-b\" is not a namespace name"},
		/* names that go into API paths (…/namespaces/NS/leases/NAME) are
		 * Kubernetes names: "../" must not walk to another resource */
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nagent:\n  leaderElection: {leaseName: ../pods/x}\n", NULL, 4, 31,
		 "agent.leaderElection.leaseName: \"../pods/x\" is not an object name (a DNS-1123 subdomain"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nagent:\n  leaderElection: {leaseName: a%2Fb}\n", NULL, 4, 31,
		 "agent.leaderElection.leaseName: \"a%2Fb\" is not an object name"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nagent:\n  leaderElection: {leaseName: Flinkops}\n", NULL, 4, 31,
		 "agent.leaderElection.leaseName: \"Flinkops\" is not an object name"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nagent:\n  leaderElection: {leaseName: a..b}\n", NULL, 4, 31,
		 "agent.leaderElection.leaseName: \"a..b\" is not an object name"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nagent:\n  leaderElection: {namespace: kube_system}\n", NULL, 4, 31,
		 "agent.leaderElection.namespace: \"kube_system\" is not a namespace name (a DNS-1123 label"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nagent:\n  leaderElection: {namespace: a.b}\n", NULL, 4, 31,
		 "agent.leaderElection.namespace: \"a.b\" is not a namespace name"},
		{"repository: {url: x}\nkubernetes:\n  kubeconfig: k\n  namespace: ../x\n", NULL, 4, 14,
		 "kubernetes.namespace: \"../x\" is not a namespace name"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\n", "FLINKOPS_KUBERNETES_NAMESPACE=a/b", 0, 0,
		 "FLINKOPS_KUBERNETES_NAMESPACE overrides kubernetes.namespace: \"a/b\" is not a namespace name"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nagent:\n  name: My_Agent\n  leaderElection: {enabled: true}\n",
		 NULL, 4, 9, "agent.name \"My_Agent\" names the Lease (no agent.leaderElection.leaseName) but is not an object name"},
		/* durations that drive a loop or bound a call */
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nagent:\n  retryInitial: 0s\n", NULL, 4, 17,
		 "agent.retryInitial (0 ms) must be at least 100 ms"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nagent:\n  retryInitial: 50ms\n", NULL, 4, 17,
		 "agent.retryInitial (50 ms) must be at least 100 ms"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nagent:\n  retryMax: 0s\n", NULL, 4, 13,
		 "agent.retryMax (0 ms) must be at least agent.retryInitial (5000 ms)"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nagent:\n  retryInitial: 10s\n", "FLINKOPS_AGENT_RETRY_MAX=2s", 0, 0,
		 "FLINKOPS_AGENT_RETRY_MAX overrides agent.retryMax (2000 ms) must be at least agent.retryInitial (10000 ms)"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nagent:\n  retryMax: 1m\n  retryInitial: 2m\n", NULL, 4, 13,
		 "agent.retryMax (60000 ms) must be at least agent.retryInitial (120000 ms)"},
		{"repository:\n  url: x\n  interval: 0s\nkubernetes: {kubeconfig: k}\n", NULL, 3, 13,
		 "repository.interval (0 ms) must be at least 1000 ms"},
		{"repository:\n  url: x\n  timeout: 500ms\nkubernetes: {kubeconfig: k}\n", NULL, 3, 12,
		 "repository.timeout (500 ms) must be at least 1000 ms"},
		{"repository: {url: x}\nkubernetes:\n  kubeconfig: k\n  timeout: 0s\n", NULL, 4, 12,
		 "kubernetes.timeout (0 ms) must be at least 1000 ms"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nflink:\n  savepointTimeout: 0s\n", NULL, 4, 21,
		 "flink.savepointTimeout (0 ms) must be at least 1000 ms"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nflink:\n  readyTimeout: 10ms\n", NULL, 4, 17,
		 "flink.readyTimeout (10 ms) must be at least 1000 ms"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\n", "FLINKOPS_FLINK_RUNNING_TIMEOUT=0s", 0, 0,
		 "FLINKOPS_FLINK_RUNNING_TIMEOUT overrides flink.runningTimeout (0 ms) must be at least 1000 ms"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fo_diags bd = FO_DIAGS_INIT;
		char *env1[] = {(char *)bad[i].env, NULL};
		config *x = NULL;
		assert_int_equal(config_load_text("c.yaml", bad[i].text, strlen(bad[i].text), env1, &x, &bd), FO_EINVAL);
		bool found = false;
		for (size_t k = 0; k < bd.n; k++) {
			found = found || (strstr(bd.v[k].msg, bad[i].msg) && bd.v[k].line == bad[i].line && bd.v[k].col == bad[i].col);
			if (strstr(bd.v[k].msg, "hunter") || strstr(bd.v[k].msg, "ter2"))
				fail_msg("bad config %zu: the message quotes the password: %s", i, bd.v[k].msg);
		}
		if (!found)
			fail_msg("bad config %zu: want %d:%d %s, got %d:%d %s", i, bad[i].line, bad[i].col, bad[i].msg,
				 bd.n ? bd.v[0].line : -1, bd.n ? bd.v[0].col : -1, bd.n ? bd.v[0].msg : "(none)");
		fo_diags_free(&bd);
	}
	/* kubernetes.namespaces: a YAML list or "a,b"; repeats fold; empty is all */
	static const struct {
		const char *text, *env;
		const char *want; /* the names joined with '|' */
	} names[] = {
		{"repository: {url: x}\nkubernetes: {kubeconfig: k, namespaces: [jobs, team-b, jobs]}\n", NULL, "jobs|team-b"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k, namespaces: \"jobs, team-b\"}\n", NULL, "jobs|team-b"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k, namespaces: [a]}\n", "FLINKOPS_KUBERNETES_NAMESPACES=b,c", "b|c"},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\n", NULL, ""},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k, namespaces: []}\n", NULL, ""},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		fo_diags nd = FO_DIAGS_INIT;
		char *env1[] = {(char *)names[i].env, NULL};
		config *x = NULL;
		if (config_load_text("c.yaml", names[i].text, strlen(names[i].text), env1, &x, &nd) != 0)
			fail_msg("names %zu refused: %s", i, nd.n ? nd.v[0].msg : "");
		fo_buf got = FO_BUF_INIT;
		fo_buf_puts(&got, "");
		for (size_t k = 0; k < x->kubernetes.namespaces.n; k++)
			fo_buf_printf(&got, "%s%s", k ? "|" : "", x->kubernetes.namespaces.v[k]);
		if (strcmp(got.ptr, names[i].want) != 0)
			fail_msg("names %zu: want \"%s\", got \"%s\"", i, names[i].want, got.ptr);
		fo_buf_free(&got);
		config_free(x);
		fo_diags_free(&nd);
	}
	/* names and durations at their bounds, and what stays allowed */
	static const struct {
		const char *text, *env;
	} good[] = {
		{"repository: {url: x}\nkubernetes: {kubeconfig: k, namespace: team-a}\n"
		 "agent: {leaderElection: {enabled: true, leaseName: flinkops.lease-1, namespace: jobs}}\n", NULL},
		/* a label value that is no object name is fine when leaseName names the Lease, or without leader election */
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nagent: {name: My_Agent, leaderElection: {enabled: true, leaseName: l}}\n", NULL},
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\nagent: {name: My_Agent}\n", NULL},
		/* empty is unset: the defaults apply */
		{"repository: {url: x}\nkubernetes: {kubeconfig: k}\n", "FLINKOPS_AGENT_LEADER_ELECTION_LEASE_NAME="},
		{"repository: {url: x, interval: 1s, timeout: 1s}\nkubernetes: {kubeconfig: k, timeout: 1s}\n"
		 "agent: {retryInitial: 100ms, retryMax: 100ms}\nflink: {savepointTimeout: 1s, readyTimeout: 1s, runningTimeout: 1s}\n", NULL},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		fo_diags gd = FO_DIAGS_INIT;
		char *env1[] = {(char *)good[i].env, NULL};
		config *x = NULL;
		if (config_load_text("c.yaml", good[i].text, strlen(good[i].text), env1, &x, &gd) != 0)
			fail_msg("good config %zu refused: %d:%d %s", i, gd.n ? gd.v[0].line : -1, gd.n ? gd.v[0].col : -1,
				 gd.n ? gd.v[0].msg : "");
		config_free(x);
		fo_diags_free(&gd);
	}
	/* a user name alone names an account, not a secret */
	static const char *const fine[] = {
		"ssh://git@git.example.com/jobs.git", "git@github.com:team/jobs.git", "https://flinkops@h/jobs.git",
		"https://h/users/@me/jobs.git", "file:///srv/git/a@b.git",
	};
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		fo_diags gd = FO_DIAGS_INIT;
		char *t = fo_asprintf("repository: {url: \"%s\"}\nkubernetes: {kubeconfig: k}\n", fine[i]);
		char *noenv[] = {NULL};
		config *x = NULL;
		if (config_load_text("c.yaml", t, strlen(t), noenv, &x, &gd) != 0)
			fail_msg("%s refused: %s", fine[i], gd.n ? gd.v[0].msg : "");
		assert_string_equal(x->repository.url, fine[i]);
		config_free(x);
		fo_diags_free(&gd);
		free(t);
	}
	fo_diags_free(&d);
}

static void test_base64(void **state)
{
	(void)state;
	char *out = NULL;
	size_t n = 0;
	assert_int_equal(fo_base64_decode("aGVsbG8gd29ybGQ=", 16, &out, &n), 0);
	assert_string_equal(out, "hello world");
	free(out);
	assert_int_equal(fo_base64_decode("aGVs\nbG8=", 9, &out, &n), 0);
	assert_string_equal(out, "hello");
	free(out);
	assert_int_equal(fo_base64_decode("a*b", 3, &out, &n), -1);
	assert_int_equal(fo_base64_decode("aGVsbG8=x", 9, &out, &n), -1);
	char *enc = fo_base64_encode("hello world", 11);
	assert_string_equal(enc, "aGVsbG8gd29ybGQ=");
	free(enc);
}

/* The Event flinkops posts on a StatefulSet: every field `kubectl describe`
 * and `kubectl get events` read, the uid only when known, the type from
 * the severity, and a long message cut at a character boundary. */
static void test_event_build(void **state)
{
	(void)state;
	static const struct {
		const char *uid, *reason, *message;
		bool warning;
		const char *instance;
		const char *want_type;
	} cases[] = {
		{"0b6c-uid", "SavepointCompleted", "savepoint of job 1f (upgrade) completed at file:/sp/savepoint-1f-ab", false,
		 "agent-1", "Normal"},
		{NULL, "UpgradeFailed", "job 1f is FAILED: \"quoted\"\nsecond line", true, NULL, "Warning"},
		{"", "RestartBudgetExhausted", "", true, "", "Warning"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		k8s_event ev = {.ns = "team", .kind = &k8s_kind_statefulset, .name = "wc-jobmanager", .uid = cases[i].uid,
				.reason = cases[i].reason, .message = cases[i].message, .warning = cases[i].warning,
				.component = "flinkops", .instance = cases[i].instance};
		cJSON *o = k8s_event_build(&ev, "wc-jobmanager.0123abcd", "2026-01-02T03:04:05Z");
		/* through text and back, as the API server receives it */
		char *text = cJSON_PrintUnformatted(o);
		cJSON *back = cJSON_Parse(text);
		assert_non_null(back);
		const cJSON *meta = cJSON_GetObjectItemCaseSensitive(back, "metadata");
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(meta, "name")->valuestring, "wc-jobmanager.0123abcd");
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(meta, "namespace")->valuestring, "team");
		const cJSON *inv = cJSON_GetObjectItemCaseSensitive(back, "involvedObject");
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(inv, "kind")->valuestring, "StatefulSet");
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(inv, "apiVersion")->valuestring, "apps/v1");
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(inv, "name")->valuestring, "wc-jobmanager");
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(inv, "namespace")->valuestring, "team");
		const cJSON *uid = cJSON_GetObjectItemCaseSensitive(inv, "uid");
		if (cases[i].uid && cases[i].uid[0])
			assert_string_equal(uid->valuestring, cases[i].uid);
		else
			assert_null(uid);
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(back, "reason")->valuestring, cases[i].reason);
		const char *msg = cJSON_GetObjectItemCaseSensitive(back, "message")->valuestring;
		assert_string_equal(msg, cases[i].message);
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(back, "type")->valuestring, cases[i].want_type);
		const cJSON *src = cJSON_GetObjectItemCaseSensitive(back, "source");
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(src, "component")->valuestring, "flinkops");
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(back, "reportingComponent")->valuestring, "flinkops");
		const cJSON *inst = cJSON_GetObjectItemCaseSensitive(back, "reportingInstance");
		if (cases[i].instance && cases[i].instance[0])
			assert_string_equal(inst->valuestring, cases[i].instance);
		else
			assert_null(inst);
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(back, "firstTimestamp")->valuestring,
				    "2026-01-02T03:04:05Z");
		assert_string_equal(cJSON_GetObjectItemCaseSensitive(back, "lastTimestamp")->valuestring,
				    "2026-01-02T03:04:05Z");
		assert_int_equal(cJSON_GetObjectItemCaseSensitive(back, "count")->valueint, 1);
		cJSON_Delete(back);
		free(text);
		cJSON_Delete(o);
	}

	/* a message past the limit is cut, never in the middle of a character */
	fo_buf b = FO_BUF_INIT;
	for (int k = 0; k < K8S_EVENT_MESSAGE_MAX; k++)
		fo_buf_puts(&b, "\xc3\xa9"); /* é: two bytes */
	k8s_event ev = {.ns = "team", .kind = &k8s_kind_statefulset, .name = "wc-jobmanager", .reason = "UpgradeFailed",
			.message = fo_buf_cstr(&b), .warning = true, .component = "flinkops"};
	cJSON *o = k8s_event_build(&ev, "wc-jobmanager.1", "2026-01-02T03:04:05Z");
	const char *msg = cJSON_GetObjectItemCaseSensitive(o, "message")->valuestring;
	assert_int_equal(strlen(msg), K8S_EVENT_MESSAGE_MAX);
	assert_memory_equal(msg, fo_buf_cstr(&b), K8S_EVENT_MESSAGE_MAX);
	cJSON_Delete(o);
	fo_buf_free(&b);
}

/* A StatefulSet has rolled out when the controller saw its generation and
 * every wanted pod is updated and Ready, with none left over. */
static void test_statefulset_rolled_out(void **state)
{
	(void)state;
	static const struct {
		const char *json;
		const char *why; /* NULL: rolled out */
	} cases[] = {
		{"{\"metadata\":{\"name\":\"wc-taskmanager\",\"generation\":3},\"spec\":{\"replicas\":2},"
		 "\"status\":{\"observedGeneration\":3,\"replicas\":2,\"updatedReplicas\":2,\"readyReplicas\":2}}",
		 NULL},
		{"{\"metadata\":{\"name\":\"wc-taskmanager\",\"generation\":4},\"spec\":{\"replicas\":2},"
		 "\"status\":{\"observedGeneration\":3,\"replicas\":2,\"updatedReplicas\":2,\"readyReplicas\":2}}",
		 "wc-taskmanager: the StatefulSet controller has not yet seen generation 4"},
		{"{\"metadata\":{\"name\":\"wc-taskmanager\",\"generation\":4},\"spec\":{\"replicas\":2},"
		 "\"status\":{\"observedGeneration\":4,\"replicas\":2,\"updatedReplicas\":1,\"readyReplicas\":2}}",
		 "wc-taskmanager: 1 of 2 pods updated"},
		{"{\"metadata\":{\"name\":\"wc-jobmanager\",\"generation\":2},\"spec\":{\"replicas\":1},"
		 "\"status\":{\"observedGeneration\":2,\"replicas\":1,\"updatedReplicas\":1}}",
		 "wc-jobmanager: 0 of 1 pods Ready"},
		{"{\"metadata\":{\"name\":\"wc-taskmanager\",\"generation\":5},\"spec\":{\"replicas\":1},"
		 "\"status\":{\"observedGeneration\":5,\"replicas\":2,\"updatedReplicas\":1,\"readyReplicas\":1}}",
		 "wc-taskmanager: 2 pods, 1 wanted"},
		/* no spec.replicas: the server's default, 1; no status yet: nothing seen */
		{"{\"metadata\":{\"name\":\"x\",\"generation\":1},\"spec\":{}}",
		 "x: the StatefulSet controller has not yet seen generation 1"},
		{"{\"metadata\":{\"name\":\"x\",\"generation\":2},\"spec\":{\"replicas\":0},"
		 "\"status\":{\"observedGeneration\":2,\"replicas\":0}}",
		 NULL},
		/* counts of the wrong type are the server's zero, never a crash */
		{"{\"metadata\":{\"name\":\"x\",\"generation\":\"1\"},\"spec\":{\"replicas\":-3},\"status\":[]}",
		 "x: 0 of 1 pods updated"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *o = cJSON_Parse(cases[i].json);
		assert_non_null(o);
		char *why = NULL;
		bool done = deploy_statefulset_rolled_out(o, &why);
		if (done != (cases[i].why == NULL) || !fo_streq(why, cases[i].why))
			fail_msg("case %zu: %s, \"%s\", want \"%s\"", i, done ? "rolled out" : "not", why ? why : "",
				 cases[i].why ? cases[i].why : "");
		free(why);
		cJSON_Delete(o);
	}
}

/* Why a pod is stuck, in the scheduler's or the kubelet's words; nothing
 * for a pod that is merely starting. */
static void test_pod_stuck_reason(void **state)
{
	(void)state;
	static const struct {
		const char *json;
		const char *why; /* NULL: no reason */
	} cases[] = {
		{"{\"metadata\":{\"name\":\"wc-taskmanager-3\"},\"status\":{\"phase\":\"Pending\",\"conditions\":["
		 "{\"type\":\"PodScheduled\",\"status\":\"False\",\"reason\":\"Unschedulable\",\"message\":"
		 "\"0/2 nodes are available: 1 Insufficient cpu.\"}]}}",
		 "pod wc-taskmanager-3 is not scheduled: 0/2 nodes are available: 1 Insufficient cpu."},
		{"{\"metadata\":{\"name\":\"p\"},\"status\":{\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\"}],"
		 "\"containerStatuses\":[{\"ready\":false,\"restartCount\":0,\"state\":{\"waiting\":"
		 "{\"reason\":\"ContainerCreating\"}}}]}}",
		 NULL},
		{"{\"metadata\":{\"name\":\"p\"},\"status\":{\"containerStatuses\":[{\"restartCount\":0,\"state\":{\"waiting\":"
		 "{\"reason\":\"ErrImageNeverPull\",\"message\":\"Container image \\\"x/flink:1\\\" is not present\"}}}]}}",
		 "pod p: ErrImageNeverPull: Container image \"x/flink:1\" is not present"},
		{"{\"metadata\":{\"name\":\"p\"},\"status\":{\"containerStatuses\":[{\"restartCount\":3,\"state\":{\"waiting\":"
		 "{\"reason\":\"CrashLoopBackOff\",\"message\":\"back-off 40s\"}},\"lastState\":{\"terminated\":"
		 "{\"reason\":\"OOMKilled\",\"exitCode\":137}}}]}}",
		 "pod p: CrashLoopBackOff: back-off 40s (restarted 3 times, last ended: OOMKilled)"},
		{"{\"metadata\":{\"name\":\"p\"},\"status\":{\"containerStatuses\":[{\"restartCount\":1,\"ready\":false,"
		 "\"state\":{\"running\":{}},\"lastState\":{\"terminated\":{\"reason\":\"Error\",\"message\":\"a\\nb\"}}}]}}",
		 "pod p restarted 1 time, last ended: Error: a b"},
		/* running and Ready after a restart: not stuck */
		{"{\"metadata\":{\"name\":\"p\"},\"status\":{\"containerStatuses\":[{\"restartCount\":1,\"ready\":true,"
		 "\"state\":{\"running\":{}},\"lastState\":{\"terminated\":{\"reason\":\"Error\"}}}]}}",
		 NULL},
		/* shapes the server never sends: no reason, never a crash */
		{"{\"metadata\":{\"name\":\"p\"},\"status\":{\"conditions\":{},\"containerStatuses\":[1,\"x\",{\"state\":[]}]}}",
		 NULL},
		{"{\"metadata\":{},\"status\":{}}", NULL},
		{"[]", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *o = cJSON_Parse(cases[i].json);
		if (!o)
			fail_msg("case %zu does not parse", i);
		char *why = deploy_pod_stuck_reason(o);
		if (!fo_streq(why, cases[i].why))
			fail_msg("case %zu: \"%s\", want \"%s\"", i, why ? why : "(none)", cases[i].why ? cases[i].why : "(none)");
		free(why);
		cJSON_Delete(o);
	}
	/* a long message is cut, whole characters kept */
	fo_buf b = FO_BUF_INIT;
	fo_buf_puts(&b, "{\"metadata\":{\"name\":\"p\"},\"status\":{\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"False\",\"message\":\"");
	for (int i = 0; i < 400; i++)
		fo_buf_puts(&b, "\u00e9");
	fo_buf_puts(&b, "\"}]}}");
	cJSON *o = cJSON_Parse(fo_buf_cstr(&b));
	char *why = deploy_pod_stuck_reason(o);
	assert_non_null(why);
	assert_true(strlen(why) <= strlen("pod p is not scheduled: ") + DEPLOY_POD_REASON_MAX);
	assert_true(strlen(why) % 2 == strlen("pod p is not scheduled: ") % 2); /* two-byte characters, none split */
	free(why);
	cJSON_Delete(o);
	fo_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kubeconfig),
		cmocka_unit_test(test_kubeconfig_bad_text),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_list_page),
		cmocka_unit_test(test_subset),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_event_build),
		cmocka_unit_test(test_statefulset_rolled_out),
		cmocka_unit_test(test_pod_stuck_reason),
	};
	return cmocka_run_group_tests_name("k8s", tests, NULL, NULL);
}
