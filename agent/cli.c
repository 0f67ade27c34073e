/*
 * Shared pieces of the verbs: printing diagnostics, usage errors, loading
 * manifests from local paths.
 */
#include "agent/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fs.h"

void cli_print_diags(const fo_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		char *line = fo_diag_format(&d->v[i]);
		fprintf(stderr, "%s\n", line);
		free(line);
	}
	if (d->nerrors + 0 > d->n)
		fprintf(stderr, "(%zu more problems not shown)\n", d->nerrors - d->n);
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = fo_vasprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "flinkops %s: %s\nRun 'flinkops %s --help' for usage.\n", verb, m, verb);
	free(m);
	return EXIT_FAIL;
}

int cli_load_manifests(char **paths, int npaths, flink_deployments *out, size_t *nfiles, fo_diags *d)
{
	fo_paths files = {0};
	int rc = 0;
	for (int i = 0; i < npaths; i++) {
		fo_err e = FO_ERR_INIT;
		if (fo_fs_collect(paths[i], &files, &e) < 0) {
			fo_diag_add(d, FO_SEV_ERROR, paths[i], 0, 0, "%s", fo_err_msg(&e));
			rc = FO_EINVAL;
		}
		fo_err_clear(&e);
	}
	for (size_t i = 0; i < files.n; i++)
		if (flink_load_file(files.v[i], out, NULL, d) < 0)
			rc = FO_EINVAL;
	if (flink_check_unique(out, d))
		rc = FO_EINVAL;
	*nfiles = files.n;
	fo_paths_free(&files);
	return rc;
}

int cli_pass_open(const char *verb, const char *cfg_path, const char *manifests, cli_pass *p)
{
	memset(p, 0, sizeof(*p));
	fo_diags d = FO_DIAGS_INIT;
	fo_err e = FO_ERR_INIT;
	int rc = config_load(cfg_path, &p->cfg, &d);
	if (rc < 0) {
		cli_print_diags(&d);
		goto cleanup;
	}
	if (manifests) {
		char *paths[1] = {(char *)manifests};
		cli_load_manifests(paths, 1, &p->desired, &p->nfiles, &d);
		p->source = fo_asprintf("%s (%zu files)", manifests, p->nfiles);
	} else if ((rc = cli_load_repository(p->cfg, &p->desired, &p->nfiles, &d, &p->source, p->commit, &p->src, &e)) < 0) {
		/* nothing is applied or deleted from a repository that could not be read */
		fprintf(stderr, "flinkops %s: %s\n", verb, fo_err_msg(&e));
		goto cleanup;
	}
	cli_print_diags(&d);
	p->bad = d.nerrors;
	if ((rc = cli_k8s_connect(p->cfg, &p->kc, &e)) < 0 ||
	    (rc = deploy_live_load(p->kc, p->cfg->agent.name, NULL, &p->live, &e)) < 0) {
		fprintf(stderr, "flinkops %s: %s\n", verb, fo_err_msg(&e));
		goto cleanup;
	}
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
		p->rollout.jar.s3_endpoint = c->flink.s3_endpoint;
		p->rollout.jar.s3_region = c->flink.s3_region;
		p->rollout.jar.s3_access_key_file = c->flink.s3_access_key_file;
		p->rollout.jar.s3_secret_key_file = c->flink.s3_secret_key_file;
		p->rollout.jar.ca_file = c->flink.ca_file;
		p->rollout.ca_file = c->flink.ca_file; /* an https:// REST endpoint too */
		p->rollout.commit = p->commit[0] ? p->commit : NULL;
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
