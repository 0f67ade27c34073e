/*
 * HTTP over libcurl for the Kubernetes API, Flink's REST API and object
 * stores. One fo_http keeps one curl handle, so consecutive requests reuse
 * the connection (and HTTP/2 when the server offers it over TLS). Every
 * request has a deadline and every response body a size limit: a server is
 * untrusted like any other input. Credentials are passed per request and
 * never appear in errors or logs; errors show the URL as fo_url_redact
 * does (no user info, no query).
 */
#ifndef FO_HTTP_H
#define FO_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"

typedef struct fo_http fo_http;

typedef struct fo_http_opts {
	const char *ca_file;         /* PEM bundle to trust instead of the system's */
	const char *ca_pem;          /* the same, in memory */
	bool insecure;               /* skip TLS verification (only when a kubeconfig says so) */
	const char *cert_file;       /* client certificate (PEM) */
	const char *key_file;        /* its key (PEM) */
	const char *cert_pem;        /* the same two, in memory */
	const char *key_pem;
	long timeout_ms;             /* whole request (default 30 s) */
	long connect_timeout_ms;     /* default 10 s */
	long stall_timeout_ms;       /* nothing received for this long fails the request, in whole
	                                seconds, rounded up (default 0: only timeout_ms bounds it) */
	size_t max_response_bytes;   /* larger bodies fail with FO_ETOOBIG (default 64 MiB) */
	const char *user_agent;      /* default "flinkops/VERSION" */
	/* The stop request (NULL: none): once set, a transfer in flight ends
	 * within a fraction of a second with FO_ESTOPPED. Only for transfers a
	 * shutdown may cut (a jar's download, upload and run): what a stop
	 * request still needs done (journal, status, the Lease) is bounded by
	 * its timeout instead. */
	const atomic_bool *stop;
	/* Where transfers show progress (NULL: nowhere): the monotonic ms
	 * (fo_mono_ms) of the last byte moved or request completed, so that a
	 * liveness check sees a long transfer that moves as alive. */
	atomic_llong *alive;
} fo_http_opts;

typedef struct fo_http_header {
	const char *name;
	const char *value;
} fo_http_header;

typedef struct fo_http_request {
	const char *method;          /* GET, POST, PATCH, PUT, DELETE */
	const char *url;
	const char *content_type;    /* for the body */
	const char *body;
	size_t body_len;
	const char *bearer_token;    /* sent as Authorization: Bearer; never logged */
	const char *basic_user;      /* HTTP basic auth, with basic_password */
	const char *basic_password;
	const char *aws_sigv4;       /* e.g. "aws:amz:us-east-1:s3": sign with basic_user/basic_password */
	const fo_http_header *headers;
	size_t nheaders;
	const char *multipart_file;  /* POST a file as multipart/form-data field `multipart_field` */
	const char *multipart_field;
	const char *download_to;     /* write the body to this path instead of memory */
	size_t max_bytes;            /* body limit for this request; 0: the handle's (4 GiB with download_to) */
	long timeout_ms;             /* 0: the handle's default */
	long stall_timeout_ms;       /* 0: the handle's; else nothing moved (either way) for this long fails it */
	/* A body read as it comes (a watch's stream of events): each piece
	 * goes to on_data instead of resp->body, and no size limit applies
	 * but the caller's own. on_data returns false to end the transfer,
	 * which then fails with FO_ESTOPPED ("ended by its reader"). */
	bool (*on_data)(const char *p, size_t n, void *arg);
	void *on_data_arg;
} fo_http_request;

typedef struct fo_http_response {
	long status;                 /* HTTP status; 0 when no response came */
	fo_buf body;
	char *content_type;
	char *etag;
} fo_http_response;

int fo_http_new(const fo_http_opts *opts, fo_http **out, fo_err *e);
void fo_http_free(fo_http *h);
/* Replace the handle's stop request and progress mark (fo_http_opts). */
void fo_http_set_watch(fo_http *h, const atomic_bool *stop, atomic_llong *alive);

/*
 * Send one request. Returns 0 when a whole response came, whatever its
 * status (the caller judges the status), with two exceptions: a redirect (a
 * 3xx with a Location) is FO_EINVAL naming where it points, because
 * redirects are never followed (a token must not travel to another host,
 * and a configured URL should be the final one); and a TLS certificate
 * that is not valid for the host or not signed by a trusted CA is
 * FO_EREFUSED. FO_ESTOPPED when the handle's stop request came during the
 * transfer. FO_ETIMEOUT when no response or not all of it came in time,
 * FO_ENET when none came or the connection broke off, FO_ETOOBIG when the
 * body exceeded the limit. Messages name the method and the URL without its
 * user info and query (see fo_url_redact in lib/url.h). `resp` is reset first and
 * must be freed with fo_http_response_free in every case; on a redirect it
 * keeps the status.
 */
int fo_http_do(fo_http *h, const fo_http_request *req, fo_http_response *resp, fo_err *e);
void fo_http_response_free(fo_http_response *r);

/*
 * 0 when `r` (a 2xx answer) is JSON or does not say what it is; otherwise
 * FO_ESERVER with "METHOD URL: expected JSON, got text/html (HTTP 200): ..."
 * and the start of the body. A proxy's login or error page is HTML with a
 * 200, and should be named as such rather than as a parse error.
 */
int fo_http_expect_json(const fo_http_response *r, const char *method, const char *url, fo_err *e);


/* Percent-encode `s` for a query parameter value. Caller frees. */
char *fo_http_escape(const char *s);

#endif
