/*
 * What the fuzz targets share: libFuzzer's entry point, a NUL-terminated
 * copy of the input (most of our parsers take C strings), a check that
 * aborts with a message when a property fails (libFuzzer then keeps the
 * input as a crash, like any other), a strict UTF-8 test for the properties
 * that say text we pass on stays text, and the comparison of two JSON values
 * by their canonical hash. Everything is static inline: each target is one
 * translation unit.
 */
#ifndef FUZZ_FUZZ_H
#define FUZZ_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lib/json.h"
#include "lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                      \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "fuzz: property failed: %s: ", #cond);     \
			fprintf(stderr, __VA_ARGS__);                              \
			fputc('\n', stderr);                                       \
			abort();                                                   \
		}                                                                  \
	} while (0)

/* The input as a C string; a NUL inside ends it early, as it would for the
 * server's answer read by our HTTP layer. Caller frees. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = fo_malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static inline bool fuzz_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			k = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			k = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + k >= n) /* the sequence runs past the end */
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3F);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += k + 1;
	}
	return true;
}

static inline bool fuzz_str_utf8(const char *s)
{
	return !s || fuzz_utf8_valid(s, strlen(s));
}

/* Whether two JSON values are equal (canonical form, keys sorted). */
static inline bool fuzz_json_equal(const cJSON *a, const cJSON *b)
{
	char *ha = fo_json_hash(a), *hb = fo_json_hash(b);
	bool same = strcmp(ha, hb) == 0;
	free(ha);
	free(hb);
	return same;
}

#endif
