/*
 * Is a webhook genuine, and does it ask for a pass? Pure: given the
 * request's headers, its raw body and the secret, the verdict. The HMAC is
 * computed over the bytes as received, before anything parses them, and
 * compared in constant time, so that neither a parser's bug nor the timing
 * of a comparison is exposed to someone without the secret.
 */
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "agent/daemon.h"

const char *agent_provider_name(enum agent_provider p)
{
	static const char *const names[] = {"unknown", "github", "gitea", "gitlab", "generic"};
	return (unsigned)p < FO_ARRAY_LEN(names) ? names[p] : "unknown";
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* `text` is exactly 64 hex digits (after `prefix`, when given) whose bytes
 * equal the HMAC-SHA256 of body under secret. */
static bool hmac_matches(const char *secret, size_t secret_len, const char *body, size_t len, const char *text,
			 const char *prefix)
{
	if (prefix) {
		size_t pl = strlen(prefix);
		if (strncmp(text, prefix, pl) != 0)
			return false;
		text += pl;
	}
	unsigned char want[SHA256_DIGEST_LENGTH];
	if (strlen(text) != 2 * sizeof(want))
		return false;
	for (size_t i = 0; i < sizeof(want); i++) {
		int hi = hexval(text[2 * i]), lo = hexval(text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		want[i] = (unsigned char)(hi << 4 | lo);
	}
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	static const unsigned char empty[1] = {0};
	if (!HMAC(EVP_sha256(), secret, (int)secret_len, len ? (const unsigned char *)body : empty, len, mac, &maclen) ||
	    maclen != sizeof(want))
		return false;
	return CRYPTO_memcmp(mac, want, sizeof(want)) == 0;
}

/* GitLab sends the secret itself: compare digests of both, so that the time
 * taken says nothing about the secret's length or its first bytes. */
static bool token_matches(const char *secret, size_t secret_len, const char *token)
{
	unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)secret, secret_len, a);
	SHA256((const unsigned char *)token, strlen(token), b);
	return CRYPTO_memcmp(a, b, sizeof(a)) == 0;
}

static int verdict(agent_hook_verdict *v, int code, bool pass, const char *why)
{
	v->code = code;
	v->pass = pass;
	v->why = why;
	return code;
}

static int decide(const char *secret, size_t secret_len, const char *branch, agent_header_fn header, void *arg,
		  const char *body, size_t len, agent_hook_verdict *v)
{
	memset(v, 0, sizeof(*v));
	const char *sig = NULL, *event = NULL, *push = "push";
	bool ok = false;
	if ((sig = header(arg, "X-Gitea-Signature")) || (sig = header(arg, "X-Forgejo-Signature"))) {
		v->provider = AGENT_HOOK_GITEA;
		event = header(arg, "X-Gitea-Event");
		if (!event)
			event = header(arg, "X-Forgejo-Event");
	} else if ((sig = header(arg, "X-Gitlab-Token"))) {
		v->provider = AGENT_HOOK_GITLAB;
		event = header(arg, "X-Gitlab-Event");
		push = "Push Hook";
	} else if ((sig = header(arg, "X-Flinkops-Signature-256"))) {
		v->provider = AGENT_HOOK_GENERIC;
		event = header(arg, "X-Flinkops-Event");
		if (!event)
			event = "push"; /* a generic sender need not name events */
	} else if ((sig = header(arg, "X-Hub-Signature-256"))) {
		v->provider = AGENT_HOOK_GITHUB;
		event = header(arg, "X-GitHub-Event");
	} else if (header(arg, "X-Hub-Signature")) {
		v->provider = AGENT_HOOK_GITHUB;
		return verdict(v, 401, false, "SHA-1 signatures (X-Hub-Signature) are refused: send X-Hub-Signature-256");
	} else {
		return verdict(v, 401, false, "no signature header");
	}
	if (!secret || !secret_len)
		return verdict(v, 401, false, "no webhook secret is configured (agent.webhookSecretFile)");
	switch (v->provider) {
	case AGENT_HOOK_GITLAB: ok = token_matches(secret, secret_len, sig); break;
	case AGENT_HOOK_GITEA: ok = hmac_matches(secret, secret_len, body, len, sig, NULL); break;
	default: ok = hmac_matches(secret, secret_len, body, len, sig, "sha256="); break;
	}
	if (!ok)
		return verdict(v, 401, false, "the signature does not match");
	/* genuine from here on: the body may be parsed */
	if (!event)
		return verdict(v, 400, false, "no event header");
	if (strcmp(event, "ping") == 0)
		return verdict(v, 200, false, "pong");
	if (strcmp(event, push) != 0)
		return verdict(v, 200, false, "not a push event: nothing to do");
	cJSON *doc = cJSON_ParseWithLength(body, len);
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(doc, "ref");
	if (!cJSON_IsString(ref)) {
		cJSON_Delete(doc);
		if (v->provider == AGENT_HOOK_GENERIC)
			return verdict(v, 202, true, "pass requested"); /* no ref: any change */
		return verdict(v, 400, false, "a push without a \"ref\"");
	}
	bool ours = fo_has_prefix(ref->valuestring, "refs/heads/") &&
		    fo_streq(ref->valuestring + strlen("refs/heads/"), branch);
	cJSON_Delete(doc);
	if (!ours)
		return verdict(v, 200, false, "a push to another branch: nothing to do");
	return verdict(v, 202, true, "pass requested");
}

void agent_webhook_check(const char *secret, size_t secret_len, const char *branch, agent_header_fn header, void *arg,
			 const char *body, size_t len, agent_hook_verdict *v)
{
	decide(secret, secret_len, branch, header, arg, body, len, v);
}
