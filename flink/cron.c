/*
 * Quartz cron expressions, the second spelling upstream accepts for its
 * periodic snapshot schedules (kubernetes.operator.periodic.savepoint.interval
 * takes "10min" or "0 0 2 * * ?"). Upstream evaluates them with log4j's
 * port of Quartz's CronExpression; this file reads the same fields with the
 * same rules (one of day-of-month and day-of-week is '?', Sunday is 1) and
 * says clearly which of Quartz's rarer characters it does not take. Times
 * are UTC, the zone the operator's pod runs in unless told otherwise. Pure:
 * no clock, no time zone database.
 */
#include "flink/flink.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"

/* The years Quartz takes (its parser refuses anything outside). */
#define CRON_YEAR_MIN 1970
#define CRON_YEAR_MAX 2099

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
					  "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

typedef struct cron_field {
	const char *name;
	int lo, hi;
	const char *const *names; /* names for lo, lo+1, ... (NULL: numbers only) */
	size_t nnames;
	bool may_be_free;         /* '?' allowed */
} cron_field;

static const cron_field fields[] = {
	{"seconds", 0, 59, NULL, 0, false},
	{"minutes", 0, 59, NULL, 0, false},
	{"hours", 0, 23, NULL, 0, false},
	{"day-of-month", 1, 31, NULL, 0, true},
	{"month", 1, 12, month_names, 12, false},
	{"day-of-week", 1, 7, day_names, 7, true},
	{"year", CRON_YEAR_MIN, CRON_YEAR_MAX, NULL, 0, false},
};

/* One value of field f at *p (a number or a name); -1 when there is none. */
static int cron_value(const cron_field *f, const char **p)
{
	const char *s = *p;
	if (isdigit((unsigned char)*s)) {
		long v = 0;
		while (isdigit((unsigned char)*s) && v < 100000)
			v = v * 10 + (*s++ - '0');
		*p = s;
		return (int)v;
	}
	for (size_t i = 0; i < f->nnames; i++)
		if (strncasecmp(s, f->names[i], 3) == 0) {
			*p = s + 3;
			return f->lo + (int)i;
		}
	return -1;
}

/* Whether field text [s, s+len) uses Quartz's L (other than a lone one in
 * day-of-month), W or #, which flinkops does not take: a '#', or an L or W
 * after a digit or standing alone (not the L of "JUL", the W of "WED"). */
static bool quartz_special(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '#')
			return true;
		if (s[i] != 'L' && s[i] != 'W')
			continue;
		bool after_digit = i > 0 && isdigit((unsigned char)s[i - 1]);
		bool alone = (i == 0 || s[i - 1] == ',') &&
			     (i + 1 == len || s[i + 1] == ',' || s[i + 1] == 'W' || s[i + 1] == '-');
		if (after_digit || alone)
			return true;
	}
	return false;
}

/* Parse field `fi` of text [s, end) into the bit set `bits` (bit v - lo).
 * Returns 0, or -1 with *why. *free_ gets whether it was '?', *last
 * whether it was 'L' (day-of-month only). */
static int cron_field_parse(size_t fi, const char *s, const char *end, uint64_t bits[3], bool *free_, bool *last,
			    char **why)
{
	const cron_field *f = &fields[fi];
	size_t len = (size_t)(end - s);
	*free_ = *last = false;
	if (len == 1 && *s == '?') {
		if (!f->may_be_free) {
			*why = fo_asprintf("'?' is only for day-of-month or day-of-week, not %s", f->name);
			return -1;
		}
		*free_ = true;
		return 0;
	}
	if (fi == 3 && len == 1 && *s == 'L') {
		*last = true;
		return 0;
	}
	const char *p = s;
	while (p < end) {
		const char *item = p;
		int a, b, step = 1;
		if (*p == '*') {
			a = f->lo;
			b = f->hi;
			p++;
		} else {
			a = cron_value(f, &p);
			if (a < 0)
				goto bad;
			b = a;
			if (p < end && *p == '-') {
				p++;
				b = cron_value(f, &p);
				if (b < 0)
					goto bad;
			} else if (p < end && *p == '/') {
				b = f->hi; /* "5/15": from 5 on, every 15 */
			}
		}
		if (p < end && *p == '/') {
			p++;
			step = cron_value(&(cron_field){0}, &p);
			if (step <= 0) {
				*why = fo_asprintf("the step after '/' in %s must be a number of at least 1", f->name);
				return -1;
			}
		}
		if (p < end && *p != ',')
			goto bad;
		if (a < f->lo || a > f->hi || b < f->lo || b > f->hi) {
			*why = fo_asprintf("%s takes %d to %d, got \"%.*s\"", f->name, f->lo, f->hi,
					   (int)(p - item), item);
			return -1;
		}
		if (a > b) {
			*why = fo_asprintf("the range \"%.*s\" in %s runs backwards; list both ends' values instead",
					   (int)(p - item), item, f->name);
			return -1;
		}
		for (int v = a; v <= b; v += step)
			bits[(v - f->lo) / 64] |= 1ULL << ((v - f->lo) % 64);
		if (p < end)
			p++; /* ',' */
		if (p == end && p[-1] == ',')
			goto bad;
	}
	return 0;
bad:
	if (quartz_special(s, len))
		*why = fo_asprintf("%s \"%.*s\": flinkops takes Quartz's *, ?, lists, ranges, steps, names and a "
				   "lone L for the month's last day, but not L, W or # otherwise; list the days instead",
				   f->name, (int)len, s);
	else
		*why = fo_asprintf("%s \"%.*s\" is not a Quartz cron field (a value, a-b, */n, a/n, lists with ',')",
				   f->name, (int)len, s);
	return -1;
}

static bool has(const uint64_t *bits, int v, int lo)
{
	return (bits[(v - lo) / 64] >> ((v - lo) % 64)) & 1;
}

int flink_cron_parse(const char *expr, flink_cron *c, char **why)
{
	*why = NULL;
	memset(c, 0, sizeof(*c));
	const char *start[8], *end[8];
	size_t n = 0;
	const char *p = expr;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n == 7) {
			*why = fo_strdup("a Quartz cron expression has 6 or 7 fields (seconds minutes hours "
					 "day-of-month month day-of-week [year]), this one more");
			return -1;
		}
		start[n] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		end[n++] = p;
	}
	if (n < 6) {
		*why = fo_asprintf("a Quartz cron expression has 6 or 7 fields (seconds minutes hours day-of-month "
				   "month day-of-week [year]), this one %zu", n);
		return -1;
	}
	uint64_t bits[7][3];
	memset(bits, 0, sizeof(bits));
	bool free_[7] = {false}, last[7] = {false};
	for (size_t i = 0; i < n; i++)
		if (cron_field_parse(i, start[i], end[i], bits[i], &free_[i], &last[i], why) < 0)
			return -1;
	if (n == 6)
		for (int y = CRON_YEAR_MIN; y <= CRON_YEAR_MAX; y++)
			bits[6][(y - CRON_YEAR_MIN) / 64] |= 1ULL << ((y - CRON_YEAR_MIN) % 64);
	if (free_[3] == free_[5]) {
		*why = fo_strdup("exactly one of day-of-month and day-of-week must be '?' (Quartz's rule), "
				 "e.g. \"0 0 2 * * ?\" or \"0 0 2 ? * MON\"");
		return -1;
	}
	c->sec = bits[0][0];
	c->min = bits[1][0];
	c->hour = (uint32_t)bits[2][0];
	c->dom = (uint32_t)bits[3][0] << 1; /* bit d for day d */
	c->dom_last = last[3];
	c->by_weekday = free_[3];
	c->month = (uint16_t)(bits[4][0] << 1);
	c->dow = (uint8_t)(bits[5][0] << 1);
	memcpy(c->year, bits[6], sizeof(c->year));
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back
 * (H. Hinnant's civil-date algorithms). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m)
{
	return (int)(days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - days_from_civil(y, m, 1));
}

int64_t flink_cron_next(const flink_cron *c, int64_t after)
{
	int64_t t = after + 1;
	if (t < 0)
		t = 0;
	/* Each mismatch jumps to the start of the next unit, so the walk is
	 * bounded by the days of the years searched (and a day's hours,
	 * minutes, seconds); a date that never comes (Feb 30) ends at 2099. */
	for (int guard = 0; guard < 1000000; guard++) {
		int64_t day = t / 86400, sod = t % 86400;
		int64_t y;
		int m, d;
		civil_from_days(day, &y, &m, &d);
		if (y > CRON_YEAR_MAX)
			return -1;
		if (!has(c->year, (int)y, CRON_YEAR_MIN)) {
			t = days_from_civil(y + 1, 1, 1) * 86400;
			continue;
		}
		if (!((c->month >> m) & 1)) {
			t = days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * 86400;
			continue;
		}
		bool day_ok;
		if (c->by_weekday)
			day_ok = (c->dow >> ((day + 4) % 7 + 1)) & 1; /* 1970-01-01 was a Thursday (5) */
		else if (c->dom_last)
			day_ok = d == days_in_month(y, m);
		else
			day_ok = (c->dom >> d) & 1;
		if (!day_ok) {
			t = (day + 1) * 86400;
			continue;
		}
		int h = (int)(sod / 3600), mi = (int)(sod / 60 % 60), s = (int)(sod % 60);
		if (!((c->hour >> h) & 1)) {
			t = day * 86400 + (h + 1) * 3600;
			continue;
		}
		if (!((c->min >> mi) & 1)) {
			t = day * 86400 + h * 3600 + (mi + 1) * 60;
			continue;
		}
		if (!((c->sec >> s) & 1)) {
			t++;
			continue;
		}
		return t;
	}
	return -1;
}
