/*
 * The fields of every kind flinkops reads, and the configuration keys it
 * reads, sets or refuses, as one table each: for each its type, default,
 * what flinkops does with it and how that differs from the upstream Flink
 * Kubernetes Operator. The validator (model.c, plain.c) takes the fields
 * a mapping may hold from this table, so that `flinkops explain` (fields.c
 * answers it) knows every field the validator accepts. Pure: no I/O.
 */
#ifndef FLINK_FIELDS_H
#define FLINK_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "lib/err.h"

enum {
	/* anything below it is accepted: a map of the user's own keys
	 * (labels, log files) or a part passed through (a pod spec) */
	FLINK_FIELD_OPEN = 1,
	/* set by the API server: accepted, ignored, named in a warning */
	FLINK_FIELD_SERVER_SET = 2,
	/* a list of mappings: its children are the fields of each item */
	FLINK_FIELD_LIST = 4,
	/* a map of configuration keys (flinkConfiguration) */
	FLINK_FIELD_CONF = 8,
	/* a blue/green resource's spec.configuration (flink_bluegreen_settings) */
	FLINK_FIELD_BG_CONF = 16,
};

/* One field of one kind. */
typedef struct flink_field {
	const char *kind;     /* FLINK_KIND, FLINK_KIND_SESSION_JOB, ..., FLINK_PLAIN_ROLE */
	const char *path;     /* dotted from the document: "spec.job.upgradeMode"; "" the document itself */
	const char *type;     /* what it holds, in words */
	const char *def;      /* its default, in words ("required", "none") */
	const char *what;     /* what flinkops does with it */
	const char *upstream; /* how that differs from the upstream operator, or "as upstream" */
	/* its fields are those of as_path of as_kind (NULL: the same kind);
	 * an entry of its own below it still wins */
	const char *as_kind, *as_path;
	unsigned flags;       /* FLINK_FIELD_* */
} flink_field;

/* The whole table, *n entries. */
const flink_field *flink_fields(size_t *n);
/* The last segment of `f`'s path ("upgradeMode"; "" for a document). */
const char *flink_field_name(const flink_field *f);
/*
 * The entry of `path` (dotted; "[...]" after a segment is ignored, so
 * "spec.ingress.tls[0].hosts" is "spec.ingress.tls.hosts") of `kind`, its
 * own or through an as_path above it; NULL when the table has none.
 */
const flink_field *flink_field_find(const char *kind, const char *path);
/*
 * The fields a mapping at `path` (NULL or "": the document) of `kind`
 * may hold, in the table's order, which is the order the validator names
 * them in. A heap array of *n pointers (caller frees the array), NULL
 * when there are none. Aborts when the table has no entry at `path`: a
 * validator asking about a mapping the table does not describe is a bug
 * found by the first test that reaches it.
 */
const flink_field **flink_field_children(const char *kind, const char *path, size_t *n);
/*
 * The validator's answer to an unknown field `key` among `fields`: the
 * nearest name (fewer than 3 edits; the first of equals) or NULL, and with
 * NULL the list of every name ("a, b, c"; caller frees) in *known.
 */
const char *flink_field_suggest(const flink_field *const *fields, size_t n, const char *key, char **known);

/* flinkConfiguration keys flinkops sets itself, or reads. */
enum {
	FLINK_CONF_SET = 1,     /* flinkops sets it: refused unless `same` is written */
	FLINK_CONF_REFUSED = 2, /* refused: another field says it */
	FLINK_CONF_DEFAULT = 4, /* flinkops writes a value unless flinkConfiguration gives one */
	FLINK_CONF_PREFIX = 8,  /* `key` is a prefix ("jobmanager.memory.") */
};

typedef struct flink_conf_key {
	const char *key;
	const char *def;
	const char *what;
	const char *upstream;
	unsigned flags;    /* FLINK_CONF_* */
	const char *same;  /* FLINK_CONF_SET: the value flinkops sets, accepted as written; NULL: none is */
} flink_conf_key;

/* The Flink keys flinkops sets, refuses or reads in a flinkConfiguration, *n. */
const flink_conf_key *flink_conf_keys(size_t *n);

/* A blue/green resource's spec.configuration key: upstream's and flinkops' own. */
typedef struct flink_bluegreen_setting {
	const char *key;
	int64_t def_ms;   /* its default, in milliseconds */
	size_t off;       /* of its int64_t milliseconds in flink_bluegreen */
	const char *def;
	const char *what;
	const char *upstream;
} flink_bluegreen_setting;

/* Every key a blue/green spec.configuration may hold, *n. */
const flink_bluegreen_setting *flink_bluegreen_settings(size_t *n);

/* One key of the upstream operator (opkeys.c). */
typedef struct flink_opkey {
	const char *key;  /* after "kubernetes.operator." */
	const char *note; /* NULL: flinkops honours it (see flink_conf_keys); else what it does instead */
} flink_opkey;

/* The upstream operator's kubernetes.operator.* keys, *n (opkeys.c). */
const flink_opkey *flink_operator_keys(size_t *n);

/* The kinds flinkops reads, in the order explain lists them, *n. */
const char *const *flink_explain_kinds(size_t *n);

/*
 * `flinkops explain QUERY`: QUERY is a field path, optionally after a kind
 * ("FlinkSessionJob.spec.job"; FlinkDeployment when none and the path is
 * one of its, else the first kind that has it), a configuration key
 * ("flinkConfiguration.KEY", "spec.flinkConfiguration.KEY", a blue/green
 * "spec.configuration.KEY", or a key flinkops knows by itself), or NULL or
 * "" for the list of kinds. 0 with *out (caller deletes) the answer:
 * kind, path, type, default, flinkops, upstream, the kinds that have the
 * path, and a mapping's fields; or FO_EINVAL with the reason in `e` (an
 * unknown field with the validator's "did you mean").
 */
int flink_explain(const char *query, cJSON **out, fo_err *e);

#endif
