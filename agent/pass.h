/*
 * One pass as one call: read the configuration and the manifests (of the
 * configured repository, or of a local folder), connect to the cluster, load
 * the live inventory, plan, and — unless read-only — apply, advance every
 * job's rollout as far as it can go now, write the status files back and
 * forget the journals of deleted deployments. `sync --once` repeats it until
 * everything settled, `plan --live` runs it read-only and prints the plan,
 * the daemon runs it on its interval and on webhooks.
 */
#ifndef AGENT_PASS_H
#define AGENT_PASS_H

#include <stdatomic.h>
#include <stdbool.h>

#include "config/config.h"
#include "deploy/deploy.h"
#include "flink/flink.h"
#include "k8s/k8s.h"
#include "lib/err.h"

struct sync_repo;
/* The repository a pass read, kept for writing status files back. */
typedef struct cli_source {
	struct sync_repo *repo;
	struct {
		char *path;
		char blob[41];
	} *files;
	size_t n;
} cli_source;
void cli_source_free(cli_source *s);

/*
 * What a pass starts from: the configuration, the FlinkDeployments, a
 * client for the cluster and the live inventory, and the reconcile options
 * the configuration implies. `bad` counts the problems found in manifest
 * files.
 */
typedef struct cli_pass {
	config *cfg;
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
	long ms_fetch;          /* the repository's fetch and read; -1 when none was attempted */
	bool api_ok;            /* the live inventory was listed: the API server answered */
} cli_pass;

/* Open a pass: problems are printed on stderr prefixed with `verb`. With a
 * `fence` (leader election), every write to the cluster and every Flink
 * action of the pass is refused while it is not held. The caller closes
 * `p` whatever this returns. */
int cli_pass_open(const char *verb, const char *cfg_path, const char *manifests, const fo_fence *fence, cli_pass *p);
void cli_pass_close(cli_pass *p);

/*
 * Write status/NS/NAME.yaml for every deployment of the pass whose status
 * changed, in one commit on the status branch, pushed without force (only
 * when the pass read a repository and status.enabled). *commit gets the
 * status commit, "" when nothing changed.
 */
int cli_write_statuses(cli_pass *p, const deploy_pass *pass, char commit[41], fo_err *e);

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
	const atomic_bool *stop; /* set: start no further deployment (shutdown) */
	const fo_fence *fence;   /* leader election: writes (and the status push) only while held */
} agent_pass_opts;

typedef struct agent_pass_result {
	int status;              /* the exit status this pass alone would give (0 or 1) */
	size_t waiting, failed;  /* deployments waiting on Flink or the cluster; failed */
	char status_commit[41];  /* the status commit pushed, "" when none */
} agent_pass_result;

/*
 * Run one pass with the configuration at `cfg_path`. `cp` and `pass` are
 * the caller's to print from and to free (cli_pass_close,
 * deploy_pass_free) whatever this returns; cp->kc is NULL when the pass
 * did not get as far as the cluster. Read-only, a pass with a manifest that
 * does not parse stops before planning (that deployment's fate is unknown).
 */
void agent_pass_run(const char *cfg_path, const agent_pass_opts *o, cli_pass *cp, deploy_pass *pass,
		    agent_pass_result *r);

#endif
