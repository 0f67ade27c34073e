/*
 * Error objects and positioned diagnostics. See err.h.
 */
#include "lib/err.h"

#include <stdlib.h>

#include "lib/buf.h"

int fo_err_set(fo_err *e, int code, const char *fmt, ...)
{
	if (!e)
		return code;
	va_list ap;
	va_start(ap, fmt);
	char *m = fo_vasprintf(fmt, ap);
	va_end(ap);
	free(e->msg);
	e->msg = m;
	e->code = code;
	return code;
}

int fo_err_prefix(fo_err *e, const char *fmt, ...)
{
	if (!e)
		return FO_EINVAL;
	va_list ap;
	va_start(ap, fmt);
	char *p = fo_vasprintf(fmt, ap);
	va_end(ap);
	char *m = fo_asprintf("%s: %s", p, fo_err_msg(e));
	free(p);
	free(e->msg);
	e->msg = m;
	if (e->code == 0)
		e->code = FO_EINVAL;
	return e->code;
}

const char *fo_err_msg(const fo_err *e)
{
	return e && e->msg ? e->msg : "unknown error";
}

void fo_err_clear(fo_err *e)
{
	if (!e)
		return;
	free(e->msg);
	e->msg = NULL;
	e->code = 0;
}

const char *fo_err_code_name(int code)
{
	switch (code) {
	case FO_OK: return "ok";
	case FO_EINVAL: return "invalid";
	case FO_EIO: return "io";
	case FO_ENOTFOUND: return "not found";
	case FO_ETOOBIG: return "too big";
	case FO_ENET: return "network";
	case FO_EAUTH: return "unauthorized";
	case FO_EFORBIDDEN: return "forbidden";
	case FO_ECONFLICT: return "conflict";
	case FO_ETIMEOUT: return "timeout";
	case FO_ESERVER: return "server error";
	case FO_EUNSUPPORTED: return "unsupported";
	case FO_EREFUSED: return "refused";
	case FO_EFENCED: return "fenced";
	case FO_ESTOPPED: return "stopped";
	default: return "error";
	}
}

void fo_diag_add(fo_diags *d, enum fo_severity sev, const char *file, int line,
		 int col, const char *fmt, ...)
{
	size_t limit = d->limit ? d->limit : 100;
	if (sev == FO_SEV_ERROR)
		d->nerrors++;
	if (d->n >= limit)
		return;
	d->v = fo_grow(d->v, &d->cap, d->n + 1, sizeof(*d->v));
	fo_diag *x = &d->v[d->n++];
	va_list ap;
	va_start(ap, fmt);
	x->msg = fo_vasprintf(fmt, ap);
	va_end(ap);
	x->sev = sev;
	x->file = fo_strdup(file ? file : "<input>");
	x->line = line;
	x->col = col;
}

char *fo_diag_format(const fo_diag *d)
{
	fo_buf b = FO_BUF_INIT;
	fo_buf_puts(&b, d->file);
	if (d->line > 0)
		fo_buf_printf(&b, ":%d:%d", d->line, d->col);
	fo_buf_puts(&b, ": ");
	if (d->sev == FO_SEV_WARNING)
		fo_buf_puts(&b, "warning: ");
	fo_buf_puts(&b, d->msg);
	return fo_buf_detach(&b);
}

void fo_diags_free(fo_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->cap = d->nerrors = 0;
}
