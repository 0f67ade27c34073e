/*
 * Fuzz target "journal": the bytes as the rollout journal a ConfigMap holds
 * (deploy_journal_decode). Beyond no crash, leak or undefined behaviour: a
 * journal that decodes is encoded, decoded again and encoded again, and the
 * two encodings must be equal, so an agent that reads and rewrites its
 * journal changes nothing; the encoding of valid UTF-8 is valid UTF-8 (the
 * API server stores ConfigMap data as text); and the decode is strict and
 * lossless: the text is one JSON object, every counter is within its bound,
 * and every key of the input is in the rewrite with the same value (nothing
 * read as a default, nothing dropped) — but for the version (rewritten as
 * the current one), a false stateUnknown and an empty list (not written),
 * and messages (cut to their bound). The same bytes as a
 * FlinkStateSnapshot's record (deploy_snapshot_decode): one that decodes
 * rewrites to the same text, whatever its keys' order was; and as a
 * blue/green journal (deploy_bg_journal_decode), likewise.
 */
#include "tests/fuzz/fuzz.h"

#include "deploy/bluegreen.h"
#include "deploy/journal.h"
#include "deploy/snapshot.h"

static bool is_message(const char *key)
{
	return strcmp(key, "lastError") == 0 || strcmp(key, "savepointError") == 0 || strcmp(key, "rollbackCause") == 0;
}

/* Whether `out` holds what `in` said of `key`. */
static bool kept(const char *key, const cJSON *in, const cJSON *out)
{
	if (cJSON_IsString(in) && is_message(key) && strlen(in->valuestring) > DEPLOY_JOURNAL_STRING_MAX)
		return cJSON_IsString(out) && strlen(out->valuestring) <= DEPLOY_JOURNAL_STRING_MAX &&
		       strncmp(in->valuestring, out->valuestring, strlen(out->valuestring)) == 0;
	if (cJSON_IsArray(in)) {
		/* list entries key by key, with the same exceptions */
		if (!cJSON_IsArray(out) || cJSON_GetArraySize(in) != cJSON_GetArraySize(out))
			return false;
		for (const cJSON *a = in->child, *b = out->child; a && b; a = a->next, b = b->next)
			for (const cJSON *f = a->child; f; f = f->next)
				if (!kept(f->string, f, cJSON_GetObjectItemCaseSensitive(b, f->string)))
					return false;
		return true;
	}
	/* a number by its value: 3.0 and -0 are rewritten 3 and 0 */
	if (cJSON_IsNumber(in))
		return cJSON_IsNumber(out) && in->valuedouble == out->valuedouble;
	return out && fuzz_json_equal(in, out);
}

static void check_lossless(const char *text, const char *encoded, const deploy_journal *j)
{
	cJSON *in = cJSON_ParseWithOpts(text, NULL, true);
	FUZZ_CHECK(cJSON_IsObject(in), "a journal that is not one whole JSON object decodes\n%s", text);
	cJSON *out = cJSON_Parse(encoded);
	for (const cJSON *f = in->child; f; f = f->next) {
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(out, f->string);
		if (strcmp(f->string, "version") == 0 || (strcmp(f->string, "stateUnknown") == 0 && cJSON_IsFalse(f)) ||
		    (cJSON_IsArray(f) && !f->child && !o))
			continue;
		FUZZ_CHECK(kept(f->string, f, o), "the journal's \"%s\" is not what the rewrite says\n%s\n%s", f->string,
			   text, encoded);
	}
	FUZZ_CHECK(j->restarts >= 0 && j->restarts <= DEPLOY_JOURNAL_COUNTER_MAX && j->attempt >= 0 &&
			   j->attempt <= DEPLOY_JOURNAL_COUNTER_MAX && j->ntaken <= DEPLOY_JOURNAL_TAKEN_MAX &&
			   j->ndisposals <= DEPLOY_JOURNAL_DISPOSALS_MAX,
		   "a counter or a list past its bound decodes\n%s", text);
	for (size_t i = 0; i < j->ndisposals; i++)
		FUZZ_CHECK(j->disposals[i].attempts >= 0 && j->disposals[i].attempts <= DEPLOY_JOURNAL_COUNTER_MAX,
			   "a disposal's attempts past the bound decode\n%s", text);
	cJSON_Delete(in);
	cJSON_Delete(out);
}

/* The bytes as a snapshot's record: decoded, it rewrites stably. */
static void check_snapshot(const char *text)
{
	deploy_snapshot_rec r, k;
	fo_err e = FO_ERR_INIT;
	if (deploy_snapshot_decode(text, &r, &e) == 0) {
		char *first = deploy_snapshot_encode(&r);
		int rc = deploy_snapshot_decode(first, &k, &e);
		FUZZ_CHECK(rc == 0, "an encoded snapshot record does not decode: %s\n%s", fo_err_msg(&e), first);
		char *second = deploy_snapshot_encode(&k);
		FUZZ_CHECK(strcmp(first, second) == 0, "the snapshot record changes when rewritten\n%s\n%s", first, second);
		FUZZ_CHECK(r.failures >= 0 && r.failures <= DEPLOY_JOURNAL_COUNTER_MAX, "failures past the bound decode\n%s",
			   text);
		free(first);
		free(second);
		deploy_snapshot_rec_clear(&k);
		deploy_snapshot_rec_clear(&r);
	} else {
		FUZZ_CHECK(e.msg, "a failed decode of a snapshot record must say why");
	}
	fo_err_clear(&e);
}

/* The bytes as a blue/green journal: decoded, it rewrites stably; a
 * nonce reads back exact; a spec stays within its bound. */
static void check_bluegreen(const char *text)
{
	deploy_bg_journal r, k;
	fo_err e = FO_ERR_INIT;
	if (deploy_bg_journal_decode(text, &r, &e) == 0) {
		char *first = deploy_bg_journal_encode(&r);
		int rc = deploy_bg_journal_decode(first, &k, &e);
		FUZZ_CHECK(rc == 0, "an encoded blue/green journal does not decode: %s\n%s", fo_err_msg(&e), first);
		char *second = deploy_bg_journal_encode(&k);
		FUZZ_CHECK(strcmp(first, second) == 0, "the blue/green journal changes when rewritten\n%s\n%s", first,
			   second);
		FUZZ_CHECK(k.handover_nonce == r.handover_nonce && k.handover_git_nonce == r.handover_git_nonce &&
				   k.state == r.state && k.retiring == r.retiring && k.started_ms == r.started_ms,
			   "the blue/green journal reads back different\n%s", text);
		FUZZ_CHECK((!r.active_spec || strlen(r.active_spec) <= DEPLOY_BG_SPEC_MAX) &&
				   (!r.retiring_spec || strlen(r.retiring_spec) <= DEPLOY_BG_SPEC_MAX),
			   "a spec past the bound decodes");
		free(first);
		free(second);
		deploy_bg_journal_clear(&k);
		deploy_bg_journal_clear(&r);
	} else {
		FUZZ_CHECK(e.msg, "a failed decode of a blue/green journal must say why");
	}
	fo_err_clear(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	deploy_journal j, k;
	fo_err e = FO_ERR_INIT;
	if (deploy_journal_decode(text, &j, &e) == 0) {
		char *first = deploy_journal_encode(&j);
		int rc = deploy_journal_decode(first, &k, &e);
		FUZZ_CHECK(rc == 0, "an encoded journal does not decode: %s\n%s", fo_err_msg(&e), first);
		char *second = deploy_journal_encode(&k);
		FUZZ_CHECK(strcmp(first, second) == 0, "the journal changes when rewritten\n%s\n%s", first, second);
		if (fuzz_utf8_valid(text, strlen(text)))
			FUZZ_CHECK(fuzz_str_utf8(first), "valid UTF-8 in, invalid UTF-8 out\n%s", first);
		check_lossless(text, first, &j);
		free(first);
		free(second);
		deploy_journal_clear(&k);
		deploy_journal_clear(&j);
	} else {
		FUZZ_CHECK(e.msg, "a failed decode must say why");
	}
	fo_err_clear(&e);
	check_snapshot(text);
	check_bluegreen(text);
	free(text);
	return 0;
}
