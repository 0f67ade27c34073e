/*
 * Status files: what the agent writes back to git for each FlinkDeployment,
 * as status/NS/NAME.yaml (see DESIGN "Status files"). CI reads them with
 * `flinkops wait`, people with `flinkops status` and `git log`. The model,
 * its deterministic YAML form and a strict, bounded parser. A status file
 * never holds a secret: only paths, ids, commit ids, times and messages.
 */
#ifndef FLINK_STATUS_H
#define FLINK_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/err.h"

#define FLINK_STATUS_API_VERSION "flinkops.io/v1alpha1"
#define FLINK_STATUS_KIND "FlinkDeploymentStatus"
/* Entries kept in `history`, newest first. */
#define FLINK_STATUS_HISTORY_MAX 10
/* Longest string field, in bytes, read or written (a longer one is cut on
 * a character boundary when set and when written). */
#define FLINK_STATUS_STRING_MAX 4096
/* Largest count a status holds (job.restarts): every whole number up to
 * it is exact as a double, so what is written reads back the same. */
#define FLINK_STATUS_COUNT_MAX 9007199254740992LL
/* Largest status file read, and so written. */
#define FLINK_STATUS_FILE_MAX (64 * 1024)

enum flink_phase {
	FLINK_PHASE_PENDING,
	FLINK_PHASE_DEPLOYING,
	FLINK_PHASE_UPGRADING,
	FLINK_PHASE_RUNNING,
	FLINK_PHASE_SUSPENDED,
	FLINK_PHASE_FAILED,
	FLINK_PHASE_DELETED,
	FLINK_PHASE_ROLLED_BACK, /* git's spec failed; the previous commit's runs again */
	/* a FlinkStateSnapshot's (upstream's snapshot states): taken or
	 * registered; not taken, since its job stopped or is gone from git */
	FLINK_PHASE_COMPLETED,
	FLINK_PHASE_ABANDONED,
};

enum flink_savepoint_reason {
	FLINK_SAVEPOINT_NONE, /* no savepoint recorded */
	FLINK_SAVEPOINT_UPGRADE,
	FLINK_SAVEPOINT_SUSPEND,
	FLINK_SAVEPOINT_DELETE,
	FLINK_SAVEPOINT_MANUAL,
	FLINK_SAVEPOINT_PERIODIC,
};

/* One entry of a status's history: a phase the deployment reached, and for
 * a job seen running, its lineage — which job ran that commit's spec, the
 * state it started from, and the savepoint taken when it stopped. */
typedef struct flink_status_history {
	char *commit;
	enum flink_phase phase;
	char *time;      /* RFC 3339, UTC */
	char *savepoint; /* NULL when the step took none */
	char *job_id;    /* Running: the job seen running with this commit's spec */
	struct {
		char *kind;  /* savepoint | checkpoint | initial (job.initialSavepointPath) | empty */
		char *path;  /* NULL for empty */
		char *time;  /* when that state was taken, when known */
	} started_from;
	struct {
		char *path;  /* the savepoint taken when this job stopped (upgrade, suspend, delete) */
		char *time;
	} stopped_with;
} flink_status_history;

/* Every string is owned and may be NULL (then it is left out of the file),
 * except name and namespace. */
typedef struct flink_status {
	char *name;
	char *namespace;
	struct {
		char *path;   /* the manifest, repository-relative */
		char *blob;   /* its blob id */
		char *commit; /* the newest commit seen for this file */
	} source;
	char *observed_commit; /* the newest commit fully rolled out */
	char *failed_commit;   /* RolledBack: the commit whose spec failed */
	enum flink_phase phase;
	char *message;
	struct {
		char *id;
		char *state; /* Flink's job state, e.g. RUNNING */
		char *start_time;
		/* how often Flink itself restarted this job (its numRestarts:
		 * a lost TaskManager, a failed task), as last observed; left
		 * out while 0, written as at most FLINK_STATUS_COUNT_MAX */
		long long restarts;
	} job;
	struct {
		char *path;
		char *time;
		enum flink_savepoint_reason reason;
	} last_savepoint;
	/* savepoints: the savepoints flinkops took and keeps, and those whose
	 * disposal is pending (asked of Flink, or to be asked again); the
	 * field is left out while both are 0 */
	struct {
		int retained;
		int disposing;
	} savepoints;
	/* a FlinkStateSnapshot's: what it is (savepoint or checkpoint), of
	 * which job (KIND/NAME), where it is and since when, and how often
	 * taking it failed; left out for a FlinkDeployment */
	struct {
		char *type, *of, *path, *time, *trigger_id;
		long long failures;
	} snapshot;
	/* a FlinkBlueGreenDeployment's: its state (upstream's), the colour
	 * that runs git's spec or the last one that did, the job each colour
	 * runs, the savepoint the newest colour started from, and when the
	 * last switch was; left out for the other kinds */
	struct {
		char *state, *active, *blue_job, *green_job, *started_from, *switched_at;
	} bluegreen;
	flink_status_history *history; /* newest first, at most FLINK_STATUS_HISTORY_MAX */
	size_t nhistory;
	char *update_time;
} flink_status;

/* A new status with name and namespace set, phase Pending. */
flink_status *flink_status_new(const char *namespace, const char *name);
void flink_status_free(flink_status *s);

/*
 * Append the YAML form of `s` to `out`. Deterministic: fields always in the
 * same order, absent ones left out, so equal statuses give equal bytes and a
 * commit is only made when something really changed. What it writes always
 * reads back with flink_status_parse, and written again gives the same
 * bytes: strings are clean text (fo_text_clean) of at most
 * FLINK_STATUS_STRING_MAX bytes, and a file that would pass
 * FLINK_STATUS_FILE_MAX keeps fewer history entries (the oldest go), or
 * failing that shorter strings.
 */
void flink_status_write(const flink_status *s, fo_buf *out);

/*
 * Parse a status file named `name` (for messages). Strict: unknown fields,
 * wrong types, unknown phases and reasons, oversized strings, more than
 * FLINK_STATUS_HISTORY_MAX history entries are errors "name:line:col: ...".
 * Returns 0 and *out, or a negative code with `e` set.
 */
int flink_status_parse(const char *name, const char *data, size_t len, flink_status **out, fo_err *e);

/* Whether two statuses say the same thing, updateTime aside: the agent sets
 * updateTime only when this is false, so an idle pass makes no commit. */
bool flink_status_same(const flink_status *a, const flink_status *b);

/* Put an entry at the front of the history, dropping the oldest past the bound. */
void flink_status_add_history(flink_status *s, const char *commit, enum flink_phase phase, const char *time,
			      const char *savepoint);
/* Seconds from RFC 3339 time `from` to `to` ("...T12:00:00Z", fractions
 * ignored); -1 when either is missing or not such a time. */
long flink_status_seconds_between(const char *from, const char *to);
/* Whether `kind` is a startedFrom.kind (savepoint, checkpoint, initial, empty). */
bool flink_status_state_kind_valid(const char *kind);
/* Replace a string field: free the old value, copy the new one (NULL
 * clears) as clean text (fo_text_clean: bytes that are not UTF-8 and
 * control characters become U+FFFD) of at most FLINK_STATUS_STRING_MAX
 * bytes, so that what is set is what reads back. */
void flink_status_set(char **field, const char *value);

/* "status/NS/NAME.yaml" under `folder` (default "status"); caller frees. */
char *flink_status_path(const char *folder, const char *namespace, const char *name);
/* `t` as RFC 3339 UTC ("2026-11-23T19:00:00Z") into a new string. */
char *flink_status_time(time_t t);

/*
 * The message of a status commit for `n` statuses changed in one pass:
 * "status: wordcount Running at 1a2b3c4" for one, "status: a Running, b
 * Failed at 1a2b3c4" for several (the commit is each one's source.commit,
 * shown once when they agree). Past 5 names: "..., and 7 more". Caller frees.
 */
char *flink_status_commit_message(const flink_status *const *v, size_t n);

const char *flink_phase_name(enum flink_phase p);
/* -1 when `s` is not a phase name. */
int flink_phase_parse(const char *s);
const char *flink_savepoint_reason_name(enum flink_savepoint_reason r);
int flink_savepoint_reason_parse(const char *s);

#endif
