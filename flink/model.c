/*
 * FlinkDeployment parsing and validation. A document is walked field by field
 * against the fields each level knows; anything else is an error at its own
 * position (with a suggestion when it looks like a typo), never ignored. Both
 * spellings land in one flink_deployment, normalised: memory in bytes, cpu in
 * millicores, configuration flattened and sorted, TaskManager replicas and
 * slots computed, so that rendering and planning never see the dialect.
 */
#include "flink/flink.h"
#include "flink/fields.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/json.h"
#include "lib/url.h"

typedef struct pctx {
	const char *file;
	fo_diags *d;
	size_t errors_at_start;
	const fo_yaml_node *doc; /* the document being read (for problems of the whole of it) */
	const char *spec_prefix; /* put before "spec..." paths in messages (NULL: nothing) */
	const char *kind;        /* the kind being read: its fields are flink_field_children's */
} pctx;

static void perr(pctx *c, const fo_yaml_node *at, const char *path, const char *fmt, ...) FO_PRINTF(4, 5);
static void pwarn(pctx *c, const fo_yaml_node *at, const char *path, const char *fmt, ...) FO_PRINTF(4, 5);

static void report(pctx *c, enum fo_severity sev, const fo_yaml_node *at, const char *path,
		   const char *fmt, va_list ap)
{
	char *m = fo_vasprintf(fmt, ap);
	/* a blue/green template's spec is read as a FlinkDeployment's: its
	 * paths are said where they are written, under spec.template */
	bool under = c->spec_prefix && path && (strcmp(path, "spec") == 0 || fo_has_prefix(path, "spec."));
	fo_diag_add(c->d, sev, c->file, at ? at->line : 0, at ? at->col : 0, "%s%s%s%s", under ? c->spec_prefix : "",
		    path ? path : "", path ? ": " : "", m);
	free(m);
}

static void perr(pctx *c, const fo_yaml_node *at, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(c, FO_SEV_ERROR, at, path, fmt, ap);
	va_end(ap);
}

static void pwarn(pctx *c, const fo_yaml_node *at, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(c, FO_SEV_WARNING, at, path, fmt, ap);
	va_end(ap);
}

static bool failed(const pctx *c)
{
	return c->d->nerrors > c->errors_at_start;
}

/* ---- field helpers ---------------------------------------------------- */

/* Report every key of `map` at `path` that is not a field the table
 * (flink/fields.c) gives the mapping there, with the nearest field or the
 * list of them. A blue/green template's spec is looked up where it is
 * written, under spec.template. */
static void check_fields(pctx *c, const fo_yaml_node *map, const char *path)
{
	bool under = c->spec_prefix && path && (strcmp(path, "spec") == 0 || fo_has_prefix(path, "spec."));
	char *where = under ? fo_asprintf("%s%s", c->spec_prefix, path) : fo_strdup(path ? path : "");
	size_t n;
	const flink_field **known = flink_field_children(c->kind, where, &n);
	free(where);
	for (size_t i = 0; i < map->n; i++) {
		const fo_yaml_node *k = map->items[2 * i];
		bool ok = false;
		for (size_t f = 0; f < n && !ok; f++)
			ok = strcmp(k->str, flink_field_name(known[f])) == 0;
		if (ok)
			continue;
		char *list = NULL;
		const char *best = flink_field_suggest(known, n, k->str, &list);
		if (best)
			perr(c, k, path, "unknown field \"%s\" (did you mean \"%s\"?)", k->str, best);
		else
			perr(c, k, path, "unknown field \"%s\" (known fields: %s)", k->str, list);
		free(list);
	}
	free(known);
}

static char *join_path(const char *path, const char *key)
{
	return fo_asprintf("%s.%s", path, key);
}

/* The value of `key`, or NULL when absent or null (Kubernetes reads an
 * explicit null as "not set"). */
static const fo_yaml_node *field(const fo_yaml_node *map, const char *key)
{
	const fo_yaml_node *v = fo_yaml_get(map, key);
	return fo_yaml_is_null(v) ? NULL : v;
}

static const fo_yaml_node *get_map(pctx *c, const fo_yaml_node *map, const char *path, const char *key)
{
	const fo_yaml_node *v = field(map, key);
	if (!v)
		return NULL;
	if (v->kind != FO_YAML_MAP) {
		char *p = join_path(path, key);
		perr(c, v, p, "expected a mapping, got a %s", fo_yaml_kind_name(v));
		free(p);
		return NULL;
	}
	return v;
}

/* 1 and a copy in *out when present; 0 when absent; -1 on a type error. */
static int get_str(pctx *c, const fo_yaml_node *map, const char *path, const char *key, char **out)
{
	const fo_yaml_node *v = field(map, key);
	if (!v)
		return 0;
	if (v->kind != FO_YAML_SCALAR) {
		char *p = join_path(path, key);
		perr(c, v, p, "expected a string, got a %s", fo_yaml_kind_name(v));
		free(p);
		return -1;
	}
	if (v->len == 0) {
		char *p = join_path(path, key);
		perr(c, v, p, "must not be empty");
		free(p);
		return -1;
	}
	free(*out);
	*out = fo_strdup(v->str);
	return 1;
}

static int get_int(pctx *c, const fo_yaml_node *map, const char *path, const char *key,
		   int64_t min, int64_t max, int64_t *out)
{
	const fo_yaml_node *v = field(map, key);
	if (!v)
		return 0;
	int64_t x;
	char *p = join_path(path, key);
	int rc = -1;
	if (v->kind != FO_YAML_SCALAR)
		perr(c, v, p, "expected an integer, got a %s", fo_yaml_kind_name(v));
	else if (!fo_yaml_as_int(v, &x))
		perr(c, v, p, "expected an integer, got %s \"%s\"", fo_yaml_kind_name(v), v->str);
	else if (x < min)
		perr(c, v, p, "must be at least %lld, got %lld", (long long)min, (long long)x);
	else if (x > max)
		perr(c, v, p, "must be at most %lld, got %lld", (long long)max, (long long)x);
	else {
		*out = x;
		rc = 1;
	}
	free(p);
	return rc;
}

static int get_bool(pctx *c, const fo_yaml_node *map, const char *path, const char *key, bool *out)
{
	const fo_yaml_node *v = field(map, key);
	if (!v)
		return 0;
	bool b;
	if (v->kind == FO_YAML_SCALAR && fo_yaml_as_bool(v, &b)) {
		*out = b;
		return 1;
	}
	char *p = join_path(path, key);
	if (v->kind == FO_YAML_SCALAR)
		perr(c, v, p, "expected true or false, got %s \"%s\"", fo_yaml_kind_name(v), v->str);
	else
		perr(c, v, p, "expected true or false, got a %s", fo_yaml_kind_name(v));
	free(p);
	return -1;
}

/* A map of string to string (labels, annotations) as a JSON object. */
static cJSON *get_string_map(pctx *c, const fo_yaml_node *map, const char *path, const char *key)
{
	const fo_yaml_node *m = get_map(c, map, path, key);
	if (!m)
		return NULL;
	cJSON *o = cJSON_CreateObject();
	char *p = join_path(path, key);
	for (size_t i = 0; i < m->n; i++) {
		const fo_yaml_node *k = m->items[2 * i], *v = m->items[2 * i + 1];
		if (v->kind != FO_YAML_SCALAR || fo_yaml_is_null(v)) {
			perr(c, v, p, "value of \"%s\" must be a string, got a %s", k->str, fo_yaml_kind_name(v));
			continue;
		}
		cJSON_AddStringToObject(o, k->str, v->str);
	}
	free(p);
	return o;
}

/* ---- configuration text ------------------------------------------------ */

/* The code point at s[i] (valid UTF-8 or not) and its length in bytes. */
static uint32_t next_char(const char *s, size_t len, size_t i, size_t *n)
{
	const unsigned char *u = (const unsigned char *)s + i;
	size_t left = len - i;
	if (u[0] >= 0xc2 && u[0] <= 0xdf && left >= 2 && (u[1] & 0xc0) == 0x80) {
		*n = 2;
		return (uint32_t)(u[0] & 0x1f) << 6 | (u[1] & 0x3f);
	}
	if (u[0] >= 0xe0 && u[0] <= 0xef && left >= 3 && (u[1] & 0xc0) == 0x80 && (u[2] & 0xc0) == 0x80) {
		*n = 3;
		return (uint32_t)(u[0] & 0x0f) << 12 | (uint32_t)(u[1] & 0x3f) << 6 | (u[2] & 0x3f);
	}
	*n = 1;
	return u[0];
}

/* A line break or other control character, named; NULL for anything else.
 * Besides C0, DEL and C1, the Unicode line and paragraph separators: YAML
 * 1.1 readers break lines there. */
static char *control_name(uint32_t cp)
{
	switch (cp) {
	case '\n': return fo_strdup("a line break (\\n)");
	case '\r': return fo_strdup("a carriage return (\\r)");
	case '\t': return fo_strdup("a tab (\\t)");
	case 0x85: return fo_strdup("a next-line character (U+0085)");
	case 0x2028: return fo_strdup("a line separator (U+2028)");
	case 0x2029: return fo_strdup("a paragraph separator (U+2029)");
	default:
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return fo_asprintf("the control character U+%04X", (unsigned)cp);
		return NULL;
	}
}

static bool key_char(unsigned char ch)
{
	return isalnum(ch) || ch == '.' || ch == '_' || ch == '-' || ch == '$' || ch == '/';
}

char *flink_conf_problem(const char *s, size_t len, bool key)
{
	const char *what = key ? "key" : "value";
	if (key && len == 0)
		return fo_strdup("the key is empty; name a Flink option, e.g. state.backend.type");
	size_t n = 1;
	for (size_t i = 0, at = 1; i < len; i += n, at++) {
		uint32_t cp = next_char(s, len, i, &n);
		char *name = control_name(cp);
		if (name) {
			char *m = fo_asprintf("the %s holds %s at character %zu, which would start a line of its own in "
					      "Flink's configuration file; write the %s on one line, without tabs or other "
					      "control characters",
					      what, name, at, what);
			free(name);
			return m;
		}
		if (key && !key_char((unsigned char)s[i])) {
			const char *q = s[i] == '\'' ? "\"" : "'";
			return fo_asprintf("the key holds %s%.*s%s at character %zu, which can change how Flink reads the "
					   "line; write the key as Flink documents it, in letters, digits and . _ - $ /",
					   q, (int)n, s + i, q, at);
		}
	}
	return NULL;
}

/* Report `n` (a key or value of Flink's configuration file) when it cannot
 * be written there as one line; `key` is the flattened key for the message. */
static bool check_conf_text(pctx *c, const fo_yaml_node *n, const char *key, bool is_key)
{
	char *why = flink_conf_problem(n->str, n->len, is_key);
	if (!why)
		return true;
	fo_buf path = FO_BUF_INIT;
	fo_buf_puts(&path, "spec.flinkConfiguration.");
	fo_buf_put_json_string(&path, key);
	perr(c, n, fo_buf_cstr(&path), "%s", why);
	fo_buf_free(&path);
	free(why);
	return false;
}

/* ---- sections ---------------------------------------------------------- */

/*
 * A list value of flinkConfiguration as the upstream operator writes it
 * (ConfigObjectNode joins the items' text with ';', which is how Flink reads
 * a list option). Its items must be scalars: upstream would write a nested
 * map or list as an empty string. NULL (reported) on a bad item.
 */
static char *join_conf_list(pctx *c, const fo_yaml_node *v, const char *key)
{
	if (v->n == 0) {
		perr(c, v, "spec.flinkConfiguration", "\"%s\" is an empty list; give at least one item or remove the key", key);
		return NULL;
	}
	fo_buf b = FO_BUF_INIT;
	for (size_t i = 0; i < v->n; i++) {
		const fo_yaml_node *it = v->items[i];
		if (it->kind != FO_YAML_SCALAR || fo_yaml_is_null(it)) {
			perr(c, it, "spec.flinkConfiguration", "\"%s\" item %zu must be a string or number, got a %s", key, i + 1,
			     fo_yaml_kind_name(it));
			fo_buf_free(&b);
			return NULL;
		}
		if (!check_conf_text(c, it, key, false)) {
			fo_buf_free(&b);
			return NULL;
		}
		fo_buf_printf(&b, "%s%s", i ? ";" : "", it->str);
	}
	return fo_buf_detach(&b);
}

/* Flatten a (possibly nested) flinkConfiguration map into dotted keys, as
 * the upstream operator does: nested maps join their keys with '.', lists
 * become one ';'-separated value. */
/* A key of the upstream operator that flinkops does not honour (or a
 * misspelling of one) is named where it is, with what flinkops does
 * instead: it does nothing, and that must not go unsaid. */
static void note_operator_key(pctx *c, const fo_yaml_node *k, const char *key)
{
	const char *near = NULL;
	const char *note = flink_operator_key_note(key, &near);
	if (!note)
		return;
	if (near)
		pwarn(c, k, "spec.flinkConfiguration", "%s: %s (did you mean kubernetes.operator.%s?)", key, note, near);
	else
		pwarn(c, k, "spec.flinkConfiguration", "%s: %s", key, note);
}

static void flatten_conf(pctx *c, const fo_yaml_node *m, const char *prefix, flink_kvs *out)
{
	for (size_t i = 0; i < m->n; i++) {
		const fo_yaml_node *k = m->items[2 * i], *v = m->items[2 * i + 1];
		char *key = prefix ? fo_asprintf("%s.%s", prefix, k->str) : fo_strdup(k->str);
		if (!check_conf_text(c, k, key, true)) {
			/* reported; its value says nothing more */
		} else if (v->kind == FO_YAML_MAP) {
			flatten_conf(c, v, key, out);
		} else if (v->kind == FO_YAML_SEQ) {
			char *joined = NULL;
			if (flink_conf_get(out, key))
				perr(c, k, "spec.flinkConfiguration", "\"%s\" is given twice (once nested, once dotted)", key);
			else if ((joined = join_conf_list(c, v, key))) {
				flink_kvs_set(out, key, joined);
				note_operator_key(c, k, key);
			}
			free(joined);
		} else if (fo_yaml_is_null(v)) {
			perr(c, v, "spec.flinkConfiguration", "\"%s\" has no value", key);
		} else if (flink_conf_get(out, key)) {
			perr(c, k, "spec.flinkConfiguration", "\"%s\" is given twice (once nested, once dotted)", key);
		} else if (check_conf_text(c, v, key, false)) {
			flink_kvs_set(out, key, v->str);
			note_operator_key(c, k, key);
		}
		free(key);
	}
}

static int scalar_text(pctx *c, const fo_yaml_node *v, const char *path, const char **out)
{
	if (v->kind != FO_YAML_SCALAR) {
		perr(c, v, path, "expected a string or number, got a %s", fo_yaml_kind_name(v));
		return -1;
	}
	*out = v->str;
	return 0;
}

static void parse_memory(pctx *c, const fo_yaml_node *v, const char *path, uint64_t *out)
{
	const char *s;
	if (scalar_text(c, v, path, &s) < 0)
		return;
	fo_err e = FO_ERR_INIT;
	if (flink_memory_parse(s, out, &e) < 0)
		perr(c, v, path, "%s", fo_err_msg(&e));
	else if (flink_memory_mib(*out) == 0)
		perr(c, v, path, "memory \"%s\" is less than 1 MiB", s);
	fo_err_clear(&e);
}

static void parse_cpu(pctx *c, const fo_yaml_node *v, const char *path, int64_t *out)
{
	const char *s;
	if (scalar_text(c, v, path, &s) < 0)
		return;
	fo_err e = FO_ERR_INIT;
	if (flink_cpu_parse(s, out, &e) < 0)
		perr(c, v, path, "%s", fo_err_msg(&e));
	fo_err_clear(&e);
}

static void parse_resource(pctx *c, const fo_yaml_node *m, const char *path, flink_resources *r)
{
	check_fields(c, m, path);
	const fo_yaml_node *v;
	char *p;
	if ((v = field(m, "memory"))) {
		p = join_path(path, "memory");
		parse_memory(c, v, p, &r->memory);
		free(p);
	} else {
		perr(c, m, path, "\"memory\" is required (e.g. memory: 2048m)");
	}
	if ((v = field(m, "cpu"))) {
		p = join_path(path, "cpu");
		parse_cpu(c, v, p, &r->cpu_milli);
		free(p);
	}
	if ((v = field(m, "ephemeralStorage"))) {
		p = join_path(path, "ephemeralStorage");
		parse_memory(c, v, p, &r->ephemeral);
		free(p);
	}
}

/*
 * resources.claims: the dynamic resource claims (Kubernetes 1.26+) the
 * container uses, each {name, request}; the pod's spec.resourceClaims (in a
 * podTemplate) defines them. Carried to the container as given. NULL when
 * absent or wrong (reported).
 */
static cJSON *parse_claims(pctx *c, const fo_yaml_node *m, const char *path)
{
	const fo_yaml_node *v = field(m, "claims");
	if (!v)
		return NULL;
	char *p = join_path(path, "claims");
	cJSON *out = NULL;
	if (v->kind != FO_YAML_SEQ) {
		perr(c, v, p, "expected a list of {name, request}, got a %s", fo_yaml_kind_name(v));
		goto cleanup;
	}
	size_t errors = c->d->nerrors;
	for (size_t i = 0; i < v->n; i++) {
		const fo_yaml_node *it = v->items[i];
		if (it->kind != FO_YAML_MAP) {
			perr(c, it, p, "item %zu must be a mapping {name, request}, got a %s", i + 1, fo_yaml_kind_name(it));
			continue;
		}
		check_fields(c, it, p);
		char *name = NULL, *request = NULL;
		if (get_str(c, it, p, "name", &name) == 0)
			perr(c, it, p, "item %zu needs a name (a claim of the pod's spec.resourceClaims)", i + 1);
		get_str(c, it, p, "request", &request);
		free(name);
		free(request);
	}
	if (c->d->nerrors == errors)
		out = fo_yaml_to_json(v);
cleanup:
	free(p);
	return out;
}

/* Kubernetes ResourceRequirements: requests, limits and claims. */
static void parse_resources(pctx *c, const fo_yaml_node *m, const char *path, flink_resources *r, cJSON **claims)
{
	check_fields(c, m, path);
	for (int lim = 0; lim < 2; lim++) {
		const char *which = lim ? "limits" : "requests";
		const fo_yaml_node *sub = get_map(c, m, path, which);
		if (!sub)
			continue;
		char *sp = join_path(path, which);
		check_fields(c, sub, sp);
		const fo_yaml_node *v;
		if ((v = field(sub, "memory"))) {
			char *p = join_path(sp, "memory");
			parse_memory(c, v, p, lim ? &r->memory_limit : &r->memory);
			free(p);
		}
		if ((v = field(sub, "cpu"))) {
			char *p = join_path(sp, "cpu");
			parse_cpu(c, v, p, lim ? &r->cpu_limit_milli : &r->cpu_milli);
			free(p);
		}
		if (!lim && (v = field(sub, "ephemeral-storage"))) {
			char *p = join_path(sp, "ephemeral-storage");
			parse_memory(c, v, p, &r->ephemeral);
			free(p);
		}
		free(sp);
	}
	if (!r->memory && r->memory_limit)
		r->memory = r->memory_limit;
	if (!r->cpu_milli && r->cpu_limit_milli)
		r->cpu_milli = r->cpu_limit_milli;
	if (!r->memory)
		perr(c, m, path, "requests.memory is required (e.g. memory: 2048m)");
	*claims = parse_claims(c, m, path);
}

static cJSON *parse_pod_template(pctx *c, const fo_yaml_node *m, const char *path)
{
	check_fields(c, m, path);
	const fo_yaml_node *v;
	if ((v = field(m, "kind")) && (v->kind != FO_YAML_SCALAR || strcmp(v->str, "Pod") != 0))
		perr(c, v, path, "kind must be Pod");
	if ((v = field(m, "apiVersion")) && (v->kind != FO_YAML_SCALAR || strcmp(v->str, "v1") != 0))
		perr(c, v, path, "apiVersion must be v1");
	const fo_yaml_node *meta = get_map(c, m, path, "metadata");
	if (meta) {
		char *mp = join_path(path, "metadata");
		check_fields(c, meta, mp);
		cJSON_Delete(get_string_map(c, meta, mp, "labels"));
		cJSON_Delete(get_string_map(c, meta, mp, "annotations"));
		free(mp);
	}
	const fo_yaml_node *spec = get_map(c, m, path, "spec");
	const fo_yaml_node *containers = spec ? field(spec, "containers") : NULL;
	if (containers && containers->kind != FO_YAML_SEQ) {
		perr(c, containers, path, "spec.containers must be a list");
	} else if (containers) {
		/* rendering merges containers by name, so every one needs a name */
		for (size_t i = 0; i < containers->n; i++) {
			const fo_yaml_node *ct = containers->items[i];
			const fo_yaml_node *name = ct->kind == FO_YAML_MAP ? field(ct, "name") : NULL;
			if (ct->kind != FO_YAML_MAP)
				perr(c, ct, path, "spec.containers item %zu must be a mapping", i + 1);
			else if (!name)
				perr(c, ct, path, "spec.containers item %zu needs a name (flink-main-container for Flink's own)", i + 1);
			else if (strcmp(fo_yaml_kind_name(name), "string") != 0)
				/* the renderer merges containers by their name as a string */
				perr(c, name, path, "spec.containers item %zu: name must be a string, got a %s", i + 1,
				     fo_yaml_kind_name(name));
		}
	}
	return fo_yaml_to_json(m);
}

static void parse_process(pctx *c, const fo_yaml_node *spec, const char *key, flink_process *pr, bool is_tm)
{
	char *path = join_path("spec", key);
	const fo_yaml_node *m = get_map(c, spec, "spec", key);
	if (!m) {
		if (!field(spec, key))
			perr(c, spec, "spec", "\"%s\" is required, with resource.memory at least", key);
		free(path);
		return;
	}
	check_fields(c, m, path);
	const fo_yaml_node *res = get_map(c, m, path, "resource");
	const fo_yaml_node *ress = get_map(c, m, path, "resources");
	if (res && ress) {
		perr(c, fo_yaml_get_key(m, "resources"), path,
		     "give either \"resource\" (Flink's form) or \"resources\" (Kubernetes' form), not both");
	} else if (res) {
		char *p = join_path(path, "resource");
		parse_resource(c, res, p, &pr->res);
		free(p);
	} else if (ress) {
		char *p = join_path(path, "resources");
		parse_resources(c, ress, p, &pr->res, &pr->claims);
		free(p);
	} else if (!field(m, "resource") && !field(m, "resources")) {
		perr(c, m, path, "\"resource\" is required, with memory at least (e.g. resource: {memory: 2048m, cpu: 1})");
	}
	if (!pr->res.cpu_milli)
		pr->res.cpu_milli = 1000; /* Flink's kubernetes.*.cpu default: one core */
	pr->res.cpu_limit_given = pr->res.cpu_limit_milli != 0;
	pr->res.memory_limit_given = pr->res.memory_limit != 0;
	if (!pr->res.cpu_limit_milli)
		pr->res.cpu_limit_milli = pr->res.cpu_milli;
	if (!pr->res.memory_limit)
		pr->res.memory_limit = pr->res.memory;
	if (pr->res.memory_limit && pr->res.memory_limit < pr->res.memory)
		perr(c, m, path, "the memory limit is below the memory request");
	if (pr->res.cpu_limit_milli < pr->res.cpu_milli)
		perr(c, m, path, "the cpu limit is below the cpu request");

	int64_t replicas;
	int got = get_int(c, m, path, "replicas", 1, 10000, &replicas);
	if (got == 1) {
		pr->replicas = (int)replicas;
		pr->replicas_given = true;
	} else if (!is_tm) {
		pr->replicas = 1;
	}
	const fo_yaml_node *pt = get_map(c, m, path, "podTemplate");
	if (pt) {
		char *p = join_path(path, "podTemplate");
		pr->pod_template = parse_pod_template(c, pt, p);
		free(p);
	}
	free(path);
}

static const char *const jar_schemes[] = {"s3", "https", "http", "file", "local", NULL};

/* Messages show the URI as fo_url_redact does: a presigned https:// URI
 * keeps its signature in the query. */
static void check_jar_uri(pctx *c, const fo_yaml_node *at, const char *uri)
{
	char *shown = fo_url_redact(uri);
	/* a scheme is a letter, then letters, digits, '+', '-' and '.' */
	size_t sl = isalpha((unsigned char)uri[0]) ? strspn(uri, "abcdefghijklmnopqrstuvwxyz"
								   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")
						   : 0;
	const char *sep = sl && strncmp(uri + sl, "://", 3) == 0 ? uri + sl : NULL;
	bool known = false;
	for (const char *const *s = jar_schemes; *s && sep; s++)
		known = known || (strlen(*s) == sl && strncmp(uri, *s, sl) == 0);
	if (fo_has_ctl(uri))
		perr(c, at, "spec.job.jarURI", "\"%s\" holds a control character; percent-encode it (%%0A for a line break)",
		     shown);
	else if (fo_url_userinfo(uri) != FO_URL_NO_USERINFO)
		perr(c, at, "spec.job.jarURI",
		     "\"%s\" holds credentials, which would show wherever the URI does; give S3 keys in files "
		     "(flink.s3AccessKeyFile, flink.s3SecretKeyFile) or use a presigned https:// URL",
		     shown);
	else if (!sep)
		perr(c, at, "spec.job.jarURI", "\"%s\" is not a URI: use s3://bucket/key.jar, https://..., file:///path or local:///path", shown);
	else if (!known)
		perr(c, at, "spec.job.jarURI", "scheme \"%.*s\" is not supported: use s3, https, http, file or local", (int)sl, uri);
	else if (!sep[3])
		perr(c, at, "spec.job.jarURI", "\"%s\" names no file", shown);
	else if (((sl == 4 && strncmp(uri, "file", 4) == 0) || (sl == 5 && strncmp(uri, "local", 5) == 0)) && sep[3] != '/')
		perr(c, at, "spec.job.jarURI", "\"%s\" must be an absolute path (%.*s:///path/to/job.jar)", shown, (int)sl, uri);
	free(shown);
}

static void parse_job(pctx *c, const fo_yaml_node *m, flink_job *j, int64_t *slots_out)
{
	const char *path = "spec.job";
	check_fields(c, m, path);
	if (get_str(c, m, path, "jarURI", &j->jar_uri) == 0)
		perr(c, m, path, "\"jarURI\" is required (s3://..., https://..., file:///... or local:///...)");
	else if (j->jar_uri)
		check_jar_uri(c, field(m, "jarURI"), j->jar_uri);

	char *entry = NULL, *main_class = NULL;
	get_str(c, m, path, "entryClass", &entry);
	get_str(c, m, path, "mainClass", &main_class);
	if (entry && main_class) {
		perr(c, fo_yaml_get_key(m, "mainClass"), path, "give either \"entryClass\" or \"mainClass\", not both");
		free(main_class);
		main_class = NULL;
	}
	j->entry_class = entry ? entry : main_class;

	const fo_yaml_node *args = field(m, "args");
	if (args && args->kind != FO_YAML_SEQ) {
		perr(c, args, "spec.job.args", "expected a list of strings, got a %s", fo_yaml_kind_name(args));
	} else if (args) {
		j->args = fo_calloc(args->n, sizeof(*j->args));
		for (size_t i = 0; i < args->n; i++) {
			const fo_yaml_node *a = args->items[i];
			if (a->kind != FO_YAML_SCALAR || fo_yaml_is_null(a)) {
				perr(c, a, "spec.job.args", "item %zu must be a string, got a %s", i + 1, fo_yaml_kind_name(a));
				continue;
			}
			j->args[j->nargs++] = fo_strdup(a->str);
		}
	}

	int64_t v;
	if (get_int(c, m, path, "parallelism", 1, 100000, &v) == 1) {
		j->parallelism = (int)v;
		j->parallelism_given = true;
	} else if (!field(m, "parallelism")) {
		j->parallelism = 1; /* or replicas × slots, see compute_replicas */
	}
	if (get_int(c, m, path, "parallelismPerK8sResource", 1, 10000, &v) == 1)
		*slots_out = v;

	char *mode = NULL;
	if (get_str(c, m, path, "upgradeMode", &mode) == 1) {
		if (strcmp(mode, "stateless") == 0)
			j->upgrade_mode = FLINK_UPGRADE_STATELESS;
		else if (strcmp(mode, "savepoint") == 0 || strcmp(mode, "SAVEPOINT_ON_RESTART") == 0)
			j->upgrade_mode = FLINK_UPGRADE_SAVEPOINT;
		else if (strcmp(mode, "last-state") == 0)
			j->upgrade_mode = FLINK_UPGRADE_LAST_STATE;
		else
			perr(c, field(m, "upgradeMode"), "spec.job.upgradeMode",
			     "\"%s\" is not an upgrade mode: use stateless, savepoint (or SAVEPOINT_ON_RESTART) or last-state", mode);
	}
	free(mode);

	char *state = NULL;
	if (get_str(c, m, path, "state", &state) == 1) {
		if (strcmp(state, "running") == 0)
			j->state = FLINK_STATE_RUNNING;
		else if (strcmp(state, "suspended") == 0)
			j->state = FLINK_STATE_SUSPENDED;
		else
			perr(c, field(m, "state"), "spec.job.state", "\"%s\" is not a job state: use running or suspended", state);
	}
	free(state);

	get_bool(c, m, path, "allowNonRestoredState", &j->allow_non_restored_state);
	get_str(c, m, path, "initialSavepointPath", &j->initial_savepoint_path);
	get_int(c, m, path, "savepointTriggerNonce", INT64_MIN, INT64_MAX, &j->savepoint_trigger_nonce);
	if (get_int(c, m, path, "savepointRedeployNonce", INT64_MIN, INT64_MAX, &j->savepoint_redeploy_nonce) == 1 &&
	    j->savepoint_redeploy_nonce != 0 && !j->initial_savepoint_path)
		/* upstream's semantics: a new nonce redeploys from that savepoint */
		perr(c, field(m, "savepointRedeployNonce"), "spec.job.savepointRedeployNonce",
		     "redeploys the job from job.initialSavepointPath, which is not set: name the savepoint to start from");
	get_int(c, m, path, "checkpointTriggerNonce", INT64_MIN, INT64_MAX, &j->checkpoint_trigger_nonce);
	/* the upstream operator's autoscaler resets its scaling decisions when
	 * this changes; flinkops scales only from git, so it is carried and said */
	if (get_int(c, m, path, "autoscalerResetNonce", INT64_MIN, INT64_MAX, &j->autoscaler_reset_nonce) == 1)
		pwarn(c, field(m, "autoscalerResetNonce"), "spec.job.autoscalerResetNonce",
		      "has no effect in flinkops, which has no autoscaler: parallelism and replicas come from git");
	if (get_str(c, m, path, "savepointStorage", &j->savepoint_dir) == 1) {
		/* it becomes a line of Flink's configuration file */
		const fo_yaml_node *sp = field(m, "savepointStorage");
		char *why = flink_conf_problem(sp->str, sp->len, false);
		if (why)
			perr(c, sp, "spec.job.savepointStorage", "%s", why);
		else if (!strstr(j->savepoint_dir, "://") && j->savepoint_dir[0] != '/')
			perr(c, sp, "spec.job.savepointStorage",
			     "\"%s\" is not a URI: use e.g. s3://bucket/savepoints/ or file:///path", j->savepoint_dir);
		free(why);
	}
}

/* "v1_17", "1.17", "1.17.1" -> 1, 17. */
static bool parse_version(const char *s, int *major, int *minor)
{
	const char *p = s;
	if (*p == 'v')
		p++;
	char *end;
	long ma = strtol(p, &end, 10);
	if (end == p || (*end != '.' && *end != '_'))
		return false;
	p = end + 1;
	long mi;
	if (*p == 'x' && !p[1])
		mi = 0;
	else {
		mi = strtol(p, &end, 10);
		if (end == p || (*end && *end != '.' && *end != '-'))
			return false;
	}
	if (ma < 1 || ma > 9 || mi < 0 || mi > 99)
		return false;
	*major = (int)ma;
	*minor = (int)mi;
	return true;
}

/* The versions of the upstream CRD's flinkVersion enum. */
#define FLINK_VERSIONS "v1_13 to v1_20, v2_0 to v2_4 (also written 1.20 or 1.20.1)"

static bool known_version(int major, int minor)
{
	return (major == 1 && minor >= 13 && minor <= 20) || (major == 2 && minor <= 4);
}

static void parse_image(pctx *c, const fo_yaml_node *spec, flink_deployment *fd)
{
	const fo_yaml_node *img = field(spec, "image");
	if (!img) {
		perr(c, spec, "spec", "\"image\" is required (e.g. image: flink:1.20)");
		return;
	}
	if (img->kind == FO_YAML_MAP) {
			check_fields(c, img, "spec.image");
		char *repo = NULL, *tag = NULL, *policy = NULL;
		if (get_str(c, img, "spec.image", "repository", &repo) == 0)
			perr(c, img, "spec.image", "\"repository\" is required");
		get_str(c, img, "spec.image", "tag", &tag);
		if (get_str(c, img, "spec.image", "pullPolicy", &policy) == 1)
			fd->image_pull_policy = policy;
		if (repo)
			fd->image = tag ? fo_asprintf("%s%s%s", repo, fo_has_prefix(tag, "sha256:") ? "@" : ":", tag)
					: fo_strdup(repo);
		free(repo);
		free(tag);
	} else if (img->kind == FO_YAML_SCALAR) {
		fd->image = fo_strdup(img->str);
	} else {
		perr(c, img, "spec.image", "expected a string (repo:tag) or a mapping {repository, tag, pullPolicy}, got a list");
	}
	if (fd->image) {
		for (const char *p = fd->image; *p; p++)
			if (isspace((unsigned char)*p)) {
				perr(c, img, "spec.image", "\"%s\" contains whitespace", fd->image);
				break;
			}
	}
	char *policy = NULL;
	const fo_yaml_node *policy_at = img->kind == FO_YAML_MAP ? field(img, "pullPolicy") : NULL;
	if (get_str(c, spec, "spec", "imagePullPolicy", &policy) == 1) {
		if (fd->image_pull_policy)
			perr(c, fo_yaml_get_key(spec, "imagePullPolicy"), "spec",
			     "the pull policy is given twice (image.pullPolicy and imagePullPolicy)");
		free(fd->image_pull_policy);
		fd->image_pull_policy = policy;
		policy_at = field(spec, "imagePullPolicy");
	}
	if (fd->image_pull_policy && strcmp(fd->image_pull_policy, "Always") != 0 &&
	    strcmp(fd->image_pull_policy, "IfNotPresent") != 0 && strcmp(fd->image_pull_policy, "Never") != 0)
		perr(c, policy_at, "spec", "image pull policy \"%s\" is not one of Always, IfNotPresent, Never",
		     fd->image_pull_policy);
}

enum flink_ha flink_ha_mode(const flink_kvs *conf)
{
	const char *v = flink_conf_get(conf, "high-availability.type");
	if (!v)
		v = flink_conf_get(conf, "high-availability");
	/* Flink matches the mode names ignoring case */
	if (!v || strcasecmp(v, "none") == 0)
		return FLINK_HA_NONE;
	if (strcasecmp(v, "kubernetes") == 0 ||
	    strcmp(v, "org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory") == 0)
		return FLINK_HA_KUBERNETES;
	if (strcasecmp(v, "zookeeper") == 0)
		return FLINK_HA_ZOOKEEPER;
	return FLINK_HA_OTHER;
}

/* The savepoint directory the configuration names, in Flink's new key or
 * its old one; NULL when neither. */
static const char *conf_savepoint_dir(const flink_kvs *conf)
{
	const char *sp = flink_conf_get(conf, "execution.checkpointing.savepoint-dir");
	return sp ? sp : flink_conf_get(conf, "state.savepoints.dir");
}

const char *flink_savepoint_dir(const flink_deployment *fd)
{
	if (fd->has_job && fd->job.savepoint_dir)
		return fd->job.savepoint_dir;
	return conf_savepoint_dir(&fd->conf);
}

bool flink_application_cluster(const flink_deployment *fd)
{
	return fd->has_job && fd->job.jar_uri && fo_has_prefix(fd->job.jar_uri, "local://");
}

/* The node of flinkConfiguration key `key` (dotted or nested), for its
 * position; `conf` itself when not found. */
static const fo_yaml_node *conf_node(const fo_yaml_node *conf, const char *key)
{
	for (size_t i = 0; conf && conf->kind == FO_YAML_MAP && i < conf->n; i++) {
		const fo_yaml_node *k = conf->items[2 * i], *v = conf->items[2 * i + 1];
		size_t n = strlen(k->str);
		if (strcmp(k->str, key) == 0)
			return k;
		if (v->kind == FO_YAML_MAP && strncmp(key, k->str, n) == 0 && key[n] == '.') {
			const fo_yaml_node *in = conf_node(v, key + n + 1);
			if (in != v)
				return in;
		}
	}
	return conf;
}

/* High availability: what Flink needs for it, and what needs it. */
static void check_ha(pctx *c, const fo_yaml_node *spec, flink_deployment *fd)
{
	const fo_yaml_node *conf = field(spec, "flinkConfiguration");
	enum flink_ha ha = flink_ha_mode(&fd->conf);
	if (ha == FLINK_HA_NONE) {
		if (fd->jm.replicas > 1)
			perr(c, fo_yaml_get_key(spec, "jobManager"), "spec.jobManager",
			     "replicas %d needs high availability: standby JobManagers take over only through it; "
			     "set flinkConfiguration high-availability.type: kubernetes and high-availability.storageDir, "
			     "or use replicas: 1",
			     fd->jm.replicas);
		/* The State promise: without HA, an application JobManager whose
		 * pod restarts runs the job again from the state it was started
		 * with (an upgrade's savepoint, maybe days old); with HA it
		 * recovers the job from the newest checkpoint in its HA store. */
		if (flink_application_cluster(fd) && fd->job.upgrade_mode != FLINK_UPGRADE_STATELESS)
			perr(c, field(field(spec, "job"), "upgradeMode"), "spec.job.upgradeMode",
			     "%s with a local:// jar needs high availability: without it a restarted JobManager runs the "
			     "job again from the state it started with, not its newest checkpoint; set flinkConfiguration "
			     "high-availability.type: kubernetes and high-availability.storageDir (and a serviceAccount "
			     "that may edit ConfigMaps), or use upgradeMode: stateless",
			     flink_upgrade_mode_name(fd->job.upgrade_mode));
		return;
	}
	const char *type_key = flink_conf_get(&fd->conf, "high-availability.type") ? "high-availability.type"
										   : "high-availability";
	/* the JobManager writes its job graphs and checkpoint pointers there;
	 * without it Flink refuses to start */
	if (!flink_conf_get(&fd->conf, "high-availability.storageDir") &&
	    !flink_conf_get(&fd->conf, "high-availability.zookeeper.storageDir"))
		perr(c, conf_node(conf, type_key), "spec.flinkConfiguration",
		     "%s needs high-availability.storageDir, durable storage every JobManager reaches "
		     "(e.g. s3://bucket/flink-ha/)",
		     type_key);
}

/*
 * A duration as Flink writes it ("30 s", "10min", "1h", "500 ms", a plain
 * number of milliseconds) in milliseconds; -1 when it is not one.
 */
static int64_t flink_duration_ms(const char *s)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || errno || v < 0)
		return -1;
	while (*end == ' ')
		end++;
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {{"", 1},          {"ms", 1},        {"milli", 1},     {"millis", 1},   {"s", 1000},
		     {"sec", 1000},    {"secs", 1000},   {"second", 1000}, {"seconds", 1000}, {"m", 60000},
		     {"min", 60000},   {"minute", 60000}, {"minutes", 60000}, {"h", 3600000}, {"hour", 3600000},
		     {"hours", 3600000}, {"d", 86400000},  {"day", 86400000}, {"days", 86400000}};
	for (size_t i = 0; i < FO_ARRAY_LEN(units); i++)
		if (strcmp(end, units[i].unit) == 0)
			return v > INT64_MAX / units[i].ms ? -1 : v * units[i].ms;
	return -1;
}

/* Upstream's savepoint retention keys (flinkops disposes of the savepoints
 * it took beyond them; deploy/retention.h). */
static void check_retention(pctx *c, const fo_yaml_node *at, flink_deployment *fd)
{
	const char *s;
	if ((s = flink_conf_get(&fd->conf, "kubernetes.operator.savepoint.history.max.count"))) {
		char *end;
		errno = 0;
		long long v = strtoll(s, &end, 10);
		if (end == s || *end || errno || v < 1 || v > FLINK_SAVEPOINT_HISTORY_COUNT_MAX)
			perr(c, at, "spec.flinkConfiguration",
			     "kubernetes.operator.savepoint.history.max.count must be a whole number from 1 to %d (the "
			     "savepoints flinkops keeps track of), got \"%s\"",
			     FLINK_SAVEPOINT_HISTORY_COUNT_MAX, s);
		else
			fd->job.savepoint_history_max_count = (int)v;
	}
	if ((s = flink_conf_get(&fd->conf, "kubernetes.operator.savepoint.history.max.age"))) {
		int64_t ms = flink_duration_ms(s);
		if (ms < 1000)
			perr(c, at, "spec.flinkConfiguration",
			     "kubernetes.operator.savepoint.history.max.age must be a duration of at least 1 s (\"24 h\", "
			     "\"7d\"), got \"%s\"", s);
		else
			fd->job.savepoint_history_max_age_ms = ms;
	}
	static const char *const bool_keys[] = {"kubernetes.operator.savepoint.cleanup.enabled",
						"kubernetes.operator.savepoint.dispose-on-delete",
						"kubernetes.operator.snapshot.resource.enabled"};
	bool val[3] = {true, false, true}; /* upstream's defaults */
	for (size_t i = 0; i < FO_ARRAY_LEN(bool_keys); i++) {
		if (!(s = flink_conf_get(&fd->conf, bool_keys[i])))
			continue;
		/* Flink reads booleans without regard to case */
		if (strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0)
			val[i] = strcasecmp(s, "true") == 0;
		else
			perr(c, at, "spec.flinkConfiguration", "%s must be true or false, got \"%s\"", bool_keys[i], s);
	}
	/* upstream's SnapshotObserver: the legacy history disposes of what it
	 * drops; snapshot resources keep the data unless dispose-on-delete */
	fd->job.savepoint_cleanup = !val[0]		 ? FLINK_CLEANUP_OFF
				    : val[1] || !val[2] ? FLINK_CLEANUP_DISPOSE
							: FLINK_CLEANUP_FORGET;
}

/* A ServiceAccount name as spec.serviceAccount has always been checked: a
 * DNS-1123 label, or a dotted name, which the API server judges. */
static bool account_name_ok(const char *s)
{
	return flink_dns1123_label(s) || strchr(s, '.') != NULL;
}

/*
 * Flink's map option format, "k1:v1,k2:v2", into a JSON object of strings;
 * NULL with *why set when an entry has no key or no ':'.
 */
static cJSON *parse_flink_map(const char *s, char **why)
{
	cJSON *o = cJSON_CreateObject();
	char *copy = fo_strdup(s), *save = NULL;
	for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		while (*e == ' ')
			e++;
		char *colon = strchr(e, ':');
		if (!*e)
			continue;
		if (!colon || colon == e) {
			*why = fo_asprintf("\"%s\" is not key:value", e);
			cJSON_Delete(o);
			o = NULL;
			break;
		}
		*colon = '\0';
		fo_json_set(o, e, cJSON_CreateString(colon + 1));
	}
	free(copy);
	return o;
}

/* Flink's tolerations, "key:k,operator:Equal,value:v,effect:NoSchedule;...",
 * into Kubernetes tolerations (keys matched without regard to case, as
 * Flink does; tolerationSeconds a number). */
static cJSON *parse_tolerations(const char *s, char **why)
{
	static const char *const names[] = {"key", "operator", "value", "effect", "tolerationSeconds"};
	cJSON *arr = cJSON_CreateArray();
	char *copy = fo_strdup(s), *save = NULL;
	for (char *t = strtok_r(copy, ";", &save); t && !*why; t = strtok_r(NULL, ";", &save)) {
		cJSON *m = parse_flink_map(t, why);
		if (!m)
			break;
		cJSON *tol = cJSON_CreateObject();
		for (cJSON *kv = m->child; kv && !*why; kv = kv->next) {
			size_t n = 0;
			while (n < FO_ARRAY_LEN(names) && strcasecmp(kv->string, names[n]) != 0)
				n++;
			if (n == FO_ARRAY_LEN(names)) {
				*why = fo_asprintf("\"%s\" is not a toleration field (key, operator, value, effect, "
						   "tolerationSeconds)", kv->string);
			} else if (n == 4) {
				char *end;
				errno = 0;
				long long secs = strtoll(kv->valuestring, &end, 10);
				if (end == kv->valuestring || *end || errno)
					*why = fo_asprintf("tolerationSeconds must be a whole number, got \"%s\"",
							   kv->valuestring);
				else
					cJSON_AddNumberToObject(tol, names[n], (double)secs);
			} else {
				cJSON_AddStringToObject(tol, names[n], kv->valuestring);
			}
		}
		cJSON_Delete(m);
		if (cJSON_GetArraySize(tol))
			cJSON_AddItemToArray(arr, tol);
		else
			cJSON_Delete(tol);
	}
	free(copy);
	if (*why) {
		cJSON_Delete(arr);
		return NULL;
	}
	return arr;
}

/*
 * Flink's own kubernetes.* pod options, which the upstream operator applies
 * in standalone mode as in native mode: labels, annotations, node selector,
 * tolerations, service account and limit factors per component, and the
 * image pull secrets. The renderer puts them on the pods; a value Flink
 * could not read either is an error at flinkConfiguration.
 */
static void check_pod_options(pctx *c, const fo_yaml_node *conf, flink_deployment *fd)
{
	static const char *const comps[] = {"jobmanager", "taskmanager"};
	for (int jm = 1; jm >= 0; jm--) {
		flink_process *pr = jm ? &fd->jm : &fd->tm;
		const char *comp = comps[jm ? 0 : 1];
		struct {
			const char *opt;
			cJSON **out;
		} maps[] = {{"labels", &pr->k8s_labels},
			    {"annotations", &pr->k8s_annotations},
			    {"node-selector", &pr->k8s_node_selector},
			    {"tolerations", &pr->k8s_tolerations}};
		for (size_t i = 0; i < FO_ARRAY_LEN(maps); i++) {
			char *key = fo_asprintf("kubernetes.%s.%s", comp, maps[i].opt);
			const char *s = flink_conf_get(&fd->conf, key);
			char *why = NULL;
			if (s) {
				*maps[i].out = i == 3 ? parse_tolerations(s, &why) : parse_flink_map(s, &why);
				if (why)
					perr(c, conf_node(conf, key), "spec.flinkConfiguration", "%s: %s", key, why);
			}
			free(why);
			free(key);
		}
		char *key = fo_asprintf("kubernetes.%s.service-account", comp);
		const char *s = flink_conf_get(&fd->conf, key);
		if (s && !account_name_ok(s))
			perr(c, conf_node(conf, key), "spec.flinkConfiguration", "%s: \"%s\" is not a valid name", key, s);
		else if (s)
			pr->service_account = fo_strdup(s);
		free(key);
		/* the limits, unless given, are the requests times these */
		for (int mem = 0; mem < 2; mem++) {
			key = fo_asprintf("kubernetes.%s.%s.limit-factor", comp, mem ? "memory" : "cpu");
			if ((s = flink_conf_get(&fd->conf, key))) {
				char *end;
				errno = 0;
				double f = strtod(s, &end);
				if (end == s || *end || errno || !(f >= 1.0) || f > 1000.0)
					perr(c, conf_node(conf, key), "spec.flinkConfiguration",
					     "%s must be a number from 1 (the limit is the request times it), got \"%s\"",
					     key, s);
				else if (mem && !pr->res.memory_limit_given)
					pr->res.memory_limit = (uint64_t)((double)pr->res.memory * f);
				else if (!mem && !pr->res.cpu_limit_given)
					pr->res.cpu_limit_milli = (int64_t)((double)pr->res.cpu_milli * f);
			}
			free(key);
		}
	}
	/* spec.serviceAccount wins over Flink's own key, as upstream sets it */
	const char *sa = flink_conf_get(&fd->conf, "kubernetes.service-account");
	if (sa && !fd->service_account) {
		if (!account_name_ok(sa))
			perr(c, conf_node(conf, "kubernetes.service-account"), "spec.flinkConfiguration",
			     "kubernetes.service-account: \"%s\" is not a valid name", sa);
		else
			fd->service_account = fo_strdup(sa);
	}
	const char *ps = flink_conf_get(&fd->conf, "kubernetes.container.image.pull-secrets");
	if (ps) {
		fd->image_pull_secrets = cJSON_CreateArray();
		char *copy = fo_strdup(ps), *save = NULL;
		for (char *n = strtok_r(copy, ";", &save); n; n = strtok_r(NULL, ";", &save)) {
			while (*n == ' ')
				n++;
			if (!*n)
				continue;
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "name", n);
			cJSON_AddItemToArray(fd->image_pull_secrets, o);
		}
		free(copy);
	}
}

/* kubernetes.operator.periodic.WHAT.interval (WHAT: savepoint or
 * checkpoint) in upstream's two spellings: a duration (*ms; 0 for none) or
 * a Quartz cron expression (*cron_text, parsed into *cron). */
static void periodic_schedule(pctx *c, const fo_yaml_node *spec, const flink_deployment *fd, const char *what,
			      int64_t *ms_out, char **cron_text, flink_cron *cron)
{
	char *key = fo_asprintf("kubernetes.operator.periodic.%s.interval", what);
	const char *s = flink_conf_get(&fd->conf, key);
	if (s) {
		const fo_yaml_node *at = conf_node(field(spec, "flinkConfiguration"), key);
		int64_t ms = flink_duration_ms(s);
		char *why = NULL;
		bool is_cron = ms < 0 && strchr(s, ' ') && flink_cron_parse(s, cron, &why) == 0;
		if (why)
			perr(c, at, "spec.flinkConfiguration", "%s \"%s\": %s", key, s, why);
		else if (!is_cron && (ms < 0 || (ms > 0 && ms < 1000)))
			perr(c, at, "spec.flinkConfiguration",
			     "%s must be a duration of at least 1 s (\"10min\", \"1 h\"; 0 for none) or a Quartz cron "
			     "expression (\"0 0 2 * * ?\"), got \"%s\"", key, s);
		else if (!fd->has_job && (is_cron || ms > 0))
			perr(c, at, "spec.flinkConfiguration", "%s needs a job to take %ss of", key, what);
		else if (is_cron)
			*cron_text = fo_strdup(s);
		else
			*ms_out = ms;
		free(why);
	}
	free(key);
}

/* The keys of flinkConfiguration that say how flinkops handles the job
 * (savepoint directory, periodic snapshots, checkpoint type, rollback,
 * retention): a FlinkDeployment's and a FlinkSessionJob's alike. */
static void check_job_conf(pctx *c, const fo_yaml_node *spec, flink_deployment *fd)
{
	const fo_yaml_node *at = fo_yaml_get_key(spec, "flinkConfiguration");
	const char *s;
	const char *sp = conf_savepoint_dir(&fd->conf);
	if (sp && fd->has_job && fd->job.savepoint_dir && strcmp(sp, fd->job.savepoint_dir) != 0)
		perr(c, at, "spec.flinkConfiguration", "the savepoint directory \"%s\" differs from job.savepointStorage \"%s\"; give one",
		     sp, fd->job.savepoint_dir);
	periodic_schedule(c, spec, fd, "savepoint", &fd->job.periodic_savepoint_ms, &fd->job.periodic_savepoint_cron,
			  &fd->job.periodic_cron);
	periodic_schedule(c, spec, fd, "checkpoint", &fd->job.periodic_checkpoint_ms, &fd->job.periodic_checkpoint_cron,
			  &fd->job.periodic_checkpoint_cron_parsed);
	fd->job.checkpoint_type = "FULL";
	if ((s = flink_conf_get(&fd->conf, "kubernetes.operator.checkpoint.type"))) {
		static const char *const types[] = {"FULL", "INCREMENTAL", "CONFIGURED"};
		size_t t = 0;
		while (t < FO_ARRAY_LEN(types) && strcasecmp(s, types[t]) != 0)
			t++;
		if (t < FO_ARRAY_LEN(types))
			fd->job.checkpoint_type = types[t];
		else
			perr(c, conf_node(field(spec, "flinkConfiguration"), "kubernetes.operator.checkpoint.type"),
			     "spec.flinkConfiguration",
			     "kubernetes.operator.checkpoint.type must be FULL, INCREMENTAL or CONFIGURED, got \"%s\"", s);
	}
	if ((s = flink_conf_get(&fd->conf, "kubernetes.operator.deployment.rollback.enabled"))) {
		if (strcmp(s, "true") == 0)
			fd->job.rollback = FLINK_ROLLBACK_ON;
		else if (strcmp(s, "false") == 0)
			fd->job.rollback = FLINK_ROLLBACK_OFF;
		else
			perr(c, at, "spec.flinkConfiguration",
			     "kubernetes.operator.deployment.rollback.enabled must be \"true\" or \"false\", got \"%s\"", s);
		if (fd->job.rollback == FLINK_ROLLBACK_ON && fd->has_job &&
		    fd->job.upgrade_mode == FLINK_UPGRADE_STATELESS)
			perr(c, at, "spec.flinkConfiguration",
			     "kubernetes.operator.deployment.rollback.enabled is true, but a stateless job has no state to "
			     "roll back with; use upgradeMode savepoint or last-state, or remove the key");
	}
	check_retention(c, at, fd);
}

/*
 * Upstream's guard on deleting a session cluster that runs jobs no
 * FlinkSessionJob manages (submitted by hand, by the CLI): on by default;
 * "false" lets the cluster go with them. The key means nothing to a cluster
 * that runs its own job, which is said.
 */
static void check_unmanaged_jobs(pctx *c, const fo_yaml_node *spec, flink_deployment *fd)
{
	static const char *const keys[] = {"kubernetes.operator.session.deletion.block-on-unmanaged-jobs",
					   "kubernetes.operator.session.block-on-unmanaged-jobs"};
	const fo_yaml_node *conf = field(spec, "flinkConfiguration");
	for (size_t i = 0; i < FO_ARRAY_LEN(keys); i++) {
		const char *s = flink_conf_get(&fd->conf, keys[i]);
		if (!s)
			continue;
		const fo_yaml_node *at = conf_node(conf, keys[i]);
		if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
			perr(c, at, "spec.flinkConfiguration", "%s must be \"true\" or \"false\", got \"%s\"", keys[i], s);
		else if (fd->has_job)
			pwarn(c, at, "spec.flinkConfiguration",
			      "%s: only a session cluster's deletion is guarded by it; this deployment runs its own job", keys[i]);
		else if (strcmp(s, "false") == 0)
			fd->delete_with_unmanaged_jobs = true;
	}
}

static void check_conf(pctx *c, const fo_yaml_node *spec, flink_deployment *fd, int64_t slots_spec)
{
	const fo_yaml_node *at = fo_yaml_get_key(spec, "flinkConfiguration"), *conf = field(spec, "flinkConfiguration");
	/* Keys that flinkops sets itself because the rendered Services depend
	 * on them, or (as upstream forbids them too) because they name the
	 * cluster (FLINK_CONF_SET in flink/fields.c). A port written with the
	 * very value flinkops sets (upstream's blue/green e2e files write
	 * rest.port: "8081") changes nothing and is accepted; any other value,
	 * and the other keys, are errors. render.c sets these ports. */
	size_t nkeys;
	const flink_conf_key *keys = flink_conf_keys(&nkeys);
	for (size_t i = 0; i < nkeys; i++) {
		const flink_conf_key *k = &keys[i];
		if (!(k->flags & FLINK_CONF_SET))
			continue;
		const char *v = flink_conf_get(&fd->conf, k->key);
		if (!v || (k->same && strcmp(v, k->same) == 0))
			continue;
		if (k->same)
			perr(c, conf_node(conf, k->key), "spec.flinkConfiguration",
			     "\"%s\" is set by flinkops to %s (the Services depend on it); remove it or write %s", k->key,
			     k->same, k->same);
		else
			perr(c, conf_node(conf, k->key), "spec.flinkConfiguration",
			     "\"%s\" is set by flinkops (the Services depend on it); remove it", k->key);
	}

	const char *s = flink_conf_get(&fd->conf, "taskmanager.numberOfTaskSlots");
	int64_t slots_conf = 0;
	if (s) {
		char *end;
		long long v = strtoll(s, &end, 10);
		if (*end || v < 1 || v > 10000)
			perr(c, at, "spec.flinkConfiguration", "taskmanager.numberOfTaskSlots must be a whole number from 1, got \"%s\"", s);
		else
			slots_conf = v;
	}
	if (slots_spec && slots_conf && slots_spec != slots_conf)
		perr(c, at, "spec.flinkConfiguration",
		     "taskmanager.numberOfTaskSlots is %lld but job.parallelismPerK8sResource is %lld; give one",
		     (long long)slots_conf, (long long)slots_spec);
	fd->slots = (int)(slots_spec ? slots_spec : slots_conf ? slots_conf : 1);

	if ((s = flink_conf_get(&fd->conf, "parallelism.default")) && fd->has_job) {
		char *end;
		long long v = strtoll(s, &end, 10);
		if (*end || v != fd->job.parallelism)
			perr(c, at, "spec.flinkConfiguration", "parallelism.default is \"%s\" but job.parallelism is %d; give one", s,
			     fd->job.parallelism);
	}
	if (flink_conf_get(&fd->conf, "jobmanager.memory.process.size"))
		perr(c, at, "spec.flinkConfiguration", "jobmanager.memory.process.size comes from jobManager.resource.memory; remove it");
	if (flink_conf_get(&fd->conf, "taskmanager.memory.process.size"))
		perr(c, at, "spec.flinkConfiguration", "taskmanager.memory.process.size comes from taskManager.resource.memory; remove it");
	check_job_conf(c, spec, fd);
	check_pod_options(c, field(spec, "flinkConfiguration"), fd);
	check_ha(c, spec, fd);
	check_unmanaged_jobs(c, spec, fd);
}

static void compute_replicas(pctx *c, const fo_yaml_node *spec, flink_deployment *fd)
{
	const fo_yaml_node *at = fo_yaml_get_key(spec, "taskManager");
	if (!at)
		return; /* reported as missing already */
	if (!fd->has_job) {
		/* No job to size it from: upstream's standalone mode starts one
		 * TaskManager, and so does flinkops, saying so where the size
		 * would go (upstream's session examples omit it). */
		if (!fd->tm.replicas_given) {
			fd->tm.replicas = 1;
			pwarn(c, at, "spec.taskManager",
			      "no \"replicas\" for a session cluster (no job): as many TaskManagers as the slots of the "
			      "FlinkSessionJobs on it need, at least one (upstream's standalone mode starts one); set "
			      "taskManager.replicas for a fixed size");
		}
		return;
	}
	int p = fd->job.parallelism, s = fd->slots;
	if (!fd->tm.replicas_given) {
		fd->tm.replicas = (p + s - 1) / s;
		return;
	}
	/* Upstream runs the job at replicas × slots whenever replicas are
	 * given, ignoring job.parallelism. Only combinations that mean the same
	 * thing to both are accepted, so a manifest never runs at another
	 * parallelism than it would under the upstream operator. */
	int64_t total = (int64_t)fd->tm.replicas * s;
	if (!fd->job.parallelism_given) {
		if (total > 100000)
			perr(c, at, "spec.taskManager", "%d TaskManagers with %d slots each give %lld slots, more than the "
			     "highest parallelism 100000", fd->tm.replicas, s, (long long)total);
		else
			fd->job.parallelism = (int)total;
	} else if (total != p) {
		perr(c, at, "spec.taskManager",
		     "%d TaskManagers with %d slots each give %lld slots but job.parallelism is %d; the upstream "
		     "operator would run the job at %lld. Give one of taskManager.replicas (parallelism is then "
		     "replicas × slots) and job.parallelism (replicas are then computed), or make them agree",
		     fd->tm.replicas, s, (long long)total, p, (long long)total);
	}
}

/* The node of a process's memory size (resource.memory, or
 * resources.requests/limits.memory), for positions; and its path. */
static const fo_yaml_node *memory_node(const fo_yaml_node *spec, const char *key, const char **path)
{
	const fo_yaml_node *pr = field(spec, key), *r, *v;
	bool tm = strcmp(key, "taskManager") == 0;
	if (pr && (r = field(pr, "resource")) && r->kind == FO_YAML_MAP && (v = field(r, "memory"))) {
		*path = tm ? "spec.taskManager.resource.memory" : "spec.jobManager.resource.memory";
		return v;
	}
	if (pr && (r = field(pr, "resources")) && r->kind == FO_YAML_MAP) {
		for (int lim = 0; lim < 2; lim++) {
			const fo_yaml_node *x = field(r, lim ? "limits" : "requests");
			if (x && x->kind == FO_YAML_MAP && (v = field(x, "memory"))) {
				*path = tm ? (lim ? "spec.taskManager.resources.limits.memory" : "spec.taskManager.resources.requests.memory")
					   : (lim ? "spec.jobManager.resources.limits.memory" : "spec.jobManager.resources.requests.memory");
				return v;
			}
		}
	}
	*path = tm ? "spec.taskManager" : "spec.jobManager";
	return pr ? pr : spec;
}

/* Flink's own memory model: a process size Flink refuses at start is
 * refused here, with the smallest size that fits when there is one; so is a
 * JobManager whose derived heap is below the one it needs to come up
 * (Flink accepts it, and the JVM then fails or runs out of memory). */
static void check_memory(pctx *c, const fo_yaml_node *spec, const flink_deployment *fd, bool tm)
{
	const flink_process *pr = tm ? &fd->tm : &fd->jm;
	if (!pr->res.memory)
		return; /* reported already */
	/* flinkops writes the process size in whole MiB; that is what Flink sees */
	uint64_t mib = flink_memory_mib(pr->res.memory);
	flink_memory m;
	fo_err e = FO_ERR_INIT;
	int rc = tm ? flink_tm_memory_derive(&fd->conf, mib << 20, &m, &e)
		    : flink_jm_memory_derive(&fd->conf, mib << 20, &m, &e);
	bool heap = false;
	if (rc == 0 && !tm) {
		rc = flink_jm_heap_check(&m, &e);
		heap = rc < 0;
	}
	if (rc == 0)
		return;
	const char *path;
	const fo_yaml_node *at = memory_node(spec, tm ? "taskManager" : "jobManager", &path);
	uint64_t min = flink_memory_min_mib(&fd->conf, tm);
	const char *what = tm ? "TaskManager" : "JobManager";
	if (heap && min)
		perr(c, at, path, "a JobManager of %llum does not start: %s; give at least %llum", (unsigned long long)mib,
		     fo_err_msg(&e), (unsigned long long)min);
	else if (heap)
		/* the heap is configured: the process size does not move it */
		perr(c, at, path, "a JobManager of %llum does not start: %s; set jobmanager.memory.heap.size to at least %um",
		     (unsigned long long)mib, fo_err_msg(&e), FLINK_JM_MIN_HEAP_MIB);
	else if (min)
		perr(c, at, path, "Flink cannot start a %s of %llum: %s; give at least %llum", what, (unsigned long long)mib,
		     fo_err_msg(&e), (unsigned long long)min);
	else
		perr(c, at, path, "Flink cannot start a %s of %llum: %s", what, (unsigned long long)mib, fo_err_msg(&e));
	fo_err_clear(&e);
}

/* A file name for the ConfigMap (a Kubernetes key: [-._a-zA-Z0-9]+) that is
 * neither Flink's configuration file nor hidden. */
static bool log_file_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253 || s[0] == '.' || strcmp(s, "config.yaml") == 0 || strcmp(s, "flink-conf.yaml") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* A string map whose keys may not start with `reserved` (what flinkops
 * sets on the object itself), each such key an error at its line. */
static cJSON *get_string_map_unreserved(pctx *c, const fo_yaml_node *map, const char *path, const char *key,
					const char *reserved, const char *why)
{
	cJSON *o = get_string_map(c, map, path, key);
	const fo_yaml_node *m = field(map, key);
	for (size_t i = 0; o && m && i < m->n; i++) {
		const fo_yaml_node *k = m->items[2 * i];
		if (fo_has_prefix(k->str, reserved)) {
			char *p = join_path(path, key);
			perr(c, k, p, "\"%s\": %s", k->str, why);
			free(p);
		}
	}
	return o;
}

/* spec.tls: [{hosts: [DNS names], secretName}], as the Ingress takes it. */
static cJSON *parse_ingress_tls(pctx *c, const fo_yaml_node *v)
{
	if (v->kind != FO_YAML_SEQ) {
		perr(c, v, "spec.ingress.tls", "expected a list, got a %s", fo_yaml_kind_name(v));
		return NULL;
	}
	for (size_t i = 0; i < v->n; i++) {
		const fo_yaml_node *t = v->items[i];
		char *p = fo_asprintf("spec.ingress.tls[%zu]", i);
		if (t->kind != FO_YAML_MAP) {
			perr(c, t, p, "expected a mapping, got a %s", fo_yaml_kind_name(t));
			free(p);
			continue;
		}
		check_fields(c, t, p);
		char *secret = NULL;
		if (get_str(c, t, p, "secretName", &secret) == 1 && !flink_dns1123_subdomain(secret))
			perr(c, field(t, "secretName"), p, "secretName \"%s\" is not a valid Secret name", secret);
		free(secret);
		const fo_yaml_node *hosts = field(t, "hosts");
		if (hosts && hosts->kind != FO_YAML_SEQ)
			perr(c, hosts, p, "hosts: expected a list, got a %s", fo_yaml_kind_name(hosts));
		for (size_t j = 0; hosts && hosts->kind == FO_YAML_SEQ && j < hosts->n; j++) {
			const fo_yaml_node *h = hosts->items[j];
			if (h->kind != FO_YAML_SCALAR || fo_yaml_is_null(h)) {
				perr(c, h, p, "hosts[%zu]: expected a string, got a %s", j, fo_yaml_kind_name(h));
				continue;
			}
			const char *dns = fo_has_prefix(h->str, "*.") ? h->str + 2 : h->str;
			if (!flink_dns1123_subdomain(dns))
				perr(c, h, p, "hosts[%zu]: \"%s\" is not a DNS name", j, h->str);
		}
		free(p);
	}
	return fo_yaml_to_json(v);
}

/*
 * spec.ingress as upstream reads it: template (required), className,
 * annotations, labels, tls. The template's host and path are resolved here
 * (flink_ingress_url), so a template the API server would refuse, or one
 * with a part upstream drops, is an error at its line.
 */
static void parse_ingress(pctx *c, const fo_yaml_node *spec, flink_deployment *fd)
{
	const fo_yaml_node *m = get_map(c, spec, "spec", "ingress");
	if (!m)
		return;
	check_fields(c, m, "spec.ingress");
	flink_ingress *in = fo_calloc(1, sizeof(*in));
	fd->ingress = in;
	if (get_str(c, m, "spec.ingress", "template", &in->template) == 0)
		perr(c, m, "spec.ingress", "\"template\" is required: the host and path of the Flink UI, "
					     "e.g. \"{{name}}.{{namespace}}.flink.example.com\" or \"/{{namespace}}/{{name}}(/|$)(.*)\"");
	if (in->template && fd->name && fd->namespace) {
		fo_err e = FO_ERR_INIT;
		if (flink_ingress_url(in->template, fd->name, fd->namespace, &in->host, &in->path, &e) < 0)
			perr(c, field(m, "template"), "spec.ingress.template", "%s", fo_err_msg(&e));
		fo_err_clear(&e);
	}
	if (get_str(c, m, "spec.ingress", "className", &in->class_name) == 1 && !flink_dns1123_subdomain(in->class_name))
		perr(c, field(m, "className"), "spec.ingress.className", "\"%s\" is not a valid IngressClass name",
		     in->class_name);
	in->annotations = get_string_map_unreserved(c, m, "spec.ingress", "annotations", "flinkops.io/",
						    "flinkops.io/ annotations are flinkops' own on the Ingress");
	in->labels = get_string_map_unreserved(c, m, "spec.ingress", "labels", "app.kubernetes.io/",
					       "app.kubernetes.io/ labels are flinkops' own on the Ingress (they select "
					       "what it manages)");
	const fo_yaml_node *tls = field(m, "tls");
	if (tls)
		in->tls = parse_ingress_tls(c, tls);
}

static void parse_spec(pctx *c, const fo_yaml_node *spec, flink_deployment *fd)
{
	check_fields(c, spec, "spec");
	parse_image(c, spec, fd);

	if (get_str(c, spec, "spec", "serviceAccount", &fd->service_account) == 1 &&
	    !account_name_ok(fd->service_account))
		perr(c, field(spec, "serviceAccount"), "spec.serviceAccount", "\"%s\" is not a valid name", fd->service_account);

	/* Required, as upstream requires it: it picks the configuration file
	 * (flink-conf.yaml or config.yaml) and option names, and an image tag
	 * (latest, a digest, a team's own) cannot be trusted to say it. */
	char *ver = NULL;
	if (get_str(c, spec, "spec", "flinkVersion", &ver) == 1) {
		if (!parse_version(ver, &fd->flink_major, &fd->flink_minor) ||
		    !known_version(fd->flink_major, fd->flink_minor))
			perr(c, field(spec, "flinkVersion"), "spec.flinkVersion",
			     "\"%s\" is not a Flink version flinkops knows: use one of " FLINK_VERSIONS, ver);
	} else if (!field(spec, "flinkVersion")) {
		perr(c, spec, "spec",
		     "\"flinkVersion\" is required: the Flink version of the image, one of " FLINK_VERSIONS);
	}
	free(ver);
	if (fd->flink_major)
		fd->flink_version = fo_asprintf("%d.%d", fd->flink_major, fd->flink_minor);

	parse_ingress(c, spec, fd);

	char *mode = NULL;
	/* upstream's spelling (image as one string) without a mode is native
	 * there (flink_note_defaults says so; the README's short form has no
	 * other mode to mean) */
	const fo_yaml_node *img = field(spec, "image");
	if (!field(spec, "mode") && img && img->kind == FO_YAML_SCALAR) {
		fd->mode_unset_line = spec->line;
		fd->mode_unset_col = spec->col;
	}
	if (get_str(c, spec, "spec", "mode", &mode) == 1) {
		if (strcmp(mode, "standalone") == 0)
			fd->mode = FLINK_MODE_STANDALONE;
		else if (strcmp(mode, "native") == 0) {
			fd->mode = FLINK_MODE_NATIVE;
			pwarn(c, field(spec, "mode"), "spec.mode",
			      "flinkops runs Flink in standalone mode: TaskManagers are a StatefulSet of fixed size, not pods started on demand");
		} else
			perr(c, field(spec, "mode"), "spec.mode", "\"%s\" is not a mode: use standalone or native", mode);
	}
	free(mode);

	const fo_yaml_node *conf = get_map(c, spec, "spec", "flinkConfiguration");
	if (conf)
		flatten_conf(c, conf, NULL, &fd->conf);
	const fo_yaml_node *logc = get_map(c, spec, "spec", "logConfiguration");
	if (logc) {
		for (size_t i = 0; i < logc->n; i++) {
			const fo_yaml_node *k = logc->items[2 * i], *v = logc->items[2 * i + 1];
			if (!log_file_name(k->str)) {
				/* a ConfigMap key, mounted as a file next to Flink's configuration */
				fo_buf q = FO_BUF_INIT;
				fo_buf_put_json_string(&q, k->str);
				perr(c, k, "spec.logConfiguration",
				     "%s is not a log configuration file name: use letters, digits, '-', '_' and '.', "
				     "e.g. log4j-console.properties",
				     fo_buf_cstr(&q));
				fo_buf_free(&q);
			} else if (v->kind != FO_YAML_SCALAR || fo_yaml_is_null(v)) {
				perr(c, v, "spec.logConfiguration", "\"%s\" must be the file's text", k->str);
			} else {
				flink_kvs_set(&fd->log_conf, k->str, v->str);
			}
		}
	}
	const fo_yaml_node *pt = get_map(c, spec, "spec", "podTemplate");
	if (pt)
		fd->pod_template = parse_pod_template(c, pt, "spec.podTemplate");
	get_str(c, spec, "spec", "restartNonce", &fd->restart_nonce);

	parse_process(c, spec, "jobManager", &fd->jm, false);
	parse_process(c, spec, "taskManager", &fd->tm, true);

	int64_t slots_spec = 0;
	const fo_yaml_node *job = get_map(c, spec, "spec", "job");
	if (job) {
		fd->has_job = true;
		parse_job(c, job, &fd->job, &slots_spec);
	}
	check_conf(c, spec, fd, slots_spec);
	compute_replicas(c, spec, fd);
	check_memory(c, spec, fd, false);
	check_memory(c, spec, fd, true);
}

/* A resource's metadata: the user's fields, then what the API server sets
 * (FLINK_FIELD_SERVER_SET in flink/fields.c): a manifest exported with
 * `kubectl get -o yaml` carries those, and they mean nothing to a desired
 * state, so they are accepted and named in one warning. Every kind's
 * metadata is a FlinkDeployment's. */
bool flink_metadata_server_set(const char *key)
{
	size_t n;
	const flink_field **known = flink_field_children(FLINK_KIND, "metadata", &n);
	bool set = false;
	for (size_t i = 0; i < n && !set; i++)
		set = (known[i]->flags & FLINK_FIELD_SERVER_SET) && strcmp(key, flink_field_name(known[i])) == 0;
	free(known);
	return set;
}

void flink_metadata_fields(const fo_yaml_node *meta, const char *file, fo_diags *d)
{
	pctx c = {file, d, d->nerrors, NULL, NULL, FLINK_KIND};
	check_fields(&c, meta, "metadata");
	fo_buf set = FO_BUF_INIT;
	const fo_yaml_node *first = NULL;
	size_t n;
	const flink_field **known = flink_field_children(FLINK_KIND, "metadata", &n);
	for (size_t i = 0; i < n; i++) {
		const fo_yaml_node *k = fo_yaml_get_key(meta, flink_field_name(known[i]));
		if (!k || !(known[i]->flags & FLINK_FIELD_SERVER_SET))
			continue;
		if (!first || k->line < first->line)
			first = k;
		fo_buf_printf(&set, "%s%s", set.len ? ", " : "", flink_field_name(known[i]));
	}
	free(known);
	if (first)
		pwarn(&c, first, "metadata",
		      "%s: set by the API server (a manifest exported with kubectl get -o yaml); ignored", set.ptr);
	fo_buf_free(&set);
}

static void parse_metadata(pctx *c, const fo_yaml_node *doc, flink_deployment *fd)
{
	const fo_yaml_node *meta = get_map(c, doc, "", "metadata");
	if (!meta) {
		if (!field(doc, "metadata"))
			perr(c, doc, NULL, "\"metadata\" with a name is required");
		return;
	}
	flink_metadata_fields(meta, c->file, c->d);
	if (get_str(c, meta, "metadata", "name", &fd->name) == 0)
		perr(c, meta, "metadata", "\"name\" is required");
	else if (fd->name && !flink_dns1123_label(fd->name))
		perr(c, field(meta, "name"), "metadata.name",
		     "\"%s\" is not a valid name: use lower-case letters, digits and '-', starting and ending with a letter or digit",
		     fd->name);
	else if (fd->name && strlen(fd->name) > FLINK_NAME_MAX)
		perr(c, field(meta, "name"), "metadata.name",
		     "\"%s\" is %zu characters; at most %d fit the names of the objects derived from it",
		     fd->name, strlen(fd->name), FLINK_NAME_MAX);
	if (get_str(c, meta, "metadata", "namespace", &fd->namespace) == 1 && !flink_dns1123_label(fd->namespace))
		perr(c, field(meta, "namespace"), "metadata.namespace",
		     "\"%s\" is not a valid namespace: use lower-case letters, digits and '-'", fd->namespace);
	if (!fd->namespace)
		fd->namespace = fo_strdup("default");
	fd->labels = get_string_map(c, meta, "metadata", "labels");
	fd->annotations = get_string_map(c, meta, "metadata", "annotations");
}


/* Options of a session job's flinkConfiguration that belong to the
 * cluster: Flink reads them at a process's start, never per job. */
static const char *const cluster_only_prefixes[] = {
	"taskmanager.", "jobmanager.", "high-availability", "rest.", "blob.", "metrics.reporter", "env.",
	"kubernetes.container", "kubernetes.jobmanager", "kubernetes.taskmanager", "kubernetes.service-account",
	"kubernetes.pod-template", "kubernetes.rest-service", "kubernetes.cluster-id", "kubernetes.namespace",
	NULL};

bool flink_session_conf_passed(const char *key)
{
	if (fo_has_prefix(key, "kubernetes.operator.") || fo_has_prefix(key, "job.autoscaler."))
		return false;
	for (const char *const *p = cluster_only_prefixes; *p; p++)
		if (fo_has_prefix(key, *p))
			return false;
	return true;
}

/* A FlinkSessionJob's spec: deploymentName, job, flinkConfiguration,
 * restartNonce (upstream's FlinkSessionJobSpec). */
static void parse_session_job_spec(pctx *c, const fo_yaml_node *spec, flink_deployment *fd)
{
	check_fields(c, spec, "spec");
	if (get_str(c, spec, "spec", "deploymentName", &fd->deployment_name) == 0)
		perr(c, spec, "spec", "\"deploymentName\" is required: the session FlinkDeployment the job runs on");
	else if (fd->deployment_name && !flink_dns1123_label(fd->deployment_name))
		perr(c, field(spec, "deploymentName"), "spec.deploymentName", "\"%s\" is not a valid name",
		     fd->deployment_name);
	const fo_yaml_node *conf = get_map(c, spec, "spec", "flinkConfiguration");
	if (conf)
		flatten_conf(c, conf, NULL, &fd->conf);
	for (size_t i = 0; i < fd->conf.n; i++)
		for (const char *const *p = cluster_only_prefixes; *p; p++)
			if (fo_has_prefix(fd->conf.v[i].key, *p)) {
				pwarn(c, conf_node(conf, fd->conf.v[i].key), "spec.flinkConfiguration",
				      "%s is an option of the cluster, which a job cannot change: set it on the session "
				      "FlinkDeployment %s", fd->conf.v[i].key, fd->deployment_name ? fd->deployment_name : "");
				break;
			}
	get_str(c, spec, "spec", "restartNonce", &fd->restart_nonce);
	int64_t slots_spec = 0;
	const fo_yaml_node *job = get_map(c, spec, "spec", "job");
	if (job) {
		fd->has_job = true;
		parse_job(c, job, &fd->job, &slots_spec);
		if (slots_spec)
			pwarn(c, fo_yaml_get_key(job, "parallelismPerK8sResource"), "spec.job.parallelismPerK8sResource",
			      "a session job's slots per TaskManager are its cluster's (taskmanager.numberOfTaskSlots); ignored");
		if (fd->job.jar_uri && fo_has_prefix(fd->job.jar_uri, "local://"))
			perr(c, field(job, "jarURI"), "spec.job.jarURI",
			     "a session job's jar is uploaded to its cluster: use s3://, https:// or file:// (local:// names "
			     "a jar in an image, which only an application cluster runs)");
		const char *pd = flink_conf_get(&fd->conf, "parallelism.default");
		if (pd && !fd->job.parallelism_given) {
			char *end;
			long long v = strtoll(pd, &end, 10);
			if (!*end && v >= 1 && v <= 100000) {
				fd->job.parallelism = (int)v;
				fd->job.parallelism_given = true;
			}
		}
	} else if (!field(spec, "job")) {
		perr(c, spec, "spec", "\"job\" is required: the job to run on the session cluster");
	}
	check_job_conf(c, spec, fd);
}

/* A FlinkStateSnapshot's spec: jobReference, savepoint or checkpoint,
 * backoffLimit (upstream's FlinkStateSnapshotSpec). */
static void parse_snapshot_spec(pctx *c, const fo_yaml_node *spec, flink_deployment *fd)
{
	flink_snapshot *s = &fd->snap;
	check_fields(c, spec, "spec");
	int64_t limit = -1;
	get_int(c, spec, "spec", "backoffLimit", -1, 1000, &limit);
	s->backoff_limit = (int)limit;
	const fo_yaml_node *sp = get_map(c, spec, "spec", "savepoint");
	const fo_yaml_node *ck = get_map(c, spec, "spec", "checkpoint");
	bool has_sp = fo_yaml_get_key(spec, "savepoint") != NULL, has_ck = fo_yaml_get_key(spec, "checkpoint") != NULL;
	if (has_sp == has_ck)
		perr(c, spec, "spec", "exactly one of \"savepoint\" and \"checkpoint\" is required (a snapshot is one or the "
				       "other)");
	if (sp) {
		check_fields(c, sp, "spec.savepoint");
		get_str(c, sp, "spec.savepoint", "path", &s->path);
		get_bool(c, sp, "spec.savepoint", "alreadyExists", &s->already_exists);
		get_bool(c, sp, "spec.savepoint", "disposeOnDelete", &s->dispose_on_delete);
		if (get_str(c, sp, "spec.savepoint", "formatType", &s->format_type) == 1 &&
		    strcmp(s->format_type, "CANONICAL") != 0 && strcmp(s->format_type, "NATIVE") != 0)
			perr(c, field(sp, "formatType"), "spec.savepoint.formatType",
			     "\"%s\" is not a savepoint format: CANONICAL or NATIVE", s->format_type);
		if (!fo_yaml_get_key(sp, "disposeOnDelete"))
			pwarn(c, sp, "spec.savepoint",
			      "disposeOnDelete is not set: upstream's default disposes of the savepoint when the "
			      "resource is deleted; flinkops keeps the data unless disposeOnDelete: true is written");
		if (s->already_exists && !s->path)
			perr(c, sp, "spec.savepoint", "alreadyExists: true needs \"path\": the savepoint to register");
	} else if (has_ck) {
		s->checkpoint = true;
		if (ck)
			check_fields(c, ck, "spec.checkpoint");
	}
	const fo_yaml_node *ref = get_map(c, spec, "spec", "jobReference");
	if (ref) {
		check_fields(c, ref, "spec.jobReference");
		if (get_str(c, ref, "spec.jobReference", "kind", &s->job_kind) == 1 &&
		    strcmp(s->job_kind, FLINK_KIND) != 0 && strcmp(s->job_kind, FLINK_KIND_SESSION_JOB) != 0)
			perr(c, field(ref, "kind"), "spec.jobReference.kind", "\"%s\" is not %s or %s", s->job_kind,
			     FLINK_KIND, FLINK_KIND_SESSION_JOB);
		if (get_str(c, ref, "spec.jobReference", "name", &s->job_name) == 0)
			perr(c, ref, "spec.jobReference", "\"name\" is required: the resource whose job is snapshotted");
		else if (s->job_name && !flink_dns1123_label(s->job_name))
			perr(c, field(ref, "name"), "spec.jobReference.name", "\"%s\" is not a valid name", s->job_name);
		if (s->job_name && !s->job_kind)
			perr(c, ref, "spec.jobReference", "\"kind\" is required: %s or %s", FLINK_KIND,
			     FLINK_KIND_SESSION_JOB);
	} else if (!s->already_exists && !failed(c)) {
		perr(c, spec, "spec", "\"jobReference\" is required: the job to take the snapshot of (only a savepoint "
				       "with alreadyExists: true needs none)");
	}
}

/* spec.configuration of a FlinkBlueGreenDeployment: upstream's three keys,
 * and flinkops' own (flink_bluegreen_settings). Upstream reads only its
 * keys and ignores the rest without a word; here a key nobody reads is an
 * error. */
static void parse_bluegreen_configuration(pctx *c, const fo_yaml_node *spec, flink_bluegreen *bg)
{
	size_t nkeys;
	const flink_bluegreen_setting *bluegreen_keys = flink_bluegreen_settings(&nkeys);
	for (size_t k = 0; k < nkeys; k++)
		*(int64_t *)((char *)bg + bluegreen_keys[k].off) = bluegreen_keys[k].def_ms;
	const fo_yaml_node *m = get_map(c, spec, "spec", "configuration");
	for (size_t i = 0; m && i < m->n; i++) {
		const fo_yaml_node *kn = m->items[2 * i], *vn = m->items[2 * i + 1];
		const char *key = kn->str;
		size_t k = 0;
		while (k < nkeys && strcmp(key, bluegreen_keys[k].key) != 0)
			k++;
		if (k == nkeys) {
			size_t best = 0;
			for (size_t b = 1; b < nkeys; b++)
				if (fo_edit_distance(key, bluegreen_keys[b].key) < fo_edit_distance(key, bluegreen_keys[best].key))
					best = b;
			perr(c, kn, "spec.configuration",
			     "\"%s\" is not a blue/green setting (did you mean \"%s\"?); the Flink configuration of the "
			     "job goes in spec.template.spec.flinkConfiguration",
			     key, bluegreen_keys[best].key);
			continue;
		}
		const char *text = NULL;
		if (scalar_text(c, vn, "spec.configuration", &text) < 0)
			continue;
		int64_t ms = flink_duration_ms(text);
		if (ms < 0)
			perr(c, vn, "spec.configuration", "%s: \"%s\" is not a duration (e.g. \"10 min\", \"30 s\", "
							    "\"500 ms\"; a bare number is milliseconds)",
			     key, text);
		else
			*(int64_t *)((char *)bg + bluegreen_keys[k].off) = ms;
	}
}

/* One child of a FlinkBlueGreenDeployment: the template's spec as the
 * FlinkDeployment NAME-COLOUR, labelled with its colour as upstream labels
 * it. Problems go to `c` (the caller passes a silent context for the second
 * colour, whose problems are the first's). */
static flink_deployment *bluegreen_child(pctx *c, const flink_deployment *bg, const fo_yaml_node *tmeta,
					 const fo_yaml_node *tspec, int colour)
{
	flink_deployment *ch = fo_calloc(1, sizeof(*ch));
	ch->name = fo_asprintf("%s-%s", bg->name, colour ? "green" : "blue");
	ch->namespace = fo_strdup(bg->namespace);
	ch->source = fo_strdup(bg->source);
	ch->line = bg->line;
	ch->col = bg->col;
	ch->bluegreen_of = fo_strdup(bg->name);
	if (tmeta) {
			check_fields(c, tmeta, "spec.template.metadata");
		ch->labels = get_string_map(c, tmeta, "spec.template.metadata", "labels");
		ch->annotations = get_string_map(c, tmeta, "spec.template.metadata", "annotations");
	}
	if (!ch->labels)
		ch->labels = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(ch->labels, FLINK_BLUEGREEN_TYPE_LABEL);
	cJSON_AddStringToObject(ch->labels, FLINK_BLUEGREEN_TYPE_LABEL, colour ? "GREEN" : "BLUE");
	const char *prefix = c->spec_prefix;
	c->spec_prefix = "spec.template.";
	parse_spec(c, tspec, ch);
	c->spec_prefix = prefix;
	return ch;
}

/* A FlinkBlueGreenDeployment's spec: template (metadata, spec), configuration,
 * ingress (upstream's FlinkBlueGreenDeploymentSpec). */
static void parse_bluegreen_spec(pctx *c, const fo_yaml_node *spec, flink_deployment *fd)
{
	check_fields(c, spec, "spec");
	flink_bluegreen *bg = fo_calloc(1, sizeof(*bg));
	fd->bg = bg;
	parse_bluegreen_configuration(c, spec, bg);
	/* its own Ingress, named after it, to the REST Service of the colour
	 * that serves (moved at each cut-over; deploy/bgpass.c); its template's
	 * {{name}} is the resource's own name, as upstream fills it */
	flink_deployment tmp = {.name = fd->name, .namespace = fd->namespace};
	parse_ingress(c, spec, &tmp);
	bg->ingress = tmp.ingress;
	if (fd->name && strlen(fd->name) + strlen("-green") > FLINK_NAME_MAX)
		perr(c, field(field(c->doc, "metadata"), "name"), "metadata.name",
		     "\"%s\" is %zu characters; its children are named NAME-blue and NAME-green, and at most %d "
		     "fit the names of the objects derived from them: at most %zu here",
		     fd->name, strlen(fd->name), FLINK_NAME_MAX, FLINK_NAME_MAX - strlen("-green"));
	const fo_yaml_node *tmpl = get_map(c, spec, "spec", "template");
	if (!tmpl) {
		if (!field(spec, "template"))
			perr(c, spec, "spec", "\"template\" is required: the FlinkDeployment spec the two colours run "
					       "(spec.template.spec)");
		return;
	}
	check_fields(c, tmpl, "spec.template");
	const fo_yaml_node *tmeta = get_map(c, tmpl, "spec.template", "metadata");
	const fo_yaml_node *tspec = get_map(c, tmpl, "spec.template", "spec");
	if (!tspec) {
		if (!field(tmpl, "spec"))
			perr(c, tmpl, "spec.template", "\"spec\" is required: a FlinkDeployment spec");
		return;
	}
	if (!fd->name || failed(c))
		return;
	/* what the template is, as one value: equal hashes, the same children */
	cJSON *tj = fo_yaml_to_json(tmpl);
	bg->template_hash = fo_json_hash(tj);
	cJSON_Delete(tj);
	bg->child[0] = bluegreen_child(c, fd, tmeta, tspec, 0);
	if (failed(c))
		return;
	/* the same template again: its problems were reported for blue */
	fo_diags quiet = FO_DIAGS_INIT;
	pctx qc = {c->file, &quiet, 0, c->doc, NULL, c->kind};
	bg->child[1] = bluegreen_child(&qc, fd, tmeta, tspec, 1);
	if (quiet.nerrors)
		/* only a name-dependent check can fail here: say it at the document */
		perr(c, c->doc, NULL, "the template is invalid as %s: %s", bg->child[1]->name,
		     quiet.n ? quiet.v[0].msg : "an error");
	fo_diags_free(&quiet);
	if (!bg->child[0]->has_job)
		perr(c, tspec, "spec.template.spec",
		     "\"job\" is required: blue/green upgrades a job by starting its new version beside the old (a "
		     "session cluster has no job to hand over)");
}

enum doc_kind { DOC_DEPLOYMENT, DOC_SESSION_JOB, DOC_SNAPSHOT, DOC_BLUEGREEN };

/* One document of any of the kinds: the fields all share, then its spec. */
static flink_deployment *parse_document(const fo_yaml_node *doc, const char *file, fo_diags *d, enum doc_kind kind)
{
	static const char *const kind_names[] = {[DOC_DEPLOYMENT] = FLINK_KIND, [DOC_SESSION_JOB] = FLINK_KIND_SESSION_JOB,
						 [DOC_SNAPSHOT] = FLINK_KIND_SNAPSHOT, [DOC_BLUEGREEN] = FLINK_KIND_BLUEGREEN};
	pctx c = {file, d, d->nerrors, NULL, NULL, kind_names[kind]};
	flink_deployment *fd = fo_calloc(1, sizeof(*fd));
	fd->source = fo_strdup(file);
	fd->line = doc->line;
	fd->col = doc->col;
	fd->session_job = kind == DOC_SESSION_JOB;
	fd->snapshot = kind == DOC_SNAPSHOT;
	c.doc = doc;
	check_fields(&c, doc, NULL);
	const fo_yaml_node *av = field(doc, "apiVersion");
	if (!av || av->kind != FO_YAML_SCALAR || strcmp(av->str, FLINK_API_VERSION) != 0)
		perr(&c, av ? av : doc, "apiVersion", "a %s must have apiVersion %s",
		     kind == DOC_BLUEGREEN ? FLINK_KIND_BLUEGREEN : flink_kind_name(fd), FLINK_API_VERSION);
	const fo_yaml_node *status = fo_yaml_get_key(doc, "status");
	if (status)
		pwarn(&c, status, NULL,
		      "status: written by the upstream operator, ignored (flinkops writes its own status files)");
	parse_metadata(&c, doc, fd);
	const fo_yaml_node *spec = get_map(&c, doc, "", "spec");
	if (spec)
		(kind == DOC_SESSION_JOB ? parse_session_job_spec
		 : kind == DOC_SNAPSHOT  ? parse_snapshot_spec
		 : kind == DOC_BLUEGREEN ? parse_bluegreen_spec
					 : parse_spec)(&c, spec, fd);
	else if (!field(doc, "spec"))
		perr(&c, doc, NULL, "\"spec\" is required");
	if (failed(&c)) {
		flink_deployment_free(fd);
		return NULL;
	}
	return fd;
}

flink_deployment *flink_deployment_parse(const fo_yaml_node *doc, const char *file, fo_diags *d)
{
	return parse_document(doc, file, d, DOC_DEPLOYMENT);
}

flink_deployment *flink_session_job_parse(const fo_yaml_node *doc, const char *file, fo_diags *d)
{
	return parse_document(doc, file, d, DOC_SESSION_JOB);
}

flink_deployment *flink_snapshot_parse(const fo_yaml_node *doc, const char *file, fo_diags *d)
{
	return parse_document(doc, file, d, DOC_SNAPSHOT);
}

flink_deployment *flink_bluegreen_parse(const fo_yaml_node *doc, const char *file, fo_diags *d)
{
	return parse_document(doc, file, d, DOC_BLUEGREEN);
}

const char *flink_kind_name(const flink_deployment *fd)
{
	return fd->snapshot ? FLINK_KIND_SNAPSHOT : fd->session_job ? FLINK_KIND_SESSION_JOB : fd->bg ? FLINK_KIND_BLUEGREEN
														  : FLINK_KIND;
}

/* The upstream operator's kinds flinkops does not run (yet), and what to
 * do instead: a document of one of them is an error, since what it asks
 * for would not happen. */

bool flink_kind_verdict(const char *api_version, const char *kind, enum fo_severity *sev, char **msg)
{
	*msg = NULL;
	*sev = FO_SEV_WARNING;
	if (!kind) {
		*msg = fo_strdup("a document without \"kind\" is not a Kubernetes manifest: flinkops skips it");
		return false;
	}
	if (strcmp(kind, FLINK_KIND) == 0 || strcmp(kind, FLINK_KIND_SESSION_JOB) == 0 ||
	    strcmp(kind, FLINK_KIND_SNAPSHOT) == 0 || strcmp(kind, FLINK_KIND_BLUEGREEN) == 0 || flink_plain_kind(kind))
		return true;
	bool flink_group = api_version && strncmp(api_version, "flink.apache.org/", 17) == 0;
	if (flink_group || fo_edit_distance(kind, FLINK_KIND) <= 2) {
		*sev = FO_SEV_ERROR;
		*msg = fo_edit_distance(kind, FLINK_KIND) <= 2
			       ? fo_asprintf("unknown kind \"%s\" (did you mean \"%s\"?)", kind, FLINK_KIND)
			       : fo_asprintf("unknown kind \"%s\" of flink.apache.org: flinkops runs %s only", kind,
					     FLINK_KIND);
		return false;
	}
	*msg = fo_asprintf("flinkops applies FlinkDeployments, FlinkSessionJobs, ServiceAccounts, Roles and "
			   "RoleBindings only: this %s is not applied. Apply it with kubectl or another tool, or keep "
			   "it outside the manifest path",
			   kind);
	return false;
}

/*
 * Keep document `i` of `f`, a FlinkBlueGreenDeployment read as `fd`, as
 * written (fd->bg->doc_text), and check that it reads back alone as the
 * same resource: a child's spec is this text, parsed again every pass. A
 * document too large to keep, or one that depends on what is outside it,
 * is an error.
 */
static bool keep_document(const fo_yaml_file *f, size_t i, flink_deployment *fd, fo_diags *d)
{
	const fo_yaml_node *doc = f->docs[i];
	if (!f->doc_off || !f->text || f->doc_len[i] > FLINK_BLUEGREEN_DOC_MAX) {
		fo_diag_add(d, FO_SEV_ERROR, f->name, doc->line, doc->col,
			    "%s %s/%s: the document is %zu bytes; flinkops keeps a blue/green deployment's document "
			    "with its journal, at most %d bytes",
			    FLINK_KIND_BLUEGREEN, fd->namespace, fd->name, f->doc_len ? f->doc_len[i] : 0,
			    FLINK_BLUEGREEN_DOC_MAX);
		return false;
	}
	char *text = fo_malloc(f->doc_len[i] + 1);
	memcpy(text, f->text + f->doc_off[i], f->doc_len[i]);
	text[f->doc_len[i]] = '\0';
	fo_yaml_file *one = NULL;
	fo_diags quiet = FO_DIAGS_INIT;
	flink_deployment *back = NULL;
	if (fo_yaml_load(f->name, text, f->doc_len[i], NULL, &one, &quiet) == 0 && one->ndocs >= 1 && one->docs[0])
		back = flink_bluegreen_parse(one->docs[0], f->name, &quiet);
	bool same = back && back->bg && fo_streq(back->name, fd->name) && fo_streq(back->namespace, fd->namespace) &&
		    fo_streq(back->bg->template_hash, fd->bg->template_hash) && back->bg->grace_ms == fd->bg->grace_ms &&
		    back->bg->delay_ms == fd->bg->delay_ms && back->bg->reschedule_ms == fd->bg->reschedule_ms &&
		    back->bg->catch_up_ms == fd->bg->catch_up_ms && !!back->bg->ingress == !!fd->bg->ingress;
	flink_deployment_free(back);
	fo_yaml_file_free(one);
	fo_diags_free(&quiet);
	if (!same) {
		fo_diag_add(d, FO_SEV_ERROR, f->name, doc->line, doc->col,
			    "%s %s/%s: the document does not read back alone as the same resource, which flinkops "
			    "must do to keep it with its journal; write it without directives or tags that depend on "
			    "the rest of the file",
			    FLINK_KIND_BLUEGREEN, fd->namespace, fd->name);
		free(text);
		return false;
	}
	fd->bg->doc_text = text;
	return true;
}

int flink_parse_file(const fo_yaml_file *f, flink_deployments *out, size_t *skipped, fo_diags *d)
{
	size_t start = d->nerrors, other = 0;
	for (size_t i = 0; i < f->ndocs; i++) {
		const fo_yaml_node *doc = f->docs[i];
		if (!doc || fo_yaml_is_null(doc))
			continue;
		if (doc->kind != FO_YAML_MAP) {
			fo_diag_add(d, FO_SEV_ERROR, f->name, doc->line, doc->col,
				    "a Kubernetes manifest must be a mapping, got a %s", fo_yaml_kind_name(doc));
			continue;
		}
		/* every other document is reported, never skipped in silence */
		const fo_yaml_node *kind = fo_yaml_get(doc, "kind"), *av = fo_yaml_get(doc, "apiVersion");
		const char *ks = kind && kind->kind == FO_YAML_SCALAR ? kind->str : NULL;
		const char *as = av && av->kind == FO_YAML_SCALAR ? av->str : NULL;
		enum fo_severity sev;
		char *msg = NULL;
		if (!flink_kind_verdict(as, ks, &sev, &msg)) {
			const fo_yaml_node *at = kind ? kind : doc;
			fo_diag_add(d, sev, f->name, at->line, at->col, "%s", msg);
			free(msg);
			other++;
			continue;
		}
		if (flink_plain_kind(ks)) {
			flink_plain *po = flink_plain_parse(doc, f->name, d);
			if (po) {
				out->plain.v = fo_grow(out->plain.v, &out->plain.cap, out->plain.n + 1,
						       sizeof(*out->plain.v));
				out->plain.v[out->plain.n++] = po;
			}
			continue;
		}
		/* upstream's health canary: a FlinkDeployment without a spec that
		 * its operator only watches; nothing to deploy */
		const fo_yaml_node *labels = fo_yaml_get(fo_yaml_get(doc, "metadata"), "labels");
		const fo_yaml_node *canary = labels && labels->kind == FO_YAML_MAP ? fo_yaml_get(labels, "flink.apache.org/canary") : NULL;
		if (canary && canary->kind == FO_YAML_SCALAR && strcmp(canary->str, "true") == 0) {
			fo_diag_add(d, FO_SEV_WARNING, f->name, canary->line, canary->col,
				    "an upstream operator canary (label flink.apache.org/canary): flinkops has no canary "
				    "check and deploys nothing for it");
			other++;
			continue;
		}
		flink_deployment *fd = strcmp(ks, FLINK_KIND_SESSION_JOB) == 0 ? flink_session_job_parse(doc, f->name, d)
				       : strcmp(ks, FLINK_KIND_SNAPSHOT) == 0  ? flink_snapshot_parse(doc, f->name, d)
				       : strcmp(ks, FLINK_KIND_BLUEGREEN) == 0 ? flink_bluegreen_parse(doc, f->name, d)
									       : flink_deployment_parse(doc, f->name, d);
		if (fd && fd->bg && !keep_document(f, i, fd, d)) {
			flink_deployment_free(fd);
			fd = NULL;
		}
		if (fd) {
			out->v = fo_grow(out->v, &out->cap, out->n + 1, sizeof(*out->v));
			out->v[out->n++] = fd;
		}
	}
	if (skipped)
		*skipped = other;
	return d->nerrors > start ? FO_EINVAL : 0;
}

static void job_free(flink_job *j)
{
	free(j->jar_uri);
	free(j->entry_class);
	fo_strv_free(j->args, j->nargs);
	free(j->initial_savepoint_path);
	free(j->savepoint_dir);
	free(j->periodic_savepoint_cron);
	free(j->periodic_checkpoint_cron);
}

void flink_deployment_free(flink_deployment *fd)
{
	if (!fd)
		return;
	free(fd->name);
	free(fd->namespace);
	free(fd->source);
	free(fd->spec_commit);
	cJSON_Delete(fd->labels);
	cJSON_Delete(fd->annotations);
	flink_ingress_free(fd->ingress);
	free(fd->image);
	free(fd->image_pull_policy);
	free(fd->service_account);
	cJSON_Delete(fd->image_pull_secrets);
	for (int jm = 0; jm < 2; jm++) {
		flink_process *pr = jm ? &fd->jm : &fd->tm;
		cJSON_Delete(pr->k8s_labels);
		cJSON_Delete(pr->k8s_annotations);
		cJSON_Delete(pr->k8s_node_selector);
		cJSON_Delete(pr->k8s_tolerations);
		free(pr->service_account);
	}
	free(fd->flink_version);
	flink_kvs_free(&fd->conf);
	flink_kvs_free(&fd->log_conf);
	cJSON_Delete(fd->pod_template);
	cJSON_Delete(fd->jm.pod_template);
	cJSON_Delete(fd->tm.pod_template);
	cJSON_Delete(fd->jm.claims);
	cJSON_Delete(fd->tm.claims);
	free(fd->restart_nonce);
	free(fd->deployment_name);
	free(fd->bluegreen_of);
	if (fd->bg) {
		flink_ingress_free(fd->bg->ingress);
		free(fd->bg->template_hash);
		free(fd->bg->doc_text);
		flink_deployment_free(fd->bg->child[0]);
		flink_deployment_free(fd->bg->child[1]);
		free(fd->bg);
	}
	free(fd->snap.job_kind);
	free(fd->snap.job_name);
	free(fd->snap.path);
	free(fd->snap.format_type);
	job_free(&fd->job);
	free(fd);
}

void flink_deployments_free(flink_deployments *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++)
		flink_deployment_free(v->v[i]);
	free(v->v);
	flink_plains_free(&v->plain);
	memset(v, 0, sizeof(*v));
}

const char *flink_upgrade_mode_name(enum flink_upgrade_mode m)
{
	switch (m) {
	case FLINK_UPGRADE_SAVEPOINT: return "savepoint";
	case FLINK_UPGRADE_LAST_STATE: return "last-state";
	default: return "stateless";
	}
}

const char *flink_job_state_name(enum flink_job_state s)
{
	return s == FLINK_STATE_SUSPENDED ? "suspended" : "running";
}

static int parse_loaded(fo_yaml_file *f, int rc, flink_deployments *out, size_t *skipped, fo_diags *d)
{
	if (skipped)
		*skipped = 0;
	if (rc < 0)
		return rc;
	bool any = false;
	for (size_t i = 0; i < f->ndocs; i++)
		any = any || (f->docs[i] && !fo_yaml_is_null(f->docs[i]));
	if (!any) {
		fo_diag_add(d, FO_SEV_ERROR, f->name, 1, 1, "the file holds no YAML document (it is empty or only comments)");
		fo_yaml_file_free(f);
		return FO_EINVAL;
	}
	rc = flink_parse_file(f, out, skipped, d);
	fo_yaml_file_free(f);
	return rc;
}

int flink_load_buffer(const char *name, const char *data, size_t len, flink_deployments *out,
		      size_t *skipped, fo_diags *d)
{
	fo_yaml_file *f = NULL;
	int rc = fo_yaml_load(name, data, len, NULL, &f, d);
	return parse_loaded(f, rc, out, skipped, d);
}

int flink_load_file(const char *path, flink_deployments *out, size_t *skipped, fo_diags *d)
{
	fo_yaml_file *f = NULL;
	int rc = fo_yaml_load_file(path, NULL, &f, d);
	return parse_loaded(f, rc, out, skipped, d);
}

size_t flink_check_unique(const flink_deployments *v, fo_diags *d)
{
	size_t dups = 0;
	/* quadratic, but over deployments of one repository: thousands at most,
	 * and strcmp of short names */
	for (size_t i = 1; i < v->n; i++) {
		for (size_t j = 0; j < i; j++) {
			const flink_deployment *a = v->v[j], *b = v->v[i];
			if (strcmp(a->name, b->name) == 0 && strcmp(a->namespace, b->namespace) == 0) {
				if (a->session_job == b->session_job && a->snapshot == b->snapshot)
					fo_diag_add(d, FO_SEV_ERROR, b->source, b->line, b->col,
						    "%s %s/%s is already defined at %s:%d:%d", flink_kind_name(b),
						    b->namespace, b->name, a->source, a->line, a->col);
				else
					fo_diag_add(d, FO_SEV_ERROR, b->source, b->line, b->col,
						    "%s %s/%s: the name is taken by the %s at %s:%d:%d (the journal and "
						    "status file are named after it); rename one",
						    flink_kind_name(b), b->namespace, b->name, flink_kind_name(a), a->source,
						    a->line, a->col);
				dups++;
				break;
			}
		}
	}
	/* a blue/green child is a FlinkDeployment of its own name, with a
	 * journal and a status file named after it */
	for (size_t i = 0; i < v->n; i++) {
		const flink_deployment *b = v->v[i];
		for (int c = 0; b->bg && c < 2; c++) {
			const flink_deployment *ch = b->bg->child[c];
			for (size_t j = 0; ch && j < v->n; j++) {
				const flink_deployment *a = v->v[j];
				if (a != b && strcmp(a->name, ch->name) == 0 && strcmp(a->namespace, ch->namespace) == 0) {
					fo_diag_add(d, FO_SEV_ERROR, b->source, b->line, b->col,
						    "%s %s/%s: its %s child %s is named like the %s at %s:%d:%d; rename one",
						    FLINK_KIND_BLUEGREEN, b->namespace, b->name, c ? "green" : "blue", ch->name,
						    flink_kind_name(a), a->source, a->line, a->col);
					dups++;
				}
			}
		}
	}
	return dups;
}

/* The session cluster `job` names in `v`, or NULL. */
static flink_deployment *session_cluster(const flink_deployments *v, const flink_deployment *job)
{
	for (size_t i = 0; i < v->n; i++) {
		flink_deployment *fd = v->v[i];
		if (!fd->session_job && !fd->bg && strcmp(fd->name, job->deployment_name) == 0 &&
		    strcmp(fd->namespace, job->namespace) == 0)
			return fd;
	}
	return NULL;
}

size_t flink_link_session_jobs(flink_deployments *v, const flink_deployments *all, fo_diags *d)
{
	size_t errors = 0, kept = 0;
	/* judged first, dropped after: `all` may be `v` */
	bool *drop = fo_calloc(v->n ? v->n : 1, sizeof(*drop));
	for (size_t i = 0; i < v->n; i++) {
		flink_deployment *fd = v->v[i];
		if (fd->session_job) {
			const flink_deployment *cl = session_cluster(all, fd);
			if (!cl || cl->has_job) {
				if (cl)
					fo_diag_add(d, FO_SEV_ERROR, fd->source, fd->line, fd->col,
						    "FlinkSessionJob %s/%s: deploymentName %s is the FlinkDeployment at "
						    "%s:%d:%d, which runs a job of its own; a session job needs a session "
						    "cluster (a FlinkDeployment without spec.job)",
						    fd->namespace, fd->name, fd->deployment_name, cl->source, cl->line, cl->col);
				else
					fo_diag_add(d, FO_SEV_ERROR, fd->source, fd->line, fd->col,
						    "FlinkSessionJob %s/%s: deploymentName %s names no FlinkDeployment of "
						    "namespace %s in the repository; nothing is done with the job (nor "
						    "deleted) until it does",
						    fd->namespace, fd->name, fd->deployment_name, fd->namespace);
				errors++;
				drop[i] = true;
			} else if (!flink_savepoint_dir(fd) && conf_savepoint_dir(&cl->conf)) {
				/* the directory Flink puts its savepoints in when the
				 * job names none: its cluster's */
				fd->job.savepoint_dir = fo_strdup(conf_savepoint_dir(&cl->conf));
			}
		}
	}
	for (size_t i = 0; i < v->n; i++) {
		if (drop[i])
			flink_deployment_free(v->v[i]);
		else
			v->v[kept++] = v->v[i];
	}
	free(drop);
	v->n = kept;
	/* a session cluster's slots: the sum of its running jobs' parallelism */
	for (size_t i = 0; i < v->n; i++) {
		flink_deployment *cl = v->v[i];
		if (cl->session_job || cl->has_job || cl->bg)
			continue;
		cl->session_slots_needed = 0;
		for (size_t k = 0; k < all->n; k++) {
			const flink_deployment *fd = all->v[k];
			if (fd->session_job && fd->job.state != FLINK_STATE_SUSPENDED &&
			    strcmp(fd->deployment_name, cl->name) == 0 && strcmp(fd->namespace, cl->namespace) == 0)
				cl->session_slots_needed += fd->job.parallelism;
		}
		if (!cl->session_slots_needed)
			continue;
		int s = cl->slots > 0 ? cl->slots : 1;
		int need = (cl->session_slots_needed + s - 1) / s;
		if (!cl->tm.replicas_given) {
			cl->tm.replicas = need > 1 ? need : 1;
		} else if ((int64_t)cl->tm.replicas * s < cl->session_slots_needed) {
			fo_diag_add(d, FO_SEV_WARNING, cl->source, cl->line, cl->col,
				    "FlinkDeployment %s/%s: its session jobs need %d slots, but %d TaskManager%s of %d slot%s "
				    "offer %lld: a job that finds no free slot waits, and Flink fails it after "
				    "slot.request.timeout. Remove taskManager.replicas to size the cluster for its jobs",
				    cl->namespace, cl->name, cl->session_slots_needed, cl->tm.replicas,
				    cl->tm.replicas == 1 ? "" : "s", s, s == 1 ? "" : "s", (long long)cl->tm.replicas * s);
		}
	}
	return errors;
}

/*
 * Each FlinkStateSnapshot of `v` against the jobs of `v`: a jobReference
 * that names no job in the repository gets a warning, not an error — a
 * snapshot taken long ago stays a record after its job is gone, and an
 * error would hold every delete of the pass — and the snapshot is then
 * not taken (its status says so).
 */
static void link_snapshots(const flink_deployments *v, fo_diags *d)
{
	for (size_t i = 0; i < v->n; i++) {
		const flink_deployment *s = v->v[i];
		if (!s->snapshot || !s->snap.job_name)
			continue;
		bool session = fo_streq(s->snap.job_kind, FLINK_KIND_SESSION_JOB), found = false, jobless = false;
		for (size_t k = 0; k < v->n && !found; k++) {
			const flink_deployment *fd = v->v[k];
			if (fd->snapshot || fd->bg || fd->session_job != session || strcmp(fd->name, s->snap.job_name) != 0 ||
			    strcmp(fd->namespace, s->namespace) != 0)
				continue;
			found = fd->has_job;
			jobless = !fd->has_job;
		}
		if (!found)
			fo_diag_add(d, FO_SEV_WARNING, s->source, s->line, s->col,
				    "FlinkStateSnapshot %s/%s: jobReference %s %s %s; the snapshot is not taken (one "
				    "taken already stays recorded)",
				    s->namespace, s->name, s->snap.job_kind, s->snap.job_name,
				    jobless ? "runs no job (a session cluster: name one of its FlinkSessionJobs)"
					    : "is not in the repository");
	}
}

size_t flink_check_repository(flink_deployments *v, fo_diags *d)
{
	size_t errors = flink_check_unique(v, d) + flink_plain_check_unique(&v->plain, d);
	errors += flink_link_session_jobs(v, v, d);
	link_snapshots(v, d);
	return errors;
}

void flink_note_defaults(const flink_deployments *v, fo_diags *d)
{
	for (size_t i = 0; i < v->n; i++) {
		/* a blue/green template: said once, for blue */
		const flink_deployment *fd = v->v[i]->bg ? v->v[i]->bg->child[0] : v->v[i];
		if (!fd)
			continue;
		if (fd->mode_unset_line)
			fo_diag_add(d, FO_SEV_WARNING, fd->source, fd->mode_unset_line, fd->mode_unset_col,
				    "spec: mode is not set, which the upstream operator reads as native; flinkops runs "
				    "standalone (a TaskManager StatefulSet of fixed size, no pods started on demand): write "
				    "mode: standalone to say so");
	}
}

/* Move the entries of `v` that `is` says are of a kind into `out`, keeping
 * the order of both. */
static void split_kind(flink_deployments *v, flink_deployments *out, bool (*is)(const flink_deployment *))
{
	size_t kept = 0;
	for (size_t i = 0; i < v->n; i++) {
		flink_deployment *fd = v->v[i];
		if (!is(fd)) {
			v->v[kept++] = fd;
			continue;
		}
		out->v = fo_grow(out->v, &out->cap, out->n + 1, sizeof(*out->v));
		out->v[out->n++] = fd;
	}
	v->n = kept;
}

static bool is_bluegreen(const flink_deployment *fd)
{
	return fd->bg != NULL;
}

static bool is_snapshot(const flink_deployment *fd)
{
	return fd->snapshot;
}

void flink_split_bluegreens(flink_deployments *v, flink_deployments *bgs)
{
	split_kind(v, bgs, is_bluegreen);
}

void flink_split_snapshots(flink_deployments *v, flink_deployments *snaps)
{
	split_kind(v, snaps, is_snapshot);
}
