/*
 * Unit tests for the rollout journal's decoding and ownership
 * (deploy/journal.h): a table of journals — every known key with every
 * wrong type, null, huge, negative and fractional numbers, oversized
 * strings, unknown and duplicated keys, text after the object, missing
 * keys, older and newer formats — to the exact outcome of
 * deploy_journal_decode; a table of journal ConfigMaps as found (listed,
 * read by name, none; labelled for this agent, another or none; with and
 * without the "agent" field) to the verdict of deploy_journal_judge; the
 * objects another agent owns (deploy_object_ours); the counters' bound;
 * and encode -> decode -> encode byte identity of valid journals.
 * No servers.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "deploy/deploy.h"
#include "deploy/journal.h"
#include "lib/buf.h"
#include "tests/unit/want.h"

/* Every string key of the journal, as journal.c's table lists them. */
static const char *const string_keys[] = {
	"agent",           "targetCommit",     "targetJobHash",    "targetHash",     "startHash",
	"jobId",           "triggerId",        "failedHash",       "previousTarget", "rollbackOfTarget",
	"triggerTime",     "upgradeStarted",   "restorePath",      "restoreKind",    "restoreTime",
	"startedFrom",     "startedFromKind",  "startedFromTime",  "awaitCheckpointSince",
	"requestTriggerId", "requestTime",     "requestReason",    "requestNonce",   "handledNonce",
	"savepointError",  "handledRedeployNonce", "runningSince", "savepointPath",  "savepointTime",
	"savepointReason", "jarId",            "submitJobId",      "failedJobHash",  "previousCommit",
	"previousJobHash", "rollbackOfHash",   "rollbackOfCommit", "rollbackToCommit", "rollbackCause",
	"lastError",       "updated",          "checkpointTriggerId", "checkpointRequestTime", "checkpointReason",
	"checkpointNonce", "handledCheckpointNonce", "checkpointPath", "checkpointTime", "checkpointError",
	"upgradeMode",     "savepointDir",
};

/* The messages among them: cut, not refused, when long. */
static bool message_key(const char *k)
{
	return strcmp(k, "lastError") == 0 || strcmp(k, "savepointError") == 0 || strcmp(k, "rollbackCause") == 0 ||
	       strcmp(k, "checkpointError") == 0;
}

#define HEAD "{\"version\":2,\"step\":\"idle\""

/* Decode `text`: 0 and no message, or `rc` with exactly `msg`. */
static void want_decode(const char *text, int rc, const char *msg)
{
	deploy_journal j;
	fo_err e = FO_ERR_INIT;
	int got = deploy_journal_decode(text, &j, &e);
	if (got != rc)
		fail_msg("journal %.200s: rc %d, want %d (%s)", text, got, rc, fo_err_msg(&e));
	if (rc < 0 && strcmp(fo_err_msg(&e), msg) != 0)
		fail_msg("journal %.200s:\n  got  \"%s\"\n  want \"%s\"", text, fo_err_msg(&e), msg);
	if (rc < 0) {
		/* nothing half-decoded is left behind */
		assert_null(j.job_id);
		assert_null(j.taken);
		assert_int_equal(j.attempt, 0);
	}
	fo_err_clear(&e);
	deploy_journal_clear(&j);
}

/* A known key of the wrong type decodes as nothing, never as a default:
 * `"jobId": null` would start a second job, `"restarts": "3"` reset the
 * budget. Every string key, with every other JSON type. */
static void test_wrong_types(void **state)
{
	(void)state;
	static const struct {
		const char *json, *kind;
	} others[] = {
		{"null", "null"},     {"7", "a number"},  {"true", "true"},       {"false", "false"},
		{"[\"x\"]", "a list"}, {"{}", "an object"}, {"{\"a\":\"b\"}", "an object"},
	};
	for (size_t k = 0; k < FO_ARRAY_LEN(string_keys); k++)
		for (size_t i = 0; i < FO_ARRAY_LEN(others); i++) {
			char *text = fo_asprintf(HEAD ",\"%s\":%s}", string_keys[k], others[i].json);
			char *msg = fo_asprintf("%s: %s where a string belongs", string_keys[k], others[i].kind);
			want_decode(text, FO_EINVAL, msg);
			free(text);
			free(msg);
		}
	static const struct {
		const char *text, *msg;
	} rows[] = {
		/* the counters */
		{HEAD ",\"restarts\":\"3\"}", "restarts: a string where a whole number belongs"},
		{HEAD ",\"restarts\":null}", "restarts: null where a whole number belongs"},
		{HEAD ",\"restarts\":true}", "restarts: true where a whole number belongs"},
		{HEAD ",\"restarts\":[3]}", "restarts: a list where a whole number belongs"},
		{HEAD ",\"restarts\":-1}", "restarts: -1 is not a whole number from 0 to 1000000"},
		{HEAD ",\"restarts\":2.5}", "restarts: 2.5 is not a whole number from 0 to 1000000"},
		{HEAD ",\"restarts\":1000001}", "restarts: 1000001 is not a whole number from 0 to 1000000"},
		{HEAD ",\"attempt\":1e12}", "attempt: 1000000000000 is not a whole number from 0 to 1000000"},
		{HEAD ",\"attempt\":2147483648}", "attempt: 2147483648 is not a whole number from 0 to 1000000"},
		{HEAD ",\"attempt\":-1e300}", "attempt: -1e+300 is not a whole number from 0 to 1000000"},
		{HEAD ",\"attempt\":1e999}", "attempt: inf is not a whole number from 0 to 1000000"},
		{HEAD ",\"attempt\":0.000001}", "attempt: 1e-06 is not a whole number from 0 to 1000000"},
		{HEAD ",\"attempt\":{}}", "attempt: an object where a whole number belongs"},
		/* the flag, the step and the version */
		{HEAD ",\"stateUnknown\":\"true\"}", "stateUnknown: a string where true or false belongs"},
		{HEAD ",\"stateUnknown\":1}", "stateUnknown: a number where true or false belongs"},
		{HEAD ",\"stateUnknown\":null}", "stateUnknown: null where true or false belongs"},
		{"{\"version\":2,\"step\":null}", "step: null where a string belongs"},
		{"{\"version\":2,\"step\":3}", "step: a number where a string belongs"},
		{"{\"version\":2,\"step\":\"Idle\"}", "the journal's step \"Idle\" is unknown"},
		{"{\"version\":null,\"step\":\"idle\"}", "the journal has no valid \"version\""},
		{"{\"version\":\"2\",\"step\":\"idle\"}", "the journal has no valid \"version\""},
		{"{\"version\":2.5,\"step\":\"idle\"}", "the journal has no valid \"version\""},
		{"{\"version\":0,\"step\":\"idle\"}", "the journal has no valid \"version\""},
		/* the lists and their entries */
		{HEAD ",\"savepointsTaken\":null}", "savepointsTaken: null where a list belongs"},
		{HEAD ",\"savepointDisposals\":{\"path\":\"x\"}}", "savepointDisposals: an object where a list belongs"},
		{HEAD ",\"savepointsTaken\":[null]}", "savepointsTaken[0]: null where an entry (an object) belongs"},
		{HEAD ",\"savepointsTaken\":[{\"path\":\"a\"},{\"path\":null}]}",
		 "savepointsTaken[1].path: null where a string belongs"},
		{HEAD ",\"savepointsTaken\":[{\"path\":\"a\",\"time\":5}]}", "savepointsTaken[0].time: a number where a string belongs"},
		{HEAD ",\"savepointsTaken\":[{\"path\":\"a\",\"reason\":null}]}",
		 "savepointsTaken[0].reason: null where a string belongs"},
		{HEAD ",\"savepointsTaken\":[{\"path\":\"a\",\"attempts\":1}]}",
		 "savepointsTaken[0].attempts: not a key of journal format 3 (a newer flinkops may have written it: run that one)"},
		{HEAD ",\"savepointsTaken\":[{\"path\":\"a\",\"path\":\"b\"}]}", "savepointsTaken[0].path: the key appears twice"},
		{HEAD ",\"savepointDisposals\":[{\"path\":\"a\",\"attempts\":-4}]}",
		 "savepointDisposals[0].attempts: -4 is not a whole number from 0 to 1000000"},
		{HEAD ",\"savepointDisposals\":[{\"path\":\"a\",\"attempts\":1e12}]}",
		 "savepointDisposals[0].attempts: 1000000000000 is not a whole number from 0 to 1000000"},
		{HEAD ",\"savepointDisposals\":[{\"path\":\"a\",\"attempts\":\"2\"}]}",
		 "savepointDisposals[0].attempts: a string where a whole number belongs"},
		{HEAD ",\"savepointDisposals\":[{\"path\":\"a\",\"triggerId\":null}]}",
		 "savepointDisposals[0].triggerId: null where a string belongs"},
		{HEAD ",\"savepointDisposals\":[{\"path\":\"a\",\"lastError\":false}]}",
		 "savepointDisposals[0].lastError: false where a string belongs"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(rows); i++)
		want_decode(rows[i].text, FO_EINVAL, rows[i].msg);
}

/* Unknown and duplicated keys, text after the object, missing keys, and
 * the formats around this one. */
static void test_keys_and_formats(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int rc;
		const char *msg;
	} rows[] = {
		{HEAD ",\"jobID\":\"a\"}", FO_EINVAL,
		 "jobID: not a key of journal format 3 (a newer flinkops may have written it: run that one)"},
		{HEAD ",\"owner\":\"a\"}", FO_EINVAL,
		 "owner: not a key of journal format 3 (a newer flinkops may have written it: run that one)"},
		{HEAD ",\"\":1}", FO_EINVAL, ": not a key of journal format 3 (a newer flinkops may have written it: run that one)"},
		{HEAD ",\"jobId\":\"a\",\"jobId\":\"b\"}", FO_EINVAL, "jobId: the key appears twice"},
		{HEAD ",\"jobId\":\"a\",\"jobId\":null}", FO_EINVAL, "jobId: the key appears twice"},
		{HEAD ",\"restarts\":1,\"restarts\":0}", FO_EINVAL, "restarts: the key appears twice"},
		{"{\"version\":2,\"step\":\"idle\",\"step\":\"failed\"}", FO_EINVAL, "step: the key appears twice"},
		{"{\"version\":2,\"version\":2,\"step\":\"idle\"}", FO_EINVAL, "version: the key appears twice"},
		/* the whole text is the journal */
		{HEAD "} x", FO_EINVAL, "the journal is not a JSON object"},
		{HEAD "}{}", FO_EINVAL, "the journal is not a JSON object"},
		{HEAD "}\n", 0, NULL},
		{"null", FO_EINVAL, "the journal is not a JSON object"},
		{"\"idle\"", FO_EINVAL, "the journal is not a JSON object"},
		/* missing keys: version and step are required, the rest unset */
		{"{}", FO_EINVAL, "the journal has no valid \"version\""},
		{"{\"step\":\"idle\"}", FO_EINVAL, "the journal has no valid \"version\""},
		{"{\"version\":2}", FO_EINVAL, "the journal's step \"\" is unknown"},
		{HEAD "}", 0, NULL},
		/* newer formats are refused whatever they hold; older ones read */
		{"{\"version\":4,\"step\":\"idle\",\"futureKey\":[1]}", FO_EUNSUPPORTED,
		 "the journal is of format 4, newer than this flinkops reads (3); run the newer flinkops"},
		{"{\"version\":1e6,\"step\":\"idle\"}", FO_EUNSUPPORTED,
		 "the journal is of format 1000000, newer than this flinkops reads (3); run the newer flinkops"},
		{"{\"version\":1,\"step\":\"idle\",\"jobId\":\"a\",\"restarts\":1}", 0, NULL},
		{"{\"version\":1,\"step\":\"idle\",\"jobId\":null}", FO_EINVAL, "jobId: null where a string belongs"},
		/* the bounds themselves are valid */
		{HEAD ",\"restarts\":1000000,\"attempt\":1000000,\"stateUnknown\":false}", 0, NULL},
		{HEAD ",\"restarts\":0,\"attempt\":-0,\"stateUnknown\":true}", 0, NULL},
		{HEAD ",\"savepointsTaken\":[],\"savepointDisposals\":[]}", 0, NULL},
		{HEAD ",\"agent\":\"flinkops\"}", 0, NULL},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(rows); i++)
		want_decode(rows[i].text, rows[i].rc, rows[i].msg);

	/* what a valid one decodes to */
	deploy_journal j;
	fo_err e = FO_ERR_INIT;
	assert_int_equal(deploy_journal_decode(HEAD ",\"restarts\":1000000,\"attempt\":3.0,\"agent\":\"a\"}", &j, &e), 0);
	assert_int_equal(j.restarts, DEPLOY_JOURNAL_COUNTER_MAX);
	assert_int_equal(j.attempt, 3);
	assert_string_equal(j.agent, "a");
	assert_null(j.job_id); /* absent: unset */
	deploy_journal_clear(&j);
}

/* Strings over the bound are refused (a path or an id cut short would
 * name something else); messages are cut at a character boundary. */
static void test_string_bounds(void **state)
{
	(void)state;
	for (size_t k = 0; k < FO_ARRAY_LEN(string_keys); k++) {
		for (int over = 0; over <= 1; over++) {
			fo_buf b = FO_BUF_INIT;
			fo_buf_printf(&b, HEAD ",\"%s\":\"", string_keys[k]);
			for (int i = 0; i < DEPLOY_JOURNAL_STRING_MAX - 2 + over; i++)
				fo_buf_putc(&b, 'x');
			fo_buf_puts(&b, "\xc3\xa9\"}"); /* a two-byte character at the end: 4096 + over bytes */
			deploy_journal j;
			fo_err e = FO_ERR_INIT;
			int rc = deploy_journal_decode(fo_buf_cstr(&b), &j, &e);
			if (!over || message_key(string_keys[k])) {
				if (rc != 0)
					fail_msg("%s of %d bytes: %s", string_keys[k], DEPLOY_JOURNAL_STRING_MAX + over,
						 fo_err_msg(&e));
				/* the encoding holds what was read, cut between characters */
				char *text = deploy_journal_encode(&j);
				char *want = fo_asprintf("\"%s\":\"", string_keys[k]);
				const char *at = strstr(text, want);
				assert_non_null(at);
				size_t n = strcspn(at + strlen(want), "\"");
				assert_int_equal(n, over ? DEPLOY_JOURNAL_STRING_MAX - 1 : DEPLOY_JOURNAL_STRING_MAX);
				free(want);
				free(text);
			} else {
				char *msg = fo_asprintf("%s: %d bytes, more than the 4096 a journal string may hold",
							string_keys[k], DEPLOY_JOURNAL_STRING_MAX + 1);
				if (rc != FO_EINVAL || strcmp(fo_err_msg(&e), msg) != 0)
					fail_msg("%s: rc %d \"%s\"", string_keys[k], rc, fo_err_msg(&e));
				free(msg);
			}
			fo_err_clear(&e);
			deploy_journal_clear(&j);
			fo_buf_free(&b);
		}
	}
	/* an entry's path too */
	fo_buf b = FO_BUF_INIT;
	fo_buf_puts(&b, HEAD ",\"savepointsTaken\":[{\"path\":\"");
	for (int i = 0; i <= DEPLOY_JOURNAL_STRING_MAX; i++)
		fo_buf_putc(&b, 'p');
	fo_buf_puts(&b, "\"}]}");
	want_decode(fo_buf_cstr(&b), FO_EINVAL, "savepointsTaken[0].path: 4097 bytes, more than the 4096 a journal string may hold");
	fo_buf_free(&b);
}

/* Every field set, the lists full to their bounds, the counters at theirs. */
static void full_journal(deploy_journal *j)
{
	memset(j, 0, sizeof(*j));
	j->step = DEPLOY_STEP_SUBMITTED;
	char *text;
	fo_buf b = FO_BUF_INIT;
	fo_buf_puts(&b, "{\"version\":2,\"step\":\"submitted\",\"restarts\":1000000,\"attempt\":999999,\"stateUnknown\":true");
	for (size_t k = 0; k < FO_ARRAY_LEN(string_keys); k++)
		fo_buf_printf(&b, ",\"%s\":\"%s \\\"v\\\" \\u00e9\\u2028\\t\"", string_keys[k], string_keys[k]);
	fo_buf_puts(&b, ",\"savepointsTaken\":[");
	for (int i = 0; i < DEPLOY_JOURNAL_TAKEN_MAX; i++)
		fo_buf_printf(&b, "%s{\"path\":\"s3://b/sp/%d\",\"time\":\"2026-12-0%dT00:00:00Z\",\"reason\":\"periodic\"}",
			      i ? "," : "", i, 1 + i % 9);
	fo_buf_puts(&b, "],\"savepointDisposals\":[");
	for (int i = 0; i < DEPLOY_JOURNAL_DISPOSALS_MAX; i++)
		fo_buf_printf(&b, "%s{\"path\":\"s3://b/old/%d\",\"attempts\":%d%s}", i ? "," : "", i,
			      i * 31250, i % 2 ? ",\"triggerId\":\"t\",\"lastError\":\"e\"" : "");
	fo_buf_puts(&b, "]}");
	text = fo_buf_detach(&b);
	fo_err e = FO_ERR_INIT;
	if (deploy_journal_decode(text, j, &e) < 0)
		fail_msg("the full journal does not decode: %s", fo_err_msg(&e));
	free(text);
}

/* What flinkops writes reads back, and rewrites to the same bytes. */
static void test_round_trip(void **state)
{
	(void)state;
	deploy_journal j, k, c = {0};
	fo_err e = FO_ERR_INIT;
	full_journal(&j);
	char *first = deploy_journal_encode(&j);
	assert_int_equal(deploy_journal_decode(first, &k, &e), 0);
	char *second = deploy_journal_encode(&k);
	assert_string_equal(first, second);
	deploy_journal_copy(&c, &k);
	char *third = deploy_journal_encode(&c);
	assert_string_equal(first, third);
	assert_int_equal(k.ntaken, DEPLOY_JOURNAL_TAKEN_MAX);
	assert_int_equal(k.ndisposals, DEPLOY_JOURNAL_DISPOSALS_MAX);
	assert_int_equal(k.restarts, DEPLOY_JOURNAL_COUNTER_MAX);
	assert_string_equal(k.agent, "agent \"v\" \xc3\xa9\xe2\x80\xa8\t");
	free(first);
	free(second);
	free(third);
	deploy_journal_clear(&k);
	deploy_journal_clear(&c);

	/* an empty one, and one of each step */
	for (int s = 0; s < DEPLOY_NSTEPS; s++) {
		deploy_journal m = {0};
		m.step = (enum deploy_step)s;
		first = deploy_journal_encode(&m);
		assert_int_equal(deploy_journal_decode(first, &k, &e), 0);
		assert_int_equal(k.step, s);
		second = deploy_journal_encode(&k);
		assert_string_equal(first, second);
		free(first);
		free(second);
		deploy_journal_clear(&k);
	}

	/* a message longer than the bound is written cut, so it reads back
	 * as written; another string that long is written as it is, and does
	 * not read back: deploy_journal_save refuses to write it */
	char *long_text = fo_calloc(1, DEPLOY_JOURNAL_STRING_MAX + 100);
	memset(long_text, 'm', DEPLOY_JOURNAL_STRING_MAX + 99);
	deploy_journal_set(&j.last_error, long_text);
	deploy_journal_set(&j.rollback_cause, long_text);
	deploy_journal_set(&j.savepoint_error, long_text);
	deploy_journal_set(&j.disposals[1].last_error, long_text);
	first = deploy_journal_encode(&j);
	assert_int_equal(deploy_journal_decode(first, &k, &e), 0);
	assert_int_equal(strlen(k.last_error), DEPLOY_JOURNAL_STRING_MAX);
	assert_int_equal(strlen(k.disposals[1].last_error), DEPLOY_JOURNAL_STRING_MAX);
	second = deploy_journal_encode(&k);
	assert_string_equal(first, second);
	free(first);
	free(second);
	deploy_journal_clear(&k);
	deploy_journal_set(&j.restore_path, long_text);
	first = deploy_journal_encode(&j);
	assert_int_equal(deploy_journal_decode(first, &k, &e), FO_EINVAL);
	assert_string_equal(fo_err_msg(&e), "restorePath: 4195 bytes, more than the 4096 a journal string may hold");
	fo_err_clear(&e);
	free(first);
	free(long_text);
	deploy_journal_clear(&j);
}

/* A counter stops one past its bound: never past int's end, and a journal
 * holding that does not decode, so it is never written. */
static void test_counters(void **state)
{
	(void)state;
	int n = 0;
	deploy_journal_count(&n);
	assert_int_equal(n, 1);
	n = DEPLOY_JOURNAL_COUNTER_MAX - 1;
	deploy_journal_count(&n);
	assert_int_equal(n, DEPLOY_JOURNAL_COUNTER_MAX);
	for (int i = 0; i < 3; i++)
		deploy_journal_count(&n);
	assert_int_equal(n, DEPLOY_JOURNAL_COUNTER_MAX + 1);
	n = INT_MAX; /* UBSan: no signed overflow */
	deploy_journal_count(&n);
	assert_int_equal(n, INT_MAX);

	deploy_journal j = {0}, k;
	fo_err e = FO_ERR_INIT;
	j.attempt = DEPLOY_JOURNAL_COUNTER_MAX;
	deploy_journal_count(&j.attempt);
	char *text = deploy_journal_encode(&j);
	assert_int_equal(deploy_journal_decode(text, &k, &e), FO_EINVAL);
	assert_string_equal(fo_err_msg(&e), "attempt: 1000001 is not a whole number from 0 to 1000000");
	fo_err_clear(&e);
	free(text);
}

/* ---- ownership ---- */

#define OURS "agent-b"
#define JOURNAL_OF(agent_field) "{\"version\":2,\"step\":\"idle\",\"jobId\":\"j1\"" agent_field "}"
#define FIELD_A ",\"agent\":\"agent-a\""
#define FIELD_B ",\"agent\":\"agent-b\""

static void test_judge_table(void **state)
{
	(void)state;
	static const struct {
		const char *what;
		enum deploy_journal_seen seen;
		const char *text, *label;
		enum deploy_journal_verdict want;
		const char *msg; /* FOREIGN and BAD: a part of the message */
	} rows[] = {
		{"not listed, not read: read it", DEPLOY_JOURNAL_UNREAD, NULL, NULL, DEPLOY_JOURNAL_GET, NULL},
		{"not listed, not read, text ignored", DEPLOY_JOURNAL_UNREAD, JOURNAL_OF(FIELD_A), "agent-a",
		 DEPLOY_JOURNAL_GET, NULL},
		{"read: there is none", DEPLOY_JOURNAL_NONE, NULL, NULL, DEPLOY_JOURNAL_CREATE, NULL},
		{"listed, ours", DEPLOY_JOURNAL_LISTED, JOURNAL_OF(FIELD_B), OURS, DEPLOY_JOURNAL_USE, NULL},
		{"listed, older flinkops (no field)", DEPLOY_JOURNAL_LISTED, JOURNAL_OF(""), OURS, DEPLOY_JOURNAL_USE, NULL},
		{"listed, handed over by relabelling", DEPLOY_JOURNAL_LISTED, JOURNAL_OF(FIELD_A), OURS, DEPLOY_JOURNAL_USE,
		 NULL},
		{"read, ours by label", DEPLOY_JOURNAL_READ, JOURNAL_OF(FIELD_B), OURS, DEPLOY_JOURNAL_USE, NULL},
		{"read, no label, ours by field", DEPLOY_JOURNAL_READ, JOURNAL_OF(FIELD_B), NULL, DEPLOY_JOURNAL_USE, NULL},
		{"read, empty label, ours by field", DEPLOY_JOURNAL_READ, JOURNAL_OF(FIELD_B), "", DEPLOY_JOURNAL_USE, NULL},
		{"read, another agent's", DEPLOY_JOURNAL_READ, JOURNAL_OF(FIELD_A), "agent-a", DEPLOY_JOURNAL_FOREIGN,
		 "belongs to agent \"agent-a\" (its label flinkops.io/agent), not to this agent \"agent-b\""},
		{"read, another agent's of an older flinkops (the label is the owner)", DEPLOY_JOURNAL_READ, JOURNAL_OF(""),
		 "agent-a", DEPLOY_JOURNAL_FOREIGN, "belongs to agent \"agent-a\" (its label flinkops.io/agent)"},
		{"read, relabelled away from us", DEPLOY_JOURNAL_READ, JOURNAL_OF(FIELD_B), "agent-a", DEPLOY_JOURNAL_FOREIGN,
		 "belongs to agent \"agent-a\""},
		{"read, another agent's, not decodable: its business", DEPLOY_JOURNAL_READ, "{garbage", "agent-a",
		 DEPLOY_JOURNAL_FOREIGN, "belongs to agent \"agent-a\""},
		{"read, another agent's, newer format", DEPLOY_JOURNAL_READ, "{\"version\":9}", "agent-a",
		 DEPLOY_JOURNAL_FOREIGN, "belongs to agent \"agent-a\""},
		{"read, no label, another agent's field", DEPLOY_JOURNAL_READ, JOURNAL_OF(FIELD_A), NULL,
		 DEPLOY_JOURNAL_FOREIGN, "belongs to agent \"agent-a\" (its \"agent\" field), not to this agent \"agent-b\""},
		{"read, no label, no field: nobody's", DEPLOY_JOURNAL_READ, JOURNAL_OF(""), NULL, DEPLOY_JOURNAL_FOREIGN,
		 "names no agent (no flinkops.io/agent label, no \"agent\" field)"},
		{"read, empty label, no field: nobody's", DEPLOY_JOURNAL_READ, JOURNAL_OF(""), "", DEPLOY_JOURNAL_FOREIGN,
		 "names no agent"},
		{"listed, does not decode", DEPLOY_JOURNAL_LISTED, "{\"version\":2,\"step\":\"idle\",\"jobId\":null}", OURS,
		 DEPLOY_JOURNAL_BAD, "does not decode: jobId: null where a string belongs; its job is left alone"},
		{"read, ours, newer format", DEPLOY_JOURNAL_READ, "{\"version\":4,\"step\":\"idle\"}", OURS, DEPLOY_JOURNAL_BAD,
		 "does not decode: the journal is of format 4, newer than this flinkops reads (3)"},
		{"read, ours, no journal.json", DEPLOY_JOURNAL_READ, NULL, OURS, DEPLOY_JOURNAL_BAD,
		 "does not decode: the journal is not a JSON object"},
		{"read, no label, does not decode", DEPLOY_JOURNAL_READ, "[]", NULL, DEPLOY_JOURNAL_BAD,
		 "does not decode: the journal is not a JSON object"},
		{"read, no label, agent null", DEPLOY_JOURNAL_READ, JOURNAL_OF(",\"agent\":null"), NULL, DEPLOY_JOURNAL_BAD,
		 "does not decode: agent: null where a string belongs"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(rows); i++) {
		deploy_journal_cm cm = {rows[i].seen, rows[i].text, rows[i].label};
		deploy_journal j;
		char *why = (char *)"untouched";
		enum deploy_journal_verdict v = deploy_journal_judge(OURS, "jobs", "wc", &cm, &j, &why);
		if (v != rows[i].want)
			fail_msg("%s: verdict %d, want %d (%s)", rows[i].what, v, rows[i].want, why ? why : "");
		if (rows[i].msg) {
			if (!why || !strstr(why, rows[i].msg))
				fail_msg("%s: \"%s\" lacks \"%s\"", rows[i].what, why ? why : "(null)", rows[i].msg);
			want_contains(why, "the journal ConfigMap jobs/flink-journal-wc ");
			want_contains(why, "its job is left alone");
		} else if (why) {
			fail_msg("%s: a message \"%s\"", rows[i].what, why);
		}
		if (v == DEPLOY_JOURNAL_USE)
			assert_string_equal(j.job_id, "j1");
		else
			assert_null(j.job_id); /* nothing of a journal not used */
		free(why);
		deploy_journal_clear(&j);
	}
}

/* The messages in full: what happened and what to do. */
static void test_judge_messages(void **state)
{
	(void)state;
	deploy_journal j;
	char *why = NULL;
	deploy_journal_cm cm = {DEPLOY_JOURNAL_READ, JOURNAL_OF(FIELD_A), "agent-a"};
	assert_int_equal(deploy_journal_judge(OURS, "jobs", "wc", &cm, &j, &why), DEPLOY_JOURNAL_FOREIGN);
	assert_string_equal(
		why,
		"the journal ConfigMap jobs/flink-journal-wc belongs to agent \"agent-a\" (its label flinkops.io/agent), "
		"not to this agent \"agent-b\": nothing of this deployment is applied, and its job is left alone. If "
		"agent.name was changed by mistake, set it back to \"agent-a\". To hand the deployment over to "
		"\"agent-b\", relabel its objects and journal: kubectl -n jobs label configmap,service,statefulset -l "
		"'app.kubernetes.io/instance=wc,app.kubernetes.io/managed-by in (flinkops,flinkops-journal)' "
		"flinkops.io/agent=agent-b --overwrite (then take it out of agent \"agent-a\"'s repository, if that is "
		"another one)");
	free(why);
	cm.text = JOURNAL_OF("");
	cm.label = NULL;
	assert_int_equal(deploy_journal_judge(OURS, "jobs", "wc", &cm, &j, &why), DEPLOY_JOURNAL_FOREIGN);
	assert_string_equal(why, "the journal ConfigMap jobs/flink-journal-wc names no agent (no flinkops.io/agent label, "
				 "no \"agent\" field): nothing of this deployment is applied, and its job is left alone. "
				 "If the deployment is this agent's, label its objects and journal: kubectl -n jobs label "
				 "configmap,service,statefulset -l 'app.kubernetes.io/instance=wc,app.kubernetes.io/"
				 "managed-by in (flinkops,flinkops-journal)' flinkops.io/agent=agent-b --overwrite");
	free(why);
	cm.text = "{\"version\":2,\"step\":\"idle\",\"restarts\":\"3\"}";
	cm.label = OURS;
	assert_int_equal(deploy_journal_judge(OURS, "jobs", "wc", &cm, &j, &why), DEPLOY_JOURNAL_BAD);
	assert_string_equal(why, "the journal ConfigMap jobs/flink-journal-wc does not decode: restarts: a string where a "
				 "whole number belongs; its job is left alone. Restore the ConfigMap, or delete it once "
				 "the job's newest state is known");
	free(why);
}

/* An object at a rendered name that this agent's listing did not return. */
static void test_object_owner(void **state)
{
	(void)state;
	static const struct {
		const char *json;
		bool ours;
		const char *msg;
	} rows[] = {
		{"{\"kind\":\"Service\",\"metadata\":{\"namespace\":\"jobs\",\"name\":\"wc-rest\",\"labels\":{"
		 "\"flinkops.io/agent\":\"agent-b\",\"app.kubernetes.io/instance\":\"wc\"}}}",
		 true, NULL},
		{"{\"kind\":\"Service\",\"metadata\":{\"namespace\":\"jobs\",\"name\":\"wc-rest\",\"labels\":{"
		 "\"flinkops.io/agent\":\"agent-a\",\"app.kubernetes.io/instance\":\"wc\"}}}",
		 false,
		 "Service jobs/wc-rest belongs to agent \"agent-a\" (its label flinkops.io/agent), not to this agent "
		 "\"agent-b\": nothing of this deployment is applied, and its job is left alone. If agent.name was changed "
		 "by mistake, set it back to \"agent-a\". To hand the deployment over to \"agent-b\", relabel its objects "
		 "and journal: kubectl -n jobs label configmap,service,statefulset -l 'app.kubernetes.io/instance=wc,"
		 "app.kubernetes.io/managed-by in (flinkops,flinkops-journal)' flinkops.io/agent=agent-b --overwrite "
		 "(then take it out of agent \"agent-a\"'s repository, if that is another one)"},
		{"{\"kind\":\"StatefulSet\",\"metadata\":{\"namespace\":\"jobs\",\"name\":\"wc-jobmanager\"}}", false,
		 "StatefulSet jobs/wc-jobmanager exists and is no flinkops agent's (no flinkops.io/agent label): nothing "
		 "of this deployment is applied, and its job is left alone. If the deployment is this agent's, label its "
		 "objects and journal: kubectl -n jobs label configmap,service,statefulset -l "
		 "'app.kubernetes.io/instance=NAME,app.kubernetes.io/managed-by in (flinkops,flinkops-journal)' "
		 "flinkops.io/agent=agent-b --overwrite"},
		{"{\"kind\":\"ConfigMap\",\"metadata\":{\"namespace\":\"jobs\",\"name\":\"flink-config-wc\",\"labels\":{"
		 "\"flinkops.io/agent\":\"\"}}}",
		 false, "ConfigMap jobs/flink-config-wc exists and is no flinkops agent's"},
		{"{}", false, "exists and is no flinkops agent's"},
	};
	for (size_t i = 0; i < FO_ARRAY_LEN(rows); i++) {
		cJSON *o = cJSON_Parse(rows[i].json);
		char *why = NULL;
		assert_int_equal(deploy_object_ours(OURS, o, &why), rows[i].ours);
		if (rows[i].ours)
			assert_null(why);
		else if (strstr(rows[i].msg, "--overwrite"))
			assert_string_equal(why, rows[i].msg);
		else
			want_contains(why, rows[i].msg);
		free(why);
		cJSON_Delete(o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrong_types),    cmocka_unit_test(test_keys_and_formats),
		cmocka_unit_test(test_string_bounds),  cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_counters),       cmocka_unit_test(test_judge_table),
		cmocka_unit_test(test_judge_messages), cmocka_unit_test(test_object_owner),
	};
	return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
