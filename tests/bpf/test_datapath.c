// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_datapath.c - the real XDP program on crafted frames (BPF_PROG_TEST_RUN).
 *
 * Every case runs one frame and asserts XDP_PASS and the exact delta of every counter:
 * +1 packet and +len bytes where the frame belongs, nothing anywhere else.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/magic.h>

#include "anatomy.h"
#include "frames.h"
#include "loader.h"
#include "log.h"
#include "prefix.h"

#define MAX_V4 4096
#define MAX_V6 4096

/* The prefix set of most cases: nested, host routes, both families. */
static const char *const base_prefixes[] = {
	"10.0.0.0/8",	   /* id 0 */
	"10.1.0.0/16",	   /* id 1, inside id 0 */
	"10.1.2.3/32",	   /* id 2, inside id 1 */
	"2001:db8::/32",   /* id 3 */
	"2001:db8:1::/48", /* id 4, inside id 3 */
	"2001:db8::1/128", /* id 5, inside id 3 */
	"198.51.100.0/24", /* id 6 */
};
#define N_BASE (sizeof(base_prefixes) / sizeof(base_prefixes[0]))
#define N_IDS 16

static struct pw_bpf *bpf;
static struct pw_anat_source anat;

/* Id i is given anatomy slot i + 1, so each id's classes are seen apart. */
#define N_SLOTS (N_IDS + 1)
#define SLOT_OF(id) ((id) + 1)

enum where { AT_ID, AT_CLASS };

struct expect {
	enum where where;
	unsigned int index; /* prefix id or enum pw_class */
};

#define ID(i) ((struct expect){ AT_ID, (i) })
#define CLASS(c) ((struct expect){ AT_CLASS, (c) })

struct snapshot {
	struct pw_counter ids[N_IDS];
	struct pw_counter classes[PW_CLASS_MAX];
	struct pw_counter anat[N_SLOTS * PW_PROTOS];
};

static void set_prefixes(const char *const *texts, size_t n)
{
	struct pw_prefix p[N_IDS];
	uint32_t refs[N_IDS];
	char err[256];

	assert_true(n <= N_IDS);
	for (size_t i = 0; i < n; i++) {
		if (pw_prefix_parse(texts[i], &p[i], err, sizeof(err)))
			fail_msg("%s: %s", texts[i], err);
		refs[i] = PW_REF(i, SLOT_OF(i));
	}
	assert_int_equal(pw_bpf_set_prefixes(bpf, p, refs, n), 0);
}

static void snap(struct snapshot *s)
{
	assert_int_equal(pw_bpf_read_counters(bpf, N_IDS, s->ids), 0);
	assert_int_equal(pw_bpf_read_classes(bpf, s->classes), 0);
	assert_int_equal(anat.read_classes(anat.ctx, N_SLOTS, s->anat), 0);
}

static int run_frame(const void *data, size_t len, uint32_t ifindex)
{
	struct xdp_md ctx_in = { .data_end = (uint32_t)len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = (uint32_t)len,
		    .ctx_in = ifindex ? &ctx_in : NULL,
		    .ctx_size_in = ifindex ? sizeof(ctx_in) : 0, .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(pw_bpf_prog_fd(bpf), &opts);
	if (err)
		return -errno;
	return (int)opts.retval;
}

/*
 * Run @f once; assert XDP_PASS and that only @e moved, by one packet of f->len bytes; a
 * frame counted at a prefix id is also counted in exactly one class at the id's slot: in
 * class @pclass, unless that is -1 (any).
 */
static void expect_in_class(const char *desc, const struct frame *f, struct expect e, int pclass)
{
	struct snapshot before, after;
	int ret;

	snap(&before);
	ret = run_frame(f->data, f->len, 0);
	if (ret != XDP_PASS)
		fail_msg("%s (len %zu): verdict %d, want XDP_PASS", desc, f->len, ret);
	snap(&after);
	for (unsigned int i = 0; i < N_IDS; i++) {
		uint64_t dp = after.ids[i].packets - before.ids[i].packets;
		uint64_t db = after.ids[i].bytes - before.ids[i].bytes;
		int want = e.where == AT_ID && e.index == i;

		if (dp != (uint64_t)want || db != (want ? f->len : 0))
			fail_msg("%s (len %zu): id %u moved by %llu pkts %llu bytes, want %d/%zu",
				 desc, f->len, i, (unsigned long long)dp,
				 (unsigned long long)db, want, want ? f->len : 0);
	}
	for (unsigned int c = 0; c < PW_CLASS_MAX; c++) {
		uint64_t dp = after.classes[c].packets - before.classes[c].packets;
		uint64_t db = after.classes[c].bytes - before.classes[c].bytes;
		int want = e.where == AT_CLASS && e.index == c;

		if (dp != (uint64_t)want || db != (want ? f->len : 0))
			fail_msg("%s (len %zu): class %u moved by %llu pkts %llu bytes, want %d/%zu",
				 desc, f->len, c, (unsigned long long)dp,
				 (unsigned long long)db, want, want ? f->len : 0);
	}
	{
		unsigned int moved = 0, moved_class = 0;

		for (unsigned int k = 0; k < N_SLOTS * PW_PROTOS; k++) {
			uint64_t dp = after.anat[k].packets - before.anat[k].packets;
			uint64_t db = after.anat[k].bytes - before.anat[k].bytes;

			if (!dp && !db)
				continue;
			if (dp != 1 || db != f->len || e.where != AT_ID ||
			    k / PW_PROTOS != SLOT_OF(e.index))
				fail_msg("%s (len %zu): slot %u class %s moved by %llu pkts %llu bytes",
					 desc, f->len, k / PW_PROTOS, pw_proto_name(k % PW_PROTOS),
					 (unsigned long long)dp, (unsigned long long)db);
			moved++;
			moved_class = k % PW_PROTOS;
		}
		if (moved != (e.where == AT_ID))
			fail_msg("%s: %u class counters moved, want %d", desc, moved,
				 e.where == AT_ID);
		if (pclass >= 0 && moved && moved_class != (unsigned int)pclass)
			fail_msg("%s: counted as %s, want %s", desc, pw_proto_name(moved_class),
				 pw_proto_name((unsigned int)pclass));
	}
}

static void expect_counted(const char *desc, const struct frame *f, struct expect e)
{
	expect_in_class(desc, f, e, -1);
}

/* ---- the table of single-frame cases ---- */

enum l3 { L3_V4, L3_V6, L3_ARP };

struct frame_case {
	const char *desc;
	uint16_t tags[2];   /* VLAN TPIDs, 0 = none */
	enum l3 l3;
	const char *dst;
	unsigned int ihl;   /* IPv4 only, 0 = 5 */
	uint16_t frag_off;  /* IPv4 only */
	size_t pad;	    /* pad the frame to this length */
	struct expect want;
};

static const struct frame_case cases[] = {
	{ "IPv4 to a /8", {0}, L3_V4, "10.200.0.1", 0, 0, 60, ID(0) },
	{ "IPv4 to a nested /16 (most specific wins)", {0}, L3_V4, "10.1.9.9", 0, 0, 60, ID(1) },
	{ "IPv4 to a nested /32", {0}, L3_V4, "10.1.2.3", 0, 0, 60, ID(2) },
	{ "IPv4 next to the /32", {0}, L3_V4, "10.1.2.4", 0, 0, 60, ID(1) },
	{ "IPv4 to a /24", {0}, L3_V4, "198.51.100.255", 0, 0, 60, ID(6) },
	{ "IPv4 unmatched", {0}, L3_V4, "11.0.0.1", 0, 0, 60, CLASS(PW_CLASS_UNMATCHED_V4) },
	{ "IPv4 just below a /24", {0}, L3_V4, "198.51.99.255", 0, 0, 60,
	  CLASS(PW_CLASS_UNMATCHED_V4) },
	{ "IPv6 to a /32", {0}, L3_V6, "2001:db8:2::1", 0, 0, 0, ID(3) },
	{ "IPv6 to a nested /48", {0}, L3_V6, "2001:db8:1::99", 0, 0, 0, ID(4) },
	{ "IPv6 to a nested /128", {0}, L3_V6, "2001:db8::1", 0, 0, 0, ID(5) },
	{ "IPv6 next to the /128", {0}, L3_V6, "2001:db8::2", 0, 0, 0, ID(3) },
	{ "IPv6 unmatched", {0}, L3_V6, "2001:db9::1", 0, 0, 0, CLASS(PW_CLASS_UNMATCHED_V6) },
	{ "802.1Q tag, IPv4", {ETH_P_8021Q}, L3_V4, "10.1.2.3", 0, 0, 64, ID(2) },
	{ "802.1Q tag, IPv6", {ETH_P_8021Q}, L3_V6, "2001:db8:1::1", 0, 0, 0, ID(4) },
	{ "802.1ad tag, IPv4", {ETH_P_8021AD}, L3_V4, "10.0.0.1", 0, 0, 64, ID(0) },
	{ "QinQ 88a8+8100, IPv4", {ETH_P_8021AD, ETH_P_8021Q}, L3_V4, "10.1.0.1", 0, 0, 68,
	  ID(1) },
	{ "QinQ 8100+88a8, IPv6", {ETH_P_8021Q, ETH_P_8021AD}, L3_V6, "2001:db8::1", 0, 0, 0,
	  ID(5) },
	{ "QinQ 8100+8100, unmatched IPv4", {ETH_P_8021Q, ETH_P_8021Q}, L3_V4, "8.8.8.8", 0, 0,
	  0, CLASS(PW_CLASS_UNMATCHED_V4) },
	{ "IPv4 with 4 bytes of options", {0}, L3_V4, "10.1.2.3", 6, 0, 0, ID(2) },
	{ "IPv4 with 40 bytes of options (IHL 15)", {0}, L3_V4, "198.51.100.1", 15, 0, 0, ID(6) },
	{ "IPv4 first fragment (MF)", {0}, L3_V4, "10.1.2.3", 0, 0x2000, 0, ID(2) },
	{ "IPv4 later fragment", {0}, L3_V4, "10.1.2.3", 0, 0x00b9, 0, ID(2) },
	{ "IPv4 last fragment of a VLAN", {ETH_P_8021Q}, L3_V4, "11.1.1.1", 0, 0x0010, 0,
	  CLASS(PW_CLASS_UNMATCHED_V4) },
	{ "ARP", {0}, L3_ARP, NULL, 0, 0, 60, CLASS(PW_CLASS_NON_IP) },
	{ "ARP in a VLAN", {ETH_P_8021Q}, L3_ARP, NULL, 0, 0, 64, CLASS(PW_CLASS_NON_IP) },
	{ "IPv4 IHL 4", {0}, L3_V4, "10.1.2.3", 4, 0, 60, CLASS(PW_CLASS_MALFORMED) },
	{ "IPv4 IHL 0", {0}, L3_V4, "10.1.2.3", 0x10, 0, 60, CLASS(PW_CLASS_MALFORMED) },
	{ "a 60-byte frame (bytes exact)", {0}, L3_V4, "10.1.2.3", 0, 0, 60, ID(2) },
	{ "a 1514-byte frame (bytes exact)", {0}, L3_V6, "2001:db8::1", 0, 0, 1514, ID(5) },
};

static void build_case(const struct frame_case *c, struct frame *f)
{
	uint16_t l3proto = c->l3 == L3_V4 ? ETH_P_IP : c->l3 == L3_V6 ? ETH_P_IPV6 : ETH_P_ARP;
	uint16_t first = c->tags[0] ? c->tags[0] : l3proto;

	frame_eth(f, first);
	if (c->tags[0])
		frame_vlan(f, 100, c->tags[1] ? c->tags[1] : l3proto);
	if (c->tags[1])
		frame_vlan(f, 200, l3proto);
	if (c->l3 == L3_V4)
		/* IHL 0x10 asks for an IHL of 0 with a full-sized header behind it. */
		frame_ipv4(f, c->dst, c->ihl == 0x10 ? 0 : c->ihl ? c->ihl : 5, c->frag_off);
	else if (c->l3 == L3_V6)
		frame_ipv6(f, c->dst);
	else
		frame_put(f, 28); /* an ARP body */
	if (c->l3 == L3_V4 && c->ihl == 0x10) {
		/* frame_ipv4 wrote a 20-byte header; clear IHL to 0 in place. */
		size_t off = 14 + (c->tags[0] ? 4 : 0) + (c->tags[1] ? 4 : 0);

		f->data[off] = 0x40;
	}
	frame_pad(f, c->pad);
}

static void test_frame_table(void **state)
{
	static struct frame f;

	(void)state;
	set_prefixes(base_prefixes, N_BASE);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build_case(&cases[i], &f);
		expect_counted(cases[i].desc, &f, cases[i].want);
	}
}

/* IP version contradicting the EtherType is malformed, both ways round. */
static void test_version_mismatch(void **state)
{
	static struct frame f;

	(void)state;
	set_prefixes(base_prefixes, N_BASE);
	frame_eth(&f, ETH_P_IP);
	frame_ipv6(&f, "2001:db8::1");
	expect_counted("IPv6 header behind EtherType IPv4", &f, CLASS(PW_CLASS_MALFORMED));
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv4(&f, "10.1.2.3", 5, 0);
	frame_pad(&f, 80);
	expect_counted("IPv4 header behind EtherType IPv6", &f, CLASS(PW_CLASS_MALFORMED));
}


/* ---- protocol classes (flood anatomy) ---- */

#define V4_SRC "192.0.2.200"
#define V6_SRC "2001:db8:ffff::200"
#define V4_DST "10.1.2.3"	/* id 2 */
#define V6_DST "2001:db8:1::5" /* id 4 */

enum { TAG_NONE, TAG_ONE, TAG_QINQ };

static void l2(struct frame *f, int tags, uint16_t proto)
{
	if (tags == TAG_NONE) {
		frame_eth(f, proto);
		return;
	}
	frame_eth(f, tags == TAG_QINQ ? ETH_P_8021AD : ETH_P_8021Q);
	if (tags == TAG_QINQ)
		frame_vlan(f, 10, ETH_P_8021Q);
	frame_vlan(f, 20, proto);
}

struct class_case {
	const char *desc;
	int family; /* 4 or 6 */
	int tags;
	uint8_t proto;	  /* IPv4 protocol / first IPv6 next header */
	uint16_t frag;	  /* IPv4 frag_off field */
	uint8_t tcp;	  /* TCP flags */
	int want;	  /* enum pw_proto */
};

static const struct class_case class_cases[] = {
	{ "v4 SYN", 4, TAG_NONE, 6, 0, 0x02, PW_PROTO_TCP_SYN },
	{ "v4 SYN+ECE+CWR", 4, TAG_NONE, 6, 0, 0xc2, PW_PROTO_TCP_SYN },
	{ "v4 SYN+FIN", 4, TAG_NONE, 6, 0, 0x03, PW_PROTO_TCP_SYN },
	{ "v4 SYN+RST", 4, TAG_NONE, 6, 0, 0x06, PW_PROTO_TCP_SYN },
	{ "v4 SYN+ACK", 4, TAG_NONE, 6, 0, 0x12, PW_PROTO_TCP_SYNACK },
	{ "v4 SYN+ACK+PSH", 4, TAG_NONE, 6, 0, 0x1a, PW_PROTO_TCP_SYNACK },
	{ "v4 RST", 4, TAG_NONE, 6, 0, 0x04, PW_PROTO_TCP_RST },
	{ "v4 RST+ACK", 4, TAG_NONE, 6, 0, 0x14, PW_PROTO_TCP_RST },
	{ "v4 ACK", 4, TAG_NONE, 6, 0, 0x10, PW_PROTO_TCP_ACK },
	{ "v4 PSH+ACK", 4, TAG_NONE, 6, 0, 0x18, PW_PROTO_TCP_ACK },
	{ "v4 FIN+ACK", 4, TAG_NONE, 6, 0, 0x11, PW_PROTO_TCP_ACK },
	{ "v4 FIN", 4, TAG_NONE, 6, 0, 0x01, PW_PROTO_TCP_OTHER },
	{ "v4 no flags", 4, TAG_NONE, 6, 0, 0x00, PW_PROTO_TCP_OTHER },
	{ "v4 Xmas FIN+PSH+URG", 4, TAG_NONE, 6, 0, 0x29, PW_PROTO_TCP_OTHER },
	{ "v4 UDP", 4, TAG_NONE, 17, 0, 0, PW_PROTO_UDP },
	{ "v4 ICMP", 4, TAG_NONE, 1, 0, 0, PW_PROTO_ICMP },
	{ "v4 GRE", 4, TAG_NONE, 47, 0, 0, PW_PROTO_OTHER },
	{ "v4 ESP", 4, TAG_NONE, 50, 0, 0, PW_PROTO_OTHER },
	{ "v4 first fragment of UDP (MF)", 4, TAG_NONE, 17, 0x2000, 0, PW_PROTO_UDP },
	{ "v4 first fragment of a SYN (MF)", 4, TAG_NONE, 6, 0x2000, 0x02, PW_PROTO_TCP_SYN },
	{ "v4 later fragment of UDP", 4, TAG_NONE, 17, 0x20b9, 0, PW_PROTO_FRAGMENT },
	{ "v4 last fragment of TCP", 4, TAG_NONE, 6, 0x0010, 0x02, PW_PROTO_FRAGMENT },
	{ "v4 DF, not a fragment", 4, TAG_NONE, 6, 0x4000, 0x10, PW_PROTO_TCP_ACK },
	{ "802.1Q v4 SYN", 4, TAG_ONE, 6, 0, 0x02, PW_PROTO_TCP_SYN },
	{ "QinQ v4 later fragment", 4, TAG_QINQ, 17, 0x0100, 0, PW_PROTO_FRAGMENT },
	{ "QinQ v4 ICMP", 4, TAG_QINQ, 1, 0, 0, PW_PROTO_ICMP },
	{ "v6 SYN", 6, TAG_NONE, 6, 0, 0x02, PW_PROTO_TCP_SYN },
	{ "v6 SYN+ACK", 6, TAG_NONE, 6, 0, 0x12, PW_PROTO_TCP_SYNACK },
	{ "v6 RST", 6, TAG_NONE, 6, 0, 0x04, PW_PROTO_TCP_RST },
	{ "v6 ACK", 6, TAG_NONE, 6, 0, 0x10, PW_PROTO_TCP_ACK },
	{ "v6 FIN", 6, TAG_NONE, 6, 0, 0x01, PW_PROTO_TCP_OTHER },
	{ "v6 UDP", 6, TAG_NONE, 17, 0, 0, PW_PROTO_UDP },
	{ "v6 ICMPv6", 6, TAG_NONE, 58, 0, 0, PW_PROTO_ICMP },
	{ "v6 carrying ICMP (1)", 6, TAG_NONE, 1, 0, 0, PW_PROTO_ICMP },
	{ "v6 GRE", 6, TAG_NONE, 47, 0, 0, PW_PROTO_OTHER },
	{ "v6 no next header", 6, TAG_NONE, 59, 0, 0, PW_PROTO_OTHER },
	{ "802.1Q v6 ACK", 6, TAG_ONE, 6, 0, 0x10, PW_PROTO_TCP_ACK },
	{ "QinQ v6 UDP", 6, TAG_QINQ, 17, 0, 0, PW_PROTO_UDP },
};

static void build_class_case(const struct class_case *c, struct frame *f)
{
	l2(f, c->tags, c->family == 4 ? ETH_P_IP : ETH_P_IPV6);
	if (c->family == 4)
		frame_ipv4_proto(f, V4_SRC, V4_DST, c->proto, c->frag, 77);
	else
		frame_ipv6_nh(f, V6_SRC, V6_DST, c->proto);
	if (c->proto == 6)
		frame_tcp(f, 40000, c->tcp);
	else if (c->proto == 17)
		frame_udp(f, 53);
	else if (c->proto == 1 || c->proto == 58)
		frame_icmp(f, 8);
	else
		frame_put(f, 8);
	frame_pad(f, 64);
}

/* Every class, both families, tags, fragments first and not: exact counts in one class. */
static void test_class_table(void **state)
{
	static struct frame f;

	(void)state;
	set_prefixes(base_prefixes, N_BASE);
	for (size_t i = 0; i < sizeof(class_cases) / sizeof(class_cases[0]); i++) {
		const struct class_case *c = &class_cases[i];

		build_class_case(c, &f);
		expect_in_class(c->desc, &f, ID(c->family == 4 ? 2 : 4), c->want);
	}
}

/* IPv4 options move the TCP header: the flags are read behind them. */
static void test_class_ipv4_options(void **state)
{
	static struct frame f;

	(void)state;
	set_prefixes(base_prefixes, N_BASE);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, V4_DST, 15, 0); /* 40 bytes of options, protocol UDP */
	f.len -= 8;
	f.data[14 + 9] = 6; /* protocol TCP (the checksum is not read) */
	frame_tcp(&f, 1234, 0x02);
	expect_in_class("IHL 15, SYN", &f, ID(2), PW_PROTO_TCP_SYN);
	/* A TCP header cut before its flags: still at the prefix, as tcp-other. */
	f.len -= 20 - 12;
	expect_in_class("IHL 15, TCP cut before its flags", &f, ID(2), PW_PROTO_TCP_OTHER);
}

/* Crafted IPv6 extension-header chains. */
/* An IPv6 frame to V6_DST with @n destination-options headers, then UDP from port 53. */
static void frame_dstopts_udp(struct frame *f, int n)
{
	frame_eth(f, ETH_P_IPV6);
	frame_ipv6_nh(f, V6_SRC, V6_DST, 60);
	for (int i = 0; i < n - 1; i++)
		frame_ext6(f, 60, 60, 1);
	frame_ext6(f, 60, 17, 1);
	frame_udp(f, 53);
}

static void test_class_ipv6_ext(void **state)
{
	static struct frame f;

	(void)state;
	set_prefixes(base_prefixes, N_BASE);

	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6_nh(&f, V6_SRC, V6_DST, 0);
	frame_ext6(&f, 0, 6, 1);
	frame_tcp(&f, 1, 0x02);
	expect_in_class("hop-by-hop, SYN", &f, ID(4), PW_PROTO_TCP_SYN);

	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6_nh(&f, V6_SRC, V6_DST, 0);
	frame_ext6(&f, 0, 43, 1);
	frame_ext6(&f, 43, 60, 3);
	frame_ext6(&f, 60, 17, 2);
	frame_udp(&f, 123);
	expect_in_class("hop-by-hop, routing, dest-opts, UDP", &f, ID(4), PW_PROTO_UDP);

	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6_nh(&f, V6_SRC, V6_DST, 44);
	frame_frag6(&f, 17, 0, 1, 0xabcd);
	frame_udp(&f, 53);
	frame_pad(&f, 1200);
	expect_in_class("first fragment, UDP", &f, ID(4), PW_PROTO_UDP);

	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6_nh(&f, V6_SRC, V6_DST, 44);
	frame_frag6(&f, 17, 1448, 1, 0xabcd);
	frame_pad(&f, 1200);
	expect_in_class("middle fragment", &f, ID(4), PW_PROTO_FRAGMENT);

	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6_nh(&f, V6_SRC, V6_DST, 0);
	frame_ext6(&f, 0, 44, 1);
	frame_frag6(&f, 6, 2896, 0, 0xabcd);
	frame_pad(&f, 300);
	expect_in_class("hop-by-hop, last fragment", &f, ID(4), PW_PROTO_FRAGMENT);

	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6_nh(&f, V6_SRC, V6_DST, 44);
	frame_frag6(&f, 6, 0, 0, 7); /* an atomic fragment (RFC 6946) */
	frame_tcp(&f, 1, 0x14);
	expect_in_class("atomic fragment, RST", &f, ID(4), PW_PROTO_TCP_RST);

	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6_nh(&f, V6_SRC, V6_DST, 51);
	frame_ext6(&f, 51, 6, 3);
	frame_tcp(&f, 1, 0x10);
	expect_in_class("AH, ACK", &f, ID(4), PW_PROTO_TCP_ACK);

	/* Six are walked; a seventh hides the upper layer. */
	frame_dstopts_udp(&f, 6);
	expect_in_class("six dest-opts, UDP", &f, ID(4), PW_PROTO_UDP);
	frame_dstopts_udp(&f, 7);
	expect_in_class("seven dest-opts, UDP", &f, ID(4), PW_PROTO_OTHER);

	/* Behind two VLAN tags: the walk starts where the tags end. */
	frame_eth(&f, ETH_P_8021AD);
	frame_vlan(&f, 10, ETH_P_8021Q);
	frame_vlan(&f, 20, ETH_P_IPV6);
	frame_ipv6_nh(&f, V6_SRC, V6_DST, 0);
	frame_ext6(&f, 0, 60, 2);
	frame_ext6(&f, 60, 6, 1);
	frame_tcp(&f, 1, 0x12);
	expect_in_class("QinQ, hop-by-hop, dest-opts, SYN-ACK", &f, ID(4), PW_PROTO_TCP_SYNACK);

	/* A header whose length runs past the frame's end is malformed. */
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6_nh(&f, V6_SRC, V6_DST, 0);
	frame_ext6(&f, 0, 17, 1);
	f.data[14 + 40 + 1] = 200; /* 1608 bytes */
	frame_udp(&f, 53);
	expect_counted("hop-by-hop longer than the frame", &f, CLASS(PW_CLASS_MALFORMED));
}

/*
 * Run @full cut to every length from @from to @to bytes: a cut shorter than @whole is
 * malformed, any other is counted at @at, in class @pclass (-1: any).
 */
static void expect_cuts(const char *what, const struct frame *full, size_t from, size_t to,
			size_t whole, struct expect at, int pclass)
{
	static struct frame f;

	for (size_t len = from; len <= to; len++) {
		char desc[96];

		memcpy(f.data, full->data, len);
		f.len = len;
		snprintf(desc, sizeof(desc), "%s truncated to %zu", what, len);
		if (len < whole)
			expect_counted(desc, &f, CLASS(PW_CLASS_MALFORMED));
		else
			expect_in_class(desc, &f, at, pclass);
	}
}

/* Every truncation of an IPv6 frame with a chain of extension headers. */
static void test_class_ipv6_ext_truncations(void **state)
{
	static struct frame full;
	const size_t ip_end = 14 + 40, chain_end = ip_end + 8 + 16 + 8;

	(void)state;
	set_prefixes(base_prefixes, N_BASE);
	frame_eth(&full, ETH_P_IPV6);
	frame_ipv6_nh(&full, V6_SRC, V6_DST, 0);
	frame_ext6(&full, 0, 43, 1);
	frame_ext6(&full, 43, 44, 2);
	frame_frag6(&full, 6, 0, 1, 99);
	frame_tcp(&full, 1, 0x02);
	assert_int_equal(full.len, chain_end + 20);
	/* TCP cut before its flags is tcp-other */
	expect_cuts("IPv6 ext chain", &full, 14, chain_end + 13, chain_end, ID(4),
		    PW_PROTO_TCP_OTHER);
	expect_cuts("IPv6 ext chain", &full, chain_end + 14, full.len, chain_end, ID(4),
		    PW_PROTO_TCP_SYN);
}

/*
 * Every truncation of two more chains: one header then UDP (the chain ends where a cut
 * frame may still hold the upper layer's start), and seven destination options (the
 * walk stops after six: the seventh is never read, the sixth must be whole).
 */
static void test_class_ipv6_ext_truncations_more(void **state)
{
	static struct frame full;
	const size_t ip_end = 14 + 40;

	(void)state;
	set_prefixes(base_prefixes, N_BASE);
	frame_eth(&full, ETH_P_IPV6);
	frame_ipv6_nh(&full, V6_SRC, V6_DST, 0);
	frame_ext6(&full, 0, 17, 1);
	frame_udp(&full, 53);
	expect_cuts("hop-by-hop, UDP", &full, 14, full.len, ip_end + 8, ID(4), PW_PROTO_UDP);

	frame_dstopts_udp(&full, 7);
	expect_cuts("seven dest-opts", &full, 14, full.len, ip_end + 6 * 8, ID(4),
		    PW_PROTO_OTHER);
}

#define EVERY (1U << PW_SAMPLE_SHIFT)
#define RUNS (4 * EVERY)

/*
 * Samples: a non-first fragment of a UDP datagram carries the source port of its first
 * fragment, by (source, destination, id). Sampling is 1 in 2^PW_SAMPLE_SHIFT per class
 * counter and CPU: RUNS fragments give at least two samples even when the runs land on two
 * CPUs, whatever the counters held before.
 *
 * check_fragment_samples(): run @first once, then @later RUNS times: every sample of
 * @later (a non-first fragment) carries @sport, the port of @first, with its destination
 * @daddr (@family), @slot and length. Then @other (a fragment of another datagram) RUNS
 * times: its samples carry no port.
 */
static void check_fragment_samples(const struct frame *first, const struct frame *later,
				   const struct frame *other, int family, const uint8_t *daddr,
				   uint32_t slot, uint16_t sport)
{
	static struct pw_sample smp[PW_SAMPLE_RING * 4];
	size_t n = 0, frag = 0, alen = family == 4 ? 4 : 16;

	assert_int_equal(anat.read_samples(anat.ctx, smp, sizeof(smp) / sizeof(smp[0]), &n), 0);
	assert_int_equal(run_frame(first->data, first->len, 0), XDP_PASS);
	for (unsigned int i = 0; i < RUNS; i++)
		assert_int_equal(run_frame(later->data, later->len, 0), XDP_PASS);
	assert_int_equal(anat.read_samples(anat.ctx, smp, sizeof(smp) / sizeof(smp[0]), &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (smp[i].pclass != PW_PROTO_FRAGMENT)
			continue;
		frag++;
		assert_int_equal(smp[i].slot, slot);
		assert_int_equal(smp[i].family, family);
		assert_memory_equal(smp[i].daddr, daddr, alen);
		assert_int_equal(smp[i].ipproto, 17);
		assert_int_equal(smp[i].flags, PW_SAMPLE_PORT | PW_SAMPLE_PORT_FROM_FRAG);
		assert_int_equal(smp[i].sport, sport);
		assert_int_equal(smp[i].bytes, later->len);
	}
	assert_true(frag >= 2);
	for (unsigned int i = 0; i < RUNS; i++)
		assert_int_equal(run_frame(other->data, other->len, 0), XDP_PASS);
	assert_int_equal(anat.read_samples(anat.ctx, smp, sizeof(smp) / sizeof(smp[0]), &n), 0);
	frag = 0;
	for (size_t i = 0; i < n; i++)
		if (smp[i].pclass == PW_PROTO_FRAGMENT) {
			frag++;
			assert_int_equal(smp[i].flags, 0);
		}
	assert_true(frag >= 2);
}

static void test_samples_fragment_port(void **state)
{
	static struct frame first, later, other;

	(void)state;
	set_prefixes(base_prefixes, N_BASE);
	frame_eth(&first, ETH_P_IP);
	frame_ipv4_proto(&first, "203.0.113.53", V4_DST, 17, 0x2000, 4242);
	frame_udp(&first, 53);
	frame_pad(&first, 1514);
	frame_eth(&later, ETH_P_IP);
	frame_ipv4_proto(&later, "203.0.113.53", V4_DST, 17, 185, 4242);
	frame_pad(&later, 1514);
	/* Another datagram's fragments (another id) have no port. */
	frame_eth(&other, ETH_P_IP);
	frame_ipv4_proto(&other, "203.0.113.53", V4_DST, 17, 185, 4243);
	check_fragment_samples(&first, &later, &other, 4, (const uint8_t *)"\x0a\x01\x02\x03",
			       SLOT_OF(2), 53);
}

/* The same for IPv6: the fragment header behind a hop-by-hop header, a 16-byte key. */
static void test_samples_fragment_port_v6(void **state)
{
	static struct frame first, later, other;
	uint8_t want[16];

	(void)state;
	set_prefixes(base_prefixes, N_BASE);
	inet_pton(AF_INET6, V6_DST, want);
	frame_eth(&first, ETH_P_IPV6);
	frame_ipv6_nh(&first, V6_SRC, V6_DST, 0);
	frame_ext6(&first, 0, 44, 1);
	frame_frag6(&first, 17, 0, 1, 0xabcdef01);
	frame_udp(&first, 123);
	frame_pad(&first, 1514);
	frame_eth(&later, ETH_P_IPV6);
	frame_ipv6_nh(&later, V6_SRC, V6_DST, 0);
	frame_ext6(&later, 0, 44, 1);
	frame_frag6(&later, 17, 1448, 1, 0xabcdef01);
	frame_pad(&later, 1514);
	frame_eth(&other, ETH_P_IPV6);
	frame_ipv6_nh(&other, V6_SRC, V6_DST, 44);
	frame_frag6(&other, 17, 1448, 1, 0xabcdef02);
	check_fragment_samples(&first, &later, &other, 6, want, SLOT_OF(4), 123);
}

/* Samples carry the destination, class and TCP/UDP source port; reads never repeat one. */
static void test_samples_fields(void **state)
{
	static struct frame f;
	static struct pw_sample smp[PW_SAMPLE_RING * 4];
	size_t n = 0, syn = 0;

	(void)state;
	set_prefixes(base_prefixes, N_BASE);
	assert_int_equal(anat.read_samples(anat.ctx, smp, sizeof(smp) / sizeof(smp[0]), &n), 0);
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6_nh(&f, V6_SRC, "2001:db8::1", 6);
	frame_tcp(&f, 31337, 0x02);
	for (unsigned int i = 0; i < RUNS; i++)
		assert_int_equal(run_frame(f.data, f.len, 0), XDP_PASS);
	assert_int_equal(anat.read_samples(anat.ctx, smp, sizeof(smp) / sizeof(smp[0]), &n), 0);
	for (size_t i = 0; i < n; i++) {
		uint8_t want[16];

		if (smp[i].pclass != PW_PROTO_TCP_SYN)
			continue;
		syn++;
		inet_pton(AF_INET6, "2001:db8::1", want);
		assert_memory_equal(smp[i].daddr, want, 16);
		assert_int_equal(smp[i].family, 6);
		assert_int_equal(smp[i].slot, SLOT_OF(5));
		assert_int_equal(smp[i].sport, 31337);
		assert_int_equal(smp[i].ipproto, 6);
	}
	/* RUNS packets, 1 in EVERY per CPU's counter: 2 to 6 samples, whatever the CPUs. */
	assert_true(syn >= 2 && syn <= 4 + 2);
	assert_int_equal(anat.read_samples(anat.ctx, smp, sizeof(smp) / sizeof(smp[0]), &n), 0);
	assert_int_equal(n, 0);
}

/* A third VLAN tag is past what the program walks: the frame is non-IP. */
static void test_three_tags(void **state)
{
	static struct frame f;

	(void)state;
	set_prefixes(base_prefixes, N_BASE);
	frame_eth(&f, ETH_P_8021AD);
	frame_vlan(&f, 1, ETH_P_8021Q);
	frame_vlan(&f, 2, ETH_P_8021Q);
	frame_vlan(&f, 3, ETH_P_IP);
	frame_ipv4(&f, "10.1.2.3", 5, 0);
	expect_counted("three VLAN tags", &f, CLASS(PW_CLASS_NON_IP));
}

/*
 * Every truncation of an Ethernet+802.1Q+IPv4 (with options) frame: the kernel refuses
 * test frames shorter than an Ethernet header, so lengths start at 14.
 */
static void test_truncations_vlan_ipv4(void **state)
{
	static struct frame full;
	const size_t ip_end = 14 + 4 + 24; /* Ethernet, the tag, IPv4 with 4 bytes of options */

	(void)state;
	set_prefixes(base_prefixes, N_BASE);
	frame_eth(&full, ETH_P_8021Q);
	frame_vlan(&full, 7, ETH_P_IP);
	frame_ipv4(&full, "10.1.2.3", 6, 0);
	expect_cuts("VLAN+IPv4", &full, 14, full.len, ip_end, ID(2), -1);
}

static void test_truncations_ipv6(void **state)
{
	static struct frame full;

	(void)state;
	set_prefixes(base_prefixes, N_BASE);
	frame_eth(&full, ETH_P_IPV6);
	frame_ipv6(&full, "2001:db8:1::5");
	expect_cuts("IPv6", &full, 14, full.len, 14 + 40, ID(4), -1);
}

/* A bare Ethernet header of a non-IP EtherType announces nothing more: non-IP. */
static void test_bare_ethernet(void **state)
{
	static struct frame f;

	(void)state;
	frame_eth(&f, 0x88cc /* LLDP */);
	expect_counted("bare Ethernet header, LLDP", &f, CLASS(PW_CLASS_NON_IP));
	frame_eth(&f, ETH_P_IP);
	expect_counted("bare Ethernet header, IPv4", &f, CLASS(PW_CLASS_MALFORMED));
}

/* A jumbo frame is counted whole, across the fragments of a multi-buffer frame. */
static void test_jumbo(void **state)
{
	static struct frame f;

	(void)state;
	set_prefixes(base_prefixes, N_BASE);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, "198.51.100.7", 5, 0);
	frame_pad(&f, 9000);
	expect_counted("a 9000-byte frame (bytes exact)", &f, ID(6));
}

/* /0 catches every address of its family; /32 and /128 exactly one. */
static void test_default_and_host_routes(void **state)
{
	static const char *const set[] = { "0.0.0.0/0", "::/0", "203.0.113.9/32",
					   "2001:db8:5::9/128" };
	static struct frame f;

	(void)state;
	set_prefixes(set, 4);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, "11.22.33.44", 5, 0);
	expect_counted("IPv4 under /0", &f, ID(0));
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, "255.255.255.255", 5, 0);
	expect_counted("broadcast under /0", &f, ID(0));
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, "203.0.113.9", 5, 0);
	expect_counted("IPv4 /32", &f, ID(2));
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, "203.0.113.8", 5, 0);
	expect_counted("IPv4 beside the /32", &f, ID(0));
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, "fe80::1");
	expect_counted("IPv6 under ::/0", &f, ID(1));
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, "2001:db8:5::9");
	expect_counted("IPv6 /128", &f, ID(3));
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, "2001:db8:5::8");
	expect_counted("IPv6 beside the /128", &f, ID(1));
}

/* A swap of the prefix set takes effect at once and leaves counters alone. */
static void test_swap_keeps_counters(void **state)
{
	static const char *const smaller[] = { "10.0.0.0/8" };
	struct snapshot before, after;
	static struct frame f;

	(void)state;
	set_prefixes(base_prefixes, N_BASE);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, "10.1.2.3", 5, 0);
	expect_counted("before the swap", &f, ID(2));
	snap(&before);
	set_prefixes(smaller, 1);
	snap(&after);
	assert_memory_equal(&before, &after, sizeof(before));
	expect_counted("after the swap: only the /8 is left", &f, ID(0));
	set_prefixes(base_prefixes, N_BASE);
	expect_counted("swapped back", &f, ID(2));
}

/* The ingress interface is counted too, when userspace registered it. */
static void test_iface_counter(void **state)
{
	struct pw_counter before, after;
	static struct frame f;

	(void)state;
	set_prefixes(base_prefixes, N_BASE);
	assert_int_equal(pw_bpf_iface_add(bpf, 1 /* lo */), 0);
	assert_int_equal(pw_bpf_iface_read(bpf, 1, &before), 0);
	frame_eth(&f, ETH_P_ARP);
	frame_pad(&f, 60);
	assert_int_equal(run_frame(f.data, f.len, 1), XDP_PASS);
	assert_int_equal(pw_bpf_iface_read(bpf, 1, &after), 0);
	assert_int_equal(after.packets - before.packets, 1);
	assert_int_equal(after.bytes - before.bytes, 60);
}

/*
 * A table entry holds the prefix's counter id and anatomy slot side by side (PW_REF): the
 * highest id and the highest slot are counted apart, each where it belongs, in both
 * families; an id or slot beyond the maps is refused.
 */
static void test_ref_limits(void **state)
{
	const uint32_t max_ids = pw_bpf_max_ids(bpf), top = PW_MAX_SLOTS - 1;
	struct pw_counter *ids = calloc(max_ids, sizeof(*ids));
	static struct pw_counter cls[2][PW_MAX_SLOTS * PW_PROTOS];
	struct pw_prefix p[2];
	uint32_t refs[2] = { PW_REF(max_ids - 1, top), PW_REF(max_ids - 2, top - 1) };
	char err[256];
	static struct frame f;

	(void)state;
	assert_non_null(ids);
	assert_int_equal(pw_prefix_parse("192.0.2.0/24", &p[0], err, sizeof(err)), 0);
	assert_int_equal(pw_prefix_parse("2001:db8:7::/48", &p[1], err, sizeof(err)), 0);
	assert_int_equal(pw_bpf_set_prefixes(bpf, p, refs, 2), 0);
	for (int fam = 0; fam < 2; fam++) {
		const uint32_t id = max_ids - 1 - (uint32_t)fam, slot = top - (uint32_t)fam;
		struct pw_counter before;

		assert_int_equal(pw_bpf_read_counters(bpf, max_ids, ids), 0);
		before = ids[id];
		assert_int_equal(anat.read_classes(anat.ctx, PW_MAX_SLOTS, cls[0]), 0);
		frame_eth(&f, fam ? ETH_P_IPV6 : ETH_P_IP);
		if (fam)
			frame_ipv6_nh(&f, "2001:db8::5", "2001:db8:7::1", IPPROTO_UDP);
		else
			frame_ipv4_proto(&f, "198.51.100.5", "192.0.2.1", IPPROTO_UDP, 0, 1);
		frame_udp(&f, 53);
		assert_int_equal(run_frame(f.data, f.len, 0), XDP_PASS);
		assert_int_equal(pw_bpf_read_counters(bpf, max_ids, ids), 0);
		assert_int_equal(ids[id].packets - before.packets, 1);
		assert_int_equal(ids[id].bytes - before.bytes, f.len);
		assert_int_equal(anat.read_classes(anat.ctx, PW_MAX_SLOTS, cls[1]), 0);
		for (uint32_t k = 0; k < PW_MAX_SLOTS * PW_PROTOS; k++) {
			int want = k == slot * PW_PROTOS + PW_PROTO_UDP;

			if (cls[1][k].packets - cls[0][k].packets != (uint64_t)want)
				fail_msg("family %d: slot %u class %s moved by %llu packets", fam,
					 k / PW_PROTOS, pw_proto_name(k % PW_PROTOS),
					 (unsigned long long)(cls[1][k].packets - cls[0][k].packets));
		}
	}
	refs[0] = PW_REF(max_ids, 1);
	assert_int_equal(pw_bpf_set_prefixes(bpf, p, refs, 2), -ERANGE);
	refs[0] = PW_REF(0, PW_MAX_SLOTS);
	assert_int_equal(pw_bpf_set_prefixes(bpf, p, refs, 2), -ERANGE);
	free(ids);
}

/* Pinned maps dump with named fields through bpftool. */
static void test_bpftool_dump(void **state)
{
	char dir[128], cmd[512], line[512];
	struct statfs st;
	int found = 0;
	FILE *p;

	(void)state;
	if (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC)
		assert_int_equal(mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL), 0);
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/prefixwatch-test-%d", (int)getpid());
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(pw_bpf_pin(bpf, dir), 0);
	snprintf(cmd, sizeof(cmd), "bpftool map dump pinned %s/pw_classes 2>&1", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		if (strstr(line, "\"packets\"") || strstr(line, "\"bytes\""))
			found++;
	pclose(p);
	pw_bpf_unpin(bpf);
	rmdir(dir);
	assert_true(found >= 2 * PW_CLASS_MAX);
}

static int setup(void **state)
{
	struct pw_bpf_opts o = { .max_v4 = MAX_V4, .max_v6 = MAX_V6 };
	int err;

	(void)state;
	pw_log_hook_libbpf();
	err = pw_bpf_open(&o, &bpf);
	if (!err)
		err = pw_bpf_load(bpf);
	if (!err)
		err = pw_anat_bpf_source(bpf, &anat);
	if (err) {
		fprintf(stderr, "cannot load the BPF program: %s (needs root and BPF)\n",
			strerror(-err));
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pw_anat_bpf_free(&anat);
	pw_bpf_close(bpf);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_table),
		cmocka_unit_test(test_version_mismatch),
		cmocka_unit_test(test_three_tags),
		cmocka_unit_test(test_truncations_vlan_ipv4),
		cmocka_unit_test(test_truncations_ipv6),
		cmocka_unit_test(test_bare_ethernet),
		cmocka_unit_test(test_jumbo),
		cmocka_unit_test(test_default_and_host_routes),
		cmocka_unit_test(test_swap_keeps_counters),
		cmocka_unit_test(test_iface_counter),
		cmocka_unit_test(test_bpftool_dump),
		cmocka_unit_test(test_ref_limits),
		cmocka_unit_test(test_class_table),
		cmocka_unit_test(test_class_ipv4_options),
		cmocka_unit_test(test_class_ipv6_ext),
		cmocka_unit_test(test_class_ipv6_ext_truncations_more),
		cmocka_unit_test(test_class_ipv6_ext_truncations),
		cmocka_unit_test(test_samples_fragment_port),
		cmocka_unit_test(test_samples_fragment_port_v6),
		cmocka_unit_test(test_samples_fields),
	};

	return cmocka_run_group_tests_name("bpf datapath", tests, setup, teardown);
}
