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

/* Returns 0 and sets @id when a configured prefix holds @daddr, else -1. */
typedef int (*pw_lookup_fn)(const void *daddr, __u32 *id);

/* Count one packet of @bytes at the prefix @lookup finds, or as unmatched @unmatched. */
static __always_inline void pw_count_dest(pw_lookup_fn lookup, const void *daddr,
					  __u32 unmatched, __u64 bytes)
{
	__u32 id;

	if (lookup(daddr, &id) == 0)
		pw_count_id(id, bytes);
	else
		pw_count_class(unmatched, bytes);
}

/*
 * As pw_count_dest(), and with @anatomy (a constant) a packet counted at a prefix is
 * counted in its class too (@code: pw_anat_code()).
 */
static __always_inline void pw_count_dest_l4(struct xdp_md *ctx, pw_lookup_fn lookup,
					     const void *daddr, __u32 unmatched, __u64 bytes,
					     int anatomy, __u32 code)
{
	__u32 id;

	if (lookup(daddr, &id) == 0) {
		pw_count_id(id, bytes);
		if (anatomy)
			pw_count_anatomy(ctx, id, bytes, code);
	} else {
		pw_count_class(unmatched, bytes);
	}
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
	struct pw_l4 l4 = {};
	void *daddr = NULL;
	enum pw_parse_result r = pw_parse_frame(&c, &daddr);

	/* A cut IPv6 extension header makes the frame malformed, wherever it was going. */
	if (anatomy && (r == PW_PARSE_IPV4 || r == PW_PARSE_IPV6) && pw_parse_l4(ctx, &c, r, &l4))
		r = PW_PARSE_MALFORMED;
	switch (r) {
	case PW_PARSE_IPV4:
		pw_count_dest_l4(ctx, v4, daddr, PW_CLASS_UNMATCHED_V4, bytes, anatomy,
				 pw_anat_code(&l4));
		break;
	case PW_PARSE_IPV6:
		pw_count_dest_l4(ctx, v6, daddr, PW_CLASS_UNMATCHED_V6, bytes, anatomy,
				 pw_anat_code(&l4));
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

#endif /* PW_FRAME_H */
