// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * reload.c - the reload sequence, on SIGHUP: read the config again, refuse it whole when
 * it cannot be loaded, else make it live step by step (prefixes, detectors, mode,
 * interfaces, listen address, interval, events) and count the reload as a success only
 * when every step followed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "daemon.h"
#include "ifaces.h"
#include "log.h"
#include "reload.h"

static int capacity_ok(struct pw_daemon *d, const struct pw_config *cfg, char *err, size_t errlen)
{
	size_t v4, v6;

	pw_config_count(cfg, &v4, &v6);
	if (v4 > pw_bpf_max_v4(d->bpf) || v6 > pw_bpf_max_v6(d->bpf)) {
		snprintf(err, errlen,
			 "%s: %zu IPv4 and %zu IPv6 prefixes exceed the maps' room of %u and %u set at start (restart to grow them)",
			 cfg->path, v4, v6, pw_bpf_max_v4(d->bpf), pw_bpf_max_v6(d->bpf));
		return -1;
	}
	return 0;
}

/*
 * Why the poller found too few counter ids (-E2BIG): the classes of @cfg (poller.h) are
 * counted only then, as that walks every prefix again.
 */
static void explain_ids(struct pw_daemon *d, const struct pw_config *cfg, char *err,
			size_t errlen)
{
	long ids = pw_poller_ids_needed(cfg);

	snprintf(err, errlen,
		 "%s: its prefixes need %ld counters (one per prefix read on its own, per group combination), more than the %u set at start (restart to grow them)",
		 cfg->path, ids, pw_bpf_max_ids(d->bpf));
}

void pw_reload(struct pw_daemon *d)
{
	const struct pw_config *ncfg;
	struct pw_config cfg;
	bool failed = false;
	char err[1024];
	size_t v4, v6;
	int e;

	pw_info("SIGHUP: reloading %s", d->cli->config);
	if (pw_load_config(d->cli, &cfg, err, sizeof(err))) {
		pw_err("reload refused, keeping the running config: %s", err);
		d->reloads_failed++;
		return;
	}
	if (capacity_ok(d, &cfg, err, sizeof(err))) {
		pw_err("reload refused, keeping the running config: %s", err);
		d->reloads_failed++;
		pw_config_free(&cfg);
		return;
	}
	pw_config_count(&cfg, &v4, &v6);
	/* Prefixes first: the only step that can refuse the new config as a whole. */
	e = pw_poller_apply(&d->pl, &cfg, pw_mono_now());
	if (e == -E2BIG) {
		explain_ids(d, &cfg, err, sizeof(err));
		pw_err("reload refused, keeping the running config: %s", err);
	} else if (e) {
		pw_err("reload refused, keeping the running config: cannot load the prefixes: %s",
		       strerror(-e));
	}
	if (e) {
		pw_config_free(&cfg);
		d->reloads_failed++;
		return;
	}
	/* From here the new config is live; what cannot follow it is logged and counted. */
	ncfg = &d->pl.cfg;
	if (pw_watch_sync(&d->watch, &d->pl, pw_wall_now())) {
		pw_err("out of memory rebuilding the detectors");
		failed = true;
	}
	if (strcmp(ncfg->pin_dir, d->pin_dir))
		pw_warn("pin_dir changed to %s: takes effect at the next start", ncfg->pin_dir);
	if (ncfg->mode != d->mode) {
		pw_warn("mode changed to %s: applies to interfaces attached from now on",
			pw_mode_name(ncfg->mode));
		d->mode = ncfg->mode;
	}
	if (pw_ifaces_sync(d, ncfg)) {
		pw_err("reload: some interfaces could not be attached; see above");
		failed = true;
	}
	/* with a web_config, every time: its certificate or users may have changed */
	if (strcmp(ncfg->listen, d->listen) || strcmp(ncfg->web_config, d->web_config) ||
	    ncfg->web_config[0]) {
		pw_daemon_stop_http(d);
		if (pw_daemon_start_http(d, ncfg->listen)) {
			pw_err("metrics are not served until the listen address is fixed");
			failed = true;
		}
	}
	d->interval = ncfg->interval;
	/* Every time, also when its path is unchanged: logrotate renames it, then sends HUP. */
	if (pw_daemon_open_events(d))
		failed = true;
	if (failed) {
		d->reloads_failed++;
		pw_warn("reloaded with errors: %zu groups, %zu IPv4 and %zu IPv6 prefixes",
			d->pl.n_groups, v4, v6);
		return;
	}
	d->reloads_ok++;
	d->last_reload_ok = pw_wall_now();
	pw_info("reloaded: %zu groups, %zu IPv4 and %zu IPv6 prefixes", d->pl.n_groups, v4, v6);
}
