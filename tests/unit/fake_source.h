/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * fake_source.h - a fake kernel for the unit tests of the poller, exporter and watch.
 *
 * It stands in for the BPF maps: an array of counters indexed by id, and the prefix ->
 * (id, anatomy slot) table the poller last wrote. deliver() counts packets the way the XDP program does, once,
 * at the most specific prefix of that table. Include it after <cmocka.h>.
 */
#ifndef PW_TEST_FAKE_SOURCE_H
#define PW_TEST_FAKE_SOURCE_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "poller.h"

#define FAKE_IDS 64

struct fake {
	struct pw_counter c[FAKE_IDS];	/* the counter map, by id */
	struct pw_prefix pfx[FAKE_IDS]; /* the live prefix table */
	uint32_t ids[FAKE_IDS];	  /* each prefix's counter id */
	uint32_t slots[FAKE_IDS]; /* and anatomy slot */
	size_t n;
	int sets;
	int fail_set, fail_read; /* -errno to return, or 0 */
	int fail_set_at;	 /* when > 0: the write that many calls from now fails, -EIO */
	/* packets that reach @inflight_id (under the old table) while the tables flip */
	long inflight_id;
	uint64_t inflight_packets, inflight_bytes;
	uint64_t unmatched;
	/* a fake monotonic clock (fake_clock), moved on by @set_seconds by each table write */
	double now, set_seconds;
};

static inline double fake_clock(void *ctx)
{
	return ((struct fake *)ctx)->now;
}

static inline int fake_read(void *ctx, uint32_t n, struct pw_counter *out)
{
	struct fake *f = ctx;

	if (f->fail_read)
		return f->fail_read;
	assert_true(n <= FAKE_IDS);
	memcpy(out, f->c, n * sizeof(*out));
	return 0;
}

static inline int fake_set(void *ctx, const struct pw_prefix *pfx, const uint32_t *refs, size_t n)
{
	struct fake *f = ctx;

	if (f->fail_set)
		return f->fail_set;
	if (f->fail_set_at > 0 && --f->fail_set_at == 0)
		return -EIO;
	if (f->inflight_id >= 0) {
		f->c[f->inflight_id].packets += f->inflight_packets;
		f->c[f->inflight_id].bytes += f->inflight_bytes;
		f->inflight_id = -1;
	}
	assert_true(n <= FAKE_IDS);
	for (size_t i = 0; i < n; i++) {
		/* Prefixes of one class share an id (poller.h). */
		assert_true(PW_REF_ID(refs[i]) < FAKE_IDS);
		assert_true(PW_REF_SLOT(refs[i]) < PW_MAX_SLOTS);
		f->pfx[i] = pfx[i];
		f->ids[i] = PW_REF_ID(refs[i]);
		f->slots[i] = PW_REF_SLOT(refs[i]);
	}
	f->n = n;
	f->sets++;
	f->now += f->set_seconds;
	return 0;
}

static inline struct pw_prefix P(const char *s)
{
	struct pw_prefix p;
	char err[256];

	if (pw_prefix_parse(s, &p, err, sizeof(err)))
		fail_msg("%s: %s", s, err);
	return p;
}

/*
 * True when the first @len bits of @a and @b agree: a plain bit-by-bit compare, written
 * here so the fake's matches do not come from the code under test (pw_prefix_contains).
 */
static inline int fake_same_bits(const uint8_t *a, const uint8_t *b, unsigned int len)
{
	for (unsigned int bit = 0; bit < len; bit++) {
		unsigned int x = (a[bit / 8] >> (7 - bit % 8)) & 1;
		unsigned int y = (b[bit / 8] >> (7 - bit % 8)) & 1;

		if (x != y)
			return 0;
	}
	return 1;
}

/* Index in the fake's table of the longest prefix holding @addr (text), or -1. */
static inline long fake_match(const struct fake *f, const char *addr)
{
	char text[64];
	struct pw_prefix a;
	long best = -1;

	snprintf(text, sizeof(text), "%s/%d", addr, strchr(addr, ':') ? 128 : 32);
	a = P(text);
	for (size_t i = 0; i < f->n; i++)
		if (f->pfx[i].family == a.family &&
		    fake_same_bits(f->pfx[i].addr, a.addr, f->pfx[i].len) &&
		    (best < 0 || f->pfx[i].len > f->pfx[best].len))
			best = (long)i;
	return best;
}

/* Count @count packets of @bytes each to address @addr, at its longest match. */
static inline void deliver(struct fake *f, const char *addr, unsigned int count, unsigned int bytes)
{
	long best = fake_match(f, addr);

	if (best < 0) {
		f->unmatched += count;
		return;
	}
	f->c[f->ids[best]].packets += count;
	f->c[f->ids[best]].bytes += (uint64_t)count * bytes;
}

/* A fresh fake, and a pw_source over it for ids 0..@max_ids-1. */
static inline struct pw_source fake_source(struct fake *f, uint32_t max_ids)
{
	struct pw_source src = {
		.ctx = f, .max_ids = max_ids, .read_counters = fake_read, .set_prefixes = fake_set
	};

	memset(f, 0, sizeof(*f));
	f->inflight_id = -1;
	assert_true(max_ids <= FAKE_IDS);
	return src;
}

/*
 * Append [group NAME] with the prefixes in @ap (NULL-terminated), sorted and without
 * duplicates, as pw_config_load() leaves them, with the default detector settings.
 */
static inline struct pw_group *fake_group(struct pw_config *cfg, const char *name, va_list ap)
{
	struct pw_group *g;
	const char *s;
	size_t out = 0;

	cfg->groups = realloc(cfg->groups, (cfg->n_groups + 1) * sizeof(*cfg->groups));
	assert_non_null(cfg->groups);
	g = &cfg->groups[cfg->n_groups++];
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->line = (int)cfg->n_groups;
	pw_detect_defaults(&g->det);
	while ((s = va_arg(ap, const char *))) {
		g->prefixes = realloc(g->prefixes, (g->n_prefixes + 1) * sizeof(*g->prefixes));
		assert_non_null(g->prefixes);
		g->prefixes[g->n_prefixes++] = P(s);
	}
	if (g->n_prefixes)
		qsort(g->prefixes, g->n_prefixes, sizeof(*g->prefixes), pw_prefix_cmp);
	for (size_t i = 0; i < g->n_prefixes; i++)
		if (!out || !pw_prefix_equal(&g->prefixes[out - 1], &g->prefixes[i]))
			g->prefixes[out++] = g->prefixes[i];
	g->n_prefixes = g->cap = out;
	return g;
}

#endif /* PW_TEST_FAKE_SOURCE_H */
