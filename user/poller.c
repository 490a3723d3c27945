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
	for (size_t i = 0; g && i < n_groups; i++) {
		free(g[i].members);
		free(g[i].outer);
		free(g[i].cls);
	}
	free(g);
	free(p);
}

static void free_classes(struct pw_classes *cl)
{
	free(cl->c);
	free(cl->pool);
	free(cl->rd);
	free(cl->rd_end);
	memset(cl, 0, sizeof(*cl));
}

void pw_poller_free(struct pw_poller *pl)
{
	free_view(pl->p, pl->g, pl->n_groups);
	free_classes(&pl->cl);
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

/*
 * Inclusive counts from the per-id totals: per read prefix (in read-list order) a range sum
 * over the read prefixes of the totals of the classes under each; per group the sum of
 * its classes. Linear in the classes and read prefixes, not in the prefixes.
 */
static int compute(struct pw_poller *pl, struct pw_counter *in_prefix, struct pw_counter *in_group)
{
	const struct pw_classes *cl = &pl->cl;
	struct pw_counter *sum = calloc(cl->n_rd + 1, sizeof(*sum));
	struct pw_counter *tot = malloc((cl->n + 1) * sizeof(*tot));

	if (!sum || !tot) {
		free(sum);
		free(tot);
		return -ENOMEM;
	}
	for (size_t c = 0; c < cl->n; c++) {
		tot[c] = total_of(pl, cl->c[c].id);
		if (cl->c[c].rd >= 0) {
			sum[cl->c[c].rd + 1].packets += tot[c].packets;
			sum[cl->c[c].rd + 1].bytes += tot[c].bytes;
		}
	}
	for (size_t k = 0; k < cl->n_rd; k++) {
		sum[k + 1].packets += sum[k].packets;
		sum[k + 1].bytes += sum[k].bytes;
	}
	for (size_t k = 0; k < cl->n_rd; k++) {
		in_prefix[k].packets = sum[cl->rd_end[k]].packets - sum[k].packets;
		in_prefix[k].bytes = sum[cl->rd_end[k]].bytes - sum[k].bytes;
	}
	for (size_t g = 0; g < pl->n_groups; g++) {
		struct pw_counter c = pl->g[g].offset;

		for (size_t k = 0; k < pl->g[g].n_cls; k++) {
			c.packets += tot[pl->g[g].cls[k]].packets;
			c.bytes += tot[pl->g[g].cls[k]].bytes;
		}
		in_group[g] = c;
	}
	free(sum);
	free(tot);
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
	inp = malloc((pl->cl.n_rd + 1) * sizeof(*inp));
	ing = malloc((pl->n_groups + 1) * sizeof(*ing));
	if (!inp || !ing) {
		free(inp);
		free(ing);
		return -ENOMEM;
	}
	err = compute(pl, inp, ing);
	if (!err) {
		for (size_t k = 0; k < pl->cl.n_rd; k++) {
			struct pw_pentry *e = &pl->p[pl->cl.rd[k]];

			set_rate(&e->rate, &e->from, &e->from_t, &inp[k], now);
			e->in = inp[k];
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

/* An open-addressing hash set of indices (stored plus one); the caller compares keys. */
struct htab {
	uint32_t *slot;
	size_t mask;
};

static int htab_init(struct htab *h, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n + 2)
		cap <<= 1;
	h->slot = calloc(cap, sizeof(*h->slot));
	h->mask = cap - 1;
	return h->slot ? 0 : -ENOMEM;
}

static uint64_t hash_words(uint64_t h, const uint32_t *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ w[i]) * 1099511628211ULL;
	h ^= h >> 31;
	return h * 0x9e3779b97f4a7c15ULL;
}

#define HASH_SEED 14695981039346656037ULL

struct span {
	uint32_t off, n;
};

/* A set of group indices, sorted: pool[s.off .. s.off + s.n). */
static bool set_has(const uint32_t *pool, struct span s, uint32_t gi)
{
	size_t lo = s.off, hi = (size_t)s.off + s.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pool[mid] == gi)
			return true;
		if (pool[mid] < gi)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * build_classes() - the read prefixes and the classes of a view (see poller.h).
 *
 * In sorted order each prefix's groups are its parent's plus the groups that list it
 * (a group counts a packet when one of its prefixes holds it, and the most specific
 * prefix holding the packet lies inside every such prefix), and its nearest read prefix
 * is itself when read, else its parent's. Distinct (groups, nearest read prefix) pairs are
 * the classes. Class ids are left to assign_ids().
 */
static int build_classes(const struct pw_config *cfg, struct pw_pentry *p, size_t n,
			 struct pw_gview *g, struct pw_classes *cl)
{
	const size_t ng = cfg->n_groups;
	size_t total = 0, n_sets = 0, pool_len = 0, pool_cap = 64;
	uint32_t *dstart = calloc(n + 2, sizeof(*dstart));
	uint32_t *sid = malloc((n + 1) * sizeof(*sid));
	int32_t *rdp = malloc((n + 1) * sizeof(*rdp));
	uint32_t *stack = malloc((n + 1) * sizeof(*stack));
	uint32_t *rpos = malloc((n + 1) * sizeof(*rpos));
	struct span *sets = malloc((n + 2) * sizeof(*sets));
	uint32_t *scratch = malloc((ng + 1) * sizeof(*scratch));
	uint32_t *cnt = calloc(ng + 1, sizeof(*cnt));
	uint32_t *dlist = NULL, *pool = malloc(pool_cap * sizeof(*pool));
	struct htab hs = { 0 }, hc = { 0 };
	size_t sp = 0;
	int err = -ENOMEM;

	memset(cl, 0, sizeof(*cl));
	for (size_t i = 0; i < ng; i++)
		total += g[i].n_members;
	dlist = malloc((total + 1) * sizeof(*dlist));
	cl->c = malloc((n + 1) * sizeof(*cl->c));
	if (!dstart || !sid || !rdp || !stack || !rpos || !sets || !scratch || !cnt || !dlist ||
	    !pool || !cl->c || htab_init(&hs, n + 1) || htab_init(&hc, n))
		goto out;
	/* The groups listing each prefix, in group order (so sorted). */
	for (size_t i = 0; i < ng; i++)
		for (size_t k = 0; k < g[i].n_members; k++) {
			dstart[g[i].members[k] + 2]++;
			if (g[i].cfg->export == PW_EXPORT_PREFIX || g[i].cfg->per_prefix)
				p[g[i].members[k]].read = true;
		}
	for (size_t i = 0; i < n; i++)
		dstart[i + 2] += dstart[i + 1];
	for (size_t i = 0; i < ng; i++)
		for (size_t k = 0; k < g[i].n_members; k++)
			dlist[dstart[g[i].members[k] + 1]++] = (uint32_t)i;
	/* Set 0 is the empty set. */
	sets[n_sets++] = (struct span){ 0, 0 };
	hs.slot[hash_words(HASH_SEED, NULL, 0) & hs.mask] = 1;
	for (size_t i = 0; i < n; i++) {
		long parent;
		struct span ps;
		size_t m = 0, a, d;
		bool subset = true;

		while (sp && p[stack[sp - 1]].end <= i)
			sp--;
		parent = sp ? (long)stack[sp - 1] : -1;
		ps = sets[parent >= 0 ? sid[parent] : 0];
		for (d = dstart[i]; d < dstart[i + 1] && subset; d++)
			subset = set_has(pool, ps, dlist[d]);
		if (subset) {
			sid[i] = parent >= 0 ? sid[parent] : 0;
		} else {
			uint64_t h;
			size_t s;

			/* Union of two sorted lists. */
			for (a = ps.off, d = dstart[i]; a < ps.off + ps.n || d < dstart[i + 1];) {
				uint32_t v;

				if (d >= dstart[i + 1] || (a < ps.off + ps.n && pool[a] < dlist[d]))
					v = pool[a++];
				else if (a >= ps.off + ps.n || dlist[d] < pool[a])
					v = dlist[d++];
				else
					v = pool[a++], d++;
				scratch[m++] = v;
			}
			h = hash_words(HASH_SEED, scratch, m);
			for (s = h & hs.mask; hs.slot[s]; s = (s + 1) & hs.mask) {
				struct span o = sets[hs.slot[s] - 1];

				if (o.n == m && !memcmp(pool + o.off, scratch, m * sizeof(*scratch)))
					break;
			}
			if (!hs.slot[s]) {
				if (pool_len + m > pool_cap) {
					uint32_t *np;

					while (pool_len + m > pool_cap)
						pool_cap *= 2;
					np = realloc(pool, pool_cap * sizeof(*pool));
					if (!np)
						goto out;
					pool = np;
				}
				memcpy(pool + pool_len, scratch, m * sizeof(*scratch));
				sets[n_sets] = (struct span){ (uint32_t)pool_len, (uint32_t)m };
				pool_len += m;
				hs.slot[s] = (uint32_t)++n_sets;
			}
			sid[i] = hs.slot[s] - 1;
		}
		rdp[i] = p[i].read ? (int32_t)i : parent >= 0 ? rdp[parent] : -1;
		stack[sp++] = (uint32_t)i;
	}
	/* The read prefixes, and where each one's read more specifics end among them. */
	cl->rd = malloc((n + 1) * sizeof(*cl->rd));
	cl->rd_end = malloc((n + 1) * sizeof(*cl->rd_end));
	if (!cl->rd || !cl->rd_end)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (p[i].read) {
			rpos[i] = (uint32_t)cl->n_rd;
			cl->rd[cl->n_rd++] = (uint32_t)i;
		}
	for (size_t k = 0; k < cl->n_rd; k++) {
		size_t lo = k + 1, hi = cl->n_rd;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (cl->rd[mid] < p[cl->rd[k]].end)
				lo = mid + 1;
			else
				hi = mid;
		}
		cl->rd_end[k] = (uint32_t)lo;
	}
	/* The classes: distinct (groups, nearest read prefix). */
	for (size_t i = 0; i < n; i++) {
		uint32_t key[2] = { sid[i], (uint32_t)rdp[i] };
		uint64_t h = hash_words(HASH_SEED, key, 2);
		size_t s;

		for (s = h & hc.mask; hc.slot[s]; s = (s + 1) & hc.mask)
			if (sid[hc.slot[s] - 1] == sid[i] && rdp[hc.slot[s] - 1] == rdp[i])
				break;
		if (!hc.slot[s]) {
			struct span st = sets[sid[i]];

			hc.slot[s] = (uint32_t)i + 1; /* the class's first prefix */
			p[i].cls = (uint32_t)cl->n;
			/* The set's number for now (0: no group); assign_slots() gives the slot. */
			cl->c[cl->n++] = (struct pw_pclass){ .id = UINT32_MAX,
							    .rd = rdp[i] >= 0 ? (int32_t)rpos[rdp[i]]
									      : -1,
							    .set = st.off,
							    .n_set = st.n,
							    .slot = sid[i] };
		} else {
			p[i].cls = p[hc.slot[s] - 1].cls;
		}
	}
	cl->n_sets = n_sets;
	/* Per group, its classes. */
	for (size_t c = 0; c < cl->n; c++)
		for (uint32_t k = 0; k < cl->c[c].n_set; k++)
			cnt[pool[cl->c[c].set + k]]++;
	for (size_t i = 0; i < ng; i++) {
		g[i].cls = malloc((cnt[i] + 1) * sizeof(*g[i].cls));
		if (!g[i].cls)
			goto out;
	}
	for (size_t c = 0; c < cl->n; c++)
		for (uint32_t k = 0; k < cl->c[c].n_set; k++) {
			struct pw_gview *gv = &g[pool[cl->c[c].set + k]];

			gv->cls[gv->n_cls++] = (uint32_t)c;
		}
	cl->pool = pool;
	pool = NULL;
	err = 0;
out:
	if (err)
		free_classes(cl);
	free(dstart);
	free(sid);
	free(rdp);
	free(stack);
	free(rpos);
	free(sets);
	free(scratch);
	free(cnt);
	free(dlist);
	free(pool);
	free(hs.slot);
	free(hc.slot);
	return err;
}

/* Build the sorted distinct prefix list and the group views of @cfg. */
static int build_view(const struct pw_config *cfg, struct pw_pentry **pout, size_t *nout,
		      struct pw_gview **gout, struct pw_classes *cl)
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
	if (build_classes(cfg, p, n, g, cl)) {
		free_view(p, g, cfg->n_groups);
		return -ENOMEM;
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
 * Per class of the new view: @fresh, a class the old set did not have; @reuses, one that
 * takes an id the old set used (only when no other id is left).
 */
struct reload {
	struct pw_pentry *np;
	size_t nn;
	struct pw_gview *ng;
	struct pw_classes ncl;
	bool *fresh, *reuses;
	/* per entry of the new view: a prefix read from this reload on */
	bool *pnew;
	size_t n_reused;
	/* per id: the raw counter while the id was idle, the last value its old class saw */
	struct pw_counter *before;
	/* per old class: whether a new class continues it; the total of one that goes */
	bool *stays;
	struct pw_counter *gone;
};

static void reload_free(struct reload *r)
{
	free_classes(&r->ncl);
	free(r->fresh);
	free(r->reuses);
	free(r->pnew);
	free(r->before);
	free(r->stays);
	free(r->gone);
}

/* The key of a class, for matching the classes of two views. */
static uint64_t class_hash(const uint32_t *set, size_t n, const struct pw_prefix *rd)
{
	uint32_t w[5] = { 0 };

	if (rd) {
		w[0] = (uint32_t)rd->family << 8 | rd->len | 1U << 16;
		memcpy(&w[1], rd->addr, 16);
	}
	return hash_words(hash_words(HASH_SEED, set, n), w, 5);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct gname {
	const char *name;
	uint32_t idx;
};

static int cmp_gname(const void *a, const void *b)
{
	return strcmp(((const struct gname *)a)->name, ((const struct gname *)b)->name);
}

/*
 * Match the new classes with the old: a class whose groups (by name) and nearest read
 * prefix are the old one's continues it, with its id and counts. Fills r->stays, r->fresh
 * and the ids of the classes that stay (UINT32_MAX for the others).
 */
static int match_classes(struct pw_poller *pl, struct reload *r, const struct pw_config *cfg)
{
	const struct pw_classes *ocl = &pl->cl;
	struct gname *names = malloc((pl->n_groups + 1) * sizeof(*names));
	uint32_t *to_old = malloc((cfg->n_groups + 1) * sizeof(*to_old));
	uint32_t *tmp = malloc((cfg->n_groups + 1) * sizeof(*tmp));
	struct htab h = { 0 };
	int err = -ENOMEM;

	if (!names || !to_old || !tmp || htab_init(&h, ocl->n))
		goto out;
	for (size_t j = 0; j < pl->n_groups; j++)
		names[j] = (struct gname){ pl->g[j].cfg->name, (uint32_t)j };
	if (pl->n_groups)
		qsort(names, pl->n_groups, sizeof(*names), cmp_gname);
	for (size_t i = 0; i < cfg->n_groups; i++) {
		struct gname key = { cfg->groups[i].name, 0 }, *o = NULL;

		if (pl->n_groups)
			o = bsearch(&key, names, pl->n_groups, sizeof(*names), cmp_gname);
		to_old[i] = o ? o->idx : UINT32_MAX;
	}
	for (size_t c = 0; c < ocl->n; c++) {
		const struct pw_pclass *oc = &ocl->c[c];
		const struct pw_prefix *rd = oc->rd >= 0 ? &pl->p[ocl->rd[oc->rd]].pfx : NULL;
		size_t s = class_hash(ocl->pool + oc->set, oc->n_set, rd) & h.mask;

		while (h.slot[s])
			s = (s + 1) & h.mask;
		h.slot[s] = (uint32_t)c + 1;
	}
	for (size_t c = 0; c < r->ncl.n; c++) {
		struct pw_pclass *nc = &r->ncl.c[c];
		const struct pw_prefix *rd = nc->rd >= 0 ? &r->np[r->ncl.rd[nc->rd]].pfx : NULL;
		bool known = true;
		size_t s;

		nc->id = UINT32_MAX;
		r->fresh[c] = true;
		for (uint32_t k = 0; k < nc->n_set && known; k++) {
			tmp[k] = to_old[r->ncl.pool[nc->set + k]];
			known = tmp[k] != UINT32_MAX;
		}
		if (!known)
			continue;
		qsort(tmp, nc->n_set, sizeof(*tmp), cmp_u32);
		for (s = class_hash(tmp, nc->n_set, rd) & h.mask; h.slot[s]; s = (s + 1) & h.mask) {
			const struct pw_pclass *oc = &ocl->c[h.slot[s] - 1];
			const struct pw_prefix *ord =
				oc->rd >= 0 ? &pl->p[ocl->rd[oc->rd]].pfx : NULL;

			if (oc->n_set == nc->n_set &&
			    !memcmp(ocl->pool + oc->set, tmp, nc->n_set * sizeof(*tmp)) &&
			    (rd ? ord && pw_prefix_equal(rd, ord) : !ord)) {
				nc->id = oc->id;
				r->fresh[c] = false;
				r->stays[h.slot[s] - 1] = true;
				break;
			}
		}
	}
	err = 0;
out:
	free(names);
	free(to_old);
	free(tmp);
	free(h.slot);
	return err;
}

/*
 * Ids: a class that stays keeps its id (and its counts). A new one takes an id used by
 * neither the old nor the new set when there is one, so packets still in flight under
 * the old set never land on a new class; failing that, an id the new set leaves free,
 * which write_tables() retires before handing it over. Returns 0 or -E2BIG.
 */
static int assign_ids(struct pw_poller *pl, struct reload *r)
{
	uint8_t *taken = calloc(pl->src.max_ids + 1, 1);

	if (!taken)
		return -ENOMEM;
	for (size_t c = 0; c < r->ncl.n; c++)
		if (!r->fresh[c])
			taken[r->ncl.c[c].id] = 1;
	/* Rates of read prefixes that stay carry over to the first poll. */
	for (size_t k = 0; k < r->ncl.n_rd; k++) {
		struct pw_pentry *e = &r->np[r->ncl.rd[k]];
		long o = find_in(pl->p, pl->n, &e->pfx);

		if (o >= 0 && pl->p[o].read) {
			e->in = pl->p[o].in;
			e->rate = pl->p[o].rate;
			e->from = pl->p[o].from;
			e->from_t = pl->p[o].from_t;
		} else {
			r->pnew[r->ncl.rd[k]] = true;
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		uint32_t next_free = 0;

		for (size_t c = 0; c < r->ncl.n; c++) {
			if (r->ncl.c[c].id != UINT32_MAX)
				continue;
			while (next_free < pl->src.max_ids &&
			       (taken[next_free] || (pass == 0 && pl->used[next_free])))
				next_free++;
			if (next_free == pl->src.max_ids)
				break;
			r->ncl.c[c].id = next_free;
			taken[next_free] = 1;
			if (pass == 1) {
				r->reuses[c] = true;
				r->n_reused++;
			}
		}
	}
	free(taken);
	for (size_t c = 0; c < r->ncl.n; c++) {
		if (r->ncl.c[c].id == UINT32_MAX)
			return -E2BIG;
		if (r->ncl.c[c].id + 1 > pl->id_hi)
			pl->id_hi = r->ncl.c[c].id + 1;
	}
	for (size_t i = 0; i < r->nn; i++)
		r->np[i].id = r->ncl.c[r->np[i].cls].id;
	return 0;
}

/*
 * Make the @n entries at @p live, leaving out those whose class has @skip set (@skip may
 * be NULL).
 */
/* A hash of the names of the groups of class @c of @cl (@g: their views), in any order. */
static uint64_t set_names_hash(const struct pw_classes *cl, const struct pw_pclass *c,
			       const struct pw_gview *g)
{
	uint64_t h = 0;

	for (uint32_t k = 0; k < c->n_set; k++) {
		uint64_t x = 1469598103934665603ULL; /* FNV-1a of the name; summed: any order */

		for (const char *q = g[cl->pool[c->set + k]].cfg->name; *q; q++)
			x = (x ^ (uint8_t)*q) * 1099511628211ULL;
		h += x;
	}
	return h;
}

/* True when class @a of @ca (groups @ga) and class @b of @cb (groups @gb) hold groups of
 * the same names. */
static bool same_names(const struct pw_classes *ca, const struct pw_pclass *a,
		       const struct pw_gview *ga, const struct pw_classes *cb,
		       const struct pw_pclass *b, const struct pw_gview *gb)
{
	if (a->n_set != b->n_set)
		return false;
	for (uint32_t i = 0; i < a->n_set; i++) {
		const char *name = ga[ca->pool[a->set + i]].cfg->name;
		bool found = false;

		for (uint32_t k = 0; k < b->n_set && !found; k++)
			found = !strcmp(name, gb[cb->pool[b->set + k]].cfg->name);
		if (!found)
			return false;
	}
	return true;
}

/*
 * Give each set of groups of the new classes @ncl (groups @ng; the class's slot field
 * holds its set's number from build_view) its anatomy slot, below PW_MAX_SLOTS: the slot
 * the same set (by group names) had in the live view, else one no live set holds, else
 * one a set that goes held, else 0 (left out of the class counts).
 *
 * Slots that stay put matter: the tables carry the new slots from the flip on, and the
 * anatomy learns which groups a slot stands for after it (pw_anatomy_sync); a slot that
 * meant another set meanwhile would add those packets to the wrong groups.
 */
static int assign_slots(const struct pw_poller *pl, struct pw_classes *ncl,
			const struct pw_gview *ng, const struct pw_pentry *np, size_t nn)
{
	uint32_t *slot_of = malloc((ncl->n_sets + 1) * sizeof(*slot_of));
	uint32_t old_rep[PW_MAX_SLOTS] = { 0 }; /* per live slot: a class holding it, + 1 */
	uint64_t old_hash[PW_MAX_SLOTS] = { 0 };
	bool taken[PW_MAX_SLOTS] = { false };
	uint32_t hi = 0;

	if (!slot_of)
		return -ENOMEM;
	for (size_t c = 0; c < pl->cl.n; c++) {
		uint32_t s = pl->cl.c[c].slot;

		if (s && s < PW_MAX_SLOTS && !old_rep[s]) {
			old_rep[s] = (uint32_t)c + 1;
			old_hash[s] = set_names_hash(&pl->cl, &pl->cl.c[c], pl->g);
		}
	}
	for (size_t k = 0; k <= ncl->n_sets; k++)
		slot_of[k] = UINT32_MAX;
	slot_of[0] = 0;
	/* Sets that stay keep their slot. */
	for (size_t c = 0; c < ncl->n; c++) {
		const struct pw_pclass *nc = &ncl->c[c];
		uint64_t h;

		if (slot_of[nc->slot] != UINT32_MAX)
			continue;
		slot_of[nc->slot] = UINT32_MAX - 1; /* looked at: not (yet) kept */
		h = set_names_hash(ncl, nc, ng);
		for (uint32_t s = 1; s < PW_MAX_SLOTS; s++)
			if (old_rep[s] && !taken[s] && old_hash[s] == h &&
			    same_names(ncl, nc, ng, &pl->cl, &pl->cl.c[old_rep[s] - 1], pl->g)) {
				slot_of[nc->slot] = s;
				taken[s] = true;
				break;
			}
	}
	/* New sets: a slot no live set holds, then one a set that goes held. */
	for (int pass = 0; pass < 2; pass++) {
		uint32_t next = 1;

		for (size_t c = 0; c < ncl->n; c++) {
			uint32_t *so = &slot_of[ncl->c[c].slot];

			if (*so != UINT32_MAX - 1)
				continue;
			while (next < PW_MAX_SLOTS && (taken[next] || (!pass && old_rep[next])))
				next++;
			if (next == PW_MAX_SLOTS) {
				if (!pass)
					break;
				*so = 0;
				continue;
			}
			*so = next;
			taken[next] = true;
		}
	}
	ncl->n_unslotted = 0;
	for (size_t c = 0; c < ncl->n; c++) {
		ncl->c[c].slot = slot_of[ncl->c[c].slot];
		hi = ncl->c[c].slot > hi ? ncl->c[c].slot : hi;
	}
	for (size_t i = 0; i < nn; i++)
		if (ncl->c[np[i].cls].n_set && !ncl->c[np[i].cls].slot)
			ncl->n_unslotted++;
	ncl->n_slots = hi + 1;
	free(slot_of);
	return 0;
}

static int write_set(struct pw_poller *pl, const struct pw_pentry *p, size_t n,
		     const struct pw_classes *cl, const bool *skip)
{
	struct pw_prefix *pfx = malloc((n + 1) * sizeof(*pfx));
	uint32_t *refs = malloc((n + 1) * sizeof(*refs));
	size_t k = 0;
	int err;

	if (!pfx || !refs) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (skip && skip[p[i].cls])
			continue;
		pfx[k] = p[i].pfx;
		refs[k++] = PW_REF(p[i].id, cl->c[p[i].cls].slot);
	}
	err = pl->src.set_prefixes(pl->src.ctx, pfx, refs, k);
out:
	free(pfx);
	free(refs);
	return err;
}

/*
 * Write the new set and flip to it, reading the counters around the flip.
 *
 * r->before gets each id's value while it was idle: for an id no old class used, any
 * reading before the flip. An id taken over from a class that goes is never idle before
 * the flip, and the old class's last packets and the new class's first would share one
 * counter: such ids are retired first, by a flip to the new set without the prefixes of
 * the classes that take them (their traffic goes to an enclosing prefix meanwhile), and
 * read after it, when nothing counts on them any more. pl->raw ends as of the final flip.
 * Returns 0, or -errno with the old set live again.
 */
static int write_tables(struct pw_poller *pl, struct reload *r)
{
	int err;

	err = read_raw(pl);
	if (err)
		return err;
	memcpy(r->before, pl->raw, pl->id_hi * sizeof(*r->before));
	if (r->n_reused) {
		err = write_set(pl, r->np, r->nn, &r->ncl, r->reuses);
		if (!err)
			err = read_raw(pl);
		if (err)
			goto restore;
		for (size_t c = 0; c < r->ncl.n; c++)
			if (r->reuses[c])
				r->before[r->ncl.c[c].id] = pl->raw[r->ncl.c[c].id];
	}
	err = write_set(pl, r->np, r->nn, &r->ncl, NULL);
	if (err)
		goto restore;
	/* Packets that reached a class that goes, up to the flip, are in this reading. */
	if (read_raw(pl) != 0)
		memcpy(pl->raw, r->before, pl->id_hi * sizeof(*r->before));
	return 0;

restore:
	/* Best effort: the old set is live unless the first write failed, or this one does. */
	if (r->n_reused && pl->have_cfg)
		write_set(pl, pl->p, pl->n, &pl->cl, NULL);
	return err;
}

/*
 * The counts of the old set as of the flip: the total of a class that goes (its id read
 * when it was retired, before a new class's count starts on it), and the old groups'
 * counts, from the same reading the new view starts from: the settling poll's counts
 * would miss what arrived between it and the flip, and the offsets would drop those
 * packets from every group that stays.
 */
static void settle_old(struct pw_poller *pl, struct reload *r)
{
	struct pw_counter *oin = malloc((pl->cl.n_rd + 1) * sizeof(*oin));
	struct pw_counter *oing = malloc((pl->n_groups + 1) * sizeof(*oing));

	for (size_t c = 0; c < r->ncl.n; c++)
		if (r->fresh[c])
			pl->raw[r->ncl.c[c].id] = r->before[r->ncl.c[c].id];
	for (size_t c = 0; c < pl->cl.n; c++)
		if (!r->stays[c])
			r->gone[c] = total_of(pl, pl->cl.c[c].id);
	if (oin && oing && compute(pl, oin, oing) == 0)
		for (size_t g = 0; g < pl->n_groups; g++)
			pl->g[g].in = oing[g];
	free(oin);
	free(oing);
}

/*
 * New classes start from zero: their base is their id's value while idle. A class that
 * goes, under a read prefix R, hands its total to the class of the nearest read prefix
 * of the new set holding R (R itself when it stays read), which now receives its
 * traffic: every read prefix whose count held it still does, so none goes backwards.
 */
static void carry_counts(struct pw_poller *pl, struct reload *r)
{
	for (size_t c = 0; c < r->ncl.n; c++) {
		uint32_t id = r->ncl.c[c].id;

		if (!r->fresh[c])
			continue;
		pl->base[id] = r->before[id];
		pl->carry[id].packets = pl->carry[id].bytes = 0;
	}
	for (size_t c = 0; c < pl->cl.n; c++) {
		const struct pw_prefix *rd;
		long a;

		if (r->stays[c] || pl->cl.c[c].rd < 0)
			continue;
		rd = &pl->p[pl->cl.rd[pl->cl.c[c].rd]].pfx;
		a = find_in(r->np, r->nn, rd);
		if (a < 0)
			a = nearest_ancestor(r->np, r->nn, rd);
		if (a >= 0 && r->ncl.c[r->np[a].cls].rd >= 0) {
			const struct pw_pentry *t = &r->np[r->ncl.rd[r->ncl.c[r->np[a].cls].rd]];

			pl->carry[t->id].packets += r->gone[c].packets;
			pl->carry[t->id].bytes += r->gone[c].bytes;
		}
	}
	for (size_t c = 0; c < pl->cl.n; c++)
		pl->used[pl->cl.c[c].id] = 0;
	for (size_t c = 0; c < r->ncl.n; c++)
		pl->used[r->ncl.c[c].id] = 1;
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
	free_classes(&pl->cl);
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
	pl->cl = r->ncl;
	memset(&r->ncl, 0, sizeof(r->ncl));
	r->np = NULL;
	r->ng = NULL;
}

/*
 * Counts under the new set, so the next rate compares like with like; a group that
 * stays gets the offset that continues it from its old count. A new prefix or group
 * starts its first rate at the flip, @t_flip.
 */
static void recount(struct pw_poller *pl, const bool *pnew, double t_flip)
{
	struct pw_counter *inp = malloc((pl->cl.n_rd + 1) * sizeof(*inp));
	struct pw_counter *ing = malloc((pl->n_groups + 1) * sizeof(*ing));

	if (inp && ing && compute(pl, inp, ing) == 0) {
		for (size_t k = 0; k < pl->cl.n_rd; k++) {
			struct pw_pentry *e = &pl->p[pl->cl.rd[k]];

			e->in = inp[k];
			if (pnew[pl->cl.rd[k]]) {
				e->from = inp[k];
				e->from_t = t_flip;
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

long pw_poller_ids_needed(const struct pw_config *cfg)
{
	struct pw_classes cl = { 0 };
	struct pw_pentry *p;
	struct pw_gview *g;
	size_t n;
	long ret;

	if (build_view(cfg, &p, &n, &g, &cl))
		return -ENOMEM;
	ret = (long)cl.n;
	free_view(p, g, cfg->n_groups);
	free_classes(&cl);
	return ret;
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
	err = build_view(cfg, &r.np, &r.nn, &r.ng, &r.ncl);
	if (err)
		return err;
	if (r.ncl.n > pl->src.max_ids) {
		err = -E2BIG;
		goto out;
	}
	r.fresh = calloc(r.ncl.n + 1, sizeof(*r.fresh));
	r.reuses = calloc(r.ncl.n + 1, sizeof(*r.reuses));
	r.pnew = calloc(r.nn + 1, sizeof(*r.pnew));
	r.stays = calloc(pl->cl.n + 1, sizeof(*r.stays));
	r.gone = calloc(pl->cl.n + 1, sizeof(*r.gone));
	if (!r.fresh || !r.reuses || !r.pnew || !r.stays || !r.gone) {
		err = -ENOMEM;
		goto out;
	}
	err = match_classes(pl, &r, cfg);
	if (!err)
		err = assign_ids(pl, &r);
	if (!err)
		err = assign_slots(pl, &r.ncl, r.ng, r.np, r.nn);
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
	recount(pl, r.pnew, t_flip);
	if (!pl->last_poll)
		pl->last_poll = now;
out:
	if (r.np || r.ng)
		free_view(r.np, r.ng, cfg->n_groups);
	reload_free(&r);
	return err;
}
