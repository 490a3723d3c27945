/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * count.h - the counter maps and how the XDP program adds to them.
 *
 * All counters are per-CPU arrays (or a per-CPU hash for interfaces): each CPU owns its
 * copy of a value, so a plain add is race-free without atomics or locks, and the hot path
 * never bounces a cache line between cores. Userspace sums the copies when it reads.
 */
#ifndef PW_COUNT_H
#define PW_COUNT_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "prefixwatch.h"

/* Per prefix id: packets and bytes to the most specific matching prefix; written here. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct pw_counter);
	__uint(max_entries, PW_MAX_IDS);
} pw_counters SEC(".maps");

/* Per enum pw_class: frames that matched no prefix; written here. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct pw_counter);
	__uint(max_entries, PW_CLASS_MAX);
} pw_classes SEC(".maps");

/*
 * Per ingress ifindex: every frame seen there; written here. An array indexed by the
 * ifindex itself, because the verifier inlines an array lookup into a few instructions
 * where a hash lookup costs a function call and a hash (about 17 ns per packet measured).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct pw_counter);
	__uint(max_entries, PW_IFACE_SLOTS);
} pw_ifaces SEC(".maps");

/* The same for the rare ifindex beyond the array; keys inserted by userspace on attach. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, __u32);
	__type(value, struct pw_counter);
	__uint(max_entries, PW_MAX_IFACES);
} pw_ifaces_big SEC(".maps");

static __always_inline void pw_add(struct pw_counter *c, __u64 bytes)
{
	if (!c)
		return;
	c->packets++;
	c->bytes += bytes;
}

static __always_inline void pw_count_id(__u32 id, __u64 bytes)
{
	pw_add(bpf_map_lookup_elem(&pw_counters, &id), bytes);
}

static __always_inline void pw_count_class(__u32 class, __u64 bytes)
{
	pw_add(bpf_map_lookup_elem(&pw_classes, &class), bytes);
}

static __always_inline void pw_count_iface(__u32 ifindex, __u64 bytes)
{
	if (ifindex < PW_IFACE_SLOTS)
		pw_add(bpf_map_lookup_elem(&pw_ifaces, &ifindex), bytes);
	else
		pw_add(bpf_map_lookup_elem(&pw_ifaces_big, &ifindex), bytes);
}

#endif /* PW_COUNT_H */
