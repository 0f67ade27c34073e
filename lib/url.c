/*
 * Reading a URL just far enough to hide its secrets. See url.h. One split
 * (where the user info ends, where the query starts) serves every function
 * here, so redaction, refusal and scrubbing never disagree about a URL.
 */
#include "lib/url.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"

#define NONE SIZE_MAX

typedef struct url_parts {
	size_t auth;  /* where the authority starts (or the address, without a scheme) */
	size_t at;    /* the '@' that ends the user info, or NONE */
	size_t colon; /* the ':' between user and password, or NONE */
	size_t tail;  /* the '?' or '#' that starts the query or fragment, or the length */
} url_parts;

/* The scheme's length when `s` starts with one and its ':', else 0. */
static size_t scheme_len(const char *s)
{
	if (!isalpha((unsigned char)s[0]))
		return 0;
	size_t i = 1;
	while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '.' || s[i] == '-')
		i++;
	return s[i] == ':' ? i : 0;
}

/* Whether the authority s[a, e) has a ':' that cannot start a port. */
static bool bad_port(const char *s, size_t a, size_t e)
{
	if (s[a] == '[') {
		const char *rb = memchr(s + a, ']', e - a);
		if (!rb)
			return false;
		a = (size_t)(rb - s) + 1;
	}
	const char *c = memchr(s + a, ':', e - a);
	if (!c)
		return false;
	for (size_t i = (size_t)(c - s) + 1; i < e; i++)
		if (!isdigit((unsigned char)s[i]))
			return true;
	return false;
}

static void split(const char *s, url_parts *p)
{
	size_t len = strlen(s);
	size_t i = scheme_len(s);
	if (i) {
		bool file = (i == 4 && strncasecmp(s, "file", 4) == 0) || (i == 5 && strncasecmp(s, "local", 5) == 0);
		i++;
		if (file) {
			if (s[i] == '/' && s[i + 1] == '/')
				i += 2;
		} else {
			/* curl takes one to three slashes after http: */
			for (int k = 0; k < 3 && s[i] == '/'; k++)
				i++;
		}
	} else if (strncmp(s, "//", 2) == 0 || strncmp(s, "://", 3) == 0) {
		/* scheme-relative, or a scheme lost on the way */
		i = s[0] == ':' ? 3 : 2;
	}
	p->auth = i;
	size_t end = i + strcspn(s + i, "/?#");
	p->at = NONE;
	for (size_t j = i; j < end; j++)
		if (s[j] == '@')
			p->at = j;
	/* "user:pa/ss@host": the authority seems to end inside the password;
	 * a ':' that starts no port says so, and the last '@' ends it */
	if (p->at == NONE && bad_port(s, i, end)) {
		const char *last = strrchr(s + end, '@');
		if (last)
			p->at = (size_t)(last - s);
	}
	p->colon = NONE;
	if (p->at != NONE) {
		const char *c = memchr(s + i, ':', p->at - i);
		if (c)
			p->colon = (size_t)(c - s);
	}
	size_t from = p->at != NONE ? p->at + 1 : i;
	p->tail = from + strcspn(s + from, "?#");
	if (p->tail > len)
		p->tail = len;
}

/* Append s[from, to) with control characters %-escaped. */
static void put_escaped(fo_buf *b, const char *s, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			fo_buf_printf(b, "%%%02X", c);
		else
			fo_buf_putc(b, (char)c);
	}
}

char *fo_url_redact(const char *url)
{
	if (!url)
		return fo_strdup("");
	url_parts p;
	split(url, &p);
	fo_buf b = FO_BUF_INIT;
	put_escaped(&b, url, 0, p.auth);
	size_t from = p.auth;
	if (p.at != NONE) {
		fo_buf_puts(&b, "***@");
		from = p.at + 1;
	}
	put_escaped(&b, url, from, p.tail);
	if (url[p.tail] == '?')
		fo_buf_puts(&b, "?***");
	else if (url[p.tail] == '#')
		fo_buf_puts(&b, "#***");
	return fo_buf_detach(&b);
}

enum fo_url_userinfo fo_url_userinfo(const char *url)
{
	if (!url)
		return FO_URL_NO_USERINFO;
	url_parts p;
	split(url, &p);
	if (p.at == NONE)
		return FO_URL_NO_USERINFO;
	return p.colon != NONE ? FO_URL_PASSWORD : FO_URL_USER;
}

char *fo_url_without_password(const char *url)
{
	url_parts p;
	split(url, &p);
	if (p.colon == NONE)
		return fo_strdup(url);
	return fo_asprintf("%.*s%s", (int)p.colon, url, url + p.at);
}

static void replace_all(char **msg, const char *needle)
{
	size_t nl = strlen(needle);
	if (!nl || !strstr(*msg, needle))
		return;
	fo_buf b = FO_BUF_INIT;
	const char *p = *msg, *hit;
	while ((hit = strstr(p, needle)) != NULL) {
		fo_buf_put(&b, p, (size_t)(hit - p));
		fo_buf_puts(&b, "***");
		p = hit + nl;
	}
	fo_buf_puts(&b, p);
	free(*msg);
	*msg = fo_buf_detach(&b);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* s[from, to) with %XX decoded, as a library that uses the password sees it. */
static char *decoded(const char *s, size_t from, size_t to)
{
	fo_buf b = FO_BUF_INIT;
	for (size_t i = from; i < to; i++) {
		int hi, lo;
		if (s[i] == '%' && i + 2 < to && (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
			fo_buf_putc(&b, (char)(hi * 16 + lo));
			i += 2;
		} else {
			fo_buf_putc(&b, s[i]);
		}
	}
	return fo_buf_detach(&b);
}

char *fo_url_scrub(const char *msg, const char *url)
{
	char *out = fo_strdup(msg ? msg : "");
	if (!url)
		return out;
	url_parts p;
	split(url, &p);
	if (p.colon != NONE) {
		char *pw = fo_strndup(url + p.colon + 1, p.at - p.colon - 1);
		char *plain = decoded(url, p.colon + 1, p.at);
		replace_all(&out, pw);
		replace_all(&out, plain);
		explicit_bzero(pw, strlen(pw));
		explicit_bzero(plain, strlen(plain));
		free(pw);
		free(plain);
	}
	if (url[p.tail])
		replace_all(&out, url + p.tail + 1);
	return out;
}
