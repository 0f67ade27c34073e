/*
 * The write fence (see fence.h): an atomic time, written by the elector's
 * thread and read by every thread that is about to send a write.
 */
#include "lib/fence.h"

#include <time.h>

clockid_t fo_mono_clock(void)
{
	return CLOCK_BOOTTIME;
}

int64_t fo_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(fo_mono_clock(), &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec fo_mono_deadline(int64_t at_ms)
{
	int64_t left = at_ms - fo_mono_ms();
	if (left < 0)
		left = 0;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t ns = (int64_t)ts.tv_nsec + left % 1000 * 1000000;
	ts.tv_sec += (time_t)(left / 1000 + ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	return ts;
}

void fo_mono_cond_init(pthread_cond_t *c)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(c, &ca);
	pthread_condattr_destroy(&ca);
}

void fo_fence_init(fo_fence *f, int64_t deadline_ms)
{
	atomic_init(&f->renewed_at, FO_FENCE_CLOSED);
	f->deadline_ms = deadline_ms;
}

void fo_fence_renewed(fo_fence *f, int64_t sent_at_ms)
{
	long long cur = atomic_load(&f->renewed_at);
	while (cur < sent_at_ms && !atomic_compare_exchange_weak(&f->renewed_at, &cur, sent_at_ms))
		;
}

void fo_fence_close(fo_fence *f)
{
	atomic_store(&f->renewed_at, FO_FENCE_CLOSED);
}

bool fo_fence_held_at(const fo_fence *f, int64_t now_ms, int64_t *age_ms)
{
	/* the object is not const: only this read is */
	long long at = atomic_load((atomic_llong *)&f->renewed_at);
	if (age_ms)
		*age_ms = at == FO_FENCE_CLOSED ? -1 : now_ms - at;
	return at != FO_FENCE_CLOSED && now_ms - at < f->deadline_ms;
}

int fo_fence_check_at(const fo_fence *f, int64_t now_ms, const char *what, fo_err *e)
{
	int64_t age;
	if (!f || fo_fence_held_at(f, now_ms, &age))
		return 0;
	if (age < 0)
		return fo_err_set(e, FO_EFENCED, "not the leader: the lease is not held; refusing %s", what);
	return fo_err_set(e, FO_EFENCED, "not the leader: lease not renewed for %lld ms (renew deadline %lld ms); refusing %s",
			  (long long)age, (long long)f->deadline_ms, what);
}

int fo_fence_check(const fo_fence *f, const char *what, fo_err *e)
{
	return f ? fo_fence_check_at(f, fo_mono_ms(), what, e) : 0;
}
