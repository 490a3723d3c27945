#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# lib.sh - shared setup for the end-to-end tests: TAP output, a traffic namespace and
# veth pair, the real daemon, metric scraping, and cleanup in a trap.
#
# Topology: the daemon runs in the test's own network namespace "router" (so it sees
# only the test's interfaces), attached to veth R; its peer S sits in namespace "src",
# where tcpreplay sends the generated frames. Nothing leaves these namespaces.
set -u

BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PW=$ROOT/$BUILD/prefixwatch
PCAPGEN=$ROOT/$BUILD/tests/pcapgen
ID=$$
NS_SRC=pwt-src-$ID
NS_RTR=pwt-rtr-$ID
IF_S=pws$ID
IF_R=pwr$ID
TMP=$(mktemp -d /tmp/prefixwatch-e2e.XXXXXX)
# Programs the daemon executes (on_event) go here, not in $TMP: /tmp may be mounted noexec.
EXEC_DIR=$ROOT/$BUILD/tmp/e2e-$ID
PORT=$((20000 + ID % 20000))
PIN_DIR=/sys/fs/bpf/pwt-$ID
# tests/run.sh: which pins are this test's (its ID names them), when tests run side by side.
[ -n "${PW_TEST_ID_FILE:-}" ] && echo "$ID" >"$PW_TEST_ID_FILE"
DAEMON_PID=
STARTS=0
TAP_N=0
TAP_FAILED=0

ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=1; echo "not ok $TAP_N - $*"; }
skip_test() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP $*"; }
diag() { echo "# $*"; }
# check DESCRIPTION COMMAND...: one TAP line for the command's success; its output is
# kept out of the TAP stream and shown as diagnostics when it fails.
check() {
	local d=$1
	shift
	if "$@" >"$TMP/check.out" 2>&1; then
		ok "$d"
	else
		not_ok "$d"
		sed 's/^/#   /' "$TMP/check.out" | head -20
	fi
}
# eq DESCRIPTION GOT WANT
eq() {
	if [ "$2" = "$3" ]; then ok "$1 ($2)"; else not_ok "$1: got '$2', want '$3'"; fi
}

in_rtr() { ip netns exec "$NS_RTR" "$@"; }
in_src() { ip netns exec "$NS_SRC" "$@"; }

cleanup() {
	if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -TERM "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	[ -n "${EXTRA_CLEANUP:-}" ] && eval "$EXTRA_CLEANUP"
	ip netns del "$NS_SRC" 2>/dev/null
	ip netns del "$NS_RTR" 2>/dev/null
	# A test that failed half-way may leave its pins; tests/run.sh fails a test that
	# leaves any, so they go here whatever happened.
	rm -rf "$TMP" "$EXEC_DIR" "$PIN_DIR"
}
trap cleanup EXIT

need_root() {
	if [ "$(id -u)" != 0 ]; then
		if [ "${CI:-}" = true ]; then
			not_ok "end-to-end tests need root (CI runs as root)"
			exit 1
		fi
		skip_test "end-to-end tests need root"
		exit 0
	fi
}

# Make the two namespaces and the veth pair; IPv6 off so the kernel sends nothing of its own.
setup_net() {
	ip netns add "$NS_SRC" && ip netns add "$NS_RTR" || return 1
	for ns in "$NS_SRC" "$NS_RTR"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
		ip netns exec "$ns" ip link set lo up
	done
	ip link add "$IF_S" netns "$NS_SRC" type veth peer name "$IF_R" netns "$NS_RTR" || return 1
	in_src ip link set "$IF_S" up && in_rtr ip link set "$IF_R" up
}

# start_daemon CONFIG [ARGS...]: run the daemon in the router namespace, wait for /metrics.
# Each start has a state_dir of its own, so no test resumes another's detectors (nor
# writes the host's /var/lib/prefixwatch); a test that restarts into its saved state
# gives its own --state-dir in ARGS (the last one given counts).
start_daemon() {
	local cfg=$1
	shift
	STARTS=$((STARTS + 1))
	# Only the network namespace changes: pins land on the host's bpffs, where bpftool
	# and the tests see them (ip netns exec would give the daemon a private /sys).
	nsenter --net="/run/netns/$NS_RTR" "$PW" run -c "$cfg" --state-dir "$TMP/state-$STARTS" "$@" \
		>"$TMP/daemon.out" 2>"$TMP/daemon.err" &
	DAEMON_PID=$!
	for _ in $(seq 100); do
		if in_rtr curl -sf "http://127.0.0.1:$PORT/metrics" -o /dev/null 2>/dev/null; then
			return 0
		fi
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	diag "daemon did not come up:"
	sed 's/^/#   /' "$TMP/daemon.err"
	return 1
}

stop_daemon() {
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID"
	local rc=$?
	DAEMON_PID=
	return $rc
}

scrape() { in_rtr curl -sf "http://127.0.0.1:$PORT/metrics"; }

# absent PATTERN: /metrics answers, and no line of it matches the extended regular
# expression PATTERN. A page that cannot be fetched is a failure, never an absence.
absent() {
	local page
	page=$(scrape) || { echo "scrape of /metrics failed"; return 1; }
	[ -n "$page" ] || { echo "/metrics is empty"; return 1; }
	if grep -E -- "$1" <<<"$page"; then
		return 1
	fi
	return 0
}

# no_xdp NS [DEV]: 'ip link' in namespace NS succeeds and shows no XDP program (on DEV, or
# on any device). A failing 'ip' is a failure, not an absence.
no_xdp() {
	local out
	out=$(ip netns exec "$1" ip link show ${2:+dev "$2"} 2>&1) || {
		echo "ip link show failed: $out"
		return 1
	}
	if grep 'prog/xdp' <<<"$out"; then
		return 1
	fi
	return 0
}

# executable NAME: an empty file $EXEC_DIR/NAME, mode 0755, on the build's file system
# (which allows exec, since the tests run from it); prints its path.
executable() {
	mkdir -p "$EXEC_DIR" && : >"$EXEC_DIR/$1" && chmod 755 "$EXEC_DIR/$1" && echo "$EXEC_DIR/$1"
}

# metric 'name{labels}' : the value of one series of the current page; "absent" only when
# the page was fetched and lacks the series ("no page" when /metrics did not answer).
metric() {
	local page
	page=$(scrape) && [ -n "$page" ] || { echo "no page"; return 1; }
	awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print "absent" }' <<<"$page"
}

# Wait until two polls have passed, so the page reflects everything sent before.
settle() { sleep "${1:-2.3}"; }

# send FLOWS: generate a pcap from flow lines on stdin and replay it from the source side.
send() {
	"$PCAPGEN" "$TMP/send.pcap" 2>/dev/null || return 1
	in_src tcpreplay -q -i "$IF_S" --topspeed "$TMP/send.pcap" >"$TMP/tcpreplay.out" 2>&1
}

# A minimal config on the test's interface and port; append groups after it.
base_config() {
	cat <<EOC
[sensor]
interface = $IF_R
listen = 127.0.0.1:$PORT
pin_dir = $PIN_DIR
state_dir = $TMP/state
interval = 0.5
EOC
}
