/*
 * Allocation and string helpers shared by every module. See util.h for why
 * allocation failure aborts.
 */
#include "lib/util.h"

#include <openssl/rand.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>

static void oom(size_t n)
{
	fprintf(stderr, "flinkops: out of memory allocating %zu bytes\n", n);
	abort();
}

void *fo_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *fo_calloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		oom(count * size);
	return p;
}

void *fo_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

void *fo_grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap;
	if (need <= c)
		return p;
	if (c == 0)
		c = 8;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			oom(SIZE_MAX);
		c *= 2;
	}
	if (size && c > SIZE_MAX / size)
		oom(SIZE_MAX);
	*cap = c;
	return fo_realloc(p, c * size);
}

char *fo_strdup(const char *s)
{
	return fo_strndup(s, strlen(s));
}

char *fo_strndup(const char *s, size_t n)
{
	char *d = fo_malloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *fo_vasprintf(const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return fo_strdup("(unformattable message)");
	char *s = fo_malloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

char *fo_asprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = fo_vasprintf(fmt, ap);
	va_end(ap);
	return s;
}

bool fo_streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

bool fo_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool fo_has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

bool fo_has_ctl(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

void fo_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int fo_random_hex(size_t nbytes, char **out)
{
	*out = NULL;
	unsigned char *raw = fo_malloc(nbytes ? nbytes : 1);
	if (RAND_bytes(raw, (int)nbytes) != 1) {
		free(raw);
		return -2; /* FO_EIO: lib/err.h depends on this file, not the other way */
	}
	char *hex = fo_malloc(2 * nbytes + 1);
	for (size_t i = 0; i < nbytes; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	hex[2 * nbytes] = '\0';
	free(raw);
	*out = hex;
	return 0;
}

size_t fo_utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	/* s[max] is the first byte left out; when it continues a character,
	 * leave out that character's first bytes too (at most 3 of them) */
	size_t n = max;
	for (int k = 0; k < 3 && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80; k++)
		n--;
	return ((unsigned char)s[n] & 0xC0) == 0x80 ? max : n;
}

bool fo_pause_ms(long ms, const atomic_bool *stop)
{
	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += (ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	for (;;) {
		if (stop && atomic_load(stop))
			return true;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long long left = (long long)(end.tv_sec - now.tv_sec) * 1000000000LL + (end.tv_nsec - now.tv_nsec);
		if (left <= 0)
			return false;
		/* a slice: without a flag to watch, the whole pause at once */
		long long slice = stop && left > 50000000LL ? 50000000LL : left;
		struct timespec ts = {(time_t)(slice / 1000000000LL), (long)(slice % 1000000000LL)};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
}

size_t fo_utf8_decode(const char *str, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)str;
	size_t n = p[0] == 0 ? 0 : p[0] < 0x80 ? 1 : p[0] >= 0xC2 && p[0] <= 0xDF ? 2
		 : p[0] >= 0xE0 && p[0] <= 0xEF ? 3 : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : 0;
	uint32_t c = n == 1 ? p[0] : n == 2 ? p[0] & 0x1Fu : n == 3 ? p[0] & 0x0Fu : p[0] & 0x07u;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			n = 0; /* also stops at the NUL */
			break;
		}
		c = (c << 6) | (p[i] & 0x3Fu);
	}
	if (n == 0 || (n == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) || (n == 4 && (c < 0x10000 || c > 0x10FFFF))) {
		*cp = 0xFFFD;
		return 0;
	}
	*cp = c;
	return n;
}

bool fo_utf8_plain_char(uint32_t c)
{
	if (c == '\t' || c == '\n')
		return true;
	return !(c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x2028 || c == 0x2029 || c == 0xFEFF || c == 0xFFFE ||
		 c == 0xFFFF);
}

char *fo_text_clean(const char *s, size_t max)
{
	size_t len = strlen(s), o = 0;
	char *out = fo_malloc(3 * len + 1); /* one byte becomes at most three (U+FFFD) */
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7F) { /* the common case first */
			out[o++] = s[i++];
			continue;
		}
		uint32_t cp;
		size_t n = fo_utf8_decode(s + i, &cp);
		if (c == '\r') {
			out[o++] = '\n';
			i += s[i + 1] == '\n' ? 2 : 1;
			continue;
		}
		if (n && fo_utf8_plain_char(cp)) {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
			continue;
		}
		memcpy(out + o, "\xef\xbf\xbd", 3);
		o += 3;
		i += n ? n : 1;
	}
	out[fo_utf8_cut(out, o, max)] = '\0';
	return out;
}

size_t fo_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return 99;
	size_t row[65];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
			size_t best = prev + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}
