// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_detector.c - the arithmetic of pw_detector_step() on synthetic rate series.
 *
 * Every series is fed one interval per second (dt = 1, the interval ending at t = 1, 2, ...),
 * so the detector's age before the interval ending at t is t - 1: with the default warm-up
 * of 30 s the intervals t = 1..30 are warm-up and t = 31 is the first that may alarm.
 * Bit rates are 4000 x the packet rate (500-byte packets) unless a test says otherwise.
 * A steady series leaves the baseline exactly at its level and the variance at 0 (so the
 * loss score is the plain Poisson one), which is what makes exact assertions possible.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "detector.h"

#define BPP 4000.0 /* bits per packet */

/* Exact comparison of doubles, with both values in the message. */
#define assert_dbl(got, want)                                                           \
	do {                                                                            \
		double got_ = (got), want_ = (want);                                    \
		if (!(got_ == want_))                                                   \
			fail_msg("%s = %.17g, expected %.17g", #got, got_, want_);      \
	} while (0)

struct series {
	struct pw_detector d;
	struct pw_detect_cfg c;
	double now; /* end of the last interval fed */
	struct pw_event ev[PW_ALARM_KINDS * 2];
	int n; /* events of the last interval */
};

static void series_init(struct series *s)
{
	memset(s, 0, sizeof(*s));
	pw_detect_defaults(&s->c);
	pw_detector_init(&s->d);
}

/* Feed the next one-second interval. */
static int feed2(struct series *s, double pps, double bps)
{
	s->now += 1;
	s->n = pw_detector_step(&s->d, &s->c, s->now, 1.0, pps, bps, s->ev);
	assert_true(s->n >= 0 && s->n <= PW_ALARM_KINDS * 2);
	return s->n;
}

static int feed(struct series *s, double pps)
{
	return feed2(s, pps, pps * BPP);
}

/* Feed @pps until the interval ending at @until, expecting no event on the way. */
static void quiet_until(struct series *s, double pps, double until)
{
	while (s->now < until)
		if (feed(s, pps))
			fail_msg("t=%g: %d unexpected event(s), first %s %s", s->now, s->n,
				 pw_alarm_name(s->ev[0].kind), s->ev[0].start ? "start" : "end");
}

static void assert_event(const struct pw_event *e, enum pw_alarm_kind kind, bool start,
			 double time, double pps, double bps, double base_pps, double base_bps)
{
	if (e->kind != kind || e->start != start)
		fail_msg("event %s %s, expected %s %s", pw_alarm_name(e->kind),
			 e->start ? "start" : "end", pw_alarm_name(kind), start ? "start" : "end");
	assert_dbl(e->time, time);
	assert_dbl(e->pps, pps);
	assert_dbl(e->bps, bps);
	assert_dbl(e->baseline_pps, base_pps);
	assert_dbl(e->baseline_bps, base_bps);
}

static void test_defaults_and_names(void **state)
{
	struct pw_detect_cfg c;

	(void)state;
	memset(&c, 0xa5, sizeof(c));
	pw_detect_defaults(&c);
	assert_true(c.flood);
	assert_dbl(c.flood_factor, 4.0);
	assert_dbl(c.flood_min_pps, 20.0);
	assert_dbl(c.flood_min_bps, 1e6);
	assert_dbl(c.flood_pps, 0);
	assert_dbl(c.flood_bps, 0);
	assert_true(c.loss);
	assert_dbl(c.loss_fraction, 0.25);
	assert_dbl(c.loss_confidence, 6.0);
	assert_dbl(c.recover_fraction, 0.5);
	assert_int_equal(c.unstable_losses, 3);
	assert_dbl(c.unstable_window, 3600.0);
	assert_dbl(c.warmup, 30.0);
	assert_dbl(c.baseline_window, 300.0);
	assert_string_equal(pw_alarm_name(PW_ALARM_FLOOD), "flood");
	assert_string_equal(pw_alarm_name(PW_ALARM_LOSS), "loss");
	assert_string_equal(pw_alarm_name(PW_ALARM_UNSTABLE), "unstable");
	assert_string_equal(pw_alarm_name(PW_ALARM_KINDS), "?");
}

/* ---- warm-up and steady series ---- */

static void test_warmup_never_alarms(void **state)
{
	struct series s;

	(void)state;
	series_init(&s);
	/* A spike a thousand times the level, then a blackout, all inside the warm-up. */
	quiet_until(&s, 1000, 10);
	quiet_until(&s, 1e6, 15);
	quiet_until(&s, 0, 20);
	quiet_until(&s, 1000, 30);
	assert_dbl(s.d.age, 30);
	for (int k = 0; k < PW_ALARM_KINDS; k++) {
		assert_false(s.d.alarm[k]);
		assert_int_equal(s.d.alarms_total[k], 0);
	}
	/* The warm-up baseline is the median of what it saw: the spike and the gap do not
	 * set the normal level, so normal traffic after the warm-up raises nothing. */
	assert_dbl(s.d.base_pps, 1000);
	for (int t = 0; t < 300; t++)
		if (feed(&s, 1000))
			fail_msg("t=%g: an event after a spiky warm-up", s.now);
}

static void test_steady_never_alarms(void **state)
{
	static const double levels[] = { 0, 1, 2, 100, 10000, 1e6 };
	struct series s;

	(void)state;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		series_init(&s);
		quiet_until(&s, levels[i], 2000);
		assert_dbl(s.d.base_pps, levels[i]);
		assert_dbl(s.d.base_bps, levels[i] * BPP);
		assert_dbl(s.d.var_pps, 0);
	}
	/* An alternating series: +-10% every interval is normal, not a flood or a loss. */
	series_init(&s);
	for (int t = 0; t < 2000; t++)
		if (feed(&s, t % 2 ? 9000 : 11000))
			fail_msg("t=%g: unexpected event", s.now);
}

/* ---- flood ---- */

/* A 100 pps series (line 400 pps and 1.6 Mb/s), settled to t = 40. */
static void flood_setup(struct series *s)
{
	series_init(s);
	quiet_until(s, 100, 40);
	assert_dbl(s->d.base_pps, 100);
	assert_dbl(s->d.base_bps, 100 * BPP);
}

static void test_flood_needs_two_intervals(void **state)
{
	struct series s;

	(void)state;
	/* At the line is not over it. */
	flood_setup(&s);
	assert_int_equal(feed(&s, 400), 0);
	assert_int_equal(s.d.flood_hi, 0);

	flood_setup(&s);
	/* One interval over it, then normal: no alarm, and the spike is not learned. */
	assert_int_equal(feed(&s, 500), 0);
	assert_dbl(s.d.base_pps, 100);
	assert_int_equal(feed(&s, 100), 0);
	assert_int_equal(feed(&s, 500), 0);
	assert_int_equal(feed(&s, 100), 0);
	assert_dbl(s.d.base_pps, 100);
	/* Two in a row. */
	assert_int_equal(feed(&s, 500), 0);
	assert_dbl(s.d.base_pps, 100);
	assert_int_equal(feed(&s, 500), 1);
	assert_event(&s.ev[0], PW_ALARM_FLOOD, true, 46, 500, 500 * BPP, 100, 100 * BPP);
	assert_true(s.d.alarm[PW_ALARM_FLOOD]);
	assert_int_equal(s.d.alarms_total[PW_ALARM_FLOOD], 1);
	/* Once raised it is not raised again. */
	quiet_until(&s, 500, 60);
	assert_int_equal(s.d.alarms_total[PW_ALARM_FLOOD], 1);
}

static void test_flood_strong_needs_one_interval(void **state)
{
	struct series s;

	(void)state;
	/* Exactly twice the line is not "far over" it: two intervals needed. */
	flood_setup(&s);
	assert_int_equal(feed(&s, 800), 0);
	assert_int_equal(feed(&s, 800), 1);
	assert_event(&s.ev[0], PW_ALARM_FLOOD, true, 42, 800, 800 * BPP, 100, 100 * BPP);

	/* Just over twice the line: at once (the packet rate alone, the bit rate normal). */
	flood_setup(&s);
	assert_int_equal(feed2(&s, 801, 100 * BPP), 1);
	assert_event(&s.ev[0], PW_ALARM_FLOOD, true, 41, 801, 100 * BPP, 100, 100 * BPP);

	/* The bit rate alone, over twice its line (3.2 Mb/s), with the packet rate normal. */
	flood_setup(&s);
	assert_int_equal(feed2(&s, 100, 3.3e6), 1);
	assert_event(&s.ev[0], PW_ALARM_FLOOD, true, 41, 100, 3.3e6, 100, 100 * BPP);

	/* The bit rate alone over its line (1.6 Mb/s) but not twice: two intervals. */
	flood_setup(&s);
	assert_int_equal(feed2(&s, 100, 1.7e6), 0);
	assert_int_equal(feed2(&s, 100, 1.7e6), 1);
	assert_event(&s.ev[0], PW_ALARM_FLOOD, true, 42, 100, 1.7e6, 100, 100 * BPP);
}

static void test_flood_min_pps(void **state)
{
	struct series s;

	(void)state;
	/* 1 pps to 6 pps is six times the baseline, but not 20 pps above it. */
	series_init(&s);
	quiet_until(&s, 1, 40);
	quiet_until(&s, 6, 400);
	assert_int_equal(s.d.alarms_total[PW_ALARM_FLOOD], 0);

	/* Without the floor, the same step is a flood (the bit rate stays under 1 Mb/s). */
	series_init(&s);
	s.c.flood_min_pps = 0;
	quiet_until(&s, 1, 40);
	assert_int_equal(feed(&s, 6), 0);
	assert_int_equal(feed(&s, 6), 1);
	assert_event(&s.ev[0], PW_ALARM_FLOOD, true, 42, 6, 6 * BPP, 1, BPP);

	/* A smaller factor (non-default) lowers the line: 100 pps, factor 2 -> line 200. */
	series_init(&s);
	s.c.flood_factor = 2;
	quiet_until(&s, 100, 40);
	assert_int_equal(feed(&s, 250), 0);
	assert_int_equal(feed(&s, 250), 1);
	assert_event(&s.ev[0], PW_ALARM_FLOOD, true, 42, 250, 250 * BPP, 100, 100 * BPP);
}

static void test_flood_static(void **state)
{
	struct series s;

	(void)state;
	/* Static threshold only: works in the warm-up, ends below 90% of it. */
	series_init(&s);
	s.c.flood = false;
	s.c.flood_pps = 1000;
	quiet_until(&s, 100, 2);
	assert_int_equal(feed(&s, 2000), 0);
	assert_int_equal(feed(&s, 2000), 1);
	assert_true(s.d.age < s.c.warmup);
	assert_event(&s.ev[0], PW_ALARM_FLOOD, true, 4, 2000, 2000 * BPP, 100, 100 * BPP);
	assert_int_equal(feed(&s, 950), 0);
	assert_int_equal(feed(&s, 900), 0); /* 90% exactly is not below it */
	assert_int_equal(feed(&s, 950), 0);
	assert_int_equal(feed(&s, 899), 0);
	assert_int_equal(feed(&s, 950), 0); /* the run of two is broken */
	assert_int_equal(feed(&s, 899), 0);
	assert_int_equal(feed(&s, 899), 1);
	assert_event(&s.ev[0], PW_ALARM_FLOOD, false, 11, 899, 899 * BPP, 100, 100 * BPP);
	assert_false(s.d.alarm[PW_ALARM_FLOOD]);

	/* The static bit rate threshold, with adaptive detection on, in the warm-up. */
	series_init(&s);
	s.c.flood_bps = 1e7;
	quiet_until(&s, 100, 2);
	assert_int_equal(feed2(&s, 100, 2e7), 0);
	assert_int_equal(feed2(&s, 100, 2e7), 1);
	assert_event(&s.ev[0], PW_ALARM_FLOOD, true, 4, 100, 2e7, 100, 100 * BPP);
	/* Below 90% of the static line but not below the adaptive half-way (1 Mb/s): on. */
	quiet_until(&s, 300, 10);
	assert_true(s.d.alarm[PW_ALARM_FLOOD]);
	/* Below both. */
	assert_int_equal(feed(&s, 100), 0);
	assert_int_equal(feed(&s, 100), 1);
	assert_event(&s.ev[0], PW_ALARM_FLOOD, false, 12, 100, 100 * BPP, 100, 100 * BPP);
}

static void test_flood_end_no_flapping(void **state)
{
	struct series s;
	int events = 0;

	(void)state;
	flood_setup(&s);
	assert_int_equal(feed(&s, 500), 0);
	assert_int_equal(feed(&s, 500), 1);
	assert_event(&s.ev[0], PW_ALARM_FLOOD, true, 42, 500, 500 * BPP, 100, 100 * BPP);
	/* Around the line (400): stays raised; the baseline stays where it was. */
	for (int i = 0; i < 20; i++) {
		assert_int_equal(feed(&s, i % 2 ? 300 : 500), 0);
		assert_dbl(s.d.base_pps, 100);
		assert_dbl(s.d.base_bps, 100 * BPP);
	}
	/* Around half-way (250 pps, 1 Mb/s): one interval below at a time is not enough. */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(feed(&s, i % 2 ? 300 : 240), 0);
		assert_dbl(s.d.base_pps, 100);
	}
	assert_true(s.d.alarm[PW_ALARM_FLOOD]);
	assert_int_equal(feed(&s, 240), 0);
	assert_dbl(s.d.base_pps, 100);
	assert_int_equal(feed(&s, 240), 1);
	assert_event(&s.ev[0], PW_ALARM_FLOOD, false, 74, 240, 240 * BPP, 100, 100 * BPP);
	/* Around the line again: one interval over it at a time never raises it. */
	for (int i = 0; i < 40; i++)
		events += feed(&s, i % 2 ? 390 : 410);
	assert_int_equal(events, 0);
	assert_int_equal(s.d.alarms_total[PW_ALARM_FLOOD], 1);
	assert_false(s.d.alarm[PW_ALARM_FLOOD]);
}

/* ---- loss ---- */

/* A series steady at @pps up to t = 40: baseline exactly @pps, variance 0. */
static void loss_setup(struct series *s, double pps)
{
	series_init(s);
	quiet_until(s, pps, 40);
	assert_dbl(s->d.base_pps, pps);
	assert_dbl(s->d.var_pps, 0);
}

static void test_loss_blackout_busy(void **state)
{
	struct series s;

	(void)state;
	loss_setup(&s, 10000);
	assert_int_equal(feed(&s, 0), 1);
	assert_event(&s.ev[0], PW_ALARM_LOSS, true, 41, 0, 0, 10000, 10000 * BPP);
	assert_true(s.d.alarm[PW_ALARM_LOSS]);
	/* Dark for a while: nothing new, the baseline does not learn the outage. */
	for (int i = 0; i < 20; i++) {
		assert_int_equal(feed(&s, 0), 0);
		assert_dbl(s.d.base_pps, 10000);
		assert_dbl(s.d.base_bps, 10000 * BPP);
	}
	/* Recovery: two intervals at or above half the baseline, in a row. */
	assert_int_equal(feed(&s, 6000), 0);
	assert_int_equal(feed(&s, 4999), 0); /* breaks the run */
	assert_int_equal(feed(&s, 5000), 0); /* half exactly counts as recovered */
	assert_dbl(s.d.base_pps, 10000);
	assert_int_equal(feed(&s, 10000), 1);
	assert_event(&s.ev[0], PW_ALARM_LOSS, false, 65, 10000, 10000 * BPP, 10000, 10000 * BPP);
	assert_false(s.d.alarm[PW_ALARM_LOSS]);
	assert_dbl(s.d.last_loss_end, 65);
	assert_int_equal(s.d.alarms_total[PW_ALARM_LOSS], 1);
	quiet_until(&s, 10000, 200);
}

/*
 * A quiet series needs several dark intervals: with var 0 the dispersion is 1 and the
 * score of n dark intervals at 2 pps is the Poisson -ln P(0) = 2n, which must reach
 * loss_confidence x ln 10 = 13.8155: n = 7 (12 < 13.8155 <= 14).
 */
static void test_loss_quiet_series_waits(void **state)
{
	struct series s;

	(void)state;
	loss_setup(&s, 2);
	assert_true(6 * 2 < 6 * log(10.0) && 7 * 2 >= 6 * log(10.0));
	for (int i = 1; i <= 6; i++) {
		assert_int_equal(feed(&s, 0), 0);
		assert_dbl(s.d.run_expect, 2.0 * i);
		assert_dbl(s.d.base_pps, 2);
	}
	assert_int_equal(feed(&s, 0), 1);
	assert_event(&s.ev[0], PW_ALARM_LOSS, true, 47, 0, 0, 2, 2 * BPP);

	/* A lower confidence (3 -> 6.9078) decides sooner: n = 4 (6 < 6.9078 <= 8). */
	loss_setup(&s, 2);
	s.c.loss_confidence = 3;
	quiet_until(&s, 0, 43);
	assert_int_equal(feed(&s, 0), 1);
	assert_event(&s.ev[0], PW_ALARM_LOSS, true, 44, 0, 0, 2, 2 * BPP);

	/*
	 * One interval of normal traffic does not wipe the evidence: the run goes on while
	 * its total stays under loss_fraction of what was expected, and k = 2 of lambda = 2n
	 * scores 2n - 2 - 2 ln(n) -> 13.395 at n = 10, 15.204 at n = 11 (t = 51).
	 */
	loss_setup(&s, 2);
	quiet_until(&s, 0, 46);
	assert_int_equal(feed(&s, 2), 0);
	assert_dbl(s.d.run_count, 2);
	assert_dbl(s.d.run_expect, 14);
	assert_dbl(s.d.base_pps, 2);
	quiet_until(&s, 0, 50);
	assert_int_equal(feed(&s, 0), 1);
	assert_event(&s.ev[0], PW_ALARM_LOSS, true, 51, 0, 0, 2, 2 * BPP);

	/* Three normal intervals do (4 of 16 is still 25%, 6 of 18 is not): 7 dark again. */
	loss_setup(&s, 2);
	quiet_until(&s, 0, 46);
	quiet_until(&s, 2, 48);
	assert_dbl(s.d.run_expect, 16);
	quiet_until(&s, 2, 49);
	assert_dbl(s.d.run_count, 0);
	assert_dbl(s.d.run_expect, 0);
	quiet_until(&s, 0, 55);
	assert_int_equal(feed(&s, 0), 1);
	assert_event(&s.ev[0], PW_ALARM_LOSS, true, 56, 0, 0, 2, 2 * BPP);
}

/*
 * Not a blackout: 10 pps falling to 1 pps. After n intervals k = n packets came where
 * lambda = 10n were expected: score = lambda - k + k ln(k / lambda) = n (9 - ln 10)
 * = 6.6974 n, so n = 3 (13.39 < 13.8155 <= 20.09).
 */
static void test_loss_partial(void **state)
{
	const double need = 6 * log(10.0);
	struct series s;

	(void)state;
	assert_true(2 * (9 - log(10.0)) < need && 3 * (9 - log(10.0)) >= need);
	loss_setup(&s, 10);
	assert_int_equal(feed(&s, 1), 0);
	assert_int_equal(feed(&s, 1), 0);
	assert_dbl(s.d.run_count, 2);
	assert_dbl(s.d.run_expect, 20);
	assert_int_equal(feed(&s, 1), 1);
	assert_event(&s.ev[0], PW_ALARM_LOSS, true, 43, 1, BPP, 10, 10 * BPP);

	/* A busy series down to 10%: certain in the first interval. */
	loss_setup(&s, 10000);
	assert_int_equal(feed(&s, 1000), 1);
	assert_event(&s.ev[0], PW_ALARM_LOSS, true, 41, 1000, 1000 * BPP, 10000, 10000 * BPP);

	/* Down to 30%, above loss_fraction (25%): never a loss. */
	loss_setup(&s, 10000);
	quiet_until(&s, 3000, 1000);
	assert_int_equal(s.d.alarms_total[PW_ALARM_LOSS], 0);

	/* With loss_fraction 0.5 (non-default), 30% is a loss, at once. */
	loss_setup(&s, 10000);
	s.c.loss_fraction = 0.5;
	assert_int_equal(feed(&s, 3000), 1);
	assert_event(&s.ev[0], PW_ALARM_LOSS, true, 41, 3000, 3000 * BPP, 10000, 10000 * BPP);
}

/*
 * A bursty series (50 and 150 pps in turn) has a measured variance far above Poisson's,
 * which divides the score: dispersion = var / base, and n dark intervals score
 * 100n / dispersion, so n must reach 13.8155 x var / base^2.
 */
static void test_loss_bursty_series_waits(void **state)
{
	struct series s;
	double disp, need;
	int n = 0;

	(void)state;
	series_init(&s);
	for (int t = 1; t <= 100; t++)
		assert_int_equal(feed(&s, t % 2 ? 50 : 150), 0);
	disp = s.d.var_pps / s.d.base_pps;
	need = 6 * log(10.0) * disp / s.d.base_pps;
	/* A Poisson series of 100 pps would be certain in one dark interval; this one waits. */
	assert_true(disp > 20);
	assert_true(need > 2 && fabs(need - round(need)) > 0.01);
	while (!feed(&s, 0))
		assert_true(++n < 20);
	n++;
	assert_int_equal(n, (int)ceil(need));
	assert_event(&s.ev[0], PW_ALARM_LOSS, true, 100 + n, 0, 0, s.d.base_pps, s.d.base_bps);
}

static void test_loss_baseline_frozen(void **state)
{
	struct series s;

	(void)state;
	/* During the low run before the alarm, too: the baseline waits for the verdict. */
	loss_setup(&s, 2);
	for (int i = 0; i < 6; i++) {
		feed(&s, 0);
		assert_dbl(s.d.base_pps, 2);
		assert_dbl(s.d.base_bps, 2 * BPP);
	}
	feed(&s, 0);
	assert_true(s.d.alarm[PW_ALARM_LOSS]);
	for (int i = 0; i < 100; i++) {
		feed(&s, 0.5);
		assert_dbl(s.d.base_pps, 2);
		assert_dbl(s.d.base_bps, 2 * BPP);
	}
	assert_int_equal(s.d.alarms_total[PW_ALARM_LOSS], 1);
}

/* ---- unstable ---- */

/* One loss of a 10000 pps series: dark at @t (alarm), recovered at t+1 and t+2 (end). */
static void lose(struct series *s, double t, bool unstable_start)
{
	quiet_until(s, 10000, t - 1);
	assert_int_equal(feed(s, 0), unstable_start ? 2 : 1);
	assert_event(&s->ev[0], PW_ALARM_LOSS, true, t, 0, 0, 10000, 10000 * BPP);
	if (unstable_start)
		assert_event(&s->ev[1], PW_ALARM_UNSTABLE, true, t, 0, 0, 10000, 10000 * BPP);
	assert_int_equal(feed(s, 10000), 0);
	assert_int_equal(feed(s, 10000), 1);
	assert_event(&s->ev[0], PW_ALARM_LOSS, false, t + 2, 10000, 10000 * BPP, 10000,
		     10000 * BPP);
}

static void test_unstable(void **state)
{
	struct series s;

	(void)state;
	loss_setup(&s, 10000);
	lose(&s, 41, false);
	lose(&s, 101, false);
	assert_false(s.d.alarm[PW_ALARM_UNSTABLE]);
	lose(&s, 201, true); /* the third within the hour */
	assert_true(s.d.alarm[PW_ALARM_UNSTABLE]);
	assert_int_equal(s.d.n_loss_starts, 3);
	/*
	 * The first loss leaves the window at 41 + 3600: two losses remain, the last ended
	 * long (>= 900 s) ago, so it ends then, and not a second earlier.
	 */
	quiet_until(&s, 10000, 3640);
	assert_true(s.d.alarm[PW_ALARM_UNSTABLE]);
	assert_int_equal(feed(&s, 10000), 1);
	assert_event(&s.ev[0], PW_ALARM_UNSTABLE, false, 3641, 10000, 10000 * BPP, 10000,
		     10000 * BPP);
	assert_int_equal(s.d.n_loss_starts, 2);
	assert_int_equal(s.d.alarms_total[PW_ALARM_UNSTABLE], 1);
	assert_int_equal(s.d.alarms_total[PW_ALARM_LOSS], 3);
	quiet_until(&s, 10000, 8000);
}

static void test_unstable_waits_quarter_window(void **state)
{
	struct series s;

	(void)state;
	loss_setup(&s, 10000);
	lose(&s, 41, false);
	lose(&s, 101, false);
	lose(&s, 201, true);
	lose(&s, 3500, false); /* a fourth, while unstable: no second start */
	/*
	 * 41 leaves the window at 3641 (three left), 101 at 3701 (two left), but the last
	 * loss ended at 3502: the alarm holds until 3502 + 900 = 4402.
	 */
	quiet_until(&s, 10000, 3701);
	assert_int_equal(s.d.n_loss_starts, 2);
	quiet_until(&s, 10000, 4401);
	assert_true(s.d.alarm[PW_ALARM_UNSTABLE]);
	assert_int_equal(s.d.n_loss_starts, 1);
	assert_int_equal(feed(&s, 10000), 1);
	assert_event(&s.ev[0], PW_ALARM_UNSTABLE, false, 4402, 10000, 10000 * BPP, 10000,
		     10000 * BPP);
	assert_int_equal(s.d.alarms_total[PW_ALARM_UNSTABLE], 1);
	assert_int_equal(s.d.alarms_total[PW_ALARM_LOSS], 4);
}

static void test_unstable_window_setting(void **state)
{
	struct series s;

	(void)state;
	/* Non-default: two losses within 120 s. A third loss 200 s later is alone again. */
	loss_setup(&s, 10000);
	s.c.unstable_losses = 2;
	s.c.unstable_window = 120;
	lose(&s, 41, false);
	lose(&s, 161, false); /* 161 - 41 = 120: the first is just out of the window */
	lose(&s, 200, true);
	/* 161 leaves the window at 281; the last loss ended at 202, over window/4 ago. */
	quiet_until(&s, 10000, 280);
	assert_int_equal(feed(&s, 10000), 1);
	assert_event(&s.ev[0], PW_ALARM_UNSTABLE, false, 281, 10000, 10000 * BPP, 10000,
		     10000 * BPP);
}

/* ---- switches ---- */

static void test_switched_off(void **state)
{
	struct series s;

	(void)state;
	/* loss = no: a blackout of a busy series is silent. */
	loss_setup(&s, 10000);
	s.c.loss = false;
	quiet_until(&s, 0, 200);
	assert_int_equal(s.d.alarms_total[PW_ALARM_LOSS], 0);

	/* flood = no: a huge spike is silent. */
	flood_setup(&s);
	s.c.flood = false;
	quiet_until(&s, 1e6, 200);
	assert_int_equal(s.d.alarms_total[PW_ALARM_FLOOD], 0);

	/* Switched off while raised (a reload): loss ends at the next interval... */
	loss_setup(&s, 10000);
	assert_int_equal(feed(&s, 0), 1);
	s.c.loss = false;
	assert_int_equal(feed(&s, 0), 1);
	assert_event(&s.ev[0], PW_ALARM_LOSS, false, 42, 0, 0, 10000, 10000 * BPP);

	/* ... flood after two, whatever the rate. */
	flood_setup(&s);
	assert_int_equal(feed(&s, 5000), 1);
	s.c.flood = false;
	assert_int_equal(feed(&s, 5000), 0);
	assert_int_equal(feed(&s, 5000), 1);
	assert_event(&s.ev[0], PW_ALARM_FLOOD, false, 43, 5000, 5000 * BPP, 100, 100 * BPP);

	/*
	 * unstable_losses = 0: never unstable. The losses are still remembered, so switched
	 * on (a reload) it is raised at once; switched off again, it ends at once.
	 */
	loss_setup(&s, 10000);
	s.c.unstable_losses = 0;
	lose(&s, 41, false);
	lose(&s, 51, false);
	lose(&s, 61, false);
	quiet_until(&s, 10000, 100);
	assert_int_equal(s.d.alarms_total[PW_ALARM_UNSTABLE], 0);
	s.c.unstable_losses = 3;
	assert_int_equal(feed(&s, 10000), 1);
	assert_event(&s.ev[0], PW_ALARM_UNSTABLE, true, 101, 10000, 10000 * BPP, 10000,
		     10000 * BPP);
	s.c.unstable_losses = 0;
	assert_int_equal(feed(&s, 10000), 1);
	assert_event(&s.ev[0], PW_ALARM_UNSTABLE, false, 102, 10000, 10000 * BPP, 10000,
		     10000 * BPP);
	assert_false(s.d.alarm[PW_ALARM_UNSTABLE]);
}

/* ---- bad input, counters ---- */

static void test_bad_input(void **state)
{
	static const struct {
		double dt, pps, bps;
	} bad[] = {
		{ 0, 100, 400000 },	  { -1, 100, 400000 },	  { NAN, 100, 400000 },
		{ 1, NAN, 400000 },	  { 1, 100, NAN },	  { 1, INFINITY, 400000 },
		{ 1, 100, -INFINITY },
	};
	struct pw_detector before;
	struct series s;

	(void)state;
	/* Before any data: nothing, and the first good interval still sets the baseline. */
	series_init(&s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pw_detector_step(&s.d, &s.c, 1, bad[i].dt, bad[i].pps, bad[i].bps,
						  s.ev),
				 0);
		assert_dbl(s.d.age, 0);
	}
	quiet_until(&s, 100, 40);
	assert_dbl(s.d.base_pps, 100);

	/* In a flood: no event, no state change (the flood is neither fed nor ended). */
	assert_int_equal(feed(&s, 5000), 1);
	memcpy(&before, &s.d, sizeof(before));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pw_detector_step(&s.d, &s.c, 42, bad[i].dt, bad[i].pps,
						  bad[i].bps, s.ev),
				 0);
		assert_memory_equal(&s.d, &before, sizeof(before));
	}
}

static void test_alarms_total_counts_starts(void **state)
{
	struct series s;

	(void)state;
	flood_setup(&s);
	assert_int_equal(feed(&s, 5000), 1);
	assert_int_equal(s.d.alarms_total[PW_ALARM_FLOOD], 1);
	quiet_until(&s, 100, s.now + 1);
	assert_int_equal(feed(&s, 100), 1); /* the end */
	assert_false(s.ev[0].start);
	assert_int_equal(s.d.alarms_total[PW_ALARM_FLOOD], 1);
	assert_int_equal(feed(&s, 5000), 1);
	assert_true(s.ev[0].start);
	assert_int_equal(s.d.alarms_total[PW_ALARM_FLOOD], 2);
	quiet_until(&s, 100, s.now + 1);
	assert_int_equal(feed(&s, 100), 1);
	/* A loss of the same series: its own counter. */
	quiet_until(&s, 100, s.now + 10);
	assert_int_equal(feed(&s, 0), 1);
	assert_int_equal(s.ev[0].kind, PW_ALARM_LOSS);
	assert_int_equal(s.d.alarms_total[PW_ALARM_FLOOD], 2);
	assert_int_equal(s.d.alarms_total[PW_ALARM_LOSS], 1);
	assert_int_equal(s.d.alarms_total[PW_ALARM_UNSTABLE], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_names),
		cmocka_unit_test(test_warmup_never_alarms),
		cmocka_unit_test(test_steady_never_alarms),
		cmocka_unit_test(test_flood_needs_two_intervals),
		cmocka_unit_test(test_flood_strong_needs_one_interval),
		cmocka_unit_test(test_flood_min_pps),
		cmocka_unit_test(test_flood_static),
		cmocka_unit_test(test_flood_end_no_flapping),
		cmocka_unit_test(test_loss_blackout_busy),
		cmocka_unit_test(test_loss_quiet_series_waits),
		cmocka_unit_test(test_loss_partial),
		cmocka_unit_test(test_loss_bursty_series_waits),
		cmocka_unit_test(test_loss_baseline_frozen),
		cmocka_unit_test(test_unstable),
		cmocka_unit_test(test_unstable_waits_quarter_window),
		cmocka_unit_test(test_unstable_window_setting),
		cmocka_unit_test(test_switched_off),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_alarms_total_counts_starts),
	};

	return cmocka_run_group_tests_name("detector", tests, NULL, NULL);
}
