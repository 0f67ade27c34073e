/*
 * Assertions on message text shared by the unit tests: that an error
 * message says what it must, and that it never shows what it must not (a
 * secret, a stack frame). Include after <cmocka.h>.
 */
#ifndef TESTS_UNIT_WANT_H
#define TESTS_UNIT_WANT_H

#include <string.h>

static inline void want_contains(const char *have, const char *want)
{
	if (!have || !strstr(have, want))
		fail_msg("\"%s\" lacks \"%s\"", have ? have : "(null)", want);
}

static inline void want_lacks(const char *have, const char *unwanted)
{
	if (have && strstr(have, unwanted))
		fail_msg("\"%s\" should not contain \"%s\"", have, unwanted);
}

#endif
