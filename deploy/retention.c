/*
 * Savepoint retention, the pure part. See retention.h.
 */
#include "deploy/retention.h"

#include <stdlib.h>
#include <string.h>

#include "flink/status.h"
#include "lib/util.h"

/* The length of `p` without trailing slashes, and where it starts once
 * "file:///" is read as "file:/". */
static const char *path_core(const char *p, size_t *len)
{
	if (strncmp(p, "file:///", 8) == 0)
		p += 7; /* "file://": keep the slash that starts the path */
	else if (strncmp(p, "file:", 5) == 0)
		p += 5;
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	*len = n;
	return p;
}

bool deploy_retention_same_path(const char *a, const char *b)
{
	if (!a || !b)
		return false;
	if (strcmp(a, b) == 0)
		return true;
	/* only a file: path has the second spelling; other schemes compare as written */
	bool fa = strncmp(a, "file:", 5) == 0, fb = strncmp(b, "file:", 5) == 0;
	if (fa != fb)
		return false;
	size_t la, lb;
	const char *ca = path_core(a, &la), *cb = path_core(b, &lb);
	return la == lb && memcmp(ca, cb, la) == 0;
}

static bool referenced(const char *path, const char *const *refs, size_t nrefs)
{
	for (size_t i = 0; i < nrefs; i++)
		if (deploy_retention_same_path(path, refs[i]))
			return true;
	return false;
}

size_t deploy_retention_select(const deploy_savepoint_rec *taken, size_t ntaken, const char *const *refs, size_t nrefs,
			       int max_count, int64_t max_age_ms, int64_t now_ms, bool *dispose)
{
	size_t marked = 0;
	for (size_t i = 0; i < ntaken; i++) {
		dispose[i] = false;
		size_t rank = ntaken - 1 - i; /* 0: the newest */
		if (rank == 0 || referenced(taken[i].path, refs, nrefs))
			continue;
		bool over_count = max_count >= 1 && rank >= (size_t)max_count;
		int64_t t = deploy_time_ms(taken[i].time);
		bool too_old = max_age_ms > 0 && t >= 0 && now_ms - t > max_age_ms;
		if (over_count || too_old) {
			dispose[i] = true;
			marked++;
		}
	}
	return marked;
}

bool deploy_retention_retry_due(int attempts, int64_t last_ms, int64_t now_ms)
{
	if (attempts <= 0 || last_ms < 0)
		return true;
	int64_t wait = 60 * 1000;
	for (int i = 1; i < attempts && wait < 3600 * 1000; i++)
		wait *= 2;
	if (wait > 3600 * 1000)
		wait = 3600 * 1000;
	return now_ms - last_ms >= wait;
}

static void add(char ***v, size_t *n, const char *path)
{
	if (!path || !*path)
		return;
	*v = fo_realloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = fo_strdup(path);
}

void deploy_retention_journal_refs(const deploy_journal *j, const char *initial_savepoint, char ***v, size_t *n)
{
	add(v, n, j->savepoint_path);
	add(v, n, j->restore_path);
	add(v, n, j->started_from);
	add(v, n, initial_savepoint);
}

void deploy_retention_status_refs(const flink_status *s, char ***v, size_t *n)
{
	add(v, n, s->last_savepoint.path);
	for (size_t i = 0; i < s->nhistory; i++) {
		add(v, n, s->history[i].started_from.path);
		add(v, n, s->history[i].stopped_with.path);
	}
}
