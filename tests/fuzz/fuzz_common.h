/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * fuzz_common.h - what the libFuzzer targets share: a private scratch directory (under
 * $TMPDIR, removed at exit), writing an input to a file in it, and a loud abort when an
 * invariant breaks, which libFuzzer reports as a crash with the input that caused it.
 */
#ifndef PW_FUZZ_COMMON_H
#define PW_FUZZ_COMMON_H

#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fuzz_dir[PATH_MAX];

static inline int fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void fuzz_cleanup(void)
{
	if (fuzz_dir[0])
		nftw(fuzz_dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Make the scratch directory once; every file a target writes lives in it. */
static inline void fuzz_setup_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/pw-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fuzz_dir)) {
		perror("mkdtemp");
		abort();
	}
	atexit(fuzz_cleanup);
}

/* Write @len bytes to @name in the scratch directory; its path goes to @path. */
static inline void fuzz_put(const char *name, const uint8_t *data, size_t len, char *path,
			    size_t pathlen)
{
	FILE *f;

	snprintf(path, pathlen, "%s/%s", fuzz_dir, name);
	f = fopen(path, "wb");
	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f)) {
		perror(path);
		abort();
	}
}

#define FUZZ_ASSERT(cond, ...)                                                               \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant broken: %s: ", __FILE__, __LINE__, \
				#cond);                                                      \
			fprintf(stderr, __VA_ARGS__);                                        \
			fprintf(stderr, "\n");                                               \
			abort();                                                             \
		}                                                                            \
	} while (0)

#endif /* PW_FUZZ_COMMON_H */
