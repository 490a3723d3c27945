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
#include "lookup.h"
#include "count.h"
#include "frame.h"

/* Run before most programs in a libxdp dispatcher, and let it chain on after XDP_PASS. */
struct {
	__uint(priority, 10);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(prefixwatch);

/* "xdp.frags": jumbo frames on a multi-buffer NIC are seen whole, not refused. */
SEC("xdp.frags")
int prefixwatch(struct xdp_md *ctx)
{
	return pw_count_all(ctx, pw_lookup_v4, pw_lookup_v6, 1);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
