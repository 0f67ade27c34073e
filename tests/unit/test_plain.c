/*
 * Unit tests for the plain kinds beside FlinkDeployments: how a
 * ServiceAccount, Role or RoleBinding document is checked (flink/plain.c:
 * apiVersion, names, the namespace default, what a Role may grant, what a
 * RoleBinding may bind, duplicates, exported metadata), and the pure
 * decision of a pass (deploy/plain.c): which objects are created, updated,
 * kept or deleted, and every guard that keeps a delete from happening. One
 * table each; no servers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deploy/deploy.h"
#include "deploy/plain.h"
#include "flink/flink.h"
#include "lib/json.h"
#include "lib/util.h"

#define SA(name) "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: " name "}\n"
#define ROLE_HEAD(name) "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: " name "}\nrules:\n"
#define RULE(groups, res, verbs) "- apiGroups: " groups "\n  resources: " res "\n  verbs: " verbs "\n"
#define RB(ref, subjects)                                                                            \
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb}\nroleRef: " ref \
	"\nsubjects: " subjects "\n"
#define REF_ROLE "{apiGroup: rbac.authorization.k8s.io, kind: Role, name: flink-ha}"
#define SUBJ_SA "[{kind: ServiceAccount, name: flink}]"

/* Each document alone: parsed (no error), or its first error at line:col. */
static void test_parse_table(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int line, col;   /* of the first error; 0: none */
		const char *msg; /* in the first error, or in the only warning when line is 0 */
	} cases[] = {
		{SA("flink"), 0, 0, NULL},
		{SA("flink.ha-1"), 0, 0, NULL}, /* a subdomain, dots allowed */
		{"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: flink, namespace: jobs}\n"
		 "automountServiceAccountToken: false\nimagePullSecrets: [{name: reg}]\n",
		 0, 0, NULL},
		{SA("Flink"), 3, 18, "metadata.name: \"Flink\" is not a valid name"},
		{SA("flink-"), 3, 18, "is not a valid name"},
		{"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: Jobs}\n", 3, 32,
		 "metadata.namespace: \"Jobs\" is not a valid namespace"},
		{"apiVersion: v1\nkind: ServiceAccount\nmetadata: {namespace: jobs}\n", 3, 11, "\"name\" is required"},
		{"apiVersion: rbac.authorization.k8s.io/v1\nkind: ServiceAccount\nmetadata: {name: a}\n", 1, 13,
		 "ServiceAccount must have apiVersion v1"},
		{"kind: ServiceAccount\nmetadata: {name: a}\n", 1, 1, "must have apiVersion v1"},
		{"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\nrules: []\n", 4, 1, "unknown field \"rules\""},
		{"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, generateName: b}\n", 3, 21,
		 "unknown field \"generateName\""},
		/* exported with kubectl get -o yaml: a warning, then applied */
		{"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n  uid: x\n  resourceVersion: \"7\"\n"
		 "  managedFields: []\n  creationTimestamp: null\n",
		 0, 0, "uid, resourceVersion, creationTimestamp, managedFields: set by the API server"},
		/* Flink's HA Role: only what the agent holds */
		{ROLE_HEAD("flink-ha") RULE("[\"\"]", "[configmaps]", "[get, list, watch, create, update, patch, delete]"),
		 0, 0, NULL},
		{ROLE_HEAD("r") RULE("[\"\"]", "[pods]", "[list]") RULE("[apps]", "[statefulsets]", "[get]"), 0, 0, NULL},
		{"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: empty}\n", 0, 0, NULL},
		{"apiVersion: rbac.authorization.k8s.io/v1beta1\nkind: Role\nmetadata: {name: r}\n", 1, 13,
		 "Role must have apiVersion rbac.authorization.k8s.io/v1"},
		{ROLE_HEAD("r") RULE("[\"\"]", "[secrets]", "[get]"), 6, 15,
		 "rules[0]: grants \"get\" on secrets, which the agent does not hold: creating this Role would need "
		 "RBAC's escalate permission"},
		{ROLE_HEAD("r") RULE("[\"\"]", "[pods]", "[list, delete]"), 7, 17, "grants \"delete\" on pods"},
		{ROLE_HEAD("r") RULE("[\"\"]", "[configmaps]", "[\"*\"]"), 7, 11, "grants \"*\" on configmaps"},
		{ROLE_HEAD("r") RULE("[\"*\"]", "[configmaps]", "[get]"), 6, 15, "grants \"get\" on configmaps.*"},
		{ROLE_HEAD("r") RULE("[apps]", "[configmaps]", "[get]"), 6, 15, "on configmaps.apps"},
		{ROLE_HEAD("r") "- nonResourceURLs: [/healthz]\n  verbs: [get]\n", 5, 3, "a Role grants no URLs"},
		{ROLE_HEAD("r") "- resources: [configmaps]\n  verbs: [get]\n", 5, 3, "\"apiGroups\" is required"},
		{ROLE_HEAD("r") RULE("[\"\"]", "[configmaps]", "[]"), 5, 3, "\"verbs\" is required"},
		{ROLE_HEAD("r") "- apiGroups: [\"\"]\n  resources: [configmaps]\n  verbs: [get]\n  verb: [list]\n", 8, 3,
		 "unknown field \"verb\""},
		{RB(REF_ROLE, SUBJ_SA), 0, 0, NULL},
		{RB(REF_ROLE, "[{kind: ServiceAccount, name: flink, namespace: jobs}]"), 0, 0, NULL},
		{RB("{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}", SUBJ_SA), 4, 54,
		 "roleRef.kind: \"ClusterRole\": flinkops does not bind cluster roles"},
		{RB("{apiGroup: rbac.example.com, kind: Role, name: r}", SUBJ_SA), 4, 21,
		 "roleRef.apiGroup: must be rbac.authorization.k8s.io"},
		{RB("{apiGroup: rbac.authorization.k8s.io, kind: Role}", SUBJ_SA), 4, 10, "roleRef: \"name\" is required"},
		{RB(REF_ROLE, "[{kind: User, name: alice}]"), 5, 19, "subjects[0].kind: \"User\": flinkops binds "
								  "ServiceAccounts only"},
		{RB(REF_ROLE, "[{kind: Group, name: \"system:masters\"}]"), 5, 19, "binds ServiceAccounts only"},
		{"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb}\n", 1, 1,
		 "\"roleRef\" is required"},
	};
	size_t bad = 0; /* every case is run and each failure printed */
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		flink_deployments v = {0};
		fo_diags d = FO_DIAGS_INIT;
		flink_load_buffer("p.yaml", cases[i].text, strlen(cases[i].text), &v, NULL, &d);
		if (cases[i].line) {
			const fo_diag *first = NULL;
			for (size_t k = 0; k < d.n && !first; k++)
				if (d.v[k].sev == FO_SEV_ERROR)
					first = &d.v[k];
			if (!first || first->line != cases[i].line || first->col != cases[i].col ||
			    !strstr(first->msg, cases[i].msg)) {
				print_error("case %zu: first error %d:%d \"%s\", want %d:%d \"%s\"\n", i,
					    first ? first->line : 0, first ? first->col : 0, first ? first->msg : "(none)",
					    cases[i].line, cases[i].col, cases[i].msg);
				bad++;
			}
			if (v.plain.n) {
				print_error("case %zu: an object with an error was kept\n", i);
				bad++;
			}
		} else {
			if (d.nerrors || v.plain.n != 1) {
				print_error("case %zu: %zu errors (%s), %zu objects; want none and one\n", i, d.nerrors,
					    d.n ? d.v[0].msg : "", v.plain.n);
				bad++;
			}
			if (cases[i].msg && (d.n != 1 || !strstr(d.v[0].msg, cases[i].msg))) {
				print_error("case %zu: want the warning \"%s\", got %s\n", i, cases[i].msg,
					    d.n ? d.v[0].msg : "none");
				bad++;
			}
		}
		flink_deployments_free(&v);
		fo_diags_free(&d);
	}
	assert_int_equal(bad, 0);
}

/* What is applied: namespace defaulted, server-set metadata dropped, the
 * labels and the hash added; duplicates are errors across files. */
static void test_object(void **state)
{
	(void)state;
	const char *t = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: flink\n  uid: u\n"
			"  labels: {team: a}\n";
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	flink_load_buffer("sa.yaml", t, strlen(t), &v, NULL, &d);
	assert_int_equal(v.plain.n, 1);
	assert_string_equal(v.plain.v[0]->namespace, "default");
	cJSON *o = deploy_plain_object(v.plain.v[0], "agent-a");
	char *s = fo_json_print(o, false);
	char *hash = flink_plain_hash(v.plain.v[0]);
	char *want = fo_asprintf("{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"flink\","
				 "\"namespace\":\"default\",\"labels\":{\"team\":\"a\",\"app.kubernetes.io/managed-by\":"
				 "\"flinkops\",\"flinkops.io/agent\":\"agent-a\"},\"annotations\":"
				 "{\"flinkops.io/content-hash\":\"%s\"}}}",
				 hash);
	assert_string_equal(s, want);
	free(want);
	free(hash);
	free(s);
	cJSON_Delete(o);
	/* the same object twice, in another file */
	flink_load_buffer("again.yaml", SA("flink") "---\n" SA("flink-2"), strlen(SA("flink") "---\n" SA("flink-2")),
			  &v, NULL, &d);
	assert_int_equal(flink_check_repository(&v, &d), 1);
	assert_string_equal(d.v[d.n - 1].msg, "ServiceAccount default/flink is already defined at sa.yaml:1:1");
	assert_int_equal(d.v[d.n - 1].line, 1);
	assert_string_equal(d.v[d.n - 1].file, "again.yaml");
	/* a Role of the same name is another object */
	const char *r = ROLE_HEAD("flink") RULE("[\"\"]", "[pods]", "[list]");
	fo_diags d2 = FO_DIAGS_INIT;
	flink_load_buffer("r.yaml", r, strlen(r), &v, NULL, &d2);
	assert_int_equal(flink_plain_check_unique(&v.plain, &d2), 1); /* only again.yaml's, still */
	flink_deployments_free(&v);
	fo_diags_free(&d);
	fo_diags_free(&d2);
}

/* ---- the decision ---- */

/* Desired objects are named by "Kind/ns/name"; the live ones likewise, with
 * a suffix: "=" is git's object as applied, "~" git's with a hash of an
 * older content, "!" git's with a field edited in the cluster; a live one
 * git does not have is just its name. */
static flink_plain *mk_plain(const char *key)
{
	char kind[32], ns[32], name[32];
	assert_int_equal(sscanf(key, "%31[^/]/%31[^/]/%31[^=~!]", kind, ns, name), 3);
	const char *av = strcmp(kind, "ServiceAccount") == 0 ? "v1" : "rbac.authorization.k8s.io/v1";
	char *t = fo_asprintf("apiVersion: %s\nkind: %s\nmetadata: {name: %s, namespace: %s}\n%s", av, kind, name, ns,
			      strcmp(kind, "RoleBinding") == 0 ? "roleRef: " REF_ROLE "\nsubjects: " SUBJ_SA "\n"
			      : strcmp(kind, "Role") == 0    ? "rules: [{apiGroups: [\"\"], resources: [pods], verbs: [list]}]\n"
							     : "");
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	flink_load_buffer("x.yaml", t, strlen(t), &v, NULL, &d);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(v.plain.n, 1);
	flink_plain *p = v.plain.v[0];
	v.plain.n = 0;
	flink_deployments_free(&v);
	fo_diags_free(&d);
	free(t);
	return p;
}

static void add_live(deploy_plain_live *l, const char *key)
{
	flink_plain *p = mk_plain(key);
	cJSON *o = deploy_plain_object(p, "flinkops");
	cJSON *meta = cJSON_GetObjectItemCaseSensitive(o, "metadata");
	if (strchr(key, '~'))
		fo_json_set(fo_json_obj(meta, "annotations"), "flinkops.io/content-hash", cJSON_CreateString("older"));
	if (strchr(key, '!'))
		fo_json_set(fo_json_obj(meta, "labels"), "app.kubernetes.io/managed-by", cJSON_CreateString("someone"));
	cJSON_AddStringToObject(meta, "uid", "server-set"); /* what the server adds is no difference */
	l->v = fo_grow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	deploy_plain_live_obj *x = &l->v[l->n++];
	x->kind = deploy_plain_kind(p->kind);
	x->ns = fo_strdup(p->namespace);
	x->name = fo_strdup(p->name);
	x->obj = o;
	flink_plain_free(p);
}

enum guard_case { G_OK, G_DISABLED, G_SKIP, G_FD_REFUSED, G_FORCE, G_HOLD_JOBS };

static void test_decide_table(void **state)
{
	(void)state;
	static const struct {
		const char *desired[4];
		const char *live[5];
		enum guard_case guard;
		const char *want; /* "op Kind/ns/name" per action, in order, "!" after a refused delete; then "|R"
		                     (refused) or "|D" (disabled) */
	} cases[] = {
		/* first sync: everything created */
		{{"ServiceAccount/jobs/flink", "Role/jobs/flink-ha", "RoleBinding/jobs/flink-ha"},
		 {NULL},
		 G_OK,
		 "create ServiceAccount/jobs/flink, create Role/jobs/flink-ha, create RoleBinding/jobs/flink-ha"},
		/* nothing changed */
		{{"ServiceAccount/jobs/flink", "Role/jobs/flink-ha"},
		 {"ServiceAccount/jobs/flink=", "Role/jobs/flink-ha="},
		 G_OK,
		 "keep ServiceAccount/jobs/flink, keep Role/jobs/flink-ha"},
		/* changed in git; edited in the cluster */
		{{"ServiceAccount/jobs/flink", "Role/jobs/flink-ha"},
		 {"ServiceAccount/jobs/flink~", "Role/jobs/flink-ha!"},
		 G_OK,
		 "update ServiceAccount/jobs/flink, update Role/jobs/flink-ha"},
		/* the same name in another namespace or of another kind is another object */
		{{"ServiceAccount/jobs/flink", "Role/other/flink"},
		 {"ServiceAccount/other/flink=", "Role/jobs/flink=", "ServiceAccount/jobs/flink=", "Role/other/flink="},
		 G_OK,
		 "keep ServiceAccount/jobs/flink, keep Role/other/flink, delete ServiceAccount/other/flink, delete "
		 "Role/jobs/flink"},
		/* one of three gone: within the ratio */
		{{"ServiceAccount/jobs/flink", "RoleBinding/jobs/flink-ha"},
		 {"ServiceAccount/jobs/flink=", "Role/jobs/flink-ha=", "RoleBinding/jobs/flink-ha="},
		 G_OK,
		 "keep ServiceAccount/jobs/flink, keep RoleBinding/jobs/flink-ha, delete Role/jobs/flink-ha"},
		/* each guard keeps it */
		{{"ServiceAccount/jobs/flink", "RoleBinding/jobs/flink-ha"},
		 {"ServiceAccount/jobs/flink=", "Role/jobs/flink-ha=", "RoleBinding/jobs/flink-ha="},
		 G_DISABLED,
		 "keep ServiceAccount/jobs/flink, keep RoleBinding/jobs/flink-ha, delete Role/jobs/flink-ha!|D"},
		{{"ServiceAccount/jobs/flink", "RoleBinding/jobs/flink-ha"},
		 {"ServiceAccount/jobs/flink=", "Role/jobs/flink-ha=", "RoleBinding/jobs/flink-ha="},
		 G_SKIP,
		 "keep ServiceAccount/jobs/flink, keep RoleBinding/jobs/flink-ha, delete Role/jobs/flink-ha!|R"},
		{{"ServiceAccount/jobs/flink", "RoleBinding/jobs/flink-ha"},
		 {"ServiceAccount/jobs/flink=", "Role/jobs/flink-ha=", "RoleBinding/jobs/flink-ha="},
		 G_FD_REFUSED,
		 "keep ServiceAccount/jobs/flink, keep RoleBinding/jobs/flink-ha, delete Role/jobs/flink-ha!|R"},
		/* a namespace whose FlinkDeployment gone from git is not deleted yet: its objects wait; another's go */
		{{NULL},
		 {"ServiceAccount/jobs/flink=", "ServiceAccount/other/flink="},
		 G_HOLD_JOBS,
		 "delete ServiceAccount/jobs/flink!, delete ServiceAccount/other/flink"},
		/* more than the ratio: nothing at all is deleted, unless forced */
		{{"ServiceAccount/jobs/flink"},
		 {"ServiceAccount/jobs/flink=", "Role/jobs/flink-ha=", "RoleBinding/jobs/flink-ha="},
		 G_OK,
		 "keep ServiceAccount/jobs/flink, delete Role/jobs/flink-ha!, delete RoleBinding/jobs/flink-ha!|R"},
		{{NULL}, {"Role/jobs/flink-ha="}, G_OK, "delete Role/jobs/flink-ha!|R"},
		{{NULL}, {"Role/jobs/flink-ha="}, G_FORCE, "delete Role/jobs/flink-ha"},
		/* nothing to delete: no guard has anything to say */
		{{"Role/jobs/r"}, {NULL}, G_SKIP, "create Role/jobs/r"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		flink_plains desired = {0};
		deploy_plain_live live = {0};
		for (size_t k = 0; cases[i].desired[k]; k++) {
			desired.v = fo_grow(desired.v, &desired.cap, desired.n + 1, sizeof(*desired.v));
			desired.v[desired.n++] = mk_plain(cases[i].desired[k]);
		}
		for (size_t k = 0; cases[i].live[k]; k++)
			add_live(&live, cases[i].live[k]);
		static const char *const held[] = {"jobs"};
		deploy_plain_guard g = {.prune = true, .max_delete_ratio = 0.5};
		g.prune = cases[i].guard != G_DISABLED;
		g.skip_reason = cases[i].guard == G_SKIP ? "1 problem in the manifests" : NULL;
		g.refused_reason = cases[i].guard == G_FD_REFUSED ? "the FlinkDeployments' prune is refused" : NULL;
		g.force_prune = cases[i].guard == G_FORCE || cases[i].guard == G_HOLD_JOBS;
		if (cases[i].guard == G_HOLD_JOBS) {
			g.held_ns = held;
			g.nheld = 1;
		}
		deploy_plain_plan p;
		deploy_plain_decide(&desired, &live, "flinkops", &g, &p);
		fo_buf got = FO_BUF_INIT;
		for (size_t k = 0; k < p.n; k++) {
			const deploy_plain_action *a = &p.v[k];
			fo_buf_printf(&got, "%s%s %s/%s/%s%s", k ? ", " : "", deploy_plain_op_name(a->op), a->kind->kind,
				      a->ns, a->name, a->refused ? "!" : "");
			/* a refused delete always says why */
			if (a->refused && !a->why)
				fail_msg("case %zu: %s refused without a reason", i, a->name);
		}
		if (p.prune_refused)
			fo_buf_puts(&got, "|R");
		if (p.prune_disabled)
			fo_buf_puts(&got, "|D");
		if (strcmp(fo_buf_cstr(&got), cases[i].want) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, fo_buf_cstr(&got), cases[i].want);
		if (p.prune_refused && (!p.prune_reason || !strstr(p.prune_reason, "nothing")))
			fail_msg("case %zu: refused, but the reason says %s", i, p.prune_reason ? p.prune_reason : "nothing");
		fo_buf_free(&got);
		deploy_plain_plan_free(&p);
		deploy_plain_live_free(&live);
		flink_plains_free(&desired);
	}
}

/* An object in a namespace the agent does not manage: an error at its
 * document, and dropped, as a FlinkDeployment there is. */
static void test_scope(void **state)
{
	(void)state;
	const char *t = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: jobs}\n---\n"
			"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: b, namespace: elsewhere}\n";
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	flink_load_buffer("s.yaml", t, strlen(t), &v, NULL, &d);
	assert_int_equal(v.plain.n, 2);
	char *namespaces[] = {"jobs"};
	assert_int_equal(deploy_scope_filter(&v, namespaces, 1, &d), 1);
	assert_int_equal(v.plain.n, 1);
	assert_string_equal(v.plain.v[0]->name, "a");
	assert_int_equal(d.nerrors, 1);
	assert_int_equal(d.v[0].line, 5);
	assert_string_equal(d.v[0].msg, "ServiceAccount elsewhere/b: namespace elsewhere is not one this agent manages "
					 "(kubernetes.namespaces: jobs); add it there (and grant the agent its Role in it) "
					 "or move the object");
	flink_deployments_free(&v);
	fo_diags_free(&d);
}

/* The agent's grant, as examples/install/rbac.yaml has it. */
static void test_agent_holds(void **state)
{
	(void)state;
	assert_true(flink_plain_agent_holds("", "configmaps", "watch"));
	assert_true(flink_plain_agent_holds("", "configmaps", "update"));
	assert_true(flink_plain_agent_holds("apps", "statefulsets", "patch"));
	assert_true(flink_plain_agent_holds("rbac.authorization.k8s.io", "roles", "create"));
	assert_false(flink_plain_agent_holds("rbac.authorization.k8s.io", "roles", "get")); /* never read one by one */
	assert_false(flink_plain_agent_holds("rbac.authorization.k8s.io", "roles", "escalate"));
	assert_false(flink_plain_agent_holds("rbac.authorization.k8s.io", "roles", "bind"));
	assert_false(flink_plain_agent_holds("", "statefulsets", "get"));
	assert_false(flink_plain_agent_holds("", "secrets", "get"));
	assert_false(flink_plain_agent_holds("", "pods", "delete"));
	assert_false(flink_plain_agent_holds("", "configmaps", "*"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_object),
		cmocka_unit_test(test_decide_table),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_agent_holds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
