/*
 * `flinkops sync --config FILE --once`: one full pass — read the manifests,
 * render them, compare with what the cluster has, apply the difference and
 * prune what git no longer has (behind the prune guard), then report.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cli.h"
#include "agent/daemon.h"
#include "config/config.h"
#include "deploy/deploy.h"
#include "lib/buf.h"
#include "lib/duration.h"
#include "lib/log.h"

static const char usage[] =
	"usage: flinkops sync --config FILE --once [--timeout D] [--manifests DIR] [--force-prune] [-o text|json|yaml]\n"
	"\n"
	"Run passes until every deployment has settled: read the FlinkDeployments,\n"
	"render them, apply what differs from the cluster with server-side apply,\n"
	"correct drift, advance each job's rollout as far as it can go (a savepoint\n"
	"in progress or a job starting never holds the others), and delete the\n"
	"objects of deployments that are gone (unless that would delete more than\n"
	"prune.maxDeleteRatio of them). For the daemon, see 'flinkops agent'.\n"
	"\n"
	"  --config FILE      the agent's configuration (see docs/configuration.md)\n"
	"  --once             run until settled, then exit\n"
	"  --timeout D        give up waiting after D (default 10m); what still waits is named\n"
	"  --manifests DIR    read manifests from a local folder instead of the repository\n"
	"  --force-prune      delete even when the prune guard would refuse\n"
	"  -o, --output FMT   text (default), json or yaml (the last pass)\n"
	"  -h, --help         this help\n"
	"\n"
	"Exit status: 0 when every deployment settled as git says, 1 on any error,\n"
	"a refused prune included, when the deadline passed with deployments\n"
	"still waiting, and when a deployment was rolled back (git's spec failed).\n";

static void print_text(const deploy_pass *p, const k8s_stats *st, const char *source)
{
	deploy_summary s;
	deploy_pass_summary(p, &s);
	printf("sync: %zu deployment%s from %s\n", s.deployments, s.deployments == 1 ? "" : "s", source);
	for (size_t i = 0; i < p->n; i++) {
		const deploy_item *it = &p->items[i];
		bool any = !it->fd || it->outcome == DEPLOY_OUTCOME_WAITING || it->job_started;
		for (int k = 0; k < RENDER_NCOMPONENTS; k++)
			any = any || it->state[k] != DEPLOY_OBJ_EQUAL;
		if (!any && !it->error)
			continue;
		int applied = 0;
		for (int k = 0; k < RENDER_NCOMPONENTS; k++)
			applied += it->applied[k];
		printf("  %s/%s: %s", it->ns, it->name, deploy_action_name(it->change.action));
		if (it->fd)
			printf(", %d object%s applied", applied, applied == 1 ? "" : "s");
		else
			printf(", %s", it->deleted ? "deleted" : p->prune_refused ? "kept (prune refused)"
						 : p->prune_disabled ? "kept (pruning disabled)" : "not deleted");
		printf("\n");
		for (int k = 0; k < RENDER_NCOMPONENTS; k++)
			if (it->drift[k])
				printf("    drift corrected%s: %s\n", it->applied[k] ? "" : " (not yet)", it->drift[k]);
		if (it->error)
			printf("    error: %s\n", it->error);
		if (it->outcome == DEPLOY_OUTCOME_WAITING && it->wait_ms >= 0)
			printf("    waiting for %lds: %s%s\n", it->wait_ms / 1000, it->waiting, it->late ? " (past its timeout)" : "");
		else if (it->outcome == DEPLOY_OUTCOME_WAITING)
			printf("    waiting: %s%s\n", it->waiting, it->late ? " (past its timeout)" : "");
		if (it->drift_job)
			printf("    job drift: the job had ended outside flinkops; started again from its newest state\n");
	}
	for (size_t i = 0; i < p->plain.n; i++) {
		const deploy_plain_action *a = &p->plain.v[i];
		if (a->op == DEPLOY_PLAIN_KEEP)
			continue;
		printf("  %s %s/%s: %s", a->kind->kind, a->ns, a->name, deploy_plain_op_name(a->op));
		if (a->error)
			printf(", failed: %s\n", a->error);
		else if (a->refused)
			printf(", kept: %s\n", a->why);
		else
			printf("%s%s%s\n", a->done ? ", done" : ", not done", a->why ? ": " : "", a->why ? a->why : "");
	}
	if (p->prune_refused)
		printf("prune refused: %s\n", p->prune_reason);
	if (p->aborted)
		printf("pass aborted: %s\n", p->abort_reason);
	if (s.unread)
		printf("%zu deployment%s not read before the pass was aborted: nothing done with %s\n", s.unread,
		       s.unread == 1 ? "" : "s", s.unread == 1 ? "it" : "them");
	printf("%zu unchanged, %zu created, %zu updated (%zu drifted), %zu pruned, %zu failed; "
	       "requests: %lu list, %lu get, %lu apply, %lu dry-run, %lu delete, %lu retried\n",
	       s.unchanged, s.created, s.updated, s.drifted, s.pruned, s.failed, st->list, st->get, st->apply,
	       st->dry_run, st->del, st->retries);
}

static void print_pass(const deploy_pass *pass, const cli_pass *cp, const char *status_commit, bool json,
		       bool yaml)
{
	if (json) {
		cJSON *o = deploy_pass_json(pass);
		k8s_stats pst;
		cli_pass_stats(cp, &pst);
		const k8s_stats *st = &pst;
		cJSON *req = cJSON_AddObjectToObject(o, "requests");
		cJSON_AddNumberToObject(req, "list", (double)st->list);
		cJSON_AddNumberToObject(req, "listFromWatch", (double)st->cached);
		cJSON_AddNumberToObject(req, "get", (double)st->get);
		cJSON_AddNumberToObject(req, "apply", (double)st->apply);
		cJSON_AddNumberToObject(req, "dryRun", (double)st->dry_run);
		cJSON_AddNumberToObject(req, "delete", (double)st->del);
		cJSON_AddNumberToObject(req, "writes", (double)k8s_stats_writes(st));
		cJSON_AddNumberToObject(req, "retries", (double)st->retries);
		cJSON_AddStringToObject(o, "source", cp->source);
		if (status_commit[0])
			cJSON_AddStringToObject(o, "statusCommit", status_commit);
		cli_print_answer(o, yaml);
		cJSON_Delete(o);
	} else {
		k8s_stats st;
		cli_pass_stats(cp, &st);
		print_text(pass, &st, cp->source);
		if (status_commit[0])
			printf("status files committed: %.7s\n", status_commit);
	}
}

/* What earlier passes of one run did to each deployment, folded into the
 * report of the last pass: a job started or an object applied in pass 1
 * while the last pass only saw the job complete its first checkpoint. */
typedef struct run_memory_entry {
	char *key; /* "NS/NAME" */
	bool applied[RENDER_NCOMPONENTS];
	bool job_started, drift_job;
} run_memory_entry;

typedef struct run_memory {
	run_memory_entry *v;
	size_t n, cap;
} run_memory;

/* The entry of item `i` of a pass. Every pass lists the deployments in
 * the same order, so the entry at the same index is tried first: a pass
 * over n deployments costs O(n), not O(n^2). */
static run_memory_entry *run_memory_slot(run_memory *m, size_t i, const deploy_item *it)
{
	char *key = fo_asprintf("%s/%s", it->ns, it->name);
	if (i < m->n && strcmp(m->v[i].key, key) == 0) {
		free(key);
		return &m->v[i];
	}
	for (size_t k = 0; k < m->n; k++)
		if (strcmp(m->v[k].key, key) == 0) {
			free(key);
			return &m->v[k];
		}
	m->v = fo_grow(m->v, &m->cap, m->n + 1, sizeof(*m->v));
	run_memory_entry *en = &m->v[m->n++];
	memset(en, 0, sizeof(*en));
	en->key = key;
	return en;
}

/* Remember what `p` did; give the last pass what the earlier ones did. */
static void run_memory_fold(run_memory *m, deploy_pass *p, bool last)
{
	for (size_t i = 0; i < p->n; i++) {
		deploy_item *it = &p->items[i];
		run_memory_entry *en = run_memory_slot(m, i, it);
		en->job_started = en->job_started || it->job_started;
		en->drift_job = en->drift_job || it->drift_job;
		for (int c = 0; c < RENDER_NCOMPONENTS; c++)
			en->applied[c] = en->applied[c] || it->applied[c];
		if (last) {
			it->job_started = en->job_started;
			it->drift_job = en->drift_job;
			for (int c = 0; c < RENDER_NCOMPONENTS; c++)
				it->applied[c] = en->applied[c];
		}
	}
}

static void run_memory_free(run_memory *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].key);
	free(m->v);
}

/* The longest pause between the passes of a sync that waits. */
#define SYNC_WAIT_MAX_MS 1000

static long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static const struct option options[] = {
	{"config", required_argument, NULL, 'c'},
	{"once", no_argument, NULL, '1'},
	{"timeout", required_argument, NULL, 't'},
	{"manifests", required_argument, NULL, 'm'},
	{"force-prune", no_argument, NULL, 'F'},
	{"output", required_argument, NULL, 'o'},
	{"crash-points", no_argument, NULL, 'C'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

const cli_verb cli_verb_sync = {
	.name = "sync",
	.run = cmd_sync,
	.optstring = "o:h",
	.options = (const struct option *const[]){options, NULL},
	.outputs = cli_outputs,
};

int cmd_sync(int argc, char **argv)
{
	const char *cfg_path = NULL, *manifests = NULL;
	bool once = false, json = false, yaml = false, force_prune = false;
	long timeout_ms = 10 * 60 * 1000L;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_verb_sync.optstring, options, NULL)) != -1) {
		switch (c) {
		case 'c': cfg_path = optarg; break;
		case '1': once = true; break;
		case 't': {
			int64_t ms;
			fo_err te = FO_ERR_INIT;
			if (fo_duration_parse(optarg, &ms, &te) < 0 || ms <= 0) {
				fo_err_clear(&te);
				return cli_usage_error("sync", "--timeout: \"%s\" is not a duration such as 90s or 10m", optarg);
			}
			timeout_ms = (long)ms;
			break;
		}
		case 'm': manifests = optarg; break;
		case 'F': force_prune = true; break;
		case 'o':
			if (cli_output("sync", optarg, &json, &yaml) < 0)
				return EXIT_FAIL;
			break;
		case 'C': {
			/* the named crash points of FLINKOPS_CRASH_AFTER, for the crash tests */
			const char *pts[32];
			size_t n = deploy_crash_points(pts, 32);
			for (size_t i = 0; i < n; i++)
				puts(pts[i]);
			return EXIT_OK;
		}
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return cli_usage_error("sync", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("sync", "unexpected argument \"%s\"", argv[optind]);
	if (!once)
		return cli_usage_error("sync", "give --once (the daemon is 'flinkops agent')");

	long deadline = mono_ms() + timeout_ms;
	int status = EXIT_FAIL;
	/* one context for the process: the configuration read once, one
	 * connection to the cluster, the repository cache opened once; every
	 * pass still fetches, so a push during the wait is rolled out too */
	agent_ctx ctx;
	if (agent_ctx_open("sync", cfg_path, &ctx) < 0) {
		agent_ctx_close(&ctx);
		return EXIT_FAIL;
	}
	run_memory mem = {0};
	unsigned wait_streak = 0;
	uint64_t last_progress = 0;
	for (int n = 1;; n++) {
		long t0 = mono_ms();
		cli_pass cp;
		deploy_pass pass = {0};
		agent_pass_opts po = {.verb = "sync", .manifests = manifests, .force_prune = force_prune};
		agent_pass_result r;
		agent_pass_run(&ctx, &po, &cp, &pass, &r);
		status = r.status;
		size_t waiting = r.waiting;
		bool done = waiting == 0 || !cp.kc || mono_ms() >= deadline;
		run_memory_fold(&mem, &pass, done);
		if (done) {
			if (cp.kc)
				print_pass(&pass, &cp, r.status_commit, json, yaml);
			if (waiting) {
				fprintf(stderr, "flinkops sync: %zu deployment%s still waiting after %ld s (pass %d):\n", waiting,
					waiting == 1 ? "" : "s", timeout_ms / 1000, n);
				for (size_t i = 0; i < pass.n; i++)
					if (pass.items[i].outcome == DEPLOY_OUTCOME_WAITING)
						fprintf(stderr, "  %s/%s: %s\n", pass.items[i].ns, pass.items[i].name,
							pass.items[i].waiting);
				status = EXIT_FAIL;
			}
			if (r.rolled_back) {
				/* settled, but not on what git asks for: the commit did not roll out */
				for (size_t i = 0; i < pass.n; i++)
					if (pass.items[i].fd && pass.items[i].fd->spec_commit &&
					    pass.items[i].outcome == DEPLOY_OUTCOME_SETTLED)
						fprintf(stderr, "flinkops sync: %s/%s: git's spec failed and was rolled back; "
								"commit %.7s's runs: %s\n",
							pass.items[i].ns, pass.items[i].name, pass.items[i].fd->spec_commit,
							pass.items[i].journal.rollback_cause ? pass.items[i].journal.rollback_cause
											     : "no cause recorded");
				status = EXIT_FAIL;
			}
		}
		/* as the agent looks again: soon, then less often while nothing
		 * moves, at most every second */
		wait_streak = agent_wait_streak(wait_streak, n > 1, last_progress, r.progress);
		last_progress = r.progress;
		int64_t delay = agent_wait_delay_ms(wait_streak, mono_ms() - t0, SYNC_WAIT_MAX_MS);
		if (!done)
			fo_info("sync", "pass %d: %zu deployment%s waiting on Flink or the cluster; next pass in %.1f s", n,
				waiting, waiting == 1 ? "" : "s", (double)delay / 1000.0);
		deploy_pass_free(&pass);
		cli_pass_close(&cp);
		if (done)
			break;
		struct timespec ts = {(time_t)(delay / 1000), (long)(delay % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	run_memory_free(&mem);
	agent_ctx_close(&ctx);
	return status;
}
