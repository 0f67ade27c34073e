/*
 * Logger implementation. Each line is formatted into one buffer and written
 * with a single write so that lines from concurrent threads do not interleave.
 */
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"

static struct {
	enum fo_log_level min;
	bool json;
} logger = {FO_LOG_INFO, false};

static const char *level_names[] = {"debug", "info", "warn", "error"};

void fo_log_setup(enum fo_log_level min, bool json)
{
	logger.min = min;
	logger.json = json;
}

int fo_log_level_parse(const char *s)
{
	for (size_t i = 0; i < FO_ARRAY_LEN(level_names); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

void fo_log(enum fo_log_level lvl, const char *module, const char *fmt, ...)
{
	if (lvl < logger.min)
		return;
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);

	va_list ap;
	va_start(ap, fmt);
	char *msg = fo_vasprintf(fmt, ap);
	va_end(ap);

	fo_buf b = FO_BUF_INIT;
	if (logger.json) {
		fo_buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"module\":", ts, level_names[lvl]);
		fo_buf_put_json_string(&b, module);
		fo_buf_puts(&b, ",\"msg\":");
		fo_buf_put_json_string(&b, msg);
		fo_buf_puts(&b, "}\n");
	} else {
		fo_buf_printf(&b, "%s %-5s %s: %s\n", ts, level_names[lvl], module, msg);
	}
	ssize_t w = write(STDERR_FILENO, b.ptr, b.len);
	(void)w;
	fo_buf_free(&b);
	free(msg);
}
