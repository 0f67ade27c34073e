/*
 * Is a webhook genuine, and does it ask for a pass? Pure: given the
 * request's headers, its raw body and the secret, the verdict. The HMAC is
 * computed over the bytes as received, before anything parses them, and
 * compared in constant time, so that neither a parser's bug nor the timing
 * of a comparison is exposed to someone without the secret.
 */
#include <stdlib.h>
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

const char *agent_webhook_delivery(enum agent_provider p, agent_header_fn header, void *arg)
{
	const char *id = NULL;
	switch (p) {
	case AGENT_HOOK_GITHUB: id = header(arg, "X-GitHub-Delivery"); break;
	case AGENT_HOOK_GITEA:
		if (!(id = header(arg, "X-Gitea-Delivery")))
			id = header(arg, "X-Forgejo-Delivery");
		break;
	case AGENT_HOOK_GITLAB:
		/* Idempotency-Key is the same on GitLab's retries of an event */
		if (!(id = header(arg, "Idempotency-Key")))
			id = header(arg, "X-Gitlab-Event-UUID");
		break;
	case AGENT_HOOK_GENERIC: id = header(arg, "X-Flinkops-Delivery"); break;
	default: break;
	}
	return id && *id ? id : NULL;
}

/* The digest that stands for a delivery in the table: provider, what it is
 * (an id or a body), and its bytes. */
static bool seen_key(unsigned char key[SHA256_DIGEST_LENGTH], enum agent_provider p, char what, const char *data,
		     size_t len)
{
	unsigned char head[2] = {(unsigned char)p, (unsigned char)what};
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n = 0;
	bool ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) && EVP_DigestUpdate(c, head, sizeof(head)) &&
		  EVP_DigestUpdate(c, data, len) && EVP_DigestFinal_ex(c, key, &n) && n == SHA256_DIGEST_LENGTH;
	EVP_MD_CTX_free(c);
	return ok;
}

/* Whether `key` was recorded within the window before `now`. */
static bool seen_within(const agent_seen *s, const unsigned char *key, int64_t now)
{
	for (size_t i = 0; i < AGENT_SEEN_MAX; i++) {
		const struct agent_seen_entry *e = &s->v[i];
		if (e->used && now >= e->at && now - e->at < AGENT_SEEN_WINDOW_MS &&
		    memcmp(e->key, key, SHA256_DIGEST_LENGTH) == 0)
			return true;
	}
	return false;
}

static void seen_record(agent_seen *s, const unsigned char *key, int64_t now)
{
	struct agent_seen_entry *e = &s->v[s->next];
	memcpy(e->key, key, SHA256_DIGEST_LENGTH);
	e->at = now;
	e->used = true;
	s->next = (s->next + 1) % AGENT_SEEN_MAX;
}

void agent_seen_keys_make(enum agent_provider p, const char *delivery, const char *body, size_t len,
			  agent_seen_keys *k)
{
	memset(k, 0, sizeof(*k));
	/* a digest that cannot be made (out of memory) leaves that key out:
	 * a push is acted on rather than dropped */
	k->has_id = delivery && seen_key(k->id, p, 'i', delivery, strlen(delivery));
	bool by_body = p == AGENT_HOOK_GITHUB || p == AGENT_HOOK_GITEA || p == AGENT_HOOK_GITLAB;
	k->has_body = by_body && seen_key(k->body, p, 'b', body ? body : "", body ? len : 0);
}

bool agent_seen_known(agent_seen *s, const agent_seen_keys *k, int64_t now, bool record)
{
	if ((k->has_id && seen_within(s, k->id, now)) || (k->has_body && seen_within(s, k->body, now)))
		return true;
	if (record && k->has_id)
		seen_record(s, k->id, now);
	if (record && k->has_body)
		seen_record(s, k->body, now);
	return false;
}

bool agent_seen_check(agent_seen *s, enum agent_provider p, const char *delivery, const char *body, size_t len,
		      int64_t now)
{
	agent_seen_keys k;
	agent_seen_keys_make(p, delivery, body, len, &k);
	return agent_seen_known(s, &k, now, true);
}

void agent_webhook_answer(agent_hook_verdict *v, enum agent_role role, agent_seen *seen, const char *delivery,
			  const char *body, size_t len, int64_t now)
{
	if (!v->pass)
		return;
	if (role == AGENT_ROLE_STOPPING) {
		v->code = 503;
		v->pass = false;
		v->why = "shutting down: no pass starts here; redeliver, or the next agent's first pass picks the push up";
		return;
	}
	agent_seen_keys_make(v->provider, delivery, body, len, &v->keys);
	if (agent_seen_known(seen, &v->keys, now, role == AGENT_ROLE_ACTS)) {
		v->code = 200;
		v->pass = false;
		v->why = "a delivery already seen: nothing to do";
		return;
	}
	if (role == AGENT_ROLE_STANDBY) {
		/* not recorded until the Lease carries it: a failed relay is redelivered */
		v->pass = false;
		v->relay = true;
	}
}

void agent_webhook_relayed(agent_hook_verdict *v, bool recorded, agent_seen *seen, int64_t now)
{
	if (!v->relay)
		return;
	v->relay = false;
	if (!recorded) {
		v->code = 503;
		v->why = "this replica is a standby and could not record the push on the Lease for the leader: redeliver, "
			 "or the leader's next interval pass picks the push up";
		return;
	}
	agent_seen_known(seen, &v->keys, now, true);
	v->code = 202;
	v->why = "recorded on the Lease: the leader runs the pass";
}

static void hex_of(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

char *agent_sync_value(const agent_seen_keys *k, int64_t wall_ms)
{
	char id[65] = "-", body[65] = "-";
	if (k->has_id)
		hex_of(k->id, sizeof(k->id), id);
	if (k->has_body)
		hex_of(k->body, sizeof(k->body), body);
	return fo_asprintf("i%s.b%s.%lld", id, body, (long long)wall_ms);
}

/* One key of a value: "-" (none) or 64 hex digits, then `end`; *p moves past it. */
static bool key_of(const char **p, unsigned char *key, bool *has, char end)
{
	const char *s = *p;
	*has = false;
	if (s[0] == '-' && s[1] == end) {
		*p = s + 2;
		return true;
	}
	for (size_t i = 0; i < 32; i++) {
		int hi = hexval(s[2 * i]), lo = hi < 0 ? -1 : hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	if (s[64] != end)
		return false;
	*has = true;
	*p = s + 65;
	return true;
}

bool agent_sync_keys(const char *value, agent_seen_keys *k)
{
	memset(k, 0, sizeof(*k));
	const char *p = value;
	if (!p || *p++ != 'i' || !key_of(&p, k->id, &k->has_id, '.') || *p++ != 'b' ||
	    !key_of(&p, k->body, &k->has_body, '.') || !*p || strspn(p, "0123456789") != strlen(p)) {
		memset(k, 0, sizeof(*k));
		return false;
	}
	return true;
}

bool agent_sync_wake(bool leading, const char *acted, const char *observed)
{
	return leading && observed && *observed && !fo_streq(acted, observed);
}

enum agent_body_step agent_body_step(const char *content_length, bool headers_only, uint64_t have, uint64_t more,
				     uint64_t max)
{
	if (headers_only) {
		/* libmicrohttpd has refused a malformed Content-Length already */
		if (content_length && strtoull(content_length, NULL, 10) > max)
			return AGENT_BODY_REFUSE;
		return AGENT_BODY_TAKE;
	}
	/* `more` may be anything the client sent: compare without overflow */
	if (have > max || more > max - have)
		return AGENT_BODY_CLOSE;
	return AGENT_BODY_TAKE;
}

bool agent_request_expired(int64_t start_ms, int64_t now_ms, int64_t limit_ms)
{
	return now_ms - start_ms > limit_ms;
}
