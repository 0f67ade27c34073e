/*
 * The Kubernetes API client. Requests go through one lib/http handle (one
 * connection, HTTP/2 where offered). Failures that a retry can cure — no
 * connection, a timeout, 429, 500/502/503/504 — are retried a bounded number
 * of times with doubling delays; everything else is turned into an error
 * that keeps the API server's Status message.
 */
#include "k8s/k8s.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/fs.h"
#include "lib/http.h"
#include "lib/json.h"
#include "lib/url.h"
#include "lib/log.h"

const k8s_kind k8s_kind_configmap = {"ConfigMap", "v1", "configmaps", true};
const k8s_kind k8s_kind_service = {"Service", "v1", "services", true};
const k8s_kind k8s_kind_statefulset = {"StatefulSet", "apps/v1", "statefulsets", true};
const k8s_kind k8s_kind_pod = {"Pod", "v1", "pods", true};
const k8s_kind k8s_kind_namespace = {"Namespace", "v1", "namespaces", false};
const k8s_kind k8s_kind_lease = {"Lease", "coordination.k8s.io/v1", "leases", true};
const k8s_kind k8s_kind_serviceaccount = {"ServiceAccount", "v1", "serviceaccounts", true};
const k8s_kind k8s_kind_role = {"Role", "rbac.authorization.k8s.io/v1", "roles", true};
const k8s_kind k8s_kind_rolebinding = {"RoleBinding", "rbac.authorization.k8s.io/v1", "rolebindings", true};
const k8s_kind k8s_kind_ingress = {"Ingress", "networking.k8s.io/v1", "ingresses", true};

static const k8s_kind *const known_kinds[] = {&k8s_kind_configmap, &k8s_kind_service, &k8s_kind_statefulset,
					      &k8s_kind_pod, &k8s_kind_namespace, &k8s_kind_lease,
					      &k8s_kind_serviceaccount, &k8s_kind_role, &k8s_kind_rolebinding,
					      &k8s_kind_ingress};

struct k8s_client {
	fo_http *http;
	k8s_config *cfg;       /* a copy, so that the client can be cloned */
	k8s_options opts;
	char *server;
	char *token;           /* current bearer token */
	char *token_file;
	struct timespec token_mtime;
	off_t token_size;
	char *field_manager;
	bool force;
	int retries;
	long backoff_ms;
	size_t page_size;
	k8s_stats stats;
};

const k8s_kind *k8s_kind_of(const cJSON *obj)
{
	const cJSON *av = cJSON_GetObjectItemCaseSensitive(obj, "apiVersion");
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(obj, "kind");
	if (!cJSON_IsString(av) || !cJSON_IsString(k))
		return NULL;
	for (size_t i = 0; i < FO_ARRAY_LEN(known_kinds); i++)
		if (strcmp(known_kinds[i]->kind, k->valuestring) == 0 &&
		    strcmp(known_kinds[i]->group_version, av->valuestring) == 0)
			return known_kinds[i];
	return NULL;
}

unsigned long k8s_stats_writes(const k8s_stats *s)
{
	return s->apply + s->dry_run + s->del + s->other;
}

static void wipe_free(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

static char *dup_opt(const char *s)
{
	return s ? fo_strdup(s) : NULL;
}

static k8s_config *config_dup(const k8s_config *c)
{
	k8s_config *d = fo_calloc(1, sizeof(*d));
	d->server = dup_opt(c->server);
	d->ca_file = dup_opt(c->ca_file);
	d->ca_pem = dup_opt(c->ca_pem);
	d->insecure = c->insecure;
	d->cert_file = dup_opt(c->cert_file);
	d->key_file = dup_opt(c->key_file);
	d->cert_pem = dup_opt(c->cert_pem);
	d->key_pem = dup_opt(c->key_pem);
	d->token = dup_opt(c->token);
	d->token_file = dup_opt(c->token_file);
	d->namespace = dup_opt(c->namespace);
	d->context = dup_opt(c->context);
	return d;
}

/* (Re)read the token file when it changed; kubelet rotates projected tokens. */
static int refresh_token(k8s_client *c, fo_err *e)
{
	if (!c->token_file)
		return 0;
	struct stat st;
	if (stat(c->token_file, &st) != 0)
		return fo_err_set(e, FO_EAUTH, "token file %s: %s", c->token_file, strerror(errno));
	if (c->token && st.st_mtim.tv_sec == c->token_mtime.tv_sec && st.st_mtim.tv_nsec == c->token_mtime.tv_nsec &&
	    st.st_size == c->token_size)
		return 0;
	char *tok = NULL;
	int rc = fo_fs_read(c->token_file, 64 * 1024, &tok, NULL, e);
	if (rc < 0)
		return rc;
	tok[strcspn(tok, "\r\n")] = '\0';
	wipe_free(c->token);
	c->token = tok;
	c->token_mtime = st.st_mtim;
	c->token_size = st.st_size;
	return 0;
}

int k8s_client_new(const k8s_config *cfg, const k8s_options *opts, k8s_client **out, fo_err *e)
{
	*out = NULL;
	fo_http_opts ho = {0};
	ho.ca_file = cfg->ca_file;
	ho.ca_pem = cfg->ca_pem;
	ho.insecure = cfg->insecure;
	ho.cert_file = cfg->cert_file;
	ho.key_file = cfg->key_file;
	ho.cert_pem = cfg->cert_pem;
	ho.key_pem = cfg->key_pem;
	ho.timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms : 30000;
	ho.max_response_bytes = opts && opts->max_body ? opts->max_body : 256u << 20;
	ho.alive = opts ? opts->alive : NULL;
	k8s_client *c = fo_calloc(1, sizeof(*c));
	int rc = fo_http_new(&ho, &c->http, e);
	if (rc < 0) {
		free(c);
		return rc;
	}
	c->cfg = config_dup(cfg);
	if (opts)
		c->opts = *opts;
	c->opts.field_manager = NULL; /* kept in c->field_manager */
	c->server = fo_strdup(cfg->server);
	if (cfg->token)
		c->token = fo_strdup(cfg->token);
	if (cfg->token_file)
		c->token_file = fo_strdup(cfg->token_file);
	c->field_manager = fo_strdup(opts && opts->field_manager ? opts->field_manager : "flinkops");
	c->force = opts ? opts->force : false;
	c->retries = opts && opts->retries ? opts->retries : 3;
	if (c->retries < 0)
		c->retries = 0;
	c->backoff_ms = opts && opts->backoff_ms ? opts->backoff_ms : 200;
	c->page_size = opts && opts->page_size ? opts->page_size : 200;
	if ((rc = refresh_token(c, e)) < 0) {
		k8s_client_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int k8s_client_clone(const k8s_client *c, k8s_client **out, fo_err *e)
{
	k8s_options o = c->opts;
	o.field_manager = c->field_manager;
	o.force = c->force;
	return k8s_client_new(c->cfg, &o, out, e);
}

void k8s_client_set_stop(k8s_client *c, const atomic_bool *stop)
{
	c->opts.stop = stop;
}

void k8s_client_set_alive(k8s_client *c, atomic_llong *alive)
{
	c->opts.alive = alive;
	fo_http_set_watch(c->http, NULL, alive);
}

void k8s_client_set_cache(k8s_client *c, struct k8s_cache *cache)
{
	c->opts.cache = cache;
}

void k8s_client_add_stats(k8s_client *dst, const k8s_client *src)
{
	dst->stats.get += src->stats.get;
	dst->stats.list += src->stats.list;
	dst->stats.apply += src->stats.apply;
	dst->stats.dry_run += src->stats.dry_run;
	dst->stats.del += src->stats.del;
	dst->stats.other += src->stats.other;
	dst->stats.cached += src->stats.cached;
	dst->stats.retries += src->stats.retries;
	dst->stats.failures += src->stats.failures;
}

void k8s_client_free(k8s_client *c)
{
	if (!c)
		return;
	k8s_config_free(c->cfg);
	fo_http_free(c->http);
	free(c->server);
	wipe_free(c->token);
	free(c->token_file);
	free(c->field_manager);
	free(c);
}

const k8s_stats *k8s_client_stats(const k8s_client *c)
{
	return &c->stats;
}

int k8s_error_from_response(long status, const char *body, const char *what, fo_err *e)
{
	cJSON *j = body ? cJSON_Parse(body) : NULL;
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
	const cJSON *reason = cJSON_GetObjectItemCaseSensitive(j, "reason");
	int code;
	const char *hint = "";
	switch (status) {
	case 401:
		code = FO_EAUTH;
		hint = "; the credentials were refused: check the token or client certificate in the kubeconfig";
		break;
	case 403: code = FO_EFORBIDDEN; hint = "; grant flinkops this permission with RBAC"; break;
	case 404: code = FO_ENOTFOUND; break;
	case 409:
		code = FO_ECONFLICT;
		if (cJSON_IsString(reason) && strcmp(reason->valuestring, "Conflict") == 0 && msg &&
		    strstr(cJSON_IsString(msg) ? msg->valuestring : "", "conflict"))
			hint = "; another field manager owns these fields: set kubernetes.forceConflicts to take them over";
		break;
	case 400:
	case 422: code = FO_EINVAL; break;
	case 429: code = FO_ESERVER; break;
	default: code = status >= 500 ? FO_ESERVER : FO_EINVAL; break;
	}
	if (cJSON_IsString(msg) && msg->valuestring[0]) {
		fo_err_set(e, code, "%s: %s (%s, HTTP %ld)%s", what, msg->valuestring,
			   cJSON_IsString(reason) ? reason->valuestring : "error", status, hint);
	} else {
		/* not a Status: quote the start of the body, bounded */
		const char *b = body ? body : "";
		fo_err_set(e, code, "%s: HTTP %ld%s%.*s%s", what, status, *b ? ": " : "", (int)fo_utf8_cut(b, strlen(b), 200),
			   b, hint);
	}
	cJSON_Delete(j);
	return code;
}

static bool retryable(int rc, long status)
{
	if (rc == FO_ENET || rc == FO_ETIMEOUT)
		return true;
	return rc == 0 && (status == 429 || status == 500 || status == 502 || status == 503 || status == 504);
}

/*
 * Send a request with retries. On success (2xx) *body gets the text (may be
 * NULL when not wanted). Otherwise the error names `what`.
 */
static int request(k8s_client *c, const char *method, const char *url, const char *ctype, const char *payload,
		   unsigned long *counter, const char *what, char **body, long *status_out, fo_err *e)
{
	int rc = 0;
	long delay = c->backoff_ms;
	for (int attempt = 0;; attempt++) {
		/* each attempt asks the fence again: a retry may come after the
		 * lease was lost */
		if (strcmp(method, "GET") != 0 && (rc = fo_fence_check(c->opts.fence, what, e)) < 0) {
			c->stats.failures++;
			return rc;
		}
		if ((rc = refresh_token(c, e)) < 0)
			return fo_err_prefix(e, "%s", what);
		fo_http_request req = {0};
		req.method = method;
		req.url = url;
		req.content_type = ctype;
		req.body = payload;
		req.body_len = payload ? strlen(payload) : 0;
		req.bearer_token = c->token;
		fo_http_response resp;
		fo_err herr = FO_ERR_INIT;
		(*counter)++;
		rc = fo_http_do(c->http, &req, &resp, &herr);
		long status = resp.status;
		if (status_out)
			*status_out = status;
		bool ok = rc == 0 && status >= 200 && status < 300;
		/* an HTML page from a proxy is named as such; it is no reason to retry */
		if (ok && body && (rc = fo_http_expect_json(&resp, method, url, &herr)) < 0)
			ok = false;
		if (ok) {
			if (body)
				*body = fo_buf_detach(&resp.body);
			fo_http_response_free(&resp);
			fo_err_clear(&herr);
			if (attempt > 0)
				fo_err_clear(e); /* an earlier attempt's error is no longer true */
			return 0;
		}
		/* shutting down: the next agent retries, this one does not wait */
		bool again = retryable(rc, status) && attempt < c->retries && !(c->opts.stop && atomic_load(c->opts.stop));
		if (rc < 0)
			fo_err_set(e, rc, "%s: %s", what, fo_err_msg(&herr));
		else
			rc = k8s_error_from_response(status, fo_buf_cstr(&resp.body), what, e);
		fo_http_response_free(&resp);
		fo_err_clear(&herr);
		if (!again) {
			c->stats.failures++;
			if (attempt > 0) {
				char *m = fo_strdup(fo_err_msg(e));
				fo_err_set(e, rc, "%s (gave up after %d attempts)", m, attempt + 1);
				free(m);
			}
			return rc;
		}
		c->stats.retries++;
		fo_debug("k8s", "%s failed (%s); retrying in %ld ms", what, fo_err_msg(e), delay);
		if (fo_pause_ms(delay, c->opts.stop)) {
			c->stats.failures++;
			return rc; /* the stop came during the pause: the error stands */
		}
		delay = delay * 2 > 10000 ? 10000 : delay * 2;
	}
}

/* /api/v1 or /apis/GROUP/VERSION, then the namespace and the resource. */
static char *resource_url(const k8s_client *c, const k8s_kind *kind, const char *ns, const char *name)
{
	fo_buf b = FO_BUF_INIT;
	fo_buf_puts(&b, c->server);
	if (strchr(kind->group_version, '/'))
		fo_buf_printf(&b, "/apis/%s", kind->group_version);
	else
		fo_buf_printf(&b, "/api/%s", kind->group_version);
	if (kind->namespaced && ns)
		fo_buf_printf(&b, "/namespaces/%s", ns);
	fo_buf_printf(&b, "/%s", kind->plural);
	if (name)
		fo_buf_printf(&b, "/%s", name);
	return fo_buf_detach(&b);
}

static char *describe(const char *verb, const k8s_kind *kind, const char *ns, const char *name)
{
	if (ns && name)
		return fo_asprintf("%s %s %s/%s", verb, kind->kind, ns, name);
	if (name)
		return fo_asprintf("%s %s %s", verb, kind->kind, name);
	if (ns)
		return fo_asprintf("%s %s in namespace %s", verb, kind->kind, ns);
	return fo_asprintf("%s %s in all namespaces", verb, kind->kind);
}

static int parse_body(const char *body, const char *what, const char *method, const char *url, cJSON **out,
		      fo_err *e)
{
	cJSON *j = cJSON_Parse(body ? body : "");
	if (!j || !cJSON_IsObject(j)) {
		char *u = url ? fo_url_redact(url) : NULL;
		if (u)
			fo_err_set(e, FO_ESERVER, "%s: %s %s: the answer is %s", what, method, u,
				   j ? "not a JSON object" : "not valid JSON");
		else
			fo_err_set(e, FO_ESERVER, "%s: the answer is %s", what, j ? "not a JSON object" : "not valid JSON");
		cJSON_Delete(j);
		free(u);
		return FO_ESERVER;
	}
	*out = j;
	return 0;
}

int k8s_get(k8s_client *c, const k8s_kind *kind, const char *ns, const char *name, cJSON **out, fo_err *e)
{
	*out = NULL;
	char *url = resource_url(c, kind, ns, name);
	char *what = describe("get", kind, ns, name);
	char *body = NULL;
	int rc = request(c, "GET", url, NULL, NULL, &c->stats.get, what, &body, NULL, e);
	if (rc == 0)
		rc = parse_body(body, what, "GET", url, out, e);
	free(body);
	free(url);
	free(what);
	return rc;
}

int k8s_list_page_parse(const char *body, const k8s_kind *kind, unsigned flags, const char *what,
			int (*fn)(cJSON *item, void *arg), void *arg, char **next, char **rv, fo_err *e)
{
	*next = NULL;
	if (rv)
		*rv = NULL;
	cJSON *j = NULL;
	int rc = parse_body(body, what, "GET", NULL, &j, e); /* `what` names the list */
	if (rc < 0)
		return rc;
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "items");
	cJSON *it;
	while (rc == 0 && cJSON_IsArray(arr) && (it = cJSON_DetachItemFromArray(arr, 0)) != NULL) {
		if (!cJSON_IsObject(it)) {
			cJSON_Delete(it);
			rc = fo_err_set(e, FO_ESERVER, "%s: the server's answer lists an item that is not an object", what);
			break;
		}
		/* list items come without their type; put it back so each
		 * object can be handled on its own */
		if (!cJSON_GetObjectItemCaseSensitive(it, "apiVersion"))
			cJSON_AddStringToObject(it, "apiVersion", kind->group_version);
		if (!cJSON_GetObjectItemCaseSensitive(it, "kind"))
			cJSON_AddStringToObject(it, "kind", kind->kind);
		/* managedFields are often most of an object's size, and flinkops
		 * never reads them: drop them before they pile up */
		fo_json_remove(cJSON_GetObjectItemCaseSensitive(it, "metadata"), "managedFields");
		if (flags & K8S_LIST_NO_STATUS)
			fo_json_remove(it, "status");
		rc = fn(it, arg);
	}
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(j, "metadata");
	const cJSON *cont = cJSON_GetObjectItemCaseSensitive(meta, "continue");
	if (rc == 0 && cJSON_IsString(cont) && cont->valuestring[0])
		*next = fo_strdup(cont->valuestring);
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
	if (rc == 0 && rv && cJSON_IsString(version))
		*rv = fo_strdup(version->valuestring);
	cJSON_Delete(j);
	return rc;
}

/* A LIST as requests, page by page; *rv (when not NULL) the last page's
 * resourceVersion, which is the whole list's. */
static int list_pages(k8s_client *c, const k8s_kind *kind, const char *ns, const char *selector, unsigned flags,
		      int (*fn)(cJSON *item, void *arg), void *arg, char **rv, fo_err *e)
{
	char *base = resource_url(c, kind, ns, NULL);
	char *what = describe("list", kind, ns, NULL);
	char *sel = selector ? fo_http_escape(selector) : NULL;
	char *cont = NULL;
	int rc = 0;
	for (int page = 0; page < 100000 && rc == 0; page++) {
		fo_buf url = FO_BUF_INIT;
		fo_buf_printf(&url, "%s?limit=%zu", base, c->page_size);
		if (sel)
			fo_buf_printf(&url, "&labelSelector=%s", sel);
		if (cont) {
			char *ec = fo_http_escape(cont);
			fo_buf_printf(&url, "&continue=%s", ec);
			free(ec);
		}
		char *body = NULL, *next = NULL;
		rc = request(c, "GET", url.ptr, NULL, NULL, &c->stats.list, what, &body, NULL, e);
		if (rc == 0) {
			/* errors in the page name the request, as every other call's do */
			char *shown = fo_url_redact(url.ptr);
			char *what_url = fo_asprintf("%s: GET %s", what, shown);
			if (rv) {
				free(*rv);
				*rv = NULL;
			}
			rc = k8s_list_page_parse(body, kind, flags, what_url, fn, arg, &next, rv, e);
			free(what_url);
			free(shown);
		}
		fo_buf_free(&url);
		free(body);
		free(cont);
		cont = next;
		if (!cont)
			break;
	}
	free(cont);
	free(sel);
	free(base);
	free(what);
	if (rc < 0 && rv) {
		free(*rv);
		*rv = NULL;
	}
	return rc;
}

int k8s_list_each(k8s_client *c, const k8s_kind *kind, const char *ns, const char *selector, unsigned flags,
		  int (*fn)(cJSON *item, void *arg), void *arg, fo_err *e)
{
	int rc;
	if (k8s_cache_serve(c->opts.cache, kind, ns, selector, flags, fn, arg, &rc)) {
		c->stats.cached++;
		return rc;
	}
	return list_pages(c, kind, ns, selector, flags, fn, arg, NULL, e);
}

int k8s_list_fresh(k8s_client *c, const k8s_kind *kind, const char *ns, const char *selector, unsigned flags,
		   int (*fn)(cJSON *item, void *arg), void *arg, char **rv, fo_err *e)
{
	*rv = NULL;
	return list_pages(c, kind, ns, selector, flags, fn, arg, rv, e);
}

/* ---- watch ---------------------------------------------------------------- */

typedef struct watch_reader {
	fo_buf line;                 /* the event being read */
	fo_buf head;                 /* the body's first 64 KiB: an error status's message */
	const char *what;
	int (*on_event)(const char *type, const cJSON *obj, void *arg);
	void *arg;
	int rc;                      /* what ended the watch: a callback's code, GONE, an error */
	fo_err *e;
	bool ended;
} watch_reader;

/* One line of a watch stream: {"type": ..., "object": {...}}. */
static void watch_line(watch_reader *w, const char *p, size_t n)
{
	while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	if (!n || w->ended)
		return;
	cJSON *j = cJSON_ParseWithLength(p, n);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(j, "object");
	if (!cJSON_IsString(type) || !cJSON_IsObject(obj)) {
		w->rc = fo_err_set(w->e, FO_ESERVER, "%s: the server sent an event that is not {type, object}", w->what);
		w->ended = true;
	} else if (strcmp(type->valuestring, "ERROR") == 0) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(obj, "message");
		if (cJSON_IsNumber(code) && code->valueint == 410)
			w->rc = K8S_WATCH_GONE;
		else
			w->rc = fo_err_set(w->e, FO_ESERVER, "%s: the server ended the watch: %s", w->what,
					   cJSON_IsString(msg) ? msg->valuestring : "(no message)");
		w->ended = true;
	} else if (strcmp(type->valuestring, "ADDED") == 0 || strcmp(type->valuestring, "MODIFIED") == 0 ||
		   strcmp(type->valuestring, "DELETED") == 0 || strcmp(type->valuestring, "BOOKMARK") == 0) {
		int rc = w->on_event(type->valuestring, obj, w->arg);
		if (rc < 0) {
			w->rc = rc;
			w->ended = true;
		}
	} /* an event type of a newer server: not ours to judge */
	cJSON_Delete(j);
}

static bool watch_data(const char *p, size_t n, void *arg)
{
	watch_reader *w = arg;
	if (w->head.len < 65536) /* curl tells the status only at the end */
		fo_buf_put(&w->head, p, n < 65536 - w->head.len ? n : 65536 - w->head.len);
	while (n && !w->ended) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		if (w->line.len + take > K8S_WATCH_MAX_EVENT) {
			w->rc = fo_err_set(w->e, FO_ETOOBIG, "%s: an event longer than %u bytes", w->what,
					   K8S_WATCH_MAX_EVENT);
			w->ended = true;
			break;
		}
		fo_buf_put(&w->line, p, take);
		if (!nl)
			break;
		watch_line(w, w->line.ptr ? w->line.ptr : "", w->line.len);
		w->line.len = 0;
		p = nl + 1;
		n -= take + 1;
	}
	return !w->ended;
}

/* What a whole watch answer of HTTP `status` comes to, once it ended:
 * an error status is judged by its body, which was read as events too. */
static int watch_end(watch_reader *w, long status)
{
	if (status == 410)
		return K8S_WATCH_GONE;
	if (status != 200)
		return k8s_error_from_response(status, fo_buf_cstr(&w->head), w->what, w->e);
	if (w->ended)
		return w->rc;
	if (w->line.len) /* a last line without its newline */
		watch_line(w, w->line.ptr, w->line.len);
	return w->ended ? w->rc : 0;
}

int k8s_watch_parse(const char *body, size_t len, long status, const char *what,
		    int (*on_event)(const char *type, const cJSON *obj, void *arg), void *arg, fo_err *e)
{
	watch_reader w = {FO_BUF_INIT, FO_BUF_INIT, what, on_event, arg, 0, e, false};
	/* in pieces, as a stream comes, so that a line split between reads is
	 * tested: small ones, unless the body is large */
	size_t piece = len < 65536 ? 7 : 65536;
	for (size_t at = 0; at < len && !w.ended;) {
		size_t n = len - at < piece ? len - at : piece;
		watch_data(body + at, n, &w);
		at += n;
	}
	int rc = watch_end(&w, status);
	fo_buf_free(&w.line);
	fo_buf_free(&w.head);
	return rc;
}

int k8s_watch(k8s_client *c, const k8s_kind *kind, const char *ns, const char *selector, const char *rv,
	      long timeout_s, int (*on_event)(const char *type, const cJSON *obj, void *arg), void *arg, fo_err *e)
{
	char *what = describe("watch", kind, ns, NULL);
	int rc = refresh_token(c, e);
	if (rc < 0) {
		fo_err_prefix(e, "%s", what);
		free(what);
		return rc;
	}
	char *base = resource_url(c, kind, ns, NULL);
	fo_buf url = FO_BUF_INIT;
	char *erv = fo_http_escape(rv ? rv : "");
	fo_buf_printf(&url, "%s?watch=1&allowWatchBookmarks=true&timeoutSeconds=%ld&resourceVersion=%s", base,
		      timeout_s, erv);
	free(erv);
	if (selector && *selector) {
		char *sel = fo_http_escape(selector);
		fo_buf_printf(&url, "&labelSelector=%s", sel);
		free(sel);
	}
	watch_reader w = {FO_BUF_INIT, FO_BUF_INIT, what, on_event, arg, 0, e, false};
	fo_http_request req = {0};
	req.method = "GET";
	req.url = url.ptr;
	req.bearer_token = c->token;
	req.timeout_ms = (timeout_s + 30) * 1000L; /* the server ends it first */
	req.on_data = watch_data;
	req.on_data_arg = &w;
	fo_http_response resp;
	fo_err herr = FO_ERR_INIT;
	/* a stream is cut by the stop request; it marks no progress: a quiet
	 * watch says nothing of whether the passes move */
	fo_http_set_watch(c->http, c->opts.stop, NULL);
	rc = fo_http_do(c->http, &req, &resp, &herr);
	fo_http_set_watch(c->http, NULL, c->opts.alive);
	if (w.ended && rc == FO_ESTOPPED) /* the reader ended it: an ERROR event, a callback */
		rc = resp.status && resp.status != 200 ? watch_end(&w, resp.status) : w.rc;
	else if (rc < 0)
		rc = fo_err_set(e, rc, "%s: %s", what, fo_err_msg(&herr));
	else
		rc = watch_end(&w, resp.status);
	fo_http_response_free(&resp);
	fo_err_clear(&herr);
	fo_buf_free(&w.line);
	fo_buf_free(&w.head);
	fo_buf_free(&url);
	free(base);
	free(what);
	return rc;
}

/* A write's outcome into the watched inventory (k8s_cache_put, or
 * k8s_cache_unexpect when it failed): the object already parsed, or its
 * text. */
static void remember_write(k8s_client *c, int rc, const k8s_kind *kind, const char *ns, const char *name,
			   const char *body, const cJSON *parsed)
{
	if (!c->opts.cache)
		return;
	if (rc < 0) {
		k8s_cache_unexpect(c->opts.cache, kind, ns, name);
		return;
	}
	cJSON *own = parsed ? NULL : cJSON_Parse(body ? body : "");
	k8s_cache_put(c->opts.cache, kind, ns, name, parsed ? parsed : own);
	cJSON_Delete(own);
}

/* The kind, namespace (NULL when none) and name of an object to write. */
static int target_of(const cJSON *obj, const char *verb, const k8s_kind **kind, const char **ns, const char **name,
		     fo_err *e)
{
	*kind = k8s_kind_of(obj);
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(meta, "name");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(meta, "namespace");
	if (!*kind || !cJSON_IsString(n))
		return fo_err_set(e, FO_EINVAL, "%s: an object without a known apiVersion/kind or a name", verb);
	*name = n->valuestring;
	*ns = cJSON_IsString(s) ? s->valuestring : NULL;
	return 0;
}

int k8s_apply(k8s_client *c, const cJSON *obj, bool dry_run, cJSON **result, fo_err *e)
{
	if (result)
		*result = NULL;
	const k8s_kind *kind;
	const char *nss, *nm;
	if (target_of(obj, "apply", &kind, &nss, &nm, e) < 0)
		return FO_EINVAL;
	char *base = resource_url(c, kind, nss, nm);
	char *fm = fo_http_escape(c->field_manager);
	char *url = fo_asprintf("%s?fieldManager=%s%s%s", base, fm, c->force ? "&force=true" : "",
				dry_run ? "&dryRun=All" : "");
	char *what = describe(dry_run ? "apply (dry run)" : "apply", kind, nss, nm);
	/* the writer the content hash uses: what is applied is what was hashed */
	char *payload = fo_json_print(obj, false);
	char *body = NULL;
	if (!dry_run)
		k8s_cache_expect(c->opts.cache, kind, nss, nm);
	int rc = request(c, "PATCH", url, "application/apply-patch+yaml", payload,
			 dry_run ? &c->stats.dry_run : &c->stats.apply, what, &body, NULL, e);
	if (rc == 0 && result)
		rc = parse_body(body, what, "PATCH", url, result, e);
	if (!dry_run)
		remember_write(c, rc, kind, nss, nm, body, result ? *result : NULL);
	free(body);
	free(payload);
	free(what);
	free(url);
	free(fm);
	free(base);
	return rc;
}

int k8s_delete(k8s_client *c, const k8s_kind *kind, const char *ns, const char *name, const char *propagation,
	       fo_err *e)
{
	char *url = resource_url(c, kind, ns, name);
	char *what = describe("delete", kind, ns, name);
	char *payload = propagation ? fo_asprintf("{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"propagationPolicy\":\"%s\"}",
						  propagation)
				    : NULL;
	long status = 0;
	k8s_cache_expect(c->opts.cache, kind, ns, name);
	int rc = request(c, "DELETE", url, payload ? "application/json" : NULL, payload, &c->stats.del, what, NULL,
			 &status, e);
	if (rc == FO_ENOTFOUND) {
		/* already gone: the goal is reached */
		fo_err_clear(e);
		rc = 0;
	}
	if (rc == 0) /* gone, or going (finalizers): no longer what the next pass sees */
		k8s_cache_drop(c->opts.cache, kind, ns, name);
	else
		k8s_cache_unexpect(c->opts.cache, kind, ns, name);
	free(payload);
	free(what);
	free(url);
	return rc;
}

/* POST or PUT a whole object: create and replace. */
static int write_object(k8s_client *c, const char *verb, const cJSON *obj, cJSON **result, fo_err *e)
{
	if (result)
		*result = NULL;
	const k8s_kind *kind;
	const char *ns, *name;
	if (target_of(obj, verb, &kind, &ns, &name, e) < 0)
		return FO_EINVAL;
	bool create = strcmp(verb, "create") == 0;
	char *url = resource_url(c, kind, ns, create ? NULL : name);
	char *what = describe(verb, kind, ns, name);
	char *payload = fo_json_print(obj, false);
	char *body = NULL;
	k8s_cache_expect(c->opts.cache, kind, ns, name);
	int rc = request(c, create ? "POST" : "PUT", url, "application/json", payload, &c->stats.other, what, &body,
			 NULL, e);
	if (rc == 0 && result)
		rc = parse_body(body, what, create ? "POST" : "PUT", url, result, e);
	remember_write(c, rc, kind, ns, name, body, result ? *result : NULL);
	free(body);
	cJSON_free(payload);
	free(what);
	free(url);
	return rc;
}

int k8s_create(k8s_client *c, const cJSON *obj, cJSON **result, fo_err *e)
{
	return write_object(c, "create", obj, result, e);
}

int k8s_replace(k8s_client *c, const cJSON *obj, cJSON **result, fo_err *e)
{
	return write_object(c, "replace", obj, result, e);
}
int k8s_event_create(k8s_client *c, const k8s_event *ev, fo_err *e)
{
	static const k8s_kind event_kind = {"Event", "v1", "events", true};
	char *suffix = NULL;
	if (fo_random_hex(8, &suffix) < 0)
		return fo_err_set(e, FO_EIO, "no random name for an Event");
	char *name = fo_asprintf("%s.%s", ev->name, suffix);
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON *o = k8s_event_build(ev, name, ts);
	char *payload = cJSON_PrintUnformatted(o);
	char *url = resource_url(c, &event_kind, ev->ns, NULL);
	char *what = fo_asprintf("create Event %s for %s %s/%s", ev->reason, ev->kind->kind, ev->ns, ev->name);
	int rc = request(c, "POST", url, "application/json", payload, &c->stats.other, what, NULL, NULL, e);
	free(what);
	free(url);
	free(payload);
	cJSON_Delete(o);
	free(name);
	free(suffix);
	return rc;
}
