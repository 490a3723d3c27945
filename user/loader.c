// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* loader.c - the BPF object and its maps. */
#include <errno.h>
#include <limits.h>
#include <linux/membarrier.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "config.h"
#include "loader.h"
#include "log.h"
#include "poller.h"
#include "prefixwatch.skel.h"

/* Keys read per batch syscall: large enough to amortise, small enough to stay in cache. */
#define PW_BATCH 8192

/*
 * Units of the levels under the first, per prefix of capacity: with 1, under the /20 IPv4
 * first level, every set of IPv4 prefixes up to /24 fits wherever they lie (a /24 needs
 * at most 1 unit of its own; a longer prefix up to 3); with 3, under the /20 IPv6 first
 * level, every IPv6 set up to /32, and tables shaped like the IPv6 Internet's, which take
 * about 2 units a prefix at 200k prefixes. Under a /24 first level (large
 * IPv4 tables) only prefixes longer than /24 take units, 2 at most: one unit for every
 * 4 prefixes of capacity lets one prefix in 8 be longer than /24, wherever it lies (real
 * tables hold almost none). 64 bytes a unit.
 */
#define PW_UNITS_PER_V4 1
#define PW_UNITS_PER_V6 3
#define PW_PREFIXES_PER_UNIT_V4_LARGE 4
/* A few more for small tables, where fewer prefixes share a path. */
#define PW_UNITS_SPARE 1024
/* The daemon's smallest capacity of each family, so small sets can grow on reload. */
#define PW_MIN_CAPACITY 65536
/*
 * The daemon's fewest counter ids: reloads may add classes (prefixes read on their own,
 * new group combinations) up to this without a restart; 256 KB a CPU.
 */
#define PW_MIN_IDS 16384

enum { PW_V4, PW_V6, PW_FAMILIES };

struct pw_bpf {
	struct prefixwatch *skel;
	int ncpus;
	uint32_t max_v4, max_v6, max_ids;
	/* per family: first-level bits, units of each table, units the live table uses */
	unsigned int l1_bits[PW_FAMILIES];
	uint32_t units[PW_FAMILIES], used[PW_FAMILIES];
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

/*
 * Units of a table for @max prefixes: a first level of @l1_bits, then @per_prefix units per
 * prefix, or one per @prefixes_per_unit prefixes when @per_prefix is 0.
 */
static int64_t table_units(uint32_t max, unsigned int l1_bits, unsigned int per_prefix,
			   unsigned int prefixes_per_unit)
{
	int64_t pool = per_prefix ? (int64_t)per_prefix * max : max / prefixes_per_unit;
	int64_t units = (1 << l1_bits) / PW_UNIT_ENTRIES + PW_UNITS_SPARE + pool;

	/* Unit numbers must fit beside PW_ENTRY_NEXT. */
	return units < (int64_t)PW_ENTRY_NEXT ? units : -E2BIG;
}

/* The IPv4 first level for @max_v4 prefixes of capacity. */
static unsigned int v4_l1_for(uint32_t max_v4)
{
	/*
	 * A /24 first level costs 64 MB a table whatever the prefixes; from
	 * PW_V4_L1_LARGE_MIN prefixes on (a /20 one then takes 36 MB), its one read for
	 * every prefix up to /24, instead of two, is worth it.
	 */
	return max_v4 >= PW_V4_L1_LARGE_MIN ? PW_V4_L1_BITS_LARGE : PW_L1_BITS;
}

/* The estimate of units for @max prefixes of @family under a first level of @l1_bits. */
static int64_t estimate_units(int family, uint32_t max, unsigned int l1_bits)
{
	if (family == AF_INET6)
		return table_units(max, PW_V6_L1_BITS, PW_UNITS_PER_V6, 0);
	if (l1_bits == PW_V4_L1_BITS_LARGE)
		return table_units(max, PW_V4_L1_BITS_LARGE, 0, PW_PREFIXES_PER_UNIT_V4_LARGE);
	return table_units(max, PW_L1_BITS, PW_UNITS_PER_V4, 0);
}

uint32_t pw_bpf_max_units(int family)
{
	if (family == AF_INET6)
		return (uint32_t)estimate_units(AF_INET6, PW_MAX_PREFIXES_V6, PW_V6_L1_BITS);
	return (uint32_t)estimate_units(AF_INET, PW_MAX_PREFIXES_V4,
					v4_l1_for(PW_MAX_PREFIXES_V4));
}

/* True when the first @bits bits of @a and @b agree. */
static bool same_top_bits(const uint8_t *a, const uint8_t *b, unsigned int bits)
{
	unsigned int whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole))
		return false;
	return !rest || !((a[whole] ^ b[whole]) & (uint8_t)(0xff << (8 - rest)));
}

uint64_t pw_bpf_units(const struct pw_prefix *pfx, size_t n, unsigned int l1_bits)
{
	/* Per level under the first: the last prefix that passed through it. */
	const struct pw_prefix *last[128 / PW_STRIDE] = { NULL };
	uint64_t units = (1U << l1_bits) / PW_UNIT_ENTRIES;

	/*
	 * The unit under level boundary `off` on a prefix's path is keyed by the address's
	 * first `off` bits. Sorted by address, the prefixes sharing those bits are
	 * consecutive among those reaching that level, so comparing with the last one that
	 * did counts each unit once.
	 */
	for (size_t i = 0; i < n; i++) {
		unsigned int lvl = 0;

		for (unsigned int off = l1_bits; off < pfx[i].len; off += PW_STRIDE, lvl++) {
			if (!last[lvl] || !same_top_bits(last[lvl]->addr, pfx[i].addr, off))
				units++;
			last[lvl] = &pfx[i];
		}
	}
	return units;
}

/* The distinct prefixes of every group of @cfg, sorted: IPv4 first. */
static int distinct_prefixes(const struct pw_config *cfg, struct pw_prefix **out, size_t *n,
			     size_t *n_v4)
{
	size_t total = 0, k = 0;
	struct pw_prefix *all;

	for (size_t i = 0; i < cfg->n_groups; i++)
		total += cfg->groups[i].n_prefixes;
	all = malloc((total + 1) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_groups; i++)
		for (size_t j = 0; j < cfg->groups[i].n_prefixes; j++)
			all[k++] = cfg->groups[i].prefixes[j];
	qsort(all, total, sizeof(*all), pw_prefix_cmp);
	*n = *n_v4 = 0;
	for (size_t i = 0; i < total; i++) {
		if (*n && pw_prefix_equal(&all[*n - 1], &all[i]))
			continue;
		all[(*n)++] = all[i];
		if (all[i].family == AF_INET)
			(*n_v4)++;
	}
	*out = all;
	return 0;
}

/* Room for reloads to grow: twice @v, at least PW_MIN_CAPACITY, at most @max. */
static uint32_t grown(size_t v, uint32_t max)
{
	size_t c = v * 2 > PW_MIN_CAPACITY ? v * 2 : PW_MIN_CAPACITY;

	return c < max ? (uint32_t)c : max;
}

int pw_bpf_size(const struct pw_config *cfg, bool grow, struct pw_bpf_opts *opts, char *err,
		size_t errlen)
{
	static const char *const fam[] = { "IPv4", "IPv6" };
	const uint32_t max_pfx[PW_FAMILIES] = { PW_MAX_PREFIXES_V4, PW_MAX_PREFIXES_V6 };
	uint32_t cap[PW_FAMILIES], units[PW_FAMILIES];
	unsigned int l1[PW_FAMILIES];
	struct pw_prefix *all;
	size_t n, nf[PW_FAMILIES];
	long ids;
	int ret;

	ret = distinct_prefixes(cfg, &all, &n, &nf[PW_V4]);
	if (ret) {
		snprintf(err, errlen, "%s: out of memory", cfg->path);
		return ret;
	}
	nf[PW_V6] = n - nf[PW_V4];
	if (nf[PW_V4] > PW_MAX_PREFIXES_V4 || nf[PW_V6] > PW_MAX_PREFIXES_V6) {
		snprintf(err, errlen,
			 "%s: %zu IPv4 and %zu IPv6 distinct prefixes: more than the maps allow (at most %u IPv4 and %u IPv6)",
			 cfg->path, nf[PW_V4], nf[PW_V6], PW_MAX_PREFIXES_V4, PW_MAX_PREFIXES_V6);
		ret = -E2BIG;
		goto out;
	}
	/*
	 * The first level follows the daemon's capacity, so replay and check lay out the
	 * tables exactly as run does, and refuse exactly what it refuses.
	 */
	l1[PW_V4] = v4_l1_for(grown(nf[PW_V4], PW_MAX_PREFIXES_V4));
	l1[PW_V6] = PW_V6_L1_BITS;
	for (int f = 0; f < PW_FAMILIES; f++) {
		const struct pw_prefix *first = f == PW_V4 ? all : all + nf[PW_V4];
		uint64_t need = pw_bpf_units(first, nf[f], l1[f]);
		uint32_t limit = pw_bpf_max_units(f == PW_V4 ? AF_INET : AF_INET6);
		int64_t est;

		if (need > limit) {
			snprintf(err, errlen,
				 "%s: the %zu %s prefixes need %llu table units of 64 bytes, more than the %u a table may have",
				 cfg->path, nf[f], fam[f], (unsigned long long)need, limit);
			ret = -ENOSPC;
			goto out;
		}
		if (!grow) {
			cap[f] = nf[f] ? (uint32_t)nf[f] : 1;
			units[f] = (uint32_t)need;
			continue;
		}
		cap[f] = grown(nf[f], max_pfx[f]);
		est = estimate_units(f == PW_V4 ? AF_INET : AF_INET6, cap[f], l1[f]);
		units[f] = (uint32_t)(2 * need > (uint64_t)est ? 2 * need : (uint64_t)est);
		if (units[f] > limit)
			units[f] = limit;
	}
	/*
	 * Counters: one per class of prefixes (poller.h), not per prefix. The daemon keeps
	 * room for reloads to twice the classes, and at least PW_MIN_IDS, within the
	 * prefixes of capacity.
	 */
	ids = pw_poller_ids_needed(cfg);
	if (ids < 0) {
		snprintf(err, errlen, "%s: out of memory", cfg->path);
		ret = (int)ids;
		goto out;
	}
	/* A class holds a prefix at least: never more ids than prefixes of capacity. */
	if (grow) {
		long most = (long)cap[PW_V4] + (long)cap[PW_V6];

		ids = 2 * ids > PW_MIN_IDS ? 2 * ids : PW_MIN_IDS;
		ids = ids < most ? ids : most;
	}
	if (opts) {
		memset(opts, 0, sizeof(*opts));
		opts->max_ids = ids ? (uint32_t)ids : 1;
		opts->max_v4 = cap[PW_V4];
		opts->max_v6 = cap[PW_V6];
		opts->units_v4 = units[PW_V4];
		opts->units_v6 = units[PW_V6];
		opts->v4_l1_bits = l1[PW_V4];
	}
out:
	free(all);
	return ret;
}

int pw_bpf_open(const struct pw_bpf_opts *opts, struct pw_bpf **out)
{
	int64_t units_v4, units_v6;
	struct pw_bpf *b;
	int err;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->max_v4 = opts && opts->max_v4 ? opts->max_v4 : PW_MAX_PREFIXES_V4;
	b->max_v6 = opts && opts->max_v6 ? opts->max_v6 : PW_MAX_PREFIXES_V6;
	b->max_ids = opts && opts->max_ids ? opts->max_ids : b->max_v4 + b->max_v6;
	b->l1_bits[PW_V4] = opts && opts->v4_l1_bits ? opts->v4_l1_bits : v4_l1_for(b->max_v4);
	b->l1_bits[PW_V6] = PW_V6_L1_BITS;
	units_v4 = opts && opts->units_v4 ? opts->units_v4 :
					    estimate_units(AF_INET, b->max_v4, b->l1_bits[PW_V4]);
	units_v6 = opts && opts->units_v6 ? opts->units_v6 :
					    estimate_units(AF_INET6, b->max_v6, PW_V6_L1_BITS);
	/* An id beyond PW_MAX_IDS would not fit beside the slot in a table entry (PW_REF). */
	if (units_v4 < 0 || units_v6 < 0 || b->max_ids > PW_MAX_IDS ||
	    (b->l1_bits[PW_V4] != PW_L1_BITS && b->l1_bits[PW_V4] != PW_V4_L1_BITS_LARGE)) {
		err = units_v4 < 0 || units_v6 < 0 || b->max_ids > PW_MAX_IDS ? -E2BIG : -EINVAL;
		goto err_free;
	}
	b->units[PW_V4] = (uint32_t)units_v4;
	b->units[PW_V6] = (uint32_t)units_v6;
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
	b->skel->rodata->pw_v4_l1_bits = b->l1_bits[PW_V4];
	bpf_map__set_max_entries(b->skel->maps.pw_v4_0, b->units[PW_V4]);
	bpf_map__set_max_entries(b->skel->maps.pw_v4_1, b->units[PW_V4]);
	bpf_map__set_max_entries(b->skel->maps.pw_v6_0, b->units[PW_V6]);
	bpf_map__set_max_entries(b->skel->maps.pw_v6_1, b->units[PW_V6]);
	bpf_map__set_max_entries(b->skel->maps.pw_counters, b->max_ids);
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

/* Remove every pin of ours that exists, made by this call or an earlier one. */
static void unpin_all(struct pw_bpf *b)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, b->skel->obj) {
		if (bpf_map__is_pinned(map))
			bpf_map__unpin(map, NULL);
	}
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
		if (snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(map)) >=
		    (int)sizeof(path)) {
			err = -ENAMETOOLONG;
			goto err_unpin;
		}
		if (unlink(path) && errno != ENOENT) {
			err = -errno;
			goto err_unpin;
		}
		err = bpf_map__pin(map, path);
		if (err)
			goto err_unpin;
	}
	b->pinned = true;
	return 0;

err_unpin:
	/* All or nothing: a half-pinned set would look like a live instance to bpftool. */
	unpin_all(b);
	return err < 0 ? err : -EINVAL;
}

void pw_bpf_unpin(struct pw_bpf *b)
{
	if (!b || !b->pinned)
		return;
	unpin_all(b);
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
	return b->max_ids;
}

uint32_t pw_bpf_max_v4(const struct pw_bpf *b)
{
	return b->max_v4;
}

uint32_t pw_bpf_max_v6(const struct pw_bpf *b)
{
	return b->max_v6;
}

unsigned int pw_bpf_v4_l1_bits(const struct pw_bpf *b)
{
	return b->l1_bits[PW_V4];
}

void pw_bpf_table_units(const struct pw_bpf *b, uint32_t used[2], uint32_t size[2])
{
	for (int f = 0; f < PW_FAMILIES; f++) {
		used[f] = b->used[f];
		size[f] = b->units[f];
	}
}

/*
 * A table being written, through a mapping of its first units that grows as units are
 * taken: a mapping of the whole table would count in our resident memory for as long as
 * it stays, hundreds of MB at 1M prefixes, where the units in use are a fraction.
 */
struct table_writer {
	int fd;
	unsigned int l1_bits;
	uint32_t units;	 /* in the table */
	uint32_t mapped; /* units mapped at t */
	struct pw_unit *t;
};

/* Map at least @need units of the table. Pointers into the old mapping go stale. */
static int writer_map(struct table_writer *w, uint32_t need)
{
	const uint32_t per_page = (uint32_t)sysconf(_SC_PAGESIZE) / sizeof(struct pw_unit);
	uint32_t want = need > 2 * w->mapped ? need : 2 * w->mapped;
	void *m;

	if (need <= w->mapped)
		return 0;
	want = (want + per_page - 1) / per_page * per_page;
	if (want > w->units)
		want = w->units;
	if (w->t)
		munmap(w->t, (size_t)w->mapped * sizeof(struct pw_unit));
	w->t = NULL;
	w->mapped = 0;
	m = mmap(NULL, (size_t)want * sizeof(struct pw_unit), PROT_READ | PROT_WRITE, MAP_SHARED,
		 w->fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	w->t = m;
	w->mapped = want;
	return 0;
}

static void fill_entries(uint32_t *e, uint32_t n, uint32_t v)
{
	for (uint32_t i = 0; i < n; i++)
		e[i] = v;
}

static unsigned int nibble(const uint8_t *a, unsigned int off)
{
	return off % 8 ? a[off / 8] & 0xf : a[off / 8] >> 4;
}

/*
 * fill_table() - write the trie of @n prefixes with their PW_REF @refs, taken in the order
 * of @order (every prefix after the shorter ones it is inside), into the table of @w; set
 * @used to the units it takes.
 *
 * Controlled prefix expansion: a prefix is written into every entry of the level it ends
 * in that it covers. Taken after them, a prefix overwrites the shorter ones it is inside,
 * and a unit made under an entry starts as a copy of that entry, so every entry ends up
 * holding the most specific prefix over it. Only the first level is cleared: every
 * other unit is written whole when taken. Returns 0, -ENOSPC or -errno of mmap.
 */
static int fill_table(struct table_writer *w, const struct pw_prefix *pfx, const uint32_t *refs,
		      const uint32_t *order, size_t n, uint32_t *used)
{
	const uint32_t l1_units = (1U << w->l1_bits) / PW_UNIT_ENTRIES;
	uint32_t next = l1_units;
	int err;

	err = writer_map(w, 2 * l1_units < w->units ? 2 * l1_units : w->units);
	if (err)
		return err;
	memset(w->t, 0, l1_units * sizeof(*w->t));
	for (size_t k = 0; k < n; k++) {
		const struct pw_prefix *p = &pfx[order[k]];
		const uint32_t leaf = refs[order[k]] + 1; /* an id + 1 never carries */
		/* The first l1_bits (20 or 24) bits of the address. */
		const uint32_t top = ((uint32_t)p->addr[0] << 16 | (uint32_t)p->addr[1] << 8 |
				      p->addr[2]) >> (24 - w->l1_bits);
		/* The entry being followed, as (unit, slot): the mapping may move. */
		uint32_t unit = top / PW_UNIT_ENTRIES, slot = top % PW_UNIT_ENTRIES;

		if (p->len <= w->l1_bits) {
			fill_entries(&w->t[unit].e[slot], 1U << (w->l1_bits - p->len), leaf);
			continue;
		}
		for (unsigned int off = w->l1_bits;; off += PW_STRIDE) {
			uint32_t e = w->t[unit].e[slot];

			if (!(e & PW_ENTRY_NEXT)) {
				if (next == w->units)
					return -ENOSPC;
				err = writer_map(w, next + 1);
				if (err)
					return err;
				fill_entries(w->t[next].e, PW_UNIT_ENTRIES, e);
				e = PW_ENTRY_NEXT | next++;
				w->t[unit].e[slot] = e;
			}
			unit = e & ~PW_ENTRY_NEXT;
			slot = nibble(p->addr, off);
			if (p->len <= off + PW_STRIDE) {
				fill_entries(&w->t[unit].e[slot], 1U << (off + PW_STRIDE - p->len),
					     leaf);
				break;
			}
		}
	}
	*used = next;
	return 0;
}

/*
 * Wait until no program still runs that may have read the old value of pw_active: XDP
 * programs run inside RCU read-side sections, and MEMBARRIER_CMD_GLOBAL waits for an RCU
 * grace period. After it the old table is idle, so the next reload may overwrite it, and
 * every packet matched against the old set is in the counters.
 */
static void wait_for_readers(void)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		nanosleep(&ts, NULL); /* nohz_full CPUs refuse it; 20 ms outlasts any packet */
}

/* Byte @d of the sort key of @p: its address bytes, then its length. */
static unsigned int key_byte(const struct pw_prefix *p, unsigned int d, unsigned int addr_bytes)
{
	return d < addr_bytes ? p->addr[d] : p->len;
}

/*
 * Sort the @n prefix indices at @idx, all of one family, by address then length: a radix
 * sort (least significant byte first), linear in @n; nothing to do when already sorted.
 */
static int sort_prefixes(const struct pw_prefix *pfx, uint32_t *idx, size_t n,
			 unsigned int addr_bytes)
{
	uint32_t *tmp, *src = idx, *dst;
	size_t i;

	for (i = 1; i < n; i++) {
		const struct pw_prefix *x = &pfx[idx[i - 1]], *y = &pfx[idx[i]];
		int r = memcmp(x->addr, y->addr, addr_bytes);

		if (r > 0 || (!r && x->len > y->len))
			break;
	}
	if (i >= n)
		return 0;
	tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	dst = tmp;
	for (int d = (int)addr_bytes; d >= 0; d--) {
		size_t pos[257] = { 0 };
		uint32_t *t;

		for (i = 0; i < n; i++)
			pos[key_byte(&pfx[src[i]], (unsigned int)d, addr_bytes) + 1]++;
		for (i = 1; i < 257; i++)
			pos[i] += pos[i - 1];
		for (i = 0; i < n; i++)
			dst[pos[key_byte(&pfx[src[i]], (unsigned int)d, addr_bytes)]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != idx)
		memcpy(idx, src, n * sizeof(*idx));
	free(tmp);
	return 0;
}

int pw_bpf_set_prefixes(struct pw_bpf *b, const struct pw_prefix *pfx, const uint32_t *refs,
			size_t n)
{
	struct prefixwatch *s = b->skel;
	uint32_t zero = 0, active = 0, idle, used[PW_FAMILIES];
	size_t nf[PW_FAMILIES] = { 0, 0 };
	uint32_t *order;
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		int f = pfx[i].family == AF_INET ? PW_V4 : PW_V6;

		if (PW_REF_ID(refs[i]) >= pw_bpf_max_ids(b) || PW_REF_SLOT(refs[i]) >= PW_MAX_SLOTS)
			return -ERANGE;
		if (pfx[i].len > (f == PW_V4 ? 32 : 128))
			return -EINVAL;
		nf[f]++;
	}
	if (nf[PW_V4] > b->max_v4 || nf[PW_V6] > b->max_v6)
		return -E2BIG;

	if (bpf_map_lookup_elem(bpf_map__fd(s->maps.pw_active), &zero, &active))
		return -errno;
	idle = active ? 0 : 1;

	/*
	 * Address order (IPv4 first), a prefix before the longer ones inside it: what the
	 * expansion needs, and it makes the units of a subtree consecutive, so a lookup's
	 * path touches few pages and TLB entries (tables live in 4 KiB pages). The poller
	 * passes its prefixes in this order already.
	 */
	order = malloc((n + 1) * sizeof(*order));
	if (!order)
		return -ENOMEM;
	{
		size_t pos[PW_FAMILIES] = { 0, nf[PW_V4] };

		for (size_t i = 0; i < n; i++)
			order[pos[pfx[i].family == AF_INET ? PW_V4 : PW_V6]++] = (uint32_t)i;
	}
	err = sort_prefixes(pfx, order, nf[PW_V4], 4);
	if (!err)
		err = sort_prefixes(pfx, order + nf[PW_V4], nf[PW_V6], 16);
	for (int f = 0; f < PW_FAMILIES && !err; f++) {
		struct bpf_map *maps[PW_FAMILIES][PW_TABLES] = {
			{ s->maps.pw_v4_0, s->maps.pw_v4_1 },
			{ s->maps.pw_v6_0, s->maps.pw_v6_1 },
		};
		struct table_writer w = { .fd = bpf_map__fd(maps[f][idle]),
					  .l1_bits = b->l1_bits[f],
					  .units = b->units[f] };

		err = fill_table(&w, pfx, refs, order + (f == PW_V4 ? 0 : nf[PW_V4]), nf[f],
				 &used[f]);
		if (w.t)
			munmap(w.t, (size_t)w.mapped * sizeof(struct pw_unit));
	}
	free(order);
	if (err)
		return err;

	/* The flip: one update of one array element, atomic for every reader. */
	if (bpf_map_update_elem(bpf_map__fd(s->maps.pw_active), &zero, &idle, BPF_ANY))
		return -errno;
	wait_for_readers();
	b->used[PW_V4] = used[PW_V4];
	b->used[PW_V6] = used[PW_V6];
	return 0;
}

/* Read @n entries of a per-CPU array of pw_counter in batches, summing the CPUs. */
static int read_percpu(struct pw_bpf *b, int fd, uint32_t n, struct pw_counter *out)
{
	uint32_t done = 0, token = 0;

	while (done < n) {
		uint32_t want = n - done < PW_BATCH ? n - done : PW_BATCH;
		uint32_t next = 0, count = want;
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		int err;

		/*
		 * The kernel resumes after the key named by the token it handed out (the last
		 * key of the batch before), not at it: pass that token back, never a count.
		 */
		err = bpf_map_lookup_batch(fd, done ? &token : NULL, &next, b->keys, b->vals,
					   &count, &opts);
		token = next;
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

int pw_bpf_read_classes(struct pw_bpf *b, struct pw_counter out[PW_CLASS_MAX])
{
	return read_percpu(b, bpf_map__fd(b->skel->maps.pw_classes), PW_CLASS_MAX, out);
}

static const struct bpf_map *iface_map(struct pw_bpf *b, uint32_t ifindex)
{
	return ifindex < PW_IFACE_SLOTS ? b->skel->maps.pw_ifaces : b->skel->maps.pw_ifaces_big;
}

int pw_bpf_iface_add(struct pw_bpf *b, uint32_t ifindex)
{
	size_t sz = (size_t)b->ncpus * sizeof(struct pw_counter);
	struct pw_counter *zero = calloc(1, sz);
	int err = 0;

	if (!zero)
		return -ENOMEM;
	/* A fresh start: the slot may hold counts of an earlier interface of that index. */
	if (bpf_map_update_elem(bpf_map__fd(iface_map(b, ifindex)), &ifindex, zero, BPF_ANY))
		err = -errno;
	free(zero);
	return err;
}

int pw_bpf_iface_del(struct pw_bpf *b, uint32_t ifindex)
{
	if (ifindex < PW_IFACE_SLOTS)
		return pw_bpf_iface_add(b, ifindex); /* an array slot cannot go: zero it */
	if (bpf_map_delete_elem(bpf_map__fd(b->skel->maps.pw_ifaces_big), &ifindex) &&
	    errno != ENOENT)
		return -errno;
	return 0;
}

int pw_bpf_iface_read(struct pw_bpf *b, uint32_t ifindex, struct pw_counter *out)
{
	struct pw_counter *vals = b->vals;

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(bpf_map__fd(iface_map(b, ifindex)), &ifindex, vals))
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
