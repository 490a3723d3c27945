// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_fuzz.c - millions of random and mutated frames through the real XDP program.
 *
 * Frames come from a seeded generator (PW_FUZZ_SEED, default below; PW_FUZZ_FRAMES sets
 * how many): random bytes, Ethernet with 0 to 4 VLAN tags, IPv4 with any IHL, version
 * nibble, options and fragment bits, IPv6 with junk behind it, lengths 14 to 9000, every
 * truncation of some of them, and byte flips in the headers. An independent reference
 * parser, written here from the rules of bpf/parse.h rather than from its code, says
 * where each frame belongs. Every run must pass the frame, and at every checkpoint each
 * prefix counter, class counter and the interface counter must equal the reference's
 * totals exactly; so the counters also add up to the frames and bytes run.
 *
 * On a mismatch the last chunk is regenerated from its saved generator state and run one
 * frame at a time, so the failure names the first offending frame.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "anatomy.h"
#include "frames.h"
#include "loader.h"
#include "log.h"
#include "prefix.h"

#define DEFAULT_SEED 0x70776675ULL /* "pwfu" */
/* About 25 s on the 2-core reference machine (~600k frames/s); the "# fuzzed" line says. */
#define DEFAULT_FRAMES 15000000UL
/* Runs between two counter checks; a mismatch is searched for within one chunk. */
#define CHUNK	   4096
#define MIN_LEN	   14 /* the kernel refuses test frames shorter than an Ethernet header */
#define MAX_LEN	   9000
#define LO_IFINDEX 1 /* without a ctx, test runs arrive on the namespace's loopback */

/*
 * Two prefix sets, live one after the other (the swap exercises the second table). Ids
 * are distinct across both, so after the swap the first set's counters must stand still.
 * Broad prefixes make random addresses match often; zero addresses are common in junk.
 */
static const char *const set_a[] = {
	"10.0.0.0/8",	   "10.1.0.0/16",	   "10.1.2.3/32",   "10.1.128.0/17",
	"10.1.2.0/23",	   "198.51.100.0/24",	   "192.0.2.0/25",  "64.0.0.0/2",
	"0.0.0.0/32",	   "172.16.0.0/12",	   "2001:db8::/32", "2001:db8:1::/48",
	"2001:db8::1/128", "2001:db8:1:8000::/49", "4000::/2",	    "fe80::/10",
	"::/127",
};
static const char *const set_b[] = {
	"0.0.0.0/0", "10.1.2.0/24",   "10.1.2.3/32",   "10.1.2.2/31",
	"2000::/3",  "2001:db8::/32", "2001:db8::/64", "ff02::1/128",
};
#define N_A   (sizeof(set_a) / sizeof(set_a[0]))
#define N_B   (sizeof(set_b) / sizeof(set_b[0]))
#define N_IDS (N_A + N_B)

/*
 * The linear part of a BPF_PROG_TEST_RUN frame for an "xdp.frags" program: a page less
 * XDP_PACKET_HEADROOM (256) and the aligned struct skb_shared_info (320 on x86-64); the
 * rest of a longer frame is in fragments the program's direct reads do not reach.
 */
#define REF_LINEAR (4096 - 256 - 320)

/* ---- the reference: where a frame belongs, from parse.h's documented rules ---- */

enum { W_ID, W_CLASS };

struct ref_prefix {
	int family; /* 4 or 6 */
	unsigned int len;
	uint8_t addr[16];
	uint32_t id;
};

struct ref_set {
	struct ref_prefix p[32];
	size_t n;
};

struct verdict {
	int where;	    /* W_ID or W_CLASS */
	unsigned int index; /* id or enum pw_class */
};

static bool ref_holds(const struct ref_prefix *p, const uint8_t *addr)
{
	for (unsigned int bit = 0; bit < p->len; bit++) {
		unsigned int mask = 0x80u >> (bit % 8);

		if ((p->addr[bit / 8] & mask) != (addr[bit / 8] & mask))
			return false;
	}
	return true;
}

/* Longest match by a linear scan: slow, plain, and nothing like an LPM trie. */
static struct verdict ref_lookup(const struct ref_set *s, int family, const uint8_t *addr)
{
	const struct ref_prefix *best = NULL;

	for (size_t i = 0; i < s->n; i++)
		if (s->p[i].family == family && ref_holds(&s->p[i], addr) &&
		    (!best || s->p[i].len > best->len))
			best = &s->p[i];
	if (best)
		return (struct verdict){W_ID, best->id};
	return (struct verdict){W_CLASS,
				family == 4 ? PW_CLASS_UNMATCHED_V4 : PW_CLASS_UNMATCHED_V6};
}

static unsigned int be16_at(const uint8_t *d, size_t off)
{
	return (unsigned int)d[off] << 8 | d[off + 1];
}

/*
 * The rules: Ethernet header, then at most two 802.1Q/802.1ad tags; a frame shorter than
 * a header it announces, an IPv4 IHL below 5, or an IP version other than the EtherType's
 * is malformed; an IPv4 header must fit with its options; so must every IPv6 extension
 * header of the first six (the anatomy walks them); anything else is non-IP (a
 * third tag included). All headers generated here end within the first 82 bytes, always
 * inside the linear part of a multi-buffer test frame, so the frame length is the bound.
 */
static struct verdict ref_classify(const struct ref_set *s, const uint8_t *d, size_t len)
{
	const struct verdict malformed = {W_CLASS, PW_CLASS_MALFORMED};
	size_t off = 14;
	unsigned int proto;

	if (len < 14)
		return malformed;
	proto = be16_at(d, 12);
	for (int tags = 0; tags < 2 && (proto == 0x8100 || proto == 0x88a8); tags++) {
		if (len < off + 4)
			return malformed;
		proto = be16_at(d, off + 2);
		off += 4;
	}
	if (proto == 0x0800) {
		unsigned int ihl;

		if (len < off + 20 || d[off] >> 4 != 4)
			return malformed;
		ihl = d[off] & 0xf;
		if (ihl < 5 || len < off + ihl * 4)
			return malformed;
		return ref_lookup(s, 4, d + off + 16);
	}
	if (proto == 0x86dd) {
		size_t end = len < REF_LINEAR ? len : REF_LINEAR, pos = off + 40;
		unsigned int nh;

		if (len < off + 40 || d[off] >> 4 != 6)
			return malformed;
		/*
		 * Extension headers (RFC 8200 4.3-4.6, RFC 4302 for AH), at most six: each must
		 * lie whole inside the frame's linear part, or the frame is malformed. A
		 * non-first fragment ends the walk.
		 */
		nh = d[off + 6];
		for (int i = 0; i < 6; i++) {
			if (nh == 44) {
				if (pos + 8 > end)
					return malformed;
				if (be16_at(d, pos + 2) >> 3)
					break;
				nh = d[pos];
				pos += 8;
			} else if (nh == 0 || nh == 43 || nh == 60 || nh == 51) {
				if (pos + 2 > end)
					return malformed;
				size_t hl = nh == 51 ? (d[pos + 1] + 2u) * 4 : (d[pos + 1] + 1u) * 8;

				nh = d[pos];
				pos += hl;
				if (pos > end)
					return malformed;
			} else {
				break;
			}
		}
		return ref_lookup(s, 6, d + off + 24);
	}
	return (struct verdict){W_CLASS, PW_CLASS_NON_IP};
}

/* ---- the generator: deterministic from its state, so a chunk can be replayed ---- */

struct gen {
	uint64_t rng;
	const struct ref_set *set; /* live prefixes: addresses are drawn near them */
	struct frame sweep;	   /* a frame whose every truncation is being run */
	size_t sweep_next;	   /* next length to run; 0 when no sweep is going on */
};

struct job {
	struct frame f;
	uint32_t repeat;
};

static uint64_t rnd(struct gen *g)
{
	/* splitmix64: fast, full period, good enough to spread bits for fuzzing */
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int below(struct gen *g, unsigned int n)
{
	return (unsigned int)(rnd(g) % n);
}

static void fill(struct gen *g, uint8_t *p, size_t n)
{
	while (n >= 8) {
		uint64_t v = rnd(g);

		memcpy(p, &v, 8);
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t v = rnd(g);

		memcpy(p, &v, n);
	}
}

/* Mostly short frames (fast to make and run), some full-sized, a few jumbo. */
static size_t pick_len(struct gen *g)
{
	unsigned int r = below(g, 100);

	if (r < 55)
		return MIN_LEN + below(g, 128 - MIN_LEN + 1);
	if (r < 85)
		return 129 + below(g, 1514 - 129 + 1);
	if (r < 95)
		return 1515 + below(g, 3600 - 1515 + 1);
	return 3601 + below(g, MAX_LEN - 3601 + 1);
}

/* Fill the body past @hdr_end up to @len: random near the headers, a constant further on. */
static void fill_body(struct gen *g, struct frame *f, size_t hdr_end, size_t len)
{
	size_t rnd_end = len < hdr_end + 256 ? len : hdr_end + 256;

	if (rnd_end > hdr_end)
		fill(g, f->data + hdr_end, rnd_end - hdr_end);
	if (len > rnd_end)
		memset(f->data + rnd_end, (int)below(g, 256), len - rnd_end);
	f->len = len;
}

/* A destination: inside a live prefix, just outside one, or anywhere. */
static void pick_addr(struct gen *g, int family, uint8_t *addr)
{
	size_t alen = family == 4 ? 4 : 16;
	unsigned int r = below(g, 100);
	const struct ref_prefix *p = NULL;
	size_t tries = 0;

	fill(g, addr, alen);
	if (r >= 55)
		return;
	while (tries++ < 8 && g->set->n) {
		p = &g->set->p[below(g, (unsigned int)g->set->n)];
		if (p->family == family)
			break;
		p = NULL;
	}
	if (!p)
		return;
	/* Keep the prefix's bits, random host bits. */
	for (unsigned int bit = 0; bit < p->len; bit++) {
		unsigned int mask = 0x80u >> (bit % 8);

		addr[bit / 8] = (uint8_t)((addr[bit / 8] & ~mask) | (p->addr[bit / 8] & mask));
	}
	if (r < 15 && p->len > 0) {
		/* Flip the last prefix bit: the neighbour just outside (or a sibling). */
		unsigned int bit = p->len - 1;

		addr[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
	} else if (r < 25) {
		/* All host bits zero or all one: the edges of the prefix. */
		uint8_t v = below(g, 2) ? 0xff : 0;

		for (unsigned int bit = p->len; bit < alen * 8; bit++) {
			unsigned int mask = 0x80u >> (bit % 8);

			addr[bit / 8] = (uint8_t)((addr[bit / 8] & ~mask) | (v & mask));
		}
	}
}

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * Ethernet, 0-4 VLAN tags, then IPv4, IPv6, ARP or any EtherType, each header with random
 * (often invalid) fields; the body fills the frame to a random length no shorter than the
 * headers. Returns where the headers end.
 */
static size_t make_structured(struct gen *g, struct frame *f, size_t len)
{
	static const unsigned int tag_weights[] = {40, 25, 20, 8, 7}; /* 0..4 tags */
	unsigned int ntags = 0, w = below(g, 100), l3 = below(g, 100), proto;
	uint8_t *d = f->data;
	size_t off;

	for (unsigned int acc = 0; ntags < 4 && w >= acc + tag_weights[ntags]; ntags++)
		acc += tag_weights[ntags];
	if (l3 < 45)
		proto = 0x0800;
	else if (l3 < 80)
		proto = 0x86dd;
	else if (l3 < 85)
		proto = 0x0806;
	else if (l3 < 90)
		proto = below(g, 2) ? 0x8100 : 0x88a8; /* a tag announced, never delivered */
	else
		proto = (unsigned int)below(g, 0x10000);

	fill(g, d, 12); /* MAC addresses */
	off = 12;
	for (unsigned int i = 0; i < ntags; i++) {
		put16(d + off, below(g, 2) ? 0x8100 : 0x88a8);
		put16(d + off + 2, below(g, 0x10000)); /* TCI: PCP, DEI, VID, anything */
		off += 4;
	}
	put16(d + off, proto);
	off += 2;

	/* Now and then, the header of the other IP version behind the EtherType. */
	if ((proto == 0x0800 || proto == 0x86dd) && below(g, 20) == 0)
		proto ^= 0x0800 ^ 0x86dd;
	if (proto == 0x0800) {
		unsigned int ihl = 5, version = 4, r = below(g, 100);
		size_t hlen;

		if (r < 30)
			ihl = below(g, 16);
		else if (r < 40)
			ihl = 5 + below(g, 11);
		if (below(g, 100) < 12)
			version = below(g, 16);
		hlen = (ihl < 5 ? 5 : ihl) * 4;
		fill(g, d + off, hlen);
		d[off] = (uint8_t)(version << 4 | ihl);
		if (below(g, 2)) {
			/* A plausible header: lengths, TTL, protocol; fragments often. */
			put16(d + off + 2, (unsigned int)(len > off ? len - off : 20));
			d[off + 8] = 64;
			d[off + 9] = (uint8_t)(below(g, 3) == 0 ? 6 : below(g, 2) ? 17 : 1);
			put16(d + off + 6, below(g, 3) ? 0 : below(g, 0x10000));
		}
		if (ihl > 5 && below(g, 2)) {
			/* Real option kinds: NOP, EOL, record route, timestamp, junk. */
			for (size_t o = 20; o < hlen; o++)
				d[off + o] = (uint8_t)(below(g, 3) ? 1 : below(g, 2) ? 0 : 7);
		}
		pick_addr(g, 4, d + off + 16);
		off += hlen;
	} else if (proto == 0x86dd) {
		static const uint8_t next[] = {0, 43, 44, 60, 59, 6, 17, 58, 51, 50};
		unsigned int version = below(g, 100) < 12 ? below(g, 16) : 6;

		fill(g, d + off, 40);
		d[off] = (uint8_t)(version << 4 | (d[off] & 0xf));
		d[off + 6] = below(g, 4) ? next[below(g, sizeof(next))] : (uint8_t)rnd(g);
		put16(d + off + 4,
		      len > off + 40 ? (unsigned int)(len - off - 40) : below(g, 0x10000));
		pick_addr(g, 6, d + off + 24);
		off += 40;
	} else if (proto == 0x0806) {
		fill(g, d + off, 28);
		off += 28;
	}
	if (len < off)
		len = off;
	fill_body(g, f, off, len);
	return off;
}

static void make_random(struct gen *g, struct frame *f)
{
	static const unsigned int protos[] = {0x0800, 0x86dd, 0x8100, 0x88a8};
	size_t len = pick_len(g);

	fill(g, f->data, len < 256 ? len : 256);
	if (len > 256)
		memset(f->data + 256, (int)below(g, 256), len - 256);
	f->len = len;
	/* Half of them claim to be something the program looks into. */
	if (below(g, 2))
		put16(f->data + 12, protos[below(g, 4)]);
}

/* One to eight random bytes or bits changed in the first 96 bytes. */
static void mutate(struct gen *g, struct frame *f)
{
	size_t span = f->len < 96 ? f->len : 96;
	unsigned int n = 1 + below(g, 8);

	for (unsigned int i = 0; i < n; i++) {
		size_t at = below(g, (unsigned int)span);

		if (below(g, 2))
			f->data[at] ^= (uint8_t)(1u << below(g, 8));
		else
			f->data[at] = (uint8_t)rnd(g);
	}
}

static void next_job(struct gen *g, struct job *j)
{
	unsigned int r;

	j->repeat = 1;
	if (g->sweep_next) {
		memcpy(j->f.data, g->sweep.data, g->sweep_next);
		j->f.len = g->sweep_next;
		if (++g->sweep_next > g->sweep.len)
			g->sweep_next = 0;
		return;
	}
	r = below(g, 1000);
	if (r < 150) {
		make_random(g, &j->f);
	} else if (r < 650) {
		make_structured(g, &j->f, pick_len(g));
	} else if (r < 850) {
		make_structured(g, &j->f, pick_len(g));
		mutate(g, &j->f);
	} else if (r < 985) {
		/* A random truncation, usually within or just past the headers. */
		size_t end = make_structured(g, &j->f, pick_len(g));
		size_t cut = below(g, 4) ? end + 8 : j->f.len;

		if (cut > j->f.len)
			cut = j->f.len;
		j->f.len = MIN_LEN + below(g, (unsigned int)(cut - MIN_LEN + 1));
	} else if (r < 988 || (r == 999 && below(g, 64))) {
		/* Every truncation, from 14 bytes to 16 past the headers, one frame each. */
		size_t end = make_structured(g, &g->sweep, 0);

		fill_body(g, &g->sweep, end, end + 16);
		memcpy(j->f.data, g->sweep.data, MIN_LEN);
		j->f.len = MIN_LEN;
		g->sweep_next = MIN_LEN + 1;
	} else if (r < 999) {
		make_structured(g, &j->f, pick_len(g));
	} else {
		/*
		 * The same frame many times in one run, rarely: a run with repeat > 1 swaps the
		 * kernel's XDP dispatcher twice (text poking and IPIs, milliseconds in a VM), so
		 * it saves nothing here; it is kept to check that repeats are counted too.
		 */
		make_structured(g, &j->f, pick_len(g));
		j->repeat = 2 + below(g, 999);
	}
}

/* ---- the program, its counters, and the test ---- */

static struct pw_bpf *bpf;
static struct pw_anat_source anat;
static struct ref_set ref_a, ref_b;

struct totals {
	struct pw_counter ids[N_IDS];
	struct pw_counter classes[PW_CLASS_MAX];
	struct pw_counter iface;
	/* the protocol classes (flood anatomy), all ids in slot 0: they add up to the ids */
	struct pw_counter anat;
};

static void read_totals(struct totals *t)
{
	struct pw_counter a[PW_PROTOS];

	assert_int_equal(pw_bpf_read_counters(bpf, N_IDS, t->ids), 0);
	assert_int_equal(pw_bpf_read_classes(bpf, t->classes), 0);
	assert_int_equal(pw_bpf_iface_read(bpf, LO_IFINDEX, &t->iface), 0);
	assert_int_equal(anat.read_classes(anat.ctx, 1, a), 0);
	t->anat = (struct pw_counter){ 0, 0 };
	for (unsigned int c = 0; c < PW_PROTOS; c++) {
		t->anat.packets += a[c].packets;
		t->anat.bytes += a[c].bytes;
	}
}

static void add(struct totals *t, struct verdict v, uint64_t packets, uint64_t bytes)
{
	struct pw_counter *c = v.where == W_ID ? &t->ids[v.index] : &t->classes[v.index];

	c->packets += packets;
	c->bytes += bytes;
	t->iface.packets += packets;
	t->iface.bytes += bytes;
	if (v.where == W_ID) {
		t->anat.packets += packets;
		t->anat.bytes += bytes;
	}
}

static void load_set(const char *const *texts, size_t n, uint32_t first_id, struct ref_set *ref)
{
	struct pw_prefix p[32];
	uint32_t ids[32];
	char err[256];

	assert_true(n <= 32);
	ref->n = n;
	for (size_t i = 0; i < n; i++) {
		if (pw_prefix_parse(texts[i], &p[i], err, sizeof(err)))
			fail_msg("%s: %s", texts[i], err);
		ids[i] = first_id + (uint32_t)i;
		ref->p[i].family = p[i].family == AF_INET ? 4 : 6;
		ref->p[i].len = p[i].len;
		memcpy(ref->p[i].addr, p[i].addr, sizeof(p[i].addr));
		ref->p[i].id = ids[i];
	}
	assert_int_equal(pw_bpf_set_prefixes(bpf, p, ids, n), 0);
}

/* Run one job; any verdict but XDP_PASS, or a refused run, fails the test at once. */
static void run_job(const struct job *j, unsigned long serial)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = j->f.data,
		    .data_size_in = (uint32_t)j->f.len, .repeat = j->repeat);

	if (bpf_prog_test_run_opts(pw_bpf_prog_fd(bpf), &opts))
		fail_msg("run %lu (len %zu): BPF_PROG_TEST_RUN failed: %s", serial, j->f.len,
			 strerror(errno));
	if (opts.retval != XDP_PASS)
		fail_msg("run %lu (len %zu): verdict %u, want XDP_PASS", serial, j->f.len,
			 opts.retval);
}

static const char *place(struct verdict v, char *buf, size_t len)
{
	static const char *const names[] = {"unmatched IPv4", "unmatched IPv6", "non-IP",
					    "malformed"};

	if (v.where == W_ID)
		snprintf(buf, len, "id %u", v.index);
	else
		snprintf(buf, len, "class %s", names[v.index]);
	return buf;
}

/* Where did one run land? The single counter that moved; where = -1 if not exactly one. */
static struct verdict landed(const struct totals *a, const struct totals *b)
{
	struct verdict v = {-1, 0};
	int moved = 0;

	for (unsigned int i = 0; i < N_IDS; i++)
		if (b->ids[i].packets != a->ids[i].packets) {
			v = (struct verdict){W_ID, i};
			moved++;
		}
	for (unsigned int c = 0; c < PW_CLASS_MAX; c++)
		if (b->classes[c].packets != a->classes[c].packets) {
			v = (struct verdict){W_CLASS, c};
			moved++;
		}
	if (moved != 1)
		v.where = -1;
	return v;
}

static void hexdump(const uint8_t *d, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len && i < 96 && o + 4 < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%02x%s", d[i], i % 2 ? " " : "");
	if (len > 96 && o + 4 < outlen)
		snprintf(out + o, outlen - o, "...");
}

/*
 * Run one job with a snapshot on either side: it must land where the reference says, by
 * exactly repeat packets and repeat x len bytes, and be counted at the interface.
 */
static void run_checked(const struct job *j, const struct ref_set *set, unsigned long serial)
{
	struct verdict exp = ref_classify(set, j->f.data, j->f.len), act;
	char hex[400], want[32], got[32];
	struct totals a, b;

	read_totals(&a);
	run_job(j, serial);
	read_totals(&b);
	act = landed(&a, &b);
	if (act.where == exp.where && act.index == exp.index) {
		const struct pw_counter *ca =
			act.where == W_ID ? &a.ids[act.index] : &a.classes[act.index];
		const struct pw_counter *cb =
			act.where == W_ID ? &b.ids[act.index] : &b.classes[act.index];

		if (cb->packets - ca->packets == j->repeat &&
		    cb->bytes - ca->bytes == (uint64_t)j->repeat * j->f.len &&
		    b.iface.packets - a.iface.packets == j->repeat &&
		    b.iface.bytes - a.iface.bytes == (uint64_t)j->repeat * j->f.len)
			return;
	}
	hexdump(j->f.data, j->f.len, hex, sizeof(hex));
	fail_msg("run %lu (len %zu, repeat %u): counted at %s, reference says %s; frame: %s",
		 serial, j->f.len, j->repeat,
		 act.where < 0 ? "no single counter" : place(act, got, sizeof(got)),
		 place(exp, want, sizeof(want)), hex);
}

/*
 * The counters disagree with the reference somewhere in the chunk that started at @saved:
 * run it again one job at a time, and fail on the first job that goes wrong alone.
 */
static void find_culprit(const struct gen *saved, unsigned long jobs, unsigned long first_serial)
{
	static struct gen g;
	static struct job j;

	g = *saved;
	for (unsigned long k = 0; k < jobs; k++) {
		next_job(&g, &j);
		run_checked(&j, g.set, first_serial + k);
	}
	fail_msg("counters disagree with the reference in the chunk from run %lu, but no single "
		 "run does when run alone",
		 first_serial);
}

static void compare(const struct totals *base, const struct totals *now, const struct totals *exp,
		    const struct gen *saved, unsigned long jobs, unsigned long first_serial)
{
	bool same = now->iface.packets - base->iface.packets == exp->iface.packets &&
		    now->iface.bytes - base->iface.bytes == exp->iface.bytes &&
		    now->anat.packets - base->anat.packets == exp->anat.packets &&
		    now->anat.bytes - base->anat.bytes == exp->anat.bytes;

	for (unsigned int i = 0; same && i < N_IDS; i++)
		same = now->ids[i].packets - base->ids[i].packets == exp->ids[i].packets &&
		       now->ids[i].bytes - base->ids[i].bytes == exp->ids[i].bytes;
	for (unsigned int c = 0; same && c < PW_CLASS_MAX; c++)
		same = now->classes[c].packets - base->classes[c].packets ==
			       exp->classes[c].packets &&
		       now->classes[c].bytes - base->classes[c].bytes == exp->classes[c].bytes;
	if (!same)
		find_culprit(saved, jobs, first_serial);
}

static unsigned long env_ulong(const char *name, unsigned long def)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	if (!v || !*v)
		return def;
	errno = 0;
	n = strtoul(v, &end, 0);
	if (errno || *end)
		fail_msg("%s=%s: not a number", name, v);
	return n;
}

static void test_fuzz_frames(void **state)
{
	static struct gen g, saved;
	static struct job j;
	struct totals start, base, now, exp = {0};
	unsigned long want = env_ulong("PW_FUZZ_FRAMES", DEFAULT_FRAMES);
	unsigned long seed = env_ulong("PW_FUZZ_SEED", DEFAULT_SEED);
	unsigned long serial = 0, chunk_jobs = 0, chunk_first = 0, distinct = 0;
	uint64_t frames = 0, bytes = 0, sum_p = 0, sum_b = 0, repeated = 0;
	struct timespec t0, t1;
	bool swapped = false;
	double secs;

	(void)state;
	load_set(set_a, N_A, 0, &ref_a);
	memset(&g, 0, sizeof(g));
	g.rng = seed;
	g.set = &ref_a;
	printf("# seed %#lx (PW_FUZZ_SEED), %lu frames wanted (PW_FUZZ_FRAMES)\n", seed, want);
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	read_totals(&base);
	start = base;
	saved = g;
	while (frames < want || g.sweep_next) {
		/* Halfway, swap in the other prefix set, between two checked chunks. */
		if (!swapped && frames >= want / 2 && !g.sweep_next && chunk_jobs == 0) {
			load_set(set_b, N_B, N_A, &ref_b);
			g.set = &ref_b;
			saved = g;
			swapped = true;
		}
		next_job(&g, &j);
		run_job(&j, serial++);
		add(&exp, ref_classify(g.set, j.f.data, j.f.len), j.repeat,
		    (uint64_t)j.repeat * j.f.len);
		frames += j.repeat;
		repeated += j.repeat > 1 ? j.repeat : 0;
		bytes += (uint64_t)j.repeat * j.f.len;
		distinct++;
		if (++chunk_jobs == CHUNK || (frames >= want && !g.sweep_next)) {
			read_totals(&now);
			compare(&base, &now, &exp, &saved, chunk_jobs, chunk_first);
			/* From here on, expectations are relative to this checkpoint. */
			base = now;
			memset(&exp, 0, sizeof(exp));
			saved = g;
			chunk_first = serial;
			chunk_jobs = 0;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	/* The partition: every frame and byte run is in exactly one counter. */
	read_totals(&now);
	for (unsigned int i = 0; i < N_IDS; i++) {
		now.ids[i].packets -= start.ids[i].packets;
		now.ids[i].bytes -= start.ids[i].bytes;
		sum_p += now.ids[i].packets;
		sum_b += now.ids[i].bytes;
	}
	for (unsigned int c = 0; c < PW_CLASS_MAX; c++) {
		now.classes[c].packets -= start.classes[c].packets;
		now.classes[c].bytes -= start.classes[c].bytes;
		sum_p += now.classes[c].packets;
		sum_b += now.classes[c].bytes;
	}
	now.iface.packets -= start.iface.packets;
	now.iface.bytes -= start.iface.bytes;
	printf("# fuzzed %" PRIu64 " frames (%lu runs, %" PRIu64
	       " of the frames from repeats; %" PRIu64 " bytes) in %.1f s, %.0f frames/s\n",
	       frames, distinct, repeated, bytes, secs, (double)frames / secs);
	printf("# classes: unmatched v4 %llu, unmatched v6 %llu, non-IP %llu, malformed %llu; "
	       "in prefixes %llu\n",
	       (unsigned long long)now.classes[PW_CLASS_UNMATCHED_V4].packets,
	       (unsigned long long)now.classes[PW_CLASS_UNMATCHED_V6].packets,
	       (unsigned long long)now.classes[PW_CLASS_NON_IP].packets,
	       (unsigned long long)now.classes[PW_CLASS_MALFORMED].packets,
	       (unsigned long long)(sum_p - now.classes[0].packets - now.classes[1].packets -
				    now.classes[2].packets - now.classes[3].packets));
	fflush(stdout);
	assert_true(frames >= want);
	assert_int_equal(sum_p, frames);
	assert_int_equal(sum_b, bytes);
	assert_int_equal(now.iface.packets, frames);
	assert_int_equal(now.iface.bytes, bytes);
	/* Every class must have been reached, or the generator has gone blind somewhere. */
	if (want >= 100000)
		for (unsigned int c = 0; c < PW_CLASS_MAX; c++)
			assert_true(now.classes[c].packets > 0);
}

/*
 * Every truncation of every header stack the program knows: 0 to 4 tags of either TPID,
 * then IPv4 (IHL 5 and 15), IPv6 or ARP, with a matching destination. Cut short anywhere
 * before its headers end, a frame is malformed (or non-IP, once a third tag hides the rest).
 */
static void test_every_truncation(void **state)
{
	static struct frame full;
	static struct job j;
	unsigned long serial = 0;
	uint8_t v4[4] = {10, 1, 2, 3}, v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1};

	(void)state;
	load_set(set_a, N_A, 0, &ref_a);
	for (unsigned int ntags = 0; ntags <= 4; ntags++) {
		for (unsigned int tpids = 0; tpids < (1u << ntags); tpids++) {
			for (unsigned int l3 = 0; l3 < 4; l3++) {
				size_t off = 12;

				memset(full.data, 0xa5, 200);
				for (unsigned int t = 0; t < ntags; t++) {
					put16(full.data + off, tpids >> t & 1 ? 0x88a8 : 0x8100);
					put16(full.data + off + 2, 100 + t);
					off += 4;
				}
				put16(full.data + off, l3 < 2 ? 0x0800 : l3 == 2 ? 0x86dd : 0x0806);
				off += 2;
				if (l3 < 2) {
					size_t hlen = l3 ? 60 : 20;

					memset(full.data + off, 1, hlen);
					full.data[off] = (uint8_t)(0x40 | hlen / 4);
					memcpy(full.data + off + 16, v4, 4);
					off += hlen;
				} else if (l3 == 2) {
					memset(full.data + off, 0, 40);
					full.data[off] = 0x60;
					memcpy(full.data + off + 24, v6, 16);
					off += 40;
				} else {
					off += 28;
				}
				full.len = off + 8;
				for (size_t len = MIN_LEN; len <= full.len; len++) {
					memcpy(j.f.data, full.data, len);
					j.f.len = len;
					j.repeat = 1;
					run_checked(&j, &ref_a, serial++);
				}
			}
		}
	}
	printf("# %lu truncations run, each checked alone\n", serial);
}

static int setup(void **state)
{
	/* Room for both sets' ids; the tables need only a few entries. */
	struct pw_bpf_opts o = {.max_v4 = 64, .max_v6 = 64};
	int err;

	(void)state;
	pw_log_hook_libbpf();
	err = pw_bpf_open(&o, &bpf);
	if (!err)
		err = pw_bpf_load(bpf);
	if (!err)
		err = pw_anat_bpf_source(bpf, &anat);
	if (!err)
		err = pw_bpf_iface_add(bpf, LO_IFINDEX);
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
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_fuzz_frames),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests_name("bpf fuzz", tests, setup, teardown);
}
