/*
 * Duration parsing. See duration.h.
 */
#include "lib/duration.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define MAX_MS (INT64_MAX / 2)

int fo_duration_parse(const char *s, int64_t *ms, fo_err *e)
{
	if (!s || !*s)
		return fo_err_set(e, FO_EINVAL, "empty duration: use e.g. 30s, 10m or 1h30m");
	const char *p = s;
	bool digits_only = true;
	for (const char *q = s; *q; q++)
		digits_only = digits_only && isdigit((unsigned char)*q);
	if (digits_only) {
		char *end;
		long long v = strtoll(s, &end, 10);
		if (v > MAX_MS / 1000)
			return fo_err_set(e, FO_EINVAL, "duration \"%s\" is too long", s);
		*ms = (int64_t)v * 1000;
		return 0;
	}
	long double total = 0;
	while (*p) {
		const char *num = p;
		while (isdigit((unsigned char)*p) || *p == '.')
			p++;
		if (p == num)
			return fo_err_set(e, FO_EINVAL, "\"%s\" is not a duration: use e.g. 30s, 10m or 1h30m", s);
		char *nb = fo_strndup(num, (size_t)(p - num));
		char *end;
		long double v = strtold(nb, &end);
		bool bad = *end != '\0';
		free(nb);
		if (bad)
			return fo_err_set(e, FO_EINVAL, "\"%s\" is not a duration: use e.g. 30s, 10m or 1h30m", s);
		long double unit;
		if (strncmp(p, "ms", 2) == 0) {
			unit = 1;
			p += 2;
		} else if (*p == 'h') {
			unit = 3600000;
			p++;
		} else if (*p == 'm') {
			unit = 60000;
			p++;
		} else if (*p == 's') {
			unit = 1000;
			p++;
		} else {
			return fo_err_set(e, FO_EINVAL, "duration \"%s\" needs a unit after each number (ms, s, m, h)", s);
		}
		total += v * unit;
		if (total > (long double)MAX_MS)
			return fo_err_set(e, FO_EINVAL, "duration \"%s\" is too long", s);
	}
	*ms = (int64_t)(total + 0.5L);
	return 0;
}

void fo_duration_short(int64_t s, char out[FO_DURATION_SHORT])
{
	/* the days are cut to 5 digits: the text always fits */
	if (s < 0)
		snprintf(out, FO_DURATION_SHORT, "-");
	else if (s < 60)
		snprintf(out, FO_DURATION_SHORT, "%" PRId64 "s", s);
	else if (s < 3600)
		snprintf(out, FO_DURATION_SHORT, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, FO_DURATION_SHORT, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
	else
		snprintf(out, FO_DURATION_SHORT, "%" PRId64 "d%02" PRId64 "h", s / 86400 % 100000, s % 86400 / 3600);
}
