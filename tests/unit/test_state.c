// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_state.c - saving and restoring the detectors' state (pw_state_save/_load):
 * the round trip, resuming into darkness without warm-up, an alarm in progress not
 * raised twice, and every way a file can be unusable (missing, stale, foreign, corrupt,
 * truncated), each ignored without harm.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
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

#include "config.h"
#include "detector.h"
#include "state.h"
#include "watch.h"

#define WALL 1.7e9

struct fx {
	char dir[64];
	struct pw_watch w;
	struct pw_detect_cfg c;
};

/* Three detectors: group kp, group web, and prefix 10.1.2.0/24 of web. */
static void watch_make(struct pw_watch *w)
{
	pw_watch_init(w, NULL, NULL);
	w->items = calloc(3, sizeof(*w->items));
	assert_non_null(w->items);
	w->n = 3;
	snprintf(w->items[0].group, sizeof(w->items[0].group), "kp");
	w->items[0].set_hash = 0x1111;
	snprintf(w->items[1].group, sizeof(w->items[1].group), "web");
	w->items[1].set_hash = 0x2222;
	snprintf(w->items[2].group, sizeof(w->items[2].group), "web");
	w->items[2].set_hash = 0x2222;
	w->items[2].per_prefix = true;
	assert_int_equal(pw_prefix_parse("10.1.2.0/24", &w->items[2].prefix, NULL, 0), 0);
	for (size_t i = 0; i < w->n; i++)
		pw_detector_init(&w->items[i].det);
}

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	snprintf(x->dir, sizeof(x->dir), "/tmp/pw_test_state.XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	watch_make(&x->w);
	pw_detect_defaults(&x->c);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	char cmd[128];

	pw_watch_free(&x->w);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
	assert_int_equal(system(cmd), 0);
	free(x);
	return 0;
}

static int feed(struct pw_detector *d, const struct pw_detect_cfg *c, double t, double pps)
{
	struct pw_event ev[PW_ALARM_KINDS * 2];

	return pw_detector_step(d, c, WALL + t, 1, pps, pps * 4000, ev);
}

/* kp at 1 pps, web at 1000 pps (in a loss by the end), its prefix at 10 pps. */
static void train(struct fx *x)
{
	for (int t = 1; t <= 600; t++) {
		assert_int_equal(feed(&x->w.items[0].det, &x->c, t, 1), 0);
		assert_int_equal(feed(&x->w.items[1].det, &x->c, t, 1000), 0);
		assert_int_equal(feed(&x->w.items[2].det, &x->c, t, 10), 0);
	}
	assert_int_equal(feed(&x->w.items[1].det, &x->c, 601, 0), 1);
	assert_true(x->w.items[1].det.alarm[PW_ALARM_LOSS]);
}

static char *state_path(struct fx *x)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", x->dir, PW_STATE_FILE);
	return p;
}

static void test_round_trip(void **state)
{
	struct fx *x = *state;
	struct pw_watch w2;
	struct dirent *e;
	DIR *dir;
	int files = 0;

	train(x);
	assert_int_equal(pw_state_save(x->dir, &x->w, WALL + 601), 0);
	/* Nothing but the state file is left behind (the temp file was renamed). */
	dir = opendir(x->dir);
	assert_non_null(dir);
	while ((e = readdir(dir)))
		if (e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")))
			files++, assert_string_equal(e->d_name, PW_STATE_FILE);
	closedir(dir);
	assert_int_equal(files, 1);

	/* Restored 30 s later, in another order: the same state, its clock 30 s on. */
	watch_make(&w2);
	{
		struct pw_watch_item t = w2.items[0];

		w2.items[0] = w2.items[2];
		w2.items[2] = t;
	}
	assert_int_equal(pw_state_load(x->dir, &w2, NULL, WALL + 631), 3);
	for (size_t i = 0; i < 3; i++) {
		const struct pw_detector *a = &x->w.items[2 - i].det;
		struct pw_detector b = w2.items[i].det;

		assert_true(b.age == a->age + 30);
		b.age = a->age;
		/* Everything but the warm-up samples, which are not kept (all past warm-up). */
		assert_memory_equal(&b, a, offsetof(struct pw_detector, warm_pps));
		assert_int_equal(b.n_warm, 0);
	}
	assert_true(w2.items[1].det.alarm[PW_ALARM_LOSS]);
	assert_true(w2.items[1].det.base_pps == 1000);
	pw_watch_free(&w2);
}

static void test_keys_must_match(void **state)
{
	struct fx *x = *state;
	struct pw_watch w2;

	train(x);
	assert_int_equal(pw_state_save(x->dir, &x->w, WALL + 601), 0);
	watch_make(&w2);
	w2.items[0].set_hash = 0x1112; /* kp's prefix set changed: starts afresh */
	assert_int_equal(pw_prefix_parse("10.1.3.0/24", &w2.items[2].prefix, NULL, 0), 0);
	assert_int_equal(pw_state_load(x->dir, &w2, NULL, WALL + 610), 1);
	assert_true(w2.items[0].det.age == 0);
	assert_true(w2.items[1].det.age == 610);
	assert_true(w2.items[2].det.age == 0);
	pw_watch_free(&w2);
}

/*
 * The restart during an outage: a 1 pps network, saved while normal, is dark when the
 * daemon comes back: the loss is called after the same 15 dark intervals as without the
 * restart (ceil(6 ln 10 / 0.98) by the Poisson formula), with no warm-up.
 */
static void test_resume_into_darkness(void **state)
{
	struct fx *x = *state;
	struct pw_watch w2;
	int n = 0;

	train(x);
	assert_int_equal(pw_state_save(x->dir, &x->w, WALL + 601), 0);
	watch_make(&w2);
	assert_int_equal(pw_state_load(x->dir, &w2, NULL, WALL + 700), 3);
	while (!feed(&w2.items[0].det, &x->c, 700 + n + 1, 0))
		assert_true(++n < 100);
	n++;
	assert_int_equal(n, (int)ceil(6 * log(10.0) / (1 - 0.019878)));
	assert_int_equal(n, 15);
	/* A fresh detector would be warming up for 30 s and then learn the darkness. */
	{
		struct pw_detector fresh;

		pw_detector_init(&fresh);
		for (int t = 1; t <= 600; t++)
			assert_int_equal(feed(&fresh, &x->c, t, 0), 0);
	}
	/* The loss in progress of web is not raised again; its end comes with traffic. */
	for (int t = 0; t < 100; t++)
		assert_int_equal(feed(&w2.items[1].det, &x->c, 701 + t, 0), 0);
	assert_int_equal(w2.items[1].det.alarms_total[PW_ALARM_LOSS], 1);
	assert_int_equal(feed(&w2.items[1].det, &x->c, 801, 1000), 1);
	assert_false(w2.items[1].det.alarm[PW_ALARM_LOSS]);
	pw_watch_free(&w2);
}

/* A detector saved in its warm-up resumes the warm-up, at its age, with fresh samples. */
static void test_saved_in_warmup(void **state)
{
	struct fx *x = *state;
	struct pw_watch w2;

	for (int t = 1; t <= 10; t++)
		assert_int_equal(feed(&x->w.items[0].det, &x->c, t, 1000), 0);
	assert_int_equal(pw_state_save(x->dir, &x->w, WALL + 10), 0);
	watch_make(&w2);
	assert_int_equal(pw_state_load(x->dir, &w2, NULL, WALL + 15), 3);
	assert_true(w2.items[0].det.age == 15);
	assert_int_equal(w2.items[0].det.n_warm, 0);
	/* 15 s of warm-up left at 10 pps: the baseline is the new median, nothing raised. */
	for (int t = 16; t <= 300; t++)
		assert_int_equal(feed(&w2.items[0].det, &x->c, t, 10), 0);
	assert_true(w2.items[0].det.base_pps == 10);
	pw_watch_free(&w2);
}

/* Load into fresh detectors, expecting nothing restored and nothing changed. */
static void expect_ignored(struct fx *x, double when)
{
	struct pw_watch w2;

	watch_make(&w2);
	assert_int_equal(pw_state_load(x->dir, &w2, NULL, when), 0);
	for (size_t i = 0; i < w2.n; i++) {
		struct pw_detector fresh;

		pw_detector_init(&fresh);
		assert_memory_equal(&w2.items[i].det, &fresh, sizeof(fresh));
	}
	pw_watch_free(&w2);
}

static void rewrite_byte(const char *path, long off, int value)
{
	FILE *f = fopen(path, "r+b");

	assert_non_null(f);
	assert_int_equal(fseek(f, off, off < 0 ? SEEK_END : SEEK_SET), 0);
	assert_int_equal(fputc(value, f), value);
	assert_int_equal(fclose(f), 0);
}

static void test_unusable_files(void **state)
{
	struct fx *x = *state;
	const char *p = state_path(x);
	struct stat st;

	train(x);
	/* Missing. */
	expect_ignored(x, WALL + 610);
	/* Stale: older than relearn (an hour). The same file an hour less a second: used. */
	assert_int_equal(pw_state_save(x->dir, &x->w, WALL + 601), 0);
	expect_ignored(x, WALL + 601 + 3600.5);
	{
		struct pw_watch w2;

		watch_make(&w2);
		assert_int_equal(pw_state_load(x->dir, &w2, NULL, WALL + 601 + 3599), 3);
		pw_watch_free(&w2);
	}
	/* Corrupt: one byte of a detector changed; the checksum changed. */
	assert_int_equal(stat(p, &st), 0);
	rewrite_byte(p, st.st_size / 2, 0x5a);
	expect_ignored(x, WALL + 610);
	assert_int_equal(pw_state_save(x->dir, &x->w, WALL + 601), 0);
	rewrite_byte(p, -1, 0);
	rewrite_byte(p, -2, 0);
	expect_ignored(x, WALL + 610);
	/* Foreign: another magic; another version. */
	assert_int_equal(pw_state_save(x->dir, &x->w, WALL + 601), 0);
	rewrite_byte(p, 0, 'X');
	expect_ignored(x, WALL + 610);
	assert_int_equal(pw_state_save(x->dir, &x->w, WALL + 601), 0);
	rewrite_byte(p, 8, PW_STATE_VERSION + 1);
	expect_ignored(x, WALL + 610);
	/* Truncated, and empty. */
	assert_int_equal(pw_state_save(x->dir, &x->w, WALL + 601), 0);
	assert_int_equal(truncate(p, st.st_size - 100), 0);
	expect_ignored(x, WALL + 610);
	assert_int_equal(truncate(p, 0), 0);
	expect_ignored(x, WALL + 610);
	/* A directory where the file should be. */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0700), 0);
	expect_ignored(x, WALL + 610);
	assert_int_equal(rmdir(p), 0);
	/* A save into a directory that does not exist is an error, not a crash. */
	assert_int_equal(pw_state_save("/nonexistent/prefixwatch", &x->w, WALL), -ENOENT);
}

/* The two settings of issue 9, each parsed into its own field (config.c's hunk). */
static int load_text(struct fx *x, const char *text, struct pw_config *cfg, char *err)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/pw.ini", x->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return pw_config_load(path, cfg, err, 256);
}

static void test_config_keys(void **state)
{
	struct fx *x = *state;
	struct pw_config cfg;
	char err[256];

	assert_int_equal(load_text(x,
				   "[sensor]\ninterface = eth0\n[group a]\nprefix = 10.0.0.0/8\n",
				   &cfg, err),
			 0);
	assert_string_equal(cfg.state_dir, "/var/lib/prefixwatch");
	assert_true(cfg.groups[0].det.relearn == 3600);
	pw_config_free(&cfg);
	assert_int_equal(load_text(x,
				   "[sensor]\ninterface = eth0\nstate_dir = /srv/pw\n"
				   "[group a]\nprefix = 10.0.0.0/8\nrelearn = 120\n"
				   "[group b]\nprefix = 10.0.0.0/8\nrelearn = 0\n",
				   &cfg, err),
			 0);
	assert_string_equal(cfg.state_dir, "/srv/pw");
	assert_true(cfg.groups[0].det.relearn == 120);
	assert_true(cfg.groups[0].det.baseline_window == 300);
	assert_true(cfg.groups[0].det.warmup == 30);
	assert_true(cfg.groups[1].det.relearn == 0);
	pw_config_free(&cfg);
	assert_int_equal(load_text(x,
				   "[sensor]\ninterface = eth0\nstate_dir = off\n"
				   "[group a]\nprefix = 10.0.0.0/8\n",
				   &cfg, err),
			 0);
	assert_string_equal(cfg.state_dir, "");
	pw_config_free(&cfg);
	assert_int_equal(
		load_text(x, "[sensor]\ninterface = eth0\nstate_dir = var/lib\n", &cfg, err), -1);
	assert_non_null(strstr(err, "pw.ini:3: state_dir"));
	assert_int_equal(load_text(x,
				   "[sensor]\ninterface = eth0\n[group a]\nprefix = 10.0.0.0/8\n"
				   "relearn = -1\n",
				   &cfg, err),
			 -1);
	assert_non_null(strstr(err, "pw.ini:5:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_must_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_into_darkness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_saved_in_warmup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unusable_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_keys, setup, teardown),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
