/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ini.h - stands in for the header of upstream inih (github.com/benhoyt/inih), whose
 * options are fixed when the library is built: only the parsing functions, none of
 * Debian's run-time option variables (ini_allow_multiline, ini_max_line, ...).
 * tests/e2e/test_build.sh builds user/config.c against it, to check that the
 * Makefile's probe finds no run-time options and that the config reader does without.
 */
#ifndef PW_TEST_UPSTREAM_INI_H
#define PW_TEST_UPSTREAM_INI_H

typedef int (*ini_handler)(void *user, const char *section, const char *name,
			   const char *value);
typedef char *(*ini_reader)(char *str, int num, void *stream);

int ini_parse_stream(ini_reader reader, void *stream, ini_handler handler, void *user);

#endif
