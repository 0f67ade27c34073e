/*
 * Fuzz target "webhook": a webhook request as the agent's endpoint hands it
 * to agent_webhook_check — headers and the raw body. The first byte picks
 * the provider's headers (GitHub, Gitea, Forgejo, GitLab, generic, SHA-1
 * only, none) and the event (push, ping, another); the second whether the
 * signature is the right HMAC-SHA256 of the body (computed here, so that the
 * fuzzer reaches the event and branch handling behind the check) or bytes
 * of the input; the rest is the body. Beyond no crash, leak or undefined
 * behaviour: a request without the right signature is always 401 and never
 * asks for a pass; SHA-1 alone is 401; only 200, 202, 400 and 401 are
 * answered; a pass is asked for only with 202, and only for a push whose
 * "ref" is refs/heads/main (or a generic hook that names no ref).
 */
#include "tests/fuzz/fuzz.h"

#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "agent/daemon.h"

#define SECRET "fuzz-webhook-secret"

typedef struct request {
	const char *names[3];
	const char *values[3];
} request;

static const char *header(void *arg, const char *name)
{
	const request *r = arg;
	for (int i = 0; i < 3; i++)
		if (r->names[i] && strcasecmp(r->names[i], name) == 0)
			return r->values[i];
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned provider = data[0] % 7, event = (data[0] / 7) % 3;
	bool right = data[1] & 1;
	const char *body = (const char *)data + 2;
	size_t len = size - 2;

	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)body, len, mac, &maclen);
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	for (unsigned i = 0; i < maclen; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	/* a wrong signature: the input's own bytes, as hex of the same length */
	char wrong[2 * EVP_MAX_MD_SIZE + 1];
	for (unsigned i = 0; i < maclen; i++)
		snprintf(wrong + 2 * i, 3, "%02x", (unsigned)(data[1] ^ (i < len ? (uint8_t)body[i] : 0)));
	const char *sig = right ? hex : wrong;
	bool sig_right = right || strcmp(wrong, hex) == 0;
	char *prefixed = fo_asprintf("sha256=%s", sig);
	static const char *const events[][3] = {
		{"push", "ping", "issues"},          /* GitHub, Gitea, Forgejo, generic */
		{"Push Hook", "System Hook", "Tag Push Hook"}, /* GitLab */
	};
	request r = {{NULL, NULL, NULL}, {NULL, NULL, NULL}};
	switch (provider) {
	case 0: r.names[0] = "X-Hub-Signature-256"; r.values[0] = prefixed; r.names[1] = "X-GitHub-Event"; break;
	case 1: r.names[0] = "X-Gitea-Signature"; r.values[0] = sig; r.names[1] = "X-Gitea-Event"; break;
	case 2: r.names[0] = "X-Forgejo-Signature"; r.values[0] = sig; r.names[1] = "X-Forgejo-Event"; break;
	case 3:
		r.names[0] = "X-Gitlab-Token";
		r.values[0] = right ? SECRET : sig;
		sig_right = right;
		r.names[1] = "X-Gitlab-Event";
		break;
	case 4: r.names[0] = "X-Flinkops-Signature-256"; r.values[0] = prefixed; r.names[1] = "X-Flinkops-Event"; break;
	case 5: r.names[0] = "X-Hub-Signature"; r.values[0] = "sha1=0123"; sig_right = false; break;
	default: sig_right = false; break;
	}
	if (r.names[1])
		r.values[1] = events[provider == 3][event];

	agent_hook_verdict v;
	agent_webhook_check(SECRET, strlen(SECRET), "main", header, &r, body, len, &v);
	FUZZ_CHECK(v.code == 200 || v.code == 202 || v.code == 400 || v.code == 401, "answered %d", v.code);
	FUZZ_CHECK(v.why && !strstr(v.why, SECRET), "the answer's phrase");
	if (!sig_right)
		FUZZ_CHECK(v.code == 401 && !v.pass, "provider %u without the right signature: %d, pass %d", provider,
			   v.code, v.pass);
	if (v.pass) {
		/* a push to main, or a generic hook that names no ref (any change) */
		cJSON *doc = cJSON_ParseWithLength(body, len);
		const cJSON *ref = cJSON_GetObjectItemCaseSensitive(doc, "ref");
		bool main_push = cJSON_IsString(ref) && strcmp(ref->valuestring, "refs/heads/main") == 0;
		bool generic_any = provider == 4 && !cJSON_IsString(ref);
		cJSON_Delete(doc);
		FUZZ_CHECK(v.code == 202 && (main_push || generic_any), "a pass without a push to main");
	}
	free(prefixed);
	return 0;
}
