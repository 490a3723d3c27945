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

static void set_rate(struct pw_rate *r, const struct pw_counter *now, const struct pw_counter *prev,
		     double dt)
{
	if (dt <= 0) {
		r->pps = r->bps = 0;
		return;
	}
	r->pps = (double)(now->packets - prev->packets) / dt;
	r->bps = (double)(now->bytes - prev->bytes) * 8.0 / dt;
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
			set_rate(&pl->p[i].rate, &inp[i], &pl->p[i].in, dt);
			pl->p[i].in = inp[i];
		}
		for (size_t g = 0; g < pl->n_groups; g++) {
			set_rate(&pl->g[g].rate, &ing[g], &pl->g[g].in, dt);
			pl->g[g].in = ing[g];
		}
		pl->last_dt = dt;
		pl->last_poll = now;
	}
	free(inp);
	free(ing);
	return err;
}

/* Build the sorted distinct prefix list and the group views of @cfg. */
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

int pw_poller_apply(struct pw_poller *pl, struct pw_config *cfg, double now)
{
	struct pw_pentry *np = NULL;
	struct pw_gview *ng = NULL;
	struct pw_prefix *pfx = NULL;
	struct pw_counter *before = NULL, *gone = NULL;
	uint32_t *ids = NULL, next_free = 0;
	size_t nn = 0;
	int err;

	/* Settle the counts under the old set. */
	if (pl->have_cfg) {
		err = pw_poller_poll(pl, now);
		if (err)
			return err;
	}
	err = build_view(cfg, &np, &nn, &ng);
	if (err)
		return err;
	if (nn > pl->src.max_ids) {
		err = -E2BIG;
		goto out_free;
	}
	pfx = malloc((nn + 1) * sizeof(*pfx));
	ids = malloc((nn + 1) * sizeof(*ids));
	if (!pfx || !ids) {
		err = -ENOMEM;
		goto out_free;
	}

	/*
	 * Ids: a prefix that stays keeps its id. A new one takes an id used by neither the
	 * old nor the new set when there is one, so packets still in flight under the old
	 * set never land on a new prefix; failing that, any id the new set leaves free.
	 */
	{
		uint8_t *taken = calloc(pl->src.max_ids, 1);

		if (!taken) {
			err = -ENOMEM;
			goto out_free;
		}
		for (size_t i = 0; i < nn; i++) {
			long o = find_in(pl->p, pl->n, &np[i].pfx);

			np[i].id = UINT32_MAX;
			if (o >= 0) {
				np[i].id = pl->p[o].id;
				np[i].in = pl->p[o].in;
				np[i].rate = pl->p[o].rate;
				taken[np[i].id] = 1;
			}
		}
		for (int pass = 0; pass < 2; pass++) {
			next_free = 0;
			for (size_t i = 0; i < nn; i++) {
				if (np[i].id != UINT32_MAX)
					continue;
				while (next_free < pl->src.max_ids &&
				       (taken[next_free] || (pass == 0 && pl->used[next_free])))
					next_free++;
				if (next_free == pl->src.max_ids)
					break;
				np[i].id = next_free;
				taken[next_free] = 1;
			}
		}
		free(taken);
	}
	for (size_t i = 0; i < nn; i++) {
		if (np[i].id == UINT32_MAX) {
			err = -E2BIG;
			goto out_free;
		}
		pfx[i] = np[i].pfx;
		ids[i] = np[i].id;
	}

	/* New ids start from the kernel's current value of their counter. */
	for (size_t i = 0; i < nn; i++)
		if (np[i].id + 1 > pl->id_hi)
			pl->id_hi = np[i].id + 1;
	err = read_raw(pl);
	if (err)
		goto out_free;
	before = malloc((pl->id_hi + 1) * sizeof(*before));
	gone = malloc((pl->n + 1) * sizeof(*gone));
	if (!before || !gone) {
		err = -ENOMEM;
		goto out_free;
	}
	memcpy(before, pl->raw, pl->id_hi * sizeof(*before));

	err = pl->src.set_prefixes(pl->src.ctx, pfx, ids, nn);
	if (err)
		goto out_free;

	/* From here the new set is live: nothing may fail any more. */
	/*
	 * A removed prefix hands its total to its nearest enclosing prefix that stays, which
	 * now receives its traffic; packets that reached it between the settling poll and
	 * the flip are included by reading once more. An id a new prefix takes over counted
	 * for the removed prefix up to the flip and counts for the new one after it: read it
	 * as of the flip (later packets show at the next poll), and take the removed totals
	 * before the new prefixes' bases are reset.
	 */
	if (read_raw(pl) != 0)
		memcpy(pl->raw, before, pl->id_hi * sizeof(*before));
	for (size_t i = 0; i < nn; i++)
		if (find_in(pl->p, pl->n, &np[i].pfx) < 0)
			pl->raw[np[i].id] = before[np[i].id];
	for (size_t i = 0; i < pl->n; i++)
		if (find_in(np, nn, &pl->p[i].pfx) < 0)
			gone[i] = total_of(pl, pl->p[i].id);
	/*
	 * The old groups' counts as of the flip, from the same reading the new view starts
	 * from: the settling poll's counts would miss what arrived between it and the flip,
	 * and the offsets below would drop those packets from every group that stays.
	 */
	{
		struct pw_counter *oin = malloc((pl->n + 1) * sizeof(*oin));
		struct pw_counter *oing = malloc((pl->n_groups + 1) * sizeof(*oing));

		if (oin && oing && compute(pl, oin, oing) == 0)
			for (size_t g = 0; g < pl->n_groups; g++)
				pl->g[g].in = oing[g];
		free(oin);
		free(oing);
	}
	for (size_t i = 0; i < nn; i++) {
		if (find_in(pl->p, pl->n, &np[i].pfx) >= 0)
			continue;
		pl->base[np[i].id] = before[np[i].id];
		pl->carry[np[i].id].packets = pl->carry[np[i].id].bytes = 0;
	}
	for (size_t i = 0; i < pl->n; i++) {
		long a;

		if (find_in(np, nn, &pl->p[i].pfx) >= 0)
			continue;
		a = nearest_ancestor(np, nn, &pl->p[i].pfx);
		if (a >= 0) {
			pl->carry[np[a].id].packets += gone[i].packets;
			pl->carry[np[a].id].bytes += gone[i].bytes;
		}
	}
	for (size_t i = 0; i < pl->n; i++)
		pl->used[pl->p[i].id] = 0;
	for (size_t i = 0; i < nn; i++)
		pl->used[np[i].id] = 1;

	/* Groups that stay continue from their count: remember it before the old view goes. */
	for (size_t i = 0; i < cfg->n_groups; i++) {
		ng[i].offset.packets = ng[i].offset.bytes = 0;
		ng[i].in.packets = ng[i].in.bytes = UINT64_MAX; /* marks a new group */
		for (size_t j = 0; j < pl->n_groups; j++)
			if (!strcmp(pl->g[j].cfg->name, cfg->groups[i].name))
				ng[i].in = pl->g[j].in;
	}
	free_view(pl->p, pl->g, pl->n_groups);
	if (pl->have_cfg)
		pw_config_free(&pl->cfg);
	pl->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	pl->have_cfg = true;
	/* The group views point into the config they came from: re-point them. */
	for (size_t i = 0; i < pl->cfg.n_groups; i++)
		ng[i].cfg = &pl->cfg.groups[i];
	pl->p = np;
	pl->n = nn;
	pl->g = ng;
	pl->n_groups = pl->cfg.n_groups;

	/* Counts under the new set, so the next rate compares like with like. */
	{
		struct pw_counter *inp = malloc((nn + 1) * sizeof(*inp));
		struct pw_counter *ing = malloc((pl->n_groups + 1) * sizeof(*ing));

		if (inp && ing && compute(pl, inp, ing) == 0) {
			for (size_t i = 0; i < nn; i++)
				pl->p[i].in = inp[i];
			for (size_t g = 0; g < pl->n_groups; g++) {
				struct pw_gview *gv = &pl->g[g];

				if (gv->in.packets != UINT64_MAX || gv->in.bytes != UINT64_MAX) {
					gv->offset.packets = gv->in.packets - ing[g].packets;
					gv->offset.bytes = gv->in.bytes - ing[g].bytes;
				} else {
					gv->in = ing[g];
				}
			}
		}
		free(inp);
		free(ing);
	}
	if (!pl->last_poll)
		pl->last_poll = now;
	free(before);
	free(gone);
	free(pfx);
	free(ids);
	return 0;

out_free:
	free(before);
	free(gone);
	free(pfx);
	free(ids);
	free_view(np, ng, cfg->n_groups);
	return err;
}
