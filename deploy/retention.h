/*
 * Savepoint retention: which of the savepoints flinkops took (the journal's
 * `taken` list) are disposed of, beyond upstream's
 * kubernetes.operator.savepoint.history.max.count and max.age. Pure: the
 * executor (rollout.c, at its end) journals the choice, then asks Flink to
 * dispose of each (POST /savepoint-disposal) and retries a failure in a
 * later pass; a disposal never fails or holds up a rollout.
 *
 * Never disposed of:
 *   - the newest savepoint flinkops took;
 *   - a savepoint the journal references: the newest recorded one
 *     (savepointPath), the state the next job starts from (restorePath),
 *     the state the running job started from (startedFrom; while it awaits
 *     its first checkpoint it is also what a rollback starts from), and
 *     job.initialSavepointPath;
 *   - a savepoint the deployment's status history references: each entry's
 *     startedFrom and stoppedWith (the lineage a revert starts from), and
 *     lastSavepoint.
 * Table-tested in tests/unit/test_retention.c.
 */
#ifndef DEPLOY_RETENTION_H
#define DEPLOY_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deploy/journal.h"

struct flink_status;

/*
 * Mark in dispose[i] each entry of `taken` (oldest first, as the journal
 * keeps them: the list's order is the order the savepoints completed, and
 * decides between equal times) to dispose of: an entry is kept when it is
 * the newest, one of the newest `max_count`, or referenced (a path of
 * `refs`, compared as deploy_retention_same_path does); any other is
 * disposed of, and so is an unreferenced entry other than the newest whose
 * time is more than `max_age_ms` before `now_ms`. An entry whose time does
 * not parse is judged by count alone. Returns how many are marked.
 */
size_t deploy_retention_select(const deploy_savepoint_rec *taken, size_t ntaken, const char *const *refs, size_t nrefs,
			       int max_count, int64_t max_age_ms, int64_t now_ms, bool *dispose);

/* Whether two savepoint paths name the same place: equal but for trailing
 * slashes and "file:///" written as "file:/". */
bool deploy_retention_same_path(const char *a, const char *b);

/*
 * Whether a disposal that failed `attempts` times, the last at `last_ms`
 * (ms since the epoch; -1 unknown), is to be asked again at `now_ms`: at
 * once when never tried, then after 1, 2, 4 ... minutes, at most an hour
 * apart.
 */
bool deploy_retention_retry_due(int attempts, int64_t last_ms, int64_t now_ms);

/*
 * The paths the journal keeps from disposal (see above): appended to *v
 * (*n entries; caller frees with fo_strv_free). `initial_savepoint` is the
 * spec's job.initialSavepointPath (may be NULL).
 */
void deploy_retention_journal_refs(const deploy_journal *j, const char *initial_savepoint, char ***v, size_t *n);
/* The paths a status file's history keeps from disposal, appended the same way. */
void deploy_retention_status_refs(const struct flink_status *s, char ***v, size_t *n);

#endif
