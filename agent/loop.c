/*
 * The daemon's loop: one pass at a time, on the interval (with jitter), on
 * a webhook (debounced, coalesced), soon again when deployments wait on
 * Flink — a re-check at the commit already fetched, with no fetch, unless
 * the interval is due (agent_pass_fetches) — later and later while passes
 * cannot complete, which a webhook does not bring forward (when a pass
 * starts is agent_wake_decide's). The context (configuration, client, repository cache)
 * is the caller's and lasts across passes. It sleeps on a condition
 * variable that a webhook and a stop request signal, and wakes at least
 * every few seconds to show the HTTP thread it is alive.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "agent/cli.h"
#include "agent/daemon.h"
#include "agent/loop.h"
#include "sync/sync.h"
#include "lib/log.h"

/* The loop shows it is alive at least this often while it sleeps. */
#define HEARTBEAT_MS AGENT_HEARTBEAT_MS
/* The repository cache is looked after (sync_maintain) after the first
 * pass and then at most this often, always between passes: a walk of the
 * cache's folder, and work only past its bounds (100 loose objects, 20
 * packs), so that a busy repository (a change a minute, a status commit
 * each) never gathers more than those between two looks. */
#define MAINTAIN_EVERY_MS (60 * 1000)

int64_t agent_mono_ms(void)
{
	return fo_mono_ms(); /* the fence's clock: a schedule and a Lease agree on what "now" is */
}

/* Ask the loop for a pass: `*flag` with the time of the first ask. */
static void ask(agent_state *st, bool *flag, int64_t *first)
{
	pthread_mutex_lock(&st->lock);
	if (!*flag) {
		*flag = true;
		*first = agent_mono_ms();
	}
	pthread_cond_signal(&st->cond);
	pthread_mutex_unlock(&st->lock);
}

void agent_request_pass(agent_state *st)
{
	ask(st, &st->requested, &st->requested_at);
}

void agent_watch_changed(void *arg, const k8s_kind *kind, const char *ns, const char *name, const char *type)
{
	agent_state *st = arg;
	/* "not by this agent" is as much as a watch knows: who did it, the
	 * audit log says */
	if (strcmp(type, "RELISTED") == 0)
		fo_info("agent", "%ss%s%s changed while their watch was broken: a pass checks them", kind->kind,
			ns ? " in " : "", ns ? ns : "");
	else
		fo_info("agent", "%s %s%s%s %s, not by this agent: a pass checks it", kind->kind, ns ? ns : "",
			ns ? "/" : "", name, strcmp(type, "DELETED") == 0 ? "deleted" : "changed");
	ask(st, &st->changed, &st->changed_at);
}

/* A uniform draw in [-1, 1] for the jitter; xorshift seeded from the kernel
 * is plenty: it only spreads agents apart. */
static double draw(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (double)(*s >> 11) / (double)(1ULL << 53) * 2.0 - 1.0;
}

static void wait_until(agent_state *st, int64_t at)
{
	struct timespec ts = fo_mono_deadline(at);
	pthread_cond_timedwait(&st->cond, &st->lock, &ts); /* the condition is CLOCK_MONOTONIC */
}

/* What the pass did, into the metrics (under the lock). */
static void record(agent_state *st, const cli_pass *cp, const deploy_pass *pass, const agent_pass_result *r,
		   enum agent_pass_outcome outcome, double seconds, unsigned failures)
{
	agent_metric_values *m = &st->m;
	m->passes[outcome]++;
	agent_hist_observe(&m->pass_seconds, seconds);
	if (cp->ms_fetch >= 0)
		agent_hist_observe(&m->fetch_seconds, (double)cp->ms_fetch / 1000.0);
	if (outcome == AGENT_PASS_SUCCESS)
		m->last_success = (double)time(NULL);
	m->consecutive_failures = failures;
	if (outcome != AGENT_PASS_ERROR)
		m->rollouts_in_progress = r->waiting;
	/* a pass that read every manifest knows which deployments are gone */
	agent_metric_rollouts(m, pass, outcome != AGENT_PASS_ERROR && cp->bad == 0);
	agent_metric_bluegreen(m, &cp->bg);
	static const enum agent_kind kind_of[RENDER_NCOMPONENTS] = {
		[RENDER_CONFIGMAP] = AGENT_KIND_CONFIGMAP,
		[RENDER_SERVICE_JOBMANAGER] = AGENT_KIND_SERVICE,
		[RENDER_SERVICE_REST] = AGENT_KIND_SERVICE,
		[RENDER_SERVICE_TASKMANAGER] = AGENT_KIND_SERVICE,
		[RENDER_STATEFULSET_JOBMANAGER] = AGENT_KIND_STATEFULSET,
		[RENDER_STATEFULSET_TASKMANAGER] = AGENT_KIND_STATEFULSET,
		[RENDER_INGRESS] = AGENT_KIND_INGRESS,
	};
	for (size_t i = 0; i < pass->n; i++) {
		const deploy_item *it = &pass->items[i];
		bool failed_one = false;
		for (int k = 0; k < RENDER_NCOMPONENTS; k++) {
			if (it->applied[k]) {
				m->applied[kind_of[k]][0]++;
			} else if (it->fd && it->error && !failed_one && it->state[k] != DEPLOY_OBJ_EQUAL) {
				/* objects are applied in order and the first error stops
				 * the deployment: this one is the object that failed */
				m->applied[kind_of[k]][1]++;
				failed_one = true;
			}
		}
	}
}

/* Until the API has answered once, /readyz fails; a pass that stopped at
 * git never reached it, so ask the API directly. */
static void probe_api(agent_state *st, agent_ctx *ctx)
{
	deploy_live *live = NULL;
	fo_err e = FO_ERR_INIT;
	if (agent_ctx_connect(ctx, &e) == 0 && deploy_live_load(ctx->kc, ctx->cfg->agent.name, ctx->cfg->kubernetes.namespaces.v,
									   ctx->cfg->kubernetes.namespaces.n, &live, &e) == 0) {
		pthread_mutex_lock(&st->lock);
		st->api_ready = true;
		pthread_mutex_unlock(&st->lock);
	} else {
		fo_warn("agent", "the Kubernetes API: %s", fo_err_msg(&e));
		k8s_client_free(ctx->kc); /* connected anew next time */
		ctx->kc = NULL;
	}
	deploy_live_free(live);
	fo_err_clear(&e);
}

void agent_loop_run(agent_state *st, agent_ctx *ctx, const agent_sched *sched)
{
	uint64_t seed = 0;
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed) || !seed)
		seed = (uint64_t)agent_mono_ms() | 1;
	int64_t next_at = agent_mono_ms(); /* the first pass at once */
	int64_t last_end = 0, last_maintain = -1;
	unsigned failures = 0, wait_streak = 0;
	uint64_t last_progress = 0;
	bool was_waiting = false;
	enum agent_trigger why_next = AGENT_TRIGGER_START;
	for (unsigned n = 1;; n++) {
		enum agent_trigger why = why_next;
		pthread_mutex_lock(&st->lock);
		for (;;) {
			int64_t now = agent_mono_ms();
			st->heartbeat = now;
			if (atomic_load(&st->stop))
				break;
			agent_wake w = {.now = now, .next_at = next_at, .next_why = why_next, .requested = st->requested,
					.requested_at = st->requested_at, .changed = st->changed,
					.changed_at = st->changed_at, .last_end = last_end, .failures = failures,
					.elected = st->elected};
			int64_t at = 0;
			if (agent_wake_decide(&w, &why, &at)) {
				st->elected = false; /* served: just became the leader, acted at once */
				break;
			}
			if (at > now + HEARTBEAT_MS)
				at = now + HEARTBEAT_MS;
			wait_until(st, at);
		}
		if (atomic_load(&st->stop)) {
			pthread_mutex_unlock(&st->lock);
			break;
		}
		/* whatever was asked for until now is served by this pass */
		st->requested = false;
		st->changed = false;
		st->running = true;
		pthread_mutex_unlock(&st->lock);

		/* Leader election goes here, and only here: a replica that does
		 * not hold the Lease skips the pass (and keeps its schedule);
		 * the webhooks it answered asked for nothing it may do. */
		if (st->fence && !fo_fence_held_at(st->fence, agent_mono_ms(), NULL)) {
			pthread_mutex_lock(&st->lock);
			st->running = false;
			pthread_mutex_unlock(&st->lock);
			fo_debug("agent", "pass %u skipped (%s): this replica does not hold the Lease", n,
				 agent_trigger_name(why));
			n--; /* passes are numbered as they run */
			last_end = agent_mono_ms();
			next_at = last_end + agent_next_delay_ms(sched, draw(&seed), 0, 0);
			was_waiting = false; /* a wait seen again later starts short */
			why_next = AGENT_TRIGGER_INTERVAL;
			continue;
		}

		fo_log_set_pass(n);
		int64_t t0 = agent_mono_ms();
		bool fetch = agent_pass_fetches(why, ctx->commit[0] != '\0', t0 - ctx->fetched_at, sched->interval_ms);
		if (fetch)
			fo_info("agent", "pass %u started (%s)", n, agent_trigger_name(why));
		else
			fo_info("agent", "pass %u started (%s; re-check at %.7s, no fetch)", n, agent_trigger_name(why),
				ctx->commit);
		cli_pass cp;
		deploy_pass pass = {0};
		agent_pass_opts po = {.verb = "agent", .stop = &st->stop, .alive = &st->alive, .no_fetch = !fetch};
		agent_pass_result r;
		agent_pass_run(ctx, &po, &cp, &pass, &r);
		int64_t t1 = agent_mono_ms();
		enum agent_pass_outcome outcome = !cp.api_ok || pass.aborted ? AGENT_PASS_ERROR
						  : r.status != EXIT_OK		? AGENT_PASS_FAILED
										: AGENT_PASS_SUCCESS;
		if (outcome != AGENT_PASS_SUCCESS && atomic_load(&st->stop)) {
			/* the stop request cut it (a fetch, a transfer): no failure,
			 * no retry, nothing recorded; the agent exits now */
			pthread_mutex_lock(&st->lock);
			st->running = false;
			pthread_mutex_unlock(&st->lock);
			fo_info("agent", "pass %u: interrupted by stop request after %.2f s", n, (double)(t1 - t0) / 1000.0);
			deploy_pass_free(&pass);
			cli_pass_close(&cp);
			fo_log_set_pass(0);
			break;
		}
		failures = outcome == AGENT_PASS_ERROR ? failures + 1 : 0;
		/* a wait is looked at again soon, and less often the longer
		 * nothing in it moves; a pass that recorded a step starts over */
		wait_streak = agent_wait_streak(wait_streak, was_waiting, last_progress, r.progress);
		was_waiting = r.waiting > 0 && outcome != AGENT_PASS_ERROR;
		last_progress = r.progress;
		int64_t wait_ms = was_waiting ? agent_wait_delay_ms(wait_streak, t1 - t0, sched->waiting_ms) : 0;
		int64_t delay = agent_next_delay_ms(sched, draw(&seed), failures, wait_ms);
		why_next = failures ? AGENT_TRIGGER_RETRY : r.waiting ? AGENT_TRIGGER_WAITING : AGENT_TRIGGER_INTERVAL;
		if (!st->api_ready && !cp.api_ok && !atomic_load(&st->stop))
			probe_api(st, ctx);
		pthread_mutex_lock(&st->lock);
		record(st, &cp, &pass, &r, outcome, (double)(t1 - t0) / 1000.0, failures);
		if (cp.api_ok)
			st->api_ready = true;
		st->running = false;
		pthread_mutex_unlock(&st->lock);
		static const char *const words[] = {"success", "failed", "error"};
		fo_log_fields lf = {.duration_ms = (long)(t1 - t0)};
		k8s_stats ks;
		cli_pass_stats(&cp, &ks);
		unsigned long sent = ks.get + ks.list + ks.apply + ks.dry_run + ks.del + ks.other;
		fo_logf(FO_LOG_INFO, "agent", &lf,
			"pass %u: %s in %.2f s (%zu waiting, %zu failed%s%.7s; %lu API requests, %lu LISTs from the watch); "
			"next in %.1f s",
			n, words[outcome], (double)(t1 - t0) / 1000.0, r.waiting, r.failed,
			r.status_commit[0] ? ", status committed " : "", r.status_commit[0] ? r.status_commit : "", sent,
			ks.cached, (double)delay / 1000.0);
		if (cp.src.repo && !atomic_load(&st->stop) &&
		    (last_maintain < 0 || t1 - last_maintain >= MAINTAIN_EVERY_MS)) {
			/* no pass runs now: a lock in the cache is a dead worker's */
			fo_err me = FO_ERR_INIT;
			if (sync_maintain(cp.src.repo, NULL, NULL, &me) < 0)
				fo_warn("agent", "repository cache: %s", fo_err_msg(&me));
			fo_err_clear(&me);
			last_maintain = agent_mono_ms();
		}
		deploy_pass_free(&pass);
		cli_pass_close(&cp);
		/* a pass parses and frees megabytes of JSON; give the freed pages
		 * back between passes, so that an idle daemon's memory stays flat */
		malloc_trim(0);
		fo_log_set_pass(0);
		last_end = agent_mono_ms();
		next_at = last_end + delay;
	}
}
