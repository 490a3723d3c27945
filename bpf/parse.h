/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* parse.h - header walking for the XDP program: Ethernet, VLAN, IPv4, IPv6. */
#ifndef PW_PARSE_H
#define PW_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

/* At most this many VLAN tags are skipped; a third tag makes the frame non-IP. */
#define PW_MAX_VLAN_TAGS 2

/* Outcome of parsing one frame. */
enum pw_parse_result {
	PW_PARSE_IPV4,
	PW_PARSE_IPV6,
	PW_PARSE_NON_IP,
	PW_PARSE_MALFORMED,
};

struct pw_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* A cursor over the packet: every read checks its end against data_end first. */
struct pw_cursor {
	void *pos;
	void *end;
};

static __always_inline int pw_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/**
 * pw_parse_frame() - find the destination address of an Ethernet frame.
 * @c:     cursor at the start of the frame
 * @daddr: on PW_PARSE_IPV4 or PW_PARSE_IPV6, points at the destination address
 *
 * A frame too short for a header it announces (the Ethernet header itself, a VLAN tag,
 * the IP header, IPv4 options), an IPv4 IHL below 5, or an IP version that contradicts
 * the EtherType is malformed. The fixed IPv6 header is all that is read: extension
 * headers never move the destination.
 */
static __always_inline enum pw_parse_result pw_parse_frame(struct pw_cursor *c, void **daddr)
{
	struct ethhdr *eth = c->pos;
	__be16 proto;

	if ((void *)(eth + 1) > c->end)
		return PW_PARSE_MALFORMED;
	proto = eth->h_proto;
	c->pos = eth + 1;

	/* Unrolled: the verifier needs a constant bound, and two tags cover QinQ. */
#pragma unroll
	for (int i = 0; i < PW_MAX_VLAN_TAGS; i++) {
		struct pw_vlan_hdr *vh = c->pos;

		if (!pw_is_vlan(proto))
			break;
		if ((void *)(vh + 1) > c->end)
			return PW_PARSE_MALFORMED;
		proto = vh->encap_proto;
		c->pos = vh + 1;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = c->pos;

		if ((void *)(iph + 1) > c->end)
			return PW_PARSE_MALFORMED;
		if (iph->version != 4 || iph->ihl < 5)
			return PW_PARSE_MALFORMED;
		if (c->pos + iph->ihl * 4 > c->end)
			return PW_PARSE_MALFORMED;
		*daddr = &iph->daddr;
		return PW_PARSE_IPV4;
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = c->pos;

		if ((void *)(ip6h + 1) > c->end)
			return PW_PARSE_MALFORMED;
		if (ip6h->version != 6)
			return PW_PARSE_MALFORMED;
		*daddr = &ip6h->daddr;
		return PW_PARSE_IPV6;
	}
	return PW_PARSE_NON_IP;
}

/* At most this many IPv6 extension headers are walked; behind more, the class is "other". */
#define PW_MAX_EXT_HDRS 6

#define PW_IPPROTO_HOPOPTS 0
#define PW_IPPROTO_ICMP 1
#define PW_IPPROTO_TCP 6
#define PW_IPPROTO_UDP 17
#define PW_IPPROTO_ROUTING 43
#define PW_IPPROTO_FRAGMENT 44
#define PW_IPPROTO_AH 51
#define PW_IPPROTO_ICMPV6 58
#define PW_IPPROTO_DSTOPTS 60

#define PW_TCP_SYN 0x02
#define PW_TCP_RST 0x04
#define PW_TCP_ACK 0x10

/* What the anatomy needs of a packet beyond its destination. */
struct pw_l4 {
	void *saddr;	 /* the source address (4 or 16 bytes), in the packet */
	__u32 frag_id;	 /* IP identification of a fragment (IPv4: 16 bits) */
	__u16 sport;	 /* TCP or UDP source port, host order; valid when has_port */
	__u8 pclass;	 /* enum pw_proto */
	__u8 ipproto;	 /* upper-layer protocol */
	__u8 has_port;
	__u8 first_frag; /* offset 0 with more fragments to come */
};

struct pw_ip6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in 8-byte units << 3, M flag in bit 0 */
	__be32 id;
};

/*
 * Class of the upper-layer header at @l4h for protocol l4->ipproto, reading its ports and
 * TCP flags when they are there. A TCP header cut before its flags is tcp-other and a UDP
 * header cut before its ports carries no port: the frame's IP header was whole, so it is
 * still counted at its prefix.
 */
static __always_inline void pw_class_upper(void *l4h, void *end, struct pw_l4 *l4)
{
	__u8 *h = l4h;

	switch (l4->ipproto) {
	case PW_IPPROTO_TCP:
		l4->pclass = PW_PROTO_TCP_OTHER;
		if (h + 14 > (__u8 *)end)
			return;
		l4->sport = (__u16)(h[0] << 8 | h[1]);
		l4->has_port = 1;
		if (h[13] & PW_TCP_SYN)
			l4->pclass = h[13] & PW_TCP_ACK ? PW_PROTO_TCP_SYNACK : PW_PROTO_TCP_SYN;
		else if (h[13] & PW_TCP_RST)
			l4->pclass = PW_PROTO_TCP_RST;
		else if (h[13] & PW_TCP_ACK)
			l4->pclass = PW_PROTO_TCP_ACK;
		return;
	case PW_IPPROTO_UDP:
		l4->pclass = PW_PROTO_UDP;
		if (h + 2 > (__u8 *)end)
			return;
		l4->sport = (__u16)(h[0] << 8 | h[1]);
		l4->has_port = 1;
		return;
	case PW_IPPROTO_ICMP:
	case PW_IPPROTO_ICMPV6:
		l4->pclass = PW_PROTO_ICMP;
		return;
	default:
		l4->pclass = PW_PROTO_OTHER;
		return;
	}
}

static __always_inline int pw_is_ext6(__u8 nh)
{
	return nh == PW_IPPROTO_HOPOPTS || nh == PW_IPPROTO_ROUTING || nh == PW_IPPROTO_DSTOPTS ||
	       nh == PW_IPPROTO_AH || nh == PW_IPPROTO_FRAGMENT;
}

/* What pw_walk_ext6() found behind a chain of IPv6 extension headers. */
struct pw_ext6 {
	__u32 off;	 /* offset in the frame of the header after the chain */
	__u32 frag_id;	 /* identification of a fragment header */
	__u8 nh;	 /* the protocol of that header */
	__u8 pclass;	 /* PW_PROTO_FRAGMENT, PW_PROTO_OTHER (too many headers), or 0xff */
	__u8 first_frag; /* offset 0 with more fragments to come */
	__u8 pad;
};

#define PW_EXT6_UPPER 0xff
#define PW_MAX_L4_OFF 0x3fff

/**
 * pw_walk_ext6() - walk the IPv6 extension headers (hop-by-hop, routing, destination
 * options, fragment, AH) of the frame of @ctx from offset @off, where a header of protocol
 * @nh starts; at most PW_MAX_EXT_HDRS of them. Fills @x: a non-first fragment is
 * PW_PROTO_FRAGMENT, a chain longer than walked PW_PROTO_OTHER, and otherwise the upper
 * layer, @x->nh at @x->off, is the caller's to classify (PW_EXT6_UPPER). Returns 0, or -1
 * when a header is cut short by the end of the frame (the frame is then malformed).
 *
 * A global function: the verifier checks it once, on its own, and not again for every
 * state of the program that calls it (unrolled in line, the walk made loading the program
 * take 190,000 instructions of verification instead of about 20,000). Only frames with an
 * extension header call it, so the common path pays nothing for it.
 */
__noinline int pw_walk_ext6(struct xdp_md *ctx, __u32 off, __u32 nh, struct pw_ext6 *x)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (!x)
		return -1;
	x->pclass = PW_EXT6_UPPER;
	x->first_frag = 0;
	x->frag_id = 0;
	/* Unrolled: a constant bound for the verifier. */
#pragma unroll
	for (int i = 0; i < PW_MAX_EXT_HDRS; i++) {
		__u8 *h;

		/* An offset, bounded again at each header, so that the verifier can follow
		 * the packet pointer made from it. Six headers never reach the bound: at
		 * most 62 + 6 x 2048 bytes (Ethernet, two tags, IPv6, and the longest
		 * header, 256 x 8), so no frame is cut by it. */
		if (off > PW_MAX_L4_OFF)
			return -1;
		h = data + off;
		if (nh == PW_IPPROTO_HOPOPTS || nh == PW_IPPROTO_ROUTING ||
		    nh == PW_IPPROTO_DSTOPTS || nh == PW_IPPROTO_AH) {
			if ((void *)(h + 2) > end)
				return -1;
			/* AH counts its length in 4-byte words less 2, the others in
			 * 8-byte words less 1 (RFC 4302, RFC 8200). */
			off += nh == PW_IPPROTO_AH ? ((__u32)h[1] + 2) * 4 : ((__u32)h[1] + 1) * 8;
			nh = h[0];
		} else if (nh == PW_IPPROTO_FRAGMENT) {
			struct pw_ip6_frag *fh = (void *)h;
			__u16 fo;

			if ((void *)(fh + 1) > end)
				return -1;
			fo = bpf_ntohs(fh->frag_off);
			x->frag_id = bpf_ntohl(fh->id);
			nh = fh->nexthdr;
			off += sizeof(*fh);
			if (fo & 0xfff8) {
				x->pclass = PW_PROTO_FRAGMENT;
				break;
			}
			x->first_frag = fo & 1;
		} else {
			break;
		}
	}
	/* A header must end inside the frame, as the walk in line required. */
	if (off > PW_MAX_L4_OFF || data + off > end)
		return -1;
	/* More extension headers than walked: no upper layer in sight. */
	if (x->pclass == PW_EXT6_UPPER && pw_is_ext6(nh))
		x->pclass = PW_PROTO_OTHER;
	x->nh = nh;
	x->off = off;
	return 0;
}

/**
 * pw_parse_l4() - the protocol class of an IP packet of the frame of @ctx whose header
 * pw_parse_frame() found at @c->pos (@r: PW_PARSE_IPV4 or PW_PARSE_IPV6).
 *
 * IPv6 extension headers are walked by pw_walk_ext6(). Returns 0, or -1 when an extension
 * header is cut short by the end of the frame (the frame is then malformed).
 */
static __always_inline int pw_parse_l4(struct xdp_md *ctx, struct pw_cursor *c,
				       enum pw_parse_result r, struct pw_l4 *l4)
{
	if (r == PW_PARSE_IPV4) {
		struct iphdr *iph = c->pos;
		__u16 frag;

		if ((void *)(iph + 1) > c->end)
			return -1;
		l4->saddr = &iph->saddr;
		l4->ipproto = iph->protocol;
		/* Flags and offset tested in network order: no byte swap on the hot path. */
		frag = iph->frag_off;
		l4->frag_id = bpf_ntohs(iph->id);
		if (frag & bpf_htons(0x1fff)) {
			l4->pclass = PW_PROTO_FRAGMENT;
			return 0;
		}
		l4->first_frag = !!(frag & bpf_htons(0x2000));
		pw_class_upper(c->pos + iph->ihl * 4, c->end, l4);
		return 0;
	} else {
		struct ipv6hdr *ip6h = c->pos;
		void *pos = ip6h + 1;
		__u8 nh;

		if (pos > c->end)
			return -1;
		l4->saddr = &ip6h->saddr;
		nh = ip6h->nexthdr;
		/* Most packets have no extension header: classify those in line. */
		if (pw_is_ext6(nh)) {
			void *data = (void *)(long)ctx->data;
			struct pw_ext6 x = {};

			if (pw_walk_ext6(ctx, (__u32)(pos - data), nh, &x))
				return -1;
			l4->frag_id = x.frag_id;
			l4->first_frag = x.first_frag;
			l4->ipproto = x.nh;
			if (x.pclass != PW_EXT6_UPPER) {
				l4->pclass = x.pclass;
				return 0;
			}
			if (x.off > PW_MAX_L4_OFF)
				return -1;
			/* Packet pointers from here on come from the frame's start again. */
			data = (void *)(long)ctx->data;
			pw_class_upper(data + x.off, (void *)(long)ctx->data_end, l4);
			return 0;
		}
		l4->ipproto = nh;
		pw_class_upper(pos, c->end, l4);
		return 0;
	}
}

#endif /* PW_PARSE_H */
