/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * frames.h - build test frames from packed header structs, layer by layer.
 *
 *	struct frame f;
 *	frame_eth(&f, ETH_P_8021Q);
 *	frame_vlan(&f, 100, ETH_P_IP);
 *	frame_ipv4(&f, "10.1.2.3", 5, 0);
 *	frame_pad(&f, 60);
 */
#ifndef PW_TEST_FRAMES_H
#define PW_TEST_FRAMES_H

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FRAME_MAX 16384

struct frame {
	uint8_t data[FRAME_MAX];
	size_t len;
};

struct vlan_tag {
	uint16_t tci;
	uint16_t proto;
} __attribute__((packed));

static inline void *frame_put(struct frame *f, size_t n)
{
	void *p = f->data + f->len;

	memset(p, 0, n);
	f->len += n;
	return p;
}

static inline void frame_eth(struct frame *f, uint16_t proto)
{
	struct ethhdr *eth;

	f->len = 0;
	eth = frame_put(f, sizeof(*eth));
	memcpy(eth->h_dest, "\x02\x00\x00\x00\x00\x02", ETH_ALEN);
	memcpy(eth->h_source, "\x02\x00\x00\x00\x00\x01", ETH_ALEN);
	eth->h_proto = htons(proto);
}

static inline void frame_vlan(struct frame *f, uint16_t vid, uint16_t next_proto)
{
	struct vlan_tag *t = frame_put(f, sizeof(*t));

	t->tci = htons(vid);
	t->proto = htons(next_proto);
}

/* The Internet checksum of @len bytes, as stored in the IPv4 header. */
static inline uint16_t frame_csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/*
 * The IP headers are built aligned and copied in: behind a 14-byte Ethernet header they sit
 * at 2 modulo 4 in the frame, where using them as structs is undefined (UBSan says so).
 */

/* IPv4 header of @ihl words (options filled with NOPs), UDP payload of 8 bytes. */
static inline void frame_ipv4(struct frame *f, const char *dst, unsigned int ihl,
			      uint16_t frag_off)
{
	unsigned int hlen = (ihl < 5 ? 5 : ihl) * 4;
	uint8_t *p = frame_put(f, hlen);
	struct iphdr ip = { 0 };

	ip.version = 4;
	ip.ihl = ihl & 0xf;
	ip.ttl = 64;
	ip.protocol = 17;
	ip.tot_len = htons((uint16_t)(hlen + 8));
	ip.frag_off = htons(frag_off);
	inet_pton(AF_INET, "192.0.2.200", &ip.saddr);
	inet_pton(AF_INET, dst, &ip.daddr);
	memcpy(p, &ip, sizeof(ip));
	memset(p + sizeof(ip), 1 /* NOP */, hlen - sizeof(ip));
	ip.check = frame_csum(p, hlen);
	memcpy(p + offsetof(struct iphdr, check), &ip.check, sizeof(ip.check));
	frame_put(f, 8);
}

static inline void frame_ipv6(struct frame *f, const char *dst)
{
	uint8_t *p = frame_put(f, sizeof(struct ipv6hdr));
	struct ipv6hdr ip6 = { 0 };

	ip6.version = 6;
	ip6.payload_len = htons(8);
	ip6.nexthdr = 17;
	ip6.hop_limit = 64;
	inet_pton(AF_INET6, "2001:db8:ffff::200", &ip6.saddr);
	inet_pton(AF_INET6, dst, &ip6.daddr);
	memcpy(p, &ip6, sizeof(ip6));
	frame_put(f, 8);
}

/*
 * An IPv4 header (20 bytes) carrying @proto with no payload yet: add one with frame_tcp(),
 * frame_udp(), frame_icmp() or frame_put(). Lengths are not fixed up: the program reads none.
 */
static inline void frame_ipv4_proto(struct frame *f, const char *src, const char *dst,
				    uint8_t proto, uint16_t frag_off, uint16_t id)
{
	uint8_t *p = frame_put(f, sizeof(struct iphdr));
	struct iphdr ip = { 0 };

	ip.version = 4;
	ip.ihl = 5;
	ip.ttl = 64;
	ip.protocol = proto;
	ip.id = htons(id);
	ip.tot_len = htons(20);
	ip.frag_off = htons(frag_off);
	inet_pton(AF_INET, src, &ip.saddr);
	inet_pton(AF_INET, dst, &ip.daddr);
	ip.check = frame_csum(&ip, sizeof(ip));
	memcpy(p, &ip, sizeof(ip));
}

/* An IPv6 header whose next header is @nexthdr. */
static inline void frame_ipv6_nh(struct frame *f, const char *src, const char *dst,
				 uint8_t nexthdr)
{
	uint8_t *p = frame_put(f, sizeof(struct ipv6hdr));
	struct ipv6hdr ip6 = { 0 };

	ip6.version = 6;
	ip6.nexthdr = nexthdr;
	ip6.hop_limit = 64;
	inet_pton(AF_INET6, src, &ip6.saddr);
	inet_pton(AF_INET6, dst, &ip6.daddr);
	memcpy(p, &ip6, sizeof(ip6));
}

/*
 * An IPv6 extension header of @units 8-byte units (hop-by-hop 0, routing 43, destination
 * options 60; for AH 51 the length field counts 4-byte units less 2, so @units 8-byte units
 * are written as 2 * units - 2).
 */
static inline void frame_ext6(struct frame *f, uint8_t type, uint8_t nexthdr, unsigned int units)
{
	uint8_t *p = frame_put(f, units * 8);

	p[0] = nexthdr;
	p[1] = (uint8_t)(type == 51 ? 2 * units - 2 : units - 1);
	if (type != 51 && units * 8 >= 8) {
		p[2] = 1; /* PadN over the rest */
		p[3] = (uint8_t)(units * 8 - 4);
	}
}

/* An IPv6 fragment header: offset in bytes (a multiple of 8), M flag @more. */
static inline void frame_frag6(struct frame *f, uint8_t nexthdr, uint16_t offset, int more,
			       uint32_t id)
{
	uint8_t *p = frame_put(f, 8);
	uint16_t off = htons((uint16_t)(offset | (more ? 1 : 0)));
	uint32_t nid = htonl(id);

	p[0] = nexthdr;
	memcpy(p + 2, &off, 2);
	memcpy(p + 4, &nid, 4);
}

/* TCP header (20 bytes) with @flags (byte 13). */
static inline void frame_tcp(struct frame *f, uint16_t sport, uint8_t flags)
{
	uint8_t *p = frame_put(f, 20);
	uint16_t sp = htons(sport), dp = htons(80);

	memcpy(p, &sp, 2);
	memcpy(p + 2, &dp, 2);
	p[12] = 5 << 4;
	p[13] = flags;
}

static inline void frame_udp(struct frame *f, uint16_t sport)
{
	uint8_t *p = frame_put(f, 8);
	uint16_t sp = htons(sport), dp = htons(4444);

	memcpy(p, &sp, 2);
	memcpy(p + 2, &dp, 2);
}

static inline void frame_icmp(struct frame *f, uint8_t type)
{
	uint8_t *p = frame_put(f, 8);

	p[0] = type;
}

/* Zero-pad to @len bytes (never shortens). */
static inline void frame_pad(struct frame *f, size_t len)
{
	if (f->len < len)
		frame_put(f, len - f->len);
}

#endif /* PW_TEST_FRAMES_H */
