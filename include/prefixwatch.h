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

/* Number of prefix tables per family: one is live, the other is filled on reload. */
#define PW_TABLES 2

/* Map names, as pinned under the pin directory. */
#define PW_MAP_COUNTERS "pw_counters"
#define PW_MAP_CLASSES "pw_classes"
#define PW_MAP_IFACES "pw_ifaces"
#define PW_MAP_ACTIVE "pw_active"
#define PW_MAP_V4_0 "pw_v4_0"
#define PW_MAP_V4_1 "pw_v4_1"
#define PW_MAP_V6_0 "pw_v6_0"
#define PW_MAP_V6_1 "pw_v6_1"

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

/* LPM trie keys: prefix length in bits, then the address in network byte order. */
struct pw_key_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct pw_key_v6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Value of a prefix table entry: the index of the prefix's counter in pw_counters. */
struct pw_prefix_id {
	__u32 id;
};

_Static_assert(sizeof(struct pw_counter) == 16, "pw_counter layout");
_Static_assert(sizeof(struct pw_key_v4) == 8, "pw_key_v4 layout");
_Static_assert(sizeof(struct pw_key_v6) == 20, "pw_key_v6 layout");
_Static_assert(sizeof(struct pw_prefix_id) == 4, "pw_prefix_id layout");

#endif /* PREFIXWATCH_H */
