/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* cli.h - the command line: options, the config they override, and the check command. */
#ifndef PW_CLI_H
#define PW_CLI_H

#include <stddef.h>

#include "config.h"

/* Exit statuses, as documented in --help and the README. */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

struct pw_cli {
	const char *cmd;
	const char *config;
	char ifaces[PW_MAX_INTERFACES][16];
	size_t n_ifaces;
	const char *mode, *listen, *pin_dir, *state_dir, *web_config;
	const char *capture;
	double interval;
	int verbose;
};

/* Parse @argv into @c; --help and --version print and exit. EXIT_OK, or EXIT_USAGE. */
int pw_cli_parse(int argc, char **argv, struct pw_cli *c);
/* Load the config and lay the command line over it. Returns 0 or -1 with @err set. */
int pw_load_config(const struct pw_cli *c, struct pw_config *cfg, char *err, size_t errlen);
/* prefixwatch check: validate the config and print a summary. Returns an exit status. */
int pw_cmd_check(const struct pw_cli *c);
/* prefixwatch status: print a running daemon's status (status.c). Returns an exit status. */
int pw_cmd_status(const struct pw_cli *c);

#endif /* PW_CLI_H */
