// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* loader.c - the BPF object and its maps. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "log.h"
#include "prefixwatch.skel.h"

/* Keys read per batch syscall: large enough to amortise, small enough to stay in cache. */
#define PW_BATCH 8192

struct pw_bpf {
	struct prefixwatch *skel;
	int ncpus;
	uint32_t max_v4, max_v6;
	char pin_dir[PATH_MAX];
	bool pinned;
	/* scratch for batched per-CPU reads */
	uint32_t *keys;
	struct pw_counter *vals;
};

const char *pw_bpf_prog_name(void)
{
	return "prefixwatch";
}

int pw_bpf_open(const struct pw_bpf_opts *opts, struct pw_bpf **out)
{
	struct pw_bpf *b;
	int err;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->max_v4 = opts && opts->max_v4 ? opts->max_v4 : PW_MAX_PREFIXES_V4;
	b->max_v6 = opts && opts->max_v6 ? opts->max_v6 : PW_MAX_PREFIXES_V6;
	b->ncpus = libbpf_num_possible_cpus();
	if (b->ncpus <= 0) {
		err = b->ncpus ? b->ncpus : -EINVAL;
		goto err_free;
	}
	b->keys = calloc(PW_BATCH, sizeof(*b->keys));
	b->vals = calloc((size_t)PW_BATCH * (size_t)b->ncpus, sizeof(*b->vals));
	if (!b->keys || !b->vals) {
		err = -ENOMEM;
		goto err_free;
	}
	b->skel = prefixwatch__open();
	if (!b->skel) {
		err = -errno;
		goto err_free;
	}
	bpf_map__set_max_entries(b->skel->maps.pw_v4_0, b->max_v4);
	bpf_map__set_max_entries(b->skel->maps.pw_v4_1, b->max_v4);
	bpf_map__set_max_entries(b->skel->maps.pw_v6_0, b->max_v6);
	bpf_map__set_max_entries(b->skel->maps.pw_v6_1, b->max_v6);
	bpf_map__set_max_entries(b->skel->maps.pw_counters, b->max_v4 + b->max_v6);
	*out = b;
	return 0;

err_free:
	free(b->keys);
	free(b->vals);
	free(b);
	return err;
}

int pw_bpf_load(struct pw_bpf *b)
{
	return prefixwatch__load(b->skel);
}

void pw_bpf_close(struct pw_bpf *b)
{
	if (!b)
		return;
	prefixwatch__destroy(b->skel);
	free(b->keys);
	free(b->vals);
	free(b);
}

int pw_bpf_pin(struct pw_bpf *b, const char *dir)
{
	struct bpf_map *map;
	char path[PATH_MAX];
	int err;

	if (snprintf(b->pin_dir, sizeof(b->pin_dir), "%s", dir) >= (int)sizeof(b->pin_dir))
		return -ENAMETOOLONG;
	bpf_object__for_each_map(map, b->skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(map));
		if (unlink(path) && errno != ENOENT)
			return -errno;
		err = bpf_map__pin(map, path);
		if (err)
			return err;
	}
	b->pinned = true;
	return 0;
}

void pw_bpf_unpin(struct pw_bpf *b)
{
	struct bpf_map *map;

	if (!b || !b->pinned)
		return;
	bpf_object__for_each_map(map, b->skel->obj) {
		if (bpf_map__is_pinned(map))
			bpf_map__unpin(map, NULL);
	}
	b->pinned = false;
}

struct bpf_object *pw_bpf_object(struct pw_bpf *b)
{
	return b->skel->obj;
}

int pw_bpf_prog_fd(struct pw_bpf *b)
{
	return bpf_program__fd(b->skel->progs.prefixwatch);
}

uint32_t pw_bpf_max_ids(const struct pw_bpf *b)
{
	return b->max_v4 + b->max_v6;
}

uint32_t pw_bpf_max_v4(const struct pw_bpf *b)
{
	return b->max_v4;
}

uint32_t pw_bpf_max_v6(const struct pw_bpf *b)
{
	return b->max_v6;
}

/* Delete every key of an LPM table. */
static int clear_table(int fd)
{
	uint8_t key[sizeof(struct pw_key_v6)];

	while (bpf_map_get_next_key(fd, NULL, key) == 0) {
		if (bpf_map_delete_elem(fd, key))
			return -errno;
	}
	return 0;
}

int pw_bpf_set_prefixes(struct pw_bpf *b, const struct pw_prefix *pfx, const uint32_t *ids,
			size_t n)
{
	struct prefixwatch *s = b->skel;
	uint32_t zero = 0, active = 0, idle;
	size_t n4 = 0, n6 = 0;
	int fd4, fd6, err;

	for (size_t i = 0; i < n; i++) {
		if (ids[i] >= pw_bpf_max_ids(b))
			return -ERANGE;
		if (pfx[i].family == AF_INET)
			n4++;
		else
			n6++;
	}
	if (n4 > b->max_v4 || n6 > b->max_v6)
		return -E2BIG;

	if (bpf_map_lookup_elem(bpf_map__fd(s->maps.pw_active), &zero, &active))
		return -errno;
	idle = active ? 0 : 1;
	fd4 = bpf_map__fd(idle ? s->maps.pw_v4_1 : s->maps.pw_v4_0);
	fd6 = bpf_map__fd(idle ? s->maps.pw_v6_1 : s->maps.pw_v6_0);

	err = clear_table(fd4);
	if (!err)
		err = clear_table(fd6);
	if (err)
		return err;

	for (size_t i = 0; i < n; i++) {
		struct pw_prefix_id val = { .id = ids[i] };

		if (pfx[i].family == AF_INET) {
			struct pw_key_v4 k = { .prefixlen = pfx[i].len };

			memcpy(k.addr, pfx[i].addr, sizeof(k.addr));
			err = bpf_map_update_elem(fd4, &k, &val, BPF_ANY);
		} else {
			struct pw_key_v6 k = { .prefixlen = pfx[i].len };

			memcpy(k.addr, pfx[i].addr, sizeof(k.addr));
			err = bpf_map_update_elem(fd6, &k, &val, BPF_ANY);
		}
		if (err)
			return -errno;
	}
	/* The flip: one update of one array element, atomic for every reader. */
	if (bpf_map_update_elem(bpf_map__fd(s->maps.pw_active), &zero, &idle, BPF_ANY))
		return -errno;
	return 0;
}

/* Read @n entries of a per-CPU array of pw_counter in batches, summing the CPUs. */
static int read_percpu(struct pw_bpf *b, int fd, uint32_t n, struct pw_counter *out)
{
	uint32_t done = 0;

	while (done < n) {
		uint32_t want = n - done < PW_BATCH ? n - done : PW_BATCH;
		uint32_t in = done, next = 0, count = want;
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		int err;

		err = bpf_map_lookup_batch(fd, done ? &in : NULL, &next, b->keys, b->vals,
					   &count, &opts);
		if (err && errno != ENOENT)
			return -errno;
		for (uint32_t i = 0; i < count; i++) {
			struct pw_counter sum = { 0, 0 };
			uint32_t key = b->keys[i];

			for (int c = 0; c < b->ncpus; c++) {
				sum.packets += b->vals[(size_t)i * b->ncpus + c].packets;
				sum.bytes += b->vals[(size_t)i * b->ncpus + c].bytes;
			}
			if (key < n)
				out[key] = sum;
		}
		if (count == 0)
			break;
		done += count;
		if (err)
			break;
	}
	return 0;
}

int pw_bpf_read_counters(struct pw_bpf *b, uint32_t n, struct pw_counter *out)
{
	if (n > pw_bpf_max_ids(b))
		return -ERANGE;
	return read_percpu(b, bpf_map__fd(b->skel->maps.pw_counters), n, out);
}

int pw_bpf_clear_counter(struct pw_bpf *b, uint32_t id)
{
	size_t sz = (size_t)b->ncpus * sizeof(struct pw_counter);
	struct pw_counter *zero = calloc(1, sz);
	int err = 0;

	if (!zero)
		return -ENOMEM;
	if (bpf_map_update_elem(bpf_map__fd(b->skel->maps.pw_counters), &id, zero, BPF_ANY))
		err = -errno;
	free(zero);
	return err;
}

int pw_bpf_read_classes(struct pw_bpf *b, struct pw_counter out[PW_CLASS_MAX])
{
	return read_percpu(b, bpf_map__fd(b->skel->maps.pw_classes), PW_CLASS_MAX, out);
}

int pw_bpf_iface_add(struct pw_bpf *b, uint32_t ifindex)
{
	size_t sz = (size_t)b->ncpus * sizeof(struct pw_counter);
	struct pw_counter *zero = calloc(1, sz);
	int err = 0;

	if (!zero)
		return -ENOMEM;
	/* BPF_NOEXIST: an interface already counted keeps its counts. */
	if (bpf_map_update_elem(bpf_map__fd(b->skel->maps.pw_ifaces), &ifindex, zero,
				BPF_NOEXIST) &&
	    errno != EEXIST)
		err = -errno;
	free(zero);
	return err;
}

int pw_bpf_iface_del(struct pw_bpf *b, uint32_t ifindex)
{
	if (bpf_map_delete_elem(bpf_map__fd(b->skel->maps.pw_ifaces), &ifindex) && errno != ENOENT)
		return -errno;
	return 0;
}

int pw_bpf_iface_read(struct pw_bpf *b, uint32_t ifindex, struct pw_counter *out)
{
	struct pw_counter *vals = b->vals;

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(bpf_map__fd(b->skel->maps.pw_ifaces), &ifindex, vals))
		return -errno;
	for (int c = 0; c < b->ncpus; c++) {
		out->packets += vals[c].packets;
		out->bytes += vals[c].bytes;
	}
	return 0;
}

int pw_bpf_run(struct pw_bpf *b, const void *frame, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (uint32_t)len,
		    .repeat = 1);

	if (bpf_prog_test_run_opts(pw_bpf_prog_fd(b), &opts))
		return -errno;
	return opts.retval == XDP_PASS;
}
