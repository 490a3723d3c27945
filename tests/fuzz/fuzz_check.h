/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * fuzz_check.h - what must hold after any pw_config_load(): on failure a "file:line: "
 * message naming the file; on success groups whose prefixes are sorted, distinct, valid
 * and printable, and sensor settings within their documented ranges.
 */
#ifndef PW_FUZZ_CHECK_H
#define PW_FUZZ_CHECK_H

#include <sys/socket.h>

#include "config.h"
#include "fuzz_common.h"

static inline void fuzz_check_prefix(const struct pw_prefix *p)
{
	char text[PW_PREFIX_STRLEN], err[256];
	struct pw_prefix q;

	FUZZ_ASSERT(p->family == AF_INET || p->family == AF_INET6, "family %u", p->family);
	FUZZ_ASSERT(p->len <= pw_prefix_maxlen(p), "length %u", p->len);
	pw_prefix_format(p, text, sizeof(text));
	FUZZ_ASSERT(pw_prefix_parse(text, &q, err, sizeof(err)) == 0, "'%s' does not parse: %s",
		    text, err);
	FUZZ_ASSERT(pw_prefix_equal(p, &q), "'%s' parses to something else", text);
}

static inline void fuzz_check_result(int rc, const char *path, const struct pw_config *cfg,
				     const char *err)
{
	size_t plen = strlen(path);

	if (rc) {
		FUZZ_ASSERT(rc == -1, "rc %d", rc);
		FUZZ_ASSERT(memchr(err, '\0', 1024), "error message not terminated");
		/* Every refusal names the file, and, past opening it, the line. */
		FUZZ_ASSERT(!strncmp(err, path, plen) && err[plen] == ':', "error '%s'", err);
		FUZZ_ASSERT(cfg->groups == NULL && cfg->n_groups == 0, "left groups to free");
		return;
	}
	FUZZ_ASSERT(cfg->n_groups > 0, "accepted with no group");
	FUZZ_ASSERT(cfg->interval >= 0.1 && cfg->interval <= 60, "interval %g", cfg->interval);
	FUZZ_ASSERT(cfg->n_ifaces <= PW_MAX_INTERFACES, "%zu interfaces", cfg->n_ifaces);
	if (cfg->listen[0]) {
		char host[128];
		unsigned int port;

		FUZZ_ASSERT(pw_listen_parse(cfg->listen, host, sizeof(host), &port) == 0,
			    "listen '%s' accepted but does not parse", cfg->listen);
	}
	FUZZ_ASSERT(cfg->pin_dir[0] == '/', "pin_dir '%s'", cfg->pin_dir);
	for (size_t i = 0; i < cfg->n_groups; i++) {
		const struct pw_group *g = &cfg->groups[i];

		FUZZ_ASSERT(g->name[0] && strlen(g->name) <= PW_GROUP_NAME_MAX, "group name");
		FUZZ_ASSERT(g->n_prefixes > 0, "[group %s] accepted empty", g->name);
		for (size_t j = i + 1; j < cfg->n_groups; j++)
			FUZZ_ASSERT(strcmp(g->name, cfg->groups[j].name), "[group %s] twice",
				    g->name);
		for (size_t k = 0; k < g->n_prefixes; k++) {
			fuzz_check_prefix(&g->prefixes[k]);
			FUZZ_ASSERT(!k || pw_prefix_cmp(&g->prefixes[k - 1], &g->prefixes[k]) < 0,
				    "[group %s] not sorted or not distinct at %zu", g->name, k);
		}
	}
}

#endif /* PW_FUZZ_CHECK_H */
