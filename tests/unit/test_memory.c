/*
 * Unit tests for Flink's memory model (flink/memory.c): TaskManager and
 * JobManager memory derived from the process size and flinkConfiguration,
 * to the byte. The expected values are what Flink 1.20.5's own BashJavaUtils
 * (GET_TM_RESOURCE_PARAMS / GET_JM_RESOURCE_PARAMS) printed for the same
 * configuration; tests/flink-memory/check runs Flink itself over a table of
 * boundaries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flink/flink.h"

#define MI (1024ull * 1024ull)

/* A flinkConfiguration from "k=v" pairs separated by ';'. */
static void conf_from(flink_kvs *kv, const char *pairs)
{
	char *all = fo_strdup(pairs ? pairs : ""), *save = NULL;
	for (char *p = strtok_r(all, ";", &save); p; p = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(p, '=');
		assert_non_null(eq);
		*eq = '\0';
		flink_kvs_set(kv, p, eq + 1);
	}
	free(all);
}

/* Case i's outcome: refused with `why` in the message when `why` is given
 * (true), else derived (false); anything else fails the test. */
static bool refused_as_wanted(size_t i, int rc, const fo_err *e, const char *why)
{
	if (!why) {
		if (rc != 0)
			fail_msg("case %zu: refused: %s", i, fo_err_msg(e));
		return false;
	}
	if (rc == 0 || !strstr(fo_err_msg(e), why))
		fail_msg("case %zu: want refused with \"%s\", got %d \"%s\"", i, why, rc, fo_err_msg(e));
	return true;
}

static void test_taskmanager(void **state)
{
	(void)state;
	static const struct {
		uint64_t process;
		const char *conf;
		uint64_t task_heap, managed, network, overhead; /* 0 0 0 0: refused */
		const char *why;
	} cases[] = {
		{1024 * MI, NULL, 26843542, 241591914, 67108864, 201326592, NULL},
		{982 * MI, NULL, 419428, 223975836, 67108864, 201326592, NULL},
		{981 * MI, NULL, 0, 0, 0, 0, "managed and network memory add up to 533.20m, more than the Flink memory (533m)"},
		{20480 * MI, NULL, 9797893994, 8053063800, 2013265950, 1073741824, NULL},
		{2048 * MI, "taskmanager.memory.network.fraction=0.2;taskmanager.memory.managed.fraction=0.3", 563714432,
		 499289967, 332859969, 214748368, NULL},
		/* task heap and managed given: network is their inverse share, the overhead the rest */
		{2048 * MI, "taskmanager.memory.task.heap.size=512m;taskmanager.memory.managed.size=512m", 536870912,
		 536870912, 149130811, 387740101, NULL},
		{2048 * MI, "taskmanager.memory.flink.size=1500m", 517996533, 629145609, 157286402, 306184192, NULL},
		{1053 * MI, "taskmanager.memory.jvm-overhead.fraction=0.25", 262141, 223870979, 67108864, 276037632, NULL},
		{1052 * MI, "taskmanager.memory.jvm-overhead.fraction=0.25", 0, 0, 0, 0, "more than the Flink memory"},
		{2048 * MI, "taskmanager.memory.flink.size=600m", 0, 0, 0, 0,
		 "the derived JVM overhead (1192m) is outside its configured range [192m, 1024m]"},
		{2048 * MI, "taskmanager.memory.task.heap.size=1g", 0, 0, 0, 0,
		 "task heap, task off-heap and managed memory add up to 1914.88m, more than the Flink memory (1587.20m)"},
		/* the network memory is what task heap leaves, and must be in its range */
		{2048 * MI, "taskmanager.memory.task.heap.size=650m", 0, 0, 0, 0,
		 "the derived network memory (46.32m) is outside its configured range [64m, unbounded]"},
		{2048 * MI, "taskmanager.memory.network.min=2g", 0, 0, 0, 0, "more than the Flink memory"},
		{2048 * MI, "taskmanager.memory.network.min=2g;taskmanager.memory.network.max=1g", 0, 0, 0, 0,
		 "taskmanager.memory.network.min (2048m) is above taskmanager.memory.network.max (1024m)"},
		{2048 * MI, "taskmanager.memory.managed.fraction=1", 0, 0, 0, 0, "must be at least 0 and below 1, got 1"},
		{2048 * MI, "taskmanager.memory.managed.size=2Gi", 0, 0, 0, 0, "\"2Gi\" is not a size Flink reads"},
		{2048 * MI, "taskmanager.memory.network.fraction=x", 0, 0, 0, 0, "\"x\" is not a number"},
		/* Flink's older option sizes the network as buffers × 32k segments */
		{2048 * MI, "taskmanager.network.numberOfBuffers=1000", 697376429, 665719939, 32768000, 214748368, NULL},
		{2048 * MI, "taskmanager.network.numberOfBuffers=100000", 0, 0, 0, 0,
		 "managed and network memory add up to 4015.88m, more than the Flink memory (1587.20m)"},
		{2048 * MI, "taskmanager.network.numberOfBuffers=100000;taskmanager.memory.network.fraction=0.1", 563714445,
		 665719939, 166429984, 214748368, NULL},
		{2048 * MI, "taskmanager.network.numberOfBuffers=1000;taskmanager.memory.task.heap.size=600m", 0, 0, 0, 0,
		 "is not the 31.25m that taskmanager.network.numberOfBuffers gives"},
		{2048 * MI, "taskmanager.network.numberOfBuffers=-1", 0, 0, 0, 0, "is not a number of buffers"},
		/* the older names of the Flink memory: taskmanager.heap.size, taskmanager.heap.mb */
		{2048 * MI, "taskmanager.heap.size=1500m", 517996533, 629145609, 157286402, 306184192, NULL},
		{2048 * MI, "taskmanager.heap.mb=1500", 517996533, 629145609, 157286402, 306184192, NULL},
		{2048 * MI, "taskmanager.heap.size=1800m", 0, 0, 0, 0, "exceed the process size"},
		{2048 * MI, "taskmanager.heap.mb=x", 0, 0, 0, 0, "\"x\" is not a number of MiB"},
		{2048 * MI, "taskmanager.memory.network.fraction=0.2f;taskmanager.memory.managed.fraction= 0.3 ", 563714432,
		 499289967, 332859969, 214748368, NULL},
		{2048 * MI, "taskmanager.memory.framework.heap.size=9223372036854775807b;taskmanager.memory.managed.size=9223372036854775807b", 0, 0, 0, 0,
		 "add up to more than Flink can hold"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flink_kvs conf = {0};
		conf_from(&conf, cases[i].conf);
		flink_memory m;
		fo_err e = FO_ERR_INIT;
		int rc = flink_tm_memory_derive(&conf, cases[i].process, &m, &e);
		if (!refused_as_wanted(i, rc, &e, cases[i].why)) {
			if (m.task_heap != cases[i].task_heap || m.managed != cases[i].managed ||
			    m.network != cases[i].network || m.overhead != cases[i].overhead)
				fail_msg("case %zu: task heap %llu managed %llu network %llu overhead %llu", i,
					 (unsigned long long)m.task_heap, (unsigned long long)m.managed,
					 (unsigned long long)m.network, (unsigned long long)m.overhead);
			/* the parts add up to the process */
			assert_int_equal(m.framework_heap + m.framework_off_heap + m.task_heap + m.task_off_heap + m.managed +
						 m.network + m.metaspace + m.overhead,
					 cases[i].process);
		}
		fo_err_clear(&e);
		flink_kvs_free(&conf);
	}
}

static void test_jobmanager(void **state)
{
	(void)state;
	static const struct {
		uint64_t process;
		const char *conf;
		uint64_t heap, overhead; /* 0 0: refused */
		const char *why;
	} cases[] = {
		{1024 * MI, NULL, 469762048, 201326592, NULL},
		{577 * MI, NULL, 1048576, 201326592, NULL},
		{576 * MI, NULL, 0, 0, "the Flink memory (128m) leaves no heap after the off-heap memory (128m)"},
		{300 * MI, NULL, 0, 0, "JVM metaspace (256m) and JVM overhead (192m) exceed the process size (300m)"},
		{20480 * MI, NULL, 19998441472, 1073741824, NULL},
		{1088 * MI, "jobmanager.memory.heap.size=512m", 536870912, 201326592, NULL},
		{1087 * MI, "jobmanager.memory.heap.size=512m", 0, 0, "JVM overhead (191m) is outside its configured range"},
		{1921 * MI, "jobmanager.memory.heap.size=512m", 0, 0, "JVM overhead (1025m) is outside its configured range"},
		{1024 * MI, "jobmanager.memory.heap.size=512m;jobmanager.memory.flink.size=700m", 0, 0,
		 "heap (512m) and off-heap memory (128m) do not add up to the Flink memory (700m)"},
		{1024 * MI, "jobmanager.memory.flink.size=100m", 0, 0, "leaves no heap"},
		/* the older names of the heap */
		{1088 * MI, "jobmanager.heap.size=512m", 536870912, 201326592, NULL},
		{1088 * MI, "jobmanager.heap.mb=512", 536870912, 201326592, NULL},
		{1024 * MI, "jobmanager.heap.size=900m", 0, 0, "exceed the process size"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flink_kvs conf = {0};
		conf_from(&conf, cases[i].conf);
		flink_memory m;
		fo_err e = FO_ERR_INIT;
		int rc = flink_jm_memory_derive(&conf, cases[i].process, &m, &e);
		if (!refused_as_wanted(i, rc, &e, cases[i].why)) {
			if (m.heap != cases[i].heap || m.overhead != cases[i].overhead)
				fail_msg("case %zu: heap %llu overhead %llu", i, (unsigned long long)m.heap,
					 (unsigned long long)m.overhead);
			assert_int_equal(m.heap + m.off_heap + m.metaspace + m.overhead, cases[i].process);
		}
		fo_err_clear(&e);
		flink_kvs_free(&conf);
	}
}

/* The JobManager's minimum heap (32 MiB): Flink derives smaller heaps
 * without complaint, but the JobManager does not come up with them. */
static void test_jobmanager_heap(void **state)
{
	(void)state;
	static const struct {
		uint64_t process;
		const char *conf;
		uint64_t heap;
		const char *why; /* NULL: enough heap */
	} cases[] = {
		{577 * MI, NULL, 1 * MI, "its JVM heap would be 1m, below the 32m a JobManager needs to start"},
		{600 * MI, NULL, 24 * MI, "its JVM heap would be 24m, below the 32m"},
		{607 * MI, NULL, 31 * MI, "its JVM heap would be 31m, below the 32m"},
		{608 * MI, NULL, 32 * MI, NULL},
		{1024 * MI, NULL, 469762048, NULL},
		{1024 * MI, "jobmanager.memory.heap.size=16m", 16 * MI, "its JVM heap would be 16m"},
		{1024 * MI, "jobmanager.memory.heap.size=32m", 32 * MI, NULL},
		{991 * MI, "jobmanager.memory.off-heap.size=512m", 31 * MI, "its JVM heap would be 31m"},
		{992 * MI, "jobmanager.memory.off-heap.size=512m", 32 * MI, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flink_kvs conf = {0};
		conf_from(&conf, cases[i].conf);
		flink_memory m;
		fo_err e = FO_ERR_INIT;
		if (flink_jm_memory_derive(&conf, cases[i].process, &m, &e) != 0)
			fail_msg("case %zu: Flink's model refuses: %s", i, fo_err_msg(&e));
		if (m.heap != cases[i].heap)
			fail_msg("case %zu: heap %llu, want %llu", i, (unsigned long long)m.heap,
				 (unsigned long long)cases[i].heap);
		refused_as_wanted(i, flink_jm_heap_check(&m, &e), &e, cases[i].why);
		fo_err_clear(&e);
		flink_kvs_free(&conf);
	}
}

/* The smallest process size, as validate names it. */
static void test_minimum(void **state)
{
	(void)state;
	static const struct {
		bool tm;
		const char *conf;
		uint64_t mib;
	} cases[] = {
		{true, NULL, 982},
		{false, NULL, 608}, /* Flink derives 577m, with a heap of 1 MiB: not enough to start */
		{true, "taskmanager.memory.managed.size=2g", 3129},
		{true, "taskmanager.memory.jvm-overhead.fraction=0.25", 1053},
		{false, "jobmanager.memory.off-heap.size=512m", 992},
		{false, "jobmanager.memory.jvm-overhead.min=100m;jobmanager.memory.jvm-overhead.fraction=0.05", 516},
		{true, "taskmanager.memory.flink.size=1g", 0},   /* a window, not a minimum */
		{false, "jobmanager.memory.heap.size=1g", 0},
		{true, "taskmanager.heap.mb=1000", 0},
		{false, "jobmanager.heap.size=1g", 0},
		{true, "taskmanager.memory.network.min=2t", 0}, /* nothing up to 1 TiB fits */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flink_kvs conf = {0};
		conf_from(&conf, cases[i].conf);
		uint64_t got = flink_memory_min_mib(&conf, cases[i].tm);
		if (got != cases[i].mib)
			fail_msg("case %zu: want %llu MiB, got %llu", i, (unsigned long long)cases[i].mib, (unsigned long long)got);
		flink_kvs_free(&conf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_taskmanager),
		cmocka_unit_test(test_jobmanager),
		cmocka_unit_test(test_jobmanager_heap),
		cmocka_unit_test(test_minimum),
	};
	return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
