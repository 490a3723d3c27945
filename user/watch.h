/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * watch.h - the detectors of a running configuration: one per group, and one per prefix
 * of each group with per_prefix = yes, fed from the poller after every poll. Used alike
 * by the daemon and by replay, so both decide with exactly the same code.
 */
#ifndef PW_WATCH_H
#define PW_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "detector.h"
#include "exporter.h"
#include "poller.h"

struct pw_watch_item {
	char group[PW_GROUP_NAME_MAX + 1];
	bool per_prefix;	 /* a prefix's own detector, else the group's */
	struct pw_prefix prefix; /* per_prefix only */
	uint64_t set_hash;	 /* of the group's prefixes: a change restarts the detector */
	size_t gidx;		 /* index in the poller's groups */
	size_t pidx;		 /* per_prefix: index in the poller's sorted prefixes */
	struct pw_detector det;
	const char *pclass;	       /* a class detector's class (anatomy.c), else NULL */
	const struct pw_anatomy *anat; /* for the flood anatomy of events, or NULL */
};

/* Called for each event, in order. */
typedef void (*pw_event_sink)(void *ctx, const struct pw_watch_item *item,
			      const struct pw_event *ev);

struct pw_anatomy;

struct pw_watch {
	struct pw_watch_item *items;
	size_t n;
	struct pw_anatomy *anat; /* flood anatomy (anatomy.h), or NULL */
	pw_event_sink sink;
	void *sink_ctx;
};

void pw_watch_init(struct pw_watch *w, pw_event_sink sink, void *ctx);
void pw_watch_free(struct pw_watch *w);

/*
 * Rebuild the detectors for the poller's (new) configuration. A detector whose group
 * and prefixes are unchanged keeps its state (baseline, alarms); others start afresh,
 * and an alarm of a detector that goes away is ended with an event at @now.
 */
int pw_watch_sync(struct pw_watch *w, const struct pw_poller *pl, double now);

/* Feed every detector the poller's latest rates; events are stamped @now. */
void pw_watch_step(struct pw_watch *w, const struct pw_poller *pl, double now);

/* Prometheus families of the detectors (pw_export_input.extra). */
void pw_watch_render(void *w, struct pw_buf *out);

/* One event as a JSON object, without newline. */
void pw_event_json(const struct pw_watch_item *item, const struct pw_event *ev,
		   struct pw_buf *out);

#endif /* PW_WATCH_H */
