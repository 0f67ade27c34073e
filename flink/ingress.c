/*
 * spec.ingress: the host and path upstream's template names, read as
 * upstream reads it (a URL with an optional scheme and two placeholders),
 * but strictly: every part upstream would drop without a word, and every
 * host the API server would refuse, is an error here, so that `validate`
 * says what the cluster would otherwise say later or never.
 */
#include "flink/flink.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/util.h"

/* `s` with every {{name}} and {{namespace}} (any case) replaced; NULL, with
 * `e` set, when another {{...}} is left (upstream would leave it in place). */
static char *fill_placeholders(const char *s, const char *name, const char *ns, fo_err *e)
{
	fo_buf b = FO_BUF_INIT;
	while (*s) {
		if (strncasecmp(s, "{{name}}", 8) == 0) {
			fo_buf_puts(&b, name);
			s += 8;
		} else if (strncasecmp(s, "{{namespace}}", 13) == 0) {
			fo_buf_puts(&b, ns);
			s += 13;
		} else if (s[0] == '{' && s[1] == '{') {
			const char *end = strstr(s, "}}");
			int n = end ? (int)(end - s + 2) : (int)strlen(s);
			fo_err_set(e, FO_EINVAL, "\"%.*s\": only {{name}} and {{namespace}} are replaced in an ingress template", n,
				   s);
			fo_buf_free(&b);
			return NULL;
		} else {
			fo_buf_putc(&b, *s++);
		}
	}
	return fo_buf_detach(&b);
}

/* A host an Ingress rule takes: a DNS-1123 subdomain, or one after "*."
 * (a wildcard), and never an IP address. */
static bool host_ok(const char *h, fo_err *e)
{
	unsigned char addr[16];
	if (inet_pton(AF_INET, h, addr) == 1 || inet_pton(AF_INET6, h, addr) == 1)
		return fo_err_set(e, FO_EINVAL, "host \"%s\" is an IP address; an Ingress rule takes a DNS name", h), false;
	const char *dns = strncmp(h, "*.", 2) == 0 ? h + 2 : h;
	if (!flink_dns1123_subdomain(dns))
		return fo_err_set(e, FO_EINVAL,
				  "host \"%s\" is not a DNS name an Ingress rule takes: lower-case letters, digits, '-' "
				  "and '.', optionally after \"*.\"",
				  h),
		       false;
	return true;
}

int flink_ingress_url(const char *tmpl, const char *name, const char *ns, char **host, char **path, fo_err *e)
{
	*host = *path = NULL;
	char *url = fill_placeholders(tmpl, name, ns, e);
	if (!url)
		return FO_EINVAL;
	int rc = 0;
	const char *p = url;
	if (strncasecmp(p, "http://", 7) == 0)
		p += 7;
	else if (strncasecmp(p, "https://", 8) == 0)
		p += 8;
	size_t alen = strcspn(p, "/?#");
	const char *rest = p + alen;
	size_t plen = strcspn(rest, "?#");
	if (rest[plen]) {
		rc = fo_err_set(e, FO_EINVAL,
				"\"%s\" has a %s (from '%c'), which an Ingress rule has no place for (upstream drops it)",
				rest + plen, rest[plen] == '?' ? "query" : "fragment", rest[plen]);
		goto cleanup;
	}
	if (memchr(p, '@', alen)) {
		rc = fo_err_set(e, FO_EINVAL, "\"%.*s\" has user information, which an Ingress rule has no place for",
				(int)alen, p);
		goto cleanup;
	}
	if (memchr(p, ':', alen) || memchr(p, '[', alen)) {
		rc = fo_err_set(e, FO_EINVAL,
				"\"%.*s\" has a port or an IP address; an Ingress rule takes a DNS name without a port "
				"(upstream drops the port)",
				(int)alen, p);
		goto cleanup;
	}
	if (alen) {
		*host = fo_strndup(p, alen);
		if (!host_ok(*host, e)) {
			rc = FO_EINVAL;
			goto cleanup;
		}
	}
	if (plen)
		*path = fo_strndup(rest, plen);
cleanup:
	if (rc < 0) {
		free(*host);
		free(*path);
		*host = *path = NULL;
	}
	free(url);
	return rc;
}

void flink_ingress_free(flink_ingress *in)
{
	if (!in)
		return;
	free(in->template);
	free(in->host);
	free(in->path);
	free(in->class_name);
	cJSON_Delete(in->annotations);
	cJSON_Delete(in->labels);
	cJSON_Delete(in->tls);
	free(in);
}
