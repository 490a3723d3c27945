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
#define assert_dbl(got, want)                                                      \
	do {                                                                       \
		double got_ = (got), want_ = (want);                               \
		if (!(got_ == want_))                                              \
			fail_msg("%s = %.17g, expected %.17g", #got, got_, want_); \
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

static void assert_event(const struct pw_event *e, enum pw_alarm_kind kind, bool start, double time,
			 double pps, double bps, double base_pps, double base_bps)
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

/*
 * The first interval after a start can be a few milliseconds long: one packet in 12 ms
 * is 83 packets/s. A quiet series' warm-up weighs intervals by their length: 31 packets
 * in 30.012 s is 1.033 packets/s (an equal-weight mean would say 3.7 and then call every
 * normal second a loss).
 */
static void test_warmup_short_first_interval(void **state)
{
	struct pw_event ev[PW_ALARM_KINDS * 2];
	struct series s;

	(void)state;
	series_init(&s);
	assert_int_equal(pw_detector_step(&s.d, &s.c, 0.012, 0.012, 1 / 0.012, BPP / 0.012, ev), 0);
	s.now = 0.012;
	quiet_until(&s, 1, 30);
	assert_true(fabs(s.d.base_pps - 31 / 30.012) < 1e-9);
	quiet_until(&s, 1, 600);
}

static void test_steady_never_alarms(void **state)
{
	static const double levels[] = {0, 1, 2, 100, 10000, 1e6};
	struct series s;

	(void)state;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		series_init(&s);
		quiet_until(&s, levels[i], 2000);
		assert_dbl(s.d.base_pps, levels[i]);
		assert_dbl(s.d.base_bps, levels[i] * BPP);
		assert_dbl(s.d.fast_pps, levels[i]);
		assert_true(s.d.phi <= 1);
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
	/*
	 * One interval over it, then normal: no alarm, and the spike is learned only as
	 * winsorised, at 1.5 x the baseline: the pair (500, 100) moves the baseline by
	 * (1 - e^(-2/300)) x (125 - 100) = 0.166, where unclamped it would move 1.33.
	 */
	assert_int_equal(feed(&s, 500), 0);
	assert_dbl(s.d.base_pps, 100); /* deferred while over the line */
	assert_int_equal(feed(&s, 100), 0);
	assert_true(fabs(s.d.base_pps - (100 + (1 - exp(-2 / 300.0)) * 25)) < 1e-9);
	assert_int_equal(feed(&s, 500), 0);
	assert_int_equal(feed(&s, 100), 0);
	assert_true(s.d.base_pps > 100.3 && s.d.base_pps < 100.4);
	/* Two in a row. */
	assert_int_equal(feed(&s, 500), 0);
	assert_int_equal(feed(&s, 500), 1);
	assert_int_equal(s.ev[0].kind, PW_ALARM_FLOOD);
	assert_true(s.ev[0].start);
	assert_dbl(s.ev[0].time, 46);
	assert_true(s.ev[0].baseline_pps > 100.3 && s.ev[0].baseline_pps < 100.4);
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

/*
 * The test's own oracle for the loss test, written from the specification, not from
 * detector.c: rho solves (1 - rho) / ln(1 / rho) = f (here by Newton's method on
 * x = ln(1 / rho), where the detector bisects), and the log likelihood ratios are the
 * logarithms of ratios of probability mass functions evaluated term by term.
 */
static double oracle_rho(double f)
{
	double x = 1 / f; /* ln(1 / rho): start right of the root, g is convex */

	for (int i = 0; i < 100; i++) {
		double e = exp(-x), g = (1 - e) / x - f, dg = (e * x - (1 - e)) / (x * x);

		x -= g / dg;
	}
	return exp(-x);
}

static double poisson_logpmf(double k, double m)
{
	return k * log(m) - m - lgamma(k + 1);
}

static double nb_logpmf(double k, double m, double r)
{
	return lgamma(k + r) - lgamma(r) - lgamma(k + 1) + r * log(r / (r + m)) +
	       k * log(m / (r + m));
}

/* Intervals of darkness until a Poisson series of @lambda packets/s is called lost. */
static int oracle_blackout_intervals(double lambda, double confidence, double dt)
{
	double rho = oracle_rho(0.25), per = (1 - rho) * lambda * dt;
	double n = confidence * log(10.0) / per;

	/* Well clear of an integer, so that rounding cannot decide the test. */
	if (fabs(n - round(n)) < 1e-6)
		fail_msg("lambda %g: h / increment = %.9g is too close to an integer", lambda, n);
	return (int)ceil(n);
}

/* A series steady at @pps up to t = 40: baseline exactly @pps. */
static void loss_setup(struct series *s, double pps)
{
	series_init(s);
	quiet_until(s, pps, 40);
	assert_dbl(s->d.base_pps, pps);
	assert_dbl(s->d.fast_pps, pps);
}

static void test_loss_rho_and_llr(void **state)
{
	static const double fractions[] = {0.05, 0.1, 0.25, 0.5, 0.9};
	static const double means[] = {0.1, 0.3, 1, 2, 20, 200};

	(void)state;
	for (size_t i = 0; i < sizeof(fractions) / sizeof(fractions[0]); i++) {
		double f = fractions[i], rho = pw_loss_rho(f);

		if (fabs((1 - rho) / log(1 / rho) - f) > 1e-12 ||
		    fabs(rho - oracle_rho(f)) > 1e-12 * (1 + oracle_rho(f)))
			fail_msg("f %g: rho %.17g, oracle %.17g", f, rho, oracle_rho(f));
	}
	/* The default: the alternative is 2.0% of the baseline. */
	assert_true(pw_loss_rho(0.25) > 0.0198 && pw_loss_rho(0.25) < 0.0199);

	for (size_t i = 0; i < sizeof(means) / sizeof(means[0]); i++) {
		double m = means[i], rho = oracle_rho(0.25);
		static const double phis[] = {1, 1.5, 4, 30};

		for (size_t p = 0; p < sizeof(phis) / sizeof(phis[0]); p++) {
			double phi = phis[p], r = m / (phi - 1), mart = 0, mass = 0;

			for (int k = 0; k < 2000; k++) {
				double lo = phi == 1 ? poisson_logpmf(k, rho * m)
						     : nb_logpmf(k, rho * m, r);
				double hi = phi == 1 ? poisson_logpmf(k, m) : nb_logpmf(k, m, r);
				double got = pw_loss_llr(k, m, phi, rho);

				if (fabs(got - (lo - hi)) > 1e-9 * (1 + fabs(lo - hi)))
					fail_msg("mu %g phi %g k %d: llr %.17g, want %.17g", m, phi,
						 k, got, lo - hi);
				/* E[exp(llr)] under "normal" is 1: the basis of ARL0 >= e^h. */
				mart += exp(hi + got);
				mass += exp(hi);
			}
			if (fabs(mart - 1) > 1e-9 || fabs(mass - 1) > 1e-9)
				fail_msg("mu %g phi %g: E[exp(llr)] = %.17g", m, phi, mart);
		}
	}
	assert_dbl(pw_loss_llr(0, 0, 1, 0.02), 0);
}

/*
 * A blackout is called after ceil(h / ((1 - rho) lambda dt)) intervals (h = 6 ln 10):
 * 47 at 0.3 packets/s, 15 at 1, 8 at 2, 1 from 14.1 up. Computed by the oracle.
 */
static void test_loss_blackout_delay(void **state)
{
	static const double rates[] = {0.1, 0.3, 1, 2, 5, 14, 20, 200, 1e6};
	static const int literal[] = {141, 47, 15, 8, 3, 2, 1, 1, 1};
	struct series s;

	(void)state;
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		int want = oracle_blackout_intervals(rates[i], 6, 1), n = 0;

		assert_int_equal(want, literal[i]);
		loss_setup(&s, rates[i]);
		while (!feed(&s, 0))
			if (++n > 1000)
				fail_msg("%g pps: no loss after 1000 dark intervals", rates[i]);
		n++;
		if (n != want)
			fail_msg("%g pps: loss after %d dark intervals, expected %d", rates[i], n,
				 want);
		assert_event(&s.ev[0], PW_ALARM_LOSS, true, 40 + n, 0, 0, rates[i], rates[i] * BPP);
		/* The baseline did not learn the darkness while it was being proven. */
		assert_dbl(s.d.base_pps, rates[i]);
	}
	/* A lower confidence decides sooner: 3 -> ceil(6.9078 / 1.96) = 4 at 2 pps. */
	loss_setup(&s, 2);
	s.c.loss_confidence = 3;
	quiet_until(&s, 0, 40 + oracle_blackout_intervals(2, 3, 1) - 1);
	assert_int_equal(feed(&s, 0), 1);
	assert_dbl(s.now, 44);
}

/*
 * The exact boundary of the first interval: the alarm is raised when the evidence
 * reaches h, equal included. The confidence is set so that h equals the evidence of one
 * dark interval to the last bit; one ulp more and the same interval is not enough.
 */
static void test_loss_first_interval_boundary(void **state)
{
	static const double rates[] = {20, 25, 32, 40, 50, 64, 100, 128, 1000};
	struct series s;
	int exact = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		double x = pw_loss_llr(0, rates[i], 1, pw_loss_rho(0.25));
		double c = x / log(10.0);

		/* The same evidence by the oracle (Poisson mass functions). */
		assert_true(fabs(x - (poisson_logpmf(0, oracle_rho(0.25) * rates[i]) -
				      poisson_logpmf(0, rates[i]))) < 1e-9 * x);
		for (int k = 0; k < 4 && c * log(10.0) != x; k++)
			c = nextafter(c, c * log(10.0) < x ? INFINITY : 0);
		if (c * log(10.0) != x)
			continue;
		exact++;
		loss_setup(&s, rates[i]);
		s.c.loss_confidence = c;
		assert_int_equal(feed(&s, 0), 1);
		assert_event(&s.ev[0], PW_ALARM_LOSS, true, 41, 0, 0, rates[i], rates[i] * BPP);

		loss_setup(&s, rates[i]);
		while (c * log(10.0) <= x)
			c = nextafter(c, INFINITY);
		s.c.loss_confidence = c;
		assert_int_equal(feed(&s, 0), 0);
		assert_int_equal(feed(&s, 0), 1);
		assert_dbl(s.now, 42);
	}
	assert_true(exact >= 3);
}

/*
 * Not a blackout: 10 pps falling to 1 pps. Each interval adds x = 1 ln(rho) + 9.8
 * (k = 1, mu = 10): the oracle's count of intervals.
 */
static void test_loss_partial(void **state)
{
	double rho = oracle_rho(0.25), x = log(rho) + (1 - rho) * 10, h = 6 * log(10.0);
	struct series s;
	int want = (int)ceil(h / x);

	(void)state;
	assert_int_equal(want, 3);
	loss_setup(&s, 10);
	for (int i = 1; i < want; i++)
		assert_int_equal(feed(&s, 1), 0);
	assert_int_equal(feed(&s, 1), 1);
	assert_event(&s.ev[0], PW_ALARM_LOSS, true, 40 + want, 1, BPP, 10, 10 * BPP);

	/* A busy series down to 10%: certain in the first interval. */
	loss_setup(&s, 10000);
	assert_int_equal(feed(&s, 1000), 1);
	assert_event(&s.ev[0], PW_ALARM_LOSS, true, 41, 1000, 1000 * BPP, 10000, 10000 * BPP);

	/* Down to 30%, above loss_fraction (25%): never a loss (the drift is negative). */
	loss_setup(&s, 10000);
	quiet_until(&s, 3000, 1000);
	assert_int_equal(s.d.alarms_total[PW_ALARM_LOSS], 0);

	/* With loss_fraction 0.5 (non-default), 30% is a loss, at once. */
	loss_setup(&s, 10000);
	s.c.loss_fraction = 0.5;
	assert_int_equal(feed(&s, 3000), 1);
	assert_event(&s.ev[0], PW_ALARM_LOSS, true, 41, 3000, 3000 * BPP, 10000, 10000 * BPP);

	/* A stray packet in an outage does not reset the evidence: at 1 pps it costs
	 * ln(1 / rho) = 3.9, about four dark seconds: 15 + 4 = 19 intervals. */
	loss_setup(&s, 1);
	quiet_until(&s, 0, 45);
	assert_int_equal(feed(&s, 1), 0);
	quiet_until(&s, 0, 40 + (int)ceil((h - log(rho)) / (1 - rho)) - 1);
	assert_int_equal(feed(&s, 0), 1);
	assert_dbl(s.now, 40 + ceil((h - log(rho)) / (1 - rho)));
}

/*
 * A bursty series (50 and 150 pps in turn) has a dispersion index far above Poisson's;
 * each dark interval weighs the negative binomial's r ln(1 + (1 - rho) mu / (r + rho mu)),
 * r = mu / (phi - 1). phi is between 25 (the squared deviation over the mean that the
 * series shows after warm-up) and 55 (its warm-up estimate from the MAD, 1.4826^2 x 25):
 * the delay is between the oracle's for those two, where a Poisson series of 100 pps
 * would be called in one interval.
 */
static void test_loss_bursty_series_waits(void **state)
{
	double rho = oracle_rho(0.25), h = 6 * log(10.0), lo, hi;
	struct series s;
	int n = 0;

	(void)state;
	{
		double r25 = 100 / 24.0, r55 = 100 / (1.4826 * 1.4826 * 25 - 1);

		lo = ceil(h / (r25 * log1p((1 - rho) * 100 / (r25 + rho * 100))));
		hi = ceil(h / (r55 * log1p((1 - rho) * 100 / (r55 + rho * 100))));
	}
	assert_true(lo >= 2 && hi > lo);
	series_init(&s);
	for (int t = 1; t <= 100; t++)
		assert_int_equal(feed(&s, t % 2 ? 50 : 150), 0);
	while (!feed(&s, 0))
		assert_true(++n < 20);
	n++;
	if (n < lo || n > hi)
		fail_msg("bursty series lost after %d intervals, expected %g to %g", n, lo, hi);
}

static void test_loss_baseline_frozen(void **state)
{
	struct series s;

	(void)state;
	/* During the evidence before the alarm, too: learning waits for the verdict. */
	loss_setup(&s, 2);
	for (int i = 0; i < 7; i++) {
		feed(&s, 0);
		assert_dbl(s.d.base_pps, 2);
		assert_dbl(s.d.base_bps, 2 * BPP);
	}
	feed(&s, 0);
	assert_true(s.d.alarm[PW_ALARM_LOSS]);
	for (int i = 0; i < 100; i++) {
		feed(&s, 0.02);
		assert_dbl(s.d.base_pps, 2);
		assert_dbl(s.d.base_bps, 2 * BPP);
	}
	assert_int_equal(s.d.alarms_total[PW_ALARM_LOSS], 1);
}

static void test_loss_recovery(void **state)
{
	double rho = oracle_rho(0.25), h = 6 * log(10.0);
	struct series s;

	(void)state;
	/* A busy series: back in the first interval at normal traffic. */
	loss_setup(&s, 10000);
	assert_int_equal(feed(&s, 0), 1);
	quiet_until(&s, 0, 60);
	assert_true(s.d.alarm[PW_ALARM_LOSS]);
	/* 20% of normal is still lost, however long. */
	quiet_until(&s, 2000, 100);
	assert_true(s.d.alarm[PW_ALARM_LOSS]);
	assert_int_equal(feed(&s, 10000), 1);
	assert_event(&s.ev[0], PW_ALARM_LOSS, false, 101, 10000, 10000 * BPP, 10000, 10000 * BPP);
	assert_int_equal(s.ev[0].reason, PW_REASON_NONE);
	assert_dbl(s.d.last_loss_end, 101);
	quiet_until(&s, 10000, 300);

	/* A quiet series: each interval at 2 pps adds 2 ln(1 / rho) - 1.96 of evidence. */
	loss_setup(&s, 2);
	while (!feed(&s, 0))
		assert_true(s.now < 60);
	quiet_until(&s, 0, 60);
	assert_true(s.d.alarm[PW_ALARM_LOSS]);
	{
		int want = (int)ceil(h / (2 * log(1 / rho) - 2 * (1 - rho)));

		assert_int_equal(want, 3);
		quiet_until(&s, 2, 60 + want - 1);
		assert_int_equal(feed(&s, 2), 1);
		assert_false(s.ev[0].start);
	}
}

/* ---- relearn ---- */

static void test_relearn_lasting_changes(void **state)
{
	struct series s;

	(void)state;
	/* 5x for good: a flood, ended as relearned exactly relearn seconds after it began. */
	flood_setup(&s);
	assert_int_equal(feed(&s, 500), 0);
	assert_int_equal(feed(&s, 500), 1);
	assert_dbl(s.now, 42);
	quiet_until(&s, 500, 42 + 3600 - 1);
	assert_int_equal(feed(&s, 500), 1);
	assert_event(&s.ev[0], PW_ALARM_FLOOD, false, 42 + 3600, 500, 500 * BPP, 500, 500 * BPP);
	assert_int_equal(s.ev[0].reason, PW_REASON_RELEARNED);
	assert_string_equal(pw_reason_name(s.ev[0].reason), "relearned");
	quiet_until(&s, 500, 20000);

	/* 85% less for good: a loss, relearned the same way; 15% is the new normal. */
	loss_setup(&s, 100);
	assert_int_equal(feed(&s, 15), 1);
	quiet_until(&s, 15, 41 + 3600 - 1);
	assert_int_equal(feed(&s, 15), 1);
	assert_event(&s.ev[0], PW_ALARM_LOSS, false, 41 + 3600, 15, 15 * BPP, 15, 15 * BPP);
	assert_int_equal(s.ev[0].reason, PW_REASON_RELEARNED);
	quiet_until(&s, 15, 20000);
	/* ... and a blackout of the new level is a loss again. */
	assert_int_equal(feed(&s, 0), 1);
	assert_true(s.ev[0].start);

	/* relearn = 0: never. */
	loss_setup(&s, 100);
	s.c.relearn = 0;
	assert_int_equal(feed(&s, 15), 1);
	quiet_until(&s, 15, 20000);
	assert_true(s.d.alarm[PW_ALARM_LOSS]);
}

static void test_blackout_never_relearned(void **state)
{
	struct series s;

	(void)state;
	/* Nine hours dark: one alarm, ended in the first interval back, not relearned. */
	loss_setup(&s, 100);
	assert_int_equal(feed(&s, 0), 1);
	quiet_until(&s, 0, 41 + 9 * 3600);
	/* Under 5%: 4 pps of 100 is still a blackout. */
	quiet_until(&s, 4, 41 + 12 * 3600);
	assert_int_equal(feed(&s, 100), 1);
	assert_event(&s.ev[0], PW_ALARM_LOSS, false, 42 + 12 * 3600, 100, 100 * BPP, 100,
		     100 * BPP);
	assert_int_equal(s.ev[0].reason, PW_REASON_NONE);
	assert_int_equal(s.d.alarms_total[PW_ALARM_LOSS], 1);

	/*
	 * Dark, then back at 15%: relearned once the level has held relearn seconds above
	 * the blackout line. The shadow (time constant 60 s) passes 5 of 100 pps at
	 * 60 ln(15 / 10) = 24.3 s after the return: the 24th interval back is the last dark.
	 */
	loss_setup(&s, 100);
	assert_int_equal(feed(&s, 0), 1);
	quiet_until(&s, 0, 5000);
	quiet_until(&s, 15, 5000 + floor(60 * log(1.5)) + 3600 - 1);
	assert_int_equal(feed(&s, 15), 1);
	assert_int_equal(s.ev[0].reason, PW_REASON_RELEARNED);
}

/* ---- time ---- */

static void test_late_poll_is_longer_interval(void **state)
{
	struct pw_event ev[PW_ALARM_KINDS * 2];
	struct series s;

	(void)state;
	/* A poll 5 s late at the normal rate: no burst, no gap. */
	loss_setup(&s, 1000);
	assert_int_equal(pw_detector_step(&s.d, &s.c, 45, 5, 1000, 1000 * BPP, ev), 0);
	assert_dbl(s.d.base_pps, 1000);
	assert_dbl(s.d.age, 45);
	/* 1 pps dark: the evidence is per second, 15 s in polls of 5 s is the third poll. */
	loss_setup(&s, 1);
	assert_int_equal(pw_detector_step(&s.d, &s.c, 45, 5, 0, 0, ev), 0);
	assert_int_equal(pw_detector_step(&s.d, &s.c, 50, 5, 0, 0, ev), 0);
	assert_int_equal(pw_detector_step(&s.d, &s.c, 55, 5, 0, 0, ev), 1);
	assert_dbl(ev[0].time, 55);
}

/* The wall clock only stamps events: an NTP step back of an hour changes nothing else. */
static void test_wall_clock_steps(void **state)
{
	struct pw_event e1[PW_ALARM_KINDS * 2], e2[PW_ALARM_KINDS * 2];
	struct pw_detector a, b;
	struct pw_detect_cfg c;
	int total = 0;

	(void)state;
	pw_detect_defaults(&c);
	pw_detector_init(&a);
	pw_detector_init(&b);
	for (int t = 1; t <= 6000; t++) {
		double pps = (t / 100) % 3 == 2 && t % 100 < 20 ? 0 : 1000;
		double wall_b = t < 3000 ? 1e9 + t : 1e9 + t - 3600;
		int n1 = pw_detector_step(&a, &c, t, 1, pps, pps * BPP, e1);
		int n2 = pw_detector_step(&b, &c, wall_b, 1, pps, pps * BPP, e2);

		assert_int_equal(n1, n2);
		for (int i = 0; i < n1; i++) {
			assert_int_equal(e1[i].kind, e2[i].kind);
			assert_int_equal(e1[i].start, e2[i].start);
			assert_dbl(e2[i].time, wall_b);
		}
		total += n1;
	}
	assert_true(total > 10);
	assert_dbl(a.age, b.age);
	assert_memory_equal(a.alarms_total, b.alarms_total, sizeof(a.alarms_total));
}

/* ---- random traffic, several seeds ---- */

static uint64_t rng_state;

static double uniform(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
}

static double draw_poisson(double m)
{
	if (m > 500) { /* normal approximation, the Poisson's own variance */
		double z = sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform());

		return fmax(0, round(m + sqrt(m) * z));
	}
	{
		double l = exp(-m), p = 1;
		int k = -1;

		do {
			k++;
			p *= uniform();
		} while (p > l);
		return k;
	}
}

/*
 * Steady Poisson traffic of quiet to busy rates over a simulated day: the baseline stays
 * calibrated (the old code's "low run" rule ratcheted a 0.3 pps baseline upwards), and
 * nothing is raised. The false-alarm rate per series is below 1 per 10^6 intervals
 * (ARL0 >= 10^6), so a day of each of these 21 series has a few percent chance of one:
 * the seeds are fixed, and the expected number of alarms is printed with the result.
 */
static void test_poisson_day_quiet(void **state)
{
	static const double rates[] = {0.1, 0.3, 1, 2, 30, 3000, 1e6};
	struct series s;

	(void)state;
	for (int seed = 1; seed <= 3; seed++) {
		for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
			double sum = 0;
			int n = 0;

			rng_state = 0x9e3779b97f4a7c15ULL * (uint64_t)(seed * 31 + (int)i + 1);
			series_init(&s);
			for (int t = 0; t < 86400; t++) {
				double k = draw_poisson(rates[i]);

				if (feed(&s, k))
					fail_msg("seed %d, %g pps: %s %s at t=%g", seed, rates[i],
						 pw_alarm_name(s.ev[0].kind),
						 s.ev[0].start ? "start" : "end", s.now);
				if (t >= 3600) {
					sum += s.d.base_pps;
					n++;
				}
			}
			/* Mean baseline within 5% (+ one standard error of a 300 s mean). */
			if (fabs(sum / n - rates[i]) > 0.05 * rates[i] + sqrt(rates[i] / 300))
				fail_msg("seed %d, %g pps: mean baseline %g", seed, rates[i],
					 sum / n);
		}
	}
}

/*
 * Overdispersed traffic: a negative binomial (gamma-mixed Poisson) with variance
 * 1 + 0.05 x mean times the mean (CV of the rate 22%), over a day, several seeds.
 */
static void test_bursty_day_quiet(void **state)
{
	static const double rates[] = {1, 20, 200, 5000};
	struct series s;

	(void)state;
	for (int seed = 1; seed <= 3; seed++) {
		for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
			rng_state = 0x2545F4914F6CDD1DULL * (uint64_t)(seed * 17 + (int)i + 1);
			series_init(&s);
			for (int t = 0; t < 86400; t++) {
				/* Gamma(shape 20) by the sum of 20 exponentials: mean 1, CV 0.22.
				 */
				double g = 0;

				for (int j = 0; j < 20; j++)
					g -= log(uniform());
				if (feed(&s, draw_poisson(rates[i] * g / 20)))
					fail_msg("seed %d, %g pps bursty: %s %s at t=%g", seed,
						 rates[i], pw_alarm_name(s.ev[0].kind),
						 s.ev[0].start ? "start" : "end", s.now);
			}
			/* The dispersion is seen (the true index is 1 + 0.05 x mean). */
			if (rates[i] >= 20 && !(s.d.phi > 1 + 0.025 * rates[i]))
				fail_msg("seed %d, %g pps: phi %g", seed, rates[i], s.d.phi);
		}
	}
}

/*
 * A working day: 45 pps by day, 3 by night, 30-minute linear ramps (07:30, 18:00), as
 * Poisson counts: nothing raised over two days, several seeds; and an outage at 02:00
 * of the second night is called within the oracle's delay at 3 pps (plus the floor's
 * lag: the fast baseline is within 10% of the night level by then).
 */
static double office(double t)
{
	double h = fmod(t, 86400) / 3600;

	if (h < 7.5 || h >= 18.5)
		return 3;
	if (h < 8)
		return 3 + 42 * (h - 7.5) * 2;
	if (h < 18)
		return 45;
	return 45 - 42 * (h - 18) * 2;
}

static void test_daily_cycle(void **state)
{
	struct series s;

	(void)state;
	for (int seed = 1; seed <= 3; seed++) {
		rng_state = 0xdeadbeefcafef00dULL * (uint64_t)seed;
		series_init(&s);
		for (int t = 0; t < 2 * 86400; t++)
			if (feed(&s, draw_poisson(office(t))))
				fail_msg("seed %d: %s %s at %02d:%02d", seed,
					 pw_alarm_name(s.ev[0].kind),
					 s.ev[0].start ? "start" : "end",
					 (int)fmod(s.now, 86400) / 3600,
					 (int)fmod(s.now, 3600) / 60);
		quiet_until(&s, 3, 2 * 86400 + 2 * 3600);
		{
			int n = 0, bound = oracle_blackout_intervals(3 * 0.9, 6, 1);

			while (!feed(&s, 0))
				assert_true(++n < 100);
			n++;
			if (n > bound)
				fail_msg("seed %d: night outage called after %d s, bound %d", seed,
					 n, bound);
		}
	}
}

/* ---- unstable ---- */

/* One loss of a 10000 pps series: dark at @t (alarm), recovered at t+2 (end). */
static void lose(struct series *s, double t, bool unstable_start)
{
	quiet_until(s, 10000, t - 1);
	assert_int_equal(feed(s, 0), unstable_start ? 2 : 1);
	assert_event(&s->ev[0], PW_ALARM_LOSS, true, t, 0, 0, 10000, 10000 * BPP);
	if (unstable_start)
		assert_event(&s->ev[1], PW_ALARM_UNSTABLE, true, t, 0, 0, 10000, 10000 * BPP);
	assert_int_equal(feed(s, 0), 0);
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
		{0, 100, 400000}, {-1, 100, 400000},	 {NAN, 100, 400000},  {1, NAN, 400000},
		{1, 100, NAN},	  {1, INFINITY, 400000}, {1, 100, -INFINITY},
	};
	struct pw_detector before;
	struct series s;

	(void)state;
	/* Before any data: nothing, and the first good interval still sets the baseline. */
	series_init(&s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
			pw_detector_step(&s.d, &s.c, 1, bad[i].dt, bad[i].pps, bad[i].bps, s.ev),
			0);
		assert_dbl(s.d.age, 0);
	}
	quiet_until(&s, 100, 40);
	assert_dbl(s.d.base_pps, 100);

	/* In a flood: no event, no state change (the flood is neither fed nor ended). */
	assert_int_equal(feed(&s, 5000), 1);
	memcpy(&before, &s.d, sizeof(before));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
			pw_detector_step(&s.d, &s.c, 42, bad[i].dt, bad[i].pps, bad[i].bps, s.ev),
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
		cmocka_unit_test(test_warmup_short_first_interval),
		cmocka_unit_test(test_steady_never_alarms),
		cmocka_unit_test(test_flood_needs_two_intervals),
		cmocka_unit_test(test_flood_strong_needs_one_interval),
		cmocka_unit_test(test_flood_min_pps),
		cmocka_unit_test(test_flood_static),
		cmocka_unit_test(test_flood_end_no_flapping),
		cmocka_unit_test(test_loss_rho_and_llr),
		cmocka_unit_test(test_loss_blackout_delay),
		cmocka_unit_test(test_loss_first_interval_boundary),
		cmocka_unit_test(test_loss_partial),
		cmocka_unit_test(test_loss_bursty_series_waits),
		cmocka_unit_test(test_loss_baseline_frozen),
		cmocka_unit_test(test_loss_recovery),
		cmocka_unit_test(test_relearn_lasting_changes),
		cmocka_unit_test(test_blackout_never_relearned),
		cmocka_unit_test(test_late_poll_is_longer_interval),
		cmocka_unit_test(test_wall_clock_steps),
		cmocka_unit_test(test_poisson_day_quiet),
		cmocka_unit_test(test_bursty_day_quiet),
		cmocka_unit_test(test_daily_cycle),
		cmocka_unit_test(test_unstable),
		cmocka_unit_test(test_unstable_waits_quarter_window),
		cmocka_unit_test(test_unstable_window_setting),
		cmocka_unit_test(test_switched_off),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_alarms_total_counts_starts),
	};

	return cmocka_run_group_tests_name("detector", tests, NULL, NULL);
}
