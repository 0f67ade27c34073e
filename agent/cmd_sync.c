/*
 * `flinkops sync --config FILE --once`: one full pass — read the manifests,
 * render them, compare with what the cluster has, apply the difference and
 * prune what git no longer has (behind the prune guard), then report.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "config/config.h"
#include "deploy/deploy.h"
#include "lib/buf.h"
#include "lib/log.h"

static const char usage[] =
	"usage: flinkops sync --config FILE --once [--manifests DIR] [--force-prune] [-o text|json]\n"
	"\n"
	"Run one pass: read the FlinkDeployments, render them, apply what differs\n"
	"from the cluster with server-side apply, correct drift, and delete the\n"
	"objects of deployments that are gone (unless that would delete more than\n"
	"prune.maxDeleteRatio of them). For the daemon, see 'flinkops agent'.\n"
	"\n"
	"  --config FILE      the agent's configuration (see README)\n"
	"  --once             run one pass and exit\n"
	"  --manifests DIR    read manifests from a local folder instead of the repository\n"
	"  --force-prune      delete even when the prune guard would refuse\n"
	"  -o, --output FMT   text (default) or json\n"
	"  -h, --help         this help\n"
	"\n"
	"Exit status: 0 when everything was applied, 1 on any error, a refused\n"
	"prune included.\n";

/* Connect to the cluster the configuration names. */
int cli_k8s_connect(const config *cfg, k8s_client **out, fo_err *e)
{
	k8s_config *kc = NULL;
	int rc = cfg->kubernetes.in_cluster ? k8s_config_in_cluster(&kc, e)
					    : k8s_config_from_kubeconfig(cfg->kubernetes.kubeconfig, cfg->kubernetes.context,
									 &kc, e);
	if (rc < 0)
		return rc;
	k8s_options ko = {0};
	ko.field_manager = cfg->kubernetes.field_manager;
	ko.force = cfg->kubernetes.force_conflicts;
	ko.timeout_ms = (long)cfg->kubernetes.timeout_ms;
	rc = k8s_client_new(kc, &ko, out, e);
	k8s_config_free(kc);
	return rc;
}

static void print_text(const deploy_pass *p, const k8s_stats *st, const char *source)
{
	deploy_summary s;
	deploy_pass_summary(p, &s);
	printf("sync: %zu deployment%s from %s\n", s.deployments, s.deployments == 1 ? "" : "s", source);
	for (size_t i = 0; i < p->n; i++) {
		const deploy_item *it = &p->items[i];
		bool any = !it->fd;
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
	}
	if (p->prune_refused)
		printf("prune refused: %s\n", p->prune_reason);
	if (p->aborted)
		printf("pass aborted: %s\n", p->abort_reason);
	printf("%zu unchanged, %zu created, %zu updated (%zu drifted), %zu pruned, %zu failed; "
	       "requests: %lu list, %lu get, %lu apply, %lu dry-run, %lu delete, %lu retried\n",
	       s.unchanged, s.created, s.updated, s.drifted, s.pruned, s.failed, st->list, st->get, st->apply,
	       st->dry_run, st->del, st->retries);
}

int cmd_sync(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"once", no_argument, NULL, '1'},
		{"manifests", required_argument, NULL, 'm'},
		{"force-prune", no_argument, NULL, 'F'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *cfg_path = NULL, *manifests = NULL;
	bool once = false, json = false, force_prune = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfg_path = optarg; break;
		case '1': once = true; break;
		case 'm': manifests = optarg; break;
		case 'F': force_prune = true; break;
		case 'o':
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "text") != 0)
				return cli_usage_error("sync", "unknown output format \"%s\" (text or json)", optarg);
			break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: return cli_usage_error("sync", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("sync", "unexpected argument \"%s\"", argv[optind]);
	if (!once)
		return cli_usage_error("sync", "give --once (the daemon is 'flinkops agent')");

	int status = EXIT_FAIL;
	cli_pass cp;
	deploy_pass pass = {0};
	fo_err e = FO_ERR_INIT;
	if (cli_pass_open("sync", cfg_path, manifests, &cp) < 0)
		goto cleanup;
	cp.opts.force_prune = force_prune;
	deploy_reconcile_plan(&cp.desired, cp.live, cp.kc, &cp.opts, &pass, &e);
	int rc = deploy_reconcile_apply(cp.kc, &pass, &cp.opts, &e);
	char status_commit[41] = "";
	fo_err se = FO_ERR_INIT;
	int src = cli_write_statuses(&cp, &pass, status_commit, &se);
	if (src < 0)
		fprintf(stderr, "flinkops sync: %s\n", fo_err_msg(&se));
	fo_err_clear(&se);
	k8s_client *kc = cp.kc;
	const char *source = cp.source;
	size_t bad = cp.bad;

	if (json) {
		cJSON *o = deploy_pass_json(&pass);
		const k8s_stats *st = k8s_client_stats(kc);
		cJSON *req = cJSON_AddObjectToObject(o, "requests");
		cJSON_AddNumberToObject(req, "list", (double)st->list);
		cJSON_AddNumberToObject(req, "get", (double)st->get);
		cJSON_AddNumberToObject(req, "apply", (double)st->apply);
		cJSON_AddNumberToObject(req, "dryRun", (double)st->dry_run);
		cJSON_AddNumberToObject(req, "delete", (double)st->del);
		cJSON_AddNumberToObject(req, "writes", (double)k8s_stats_writes(st));
		cJSON_AddNumberToObject(req, "retries", (double)st->retries);
		cJSON_AddStringToObject(o, "source", source);
		if (status_commit[0])
			cJSON_AddStringToObject(o, "statusCommit", status_commit);
		char *s = cJSON_Print(o);
		puts(s);
		free(s);
		cJSON_Delete(o);
	} else {
		print_text(&pass, k8s_client_stats(kc), source);
		if (status_commit[0])
			printf("status files committed: %.7s\n", status_commit);
	}
	if (rc < 0)
		fprintf(stderr, "flinkops sync: %s\n", fo_err_msg(&e));
	status = rc < 0 || src < 0 || bad || pass.prune_refused || pass.aborted ? EXIT_FAIL : EXIT_OK;

cleanup:
	deploy_pass_free(&pass);
	cli_pass_close(&cp);
	fo_err_clear(&e);
	return status;
}
