/*
 * The daemon's HTTP endpoint (libmicrohttpd, one internal thread):
 * /healthz, /readyz, /metrics and POST /webhook. It only reads the shared
 * state and asks the loop for passes; it never runs a pass itself, so a
 * slow or hostile client can hold a connection slot but never the loop.
 * Connections are bounded in number and in idle time, bodies in size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "agent/daemon.h"
#include "agent/leader.h"
#include "lib/log.h"

#define BODY_MAX (1024 * 1024)   /* a push event of a big merge is well under this */
#define CONN_MAX 64
#define CONN_TIMEOUT_S 10

struct agent_http {
	struct MHD_Daemon *d;
	agent_state *st;
};

/* A request in progress: the webhook's body as it arrives. */
typedef struct request {
	fo_buf body;
	bool too_big;
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
	if (rq->too_big) {
		/* the provider is unknown: nothing beyond the limit was looked at */
		memset(&v, 0, sizeof(v));
		v.code = 413;
		v.why = "the body is over 1 MiB";
	} else {
		agent_webhook_check(st->secret, st->secret_len, st->branch, header_of, c, rq->body.ptr ? rq->body.ptr : "",
				    rq->body.len, &v);
	}
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

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	(void)version;
	agent_http *h = cls;
	agent_state *st = h->st;
	bool post = strcmp(method, "POST") == 0;
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	if (strcmp(url, "/webhook") == 0) {
		if (!post)
			return reply_text(c, 405, "POST a webhook here");
		request *rq = *con_cls;
		if (!rq) {
			/* first call: headers only */
			const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
			if (cl && strtoull(cl, NULL, 10) > BODY_MAX) {
				pthread_mutex_lock(&st->lock);
				agent_metric_hook(&st->m, AGENT_HOOK_UNKNOWN, 413);
				pthread_mutex_unlock(&st->lock);
				return reply_text(c, 413, "the body is over 1 MiB");
			}
			*con_cls = rq = fo_calloc(1, sizeof(*rq));
			return MHD_YES;
		}
		if (*upload_size) {
			if (rq->body.len + *upload_size > BODY_MAX) {
				rq->too_big = true; /* read on and drop, then answer 413 */
				fo_buf_free(&rq->body);
			} else if (!rq->too_big) {
				fo_buf_put(&rq->body, upload, *upload_size);
			}
			*upload_size = 0;
			return MHD_YES;
		}
		return webhook(h, c, rq);
	}
	if (!get)
		return reply_text(c, 405, "GET only");
	if (strcmp(url, "/healthz") == 0) {
		pthread_mutex_lock(&st->lock);
		int64_t now = agent_mono_ms();
		int64_t age = now - st->heartbeat;
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
	return reply_text(c, 404, "not found (/healthz, /readyz, /metrics, POST /webhook)");
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	request *rq = *con_cls;
	if (rq) {
		fo_buf_free(&rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

int agent_http_start(agent_state *st, const struct sockaddr_storage *addr, agent_http **out, int *port, fo_err *e)
{
	agent_http *h = fo_calloc(1, sizeof(*h));
	h->st = st;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	if (addr->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)addr,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned)CONN_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				MHD_OPTION_END);
	if (!h->d) {
		free(h);
		return fo_err_set(e, FO_EIO, "cannot listen on agent.listen (address in use or not this machine's?)");
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	*port = info ? (int)info->port : 0;
	*out = h;
	return 0;
}

void agent_http_stop(agent_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
