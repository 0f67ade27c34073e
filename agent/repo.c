/*
 * The manifests of the configured repository: fetch it (sync/), read the
 * FlinkDeployment files of the branch's newest commit — or, for a re-check
 * of waiting deployments, of the commit the last fetch read — and parse
 * them. Shared by the verbs that act on what git says (sync, agent).
 */
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "sync/sync.h"

void cli_sync_auth(const config *cfg, sync_auth *a)
{
	memset(a, 0, sizeof(*a));
	a->username = cfg->repository.username;
	a->password_file = cfg->repository.password_file;
	a->ca_file = cfg->repository.ca_file;
	a->ssh_key_file = cfg->repository.ssh_key_file;
	a->ssh_known_hosts = cfg->repository.known_hosts_file;
	a->ssh_accept_unknown = cfg->repository.accept_unknown_host_key;
	a->timeout_seconds = (int)(cfg->repository.timeout_ms / 1000);
}

int cli_open_repository(const config *cfg, sync_repo **repo, fo_err *e)
{
	if (*repo)
		return 0;
	sync_auth auth;
	cli_sync_auth(cfg, &auth);
	return sync_open(cfg->repository.url, cfg->repository.cache_dir, &auth, repo, e);
}

int cli_load_repository(const config *cfg, sync_repo **repo, bool fetch, flink_deployments *out, size_t *nfiles,
			fo_diags *d, char **source, char commit[SYNC_OID_HEX], cli_source *src, fo_err *e)
{
	sync_files files = {0};
	int rc = 0;
	if ((rc = cli_open_repository(cfg, repo, e)) < 0)
		goto cleanup;
	sync_repo *r = *repo;
	if (fetch && (rc = sync_fetch(r, cfg->repository.branch, commit, e)) < 0)
		goto cleanup;
	sync_select sel = {cfg->repository.path, cfg->repository.glob, cfg->status.folder, 0};
	if ((rc = sync_read_manifests(r, commit, &sel, &files, d, e)) < 0)
		goto cleanup;
	for (size_t i = 0; i < files.n; i++) {
		flink_load_buffer(files.v[i].path, files.v[i].data, files.v[i].len, out, NULL, d);
		/* what a document names, also one that does not validate: retention keeps it */
		if (src && memmem(files.v[i].data, files.v[i].len, "initialSavepointPath", 20))
			cli_retention_scan_manifest(&src->initial, files.v[i].path, files.v[i].data, files.v[i].len);
	}
	flink_check_repository(out, d);
	*nfiles = files.n;
	*source = fo_asprintf("%s %s@%.7s (%zu file%s)", sync_display_url(r), cfg->repository.branch, commit, files.n,
			      files.n == 1 ? "" : "s");
	if (src) {
		/* the caller writes status files: it needs the repository and each file's blob */
		src->files = fo_calloc(files.n ? files.n : 1, sizeof(*src->files));
		for (size_t i = 0; i < files.n; i++) {
			src->files[i].path = fo_strdup(files.v[i].path);
			memcpy(src->files[i].blob, files.v[i].blob, SYNC_OID_HEX);
		}
		src->n = files.n;
		src->repo = r;
	}
cleanup:
	sync_files_free(&files);
	return rc;
}

void cli_source_free(cli_source *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->files[i].path);
	free(s->files);
	deploy_retention_ctx_free(&s->initial);
	memset(s, 0, sizeof(*s));
}
