/*
 * One pass as one call: read the manifests (of the configured repository, or
 * of a local folder), load the live inventory, plan, and — unless read-only
 * — apply, advance every job's rollout as far as it can go now, write the
 * status files back and forget the journals of deleted deployments. What
 * lasts longer than a pass — the configuration, the cluster's client and
 * its connection, the opened repository cache, the commit the last fetch
 * read — is an agent context the caller owns: the daemon keeps one for its
 * lifetime, `sync --once` and `plan --live` one for the process. `sync
 * --once` repeats the pass until everything settled, `plan --live` runs it
 * read-only and prints the plan, the daemon runs it on its interval and on
 * webhooks.
 */
#ifndef AGENT_PASS_H
#define AGENT_PASS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "deploy/bluegreen.h"
#include "deploy/deploy.h"
#include "deploy/retention.h"
#include "deploy/snapshot.h"
#include "flink/flink.h"
#include "k8s/k8s.h"
#include "lib/err.h"
#include "lib/fence.h"

struct sync_repo;
struct sync_files;

/*
 * What lasts across passes. The configuration is read once (a changed file
 * needs a restart); the client keeps its connection (libcurl reconnects a
 * broken one; the token file is re-read when it changes) and is dropped
 * after a pass that could not list the cluster, so that the next pass
 * connects anew from the kubeconfig; the repository cache stays open and is
 * dropped after a failed read the same way.
 */
typedef struct agent_ctx {
	config *cfg;
	k8s_client *kc;          /* NULL until a pass connects */
	struct sync_repo *repo;  /* NULL until a pass opens the cache */
	char commit[41];         /* the commit the last fetch read; "" before one */
	int64_t fetched_at;      /* fo_mono_ms of that fetch */
	const fo_fence *fence;   /* leader election: the client's writes and every Flink action
	                            are refused unless held (NULL: always allowed) */
	const atomic_bool *stop; /* the running pass's stop request and progress mark */
	atomic_llong *alive;     /* (agent_pass_opts), for the cache opened in the pass */
	k8s_cache *inventory;    /* the daemon's watched inventory (NULL: every LIST is a request);
	                            the context frees it, after its watchers are stopped */
} agent_ctx;

/* Load the configuration at `cfg_path` into a new context; problems are
 * printed on stderr (file:line:col) prefixed with `verb`. The caller closes
 * `ctx` whatever this returns. */
int agent_ctx_open(const char *verb, const char *cfg_path, agent_ctx *ctx);
void agent_ctx_close(agent_ctx *ctx);
/* Connect ctx->kc unless it is connected. */
int agent_ctx_connect(agent_ctx *ctx, fo_err *e);

/* The repository a pass read, kept for writing status files back; `repo`
 * is the context's, not freed with this. */
typedef struct cli_source {
	struct sync_repo *repo;
	struct {
		char *path;
		char blob[41];
	} *files;
	size_t n;
	/* the job.initialSavepointPath of every document read, valid or not
	 * (cli_retention_scan_manifest); only its refs are used */
	deploy_retention_ctx initial;
} cli_source;
void cli_source_free(cli_source *s);

/*
 * What a pass starts from: the configuration and client (the context's,
 * borrowed), the FlinkDeployments, the live inventory, and the reconcile
 * options the configuration implies. `bad` counts the problems found in
 * manifest files.
 */
typedef struct cli_pass {
	const config *cfg;
	flink_deployments desired;
	size_t nfiles, bad;
	char *source;
	char commit[41];
	k8s_client *kc;
	deploy_live *live;
	deploy_options opts;
	deploy_rollout_opts rollout;
	cli_source src;         /* empty with --manifests */
	char *skip;
	long ms_fetch;          /* the repository's fetch and read; -1 when no fetch was attempted */
	bool api_ok;            /* the live inventory was listed: the API server answered */
	k8s_stats stats0;       /* the client's counts when the pass began */
	deploy_retention_ctx retention; /* what retention must know (cli_retention_context) */
	flink_deployments snapshots; /* git's FlinkStateSnapshots (flink_split_snapshots) */
	deploy_snapshots snaps;      /* what the pass does with them (deploy_snapshots_plan) */
	flink_deployments bluegreens; /* git's FlinkBlueGreenDeployments (flink_split_bluegreens) */
	deploy_bg_pass bg;           /* what the blue/green engine did with them (cli_pass_bluegreen) */
	const fo_fence *fence;  /* the context's write fence (NULL: none); every status push checks it */
} cli_pass;

/* Open a pass with the context's configuration and client: problems are
 * printed on stderr prefixed with `verb`. With `refetch` false and a
 * fetched commit in `ctx`, the manifests are read again at that commit
 * without a fetch. The caller closes `p` whatever this returns. */
int cli_pass_open(const char *verb, agent_ctx *ctx, const char *manifests, bool refetch, cli_pass *p);
void cli_pass_close(cli_pass *p);
/*
 * The blue/green engine's part of the pass (deploy_bg_pass_run): with
 * `decide`, each FlinkBlueGreenDeployment's next steps are recorded; its
 * children join p->desired, and the reconcile options learn what the
 * engine removes and what it holds. Problems are printed prefixed with
 * `verb`. Returns 0, or the first error.
 */
int cli_pass_bluegreen(const char *verb, cli_pass *p, bool decide);
/* The requests this pass made so far (the client counts across passes). */
void cli_pass_stats(const cli_pass *p, k8s_stats *out);

/*
 * Write status/NS/NAME.yaml for every deployment of the pass whose status
 * changed, in one commit on the status branch, pushed without force (only
 * when the pass read a repository and status.enabled). *commit gets the
 * status commit, "" when nothing changed.
 */
int cli_write_statuses(cli_pass *p, const deploy_pass *pass, char commit[41], fo_err *e);

/*
 * Before the rollouts: gather what savepoint retention must know
 * (deploy/retention.h) into p->retention, for the rollouts
 * (p->rollout.retention): every journal of the inventory, every status
 * file of the status branch, every manifest's job.initialSavepointPath
 * (valid or not, and the spec a rollback runs), and as doubts what was not
 * read — a manifest problem, a journal that does not decode, status files
 * not read, manifests from a folder. With a doubt nothing is disposed of
 * in the pass (a debug line says why).
 */
void cli_retention_context(cli_pass *p, const deploy_pass *pass);

/* What cli_retention_build gathers from (pure; status.c reads it). */
typedef struct cli_retention_input {
	const char *const *journal_keys;  /* every journal of the inventory: "ns/name" */
	const char *const *journal_texts; /* and its text */
	size_t njournals;
	size_t journals_unread;           /* journal ConfigMaps without a journal or its labels */
	const char *const *snapshot_keys; /* every FlinkStateSnapshot record: "ns/name" */
	const char *const *snapshot_texts;/* and its text (NULL: none) */
	size_t nsnapshots;
	const char *const *bluegreen_keys; /* every blue/green journal: "ns/name" */
	const char *const *bluegreen_texts;/* and its text (NULL: none) */
	size_t nbluegreens;
	const flink_deployments *desired; /* the specs the pass runs */
	const deploy_retention_ctx *manifests; /* every document's job.initialSavepointPath, or NULL */
	size_t manifest_problems;         /* unreadable, invalid, skipped, oversized, out of scope */
	const char *not_repository;       /* why the manifests are not all the repository's, or NULL */
	const struct sync_files *status;  /* every status file (NULL: none) */
	const char *status_unread;        /* why the status files were not all read, or NULL */
} cli_retention_input;
/* The retention context of `in` (a new one in *out; free it with
 * deploy_retention_ctx_free). Pure. */
void cli_retention_build(const cli_retention_input *in, deploy_retention_ctx *out);
/* Add the job.initialSavepointPath of each document of a manifest file
 * (`file`, its text) that names one, whether or not it validates; a file
 * that is not YAML adds nothing. Pure. */
void cli_retention_scan_manifest(deploy_retention_ctx *c, const char *file, const char *data, size_t len);

/* The connection settings of the cluster the configuration names. */
int cli_k8s_config(const config *cfg, k8s_config **out, fo_err *e);
/* A Kubernetes client for that cluster; `fence` may be NULL. */
int cli_k8s_connect(const config *cfg, const fo_fence *fence, k8s_client **out, fo_err *e);

typedef struct agent_pass_opts {
	const char *verb;        /* the prefix of messages: "sync", "plan", "agent" */
	const char *manifests;   /* a local folder instead of the repository, or NULL */
	bool read_only;          /* plan only: nothing applied, nothing written */
	bool force_prune;        /* override the prune guard */
	bool keep_live;          /* keep each item's live objects (to show a diff) */
	const atomic_bool *stop; /* set: start no further deployment (shutdown); a fetch of the
	                            manifests, a jar's transfer and a Flink call in flight end */
	atomic_llong *alive;     /* every answer and every byte moved marks progress here
	                            (monotonic ms, fo_mono_ms; NULL: not kept) */
	bool no_fetch;           /* re-read the manifests at ctx->commit instead of fetching (a
	                            re-check of deployments waiting on Flink); ignored before a fetch */
} agent_pass_opts;

typedef struct agent_pass_result {
	int status;              /* the exit status this pass alone would give (0 or 1) */
	size_t waiting, failed;  /* deployments waiting on Flink or the cluster; failed */
	size_t rolled_back;      /* deployments that run an older commit's spec: git's failed */
	char status_commit[41];  /* the status commit pushed, "" when none */
	/* A digest of every journal's name and resourceVersion as the pass
	 * leaves them (rollouts, blue/green, snapshots): it changes whenever a
	 * step was recorded or a journal came or went, so two passes with the
	 * same digest waited on the same thing (agent_wait_streak). */
	uint64_t progress;
} agent_pass_result;

/*
 * Run one pass in `ctx`. `cp` and `pass` are the caller's to print from and
 * to free (cli_pass_close, deploy_pass_free) whatever this returns; cp->kc
 * is NULL when the pass did not get as far as the cluster. Read-only, a
 * pass with a manifest that does not parse stops before planning (that
 * deployment's fate is unknown).
 */
void agent_pass_run(agent_ctx *ctx, const agent_pass_opts *o, cli_pass *cp, deploy_pass *pass,
		    agent_pass_result *r);

#endif
