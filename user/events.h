/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * events.h - where alarm events go: one JSON object per line to stdout or a file, and to
 * an optional on_event program (no shell, event on stdin, time-limited, never waited on).
 */
#ifndef PW_EVENTS_H
#define PW_EVENTS_H

#include <stdbool.h>
#include <stdio.h>

#include "watch.h"

/* Seconds an on_event program, with all it started, may run before it is killed. */
#define PW_ON_EVENT_TIMEOUT 10.0
/* Programs running at once; events beyond are not handed to the program (logged). */
#define PW_ON_EVENT_MAX 16

struct pw_events {
	FILE *out;	 /* stdout or the event_log file */
	char on_event[4096];
	struct {
		int pid;	 /* the program, leader of its own session and group */
		double deadline; /* monotonic seconds: its group is killed then */
		bool exited;	 /* the program was reaped; the slot waits for its group */
		bool killed;	 /* its group was sent SIGKILL */
	} running[PW_ON_EVENT_MAX];
	unsigned long dropped;
};

/* Open @log ("" = stdout) and remember @on_event ("" = none). 0, or -errno. */
int pw_events_open(struct pw_events *e, const char *log, const char *on_event);
/*
 * Open @log afresh (also when its path is unchanged: after logrotate renamed it) and take
 * @on_event for the events to come; the programs running go on under their deadline. On
 * failure returns -errno and events go to stdout.
 */
int pw_events_reopen(struct pw_events *e, const char *log, const char *on_event);
/* Close the log, kill the programs still running and their groups, and reap them. */
void pw_events_close(struct pw_events *e);
/* A pw_event_sink: write the event and start the program. */
void pw_events_sink(void *ctx, const struct pw_watch_item *item, const struct pw_event *ev);
/*
 * Reap the programs that exited and kill the process groups past their deadline; never
 * waits. Call on SIGCHLD, at the deadline pw_events_timeout_ms gives, and every poll.
 */
void pw_events_reap(struct pw_events *e);
/* Milliseconds until the next deadline (0 when one is past), or -1 when none is due. */
int pw_events_timeout_ms(const struct pw_events *e);

#endif /* PW_EVENTS_H */
