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

#endif
