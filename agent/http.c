/*
 * The daemon's HTTP endpoints (libmicrohttpd): two listeners, each with an
 * internal thread of its own. agent.listen serves POST /webhook (and
 * /healthz, /readyz, /metrics for setups that probe it); agent.probeListen
 * serves only /healthz, /readyz and /metrics, so that whatever clients do
 * to the webhook port, the kubelet's probes still find a free slot and a
 * thread (controller-runtime and Flux keep health on a port of its own).
 * They only read the shared state and ask the loop for passes; they never
 * run a pass, so a slow or hostile client can hold a connection slot but
 * never the loop.
 *
 * Bounds on each listener: connections in all and per client address;
 * idle time (libmicrohttpd's timeout, reset by every byte); a request's
 * whole time from its first byte (headers and TLS handshake included) to
 * its answer — a sweeper shuts down the socket of a request past it, since
 * libmicrohttpd 0.9.75 calls the application only once the headers are in;
 * a webhook's body in size, refused before it is read when its length is
 * announced and cut off at the limit when it is chunked.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "agent/daemon.h"
#include "agent/leader.h"
#include "config/config.h"
#include "lib/fs.h"
#include "lib/log.h"

#define BODY_MAX (1024 * 1024)   /* a push event of a big merge is well under this */
#define CONN_MAX CONFIG_CONNECTIONS_MAX
#define CONN_TIMEOUT_S 10
/* the probe listener: the kubelet's two probes and a scraper or two */
#define PROBE_CONN_MAX 16
#define PROBE_PER_CLIENT 8
#define PEM_MAX (1024 * 1024)    /* a certificate chain, or a key */
#define SWEEP_MS 500
/* what the sweeper cut is logged at most this often: a client that keeps
 * trickling must not be able to write a log line every sweep */
#define SWEEP_LOG_MS 60000

/* A connection on either listener, from its accept to its close: when its
 * current request started, and its socket, which the sweeper shuts down
 * once the request runs past the deadline. */
typedef struct conn {
	int fd;
	int64_t start;
	bool cut;
	struct conn *prev, *next;
} conn;

struct agent_http {
	struct MHD_Daemon *d;     /* agent.listen */
	struct MHD_Daemon *probe; /* agent.probeListen */
	agent_state *st;
	int64_t deadline_ms;
	/* the open connections, and the sweeper that enforces the deadline */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping, sweeping;
	pthread_t sweeper;
	conn *conns;
	char *cert, *key; /* PEM: the key is wiped once libmicrohttpd has loaded it */
	size_t key_len;
};

/* A request in progress: the webhook's body as it arrives. */
typedef struct request {
	fo_buf body;
} request;

/* `retry_after_s` > 0 adds Retry-After. */
static enum MHD_Result reply_after(struct MHD_Connection *c, unsigned code, const char *type, const char *text,
				   size_t len, int retry_after_s)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	if (retry_after_s > 0) {
		char secs[16];
		snprintf(secs, sizeof(secs), "%d", retry_after_s);
		MHD_add_response_header(r, "Retry-After", secs);
	}
	enum MHD_Result rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type, const char *text, size_t len)
{
	return reply_after(c, code, type, text, len, 0);
}

static enum MHD_Result reply_text_after(struct MHD_Connection *c, unsigned code, const char *text, int retry_after_s)
{
	char *t = fo_asprintf("%s\n", text);
	enum MHD_Result rc = reply_after(c, code, "text/plain; charset=utf-8", t, strlen(t), retry_after_s);
	free(t);
	return rc;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned code, const char *text)
{
	return reply_text_after(c, code, text, 0);
}

static const char *header_of(void *arg, const char *name)
{
	return MHD_lookup_connection_value(arg, MHD_HEADER_KIND, name);
}

static enum MHD_Result webhook(agent_http *h, struct MHD_Connection *c, request *rq)
{
	agent_state *st = h->st;
	agent_hook_verdict v;
	agent_webhook_check(st->secret, st->secret_len, st->branch, header_of, c, rq->body.ptr ? rq->body.ptr : "",
			    rq->body.len, &v);
	pthread_mutex_lock(&st->lock);
	enum agent_role role = atomic_load(&st->stop)	  ? AGENT_ROLE_STOPPING
			       : st->fence && !st->leading ? AGENT_ROLE_STANDBY
							   : AGENT_ROLE_ACTS;
	agent_webhook_answer(&v, role, &st->seen, agent_webhook_delivery(v.provider, header_of, c), rq->body.ptr,
			     rq->body.len, agent_mono_ms());
	agent_elector *el = v.relay ? st->elector : NULL;
	if (el)
		st->relaying++;
	else
		agent_webhook_relayed(&v, false, &st->seen, agent_mono_ms()); /* no elector yet, or any more: 503 */
	pthread_mutex_unlock(&st->lock);
	if (el) {
		/* a standby: the push reaches the leader through the Lease */
		struct timespec wall;
		clock_gettime(CLOCK_REALTIME, &wall);
		char *value = agent_sync_value(&v.keys, (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000);
		int rc = agent_elector_relay(el, value);
		free(value);
		pthread_mutex_lock(&st->lock);
		agent_webhook_relayed(&v, rc == 0, &st->seen, agent_mono_ms());
		if (--st->relaying == 0)
			pthread_cond_broadcast(&st->cond); /* the elector may be stopped now */
		pthread_mutex_unlock(&st->lock);
	}
	pthread_mutex_lock(&st->lock);
	agent_metric_hook(&st->m, v.provider, v.code);
	pthread_mutex_unlock(&st->lock);
	if (v.pass)
		agent_request_pass(st);
	fo_log(v.code >= 400 ? FO_LOG_WARN : FO_LOG_INFO, "webhook", "%s: %d %s", agent_provider_name(v.provider), v.code,
	       v.why);
	return reply_text_after(c, (unsigned)v.code, v.why, v.code == 503 ? st->retry_after_s : 0);
}

/* The connection's record (conn_notify made it), or NULL. */
static conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* Whether the connection's current request has run past the deadline
 * (the sweeper may not have seen it yet). */
static bool conn_expired(agent_http *h, struct MHD_Connection *c)
{
	conn *k = conn_of(c);
	if (!k)
		return false;
	pthread_mutex_lock(&h->lock);
	bool late = agent_request_expired(k->start, agent_mono_ms(), h->deadline_ms);
	pthread_mutex_unlock(&h->lock);
	return late;
}

static void count_413(agent_state *st)
{
	pthread_mutex_lock(&st->lock);
	agent_metric_hook(&st->m, AGENT_HOOK_UNKNOWN, 413);
	pthread_mutex_unlock(&st->lock);
}

static enum MHD_Result handle_webhook(agent_http *h, struct MHD_Connection *c, const char *method,
				      const char *upload, size_t *upload_size, void **con_cls)
{
	if (strcmp(method, "POST") != 0)
		return reply_text(c, 405, "POST a webhook here");
	if (conn_expired(h, c)) {
		fo_warn("webhook", "a request ran past agent.requestTimeout (%lld ms): connection closed",
			(long long)h->deadline_ms);
		return MHD_NO;
	}
	request *rq = *con_cls;
	if (!rq) {
		/* first call: headers only */
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		if (agent_body_step(cl, true, 0, 0, BODY_MAX) == AGENT_BODY_REFUSE) {
			/* answered before the body: libmicrohttpd closes the
			 * connection after the answer instead of reading it */
			count_413(h->st);
			return reply_text(c, 413, "the body is over 1 MiB");
		}
		*con_cls = rq = fo_calloc(1, sizeof(*rq));
		return MHD_YES;
	}
	if (*upload_size) {
		if (agent_body_step(NULL, false, rq->body.len, *upload_size, BODY_MAX) == AGENT_BODY_CLOSE) {
			/* a chunked body over the limit: no answer can be queued
			 * mid-body in 0.9.75, so the connection goes now rather
			 * than after reading the rest */
			fo_warn("webhook", "a chunked body grew over 1 MiB (%zu bytes read): connection closed",
				rq->body.len + *upload_size);
			count_413(h->st);
			return MHD_NO;
		}
		fo_buf_put(&rq->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return webhook(h, c, rq);
}

static enum MHD_Result handle_any(agent_http *h, bool hook, struct MHD_Connection *c, const char *url,
				  const char *method, const char *upload, size_t *upload_size, void **con_cls)
{
	agent_state *st = h->st;
	if (strcmp(url, "/webhook") == 0) {
		if (hook)
			return handle_webhook(h, c, method, upload, upload_size, con_cls);
		return reply_text(c, 404, "webhooks go to agent.listen, not agent.probeListen");
	}
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	if (!get)
		return reply_text(c, 405, "GET only");
	if (strcmp(url, "/healthz") == 0) {
		pthread_mutex_lock(&st->lock);
		int64_t now = agent_mono_ms();
		int64_t age = now - st->heartbeat;
		/* inside a pass, its last answer or byte moved */
		int64_t since = fo_mono_ms() - (int64_t)atomic_load(&st->alive);
		if (since < age)
			age = since;
		bool ok = age <= st->healthy_within;
		/* a replica that believes it leads but has not renewed in time:
		 * its elector is stuck, and a restart makes room for the other */
		int64_t lease_age = -1;
		if (st->fence && st->leading)
			fo_fence_held_at(st->fence, now, &lease_age);
		bool lease_ok = lease_age < 0 || lease_age <= st->lease_stale_ms;
		pthread_mutex_unlock(&st->lock);
		if (ok && lease_ok)
			return reply_text(c, 200, "ok");
		char *t = !lease_ok ? fo_asprintf("this replica leads but has not renewed its Lease for %lld ms",
						 (long long)lease_age)
				    : fo_asprintf("the loop has shown no progress for %lld s", (long long)(age / 1000));
		enum MHD_Result rc = reply_text(c, 503, t);
		free(t);
		return rc;
	}
	if (strcmp(url, "/readyz") == 0) {
		pthread_mutex_lock(&st->lock);
		agent_ready_view rv = {st->api_ready, st->fence != NULL, st->lease_seen};
		pthread_mutex_unlock(&st->lock);
		const char *why = NULL;
		return agent_ready(&rv, &why) ? reply_text(c, 200, "ok") : reply_text(c, 503, why);
	}
	if (strcmp(url, "/metrics") == 0) {
		/* under the lock: the per-deployment series are the loop's to
		 * add and drop; formatting them is quick */
		fo_buf b = FO_BUF_INIT;
		pthread_mutex_lock(&st->lock);
		agent_metrics_format(&st->m, &b);
		pthread_mutex_unlock(&st->lock);
		enum MHD_Result rc = reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", fo_buf_cstr(&b), b.len);
		fo_buf_free(&b);
		return rc;
	}
	return reply_text(c, 404, hook ? "not found (/healthz, /readyz, /metrics, POST /webhook)"
				       : "not found (/healthz, /readyz, /metrics)");
}

static enum MHD_Result handle_hook(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				   const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	(void)version;
	return handle_any(cls, true, c, url, method, upload, upload_size, con_cls);
}

static enum MHD_Result handle_probe(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	(void)version;
	return handle_any(cls, false, c, url, method, upload, upload_size, con_cls);
}

/* A request ended (answered, or its connection closed): free its body;
 * the next request on a kept-alive connection starts its own clock. */
static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)toe;
	agent_http *h = cls;
	request *rq = *con_cls;
	if (rq) {
		fo_buf_free(&rq->body);
		free(rq);
		*con_cls = NULL;
	}
	conn *k = conn_of(c);
	if (k) {
		pthread_mutex_lock(&h->lock);
		k->start = agent_mono_ms();
		pthread_mutex_unlock(&h->lock);
	}
}

/* A connection accepted or closed (libmicrohttpd calls this before it
 * closes the socket, so the sweeper never touches a closed descriptor). */
static void conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
			enum MHD_ConnectionNotificationCode code)
{
	agent_http *h = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		conn *k = fo_calloc(1, sizeof(*k));
		k->fd = ci ? (int)ci->connect_fd : -1;
		pthread_mutex_lock(&h->lock);
		k->start = agent_mono_ms();
		k->next = h->conns;
		if (h->conns)
			h->conns->prev = k;
		h->conns = k;
		pthread_mutex_unlock(&h->lock);
		*socket_context = k;
		return;
	}
	conn *k = *socket_context;
	if (!k)
		return;
	pthread_mutex_lock(&h->lock);
	if (k->prev)
		k->prev->next = k->next;
	else
		h->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	pthread_mutex_unlock(&h->lock);
	free(k);
	*socket_context = NULL;
}

/* The deadline's enforcer: every SWEEP_MS, shut down the socket of every
 * request past it. libmicrohttpd then sees the connection end and closes
 * it; this reaches a request still in its headers or TLS handshake, which
 * the application is never called for. */
static void *sweep(void *arg)
{
	agent_http *h = arg;
	long unlogged = 0;
	int64_t logged_at = 0;
	pthread_mutex_lock(&h->lock);
	while (!h->stopping) {
		int64_t now = agent_mono_ms();
		int cut = 0;
		for (conn *k = h->conns; k; k = k->next)
			if (!k->cut && k->fd >= 0 && agent_request_expired(k->start, now, h->deadline_ms)) {
				shutdown(k->fd, SHUT_RDWR);
				k->cut = true;
				cut++;
			}
		unlogged += cut;
		if (unlogged && (logged_at == 0 || now - logged_at >= SWEEP_LOG_MS)) {
			fo_warn("http", "closed %ld connection(s) whose request ran past agent.requestTimeout (%lld ms)%s",
				unlogged, (long long)h->deadline_ms, logged_at ? " since the last such line" : "");
			unlogged = 0;
			logged_at = now;
		}
		struct timespec until = fo_mono_deadline(now + SWEEP_MS);
		pthread_cond_timedwait(&h->cond, &h->lock, &until);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* Read a PEM file named by `key` (agent.tls.certFile): bounded, and holding
 * what `kind` says, so that a wrong mount fails at start naming the file
 * instead of in the TLS library's words. */
static int tls_read(const char *key, const char *path, bool private_key, char **out, size_t *len, fo_err *e)
{
	if (fo_fs_read(path, PEM_MAX, out, len, e) < 0)
		return fo_err_prefix(e, "%s", key);
	BIO *b = BIO_new_mem_buf(*out, (int)*len);
	bool ok = false;
	if (b && private_key) {
		EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		ok = k != NULL;
		EVP_PKEY_free(k);
	} else if (b) {
		X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		ok = x != NULL;
		X509_free(x);
	}
	BIO_free(b);
	if (!ok) {
		OPENSSL_cleanse(*out, *len);
		free(*out);
		*out = NULL;
		return fo_err_set(e, FO_EINVAL, "%s %s holds no PEM %s", key, path,
				  private_key ? "private key (unencrypted)" : "certificate");
	}
	return 0;
}

/* Both files, and that the key is the certificate's. */
static int tls_load(agent_http *h, const agent_http_opts *o, fo_err *e)
{
	size_t cert_len = 0;
	if (tls_read("agent.tls.certFile", o->tls_cert_file, false, &h->cert, &cert_len, e) < 0 ||
	    tls_read("agent.tls.keyFile", o->tls_key_file, true, &h->key, &h->key_len, e) < 0)
		return -1;
	BIO *cb = BIO_new_mem_buf(h->cert, (int)cert_len), *kb = BIO_new_mem_buf(h->key, (int)h->key_len);
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	bool match = x && k && X509_check_private_key(x, k) == 1;
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(cb);
	BIO_free(kb);
	if (!match)
		return fo_err_set(e, FO_EINVAL, "agent.tls.keyFile %s is not the key of agent.tls.certFile %s",
				  o->tls_key_file, o->tls_cert_file);
	return 0;
}

static int bound_port(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	return info ? (int)info->port : 0;
}

int agent_http_start(agent_state *st, const agent_http_opts *o, agent_http **out, int *port, int *probe_port,
		     fo_err *e)
{
	agent_http *h = fo_calloc(1, sizeof(*h));
	h->st = st;
	h->deadline_ms = o->request_timeout_ms;
	pthread_mutex_init(&h->lock, NULL);
	fo_mono_cond_init(&h->cond);
	/* no MHD_USE_ERROR_LOG: it writes a line per refused connection, which a
	 * client could use to flood the log */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	if (o->tls_cert_file) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			fo_err_set(e, FO_EINVAL, "agent.tls is set but this libmicrohttpd is built without TLS");
			goto fail;
		}
		if (tls_load(h, o, e) < 0)
			goto fail;
	}
	h->d = MHD_start_daemon(
		flags | (o->hook.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0) | (h->cert ? MHD_USE_TLS : 0), 0, NULL, NULL,
		handle_hook, h, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&o->hook, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)CONN_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_client, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)CONN_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, completed, h, MHD_OPTION_NOTIFY_CONNECTION,
		conn_notify, h, h->cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->cert,
		MHD_OPTION_HTTPS_MEM_KEY, h->key, MHD_OPTION_END);
	if (h->key) {
		/* GnuTLS holds it now: no copy left in our memory */
		OPENSSL_cleanse(h->key, h->key_len);
		free(h->key);
		h->key = NULL;
	}
	if (!h->d) {
		fo_err_set(e, FO_EIO, "cannot listen on agent.listen (address in use or not this machine's?)");
		goto fail;
	}
	h->probe = MHD_start_daemon(
		flags | (o->probe.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL, handle_probe, h,
		MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&o->probe, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)PROBE_CONN_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PROBE_PER_CLIENT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, completed, h,
		MHD_OPTION_NOTIFY_CONNECTION, conn_notify, h, MHD_OPTION_END);
	if (!h->probe) {
		fo_err_set(e, FO_EIO,
			   "cannot listen on agent.probeListen (address in use, the same as agent.listen, or not this "
			   "machine's?)");
		goto fail;
	}
	if (pthread_create(&h->sweeper, NULL, sweep, h) != 0) {
		fo_err_set(e, FO_EIO, "cannot start the HTTP deadline thread");
		goto fail;
	}
	h->sweeping = true;
	*port = bound_port(h->d);
	*probe_port = bound_port(h->probe);
	*out = h;
	return 0;
fail:
	agent_http_stop(h);
	return -1;
}

void agent_http_stop(agent_http *h)
{
	if (!h)
		return;
	if (h->sweeping) {
		pthread_mutex_lock(&h->lock);
		h->stopping = true;
		pthread_cond_signal(&h->cond);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->sweeper, NULL);
	}
	if (h->probe)
		MHD_stop_daemon(h->probe);
	if (h->d)
		MHD_stop_daemon(h->d);
	if (h->key) {
		OPENSSL_cleanse(h->key, h->key_len);
		free(h->key);
	}
	free(h->cert);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
