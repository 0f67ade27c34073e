/*
 * JSON helpers over cJSON: canonical serialisation (keys sorted, so that two
 * equal objects give equal bytes whatever order their keys were built in),
 * SHA-256 content hashes, deep merge, and short accessors.
 */
#ifndef FO_JSON_H
#define FO_JSON_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "lib/buf.h"

/* Append the canonical compact JSON of `v` (object keys sorted bytewise),
 * written as fo_json_write writes values. */
void fo_json_canonical(fo_buf *b, const cJSON *v);
/*
 * Append `v` as JSON: compact (what we send to the API server), or laid out
 * as cJSON_Print does (tab indents) for people. Numbers are written as
 * fo_buf_put_number writes them (whole numbers with all their digits, where
 * cJSON's printer rounds to 15), raw items (exact integers read from YAML)
 * as their text, strings as JSON that YAML readers take back as the same
 * text. One writer for apply bodies, `render -o json` and the content hash,
 * so what is sent, shown and hashed cannot disagree.
 */
void fo_json_write(fo_buf *b, const cJSON *v, bool pretty);
/* fo_json_write into a new string; caller frees. */
char *fo_json_print(const cJSON *v, bool pretty);
/* Lower-case hex SHA-256 of `len` bytes; caller frees. */
char *fo_sha256_hex(const void *data, size_t len);
/* SHA-256 of the canonical JSON of `v`; caller frees. */
char *fo_json_hash(const cJSON *v);
/*
 * Merge `src` into `dst` (both objects): objects merge recursively, lists of
 * objects that all carry a "name" merge item by item by that name, anything
 * else in `src` replaces what `dst` had. `src` is not changed.
 */
void fo_json_merge(cJSON *dst, const cJSON *src);
/* dst[key] = value, replacing an existing key in place (keeping its position). */
void fo_json_set(cJSON *dst, const char *key, cJSON *value);
/*
 * Remove every member named `key` from `o` (NULL or not an object: nothing).
 * A server's JSON may repeat a key and cJSON keeps each copy, so removing
 * only the first would leave the next one behind to be read.
 */
void fo_json_remove(cJSON *o, const char *key);
/* The object under `key`, created (empty) when missing or not an object. */
cJSON *fo_json_obj(cJSON *parent, const char *key);
/* The array under `key`, created when missing or not an array. */
cJSON *fo_json_arr(cJSON *parent, const char *key);
/* The string at `key`, or NULL. */
const char *fo_json_str(const cJSON *o, const char *key);
/* In an array of objects, the one whose "name" is `name`, or NULL. */
cJSON *fo_json_find_named(const cJSON *arr, const char *name);

#endif
