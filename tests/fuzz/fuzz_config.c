// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_config.c - libFuzzer target: pw_config_load() on any bytes.
 *
 * The input is a config file. Whatever follows a line "%%\n" in it is written to the file
 * "p" beside the config, so a config that says "prefix_file = p" reads fuzzed prefixes
 * too. Inputs naming a prefix_file through a path with '/' are skipped: the target must
 * stay in its scratch directory rather than read /dev/zero or wait on a FIFO.
 */
#include "fuzz_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup_dir();
	return 0;
}

/* True when some line that mentions prefix_file also holds a '/'. */
static int names_outside_path(const uint8_t *data, size_t len)
{
	static const char key[] = "prefix_file";
	size_t line = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && data[i] != '\n')
			continue;
		if (memmem(data + line, i - line, key, sizeof(key) - 1) &&
		    memchr(data + line, '/', i - line))
			return 1;
		line = i + 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sep[] = "\n%%\n";
	char conf[PATH_MAX], pfile[PATH_MAX], err[1024];
	const uint8_t *split;
	size_t conf_len = size;
	struct pw_config cfg;
	int rc;

	if (names_outside_path(data, size))
		return -1; /* rejected: not added to the corpus */
	split = memmem(data, size, sep, sizeof(sep) - 1);
	if (split)
		conf_len = (size_t)(split - data) + 1;
	fuzz_put("c.ini", data, conf_len, conf, sizeof(conf));
	if (split)
		fuzz_put("p", split + sizeof(sep) - 1,
			 size - (size_t)(split - data) - (sizeof(sep) - 1), pfile, sizeof(pfile));
	else
		fuzz_put("p", (const uint8_t *)"", 0, pfile, sizeof(pfile));
	memset(err, 0x5a, sizeof(err));
	rc = pw_config_load(conf, &cfg, err, sizeof(err));
	fuzz_check_result(rc, conf, &cfg, err);
	if (!rc) {
		size_t v4, v6;

		pw_config_count(&cfg, &v4, &v6);
		pw_config_free(&cfg);
	}
	return 0;
}
