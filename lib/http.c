/*
 * libcurl wrapper. See http.h. The handle is reset before each request and
 * its options set again, which keeps no state from one request to the next
 * (a token or a body) while curl's connection cache, owned by the handle,
 * survives the reset.
 */
#include "lib/http.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "lib/fence.h"
#include "lib/json.h"
#include "lib/url.h"

#define DEFAULT_TIMEOUT_MS 30000L
#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_MAX_BODY (64u << 20)
#define MAX_DOWNLOAD (4ull << 30)

struct fo_http {
	CURL *curl;
	fo_http_opts opts;
	char *ca_file, *ca_pem, *cert_file, *key_file, *cert_pem, *key_pem, *user_agent;
	char errbuf[CURL_ERROR_SIZE];
};

typedef struct sink {
	fo_buf *body;
	FILE *file;
	size_t limit;
	unsigned long long written;
	bool too_big;
	bool write_failed;
	bool (*on_data)(const char *p, size_t n, void *arg); /* a streamed body's reader */
	void *on_data_arg;
	bool reader_ended;                                    /* on_data said stop */
} sink;

/* What the progress callback watches during one transfer. */
typedef struct watch {
	const atomic_bool *stop;
	atomic_llong *alive;
	curl_off_t moved;  /* bytes moved either way at the last call */
	bool stopped;      /* the stop request ended the transfer */
} watch;

static char *dup_or_null(const char *s)
{
	return s ? fo_strdup(s) : NULL;
}

int fo_http_new(const fo_http_opts *opts, fo_http **out, fo_err *e)
{
	*out = NULL;
	fo_http *h = fo_calloc(1, sizeof(*h));
	h->curl = curl_easy_init();
	if (!h->curl) {
		free(h);
		return fo_err_set(e, FO_EIO, "cannot initialise libcurl");
	}
	if (opts)
		h->opts = *opts;
	/* own copies: the caller's strings may not outlive the handle */
	h->ca_file = dup_or_null(h->opts.ca_file);
	h->ca_pem = dup_or_null(h->opts.ca_pem);
	h->cert_file = dup_or_null(h->opts.cert_file);
	h->key_file = dup_or_null(h->opts.key_file);
	h->cert_pem = dup_or_null(h->opts.cert_pem);
	h->key_pem = dup_or_null(h->opts.key_pem);
	h->user_agent = h->opts.user_agent ? fo_strdup(h->opts.user_agent) : fo_strdup("flinkops/" FO_VERSION);
	if (!h->opts.timeout_ms)
		h->opts.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (!h->opts.connect_timeout_ms)
		h->opts.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	if (!h->opts.max_response_bytes)
		h->opts.max_response_bytes = DEFAULT_MAX_BODY;
	*out = h;
	return 0;
}

void fo_http_free(fo_http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	free(h->ca_file);
	free(h->ca_pem);
	free(h->cert_file);
	free(h->key_file);
	free(h->cert_pem);
	free(h->key_pem);
	free(h->user_agent);
	free(h);
}

void fo_http_set_watch(fo_http *h, const atomic_bool *stop, atomic_llong *alive)
{
	h->opts.stop = stop;
	h->opts.alive = alive;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	sink *s = arg;
	size_t len = size * n;
	if (s->on_data) {
		s->written += len;
		if (!s->on_data(data, len, s->on_data_arg)) {
			s->reader_ended = true;
			return 0;
		}
		return len;
	}
	if (s->written + len > s->limit) {
		s->too_big = true;
		return 0;
	}
	s->written += len;
	if (s->file) {
		if (fwrite(data, 1, len, s->file) != len) {
			s->write_failed = true;
			return 0;
		}
	} else {
		fo_buf_put(s->body, data, len);
	}
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	fo_http_response *r = arg;
	size_t len = size * n;
	if (len > 5 && strncasecmp(data, "etag:", 5) == 0) {
		const char *v = data + 5;
		size_t vl = len - 5;
		while (vl && (*v == ' ' || *v == '\t')) {
			v++;
			vl--;
		}
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		free(r->etag);
		r->etag = fo_strndup(v, vl);
	}
	return len;
}

static void set_blob(CURL *c, CURLoption opt, const char *pem)
{
	struct curl_blob blob;
	blob.data = (void *)pem;
	blob.len = strlen(pem);
	blob.flags = CURL_BLOB_COPY;
	curl_easy_setopt(c, opt, &blob);
}

/* The stall bound of a request: its own, else the handle's. */
static long stall_ms(const fo_http *h, const fo_http_request *req)
{
	return req->stall_timeout_ms > 0 ? req->stall_timeout_ms : h->opts.stall_timeout_ms;
}

/* LOW_SPEED_TIME counts whole seconds. */
static long stall_seconds(const fo_http *h, const fo_http_request *req)
{
	return (stall_ms(h, req) + 999) / 1000;
}

/* libcurl calls this about once a second while it waits and whenever
 * bytes move: a transfer that moves shows it is alive, and the stop
 * request ends it (a non-zero return: CURLE_ABORTED_BY_CALLBACK). */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal;
	(void)ultotal;
	watch *w = arg;
	if (w->stop && atomic_load(w->stop)) {
		w->stopped = true;
		return 1;
	}
	if (w->alive && dlnow + ulnow != w->moved) {
		w->moved = dlnow + ulnow;
		atomic_store(w->alive, (long long)fo_mono_ms());
	}
	return 0;
}

/* A copy of at most `max` bytes of `s` with control characters made spaces. */
static char *printable(const char *s, size_t max)
{
	fo_buf b = FO_BUF_INIT;
	size_t n = strlen(s);
	for (size_t i = 0; i < n && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];
		fo_buf_putc(&b, ch < 0x20 || ch == 0x7f ? ' ' : (char)ch);
	}
	if (n > max)
		fo_buf_puts(&b, "...");
	return fo_buf_detach(&b);
}

/* The error for a transfer that did not complete: what curl saw, said for a person. */
static int transfer_error(const fo_http *h, const fo_http_request *req, const char *method, CURLcode cc,
			  const sink *s, const watch *w, long status, fo_err *e)
{
	char *url = fo_url_redact(req->url);
	/* curl's own text may quote the URL: keep out what the redaction hides */
	char *why = fo_url_scrub(h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc), req->url);
	long timeout = req->timeout_ms ? req->timeout_ms : h->opts.timeout_ms;
	int rc;
	if (cc == CURLE_ABORTED_BY_CALLBACK && w->stopped) {
		rc = fo_err_set(e, FO_ESTOPPED, "%s %s: interrupted by stop request (%llu bytes received)", method, url,
				s->written);
	} else if (s->reader_ended) {
		rc = fo_err_set(e, FO_ESTOPPED, "%s %s: ended by its reader (%llu bytes received)", method, url,
				s->written);
	} else if (s->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		rc = fo_err_set(e, FO_ETOOBIG, "%s %s: the response body is larger than %zu bytes (the limit)", method,
				url, s->limit);
	} else if (s->write_failed) {
		rc = fo_err_set(e, FO_EIO, "%s %s: cannot write %s", method, url, req->download_to);
	} else if (cc == CURLE_OPERATION_TIMEDOUT) {
		/* curl ends a transfer with the same code for the deadline and for
		 * the low-speed (stall) check; its text tells them apart, where
		 * comparing our own clock with the deadline races with curl's */
		bool stalled = stall_ms(h, req) > 0 && strstr(h->errbuf, "too slow") != NULL;
		if (stalled && status > 0)
			rc = fo_err_set(e, FO_ETIMEOUT, "%s %s: the body stalled: nothing came for %ld s (HTTP %ld, %llu bytes "
					"received)", method, url, stall_seconds(h, req), status, s->written);
		else if (stalled)
			rc = fo_err_set(e, FO_ETIMEOUT, "%s %s: no answer: nothing came for %ld s", method, url,
					stall_seconds(h, req));
		else if (status > 0)
			rc = fo_err_set(e, FO_ETIMEOUT, "%s %s: HTTP %ld came, but the body did not finish within %ld ms "
					"(%llu bytes received)", method, url, status, timeout, s->written);
		else
			rc = fo_err_set(e, FO_ETIMEOUT, "%s %s: no answer within %ld ms", method, url, timeout);
	} else if (cc == CURLE_PARTIAL_FILE) {
		curl_off_t len = -1;
		curl_easy_getinfo(h->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
		if (len >= 0)
			rc = fo_err_set(e, FO_ENET, "%s %s: the connection closed after %llu of %lld bytes of the body",
					method, url, s->written, (long long)len);
		else
			rc = fo_err_set(e, FO_ENET, "%s %s: the connection closed after %llu bytes of the body, before its end",
					method, url, s->written);
	} else if (cc == CURLE_PEER_FAILED_VERIFICATION) {
		/* not worth a retry: the same certificate comes back */
		rc = fo_err_set(e, FO_EREFUSED, "%s %s: %s; the server's TLS certificate is not valid for this host name "
				"or not signed by a trusted CA: check the server address and the CA file", method, url, why);
	} else {
		rc = fo_err_set(e, FO_ENET, "%s %s: %s", method, url, why);
	}
	free(why);
	free(url);
	return rc;
}

static bool is_json_type(const char *ct)
{
	while (*ct == ' ' || *ct == '\t')
		ct++;
	size_t n = strcspn(ct, "; \t");
	return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
	       (n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0);
}

int fo_http_expect_json(const fo_http_response *r, const char *method, const char *url, fo_err *e)
{
	if (!r->content_type || !*r->content_type || is_json_type(r->content_type))
		return 0;
	char *u = fo_url_redact(url);
	char *start = printable(fo_buf_cstr(&r->body), 80);
	int rc = fo_err_set(e, FO_ESERVER, "%s %s: expected JSON, got %s (HTTP %ld): \"%s\"", method, u,
			    r->content_type, r->status, start);
	free(start);
	free(u);
	return rc;
}

static const char *empty_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

int fo_http_do(fo_http *h, const fo_http_request *req, fo_http_response *resp, fo_err *e)
{
	memset(resp, 0, sizeof(*resp));
	CURL *c = h->curl;
	curl_easy_reset(c);
	h->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms ? req->timeout_ms : h->opts.timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->opts.connect_timeout_ms);
	if (stall_ms(h, req) > 0) {
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, stall_seconds(h, req));
	}
	watch w = {h->opts.stop, h->opts.alive, 0, false};
	if (w.stop || w.alive) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, &w);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	curl_easy_setopt(c, CURLOPT_USERAGENT, h->user_agent);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	if (h->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
	if (h->ca_pem)
		set_blob(c, CURLOPT_CAINFO_BLOB, h->ca_pem);
	if (h->opts.insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (h->cert_file)
		curl_easy_setopt(c, CURLOPT_SSLCERT, h->cert_file);
	if (h->key_file)
		curl_easy_setopt(c, CURLOPT_SSLKEY, h->key_file);
	if (h->cert_pem) {
		set_blob(c, CURLOPT_SSLCERT_BLOB, h->cert_pem);
		curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (h->key_pem) {
		set_blob(c, CURLOPT_SSLKEY_BLOB, h->key_pem);
		curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
	}

	struct curl_slist *hdrs = NULL;
	char *auth = NULL, *ct = NULL, *sha = NULL;
	curl_mime *mime = NULL;
	FILE *file = NULL;
	int rc = 0;

	const char *method = req->method ? req->method : "GET";
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(method, "POST") == 0 && req->multipart_file) {
		mime = curl_mime_init(c);
		curl_mimepart *part = curl_mime_addpart(mime);
		curl_mime_name(part, req->multipart_field ? req->multipart_field : "file");
		if (curl_mime_filedata(part, req->multipart_file) != CURLE_OK) {
			rc = fo_err_set(e, FO_EIO, "%s: cannot read for upload", req->multipart_file);
			goto cleanup;
		}
		curl_mime_type(part, "application/java-archive");
		curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		if (strcmp(method, "DELETE") != 0 || req->body) {
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
		}
	}
	if (req->content_type) {
		ct = fo_asprintf("Content-Type: %s", req->content_type);
		hdrs = curl_slist_append(hdrs, ct);
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	/* no "Expect: 100-continue" round trip before bodies; not with SigV4, where
	 * curl 7.88 signs the empty header it then leaves out, and S3 refuses the
	 * signature */
	if (!req->aws_sigv4)
		hdrs = curl_slist_append(hdrs, "Expect:");
	if (req->bearer_token) {
		auth = fo_asprintf("Authorization: Bearer %s", req->bearer_token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	if (req->basic_user) {
		curl_easy_setopt(c, CURLOPT_USERNAME, req->basic_user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, req->basic_password ? req->basic_password : "");
	}
	if (req->aws_sigv4) {
		curl_easy_setopt(c, CURLOPT_AWS_SIGV4, req->aws_sigv4);
		/* curl 7.88 signs the payload hash but does not send it; S3 wants it */
		char *hash = req->body ? fo_sha256_hex(req->body, req->body_len) : NULL;
		sha = fo_asprintf("x-amz-content-sha256: %s", hash ? hash : empty_sha256);
		free(hash);
		hdrs = curl_slist_append(hdrs, sha);
	}
	for (size_t i = 0; i < req->nheaders; i++) {
		char *line = fo_asprintf("%s: %s", req->headers[i].name, req->headers[i].value);
		hdrs = curl_slist_append(hdrs, line);
		free(line);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);

	sink s = {&resp->body, NULL, h->opts.max_response_bytes, 0, false, false, req->on_data, req->on_data_arg, false};
	if (req->download_to) {
		file = fopen(req->download_to, "wb");
		if (!file) {
			rc = fo_err_set(e, FO_EIO, "%s: cannot write: %s", req->download_to, strerror(errno));
			goto cleanup;
		}
		s.file = file;
		s.limit = MAX_DOWNLOAD;
	}
	if (req->max_bytes)
		s.limit = req->max_bytes;
	/* a body that announces more than the limit is refused before it comes */
	if (!s.on_data)
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s.limit);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);

	CURLcode cc = curl_easy_perform(c);
	if (h->opts.alive) /* an answer, whatever it says: the caller is not stuck */
		atomic_store(h->opts.alive, (long long)fo_mono_ms());
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	char *ctype = NULL;
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype);
	if (ctype)
		resp->content_type = printable(ctype, 200);
	if (cc != CURLE_OK) {
		rc = transfer_error(h, req, method, cc, &s, &w, resp->status, e);
		resp->status = 0;
	} else if (resp->status >= 300 && resp->status < 400) {
		char *where = NULL;
		curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &where);
		if (where) {
			char *url = fo_url_redact(req->url), *to = fo_url_redact(where);
			rc = fo_err_set(e, FO_EINVAL, "%s %s: redirected (HTTP %ld) to %s; redirects are not followed: "
					"give the final URL", method, url, resp->status, to);
			free(url);
			free(to);
		}
	}

cleanup:
	if (file && fclose(file) != 0 && rc == 0)
		rc = fo_err_set(e, FO_EIO, "%s: cannot write: %s", req->download_to, strerror(errno));
	curl_slist_free_all(hdrs);
	curl_mime_free(mime);
	if (auth) {
		/* do not leave the token in freed memory longer than needed */
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	free(ct);
	free(sha);
	return rc;
}

void fo_http_response_free(fo_http_response *r)
{
	if (!r)
		return;
	fo_buf_free(&r->body);
	free(r->content_type);
	free(r->etag);
	r->content_type = r->etag = NULL;
}

char *fo_http_escape(const char *s)
{
	fo_buf b = FO_BUF_INIT;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
			fo_buf_putc(&b, (char)*p);
		else
			fo_buf_printf(&b, "%%%02X", *p);
	}
	return fo_buf_detach(&b);
}
