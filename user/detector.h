/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * detector.h - flag floods, loss and instability in one rate series (a group or a prefix).
 *
 * Fed one interval at a time (packets/s and bits/s over dt seconds), a detector keeps a
 * baseline of the series' normal level and raises three alarms, each with hysteresis (it
 * starts once and ends once):
 *  - flood: the rate far above the baseline (adaptive) or above a fixed threshold (static);
 *  - loss: a CUSUM of the likelihood ratio "fallen under loss_fraction of the baseline"
 *    against "normal" crosses log(10^loss_confidence): a busy network is certain in one
 *    interval, a quiet one needs as many intervals as the evidence takes;
 *  - unstable: too many losses within a sliding window.
 * The baseline learns from every interval, clamped (winsorised); only intervals that end
 * in an alarm are left out. A flood or partial loss that holds for `relearn` seconds is
 * ended as "relearned" and becomes the new normal; a blackout never does.
 * All timing uses the sum of the intervals' dt (a monotonic clock); the caller's wall-clock
 * time only stamps events. The full derivation is in detector.c.
 */
#ifndef PW_DETECTOR_H
#define PW_DETECTOR_H

#include <stdbool.h>
#include <stdint.h>

/* Settings of one group's detectors; pw_detect_defaults() gives the documented defaults. */
struct pw_detect_cfg {
	bool flood;		 /* adaptive flood detection on */
	double flood_factor;	 /* rate above factor x baseline ... */
	double flood_min_pps;	 /* ... and at least this many packets/s above it */
	double flood_min_bps;	 /* ... or this many bits/s above it (bps check) */
	double flood_pps;	 /* static threshold, packets/s; 0 = off */
	double flood_bps;	 /* static threshold, bits/s; 0 = off */
	/* static per-class thresholds, packets/s, for the class detectors (anatomy.c); 0 = off */
	double flood_syn_pps, flood_udp_pps, flood_icmp_pps, flood_fragment_pps;
	bool loss;		 /* loss detection on */
	double loss_fraction;	 /* traffic under this fraction of the baseline is a loss ... */
	double loss_confidence;	 /* ... once the evidence reaches 10^confidence (CUSUM threshold) */
	double recover_fraction; /* unused since the recovery CUSUM (kept for old configs) */
	unsigned int unstable_losses; /* losses within unstable_window that make it unstable */
	double unstable_window;	      /* seconds */
	double warmup;		      /* seconds without alarms while the baseline forms */
	double baseline_window;	      /* seconds: time constant of the baseline */
	double relearn; /* seconds before a lasting flood/partial loss is normal; 0 = never */
};

void pw_detect_defaults(struct pw_detect_cfg *c);

enum pw_alarm_kind { PW_ALARM_FLOOD, PW_ALARM_LOSS, PW_ALARM_UNSTABLE, PW_ALARM_KINDS };

const char *pw_alarm_name(enum pw_alarm_kind k);

/* Why an alarm ended, when not simply because traffic went back to normal. */
enum pw_reason { PW_REASON_NONE, PW_REASON_RELEARNED };

const char *pw_reason_name(enum pw_reason r); /* NULL for PW_REASON_NONE */

struct pw_event {
	enum pw_alarm_kind kind;
	bool start;	       /* start, else end */
	enum pw_reason reason; /* ends only */
	double time;	       /* wall clock, as passed to pw_detector_step() */
	double pps, bps, baseline_pps, baseline_bps;
};

/* Warm-up samples kept for the median that seeds the baseline. */
#define PW_WARM_SAMPLES 64

/* Longest history of loss starts kept for the unstable alarm. */
#define PW_LOSS_HISTORY 64

/* A blackout: traffic under this fraction of the baseline is never relearned. */
#define PW_BLACKOUT_FRACTION 0.05

/*
 * Everything here is plain numbers (no pointers), so that a detector's state can be
 * saved and restored as it is (state.c). Times are on the detector's own clock (age).
 */
struct pw_detector {
	double age;		   /* seconds of data seen: the sum of dt, a monotonic clock */
	double base_pps, base_bps; /* slow baseline (time constant baseline_window) */
	double fast_pps,
		fast_bps;  /* fast baseline (baseline_window / 5): loss floor, flood ceiling */
	double phi;	   /* dispersion index of the counts: variance / mean (1 = Poisson) */
	double loss_cusum; /* evidence for "lost" (log likelihood ratio, CUSUM) */
	double back_cusum; /* during a loss: evidence for "back to normal" */
	bool alarm[PW_ALARM_KINDS];
	double alarm_since[PW_ALARM_KINDS]; /* age at the start of the alarm in progress */
	uint64_t alarms_total[PW_ALARM_KINDS];
	unsigned int flood_hi, flood_lo; /* consecutive intervals above / below the flood line */
	/* Learning deferred while the evidence of an alarm grows (released when it falls back). */
	unsigned int pend_n;
	double pend_dt, pend_count, pend_bits, pend_disp;
	/* During a flood or loss: the level the traffic holds now, for relearning. */
	double shadow_pps, shadow_bps;
	double steady_since; /* age since which the level is not a blackout */
	double loss_starts[PW_LOSS_HISTORY];
	unsigned int n_loss_starts;
	double last_loss_end;
	double last_pps, last_bps;
	double rho, rho_for; /* cached pw_loss_rho(rho_for) */
	/* Last, so that state.c can leave them out: */
	double warm_pps[PW_WARM_SAMPLES], warm_bps[PW_WARM_SAMPLES], warm_dt[PW_WARM_SAMPLES];
	unsigned int n_warm; /* samples taken during warm-up (the ring holds the last 64) */
};

void pw_detector_init(struct pw_detector *d);

/*
 * pw_detector_step() - feed one interval of @dt seconds (measured on a monotonic clock),
 * ending at wall-clock time @wall, with the series' rates over it. Writes up to
 * PW_ALARM_KINDS * 2 events into @ev and returns how many.
 */
int pw_detector_step(struct pw_detector *d, const struct pw_detect_cfg *c, double wall, double dt,
		     double pps, double bps, struct pw_event *ev);

/*
 * The loss test's alternative: the fraction rho of the baseline whose likelihood ratio
 * against the baseline has zero drift at @loss_fraction (traffic below it accumulates
 * evidence, above it sheds it): the root of (1 - rho) / ln(1 / rho) = loss_fraction.
 */
double pw_loss_rho(double loss_fraction);

/*
 * The log likelihood ratio of @k packets under "lost" (mean rho x @mu) against "normal"
 * (mean @mu), for counts with dispersion index @phi: Poisson at phi <= 1, else the
 * negative binomial with that variance (shape mu / (phi - 1)).
 */
double pw_loss_llr(double k, double mu, double phi, double rho);

#endif /* PW_DETECTOR_H */
