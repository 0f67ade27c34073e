/*
 * Unit tests for the status policy (deploy/status.c): a table of what one
 * pass did with a deployment and the status file it leaves (phase,
 * observedCommit, message, job), and a rollout told pass by pass — create,
 * upgrade through a savepoint, a restart from a checkpoint — checking the
 * history's lineage after each: which job ran which commit, the state it
 * started from, the savepoint it stopped with.
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
#include "flink/status.h"

#define C1 "1111111111111111111111111111111111111111"
#define C2 "2222222222222222222222222222222222222222"

/* One row: what the pass saw, and what the status must say after it. */
typedef struct row {
	const char *what;
	bool gone;                 /* the deployment is gone from git (fd NULL) */
	bool deleted;
	bool no_job;               /* a session cluster: objects only */
	bool suspended;            /* job.state suspended in git */
	enum deploy_outcome outcome;
	const char *error, *waiting;
	bool late;
	bool job_running;
	const char *item_hash;     /* the rendered job hash */
	enum deploy_step step;
	const char *j_hash, *j_job, *j_error;
	int j_restarts;
	const char *blob;          /* the manifest's blob in this pass */
	/* the status before */
	enum flink_phase before;
	const char *before_observed;
	/* expected */
	enum flink_phase phase;
	const char *observed;      /* NULL: none */
	const char *message;       /* a part of it; NULL: no message */
	const char *job_id;
	bool rolled_back;          /* the pass ran C1's spec again: git's (C2's) failed */
	const char *failed;        /* expected failedCommit */
} row;

static const row rows[] = {
	{"not attempted: phase and observedCommit stand", .outcome = DEPLOY_OUTCOME_NOT_ATTEMPTED,
	 .before = FLINK_PHASE_RUNNING, .before_observed = C1, .phase = FLINK_PHASE_RUNNING, .observed = C1,
	 .message = "not attempted in the last pass: the API server is unreachable"},
	{"failed: the error", .outcome = DEPLOY_OUTCOME_FAILED, .error = "apply: 422", .before = FLINK_PHASE_RUNNING,
	 .before_observed = C1, .phase = FLINK_PHASE_FAILED, .observed = C1, .message = "apply: 422"},
	{"waiting on a first job: Deploying", .outcome = DEPLOY_OUTCOME_WAITING, .waiting = "JobManager pods",
	 .phase = FLINK_PHASE_DEPLOYING, .message = "waiting: JobManager pods"},
	{"waiting with a job before: Upgrading, late said", .outcome = DEPLOY_OUTCOME_WAITING,
	 .waiting = "savepoint", .late = true, .j_hash = "h0", .before = FLINK_PHASE_RUNNING,
	 .before_observed = C1, .phase = FLINK_PHASE_UPGRADING, .observed = C1,
	 .message = "waiting: savepoint (past its timeout; still waited for)"},
	{"a first job RUNNING, its first checkpoint pending: Deploying", .outcome = DEPLOY_OUTCOME_WAITING,
	 .waiting = "the first checkpoint of job job1", .j_hash = "h1", .j_job = "job1", .phase = FLINK_PHASE_DEPLOYING,
	 .message = "waiting: the first checkpoint"},
	{"settled objects only: Running at the commit", .no_job = true, .outcome = DEPLOY_OUTCOME_SETTLED,
	 .phase = FLINK_PHASE_RUNNING, .observed = C2},
	{"settled, journal failed: Failed with its error", .outcome = DEPLOY_OUTCOME_SETTLED,
	 .step = DEPLOY_STEP_FAILED, .j_error = "savepoint failed", .before = FLINK_PHASE_UPGRADING,
	 .before_observed = C1, .phase = FLINK_PHASE_FAILED, .observed = C1, .message = "savepoint failed"},
	{"settled and suspended: Suspended at the commit", .suspended = true, .outcome = DEPLOY_OUTCOME_SETTLED,
	 .phase = FLINK_PHASE_SUSPENDED, .observed = C2, .message = "suspended in git"},
	{"the target's job seen RUNNING: Running at the commit", .outcome = DEPLOY_OUTCOME_SETTLED,
	 .job_running = true, .item_hash = "h1", .j_hash = "h1", .j_job = "job1", .phase = FLINK_PHASE_RUNNING,
	 .observed = C2, .job_id = "job1"},
	{"restarted in an earlier pass, healthy now: Running, and says it was restarted",
	 .outcome = DEPLOY_OUTCOME_SETTLED, .job_running = true, .item_hash = "h1", .j_hash = "h1", .j_job = "job2",
	 .j_restarts = 1, .phase = FLINK_PHASE_RUNNING, .observed = C2, .job_id = "job2",
	 .message = "ended outside flinkops and was started again from its newest state (1 restart of this version)"},
	{"an old job RUNNING is not the target's: not Running", .outcome = DEPLOY_OUTCOME_SETTLED,
	 .job_running = true, .item_hash = "h2", .j_hash = "h1", .j_job = "job1", .before = FLINK_PHASE_RUNNING,
	 .before_observed = C1, .phase = FLINK_PHASE_DEPLOYING, .observed = C1,
	 .message = "the job is not observed running"},
	{"a status commit (same blob) does not move the source commit", .outcome = DEPLOY_OUTCOME_SETTLED,
	 .job_running = true, .item_hash = "h1", .j_hash = "h1", .j_job = "job1", .blob = "b0",
	 .before = FLINK_PHASE_RUNNING, .before_observed = C1, .phase = FLINK_PHASE_RUNNING, .observed = C1,
	 .job_id = "job1"},
	{"rolled back: RolledBack, observed the commit whose spec runs, the failed one named",
	 .outcome = DEPLOY_OUTCOME_SETTLED, .job_running = true, .item_hash = "h1", .j_hash = "h1", .j_job = "job3",
	 .rolled_back = true, .before = FLINK_PHASE_UPGRADING, .before_observed = C1,
	 .phase = FLINK_PHASE_ROLLED_BACK, .observed = C1, .job_id = "job3", .failed = C2, /* the file's commit */
	 .message = "the spec of commit 2222222 did not become healthy and was rolled back to commit 1111111, which runs "
		    "again from file:/sp/savepoint-up: no checkpoint within 300s"},
	{"rolling back, the job not yet running: Upgrading", .outcome = DEPLOY_OUTCOME_WAITING,
	 .waiting = "rolling back to commit 1111111", .j_hash = "h2", .rolled_back = true,
	 .before = FLINK_PHASE_UPGRADING, .before_observed = C1, .phase = FLINK_PHASE_UPGRADING, .observed = C1,
	 .message = "waiting: rolling back to commit 1111111"},
	{"gone and deleted: Deleted", .gone = true, .deleted = true, .outcome = DEPLOY_OUTCOME_SETTLED,
	 .before = FLINK_PHASE_RUNNING, .before_observed = C1, .phase = FLINK_PHASE_DELETED, .observed = C2,
	 .message = "objects were deleted"},
	{"gone, final savepoint pending: phase stands", .gone = true, .outcome = DEPLOY_OUTCOME_WAITING,
	 .waiting = "savepoint", .before = FLINK_PHASE_RUNNING, .before_observed = C1,
	 .phase = FLINK_PHASE_RUNNING, .observed = C1, .message = "deleting after its final savepoint: savepoint"},
};

static void test_policy_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const row *r = &rows[i];
		flink_deployment fd;
		memset(&fd, 0, sizeof(fd));
		fd.source = (char *)"jobs/wc.yaml";
		fd.has_job = !r->no_job;
		fd.job.state = r->suspended ? FLINK_STATE_SUSPENDED : FLINK_STATE_RUNNING;
		deploy_item it;
		memset(&it, 0, sizeof(it));
		it.fd = r->gone ? NULL : &fd;
		it.deleted = r->deleted;
		it.outcome = r->outcome;
		it.error = (char *)r->error;
		it.waiting = (char *)r->waiting;
		it.late = r->late;
		it.job_running = r->job_running;
		it.job_hash = (char *)r->item_hash;
		it.journal.step = r->step;
		it.journal.target_job_hash = (char *)r->j_hash;
		it.journal.job_id = (char *)r->j_job;
		it.journal.last_error = (char *)r->j_error;
		it.journal.restarts = r->j_restarts;
		it.journal.target_restarts = r->j_restarts;
		if (r->rolled_back) {
			fd.spec_commit = (char *)C1;
			it.journal.target_commit = (char *)C1;
			it.journal.rollback_of_hash = (char *)"h2";
			it.journal.rollback_of_commit = (char *)C2;
			it.journal.rollback_cause = (char *)"no checkpoint within 300s";
			it.journal.started_from = (char *)"file:/sp/savepoint-up";
		}

		flink_status *s = flink_status_new("default", "wc");
		s->phase = r->before;
		flink_status_set(&s->observed_commit, r->before_observed);
		flink_status_set(&s->source.path, "jobs/wc.yaml");
		flink_status_set(&s->source.blob, "b0");
		flink_status_set(&s->source.commit, C1);
		deploy_status_update(s, &it, r->blob ? r->blob : "b1", C2, true,
				     "the API server is unreachable");
		if (s->phase != r->phase)
			fail_msg("%s: phase %s, want %s", r->what, flink_phase_name(s->phase), flink_phase_name(r->phase));
		if (!fo_streq(s->observed_commit, r->observed))
			fail_msg("%s: observedCommit %s, want %s", r->what, s->observed_commit ? s->observed_commit : "none",
				 r->observed ? r->observed : "none");
		if (r->message ? !s->message || !strstr(s->message, r->message) : s->message != NULL)
			fail_msg("%s: message \"%s\", want \"%s\"", r->what, s->message ? s->message : "(none)",
				 r->message ? r->message : "(none)");
		if (!fo_streq(s->failed_commit, r->failed))
			fail_msg("%s: failedCommit %s, want %s", r->what, s->failed_commit ? s->failed_commit : "none",
				 r->failed ? r->failed : "none");
		if (r->job_id && !fo_streq(s->job.id, r->job_id))
			fail_msg("%s: job %s, want %s", r->what, s->job.id ? s->job.id : "none", r->job_id);
		flink_status_free(s);
	}
}

/* Issue 20.7: a deployment deleted from git records the state kept — the
 * newest checkpoint of a job that had already ended included — before its
 * journal goes, whatever the reason that state was recorded for. */
static void test_deleted_records_final_state(void **state)
{
	(void)state;
	static const struct {
		const char *path, *reason;
		enum flink_savepoint_reason want;
	} cases[] = {
		{"file:/ck/chk-9", "delete", FLINK_SAVEPOINT_DELETE},          /* the ended job's newest checkpoint */
		{"file:/sp/savepoint-up", "upgrade", FLINK_SAVEPOINT_UPGRADE}, /* a start in flight: its state */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		deploy_item it;
		memset(&it, 0, sizeof(it));
		it.outcome = DEPLOY_OUTCOME_SETTLED;
		it.deleted = true;
		it.journal.savepoint_path = (char *)cases[i].path;
		it.journal.savepoint_time = (char *)"2026-12-06T09:59:00Z";
		it.journal.savepoint_reason = (char *)cases[i].reason;
		flink_status *s = flink_status_new("default", "wc");
		s->phase = FLINK_PHASE_RUNNING;
		flink_status_set(&s->last_savepoint.path, "file:/sp/last-week");
		s->last_savepoint.reason = FLINK_SAVEPOINT_PERIODIC;
		deploy_status_update(s, &it, "b1", C2, true, NULL);
		assert_int_equal(s->phase, FLINK_PHASE_DELETED);
		assert_string_equal(s->last_savepoint.path, cases[i].path);
		assert_string_equal(s->last_savepoint.time, "2026-12-06T09:59:00Z");
		assert_int_equal(s->last_savepoint.reason, cases[i].want);
		flink_status_free(s);
	}
}

/* One pass of the lineage story: the journal after it and what the pass saw. */
typedef struct pass {
	const char *what, *commit, *blob, *now;
	enum deploy_outcome outcome;
	const char *hash, *job;
	bool running;
	const char *waiting;
	const char *sp_path, *sp_time, *sp_reason; /* the journal's savepoint */
	const char *from, *from_kind, *from_time;  /* the journal's startedFrom */
	/* expected: entries, and the newest entry */
	size_t nhistory;
	enum flink_phase top_phase;
	const char *top_job, *top_kind, *top_from;
	/* the entry naming `stopped_job` has stoppedWith `stopped_with` */
	const char *stopped_job, *stopped_with;
	long age;                                  /* the newest entry's state age; -1 unknown */
} pass;

static const pass story[] = {
	{"created: job1 runs from empty state", C1, "b1", "2026-12-01T10:00:00Z", DEPLOY_OUTCOME_SETTLED, "h1",
	 "job1", true, NULL, NULL, NULL, NULL, NULL, "none", NULL, 1, FLINK_PHASE_RUNNING, "job1", "empty", NULL,
	 NULL, NULL, -1},
	{"seen again: no new entry", C1, "b1", "2026-12-01T10:01:00Z", DEPLOY_OUTCOME_SETTLED, "h1", "job1", true,
	 NULL, NULL, NULL, NULL, NULL, "none", NULL, 1, FLINK_PHASE_RUNNING, "job1", "empty", NULL, NULL, NULL, -1},
	{"upgrade: the stop's savepoint is job1's stoppedWith", C2, "b2", "2026-12-01T11:00:00Z",
	 DEPLOY_OUTCOME_WAITING, "h2", "job1", false, "JobManager", "file:/sp/savepoint-1", "2026-12-01T10:59:58Z",
	 "upgrade", NULL, "none", NULL, 2, FLINK_PHASE_UPGRADING, NULL, NULL, NULL, "job1", "file:/sp/savepoint-1",
	 -1},
	{"job2 runs commit 2 from that savepoint, 4 s old at its start", C2, "b2", "2026-12-01T11:00:02Z",
	 DEPLOY_OUTCOME_SETTLED, "h2", "job2", true, NULL, "file:/sp/savepoint-1", "2026-12-01T10:59:58Z", "upgrade",
	 "file:/sp/savepoint-1", "savepoint", "2026-12-01T10:59:58Z", 3, FLINK_PHASE_RUNNING, "job2", "savepoint",
	 "file:/sp/savepoint-1", "job1", "file:/sp/savepoint-1", 4},
	{"job2 ended on its own; job3 restarts it from a checkpoint", C2, "b2", "2026-12-01T12:00:00Z",
	 DEPLOY_OUTCOME_SETTLED, "h2", "job3", true, NULL, "file:/sp/savepoint-1", "2026-12-01T10:59:58Z", "upgrade",
	 "file:/ck/chk-40", "checkpoint", "2026-12-01T11:59:30Z", 4, FLINK_PHASE_RUNNING, "job3", "checkpoint",
	 "file:/ck/chk-40", "job2", NULL, 30},
};

/* Flink's own restarts of the running job: what Flink said stands; a new
 * job starts from none; a pass that could not ask keeps the last count. */
static void test_policy_flink_restarts(void **state)
{
	(void)state;
	static const struct {
		const char *what;
		const char *before_job;
		long long before;
		bool known;
		long long seen;
		const char *job;
		long long want;
	} cases[] = {
		{"first seen: Flink's count", NULL, 0, true, 2, "job2", 2},
		{"the same job restarted again", "job2", 2, true, 3, "job2", 3},
		{"unknown this pass: the count stands", "job2", 3, false, 0, "job2", 3},
		{"a new job: its own count", "job1", 5, true, 0, "job2", 0},
		{"a new job, its count unknown: none yet", "job1", 5, false, 0, "job2", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flink_deployment fd;
		memset(&fd, 0, sizeof(fd));
		fd.source = (char *)"jobs/wc.yaml";
		fd.has_job = true;
		fd.job.state = FLINK_STATE_RUNNING;
		deploy_item it;
		memset(&it, 0, sizeof(it));
		it.fd = &fd;
		it.outcome = DEPLOY_OUTCOME_SETTLED;
		it.job_running = true;
		it.job_hash = (char *)"h2";
		it.flink_restarts_known = cases[i].known;
		it.flink_restarts = cases[i].seen;
		it.journal.target_job_hash = (char *)"h2";
		it.journal.job_id = (char *)cases[i].job;
		flink_status *s = flink_status_new("default", "wc");
		s->phase = FLINK_PHASE_RUNNING;
		flink_status_set(&s->job.id, cases[i].before_job);
		s->job.restarts = cases[i].before;
		deploy_status_update(s, &it, "b1", C2, true, NULL);
		if (s->phase != FLINK_PHASE_RUNNING || !fo_streq(s->job.id, cases[i].job) || s->job.restarts != cases[i].want)
			fail_msg("%s: phase %s job %s restarts %lld, want Running %s %lld", cases[i].what,
				 flink_phase_name(s->phase), s->job.id ? s->job.id : "none", s->job.restarts, cases[i].job,
				 cases[i].want);
		flink_status_free(s);
	}
}

static void test_lineage_story(void **state)
{
	(void)state;
	flink_status *s = flink_status_new("default", "wc");
	flink_deployment fd;
	memset(&fd, 0, sizeof(fd));
	fd.source = (char *)"jobs/wc.yaml";
	fd.has_job = true;
	for (size_t i = 0; i < sizeof(story) / sizeof(story[0]); i++) {
		const pass *p = &story[i];
		deploy_item it;
		memset(&it, 0, sizeof(it));
		it.fd = &fd;
		it.outcome = p->outcome;
		it.job_hash = (char *)p->hash;
		it.job_running = p->running;
		it.waiting = (char *)p->waiting;
		deploy_journal *j = &it.journal;
		j->target_job_hash = (char *)(p->running ? p->hash : "h1");
		j->job_id = (char *)p->job;
		j->savepoint_path = (char *)p->sp_path;
		j->savepoint_time = (char *)p->sp_time;
		j->savepoint_reason = (char *)p->sp_reason;
		j->started_from = (char *)p->from;
		j->started_from_kind = (char *)p->from_kind;
		j->started_from_time = (char *)p->from_time;

		int before = (int)s->phase;
		char *before_sp = s->last_savepoint.path ? strdup(s->last_savepoint.path) : NULL;
		deploy_status_update(s, &it, p->blob, p->commit, true, NULL);
		deploy_status_history(s, before, before_sp, &it, p->now);
		free(before_sp);

		if (s->nhistory != p->nhistory)
			fail_msg("%s: %zu entries, want %zu", p->what, s->nhistory, p->nhistory);
		const flink_status_history *h = &s->history[0];
		assert_int_equal(h->phase, p->top_phase);
		if (!fo_streq(h->job_id, p->top_job) || !fo_streq(h->started_from.kind, p->top_kind) ||
		    !fo_streq(h->started_from.path, p->top_from))
			fail_msg("%s: newest entry job %s from %s %s", p->what, h->job_id ? h->job_id : "-",
				 h->started_from.kind ? h->started_from.kind : "-",
				 h->started_from.path ? h->started_from.path : "-");
		assert_string_equal(h->commit, p->commit);
		assert_int_equal(flink_status_seconds_between(h->started_from.time, h->time), p->age);
		if (p->stopped_job) {
			bool found = false;
			for (size_t k = 0; k < s->nhistory; k++)
				if (fo_streq(s->history[k].job_id, p->stopped_job)) {
					found = true;
					if (!fo_streq(s->history[k].stopped_with.path, p->stopped_with))
						fail_msg("%s: %s stopped with %s, want %s", p->what, p->stopped_job,
							 s->history[k].stopped_with.path ? s->history[k].stopped_with.path
											 : "none",
							 p->stopped_with ? p->stopped_with : "none");
				}
			if (!found)
				fail_msg("%s: no entry names %s", p->what, p->stopped_job);
		}
		/* what is written reads back the same */
		fo_buf a = FO_BUF_INIT, b = FO_BUF_INIT;
		flink_status_write(s, &a);
		flink_status *back = NULL;
		fo_err e = FO_ERR_INIT;
		if (flink_status_parse("x.yaml", a.ptr, a.len, &back, &e) < 0)
			fail_msg("%s: %s", p->what, fo_err_msg(&e));
		flink_status_write(back, &b);
		assert_string_equal(fo_buf_cstr(&a), fo_buf_cstr(&b));
		flink_status_free(back);
		fo_buf_free(&a);
		fo_buf_free(&b);
	}
	flink_status_free(s);
}

/*
 * Status files change only when something observable changes. A deployment
 * that waits (a slow savepoint, pods rolling out, a new job starting, its
 * first checkpoint) is decided again on every re-check, 1 s apart in `sync
 * --once` and 3 s in the agent; the age of the wait moves on each time and
 * must never reach the file, or every re-check is a status commit.
 */
typedef struct wait_case {
	const char *what;
	enum deploy_step step;
	enum flink_job_status job;        /* the job Flink reports */
	enum deploy_trigger_obs trigger;  /* the stop's savepoint */
	enum deploy_trigger_obs request;  /* a savepoint asked of the running job */
	int pods_ready;
	bool flink_down;                  /* the JobManager's REST API does not answer yet */
	int slots;
	bool await;                       /* IDLE, the new job awaits its first checkpoint */
	bool gone;                        /* gone from git: the final savepoint is waited for */
} wait_case;

static const wait_case wait_cases[] = {
	{"an upgrade's savepoint in progress", DEPLOY_STEP_STOPPING, FLINK_JOB_RUNNING, DEPLOY_TRIGGER_IN_PROGRESS,
	 DEPLOY_TRIGGER_NONE, 1, false, 4, false, false},
	{"a final savepoint in progress", DEPLOY_STEP_STOPPING, FLINK_JOB_RUNNING, DEPLOY_TRIGGER_IN_PROGRESS,
	 DEPLOY_TRIGGER_NONE, 1, false, 4, false, true},
	{"a manual savepoint in progress", DEPLOY_STEP_IDLE, FLINK_JOB_RUNNING, DEPLOY_TRIGGER_NONE,
	 DEPLOY_TRIGGER_IN_PROGRESS, 1, false, 4, false, false},
	{"the pods rolling out", DEPLOY_STEP_APPLIED, FLINK_JOB_RUNNING, DEPLOY_TRIGGER_NONE, DEPLOY_TRIGGER_NONE, 0,
	 false, 4, false, false},
	{"the JobManager starting", DEPLOY_STEP_APPLIED, FLINK_JOB_RUNNING, DEPLOY_TRIGGER_NONE, DEPLOY_TRIGGER_NONE, 1,
	 true, 0, false, false},
	{"task slots", DEPLOY_STEP_APPLIED, FLINK_JOB_RUNNING, DEPLOY_TRIGGER_NONE, DEPLOY_TRIGGER_NONE, 1, false, 1,
	 false, false},
	{"the new job INITIALIZING", DEPLOY_STEP_SUBMITTED, FLINK_JOB_INITIALIZING, DEPLOY_TRIGGER_NONE,
	 DEPLOY_TRIGGER_NONE, 1, false, 4, false, false},
	{"the first checkpoint", DEPLOY_STEP_IDLE, FLINK_JOB_RUNNING, DEPLOY_TRIGGER_NONE, DEPLOY_TRIGGER_NONE, 1, false,
	 4, true, false},
};

/* What a pass decides for `c` when the wait is `age_ms` old, as the item
 * the status policy gets (it borrows `j` and `n`'s text). */
static void wait_item(const wait_case *c, long age_ms, long timeout_ms, const flink_deployment *fd,
		      deploy_journal *j, deploy_next *n, deploy_item *it)
{
	deploy_desired d;
	memset(&d, 0, sizeof(d));
	d.job_hash = "h2";
	d.deleting = c->gone;
	d.mode = FLINK_UPGRADE_SAVEPOINT;
	d.parallelism = 2;
	d.restart_budget = 3;
	d.savepoint_timeout_ms = d.ready_timeout_ms = d.running_timeout_ms = timeout_ms;
	memset(j, 0, sizeof(*j));
	j->step = c->step;
	j->job_id = (char *)"job1";
	j->target_commit = (char *)C1;
	j->target_job_hash = (char *)(c->step == DEPLOY_STEP_STOPPING ? "h1" : "h2");
	j->trigger_id = (char *)(c->step == DEPLOY_STEP_STOPPING ? "t1" : NULL);
	j->trigger_time = (char *)(c->step == DEPLOY_STEP_STOPPING ? "2026-12-01T10:00:00.000Z" : NULL);
	j->submit_job_id = (char *)(c->step == DEPLOY_STEP_SUBMITTED ? "job2" : NULL);
	j->jar_id = (char *)"jar1";
	if (c->request != DEPLOY_TRIGGER_NONE) {
		j->request_trigger_id = (char *)"r1";
		j->request_reason = (char *)"manual";
	}
	j->await_checkpoint_since = (char *)(c->await ? "2026-12-01T10:00:00.000Z" : NULL);
	deploy_observed o;
	memset(&o, 0, sizeof(o));
	o.flink_ok = !c->flink_down;
	o.job_known = !c->flink_down;
	o.job = c->job;
	o.checkpoints_ok = true;
	o.restored_path = "file:/sp/savepoint-1";
	o.trigger = c->trigger;
	o.request = c->request;
	o.jar_known = true;
	o.objects_current = true;
	o.pods_ready = c->pods_ready;
	o.pods_waiting = c->pods_ready ? NULL : "wc-taskmanager: 0 of 1 pods Ready";
	o.slots_total = c->slots;
	o.step_age_ms = o.await_age_ms = age_ms;
	o.checkpointing = c->await ? 1 : 0;
	o.savepoint_age_ms = 1000;
	deploy_next_step(&d, j, &o, n);
	if (n->op != DEPLOY_OP_WAIT)
		fail_msg("%s at %ld ms: %s, want wait", c->what, age_ms, deploy_op_name(n->op));
	memset(it, 0, sizeof(*it));
	it->fd = c->gone ? NULL : fd;
	it->ns = (char *)"default";
	it->name = (char *)"wc";
	it->job_hash = (char *)"h2";
	it->outcome = DEPLOY_OUTCOME_WAITING;
	it->waiting = n->why;
	it->late = n->late;
	it->wait_ms = n->wait_ms;
	it->job_state = (char *)flink_job_status_name(c->job);
	it->journal = *j;
}

/* The status file before the wait: job1 Running at C1. */
static flink_status *status_before(void)
{
	flink_status *s = flink_status_new("default", "wc");
	s->phase = FLINK_PHASE_RUNNING;
	flink_status_set(&s->observed_commit, C1);
	flink_status_set(&s->source.path, "jobs/wc.yaml");
	flink_status_set(&s->source.blob, "b1");
	flink_status_set(&s->source.commit, C1);
	flink_status_set(&s->job.id, "job1");
	flink_status_set(&s->job.state, "RUNNING");
	flink_status_add_history(s, C1, FLINK_PHASE_RUNNING, "2026-12-01T09:00:00Z", NULL);
	flink_status_set(&s->history[0].job_id, "job1");
	flink_status_set(&s->update_time, "2026-12-01T09:00:00Z");
	return s;
}

/* One pass's status policy over `s`, at time `now` (as cli_write_statuses). */
static void policy(flink_status *s, const deploy_item *it, time_t now)
{
	char *t = flink_status_time(now);
	enum flink_phase before = s->phase;
	char *before_savepoint = s->last_savepoint.path ? fo_strdup(s->last_savepoint.path) : NULL;
	deploy_status_update(s, it, "b2", C2, true, NULL);
	deploy_status_history(s, (int)before, before_savepoint, it, t);
	free(before_savepoint);
	free(t);
}

/* A table: the same waiting deployment seen twice with only time moved on
 * (the wait 5 s old, then 50 s; the second pass 45 s after the first)
 * leaves a byte-identical status file, and the age is reported beside it. */
static void test_wait_status_timeless(void **state)
{
	(void)state;
	flink_deployment fd;
	memset(&fd, 0, sizeof(fd));
	fd.source = (char *)"jobs/wc.yaml";
	fd.has_job = true;
	fd.job.state = FLINK_STATE_RUNNING;
	for (size_t i = 0; i < sizeof(wait_cases) / sizeof(wait_cases[0]); i++) {
		const wait_case *c = &wait_cases[i];
		fo_buf text[2] = {FO_BUF_INIT, FO_BUF_INIT};
		flink_status *s = status_before();
		for (int k = 0; k < 2; k++) {
			deploy_journal j;
			deploy_next n;
			deploy_item it;
			long age = k ? 50000 : 5000;
			wait_item(c, age, 600000, &fd, &j, &n, &it);
			if (it.wait_ms != age)
				fail_msg("%s: wait_ms %ld, want %ld (the age goes beside the text)", c->what, it.wait_ms, age);
			policy(s, &it, 1764583200 + k * 45);
			flink_status_write(s, &text[k]);
			deploy_next_clear(&n);
		}
		flink_status_free(s);
		if (text[0].len != text[1].len || memcmp(fo_buf_cstr(&text[0]), fo_buf_cstr(&text[1]), text[0].len) != 0)
			fail_msg("%s: the status file changed with time alone:\n%s\n---\n%s", c->what, fo_buf_cstr(&text[0]),
				 fo_buf_cstr(&text[1]));
		fo_buf_free(&text[0]);
		fo_buf_free(&text[1]);
	}
}

/* How many status commits a wait of `seconds`, re-checked every second,
 * makes: the writer's rule (cli_write_statuses) over the policy — the file
 * read back, the pass applied, written only when its content changed. */
static int commits_over_wait(const wait_case *c, int seconds, long timeout_ms)
{
	flink_deployment fd;
	memset(&fd, 0, sizeof(fd));
	fd.source = (char *)"jobs/wc.yaml";
	fd.has_job = true;
	fd.job.state = FLINK_STATE_RUNNING;
	flink_status *git = status_before();
	int commits = 0;
	for (int t = 0; t <= seconds; t++) {
		deploy_journal j;
		deploy_next n;
		deploy_item it;
		wait_item(c, 2000 + t * 1000L, timeout_ms, &fd, &j, &n, &it);
		fo_buf w = FO_BUF_INIT;
		flink_status_write(git, &w);
		flink_status *cur = NULL;
		fo_err e = FO_ERR_INIT;
		assert_int_equal(flink_status_parse("status/default/wc.yaml", fo_buf_cstr(&w), w.len, &cur, &e), 0);
		fo_buf_free(&w);
		policy(cur, &it, 1764583200 + t);
		deploy_next_clear(&n);
		if (flink_status_same(git, cur)) {
			flink_status_free(cur);
			continue;
		}
		char *now = flink_status_time(1764583200 + t);
		flink_status_set(&cur->update_time, now);
		free(now);
		flink_status_free(git);
		git = cur;
		commits++;
	}
	flink_status_free(git);
	return commits;
}

/* The bound: a 60 s wait at 1 s re-checks makes at most one status commit
 * (the one that says what is waited for); a wait that goes past its
 * timeout says so once more. */
static void test_wait_one_commit(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(wait_cases) / sizeof(wait_cases[0]); i++) {
		int n = commits_over_wait(&wait_cases[i], 60, 600000);
		if (n > 1)
			fail_msg("%s: %d status commits in a 60 s wait, want at most 1", wait_cases[i].what, n);
	}
	/* "past its timeout" is news once: the timeout (30 s) inside the wait */
	assert_int_equal(commits_over_wait(&wait_cases[0], 60, 30000), 2);
}

static void test_seconds_between(void **state)
{
	(void)state;
	assert_int_equal(flink_status_seconds_between("2026-12-01T10:00:00Z", "2026-12-01T10:00:45Z"), 45);
	assert_int_equal(flink_status_seconds_between("2026-12-01T10:00:00.250Z", "2026-12-02T10:00:00Z"), 86400);
	assert_int_equal(flink_status_seconds_between("2026-12-01T10:00:01Z", "2026-12-01T10:00:00Z"), -1);
	assert_int_equal(flink_status_seconds_between(NULL, "2026-12-01T10:00:00Z"), -1);
	assert_int_equal(flink_status_seconds_between("yesterday", "2026-12-01T10:00:00Z"), -1);
	assert_int_equal(flink_status_seconds_between("2026-12-01T10:00:00+01:00", "2026-12-01T10:00:00Z"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_table),
		cmocka_unit_test(test_deleted_records_final_state),
		cmocka_unit_test(test_policy_flink_restarts),
		cmocka_unit_test(test_lineage_story),
		cmocka_unit_test(test_seconds_between),
		cmocka_unit_test(test_wait_status_timeless),
		cmocka_unit_test(test_wait_one_commit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
