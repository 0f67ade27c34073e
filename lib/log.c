/*
 * Logger implementation. Each line is formatted into one buffer and written
 * with a single write so that lines from concurrent threads do not interleave.
 */
#include "lib/log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct {
	_Atomic int min;
	atomic_bool json;
	atomic_ulong pass;
} logger = {FO_LOG_INFO, false, 0};

/* NULL-ended for fo_log_level_names; FO_LOG_NLEVELS counts the names */
static const char *const level_names[] = {"debug", "info", "warn", "error", NULL};
#define FO_LOG_NLEVELS (FO_ARRAY_LEN(level_names) - 1)

void fo_log_setup(enum fo_log_level min, bool json)
{
	fo_log_set_level(min);
	fo_log_set_json(json);
}

void fo_log_set_level(enum fo_log_level min)
{
	atomic_store(&logger.min, (int)min);
}

void fo_log_set_json(bool json)
{
	atomic_store(&logger.json, json);
}

void fo_log_set_pass(unsigned long pass)
{
	atomic_store(&logger.pass, pass);
}

int fo_log_level_parse(const char *s)
{
	for (size_t i = 0; i < FO_LOG_NLEVELS; i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *const *fo_log_level_names(void)
{
	return level_names;
}

void fo_log_format(fo_buf *b, bool json, const char *ts, enum fo_log_level lvl, const char *component,
		   unsigned long pass, const fo_log_fields *f, const char *msg)
{
	const char *level = (unsigned)lvl < FO_LOG_NLEVELS ? level_names[lvl] : "info";
	if (!json) {
		fo_buf_printf(b, "%s %-5s %s: %s\n", ts, level, component, msg);
		return;
	}
	fo_buf_printf(b, "{\"time\":\"%s\",\"level\":\"%s\",\"component\":", ts, level);
	fo_buf_put_json_string(b, component);
	fo_buf_puts(b, ",\"msg\":");
	fo_buf_put_json_string(b, msg);
	if (pass)
		fo_buf_printf(b, ",\"pass\":%lu", pass);
	if (f && f->deployment) {
		fo_buf_puts(b, ",\"deployment\":");
		fo_buf_put_json_string(b, f->deployment);
	}
	if (f && f->step) {
		fo_buf_puts(b, ",\"step\":");
		fo_buf_put_json_string(b, f->step);
	}
	if (f && f->duration_ms >= 0)
		fo_buf_printf(b, ",\"duration_ms\":%ld", f->duration_ms);
	fo_buf_puts(b, "}\n");
}

static void vlog(enum fo_log_level lvl, const char *component, const fo_log_fields *f, const char *fmt, va_list ap)
{
	if ((int)lvl < atomic_load(&logger.min))
		return;
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	char *msg = fo_vasprintf(fmt, ap);
	fo_buf b = FO_BUF_INIT;
	fo_log_format(&b, atomic_load(&logger.json), ts, lvl, component, atomic_load(&logger.pass), f, msg);
	ssize_t w = write(STDERR_FILENO, b.ptr, b.len);
	(void)w;
	fo_buf_free(&b);
	free(msg);
}

void fo_log(enum fo_log_level lvl, const char *component, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(lvl, component, NULL, fmt, ap);
	va_end(ap);
}

void fo_logf(enum fo_log_level lvl, const char *component, const fo_log_fields *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(lvl, component, f, fmt, ap);
	va_end(ap);
}
