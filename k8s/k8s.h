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
 * One page of a LIST answer, as k8s_list_each handles it (pure; exposed for
 * tests): each item of `body` goes to `fn` with apiVersion and kind filled
 * in and without metadata.managedFields (nor status with
 * K8S_LIST_NO_STATUS); *next gets metadata.continue, or NULL on the last
 * page and on an error. A body that is not a JSON object, or an item that
 * is not one, is FO_ESERVER naming `what`.
 */
int k8s_list_page_parse(const char *body, const k8s_kind *kind, unsigned flags, const char *what,
			int (*fn)(cJSON *item, void *arg), void *arg, char **next, fo_err *e);
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
