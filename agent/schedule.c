/*
 * When the daemon runs its next pass, and where it listens: pure functions
 * of their inputs, so that the backoff, the jitter and the address rules are
 * rows of a table test rather than things seen only in a running agent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "agent/daemon.h"

int64_t agent_next_delay_ms(const agent_sched *s, double jitter, unsigned failures, int64_t wait_ms)
{
	if (jitter < -1)
		jitter = -1;
	if (jitter > 1)
		jitter = 1;
	double base;
	if (failures > 0) {
		/* doubling, computed in double so that many failures cannot overflow */
		base = (double)s->retry_initial_ms;
		for (unsigned i = 1; i < failures && base < (double)s->retry_max_ms; i++)
			base *= 2;
		if (base > (double)s->retry_max_ms)
			base = (double)s->retry_max_ms;
	} else if (wait_ms > 0) {
		/* no jitter: the wait is already short */
		return wait_ms;
	} else {
		base = (double)s->interval_ms;
	}
	double d = base * (1.0 + AGENT_JITTER * jitter);
	return d < 1 ? 1 : (int64_t)llround(d); /* 60000 * 1.025 is 61499.99... in binary */
}

unsigned agent_wait_streak(unsigned streak, bool was_waiting, uint64_t last_progress, uint64_t progress)
{
	if (!was_waiting || last_progress != progress)
		return 0;
	return streak == UINT_MAX ? streak : streak + 1;
}

int64_t agent_wait_delay_ms(unsigned streak, int64_t pass_ms, int64_t cap_ms)
{
	if (cap_ms < 1)
		cap_ms = 1;
	int64_t d = AGENT_WAIT_FIRST_MS;
	for (unsigned i = 0; i < streak && d < cap_ms; i++)
		d *= 2;
	if (pass_ms > cap_ms / 2)
		d = cap_ms; /* before 2 * pass_ms could overflow */
	else if (d < 2 * pass_ms)
		d = 2 * pass_ms;
	return d < cap_ms ? d : cap_ms;
}

const char *agent_trigger_name(enum agent_trigger t)
{
	static const char *const names[AGENT_NTRIGGERS] = {"start",	"interval", "webhook", "waiting",
							   "retry", "elected",	"watch"};
	return (unsigned)t < AGENT_NTRIGGERS ? names[t] : "?";
}

bool agent_pass_fetches(enum agent_trigger t, bool have_commit, int64_t since_fetch_ms, int64_t interval_ms)
{
	if ((t != AGENT_TRIGGER_WAITING && t != AGENT_TRIGGER_WATCH) || !have_commit)
		return true;
	/* a clock that went backwards, or a fetch "in the future", is no reason to trust the old commit */
	return since_fetch_ms < 0 || since_fetch_ms >= interval_ms;
}

/* When a pass asked for (a webhook's, a watch event's) may start: the
 * debounce after the first ask, the minimum gap after the last pass, and
 * after failures not before the retry. INT64_MAX when none was asked. */
static int64_t asked_at(const agent_wake *w, bool asked, int64_t first, int64_t debounce)
{
	if (!asked)
		return INT64_MAX;
	int64_t at = first + debounce;
	if (at < w->last_end + AGENT_MIN_GAP_MS)
		at = w->last_end + AGENT_MIN_GAP_MS;
	if (w->failures > 0 && at < w->next_at)
		at = w->next_at;
	return at;
}

bool agent_wake_decide(const agent_wake *w, enum agent_trigger *why, int64_t *at)
{
	if (w->elected) {
		*why = AGENT_TRIGGER_ELECTED;
		return true;
	}
	int64_t hook_at = asked_at(w, w->requested, w->requested_at, AGENT_DEBOUNCE_MS);
	int64_t watch_at = asked_at(w, w->changed, w->changed_at, AGENT_WATCH_DEBOUNCE_MS);
	if (w->now >= hook_at) {
		*why = AGENT_TRIGGER_WEBHOOK;
		return true;
	}
	if (w->now >= w->next_at) {
		*why = w->next_why;
		return true;
	}
	if (w->now >= watch_at) {
		*why = AGENT_TRIGGER_WATCH;
		return true;
	}
	*at = w->next_at < hook_at ? w->next_at : hook_at;
	if (watch_at < *at)
		*at = watch_at;
	return false;
}

bool agent_ready(const agent_ready_view *v, const char **why)
{
	if (v->api_ready || (v->electing && v->lease_seen))
		return true;
	*why = v->electing ? "the Kubernetes API has not answered yet (neither a pass nor a read of the Lease)"
			   : "the Kubernetes API has not answered yet";
	return false;
}

int agent_listen_parse(const char *s, struct sockaddr_storage *addr, socklen_t *len, fo_err *e)
{
	return agent_listen_parse_as("agent.listen", s, addr, len, e);
}

int agent_listen_parse_as(const char *key, const char *s, struct sockaddr_storage *addr, socklen_t *len, fo_err *e)
{
	memset(addr, 0, sizeof(*addr));
	if (!s || !*s)
		return fo_err_set(e, FO_EINVAL, "%s is empty (give HOST:PORT, e.g. 127.0.0.1:8080)", key);
	const char *colon = strrchr(s, ':');
	if (!colon)
		return fo_err_set(e, FO_EINVAL, "%s \"%s\" has no port (give HOST:PORT, e.g. 127.0.0.1:8080)", key, s);
	const char *port_text = colon + 1;
	char *end = NULL;
	errno = 0;
	long port = strtol(port_text, &end, 10);
	if (!*port_text || *end || errno || port < 0 || port > 65535 || port_text[0] == '-' || port_text[0] == '+')
		return fo_err_set(e, FO_EINVAL, "%s \"%s\": the port must be a number from 0 to 65535", key, s);
	size_t hlen = (size_t)(colon - s);
	char *host = fo_strndup(s, hlen);
	int rc = 0;
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1) {
			rc = fo_err_set(e, FO_EINVAL, "%s \"%s\": \"%s\" is not an IPv6 address", key, s, host + 1);
			goto cleanup;
		}
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		goto cleanup;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)port);
	*len = sizeof(*a4);
	if (hlen == 0) {
		a4->sin_addr.s_addr = htonl(INADDR_ANY);
	} else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
		/* an unbracketed IPv6 address has colons of its own */
		rc = fo_err_set(e, FO_EINVAL,
				"%s \"%s\": \"%s\" is not a numeric IPv4 address (IPv6 goes in brackets: [::1]:8080)",
				key, s, host);
	}
cleanup:
	if (rc < 0)
		memset(addr, 0, sizeof(*addr));
	free(host);
	return rc;
}

int agent_probe_listen_default(const struct sockaddr_storage *listen, struct sockaddr_storage *out, fo_err *e)
{
	*out = *listen;
	in_port_t *p = listen->ss_family == AF_INET6 ? &((struct sockaddr_in6 *)out)->sin6_port
						     : &((struct sockaddr_in *)out)->sin_port;
	uint16_t port = ntohs(*p);
	if (port == 65535)
		return fo_err_set(e, FO_EINVAL, "agent.listen's port is 65535, which has no next port for the probes: "
						"set agent.probeListen");
	if (port)
		*p = htons((uint16_t)(port + 1));
	return 0;
}

int64_t agent_health_budget_ms(const agent_health_bounds *b)
{
	int64_t silences[] = {
		b->loop_wait_ms,
		b->kubernetes_ms,
		b->git_ms + AGENT_GIT_GRACE_MS + AGENT_GIT_BACKOFF_MS,
		b->flink_call_ms,
		b->jar_connect_ms,
		b->jar_stall_ms,
		b->upload_stall_ms,
		b->run_ms,
	};
	int64_t longest = 0;
	for (size_t i = 0; i < sizeof(silences) / sizeof(silences[0]); i++)
		if (silences[i] > longest)
			longest = silences[i];
	return longest + AGENT_HEALTH_SLACK_MS;
}
