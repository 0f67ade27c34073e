/*
 * JSON helpers: canonical form, hashing, merging. See json.h.
 */
#include "lib/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

static int cmp_keys(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	return strcmp(x->string, y->string);
}

void fo_json_canonical(fo_buf *b, const cJSON *v)
{
	if (cJSON_IsObject(v)) {
		size_t n = 0;
		for (const cJSON *c = v->child; c; c = c->next)
			n++;
		const cJSON **keys = fo_calloc(n ? n : 1, sizeof(*keys));
		n = 0;
		for (const cJSON *c = v->child; c; c = c->next)
			keys[n++] = c;
		qsort(keys, n, sizeof(*keys), cmp_keys);
		fo_buf_putc(b, '{');
		for (size_t i = 0; i < n; i++) {
			if (i)
				fo_buf_putc(b, ',');
			fo_buf_put_json_string(b, keys[i]->string);
			fo_buf_putc(b, ':');
			fo_json_canonical(b, keys[i]);
		}
		fo_buf_putc(b, '}');
		free(keys);
	} else if (cJSON_IsArray(v)) {
		fo_buf_putc(b, '[');
		for (const cJSON *c = v->child; c; c = c->next) {
			if (c != v->child)
				fo_buf_putc(b, ',');
			fo_json_canonical(b, c);
		}
		fo_buf_putc(b, ']');
	} else if (cJSON_IsString(v)) {
		fo_buf_put_json_string(b, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		fo_buf_put_number(b, v->valuedouble);
	} else if (cJSON_IsBool(v)) {
		fo_buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
	} else {
		fo_buf_puts(b, "null");
	}
}

char *fo_sha256_hex(const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	char *hex = fo_malloc(2 * mdlen + 1);
	for (unsigned i = 0; i < mdlen; i++) {
		static const char digits[] = "0123456789abcdef";
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * mdlen] = '\0';
	return hex;
}

char *fo_json_hash(const cJSON *v)
{
	fo_buf b = FO_BUF_INIT;
	fo_json_canonical(&b, v);
	char *h = fo_sha256_hex(fo_buf_cstr(&b), b.len);
	fo_buf_free(&b);
	return h;
}

static bool all_named(const cJSON *arr)
{
	if (!arr->child)
		return false;
	for (const cJSON *c = arr->child; c; c = c->next)
		if (!cJSON_IsObject(c) || !fo_json_str(c, "name"))
			return false;
	return true;
}

void fo_json_set(cJSON *dst, const char *key, cJSON *value)
{
	if (cJSON_GetObjectItemCaseSensitive(dst, key))
		cJSON_ReplaceItemInObjectCaseSensitive(dst, key, value);
	else
		cJSON_AddItemToObject(dst, key, value);
}

void fo_json_merge(cJSON *dst, const cJSON *src)
{
	for (const cJSON *s = src->child; s; s = s->next) {
		cJSON *d = cJSON_GetObjectItemCaseSensitive(dst, s->string);
		if (d && cJSON_IsObject(d) && cJSON_IsObject(s)) {
			fo_json_merge(d, s);
		} else if (d && cJSON_IsArray(d) && cJSON_IsArray(s) && all_named(d) && all_named(s)) {
			for (const cJSON *item = s->child; item; item = item->next) {
				cJSON *match = fo_json_find_named(d, fo_json_str(item, "name"));
				if (match)
					fo_json_merge(match, item);
				else
					cJSON_AddItemToArray(d, cJSON_Duplicate(item, true));
			}
		} else {
			fo_json_set(dst, s->string, cJSON_Duplicate(s, true));
		}
	}
}

cJSON *fo_json_obj(cJSON *parent, const char *key)
{
	cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, key);
	if (cJSON_IsObject(o))
		return o;
	o = cJSON_CreateObject();
	fo_json_set(parent, key, o);
	return o;
}

cJSON *fo_json_arr(cJSON *parent, const char *key)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(parent, key);
	if (cJSON_IsArray(a))
		return a;
	a = cJSON_CreateArray();
	fo_json_set(parent, key, a);
	return a;
}

const char *fo_json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

cJSON *fo_json_find_named(const cJSON *arr, const char *name)
{
	if (!cJSON_IsArray(arr) || !name)
		return NULL;
	for (cJSON *c = arr->child; c; c = c->next)
		if (fo_streq(fo_json_str(c, "name"), name))
			return c;
	return NULL;
}
