/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lookup.h - destination address to prefix reference: the one interface the XDP program uses
 * to find which configured prefix a packet belongs to: its counter id and anatomy slot.
 *
 * Each family has PW_TABLES multibit tries (layout in prefixwatch.h); pw_active names the
 * live one. A lookup reads one entry per level of 4 bits under a first level of 20 bits
 * (24 for large IPv4 tables), so the number of reads depends on the length of the
 * matching prefix, not on the number of prefixes; the BPF LPM trie's grows with the
 * table (make bench: 83 ns a lookup at 1k IPv4 prefixes, 1.9 us at 1M). A reload fills
 * the idle table and then flips pw_active with one map update, so every packet sees either
 * the whole old prefix set or the whole new one, never a mix.
 */
#ifndef PW_LOOKUP_H
#define PW_LOOKUP_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "prefixwatch.h"

/*
 * Sized by userspace before load (the first level plus a pool of units for the levels
 * under it) and filled through mmap, hence BPF_F_MMAPABLE.
 */
#define PW_TRIE_MAP(name)                                                                  \
	struct {                                                                           \
		__uint(type, BPF_MAP_TYPE_ARRAY);                                          \
		__type(key, __u32);                                                        \
		__type(value, struct pw_unit);                                             \
		__uint(max_entries, PW_L1_UNITS);                                          \
		__uint(map_flags, BPF_F_MMAPABLE);                                         \
	} name SEC(".maps")

/* IPv4 prefix tables: address -> PW_REF (id and slot); written by userspace only. */
PW_TRIE_MAP(pw_v4_0);
PW_TRIE_MAP(pw_v4_1);
/* IPv6 prefix tables: address -> PW_REF (id and slot); written by userspace only. */
PW_TRIE_MAP(pw_v6_0);
PW_TRIE_MAP(pw_v6_1);

/* Index (0 or 1) of the live table of both families; written by userspace on reload. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} pw_active SEC(".maps");

/* First-level bits of the IPv4 tables, 20 or 24; set by userspace before load. */
const volatile __u32 pw_v4_l1_bits = PW_L1_BITS;

static __always_inline __u32 pw_active_table(void)
{
	__u32 zero = 0;
	__u32 *active = bpf_map_lookup_elem(&pw_active, &zero);

	return active ? *active : 0;
}

/* Entry @slot of unit @unit of @table (no match when out of the array). */
static __always_inline __u32 pw_entry(void *table, __u32 unit, __u32 slot)
{
	struct pw_unit *u = bpf_map_lookup_elem(table, &unit);

	return u ? u->e[slot % PW_UNIT_ENTRIES] : PW_ENTRY_NONE;
}

/* The PW_STRIDE (4) bits of address @a from bit @off, a multiple of 4. */
static __always_inline __u32 pw_nibble(const __u8 *a, unsigned int off)
{
	return off % 8 ? a[off / 8] & 0xf : a[off / 8] >> 4;
}

/*
 * pw_walk() - the reference (PW_REF) in @table, whose first level has @l1_bits bits, of
 * the most specific prefix holding the @bits-bit address @a; 0 on a match, -1 otherwise.
 *
 * Called with constants for all but @a and @ref, once per table and first-level size, so
 * that each map lookup sees one map and the verifier inlines it (a lookup shared by two
 * maps stays a helper call). The loop is unrolled without an early exit (clang cannot
 * unroll one with a break): once a leaf is read, the remaining levels only test a flag.
 */
static __always_inline int pw_walk(void *table, const __u8 *a, unsigned int l1_bits,
				   unsigned int bits, __u32 *ref)
{
	/* The first level has 24 bits (large IPv4 tables) or 20. */
	__u32 top = l1_bits == 24 ? (__u32)a[0] << 16 | (__u32)a[1] << 8 | a[2] :
				    (__u32)a[0] << 12 | (__u32)a[1] << 4 | a[2] >> 4;
	__u32 e = pw_entry(table, top / PW_UNIT_ENTRIES, top);

#pragma unroll
	for (unsigned int off = l1_bits; off < bits; off += PW_STRIDE)
		if (e & PW_ENTRY_NEXT)
			e = pw_entry(table, e & ~PW_ENTRY_NEXT, pw_nibble(a, off));
	/* The last level holds no pointer; were one there, it would be no match. */
	if (e == PW_ENTRY_NONE || (e & PW_ENTRY_NEXT))
		return -1;
	*ref = e - 1;
	return 0;
}

/**
 * pw_lookup_v4() - reference (PW_REF) of the most specific IPv4 prefix holding @daddr.
 * Returns 0 and sets @ref on a match, -1 when no prefix holds the address.
 */
static __always_inline int pw_lookup_v4(const void *daddr, __u32 *ref)
{
	/* The verifier knows pw_v4_l1_bits and drops the walks of the other size. */
	if (pw_v4_l1_bits == PW_V4_L1_BITS_LARGE) {
		if (pw_active_table())
			return pw_walk(&pw_v4_1, daddr, PW_V4_L1_BITS_LARGE, 32, ref);
		return pw_walk(&pw_v4_0, daddr, PW_V4_L1_BITS_LARGE, 32, ref);
	}
	if (pw_active_table())
		return pw_walk(&pw_v4_1, daddr, PW_L1_BITS, 32, ref);
	return pw_walk(&pw_v4_0, daddr, PW_L1_BITS, 32, ref);
}

/**
 * pw_lookup_v6() - reference (PW_REF) of the most specific IPv6 prefix holding @daddr.
 * Returns 0 and sets @ref on a match, -1 when no prefix holds the address.
 */
static __always_inline int pw_lookup_v6(const void *daddr, __u32 *ref)
{
	if (pw_active_table())
		return pw_walk(&pw_v6_1, daddr, PW_V6_L1_BITS, 128, ref);
	return pw_walk(&pw_v6_0, daddr, PW_V6_L1_BITS, 128, ref);
}

#endif /* PW_LOOKUP_H */
