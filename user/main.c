// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * main.c - prefixwatch: parse the command line (cli.c) and run the command: check (cli.c),
 * replay (replay.c) or run, the daemon (daemon.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "replay.h"
#include "status.h"

int main(int argc, char **argv)
{
	struct pw_cli c;
	int ret;

	ret = pw_cli_parse(argc, argv, &c);
	if (ret)
		return ret;
	pw_log_set_level(c.verbose >= 2 ? PW_LOG_TRACE : c.verbose ? PW_LOG_DEBUG : PW_LOG_INFO);
	if (!strcmp(c.cmd, "check"))
		return pw_cmd_check(&c);
	if (!strcmp(c.cmd, "status"))
		return pw_cmd_status(&c);
	if (!strcmp(c.cmd, "replay")) {
		struct pw_config cfg;
		char err[1024];

		if (pw_load_config(&c, &cfg, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			return EXIT_USAGE;
		}
		pw_log_hook_libbpf();
		return pw_replay(&cfg, c.capture);
	}
	return pw_cmd_run(&c);
}
