// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench.bpf.c - the programs make bench measures the real XDP program against.
 *
 * The prefix tables and counters are the real program's own maps (lookup.h and count.h,
 * shared through bpf_map__reuse_fd), so the loops below run the real lookup and count
 * code on the real tables. What is only here: the floor programs, and the reference, a
 * BPF LPM trie per family holding the same prefixes with the same ids.
 *
 * hot:    xdp_pass and xdp_lpm run on one frame with a large repeat count, as the real
 *         program is; xdp_lpm is the real program with the LPM trie as its lookup.
 * spread: one run loops (bpf_loop) over 1M destinations drawn across the whole table:
 *         spread_pw_* looks each up and counts it as the real program does, spread_lpm_*
 *         the same with the LPM trie, and spread_floor only adds to the counter of a
 *         precomputed pseudo-random index in an array as large as pw_counters (the
 *         index of the prefix the destination was drawn from).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "prefixwatch.h"
#include "parse.h"
#include "lookup.h"
#include "count.h"
#include "frame.h"

struct lpm_key_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct lpm_key_v6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/* The reference tables: prefix -> counter id, as the old prefixwatch kept them. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct lpm_key_v4);
	__type(value, __u32);
	__uint(max_entries, PW_MAX_PREFIXES_V4);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} ref_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct lpm_key_v6);
	__type(value, __u32);
	__uint(max_entries, PW_MAX_PREFIXES_V6);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} ref_v6 SEC(".maps");

/*
 * The spread loops' destinations, written by userspace (mmap) before each table: the
 * addresses, and for the floor the index of the prefix each was drawn from. Kept apart,
 * so that each loop streams through no more than it reads (8 or 16 bytes a destination:
 * array elements are rounded up to 8 bytes).
 */
struct bench_v4 {
	__u8 addr[4];
	__u32 pad;
};

struct bench_v6 {
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct bench_v4);
	__uint(max_entries, 1 << 20);
	__uint(map_flags, BPF_F_MMAPABLE);
} bench_dests_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct bench_v6);
	__uint(max_entries, 1 << 20);
	__uint(map_flags, BPF_F_MMAPABLE);
} bench_dests_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1 << 20);
	__uint(map_flags, BPF_F_MMAPABLE);
} bench_floor_idx SEC(".maps");

/* The floor's counters: as large as pw_counters (sized by userspace); written here. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct pw_counter);
	__uint(max_entries, PW_MAX_IDS);
} floor_counters SEC(".maps");

/* Destinations a spread run loops over; set by userspace. */
__u32 n_dests;

/* The frame size counted by the spread loops (their frames are not real). */
#define SPREAD_BYTES 64

static __always_inline int ref_lookup_v4(const void *daddr, __u32 *ref)
{
	struct lpm_key_v4 key = {.prefixlen = 32};
	__u32 *v;

	__builtin_memcpy(key.addr, daddr, sizeof(key.addr));
	v = bpf_map_lookup_elem(&ref_v4, &key);
	if (!v)
		return -1;
	*ref = *v; /* an id: slot 0 */
	return 0;
}

static __always_inline int ref_lookup_v6(const void *daddr, __u32 *ref)
{
	struct lpm_key_v6 key = {.prefixlen = 128};
	__u32 *v;

	__builtin_memcpy(key.addr, daddr, sizeof(key.addr));
	v = bpf_map_lookup_elem(&ref_v6, &key);
	if (!v)
		return -1;
	*ref = *v; /* an id: slot 0 */
	return 0;
}

SEC("xdp.frags")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* The real program's path with the reference lookup. */
SEC("xdp.frags")
int xdp_lpm(struct xdp_md *ctx)
{
	return pw_count_all(ctx, ref_lookup_v4, ref_lookup_v6, 1);
}

/*
 * The real program's parts on their own, to show where its hot cost goes: parsing only,
 * then parsing, frame length and the lookup and count, without the interface counter.
 */
SEC("xdp.frags")
int xdp_parse_only(struct xdp_md *ctx)
{
	struct pw_cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	void *daddr = NULL;

	return pw_parse_frame(&c, &daddr) <= PW_PARSE_IPV6 ? XDP_PASS : XDP_ABORTED;
}

SEC("xdp.frags")
int xdp_no_iface(struct xdp_md *ctx)
{
	pw_count_frame(ctx, pw_lookup_v4, pw_lookup_v6);
	return XDP_PASS;
}

/* The real program, compiled again here: "bench hot" loads it many times. */
SEC("xdp.frags")
int xdp_real(struct xdp_md *ctx)
{
	return pw_count_all(ctx, pw_lookup_v4, pw_lookup_v6, 1);
}

/* The real program as it was before the flood anatomy: no class parse, no class count. */
SEC("xdp.frags")
int xdp_no_anatomy(struct xdp_md *ctx)
{
	return pw_count_all(ctx, pw_lookup_v4, pw_lookup_v6, 0);
}

/* One destination of the spread loop (its address leads its struct), looked up and
 * counted as the real program does. */
#define SPREAD_CB(name, dests, lookup, unmatched)                                             \
	static int name(__u32 i, void *ctx)                                                   \
	{                                                                                     \
		void *d = bpf_map_lookup_elem(&dests, &i);                                    \
                                                                                              \
		if (!d)                                                                       \
			return 1;                                                             \
		pw_count_dest(lookup, d, unmatched, SPREAD_BYTES);                            \
		return 0;                                                                     \
	}

SPREAD_CB(pw_v4_cb, bench_dests_v4, pw_lookup_v4, PW_CLASS_UNMATCHED_V4)
SPREAD_CB(pw_v6_cb, bench_dests_v6, pw_lookup_v6, PW_CLASS_UNMATCHED_V6)
SPREAD_CB(lpm_v4_cb, bench_dests_v4, ref_lookup_v4, PW_CLASS_UNMATCHED_V4)
SPREAD_CB(lpm_v6_cb, bench_dests_v6, ref_lookup_v6, PW_CLASS_UNMATCHED_V6)

static int floor_cb(__u32 i, void *ctx)
{
	__u64 *idx = bpf_map_lookup_elem(&bench_floor_idx, &i);
	__u32 k;

	if (!idx)
		return 1;
	k = (__u32)*idx;
	pw_add(bpf_map_lookup_elem(&floor_counters, &k), SPREAD_BYTES);
	return 0;
}

SEC("xdp")
int spread_pw_v4(struct xdp_md *ctx)
{
	bpf_loop(n_dests, pw_v4_cb, NULL, 0);
	return XDP_PASS;
}

SEC("xdp")
int spread_pw_v6(struct xdp_md *ctx)
{
	bpf_loop(n_dests, pw_v6_cb, NULL, 0);
	return XDP_PASS;
}

SEC("xdp")
int spread_lpm_v4(struct xdp_md *ctx)
{
	bpf_loop(n_dests, lpm_v4_cb, NULL, 0);
	return XDP_PASS;
}

SEC("xdp")
int spread_lpm_v6(struct xdp_md *ctx)
{
	bpf_loop(n_dests, lpm_v6_cb, NULL, 0);
	return XDP_PASS;
}

SEC("xdp")
int spread_floor(struct xdp_md *ctx)
{
	bpf_loop(n_dests, floor_cb, NULL, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
