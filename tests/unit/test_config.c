// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_config.c - the INI configuration: every key, the defaults, and every error with the
 * exact "file:line:" it names.
 *
 * Each case writes its config (and prefix file) into a private directory from mkdtemp(),
 * removed with everything in it when the tests end.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define ERRLEN 2048
/* The config reader's line limit (PW_MAX_LINE in config.c), newline excluded. */
#define MAX_LINE 4096

static char dir[64];
static char conf_path[PATH_MAX];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/pw-test-config-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(conf_path, sizeof(conf_path), "%s/t.conf", dir);
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int remove_dir(void **state)
{
	(void)state;
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write @len bytes of @data (all of the string when @len is 0) to @name under the dir. */
static void put(const char *name, const char *data, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		fail_msg("create %s: %s", path, strerror(errno));
	if (!len)
		len = strlen(data);
	if (fwrite(data, 1, len, f) != len || fclose(f))
		fail_msg("write %s: %s", path, strerror(errno));
}

static int load_n(const char *text, size_t len, struct pw_config *cfg, char *err)
{
	put("t.conf", text, len);
	err[0] = '\0';
	return pw_config_load(conf_path, cfg, err, ERRLEN);
}

static void load_ok(const char *desc, const char *text, struct pw_config *cfg)
{
	char err[ERRLEN];

	if (load_n(text, 0, cfg, err))
		fail_msg("%s: refused: %s", desc, err);
}

/* The load must fail with "t.conf:LINE: " first and @want somewhere after it. */
static void expect_error_n(const char *desc, const char *text, size_t len, int line,
			   const char *want, char *err)
{
	char prefix[PATH_MAX + 32];
	struct pw_config cfg;

	if (load_n(text, len, &cfg, err) == 0) {
		pw_config_free(&cfg);
		fail_msg("%s: accepted", desc);
	}
	snprintf(prefix, sizeof(prefix), "%s:%d: ", conf_path, line);
	if (strncmp(err, prefix, strlen(prefix)))
		fail_msg("%s: error '%s' does not start with '%s'", desc, err, prefix);
	if (!strstr(err + strlen(prefix), want))
		fail_msg("%s: error '%s' lacks '%s'", desc, err, want);
	/* "leaves nothing to free" */
	assert_null(cfg.groups);
	assert_int_equal(cfg.n_groups, 0);
}

static void expect_error(const char *desc, const char *text, int line, const char *want)
{
	char err[ERRLEN];

	expect_error_n(desc, text, 0, line, want, err);
}

static void assert_prefix(const struct pw_prefix *got, const char *want)
{
	char buf[PW_PREFIX_STRLEN];

	assert_string_equal(pw_prefix_format(got, buf, sizeof(buf)), want);
}

/* ---- valid configurations ---- */

static const char full_conf[] = "; prefixwatch test configuration\n"	/* 1 */
				"# every key once\n"			/* 2 */
				"[sensor]\n"				/* 3 */
				"interface = eth0, eth1\tveth-a.10\n"	/* 4 */
				"mode = native\n"			/* 5 */
				"interval = 2.5\n"			/* 6 */
				"listen = [::1]:9100\n"			/* 7 */
				"pin_dir = /sys/fs/bpf/pwtest\n"	/* 8 */
				"\n"					/* 9 */
				"[group web]\n"				/* 10 */
				"prefix = 192.0.2.0/24\n"		/* 11 */
				"prefix = 2001:DB8::/32\n"		/* 12 */
				"prefix_file = nets/web.txt\n"		/* 13 */
				"export = group\n"			/* 14 */
				"per_prefix = yes\n"			/* 15 */
				"\n"					/* 16 */
				"[group dns-1.b_c]\n"			/* 17 */
				"prefix = 198.51.100.0/24\n";		/* 18 */

static void test_full(void **state)
{
	char sub[PATH_MAX];
	struct pw_config cfg;
	size_t v4, v6;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/nets", dir);
	if (mkdir(sub, 0700) && errno != EEXIST)
		fail_msg("mkdir %s: %s", sub, strerror(errno));
	put("nets/web.txt", "# web frontends\n203.0.113.0/24\n\n  10.0.0.0/8  # all of ten\n", 0);
	load_ok("full", full_conf, &cfg);

	assert_string_equal(cfg.path, conf_path);
	assert_int_equal(cfg.n_ifaces, 3);
	assert_string_equal(cfg.ifaces[0], "eth0");
	assert_string_equal(cfg.ifaces[1], "eth1");
	assert_string_equal(cfg.ifaces[2], "veth-a.10");
	assert_int_equal(cfg.mode, PW_MODE_NATIVE);
	assert_true(cfg.interval == 2.5);
	assert_string_equal(cfg.listen, "[::1]:9100");
	assert_string_equal(cfg.pin_dir, "/sys/fs/bpf/pwtest");

	assert_int_equal(cfg.n_groups, 2);
	assert_string_equal(cfg.groups[0].name, "web");
	assert_int_equal(cfg.groups[0].line, 10);
	assert_int_equal(cfg.groups[0].export, PW_EXPORT_GROUP);
	assert_true(cfg.groups[0].per_prefix);
	/* sorted: IPv4 before IPv6, then by address */
	assert_int_equal(cfg.groups[0].n_prefixes, 4);
	assert_prefix(&cfg.groups[0].prefixes[0], "10.0.0.0/8");
	assert_prefix(&cfg.groups[0].prefixes[1], "192.0.2.0/24");
	assert_prefix(&cfg.groups[0].prefixes[2], "203.0.113.0/24");
	assert_prefix(&cfg.groups[0].prefixes[3], "2001:db8::/32");

	assert_string_equal(cfg.groups[1].name, "dns-1.b_c");
	assert_int_equal(cfg.groups[1].line, 17);
	assert_int_equal(cfg.groups[1].export, PW_EXPORT_PREFIX);
	assert_false(cfg.groups[1].per_prefix);
	assert_int_equal(cfg.groups[1].n_prefixes, 1);
	assert_prefix(&cfg.groups[1].prefixes[0], "198.51.100.0/24");

	pw_config_count(&cfg, &v4, &v6);
	assert_int_equal(v4, 4);
	assert_int_equal(v6, 1);
	pw_config_free(&cfg);
	assert_null(cfg.groups);
	assert_int_equal(cfg.n_groups, 0);
}

/*
 * Every [sensor] key and every [group] key set to a value of its own, distinct from the
 * others and from the defaults: a key parsed into another key's field (or into another
 * group) leaves a field at its default or with a neighbour's value, and fails here.
 */
static const char every_key_conf[] =
	"[sensor]\n"
	"interface = pw0\n"
	"mode = skb\n"
	"interval = 0.7\n"
	"listen = 127.0.0.2:9999\n"
	"pin_dir = /sys/fs/bpf/pw-every-key\n"
	"event_log = /var/log/pw-every-key.jsonl\n"
	"on_event = /usr/local/bin/pw-every-key-hook\n"
	"[group first]\n"
	"prefix = 10.0.0.0/8\n"
	"export = group\n"
	"per_prefix = yes\n"
	"flood = no\n"
	"flood_factor = 7.25\n"
	"flood_min_pps = 1234\n"
	"flood_min_bps = 56789\n"
	"flood_pps = 111111\n"
	"flood_bps = 2222222\n"
	"loss = yes\n"
	"loss_fraction = 0.125\n"
	"loss_confidence = 7.5\n"
	"recover_fraction = 0.625\n"
	"unstable_losses = 9\n"
	"unstable_window = 3601\n"
	"warmup = 42\n"
	"baseline_window = 777\n"
	"[group second]\n"
	"prefix = 192.0.2.0/24\n"
	"loss = no\n";

static void test_every_key(void **state)
{
	struct pw_detect_cfg def;
	struct pw_config cfg;

	(void)state;
	load_ok("every key", every_key_conf, &cfg);
	assert_int_equal(cfg.n_ifaces, 1);
	assert_string_equal(cfg.ifaces[0], "pw0");
	assert_int_equal(cfg.mode, PW_MODE_SKB);
	assert_true(cfg.interval == 0.7);
	assert_string_equal(cfg.listen, "127.0.0.2:9999");
	assert_string_equal(cfg.pin_dir, "/sys/fs/bpf/pw-every-key");
	assert_string_equal(cfg.event_log, "/var/log/pw-every-key.jsonl");
	assert_string_equal(cfg.on_event, "/usr/local/bin/pw-every-key-hook");

	assert_int_equal(cfg.n_groups, 2);
	{
		const struct pw_group *g = &cfg.groups[0];

		assert_string_equal(g->name, "first");
		assert_int_equal(g->export, PW_EXPORT_GROUP);
		assert_true(g->per_prefix);
		assert_false(g->det.flood);
		assert_true(g->det.flood_factor == 7.25);
		assert_true(g->det.flood_min_pps == 1234);
		assert_true(g->det.flood_min_bps == 56789);
		assert_true(g->det.flood_pps == 111111);
		assert_true(g->det.flood_bps == 2222222);
		assert_true(g->det.loss);
		assert_true(g->det.loss_fraction == 0.125);
		assert_true(g->det.loss_confidence == 7.5);
		assert_true(g->det.recover_fraction == 0.625);
		assert_int_equal(g->det.unstable_losses, 9);
		assert_true(g->det.unstable_window == 3601);
		assert_true(g->det.warmup == 42);
		assert_true(g->det.baseline_window == 777);
	}
	{
		/* the second group: its one setting, and the defaults for everything else */
		struct pw_detect_cfg got = cfg.groups[1].det;

		assert_string_equal(cfg.groups[1].name, "second");
		assert_int_equal(cfg.groups[1].export, PW_EXPORT_PREFIX);
		assert_false(cfg.groups[1].per_prefix);
		assert_false(got.loss);
		pw_detect_defaults(&def);
		assert_true(def.loss); /* else the line above proves nothing */
		got.loss = def.loss;
		assert_memory_equal(&got, &def, sizeof(def));
	}
	pw_config_free(&cfg);

	/* every value above differs from its default, or the test could not see a swap */
	pw_detect_defaults(&def);
	assert_true(def.flood && def.flood_factor != 7.25 && def.flood_min_pps != 1234 &&
		    def.flood_min_bps != 56789 && def.flood_pps != 111111 &&
		    def.flood_bps != 2222222 && def.loss_fraction != 0.125 &&
		    def.loss_confidence != 7.5 && def.recover_fraction != 0.625 &&
		    def.unstable_losses != 9 && def.unstable_window != 3601 &&
		    def.warmup != 42 && def.baseline_window != 777);

	/* event_log = - is standard output, stored as "" */
	load_ok("event_log -", "[sensor]\nevent_log = -\n[group a]\nprefix = 10.0.0.0/8\n", &cfg);
	assert_string_equal(cfg.event_log, "");
	assert_string_equal(cfg.on_event, "");
	pw_config_free(&cfg);
}

static void test_defaults(void **state)
{
	struct pw_config cfg;

	(void)state;
	load_ok("defaults", "[group a]\nprefix = 10.0.0.0/8\n", &cfg);
	assert_int_equal(cfg.n_ifaces, 0);
	assert_int_equal(cfg.mode, PW_MODE_AUTO);
	assert_true(cfg.interval == 1.0);
	assert_string_equal(cfg.listen, "127.0.0.1:9473");
	assert_string_equal(cfg.pin_dir, "/sys/fs/bpf/prefixwatch");
	assert_int_equal(cfg.n_groups, 1);
	assert_int_equal(cfg.groups[0].line, 1);
	assert_int_equal(cfg.groups[0].export, PW_EXPORT_PREFIX);
	assert_false(cfg.groups[0].per_prefix);
	pw_config_free(&cfg);

	pw_config_defaults(&cfg);
	assert_int_equal(cfg.mode, PW_MODE_AUTO);
	assert_true(cfg.interval == PW_DEFAULT_INTERVAL);
	assert_string_equal(cfg.listen, PW_DEFAULT_LISTEN);
	assert_string_equal(cfg.pin_dir, PW_DEFAULT_PIN_DIR);
	assert_null(cfg.groups);
	assert_int_equal(cfg.n_groups, 0);
	assert_int_equal(cfg.n_ifaces, 0);
}

static void test_listen_off_and_values(void **state)
{
	struct pw_config cfg;

	(void)state;
	load_ok("off", "[sensor]\nlisten = off\n[group a]\nprefix = 10.0.0.0/8\n", &cfg);
	assert_string_equal(cfg.listen, "");
	pw_config_free(&cfg);
	load_ok("v4", "[sensor]\nlisten = 0.0.0.0:80\ninterval = 60\n[group a]\nprefix = ::/0\n",
		&cfg);
	assert_string_equal(cfg.listen, "0.0.0.0:80");
	assert_true(cfg.interval == 60);
	pw_config_free(&cfg);
	load_ok("min", "[sensor]\ninterval = 0.1\nmode = skb\n[group a]\nprefix = ::/0\n", &cfg);
	assert_true(cfg.interval == 0.1);
	assert_int_equal(cfg.mode, PW_MODE_SKB);
	pw_config_free(&cfg);
}

static void test_bools(void **state)
{
	static const struct {
		const char *text;
		bool value;
	} cases[] = {
		{ "yes", true },  { "true", true },   { "on", true },  { "1", true },
		{ "YES", true },  { "True", true },   { "no", false }, { "false", false },
		{ "off", false }, { "0", false },     { "No", false }, { "OFF", false },
	};
	char text[256];
	struct pw_config cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[group a]\nprefix = 10.0.0.0/8\nper_prefix = %s\n",
			 cases[i].text);
		load_ok(cases[i].text, text, &cfg);
		if (cfg.groups[0].per_prefix != cases[i].value)
			fail_msg("per_prefix = %s read as %d", cases[i].text,
				 cfg.groups[0].per_prefix);
		pw_config_free(&cfg);
	}
}

static void test_crlf(void **state)
{
	struct pw_config cfg;

	(void)state;
	put("nets.txt", "10.2.0.0/16\r\n# c\r\n10.3.0.0/16 # d\r\n", 0);
	load_ok("crlf",
		"[sensor]\r\ninterface = eth0\r\nmode = skb\r\n\r\n[group a]\r\n"
		"prefix = 10.1.0.0/16\r\nprefix_file = nets.txt\r\nexport = group\r\n",
		&cfg);
	assert_int_equal(cfg.n_ifaces, 1);
	assert_string_equal(cfg.ifaces[0], "eth0");
	assert_int_equal(cfg.mode, PW_MODE_SKB);
	assert_int_equal(cfg.groups[0].line, 5);
	assert_int_equal(cfg.groups[0].export, PW_EXPORT_GROUP);
	assert_int_equal(cfg.groups[0].n_prefixes, 3);
	assert_prefix(&cfg.groups[0].prefixes[0], "10.1.0.0/16");
	assert_prefix(&cfg.groups[0].prefixes[1], "10.2.0.0/16");
	assert_prefix(&cfg.groups[0].prefixes[2], "10.3.0.0/16");
	pw_config_free(&cfg);

	/* and the line numbers of errors still count CRLF lines */
	expect_error("crlf error", "[sensor]\r\nmode = skb\r\nbogus = 1\r\n", 3, "unknown key");
}

static void test_inline_comments(void **state)
{
	struct pw_config cfg;

	(void)state;
	load_ok("inline",
		"[sensor] ; the sensor\n"
		"mode = skb ; not native\n"
		"interval = 5\t; seconds\n"
		"[group a] # hash after a header\n"
		"prefix = 10.0.0.0/8 ; ten\n"
		"; prefix = 11.0.0.0/8\n"
		"# prefix = 12.0.0.0/8\n",
		&cfg);
	assert_int_equal(cfg.mode, PW_MODE_SKB);
	assert_true(cfg.interval == 5);
	assert_int_equal(cfg.groups[0].n_prefixes, 1);
	assert_prefix(&cfg.groups[0].prefixes[0], "10.0.0.0/8");
	pw_config_free(&cfg);

	/* '#' after a value starts a comment too, so it never becomes part of a value. */
	load_ok("hash inline", "[sensor]\ninterface = eth0 # uplink\nmode = skb # x\n"
		"[group a]\nprefix = 10.0.0.0/8 # ten\n",
		&cfg);
	assert_int_equal(cfg.n_ifaces, 1);
	assert_string_equal(cfg.ifaces[0], "eth0");
	assert_int_equal(cfg.mode, PW_MODE_SKB);
	pw_config_free(&cfg);
	/* A listen address must be numeric: the daemon does not resolve names. */
	expect_error("listen by name", "[sensor]\nlisten = localhost:9473\n", 2,
		     "listen: 'localhost' is not a numeric address");
}

static void test_bom(void **state)
{
	struct pw_config cfg;

	(void)state;
	/* a UTF-8 byte order mark, as some editors write, before the first header */
	load_ok("BOM", "\xEF\xBB\xBF[sensor]\nmode = skb\n[group a]\nprefix = 10.0.0.0/8\n", &cfg);
	assert_int_equal(cfg.mode, PW_MODE_SKB);
	assert_int_equal(cfg.n_groups, 1);
	pw_config_free(&cfg);
	/* only at the very start */
	expect_error("BOM on line 2", "[sensor]\n\xEF\xBB\xBF[group a]\nprefix = 10.0.0.0/8\n", 2,
		     "syntax error");
}

static void test_dedup(void **state)
{
	struct pw_config cfg;
	size_t v4, v6;

	(void)state;
	put("nets.txt", "10.0.0.0/8\n2001:db8::/32\n10.1.0.0/16\n", 0);
	load_ok("dedup",
		"[group a]\n"
		"prefix = 10.0.0.0/8\n"
		"prefix = 10.0.0.0/08\n"
		"prefix = 2001:0DB8::/32\n"
		"prefix_file = nets.txt\n"
		"prefix_file = nets.txt\n"
		"[group b]\n"
		"prefix = 10.0.0.0/8\n",
		&cfg);
	assert_int_equal(cfg.groups[0].n_prefixes, 3);
	assert_prefix(&cfg.groups[0].prefixes[0], "10.0.0.0/8");
	assert_prefix(&cfg.groups[0].prefixes[1], "10.1.0.0/16");
	assert_prefix(&cfg.groups[0].prefixes[2], "2001:db8::/32");
	assert_int_equal(cfg.groups[1].n_prefixes, 1);
	/* distinct over all groups too */
	pw_config_count(&cfg, &v4, &v6);
	assert_int_equal(v4, 2);
	assert_int_equal(v6, 1);
	pw_config_free(&cfg);
}

static void test_indented_line(void **state)
{
	struct pw_config cfg;

	(void)state;
	/* An indented key is an ordinary key ... */
	load_ok("indented key", "[group a]\nprefix = 10.0.0.0/8\n    prefix = 10.1.0.0/16\n", &cfg);
	assert_int_equal(cfg.groups[0].n_prefixes, 2);
	pw_config_free(&cfg);
	/* ... and an indented value is not the continuation of the previous key. */
	expect_error("continuation", "[group a]\nprefix = 10.0.0.0/8\n    10.1.0.0/16\n", 3,
		     "syntax error");
	expect_error("continuation of a key", "[sensor]\ninterface = eth0\n\teth1\n", 3,
		     "syntax error");
}

static void test_prefix_file_paths(void **state)
{
	char sub[PATH_MAX], path[PATH_MAX], text[PATH_MAX + 64], err[ERRLEN];
	struct pw_config cfg;

	(void)state;
	/* relative to the config's directory, wherever the config is */
	snprintf(sub, sizeof(sub), "%s/etc", dir);
	if (mkdir(sub, 0700) && errno != EEXIST)
		fail_msg("mkdir %s: %s", sub, strerror(errno));
	put("etc/nets.txt", "192.0.2.0/24\n", 0);
	put("etc/pw.conf", "[group a]\nprefix_file = nets.txt\n", 0);
	snprintf(path, sizeof(path), "%s/etc/pw.conf", dir);
	if (pw_config_load(path, &cfg, err, sizeof(err)))
		fail_msg("relative in a subdirectory: %s", err);
	assert_int_equal(cfg.groups[0].n_prefixes, 1);
	assert_prefix(&cfg.groups[0].prefixes[0], "192.0.2.0/24");
	pw_config_free(&cfg);

	/* absolute */
	snprintf(text, sizeof(text), "[group a]\nprefix_file = %s/etc/nets.txt\n", dir);
	load_ok("absolute", text, &cfg);
	assert_int_equal(cfg.groups[0].n_prefixes, 1);
	pw_config_free(&cfg);

	/* missing: names the resolved path and the reason */
	expect_error_n("missing", "[sensor]\n[group a]\nprefix_file = absent.txt\n", 0, 3,
		       "prefix_file: cannot open ", err);
	snprintf(path, sizeof(path), "cannot open %s/absent.txt: %s", dir, strerror(ENOENT));
	if (!strstr(err, path))
		fail_msg("error '%s' lacks '%s'", err, path);

	/* a directory opens but cannot be read */
	expect_error_n("directory", "[group a]\nprefix_file = etc\n", 0, 2,
		       "prefix_file: cannot read ", err);

	expect_error("empty path", "[group a]\nprefix_file =\n", 2, "prefix_file: empty path");

	/* only comments: the group has no prefix (named at its header) */
	put("nets.txt", "# nothing yet\n\n   \n", 0);
	expect_error("empty file", "[sensor]\n[group a]\nprefix_file = nets.txt\n", 2,
		     "[group a] has no prefix");
}

/* ---- errors ---- */

struct bad {
	const char *desc;
	const char *conf;
	int line;
	const char *want; /* must appear after "file:line: " */
};

static const struct bad bads[] = {
	{ "unknown key in sensor", "[sensor]\nmode = auto\nspeed = 10\n", 3,
	  "unknown key 'speed' in [sensor] (known: interface, mode, interval, listen, pin_dir" },
	{ "unknown key in group", "[group a]\nprefix = 10.0.0.0/8\nprefixes = 10.1.0.0/16\n", 3,
	  "unknown key 'prefixes' in [group] (known: prefix, prefix_file, export, per_prefix" },
	{ "sensor key in group", "[group a]\nprefix = 10.0.0.0/8\nmode = skb\n", 3,
	  "unknown key 'mode' in [group]" },
	{ "group key in sensor", "[sensor]\nprefix = 10.0.0.0/8\n", 2,
	  "unknown key 'prefix' in [sensor]" },
	{ "key with ':'", "[sensor]\nmode: skb\ncolour = red\n", 3, "unknown key 'colour'" },
	{ "unknown section", "[sensor]\n\n[sensors]\n", 3,
	  "unknown section [sensors] (known: [sensor], [group NAME])" },
	{ "groupx", "[groupx]\n", 1, "unknown section [groupx]" },
	{ "group without name", "[group a]\nprefix = 10.0.0.0/8\n[group]\n", 3,
	  "[group] needs a name" },
	{ "group with blank name", "[sensor]\n[group   ]\n", 2, "[group] needs a name" },
	{ "bad group name", "[sensor]\n[group a/b]\n", 2,
	  "group name 'a/b' must be 1 to 64 of A-Z a-z 0-9 _ . -" },
	{ "group name with a space", "[group a b]\n", 1, "group name 'a b' must be" },
	{ "unicode group name", "# café\n[group caf\xc3\xa9]\n", 2,
	  "group name 'caf\xc3\xa9' must be" },
	{ "duplicate sensor", "[sensor]\nmode = auto\n[sensor]\n", 3, "[sensor] appears twice" },
	{ "duplicate group",
	  "[group a]\nprefix = 10.0.0.0/8\n[group b]\nprefix = 10.1.0.0/16\n[group a]\n", 5,
	  "[group a] appears twice" },
	{ "key twice", "[sensor]\nmode = auto\ninterval = 1\nmode = skb\n", 4,
	  "'mode' is set twice in this section" },
	{ "interface twice", "[sensor]\ninterface = eth0\ninterface = eth1\n", 3,
	  "'interface' is set twice" },
	{ "export twice", "[group a]\nprefix = 10.0.0.0/8\nexport = group\nexport = group\n", 4,
	  "'export' is set twice in this section" },
	{ "per_prefix twice", "[group a]\nprefix = 10.0.0.0/8\nper_prefix = no\nper_prefix = no\n",
	  4, "'per_prefix' is set twice" },
	{ "key outside any section", "mode = auto\n", 1,
	  "'mode' is outside any section (start with [sensor] or [group NAME])" },
	{ "key after comments", "; c\n\n# c\nprefix = 10.0.0.0/8\n[group a]\n", 4,
	  "'prefix' is outside any section" },
	{ "bad bool", "[group a]\nprefix = 10.0.0.0/8\nper_prefix = maybe\n", 3,
	  "per_prefix: 'maybe' is not a boolean (use yes or no)" },
	{ "empty bool", "[group a]\nper_prefix =\n", 2, "per_prefix: '' is not a boolean" },
	{ "bad number", "[sensor]\ninterval = fast\n", 2, "interval: 'fast' is not a number" },
	{ "number with unit", "[sensor]\ninterval = 1s\n", 2, "interval: '1s' is not a number" },
	{ "empty number", "[sensor]\ninterval =\n", 2, "interval: '' is not a number" },
	{ "nan", "[sensor]\ninterval = nan\n", 2, "interval: 'nan' is not a number" },
	{ "interval too small", "[sensor]\ninterval = 0.05\n", 2,
	  "interval: 0.05 is out of range (0.1 to 60)" },
	{ "interval too large", "[sensor]\ninterval = 61\n", 2,
	  "interval: 61 is out of range (0.1 to 60)" },
	{ "interval zero", "[sensor]\ninterval = 0\n", 2, "interval: 0 is out of range" },
	{ "interval negative", "[sensor]\ninterval = -1\n", 2, "interval: -1 is out of range" },
	{ "interval infinite", "[sensor]\ninterval = inf\n", 2, "interval: inf is out of range" },
	{ "bad mode", "[sensor]\nmode = generic\n", 2,
	  "mode: 'generic' is not one of auto, native, skb" },
	{ "mode is case sensitive", "[sensor]\nmode = Native\n", 2, "mode: 'Native' is not one" },
	{ "listen without port", "[sensor]\nlisten = 127.0.0.1\n", 2,
	  "listen: '127.0.0.1' is not HOST:PORT, [IPV6]:PORT or off" },
	{ "listen bare v6", "[sensor]\nlisten = ::1:9473\n", 2, "listen: '::1:9473' is not" },
	{ "listen port 0", "[sensor]\nlisten = 127.0.0.1:0\n", 2, "listen: '127.0.0.1:0' is not" },
	{ "listen port too big", "[sensor]\nlisten = 127.0.0.1:65536\n", 2,
	  "listen: '127.0.0.1:65536' is not" },
	{ "listen too long",
	  "[sensor]\nlisten = "
	  "h123456789012345678901234567890123456789012345678901234567890123456789012345678901"
	  "23456789012345678901234567890123456789012345678901234567890:80\n",
	  2, "listen: 'h123456789" },
	{ "relative pin_dir", "[sensor]\npin_dir = bpf/pw\n", 2,
	  "pin_dir: 'bpf/pw' must be an absolute path" },
	{ "empty pin_dir", "[sensor]\npin_dir =\n", 2, "pin_dir: '' must be an absolute path" },
	{ "interface with ':'", "[sensor]\ninterface = eth0, eth0:1\n", 2,
	  "interface: 'eth0:1' is not a valid interface name" },
	{ "interface with '/'", "[sensor]\ninterface = a/b\n", 2,
	  "interface: 'a/b' is not a valid" },
	{ "interface of 16", "[sensor]\ninterface = abcdefghijklmnop\n", 2,
	  "interface: 'abcdefghijklmnop' is not a valid interface name" },
	{ "interface with DEL", "[sensor]\ninterface = eth\x7f\n", 2, "is not a valid interface" },
	{ "duplicate interface", "[sensor]\ninterface = eth0 eth1,eth0\n", 2,
	  "interface: 'eth0' is listed twice" },
	{ "host bits", "[sensor]\n[group a]\nprefix = 10.0.0.1/8\n", 3,
	  "prefix: '10.0.0.1/8' has host bits set (did you mean 10.0.0.0/8?)" },
	{ "v6 host bits", "[group a]\nprefix = 2001:db8::1/32\n", 2,
	  "prefix: '2001:db8::1/32' has host bits set (did you mean 2001:db8::/32?)" },
	/* only the first host bit set: a check starting one bit late accepts these */
	{ "first host bit /8", "[group a]\nprefix = 10.128.0.0/8\n", 2,
	  "prefix: '10.128.0.0/8' has host bits set (did you mean 10.0.0.0/8?)" },
	{ "first host bit /24", "[group a]\nprefix = 192.0.2.128/24\n", 2,
	  "prefix: '192.0.2.128/24' has host bits set (did you mean 192.0.2.0/24?)" },
	{ "first host bit /31", "[group a]\nprefix = 192.0.2.1/31\n", 2,
	  "prefix: '192.0.2.1/31' has host bits set (did you mean 192.0.2.0/31?)" },
	{ "first host bit /0", "[group a]\nprefix = 128.0.0.0/0\n", 2,
	  "prefix: '128.0.0.0/0' has host bits set (did you mean 0.0.0.0/0?)" },
	{ "v6 first host bit /32", "[group a]\nprefix = 2001:db8:8000::/32\n", 2,
	  "prefix: '2001:db8:8000::/32' has host bits set (did you mean 2001:db8::/32?)" },
	{ "v6 first host bit /64", "[group a]\nprefix = 2001:db8:0:1:8000::/64\n", 2,
	  "prefix: '2001:db8:0:1:8000::/64' has host bits set (did you mean 2001:db8:0:1::/64?)" },
	{ "v6 first host bit /127", "[group a]\nprefix = 2001:db8::1/127\n", 2,
	  "prefix: '2001:db8::1/127' has host bits set (did you mean 2001:db8::/127?)" },
	{ "prefix without length", "[group a]\nprefix = 10.0.0.0\n", 2,
	  "prefix: '10.0.0.0' is not a prefix: missing '/length'" },
	{ "empty prefix", "[group a]\nprefix =\n", 2, "prefix: empty prefix" },
	{ "bad export", "[group a]\nprefix = 10.0.0.0/8\nexport = both\n", 3,
	  "export: 'both' is not one of prefix, group" },
	{ "header without ]", "[sensor]\nmode = skb\n[group a\n", 3, "section header without ']'" },
	{ "text after header", "[sensor] mode = skb\n", 1, "text after section header" },
	{ "syntax error", "[sensor]\nmode = skb\nmode skb\n", 3,
	  "syntax error: expected 'key = value' or '[section]'" },
	{ "lone word in group", "[group a]\nprefix = 10.0.0.0/8\n\n10.1.0.0/16\n", 4,
	  "syntax error" },
	{ "no group at all", "[sensor]\nmode = skb\n\n", 3,
	  "no [group NAME] section: nothing to watch" },
	{ "group with no prefix",
	  "[sensor]\n\n[group a]\nprefix = 10.0.0.0/8\n\n[group empty]\nexport = group\n"
	  "[group c]\nprefix = 10.0.0.0/8\n",
	  6, "[group empty] has no prefix (add prefix = CIDR)" },
	{ "first error wins", "[sensor]\nmode = bad\ninterval = bad\n[bad]\n", 2, "mode: 'bad'" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		expect_error(bads[i].desc, bads[i].conf, bads[i].line, bads[i].want);
}

/* Errors inside a prefix file name the config line and the prefix file's own line. */
/* A literal and its length, NUL bytes included. */
#define BYTES(s) s, sizeof(s) - 1

struct bad_file {
	const char *desc;
	const char *data;
	size_t len; /* of data, 0 for strlen */
	int line;   /* in nets.txt */
	const char *want;
};

static const struct bad_file bad_files[] = {
	{ "host bits", "10.0.0.0/8\n# comment\n\n10.1.0.1/16\n", 0, 4,
	  "'10.1.0.1/16' has host bits set" },
	{ "first host bit", "10.0.0.0/8\n10.1.64.0/17\n", 0, 2,
	  "'10.1.64.0/17' has host bits set" },
	{ "two on a line", "10.0.0.0/8 10.1.0.0/16\n", 0, 1, "prefix length must be a number" },
	{ "not an address", "\n\nten/8 # ten\n", 0, 3, "'ten' is not a valid IPv4 address" },
	{ "semicolon comment", "10.0.0.0/8 ; ten\n", 0, 1, "prefix length must be a number" },
	{ "NUL byte", BYTES("10.0.0.0/8\n10.1\0.0.0/16\n"), 2, "NUL byte in line" },
};

static void test_prefix_file_errors(void **state)
{
	const char *conf = "[sensor]\n[group a]\nprefix = 192.0.2.0/24\nprefix_file = nets.txt\n";
	char err[ERRLEN], want[PATH_MAX + 64];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		put("nets.txt", bad_files[i].data, bad_files[i].len);
		expect_error_n(bad_files[i].desc, conf, 0, 4, "prefix_file: ", err);
		snprintf(want, sizeof(want), "prefix_file: %s/nets.txt:%d: ", dir,
			 bad_files[i].line);
		if (!strstr(err, want) || !strstr(strstr(err, want), bad_files[i].want))
			fail_msg("%s: error '%s' lacks '%s' then '%s'", bad_files[i].desc, err,
				 want, bad_files[i].want);
	}
}

static void test_nul_in_config(void **state)
{
	static const char text[] = "[sensor]\nmode = skb\ninter\0val = 1\n[group a]\n";
	char err[ERRLEN];

	(void)state;
	expect_error_n("NUL", text, sizeof(text) - 1, 3, "NUL byte in line", err);
	/* also on a comment line, which inih would otherwise skip */
	expect_error_n("NUL in comment", BYTES("# a\0b\n"), 1, "NUL byte in line", err);
}

static void test_cannot_open(void **state)
{
	char path[PATH_MAX], want[PATH_MAX + 64], err[ERRLEN];
	struct pw_config cfg;

	(void)state;
	snprintf(path, sizeof(path), "%s/none.conf", dir);
	assert_int_equal(pw_config_load(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: cannot open: %s", path, strerror(ENOENT));
	assert_string_equal(err, want);
	assert_null(cfg.groups);

	assert_int_equal(pw_config_load(dir, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: cannot read: %s", dir, strerror(EISDIR));
	assert_string_equal(err, want);
	assert_null(cfg.groups);
}

/* A string of @n copies of @c, from a static buffer big enough for any line here. */
static char *repeat(char c, size_t n)
{
	static char buf[2][MAX_LINE * 2];
	static int which;
	char *b = buf[which ^= 1];

	assert_true(n < sizeof(buf[0]));
	memset(b, c, n);
	b[n] = '\0';
	return b;
}

static void test_long_lines(void **state)
{
	char *text = malloc(4 * MAX_LINE), err[ERRLEN], want[PATH_MAX + 64];
	struct pw_config cfg;
	size_t off;

	(void)state;
	assert_non_null(text);

	/* exactly the limit, newline excluded, with LF and with CRLF */
	snprintf(text, 4 * MAX_LINE, "[group a]\n#%s\nprefix = 10.0.0.0/8\n#%s\r\n",
		 repeat('x', MAX_LINE - 1), repeat('y', MAX_LINE - 1));
	load_ok("4096 characters", text, &cfg);
	pw_config_free(&cfg);

	/* one more */
	snprintf(text, 4 * MAX_LINE, "[group a]\nprefix = 10.0.0.0/8\n#%s\n",
		 repeat('x', MAX_LINE));
	expect_error_n("4097 characters", text, 0, 3, "line longer than 4096 characters", err);

	/* a long value well within the limit: 64 interfaces of 15 characters */
	off = (size_t)snprintf(text, 4 * MAX_LINE, "[sensor]\ninterface =");
	for (int i = 0; i < PW_MAX_INTERFACES; i++)
		off += (size_t)snprintf(text + off, 4 * MAX_LINE - off, " veth-abcdef%04d", i);
	snprintf(text + off, 4 * MAX_LINE - off, "\n[group a]\nprefix = 10.0.0.0/8\n");
#ifndef PW_HAVE_INIH_RUNTIME_OPTS
	/*
	 * Built against a libinih without run-time options (tests/e2e/test_build.sh):
	 * lines longer than the library's buffer (200 by default) are refused, saying why.
	 */
	expect_error_n("64 interfaces, upstream inih", text, 0, 2,
		       "the most this build's libinih takes", err);
	free(text);
	return;
#endif
	load_ok("64 interfaces", text, &cfg);
	assert_int_equal(cfg.n_ifaces, PW_MAX_INTERFACES);
	assert_string_equal(cfg.ifaces[0], "veth-abcdef0000");
	assert_string_equal(cfg.ifaces[63], "veth-abcdef0063");
	pw_config_free(&cfg);

	/* one interface too many */
	off = (size_t)snprintf(text, 4 * MAX_LINE, "[sensor]\n\ninterface =");
	for (int i = 0; i <= PW_MAX_INTERFACES; i++)
		off += (size_t)snprintf(text + off, 4 * MAX_LINE - off, " e%d", i);
	snprintf(text + off, 4 * MAX_LINE - off, "\n[group a]\nprefix = 10.0.0.0/8\n");
	expect_error_n("65 interfaces", text, 0, 3, "interface: more than 64 interfaces", err);

	/* group names: 64 characters are fine, 65 are not */
	snprintf(text, 4 * MAX_LINE, "[group %s]\nprefix = 10.0.0.0/8\n",
		 repeat('g', PW_GROUP_NAME_MAX));
	load_ok("64-character group name", text, &cfg);
	assert_int_equal(strlen(cfg.groups[0].name), PW_GROUP_NAME_MAX);
	pw_config_free(&cfg);
	snprintf(text, 4 * MAX_LINE, "[sensor]\n[group %s]\nprefix = 10.0.0.0/8\n",
		 repeat('g', PW_GROUP_NAME_MAX + 1));
	expect_error_n("65-character group name", text, 0, 2, "must be 1 to 64", err);

	/* a pin_dir too long to hold the map names */
	snprintf(text, 4 * MAX_LINE, "[sensor]\npin_dir = /%s\n", repeat('p', PATH_MAX - 26));
	expect_error_n("long pin_dir", text, 0, 2, "must be an absolute path", err);

	/* a relative prefix_file that does not fit in a path once joined to the directory */
	snprintf(text, 4 * MAX_LINE, "[group a]\nprefix_file = %s\n",
		 repeat('f', MAX_LINE - 20));
	expect_error_n("long prefix_file", text, 0, 2, "prefix_file: path too long", err);

	/* prefix files have the same limit */
	snprintf(text, 4 * MAX_LINE, "10.0.0.0/8\n#%s\n", repeat('x', MAX_LINE - 1));
	put("nets.txt", text, 0);
	load_ok("4096 in a prefix file", "[group a]\nprefix_file = nets.txt\n", &cfg);
	assert_int_equal(cfg.groups[0].n_prefixes, 1);
	pw_config_free(&cfg);
	snprintf(text, 4 * MAX_LINE, "10.0.0.0/8\n#%s\n", repeat('x', MAX_LINE));
	put("nets.txt", text, 0);
	expect_error_n("4097 in a prefix file", "[group a]\nprefix_file = nets.txt\n", 0, 2,
		       "prefix_file: ", err);
	snprintf(want, sizeof(want), "%s/nets.txt:2: line longer than 4096 characters", dir);
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s'", err, want);
	free(text);
}

/* ---- the small parsers ---- */

static void test_mode_parse(void **state)
{
	static const struct {
		const char *text;
		int ret;
		enum pw_attach_mode mode;
	} cases[] = {
		{ "auto", 0, PW_MODE_AUTO },	{ "native", 0, PW_MODE_NATIVE },
		{ "skb", 0, PW_MODE_SKB },	{ "", -1, PW_MODE_AUTO },
		{ "SKB", -1, PW_MODE_AUTO },	{ "generic", -1, PW_MODE_AUTO },
		{ "native ", -1, PW_MODE_AUTO }, { "drv", -1, PW_MODE_AUTO },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum pw_attach_mode mode = (enum pw_attach_mode)-1;

		if (pw_mode_parse(cases[i].text, &mode) != cases[i].ret)
			fail_msg("'%s': expected %d", cases[i].text, cases[i].ret);
		if (cases[i].ret == 0) {
			assert_int_equal(mode, cases[i].mode);
			assert_string_equal(pw_mode_name(mode), cases[i].text);
		} else {
			assert_int_equal(mode, (enum pw_attach_mode)-1); /* untouched */
		}
	}
}

static void test_listen_parse(void **state)
{
	static const struct {
		const char *text;
		const char *host; /* NULL: refused */
		unsigned int port;
	} cases[] = {
		{ "127.0.0.1:9473", "127.0.0.1", 9473 },
		{ "0.0.0.0:1", "0.0.0.0", 1 },
		{ "localhost:65535", "localhost", 65535 },
		{ "[::1]:80", "::1", 80 },
		{ "[2001:db8::1]:9100", "2001:db8::1", 9100 },
		{ "127.0.0.1", NULL, 0 },
		{ ":80", NULL, 0 },
		{ "127.0.0.1:", NULL, 0 },
		{ "127.0.0.1:0", NULL, 0 },
		{ "127.0.0.1:65536", NULL, 0 },
		{ "127.0.0.1:-1", NULL, 0 },
		{ "127.0.0.1:80x", NULL, 0 },
		{ "127.0.0.1:99999999999999999999", NULL, 0 },
		{ "::1:80", NULL, 0 },
		{ "[::1]80", NULL, 0 },
		{ "[::1]", NULL, 0 },
		{ "[::1:80", NULL, 0 },
		{ "[]:80", NULL, 0 },
		{ "", NULL, 0 },
		{ "off", NULL, 0 },
	};
	char host[64];
	unsigned int port;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret;

		port = 7;
		ret = pw_listen_parse(cases[i].text, host, sizeof(host), &port);
		if (!cases[i].host) {
			if (ret != -1)
				fail_msg("'%s' was accepted", cases[i].text);
			assert_int_equal(port, 7);
			continue;
		}
		if (ret)
			fail_msg("'%s' was refused", cases[i].text);
		assert_string_equal(host, cases[i].host);
		assert_int_equal(port, cases[i].port);
	}

	/* a host that does not fit the caller's buffer is refused, not cut */
	assert_int_equal(pw_listen_parse("abcdefgh:80", host, 8, &port), -1);
	assert_int_equal(pw_listen_parse("abcdefg:80", host, 8, &port), 0);
	assert_string_equal(host, "abcdefg");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_listen_off_and_values),
		cmocka_unit_test(test_bools),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_inline_comments),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_indented_line),
		cmocka_unit_test(test_prefix_file_paths),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_prefix_file_errors),
		cmocka_unit_test(test_nul_in_config),
		cmocka_unit_test(test_cannot_open),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_mode_parse),
		cmocka_unit_test(test_listen_parse),
	};

	return cmocka_run_group_tests_name("config", tests, make_dir, remove_dir);
}
