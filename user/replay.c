// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* replay.c - a capture through the real XDP program and the daemon's detectors. */
#include <errno.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "anatomy.h"
#include "events.h"
#include "loader.h"
#include "log.h"
#include "poller.h"
#include "replay.h"
#include "watch.h"

/* Largest frame handed to the program; longer captured frames are cut here. */
#define PW_REPLAY_MAX_FRAME 65536
/* Most empty intervals cut for one gap in the capture; the rest of a longer gap is skipped. */
#define PW_REPLAY_MAX_EMPTY 10000

struct replay {
	struct pw_bpf *bpf;
	struct pw_poller pl;
	struct pw_watch watch;
	struct pw_events events;
	uint64_t frames, runts, run_errors, intervals;
	uint64_t gaps;	/* gaps longer than PW_REPLAY_MAX_EMPTY intervals */
	double skipped; /* seconds of them skipped */
	uint64_t alarms[PW_ALARM_KINDS];
	uint8_t *buf;
};

static int src_read(void *ctx, uint32_t n, struct pw_counter *out)
{
	return pw_bpf_read_counters(ctx, n, out);
}

static int src_set(void *ctx, const struct pw_prefix *pfx, const uint32_t *refs, size_t n)
{
	return pw_bpf_set_prefixes(ctx, pfx, refs, n);
}

static void sink(void *ctx, const struct pw_watch_item *it, const struct pw_event *ev)
{
	struct replay *r = ctx;

	if (ev->start)
		r->alarms[ev->kind]++;
	pw_events_sink(&r->events, it, ev);
}

/* Copy @caplen captured bytes to @dst and zero-fill up to the @wirelen the frame had. */
static size_t copy_wire(uint8_t *dst, size_t room, const uint8_t *data, size_t caplen,
			size_t wirelen)
{
	if (wirelen < caplen)
		wirelen = caplen; /* a damaged header: never count less than was captured */
	if (wirelen > room)
		wirelen = room;
	if (caplen > wirelen)
		caplen = wirelen;
	memcpy(dst, data, caplen);
	memset(dst + caplen, 0, wirelen - caplen);
	return wirelen;
}

/*
 * Turn a captured frame into an Ethernet frame in r->buf, as long as it was on the wire
 * (@wirelen, the original length): a capture with a short snap length keeps only the
 * headers, and the live path counts the bytes of the whole frame. The part not captured
 * is zeros. Returns its length, or 0 when the link type is not one replay knows.
 */
static size_t to_ethernet(struct replay *r, int dlt, const uint8_t *data, size_t caplen,
			  size_t wirelen)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
	uint16_t proto;

	switch (dlt) {
	case DLT_EN10MB:
		return copy_wire(r->buf, PW_REPLAY_MAX_FRAME, data, caplen, wirelen);
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		proto = caplen && (data[0] >> 4) == 6 ? 0x86dd : 0x0800;
		break;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return 0;
		proto = (uint16_t)(data[14] << 8 | data[15]);
		data += 16;
		caplen -= 16;
		wirelen = wirelen > 16 ? wirelen - 16 : 0;
		break;
	default:
		return 0;
	}
	memcpy(r->buf, macs, 12);
	r->buf[12] = (uint8_t)(proto >> 8);
	r->buf[13] = (uint8_t)proto;
	return 14 + copy_wire(r->buf + 14, PW_REPLAY_MAX_FRAME - 14, data, caplen, wirelen);
}

static void run_frame(struct replay *r, size_t len)
{
	r->frames++;
	/* The kernel refuses test frames shorter than an Ethernet header. */
	if (len < 14) {
		r->runts++;
		return;
	}
	if (pw_bpf_run(r->bpf, r->buf, len) != 1)
		r->run_errors++;
}

static void cut(struct replay *r, double t)
{
	int err = pw_poller_poll(&r->pl, t);

	if (err) {
		pw_warn("poll failed: %s", strerror(-err));
		return;
	}
	r->intervals++;
	pw_watch_step(&r->watch, &r->pl, t);
}

static void summary(struct replay *r, const char *capture, double t0, double t1)
{
	struct pw_counter cls[PW_CLASS_MAX] = { 0 };

	pw_bpf_read_classes(r->bpf, cls);
	fprintf(stderr, "replay: %s: %llu frames over %.1f s, %llu intervals of %g s\n", capture,
		(unsigned long long)r->frames, t1 - t0, (unsigned long long)r->intervals,
		r->pl.cfg.interval);
	for (size_t g = 0; g < r->pl.n_groups; g++) {
		unsigned long long al[PW_ALARM_KINDS] = { 0 };

		for (size_t i = 0; i < r->watch.n; i++)
			if (r->watch.items[i].gidx == g)
				for (int k = 0; k < PW_ALARM_KINDS; k++)
					al[k] += r->watch.items[i].det.alarms_total[k];
		fprintf(stderr,
			"  group %-16s %12llu packets %14llu bytes  alarms: flood %llu, loss %llu, unstable %llu\n",
			r->pl.g[g].cfg->name, (unsigned long long)r->pl.g[g].in.packets,
			(unsigned long long)r->pl.g[g].in.bytes, al[PW_ALARM_FLOOD], al[PW_ALARM_LOSS],
			al[PW_ALARM_UNSTABLE]);
	}
	fprintf(stderr,
		"  unmatched %llu IPv4, %llu IPv6; non-IP %llu; malformed %llu (+%llu shorter than an Ethernet header)\n",
		(unsigned long long)cls[PW_CLASS_UNMATCHED_V4].packets,
		(unsigned long long)cls[PW_CLASS_UNMATCHED_V6].packets,
		(unsigned long long)cls[PW_CLASS_NON_IP].packets,
		(unsigned long long)cls[PW_CLASS_MALFORMED].packets, (unsigned long long)r->runts);
	if (r->run_errors)
		fprintf(stderr, "  %llu frames could not be run through the program\n",
			(unsigned long long)r->run_errors);
	if (r->gaps)
		fprintf(stderr, "  %llu gaps of more than %d intervals: %.0f s skipped, not judged\n",
			(unsigned long long)r->gaps, PW_REPLAY_MAX_EMPTY, r->skipped);
}

int pw_replay(struct pw_config *cfg, const char *capture)
{
	struct replay r = { 0 };
	struct pw_bpf_opts bo = { 0 };
	char errbuf[PCAP_ERRBUF_SIZE], why[1024];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct pw_source src;
	double t0 = 0, t = 0, next = 0, interval = cfg->interval;
	int ret = 1, rc, dlt;
	bool first = true;
	pcap_t *p;

	p = pcap_open_offline(capture, errbuf);
	if (!p) {
		fprintf(stderr, "%s: cannot read capture: %s\n", capture, errbuf);
		pw_config_free(cfg);
		return 2;
	}
	dlt = pcap_datalink(p);
	if (dlt != DLT_EN10MB && dlt != DLT_RAW && dlt != DLT_IPV4 && dlt != DLT_IPV6 &&
	    dlt != DLT_LINUX_SLL) {
		fprintf(stderr, "%s: link type %s is not supported (Ethernet, raw IP, Linux SLL)\n",
			capture, pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?");
		pcap_close(p);
		pw_config_free(cfg);
		return 2;
	}
	r.buf = malloc(PW_REPLAY_MAX_FRAME);
	/* Tables of exactly the units the prefixes fill, laid out as the daemon's are. */
	rc = pw_bpf_size(cfg, false, &bo, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "replay: %s\n", why);
		goto out;
	}
	rc = r.buf ? pw_bpf_open(&bo, &r.bpf) : -ENOMEM;
	if (!rc)
		rc = pw_bpf_load(r.bpf);
	if (rc) {
		fprintf(stderr, "replay: cannot load the XDP program: %s (needs root and BPF)\n",
			strerror(-rc));
		goto out;
	}
	src = (struct pw_source){ .ctx = r.bpf,
				  .max_ids = pw_bpf_max_ids(r.bpf),
				  .read_counters = src_read,
				  .set_prefixes = src_set };
	if (pw_poller_init(&r.pl, &src) || pw_events_open(&r.events, "", "")) {
		fprintf(stderr, "replay: out of memory\n");
		goto out;
	}
	pw_watch_init(&r.watch, sink, &r);
	if (pw_anatomy_attach(&r.watch, r.bpf)) /* anatomy.h */
		pw_warn("flood anatomy is off: cannot use its maps");

	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		size_t len;

		t = (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e6;
		if (first) {
			rc = pw_poller_apply(&r.pl, cfg, t);
			if (rc || pw_watch_sync(&r.watch, &r.pl, t)) {
				fprintf(stderr, "replay: cannot load the prefixes: %s\n",
					strerror(rc ? -rc : ENOMEM));
				goto out;
			}
			t0 = t;
			next = t0 + interval;
			first = false;
		}
		if (t < next - interval)
			t = next - interval; /* out of order: count it in the current interval */
		for (int cuts = 0; t >= next; cuts++) {
			/*
			 * A jump far ahead (a stepped clock, a damaged capture) would take an
			 * empty interval per step, billions for a jump of years: after
			 * PW_REPLAY_MAX_EMPTY of them, skip to the interval holding this frame and
			 * start it afresh (a poll, not judged), so its rates span one interval.
			 */
			if (cuts == PW_REPLAY_MAX_EMPTY && t >= next + interval) {
				double to = next + floor((t - next) / interval) * interval;

				r.gaps++;
				r.skipped += to - next;
				rc = pw_poller_poll(&r.pl, to);
				if (rc)
					pw_warn("poll failed: %s", strerror(-rc));
				next = to + interval;
				break;
			}
			cut(&r, next);
			next += interval;
		}
		len = to_ethernet(&r, dlt, data, h->caplen, h->len);
		run_frame(&r, len);
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "%s: capture is corrupt after %llu frames: %s\n", capture,
			(unsigned long long)r.frames, pcap_geterr(p));
		ret = 2;
		if (first)
			goto out;
	}
	if (first) {
		fprintf(stderr, "%s: capture holds no frame\n", capture);
		ret = 2;
		goto out;
	}
	/*
	 * The last, partial interval is not judged: it would look like a sudden drop. Its
	 * frames are counted all the same: read the counters once more, so that the summary
	 * accounts for every frame of the capture.
	 */
	rc = pw_poller_poll(&r.pl, t);
	if (rc)
		pw_warn("poll failed: %s", strerror(-rc));
	summary(&r, capture, t0, t);
	if (ret != 2)
		ret = 0;
out:
	if (first)
		pw_config_free(cfg);
	pw_events_close(&r.events);
	pw_anatomy_detach(&r.watch);
	pw_watch_free(&r.watch);
	pw_poller_free(&r.pl);
	pw_bpf_close(r.bpf);
	free(r.buf);
	pcap_close(p);
	return ret;
}
