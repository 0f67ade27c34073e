/*
 * The command line: one function a verb, each given argc/argv from the verb
 * on and returning the process exit status. Only agent/ prints to stdout or
 * exits; everything below returns errors.
 */
#ifndef AGENT_CLI_H
#define AGENT_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"
#include "deploy/deploy.h"
#include "flink/flink.h"
#include "k8s/k8s.h"
#include "lib/err.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_CHANGES = 2 };

int cmd_validate(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_sync(int argc, char **argv);
/* plan --live: compare with the cluster (cmd_plan dispatches to it) */
int cmd_plan_live(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_git(int argc, char **argv);
int cmd_flink(int argc, char **argv);

/* Print every diagnostic on stderr, one `file:line:col: message` a line. */
void cli_print_diags(const fo_diags *d);
/* A usage error: message and hint on stderr; returns EXIT_FAIL. */
int cli_usage_error(const char *verb, const char *fmt, ...) FO_PRINTF(2, 3);

/*
 * Collect the manifest files under `paths` and parse every FlinkDeployment in
 * them, checking that no namespace/name is defined twice. Problems go to `d`;
 * *nfiles counts the files read. Returns 0 when nothing was wrong.
 */
int cli_load_manifests(char **paths, int npaths, flink_deployments *out, size_t *nfiles, fo_diags *d);

/*
 * Fetch the configured repository and parse the FlinkDeployments of its
 * branch. Problems in files go to `d` (one bad file does not stop the
 * others); a failure to fetch or read is returned. *source describes what
 * was read, for reports; `commit` gets the commit id.
 */
struct sync_auth;
/* The git credentials the configuration names. */
void cli_sync_auth(const config *cfg, struct sync_auth *a);
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

int cli_load_repository(const config *cfg, flink_deployments *out, size_t *nfiles, fo_diags *d, char **source,
			char commit[41], cli_source *src, fo_err *e);
/*
 * What `sync` and `plan --live` both start from: the configuration, the
 * FlinkDeployments (of a local folder, or of the configured repository),
 * a client for the cluster and the live inventory, and the reconcile options
 * the configuration implies. Problems are printed on stderr prefixed with
 * `verb`; `bad` counts the problems found in manifest files.
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
} cli_pass;

int cli_pass_open(const char *verb, const char *cfg_path, const char *manifests, cli_pass *p);
void cli_pass_close(cli_pass *p);
/*
 * Write status/NS/NAME.yaml for every deployment of the pass whose status
 * changed, in one commit on the status branch, pushed without force (only
 * when the pass read a repository and status.enabled). *commit gets the
 * status commit, "" when nothing changed.
 */
int cli_write_statuses(cli_pass *p, const deploy_pass *pass, char commit[41], fo_err *e);

/* A Kubernetes client for the cluster the configuration names. */
int cli_k8s_connect(const config *cfg, k8s_client **out, fo_err *e);

#endif
