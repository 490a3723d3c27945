/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * loader.h - the BPF object and its maps: open, size, pin, load, fill the prefix tables,
 * read the counters. Used by the daemon (which attaches through libxdp), by replay and by
 * the BPF tests (which run the program with BPF_PROG_TEST_RUN).
 */
#ifndef PW_LOADER_H
#define PW_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prefixwatch.h"
#include "prefix.h"

struct pw_bpf;
struct bpf_object;

struct pw_config;

struct pw_bpf_opts {
	uint32_t max_v4;     /* capacity of the IPv4 tables; 0: PW_MAX_PREFIXES_V4 */
	uint32_t max_v6;     /* capacity of the IPv6 tables; 0: PW_MAX_PREFIXES_V6 */
	/* Units (64 bytes) of each IPv4 and IPv6 table; 0: an estimate from max_v4, max_v6. */
	uint32_t units_v4, units_v6;
	/* Bits of the IPv4 first level, 20 or 24; 0: 24 from PW_V4_L1_LARGE_MIN max_v4. */
	unsigned int v4_l1_bits;
	/* Slots of pw_counters (counter ids); 0: max_v4 + max_v6, one per prefix. */
	uint32_t max_ids;
};

/* Most units a table may have (64 bytes each): the tables of a full set of prefixes. */
uint32_t pw_bpf_max_units(int family);

/**
 * pw_bpf_units() - the table units a set of prefixes of one family fills.
 * @pfx:     distinct prefixes of @family, sorted (pw_prefix_cmp)
 * @l1_bits: bits of the table's first level (IPv4: 20, or 24 for DIR-24; IPv6: 20)
 *
 * The first level, then one unit per distinct path the trie's levels take: a prefix of
 * length L makes (or shares) the unit under each level boundary above L. Exact: a table
 * of this many units holds the set, one unit less does not.
 */
uint64_t pw_bpf_units(const struct pw_prefix *pfx, size_t n, unsigned int l1_bits);

/**
 * pw_bpf_size() - decide whether the maps can hold the prefixes of @cfg, and size them.
 * @grow: leave room for reloads to grow (the daemon): twice the prefixes and units, within
 *        the limits; else exactly what the set needs (replay)
 * @opts: filled for pw_bpf_open(), or NULL to only check
 *
 * The one place that decides what `check`, `run` and `replay` accept: a set is refused
 * when it has more distinct prefixes of a family than the counters allow (-E2BIG) or its
 * trie needs more units than pw_bpf_max_units() (-ENOSPC), whatever @grow. Returns 0 or
 * -errno with a one-line reason naming the figures in @err.
 */
int pw_bpf_size(const struct pw_config *cfg, bool grow, struct pw_bpf_opts *opts, char *err,
		size_t errlen);

/* Open the object and size its maps; nothing is loaded yet. Returns 0 or -errno. */
int pw_bpf_open(const struct pw_bpf_opts *opts, struct pw_bpf **out);
/* Load the object as a plain XDP program (tests, replay). Returns 0 or -errno. */
int pw_bpf_load(struct pw_bpf *b);
void pw_bpf_close(struct pw_bpf *b);
/*
 * Pin every map as @dir/<map name> (after load). Stale pins of an earlier instance that
 * died are replaced. All or nothing: on failure no pin of ours is left. Returns 0 or -errno.
 */
int pw_bpf_pin(struct pw_bpf *b, const char *dir);
/* Remove the pins made by pw_bpf_pin (a clean stop). */
void pw_bpf_unpin(struct pw_bpf *b);

struct bpf_object *pw_bpf_object(struct pw_bpf *b);
const char *pw_bpf_prog_name(void);
int pw_bpf_prog_fd(struct pw_bpf *b);
/* Slots of pw_counters: the counter ids the poller may give out. */
uint32_t pw_bpf_max_ids(const struct pw_bpf *b);
uint32_t pw_bpf_max_v4(const struct pw_bpf *b);
uint32_t pw_bpf_max_v6(const struct pw_bpf *b);

/**
 * pw_bpf_set_prefixes() - make @n prefixes, with their references @refs (PW_REF: counter
 * id and anatomy slot), the live set.
 *
 * Fills the idle table of each family, then flips pw_active with a single map update: a
 * packet sees either the old set or the new, never a part of either. On return no packet
 * is still being matched against the old set. Counters are not touched, so an id that
 * stays keeps counting. Returns 0 or -errno (-E2BIG: too many prefixes of a family for the
 * maps, -ENOSPC: the prefixes need more table units than the maps have, -ERANGE: an id
 * beyond the counter array, or a slot from PW_MAX_SLOTS on).
 */
int pw_bpf_set_prefixes(struct pw_bpf *b, const struct pw_prefix *pfx, const uint32_t *refs,
			size_t n);

/* Bits of the first level of the IPv4 tables: 20, or 24 from PW_V4_L1_LARGE_MIN prefixes. */
unsigned int pw_bpf_v4_l1_bits(const struct pw_bpf *b);
/* Units (64 bytes each) the live IPv4 and IPv6 tables use, and each table's size in units. */
void pw_bpf_table_units(const struct pw_bpf *b, uint32_t used[2], uint32_t size[2]);

/*
 * Run the loaded program once on @len bytes of @frame (BPF_PROG_TEST_RUN). Returns 1 when
 * the verdict was XDP_PASS, 0 for another verdict, -errno when the kernel refused.
 */
int pw_bpf_run(struct pw_bpf *b, const void *frame, size_t len);

/* Sum over CPUs of the counters of ids 0..@n-1, read in batches. Returns 0 or -errno. */
int pw_bpf_read_counters(struct pw_bpf *b, uint32_t n, struct pw_counter *out);
/* Sum over CPUs of the class counters (enum pw_class). Returns 0 or -errno. */
int pw_bpf_read_classes(struct pw_bpf *b, struct pw_counter out[PW_CLASS_MAX]);

/* Start counting frames seen on @ifindex from zero, stop, read. 0 or -errno. */
int pw_bpf_iface_add(struct pw_bpf *b, uint32_t ifindex);
int pw_bpf_iface_del(struct pw_bpf *b, uint32_t ifindex);
int pw_bpf_iface_read(struct pw_bpf *b, uint32_t ifindex, struct pw_counter *out);

#endif /* PW_LOADER_H */
