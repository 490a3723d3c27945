/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ifaces.h - the daemon's interface table: attach to what the config names, detach from
 * the rest, follow interfaces that go, come back or are renamed, read their counters.
 */
#ifndef PW_IFACES_H
#define PW_IFACES_H

#include "config.h"

struct pw_daemon;

/*
 * Detach from the interfaces @cfg no longer names, then attach to those it names and are
 * not attached yet. 0, or -1 when some could not be attached (logged; they stay in the
 * table and are attached when they can be).
 */
int pw_ifaces_sync(struct pw_daemon *d, const struct pw_config *cfg);
/* At each poll: notice interfaces gone, renamed or back, and read their counters. */
void pw_ifaces_poll(struct pw_daemon *d);
/* Detach from every interface (at stop). */
void pw_ifaces_detach_all(struct pw_daemon *d);

#endif /* PW_IFACES_H */
