/*
 * Local file helpers. See fs.h.
 */
#include "lib/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"

#define MAX_WALK_DEPTH 32

static void paths_add(fo_paths *p, const char *path)
{
	p->v = fo_grow(p->v, &p->cap, p->n + 1, sizeof(*p->v));
	p->v[p->n++] = fo_strdup(path);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_manifest_name(const char *name)
{
	return fo_has_suffix(name, ".yaml") || fo_has_suffix(name, ".yml");
}

static int walk(const char *dir, fo_paths *out, int depth, fo_err *e)
{
	if (depth > MAX_WALK_DEPTH)
		return fo_err_set(e, FO_ETOOBIG, "%s: folders nested deeper than %d levels", dir, MAX_WALK_DEPTH);
	DIR *d = opendir(dir);
	if (!d)
		return fo_err_set(e, FO_EIO, "%s: cannot open folder: %s", dir, strerror(errno));
	fo_paths here = {0};
	int rc = 0;
	struct dirent *ent;
	while ((ent = readdir(d)) != NULL) {
		if (ent->d_name[0] == '.')
			continue;
		char *p = fo_asprintf("%s/%s", dir, ent->d_name);
		struct stat st;
		if (lstat(p, &st) != 0) {
			free(p);
			continue;
		}
		if (S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && is_manifest_name(ent->d_name)))
			paths_add(&here, p);
		free(p);
	}
	closedir(d);
	if (here.n)
		qsort(here.v, here.n, sizeof(*here.v), cmp_str);
	for (size_t i = 0; i < here.n && rc == 0; i++) {
		struct stat st;
		if (lstat(here.v[i], &st) == 0 && S_ISDIR(st.st_mode))
			rc = walk(here.v[i], out, depth + 1, e);
		else
			paths_add(out, here.v[i]);
	}
	fo_paths_free(&here);
	return rc;
}

int fo_fs_collect(const char *path, fo_paths *out, fo_err *e)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return fo_err_set(e, FO_ENOTFOUND, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		/* strip trailing slashes so that paths print cleanly */
		char *clean = fo_strdup(path);
		size_t l = strlen(clean);
		while (l > 1 && clean[l - 1] == '/')
			clean[--l] = '\0';
		int rc = walk(clean, out, 0, e);
		free(clean);
		return rc;
	}
	paths_add(out, path);
	return 0;
}

void fo_paths_free(fo_paths *p)
{
	if (!p)
		return;
	fo_strv_free(p->v, p->n);
	p->v = NULL;
	p->n = p->cap = 0;
}

int fo_fs_read(const char *path, size_t max, char **out, size_t *len, fo_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fo_err_set(e, errno == ENOENT ? FO_ENOTFOUND : FO_EIO, "%s: %s", path, strerror(errno));
	fo_buf b = FO_BUF_INIT;
	char chunk[16384];
	int rc = 0;
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = fo_err_set(e, FO_EIO, "%s: %s", path, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		fo_buf_put(&b, chunk, (size_t)r);
		if (b.len > max) {
			rc = fo_err_set(e, FO_ETOOBIG, "%s: larger than %zu bytes", path, max);
			break;
		}
	}
	close(fd);
	if (rc < 0) {
		fo_buf_free(&b);
		return rc;
	}
	if (len)
		*len = b.len;
	*out = fo_buf_detach(&b);
	return 0;
}

int fo_fs_each(const char *dir, int (*fn)(const char *path, const char *name, const struct stat *st, void *arg),
	       void *arg, fo_err *e)
{
	DIR *d = opendir(dir);
	if (!d)
		return fo_err_set(e, errno == ENOENT ? FO_ENOTFOUND : FO_EIO, "%s: cannot open folder: %s", dir,
				  strerror(errno));
	int rc = 0;
	struct dirent *ent;
	while (rc == 0 && (ent = readdir(d)) != NULL) {
		if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
			continue;
		char *p = fo_asprintf("%s/%s", dir, ent->d_name);
		struct stat st;
		if (lstat(p, &st) == 0)
			rc = fn(p, ent->d_name, &st, arg);
		free(p);
	}
	closedir(d);
	return rc;
}
