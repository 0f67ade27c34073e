/*
 * SSH host key checking against an OpenSSH known_hosts file. libgit2 1.5
 * hands the certificate callback the server's raw key and checks nothing
 * itself, so flinkops does what `ssh -o StrictHostKeyChecking=yes` does: a
 * key listed for the host is accepted, another key of the same type for the
 * host is a changed key (always refused), and a host with no line is
 * unknown. Pure text processing; the caller reads the file.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/base64.h"
#include "lib/util.h"
#include "sync/sync.h"

/* OpenSSH's patterns: '*' and '?' are wildcards, every other byte (also
 * '[' of "[host]:port") stands for itself; host names compare without case.
 * Iterative, remembering only the last '*': a failed match backs up to that
 * star and lets it swallow one more byte, so the cost is at most
 * pattern length x name length, never exponential in the number of stars. */
static bool wild_match(const char *p, size_t plen, const char *s)
{
	size_t pi = 0, star = (size_t)-1;
	const char *s_at_star = NULL;
	while (*s) {
		if (pi < plen && p[pi] == '*') {
			star = pi++;
			s_at_star = s;
		} else if (pi < plen && (p[pi] == '?' ||
					 tolower((unsigned char)p[pi]) == tolower((unsigned char)*s))) {
			pi++;
			s++;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			s = ++s_at_star;
		} else {
			return false;
		}
	}
	while (pi < plen && p[pi] == '*')
		pi++;
	return pi == plen;
}

/* One host pattern (no commas) against the name as known_hosts spells it. */
static bool pattern_matches(const char *pat, size_t plen, const char *name)
{
	if (plen > 3 && strncmp(pat, "|1|", 3) == 0) {
		/* hashed: |1|base64(salt)|base64(HMAC-SHA1(salt, name)) */
		const char *salt = pat + 3;
		const char *bar = memchr(salt, '|', plen - 3);
		if (!bar)
			return false;
		char *s = NULL, *h = NULL;
		size_t slen = 0, hlen = 0;
		bool ok = false;
		if (fo_base64_decode(salt, (size_t)(bar - salt), &s, &slen) == 0 &&
		    fo_base64_decode(bar + 1, (size_t)(pat + plen - bar - 1), &h, &hlen) == 0) {
			unsigned char md[EVP_MAX_MD_SIZE];
			unsigned int mdlen = 0;
			if (HMAC(EVP_sha1(), s, (int)slen, (const unsigned char *)name, strlen(name), md, &mdlen) &&
			    mdlen == hlen && memcmp(md, h, hlen) == 0)
				ok = true;
		}
		free(s);
		free(h);
		return ok;
	}
	return wild_match(pat, plen, name);
}

/* 1: the comma-separated list matches, 0: it does not, -1: a negation matched. */
static int host_list_matches(const char *list, size_t len, const char *name)
{
	int result = 0;
	const char *p = list, *end = list + len;
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *q = comma ? comma : end;
		bool neg = *p == '!';
		const char *s = neg ? p + 1 : p;
		if (q > s && pattern_matches(s, (size_t)(q - s), name)) {
			if (neg)
				return -1;
			result = 1;
		}
		p = comma ? comma + 1 : end;
	}
	return result;
}

/* Next whitespace-separated field of [*p, end). */
static bool next_field(const char **p, const char *end, const char **f, size_t *flen)
{
	const char *s = *p;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s >= end)
		return false;
	const char *t = s;
	while (t < end && *t != ' ' && *t != '\t')
		t++;
	*f = s;
	*flen = (size_t)(t - s);
	*p = t;
	return true;
}

static bool field_eq(const char *f, size_t flen, const char *s)
{
	return strlen(s) == flen && memcmp(f, s, flen) == 0;
}

enum sync_host_key sync_known_hosts_check(const char *text, size_t len, const char *host, int port,
					  const char *keytype, const char *key_b64)
{
	char *name = port > 0 && port != 22 ? fo_asprintf("[%s]:%d", host, port) : fo_strdup(host);
	/* The whole file is read before deciding: a revoked key is refused
	 * wherever its @revoked line stands, also after a line that lists it. */
	bool listed = false, other_key = false, revoked_key = false;
	const char *p = text, *end = text + len;
	while (p < end && !revoked_key) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *q = p;
		p = nl ? nl + 1 : end;
		const char *f;
		size_t flen;
		if (!next_field(&q, le, &f, &flen) || f[0] == '#')
			continue;
		bool revoked = false;
		if (f[0] == '@') {
			if (!field_eq(f, flen, "@revoked"))
				continue; /* @cert-authority: certificates are not supported */
			revoked = true;
			if (!next_field(&q, le, &f, &flen))
				continue;
		}
		const char *hosts = f;
		size_t hlen = flen;
		const char *kt, *kb;
		size_t ktlen, kblen;
		if (!next_field(&q, le, &kt, &ktlen) || !next_field(&q, le, &kb, &kblen))
			continue;
		if (kblen > 0 && kb[kblen - 1] == '\r')
			kblen--;
		if (host_list_matches(hosts, hlen, name) != 1)
			continue;
		bool same_type = field_eq(kt, ktlen, keytype);
		bool same_key = same_type && field_eq(kb, kblen, key_b64);
		if (revoked)
			revoked_key = same_key;
		else if (same_key)
			listed = true;
		else if (same_type)
			other_key = true; /* a changed key, unless another line lists this one (key rotation) */
	}
	free(name);
	if (revoked_key)
		return SYNC_HOST_KEY_CHANGED;
	if (listed)
		return SYNC_HOST_KEY_KNOWN;
	return other_key ? SYNC_HOST_KEY_CHANGED : SYNC_HOST_KEY_UNKNOWN;
}
