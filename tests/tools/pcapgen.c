// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pcapgen - write a pcap of crafted frames from a traffic description on stdin.
 *
 * One flow per line:  START DURATION PPS KIND DST LEN
 *   START, DURATION  seconds (decimals allowed); PPS packets per second, spread evenly
 *   KIND             ipv4 ipv6 vlan4 qinq4 vlan6 frag4 arp runt
 *   DST              destination address (ignored for arp and runt)
 *   LEN              frame length in bytes (at least the headers; runt: 14 to 20)
 * '#' starts a comment. Frames of all flows are merged in time order. Prints the count of
 * frames written per KIND to stderr.
 */
#include <math.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bpf/frames.h"

struct pkt {
	double t;
	int flow;
};

struct flow {
	char kind[16], dst[64];
	size_t len;
};

static int cmp_pkt(const void *a, const void *b)
{
	const struct pkt *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->flow - y->flow;
}

static int build(const struct flow *fl, struct frame *f)
{
	if (!strcmp(fl->kind, "ipv4")) {
		frame_eth(f, ETH_P_IP);
		frame_ipv4(f, fl->dst, 5, 0);
	} else if (!strcmp(fl->kind, "frag4")) {
		frame_eth(f, ETH_P_IP);
		frame_ipv4(f, fl->dst, 5, 0x0010);
	} else if (!strcmp(fl->kind, "vlan4")) {
		frame_eth(f, ETH_P_8021Q);
		frame_vlan(f, 10, ETH_P_IP);
		frame_ipv4(f, fl->dst, 5, 0);
	} else if (!strcmp(fl->kind, "qinq4")) {
		frame_eth(f, ETH_P_8021AD);
		frame_vlan(f, 10, ETH_P_8021Q);
		frame_vlan(f, 20, ETH_P_IP);
		frame_ipv4(f, fl->dst, 5, 0);
	} else if (!strcmp(fl->kind, "ipv6")) {
		frame_eth(f, ETH_P_IPV6);
		frame_ipv6(f, fl->dst);
	} else if (!strcmp(fl->kind, "vlan6")) {
		frame_eth(f, ETH_P_8021Q);
		frame_vlan(f, 10, ETH_P_IPV6);
		frame_ipv6(f, fl->dst);
	} else if (!strcmp(fl->kind, "arp")) {
		frame_eth(f, ETH_P_ARP);
		frame_put(f, 28);
	} else if (!strcmp(fl->kind, "runt")) {
		/* An IPv4 EtherType with less than an IPv4 header behind it: malformed. */
		frame_eth(f, ETH_P_IP);
		if (fl->len > 14) {
			frame_put(f, fl->len - 14);
			f->data[14] = 0x45;
		}
		return 0;
	} else {
		return -1;
	}
	if (fl->len < f->len)
		return -1;
	frame_pad(f, fl->len);
	return 0;
}

int main(int argc, char **argv)
{
	struct flow *flows = NULL;
	struct pkt *pkts = NULL;
	size_t nflows = 0, npkts = 0, cap = 0;
	char line[512];
	static struct frame f;
	pcap_dumper_t *d;
	pcap_t *p;

	if (argc != 2) {
		fprintf(stderr, "usage: pcapgen OUT.pcap < flows\n");
		return 2;
	}
	while (fgets(line, sizeof(line), stdin)) {
		double start, dur, pps;
		struct flow fl;
		char *hash = strchr(line, '#');
		size_t n;

		if (hash)
			*hash = '\0';
		if (strspn(line, " \t\r\n") == strlen(line))
			continue;
		if (sscanf(line, "%lf %lf %lf %15s %63s %zu", &start, &dur, &pps, fl.kind, fl.dst,
			   &fl.len) != 6) {
			fprintf(stderr, "pcapgen: bad line: %s", line);
			return 2;
		}
		if (build(&fl, &f)) {
			fprintf(stderr, "pcapgen: bad kind or length: %s", line);
			return 2;
		}
		flows = realloc(flows, (nflows + 1) * sizeof(*flows));
		flows[nflows] = fl;
		n = (size_t)llround(dur * pps);
		if (npkts + n > cap) {
			cap = (npkts + n) * 2;
			pkts = realloc(pkts, cap * sizeof(*pkts));
		}
		for (size_t i = 0; i < n; i++) {
			pkts[npkts].t = start + (double)i / pps;
			pkts[npkts].flow = (int)nflows;
			npkts++;
		}
		nflows++;
	}
	qsort(pkts, npkts, sizeof(*pkts), cmp_pkt);
	p = pcap_open_dead(DLT_EN10MB, 65535);
	d = pcap_dump_open(p, argv[1]);
	if (!d) {
		fprintf(stderr, "pcapgen: %s\n", pcap_geterr(p));
		return 1;
	}
	for (size_t i = 0; i < npkts; i++) {
		struct pcap_pkthdr h;
		double t = 1419206400.0 + pkts[i].t; /* 2014-12-22, the day it went dark */

		build(&flows[pkts[i].flow], &f);
		h.ts.tv_sec = (time_t)t;
		h.ts.tv_usec = (suseconds_t)((t - floor(t)) * 1e6);
		h.caplen = h.len = (bpf_u_int32)f.len;
		pcap_dump((u_char *)d, &h, f.data);
	}
	pcap_dump_close(d);
	pcap_close(p);
	fprintf(stderr, "pcapgen: %zu frames\n", npkts);
	free(pkts);
	free(flows);
	return 0;
}
