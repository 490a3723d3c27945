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
#include "parse.h"

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

/* Per (slot, enum pw_proto) at slot * PW_PROTOS + class: the class counters; written here. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct pw_counter);
	__uint(max_entries, PW_MAX_SLOTS * PW_PROTOS);
} pw_anatomy SEC(".maps");

/*
 * The sample ring of each CPU, and its count of samples written (the next index modulo
 * PW_SAMPLE_RING); written here, read by userspace after each poll. A per-CPU array, not a
 * BPF ring buffer: a sample is two inlined array lookups and a 32-byte store, no helper
 * call, no reservation shared between CPUs, and the memory is fixed (PW_SAMPLE_RING * 32
 * bytes per CPU). What it gives up: when more than PW_SAMPLE_RING packets are sampled on a
 * CPU between two polls, only the latest are read, a subsample of the interval.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct pw_sample);
	__uint(max_entries, PW_SAMPLE_RING);
} pw_samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} pw_sample_head SEC(".maps");

/*
 * The source port of UDP datagrams sent in fragments, by (source, destination, IP id):
 * written here for every first fragment of a UDP datagram to a counted prefix, read for
 * sampled non-first fragments, which carry no port of their own. An LRU: old datagrams
 * fall out by themselves; its cost falls on fragmented UDP only.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct pw_frag_key);
	__type(value, __u32);
	__uint(max_entries, 4096);
} pw_frag_ports SEC(".maps");

/*
 * One packet in 2^PW_SAMPLE_SHIFT of each (slot, class) counter of a CPU is sampled: a
 * constant, so that the hot path tests the count against an immediate mask.
 */
#define PW_SAMPLE_MASK ((1ULL << PW_SAMPLE_SHIFT) - 1)

/*
 * What the hot path keeps of a packet's anatomy, in one register: its class (enum
 * pw_proto), and PW_ANAT_FIRST_UDP_FRAG for the first fragment of a UDP datagram.
 */
#define PW_ANAT_CLASS	       0xffU
#define PW_ANAT_FIRST_UDP_FRAG 0x100U

static __always_inline __u32 pw_anat_code(const struct pw_l4 *l4)
{
	return l4->pclass |
	       (l4->first_frag && l4->ipproto == PW_IPPROTO_UDP ? PW_ANAT_FIRST_UDP_FRAG : 0);
}

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

static __always_inline void pw_frag_key(struct pw_frag_key *k, const void *saddr,
					const void *daddr, __u32 id, int v6)
{
	__builtin_memset(k, 0, sizeof(*k));
	if (v6) {
		__builtin_memcpy(k->saddr, saddr, 16);
		__builtin_memcpy(k->daddr, daddr, 16);
	} else {
		__builtin_memcpy(k->saddr, saddr, 4);
		__builtin_memcpy(k->daddr, daddr, 4);
	}
	k->id = id;
}

/*
 * The rare paths are out of line and parse the frame again from @ctx: the hot path then
 * keeps only the class of the packet live, not its addresses and ports, and needs no
 * stack for them (measured: 3 ns a packet less than passing the parse result down).
 */
static __always_inline int pw_reparse(struct xdp_md *ctx, struct pw_l4 *l4, void **daddr)
{
	struct pw_cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	enum pw_parse_result r = pw_parse_frame(&c, daddr);

	if (r != PW_PARSE_IPV4 && r != PW_PARSE_IPV6)
		return -1;
	if (pw_parse_l4(ctx, &c, r, l4))
		return -1;
	return r == PW_PARSE_IPV6;
}

/*
 * The two rare paths are global functions: the verifier checks each once, on its own,
 * instead of again for every state of the hot path that calls it (that made loading
 * the program take 0.4 s of verification, 290,000 instructions, instead of 4,000).
 */

/* Remember the source port of the first fragment of a UDP datagram in @ctx. */
__noinline int pw_remember_port(struct xdp_md *ctx)
{
	struct pw_l4 l4 = {};
	struct pw_frag_key k;
	void *daddr = NULL;
	__u32 port;
	int v6 = pw_reparse(ctx, &l4, &daddr);

	if (v6 < 0 || !l4.has_port)
		return 0;
	port = l4.sport;
	pw_frag_key(&k, l4.saddr, daddr, l4.frag_id, v6);
	bpf_map_update_elem(&pw_frag_ports, &k, &port, BPF_ANY);
	return 0;
}

/* Write one sample of the packet in @ctx, counted in @slot; @bytes its length. */
__noinline int pw_sample(struct xdp_md *ctx, __u32 slot, __u32 bytes)
{
	struct pw_l4 l4 = {};
	struct pw_frag_key k;
	struct pw_sample *s;
	void *daddr = NULL;
	__u32 zero = 0, *head, idx;
	int v6 = pw_reparse(ctx, &l4, &daddr);

	if (v6 < 0)
		return 0;
	head = bpf_map_lookup_elem(&pw_sample_head, &zero);
	if (!head)
		return 0;
	idx = *head % PW_SAMPLE_RING;
	s = bpf_map_lookup_elem(&pw_samples, &idx);
	if (!s)
		return 0;
	*head += 1;
	__builtin_memset(s->daddr, 0, sizeof(s->daddr));
	if (v6)
		__builtin_memcpy(s->daddr, daddr, 16);
	else
		__builtin_memcpy(s->daddr, daddr, 4);
	s->seq = *head;
	s->bytes = bytes;
	s->slot = (__u16)slot;
	s->family = v6 ? 6 : 4;
	s->pclass = l4.pclass;
	s->ipproto = l4.ipproto;
	s->sport = l4.sport;
	s->flags = l4.has_port ? PW_SAMPLE_PORT : 0;
	if (l4.pclass == PW_PROTO_FRAGMENT && l4.ipproto == PW_IPPROTO_UDP) {
		__u32 *p;

		pw_frag_key(&k, l4.saddr, daddr, l4.frag_id, v6);
		p = bpf_map_lookup_elem(&pw_frag_ports, &k);
		if (p) {
			s->sport = (__u16)*p;
			s->flags = PW_SAMPLE_PORT | PW_SAMPLE_PORT_FROM_FRAG;
		}
	}
	return 0;
}

/**
 * pw_count_anatomy() - count a packet of @bytes in its class at anatomy @slot (from its
 * prefix's table entry); remember the port of a first UDP fragment, and sample. @code is
 * pw_anat_code() of the packet.
 */
static __always_inline void pw_count_anatomy(struct xdp_md *ctx, __u32 slot, __u64 bytes,
					     __u32 code)
{
	/* Userspace writes slots below PW_MAX_SLOTS; the array lookup bounds the key anyway. */
	__u32 key = slot * PW_PROTOS + (code & PW_ANAT_CLASS);
	struct pw_counter *c;
	__u64 n;

	c = bpf_map_lookup_elem(&pw_anatomy, &key);
	if (!c)
		return;
	n = c->packets + 1;
	c->packets = n;
	c->bytes += bytes;
	if (code & PW_ANAT_FIRST_UDP_FRAG)
		pw_remember_port(ctx);
	if (!(n & PW_SAMPLE_MASK))
		pw_sample(ctx, slot, (__u32)bytes);
}

static __always_inline void pw_count_iface(__u32 ifindex, __u64 bytes)
{
	if (ifindex < PW_IFACE_SLOTS)
		pw_add(bpf_map_lookup_elem(&pw_ifaces, &ifindex), bytes);
	else
		pw_add(bpf_map_lookup_elem(&pw_ifaces_big, &ifindex), bytes);
}

#endif /* PW_COUNT_H */
