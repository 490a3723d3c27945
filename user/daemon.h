/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * daemon.h - the running daemon's state, shared by its parts: the event loop and start
 * (daemon.c), the interface table (ifaces.c) and the reload sequence (reload.c).
 */
#ifndef PW_DAEMON_H
#define PW_DAEMON_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "attach.h"
#include "cli.h"
#include "config.h"
#include "events.h"
#include "exporter.h"
#include "loader.h"
#include "poller.h"
#include "status.h"
#include "watch.h"
#include "webcfg.h"

/* One interface of the config, attached or waiting to be. */
struct pw_iface {
	struct pw_iface_state st;
	struct pw_counter base; /* counts of earlier lives of the interface (deleted, re-created) */
	bool warned;		/* a failed re-attach was logged */
};

struct pw_daemon {
	struct pw_cli *cli;
	struct pw_bpf *bpf;
	struct pw_attacher *att;
	struct pw_poller pl;
	struct pw_watch watch;
	struct pw_events events;
	struct pw_http *http;
	struct pw_web *web;	  /* what http was started with */
	struct pw_status status; /* the status page's copy of the state */
	char listen[128];
	char web_config[PATH_MAX];
	char pin_dir[PATH_MAX];
	int lock_fd;
	double next_save; /* monotonic time of the next save of the detectors' state */
	bool save_failed; /* the last save failed (logged once until one succeeds) */
	enum pw_attach_mode mode;
	double interval;
	struct pw_iface ifaces[PW_MAX_INTERFACES];
	size_t n_ifaces;
	uint64_t reloads_ok, reloads_failed;
	double last_reload_ok;
	double poll_seconds;
	uint64_t polls;
};

/* prefixwatch run: the daemon, until SIGINT or SIGTERM. Returns an exit status. */
int pw_cmd_run(struct pw_cli *c);

double pw_mono_now(void);
double pw_wall_now(void);
/* Serve /metrics on @listen ("" = not at all). 0, or -1 (logged). */
int pw_daemon_start_http(struct pw_daemon *d, const char *listen);
void pw_daemon_stop_http(struct pw_daemon *d);
/* (Re)open event_log and take on_event from the running config. 0, or -1 (logged). */
int pw_daemon_open_events(struct pw_daemon *d);

#endif /* PW_DAEMON_H */
