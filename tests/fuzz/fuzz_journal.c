/*
 * Fuzz target "journal": the bytes as the rollout journal a ConfigMap holds
 * (deploy_journal_decode). Beyond no crash, leak or undefined behaviour: a
 * journal that decodes is encoded, decoded again and encoded again, and the
 * two encodings must be equal, so an agent that reads and rewrites its
 * journal changes nothing; and the encoding of valid UTF-8 is valid UTF-8
 * (the API server stores ConfigMap data as text).
 */
#include "tests/fuzz/fuzz.h"

#include "deploy/journal.h"

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
		free(first);
		free(second);
		deploy_journal_clear(&k);
		deploy_journal_clear(&j);
	} else {
		FUZZ_CHECK(e.msg, "a failed decode must say why");
	}
	fo_err_clear(&e);
	free(text);
	return 0;
}
