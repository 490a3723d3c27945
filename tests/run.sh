#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Run every test (or one layer: unit, bpf, e2e) and close with "N passed, N failed".
#
# Every test speaks TAP: cmocka binaries through CMOCKA_MESSAGE_OUTPUT=TAP, the end-to-end
# scripts through tests/e2e/lib.sh. A test binary that crashes or exits non-zero without a
# "not ok" line counts as one failure, so nothing fails silently.
set -u
BUILD=${1:-build}
LAYER=${2:-all}
cd "$(dirname "$0")/.."
LOGS=$BUILD/test-logs
mkdir -p "$LOGS"
# Where tests write programs they then run (test_watch's on_event scripts): under the
# build tree, which allows exec, unlike a /tmp mounted noexec.
PW_TEST_EXEC_DIR=$(cd "$BUILD" && pwd)/tmp
mkdir -p "$PW_TEST_EXEC_DIR"
export PW_TEST_EXEC_DIR

# make check SANITIZE=1: stop at the first error, and write every process's report to a
# file per test, so that the reports of daemons whose stderr a test does not keep are seen
# too; run_one fails a test that left one. Leaks in libraries, not ours: tests/lsan.supp.
SAN_DIR=
SAN_SKIP=
if [ "${SANITIZE:-}" = 1 ]; then
	SAN_DIR=$PWD/$LOGS/sanitizer
	rm -rf "$SAN_DIR"
	export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1
	export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
	export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
	# The plain run does the long runs; here the same code paths, shorter, to keep CI
	# (both runs) well under 20 minutes. The libFuzzer targets are built with ASan and
	# UBSan in both runs, so they run in the plain one only.
	export PW_FUZZ_FRAMES=${PW_FUZZ_FRAMES:-2000000}
	export PW_SOAK_SECONDS=${PW_SOAK_SECONDS:-20}
	export PW_SKIP_FUZZ_TARGETS=1
	export PW_BIG_PREFIXES=${PW_BIG_PREFIXES:-200000}
	# Replay under the sanitizers on scenarios that reach every path (quiet and busy
	# series, floods, losses, relearning, each anatomy vector); the plain run has them all.
	export PW_EVAL_SCENARIOS=${PW_EVAL_SCENARIOS-steady-poisson flood-20x blackout \
lasting-fall-85pct quiet-0.3pps-24h anat-synflood anat-snmp-amp anat-dns-amp-fragments \
anat-carpet-ntp anat-hidden-synflood}
	# These check what is built around the daemon (the package, Prometheus rules and
	# dashboards, a fleet of Prometheus servers, the build's inih probe) and run the same
	# daemon code paths as the tests above: the plain run covers them.
	SAN_SKIP=" e2e/test_deb e2e/test_fleet e2e/test_alertmanager e2e/test_dashboard e2e/test_alert_rules e2e/test_build "
fi

# Every test binary or script has PW_TEST_TIMEOUT seconds (the longest, the soak and the
# fuzz targets, take about two minutes), then SIGTERM, then SIGKILL 10 s later: a test
# that hangs (a daemon ignoring SIGTERM, a wait that never ends) fails by name instead of
# stalling CI.
TEST_TIMEOUT=${PW_TEST_TIMEOUT:-300}

passed=0 failed=0 skipped=0
failures=()
timings=()

# The bpffs entries the tests make (lib.sh's pin dirs /sys/fs/bpf/pwt-PID, the BPF tests'
# /sys/fs/bpf/prefixwatch-test-PID): a test must leave none behind, even when it fails.
# An entry is named after its owner's PID (pwt-PID, pwt-PID-x, prefixwatch-test-PID): one
# whose owner still runs belongs to a test running in parallel (another checkout's), not
# to the one that just ended, and is never counted (nor touched).
pins() {
	local p n
	for p in /sys/fs/bpf/pwt-* /sys/fs/bpf/prefixwatch-test-*; do
		[ -e "$p" ] || continue
		n=${p#/sys/fs/bpf/pwt-}
		n=${n#/sys/fs/bpf/prefixwatch-test-}
		n=${n%%[!0-9]*}
		[ -n "$n" ] && kill -0 "$n" 2>/dev/null && continue
		echo "$p"
	done | sort
}

# exec_one NAME COMMAND...: run one test into $LOGS/NAME.log; its exit status, seconds and
# the pins it left go to NAME.rc, NAME.sec and NAME.left. Runs in the background when
# tests run side by side (report_one then reads what it wrote).
exec_one() {
	local name=$1
	shift
	local log=$LOGS/$name.log rc pins_before
	mkdir -p "$(dirname "$log")"
	rm -f "$LOGS/$name.rc" "$LOGS/$name.sec" "$LOGS/$name.left" "$LOGS/$name.id"
	pins_before=$(pins)
	# lib.sh writes its ID (the script's PID, which names its pins) here: with tests side
	# by side, a pin left by one that ended is then not blamed on another.
	export PW_TEST_ID_FILE=$PWD/$LOGS/$name.id
	# A script may ask for a multiple of the limit in a comment line "# timeout-factor: N".
	local limit=$TEST_TIMEOUT factor t0=$SECONDS
	factor=$(sed -n 's/^# timeout-factor: \([0-9]\+\).*/\1/p' "${!#}" 2>/dev/null | head -n 1)
	[ -n "$factor" ] && limit=$((TEST_TIMEOUT * factor))
	if [ -n "$SAN_DIR" ]; then
		mkdir -p "$SAN_DIR/$name"
		ASAN_OPTIONS=$ASAN_OPTIONS:log_path=$SAN_DIR/$name/asan \
			UBSAN_OPTIONS=$UBSAN_OPTIONS:log_path=$SAN_DIR/$name/ubsan \
			CMOCKA_MESSAGE_OUTPUT=TAP timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
	else
		CMOCKA_MESSAGE_OUTPUT=TAP timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
	fi
	rc=$?
	echo "$limit" >"$LOGS/$name.limit"
	echo "$((SECONDS - t0))" >"$LOGS/$name.sec"
	local id
	id=$(cat "$LOGS/$name.id" 2>/dev/null)
	comm -13 <(echo "$pins_before") <(pins) |
		if [ -n "$id" ]; then grep -E "^/sys/fs/bpf/pwt-$id(-|\$)"; else cat; fi |
		tr '\n' ' ' >"$LOGS/$name.left"
	echo "$rc" >"$LOGS/$name.rc"
}

# report_one NAME: print the log of a test that ended, and count it.
report_one() {
	local name=$1
	local log=$LOGS/$name.log rc p f s left limit sec san=
	rc=$(cat "$LOGS/$name.rc" 2>/dev/null || echo 255)
	sec=$(cat "$LOGS/$name.sec" 2>/dev/null || echo 0)
	limit=$(cat "$LOGS/$name.limit" 2>/dev/null || echo "$TEST_TIMEOUT")
	left=$(cat "$LOGS/$name.left" 2>/dev/null)
	timings+=("$sec $name")
	printf '== %s (%d s)\n' "$name" "$sec"
	if [ -n "$SAN_DIR" ] && [ -n "$(ls -A "$SAN_DIR/$name" 2>/dev/null)" ]; then
		cat "$SAN_DIR/$name"/* >>"$log"
		san=1
	fi
	sed 's/^/   /' "$log"
	p=$(grep -cE '^ok [0-9]+' "$log")
	s=$(grep -cE '^ok [0-9]+.*# *(SKIP|skip)' "$log")
	f=$(grep -cE '^not ok [0-9]+' "$log")
	p=$((p - s))
	if [ -n "$san" ]; then
		echo "   not ok - $name left a sanitizer report (above; kept in $SAN_DIR/$name/)"
		f=$((f + 1))
	fi
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "   not ok - $name timed out after $limit s (PW_TEST_TIMEOUT, or its own 'timeout-factor')"
		f=$((f + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "   not ok - $name exited with status $rc"
		f=1
	fi
	if [ -n "$left" ]; then
		# Reported, not removed: a test in another checkout may own it after all.
		echo "   not ok - $name left pins in bpffs: $left(remove them with rm -r)"
		f=$((f + 1))
	fi
	if [ "$((p + f + s))" -eq 0 ]; then
		echo "   not ok - $name ran no test"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	[ "$f" -gt 0 ] && failures+=("$name")
}

SAN_SKIP_LINE="ok 1 # SKIP not run under SANITIZE=1: the plain run covers it (tests/run.sh)"

skip_san() { # NAME: true (and counted) when the sanitized run leaves NAME to the plain one
	[[ "$SAN_SKIP" == *" $1 "* ]] || return 1
	printf '== %s\n' "$1"
	echo "   $SAN_SKIP_LINE"
	skipped=$((skipped + 1))
}

run_one() { # name command...: run one test now, alone, and report it
	skip_san "$1" && return
	exec_one "$@"
	report_one "$1"
}

# End-to-end tests run PW_TEST_JOBS at a time (2 by default): each makes its own namespaces,
# pins, port and files (lib.sh), and most of their time is spent waiting on a daemon, so
# two side by side take little longer than one. Their reports still come in file order.
# A script with a line "# serial" (it changes the machine: installs a package, builds)
# runs alone.
JOBS=${PW_TEST_JOBS:-2}
case $JOBS in '' | *[!0-9]*) JOBS=2 ;; esac
# 'wait -n -p' came with bash 5.1: an older bash runs them one at a time.
if [ "${BASH_VERSINFO[0]}" -lt 5 ] || { [ "${BASH_VERSINFO[0]}" -eq 5 ] && [ "${BASH_VERSINFO[1]}" -lt 1 ]; }; then
	JOBS=1
fi
queue=()	     # tests started and not yet reported, in file order
declare -A pid_of=() # test -> its job while it runs
declare -A ended=()  # tests whose job ended

flush() { # report the tests at the head of the queue that have ended
	while [ ${#queue[@]} -gt 0 ] && [ -n "${ended[${queue[0]}]:-}" ]; do
		report_one "${queue[0]}"
		queue=("${queue[@]:1}")
	done
}

reap() { # wait until one running test ends
	local pid= name
	wait -n -p pid "${pid_of[@]}" 2>/dev/null || true
	for name in "${!pid_of[@]}"; do
		if [ "${pid_of[$name]}" = "$pid" ] || ! kill -0 "${pid_of[$name]}" 2>/dev/null; then
			ended[$name]=1
			unset "pid_of[$name]"
		fi
	done
	flush
}

drain() { # let every running test end, and report them all
	while [ ${#pid_of[@]} -gt 0 ]; do reap; done
	flush
}

run_queued() { # name command...
	local name=$1
	if [[ "$SAN_SKIP" == *" $name "* ]] && [ ${#queue[@]} -gt 0 ]; then
		# Reported in its turn, after the tests still running before it.
		mkdir -p "$(dirname "$LOGS/$name.log")"
		echo "$SAN_SKIP_LINE" >"$LOGS/$name.log"
		echo 0 >"$LOGS/$name.rc"
		echo 0 >"$LOGS/$name.sec"
		: >"$LOGS/$name.left"
		queue+=("$name")
		ended[$name]=1
		flush
		return
	fi
	skip_san "$name" && return
	if grep -q '^# serial' "${!#}" 2>/dev/null || [ "$JOBS" -le 1 ]; then
		drain
		run_one "$@"
		return
	fi
	while [ ${#pid_of[@]} -ge "$JOBS" ]; do reap; done
	exec_one "$@" &
	pid_of[$name]=$!
	queue+=("$name")
}

if [ "$LAYER" = all ] || [ "$LAYER" = unit ]; then
	for t in tests/unit/test_*.c; do
		b=$BUILD/tests/unit/$(basename "$t" .c)
		run_one "unit/$(basename "$b")" "$b"
	done
fi
if [ "$LAYER" = all ] || [ "$LAYER" = bpf ]; then
	for t in tests/bpf/test_*.c; do
		b=$BUILD/tests/bpf/$(basename "$t" .c)
		run_one "bpf/$(basename "$b")" "$b"
	done
fi
if [ "$LAYER" = all ] || [ "$LAYER" = e2e ]; then
	for t in tests/e2e/test_*.sh; do
		[ -e "$t" ] || continue
		run_queued "e2e/$(basename "$t" .sh)" env BUILD="$BUILD" bash "$t"
	done
	drain
fi

echo
# The slowest tests, so a run that grows shows where its time went.
printf '%s\n' "${timings[@]}" | sort -rn | head -8 | awk '{ printf "slowest: %4d s  %s\n", $1, $2 }'
if [ ${#failures[@]} -gt 0 ]; then
	echo "failing: ${failures[*]} (logs in $LOGS/)"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
