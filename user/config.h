/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* config.h - the INI configuration: [sensor] settings and [group NAME] networks. */
#ifndef PW_CONFIG_H
#define PW_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "detector.h"
#include "prefix.h"

#define PW_GROUP_NAME_MAX 64
#define PW_MAX_INTERFACES 64
#define PW_DEFAULT_LISTEN "127.0.0.1:9473"
#define PW_DEFAULT_PIN_DIR "/sys/fs/bpf/prefixwatch"
#define PW_DEFAULT_INTERVAL 1.0
#define PW_DEFAULT_STATE_DIR "/var/lib/prefixwatch" /* issue 9: the unit's StateDirectory= */

enum pw_attach_mode { PW_MODE_AUTO, PW_MODE_NATIVE, PW_MODE_SKB };
enum pw_export { PW_EXPORT_PREFIX, PW_EXPORT_GROUP };

struct pw_group {
	char name[PW_GROUP_NAME_MAX + 1];
	int line; /* of its [group NAME] header */
	struct pw_prefix *prefixes; /* sorted, no duplicates once loaded */
	size_t n_prefixes, cap;
	enum pw_export export;	    /* export = prefix | group */
	bool per_prefix;	    /* per_prefix = yes: also watch each prefix on its own */
	struct pw_detect_cfg det;   /* detector settings */
};

struct pw_config {
	char path[PATH_MAX];
	char ifaces[PW_MAX_INTERFACES][16];
	size_t n_ifaces;
	enum pw_attach_mode mode;
	double interval; /* seconds */
	char listen[128]; /* HOST:PORT, or "" when off */
	char pin_dir[PATH_MAX];
	char event_log[PATH_MAX]; /* "" = stdout */
	char on_event[PATH_MAX];  /* program run per event; "" = none */
	char state_dir[PATH_MAX]; /* issue 9: detector state (state.h); "" = off (state_dir = off) */
	char web_config[PATH_MAX]; /* TLS and basic auth (webcfg.h); "" = plain HTTP */
	struct pw_group *groups;
	size_t n_groups;
};

/*
 * pw_config_load() - read and validate @path into @cfg.
 * On failure returns -1 with a one-line "file:line: what is wrong" in @err, and leaves
 * nothing to free. On success the caller frees with pw_config_free().
 */
int pw_config_load(const char *path, struct pw_config *cfg, char *err, size_t errlen);
void pw_config_free(struct pw_config *cfg);

/* Defaults of every [sensor] setting (no groups). */
void pw_config_defaults(struct pw_config *cfg);

/* Counts of prefixes over all groups, distinct, per family. */
void pw_config_count(const struct pw_config *cfg, size_t *v4, size_t *v6);

const char *pw_mode_name(enum pw_attach_mode mode);
int pw_mode_parse(const char *text, enum pw_attach_mode *mode);

/* Parse "host:port" / "[v6]:port"; 0 or -1. */
int pw_listen_parse(const char *text, char *host, size_t hostlen, unsigned int *port);

#endif /* PW_CONFIG_H */
