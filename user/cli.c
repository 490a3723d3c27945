// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cli.c - the command line: usage, options, the config file with the options laid over
 * it (load_config, also what a reload reads), and the check command.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "loader.h"
#include "prefixwatch.h"
#include "status.h"
#include "webcfg.h"

#ifndef PW_VERSION
#define PW_VERSION "dev"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"Usage:\n"
		"  prefixwatch run   -c FILE [-i IFACE]... [-m auto|native|skb] [-l HOST:PORT]\n"
		"                    [--interval SECONDS] [--pin-dir DIR] [--state-dir DIR]\n"
		"                    [--web-config FILE] [-v]\n"
		"  prefixwatch check -c FILE\n"
		"  prefixwatch status [-l HOST:PORT | -c FILE]\n"
		"  prefixwatch replay -c FILE CAPTURE\n"
		"  prefixwatch --help | --version\n"
		"\n"
		"Count packets and bytes per destination prefix with XDP on a router's interfaces\n"
		"and export them as Prometheus metrics. Every packet is passed on unchanged.\n"
		"\n"
		"Commands:\n"
		"  run     attach to the interfaces and serve metrics until SIGINT or SIGTERM;\n"
		"          SIGHUP reloads the config (a bad config is refused, the old one stays)\n"
		"          and reopens event_log (after logrotate has renamed it)\n"
		"  check   validate a config without root and print a summary\n"
		"  status  ask a running daemon (at -l, else the config's listen, else %s)\n"
		"          for its status and print it as a table: groups, alarms, events\n"
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
		"      --state-dir DIR    where the detectors' state is kept across restarts,\n"
		"                         or 'off' (default %s)\n"
		"      --web-config FILE  TLS and basic auth for HTTP, as Prometheus's web-config.yml\n"
		"  -v, --verbose          debug logging, with libbpf's and libxdp's warnings;\n"
		"                         twice: all of their messages too\n"
		"  -h, --help             this text\n"
		"  -V, --version          print the version\n"
		"\n"
		"Exit status: 0 success, 1 runtime failure (cannot load, attach, listen, ...),\n"
		"2 bad usage or invalid config. Config errors are printed as file:line: reason.\n",
		PW_DEFAULT_LISTEN, PW_DEFAULT_LISTEN, PW_DEFAULT_PIN_DIR, PW_DEFAULT_STATE_DIR);
}

int pw_cli_parse(int argc, char **argv, struct pw_cli *c)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "interface", required_argument, NULL, 'i' },
		{ "mode", required_argument, NULL, 'm' },
		{ "listen", required_argument, NULL, 'l' },
		{ "interval", required_argument, NULL, 'I' },
		{ "pin-dir", required_argument, NULL, 'P' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "web-config", required_argument, NULL, 'W' },
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
		case 'S':
			c->state_dir = optarg;
			break;
		case 'W':
			c->web_config = optarg;
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
	if (strcmp(c->cmd, "run") && strcmp(c->cmd, "check") && strcmp(c->cmd, "replay") &&
	    strcmp(c->cmd, "status")) {
		fprintf(stderr, "prefixwatch: unknown command '%s'\nTry 'prefixwatch --help'.\n",
			c->cmd);
		return EXIT_USAGE;
	}
	if (!c->config && strcmp(c->cmd, "status")) {
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
int pw_load_config(const struct pw_cli *c, struct pw_config *cfg, char *err, size_t errlen)
{
	char host[128];
	unsigned int port;

	if (pw_config_load(c->config, cfg, err, errlen))
		return -1;
	if (pw_bpf_size(cfg, true, NULL, err, errlen))
		goto bad;
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
	if (c->state_dir) {
		if (!strcmp(c->state_dir, "off")) {
			cfg->state_dir[0] = '\0';
		} else if (c->state_dir[0] != '/' ||
			   strlen(c->state_dir) >= sizeof(cfg->state_dir) - 32) {
			snprintf(err, errlen, "--state-dir %s: give an absolute path or off",
				 c->state_dir);
			goto bad;
		} else {
			snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", c->state_dir);
		}
	}
	if (c->web_config)
		snprintf(cfg->web_config, sizeof(cfg->web_config), "%s", c->web_config);
	if (cfg->web_config[0]) {
		struct pw_web *web;

		if (pw_web_load(cfg->web_config, &web, err, errlen))
			goto bad;
		pw_web_free(web);
	}
	return 0;
bad:
	pw_config_free(cfg);
	return -1;
}

int pw_cmd_check(const struct pw_cli *c)
{
	struct pw_config cfg;
	char err[1024];
	size_t v4, v6;

	if (pw_load_config(c, &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	pw_config_count(&cfg, &v4, &v6);
	printf("%s: OK\n", c->config);
	printf("  interfaces: %zu", cfg.n_ifaces);
	for (size_t i = 0; i < cfg.n_ifaces; i++)
		printf("%s%s", i ? " " : " (", cfg.ifaces[i]);
	printf("%s\n", cfg.n_ifaces ? ")" : "");
	printf("  mode: %s, interval: %gs, listen: %s, pin_dir: %s, state_dir: %s\n",
	       pw_mode_name(cfg.mode), cfg.interval, cfg.listen[0] ? cfg.listen : "off",
	       cfg.pin_dir, cfg.state_dir[0] ? cfg.state_dir : "off");
	if (cfg.web_config[0])
		printf("  web_config: %s\n", cfg.web_config);
	printf("  groups: %zu, distinct prefixes: %zu IPv4, %zu IPv6\n", cfg.n_groups, v4, v6);
	for (size_t i = 0; i < cfg.n_groups; i++)
		printf("    %-20s %zu prefixes%s\n", cfg.groups[i].name, cfg.groups[i].n_prefixes,
		       cfg.groups[i].export == PW_EXPORT_GROUP ? " (export = group)" : "");
	pw_config_free(&cfg);
	return EXIT_OK;
}

int pw_cmd_status(const struct pw_cli *c)
{
	struct pw_config cfg;
	char err[1024];
	int ret;

	if (c->listen || !c->config)
		return pw_status_fetch(c->listen ? c->listen : PW_DEFAULT_LISTEN, stdout);
	if (pw_config_load(c->config, &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	if (!cfg.listen[0]) {
		fprintf(stderr, "prefixwatch status: %s has listen = off: nothing to ask\n", c->config);
		pw_config_free(&cfg);
		return EXIT_USAGE;
	}
	ret = pw_status_fetch(cfg.listen, stdout);
	pw_config_free(&cfg);
	return ret;
}
