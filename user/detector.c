// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * detector.c - flood, loss and instability alarms on one rate series.
 *
 * THE MATHEMATICS (docs/detection.md has the same in prose)
 *
 * Data. Each interval i gives a count k_i = pps x dt_i of packets over dt_i seconds of a
 * monotonic clock. A late poll is simply a longer interval: every quantity below is per
 * packet or per second, never per poll.
 *
 * Model under "normal". Counts are Poisson with mean mu_i = lambda x dt_i (lambda the
 * baseline rate, packets/s), or, when the series is burstier than Poisson, negative
 * binomial with the same mean and variance phi x mu_i. phi is the dispersion index
 * (variance / mean of the counts, 1 for Poisson) estimated from the data; the negative
 * binomial is the Poisson whose rate itself varies (gamma distributed), the usual model
 * of overdispersed counts, with shape r = mu / (phi - 1).
 *
 * Baselines. Two exponentially weighted means of the rate: slow (time constant
 * T = baseline_window) and fast (T / 5). Each interval is learned, after winsorising its
 * count to mu +- max(3 sqrt(phi mu) + 1, mu / 2) (a spike or a gap moves the baseline by
 * at most that much; the "+ 1" packet keeps quiet series' discrete counts unclamped in the
 * normal range, the "mu / 2" keeps slow real changes such as daily ramps unclamped).
 * Winsorising every interval leaves the mean unbiased for symmetric noise and within a
 * fraction of a percent for Poisson counts at any rate (P(k > mu + 3 sqrt(mu) + 1) is
 * small and the clamped excess smaller), which fixes the old ratchet: skipping "low"
 * intervals biases the baseline upwards wherever most intervals are low (quiet series).
 * While the loss or flood evidence is above zero, learning is deferred (summed, not
 * dropped) and applied when the evidence falls back to zero; only intervals that end in
 * an alarm are discarded, so a blackout never teaches the baseline darkness while it is
 * being proven, and normal noise is learned in full. phi is learned the same way, from
 * (k - mu_fast)^2 / mu_fast with the slow time constant.
 * The loss test compares with min(slow, fast), the flood test with max(slow, fast): the
 * fast baseline follows a ramp of 15:1 in 30 minutes with a lag of slope x T/5 (at 45 ->
 * 3 packets/s: 1.4 packets/s, so the night level is seen at > 2/3 of the reference, far
 * above loss_fraction), while the slow one keeps short dips and bursts from moving it.
 *
 * Loss test: CUSUM of the log likelihood ratio. Alternative "lost": mean rho x mu.
 *   Poisson:  x_i = k_i ln(rho) + (1 - rho) mu_i
 *   NB(r):    x_i = r a + k_i (ln(rho) + a),   a = ln((r + mu) / (r + rho mu))
 *   S_i = max(0, S_(i-1) + x_i); alarm when S_i >= h = loss_confidence x ln(10).
 * rho is chosen so that the drift E[x] changes sign exactly at loss_fraction f:
 * E[x | rate q lambda] = mu ((1 - rho) - q ln(1 / rho)) = 0 at q = (1 - rho) / ln(1 / rho);
 * solving (1 - rho) / ln(1 / rho) = f gives rho = 0.0199 for f = 0.25. Traffic under f of
 * the baseline accumulates evidence, traffic above it sheds it.
 * False alarms: x is an exact log likelihood ratio, so E[exp(x)] = 1 under "normal" and
 * exp(S) is a nonnegative supermartingale reset at 0; by Lorden (and Ville's inequality)
 * the average run length to a false alarm is ARL0 >= exp(h) = 10^loss_confidence
 * intervals: with the default 6 and 1 s intervals, more than 11 days per series; the
 * discrete counts make the true figure larger (at 1 packet/s an alarm needs 15 empty
 * seconds in a row: about one per 5 x 10^6 s). Under the negative binomial model the same
 * bound holds with phi in place; overdispersion makes each packet weigh less.
 * Delay: a blackout (k = 0) adds (1 - rho) mu per interval, so it is called after
 *   n = ceil(h / ((1 - rho) lambda dt)) intervals (Poisson):
 *   1 packet/s: 15 s; 0.3 packets/s: 47 s; 2: 8 s; >= 14.1 packets/s: one interval.
 * That is the fastest a test of this false-alarm rate can be: n empty seconds have the
 * probability exp(-lambda n) under "normal", which must reach 10^-6. A single stray packet
 * in an outage costs ln(1 / rho) = 3.9 of evidence (about 4 s at 1 packet/s), no reset.
 * End of a loss: the mirror CUSUM B_i = max(0, B_(i-1) + y_i) >= h, y_i the log
 * likelihood ratio of "normal" (mu) against "still lost" (q0 mu), e.g. Poisson
 * y_i = k_i ln(1 / q0) - (1 - q0) mu_i. q0 is the level the traffic held during the
 * loss (the shadow mean below), doubled for the noise of that estimate, and kept within
 * [rho, f]. Traffic that holds where it was ends the alarm by chance at most once per
 * 10^loss_confidence intervals (the same bound, its own "normal" being q0); traffic back
 * at the baseline is called as fast as the evidence allows: after a blackout (q0 = rho)
 * y = mu (ln(1 / rho) - 1 + rho) = 2.93 mu per interval, one interval from 4.7 packets/s,
 * 5 s at 1 packet/s; after a fall to 15% (q0 = f) 0.64 mu per interval. Testing against
 * rho mu always would end a loss at 15% whenever a second happens to hold 3x its mean.
 *
 * Flood: rate over max(flood_factor x ref, ref + flood_min_pps) (or bits) two intervals
 * running, or over twice that line once; ends after two intervals under half-way.
 *
 * Relearn. During a flood or loss a shadow mean (time constant T/5) follows the level
 * the traffic holds. When the alarm has held for `relearn` seconds at a level that is
 * not a blackout (shadow >= 5% of the reference), it ends with reason "relearned" and
 * both baselines take the shadow's level. A blackout restarts that clock, so an outage
 * of any length stays one alarm and ends when the traffic is back.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"

#define FAST_DIVISOR	5.0 /* fast baseline: baseline_window / 5 */
#define WINSOR_SIGMAS	3.0
#define WARM_MEDIAN_MIN 10.0 /* packets per interval for the warm-up median to be sound */

void pw_detect_defaults(struct pw_detect_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->flood = true;
	c->flood_factor = 4.0;
	c->flood_min_pps = 20.0;
	c->flood_min_bps = 1e6;
	c->loss = true;
	c->loss_fraction = 0.25;
	c->loss_confidence = 6.0;
	c->recover_fraction = 0.5;
	c->unstable_losses = 3;
	c->unstable_window = 3600.0;
	c->warmup = 30.0;
	c->baseline_window = 300.0;
	c->relearn = 3600.0;
}

const char *pw_alarm_name(enum pw_alarm_kind k)
{
	static const char *const names[] = {"flood", "loss", "unstable"};

	return k < PW_ALARM_KINDS ? names[k] : "?";
}

const char *pw_reason_name(enum pw_reason r)
{
	return r == PW_REASON_RELEARNED ? "relearned" : NULL;
}

void pw_detector_init(struct pw_detector *d)
{
	memset(d, 0, sizeof(*d));
	d->phi = 1;
}

static double max2(double a, double b)
{
	return a > b ? a : b;
}

static double min2(double a, double b)
{
	return a < b ? a : b;
}

double pw_loss_rho(double f)
{
	/* Solve g(x) = (1 - e^-x) / x = f for x = ln(1 / rho): g falls from 1 to 0. */
	double lo = 1e-12, hi = 700; /* rho down to 1e-304 (f about 0.0014) */

	if (!(f > 0))
		return exp(-hi);
	if (f >= 1)
		return 1;
	for (int i = 0; i < 200; i++) {
		double x = (lo + hi) / 2;

		if (-expm1(-x) / x > f)
			lo = x;
		else
			hi = x;
	}
	return exp(-(lo + hi) / 2);
}

double pw_loss_llr(double k, double mu, double phi, double rho)
{
	double r, a;

	if (!(mu > 0))
		return 0;
	if (phi <= 1 + 1e-9)
		return (k > 0 ? k * log(rho) : 0) + (1 - rho) * mu;
	r = mu / (phi - 1);
	a = log1p((1 - rho) * mu / (r + rho * mu));
	return r * a + (k > 0 ? k * (log(rho) + a) : 0);
}

static void emit(struct pw_detector *d, struct pw_event *ev, int *n, enum pw_alarm_kind k,
		 bool start, enum pw_reason why, double wall, double pps, double bps)
{
	d->alarm[k] = start;
	if (start) {
		d->alarms_total[k]++;
		d->alarm_since[k] = d->age;
	}
	ev[*n] = (struct pw_event){.kind = k,
				   .start = start,
				   .reason = start ? PW_REASON_NONE : why,
				   .time = wall,
				   .pps = pps,
				   .bps = bps,
				   .baseline_pps = d->base_pps,
				   .baseline_bps = d->base_bps};
	(*n)++;
}

/* An alarm that relearning may end begins: the shadow starts at this interval's level. */
static void shadow_start(struct pw_detector *d, double pps, double bps)
{
	d->shadow_pps = pps;
	d->shadow_bps = bps;
	d->steady_since = d->age;
	d->pend_n = 0;
	d->pend_dt = d->pend_count = d->pend_bits = d->pend_disp = 0;
}

static void step_flood(struct pw_detector *d, const struct pw_detect_cfg *c, bool warm, double wall,
		       double pps, double bps, struct pw_event *ev, int *n)
{
	double ref_p = max2(d->base_pps, d->fast_pps), ref_b = max2(d->base_bps, d->fast_bps);
	double line_pps = max2(c->flood_factor * ref_p, ref_p + c->flood_min_pps);
	double line_bps = max2(c->flood_factor * ref_b, ref_b + c->flood_min_bps);
	bool adaptive = c->flood && !warm;
	bool above_a = adaptive && (pps > line_pps || bps > line_bps);
	bool strong_a = adaptive && (pps > 2 * line_pps || bps > 2 * line_bps);
	bool above_s = (c->flood_pps > 0 && pps > c->flood_pps) ||
		       (c->flood_bps > 0 && bps > c->flood_bps);

	if (!d->alarm[PW_ALARM_FLOOD]) {
		d->flood_hi = above_a || above_s ? d->flood_hi + 1 : 0;
		/* Two intervals over the line, or one far over it. */
		if (d->flood_hi >= 2 || strong_a) {
			d->flood_lo = 0;
			emit(d, ev, n, PW_ALARM_FLOOD, true, PW_REASON_NONE, wall, pps, bps);
			shadow_start(d, pps, bps);
		}
		return;
	}
	/* Ends below half-way between reference and the line (and 90% of a static one). */
	{
		bool below = true;

		if (c->flood) {
			below = below && pps < ref_p + (line_pps - ref_p) / 2;
			below = below && bps < ref_b + (line_bps - ref_b) / 2;
		}
		if (c->flood_pps > 0)
			below = below && pps < 0.9 * c->flood_pps;
		if (c->flood_bps > 0)
			below = below && bps < 0.9 * c->flood_bps;
		d->flood_lo = below ? d->flood_lo + 1 : 0;
		if (d->flood_lo >= 2) {
			d->flood_hi = 0;
			emit(d, ev, n, PW_ALARM_FLOOD, false, PW_REASON_NONE, wall, pps, bps);
		}
	}
}

static void loss_started(struct pw_detector *d)
{
	if (d->n_loss_starts == PW_LOSS_HISTORY) {
		memmove(d->loss_starts, d->loss_starts + 1,
			(PW_LOSS_HISTORY - 1) * sizeof(d->loss_starts[0]));
		d->n_loss_starts--;
	}
	d->loss_starts[d->n_loss_starts++] = d->age;
}

static void step_loss(struct pw_detector *d, const struct pw_detect_cfg *c, bool warm, double wall,
		      double dt, double pps, double bps, struct pw_event *ev, int *n)
{
	double mu = min2(d->base_pps, d->fast_pps) * dt, h = c->loss_confidence * log(10.0);
	double x;

	if (d->rho_for != c->loss_fraction || !(d->rho > 0)) {
		d->rho = pw_loss_rho(c->loss_fraction);
		d->rho_for = c->loss_fraction;
	}
	if (d->alarm[PW_ALARM_LOSS] && !c->loss) {
		/* Switched off by a reload that kept this detector. */
		d->loss_cusum = d->back_cusum = 0;
		d->last_loss_end = d->age;
		emit(d, ev, n, PW_ALARM_LOSS, false, PW_REASON_NONE, wall, pps, bps);
		return;
	}
	if (!c->loss || warm || !(mu > 0)) {
		d->loss_cusum = 0;
		return;
	}
	x = pw_loss_llr(pps * dt, mu, max2(d->phi, 1), d->rho);
	if (!d->alarm[PW_ALARM_LOSS]) {
		d->loss_cusum = max2(0, d->loss_cusum + x);
		if (d->loss_cusum >= h) {
			d->back_cusum = 0;
			emit(d, ev, n, PW_ALARM_LOSS, true, PW_REASON_NONE, wall, pps, bps);
			shadow_start(d, pps, bps);
			loss_started(d);
		}
		return;
	}
	{
		/* "Still lost" at the level seen since, doubled for its noise, within [rho, f]. */
		double q0 = min2(c->loss_fraction, max2(d->rho, 2 * d->shadow_pps * dt / mu));

		d->back_cusum =
			max2(0, d->back_cusum - pw_loss_llr(pps * dt, mu, max2(d->phi, 1), q0));
	}
	if (d->back_cusum >= h) {
		d->loss_cusum = d->back_cusum = 0;
		d->last_loss_end = d->age;
		emit(d, ev, n, PW_ALARM_LOSS, false, PW_REASON_NONE, wall, pps, bps);
	}
}

/* A flood or partial loss held for c->relearn seconds becomes the new normal. */
static void step_relearn(struct pw_detector *d, const struct pw_detect_cfg *c, double wall,
			 double dt, double pps, double bps, struct pw_event *ev, int *n)
{
	double a = 1 - exp(-dt * FAST_DIVISOR / c->baseline_window);
	double ref = min2(d->base_pps, d->fast_pps);

	if (!d->alarm[PW_ALARM_FLOOD] && !d->alarm[PW_ALARM_LOSS])
		return;
	d->shadow_pps += a * (pps - d->shadow_pps);
	d->shadow_bps += a * (bps - d->shadow_bps);
	if (d->alarm[PW_ALARM_LOSS] && d->shadow_pps < PW_BLACKOUT_FRACTION * ref)
		d->steady_since = d->age; /* a blackout: never the new normal */
	if (!(c->relearn > 0) || d->age - d->steady_since < c->relearn)
		return;
	d->base_pps = d->fast_pps = d->shadow_pps;
	d->base_bps = d->fast_bps = d->shadow_bps;
	d->loss_cusum = d->back_cusum = 0;
	d->flood_hi = d->flood_lo = 0;
	if (d->alarm[PW_ALARM_LOSS]) {
		d->last_loss_end = d->age;
		emit(d, ev, n, PW_ALARM_LOSS, false, PW_REASON_RELEARNED, wall, pps, bps);
	}
	if (d->alarm[PW_ALARM_FLOOD])
		emit(d, ev, n, PW_ALARM_FLOOD, false, PW_REASON_RELEARNED, wall, pps, bps);
}

static void step_unstable(struct pw_detector *d, const struct pw_detect_cfg *c, double wall,
			  double pps, double bps, struct pw_event *ev, int *n)
{
	unsigned int keep = 0;

	for (unsigned int i = 0; i < d->n_loss_starts; i++)
		if (d->loss_starts[i] > d->age - c->unstable_window)
			d->loss_starts[keep++] = d->loss_starts[i];
	d->n_loss_starts = keep;
	if (!c->unstable_losses) {
		/* Switched off by a reload that kept this detector: a raised alarm ends. */
		if (d->alarm[PW_ALARM_UNSTABLE])
			emit(d, ev, n, PW_ALARM_UNSTABLE, false, PW_REASON_NONE, wall, pps, bps);
		return;
	}
	if (!d->alarm[PW_ALARM_UNSTABLE]) {
		if (d->n_loss_starts >= c->unstable_losses)
			emit(d, ev, n, PW_ALARM_UNSTABLE, true, PW_REASON_NONE, wall, pps, bps);
		return;
	}
	/* Ends when the losses have thinned out and the network held for a quarter window. */
	if (d->n_loss_starts < c->unstable_losses && !d->alarm[PW_ALARM_LOSS] &&
	    d->age - d->last_loss_end >= c->unstable_window / 4)
		emit(d, ev, n, PW_ALARM_UNSTABLE, false, PW_REASON_NONE, wall, pps, bps);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, unsigned int n, double *tmp)
{
	memcpy(tmp, v, n * sizeof(*v));
	qsort(tmp, n, sizeof(*tmp), cmp_double);
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

/*
 * During warm-up the baseline is the median of the intervals seen so far, and the spread
 * their median absolute deviation: one early spike or gap does not set the normal level.
 * Counts of a few packets are too discrete for a median (at 0.3 packets/s it is 0): there
 * the packets over the time (each interval weighted by its length, so that the short
 * first interval after a start cannot count 1 packet in 10 ms as 100 packets/s) and the
 * dispersion of the counts around it are used.
 */
static void learn_warm(struct pw_detector *d, double dt, double pps, double bps)
{
	double tmp[PW_WARM_SAMPLES], dev[PW_WARM_SAMPLES], phi = 1;
	unsigned int n, slot = d->n_warm % PW_WARM_SAMPLES;

	d->warm_pps[slot] = pps;
	d->warm_bps[slot] = bps;
	d->warm_dt[slot] = dt;
	d->n_warm++;
	n = d->n_warm < PW_WARM_SAMPLES ? d->n_warm : PW_WARM_SAMPLES;
	d->base_pps = median(d->warm_pps, n, tmp);
	d->base_bps = median(d->warm_bps, n, tmp);
	if (d->base_pps * dt >= WARM_MEDIAN_MIN) {
		double mad;

		for (unsigned int i = 0; i < n; i++)
			dev[i] = fabs(d->warm_pps[i] - d->base_pps);
		mad = median(dev, n, tmp) * 1.4826; /* a standard deviation, for normal noise */
		/* Variance of the rate x dt^2 is that of the count; over the mean count: phi. */
		if (d->base_pps > 0)
			phi = mad * mad * dt / d->base_pps;
	} else {
		double mp = 0, mb = 0, w = 0, ss = 0;

		/* Running means weighted by dt: exact for a constant series. */
		for (unsigned int i = 0; i < n; i++) {
			w += d->warm_dt[i];
			mp += (d->warm_pps[i] - mp) * d->warm_dt[i] / w;
			mb += (d->warm_bps[i] - mb) * d->warm_dt[i] / w;
		}
		d->base_pps = mp;
		d->base_bps = mb;
		for (unsigned int i = 0; i < n; i++) {
			double e = (d->warm_pps[i] - mp) * d->warm_dt[i];

			ss += e * e;
		}
		if (mp > 0 && n > 1)
			phi = ss / (mp * w) * n / (n - 1);
	}
	d->phi = max2(1, phi);
	d->fast_pps = d->base_pps;
	d->fast_bps = d->base_bps;
}

/* Winsorise this interval and add it to the pending batch. */
static void defer(struct pw_detector *d, double dt, double pps, double bps)
{
	double mu = d->fast_pps * dt, k = pps * dt, band, kw, bits = bps * dt;
	double phi = max2(d->phi, 1);

	band = max2(WINSOR_SIGMAS * sqrt(phi * mu) + 1, mu / 2);
	kw = k < mu - band ? mu - band : k > mu + band ? mu + band : k;
	if (kw < 0)
		kw = 0;
	if (d->fast_pps > 0 && d->fast_bps > 0) {
		/* Bits clamped with the same band, at the baseline's bits per packet. */
		double bpp = d->fast_bps / d->fast_pps;

		bits = bits < (mu - band) * bpp	  ? (mu - band) * bpp
		       : bits > (mu + band) * bpp ? (mu + band) * bpp
						  : bits;
		if (bits < 0)
			bits = 0;
	}
	d->pend_n++;
	d->pend_dt += dt;
	d->pend_count += kw;
	d->pend_bits += bits;
	d->pend_disp += mu > 0 ? (kw - mu) * (kw - mu) / mu : 1;
}

/* Learn the pending batch: the exponential means over its total time. */
static void release(struct pw_detector *d, const struct pw_detect_cfg *c)
{
	double T = d->pend_dt, rate, bits;
	double as = 1 - exp(-T / c->baseline_window);
	double af = 1 - exp(-T * FAST_DIVISOR / c->baseline_window);

	if (!d->pend_n || !(T > 0))
		return;
	rate = d->pend_count / T;
	bits = d->pend_bits / T;
	d->base_pps += as * (rate - d->base_pps);
	d->base_bps += as * (bits - d->base_bps);
	d->fast_pps += af * (rate - d->fast_pps);
	d->fast_bps += af * (bits - d->fast_bps);
	d->phi += as * (d->pend_disp / d->pend_n - d->phi);
	d->pend_n = 0;
	d->pend_dt = d->pend_count = d->pend_bits = d->pend_disp = 0;
}

int pw_detector_step(struct pw_detector *d, const struct pw_detect_cfg *c, double wall, double dt,
		     double pps, double bps, struct pw_event *ev)
{
	bool warm = d->age < c->warmup;
	int n = 0;

	if (!(dt > 0) || !isfinite(pps) || !isfinite(bps) || pps < 0 || bps < 0 || !isfinite(dt))
		return 0;
	d->age += dt;
	step_flood(d, c, warm, wall, pps, bps, ev, &n);
	step_loss(d, c, warm, wall, dt, pps, bps, ev, &n);
	step_relearn(d, c, wall, dt, pps, bps, ev, &n);
	step_unstable(d, c, wall, pps, bps, ev, &n);

	if (warm && !d->alarm[PW_ALARM_FLOOD] && !d->alarm[PW_ALARM_LOSS]) {
		learn_warm(d, dt, pps, bps);
	} else if (!d->alarm[PW_ALARM_FLOOD] && !d->alarm[PW_ALARM_LOSS]) {
		defer(d, dt, pps, bps);
		/* Released once the evidence is back at zero, or after a whole window. */
		if ((d->loss_cusum == 0 && d->flood_hi == 0) || d->pend_dt >= c->baseline_window)
			release(d, c);
	}
	d->last_pps = pps;
	d->last_bps = bps;
	return n;
}
