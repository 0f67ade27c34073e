/*
 * A Kubernetes API client over libcurl: connection settings from a
 * kubeconfig or from inside a pod, and the few verbs flinkops needs — get,
 * list by label selector (paginated), server-side apply (also as a dry run),
 * delete, and create and replace (for the leader election's Lease). One
 * client keeps one connection. With a write fence, every request but a GET
 * is refused before it is sent while the fence is not held. Errors keep the server's own
 * Status message and say which verb on which object failed; requests are
 * counted by kind, so tests can assert that a pass wrote nothing.
 */
#ifndef K8S_K8S_H
#define K8S_K8S_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "lib/err.h"
#include "lib/fence.h"

typedef struct k8s_config {
	char *server;          /* https://host:port, no trailing slash */
	char *ca_file;         /* PEM file to trust, or NULL */
	char *ca_pem;          /* PEM text (from certificate-authority-data), or NULL */
	bool insecure;         /* insecure-skip-tls-verify: true in the kubeconfig */
	char *cert_file, *key_file; /* client certificate and key files */
	char *cert_pem, *key_pem;   /* or their PEM text */
	char *token;           /* bearer token, or NULL */
	char *token_file;      /* re-read whenever the file changes (projected tokens rotate) */
	char *namespace;       /* the context's namespace, or NULL */
	char *context;         /* the context used, for messages */
} k8s_config;

/*
 * Read a kubeconfig file. `context` NULL uses current-context. Relative
 * paths in it are taken relative to the file's folder. Exec plugins and
 * auth providers are refused with a message saying so.
 */
int k8s_config_from_kubeconfig(const char *path, const char *context, k8s_config **out, fo_err *e);
/* The same from text (for tests); `dir` resolves relative paths. */
int k8s_config_from_kubeconfig_text(const char *name, const char *text, size_t len, const char *dir,
				    const char *context, k8s_config **out, fo_err *e);
/*
 * Inside a pod: KUBERNETES_SERVICE_HOST/PORT and the service account folder
 * (/var/run/secrets/kubernetes.io/serviceaccount, or $FLINKOPS_SERVICEACCOUNT_DIR).
 */
int k8s_config_in_cluster(k8s_config **out, fo_err *e);
void k8s_config_free(k8s_config *c);

typedef struct k8s_kind {
	const char *kind;           /* StatefulSet */
	const char *group_version;  /* apps/v1, or v1 for the core group */
	const char *plural;         /* statefulsets */
	bool namespaced;
} k8s_kind;

extern const k8s_kind k8s_kind_configmap;
extern const k8s_kind k8s_kind_service;
extern const k8s_kind k8s_kind_statefulset;
extern const k8s_kind k8s_kind_pod;
extern const k8s_kind k8s_kind_namespace;
extern const k8s_kind k8s_kind_lease; /* coordination.k8s.io/v1 */
/* the plain kinds applied from git beside FlinkDeployments */
extern const k8s_kind k8s_kind_serviceaccount;
extern const k8s_kind k8s_kind_role;        /* rbac.authorization.k8s.io/v1 */
extern const k8s_kind k8s_kind_rolebinding; /* rbac.authorization.k8s.io/v1 */
extern const k8s_kind k8s_kind_ingress;     /* networking.k8s.io/v1 */

/* The kind descriptor of an object from its apiVersion and kind, or NULL. */
const k8s_kind *k8s_kind_of(const cJSON *obj);

typedef struct k8s_stats {
	unsigned long get, list, apply, dry_run, del, other;
	unsigned long cached;       /* LISTs answered from the watched inventory: no request */
	unsigned long retries;
	unsigned long failures;     /* requests that ended in an error */
} k8s_stats;

/* Writes: requests that can change the cluster. */
unsigned long k8s_stats_writes(const k8s_stats *s);

typedef struct k8s_options {
	const char *field_manager;  /* default "flinkops" */
	bool force;                 /* take over fields another manager owns (default false) */
	long timeout_ms;            /* per request (default 30 s) */
	int retries;                /* after a network error, 429 or 5xx (default 3) */
	long backoff_ms;            /* first retry delay, doubling (default 200 ms) */
	size_t page_size;           /* list page size (default 200: a page of StatefulSets is parsed at once) */
	size_t max_body;            /* larger answers fail with FO_ETOOBIG (default 256 MiB) */
	const fo_fence *fence;      /* NULL: always allowed; else every request that can change the
	                             * cluster (apply, dry runs too, delete, create, replace: anything
	                             * but GET) is refused with FO_EFENCED while it is not held */
	const atomic_bool *stop;    /* when set (shutdown): a failed request is not retried */
	atomic_llong *alive;        /* each answer marks progress here (fo_http_opts.alive; NULL: not
	                             * kept); a request in flight is never cut by the stop request */
	struct k8s_cache *cache;    /* NULL: every LIST is a request; else LISTs its watches keep
	                             * are answered from it and writes are put into it (k8s_cache_*) */
} k8s_options;

typedef struct k8s_client k8s_client;

int k8s_client_new(const k8s_config *cfg, const k8s_options *opts, k8s_client **out, fo_err *e);
/* A new client with the same settings and its own connection, for another
 * thread (a client is not shared between threads). */
int k8s_client_clone(const k8s_client *c, k8s_client **out, fo_err *e);
/* Add the request counts of `src` to `dst`. */
void k8s_client_add_stats(k8s_client *dst, const k8s_client *src);
/* From now on, a failed request is not retried (nor waited for) once
 * `*stop` is set (NULL: always retried); clones made later inherit it. */
void k8s_client_set_stop(k8s_client *c, const atomic_bool *stop);
/* From now on, each answer marks progress in `*alive` (NULL: not kept);
 * clones made later inherit it. */
void k8s_client_set_alive(k8s_client *c, atomic_llong *alive);
/* From now on, LISTs are answered from `cache` while its watches are live
 * and writes are put into it (NULL: none); clones made later inherit it. */
void k8s_client_set_cache(k8s_client *c, struct k8s_cache *cache);
void k8s_client_free(k8s_client *c);
const k8s_stats *k8s_client_stats(const k8s_client *c);

/* GET one object; FO_ENOTFOUND when it does not exist. */
int k8s_get(k8s_client *c, const k8s_kind *kind, const char *ns, const char *name, cJSON **out, fo_err *e);
/*
 * List the objects of a kind matching `selector` ("a=b,c" syntax), in `ns`
 * or in every namespace when NULL, following `continue` tokens. Each object
 * is handed to `fn` as soon as its page arrives (fn owns it), with apiVersion
 * and kind filled in and without metadata.managedFields (often most of an
 * object, never needed here), so that only one page is held at a time. A
 * negative return from fn stops the listing with that code.
 */
#define K8S_LIST_NO_STATUS 1u /* flag: drop each object's status too */
int k8s_list_each(k8s_client *c, const k8s_kind *kind, const char *ns, const char *selector, unsigned flags,
		  int (*fn)(cJSON *item, void *arg), void *arg, fo_err *e);
/*
 * The same LIST, always as requests (never from the client's cache), and
 * with the list's resourceVersion in *rv (caller frees; NULL on error):
 * where a watch of it starts.
 */
int k8s_list_fresh(k8s_client *c, const k8s_kind *kind, const char *ns, const char *selector, unsigned flags,
		   int (*fn)(cJSON *item, void *arg), void *arg, char **rv, fo_err *e);
/*
 * One page of a LIST answer, as k8s_list_each handles it (pure; exposed for
 * tests): each item of `body` goes to `fn` with apiVersion and kind filled
 * in and without metadata.managedFields (nor status with
 * K8S_LIST_NO_STATUS); *next gets metadata.continue, or NULL on the last
 * page and on an error; *rv (when not NULL) the list's resourceVersion, or
 * NULL. A body that is not a JSON object, or an item that is not one, is
 * FO_ESERVER naming `what`.
 */
int k8s_list_page_parse(const char *body, const k8s_kind *kind, unsigned flags, const char *what,
			int (*fn)(cJSON *item, void *arg), void *arg, char **next, char **rv, fo_err *e);

/* k8s_watch's answer when the API server no longer has the version asked
 * from (410 Gone, as a status or as an ERROR event): list again. */
#define K8S_WATCH_GONE 1
/*
 * Watch the objects of a LIST from resourceVersion `rv`, with bookmarks,
 * for at most `timeout_s` seconds (the server ends the stream then). Each
 * event goes to `on_event` as it arrives: its type (ADDED, MODIFIED,
 * DELETED, BOOKMARK) and its object, which the callee may keep a copy of
 * but does not own; a negative return ends the watch with that code. An
 * ERROR event or an error status ends it: K8S_WATCH_GONE for 410, else a
 * negative error naming the watch. 0 when the server ended the stream.
 * The client's stop request cuts the stream (FO_ESTOPPED). One event is at
 * most K8S_WATCH_MAX_EVENT bytes.
 */
#define K8S_WATCH_MAX_EVENT (16u << 20)
int k8s_watch(k8s_client *c, const k8s_kind *kind, const char *ns, const char *selector, const char *rv,
	      long timeout_s, int (*on_event)(const char *type, const cJSON *obj, void *arg), void *arg, fo_err *e);
/* The same, fed from a buffer (pure; for tests and fuzzing): the lines of
 * `body` as k8s_watch reads a stream, HTTP status `status`. */
int k8s_watch_parse(const char *body, size_t len, long status, const char *what,
		    int (*on_event)(const char *type, const cJSON *obj, void *arg), void *arg, fo_err *e);

/* ---- the watched inventory (cache.c) ---- */

typedef struct k8s_cache k8s_cache;
k8s_cache *k8s_cache_new(void);
void k8s_cache_free(k8s_cache *c);
/*
 * Answer a LIST from `c` (k8s_list_each does, when its client has one):
 * 1 when it was, each object's copy handed to fn as k8s_list_each would,
 * fn's negative return in *rc; 0 when the pass must list for real — the
 * key is new (it is then registered, for a watcher to take), its watch is
 * not live, the kind is not one watched (pods), the status is asked for,
 * or the selector is not one this reader parses.
 */
int k8s_cache_serve(k8s_cache *c, const k8s_kind *kind, const char *ns, const char *selector, unsigned flags,
		    int (*fn)(cJSON *item, void *arg), void *arg, int *rc);
/*
 * Our own writes (k8s_apply, create, replace, delete do this when their
 * client has a cache). k8s_cache_expect before the request: until its
 * answer, an event for that object is an echo of ours, not news (the
 * watch can be quicker than the answer). Then one of: k8s_cache_put with
 * what the server answered (the object as it now has it, put into every
 * key it belongs to, so that the next pass does not act on the version
 * before its own write); k8s_cache_drop for a delete that succeeded (or
 * found it gone); k8s_cache_unexpect for a write that failed. A write of
 * someone else in that window is not told as news; its event still
 * updates the inventory, and the next pass sees it.
 */
void k8s_cache_expect(k8s_cache *c, const k8s_kind *kind, const char *ns, const char *name);
void k8s_cache_put(k8s_cache *c, const k8s_kind *kind, const char *ns, const char *name, const cJSON *obj);
void k8s_cache_drop(k8s_cache *c, const k8s_kind *kind, const char *ns, const char *name);
void k8s_cache_unexpect(k8s_cache *c, const k8s_kind *kind, const char *ns, const char *name);
/* For a watcher: take a key no watcher has (false: none), with copies
 * of what it lists (caller frees ns and selector). */
bool k8s_cache_take_unwatched(k8s_cache *c, size_t *id, const k8s_kind **kind, char **ns, char **selector,
			      unsigned *flags);
/* A whole LIST of key `id` (the watcher's): its items (the caller's
 * still) and version; the key is live from now on. True when the key's
 * watch had broken and the LIST differs from what it held before: changes
 * the broken watch missed. */
bool k8s_cache_reset(k8s_cache *c, size_t id, cJSON **items, size_t n, const char *rv);
/* Key `id`'s watch broke: nothing is served from it until the next reset. */
void k8s_cache_unsync(k8s_cache *c, size_t id);
/* The version a watch of key `id` resumes from (caller frees). */
char *k8s_cache_version(k8s_cache *c, size_t id);
/* An event of key `id`'s watch. True when it changed what the key holds,
 * versions aside: someone else's change (an echo of our own write, put
 * here already, changes nothing). */
bool k8s_cache_event(k8s_cache *c, size_t id, const char *type, const cJSON *obj);

/* ---- the watchers (watch.c) ---- */

/* Told, from a watcher's thread, of an event that changed what the
 * inventory holds: someone else's change to object `name` (ns NULL when
 * not namespaced), or its deletion (`type` DELETED); or, `type`
 * RELISTED (name ""), a LIST after a broken watch that found changes. */
typedef void (*k8s_watch_notify)(void *arg, const k8s_kind *kind, const char *ns, const char *name,
				 const char *type);
typedef struct k8s_watcher k8s_watcher;
/*
 * Start watching every key of `cache` (and every key added later): a
 * thread per key, each with its own clone of `tmpl` (which the caller
 * keeps). `notify` (may be NULL) hears of changes.
 */
int k8s_watcher_start(k8s_cache *cache, const k8s_client *tmpl, k8s_watch_notify notify, void *arg,
		      k8s_watcher **out, fo_err *e);
/* Stop and free; every key stops serving. Accepts NULL. */
void k8s_watcher_stop(k8s_watcher *w);
/*
 * Server-side apply of `obj` (PATCH, application/apply-patch+yaml, the
 * client's field manager and force setting). With `dry_run` the server
 * computes the result without storing it. *result (may be NULL) is what the
 * server returned.
 */
int k8s_apply(k8s_client *c, const cJSON *obj, bool dry_run, cJSON **result, fo_err *e);
/* DELETE with a propagation policy ("Background", "Foreground", "Orphan" or
 * NULL); an object that is already gone is not an error. */
int k8s_delete(k8s_client *c, const k8s_kind *kind, const char *ns, const char *name, const char *propagation,
	       fo_err *e);

/*
 * Create `obj` (POST to its collection). *result (may be NULL) is what the
 * server stored. An object that exists already is FO_ECONFLICT.
 */
int k8s_create(k8s_client *c, const cJSON *obj, cJSON **result, fo_err *e);
/*
 * Replace `obj` (PUT). With metadata.resourceVersion the server stores it
 * only if the object is still that version, and FO_ECONFLICT says it
 * changed since it was read (409): read it again and decide again.
 */
int k8s_replace(k8s_client *c, const cJSON *obj, cJSON **result, fo_err *e);

/* Format an API error from a response (pure; exposed for tests). `what` is
 * "apply StatefulSet default/x". Returns the FO_E* code for the status. */
int k8s_error_from_response(long status, const char *body, const char *what, fo_err *e);

/* ---- Events (event.c builds them, client.c sends them) ---- */

/* Longer messages are cut (at a UTF-8 boundary): the events.k8s.io API
 * refuses notes over 1 kB, and kubectl shows one line anyway. */
#define K8S_EVENT_MESSAGE_MAX 1024

typedef struct k8s_event {
	const char *ns;              /* the involved object's namespace, also the Event's */
	const k8s_kind *kind;        /* the involved object's kind */
	const char *name;            /* ...its name */
	const char *uid;             /* ...its uid, or NULL when unknown */
	const char *reason;          /* CamelCase, e.g. SavepointCompleted */
	const char *message;         /* one line for people; never a secret */
	bool warning;                /* type Warning, else Normal */
	const char *component;       /* source.component and reportingComponent: "flinkops" */
	const char *instance;        /* reportingInstance (the agent's name), or NULL */
} k8s_event;

/*
 * The core v1 Event for `ev`, named `name` (unique in the namespace), first
 * and last seen at `time` (RFC 3339), count 1. Pure; the caller deletes it.
 */
cJSON *k8s_event_build(const k8s_event *ev, const char *name, const char *time);
/*
 * POST the Event for `ev` to /api/v1/namespaces/NS/events, named after the
 * object with a random suffix (as client-go names them) and stamped now.
 */
int k8s_event_create(k8s_client *c, const k8s_event *ev, fo_err *e);

#endif
