/*
 * Line diffs for people: the unified diff of two texts, as `diff -u` prints
 * it, for `flinkops plan` to show how rendered objects change. Myers'
 * O(ND) algorithm on lines after trimming the common head and tail; pure,
 * no I/O. Bounded: past `FO_DIFF_MAX_EDITS` differing lines the texts are
 * shown as one hunk that replaces every line (still a correct diff).
 */
#ifndef FO_DIFF_H
#define FO_DIFF_H

#include <stddef.h>

#include "lib/buf.h"

#define FO_DIFF_MAX_EDITS 2000

/*
 * Append the unified diff of `a` (named `a_name`) and `b` (named `b_name`)
 * to `out`, with `context` unchanged lines around each change (3 is diff's
 * default): the "--- "/"+++ " header, then "@@ -l,n +l,n @@" hunks. A last
 * line without a newline is marked "\ No newline at end of file". Nothing
 * is appended when the texts are equal. Returns the number of lines added
 * plus the number removed (0: equal).
 */
size_t fo_diff_unified(fo_buf *out, const char *a, size_t alen, const char *b, size_t blen, const char *a_name,
		       const char *b_name, int context);

#endif
