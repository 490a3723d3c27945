// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* watch.c - the detectors of a running configuration, fed after each poll. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anatomy.h"
#include "watch.h"

void pw_watch_init(struct pw_watch *w, pw_event_sink sink, void *ctx)
{
	memset(w, 0, sizeof(*w));
	w->sink = sink;
	w->sink_ctx = ctx;
}

void pw_watch_free(struct pw_watch *w)
{
	free(w->items);
	w->items = NULL;
	w->n = 0;
}

static uint64_t fnv1a(const void *data, size_t len, uint64_t h)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static uint64_t hash_group(const struct pw_group *g)
{
	return fnv1a(g->prefixes, g->n_prefixes * sizeof(*g->prefixes), 1469598103934665603ULL);
}

/* What identifies a detector across rebuilds: group, kind, and its prefix or prefix set. */
static uint64_t item_hash(const struct pw_watch_item *it)
{
	uint64_t h = fnv1a(it->group, strlen(it->group), 1469598103934665603ULL);

	if (it->per_prefix)
		return fnv1a(&it->prefix, sizeof(it->prefix), h ^ 1);
	return fnv1a(&it->set_hash, sizeof(it->set_hash), h);
}

static bool same_item(const struct pw_watch_item *a, const struct pw_watch_item *b)
{
	if (a->per_prefix != b->per_prefix || strcmp(a->group, b->group))
		return false;
	return a->per_prefix ? pw_prefix_equal(&a->prefix, &b->prefix)
			     : a->set_hash == b->set_hash;
}

/*
 * The old detectors by what identifies them, so a rebuild finds each in constant time:
 * open addressing, at most half full, slots holding an item index + 1 (0: empty).
 */
struct item_index {
	size_t *slot;
	size_t mask;
};

static int index_build(struct item_index *x, const struct pw_watch_item *items, size_t n)
{
	size_t size = 16;

	while (size < 2 * n)
		size *= 2;
	x->slot = calloc(size, sizeof(*x->slot));
	if (!x->slot)
		return -ENOMEM;
	x->mask = size - 1;
	for (size_t i = 0; i < n; i++) {
		size_t s = (size_t)item_hash(&items[i]) & x->mask;

		while (x->slot[s])
			s = (s + 1) & x->mask;
		x->slot[s] = i + 1;
	}
	return 0;
}

/* The old item that @key continues and that no new item took yet, or NULL. */
static struct pw_watch_item *index_find(const struct item_index *x, struct pw_watch *w,
					const struct pw_watch_item *key)
{
	for (size_t s = (size_t)item_hash(key) & x->mask; x->slot[s]; s = (s + 1) & x->mask) {
		struct pw_watch_item *it = &w->items[x->slot[s] - 1];

		if (it->group[0] && same_item(it, key))
			return it;
	}
	return NULL;
}

static void end_alarms(struct pw_watch *w, struct pw_watch_item *it, double now)
{
	for (int k = 0; k < PW_ALARM_KINDS; k++) {
		struct pw_event ev;

		if (!it->det.alarm[k])
			continue;
		it->det.alarm[k] = false;
		ev = (struct pw_event){ .kind = k,
					.start = false,
					.time = now,
					.pps = it->det.last_pps,
					.bps = it->det.last_bps,
					.baseline_pps = it->det.base_pps,
					.baseline_bps = it->det.base_bps };
		if (w->sink)
			w->sink(w->sink_ctx, it, &ev);
	}
}

int pw_watch_sync(struct pw_watch *w, const struct pw_poller *pl, double now)
{
	struct item_index old_index;
	struct pw_watch_item *items;
	size_t n = 0, cap = 0;

	for (size_t g = 0; g < pl->n_groups; g++)
		cap += 1 + (pl->g[g].cfg->per_prefix ? pl->g[g].n_members : 0);
	if (w->anat) {
		int err = pw_anatomy_sync(w->anat, pl);

		if (err)
			return err;
	}
	items = calloc(cap + 1, sizeof(*items));
	if (!items)
		return -ENOMEM;
	if (index_build(&old_index, w->items, w->n)) {
		free(items);
		return -ENOMEM;
	}
	for (size_t g = 0; g < pl->n_groups; g++) {
		const struct pw_gview *gv = &pl->g[g];
		size_t members = gv->cfg->per_prefix ? gv->n_members : 0;
		uint64_t set_hash = hash_group(gv->cfg); /* once a group: it reads every prefix */

		for (size_t k = 0; k <= members; k++) {
			struct pw_watch_item *it = &items[n++], *old;

			snprintf(it->group, sizeof(it->group), "%s", gv->cfg->name);
			it->gidx = g;
			it->set_hash = set_hash;
			it->anat = w->anat;
			if (k > 0) {
				it->per_prefix = true;
				it->pidx = gv->members[k - 1];
				it->prefix = pl->p[it->pidx].pfx;
			}
			old = index_find(&old_index, w, it);
			if (old) {
				it->det = old->det;
				/* Taken over: the old item must not end its alarms below. */
				old->group[0] = '\0';
			} else {
				pw_detector_init(&it->det);
			}
		}
	}
	free(old_index.slot);
	for (size_t i = 0; i < w->n; i++)
		if (w->items[i].group[0])
			end_alarms(w, &w->items[i], now);
	free(w->items);
	w->items = items;
	w->n = n;
	return 0;
}

void pw_watch_step(struct pw_watch *w, const struct pw_poller *pl, double now)
{
	double dt = pl->last_dt;

	if (!(dt > 0))
		return;
	if (w->anat)
		pw_anatomy_poll(w->anat, pl, dt);
	for (size_t i = 0; i < w->n; i++) {
		struct pw_watch_item *it = &w->items[i];
		const struct pw_rate *r = it->per_prefix ? &pl->p[it->pidx].rate
							 : &pl->g[it->gidx].rate;
		struct pw_event ev[PW_ALARM_KINDS * 2];
		int ne;

		ne = pw_detector_step(&it->det, &pl->g[it->gidx].cfg->det, now, dt, r->pps, r->bps,
				      ev);
		for (int e = 0; e < ne && w->sink; e++) {
			/* One flood at a time per group: a class flood may have told it first. */
			if (w->anat && !it->per_prefix && ev[e].kind == PW_ALARM_FLOOD &&
			    pw_anatomy_quiet_flood(w->anat, it->gidx, ev[e].start))
				continue;
			w->sink(w->sink_ctx, it, &ev[e]);
		}
	}
	if (w->anat) {
		/* The group's own alarms, in two halves of one allocation. */
		bool *group_flood = calloc(2 * (pl->n_groups + 1), sizeof(*group_flood));
		bool *group_loss;

		if (!group_flood)
			return;
		group_loss = group_flood + pl->n_groups + 1;
		for (size_t i = 0; i < w->n; i++)
			if (!w->items[i].per_prefix && w->items[i].gidx < pl->n_groups) {
				group_flood[w->items[i].gidx] = w->items[i].det.alarm[PW_ALARM_FLOOD];
				group_loss[w->items[i].gidx] = w->items[i].det.alarm[PW_ALARM_LOSS];
			}
		pw_anatomy_step(w->anat, pl, now, dt, group_flood, group_loss, w->sink,
				w->sink_ctx);
		free(group_flood);
	}
}

static void num(struct pw_buf *b, double v)
{
	if (!isfinite(v))
		v = 0;
	pw_buf_printf(b, "%.10g", v);
}

void pw_event_json(const struct pw_watch_item *it, const struct pw_event *ev, struct pw_buf *b)
{
	char txt[PW_PREFIX_STRLEN];

	pw_buf_printf(b, "{\"time\":%.3f,\"group\":\"%s\"", ev->time, it->group);
	if (it->per_prefix)
		pw_buf_printf(b, ",\"prefix\":\"%s\"", pw_prefix_format(&it->prefix, txt, sizeof(txt)));
	if (it->pclass)
		pw_buf_printf(b, ",\"class\":\"%s\"", it->pclass);
	pw_buf_printf(b, ",\"kind\":\"%s\",\"state\":\"%s\"", pw_alarm_name(ev->kind),
		      ev->start ? "start" : "end");
	if (!ev->start && pw_reason_name(ev->reason))
		pw_buf_printf(b, ",\"reason\":\"%s\"", pw_reason_name(ev->reason));
	pw_buf_printf(b, ",\"pps\":");
	num(b, ev->pps);
	pw_buf_printf(b, ",\"bps\":");
	num(b, ev->bps);
	pw_buf_printf(b, ",\"baseline_pps\":");
	num(b, ev->baseline_pps);
	pw_buf_printf(b, ",\"baseline_bps\":");
	num(b, ev->baseline_bps);
	if (it->anat && ev->kind == PW_ALARM_FLOOD && ev->start)
		pw_anatomy_event_json(it->anat, it->gidx, it->per_prefix ? &it->prefix : NULL,
				      pw_proto_index(it->pclass), ev->pps, b);
	pw_buf_printf(b, "}");
}

static void labels(struct pw_buf *b, const struct pw_watch_item *it)
{
	char txt[PW_PREFIX_STRLEN];

	pw_buf_printf(b, "group=\"%s\"", it->group);
	if (it->per_prefix)
		pw_buf_printf(b, ",prefix=\"%s\"", pw_prefix_format(&it->prefix, txt, sizeof(txt)));
}

void pw_watch_render(void *ctx, struct pw_buf *b)
{
	struct pw_watch *w = ctx;

	pw_buf_printf(b, "# HELP prefixwatch_alarm 1 while an alarm of this kind is raised.\n"
			 "# TYPE prefixwatch_alarm gauge\n");
	for (size_t i = 0; i < w->n; i++) {
		for (int k = 0; k < PW_ALARM_KINDS; k++) {
			pw_buf_printf(b, "prefixwatch_alarm{");
			labels(b, &w->items[i]);
			pw_buf_printf(b, ",kind=\"%s\"} %d\n", pw_alarm_name(k),
				      w->items[i].det.alarm[k] ? 1 : 0);
		}
	}
	pw_buf_printf(b, "# HELP prefixwatch_alarms_total Alarms raised since start.\n"
			 "# TYPE prefixwatch_alarms_total counter\n");
	for (size_t i = 0; i < w->n; i++) {
		for (int k = 0; k < PW_ALARM_KINDS; k++) {
			pw_buf_printf(b, "prefixwatch_alarms_total{");
			labels(b, &w->items[i]);
			pw_buf_printf(b, ",kind=\"%s\"} %llu\n", pw_alarm_name(k),
				      (unsigned long long)w->items[i].det.alarms_total[k]);
		}
	}
	pw_buf_printf(b, "# HELP prefixwatch_group_baseline_pps Learned normal rate of a group, in packets per second.\n"
			 "# TYPE prefixwatch_group_baseline_pps gauge\n");
	for (size_t i = 0; i < w->n; i++) {
		if (w->items[i].per_prefix)
			continue;
		pw_buf_printf(b, "prefixwatch_group_baseline_pps{group=\"%s\"} ", w->items[i].group);
		num(b, w->items[i].det.base_pps);
		pw_buf_printf(b, "\n");
	}
	pw_buf_printf(b, "# HELP prefixwatch_group_baseline_bps Learned normal rate of a group, in bits per second.\n"
			 "# TYPE prefixwatch_group_baseline_bps gauge\n");
	for (size_t i = 0; i < w->n; i++) {
		if (w->items[i].per_prefix)
			continue;
		pw_buf_printf(b, "prefixwatch_group_baseline_bps{group=\"%s\"} ", w->items[i].group);
		num(b, w->items[i].det.base_bps);
		pw_buf_printf(b, "\n");
	}
	if (w->anat)
		pw_anatomy_render(w->anat, b);
}
