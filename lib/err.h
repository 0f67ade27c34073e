/*
 * Errors and diagnostics. Functions return 0 or a negative FO_E* code and
 * fill a caller-owned fo_err with one message that says where and what to do.
 * Where one input can hold many problems (a FlinkDeployment file), they are
 * collected as positioned diagnostics instead, so that `validate` prints all
 * of them at once.
 */
#ifndef FO_ERR_H
#define FO_ERR_H

#include <stddef.h>

#include "lib/util.h"

enum {
	FO_OK = 0,
	FO_EINVAL = -1,     /* the input is wrong; the message says where */
	FO_EIO = -2,        /* reading or writing a local file failed */
	FO_ENOTFOUND = -3,
	FO_ETOOBIG = -4,    /* a size, count or depth limit was reached */
	FO_ENET = -5,       /* a server could not be reached */
	FO_EAUTH = -6,      /* 401, bad credentials */
	FO_EFORBIDDEN = -7, /* 403 */
	FO_ECONFLICT = -8,  /* 409, a non-fast-forward push, ... */
	FO_ETIMEOUT = -9,
	FO_ESERVER = -10,   /* a server answered with an error */
	FO_EUNSUPPORTED = -11,
	FO_EREFUSED = -12,  /* a safety guard refused to act */
	FO_EFENCED = -13,   /* not the leader: the write fence refused a request */
	FO_ESTOPPED = -14,  /* the stop request (SIGTERM) interrupted a transfer or a wait */
};

typedef struct fo_err {
	int code;
	char *msg; /* NULL when no error is set */
} fo_err;

#define FO_ERR_INIT {0, NULL}

/* Set the error (replacing any previous one) and return `code`. */
int fo_err_set(fo_err *e, int code, const char *fmt, ...) FO_PRINTF(3, 4);
/* Put "context: " in front of the current message; returns e->code. */
int fo_err_prefix(fo_err *e, const char *fmt, ...) FO_PRINTF(2, 3);
/* The message, or "unknown error" when none is set. */
const char *fo_err_msg(const fo_err *e);
void fo_err_clear(fo_err *e);
const char *fo_err_code_name(int code);

enum fo_severity { FO_SEV_ERROR, FO_SEV_WARNING };

typedef struct fo_diag {
	enum fo_severity sev;
	char *file;
	int line; /* 1-based; 0 when the problem concerns the whole file */
	int col;
	char *msg;
} fo_diag;

typedef struct fo_diags {
	fo_diag *v;
	size_t n, cap;
	size_t nerrors;
	size_t limit; /* stop recording past this many (0: 100) */
} fo_diags;

#define FO_DIAGS_INIT {NULL, 0, 0, 0, 0}

void fo_diag_add(fo_diags *d, enum fo_severity sev, const char *file, int line,
		 int col, const char *fmt, ...) FO_PRINTF(6, 7);
/* "file:line:col: message" (or "file: message" without a position);
 * warnings get "warning: " before the message. Caller frees. */
char *fo_diag_format(const fo_diag *d);
void fo_diags_free(fo_diags *d);

#endif
