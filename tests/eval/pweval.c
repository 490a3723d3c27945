// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pweval - the detection evaluation behind `make eval`.
 *
 * For each scenario: generate a labelled capture (Poisson arrivals around a rate that
 * follows the scenario's script), replay it with the real `prefixwatch replay` at default
 * settings, match the events found against the labels, and print one line: expected
 * events, found events, the delay of each in intervals, false alarms. Exits 1 when a
 * target is missed. Output is TAP, so `make check` counts each scenario.
 *
 *   pweval PREFIXWATCH WORKDIR [SCENARIO...]
 *
 * PWEVAL_SEED=N draws other random traffic for the same scenarios (default 0); scenarios
 * with .seeds > 1 run that many times with different traffic (lines NAME/s1, NAME/s2, ...).
 * PWEVAL_VERBOSE=1 lists every event found. Long scenarios (a simulated day) stay cheap:
 * a quiet network's capture holds few frames, and replay cuts empty intervals itself.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdbool.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../bpf/frames.h"

#define T0 1419206400.0 /* 2014-12-22 00:00 UTC */
#define STEP 0.1	/* arrivals are drawn per 100 ms */
#define MAX_GROUPS 4
#define MAX_PHASES 16
#define MAX_EXPECT 16
#define FRAME_LEN 64

/* OFFICE: a working day, the group's pps by day and 1/15 of it by night, 30-minute
 * linear ramps at 07:30 and 18:00; the scenario starts at @tod0 hours of the day. */
enum shape { STEADY, BURSTY, SWING, OFFICE };

/* A change of one group's rate: from @at for @len seconds, multiply by @mult (ramp: reach it
 * linearly over @ramp seconds). */
struct phase {
	double at, len, mult, ramp;
};

struct group_spec {
	const char *name, *prefix, *dst;
	double pps;
	enum shape shape;
	struct phase ph[MAX_PHASES];
	double tod0;
};

enum kind { FLOOD, LOSS, UNSTABLE };
static const char *const kind_names[] = { "flood", "loss", "unstable" };

/* A labelled event: group @g raises @kind at @start (seconds), ends when traffic returns
 * at @end (0 = not checked); it must be flagged within @max_delay seconds of @start
 * (and may be flagged from @early on), and end within @max_end_delay of @end. */
struct expect {
	int g;
	enum kind kind;
	double start, early, max_delay, end, max_end_delay;
	bool relearned; /* the end must carry "reason":"relearned" */
};
/* Delays are in intervals of 1 s, the default: max_delay 2 means "within 2 intervals". */

/* A real attack capture laid over the background: its frames, destination rewritten to
 * @dst, repeated in order at @pps from @at for @len seconds. */
struct attack_spec {
	const char *file; /* in $PW_ATTACKS_DIR (default ../shared/data/attacks) */
	const char *dst;
	double at, len, pps;
};

struct scenario {
	const char *name;
	double duration;
	bool benign;
	struct group_spec groups[MAX_GROUPS];
	struct expect exp[MAX_EXPECT];
	struct attack_spec attack;
	int seeds; /* runs with different traffic (0 = 1) */
};

#define G(n, p, d, r) .name = n, .prefix = p, .dst = d, .pps = r
#define FLOODX(gi, at, len, mult, ramp, startoff)                                           \
	{ gi, FLOOD, (at) + (startoff), (at), 2, (at) + (len), 5 }
#define LOSSX(gi, at, len, delay) { gi, LOSS, (at), (at), (delay), 0, 0 }
/* A loss whose end is checked: back at @at + @len, ended within @enddelay. */
#define LOSSE(gi, at, len, delay, enddelay) { gi, LOSS, (at), (at), (delay), (at) + (len), (enddelay) }
/* A lasting change: raised within @delay, ended as relearned within relearn (3600 s,
 * the default) plus 5 minutes of its start. */
#define RELEARNX(gi, k, at, delay) { gi, k, (at), (at), (delay), (at) + 3600, 300, true }
#define DAY 86400.0

static const struct scenario scenarios[] = {
	{ "steady-poisson", 1200, true, { { G("kp", "175.45.176.0/22", "175.45.176.10", 200) } } },
	{ "steady-bursty", 1200, true,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 200), .shape = BURSTY } } },
	{ "daily-swing", 1800, true,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 200), .shape = SWING } } },
	{ "benign-bursts", 900, true,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 200),
	      .ph = { { 200, 30, 2.0, 0 }, { 400, 20, 3.0, 0 }, { 600, 40, 2.5, 0 } } } } },
	{ "flood-5x-short", 400, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 200), .ph = { { 300, 5, 5, 0 } } } },
	  { FLOODX(0, 300, 5, 5, 0, 0) } },
	{ "flood-5x-long", 600, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 200), .ph = { { 300, 120, 5, 0 } } } },
	  { FLOODX(0, 300, 120, 5, 0, 0) } },
	{ "flood-20x", 500, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 200), .ph = { { 300, 30, 20, 0 } } } },
	  { FLOODX(0, 300, 30, 20, 0, 0) } },
	{ "flood-100x-3s", 400, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 200), .ph = { { 300, 3, 100, 0 } } } },
	  { FLOODX(0, 300, 3, 100, 0, 0) } },
	/* Ramped: the flood "starts" when the rate reaches 5x (ramp fraction 4/19 of 10 s). */
	{ "flood-20x-ramped", 500, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 200), .ph = { { 300, 70, 20, 10 } } } },
	  { FLOODX(0, 300, 70, 20, 10, 10.0 * 4 / 19) } },
	{ "flood-5x-ramped", 500, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 200), .ph = { { 300, 80, 5, 20 } } } },
	  { FLOODX(0, 300, 80, 5, 20, 20) } },
	{ "blackout", 600, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 200), .ph = { { 300, 120, 0, 0 } } } },
	  { LOSSX(0, 300, 120, 3) } },
	{ "blackout-20pps", 600, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 20), .ph = { { 300, 120, 0, 0 } } } },
	  { LOSSX(0, 300, 120, 3) } },
	{ "blackout-2pps", 600, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 2), .ph = { { 300, 120, 0, 0 } } } },
	  { LOSSX(0, 300, 120, 30) } },
	{ "partial-loss-10pct", 600, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 200),
	      .ph = { { 300, 90, 0.10, 0 } } } },
	  { LOSSX(0, 300, 90, 10) } },
	{ "partial-loss-1pct", 600, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 200),
	      .ph = { { 300, 90, 0.01, 0 } } } },
	  { LOSSX(0, 300, 90, 10) } },
	/* Dark 20 s every 2 minutes; unstable by the third outage (before it ends). */
	{ "flapping", 1000, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 200),
	      .ph = { { 200, 20, 0, 0 },
		      { 320, 20, 0, 0 },
		      { 440, 20, 0, 0 },
		      { 560, 20, 0, 0 },
		      { 680, 20, 0, 0 } } } },
	  { LOSSX(0, 200, 20, 3),
	    LOSSX(0, 320, 20, 3),
	    LOSSX(0, 440, 20, 3),
	    LOSSX(0, 560, 20, 3),
	    LOSSX(0, 680, 20, 3),
	    { 0, UNSTABLE, 440, 200, 20, 0, 0 } } },
	{ "several-groups-one-hit", 600, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 200) },
	    { G("web", "210.52.109.0/24", "210.52.109.5", 50), .ph = { { 300, 60, 10, 0 } } },
	    { G("big", "10.0.0.0/8", "10.20.30.40", 1000) } },
	  { FLOODX(1, 300, 60, 10, 0, 0) } },
	/* Real attacks (../shared/data/attacks), retargeted into the watched prefix. */
	{ "attack-synflood-20x", 500, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 200) } },
	  { FLOODX(0, 300, 30, 20, 0, 0) },
	  { "pkt.TCP.synflood.spoofed.pcap", "175.45.177.80", 300, 30, 3800 } },
	{ "attack-dns-amp-fragments", 500, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 200) } },
	  { FLOODX(0, 300, 60, 6, 0, 0) },
	  { "amp.dns.RRSIG.fragmented.pcap", "175.45.176.53", 300, 60, 1000 } },
	{ "attack-snmp-amp-20s", 500, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 200) } },
	  { FLOODX(0, 300, 20, 11, 0, 0) },
	  { "amp.UDP.snmp.src161.pcapng", "175.45.176.161", 300, 20, 2000 } },
	/* Issue 9: quiet networks over a day (Poisson), at default settings, three seeds. */
	{ "quiet-0.1pps-24h", DAY, true,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 0.1) } }, .seeds = 3 },
	{ "quiet-0.3pps-24h", DAY, true,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 0.3) } }, .seeds = 3 },
	{ "quiet-1pps-24h", DAY, true,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 1) } }, .seeds = 3 },
	{ "quiet-2pps-24h", DAY, true,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 2) } }, .seeds = 3 },
	/* Level shifts of -20%..+25% held 5 to 20 s: overdispersed. */
	{ "bursty-2pps-24h", DAY, true,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 2), .shape = BURSTY } }, .seeds = 3 },
	{ "bursty-20pps-6h", DAY / 4, true,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 20), .shape = BURSTY } }, .seeds = 3 },
	/* An office: 45 pps by day, 3 by night, 30-minute ramps at 07:30 and 18:00. */
	{ "office-day-24h", DAY, true,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 45), .shape = OFFICE } }, .seeds = 3 },
	/* The same day on a quiet series (a per_prefix /32): 4.5 pps by day, 0.3 by night. */
	{ "office-quiet-24h", DAY, true,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 4.5), .shape = OFFICE } }, .seeds = 3 },
	/* From noon: the evening ramp, then an outage of 30 minutes at 02:00. */
	{ "office-night-outage", DAY * 0.75, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 45), .shape = OFFICE, .tod0 = 12,
	      .ph = { { 14 * 3600, 1800, 0, 0 } } } },
	  { LOSSE(0, 14 * 3600, 1800, 10, 5) }, .seeds = 3 },
	/* Lasting changes at 20 pps: relearned after an hour, nothing after. */
	{ "lasting-rise-5x", 6000, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 20), .ph = { { 600, 1e9, 5, 0 } } } },
	  { RELEARNX(0, FLOOD, 600, 2) }, .seeds = 3 },
	/*
	 * At 15% of 20 pps (3 packets a second) each interval adds on average 7.9 to the loss
	 * CUSUM (sd 6.8) against h = 13.8: the delay is 2 intervals typically, but 3 is
	 * exceeded by 15% of runs and 10 by 0.02% (simulated from the formula in detector.c);
	 * the bound is that tail, not a figure tuned to the seeds.
	 */
	{ "lasting-fall-85pct", 6000, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 20),
	      .ph = { { 600, 1e9, 0.15, 0 } } } },
	  { RELEARNX(0, LOSS, 600, 10) }, .seeds = 3 },
	/* Nine hours dark at 20 pps (another group keeps the capture going): one alarm. */
	{ "blackout-9h", 36000, false,
	  { { G("kp", "175.45.176.0/22", "175.45.176.10", 20),
	      .ph = { { 1800, 9 * 3600, 0, 0 } } },
	    { G("bg", "210.52.109.0/24", "210.52.109.5", 1) } },
	  { LOSSE(0, 1800, 9 * 3600, 3, 5) }, .seeds = 3 },
	{ "ipv6", 800, false,
	  { { G("v6", "2001:db8::/32", "2001:db8::53", 200),
	      .ph = { { 300, 60, 20, 0 }, { 500, 120, 0, 0 } } } },
	  { FLOODX(0, 300, 60, 20, 0, 0), LOSSX(0, 500, 120, 3) } },
};

/* ---- deterministic randomness ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static long poisson(double mean)
{
	if (mean <= 0)
		return 0;
	if (mean > 50) {
		double u1 = uniform(), u2 = uniform();
		double z = sqrt(-2 * log(u1 + 1e-300)) * cos(2 * M_PI * u2);
		long v = lround(mean + sqrt(mean) * z);

		return v < 0 ? 0 : v;
	}
	{
		double l = exp(-mean), p = 1;
		long k = 0;

		do {
			k++;
			p *= uniform();
		} while (p > l);
		return k - 1;
	}
}

static uint32_t rnd16(void)
{
	return (uint32_t)(uniform() * 65536);
}

/* ---- the rate script ---- */

struct gstate {
	double burst_level, burst_until;
};

static double rate_at(const struct group_spec *g, struct gstate *st, double t)
{
	double r = g->pps;

	if (g->shape == SWING)
		r *= 1 + 0.6 * sin(2 * M_PI * t / 1800);
	if (g->shape == OFFICE) {
		double h = fmod(t / 3600 + g->tod0, 24), night = g->pps / 15;

		r = h < 7.5 || h >= 18.5 ? night
		    : h < 8		 ? night + (g->pps - night) * (h - 7.5) * 2
		    : h < 18		 ? g->pps
					 : g->pps - (g->pps - night) * (h - 18) * 2;
	}
	if (g->shape == BURSTY) {
		/* Level shifts of up to +-25%, each lasting 5 to 20 s. */
		if (t >= st->burst_until) {
			st->burst_level = 0.8 + 0.45 * uniform();
			st->burst_until = t + 5 + 15 * uniform();
		}
		r *= st->burst_level;
	}
	for (int i = 0; i < MAX_PHASES && g->ph[i].len > 0; i++) {
		const struct phase *p = &g->ph[i];

		if (t < p->at || t >= p->at + p->len)
			continue;
		if (p->ramp > 0 && t < p->at + p->ramp)
			r *= 1 + (p->mult - 1) * (t - p->at) / p->ramp;
		else
			r *= p->mult;
	}
	return r;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct attack_frames {
	struct frame *f;
	size_t n, next;
};

static void retarget(struct frame *f, const char *dst)
{
	size_t off = 12;
	uint16_t proto;

	for (int tags = 0; tags <= 2 && off + 2 <= f->len; tags++) {
		proto = (uint16_t)(f->data[off] << 8 | f->data[off + 1]);
		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		off += 4;
	}
	if (off + 2 > f->len || (f->data[off] << 8 | f->data[off + 1]) != ETH_P_IP)
		return;
	off += 2;
	if (off + 20 <= f->len && (f->data[off] >> 4) == 4)
		inet_pton(AF_INET, dst, f->data + off + 16);
}

/* 1: loaded; 0: the file is not there (skip); -1: unusable. */
static int load_attack(const struct attack_spec *a, struct attack_frames *af)
{
	const char *dir = getenv("PW_ATTACKS_DIR") ? getenv("PW_ATTACKS_DIR")
						   : "../shared/data/attacks";
	char path[1024], err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;

	snprintf(path, sizeof(path), "%s/%s", dir, a->file);
	if (access(path, R_OK))
		return 0;
	p = pcap_open_offline(path, err);
	if (!p || pcap_datalink(p) != DLT_EN10MB) {
		if (p)
			pcap_close(p);
		return -1;
	}
	while (pcap_next_ex(p, &h, &data) == 1 && af->n < 50000) {
		struct frame *f;

		/*
		 * Doubling (at each power of two): one realloc per frame copies the whole array
		 * each time where realloc cannot grow in place, as under ASan: quadratic.
		 */
		if (!(af->n & (af->n - 1))) {
			struct frame *nf = realloc(af->f, (af->n ? 2 * af->n : 1) * sizeof(*af->f));

			if (!nf)
				break;
			af->f = nf;
		}
		f = &af->f[af->n++];
		f->len = h->caplen < FRAME_MAX ? h->caplen : FRAME_MAX;
		memcpy(f->data, data, f->len);
		retarget(f, a->dst);
	}
	pcap_close(p);
	return af->n ? 1 : -1;
}

static int write_capture(const struct scenario *s, const char *path, long *frames)
{
	struct attack_frames af = { 0 };
	struct gstate st[MAX_GROUPS] = { 0 };
	static struct frame f[MAX_GROUPS];
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(p, path);
	double *times = NULL;
	int *who = NULL;
	size_t cap = 0;

	if (!d)
		return -1;
	if (s->attack.file && load_attack(&s->attack, &af) != 1) {
		pcap_dump_close(d);
		pcap_close(p);
		return -1;
	}
	*frames = 0;
	for (int g = 0; g < MAX_GROUPS && s->groups[g].name; g++) {
		frame_eth(&f[g], strchr(s->groups[g].dst, ':') ? ETH_P_IPV6 : ETH_P_IP);
		if (strchr(s->groups[g].dst, ':'))
			frame_ipv6(&f[g], s->groups[g].dst);
		else
			frame_ipv4(&f[g], s->groups[g].dst, 5, 0);
		frame_pad(&f[g], FRAME_LEN + 16 * g);
	}
	for (double t = 0; t < s->duration; t += STEP) {
		size_t n = 0;

		for (int g = 0; g < MAX_GROUPS && s->groups[g].name; g++) {
			long k = poisson(rate_at(&s->groups[g], &st[g], t) * STEP);

			if (n + (size_t)k > cap) {
				cap = (n + (size_t)k) * 2 + 64;
				times = realloc(times, cap * sizeof(*times) * 2);
				who = realloc(who, cap * sizeof(*who) * 2);
			}
			for (long i = 0; i < k; i++) {
				/* Group index in the fraction's last bits keeps sorting stable. */
				times[n] = t + STEP * uniform();
				who[n] = g;
				n++;
			}
		}
		if (af.n && t >= s->attack.at && t < s->attack.at + s->attack.len) {
			long k = poisson(s->attack.pps * STEP);

			if (n + (size_t)k > cap) {
				cap = (n + (size_t)k) * 2 + 64;
				times = realloc(times, cap * sizeof(*times) * 2);
				who = realloc(who, cap * sizeof(*who) * 2);
			}
			for (long i = 0; i < k; i++) {
				times[n] = t + STEP * uniform();
				who[n] = -1;
				n++;
			}
		}
		/* Sort this step's arrivals by time (group kept with its time). */
		{
			double *pairs = malloc(n * 2 * sizeof(double) + 1);

			for (size_t i = 0; i < n; i++) {
				pairs[2 * i] = times[i];
				pairs[2 * i + 1] = who[i];
			}
			qsort(pairs, n, 2 * sizeof(double), cmp_double);
			for (size_t i = 0; i < n; i++) {
				struct pcap_pkthdr h;
				double ts = T0 + pairs[2 * i];
				int g = (int)pairs[2 * i + 1];
				const struct frame *fr = g >= 0 ? &f[g] : &af.f[af.next++ % af.n];

				h.ts.tv_sec = (time_t)ts;
				h.ts.tv_usec = (suseconds_t)((ts - floor(ts)) * 1e6);
				h.caplen = h.len = (bpf_u_int32)fr->len;
				pcap_dump((u_char *)d, &h, fr->data);
			}
			*frames += (long)n;
			free(pairs);
		}
	}
	free(times);
	free(who);
	free(af.f);
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}

static int write_config(const struct scenario *s, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "; scenario %s: default settings\n", s->name);
	for (int g = 0; g < MAX_GROUPS && s->groups[g].name; g++)
		fprintf(f, "[group %s]\nprefix = %s\n", s->groups[g].name, s->groups[g].prefix);
	fclose(f);
	return 0;
}

struct found {
	int g;
	enum kind kind;
	bool start;
	double t; /* seconds since capture start */
	bool matched;
	bool relearned;
};

/*
 * Delay of a decision at @found (the end of the interval that decided it) after a change
 * at @change, in intervals: 0 when decided at the end of the interval holding the change,
 * 1 one poll later, and so on. Intervals are 1 s (the default).
 */
static double interval_delay(double found, double change)
{
	double d = floor(found - change + 1e-9);

	return d < 0 ? 0 : d;
}

static int group_index(const struct scenario *s, const char *name)
{
	for (int g = 0; g < MAX_GROUPS && s->groups[g].name; g++)
		if (!strcmp(s->groups[g].name, name))
			return g;
	return -1;
}

static int read_events(const struct scenario *s, FILE *in, struct found *out, int max)
{
	char line[1024];
	int n = 0;

	while (fgets(line, sizeof(line), in) && n < max) {
		char group[80], kind[16], state[16];
		double t;
		char *p;

		p = strstr(line, "\"time\":");
		if (!p || sscanf(p, "\"time\":%lf", &t) != 1)
			continue;
		p = strstr(line, "\"group\":\"");
		if (!p || sscanf(p, "\"group\":\"%79[^\"]\"", group) != 1)
			continue;
		p = strstr(line, "\"kind\":\"");
		if (!p || sscanf(p, "\"kind\":\"%15[^\"]\"", kind) != 1)
			continue;
		p = strstr(line, "\"state\":\"");
		if (!p || sscanf(p, "\"state\":\"%15[^\"]\"", state) != 1)
			continue;
		out[n].g = group_index(s, group);
		out[n].kind = !strcmp(kind, "flood") ? FLOOD : !strcmp(kind, "loss") ? LOSS : UNSTABLE;
		out[n].start = !strcmp(state, "start");
		out[n].t = t - T0;
		out[n].matched = false;
		out[n].relearned = strstr(line, "\"reason\":\"relearned\"") != NULL;
		n++;
	}
	return n;
}

/* ---- flood anatomy scenarios (issue 10): mixed background, named vector, port, victim ---- */

/*
 * Background: a busy network's mix, drawn per frame from this table over 8 hosts of the
 * group's prefix (weights in percent): TCP data and ACKs, a few handshakes and resets, DNS
 * answers and other UDP, ICMP, and fragmented UDP datagrams (a first and a later fragment).
 */
struct mix_entry {
	int weight;
	uint8_t proto, tcp_flags;
	uint16_t sport, frag;
	size_t len;
};

static const struct mix_entry mix[] = {
	{ 52, 6, 0x10, 443, 0, 1400 },	/* tcp-ack: data */
	{ 16, 6, 0x10, 51000, 0, 66 },	/* tcp-ack: pure ACKs */
	{ 2, 6, 0x02, 51001, 0, 74 },	/* tcp-syn */
	{ 2, 6, 0x12, 443, 0, 74 },	/* tcp-synack */
	{ 1, 6, 0x14, 443, 0, 60 },	/* tcp-rst */
	{ 1, 6, 0x11, 443, 0, 60 },	/* tcp-ack: FIN+ACK */
	{ 9, 17, 0, 53, 0, 180 },	/* udp: DNS answers */
	{ 11, 17, 0, 50000, 0, 300 },	/* udp: other (QUIC-like high ports) */
	{ 3, 1, 0, 0, 0, 98 },		/* icmp */
	{ 2, 17, 0, 4500, 0x2000, 1514 }, /* udp: first fragment of a datagram */
	{ 1, 17, 0, 0, 0x00b9, 800 },	/* ip-fragments: its later fragment */
};

/* What a scenario's attack is: a capture, or a synthetic one. */
enum anat_attack { A_CAPTURE, A_SYN_HIDDEN, A_CARPET_NTP, A_NONE };

struct anat_scenario {
	const char *name;
	double duration, bg_pps;
	enum anat_attack kind;
	const char *file; /* A_CAPTURE: in $PW_ATTACKS_DIR */
	double at, len, pps;
	/* expected: the first flood start's first vector, its source port (-1: none named),
	 * its class field ("" none), and the first target (or, for a carpet, its /24) */
	const char *vector;
	int port;
	const char *cls;
	const char *victim;
};

#define ANAT_PREFIX "175.45.176.0/22"
#define ANAT_VICTIM "175.45.177.80"

static const struct anat_scenario anat_scenarios[] = {
	{ "anat-synflood", 500, 1000, A_CAPTURE, "pkt.TCP.synflood.spoofed.pcap", 300, 30, 8000,
	  "tcp-syn", -1, "", ANAT_VICTIM },
	{ "anat-syn-ecn-cwr", 500, 1000, A_CAPTURE, "pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng", 300, 30,
	  8000, "tcp-syn", -1, "", ANAT_VICTIM },
	{ "anat-synack-reflection", 500, 1000, A_CAPTURE, "amp.TCP.reflection.SYNACK.pcap", 300,
	  30, 8000, "tcp-synack", -1, "", ANAT_VICTIM },
	{ "anat-slow-synack", 500, 1000, A_CAPTURE,
	  "amp.TCP.syn.optionallyACK.optionallysamePort.pcapng", 300, 30, 8000, "tcp-synack", -1,
	  "", ANAT_VICTIM },
	{ "anat-bacnet-amp", 500, 1000, A_CAPTURE, "amp.UDP.bacnet.IOT.37810.pcapng", 300, 30,
	  8000, "udp-amplification", 47808, "", ANAT_VICTIM },
	{ "anat-snmp-amp", 500, 1000, A_CAPTURE, "amp.UDP.snmp.src161.pcapng", 300, 30, 8000,
	  "udp-amplification", 161, "", ANAT_VICTIM },
	{ "anat-isakmp-amp", 500, 1000, A_CAPTURE, "amp.UDP.isakmp.pcap", 300, 30, 8000,
	  "udp-amplification", 4500, "", ANAT_VICTIM },
	{ "anat-dns-amp-fragments", 500, 1000, A_CAPTURE, "amp.dns.RRSIG.fragmented.pcap", 300, 30,
	  8000, "udp-amplification", 53, "", ANAT_VICTIM },
	/* +58% on the total, 30x the usual SYNs (2% of 3000 pps): only the class sees it. */
	{ "anat-hidden-synflood", 500, 3000, A_SYN_HIDDEN, NULL, 300, 30, 1740, "tcp-syn", -1,
	  "tcp-syn", ANAT_VICTIM },
	/* NTP amplification spread over every host of a /24. */
	{ "anat-carpet-ntp", 500, 1000, A_CARPET_NTP, NULL, 300, 30, 8000, "udp-amplification",
	  123, "", "175.45.178." },
	/* An hour of the busy mix, bursty, nothing to find (class detectors included). */
	{ "anat-benign-hour", 3600, 1000, A_NONE, NULL, 0, 0, 0, NULL, -1, "", NULL },
};

#define N_ANAT (sizeof(anat_scenarios) / sizeof(anat_scenarios[0]))

static void mix_frame(struct frame *f, const struct mix_entry *m, const char *src,
		      const char *dst, uint16_t id)
{
	frame_eth(f, ETH_P_IP);
	frame_ipv4_proto(f, src, dst, m->proto, m->frag, id);
	if (!(m->frag & 0x1fff)) {
		if (m->proto == 6)
			frame_tcp(f, m->sport, m->tcp_flags);
		else if (m->proto == 17)
			frame_udp(f, m->sport);
		else
			frame_icmp(f, 0);
	}
	frame_pad(f, m->len);
}

/* One frame of the background at random. */
static void background_frame(struct frame *f)
{
	static uint16_t last_id;
	int total = 0, r;
	char dst[32], src[32];
	size_t i;

	for (i = 0; i < sizeof(mix) / sizeof(mix[0]); i++)
		total += mix[i].weight;
	r = (int)(uniform() * total);
	for (i = 0; i + 1 < sizeof(mix) / sizeof(mix[0]) && r >= mix[i].weight; i++)
		r -= mix[i].weight;
	snprintf(dst, sizeof(dst), "175.45.176.%d", 10 + (int)(uniform() * 8));
	snprintf(src, sizeof(src), "198.18.%d.%d", (int)(uniform() * 256), 1 + (int)(uniform() * 250));
	/* A later fragment follows its first fragment's datagram id (same source/destination
	 * are not kept: its port stays unknown, as for a fragment whose first was lost). */
	mix_frame(f, &mix[i], src, dst, mix[i].frag & 0x1fff ? last_id : ++last_id);
}

static void attack_frame(const struct anat_scenario *s, struct attack_frames *af,
			 struct frame *f)
{
	char src[32], dst[32];

	switch (s->kind) {
	case A_CAPTURE:
		*f = af->f[af->next++ % af->n];
		return;
	case A_SYN_HIDDEN: {
		static const struct mix_entry syn = { 0, 6, 0x02, 0, 0, 74 };
		struct mix_entry m = syn;

		m.sport = (uint16_t)(1024 + uniform() * 60000);
		snprintf(src, sizeof(src), "100.%d.%d.%d", (int)(uniform() * 64), (int)(uniform() * 256),
			 (int)(uniform() * 256));
		mix_frame(f, &m, src, ANAT_VICTIM, (uint16_t)rnd16());
		return;
	}
	case A_CARPET_NTP: {
		static const struct mix_entry ntp = { 0, 17, 0, 123, 0, 482 };

		snprintf(src, sizeof(src), "203.0.%d.%d", (int)(uniform() * 256), 1 + (int)(uniform() * 250));
		snprintf(dst, sizeof(dst), "175.45.178.%d", (int)(uniform() * 256));
		mix_frame(f, &ntp, src, dst, (uint16_t)rnd16());
		return;
	}
	default:
		return;
	}
}

static int anat_write_capture(const struct anat_scenario *s, const char *path, long *frames)
{
	struct attack_frames af = { 0 };
	struct attack_spec spec = { s->file, ANAT_VICTIM, s->at, s->len, s->pps };
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(p, path);
	static struct frame f;
	double level = 1, until = 0;

	if (!d)
		return -1;
	if (s->kind == A_CAPTURE && load_attack(&spec, &af) != 1) {
		pcap_dump_close(d);
		pcap_close(p);
		return -1;
	}
	*frames = 0;
	for (double t = 0; t < s->duration; t += STEP) {
		long nb, na = 0, n;
		double *ts;

		/* Bursty: level shifts of -20% to +25%, each lasting 5 to 20 s. */
		if (t >= until) {
			level = 0.8 + 0.45 * uniform();
			until = t + 5 + 15 * uniform();
		}
		nb = poisson(s->bg_pps * level * STEP);
		if (s->kind != A_NONE && t >= s->at && t < s->at + s->len)
			na = poisson(s->pps * STEP);
		n = nb + na;
		ts = malloc(((size_t)n + 1) * 2 * sizeof(*ts));
		for (long i = 0; i < n; i++) {
			ts[2 * i] = t + STEP * uniform();
			ts[2 * i + 1] = i < nb ? 0 : 1;
		}
		qsort(ts, (size_t)n, 2 * sizeof(double), cmp_double);
		for (long i = 0; i < n; i++) {
			struct pcap_pkthdr h;
			double at = T0 + ts[2 * i];

			if (ts[2 * i + 1] == 0)
				background_frame(&f);
			else
				attack_frame(s, &af, &f);
			h.ts.tv_sec = (time_t)at;
			h.ts.tv_usec = (suseconds_t)((at - floor(at)) * 1e6);
			h.caplen = h.len = (bpf_u_int32)f.len;
			pcap_dump((u_char *)d, &h, f.data);
		}
		*frames += n;
		free(ts);
	}
	free(af.f);
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}

/* The string value of @key in @line from @from on, into @out; NULL when absent. */
static const char *json_str(const char *from, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p;
	size_t i = 0;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(from, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	while (*p && *p != '"' && i + 1 < len)
		out[i++] = *p++;
	out[i] = '\0';
	return p;
}

/*
 * Run one anatomy scenario: one flood start expected (none for a benign one) within 2
 * intervals of the attack's start, whose first vector, port, class and first target are
 * the expected ones, with a share of at least 0.3.
 */
static bool anat_run(const struct anat_scenario *s, const char *prog, const char *dir, int tap)
{
	char cap[512], cfg[512], cmd[2048], line[8192], why[256] = "";
	long frames = 0;
	int starts = 0;
	bool ok = true, first_ok = false;
	double first_t = -1;
	FILE *p, *c;

	snprintf(cap, sizeof(cap), "%s/%s.pcap", dir, s->name);
	snprintf(cfg, sizeof(cfg), "%s/%s.ini", dir, s->name);
	if (s->kind == A_CAPTURE) {
		struct attack_frames probe = { 0 };
		struct attack_spec spec = { s->file, ANAT_VICTIM, 0, 0, 0 };
		int r = load_attack(&spec, &probe);

		free(probe.f);
		if (r == 0 && !(getenv("CI") && !strcmp(getenv("CI"), "true"))) {
			printf("ok %d - %s # SKIP %s not present (shared data)\n", tap, s->name, s->file);
			return true;
		}
		if (r != 1) {
			printf("not ok %d - %s: cannot read %s\n", tap, s->name, s->file);
			return false;
		}
	}
	c = fopen(cfg, "w");
	if (!c || anat_write_capture(s, cap, &frames)) {
		if (c)
			fclose(c);
		printf("not ok %d - %s: cannot write the capture\n", tap, s->name);
		return false;
	}
	fprintf(c, "; anatomy scenario %s: default settings\n[group kp]\nprefix = %s\n", s->name,
		ANAT_PREFIX);
	fclose(c);
	snprintf(cmd, sizeof(cmd), "'%s' replay -c '%s' '%s' 2>'%s.summary'", prog, cfg, cap, cap);
	p = popen(cmd, "r");
	while (p && fgets(line, sizeof(line), p)) {
		char kind[16], state[16], vec[32] = "", cls[32] = "", addr[64] = "";
		const char *v, *tg;
		double t = 0;
		int port = -1;

		if (!json_str(line, "kind", kind, sizeof(kind)) || strcmp(kind, "flood") ||
		    !json_str(line, "state", state, sizeof(state)) || strcmp(state, "start"))
			continue;
		starts++;
		if (getenv("PWEVAL_EVENTS"))
			printf("# %s", line);
		if (starts > 1)
			continue;
		sscanf(strstr(line, "\"time\":") + 7, "%lf", &t);
		first_t = t - T0;
		json_str(line, "class", cls, sizeof(cls));
		v = strstr(line, "\"vectors\":[");
		tg = strstr(line, "\"targets\":[");
		if (!v || !tg) {
			snprintf(why, sizeof(why), "no vectors or targets");
			continue;
		}
		/*
		 * The expected vector must lead the list, with a share of at least 0.3; in a
		 * class flood (the class is named) it may follow bigger normal traffic.
		 */
		for (const char *o = v; o && o < tg; o = strchr(o + 1, '{')) {
			const char *end = strchr(o, '}'), *sp = strstr(o, "\"source_port\":");
			const char *ps = strstr(o, "\"packets_share\":");
			const char *bs = strstr(o, "\"bytes_share\":");
			double psh = ps ? atof(ps + 16) : 0, bsh = bs ? atof(bs + 14) : 0;

			if (!json_str(o, "vector", vec, sizeof(vec)) || !end || end > tg)
				break;
			port = sp && sp < end ? atoi(sp + 14) : -1;
			first_ok = !strcmp(vec, s->vector) && port == s->port &&
				   (!s->cls[0] || !strcmp(cls, s->cls)) && (psh >= 0.3 || bsh >= 0.3);
			if (first_ok || !s->cls[0])
				break;
		}
		json_str(tg, "address", addr, sizeof(addr));
		first_ok = first_ok && !strncmp(addr, s->victim, strlen(s->victim));
		/*
		 * A carpet (the victim a network, "a.b.c."): most targets listed are in it
		 * (each of its hosts gets a few samples, as few as a busy server's own).
		 */
		if (s->victim[strlen(s->victim) - 1] == '.') {
			char other[64];
			int in = 0;

			for (const char *o = tg; (o = json_str(o, "address", other, sizeof(other)));)
				in += !strncmp(other, s->victim, strlen(s->victim));
			first_ok = first_ok && in >= 3;
		}
		snprintf(why, sizeof(why), "vector %s port %d class '%s' first target %s", vec, port,
			 cls, addr);
	}
	if (!p || pclose(p) != 0) {
		printf("not ok %d - %s: replay failed (see %s.summary)\n", tap, s->name, cap);
		return false;
	}
	unlink(cap);
	if (s->kind == A_NONE) {
		ok = starts == 0;
		printf("%s %d - %-24s %8ld %s\n", ok ? "ok" : "not ok", tap, s->name, frames,
		       starts ? "false alarms" : "nothing raised");
		return ok;
	}
	ok = starts == 1 && first_ok && first_t >= s->at &&
	     interval_delay(first_t, s->at) <= 2;
	printf("%s %d - %-24s %8ld floods %d, delay %g: %s\n", ok ? "ok" : "not ok", tap, s->name,
	       frames, starts, first_t >= 0 ? interval_delay(first_t, s->at) : -1, why);
	return ok;
}

int main(int argc, char **argv)
{
	int total_exp = 0, total_found = 0, total_false = 0, total_missed = 0, tap = 0;
	double benign_seconds = 0;
	bool all_ok = true;

	uint64_t seed = getenv("PWEVAL_SEED") ? strtoull(getenv("PWEVAL_SEED"), NULL, 0) : 0;

	if (argc < 3) {
		fprintf(stderr, "usage: pweval PREFIXWATCH WORKDIR [SCENARIO...]\n");
		return 2;
	}
	{
		size_t plan = 1;

		for (size_t si = 0; si < sizeof(scenarios) / sizeof(scenarios[0]); si++) {
			bool want = argc <= 3;

			for (int a = 3; a < argc; a++)
				if (!strcmp(argv[a], scenarios[si].name))
					want = true;
			if (want)
				plan += scenarios[si].seeds > 1 ? (size_t)scenarios[si].seeds : 1;
		}
		for (size_t si = 0; si < N_ANAT; si++) {
			bool want = argc <= 3;

			for (int a = 3; a < argc; a++)
				want = want || !strcmp(argv[a], anat_scenarios[si].name);
			plan += want;
		}
		printf("1..%zu\n", plan);
	}
	printf("# %-28s %8s %8s %5s %5s  %s\n", "scenario", "frames", "expected", "found", "false",
	       "delays in intervals (start/end)");
	for (size_t run = 0; run < 64 * sizeof(scenarios) / sizeof(scenarios[0]); run++) {
		size_t si = run / 64;
		int sd = (int)(run % 64);
		const struct scenario *s = &scenarios[si];
		char cap[512], cfg[512], cmd[2048], delays[512] = "", label[64];
		struct found found[256];
		int nf, nexp = 0, nfalse = 0, nmissed = 0, nfound = 0;
		size_t off = 0;
		long frames;
		bool ok = true, want = argc <= 3;
		FILE *p;

		for (int a = 3; a < argc; a++)
			if (!strcmp(argv[a], s->name))
				want = true;
		if (!want || sd >= (s->seeds > 1 ? s->seeds : 1))
			continue;
		if (s->seeds > 1)
			snprintf(label, sizeof(label), "%s/s%d", s->name, sd + 1);
		else
			snprintf(label, sizeof(label), "%s", s->name);
		snprintf(cap, sizeof(cap), "%s/%s.pcap", argv[2], s->name);
		snprintf(cfg, sizeof(cfg), "%s/%s.ini", argv[2], s->name);
		rng = (0x9e3779b97f4a7c15ULL + seed + (uint64_t)sd * 0x632BE59BD9B4E019ULL) ^
		      (si * 0x2545F4914F6CDD1DULL);
		if (s->attack.file) {
			struct attack_frames probe = { 0 };
			int r = load_attack(&s->attack, &probe);

			free(probe.f);
			if (r == 0 && !(getenv("CI") && !strcmp(getenv("CI"), "true"))) {
				printf("ok %d - %s # SKIP %s not present (shared data)\n", ++tap, label,
				       s->attack.file);
				continue;
			}
			if (r != 1) {
				printf("not ok %d - %s: cannot read %s\n", ++tap, label, s->attack.file);
				all_ok = false;
				continue;
			}
		}
		if (write_capture(s, cap, &frames) || write_config(s, cfg)) {
			printf("not ok %d - %s: cannot write the capture\n", ++tap, label);
			all_ok = false;
			continue;
		}
		snprintf(cmd, sizeof(cmd), "'%s' replay -c '%s' '%s' 2>'%s.summary'", argv[1], cfg,
			 cap, cap);
		p = popen(cmd, "r");
		nf = p ? read_events(s, p, found, 256) : 0;
		if (!p || pclose(p) != 0) {
			printf("not ok %d - %s: replay failed (see %s.summary)\n", ++tap, label, cap);
			all_ok = false;
			continue;
		}
		unlink(cap);
		if (getenv("PWEVAL_VERBOSE"))
			for (int i = 0; i < nf; i++)
				printf("#   %s: group %d %s %s at %.2f s%s\n", label, found[i].g,
				       kind_names[found[i].kind], found[i].start ? "start" : "end",
				       found[i].t, found[i].relearned ? " (relearned)" : "");
		if (s->benign)
			benign_seconds += s->duration;
		for (int e = 0; e < MAX_EXPECT && (e == 0 || s->exp[e].max_delay > 0); e++) {
			const struct expect *x = &s->exp[e];
			int hit = -1;

			if (x->max_delay <= 0)
				break;
			nexp++;
			for (int i = 0; i < nf; i++)
				if (!found[i].matched && found[i].start && found[i].g == x->g &&
				    found[i].kind == x->kind && found[i].t >= x->early &&
				    interval_delay(found[i].t, x->start) <= x->max_delay) {
					hit = i;
					break;
				}
			if (hit < 0) {
				nmissed++;
				ok = false;
				off += (size_t)snprintf(delays + off, sizeof(delays) - off, " %s:missed",
							kind_names[x->kind]);
				continue;
			}
			found[hit].matched = true;
			nfound++;
			{
				double d = interval_delay(found[hit].t, x->start);

				off += (size_t)snprintf(delays + off, sizeof(delays) - off, " %s:%g",
							kind_names[x->kind], d < 0 ? 0 : d);
			}
			/* Its end, when labelled: the first end of that alarm after the start. */
			if (x->end > 0) {
				int end = -1;

				for (int i = hit + 1; i < nf; i++)
					if (!found[i].start && found[i].g == x->g &&
					    found[i].kind == x->kind) {
						end = i;
						found[i].matched = true;
						break;
					}
				if (end < 0 || interval_delay(found[end].t, x->end) > x->max_end_delay ||
				    found[end].relearned != x->relearned) {
					ok = false;
					off += (size_t)snprintf(delays + off, sizeof(delays) - off,
								"/end-late");
				} else {
					double d = interval_delay(found[end].t, x->end);

					off += (size_t)snprintf(delays + off, sizeof(delays) - off, "/%g",
								d < 0 ? 0 : d);
				}
			}
		}
		for (int i = 0; i < nf; i++) {
			if (found[i].matched)
				continue;
			if (found[i].start) {
				nfalse++;
				ok = false;
			} else {
				/* An end whose start matched an expectation without an end label. */
				bool of_matched = false;

				for (int j = 0; j < i; j++)
					if (found[j].matched && found[j].start && found[j].g == found[i].g &&
					    found[j].kind == found[i].kind)
						of_matched = true;
				if (!of_matched) {
					nfalse++;
					ok = false;
				}
			}
		}
		total_exp += nexp;
		total_found += nfound;
		total_false += nfalse;
		total_missed += nmissed;
		all_ok = all_ok && ok;
		printf("%s %d - %-28s %8ld %8d %5d %5d %s\n", ok ? "ok" : "not ok", ++tap, label,
		       frames, nexp, nfound, nfalse, delays[0] ? delays : " -");
	}
	for (size_t si = 0; si < N_ANAT; si++) { /* flood anatomy (issue 10) */
		bool want = argc <= 3;

		for (int a = 3; a < argc; a++)
			want = want || !strcmp(argv[a], anat_scenarios[si].name);
		if (!want)
			continue;
		rng = (0x9e3779b97f4a7c15ULL + seed) ^ ((si + 1000) * 0x2545F4914F6CDD1DULL);
		all_ok = anat_run(&anat_scenarios[si], argv[1], argv[2], ++tap) && all_ok;
	}
	printf("%s %d - total: %d expected, %d found, %d missed, %d false alarms; %.0f s of benign traffic\n",
	       all_ok ? "ok" : "not ok", ++tap, total_exp, total_found, total_missed, total_false,
	       benign_seconds);
	return all_ok ? 0 : 1;
}
