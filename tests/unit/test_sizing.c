// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_sizing.c - the table units a prefix set fills (pw_bpf_units) and the one decision
 * `check`, `run` and `replay` share (pw_bpf_size): exact figures worked out by hand from
 * the trie's layout (include/prefixwatch.h), and sets just at and just above the limit.
 * No BPF: sizing is arithmetic.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "config.h"
#include "loader.h"
#include "prefix.h"

#define L1_UNITS_16 4096U    /* 2^16 entries, 16 a unit */
#define L1_UNITS_20 65536U   /* 2^20 entries: the IPv6 first level */
#define L1_UNITS_24 1048576U /* 2^24 entries */

static struct pw_prefix P(const char *s) {
	struct pw_prefix p;
	char err[256];

	if (pw_prefix_parse(s, &p, err, sizeof(err)))
		fail_msg("%s: %s", s, err);
	return p;
}

/* Units of the prefixes given as text (sorted here), under a first level of @l1. */
static uint64_t
units_of(unsigned int l1, const char *const *text, size_t n)
{
	struct pw_prefix p[16];

	assert_true(n <= 16);
	for (size_t i = 0; i < n; i++)
		p[i] = P(text[i]);
	qsort(p, n, sizeof(*p), pw_prefix_cmp);
	return pw_bpf_units(p, n, l1);
}

#define UNITS(l1, ...)                                   \
	units_of(l1, (const char *const[]){__VA_ARGS__}, \
		 sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/*
 * A prefix of length L takes one unit under each level boundary off = l1, l1+4, ... with
 * off < L, keyed by its first off bits; prefixes sharing those bits share the unit.
 */
static void test_units_by_hand(void **state)
{
	(void)state;
	assert_int_equal(pw_bpf_units(NULL, 0, 16), L1_UNITS_16);
	assert_int_equal(UNITS(16, "10.0.0.0/8", "10.1.0.0/16"), L1_UNITS_16);
	assert_int_equal(UNITS(16, "10.1.0.0/17"), L1_UNITS_16 + 1);
	assert_int_equal(UNITS(16, "10.1.0.0/20"), L1_UNITS_16 + 1);
	assert_int_equal(UNITS(16, "10.1.0.0/21"), L1_UNITS_16 + 2);
	/* a /32: boundaries 16, 20, 24, 28 */
	assert_int_equal(UNITS(16, "10.1.2.3/32"), L1_UNITS_16 + 4);
	/* two /32s in one /24 share 16, 20, 24; each has its own unit at 28 */
	assert_int_equal(UNITS(16, "10.1.2.3/32", "10.1.2.200/32"), L1_UNITS_16 + 5);
	/* in one /28: everything shared */
	assert_int_equal(UNITS(16, "10.1.2.3/32", "10.1.2.4/32"), L1_UNITS_16 + 4);
	/* in different /16s: nothing shared */
	assert_int_equal(UNITS(16, "10.1.2.3/32", "10.2.2.3/32"), L1_UNITS_16 + 8);
	/* nested: the /20 takes the unit at 16, the /24 shares it and adds one at 20 */
	assert_int_equal(UNITS(16, "10.1.0.0/20", "10.1.0.0/24"), L1_UNITS_16 + 2);
	/* the /25 ends in the /32s' unit at 24: nothing of its own; .200's own unit at 28 */
	assert_int_equal(UNITS(16, "10.1.2.3/32", "10.1.2.128/25", "10.1.2.200/32"),
			 L1_UNITS_16 + 4 + 1);
	/* between two /32s of one /28 (in sort order), a /30 in it: all on one path */
	assert_int_equal(UNITS(16, "10.1.2.1/32", "10.1.2.4/30", "10.1.2.9/32"), L1_UNITS_16 + 4);
	/* DIR-24: only what is longer than /24 takes units, at 24 and 28 */
	assert_int_equal(UNITS(24, "10.1.2.0/24", "10.0.0.0/8"), L1_UNITS_24);
	assert_int_equal(UNITS(24, "10.1.2.3/32"), L1_UNITS_24 + 2);
	assert_int_equal(UNITS(24, "10.1.2.3/32", "10.1.2.99/32"), L1_UNITS_24 + 3);
	/* IPv6: a /128 crosses 28 boundaries (16, 20, ..., 124) */
	assert_int_equal(UNITS(16, "2001:db8::1/128"), L1_UNITS_16 + 28);
	/* two /128s in one /64 share the 13 boundaries 16..64, then 15 each */
	assert_int_equal(UNITS(16, "2001:db8::1/128", "2001:db8::8000:0:0:1/128"),
			 L1_UNITS_16 + 13 + 2 * 15);
	assert_int_equal(UNITS(16, "2001:db8::/32", "2001:db8:1::/48"), L1_UNITS_16 + 4 + 4);
	/* under the IPv6 first level of 20 bits: one boundary fewer on every path */
	assert_int_equal(UNITS(20, "2001:db8::1/128"), L1_UNITS_20 + 27);
	assert_int_equal(UNITS(20, "2001:db8::/32", "2001:db8:1::/48"), L1_UNITS_20 + 3 + 4);
	assert_int_equal(UNITS(20, "2001::/20", "2001:d00::/24"), L1_UNITS_20 + 1);
}

/* A config of one group holding @n prefixes (any order; sorted and made distinct here). */
static void config_of(struct pw_config *cfg, struct pw_prefix *p, size_t n)
{
	struct pw_group *g;
	size_t k = 0;

	pw_config_defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "test.ini");
	cfg->groups = calloc(1, sizeof(*cfg->groups));
	assert_non_null(cfg->groups);
	cfg->n_groups = 1;
	g = &cfg->groups[0];
	snprintf(g->name, sizeof(g->name), "g");
	pw_detect_defaults(&g->det);
	qsort(p, n, sizeof(*p), pw_prefix_cmp);
	for (size_t i = 0; i < n; i++)
		if (!k || !pw_prefix_equal(&p[k - 1], &p[i]))
			p[k++] = p[i];
	g->prefixes = p;
	g->n_prefixes = g->cap = k;
}

/*
 * @n_full /128s, each in a /16 of its own (27 units each under the /20 first level), then
 * @n_short /24s in /16s of their own (1 unit each): 65536 + 27 n_full + n_short units
 * exactly.
 */
static struct pw_prefix *v6_set(size_t n_full, size_t n_short)
{
	struct pw_prefix *p = calloc(n_full + n_short + 1, sizeof(*p));

	assert_non_null(p);
	assert_true(n_full + n_short <= 65536);
	for (size_t i = 0; i < n_full + n_short; i++) {
		p[i].family = AF_INET6;
		p[i].addr[0] = (uint8_t)(i >> 8);
		p[i].addr[1] = (uint8_t)i;
		if (i < n_full) {
			p[i].len = 128;
			p[i].addr[15] = 1;
		} else {
			p[i].len = 24;
		}
	}
	return p;
}

/*
 * pw_bpf_size refuses exactly the sets whose trie does not fit a table: one unit at the
 * limit passes and gives tables of at least that many units, one more is refused with
 * the figure, with and without room to grow. The old check compared the count of
 * prefixes with 262,144, and passed sets that run could not load.
 */
static void test_size_at_the_limit(void **state)
{
	const uint32_t limit = pw_bpf_max_units(AF_INET6);
	const size_t full = (limit - L1_UNITS_20) / 27;
	const size_t rest = limit - L1_UNITS_20 - 27 * full;
	struct pw_bpf_opts o;
	struct pw_config cfg;
	char err[512], want[128];

	(void)state;
	/* the limit: the tables of a full set of /32-like IPv6 prefixes */
	assert_int_equal(limit, 65536 + 1024 + 3 * 262144);
	config_of(&cfg, v6_set(full, rest), full + rest);
	assert_int_equal(pw_bpf_units(cfg.groups[0].prefixes, cfg.groups[0].n_prefixes, 20), limit);
	for (int grow = 0; grow < 2; grow++) {
		err[0] = '\0';
		assert_int_equal(pw_bpf_size(&cfg, grow, &o, err, sizeof(err)), 0);
		assert_string_equal(err, "");
		assert_int_equal(o.units_v6, limit);
		assert_true(o.max_v6 >= full + rest);
	}
	pw_config_free(&cfg);

	config_of(&cfg, v6_set(full, rest + 1), full + rest + 1);
	for (int grow = 0; grow < 2; grow++) {
		assert_int_equal(pw_bpf_size(&cfg, grow, &o, err, sizeof(err)), -ENOSPC);
		snprintf(want, sizeof(want), "need %u table units", limit + 1);
		if (!strstr(err, want) || !strstr(err, "test.ini: ") || !strstr(err, "IPv6"))
			fail_msg("unexpected reason: %s", err);
	}
	assert_int_equal(pw_bpf_size(&cfg, true, NULL, err, sizeof(err)), -ENOSPC);
	pw_config_free(&cfg);
}

/*
 * 14,000 random IPv6 /128s (which the old check passed and run refused with ENOSPC) and
 * 1,500 random IPv4 /32s (which replay refused): accepted, and the tables given hold them.
 */
static void test_size_random_hosts(void **state)
{
	const size_t n6 = 14000, n4 = 1500;
	struct pw_prefix *p = calloc(n6 + n4, sizeof(*p));
	uint64_t s = 0x73697a65;
	struct pw_bpf_opts o;
	struct pw_config cfg;
	char err[512];

	(void)state;
	assert_non_null(p);
	for (size_t i = 0; i < n6 + n4; i++) {
		p[i].family = i < n6 ? AF_INET6 : AF_INET;
		p[i].len = i < n6 ? 128 : 32;
		for (int b = 0; b < (i < n6 ? 16 : 4); b++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			p[i].addr[b] = (uint8_t)(s >> 56);
		}
	}
	config_of(&cfg, p, n6 + n4);
	for (int grow = 0; grow < 2; grow++) {
		uint64_t need4, need6;
		size_t nv4 = 0;

		if (pw_bpf_size(&cfg, grow, &o, err, sizeof(err)))
			fail_msg("%s", err);
		while (cfg.groups[0].prefixes[nv4].family == AF_INET)
			nv4++;
		need4 = pw_bpf_units(cfg.groups[0].prefixes, nv4, o.v4_l1_bits);
		need6 = pw_bpf_units(cfg.groups[0].prefixes + nv4, cfg.groups[0].n_prefixes - nv4,
				     20);
		/* the sets share almost nothing below the first levels */
		assert_true(need6 > L1_UNITS_20 + 14000 * 20);
		assert_true(need4 > L1_UNITS_16 + 1500 * 3);
		assert_true(o.units_v4 >= need4);
		assert_true(o.units_v6 >= need6);
		if (grow) {
			assert_true(o.units_v6 >= 2 * need6 ||
				    o.units_v6 == pw_bpf_max_units(AF_INET6));
			assert_int_equal(o.max_v6, 65536);
		} else {
			assert_int_equal(o.units_v6, need6);
		}
	}
	pw_config_free(&cfg);
}

/* More distinct prefixes than the counters allow: refused before any unit is counted. */
static void test_size_too_many(void **state)
{
	const size_t n = PW_MAX_PREFIXES_V6 + 1;
	struct pw_prefix *p = calloc(n, sizeof(*p));
	struct pw_config cfg;
	char err[512];

	(void)state;
	assert_non_null(p);
	for (size_t i = 0; i < n; i++) {
		p[i].family = AF_INET6;
		p[i].len = 64;
		p[i].addr[0] = 0x20;
		p[i].addr[5] = (uint8_t)(i >> 16);
		p[i].addr[6] = (uint8_t)(i >> 8);
		p[i].addr[7] = (uint8_t)i;
	}
	config_of(&cfg, p, n);
	assert_int_equal(pw_bpf_size(&cfg, false, NULL, err, sizeof(err)), -E2BIG);
	if (!strstr(err, "0 IPv4 and 262145 IPv6 distinct prefixes: more than the maps allow"))
		fail_msg("unexpected reason: %s", err);
	pw_config_free(&cfg);
}

/*
 * Counters follow the classes of prefixes (poller.h), not the prefixes: 20,000 IPv4 /24s
 * in one export = group group take one counter (the daemon keeps 16,384 for reloads);
 * read on their own (export = prefix), one each, and the daemon twice that.
 */
static void test_size_counters(void **state)
{
	static const struct {
		enum pw_export export;
		bool grow;
		uint32_t ids;
	} cases[] = {
		{ PW_EXPORT_GROUP, false, 1 },
		{ PW_EXPORT_GROUP, true, 16384 },
		{ PW_EXPORT_PREFIX, false, 20000 },
		{ PW_EXPORT_PREFIX, true, 40000 },
	};
	struct pw_bpf_opts o;
	char err[512];

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const size_t n = 20000;
		struct pw_prefix *p = calloc(n, sizeof(*p));
		struct pw_config cfg;

		assert_non_null(p);
		for (size_t i = 0; i < n; i++) {
			p[i].family = AF_INET;
			p[i].len = 24;
			p[i].addr[0] = 10;
			p[i].addr[1] = (uint8_t)(i >> 8);
			p[i].addr[2] = (uint8_t)i;
		}
		config_of(&cfg, p, n);
		cfg.groups[0].export = cases[c].export;
		if (pw_bpf_size(&cfg, cases[c].grow, &o, err, sizeof(err)))
			fail_msg("%s", err);
		assert_int_equal(o.max_ids, cases[c].ids);
		pw_config_free(&cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units_by_hand),
		cmocka_unit_test(test_size_at_the_limit),
		cmocka_unit_test(test_size_random_hosts),
		cmocka_unit_test(test_size_too_many),
		cmocka_unit_test(test_size_counters),
	};

	return cmocka_run_group_tests_name("sizing", tests, NULL, NULL);
}
