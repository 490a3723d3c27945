// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_lookup.c - the prefix tables (bpf/lookup.h, filled by pw_bpf_set_prefixes) at
 * their edges, through the real XDP program (BPF_PROG_TEST_RUN).
 *
 * Every length from /0 to /32 and /128, alone and nested in one chain; siblings and
 * nested prefixes around the 4-bit level boundaries; /0 under longer prefixes; reloads
 * that remove, add and swap prefixes, refused reloads that leave the old set live; a full
 * table; and a randomized cross-check against a plain longest-prefix match written here.
 * Each frame must be counted exactly once, where the reference says: +1 packet at the
 * expected counter, and the sum of every counter moved by exactly the frames run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "frames.h"
#include "loader.h"
#include "log.h"
#include "prefix.h"

/* The small tables (a /20 first level everywhere), and large IPv4 ones (a /24 first level). */
#define SMALL_V4 4096
#define LARGE_V4 PW_V4_L1_LARGE_MIN
#define MAX_V6	 4096
#define UNMATCHED UINT32_MAX

static struct pw_bpf *bpf;
static uint32_t max_v4, max_ids;
static uint32_t ids_in_use; /* one past the highest id loaded */
static int counters_fd, ncpus;
static struct pw_counter *percpu; /* one value per CPU */
static struct pw_counter *totals_before, *totals_after;

/* splitmix64, seeded: failures reproduce. */
static uint64_t rnd_state = 0x6c6f6f6b7570ULL; /* "lookup" */

static uint64_t rnd(void)
{
	uint64_t z = (rnd_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int maxlen(int family)
{
	return family == AF_INET ? 32 : 128;
}

static int bit_of(const uint8_t *a, unsigned int bit)
{
	return (a[bit / 8] >> (7 - bit % 8)) & 1;
}

static void flip_bit(uint8_t *a, unsigned int bit)
{
	a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
}

/* Clear the bits from @len on: the prefix of length @len of @a. */
static void mask_to(uint8_t *a, unsigned int len, unsigned int max)
{
	for (unsigned int bit = len; bit < max; bit++)
		a[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
}

static struct pw_prefix mkpfx(int family, const uint8_t *addr, unsigned int len)
{
	struct pw_prefix p = {.family = (uint8_t)family, .len = (uint8_t)len};

	memcpy(p.addr, addr, family == AF_INET ? 4 : 16);
	mask_to(p.addr, len, maxlen(family));
	return p;
}

static struct pw_prefix parse(const char *text)
{
	struct pw_prefix p;
	char err[256];

	if (pw_prefix_parse(text, &p, err, sizeof(err)))
		fail_msg("%s: %s", text, err);
	return p;
}

/* Ids are the index in @p; returns what pw_bpf_set_prefixes returned. */
static int load(const struct pw_prefix *p, size_t n)
{
	uint32_t *ids = malloc((n + 1) * sizeof(*ids));
	int err;

	assert_non_null(ids);
	for (size_t i = 0; i < n; i++)
		ids[i] = (uint32_t)i;
	err = pw_bpf_set_prefixes(bpf, p, ids, n);
	if (!err)
		ids_in_use = (uint32_t)n;
	free(ids);
	return err;
}

/* The reference: index of the longest prefix of @p holding @addr, or UNMATCHED. */
static uint32_t ref_lookup(const struct pw_prefix *p, size_t n, int family, const uint8_t *addr)
{
	uint32_t best = UNMATCHED;
	int best_len = -1;

	for (size_t i = 0; i < n; i++) {
		unsigned int bit;

		if (p[i].family != family || (int)p[i].len <= best_len)
			continue;
		for (bit = 0; bit < p[i].len; bit++)
			if (bit_of(p[i].addr, bit) != bit_of(addr, bit))
				break;
		if (bit == p[i].len) {
			best = (uint32_t)i;
			best_len = p[i].len;
		}
	}
	return best;
}

static uint64_t counter_packets(uint32_t id)
{
	uint64_t sum = 0;

	if (bpf_map_lookup_elem(counters_fd, &id, percpu))
		fail_msg("read counter %u: %s", id, strerror(errno));
	for (int c = 0; c < ncpus; c++)
		sum += percpu[c].packets;
	return sum;
}

static uint64_t class_packets(int family)
{
	struct pw_counter cls[PW_CLASS_MAX];

	assert_int_equal(pw_bpf_read_classes(bpf, cls), 0);
	return cls[family == AF_INET ? PW_CLASS_UNMATCHED_V4 : PW_CLASS_UNMATCHED_V6].packets;
}

static uint64_t packets_everywhere(struct pw_counter *buf)
{
	struct pw_counter cls[PW_CLASS_MAX];
	uint64_t sum = 0;

	/* Ids past those in use never move unless the tables are corrupt; then this sum does. */
	assert_int_equal(pw_bpf_read_counters(bpf, ids_in_use, buf), 0);
	assert_int_equal(pw_bpf_read_classes(bpf, cls), 0);
	for (unsigned int i = 0; i < ids_in_use; i++)
		sum += buf[i].packets;
	for (unsigned int c = 0; c < PW_CLASS_MAX; c++)
		sum += cls[c].packets;
	return sum;
}

static void run_to(int family, const uint8_t *addr)
{
	static struct frame f;
	char text[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, text, sizeof(text));
	if (family == AF_INET) {
		frame_eth(&f, ETH_P_IP);
		frame_ipv4(&f, text, 5, 0);
	} else {
		frame_eth(&f, ETH_P_IPV6);
		frame_ipv6(&f, text);
	}
	assert_int_equal(pw_bpf_run(bpf, f.data, f.len), 1);
}

/*
 * Run one frame to @addr and check it was counted at @want (an index of the loaded set, or
 * UNMATCHED) and nowhere else; @what names the case in a failure.
 */
static void expect_at(int family, const uint8_t *addr, uint32_t want, const char *what)
{
	uint64_t before, after, all_before, all_after;
	char text[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, text, sizeof(text));
	all_before = packets_everywhere(totals_before);
	before = want == UNMATCHED ? class_packets(family) : counter_packets(want);
	run_to(family, addr);
	after = want == UNMATCHED ? class_packets(family) : counter_packets(want);
	all_after = packets_everywhere(totals_after);
	if (after - before != 1 || all_after - all_before != 1) {
		char where[32] = "in a class";

		for (unsigned int i = 0; i < ids_in_use; i++)
			if (totals_after[i].packets != totals_before[i].packets)
				snprintf(where, sizeof(where), "at id %u", i);
		fail_msg("%s: %s counted %s, want %s%u (counted %s)", what, text,
			 after - before == 1 ? "there and elsewhere" : "elsewhere",
			 want == UNMATCHED ? "unmatched" : "id ", want == UNMATCHED ? 0 : want,
			 where);
	}
}

/* As expect_at, cheaper: only the expected counter is read (the caller checks totals). */
static void expect_quick(int family, const uint8_t *addr, uint32_t want, const char *what)
{
	uint64_t before = want == UNMATCHED ? class_packets(family) : counter_packets(want);
	uint64_t after;

	run_to(family, addr);
	after = want == UNMATCHED ? class_packets(family) : counter_packets(want);
	if (after - before != 1) {
		char text[INET6_ADDRSTRLEN];

		inet_ntop(family, addr, text, sizeof(text));
		fail_msg("%s: %s not counted at %s%u", what, text,
			 want == UNMATCHED ? "unmatched" : "id ", want == UNMATCHED ? 0 : want);
	}
}

/* A base address with bits that differ from byte to byte and nibble to nibble. */
static void base_addr(int family, uint8_t *a)
{
	static const uint8_t pat[16] = {0xa5, 0x3c, 0x96, 0x0f, 0xe1, 0x78, 0x2d, 0xb4,
					0x5a, 0xc3, 0x69, 0xf0, 0x1e, 0x87, 0xd2, 0x4b};

	memset(a, 0, 16);
	memcpy(a, pat, family == AF_INET ? 4 : 16);
}

/*
 * Each length alone: the first and the last address of the prefix and one in the middle
 * match; the addresses just outside it (the bit before the length flipped) do not.
 */
static void every_length_alone(int family)
{
	unsigned int max = maxlen(family);

	for (unsigned int len = 0; len <= max; len++) {
		struct pw_prefix p;
		uint8_t a[16], b[16];
		char what[64];

		base_addr(family, a);
		p = mkpfx(family, a, len);
		assert_int_equal(load(&p, 1), 0);
		snprintf(what, sizeof(what), "/%u alone, first address", len);
		expect_at(family, p.addr, 0, what);
		memcpy(b, p.addr, 16);
		for (unsigned int bit = len; bit < max; bit++)
			flip_bit(b, bit);
		snprintf(what, sizeof(what), "/%u alone, last address", len);
		expect_at(family, b, 0, what);
		snprintf(what, sizeof(what), "/%u alone, base address", len);
		expect_at(family, a, 0, what);
		if (len > 0) {
			memcpy(b, a, 16);
			flip_bit(b, len - 1);
			snprintf(what, sizeof(what), "/%u alone, just outside", len);
			expect_at(family, b, UNMATCHED, what);
		}
	}
}

/*
 * One chain of every length, /0 to /max, each inside the one before: an address that
 * leaves the chain after bit L (bit L flipped) belongs to the /L, whatever the levels.
 */
static void every_length_nested(int family)
{
	unsigned int max = maxlen(family);
	struct pw_prefix p[129];
	uint8_t a[16], b[16];

	base_addr(family, a);
	for (unsigned int len = 0; len <= max; len++)
		p[len] = mkpfx(family, a, len);
	assert_int_equal(load(p, max + 1), 0);
	for (unsigned int len = 0; len <= max; len++) {
		char what[64];

		memcpy(b, a, 16);
		if (len < max)
			flip_bit(b, len);
		snprintf(what, sizeof(what), "chain of every length, leaving after /%u", len);
		expect_at(family, b, len, what);
		if (len < max) {
			/* Also with every later bit flipped: the far end of the /L. */
			for (unsigned int bit = len + 1; bit < max; bit++)
				flip_bit(b, bit);
			expect_at(family, b, len, what);
		}
	}
}

static void test_every_length_v4(void **state)
{
	(void)state;
	every_length_alone(AF_INET);
	every_length_nested(AF_INET);
}

static void test_every_length_v6(void **state)
{
	(void)state;
	every_length_alone(AF_INET6);
	every_length_nested(AF_INET6);
}

/* Hand-made cases around the first level (/16) and the 4-bit levels under it. */
static void test_nested_and_siblings(void **state)
{
	static const char *const set[] = {
		"10.0.0.0/8",		  /* 0 */
		"10.0.0.0/9",		  /* 1: same start as the /8 */
		"10.128.0.0/9",		  /* 2: its sibling, the /8 is fully covered */
		"10.1.0.0/16",		  /* 3: a first-level entry */
		"10.1.0.0/17",		  /* 4: inside the first unit under it */
		"10.1.2.0/23",		  /* 5: spans two entries of a level */
		"10.1.3.0/24",		  /* 6: inside the /23, the level boundary */
		"10.1.3.128/25",	  /* 7 */
		"10.1.3.129/32",	  /* 8: inside the /25 */
		"10.1.3.130/31",	  /* 9: a sibling of the /32's neighbour */
		"10.255.255.255/32",	  /* 10: last address of the /9 */
		"11.0.0.0/15",		  /* 11: two first-level entries */
		"11.1.0.0/20",		  /* 12: a whole unit entry under a /15 */
		"2001:db8::/32",	  /* 13 */
		"2001:db8::/33",	  /* 14 */
		"2001:db8:8000::/33",	  /* 15 */
		"2001:db8:1::/48",	  /* 16 */
		"2001:db8:1::/49",	  /* 17 */
		"2001:db8:1:0:8000::/65", /* 18 */
		"2001:db8:1::ffff/128",	  /* 19 */
		"::/1",			  /* 20 */
		"8000::/1",		  /* 21 */
	};
	static const struct {
		const char *addr;
		uint32_t want;
	} cases[] = {
		{"10.0.0.1", 1},
		{"10.127.255.255", 1},
		{"10.128.0.0", 2},
		{"10.255.255.254", 2},
		{"10.255.255.255", 10},
		{"10.1.0.0", 4},
		{"10.1.127.255", 4},
		{"10.1.128.0", 3},
		{"10.1.255.255", 3},
		{"10.1.2.0", 5},
		{"10.1.2.255", 5},
		{"10.1.3.0", 6},
		{"10.1.3.127", 6},
		{"10.1.3.128", 7},
		{"10.1.3.129", 8},
		{"10.1.3.130", 9},
		{"10.1.3.131", 9},
		{"10.1.3.132", 7},
		{"10.1.3.255", 7},
		{"10.1.4.0", 4},
		{"10.1.1.255", 4},
		{"9.255.255.255", UNMATCHED},
		{"11.0.0.0", 11},
		{"11.1.255.255", 11},
		{"11.1.0.0", 12},
		{"11.1.15.255", 12},
		{"11.1.16.0", 11},
		{"11.2.0.0", UNMATCHED},
		{"2001:db8::1", 14},
		{"2001:db8:7fff::", 14},
		{"2001:db8:8000::", 15},
		{"2001:db8:1::", 17},
		{"2001:db8:1::ffff", 19},
		{"2001:db8:1::fffe", 17},
		{"2001:db8:1:0:8000::1", 18},
		{"2001:db8:1:8000::", 16},
		{"2001:db8:1:ffff::", 16},
		{"2001:db9::", 20},
		{"::", 20},
		{"8000::", 21},
		{"ffff::1", 21},
	};
	struct pw_prefix p[sizeof(set) / sizeof(set[0])];

	(void)state;
	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		p[i] = parse(set[i]);
	assert_int_equal(load(p, sizeof(set) / sizeof(set[0])), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int family = strchr(cases[i].addr, ':') ? AF_INET6 : AF_INET;
		uint8_t a[16] = {0};

		assert_int_equal(inet_pton(family, cases[i].addr, a), 1);
		/* The reference must agree with the hand-made expectation. */
		assert_int_equal(ref_lookup(p, sizeof(set) / sizeof(set[0]), family, a),
				 cases[i].want);
		expect_at(family, a, cases[i].want, cases[i].addr);
	}
}

/* /0 under longer prefixes: nothing of its family is unmatched, the other family is. */
static void test_default_route(void **state)
{
	static const char *const set[] = {"0.0.0.0/0", "0.0.0.0/32", "255.255.255.255/32",
					  "128.0.0.0/16"};
	static const struct {
		const char *addr;
		uint32_t want;
	} cases[] = {
		{"0.0.0.0", 1},		{"0.0.0.1", 0},	       {"255.255.255.255", 2},
		{"255.255.255.254", 0}, {"128.0.255.255", 3},  {"127.255.255.255", 0},
		{"::", UNMATCHED},	{"ffff::", UNMATCHED},
	};
	struct pw_prefix p[4];

	(void)state;
	for (size_t i = 0; i < 4; i++)
		p[i] = parse(set[i]);
	assert_int_equal(load(p, 4), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int family = strchr(cases[i].addr, ':') ? AF_INET6 : AF_INET;
		uint8_t a[16] = {0};

		assert_int_equal(inet_pton(family, cases[i].addr, a), 1);
		expect_at(family, a, cases[i].want, cases[i].addr);
	}
}

/*
 * Reloads: every table is rebuilt whole, so nothing of a set two reloads back survives
 * in the table reused for the next; an empty set matches nothing.
 */
static void test_reload(void **state)
{
	static const char *const a_set[] = {"10.0.0.0/8", "10.1.2.3/32", "10.1.2.0/28",
					    "2001:db8::/32", "2001:db8::1/128"};
	static const char *const b_set[] = {"10.0.0.0/8", "2001:db8::/32", "192.0.2.0/24"};
	static const char *const c_set[] = {"10.1.2.0/28", "2001:db8::/32"};
	struct pw_prefix a[5], b[3], c[2];
	uint8_t x[16] = {0}, y[16] = {0}, z[16] = {0}, w[16] = {0};

	(void)state;
	for (size_t i = 0; i < 5; i++)
		a[i] = parse(a_set[i]);
	for (size_t i = 0; i < 3; i++)
		b[i] = parse(b_set[i]);
	for (size_t i = 0; i < 2; i++)
		c[i] = parse(c_set[i]);
	inet_pton(AF_INET, "10.1.2.3", x);
	inet_pton(AF_INET6, "2001:db8::1", y);
	inet_pton(AF_INET, "192.0.2.9", z);
	inet_pton(AF_INET, "10.1.2.4", w);

	for (int round = 0; round < 3; round++) {
		assert_int_equal(load(a, 5), 0);
		expect_at(AF_INET, x, 1, "set A: the /32");
		expect_at(AF_INET, w, 2, "set A: the /28");
		expect_at(AF_INET6, y, 4, "set A: the /128");
		expect_at(AF_INET, z, UNMATCHED, "set A: 192.0.2.9");
		assert_int_equal(load(b, 3), 0);
		expect_at(AF_INET, x, 0, "set B: the /32 gone, the /8");
		expect_at(AF_INET, w, 0, "set B: the /28 gone, the /8");
		expect_at(AF_INET6, y, 1, "set B: the /128 gone, the /32");
		expect_at(AF_INET, z, 2, "set B: 192.0.2.0/24");
		assert_int_equal(load(c, 2), 0);
		expect_at(AF_INET, x, 0, "set C: the /28 alone");
		expect_at(AF_INET, z, UNMATCHED, "set C: 192.0.2.9");
		expect_at(AF_INET6, y, 1, "set C: the /32");
		assert_int_equal(load(NULL, 0), 0);
		expect_at(AF_INET, x, UNMATCHED, "empty set");
		expect_at(AF_INET6, y, UNMATCHED, "empty set, IPv6");
	}
}

/* A refused reload (too many prefixes, too many table units) leaves the old set live. */
static void test_refused_reload(void **state)
{
	struct pw_prefix *many = calloc(max_v4 + 1, sizeof(*many));
	struct pw_prefix keep = parse("10.0.0.0/8");
	uint8_t x[16] = { 10, 1, 2, 3 };
	/* /32s each in a /24 of its own need 2 units each, 2 and a sixteenth under a /20 first
	 * level: both more than a table has. */
	uint32_t n_long = pw_bpf_v4_l1_bits(bpf) == 24 ? max_v4 / 7 : max_v4;

	(void)state;
	assert_non_null(many);
	assert_int_equal(load(&keep, 1), 0);
	for (uint32_t i = 0; i <= max_v4; i++) {
		uint8_t a[4] = { (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i, 7 };

		many[i] = mkpfx(AF_INET, a, 32);
	}
	/* One prefix too many. */
	assert_int_equal(load(many, max_v4 + 1), -E2BIG);
	expect_at(AF_INET, x, 0, "after -E2BIG, the old set");
	/* Within the prefix count, but more table units than there are. */
	assert_int_equal(load(many, n_long), -ENOSPC);
	expect_at(AF_INET, x, 0, "after -ENOSPC, the old set");
	free(many);
}

/*
 * A full table fits. Small tables: max_v4 prefixes up to /24, each in its own /16 (1 unit
 * each under the /20 IPv4 first level, the most any such prefix needs), and MAX_V6 /32s
 * each in its own /16 (3 units each under the /20 IPv6 first level, the most any such
 * prefix needs). Large IPv4
 * tables: max_v4 prefixes of which one in 8 is a /32 in a /24 of its own.
 */
static void test_full_table(void **state)
{
	struct pw_prefix *p = calloc(max_v4 + MAX_V6, sizeof(*p));
	const bool large = pw_bpf_v4_l1_bits(bpf) == 24;
	uint64_t before, after;
	uint32_t checked = 0;

	(void)state;
	assert_non_null(p);
	for (uint32_t i = 0; i < max_v4; i++) {
		uint8_t a[4] = { (uint8_t)(1 + i / 256), (uint8_t)i, (uint8_t)(rnd() | 1), 0 };

		if (large) {
			a[0] = (uint8_t)(1 + (i >> 16));
			a[1] = (uint8_t)(i >> 8);
			a[2] = (uint8_t)i;
			a[3] = (uint8_t)rnd();
		}
		p[i] = mkpfx(AF_INET, a, large && i % 8 == 0 ? 32 : 24);
	}
	for (uint32_t i = 0; i < MAX_V6; i++) {
		uint8_t a[16] = { (uint8_t)(0x20 + i / 256), (uint8_t)i, (uint8_t)rnd(),
				  (uint8_t)(rnd() | 1) };

		p[max_v4 + i] = mkpfx(AF_INET6, a, 32);
	}
	assert_int_equal(load(p, max_v4 + MAX_V6), 0);
	before = packets_everywhere(totals_before);
	for (uint32_t i = 0; i < max_v4 + MAX_V6; i += large ? 4099 : 97) {
		uint8_t a[16];
		int family = p[i].family;

		memcpy(a, p[i].addr, 16);
		if (p[i].len != 32 || family != AF_INET)
			a[family == AF_INET ? 3 : 15] = (uint8_t)rnd();
		expect_quick(family, a, i, "full table");
		checked++;
	}
	after = packets_everywhere(totals_after);
	assert_int_equal(after - before, checked);
	free(p);
}

/* Counters are read right across the boundaries of the batched reads (8192 ids). */
static void test_ids_across_batches(void **state)
{
	static const uint32_t want[] = { 0, 8191, 8192, 8193, 16383, 16384, 24576 };
	enum { N = sizeof(want) / sizeof(want[0]) };
	struct pw_counter *c0 = calloc(max_ids, sizeof(*c0)), *c1 = calloc(max_ids, sizeof(*c1));
	struct pw_prefix p[N];
	uint32_t ids[N];

	(void)state;
	if (max_ids <= want[N - 1]) {
		free(c0);
		free(c1);
		skip();
	}
	assert_non_null(c0);
	assert_non_null(c1);
	for (uint32_t i = 0; i < N; i++) {
		uint8_t a[4] = { 100, (uint8_t)i, 0, 0 };

		p[i] = mkpfx(AF_INET, a, 16);
		ids[i] = want[i];
	}
	assert_int_equal(pw_bpf_set_prefixes(bpf, p, ids, N), 0);
	assert_int_equal(pw_bpf_read_counters(bpf, max_ids, c0), 0);
	for (uint32_t i = 0; i < N; i++)
		for (uint32_t k = 0; k <= i; k++)
			run_to(AF_INET, p[i].addr);
	assert_int_equal(pw_bpf_read_counters(bpf, max_ids, c1), 0);
	for (uint32_t id = 0; id < max_ids; id++) {
		uint64_t moved = c1[id].packets - c0[id].packets, expect = 0;

		for (uint32_t i = 0; i < N; i++)
			if (want[i] == id)
				expect = i + 1;
		if (moved != expect)
			fail_msg("id %u moved by %llu, want %llu", id, (unsigned long long)moved,
				 (unsigned long long)expect);
	}
	free(c0);
	free(c1);
}

/* Random prefixes around a few bases (so that they nest), each length as likely. */
static size_t random_set(struct pw_prefix *p, size_t n, const uint8_t bases[][16], size_t nb)
{
	size_t count = 0;

	while (count < n) {
		int family = rnd() % 3 ? AF_INET : AF_INET6;
		unsigned int max = maxlen(family), len = (unsigned int)(rnd() % (max + 1));
		uint8_t a[16];
		bool dup = false;

		memcpy(a, bases[rnd() % nb], 16);
		/* Leave the base somewhere before the length: siblings and cousins. */
		if (len > 0 && rnd() % 2) {
			unsigned int from = (unsigned int)(rnd() % len);

			for (unsigned int bit = from; bit < len; bit++)
				if (rnd() % 2)
					flip_bit(a, bit);
		}
		p[count] = mkpfx(family, a, len);
		for (size_t i = 0; i < count && !dup; i++)
			dup = pw_prefix_equal(&p[i], &p[count]);
		if (!dup)
			count++;
	}
	return count;
}

/*
 * Thousands of random prefixes and addresses against the reference, over several
 * reloads. Addresses are drawn near the bases too (most fall in some prefix, at every
 * depth), and a few anywhere.
 */
static void test_random_cross_check(void **state)
{
	enum { ROUNDS = 4, PREFIXES = 2000, ADDRS = 3000, BASES = 24 };
	static struct pw_prefix p[PREFIXES];
	uint8_t bases[BASES][16];
	size_t checked = 0;

	(void)state;
	for (int round = 0; round < ROUNDS; round++) {
		uint64_t before, after;
		size_t at_prefix = 0;

		for (int i = 0; i < BASES; i++)
			for (int j = 0; j < 16; j++)
				bases[i][j] = (uint8_t)rnd();
		random_set(p, PREFIXES, (const uint8_t(*)[16])bases, BASES);
		assert_int_equal(load(p, PREFIXES), 0);
		before = packets_everywhere(totals_before);
		for (int i = 0; i < ADDRS; i++) {
			int family = rnd() % 3 ? AF_INET : AF_INET6;
			unsigned int max = maxlen(family);
			uint8_t a[16];
			uint32_t want;
			char what[64];

			memcpy(a, bases[rnd() % BASES], 16);
			if (rnd() % 16 == 0) {
				for (int j = 0; j < 16; j++)
					a[j] = (uint8_t)rnd();
			} else {
				unsigned int from = (unsigned int)(rnd() % (max + 1));

				for (unsigned int bit = from; bit < max; bit++)
					if (rnd() % 2)
						flip_bit(a, bit);
			}
			want = ref_lookup(p, PREFIXES, family, a);
			at_prefix += want != UNMATCHED;
			snprintf(what, sizeof(what), "round %d, address %d", round, i);
			expect_quick(family, a, want, what);
			checked++;
		}
		after = packets_everywhere(totals_after);
		/* Each frame went where expected; none went anywhere else too. */
		assert_int_equal(after - before, ADDRS);
		/* The draw must exercise matches, not only misses. */
		assert_true(at_prefix > ADDRS / 2);
	}
	printf("# cross-checked %zu addresses against %d random prefixes x %d reloads\n", checked,
	       PREFIXES, ROUNDS);
}

static int setup_with(uint32_t v4)
{
	struct pw_bpf_opts o = { .max_v4 = v4, .max_v6 = MAX_V6 };
	int err;

	pw_log_hook_libbpf();
	err = pw_bpf_open(&o, &bpf);
	if (!err)
		err = pw_bpf_load(bpf);
	if (err) {
		fprintf(stderr, "cannot load the BPF program: %s (needs root and BPF)\n",
			strerror(-err));
		return -1;
	}
	max_v4 = v4;
	max_ids = pw_bpf_max_ids(bpf);
	counters_fd = bpf_map__fd(bpf_object__find_map_by_name(pw_bpf_object(bpf), "pw_counters"));
	ncpus = libbpf_num_possible_cpus();
	percpu = calloc((size_t)ncpus, sizeof(*percpu));
	totals_before = calloc(max_ids, sizeof(*totals_before));
	totals_after = calloc(max_ids, sizeof(*totals_after));
	if (counters_fd < 0 || !percpu || !totals_before || !totals_after)
		return -1;
	/* The first level these tests mean to cover. */
	return pw_bpf_v4_l1_bits(bpf) == (v4 >= PW_V4_L1_LARGE_MIN ? 24 : PW_L1_BITS) ? 0 : -1;
}

static int setup_small(void **state)
{
	(void)state;
	return setup_with(SMALL_V4);
}

static int setup_large(void **state)
{
	(void)state;
	return setup_with(LARGE_V4);
}

static int teardown(void **state)
{
	(void)state;
	free(percpu);
	free(totals_before);
	free(totals_after);
	pw_bpf_close(bpf);
	bpf = NULL;
	return 0;
}

/* ---- the table switch under traffic ---- */

#define SWITCH_RELOADS 200 /* at least; then on until SWITCH_OVERLAPS reloads met a slow run */
#define SWITCH_OVERLAPS 20
#define SWITCH_RELOADS_MAX 20000
#define SWITCH_REPEAT 256
#define SLOW_LOOPS 160000 /* a slow reader's spin: within the verifier's 1M instructions */
#define SLOW_RUNS_MAX 100000
#define SWITCH_FILL 48 /* filler /128s around the target, their number varying per reload */

struct switch_reader {
	pthread_t thread;
	const struct frame *f;
	atomic_bool *stop;
	uint64_t frames; /* run and passed */
	int err;	 /* errno of a refused run, or -1 for a verdict other than XDP_PASS */
};

/* Run the real program on the frame, @SWITCH_REPEAT times a call, until told to stop. */
static void *switch_reader_main(void *arg)
{
	struct switch_reader *r = arg;

	while (!atomic_load(r->stop)) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = r->f->data,
			    .data_size_in = (uint32_t)r->f->len, .repeat = SWITCH_REPEAT);

		if (bpf_prog_test_run_opts(pw_bpf_prog_fd(bpf), &o)) {
			r->err = errno;
			break;
		}
		if (o.retval != XDP_PASS) {
			r->err = -1;
			break;
		}
		r->frames += SWITCH_REPEAT;
	}
	return NULL;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * A slow reader: an XDP program that spins SLOW_LOOPS times before passing the frame,
 * standing for a packet whose match is interrupted or preempted. Like every XDP program
 * it runs inside an RCU read-side section, the one the switch must wait for. Each run
 * logs when it started and ended.
 */
struct slow_run {
	uint64_t start, end; /* as the program itself read the clock */
};

struct slow_reader {
	pthread_t thread;
	int prog_fd;
	const struct frame *f;
	atomic_bool *stop;
	struct slow_run *runs;
	atomic_size_t n;
	atomic_bool in_run; /* set just before a run's call, cleared after */
	int err;
};

static int load_slow_reader(void)
{
	/*
	 * r7 = bpf_ktime_get_ns(); spin (two dependent 64-bit divisions an iteration, the
	 * slowest plain instruction); write r7 and bpf_ktime_get_ns() into the frame's first
	 * 16 bytes (its run's start and end on CLOCK_MONOTONIC); pass.
	 */
	const struct bpf_insn spin[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_6, .src_reg = BPF_REG_1 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_ktime_get_ns },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_7, .src_reg = BPF_REG_0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_8, .imm = SLOW_LOOPS },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_9, .imm = 0x7fffffff },
		{ .code = BPF_ALU64 | BPF_DIV | BPF_K, .dst_reg = BPF_REG_9, .imm = 3 },
		{ .code = BPF_ALU64 | BPF_OR | BPF_K, .dst_reg = BPF_REG_9, .imm = 0x40000000 },
		{ .code = BPF_ALU64 | BPF_DIV | BPF_K, .dst_reg = BPF_REG_9, .imm = 3 },
		{ .code = BPF_ALU64 | BPF_OR | BPF_K, .dst_reg = BPF_REG_9, .imm = 0x40000000 },
		{ .code = BPF_ALU64 | BPF_SUB | BPF_K, .dst_reg = BPF_REG_8, .imm = 1 },
		{ .code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = BPF_REG_8, .off = -6 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_ktime_get_ns },
		{ .code = BPF_LDX | BPF_W | BPF_MEM, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_6,
		  .off = offsetof(struct xdp_md, data) },
		{ .code = BPF_LDX | BPF_W | BPF_MEM, .dst_reg = BPF_REG_3, .src_reg = BPF_REG_6,
		  .off = offsetof(struct xdp_md, data_end) },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_4, .src_reg = BPF_REG_2 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_4, .imm = 16 },
		{ .code = BPF_JMP | BPF_JGT | BPF_X, .dst_reg = BPF_REG_4, .src_reg = BPF_REG_3,
		  .off = 2 },
		{ .code = BPF_STX | BPF_DW | BPF_MEM, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_7 },
		{ .code = BPF_STX | BPF_DW | BPF_MEM, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_0,
		  .off = 8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	static char log[4096];
	LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log, .log_size = sizeof(log));
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "pw_slow_reader", "GPL", spin,
			       sizeof(spin) / sizeof(spin[0]), &o);

	if (fd < 0)
		fail_msg("load the slow reader: %s\n%s", strerror(errno), log);
	return fd;
}

static void *slow_reader_main(void *arg)
{
	struct slow_reader *r = arg;

	while (!atomic_load(r->stop) && r->n < SLOW_RUNS_MAX) {
		uint8_t out[FRAME_MAX];
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = r->f->data,
			    .data_size_in = (uint32_t)r->f->len, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);

		atomic_store(&r->in_run, true);
		if (bpf_prog_test_run_opts(r->prog_fd, &o)) {
			r->err = errno;
			break;
		}
		atomic_store(&r->in_run, false);
		memcpy(&r->runs[atomic_load(&r->n)], out, sizeof(r->runs[0]));
		atomic_fetch_add(&r->n, 1);
	}
	return NULL;
}

/*
 * No frame is lost or miscounted across the double-buffered switch: threads run the real
 * program (BPF_PROG_TEST_RUN, repeated) on frames to one address while this thread
 * reloads the tables SWITCH_RELOADS times. The address's /128 is in every set, under id
 * 0, 1 or 2 in turn, among a varying number of other /128s (so the trie's units move
 * between reloads). Every frame must be counted exactly once, at ids 0..2: none
 * unmatched, none at another prefix, none lost. Without the wait for readers after the
 * switch, the next reload rewrites the table that a reader still walks, and frames go
 * unmatched or astray.
 */
static void test_switch_under_traffic(void **state)
{
	const size_t n_max = 2 * SWITCH_FILL + 1;
	struct pw_prefix *p = calloc(n_max, sizeof(*p)), *q = calloc(n_max, sizeof(*q));
	uint32_t *ids = calloc(n_max, sizeof(*ids)), *qid = calloc(n_max, sizeof(*qid));
	struct switch_reader rd;
	struct slow_reader slow = { 0 };
	uint64_t (*reload_at)[2] = calloc(SWITCH_RELOADS_MAX + 1, sizeof(*reload_at));
	size_t checked = 0;
	int k;
	size_t overlaps = 0, unwaited = 0;
	uint64_t slow_ns = 0;
	struct pw_counter *before = calloc(n_max + 3, sizeof(*before));
	struct pw_counter *after = calloc(n_max + 3, sizeof(*after));
	struct pw_counter cls0[PW_CLASS_MAX], cls1[PW_CLASS_MAX];
	uint64_t sent = 0, at_target = 0, elsewhere = 0, retired = 0, late = 0;
	atomic_bool stop = false;
	static struct frame f;
	uint8_t x[16];

	(void)state;
	assert_true(p && q && ids && qid && before && after && reload_at);
	inet_pton(AF_INET6, "2001:db8:5:7:9:b:d:f", x);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, "2001:db8:5:7:9:b:d:f");
	/* the fillers: /128s sharing the target's first 48 bits, on both sides of it */
	for (size_t i = 0; i < 2 * SWITCH_FILL; i++) {
		memcpy(p[i + 1].addr, x, 16);
		p[i + 1].addr[6] = (uint8_t)(i < SWITCH_FILL ? i : 0x80 + i);
		p[i + 1].addr[15] ^= (uint8_t)(rnd() | 1); /* never the target */
		p[i + 1].family = AF_INET6;
		p[i + 1].len = 128;
	}
	p[0] = mkpfx(AF_INET6, x, 128);
	for (size_t i = 0; i < n_max; i++)
		ids[i] = (uint32_t)i + 2; /* fillers at 3.., the target at 0, 1 or 2 */
	assert_int_equal(pw_bpf_read_counters(bpf, (uint32_t)n_max + 3, before), 0);
	assert_int_equal(pw_bpf_read_classes(bpf, cls0), 0);
	ids[0] = 0;
	assert_int_equal(pw_bpf_set_prefixes(bpf, p, ids, n_max), 0);
	/* q, qid: the set of a reload is the target at q[skip], then the fillers after it */
	memcpy(q, p, n_max * sizeof(*q));
	memcpy(qid, ids, n_max * sizeof(*qid));

	rd = (struct switch_reader){ .f = &f, .stop = &stop };
	slow = (struct slow_reader){ .prog_fd = load_slow_reader(), .f = &f, .stop = &stop,
				     .runs = calloc(SLOW_RUNS_MAX, sizeof(*slow.runs)) };
	assert_non_null(slow.runs);
	assert_int_equal(pthread_create(&rd.thread, NULL, switch_reader_main, &rd), 0);
	assert_int_equal(pthread_create(&slow.thread, NULL, slow_reader_main, &slow), 0);
	for (k = 1; k <= SWITCH_RELOADS_MAX && (k <= SWITCH_RELOADS || overlaps < SWITCH_OVERLAPS);
	     k++) {
		/* the target and a varying share of the fillers: the units move every time */
		size_t skip = (size_t)(k * 7) % SWITCH_FILL;
		int err;

		q[skip] = p[0];
		qid[skip] = (uint32_t)(k % 3);
		/* aim at the middle of a slow run (whether it hit is worked out at the end) */
		while (!atomic_load(&slow.in_run) && !slow.err)
			sched_yield();
		for (uint64_t t = mono_ns(); mono_ns() - t < 5000;)
			;
		reload_at[k][0] = mono_ns();
		err = pw_bpf_set_prefixes(bpf, q + skip, qid + skip, n_max - skip);
		reload_at[k][1] = mono_ns();
		q[skip] = p[skip];
		qid[skip] = ids[skip];
		if (err) {
			atomic_store(&stop, true);
			fail_msg("reload %d: %s", k, strerror(-err));
		}
		/*
		 * On return no frame is still being matched against the set before: the id
		 * the target left (k - 1) % 3 must not move until it is given out again, two
		 * reloads on. Read it now, check it after the next reload.
		 */
		if (k > 1 && counter_packets((uint32_t)((k + 1) % 3)) != retired)
			late++;
		retired = counter_packets((uint32_t)((k - 1) % 3));
		/*
		 * A slow run that began before a reload was called and ended after may have
		 * read the old table: the reload must not return before it ended. Orderings of
		 * one clock (CLOCK_MONOTONIC, which bpf_ktime_get_ns reads), no threshold.
		 * Every reload called before a finished run ended is already logged.
		 */
		for (size_t n = atomic_load(&slow.n); checked < n; checked++) {
			const struct slow_run *r = &slow.runs[checked];

			for (int j = 1; j <= k; j++) {
				if (r->start >= reload_at[j][0] || r->end <= reload_at[j][0])
					continue;
				overlaps++;
				slow_ns = r->end - r->start;
				if (reload_at[j][1] < r->end)
					unwaited++;
			}
		}
	}
	atomic_store(&stop, true);
	pthread_join(rd.thread, NULL);
	pthread_join(slow.thread, NULL);
	close(slow.prog_fd);
	if (rd.err)
		fail_msg("reader: %s", rd.err > 0 ? strerror(rd.err) : "a verdict other than XDP_PASS");
	if (slow.err)
		fail_msg("slow reader: %s", strerror(slow.err));
	sent = rd.frames;
	free(slow.runs);
	free(reload_at);
	assert_int_equal(pw_bpf_read_counters(bpf, (uint32_t)n_max + 3, after), 0);
	assert_int_equal(pw_bpf_read_classes(bpf, cls1), 0);
	for (uint32_t id = 0; id < n_max + 3; id++) {
		uint64_t d = after[id].packets - before[id].packets;

		if (id < 3)
			at_target += d;
		else
			elsewhere += d;
	}
	printf("# %llu frames under %d reloads: %llu at the target, %llu elsewhere, %llu "
	       "unmatched; %llu reloads returned before the frames under the old set were "
	       "counted; %zu reloads during a slow reader (%.0f us), %zu of them returned before it "
	       "ended\n",
	       (unsigned long long)sent, k - 1, (unsigned long long)at_target,
	       (unsigned long long)elsewhere,
	       (unsigned long long)(cls1[PW_CLASS_UNMATCHED_V6].packets -
				    cls0[PW_CLASS_UNMATCHED_V6].packets),
	       (unsigned long long)late, overlaps, (double)slow_ns / 1e3, unwaited);
	assert_true(sent > 0);
	assert_int_equal(late, 0);
	assert_true(overlaps > 0); /* else the slow reader proved nothing */
	assert_int_equal(unwaited, 0);
	assert_int_equal(cls1[PW_CLASS_UNMATCHED_V6].packets - cls0[PW_CLASS_UNMATCHED_V6].packets,
			 0);
	assert_int_equal(elsewhere, 0);
	assert_int_equal(at_target, sent);
	free(p);
	free(q);
	free(ids);
	free(qid);
	free(before);
	free(after);
}

/* ---- interface counters ---- */

/* Run @n copies of @f as if received on @ifindex (which must exist in this namespace). */
static void run_on(const struct frame *f, uint32_t ifindex, int n)
{
	struct xdp_md ctx = { .data = 0, .data_end = (uint32_t)f->len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->data, .data_size_in = (uint32_t)f->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = (uint32_t)n);

	if (bpf_prog_test_run_opts(pw_bpf_prog_fd(bpf), &o))
		fail_msg("run on ifindex %u: %s", ifindex, strerror(errno));
	assert_int_equal(o.retval, XDP_PASS);
}

/*
 * Frames are counted per ingress interface, below PW_IFACE_SLOTS in an array slot, from it
 * on in a hash: both sides of the boundary and far beyond it, on veth devices created
 * with those indexes in a network namespace of this test's own (it goes with the test).
 */
static void test_iface_counters(void **state)
{
	static const uint32_t idx[] = { 7, PW_IFACE_SLOTS - 1, PW_IFACE_SLOTS, PW_IFACE_SLOTS + 1,
					100000 };
	static struct frame f;
	struct pw_counter c;
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	char cmd[256];

	(void)state;
	assert_true(home >= 0);
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
		snprintf(cmd, sizeof(cmd),
			 "ip link add pwt%u index %u type veth peer name pwp%u index %zu && "
			 "ip link set pwt%u up",
			 idx[i], idx[i], idx[i], 200000 + i, idx[i]);
		if (system(cmd)) {
			setns(home, CLONE_NEWNET);
			close(home);
			fail_msg("cannot create a veth device of index %u", idx[i]);
		}
	}
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, "198.51.100.1", 5, 0);
	frame_pad(&f, 100);
	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
		const uint32_t ifindex = idx[i];

		assert_int_equal(pw_bpf_iface_add(bpf, ifindex), 0);
		run_on(&f, ifindex, (int)i + 3);
	}
	/* each counted its own frames, and only those */
	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
		assert_int_equal(pw_bpf_iface_read(bpf, idx[i], &c), 0);
		if (c.packets != i + 3 || c.bytes != (i + 3) * f.len)
			fail_msg("ifindex %u: %llu packets, %llu bytes; expected %zu and %zu", idx[i],
				 (unsigned long long)c.packets, (unsigned long long)c.bytes, i + 3,
				 (i + 3) * f.len);
	}
	/* added again: from zero; removed (beyond the array): gone, and frames there pass */
	assert_int_equal(pw_bpf_iface_add(bpf, PW_IFACE_SLOTS), 0);
	assert_int_equal(pw_bpf_iface_read(bpf, PW_IFACE_SLOTS, &c), 0);
	assert_int_equal(c.packets, 0);
	assert_int_equal(pw_bpf_iface_del(bpf, 100000), 0);
	assert_int_equal(pw_bpf_iface_read(bpf, 100000, &c), -ENOENT);
	run_on(&f, 100000, 2);
	assert_int_equal(pw_bpf_iface_read(bpf, PW_IFACE_SLOTS + 1, &c), 0);
	assert_int_equal(c.packets, 6);
	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)
		pw_bpf_iface_del(bpf, idx[i]);
	assert_int_equal(setns(home, CLONE_NEWNET), 0);
	close(home);
}

/* ---- the loader around the tables: pins ---- */

static char pin_dir[128], pin_block[256];

static int count_entries(const char *dir)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Ids beyond PW_MAX_IDS would spill into the slot bits of a table entry: refused. */
static void test_ids_beyond_the_entry(void **state)
{
	struct pw_bpf_opts o = { .max_v4 = 1024, .max_v6 = 1024, .max_ids = PW_MAX_IDS + 1 };
	struct pw_bpf *b = NULL;

	(void)state;
	assert_int_equal(pw_bpf_open(&o, &b), -E2BIG);
	o.max_ids = PW_MAX_IDS;
	assert_int_equal(pw_bpf_open(&o, &b), 0);
	pw_bpf_close(b);
}

/*
 * Pinning is all or nothing: when the last map cannot be pinned (a directory sits where
 * its pin goes), the maps pinned before it are unpinned, and the error comes back as
 * -errno. The old code left every earlier pin behind.
 */
static void test_pin_all_or_nothing(void **state)
{
	const struct bpf_map *map, *last = NULL;
	int err;

	(void)state;
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/prefixwatch-test-pin-%d", (int)getpid());
	assert_int_equal(mkdir(pin_dir, 0700), 0);
	bpf_object__for_each_map(map, pw_bpf_object(bpf))
		if (!bpf_map__is_internal(map))
			last = map;
	assert_non_null(last);
	snprintf(pin_block, sizeof(pin_block), "%s/%s", pin_dir, bpf_map__name(last));
	assert_int_equal(mkdir(pin_block, 0700), 0);

	err = pw_bpf_pin(bpf, pin_dir);
	assert_int_equal(err, -EISDIR);
	/* only the blocking directory is left: no pin of ours */
	assert_int_equal(count_entries(pin_dir), 1);
	bpf_object__for_each_map(map, pw_bpf_object(bpf))
		assert_false(bpf_map__is_pinned(map));

	/* once the way is clear, every map pins, and unpinning removes them all */
	assert_int_equal(rmdir(pin_block), 0);
	pin_block[0] = '\0';
	assert_int_equal(pw_bpf_pin(bpf, pin_dir), 0);
	assert_true(count_entries(pin_dir) >= 9);
	pw_bpf_unpin(bpf);
	assert_int_equal(count_entries(pin_dir), 0);
	assert_int_equal(rmdir(pin_dir), 0);
	pin_dir[0] = '\0';
}

/* Whatever a failed test left in bpffs goes. */
static int teardown_pins(void **state)
{
	pw_bpf_unpin(bpf);
	if (pin_block[0])
		rmdir(pin_block);
	if (pin_dir[0]) {
		struct dirent *de;
		DIR *d = opendir(pin_dir);
		char path[512];

		while (d && (de = readdir(d))) {
			snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name);
			unlink(path);
		}
		if (d)
			closedir(d);
		rmdir(pin_dir);
	}
	return teardown(state);
}

int main(void)
{
	const struct CMUnitTest small[] = {
		cmocka_unit_test(test_every_length_v4),
		cmocka_unit_test(test_every_length_v6),
		cmocka_unit_test(test_nested_and_siblings),
		cmocka_unit_test(test_default_route),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_refused_reload),
		cmocka_unit_test(test_full_table),
		cmocka_unit_test(test_random_cross_check),
	};
	/* The same on IPv4 tables large enough for a /24 first level (DIR-24). */
	const struct CMUnitTest large[] = {
		cmocka_unit_test(test_every_length_v4),
		cmocka_unit_test(test_nested_and_siblings),
		cmocka_unit_test(test_default_route),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_refused_reload),
		cmocka_unit_test(test_full_table),
		cmocka_unit_test(test_random_cross_check),
		cmocka_unit_test(test_ids_across_batches),
	};
	const struct CMUnitTest loader[] = {
		cmocka_unit_test(test_pin_all_or_nothing),
		cmocka_unit_test(test_ids_beyond_the_entry),
		cmocka_unit_test(test_switch_under_traffic),
		cmocka_unit_test(test_iface_counters),
	};
	int failed;

	failed = cmocka_run_group_tests_name("bpf lookup, /20 first level", small, setup_small,
					     teardown);
	failed += cmocka_run_group_tests_name("bpf lookup, /24 first level for IPv4", large,
					      setup_large, teardown);
	failed += cmocka_run_group_tests_name("bpf loader", loader, setup_small, teardown_pins);
	return failed;
}
