// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * main.c - the prefixwatch command line: run (the daemon), check (a config), and the
 * daemon's loop: poll, render, serve, reload on SIGHUP, clean stop on SIGINT/SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/magic.h>
#include <math.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "config.h"
#include "events.h"
#include "exporter.h"
#include "loader.h"
#include "log.h"
#include "poller.h"
#include "replay.h"
#include "watch.h"
#include "anatomy.h"

#ifndef PW_VERSION
#define PW_VERSION "dev"
#endif

/* Exit statuses, as documented in --help and the README. */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* Room left for reloads: the maps hold this many times the prefixes at start, at least. */
#define PW_MIN_CAPACITY 65536

static volatile sig_atomic_t got_stop, got_reload;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_reload = 1;
	else
		got_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage:\n"
		"  prefixwatch run   -c FILE [-i IFACE]... [-m auto|native|skb] [-l HOST:PORT]\n"
		"                    [--interval SECONDS] [--pin-dir DIR] [-v]\n"
		"  prefixwatch check -c FILE\n"
		"  prefixwatch replay -c FILE CAPTURE\n"
		"  prefixwatch --help | --version\n"
		"\n"
		"Count packets and bytes per destination prefix with XDP on a router's interfaces\n"
		"and export them as Prometheus metrics. Every packet is passed on unchanged.\n"
		"\n"
		"Commands:\n"
		"  run     attach to the interfaces and serve metrics until SIGINT or SIGTERM;\n"
		"          SIGHUP reloads the config (a bad config is refused, the old one stays)\n"
		"  check   validate a config without root and print a summary\n"
		"  replay  run a pcap/pcapng capture through the same XDP program and detectors,\n"
		"          cutting intervals on the capture's timestamps; events (JSON lines) on\n"
		"          stdout, a per-group summary on stderr\n"
		"\n"
		"Options (override the config file):\n"
		"  -c, --config FILE      INI config file (required)\n"
		"  -i, --interface IFACE  attach to IFACE; repeatable; replaces 'interface ='\n"
		"  -m, --mode MODE        XDP mode: auto (native, else skb), native, skb\n"
		"  -l, --listen ADDR      HTTP address for /metrics, HOST:PORT or 'off'\n"
		"                         (default %s)\n"
		"      --interval SECS    seconds between polls, 0.1 to 60 (default 1)\n"
		"      --pin-dir DIR      where maps are pinned (default %s)\n"
		"  -v, --verbose          debug logging, with libbpf's and libxdp's warnings;\n"
		"                         twice: all of their messages too\n"
		"  -h, --help             this text\n"
		"  -V, --version          print the version\n"
		"\n"
		"Exit status: 0 success, 1 runtime failure (cannot load, attach, listen, ...),\n"
		"2 bad usage or invalid config. Config errors are printed as file:line: reason.\n",
		PW_DEFAULT_LISTEN, PW_DEFAULT_PIN_DIR);
}

struct cli {
	const char *cmd;
	const char *config;
	char ifaces[PW_MAX_INTERFACES][16];
	size_t n_ifaces;
	const char *mode, *listen, *pin_dir;
	const char *capture;
	double interval;
	int verbose;
};

static int parse_cli(int argc, char **argv, struct cli *c)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "interface", required_argument, NULL, 'i' },
		{ "mode", required_argument, NULL, 'm' },
		{ "listen", required_argument, NULL, 'l' },
		{ "interval", required_argument, NULL, 'I' },
		{ "pin-dir", required_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	memset(c, 0, sizeof(*c));
	if (argc >= 2 && argv[1][0] != '-') {
		c->cmd = argv[1];
		argv++;
		argc--;
	}
	while ((o = getopt_long(argc, argv, "c:i:m:l:vhV", opts, NULL)) != -1) {
		char *end;

		switch (o) {
		case 'c':
			c->config = optarg;
			break;
		case 'i':
			if (c->n_ifaces == PW_MAX_INTERFACES || strlen(optarg) >= 16 || !*optarg) {
				fprintf(stderr, "prefixwatch: -i %s: bad or too many interfaces\n", optarg);
				return EXIT_USAGE;
			}
			snprintf(c->ifaces[c->n_ifaces++], 16, "%s", optarg);
			break;
		case 'm':
			c->mode = optarg;
			break;
		case 'l':
			c->listen = optarg;
			break;
		case 'I':
			errno = 0;
			c->interval = strtod(optarg, &end);
			if (errno || *end || !(c->interval >= 0.1 && c->interval <= 60)) {
				fprintf(stderr, "prefixwatch: --interval %s: give seconds from 0.1 to 60\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'P':
			c->pin_dir = optarg;
			break;
		case 'v':
			c->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		case 'V':
			printf("prefixwatch %s\n", PW_VERSION);
			exit(EXIT_OK);
		default:
			fprintf(stderr, "Try 'prefixwatch --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (c->cmd && !strcmp(c->cmd, "replay") && optind < argc)
		c->capture = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "prefixwatch: unexpected argument '%s'\nTry 'prefixwatch --help'.\n",
			argv[optind]);
		return EXIT_USAGE;
	}
	if (!c->cmd) {
		fprintf(stderr, "prefixwatch: no command given\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(c->cmd, "run") && strcmp(c->cmd, "check") && strcmp(c->cmd, "replay")) {
		fprintf(stderr, "prefixwatch: unknown command '%s'\nTry 'prefixwatch --help'.\n",
			c->cmd);
		return EXIT_USAGE;
	}
	if (!c->config) {
		fprintf(stderr, "prefixwatch %s: -c FILE is required\n", c->cmd);
		return EXIT_USAGE;
	}
	if (!strcmp(c->cmd, "replay") && !c->capture) {
		fprintf(stderr, "prefixwatch replay: give a capture file: replay -c FILE CAPTURE\n");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Load the config and lay the command line over it. Returns 0 or -1 with @err set. */
static int load_config(const struct cli *c, struct pw_config *cfg, char *err, size_t errlen)
{
	char host[128];
	unsigned int port;

	if (pw_config_load(c->config, cfg, err, errlen))
		return -1;
	{
		size_t v4, v6;

		pw_config_count(cfg, &v4, &v6);
		if (v4 > PW_MAX_PREFIXES_V4 || v6 > PW_MAX_PREFIXES_V6) {
			snprintf(err, errlen,
				 "%s: %zu IPv4 and %zu IPv6 distinct prefixes: more than the maps allow (at most %u IPv4 and %u IPv6)",
				 c->config, v4, v6, PW_MAX_PREFIXES_V4, PW_MAX_PREFIXES_V6);
			goto bad;
		}
	}
	if (c->n_ifaces) {
		memcpy(cfg->ifaces, c->ifaces, sizeof(cfg->ifaces));
		cfg->n_ifaces = c->n_ifaces;
	}
	if (c->mode && pw_mode_parse(c->mode, &cfg->mode)) {
		snprintf(err, errlen, "--mode %s: use auto, native or skb", c->mode);
		goto bad;
	}
	if (c->listen) {
		if (!strcmp(c->listen, "off"))
			cfg->listen[0] = '\0';
		else if (strlen(c->listen) >= sizeof(cfg->listen) ||
			 pw_listen_parse(c->listen, host, sizeof(host), &port)) {
			snprintf(err, errlen, "--listen %s: give HOST:PORT, [IPV6]:PORT or off",
				 c->listen);
			goto bad;
		} else
			snprintf(cfg->listen, sizeof(cfg->listen), "%s", c->listen);
	}
	if (c->interval)
		cfg->interval = c->interval;
	if (c->pin_dir) {
		if (c->pin_dir[0] != '/' || strlen(c->pin_dir) >= sizeof(cfg->pin_dir) - 32) {
			snprintf(err, errlen, "--pin-dir %s: give an absolute path", c->pin_dir);
			goto bad;
		}
		snprintf(cfg->pin_dir, sizeof(cfg->pin_dir), "%s", c->pin_dir);
	}
	return 0;
bad:
	pw_config_free(cfg);
	return -1;
}

static int cmd_check(const struct cli *c)
{
	struct pw_config cfg;
	char err[1024];
	size_t v4, v6;

	if (load_config(c, &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	pw_config_count(&cfg, &v4, &v6);
	printf("%s: OK\n", c->config);
	printf("  interfaces: %zu", cfg.n_ifaces);
	for (size_t i = 0; i < cfg.n_ifaces; i++)
		printf("%s%s", i ? " " : " (", cfg.ifaces[i]);
	printf("%s\n", cfg.n_ifaces ? ")" : "");
	printf("  mode: %s, interval: %gs, listen: %s, pin_dir: %s\n", pw_mode_name(cfg.mode),
	       cfg.interval, cfg.listen[0] ? cfg.listen : "off", cfg.pin_dir);
	printf("  groups: %zu, distinct prefixes: %zu IPv4, %zu IPv6\n", cfg.n_groups, v4, v6);
	for (size_t i = 0; i < cfg.n_groups; i++)
		printf("    %-20s %zu prefixes%s\n", cfg.groups[i].name, cfg.groups[i].n_prefixes,
		       cfg.groups[i].export == PW_EXPORT_GROUP ? " (export = group)" : "");
	pw_config_free(&cfg);
	return EXIT_OK;
}

/* ---- the daemon ---- */

struct iface {
	struct pw_iface_state st;
	struct pw_counter base; /* counts of earlier lives of the interface (deleted, re-created) */
	bool wanted;
	bool warned;		/* a failed re-attach was logged */
};

struct daemon {
	struct cli *cli;
	struct pw_bpf *bpf;
	struct pw_attacher *att;
	struct pw_poller pl;
	struct pw_watch watch;
	struct pw_events events;
	struct pw_http *http;
	char listen[128];
	char pin_dir[PATH_MAX];
	int lock_fd;
	enum pw_attach_mode mode;
	double interval;
	struct iface ifaces[PW_MAX_INTERFACES];
	size_t n_ifaces;
	uint64_t reloads_ok, reloads_failed;
	double last_reload_ok;
	double poll_seconds;
	uint64_t polls;
	char event_log[PATH_MAX];
};

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int src_read(void *ctx, uint32_t n, struct pw_counter *out)
{
	return pw_bpf_read_counters(ctx, n, out);
}

static int src_set(void *ctx, const struct pw_prefix *pfx, const uint32_t *ids, size_t n)
{
	return pw_bpf_set_prefixes(ctx, pfx, ids, n);
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

static int lock_pin_dir(struct daemon *d, char *err, size_t errlen)
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

static struct iface *find_iface(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_ifaces; i++)
		if (!strcmp(d->ifaces[i].st.name, name))
			return &d->ifaces[i];
	return NULL;
}

static void detach_iface(struct daemon *d, struct iface *f)
{
	int err;

	if (!f->st.attached)
		return;
	err = pw_detach(d->att, f->st.name, f->st.mode);

	if (err)
		pw_warn("detach from %s failed: %s", f->st.name, strerror(-err));
	else
		pw_info("detached from %s", f->st.name);
	pw_bpf_iface_del(d->bpf, f->st.ifindex);
	f->st.attached = false;
}

/* Attach to every interface of @cfg not yet attached; detach from the others. */
static int sync_ifaces(struct daemon *d, const struct pw_config *cfg)
{
	char err[512];
	size_t out = 0;
	int failed = 0;

	for (size_t i = 0; i < d->n_ifaces; i++)
		d->ifaces[i].wanted = false;
	for (size_t i = 0; i < cfg->n_ifaces; i++) {
		struct iface *f = find_iface(d, cfg->ifaces[i]);
		const char *used;

		if (!f) {
			f = &d->ifaces[d->n_ifaces++];
			memset(f, 0, sizeof(*f));
			snprintf(f->st.name, sizeof(f->st.name), "%s", cfg->ifaces[i]);
		}
		f->wanted = true;
		if (f->st.attached)
			continue;
		if (pw_attach(d->att, f->st.name, cfg->mode, &used, err, sizeof(err))) {
			pw_err("%s", err);
			failed = 1;
			continue;
		}
		f->st.attached = true;
		f->st.mode = used;
		f->st.ifindex = if_nametoindex(f->st.name);
		if (pw_bpf_iface_add(d->bpf, f->st.ifindex))
			pw_warn("cannot count interface %s", f->st.name);
		pw_info("attached to %s in %s mode", f->st.name, used);
	}
	for (size_t i = 0; i < d->n_ifaces; i++) {
		if (!d->ifaces[i].wanted) {
			detach_iface(d, &d->ifaces[i]);
			continue;
		}
		d->ifaces[out++] = d->ifaces[i];
	}
	d->n_ifaces = out;
	return failed ? -1 : 0;
}

static int start_http(struct daemon *d, const char *listen)
{
	char err[512];

	snprintf(d->listen, sizeof(d->listen), "%s", listen);
	if (!listen[0])
		return 0;
	if (pw_http_start(listen, &d->http, err, sizeof(err))) {
		pw_err("%s", err);
		return -1;
	}
	pw_info("serving metrics on http://%s/metrics", listen);
	return 0;
}

static int capacity_ok(struct daemon *d, const struct pw_config *cfg, char *err, size_t errlen)
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
 * An interface that disappears (deleted, or moved away) loses its XDP program with it:
 * note it, keep counting elsewhere, and attach again when an interface of that name is
 * back. Its counters continue across its lives.
 */
static void check_ifaces(struct daemon *d)
{
	char err[512];

	for (size_t i = 0; i < d->n_ifaces; i++) {
		struct iface *f = &d->ifaces[i];
		unsigned int idx = if_nametoindex(f->st.name);
		const char *used;

		if (f->st.attached && idx != f->st.ifindex) {
			pw_warn("interface %s disappeared; counting goes on elsewhere, and it is attached again when it returns",
				f->st.name);
			pw_bpf_iface_del(d->bpf, f->st.ifindex);
			f->base = f->st.c;
			f->st.attached = false;
			f->warned = false;
		}
		if (f->st.attached || !idx)
			continue;
		if (pw_attach(d->att, f->st.name, d->mode, &used, err, sizeof(err))) {
			if (!f->warned)
				pw_warn("interface %s is back but %s", f->st.name, err);
			f->warned = true;
			continue;
		}
		f->st.attached = true;
		f->st.mode = used;
		f->st.ifindex = idx;
		pw_bpf_iface_add(d->bpf, idx);
		pw_info("interface %s is back: attached again in %s mode", f->st.name, used);
	}
}

static void do_poll(struct daemon *d)
{
	struct pw_export_input in = { 0 };
	struct pw_buf page = { 0 };
	double t0 = mono_now();
	int err;

	err = pw_poller_poll(&d->pl, t0);
	if (err)
		pw_warn("poll failed: %s", strerror(-err));
	else
		pw_watch_step(&d->watch, &d->pl, wall_now());
	pw_events_reap(&d->events);
	if (pw_bpf_read_classes(d->bpf, in.classes))
		pw_warn("cannot read class counters");
	check_ifaces(d);
	for (size_t i = 0; i < d->n_ifaces; i++) {
		struct iface *f = &d->ifaces[i];
		struct pw_counter c;

		if (f->st.attached && pw_bpf_iface_read(d->bpf, f->st.ifindex, &c) == 0) {
			f->st.c.packets = f->base.packets + c.packets;
			f->st.c.bytes = f->base.bytes + c.bytes;
		}
	}
	d->poll_seconds = mono_now() - t0;
	d->polls++;
	if (!d->http)
		return;
	struct pw_iface_state states[PW_MAX_INTERFACES];

	for (size_t i = 0; i < d->n_ifaces; i++)
		states[i] = d->ifaces[i].st;
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

static int reopen_events(struct daemon *d)
{
	int e;

	pw_events_close(&d->events);
	snprintf(d->event_log, sizeof(d->event_log), "%s", d->pl.cfg.event_log);
	e = pw_events_open(&d->events, d->pl.cfg.event_log, d->pl.cfg.on_event);
	if (e) {
		pw_err("cannot open event_log %s: %s; events go to stdout", d->pl.cfg.event_log,
		       strerror(-e));
		pw_events_open(&d->events, "", d->pl.cfg.on_event);
		return -1;
	}
	return 0;
}

static void do_reload(struct daemon *d)
{
	const struct pw_config *ncfg;
	struct pw_config cfg;
	bool failed = false;
	char err[1024];
	size_t v4, v6;
	int e;

	pw_info("SIGHUP: reloading %s", d->cli->config);
	if (load_config(d->cli, &cfg, err, sizeof(err))) {
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
	e = pw_poller_apply(&d->pl, &cfg, mono_now());
	if (e) {
		pw_err("reload refused, keeping the running config: cannot load the prefixes: %s",
		       strerror(-e));
		pw_config_free(&cfg);
		d->reloads_failed++;
		return;
	}
	/* From here the new config is live; what cannot follow it is logged and counted. */
	ncfg = &d->pl.cfg;
	if (pw_watch_sync(&d->watch, &d->pl, wall_now())) {
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
	if (sync_ifaces(d, ncfg)) {
		pw_err("reload: some interfaces could not be attached; see above");
		failed = true;
	}
	if (strcmp(ncfg->listen, d->listen)) {
		pw_http_stop(d->http);
		d->http = NULL;
		if (start_http(d, ncfg->listen)) {
			pw_err("metrics are not served until the listen address is fixed");
			failed = true;
		}
	}
	d->interval = ncfg->interval;
	if ((strcmp(ncfg->event_log, d->event_log) || strcmp(ncfg->on_event, d->events.on_event)) &&
	    reopen_events(d))
		failed = true;
	if (failed) {
		d->reloads_failed++;
		pw_warn("reloaded with errors: %zu groups, %zu IPv4 and %zu IPv6 prefixes",
			d->pl.n_groups, v4, v6);
		return;
	}
	d->reloads_ok++;
	d->last_reload_ok = wall_now();
	pw_info("reloaded: %zu groups, %zu IPv4 and %zu IPv6 prefixes", d->pl.n_groups, v4, v6);
}

static void sleep_until(double t)
{
	struct timespec ts = { .tv_sec = (time_t)t,
			       .tv_nsec = (long)((t - floor(t)) * 1e9) };

	/* Interrupted by a signal: return early and let the loop look at the flags. */
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static int cmd_run(struct cli *c)
{
	struct daemon d = { .cli = c, .lock_fd = -1 };
	struct pw_bpf_opts bo = { 0 };
	struct pw_source src;
	struct pw_config cfg;
	struct sigaction sa;
	char err[1024];
	int ret = EXIT_RUNTIME;
	size_t v4, v6;
	double next;

	if (load_config(c, &cfg, err, sizeof(err))) {
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

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (ensure_bpffs(d.pin_dir, err, sizeof(err)) || lock_pin_dir(&d, err, sizeof(err))) {
		pw_err("%s", err);
		goto out_cfg;
	}
	pw_config_count(&cfg, &v4, &v6);
	/* Room for reloads to grow: twice the prefixes at start, within the maps' limits. */
	bo.max_v4 = (uint32_t)(v4 * 2 > PW_MIN_CAPACITY ? v4 * 2 : PW_MIN_CAPACITY);
	bo.max_v6 = (uint32_t)(v6 * 2 > PW_MIN_CAPACITY ? v6 * 2 : PW_MIN_CAPACITY);
	if (bo.max_v4 > PW_MAX_PREFIXES_V4)
		bo.max_v4 = PW_MAX_PREFIXES_V4;
	if (bo.max_v6 > PW_MAX_PREFIXES_V6)
		bo.max_v6 = PW_MAX_PREFIXES_V6;
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
	if (sync_ifaces(&d, &cfg)) {
		pw_err("cannot attach to every interface; stopping");
		goto out_detach;
	}
	if (pw_bpf_pin(d.bpf, d.pin_dir)) {
		pw_err("cannot pin maps under %s: %s", d.pin_dir, strerror(errno));
		goto out_detach;
	}
	src = (struct pw_source){ .ctx = d.bpf,
				  .max_ids = pw_bpf_max_ids(d.bpf),
				  .read_counters = src_read,
				  .set_prefixes = src_set };
	if (pw_poller_init(&d.pl, &src)) {
		pw_err("out of memory");
		goto out_unpin;
	}
	if ((ret = pw_poller_apply(&d.pl, &cfg, mono_now()))) {
		pw_err("cannot load the prefixes: %s", strerror(-ret));
		ret = EXIT_RUNTIME;
		goto out_poller;
	}
	ret = EXIT_RUNTIME;
	d.last_reload_ok = wall_now();
	pw_watch_init(&d.watch, pw_events_sink, &d.events);
	if (pw_anatomy_attach(&d.watch, d.bpf)) /* anatomy.h */
		pw_warn("flood anatomy is off: cannot use its maps");
	if (pw_watch_sync(&d.watch, &d.pl, wall_now())) {
		pw_err("out of memory");
		goto out_poller;
	}
	if (reopen_events(&d))
		goto out_poller;
	if (start_http(&d, d.pl.cfg.listen))
		goto out_poller;
	pw_info("watching %zu groups, %zu IPv4 and %zu IPv6 prefixes; maps pinned in %s",
		d.pl.n_groups, v4, v6, d.pin_dir);

	do_poll(&d);
	next = mono_now() + d.interval;
	while (!got_stop) {
		sleep_until(next);
		if (got_stop)
			break;
		if (got_reload) {
			got_reload = 0;
			do_reload(&d);
		}
		if (mono_now() >= next) {
			do_poll(&d);
			next += d.interval;
			if (next < mono_now())
				next = mono_now() + d.interval;
		}
	}
	pw_info("stopping");
	ret = EXIT_OK;

	pw_http_stop(d.http);
out_poller:
	pw_events_close(&d.events);
	pw_anatomy_detach(&d.watch);
	pw_watch_free(&d.watch);
	pw_poller_free(&d.pl);
out_unpin:
	pw_bpf_unpin(d.bpf);
out_detach:
	for (size_t i = 0; i < d.n_ifaces; i++)
		detach_iface(&d, &d.ifaces[i]);
	pw_attacher_free(d.att);
out_bpf:
	pw_bpf_close(d.bpf);
out_lock:
	if (d.lock_fd >= 0) {
		close(d.lock_fd);
		rmdir(d.pin_dir);
	}
out_cfg:
	pw_config_free(&cfg);
	return ret;
}

int main(int argc, char **argv)
{
	struct cli c;
	int ret;

	ret = parse_cli(argc, argv, &c);
	if (ret)
		return ret;
	pw_log_set_level(c.verbose >= 2 ? PW_LOG_TRACE : c.verbose ? PW_LOG_DEBUG : PW_LOG_INFO);
	if (!strcmp(c.cmd, "check"))
		return cmd_check(&c);
	if (!strcmp(c.cmd, "replay")) {
		struct pw_config cfg;
		char err[1024];

		if (load_config(&c, &cfg, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			return EXIT_USAGE;
		}
		pw_log_hook_libbpf();
		return pw_replay(&cfg, c.capture);
	}
	return cmd_run(&c);
}
