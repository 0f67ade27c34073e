/*
 * Unit tests for deploy/plan: a table of edits to one FlinkDeployment and
 * the action, savepoint and warnings each must produce. No servers.
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
#include "deploy/journal.h"
#include "deploy/plan.h"
#include "lib/json.h"

static const char base[] =
	"apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\n"
	"metadata:\n  name: wc\n  labels: {team: a}\n"
	"spec:\n"
	"  image: flink:1.20\n"
	"  flinkVersion: v1_20\n"
	"  flinkConfiguration:\n    state.backend.type: rocksdb\n"
	"  jobManager: {resource: {memory: 1g}}\n"
	"  taskManager: {resource: {memory: 2g}}\n"
	"  job:\n"
	"    jarURI: s3://b/j-1.jar\n"
	"    entryClass: com.example.Job\n"
	"    parallelism: 2\n"
	"    upgradeMode: savepoint\n"
	"    state: running\n";

typedef struct side_holder {
	flink_deployment *fd;
	render_objects o;
	deploy_side side;
} side_holder;

static void load_side(side_holder *h, const char *text)
{
	memset(h, 0, sizeof(*h));
	if (!text)
		return; /* absent */
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	int rc = flink_load_buffer("x.yaml", text, strlen(text), &v, NULL, &d);
	if (rc != 0)
		fail_msg("fixture does not parse: %d:%d %s", d.v[0].line, d.v[0].col, d.v[0].msg);
	h->fd = v.v[0];
	free(v.v);
	fo_diags_free(&d);
	assert_int_equal(render_deployment(h->fd, &h->o, NULL), 0);
	deploy_side_from_rendered(&h->side, &h->o, h->fd);
}

static void free_side(side_holder *h)
{
	render_objects_free(&h->o);
	flink_deployment_free(h->fd);
}

/* base with `from` replaced by `to` (NULL `to`: the deployment is deleted) */
static char *edit(const char *from, const char *to)
{
	const char *p = strstr(base, from);
	if (!p)
		fail_msg("fixture lacks \"%s\"", from);
	return fo_asprintf("%.*s%s%s", (int)(p - base), base, to, p + strlen(from));
}

static const struct {
	const char *name;
	const char *from, *to;   /* edit of base for the head side; from == NULL: base unchanged */
	bool base_absent, head_absent;
	enum deploy_action action;
	bool savepoint, restarts_job, restarts_pods;
	int warning; /* a warning kind that must be present, or -1 */
	const char *note; /* what the plan says of a change no object shows, or NULL */
} cases[] = {
	{"no change", NULL, NULL, false, false, DEPLOY_NONE, false, false, false, -1, NULL},
	{"comment only", "  job:\n", "  # a comment\n  job:\n", false, false, DEPLOY_NONE, false, false, false, -1, NULL},
	{"key order only", "  jobManager: {resource: {memory: 1g}}\n  taskManager: {resource: {memory: 2g}}\n",
	 "  taskManager: {resource: {memory: 2g}}\n  jobManager: {resource: {memory: 1g}}\n", false, false, DEPLOY_NONE,
	 false, false, false, -1, NULL},
	{"new deployment", NULL, NULL, true, false, DEPLOY_CREATE, false, true, true, -1, NULL},
	{"deleted deployment", NULL, NULL, false, true, DEPLOY_DELETE, true, false, false, -1, NULL},
	{"parallelism up", "parallelism: 2", "parallelism: 4", false, false, DEPLOY_UPGRADE, true, true, true,
	 DEPLOY_WARN_PARALLELISM, NULL},
	{"new jar", "j-1.jar", "j-2.jar", false, false, DEPLOY_UPGRADE, true, true, false, DEPLOY_WARN_JAR, NULL},
	{"new entry class", "com.example.Job", "com.example.Job2", false, false, DEPLOY_UPGRADE, true, true, false,
	 DEPLOY_WARN_ENTRY_CLASS, NULL},
	{"TaskManager memory", "memory: 2g", "memory: 3g", false, false, DEPLOY_UPGRADE, true, true, true, -1, NULL},
	{"image", "flink:1.20", "flink:1.20.1", false, false, DEPLOY_UPGRADE, true, true, true, -1, NULL},
	{"flink configuration", "rocksdb", "hashmap", false, false, DEPLOY_UPGRADE, true, true, true, -1, NULL},
	{"stateless upgrade", "upgradeMode: savepoint\n", "upgradeMode: stateless\n    args: [--x]\n", false, false,
	 DEPLOY_UPGRADE, false, true, false, DEPLOY_WARN_STATE_DROPPED, NULL},
	{"switch to stateless with an upgrade", "parallelism: 2\n    upgradeMode: savepoint",
	 "parallelism: 3\n    upgradeMode: stateless", false, false, DEPLOY_UPGRADE, false, true, true,
	 DEPLOY_WARN_UPGRADE_MODE, NULL},
	{"mode alone changes nothing running", "upgradeMode: savepoint", "upgradeMode: last-state", false, false,
	 DEPLOY_NONE, false, false, false, -1, "from savepoint to last-state"},
	{"allowNonRestoredState", "    state: running\n", "    state: running\n    allowNonRestoredState: true\n",
	 false, false, DEPLOY_UPGRADE, true, true, false, DEPLOY_WARN_NON_RESTORED_STATE, NULL},
	{"labels only", "{team: a}", "{team: b}", false, false, DEPLOY_IN_PLACE, false, false, false, -1, NULL},
	/* an Ingress is in front of the pods: nothing restarts for it */
	{"ingress added", "  image: flink:1.20\n", "  image: flink:1.20\n  ingress: {template: \"/{{name}}\"}\n", false,
	 false, DEPLOY_IN_PLACE, false, false, false, -1, NULL},
	/* replicas that agree with parallelism × slots change nothing */
	{"replicas spelled out", "taskManager: {resource: {memory: 2g}}",
	 "taskManager: {resource: {memory: 2g}, replicas: 2}", false, false, DEPLOY_NONE, false, false, false, -1, NULL},
	/* replicas alone: the job runs at replicas × slots, as upstream runs it */
	{"more TaskManagers raise the parallelism",
	 "taskManager: {resource: {memory: 2g}}\n  job:\n    jarURI: s3://b/j-1.jar\n    entryClass: com.example.Job\n"
	 "    parallelism: 2\n",
	 "taskManager: {resource: {memory: 2g}, replicas: 4}\n  job:\n    jarURI: s3://b/j-1.jar\n"
	 "    entryClass: com.example.Job\n",
	 false, false, DEPLOY_UPGRADE, true, true, true, DEPLOY_WARN_PARALLELISM, NULL},
	{"suspend", "state: running", "state: suspended", false, false, DEPLOY_SUSPEND, true, false, false, -1, NULL},
	{"restart nonce", "  image: flink:1.20\n", "  image: flink:1.20\n  restartNonce: \"7\"\n", false, false,
	 DEPLOY_UPGRADE, true, true, true, -1, NULL},
	{"savepoint nonce", "    state: running\n", "    state: running\n    savepointTriggerNonce: 3\n", false, false,
	 DEPLOY_NONE, false, false, false, -1, "savepointTriggerNonce changes to 3: a savepoint"},
	{"savepoint retention", "    state.backend.type: rocksdb\n",
	 "    state.backend.type: rocksdb\n    kubernetes.operator.savepoint.history.max.count: \"3\"\n", false, false,
	 DEPLOY_NONE, false, false, false, -1, "the newest 3 savepoints flinkops took are kept, older ones past 86400 s"},
	{"periodic savepoints", "    state.backend.type: rocksdb\n",
	 "    state.backend.type: rocksdb\n    kubernetes.operator.periodic.savepoint.interval: 10min\n", false, false,
	 DEPLOY_NONE, false, false, false, -1, "periodic savepoints every 600 s; nothing restarts"},
	{"cron savepoints", "    state.backend.type: rocksdb\n",
	 "    state.backend.type: rocksdb\n    kubernetes.operator.periodic.savepoint.interval: 0 0 2 * * ?\n", false,
	 false, DEPLOY_NONE, false, false, false, -1,
	 "periodic savepoints on the cron schedule \"0 0 2 * * ?\" (UTC); nothing restarts"},
	{"checkpoint nonce", "    state: running\n", "    state: running\n    checkpointTriggerNonce: 4\n", false, false,
	 DEPLOY_NONE, false, false, false, -1,
	 "checkpointTriggerNonce changes to 4: a FULL checkpoint of the running job is taken; nothing restarts"},
	{"periodic checkpoints", "    state.backend.type: rocksdb\n",
	 "    state.backend.type: rocksdb\n    kubernetes.operator.periodic.checkpoint.interval: 1 h\n"
	 "    kubernetes.operator.checkpoint.type: INCREMENTAL\n",
	 false, false, DEPLOY_NONE, false, false, false, -1, "periodic INCREMENTAL checkpoints every 3600 s"},
};

/* Only the namespaces an agent manages are its own: a FlinkDeployment
 * elsewhere is an error at its document and is dropped (never applied, and
 * the error keeps the pass from pruning). */
static void test_scope_filter(void **state)
{
	(void)state;
	const char *text = "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: a, namespace: jobs}\n"
			   "spec: {image: flink:1.20, flinkVersion: v1_20, jobManager: {resource: {memory: 1g, cpu: 1}},\n"
			   "  taskManager: {resource: {memory: 1g, cpu: 1}, replicas: 1}}\n---\n"
			   "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: b, namespace: other}\n"
			   "spec: {image: flink:1.20, flinkVersion: v1_20, jobManager: {resource: {memory: 1g, cpu: 1}},\n"
			   "  taskManager: {resource: {memory: 1g, cpu: 1}, replicas: 1}}\n";
	static const struct {
		const char *ns[2];
		size_t n;
		const char *kept; /* names kept, joined */
		int err_line;     /* 0: no error */
	} scopes[] = {
		{{NULL}, 0, "ab", 0},
		{{"jobs"}, 1, "a", 7},
		{{"other", "jobs"}, 2, "ab", 0},
		{{"nowhere"}, 1, "", 1},
	};
	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		flink_deployments v = {0};
		fo_diags d = FO_DIAGS_INIT;
		assert_int_equal(flink_load_buffer("m.yaml", text, strlen(text), &v, NULL, &d), 0);
		size_t dropped = deploy_scope_filter(&v, (char *const *)scopes[i].ns, scopes[i].n, &d);
		char kept[8] = "";
		for (size_t k = 0; k < v.n && k < 4; k++)
			strcat(kept, v.v[k]->name);
		if (strcmp(kept, scopes[i].kept) != 0)
			fail_msg("case %zu: kept \"%s\", want \"%s\"", i, kept, scopes[i].kept);
		assert_int_equal(dropped, 2 - strlen(scopes[i].kept));
		assert_int_equal(d.nerrors, dropped);
		if (scopes[i].err_line) {
			assert_string_equal(d.v[0].file, "m.yaml");
			assert_int_equal(d.v[0].line, scopes[i].err_line);
			assert_non_null(strstr(d.v[0].msg, "is not one this agent manages (kubernetes.namespaces: "));
		}
		flink_deployments_free(&v);
		fo_diags_free(&d);
	}
}

/* A stateless job that names no savepoint directory is cancelled on a
 * delete or a suspend: the plan says so, and promises no savepoint. */
static void test_stateless_stop(void **state)
{
	(void)state;
	static const struct {
		const char *to;       /* replaces "upgradeMode: savepoint" */
		bool suspend;         /* the head suspends it (else deletes it) */
		bool savepoint;
	} stops[] = {
		{"upgradeMode: stateless", false, false},
		{"upgradeMode: stateless", true, false},
		{"upgradeMode: stateless\n    savepointStorage: s3://b/sp", false, true},
		{"upgradeMode: stateless\n    savepointStorage: s3://b/sp", true, true},
		{"upgradeMode: last-state", false, true},
		{"upgradeMode: last-state", true, true},
	};
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
		char *from = edit("upgradeMode: savepoint", stops[i].to);
		char *to = NULL;
		if (stops[i].suspend) {
			const char *p = strstr(from, "state: running");
			to = fo_asprintf("%.*sstate: suspended%s", (int)(p - from), from, p + strlen("state: running"));
		}
		side_holder a, b;
		load_side(&a, from);
		load_side(&b, to);
		deploy_change c;
		deploy_plan_change(&a.side, &b.side, NULL, &c);
		assert_int_equal(c.action, stops[i].suspend ? DEPLOY_SUSPEND : DEPLOY_DELETE);
		if (c.takes_savepoint != stops[i].savepoint)
			fail_msg("case %zu: takes_savepoint %d", i, c.takes_savepoint);
		bool dropped = false;
		for (size_t w = 0; w < c.nwarnings; w++)
			dropped = dropped || (c.warnings[w].kind == DEPLOY_WARN_STATE_DROPPED &&
					      strstr(c.warnings[w].text, "the job is cancelled"));
		if (dropped == stops[i].savepoint)
			fail_msg("case %zu: state-dropped warning %d", i, dropped);
		deploy_change_free(&c);
		free_side(&a);
		free_side(&b);
		free(from);
		free(to);
	}
}

static void test_classify_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		side_holder a, b;
		char *head = cases[i].from ? edit(cases[i].from, cases[i].to) : fo_strdup(base);
		load_side(&a, cases[i].base_absent ? NULL : base);
		load_side(&b, cases[i].head_absent ? NULL : head);
		deploy_change c;
		deploy_plan_change(&a.side, &b.side, NULL, &c);
		/* only what no object shows gets a note */
		if ((c.note != NULL) != (cases[i].note != NULL) || (c.note && !strstr(c.note, cases[i].note)))
			fail_msg("%s: note \"%s\"", cases[i].name, c.note ? c.note : "(none)");
		if (c.action != cases[i].action || c.takes_savepoint != cases[i].savepoint ||
		    c.restarts_job != cases[i].restarts_job || c.restarts_pods != cases[i].restarts_pods)
			fail_msg("%s: got %s savepoint=%d job=%d pods=%d", cases[i].name, deploy_action_name(c.action),
				 c.takes_savepoint, c.restarts_job, c.restarts_pods);
		/* the change's warnings, then those of the state it starts from */
		if (cases[i].warning >= 0) {
			bool found = false;
			for (size_t w = 0; w < c.nwarnings; w++)
				found = found || (int)c.warnings[w].kind == cases[i].warning;
			for (size_t w = 0; w < c.state.nwarnings; w++)
				found = found || (int)c.state.warnings[w].kind == cases[i].warning;
			if (!found)
				fail_msg("%s: warning %d missing", cases[i].name, cases[i].warning);
		} else if (c.nwarnings || c.state.nwarnings) {
			fail_msg("%s: unexpected warning \"%s\"", cases[i].name,
				 c.nwarnings ? c.warnings[0].text : c.state.warnings[0].text);
		}
		deploy_change_free(&c);
		free_side(&a);
		free_side(&b);
		free(head);
	}
}

/* base with each "from|to" edit of `edits` (separated by ';') applied. */
static char *edited(const char *edits)
{
	char *text = fo_strdup(base);
	if (!edits)
		return text;
	char *all = fo_strdup(edits), *save = NULL;
	for (char *e = strtok_r(all, ";", &save); e; e = strtok_r(NULL, ";", &save)) {
		char *to = strchr(e, '|');
		assert_non_null(to);
		*to++ = '\0';
		const char *p = strstr(text, e);
		if (!p)
			fail_msg("fixture lacks \"%s\"", e);
		char *next = fo_asprintf("%.*s%s%s", (int)(p - text), text, to, p + strlen(e));
		free(text);
		text = next;
	}
	free(all);
	return text;
}

/* The state the next start uses (deploy_plan_state), with and without what
 * plan --live reads from Flink and the journal. */
static void test_state_table(void **state)
{
	(void)state;
	enum { NOW = 1000000000000LL, MIN = 60000 };
	enum facts { F_NONE, F_CK, F_CK_OLD, F_NOCK, F_RESTORED, F_ERR, F_SUSP, F_SUSP_NONE, F_TIMELESS, F_SUSP_OLD };
	static const deploy_state_facts facts[] = {
		[F_NONE] = {0},
		[F_CK] = {.asked = true, .job_id = "j1", .checkpoint_path = "file:/ck/j1/chk-7",
			  .checkpoint_ms = NOW - 5 * MIN, .now_ms = NOW},
		[F_CK_OLD] = {.asked = true, .job_id = "j1", .checkpoint_path = "file:/ck/j1/chk-7",
			      .checkpoint_ms = NOW - 120 * MIN, .now_ms = NOW},
		[F_NOCK] = {.asked = true, .job_id = "j1", .checkpoint_ms = -1, .now_ms = NOW},
		[F_RESTORED] = {.asked = true, .job_id = "j1", .checkpoint_ms = -1, .restored_path = "file:/sp/savepoint-0",
				.now_ms = NOW},
		[F_ERR] = {.asked = true, .error = "connection refused", .checkpoint_ms = -1, .now_ms = NOW},
		[F_SUSP] = {.asked = true, .suspend_savepoint = "file:/sp/savepoint-9", .checkpoint_ms = -1, .now_ms = NOW},
		[F_SUSP_NONE] = {.asked = true, .checkpoint_ms = -1, .now_ms = NOW},
		[F_SUSP_OLD] = {.asked = true, .suspend_savepoint = "file:/sp/savepoint-9", .suspend_savepoint_ms = NOW - 3 * 24 * 60 * MIN,
				.checkpoint_ms = -1, .now_ms = NOW},
		[F_TIMELESS] = {.asked = true, .job_id = "j1", .checkpoint_path = "file:/ck/j1/chk-7", .checkpoint_is_savepoint = true,
				.checkpoint_ms = -1, .now_ms = NOW},
	};
#define LS "upgradeMode: savepoint|upgradeMode: last-state"
#define P4 ";parallelism: 2|parallelism: 4"
#define ANRS ";state: running|state: running\n    allowNonRestoredState: true"
#define INIT0 "state: running|state: running\n    initialSavepointPath: s3://sp/savepoint-1"
#define INIT ";" INIT0
#define ANRS0 "state: running|state: running\n    allowNonRestoredState: true"
	static const struct {
		const char *name;
		const char *from, *to;          /* edits of base; NULL: base itself */
		bool base_absent, head_absent;
		enum facts f;
		int64_t max_age_ms;
		enum deploy_state_from want;
		const char *text;               /* a part of the line; NULL: no line */
		const char *path;
		int64_t age_ms;
		int warn[2];                    /* the state's warnings, in order; -1: none */
	} rows[] = {
		{"savepoint upgrade: the savepoint it takes", NULL, "parallelism: 2|parallelism: 4", false, false, F_NONE, 0,
		 DEPLOY_STATE_SAVEPOINT, "the savepoint the upgrade takes when it stops the job", NULL, -1, {-1, -1}},
		{"last-state, plain plan: the newest checkpoint, age with --live", LS, LS P4, false, false, F_NONE, 0,
		 DEPLOY_STATE_CHECKPOINT, "the newest checkpoint of the running job (its path and age: plan --live)", NULL, -1,
		 {-1, -1}},
		{"last-state, live: path and age", LS, LS P4, false, false, F_CK, 60 * MIN, DEPLOY_STATE_CHECKPOINT,
		 "the newest checkpoint of job j1, file:/ck/j1/chk-7, taken 5m00s ago", "file:/ck/j1/chk-7", 5 * MIN, {-1, -1}},
		{"last-state, live: exactly the limit is no warning", LS, LS P4, false, false, F_CK, 5 * MIN,
		 DEPLOY_STATE_CHECKPOINT, "taken 5m00s ago", "file:/ck/j1/chk-7", 5 * MIN, {-1, -1}},
		{"last-state, live: a minute past the limit warns", LS, LS P4, false, false, F_CK, 4 * MIN,
		 DEPLOY_STATE_CHECKPOINT, "taken 5m00s ago", "file:/ck/j1/chk-7", 5 * MIN, {DEPLOY_WARN_STATE_AGE, -1}},
		{"last-state, live: two hours old against 1h", LS, LS P4, false, false, F_CK_OLD, 60 * MIN,
		 DEPLOY_STATE_CHECKPOINT, "taken 2h00m ago", "file:/ck/j1/chk-7", 120 * MIN, {DEPLOY_WARN_STATE_AGE, -1}},
		{"last-state, live: no checkpoint, the upgrade fails", LS, LS P4, false, false, F_NOCK, 60 * MIN,
		 DEPLOY_STATE_CHECKPOINT, "none: job j1 has completed no checkpoint", NULL, -1, {DEPLOY_WARN_NO_CHECKPOINT, -1}},
		{"last-state, live: nothing since its start, what it started from", LS, LS P4, false, false, F_RESTORED,
		 60 * MIN, DEPLOY_STATE_CHECKPOINT, "what job j1 started from, file:/sp/savepoint-0", "file:/sp/savepoint-0", -1,
		 {-1, -1}},
		{"last-state, live: Flink does not answer", LS, LS P4, false, false, F_ERR, 60 * MIN, DEPLOY_STATE_CHECKPOINT,
		 "(not read: connection refused)", NULL, -1, {-1, -1}},
		{"last-state, live: a savepoint without a time", LS, LS P4, false, false, F_TIMELESS, 60 * MIN,
		 DEPLOY_STATE_CHECKPOINT, "the newest savepoint of job j1, file:/ck/j1/chk-7 (its time is unknown)",
		 "file:/ck/j1/chk-7", -1, {-1, -1}},
		{"last-state with allowNonRestoredState", LS ANRS, LS P4 ANRS, false, false, F_CK, 60 * MIN,
		 DEPLOY_STATE_CHECKPOINT, "taken 5m00s ago", "file:/ck/j1/chk-7", 5 * MIN, {DEPLOY_WARN_NON_RESTORED_STATE, -1}},
		{"old and allowNonRestoredState: both warnings", LS ANRS, LS P4 ANRS, false, false, F_CK_OLD, 60 * MIN,
		 DEPLOY_STATE_CHECKPOINT, "taken 2h00m ago", "file:/ck/j1/chk-7", 120 * MIN,
		 {DEPLOY_WARN_STATE_AGE, DEPLOY_WARN_NON_RESTORED_STATE}},
		{"stateless upgrade: empty, dropped", NULL, "upgradeMode: savepoint|upgradeMode: stateless" P4, false, false,
		 F_CK_OLD, 60 * MIN, DEPLOY_STATE_EMPTY, "empty state (state dropped: upgradeMode is stateless)", NULL, -1,
		 {-1, -1}},
		{"stateless with allowNonRestoredState: nothing restored, no warning", NULL,
		 "upgradeMode: savepoint|upgradeMode: stateless" P4 ANRS, false, false, F_NONE, 0, DEPLOY_STATE_EMPTY,
		 "state dropped", NULL, -1, {-1, -1}},
		{"create: empty state", NULL, NULL, true, false, F_NONE, 0, DEPLOY_STATE_EMPTY, "empty state (a new job)", NULL,
		 -1, {-1, -1}},
		{"create from initialSavepointPath", NULL, INIT0, true, false, F_NONE, 0, DEPLOY_STATE_INITIAL,
		 "job.initialSavepointPath, s3://sp/savepoint-1", "s3://sp/savepoint-1", -1, {-1, -1}},
		{"create from initialSavepointPath, allowNonRestoredState", NULL, INIT ANRS, true, false, F_NONE, 0,
		 DEPLOY_STATE_INITIAL, "job.initialSavepointPath", "s3://sp/savepoint-1", -1,
		 {DEPLOY_WARN_NON_RESTORED_STATE, -1}},
		{"resume, plain plan: the suspend's savepoint", "state: running|state: suspended", NULL, false, false, F_NONE,
		 0, DEPLOY_STATE_SUSPENDED, "the savepoint the suspend took", NULL, -1, {-1, -1}},
		{"resume, live: its path from the journal", "state: running|state: suspended", NULL, false, false, F_SUSP,
		 60 * MIN, DEPLOY_STATE_SUSPENDED, "the savepoint the suspend took, file:/sp/savepoint-9",
		 "file:/sp/savepoint-9", -1, {-1, -1}},
		{"resume, live: a savepoint three days old against 1h", "state: running|state: suspended", NULL, false, false,
		 F_SUSP_OLD, 60 * MIN, DEPLOY_STATE_SUSPENDED, "the savepoint the suspend took, file:/sp/savepoint-9, taken 3d00h ago",
		 "file:/sp/savepoint-9", 3 * 24 * 60 * MIN, {DEPLOY_WARN_STATE_AGE, -1}},
		{"resume, live: no savepoint, no initial: empty", "state: running|state: suspended", NULL, false, false,
		 F_SUSP_NONE, 60 * MIN, DEPLOY_STATE_EMPTY, "empty state (the suspend left no savepoint)", NULL, -1, {-1, -1}},
		{"resume, live: no savepoint: the initial one", INIT0 ";state: running|state: suspended", INIT0, false,
		 false, F_SUSP_NONE, 60 * MIN, DEPLOY_STATE_INITIAL, "(the suspend left no savepoint)", "s3://sp/savepoint-1",
		 -1, {-1, -1}},
		{"resume of a stateless job: empty", "state: running|state: suspended;upgradeMode: savepoint|upgradeMode: stateless",
		 "upgradeMode: savepoint|upgradeMode: stateless", false, false, F_SUSP, 60 * MIN, DEPLOY_STATE_EMPTY,
		 "a stateless job does not resume from its suspend savepoint", NULL, -1, {-1, -1}},
		{"suspend: the savepoint a resume starts from", NULL, "state: running|state: suspended", false, false, F_NONE,
		 0, DEPLOY_STATE_SAVEPOINT, "the savepoint the suspend takes when it stops the job; a resume starts from it",
		 NULL, -1, {-1, -1}},
		{"delete: the final savepoint", NULL, NULL, false, true, F_NONE, 0, DEPLOY_STATE_SAVEPOINT,
		 "the final savepoint the delete takes; its path is kept in the status file, nothing starts", NULL, -1,
		 {-1, -1}},
		{"labels only: no state line", NULL, "{team: a}|{team: b}", false, false, F_CK_OLD, 60 * MIN,
		 DEPLOY_STATE_NONE, NULL, NULL, -1, {-1, -1}},
		{"savepoint upgrade with allowNonRestoredState", ANRS0, "parallelism: 2|parallelism: 4" ANRS, false, false,
		 F_NONE, 0, DEPLOY_STATE_SAVEPOINT, "the savepoint the upgrade takes", NULL, -1,
		 {DEPLOY_WARN_NON_RESTORED_STATE, -1}},
	};
#undef LS
#undef P4
#undef ANRS
#undef INIT
#undef INIT0
#undef ANRS0
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *a_text = edited(rows[i].from), *b_text = edited(rows[i].to);
		side_holder a, b;
		load_side(&a, rows[i].base_absent ? NULL : a_text);
		load_side(&b, rows[i].head_absent ? NULL : b_text);
		deploy_change c;
		deploy_plan_change(&a.side, &b.side, NULL, &c);
		const deploy_state_facts *f = rows[i].f == F_NONE ? NULL : &facts[rows[i].f];
		deploy_plan_state(&c, &b.side, f, rows[i].max_age_ms, &c.state);
		const deploy_state *st = &c.state;
		if (st->from != rows[i].want)
			fail_msg("%s: from %s, want %s", rows[i].name, deploy_state_from_name(st->from),
				 deploy_state_from_name(rows[i].want));
		if (rows[i].text ? !st->text || !strstr(st->text, rows[i].text) : st->text != NULL)
			fail_msg("%s: text \"%s\"", rows[i].name, st->text ? st->text : "(none)");
		if (!fo_streq(st->path, rows[i].path) || st->age_ms != rows[i].age_ms)
			fail_msg("%s: path %s age %lld", rows[i].name, st->path ? st->path : "(none)", (long long)st->age_ms);
		size_t nwant = (rows[i].warn[0] >= 0) + (rows[i].warn[1] >= 0);
		if (st->nwarnings != nwant)
			fail_msg("%s: %zu warnings, want %zu (first: %s)", rows[i].name, st->nwarnings, nwant,
				 st->nwarnings ? st->warnings[0].text : "-");
		for (size_t w = 0; w < nwant; w++)
			if ((int)st->warnings[w].kind != rows[i].warn[w])
				fail_msg("%s: warning %zu is \"%s\"", rows[i].name, w, st->warnings[w].text);
		/* the JSON says the same */
		cJSON *j = deploy_state_json(st);
		if (rows[i].want == DEPLOY_STATE_NONE) {
			assert_null(j);
		} else {
			assert_string_equal(fo_json_str(j, "from"), deploy_state_from_name(rows[i].want));
			const cJSON *age = cJSON_GetObjectItemCaseSensitive(j, "ageSeconds");
			assert_true(rows[i].age_ms < 0 ? age == NULL : (age && age->valuedouble == (double)(rows[i].age_ms / 1000)));
		}
		cJSON_Delete(j);
		deploy_change_free(&c);
		free_side(&a);
		free_side(&b);
		free(a_text);
		free(b_text);
	}
	/* the age warning's words: the age, the limit and the flag */
	side_holder a, b;
	char *ls = edited("upgradeMode: savepoint|upgradeMode: last-state"),
	     *ls4 = edited("upgradeMode: savepoint|upgradeMode: last-state;parallelism: 2|parallelism: 4");
	load_side(&a, ls);
	load_side(&b, ls4);
	deploy_change c;
	deploy_plan_change(&a.side, &b.side, NULL, &c);
	deploy_plan_state(&c, &b.side, &facts[F_CK_OLD], 60 * MIN, &c.state);
	assert_int_equal(c.state.nwarnings, 1);
	assert_string_equal(c.state.warnings[0].text, "the state the job starts from is 2h00m old, older than 1h00m "
						      "(--max-state-age): the job resumes from that point");
	deploy_change_free(&c);
	free_side(&a);
	free_side(&b);
	free(ls);
	free(ls4);
}

/* An application cluster (local:// jar): the JobManager runs the job, so
 * the plan says what a restart of its pod starts the job from, and that a
 * suspend scales it to zero too. */
static void test_application_state_table(void **state)
{
	(void)state;
#define APP "jarURI: s3://b/j-1.jar|jarURI: local:///opt/flink/usrlib/job.jar"
#define HA ";state.backend.type: rocksdb|state.backend.type: rocksdb\n    high-availability.type: kubernetes\n" \
	   "    high-availability.storageDir: s3://b/ha"
#define ZK ";state.backend.type: rocksdb|state.backend.type: rocksdb\n    high-availability: zookeeper\n" \
	   "    high-availability.zookeeper.quorum: zk:2181\n    high-availability.storageDir: s3://b/ha"
#define BUMP ";image: flink:1.20|image: example/job:2"
#define STATELESS ";upgradeMode: savepoint|upgradeMode: stateless"
#define LAST ";upgradeMode: savepoint|upgradeMode: last-state"
#define SUSP ";state: running|state: suspended"
#define INIT ";state: running|state: running\n    initialSavepointPath: s3://sp/savepoint-1"
#define NEWEST "the newest checkpoint (Kubernetes HA): the JobManager runs the job itself and recovers it from its HA store"
	static const struct {
		const char *name;
		const char *from, *to;          /* edits of base */
		bool base_absent, head_absent;
		enum deploy_action action;
		const char *label;              /* a part of deploy_action_label */
		enum deploy_state_from want;
		const char *text;               /* a part of the state line */
		const char *jm;                 /* the whole JobManager restart line; NULL: none */
		int warning;                    /* a change warning kind that must be present, or -1 */
	} rows[] = {
		{"image bump, savepoint, Kubernetes HA", APP HA, APP HA BUMP, false, false, DEPLOY_UPGRADE,
		 "savepoint upgrade", DEPLOY_STATE_SAVEPOINT, "the savepoint the upgrade takes", NEWEST, -1},
		{"parallelism, last-state, Kubernetes HA", APP HA LAST, APP HA LAST ";parallelism: 2|parallelism: 4", false,
		 false, DEPLOY_UPGRADE, "last-state upgrade", DEPLOY_STATE_CHECKPOINT, "the newest checkpoint", NEWEST, -1},
		{"image bump, savepoint, ZooKeeper HA", APP ZK, APP ZK BUMP, false, false, DEPLOY_UPGRADE,
		 "savepoint upgrade", DEPLOY_STATE_SAVEPOINT, "the savepoint the upgrade takes",
		 "the newest checkpoint (ZooKeeper HA): the JobManager runs the job itself and recovers it from its HA store",
		 -1},
		{"image bump, stateless, no HA: empty again", APP STATELESS, APP STATELESS BUMP, false, false, DEPLOY_UPGRADE,
		 "stateless restart", DEPLOY_STATE_EMPTY, "empty state (state dropped",
		 "empty state again, not its newest checkpoint: the JobManager runs the job itself and, without high "
		 "availability, starts it from the state it started with",
		 DEPLOY_WARN_STATE_DROPPED},
		{"create, stateless, from initialSavepointPath, no HA", NULL, APP STATELESS INIT, true, false,
		 DEPLOY_CREATE, "create and start the job", DEPLOY_STATE_INITIAL, "job.initialSavepointPath",
		 "job.initialSavepointPath again, not its newest checkpoint: the JobManager runs the job itself and, "
		 "without high availability, starts it from the state it started with",
		 -1},
		{"create, Kubernetes HA", NULL, APP HA, true, false, DEPLOY_CREATE, "create and start the job",
		 DEPLOY_STATE_EMPTY, "empty state (a new job)", NEWEST, -1},
		{"suspend: the JobManager goes to zero too", APP HA, APP HA SUSP, false, false, DEPLOY_SUSPEND, "suspend",
		 DEPLOY_STATE_SAVEPOINT,
		 "the savepoint the suspend takes when it stops the job; the JobManager, which runs the job, is scaled to "
		 "zero with the TaskManagers; a resume starts from it",
		 NULL, -1},
		{"resume, Kubernetes HA", APP HA SUSP, APP HA, false, false, DEPLOY_RESUME, "resume",
		 DEPLOY_STATE_SUSPENDED, "the savepoint the suspend took", NEWEST, -1},
		{"delete: nothing runs after it", APP HA, NULL, false, true, DEPLOY_DELETE, "delete with a final savepoint",
		 DEPLOY_STATE_SAVEPOINT, "the final savepoint the delete takes", NULL, -1},
		{"a session cluster: no JobManager restart line", NULL, BUMP + 1, false, false, DEPLOY_UPGRADE,
		 "savepoint upgrade", DEPLOY_STATE_SAVEPOINT, "the savepoint the upgrade takes", NULL, -1},
		{"a session cluster suspends as before", NULL, SUSP + 1, false, false, DEPLOY_SUSPEND, "suspend",
		 DEPLOY_STATE_SAVEPOINT, "the savepoint the suspend takes when it stops the job; a resume starts from it",
		 NULL, -1},
	};
#undef APP
#undef HA
#undef ZK
#undef BUMP
#undef STATELESS
#undef LAST
#undef SUSP
#undef INIT
#undef NEWEST
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *a_text = edited(rows[i].from), *b_text = edited(rows[i].to);
		side_holder a, b;
		load_side(&a, rows[i].base_absent ? NULL : a_text);
		load_side(&b, rows[i].head_absent ? NULL : b_text);
		deploy_change c;
		deploy_plan_change(&a.side, &b.side, NULL, &c);
		const deploy_state *st = &c.state;
		if (c.action != rows[i].action)
			fail_msg("%s: action %s", rows[i].name, deploy_action_name(c.action));
		if (!strstr(deploy_action_label(c.action, &b.side, &a.side), rows[i].label))
			fail_msg("%s: label \"%s\"", rows[i].name, deploy_action_label(c.action, &b.side, &a.side));
		if (st->from != rows[i].want || !st->text || !strstr(st->text, rows[i].text))
			fail_msg("%s: from %s, text \"%s\"", rows[i].name, deploy_state_from_name(st->from),
				 st->text ? st->text : "(none)");
		if (!fo_streq(st->jm_restart, rows[i].jm))
			fail_msg("%s: JobManager restart \"%s\"", rows[i].name, st->jm_restart ? st->jm_restart : "(none)");
		bool warned = rows[i].warning < 0;
		for (size_t w = 0; w < c.nwarnings; w++)
			warned = warned || (int)c.warnings[w].kind == rows[i].warning;
		if (!warned)
			fail_msg("%s: no warning of kind %d", rows[i].name, rows[i].warning);
		/* the JSON says the same */
		cJSON *j = deploy_state_json(st);
		assert_non_null(j);
		const cJSON *jr = cJSON_GetObjectItemCaseSensitive(j, "jobManagerRestart");
		if (rows[i].jm)
			assert_string_equal(cJSON_GetStringValue(jr), rows[i].jm);
		else
			assert_null(jr);
		cJSON_Delete(j);
		deploy_change_free(&c);
		free_side(&a);
		free_side(&b);
		free(a_text);
		free(b_text);
	}
}

/* Drift: what the hashes cannot show, found by comparing with the cluster. */
static void test_drift_table(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		const char *head;       /* edit of base for the head side: "from|to", or NULL */
		bool base_absent;
		int k;                  /* the drifted object */
		const char *where;      /* the drift's path */
		enum deploy_action action;
		bool restarts_pods;
	} rows[] = {
		{"a replica count edited by hand: in place", NULL, false, RENDER_STATEFULSET_TASKMANAGER, "spec.replicas: 2 != 5",
		 DEPLOY_IN_PLACE, false},
		{"a pod template edited by hand: pods restart", NULL, false, RENDER_STATEFULSET_JOBMANAGER,
		 "spec.template.spec.containers[0].image: flink:1.20 != flink:1.19", DEPLOY_UPGRADE, true},
		{"a Service edited by hand: in place", NULL, false, RENDER_SERVICE_REST, "spec.ports[0].port: 8081 != 80",
		 DEPLOY_IN_PLACE, false},
		{"drift without a path: in place", NULL, false, RENDER_CONFIGMAP, "", DEPLOY_IN_PLACE, false},
		{"drift under a git upgrade: still the upgrade", "parallelism: 2|parallelism: 4", false,
		 RENDER_SERVICE_REST, "spec.type", DEPLOY_UPGRADE, true},
		{"template drift while suspended: in place, nothing runs", "state: running|state: suspended", false,
		 RENDER_STATEFULSET_JOBMANAGER, "spec.template.metadata.labels", DEPLOY_SUSPEND, false},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *head = fo_strdup(base);
		if (rows[i].head) {
			char *from = fo_strdup(rows[i].head);
			char *to = strchr(from, '|');
			*to++ = '\0';
			free(head);
			head = edit(from, to);
			free(from);
		}
		side_holder a, b;
		load_side(&a, base);
		load_side(&b, head);
		const char *drift[RENDER_NCOMPONENTS] = {0};
		drift[rows[i].k] = rows[i].where;
		deploy_change c;
		deploy_plan_change(&a.side, &b.side, drift, &c);
		if (c.action != rows[i].action || c.restarts_pods != rows[i].restarts_pods)
			fail_msg("%s: got %s pods=%d", rows[i].name, deploy_action_name(c.action), c.restarts_pods);
		deploy_change_free(&c);
		free_side(&a);
		free_side(&b);
		free(head);
	}
}

static void test_resume(void **state)
{
	(void)state;
	side_holder a, b;
	char *susp = edit("state: running", "state: suspended");
	load_side(&a, susp);
	load_side(&b, base);
	deploy_change c;
	deploy_classify(&a.side, &b.side, &c);
	assert_int_equal(c.action, DEPLOY_RESUME);
	assert_true(c.restarts_job);
	assert_false(c.takes_savepoint);
	deploy_change_free(&c);
	/* while suspended, other edits are applied without starting anything */
	char *susp2 = edit("state: running", "state: suspended");
	char *p = strstr(susp2, "memory: 2g");
	memcpy(p, "memory: 3g", 10);
	side_holder d;
	load_side(&d, susp2);
	deploy_classify(&a.side, &d.side, &c);
	assert_int_equal(c.action, DEPLOY_IN_PLACE);
	assert_false(c.restarts_job);
	deploy_change_free(&c);
	free_side(&a);
	free_side(&b);
	free_side(&d);
	free(susp);
	free(susp2);
}

/* The live side reads the same annotations back from objects. */
static void test_live_side_matches_rendered(void **state)
{
	(void)state;
	side_holder a;
	load_side(&a, base);
	cJSON *live[RENDER_NCOMPONENTS];
	for (int k = 0; k < RENDER_NCOMPONENTS; k++)
		live[k] = a.o.v[k];
	deploy_side l;
	deploy_side_from_live(&l, live);
	deploy_change c;
	deploy_classify(&l, &a.side, &c);
	assert_int_equal(c.action, DEPLOY_NONE);
	deploy_change_free(&c);
	/* an object missing in the cluster is an in-place repair */
	live[RENDER_SERVICE_REST] = NULL;
	deploy_side_from_live(&l, live);
	deploy_classify(&l, &a.side, &c);
	assert_int_equal(c.action, DEPLOY_IN_PLACE);
	assert_true(c.object_changed[RENDER_SERVICE_REST]);
	assert_false(c.object_changed[RENDER_CONFIGMAP]);
	deploy_change_free(&c);
	free_side(&a);
}

static void test_journal_round_trip(void **state)
{
	(void)state;
	deploy_journal j = {0};
	j.step = DEPLOY_STEP_SAVEPOINT_TAKEN;
	deploy_journal_set(&j.job_id, "a1b2");
	deploy_journal_set(&j.savepoint_path, "file:/sp/savepoint-1");
	deploy_journal_set(&j.target_commit, "0123abcd");
	j.restarts = 2;
	char *text = deploy_journal_encode(&j);
	deploy_journal k;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(deploy_journal_decode(text, &k, &e), 0);
	assert_int_equal(k.step, DEPLOY_STEP_SAVEPOINT_TAKEN);
	assert_string_equal(k.job_id, "a1b2");
	assert_string_equal(k.savepoint_path, "file:/sp/savepoint-1");
	assert_null(k.trigger_id);
	assert_int_equal(k.restarts, 2);
	char *again = deploy_journal_encode(&k);
	assert_string_equal(text, again); /* canonical: the same record, the same bytes */
	free(again);
	free(text);
	deploy_journal_clear(&j);
	deploy_journal_clear(&k);
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{"", "not a JSON object"},
		{"[]", "not a JSON object"},
		{"{\"version\":4,\"step\":\"idle\"}", "newer than this flinkops reads"},
		{"{\"version\":1,\"step\":\"dancing\"}", "step \"dancing\" is unknown"},
		{"{\"version\":1}", "step \"\" is unknown"},
		{"{\"version\":\"2\",\"step\":\"idle\"}", "no valid \"version\""},
		{"{\"version\":1.5,\"step\":\"idle\"}", "no valid \"version\""},
		/* far past int: refused, without converting it (undefined behaviour) */
		{"{\"version\":6.6e92,\"step\":\"idle\"}", "no valid \"version\""},
		{"{\"version\":-1e300,\"step\":\"idle\"}", "no valid \"version\""},
		{"{\"version\":9,\"step\":\"idle\"}", "of format 9, newer"},
		{"{\"step\":\"idle\"", "not a JSON object"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true(deploy_journal_decode(bad[i].text, &k, &e) < 0);
		if (!strstr(fo_err_msg(&e), bad[i].msg))
			fail_msg("journal %s: \"%s\" lacks \"%s\"", bad[i].text, fo_err_msg(&e), bad[i].msg);
		fo_err_clear(&e);
	}
	/* format 1 kept the state to start from in savepointPath only */
	assert_int_equal(deploy_journal_decode("{\"version\":1,\"step\":\"applied\",\"savepointPath\":\"file:/sp/1\"}", &k, &e),
			 0);
	assert_string_equal(k.restore_path, "file:/sp/1");
	deploy_journal_clear(&k);
	/* a long lastError is cut between characters, not inside one */
	fo_buf long_err = FO_BUF_INIT;
	fo_buf_puts(&long_err, "{\"version\":1,\"step\":\"failed\",\"lastError\":\"");
	for (int i = 0; i < 4095; i++)
		fo_buf_putc(&long_err, 'x');
	fo_buf_puts(&long_err, "\xc3\xa9 and more\"}");
	assert_int_equal(deploy_journal_decode(long_err.ptr, &k, &e), 0);
	assert_int_equal(strlen(k.last_error), 4095);
	deploy_journal_clear(&k);
	fo_buf_free(&long_err);
	char *id1 = deploy_submit_job_id("ns", "wc", "h1", 0, "u1"), *id2 = deploy_submit_job_id("ns", "wc", "h1", 0, "u1");
	char *id3 = deploy_submit_job_id("ns", "wc", "h1", 1, "u1");
	assert_int_equal(strlen(id1), 32);
	assert_string_equal(id1, id2);
	assert_string_not_equal(id1, id3);
	/* a deployment created again under its name (a new journal, a new
	 * uid) never gets its earlier life's job id */
	char *id4 = deploy_submit_job_id("ns", "wc", "h1", 0, "u2"), *id5 = deploy_submit_job_id("ns", "wc", "h1", 0, NULL);
	assert_string_not_equal(id1, id4);
	assert_string_not_equal(id1, id5);
	free(id1);
	free(id2);
	free(id3);
	free(id4);
	free(id5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_table),
		cmocka_unit_test(test_stateless_stop),
		cmocka_unit_test(test_scope_filter),
		cmocka_unit_test(test_drift_table),
		cmocka_unit_test(test_state_table),
		cmocka_unit_test(test_application_state_table),
		cmocka_unit_test(test_resume),
		cmocka_unit_test(test_live_side_matches_rendered),
		cmocka_unit_test(test_journal_round_trip),
	};
	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
