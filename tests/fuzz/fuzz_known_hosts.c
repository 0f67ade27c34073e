/*
 * Fuzz target "known_hosts": sync_known_hosts_check. The first line of the
 * input names what the server offers, "HOST PORT KEYTYPE KEY" (missing
 * fields keep a default); the rest is the known_hosts text. Beyond no
 * crash, leak, undefined behaviour or a slow match (libFuzzer's -timeout):
 * with a line "@revoked * KEYTYPE KEY" added at the end the answer must be
 * CHANGED (a revoked key is refused wherever it is listed), and with a line
 * "HOST KEYTYPE KEY" added at the end (for a plain host name) it must be
 * KNOWN unless the text revokes something.
 */
#include "tests/fuzz/fuzz.h"

#include "lib/buf.h"
#include "sync/sync.h"

#define DEFAULT_KEY "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"

/* The next space-separated field of the header, or `dflt`. */
static char *field(const char **p, const char *end, const char *dflt)
{
	while (*p < end && **p == ' ')
		(*p)++;
	const char *s = *p;
	while (*p < end && **p != ' ')
		(*p)++;
	return *p > s ? fo_strndup(s, (size_t)(*p - s)) : fo_strdup(dflt);
}

static bool token_ok(const char *s)
{
	return *s && !strpbrk(s, " \t\r\n");
}

static bool plain_host(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '-' || *s == '_'))
			return false;
	return true;
}

static enum sync_host_key check_with(const char *text, size_t len, const char *extra, const char *host, int port,
				     const char *kt, const char *key)
{
	fo_buf b = FO_BUF_INIT;
	fo_buf_put(&b, text, len);
	fo_buf_puts(&b, "\n");
	fo_buf_puts(&b, extra);
	enum sync_host_key r = sync_known_hosts_check(b.ptr, b.len, host, port, kt, key);
	fo_buf_free(&b);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *end = in + size;
	const char *nl = memchr(in, '\n', size);
	const char *hend = nl ? nl : end;
	if (memchr(in, '\0', (size_t)(hend - in)))
		return 0; /* names come from a URL and an SSH packet as C strings */
	const char *p = in;
	char *host = field(&p, hend, "git.example.com");
	char *port_s = field(&p, hend, "22");
	char *kt = field(&p, hend, "ssh-ed25519");
	char *key = field(&p, hend, DEFAULT_KEY);
	long port_l = strtol(port_s, NULL, 10);
	int port = port_l < 0 || port_l > 65535 ? 22 : (int)port_l; /* a URL's port */
	const char *text = nl ? nl + 1 : end;
	size_t len = (size_t)(end - text);

	enum sync_host_key r = sync_known_hosts_check(text, len, host, port, kt, key);
	FUZZ_CHECK(r == SYNC_HOST_KEY_KNOWN || r == SYNC_HOST_KEY_UNKNOWN || r == SYNC_HOST_KEY_CHANGED, "%d", (int)r);
	if (token_ok(kt) && token_ok(key)) {
		char *revoked = fo_asprintf("@revoked * %s %s\n", kt, key);
		r = check_with(text, len, revoked, host, port, kt, key);
		FUZZ_CHECK(r == SYNC_HOST_KEY_CHANGED, "a revoked key is not refused (got %d)", (int)r);
		free(revoked);
		if (plain_host(host) && !memmem(text, len, "@revoked", 8)) {
			char *line = port > 0 && port != 22 ? fo_asprintf("[%s]:%d %s %s\n", host, port, kt, key)
							    : fo_asprintf("%s %s %s\n", host, kt, key);
			r = check_with(text, len, line, host, port, kt, key);
			FUZZ_CHECK(r == SYNC_HOST_KEY_KNOWN, "a listed key is not known (got %d)", (int)r);
			free(line);
		}
	}
	free(host);
	free(port_s);
	free(kt);
	free(key);
	return 0;
}
