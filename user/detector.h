/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * detector.h - flag floods, loss and instability in one rate series (a group or a prefix).
 *
 * Fed one interval at a time (packets/s and bits/s over dt seconds), a detector keeps a
 * baseline of the series' normal level and raises three alarms, each with hysteresis (it
 * starts once and ends once):
 *  - flood: the rate far above the baseline (adaptive) or above a fixed threshold (static);
 *  - loss: the traffic fallen to a small fraction of the baseline, decided by how unlikely
 *    that shortfall is under the baseline (a busy network is certain in one interval, a
 *    quiet one needs longer);
 *  - unstable: too many losses within a sliding window.
 * The baseline does not learn from intervals that look like an alarm, so an ongoing flood
 * or outage never becomes the new normal.
 */
#ifndef PW_DETECTOR_H
#define PW_DETECTOR_H

#include <stdbool.h>
#include <stdint.h>

/* Settings of one group's detectors; pw_detect_defaults() gives the documented defaults. */
struct pw_detect_cfg {
	bool flood;		/* adaptive flood detection on */
	double flood_factor;	/* rate above factor x baseline ... */
	double flood_min_pps;	/* ... and at least this many packets/s above it */
	double flood_min_bps;	/* ... or this many bits/s above it (bps check) */
	double flood_pps;	/* static threshold, packets/s; 0 = off */
	double flood_bps;	/* static threshold, bits/s; 0 = off */
	/* static per-class thresholds, packets/s, for the class detectors (anatomy.c); 0 = off */
	double flood_syn_pps, flood_udp_pps, flood_icmp_pps, flood_fragment_pps;
	bool loss;		/* loss detection on */
	double loss_fraction;	/* traffic at or below this fraction of the baseline ... */
	double loss_confidence; /* ... with a chance of at most 10^-confidence under normal */
	double recover_fraction; /* loss ends once traffic is back above this fraction */
	unsigned int unstable_losses; /* losses within unstable_window that make it unstable */
	double unstable_window;	      /* seconds */
	double warmup;		      /* seconds without alarms while the baseline forms */
	double baseline_window;	      /* seconds: time constant of the baseline */
};

void pw_detect_defaults(struct pw_detect_cfg *c);

enum pw_alarm_kind { PW_ALARM_FLOOD, PW_ALARM_LOSS, PW_ALARM_UNSTABLE, PW_ALARM_KINDS };

const char *pw_alarm_name(enum pw_alarm_kind k);

struct pw_event {
	enum pw_alarm_kind kind;
	bool start; /* start, else end */
	double time;
	double pps, bps, baseline_pps, baseline_bps;
};

/* Warm-up samples kept for the median that seeds the baseline. */
#define PW_WARM_SAMPLES 64

/* Longest history of loss starts kept for the unstable alarm. */
#define PW_LOSS_HISTORY 64

struct pw_detector {
	double age;	      /* seconds of data seen */
	double base_pps, base_bps;
	double var_pps;	      /* EWMA of squared deviation of the per-interval count rate */
	bool alarm[PW_ALARM_KINDS];
	uint64_t alarms_total[PW_ALARM_KINDS];
	unsigned int flood_hi, flood_lo; /* consecutive intervals above / below the flood line */
	unsigned int loss_ok;		 /* consecutive recovered intervals while in loss */
	double run_count, run_expect;	 /* the current low run: packets seen and expected */
	double loss_starts[PW_LOSS_HISTORY];
	unsigned int n_loss_starts;
	double last_loss_end;
	double last_pps, last_bps;
	double warm_pps[PW_WARM_SAMPLES], warm_bps[PW_WARM_SAMPLES];
	unsigned int n_warm; /* samples taken during warm-up (the ring holds the last 64) */
};

void pw_detector_init(struct pw_detector *d);

/*
 * pw_detector_step() - feed one interval ending at @now (seconds) of @dt seconds, with the
 * series' rates over it. Writes up to PW_ALARM_KINDS * 2 events into @ev and returns
 * how many.
 */
int pw_detector_step(struct pw_detector *d, const struct pw_detect_cfg *c, double now, double dt,
		     double pps, double bps, struct pw_event *ev);

#endif /* PW_DETECTOR_H */
