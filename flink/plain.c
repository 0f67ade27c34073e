/*
 * The plain kinds flinkops applies from git beside FlinkDeployments:
 * ServiceAccount, Role and RoleBinding, the trio Flink's Kubernetes HA
 * needs (its JobManagers edit ConfigMaps). They are checked here as
 * strictly as a FlinkDeployment — exact apiVersion, known fields, names —
 * and more: the agent creates them with its own identity, and the API
 * server lets it create a Role only with permissions it holds itself (it
 * has no `escalate`) and a RoleBinding only to such a Role (it has no
 * `bind`), so what the API server would refuse is refused here first, at
 * its line, and a ClusterRole is never bound.
 */
#include "flink/flink.h"
#include "flink/fields.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/json.h"

/* What examples/install/rbac.yaml grants the agent in every namespace it
 * manages (permissions.txt lists it as kubectl shows it): a Role in git
 * may grant any part of it and nothing else. */
static const struct {
	const char *group, *resource;
	const char *const verbs[8];
} agent_grants[] = {
	{"", "configmaps", {"get", "list", "watch", "create", "update", "patch", "delete"}},
	{"", "services", {"get", "list", "create", "patch", "delete"}},
	{"apps", "statefulsets", {"get", "list", "create", "patch", "delete"}},
	{"networking.k8s.io", "ingresses", {"get", "list", "create", "patch", "delete"}},
	{"", "events", {"create"}},
	{"", "pods", {"list"}},
	{"", "serviceaccounts", {"list", "create", "patch", "delete"}},
	{FLINK_PLAIN_RBAC_GROUP, "roles", {"list", "create", "patch", "delete"}},
	{FLINK_PLAIN_RBAC_GROUP, "rolebindings", {"list", "create", "patch", "delete"}},
};

bool flink_plain_agent_holds(const char *group, const char *resource, const char *verb)
{
	for (size_t i = 0; i < FO_ARRAY_LEN(agent_grants); i++) {
		if (strcmp(agent_grants[i].group, group) != 0 || strcmp(agent_grants[i].resource, resource) != 0)
			continue;
		for (const char *const *v = agent_grants[i].verbs; *v; v++)
			if (strcmp(*v, verb) == 0)
				return true;
	}
	return false;
}

/* "configmaps (get, list, ...), pods (list)": what a Role may grant. */
static char *agent_grants_text(void)
{
	fo_buf b = FO_BUF_INIT;
	for (size_t i = 0; i < FO_ARRAY_LEN(agent_grants); i++) {
		fo_buf_printf(&b, "%s%s%s%s (", i ? ", " : "", agent_grants[i].resource, *agent_grants[i].group ? "." : "",
			      agent_grants[i].group);
		for (const char *const *v = agent_grants[i].verbs; *v; v++)
			fo_buf_printf(&b, "%s%s", v == agent_grants[i].verbs ? "" : " ", *v);
		fo_buf_puts(&b, ")");
	}
	return fo_buf_detach(&b);
}

/* Their fields are flink/fields.c's. */
static const struct {
	const char *kind, *api_version;
} kinds[] = {
	{FLINK_PLAIN_SERVICE_ACCOUNT, "v1"},
	{FLINK_PLAIN_ROLE, FLINK_PLAIN_RBAC_GROUP "/v1"},
	{FLINK_PLAIN_ROLE_BINDING, FLINK_PLAIN_RBAC_GROUP "/v1"},
};

static int kind_index(const char *kind)
{
	for (size_t i = 0; kind && i < FO_ARRAY_LEN(kinds); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return (int)i;
	return -1;
}

bool flink_plain_kind(const char *kind)
{
	return kind_index(kind) >= 0;
}

const char *flink_plain_api_version(const char *kind)
{
	int k = kind_index(kind);
	return k < 0 ? NULL : kinds[k].api_version;
}

/* One document's checks: its file and the count of errors before it. */
typedef struct plain_ctx {
	const char *file;
	fo_diags *d;
	size_t errors_at_start;
	const char *kind;
} plain_ctx;

static void perr(plain_ctx *c, const fo_yaml_node *at, const char *fmt, ...) FO_PRINTF(3, 4);
static void perr(plain_ctx *c, const fo_yaml_node *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = fo_vasprintf(fmt, ap);
	va_end(ap);
	fo_diag_add(c->d, FO_SEV_ERROR, c->file, at->line, at->col, "%s %s", c->kind, m);
	free(m);
}

/* The value of `key` unless absent or null. */
static const fo_yaml_node *value(const fo_yaml_node *map, const char *key)
{
	const fo_yaml_node *v = fo_yaml_get(map, key);
	return fo_yaml_is_null(v) ? NULL : v;
}

/* The string at `key` of `map`: NULL (and an error at `path`) when it is
 * not a scalar, or absent and `required`. */
static const char *string_at(plain_ctx *c, const fo_yaml_node *map, const char *key, const char *path, bool required)
{
	const fo_yaml_node *v = value(map, key);
	if (!v) {
		if (required)
			perr(c, map, "%s: \"%s\" is required", path, key);
		return NULL;
	}
	if (v->kind != FO_YAML_SCALAR) {
		perr(c, v, "%s.%s: must be a string, got a %s", path, key, fo_yaml_kind_name(v));
		return NULL;
	}
	return v->str;
}

/* Every key of `map` at `path` ("" the document; "rules[2]" an item)
 * must be a field the table (flink/fields.c) gives the kind there. */
static void known_fields(plain_ctx *c, const fo_yaml_node *map, const char *path)
{
	size_t n;
	const flink_field **known = flink_field_children(c->kind, path, &n);
	for (size_t i = 0; i < map->n; i++) {
		const char *k = map->items[2 * i]->str;
		bool ok = false;
		for (size_t f = 0; f < n && !ok; f++)
			ok = strcmp(k, flink_field_name(known[f])) == 0;
		if (!ok)
			perr(c, map->items[2 * i], "%s: unknown field \"%s\"", path, k);
	}
	free(known);
}

/* A sequence of strings at `key` (NULL when absent); each item that is
 * not a string is an error. */
static const fo_yaml_node *strings_at(plain_ctx *c, const fo_yaml_node *map, const char *key, const char *path)
{
	const fo_yaml_node *v = value(map, key);
	if (!v)
		return NULL;
	if (v->kind != FO_YAML_SEQ) {
		perr(c, v, "%s.%s: must be a list of strings, got a %s", path, key, fo_yaml_kind_name(v));
		return NULL;
	}
	for (size_t i = 0; i < v->n; i++)
		if (v->items[i]->kind != FO_YAML_SCALAR) {
			perr(c, v->items[i], "%s.%s[%zu]: must be a string, got a %s", path, key, i,
			     fo_yaml_kind_name(v->items[i]));
			return NULL;
		}
	return v;
}

/* One rule of a Role: resources only (a Role has no nonResourceURLs), and
 * every group x resource x verb it grants held by the agent. */
static void check_rule(plain_ctx *c, const fo_yaml_node *rule, size_t i)
{
	char *path = fo_asprintf("rules[%zu]", i);
	if (rule->kind != FO_YAML_MAP) {
		perr(c, rule, "%s: must be a mapping, got a %s", path, fo_yaml_kind_name(rule));
		goto cleanup;
	}
	known_fields(c, rule, path);
	if (value(rule, "nonResourceURLs"))
		perr(c, fo_yaml_get_key(rule, "nonResourceURLs"), "%s.nonResourceURLs: a Role grants no URLs (only a "
			"ClusterRole does, which flinkops does not apply)", path);
	strings_at(c, rule, "resourceNames", path);
	const fo_yaml_node *groups = strings_at(c, rule, "apiGroups", path),
			   *resources = strings_at(c, rule, "resources", path), *verbs = strings_at(c, rule, "verbs", path);
	if (!groups || !groups->n)
		perr(c, rule, "%s: \"apiGroups\" is required (\"\" is the core group)", path);
	if (!resources || !resources->n)
		perr(c, rule, "%s: \"resources\" is required", path);
	if (!verbs || !verbs->n)
		perr(c, rule, "%s: \"verbs\" is required", path);
	if (!groups || !resources || !verbs)
		goto cleanup;
	/* the first grant the agent lacks, at the verb (or resource) that asks for it */
	for (size_t g = 0; g < groups->n; g++)
		for (size_t r = 0; r < resources->n; r++)
			for (size_t v = 0; v < verbs->n; v++) {
				const char *gs = groups->items[g]->str, *rs = resources->items[r]->str,
					   *vs = verbs->items[v]->str;
				if (flink_plain_agent_holds(gs, rs, vs))
					continue;
				char *held = agent_grants_text();
				/* at the verb when the agent holds the resource at all, else at the resource */
				bool resource_held = false;
				for (size_t x = 0; x < FO_ARRAY_LEN(agent_grants) && !resource_held; x++)
					resource_held = fo_streq(agent_grants[x].resource, rs) &&
							fo_streq(agent_grants[x].group, gs);
				const fo_yaml_node *at = resource_held ? verbs->items[v] : resources->items[r];
				perr(c, at,
				     "%s: grants \"%s\" on %s%s%s, which the agent does not hold: creating this Role would "
				     "need RBAC's escalate permission, which flinkops deliberately does not have. A Role "
				     "in git may grant only what the agent holds: %s",
				     path, vs, rs, *gs ? "." : "", gs, held);
				free(held);
				goto cleanup;
			}
cleanup:
	free(path);
}

static void check_role(plain_ctx *c, const fo_yaml_node *doc)
{
	const fo_yaml_node *rules = value(doc, "rules");
	if (!rules)
		return; /* a Role that grants nothing is valid */
	if (rules->kind != FO_YAML_SEQ) {
		perr(c, rules, "rules: must be a list, got a %s", fo_yaml_kind_name(rules));
		return;
	}
	for (size_t i = 0; i < rules->n; i++)
		check_rule(c, rules->items[i], i);
}

static void check_role_binding(plain_ctx *c, const fo_yaml_node *doc)
{
	const fo_yaml_node *ref = value(doc, "roleRef");
	if (!ref) {
		perr(c, doc, "\"roleRef\" is required: the Role to bind");
	} else if (ref->kind != FO_YAML_MAP) {
		perr(c, ref, "roleRef: must be a mapping, got a %s", fo_yaml_kind_name(ref));
	} else {
		known_fields(c, ref, "roleRef");
		const char *group = string_at(c, ref, "apiGroup", "roleRef", true);
		const char *kind = string_at(c, ref, "kind", "roleRef", true);
		const char *name = string_at(c, ref, "name", "roleRef", true);
		if (group && strcmp(group, FLINK_PLAIN_RBAC_GROUP) != 0)
			perr(c, value(ref, "apiGroup"), "roleRef.apiGroup: must be %s", FLINK_PLAIN_RBAC_GROUP);
		if (kind && strcmp(kind, FLINK_PLAIN_ROLE) != 0)
			perr(c, value(ref, "kind"), "roleRef.kind: \"%s\": flinkops does not bind cluster roles (it "
				"has no bind permission); bind a Role of this namespace", kind);
		if (name && !flink_dns1123_subdomain(name))
			perr(c, value(ref, "name"), "roleRef.name: \"%s\" is not a valid Role name", name);
	}
	const fo_yaml_node *subjects = value(doc, "subjects");
	if (!subjects)
		return;
	if (subjects->kind != FO_YAML_SEQ) {
		perr(c, subjects, "subjects: must be a list, got a %s", fo_yaml_kind_name(subjects));
		return;
	}
	for (size_t i = 0; i < subjects->n; i++) {
		const fo_yaml_node *s = subjects->items[i];
		char *path = fo_asprintf("subjects[%zu]", i);
		if (s->kind != FO_YAML_MAP) {
			perr(c, s, "%s: must be a mapping, got a %s", path, fo_yaml_kind_name(s));
		} else {
			known_fields(c, s, path);
			const char *kind = string_at(c, s, "kind", path, true);
			const char *name = string_at(c, s, "name", path, true);
			const char *ns = string_at(c, s, "namespace", path, false);
			const char *group = string_at(c, s, "apiGroup", path, false);
			if (kind && strcmp(kind, FLINK_PLAIN_SERVICE_ACCOUNT) != 0)
				perr(c, value(s, "kind"), "%s.kind: \"%s\": flinkops binds ServiceAccounts only", path, kind);
			if (group && *group)
				perr(c, value(s, "apiGroup"), "%s.apiGroup: a ServiceAccount's is the core group (\"\")",
				     path);
			if (name && !flink_dns1123_subdomain(name))
				perr(c, value(s, "name"), "%s.name: \"%s\" is not a valid ServiceAccount name", path, name);
			if (ns && !flink_dns1123_label(ns))
				perr(c, value(s, "namespace"), "%s.namespace: \"%s\" is not a valid namespace", path, ns);
		}
		free(path);
	}
}

static void check_service_account(plain_ctx *c, const fo_yaml_node *doc)
{
	const fo_yaml_node *am = value(doc, "automountServiceAccountToken");
	bool b;
	if (am && !fo_yaml_as_bool(am, &b))
		perr(c, am, "automountServiceAccountToken: must be true or false");
	static const char *const lists[] = {"secrets", "imagePullSecrets"};
	for (size_t i = 0; i < FO_ARRAY_LEN(lists); i++) {
		const fo_yaml_node *l = value(doc, lists[i]);
		if (!l)
			continue;
		if (l->kind != FO_YAML_SEQ) {
			perr(c, l, "%s: must be a list, got a %s", lists[i], fo_yaml_kind_name(l));
			continue;
		}
		for (size_t k = 0; k < l->n; k++)
			if (l->items[k]->kind != FO_YAML_MAP || !fo_yaml_get(l->items[k], "name"))
				perr(c, l->items[k], "%s[%zu]: must be a mapping with a name", lists[i], k);
	}
}

/* The metadata flinkops applies: name, namespace (defaulted), labels and
 * annotations as written; what the API server sets is dropped. */
static void keep_metadata(cJSON *obj, const char *ns)
{
	cJSON *meta = fo_json_obj(obj, "metadata");
	cJSON *kept = cJSON_CreateObject();
	static const char *const keys[] = {"name", "namespace", "labels", "annotations"};
	for (size_t i = 0; i < FO_ARRAY_LEN(keys); i++) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, keys[i]);
		if (i == 1)
			cJSON_AddStringToObject(kept, "namespace", ns);
		else if (v && !cJSON_IsNull(v))
			cJSON_AddItemToObject(kept, keys[i], cJSON_Duplicate(v, true));
	}
	fo_json_set(obj, "metadata", kept);
}

/* A map of strings at `key` of metadata, else an error. */
static void check_string_map(plain_ctx *c, const fo_yaml_node *meta, const char *key)
{
	const fo_yaml_node *m = value(meta, key);
	if (!m)
		return;
	if (m->kind != FO_YAML_MAP) {
		perr(c, m, "metadata.%s: must be a mapping, got a %s", key, fo_yaml_kind_name(m));
		return;
	}
	for (size_t i = 0; i < m->n; i++)
		if (m->items[2 * i + 1]->kind != FO_YAML_SCALAR)
			perr(c, m->items[2 * i + 1], "metadata.%s.%s: must be a string", key, m->items[2 * i]->str);
}

flink_plain *flink_plain_parse(const fo_yaml_node *doc, const char *file, fo_diags *d)
{
	const fo_yaml_node *kn = fo_yaml_get(doc, "kind");
	int k = kn && kn->kind == FO_YAML_SCALAR ? kind_index(kn->str) : -1;
	if (k < 0)
		return NULL;
	plain_ctx c = {file, d, d->nerrors, kinds[k].kind};
	known_fields(&c, doc, "");
	const fo_yaml_node *av = value(doc, "apiVersion");
	if (!av || av->kind != FO_YAML_SCALAR || strcmp(av->str, kinds[k].api_version) != 0)
		perr(&c, av ? av : doc, "must have apiVersion %s", kinds[k].api_version);
	const char *name = NULL, *ns = NULL;
	const fo_yaml_node *meta = value(doc, "metadata");
	if (!meta) {
		perr(&c, doc, "\"metadata\" with a name is required");
	} else if (meta->kind != FO_YAML_MAP) {
		perr(&c, meta, "metadata: must be a mapping, got a %s", fo_yaml_kind_name(meta));
		meta = NULL;
	} else {
		flink_metadata_fields(meta, file, d);
		name = string_at(&c, meta, "name", "metadata", true);
		ns = string_at(&c, meta, "namespace", "metadata", false);
		if (name && !flink_dns1123_subdomain(name))
			perr(&c, value(meta, "name"),
			     "metadata.name: \"%s\" is not a valid name: use lower-case letters, digits, '-' and '.', "
			     "starting and ending with a letter or digit",
			     name);
		if (ns && !flink_dns1123_label(ns))
			perr(&c, value(meta, "namespace"),
			     "metadata.namespace: \"%s\" is not a valid namespace: use lower-case letters, digits and '-'", ns);
		check_string_map(&c, meta, "labels");
		check_string_map(&c, meta, "annotations");
	}
	if (strcmp(kinds[k].kind, FLINK_PLAIN_ROLE) == 0)
		check_role(&c, doc);
	else if (strcmp(kinds[k].kind, FLINK_PLAIN_ROLE_BINDING) == 0)
		check_role_binding(&c, doc);
	else
		check_service_account(&c, doc);
	if (d->nerrors > c.errors_at_start)
		return NULL;
	flink_plain *p = fo_calloc(1, sizeof(*p));
	p->kind = kinds[k].kind;
	p->name = fo_strdup(name);
	p->namespace = fo_strdup(ns ? ns : "default");
	p->source = fo_strdup(file);
	p->line = doc->line;
	p->col = doc->col;
	p->obj = fo_yaml_to_json(doc);
	keep_metadata(p->obj, p->namespace);
	return p;
}

size_t flink_plain_check_unique(const flink_plains *v, fo_diags *d)
{
	size_t dups = 0;
	for (size_t i = 1; i < v->n; i++)
		for (size_t j = 0; j < i; j++) {
			const flink_plain *a = v->v[j], *b = v->v[i];
			if (strcmp(a->kind, b->kind) == 0 && strcmp(a->namespace, b->namespace) == 0 &&
			    strcmp(a->name, b->name) == 0) {
				fo_diag_add(d, FO_SEV_ERROR, b->source, b->line, b->col, "%s %s/%s is already defined at %s:%d:%d",
					    b->kind, b->namespace, b->name, a->source, a->line, a->col);
				dups++;
				break;
			}
		}
	return dups;
}

char *flink_plain_hash(const flink_plain *p)
{
	return fo_json_hash(p->obj);
}

void flink_plain_free(flink_plain *p)
{
	if (!p)
		return;
	free(p->namespace);
	free(p->name);
	free(p->source);
	cJSON_Delete(p->obj);
	free(p);
}

void flink_plains_free(flink_plains *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++)
		flink_plain_free(v->v[i]);
	free(v->v);
	memset(v, 0, sizeof(*v));
}
