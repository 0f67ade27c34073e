/*
 * Unified line diffs (see diff.h). Lines are compared by a 64-bit hash and
 * then by bytes. The common head and tail are trimmed first, so that the
 * usual case — a few lines changed in a long rendered object — runs Myers'
 * algorithm on a small middle. The trace of Myers' frontier costs O(D^2)
 * memory, which FO_DIFF_MAX_EDITS bounds.
 */
#include "lib/diff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

typedef struct line {
	const char *p;
	size_t len; /* with the newline, when there is one */
	uint64_t hash;
} line;

typedef struct op {
	char kind;  /* ' ', '-', '+' */
	size_t idx; /* line index in a (' ', '-') or b ('+') */
} op;

typedef struct ops {
	op *v;
	size_t n, cap;
} ops;

static size_t split(const char *s, size_t len, line **out)
{
	size_t n = 0, cap = 0;
	line *v = NULL;
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (s + i)) + 1 : len - i;
		v = fo_grow(v, &cap, n + 1, sizeof(*v));
		uint64_t h = 1469598103934665603ULL;
		for (size_t k = 0; k < l; k++) {
			h ^= (unsigned char)s[i + k];
			h *= 1099511628211ULL;
		}
		v[n].p = s + i;
		v[n].len = l;
		v[n].hash = h;
		n++;
		i += l;
	}
	*out = v;
	return n;
}

static bool same(const line *x, const line *y)
{
	return x->hash == y->hash && x->len == y->len && memcmp(x->p, y->p, x->len) == 0;
}

static void push(ops *o, char kind, size_t idx)
{
	o->v = fo_grow(o->v, &o->cap, o->n + 1, sizeof(*o->v));
	o->v[o->n].kind = kind;
	o->v[o->n].idx = idx;
	o->n++;
}

/* Myers on a[0..n) and b[0..m); appends the edit script (in reverse) to `rev`.
 * Returns false when more than FO_DIFF_MAX_EDITS edits are needed. */
static bool myers(const line *a, size_t n, const line *b, size_t m, size_t abase, size_t bbase, ops *rev)
{
	long N = (long)n, M = (long)m, max = N + M;
	long dmax = max < FO_DIFF_MAX_EDITS ? max : FO_DIFF_MAX_EDITS;
	long off = dmax + 1;
	long *v = fo_calloc((size_t)(2 * dmax + 3), sizeof(*v));
	long *trace = fo_malloc((size_t)(dmax + 1) * (size_t)(dmax + 1) * sizeof(*trace));
	long D = -1;
	for (long d = 0; d <= dmax && D < 0; d++) {
		for (long k = -d; k <= d; k += 2) {
			long x;
			if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
				x = v[off + k + 1];
			else
				x = v[off + k - 1] + 1;
			long y = x - k;
			while (x < N && y < M && same(&a[x], &b[y]))
				x++, y++;
			v[off + k] = x;
			if (x >= N && y >= M)
				D = d;
		}
		memcpy(&trace[d * d], &v[off - d], (size_t)(2 * d + 1) * sizeof(*v));
	}
	if (D < 0) {
		free(v);
		free(trace);
		return false;
	}
	long x = N, y = M;
	for (long d = D; d > 0; d--) {
		const long *pv = &trace[(d - 1) * (d - 1)] + (d - 1); /* pv[k] for k in [-(d-1), d-1] */
		long k = x - y, pk;
		if (k == -d || (k != d && pv[k - 1] < pv[k + 1]))
			pk = k + 1;
		else
			pk = k - 1;
		long px = pv[pk], py = px - pk;
		while (x > px && y > py) {
			push(rev, ' ', abase + (size_t)(x - 1));
			x--, y--;
		}
		if (pk == k + 1)
			push(rev, '+', bbase + (size_t)py);
		else
			push(rev, '-', abase + (size_t)px);
		x = px, y = py;
	}
	while (x > 0 && y > 0) {
		push(rev, ' ', abase + (size_t)(x - 1));
		x--, y--;
	}
	free(v);
	free(trace);
	return true;
}

static void put_line(fo_buf *out, char kind, const line *l)
{
	fo_buf_putc(out, kind);
	fo_buf_put(out, l->p, l->len);
	if (l->len == 0 || l->p[l->len - 1] != '\n')
		fo_buf_puts(out, "\n\\ No newline at end of file\n");
}

static void put_range(fo_buf *out, size_t first, size_t count)
{
	if (count == 1)
		fo_buf_printf(out, "%zu", first + 1);
	else
		fo_buf_printf(out, "%zu,%zu", count ? first + 1 : first, count);
}

size_t fo_diff_unified(fo_buf *out, const char *a, size_t alen, const char *b, size_t blen, const char *a_name,
		       const char *b_name, int context)
{
	line *la = NULL, *lb = NULL;
	size_t na = split(a ? a : "", a ? alen : 0, &la);
	size_t nb = split(b ? b : "", b ? blen : 0, &lb);
	size_t C = context < 0 ? 0 : (size_t)context;
	size_t pre = 0, suf = 0;
	while (pre < na && pre < nb && same(&la[pre], &lb[pre]))
		pre++;
	while (suf < na - pre && suf < nb - pre && same(&la[na - 1 - suf], &lb[nb - 1 - suf]))
		suf++;
	ops o = {0}, rev = {0};
	size_t changed = 0;
	for (size_t i = 0; i < pre; i++)
		push(&o, ' ', i);
	if (!myers(la + pre, na - pre - suf, lb + pre, nb - pre - suf, pre, pre, &rev)) {
		rev.n = 0;
		for (size_t i = nb - suf; i-- > pre;)
			push(&rev, '+', i);
		for (size_t i = na - suf; i-- > pre;)
			push(&rev, '-', i);
	}
	for (size_t i = rev.n; i-- > 0;)
		push(&o, rev.v[i].kind, rev.v[i].idx);
	for (size_t i = 0; i < suf; i++)
		push(&o, ' ', na - suf + i);
	for (size_t i = 0; i < o.n; i++)
		changed += o.v[i].kind != ' ';
	if (changed == 0)
		goto cleanup;

	fo_buf_printf(out, "--- %s\n+++ %s\n", a_name ? a_name : "a", b_name ? b_name : "b");
	size_t i = 0, ca = 0, cb = 0; /* ca, cb: lines of a and b before op i */
	while (i < o.n) {
		if (o.v[i].kind == ' ') {
			i++, ca++, cb++;
			continue;
		}
		size_t start = i > C ? i - C : 0;
		/* hunks never overlap: the previous one ended at most C lines before */
		size_t sa = ca - (i - start), sb = cb - (i - start);
		size_t last = i, j = i;
		while (j < o.n) {
			if (o.v[j].kind != ' ') {
				last = j++;
				continue;
			}
			size_t run = 0;
			while (j + run < o.n && o.v[j + run].kind == ' ')
				run++;
			if (j + run >= o.n || run > 2 * C)
				break;
			j += run;
		}
		size_t end = last + 1 + C < o.n ? last + 1 + C : o.n;
		size_t na_h = 0, nb_h = 0;
		for (size_t k = start; k < end; k++) {
			na_h += o.v[k].kind != '+';
			nb_h += o.v[k].kind != '-';
		}
		fo_buf_puts(out, "@@ -");
		put_range(out, sa, na_h);
		fo_buf_puts(out, " +");
		put_range(out, sb, nb_h);
		fo_buf_puts(out, " @@\n");
		for (size_t k = start; k < end; k++)
			put_line(out, o.v[k].kind, o.v[k].kind == '+' ? &lb[o.v[k].idx] : &la[o.v[k].idx]);
		/* advance the counters over the ops from i to end */
		for (size_t k = i; k < end; k++) {
			ca += o.v[k].kind != '+';
			cb += o.v[k].kind != '-';
		}
		i = end;
	}
cleanup:
	free(o.v);
	free(rev.v);
	free(la);
	free(lb);
	return changed;
}
