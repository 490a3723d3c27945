// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_watch.c - the detectors of a configuration (pw_watch) on a real poller over a fake
 * counter source, their events, JSON and metrics, and where events go (pw_events).
 *
 * The fake source is an array of counters by id plus the prefix -> id table the poller
 * last wrote; add() counts packets at a configured prefix, as the XDP program would for
 * an address whose most specific match it is. The test prefixes do not nest, so a
 * prefix's rate is exactly what was added at it. Packets are 500 bytes: bps = 4000 x pps.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "events.h"
#include "poller.h"
#include "watch.h"
#include "fake_source.h"

#define BYTES 500
#define BPP (BYTES * 8.0)

#define PA "175.45.176.0/22" /* kp, A */
#define PB "2001:db8::/32"   /* kp, B */
#define PC "198.51.100.0/24" /* kp after a reload, C */
#define PO "192.0.2.0/24"    /* other */

/* ---- the fake source ---- */

/* Count @packets packets of BYTES bytes at configured prefix @pfx. */
static void add(struct fake *f, const char *pfx, uint64_t packets)
{
	struct pw_prefix p = P(pfx);

	for (size_t i = 0; i < f->n; i++) {
		if (!pw_prefix_equal(&f->pfx[i], &p))
			continue;
		f->c[f->ids[i]].packets += packets;
		f->c[f->ids[i]].bytes += packets * BYTES;
		return;
	}
	fail_msg("%s is not in the live table", pfx);
}

/* Add [group NAME] with its prefixes (NULL-terminated), warm-up 2 s. */
static void add_group(struct pw_config *cfg, const char *name, bool per_prefix, ...)
{
	struct pw_group *g;
	va_list ap;

	va_start(ap, per_prefix);
	g = fake_group(cfg, name, ap);
	va_end(ap);
	g->per_prefix = per_prefix;
	g->det.warmup = 2;
}

/* ---- the fixture: poller, watch and a recording sink ---- */

struct rec {
	char group[PW_GROUP_NAME_MAX + 1];
	bool per_prefix;
	char prefix[PW_PREFIX_STRLEN];
	struct pw_event ev;
	char json[512];
};

struct fx {
	struct fake f;
	struct pw_poller pl;
	struct pw_watch w;
	struct rec rec[32];
	int n_rec;
	double now;
	double wall_shift; /* wall clock minus the monotonic one (a step of NTP) */
};

static void record(void *ctx, const struct pw_watch_item *it, const struct pw_event *ev)
{
	struct fx *x = ctx;
	struct rec *r;
	struct pw_buf b = { 0 };

	assert_true(x->n_rec < (int)(sizeof(x->rec) / sizeof(x->rec[0])));
	r = &x->rec[x->n_rec++];
	memset(r, 0, sizeof(*r));
	snprintf(r->group, sizeof(r->group), "%s", it->group);
	r->per_prefix = it->per_prefix;
	if (it->per_prefix)
		pw_prefix_format(&it->prefix, r->prefix, sizeof(r->prefix));
	r->ev = *ev;
	pw_event_json(it, ev, &b);
	assert_false(b.oom);
	assert_true(b.len < sizeof(r->json));
	memcpy(r->json, b.data, b.len);
	pw_buf_free(&b);
}

static void apply_sync(struct fx *x, struct pw_config *cfg, double now)
{
	int err = pw_poller_apply(&x->pl, cfg, now);

	if (err)
		fail_msg("apply: %s", strerror(-err));
	assert_int_equal(pw_watch_sync(&x->w, &x->pl, now), 0);
	x->now = now;
}

/*
 * The first configuration: kp (A, B; per prefix) and other (O), applied at t = 1000.
 * @other_det: other's detector settings, or NULL for the same as kp's.
 */
static void fx_start_with(struct fx *x, const struct pw_detect_cfg *other_det)
{
	struct pw_source src;
	struct pw_config cfg;

	memset(x, 0, sizeof(*x));
	src = fake_source(&x->f, 16);
	assert_int_equal(pw_poller_init(&x->pl, &src), 0);
	pw_watch_init(&x->w, record, x);
	pw_config_defaults(&cfg);
	add_group(&cfg, "kp", true, PA, PB, NULL);
	add_group(&cfg, "other", false, PO, NULL);
	if (other_det)
		cfg.groups[1].det = *other_det;
	apply_sync(x, &cfg, 1000);
}

static void fx_start(struct fx *x)
{
	fx_start_with(x, NULL);
}

static void fx_end(struct fx *x)
{
	pw_watch_free(&x->w);
	pw_poller_free(&x->pl);
}

/* One second of traffic at A, B and O (and C if configured), polled and stepped. */
static void tick(struct fx *x, uint64_t a, uint64_t b, uint64_t o, uint64_t c)
{
	int err;

	x->now += 1;
	add(&x->f, PA, a);
	add(&x->f, PB, b);
	add(&x->f, PO, o);
	if (c)
		add(&x->f, PC, c);
	err = pw_poller_poll(&x->pl, x->now);
	if (err)
		fail_msg("poll: %s", strerror(-err));
	pw_watch_step(&x->w, &x->pl, x->now + x->wall_shift);
}

/* @n more ticks at the same rates, with no event. */
static void quiet_ticks(struct fx *x, int n, uint64_t a, uint64_t b, uint64_t o, uint64_t c)
{
	int before = x->n_rec;

	for (int i = 0; i < n; i++)
		tick(x, a, b, o, c);
	assert_int_equal(x->n_rec, before);
}

static const struct pw_watch_item *item(const struct fx *x, size_t i, const char *group,
					const char *prefix)
{
	const struct pw_watch_item *it;
	char txt[PW_PREFIX_STRLEN];

	assert_true(i < x->w.n);
	it = &x->w.items[i];
	assert_string_equal(it->group, group);
	if (!prefix) {
		assert_false(it->per_prefix);
		assert_ptr_equal(x->pl.g[it->gidx].cfg->name, x->pl.cfg.groups[it->gidx].name);
		assert_string_equal(x->pl.g[it->gidx].cfg->name, group);
		return it;
	}
	assert_true(it->per_prefix);
	assert_string_equal(pw_prefix_format(&it->prefix, txt, sizeof(txt)), prefix);
	assert_true(it->pidx < x->pl.n);
	assert_true(pw_prefix_equal(&x->pl.p[it->pidx].pfx, &it->prefix));
	assert_string_equal(x->pl.g[it->gidx].cfg->name, group);
	return it;
}

#define assert_dbl(got, want)                                                           \
	do {                                                                            \
		double got_ = (got), want_ = (want);                                    \
		if (!(got_ == want_))                                                   \
			fail_msg("%s = %.17g, expected %.17g", #got, got_, want_);      \
	} while (0)

/*
 * Settle A = 100, B = 70, O = 50 pps up to t = 1010, then flood A with 1000 pps:
 * kp/A (line 400, twice that 800) starts at once at 1011, kp (170 pps, line 680, not
 * twice) at the second interval, 1012. B and other stay quiet.
 */
static void fx_flood(struct fx *x)
{
	while (x->now < 1010)
		tick(x, 100, 70, 50, 0);
	assert_int_equal(x->n_rec, 0);
	tick(x, 1000, 70, 50, 0);
	tick(x, 1000, 70, 50, 0);
	assert_int_equal(x->n_rec, 2);
}

/* ---- pw_watch ---- */

static void test_sync_items(void **state)
{
	struct fx x;

	(void)state;
	fx_start(&x);
	/* one per group, plus one per prefix of kp, in sorted prefix order */
	assert_int_equal(x.w.n, 4);
	assert_int_equal(x.pl.n, 3);
	item(&x, 0, "kp", NULL);
	item(&x, 1, "kp", PA);
	item(&x, 2, "kp", PB);
	item(&x, 3, "other", NULL);
	assert_int_equal(x.w.items[0].gidx, 0);
	assert_int_equal(x.w.items[1].gidx, 0);
	assert_int_equal(x.w.items[1].pidx, 0); /* 175.45.176.0/22 < 192.0.2.0/24 < v6 */
	assert_int_equal(x.w.items[2].pidx, 2);
	assert_int_equal(x.w.items[3].gidx, 1);
	for (size_t i = 0; i < x.w.n; i++) {
		assert_dbl(x.w.items[i].det.age, 0);
		assert_false(x.w.items[i].det.alarm[PW_ALARM_FLOOD]);
	}
	/* A poll at the apply's own time has no interval: the detectors see nothing. */
	assert_int_equal(pw_poller_poll(&x.pl, 1000), 0);
	pw_watch_step(&x.w, &x.pl, 1000);
	for (size_t i = 0; i < x.w.n; i++)
		assert_dbl(x.w.items[i].det.age, 0);
	/* Each detector gets its own series. */
	tick(&x, 100, 70, 50, 0);
	assert_dbl(x.w.items[0].det.base_pps, 170);
	assert_dbl(x.w.items[0].det.base_bps, 170 * BPP);
	assert_dbl(x.w.items[1].det.base_pps, 100);
	assert_dbl(x.w.items[2].det.base_pps, 70);
	assert_dbl(x.w.items[3].det.base_pps, 50);
	assert_dbl(x.w.items[3].det.base_bps, 50 * BPP);
	for (size_t i = 0; i < x.w.n; i++)
		assert_dbl(x.w.items[i].det.age, 1);
	assert_int_equal(x.n_rec, 0);
	fx_end(&x);
}

static void test_step_events(void **state)
{
	struct fx x;

	(void)state;
	fx_start(&x);
	fx_flood(&x);
	assert_string_equal(x.rec[0].group, "kp");
	assert_true(x.rec[0].per_prefix);
	assert_string_equal(x.rec[0].prefix, PA);
	assert_int_equal(x.rec[0].ev.kind, PW_ALARM_FLOOD);
	assert_true(x.rec[0].ev.start);
	assert_dbl(x.rec[0].ev.time, 1011);
	assert_dbl(x.rec[0].ev.pps, 1000);
	assert_dbl(x.rec[0].ev.baseline_pps, 100);
	assert_string_equal(x.rec[0].json,
			    "{\"time\":1011.000,\"group\":\"kp\",\"prefix\":\"175.45.176.0/22\","
			    "\"kind\":\"flood\",\"state\":\"start\",\"pps\":1000,\"bps\":4000000,"
			    "\"baseline_pps\":100,\"baseline_bps\":400000}");
	assert_string_equal(x.rec[1].group, "kp");
	assert_false(x.rec[1].per_prefix);
	assert_string_equal(x.rec[1].json,
			    "{\"time\":1012.000,\"group\":\"kp\",\"kind\":\"flood\",\"state\":"
			    "\"start\",\"pps\":1070,\"bps\":4280000,\"baseline_pps\":170,"
			    "\"baseline_bps\":680000}");
	assert_true(x.w.items[0].det.alarm[PW_ALARM_FLOOD]);
	assert_true(x.w.items[1].det.alarm[PW_ALARM_FLOOD]);
	assert_false(x.w.items[2].det.alarm[PW_ALARM_FLOOD]);
	assert_false(x.w.items[3].det.alarm[PW_ALARM_FLOOD]);

	/* The flood ends: A back to 100 (below half-way) for two intervals, both at once. */
	tick(&x, 100, 70, 50, 0);
	assert_int_equal(x.n_rec, 2);
	tick(&x, 100, 70, 50, 0);
	assert_int_equal(x.n_rec, 4);
	assert_string_equal(x.rec[2].json,
			    "{\"time\":1014.000,\"group\":\"kp\",\"kind\":\"flood\",\"state\":"
			    "\"end\",\"pps\":170,\"bps\":680000,\"baseline_pps\":170,"
			    "\"baseline_bps\":680000}");
	assert_string_equal(x.rec[3].json,
			    "{\"time\":1014.000,\"group\":\"kp\",\"prefix\":\"175.45.176.0/22\","
			    "\"kind\":\"flood\",\"state\":\"end\",\"pps\":100,\"bps\":400000,"
			    "\"baseline_pps\":100,\"baseline_bps\":400000}");

	/* Without a sink, stepping still runs the detectors. */
	x.w.sink = NULL;
	tick(&x, 0, 70, 50, 0);
	assert_true(x.w.items[1].det.alarm[PW_ALARM_LOSS]);
	assert_int_equal(x.n_rec, 4);
	fx_end(&x);
}

/* Each group's detectors run with that group's settings. */
static void test_step_group_settings(void **state)
{
	struct pw_detect_cfg det;
	struct fx x;

	(void)state;
	pw_detect_defaults(&det);
	det.warmup = 2;
	det.loss = false;
	fx_start_with(&x, &det);
	while (x.now < 1010)
		tick(&x, 100, 70, 50, 0);
	/* A and O go dark: kp/A's loss starts, other's is switched off. */
	tick(&x, 0, 70, 0, 0);
	assert_int_equal(x.n_rec, 1);
	assert_string_equal(x.rec[0].json,
			    "{\"time\":1011.000,\"group\":\"kp\",\"prefix\":\"175.45.176.0/22\","
			    "\"kind\":\"loss\",\"state\":\"start\",\"pps\":0,\"bps\":0,"
			    "\"baseline_pps\":100,\"baseline_bps\":400000}");
	quiet_ticks(&x, 100, 0, 70, 0, 0);
	assert_int_equal(x.w.items[3].det.alarms_total[PW_ALARM_LOSS], 0);
	fx_end(&x);
}

static void test_sync_keeps_unchanged(void **state)
{
	struct pw_detector before[4];
	struct pw_config cfg;
	struct fx x;

	(void)state;
	fx_start(&x);
	fx_flood(&x);
	for (size_t i = 0; i < 4; i++)
		memcpy(&before[i], &x.w.items[i].det, sizeof(before[i]));

	/* The same configuration again: every detector keeps its state, no event. */
	pw_config_defaults(&cfg);
	add_group(&cfg, "kp", true, PA, PB, NULL);
	add_group(&cfg, "other", false, PO, NULL);
	apply_sync(&x, &cfg, 1012);
	assert_int_equal(x.n_rec, 2);
	assert_int_equal(x.w.n, 4);
	item(&x, 0, "kp", NULL);
	item(&x, 1, "kp", PA);
	item(&x, 2, "kp", PB);
	item(&x, 3, "other", NULL);
	for (size_t i = 0; i < 4; i++)
		assert_memory_equal(&x.w.items[i].det, &before[i], sizeof(before[i]));
	/* The flood goes on without a second start. */
	tick(&x, 1000, 70, 50, 0);
	assert_int_equal(x.n_rec, 2);
	assert_true(x.w.items[0].det.alarm[PW_ALARM_FLOOD]);
	assert_int_equal(x.w.items[0].det.alarms_total[PW_ALARM_FLOOD], 1);

	/* Detector settings are not part of the identity: changed, the state stays. */
	pw_config_defaults(&cfg);
	add_group(&cfg, "kp", true, PA, PB, NULL);
	add_group(&cfg, "other", false, PO, NULL);
	cfg.groups[0].det.flood_factor = 10;
	apply_sync(&x, &cfg, 1013);
	assert_int_equal(x.n_rec, 2);
	assert_true(x.w.items[0].det.alarm[PW_ALARM_FLOOD]);
	assert_dbl(x.w.items[0].det.age, 13);
	fx_end(&x);
}

static void test_sync_restarts_changed(void **state)
{
	struct pw_detector keep_a, keep_b, keep_o;
	struct pw_config cfg;
	struct fx x;

	(void)state;
	fx_start(&x);
	fx_flood(&x);
	memcpy(&keep_a, &x.w.items[1].det, sizeof(keep_a));
	memcpy(&keep_b, &x.w.items[2].det, sizeof(keep_b));
	memcpy(&keep_o, &x.w.items[3].det, sizeof(keep_o));

	/* kp gains C: the group's series changes, its detector restarts; A and B stay. */
	pw_config_defaults(&cfg);
	add_group(&cfg, "kp", true, PA, PC, PB, NULL);
	add_group(&cfg, "other", false, PO, NULL);
	apply_sync(&x, &cfg, 1012);
	assert_int_equal(x.n_rec, 3);
	assert_string_equal(x.rec[2].json,
			    "{\"time\":1012.000,\"group\":\"kp\",\"kind\":\"flood\",\"state\":"
			    "\"end\",\"pps\":1070,\"bps\":4280000,\"baseline_pps\":170,"
			    "\"baseline_bps\":680000}");
	assert_int_equal(x.w.n, 5);
	item(&x, 0, "kp", NULL);
	item(&x, 1, "kp", PA);
	item(&x, 2, "kp", PC);
	item(&x, 3, "kp", PB);
	item(&x, 4, "other", NULL);
	assert_dbl(x.w.items[0].det.age, 0);
	assert_false(x.w.items[0].det.alarm[PW_ALARM_FLOOD]);
	assert_int_equal(x.w.items[0].det.alarms_total[PW_ALARM_FLOOD], 0);
	assert_memory_equal(&x.w.items[1].det, &keep_a, sizeof(keep_a));
	assert_dbl(x.w.items[2].det.age, 0);
	assert_memory_equal(&x.w.items[3].det, &keep_b, sizeof(keep_b));
	assert_memory_equal(&x.w.items[4].det, &keep_o, sizeof(keep_o));
	/* Each one fed from its own series after the reload (C, B moved in sorted order). */
	tick(&x, 1000, 70, 50, 30);
	assert_dbl(x.w.items[0].det.base_pps, 1100);
	assert_dbl(x.w.items[2].det.base_pps, 30);
	assert_dbl(x.w.items[2].det.base_bps, 30 * BPP);
	assert_dbl(x.w.items[3].det.base_pps, 70);
	assert_dbl(x.w.items[3].det.age, 13);
	assert_dbl(x.w.items[4].det.base_pps, 50);
	assert_int_equal(x.n_rec, 3); /* A's flood goes on; the new kp is warming up */
	fx_end(&x);
}

static void test_sync_removed(void **state)
{
	struct pw_detector keep_o;
	struct pw_config cfg;
	struct fx x;

	(void)state;
	/* kp no longer per prefix: A's alarm ends, B's detector goes quietly; kp stays. */
	fx_start(&x);
	fx_flood(&x);
	pw_config_defaults(&cfg);
	add_group(&cfg, "kp", false, PA, PB, NULL);
	add_group(&cfg, "other", false, PO, NULL);
	apply_sync(&x, &cfg, 1020);
	assert_int_equal(x.n_rec, 3);
	assert_string_equal(x.rec[2].json,
			    "{\"time\":1020.000,\"group\":\"kp\",\"prefix\":\"175.45.176.0/22\","
			    "\"kind\":\"flood\",\"state\":\"end\",\"pps\":1000,\"bps\":4000000,"
			    "\"baseline_pps\":100,\"baseline_bps\":400000}");
	assert_int_equal(x.w.n, 2);
	item(&x, 0, "kp", NULL);
	item(&x, 1, "other", NULL);
	assert_true(x.w.items[0].det.alarm[PW_ALARM_FLOOD]);
	fx_end(&x);

	/* kp gone: both its raised alarms end (group first, in item order); other stays. */
	fx_start(&x);
	fx_flood(&x);
	memcpy(&keep_o, &x.w.items[3].det, sizeof(keep_o));
	pw_config_defaults(&cfg);
	add_group(&cfg, "other", false, PO, NULL);
	apply_sync(&x, &cfg, 1020);
	assert_int_equal(x.n_rec, 4);
	assert_string_equal(x.rec[2].json,
			    "{\"time\":1020.000,\"group\":\"kp\",\"kind\":\"flood\",\"state\":"
			    "\"end\",\"pps\":1070,\"bps\":4280000,\"baseline_pps\":170,"
			    "\"baseline_bps\":680000}");
	assert_true(x.rec[3].per_prefix);
	assert_string_equal(x.rec[3].prefix, PA);
	assert_false(x.rec[3].ev.start);
	assert_int_equal(x.w.n, 1);
	item(&x, 0, "other", NULL);
	assert_memory_equal(&x.w.items[0].det, &keep_o, sizeof(keep_o));
	fx_end(&x);

	/* kp renamed, same prefixes: a different group, so its alarms end too. */
	fx_start(&x);
	fx_flood(&x);
	pw_config_defaults(&cfg);
	add_group(&cfg, "kp2", true, PA, PB, NULL);
	add_group(&cfg, "other", false, PO, NULL);
	apply_sync(&x, &cfg, 1020);
	assert_int_equal(x.n_rec, 4);
	assert_string_equal(x.rec[2].group, "kp");
	assert_string_equal(x.rec[3].group, "kp");
	assert_int_equal(x.w.n, 4);
	item(&x, 1, "kp2", PA);
	for (size_t i = 0; i < 3; i++)
		assert_dbl(x.w.items[i].det.age, 0);
	assert_dbl(x.w.items[3].det.age, 12);
	fx_end(&x);
}

/* Configure g (per prefix) with 10.0.I.0/24 for I in [g0, g1), h (per prefix) in [h0, h1). */
static void two_groups(struct pw_config *cfg, int g0, int g1, int h0, int h1)
{
	struct pw_group *g;

	pw_config_defaults(cfg);
	for (int k = 0; k < 2; k++) {
		int lo = k ? h0 : g0, hi = k ? h1 : g1;

		add_group(cfg, k ? "h" : "g", true, NULL);
		g = &cfg->groups[cfg->n_groups - 1];
		g->prefixes = calloc((size_t)(hi - lo) + 1, sizeof(*g->prefixes));
		assert_non_null(g->prefixes);
		for (int i = lo; i < hi; i++) {
			char txt[32];

			snprintf(txt, sizeof(txt), "10.0.%d.0/24", i);
			g->prefixes[g->n_prefixes++] = P(txt);
		}
		g->cap = g->n_prefixes;
	}
}

/* The age a test gave the detector of (@group, @prefix) as a mark: unique per detector. */
static double mark_of(const struct pw_watch_item *it)
{
	return 1000.0 * (it->group[0] == 'h' ? 2 : 1) + (it->per_prefix ? it->prefix.addr[2] : 999);
}

/*
 * Many detectors across a rebuild: each one whose group and prefix (or, for a group's
 * own, prefix set) stay keeps its state, whatever the others do; a prefix in two groups has
 * two detectors that never mix; new ones start afresh; removed ones go.
 */
static void test_sync_carries_many(void **state)
{
	struct pw_source src;
	struct pw_config cfg;
	struct fx x;
	size_t kept = 0;

	(void)state;
	memset(&x, 0, sizeof(x));
	src = fake_source(&x.f, 64);
	assert_int_equal(pw_poller_init(&x.pl, &src), 0);
	pw_watch_init(&x.w, record, &x);
	two_groups(&cfg, 0, 30, 20, 40);
	apply_sync(&x, &cfg, 1000);
	assert_int_equal(x.w.n, 1 + 30 + 1 + 20);
	for (size_t i = 0; i < x.w.n; i++)
		x.w.items[i].det.age = mark_of(&x.w.items[i]);

	/* g loses 0..9 and gains 30..49 (its set changes); h is unchanged */
	two_groups(&cfg, 10, 50, 20, 40);
	apply_sync(&x, &cfg, 1001);
	assert_int_equal(x.w.n, 1 + 40 + 1 + 20);
	assert_int_equal(x.n_rec, 0);
	for (size_t i = 0; i < x.w.n; i++) {
		const struct pw_watch_item *it = &x.w.items[i];
		bool h = it->group[0] == 'h';
		bool stays = it->per_prefix ? h || it->prefix.addr[2] < 30 : h;

		assert_true(pw_prefix_equal(&x.pl.p[it->pidx].pfx, &it->prefix) || !it->per_prefix);
		if (stays) {
			assert_dbl(it->det.age, mark_of(it));
			kept++;
		} else {
			assert_dbl(it->det.age, 0);
		}
	}
	assert_int_equal(kept, 20 + 1 + 20);

	/* and back: g's prefixes 0..9 start afresh, they were dropped in between */
	two_groups(&cfg, 0, 30, 20, 40);
	apply_sync(&x, &cfg, 1002);
	for (size_t i = 0; i < x.w.n; i++) {
		const struct pw_watch_item *it = &x.w.items[i];

		if (it->per_prefix && it->group[0] == 'g' && it->prefix.addr[2] < 10)
			assert_dbl(it->det.age, 0);
		if (it->group[0] == 'h')
			assert_dbl(it->det.age, mark_of(it));
	}
	fx_end(&x);
}

/*
 * A late poll (a stalled machine, a long reload) is one longer interval: 5 s of traffic at
 * the usual rates, polled 5 s after the last poll, is the usual rate over 5 s, not a 5x
 * burst, and the detectors' clock moves on by 5 s.
 */
static void test_late_poll(void **state)
{
	double age;
	struct fx x;

	(void)state;
	fx_start(&x);
	quiet_ticks(&x, 40, 100, 70, 50, 0);
	age = x.w.items[0].det.age;
	x.now += 4; /* tick() adds the fifth second */
	tick(&x, 500, 350, 250, 0);
	assert_int_equal(x.n_rec, 0);
	assert_dbl(x.pl.last_dt, 5);
	assert_dbl(x.pl.g[0].rate.pps, 170);
	assert_dbl(x.w.items[0].det.age, age + 5);
	assert_dbl(x.w.items[0].det.last_pps, 170);
	quiet_ticks(&x, 5, 100, 70, 50, 0);
	fx_end(&x);
}

/*
 * The wall clock stepped by an hour (NTP) while the detectors run: the monotonic clock
 * (the poll times) goes on by one second a tick. The same traffic (three short outages
 * of "other", then quiet) must give the same events at the same ticks, only stamped
 * with the stepped wall clock: a detector on wall time would drop the losses out of its
 * unstable window at +1 h (no unstable) or keep them an hour longer at -1 h (a late end).
 */
static int run_outages(struct fx *x, double step_at, double shift, int *tick_of)
{
	struct pw_detect_cfg other;

	pw_detect_defaults(&other);
	other.warmup = 2;
	other.unstable_window = 60; /* ends after 15 s without a loss */
	fx_start_with(x, &other);
	for (int t = 0; t < 120; t++) {
		int before = x->n_rec;
		bool dark = (t >= 40 && t < 43) || (t >= 50 && t < 53) || (t >= 60 && t < 63);

		if (x->now >= step_at)
			x->wall_shift = shift;
		tick(x, 100, 70, dark ? 0 : 1000, 0);
		for (int i = before; i < x->n_rec; i++)
			tick_of[i] = t;
	}
	return x->n_rec;
}

static void test_wall_clock_step(void **state)
{
	static const double shifts[] = { 3600, -3600 };
	int ref_tick[32], tick_of[32], n_ref, unstable = 0;
	struct fx ref, x;

	(void)state;
	n_ref = run_outages(&ref, 1e9, 0, ref_tick);
	for (int i = 0; i < n_ref; i++)
		unstable += ref.rec[i].ev.kind == PW_ALARM_UNSTABLE;
	assert_int_equal(unstable, 2); /* the scenario raises and ends unstable */
	for (size_t s = 0; s < sizeof(shifts) / sizeof(shifts[0]); s++) {
		int n = run_outages(&x, 1045, shifts[s], tick_of);

		assert_int_equal(n, n_ref);
		for (int i = 0; i < n; i++) {
			/* Tick t starts at 1000 + t: stepped from the one that starts at 1045. */
			bool stepped = 1000 + ref_tick[i] >= 1045;
			double want = ref.rec[i].ev.time + (stepped ? shifts[s] : 0);

			assert_int_equal(tick_of[i], ref_tick[i]);
			assert_int_equal(x.rec[i].ev.kind, ref.rec[i].ev.kind);
			assert_int_equal(x.rec[i].ev.start, ref.rec[i].ev.start);
			assert_int_equal(x.rec[i].ev.reason, ref.rec[i].ev.reason);
			assert_string_equal(x.rec[i].group, ref.rec[i].group);
			assert_dbl(x.rec[i].ev.time, want);
		}
		fx_end(&x);
	}
	fx_end(&ref);
}

static void test_render(void **state)
{
	static const char *const want =
		"# HELP prefixwatch_alarm 1 while an alarm of this kind is raised.\n"
		"# TYPE prefixwatch_alarm gauge\n"
		"prefixwatch_alarm{group=\"kp\",kind=\"flood\"} 1\n"
		"prefixwatch_alarm{group=\"kp\",kind=\"loss\"} 0\n"
		"prefixwatch_alarm{group=\"kp\",kind=\"unstable\"} 0\n"
		"prefixwatch_alarm{group=\"kp\",prefix=\"175.45.176.0/22\",kind=\"flood\"} 1\n"
		"prefixwatch_alarm{group=\"kp\",prefix=\"175.45.176.0/22\",kind=\"loss\"} 1\n"
		"prefixwatch_alarm{group=\"kp\",prefix=\"175.45.176.0/22\",kind=\"unstable\"} 0\n"
		"prefixwatch_alarm{group=\"kp\",prefix=\"2001:db8::/32\",kind=\"flood\"} 0\n"
		"prefixwatch_alarm{group=\"kp\",prefix=\"2001:db8::/32\",kind=\"loss\"} 0\n"
		"prefixwatch_alarm{group=\"kp\",prefix=\"2001:db8::/32\",kind=\"unstable\"} 0\n"
		"prefixwatch_alarm{group=\"other\",kind=\"flood\"} 0\n"
		"prefixwatch_alarm{group=\"other\",kind=\"loss\"} 0\n"
		"prefixwatch_alarm{group=\"other\",kind=\"unstable\"} 0\n"
		"# HELP prefixwatch_alarms_total Alarms raised since start.\n"
		"# TYPE prefixwatch_alarms_total counter\n"
		"prefixwatch_alarms_total{group=\"kp\",kind=\"flood\"} 1\n"
		"prefixwatch_alarms_total{group=\"kp\",kind=\"loss\"} 0\n"
		"prefixwatch_alarms_total{group=\"kp\",kind=\"unstable\"} 0\n"
		"prefixwatch_alarms_total{group=\"kp\",prefix=\"175.45.176.0/22\",kind=\"flood\"} 1\n"
		"prefixwatch_alarms_total{group=\"kp\",prefix=\"175.45.176.0/22\",kind=\"loss\"} 1\n"
		"prefixwatch_alarms_total{group=\"kp\",prefix=\"175.45.176.0/22\",kind=\"unstable\"} 0\n"
		"prefixwatch_alarms_total{group=\"kp\",prefix=\"2001:db8::/32\",kind=\"flood\"} 0\n"
		"prefixwatch_alarms_total{group=\"kp\",prefix=\"2001:db8::/32\",kind=\"loss\"} 0\n"
		"prefixwatch_alarms_total{group=\"kp\",prefix=\"2001:db8::/32\",kind=\"unstable\"} 0\n"
		"prefixwatch_alarms_total{group=\"other\",kind=\"flood\"} 0\n"
		"prefixwatch_alarms_total{group=\"other\",kind=\"loss\"} 0\n"
		"prefixwatch_alarms_total{group=\"other\",kind=\"unstable\"} 0\n"
		"# HELP prefixwatch_group_baseline_pps Learned normal rate of a group, in packets per second.\n"
		"# TYPE prefixwatch_group_baseline_pps gauge\n"
		"prefixwatch_group_baseline_pps{group=\"kp\"} 170\n"
		"prefixwatch_group_baseline_pps{group=\"other\"} 50\n"
		"# HELP prefixwatch_group_baseline_bps Learned normal rate of a group, in bits per second.\n"
		"# TYPE prefixwatch_group_baseline_bps gauge\n"
		"prefixwatch_group_baseline_bps{group=\"kp\"} 680000\n"
		"prefixwatch_group_baseline_bps{group=\"other\"} 200000\n";
	struct pw_buf b = { 0 };
	struct fx x;

	(void)state;
	fx_start(&x);
	fx_flood(&x);
	/*
	 * A goes dark: its loss starts at once, while its flood (and kp's) needs a second
	 * interval below half-way to end, so both floods are still raised.
	 */
	tick(&x, 0, 70, 50, 0);
	assert_int_equal(x.n_rec, 3);
	assert_int_equal(x.rec[2].ev.kind, PW_ALARM_LOSS);
	assert_true(x.w.items[1].det.alarm[PW_ALARM_LOSS]);
	assert_true(x.w.items[1].det.alarm[PW_ALARM_FLOOD]);
	assert_true(x.w.items[0].det.alarm[PW_ALARM_FLOOD]);
	pw_watch_render(&x.w, &b);
	assert_false(b.oom);
	assert_string_equal(b.data, want);
	pw_buf_free(&b);
	fx_end(&x);
}

static void test_render_values(void **state)
{
	struct pw_watch_item items[2];
	struct pw_watch w;
	struct pw_buf b = { 0 };

	(void)state;
	/* No detectors: the four families, empty. */
	pw_watch_init(&w, NULL, NULL);
	pw_watch_render(&w, &b);
	assert_string_equal(b.data,
			    "# HELP prefixwatch_alarm 1 while an alarm of this kind is raised.\n"
			    "# TYPE prefixwatch_alarm gauge\n"
			    "# HELP prefixwatch_alarms_total Alarms raised since start.\n"
			    "# TYPE prefixwatch_alarms_total counter\n"
			    "# HELP prefixwatch_group_baseline_pps Learned normal rate of a group, "
			    "in packets per second.\n"
			    "# TYPE prefixwatch_group_baseline_pps gauge\n"
			    "# HELP prefixwatch_group_baseline_bps Learned normal rate of a group, "
			    "in bits per second.\n"
			    "# TYPE prefixwatch_group_baseline_bps gauge\n");
	pw_buf_free(&b);

	/* Ten significant digits; a non-finite baseline shows as 0; big counters whole. */
	memset(items, 0, sizeof(items));
	snprintf(items[0].group, sizeof(items[0].group), "g.1_x-y");
	items[0].det.base_pps = 1234.567891234;
	items[0].det.base_bps = 1.5e12;
	items[0].det.alarms_total[PW_ALARM_UNSTABLE] = 12345678901ULL;
	items[0].det.alarm[PW_ALARM_UNSTABLE] = true;
	snprintf(items[1].group, sizeof(items[1].group), "z");
	items[1].det.base_pps = NAN;
	items[1].det.base_bps = INFINITY;
	w.items = items;
	w.n = 2;
	pw_watch_render(&w, &b);
	assert_non_null(strstr(b.data, "prefixwatch_alarm{group=\"g.1_x-y\",kind=\"unstable\"} 1\n"));
	assert_non_null(strstr(b.data, "prefixwatch_alarms_total{group=\"g.1_x-y\",kind=\"unstable\"} "
				       "12345678901\n"));
	assert_non_null(strstr(b.data, "prefixwatch_group_baseline_pps{group=\"g.1_x-y\"} "
				       "1234.567891\n"));
	assert_non_null(strstr(b.data, "prefixwatch_group_baseline_bps{group=\"g.1_x-y\"} "
				       "1.5e+12\n"));
	assert_non_null(strstr(b.data, "prefixwatch_group_baseline_pps{group=\"z\"} 0\n"));
	assert_non_null(strstr(b.data, "prefixwatch_group_baseline_bps{group=\"z\"} 0\n"));
	pw_buf_free(&b);
}

/* ---- pw_event_json ---- */

static void json_of(const struct pw_watch_item *it, const struct pw_event *ev, const char *want)
{
	struct pw_buf b = { 0 };

	pw_event_json(it, ev, &b);
	assert_false(b.oom);
	assert_int_equal(b.len, strlen(want));
	assert_string_equal(b.data, want);
	pw_buf_free(&b);
}

static void test_event_json(void **state)
{
	struct pw_watch_item it;
	struct pw_event ev;

	(void)state;
	memset(&it, 0, sizeof(it));
	snprintf(it.group, sizeof(it.group), "kp");
	ev = (struct pw_event){ .kind = PW_ALARM_FLOOD,
				.start = true,
				.time = 1419206400,
				.pps = 123456.5,
				.bps = 987654321,
				.baseline_pps = 1000.25,
				.baseline_bps = 8002000 };
	json_of(&it, &ev,
		"{\"time\":1419206400.000,\"group\":\"kp\",\"kind\":\"flood\",\"state\":\"start\","
		"\"pps\":123456.5,\"bps\":987654321,\"baseline_pps\":1000.25,"
		"\"baseline_bps\":8002000}");

	/* Per prefix, the end of a loss, a fractional time. */
	it.per_prefix = true;
	it.prefix = P(PA);
	ev = (struct pw_event){ .kind = PW_ALARM_LOSS,
				.start = false,
				.time = 1419206400.25,
				.pps = 0,
				.bps = 0,
				.baseline_pps = 2,
				.baseline_bps = 8000 };
	json_of(&it, &ev,
		"{\"time\":1419206400.250,\"group\":\"kp\",\"prefix\":\"175.45.176.0/22\","
		"\"kind\":\"loss\",\"state\":\"end\",\"pps\":0,\"bps\":0,\"baseline_pps\":2,"
		"\"baseline_bps\":8000}");

	/* Issue 9: an end by relearning says so ("reason"); a start never carries one. */
	it.per_prefix = false;
	ev.reason = PW_REASON_RELEARNED;
	json_of(&it, &ev,
		"{\"time\":1419206400.250,\"group\":\"kp\",\"kind\":\"loss\",\"state\":\"end\","
		"\"reason\":\"relearned\",\"pps\":0,\"bps\":0,\"baseline_pps\":2,"
		"\"baseline_bps\":8000}");
	ev.start = true;
	json_of(&it, &ev,
		"{\"time\":1419206400.250,\"group\":\"kp\",\"kind\":\"loss\",\"state\":\"start\","
		"\"pps\":0,\"bps\":0,\"baseline_pps\":2,\"baseline_bps\":8000}");
	it.per_prefix = true;

	/* IPv6, unstable; no NaN or Infinity in JSON: they become 0. */
	it.prefix = P(PB);
	ev = (struct pw_event){ .kind = PW_ALARM_UNSTABLE,
				.start = true,
				.time = 1.0004,
				.pps = NAN,
				.bps = INFINITY,
				.baseline_pps = -INFINITY,
				.baseline_bps = 1.5e12 };
	json_of(&it, &ev,
		"{\"time\":1.000,\"group\":\"kp\",\"prefix\":\"2001:db8::/32\",\"kind\":\"unstable\","
		"\"state\":\"start\",\"pps\":0,\"bps\":0,\"baseline_pps\":0,"
		"\"baseline_bps\":1.5e+12}");
}

/* ---- pw_events: event_log and on_event ---- */

static char tmpdir[PATH_MAX];

/*
 * The on_event programs are written here and run, so not in /tmp, which may be mounted
 * noexec, when tests/run.sh gives a place under the build tree (PW_TEST_EXEC_DIR).
 */
static int make_dir(void **state)
{
	const char *base = getenv("PW_TEST_EXEC_DIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/pw_test_watch.XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

/* The whole of file @path, NUL-terminated, in @buf. */
static void slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		fail_msg("open %s: %s", path, strerror(errno));
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "we");

	if (!f)
		fail_msg("create %s: %s", path, strerror(errno));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void sample(struct pw_watch_item *it, struct pw_event *ev)
{
	memset(it, 0, sizeof(*it));
	snprintf(it->group, sizeof(it->group), "kp");
	*ev = (struct pw_event){ .kind = PW_ALARM_FLOOD,
				 .start = true,
				 .time = 1419206400,
				 .pps = 5000,
				 .bps = 2e7,
				 .baseline_pps = 100,
				 .baseline_bps = 400000 };
}

#define SAMPLE_JSON                                                                        \
	"{\"time\":1419206400.000,\"group\":\"kp\",\"kind\":\"flood\",\"state\":\"start\","    \
	"\"pps\":5000,\"bps\":20000000,\"baseline_pps\":100,\"baseline_bps\":400000}"

static bool any_running(const struct pw_events *e)
{
	for (int i = 0; i < PW_ON_EVENT_MAX; i++)
		if (e->running[i].pid > 0)
			return true;
	return false;
}

/* Reap until every program has exited, polling every 10 ms for at most 5 s. */
static void reap_all(struct pw_events *e)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < 500; i++) {
		pw_events_reap(e);
		if (!any_running(e))
			return;
		nanosleep(&pause, NULL);
	}
	fail_msg("on_event program still running after 5 s");
}

static void test_events_log(void **state)
{
	char path[128], text[2048];
	struct pw_watch_item it;
	struct pw_events e;
	struct pw_event ev;

	(void)state;
	/* The default: standard output, no program. */
	assert_int_equal(pw_events_open(&e, "", ""), 0);
	assert_ptr_equal(e.out, stdout);
	assert_string_equal(e.on_event, "");
	pw_events_close(&e);
	/* A log that cannot be opened. */
	path_in(path, sizeof(path), "no/such/dir/events.log");
	assert_int_equal(pw_events_open(&e, path, ""), -ENOENT);

	/* Appended to: what was there stays, each event is its JSON and a newline. */
	path_in(path, sizeof(path), "events.log");
	write_file(path, "earlier\n", 0644);
	assert_int_equal(pw_events_open(&e, path, ""), 0);
	assert_ptr_not_equal(e.out, stdout);
	sample(&it, &ev);
	pw_events_sink(&e, &it, &ev);
	/* flushed per event: readable before close */
	slurp(path, text, sizeof(text));
	assert_string_equal(text, "earlier\n" SAMPLE_JSON "\n");
	ev.start = false;
	ev.time += 60;
	pw_events_sink(&e, &it, &ev);
	pw_events_close(&e);
	assert_null(e.out);
	slurp(path, text, sizeof(text));
	assert_string_equal(text, "earlier\n" SAMPLE_JSON "\n"
				  "{\"time\":1419206460.000,\"group\":\"kp\",\"kind\":\"flood\","
				  "\"state\":\"end\",\"pps\":5000,\"bps\":20000000,"
				  "\"baseline_pps\":100,\"baseline_bps\":400000}\n");
}

static void test_events_on_event(void **state)
{
	char script[128], out[128], log[128], body[512], text[2048];
	struct pw_watch_item it;
	struct pw_events e;
	struct pw_event ev;

	(void)state;
	path_in(script, sizeof(script), "hook");
	path_in(out, sizeof(out), "hook.out");
	path_in(log, sizeof(log), "hook.log");
	snprintf(body, sizeof(body), "#!/bin/sh\ncat > '%s'\n", out);
	write_file(script, body, 0755);

	assert_int_equal(pw_events_open(&e, log, script), 0);
	assert_string_equal(e.on_event, script);
	sample(&it, &ev);
	pw_events_sink(&e, &it, &ev);
	assert_true(e.running[0].pid > 0);
	reap_all(&e);
	slurp(out, text, sizeof(text));
	assert_string_equal(text, SAMPLE_JSON "\n");
	slurp(log, text, sizeof(text));
	assert_string_equal(text, SAMPLE_JSON "\n");
	assert_int_equal(e.dropped, 0);

	/* A program that cannot be run is reaped all the same; the log still gets the line. */
	pw_events_close(&e);
	path_in(script, sizeof(script), "missing");
	assert_int_equal(pw_events_open(&e, log, script), 0);
	pw_events_sink(&e, &it, &ev);
	reap_all(&e);
	pw_events_close(&e);
	slurp(log, text, sizeof(text));
	assert_string_equal(text, SAMPLE_JSON "\n" SAMPLE_JSON "\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_items),
		cmocka_unit_test(test_step_events),
		cmocka_unit_test(test_step_group_settings),
		cmocka_unit_test(test_sync_keeps_unchanged),
		cmocka_unit_test(test_sync_restarts_changed),
		cmocka_unit_test(test_sync_removed),
		cmocka_unit_test(test_sync_carries_many),
		cmocka_unit_test(test_late_poll),
		cmocka_unit_test(test_wall_clock_step),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_render_values),
		cmocka_unit_test(test_event_json),
		cmocka_unit_test(test_events_log),
		cmocka_unit_test(test_events_on_event),
	};

	return cmocka_run_group_tests_name("watch", tests, make_dir, remove_dir);
}
