/*
 * A YAML tree that remembers where every node came from. Every input that
 * flinkops reads (FlinkDeployments, its own configuration, status files) is
 * untrusted, so loading is bounded: file size, nesting depth, node count and
 * alias expansion all have limits, and duplicate mapping keys are errors
 * rather than "last one wins". Errors come back as `file:line:col: message`
 * diagnostics. The same module writes YAML back out from cJSON values,
 * deterministically, for rendered objects and status files.
 */
#ifndef FO_YAML_H
#define FO_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "lib/buf.h"
#include "lib/err.h"

enum fo_yaml_kind { FO_YAML_SCALAR, FO_YAML_MAP, FO_YAML_SEQ };

typedef struct fo_yaml_node fo_yaml_node;

struct fo_yaml_node {
	enum fo_yaml_kind kind;
	int line, col;        /* 1-based position of the node's first character */
	char *tag;            /* explicit tag (e.g. "tag:yaml.org,2002:str"), or NULL */
	/* scalar */
	char *str;            /* NUL-terminated; may contain NULs only if len says so */
	size_t len;
	bool plain;           /* an unquoted, non-block scalar: subject to type resolution */
	/* map: items[2i] is a key, items[2i+1] its value; seq: items[i] */
	fo_yaml_node **items;
	size_t n;             /* number of entries (pairs for a map) */
	size_t cap;
};

typedef struct fo_yaml_limits {
	size_t max_bytes;        /* refuse larger inputs (default 1 MiB) */
	size_t max_depth;        /* nesting of maps and sequences (default 64) */
	size_t max_nodes;        /* nodes in one file, after alias expansion (default 1,000,000) */
	size_t max_alias_nodes;  /* nodes copied by alias expansion in one file (default 10,000);
				  * the bytes copied are bounded by max_bytes as well */
	size_t max_docs;         /* documents in one file (default 1,000) */
} fo_yaml_limits;

typedef struct fo_yaml_file {
	char *name;               /* as given, for messages */
	fo_yaml_node **docs;      /* one root per document; NULL root for an empty document */
	size_t ndocs;
	/* Where each document is in the input, in bytes: docs[i] was read
	 * from text[doc_off[i] .. doc_off[i] + doc_len[i]) (its "---" and
	 * "..." included), so that a document can be kept as written. */
	size_t *doc_off, *doc_len;
	char *text;               /* the input, NUL-terminated (a copy; freed with the file) */
	size_t len;
} fo_yaml_file;

/*
 * Parse `len` bytes named `name` into *out. On any error, nothing is stored in
 * *out, one diagnostic with the position is added to `d`, and a negative
 * FO_E* code is returned. `lim` may be NULL for the defaults.
 */
int fo_yaml_load(const char *name, const char *data, size_t len,
		 const fo_yaml_limits *lim, fo_yaml_file **out, fo_diags *d);
/* Read the file (refusing it past max_bytes before reading it all) and load it. */
int fo_yaml_load_file(const char *path, const fo_yaml_limits *lim,
		      fo_yaml_file **out, fo_diags *d);
void fo_yaml_file_free(fo_yaml_file *f);
void fo_yaml_node_free(fo_yaml_node *n);

/* Map lookup by key; NULL when absent or `map` is not a map. */
fo_yaml_node *fo_yaml_get(const fo_yaml_node *map, const char *key);
/* The key node of `key` in `map` (for positions), or NULL. */
fo_yaml_node *fo_yaml_get_key(const fo_yaml_node *map, const char *key);

/* Type resolution of scalars, following YAML 1.2's core schema as
 * Kubernetes reads it. Each returns false when the node is not of that type. */
bool fo_yaml_is_null(const fo_yaml_node *n);
bool fo_yaml_as_bool(const fo_yaml_node *n, bool *out);
bool fo_yaml_as_int(const fo_yaml_node *n, int64_t *out);
bool fo_yaml_as_number(const fo_yaml_node *n, double *out);
const char *fo_yaml_kind_name(const fo_yaml_node *n);

/* Convert a subtree to JSON values (plain scalars typed, quoted ones
 * strings). An integer a double cannot hold exactly (beyond 2^53) becomes a
 * raw item holding its digits, so that it is written back exactly. */
cJSON *fo_yaml_to_json(const fo_yaml_node *n);

/*
 * Write `v` as block-style YAML (two-space indent) to `b`. Strings are quoted
 * whenever a reader could take them for something else (`yes`, `1.10`, `~`,
 * `+.inf`, `2024-01-01t00:00:00z`, `...`); raw items (exact integers) are
 * written as their text. Object key order is kept, so equal input gives
 * equal bytes.
 */
void fo_yaml_emit(fo_buf *b, const cJSON *v);
/*
 * True when `s` can be written as a plain scalar, key or value, and read
 * back as the same string by YAML 1.2 (the core schema) and YAML 1.1 readers
 * (PyYAML's resolver, go-yaml's as kubectl uses it, Flink's config.yaml
 * reader) alike: false for anything one of them takes for a null, bool,
 * number, timestamp, merge or value key, and for what is structural (an
 * indicator first, ": " or " #" inside, "---" or "..." first, a character
 * a reader refuses or reads as a line break). The one predicate every YAML
 * writer of ours asks.
 */
bool fo_yaml_plain_safe(const char *s);

#endif
