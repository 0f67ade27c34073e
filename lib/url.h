/*
 * URLs in messages. A URL can carry secrets in three places: the user info
 * (https://user:password@host, or a token given as the user name), the
 * query (presigned object-store URLs: ?X-Amz-Signature=...) and, now and
 * then, the fragment. Every error and log line that shows a URL shows
 * fo_url_redact() of it, and refusals of credentials in configured URLs
 * use fo_url_userinfo(), so that there is one reading of where a URL's
 * user info ends. Inputs are often malformed (no scheme, scp-like git
 * addresses, '@' in a path, IPv6 hosts), and a malformed URL is read the
 * way that hides more.
 */
#ifndef FO_URL_H
#define FO_URL_H

#include "lib/util.h"

/*
 * A copy of `url` fit for a message: the user info becomes "***"
 * ("user:pw@host/x" shows as "***@host/x"), a query "?***" (the fragment after it is left
 * out), a fragment alone "#***", and control characters are %-escaped so
 * that a URL cannot start a log line of its own. NULL gives "". Caller frees.
 */
char *fo_url_redact(const char *url);

enum fo_url_userinfo {
	FO_URL_NO_USERINFO,
	FO_URL_USER,     /* a user name only: ssh://git@host/repo */
	FO_URL_PASSWORD, /* user:password@ (the password may be empty) */
};

/* What user info `url` holds, read as fo_url_redact reads it. */
enum fo_url_userinfo fo_url_userinfo(const char *url);

/*
 * `url` without the password of its user info ("https://user@host/x"), all
 * else kept: a key for things that must outlive a password change. Caller
 * frees.
 */
char *fo_url_without_password(const char *url);

/*
 * A copy of `msg` (text from a library that may quote the URL) with every
 * occurrence of the password and the query of `url` replaced by "***".
 * Caller frees.
 */
char *fo_url_scrub(const char *msg, const char *url);

#endif
