// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* state.c - save and restore the detectors' state (see state.h for the format). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "state.h"

static const char magic[8] = "PWSTATE";

struct header {
	char magic[8];
	uint32_t version;
	uint32_t byte_order; /* 0x01020304 as written */
	uint32_t det_size;   /* sizeof(struct pw_detector): a layout check */
	uint32_t rec_size;
	double wall; /* written at, wall clock */
	uint64_t n;  /* records */
};

/* What identifies a detector across restarts, compared with memcmp (zero-filled). */
struct key {
	char group[PW_GROUP_NAME_MAX + 1];
	uint8_t per_prefix;
	struct pw_prefix prefix; /* per_prefix only */
	uint64_t set_hash;	 /* groups only (a changed set restarts a group's detector) */
};

/*
 * A detector is saved up to its warm-up samples (the last fields, 1.5 kB of its 2.3 kB):
 * one restored in its warm-up starts the median afresh, at the age it had.
 */
#define DET_SAVED offsetof(struct pw_detector, warm_pps)

struct record {
	struct key key;
	unsigned char det[DET_SAVED];
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

#define FNV_INIT 1469598103934665603ULL

static void make_key(const struct pw_watch_item *it, struct key *k)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->group, sizeof(k->group), "%s", it->group);
	k->per_prefix = it->per_prefix;
	if (it->per_prefix)
		k->prefix = it->prefix;
	else
		k->set_hash = it->set_hash;
}

static int write_all(int fd, const void *p, size_t n, uint64_t *h)
{
	const char *b = p;

	if (h)
		*h = fnv(*h, p, n);
	while (n) {
		ssize_t r = write(fd, b, n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

int pw_state_save(const char *dir, const struct pw_watch *w, double wall_now)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	struct header hd = {0};
	uint64_t h = FNV_INIT;
	int fd, dfd, err = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, PW_STATE_FILE) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, PW_STATE_FILE) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	memcpy(hd.magic, magic, sizeof(hd.magic));
	hd.version = PW_STATE_VERSION;
	hd.byte_order = 0x01020304;
	hd.det_size = DET_SAVED;
	hd.rec_size = sizeof(struct record);
	hd.wall = wall_now;
	hd.n = w->n;
	err = write_all(fd, &hd, sizeof(hd), &h);
	for (size_t i = 0; i < w->n && !err; i++) {
		struct record r;

		memset(&r, 0, sizeof(r));
		make_key(&w->items[i], &r.key);
		memcpy(r.det, &w->items[i].det, DET_SAVED);
		err = write_all(fd, &r, sizeof(r), &h);
	}
	if (!err)
		err = write_all(fd, &h, sizeof(h), NULL);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	/* The rename itself must reach the disk. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

size_t pw_state_file_size(size_t n)
{
	return sizeof(struct header) + n * sizeof(struct record) + sizeof(uint64_t);
}

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct key));
}

/* The whole file in memory, or NULL with a message. */
static void *read_file(const char *path, size_t *len, char *why, size_t wlen)
{
	struct stat st;
	void *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, wlen, "%s", errno == ENOENT ? "none saved" : strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(why, wlen, "not a regular file");
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(why, wlen, "out of memory for %lld bytes", (long long)st.st_size);
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, (char *)buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*len = got;
	return buf;
}

int pw_state_load(const char *dir, struct pw_watch *w, const struct pw_poller *pl, double wall_now)
{
	char path[PATH_MAX], why[128];
	struct header hd;
	struct record *recs;
	size_t len = 0;
	uint64_t h, sum;
	double elapsed;
	int restored = 0;
	char *buf;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, PW_STATE_FILE) >= sizeof(path)) {
		pw_warn("detector state in %s: path too long: ignored", dir);
		return 0;
	}
	buf = read_file(path, &len, why, sizeof(why));
	if (!buf) {
		pw_info("detector state %s: %s: warming up afresh", path, why);
		return 0;
	}
	if (len < sizeof(hd) + sizeof(sum)) {
		pw_warn("detector state %s: truncated (%zu bytes): ignored", path, len);
		goto out;
	}
	memcpy(&hd, buf, sizeof(hd));
	if (memcmp(hd.magic, magic, sizeof(magic)) || hd.byte_order != 0x01020304) {
		pw_warn("detector state %s: not a prefixwatch state file of this machine: ignored",
			path);
		goto out;
	}
	if (hd.version != PW_STATE_VERSION || hd.det_size != DET_SAVED ||
	    hd.rec_size != sizeof(struct record)) {
		pw_warn("detector state %s: format %u of another build (this one reads %u): "
			"ignored",
			path, hd.version, PW_STATE_VERSION);
		goto out;
	}
	if (hd.n > (len - sizeof(hd) - sizeof(sum)) / sizeof(struct record) ||
	    len != sizeof(hd) + hd.n * sizeof(struct record) + sizeof(sum)) {
		pw_warn("detector state %s: %zu bytes do not hold %llu detectors: ignored", path,
			len, (unsigned long long)hd.n);
		goto out;
	}
	h = fnv(FNV_INIT, buf, len - sizeof(sum));
	memcpy(&sum, buf + len - sizeof(sum), sizeof(sum));
	if (h != sum) {
		pw_warn("detector state %s: checksum mismatch (corrupt): ignored", path);
		goto out;
	}
	if (!(hd.wall == hd.wall)) {
		pw_warn("detector state %s: no valid time: ignored", path);
		goto out;
	}
	elapsed = wall_now - hd.wall;
	if (elapsed < 0)
		elapsed = 0; /* the wall clock stepped back: count no downtime */
	/* Sorted in place (the records follow the header; copy them to align). */
	recs = malloc(hd.n ? hd.n * sizeof(*recs) : 1);
	if (!recs) {
		pw_warn("detector state %s: out of memory: ignored", path);
		goto out;
	}
	memcpy(recs, buf + sizeof(hd), hd.n * sizeof(*recs));
	qsort(recs, hd.n, sizeof(*recs), cmp_key);
	for (size_t i = 0; i < w->n; i++) {
		struct pw_watch_item *it = &w->items[i];
		double max_age = PW_STATE_MAX_AGE;
		struct key k;
		struct record *r;

		if (pl && it->gidx < pl->n_groups && pl->g[it->gidx].cfg->det.relearn > 0)
			max_age = pl->g[it->gidx].cfg->det.relearn;
		if (elapsed > max_age)
			continue;
		make_key(it, &k);
		r = bsearch(&k, recs, hd.n, sizeof(*recs), cmp_key);
		if (!r)
			continue;
		pw_detector_init(&it->det);
		memcpy(&it->det, r->det, DET_SAVED);
		it->det.n_warm = 0;
		it->det.age += elapsed;
		restored++;
	}
	free(recs);
	if (!restored && hd.n)
		pw_info("detector state %s: written %.0f s ago, nothing restored (stale or other "
			"prefixes)",
			path, elapsed);
	else
		pw_info("detector state %s: %d of %zu detectors resumed (written %.0f s ago)", path,
			restored, w->n, elapsed);
out:
	free(buf);
	return restored;
}
