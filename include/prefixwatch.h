/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * prefixwatch.h - shared by the BPF program (bpf/) and userspace (user/, tests/).
 *
 * Everything both sides must agree on lives here and only here: map value and key
 * layouts, limits and map names. Only <linux/types.h> types, explicit padding.
 */
#ifndef PREFIXWATCH_H
#define PREFIXWATCH_H

#include <linux/types.h>

/* Compiled-in capacity of the maps; userspace may lower it before load. */
#define PW_MAX_PREFIXES_V4 (1U << 20)	  /* 1,048,576 IPv4 prefixes */
#define PW_MAX_PREFIXES_V6 (1U << 18)	  /* 262,144 IPv6 prefixes */
#define PW_MAX_IDS (PW_MAX_PREFIXES_V4 + PW_MAX_PREFIXES_V6)
#define PW_MAX_IFACES 64
/* Interfaces with an ifindex below this are counted in an array slot (an inlined lookup);
 * above it, in a hash keyed by ifindex. */
#define PW_IFACE_SLOTS 4096

/* Number of prefix tables per family: one is live, the other is filled on reload. */
#define PW_TABLES 2

/* Map names, as pinned under the pin directory. */
#define PW_MAP_COUNTERS "pw_counters"
#define PW_MAP_CLASSES "pw_classes"
#define PW_MAP_IFACES "pw_ifaces"
#define PW_MAP_IFACES_BIG "pw_ifaces_big"
#define PW_MAP_ACTIVE "pw_active"
#define PW_MAP_V4_0 "pw_v4_0"
#define PW_MAP_V4_1 "pw_v4_1"
#define PW_MAP_V6_0 "pw_v6_0"
#define PW_MAP_V6_1 "pw_v6_1"
#define PW_MAP_ANATOMY "pw_anatomy"
#define PW_MAP_SAMPLES "pw_samples"
#define PW_MAP_SAMPLE_HEAD "pw_sample_head"
#define PW_MAP_FRAG_PORTS "pw_frag_ports"

/* A packet and byte count: the value of every counter map (per CPU). */
struct pw_counter {
	__u64 packets;
	__u64 bytes;
};

/*
 * Where a frame that matched no prefix is counted: the index into pw_classes.
 * Together with pw_counters this partitions every frame: each is counted exactly
 * once, at a prefix id or in one of these classes.
 */
enum pw_class {
	PW_CLASS_UNMATCHED_V4 = 0, /* IPv4, destination in no configured prefix */
	PW_CLASS_UNMATCHED_V6 = 1, /* IPv6, destination in no configured prefix */
	PW_CLASS_NON_IP = 2,	   /* neither IPv4 nor IPv6 after at most two VLAN tags */
	PW_CLASS_MALFORMED = 3,	   /* shorter than a header it announces, or bad IP header */
	PW_CLASS_MAX = 4,
};

/*
 * Protocol classes (flood anatomy): every frame counted at a prefix id is also counted in
 * exactly one of these, in pw_anatomy at the id's anatomy slot. TCP is classed by its
 * flags: SYN without ACK (whatever else is set), SYN with ACK, RST without SYN, ACK without
 * SYN or RST, anything else. A non-first fragment (IPv4 offset > 0, or an IPv6 fragment
 * header with offset > 0) is PW_PROTO_FRAGMENT whatever it carries; a first fragment is
 * classed by its upper-layer header like an unfragmented packet.
 */
enum pw_proto {
	PW_PROTO_TCP_SYN = 0,
	PW_PROTO_TCP_SYNACK = 1,
	PW_PROTO_TCP_RST = 2,
	PW_PROTO_TCP_ACK = 3,
	PW_PROTO_TCP_OTHER = 4,
	PW_PROTO_UDP = 5,
	PW_PROTO_ICMP = 6,     /* ICMP and ICMPv6 */
	PW_PROTO_FRAGMENT = 7, /* non-first fragments, IPv4 and IPv6 */
	PW_PROTO_OTHER = 8,
	PW_PROTOS = 9,
};

/*
 * Anatomy slots. Userspace gives every prefix the slot of the set of groups its packets
 * count for, and writes it into the prefix's table entry beside its counter id (PW_REF),
 * so the lookup that finds the id finds the slot too; pw_anatomy holds, per CPU, a
 * pw_counter per (slot, class) at slot * PW_PROTOS + class. Slot 0 is for prefixes no
 * group reads. So the per-CPU cost is PW_MAX_SLOTS * PW_PROTOS * 16 bytes (72 KiB)
 * whatever the number of prefixes, and a prefix costs nothing more.
 */
#define PW_MAX_SLOTS 512

/*
 * Samples for the top source ports and targets: one packet in 2^PW_SAMPLE_SHIFT of each
 * (slot, class, CPU) counter is written to a per-CPU ring of PW_SAMPLE_RING samples
 * (pw_samples, the next index in pw_sample_head), which userspace reads after each poll.
 */
#define PW_SAMPLE_RING 1024
#define PW_SAMPLE_SHIFT 6

/* pw_sample.flags */
#define PW_SAMPLE_PORT 1U	    /* sport holds the packet's (or its datagram's) source port */
#define PW_SAMPLE_PORT_FROM_FRAG 2U /* a non-first fragment, port from its first fragment */

struct pw_sample {
	__u8 daddr[16]; /* IPv4: the first 4 bytes */
	__u32 seq;	/* the ring's count after this sample was written; 0: never written */
	__u32 bytes;
	__u16 slot;
	__u16 sport;   /* host order */
	__u8 family;   /* 4 or 6 */
	__u8 pclass;   /* enum pw_proto */
	__u8 ipproto;  /* upper-layer protocol (of a fragment: of its datagram) */
	__u8 flags;
};

/* Key of pw_frag_ports: a datagram, by (source, destination, IP identification). */
struct pw_frag_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 id;
};

/*
 * Prefix tables: a multibit trie in a BPF array, one per family and copy (pw_v4_0 ...).
 *
 * The array holds units of PW_UNIT_ENTRIES u32 entries, a cache line each. The first
 * units are the first level, indexed by the address's top L1 bits: for IPv4 PW_L1_BITS
 * (4 MB), or for tables of at least PW_V4_L1_LARGE_MIN prefixes PW_V4_L1_BITS_LARGE
 * (DIR-24: every IPv4 prefix up to /24 is then found in one read); for IPv6 PW_V6_L1_BITS
 * (4 MB). A 20-bit first level finds every prefix longer than /20 in one read fewer than
 * a 16-bit one did, and costs no more: one unit fewer a prefix of capacity pays for it.
 * Every level under it is one unit, indexed by the address's next PW_STRIDE bits. An
 * entry is PW_ENTRY_NONE (no prefix holds the addresses under it), PW_ENTRY_NEXT | u (look
 * further, in unit u), or a prefix's reference + 1 (PW_REF: its counter id and anatomy
 * slot): the most specific prefix holding every address under the entry (a prefix is
 * expanded to the level it ends in, longest prefixes last). A lookup reads one entry per
 * level and stops at the first that is not PW_ENTRY_NEXT: for IPv4 1 to 4 (2 for a /24;
 * with DIR-24 1 to 3), for IPv6 1 to 28 (4 for a /32, 8 for a /48).
 */
#define PW_L1_BITS 20
#define PW_V6_L1_BITS 20
#define PW_V4_L1_BITS_LARGE 24
#define PW_V4_L1_LARGE_MIN (1U << 19)
#define PW_STRIDE 4
#define PW_UNIT_ENTRIES (1U << PW_STRIDE)
#define PW_L1_UNITS ((1U << PW_L1_BITS) / PW_UNIT_ENTRIES)
#define PW_ENTRY_NONE 0U
#define PW_ENTRY_NEXT 0x80000000U

/*
 * What a table holds for a prefix, less one, and what a lookup returns: a reference of
 * its counter id (the low PW_REF_ID_BITS bits) and its anatomy slot (the bits above,
 * under PW_ENTRY_NEXT). Every id is below PW_MAX_IDS and every slot below PW_MAX_SLOTS,
 * so the id + 1 of an entry never carries into the slot.
 */
#define PW_REF_ID_BITS 21
#define PW_REF_ID_MASK ((1U << PW_REF_ID_BITS) - 1)
#define PW_REF(id, slot) ((__u32)(id) | (__u32)(slot) << PW_REF_ID_BITS)
#define PW_REF_ID(ref) ((ref) & PW_REF_ID_MASK)
#define PW_REF_SLOT(ref) ((ref) >> PW_REF_ID_BITS)

/* A unit of a prefix table: one level of one trie node. */
struct pw_unit {
	__u32 e[PW_UNIT_ENTRIES];
};

_Static_assert(sizeof(struct pw_counter) == 16, "pw_counter layout");
_Static_assert(sizeof(struct pw_unit) == 64, "pw_unit layout");
_Static_assert(sizeof(struct pw_sample) == 32, "pw_sample layout");
_Static_assert(sizeof(struct pw_frag_key) == 36, "pw_frag_key layout");
_Static_assert(PW_MAX_IDS < PW_REF_ID_MASK, "an id + 1 fits below the slot");
_Static_assert(((PW_MAX_SLOTS - 1ULL) << PW_REF_ID_BITS) < PW_ENTRY_NEXT, "a slot fits under NEXT");

#endif /* PREFIXWATCH_H */
