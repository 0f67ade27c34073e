/*
 * The elector (see leader.h): a thread that reads the Lease every
 * retryPeriod, asks agent_lease_decide what to do, writes what it says
 * (create, or a replace conditional on the resourceVersion read, so that of
 * two replicas racing for the Lease exactly one wins) and keeps the write
 * fence and the daemon's shared state in step with the outcome. It has its
 * own API client: a client is never shared between threads, and the
 * Lease's requests carry no fence because they must work while standing by.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "agent/daemon.h"
#include "agent/leader.h"
#include "agent/pass.h"
#include "config/config.h"
#include "lib/log.h"

struct agent_elector {
	pthread_t th;
	bool started;
	pthread_mutex_t lock;      /* guards quit; the rest is the thread's own until it is joined */
	pthread_cond_t cond;
	bool quit;
	k8s_client *kc;
	char *me, *ns, *name, *desc; /* desc: "ns/name" */
	int64_t lease_ms, renew_ms, retry_ms;
	agent_lease observed;      /* the Lease as last read or written */
	bool exists;               /* a Lease was there when last looked at */
	bool seen;                 /* a read has succeeded at least once */
	bool told_ready;           /* st->lease_seen is set */
	int64_t observed_at;       /* monotonic ms when `observed` was last seen to change */
	bool leading, lost;
	int64_t renewed_at;        /* monotonic ms our last successful write was sent */
	fo_fence *fence;
	agent_state *st;
	uint64_t seed;
};

static char *wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return agent_lease_time((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* Remember what the Lease says now; a change restarts the expiry clock. */
static void observe(agent_elector *el, const agent_lease *rec, int64_t now)
{
	if (!rec) {
		if (el->exists || !el->seen)
			el->observed_at = now;
		agent_lease_clear(&el->observed);
		el->exists = false;
		el->seen = true;
		return;
	}
	if (el->exists && agent_lease_same(&el->observed, rec))
		return;
	bool new_holder = !el->exists || !fo_streq(el->observed.holder, rec->holder);
	agent_lease_copy(&el->observed, rec);
	el->exists = true;
	el->seen = true;
	el->observed_at = now;
	if (new_holder && !fo_streq(rec->holder, el->me))
		fo_info("leader", "lease %s: %s%s", el->desc, rec->holder[0] ? "held by " : "released, no holder",
			rec->holder);
}

/* Count a change of this replica's leadership (under st->lock). */
static void count_transition(agent_state *st, bool leading)
{
	st->leading = leading;
	st->m.leader = leading ? 1 : 0;
	st->m.leader_transitions++;
}

static void lose(agent_elector *el, const char *why)
{
	fo_fence_close(el->fence);
	int64_t age = fo_mono_ms() - el->renewed_at;
	el->leading = false;
	el->lost = true;
	agent_state *st = el->st;
	pthread_mutex_lock(&st->lock);
	count_transition(st, false);
	st->lease_lost = true;
	atomic_store(&st->stop, true);
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
	fo_error("leader", "lost lease %s as %s: %s (last renewal sent %lld ms ago, renew deadline %lld ms); writes "
			   "refused from now on, stopping",
		 el->desc, el->me, why, (long long)age, (long long)el->renew_ms);
}

static void write_lease(agent_elector *el, const agent_lease_decision *d)
{
	cJSON *obj = agent_lease_object(el->ns, el->name, &d->write);
	cJSON *res = NULL;
	fo_err e = FO_ERR_INIT;
	int64_t sent = fo_mono_ms();
	int rc = d->action == AGENT_LEASE_CREATE ? k8s_create(el->kc, obj, &res, &e) : k8s_replace(el->kc, obj, &res, &e);
	cJSON_Delete(obj);
	agent_lease got;
	if (rc == 0 && (rc = agent_lease_parse(res, &got, &e)) == 0) {
		observe(el, &got, fo_mono_ms());
		agent_lease_clear(&got);
		fo_fence_renewed(el->fence, sent);
		el->renewed_at = sent;
		if (!el->leading) {
			el->leading = true;
			agent_state *st = el->st;
			pthread_mutex_lock(&st->lock);
			count_transition(st, true);
			st->elected = true;
			pthread_cond_broadcast(&st->cond);
			pthread_mutex_unlock(&st->lock);
			fo_info("leader", "acquired lease %s as %s (%s: %s; transitions %lld)", el->desc, el->me,
				agent_lease_action_name(d->action), d->why, (long long)d->write.transitions);
		}
	} else if (rc == FO_ECONFLICT) {
		/* another replica wrote first: read again next time and decide again */
		fo_info("leader", "lease %s changed since it was read (%s); reading it again", el->desc,
			agent_lease_action_name(d->action));
	} else {
		fo_warn("leader", "%s", fo_err_msg(&e));
	}
	cJSON_Delete(res);
	fo_err_clear(&e);
}

static void tick(agent_elector *el)
{
	int64_t now = fo_mono_ms();
	if (el->leading && now - el->renewed_at >= el->renew_ms) {
		/* without a request: a paused process learns it here first */
		lose(el, "not renewed within the renew deadline");
		return;
	}
	cJSON *obj = NULL;
	fo_err e = FO_ERR_INIT;
	int rc = k8s_get(el->kc, &k8s_kind_lease, el->ns, el->name, &obj, &e);
	now = fo_mono_ms();
	if (rc == FO_ENOTFOUND) {
		observe(el, NULL, now);
	} else if (rc == 0) {
		agent_lease rec;
		if ((rc = agent_lease_parse(obj, &rec, &e)) == 0)
			observe(el, &rec, now);
		agent_lease_clear(&rec);
	}
	cJSON_Delete(obj);
	if (rc < 0 && rc != FO_ENOTFOUND) {
		fo_warn("leader", "%s", fo_err_msg(&e));
		fo_err_clear(&e);
		return; /* a leader keeps the fence until its deadline; the next try may do better */
	}
	fo_err_clear(&e);
	if (!el->told_ready) {
		/* the API answers this replica: Ready, leader or not (agent_ready) */
		pthread_mutex_lock(&el->st->lock);
		el->st->lease_seen = true;
		pthread_mutex_unlock(&el->st->lock);
		el->told_ready = true;
	}
	char *wall = wall_now();
	agent_lease_view v = {el->me, el->exists ? &el->observed : NULL, el->observed_at, now, el->lease_ms,
			      el->renew_ms, el->leading, el->renewed_at, wall};
	agent_lease_decision d;
	agent_lease_decide(&v, &d);
	switch (d.action) {
	case AGENT_LEASE_LOST: lose(el, d.why); break;
	case AGENT_LEASE_STANDBY: break;
	case AGENT_LEASE_CREATE:
	case AGENT_LEASE_TAKEOVER:
	case AGENT_LEASE_RENEW: write_lease(el, &d); break;
	}
	agent_lease_clear(&d.write);
	free(wall);
}

/* A uniform draw in [0, 1). */
static double draw(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (double)(*s >> 11) / (double)(1ULL << 53);
}

static void *elector_thread(void *arg)
{
	agent_elector *el = arg;
	for (;;) {
		tick(el);
		if (el->lost)
			break;
		/* a leader renews every retryPeriod; a standby tries after a wait
		 * jittered downwards (0.8 to 1 retryPeriod), which spreads replicas
		 * as client-go's JitterUntil does while keeping a takeover within
		 * leaseDuration + 2 retryPeriods of the leader's last renewal */
		int64_t wait = el->leading ? el->retry_ms : el->retry_ms - (int64_t)(0.2 * draw(&el->seed) * el->retry_ms);
		int64_t at = fo_mono_ms() + wait;
		struct timespec ts = {(time_t)(at / 1000), (long)(at % 1000) * 1000000L};
		pthread_mutex_lock(&el->lock);
		while (!el->quit && fo_mono_ms() < at)
			pthread_cond_timedwait(&el->cond, &el->lock, &ts);
		bool quit = el->quit;
		pthread_mutex_unlock(&el->lock);
		if (quit)
			break;
	}
	return NULL;
}

static void elector_free(agent_elector *el)
{
	k8s_client_free(el->kc);
	agent_lease_clear(&el->observed);
	free(el->me);
	free(el->ns);
	free(el->name);
	free(el->desc);
	pthread_cond_destroy(&el->cond);
	pthread_mutex_destroy(&el->lock);
	free(el);
}

/* $POD_NAME, else the host name and a random suffix (client-go's habit):
 * unique per process, so that a restarted replica is a new candidate. */
static char *default_identity(void)
{
	const char *pod = getenv("POD_NAME");
	if (pod && *pod)
		return fo_strdup(pod);
	char host[256] = ""; /* HOST_NAME_MAX is 64 on Linux */
	if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
		strcpy(host, "flinkops");
	char *hex = NULL;
	if (fo_random_hex(4, &hex) < 0)
		hex = fo_asprintf("%lld", (long long)getpid());
	char *id = fo_asprintf("%s_%s", host, hex);
	free(hex);
	return id;
}

int agent_elector_start(const config *cfg, agent_state *st, fo_fence *fence, agent_elector **out, fo_err *e)
{
	*out = NULL;
	const struct config_leader_election *le = &cfg->agent.leader_election;
	k8s_config *kcfg = NULL;
	int rc = cli_k8s_config(cfg, &kcfg, e);
	if (rc < 0)
		return fo_err_prefix(e, "leader election");
	agent_elector *el = fo_calloc(1, sizeof(*el));
	pthread_mutex_init(&el->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&el->cond, &ca);
	pthread_condattr_destroy(&ca);
	k8s_options ko = {0};
	ko.timeout_ms = (long)cfg->kubernetes.timeout_ms; /* bounded by the renew deadline (config.h) */
	ko.retries = -1; /* none: the next try is a retryPeriod away, and a late retry is worth nothing */
	rc = k8s_client_new(kcfg, &ko, &el->kc, e);
	el->me = le->identity && *le->identity ? fo_strdup(le->identity) : default_identity();
	el->ns = fo_strdup(le->namespace && *le->namespace ? le->namespace
			   : cfg->kubernetes.in_cluster && kcfg->namespace ? kcfg->namespace
									    : cfg->kubernetes.namespace);
	el->name = fo_strdup(le->lease_name && *le->lease_name ? le->lease_name : cfg->agent.name);
	el->desc = fo_asprintf("%s/%s", el->ns, el->name);
	k8s_config_free(kcfg);
	if (rc < 0) {
		elector_free(el);
		return fo_err_prefix(e, "leader election");
	}
	el->lease_ms = le->lease_duration_ms;
	el->renew_ms = le->renew_deadline_ms;
	el->retry_ms = le->retry_period_ms;
	el->fence = fence;
	el->st = st;
	if (getrandom(&el->seed, sizeof(el->seed), 0) != (ssize_t)sizeof(el->seed) || !el->seed)
		el->seed = (uint64_t)fo_mono_ms() | 1;
	if (pthread_create(&el->th, NULL, elector_thread, el) != 0) {
		elector_free(el);
		return fo_err_set(e, FO_EIO, "cannot start the leader election thread");
	}
	el->started = true;
	fo_info("leader", "electing on lease %s as %s (lease %lld ms, renew deadline %lld ms, retry %lld ms)", el->desc,
		el->me, (long long)el->lease_ms, (long long)el->renew_ms, (long long)el->retry_ms);
	*out = el;
	return 0;
}

void agent_elector_stop(agent_elector *el, bool release)
{
	if (!el)
		return;
	pthread_mutex_lock(&el->lock);
	el->quit = true;
	pthread_cond_broadcast(&el->cond);
	pthread_mutex_unlock(&el->lock);
	if (el->started)
		pthread_join(el->th, NULL);
	agent_lease rel;
	char *wall = wall_now();
	if (release && el->leading && agent_lease_release(el->me, el->exists ? &el->observed : NULL, wall, &rel)) {
		/* nothing may be written once the Lease is given away */
		fo_fence_close(el->fence);
		cJSON *obj = agent_lease_object(el->ns, el->name, &rel);
		fo_err e = FO_ERR_INIT;
		int rc = k8s_replace(el->kc, obj, NULL, &e);
		if (rc == 0)
			fo_info("leader", "released lease %s", el->desc);
		else if (rc == FO_ECONFLICT)
			fo_warn("leader", "lease %s not released: it changed since our last renewal (another replica holds it)",
				el->desc);
		else
			fo_warn("leader", "lease %s not released (another replica takes over when it expires): %s", el->desc,
				fo_err_msg(&e));
		cJSON_Delete(obj);
		fo_err_clear(&e);
		agent_lease_clear(&rel);
		el->leading = false;
		pthread_mutex_lock(&el->st->lock);
		count_transition(el->st, false);
		pthread_mutex_unlock(&el->st->lock);
	}
	free(wall);
	elector_free(el);
}

const char *agent_elector_identity(const agent_elector *el)
{
	return el->me;
}

const char *agent_elector_lease(const agent_elector *el)
{
	return el->desc;
}
