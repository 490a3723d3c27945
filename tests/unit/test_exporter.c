// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_exporter.c - the /metrics page: each family declared once, then exactly its samples,
 * with label values escaped; and the growable buffer it is written into.
 *
 * The page is rendered from a poller fed by a fake source (counters by id, and the prefix
 * table last written), so the counts on the page are the poller's real output.
 *
 * The HTTP server is run for real on loopback (a port from the test's PID): 503 until
 * a page is published, and the cut of slow readers that bounds the pages they keep.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/libbpf.h>
#include <microhttpd.h>

#include "config.h"
#include "exporter.h"
#include "poller.h"
#include "fake_source.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Add [group NAME] with the prefixes that follow (NULL-terminated). */
static void add_group(struct pw_config *cfg, const char *name, enum pw_export export, ...)
{
	va_list ap;

	va_start(ap, export);
	fake_group(cfg, name, ap)->export = export;
	va_end(ap);
}

static void start(struct fake *f, struct pw_poller *pl, struct pw_config *cfg)
{
	struct pw_source src = fake_source(f, 16);
	int err;

	assert_int_equal(pw_poller_init(pl, &src), 0);
	err = pw_poller_apply(pl, cfg, 100);
	if (err)
		fail_msg("apply: %s", strerror(-err));
}

/* ---- checking a page ---- */

struct family {
	const char *name, *type;
	const char *const *samples; /* NULL-terminated, in page order */
};

#define LINES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE ((const char *const[]){ NULL })

struct page {
	char *copy;
	char **line;
	size_t n;
};

static void split(const char *text, struct page *pg)
{
	size_t cap = 16;
	char *save = NULL, *s;

	assert_true(text && *text);
	/* one sample or comment per line, and nothing between them */
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_null(strstr(text, "\n\n"));
	pg->copy = strdup(text);
	pg->line = malloc(cap * sizeof(*pg->line));
	pg->n = 0;
	assert_non_null(pg->copy);
	assert_non_null(pg->line);
	for (s = strtok_r(pg->copy, "\n", &save); s; s = strtok_r(NULL, "\n", &save)) {
		if (pg->n == cap) {
			cap *= 2;
			pg->line = realloc(pg->line, cap * sizeof(*pg->line));
			assert_non_null(pg->line);
		}
		pg->line[pg->n++] = s;
	}
}

static void page_free(struct page *pg)
{
	free(pg->copy);
	free(pg->line);
}

/* The metric a sample line is of (the text before '{' or ' ') equals @name. */
static bool sample_of(const char *line, const char *name)
{
	size_t n = strcspn(line, "{ ");

	return line[0] != '#' && n == strlen(name) && !strncmp(line, name, n);
}

static bool help_of(const char *line, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(line, "# HELP ", 7) && !strncmp(line + 7, name, n) && line[7 + n] == ' ' &&
	       line[8 + n] != '\0';
}

static bool type_of(const char *line, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(line, "# TYPE ", 7) && !strncmp(line + 7, name, n) && line[7 + n] == ' ';
}

/*
 * Every family of @fam appears as "# HELP", then "# TYPE" with its type, then exactly its
 * samples, each once; and the page holds nothing else.
 */
static void check_page(const char *text, const struct family *fam, size_t n_fam)
{
	struct page pg;
	size_t covered = 0;

	split(text, &pg);
	for (size_t f = 0; f < n_fam; f++) {
		char type_line[256];
		size_t helps = 0, types = 0, samples = 0, at = 0, k;

		snprintf(type_line, sizeof(type_line), "# TYPE %s %s", fam[f].name, fam[f].type);
		for (size_t i = 0; i < pg.n; i++) {
			if (help_of(pg.line[i], fam[f].name)) {
				helps++;
				at = i;
			}
			if (type_of(pg.line[i], fam[f].name)) {
				types++;
				if (strcmp(pg.line[i], type_line))
					fail_msg("'%s', expected '%s'", pg.line[i], type_line);
			}
			if (sample_of(pg.line[i], fam[f].name))
				samples++;
		}
		if (helps != 1 || types != 1)
			fail_msg("%s: %zu HELP and %zu TYPE lines, expected one each", fam[f].name,
				 helps, types);
		if (!type_of(pg.line[at + 1], fam[f].name))
			fail_msg("%s: TYPE does not follow HELP", fam[f].name);
		for (k = 0; fam[f].samples[k]; k++) {
			const char *got = at + 2 + k < pg.n ? pg.line[at + 2 + k] : "(end of page)";

			if (strcmp(got, fam[f].samples[k]))
				fail_msg("%s sample %zu: '%s', expected '%s'", fam[f].name, k, got,
					 fam[f].samples[k]);
		}
		if (samples != k)
			fail_msg("%s: %zu samples, expected %zu", fam[f].name, samples, k);
		covered += 2 + k;
	}
	if (covered != pg.n) {
		for (size_t i = 0; i < pg.n; i++)
			print_message("%s\n", pg.line[i]);
		fail_msg("the page has %zu lines, the families %zu", pg.n, covered);
	}
	page_free(&pg);
}

/* ---- the page ---- */

static char BUILD_INFO[256];

static const struct pw_iface_state ifaces[] = {
	{ .name = "eth0", .ifindex = 2, .attached = true, .mode = "native", .c = { 100, 64000 } },
	{ .name = "a\"b\\c", .ifindex = 3, .attached = true, .mode = "skb", .c = { 7, 700 } },
	{ .name = "eth9", .ifindex = 9, .attached = false, .c = { 1, 60 } },
};

static const struct family full_page[] = {
	{ "prefixwatch_build_info", "gauge",
	  LINES(BUILD_INFO) },
	{ "prefixwatch_prefixes", "gauge",
	  LINES("prefixwatch_prefixes{family=\"ipv4\"} 3",
		"prefixwatch_prefixes{family=\"ipv6\"} 2") },
	{ "prefixwatch_prefix_packets_total", "counter",
	  LINES("prefixwatch_prefix_packets_total{group=\"web\",prefix=\"192.0.2.0/24\"} 4",
		"prefixwatch_prefix_packets_total{group=\"web\",prefix=\"2001:db8::/32\"} 5",
		"prefixwatch_prefix_packets_total{group=\"web\",prefix=\"2001:db8:0:1::/64\"} 3") },
	{ "prefixwatch_prefix_bytes_total", "counter",
	  LINES("prefixwatch_prefix_bytes_total{group=\"web\",prefix=\"192.0.2.0/24\"} 400",
		"prefixwatch_prefix_bytes_total{group=\"web\",prefix=\"2001:db8::/32\"} 900",
		"prefixwatch_prefix_bytes_total{group=\"web\",prefix=\"2001:db8:0:1::/64\"} 600") },
	{ "prefixwatch_group_packets_total", "counter",
	  LINES("prefixwatch_group_packets_total{group=\"web\"} 9",
		"prefixwatch_group_packets_total{group=\"agg\"} 10") },
	{ "prefixwatch_group_bytes_total", "counter",
	  LINES("prefixwatch_group_bytes_total{group=\"web\"} 1300",
		"prefixwatch_group_bytes_total{group=\"agg\"} 1700") },
	{ "prefixwatch_group_rate_pps", "gauge",
	  LINES("prefixwatch_group_rate_pps{group=\"web\"} 4.5",
		"prefixwatch_group_rate_pps{group=\"agg\"} 5") },
	{ "prefixwatch_group_rate_bps", "gauge",
	  LINES("prefixwatch_group_rate_bps{group=\"web\"} 5200",
		"prefixwatch_group_rate_bps{group=\"agg\"} 6800") },
	{ "prefixwatch_unmatched_packets_total", "counter",
	  LINES("prefixwatch_unmatched_packets_total{family=\"ipv4\"} 3",
		"prefixwatch_unmatched_packets_total{family=\"ipv6\"} 4") },
	{ "prefixwatch_unmatched_bytes_total", "counter",
	  LINES("prefixwatch_unmatched_bytes_total{family=\"ipv4\"} 300",
		"prefixwatch_unmatched_bytes_total{family=\"ipv6\"} 400") },
	{ "prefixwatch_non_ip_packets_total", "counter",
	  LINES("prefixwatch_non_ip_packets_total 5") },
	{ "prefixwatch_malformed_packets_total", "counter",
	  LINES("prefixwatch_malformed_packets_total 6") },
	{ "prefixwatch_interface_packets_total", "counter",
	  LINES("prefixwatch_interface_packets_total{interface=\"eth0\"} 100",
		"prefixwatch_interface_packets_total{interface=\"a\\\"b\\\\c\"} 7",
		"prefixwatch_interface_packets_total{interface=\"eth9\"} 1") },
	{ "prefixwatch_interface_bytes_total", "counter",
	  LINES("prefixwatch_interface_bytes_total{interface=\"eth0\"} 64000",
		"prefixwatch_interface_bytes_total{interface=\"a\\\"b\\\\c\"} 700",
		"prefixwatch_interface_bytes_total{interface=\"eth9\"} 60") },
	{ "prefixwatch_attached", "gauge",
	  LINES("prefixwatch_attached{interface=\"eth0\",mode=\"native\"} 1",
		"prefixwatch_attached{interface=\"a\\\"b\\\\c\",mode=\"skb\"} 1") },
	{ "prefixwatch_poll_duration_seconds", "gauge",
	  LINES("prefixwatch_poll_duration_seconds 0.000123000") },
	{ "prefixwatch_polls_total", "counter", LINES("prefixwatch_polls_total 42") },
	{ "prefixwatch_config_reloads_total", "counter",
	  LINES("prefixwatch_config_reloads_total{result=\"success\"} 2",
		"prefixwatch_config_reloads_total{result=\"failure\"} 1") },
	{ "prefixwatch_last_reload_success_timestamp_seconds", "gauge",
	  LINES("prefixwatch_last_reload_success_timestamp_seconds 1700000000.500") },
};

static void fill_input(struct pw_export_input *in, const struct pw_poller *pl)
{
	memset(in, 0, sizeof(*in));
	in->pl = pl;
	in->classes[PW_CLASS_UNMATCHED_V4] = (struct pw_counter){ 3, 300 };
	in->classes[PW_CLASS_UNMATCHED_V6] = (struct pw_counter){ 4, 400 };
	in->classes[PW_CLASS_NON_IP] = (struct pw_counter){ 5, 500 };
	in->classes[PW_CLASS_MALFORMED] = (struct pw_counter){ 6, 600 };
	in->ifaces = ifaces;
	in->n_ifaces = N(ifaces);
	in->reloads_ok = 2;
	in->reloads_failed = 1;
	in->last_reload_ok = 1700000000.5;
	in->poll_seconds = 0.000123;
	in->polls = 42;
}

static void test_full_page(void **state)
{
	struct pw_config cfg = { 0 };
	struct pw_export_input in;
	struct pw_buf b = { 0 };
	struct pw_poller pl;
	struct fake f;

	(void)state;
	/* web is exported per prefix (IPv6 written in capitals); agg only as a group */
	add_group(&cfg, "web", PW_EXPORT_PREFIX, "2001:DB8::/32", "192.0.2.0/24",
		  "2001:0db8:0000:0001::/64", NULL);
	add_group(&cfg, "agg", PW_EXPORT_GROUP, "10.0.0.0/8", "10.1.0.0/16", "192.0.2.0/24",
		  NULL);
	start(&f, &pl, &cfg);
	deliver(&f, "192.0.2.7", 4, 100);
	deliver(&f, "2001:db8::1", 2, 150);
	deliver(&f, "2001:db8:0:1::9", 3, 200);
	deliver(&f, "10.1.0.1", 5, 60);
	deliver(&f, "10.2.0.1", 1, 1000);
	assert_int_equal(pw_poller_poll(&pl, 102), 0);

	fill_input(&in, &pl);
	pw_render_metrics(&in, &b);
	assert_false(b.oom);
	assert_int_equal(b.len, strlen(b.data));
	check_page(b.data, full_page, N(full_page));
	/* agg is exported as a group only: none of its prefixes has a series */
	assert_null(strstr(b.data, "group=\"agg\",prefix="));
	assert_null(strstr(b.data, "10.0.0.0/8"));
	assert_null(strstr(b.data, "10.1.0.0/16"));

	/* rendering appends */
	{
		size_t len = b.len;

		pw_render_metrics(&in, &b);
		assert_int_equal(b.len, 2 * len);
		assert_memory_equal(b.data, b.data + len, len);
	}
	pw_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	pw_poller_free(&pl);
}

static void test_all_groups_export_group(void **state)
{
	const struct family fam[] = {
		{ "prefixwatch_prefix_packets_total", "counter", NONE },
		{ "prefixwatch_prefix_bytes_total", "counter", NONE },
		{ "prefixwatch_group_packets_total", "counter",
		  LINES("prefixwatch_group_packets_total{group=\"a\"} 2",
			"prefixwatch_group_packets_total{group=\"b\"} 2") },
	};
	struct pw_config cfg = { 0 };
	struct pw_export_input in;
	struct pw_buf b = { 0 };
	struct pw_poller pl;
	struct fake f;
	struct page pg;

	(void)state;
	add_group(&cfg, "a", PW_EXPORT_GROUP, "198.51.100.0/24", NULL);
	add_group(&cfg, "b", PW_EXPORT_GROUP, "198.51.100.0/24", "fe80::/10", NULL);
	start(&f, &pl, &cfg);
	deliver(&f, "198.51.100.1", 2, 100);
	assert_int_equal(pw_poller_poll(&pl, 101), 0);
	fill_input(&in, &pl);
	pw_render_metrics(&in, &b);
	assert_false(b.oom);
	assert_null(strstr(b.data, "prefix=\""));
	/* declared once each, with no samples; then the groups */
	split(b.data, &pg);
	for (size_t f2 = 0; f2 < N(fam); f2++) {
		size_t helps = 0, samples = 0, k = 0, at = 0;

		for (size_t i = 0; i < pg.n; i++) {
			if (help_of(pg.line[i], fam[f2].name)) {
				helps++;
				at = i;
			}
			samples += sample_of(pg.line[i], fam[f2].name);
		}
		assert_int_equal(helps, 1);
		while (fam[f2].samples[k]) {
			assert_string_equal(pg.line[at + 2 + k], fam[f2].samples[k]);
			k++;
		}
		assert_int_equal(samples, k);
	}
	assert_non_null(strstr(b.data, "\nprefixwatch_prefixes{family=\"ipv4\"} 1\n"));
	assert_non_null(strstr(b.data, "\nprefixwatch_prefixes{family=\"ipv6\"} 1\n"));
	page_free(&pg);
	pw_buf_free(&b);
	pw_poller_free(&pl);
}

/* Before the first configuration there is no poller: no prefix or group families. */
static void test_page_without_poller(void **state)
{
	const struct family fam[] = {
		{ "prefixwatch_build_info", "gauge",
		  LINES(BUILD_INFO) },
		{ "prefixwatch_prefixes", "gauge",
		  LINES("prefixwatch_prefixes{family=\"ipv4\"} 0",
			"prefixwatch_prefixes{family=\"ipv6\"} 0") },
		{ "prefixwatch_unmatched_packets_total", "counter",
		  LINES("prefixwatch_unmatched_packets_total{family=\"ipv4\"} 0",
			"prefixwatch_unmatched_packets_total{family=\"ipv6\"} 0") },
		{ "prefixwatch_unmatched_bytes_total", "counter",
		  LINES("prefixwatch_unmatched_bytes_total{family=\"ipv4\"} 0",
			"prefixwatch_unmatched_bytes_total{family=\"ipv6\"} 0") },
		{ "prefixwatch_non_ip_packets_total", "counter",
		  LINES("prefixwatch_non_ip_packets_total 0") },
		{ "prefixwatch_malformed_packets_total", "counter",
		  LINES("prefixwatch_malformed_packets_total 0") },
		{ "prefixwatch_interface_packets_total", "counter", NONE },
		{ "prefixwatch_interface_bytes_total", "counter", NONE },
		{ "prefixwatch_attached", "gauge", NONE },
		{ "prefixwatch_poll_duration_seconds", "gauge",
		  LINES("prefixwatch_poll_duration_seconds 0.000000000") },
		{ "prefixwatch_polls_total", "counter", LINES("prefixwatch_polls_total 0") },
		{ "prefixwatch_config_reloads_total", "counter",
		  LINES("prefixwatch_config_reloads_total{result=\"success\"} 0",
			"prefixwatch_config_reloads_total{result=\"failure\"} 0") },
		{ "prefixwatch_last_reload_success_timestamp_seconds", "gauge",
		  LINES("prefixwatch_last_reload_success_timestamp_seconds 0.000") },
	};
	struct pw_export_input in = { 0 };
	struct pw_buf b = { 0 };

	(void)state;
	pw_render_metrics(&in, &b);
	check_page(b.data, fam, N(fam));
	assert_null(strstr(b.data, "prefixwatch_group_"));
	assert_null(strstr(b.data, "prefixwatch_prefix_"));
	pw_buf_free(&b);
}

static void extra_families(void *ctx, struct pw_buf *out)
{
	pw_buf_printf(out, "# HELP x_extra An extra family.\n# TYPE x_extra gauge\nx_extra %d\n",
		      *(int *)ctx);
}

static void test_extra_appended(void **state)
{
	struct pw_export_input in = { 0 };
	struct pw_buf b = { 0 };
	int value = 42;
	const char *tail = "# HELP x_extra An extra family.\n# TYPE x_extra gauge\nx_extra 42\n";

	(void)state;
	in.extra = extra_families;
	in.extra_ctx = &value;
	pw_render_metrics(&in, &b);
	assert_true(b.len > strlen(tail));
	assert_string_equal(b.data + b.len - strlen(tail), tail);
	assert_int_equal(strstr(b.data, "x_extra") - b.data, b.len - strlen(tail) + 7);
	pw_buf_free(&b);
}

/* ---- the buffer ---- */

static void test_label_escaping(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "eth0", "eth0" },
		{ "", "" },
		{ "a\\b", "a\\\\b" },
		{ "say \"hi\"", "say \\\"hi\\\"" },
		{ "two\nlines", "two\\nlines" },
		{ "\\\"\n", "\\\\\\\"\\n" },
		{ "\\n", "\\\\n" }, /* a backslash then n, not a newline */
		{ "tab\there", "tab\there" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "%s%n", "%s%n" },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct pw_buf b = { 0 };

		pw_buf_printf(&b, "<");
		pw_buf_label(&b, cases[i].in);
		pw_buf_printf(&b, ">");
		assert_false(b.oom);
		assert_int_equal(b.len, strlen(cases[i].out) + 2);
		assert_memory_equal(b.data + 1, cases[i].out, strlen(cases[i].out));
		assert_int_equal(b.data[0], '<');
		assert_string_equal(b.data + b.len - 1, ">");
		pw_buf_free(&b);
	}
}

static void test_buf_growth(void **state)
{
	struct pw_buf b = { 0 };
	char *big = malloc(10001);

	(void)state;
	assert_non_null(big);
	/* small appends across the first 4096 bytes, one byte at a time near the edge */
	for (int i = 0; i < 1023; i++)
		pw_buf_printf(&b, "%04d", i);
	assert_int_equal(b.len, 4092);
	for (int i = 0; i < 8; i++)
		pw_buf_printf(&b, "%c", 'a' + i);
	assert_false(b.oom);
	assert_int_equal(b.len, 4100);
	assert_true(b.cap > b.len);
	assert_int_equal(strlen(b.data), 4100);
	assert_memory_equal(b.data, "000000010002", 12);
	assert_memory_equal(b.data + 4088, "1022abcdefgh", 12);
	pw_buf_free(&b);

	/* one append far past the first allocation */
	memset(big, 'z', 10000);
	big[10000] = '\0';
	pw_buf_printf(&b, "[%s]", big);
	assert_false(b.oom);
	assert_int_equal(b.len, 10002);
	assert_true(b.cap >= 10003);
	assert_int_equal(b.data[0], '[');
	assert_int_equal(b.data[10001], ']');
	assert_int_equal(b.data[10002], '\0');
	assert_memory_equal(b.data + 1, big, 10000);
	/* and more after it */
	pw_buf_printf(&b, "%s|%d", big, 7);
	assert_int_equal(b.len, 20004);
	assert_string_equal(b.data + 20002, "|7");
	assert_int_equal(strlen(b.data), 20004);

	/* an empty append changes nothing */
	pw_buf_printf(&b, "%s", "");
	assert_int_equal(b.len, 20004);
	pw_buf_free(&b);
	free(big);
}

/* ---- the HTTP server ---- */

static struct pw_http *http;
static unsigned int http_port;

/* A server on 127.0.0.1 at a port from the PID (the next ones if taken). */
static void http_start(void)
{
	char listen[64], err[256];

	for (int i = 0; i < 50; i++) {
		http_port = 20000 + (unsigned int)(getpid() * 7 + i * 131) % 40000;
		snprintf(listen, sizeof(listen), "127.0.0.1:%u", http_port);
		if (pw_http_start(listen, &http, err, sizeof(err)) == 0)
			return;
	}
	fail_msg("no free port for the server: %s", err);
}

/*
 * A connection that asks for /metrics; @rcvbuf > 0 makes its receive buffer that small
 * (before connect, so the window stays small): the server can then send only as fast as
 * the test reads. Every read has a 20 s guard, so a broken server fails instead of hanging.
 */
static int http_get(int rcvbuf)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)http_port) };
	struct timeval guard = { .tv_sec = 20 };
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (rcvbuf > 0)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard)), 0);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
		fail_msg("connect to 127.0.0.1:%u: %s", http_port, strerror(errno));
	assert_int_equal(write(fd, req, sizeof(req) - 1), (ssize_t)(sizeof(req) - 1));
	return fd;
}

/*
 * Read the response on @fd to its end (EOF or reset); return the status (0 if none came)
 * and the body's length in @body_len, its first byte in @first (when any).
 */
static int http_read(int fd, size_t *body_len, char *first)
{
	static char buf[1 << 16];
	char head[512];
	size_t hlen = 0, body = 0;
	bool in_body = false;
	int status = 0;
	ssize_t n;

	*first = '\0';
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		size_t off = 0;

		if (!in_body) {
			/* the header, byte by byte into head[], up to the blank line */
			while (off < (size_t)n && !in_body) {
				if (hlen < sizeof(head) - 1)
					head[hlen++] = buf[off];
				off++;
				head[hlen] = '\0';
				in_body = hlen >= 4 && !strcmp(head + hlen - 4, "\r\n\r\n");
			}
		}
		if (in_body && off < (size_t)n) {
			if (!body)
				*first = buf[off];
			body += (size_t)n - off;
		}
	}
	if (n < 0 && errno != ECONNRESET)
		fail_msg("read: %s (the 20 s guard?)", strerror(errno));
	close(fd);
	if (hlen > 12 && !strncmp(head, "HTTP/1.", 7))
		status = atoi(head + 9);
	*body_len = body;
	return status;
}

/* Publish a page of @len bytes of @c, ending in a newline. */
static void publish(size_t len, char c)
{
	struct pw_buf b = { 0 };

	b.data = malloc(len + 1);
	assert_non_null(b.data);
	memset(b.data, c, len);
	b.data[len - 1] = '\n';
	b.data[len] = '\0';
	b.len = len;
	b.cap = len + 1;
	pw_http_publish(http, &b);
	assert_null(b.data); /* taken over */
}

/* 503 (and no page) until the first page is published, then 200 and that page. */
static void test_http_503_before_first_page(void **state)
{
	size_t len;
	char first;

	(void)state;
	http_start();
	assert_int_equal(http_read(http_get(0), &len, &first), 503);
	assert_int_equal(http_read(http_get(0), &len, &first), 503);
	publish(100, 'a');
	assert_int_equal(http_read(http_get(0), &len, &first), 200);
	assert_int_equal(len, 100);
	assert_int_equal(first, 'a');
	publish(50, 'b');
	assert_int_equal(http_read(http_get(0), &len, &first), 200);
	assert_int_equal(len, 50);
	assert_int_equal(first, 'b');
	pw_http_stop(http);
	http = NULL;
}

/*
 * Slow readers keep at most 4 pages (PW_HTTP_MAX_PAGES) alive. Eight readers that read
 * nothing each ask for a different page (one published before each); pages of 16 MiB,
 * more than the kernel's buffers (tcp_wmem's 4 MiB plus a small receive window) take, so
 * the server still holds every page it is sending. Then a 9th page is published. Only the
 * 4 newest pages may stay (the 9th, the current one, and the 8th to the 6th): the readers
 * of the 1st to the 5th must have been cut (they get less than a page), those of the 6th
 * to the 8th, read afterwards, get all of theirs. Without the cut all eight get
 * everything, and the server holds 9 pages.
 */
#define SLOW_PAGE (16u << 20)
#define SLOW_READERS 8
#define MAX_PAGES 4

static void test_http_slow_readers_cut(void **state)
{
	int fd[SLOW_READERS];
	size_t len;
	char first, c;

	(void)state;
	http_start();
	for (int i = 0; i < SLOW_READERS; i++) {
		publish(SLOW_PAGE, (char)('a' + i));
		fd[i] = http_get(4096);
		/* the status line: the server has taken page i for this reader */
		assert_int_equal(read(fd[i], &c, 1), 1);
		assert_int_equal(c, 'H');
	}
	publish(100, 'z');
	for (int i = 0; i < SLOW_READERS; i++) {
		int status = http_read(fd[i], &len, &first);

		if (i < SLOW_READERS + 1 - MAX_PAGES) {
			if (len >= SLOW_PAGE)
				fail_msg("reader %d (page %d of %d) got its whole page: not cut", i,
					 i + 1, SLOW_READERS);
		} else {
			/* the status line's first byte was read above */
			assert_int_equal(status, 0);
			if (len != SLOW_PAGE)
				fail_msg("reader %d got %zu bytes of its page, not %u", i, len,
					 SLOW_PAGE);
			assert_int_equal(first, 'a' + i);
		}
	}
	/* and the server goes on serving */
	assert_int_equal(http_read(http_get(0), &len, &first), 200);
	assert_int_equal(len, 100);
	pw_http_stop(http);
	http = NULL;
}

int main(void)
{
	snprintf(BUILD_INFO, sizeof(BUILD_INFO),
		 "prefixwatch_build_info{version=\"%s\",libbpf=\"%s\",libmicrohttpd=\"%s\"} 1",
		 PW_VERSION, libbpf_version_string(), MHD_get_version());
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_page),
		cmocka_unit_test(test_all_groups_export_group),
		cmocka_unit_test(test_page_without_poller),
		cmocka_unit_test(test_extra_appended),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_buf_growth),
		cmocka_unit_test(test_http_503_before_first_page),
		cmocka_unit_test(test_http_slow_readers_cut),
	};

	return cmocka_run_group_tests_name("exporter", tests, NULL, NULL);
}
