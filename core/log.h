/* Logging: levels, one line per event, to stderr or to a file. Never pass a
 * secret to these functions: log lines are meant to be read by operators. */
#pragma once

#include <stdbool.h>

typedef enum {
	SPN_LOG_ERROR = 0,
	SPN_LOG_WARN = 1,
	SPN_LOG_INFO = 2,
	SPN_LOG_DEBUG = 3,
} spn_log_level_t;

/* path NULL or "" logs to stderr. Returns 0 or SPN_EIO. */
int spn_log_open(const char *path, spn_log_level_t level);
void spn_log_close(void);
void spn_log_set_level(spn_log_level_t level);
/* True when lines go to a file opened by spn_log_open, not to stderr. */
bool spn_log_is_file(void);

/* Parses "error", "warn", "info", "debug". Returns 0 or SPN_EINVAL. */
int spn_log_level_parse(const char *s, spn_log_level_t *out);

void spn_log(spn_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define spn_log_error(...) spn_log(SPN_LOG_ERROR, __VA_ARGS__)
#define spn_log_warn(...) spn_log(SPN_LOG_WARN, __VA_ARGS__)
#define spn_log_info(...) spn_log(SPN_LOG_INFO, __VA_ARGS__)
#define spn_log_debug(...) spn_log(SPN_LOG_DEBUG, __VA_ARGS__)
