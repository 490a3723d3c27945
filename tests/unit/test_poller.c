// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_poller.c - inclusive counts, group counts, rates and reloads, on a fake source.
 *
 * The fake stands in for the BPF maps: an array of counters indexed by id, and the
 * prefix -> id table the poller last wrote. deliver() counts a packet the way the XDP
 * program does, once, at the most specific prefix of that table.
 */
#include <errno.h>
#include <math.h>
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
#include "poller.h"
#include "fake_source.h"

/* The index of @pfx in the fake's table, or -1. */
static long fake_index(const struct fake *f, const char *pfx)
{
	struct pw_prefix p = P(pfx);

	for (size_t i = 0; i < f->n; i++)
		if (pw_prefix_equal(&f->pfx[i], &p))
			return (long)i;
	return -1;
}

/* The id the fake's table gives @pfx, or -1. */
static long fake_id(const struct fake *f, const char *pfx)
{
	long i = fake_index(f, pfx);

	return i < 0 ? -1 : (long)f->ids[i];
}

static void start(struct fake *f, struct pw_poller *pl, uint32_t max_ids)
{
	struct pw_source src = fake_source(f, max_ids);

	assert_int_equal(pw_poller_init(pl, &src), 0);
}

/* Add [group NAME] with the prefixes that follow (NULL-terminated). */
static void add_group(struct pw_config *cfg, const char *name, enum pw_export export, ...)
{
	va_list ap;

	va_start(ap, export);
	fake_group(cfg, name, ap)->export = export;
	va_end(ap);
}

static void apply_ok(struct pw_poller *pl, struct pw_config *cfg, double now)
{
	int err = pw_poller_apply(pl, cfg, now);

	if (err)
		fail_msg("apply: %s", strerror(-err));
	/* ownership passed */
	assert_null(cfg->groups);
	assert_int_equal(cfg->n_groups, 0);
}

static void poll_ok(struct pw_poller *pl, double now)
{
	int err = pw_poller_poll(pl, now);

	if (err)
		fail_msg("poll: %s", strerror(-err));
}

static const struct pw_pentry *entry(const struct pw_poller *pl, const char *pfx)
{
	struct pw_prefix p = P(pfx);
	long i = pw_poller_find(pl, &p);

	if (i < 0)
		fail_msg("%s is not in the live set", pfx);
	return &pl->p[i];
}

static const struct pw_gview *group(const struct pw_poller *pl, const char *name)
{
	for (size_t i = 0; i < pl->n_groups; i++)
		if (!strcmp(pl->g[i].cfg->name, name))
			return &pl->g[i];
	fail_msg("no group %s", name);
	return NULL;
}

struct want {
	const char *name; /* a prefix, or a group name */
	uint64_t packets, bytes;
};

static void expect_prefixes(const struct pw_poller *pl, const struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct pw_pentry *e = entry(pl, w[i].name);

		if (e->in.packets != w[i].packets || e->in.bytes != w[i].bytes)
			fail_msg("%s: %llu packets %llu bytes, expected %llu and %llu", w[i].name,
				 (unsigned long long)e->in.packets,
				 (unsigned long long)e->in.bytes,
				 (unsigned long long)w[i].packets, (unsigned long long)w[i].bytes);
	}
}

static void expect_groups(const struct pw_poller *pl, const struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct pw_gview *g = group(pl, w[i].name);

		if (g->in.packets != w[i].packets || g->in.bytes != w[i].bytes)
			fail_msg("group %s: %llu packets %llu bytes, expected %llu and %llu",
				 w[i].name, (unsigned long long)g->in.packets,
				 (unsigned long long)g->in.bytes, (unsigned long long)w[i].packets,
				 (unsigned long long)w[i].bytes);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct traffic {
	const char *addr;
	unsigned int count, bytes;
};

static void deliver_all(struct fake *f, const struct traffic *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		deliver(f, t[i].addr, t[i].count, t[i].bytes);
}

/* ---- counting ---- */

static void test_nested_inclusive(void **state)
{
	static const struct traffic traffic[] = {
		{ "10.1.2.3", 3, 100 },	    /* at 10.1.2.0/24 */
		{ "10.1.9.9", 2, 200 },	    /* at 10.1.0.0/16 */
		{ "10.200.0.1", 1, 1000 },  /* at 10.0.0.0/8 */
		{ "11.0.0.1", 4, 10 },	    /* nowhere */
		{ "2001:db8:1::5", 5, 60 }, /* at 2001:db8:1::/48 */
		{ "2001:db8:2::1", 1, 80 }, /* at 2001:db8::/32 */
		{ "2001:db9::1", 7, 10 },   /* nowhere */
	};
	static const struct want prefixes[] = {
		{ "10.0.0.0/8", 6, 1700 },	 { "10.1.0.0/16", 5, 700 },
		{ "10.1.2.0/24", 3, 300 },	 { "2001:db8::/32", 6, 380 },
		{ "2001:db8:1::/48", 5, 300 },
	};
	static const struct want groups[] = {
		{ "ten", 6, 1700 }, { "one", 5, 700 }, { "v6", 6, 380 }, { "v6inner", 5, 300 },
	};
	static const char *const order[] = { "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24",
					     "2001:db8::/32", "2001:db8:1::/48" };
	static const uint32_t ends[] = { 3, 3, 3, 5, 5 };
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;
	char buf[PW_PREFIX_STRLEN];

	(void)state;
	start(&f, &pl, 16);
	add_group(&cfg, "ten", PW_EXPORT_PREFIX, "10.0.0.0/8", NULL);
	add_group(&cfg, "one", PW_EXPORT_PREFIX, "10.1.0.0/16", "10.1.2.0/24", NULL);
	add_group(&cfg, "v6", PW_EXPORT_PREFIX, "2001:db8::/32", NULL);
	add_group(&cfg, "v6inner", PW_EXPORT_PREFIX, "2001:db8:1::/48", NULL);
	apply_ok(&pl, &cfg, 10);
	assert_int_equal(f.sets, 1);
	assert_int_equal(f.n, 5);
	assert_int_equal(pl.n, 5);
	for (size_t i = 0; i < N(order); i++) {
		assert_string_equal(pw_prefix_format(&pl.p[i].pfx, buf, sizeof(buf)), order[i]);
		assert_int_equal(pl.p[i].end, ends[i]);
		assert_int_equal(fake_id(&f, order[i]), pl.p[i].id);
	}
	/* before any traffic, everything is zero */
	poll_ok(&pl, 11);
	for (size_t i = 0; i < pl.n; i++) {
		assert_int_equal(pl.p[i].in.packets, 0);
		assert_int_equal(pl.p[i].in.bytes, 0);
	}

	deliver_all(&f, traffic, N(traffic));
	assert_int_equal(f.unmatched, 11);
	poll_ok(&pl, 12);
	expect_prefixes(&pl, prefixes, N(prefixes));
	expect_groups(&pl, groups, N(groups));
	pw_poller_free(&pl);
}

static void test_group_counts_each_packet_once(void **state)
{
	static const struct traffic traffic[] = {
		{ "10.1.2.3", 3, 100 },	   { "10.1.3.3", 1, 100 },  { "10.9.9.9", 2, 100 },
		{ "192.0.2.200", 4, 50 }, { "192.0.2.1", 1, 50 }, { "172.16.0.1", 9, 50 },
	};
	static const struct want prefixes[] = {
		{ "10.0.0.0/8", 6, 600 },    { "10.1.0.0/16", 4, 400 },
		{ "10.1.2.0/24", 3, 300 },   { "192.0.2.0/24", 5, 250 },
		{ "192.0.2.128/25", 4, 200 },
	};
	static const struct want groups[] = {
		{ "all", 11, 850 }, /* not 6+4+3+5+4 = 22 */
		{ "mid", 4, 400 },  /* 10.1/16 and 10.1.2/24: once */
		{ "high", 4, 200 },
	};
	struct pw_config cfg = { 0 };
	const struct pw_gview *g;
	struct pw_poller pl;
	struct fake f;

	(void)state;
	start(&f, &pl, 16);
	add_group(&cfg, "all", PW_EXPORT_PREFIX, "10.1.2.0/24", "10.0.0.0/8", "10.1.0.0/16",
		  "192.0.2.128/25", "192.0.2.0/24", NULL);
	add_group(&cfg, "mid", PW_EXPORT_PREFIX, "10.1.2.0/24", "10.1.0.0/16", NULL);
	add_group(&cfg, "high", PW_EXPORT_GROUP, "192.0.2.128/25", NULL);
	apply_ok(&pl, &cfg, 10);
	g = group(&pl, "all");
	assert_int_equal(g->n_members, 5);
	assert_int_equal(g->n_outer, 2);
	assert_ptr_equal(&pl.p[g->outer[0]], entry(&pl, "10.0.0.0/8"));
	assert_ptr_equal(&pl.p[g->outer[1]], entry(&pl, "192.0.2.0/24"));
	g = group(&pl, "mid");
	assert_int_equal(g->n_members, 2);
	assert_int_equal(g->n_outer, 1);

	deliver_all(&f, traffic, N(traffic));
	poll_ok(&pl, 11);
	expect_prefixes(&pl, prefixes, N(prefixes));
	expect_groups(&pl, groups, N(groups));
	pw_poller_free(&pl);
}

static void test_prefix_in_two_groups(void **state)
{
	static const struct traffic traffic[] = {
		{ "192.0.2.1", 2, 100 }, { "198.51.100.1", 3, 100 }, { "203.0.113.1", 5, 100 },
	};
	static const struct want prefixes[] = {
		{ "192.0.2.0/24", 2, 200 },
		{ "198.51.100.0/24", 3, 300 },
		{ "203.0.113.0/24", 5, 500 },
	};
	static const struct want groups[] = { { "a", 5, 500 }, { "b", 7, 700 } };
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;

	(void)state;
	start(&f, &pl, 16);
	add_group(&cfg, "a", PW_EXPORT_PREFIX, "192.0.2.0/24", "198.51.100.0/24", NULL);
	add_group(&cfg, "b", PW_EXPORT_PREFIX, "203.0.113.0/24", "192.0.2.0/24", NULL);
	apply_ok(&pl, &cfg, 10);
	/* one distinct prefix, one id, one counter */
	assert_int_equal(pl.n, 3);
	assert_int_equal(f.n, 3);
	assert_int_equal(group(&pl, "a")->members[0], group(&pl, "b")->members[0]);

	deliver_all(&f, traffic, N(traffic));
	poll_ok(&pl, 11);
	expect_prefixes(&pl, prefixes, N(prefixes));
	expect_groups(&pl, groups, N(groups));
	pw_poller_free(&pl);
}

static void test_rates(void **state)
{
	static const struct {
		double now;
		struct traffic t;
		double pps, bps; /* of 10.0.0.0/8, 10.1.2.0/24 and the group */
	} steps[] = {
		{ 100, { "10.1.2.3", 0, 0 }, 0, 0 },		/* at the apply's time: dt 0 */
		{ 102, { "10.1.2.3", 10, 100 }, 5, 4000 },	/* 10 in 2 s */
		{ 103, { "10.1.2.3", 0, 0 }, 0, 0 },		/* quiet */
		{ 103.5, { "10.1.2.3", 3, 1500 }, 6, 72000 },	/* 3 in half a second */
		{ 107.5, { "10.1.2.3", 100, 64 }, 25, 12800 }, /* 100 in 4 s */
	};
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;

	(void)state;
	start(&f, &pl, 16);
	add_group(&cfg, "g", PW_EXPORT_PREFIX, "10.0.0.0/8", "10.1.2.0/24", NULL);
	apply_ok(&pl, &cfg, 100);
	for (size_t i = 0; i < N(steps); i++) {
		const struct pw_rate *r[3] = { &entry(&pl, "10.0.0.0/8")->rate,
					       &entry(&pl, "10.1.2.0/24")->rate,
					       &group(&pl, "g")->rate };

		deliver(&f, steps[i].t.addr, steps[i].t.count, steps[i].t.bytes);
		poll_ok(&pl, steps[i].now);
		for (int k = 0; k < 3; k++) {
			if (r[k]->pps != steps[i].pps || r[k]->bps != steps[i].bps)
				fail_msg("step %zu, rate %d: %g pps %g bps, expected %g and %g", i,
					 k, r[k]->pps, r[k]->bps, steps[i].pps, steps[i].bps);
		}
	}
	assert_true(pl.last_dt == 4);
	assert_true(pl.last_poll == 107.5);
	assert_int_equal(entry(&pl, "10.0.0.0/8")->in.packets, 113);
	pw_poller_free(&pl);
}

/* ---- reloads ---- */

static void test_reload_adds_nested(void **state)
{
	static const struct want after_apply[] = {
		{ "10.0.0.0/8", 7, 700 },
		{ "10.1.0.0/16", 0, 0 },
	};
	static const struct want after_poll[] = {
		{ "10.0.0.0/8", 11, 1100 },
		{ "10.1.0.0/16", 3, 300 },
	};
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;
	uint32_t id8;

	(void)state;
	start(&f, &pl, 16);
	add_group(&cfg, "g", PW_EXPORT_PREFIX, "10.0.0.0/8", NULL);
	apply_ok(&pl, &cfg, 10);
	id8 = entry(&pl, "10.0.0.0/8")->id;
	deliver(&f, "10.1.2.3", 5, 100);
	poll_ok(&pl, 11);
	assert_int_equal(entry(&pl, "10.0.0.0/8")->in.packets, 5);
	/* not polled yet: the reload settles them under the old set */
	deliver(&f, "10.1.2.3", 2, 100);

	add_group(&cfg, "g", PW_EXPORT_PREFIX, "10.0.0.0/8", NULL);
	add_group(&cfg, "h", PW_EXPORT_PREFIX, "10.1.0.0/16", NULL);
	apply_ok(&pl, &cfg, 12);
	assert_int_equal(f.sets, 2);
	assert_int_equal(pl.n, 2);
	expect_prefixes(&pl, after_apply, N(after_apply));
	assert_int_equal(entry(&pl, "10.0.0.0/8")->id, id8);
	assert_int_equal(fake_id(&f, "10.0.0.0/8"), id8);
	assert_int_not_equal(entry(&pl, "10.1.0.0/16")->id, id8);

	deliver(&f, "10.1.2.3", 3, 100); /* now at 10.1/16 */
	deliver(&f, "10.5.0.1", 1, 100);
	poll_ok(&pl, 13);
	expect_prefixes(&pl, after_poll, N(after_poll));
	/* 10/8 stays: its rate runs from the poll at 11 (6 packets in 2 s); 10.1/16's from 12. */
	assert_true(entry(&pl, "10.0.0.0/8")->rate.pps == 3);
	assert_true(entry(&pl, "10.1.0.0/16")->rate.pps == 3);
	pw_poller_free(&pl);
}

static void test_reload_removes_nested(void **state)
{
	static const struct want before[] = {
		{ "10.0.0.0/8", 5, 500 },
		{ "10.1.0.0/16", 3, 300 },
	};
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;
	uint32_t id8;

	(void)state;
	start(&f, &pl, 16);
	add_group(&cfg, "a", PW_EXPORT_PREFIX, "10.0.0.0/8", NULL);
	add_group(&cfg, "b", PW_EXPORT_PREFIX, "10.1.0.0/16", NULL);
	apply_ok(&pl, &cfg, 10);
	id8 = entry(&pl, "10.0.0.0/8")->id;
	deliver(&f, "10.1.2.3", 3, 100);
	deliver(&f, "10.2.0.1", 2, 100);
	poll_ok(&pl, 11);
	expect_prefixes(&pl, before, N(before));
	deliver(&f, "10.1.2.3", 1, 100); /* not polled before the reload */

	add_group(&cfg, "a", PW_EXPORT_PREFIX, "10.0.0.0/8", NULL);
	apply_ok(&pl, &cfg, 12);
	assert_int_equal(pl.n, 1);
	assert_int_equal(pl.n_groups, 1);
	assert_int_equal(f.n, 1);
	assert_int_equal(entry(&pl, "10.0.0.0/8")->id, id8);
	/* 10.1/16's 4 packets stay in 10/8: 6, not 2 */
	assert_int_equal(entry(&pl, "10.0.0.0/8")->in.packets, 6);
	assert_int_equal(entry(&pl, "10.0.0.0/8")->in.bytes, 600);
	assert_int_equal(group(&pl, "a")->in.packets, 6);

	deliver(&f, "10.1.2.3", 2, 100); /* now at 10/8 */
	poll_ok(&pl, 13);
	assert_int_equal(entry(&pl, "10.0.0.0/8")->in.packets, 8);
	assert_int_equal(entry(&pl, "10.0.0.0/8")->in.bytes, 800);
	/* From the poll at 11: 3 packets in 2 s, the one of the reload included. */
	assert_true(entry(&pl, "10.0.0.0/8")->rate.pps == 1.5);
	assert_true(entry(&pl, "10.0.0.0/8")->rate.bps == 1200);
	assert_int_equal(group(&pl, "a")->in.packets, 8);
	pw_poller_free(&pl);
}

/*
 * A reload that takes 1.7 s (a 1M-prefix table), between polls at 11 and 14, at a steady
 * 100 packets/s: the next rate is 100 packets/s, from the poll at 11, with the packets
 * that arrived while the reload ran. The old code settled the counts by a poll when the
 * reload began (11.5) and restarted the rate there, but took the counts at the flip
 * (13.2), so the 170 packets of the reload were in no rate: 80 packets over 2.5 s, 32/s.
 * A group new in the reload starts its rate at the flip, timed by the source's clock.
 */
static void test_reload_rate_covers_reload(void **state)
{
	struct pw_config cfg = { 0 };
	struct pw_source src;
	struct pw_poller pl;
	struct fake f;

	(void)state;
	src = fake_source(&f, 16);
	src.clock = fake_clock;
	assert_int_equal(pw_poller_init(&pl, &src), 0);
	add_group(&cfg, "a", PW_EXPORT_PREFIX, "10.0.0.0/8", NULL);
	f.now = 10;
	apply_ok(&pl, &cfg, 10);
	poll_ok(&pl, 10);
	deliver(&f, "10.0.0.1", 100, 100);
	poll_ok(&pl, 11);
	assert_true(group(&pl, "a")->rate.pps == 100);

	deliver(&f, "10.0.0.1", 50, 100); /* up to 11.5, when the reload starts */
	f.now = 11.5;
	f.set_seconds = 1.7;
	f.inflight_id = fake_id(&f, "10.0.0.0/8"); /* 11.5 to 13.2, while the tables are written */
	f.inflight_packets = 170;
	f.inflight_bytes = 170 * 100;
	add_group(&cfg, "a", PW_EXPORT_PREFIX, "10.0.0.0/8", NULL);
	add_group(&cfg, "b", PW_EXPORT_PREFIX, "11.0.0.0/8", NULL);
	apply_ok(&pl, &cfg, 11.5);
	assert_true(f.now == 13.2);
	deliver(&f, "10.0.0.1", 80, 100); /* 13.2 to 14 */
	deliver(&f, "11.0.0.1", 8, 100);
	poll_ok(&pl, 14);
	assert_int_equal(group(&pl, "a")->in.packets, 400);
	assert_true(fabs(group(&pl, "a")->rate.pps - 100) < 1e-9);
	assert_true(fabs(entry(&pl, "10.0.0.0/8")->rate.pps - 100) < 1e-9);
	assert_true(fabs(group(&pl, "a")->rate.bps - 100 * 800) < 1e-6);
	assert_true(fabs(group(&pl, "b")->rate.pps - 10) < 1e-9); /* 8 packets from 13.2 */
	assert_true(fabs(entry(&pl, "11.0.0.0/8")->rate.pps - 10) < 1e-9);
	assert_true(pl.last_dt == 3); /* the detectors' interval: 11 to 14 */
	pw_poller_free(&pl);
}

/* Packets that reach a removed prefix while the tables flip still count, at its parent. */
static void test_reload_in_flight(void **state)
{
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;

	(void)state;
	start(&f, &pl, 16);
	add_group(&cfg, "a", PW_EXPORT_PREFIX, "10.0.0.0/8", "10.1.0.0/16", NULL);
	apply_ok(&pl, &cfg, 10);
	deliver(&f, "10.1.2.3", 3, 100);
	poll_ok(&pl, 11);
	f.inflight_id = fake_id(&f, "10.1.0.0/16");
	f.inflight_packets = 2;
	f.inflight_bytes = 80;

	add_group(&cfg, "a", PW_EXPORT_PREFIX, "10.0.0.0/8", NULL);
	apply_ok(&pl, &cfg, 12);
	assert_int_equal(f.inflight_id, -1); /* the flip happened */
	assert_int_equal(entry(&pl, "10.0.0.0/8")->in.packets, 5);
	assert_int_equal(entry(&pl, "10.0.0.0/8")->in.bytes, 380);
	/* ... and in the group, which stays: its offset is taken at the flip, not before. */
	assert_int_equal(group(&pl, "a")->in.packets, 5);
	assert_int_equal(group(&pl, "a")->in.bytes, 380);
	poll_ok(&pl, 13);
	assert_int_equal(entry(&pl, "10.0.0.0/8")->in.packets, 5);
	assert_int_equal(group(&pl, "a")->in.packets, 5);
	/* The 2 packets of the flip are in the rate from 11 to 13. */
	assert_true(entry(&pl, "10.0.0.0/8")->rate.pps == 1);
	pw_poller_free(&pl);
}

static void test_reload_keeps_ids(void **state)
{
	static const char *const first[] = { "10.0.0.0/8",    "192.0.2.0/24", "198.51.100.0/24",
					     "2001:db8::/32", "fd00::/8" };
	static const char *const stay[] = { "10.0.0.0/8", "198.51.100.0/24", "fd00::/8" };
	uint32_t old_ids[N(first)];
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;

	(void)state;
	start(&f, &pl, 16);
	add_group(&cfg, "a", PW_EXPORT_PREFIX, first[0], first[1], first[2], first[3], first[4],
		  NULL);
	apply_ok(&pl, &cfg, 10);
	for (size_t i = 0; i < N(first); i++)
		old_ids[i] = entry(&pl, first[i])->id;
	deliver(&f, "198.51.100.7", 4, 100);
	deliver(&f, "fd00::1", 3, 100);
	poll_ok(&pl, 11);

	add_group(&cfg, "a", PW_EXPORT_PREFIX, "10.0.0.0/8", "198.51.100.0/24", "fd00::/8",
		  "203.0.113.0/24", "2001:db8:1::/48", "10.9.0.0/16", NULL);
	apply_ok(&pl, &cfg, 12);
	assert_int_equal(pl.n, 6);
	assert_int_equal(f.n, 6);
	for (size_t i = 0; i < N(stay); i++) {
		size_t k = 0;

		while (strcmp(first[k], stay[i]))
			k++;
		assert_int_equal(entry(&pl, stay[i])->id, old_ids[k]);
		assert_int_equal(fake_id(&f, stay[i]), old_ids[k]);
	}
	/* the table written is the poller's, and new prefixes avoid every id just used */
	for (size_t i = 0; i < pl.n; i++) {
		char buf[PW_PREFIX_STRLEN];

		pw_prefix_format(&pl.p[i].pfx, buf, sizeof(buf));
		assert_int_equal(fake_id(&f, buf), pl.p[i].id);
		if (!strcmp(buf, "203.0.113.0/24") || !strcmp(buf, "2001:db8:1::/48") ||
		    !strcmp(buf, "10.9.0.0/16")) {
			for (size_t k = 0; k < N(first); k++)
				assert_int_not_equal(pl.p[i].id, old_ids[k]);
			assert_int_equal(pl.p[i].in.packets, 0);
		}
	}
	assert_int_equal(entry(&pl, "198.51.100.0/24")->in.packets, 4);
	assert_int_equal(entry(&pl, "fd00::/8")->in.packets, 3);
	pw_poller_free(&pl);
}

/* With no unused id left, a new prefix takes a removed one's id, and starts from zero. */
static void test_reused_id_starts_at_zero(void **state)
{
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;
	uint32_t old;

	(void)state;
	start(&f, &pl, 2);
	add_group(&cfg, "a", PW_EXPORT_PREFIX, "192.0.2.0/24", "198.51.100.0/24", NULL);
	apply_ok(&pl, &cfg, 10);
	old = entry(&pl, "198.51.100.0/24")->id;
	deliver(&f, "198.51.100.1", 7, 100);
	deliver(&f, "192.0.2.1", 1, 100);
	poll_ok(&pl, 11);
	deliver(&f, "198.51.100.1", 2, 100); /* unpolled, and its prefix goes */

	add_group(&cfg, "a", PW_EXPORT_PREFIX, "192.0.2.0/24", "203.0.113.0/24", NULL);
	apply_ok(&pl, &cfg, 12);
	assert_int_equal(entry(&pl, "203.0.113.0/24")->id, old);
	assert_int_equal(f.c[old].packets, 9); /* the raw counter still holds the old counts */
	assert_int_equal(entry(&pl, "203.0.113.0/24")->in.packets, 0);
	assert_int_equal(entry(&pl, "203.0.113.0/24")->in.bytes, 0);
	/* The group stays: it continues from its 10 packets (8 polled, 2 settled at reload). */
	assert_int_equal(group(&pl, "a")->in.packets, 10);

	deliver(&f, "203.0.113.9", 2, 50);
	poll_ok(&pl, 13);
	assert_int_equal(entry(&pl, "203.0.113.0/24")->in.packets, 2);
	assert_int_equal(entry(&pl, "203.0.113.0/24")->in.bytes, 100);
	assert_true(entry(&pl, "203.0.113.0/24")->rate.pps == 2);
	assert_int_equal(group(&pl, "a")->in.packets, 12);
	assert_true(group(&pl, "a")->rate.pps == 2);
	pw_poller_free(&pl);
}

/*
 * An id freed by one reload is reused by a later one (it is no longer in use), and the
 * new prefix starts from zero; the prefix enclosing both never goes backwards.
 */
static void test_reused_id_later_reload(void **state)
{
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;
	uint32_t id16;

	(void)state;
	start(&f, &pl, 16);
	add_group(&cfg, "a", PW_EXPORT_PREFIX, "10.0.0.0/8", "10.1.0.0/16", NULL);
	apply_ok(&pl, &cfg, 10);
	id16 = entry(&pl, "10.1.0.0/16")->id;
	deliver(&f, "10.1.0.1", 3, 100);
	deliver(&f, "10.2.0.1", 2, 100);
	poll_ok(&pl, 11);

	add_group(&cfg, "a", PW_EXPORT_PREFIX, "10.0.0.0/8", NULL);
	apply_ok(&pl, &cfg, 12);
	assert_int_equal(entry(&pl, "10.0.0.0/8")->in.packets, 5);

	add_group(&cfg, "a", PW_EXPORT_PREFIX, "10.0.0.0/8", "10.3.0.0/16", NULL);
	apply_ok(&pl, &cfg, 13);
	assert_int_equal(entry(&pl, "10.3.0.0/16")->id, id16);
	assert_int_equal(entry(&pl, "10.3.0.0/16")->in.packets, 0);
	assert_int_equal(entry(&pl, "10.0.0.0/8")->in.packets, 5);

	deliver(&f, "10.3.0.1", 1, 100);
	poll_ok(&pl, 14);
	assert_int_equal(entry(&pl, "10.3.0.0/16")->in.packets, 1);
	assert_int_equal(entry(&pl, "10.0.0.0/8")->in.packets, 6);
	pw_poller_free(&pl);
}

/*
 * Both at once: a nested prefix goes and a new one takes its id in the same reload. The
 * removed prefix's count must still pass to its parent.
 */
static void test_reused_id_same_reload_nested(void **state)
{
	static const struct want after_apply[] = {
		{ "10.0.0.0/8", 7, 700 },
		{ "10.1.0.0/16", 1, 100 },
		{ "10.3.0.0/16", 0, 0 },
	};
	static const struct want after_poll[] = {
		{ "10.0.0.0/8", 9, 900 },
		{ "10.1.0.0/16", 1, 100 },
		{ "10.3.0.0/16", 1, 100 },
	};
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;
	uint32_t id2;

	(void)state;
	start(&f, &pl, 3);
	add_group(&cfg, "a", PW_EXPORT_PREFIX, "10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16", NULL);
	apply_ok(&pl, &cfg, 10);
	id2 = entry(&pl, "10.2.0.0/16")->id;
	deliver(&f, "10.2.0.1", 4, 100);
	deliver(&f, "10.1.0.1", 1, 100);
	deliver(&f, "10.9.0.1", 1, 100);
	poll_ok(&pl, 11);
	assert_int_equal(entry(&pl, "10.0.0.0/8")->in.packets, 6);
	deliver(&f, "10.2.0.1", 1, 100); /* unpolled */

	add_group(&cfg, "a", PW_EXPORT_PREFIX, "10.0.0.0/8", "10.1.0.0/16", "10.3.0.0/16", NULL);
	apply_ok(&pl, &cfg, 12);
	assert_int_equal(entry(&pl, "10.3.0.0/16")->id, id2);
	expect_prefixes(&pl, after_apply, N(after_apply));
	assert_int_equal(group(&pl, "a")->in.packets, 7);

	deliver(&f, "10.3.0.1", 1, 100);
	deliver(&f, "10.2.0.1", 1, 100); /* now at 10/8 */
	poll_ok(&pl, 13);
	expect_prefixes(&pl, after_poll, N(after_poll));
	assert_int_equal(group(&pl, "a")->in.packets, 9);
	pw_poller_free(&pl);
}

static void test_ipv6_alongside_ipv4(void **state)
{
	static const struct traffic traffic[] = {
		{ "10.0.0.1", 1, 100 },	 { "::ffff:10.0.0.1", 2, 100 }, /* IPv6, not 10/8 */
		{ "2001:db8::1", 3, 100 }, { "0.0.0.1", 4, 100 },
	};
	static const struct want prefixes[] = {
		{ "0.0.0.0/0", 5, 500 },
		{ "10.0.0.0/8", 1, 100 },
		{ "::/0", 5, 500 },
		{ "2001:db8::/32", 3, 300 },
	};
	static const struct want groups[] = { { "everything", 10, 1000 }, { "v4", 5, 500 } };
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;

	(void)state;
	start(&f, &pl, 16);
	add_group(&cfg, "everything", PW_EXPORT_PREFIX, "::/0", "0.0.0.0/0", "2001:db8::/32",
		  "10.0.0.0/8", NULL);
	add_group(&cfg, "v4", PW_EXPORT_PREFIX, "0.0.0.0/0", NULL);
	apply_ok(&pl, &cfg, 10);
	/* all IPv4 first, each family's more specifics right after their parent */
	assert_int_equal(pl.p[0].pfx.family, AF_INET);
	assert_int_equal(pl.p[0].end, 2);
	assert_int_equal(pl.p[2].pfx.family, AF_INET6);
	assert_int_equal(pl.p[2].end, 4);
	assert_int_equal(group(&pl, "everything")->n_outer, 2);
	deliver_all(&f, traffic, N(traffic));
	poll_ok(&pl, 11);
	expect_prefixes(&pl, prefixes, N(prefixes));
	expect_groups(&pl, groups, N(groups));
	pw_poller_free(&pl);
}

/* ---- limits and failures ---- */

static void test_too_many_prefixes(void **state)
{
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;

	(void)state;
	start(&f, &pl, 2);
	add_group(&cfg, "a", PW_EXPORT_PREFIX, "10.0.0.0/8", "10.1.0.0/16", NULL);
	add_group(&cfg, "b", PW_EXPORT_PREFIX, "2001:db8::/32", NULL);
	assert_int_equal(pw_poller_apply(&pl, &cfg, 10), -E2BIG);
	/* nothing taken, nothing written */
	assert_int_equal(cfg.n_groups, 2);
	assert_non_null(cfg.groups);
	assert_false(pl.have_cfg);
	assert_int_equal(pl.n, 0);
	assert_int_equal(f.sets, 0);
	pw_config_free(&cfg);

	/* duplicates across groups count once: two distinct fit in two ids */
	add_group(&cfg, "a", PW_EXPORT_PREFIX, "10.0.0.0/8", "10.1.0.0/16", NULL);
	add_group(&cfg, "b", PW_EXPORT_PREFIX, "10.1.0.0/16", NULL);
	apply_ok(&pl, &cfg, 10);
	deliver(&f, "10.1.0.1", 3, 100);
	poll_ok(&pl, 11);

	/* a reload past the limit leaves the live set as it was */
	add_group(&cfg, "a", PW_EXPORT_PREFIX, "10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16",
		  NULL);
	assert_int_equal(pw_poller_apply(&pl, &cfg, 12), -E2BIG);
	assert_int_equal(cfg.n_groups, 1);
	pw_config_free(&cfg);
	assert_int_equal(f.sets, 1);
	assert_int_equal(f.n, 2);
	assert_int_equal(pl.n, 2);
	assert_int_equal(pl.n_groups, 2);
	assert_int_equal(entry(&pl, "10.0.0.0/8")->in.packets, 3);
	assert_int_equal(entry(&pl, "10.1.0.0/16")->in.packets, 3);
	deliver(&f, "10.1.0.1", 1, 100);
	poll_ok(&pl, 13);
	assert_int_equal(entry(&pl, "10.0.0.0/8")->in.packets, 4);
	pw_poller_free(&pl);
}

static void test_source_errors(void **state)
{
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;
	uint32_t id;

	(void)state;
	start(&f, &pl, 16);
	add_group(&cfg, "a", PW_EXPORT_PREFIX, "10.0.0.0/8", NULL);
	f.fail_set = -EPERM;
	assert_int_equal(pw_poller_apply(&pl, &cfg, 10), -EPERM);
	assert_non_null(cfg.groups);
	assert_false(pl.have_cfg);
	assert_int_equal(pl.n, 0);
	f.fail_set = 0;
	apply_ok(&pl, &cfg, 10);
	id = entry(&pl, "10.0.0.0/8")->id;
	deliver(&f, "10.0.0.1", 2, 100);
	poll_ok(&pl, 11);

	/* a failed read changes nothing */
	deliver(&f, "10.0.0.1", 2, 100);
	f.fail_read = -EIO;
	assert_int_equal(pw_poller_poll(&pl, 12), -EIO);
	assert_int_equal(entry(&pl, "10.0.0.0/8")->in.packets, 2);
	assert_true(pl.last_poll == 11);

	/* a reload that cannot settle the old counts is refused whole */
	add_group(&cfg, "a", PW_EXPORT_PREFIX, "11.0.0.0/8", NULL);
	assert_int_equal(pw_poller_apply(&pl, &cfg, 12), -EIO);
	pw_config_free(&cfg);
	assert_int_equal(f.sets, 1);
	assert_int_equal(pl.n, 1);
	assert_int_equal(entry(&pl, "10.0.0.0/8")->id, id);

	/* a reload whose write fails keeps the old set and its counts */
	f.fail_read = 0;
	f.fail_set = -ENOSPC;
	add_group(&cfg, "a", PW_EXPORT_PREFIX, "11.0.0.0/8", NULL);
	assert_int_equal(pw_poller_apply(&pl, &cfg, 13), -ENOSPC);
	pw_config_free(&cfg);
	assert_int_equal(pl.n, 1);
	assert_int_equal(entry(&pl, "10.0.0.0/8")->in.packets, 2); /* as polled: nothing changed */
	assert_true(pl.last_poll == 11);
	f.fail_set = 0;
	deliver(&f, "10.0.0.1", 1, 100);
	poll_ok(&pl, 14);
	assert_int_equal(entry(&pl, "10.0.0.0/8")->in.packets, 5);

	{
		struct pw_prefix other = P("11.0.0.0/8");

		assert_int_equal(pw_poller_find(&pl, &other), -1);
	}
	pw_poller_free(&pl);
}


/* A group that stays continues from its count when its prefixes shrink, grow or change. */
static void test_group_monotonic_across_reloads(void **state)
{
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;

	(void)state;
	start(&f, &pl, 16);
	add_group(&cfg, "g", PW_EXPORT_PREFIX, "192.0.2.0/24", "198.51.100.0/24", NULL);
	apply_ok(&pl, &cfg, 10);
	deliver(&f, "192.0.2.1", 2, 100);
	deliver(&f, "198.51.100.1", 3, 100);
	poll_ok(&pl, 11);
	assert_int_equal(group(&pl, "g")->in.packets, 5);

	/* Shrink: the dropped prefix's 3 packets stay in the group's count. */
	add_group(&cfg, "g", PW_EXPORT_PREFIX, "192.0.2.0/24", NULL);
	apply_ok(&pl, &cfg, 12);
	assert_int_equal(group(&pl, "g")->in.packets, 5);
	assert_int_equal(group(&pl, "g")->in.bytes, 500);
	deliver(&f, "192.0.2.9", 1, 100);
	poll_ok(&pl, 13);
	assert_int_equal(group(&pl, "g")->in.packets, 6);
	assert_true(group(&pl, "g")->rate.pps == 0.5); /* 1 packet from 11 to 13 */

	/* Grow to an enclosing /16 that brings no history of its own: no jump either. */
	add_group(&cfg, "g", PW_EXPORT_PREFIX, "192.0.0.0/16", "192.0.2.0/24", NULL);
	apply_ok(&pl, &cfg, 14);
	assert_int_equal(group(&pl, "g")->in.packets, 6);
	deliver(&f, "192.0.9.9", 4, 100);
	poll_ok(&pl, 15);
	assert_int_equal(group(&pl, "g")->in.packets, 10);
	assert_true(group(&pl, "g")->rate.pps == 2); /* 4 packets from 13 to 15 */

	/* A group that is new starts from what its prefixes hold. */
	add_group(&cfg, "g", PW_EXPORT_PREFIX, "192.0.0.0/16", "192.0.2.0/24", NULL);
	add_group(&cfg, "h", PW_EXPORT_PREFIX, "192.0.2.0/24", NULL);
	apply_ok(&pl, &cfg, 16);
	assert_int_equal(group(&pl, "g")->in.packets, 10);
	assert_int_equal(group(&pl, "h")->in.packets, 3);
	pw_poller_free(&pl);
}

/*
 * A new prefix takes the id of a removed one in the same reload, while packets still reach
 * the removed prefix under the old table: they are the removed prefix's (and its group's),
 * never the new prefix's. The old code read the id before writing the tables and so
 * credited them to the new prefix at the next poll.
 */
static void test_reused_id_in_flight(void **state)
{
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;
	uint32_t old;

	(void)state;
	start(&f, &pl, 2);
	add_group(&cfg, "a", PW_EXPORT_PREFIX, "192.0.2.0/24", "198.51.100.0/24", NULL);
	apply_ok(&pl, &cfg, 10);
	old = entry(&pl, "198.51.100.0/24")->id;
	deliver(&f, "198.51.100.1", 7, 100);
	poll_ok(&pl, 11);
	f.inflight_id = old;
	f.inflight_packets = 2;
	f.inflight_bytes = 200;

	add_group(&cfg, "a", PW_EXPORT_PREFIX, "192.0.2.0/24", "203.0.113.0/24", NULL);
	apply_ok(&pl, &cfg, 12);
	assert_int_equal(f.inflight_id, -1);
	assert_int_equal(entry(&pl, "203.0.113.0/24")->id, old);
	assert_int_equal(entry(&pl, "203.0.113.0/24")->in.packets, 0);
	assert_int_equal(group(&pl, "a")->in.packets, 9);
	assert_int_equal(group(&pl, "a")->in.bytes, 900);

	poll_ok(&pl, 13); /* nothing reached 203.0.113.0/24 */
	assert_int_equal(entry(&pl, "203.0.113.0/24")->in.packets, 0);
	assert_int_equal(entry(&pl, "203.0.113.0/24")->in.bytes, 0);
	assert_int_equal(group(&pl, "a")->in.packets, 9);
	assert_true(group(&pl, "a")->rate.pps == 1); /* the 2 in flight, from 11 to 13 */

	deliver(&f, "203.0.113.1", 3, 100);
	deliver(&f, "198.51.100.1", 5, 100); /* matches nothing now */
	poll_ok(&pl, 14);
	assert_int_equal(entry(&pl, "203.0.113.0/24")->in.packets, 3);
	assert_int_equal(group(&pl, "a")->in.packets, 12);
	assert_int_equal(f.unmatched, 5);
	pw_poller_free(&pl);
}

/*
 * Random reloads over a small pool of prefixes, with few ids (so ids are reused within a
 * reload), traffic before every reload and packets in flight during it: no prefix's or
 * group's count ever goes backwards while it stays, and 0.0.0.0/0, always present, counts
 * exactly the IPv4 packets sent (none lost, none twice), a sum kept here.
 */
static void test_counts_never_go_backwards(void **state)
{
	static const char *const pool[] = {
		"10.0.0.0/8",	  "10.1.0.0/16",     "10.1.2.0/24", "10.2.0.0/16",
		"10.1.2.128/25", "192.0.2.0/24",    "192.0.2.0/25", "198.51.100.0/24",
		"10.3.0.0/16",	  "203.0.113.0/24",
	};
	static const char *const addrs[] = {
		"10.1.2.200", "10.1.2.1", "10.1.9.9", "10.2.0.1",   "10.3.3.3",
		"10.9.9.9",   "192.0.2.1", "192.0.2.200", "198.51.100.7", "203.0.113.5",
		"172.16.0.1",
	};
	struct pw_counter last_p[N(pool)], last_g = { 0, 0 };
	struct pw_config cfg = { 0 };
	uint64_t sent = 0, sent_bytes = 0, seed = 12345;
	bool was_in[N(pool)] = { false };
	struct pw_poller pl;
	struct fake f;
	double now = 10;

	(void)state;
	start(&f, &pl, 6); /* 0/0 and up to 5 of the pool: ids run out, and get reused */
	for (int round = 0; round < 400; round++) {
		const char *chosen[N(pool) + 2];
		size_t n = 0;
		long at;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		chosen[n++] = "0.0.0.0/0";
		for (size_t i = 0; i < N(pool) && n < 6; i++)
			if ((seed >> (20 + i)) & 1)
				chosen[n++] = pool[i];
		chosen[n] = NULL;
		/* traffic under the live set (from the second round), some polled, some not */
		for (size_t k = 0; round && k < 4; k++) {
			const char *a = addrs[(seed >> (4 * k + 1)) % N(addrs)];
			unsigned int c = (unsigned int)((seed >> (4 * k + 40)) % 5) + 1;

			deliver(&f, a, c, 100);
			sent += c;
			sent_bytes += (uint64_t)c * 100;
			if (k == 1)
				poll_ok(&pl, now += 1);
		}
		/* packets that reach the old table while it flips */
		at = round ? fake_match(&f, addrs[(seed >> 50) % N(addrs)]) : -1;
		if (at >= 0) {
			f.inflight_id = f.ids[at];
			f.inflight_packets = (seed >> 60) + 1;
			f.inflight_bytes = f.inflight_packets * 100;
			sent += f.inflight_packets;
			sent_bytes += f.inflight_bytes;
		}
		add_group(&cfg, "all", PW_EXPORT_PREFIX, chosen[0], chosen[1], chosen[2],
			  chosen[3], chosen[4], chosen[5], NULL);
		apply_ok(&pl, &cfg, now += 1);
		f.inflight_id = -1;
		for (int pass = 0; pass < 2; pass++) {
			const struct pw_gview *g = group(&pl, "all");

			if (pass)
				poll_ok(&pl, now += 1);
			for (size_t i = 0; i < N(pool); i++) {
				struct pw_prefix q = P(pool[i]);
				long k = pw_poller_find(&pl, &q);

				if (k < 0) {
					was_in[i] = false;
					continue;
				}
				if (was_in[i] && (pl.p[k].in.packets < last_p[i].packets ||
						  pl.p[k].in.bytes < last_p[i].bytes))
					fail_msg("round %d: %s went from %llu to %llu packets", round,
						 pool[i], (unsigned long long)last_p[i].packets,
						 (unsigned long long)pl.p[k].in.packets);
				last_p[i] = pl.p[k].in;
				was_in[i] = true;
			}
			if (g->in.packets < last_g.packets || g->in.bytes < last_g.bytes)
				fail_msg("round %d: the group went from %llu to %llu packets", round,
					 (unsigned long long)last_g.packets,
					 (unsigned long long)g->in.packets);
			last_g = g->in;
			/* all IPv4 traffic, in flight included, once; after the poll exactly */
			if (pass && (entry(&pl, "0.0.0.0/0")->in.packets != sent ||
				     entry(&pl, "0.0.0.0/0")->in.bytes != sent_bytes))
				fail_msg("round %d: 0.0.0.0/0 holds %llu packets, %llu were sent",
					 round,
					 (unsigned long long)entry(&pl, "0.0.0.0/0")->in.packets,
					 (unsigned long long)sent);
		}
	}
	pw_poller_free(&pl);
}

/* ---- shared counters (classes) ---- */

/* How many distinct ids the fake's live table holds. */
static size_t fake_distinct_ids(const struct fake *f)
{
	size_t d = 0;

	for (size_t i = 0; i < f->n; i++) {
		size_t j = 0;

		while (j < i && f->ids[j] != f->ids[i])
			j++;
		d += j == i;
	}
	return d;
}

/*
 * Prefixes nobody reads on their own share a counter: a group with export = group takes
 * one id, nested prefixes and all, and its count stays exact.
 */
static void test_unread_prefixes_share_an_id(void **state)
{
	static const struct traffic traffic[] = {
		{ "10.1.2.3", 3, 100 }, { "10.1.9.9", 2, 200 }, { "10.200.0.1", 1, 1000 },
		{ "192.0.2.1", 4, 10 }, { "11.0.0.1", 5, 10 },
	};
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;

	(void)state;
	start(&f, &pl, 16);
	add_group(&cfg, "big", PW_EXPORT_GROUP, "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24",
		  "192.0.2.0/24", "198.51.100.0/24", NULL);
	apply_ok(&pl, &cfg, 10);
	assert_int_equal(f.n, 5);
	assert_int_equal(fake_distinct_ids(&f), 1);
	assert_int_equal(pl.cl.n, 1);
	assert_int_equal(pl.cl.n_rd, 0);
	deliver_all(&f, traffic, N(traffic));
	poll_ok(&pl, 11);
	expect_groups(&pl, (const struct want[]){ { "big", 10, 1740 } }, 1);
	assert_true(group(&pl, "big")->rate.pps == 10);
	pw_poller_free(&pl);
}

/*
 * Overlapping groups and a prefix read on its own inside a large group: one id per class
 * (groups, nearest read prefix), every group and read prefix exact.
 */
/* The anatomy slot the fake's table gives @pfx, or -1. */
static long fake_slot(const struct fake *f, const char *pfx)
{
	long i = fake_index(f, pfx);

	return i < 0 ? -1 : (long)f->slots[i];
}

/*
 * A set of groups keeps its anatomy slot across reloads, whatever comes before it (the
 * tables carry the slots from the flip on, the anatomy learns them just after); a new set
 * takes a slot no live set holds; prefixes of one set share a slot even when their
 * classes differ (read prefixes apart).
 */
static void test_anatomy_slots_stay(void **state)
{
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;
	long sb, sc, sa, sd;

	(void)state;
	start(&f, &pl, 16);
	add_group(&cfg, "b", PW_EXPORT_GROUP, "10.0.0.0/8", NULL);
	add_group(&cfg, "c", PW_EXPORT_PREFIX, "192.0.2.0/24", "198.18.0.0/15", NULL);
	apply_ok(&pl, &cfg, 10);
	sb = fake_slot(&f, "10.0.0.0/8");
	sc = fake_slot(&f, "192.0.2.0/24");
	assert_true(sb > 0 && sc > 0 && sb != sc);
	/* two read prefixes: two classes, one set, one slot */
	assert_int_not_equal(fake_id(&f, "192.0.2.0/24"), fake_id(&f, "198.18.0.0/15"));
	assert_int_equal(fake_slot(&f, "198.18.0.0/15"), sc);

	/* a group sorting first, by name and by prefix */
	add_group(&cfg, "a", PW_EXPORT_GROUP, "1.0.0.0/8", NULL);
	add_group(&cfg, "b", PW_EXPORT_GROUP, "10.0.0.0/8", NULL);
	add_group(&cfg, "c", PW_EXPORT_PREFIX, "192.0.2.0/24", "198.18.0.0/15", NULL);
	apply_ok(&pl, &cfg, 11);
	sa = fake_slot(&f, "1.0.0.0/8");
	assert_int_equal(fake_slot(&f, "10.0.0.0/8"), sb);
	assert_int_equal(fake_slot(&f, "192.0.2.0/24"), sc);
	assert_int_equal(fake_slot(&f, "198.18.0.0/15"), sc);
	assert_true(sa > 0 && sa != sb && sa != sc);

	/* c goes, d comes: d does not take c's slot while another is free */
	add_group(&cfg, "a", PW_EXPORT_GROUP, "1.0.0.0/8", NULL);
	add_group(&cfg, "b", PW_EXPORT_GROUP, "10.0.0.0/8", NULL);
	add_group(&cfg, "d", PW_EXPORT_GROUP, "198.51.100.0/24", NULL);
	apply_ok(&pl, &cfg, 12);
	sd = fake_slot(&f, "198.51.100.0/24");
	assert_int_equal(fake_slot(&f, "1.0.0.0/8"), sa);
	assert_int_equal(fake_slot(&f, "10.0.0.0/8"), sb);
	assert_true(sd > 0 && sd != sa && sd != sb && sd != sc);
	pw_poller_free(&pl);
}

/*
 * A reload whose final write fails, after the retiring write of an id that changes hands,
 * puts the old set back with its own anatomy slots.
 */
static void test_anatomy_slots_restored(void **state)
{
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;
	long s10, s11;
	int sets;

	(void)state;
	start(&f, &pl, 2);
	add_group(&cfg, "a", PW_EXPORT_PREFIX, "10.0.0.0/8", NULL);
	add_group(&cfg, "b", PW_EXPORT_PREFIX, "11.0.0.0/8", NULL);
	apply_ok(&pl, &cfg, 10);
	s10 = fake_slot(&f, "10.0.0.0/8");
	s11 = fake_slot(&f, "11.0.0.0/8");
	assert_true(s10 > 0 && s11 > 0 && s10 != s11);
	/* b goes, c takes its id: a retiring write, then the final one, which fails */
	add_group(&cfg, "a", PW_EXPORT_PREFIX, "10.0.0.0/8", NULL);
	add_group(&cfg, "c", PW_EXPORT_PREFIX, "12.0.0.0/8", NULL);
	f.fail_set_at = 2;
	sets = f.sets;
	assert_int_equal(pw_poller_apply(&pl, &cfg, 11), -EIO);
	pw_config_free(&cfg);
	assert_int_equal(f.sets, sets + 2); /* the retiring write and the restoring one */
	assert_int_equal(f.n, 2);
	assert_int_equal(fake_slot(&f, "10.0.0.0/8"), s10);
	assert_int_equal(fake_slot(&f, "11.0.0.0/8"), s11);
	assert_int_equal(fake_slot(&f, "12.0.0.0/8"), -1);
	pw_poller_free(&pl);
}

/* A source of many ids that keeps the references of the last write (no traffic). */
#define WIDE_GROUPS (PW_MAX_SLOTS + 8)
static struct pw_prefix wide_pfx[WIDE_GROUPS];
static uint32_t wide_refs[WIDE_GROUPS];
static size_t wide_n;

static int wide_read(void *ctx, uint32_t n, struct pw_counter *out)
{
	(void)ctx;
	memset(out, 0, n * sizeof(*out));
	return 0;
}

static int wide_set(void *ctx, const struct pw_prefix *pfx, const uint32_t *refs, size_t n)
{
	(void)ctx;
	assert_true(n <= WIDE_GROUPS);
	memcpy(wide_pfx, pfx, n * sizeof(*pfx));
	memcpy(wide_refs, refs, n * sizeof(*refs));
	wide_n = n;
	return 0;
}

static void wide_group(struct pw_config *cfg, const char *name, ...)
{
	va_list ap;

	va_start(ap, name);
	fake_group(cfg, name, ap);
	va_end(ap);
}

/*
 * The anatomy slot of each set of groups goes into the tables beside the counter id
 * (PW_REF): distinct sets get distinct slots, 1 to PW_MAX_SLOTS - 1, and the prefixes of
 * sets beyond them slot 0 (left out of the class counts, and counted as such), while
 * every prefix keeps its own counter id.
 */
static void test_anatomy_slots_in_refs(void **state)
{
	struct pw_source src = { .max_ids = 4 * WIDE_GROUPS, .read_counters = wide_read,
				 .set_prefixes = wide_set };
	struct pw_config cfg = { 0 };
	bool seen[PW_MAX_SLOTS] = { false }, id_seen[4 * WIDE_GROUPS] = { false };
	struct pw_poller pl;
	size_t zero = 0;

	(void)state;
	assert_int_equal(pw_poller_init(&pl, &src), 0);
	for (int g = 0; g < WIDE_GROUPS; g++) {
		char name[16], pfx[32];

		snprintf(name, sizeof(name), "g%d", g);
		snprintf(pfx, sizeof(pfx), "10.%d.%d.0/24", g / 256, g % 256);
		wide_group(&cfg, name, pfx, NULL);
	}
	apply_ok(&pl, &cfg, 10);
	assert_int_equal(wide_n, WIDE_GROUPS);
	for (size_t i = 0; i < wide_n; i++) {
		uint32_t slot = PW_REF_SLOT(wide_refs[i]), id = PW_REF_ID(wide_refs[i]);

		assert_true(id < 4 * WIDE_GROUPS);
		assert_false(id_seen[id]);
		id_seen[id] = true;
		if (!slot) {
			zero++;
			continue;
		}
		assert_true(slot < PW_MAX_SLOTS);
		assert_false(seen[slot]);
		seen[slot] = true;
	}
	assert_int_equal(zero, WIDE_GROUPS - (PW_MAX_SLOTS - 1));
	assert_int_equal(pl.cl.n_unslotted, zero);
	assert_int_equal(pl.cl.n_slots, PW_MAX_SLOTS);
	pw_poller_free(&pl);
}

static void test_overlapping_groups_classes(void **state)
{
	static const struct traffic traffic[] = {
		{ "10.1.2.3", 3, 100 },	  /* 10.1.2/24: A, B, C; read prefix 10.1.2/24 */
		{ "10.1.9.9", 2, 100 },	  /* 10.1/16: A, B */
		{ "10.200.0.1", 1, 100 }, /* 10/8: A */
		{ "10.7.0.1", 6, 100 },	  /* 10.7/16: A (and per_prefix D) */
		{ "192.0.2.1", 4, 100 },  /* 192.0.2/24: B */
	};
	static const struct want groups[] = {
		{ "A", 12, 1200 }, { "B", 9, 900 }, { "C", 3, 300 }, { "D", 6, 600 },
	};
	static const struct want prefixes[] = {
		{ "10.1.2.0/24", 3, 300 },
		{ "10.7.0.0/16", 6, 600 },
	};
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;

	(void)state;
	start(&f, &pl, 16);
	add_group(&cfg, "A", PW_EXPORT_GROUP, "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", NULL);
	add_group(&cfg, "B", PW_EXPORT_GROUP, "10.1.0.0/16", "192.0.2.0/24", NULL);
	add_group(&cfg, "C", PW_EXPORT_PREFIX, "10.1.2.0/24", NULL);
	add_group(&cfg, "D", PW_EXPORT_GROUP, "10.7.0.0/16", NULL);
	cfg.groups[3].per_prefix = true;
	apply_ok(&pl, &cfg, 10);
	/* {A}: 10/8; {A,B}: 10.1/16; {A,B,C} under 10.1.2/24; {B}: 192.0.2/24; {A,D} 10.7/16 */
	assert_int_equal(f.n, 5);
	assert_int_equal(fake_distinct_ids(&f), 5);
	/* five sets of groups: five anatomy slots, none the empty set's 0 */
	for (size_t i = 0; i < f.n; i++) {
		assert_true(f.slots[i] > 0 && f.slots[i] < PW_MAX_SLOTS);
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(f.slots[i], f.slots[j]);
	}
	assert_true(entry(&pl, "10.1.2.0/24")->read);
	assert_true(entry(&pl, "10.7.0.0/16")->read);
	assert_false(entry(&pl, "10.1.0.0/16")->read);
	deliver_all(&f, traffic, N(traffic));
	poll_ok(&pl, 11);
	expect_groups(&pl, groups, N(groups));
	expect_prefixes(&pl, prefixes, N(prefixes));
	pw_poller_free(&pl);
}

/*
 * export = group -> prefix -> group across reloads: the group never jumps, prefixes read
 * from a reload on count from it exactly, and a read prefix enclosing the ones that
 * change keeps its history (the classes under it that go carry their totals to it).
 */
static void test_export_changes_across_reloads(void **state)
{
	struct pw_config cfg = { 0 };
	struct pw_poller pl;
	struct fake f;

	(void)state;
	start(&f, &pl, 16);
	add_group(&cfg, "top", PW_EXPORT_PREFIX, "10.0.0.0/8", NULL);
	add_group(&cfg, "g", PW_EXPORT_GROUP, "10.1.0.0/16", "10.2.0.0/16", "10.1.2.0/24", NULL);
	apply_ok(&pl, &cfg, 10);
	assert_int_equal(fake_distinct_ids(&f), 2); /* {top}, {top,g}: both under 10/8 */
	deliver(&f, "10.1.2.3", 3, 100);
	deliver(&f, "10.2.0.1", 2, 100);
	deliver(&f, "10.9.0.1", 1, 100);
	poll_ok(&pl, 11);
	expect_groups(&pl, (const struct want[]){ { "g", 5, 500 }, { "top", 6, 600 } }, 2);
	expect_prefixes(&pl, (const struct want[]){ { "10.0.0.0/8", 6, 600 } }, 1);
	deliver(&f, "10.2.0.1", 1, 100); /* unpolled: settled by the reload */

	/* group -> prefix */
	add_group(&cfg, "top", PW_EXPORT_PREFIX, "10.0.0.0/8", NULL);
	add_group(&cfg, "g", PW_EXPORT_PREFIX, "10.1.0.0/16", "10.2.0.0/16", "10.1.2.0/24", NULL);
	apply_ok(&pl, &cfg, 12);
	assert_int_equal(fake_distinct_ids(&f), 4);
	expect_groups(&pl, (const struct want[]){ { "g", 6, 600 }, { "top", 7, 700 } }, 2);
	expect_prefixes(&pl,
			(const struct want[]){ { "10.0.0.0/8", 7, 700 },
					       { "10.1.0.0/16", 0, 0 },
					       { "10.1.2.0/24", 0, 0 },
					       { "10.2.0.0/16", 0, 0 } },
			4);
	deliver(&f, "10.1.2.3", 4, 100);
	deliver(&f, "10.1.7.7", 1, 100);
	deliver(&f, "10.2.0.1", 2, 100);
	poll_ok(&pl, 13);
	expect_groups(&pl, (const struct want[]){ { "g", 13, 1300 }, { "top", 14, 1400 } }, 2);
	expect_prefixes(&pl,
			(const struct want[]){ { "10.0.0.0/8", 14, 1400 },
					       { "10.1.0.0/16", 5, 500 },
					       { "10.1.2.0/24", 4, 400 },
					       { "10.2.0.0/16", 2, 200 } },
			4);
	f.inflight_id = fake_id(&f, "10.1.2.0/24"); /* under the old table, at the flip */
	f.inflight_packets = 2;
	f.inflight_bytes = 200;

	/* prefix -> group */
	add_group(&cfg, "top", PW_EXPORT_PREFIX, "10.0.0.0/8", NULL);
	add_group(&cfg, "g", PW_EXPORT_GROUP, "10.1.0.0/16", "10.2.0.0/16", "10.1.2.0/24", NULL);
	apply_ok(&pl, &cfg, 14);
	assert_int_equal(fake_distinct_ids(&f), 2);
	expect_groups(&pl, (const struct want[]){ { "g", 15, 1500 }, { "top", 16, 1600 } }, 2);
	expect_prefixes(&pl, (const struct want[]){ { "10.0.0.0/8", 16, 1600 } }, 1);
	deliver(&f, "10.1.2.3", 1, 100);
	deliver(&f, "10.3.0.1", 1, 100);
	poll_ok(&pl, 15);
	expect_groups(&pl, (const struct want[]){ { "g", 16, 1600 }, { "top", 18, 1800 } }, 2);
	expect_prefixes(&pl, (const struct want[]){ { "10.0.0.0/8", 18, 1800 } }, 1);
	/* Rates go on from the last poll (13) across the reload: g 13 -> 16, 10/8 14 -> 18. */
	assert_true(group(&pl, "g")->rate.pps == 1.5);
	assert_true(entry(&pl, "10.0.0.0/8")->rate.pps == 2);
	pw_poller_free(&pl);
}

/*
 * Random reloads that change exports, per_prefix and memberships, with few ids (reused
 * within a reload), traffic before every reload and packets in flight during it: group
 * "wide" (0.0.0.0/0, export = group) and the read prefix 0.0.0.0/0 of group "all" count
 * exactly the IPv4 packets sent, and no read prefix or group ever goes backwards.
 */
static void test_classes_random_reloads(void **state)
{
	static const char *const pool[] = {
		"10.0.0.0/8",	  "10.1.0.0/16",  "10.1.2.0/24",  "10.2.0.0/16",
		"10.1.2.128/25", "192.0.2.0/24", "192.0.2.0/25", "198.51.100.0/24",
	};
	static const char *const addrs[] = {
		"10.1.2.200", "10.1.2.1",  "10.1.9.9",	  "10.2.0.1",	  "10.3.3.3",
		"10.9.9.9",   "192.0.2.1", "192.0.2.200", "198.51.100.7", "172.16.0.1",
	};
	struct pw_counter last_p[N(pool)], last_g[4] = { { 0, 0 } };
	static const char *const gnames[4] = { "all", "wide", "x", "y" };
	struct pw_config cfg = { 0 };
	uint64_t sent = 0, sent_bytes = 0, seed = 777;
	bool was_read[N(pool)] = { false }, g_was[4] = { false };
	struct pw_poller pl;
	struct fake f;
	double now = 10;

	(void)state;
	start(&f, &pl, 12);
	for (int round = 0; round < 400; round++) {
		const char *xs[N(pool) + 1], *ys[N(pool) + 1];
		size_t nx = 0, ny = 0;
		long at;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		for (size_t i = 0; i < N(pool); i++) {
			if ((seed >> (10 + i)) & 1)
				xs[nx++] = pool[i];
			if ((seed >> (20 + i)) & 1)
				ys[ny++] = pool[i];
		}
		xs[nx] = ys[ny] = NULL;
		for (size_t k = 0; round && k < 4; k++) {
			const char *a = addrs[(seed >> (4 * k + 1)) % N(addrs)];
			unsigned int c = (unsigned int)((seed >> (4 * k + 40)) % 5) + 1;

			deliver(&f, a, c, 100);
			sent += c;
			sent_bytes += (uint64_t)c * 100;
			if (k == 1)
				poll_ok(&pl, now += 1);
		}
		at = round ? fake_match(&f, addrs[(seed >> 50) % N(addrs)]) : -1;
		if (at >= 0) {
			f.inflight_id = f.ids[at];
			f.inflight_packets = (seed >> 60) + 1;
			f.inflight_bytes = f.inflight_packets * 100;
			sent += f.inflight_packets;
			sent_bytes += f.inflight_bytes;
		}
		add_group(&cfg, "all", PW_EXPORT_PREFIX, "0.0.0.0/0", NULL);
		add_group(&cfg, "wide", PW_EXPORT_GROUP, "0.0.0.0/0", NULL);
		if (nx) {
			add_group(&cfg, "x", (seed >> 30) & 1 ? PW_EXPORT_PREFIX : PW_EXPORT_GROUP,
				  xs[0], xs[1], xs[2], xs[3], xs[4], xs[5], xs[6], xs[7], NULL);
			cfg.groups[cfg.n_groups - 1].per_prefix = (seed >> 31) & 1;
		}
		if (ny)
			add_group(&cfg, "y", (seed >> 32) & 1 ? PW_EXPORT_PREFIX : PW_EXPORT_GROUP,
				  ys[0], ys[1], ys[2], ys[3], ys[4], ys[5], ys[6], ys[7], NULL);
		apply_ok(&pl, &cfg, now += 1);
		f.inflight_id = -1;
		for (int pass = 0; pass < 2; pass++) {
			bool g_is[4] = { false };

			if (pass)
				poll_ok(&pl, now += 1);
			for (size_t i = 0; i < N(pool); i++) {
				struct pw_prefix q = P(pool[i]);
				long k = pw_poller_find(&pl, &q);

				if (k < 0 || !pl.p[k].read) {
					was_read[i] = false;
					continue;
				}
				if (was_read[i] && (pl.p[k].in.packets < last_p[i].packets ||
						    pl.p[k].in.bytes < last_p[i].bytes))
					fail_msg("round %d: %s went from %llu to %llu packets", round,
						 pool[i], (unsigned long long)last_p[i].packets,
						 (unsigned long long)pl.p[k].in.packets);
				last_p[i] = pl.p[k].in;
				was_read[i] = true;
			}
			for (size_t j = 0; j < pl.n_groups; j++)
				for (int k = 0; k < 4; k++) {
					const struct pw_gview *g = &pl.g[j];

					if (strcmp(g->cfg->name, gnames[k]))
						continue;
					g_is[k] = true;
					if (g_was[k] && (g->in.packets < last_g[k].packets ||
							 g->in.bytes < last_g[k].bytes))
						fail_msg("round %d: group %s went backwards", round,
							 gnames[k]);
					last_g[k] = g->in;
				}
			memcpy(g_was, g_is, sizeof(g_was));
			if (pass && (entry(&pl, "0.0.0.0/0")->in.packets != sent ||
				     entry(&pl, "0.0.0.0/0")->in.bytes != sent_bytes ||
				     group(&pl, "wide")->in.packets != sent ||
				     group(&pl, "wide")->in.bytes != sent_bytes ||
				     group(&pl, "all")->in.packets != sent))
				fail_msg("round %d: 0.0.0.0/0 %llu, wide %llu, all %llu; %llu sent",
					 round,
					 (unsigned long long)entry(&pl, "0.0.0.0/0")->in.packets,
					 (unsigned long long)group(&pl, "wide")->in.packets,
					 (unsigned long long)group(&pl, "all")->in.packets,
					 (unsigned long long)sent);
		}
	}
	pw_poller_free(&pl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_inclusive),
		cmocka_unit_test(test_group_counts_each_packet_once),
		cmocka_unit_test(test_prefix_in_two_groups),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_reload_adds_nested),
		cmocka_unit_test(test_reload_removes_nested),
		cmocka_unit_test(test_reload_in_flight),
		cmocka_unit_test(test_reload_rate_covers_reload),
		cmocka_unit_test(test_reload_keeps_ids),
		cmocka_unit_test(test_reused_id_starts_at_zero),
		cmocka_unit_test(test_group_monotonic_across_reloads),
		cmocka_unit_test(test_reused_id_later_reload),
		cmocka_unit_test(test_reused_id_same_reload_nested),
		cmocka_unit_test(test_reused_id_in_flight),
		cmocka_unit_test(test_counts_never_go_backwards),
		cmocka_unit_test(test_ipv6_alongside_ipv4),
		cmocka_unit_test(test_too_many_prefixes),
		cmocka_unit_test(test_source_errors),
		cmocka_unit_test(test_unread_prefixes_share_an_id),
		cmocka_unit_test(test_overlapping_groups_classes),
		cmocka_unit_test(test_anatomy_slots_in_refs),
		cmocka_unit_test(test_anatomy_slots_stay),
		cmocka_unit_test(test_anatomy_slots_restored),
		cmocka_unit_test(test_export_changes_across_reloads),
		cmocka_unit_test(test_classes_random_reloads),
	};

	return cmocka_run_group_tests_name("poller", tests, NULL, NULL);
}
