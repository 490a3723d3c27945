/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * webcfg.h - TLS and basic auth for the HTTP server, from a web configuration file in the
 * format of the Prometheus exporter-toolkit's web-config.yml:
 *
 *   tls_server_config:
 *     cert_file: server.crt      # PEM; relative paths are relative to this file
 *     key_file: server.key
 *   basic_auth_users:
 *     prometheus: $2y$10$...     # bcrypt hash (htpasswd -nbB, mkpasswd -m bcrypt)
 *
 * Either part may be left out. Keys of the toolkit that prefixwatch does not implement
 * (client certificates, TLS versions, cipher suites, http_server_config) are refused,
 * never ignored: a setting that looks applied but is not would be a hole.
 */
#ifndef PW_WEBCFG_H
#define PW_WEBCFG_H

#include <stdbool.h>
#include <stddef.h>

struct MHD_Connection;
struct MHD_OptionItem;

struct pw_web_user {
	char *name;
	char *hash;
	/* the last password that matched, so a scrape costs one bcrypt per change only */
	char *cached;
};

struct pw_web {
	char *cert, *key; /* PEM text, or NULL: no TLS */
	struct pw_web_user *users;
	size_t n_users; /* 0: no authentication */
};

/* Load @path; 0, or -1 with "file:line: what is wrong" in @err. */
int pw_web_load(const char *path, struct pw_web **out, char *err, size_t errlen);
void pw_web_free(struct pw_web *w);

/* Items for MHD_OPTION_ARRAY: room for PW_WEB_MHD_OPTIONS. */
#define PW_WEB_MHD_OPTIONS 3
/* Fill @items with @w's TLS options (or only the end); true when TLS is on. */
bool pw_web_mhd_options(const struct pw_web *w, struct MHD_OptionItem *items);

/* Does @user with @pass match a basic_auth_users entry? (Always true without users.) */
bool pw_web_check(struct pw_web *w, const char *user, const char *pass);
/* Does the request on @c carry credentials that pw_web_check accepts? */
bool pw_web_authorized(struct pw_web *w, struct MHD_Connection *c);
/* Answer 401 with a basic auth challenge; false if it could not be queued. */
bool pw_web_deny(struct MHD_Connection *c);

#endif /* PW_WEBCFG_H */
