/*
 * The watchers of the watched inventory (k8s/cache.c): one thread per LIST
 * the passes make, each on its own connection, doing what an informer
 * does — LIST once, then WATCH from the list's resourceVersion with
 * bookmarks, resuming from the newest version seen when the server ends a
 * stream, listing again after a 410 Gone, and after a stream that broke
 * (the API server restarting, the network) listing again with a doubling
 * pause. From the moment a stream breaks until its next LIST is read, the
 * key serves nothing, so no pass acts on what a broken watch missed.
 * An event that changes what a key holds (not an echo of this process's own
 * write, which k8s_cache_put already recorded) is told to the caller: the
 * daemon runs a pass for it, so that drift is corrected at once.
 */
#include "k8s/k8s.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"

/* How long one watch request lasts before the server ends it and it is
 * resumed: also the bound on how long a connection that hangs without a
 * word is believed (its deadline is this plus 30 s). */
#define WATCH_TIMEOUT_S 60
#define WATCH_BACKOFF_FIRST_MS 500
#define WATCH_BACKOFF_MAX_MS 30000
/* How often the supervisor looks for keys no watcher has yet. */
#define WATCH_SCAN_MS 100

typedef struct worker {
	pthread_t thread;
	struct k8s_watcher *w;
	size_t id;
	const k8s_kind *kind;
	char *ns, *selector;
	unsigned flags;
} worker;

struct k8s_watcher {
	k8s_cache *cache;
	k8s_client *tmpl; /* cloned for each worker, under `lock` */
	k8s_watch_notify notify;
	void *arg;
	atomic_bool stop;
	pthread_mutex_t lock;
	pthread_t supervisor;
	worker **workers;
	size_t n;
};

typedef struct collected {
	cJSON **v;
	size_t n, cap;
} collected;

static int collect(cJSON *item, void *arg)
{
	collected *c = arg;
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->v = fo_realloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->n++] = item;
	return 0;
}

static void collected_free(collected *c)
{
	for (size_t i = 0; i < c->n; i++)
		cJSON_Delete(c->v[i]);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

typedef struct event_ctx {
	worker *wk;
	unsigned long events;
} event_ctx;

static int on_event(const char *type, const cJSON *obj, void *arg)
{
	event_ctx *ec = arg;
	worker *wk = ec->wk;
	ec->events++;
	if (k8s_cache_event(wk->w->cache, wk->id, type, obj) && wk->w->notify) {
		const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
		const cJSON *ns = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
		wk->w->notify(wk->w->arg, wk->kind, cJSON_IsString(ns) ? ns->valuestring : NULL,
			      cJSON_IsString(name) ? name->valuestring : "", type);
	}
	return 0;
}

static void *work(void *arg)
{
	worker *wk = arg;
	k8s_watcher *w = wk->w;
	k8s_client *c = NULL;
	fo_err e = FO_ERR_INIT;
	pthread_mutex_lock(&w->lock);
	int rc = k8s_client_clone(w->tmpl, &c, &e);
	pthread_mutex_unlock(&w->lock);
	if (rc < 0) {
		fo_warn("k8s", "watch of %s: no client: %s; its LISTs stay requests", wk->kind->plural, fo_err_msg(&e));
		fo_err_clear(&e);
		return NULL;
	}
	k8s_client_set_stop(c, &w->stop);
	long backoff = WATCH_BACKOFF_FIRST_MS;
	bool synced = false, faulted = false;
	const char *fault_version = getenv("FLINKOPS_FAULT_WATCH_VERSION");
	const char *where = wk->ns ? wk->ns : "every namespace";
	while (!atomic_load(&w->stop)) {
		if (!synced) {
			collected items = {0};
			char *rv = NULL;
			rc = k8s_list_fresh(c, wk->kind, wk->ns, wk->selector, wk->flags, collect, &items, &rv, &e);
			if (rc == 0 && rv && *rv) {
				if (k8s_cache_reset(w->cache, wk->id, items.v, items.n, rv) && w->notify)
					w->notify(w->arg, wk->kind, wk->ns, "", "RELISTED");
				fo_debug("k8s", "watch of %s in %s: listed %zu at version %s", wk->kind->plural, where,
					 items.n, rv);
				synced = true;
			} else if (rc == 0) {
				fo_warn("k8s", "watch of %s in %s: the LIST has no resourceVersion; its LISTs stay requests",
					wk->kind->plural, where);
				rc = FO_ESERVER;
			}
			collected_free(&items);
			free(rv);
			if (rc < 0) {
				if (rc != FO_ESTOPPED)
					fo_info("k8s", "watch of %s in %s: %s; listing again in %ld ms", wk->kind->plural,
						where, fo_err_msg(&e), backoff);
				fo_err_clear(&e);
				if (fo_pause_ms(backoff, &w->stop))
					break;
				backoff = backoff * 2 > WATCH_BACKOFF_MAX_MS ? WATCH_BACKOFF_MAX_MS : backoff * 2;
				continue;
			}
		}
		char *rv = k8s_cache_version(w->cache, wk->id);
		if (fault_version && !faulted) {
			/* FLINKOPS_FAULT_WATCH_VERSION (deploy/rollout.c lists the
			 * fault points): resume once from a version the API server
			 * has compacted away, for its real 410 */
			free(rv);
			rv = fo_strdup(fault_version);
			faulted = true;
			fo_warn("k8s", "watch of %s in %s resumes from version %s (FLINKOPS_FAULT_WATCH_VERSION)",
				wk->kind->plural, where, rv);
		}
		event_ctx ec = {wk, 0};
		rc = k8s_watch(c, wk->kind, wk->ns, wk->selector, rv, WATCH_TIMEOUT_S, on_event, &ec, &e);
		free(rv);
		if (rc == 0) { /* the server ended the stream: resume from the newest version */
			backoff = WATCH_BACKOFF_FIRST_MS;
			continue;
		}
		/* from here until the next LIST, the key serves nothing */
		k8s_cache_unsync(w->cache, wk->id);
		synced = false;
		if (rc == K8S_WATCH_GONE) {
			fo_info("k8s", "watch of %s in %s: the version is gone (410); listing again", wk->kind->plural,
				where);
			continue;
		}
		if (rc != FO_ESTOPPED)
			fo_info("k8s", "watch of %s in %s broke after %lu events: %s; listing again in %ld ms",
				wk->kind->plural, where, ec.events, fo_err_msg(&e), backoff);
		fo_err_clear(&e);
		if (fo_pause_ms(backoff, &w->stop))
			break;
		backoff = backoff * 2 > WATCH_BACKOFF_MAX_MS ? WATCH_BACKOFF_MAX_MS : backoff * 2;
	}
	k8s_cache_unsync(w->cache, wk->id);
	k8s_client_free(c);
	return NULL;
}

static void *supervise(void *arg)
{
	k8s_watcher *w = arg;
	while (!atomic_load(&w->stop)) {
		worker tmp = {0};
		while (k8s_cache_take_unwatched(w->cache, &tmp.id, &tmp.kind, &tmp.ns, &tmp.selector, &tmp.flags)) {
			worker *wk = fo_calloc(1, sizeof(*wk));
			*wk = tmp;
			wk->w = w;
			if (pthread_create(&wk->thread, NULL, work, wk) != 0) {
				fo_warn("k8s", "watch of %s: no thread; its LISTs stay requests", wk->kind->plural);
				free(wk->ns);
				free(wk->selector);
				free(wk);
				continue;
			}
			w->workers = fo_realloc(w->workers, (w->n + 1) * sizeof(*w->workers));
			w->workers[w->n++] = wk;
		}
		fo_pause_ms(WATCH_SCAN_MS, &w->stop);
	}
	return NULL;
}

int k8s_watcher_start(k8s_cache *cache, const k8s_client *tmpl, k8s_watch_notify notify, void *arg,
		      k8s_watcher **out, fo_err *e)
{
	*out = NULL;
	k8s_watcher *w = fo_calloc(1, sizeof(*w));
	int rc = k8s_client_clone(tmpl, &w->tmpl, e);
	if (rc < 0) {
		free(w);
		return rc;
	}
	w->cache = cache;
	w->notify = notify;
	w->arg = arg;
	atomic_init(&w->stop, false);
	pthread_mutex_init(&w->lock, NULL);
	if (pthread_create(&w->supervisor, NULL, supervise, w) != 0) {
		pthread_mutex_destroy(&w->lock);
		k8s_client_free(w->tmpl);
		free(w);
		return fo_err_set(e, FO_EIO, "cannot start the watch thread");
	}
	*out = w;
	return 0;
}

void k8s_watcher_stop(k8s_watcher *w)
{
	if (!w)
		return;
	atomic_store(&w->stop, true);
	pthread_join(w->supervisor, NULL);
	for (size_t i = 0; i < w->n; i++) {
		pthread_join(w->workers[i]->thread, NULL);
		free(w->workers[i]->ns);
		free(w->workers[i]->selector);
		free(w->workers[i]);
	}
	free(w->workers);
	k8s_client_free(w->tmpl);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
