/*
 * Small shared helpers: allocation that never returns NULL, formatted
 * strings, and a few string predicates. Allocation failure aborts the
 * process with a message: flinkops is a daemon whose working set is small,
 * and an out-of-memory path that tries to carry on would be the least tested
 * code in it (the same choice Redis and git make).
 */
#ifndef FO_UTIL_H
#define FO_UTIL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FO_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define FO_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FO_PRINTF(f, a)
#endif

void *fo_malloc(size_t n);
void *fo_calloc(size_t count, size_t size);
void *fo_realloc(void *p, size_t n);
/* Grow an array to hold at least `need` items of `size` bytes; doubles. */
void *fo_grow(void *p, size_t *cap, size_t need, size_t size);
char *fo_strdup(const char *s);
char *fo_strndup(const char *s, size_t n);
char *fo_asprintf(const char *fmt, ...) FO_PRINTF(1, 2);
char *fo_vasprintf(const char *fmt, va_list ap);

bool fo_streq(const char *a, const char *b);          /* NULL-safe */
/* *out gets 2*nbytes lower-case hex digits from the system's random source
 * (caller frees); FO_EIO (-2) when the source fails. */
int fo_random_hex(size_t nbytes, char **out);
bool fo_has_prefix(const char *s, const char *prefix);
/* The Levenshtein distance of a and b, ignoring case (for "did you mean");
 * 99 when either is longer than 64 characters. */
size_t fo_edit_distance(const char *a, const char *b);
bool fo_has_suffix(const char *s, const char *suffix);
/* Whether `s` holds an ASCII control character (below 0x20, or DEL). */
bool fo_has_ctl(const char *s);
/* Where to cut `s` (`len` bytes) to keep at most `max` bytes without
 * splitting a UTF-8 character: a cut text stays text, which YAML files and
 * the API server require. `len` when it fits. */
size_t fo_utf8_cut(const char *s, size_t len, size_t max);
/* The character at `p`: its length in bytes (1 to 4) and its code point in
 * *cp; 0 (and U+FFFD in *cp) when the bytes there are not UTF-8: a stray
 * continuation byte, an overlong form, a surrogate, past U+10FFFF, a
 * sequence cut short, or the terminating NUL. */
size_t fo_utf8_decode(const char *p, uint32_t *cp);
/* Whether every reader of what we write (YAML 1.1 and 1.2, JSON) holds the
 * code point as it is: not a control character other than tab and line
 * feed, not DEL or a C1 control, not U+2028 or U+2029 (line breaks to YAML
 * 1.1), the byte order mark, U+FFFE or U+FFFF. */
bool fo_utf8_plain_char(uint32_t cp);
/*
 * `s` as text that reads back exactly as written, in YAML and JSON alike:
 * bytes that are not UTF-8 and every character fo_utf8_plain_char refuses
 * become U+FFFD, but a CR LF or a lone CR becomes a line feed; then the
 * text is cut to at most `max` bytes without splitting a character. Text
 * from outside (a server's error page) goes through here once, where it is
 * taken in; the result is a fixed point (cleaning it again changes
 * nothing). Caller frees.
 */
char *fo_text_clean(const char *s, size_t max);
/*
 * Sleep `ms` milliseconds, or less when `stop` (may be NULL) is or becomes
 * set: it is looked at every 50 ms, so that no wait holds up a shutdown.
 * Returns true when it ended because of `stop`.
 */
bool fo_pause_ms(long ms, const atomic_bool *stop);
/* Free an array of strings and the array. */
void fo_strv_free(char **v, size_t n);

#endif
