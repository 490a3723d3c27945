// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* events.c - JSON event lines, and the on_event program. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "log.h"

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_log(const char *log, FILE **out)
{
	if (!log || !*log) {
		*out = stdout;
		return 0;
	}
	*out = fopen(log, "ae");
	return *out ? 0 : -errno;
}

static void close_log(struct pw_events *e)
{
	if (e->out && e->out != stdout)
		fclose(e->out);
	e->out = NULL;
}

int pw_events_open(struct pw_events *e, const char *log, const char *on_event)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->on_event, sizeof(e->on_event), "%s", on_event ? on_event : "");
	return open_log(log, &e->out);
}

int pw_events_reopen(struct pw_events *e, const char *log, const char *on_event)
{
	FILE *f;
	int err;

	snprintf(e->on_event, sizeof(e->on_event), "%s", on_event ? on_event : "");
	err = open_log(log, &f);
	close_log(e);
	e->out = err ? stdout : f;
	return err;
}

/* Kill the program's whole group: it is the leader of its own session (setsid). */
static void kill_group(int pid)
{
	/* Not yet a group leader (killed before its setsid ran): the program alone. */
	if (kill(-pid, SIGKILL) && errno == ESRCH)
		kill(pid, SIGKILL);
}

void pw_events_close(struct pw_events *e)
{
	close_log(e);
	for (int i = 0; i < PW_ON_EVENT_MAX; i++) {
		if (e->running[i].pid <= 0)
			continue;
		kill_group(e->running[i].pid);
		/* Only at the end: SIGKILLed, it is gone at once. */
		if (!e->running[i].exited)
			waitpid(e->running[i].pid, NULL, 0);
		e->running[i].pid = 0;
	}
}

/* In the child: no capabilities, no way to regain any, then the program. */
static void exec_child(const char *prog, int in_fd)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	int devnull;

	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	/*
	 * The daemon ignores SIGPIPE and blocks the signals it reads from its signalfd; an
	 * exec keeps both. The program gets what any program expects: defaults, none blocked.
	 */
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	/*
	 * glibc refuses its two reserved signals (32, 33) to sigaction(), and a parent such
	 * as make may have left them ignored: the kernel's call resets them too.
	 */
	for (int sig = 32; sig < SIGRTMIN; sig++) {
		struct {
			void *handler;
			unsigned long flags;
			void *restorer;
			uint64_t mask;
		} k = { .handler = SIG_DFL };

		syscall(SYS_rt_sigaction, sig, &k, NULL, sizeof(k.mask));
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	memset(data, 0, sizeof(data));
	dup2(in_fd, STDIN_FILENO);
	close(in_fd);
	devnull = open("/dev/null", O_WRONLY);
	if (devnull >= 0) {
		dup2(devnull, STDOUT_FILENO);
		close(devnull);
	}
	setsid();
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capset, &hdr, data))
		_exit(126);
	execl(prog, prog, (char *)NULL);
	_exit(127);
}

static void spawn(struct pw_events *e, const char *json, size_t len)
{
	int slot = -1, fds[2];
	pid_t pid;

	for (int i = 0; i < PW_ON_EVENT_MAX; i++)
		if (e->running[i].pid <= 0) {
			slot = i;
			break;
		}
	if (slot < 0) {
		e->dropped++;
		pw_warn("on_event: %d programs still running; event not handed over",
			PW_ON_EVENT_MAX);
		return;
	}
	if (pipe2(fds, O_CLOEXEC)) {
		pw_warn("on_event: pipe: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		pw_warn("on_event: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		close(fds[1]);
		exec_child(e->on_event, fds[0]);
	}
	close(fds[0]);
	/* One event fits the pipe's buffer: this write never waits on the program. */
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	if (write(fds[1], json, len) != (ssize_t)len)
		pw_warn("on_event: could not hand the event to %s", e->on_event);
	close(fds[1]);
	e->running[slot].pid = pid;
	e->running[slot].deadline = mono() + PW_ON_EVENT_TIMEOUT;
	e->running[slot].exited = false;
	e->running[slot].killed = false;
}

void pw_events_sink(void *ctx, const struct pw_watch_item *item, const struct pw_event *ev)
{
	struct pw_events *e = ctx;
	struct pw_buf b = { 0 };

	pw_event_json(item, ev, &b);
	pw_buf_printf(&b, "\n");
	if (b.oom) {
		pw_buf_free(&b);
		return;
	}
	if (e->out) {
		fwrite(b.data, 1, b.len, e->out);
		fflush(e->out);
	}
	if (e->on_event[0])
		spawn(e, b.data, b.len);
	pw_buf_free(&b);
}

void pw_events_reap(struct pw_events *e)
{
	double now = mono();

	for (int i = 0; i < PW_ON_EVENT_MAX; i++) {
		int status, pid = e->running[i].pid;

		if (pid <= 0)
			continue;
		if (!e->running[i].exited && waitpid(pid, &status, WNOHANG) == pid) {
			if (WIFEXITED(status) && WEXITSTATUS(status))
				pw_warn("on_event: %s exited with status %d", e->on_event,
					WEXITSTATUS(status));
			e->running[i].exited = true;
		}
		/*
		 * The program is gone: the slot is free once nothing it started is left in its
		 * group (or that was killed). Its group id stays taken while one member lives.
		 */
		if (e->running[i].exited &&
		    (e->running[i].killed || (kill(-pid, 0) && errno == ESRCH))) {
			e->running[i].pid = 0;
			continue;
		}
		if (!e->running[i].killed && now >= e->running[i].deadline) {
			pw_warn("on_event: %s ran over %.0f s; killed with what it started",
				e->on_event, PW_ON_EVENT_TIMEOUT);
			kill_group(pid);
			e->running[i].killed = true;
			/* Reaped at its SIGCHLD, without waiting here. */
			if (e->running[i].exited)
				e->running[i].pid = 0;
		}
	}
}

int pw_events_timeout_ms(const struct pw_events *e)
{
	double next = -1, now = mono();

	for (int i = 0; i < PW_ON_EVENT_MAX; i++)
		if (e->running[i].pid > 0 && !e->running[i].killed &&
		    (next < 0 || e->running[i].deadline < next))
			next = e->running[i].deadline;
	if (next < 0)
		return -1;
	if (next <= now)
		return 0;
	/* Rounded up, so the wake-up is never before the deadline. */
	return (int)ceil((next - now) * 1000);
}
