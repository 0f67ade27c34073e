/*
 * The rollout journal: one small record per deployment, written before each
 * step of a rollout acts and after it succeeds, so that an agent killed at
 * any point resumes where it stopped — a savepoint already taken is used,
 * not taken again; a job already submitted is found, not submitted twice.
 * It lives in the cluster next to the deployment (a ConfigMap
 * flink-journal-NAME) and is mirrored into the status file.
 *
 * This header is the record and its pure logic (encoding, and the decision
 * of what to do next); the executor does the I/O.
 */
#ifndef DEPLOY_JOURNAL_H
#define DEPLOY_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "lib/err.h"

#define DEPLOY_JOURNAL_PREFIX "flink-journal-"
#define DEPLOY_JOURNAL_KEY "journal.json"
#define DEPLOY_JOURNAL_LABEL_VALUE "flinkops-journal"

/* Steps of a rollout, in the order they happen. Each is recorded before the
 * action it names is sent, so a crash leaves a record of what may have
 * happened, never of less. */
enum deploy_step {
	DEPLOY_STEP_IDLE,            /* nothing in flight; the job (if any) runs the recorded target */
	DEPLOY_STEP_STOPPING,        /* stop-with-savepoint under the recorded trigger id (maybe sent) */
	DEPLOY_STEP_CANCELLING,      /* cancel of the old job (maybe sent); restorePath already chosen */
	DEPLOY_STEP_SAVEPOINT_TAKEN, /* the state to start from is fixed in restorePath (empty: fresh) */
	DEPLOY_STEP_APPLIED,         /* the new objects are applied */
	DEPLOY_STEP_UPLOADED,        /* the jar is uploaded: its id is recorded */
	DEPLOY_STEP_SUBMITTED,       /* the job was (maybe) submitted under submitJobId */
	DEPLOY_STEP_FAILED,          /* gave up; the error is recorded */
};
#define DEPLOY_NSTEPS (DEPLOY_STEP_FAILED + 1)

/* The journal format this flinkops writes; it reads this one and older ones,
 * and refuses newer ones (they may hold state it does not understand). It
 * refuses a key it does not know in any format too (rewriting the journal
 * would drop it): a key added to the record must be added to the decoder's
 * list, and one an older flinkops must not ignore needs a new format. */
#define DEPLOY_JOURNAL_VERSION 3
/* Format 3 added appliedJobId and appliedFrom (application clusters); a
 * journal without them is still written as format 2, which flinkops of
 * format 2 read. */
#define DEPLOY_JOURNAL_VERSION_SESSION 2

/* A savepoint flinkops took (journal "taken"). */
typedef struct deploy_savepoint_rec {
	char *path;
	char *time;    /* RFC 3339 (with or without milliseconds): when it completed */
	char *reason;  /* upgrade | suspend | delete | manual | periodic */
} deploy_savepoint_rec;

/* A disposal asked of Flink, or to be asked again (journal "disposals"). */
typedef struct deploy_disposal {
	char *path;
	char *trigger_id;  /* POST /savepoint-disposal's request id while in flight; NULL: (re)send */
	char *time;        /* RFC 3339: the last request (retries back off from it) */
	char *last_error;  /* the last attempt's failure */
	int attempts;      /* requests sent so far */
} deploy_disposal;

/* Bounds of the retention lists, so that a journal stays a small ConfigMap:
 * a savepoint taken while `taken` is full pushes out the oldest entry, which
 * flinkops then no longer disposes of (a warning names it); no new disposal
 * starts while `disposals` is full. A journal holding more does not decode. */
#define DEPLOY_JOURNAL_TAKEN_MAX 64
#define DEPLOY_JOURNAL_DISPOSALS_MAX 32
/* Bounds of the rest, so that a journal always decodes to what was meant:
 * a counter (restarts, attempt, a disposal's attempts) is a whole number
 * from 0 to DEPLOY_JOURNAL_COUNTER_MAX, far from int's end; a string is at
 * most DEPLOY_JOURNAL_STRING_MAX bytes. A journal outside them does not
 * decode, and one that would be outside them is not written. Messages
 * (lastError, savepointError, rollbackCause, a disposal's lastError) are
 * the exception: longer ones are cut, on writing and on reading, since no
 * decision depends on them. */
#define DEPLOY_JOURNAL_COUNTER_MAX 1000000
#define DEPLOY_JOURNAL_STRING_MAX 4096

typedef struct deploy_journal {
	enum deploy_step step;
	/* the agent (agent.name) that wrote it, as its flinkops.io/agent label
	 * says too; NULL in a journal an older flinkops wrote */
	char *agent;
	char *target_commit;   /* the source commit being rolled out */
	char *target_job_hash; /* flinkops.io/job-hash of the job that runs (or last ran) */
	/* The whole rendered target of the job that runs (or last ran): its job
	 * hash and both pod templates (render_target_hash). A change of any of
	 * them is a new target, which gets a new attempt; an older journal has
	 * none, and its job hashes stand in. */
	char *target_hash;
	/* APPLIED, UPLOADED, SUBMITTED: the target whose objects were applied
	 * for the job being started. A start in flight belongs to it: git
	 * asking for another target (or for none) never completes it, and
	 * nothing of it is charged to the new one. */
	char *start_hash;
	char *job_id;          /* the job believed to run (or last ran) */
	char *trigger_id;      /* STOPPING: the savepoint trigger id flinkops chose */
	char *trigger_time;    /* RFC 3339 with milliseconds: when the stop was recorded */
	char *upgrade_started; /* RFC 3339 with milliseconds: the first step of the upgrade in flight
	                        * (its stop or cancel); cleared when the new job runs (its duration) */
	char *restore_path;    /* SAVEPOINT_TAKEN and later: what the next job starts from (NULL: fresh) */
	char *restore_kind;    /* savepoint | checkpoint | initial | none */
	char *restore_time;    /* RFC 3339: when that state was taken, when known */
	/* What the job that runs (or last ran) started from: restorePath,
	 * restoreKind and restoreTime as they were when it was recorded
	 * running; the status history's lineage. Informational: an older
	 * flinkops ignores them. */
	char *started_from, *started_from_kind, *started_from_time;
	/* RFC 3339 with milliseconds: the job was recorded running then and has
	 * not yet been seen completing a checkpoint; until it has (or Flink
	 * says it does not checkpoint), the rollout is not done. */
	char *await_checkpoint_since;
	/* A savepoint asked of the running job, which keeps running (a new
	 * job.savepointTriggerNonce, or the periodic interval): its trigger id,
	 * chosen and journaled before the request as a stop's is, when, why
	 * (manual | periodic) and the nonce it answers. handledNonce is the
	 * newest nonce answered; savepointError the last request's failure. */
	char *request_trigger_id, *request_time, *request_reason, *request_nonce;
	char *handled_nonce, *savepoint_error;
	/* A checkpoint asked of the running job (a new job.checkpointTriggerNonce,
	 * or kubernetes.operator.periodic.checkpoint.interval), as a savepoint
	 * request is: its trigger id journaled before the request, when, why
	 * (manual | periodic), the nonce it answers; handledCheckpointNonce the
	 * newest nonce answered; the last one completed (its path, or
	 * "checkpoint N" when Flink kept it nowhere addressable), when, and the
	 * last request's failure. */
	char *checkpoint_trigger_id, *checkpoint_request_time, *checkpoint_reason, *checkpoint_nonce;
	char *handled_checkpoint_nonce, *checkpoint_path, *checkpoint_time, *checkpoint_error;
	/* What git last asked of the job, for when git asks nothing (its file
	 * is gone): its upgrade mode, and the savepoint directory it named
	 * (job.savepointStorage or the configuration's; NULL: none). A delete
	 * of a stateless job that names none cancels it: there is nowhere to
	 * put a final savepoint, and its mode keeps no state. */
	char *upgrade_mode, *savepoint_dir;
	/* A FlinkSessionJob's: the session cluster (FlinkDeployment) it runs
	 * on, whose REST API a delete stops it through once git no longer
	 * says; NULL for a FlinkDeployment's own job. */
	char *session_cluster;
	/* the newest job.savepointRedeployNonce a job was started for: a new
	 * one starts the job again from job.initialSavepointPath */
	char *handled_redeploy_nonce;
	char *running_since;   /* RFC 3339 with milliseconds: the job was recorded running */
	char *savepoint_path;  /* newest savepoint taken by flinkops */
	char *savepoint_time;  /* RFC 3339 */
	char *savepoint_reason;/* upgrade | suspend | delete | manual | periodic */
	char *jar_id;          /* uploaded jar on the Flink cluster */
	char *submit_job_id;   /* the id the next (or last) submission uses */
	/* An application cluster (the JobManager runs the job itself): the job
	 * id and the state to start from that its JobManager was last applied
	 * with (render_start). Journaled before the objects that carry them are
	 * applied, so a pass renders exactly what the live JobManager has. */
	char *applied_job_id, *applied_from;
	char *failed_job_hash; /* FAILED: the job hash that failed (an older journal's key) */
	char *failed_hash;     /* FAILED: the target that failed (a new target tries again) */
	/* An upgrade away from a healthy job: the commit and job hash that job
	 * ran, kept until the new job is healthy (its first checkpoint), so
	 * that a new job that never becomes healthy can be rolled back to them. */
	char *previous_commit, *previous_job_hash, *previous_target;
	/* A rollback: the job hash and commit that failed, the commit whose
	 * spec runs again, and why. Kept while git still asks for the failed
	 * spec (the pass then renders rollbackToCommit's spec instead); a new
	 * target clears them. */
	char *rollback_of_hash, *rollback_of_commit, *rollback_to_commit, *rollback_cause;
	char *rollback_of_target; /* the whole target that failed (rollback_of_hash: its job hash) */
	int restarts;          /* restarts after failures since the last healthy run: the budget */
	int target_restarts;   /* restarts of the target that runs since it started (the status says
	                        * how often this version was restarted); a new target resets it */
	int attempt;           /* submissions so far, never reset: each gets its own job id */
	bool state_unknown;    /* FAILED: the newest state could not be established; a human decides */
	char *last_error;
	char *updated;         /* RFC 3339 */
	/* not encoded: the ConfigMap's resourceVersion as read, sent back with
	 * the next write so that a second writer gets a conflict */
	char *resource_version;
	/* Not encoded either: the journal ConfigMap's metadata.uid, one per life
	 * of the deployment. A submission's job id is derived from it, so that a
	 * deployment deleted and created again under its name never meets its
	 * earlier life's job: a session cluster keeps finished jobs for a while,
	 * and a high-availability store left behind keeps their checkpoints. */
	char *uid;
	/* Savepoint retention (deploy/retention.h). The savepoints flinkops
	 * took and keeps, oldest first (at most DEPLOY_JOURNAL_TAKEN_MAX), and
	 * the disposals in flight or failed (at most DEPLOY_JOURNAL_DISPOSALS_MAX):
	 * a savepoint moves from the first list to the second, journaled, before
	 * its disposal is asked of Flink, and leaves it once Flink disposed of
	 * it. Informational to an older flinkops, which ignores them. */
	deploy_savepoint_rec *taken;
	size_t ntaken;
	deploy_disposal *disposals;
	size_t ndisposals;
} deploy_journal;

const char *deploy_step_name(enum deploy_step s);

/* ---- strict JSON records (the journal, a snapshot's record) ---- */

/* What a JSON value is, for messages ("a string", "null", ...). */
const char *deploy_json_kind(const cJSON *v);
/* Each key of object `o` (`where` prefixes messages) must be one of
 * `known` and appear once; otherwise an error naming `format` ("journal
 * format 3"), which a newer flinkops may have written. */
int deploy_json_check_keys(const cJSON *o, const char *where, const char *const *known, size_t nknown,
			   const char *format, fo_err *e);
/* String `key` of `o` into *out (absent: NULL): at most
 * DEPLOY_JOURNAL_STRING_MAX bytes, or with `message` cut to that. */
int deploy_json_get_string(const cJSON *o, const char *where, const char *key, bool message, char **out, fo_err *e);
/* The "version" of record `o` (`what` names it in messages: "the journal")
 * into *version: an error unless it is a whole number from 1, FO_EUNSUPPORTED
 * when it is newer than `newest` (a newer flinkops wrote it). */
int deploy_json_version(const cJSON *o, const char *what, int newest, int *version, fo_err *e);
/* Whole number `key` of `o` from 0 to DEPLOY_JOURNAL_COUNTER_MAX into *out (absent: 0). */
int deploy_json_get_counter(const cJSON *o, const char *where, const char *key, int *out, fo_err *e);
/* Encode as JSON (the ConfigMap's data); caller frees. */
char *deploy_journal_encode(const deploy_journal *j);
/*
 * Decode, strictly: an unknown or malformed record, one of a newer format,
 * a key this flinkops does not know (a newer flinkops adds keys with a new
 * format), a key twice, a known key of the wrong type (null included:
 * absent means unset, null is an error), a counter that is not a whole
 * number within its bound, a string over its bound, or text after the
 * object is an error ("KEY: why"), never a default.
 */
int deploy_journal_decode(const char *text, deploy_journal *out, fo_err *e);
/*
 * Add one to a journal counter, at most to DEPLOY_JOURNAL_COUNTER_MAX + 1:
 * never past int's end; a journal holding that does not decode, so it is
 * not written (deploy_journal_save), and the step that counted fails.
 */
void deploy_journal_count(int *counter);

/* ---- ownership: whose journal is it ---- */

/* How a deployment's journal ConfigMap was found so far. */
enum deploy_journal_seen {
	DEPLOY_JOURNAL_UNREAD, /* not in this agent's listing (flinkops.io/agent=AGENT), not yet read by name */
	DEPLOY_JOURNAL_LISTED, /* in that listing */
	DEPLOY_JOURNAL_READ,   /* read by name (GET) */
	DEPLOY_JOURNAL_NONE,   /* read by name: there is none */
};

enum deploy_journal_verdict {
	DEPLOY_JOURNAL_GET,     /* read it by name, then ask again */
	DEPLOY_JOURNAL_CREATE,  /* there is none: the first write creates it (a create that fails if one appeared) */
	DEPLOY_JOURNAL_USE,     /* this agent's: used, written back under the resourceVersion read */
	DEPLOY_JOURNAL_FOREIGN, /* another agent's, or nobody's: the deployment is Failed, its job left alone */
	DEPLOY_JOURNAL_BAD,     /* it does not decode: the same */
};

typedef struct deploy_journal_cm {
	enum deploy_journal_seen seen;
	const char *text;  /* its data."journal.json" (NULL: none) */
	const char *label; /* its flinkops.io/agent label (NULL: none) */
} deploy_journal_cm;

/*
 * Whether agent `agent` may use the journal of deployment ns/name, as found
 * (pure). The owner is the flinkops.io/agent label; a journal without it is
 * owned by the agent its "agent" field names; one with neither is nobody's.
 * A label that differs from the field means the journal was handed over by
 * relabelling it: the label wins, and the next write records the new owner.
 * A journal of an older flinkops (no field) is its label's. *j gets the
 * journal for USE (empty for CREATE, cleared otherwise); *why (caller
 * frees) the message for FOREIGN and BAD, saying what to do.
 */
enum deploy_journal_verdict deploy_journal_judge(const char *agent, const char *ns, const char *name,
						 const deploy_journal_cm *cm, deploy_journal *j, char **why);
/*
 * Whether `obj`, found by name where this agent's listing had none of a
 * deployment's objects, is this agent's (pure): only when labelled
 * flinkops.io/agent=AGENT. Otherwise *why (caller frees) says whose it is
 * and how to hand the deployment over.
 */
bool deploy_object_ours(const char *agent, const cJSON *obj, char **why);
void deploy_journal_clear(deploy_journal *j);
/* Copy string fields too. */
void deploy_journal_copy(deploy_journal *dst, const deploy_journal *src);
/* Set a string field (NULL clears it). */
void deploy_journal_set(char **field, const char *value);
/*
 * Record a savepoint flinkops took at the end of `taken` (a path already
 * there is not added twice). When the list is full the oldest entry is
 * dropped and returned in *dropped (caller frees; NULL when none), for the
 * caller to report: flinkops no longer disposes of it.
 */
void deploy_journal_add_taken(deploy_journal *j, const char *path, const char *time, const char *reason,
			      char **dropped);
/* Remove entry `i` of `taken` or of `disposals`. */
void deploy_journal_remove_taken(deploy_journal *j, size_t i);
void deploy_journal_remove_disposal(deploy_journal *j, size_t i);

/*
 * The job id of a submission: derived from the deployment, the target, the
 * attempt and the journal's uid (the deployment's life; NULL: an older
 * derivation without it), so that a resubmit after a crash asks Flink for
 * the same id and finds the job instead of starting a second one, and a
 * deployment created again under the same name gets ids of its own. 32 hex
 * digits.
 */
char *deploy_submit_job_id(const char *ns, const char *name, const char *job_hash, int attempt, const char *uid);

struct k8s_client;
/*
 * Read, write and delete the journal ConfigMap of a deployment (rollout.c).
 * deploy_journal_load reads it by name and judges it (deploy_journal_judge):
 * *verdict gets CREATE, USE, FOREIGN or BAD, *why the message of the last
 * two; an error is one of reading. deploy_journal_save records `agent` as
 * the owner and writes a journal that was read (j->resource_version) under
 * the version read, and creates one that was not (a create, which fails
 * with FO_ECONFLICT when one exists): a journal is never written unread.
 */
int deploy_journal_load(struct k8s_client *c, const char *agent, const char *ns, const char *name,
			deploy_journal *j, enum deploy_journal_verdict *verdict, char **why, fo_err *e);
int deploy_journal_save(struct k8s_client *c, const char *ns, const char *name, const char *agent,
			deploy_journal *j, fo_err *e);
/*
 * Write a record ConfigMap `cm` of namespace `ns` holding `text` under
 * data.`key`, labelled managed-by `managed_by`, instance `instance` and
 * agent `agent`: applied under *resource_version when one was read, else
 * created (a create fails with FO_ECONFLICT when one exists, which was then
 * never read). *resource_version gets the new version, and *uid (when
 * `uid` is not NULL) the ConfigMap's uid. The journal and a
 * FlinkStateSnapshot's record are written so.
 */
int deploy_record_write(struct k8s_client *c, const char *ns, const char *cm, const char *instance,
			const char *managed_by, const char *agent, const char *key, const char *text,
			char **resource_version, char **uid, fo_err *e);
int deploy_journal_delete(struct k8s_client *c, const char *ns, const char *name, fo_err *e);
/* The REST URL of a deployment from a template with {name} and {namespace}. Caller frees. */
char *deploy_rest_url(const char *tmpl, const char *ns, const char *name);
/* A journal time (RFC 3339 in UTC, "...:SSZ" or "...:SS.fffZ") in ms since
 * the epoch; -1 when it is NULL or does not parse. */
int64_t deploy_time_ms(const char *rfc3339);
/* Now as RFC 3339 in UTC ("...T12:00:00Z"), with `ms` to the millisecond
 * ("...T12:00:00.250Z"), for the times durations are measured from: a
 * savepoint or an upgrade on a small job takes well under a second. */
void deploy_time_now(char out[40], bool ms);
/* The time of day in ms since the epoch (the agent's clock). */
int64_t deploy_wall_ms(void);
/* `ms` since the epoch as RFC 3339 in UTC to the millisecond, the form
 * deploy_time_ms reads back. */
void deploy_time_text(int64_t ms, char out[40]);

#endif
