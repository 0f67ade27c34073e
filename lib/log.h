/*
 * The logger: the one piece of global mutable state in flinkops. Lines go to
 * stderr as text (`2026-11-23T19:00:00Z info  sync: message`) or as one JSON
 * object per line with the fields time, level, component, msg and, where
 * known, pass, deployment, step and duration_ms. Callers never pass secrets
 * here; nothing is redacted after the fact because nothing secret is ever
 * formatted into a message.
 */
#ifndef FO_LOG_H
#define FO_LOG_H

#include "lib/buf.h"
#include "lib/util.h"

enum fo_log_level { FO_LOG_DEBUG, FO_LOG_INFO, FO_LOG_WARN, FO_LOG_ERROR };

/* What a line is about, beyond its message; each field may be absent. */
typedef struct fo_log_fields {
	const char *deployment;  /* "namespace/name", or NULL */
	const char *step;        /* a rollout step or action, or NULL */
	long duration_ms;        /* how long what the line reports took; < 0: none */
} fo_log_fields;

void fo_log_setup(enum fo_log_level min, bool json);
void fo_log_set_level(enum fo_log_level min);
void fo_log_set_json(bool json);
/* The daemon's pass in progress (0: none), in every JSON line until
 * changed: passes never overlap, so one number serves every thread. */
void fo_log_set_pass(unsigned long pass);
/* Parse "debug|info|warn|error"; returns -1 when unknown. */
int fo_log_level_parse(const char *s);
/* The names fo_log_level_parse takes, in the order of the levels,
 * NULL-ended (the shell completion lists them). */
const char *const *fo_log_level_names(void);
void fo_log(enum fo_log_level lvl, const char *component, const char *fmt, ...) FO_PRINTF(3, 4);
/* The same with fields (f may be NULL). */
void fo_logf(enum fo_log_level lvl, const char *component, const fo_log_fields *f, const char *fmt, ...)
	FO_PRINTF(4, 5);
/*
 * One line as the logger writes it, newline included, appended to `out`
 * (pure; exposed for tests). `pass` 0 and absent fields are left out of
 * JSON; text shows the message alone.
 */
void fo_log_format(fo_buf *out, bool json, const char *time, enum fo_log_level lvl, const char *component,
		   unsigned long pass, const fo_log_fields *f, const char *msg);

#define fo_debug(mod, ...) fo_log(FO_LOG_DEBUG, mod, __VA_ARGS__)
#define fo_info(mod, ...) fo_log(FO_LOG_INFO, mod, __VA_ARGS__)
#define fo_warn(mod, ...) fo_log(FO_LOG_WARN, mod, __VA_ARGS__)
#define fo_error(mod, ...) fo_log(FO_LOG_ERROR, mod, __VA_ARGS__)

#endif
