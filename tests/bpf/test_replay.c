// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_replay.c - replay (user/replay.c) through the real XDP program: the bytes it
 * counts, and the prefix sets it can load. Captures are written here with libpcap.
 * (Apart from test_lookup.c: <pcap/pcap.h> and <linux/bpf.h> both define struct bpf_insn.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "frames.h"
#include "loader.h"
#include "log.h"
#include "replay.h"

static char tmp_dir[128];

static void make_tmp_dir(void)
{
	if (tmp_dir[0])
		return;
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/pw-test-lookup-XXXXXX");
	assert_non_null(mkdtemp(tmp_dir));
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/*
 * Replay @capture under the config @ini; returns replay's exit status, and its summary
 * (stderr) in @out.
 */
static int replay_into(const char *ini, const char *capture, char *out, size_t outlen)
{
	char path[256], err[512];
	struct pw_config cfg;
	int saved, fd, rc;
	ssize_t got;

	snprintf(path, sizeof(path), "%s/summary", tmp_dir);
	if (pw_config_load(ini, &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	fflush(stderr);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	saved = dup(2);
	assert_true(saved >= 0);
	dup2(fd, 2);
	rc = pw_replay(&cfg, capture);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	got = pread(fd, out, outlen - 1, 0);
	close(fd);
	out[got > 0 ? got : 0] = '\0';
	return rc;
}

/* The packets and bytes replay's summary gives group @name, or fails. */
static void group_counts(const char *summary, const char *name, unsigned long long *packets,
			 unsigned long long *bytes)
{
	char key[64];
	const char *at;

	snprintf(key, sizeof(key), "group %s ", name);
	at = strstr(summary, key);
	if (!at || sscanf(at + strlen(key), " %llu packets %llu bytes", packets, bytes) != 2)
		fail_msg("no counts for group %s in:\n%s", name, summary);
}

/* A capture of @n frames of 1000 bytes to 10.1.2.3, cut at @snaplen. */
static void write_capture(const char *path, int snaplen, int n)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, snaplen);
	pcap_dumper_t *d;
	struct frame f;

	assert_non_null(dead);
	d = pcap_dump_open(dead, path);
	assert_non_null(d);
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, "10.1.2.3", 5, 0);
	frame_pad(&f, 1000);
	for (int i = 0; i < n; i++) {
		struct pcap_pkthdr h = {.ts = {.tv_sec = 1000 + i / 10, .tv_usec = i % 10},
					.len = (bpf_u_int32)f.len};

		h.caplen = h.len < (bpf_u_int32)snaplen ? h.len : (bpf_u_int32)snaplen;
		pcap_dump((u_char *)d, &h, f.data);
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

/*
 * Replay counts each frame's original length, as the live path does: a capture cut at 64
 * bytes a frame gives the same bytes as the full one (the old code counted 64 a frame).
 */
static void test_replay_counts_wire_length(void **state)
{
	char ini[256], full[256], cut[256], summary[8192];
	unsigned long long p_full, b_full, p_cut, b_cut;

	(void)state;
	make_tmp_dir();
	snprintf(ini, sizeof(ini), "%s/wire.ini", tmp_dir);
	snprintf(full, sizeof(full), "%s/full.pcap", tmp_dir);
	snprintf(cut, sizeof(cut), "%s/cut.pcap", tmp_dir);
	write_file(ini, "[sensor]\ninterval = 1\n[group a]\nprefix = 10.0.0.0/8\n");
	write_capture(full, 65535, 50);
	write_capture(cut, 64, 50);

	assert_int_equal(replay_into(ini, full, summary, sizeof(summary)), 0);
	group_counts(summary, "a", &p_full, &b_full);
	assert_int_equal(replay_into(ini, cut, summary, sizeof(summary)), 0);
	group_counts(summary, "a", &p_cut, &b_cut);
	assert_int_equal(p_full, 50);
	assert_int_equal(b_full, 50 * 1000);
	assert_int_equal(p_cut, 50);
	assert_int_equal(b_cut, 50 * 1000);
	unlink(ini);
	unlink(full);
	unlink(cut);
}

/* Write a config of one group "g" holding @n prefixes, one "prefix =" line each. */
static void write_config(const char *path, const struct pw_prefix *p, size_t n)
{
	FILE *f = fopen(path, "w");
	char txt[PW_PREFIX_STRLEN];

	assert_non_null(f);
	fprintf(f, "[sensor]\ninterval = 1\n[group g]\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "prefix = %s\n", pw_prefix_format(&p[i], txt, sizeof(txt)));
	assert_int_equal(fclose(f), 0);
}

/* A capture of one 100-byte frame to the first address of each of @p[0..n-1]. */
static void write_frames_to(const char *path, const struct pw_prefix *p, size_t n)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d;

	assert_non_null(dead);
	d = pcap_dump_open(dead, path);
	assert_non_null(d);
	for (size_t i = 0; i < n; i++) {
		struct pcap_pkthdr h = {.ts = {.tv_sec = 1000, .tv_usec = (long)i}};
		char txt[PW_PREFIX_STRLEN];
		struct frame f;

		inet_ntop(p[i].family, p[i].addr, txt, sizeof(txt));
		frame_eth(&f, p[i].family == AF_INET ? ETH_P_IP : ETH_P_IPV6);
		if (p[i].family == AF_INET)
			frame_ipv4(&f, txt, 5, 0);
		else
			frame_ipv6(&f, txt);
		frame_pad(&f, 100);
		h.caplen = h.len = (bpf_u_int32)f.len;
		pcap_dump((u_char *)d, &h, f.data);
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

/*
 * Replay loads what check accepts: 1,500 random IPv4 /32s and 14,000 random IPv6 /128s
 * (the old replay sized its tables at prefixes + 16 and failed with ENOSPC; the old run
 * failed on the /128s), and counts a frame at each of 20 of them.
 */
static void test_replay_random_hosts(void **state)
{
	const size_t n4 = 1500, n6 = 14000;
	struct pw_prefix *p = calloc(n4 + n6, sizeof(*p));
	char ini[256], cap[256], summary[8192];
	unsigned long long packets, bytes;
	uint64_t s = 0x7265706c;

	(void)state;
	assert_non_null(p);
	make_tmp_dir();
	for (size_t i = 0; i < n4 + n6; i++) {
		p[i].family = i < n4 ? AF_INET : AF_INET6;
		p[i].len = i < n4 ? 32 : 128;
		for (int b = 0; b < (i < n4 ? 4 : 16); b++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			p[i].addr[b] = (uint8_t)(s >> 56);
		}
		if (i < n4)
			p[i].addr[0] = (uint8_t)(1 + p[i].addr[0] % 223); /* unicast, not 0/8 */
		else
			p[i].addr[0] = 0x20; /* 2000::/8 */
	}
	snprintf(ini, sizeof(ini), "%s/hosts.ini", tmp_dir);
	snprintf(cap, sizeof(cap), "%s/hosts.pcap", tmp_dir);
	write_config(ini, p, n4 + n6);
	/* 10 of each family */
	memmove(p + 10, p + n4, 10 * sizeof(*p));
	write_frames_to(cap, p, 20);
	if (replay_into(ini, cap, summary, sizeof(summary)))
		fail_msg("replay refused the set:\n%s", summary);
	group_counts(summary, "g", &packets, &bytes);
	assert_int_equal(packets, 20);
	assert_int_equal(bytes, 20 * 100);
	free(p);
}

/*
 * A set that needs exactly the most units an IPv6 table may have: accepted by the
 * sizing, and replay really loads it (a table of that many units is created and filled).
 */
static void test_replay_at_the_unit_limit(void **state)
{
	const uint32_t limit = pw_bpf_max_units(AF_INET6);
	const size_t full = (limit - 65536) / 27, n = full + (limit - 65536 - 27 * full);
	struct pw_prefix *p = calloc(n, sizeof(*p));
	char ini[256], cap[256], summary[8192];
	unsigned long long packets, bytes;

	(void)state;
	assert_non_null(p);
	make_tmp_dir();
	/* as in test_sizing: /128s in /16s of their own (27 units), then /24s (1 unit) */
	for (size_t i = 0; i < n; i++) {
		p[i].family = AF_INET6;
		p[i].addr[0] = (uint8_t)(i >> 8);
		p[i].addr[1] = (uint8_t)i;
		p[i].addr[15] = i < full ? 1 : 0;
		p[i].len = i < full ? 128 : 24;
	}
	assert_int_equal(pw_bpf_units(p, n, PW_V6_L1_BITS), limit);
	snprintf(ini, sizeof(ini), "%s/limit.ini", tmp_dir);
	snprintf(cap, sizeof(cap), "%s/limit.pcap", tmp_dir);
	write_config(ini, p, n);
	write_frames_to(cap, p + 1000, 3);
	if (replay_into(ini, cap, summary, sizeof(summary)))
		fail_msg("replay refused the set:\n%s", summary);
	group_counts(summary, "g", &packets, &bytes);
	assert_int_equal(packets, 3);
	free(p);
}

static int teardown_tmp(void **state)
{
	char cmd[256];

	(void)state;
	if (tmp_dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
		if (system(cmd))
			fprintf(stderr, "cannot remove %s\n", tmp_dir);
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_counts_wire_length),
		cmocka_unit_test(test_replay_random_hosts),
		cmocka_unit_test(test_replay_at_the_unit_limit),
	};

	return cmocka_run_group_tests_name("replay", tests, NULL, teardown_tmp);
}
