/*
 * A growable byte buffer, always NUL-terminated, so that nothing in flinkops
 * formats into a fixed array that could truncate silently.
 */
#ifndef FO_BUF_H
#define FO_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "lib/util.h"

typedef struct fo_buf {
	char *ptr;  /* NUL-terminated when len > 0 or after any put */
	size_t len;
	size_t cap;
} fo_buf;

#define FO_BUF_INIT {NULL, 0, 0}

void fo_buf_put(fo_buf *b, const void *data, size_t n);
void fo_buf_puts(fo_buf *b, const char *s);
void fo_buf_putc(fo_buf *b, char c);
void fo_buf_printf(fo_buf *b, const char *fmt, ...) FO_PRINTF(2, 3);
void fo_buf_vprintf(fo_buf *b, const char *fmt, va_list ap);
/* Write `s` as a JSON string literal, quotes included. */
void fo_buf_put_json_string(fo_buf *b, const char *s);
/* Write a number the way JSON, YAML 1.1 and YAML 1.2 readers all take it
 * back as the same number: a whole number with all its digits (no
 * exponent), any other with the fewest significant digits (15 to 17) that
 * read back as the same double, always with a dot ("1.0e-07"); not a
 * finite number: null. */
void fo_buf_put_number(fo_buf *b, double d);
void fo_buf_clear(fo_buf *b);
/* Hand the string to the caller (never NULL); the buffer is reset. */
char *fo_buf_detach(fo_buf *b);
/* A NUL-terminated view; "" for an empty buffer. */
const char *fo_buf_cstr(const fo_buf *b);
void fo_buf_free(fo_buf *b);

#endif
