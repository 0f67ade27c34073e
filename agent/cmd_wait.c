/*
 * `flinkops wait --repo URL_OR_DIR --commit SHA`: for CI after a merge. It
 * finds the FlinkDeployments that SHA changed (the diff against its first
 * parent; every manifest for a root commit), then fetches the status
 * branch every interval until each of them shows an observedCommit that
 * contains SHA (exit 0), one of them is Failed (or RolledBack) at a commit that contains SHA
 * (exit 1, with its message), or the timeout passes (exit 124, as
 * timeout(1) does). Progress goes to stderr; git is the only thing it reads.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cli.h"
#include "agent/gitcli.h"
#include "flink/status.h"
#include "lib/buf.h"
#include "lib/duration.h"

#define EXIT_TIMEOUT 124

static const char usage[] =
	"usage: flinkops wait --repo URL_OR_DIR --commit SHA [--timeout 10m] [--interval 5s]\n"
	"                     [--branch B] [--status-folder F] [--path FOLDER] [--glob G]\n"
	"\n"
	"Wait until every FlinkDeployment that commit SHA changed is rolled out, as\n"
	"the agent's status files say: each must show an observedCommit that\n"
	"contains SHA. The status branch is fetched every interval.\n"
	"\n"
	"  --commit SHA           the commit to wait for (required)\n"
	"  --timeout DURATION     give up after this long (default 10m; Go syntax: 90s, 1h30m)\n"
	"  --interval DURATION    between two fetches (default 5s)\n"
	"  --branch B             the branch holding the status files (default main)\n"
	"  --status-folder F      their folder (default status)\n"
	"  --path FOLDER, --glob G  which files are manifests (as the agent is configured)\n"
	"  -h, --help             this help\n"
	"\n"
	"Exit status: 0 rolled out, 1 a deployment Failed or was RolledBack (its message\n"
	"is printed) or an error, 124 the timeout passed first.\n"
	"\n";

typedef struct target {
	char *namespace, *name, *path;
	bool done;
	char *last; /* the last progress text, to print changes only */
} target;

typedef struct targets {
	target *v;
	size_t n, cap;
} targets;

static void add_target(targets *t, const char *ns, const char *name, const char *path)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].namespace, ns) == 0 && strcmp(t->v[i].name, name) == 0)
			return;
	t->v = fo_grow(t->v, &t->cap, t->n + 1, sizeof(*t->v));
	target *x = &t->v[t->n++];
	memset(x, 0, sizeof(*x));
	x->namespace = fo_strdup(ns);
	x->name = fo_strdup(name);
	x->path = fo_strdup(path);
}

static void targets_free(targets *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].namespace);
		free(t->v[i].name);
		free(t->v[i].path);
		free(t->v[i].last);
	}
	free(t->v);
}

/* The deployments in one manifest at `commit`; a broken file is an error. */
static int targets_from_file(sync_repo *r, const char *commit, const char *path, targets *t, fo_err *e)
{
	char *data = NULL;
	size_t len = 0;
	int rc = sync_read_file(r, commit, path, &data, &len, e);
	if (rc < 0)
		return rc;
	flink_deployments v = {0};
	fo_diags d = FO_DIAGS_INIT;
	if (flink_load_buffer(path, data, len, &v, NULL, &d) < 0 || d.nerrors) {
		cli_print_diags(&d);
		rc = fo_err_set(e, FO_EINVAL,
				"%s is invalid at %.7s: the agent cannot roll it out; fix the file and push again", path,
				commit);
	}
	/* a FlinkBlueGreenDeployment is one target too: its own status file
	 * says Running at the commit once the colour with its spec runs */
	for (size_t i = 0; i < v.n; i++)
		add_target(t, v.v[i]->namespace, v.v[i]->name, path);
	flink_deployments_free(&v);
	fo_diags_free(&d);
	free(data);
	return rc;
}

static int find_targets(sync_repo *r, const char *sha, const sync_select *sel, targets *t, fo_err *e)
{
	char parent[SYNC_OID_HEX];
	int rc = sync_parent(r, sha, parent, e);
	if (rc < 0)
		return rc;
	if (!*parent) {
		sync_files f = {0};
		rc = sync_read_manifests(r, sha, sel, &f, NULL, e);
		for (size_t i = 0; rc == 0 && i < f.n; i++)
			rc = targets_from_file(r, sha, f.v[i].path, t, e);
		sync_files_free(&f);
		return rc;
	}
	sync_changes ch = {0};
	rc = sync_diff(r, parent, sha, sel, &ch, e);
	for (size_t i = 0; rc == 0 && i < ch.n; i++) {
		/* a removed deployment is waited for too: its status must say Deleted at SHA */
		if (ch.v[i].kind == SYNC_REMOVED)
			rc = targets_from_file(r, parent, ch.v[i].path, t, e);
		else
			rc = targets_from_file(r, sha, ch.v[i].path, t, e);
	}
	sync_changes_free(&ch);
	return rc;
}

static bool contains(sync_repo *r, const char *sha, const char *commit)
{
	if (!commit || !*commit)
		return false;
	bool yes = false;
	fo_err e = FO_ERR_INIT;
	if (sync_is_ancestor(r, sha, commit, &yes, &e) < 0)
		yes = false; /* a commit not (yet) in the cache does not contain SHA as far as we know */
	fo_err_clear(&e);
	return yes;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	if (s <= 0)
		return;
	struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&t, &t) != 0)
		;
}

enum verdict { V_WAIT, V_DONE, V_FAILED };

/* Look at every target once at `tip`. */
static enum verdict check(sync_repo *r, const char *sha, const char *tip, const char *folder, targets *t)
{
	size_t waiting = 0;
	for (size_t i = 0; i < t->n; i++) {
		target *x = &t->v[i];
		if (x->done)
			continue;
		char *path = flink_status_path(folder, x->namespace, x->name);
		char *data = NULL, *text = NULL;
		size_t len = 0;
		fo_err e = FO_ERR_INIT;
		flink_status *s = NULL;
		enum verdict v = V_WAIT;
		if (sync_read_file(r, tip, path, &data, &len, &e) < 0) {
			text = fo_asprintf("no status yet (%s)", path);
		} else if (flink_status_parse(path, data, len, &s, &e) < 0) {
			text = fo_asprintf("unreadable status: %s", fo_err_msg(&e));
		} else if ((s->phase == FLINK_PHASE_FAILED || s->phase == FLINK_PHASE_ABANDONED) &&
			   contains(r, sha, s->source.commit)) {
			/* a FlinkStateSnapshot not taken fails the wait as a failed rollout does */
			fprintf(stderr, "%s/%s %s at %.7s: %s\n", x->namespace, x->name, flink_phase_name(s->phase),
				s->source.commit,
				s->message ? s->message : "(no message)");
			v = V_FAILED;
		} else if (s->phase == FLINK_PHASE_ROLLED_BACK &&
			   (contains(r, sha, s->failed_commit) || contains(r, sha, s->source.commit))) {
			/* the commit's spec failed: what runs is an older one */
			fprintf(stderr, "%s/%s RolledBack at %.7s: %s\n", x->namespace, x->name,
				s->failed_commit ? s->failed_commit : s->source.commit, s->message ? s->message : "(no message)");
			v = V_FAILED;
		} else if (contains(r, sha, s->observed_commit)) {
			fprintf(stderr, "%s/%s rolled out: %s at %.7s\n", x->namespace, x->name, flink_phase_name(s->phase),
				s->observed_commit);
			x->done = true;
		} else {
			text = fo_asprintf("%s, observed %.7s%s%s", flink_phase_name(s->phase),
					   s->observed_commit ? s->observed_commit : "-------", s->message ? ": " : "",
					   s->message ? s->message : "");
		}
		if (text && !fo_streq(text, x->last)) {
			fprintf(stderr, "waiting for %s/%s: %s\n", x->namespace, x->name, text);
			free(x->last);
			x->last = text;
			text = NULL;
		}
		free(text);
		free(path);
		free(data);
		flink_status_free(s);
		fo_err_clear(&e);
		if (v == V_FAILED)
			return V_FAILED;
		if (!x->done)
			waiting++;
	}
	return waiting ? V_WAIT : V_DONE;
}

enum { O_COMMIT = 1, O_TIMEOUT, O_INTERVAL, O_BRANCH, O_STATUS, O_PATH, O_GLOB };
static const struct option options[] = {
	{"commit", required_argument, NULL, O_COMMIT},
	{"timeout", required_argument, NULL, O_TIMEOUT},
	{"interval", required_argument, NULL, O_INTERVAL},
	{"branch", required_argument, NULL, O_BRANCH},
	{"status-folder", required_argument, NULL, O_STATUS},
	{"path", required_argument, NULL, O_PATH},
	{"glob", required_argument, NULL, O_GLOB},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

const cli_verb cli_verb_wait = {
	.name = "wait",
	.run = cmd_wait,
	.optstring = "h",
	.options = (const struct option *const[]){options, cli_git_long_options, NULL},
};

int cmd_wait(int argc, char **argv)
{
	struct option opts[FO_ARRAY_LEN(options) + CLI_GIT_NOPTS];
	cli_options_join(opts, FO_ARRAY_LEN(opts), options, cli_git_long_options);
	cli_git_opts g = {0};
	const char *commit_arg = NULL, *branch = "main", *folder = "status";
	int64_t timeout_ms = 10 * 60 * 1000, interval_ms = 5000;
	sync_select sel = {0};
	fo_err e = FO_ERR_INIT;
	int c, status = EXIT_FAIL;
	sync_repo *r = NULL;
	targets t = {0};
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_verb_wait.optstring, opts, NULL)) != -1) {
		if (cli_git_option(c, optarg, &g))
			continue;
		switch (c) {
		case O_COMMIT: commit_arg = optarg; break;
		case O_TIMEOUT:
		case O_INTERVAL:
			if (fo_duration_parse(optarg, c == O_TIMEOUT ? &timeout_ms : &interval_ms, &e) < 0) {
				status = cli_usage_error("wait", "--%s: %s", c == O_TIMEOUT ? "timeout" : "interval",
							 fo_err_msg(&e));
				goto cleanup;
			}
			break;
		case O_BRANCH: branch = optarg; break;
		case O_STATUS: folder = optarg; break;
		case O_PATH: sel.folder = optarg; break;
		case O_GLOB: sel.glob = optarg; break;
		case 'h':
			fputs(usage, stdout);
			fputs(cli_git_usage, stdout);
			status = EXIT_OK;
			goto cleanup;
		default:
			/* through cleanup: a bad shared option before this one set g.bad */
			status = cli_usage_error("wait", "unknown option");
			goto cleanup;
		}
	}
	sel.status_folder = folder;
	if (g.bad.code) {
		status = cli_usage_error("wait", "%s", fo_err_msg(&g.bad));
		goto cleanup;
	}
	if (!commit_arg) {
		status = cli_usage_error("wait", "--commit SHA is required");
		goto cleanup;
	}
	if (!g.repo) {
		status = cli_usage_error("wait", "--repo is required");
		goto cleanup;
	}
	if (interval_ms < 100)
		interval_ms = 100;
	double deadline = now_s() + (double)timeout_ms / 1000.0;
	char tip[SYNC_OID_HEX], sha[SYNC_OID_HEX];
	if (cli_git_open(&g, &r, &e) < 0 || sync_fetch(r, branch, tip, &e) < 0) {
		fprintf(stderr, "flinkops wait: %s\n", fo_err_msg(&e));
		goto cleanup;
	}
	if (sync_resolve(r, commit_arg, sha, &e) < 0) {
		fprintf(stderr, "flinkops wait: %s\n", fo_err_msg(&e));
		goto cleanup;
	}
	if (find_targets(r, sha, &sel, &t, &e) < 0) {
		fprintf(stderr, "flinkops wait: %s\n", fo_err_msg(&e));
		goto cleanup;
	}
	if (t.n == 0) {
		fprintf(stderr, "flinkops wait: commit %.7s changes no FlinkDeployment; nothing to wait for\n", sha);
		status = EXIT_OK;
		goto cleanup;
	}
	fprintf(stderr, "waiting for %zu FlinkDeployment%s changed by %.7s (timeout %.0fs):", t.n, t.n == 1 ? "" : "s",
		sha, (double)timeout_ms / 1000.0);
	for (size_t i = 0; i < t.n; i++)
		fprintf(stderr, " %s/%s", t.v[i].namespace, t.v[i].name);
	fputc('\n', stderr);
	for (;;) {
		enum verdict v = check(r, sha, tip, folder, &t);
		if (v == V_FAILED) {
			status = EXIT_FAIL;
			break;
		}
		if (v == V_DONE) {
			fprintf(stderr, "all %zu FlinkDeployment%s rolled out at %.7s or later\n", t.n, t.n == 1 ? "" : "s",
				sha);
			status = EXIT_OK;
			break;
		}
		double left = deadline - now_s();
		if (left <= 0) {
			fprintf(stderr, "flinkops wait: timed out: not rolled out:");
			for (size_t i = 0; i < t.n; i++)
				if (!t.v[i].done)
					fprintf(stderr, " %s/%s", t.v[i].namespace, t.v[i].name);
			fputc('\n', stderr);
			status = EXIT_TIMEOUT;
			break;
		}
		double pause = (double)interval_ms / 1000.0;
		sleep_s(pause < left ? pause : left);
		char next[SYNC_OID_HEX];
		if (sync_fetch(r, branch, next, &e) < 0) {
			/* keep the last good tip; a failed fetch is not news */
			fprintf(stderr, "flinkops wait: %s (trying again)\n", fo_err_msg(&e));
			fo_err_clear(&e);
		} else {
			memcpy(tip, next, sizeof(tip));
		}
	}
cleanup:
	targets_free(&t);
	sync_free(r);
	fo_err_clear(&e);
	fo_err_clear(&g.bad);
	return status;
}
