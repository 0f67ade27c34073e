/*
 * The elector (see leader.h): a thread that reads the Lease every
 * retryPeriod, asks agent_lease_decide what to do, writes what it says
 * (create, or a replace conditional on the resourceVersion read, so that of
 * two replicas racing for the Lease exactly one wins) and keeps the write
 * fence and the daemon's shared state in step with the outcome. It has its
 * own API client: a client is never shared between threads, and the
 * Lease's requests carry no fence because they must work while standing by.
 *
 * It also carries pushes from the standbys to the leader, as Flux's
 * receivers do through the API server: a standby's HTTP thread hands a
 * request to this thread (agent_elector_relay), which writes it on the
 * Lease as an annotation; the leader's elector, reading the Lease every
 * retryPeriod, asks its loop for a pass when the annotation changes.
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
	pthread_mutex_t lock;      /* guards quit, exited and relay_*; the rest is the thread's own until it is joined */
	pthread_cond_t cond;
	bool quit;
	bool exited;               /* the thread has returned: no relay is served any more */
	char *relay_value;         /* the annotation value to write for a standby's push */
	uint64_t relay_gen, relay_done; /* relays asked for, and served (relay_rc: the last one's outcome) */
	int relay_rc;
	int64_t relay_wait_ms;     /* how long a relay waits for this thread */
	k8s_client *kc;
	char *me, *ns, *name, *desc; /* desc: "ns/name" */
	int64_t lease_ms, renew_ms, retry_ms;
	agent_lease observed;      /* the Lease as last read or written */
	cJSON *raw;                /* ...as the API server sent it (the base of our writes); NULL: none */
	char *acted;               /* the standbys' request (AGENT_SYNC_ANNOTATION) last acted on, or NULL */
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
	if (el->exists && agent_lease_same(&el->observed, rec)) {
		/* the same holder's write: a version moved by a standby's
		 * request leaves the expiry clock alone */
		free(el->observed.resource_version);
		free(el->observed.sync_requested);
		el->observed.resource_version = rec->resource_version ? fo_strdup(rec->resource_version) : NULL;
		el->observed.sync_requested = rec->sync_requested ? fo_strdup(rec->sync_requested) : NULL;
		return;
	}
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

/* Keep `obj` (owned) as the Lease last read or written. */
static void keep_raw(agent_elector *el, cJSON *obj)
{
	cJSON_Delete(el->raw);
	el->raw = obj;
}

/* Write the decision; FO_ECONFLICT when the Lease changed since it was read. */
static int write_lease(agent_elector *el, const agent_lease_decision *d)
{
	/* over the object read: a standby's request and whatever else the
	 * Lease carries are written back, not dropped */
	cJSON *obj = agent_lease_object(el->ns, el->name, &d->write, d->action == AGENT_LEASE_CREATE ? NULL : el->raw);
	cJSON *res = NULL;
	fo_err e = FO_ERR_INIT;
	int64_t sent = fo_mono_ms();
	int rc = d->action == AGENT_LEASE_CREATE ? k8s_create(el->kc, obj, &res, &e) : k8s_replace(el->kc, obj, &res, &e);
	cJSON_Delete(obj);
	agent_lease got;
	if (rc == 0 && (rc = agent_lease_parse(res, &got, &e)) == 0) {
		observe(el, &got, fo_mono_ms());
		agent_lease_clear(&got);
		keep_raw(el, res);
		res = NULL;
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
	return rc;
}

/* Set the request last acted on. */
static void set_acted(agent_elector *el, const char *value)
{
	free(el->acted);
	el->acted = value ? fo_strdup(value) : NULL;
}

/* After a try: a leader asks its loop for a pass when a standby recorded
 * a push it has not acted on (agent_sync_wake), unless the push was
 * already seen here (a provider's redelivery to the other replica). A
 * replica that has just acquired the Lease takes the request as acted on:
 * its first pass comes at once anyway. */
static void follow_request(agent_elector *el, bool was_leading)
{
	const char *value = el->exists ? el->observed.sync_requested : NULL;
	if (el->leading && !was_leading) {
		set_acted(el, value);
		return;
	}
	if (!agent_sync_wake(el->leading, el->acted, value))
		return;
	set_acted(el, value);
	agent_seen_keys k;
	agent_sync_keys(value, &k); /* another text has no keys: it asks for a pass all the same */
	agent_state *st = el->st;
	pthread_mutex_lock(&st->lock);
	bool dup = agent_seen_known(&st->seen, &k, agent_mono_ms(), true);
	pthread_mutex_unlock(&st->lock);
	if (dup) {
		fo_info("leader", "lease %s: a standby recorded a push already seen here: nothing to do", el->desc);
		return;
	}
	fo_info("leader", "lease %s: a standby recorded a push: pass requested", el->desc);
	agent_request_pass(st);
}

/* One try: read the Lease, decide, write. FO_ECONFLICT when our write
 * lost a race (the Lease changed between the read and the write). */
static int try_once(agent_elector *el)
{
	int64_t now = fo_mono_ms();
	if (el->leading && now - el->renewed_at >= el->renew_ms) {
		/* without a request: a paused process learns it here first */
		lose(el, "not renewed within the renew deadline");
		return 0;
	}
	cJSON *obj = NULL;
	fo_err e = FO_ERR_INIT;
	int rc = k8s_get(el->kc, &k8s_kind_lease, el->ns, el->name, &obj, &e);
	now = fo_mono_ms();
	if (rc == FO_ENOTFOUND) {
		observe(el, NULL, now);
		keep_raw(el, NULL);
	} else if (rc == 0) {
		agent_lease rec;
		if ((rc = agent_lease_parse(obj, &rec, &e)) == 0) {
			observe(el, &rec, now);
			keep_raw(el, obj);
			obj = NULL;
		}
		agent_lease_clear(&rec);
	}
	cJSON_Delete(obj);
	if (rc < 0 && rc != FO_ENOTFOUND) {
		fo_warn("leader", "%s", fo_err_msg(&e));
		fo_err_clear(&e);
		return rc; /* a leader keeps the fence until its deadline; the next try may do better */
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
	bool was_leading = el->leading;
	switch (d.action) {
	case AGENT_LEASE_LOST: lose(el, d.why); break;
	case AGENT_LEASE_STANDBY: break;
	case AGENT_LEASE_CREATE:
	case AGENT_LEASE_TAKEOVER:
	case AGENT_LEASE_RENEW: rc = write_lease(el, &d); break;
	}
	agent_lease_clear(&d.write);
	free(wall);
	follow_request(el, was_leading);
	return rc;
}

static void tick(agent_elector *el)
{
	/* a renewal that lost a race (a standby recorded a push between our
	 * read and our write: 409) is tried again at once, within the renew
	 * deadline, as client-go's renew loop does; the request it read is
	 * followed on every try, so none is lost to the race */
	for (int i = 0; i < 3; i++)
		if (try_once(el) != FO_ECONFLICT || !el->leading)
			break;
}

/* A standby's push, written on the Lease (read again, annotated, replaced
 * conditionally; a race is tried again): 0 when it is there. */
static int record_request(agent_elector *el, const char *value)
{
	fo_err e = FO_ERR_INIT;
	int rc = FO_ECONFLICT;
	for (int i = 0; i < 3 && rc == FO_ECONFLICT; i++) {
		cJSON *obj = NULL;
		fo_err_clear(&e);
		rc = k8s_get(el->kc, &k8s_kind_lease, el->ns, el->name, &obj, &e);
		if (rc == 0) {
			cJSON *w = agent_lease_annotate(obj, AGENT_SYNC_ANNOTATION, value);
			rc = k8s_replace(el->kc, w, NULL, &e);
			cJSON_Delete(w);
		}
		cJSON_Delete(obj);
	}
	if (rc == 0)
		fo_info("leader", "lease %s: recorded a push for the leader (%s)", el->desc, value);
	else
		fo_warn("leader", "lease %s: a push not recorded for the leader: %s", el->desc, fo_err_msg(&e));
	fo_err_clear(&e);
	return rc;
}

/* Wait until `at` (fo_mono_ms) or a stop, serving relays meanwhile; the
 * next try comes first once it is due, so that no stream of relays delays
 * a renewal or a takeover. True: stop. */
static bool wait_until(agent_elector *el, int64_t at)
{
	pthread_mutex_lock(&el->lock);
	while (!el->quit && fo_mono_ms() < at) {
		if (el->relay_done != el->relay_gen) {
			uint64_t gen = el->relay_gen;
			char *value = fo_strdup(el->relay_value);
			pthread_mutex_unlock(&el->lock);
			int rc = record_request(el, value);
			free(value);
			pthread_mutex_lock(&el->lock);
			el->relay_done = gen;
			el->relay_rc = rc;
			pthread_cond_broadcast(&el->cond);
			continue;
		}
		struct timespec ts = fo_mono_deadline(at);
		pthread_cond_timedwait(&el->cond, &el->lock, &ts);
	}
	bool quit = el->quit;
	pthread_mutex_unlock(&el->lock);
	return quit;
}

int agent_elector_relay(agent_elector *el, const char *value)
{
	pthread_mutex_lock(&el->lock);
	free(el->relay_value);
	el->relay_value = fo_strdup(value);
	uint64_t gen = ++el->relay_gen;
	pthread_cond_broadcast(&el->cond);
	int64_t until = fo_mono_ms() + el->relay_wait_ms;
	while (el->relay_done < gen && !el->quit && !el->exited && fo_mono_ms() < until) {
		struct timespec ts = fo_mono_deadline(until);
		pthread_cond_timedwait(&el->cond, &el->lock, &ts);
	}
	int rc = el->relay_done >= gen ? el->relay_rc : FO_ETIMEOUT;
	pthread_mutex_unlock(&el->lock);
	return rc;
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
		if (wait_until(el, fo_mono_ms() + wait))
			break;
	}
	pthread_mutex_lock(&el->lock);
	el->exited = true;
	pthread_cond_broadcast(&el->cond);
	pthread_mutex_unlock(&el->lock);
	return NULL;
}

static void elector_free(agent_elector *el)
{
	k8s_client_free(el->kc);
	agent_lease_clear(&el->observed);
	cJSON_Delete(el->raw);
	free(el->acted);
	free(el->relay_value);
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
	fo_mono_cond_init(&el->cond);
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
	/* a try in flight and the relay's read and write, each call bounded;
	 * within a provider's own timeout (GitHub's is 10 s) */
	el->relay_wait_ms = 4 * (int64_t)ko.timeout_ms < 9000 ? 4 * (int64_t)ko.timeout_ms : 9000;
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
		cJSON *obj = agent_lease_object(el->ns, el->name, &rel, el->raw);
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
