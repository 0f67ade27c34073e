/*
 * YAML loading into a positioned tree, and deterministic YAML writing.
 *
 * Loading is driven by libyaml's event parser with an explicit stack, so that
 * neither deep nesting nor long inputs recurse in C. Aliases are expanded by
 * copying under a node budget (an alias bomb stops after a few thousand
 * copies, not after exhausting memory); merge keys (`<<`) are applied when
 * their mapping ends. Duplicate keys are found with a small hash index once a
 * mapping grows past a handful of entries, so a huge mapping is not quadratic.
 */
#include "lib/yaml.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define DEFAULT_MAX_BYTES (1u << 20)
#define DEFAULT_MAX_DEPTH 64
#define DEFAULT_MAX_NODES 1000000
#define DEFAULT_MAX_ALIAS_NODES 10000
#define DEFAULT_MAX_DOCS 1000
#define INDEX_THRESHOLD 16

typedef struct anchor {
	char *name;
	fo_yaml_node *node;
	bool complete;
} anchor;

typedef struct frame {
	fo_yaml_node *node;
	bool have_key;           /* a key is waiting for its value */
	bool key_is_merge;       /* that key is `<<` */
	fo_yaml_node **merges;   /* merge sources, applied at the mapping's end */
	size_t nmerges, capmerges;
	size_t *index;           /* open-addressing index of key positions + 1 */
	size_t index_cap;
	int anchor;              /* index into anchors, or -1 */
} frame;

typedef struct builder {
	const char *name;
	const char *data;
	size_t len;
	fo_yaml_limits lim;
	fo_diags *diags;
	frame *stack;
	size_t depth, stack_cap;
	anchor *anchors;
	size_t nanchors, anchors_cap;
	fo_yaml_node **graveyard; /* merge sources, freed with the builder */
	size_t ngrave, grave_cap;
	size_t nodes, alias_nodes;
	size_t alias_bytes;       /* string bytes copied by aliases and merges */
	fo_yaml_node *root;
	bool have_root;
	fo_yaml_file *file;
	size_t docs_cap;
	/* libyaml's marks count characters; the byte that character
	 * `pos_chars` starts at is `pos_bytes` (walked forward only, since
	 * documents come in order) */
	size_t pos_chars, pos_bytes;
	size_t doc_start; /* the current document's first byte */
} builder;

/* The byte offset of character `index` of the (valid UTF-8) input. */
static size_t byte_at(builder *b, size_t index)
{
	while (b->pos_chars < index && b->pos_bytes < b->len) {
		b->pos_bytes++;
		/* continuation bytes (10xxxxxx) belong to the character before */
		while (b->pos_bytes < b->len && ((unsigned char)b->data[b->pos_bytes] & 0xC0) == 0x80)
			b->pos_bytes++;
		b->pos_chars++;
	}
	return b->pos_bytes;
}

static void fail(builder *b, int line, int col, const char *fmt, ...) FO_PRINTF(4, 5);

static void fail(builder *b, int line, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = fo_vasprintf(fmt, ap);
	va_end(ap);
	fo_diag_add(b->diags, FO_SEV_ERROR, b->name, line, col, "%s", m);
	free(m);
}

static fo_yaml_node *node_new(enum fo_yaml_kind kind, int line, int col)
{
	fo_yaml_node *n = fo_calloc(1, sizeof(*n));
	n->kind = kind;
	n->line = line;
	n->col = col;
	return n;
}

void fo_yaml_node_free(fo_yaml_node *n)
{
	if (!n)
		return;
	size_t count = n->kind == FO_YAML_MAP ? 2 * n->n : n->n;
	for (size_t i = 0; i < count; i++)
		fo_yaml_node_free(n->items[i]);
	free(n->items);
	free(n->str);
	free(n->tag);
	free(n);
}

static void node_append(fo_yaml_node *parent, fo_yaml_node *child)
{
	size_t count = parent->kind == FO_YAML_MAP ? 2 * parent->n + 1 : parent->n;
	parent->items = fo_grow(parent->items, &parent->cap, count + 1, sizeof(*parent->items));
	parent->items[count] = child;
	if (parent->kind == FO_YAML_SEQ)
		parent->n++;
}

/* Deep copy under the alias budget; NULL when the budget is exceeded. */
static fo_yaml_node *node_copy(builder *b, const fo_yaml_node *src)
{
	if (++b->alias_nodes > b->lim.max_alias_nodes || ++b->nodes > b->lim.max_nodes)
		return NULL;
	/* Counting nodes alone lets one long string be copied 10,000 times (a
	 * 1 MiB file took 8 GB): copies may add no more bytes than the file may
	 * hold itself. */
	b->alias_bytes += src->len;
	if (b->alias_bytes > b->lim.max_bytes)
		return NULL;
	fo_yaml_node *n = node_new(src->kind, src->line, src->col);
	n->plain = src->plain;
	n->len = src->len;
	if (src->str) {
		n->str = fo_malloc(src->len + 1);
		memcpy(n->str, src->str, src->len + 1);
	}
	if (src->tag)
		n->tag = fo_strdup(src->tag);
	size_t count = src->kind == FO_YAML_MAP ? 2 * src->n : src->n;
	if (count) {
		n->items = fo_calloc(count, sizeof(*n->items));
		n->cap = count;
	}
	for (size_t i = 0; i < count; i++) {
		n->items[i] = node_copy(b, src->items[i]);
		if (!n->items[i]) {
			n->n = src->kind == FO_YAML_MAP ? i / 2 : i;
			/* free what was copied so far, including a dangling key */
			for (size_t j = 0; j < i; j++)
				fo_yaml_node_free(n->items[j]);
			free(n->items);
			n->items = NULL;
			n->n = 0;
			fo_yaml_node_free(n);
			return NULL;
		}
	}
	n->n = src->n;
	return n;
}

static uint64_t hash_str(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static bool key_eq(const fo_yaml_node *a, const fo_yaml_node *b)
{
	return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
}

static void index_insert(frame *f, size_t pos)
{
	fo_yaml_node *key = f->node->items[2 * pos];
	size_t mask = f->index_cap - 1;
	size_t i = hash_str(key->str, key->len) & mask;
	while (f->index[i])
		i = (i + 1) & mask;
	f->index[i] = pos + 1;
}

static void index_rebuild(frame *f)
{
	size_t want = 64;
	while (want < 2 * (f->node->n + 1))
		want *= 2;
	free(f->index);
	f->index = fo_calloc(want, sizeof(*f->index));
	f->index_cap = want;
	for (size_t p = 0; p < f->node->n; p++)
		index_insert(f, p);
}

/* Position of `key` among the mapping's keys, or -1. */
static long map_find(frame *f, const fo_yaml_node *key)
{
	fo_yaml_node *m = f->node;
	if (f->index) {
		size_t mask = f->index_cap - 1;
		size_t i = hash_str(key->str, key->len) & mask;
		while (f->index[i]) {
			size_t p = f->index[i] - 1;
			if (key_eq(m->items[2 * p], key))
				return (long)p;
			i = (i + 1) & mask;
		}
		return -1;
	}
	for (size_t p = 0; p < m->n; p++)
		if (key_eq(m->items[2 * p], key))
			return (long)p;
	return -1;
}

/* Append a complete key/value pair to the frame's mapping, keeping the index. */
static void map_add(frame *f, fo_yaml_node *key, fo_yaml_node *val)
{
	fo_yaml_node *m = f->node;
	m->items = fo_grow(m->items, &m->cap, 2 * m->n + 2, sizeof(*m->items));
	m->items[2 * m->n] = key;
	m->items[2 * m->n + 1] = val;
	m->n++;
	if (f->index) {
		if (2 * (m->n + 1) > f->index_cap)
			index_rebuild(f);
		else
			index_insert(f, m->n - 1);
	} else if (m->n > INDEX_THRESHOLD) {
		index_rebuild(f);
	}
}

static void bury(builder *b, fo_yaml_node *n)
{
	b->graveyard = fo_grow(b->graveyard, &b->grave_cap, b->ngrave + 1, sizeof(*b->graveyard));
	b->graveyard[b->ngrave++] = n;
}

/* Attach a finished node to its parent (or make it the document root). */
static int attach(builder *b, fo_yaml_node *n)
{
	if (b->depth == 0) {
		b->root = n;
		b->have_root = true;
		return 0;
	}
	frame *f = &b->stack[b->depth - 1];
	if (f->node->kind == FO_YAML_SEQ) {
		node_append(f->node, n);
		return 0;
	}
	if (!f->have_key) {
		if (n->kind != FO_YAML_SCALAR) {
			fail(b, n->line, n->col, "a mapping key must be a plain string, not a %s",
			     fo_yaml_kind_name(n));
			fo_yaml_node_free(n);
			return FO_EINVAL;
		}
		f->key_is_merge = n->plain && n->len == 2 && memcmp(n->str, "<<", 2) == 0;
		if (!f->key_is_merge) {
			long dup = map_find(f, n);
			if (dup >= 0) {
				fo_yaml_node *first = f->node->items[2 * dup];
				fail(b, n->line, n->col, "duplicate key \"%s\" (first at line %d, column %d)",
				     n->str, first->line, first->col);
				fo_yaml_node_free(n);
				return FO_EINVAL;
			}
		}
		/* the key waits in the items array's next slot until its value arrives */
		fo_yaml_node *m = f->node;
		m->items = fo_grow(m->items, &m->cap, 2 * m->n + 2, sizeof(*m->items));
		m->items[2 * m->n] = n;
		f->have_key = true;
		return 0;
	}
	fo_yaml_node *key = f->node->items[2 * f->node->n];
	f->have_key = false;
	if (f->key_is_merge) {
		/* the "<<" key may carry an anchor that a later alias copies, so it
		 * lives as long as the builder */
		bury(b, key);
		/* every source must be a mapping: apply_merges reads them as pairs */
		bool ok = n->kind == FO_YAML_MAP || n->kind == FO_YAML_SEQ;
		for (size_t i = 0; ok && n->kind == FO_YAML_SEQ && i < n->n; i++)
			ok = n->items[i]->kind == FO_YAML_MAP;
		if (!ok) {
			fail(b, n->line, n->col, "the merge key \"<<\" takes a mapping or a list of mappings");
			fo_yaml_node_free(n);
			return FO_EINVAL;
		}
		f->merges = fo_grow(f->merges, &f->capmerges, f->nmerges + 1, sizeof(*f->merges));
		f->merges[f->nmerges++] = n;
		bury(b, n);
		return 0;
	}
	map_add(f, key, n);
	return 0;
}

/* Apply `<<` merges: keys from sources fill in what the mapping lacks;
 * earlier sources win over later ones, explicit keys over all. */
static int apply_merges(builder *b, frame *f)
{
	for (size_t s = 0; s < f->nmerges; s++) {
		fo_yaml_node *src = f->merges[s];
		size_t nsrc = src->kind == FO_YAML_MAP ? 1 : src->n;
		for (size_t k = 0; k < nsrc; k++) {
			fo_yaml_node *m = src->kind == FO_YAML_MAP ? src : src->items[k];
			for (size_t p = 0; p < m->n; p++) {
				if (map_find(f, m->items[2 * p]) >= 0)
					continue;
				fo_yaml_node *key = node_copy(b, m->items[2 * p]);
				fo_yaml_node *val = key ? node_copy(b, m->items[2 * p + 1]) : NULL;
				if (!val) {
					fo_yaml_node_free(key);
					fail(b, m->line, m->col,
					     "merging this mapping exceeds the limit of %zu copied nodes or %zu copied bytes",
					     b->lim.max_alias_nodes, b->lim.max_bytes);
					return FO_ETOOBIG;
				}
				map_add(f, key, val);
			}
		}
	}
	return 0;
}

static void frame_release(frame *f)
{
	free(f->merges);
	free(f->index);
	memset(f, 0, sizeof(*f));
}

static int register_anchor(builder *b, const yaml_char_t *name, fo_yaml_node *n, bool complete)
{
	if (!name)
		return -1;
	b->anchors = fo_grow(b->anchors, &b->anchors_cap, b->nanchors + 1, sizeof(*b->anchors));
	anchor *a = &b->anchors[b->nanchors];
	a->name = fo_strdup((const char *)name);
	a->node = n;
	a->complete = complete;
	return (int)b->nanchors++;
}

static void clear_anchors(builder *b)
{
	for (size_t i = 0; i < b->nanchors; i++)
		free(b->anchors[i].name);
	b->nanchors = 0;
}

static int push(builder *b, enum fo_yaml_kind kind, const yaml_event_t *ev,
		const yaml_char_t *anchor_name, const yaml_char_t *tag)
{
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
	if (b->depth >= b->lim.max_depth) {
		fail(b, line, col, "nesting deeper than %zu levels", b->lim.max_depth);
		return FO_ETOOBIG;
	}
	if (++b->nodes > b->lim.max_nodes) {
		fail(b, line, col, "more than %zu nodes in one file", b->lim.max_nodes);
		return FO_ETOOBIG;
	}
	fo_yaml_node *n = node_new(kind, line, col);
	if (tag)
		n->tag = fo_strdup((const char *)tag);
	b->stack = fo_grow(b->stack, &b->stack_cap, b->depth + 1, sizeof(*b->stack));
	frame *f = &b->stack[b->depth++];
	memset(f, 0, sizeof(*f));
	f->node = n;
	f->anchor = register_anchor(b, anchor_name, n, false);
	return 0;
}

static int pop(builder *b)
{
	frame *f = &b->stack[b->depth - 1];
	int rc = 0;
	if (f->node->kind == FO_YAML_MAP)
		rc = apply_merges(b, f);
	if (f->anchor >= 0)
		b->anchors[f->anchor].complete = true;
	fo_yaml_node *n = f->node;
	frame_release(f);
	b->depth--;
	if (rc < 0) {
		fo_yaml_node_free(n);
		return rc;
	}
	return attach(b, n);
}

static int on_scalar(builder *b, const yaml_event_t *ev)
{
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
	if (++b->nodes > b->lim.max_nodes) {
		fail(b, line, col, "more than %zu nodes in one file", b->lim.max_nodes);
		return FO_ETOOBIG;
	}
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	if (memchr(v, '\0', len)) {
		fail(b, line, col, "a string holds a NUL character");
		return FO_EINVAL;
	}
	fo_yaml_node *n = node_new(FO_YAML_SCALAR, line, col);
	n->str = fo_strndup(v, len);
	n->len = len;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;
	if (ev->data.scalar.tag)
		n->tag = fo_strdup((const char *)ev->data.scalar.tag);
	register_anchor(b, ev->data.scalar.anchor, n, true);
	return attach(b, n);
}

static int on_alias(builder *b, const yaml_event_t *ev)
{
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
	const char *name = (const char *)ev->data.alias.anchor;
	for (size_t i = b->nanchors; i-- > 0;) {
		anchor *a = &b->anchors[i];
		if (strcmp(a->name, name) != 0)
			continue;
		if (!a->complete) {
			fail(b, line, col, "alias *%s refers to a node that contains it", name);
			return FO_EINVAL;
		}
		fo_yaml_node *n = node_copy(b, a->node);
		if (!n) {
			fail(b, line, col,
			     "alias *%s expands past the limit of %zu copied nodes or %zu copied bytes (an alias bomb?)",
			     name, b->lim.max_alias_nodes, b->lim.max_bytes);
			return FO_ETOOBIG;
		}
		n->line = line;
		n->col = col;
		return attach(b, n);
	}
	fail(b, line, col, "unknown alias *%s", name);
	return FO_EINVAL;
}

/* Line and column of a byte offset, for reader errors that carry no mark. */
static void offset_position(const char *data, size_t len, size_t off, int *line, int *col)
{
	int l = 1, c = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (data[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)data[i] & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

static void parser_failure(builder *b, yaml_parser_t *p)
{
	int line, col;
	const char *problem = p->problem ? p->problem : "malformed YAML";
	if (p->error == YAML_READER_ERROR) {
		offset_position(b->data, b->len, p->problem_offset, &line, &col);
		if (strstr(problem, "UTF-8") || strstr(problem, "utf-8"))
			fail(b, line, col, "%s (byte 0x%02x): the file must be UTF-8 text", problem,
			     (unsigned)p->problem_value & 0xff);
		else
			fail(b, line, col, "%s: the file must be YAML text", problem);
		return;
	}
	line = (int)p->problem_mark.line + 1;
	col = (int)p->problem_mark.column + 1;
	size_t off = p->problem_mark.index;
	if (off < b->len && b->data[off] == '\t') {
		fail(b, line, col, "a tab character where YAML needs spaces: indent with spaces");
		return;
	}
	if (p->context)
		fail(b, line, col, "%s %s (at line %d, column %d)", p->context, problem,
		     (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
	else
		fail(b, line, col, "%s", problem);
}

static void builder_reset_doc(builder *b)
{
	while (b->depth > 0) {
		frame *f = &b->stack[--b->depth];
		if (f->have_key)
			fo_yaml_node_free(f->node->items[2 * f->node->n]);
		fo_yaml_node_free(f->node);
		frame_release(f);
	}
	if (b->have_root)
		fo_yaml_node_free(b->root);
	b->root = NULL;
	b->have_root = false;
	clear_anchors(b);
}

int fo_yaml_load(const char *name, const char *data, size_t len,
		 const fo_yaml_limits *lim, fo_yaml_file **out, fo_diags *d)
{
	builder b;
	memset(&b, 0, sizeof(b));
	b.name = name;
	b.data = data;
	b.len = len;
	b.diags = d;
	b.lim.max_bytes = lim && lim->max_bytes ? lim->max_bytes : DEFAULT_MAX_BYTES;
	b.lim.max_depth = lim && lim->max_depth ? lim->max_depth : DEFAULT_MAX_DEPTH;
	b.lim.max_nodes = lim && lim->max_nodes ? lim->max_nodes : DEFAULT_MAX_NODES;
	b.lim.max_alias_nodes = lim && lim->max_alias_nodes ? lim->max_alias_nodes : DEFAULT_MAX_ALIAS_NODES;
	b.lim.max_docs = lim && lim->max_docs ? lim->max_docs : DEFAULT_MAX_DOCS;
	*out = NULL;

	if (len > b.lim.max_bytes) {
		fail(&b, 0, 0, "file is %zu bytes, over the limit of %zu bytes", len, b.lim.max_bytes);
		return FO_ETOOBIG;
	}

	b.file = fo_calloc(1, sizeof(*b.file));
	b.file->name = fo_strdup(name);
	/* all `len` bytes, NULs included: the offsets index this copy */
	b.file->text = fo_malloc(len + 1);
	if (len)
		memcpy(b.file->text, data, len);
	b.file->text[len] = '\0';
	b.file->len = len;

	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		fail(&b, 0, 0, "cannot initialise the YAML parser");
		fo_yaml_file_free(b.file);
		return FO_EINVAL;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	/* libyaml reads a leading byte order mark without counting it */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		b.pos_bytes = 3;

	int rc = 0;
	bool done = false;
	while (!done && rc == 0) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			parser_failure(&b, &p);
			rc = FO_EINVAL;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			b.doc_start = byte_at(&b, ev.start_mark.index);
			if (b.file->ndocs >= b.lim.max_docs) {
				fail(&b, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
				     "more than %zu documents in one file", b.lim.max_docs);
				rc = FO_ETOOBIG;
			}
			break;
		case YAML_DOCUMENT_END_EVENT: {
			size_t cap = b.docs_cap;
			b.file->docs = fo_grow(b.file->docs, &b.docs_cap, b.file->ndocs + 1, sizeof(*b.file->docs));
			if (b.docs_cap != cap) {
				b.file->doc_off = fo_realloc(b.file->doc_off, b.docs_cap * sizeof(*b.file->doc_off));
				b.file->doc_len = fo_realloc(b.file->doc_len, b.docs_cap * sizeof(*b.file->doc_len));
			}
			size_t end = byte_at(&b, ev.end_mark.index);
			b.file->doc_off[b.file->ndocs] = b.doc_start;
			b.file->doc_len[b.file->ndocs] = end >= b.doc_start ? end - b.doc_start : 0;
			b.file->docs[b.file->ndocs++] = b.root;
			b.root = NULL;
			b.have_root = false;
			clear_anchors(&b);
			break;
		}
		case YAML_MAPPING_START_EVENT:
			rc = push(&b, FO_YAML_MAP, &ev, ev.data.mapping_start.anchor, ev.data.mapping_start.tag);
			break;
		case YAML_SEQUENCE_START_EVENT:
			rc = push(&b, FO_YAML_SEQ, &ev, ev.data.sequence_start.anchor, ev.data.sequence_start.tag);
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			rc = pop(&b);
			break;
		case YAML_SCALAR_EVENT:
			rc = on_scalar(&b, &ev);
			break;
		case YAML_ALIAS_EVENT:
			rc = on_alias(&b, &ev);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);

	builder_reset_doc(&b);
	free(b.stack);
	free(b.anchors);
	for (size_t i = 0; i < b.ngrave; i++)
		fo_yaml_node_free(b.graveyard[i]);
	free(b.graveyard);
	if (rc < 0) {
		fo_yaml_file_free(b.file);
		return rc;
	}
	*out = b.file;
	return 0;
}

int fo_yaml_load_file(const char *path, const fo_yaml_limits *lim,
		      fo_yaml_file **out, fo_diags *d)
{
	size_t max = lim && lim->max_bytes ? lim->max_bytes : DEFAULT_MAX_BYTES;
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fo_diag_add(d, FO_SEV_ERROR, path, 0, 0, "cannot open: %s", strerror(errno));
		return FO_EIO;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size > max) {
		fo_diag_add(d, FO_SEV_ERROR, path, 0, 0, "file is %lld bytes, over the limit of %zu bytes",
			    (long long)st.st_size, max);
		close(fd);
		return FO_ETOOBIG;
	}
	/* Read at most max+1 bytes: a file that grows while we read, or a pipe,
	 * is refused the same way without reading it all. */
	fo_buf data = FO_BUF_INIT;
	char chunk[65536];
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fo_diag_add(d, FO_SEV_ERROR, path, 0, 0, "cannot read: %s", strerror(errno));
			close(fd);
			fo_buf_free(&data);
			return FO_EIO;
		}
		if (r == 0)
			break;
		fo_buf_put(&data, chunk, (size_t)r);
		if (data.len > max) {
			fo_diag_add(d, FO_SEV_ERROR, path, 0, 0, "file is over the limit of %zu bytes", max);
			close(fd);
			fo_buf_free(&data);
			return FO_ETOOBIG;
		}
	}
	close(fd);
	int rc = fo_yaml_load(path, fo_buf_cstr(&data), data.len, lim, out, d);
	fo_buf_free(&data);
	return rc;
}

void fo_yaml_file_free(fo_yaml_file *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->ndocs; i++)
		fo_yaml_node_free(f->docs[i]);
	free(f->docs);
	free(f->doc_off);
	free(f->doc_len);
	free(f->text);
	free(f->name);
	free(f);
}

/* Position of `key` among the pairs of `map`, or -1. */
static long pair_index(const fo_yaml_node *map, const char *key)
{
	if (!map || map->kind != FO_YAML_MAP)
		return -1;
	size_t klen = strlen(key);
	for (size_t i = 0; i < map->n; i++) {
		const fo_yaml_node *k = map->items[2 * i];
		if (k->len == klen && memcmp(k->str, key, klen) == 0)
			return (long)i;
	}
	return -1;
}

fo_yaml_node *fo_yaml_get_key(const fo_yaml_node *map, const char *key)
{
	long i = pair_index(map, key);
	return i < 0 ? NULL : map->items[2 * i];
}

fo_yaml_node *fo_yaml_get(const fo_yaml_node *map, const char *key)
{
	long i = pair_index(map, key);
	return i < 0 ? NULL : map->items[2 * i + 1];
}

static bool tag_is(const fo_yaml_node *n, const char *t)
{
	return n->tag && (strcmp(n->tag, t) == 0);
}

bool fo_yaml_is_null(const fo_yaml_node *n)
{
	if (!n)
		return true;
	if (n->kind != FO_YAML_SCALAR)
		return false;
	if (tag_is(n, "tag:yaml.org,2002:null"))
		return true;
	if (!n->plain)
		return false;
	return n->len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
	       strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0;
}

bool fo_yaml_as_bool(const fo_yaml_node *n, bool *out)
{
	if (!n || n->kind != FO_YAML_SCALAR || (!n->plain && !tag_is(n, "tag:yaml.org,2002:bool")))
		return false;
	static const char *yes[] = {"true", "True", "TRUE"};
	static const char *no[] = {"false", "False", "FALSE"};
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(n->str, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcmp(n->str, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

bool fo_yaml_as_int(const fo_yaml_node *n, int64_t *out)
{
	if (!n || n->kind != FO_YAML_SCALAR || (!n->plain && !tag_is(n, "tag:yaml.org,2002:int")))
		return false;
	const char *s = n->str;
	if (*s == '+' || *s == '-')
		s++;
	if (!*s)
		return false;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	errno = 0;
	char *end;
	long long v = strtoll(n->str, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

bool fo_yaml_as_number(const fo_yaml_node *n, double *out)
{
	int64_t i;
	if (fo_yaml_as_int(n, &i)) {
		*out = (double)i;
		return true;
	}
	if (!n || n->kind != FO_YAML_SCALAR || (!n->plain && !tag_is(n, "tag:yaml.org,2002:float")))
		return false;
	const char *s = n->str;
	/* YAML 1.2 core float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	bool digits = false;
	while (*p >= '0' && *p <= '9') {
		p++;
		digits = true;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			digits = true;
		}
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p)
		return false;
	char *end;
	double v = strtod(s, &end);
	if (*end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

const char *fo_yaml_kind_name(const fo_yaml_node *n)
{
	if (!n || fo_yaml_is_null(n))
		return "null";
	switch (n->kind) {
	case FO_YAML_MAP: return "mapping";
	case FO_YAML_SEQ: return "list";
	default: break;
	}
	bool bv;
	double dv;
	if (fo_yaml_as_bool(n, &bv))
		return "boolean";
	if (fo_yaml_as_number(n, &dv))
		return "number";
	return "string";
}

/*
 * An integer scalar that a double cannot hold exactly (beyond 2^53, or
 * beyond int64 altogether), as the text of a JSON number: no "+", no
 * leading zeros. It becomes a raw cJSON item, which our JSON and YAML
 * writers and the content hash print as this text, so that such a number
 * (a podTemplate field, say) reaches the API server exactly as written.
 * NULL for anything else, which a double holds (or which is no integer).
 */
static char *exact_integer_text(const fo_yaml_node *n)
{
	if (n->kind != FO_YAML_SCALAR || (!n->plain && !tag_is(n, "tag:yaml.org,2002:int")))
		return NULL;
	const char *s = n->str, *d = s;
	if (*d == '+' || *d == '-')
		d++;
	if (!*d || strspn(d, "0123456789") != strlen(d))
		return NULL;
	errno = 0;
	long long v = strtoll(s, NULL, 10);
	if (errno == 0 && v >= -9007199254740992LL && v <= 9007199254740992LL)
		return NULL;
	while (d[0] == '0' && d[1])
		d++;
	return fo_asprintf("%s%s", s[0] == '-' && strcmp(d, "0") != 0 ? "-" : "", d);
}

cJSON *fo_yaml_to_json(const fo_yaml_node *n)
{
	if (!n || fo_yaml_is_null(n))
		return cJSON_CreateNull();
	if (n->kind == FO_YAML_MAP) {
		cJSON *o = cJSON_CreateObject();
		for (size_t i = 0; i < n->n; i++)
			cJSON_AddItemToObject(o, n->items[2 * i]->str, fo_yaml_to_json(n->items[2 * i + 1]));
		return o;
	}
	if (n->kind == FO_YAML_SEQ) {
		cJSON *a = cJSON_CreateArray();
		for (size_t i = 0; i < n->n; i++)
			cJSON_AddItemToArray(a, fo_yaml_to_json(n->items[i]));
		return a;
	}
	bool bv;
	double dv;
	if (fo_yaml_as_bool(n, &bv))
		return cJSON_CreateBool(bv);
	char *exact = exact_integer_text(n);
	if (exact) {
		cJSON *raw = cJSON_CreateRaw(exact);
		free(exact);
		return raw;
	}
	if (fo_yaml_as_number(n, &dv))
		return cJSON_CreateNumber(dv);
	return cJSON_CreateString(n->str);
}

/* ---- writing ---------------------------------------------------------- */

static bool looks_like_other_type(const char *s)
{
	/* Everything a YAML 1.1 or 1.2 reader (go-yaml v2 in kubectl, PyYAML,
	 * libyaml users) could turn into a bool, null or number. */
	static const char *words[] = {"~", "null", "Null", "NULL", "true", "True", "TRUE", "false",
				      "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO",
				      "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N",
				      ".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", "+.inf",
				      "+.Inf", "+.INF", ".nan", ".NaN", ".NAN", "<<", "="};
	/* every word starts with one of these; most strings are done here */
	if (strchr("~nNtTfFyYoO.+-<=", s[0]) && strlen(s) <= 5)
		for (size_t i = 0; i < FO_ARRAY_LEN(words); i++)
			if (strcmp(s, words[i]) == 0)
				return true;
	/* anything that starts like a number: digits, sign, dot */
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	bool dot = *p == '.';
	if (dot) /* "+.10" and "-.5" are numbers too */
		p++;
	/* PyYAML takes "._5" for a float (\.[0-9_]+) and then fails on it */
	if ((*p >= '0' && *p <= '9') || (dot && p == s + 1 && *p == '_')) {
		/* numbers, octal, hex, binary, sexagesimal (1:30), dates and
		 * times (with T or t, Z or z, as go-yaml and PyYAML read them):
		 * quote them all unless there is a letter that makes it clearly
		 * a word */
		for (const char *q = s; *q; q++) {
			char c = *q;
			bool numeric = (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
				       c == '-' || c == '+' || c == 'e' || c == 'E' || c == 'x' ||
				       c == 'X' || c == 'o' || c == 'O' || (c >= 'a' && c <= 'f') ||
				       (c >= 'A' && c <= 'F') || c == 'T' || c == 't' || c == 'Z' ||
				       c == 'z' || c == ' ';
			if (!numeric)
				return false;
		}
		return true;
	}
	return false;
}

/*
 * Decode the character at `p` (a NUL-terminated string): its code point in
 * *cp and its length in bytes. *safe says whether YAML can hold it as it is
 * in any scalar. It cannot hold control characters, the byte order mark,
 * U+FFFE and U+FFFF (a reader refuses the file), nor NEL, U+2028 and U+2029,
 * which YAML 1.1 reads as line breaks; a byte that is not UTF-8 comes back
 * as U+FFFD, the one thing a YAML file can say instead.
 */
static size_t utf8_char(const unsigned char *p, uint32_t *cp, bool *safe)
{
	size_t n = fo_utf8_decode((const char *)p, cp);
	if (n == 0) {
		*safe = false;
		return 1;
	}
	*safe = *cp != '\t' && *cp != '\n' && fo_utf8_plain_char(*cp);
	return n;
}

bool fo_yaml_plain_safe(const char *s)
{
	if (!*s)
		return false;
	/* "..." and "---" at the start of a line end or start a document */
	if (strncmp(s, "...", 3) == 0)
		return false;
	if (strchr("-?:,[]{}#&*!|>'\"%@` \t", s[0]))
		/* a leading "-" is fine when followed by a non-space, as in "-Xmx" */
		if (!(s[0] == '-' && s[1] && s[1] != ' ' && !(s[1] == '-' && s[2] == '-')))
			return false;
	const unsigned char *p = (const unsigned char *)s;
	for (; *p; p++) {
		unsigned char c = *p;
		/* the common case first: letters, digits and harmless punctuation */
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '/' || c == '-' || c == '_')
			continue;
		if (c >= 0x80) {
			uint32_t cp;
			bool safe;
			p += utf8_char(p, &cp, &safe) - 1;
			if (!safe)
				return false;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c == ':' && (p[1] == ' ' || p[1] == '\0'))
			return false;
		if (c == '#' && p > (const unsigned char *)s && p[-1] == ' ')
			return false;
		if (c == ',' || c == '[' || c == ']' || c == '{' || c == '}')
			return false; /* flow indicators: safe in block context, but keep it simple */
	}
	if (p[-1] == ' ')
		return false;
	return !looks_like_other_type(s);
}

static void emit_double_quoted(fo_buf *b, const char *s)
{
	fo_buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		uint32_t cp;
		bool safe;
		size_t n = utf8_char(p, &cp, &safe);
		if (*p == '"')
			fo_buf_puts(b, "\\\"");
		else if (*p == '\\')
			fo_buf_puts(b, "\\\\");
		else if (safe)
			fo_buf_put(b, p, n);
		else if (cp == '\n')
			fo_buf_puts(b, "\\n");
		else if (cp == '\t')
			fo_buf_puts(b, "\\t");
		else if (cp == '\r')
			fo_buf_puts(b, "\\r");
		else
			fo_buf_printf(b, cp < 0x100 ? "\\x%02x" : "\\u%04x", (unsigned)cp);
		p += n;
	}
	fo_buf_putc(b, '"');
}

/* A multi-line string is written as a literal block when that reads back
 * exactly: no trailing spaces on a line, no leading space on the first line,
 * no character that utf8_char() says needs escaping. */
static bool literal_ok(const char *s)
{
	if (!strchr(s, '\n') || s[0] == ' ' || s[0] == '\n')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		uint32_t cp;
		bool safe;
		size_t n = utf8_char(p, &cp, &safe);
		if (!safe && cp != '\n')
			return false;
		if (*p == ' ' && (p[1] == '\n' || p[1] == '\0'))
			return false;
		p += n;
	}
	size_t len = strlen(s);
	/* more than one trailing newline needs "|+"; keep to | and |- */
	if (len >= 2 && s[len - 1] == '\n' && s[len - 2] == '\n')
		return false;
	return true;
}

static void indent(fo_buf *b, int n)
{
	static const char spaces[] = "                                ";
	while (n > 0) {
		int k = n < (int)sizeof(spaces) - 1 ? n : (int)sizeof(spaces) - 1;
		fo_buf_put(b, spaces, (size_t)k);
		n -= k;
	}
}

static void emit_string(fo_buf *b, const char *s, int ind)
{
	if (literal_ok(s)) {
		size_t len = strlen(s);
		fo_buf_puts(b, s[len - 1] == '\n' ? "|\n" : "|-\n");
		const char *line = s;
		while (*line) {
			const char *nl = strchr(line, '\n');
			size_t l = nl ? (size_t)(nl - line) : strlen(line);
			if (l) {
				indent(b, ind);
				fo_buf_put(b, line, l);
			}
			fo_buf_putc(b, '\n');
			if (!nl)
				break;
			line = nl + 1;
		}
		return;
	}
	if (fo_yaml_plain_safe(s))
		fo_buf_puts(b, s);
	else
		emit_double_quoted(b, s);
	fo_buf_putc(b, '\n');
}

/*
 * Write "key:". libyaml reads at most 1024 characters of an implicit key,
 * so a longer one is written as an explicit key, "? key" and ":" on the next
 * line at indentation `ind`. Returns whether it was explicit.
 */
static bool emit_key(fo_buf *b, const char *k, int ind)
{
	size_t start = b->len;
	if (fo_yaml_plain_safe(k))
		fo_buf_puts(b, k);
	else
		emit_double_quoted(b, k);
	bool explicit = b->len - start > 1000; /* bytes: never fewer than characters */
	if (explicit) {
		char *key = fo_strdup(b->ptr + start);
		b->len = start;
		b->ptr[start] = '\0';
		fo_buf_puts(b, "? ");
		fo_buf_puts(b, key);
		fo_buf_putc(b, '\n');
		indent(b, ind);
		free(key);
	}
	fo_buf_putc(b, ':');
	return explicit;
}

static bool is_empty_container(const cJSON *v)
{
	return (cJSON_IsObject(v) || cJSON_IsArray(v)) && v->child == NULL;
}

static void emit_value(fo_buf *b, const cJSON *v, int ind, bool positioned);

/* Write a scalar or empty container after "key:" or "- ". */
static void emit_inline(fo_buf *b, const cJSON *v, int ind)
{
	if (cJSON_IsObject(v))
		fo_buf_puts(b, "{}\n");
	else if (cJSON_IsArray(v))
		fo_buf_puts(b, "[]\n");
	else if (cJSON_IsString(v))
		emit_string(b, v->valuestring, ind);
	else if (cJSON_IsNumber(v)) {
		fo_buf_put_number(b, v->valuedouble);
		fo_buf_putc(b, '\n');
	} else if (cJSON_IsRaw(v)) {
		/* an exact integer (see fo_yaml_to_json) */
		fo_buf_puts(b, v->valuestring);
		fo_buf_putc(b, '\n');
	} else if (cJSON_IsBool(v))
		fo_buf_puts(b, cJSON_IsTrue(v) ? "true\n" : "false\n");
	else
		fo_buf_puts(b, "null\n");
}

/* Write `v` at indentation `ind`. When `positioned`, the cursor already sits
 * where the first line's content starts (just after "- "). */
static void emit_value(fo_buf *b, const cJSON *v, int ind, bool positioned)
{
	if (cJSON_IsObject(v) && v->child) {
		for (const cJSON *c = v->child; c; c = c->next) {
			if (!(positioned && c == v->child))
				indent(b, ind);
			bool explicit = emit_key(b, c->string, ind);
			if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && !is_empty_container(c)) {
				fo_buf_putc(b, '\n');
				emit_value(b, c, cJSON_IsArray(c) && !explicit ? ind : ind + 2, false);
			} else {
				fo_buf_putc(b, ' ');
				emit_inline(b, c, ind + 2);
			}
		}
	} else if (cJSON_IsArray(v) && v->child) {
		for (const cJSON *c = v->child; c; c = c->next) {
			if (!(positioned && c == v->child))
				indent(b, ind);
			fo_buf_puts(b, "- ");
			if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && c->child)
				emit_value(b, c, ind + 2, true);
			else
				emit_inline(b, c, ind + 2);
		}
	} else {
		if (!positioned)
			indent(b, ind);
		emit_inline(b, v, ind + 2);
	}
}

void fo_yaml_emit(fo_buf *b, const cJSON *v)
{
	emit_value(b, v, 0, false);
}
