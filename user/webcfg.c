// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* webcfg.c - web-config.yml (libyaml), bcrypt checks (libxcrypt), TLS options for MHD. */
#include <crypt.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <yaml.h>

#include "webcfg.h"

/* A PEM file is small; anything bigger is not one. */
#define PW_WEB_MAX_PEM (1 << 20)

struct ctx {
	const char *path;
	yaml_document_t *doc;
	struct pw_web *w;
	char *err;
	size_t errlen;
};

static int fail(struct ctx *x, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ctx *x, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	k = snprintf(x->err, x->errlen, "%s:%zu: ", x->path, n ? n->start_mark.line + 1 : 1);
	if (k < 0 || (size_t)k >= x->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(x->err + k, x->errlen - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Read the PEM file @name (relative to the config's directory) into *@out. */
static int read_pem(struct ctx *x, const yaml_node_t *n, const char *key, char **out)
{
	const char *name = scalar(n);
	char dir[PATH_MAX], full[PATH_MAX * 2];
	size_t len = 0;
	char *buf;
	FILE *f;

	if (!name || !*name)
		return fail(x, n, "%s: give a file name", key);
	snprintf(dir, sizeof(dir), "%s", x->path);
	if (name[0] == '/')
		snprintf(full, sizeof(full), "%s", name);
	else
		snprintf(full, sizeof(full), "%s/%s", dirname(dir), name);
	f = fopen(full, "re");
	if (!f)
		return fail(x, n, "%s: cannot open %s: %s", key, full, strerror(errno));
	buf = malloc(PW_WEB_MAX_PEM + 1);
	if (buf)
		len = fread(buf, 1, PW_WEB_MAX_PEM + 1, f);
	fclose(f);
	if (!buf)
		return fail(x, n, "out of memory");
	if (len > PW_WEB_MAX_PEM || !memmem(buf, len, "-----BEGIN ", 11)) {
		free(buf);
		return fail(x, n, "%s: %s is not a PEM file", key, full);
	}
	buf[len] = '\0';
	free(*out);
	*out = buf;
	return 0;
}

static int tls_config(struct ctx *x, yaml_node_t *m)
{
	const yaml_node_t *cert = NULL, *key = NULL;

	if (m->type != YAML_MAPPING_NODE)
		return fail(x, m, "tls_server_config: expected a mapping of cert_file and key_file");
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
		const char *name = scalar(k);

		if (name && !strcmp(name, "cert_file"))
			cert = v;
		else if (name && !strcmp(name, "key_file"))
			key = v;
		else
			return fail(x, k,
				    "tls_server_config: '%.64s' is not supported (only cert_file and key_file)",
				    name ? name : "?");
	}
	if (!cert || !key)
		return fail(x, m, "tls_server_config: give both cert_file and key_file");
	if (read_pem(x, cert, "cert_file", &x->w->cert) || read_pem(x, key, "key_file", &x->w->key))
		return -1;
	return 0;
}

static bool is_bcrypt(const char *h)
{
	struct crypt_data *cd;
	const char *out;
	bool ok;

	if (strncmp(h, "$2a$", 4) && strncmp(h, "$2b$", 4) && strncmp(h, "$2y$", 4))
		return false;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return false;
	/* libxcrypt fails with a string starting with '*' when the setting is malformed. */
	out = crypt_r("", h, cd);
	ok = out && out[0] == '$' && strlen(out) == strlen(h);
	free(cd);
	return ok;
}

static int users_config(struct ctx *x, yaml_node_t *m)
{
	size_t n;

	if (m->type != YAML_MAPPING_NODE)
		return fail(x, m, "basic_auth_users: expected a mapping of user: bcrypt hash");
	n = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
	x->w->users = calloc(n ? n : 1, sizeof(*x->w->users));
	if (!x->w->users)
		return fail(x, m, "out of memory");
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
		const char *name = scalar(k), *hash = scalar(v);
		struct pw_web_user *u;

		if (!name || !*name || strchr(name, ':'))
			return fail(x, k, "basic_auth_users: a user name must be a string without ':'");
		for (size_t i = 0; i < x->w->n_users; i++)
			if (!strcmp(x->w->users[i].name, name))
				return fail(x, k, "basic_auth_users: user '%.64s' appears twice", name);
		if (!hash || !is_bcrypt(hash))
			return fail(x, v,
				    "basic_auth_users: the password of '%.64s' is not a bcrypt hash ($2a$, $2b$ or $2y$)",
				    name);
		u = &x->w->users[x->w->n_users++];
		u->name = strdup(name);
		u->hash = strdup(hash);
		if (!u->name || !u->hash)
			return fail(x, k, "out of memory");
	}
	return 0;
}

int pw_web_load(const char *path, struct pw_web **out, char *err, size_t errlen)
{
	struct ctx x = { .path = path, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int ret = -1;
	FILE *f;

	x.w = calloc(1, sizeof(*x.w));
	if (!x.w) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		free(x.w);
		return -1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%zu: %s", path, parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "not YAML");
		yaml_parser_delete(&parser);
		fclose(f);
		free(x.w);
		return -1;
	}
	x.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root && root->type != YAML_MAPPING_NODE) {
		fail(&x, root, "expected a mapping (tls_server_config, basic_auth_users)");
		goto out;
	}
	for (yaml_node_pair_t *p = root ? root->data.mapping.pairs.start : NULL;
	     root && p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&doc, p->value);
		const char *name = scalar(k);

		if (name && !strcmp(name, "tls_server_config")) {
			if (tls_config(&x, v))
				goto out;
		} else if (name && !strcmp(name, "basic_auth_users")) {
			if (x.w->users) {
				fail(&x, k, "basic_auth_users appears twice");
				goto out;
			}
			if (users_config(&x, v))
				goto out;
		} else {
			fail(&x, k,
			     "'%.64s' is not supported (only tls_server_config and basic_auth_users)",
			     name ? name : "?");
			goto out;
		}
	}
	ret = 0;
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	if (ret) {
		pw_web_free(x.w);
		return ret;
	}
	*out = x.w;
	return 0;
}

void pw_web_free(struct pw_web *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n_users; i++) {
		free(w->users[i].name);
		free(w->users[i].hash);
		free(w->users[i].cached);
	}
	free(w->users);
	free(w->cert);
	free(w->key);
	free(w);
}

bool pw_web_mhd_options(const struct pw_web *w, struct MHD_OptionItem *items)
{
	size_t n = 0;

	if (w && w->cert && w->key) {
		items[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, w->cert };
		items[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, w->key };
	}
	items[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	return n > 0;
}

/* Compare without an early exit, so the time taken says nothing of where they differ. */
static bool same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return !d;
}

bool pw_web_check(struct pw_web *w, const char *user, const char *pass)
{
	struct pw_web_user *u = NULL;
	struct crypt_data *cd;
	const char *out;
	bool ok;

	if (!w || !w->n_users)
		return true;
	if (!user || !pass)
		return false;
	for (size_t i = 0; i < w->n_users; i++)
		if (!strcmp(w->users[i].name, user))
			u = &w->users[i];
	if (!u)
		return false;
	if (u->cached && same(u->cached, pass))
		return true;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return false;
	out = crypt_r(pass, u->hash, cd);
	ok = out && same(out, u->hash);
	free(cd);
	if (ok) {
		free(u->cached);
		u->cached = strdup(pass);
	}
	return ok;
}

bool pw_web_authorized(struct pw_web *w, struct MHD_Connection *c)
{
	char *user, *pass = NULL;
	bool ok;

	if (!w || !w->n_users)
		return true;
	user = MHD_basic_auth_get_username_password(c, &pass);
	ok = pw_web_check(w, user, pass);
	MHD_free(user);
	MHD_free(pass);
	return ok;
}

bool pw_web_deny(struct MHD_Connection *c)
{
	static const char body[] = "unauthorized\n";
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return false;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	ret = MHD_queue_basic_auth_fail_response(c, "prefixwatch", r);
	MHD_destroy_response(r);
	return ret == MHD_YES;
}
