/*
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's
 * semantics, so that of several replicas of `flinkops agent` only one acts.
 * The decision is pure (leader.c): given what this replica last saw of the
 * Lease and when it saw it change, on its own monotonic clock, what to do
 * now — create the Lease, take it over, renew it, stand by, or give up
 * leadership. The other side's renewTime is written for people and tools
 * but never compared with our clock: clocks of two machines disagree, a
 * monotonic clock on one machine does not. The elector (elector.c) runs
 * the decision in a thread of its own with its own API client, and keeps
 * the write fence (lib/fence.h) that every writer consults.
 */
#ifndef AGENT_LEADER_H
#define AGENT_LEADER_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "lib/err.h"
#include "lib/fence.h"

/* The Lease annotation by which a standby asks the leader for a pass
 * (its value: agent_sync_value, daemon.h). */
#define AGENT_SYNC_ANNOTATION "flinkops.io/sync-requested"

/* What a Lease says (spec and metadata.resourceVersion); strings owned. */
typedef struct agent_lease {
	char *holder;           /* holderIdentity; "" when released or never held */
	int64_t duration_s;     /* leaseDurationSeconds; 0 when absent */
	char *acquire_time;     /* RFC3339 micro time as stored, or NULL */
	char *renew_time;
	int64_t transitions;    /* leaseTransitions */
	char *resource_version; /* NULL for a Lease not yet stored */
	char *sync_requested;   /* metadata.annotations[AGENT_SYNC_ANNOTATION]: a standby's
				 * request for a pass (agent_sync_value), or NULL */
} agent_lease;

void agent_lease_clear(agent_lease *l);
void agent_lease_copy(agent_lease *dst, const agent_lease *src);
/* Whether two records are the same holder's same write (holder, duration,
 * times, transitions): a change is what restarts the expiry clock. The
 * resourceVersion and the annotation are left out, as client-go compares
 * only the leader record: a standby's request for a pass (which moves the
 * version) must not keep a dead leader's Lease alive. */
bool agent_lease_same(const agent_lease *a, const agent_lease *b);
/* Read a Lease object from the API server; FO_ESERVER when it is not one. */
int agent_lease_parse(const cJSON *obj, agent_lease *out, fo_err *e);
/* The Lease object for `rec` in ns/name (with metadata.resourceVersion when
 * rec has one, so that a replace is conditional). With `base` (the Lease
 * as read) it is a copy of base with the spec and the resourceVersion of
 * `rec`: annotations, labels and every other field are kept, as client-go's
 * LeaseLock updates the object it got. Caller deletes. */
cJSON *agent_lease_object(const char *ns, const char *name, const agent_lease *rec, const cJSON *base);
/* A copy of the Lease `base` as read (its resourceVersion kept, so that a
 * replace is conditional) with metadata.annotations[key] = value and
 * nothing else changed. Caller deletes. */
cJSON *agent_lease_annotate(const cJSON *base, const char *key, const char *value);
/* Unix time in microseconds as a Kubernetes MicroTime,
 * "2006-01-02T15:04:05.000000Z". Caller frees. */
char *agent_lease_time(int64_t unix_us);

enum agent_lease_action {
	AGENT_LEASE_CREATE,   /* no Lease: create it, holding it */
	AGENT_LEASE_TAKEOVER, /* another holder's Lease expired by our clock, or released: replace it */
	AGENT_LEASE_RENEW,    /* ours: replace it with a new renewTime */
	AGENT_LEASE_STANDBY,  /* another holder's, still fresh by our clock */
	AGENT_LEASE_LOST,     /* we led, and may no longer: stop acting */
};
const char *agent_lease_action_name(enum agent_lease_action a);

/* What the decision is made from. Times are monotonic ms unless named wall. */
typedef struct agent_lease_view {
	const char *me;                /* our identity */
	const agent_lease *observed;   /* the Lease as last read; NULL: there is none */
	int64_t observed_at;           /* when `observed` was last seen to change */
	int64_t now;
	int64_t lease_duration_ms;     /* ours: written, and used when the record has none */
	int64_t renew_deadline_ms;
	bool leading;                  /* we hold it, as far as we know */
	int64_t renewed_at;            /* when our last successful write was sent (leading) */
	const char *wall_now;          /* the MicroTime to write as acquire/renew time */
} agent_lease_view;

typedef struct agent_lease_decision {
	enum agent_lease_action action;
	agent_lease write;   /* for create, takeover, renew: the record to write (caller clears) */
	const char *why;     /* a static phrase for the log */
} agent_lease_decision;

/*
 * Decide (pure). In order: a leader whose last successful renewal was sent
 * renew_deadline_ms or more ago has lost (whatever the Lease says now); no
 * Lease: create; ours: renew (acquireTime and leaseTransitions kept); held
 * by another and leading: lost; held by another and observed to change
 * less than its leaseDurationSeconds (ours when absent) ago: stand by;
 * else (expired by our clock, or released: holder ""): take over, with
 * leaseTransitions + 1 and acquireTime now.
 */
void agent_lease_decide(const agent_lease_view *v, agent_lease_decision *d);

/*
 * The record that releases a Lease we hold on a clean shutdown (client-go's
 * ReleaseOnCancel): holderIdentity "", leaseDurationSeconds 1, times now,
 * transitions kept, conditional on the version we last saw; so the other
 * replica takes over at its next try. False (nothing to write) when
 * `observed` is not ours.
 */
bool agent_lease_release(const char *me, const agent_lease *observed, const char *wall_now, agent_lease *out);

/* ---- the elector (elector.c) ---- */

struct agent_state;
struct config;
typedef struct agent_elector agent_elector;

/*
 * Start electing in a thread of its own, with a client of its own for the
 * cluster `cfg` names (no fence: the Lease's own requests must work while
 * not leading; each call bounded well inside the renew deadline, no retries
 * — the elector retries every retryPeriod). `fence` is renewed on every
 * successful write and closed when leadership ends. On acquiring it sets
 * st->elected and wakes the loop; on losing it closes the fence, sets
 * st->stop and st->lease_lost and wakes the loop. Every transition is
 * logged and counted in st->m.
 */
int agent_elector_start(const struct config *cfg, struct agent_state *st, fo_fence *fence, agent_elector **out,
			fo_err *e);
/* Stop the thread; then, if we still hold the Lease and `release`, release
 * it (the fence is closed first). NULL is fine. */
void agent_elector_stop(agent_elector *el, bool release);
/*
 * A standby's push for the leader: the elector's thread writes `value`
 * (agent_sync_value) as the Lease's AGENT_SYNC_ANNOTATION (read, annotate,
 * replace conditionally on the version read; a race is tried again), and
 * the leader's elector, which reads the Lease every retryPeriod, asks its
 * loop for a pass. Waits for the write, a bounded time (within a
 * provider's own timeout): 0 once the Lease carries it, else < 0 (the API
 * refused or did not answer, or the elector stopped).
 */
int agent_elector_relay(agent_elector *el, const char *value);
/* The identity and the Lease, for messages ("ns/name"). */
const char *agent_elector_identity(const agent_elector *el);
const char *agent_elector_lease(const agent_elector *el);

#endif
