/*
 * Growable, NUL-terminated byte buffer. See buf.h.
 */
#include "lib/buf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reserve(fo_buf *b, size_t extra)
{
	b->ptr = fo_grow(b->ptr, &b->cap, b->len + extra + 1, 1);
}

void fo_buf_put(fo_buf *b, const void *data, size_t n)
{
	reserve(b, n);
	if (n)
		memcpy(b->ptr + b->len, data, n);
	b->len += n;
	b->ptr[b->len] = '\0';
}

void fo_buf_puts(fo_buf *b, const char *s)
{
	fo_buf_put(b, s, strlen(s));
}

void fo_buf_putc(fo_buf *b, char c)
{
	fo_buf_put(b, &c, 1);
}

void fo_buf_vprintf(fo_buf *b, const char *fmt, va_list ap)
{
	/* Try the spare room first: one formatting pass in the common case. */
	if (b->cap - b->len < 64)
		reserve(b, 64);
	va_list cp;
	va_copy(cp, ap);
	size_t room = b->cap - b->len;
	int n = vsnprintf(b->ptr + b->len, room, fmt, cp);
	va_end(cp);
	if (n < 0) {
		b->ptr[b->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		reserve(b, (size_t)n);
		vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

void fo_buf_printf(fo_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fo_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void fo_buf_put_json_string(fo_buf *b, const char *s)
{
	fo_buf_putc(b, '"');
	const unsigned char *p = (const unsigned char *)s, *run = p;
	for (;; p++) {
		unsigned char c = *p;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		/* flush the run of characters that need no escaping */
		fo_buf_put(b, run, (size_t)(p - run));
		run = p + 1;
		if (c == '\0')
			break;
		switch (c) {
		case '"': fo_buf_puts(b, "\\\""); break;
		case '\\': fo_buf_puts(b, "\\\\"); break;
		case '\n': fo_buf_puts(b, "\\n"); break;
		case '\r': fo_buf_puts(b, "\\r"); break;
		case '\t': fo_buf_puts(b, "\\t"); break;
		default: fo_buf_printf(b, "\\u%04x", c);
		}
	}
	fo_buf_putc(b, '"');
}

void fo_buf_clear(fo_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

char *fo_buf_detach(fo_buf *b)
{
	char *s = b->ptr ? b->ptr : fo_strdup("");
	b->ptr = NULL;
	b->len = b->cap = 0;
	return s;
}

const char *fo_buf_cstr(const fo_buf *b)
{
	return b->ptr ? b->ptr : "";
}

void fo_buf_free(fo_buf *b)
{
	if (!b)
		return;
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
}

void fo_buf_put_number(fo_buf *b, double d)
{
	if (!isfinite(d)) {
		fo_buf_puts(b, "null");
		return;
	}
	if (d == floor(d)) {
		/* every digit of a whole number: 1e17 written as 1e+17 is a string
		 * to a YAML 1.1 reader, and a rounded one is another number. The
		 * range check comes first: converting a double outside long long's
		 * range is undefined behaviour; "%.0f" prints the exact value. */
		if (fabs(d) < 9223372036854775808.0)
			fo_buf_printf(b, "%lld", (long long)d);
		else
			fo_buf_printf(b, "%.0f", d);
		return;
	}
	/* the shortest of 15 to 17 significant digits that reads back as the
	 * same double */
	char tmp[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	/* YAML 1.1 reads a float only with a dot in it ("1e-07" is a string
	 * to PyYAML, "1.0e-07" a float, to JSON and YAML 1.2 alike) */
	size_t mant = strcspn(tmp, "e");
	if (!memchr(tmp, '.', mant)) {
		fo_buf_put(b, tmp, mant);
		fo_buf_puts(b, ".0");
		fo_buf_puts(b, tmp + mant);
		return;
	}
	fo_buf_puts(b, tmp);
}
