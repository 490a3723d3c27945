/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * frame.h - the per-packet path: parse a frame, find its prefix, count it once.
 *
 * The lookups are parameters so that make bench runs this very code with its reference
 * lookup; the calls are resolved and inlined at compile time (BPF has no indirect calls,
 * so a pointer left unresolved would fail the build).
 */
#ifndef PW_FRAME_H
#define PW_FRAME_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "prefixwatch.h"
#include "parse.h"
#include "count.h"

/* Returns 0 and sets @ref (PW_REF: counter id and anatomy slot) when a configured prefix
 * holds @daddr, else -1. */
typedef int (*pw_lookup_fn)(const void *daddr, __u32 *ref);

/* Count one packet of @bytes at the prefix @lookup finds, or as unmatched @unmatched: the
 * lookup and count of every frame, which make bench's spread loop runs on its own. */
static __always_inline void pw_count_dest(pw_lookup_fn lookup, const void *daddr,
					  __u32 unmatched, __u64 bytes)
{
	__u32 ref;

	if (lookup(daddr, &ref) == 0)
		pw_count_id(PW_REF_ID(ref), bytes);
	else
		pw_count_class(unmatched, bytes);
}

/*
 * Count an IP packet of @bytes, whose header pw_parse_frame() found at @c->pos (@r, a
 * constant: PW_PARSE_IPV4 or PW_PARSE_IPV6) and its destination at @daddr: at the prefix
 * @lookup finds, or as unmatched @unmatched; with @anatomy (a constant), in its class too.
 *
 * The class is parsed after the lookup, so that nothing of it is kept (in registers or on
 * the stack) across the lookup's reads, and once per family, so that each copy knows its
 * family's header (measured: 1 to 2 ns a packet less than parsing first, for both
 * families at once). A cut IPv6 extension header makes the frame malformed, wherever it
 * was going.
 */
static __always_inline void pw_count_ip(struct xdp_md *ctx, struct pw_cursor *c,
					enum pw_parse_result r, pw_lookup_fn lookup,
					const void *daddr, __u32 unmatched, __u64 bytes,
					int anatomy)
{
	__u32 ref = 0; /* not read without a hit; set, for the verifier, whatever clang moves */
	int hit = lookup(daddr, &ref) == 0;

	if (anatomy) {
		struct pw_l4 l4 = {};

		if (pw_parse_l4(ctx, c, r, &l4)) {
			pw_count_class(PW_CLASS_MALFORMED, bytes);
			return;
		}
		if (hit) {
			pw_count_id(PW_REF_ID(ref), bytes);
			pw_count_anatomy(ctx, PW_REF_SLOT(ref), bytes, pw_anat_code(&l4));
			return;
		}
	} else if (hit) {
		pw_count_id(PW_REF_ID(ref), bytes);
		return;
	}
	pw_count_class(unmatched, bytes);
}

/**
 * pw_count_frame_as() - classify the frame of @ctx and count it exactly once: at a prefix,
 * or as unmatched, non-IP or malformed; with @anatomy (a constant), a frame counted at a
 * prefix is also counted in its protocol class (enum pw_proto). The interface counter is
 * the caller's. Returns the frame's length in bytes, fragments of a multi-buffer frame
 * included. Without @anatomy it is the program as it was before the flood anatomy, which
 * make bench measures the anatomy's cost against.
 */
static __always_inline __u64 pw_count_frame_as(struct xdp_md *ctx, pw_lookup_fn v4,
					       pw_lookup_fn v6, int anatomy)
{
	struct pw_cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	__u64 bytes = bpf_xdp_get_buff_len(ctx);
	void *daddr = NULL;

	switch (pw_parse_frame(&c, &daddr)) {
	case PW_PARSE_IPV4:
		pw_count_ip(ctx, &c, PW_PARSE_IPV4, v4, daddr, PW_CLASS_UNMATCHED_V4, bytes,
			    anatomy);
		break;
	case PW_PARSE_IPV6:
		pw_count_ip(ctx, &c, PW_PARSE_IPV6, v6, daddr, PW_CLASS_UNMATCHED_V6, bytes,
			    anatomy);
		break;
	case PW_PARSE_NON_IP:
		pw_count_class(PW_CLASS_NON_IP, bytes);
		break;
	default:
		pw_count_class(PW_CLASS_MALFORMED, bytes);
		break;
	}
	return bytes;
}

/* The real program's path: every frame counted, and classified for the anatomy. */
static __always_inline __u64 pw_count_frame(struct xdp_md *ctx, pw_lookup_fn v4, pw_lookup_fn v6)
{
	return pw_count_frame_as(ctx, v4, v6, 1);
}

/*
 * A whole program's work: count the frame of @ctx as pw_count_frame_as() does, and at its
 * ingress interface. Returns XDP_PASS, the only verdict.
 */
static __always_inline int pw_count_all(struct xdp_md *ctx, pw_lookup_fn v4, pw_lookup_fn v6,
					int anatomy)
{
	pw_count_iface(ctx->ingress_ifindex, pw_count_frame_as(ctx, v4, v6, anatomy));
	return XDP_PASS;
}

#endif /* PW_FRAME_H */
