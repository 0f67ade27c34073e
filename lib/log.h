/*
 * The logger: the one piece of global mutable state in flinkops. Lines go to
 * stderr as text (`2026-11-23T19:00:00Z info  sync: message`) or as one JSON
 * object per line. Callers never pass secrets here; nothing is redacted after
 * the fact because nothing secret is ever formatted into a message.
 */
#ifndef FO_LOG_H
#define FO_LOG_H

#include "lib/util.h"

enum fo_log_level { FO_LOG_DEBUG, FO_LOG_INFO, FO_LOG_WARN, FO_LOG_ERROR };

void fo_log_setup(enum fo_log_level min, bool json);
/* Parse "debug|info|warn|error"; returns -1 when unknown. */
int fo_log_level_parse(const char *s);
void fo_log(enum fo_log_level lvl, const char *module, const char *fmt, ...) FO_PRINTF(3, 4);

#define fo_debug(mod, ...) fo_log(FO_LOG_DEBUG, mod, __VA_ARGS__)
#define fo_info(mod, ...) fo_log(FO_LOG_INFO, mod, __VA_ARGS__)
#define fo_warn(mod, ...) fo_log(FO_LOG_WARN, mod, __VA_ARGS__)
#define fo_error(mod, ...) fo_log(FO_LOG_ERROR, mod, __VA_ARGS__)

#endif
