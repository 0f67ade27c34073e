/*
 * What the files of the sync module share and nothing else sees: the
 * libgit2 repository behind a sync_repo, and libgit2's last error message.
 */
#ifndef SYNC_INTERNAL_H
#define SYNC_INTERNAL_H

#include <git2.h>

#include "sync/sync.h"

/* The repository `r` wraps (owned by `r`). */
git_repository *sync_repo_git(sync_repo *r);
/* Whether `r` is a cache flinkops made (not a repository opened in place). */
bool sync_repo_is_cache(const sync_repo *r);
/* libgit2's message for the last failure. */
const char *sync_git_msg(void);

#endif
