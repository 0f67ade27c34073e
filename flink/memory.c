/*
 * Flink's process memory model (Flink 1.20's ProcessMemoryUtils,
 * TaskExecutorFlinkMemoryUtils and JobManagerFlinkMemoryUtils), so that
 * `validate` refuses a process size that Flink itself refuses at start
 * instead of a pod that crash-loops. flinkops always sets the process size
 * (from jobManager/taskManager memory); every other memory option comes from
 * flinkConfiguration or Flink's default. Pure: no I/O.
 *
 * The arithmetic is Flink's to the byte: MemorySize.multiply takes the
 * BigDecimal of the byte count times BigDecimal.valueOf(fraction) and
 * truncates, and fractions are floats widened to doubles, so 0.1 is really
 * 0.10000000149011612. A boundary off by one MiB would accept a size that
 * Flink refuses; tests/flink-memory/check compares with Flink's own
 * BashJavaUtils.
 */
#include "flink/flink.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB ((uint64_t)1024 * 1024)
/* MemorySize.MAX_VALUE: Long.MAX_VALUE bytes */
#define SIZE_MAX_FLINK ((uint64_t)INT64_MAX)

typedef struct range {
	uint64_t min, max;
	double fraction;
} range;

/* A size as Flink writes it in its messages, but short: whole MiB when it
 * is one, else MiB with two decimals. Caller frees. */
static char *human(uint64_t bytes)
{
	if (bytes == SIZE_MAX_FLINK)
		return fo_strdup("unbounded");
	if (bytes % MIB == 0)
		return fo_asprintf("%" PRIu64 "m", bytes / MIB);
	return fo_asprintf("%.2fm", (double)bytes / (double)MIB);
}

/* Contract: `key`'s value in conf, read as Flink's MemorySize, into *out;
 * `def` when absent. Returns 0 or FO_EINVAL with the key named in `e`. */
static int conf_size(const flink_kvs *conf, const char *key, uint64_t def, uint64_t *out, fo_err *e)
{
	const char *s = flink_conf_get(conf, key);
	if (!s) {
		*out = def;
		return 0;
	}
	fo_err pe = FO_ERR_INIT;
	int rc = flink_memory_parse_flink(s, out, &pe);
	if (rc < 0)
		rc = fo_err_set(e, FO_EINVAL, "flinkConfiguration %s: %s", key, fo_err_msg(&pe));
	fo_err_clear(&pe);
	return rc;
}

/*
 * Contract: the size of `key`, or of the keys Flink reads in its place when
 * it is absent (LegacyMemoryOptions: `legacy`, a MemorySize, then
 * `legacy_mb`, a number of MiB), into *out with *given = true; *given =
 * false when none is set. 0 or FO_EINVAL.
 */
static int conf_size_or_legacy(const flink_kvs *conf, const char *key, const char *legacy, const char *legacy_mb,
			       bool *given, uint64_t *out, fo_err *e)
{
	*given = true;
	if (flink_conf_get(conf, key))
		return conf_size(conf, key, 0, out, e);
	if (flink_conf_get(conf, legacy))
		return conf_size(conf, legacy, 0, out, e);
	const char *mb = flink_conf_get(conf, legacy_mb);
	if (!mb) {
		*given = false;
		return 0;
	}
	/* Flink parses it as the text with "m" after it */
	char *sized = fo_asprintf("%sm", mb);
	int rc = flink_memory_parse_flink(sized, out, e);
	if (rc < 0)
		rc = fo_err_set(e, FO_EINVAL, "flinkConfiguration %s: \"%s\" is not a number of MiB", legacy_mb, mb);
	free(sized);
	return rc;
}

/* The options that fix a TaskManager's Flink memory or a JobManager's heap,
 * with their older names. */
#define TM_FLINK_SIZE "taskmanager.memory.flink.size", "taskmanager.heap.size", "taskmanager.heap.mb"
#define JM_HEAP_SIZE "jobmanager.memory.heap.size", "jobmanager.heap.size", "jobmanager.heap.mb"

/* Contract: `key`'s value as Flink's float option (widened to double, as
 * Flink's RangeFraction holds it), `def` when absent; 0 or FO_EINVAL. */
static int conf_fraction(const flink_kvs *conf, const char *key, float def, double *out, fo_err *e)
{
	const char *s = flink_conf_get(conf, key);
	if (!s) {
		*out = (double)def;
		return 0;
	}
	char *end;
	float f = strtof(s, &end);
	/* Java's Float.parseFloat also takes a type suffix and trims */
	if (end != s && *end && strchr("fFdD", *end))
		end++;
	while (*end == ' ')
		end++;
	if (end == s || *end || !isfinite(f))
		return fo_err_set(e, FO_EINVAL, "flinkConfiguration %s: \"%s\" is not a number", key, s);
	*out = (double)f;
	return 0;
}

/* Contract: a RangeFraction from three options, refused as Flink refuses it
 * (min above max, a fraction outside [0, 1)); 0 or FO_EINVAL. */
static int conf_range(const flink_kvs *conf, const char *min_key, uint64_t min_def, const char *max_key,
		      uint64_t max_def, const char *frac_key, float frac_def, range *r, fo_err *e)
{
	int rc;
	r->min = 0;
	r->max = SIZE_MAX_FLINK;
	if (min_key && (rc = conf_size(conf, min_key, min_def, &r->min, e)) < 0)
		return rc;
	if (max_key && (rc = conf_size(conf, max_key, max_def, &r->max, e)) < 0)
		return rc;
	if ((rc = conf_fraction(conf, frac_key, frac_def, &r->fraction, e)) < 0)
		return rc;
	if (r->min > r->max) {
		char *a = human(r->min), *b = human(r->max);
		rc = fo_err_set(e, FO_EINVAL, "flinkConfiguration %s (%s) is above %s (%s)", min_key, a, max_key, b);
		free(a);
		free(b);
		return rc;
	}
	if (!(r->fraction >= 0 && r->fraction < 1))
		return fo_err_set(e, FO_EINVAL, "flinkConfiguration %s must be at least 0 and below 1, got %g", frac_key,
				  r->fraction);
	return 0;
}

/*
 * Contract: *out = trunc(bytes × f), computed as Flink's MemorySize.multiply
 * does: exactly, with f taken as its shortest decimal form (Java's
 * BigDecimal.valueOf(double)). 0, or FO_EINVAL when the product does not fit
 * a long, which Flink refuses too.
 */
static int mul_fraction(uint64_t bytes, double f, uint64_t *out, fo_err *e)
{
	char buf[64]; /* "%.17e" of a double is at most 24 characters */
	int prec = 0;
	for (prec = 0; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec, f);
		if (strtod(buf, NULL) == f)
			break;
	}
	if (prec == 17)
		snprintf(buf, sizeof(buf), "%.17e", f);
	/* buf is d[.ddd]e±XX: the digits form an integer M, and f = M × 10^(X - prec) */
	unsigned __int128 m = 0;
	const char *p = buf;
	for (; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			m = m * 10 + (unsigned)(*p - '0');
	int exp10 = *p == 'e' ? atoi(p + 1) - prec : 0;
	unsigned __int128 v = (unsigned __int128)bytes * m;
	for (; exp10 < 0 && v; exp10++)
		v /= 10; /* truncating step by step truncates the whole quotient */
	for (; exp10 > 0 && v <= SIZE_MAX_FLINK; exp10--)
		v *= 10;
	if (v > SIZE_MAX_FLINK)
		return fo_err_set(e, FO_EINVAL, "a memory size derived with the fraction %g is too large", f);
	*out = (uint64_t)v;
	return 0;
}

/* Contract: ProcessMemoryUtils.deriveWithFraction: base × fraction, kept
 * within [min, max]. */
static int derive_fraction(uint64_t base, const range *r, uint64_t *out, fo_err *e)
{
	int rc = mul_fraction(base, r->fraction, out, e);
	if (rc < 0)
		return rc;
	if (*out > r->max)
		*out = r->max;
	else if (*out < r->min)
		*out = r->min;
	return 0;
}

/* Contract: deriveWithInverseFraction: the share that makes `base` the rest
 * (base × f / (1 - f)), kept within [min, max]. */
static int derive_inverse_fraction(uint64_t base, const range *r, uint64_t *out, fo_err *e)
{
	range inv = *r;
	inv.fraction = r->fraction / (1 - r->fraction);
	return derive_fraction(base, &inv, out, e);
}

/*
 * Contract: the network memory Flink's older option gives, into *out with
 * *given = true, when taskmanager.network.numberOfBuffers is set and none of
 * the taskmanager.memory.network.* options is (Flink then sizes the network
 * as buffers × segment size). 0 or FO_EINVAL.
 */
static int legacy_network(const flink_kvs *conf, bool *given, uint64_t *out, fo_err *e)
{
	const char *s = flink_conf_get(conf, "taskmanager.network.numberOfBuffers");
	*given = s && !flink_conf_get(conf, "taskmanager.memory.network.min") &&
		 !flink_conf_get(conf, "taskmanager.memory.network.max") &&
		 !flink_conf_get(conf, "taskmanager.memory.network.fraction");
	if (!*given)
		return 0;
	char *end;
	long long buffers = strtoll(s, &end, 10);
	while (*end == ' ')
		end++;
	if (end == s || *end || buffers < 0 || buffers > INT32_MAX)
		return fo_err_set(e, FO_EINVAL, "flinkConfiguration taskmanager.network.numberOfBuffers: \"%s\" is not a "
				  "number of buffers", s);
	uint64_t page;
	int rc = conf_size(conf, "taskmanager.memory.segment-size", 32 * 1024, &page, e);
	if (rc < 0)
		return rc;
	if (page && (uint64_t)buffers > SIZE_MAX_FLINK / page)
		return fo_err_set(e, FO_EINVAL, "taskmanager.network.numberOfBuffers × segment size is too large");
	*out = (uint64_t)buffers * page;
	return 0;
}

/* Contract: the sum of n sizes in *out; FO_EINVAL when it passes a long, as
 * MemorySize.add throws there. */
static int sum(uint64_t *out, fo_err *e, size_t n, const uint64_t *v)
{
	uint64_t s = 0;
	for (size_t i = 0; i < n; i++)
		if (__builtin_add_overflow(s, v[i], &s) || s > SIZE_MAX_FLINK)
			return fo_err_set(e, FO_EINVAL, "the configured memory sizes add up to more than Flink can hold");
	*out = s;
	return 0;
}

/* Contract: `size` within r, else FO_EINVAL naming `what` and the range. */
static int check_range(const char *what, uint64_t size, const range *r, fo_err *e)
{
	if (size >= r->min && size <= r->max)
		return 0;
	char *a = human(size), *b = human(r->min), *c = human(r->max);
	int rc = fo_err_set(e, FO_EINVAL, "the derived %s (%s) is outside its configured range [%s, %s]", what, a, b, c);
	free(a);
	free(b);
	free(c);
	return rc;
}

/*
 * Contract: the JVM metaspace and overhead of a process of `process` bytes
 * (ProcessMemoryUtils): with the Flink memory `flink` known (flink != 0),
 * the overhead is the rest and must lie in its range; otherwise it comes
 * from the overhead fraction and the Flink memory is what remains. 0 or
 * FO_EINVAL with Flink's reason.
 */
static int derive_jvm(uint64_t process, uint64_t flink, uint64_t metaspace, const range *ovh, flink_memory *m,
		      fo_err *e)
{
	int rc;
	m->process = process;
	m->metaspace = metaspace;
	if (flink) {
		uint64_t used = flink + metaspace; /* both below 2^63 */
		if (used > process) {
			char *a = human(flink), *b = human(metaspace), *c = human(process);
			rc = fo_err_set(e, FO_EINVAL, "Flink memory (%s) and JVM metaspace (%s) exceed the process size (%s)", a,
					b, c);
			free(a);
			free(b);
			free(c);
			return rc;
		}
		m->overhead = process - used;
		m->flink = flink;
		return check_range("JVM overhead", m->overhead, ovh, e);
	}
	if ((rc = derive_fraction(process, ovh, &m->overhead, e)) < 0)
		return rc;
	if (m->overhead > process || metaspace > process - m->overhead) {
		char *a = human(metaspace), *b = human(m->overhead), *c = human(process);
		rc = fo_err_set(e, FO_EINVAL, "JVM metaspace (%s) and JVM overhead (%s) exceed the process size (%s)", a, b, c);
		free(a);
		free(b);
		free(c);
		return rc;
	}
	m->flink = process - metaspace - m->overhead;
	return 0;
}

/* Contract: FO_EINVAL naming the parts that exceed the Flink memory. */
static int exceeded(fo_err *e, const char *parts, uint64_t need, uint64_t flink)
{
	char *a = human(need), *b = human(flink);
	int rc = fo_err_set(e, FO_EINVAL, "%s add up to %s, more than the Flink memory (%s)", parts, a, b);
	free(a);
	free(b);
	return rc;
}

int flink_tm_memory_derive(const flink_kvs *conf, uint64_t process, flink_memory *m, fo_err *e)
{
	memset(m, 0, sizeof(*m));
	uint64_t metaspace, flink_conf = 0;
	range ovh, net, managed;
	int rc;
	if ((rc = conf_size(conf, "taskmanager.memory.framework.heap.size", 128 * MIB, &m->framework_heap, e)) < 0 ||
	    (rc = conf_size(conf, "taskmanager.memory.framework.off-heap.size", 128 * MIB, &m->framework_off_heap, e)) < 0 ||
	    (rc = conf_size(conf, "taskmanager.memory.task.off-heap.size", 0, &m->task_off_heap, e)) < 0 ||
	    (rc = conf_size(conf, "taskmanager.memory.jvm-metaspace.size", 256 * MIB, &metaspace, e)) < 0 ||
	    (rc = conf_range(conf, "taskmanager.memory.jvm-overhead.min", 192 * MIB, "taskmanager.memory.jvm-overhead.max",
			     1024 * MIB, "taskmanager.memory.jvm-overhead.fraction", 0.1f, &ovh, e)) < 0 ||
	    (rc = conf_range(conf, "taskmanager.memory.network.min", 64 * MIB, "taskmanager.memory.network.max",
			     SIZE_MAX_FLINK, "taskmanager.memory.network.fraction", 0.1f, &net, e)) < 0 ||
	    (rc = conf_range(conf, NULL, 0, NULL, 0, "taskmanager.memory.managed.fraction", 0.4f, &managed, e)) < 0)
		return rc;
	bool legacy = false;
	uint64_t legacy_size = 0;
	if ((rc = legacy_network(conf, &legacy, &legacy_size, e)) < 0)
		return rc;
	bool has_task_heap = flink_conf_get(conf, "taskmanager.memory.task.heap.size") != NULL;
	bool has_managed = flink_conf_get(conf, "taskmanager.memory.managed.size") != NULL;
	bool has_flink;
	if ((has_task_heap &&
	     (rc = conf_size(conf, "taskmanager.memory.task.heap.size", 0, &m->task_heap, e)) < 0) ||
	    (has_managed && (rc = conf_size(conf, "taskmanager.memory.managed.size", 0, &m->managed, e)) < 0) ||
	    (rc = conf_size_or_legacy(conf, TM_FLINK_SIZE, &has_flink, &flink_conf, e)) < 0)
		return rc;

	uint64_t flink = 0;
	if (has_task_heap && has_managed && !has_flink) {
		/* every part of the Flink memory is given: network is the
		 * share that makes them its rest, and the overhead what is left */
		uint64_t excl = 0;
		uint64_t parts[] = {m->framework_heap, m->framework_off_heap, m->task_heap, m->task_off_heap, m->managed};
		if ((rc = sum(&excl, e, FO_ARRAY_LEN(parts), parts)) < 0)
			return rc;
		if (legacy)
			m->network = legacy_size;
		else if ((rc = derive_inverse_fraction(excl, &net, &m->network, e)) < 0)
			return rc;
		uint64_t all[] = {excl, m->network};
		if ((rc = sum(&flink, e, 2, all)) < 0)
			return rc;
		return derive_jvm(process, flink, metaspace, &ovh, m, e);
	}
	/* Flink memory given: its parts first, then the JVM's (Flink's order,
	 * which decides the message); else the JVM's parts come first and the
	 * Flink memory is the rest of the process */
	if (has_flink) {
		if (!flink_conf)
			return fo_err_set(e, FO_EINVAL, "flinkConfiguration taskmanager.memory.flink.size must be above zero");
		flink = flink_conf;
	} else {
		if ((rc = derive_jvm(process, 0, metaspace, &ovh, m, e)) < 0)
			return rc;
		flink = m->flink;
	}
	if (!has_managed && (rc = derive_fraction(flink, &managed, &m->managed, e)) < 0)
		return rc;
	uint64_t excl = 0;
	if (has_task_heap) {
		uint64_t parts[] = {m->framework_heap, m->framework_off_heap, m->task_heap, m->task_off_heap, m->managed};
		if ((rc = sum(&excl, e, FO_ARRAY_LEN(parts), parts)) < 0)
			return rc;
		if (excl > flink)
			return exceeded(e, "framework heap, framework off-heap, task heap, task off-heap and managed memory",
					excl, flink);
		m->network = flink - excl;
		if (legacy && m->network != legacy_size) {
			char *a = human(m->network), *b = human(legacy_size);
			rc = fo_err_set(e, FO_EINVAL,
					"the derived network memory (%s) is not the %s that taskmanager.network.numberOfBuffers gives",
					a, b);
			free(a);
			free(b);
			return rc;
		}
		if (!legacy && (rc = check_range("network memory", m->network, &net, e)) < 0)
			return rc;
	} else {
		if (legacy)
			m->network = legacy_size;
		else if ((rc = derive_fraction(flink, &net, &m->network, e)) < 0)
			return rc;
		uint64_t parts[] = {m->framework_heap, m->framework_off_heap, m->task_off_heap, m->managed, m->network};
		if ((rc = sum(&excl, e, FO_ARRAY_LEN(parts), parts)) < 0)
			return rc;
		if (excl > flink)
			return exceeded(e, "framework heap, framework off-heap, task off-heap, managed and network memory", excl,
					flink);
		m->task_heap = flink - excl;
	}
	return has_flink ? derive_jvm(process, flink, metaspace, &ovh, m, e) : 0;
}

int flink_jm_memory_derive(const flink_kvs *conf, uint64_t process, flink_memory *m, fo_err *e)
{
	memset(m, 0, sizeof(*m));
	uint64_t metaspace, flink_conf = 0;
	range ovh;
	int rc;
	if ((rc = conf_size(conf, "jobmanager.memory.off-heap.size", 128 * MIB, &m->off_heap, e)) < 0 ||
	    (rc = conf_size(conf, "jobmanager.memory.jvm-metaspace.size", 256 * MIB, &metaspace, e)) < 0 ||
	    (rc = conf_range(conf, "jobmanager.memory.jvm-overhead.min", 192 * MIB, "jobmanager.memory.jvm-overhead.max",
			     1024 * MIB, "jobmanager.memory.jvm-overhead.fraction", 0.1f, &ovh, e)) < 0)
		return rc;
	bool has_heap;
	bool has_flink = flink_conf_get(conf, "jobmanager.memory.flink.size") != NULL;
	if ((rc = conf_size_or_legacy(conf, JM_HEAP_SIZE, &has_heap, &m->heap, e)) < 0 ||
	    (has_flink && (rc = conf_size(conf, "jobmanager.memory.flink.size", 0, &flink_conf, e)) < 0))
		return rc;
	if (has_heap) {
		uint64_t flink = 0, parts[] = {m->heap, m->off_heap};
		if ((rc = sum(&flink, e, 2, parts)) < 0)
			return rc;
		if (has_flink && flink != flink_conf) {
			char *a = human(m->heap), *b = human(m->off_heap), *c = human(flink_conf);
			rc = fo_err_set(e, FO_EINVAL, "heap (%s) and off-heap memory (%s) do not add up to the Flink memory (%s)",
					a, b, c);
			free(a);
			free(b);
			free(c);
			return rc;
		}
		return derive_jvm(process, flink, metaspace, &ovh, m, e);
	}
	uint64_t flink = flink_conf;
	if (!has_flink) {
		if ((rc = derive_jvm(process, 0, metaspace, &ovh, m, e)) < 0)
			return rc;
		flink = m->flink;
	}
	if (flink <= m->off_heap) {
		char *a = human(flink), *b = human(m->off_heap);
		rc = fo_err_set(e, FO_EINVAL, "the Flink memory (%s) leaves no heap after the off-heap memory (%s)", a, b);
		free(a);
		free(b);
		return rc;
	}
	m->heap = flink - m->off_heap;
	return has_flink ? derive_jvm(process, flink, metaspace, &ovh, m, e) : 0;
}

int flink_jm_heap_check(const flink_memory *m, fo_err *e)
{
	if (m->heap >= (uint64_t)FLINK_JM_MIN_HEAP_MIB * MIB)
		return 0;
	char *a = human(m->heap);
	int rc = fo_err_set(e, FO_EINVAL, "its JVM heap would be %s, below the %um a JobManager needs to start", a,
			    FLINK_JM_MIN_HEAP_MIB);
	free(a);
	return rc;
}

/* Contract: whether a process of `mib` MiB derives with `conf` (and, for a
 * JobManager, has the minimum heap): the predicate of the search below. */
static bool fits(const flink_kvs *conf, bool tm, uint64_t mib)
{
	flink_memory m;
	fo_err e = FO_ERR_INIT;
	int rc = tm ? flink_tm_memory_derive(conf, mib * MIB, &m, &e) : flink_jm_memory_derive(conf, mib * MIB, &m, &e);
	if (rc == 0 && !tm)
		rc = flink_jm_heap_check(&m, &e);
	fo_err_clear(&e);
	return rc == 0;
}

uint64_t flink_memory_min_mib(const flink_kvs *conf, bool tm)
{
	/* Only a process size that Flink derives everything from has a
	 * minimum; with the Flink memory given the overhead must fit a window
	 * instead, which the derive message names. The derivation (and a
	 * JobManager's heap) is monotone in the process size, so the smallest
	 * fit is a binary search. */
	static const char *const fixing[] = {"taskmanager.memory.flink.size", "taskmanager.heap.size",
					     "taskmanager.heap.mb", "taskmanager.memory.task.heap.size",
					     "jobmanager.memory.flink.size", "jobmanager.memory.heap.size",
					     "jobmanager.heap.size", "jobmanager.heap.mb"};
	for (size_t i = tm ? 0 : 4; i < (tm ? 4u : FO_ARRAY_LEN(fixing)); i++)
		if (flink_conf_get(conf, fixing[i]))
			return 0;
	uint64_t lo = 1, hi = 1024 * 1024; /* MiB: 1 MiB to 1 TiB */
	if (!fits(conf, tm, hi))
		return 0;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (fits(conf, tm, mid))
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}
