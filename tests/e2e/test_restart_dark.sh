#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Issue 9: the detectors' state across restarts. A network goes dark while the daemon is
# stopped (an upgrade during an outage): started again with the same state_dir, the daemon
# resumes its detectors and reports the loss within 20 s (the bound the issue sets; it is
# one or two polls here), where a fresh one would learn the darkness as normal. Restarted
# again while that loss is raised, it keeps it raised and does not raise it twice; when the
# traffic comes back, it ends it.
. "$(dirname "$0")/lib.sh"
need_root
setup_net || { not_ok "create namespaces and veth"; exit 1; }

# Steady 100 packets/s for longer than the test; the test stops and starts the sender.
"$PCAPGEN" "$TMP/steady.pcap" 2>/dev/null <<'EOF2' || { not_ok "pcapgen"; exit 1; }
0 300 100 ipv4 10.1.0.1 100
EOF2
STATE=$TMP/kept-state
# config N: the config of the Nth daemon, each with its own event_log.
config() {
	{
		base_config | sed 's/^interval = .*/interval = 1/'
		cat <<EOF2
event_log = $TMP/events$1.jsonl
[group a]
prefix = 10.1.0.0/16
warmup = 5
EOF2
	} >"$TMP/pw$1.ini"
	echo "$TMP/pw$1.ini"
}
TR_PID=
EXTRA_CLEANUP='[ -n "$TR_PID" ] && kill "$TR_PID" 2>/dev/null'
traffic_on() {
	# Not through in_src: $! must be the sender itself (ip netns exec execs it), to stop it.
	ip netns exec "$NS_SRC" tcpreplay -q --timer=nano -i "$IF_S" "$TMP/steady.pcap" \
		>"$TMP/tcpreplay.out" 2>&1 &
	TR_PID=$!
}
traffic_off() {
	kill "$TR_PID" 2>/dev/null
	wait "$TR_PID" 2>/dev/null
	TR_PID=
}
# wait_for FILE PATTERN SECONDS: until a line of FILE matches; prints the seconds taken.
wait_for() {
	local t0 now
	t0=$(date +%s.%N)
	while :; do
		now=$(date +%s.%N)
		if grep -q "$2" "$1" 2>/dev/null; then
			awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.1f\n", b - a }'
			return 0
		fi
		awk -v a="$t0" -v b="$now" -v m="$3" 'BEGIN { exit !(b - a > m) }' && return 1
		sleep 0.2
	done
}
LOSS_START='"group":"a","kind":"loss","state":"start"'
LOSS_END='"group":"a","kind":"loss","state":"end"'

# 1. Learn the steady traffic, then stop while it still flows: the stop saves the state.
start_daemon "$(config 1)" --state-dir "$STATE" || { not_ok "first daemon starts"; exit 1; }
traffic_on
sleep 15
check "the first daemon learned the traffic (baseline near 100 pps)" bash -c \
	"ip netns exec $NS_RTR curl -sf http://127.0.0.1:$PORT/metrics |
	 grep -Eq '^prefixwatch_group_baseline_pps\\{group=\"a\"\\} (8[0-9]|9[0-9]|1[01][0-9])(\\.|\$)'"
check "saved while running (every 10 s; 15 s have passed)" test -s "$STATE/detectors.state"
check "SIGTERM: clean exit 0" stop_daemon
check "the stop saved the state in state_dir" test -s "$STATE/detectors.state"
eq "state_dir is made 0700" "$(stat -c %a "$STATE")" 700

# 2. Dark while the daemon is down; started again, it reports the loss from the state.
traffic_off
sleep 2
start_daemon "$(config 2)" --state-dir "$STATE" || { not_ok "second daemon starts"; exit 1; }
if took=$(wait_for "$TMP/events2.jsonl" "$LOSS_START" 20); then
	ok "restarted into darkness: loss reported ${took} s after the start (bound: 20 s)"
else
	not_ok "restarted into darkness: no loss reported within 20 s"
	sed 's/^/#   /' "$TMP/daemon.err" | tail -5
fi
check "it resumed the saved detector (no warm-up)" \
	grep -q "detector state $STATE/detectors.state: 1 of 1 detectors resumed" "$TMP/daemon.err"
check "SIGTERM with the loss raised: clean exit 0" stop_daemon

# 3. Started again while that loss is raised: it stays raised and is not raised again.
start_daemon "$(config 3)" --state-dir "$STATE" || { not_ok "third daemon starts"; exit 1; }
for _ in $(seq 100); do
	polls=$(metric prefixwatch_polls_total)
	[ "$polls" != "no page" ] && [ "$polls" != absent ] && [ "$polls" -ge 8 ] && break
	sleep 0.2
done
eq "the third daemon polled 8 times in the dark" "$([ "$polls" -ge 8 ] 2>/dev/null && echo yes)" yes
eq "the loss is still raised" "$(metric 'prefixwatch_alarm{group="a",kind="loss"}')" 1
check "the third daemon opened its event_log" test -e "$TMP/events3.jsonl"
eq "and raised no loss again" "$(grep -c "$LOSS_START" "$TMP/events3.jsonl")" 0
traffic_on
if took=$(wait_for "$TMP/events3.jsonl" "$LOSS_END" 30); then
	ok "the traffic is back: it ends the loss it resumed (${took} s)"
else
	not_ok "the traffic is back: no loss end within 30 s"
fi
traffic_off
check "SIGTERM: clean exit 0" stop_daemon
eq "one loss start in all three daemons' events" \
	"$(cat "$TMP"/events[123].jsonl | grep -c "$LOSS_START")" 1
[ "$TAP_FAILED" = 0 ]
