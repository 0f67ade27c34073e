/*
 * Kubernetes resource quantities. See quantity.h.
 */
#include "lib/quantity.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

int fo_quantity_parse(const char *s, long double *out)
{
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	const char *num = p;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (p == num || (p == num + 1 && *num == '.'))
		return 0;
	char *numstr = fo_strndup(s, (size_t)(p - s));
	long double v = strtold(numstr, NULL);
	free(numstr);
	const char *suf = p;
	static const struct {
		const char *suf;
		long double mul;
	} sufs[] = {
		{"Ki", 1024.0L}, {"Mi", 1048576.0L}, {"Gi", 1073741824.0L},
		{"Ti", 1099511627776.0L}, {"Pi", 1125899906842624.0L}, {"Ei", 1152921504606846976.0L},
		{"n", 1e-9L}, {"u", 1e-6L}, {"m", 1e-3L}, {"", 1.0L}, {"k", 1e3L}, {"M", 1e6L},
		{"G", 1e9L}, {"T", 1e12L}, {"P", 1e15L}, {"E", 1e18L},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(sufs); i++) {
		if (strcmp(suf, sufs[i].suf) == 0) {
			*out = v * sufs[i].mul;
			return 1;
		}
	}
	if (*suf == 'e' || *suf == 'E') {
		const char *q = suf + 1;
		if (*q == '+' || *q == '-')
			q++;
		if (!isdigit((unsigned char)*q))
			return 0;
		while (isdigit((unsigned char)*q))
			q++;
		if (*q)
			return 0;
		long exp = strtol(suf + 1, NULL, 10);
		if (exp > 30 || exp < -30)
			return 0;
		*out = v * powl(10.0L, (long double)exp);
		return 1;
	}
	return 0;
}

