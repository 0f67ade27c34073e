/*
 * Maintenance of the agent's repository cache (see sync.h): a cache that
 * lives for months gathers loose objects (every status commit writes a few),
 * one pack per fetch that brought something, and — when a worker was killed
 * mid-operation — lock files that would make every later fetch or push
 * fail. All of it with libgit2's pack builder; no git process is started.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fs.h"
#include "lib/log.h"
#include "lib/util.h"
#include "sync/internal.h"

#define DEFAULT_LOOSE_MAX 100
#define DEFAULT_PACKS_MAX 20
#define DEFAULT_STALE_S 900
/* refs nest a few levels (refs/remotes/origin/x); deeper is not ours */
#define MAX_DEPTH 12

bool sync_is_stale_leftover(const char *name, long age_s, long stale_s)
{
	if (age_s <= stale_s)
		return false;
	/* git_filebuf's locks (HEAD.lock, refs/heads/main.lock, packed-refs.lock,
	 * config.lock), and its temporary files (tmp_object_git2_*, the
	 * indexer's pack_git2_*) */
	return fo_has_suffix(name, ".lock") || strstr(name, "_git2_") != NULL;
}

typedef struct walk {
	sync_maintain_report *rep;
	time_t now;
	long stale_s;
	int depth;
	git_oid *loose;        /* loose objects found */
	size_t nloose, cap;
	char **packs;          /* objects/pack/pack-*.pack without a .keep */
	size_t npacks, pcap;
	char *gitdir;          /* without the trailing '/' */
} walk;

static int visit(const char *path, const char *name, const struct stat *st, void *arg);

static int descend(walk *w, const char *path)
{
	if (w->depth >= MAX_DEPTH)
		return 0;
	w->depth++;
	fo_err ignore = FO_ERR_INIT;
	fo_fs_each(path, visit, w, &ignore);
	fo_err_clear(&ignore);
	w->depth--;
	return 0;
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}

/* Every entry of the git folder: leftovers go, loose objects and packs are noted. */
static int visit(const char *path, const char *name, const struct stat *st, void *arg)
{
	walk *w = arg;
	if (S_ISDIR(st->st_mode))
		return descend(w, path);
	if (!S_ISREG(st->st_mode))
		return 0;
	if (sync_is_stale_leftover(name, (long)(w->now - st->st_mtim.tv_sec), w->stale_s)) {
		if (unlink(path) == 0) {
			fo_info("sync", "removed %s, left by a worker that stopped %ld s ago", path,
				(long)(w->now - st->st_mtim.tv_sec));
			w->rep->stale_removed++;
		}
		return 0;
	}
	/* objects/XX/<38 hex>: a loose object */
	size_t len = strlen(path);
	const char *dir = len >= 49 ? path + len - 41 : NULL; /* "XX/" and the 38 */
	if (dir && dir[2] == '/' && is_hex(name, 38) && strncmp(dir - 8, "objects/", 8) == 0) {
		char hex[41];
		memcpy(hex, dir, 2);
		memcpy(hex + 2, name, 38);
		hex[40] = '\0';
		w->loose = fo_grow(w->loose, &w->cap, w->nloose + 1, sizeof(*w->loose));
		if (git_oid_fromstr(&w->loose[w->nloose], hex) == 0)
			w->nloose++;
		return 0;
	}
	if (fo_has_prefix(name, "pack-") && fo_has_suffix(name, ".pack") && strstr(path, "/objects/pack/")) {
		char *keep = fo_strdup(path);
		strcpy(keep + strlen(keep) - 5, ".keep");
		if (access(keep, F_OK) != 0) {
			w->packs = fo_grow(w->packs, &w->pcap, w->npacks + 1, sizeof(*w->packs));
			w->packs[w->npacks++] = fo_strdup(path);
		}
		free(keep);
	}
	return 0;
}

static char *loose_path(const char *gitdir, const git_oid *id)
{
	char hex[GIT_OID_HEXSZ + 1];
	git_oid_tostr(hex, sizeof(hex), id);
	return fo_asprintf("%s/objects/%.2s/%s", gitdir, hex, hex + 2);
}

/* Remove the loose objects found, once a pack written since holds them. */
static void remove_loose(walk *w)
{
	for (size_t i = 0; i < w->nloose; i++) {
		char *p = loose_path(w->gitdir, &w->loose[i]);
		if (unlink(p) == 0)
			w->rep->loose_packed++;
		*strrchr(p, '/') = '\0';
		rmdir(p); /* the fan-out folder, once empty */
		free(p);
	}
}

/* Pack the loose objects, then remove them: the pack holds each of them. */
static int pack_loose(git_repository *repo, walk *w, fo_err *e)
{
	git_packbuilder *pb = NULL;
	int rc = 0;
	if (git_packbuilder_new(&pb, repo) < 0)
		return fo_err_set(e, FO_EIO, "packing loose objects: %s", sync_git_msg());
	for (size_t i = 0; i < w->nloose && rc == 0; i++)
		if (git_packbuilder_insert(pb, &w->loose[i], NULL) < 0)
			rc = fo_err_set(e, FO_EIO, "packing loose objects: %s", sync_git_msg());
	if (rc == 0 && git_packbuilder_write(pb, NULL, 0, NULL, NULL) < 0)
		rc = fo_err_set(e, FO_EIO, "writing the pack of loose objects: %s", sync_git_msg());
	git_packbuilder_free(pb);
	if (rc < 0)
		return rc; /* nothing removed: the loose objects stay as they were */
	remove_loose(w);
	return 0;
}

static int insert_target(git_reference *ref, void *arg)
{
	git_packbuilder *pb = arg;
	git_reference *resolved = NULL;
	/* a tag object is not reached by the walk of commits: insert each
	 * ref's own target with what it points to */
	if (git_reference_resolve(&resolved, ref) == 0 && git_reference_target(resolved))
		git_packbuilder_insert_recur(pb, git_reference_target(resolved), NULL);
	git_reference_free(resolved);
	git_reference_free(ref);
	return 0;
}

/* One pack of everything the refs reach, then the old packs go. */
static int repack_all(git_repository *repo, walk *w, fo_err *e)
{
	git_packbuilder *pb = NULL;
	git_revwalk *rw = NULL;
	int rc = 0;
	if (git_packbuilder_new(&pb, repo) < 0 || git_revwalk_new(&rw, repo) < 0) {
		rc = fo_err_set(e, FO_EIO, "repacking: %s", sync_git_msg());
		goto cleanup;
	}
	git_revwalk_push_glob(rw, "refs/*");
	git_revwalk_push_head(rw); /* a bare cache may have no HEAD commit: fine */
	if (git_packbuilder_insert_walk(pb, rw) < 0 || git_reference_foreach(repo, insert_target, pb) < 0) {
		rc = fo_err_set(e, FO_EIO, "repacking: %s", sync_git_msg());
		goto cleanup;
	}
	if (git_packbuilder_write(pb, NULL, 0, NULL, NULL) < 0) {
		rc = fo_err_set(e, FO_EIO, "writing the repacked objects: %s", sync_git_msg());
		goto cleanup;
	}
	char *kept = fo_asprintf("pack-%s.pack", git_packbuilder_name(pb));
	for (size_t i = 0; i < w->npacks; i++) {
		if (fo_has_suffix(w->packs[i], kept))
			continue;
		/* the index first: without it the pack is never looked at */
		static const char *const exts[] = {".idx", ".rev", ".bitmap", ".mtimes", ".pack"};
		char *base = fo_strndup(w->packs[i], strlen(w->packs[i]) - 5);
		for (size_t k = 0; k < FO_ARRAY_LEN(exts); k++) {
			char *p = fo_asprintf("%s%s", base, exts[k]);
			unlink(p);
			free(p);
		}
		free(base);
		w->rep->packs_merged++;
	}
	free(kept);
cleanup:
	git_revwalk_free(rw);
	git_packbuilder_free(pb);
	return rc;
}

int sync_maintain(sync_repo *r, const sync_maintain_opts *o, sync_maintain_report *out, fo_err *e)
{
	sync_maintain_report rep;
	memset(&rep, 0, sizeof(rep));
	if (out)
		*out = rep;
	if (!sync_repo_is_cache(r))
		return 0; /* a repository opened in place is its owner's to maintain */
	git_repository *repo = sync_repo_git(r);
	walk w;
	memset(&w, 0, sizeof(w));
	w.rep = &rep;
	w.now = time(NULL);
	w.stale_s = o && o->stale_s > 0 ? o->stale_s : DEFAULT_STALE_S;
	w.gitdir = fo_strdup(git_repository_path(repo));
	size_t gl = strlen(w.gitdir);
	if (gl > 1 && w.gitdir[gl - 1] == '/')
		w.gitdir[gl - 1] = '\0';
	size_t loose_max = o && o->loose_max ? o->loose_max : DEFAULT_LOOSE_MAX;
	size_t packs_max = o && o->packs_max ? o->packs_max : DEFAULT_PACKS_MAX;
	int rc = 0;
	descend(&w, w.gitdir);
	if (w.npacks > packs_max) {
		/* everything reachable into one pack, the loose objects with it
		 * (one no ref reaches is dropped, as git gc drops it) */
		rc = repack_all(repo, &w, e);
		if (rc == 0)
			remove_loose(&w);
	} else if (w.nloose > loose_max) {
		rc = pack_loose(repo, &w, e);
	}
	git_odb *odb = NULL;
	if (git_repository_odb(&odb, repo) == 0) {
		git_odb_refresh(odb); /* what this process reads from now on */
		git_odb_free(odb);
	}
	if (rep.loose_packed || rep.packs_merged || rep.stale_removed)
		fo_info("sync", "cache %s: %zu loose objects packed, %zu packs merged into one, %zu stale files removed",
			w.gitdir, rep.loose_packed, rep.packs_merged, rep.stale_removed);
	for (size_t i = 0; i < w.npacks; i++)
		free(w.packs[i]);
	free(w.packs);
	free(w.loose);
	free(w.gitdir);
	if (out)
		*out = rep;
	return rc;
}
