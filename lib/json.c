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

enum json_style { JSON_CANONICAL, JSON_COMPACT, JSON_PRETTY };

/*
 * A JSON string literal that every reader of ours takes back as the same
 * text: what fo_utf8_plain_char refuses is escaped (\u2028, \u007f and the
 * like), so the JSON is YAML 1.1 and 1.2 as well; a byte that is not UTF-8
 * (which JSON cannot hold) is written as U+FFFD itself, not as the escape
 * \ufffd, so that text read back and written again gives the same bytes.
 */
static void put_string(fo_buf *b, const char *s)
{
	fo_buf_putc(b, '"');
	const char *run = s, *p = s;
	while (*p) {
		unsigned char c = (unsigned char)*p;
		if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') { /* the common case first */
			p++;
			continue;
		}
		uint32_t cp;
		size_t n = fo_utf8_decode(p, &cp);
		if (n && fo_utf8_plain_char(cp) && *p != '"' && *p != '\\' && *p != '\n' && *p != '\t') {
			p += n;
			continue;
		}
		/* flush the run of characters that need no escaping */
		fo_buf_put(b, run, (size_t)(p - run));
		switch (*p) {
		case '"': fo_buf_puts(b, "\\\""); break;
		case '\\': fo_buf_puts(b, "\\\\"); break;
		case '\n': fo_buf_puts(b, "\\n"); break;
		case '\r': fo_buf_puts(b, "\\r"); break;
		case '\t': fo_buf_puts(b, "\\t"); break;
		default:
			if (n == 0)
				fo_buf_puts(b, "\xef\xbf\xbd");
			else /* every such character is below U+10000 */
				fo_buf_printf(b, "\\u%04x", (unsigned)cp);
		}
		p += n ? n : 1;
		run = p;
	}
	fo_buf_put(b, run, (size_t)(p - run));
	fo_buf_putc(b, '"');
}

static void tabs(fo_buf *b, int n)
{
	for (int i = 0; i < n; i++)
		fo_buf_putc(b, '\t');
}

/* Write `v` at nesting `depth`; JSON_PRETTY lays it out as cJSON_Print
 * does, so that what people saw before reads the same. */
static void write_value(fo_buf *b, const cJSON *v, enum json_style st, int depth)
{
	bool pretty = st == JSON_PRETTY;
	if (cJSON_IsObject(v)) {
		size_t n = 0;
		for (const cJSON *c = v->child; c; c = c->next)
			n++;
		const cJSON **keys = fo_calloc(n ? n : 1, sizeof(*keys));
		n = 0;
		for (const cJSON *c = v->child; c; c = c->next)
			keys[n++] = c;
		if (st == JSON_CANONICAL)
			qsort(keys, n, sizeof(*keys), cmp_keys);
		fo_buf_putc(b, '{');
		if (pretty)
			fo_buf_putc(b, '\n');
		for (size_t i = 0; i < n; i++) {
			if (pretty)
				tabs(b, depth + 1);
			put_string(b, keys[i]->string);
			fo_buf_puts(b, pretty ? ":\t" : ":");
			write_value(b, keys[i], st, depth + 1);
			if (i + 1 < n)
				fo_buf_putc(b, ',');
			if (pretty)
				fo_buf_putc(b, '\n');
		}
		if (pretty)
			tabs(b, depth);
		fo_buf_putc(b, '}');
		free(keys);
	} else if (cJSON_IsArray(v)) {
		fo_buf_putc(b, '[');
		for (const cJSON *c = v->child; c; c = c->next) {
			write_value(b, c, st, depth + 1);
			if (c->next)
				fo_buf_puts(b, pretty ? ", " : ",");
		}
		fo_buf_putc(b, ']');
	} else if (cJSON_IsString(v)) {
		put_string(b, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		fo_buf_put_number(b, v->valuedouble);
	} else if (cJSON_IsRaw(v) && v->valuestring) {
		fo_buf_puts(b, v->valuestring); /* an exact integer (see fo_yaml_to_json) */
	} else if (cJSON_IsBool(v)) {
		fo_buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
	} else {
		fo_buf_puts(b, "null");
	}
}

void fo_json_canonical(fo_buf *b, const cJSON *v)
{
	write_value(b, v, JSON_CANONICAL, 0);
}

void fo_json_write(fo_buf *b, const cJSON *v, bool pretty)
{
	write_value(b, v, pretty ? JSON_PRETTY : JSON_COMPACT, 0);
}

char *fo_json_print(const cJSON *v, bool pretty)
{
	fo_buf b = FO_BUF_INIT;
	fo_json_write(&b, v, pretty);
	return fo_buf_detach(&b);
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

void fo_json_remove(cJSON *o, const char *key)
{
	if (!cJSON_IsObject(o))
		return;
	while (cJSON_GetObjectItemCaseSensitive(o, key))
		cJSON_DeleteItemFromObjectCaseSensitive(o, key);
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
