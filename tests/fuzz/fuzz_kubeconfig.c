/*
 * Fuzz target "kubeconfig": the bytes as a kubeconfig
 * (k8s_config_from_kubeconfig_text, current-context). The function reads no
 * file itself: paths in the input (certificate-authority, client-key,
 * tokenFile — which could name /etc/passwd) are only resolved against the
 * folder given, here an empty temporary folder made once per process, and
 * read later by the client. Beyond no crash, leak or undefined behaviour: a
 * config that loads has an http(s) server without a trailing slash, every
 * path absolute (a relative one is taken from that folder, as kubectl does),
 * and a client certificate only together with its key.
 */
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

#include "k8s/k8s.h"

static char dir[] = "/tmp/flinkops-fuzz-kubeconfig-XXXXXX";

static void remove_dir(void)
{
	rmdir(dir);
}

static void check_path(const char *what, const char *p)
{
	if (!p)
		return;
	FUZZ_CHECK(p[0] == '/', "%s \"%s\" is not an absolute path", what, p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool made;
	if (!made) {
		FUZZ_CHECK(mkdtemp(dir) != NULL, "cannot make %s", dir);
		atexit(remove_dir);
		made = true;
	}
	k8s_config *c = NULL;
	fo_err e = FO_ERR_INIT;
	int rc = k8s_config_from_kubeconfig_text("fuzz-kubeconfig", (const char *)data, size, dir, NULL, &c, &e);
	if (rc == 0) {
		FUZZ_CHECK(c && c->server && c->context, "a loaded config without server or context");
		FUZZ_CHECK(fo_has_prefix(c->server, "https://") || fo_has_prefix(c->server, "http://"), "server \"%s\"",
			   c->server);
		size_t n = strlen(c->server);
		FUZZ_CHECK(n == 0 || c->server[n - 1] != '/', "server \"%s\" ends in a slash", c->server);
		check_path("certificate-authority", c->ca_file);
		check_path("client-certificate", c->cert_file);
		check_path("client-key", c->key_file);
		check_path("tokenFile", c->token_file);
		FUZZ_CHECK(!!(c->cert_file || c->cert_pem) == !!(c->key_file || c->key_pem),
			   "a client certificate without its key");
	} else {
		FUZZ_CHECK(!c && e.msg, "a failed load must say why");
	}
	k8s_config_free(c);
	fo_err_clear(&e);
	return 0;
}
