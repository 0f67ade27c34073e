/*
 * The write fence of leader election: one value, the monotonic time the
 * last successful renewal of the Lease was sent, that the elector moves
 * forward and every writer consults. A write is allowed only while that
 * time is less than the renew deadline ago. The fence is judged on the
 * local boot-time clock alone (fo_mono_clock), so a paused, suspended or
 * slow process finds it closed the moment it runs again, whether or not
 * its elector has noticed yet.
 * A NULL fence allows everything (`sync --once`, tests).
 */
#ifndef FO_FENCE_H
#define FO_FENCE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "lib/err.h"

typedef struct fo_fence {
	atomic_llong renewed_at; /* monotonic ms of the last successful renewal sent; FO_FENCE_CLOSED: none */
	int64_t deadline_ms;     /* held while now - renewed_at < deadline_ms */
} fo_fence;

#define FO_FENCE_CLOSED INT64_MIN

/* The clock of the Lease's expiry, the fence and the daemon's schedule:
 * CLOCK_BOOTTIME, monotonic like CLOCK_MONOTONIC but counting the time the
 * machine was suspended. The other replicas' and the API server's clocks
 * ran on during a suspend: a Lease's expiry judged on a clock that stopped
 * would let a resumed leader write after another replica took over. */
clockid_t fo_mono_clock(void);
/* fo_mono_clock() in milliseconds. */
int64_t fo_mono_ms(void);
/* The CLOCK_MONOTONIC time, for pthread_cond_timedwait (a condition takes
 * only CLOCK_MONOTONIC or CLOCK_REALTIME), at which fo_mono_ms() reaches
 * `at_ms` if the machine is not suspended meanwhile; after a suspend the
 * wait ends late, never early, so waiters check fo_mono_ms() again. */
struct timespec fo_mono_deadline(int64_t at_ms);
/* Initialise `c` for waits until fo_mono_deadline's times (its clock is
 * CLOCK_MONOTONIC: the default, CLOCK_REALTIME, would take them as past). */
void fo_mono_cond_init(pthread_cond_t *c);

/* A closed fence that, once renewed, stays held for `deadline_ms`. */
void fo_fence_init(fo_fence *f, int64_t deadline_ms);
/* A renewal sent at `sent_at_ms` succeeded. Never moves the time back, so a
 * late answer to an older renewal cannot shorten a newer one. */
void fo_fence_renewed(fo_fence *f, int64_t sent_at_ms);
/* Close the fence now (leadership lost or released). */
void fo_fence_close(fo_fence *f);
/* Whether writes are allowed at `now_ms`; *age_ms (may be NULL) gets how
 * long ago the last renewal was sent, or -1 when there was none. */
bool fo_fence_held_at(const fo_fence *f, int64_t now_ms, int64_t *age_ms);
/*
 * 0 when `f` is NULL or held now; else FO_EFENCED with "not the leader:
 * lease not renewed for N ms; refusing WHAT" (or "the lease is not held").
 * `what` names the request ("apply StatefulSet ns/x").
 */
int fo_fence_check(const fo_fence *f, const char *what, fo_err *e);
/* The same at a given time (for tests). */
int fo_fence_check_at(const fo_fence *f, int64_t now_ms, const char *what, fo_err *e);

#endif
