// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* poller.c - inclusive counts per prefix and group, rates, monotonic reloads. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "poller.h"

int pw_poller_init(struct pw_poller *pl, const struct pw_source *src)
{
	memset(pl, 0, sizeof(*pl));
	pl->src = *src;
	pl->base = calloc(src->max_ids, sizeof(*pl->base));
	pl->carry = calloc(src->max_ids, sizeof(*pl->carry));
	pl->raw = calloc(src->max_ids, sizeof(*pl->raw));
	pl->used = calloc(src->max_ids, 1);
	if (!pl->base || !pl->carry || !pl->raw || !pl->used) {
		pw_poller_free(pl);
		return -ENOMEM;
	}
	return 0;
}

static void free_view(struct pw_pentry *p, struct pw_gview *g, size_t n_groups)
{
	for (size_t i = 0; i < n_groups; i++) {
		free(g[i].members);
		free(g[i].outer);
	}
	free(g);
	free(p);
}

void pw_poller_free(struct pw_poller *pl)
{
	free_view(pl->p, pl->g, pl->n_groups);
	if (pl->have_cfg)
		pw_config_free(&pl->cfg);
	free(pl->base);
	free(pl->carry);
	free(pl->raw);
	free(pl->used);
	memset(pl, 0, sizeof(*pl));
}

static long find_in(const struct pw_pentry *p, size_t n, const struct pw_prefix *pfx)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = pw_prefix_cmp(&p[mid].pfx, pfx);

		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

long pw_poller_find(const struct pw_poller *pl, const struct pw_prefix *pfx)
{
	return find_in(pl->p, pl->n, pfx);
}

/* Most specific entry of @p holding @q (q itself excluded), or -1. */
static long nearest_ancestor(const struct pw_pentry *p, size_t n, const struct pw_prefix *q)
{
	for (int len = q->len - 1; len >= 0; len--) {
		struct pw_prefix a = *q;
		long i;

		a.len = (uint8_t)len;
		for (unsigned int bit = (unsigned int)len; bit < 128; bit++)
			a.addr[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
		i = find_in(p, n, &a);
		if (i >= 0)
			return i;
	}
	return -1;
}

static struct pw_counter total_of(const struct pw_poller *pl, uint32_t id)
{
	struct pw_counter t = {
		.packets = pl->raw[id].packets - pl->base[id].packets + pl->carry[id].packets,
		.bytes = pl->raw[id].bytes - pl->base[id].bytes + pl->carry[id].bytes,
	};
	return t;
}

/* Inclusive counts from the per-id totals, by range sums over sorted order. */
static int compute(struct pw_poller *pl, struct pw_counter *in_prefix, struct pw_counter *in_group)
{
	struct pw_counter *sum = malloc((pl->n + 1) * sizeof(*sum));

	if (!sum)
		return -ENOMEM;
	sum[0].packets = sum[0].bytes = 0;
	for (size_t i = 0; i < pl->n; i++) {
		struct pw_counter t = total_of(pl, pl->p[i].id);

		sum[i + 1].packets = sum[i].packets + t.packets;
		sum[i + 1].bytes = sum[i].bytes + t.bytes;
	}
	for (size_t i = 0; i < pl->n; i++) {
		in_prefix[i].packets = sum[pl->p[i].end].packets - sum[i].packets;
		in_prefix[i].bytes = sum[pl->p[i].end].bytes - sum[i].bytes;
	}
	for (size_t g = 0; g < pl->n_groups; g++) {
		struct pw_counter c = { 0, 0 };

		for (size_t k = 0; k < pl->g[g].n_outer; k++) {
			c.packets += in_prefix[pl->g[g].outer[k]].packets;
			c.bytes += in_prefix[pl->g[g].outer[k]].bytes;
		}
		c.packets += pl->g[g].offset.packets;
		c.bytes += pl->g[g].offset.bytes;
		in_group[g] = c;
	}
	free(sum);
	return 0;
}

static int read_raw(struct pw_poller *pl)
{
	if (!pl->id_hi)
		return 0;
	return pl->src.read_counters(pl->src.ctx, pl->id_hi, pl->raw);
}

/* The rate from (@from, @from_t) to (@cur, @now); the next one starts where this ends. */
static void set_rate(struct pw_rate *r, struct pw_counter *from, double *from_t,
		     const struct pw_counter *cur, double now)
{
	double dt = *from_t > 0 ? now - *from_t : 0;

	if (dt <= 0) {
		r->pps = r->bps = 0;
	} else {
		r->pps = (double)(cur->packets - from->packets) / dt;
		r->bps = (double)(cur->bytes - from->bytes) * 8.0 / dt;
	}
	*from = *cur;
	*from_t = now;
}

int pw_poller_poll(struct pw_poller *pl, double now)
{
	struct pw_counter *inp, *ing;
	double dt = pl->last_poll > 0 ? now - pl->last_poll : 0;
	int err;

	err = read_raw(pl);
	if (err)
		return err;
	inp = malloc((pl->n + 1) * sizeof(*inp));
	ing = malloc((pl->n_groups + 1) * sizeof(*ing));
	if (!inp || !ing) {
		free(inp);
		free(ing);
		return -ENOMEM;
	}
	err = compute(pl, inp, ing);
	if (!err) {
		for (size_t i = 0; i < pl->n; i++) {
			struct pw_pentry *e = &pl->p[i];

			set_rate(&e->rate, &e->from, &e->from_t, &inp[i], now);
			e->in = inp[i];
		}
		for (size_t g = 0; g < pl->n_groups; g++) {
			struct pw_gview *gv = &pl->g[g];

			set_rate(&gv->rate, &gv->from, &gv->from_t, &ing[g], now);
			gv->in = ing[g];
		}
		pl->last_dt = dt;
		pl->last_poll = now;
	}
	free(inp);
	free(ing);
	return err;
}

static int build_view(const struct pw_config *cfg, struct pw_pentry **pout, size_t *nout,
		      struct pw_gview **gout)
{
	struct pw_pentry *p;
	struct pw_gview *g;
	size_t total = 0, n = 0;

	for (size_t i = 0; i < cfg->n_groups; i++)
		total += cfg->groups[i].n_prefixes;
	p = calloc(total + 1, sizeof(*p));
	g = calloc(cfg->n_groups + 1, sizeof(*g));
	if (!p || !g)
		goto nomem;
	for (size_t i = 0; i < cfg->n_groups; i++)
		for (size_t j = 0; j < cfg->groups[i].n_prefixes; j++)
			p[n++].pfx = cfg->groups[i].prefixes[j];
	qsort(p, n, sizeof(*p), pw_prefix_cmp);
	total = n;
	n = 0;
	for (size_t i = 0; i < total; i++)
		if (!n || !pw_prefix_equal(&p[n - 1].pfx, &p[i].pfx))
			p[n++] = p[i];
	/* Subtree ends: a stack of open ancestors, closed when a prefix leaves them. */
	{
		uint32_t *stack = malloc((n + 1) * sizeof(*stack));
		size_t sp = 0;

		if (!stack)
			goto nomem;
		for (size_t i = 0; i < n; i++) {
			while (sp && !pw_prefix_contains(&p[stack[sp - 1]].pfx, &p[i].pfx))
				p[stack[--sp]].end = (uint32_t)i;
			stack[sp++] = (uint32_t)i;
		}
		while (sp)
			p[stack[--sp]].end = (uint32_t)n;
		free(stack);
	}
	for (size_t i = 0; i < cfg->n_groups; i++) {
		const struct pw_group *cg = &cfg->groups[i];
		uint32_t last_end = 0;

		g[i].cfg = cg;
		g[i].members = malloc((cg->n_prefixes + 1) * sizeof(uint32_t));
		g[i].outer = malloc((cg->n_prefixes + 1) * sizeof(uint32_t));
		if (!g[i].members || !g[i].outer) {
			free_view(p, g, i + 1);
			return -ENOMEM;
		}
		/* The group's prefixes are sorted too, so members come out in order. */
		for (size_t j = 0; j < cg->n_prefixes; j++) {
			uint32_t k = (uint32_t)find_in(p, n, &cg->prefixes[j]);

			g[i].members[g[i].n_members++] = k;
			if (k >= last_end) {
				g[i].outer[g[i].n_outer++] = k;
				last_end = p[k].end;
			}
		}
	}
	*pout = p;
	*nout = n;
	*gout = g;
	return 0;
nomem:
	free(p);
	free(g);
	return -ENOMEM;
}

/*
 * A reload in the making: the new view, and what the steps of pw_poller_apply pass on.
 * Per entry of the new view: @fresh, a prefix the old set did not have; @reuses, one that
 * takes an id the old set used (only when no other id is left).
 */
struct reload {
	struct pw_pentry *np;
	size_t nn;
	struct pw_gview *ng;
	bool *fresh, *reuses;
	size_t n_reused;
	/* per id: the raw counter while the id was idle, the last value its old prefix saw */
	struct pw_counter *before;
	/* per old entry: the total of a prefix that goes */
	struct pw_counter *gone;
};

static void reload_free(struct reload *r)
{
	free(r->fresh);
	free(r->reuses);
	free(r->before);
	free(r->gone);
}

/*
 * Ids: a prefix that stays keeps its id (and its counts). A new one takes an id used by
 * neither the old nor the new set when there is one, so packets still in flight under
 * the old set never land on a new prefix; failing that, an id the new set leaves free,
 * which write_tables() retires before handing it over. Returns 0 or -E2BIG.
 */
static int assign_ids(struct pw_poller *pl, struct reload *r)
{
	uint8_t *taken = calloc(pl->src.max_ids + 1, 1);

	if (!taken)
		return -ENOMEM;
	for (size_t i = 0; i < r->nn; i++) {
		long o = find_in(pl->p, pl->n, &r->np[i].pfx);

		r->np[i].id = UINT32_MAX;
		r->fresh[i] = o < 0;
		if (o >= 0) {
			r->np[i].id = pl->p[o].id;
			r->np[i].in = pl->p[o].in;
			r->np[i].rate = pl->p[o].rate;
			r->np[i].from = pl->p[o].from;
			r->np[i].from_t = pl->p[o].from_t;
			taken[r->np[i].id] = 1;
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		uint32_t next_free = 0;

		for (size_t i = 0; i < r->nn; i++) {
			if (r->np[i].id != UINT32_MAX)
				continue;
			while (next_free < pl->src.max_ids &&
			       (taken[next_free] || (pass == 0 && pl->used[next_free])))
				next_free++;
			if (next_free == pl->src.max_ids)
				break;
			r->np[i].id = next_free;
			taken[next_free] = 1;
			if (pass == 1) {
				r->reuses[i] = true;
				r->n_reused++;
			}
		}
	}
	free(taken);
	for (size_t i = 0; i < r->nn; i++) {
		if (r->np[i].id == UINT32_MAX)
			return -E2BIG;
		if (r->np[i].id + 1 > pl->id_hi)
			pl->id_hi = r->np[i].id + 1;
	}
	return 0;
}

/* Make the @n entries at @p live, leaving out those with @skip set (@skip may be NULL). */
static int write_set(struct pw_poller *pl, const struct pw_pentry *p, size_t n, const bool *skip)
{
	struct pw_prefix *pfx = malloc((n + 1) * sizeof(*pfx));
	uint32_t *ids = malloc((n + 1) * sizeof(*ids));
	size_t k = 0;
	int err;

	if (!pfx || !ids) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (skip && skip[i])
			continue;
		pfx[k] = p[i].pfx;
		ids[k++] = p[i].id;
	}
	err = pl->src.set_prefixes(pl->src.ctx, pfx, ids, k);
out:
	free(pfx);
	free(ids);
	return err;
}

/*
 * Write the new set and flip to it, reading the counters around the flip.
 *
 * r->before gets each id's value while it was idle: for an id no old prefix used, any
 * reading before the flip. An id taken over from a removed prefix is never idle before
 * the flip, and the removed prefix's last packets and the new prefix's first would share
 * one counter: such ids are retired first, by a flip to the new set without the prefixes
 * that take them (their traffic goes to an enclosing prefix meanwhile), and read after
 * it, when nothing counts on them any more. pl->raw ends as of the final flip. Returns 0,
 * or -errno with the old set live again.
 */
static int write_tables(struct pw_poller *pl, struct reload *r)
{
	int err;

	err = read_raw(pl);
	if (err)
		return err;
	memcpy(r->before, pl->raw, pl->id_hi * sizeof(*r->before));
	if (r->n_reused) {
		err = write_set(pl, r->np, r->nn, r->reuses);
		if (!err)
			err = read_raw(pl);
		if (err)
			goto restore;
		for (size_t i = 0; i < r->nn; i++)
			if (r->reuses[i])
				r->before[r->np[i].id] = pl->raw[r->np[i].id];
	}
	err = write_set(pl, r->np, r->nn, NULL);
	if (err)
		goto restore;
	/* Packets that reached a removed prefix up to the flip are in this reading. */
	if (read_raw(pl) != 0)
		memcpy(pl->raw, r->before, pl->id_hi * sizeof(*r->before));
	return 0;

restore:
	/* Best effort: the old set is live unless the first write failed, or this one does. */
	if (r->n_reused && pl->have_cfg)
		write_set(pl, pl->p, pl->n, NULL);
	return err;
}

/*
 * The counts of the old set as of the flip: a removed prefix's total (its id read when it
 * was retired, before a new prefix's count starts on it), and the old groups' counts, from
 * the same reading the new view starts from: the settling poll's counts would miss what
 * arrived between it and the flip, and the offsets would drop those packets from every
 * group that stays.
 */
static void settle_old(struct pw_poller *pl, struct reload *r)
{
	struct pw_counter *oin = malloc((pl->n + 1) * sizeof(*oin));
	struct pw_counter *oing = malloc((pl->n_groups + 1) * sizeof(*oing));

	for (size_t i = 0; i < r->nn; i++)
		if (r->fresh[i])
			pl->raw[r->np[i].id] = r->before[r->np[i].id];
	for (size_t i = 0; i < pl->n; i++)
		if (find_in(r->np, r->nn, &pl->p[i].pfx) < 0)
			r->gone[i] = total_of(pl, pl->p[i].id);
	if (oin && oing && compute(pl, oin, oing) == 0)
		for (size_t g = 0; g < pl->n_groups; g++)
			pl->g[g].in = oing[g];
	free(oin);
	free(oing);
}

/*
 * New prefixes start from zero: their base is their id's value while idle. A removed
 * prefix hands its total to its nearest enclosing prefix of the new set, which now
 * receives its traffic, so no inclusive count goes backwards.
 */
static void carry_counts(struct pw_poller *pl, struct reload *r)
{
	for (size_t i = 0; i < r->nn; i++) {
		if (!r->fresh[i])
			continue;
		pl->base[r->np[i].id] = r->before[r->np[i].id];
		pl->carry[r->np[i].id].packets = pl->carry[r->np[i].id].bytes = 0;
	}
	for (size_t i = 0; i < pl->n; i++) {
		long a;

		if (find_in(r->np, r->nn, &pl->p[i].pfx) >= 0)
			continue;
		a = nearest_ancestor(r->np, r->nn, &pl->p[i].pfx);
		if (a >= 0) {
			pl->carry[r->np[a].id].packets += r->gone[i].packets;
			pl->carry[r->np[a].id].bytes += r->gone[i].bytes;
		}
	}
	for (size_t i = 0; i < pl->n; i++)
		pl->used[pl->p[i].id] = 0;
	for (size_t i = 0; i < r->nn; i++)
		pl->used[r->np[i].id] = 1;
}

/* Replace the live view and config by the new ones; a group that stays keeps its count. */
static void swap_view(struct pw_poller *pl, struct reload *r, struct pw_config *cfg)
{
	for (size_t i = 0; i < cfg->n_groups; i++) {
		r->ng[i].offset.packets = r->ng[i].offset.bytes = 0;
		r->ng[i].in.packets = r->ng[i].in.bytes = UINT64_MAX; /* marks a new group */
		for (size_t j = 0; j < pl->n_groups; j++) {
			if (strcmp(pl->g[j].cfg->name, cfg->groups[i].name))
				continue;
			/* Continued by the offset, so its rate goes on from the last poll. */
			r->ng[i].in = pl->g[j].in;
			r->ng[i].rate = pl->g[j].rate;
			r->ng[i].from = pl->g[j].from;
			r->ng[i].from_t = pl->g[j].from_t;
		}
	}
	free_view(pl->p, pl->g, pl->n_groups);
	if (pl->have_cfg)
		pw_config_free(&pl->cfg);
	pl->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	pl->have_cfg = true;
	/* The group views point into the config they came from: re-point them. */
	for (size_t i = 0; i < pl->cfg.n_groups; i++)
		r->ng[i].cfg = &pl->cfg.groups[i];
	pl->p = r->np;
	pl->n = r->nn;
	pl->g = r->ng;
	pl->n_groups = pl->cfg.n_groups;
	r->np = NULL;
	r->ng = NULL;
}

/*
 * Counts under the new set, so the next rate compares like with like; a group that
 * stays gets the offset that continues it from its old count. A new prefix or group
 * starts its first rate at the flip, @t_flip.
 */
static void recount(struct pw_poller *pl, const bool *fresh, double t_flip)
{
	struct pw_counter *inp = malloc((pl->n + 1) * sizeof(*inp));
	struct pw_counter *ing = malloc((pl->n_groups + 1) * sizeof(*ing));

	if (inp && ing && compute(pl, inp, ing) == 0) {
		for (size_t i = 0; i < pl->n; i++) {
			pl->p[i].in = inp[i];
			if (fresh[i]) {
				pl->p[i].from = inp[i];
				pl->p[i].from_t = t_flip;
			}
		}
		for (size_t g = 0; g < pl->n_groups; g++) {
			struct pw_gview *gv = &pl->g[g];

			if (gv->in.packets != UINT64_MAX || gv->in.bytes != UINT64_MAX) {
				gv->offset.packets = gv->in.packets - ing[g].packets;
				gv->offset.bytes = gv->in.bytes - ing[g].bytes;
			} else {
				gv->in = gv->from = ing[g];
				gv->from_t = t_flip;
			}
		}
	}
	free(inp);
	free(ing);
}

int pw_poller_apply(struct pw_poller *pl, struct pw_config *cfg, double now)
{
	struct reload r = { 0 };
	double t_flip;
	int err;

	/*
	 * No poll to settle the old set first: the rates would then start at this poll, after
	 * loading the config, and what arrives until the flip would be in no rate. The counts
	 * are settled at the flip (write_tables, settle_old); the rates go on from the last
	 * poll.
	 */
	err = build_view(cfg, &r.np, &r.nn, &r.ng);
	if (err)
		return err;
	if (r.nn > pl->src.max_ids) {
		err = -E2BIG;
		goto out;
	}
	r.fresh = calloc(r.nn + 1, sizeof(*r.fresh));
	r.reuses = calloc(r.nn + 1, sizeof(*r.reuses));
	r.gone = calloc(pl->n + 1, sizeof(*r.gone));
	if (!r.fresh || !r.reuses || !r.gone) {
		err = -ENOMEM;
		goto out;
	}
	err = assign_ids(pl, &r);
	if (err)
		goto out;
	r.before = calloc(pl->id_hi + 1, sizeof(*r.before));
	err = r.before ? write_tables(pl, &r) : -ENOMEM;
	if (err)
		goto out;
	/* From here the new set is live: nothing may fail any more. */
	t_flip = pl->src.clock ? pl->src.clock(pl->src.ctx) : now;
	settle_old(pl, &r);
	carry_counts(pl, &r);
	swap_view(pl, &r, cfg);
	recount(pl, r.fresh, t_flip);
	if (!pl->last_poll)
		pl->last_poll = now;
out:
	if (r.np || r.ng)
		free_view(r.np, r.ng, cfg->n_groups);
	reload_free(&r);
	return err;
}
