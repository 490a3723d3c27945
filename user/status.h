/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * status.h - the operator's view: the status page at / (HTML), the same as JSON at
 * /api/v1/status, and as a text table for `prefixwatch status`.
 *
 * The poll loop copies what the view shows into a struct pw_status after each poll
 * (rates, baselines, a bounded history per group) and records alarms and events as the
 * detectors emit them; the HTTP thread renders from that copy on request, under its lock.
 * A request costs a sort of the groups and the rendering of one page of them, whatever a
 * client then does with it; a poll waits at most for one such rendering.
 */
#ifndef PW_STATUS_H
#define PW_STATUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "exporter.h"
#include "poller.h"
#include "watch.h"

/* The sparkline: 15 minutes of history in 90 buckets of 10 s (each the buckets' mean). */
#define PW_STATUS_POINTS 90
#define PW_STATUS_BUCKET 10.0
/* The events kept for the page, newest first. */
#define PW_STATUS_EVENTS 20
/* Alarms kept per group (the group's own, and its prefixes' with per_prefix = yes). */
#define PW_STATUS_ALARMS 8
/* Groups on a page unless ?per_page= says otherwise, and the most it may say. */
#define PW_STATUS_PER_PAGE 50
#define PW_STATUS_MAX_PER_PAGE 10000

/*
 * A raised alarm. @start_json is its start event as event_log has it (pw_event_json), so
 * whatever that event carries (the flood's anatomy: vectors, ports, targets) is shown with
 * the alarm without this file knowing its fields.
 */
struct pw_status_alarm {
	enum pw_alarm_kind kind;
	char prefix[PW_PREFIX_STRLEN]; /* "" for the group's own detector */
	double since;		       /* Unix seconds of its start event */
	char *start_json;
};

struct pw_status_group {
	char name[PW_GROUP_NAME_MAX + 1];
	double pps, bps, base_pps, base_bps;
	struct pw_status_alarm alarm[PW_STATUS_ALARMS];
	unsigned int n_alarms;
	unsigned int alarms_dropped; /* raised while PW_STATUS_ALARMS were */
	/* history: ring of bucket means, oldest at (head - n) */
	float hist_pps[PW_STATUS_POINTS];
	unsigned int head, n;
	double bucket_start; /* Unix seconds; 0 before the first sample */
	double bucket_sum;
	unsigned int bucket_count;
};

struct pw_status_event {
	double time;
	char group[PW_GROUP_NAME_MAX + 1];
	char prefix[PW_PREFIX_STRLEN];
	enum pw_alarm_kind kind;
	bool start;
	double pps, baseline_pps;
	char *json;
};

struct pw_status {
	pthread_mutex_t lock;
	struct pw_status_group *g;
	size_t n;
	struct pw_status_event ev[PW_STATUS_EVENTS]; /* ring, newest at ev_head - 1 */
	unsigned int ev_head, ev_n;
	double started, last_poll; /* Unix seconds */
	double poll_seconds, interval;
	unsigned long long polls;
	struct pw_iface_state ifaces[PW_MAX_INTERFACES];
	size_t n_ifaces;
	/* where the events go on from pw_status_sink */
	pw_event_sink next;
	void *next_ctx;
};

void pw_status_init(struct pw_status *st, double now, pw_event_sink next, void *next_ctx);
void pw_status_free(struct pw_status *st);

/* A pw_event_sink: record the event and its alarm, then hand it to the next sink. */
void pw_status_sink(void *ctx, const struct pw_watch_item *item, const struct pw_event *ev);

/*
 * Take the poller's and the detectors' state after a poll at @now (Unix seconds). Groups
 * are matched by name: a group that stays through a reload keeps its history and alarms.
 */
void pw_status_update(struct pw_status *st, const struct pw_poller *pl, const struct pw_watch *w,
		      const struct pw_iface_state *ifaces, size_t n_ifaces, double poll_seconds,
		      double interval, double now);

enum pw_status_format { PW_STATUS_HTML, PW_STATUS_JSON, PW_STATUS_TEXT };

/* Which groups: page @page (from 1) of @per_page, alarms first, then by packet rate. */
struct pw_status_query {
	enum pw_status_format format;
	unsigned long page, per_page;
};

/* Render at @now (Unix seconds) into @out. */
void pw_status_render(struct pw_status *st, const struct pw_status_query *q, double now,
		      struct pw_buf *out);

/*
 * The HTTP handler (pw_http_handler) for / and /api/v1/status: 200 with the page in @out,
 * 404 for other paths, 400 for a bad query.
 */
int pw_status_http(void *ctx, const struct pw_http_req *req, struct pw_buf *out,
		   const char **ctype);

/*
 * prefixwatch status: GET /api/v1/status?format=text from @listen (HOST:PORT) over plain
 * HTTP/1.0 and print it. Returns an exit status.
 */
int pw_status_fetch(const char *listen, FILE *out);

#endif /* PW_STATUS_H */
