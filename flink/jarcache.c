/*
 * The jar cache's bound (see jar.h): which versions go when the cache is
 * over its size (a pure decision, least recently used first, never a jar in
 * use), and the walk of the cache folder that measures it and removes them.
 * A version's last use is its jar's modification time, set each time the
 * cache hands it out.
 */
#include "flink/jar.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fs.h"
#include "lib/log.h"
#include "lib/util.h"

/* A download's temporary file older than this belongs to a dead process. */
#define STALE_DOWNLOAD_S (24 * 3600)

static int by_age(const void *a, const void *b, void *arg)
{
	const flink_jar_cached *c = arg;
	const flink_jar_cached *x = &c[*(const size_t *)a], *y = &c[*(const size_t *)b];
	if (x->used_ms != y->used_ms)
		return x->used_ms < y->used_ms ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return 0;
}

uint64_t flink_jar_cache_evict(const flink_jar_cached *c, size_t n, uint64_t max, int64_t now_ms, long in_use_ms,
			       bool *evict)
{
	uint64_t total = 0;
	size_t *order = fo_calloc(n ? n : 1, sizeof(*order));
	for (size_t i = 0; i < n; i++) {
		evict[i] = false;
		total += c[i].bytes;
		order[i] = i;
	}
	qsort_r(order, n, sizeof(*order), by_age, (void *)c);
	for (size_t k = 0; k < n && total > max; k++) {
		const flink_jar_cached *v = &c[order[k]];
		if (v->keep || now_ms - v->used_ms < in_use_ms)
			continue;
		evict[order[k]] = true;
		total -= v->bytes;
	}
	free(order);
	return total;
}

void flink_jar_cache_touch(const char *path)
{
	/* best effort: a read-only cache only loses the order */
	utimensat(AT_FDCWD, path, NULL, 0);
}

/* The versions found, and what the walk is looking at. */
typedef struct scan {
	char **dirs;           /* CACHE/URI/VERSION */
	char **jars;           /* the jar in each, or NULL */
	flink_jar_cached *c;
	size_t n, cap_dirs, cap_jars, cap_c;
	const char *keep;
	time_t now;
} scan;

static int unlink_entry(const char *path, const char *name, const struct stat *st, void *arg)
{
	(void)name;
	(void)st;
	(void)arg;
	return unlink(path) == 0 ? 0 : -1;
}

/* One file of a version folder: its bytes, and the jar's last use. */
static int measure_file(const char *path, const char *name, const struct stat *st, void *arg)
{
	scan *s = arg;
	if (!S_ISREG(st->st_mode))
		return 0;
	flink_jar_cached *c = &s->c[s->n];
	c->bytes += (uint64_t)st->st_size;
	if (fo_has_suffix(name, ".jar") && !s->jars[s->n]) {
		c->used_ms = (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
		s->jars[s->n] = fo_strdup(path);
		c->keep = s->keep && strcmp(path, s->keep) == 0;
	}
	return 0;
}

/* One entry of a URI folder: a version folder, its etag file, or the
 * temporary file of a download. */
static int uri_entry(const char *path, const char *name, const struct stat *st, void *arg)
{
	scan *s = arg;
	if (S_ISREG(st->st_mode) && fo_has_prefix(name, ".download-") && s->now - st->st_mtim.tv_sec > STALE_DOWNLOAD_S) {
		unlink(path); /* the download of a process that died */
		return 0;
	}
	if (!S_ISDIR(st->st_mode))
		return 0;
	s->dirs = fo_grow(s->dirs, &s->cap_dirs, s->n + 1, sizeof(*s->dirs));
	s->jars = fo_grow(s->jars, &s->cap_jars, s->n + 1, sizeof(*s->jars));
	s->c = fo_grow(s->c, &s->cap_c, s->n + 1, sizeof(*s->c));
	s->dirs[s->n] = fo_strdup(path);
	s->jars[s->n] = NULL;
	memset(&s->c[s->n], 0, sizeof(s->c[s->n]));
	fo_err ignore = FO_ERR_INIT;
	fo_fs_each(path, measure_file, s, &ignore);
	fo_err_clear(&ignore);
	s->n++;
	return 0;
}

static int top_entry(const char *path, const char *name, const struct stat *st, void *arg)
{
	if (name[0] == '.' || !S_ISDIR(st->st_mode))
		return 0;
	fo_err ignore = FO_ERR_INIT;
	fo_fs_each(path, uri_entry, arg, &ignore);
	fo_err_clear(&ignore);
	return 0;
}

int flink_jar_cache_trim(const char *cache_dir, uint64_t max_bytes, const char *keep, uint64_t *removed, fo_err *e)
{
	if (removed)
		*removed = 0;
	scan s;
	memset(&s, 0, sizeof(s));
	s.keep = keep;
	s.now = time(NULL);
	int rc = fo_fs_each(cache_dir, top_entry, &s, e);
	if (rc == FO_ENOTFOUND) {
		fo_err_clear(e);
		rc = 0; /* nothing cached yet */
	}
	if (rc < 0)
		return fo_err_prefix(e, "the jar cache");
	bool *evict = fo_calloc(s.n ? s.n : 1, sizeof(*evict));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	uint64_t left = flink_jar_cache_evict(s.c, s.n, max_bytes, now_ms, FLINK_JAR_IN_USE_MS, evict);
	for (size_t i = 0; i < s.n; i++) {
		if (!evict[i])
			continue;
		fo_err ue = FO_ERR_INIT;
		if (fo_fs_each(s.dirs[i], unlink_entry, NULL, &ue) == 0 && rmdir(s.dirs[i]) == 0) {
			fo_info("flink", "jar cache: removed %s (%llu bytes, least recently used)",
				s.jars[i] ? s.jars[i] : s.dirs[i], (unsigned long long)s.c[i].bytes);
			if (removed)
				*removed += s.c[i].bytes;
		} else {
			fo_warn("flink", "jar cache: cannot remove %s: %s", s.dirs[i], ue.msg ? ue.msg : strerror(errno));
		}
		fo_err_clear(&ue);
	}
	if (left > max_bytes)
		fo_warn("flink", "jar cache %s: %llu bytes in use, more than flink.jarCacheMaxSize (%llu)", cache_dir,
			(unsigned long long)left, (unsigned long long)max_bytes);
	for (size_t i = 0; i < s.n; i++) {
		free(s.dirs[i]);
		free(s.jars[i]);
	}
	free(s.dirs);
	free(s.jars);
	free(s.c);
	free(evict);
	return 0;
}
