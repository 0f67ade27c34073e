/*
 * One pass as one call (see pass.h): the agent context that outlives a pass
 * (configuration, the cluster's client, the repository cache), the setup
 * `sync`, `plan --live` and the daemon share — manifests, live inventory,
 * the reconcile options — and the pass itself: plan, apply, status files,
 * journals of deleted deployments. What a pass decides is in deploy/; this
 * file only wires it together and reports.
 */
#include "agent/pass.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cli.h"
#include "lib/log.h"
#include "render/render.h"
#include "sync/sync.h"

static const char *str_or(const char *s)
{
	return s ? s : "";
}

/* The loop's clock (fo_mono_ms): the time of a fetch is compared with its. */
static long mono_ms(void)
{
	return (long)fo_mono_ms();
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

int agent_ctx_open(const char *verb, const char *cfg_path, agent_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	fo_diags d = FO_DIAGS_INIT;
	int rc = config_load(cfg_path, &ctx->cfg, &d);
	cli_report_diags(verb, &d);
	fo_diags_free(&d);
	return rc;
}

void agent_ctx_close(agent_ctx *ctx)
{
	k8s_client_free(ctx->kc);
	k8s_cache_free(ctx->inventory);
	sync_free(ctx->repo);
	config_free(ctx->cfg);
	memset(ctx, 0, sizeof(*ctx));
}

int agent_ctx_connect(agent_ctx *ctx, fo_err *e)
{
	if (ctx->kc)
		return 0;
	int rc = cli_k8s_connect(ctx->cfg, ctx->fence, &ctx->kc, e);
	if (rc == 0)
		k8s_client_set_cache(ctx->kc, ctx->inventory);
	return rc;
}

/* The FlinkDeployment ns/name as git held it at `commit` (the caller
 * frees *out), or an error when the commit, the file or a valid document
 * of that name is not there. */
static int spec_at(sync_repo *r, const config *cfg, const char *commit, const char *ns, const char *name,
		   flink_deployment **out, fo_err *e)
{
	*out = NULL;
	if (!sync_has_commit(r, commit))
		return fo_err_set(e, FO_ENOTFOUND, "commit %.7s is not in the repository cache", commit);
	sync_select sel = {cfg->repository.path, cfg->repository.glob, cfg->status.folder, 0};
	sync_files files = {0};
	flink_deployments all = {0};
	fo_diags d = FO_DIAGS_INIT;
	int rc = sync_read_manifests(r, commit, &sel, &files, &d, e);
	for (size_t i = 0; rc == 0 && i < files.n; i++)
		flink_load_buffer(files.v[i].path, files.v[i].data, files.v[i].len, &all, NULL, &d);
	for (size_t i = 0; rc == 0 && i < all.n && !*out; i++)
		if (fo_streq(all.v[i]->namespace, ns) && fo_streq(all.v[i]->name, name)) {
			*out = all.v[i];
			all.v[i] = NULL;
		}
	if (rc == 0 && !*out)
		rc = fo_err_set(e, FO_ENOTFOUND, "no valid FlinkDeployment %s/%s at commit %.7s", ns, name, commit);
	flink_deployments_free(&all);
	sync_files_free(&files);
	fo_diags_free(&d);
	return rc;
}

/*
 * A deployment whose journal says that git's spec failed and was rolled
 * back runs the spec it was rolled back to, read at that commit, for as
 * long as git asks for the failed spec (the same job hash); a commit with
 * another spec is a new attempt. When that spec cannot be read, git's stays
 * and the rollout does nothing with it (deploy/next.c waits), and the
 * pass says why.
 */
static void rollback_specs(const char *verb, cli_pass *p)
{
	if (!p->src.repo)
		return;
	for (size_t i = 0; i < p->desired.n; i++) {
		flink_deployment *fd = p->desired.v[i];
		const char *text = deploy_live_journal(p->live, fd->namespace, fd->name);
		deploy_journal j;
		fo_err e = FO_ERR_INIT;
		/* every pass reaches here for every deployment, and the reconcile
		 * decodes each journal anyway: only one that names a rollback is
		 * decoded here too */
		if (!text || !strstr(text, "\"rollbackOf") || deploy_journal_decode(text, &j, &e) < 0) {
			fo_err_clear(&e);
			continue;
		}
		/* keyed on the whole target that failed (an older journal: its job
		 * hash), so that a fix of memory, configuration or the image alone
		 * is a new attempt, not the failed spec again */
		char *hash = !j.rollback_to_commit ? NULL
			     : j.rollback_of_target ? render_target_hash_of(fd)
			     : j.rollback_of_hash ? render_job_hash(fd)
						  : NULL;
		flink_deployment *older = NULL;
		if (hash && fo_streq(hash, j.rollback_of_target ? j.rollback_of_target : j.rollback_of_hash)) {
			if (spec_at(p->src.repo, p->cfg, j.rollback_to_commit, fd->namespace, fd->name, &older, &e) < 0) {
				cli_report(verb, "%s/%s: the spec of commit %.7s failed and is rolled back to commit %.7s, "
						 "which cannot be read: %s",
					   fd->namespace, fd->name, str_or(j.rollback_of_commit), j.rollback_to_commit,
					   fo_err_msg(&e));
			} else {
				older->spec_commit = fo_strdup(j.rollback_to_commit);
				flink_deployment_free(fd);
				p->desired.v[i] = older;
			}
		}
		free(hash);
		fo_err_clear(&e);
		deploy_journal_clear(&j);
	}
}

int cli_pass_open(const char *verb, agent_ctx *ctx, const char *manifests, bool refetch, cli_pass *p)
{
	memset(p, 0, sizeof(*p));
	p->ms_fetch = -1;
	p->cfg = ctx->cfg;
	p->fence = ctx->fence;
	fo_diags d = FO_DIAGS_INIT;
	fo_err e = FO_ERR_INIT;
	int rc = 0;
	if (manifests) {
		char *paths[1] = {(char *)manifests};
		cli_load_manifests(paths, 1, &p->desired, &p->nfiles, &d);
		p->source = fo_asprintf("%s (%zu files)", manifests, p->nfiles);
	} else {
		/* a re-check reads the commit the last fetch read; the first pass always fetches */
		bool fetch = refetch || !ctx->commit[0];
		long t0 = mono_ms();
		if (!fetch)
			memcpy(p->commit, ctx->commit, sizeof(p->commit));
		/* the fetch of the manifests watches the stop request, from the first pass on */
		if ((rc = cli_open_repository(p->cfg, &ctx->repo, &e)) == 0) {
			sync_repo_set_watch(ctx->repo, ctx->stop, ctx->alive);
			rc = cli_load_repository(p->cfg, &ctx->repo, fetch, &p->desired, &p->nfiles, &d, &p->source,
						 p->commit, &p->src, &e);
		}
		if (fetch)
			p->ms_fetch = mono_ms() - t0;
		if (rc < 0) {
			/* nothing is applied or deleted from a repository that could not be read;
			 * the cache is opened again next time (it may have been removed) */
			if (rc == FO_ESTOPPED)
				fo_info(verb, "%s", fo_err_msg(&e)); /* no failure: the agent is stopping */
			else
				cli_report(verb, "%s", fo_err_msg(&e));
			sync_free(ctx->repo);
			ctx->repo = NULL;
			goto cleanup;
		}
		if (fetch) {
			memcpy(ctx->commit, p->commit, sizeof(ctx->commit));
			ctx->fetched_at = t0;
		}
	}
	deploy_scope_filter(&p->desired, p->cfg->kubernetes.namespaces.v, p->cfg->kubernetes.namespaces.n, &d);
	flink_note_defaults(&p->desired, &d);
	/* snapshots are not deployments: they render nothing and have their own engine */
	flink_split_snapshots(&p->desired, &p->snapshots);
	/* blue/green resources have their own engine, which adds their
	 * children to the deployments (cli_pass_bluegreen) */
	flink_split_bluegreens(&p->desired, &p->bluegreens);
	if (!p->cfg->flink.submit_jobs)
		for (size_t i = 0; i < p->bluegreens.n; i++)
			fo_diag_add(&d, FO_SEV_ERROR, p->bluegreens.v[i]->source, p->bluegreens.v[i]->line,
				    p->bluegreens.v[i]->col,
				    "FlinkBlueGreenDeployment %s/%s: a blue/green switch is decided by its jobs, and "
				    "flink.submitJobs is false: nothing of it is applied, and nothing is deleted in this "
				    "pass",
				    p->bluegreens.v[i]->namespace, p->bluegreens.v[i]->name);
	cli_report_diags(verb, &d);
	p->bad = d.nerrors;
	if ((rc = agent_ctx_connect(ctx, &e)) < 0)
		goto api_failed;
	p->kc = ctx->kc;
	p->stats0 = *k8s_client_stats(p->kc);
	if ((rc = deploy_live_load(p->kc, p->cfg->agent.name, p->cfg->kubernetes.namespaces.v,
				   p->cfg->kubernetes.namespaces.n, &p->live, &e)) < 0)
		goto api_failed;
	p->api_ok = true;
	rollback_specs(verb, p);
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
		p->rollout.rollback = !fo_streq(c->flink.rollback, "off");
		p->rollout.jar.cache_dir = c->flink.jar_cache_dir;
		p->rollout.jar.cache_max_bytes = c->flink.jar_cache_max_bytes;
		p->rollout.jar.s3_endpoint = c->flink.s3_endpoint;
		p->rollout.jar.s3_region = c->flink.s3_region;
		p->rollout.jar.s3_access_key_file = c->flink.s3_access_key_file;
		p->rollout.jar.s3_secret_key_file = c->flink.s3_secret_key_file;
		p->rollout.jar.ca_file = c->flink.ca_file;
		p->rollout.ca_file = c->flink.ca_file; /* an https:// REST endpoint too */
		p->rollout.commit = p->commit[0] ? p->commit : NULL;
		p->rollout.fence = ctx->fence;
		/* Flink calls too end within the bound leader election sets on
		 * API calls (config.h); a jar's upload and run keep their own
		 * timeouts: the journaled job id is their second fence */
		if (ctx->fence)
			p->rollout.call_timeout_ms = (long)c->kubernetes.timeout_ms;
		p->opts.rollout = &p->rollout;
	}
	if (p->bad) {
		/* a deployment whose file does not parse is unknown, not deleted */
		p->skip = fo_asprintf("%zu problem%s in the manifests, so a missing deployment may only be unreadable",
				      p->bad, p->bad == 1 ? "" : "s");
		p->opts.prune_skip_reason = p->skip;
	}
	goto cleanup;
api_failed:
	cli_report(verb, "%s", fo_err_msg(&e));
	/* whatever broke (a rotated certificate, a moved server), the next pass
	 * connects anew from the configuration */
	k8s_client_free(ctx->kc);
	ctx->kc = NULL;
	p->kc = NULL;
cleanup:
	fo_diags_free(&d);
	fo_err_clear(&e);
	return rc;
}

void cli_pass_close(cli_pass *p)
{
	deploy_live_free(p->live);
	deploy_retention_ctx_free(&p->retention);
	deploy_snapshots_free(&p->snaps);
	flink_deployments_free(&p->snapshots);
	deploy_bg_pass_free(&p->bg);
	flink_deployments_free(&p->bluegreens);
	flink_deployments_free(&p->desired);
	free(p->source);
	free(p->skip);
	cli_source_free(&p->src);
	memset(p, 0, sizeof(*p));
}

void cli_pass_stats(const cli_pass *p, k8s_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!p->kc)
		return;
	const k8s_stats *now = k8s_client_stats(p->kc), *was = &p->stats0;
	out->get = now->get - was->get;
	out->list = now->list - was->list;
	out->apply = now->apply - was->apply;
	out->dry_run = now->dry_run - was->dry_run;
	out->del = now->del - was->del;
	out->other = now->other - was->other;
	out->cached = now->cached - was->cached;
	out->retries = now->retries - was->retries;
	out->failures = now->failures - was->failures;
}

/*
 * List the plain objects of ours and decide (deploy_plain_decide, with the
 * FlinkDeployments' own prune verdict as a guard) into pass->plain. A
 * namespace where a deployment gone from git is still being deleted keeps
 * its plain objects for this pass. Returns 0, or the first error (also
 * reported); nothing is decided when the listing failed.
 */
static int plain_decide(const char *verb, cli_pass *cp, deploy_pass *pass)
{
	fo_err e = FO_ERR_INIT;
	deploy_plain_live live = {0};
	const char **held = fo_calloc(pass->n + 1, sizeof(*held));
	size_t nheld = 0;
	int rc = deploy_plain_list(cp->kc, cp->opts.agent, cp->cfg->kubernetes.namespaces.v,
				   cp->cfg->kubernetes.namespaces.n, &live, &e);
	if (rc == FO_EFORBIDDEN && cp->desired.plain.n == 0) {
		/* an install from before plain kinds, whose repository has none:
		 * nothing to apply, and nothing can have been applied to prune */
		fo_warn(verb, "%s (the repository has no ServiceAccount, Role or RoleBinding: nothing to do)",
			fo_err_msg(&e));
		rc = 0;
		goto cleanup;
	}
	if (rc < 0) {
		/* nothing is known of them: nothing is applied or deleted */
		cli_report(verb, "%s", fo_err_msg(&e));
		goto cleanup;
	}
	for (size_t i = 0; i < pass->n; i++)
		if (!pass->items[i].fd)
			held[nheld++] = pass->items[i].ns;
	deploy_plain_guard g = {
		.prune = cp->opts.prune,
		.max_delete_ratio = cp->opts.max_delete_ratio,
		.force_prune = cp->opts.force_prune,
		.skip_reason = cp->opts.prune_skip_reason,
		.refused_reason = pass->aborted ? "the API server became unreachable"
				  : pass->prune_refused ? "the FlinkDeployments' prune is refused"
							: NULL,
		.held_ns = held,
		.nheld = nheld,
	};
	deploy_plain_decide(&cp->desired.plain, &live, cp->opts.agent, &g, &pass->plain);
	pass->plain_listed = true;
cleanup:
	free(held);
	deploy_plain_live_free(&live);
	fo_err_clear(&e);
	return rc;
}

/* Before the FlinkDeployments are applied (their pods run as the
 * ServiceAccounts): decide, then apply what git changed. Returns 0, or the
 * first error (also reported). */
static int plain_apply(const char *verb, cli_pass *cp, deploy_pass *pass)
{
	int rc = plain_decide(verb, cp, pass);
	if (rc < 0 || !pass->plain_listed)
		return rc;
	if (pass->plain.prune_refused)
		cli_report(verb, "ServiceAccounts, Roles and RoleBindings gone from git: %s", pass->plain.prune_reason);
	fo_err e = FO_ERR_INIT;
	if ((rc = deploy_plain_apply(cp->kc, &pass->plain, cp->opts.agent, &e)) < 0)
		cli_report(verb, "%s", fo_err_msg(&e));
	fo_err_clear(&e);
	return rc;
}

/* After the FlinkDeployments: delete the plain objects gone from git that
 * no guard keeps — unless the pass lost the API server on the way. */
static int plain_prune(const char *verb, cli_pass *cp, deploy_pass *pass)
{
	if (!pass->plain_listed || pass->aborted)
		return 0;
	fo_err e = FO_ERR_INIT;
	int rc = deploy_plain_prune(cp->kc, &pass->plain, &e);
	if (rc < 0)
		cli_report(verb, "%s", fo_err_msg(&e));
	fo_err_clear(&e);
	return rc;
}

int cli_pass_bluegreen(const char *verb, cli_pass *cp, bool decide)
{
	const char *key, *text, *rv;
	if (!cp->kc || !cp->api_ok || (!cp->bluegreens.n && !deploy_live_bluegreen_at(cp->live, 0, &key, &text, &rv)))
		return 0; /* none in git, none recorded */
	fo_err e = FO_ERR_INIT;
	/* without jobs nothing can be decided, and nothing of it applied:
	 * every child is kept as it is (the pass reports each as an error) */
	bool jobs = cp->cfg->flink.submit_jobs;
	int rc = deploy_bg_pass_run(cp->kc, cp->live, &cp->bluegreens, &cp->opts, decide && jobs,
				    jobs ? &cp->desired : NULL, &cp->bg, &e);
	if (rc < 0)
		cli_report(verb, "%s", fo_err_msg(&e));
	fo_err_clear(&e);
	cp->opts.bg_held = cp->bg.held;
	cp->opts.nbg_held = cp->bg.nheld;
	cp->opts.bg_removed = cp->bg.removed;
	cp->opts.nbg_removed = cp->bg.nremoved;
	return rc;
}

/* FNV-1a over `s` and a separator, folded into `h`. */
static uint64_t fold(uint64_t h, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL; /* 0xff is never in UTF-8 text */
}

/* agent_pass_result.progress: the journals' names and versions, in the
 * pass's own order (the same manifests give the same order). */
static uint64_t pass_progress(const deploy_pass *pass, const cli_pass *cp)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < pass->n; i++) {
		const deploy_item *it = &pass->items[i];
		h = fold(fold(fold(h, it->ns), it->name), it->journal.resource_version);
	}
	for (size_t i = 0; i < cp->snaps.n; i++) {
		const deploy_snapshot_item *sn = &cp->snaps.v[i];
		h = fold(h, sn->has_rec ? sn->rec.resource_version : NULL);
	}
	for (size_t i = 0; i < cp->bg.n; i++)
		h = fold(fold(fold(h, cp->bg.v[i].ns), cp->bg.v[i].name), cp->bg.v[i].rv);
	return h;
}

void agent_pass_run(agent_ctx *ctx, const agent_pass_opts *o, cli_pass *cp, deploy_pass *pass,
		    agent_pass_result *r)
{
	memset(r, 0, sizeof(*r));
	r->status = EXIT_FAIL;
	fo_err e = FO_ERR_INIT;
	ctx->stop = o->stop;
	ctx->alive = o->alive;
	if (ctx->kc)
		k8s_client_set_alive(ctx->kc, o->alive);
	if (cli_pass_open(o->verb, ctx, o->manifests, !o->no_fetch, cp) < 0)
		goto cleanup;
	cp->opts.force_prune = o->force_prune;
	cp->opts.keep_live = o->keep_live;
	cp->opts.stop = o->stop;
	cp->opts.alive = o->alive;
	if (cp->kc) {
		k8s_client_set_stop(cp->kc, o->stop); /* a retry waits for nothing once stopping */
		k8s_client_set_alive(cp->kc, o->alive);
	}
	/* the blue/green children join the deployments before anything is planned */
	int bgrc = cli_pass_bluegreen(o->verb, cp, !o->read_only);
	if (o->read_only) {
		if (cp->bad)
			goto cleanup; /* an invalid file: its deployment's fate is unknown */
		deploy_reconcile_plan(&cp->desired, cp->live, cp->kc, &cp->opts, pass, &e);
		if (pass->aborted) {
			/* what was not read cannot be planned: no plan rather than half of one */
			cli_report(o->verb, "%s", pass->abort_reason);
			goto cleanup;
		}
		if (plain_decide(o->verb, cp, pass) < 0)
			goto cleanup;
		r->status = EXIT_OK;
		goto cleanup;
	}
	deploy_reconcile_plan(&cp->desired, cp->live, cp->kc, &cp->opts, pass, &e);
	/* before the rollouts: a snapshot in flight holds its job's stop */
	deploy_snapshots_plan(&cp->snapshots, cp->live, pass, &cp->snaps);
	cli_retention_context(cp, pass);
	int prc = pass->aborted ? 0 : plain_apply(o->verb, cp, pass);
	int rc = deploy_reconcile_apply(cp->kc, pass, &cp->opts, &e);
	if (rc < 0)
		cli_report(o->verb, "%s", fo_err_msg(&e));
	/* after them: a snapshot is asked only of a job whose rollout settled */
	fo_err sne = FO_ERR_INIT;
	int snrc = pass->aborted ? 0 : deploy_snapshots_run(cp->kc, pass, &cp->snaps, &cp->opts, &sne);
	if (snrc < 0)
		cli_report(o->verb, "%s", fo_err_msg(&sne));
	fo_err_clear(&sne);
	if (plain_prune(o->verb, cp, pass) < 0 || prc < 0 || pass->plain.prune_refused)
		prc = -1;
	fo_err se = FO_ERR_INIT;
	/* a leader that lost the Lease during the pass pushes no status: what
	 * it would write may already be stale, and the new leader writes its own */
	int src = fo_fence_check(ctx->fence, "push the status files", &se);
	if (src == 0)
		src = cli_write_statuses(cp, pass, r->status_commit, &se);
	if (src < 0) {
		cli_report(o->verb, "%s", fo_err_msg(&se));
	} else if (cp->src.repo || !cp->cfg->status.enabled) {
		/* the final savepoints are in git now (or nowhere to put them):
		 * the journals of deleted deployments may go */
		if (deploy_pass_forget_deleted(cp->kc, pass, &se) < 0)
			cli_report(o->verb, "%s", fo_err_msg(&se));
		fo_err_clear(&se);
		if (deploy_snapshots_forget(cp->kc, &cp->snaps, &se) < 0)
			cli_report(o->verb, "%s", fo_err_msg(&se));
	}
	fo_err_clear(&se);
	for (size_t i = 0; i < pass->n; i++) {
		r->failed += pass->items[i].outcome == DEPLOY_OUTCOME_FAILED;
		r->waiting += pass->items[i].outcome == DEPLOY_OUTCOME_WAITING;
		r->rolled_back += pass->items[i].outcome == DEPLOY_OUTCOME_SETTLED && pass->items[i].fd &&
				  pass->items[i].fd->spec_commit;
	}
	for (size_t i = 0; i < cp->snaps.n; i++) {
		r->failed += cp->snaps.v[i].outcome == DEPLOY_OUTCOME_FAILED;
		r->waiting += cp->snaps.v[i].outcome == DEPLOY_OUTCOME_WAITING;
	}
	for (size_t i = 0; i < cp->bg.n; i++) {
		const deploy_bg_item *b = &cp->bg.v[i];
		bool failed = b->error || b->journal.error;
		r->failed += failed;
		/* a switch in flight is waited for (its children wait on their
		 * own), and so is a delete whose children are going */
		r->waiting += !failed && (b->op == DEPLOY_BG_OP_WAIT ||
					  (b->op == DEPLOY_BG_OP_DELETE && !pass->prune_refused && !pass->prune_disabled));
	}
	r->progress = pass_progress(pass, cp);
	r->status = rc < 0 || snrc < 0 || prc < 0 || src < 0 || bgrc < 0 || r->failed || cp->bad || pass->prune_refused ||
				    pass->aborted
			    ? EXIT_FAIL
			    : EXIT_OK;
cleanup:
	fo_err_clear(&e);
}
