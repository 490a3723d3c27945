// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_replay.c - replay (user/replay.c) through the real XDP program: the bytes it
 * counts, and the prefix sets it can load. Captures are written here with libpcap.
 * (Apart from test_lookup.c: <pcap/pcap.h> and <linux/bpf.h> both define struct bpf_insn.)
 */
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
		struct pcap_pkthdr h = { .ts = { .tv_sec = 1000 + i / 10, .tv_usec = i % 10 },
					 .len = (bpf_u_int32)f.len };

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
	};

	return cmocka_run_group_tests_name("replay", tests, NULL, teardown_tmp);
}
