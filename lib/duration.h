/*
 * Durations as people write them in configuration and flags: Go's syntax
 * ("90s", "10m", "1h30m", "250ms"), and a plain number of seconds.
 */
#ifndef FO_DURATION_H
#define FO_DURATION_H

#include <stdint.h>

#include "lib/err.h"

/* Parse into milliseconds; FO_EINVAL with a message on bad input. */
int fo_duration_parse(const char *s, int64_t *ms, fo_err *e);

/* Room for fo_duration_short's text, its NUL included. */
#define FO_DURATION_SHORT 16
/* A duration of `s` seconds, short, two units at most, for tables and
 * messages: "45s", "3m04s", "2h05m", "3d04h"; "-" when negative (unknown). */
void fo_duration_short(int64_t s, char out[FO_DURATION_SHORT]);

#endif
