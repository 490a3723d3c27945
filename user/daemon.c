// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * daemon.c - prefixwatch run: start (bpffs, the pin directory's lock, load, attach, pin,
 * prefixes, detectors, events, HTTP), then the event loop: one poll(2) on a signalfd
 * (SIGINT, SIGTERM: stop; SIGHUP: reload; SIGCHLD: an on_event program ended) and a
 * CLOCK_MONOTONIC timerfd (the next poll), with on_event deadlines as its timeout. A
 * signal is acted on at once, whatever the interval. The HTTP server runs in
 * libmicrohttpd's own thread and serves the page the last poll published.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "anatomy.h"
#include "daemon.h"
#include "ifaces.h"
#include "log.h"
#include "reload.h"
#include "state.h"

double pw_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double pw_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int src_read(void *ctx, uint32_t n, struct pw_counter *out)
{
	return pw_bpf_read_counters(ctx, n, out);
}

static int src_set(void *ctx, const struct pw_prefix *pfx, const uint32_t *refs, size_t n)
{
	return pw_bpf_set_prefixes(ctx, pfx, refs, n);
}

static double src_clock(void *ctx)
{
	(void)ctx;
	return pw_mono_now();
}

/* bpffs must be mounted where the pins go; mount it at /sys/fs/bpf when it is not. */
static int ensure_bpffs(const char *pin_dir, char *err, size_t errlen)
{
	struct statfs st;

	if (strncmp(pin_dir, "/sys/fs/bpf", 11))
		return 0;
	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		snprintf(err, errlen,
			 "bpffs is not mounted at /sys/fs/bpf and mounting it failed: %s (mount -t bpf bpf /sys/fs/bpf)",
			 strerror(errno));
		return -1;
	}
	pw_info("mounted bpffs at /sys/fs/bpf");
	return 0;
}

static int lock_pin_dir(struct pw_daemon *d, char *err, size_t errlen)
{
	if (mkdir(d->pin_dir, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create pin directory %s: %s", d->pin_dir,
			 strerror(errno));
		return -1;
	}
	d->lock_fd = open(d->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->lock_fd < 0) {
		snprintf(err, errlen, "cannot open pin directory %s: %s", d->pin_dir,
			 strerror(errno));
		return -1;
	}
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB)) {
		snprintf(err, errlen,
			 "another prefixwatch is running with pin directory %s (stop it, or give --pin-dir)",
			 d->pin_dir);
		close(d->lock_fd);
		d->lock_fd = -1;
		return -1;
	}
	return 0;
}

int pw_daemon_start_http(struct pw_daemon *d, const char *listen)
{
	struct pw_http_opts o = { .handler = pw_status_http, .handler_ctx = &d->status };
	char err[PATH_MAX + 512];

	snprintf(d->listen, sizeof(d->listen), "%s", listen);
	snprintf(d->web_config, sizeof(d->web_config), "%s", d->pl.cfg.web_config);
	if (!listen[0])
		return 0;
	if (d->web_config[0] && pw_web_load(d->web_config, &d->web, err, sizeof(err))) {
		pw_err("%s", err);
		return -1;
	}
	o.web = d->web;
	if (pw_http_start_opts(listen, &o, &d->http, err, sizeof(err))) {
		pw_err("%s", err);
		pw_web_free(d->web);
		d->web = NULL;
		return -1;
	}
	pw_info("serving the status page and metrics on %s://%s/%s",
		d->web && d->web->cert ? "https" : "http", listen,
		d->web && d->web->n_users ? " with basic auth" : "");
	return 0;
}

void pw_daemon_stop_http(struct pw_daemon *d)
{
	pw_http_stop(d->http);
	d->http = NULL;
	pw_web_free(d->web);
	d->web = NULL;
}

int pw_daemon_open_events(struct pw_daemon *d)
{
	int e = pw_events_reopen(&d->events, d->pl.cfg.event_log, d->pl.cfg.on_event);

	if (e) {
		pw_err("cannot open event_log %s: %s; events go to stdout", d->pl.cfg.event_log,
		       strerror(-e));
		return -1;
	}
	return 0;
}

static void do_poll(struct pw_daemon *d)
{
	struct pw_iface_state states[PW_MAX_INTERFACES];
	struct pw_export_input in = { 0 };
	struct pw_buf page = { 0 };
	double t0 = pw_mono_now();
	int err;

	err = pw_poller_poll(&d->pl, t0);
	if (err)
		pw_warn("poll failed: %s", strerror(-err));
	else
		pw_watch_step(&d->watch, &d->pl, pw_wall_now());
	pw_events_reap(&d->events);
	if (pw_bpf_read_classes(d->bpf, in.classes))
		pw_warn("cannot read class counters");
	pw_ifaces_poll(d);
	d->poll_seconds = pw_mono_now() - t0;
	d->polls++;
	if (!d->http)
		return;
	for (size_t i = 0; i < d->n_ifaces; i++)
		states[i] = d->ifaces[i].st;
	pw_status_update(&d->status, &d->pl, &d->watch, states, d->n_ifaces, d->poll_seconds,
			 d->interval, pw_wall_now());
	in.pl = &d->pl;
	in.ifaces = states;
	in.n_ifaces = d->n_ifaces;
	in.reloads_ok = d->reloads_ok;
	in.reloads_failed = d->reloads_failed;
	in.last_reload_ok = d->last_reload_ok;
	in.poll_seconds = d->poll_seconds;
	in.polls = d->polls;
	in.extra = pw_watch_render;
	in.extra_ctx = &d->watch;
	pw_render_metrics(&in, &page);
	if (page.oom) {
		pw_warn("out of memory rendering /metrics");
		pw_buf_free(&page);
		return;
	}
	pw_http_publish(d->http, &page);
}

/* Create @dir and its missing parents, 0700. 0 or -errno. */
static int make_dirs(const char *dir)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = path + 1;; p++) {
		char c = *p;

		if (c != '/' && c)
			continue;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			return -errno;
		*p = c;
		if (!c)
			break;
	}
	return 0;
}

/*
 * Seconds between saves of the detectors' state: 10, so that a crash loses little of
 * what the detectors learned (their baselines move with a time constant of minutes)
 * while the disk sees one small write every 10 s; with many detectors (848 bytes each)
 * longer, so the writes average at most 100 kB/s (from about 1,200 detectors), up to 10
 * minutes (from about 71,000: 60 MB). A stop saves in any case.
 */
static double save_period(const struct pw_daemon *d)
{
	double p = (double)pw_state_file_size(d->watch.n) / PW_STATE_WRITE_RATE;

	return fmin(fmax(p, PW_STATE_SAVE_MIN), PW_STATE_SAVE_MAX);
}

/* Save the detectors' state in the live state_dir (unless off); a failure is not fatal. */
static void save_state(struct pw_daemon *d)
{
	const char *dir = d->pl.cfg.state_dir;
	int e;

	d->next_save = pw_mono_now() + save_period(d);
	if (!dir[0])
		return;
	e = make_dirs(dir);
	if (!e)
		e = pw_state_save(dir, &d->watch, pw_wall_now());
	if (e && !d->save_failed)
		pw_warn("cannot save the detectors' state in %s: %s (trying again every %.0f s)",
			dir, strerror(-e), save_period(d));
	else if (!e && d->save_failed)
		pw_info("saved the detectors' state in %s again", dir);
	d->save_failed = e != 0;
}

/* At start: resume the detectors from state_dir, if it holds a fitting state. */
static void load_state(struct pw_daemon *d)
{
	const char *dir = d->pl.cfg.state_dir;
	int e;

	d->next_save = pw_mono_now() + save_period(d);
	if (!dir[0]) {
		pw_info("state_dir is off: the detectors warm up afresh, their state is not kept");
		return;
	}
	e = make_dirs(dir);
	if (e) {
		pw_warn("cannot create state_dir %s: %s; the detectors warm up afresh", dir,
			strerror(-e));
		return;
	}
	pw_state_load(dir, &d->watch, &d->pl, pw_wall_now());
}

/*
 * The signals the loop reads from a signalfd. Blocked before any thread is started (the
 * HTTP server's inherits the mask), so none is delivered anywhere else.
 */
static int open_signalfd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static int arm_timer(int tfd, double at)
{
	struct itimerspec its = { .it_value = { .tv_sec = (time_t)at,
						.tv_nsec = (long)((at - floor(at)) * 1e9) } };

	/* A zero it_value disarms: never ask for exactly 0. */
	if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1;
	return timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Read every pending signal: 1 to stop, else 0 (@reload set on SIGHUP). */
static int read_signals(int sfd, bool *reload)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM)
			return 1;
		if (si.ssi_signo == SIGHUP)
			*reload = true;
		/* SIGCHLD: an on_event program ended; reaped after the poll(2). */
	}
	return 0;
}

/*
 * Poll every interval until SIGINT or SIGTERM. A poll that comes late (a long reload, a
 * stalled machine) is followed by a full interval, not by the ticks missed.
 */
static int event_loop(struct pw_daemon *d, int sfd)
{
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	double next;

	if (tfd < 0) {
		pw_err("timerfd: %s", strerror(errno));
		return -1;
	}
	do_poll(d);
	next = pw_mono_now() + d->interval;
	if (arm_timer(tfd, next)) {
		pw_err("timerfd: %s", strerror(errno));
		close(tfd);
		return -1;
	}
	for (;;) {
		struct pollfd fds[2] = { { .fd = sfd, .events = POLLIN },
					 { .fd = tfd, .events = POLLIN } };
		bool reload = false;
		uint64_t ticks;

		if (poll(fds, 2, pw_events_timeout_ms(&d->events)) < 0 && errno != EINTR) {
			pw_err("poll: %s", strerror(errno));
			break;
		}
		if ((fds[0].revents & POLLIN) && read_signals(sfd, &reload))
			break;
		if (reload)
			pw_reload(d);
		if ((fds[1].revents & POLLIN) && read(tfd, &ticks, sizeof(ticks)) > 0) {
			do_poll(d);
			next += d->interval;
			if (next < pw_mono_now())
				next = pw_mono_now() + d->interval;
			if (arm_timer(tfd, next))
				pw_err("timerfd: %s", strerror(errno));
			if (pw_mono_now() >= d->next_save)
				save_state(d);
		}
		pw_events_reap(&d->events);
	}
	close(tfd);
	return 0;
}

int pw_cmd_run(struct pw_cli *c)
{
	struct pw_daemon d = { .cli = c, .lock_fd = -1 };
	struct pw_bpf_opts bo = { 0 };
	struct pw_source src;
	struct pw_config cfg;
	char err[1024];
	int ret = EXIT_RUNTIME, sfd;
	size_t v4, v6;

	if (pw_load_config(c, &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	if (!cfg.n_ifaces) {
		fprintf(stderr, "%s: no interface: set 'interface =' in [sensor] or give -i IFACE\n",
			c->config);
		pw_config_free(&cfg);
		return EXIT_USAGE;
	}
	pw_log_hook_libbpf();
	snprintf(d.pin_dir, sizeof(d.pin_dir), "%s", cfg.pin_dir);
	d.mode = cfg.mode;
	d.interval = cfg.interval;
	pw_status_init(&d.status, pw_wall_now(), pw_events_sink, &d.events);

	/* A signal during the start waits in the signalfd: the loop acts on it first. */
	sfd = open_signalfd();
	if (sfd < 0) {
		pw_err("signalfd: %s", strerror(errno));
		goto out_cfg;
	}
	signal(SIGPIPE, SIG_IGN);

	if (ensure_bpffs(d.pin_dir, err, sizeof(err)) || lock_pin_dir(&d, err, sizeof(err))) {
		pw_err("%s", err);
		goto out_sfd;
	}
	pw_config_count(&cfg, &v4, &v6);
	pw_bpf_size(&cfg, true, &bo, err, sizeof(err)); /* room to grow; checked in load_config */
	ret = pw_bpf_open(&bo, &d.bpf);
	if (ret) {
		pw_err("cannot open the BPF object: %s", strerror(-ret));
		ret = EXIT_RUNTIME;
		goto out_lock;
	}
	ret = EXIT_RUNTIME;
	if (pw_attacher_new(d.bpf, &d.att, err, sizeof(err))) {
		pw_err("%s", err);
		goto out_bpf;
	}
	for (size_t i = 0; i < cfg.n_ifaces; i++)
		if (pw_remove_stale(cfg.ifaces[i], d.pin_dir))
			pw_warn("removed the prefixwatch program an earlier run left attached to %s",
				cfg.ifaces[i]);
	/*
	 * Attaching loads the object through libxdp, which creates the maps; the prefixes are
	 * filled right after, and frames seen in between count as unmatched.
	 */
	if (pw_ifaces_sync(&d, &cfg)) {
		pw_err("cannot attach to every interface; stopping");
		goto out_detach;
	}
	if ((ret = pw_bpf_pin(d.bpf, d.pin_dir))) {
		pw_err("cannot pin maps under %s: %s", d.pin_dir, strerror(-ret));
		ret = EXIT_RUNTIME;
		goto out_detach;
	}
	src = (struct pw_source){ .ctx = d.bpf,
				  .max_ids = pw_bpf_max_ids(d.bpf),
				  .read_counters = src_read,
				  .set_prefixes = src_set,
				  .clock = src_clock };
	if (pw_poller_init(&d.pl, &src)) {
		pw_err("out of memory");
		goto out_unpin;
	}
	if ((ret = pw_poller_apply(&d.pl, &cfg, pw_mono_now()))) {
		pw_err("cannot load the prefixes: %s", strerror(-ret));
		ret = EXIT_RUNTIME;
		goto out_poller;
	}
	ret = EXIT_RUNTIME;
	d.last_reload_ok = pw_wall_now();
	pw_watch_init(&d.watch, pw_status_sink, &d.status);
	if (pw_anatomy_attach(&d.watch, d.bpf))
		pw_warn("flood anatomy is off: cannot use its maps");
	if (pw_watch_sync(&d.watch, &d.pl, pw_wall_now())) {
		pw_err("out of memory");
		goto out_poller;
	}
	load_state(&d);
	if (pw_daemon_open_events(&d))
		goto out_poller;
	if (pw_daemon_start_http(&d, d.pl.cfg.listen))
		goto out_poller;
	pw_info("watching %zu groups, %zu IPv4 and %zu IPv6 prefixes; maps pinned in %s",
		d.pl.n_groups, v4, v6, d.pin_dir);

	if (event_loop(&d, sfd) == 0) {
		pw_info("stopping");
		ret = EXIT_OK;
	}
	save_state(&d);

	pw_daemon_stop_http(&d);
out_poller:
	pw_events_close(&d.events);
	pw_anatomy_detach(&d.watch);
	pw_watch_free(&d.watch);
	pw_poller_free(&d.pl);
out_unpin:
	pw_bpf_unpin(d.bpf);
out_detach:
	pw_ifaces_detach_all(&d);
	pw_attacher_free(d.att);
out_bpf:
	pw_bpf_close(d.bpf);
out_lock:
	if (d.lock_fd >= 0) {
		close(d.lock_fd);
		rmdir(d.pin_dir);
	}
out_sfd:
	close(sfd);
out_cfg:
	pw_status_free(&d.status);
	pw_config_free(&cfg);
	return ret;
}
