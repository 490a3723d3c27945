// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_prefix_file.c - libFuzzer target: a prefix file of any bytes, read through a
 * fixed config that names it (prefix_file = p, next to a plain prefix).
 */
#include "fuzz_check.h"

static char conf[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char text[] = "[sensor]\ninterval = 1\n\n"
				   "[group fuzz]\nprefix = 192.0.2.0/24\nprefix_file = p\n";

	(void)argc;
	(void)argv;
	fuzz_setup_dir();
	fuzz_put("c.ini", (const uint8_t *)text, sizeof(text) - 1, conf, sizeof(conf));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char pfile[PATH_MAX], err[1024];
	struct pw_config cfg;
	int rc;

	fuzz_put("p", data, size, pfile, sizeof(pfile));
	memset(err, 0x5a, sizeof(err));
	rc = pw_config_load(conf, &cfg, err, sizeof(err));
	fuzz_check_result(rc, conf, &cfg, err);
	if (rc) {
		/* The config itself is fine: the refusal must name the prefix file's line. */
		FUZZ_ASSERT(strstr(err, "prefix_file: ") && strstr(err, pfile), "error '%s'", err);
		return 0;
	}
	FUZZ_ASSERT(cfg.n_groups == 1 && cfg.groups[0].n_prefixes >= 1, "lost the group");
	pw_config_free(&cfg);
	return 0;
}
