/*
 * Local file helpers: collect manifest files under paths (sorted, so that
 * every run sees them in the same order) and read small files whole with a
 * size limit.
 */
#ifndef FO_FS_H
#define FO_FS_H

#include <stddef.h>

#include "lib/err.h"

typedef struct fo_paths {
	char **v;
	size_t n, cap;
} fo_paths;

/*
 * Add `path` to `out`: a file as it is, a folder by walking it for *.yaml and
 * *.yml files (hidden entries such as .git are skipped, symbolic links inside
 * folders are not followed). Files found in one folder are sorted by path.
 */
int fo_fs_collect(const char *path, fo_paths *out, fo_err *e);
void fo_paths_free(fo_paths *p);
/*
 * Call fn for each entry of the folder `dir` but "." and "..", in readdir
 * order, with its path, its name and its lstat (an entry that vanished in
 * between is skipped). A non-zero return from fn stops the walk and is
 * returned. A folder that does not exist is FO_ENOTFOUND, one that cannot
 * be read FO_EIO.
 */
struct stat;
int fo_fs_each(const char *dir, int (*fn)(const char *path, const char *name, const struct stat *st, void *arg),
	       void *arg, fo_err *e);
/* Read a whole file of at most `max` bytes into *out (NUL-terminated); caller frees. */
int fo_fs_read(const char *path, size_t max, char **out, size_t *len, fo_err *e);

#endif
