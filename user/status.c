// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * status.c - the status page (HTML with server-side SVG sparklines, no script, no external
 * asset), its JSON and text forms, the state they are drawn from, and the client of
 * `prefixwatch status`.
 */
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "status.h"

#ifndef PW_VERSION
#define PW_VERSION "dev"
#endif

/* Seconds between refreshes of the page in a browser. */
#define PW_STATUS_REFRESH 5

void pw_status_init(struct pw_status *st, double now, pw_event_sink next, void *next_ctx)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_init(&st->lock, NULL);
	st->started = now;
	st->next = next;
	st->next_ctx = next_ctx;
}

static void group_clear(struct pw_status_group *g)
{
	for (unsigned int i = 0; i < g->n_alarms; i++)
		free(g->alarm[i].start_json);
	g->n_alarms = 0;
}

void pw_status_free(struct pw_status *st)
{
	for (size_t i = 0; i < st->n; i++)
		group_clear(&st->g[i]);
	free(st->g);
	for (unsigned int i = 0; i < PW_STATUS_EVENTS; i++)
		free(st->ev[i].json);
	pthread_mutex_destroy(&st->lock);
	memset(st, 0, sizeof(*st));
}

static struct pw_status_group *group_find(struct pw_status *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->g[i].name, name))
			return &st->g[i];
	return NULL;
}

/* The group named @name, added at the end when new (an event before its first update). */
static struct pw_status_group *group_get(struct pw_status *st, const char *name)
{
	struct pw_status_group *g = group_find(st, name), *ng;

	if (g)
		return g;
	ng = realloc(st->g, (st->n + 1) * sizeof(*st->g));
	if (!ng)
		return NULL;
	st->g = ng;
	g = &st->g[st->n++];
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	return g;
}

static void record_alarm(struct pw_status_group *g, const struct pw_watch_item *it,
			 const struct pw_event *ev, const struct pw_buf *json)
{
	char prefix[PW_PREFIX_STRLEN] = "";
	unsigned int i;

	if (it->per_prefix)
		pw_prefix_format(&it->prefix, prefix, sizeof(prefix));
	for (i = 0; i < g->n_alarms; i++)
		if (g->alarm[i].kind == ev->kind && !strcmp(g->alarm[i].prefix, prefix))
			break;
	if (!ev->start) {
		if (i == g->n_alarms)
			return;
		free(g->alarm[i].start_json);
		memmove(&g->alarm[i], &g->alarm[i + 1],
			(g->n_alarms - i - 1) * sizeof(g->alarm[0]));
		g->n_alarms--;
		return;
	}
	if (i == g->n_alarms) {
		if (g->n_alarms == PW_STATUS_ALARMS) {
			g->alarms_dropped++;
			return;
		}
		g->n_alarms++;
	} else {
		free(g->alarm[i].start_json);
	}
	g->alarm[i].kind = ev->kind;
	snprintf(g->alarm[i].prefix, sizeof(g->alarm[i].prefix), "%s", prefix);
	g->alarm[i].since = ev->time;
	g->alarm[i].start_json = json->oom ? NULL : strdup(json->data);
}

void pw_status_sink(void *ctx, const struct pw_watch_item *it, const struct pw_event *ev)
{
	struct pw_status *st = ctx;
	struct pw_status_event *e;
	struct pw_status_group *g;
	struct pw_buf json = { 0 };

	pw_event_json(it, ev, &json);
	pthread_mutex_lock(&st->lock);
	e = &st->ev[st->ev_head];
	free(e->json);
	*e = (struct pw_status_event){ .time = ev->time,
				       .kind = ev->kind,
				       .start = ev->start,
				       .pps = ev->pps,
				       .baseline_pps = ev->baseline_pps,
				       .json = json.oom ? NULL : strdup(json.data) };
	snprintf(e->group, sizeof(e->group), "%s", it->group);
	if (it->per_prefix)
		pw_prefix_format(&it->prefix, e->prefix, sizeof(e->prefix));
	st->ev_head = (st->ev_head + 1) % PW_STATUS_EVENTS;
	if (st->ev_n < PW_STATUS_EVENTS)
		st->ev_n++;
	g = group_get(st, it->group);
	if (g)
		record_alarm(g, it, ev, &json);
	pthread_mutex_unlock(&st->lock);
	pw_buf_free(&json);
	if (st->next)
		st->next(st->next_ctx, it, ev);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct pw_status_group *)a)->name,
		      ((const struct pw_status_group *)b)->name);
}

/*
 * Make the groups those of @pl, in its order, carrying over (by name) the history and
 * alarms of the groups that stay. Under st->lock. A failed allocation keeps the old set
 * and returns false (the next update tries again).
 */
static bool regroup(struct pw_status *st, const struct pw_poller *pl)
{
	struct pw_status_group *ng;
	bool same = st->n == pl->n_groups;

	for (size_t i = 0; same && i < st->n; i++)
		same = !strcmp(st->g[i].name, pl->g[i].cfg->name);
	if (same)
		return true;
	ng = calloc(pl->n_groups ? pl->n_groups : 1, sizeof(*ng));
	if (!ng)
		return false;
	/* sorted by name, the old groups are found in log time each */
	if (st->n)
		qsort(st->g, st->n, sizeof(*st->g), cmp_name);
	for (size_t i = 0; i < pl->n_groups; i++) {
		struct pw_status_group key, *old;

		snprintf(key.name, sizeof(key.name), "%s", pl->g[i].cfg->name);
		old = st->n ? bsearch(&key, st->g, st->n, sizeof(*st->g), cmp_name) : NULL;
		if (old && old->name[0]) {
			ng[i] = *old;
			old->name[0] = '\0'; /* taken: its alarms are not freed below */
			old->n_alarms = 0;
		} else {
			snprintf(ng[i].name, sizeof(ng[i].name), "%s", key.name);
		}
	}
	for (size_t i = 0; i < st->n; i++)
		group_clear(&st->g[i]);
	free(st->g);
	st->g = ng;
	st->n = pl->n_groups;
	return true;
}

static void hist_push(struct pw_status_group *g, float v)
{
	g->hist_pps[g->head] = v;
	g->head = (g->head + 1) % PW_STATUS_POINTS;
	if (g->n < PW_STATUS_POINTS)
		g->n++;
}

/* Add a sample at @now to the bucket it falls in, closing the buckets it passed. */
static void hist_add(struct pw_status_group *g, double now, double pps)
{
	if (!(g->bucket_start > 0) || now < g->bucket_start ||
	    now - g->bucket_start > (PW_STATUS_POINTS + 1) * PW_STATUS_BUCKET) {
		/* first sample, a clock step back, or a gap longer than the history */
		if (g->bucket_start > 0)
			g->n = 0;
		g->bucket_start = now;
		g->bucket_sum = 0;
		g->bucket_count = 0;
	}
	while (now >= g->bucket_start + PW_STATUS_BUCKET) {
		float mean = g->bucket_count ? (float)(g->bucket_sum / g->bucket_count)
					     : g->n ? g->hist_pps[(g->head + PW_STATUS_POINTS - 1) %
								  PW_STATUS_POINTS]
						    : 0;

		hist_push(g, mean);
		g->bucket_start += PW_STATUS_BUCKET;
		g->bucket_sum = 0;
		g->bucket_count = 0;
	}
	g->bucket_sum += isfinite(pps) ? pps : 0;
	g->bucket_count++;
}

/*
 * An alarm a detector has without its start event having passed here: one restored from
 * state_dir at start, which stays raised without a new event. Shown from when the
 * detector says it started, without an event.
 */
static void adopt_alarms(struct pw_status *st, const struct pw_watch *w, double now)
{
	for (size_t i = 0; i < w->n; i++) {
		const struct pw_watch_item *it = &w->items[i];
		char prefix[PW_PREFIX_STRLEN] = "";
		struct pw_status_group *g;
		unsigned int a;

		if (it->gidx >= st->n)
			continue;
		g = &st->g[it->gidx];
		for (int k = 0; k < PW_ALARM_KINDS; k++) {
			if (!it->det.alarm[k])
				continue;
			if (it->per_prefix && !prefix[0])
				pw_prefix_format(&it->prefix, prefix, sizeof(prefix));
			for (a = 0; a < g->n_alarms; a++)
				if (g->alarm[a].kind == (enum pw_alarm_kind)k &&
				    !strcmp(g->alarm[a].prefix, prefix))
					break;
			if (a < g->n_alarms || g->n_alarms == PW_STATUS_ALARMS)
				continue;
			g->alarm[a] = (struct pw_status_alarm){
				.kind = k, .since = now - (it->det.age - it->det.alarm_since[k])
			};
			snprintf(g->alarm[a].prefix, sizeof(g->alarm[a].prefix), "%s", prefix);
			g->n_alarms++;
		}
	}
}

void pw_status_update(struct pw_status *st, const struct pw_poller *pl, const struct pw_watch *w,
		      const struct pw_iface_state *ifaces, size_t n_ifaces, double poll_seconds,
		      double interval, double now)
{
	bool ok;

	pthread_mutex_lock(&st->lock);
	/* out of memory: the groups are not @pl's, so none is updated */
	ok = regroup(st, pl);
	for (size_t i = 0; ok && i < st->n; i++) {
		struct pw_status_group *g = &st->g[i];

		g->pps = pl->g[i].rate.pps;
		g->bps = pl->g[i].rate.bps;
		hist_add(g, now, g->pps);
	}
	if (ok && w)
		adopt_alarms(st, w, now);
	for (size_t i = 0; ok && w && i < w->n; i++) {
		const struct pw_watch_item *it = &w->items[i];

		if (it->per_prefix || it->gidx >= st->n)
			continue;
		st->g[it->gidx].base_pps = it->det.base_pps;
		st->g[it->gidx].base_bps = it->det.base_bps;
	}
	if (n_ifaces > PW_MAX_INTERFACES)
		n_ifaces = PW_MAX_INTERFACES;
	if (n_ifaces)
		memcpy(st->ifaces, ifaces, n_ifaces * sizeof(*ifaces));
	st->n_ifaces = n_ifaces;
	st->last_poll = now;
	st->poll_seconds = poll_seconds;
	st->interval = interval;
	st->polls++;
	pthread_mutex_unlock(&st->lock);
}

/* ---- rendering ---- */

static void html_esc(struct pw_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			pw_buf_printf(b, "&lt;");
			break;
		case '>':
			pw_buf_printf(b, "&gt;");
			break;
		case '&':
			pw_buf_printf(b, "&amp;");
			break;
		case '"':
			pw_buf_printf(b, "&quot;");
			break;
		case '\'':
			pw_buf_printf(b, "&#39;");
			break;
		default:
			pw_buf_printf(b, "%c", *s);
		}
	}
}

static void json_str(struct pw_buf *b, const char *s)
{
	pw_buf_printf(b, "\"");
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			pw_buf_printf(b, "\\%c", c);
		else if (c < 0x20)
			pw_buf_printf(b, "\\u%04x", c);
		else
			pw_buf_printf(b, "%c", c);
	}
	pw_buf_printf(b, "\"");
}

static void json_num(struct pw_buf *b, double v)
{
	pw_buf_printf(b, "%.10g", isfinite(v) ? v : 0);
}

/* @v with an SI prefix: 950, 1.2k, 45.3M, ... */
static void si(struct pw_buf *b, double v)
{
	static const char *const pre[] = { "", "k", "M", "G", "T", "P" };
	unsigned int i = 0;

	if (!isfinite(v))
		v = 0;
	while (fabs(v) >= 1000 && i < 5) {
		v /= 1000;
		i++;
	}
	pw_buf_printf(b, i ? "%.3g%s" : "%.4g%s", v, pre[i]);
}

static void clock_utc(struct pw_buf *b, double t, bool date)
{
	time_t s = (time_t)t;
	struct tm tm;
	char txt[32];

	if (!(t > 0) || !gmtime_r(&s, &tm)) {
		pw_buf_printf(b, "-");
		return;
	}
	strftime(txt, sizeof(txt), date ? "%Y-%m-%d %H:%M:%SZ" : "%H:%M:%SZ", &tm);
	pw_buf_printf(b, "%s", txt);
}

static void duration(struct pw_buf *b, double s)
{
	unsigned long long t = s > 0 ? (unsigned long long)s : 0;

	if (t >= 86400)
		pw_buf_printf(b, "%llud %lluh", t / 86400, t % 86400 / 3600);
	else if (t >= 3600)
		pw_buf_printf(b, "%lluh %llum", t / 3600, t % 3600 / 60);
	else if (t >= 60)
		pw_buf_printf(b, "%llum %llus", t / 60, t % 60);
	else
		pw_buf_printf(b, "%llus", t);
}

/* Order of the page: groups in alarm first, then by packet rate, then by name. */
static int cmp_rank(const void *a, const void *b, void *ctx)
{
	const struct pw_status_group *g = ctx, *x = &g[*(const size_t *)a],
				     *y = &g[*(const size_t *)b];
	double px = isfinite(x->pps) ? x->pps : 0, py = isfinite(y->pps) ? y->pps : 0;

	if ((x->n_alarms > 0) != (y->n_alarms > 0))
		return x->n_alarms > 0 ? -1 : 1;
	if (px != py)
		return px > py ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The values of the sparkline, oldest first: closed buckets, then the open one. */
static size_t spark_values(const struct pw_status_group *g, float *v)
{
	size_t n = 0;

	for (unsigned int i = 0; i < g->n; i++)
		v[n++] = g->hist_pps[(g->head + PW_STATUS_POINTS - g->n + i) % PW_STATUS_POINTS];
	if (g->bucket_count)
		v[n++] = (float)(g->bucket_sum / g->bucket_count);
	return n;
}

#define SPARK_W 180
#define SPARK_H 32

static void sparkline(struct pw_buf *b, const struct pw_status_group *g)
{
	float v[PW_STATUS_POINTS + 1];
	size_t n = spark_values(g, v);
	double max = isfinite(g->base_pps) ? g->base_pps : 0;
	double step = (double)SPARK_W / PW_STATUS_POINTS;

	for (size_t i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	if (max <= 0)
		max = 1;
	pw_buf_printf(b,
		      "<svg class=\"spark\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">"
		      "<title>packets/s, last 15 minutes in 10 s means; peak ",
		      SPARK_W, SPARK_H, SPARK_W, SPARK_H);
	si(b, max);
	pw_buf_printf(b, "</title>");
	if (g->base_pps > 0 && isfinite(g->base_pps))
		pw_buf_printf(b,
			      "<line class=\"base\" x1=\"0\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>",
			      SPARK_W, SPARK_H - 2 - g->base_pps / max * (SPARK_H - 4),
			      SPARK_H - 2 - g->base_pps / max * (SPARK_H - 4));
	if (n) {
		/* newest at the right edge */
		double x0 = SPARK_W - (double)(n - 1) * step;

		pw_buf_printf(b, "<polyline points=\"");
		for (size_t i = 0; i < n; i++)
			pw_buf_printf(b, "%s%.1f,%.1f", i ? " " : "", n == 1 ? SPARK_W : x0 + i * step,
				      SPARK_H - 2 - v[i] / max * (SPARK_H - 4));
		pw_buf_printf(b, "\"/>");
	}
	pw_buf_printf(b, "</svg>");
}

static const char style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.2em 2em;color:#1d232a;background:#fbfcfd}"
	"h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.15em;margin:1.4em 0 .4em}"
	"table{border-collapse:collapse}td,th{padding:.25em .7em;text-align:left;vertical-align:top;"
	"border-bottom:1px solid #e2e6ea}th{background:#eef1f4;font-weight:600}"
	".num{text-align:right;font-variant-numeric:tabular-nums}"
	"tr.alarm td{background:#fdecec}tr.alarm td.name{border-left:4px solid #c62828;font-weight:600}td.name{white-space:nowrap}"
	".kind{display:inline-block;padding:0 .45em;border-radius:3px;color:#fff;background:#c62828;"
	"font-weight:600}.kind.loss{background:#6a1b9a}.kind.unstable{background:#ef6c00}"
	".ok{color:#2e7d32}.dim{color:#6b7580}.ev{font-size:12px;color:#37474f}"
	".spark polyline{fill:none;stroke:#1565c0;stroke-width:1.5}"
	"tr.alarm .spark polyline{stroke:#c62828}.spark .base{stroke:#90a4ae;stroke-dasharray:3 3}"
	".sensor td:first-child{color:#6b7580}nav a{margin-right:1em}";

/* The end of the JSON value at @s (a string, number, literal, array or object). */
static const char *json_skip(const char *s)
{
	int depth = 0;
	bool str = false;

	for (; *s; s++) {
		if (str) {
			if (*s == '\\' && s[1]) {
				s++;
			} else if (*s == '"') {
				str = false;
				if (!depth)
					return s + 1;
			}
			continue;
		}
		if (*s == '"') {
			str = true;
		} else if (*s == '[' || *s == '{') {
			depth++;
		} else if (*s == ']' || *s == '}') {
			if (!depth)
				return s; /* the end of the enclosing object */
			if (!--depth)
				return s + 1;
		} else if (*s == ',' && !depth) {
			return s;
		}
	}
	return s;
}

/*
 * The fields of an event (one flat JSON object, as pw_event_json writes it) other than
 * those the row already shows: the rates, and whatever else the event carries (the flood's
 * anatomy), as "name value" pairs; numbers with an SI prefix, strings unquoted, arrays and
 * objects as they are.
 */
static void html_event_fields(struct pw_buf *b, const char *json)
{
	static const char *const shown[] = { "time", "group", "prefix", "kind", "state" };
	const char *s = json;
	bool first = true;

	if (!s || *s++ != '{')
		return;
	while (*s == ' ' || *s == ',')
		s++;
	while (*s == '"') {
		const char *k = s + 1, *ke = strchr(k, '"'), *v, *ve;
		bool skip = false;
		char *end;
		double d;

		if (!ke || ke[1] != ':')
			return;
		v = ke + 2;
		ve = json_skip(v);
		for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
			skip |= strlen(shown[i]) == (size_t)(ke - k) &&
				!strncmp(shown[i], k, (size_t)(ke - k));
		if (!skip) {
			pw_buf_printf(b, "%s<span class=\"dim\">%.*s</span> ", first ? "" : " &middot; ",
				      (int)(ke - k), k);
			d = strtod(v, &end);
			if (end == ve && end > v) {
				si(b, d);
			} else {
				struct pw_buf raw = { 0 };

				if (*v == '"' && ve - v >= 2)
					pw_buf_printf(&raw, "%.*s", (int)(ve - v - 2), v + 1);
				else
					pw_buf_printf(&raw, "%.*s", (int)(ve - v), v);
				html_esc(b, raw.data);
				pw_buf_free(&raw);
			}
			first = false;
		}
		s = ve;
		while (*s == ' ' || *s == ',')
			s++;
	}
}

static void html_alarm(struct pw_buf *b, const struct pw_status_alarm *a, double now)
{
	pw_buf_printf(b, "<div><span class=\"kind %s\">%s</span> ", pw_alarm_name(a->kind),
		      pw_alarm_name(a->kind));
	if (a->prefix[0]) {
		html_esc(b, a->prefix);
		pw_buf_printf(b, " ");
	}
	pw_buf_printf(b, "since ");
	clock_utc(b, a->since, false);
	pw_buf_printf(b, " <span class=\"dim\">(");
	duration(b, now - a->since);
	pw_buf_printf(b, ")</span>");
	if (a->start_json) {
		pw_buf_printf(b, "<br><span class=\"ev\">at its start: ");
		html_event_fields(b, a->start_json);
		pw_buf_printf(b, "</span>");
	}
	pw_buf_printf(b, "</div>");
}

static void html_nav(struct pw_buf *b, const struct pw_status_query *q, unsigned long pages)
{
	if (pages <= 1)
		return;
	pw_buf_printf(b, "<nav>");
	if (q->page > 1)
		pw_buf_printf(b, "<a href=\"/?page=%lu&amp;per_page=%lu\">&larr; previous</a>",
			      q->page - 1, q->per_page);
	pw_buf_printf(b, "page %lu of %lu ", q->page, pages);
	if (q->page < pages)
		pw_buf_printf(b, "<a href=\"/?page=%lu&amp;per_page=%lu\">next &rarr;</a>",
			      q->page + 1, q->per_page);
	pw_buf_printf(b, "</nav>");
}

struct view {
	struct pw_status *st;
	const struct pw_status_query *q;
	double now;
	size_t *idx; /* groups in page order */
	size_t from, to;
	unsigned long pages;
	size_t in_alarm;
};

static const struct pw_status_event *event_at(const struct pw_status *st, unsigned int i)
{
	/* i = 0 is the newest */
	return &st->ev[(st->ev_head + PW_STATUS_EVENTS - 1 - i) % PW_STATUS_EVENTS];
}

static void html(const struct view *v, struct pw_buf *b)
{
	const struct pw_status *st = v->st;

	pw_buf_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			 "<meta http-equiv=\"refresh\" content=\"%d\">"
			 "<meta name=\"viewport\" content=\"width=device-width\">"
			 "<title>prefixwatch%s</title><style>%s</style></head><body>\n",
		      PW_STATUS_REFRESH, v->in_alarm ? " - ALARM" : "", style);
	pw_buf_printf(b, "<h1>prefixwatch</h1>\n<table class=\"sensor\">"
			 "<tr><td>version</td><td>%s</td></tr><tr><td>up</td><td>",
		      PW_VERSION);
	duration(b, v->now - st->started);
	pw_buf_printf(b, " <span class=\"dim\">(since ");
	clock_utc(b, st->started, true);
	pw_buf_printf(b, ")</span></td></tr><tr><td>last poll</td><td>");
	if (st->polls) {
		clock_utc(b, st->last_poll, true);
		pw_buf_printf(b, " <span class=\"dim\">(%.1f s ago, took %.1f ms; every %g s, %llu polls)</span>",
			      v->now - st->last_poll, st->poll_seconds * 1e3, st->interval,
			      st->polls);
	} else {
		pw_buf_printf(b, "none yet");
	}
	pw_buf_printf(b, "</td></tr><tr><td>interfaces</td><td>");
	for (size_t i = 0; i < st->n_ifaces; i++) {
		pw_buf_printf(b, "%s", i ? ", " : "");
		html_esc(b, st->ifaces[i].name);
		if (st->ifaces[i].attached)
			pw_buf_printf(b, " <span class=\"ok\">XDP %s</span>", st->ifaces[i].mode);
		else
			pw_buf_printf(b, " <span class=\"kind\">not attached</span>");
	}
	pw_buf_printf(b, "%s</td></tr></table>\n", st->n_ifaces ? "" : "none");

	pw_buf_printf(b, "<h2>Groups</h2>\n<p>%zu group%s, ", st->n, st->n == 1 ? "" : "s");
	if (v->in_alarm)
		pw_buf_printf(b, "<span class=\"kind\">%zu in alarm</span>", v->in_alarm);
	else
		pw_buf_printf(b, "<span class=\"ok\">none in alarm</span>");
	if (v->to > v->from)
		pw_buf_printf(b, "; showing %zu to %zu, alarms first, then by packet rate",
			      v->from + 1, v->to);
	pw_buf_printf(b, ".</p>\n");
	html_nav(b, v->q, v->pages);
	pw_buf_printf(b, "<table class=\"groups\"><tr><th>group</th><th class=\"num\">packets/s</th>"
			 "<th class=\"num\">bits/s</th><th class=\"num\">baseline packets/s</th>"
			 "<th class=\"num\">baseline bits/s</th><th>last 15 minutes</th>"
			 "<th>alarms</th></tr>\n");
	for (size_t k = v->from; k < v->to; k++) {
		const struct pw_status_group *g = &st->g[v->idx[k]];

		pw_buf_printf(b, "<tr%s><td class=\"name\">", g->n_alarms ? " class=\"alarm\"" : "");
		html_esc(b, g->name);
		pw_buf_printf(b, "</td><td class=\"num\">");
		si(b, g->pps);
		pw_buf_printf(b, "</td><td class=\"num\">");
		si(b, g->bps);
		pw_buf_printf(b, "</td><td class=\"num\">");
		si(b, g->base_pps);
		pw_buf_printf(b, "</td><td class=\"num\">");
		si(b, g->base_bps);
		pw_buf_printf(b, "</td><td>");
		sparkline(b, g);
		pw_buf_printf(b, "</td><td>");
		for (unsigned int a = 0; a < g->n_alarms; a++)
			html_alarm(b, &g->alarm[a], v->now);
		if (g->alarms_dropped)
			pw_buf_printf(b, "<div class=\"dim\">and %u more</div>", g->alarms_dropped);
		if (!g->n_alarms)
			pw_buf_printf(b, "<span class=\"ok\">none</span>");
		pw_buf_printf(b, "</td></tr>\n");
	}
	pw_buf_printf(b, "</table>\n");
	html_nav(b, v->q, v->pages);

	pw_buf_printf(b, "<h2>Last events</h2>\n");
	if (!st->ev_n)
		pw_buf_printf(b, "<p class=\"dim\">No event since the start.</p>\n");
	else
		pw_buf_printf(b, "<table><tr><th>time</th><th>group</th><th>prefix</th><th>alarm</th>"
				 "<th>state</th><th class=\"num\">packets/s</th>"
				 "<th class=\"num\">baseline packets/s</th></tr>\n");
	for (unsigned int i = 0; i < st->ev_n; i++) {
		const struct pw_status_event *e = event_at(st, i);

		pw_buf_printf(b, "<tr><td>");
		clock_utc(b, e->time, true);
		pw_buf_printf(b, "</td><td>");
		html_esc(b, e->group);
		pw_buf_printf(b, "</td><td>");
		html_esc(b, e->prefix[0] ? e->prefix : "");
		pw_buf_printf(b, "</td><td><span class=\"kind %s\">%s</span></td><td>%s</td>"
				 "<td class=\"num\">",
			      pw_alarm_name(e->kind), pw_alarm_name(e->kind),
			      e->start ? "start" : "end");
		si(b, e->pps);
		pw_buf_printf(b, "</td><td class=\"num\">");
		si(b, e->baseline_pps);
		pw_buf_printf(b, "</td></tr>\n");
	}
	if (st->ev_n)
		pw_buf_printf(b, "</table>\n");
	pw_buf_printf(b, "<p class=\"dim\">Refreshes every %d s. Also: <a href=\"/metrics\">/metrics</a>"
			 " (Prometheus), <a href=\"/api/v1/status\">/api/v1/status</a> (JSON).</p>\n"
			 "</body></html>\n",
		      PW_STATUS_REFRESH);
}

static void json(const struct view *v, struct pw_buf *b)
{
	const struct pw_status *st = v->st;

	pw_buf_printf(b, "{\"version\":");
	json_str(b, PW_VERSION);
	pw_buf_printf(b, ",\"now\":%.3f,\"started\":%.3f,\"uptime_seconds\":%.3f", v->now,
		      st->started, v->now - st->started);
	pw_buf_printf(b, ",\"last_poll\":%.3f,\"poll_duration_seconds\":%.9f,"
			 "\"interval_seconds\":%g,\"polls\":%llu",
		      st->polls ? st->last_poll : 0, st->poll_seconds, st->interval, st->polls);
	pw_buf_printf(b, ",\"interfaces\":[");
	for (size_t i = 0; i < st->n_ifaces; i++) {
		pw_buf_printf(b, "%s{\"name\":", i ? "," : "");
		json_str(b, st->ifaces[i].name);
		pw_buf_printf(b, ",\"attached\":%s,\"mode\":", st->ifaces[i].attached ? "true" : "false");
		if (st->ifaces[i].attached)
			json_str(b, st->ifaces[i].mode);
		else
			pw_buf_printf(b, "null");
		pw_buf_printf(b, "}");
	}
	pw_buf_printf(b, "],\"total_groups\":%zu,\"groups_in_alarm\":%zu,\"page\":%lu,"
			 "\"per_page\":%lu,\"pages\":%lu,\"history_step_seconds\":%g,\"groups\":[",
		      st->n, v->in_alarm, v->q->page, v->q->per_page, v->pages, PW_STATUS_BUCKET);
	for (size_t k = v->from; k < v->to; k++) {
		const struct pw_status_group *g = &st->g[v->idx[k]];
		float h[PW_STATUS_POINTS + 1];
		size_t nh = spark_values(g, h);

		pw_buf_printf(b, "%s{\"name\":", k > v->from ? "," : "");
		json_str(b, g->name);
		pw_buf_printf(b, ",\"pps\":");
		json_num(b, g->pps);
		pw_buf_printf(b, ",\"bps\":");
		json_num(b, g->bps);
		pw_buf_printf(b, ",\"baseline_pps\":");
		json_num(b, g->base_pps);
		pw_buf_printf(b, ",\"baseline_bps\":");
		json_num(b, g->base_bps);
		pw_buf_printf(b, ",\"history_pps\":[");
		for (size_t i = 0; i < nh; i++) {
			pw_buf_printf(b, "%s", i ? "," : "");
			json_num(b, h[i]);
		}
		pw_buf_printf(b, "],\"alarms\":[");
		for (unsigned int a = 0; a < g->n_alarms; a++) {
			const struct pw_status_alarm *al = &g->alarm[a];

			pw_buf_printf(b, "%s{\"kind\":\"%s\"", a ? "," : "", pw_alarm_name(al->kind));
			if (al->prefix[0]) {
				pw_buf_printf(b, ",\"prefix\":");
				json_str(b, al->prefix);
			}
			pw_buf_printf(b, ",\"since\":%.3f,\"start_event\":%s}", al->since,
				      al->start_json ? al->start_json : "null");
		}
		pw_buf_printf(b, "],\"alarms_not_shown\":%u}", g->alarms_dropped);
	}
	pw_buf_printf(b, "],\"events\":[");
	for (unsigned int i = 0, first = 1; i < st->ev_n; i++) {
		const struct pw_status_event *e = event_at(st, i);

		if (!e->json)
			continue;
		pw_buf_printf(b, "%s%s", first ? "" : ",", e->json);
		first = 0;
	}
	pw_buf_printf(b, "]}\n");
}

static void text(const struct view *v, struct pw_buf *b)
{
	const struct pw_status *st = v->st;

	pw_buf_printf(b, "prefixwatch %s, up ", PW_VERSION);
	duration(b, v->now - st->started);
	if (st->polls)
		pw_buf_printf(b, ", last poll %.1f s ago (every %g s)", v->now - st->last_poll,
			      st->interval);
	else
		pw_buf_printf(b, ", no poll yet");
	pw_buf_printf(b, "\ninterfaces:");
	for (size_t i = 0; i < st->n_ifaces; i++)
		pw_buf_printf(b, " %s (%s)", st->ifaces[i].name,
			      st->ifaces[i].attached ? st->ifaces[i].mode : "not attached");
	pw_buf_printf(b, "%s\ngroups: %zu, %zu in alarm", st->n_ifaces ? "" : " none", st->n,
		      v->in_alarm);
	if (v->pages > 1)
		pw_buf_printf(b, "; page %lu of %lu", v->q->page, v->pages);
	pw_buf_printf(b, "\n\n%-24s %10s %10s %10s %10s  %s\n", "GROUP", "PPS", "BPS", "BASE PPS",
		      "BASE BPS", "ALARMS");
	for (size_t k = v->from; k < v->to; k++) {
		const struct pw_status_group *g = &st->g[v->idx[k]];
		struct pw_buf n[4] = { { 0 } };
		const double val[4] = { g->pps, g->bps, g->base_pps, g->base_bps };

		for (int i = 0; i < 4; i++)
			si(&n[i], val[i]);
		pw_buf_printf(b, "%-24s %10s %10s %10s %10s ", g->name, n[0].data ? n[0].data : "",
			      n[1].data ? n[1].data : "", n[2].data ? n[2].data : "",
			      n[3].data ? n[3].data : "");
		for (int i = 0; i < 4; i++)
			pw_buf_free(&n[i]);
		for (unsigned int a = 0; a < g->n_alarms; a++) {
			pw_buf_printf(b, " %s%s%s since ", pw_alarm_name(g->alarm[a].kind),
				      g->alarm[a].prefix[0] ? " " : "", g->alarm[a].prefix);
			clock_utc(b, g->alarm[a].since, false);
			pw_buf_printf(b, "%s", a + 1 < g->n_alarms ? ";" : "");
		}
		pw_buf_printf(b, "%s\n", g->n_alarms ? "" : " -");
	}
	pw_buf_printf(b, "\nlast events:%s\n", st->ev_n ? "" : " none");
	for (unsigned int i = 0; i < st->ev_n; i++) {
		const struct pw_status_event *e = event_at(st, i);

		pw_buf_printf(b, "  ");
		clock_utc(b, e->time, true);
		pw_buf_printf(b, "  %s%s%s  %s %s  pps ", e->group, e->prefix[0] ? " " : "", e->prefix,
			      pw_alarm_name(e->kind), e->start ? "start" : "end");
		si(b, e->pps);
		pw_buf_printf(b, "  baseline ");
		si(b, e->baseline_pps);
		pw_buf_printf(b, "\n");
	}
}

void pw_status_render(struct pw_status *st, const struct pw_status_query *q, double now,
		      struct pw_buf *out)
{
	struct view v = { .st = st, .q = q, .now = now };

	pthread_mutex_lock(&st->lock);
	v.idx = malloc((st->n ? st->n : 1) * sizeof(*v.idx));
	if (!v.idx) {
		pthread_mutex_unlock(&st->lock);
		out->oom = true;
		return;
	}
	for (size_t i = 0; i < st->n; i++) {
		v.idx[i] = i;
		v.in_alarm += st->g[i].n_alarms > 0;
	}
	qsort_r(v.idx, st->n, sizeof(*v.idx), cmp_rank, st->g);
	v.pages = q->per_page ? (st->n + q->per_page - 1) / q->per_page : 1;
	if (!v.pages)
		v.pages = 1;
	v.from = q->page > 0 && (q->page - 1) * q->per_page < st->n ? (q->page - 1) * q->per_page
								   : st->n;
	v.to = v.from + q->per_page < st->n ? v.from + q->per_page : st->n;
	if (q->format == PW_STATUS_HTML)
		html(&v, out);
	else if (q->format == PW_STATUS_JSON)
		json(&v, out);
	else
		text(&v, out);
	free(v.idx);
	pthread_mutex_unlock(&st->lock);
}

static int number_arg(const struct pw_http_req *req, const char *key, unsigned long max,
		      unsigned long *out)
{
	const char *s = pw_http_arg(req, key);
	char *end;

	if (!s)
		return 0;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || !*s || *end || *out < 1 || *out > max || s[0] == '-' ? -1 : 0;
}

int pw_status_http(void *ctx, const struct pw_http_req *req, struct pw_buf *out,
		   const char **ctype)
{
	struct pw_status_query q = { .page = 1, .per_page = PW_STATUS_PER_PAGE };
	const char *fmt;
	struct timespec ts;

	if (!strcmp(req->url, "/")) {
		q.format = PW_STATUS_HTML;
	} else if (!strcmp(req->url, "/api/v1/status")) {
		fmt = pw_http_arg(req, "format");
		q.format = PW_STATUS_JSON;
		if (fmt && !strcmp(fmt, "text")) {
			q.format = PW_STATUS_TEXT;
		} else if (fmt && strcmp(fmt, "json")) {
			pw_buf_printf(out, "format: give json or text\n");
			return 400;
		}
	} else {
		pw_buf_printf(out, "not found: try /, /metrics or /api/v1/status\n");
		return 404;
	}
	if (number_arg(req, "page", 1000000000UL, &q.page) ||
	    number_arg(req, "per_page", PW_STATUS_MAX_PER_PAGE, &q.per_page)) {
		pw_buf_printf(out, "page and per_page: give whole numbers from 1 (per_page up to %d)\n",
			      PW_STATUS_MAX_PER_PAGE);
		return 400;
	}
	*ctype = q.format == PW_STATUS_HTML ? "text/html; charset=utf-8"
		 : q.format == PW_STATUS_JSON ? "application/json"
					      : "text/plain; charset=utf-8";
	clock_gettime(CLOCK_REALTIME, &ts);
	pw_status_render(ctx, &q, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9, out);
	return 200;
}

/* ---- prefixwatch status ---- */

int pw_status_fetch(const char *listen, FILE *out)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICSERV, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	struct pw_buf resp = { 0 };
	char host[128], port[8], req[256];
	struct timeval tv = { .tv_sec = 10 };
	unsigned int portnum;
	const char *body;
	int fd = -1, rc, code = 0;
	ssize_t n;

	if (pw_listen_parse(listen, host, sizeof(host), &portnum)) {
		fprintf(stderr, "prefixwatch status: '%s' is not HOST:PORT\n", listen);
		return EXIT_USAGE;
	}
	snprintf(port, sizeof(port), "%u", portnum);
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		fprintf(stderr, "prefixwatch status: %s: %s\n", listen, gai_strerror(rc));
		return EXIT_RUNTIME;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		fprintf(stderr, "prefixwatch status: cannot connect to %s: %s (is the daemon running, with listen = %s?)\n",
			listen, strerror(errno), listen);
		goto fail;
	}
	snprintf(req, sizeof(req),
		 "GET /api/v1/status?format=text&per_page=%d HTTP/1.0\r\nHost: %s\r\n"
		 "User-Agent: prefixwatch/%s\r\n\r\n",
		 PW_STATUS_PER_PAGE, listen, PW_VERSION);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		fprintf(stderr, "prefixwatch status: cannot send to %s: %s\n", listen,
			strerror(errno));
		goto fail;
	}
	for (;;) {
		char chunk[16384];

		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			fprintf(stderr, "prefixwatch status: reading from %s: %s\n", listen,
				strerror(errno));
			goto fail;
		}
		if (!n)
			break;
		pw_buf_printf(&resp, "%.*s", (int)n, chunk);
	}
	if (resp.oom || !resp.data || sscanf(resp.data, "HTTP/1.%*d %d", &code) != 1) {
		fprintf(stderr, "prefixwatch status: %s gave no HTTP answer (is it TLS? then use curl)\n",
			listen);
		goto fail;
	}
	body = strstr(resp.data, "\r\n\r\n");
	body = body ? body + 4 : "";
	if (code == 401) {
		fprintf(stderr, "prefixwatch status: %s asks for a password (basic_auth_users); use curl -u\n",
			listen);
		goto fail;
	}
	if (code != 200) {
		fprintf(stderr, "prefixwatch status: %s answered %d: %s", listen, code, body);
		goto fail;
	}
	fputs(body, out);
	pw_buf_free(&resp);
	close(fd);
	freeaddrinfo(ai);
	return EXIT_OK;
fail:
	pw_buf_free(&resp);
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return EXIT_RUNTIME;
}
