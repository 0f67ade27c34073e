/*
 * Flink's and Kubernetes' units. The one rule that matters most: "1024m" is
 * 1024 MiB to Flink and 1.024 bytes to Kubernetes, so memory is always parsed
 * here, into bytes, and written back to Kubernetes as whole "Mi" only.
 */
#include "flink/flink.h"
#include "lib/quantity.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MIB (1024ull * 1024ull)

static const struct {
	const char *name;
	unsigned shift;
} flink_units[] = {
	{"b", 0}, {"bytes", 0},
	{"k", 10}, {"kb", 10}, {"kibibytes", 10},
	{"m", 20}, {"mb", 20}, {"mebibytes", 20},
	{"g", 30}, {"gb", 30}, {"gibibytes", 30},
	{"t", 40}, {"tb", 40}, {"tebibytes", 40},
};

/* Flink's MemorySize: digits, optional blanks, optional unit. 1 when it
 * matched (with *bytes set or *overflow), 0 when the text is not of that form. */
static int parse_flink_size(const char *s, uint64_t *bytes, bool *overflow)
{
	const char *p = s;
	while (*p == ' ')
		p++;
	const char *digits = p;
	while (isdigit((unsigned char)*p))
		p++;
	if (p == digits)
		return 0;
	const char *dend = p;
	while (*p == ' ')
		p++;
	const char *unit = p;
	while (isalpha((unsigned char)*p))
		p++;
	size_t ulen = (size_t)(p - unit);
	while (*p == ' ')
		p++;
	if (*p)
		return 0;
	unsigned shift = 0;
	if (ulen) {
		bool found = false;
		for (size_t i = 0; i < FO_ARRAY_LEN(flink_units); i++) {
			if (strlen(flink_units[i].name) == ulen &&
			    strncasecmp(unit, flink_units[i].name, ulen) == 0) {
				shift = flink_units[i].shift;
				found = true;
				break;
			}
		}
		if (!found)
			return 0;
	}
	uint64_t v = 0;
	*overflow = false;
	for (const char *q = digits; q < dend; q++) {
		if (v > (UINT64_MAX - 9) / 10) {
			*overflow = true;
			return 1;
		}
		v = v * 10 + (uint64_t)(*q - '0');
	}
	if (shift && v > (UINT64_MAX >> shift)) {
		*overflow = true;
		return 1;
	}
	*bytes = v << shift;
	return 1;
}

int flink_memory_parse(const char *s, uint64_t *bytes, fo_err *e)
{
	bool overflow = false;
	uint64_t v = 0;
	if (!s || !*s)
		return fo_err_set(e, FO_EINVAL, "memory is empty: give a size such as 1024m or 2g");
	if (parse_flink_size(s, &v, &overflow)) {
		if (overflow)
			return fo_err_set(e, FO_EINVAL, "memory \"%s\" is too large", s);
		if (v == 0)
			return fo_err_set(e, FO_EINVAL, "memory \"%s\" must be greater than zero", s);
		*bytes = v;
		return 0;
	}
	long double q;
	if (fo_quantity_parse(s, &q)) {
		if (q <= 0)
			return fo_err_set(e, FO_EINVAL, "memory \"%s\" must be greater than zero", s);
		if (q >= 18446744073709551615.0L)
			return fo_err_set(e, FO_EINVAL, "memory \"%s\" is too large", s);
		/* Kubernetes rounds a fractional byte count up */
		*bytes = (uint64_t)ceill(q);
		return 0;
	}
	if (s[0] == '-')
		return fo_err_set(e, FO_EINVAL, "memory \"%s\" must be greater than zero", s);
	return fo_err_set(e, FO_EINVAL,
			  "\"%s\" is not a memory size: use a whole number with a unit such as 1024m "
			  "or 2g (Flink's units, powers of 1024) or a Kubernetes quantity such as 2Gi",
			  s);
}

int flink_memory_parse_flink(const char *s, uint64_t *bytes, fo_err *e)
{
	bool overflow = false;
	uint64_t v = 0;
	if (!s || !parse_flink_size(s, &v, &overflow))
		return fo_err_set(e, FO_EINVAL, "\"%s\" is not a size Flink reads: use a whole number with a unit such as 256m or 1g",
				  s ? s : "");
	if (overflow || v > (uint64_t)INT64_MAX)
		return fo_err_set(e, FO_EINVAL, "\"%s\" is too large", s);
	*bytes = v;
	return 0;
}

int flink_cpu_parse(const char *s, int64_t *milli, fo_err *e)
{
	if (!s || !*s)
		return fo_err_set(e, FO_EINVAL, "cpu is empty: give a number of cores such as 1 or 0.5");
	long double q;
	if (!fo_quantity_parse(s, &q))
		return fo_err_set(e, FO_EINVAL, "\"%s\" is not a cpu amount: use cores (1, 0.5) or millicores (500m)", s);
	if (q <= 0)
		return fo_err_set(e, FO_EINVAL, "cpu \"%s\" must be greater than zero", s);
	if (q > 1e6L)
		return fo_err_set(e, FO_EINVAL, "cpu \"%s\" is too large", s);
	long double m = q * 1000.0L;
	if (fabsl(m - roundl(m)) > 1e-6L)
		return fo_err_set(e, FO_EINVAL, "cpu \"%s\" is finer than one millicore", s);
	*milli = (int64_t)roundl(m);
	return 0;
}

uint64_t flink_memory_mib(uint64_t bytes)
{
	return bytes / MIB;
}

bool flink_dns1123_label(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0 && i < n - 1);
		if (!ok)
			return false;
	}
	return true;
}

bool flink_dns1123_subdomain(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return false;
	/* each dot-separated part a label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 */
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '.' || c == 0) {
			size_t len = i - start;
			if (len == 0 || len > 63 || s[start] == '-' || s[i - 1] == '-')
				return false;
			start = i + 1;
		} else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
			return false;
		}
	}
	return true;
}
