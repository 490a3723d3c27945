/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* reload.h - the reload sequence, on SIGHUP. */
#ifndef PW_RELOAD_H
#define PW_RELOAD_H

struct pw_daemon;

/*
 * Read the config again and apply it: refused whole (and counted as a failure) when it is
 * invalid or its prefixes cannot be loaded; else live, with what cannot follow it (an
 * interface, the listen address, the event log) logged and counted as a failure.
 */
void pw_reload(struct pw_daemon *d);

#endif /* PW_RELOAD_H */
