// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* log.c - leveled logging to stderr, one line per message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"

static enum pw_log_level cur_level = PW_LOG_INFO;

static const char *const level_names[] = { "error", "warning", "info", "debug", "trace" };

void pw_log_set_level(enum pw_log_level level)
{
	cur_level = level;
}

static void vlog(enum pw_log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t len;

	if (level > cur_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	len = strlen(line);
	while (len && line[len - 1] == '\n')
		line[--len] = '\0';
	fprintf(stderr, "prefixwatch: %s: %s\n", level_names[level], line);
}

void pw_log(enum pw_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

/* libbpf's warnings are ours at debug level: the caller reports the failure itself. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	vlog(level == LIBBPF_WARN ? PW_LOG_DEBUG : PW_LOG_TRACE, fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	vlog(level == LIBXDP_WARN ? PW_LOG_DEBUG : PW_LOG_TRACE, fmt, ap);
	return 0;
}

void pw_log_hook_libbpf(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
