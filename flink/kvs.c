/*
 * Sorted string maps (flink_kvs): a FlinkDeployment's Flink configuration
 * and log settings, kept sorted by key so that rendering is deterministic
 * and a lookup is a binary search. Shared by the model, which fills them,
 * and by the memory rules, which read them; it depends on nothing else.
 */
#include "flink/flink.h"
#include "lib/util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Where `key` is, or would go to keep the keys sorted. */
static long kvs_find(const flink_kvs *kv, const char *key, bool *found)
{
	size_t lo = 0, hi = kv->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int cmp = strcmp(kv->v[mid].key, key);
		if (cmp == 0) {
			*found = true;
			return (long)mid;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return (long)lo;
}

void flink_kvs_set(flink_kvs *kv, const char *key, const char *value)
{
	bool found;
	long at = kvs_find(kv, key, &found);
	if (found) {
		free(kv->v[at].value);
		kv->v[at].value = fo_strdup(value);
		return;
	}
	kv->v = fo_grow(kv->v, &kv->cap, kv->n + 1, sizeof(*kv->v));
	memmove(&kv->v[at + 1], &kv->v[at], (kv->n - (size_t)at) * sizeof(*kv->v));
	kv->v[at].key = fo_strdup(key);
	kv->v[at].value = fo_strdup(value);
	kv->n++;
}

const char *flink_conf_get(const flink_kvs *kv, const char *key)
{
	bool found;
	long at = kvs_find(kv, key, &found);
	return found ? kv->v[at].value : NULL;
}

void flink_kvs_free(flink_kvs *kv)
{
	for (size_t i = 0; i < kv->n; i++) {
		free(kv->v[i].key);
		free(kv->v[i].value);
	}
	free(kv->v);
	memset(kv, 0, sizeof(*kv));
}
