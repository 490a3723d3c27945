#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Signals are acted on at once, whatever the interval (here 60 s): a SIGHUP that comes
# during a reload is done right after it (the old loop slept a whole interval first), and
# SIGTERM stops the daemon within a second (the issue's bound; allowed 3 s here, as the
# machine running the tests may be loaded).
. "$(dirname "$0")/lib.sh"
need_root
EXTRA_CLEANUP="rm -rf $PIN_DIR"
setup_net || { not_ok "create namespaces and veth"; exit 1; }

N=48
IFS_MANY=
for i in $(seq $N); do
	in_rtr ip link add "v${ID}x$i" type veth peer name "w${ID}x$i" &&
		in_rtr ip link set "v${ID}x$i" up && in_rtr ip link set "w${ID}x$i" up ||
		{ not_ok "create interface pair $i"; exit 1; }
	IFS_MANY="$IFS_MANY v${ID}x$i"
done
cfg=$TMP/pw.ini
{ base_config | sed 's/^interval = .*/interval = 60/'; printf '[group g]\nprefix = 10.0.0.0/8\n'; } >"$cfg"
cp "$cfg" "$TMP/one.ini"
sed "s/^interface = .*/interface =$IFS_MANY/" "$TMP/one.ini" >"$TMP/many.ini"
start_daemon "$cfg" || { not_ok "daemon starts"; exit 1; }

count() { grep -c "$1" "$TMP/daemon.err"; }
# wait_count PATTERN N TRIES: until PATTERN is logged N times, every 20 ms.
wait_count() {
	for _ in $(seq "$3"); do
		[ "$(count "$1")" -ge "$2" ] && return 0
		sleep 0.02
	done
	return 1
}

# A reload that attaches to 48 interfaces takes a while; the second HUP comes meanwhile.
sleep 0.5
cp "$TMP/many.ini" "$cfg"
kill -HUP "$DAEMON_PID"
check "the first reload starts" wait_count "SIGHUP: reloading" 1 500
eq "the first reload is still running when the second HUP is sent" "$(count 'info: reloaded')" 0
cp "$TMP/one.ini" "$cfg"
kill -HUP "$DAEMON_PID"
# Generous: the 48 attaches, then the second reload, well within the 60 s interval.
check "the second HUP is acted on right after the first reload, not an interval later" \
	wait_count "info: reloaded" 2 1000
check "the interfaces follow the second reload" bash -c \
	"out=\$(ip netns exec $NS_RTR ip link show v${ID}x1) && ! grep -q xdp <<<\"\$out\" && out=\$(ip netns exec $NS_RTR ip link show $IF_R) && grep -q xdp <<<\"\$out\""

# SIGTERM at interval 60: polled every 50 ms for 3 s.
sleep 0.5
kill -TERM "$DAEMON_PID"
stopped=no
for _ in $(seq 60); do
	kill -0 "$DAEMON_PID" 2>/dev/null || { stopped=yes; break; }
	sleep 0.05
done
eq "SIGTERM at interval 60 stops the daemon within 3 s" "$stopped" yes
wait "$DAEMON_PID"
eq "exit status" "$?" 0
DAEMON_PID=
[ "$TAP_FAILED" = 0 ]
