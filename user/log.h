/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* log.h - one logging helper with levels, to stderr; libbpf's messages go through it. */
#ifndef PW_LOG_H
#define PW_LOG_H

enum pw_log_level {
	PW_LOG_ERROR = 0,
	PW_LOG_WARN = 1,
	PW_LOG_INFO = 2,
	PW_LOG_DEBUG = 3,
	PW_LOG_TRACE = 4, /* libbpf's and libxdp's informational messages */
};

/* Messages above this level are dropped; default PW_LOG_INFO. */
void pw_log_set_level(enum pw_log_level level);
/* Route libbpf's and libxdp's messages through pw_log, one level down. */
void pw_log_hook_libbpf(void);

void pw_log(enum pw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pw_err(...) pw_log(PW_LOG_ERROR, __VA_ARGS__)
#define pw_warn(...) pw_log(PW_LOG_WARN, __VA_ARGS__)
#define pw_info(...) pw_log(PW_LOG_INFO, __VA_ARGS__)
#define pw_debug(...) pw_log(PW_LOG_DEBUG, __VA_ARGS__)

#endif /* PW_LOG_H */
