/*
 * Jar delivery into a local cache. See jar.h. The network part is one
 * conditional GET through lib/http (SigV4-signed for s3://); everything
 * that decides names and messages is a pure function the unit tests call.
 */
#include "flink/jar.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/http.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/url.h"

#define DEFAULT_TIMEOUT_MS 600000L
#define DEFAULT_CONNECT_TIMEOUT_MS FLINK_JAR_CONNECT_TIMEOUT_MS
/* A download that receives nothing for this long is dead, however long its deadline. */
#define DEFAULT_STALL_TIMEOUT_MS FLINK_JAR_STALL_TIMEOUT_MS
#define DEFAULT_MAX_BYTES (1ull << 30)
#define NAME_MAX_LEN 100
#define KEY_MAX_LEN 1024
#define SECRET_FILE_MAX 4096
#define ETAG_MAX 512
/* How much of an error body is read back for its message. */
#define ERROR_BODY_MAX 8192

/* ---- URIs ---- */

void flink_jar_uri_free(flink_jar_uri *u)
{
	if (!u)
		return;
	free(u->bucket);
	free(u->key);
	free(u->path);
	free(u->name);
	memset(u, 0, sizeof(*u));
}

/* A safe file name from the last part of `path` (up to '?' or '#'). */
static char *jar_name(const char *path)
{
	size_t end = strcspn(path, "?#");
	size_t start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	fo_buf b = FO_BUF_INIT;
	for (size_t i = start; i < end && b.len < NAME_MAX_LEN; i++) {
		char ch = path[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
			  ch == '_' || (ch == '.' && b.len > 0);
		fo_buf_putc(&b, ok ? ch : '_');
	}
	if (b.len == 0)
		fo_buf_puts(&b, "job");
	if (!fo_has_suffix(fo_buf_cstr(&b), ".jar"))
		fo_buf_puts(&b, ".jar");
	return fo_buf_detach(&b);
}

static bool valid_bucket(const char *b, size_t n)
{
	if (n < 3 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = b[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-'))
			return false;
	}
	return b[0] != '.' && b[0] != '-' && b[n - 1] != '.' && b[n - 1] != '-';
}

/* `shown` is the URI as messages show it (see lib/url.h). */
static int parse_uri(const char *uri, const char *shown, flink_jar_uri *out, fo_err *e)
{
	if (fo_has_prefix(uri, "s3://")) {
		const char *b = uri + 5;
		const char *slash = strchr(b, '/');
		size_t bl = slash ? (size_t)(slash - b) : strlen(b);
		if (fo_url_userinfo(uri) != FO_URL_NO_USERINFO)
			return fo_err_set(e, FO_EINVAL, "jar URI %s: credentials in the URI are not supported (they would "
					  "show in logs); give them as files or in the environment", shown);
		if (!valid_bucket(b, bl))
			return fo_err_set(e, FO_EINVAL, "jar URI %s: \"%.*s\" is not an S3 bucket name", shown, (int)bl, b);
		if (!slash || !slash[1])
			return fo_err_set(e, FO_EINVAL, "jar URI %s: no object key after the bucket", shown);
		const char *key = slash + 1;
		if (strlen(key) > KEY_MAX_LEN)
			return fo_err_set(e, FO_EINVAL, "jar URI %s: the key is longer than %d bytes", shown, KEY_MAX_LEN);
		/* as in any URI, '?' would start a query: what follows is no part of the key to a reader */
		if (strpbrk(key, "?#"))
			return fo_err_set(e, FO_EINVAL, "jar URI %s: a key without '?' or '#'", shown);
		out->scheme = FLINK_JAR_S3;
		out->bucket = fo_strndup(b, bl);
		out->key = fo_strdup(key);
		out->name = jar_name(key);
		return 0;
	}
	bool https = fo_has_prefix(uri, "https://");
	if (https || fo_has_prefix(uri, "http://")) {
		const char *host = uri + (https ? 8 : 7);
		size_t hl = strcspn(host, "/?#");
		if (hl == 0)
			return fo_err_set(e, FO_EINVAL, "jar URI %s: no host", shown);
		if (fo_url_userinfo(uri) != FO_URL_NO_USERINFO)
			return fo_err_set(e, FO_EINVAL, "jar URI %s: credentials in the URI are not supported (they would "
					  "show in logs)", shown);
		if (strchr(uri, ' '))
			return fo_err_set(e, FO_EINVAL, "jar URI %s: spaces must be percent-encoded", shown);
		const char *path = host + hl;
		if (*path != '/' || !path[1] || path[1] == '?' || path[1] == '#')
			return fo_err_set(e, FO_EINVAL, "jar URI %s: no path to a file", shown);
		out->scheme = https ? FLINK_JAR_HTTPS : FLINK_JAR_HTTP;
		out->name = jar_name(path);
		return 0;
	}
	bool local = fo_has_prefix(uri, "local:");
	if (local || fo_has_prefix(uri, "file:")) {
		const char *p = uri + (local ? 6 : 5);
		if (fo_has_prefix(p, "//")) {
			p += 2;
			if (fo_has_prefix(p, "localhost/"))
				p += 9;
			else if (*p != '/')
				return fo_err_set(e, FO_EINVAL, "jar URI %s: only local paths (%s:///path)", shown,
						  local ? "local" : "file");
		}
		if (*p != '/' || !p[1])
			return fo_err_set(e, FO_EINVAL, "jar URI %s: give an absolute path (%s:///path/to/job.jar)", shown,
					  local ? "local" : "file");
		if (strpbrk(p, "?#"))
			return fo_err_set(e, FO_EINVAL, "jar URI %s: a path without '?' or '#'", shown);
		out->scheme = local ? FLINK_JAR_LOCAL : FLINK_JAR_FILE;
		out->path = fo_strdup(p);
		out->name = jar_name(p);
		return 0;
	}
	const char *colon = strchr(shown, ':');
	return fo_err_set(e, FO_EINVAL, "jar URI %s: unsupported scheme \"%.*s\" (s3, https, http, file, local)", shown,
			  colon ? (int)(colon - shown) : 0, shown);
}

int flink_jar_uri_parse(const char *uri, flink_jar_uri *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	if (!uri || !*uri)
		return fo_err_set(e, FO_EINVAL, "jar URI: empty");
	if (strlen(uri) > 4096)
		return fo_err_set(e, FO_EINVAL, "jar URI: longer than 4096 bytes");
	if (fo_has_ctl(uri))
		return fo_err_set(e, FO_EINVAL, "jar URI: control characters");
	char *shown = fo_url_redact(uri);
	int rc = parse_uri(uri, shown, out, e);
	free(shown);
	return rc;
}

char *flink_jar_cache_dir(const char *cache_dir, const char *uri)
{
	char *h = fo_sha256_hex(uri, strlen(uri));
	char *out = fo_asprintf("%s/%.32s", cache_dir, h);
	free(h);
	return out;
}

char *flink_jar_cache_path(const char *cache_dir, const char *uri, const char *version, const char *name)
{
	char *dir = flink_jar_cache_dir(cache_dir, uri);
	char *v = fo_sha256_hex(version, strlen(version));
	char *out = fo_asprintf("%s/%.16s/%s", dir, v, name);
	free(v);
	free(dir);
	return out;
}

char *flink_jar_s3_key_escape(const char *key)
{
	fo_buf b = FO_BUF_INIT;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		unsigned char ch = *p;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		    ch == '_' || ch == '.' || ch == '~' || ch == '/')
			fo_buf_putc(&b, (char)ch);
		else
			fo_buf_printf(&b, "%%%02X", ch);
	}
	return fo_buf_detach(&b);
}

/* The text between <tag> and </tag>, bounded and made printable; NULL when absent. */
static char *xml_field(const char *body, const char *tag, size_t max)
{
	if (!body)
		return NULL;
	char *open = fo_asprintf("<%s>", tag);
	char *close = fo_asprintf("</%s>", tag);
	char *out = NULL;
	const char *s = strstr(body, open);
	if (s) {
		s += strlen(open);
		const char *end = strstr(s, close);
		if (end && end > s) {
			size_t n = (size_t)(end - s);
			size_t keep = fo_utf8_cut(s, n, max);
			fo_buf b = FO_BUF_INIT;
			for (size_t i = 0; i < keep; i++) {
				unsigned char ch = (unsigned char)s[i];
				fo_buf_putc(&b, ch < 0x20 || ch == 0x7f ? ' ' : (char)ch);
			}
			if (n > max)
				fo_buf_puts(&b, "...");
			out = fo_buf_detach(&b);
		}
	}
	free(open);
	free(close);
	return out;
}

int flink_jar_s3_error(long status, const char *body, const char *bucket, const char *key, const char *endpoint,
		       bool signed_request, fo_err *e)
{
	int code;
	const char *what, *hint = "";
	switch (status) {
	case 301:
	case 307:
		code = FO_EINVAL;
		what = "the bucket is in another region or endpoint";
		hint = "; set the S3 region and endpoint of the bucket";
		break;
	case 400: code = FO_EINVAL; what = "bad request"; break;
	case 401:
	case 403:
		code = status == 401 ? FO_EAUTH : FO_EFORBIDDEN;
		what = "access denied";
		hint = signed_request ? "; check the S3 access key and secret (AWS_ACCESS_KEY_ID and "
					"AWS_SECRET_ACCESS_KEY or the key files) and that they may read this object"
				      : "; no S3 credentials were given: set AWS_ACCESS_KEY_ID and "
					"AWS_SECRET_ACCESS_KEY or name the key files";
		break;
	case 404: code = FO_ENOTFOUND; what = "no such bucket or key"; break;
	default:
		code = status >= 500 ? FO_ESERVER : FO_EINVAL;
		what = status >= 500 ? "the server failed" : "unexpected answer";
		break;
	}
	char *s3code = xml_field(body, "Code", 64);
	char *msg = xml_field(body, "Message", 300);
	char *ep = fo_url_redact(endpoint);
	fo_err_set(e, code, "s3://%s/%s at %s: %s (HTTP %ld%s%s%s%s)%s", bucket, key, ep, what, status,
		   s3code ? " " : "", s3code ? s3code : "", msg ? ": " : "", msg ? msg : "", hint);
	free(ep);
	free(s3code);
	free(msg);
	return code;
}

/* ---- local files ---- */

static int mkdirs(const char *path, fo_err *e)
{
	char *p = fo_strdup(path);
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char saved = *s;
			*s = '\0';
			if (mkdir(p, 0755) != 0 && errno != EEXIST) {
				rc = fo_err_set(e, FO_EIO, "%s: cannot create: %s", p, strerror(errno));
				break;
			}
			*s = saved;
			if (!saved)
				break;
		}
	}
	free(p);
	if (rc == 0) {
		struct stat st;
		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
			rc = fo_err_set(e, FO_EIO, "%s: not a folder", path);
	}
	return rc;
}

/* A new empty temporary file in `dir`; caller frees the name. */
static int make_temp(const char *dir, char **out, fo_err *e)
{
	char *t = fo_asprintf("%s/.download-XXXXXX", dir);
	int fd = mkstemp(t);
	if (fd < 0) {
		int rc = fo_err_set(e, FO_EIO, "%s: cannot create a temporary file: %s", dir, strerror(errno));
		free(t);
		return rc;
	}
	close(fd);
	*out = t;
	return 0;
}

static int sync_path(const char *path, bool dir, fo_err *e)
{
	int fd = open(path, (dir ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fo_err_set(e, FO_EIO, "%s: %s", path, strerror(errno));
	int rc = 0;
	if (fsync(fd) != 0 && !dir)
		rc = fo_err_set(e, FO_EIO, "%s: cannot sync: %s", path, strerror(errno));
	close(fd);
	return rc;
}

/*
 * Check a downloaded or copied file: at most `max` bytes and a zip archive
 * (a jar is one; an HTML error page from a proxy is not). With `hash`, its
 * SHA-256 in hex. `ctype`, the Content-Type it came with (may be NULL), is
 * named when the file is not a jar.
 */
static int inspect(const char *path, const char *what, uint64_t max, const char *ctype, char **hash, fo_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fo_err_set(e, FO_EIO, "%s: %s", path, strerror(errno));
	EVP_MD_CTX *md = hash ? EVP_MD_CTX_new() : NULL;
	if (md)
		EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	unsigned char buf[65536];
	unsigned char head[4] = {0};
	uint64_t total = 0;
	int rc = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = fo_err_set(e, FO_EIO, "%s: %s", path, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		for (ssize_t i = 0; i < r && total + (uint64_t)i < 4; i++)
			head[total + (uint64_t)i] = buf[i];
		total += (uint64_t)r;
		if (total > max) {
			rc = fo_err_set(e, FO_ETOOBIG, "%s: larger than %llu bytes", what, (unsigned long long)max);
			break;
		}
		if (md)
			EVP_DigestUpdate(md, buf, (size_t)r);
	}
	close(fd);
	if (rc == 0 && !(head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5) && (head[3] == 4 || head[3] == 6)))
		rc = fo_err_set(e, FO_EINVAL, "%s: not a jar (no zip header in the first bytes of %llu%s%s)", what,
				(unsigned long long)total, ctype ? ", Content-Type " : "", ctype ? ctype : "");
	if (rc == 0 && md) {
		unsigned char d[EVP_MAX_MD_SIZE];
		unsigned int dl = 0;
		EVP_DigestFinal_ex(md, d, &dl);
		fo_buf b = FO_BUF_INIT;
		for (unsigned int i = 0; i < dl; i++)
			fo_buf_printf(&b, "%02x", d[i]);
		*hash = fo_buf_detach(&b);
	}
	EVP_MD_CTX_free(md);
	return rc;
}

/* Move a checked temporary file to `dest` (its folder created), durably. */
static int install(const char *tmp, const char *dest, fo_err *e)
{
	int rc = sync_path(tmp, false, e);
	if (rc < 0)
		return rc;
	char *dir = fo_strdup(dest);
	*strrchr(dir, '/') = '\0';
	if ((rc = mkdirs(dir, e)) == 0) {
		if (rename(tmp, dest) != 0)
			rc = fo_err_set(e, FO_EIO, "%s: cannot rename into place: %s", dest, strerror(errno));
		else
			sync_path(dir, true, e);
	}
	free(dir);
	return rc;
}

static bool is_file(const char *path, uint64_t *size)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	if (size)
		*size = (uint64_t)st.st_size;
	return true;
}

/* Read a small text file (an ETag, a key) with surrounding whitespace trimmed. */
static int read_trimmed(const char *path, size_t max, char **out, fo_err *e)
{
	char *s = NULL;
	size_t n = 0;
	int rc = fo_fs_read(path, max, &s, &n, e);
	if (rc < 0)
		return rc;
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	size_t start = 0;
	while (start < n && (s[start] == ' ' || s[start] == '\t' || s[start] == '\n'))
		start++;
	memmove(s, s + start, n - start + 1);
	*out = s;
	return 0;
}

static void wipe_free(char *s)
{
	if (!s)
		return;
	volatile char *p = s;
	while (*p)
		*p++ = '\0';
	free(s);
}

static int write_small(const char *dir, const char *dest, const char *text, fo_err *e)
{
	char *tmp = NULL;
	int rc = make_temp(dir, &tmp, e);
	if (rc < 0)
		return rc;
	FILE *f = fopen(tmp, "wb");
	bool written = f && fputs(text, f) >= 0;
	/* closed once, whatever fputs did: a failed fclose has closed the stream too */
	if (f && fclose(f) != 0)
		written = false;
	if (!written) {
		rc = fo_err_set(e, FO_EIO, "%s: cannot write: %s", tmp, strerror(errno));
	} else if (rename(tmp, dest) != 0) {
		rc = fo_err_set(e, FO_EIO, "%s: cannot rename into place: %s", dest, strerror(errno));
	}
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* ---- file:// ---- */

static int copy_file(const char *src, const char *dst, uint64_t max, fo_err *e)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return fo_err_set(e, FO_EIO, "%s: %s", src, strerror(errno));
	int out = open(dst, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (out < 0) {
		int rc = fo_err_set(e, FO_EIO, "%s: %s", dst, strerror(errno));
		close(in);
		return rc;
	}
	unsigned char buf[65536];
	uint64_t total = 0;
	int rc = 0;
	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = fo_err_set(e, FO_EIO, "%s: %s", src, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		total += (uint64_t)r;
		if (total > max) {
			rc = fo_err_set(e, FO_ETOOBIG, "%s: larger than %llu bytes", src, (unsigned long long)max);
			break;
		}
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(out, buf + off, (size_t)(r - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				rc = fo_err_set(e, FO_EIO, "%s: cannot write: %s", dst, strerror(errno));
				break;
			}
			off += w;
		}
		if (rc < 0)
			break;
	}
	if (close(out) != 0 && rc == 0)
		rc = fo_err_set(e, FO_EIO, "%s: cannot write: %s", dst, strerror(errno));
	close(in);
	return rc;
}

static int fetch_file(const char *uri, const char *shown, const flink_jar_uri *u, const flink_jar_opts *o, uint64_t max,
		      flink_jar_result *out, fo_err *e)
{
	struct stat st;
	if (stat(u->path, &st) != 0)
		return fo_err_set(e, errno == ENOENT ? FO_ENOTFOUND : FO_EIO, "fetch %s: %s", shown, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fo_err_set(e, FO_EINVAL, "fetch %s: not a regular file", shown);
	if ((uint64_t)st.st_size > max)
		return fo_err_set(e, FO_ETOOBIG, "fetch %s: %llu bytes, more than the limit of %llu", shown,
				  (unsigned long long)st.st_size, (unsigned long long)max);
	out->version = fo_asprintf("%lld:%lld.%09ld", (long long)st.st_size, (long long)st.st_mtim.tv_sec,
				   st.st_mtim.tv_nsec);
	if (o->file_in_place) {
		char *what = fo_asprintf("fetch %s", shown);
		int rc = inspect(u->path, what, max, NULL, NULL, e);
		free(what);
		if (rc < 0)
			return rc;
		out->path = fo_strdup(u->path);
		out->from_cache = true;
		return 0;
	}
	char *dest = flink_jar_cache_path(o->cache_dir, uri, out->version, u->name);
	uint64_t have = 0;
	if (is_file(dest, &have) && have == (uint64_t)st.st_size) {
		out->path = dest;
		out->from_cache = true;
		return 0;
	}
	char *dir = flink_jar_cache_dir(o->cache_dir, uri);
	char *tmp = NULL;
	int rc = mkdirs(dir, e);
	if (rc == 0)
		rc = make_temp(dir, &tmp, e);
	if (rc == 0)
		rc = copy_file(u->path, tmp, max, e);
	if (rc == 0)
		rc = inspect(tmp, u->path, max, NULL, NULL, e);
	if (rc == 0)
		rc = install(tmp, dest, e);
	if (rc < 0) {
		fo_err_prefix(e, "fetch %s", shown);
		if (tmp)
			unlink(tmp);
		free(dest);
	} else {
		out->path = dest;
	}
	free(tmp);
	free(dir);
	return rc;
}

/* ---- s3://, https://, http:// ---- */

typedef struct s3_creds {
	char *access_key;
	char *secret;
	char *token;
	const char *source; /* where they came from, for hints */
} s3_creds;

static void creds_free(s3_creds *c)
{
	wipe_free(c->access_key);
	wipe_free(c->secret);
	wipe_free(c->token);
	memset(c, 0, sizeof(*c));
}

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static int load_creds(const flink_jar_opts *o, s3_creds *c, fo_err *e)
{
	memset(c, 0, sizeof(*c));
	int rc = 0;
	if (o->s3_access_key_file && (rc = read_trimmed(o->s3_access_key_file, SECRET_FILE_MAX, &c->access_key, e)) < 0)
		goto fail;
	if (o->s3_secret_key_file && (rc = read_trimmed(o->s3_secret_key_file, SECRET_FILE_MAX, &c->secret, e)) < 0)
		goto fail;
	if (o->s3_session_token_file &&
	    (rc = read_trimmed(o->s3_session_token_file, SECRET_FILE_MAX * 4, &c->token, e)) < 0)
		goto fail;
	if (!c->access_key && env_nonempty("AWS_ACCESS_KEY_ID"))
		c->access_key = fo_strdup(env_nonempty("AWS_ACCESS_KEY_ID"));
	if (!c->secret && env_nonempty("AWS_SECRET_ACCESS_KEY"))
		c->secret = fo_strdup(env_nonempty("AWS_SECRET_ACCESS_KEY"));
	if (!c->token && env_nonempty("AWS_SESSION_TOKEN"))
		c->token = fo_strdup(env_nonempty("AWS_SESSION_TOKEN"));
	if (c->access_key && !*c->access_key) {
		free(c->access_key);
		c->access_key = NULL;
	}
	if (c->secret && !*c->secret) {
		wipe_free(c->secret);
		c->secret = NULL;
	}
	if (!c->access_key != !c->secret) {
		rc = fo_err_set(e, FO_EINVAL, "S3 credentials: %s without %s", c->access_key ? "an access key" : "a secret",
				c->access_key ? "its secret (AWS_SECRET_ACCESS_KEY or the secret key file)"
					      : "an access key (AWS_ACCESS_KEY_ID or the access key file)");
		goto fail;
	}
	if (c->access_key && (fo_has_ctl(c->access_key) || strchr(c->access_key, ':'))) {
		rc = fo_err_set(e, FO_EINVAL, "S3 credentials: the access key holds a control character or ':'");
		goto fail;
	}
	if (c->token && fo_has_ctl(c->token)) {
		rc = fo_err_set(e, FO_EINVAL, "S3 credentials: the session token holds a control character");
		goto fail;
	}
	return 0;
fail:
	creds_free(c);
	return rc;
}

static int fetch_remote(const char *uri, const char *shown, const flink_jar_uri *u, const flink_jar_opts *o, uint64_t max,
			flink_jar_result *out, fo_err *e)
{
	int rc = 0;
	s3_creds creds = {0};
	char *url = NULL, *endpoint = NULL, *sigv4 = NULL, *dir = NULL, *etag_file = NULL, *old_etag = NULL;
	char *old_path = NULL, *tmp = NULL, *version = NULL, *dest = NULL, *inm = NULL;
	fo_http *h = NULL;
	fo_http_response resp = {0};
	fo_err herr = FO_ERR_INIT;
	bool s3 = u->scheme == FLINK_JAR_S3;

	if (s3) {
		const char *region = o->s3_region ? o->s3_region : env_nonempty("AWS_REGION");
		if (!region)
			region = env_nonempty("AWS_DEFAULT_REGION");
		if (!region)
			region = "us-east-1";
		const char *ep = o->s3_endpoint ? o->s3_endpoint : env_nonempty("AWS_ENDPOINT_URL_S3");
		if (!ep)
			ep = env_nonempty("AWS_ENDPOINT_URL");
		endpoint = ep ? fo_strdup(ep) : fo_asprintf("https://s3.%s.amazonaws.com", region);
		size_t el = strlen(endpoint);
		while (el && endpoint[el - 1] == '/')
			endpoint[--el] = '\0';
		if (!(fo_has_prefix(endpoint, "http://") || fo_has_prefix(endpoint, "https://")) ||
		    memchr(endpoint, '@', el) || strpbrk(endpoint, "?# ") || fo_has_ctl(endpoint) || fo_has_ctl(region) ||
		    strchr(region, ':')) {
			rc = fo_err_set(e, FO_EINVAL, "fetch %s: the S3 endpoint must be http(s)://HOST[:PORT] without "
					"credentials, and the region a plain name", shown);
			goto cleanup;
		}
		if ((rc = load_creds(o, &creds, e)) < 0) {
			fo_err_prefix(e, "fetch %s", shown);
			goto cleanup;
		}
		char *k = flink_jar_s3_key_escape(u->key);
		url = fo_asprintf("%s/%s/%s", endpoint, u->bucket, k);
		free(k);
		if (creds.access_key)
			sigv4 = fo_asprintf("aws:amz:%s:s3", region);
	} else {
		url = fo_strdup(uri);
		/* the fragment never goes to the server */
		url[strcspn(url, "#")] = '\0';
	}

	dir = flink_jar_cache_dir(o->cache_dir, uri);
	if ((rc = mkdirs(dir, e)) < 0) {
		fo_err_prefix(e, "fetch %s: the jar cache", shown);
		goto cleanup;
	}
	/* the version we have, for a conditional GET */
	etag_file = fo_asprintf("%s/etag", dir);
	fo_err ignore = FO_ERR_INIT;
	if (read_trimmed(etag_file, ETAG_MAX, &old_etag, &ignore) == 0 && *old_etag && !fo_has_ctl(old_etag)) {
		old_path = flink_jar_cache_path(o->cache_dir, uri, old_etag, u->name);
		uint64_t size = 0;
		if (!is_file(old_path, &size) || size > max) {
			free(old_path);
			old_path = NULL;
		}
	}
	fo_err_clear(&ignore);
	if ((rc = make_temp(dir, &tmp, e)) < 0)
		goto cleanup;

	fo_http_opts ho = {0};
	ho.ca_file = o->ca_file;
	ho.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	ho.connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
	ho.stall_timeout_ms = o->stall_timeout_ms > 0 ? o->stall_timeout_ms : DEFAULT_STALL_TIMEOUT_MS;
	ho.stop = o->stop;
	ho.alive = o->alive;
	if ((rc = fo_http_new(&ho, &h, e)) < 0)
		goto cleanup;
	fo_http_header hdrs[2];
	size_t nh = 0;
	if (old_path) {
		inm = fo_strdup(old_etag);
		hdrs[nh++] = (fo_http_header){"If-None-Match", inm};
	}
	if (creds.token && sigv4)
		hdrs[nh++] = (fo_http_header){"x-amz-security-token", creds.token};
	fo_http_request req = {0};
	req.method = "GET";
	req.url = url;
	req.download_to = tmp;
	req.max_bytes = (size_t)max;
	req.headers = hdrs;
	req.nheaders = nh;
	if (sigv4) {
		req.aws_sigv4 = sigv4;
		req.basic_user = creds.access_key;
		req.basic_password = creds.secret;
	}
	rc = fo_http_do(h, &req, &resp, &herr);
	if (rc < 0) {
		if (rc == FO_ETOOBIG) {
			char *url_shown = fo_url_redact(url);
			rc = fo_err_set(e, rc, "fetch %s: the jar is larger than the limit of %llu bytes (GET %s)", shown,
					(unsigned long long)max, url_shown);
			free(url_shown);
		} else {
			/* S3 redirects a request for a bucket in another region */
			bool s3_redirect = s3 && resp.status >= 300 && resp.status < 400;
			fo_err_set(e, rc, "fetch %s: %s%s", shown, fo_err_msg(&herr),
				   s3_redirect ? "; set the S3 region and endpoint of the bucket" : "");
		}
		goto cleanup;
	}
	if (resp.status == 304 && old_path) {
		out->path = old_path;
		old_path = NULL;
		out->version = old_etag;
		old_etag = NULL;
		out->from_cache = true;
		goto cleanup;
	}
	if (resp.status != 200) {
		char *body = NULL;
		fo_err ig = FO_ERR_INIT;
		int frc = fo_fs_read(tmp, ERROR_BODY_MAX, &body, NULL, &ig);
		fo_err_clear(&ig);
		if (s3) {
			rc = flink_jar_s3_error(resp.status, frc == 0 ? body : NULL, u->bucket, u->key, endpoint,
						sigv4 != NULL, e);
			char *m = fo_strdup(fo_err_msg(e));
			fo_err_set(e, rc, "fetch %s", m);
			free(m);
		} else if (resp.status >= 300 && resp.status < 400) {
			rc = fo_err_set(e, FO_EINVAL, "fetch %s: redirected (HTTP %ld); give the final URL", shown,
					resp.status);
		} else {
			rc = fo_err_set(e,
					resp.status == 404   ? FO_ENOTFOUND
					: resp.status == 401 ? FO_EAUTH
					: resp.status == 403 ? FO_EFORBIDDEN
					: resp.status >= 500 ? FO_ESERVER
							     : FO_EINVAL,
					"fetch %s: HTTP %ld", shown, resp.status);
		}
		free(body);
		goto cleanup;
	}
	char *ep_shown = s3 ? fo_url_redact(endpoint) : NULL;
	char *hash = NULL, *what = s3 ? fo_asprintf("fetch %s at %s", shown, ep_shown) : fo_asprintf("fetch %s", shown);
	free(ep_shown);
	rc = inspect(tmp, what, max, resp.content_type, resp.etag ? NULL : &hash, e);
	free(what);
	if (rc < 0)
		goto cleanup;
	/* without an ETag the content names the version: nothing to compare next time */
	bool have_etag = resp.etag && *resp.etag && strlen(resp.etag) <= ETAG_MAX && !fo_has_ctl(resp.etag);
	version = have_etag ? fo_strdup(resp.etag) : fo_asprintf("sha256:%s", hash ? hash : "");
	free(hash);
	dest = flink_jar_cache_path(o->cache_dir, uri, version, u->name);
	if ((rc = install(tmp, dest, e)) < 0) {
		fo_err_prefix(e, "fetch %s", shown);
		goto cleanup;
	}
	if (have_etag) {
		fo_err ig = FO_ERR_INIT;
		if (write_small(dir, etag_file, version, &ig) < 0)
			fo_warn("flink", "jar cache: %s", fo_err_msg(&ig));
		fo_err_clear(&ig);
	}
	out->path = dest;
	dest = NULL;
	out->version = version;
	version = NULL;

cleanup:
	if (tmp)
		unlink(tmp);
	fo_http_response_free(&resp);
	fo_err_clear(&herr);
	fo_http_free(h);
	creds_free(&creds);
	free(url);
	free(endpoint);
	free(sigv4);
	free(dir);
	free(etag_file);
	free(old_etag);
	free(old_path);
	free(tmp);
	free(version);
	free(dest);
	free(inm);
	return rc;
}

/* ---- entry points ---- */

void flink_jar_result_free(flink_jar_result *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->version);
	memset(r, 0, sizeof(*r));
}

int flink_jar_fetch_ex(const char *uri, const flink_jar_opts *opts, flink_jar_result *out, fo_err *e)
{
	memset(out, 0, sizeof(*out));
	flink_jar_uri u;
	int rc = flink_jar_uri_parse(uri, &u, e);
	if (rc < 0)
		return rc;
	/* a presigned https:// URI carries its signature in the query */
	char *shown = fo_url_redact(uri);
	flink_jar_opts o = {0};
	if (opts)
		o = *opts;
	uint64_t max = o.max_bytes ? o.max_bytes : DEFAULT_MAX_BYTES;
	if (u.scheme == FLINK_JAR_LOCAL) {
		rc = fo_err_set(e, FO_EUNSUPPORTED,
				"%s is inside the Flink image and is not fetched: the cluster runs it in application mode",
				shown);
		goto cleanup;
	}
	if (!o.cache_dir || !*o.cache_dir) {
		rc = fo_err_set(e, FO_EINVAL, "fetch %s: no jar cache folder configured", shown);
		goto cleanup;
	}
	if (u.scheme == FLINK_JAR_FILE)
		rc = fetch_file(uri, shown, &u, &o, max, out, e);
	else
		rc = fetch_remote(uri, shown, &u, &o, max, out, e);
	if (rc == 0)
		fo_debug("flink", "jar %s: %s %s", shown, out->from_cache ? "cached" : "fetched", out->path);
	if (rc == 0 && !(u.scheme == FLINK_JAR_FILE && o.file_in_place)) {
		flink_jar_cache_touch(out->path); /* used now: last in line to go */
		fo_err te = FO_ERR_INIT;
		if (o.cache_max_bytes && flink_jar_cache_trim(o.cache_dir, o.cache_max_bytes, out->path, NULL, &te) < 0)
			fo_warn("flink", "%s", fo_err_msg(&te));
		fo_err_clear(&te);
	}
cleanup:
	if (rc < 0)
		flink_jar_result_free(out);
	flink_jar_uri_free(&u);
	free(shown);
	return rc;
}

int flink_jar_fetch(const char *uri, const flink_jar_opts *opts, char **local_path, fo_err *e)
{
	*local_path = NULL;
	flink_jar_result r;
	int rc = flink_jar_fetch_ex(uri, opts, &r, e);
	if (rc == 0) {
		*local_path = r.path;
		r.path = NULL;
	}
	flink_jar_result_free(&r);
	return rc;
}
