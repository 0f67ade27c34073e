/*
 * The watched inventory: for each LIST a pass makes (a kind, one namespace
 * or all, a label selector), the objects as the API server last described
 * them, kept current by a watch (k8s/watch.c) and by the answers to this
 * process's own writes. A pass's LIST is answered from here, without a
 * request, only while its watch is live: before the first LIST of the
 * watch, after a stream broke and after a 410 Gone, the key is not synced
 * and the pass lists for real. What is kept is what k8s_list_each hands
 * out (no managedFields, no status), so a pass cannot tell the two apart;
 * each object is kept as its compact JSON text, a fifth of a parsed tree's
 * size, and parsed again for the pass that asks.
 * Thread-safe: watchers write and passes read under one lock; what a pass
 * gets is its own copy.
 */
#include "k8s/k8s.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/util.h"

enum sel_op { SEL_EQ, SEL_NE, SEL_IN, SEL_NOTIN, SEL_EXISTS, SEL_NOT_EXISTS };

typedef struct sel_req {
	char *key;
	enum sel_op op;
	char **vals;
	size_t nvals;
} sel_req;

/* One object as kept: its JSON text without metadata.resourceVersion, so
 * that two versions saying the same compare equal as text. */
typedef struct item {
	char *ns, *name, *rv, *text;
} item;

typedef struct cache_key {
	const k8s_kind *kind;
	char *ns;       /* NULL: every namespace */
	char *selector; /* as the pass wrote it */
	unsigned flags;
	sel_req *reqs;
	size_t nreqs;
	item *items;    /* sorted by namespace, then name, as a LIST answers */
	size_t n, cap;
	char *rv;       /* the newest resourceVersion seen (list, event or bookmark) */
	bool synced;    /* a LIST was read and its watch has not broken since */
	bool stale;     /* it was synced once and broke: items are the last it knew, never served */
	bool watching;  /* a watcher has taken the key */
} cache_key;

/* A write of ours in flight: its watch event may come before its answer. */
typedef struct expect {
	const k8s_kind *kind;
	char *ns, *name;
	unsigned n;
} expect;

struct k8s_cache {
	pthread_mutex_t lock;
	cache_key **keys;
	size_t n, cap;
	expect *ex;
	size_t nex;
};

/* The kinds a pass lists to know what it manages: watched. Pods change
 * with every container start and are read only while a rollout waits. */
static bool watchable(const k8s_kind *kind)
{
	return kind == &k8s_kind_configmap || kind == &k8s_kind_service || kind == &k8s_kind_statefulset ||
	       kind == &k8s_kind_ingress || kind == &k8s_kind_serviceaccount || kind == &k8s_kind_role ||
	       kind == &k8s_kind_rolebinding;
}

static void reqs_free(sel_req *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].key);
		for (size_t j = 0; j < r[i].nvals; j++)
			free(r[i].vals[j]);
		free(r[i].vals);
	}
	free(r);
}

static char *trimmed(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return fo_strndup(s, n);
}

/* One requirement of a selector ("k=v", "k!=v", "k in (a,b)", "k notin
 * (a)", "k", "!k"); false for anything else. */
static bool parse_req(const char *s, size_t n, sel_req *r)
{
	memset(r, 0, sizeof(*r));
	char *t = trimmed(s, n);
	bool ok = *t != '\0';
	char *p;
	if (!ok) {
	} else if (t[0] == '!') {
		r->op = SEL_NOT_EXISTS;
		r->key = trimmed(t + 1, strlen(t + 1));
	} else if ((p = strstr(t, " notin ")) || (p = strstr(t, " in "))) {
		bool notin = strncmp(p, " notin ", 7) == 0;
		r->op = notin ? SEL_NOTIN : SEL_IN;
		r->key = trimmed(t, (size_t)(p - t));
		char *open = strchr(p, '('), *close = strrchr(p, ')');
		ok = open && close && close > open && close[1] == '\0';
		for (char *v = open ? open + 1 : NULL; ok && v < close;) {
			char *end = memchr(v, ',', (size_t)(close - v));
			if (!end)
				end = close;
			r->vals = fo_realloc(r->vals, (r->nvals + 1) * sizeof(*r->vals));
			r->vals[r->nvals++] = trimmed(v, (size_t)(end - v));
			v = end + 1;
		}
	} else if ((p = strstr(t, "!="))) {
		r->op = SEL_NE;
		r->key = trimmed(t, (size_t)(p - t));
		r->vals = fo_calloc(1, sizeof(*r->vals));
		r->vals[r->nvals++] = trimmed(p + 2, strlen(p + 2));
	} else if ((p = strchr(t, '='))) {
		r->op = SEL_EQ;
		r->key = trimmed(t, (size_t)(p - t));
		const char *v = p[1] == '=' ? p + 2 : p + 1;
		r->vals = fo_calloc(1, sizeof(*r->vals));
		r->vals[r->nvals++] = trimmed(v, strlen(v));
	} else {
		r->op = SEL_EXISTS;
		r->key = fo_strdup(t);
	}
	ok = ok && r->key && *r->key && !strpbrk(r->key, " ()=!,");
	free(t);
	return ok;
}

/* A label selector as requirements; false when it is not one this reader
 * knows (the LIST is then never served from here). */
static bool parse_selector(const char *sel, sel_req **out, size_t *nout)
{
	*out = NULL;
	*nout = 0;
	if (!sel || !*sel)
		return true;
	sel_req *v = NULL;
	size_t n = 0;
	const char *start = sel;
	int depth = 0;
	for (const char *p = sel;; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		if ((*p == ',' && depth == 0) || !*p) {
			v = fo_realloc(v, (n + 1) * sizeof(*v));
			memset(&v[n], 0, sizeof(v[n]));
			if (depth != 0 || !parse_req(start, (size_t)(p - start), &v[n])) {
				reqs_free(v, n + 1);
				return false;
			}
			n++;
			if (!*p)
				break;
			start = p + 1;
		}
	}
	*out = v;
	*nout = n;
	return true;
}

static const char *label_of(const cJSON *obj, const char *key)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(meta, "labels"), key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool matches(const cache_key *k, const cJSON *obj)
{
	for (size_t i = 0; i < k->nreqs; i++) {
		const sel_req *r = &k->reqs[i];
		const char *v = label_of(obj, r->key);
		bool in = false;
		for (size_t j = 0; v && j < r->nvals && !in; j++)
			in = strcmp(v, r->vals[j]) == 0;
		bool ok = r->op == SEL_EQ || r->op == SEL_IN	   ? in
			  : r->op == SEL_NE || r->op == SEL_NOTIN ? !in
			  : r->op == SEL_EXISTS			   ? v != NULL
								   : v == NULL;
		if (!ok)
			return false;
	}
	return true;
}

static const char *meta_str(const cJSON *obj, const char *field)
{
	const cJSON *v =
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"), field);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static int order(const char *ns1, const char *n1, const char *ns2, const char *n2)
{
	int c = strcmp(ns1, ns2);
	return c ? c : strcmp(n1, n2);
}

/* Where (ns, name) is in k->items, or where it would go (*found false). */
static size_t find(const cache_key *k, const char *ns, const char *name, bool *found)
{
	size_t lo = 0, hi = k->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = order(k->items[mid].ns, k->items[mid].name, ns, name);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Whether resourceVersion a is older than b. Versions are opaque to
 * clients; both are compared only when both are decimal numbers (etcd's
 * revisions, as every API server backed by etcd gives them), else none is
 * taken as older. */
static bool rv_older(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (!la || !lb || strspn(a, "0123456789") != la || strspn(b, "0123456789") != lb)
		return false;
	return la != lb ? la < lb : strcmp(a, b) < 0;
}

/* What a key keeps of `obj`: as k8s_list_each hands it out, as text. */
static item make_item(const cache_key *k, const cJSON *obj)
{
	cJSON *c = cJSON_Duplicate(obj, true);
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(c, "metadata");
	item it = {fo_strdup(meta_str(obj, "namespace")), fo_strdup(meta_str(obj, "name")),
		   fo_strdup(meta_str(obj, "resourceVersion")), NULL};
	fo_json_remove(meta, "managedFields");
	fo_json_remove(meta, "resourceVersion");
	if (k->flags & K8S_LIST_NO_STATUS)
		fo_json_remove(c, "status");
	it.text = fo_json_print(c, false);
	cJSON_Delete(c);
	return it;
}

static void item_free(item *it)
{
	free(it->ns);
	free(it->name);
	free(it->rv);
	free(it->text);
}

/* The object a pass is handed: the text parsed, its version put back. */
static cJSON *item_object(const item *it)
{
	cJSON *o = cJSON_Parse(it->text);
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(o, "metadata");
	if (cJSON_IsObject(meta) && *it->rv)
		cJSON_AddStringToObject(meta, "resourceVersion", it->rv);
	return o;
}

/* Put `obj` (borrowed) into k, or take (ns, name) out when obj is NULL
 * or no longer matches. True when what k holds changed, but for versions.
 * An object older than the one held is dropped: an event from before a
 * write of ours that was already put here. */
static bool upsert(cache_key *k, const char *ns, const char *name, const cJSON *obj)
{
	bool found;
	size_t at = find(k, ns, name, &found);
	if (obj && !matches(k, obj))
		obj = NULL;
	if (!obj) {
		if (!found)
			return false;
		item_free(&k->items[at]);
		memmove(&k->items[at], &k->items[at + 1], (k->n - at - 1) * sizeof(*k->items));
		k->n--;
		return true;
	}
	if (found) {
		if (rv_older(meta_str(obj, "resourceVersion"), k->items[at].rv))
			return false;
		item it = make_item(k, obj);
		bool changed = strcmp(it.text, k->items[at].text) != 0;
		item_free(&k->items[at]);
		k->items[at] = it;
		return changed;
	}
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 16;
		k->items = fo_realloc(k->items, k->cap * sizeof(*k->items));
	}
	memmove(&k->items[at + 1], &k->items[at], (k->n - at) * sizeof(*k->items));
	k->items[at] = make_item(k, obj);
	k->n++;
	return true;
}

static void clear_items(cache_key *k)
{
	for (size_t i = 0; i < k->n; i++)
		item_free(&k->items[i]);
	k->n = 0;
}

k8s_cache *k8s_cache_new(void)
{
	k8s_cache *c = fo_calloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void k8s_cache_free(k8s_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		cache_key *k = c->keys[i];
		clear_items(k);
		free(k->items);
		free(k->ns);
		free(k->selector);
		free(k->rv);
		reqs_free(k->reqs, k->nreqs);
		free(k);
	}
	free(c->keys);
	for (size_t i = 0; i < c->nex; i++) {
		free(c->ex[i].ns);
		free(c->ex[i].name);
	}
	free(c->ex);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static cache_key *lookup(const k8s_cache *c, const k8s_kind *kind, const char *ns, const char *sel, unsigned flags)
{
	for (size_t i = 0; i < c->n; i++) {
		cache_key *k = c->keys[i];
		if (k->kind == kind && k->flags == flags && fo_streq(k->ns, ns) && fo_streq(k->selector, sel))
			return k;
	}
	return NULL;
}

int k8s_cache_serve(k8s_cache *c, const k8s_kind *kind, const char *ns, const char *selector, unsigned flags,
		    int (*fn)(cJSON *item, void *arg), void *arg, int *rc)
{
	*rc = 0;
	if (!c || !watchable(kind) || !(flags & K8S_LIST_NO_STATUS))
		return 0;
	pthread_mutex_lock(&c->lock);
	cache_key *k = lookup(c, kind, ns, selector, flags);
	if (!k) {
		sel_req *reqs;
		size_t nreqs;
		if (parse_selector(selector, &reqs, &nreqs)) {
			k = fo_calloc(1, sizeof(*k));
			k->kind = kind;
			k->ns = ns ? fo_strdup(ns) : NULL;
			k->selector = selector ? fo_strdup(selector) : NULL;
			k->flags = flags;
			k->reqs = reqs;
			k->nreqs = nreqs;
			if (c->n == c->cap) {
				c->cap = c->cap ? 2 * c->cap : 8;
				c->keys = fo_realloc(c->keys, c->cap * sizeof(*c->keys));
			}
			c->keys[c->n++] = k;
		}
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	if (!k->synced) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	/* the texts copied under the lock, parsed outside it */
	size_t n = k->n;
	item *copies = fo_calloc(n ? n : 1, sizeof(*copies));
	for (size_t i = 0; i < n; i++)
		copies[i] = (item){NULL, NULL, fo_strdup(k->items[i].rv), fo_strdup(k->items[i].text)};
	pthread_mutex_unlock(&c->lock);
	for (size_t i = 0; i < n; i++) {
		if (*rc >= 0) {
			cJSON *o = item_object(&copies[i]);
			*rc = o ? fn(o, arg) : FO_EIO; /* fn owns it; our own text always parses */
		}
		item_free(&copies[i]);
	}
	free(copies);
	if (*rc > 0)
		*rc = 0;
	return 1;
}

static expect *find_expect(k8s_cache *c, const k8s_kind *kind, const char *ns, const char *name)
{
	for (size_t i = 0; i < c->nex; i++)
		if (c->ex[i].kind == kind && strcmp(c->ex[i].ns, ns) == 0 && strcmp(c->ex[i].name, name) == 0)
			return &c->ex[i];
	return NULL;
}

static void unexpect_locked(k8s_cache *c, const k8s_kind *kind, const char *ns, const char *name)
{
	expect *x = find_expect(c, kind, ns, name);
	if (!x || --x->n)
		return;
	free(x->ns);
	free(x->name);
	*x = c->ex[--c->nex];
}

void k8s_cache_expect(k8s_cache *c, const k8s_kind *kind, const char *ns, const char *name)
{
	if (!c)
		return;
	ns = ns ? ns : "";
	pthread_mutex_lock(&c->lock);
	expect *x = find_expect(c, kind, ns, name);
	if (x) {
		x->n++;
	} else {
		c->ex = fo_realloc(c->ex, (c->nex + 1) * sizeof(*c->ex));
		c->ex[c->nex++] = (expect){kind, fo_strdup(ns), fo_strdup(name), 1};
	}
	pthread_mutex_unlock(&c->lock);
}

void k8s_cache_unexpect(k8s_cache *c, const k8s_kind *kind, const char *ns, const char *name)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	unexpect_locked(c, kind, ns ? ns : "", name);
	pthread_mutex_unlock(&c->lock);
}

/* Our write's outcome into every key of its kind that holds (ns, name):
 * live ones, and broken ones too, so that the LIST after the break
 * compares against what we wrote, not against what was there before. */
static void written(k8s_cache *c, const k8s_kind *kind, const char *ns, const char *name, const cJSON *obj)
{
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n; i++) {
		cache_key *k = c->keys[i];
		if (k->kind == kind && (k->synced || k->stale) && (!k->ns || strcmp(k->ns, ns) == 0))
			upsert(k, ns, name, obj);
	}
	unexpect_locked(c, kind, ns, name);
	pthread_mutex_unlock(&c->lock);
}

void k8s_cache_put(k8s_cache *c, const k8s_kind *kind, const char *ns, const char *name, const cJSON *obj)
{
	if (!c)
		return;
	ns = ns ? ns : "";
	/* an answer that is not the object named (none, another): the write
	 * is no longer in flight, and its event will tell what it did */
	if (!obj || k8s_kind_of(obj) != kind || strcmp(meta_str(obj, "namespace"), ns) != 0 ||
	    strcmp(meta_str(obj, "name"), name) != 0) {
		k8s_cache_unexpect(c, kind, ns, name);
		return;
	}
	written(c, kind, ns, name, obj);
}

void k8s_cache_drop(k8s_cache *c, const k8s_kind *kind, const char *ns, const char *name)
{
	if (c)
		written(c, kind, ns ? ns : "", name, NULL);
}

bool k8s_cache_take_unwatched(k8s_cache *c, size_t *id, const k8s_kind **kind, char **ns, char **selector,
			      unsigned *flags)
{
	bool got = false;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n && !got; i++) {
		cache_key *k = c->keys[i];
		if (k->watching)
			continue;
		k->watching = got = true;
		*id = i;
		*kind = k->kind;
		*ns = k->ns ? fo_strdup(k->ns) : NULL;
		*selector = k->selector ? fo_strdup(k->selector) : NULL;
		*flags = k->flags;
	}
	pthread_mutex_unlock(&c->lock);
	return got;
}

bool k8s_cache_reset(k8s_cache *c, size_t id, cJSON **items, size_t n, const char *rv)
{
	pthread_mutex_lock(&c->lock);
	cache_key *k = c->keys[id];
	item *old = k->items;
	size_t nold = k->n;
	bool was_stale = k->stale;
	k->items = NULL;
	k->n = k->cap = 0;
	k->synced = true;
	k->stale = false;
	for (size_t i = 0; i < n; i++)
		upsert(k, meta_str(items[i], "namespace"), meta_str(items[i], "name"), items[i]);
	/* what a broken watch missed: both lists are in the same order */
	bool changed = was_stale && nold != k->n;
	for (size_t i = 0; was_stale && !changed && i < nold; i++)
		changed = order(old[i].ns, old[i].name, k->items[i].ns, k->items[i].name) != 0 ||
			  strcmp(old[i].text, k->items[i].text) != 0;
	for (size_t i = 0; i < nold; i++)
		item_free(&old[i]);
	free(old);
	free(k->rv);
	k->rv = fo_strdup(rv ? rv : "");
	pthread_mutex_unlock(&c->lock);
	return changed;
}

void k8s_cache_unsync(k8s_cache *c, size_t id)
{
	pthread_mutex_lock(&c->lock);
	cache_key *k = c->keys[id];
	/* kept, unserved, to tell after the next LIST what was missed */
	k->stale = k->stale || k->synced;
	k->synced = false;
	pthread_mutex_unlock(&c->lock);
}

char *k8s_cache_version(k8s_cache *c, size_t id)
{
	pthread_mutex_lock(&c->lock);
	char *rv = fo_strdup(c->keys[id]->rv ? c->keys[id]->rv : "");
	pthread_mutex_unlock(&c->lock);
	return rv;
}

bool k8s_cache_event(k8s_cache *c, size_t id, const char *type, const cJSON *obj)
{
	bool changed = false;
	pthread_mutex_lock(&c->lock);
	cache_key *k = c->keys[id];
	const char *rv = meta_str(obj, "resourceVersion");
	if (*rv) {
		free(k->rv);
		k->rv = fo_strdup(rv);
	}
	if (k->synced && strcmp(type, "BOOKMARK") != 0) {
		const char *ns = meta_str(obj, "namespace"), *name = meta_str(obj, "name");
		changed = upsert(k, ns, name, strcmp(type, "DELETED") == 0 ? NULL : obj);
		/* the echo of a write of ours whose answer has not come yet */
		if (find_expect(c, k->kind, ns, name))
			changed = false;
	}
	pthread_mutex_unlock(&c->lock);
	return changed;
}
