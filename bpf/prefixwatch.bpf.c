// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * prefixwatch.bpf.c - count packets and bytes per destination prefix, pass every frame.
 *
 * Every frame is counted exactly once: at the id of the most specific configured prefix
 * holding its destination, or in one class of pw_classes (unmatched IPv4/IPv6, non-IP,
 * malformed). It is also counted at its ingress interface. The verdict is always
 * XDP_PASS: the sensor never changes forwarding.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <xdp/xdp_helpers.h>

#include "prefixwatch.h"
#include "parse.h"
#include "lookup.h"
#include "count.h"

/* Run before most programs in a libxdp dispatcher, and let it chain on after XDP_PASS. */
struct {
	__uint(priority, 10);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(prefixwatch);

/* "xdp.frags": jumbo frames on a multi-buffer NIC are seen whole, not refused. */
SEC("xdp.frags")
int prefixwatch(struct xdp_md *ctx)
{
	struct pw_cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	/* The whole frame, fragments of a multi-buffer frame included. */
	__u64 bytes = bpf_xdp_get_buff_len(ctx);
	void *daddr = NULL;
	__u32 id;

	switch (pw_parse_frame(&c, &daddr)) {
	case PW_PARSE_IPV4:
		if (pw_lookup_v4(daddr, &id) == 0)
			pw_count_id(id, bytes);
		else
			pw_count_class(PW_CLASS_UNMATCHED_V4, bytes);
		break;
	case PW_PARSE_IPV6:
		if (pw_lookup_v6(daddr, &id) == 0)
			pw_count_id(id, bytes);
		else
			pw_count_class(PW_CLASS_UNMATCHED_V6, bytes);
		break;
	case PW_PARSE_NON_IP:
		pw_count_class(PW_CLASS_NON_IP, bytes);
		break;
	default:
		pw_count_class(PW_CLASS_MALFORMED, bytes);
		break;
	}
	pw_count_iface(ctx->ingress_ifindex, bytes);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
