// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_events.c - the limits of on_event programs (pw_events): at most PW_ON_EVENT_MAX at
 * once, killed with everything they started after PW_ON_EVENT_TIMEOUT, no capabilities,
 * default signal dispositions and no signal blocked, whatever the daemon's.
 *
 * The program run is this test binary itself (found through /proc/self/exe, so nothing is
 * executed from /tmp, which may be noexec): with PW_TEST_CHILD in its environment, main()
 * plays the on_event program instead of running the tests. Its modes:
 *   status - copy stdin and the CapEff, SigBlk and SigIgn lines of /proc/self/status
 *            to $PW_TEST_OUT, then exit 0;
 *   hang   - start a grandchild, write its pid to $PW_TEST_OUT, and both sleep forever;
 *   leave  - start a grandchild that sleeps forever, write its pid, and exit at once.
 * Left alone, both end by SIGALRM after a minute, never by SIGKILL, so a failing test leaves
 * nothing running for long and cannot be mistaken for a pass.
 * The test process is a child subreaper, so the grandchildren are reparented to it and it
 * can see how they ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "events.h"
#include "watch.h"

static char self[PATH_MAX];
static char tmpdir[64];

/* ---- the on_event program ---- */

static void write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			_exit(3);
		s += w;
		n -= (size_t)w;
	}
}

static int child_main(const char *mode)
{
	const char *path = getenv("PW_TEST_OUT");
	int out = path ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
	char buf[8192], line[64];
	ssize_t n;

	if (out < 0)
		return 2;
	if (!strcmp(mode, "status")) {
		FILE *st = fopen("/proc/self/status", "re");

		while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
			write_all(out, buf, (size_t)n);
		if (!st)
			return 2;
		while (fgets(buf, sizeof(buf), st))
			if (!strncmp(buf, "CapEff:", 7) || !strncmp(buf, "SigBlk:", 7) ||
			    !strncmp(buf, "SigIgn:", 7))
				write_all(out, buf, strlen(buf));
		fclose(st);
		return 0;
	}
	if (!strcmp(mode, "hang") || !strcmp(mode, "leave")) {
		pid_t g = fork();

		if (g < 0)
			return 2;
		/* Both end within a minute even when the code under test fails to kill them. */
		alarm(60);
		if (g == 0) {
			for (;;)
				pause();
		}
		snprintf(line, sizeof(line), "%d\n", (int)g);
		write_all(out, line, strlen(line));
		if (!strcmp(mode, "leave"))
			return 0;
		for (;;)
			pause();
	}
	return 2;
}

/* ---- helpers ---- */

static int make_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pw_test_events.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The program for @mode, writing to @name in the test's directory. */
static void use_mode(const char *mode, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", tmpdir, name);
	unlink(out);
	setenv("PW_TEST_CHILD", mode, 1);
	setenv("PW_TEST_OUT", out, 1);
}

static void sample(struct pw_watch_item *it, struct pw_event *ev)
{
	memset(it, 0, sizeof(*it));
	snprintf(it->group, sizeof(it->group), "kp");
	*ev = (struct pw_event){ .kind = PW_ALARM_FLOOD, .start = true, .time = 1419206400,
				 .pps = 5000, .bps = 2e7, .baseline_pps = 100,
				 .baseline_bps = 400000 };
}

#define SAMPLE_JSON                                                                        \
	"{\"time\":1419206400.000,\"group\":\"kp\",\"kind\":\"flood\",\"state\":\"start\","    \
	"\"pps\":5000,\"bps\":20000000,\"baseline_pps\":100,\"baseline_bps\":400000}\n"

static int n_running(const struct pw_events *e)
{
	int n = 0;

	for (int i = 0; i < PW_ON_EVENT_MAX; i++)
		n += e->running[i].pid > 0;
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Reap every 20 ms until no program is running, for at most @secs seconds. */
static bool reap_until_idle(struct pw_events *e, int secs)
{
	for (int i = 0; i < secs * 50; i++) {
		pw_events_reap(e);
		if (!n_running(e))
			return true;
		sleep_ms(20);
	}
	return false;
}

/* The pids the program wrote to @path, one a line; returns how many. */
static int read_pids(const char *path, pid_t *pids, int max)
{
	FILE *f = fopen(path, "re");
	int n = 0, p;

	if (!f)
		return 0;
	while (n < max && fscanf(f, "%d", &p) == 1)
		pids[n++] = p;
	fclose(f);
	return n;
}

/* Wait (at most 5 s) for @pid, a reparented grandchild, to end; true when SIGKILL did it. */
static bool ended_by_sigkill(pid_t pid)
{
	int status;

	for (int i = 0; i < 250; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
		if (r < 0)
			return false;
		sleep_ms(20);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return false;
}

/* ---- tests ---- */

/* The daemon ignores SIGPIPE and blocks the signals of its signalfd: the program must not. */
static void test_child_environment(void **state)
{
	char out[128], text[4096], *p;
	struct pw_watch_item it;
	struct pw_events e;
	struct pw_event ev;
	sigset_t block, old;
	FILE *f;
	size_t n;

	(void)state;
	use_mode("status", "status.out", out, sizeof(out));
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);

	assert_int_equal(pw_events_open(&e, "/dev/null", self), 0);
	sample(&it, &ev);
	pw_events_sink(&e, &it, &ev);
	assert_int_equal(n_running(&e), 1);
	assert_true(reap_until_idle(&e, 5));
	pw_events_close(&e);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGPIPE, SIG_DFL);

	f = fopen(out, "re");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	/* The event on stdin, then the status lines. */
	assert_memory_equal(text, SAMPLE_JSON, strlen(SAMPLE_JSON));
	p = text + strlen(SAMPLE_JSON);
	/* What the program saw, for the log when one of the lines below fails. */
	if (!strstr(p, "CapEff:\t0000000000000000\n") || !strstr(p, "SigBlk:\t0000000000000000\n") ||
	    !strstr(p, "SigIgn:\t0000000000000000\n"))
		print_message("# the program saw:\n%s\n", p);
	assert_non_null(strstr(p, "CapEff:\t0000000000000000\n"));
	assert_non_null(strstr(p, "SigBlk:\t0000000000000000\n"));
	assert_non_null(strstr(p, "SigIgn:\t0000000000000000\n"));
}

/* At most PW_ON_EVENT_MAX at once: the events beyond are counted as dropped. */
static void test_at_most_16(void **state)
{
	char out[128];
	struct pw_watch_item it;
	struct pw_events e;
	struct pw_event ev;
	pid_t pids[64];
	int n = 0;

	(void)state;
	use_mode("hang", "hang16.out", out, sizeof(out));
	assert_int_equal(PW_ON_EVENT_MAX, 16);
	assert_int_equal(pw_events_open(&e, "/dev/null", self), 0);
	sample(&it, &ev);
	for (int i = 0; i < 20; i++)
		pw_events_sink(&e, &it, &ev);
	assert_int_equal(n_running(&e), 16);
	assert_int_equal(e.dropped, 4);
	/* Wait until all 16 have started their grandchild. */
	for (int i = 0; i < 250 && (n = read_pids(out, pids, 64)) < 16; i++)
		sleep_ms(20);
	assert_int_equal(n, 16);
	/* At the end every group goes, grandchildren included. */
	pw_events_close(&e);
	assert_int_equal(n_running(&e), 0);
	for (int i = 0; i < n; i++)
		assert_true(ended_by_sigkill(pids[i]));
}

/*
 * The deadline: a program that hangs is killed with its grandchild, and one that exits
 * leaving a grandchild behind keeps its slot until the deadline kills that. Nothing is
 * killed before the deadline. Waits PW_ON_EVENT_TIMEOUT (10 s).
 */
static void test_deadline_kills_group(void **state)
{
	char out_hang[128], out_leave[128];
	struct pw_watch_item it;
	struct pw_events e;
	struct pw_event ev;
	pid_t hang_g[1] = { 0 }, leave_g[1] = { 0 };
	int timeout;

	(void)state;
	sample(&it, &ev);
	assert_int_equal(pw_events_open(&e, "/dev/null", self), 0);
	assert_int_equal(pw_events_timeout_ms(&e), -1);
	use_mode("hang", "hang.out", out_hang, sizeof(out_hang));
	pw_events_sink(&e, &it, &ev);
	use_mode("leave", "leave.out", out_leave, sizeof(out_leave));
	pw_events_sink(&e, &it, &ev);
	assert_int_equal(n_running(&e), 2);
	/* The loop is told when to wake for the deadline. */
	timeout = pw_events_timeout_ms(&e);
	assert_true(timeout > 0 && timeout <= (int)(PW_ON_EVENT_TIMEOUT * 1000));

	for (int i = 0; i < 250 && (read_pids(out_hang, hang_g, 1) < 1 ||
				    read_pids(out_leave, leave_g, 1) < 1); i++)
		sleep_ms(20);
	assert_int_equal(read_pids(out_hang, hang_g, 1), 1);
	assert_int_equal(read_pids(out_leave, leave_g, 1), 1);
	/* "leave" has exited: reaped, but its grandchild still holds the slot. */
	sleep_ms(200);
	pw_events_reap(&e);
	assert_int_equal(n_running(&e), 2);
	assert_int_equal(kill(hang_g[0], 0), 0);
	assert_int_equal(kill(leave_g[0], 0), 0);

	/* Sleep until the deadline the loop would wake at, then reap as the loop does. */
	while ((timeout = pw_events_timeout_ms(&e)) > 0)
		sleep_ms(timeout);
	assert_int_equal(timeout, 0);
	assert_true(reap_until_idle(&e, 5));
	assert_int_equal(pw_events_timeout_ms(&e), -1);
	assert_true(ended_by_sigkill(hang_g[0]));
	assert_true(ended_by_sigkill(leave_g[0]));
	pw_events_close(&e);
}

int main(int argc, char **argv)
{
	const char *mode = getenv("PW_TEST_CHILD");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_child_environment),
		cmocka_unit_test(test_at_most_16),
		cmocka_unit_test(test_deadline_kills_group),
	};
	ssize_t n;

	(void)argc;
	(void)argv;
	/* _exit: the program is not the test; no exit-time checks (a sanitizer's) in it. */
	if (mode)
		_exit(child_main(mode));
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	/* Grandchildren whose parent dies come to us, so their end can be seen. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
