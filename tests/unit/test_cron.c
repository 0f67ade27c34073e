/*
 * Unit tests for Quartz cron schedules (flink/cron.c), upstream's second
 * spelling of kubernetes.operator.periodic.savepoint.interval: the next
 * firing time after a given one, as a table whose expected times are
 * written as dates (read back with the C library's timegm, not with the
 * code under test), and the expressions it refuses, with why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "flink/flink.h"

/* "YYYY-MM-DDTHH:MM:SS" (UTC) as seconds since the epoch; NULL is -1 */
static int64_t at(const char *iso)
{
	if (!iso)
		return -1;
	struct tm tm = {0};
	if (sscanf(iso, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec) != 6)
		fail_msg("bad date in the table: %s", iso);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

static void test_cron_next(void **state)
{
	(void)state;
	static const struct {
		const char *expr, *after, *next; /* next NULL: never again */
	} cases[] = {
		/* daily at 02:00, strictly after the given time */
		{"0 0 2 * * ?", "2026-12-06T21:00:00", "2026-12-07T02:00:00"},
		{"0 0 2 * * ?", "2026-12-07T02:00:00", "2026-12-08T02:00:00"},
		{"0 0 2 * * ?", "2026-12-07T01:59:59", "2026-12-07T02:00:00"},
		/* steps */
		{"0 */15 * * * ?", "2026-12-06T21:07:30", "2026-12-06T21:15:00"},
		{"0 */15 * * * ?", "2026-12-06T23:50:00", "2026-12-07T00:00:00"},
		{"0 5/20 * * * ?", "2026-12-06T21:26:00", "2026-12-06T21:45:00"},
		{"0 0 0 1 1/3 ?", "2026-12-06T00:00:00", "2027-01-01T00:00:00"},
		{"0 0 0 1 1/3 ?", "2027-01-01T00:00:00", "2027-04-01T00:00:00"},
		/* weekdays, by number (1 is Sunday) and by name; 2026-12-05 is a Saturday */
		{"0 0 12 ? * MON-FRI", "2026-12-05T13:00:00", "2026-12-07T12:00:00"},
		{"0 0 12 ? * 2-6", "2026-12-05T13:00:00", "2026-12-07T12:00:00"},
		{"0 0 0 ? * SUN", "2026-12-01T00:00:00", "2026-12-06T00:00:00"},
		{"0 0 0 ? * 1,7", "2026-12-06T00:00:00", "2026-12-12T00:00:00"},
		{"0 30 6 ? * wed", "2026-12-06T00:00:00", "2026-12-09T06:30:00"},
		/* lists, month names, the month's last day, leap years */
		{"15,45 0 0 1 * ?", "2026-12-01T00:00:15", "2026-12-01T00:00:45"},
		{"0 0 3 * JUL,AUG ?", "2026-12-06T00:00:00", "2027-07-01T03:00:00"},
		{"0 0 0 L * ?", "2027-02-10T00:00:00", "2027-02-28T00:00:00"},
		{"0 0 0 L * ?", "2028-02-10T00:00:00", "2028-02-29T00:00:00"},
		{"0 0 0 L * ?", "2026-12-31T00:00:00", "2027-01-31T00:00:00"},
		{"0 0 0 29 2 ?", "2026-03-01T00:00:00", "2028-02-29T00:00:00"},
		{"59 59 23 31 12 ?", "2026-12-31T23:59:59", "2027-12-31T23:59:59"},
		/* the year field, and dates that never come */
		{"30 5 3 1 JAN ? 2030", "2026-12-06T00:00:00", "2030-01-01T03:05:30"},
		{"30 5 3 1 JAN ? 2030", "2030-01-01T03:05:30", NULL},
		{"0 0 0 1 1 ? 2027-2029/2", "2027-01-01T00:00:00", "2029-01-01T00:00:00"},
		{"0 0 0 31 2 ?", "2026-12-06T00:00:00", NULL},
		{"0 0 0 30 FEB ?", "2026-12-06T00:00:00", NULL},
		/* every second */
		{"* * * * * ?", "2026-12-06T21:00:00", "2026-12-06T21:00:01"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flink_cron c;
		char *why = NULL;
		if (flink_cron_parse(cases[i].expr, &c, &why) != 0)
			fail_msg("\"%s\" refused: %s", cases[i].expr, why);
		int64_t got = flink_cron_next(&c, at(cases[i].after));
		if (got != at(cases[i].next))
			fail_msg("\"%s\" after %s: got %lld, want %s (%lld)", cases[i].expr, cases[i].after,
				 (long long)got, cases[i].next ? cases[i].next : "never", (long long)at(cases[i].next));
	}
}

static void test_cron_refused(void **state)
{
	(void)state;
	static const struct {
		const char *expr, *why;
	} cases[] = {
		{"0 0 2 * *", "6 or 7 fields"},
		{"", "this one 0"},
		{"0 0 2 * * ? 2030 x", "this one more"},
		{"0 0 2 * * *", "exactly one of day-of-month and day-of-week must be '?'"},
		{"0 0 2 ? * ?", "exactly one of day-of-month and day-of-week must be '?'"},
		{"0 0 2 1 * MON", "exactly one of day-of-month and day-of-week must be '?'"},
		{"0 0 ? * * ?", "'?' is only for day-of-month or day-of-week, not hours"},
		{"0 0 25 * * ?", "hours takes 0 to 23, got \"25\""},
		{"60 0 0 * * ?", "seconds takes 0 to 59"},
		{"0 0 0 0 * ?", "day-of-month takes 1 to 31"},
		{"0 0 0 ? * 0", "day-of-week takes 1 to 7"},
		{"0 0 0 * 13 ?", "month takes 1 to 12"},
		{"0 0 0 * * ? 1969", "year takes 1970 to 2099"},
		{"0 0 5-2 * * ?", "runs backwards"},
		{"0 */0 * * * ?", "the step after '/' in minutes must be a number of at least 1"},
		{"0 0 2 * JUX ?", "month \"JUX\" is not a Quartz cron field"},
		{"0 0 2,, * * ?", "hours \"2,,\" is not a Quartz cron field"},
		{"0 0 2, * * ?", "hours \"2,\" is not a Quartz cron field"},
		{"0 0 2 15W * ?", "not L, W or #"},
		{"0 0 2 LW * ?", "not L, W or #"},
		{"0 0 2 ? * 6#3", "not L, W or #"},
		{"0 0 2 ? * 6L", "not L, W or #"},
		{"0 0 2 ? * L", "not L, W or #"},
		{"0 0 2 L-3 * ?", "not L, W or #"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flink_cron c;
		char *why = NULL;
		if (flink_cron_parse(cases[i].expr, &c, &why) == 0)
			fail_msg("\"%s\" accepted", cases[i].expr);
		if (!why || !strstr(why, cases[i].why))
			fail_msg("\"%s\": got \"%s\", want \"%s\"", cases[i].expr, why ? why : "(none)", cases[i].why);
		free(why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cron_next),
		cmocka_unit_test(test_cron_refused),
	};
	return cmocka_run_group_tests_name("cron", tests, NULL, NULL);
}
