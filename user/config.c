// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * config.c - read the INI configuration with libinih.
 *
 * libinih does the INI syntax; a line reader wrapped around it keeps the line number
 * (so every error names file:line), refuses over-long lines and NUL bytes instead of
 * truncating them, and validates section headers. Every key is looked up in a table:
 * a key that is not in the table is an error, never silently ignored.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <ini.h>

#include "config.h"

/* Longest line accepted in a config or prefix file, newline excluded. */
#define PW_MAX_LINE 4096

enum section { SEC_NONE, SEC_SENSOR, SEC_GROUP };

struct parser {
	const char *path;
	FILE *f;
	int line;
	char *err;
	size_t errlen;
	bool failed;
	struct pw_config *cfg;
	enum section sec;
	struct pw_group *group;
	bool seen_sensor;
	unsigned long seen_keys; /* bit per key of the current section's table */
	char dir[PATH_MAX];	 /* directory of the config file */
	char *buf;
	size_t bufcap;
};

static void fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct parser *p, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (p->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d: %s", p->path, p->line, msg);
	p->failed = true;
}

/* Length of a line read by getline(), without its "\n" or "\r\n". */
static size_t content_len(const char *line, size_t len)
{
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	return len;
}

/* ---- value parsers ---- */

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int parse_bool(struct parser *p, const char *key, const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	fail(p, "%s: '%.64s' is not a boolean (use yes or no)", key, v);
	return -1;
}

static int parse_double(struct parser *p, const char *key, const char *v, double min,
			double max, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (!*v || *end || errno || d != d) {
		fail(p, "%s: '%.64s' is not a number", key, v);
		return -1;
	}
	if (d < min || d > max) {
		fail(p, "%s: %g is out of range (%g to %g)", key, d, min, max);
		return -1;
	}
	*out = d;
	return 0;
}

int pw_mode_parse(const char *text, enum pw_attach_mode *mode)
{
	if (!strcmp(text, "auto"))
		*mode = PW_MODE_AUTO;
	else if (!strcmp(text, "native"))
		*mode = PW_MODE_NATIVE;
	else if (!strcmp(text, "skb"))
		*mode = PW_MODE_SKB;
	else
		return -1;
	return 0;
}

const char *pw_mode_name(enum pw_attach_mode mode)
{
	return mode == PW_MODE_NATIVE ? "native" : mode == PW_MODE_SKB ? "skb" : "auto";
}

int pw_listen_parse(const char *text, char *host, size_t hostlen, unsigned int *port)
{
	const char *colon, *h = text;
	size_t hl;
	char *end;
	long v;

	if (text[0] == '[') {
		const char *rb = strchr(text, ']');

		if (!rb || rb[1] != ':')
			return -1;
		h = text + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || strchr(text, ':') != colon)
			return -1;
		hl = (size_t)(colon - text);
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	v = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || v < 1 || v > 65535)
		return -1;
	*port = (unsigned int)v;
	return 0;
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 16)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static bool valid_group_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > PW_GROUP_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return false;
	return true;
}

/* ---- [sensor] keys ---- */

static int set_interface(struct parser *p, const char *v)
{
	char tmp[PW_MAX_LINE + 1], *save = NULL, *tok;

	snprintf(tmp, sizeof(tmp), "%s", v);
	p->cfg->n_ifaces = 0;
	for (tok = strtok_r(tmp, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		if (!valid_ifname(tok)) {
			fail(p, "interface: '%.64s' is not a valid interface name", tok);
			return -1;
		}
		for (size_t i = 0; i < p->cfg->n_ifaces; i++) {
			if (!strcmp(p->cfg->ifaces[i], tok)) {
				fail(p, "interface: '%s' is listed twice", tok);
				return -1;
			}
		}
		if (p->cfg->n_ifaces == PW_MAX_INTERFACES) {
			fail(p, "interface: more than %d interfaces", PW_MAX_INTERFACES);
			return -1;
		}
		snprintf(p->cfg->ifaces[p->cfg->n_ifaces++], 16, "%s", tok);
	}
	return 0;
}

static int set_mode(struct parser *p, const char *v)
{
	if (pw_mode_parse(v, &p->cfg->mode)) {
		fail(p, "mode: '%.64s' is not one of auto, native, skb", v);
		return -1;
	}
	return 0;
}

static int set_interval(struct parser *p, const char *v)
{
	return parse_double(p, "interval", v, 0.1, 60, &p->cfg->interval);
}

static int set_listen(struct parser *p, const char *v)
{
	char host[128];
	unsigned int port;

	if (!strcmp(v, "off")) {
		p->cfg->listen[0] = '\0';
		return 0;
	}
	if (strlen(v) >= sizeof(p->cfg->listen) ||
	    pw_listen_parse(v, host, sizeof(host), &port)) {
		fail(p, "listen: '%.64s' is not HOST:PORT, [IPV6]:PORT or off", v);
		return -1;
	}
	{
		unsigned char a[16];

		if (inet_pton(AF_INET, host, a) != 1 && inet_pton(AF_INET6, host, a) != 1) {
			fail(p, "listen: '%.64s' is not a numeric address (e.g. 127.0.0.1:9473)",
			     host);
			return -1;
		}
	}
	snprintf(p->cfg->listen, sizeof(p->cfg->listen), "%s", v);
	return 0;
}

static int set_pin_dir(struct parser *p, const char *v)
{
	if (v[0] != '/' || strlen(v) >= sizeof(p->cfg->pin_dir) - 32) {
		fail(p, "pin_dir: '%.64s' must be an absolute path", v);
		return -1;
	}
	snprintf(p->cfg->pin_dir, sizeof(p->cfg->pin_dir), "%s", v);
	return 0;
}

/* Issue 9: where the detectors' state is kept across restarts (state.c); "off" = nowhere. */
static int set_state_dir(struct parser *p, const char *v)
{
	if (!strcmp(v, "off")) {
		p->cfg->state_dir[0] = '\0';
		return 0;
	}
	if (v[0] != '/' || strlen(v) >= sizeof(p->cfg->state_dir) - 32) {
		fail(p, "state_dir: '%.64s' must be an absolute path, or off", v);
		return -1;
	}
	snprintf(p->cfg->state_dir, sizeof(p->cfg->state_dir), "%s", v);
	return 0;
}

/* ---- [group] keys ---- */

static int add_prefix(struct parser *p, struct pw_group *g, const struct pw_prefix *pfx)
{
	if (g->n_prefixes == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		struct pw_prefix *n = realloc(g->prefixes, cap * sizeof(*n));

		if (!n) {
			fail(p, "out of memory");
			return -1;
		}
		g->prefixes = n;
		g->cap = cap;
	}
	g->prefixes[g->n_prefixes++] = *pfx;
	return 0;
}

static int set_prefix(struct parser *p, const char *v)
{
	struct pw_prefix pfx;
	char err[256];

	if (pw_prefix_parse(v, &pfx, err, sizeof(err))) {
		fail(p, "prefix: %s", err);
		return -1;
	}
	return add_prefix(p, p->group, &pfx);
}

/* One CIDR per line; '#' starts a comment; blank lines are fine. */
static int set_prefix_file(struct parser *p, const char *v)
{
	char path[PATH_MAX], err[256];
	char *line = NULL;
	size_t cap = 0;
	struct stat st;
	ssize_t len;
	int lineno = 0, ret = 0;
	FILE *f;

	if (!*v) {
		fail(p, "prefix_file: empty path");
		return -1;
	}
	if (v[0] == '/')
		snprintf(path, sizeof(path), "%s", v);
	else if (snprintf(path, sizeof(path), "%s/%s", p->dir, v) >= (int)sizeof(path)) {
		fail(p, "prefix_file: path too long");
		return -1;
	}
	/*
	 * A directory fails below as unreadable. Anything else that is not a plain file is
	 * refused before it is opened: a FIFO would block the check or the reload for ever,
	 * and /dev/zero would be read into memory without end in search of a line's end.
	 */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		fail(p, "prefix_file: cannot read %s: not a regular file", path);
		return -1;
	}
	f = fopen(path, "r");
	if (!f) {
		fail(p, "prefix_file: cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		struct pw_prefix pfx;
		char *s, *hash;

		lineno++;
		if ((size_t)len != strlen(line)) {
			fail(p, "prefix_file: %s:%d: NUL byte in line", path, lineno);
			ret = -1;
			break;
		}
		if (content_len(line, (size_t)len) > PW_MAX_LINE) {
			fail(p, "prefix_file: %s:%d: line longer than %d characters", path, lineno,
			     PW_MAX_LINE);
			ret = -1;
			break;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		s = trim(line);
		if (!*s)
			continue;
		if (pw_prefix_parse(s, &pfx, err, sizeof(err))) {
			fail(p, "prefix_file: %s:%d: %s", path, lineno, err);
			ret = -1;
			break;
		}
		if (add_prefix(p, p->group, &pfx)) {
			ret = -1;
			break;
		}
	}
	if (!ret && ferror(f)) {
		fail(p, "prefix_file: cannot read %s: %s", path, strerror(errno));
		ret = -1;
	}
	free(line);
	fclose(f);
	return ret;
}

static int set_export(struct parser *p, const char *v)
{
	if (!strcmp(v, "prefix"))
		p->group->export = PW_EXPORT_PREFIX;
	else if (!strcmp(v, "group"))
		p->group->export = PW_EXPORT_GROUP;
	else {
		fail(p, "export: '%.64s' is not one of prefix, group", v);
		return -1;
	}
	return 0;
}

static int set_per_prefix(struct parser *p, const char *v)
{
	return parse_bool(p, "per_prefix", v, &p->group->per_prefix);
}

static int set_event_log(struct parser *p, const char *v)
{
	if (!*v || strlen(v) >= sizeof(p->cfg->event_log)) {
		fail(p, "event_log: give a file path, or '-' for standard output");
		return -1;
	}
	snprintf(p->cfg->event_log, sizeof(p->cfg->event_log), "%s", strcmp(v, "-") ? v : "");
	return 0;
}

static int set_on_event(struct parser *p, const char *v)
{
	if (v[0] != '/' || strlen(v) >= sizeof(p->cfg->on_event)) {
		fail(p, "on_event: '%.64s' must be an absolute path to a program", v);
		return -1;
	}
	snprintf(p->cfg->on_event, sizeof(p->cfg->on_event), "%s", v);
	return 0;
}

/* web_config: TLS and basic auth (webcfg.h); read and checked by pw_load_config. */
static int set_web_config(struct parser *p, const char *v)
{
	char *dst = p->cfg->web_config;
	int n;

	if (!*v) {
		fail(p, "web_config: give the path of a web configuration file");
		return -1;
	}
	n = v[0] == '/' ? snprintf(dst, PATH_MAX, "%s", v)
			: snprintf(dst, PATH_MAX, "%s/%s", p->dir, v);
	if (n >= PATH_MAX) {
		fail(p, "web_config: path too long");
		return -1;
	}
	return 0;
}

struct key_def {
	const char *name;
	bool repeatable;
	int (*set)(struct parser *p, const char *value); /* NULL: a detector setting */
	/* detector settings: where in pw_detect_cfg, the range, and the type */
	size_t off;
	double min, max;
	char type; /* 'd' number, 'u' whole number, 'b' yes/no */
};

#define DET(key, field, lo, hi, kind)                                                      \
	{ .name = key, .off = offsetof(struct pw_detect_cfg, field), .min = lo, .max = hi,         \
	  .type = kind }

static int set_det(struct parser *p, const struct key_def *k, const char *v)
{
	char *base = (char *)&p->group->det + k->off;
	double d;

	if (k->type == 'b')
		return parse_bool(p, k->name, v, (bool *)base);
	if (parse_double(p, k->name, v, k->min, k->max, &d))
		return -1;
	if (k->type == 'u') {
		if (d != floor(d)) {
			fail(p, "%s: '%.64s' is not a whole number", k->name, v);
			return -1;
		}
		*(unsigned int *)base = (unsigned int)d;
	} else {
		*(double *)base = d;
	}
	return 0;
}

/* Every key of [sensor]: adding a setting is adding a line here. */
static const struct key_def sensor_keys[] = {
	{ .name = "interface", .set = set_interface },
	{ .name = "mode", .set = set_mode },
	{ .name = "interval", .set = set_interval },
	{ .name = "listen", .set = set_listen },
	{ .name = "pin_dir", .set = set_pin_dir },
	{ .name = "event_log", .set = set_event_log },
	{ .name = "on_event", .set = set_on_event },
	{ .name = "state_dir", .set = set_state_dir }, /* issue 9 */
	{ .name = "web_config", .set = set_web_config },
};

/* Every key of [group NAME]: adding a setting is adding a line here. */
static const struct key_def group_keys[] = {
	{ .name = "prefix", .repeatable = true, .set = set_prefix },
	{ .name = "prefix_file", .repeatable = true, .set = set_prefix_file },
	{ .name = "export", .set = set_export },
	{ .name = "per_prefix", .set = set_per_prefix },
	DET("flood", flood, 0, 0, 'b'),
	DET("flood_factor", flood_factor, 1.5, 1000, 'd'),
	DET("flood_min_pps", flood_min_pps, 0, 1e12, 'd'),
	DET("flood_min_bps", flood_min_bps, 0, 1e15, 'd'),
	DET("flood_pps", flood_pps, 0, 1e12, 'd'),
	DET("flood_bps", flood_bps, 0, 1e15, 'd'),
	DET("flood_syn_pps", flood_syn_pps, 0, 1e12, 'd'),
	DET("flood_udp_pps", flood_udp_pps, 0, 1e12, 'd'),
	DET("flood_icmp_pps", flood_icmp_pps, 0, 1e12, 'd'),
	DET("flood_fragment_pps", flood_fragment_pps, 0, 1e12, 'd'),
	DET("loss", loss, 0, 0, 'b'),
	DET("loss_fraction", loss_fraction, 0.001, 0.9, 'd'),
	DET("loss_confidence", loss_confidence, 1, 30, 'd'),
	DET("recover_fraction", recover_fraction, 0.01, 1, 'd'),
	DET("unstable_losses", unstable_losses, 0, 64, 'u'),
	DET("unstable_window", unstable_window, 60, 86400 * 7, 'd'),
	DET("warmup", warmup, 0, 86400, 'd'),
	DET("baseline_window", baseline_window, 10, 86400 * 7, 'd'),
	DET("relearn", relearn, 0, 86400 * 365, 'd'), /* issue 9: 0 = never */
};

static void list_keys(const struct key_def *keys, size_t n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", keys[i].name);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parser *p = user;
	const struct key_def *keys;
	char known[256], vbuf[PW_MAX_LINE + 1];
	size_t n;

	(void)section;
	if (p->failed)
		return 0;
	if (p->sec == SEC_NONE) {
		fail(p, "'%.64s' is outside any section (start with [sensor] or [group NAME])",
		     name);
		return 0;
	}
	keys = p->sec == SEC_SENSOR ? sensor_keys : group_keys;
	n = p->sec == SEC_SENSOR ? sizeof(sensor_keys) / sizeof(sensor_keys[0])
				 : sizeof(group_keys) / sizeof(group_keys[0]);
	snprintf(vbuf, sizeof(vbuf), "%s", value);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(keys[i].name, name))
			continue;
		if (!keys[i].repeatable && (p->seen_keys & (1UL << i))) {
			fail(p, "'%s' is set twice in this section", name);
			return 0;
		}
		p->seen_keys |= 1UL << i;
		if (!keys[i].set)
			return set_det(p, &keys[i], trim(vbuf)) == 0;
		return keys[i].set(p, trim(vbuf)) == 0;
	}
	list_keys(keys, n, known, sizeof(known));
	fail(p, "unknown key '%.64s' in [%s] (known: %s)", name,
	     p->sec == SEC_SENSOR ? "sensor" : "group", known);
	return 0;
}

static int open_section(struct parser *p, char *name)
{
	struct pw_config *cfg = p->cfg;

	p->seen_keys = 0;
	if (!strcmp(name, "sensor")) {
		if (p->seen_sensor) {
			fail(p, "[sensor] appears twice");
			return -1;
		}
		p->seen_sensor = true;
		p->sec = SEC_SENSOR;
		return 0;
	}
	if (!strncmp(name, "group", 5) && (name[5] == ' ' || name[5] == '\t')) {
		char *gname = trim(name + 5);
		struct pw_group *groups;

		if (!valid_group_name(gname)) {
			fail(p, "group name '%.80s' must be 1 to %d of A-Z a-z 0-9 _ . -", gname,
			     PW_GROUP_NAME_MAX);
			return -1;
		}
		for (size_t i = 0; i < cfg->n_groups; i++) {
			if (!strcmp(cfg->groups[i].name, gname)) {
				fail(p, "[group %s] appears twice", gname);
				return -1;
			}
		}
		/* Doubling, at each power of two: one group more each time is quadratic. */
		groups = cfg->groups;
		if (!(cfg->n_groups & (cfg->n_groups - 1)))
			groups = realloc(groups, (cfg->n_groups ? 2 * cfg->n_groups : 1) *
							 sizeof(*groups));
		if (!groups) {
			fail(p, "out of memory");
			return -1;
		}
		cfg->groups = groups;
		p->group = &groups[cfg->n_groups++];
		memset(p->group, 0, sizeof(*p->group));
		snprintf(p->group->name, sizeof(p->group->name), "%s", gname);
		p->group->line = p->line;
		pw_detect_defaults(&p->group->det);
		p->sec = SEC_GROUP;
		return 0;
	}
	if (!strcmp(name, "group"))
		fail(p, "[group] needs a name: [group NAME]");
	else
		fail(p, "unknown section [%.64s] (known: [sensor], [group NAME])", name);
	return -1;
}

#ifndef PW_HAVE_INIH_RUNTIME_OPTS
/*
 * Upstream inih fixes its options when it is built, and its default ends inline comments
 * at ';' only. Debian's build lets us add '#' at run time (ini_inline_comment_prefixes);
 * elsewhere the '#' comment is cut here, by inih's rule: a '#' after a blank, in the
 * value (so "key = #x" keeps its "#x", as with Debian's build).
 */
static void cut_hash_comment(char *s)
{
	char *v = strpbrk(s, "=:");

	if (!v)
		return;
	for (v++; *v == ' ' || *v == '\t'; v++)
		;
	for (char *c = v; *c; c++) {
		if (*c == '#' && c > v && (c[-1] == ' ' || c[-1] == '\t')) {
			*c = '\0';
			return;
		}
	}
}
#endif

/*
 * libinih calls this for each line: count lines, refuse what inih would silently
 * mangle, and follow section headers ourselves so that each is validated once.
 */
static char *reader(char *str, int num, void *stream)
{
	struct parser *p = stream;
	ssize_t len;
	char *s;

	if (p->failed)
		return NULL;
	len = getline(&p->buf, &p->bufcap, p->f);
	if (len < 0)
		return NULL;
	p->line++;
	if ((size_t)len != strlen(p->buf)) {
		fail(p, "NUL byte in line");
		return NULL;
	}
	if (content_len(p->buf, (size_t)len) > PW_MAX_LINE) {
		fail(p, "line longer than %d characters", PW_MAX_LINE);
		return NULL;
	}
	s = p->buf;
	/* inih skips a UTF-8 byte order mark on line 1: skip it too before looking for '['. */
	if (p->line == 1 && !strncmp(s, "\xEF\xBB\xBF", 3))
		s += 3;
	/*
	 * inih gets the line without its leading blanks: an indented line can then never be
	 * taken for the continuation of the previous value, whatever the library was built
	 * with (upstream inih allows continuations unless built with INI_ALLOW_MULTILINE=0).
	 */
	s = trim(s);
#ifndef PW_HAVE_INIH_RUNTIME_OPTS
	if (*s == ';' || *s == '#') {
		*s = '\0'; /* a whole-line comment may be longer than the library's buffer */
	} else if (*s && *s != '[' && !strpbrk(s, "=:")) {
		/* upstream inih goes on after a syntax error: stop at it, as Debian's does */
		fail(p, "syntax error: expected 'key = value' or '[section]'");
		return NULL;
	} else {
		cut_hash_comment(s);
	}
#endif
	if (strlen(s) + 1 > (size_t)num) {
		fail(p, "line longer than %d characters, the most this build's libinih takes "
			"(built without its runtime options)", num > 3 ? num - 3 : 0);
		return NULL;
	}
	if (*s == '[') {
		char *rb = strchr(s, ']'), *after;

		if (!rb) {
			fail(p, "section header without ']'");
			return NULL;
		}
		after = trim(rb + 1);
		if (*after && *after != ';' && *after != '#') {
			fail(p, "text after section header");
			return NULL;
		}
		*rb = '\0';
		if (open_section(p, trim(s + 1)))
			return NULL;
		*rb = ']';
	}
	memcpy(str, s, strlen(s) + 1);
	return str;
}

void pw_config_defaults(struct pw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = PW_MODE_AUTO;
	cfg->interval = PW_DEFAULT_INTERVAL;
	snprintf(cfg->listen, sizeof(cfg->listen), "%s", PW_DEFAULT_LISTEN);
	snprintf(cfg->pin_dir, sizeof(cfg->pin_dir), "%s", PW_DEFAULT_PIN_DIR);
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", PW_DEFAULT_STATE_DIR); /* issue 9 */
}

void pw_config_free(struct pw_config *cfg)
{
	for (size_t i = 0; i < cfg->n_groups; i++)
		free(cfg->groups[i].prefixes);
	free(cfg->groups);
	cfg->groups = NULL;
	cfg->n_groups = 0;
}

/* Sort a group's prefixes and drop duplicates. */
static void normalise_group(struct pw_group *g)
{
	size_t out = 0;

	if (!g->n_prefixes) /* prefixes is NULL then, and qsort() must not see NULL */
		return;
	qsort(g->prefixes, g->n_prefixes, sizeof(*g->prefixes), pw_prefix_cmp);
	for (size_t i = 0; i < g->n_prefixes; i++)
		if (!out || !pw_prefix_equal(&g->prefixes[out - 1], &g->prefixes[i]))
			g->prefixes[out++] = g->prefixes[i];
	g->n_prefixes = out;
}

int pw_config_load(const char *path, struct pw_config *cfg, char *err, size_t errlen)
{
	struct parser p = { .path = path, .err = err, .errlen = errlen, .cfg = cfg };
	char tmp[PATH_MAX];
	int ret;

	pw_config_defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(p.dir, sizeof(p.dir), "%s", dirname(tmp));
	p.f = fopen(path, "r");
	if (!p.f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
#ifdef PW_HAVE_INIH_RUNTIME_OPTS
	/*
	 * Debian's libinih takes its options at run time (upstream's are fixed when it is
	 * built; the Makefile probes which one this is). Without them the reader does the
	 * first two itself, and lines are limited to the library's INI_MAX_LINE.
	 */
	/* One value per line: an indented line is not a continuation of the previous one. */
	ini_allow_multiline = false;
	/* "key = value ; note" and "key = value # note" both end at the comment. */
	ini_inline_comment_prefixes = ";#";
	/* inih's default buffer is 200 bytes: make room for the longest line, "\r\n" and NUL. */
	ini_max_line = PW_MAX_LINE + 3;
	ini_stop_on_first_error = true;
#endif
	ret = ini_parse_stream(reader, &p, handler, &p);
	if (!p.failed && ferror(p.f)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		p.failed = true;
	}
	fclose(p.f);
	free(p.buf);
	if (!p.failed && ret > 0) {
		snprintf(err, errlen, "%s:%d: syntax error: expected 'key = value' or '[section]'",
			 path, ret);
		p.failed = true;
	} else if (!p.failed && ret < 0) {
		snprintf(err, errlen, "%s: cannot parse: out of memory", path);
		p.failed = true;
	}
	if (!p.failed && cfg->n_groups == 0) {
		snprintf(err, errlen, "%s:%d: no [group NAME] section: nothing to watch", path,
			 p.line);
		p.failed = true;
	}
	for (size_t i = 0; !p.failed && i < cfg->n_groups; i++) {
		normalise_group(&cfg->groups[i]);
		if (cfg->groups[i].n_prefixes == 0) {
			snprintf(err, errlen, "%s:%d: [group %s] has no prefix (add prefix = CIDR)",
				 path, cfg->groups[i].line, cfg->groups[i].name);
			p.failed = true;
		}
	}
	if (p.failed) {
		pw_config_free(cfg);
		return -1;
	}
	return 0;
}

void pw_config_count(const struct pw_config *cfg, size_t *v4, size_t *v6)
{
	size_t total = 0, k = 0;
	struct pw_prefix *all;

	*v4 = *v6 = 0;
	for (size_t i = 0; i < cfg->n_groups; i++)
		total += cfg->groups[i].n_prefixes;
	all = malloc((total ? total : 1) * sizeof(*all));
	if (!all)
		return;
	for (size_t i = 0; i < cfg->n_groups; i++)
		for (size_t j = 0; j < cfg->groups[i].n_prefixes; j++)
			all[k++] = cfg->groups[i].prefixes[j];
	qsort(all, total, sizeof(*all), pw_prefix_cmp);
	for (size_t i = 0; i < total; i++) {
		if (i && pw_prefix_equal(&all[i - 1], &all[i]))
			continue;
		if (all[i].family == AF_INET)
			(*v4)++;
		else
			(*v6)++;
	}
	free(all);
}
