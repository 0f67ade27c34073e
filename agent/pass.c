/*
 * One pass as one call (see pass.h): the setup `sync`, `plan --live` and the
 * daemon share — configuration, manifests, the cluster's client and live
 * inventory, the reconcile options — and the pass itself: plan, apply,
 * status files, journals of deleted deployments. What a pass decides is in
 * deploy/; this file only wires it together and reports.
 */
#include "agent/pass.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cli.h"

static long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int cli_k8s_config(const config *cfg, k8s_config **out, fo_err *e)
{
	return cfg->kubernetes.in_cluster ? k8s_config_in_cluster(out, e)
					  : k8s_config_from_kubeconfig(cfg->kubernetes.kubeconfig, cfg->kubernetes.context,
								       out, e);
}

/* Connect to the cluster the configuration names. */
int cli_k8s_connect(const config *cfg, const fo_fence *fence, k8s_client **out, fo_err *e)
{
	k8s_config *kc = NULL;
	int rc = cli_k8s_config(cfg, &kc, e);
	if (rc < 0)
		return rc;
	k8s_options ko = {0};
	ko.field_manager = cfg->kubernetes.field_manager;
	ko.force = cfg->kubernetes.force_conflicts;
	ko.timeout_ms = (long)cfg->kubernetes.timeout_ms;
	ko.fence = fence;
	rc = k8s_client_new(kc, &ko, out, e);
	k8s_config_free(kc);
	return rc;
}

int cli_pass_open(const char *verb, const char *cfg_path, const char *manifests, const fo_fence *fence, cli_pass *p)
{
	memset(p, 0, sizeof(*p));
	p->ms_fetch = -1;
	fo_diags d = FO_DIAGS_INIT;
	fo_err e = FO_ERR_INIT;
	int rc = config_load(cfg_path, &p->cfg, &d);
	if (rc < 0) {
		cli_report_diags(verb, &d);
		goto cleanup;
	}
	if (manifests) {
		char *paths[1] = {(char *)manifests};
		cli_load_manifests(paths, 1, &p->desired, &p->nfiles, &d);
		p->source = fo_asprintf("%s (%zu files)", manifests, p->nfiles);
	} else {
		long t0 = mono_ms();
		rc = cli_load_repository(p->cfg, &p->desired, &p->nfiles, &d, &p->source, p->commit, &p->src, &e);
		p->ms_fetch = mono_ms() - t0;
		if (rc < 0) {
			/* nothing is applied or deleted from a repository that could not be read */
			cli_report(verb, "%s", fo_err_msg(&e));
			goto cleanup;
		}
	}
	deploy_scope_filter(&p->desired, p->cfg->kubernetes.namespaces.v, p->cfg->kubernetes.namespaces.n, &d);
	cli_report_diags(verb, &d);
	p->bad = d.nerrors;
	if ((rc = cli_k8s_connect(p->cfg, fence, &p->kc, &e)) < 0 ||
	    (rc = deploy_live_load(p->kc, p->cfg->agent.name, p->cfg->kubernetes.namespaces.v,
				   p->cfg->kubernetes.namespaces.n, &p->live, &e)) < 0) {
		cli_report(verb, "%s", fo_err_msg(&e));
		goto cleanup;
	}
	p->api_ok = true;
	p->opts.prune = p->cfg->prune.enabled;
	p->opts.max_delete_ratio = p->cfg->prune.max_delete_ratio;
	p->opts.confirm_drift = true;
	p->opts.concurrency = p->cfg->kubernetes.concurrency;
	p->opts.agent = p->cfg->agent.name;
	if (p->cfg->flink.submit_jobs) {
		const config *c = p->cfg;
		p->rollout.rest_url = c->flink.rest_url;
		p->rollout.savepoint_timeout_ms = (long)c->flink.savepoint_timeout_ms;
		p->rollout.ready_timeout_ms = (long)c->flink.ready_timeout_ms;
		p->rollout.running_timeout_ms = (long)c->flink.running_timeout_ms;
		p->rollout.restart_budget = c->flink.restart_budget;
		p->rollout.jar.cache_dir = c->flink.jar_cache_dir;
		p->rollout.jar.cache_max_bytes = c->flink.jar_cache_max_bytes;
		p->rollout.jar.s3_endpoint = c->flink.s3_endpoint;
		p->rollout.jar.s3_region = c->flink.s3_region;
		p->rollout.jar.s3_access_key_file = c->flink.s3_access_key_file;
		p->rollout.jar.s3_secret_key_file = c->flink.s3_secret_key_file;
		p->rollout.jar.ca_file = c->flink.ca_file;
		p->rollout.ca_file = c->flink.ca_file; /* an https:// REST endpoint too */
		p->rollout.commit = p->commit[0] ? p->commit : NULL;
		p->rollout.fence = fence;
		/* Flink calls too end within the bound leader election sets on
		 * API calls (config.h); a jar's upload and run keep their own
		 * timeouts: the journaled job id is their second fence */
		if (fence)
			p->rollout.call_timeout_ms = (long)c->kubernetes.timeout_ms;
		p->opts.rollout = &p->rollout;
	}
	if (p->bad) {
		/* a deployment whose file does not parse is unknown, not deleted */
		p->skip = fo_asprintf("%zu problem%s in the manifests, so a missing deployment may only be unreadable",
				      p->bad, p->bad == 1 ? "" : "s");
		p->opts.prune_skip_reason = p->skip;
	}
cleanup:
	fo_diags_free(&d);
	fo_err_clear(&e);
	return rc;
}

void cli_pass_close(cli_pass *p)
{
	deploy_live_free(p->live);
	k8s_client_free(p->kc);
	flink_deployments_free(&p->desired);
	config_free(p->cfg);
	free(p->source);
	free(p->skip);
	cli_source_free(&p->src);
	memset(p, 0, sizeof(*p));
}

void agent_pass_run(const char *cfg_path, const agent_pass_opts *o, cli_pass *cp, deploy_pass *pass,
		    agent_pass_result *r)
{
	memset(r, 0, sizeof(*r));
	r->status = EXIT_FAIL;
	fo_err e = FO_ERR_INIT;
	if (cli_pass_open(o->verb, cfg_path, o->manifests, o->fence, cp) < 0)
		goto cleanup;
	cp->opts.force_prune = o->force_prune;
	cp->opts.keep_live = o->keep_live;
	cp->opts.stop = o->stop;
	if (cp->kc)
		k8s_client_set_stop(cp->kc, o->stop); /* a retry waits for nothing once stopping */
	if (o->read_only) {
		if (cp->bad)
			goto cleanup; /* an invalid file: its deployment's fate is unknown */
		deploy_reconcile_plan(&cp->desired, cp->live, cp->kc, &cp->opts, pass, &e);
		r->status = EXIT_OK;
		goto cleanup;
	}
	deploy_reconcile_plan(&cp->desired, cp->live, cp->kc, &cp->opts, pass, &e);
	int rc = deploy_reconcile_apply(cp->kc, pass, &cp->opts, &e);
	if (rc < 0)
		cli_report(o->verb, "%s", fo_err_msg(&e));
	fo_err se = FO_ERR_INIT;
	/* a leader that lost the Lease during the pass pushes no status: what
	 * it would write may already be stale, and the new leader writes its own */
	int src = fo_fence_check(o->fence, "push the status files", &se);
	if (src == 0)
		src = cli_write_statuses(cp, pass, r->status_commit, &se);
	if (src < 0) {
		cli_report(o->verb, "%s", fo_err_msg(&se));
	} else if (cp->src.repo || !cp->cfg->status.enabled) {
		/* the final savepoints are in git now (or nowhere to put them):
		 * the journals of deleted deployments may go */
		if (deploy_pass_forget_deleted(cp->kc, pass, &se) < 0)
			cli_report(o->verb, "%s", fo_err_msg(&se));
	}
	fo_err_clear(&se);
	for (size_t i = 0; i < pass->n; i++) {
		r->failed += pass->items[i].outcome == DEPLOY_OUTCOME_FAILED;
		r->waiting += pass->items[i].outcome == DEPLOY_OUTCOME_WAITING;
	}
	r->status = rc < 0 || src < 0 || r->failed || cp->bad || pass->prune_refused || pass->aborted ? EXIT_FAIL
												      : EXIT_OK;
cleanup:
	fo_err_clear(&e);
}
