/*
 * Savepoint retention: which of the savepoints flinkops took (the journal's
 * `taken` list) are disposed of, beyond upstream's
 * kubernetes.operator.savepoint.history.max.count and max.age. Pure: the
 * executor (rollout.c, at its end) journals the choice, then asks Flink to
 * dispose of each (POST /savepoint-disposal) and retries a failure in a
 * later pass; a disposal never fails or holds up a rollout.
 *
 * One invariant holds every disposal: nothing referenced anywhere is
 * disposed of, and on any doubt nothing is. The agent gathers, once a pass,
 * everything the pass knows into a deploy_retention_ctx (every journal of
 * its inventory, every status file, every manifest's
 * job.initialSavepointPath, valid or not, and what it could not read); the
 * executor asks deploy_retention_may_dispose about each savepoint before it
 * moves it to the disposal list and again before it asks Flink.
 *
 * Referenced, so never disposed of:
 *   - the newest savepoint flinkops took for the deployment;
 *   - any path of any deployment's journal: the newest recorded savepoint
 *     (savepointPath), the state the next job starts from (restorePath),
 *     the state the running job started from (startedFrom; while it awaits
 *     its first checkpoint it is also what a rollback starts from), and
 *     another deployment's `taken` list;
 *   - any status file's lastSavepoint and its history's startedFrom and
 *     stoppedWith (the lineage a revert starts from);
 *   - any manifest's job.initialSavepointPath, also of a document that
 *     does not validate, and of the spec a rollback runs instead of git's.
 * Two paths are compared as deploy_retention_may_be_same does: when they
 * might name one savepoint, or one lies inside the other, the savepoint
 * stays.
 * Table-tested in tests/unit/test_retention.c.
 */
#ifndef DEPLOY_RETENTION_H
#define DEPLOY_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deploy/journal.h"
#include "lib/util.h"

struct flink_status;

/*
 * Mark in dispose[i] each entry of `taken` (oldest first, as the journal
 * keeps them: the list's order is the order the savepoints completed, and
 * decides between equal times) to dispose of: an entry is kept when it is
 * the newest, one of the newest `max_count`, or referenced (a path of
 * `refs`, compared as deploy_retention_may_be_same does); any other is
 * disposed of, and so is an unreferenced entry other than the newest whose
 * time is more than `max_age_ms` before `now_ms`. An entry whose time does
 * not parse is judged by count alone. Returns how many are marked. The
 * rollout goes through deploy_retention_choose, which adds the invariant.
 */
size_t deploy_retention_select(const deploy_savepoint_rec *taken, size_t ntaken, const char *const *refs, size_t nrefs,
			       int max_count, int64_t max_age_ms, int64_t now_ms, bool *dispose);

/*
 * Whether two savepoint paths may name the same savepoint, or one may lie
 * inside the other: a conservative relation, not a canonical form. Each
 * path is read without its scheme (s3://, s3a://, s3p://, file:, hdfs://
 * ... are one), as its segments (duplicate and trailing slashes, "."
 * segments and a final "_metadata" dropped, %XX decoded); then a list of
 * segments that occurs in
 * the other's as a contiguous run relates them. That covers the same
 * savepoint written with /_metadata, with or without a scheme or an
 * authority (file:///x, file:/x, /x, file://localhost/x), and a directory
 * and what it holds. ".." is read both literally and resolved. A path
 * without segments ("/", "s3://") contains every path.
 */
bool deploy_retention_may_be_same(const char *a, const char *b);

/*
 * Whether a disposal that failed `attempts` times, the last at `last_ms`
 * (ms since the epoch; -1 unknown), is to be asked again at `now_ms`: at
 * once when never tried, then after 1, 2, 4 ... minutes, at most an hour
 * apart.
 */
bool deploy_retention_retry_due(int attempts, int64_t last_ms, int64_t now_ms);

/*
 * The paths a journal keeps from disposal (see above) other than its
 * `taken` list: appended to *v (*n entries; caller frees with
 * fo_strv_free).
 */
void deploy_retention_journal_refs(const deploy_journal *j, char ***v, size_t *n);
/* The paths a status file's history keeps from disposal, appended the same way. */
void deploy_retention_status_refs(const struct flink_status *s, char ***v, size_t *n);

/* ---- what a pass knows: the retention context --------------------------- */

/* A path something names, and what names it. */
typedef struct deploy_retention_ref {
	char *path;
	char *ns, *name;   /* the deployment whose record names it; NULL when unknown */
	char *source;      /* what names it, for messages: "the journal's restorePath", a file */
	bool own_taken;    /* an entry of ns/name's own `taken` list: a reference for every
	                    * deployment but that one, whose retention decides about it */
	struct deploy_retention_split *split; /* the path as deploy_retention_may_be_same reads
	                    * it, read once (private to retention.c) */
} deploy_retention_ref;

/* Why a pass may not dispose of anything: each is a doubt about what is
 * referenced. */
enum {
	DEPLOY_RETENTION_DOUBT_MANIFESTS = 1 << 0,  /* a manifest unreadable, invalid, skipped, oversized
	                                             * or out of scope: what it names is unknown */
	DEPLOY_RETENTION_DOUBT_JOURNALS = 1 << 1,   /* a journal that does not decode, or a journal
	                                             * ConfigMap without one */
	DEPLOY_RETENTION_DOUBT_STATUS = 1 << 2,     /* the status files were not all read */
	DEPLOY_RETENTION_DOUBT_REPOSITORY = 1 << 3, /* the manifests are not the repository's (a
	                                             * folder), or were not all read */
};

typedef struct deploy_retention_ctx {
	deploy_retention_ref *refs;
	size_t nrefs;
	unsigned doubts;   /* DEPLOY_RETENTION_DOUBT_*; any one holds every disposal */
	char *doubt;       /* what the doubts are, for a message; NULL without one */
	struct deploy_retention_index *index; /* deploy_retention_ctx_index; NULL: none */
} deploy_retention_ctx;

/* Add a reference (an empty or NULL path is none). `ns`, `name` may be NULL. */
void deploy_retention_ctx_add(deploy_retention_ctx *c, const char *path, const char *ns, const char *name,
			      const char *source, bool own_taken);
/* Record a doubt (`flag`, one of DEPLOY_RETENTION_DOUBT_*) and what it is. */
void deploy_retention_ctx_doubt(deploy_retention_ctx *c, unsigned flag, const char *fmt, ...) FO_PRINTF(3, 4);
/* Every path the journal text of deployment ns/name names (its `taken`
 * list as own_taken); a text that is NULL or does not decode is a doubt. */
void deploy_retention_ctx_add_journal(deploy_retention_ctx *c, const char *ns, const char *name, const char *text);
/* Every path the status file `file` (its text) names; a file that does not
 * parse is a doubt. */
void deploy_retention_ctx_add_status(deploy_retention_ctx *c, const char *file, const char *data, size_t len);
void deploy_retention_ctx_free(deploy_retention_ctx *c);
/* Index the references once all are added (an added one drops the index),
 * so that deploy_retention_may_dispose compares a savepoint only with the
 * references it may be related to, not with every one: a pass knows
 * thousands. The answers are the same with or without it. */
void deploy_retention_ctx_index(deploy_retention_ctx *c);

/*
 * The invariant, asked about every savepoint right before deployment
 * ns/name moves it to its disposal list and again right before Flink is
 * asked to dispose of it: true when `path` may go. False, with *why (the
 * caller frees it; may be NULL), when the pass has a doubt (or no context
 * at all), when `own` (the deployment's journal as it is now; may be NULL)
 * references it, or when any reference of the context may be the same
 * path — but an own_taken entry of ns/name itself.
 */
bool deploy_retention_may_dispose(const deploy_retention_ctx *c, const char *ns, const char *name,
				  const deploy_journal *own, const char *path, char **why);

/*
 * The choice of a pass: mark in dispose[i] (j->ntaken entries) each entry
 * of j->taken that deploy_retention_select lets go and
 * deploy_retention_may_dispose allows; returns how many are marked. *held
 * (when not NULL; caller frees) gets why the first one selected was kept,
 * or NULL when none was.
 */
size_t deploy_retention_choose(const deploy_retention_ctx *c, const char *ns, const char *name,
			       const deploy_journal *j, int max_count, int64_t max_age_ms, int64_t now_ms,
			       bool *dispose, char **held);

/*
 * A disposal (entry i of j->disposals, not in flight) whose savepoint has
 * become referenced since it was chosen: back at the front of `taken` (the
 * oldest, its time unknown, so judged by count alone), and off the
 * disposal list. A full `taken` list drops it instead (no longer tracked,
 * so never disposed of), as does a list that has it already. Returns false when entry i is not there or is in
 * flight.
 */
bool deploy_retention_keep(deploy_journal *j, size_t i);

#endif
