/*
 * Unit tests for FlinkSessionJobs and their session clusters in a pass
 * (deploy/deploy.h, deploy/rollout.h): which journal states keep a
 * cluster's pods from restarting, how a pass ties each session job to its
 * cluster (the cluster waits for running jobs, the jobs stop first and
 * start only on the cluster git renders), and the order of a delete (jobs
 * first, a cluster with an unreadable journal beside it never). The walk
 * through the edges: a job mid-stop, mid-start, failed, suspended, never
 * run, unreadable; another namespace's job of the same cluster name; a
 * cluster that is missing, failed or unread. No servers.
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
#include "deploy/rollout.h"
#include "lib/util.h"

/* Every step, with and without a job id, and an unreadable journal. */
static void test_holds_table(void **state)
{
	(void)state;
	static const struct {
		enum deploy_step step;
		bool job, bad, holds;
	} cases[] = {
		{DEPLOY_STEP_IDLE, true, false, true},             /* runs */
		{DEPLOY_STEP_IDLE, false, false, false},           /* never ran, or suspended */
		{DEPLOY_STEP_STOPPING, true, false, true},         /* a stop in flight */
		{DEPLOY_STEP_CANCELLING, true, false, true},
		{DEPLOY_STEP_SAVEPOINT_TAKEN, true, false, false}, /* its state is fixed */
		{DEPLOY_STEP_SAVEPOINT_TAKEN, false, false, false},
		{DEPLOY_STEP_APPLIED, false, false, false},        /* waits for the cluster */
		{DEPLOY_STEP_UPLOADED, false, false, true},        /* a start in flight */
		{DEPLOY_STEP_SUBMITTED, false, false, true},
		{DEPLOY_STEP_FAILED, true, false, true},           /* a job left to Flink */
		{DEPLOY_STEP_FAILED, false, false, false},
		{DEPLOY_STEP_IDLE, false, true, true},             /* unknown: holds */
		{DEPLOY_STEP_APPLIED, false, true, true},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(cases); i++) {
		deploy_journal j;
		memset(&j, 0, sizeof(j));
		j.step = cases[i].step;
		j.job_id = cases[i].job ? "0123456789abcdef0123456789abcdef" : NULL;
		bool got = deploy_session_job_holds(&j, cases[i].bad);
		if (got != cases[i].holds)
			fail_msg("case %zu (%s, job %d, bad %d): holds %d, want %d", i, deploy_step_name(cases[i].step),
				 cases[i].job, cases[i].bad, got, cases[i].holds);
	}
	/* every step is judged (none falls through to the default) */
	for (int s = 0; s < DEPLOY_NSTEPS; s++) {
		deploy_journal j;
		memset(&j, 0, sizeof(j));
		j.step = (enum deploy_step)s;
		(void)deploy_session_job_holds(&j, false);
	}
	assert_true(deploy_session_job_holds(NULL, false));
}

/* A pass of items, built by hand as deploy_reconcile_plan leaves them. */
typedef struct pass_builder {
	deploy_pass p;
	flink_deployment fds[8];
} pass_builder;

static deploy_item *add(pass_builder *b, const char *ns, const char *name, const char *cluster, bool in_git)
{
	/* the returned item is valid until the next add (the array moves) */
	b->p.items = fo_realloc(b->p.items, (b->p.n + 1) * sizeof(*b->p.items));
	deploy_item *it = &b->p.items[b->p.n];
	memset(it, 0, sizeof(*it));
	it->ns = strdup(ns);
	it->name = strdup(name);
	it->cluster = cluster ? strdup(cluster) : NULL;
	if (in_git)
		it->fd = &b->fds[b->p.n];
	b->p.n++;
	return it;
}

static void running(deploy_item *it, enum deploy_step step, bool job)
{
	it->journal.step = step;
	it->journal.job_id = job ? strdup("0123456789abcdef0123456789abcdef") : NULL;
}

/* The cluster restarts: it waits for exactly the jobs that run or start on
 * it, which stop first; the jobs wait for the cluster git renders. */
static void test_link_cluster_restarts(void **state)
{
	(void)state;
	pass_builder b;
	memset(&b, 0, sizeof(b));
	add(&b, "ns", "sess", NULL, true);
	b.p.items[0].change.restarts_pods = true;
	b.p.items[0].state[RENDER_STATEFULSET_TASKMANAGER] = DEPLOY_OBJ_CHANGED;
	running(add(&b, "ns", "a", "sess", true), DEPLOY_STEP_IDLE, true);      /* runs: holds */
	running(add(&b, "ns", "b", "sess", true), DEPLOY_STEP_APPLIED, false);  /* stopped: no */
	running(add(&b, "ns", "c", "sess", true), DEPLOY_STEP_IDLE, false);     /* suspended: no */
	running(add(&b, "ns", "d", "sess", true), DEPLOY_STEP_SUBMITTED, false); /* starting: holds */
	add(&b, "ns", "e", "sess", true)->journal_bad = true;                      /* unknown: holds */
	running(add(&b, "other", "f", "sess", true), DEPLOY_STEP_IDLE, true);   /* another namespace's sess */
	running(add(&b, "ns", "g", "sess", false), DEPLOY_STEP_IDLE, true);     /* gone from git, still runs */
	deploy_link_session_jobs(&b.p);
	deploy_item *v = b.p.items;
	assert_non_null(v[0].held_by);
	assert_string_equal(v[0].held_by, "a, d, e, g");
	for (size_t i = 1; i <= 5; i++) {
		assert_true(v[i].cluster_pending);
		assert_true(v[i].cluster_restarts); /* each stops with a savepoint first */
	}
	/* the other namespace has no such cluster in the pass: it waits, and
	 * no restart is charged to it */
	assert_true(v[6].cluster_pending);
	assert_false(v[6].cluster_restarts);
	/* a job gone from git stops with its final savepoint anyway: no upgrade */
	assert_false(v[7].cluster_restarts);
	deploy_pass_free(&b.p);
}

/* A cluster that failed in planning (here: jobs no FlinkSessionJob manages
 * hold its restart) is not applied: its session jobs wait for it but are not
 * stopped for a restart that will not come, and nothing holds it. */
static void test_link_cluster_failed(void **state)
{
	(void)state;
	pass_builder b;
	memset(&b, 0, sizeof(b));
	add(&b, "ns", "sess", NULL, true);
	b.p.items[0].change.restarts_pods = true;
	b.p.items[0].state[RENDER_STATEFULSET_TASKMANAGER] = DEPLOY_OBJ_CHANGED;
	b.p.items[0].error = fo_strdup("its pods would restart under jobs that no FlinkSessionJob manages");
	running(add(&b, "ns", "a", "sess", true), DEPLOY_STEP_IDLE, true);
	deploy_link_session_jobs(&b.p);
	assert_null(b.p.items[0].held_by);
	assert_true(b.p.items[1].cluster_pending);
	assert_false(b.p.items[1].cluster_restarts);
	deploy_pass_free(&b.p);
}

/* Objects change without restarting pods (a Service): nothing waits on
 * anything but the jobs' starts; a cluster at git's objects: nothing. */
static void test_link_no_restart(void **state)
{
	(void)state;
	pass_builder b;
	memset(&b, 0, sizeof(b));
	add(&b, "ns", "sess", NULL, true)->state[RENDER_SERVICE_REST] = DEPLOY_OBJ_DRIFTED;
	running(add(&b, "ns", "a", "sess", true), DEPLOY_STEP_IDLE, true);
	add(&b, "ns", "quiet", NULL, true);
	running(add(&b, "ns", "q", "quiet", true), DEPLOY_STEP_IDLE, true);
	deploy_link_session_jobs(&b.p);
	deploy_item *v = b.p.items;
	assert_null(v[0].held_by);
	assert_true(v[1].cluster_pending);
	assert_false(v[1].cluster_restarts);
	assert_null(v[2].held_by);
	assert_false(v[3].cluster_pending);
	assert_false(v[3].cluster_restarts);
	deploy_pass_free(&b.p);
}

/* The TaskManagers shrink (a job suspended or deleted needs its slots no
 * more): the cluster waits for the stopping jobs only. */
static void test_link_shrink(void **state)
{
	(void)state;
	pass_builder b;
	memset(&b, 0, sizeof(b));
	add(&b, "ns", "sess", NULL, true);
	b.p.items[0].tm_shrinks = true;
	b.p.items[0].state[RENDER_STATEFULSET_TASKMANAGER] = DEPLOY_OBJ_CHANGED;
	running(add(&b, "ns", "keeps", "sess", true), DEPLOY_STEP_IDLE, true);     /* runs on: no */
	running(add(&b, "ns", "suspends", "sess", true), DEPLOY_STEP_IDLE, true);  /* still runs: holds */
	b.fds[2].job.state = FLINK_STATE_SUSPENDED;
	running(add(&b, "ns", "stopped", "sess", true), DEPLOY_STEP_IDLE, false);  /* suspended: no */
	b.fds[3].job.state = FLINK_STATE_SUSPENDED;
	running(add(&b, "ns", "gone", "sess", false), DEPLOY_STEP_STOPPING, true); /* final stop in flight: holds */
	deploy_link_session_jobs(&b.p);
	assert_non_null(b.p.items[0].held_by);
	assert_string_equal(b.p.items[0].held_by, "suspends, gone");
	assert_false(b.p.items[1].cluster_restarts); /* a shrink restarts no job */
	b.p.items[0].state[RENDER_STATEFULSET_TASKMANAGER] = DEPLOY_OBJ_EQUAL;
	free(b.p.items[0].held_by);
	b.p.items[0].held_by = NULL;
	deploy_link_session_jobs(&b.p); /* applied already: nothing to wait for */
	assert_null(b.p.items[0].held_by);
	deploy_pass_free(&b.p);
}

/* A cluster whose item failed to render, or was not read: its jobs wait. */
static void test_link_cluster_unknown(void **state)
{
	(void)state;
	pass_builder b;
	memset(&b, 0, sizeof(b));
	add(&b, "ns", "broken", NULL, true)->error = strdup("does not render");
	running(add(&b, "ns", "a", "broken", true), DEPLOY_STEP_APPLIED, false);
	add(&b, "ns", "unread", NULL, true)->unread = true;
	running(add(&b, "ns", "b", "unread", true), DEPLOY_STEP_APPLIED, false);
	deploy_link_session_jobs(&b.p);
	assert_true(b.p.items[1].cluster_pending);
	assert_true(b.p.items[3].cluster_pending);
	deploy_pass_free(&b.p);
}

/* A cluster gone from git goes after its jobs; an unreadable journal of its
 * namespace keeps it, and another namespace's does not. */
static void test_delete_order(void **state)
{
	(void)state;
	pass_builder b;
	memset(&b, 0, sizeof(b));
	add(&b, "ns", "sess", NULL, false);
	add(&b, "ns", "a", "sess", false);
	add(&b, "ns", "x", "other", false);
	char *on = deploy_session_jobs_on(&b.p, &b.p.items[0]);
	assert_non_null(on);
	assert_string_equal(on, "a");
	free(on);
	b.p.items[1].deleted = true;
	assert_null(deploy_session_jobs_on(&b.p, &b.p.items[0]));
	add(&b, "ns", "mystery", NULL, false)->journal_bad = true;
	on = deploy_session_jobs_on(&b.p, &b.p.items[0]);
	assert_non_null(on);
	assert_string_equal(on, "mystery (its journal cannot be read)");
	free(on);
	/* one with objects of its own is a FlinkDeployment's, not a session job's */
	b.p.items[3].live[RENDER_CONFIGMAP] = cJSON_CreateObject();
	assert_null(deploy_session_jobs_on(&b.p, &b.p.items[0]));
	b.p.items[3].journal_bad = false;
	add(&b, "other-ns", "z", NULL, false)->journal_bad = true;
	assert_null(deploy_session_jobs_on(&b.p, &b.p.items[0]));
	deploy_pass_free(&b.p);
}

/* Which jobs would die with a session cluster gone from git, unsaved: every
 * one not globally terminal, a state this client does not know included. */
static void test_unmanaged_jobs(void **state)
{
	(void)state;
	flink_job_info v[] = {
		{.id = "aa", .name = "by hand", .state = FLINK_JOB_RUNNING},
		{.id = "bb", .state = FLINK_JOB_FINISHED},
		{.id = "cc", .state = FLINK_JOB_CANCELED},
		{.id = "dd", .state = FLINK_JOB_FAILED},
		{.id = "ee", .state = FLINK_JOB_SUSPENDED},
		{.id = "ff", .state = FLINK_JOB_UNKNOWN, .state_name = "NEW_STATE"},
		{.id = "gg", .name = "queued", .state = FLINK_JOB_CREATED},
		{.id = "hh", .state = FLINK_JOB_RESTARTING},
	};
	flink_job_list all = {v, FO_ARRAY_LEN(v)};
	char *s = deploy_unmanaged_jobs(&all, NULL, 0, true);
	assert_string_equal(s, "aa (by hand, RUNNING), ee (SUSPENDED), ff (NEW_STATE), gg (queued, CREATED), hh (RESTARTING)");
	free(s);
	/* a status message names them without their states: a flapping job
	 * would change the status file on every flip */
	s = deploy_unmanaged_jobs(&all, NULL, 0, false);
	assert_string_equal(s, "aa (by hand), ee, ff, gg (queued), hh");
	free(s);
	v[0].state = FLINK_JOB_RESTARTING;
	s = deploy_unmanaged_jobs(&all, NULL, 0, false);
	assert_string_equal(s, "aa (by hand), ee, ff, gg (queued), hh");
	free(s);
	v[0].state = FLINK_JOB_RUNNING;
	/* the session jobs' own (their journals' job ids) are managed, running or not */
	const char *managed[] = {"gg", NULL, "aa", "zz"};
	s = deploy_unmanaged_jobs(&all, managed, FO_ARRAY_LEN(managed), true);
	assert_string_equal(s, "ee (SUSPENDED), ff (NEW_STATE), hh (RESTARTING)");
	free(s);
	flink_job_list ended = {v + 1, 3}; /* our own session jobs, stopped with their final savepoints */
	assert_null(deploy_unmanaged_jobs(&ended, NULL, 0, true));
	flink_job_list none = {NULL, 0};
	assert_null(deploy_unmanaged_jobs(&none, managed, 2, false));
	assert_null(deploy_unmanaged_jobs(NULL, NULL, 0, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_holds_table),
		cmocka_unit_test(test_link_cluster_restarts),
		cmocka_unit_test(test_link_no_restart),
		cmocka_unit_test(test_link_cluster_failed),
		cmocka_unit_test(test_link_shrink),
		cmocka_unit_test(test_link_cluster_unknown),
		cmocka_unit_test(test_delete_order),
		cmocka_unit_test(test_unmanaged_jobs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
