/*
 * Unit tests for Flink's and Kubernetes' units (flink/units.c): memory sizes
 * in both systems, cpu amounts and DNS-1123 names, as tables of cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flink/flink.h"

#define KI 1024ull
#define MI (1024ull * 1024ull)
#define GI (1024ull * 1024ull * 1024ull)

static void test_memory_sizes(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		uint64_t bytes; /* 0: must fail */
		const char *why;
	} cases[] = {
		/* Flink's MemorySize: every unit a power of 1024, case-insensitive */
		{"1024m", 1024 * MI, NULL},
		{"1024M", 1024 * MI, NULL},
		{"1024mb", 1024 * MI, NULL},
		{"1024 mb", 1024 * MI, NULL},
		{"2g", 2 * GI, NULL},
		{"2G", 2 * GI, NULL},
		{"2gb", 2 * GI, NULL},
		{"1t", 1024 * GI, NULL},
		{"1tb", 1024 * GI, NULL},
		{"512k", 512 * KI, NULL},
		{"512kb", 512 * KI, NULL},
		{"100b", 100, NULL},
		{"100bytes", 100, NULL},
		{"3mebibytes", 3 * MI, NULL},
		{"1500M", 1500 * MI, NULL},
		{"1073741824", GI, NULL},
		/* Kubernetes quantities */
		{"2Gi", 2 * GI, NULL},
		{"1536Mi", 1536 * MI, NULL},
		{"64Ki", 64 * KI, NULL},
		{"1.5Gi", 3 * GI / 2, NULL},
		{"1e9", 1000000000ull, NULL},
		{"1.5G", 1500000000ull, NULL},
		{"0.5Gi", GI / 2, NULL},
		/* errors */
		{"-2g", 0, "must be greater than zero"},
		{"0m", 0, "must be greater than zero"},
		{"0", 0, "must be greater than zero"},
		{"-1Gi", 0, "must be greater than zero"},
		{"two", 0, "is not a memory size"},
		{"2 gigs", 0, "is not a memory size"},
		{"2x", 0, "is not a memory size"},
		{"1.5g", 0, "is not a memory size"},
		{"", 0, "empty"},
		{"99999999999999999999999m", 0, "too large"},
		{"20000000t", 0, "too large"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t got = 0;
		fo_err e = FO_ERR_INIT;
		int rc = flink_memory_parse(cases[i].in, &got, &e);
		if (cases[i].bytes) {
			if (rc != 0 || got != cases[i].bytes)
				fail_msg("\"%s\": want %llu bytes, got rc %d, %llu (%s)", cases[i].in,
					 (unsigned long long)cases[i].bytes, rc, (unsigned long long)got, fo_err_msg(&e));
		} else {
			if (rc == 0)
				fail_msg("\"%s\" should fail, parsed as %llu", cases[i].in, (unsigned long long)got);
			if (!strstr(fo_err_msg(&e), cases[i].why))
				fail_msg("\"%s\": message \"%s\" lacks \"%s\"", cases[i].in, fo_err_msg(&e), cases[i].why);
		}
		fo_err_clear(&e);
	}
}

static void test_memory_mib(void **state)
{
	(void)state;
	assert_int_equal(flink_memory_mib(1024 * MI), 1024);
	assert_int_equal(flink_memory_mib(1500000000ull), 1430); /* rounded down, as Flink does */
	assert_int_equal(flink_memory_mib(MI - 1), 0);
}

static void test_cpu(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int64_t milli; /* 0: must fail */
	} cases[] = {
		{"1", 1000}, {"0.5", 500}, {"500m", 500}, {"2", 2000}, {"1.25", 1250}, {"100m", 100},
		{"0", 0}, {"-1", 0}, {"abc", 0}, {"0.0001", 0}, {"", 0}
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t got = 0;
		fo_err e = FO_ERR_INIT;
		int rc = flink_cpu_parse(cases[i].in, &got, &e);
		if (cases[i].milli) {
			if (rc != 0 || got != cases[i].milli)
				fail_msg("cpu \"%s\": want %lld, got rc %d %lld", cases[i].in, (long long)cases[i].milli, rc,
					 (long long)got);
		} else {
			if (rc == 0)
				fail_msg("cpu \"%s\" should fail", cases[i].in);
		}
		fo_err_clear(&e);
	}
}

static void test_dns1123(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		bool ok;
	} cases[] = {
		{"wordcount", true}, {"a", true}, {"job-1", true}, {"1job", true},
		{"My_Job", false}, {"my_job", false}, {"-job", false}, {"job-", false}, {"Job", false},
		{"", false}, {"a.b", false},
		{"a23456789012345678901234567890123456789012345678901234567890123", true},
		{"a234567890123456789012345678901234567890123456789012345678901234", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (flink_dns1123_label(cases[i].in) != cases[i].ok)
			fail_msg("dns1123(\"%s\") should be %d", cases[i].in, cases[i].ok);
	/* a subdomain: labels joined by dots, at most 253 in all */
	static const struct {
		const char *in;
		bool ok;
	} sub[] = {
		{"flink", true}, {"flink.ha", true}, {"a.b-c.d1", true}, {"system.flink-ha", true},
		{"", false}, {".a", false}, {"a.", false}, {"a..b", false}, {"a.-b", false}, {"a-.b", false},
		{"A.b", false}, {"a_b", false}, {"a:b", false},
		{"a23456789012345678901234567890123456789012345678901234567890123.b", true},
		{"a234567890123456789012345678901234567890123456789012345678901234.b", false},
	};
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		if (flink_dns1123_subdomain(sub[i].in) != sub[i].ok)
			fail_msg("subdomain(\"%s\") should be %d", sub[i].in, sub[i].ok);
	char long_name[260];
	memset(long_name, 'a', 259);
	for (int i = 60; i < 259; i += 61)
		long_name[i] = '.';
	long_name[253] = 0;
	assert_true(flink_dns1123_subdomain(long_name));
	long_name[253] = 'a';
	long_name[254] = 0;
	assert_false(flink_dns1123_subdomain(long_name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_sizes),
		cmocka_unit_test(test_memory_mib),
		cmocka_unit_test(test_cpu),
		cmocka_unit_test(test_dns1123),
	};
	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
