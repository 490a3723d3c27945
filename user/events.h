/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * events.h - where alarm events go: one JSON object per line to stdout or a file, and to
 * an optional on_event program (no shell, event on stdin, time-limited, never waited on).
 */
#ifndef PW_EVENTS_H
#define PW_EVENTS_H

#include <stdio.h>

#include "watch.h"

/* Seconds an on_event program may run before it is killed. */
#define PW_ON_EVENT_TIMEOUT 10.0
/* Programs running at once; events beyond are not handed to the program (logged). */
#define PW_ON_EVENT_MAX 16

struct pw_events {
	FILE *out;	 /* stdout or the event_log file */
	char on_event[4096];
	struct {
		int pid;
		double started;
	} running[PW_ON_EVENT_MAX];
	unsigned long dropped;
};

/* Open @log ("" = stdout) and remember @on_event ("" = none). 0, or -errno. */
int pw_events_open(struct pw_events *e, const char *log, const char *on_event);
void pw_events_close(struct pw_events *e);
/* A pw_event_sink: write the event and start the program. */
void pw_events_sink(void *ctx, const struct pw_watch_item *item, const struct pw_event *ev);
/* Reap finished programs and kill those past their time; call every poll. */
void pw_events_reap(struct pw_events *e);

#endif /* PW_EVENTS_H */
