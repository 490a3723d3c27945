// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* detector.c - flood, loss and instability alarms on one rate series. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"

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
}

const char *pw_alarm_name(enum pw_alarm_kind k)
{
	static const char *const names[] = { "flood", "loss", "unstable" };

	return k < PW_ALARM_KINDS ? names[k] : "?";
}

void pw_detector_init(struct pw_detector *d)
{
	memset(d, 0, sizeof(*d));
}

static void emit(struct pw_detector *d, struct pw_event *ev, int *n, enum pw_alarm_kind k,
		 bool start, double now, double pps, double bps)
{
	d->alarm[k] = start;
	if (start)
		d->alarms_total[k]++;
	ev[*n] = (struct pw_event){ .kind = k,
				    .start = start,
				    .time = now,
				    .pps = pps,
				    .bps = bps,
				    .baseline_pps = d->base_pps,
				    .baseline_bps = d->base_bps };
	(*n)++;
}

/*
 * How surprising @k packets are where @lambda were expected, as -ln P(X <= k) of a
 * Poisson variable (the Chernoff bound, exact for k = 0).
 */
static double shortfall_score(double k, double lambda)
{
	if (lambda <= 0 || k >= lambda)
		return 0;
	if (k <= 0)
		return lambda;
	return lambda - k + k * log(k / lambda);
}

static double max2(double a, double b)
{
	return a > b ? a : b;
}

static void step_flood(struct pw_detector *d, const struct pw_detect_cfg *c, bool warm,
		       double now, double pps, double bps, struct pw_event *ev, int *n)
{
	double line_pps = max2(c->flood_factor * d->base_pps, d->base_pps + c->flood_min_pps);
	double line_bps = max2(c->flood_factor * d->base_bps, d->base_bps + c->flood_min_bps);
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
			emit(d, ev, n, PW_ALARM_FLOOD, true, now, pps, bps);
		}
		return;
	}
	/* Ends below half-way between baseline and the line (and 90% of a static one). */
	{
		bool below = true;

		if (c->flood) {
			below = below && pps < d->base_pps + (line_pps - d->base_pps) / 2;
			below = below && bps < d->base_bps + (line_bps - d->base_bps) / 2;
		}
		if (c->flood_pps > 0)
			below = below && pps < 0.9 * c->flood_pps;
		if (c->flood_bps > 0)
			below = below && bps < 0.9 * c->flood_bps;
		d->flood_lo = below ? d->flood_lo + 1 : 0;
		if (d->flood_lo >= 2) {
			d->flood_hi = 0;
			emit(d, ev, n, PW_ALARM_FLOOD, false, now, pps, bps);
		}
	}
}

static void step_loss(struct pw_detector *d, const struct pw_detect_cfg *c, bool warm, double now,
		      double dt, double pps, double bps, struct pw_event *ev, int *n)
{
	double expect = d->base_pps * dt, count = pps * dt;

	if (!d->alarm[PW_ALARM_LOSS]) {
		double disp, score;

		if (!c->loss || warm || expect <= 0) {
			d->run_count = d->run_expect = 0;
			return;
		}
		/* The low run: consecutive intervals whose total stays below the fraction. */
		if (d->run_count + count <= c->loss_fraction * (d->run_expect + expect)) {
			d->run_count += count;
			d->run_expect += expect;
		} else if (count <= c->loss_fraction * expect) {
			d->run_count = count;
			d->run_expect = expect;
		} else {
			d->run_count = d->run_expect = 0;
			return;
		}
		/* Burstier than Poisson: each packet is worth less evidence. */
		disp = max2(1.0, d->var_pps * dt / d->base_pps);
		score = shortfall_score(d->run_count, d->run_expect) / disp;
		if (score >= c->loss_confidence * log(10.0)) {
			d->loss_ok = 0;
			emit(d, ev, n, PW_ALARM_LOSS, true, now, pps, bps);
			if (d->n_loss_starts == PW_LOSS_HISTORY) {
				memmove(d->loss_starts, d->loss_starts + 1,
					(PW_LOSS_HISTORY - 1) * sizeof(d->loss_starts[0]));
				d->n_loss_starts--;
			}
			d->loss_starts[d->n_loss_starts++] = now;
		}
		return;
	}
	d->loss_ok = pps >= c->recover_fraction * d->base_pps ? d->loss_ok + 1 : 0;
	if (d->loss_ok >= 2 || !c->loss) {
		d->run_count = d->run_expect = 0;
		d->last_loss_end = now;
		emit(d, ev, n, PW_ALARM_LOSS, false, now, pps, bps);
	}
}

static void step_unstable(struct pw_detector *d, const struct pw_detect_cfg *c, double now,
			  double pps, double bps, struct pw_event *ev, int *n)
{
	unsigned int keep = 0;

	for (unsigned int i = 0; i < d->n_loss_starts; i++)
		if (d->loss_starts[i] > now - c->unstable_window)
			d->loss_starts[keep++] = d->loss_starts[i];
	d->n_loss_starts = keep;
	if (!c->unstable_losses) {
		/* Switched off by a reload that kept this detector: a raised alarm ends. */
		if (d->alarm[PW_ALARM_UNSTABLE])
			emit(d, ev, n, PW_ALARM_UNSTABLE, false, now, pps, bps);
		return;
	}
	if (!d->alarm[PW_ALARM_UNSTABLE]) {
		if (d->n_loss_starts >= c->unstable_losses)
			emit(d, ev, n, PW_ALARM_UNSTABLE, true, now, pps, bps);
		return;
	}
	/* Ends when the losses have thinned out and the network held for a quarter window. */
	if (d->n_loss_starts < c->unstable_losses && !d->alarm[PW_ALARM_LOSS] &&
	    now - d->last_loss_end >= c->unstable_window / 4)
		emit(d, ev, n, PW_ALARM_UNSTABLE, false, now, pps, bps);
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
 */
static void learn_warm(struct pw_detector *d, double pps, double bps)
{
	double tmp[PW_WARM_SAMPLES], dev[PW_WARM_SAMPLES], mad;
	unsigned int n;

	d->warm_pps[d->n_warm % PW_WARM_SAMPLES] = pps;
	d->warm_bps[d->n_warm % PW_WARM_SAMPLES] = bps;
	d->n_warm++;
	n = d->n_warm < PW_WARM_SAMPLES ? d->n_warm : PW_WARM_SAMPLES;
	d->base_pps = median(d->warm_pps, n, tmp);
	d->base_bps = median(d->warm_bps, n, tmp);
	for (unsigned int i = 0; i < n; i++)
		dev[i] = fabs(d->warm_pps[i] - d->base_pps);
	mad = median(dev, n, tmp) * 1.4826; /* a standard deviation, for normal noise */
	d->var_pps = mad * mad;
}

int pw_detector_step(struct pw_detector *d, const struct pw_detect_cfg *c, double now, double dt,
		     double pps, double bps, struct pw_event *ev)
{
	bool warm = d->age < c->warmup;
	double alpha;
	int n = 0;

	if (!(dt > 0) || !isfinite(pps) || !isfinite(bps))
		return 0;
	step_flood(d, c, warm, now, pps, bps, ev, &n);
	step_loss(d, c, warm, now, dt, pps, bps, ev, &n);
	step_unstable(d, c, now, pps, bps, ev, &n);

	/* Learn only from intervals that look normal: an alarm is never the new normal. */
	alpha = dt / c->baseline_window;
	if (alpha > 1)
		alpha = 1;
	if (warm && !d->alarm[PW_ALARM_FLOOD] && !d->alarm[PW_ALARM_LOSS]) {
		learn_warm(d, pps, bps);
	} else if (!d->alarm[PW_ALARM_FLOOD] && !d->alarm[PW_ALARM_LOSS] && !d->flood_hi &&
		   d->run_expect == 0) {
		double dev = pps - d->base_pps;

		d->base_pps += alpha * dev;
		d->base_bps += alpha * (bps - d->base_bps);
		d->var_pps += alpha * (dev * dev - d->var_pps);
	}
	d->age += dt;
	d->last_pps = pps;
	d->last_bps = bps;
	return n;
}
