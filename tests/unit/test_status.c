// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_status.c - the status page's state and its renderings (user/status.c): the order
 * and paging of groups, alarms from events and their start events, the bounded history
 * and its means, groups kept by name through a reload, escaping; and the web config
 * (user/webcfg.c): what it accepts, its errors (file:line), bcrypt checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "status.h"
#include "webcfg.h"

#define T0 1800000000.0

/* A poller and detectors with just what pw_status_update reads. */
struct fix {
	struct pw_group cfg[200];
	struct pw_gview gv[200];
	struct pw_watch_item items[200];
	struct pw_poller pl;
	struct pw_watch w;
	struct pw_status st;
	struct pw_iface_state ifs[2];
};

static struct fix *fix_new(size_t n, const char *const *names, const double *pps)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	for (size_t i = 0; i < n; i++) {
		if (names)
			snprintf(f->cfg[i].name, sizeof(f->cfg[i].name), "%s", names[i]);
		else
			snprintf(f->cfg[i].name, sizeof(f->cfg[i].name), "g%03zu", i);
		f->gv[i].cfg = &f->cfg[i];
		f->gv[i].rate.pps = pps ? pps[i] : (double)i;
		f->gv[i].rate.bps = f->gv[i].rate.pps * 800;
		snprintf(f->items[i].group, sizeof(f->items[i].group), "%s", f->cfg[i].name);
		f->items[i].gidx = i;
		f->items[i].det.base_pps = 10.0 * (double)(i + 1);
		f->items[i].det.base_bps = 8000.0 * (double)(i + 1);
	}
	f->pl.g = f->gv;
	f->pl.n_groups = n;
	f->w.items = f->items;
	f->w.n = n;
	snprintf(f->ifs[0].name, sizeof(f->ifs[0].name), "eth0");
	f->ifs[0].attached = true;
	f->ifs[0].mode = "native";
	snprintf(f->ifs[1].name, sizeof(f->ifs[1].name), "x\"<y>");
	pw_status_init(&f->st, T0, NULL, NULL);
	return f;
}

static void fix_free(struct fix *f)
{
	pw_status_free(&f->st);
	free(f);
}

static void update(struct fix *f, double now)
{
	pw_status_update(&f->st, &f->pl, &f->w, f->ifs, 2, 0.001, 1.0, now);
}

static char *render(struct fix *f, enum pw_status_format fmt, unsigned long page,
		    unsigned long per_page)
{
	struct pw_status_query q = { .format = fmt, .page = page, .per_page = per_page };
	struct pw_buf b = { 0 };

	pw_status_render(&f->st, &q, T0 + 100, &b);
	assert_false(b.oom);
	assert_non_null(b.data);
	return b.data;
}

static void event(struct fix *f, size_t g, enum pw_alarm_kind kind, bool start, double t)
{
	struct pw_event ev = { .kind = kind, .start = start, .time = t, .pps = 5000,
			       .bps = 4e6, .baseline_pps = 100, .baseline_bps = 8e4 };

	pw_status_sink(&f->st, &f->items[g], &ev);
}

/* The order of "name" values in a JSON rendering, joined by spaces. */
static void names(const char *json, char *out, size_t len)
{
	const char *p = strstr(json, "\"groups\":[");

	out[0] = '\0';
	assert_non_null(p);
	while ((p = strstr(p, "{\"name\":\""))) {
		const char *e;

		p += 9;
		e = strchr(p, '"');
		snprintf(out + strlen(out), len - strlen(out), "%s%.*s", out[0] ? " " : "",
			 (int)(e - p), p);
	}
}

static void test_json_fields_and_order(void **state)
{
	static const char *const n[] = { "low", "high", "mid" };
	static const double pps[] = { 1, 300, 20 };
	struct fix *f = fix_new(3, n, pps);
	char order[256], *j;

	update(f, T0 + 1);
	j = render(f, PW_STATUS_JSON, 1, 50);
	names(j, order, sizeof(order));
	assert_string_equal(order, "high mid low");
	assert_non_null(strstr(j, "{\"version\":\""));
	assert_non_null(strstr(j, "\"interfaces\":[{\"name\":\"eth0\",\"attached\":true,\"mode\":\"native\"},"
				  "{\"name\":\"x\\\"<y>\",\"attached\":false,\"mode\":null}]"));
	/* high is group 1: baseline 20 pps and 16000 bit/s, 300 pps and 240000 bit/s */
	assert_non_null(strstr(j, "{\"name\":\"high\",\"pps\":300,\"bps\":240000,\"baseline_pps\":20,"
				  "\"baseline_bps\":16000,\"history_pps\":[300],\"alarms\":[]"));
	assert_non_null(strstr(j, "\"total_groups\":3,\"groups_in_alarm\":0,\"page\":1,"
				  "\"per_page\":50,\"pages\":1"));
	assert_non_null(strstr(j, "\"uptime_seconds\":100.000"));
	assert_non_null(strstr(j, "\"events\":[]}"));
	free(j);

	/* an alarm puts its group first, whatever its rate */
	event(f, 0, PW_ALARM_LOSS, true, T0 + 2);
	j = render(f, PW_STATUS_JSON, 1, 50);
	names(j, order, sizeof(order));
	assert_string_equal(order, "low high mid");
	assert_non_null(strstr(j, "\"groups_in_alarm\":1"));
	assert_non_null(strstr(j, "\"alarms\":[{\"kind\":\"loss\",\"since\":1800000002.000,"
				  "\"start_event\":{\"time\":1800000002.000,\"group\":\"low\","
				  "\"kind\":\"loss\",\"state\":\"start\""));
	assert_non_null(strstr(j, "\"events\":[{\"time\":1800000002.000,\"group\":\"low\""));
	free(j);

	/* its end clears it; both events are listed, newest first */
	event(f, 0, PW_ALARM_LOSS, false, T0 + 3);
	j = render(f, PW_STATUS_JSON, 1, 50);
	names(j, order, sizeof(order));
	assert_string_equal(order, "high mid low");
	assert_non_null(strstr(j, "\"groups_in_alarm\":0"));
	assert_non_null(strstr(j, "\"events\":[{\"time\":1800000003.000,\"group\":\"low\","
				  "\"kind\":\"loss\",\"state\":\"end\""));
	assert_non_null(strstr(j, "\"state\":\"end\",\"pps\":5000,\"bps\":4000000,\"baseline_pps\":100,"
				  "\"baseline_bps\":80000},{\"time\":1800000002.000"));
	free(j);
	fix_free(f);
}

static void test_paging(void **state)
{
	struct fix *f = fix_new(120, NULL, NULL);
	char order[4096], *j;

	update(f, T0 + 1);
	/* rates 0..119: page 3 of 50 holds ranks 101..120, the rates 19 down to 0 */
	j = render(f, PW_STATUS_JSON, 3, 50);
	names(j, order, sizeof(order));
	assert_string_equal(order, "g019 g018 g017 g016 g015 g014 g013 g012 g011 g010 "
				   "g009 g008 g007 g006 g005 g004 g003 g002 g001 g000");
	assert_non_null(strstr(j, "\"page\":3,\"per_page\":50,\"pages\":3"));
	free(j);
	j = render(f, PW_STATUS_JSON, 4, 50);
	assert_non_null(strstr(j, "\"groups\":[]"));
	free(j);
	/* the HTML page: 50 rows, links to the neighbours */
	j = render(f, PW_STATUS_HTML, 2, 50);
	{
		size_t rows = 0;

		for (const char *p = j; (p = strstr(p, "<td class=\"name\">")); p++)
			rows++;
		assert_int_equal(rows, 50);
	}
	assert_non_null(strstr(j, "<td class=\"name\">g069</td>"));
	assert_null(strstr(j, "<td class=\"name\">g070</td>"));
	assert_non_null(strstr(j, "href=\"/?page=1&amp;per_page=50\""));
	assert_non_null(strstr(j, "href=\"/?page=3&amp;per_page=50\""));
	assert_non_null(strstr(j, "page 2 of 3"));
	free(j);
	fix_free(f);
}

/* 10 s buckets, each the mean of its samples; at most PW_STATUS_POINTS kept. */
static void test_history(void **state)
{
	struct fix *f = fix_new(1, NULL, NULL);
	struct pw_status_group *g;

	for (int t = 0; t < 30; t++) {
		f->gv[0].rate.pps = t; /* buckets: 0..9, 10..19, 20..29 */
		update(f, T0 + t);
	}
	g = &f->st.g[0];
	assert_int_equal(g->n, 2);
	assert_true(g->hist_pps[0] == 4.5f);
	assert_true(g->hist_pps[1] == 14.5f);
	assert_int_equal(g->bucket_count, 10);
	for (int t = 30; t < 3000; t++)
		update(f, T0 + t);
	assert_int_equal(g->n, PW_STATUS_POINTS);
	/* a gap longer than the history starts it again */
	update(f, T0 + 3000 + 2000);
	assert_int_equal(g->n, 0);
	assert_int_equal(g->bucket_count, 1);
	fix_free(f);
}

/* A reload keeps, by name, a group's history and alarms; a removed group's go. */
static void test_regroup(void **state)
{
	static const char *const n[] = { "a", "b", "c" };
	struct fix *f = fix_new(3, n, NULL);

	for (int t = 0; t < 25; t++)
		update(f, T0 + t);
	event(f, 1, PW_ALARM_FLOOD, true, T0 + 20);
	event(f, 2, PW_ALARM_FLOOD, true, T0 + 21);
	/* the new config: c, then new, in that order; a and b gone */
	snprintf(f->cfg[0].name, sizeof(f->cfg[0].name), "c");
	snprintf(f->cfg[1].name, sizeof(f->cfg[1].name), "new");
	f->pl.n_groups = 2;
	f->w.n = 2;
	update(f, T0 + 26);
	assert_int_equal(f->st.n, 2);
	assert_string_equal(f->st.g[0].name, "c");
	assert_int_equal(f->st.g[0].n, 2);
	assert_int_equal(f->st.g[0].n_alarms, 1);
	assert_string_equal(f->st.g[1].name, "new");
	assert_int_equal(f->st.g[1].n, 0);
	assert_int_equal(f->st.g[1].n_alarms, 0);
	fix_free(f);
}

/* An event for a group not yet seen by an update (a reload's first poll) is kept. */
static void test_event_before_update(void **state)
{
	struct fix *f = fix_new(1, NULL, NULL);

	event(f, 0, PW_ALARM_FLOOD, true, T0);
	assert_int_equal(f->st.n, 1);
	assert_int_equal(f->st.g[0].n_alarms, 1);
	update(f, T0 + 1);
	assert_int_equal(f->st.n, 1);
	assert_int_equal(f->st.g[0].n_alarms, 1);
	fix_free(f);
}

/* An alarm restored from state_dir (no start event) is shown, from when it started. */
static void test_restored_alarm(void **state)
{
	struct fix *f = fix_new(1, NULL, NULL);
	char *j;

	f->items[0].det.age = 100;
	f->items[0].det.alarm[PW_ALARM_LOSS] = true;
	f->items[0].det.alarm_since[PW_ALARM_LOSS] = 40; /* 60 s of data ago */
	update(f, T0 + 10);
	assert_int_equal(f->st.g[0].n_alarms, 1);
	j = render(f, PW_STATUS_JSON, 1, 50);
	assert_non_null(strstr(j, "\"alarms\":[{\"kind\":\"loss\",\"since\":1799999950.000,"
				  "\"start_event\":null}]"));
	free(j);
	/* taken once: the next update does not add it again */
	update(f, T0 + 11);
	assert_int_equal(f->st.g[0].n_alarms, 1);
	/* its end event clears it */
	event(f, 0, PW_ALARM_LOSS, false, T0 + 12);
	assert_int_equal(f->st.g[0].n_alarms, 0);
	fix_free(f);
}

static void test_html(void **state)
{
	static const char *const n[] = { "quiet", "flooded" };
	static const double pps[] = { 0, 1234567 };
	struct fix *f = fix_new(2, n, pps);
	char *h;

	update(f, T0 + 1);
	update(f, T0 + 11);
	event(f, 1, PW_ALARM_FLOOD, true, T0 + 5);
	h = render(f, PW_STATUS_HTML, 1, 50);
	assert_non_null(strstr(h, "<meta http-equiv=\"refresh\" content=\"5\">"));
	assert_non_null(strstr(h, "<title>prefixwatch - ALARM</title>"));
	assert_non_null(strstr(h, "eth0 <span class=\"ok\">XDP native</span>"));
	assert_non_null(strstr(h, "x&quot;&lt;y&gt; <span class=\"kind\">not attached</span>"));
	/* flooded first, in alarm, 1234567 pps shown as 1.23M */
	assert_non_null(strstr(h, "<tr class=\"alarm\"><td class=\"name\">flooded</td>"
				  "<td class=\"num\">1.23M</td>"));
	assert_non_null(strstr(h, "<span class=\"kind flood\">flood</span> since 08:00:05Z"));
	/* the start event's fields beyond those the row shows */
	assert_non_null(strstr(h, "at its start: <span class=\"dim\">pps</span> 5k &middot; "
				  "<span class=\"dim\">bps</span> 4M"));
	assert_non_null(strstr(h, "<tr><td class=\"name\">quiet</td>"));
	/* a sparkline per group: flooded has one closed bucket and the open one */
	assert_non_null(strstr(h, "<polyline points=\"178.0,2.0 180.0,2.0\"/>"));
	/* nothing from elsewhere, no script */
	assert_null(strstr(h, "<script"));
	assert_null(strstr(h, "src="));
	assert_non_null(strstr(h, "</html>\n"));
	free(h);
	fix_free(f);
}

static void test_text(void **state)
{
	static const char *const n[] = { "kp" };
	struct fix *f = fix_new(1, n, NULL);
	char *t;

	update(f, T0 + 1);
	event(f, 0, PW_ALARM_LOSS, true, T0 + 1);
	t = render(f, PW_STATUS_TEXT, 1, 50);
	assert_non_null(strstr(t, "interfaces: eth0 (native) x\"<y> (not attached)\n"));
	assert_non_null(strstr(t, "groups: 1, 1 in alarm\n"));
	assert_non_null(strstr(t, "GROUP                           PPS        BPS   BASE PPS   BASE BPS  ALARMS\n"));
	assert_non_null(strstr(t, "\nkp                                0          0         10         8k  loss since 08:00:01Z\n"));
	assert_non_null(strstr(t, "  2027-01-15 08:00:01Z  kp  loss start  pps 5k  baseline 100\n"));
	free(t);
	fix_free(f);
}

/* ---- web config ---- */

static char dir[64];

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Load @text as web.yml: the error, or "" when it loads. */
static const char *web(const char *text, struct pw_web **out)
{
	static char err[512];
	char path[128];
	struct pw_web *w = NULL;

	write_file("web.yml", text);
	snprintf(path, sizeof(path), "%s/web.yml", dir);
	err[0] = '\0';
	if (pw_web_load(path, &w, err, sizeof(err)) == 0) {
		if (out)
			*out = w;
		else
			pw_web_free(w);
		return "";
	}
	/* drop the directory: the errors are compared without it */
	return strstr(err, "web.yml") ? strstr(err, "web.yml") : err;
}

#define HASH "$2b$04$abcdefghijklmnopqrstuuLZYjhNQAOdpbzt4WxWlUHjv1wsyH5DG" /* s3cret */

static void test_web_config(void **state)
{
	struct pw_web *w = NULL;

	snprintf(dir, sizeof(dir), "/tmp/pw-test-status-%d", (int)getpid());
	assert_int_equal(mkdir(dir, 0700), 0);
	write_file("c.pem", "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n");
	write_file("k.pem", "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n");

	assert_string_equal(web("tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n"
				"basic_auth_users:\n  prom: " HASH "\n  other: '$2y$04$abcdefghijklmnopqrstuuLZYjhNQAOdpbzt4WxWlUHjv1wsyH5DG'\n",
				&w),
			    "");
	assert_non_null(w->cert);
	assert_non_null(strstr(w->key, "PRIVATE KEY"));
	assert_int_equal(w->n_users, 2);
	assert_true(pw_web_check(w, "prom", "s3cret"));
	assert_true(pw_web_check(w, "prom", "s3cret")); /* from the cache */
	assert_false(pw_web_check(w, "prom", "s3cret!"));
	assert_false(pw_web_check(w, "prom", "s3cre"));
	assert_false(pw_web_check(w, "prom", ""));
	assert_false(pw_web_check(w, "nobody", "s3cret"));
	assert_false(pw_web_check(w, NULL, NULL));
	assert_true(pw_web_check(w, "other", "s3cret"));
	pw_web_free(w);
	w = NULL;

	/* an empty file: plain HTTP, no users, everyone let in */
	assert_string_equal(web("", &w), "");
	assert_null(w->cert);
	assert_true(pw_web_check(w, NULL, NULL));
	pw_web_free(w);

	assert_string_equal(web("basic_auth_users:\n  prom: " HASH "\nhttp_server_config:\n  http2: false\n", NULL),
			    "web.yml:3: 'http_server_config' is not supported (only tls_server_config and basic_auth_users)");
	assert_string_equal(web("tls_server_config:\n  cert_file: c.pem\n  client_auth_type: RequireAndVerifyClientCert\n", NULL),
			    "web.yml:3: tls_server_config: 'client_auth_type' is not supported (only cert_file and key_file)");
	assert_string_equal(web("tls_server_config:\n  cert_file: c.pem\n", NULL),
			    "web.yml:2: tls_server_config: give both cert_file and key_file");
	assert_string_equal(web("basic_auth_users:\n  prom: secret\n", NULL),
			    "web.yml:2: basic_auth_users: the password of 'prom' is not a bcrypt hash ($2a$, $2b$ or $2y$)");
	assert_string_equal(web("basic_auth_users:\n  prom: $2b$04$short\n", NULL),
			    "web.yml:2: basic_auth_users: the password of 'prom' is not a bcrypt hash ($2a$, $2b$ or $2y$)");
	assert_string_equal(web("basic_auth_users:\n  a: " HASH "\n  a: " HASH "\n", NULL),
			    "web.yml:3: basic_auth_users: user 'a' appears twice");
	assert_non_null(strstr(web("tls_server_config:\n  cert_file: c.pem\n  key_file: c.yml\n", NULL),
			       "web.yml:3: key_file: cannot open /tmp/pw-test-status-"));
	assert_non_null(strstr(web("tls_server_config:\n  cert_file: c.pem\n  key_file: c.yml\n", NULL),
			       "/c.yml: No such file or directory"));
	write_file("not.pem", "hello\n");
	assert_non_null(strstr(web("tls_server_config:\n  cert_file: not.pem\n  key_file: k.pem\n", NULL),
			       "web.yml:2: cert_file: "));
	assert_non_null(strstr(web("tls_server_config:\n  cert_file: not.pem\n  key_file: k.pem\n", NULL),
			       "/not.pem is not a PEM file"));
	assert_string_equal(web("- a\n- b\n", NULL),
			    "web.yml:1: expected a mapping (tls_server_config, basic_auth_users)");
	assert_string_equal(web("basic_auth_users: [\n", NULL),
			    "web.yml:2: did not find expected node content");
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_fields_and_order),
		cmocka_unit_test(test_paging),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_regroup),
		cmocka_unit_test(test_event_before_update),
		cmocka_unit_test(test_restored_alarm),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_web_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
