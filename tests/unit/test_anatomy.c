// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_anatomy.c - flood anatomy in userspace: slots for overlapping groups, per-group class
 * totals (exact, monotonic across reloads), vectors, targets, class floods and their events,
 * the exported counters, the reflector table. The kernel is faked: fake_source.h for the
 * prefix counters, and here its class counters and samples, counted the way bpf/count.h
 * does (at the slot the poller wrote beside the id in the tables, in the packet's class).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "anatomy.h"
#include "fake_source.h"
#include "watch.h"

struct fake_anat {
	struct fake *f;
	struct pw_counter c[PW_MAX_SLOTS * PW_PROTOS];
	struct pw_sample smp[4096];
	size_t n_smp;
};

static int fa_read_classes(void *ctx, uint32_t n_slots, struct pw_counter *out)
{
	struct fake_anat *fa = ctx;

	memcpy(out, fa->c, (size_t)n_slots * PW_PROTOS * sizeof(*out));
	return 0;
}

static int fa_read_samples(void *ctx, struct pw_sample *out, size_t cap, size_t *n)
{
	struct fake_anat *fa = ctx;

	*n = fa->n_smp < cap ? fa->n_smp : cap;
	memcpy(out, fa->smp, *n * sizeof(*out));
	fa->n_smp = 0;
	return 0;
}

/*
 * @count packets of @bytes to @addr in class @cls: at the prefix counter (fake_source.h),
 * at its slot's class counter, and (every one, in this fake) as a sample with @sport.
 */
static void send_cls(struct fake_anat *fa, const char *addr, unsigned int cls, unsigned int count,
		     unsigned int bytes, int sport)
{
	char text[64];
	struct pw_prefix a;
	long best = -1;

	deliver(fa->f, addr, count, bytes);
	snprintf(text, sizeof(text), "%s/%d", addr, strchr(addr, ':') ? 128 : 32);
	a = P(text);
	for (size_t i = 0; i < fa->f->n; i++)
		if (pw_prefix_contains(&fa->f->pfx[i], &a) &&
		    (best < 0 || fa->f->pfx[i].len > fa->f->pfx[best].len))
			best = (long)i;
	if (best < 0)
		return;
	{
		uint32_t slot = fa->f->slots[best];
		struct pw_counter *c = &fa->c[slot * PW_PROTOS + cls];

		c->packets += count;
		c->bytes += (uint64_t)count * bytes;
		for (unsigned int k = 0; k < count && fa->n_smp < 4096; k++) {
			struct pw_sample *s = &fa->smp[fa->n_smp++];

			memset(s, 0, sizeof(*s));
			s->family = a.family == AF_INET6 ? 6 : 4;
			memcpy(s->daddr, a.addr, 16);
			s->slot = (uint16_t)slot;
			s->pclass = (uint8_t)cls;
			s->bytes = bytes;
			s->ipproto = cls == PW_PROTO_UDP ? 17 : 6;
			if (sport >= 0) {
				s->sport = (uint16_t)sport;
				s->flags = PW_SAMPLE_PORT;
			}
		}
	}
}

/* ---- fixture ---- */

struct rec {
	char json[4096];
	bool start;
	char cls[24];
};

struct fx {
	struct fake f;
	struct fake_anat fa;
	struct pw_anatomy anat;
	struct pw_poller pl;
	struct pw_watch w;
	struct rec rec[32];
	int n_rec;
	double now;
};

static void record(void *ctx, const struct pw_watch_item *it, const struct pw_event *ev)
{
	struct fx *x = ctx;
	struct rec *r;
	struct pw_buf b = {0};

	if (ev->kind != PW_ALARM_FLOOD)
		return;
	assert_true(x->n_rec < 32);
	r = &x->rec[x->n_rec++];
	memset(r, 0, sizeof(*r));
	r->start = ev->start;
	snprintf(r->cls, sizeof(r->cls), "%s", it->pclass ? it->pclass : "");
	pw_event_json(it, ev, &b);
	assert_false(b.oom);
	assert_true(b.len < sizeof(r->json));
	memcpy(r->json, b.data, b.len);
	pw_buf_free(&b);
}

static void group(struct pw_config *cfg, const char *name, ...)
{
	struct pw_group *g;
	va_list ap;

	va_start(ap, name);
	g = fake_group(cfg, name, ap);
	va_end(ap);
	g->det.warmup = 5;
}

static void fx_start(struct fx *x, struct pw_config *cfg)
{
	struct pw_source src;
	struct pw_anat_source as = {.ctx = &x->fa,
				    .read_classes = fa_read_classes,
				    .read_samples = fa_read_samples};

	src = fake_source(&x->f, FAKE_IDS);
	x->fa.f = &x->f;
	assert_int_equal(pw_poller_init(&x->pl, &src), 0);
	pw_watch_init(&x->w, record, x);
	assert_int_equal(pw_anatomy_init(&x->anat, &as), 0);
	x->w.anat = &x->anat;
	x->now = 1000;
	assert_int_equal(pw_poller_apply(&x->pl, cfg, x->now), 0);
	assert_int_equal(pw_watch_sync(&x->w, &x->pl, x->now), 0);
	assert_int_equal(pw_poller_poll(&x->pl, x->now), 0);
}

static void fx_step(struct fx *x)
{
	x->now += 1;
	assert_int_equal(pw_poller_poll(&x->pl, x->now), 0);
	pw_watch_step(&x->w, &x->pl, x->now);
}

static void fx_end(struct fx *x)
{
	pw_watch_free(&x->w);
	pw_anatomy_free(&x->anat);
	pw_poller_free(&x->pl);
}

static const struct pw_anat_group *ag(const struct fx *x, const char *name)
{
	for (size_t i = 0; i < x->anat.n_groups; i++)
		if (!strcmp(x->anat.g[i].name, name))
			return &x->anat.g[i];
	fail_msg("no anatomy group %s", name);
	return NULL;
}

static const struct pw_gview *gv(const struct fx *x, const char *name)
{
	for (size_t i = 0; i < x->pl.n_groups; i++)
		if (!strcmp(x->pl.g[i].cfg->name, name))
			return &x->pl.g[i];
	fail_msg("no group %s", name);
	return NULL;
}

static void expect_sum_equals_group(const struct fx *x, const char *name)
{
	const struct pw_anat_group *a = ag(x, name);
	uint64_t p = 0, b = 0;

	for (unsigned int c = 0; c < PW_PROTOS; c++) {
		p += a->total[c].packets;
		b += a->total[c].bytes;
	}
	assert_int_equal(p, gv(x, name)->in.packets);
	assert_int_equal(b, gv(x, name)->in.bytes);
}

/* ---- tests ---- */

/* Overlapping groups: a packet counts in the classes of every group that holds it. */
static void test_overlapping_groups(void **state)
{
	static struct fx x;
	struct pw_config cfg;

	(void)state;
	pw_config_defaults(&cfg);
	group(&cfg, "wide", "10.0.0.0/8", NULL);
	group(&cfg, "narrow", "10.1.0.0/16", "192.0.2.0/24", NULL);
	group(&cfg, "other", "198.51.100.0/24", "10.1.2.0/24", NULL);
	fx_start(&x, &cfg);
	/* Slots: {wide}, {wide,narrow}, {narrow}, {wide,narrow,other}, {other}. */
	assert_int_equal(x.anat.n_slots, 1 + 5);
	send_cls(&x.fa, "10.9.9.9", PW_PROTO_TCP_SYN, 3, 60, -1);
	send_cls(&x.fa, "10.1.9.9", PW_PROTO_UDP, 5, 100, 53);
	send_cls(&x.fa, "10.1.2.3", PW_PROTO_ICMP, 7, 90, -1);
	send_cls(&x.fa, "192.0.2.1", PW_PROTO_FRAGMENT, 11, 1500, -1);
	send_cls(&x.fa, "198.51.100.1", PW_PROTO_TCP_ACK, 13, 1400, -1);
	fx_step(&x);
	assert_int_equal(ag(&x, "wide")->total[PW_PROTO_TCP_SYN].packets, 3);
	assert_int_equal(ag(&x, "wide")->total[PW_PROTO_UDP].packets, 5);
	assert_int_equal(ag(&x, "wide")->total[PW_PROTO_ICMP].packets, 7);
	assert_int_equal(ag(&x, "wide")->total[PW_PROTO_FRAGMENT].packets, 0);
	assert_int_equal(ag(&x, "narrow")->total[PW_PROTO_TCP_SYN].packets, 0);
	assert_int_equal(ag(&x, "narrow")->total[PW_PROTO_UDP].bytes, 500);
	assert_int_equal(ag(&x, "narrow")->total[PW_PROTO_ICMP].packets, 7);
	assert_int_equal(ag(&x, "narrow")->total[PW_PROTO_FRAGMENT].bytes, 11 * 1500);
	assert_int_equal(ag(&x, "other")->total[PW_PROTO_ICMP].packets, 7);
	assert_int_equal(ag(&x, "other")->total[PW_PROTO_TCP_ACK].packets, 13);
	assert_int_equal(ag(&x, "other")->total[PW_PROTO_UDP].packets, 0);
	expect_sum_equals_group(&x, "wide");
	expect_sum_equals_group(&x, "narrow");
	expect_sum_equals_group(&x, "other");
	fx_end(&x);
}

/* A reload remaps the slots; totals of groups that stay never go backwards. */
static void test_reload_keeps_totals(void **state)
{
	static struct fx x;
	struct pw_config cfg, next;
	uint64_t before;

	(void)state;
	pw_config_defaults(&cfg);
	group(&cfg, "a", "10.0.0.0/8", NULL);
	group(&cfg, "b", "10.1.0.0/16", NULL);
	fx_start(&x, &cfg);
	send_cls(&x.fa, "10.1.1.1", PW_PROTO_UDP, 100, 100, 123);
	fx_step(&x);
	before = ag(&x, "a")->total[PW_PROTO_UDP].packets;
	assert_int_equal(before, 100);
	/* b goes, c comes in front (its index and slots change). */
	pw_config_defaults(&next);
	group(&next, "c", "10.1.1.0/24", NULL);
	group(&next, "a", "10.0.0.0/8", "172.16.0.0/12", NULL);
	assert_int_equal(pw_poller_apply(&x.pl, &next, x.now), 0);
	assert_int_equal(pw_watch_sync(&x.w, &x.pl, x.now), 0);
	assert_int_equal(ag(&x, "a")->total[PW_PROTO_UDP].packets, 100);
	send_cls(&x.fa, "10.1.1.1", PW_PROTO_UDP, 10, 100, 123);
	send_cls(&x.fa, "172.16.0.1", PW_PROTO_UDP, 1, 100, 123);
	fx_step(&x);
	assert_int_equal(ag(&x, "a")->total[PW_PROTO_UDP].packets, 111);
	assert_int_equal(ag(&x, "c")->total[PW_PROTO_UDP].packets, 10);
	expect_sum_equals_group(&x, "c");
	fx_end(&x);
}

static struct pw_sample smp_of(const char *addr, unsigned int cls, int sport, unsigned int bytes,
			       unsigned int flags)
{
	struct pw_sample s = {0};

	s.family = strchr(addr, ':') ? 6 : 4;
	inet_pton(s.family == 6 ? AF_INET6 : AF_INET, addr, s.daddr);
	s.pclass = (uint8_t)cls;
	s.bytes = bytes;
	s.ipproto = cls == PW_PROTO_UDP || cls == PW_PROTO_FRAGMENT ? 17 : 6;
	s.sport = (uint16_t)(sport < 0 ? 0 : sport);
	s.flags = (uint8_t)(sport >= 0 ? PW_SAMPLE_PORT | flags : 0);
	return s;
}

/* DNS amplification in fragments: the later fragments join their datagram's entry. */
static void test_vectors_amplification(void **state)
{
	struct pw_counter d[PW_PROTOS] = {0};
	struct pw_sample s[100];
	struct pw_vector v[PW_PROTOS + 2];
	size_t n = 0, nv;

	(void)state;
	d[PW_PROTO_TCP_ACK] = (struct pw_counter){200, 200 * 100};
	d[PW_PROTO_UDP] = (struct pw_counter){400, 400 * 1500};
	d[PW_PROTO_FRAGMENT] = (struct pw_counter){400, 400 * 1500};
	for (int i = 0; i < 40; i++)
		s[n++] = smp_of("10.0.0.1", PW_PROTO_UDP, 53, 1500, 0);
	for (int i = 0; i < 30; i++)
		s[n++] = smp_of("10.0.0.1", PW_PROTO_FRAGMENT, 53, 1500, PW_SAMPLE_PORT_FROM_FRAG);
	for (int i = 0; i < 10; i++)
		s[n++] = smp_of("10.0.0.1", PW_PROTO_FRAGMENT, -1, 1500, 0);
	for (int i = 0; i < 20; i++)
		s[n++] = smp_of("10.0.0.1", PW_PROTO_TCP_ACK, 443, 100, 0);
	nv = pw_anatomy_vectors(d, NULL, s, n, v, PW_PROTOS + 2);
	assert_int_equal(nv, 3);
	/* UDP 400 + 3/4 of 400 fragments = 700 of 1000 packets, all from port 53. */
	assert_string_equal(v[0].vector, "udp-amplification");
	assert_float_equal(v[0].packets_share, 0.7, 1e-9);
	assert_float_equal(v[0].bytes_share, 700.0 * 1500 / (1000 * 1500 - 200 * 1400), 1e-9);
	assert_int_equal(v[0].source_port, 53);
	assert_string_equal(v[0].service, "dns");
	/* Without baselines, by the sum of both shares: 0.1 + 0.123 against 0.2 + 0.016. */
	assert_string_equal(v[1].vector, "ip-fragments");
	assert_float_equal(v[1].packets_share, 0.1, 1e-9);
	assert_string_equal(v[2].vector, "tcp-ack");
	assert_float_equal(v[2].packets_share, 0.2, 1e-9);
	assert_int_equal(v[2].source_port, -1);
}

/*
 * Ordered by growth over the baselines: a DNS amplification whose capture is mostly the
 * victim's own small TCP segments by packets leads by the bytes it added; a SYN flood over
 * a network of big transfers leads by the packets it added.
 */
static void test_vectors_order_by_growth(void **state)
{
	struct pw_counter d[PW_PROTOS] = {0}, base[PW_PROTOS] = {0};
	struct pw_sample s[100];
	struct pw_vector v[PW_PROTOS + 2];
	size_t n = 0, nv;

	(void)state;
	d[PW_PROTO_TCP_ACK] = (struct pw_counter){6000, 6000 * 400};
	d[PW_PROTO_UDP] = (struct pw_counter){2500, 2500 * 1500};
	base[PW_PROTO_TCP_ACK] = (struct pw_counter){3000, 3000 * 400};
	base[PW_PROTO_UDP] = (struct pw_counter){100, 100 * 200};
	for (int i = 0; i < 50; i++)
		s[n++] = smp_of("10.0.0.1", PW_PROTO_UDP, 53, 1500, 0);
	nv = pw_anatomy_vectors(d, base, s, n, v, PW_PROTOS + 2);
	assert_int_equal(nv, 2);
	assert_string_equal(v[0].vector, "udp-amplification");
	assert_true(v[0].packets_share < v[1].packets_share); /* not by packets */
	assert_int_equal(v[0].source_port, 53);
	/* Without baselines, by the sum of both shares, the TCP segments would lead. */
	nv = pw_anatomy_vectors(d, NULL, s, n, v, PW_PROTOS + 2);
	assert_string_equal(v[0].vector, "tcp-ack");

	memset(d, 0, sizeof(d));
	memset(base, 0, sizeof(base));
	d[PW_PROTO_TCP_ACK] = (struct pw_counter){1000, 1000 * 1400};
	d[PW_PROTO_TCP_SYN] = (struct pw_counter){5000, 5000 * 60};
	base[PW_PROTO_TCP_ACK] = (struct pw_counter){1000, 1000 * 1400};
	base[PW_PROTO_TCP_SYN] = (struct pw_counter){20, 20 * 60};
	nv = pw_anatomy_vectors(d, base, NULL, 0, v, PW_PROTOS + 2);
	assert_int_equal(nv, 2);
	assert_string_equal(v[0].vector, "tcp-syn");
	assert_true(v[0].bytes_share < v[1].bytes_share); /* not by bytes */
}

/* Plain UDP from high ports is "udp"; a port is named only when it holds half; 5% cut. */
static void test_vectors_plain_udp_and_cut(void **state)
{
	struct pw_counter d[PW_PROTOS] = {0};
	struct pw_sample s[100];
	struct pw_vector v[PW_PROTOS + 2];
	size_t n = 0, nv;

	(void)state;
	d[PW_PROTO_UDP] = (struct pw_counter){960, 960 * 500};
	d[PW_PROTO_ICMP] = (struct pw_counter){40, 40 * 500};
	for (int i = 0; i < 60; i++)
		s[n++] = smp_of("10.0.0.1", PW_PROTO_UDP, 40000 + i % 3, 500, 0);
	nv = pw_anatomy_vectors(d, NULL, s, n, v, PW_PROTOS + 2);
	assert_int_equal(nv, 1); /* icmp at 4% is left out */
	assert_string_equal(v[0].vector, "udp");
	assert_int_equal(v[0].source_port, -1); /* three ports of a third each */
	assert_null(v[0].service);
	n = 0;
	for (int i = 0; i < 60; i++)
		s[n++] = smp_of("10.0.0.1", PW_PROTO_UDP, i < 30 ? 40000 : 40001 + i, 500, 0);
	nv = pw_anatomy_vectors(d, NULL, s, n, v, PW_PROTOS + 2);
	assert_int_equal(v[0].source_port, 40000); /* exactly half */
}

/* From samples alone (a prefix's event), shares are the samples' shares. */
static void test_vectors_from_samples(void **state)
{
	struct pw_sample s[10];
	struct pw_vector v[PW_PROTOS + 2];
	size_t nv;

	(void)state;
	for (int i = 0; i < 10; i++)
		s[i] = smp_of("10.0.0.1", i < 8 ? PW_PROTO_TCP_SYN : PW_PROTO_TCP_RST, -1, 60, 0);
	nv = pw_anatomy_vectors(NULL, NULL, s, 10, v, PW_PROTOS + 2);
	assert_int_equal(nv, 2);
	assert_string_equal(v[0].vector, "tcp-syn");
	assert_float_equal(v[0].packets_share, 0.8, 1e-9);
	assert_int_equal(pw_anatomy_vectors(NULL, NULL, s, 0, v, PW_PROTOS + 2), 0);
}

static void test_targets(void **state)
{
	struct pw_sample s[20];
	struct pw_target t[5];
	char txt[64];
	size_t n = 0, nt;

	(void)state;
	for (int i = 0; i < 10; i++)
		s[n++] = smp_of("10.0.0.7", PW_PROTO_TCP_SYN, -1, 60, 0);
	for (int i = 0; i < 3; i++)
		s[n++] = smp_of("10.0.0.8", PW_PROTO_TCP_SYN, -1, 60, 0);
	for (int i = 0; i < 7; i++)
		s[n++] = smp_of(i & 1 ? "2001:db8::1" : "10.0.0.9", PW_PROTO_UDP, 1, 60, 0);
	nt = pw_anatomy_targets(s, n, t, 5);
	assert_int_equal(nt, 4);
	inet_ntop(AF_INET, t[0].addr, txt, sizeof(txt));
	assert_string_equal(txt, "10.0.0.7");
	assert_float_equal(t[0].share, 0.5, 1e-9);
	inet_ntop(AF_INET, t[1].addr, txt, sizeof(txt));
	assert_string_equal(txt, "10.0.0.9");
	assert_float_equal(t[1].share, 0.2, 1e-9);
	assert_int_equal(t[3].family, 6);
	assert_int_equal(pw_anatomy_targets(s, n, t, 2), 2);
	assert_int_equal(pw_anatomy_targets(s, 0, t, 5), 0);
}

/*
 * A SYN flood hidden in a busy group: +58% on the total (under the group's flood line) but
 * 30x its usual SYNs. The tcp-syn class detector raises one flood event within 2 intervals,
 * carrying the class, vectors and the victim; the group's own detector stays quiet.
 */
static void test_hidden_syn_flood(void **state)
{
	static struct fx x;
	struct pw_config cfg;
	int t;

	(void)state;
	pw_config_defaults(&cfg);
	group(&cfg, "busy", "10.0.0.0/16", NULL);
	fx_start(&x, &cfg);
	for (t = 0; t < 60; t++) {
		send_cls(&x.fa, "10.0.0.1", PW_PROTO_TCP_ACK, 2900 + (t % 3) * 20, 1000, 443);
		send_cls(&x.fa, "10.0.0.2", PW_PROTO_TCP_SYN, 100 + (t % 2) * 5, 60, 1000);
		fx_step(&x);
	}
	assert_int_equal(x.n_rec, 0);
	for (t = 0; t < 2 && x.n_rec == 0; t++) {
		send_cls(&x.fa, "10.0.0.1", PW_PROTO_TCP_ACK, 2900, 1000, 443);
		send_cls(&x.fa, "10.0.0.2", PW_PROTO_TCP_SYN, 100, 60, 1000);
		send_cls(&x.fa, "10.0.0.99", PW_PROTO_TCP_SYN, 2900, 60, 1000);
		fx_step(&x);
	}
	assert_int_equal(x.n_rec, 1);
	assert_true(x.rec[0].start);
	assert_string_equal(x.rec[0].cls, "tcp-syn");
	assert_non_null(strstr(x.rec[0].json, "\"class\":\"tcp-syn\""));
	/* What grew leads: the SYNs, though the ACKs' bytes are most of the traffic. */
	assert_non_null(strstr(x.rec[0].json,
			       "\"vectors\":[{\"vector\":\"tcp-syn\",\"packets_share\":0.5"));
	/* The class flood's targets are its class's: the victim, not the busy server. */
	assert_non_null(strstr(x.rec[0].json, "\"targets\":[{\"address\":\"10.0.0.99\""));
	/* It goes on: no second event; then it ends once. */
	for (t = 0; t < 5; t++) {
		send_cls(&x.fa, "10.0.0.1", PW_PROTO_TCP_ACK, 2900, 1000, 443);
		send_cls(&x.fa, "10.0.0.99", PW_PROTO_TCP_SYN, 3000, 60, 1000);
		fx_step(&x);
	}
	assert_int_equal(x.n_rec, 1);
	for (t = 0; t < 5; t++) {
		send_cls(&x.fa, "10.0.0.1", PW_PROTO_TCP_ACK, 2900, 1000, 443);
		send_cls(&x.fa, "10.0.0.2", PW_PROTO_TCP_SYN, 100, 60, 1000);
		fx_step(&x);
	}
	assert_int_equal(x.n_rec, 2);
	assert_false(x.rec[1].start);
	assert_string_equal(x.rec[1].cls, "tcp-syn");
	fx_end(&x);
}

/* A plain flood of the whole group: one event (the group's), with the anatomy. */
static void test_group_flood_one_event(void **state)
{
	static struct fx x;
	struct pw_config cfg;
	int t;

	(void)state;
	pw_config_defaults(&cfg);
	group(&cfg, "kp", "10.0.0.0/16", NULL);
	fx_start(&x, &cfg);
	for (t = 0; t < 30; t++) {
		send_cls(&x.fa, "10.0.0.1", PW_PROTO_UDP, 200, 200, 40000);
		fx_step(&x);
	}
	for (t = 0; t < 3; t++) {
		send_cls(&x.fa, "10.0.0.1", PW_PROTO_UDP, 200, 200, 40000);
		send_cls(&x.fa, "10.0.0.53", PW_PROTO_UDP, 5000, 1400, 123);
		fx_step(&x);
	}
	assert_int_equal(x.n_rec, 1);
	assert_string_equal(x.rec[0].cls, "");
	assert_non_null(strstr(x.rec[0].json, "\"vectors\":[{\"vector\":\"udp-amplification\""));
	assert_non_null(strstr(x.rec[0].json, "\"source_port\":123,\"service\":\"ntp\""));
	assert_non_null(strstr(x.rec[0].json, "\"targets\":[{\"address\":\"10.0.0.53\""));
	fx_end(&x);
}

/* A prefix's own flood (per_prefix = yes): its anatomy comes from its own samples. */
static void test_prefix_flood_event(void **state)
{
	static struct fx x;
	struct pw_config cfg;
	const char *ev = NULL;
	int t;

	(void)state;
	pw_config_defaults(&cfg);
	group(&cfg, "kp", "10.0.0.0/24", "10.0.1.0/24", NULL);
	cfg.groups[0].per_prefix = true;
	fx_start(&x, &cfg);
	for (t = 0; t < 30; t++) {
		send_cls(&x.fa, "10.0.0.1", PW_PROTO_TCP_ACK, 2000, 1000, 443);
		send_cls(&x.fa, "10.0.1.1", PW_PROTO_TCP_ACK, 100, 1000, 443);
		fx_step(&x);
	}
	for (t = 0; t < 3; t++) {
		send_cls(&x.fa, "10.0.0.1", PW_PROTO_TCP_ACK, 2000, 1000, 443);
		send_cls(&x.fa, "10.0.1.1", PW_PROTO_TCP_ACK, 100, 1000, 443);
		send_cls(&x.fa, "10.0.1.7", PW_PROTO_TCP_RST, 1000, 60, 80);
		fx_step(&x);
	}
	for (int i = 0; i < x.n_rec; i++)
		if (x.rec[i].start && strstr(x.rec[i].json, "\"prefix\":\"10.0.1.0/24\""))
			ev = x.rec[i].json;
	assert_non_null(ev);
	assert_non_null(strstr(ev, "\"vectors\":[{\"vector\":\"tcp-rst\""));
	assert_non_null(strstr(ev, "\"targets\":[{\"address\":\"10.0.1.7\""));
	assert_null(strstr(ev, "10.0.0.1")); /* the other prefix's traffic is not in it */
	fx_end(&x);
}

/* A static class threshold (flood_syn_pps) raises a flood during warm-up too. */
static void test_static_class_threshold(void **state)
{
	static struct fx x;
	struct pw_config cfg;

	(void)state;
	pw_config_defaults(&cfg);
	group(&cfg, "kp", "10.0.0.0/16", NULL);
	cfg.groups[0].det.flood_syn_pps = 500;
	cfg.groups[0].det.warmup = 3600;
	fx_start(&x, &cfg);
	send_cls(&x.fa, "10.0.0.1", PW_PROTO_TCP_SYN, 400, 60, 1);
	fx_step(&x);
	send_cls(&x.fa, "10.0.0.1", PW_PROTO_TCP_SYN, 400, 60, 1);
	fx_step(&x);
	assert_int_equal(x.n_rec, 0);
	send_cls(&x.fa, "10.0.0.1", PW_PROTO_TCP_SYN, 600, 60, 1);
	fx_step(&x);
	send_cls(&x.fa, "10.0.0.1", PW_PROTO_TCP_SYN, 600, 60, 1);
	fx_step(&x);
	assert_int_equal(x.n_rec, 1);
	assert_string_equal(x.rec[0].cls, "tcp-syn");
	fx_end(&x);
}

static void test_render(void **state)
{
	static struct fx x;
	struct pw_config cfg;
	struct pw_buf b = {0};

	(void)state;
	pw_config_defaults(&cfg);
	group(&cfg, "kp", "10.0.0.0/16", NULL);
	fx_start(&x, &cfg);
	send_cls(&x.fa, "10.0.0.1", PW_PROTO_TCP_RST, 17, 60, 1);
	fx_step(&x);
	pw_watch_render(&x.w, &b);
	assert_false(b.oom);
	pw_buf_printf(&b, "%c", '\0');
	assert_non_null(strstr(b.data, "# TYPE prefixwatch_group_class_packets_total counter\n"));
	assert_non_null(strstr(b.data, "# TYPE prefixwatch_group_class_bytes_total counter\n"));
	assert_non_null(strstr(
		b.data,
		"prefixwatch_group_class_packets_total{group=\"kp\",class=\"tcp-rst\"} 17\n"));
	assert_non_null(strstr(
		b.data,
		"prefixwatch_group_class_bytes_total{group=\"kp\",class=\"tcp-rst\"} 1020\n"));
	assert_non_null(strstr(
		b.data,
		"prefixwatch_group_class_packets_total{group=\"kp\",class=\"ip-fragments\"} 0\n"));
	pw_buf_free(&b);
	fx_end(&x);
}

static void test_reflector_table(void **state)
{
	static const struct {
		uint16_t port;
		const char *service;
	} want[] = {
		{17, "qotd"},	      {19, "chargen"},	{53, "dns"},	   {111, "portmap"},
		{123, "ntp"},	      {137, "netbios"}, {161, "snmp"},	   {389, "cldap"},
		{500, "isakmp"},      {520, "rip"},	{1194, "openvpn"}, {1434, "mssql"},
		{1701, "l2tp"},	      {1900, "ssdp"},	{3283, "arms"},	   {3702, "wsd"},
		{4500, "isakmp"},     {5353, "mdns"},	{5683, "coap"},	   {10001, "ubnt"},
		{11211, "memcached"}, {32414, "plex"},	{47808, "bacnet"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_non_null(pw_reflector_service(want[i].port));
		assert_string_equal(pw_reflector_service(want[i].port), want[i].service);
	}
	assert_null(pw_reflector_service(80));
	assert_null(pw_reflector_service(0));
	assert_null(pw_reflector_service(40000));
	assert_string_equal(pw_proto_name(PW_PROTO_FRAGMENT), "ip-fragments");
	assert_int_equal(pw_proto_index("tcp-synack"), PW_PROTO_TCP_SYNACK);
	assert_int_equal(pw_proto_index("nope"), -1);
	assert_int_equal(pw_proto_index(NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overlapping_groups),
		cmocka_unit_test(test_reload_keeps_totals),
		cmocka_unit_test(test_vectors_amplification),
		cmocka_unit_test(test_vectors_order_by_growth),
		cmocka_unit_test(test_vectors_plain_udp_and_cut),
		cmocka_unit_test(test_vectors_from_samples),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_hidden_syn_flood),
		cmocka_unit_test(test_group_flood_one_event),
		cmocka_unit_test(test_prefix_flood_event),
		cmocka_unit_test(test_static_class_threshold),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_reflector_table),
	};

	return cmocka_run_group_tests_name("anatomy", tests, NULL, NULL);
}
