/*
 * Git, through libgit2: the agent's input (FlinkDeployment manifests at a
 * revision) and its output (status files committed and pushed back). A
 * repository is cloned once, bare, into a cache folder and fetched
 * incrementally after that; files are read straight from the tree of the
 * resolved commit, so no work tree is ever checked out.
 *
 * Ownership follows libgit2: what an _open or _new function gives, the caller frees with
 * the matching *_free; every *_free accepts NULL.
 */
#ifndef SYNC_SYNC_H
#define SYNC_SYNC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"
#include "lib/fence.h"

#define SYNC_OID_HEX 41 /* 40 hex digits and a NUL */

/* How to reach a remote. Secrets are read from files when needed and never
 * stored in messages or logs. */
typedef struct sync_auth {
	const char *username;        /* https: user name (default "git" when only a token is given) */
	const char *password_file;   /* https: a file holding the password or token */
	const char *ca_file;         /* https: extra CA bundle to trust */
	const char *ssh_key_file;    /* ssh: private key (ed25519 or RSA, no passphrase) */
	const char *ssh_known_hosts; /* ssh: known_hosts file checked for the host key */
	bool ssh_accept_unknown;     /* ssh: accept a host missing from known_hosts (never a changed key) */
	int timeout_seconds;         /* network operations (default 60) */
} sync_auth;

typedef struct sync_repo sync_repo;

/*
 * Set up libgit2 for the process (instead of git_libgit2_init; undo with
 * git_libgit2_shutdown), with bounds fit for a daemon that keeps a cache
 * open for months: every fetch adds a pack file, and libgit2 otherwise
 * keeps each pack it ever read open and mapped, and caches up to 256 MiB
 * of objects. Call once, before any thread starts.
 */
void sync_global_init(void);

/*
 * Every program that fetches or pushes calls this first in main(), after
 * sync_global_init: a fetch or push runs in a worker process that is the
 * same program started again with a private argument (so that it can be
 * killed at its deadline, and never forked from a threaded process). When
 * `argv` asks for that worker, this runs it and returns true with the exit
 * status in *status; otherwise it returns false and does nothing.
 */
bool sync_worker_main(int argc, char **argv, int *status);

/*
 * Open the cached clone of `url` under `cache_dir` (created on first use with
 * a bare clone). `url` may be https://, ssh://, git://, file:// or a local
 * path. Nothing is fetched by opening an existing cache.
 */
int sync_open(const char *url, const char *cache_dir, const sync_auth *auth, sync_repo **out, fo_err *e);
void sync_free(sync_repo *r);

/*
 * Fetch from the remote and resolve `ref` — a branch (default "main" when
 * NULL), a tag, or a commit id — to a commit. On failure the cache is left
 * as it was, so a later read sees the last good state, never an empty tree.
 */
int sync_fetch(sync_repo *r, const char *ref, char commit[SYNC_OID_HEX], fo_err *e);
/* From now on, sync_fetch ends at once with FO_ESTOPPED once `*stop` is set
 * (NULL: never; a status push is never cut: it is bounded by the timeout),
 * and each fetch or push that ends marks progress in `*alive` (monotonic
 * ms, fo_mono_ms; NULL: not kept). */
void sync_repo_set_watch(sync_repo *r, const atomic_bool *stop, atomic_llong *alive);
/* Resolve `rev` (anything git rev-parse takes) in the cache without fetching. */
int sync_resolve(sync_repo *r, const char *rev, char commit[SYNC_OID_HEX], fo_err *e);
/* *out = whether `ancestor` is `descendant` or one of its ancestors. */
int sync_is_ancestor(sync_repo *r, const char *ancestor, const char *descendant, bool *out, fo_err *e);

/* Which files are manifests. */
typedef struct sync_select {
	const char *folder;        /* "" or NULL: the whole repository */
	const char *glob;          /* fnmatch(3) pattern on the file name (default "*.yaml" and "*.yml") */
	const char *status_folder; /* skipped (default "status") */
	size_t max_bytes;          /* larger blobs are skipped with a note (default 1 MiB) */
} sync_select;

typedef struct sync_file {
	char *path;                /* repository-relative */
	char blob[SYNC_OID_HEX];
	char *data;                /* NUL-terminated copy of the blob */
	size_t len;
} sync_file;

typedef struct sync_files {
	sync_file *v;
	size_t n, cap;
} sync_files;

/*
 * Read every manifest of `commit` into `out`, sorted by path. Submodules and
 * files in the status folder are skipped; a selected symbolic link or an
 * oversized blob is skipped with an error in `notes` that names it, so that
 * the caller knows the set of deployments is incomplete (and prunes nothing).
 */
int sync_read_manifests(sync_repo *r, const char *commit, const sync_select *sel, sync_files *out,
			fo_diags *notes, fo_err *e);
void sync_files_free(sync_files *f);
/* Read one file at a commit (NULL data and FO_ENOTFOUND when absent). */
int sync_read_file(sync_repo *r, const char *commit, const char *path, char **data, size_t *len, fo_err *e);

enum sync_change_kind { SYNC_ADDED, SYNC_CHANGED, SYNC_REMOVED };

typedef struct sync_change {
	enum sync_change_kind kind;
	char *path;
	char old_blob[SYNC_OID_HEX]; /* "" when added */
	char new_blob[SYNC_OID_HEX]; /* "" when removed */
} sync_change;

typedef struct sync_changes {
	sync_change *v;
	size_t n, cap;
	bool rewritten; /* `old` is not an ancestor of `new`: history was rewritten */
} sync_changes;

/* The manifests added, changed or removed between two commits (by blob id). */
int sync_diff(sync_repo *r, const char *old_commit, const char *new_commit, const sync_select *sel,
	      sync_changes *out, fo_err *e);
void sync_changes_free(sync_changes *c);

typedef struct sync_author {
	const char *name;  /* default "flinkops" */
	const char *email; /* default "flinkops@localhost" */
} sync_author;

typedef struct sync_put {
	const char *path;    /* repository-relative, e.g. status/default/wc.yaml */
	const char *content; /* NULL deletes the file */
} sync_put;

/*
 * Commit `puts` on top of the remote tip of `branch` and push, never with
 * force. Files whose content is already the same are left out; when nothing
 * is left, no commit is made and *commit is "". On a rejected push (someone
 * pushed meanwhile) the commit is rebuilt on the new tip and pushed again,
 * with backoff, at most `attempts` times (default 5).
 */
int sync_commit_push(sync_repo *r, const char *branch, const sync_put *puts, size_t n, const char *message,
		     const sync_author *author, int attempts, char commit[SYNC_OID_HEX], fo_err *e);

/* ---- additions: local repositories, history, pushes with a hook, host keys ---- */

/*
 * Open an existing repository in place (a work tree, its .git or a bare
 * folder; parent folders are searched as git does), for local review: no
 * cache and no network. sync_fetch on such a repository only resolves the
 * ref (a branch is looked up as refs/heads/REF), and sync_commit_push
 * updates the local branch with a compare-and-swap instead of pushing.
 */
int sync_open_local(const char *dir, sync_repo **out, fo_err *e);
/* The URL as fo_url_redact shows it (no user info, no query), or the folder
 * the repository was opened with. */
const char *sync_display_url(const sync_repo *r);
/* The first parent of `commit`, or "" for a root commit. */
int sync_parent(sync_repo *r, const char *commit, char parent[SYNC_OID_HEX], fo_err *e);
/* Whether `commit` names a commit present in the cache (no fetch). */
bool sync_has_commit(sync_repo *r, const char *commit);

/* Tuning of sync_commit_push_ex; zeroed fields take the defaults. */
typedef struct sync_push_opts {
	int attempts;          /* default 5 */
	int backoff_ms;        /* first pause after a rejected push (default 200), doubled, at most 5 s */
	/* Called after the commit is built and before each push attempt
	 * (attempt counts from 1). Tests use it to push concurrently. */
	void (*before_push)(void *ctx, int attempt);
	void *ctx;
	int *attempts_used;    /* when non-NULL: how many pushes were tried */
	const atomic_bool *stop; /* when set (shutdown): a rejected push is not tried again */
	/* Leader election's write fence (NULL: none). Checked before each
	 * fetch and rebuild and again right before each push: once it is
	 * closed nothing more is pushed (FO_EFENCED), because another replica
	 * may have written newer status files meanwhile. */
	const fo_fence *fence;
} sync_push_opts;

/* sync_commit_push with options (`opts` may be NULL). */
int sync_commit_push_ex(sync_repo *r, const char *branch, const sync_put *puts, size_t n, const char *message,
			const sync_author *author, const sync_push_opts *opts, char commit[SYNC_OID_HEX], fo_err *e);

enum sync_host_key { SYNC_HOST_KEY_KNOWN, SYNC_HOST_KEY_UNKNOWN, SYNC_HOST_KEY_CHANGED };

/*
 * Look a server's host key up in known_hosts text (OpenSSH's format: plain
 * and hashed "|1|" host patterns, "[host]:port" for a port other than 22,
 * comma-separated lists, "!" negation; @revoked and @cert-authority lines
 * are not trusted). `keytype` is e.g. "ssh-ed25519", `key_b64` the key as
 * known_hosts writes it. CHANGED when an @revoked line for the host holds
 * this key (wherever it stands), else KNOWN when a line for the host holds
 * it, CHANGED when one holds another key of the same type, else UNKNOWN.
 * Pure; no I/O.
 */
enum sync_host_key sync_known_hosts_check(const char *text, size_t len, const char *host, int port,
					  const char *keytype, const char *key_b64);

/* ---- cache maintenance (maintain.c) ---- */

typedef struct sync_maintain_opts {
	size_t loose_max;      /* pack the loose objects once there are more (default 100) */
	size_t packs_max;      /* repack everything into one pack once there are more packs (default 20) */
	long stale_s;          /* a lock or temporary file older than this is a dead worker's (default 900) */
} sync_maintain_opts;

typedef struct sync_maintain_report {
	size_t loose_packed;   /* loose objects now in a pack (and removed) */
	size_t packs_merged;   /* packs replaced by one */
	size_t stale_removed;  /* stale *.lock and temporary files removed */
} sync_maintain_report;

/*
 * Keep a long-lived cache small and usable, with libgit2 alone (no git
 * process): remove *.lock files and libgit2's temporary files older than
 * stale_s (left by a worker that was killed: a lock would block every later
 * fetch or push); pack the loose objects that status commits leave once
 * there are more than loose_max, then remove them; and once fetches have
 * left more than packs_max packs, write one pack of everything the refs
 * reach and remove the others. Call it only while no fetch, read or push
 * runs on the cache (between passes): it judges a lock stale by age alone.
 */
int sync_maintain(sync_repo *r, const sync_maintain_opts *o, sync_maintain_report *out, fo_err *e);
/* Whether an entry of a git folder named `name`, `age_s` seconds old, is a
 * dead worker's leftover: a *.lock, or a libgit2 temporary file, older than
 * `stale_s`. Pure. */
bool sync_is_stale_leftover(const char *name, long age_s, long stale_s);

#endif
