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

#endif /* PW_PARSE_H */
