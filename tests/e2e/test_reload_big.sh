#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Issue 9: steady traffic, and a SIGHUP every few seconds next to a table of a million
# IPv4 prefixes (each reload writes them all again, for seconds), raises no event at all.
# The first rate after each reload must cover the packets that arrived while it ran: when
# it left them out, the interval after a reload looked dark and raised a loss.
. "$(dirname "$0")/lib.sh"
need_root
setup_net || { not_ok "create namespaces and veth"; exit 1; }

N=1000000
RELOADS=5
awk -v n=$N 'BEGIN { for (i = 0; i < n; i++)
	printf "11.%d.%d.%d/32\n", int(i / 65536), int(i / 256) % 256, i % 256 }' >"$TMP/big.txt"
"$PCAPGEN" "$TMP/steady.pcap" 2>/dev/null <<'EOF2' || { not_ok "pcapgen"; exit 1; }
0 300 100 ipv4 10.1.0.1 100
EOF2
# A 1 s interval, as the default: the first poll after a reload comes right after it.
# (a stall of the sender would have to last most of an interval to look like a loss).
{
	base_config | sed 's/^interval = .*/interval = 1/'
	cat <<EOF2
event_log = $TMP/events.jsonl
[group a]
prefix = 10.1.0.0/16
warmup = 5
[group big]
prefix_file = big.txt
export = group
EOF2
} >"$TMP/pw.ini"

# The traffic first, so the warm-up learns it whole.
# Not through in_src: $! must be the sender itself (ip netns exec execs it), to stop it.
ip netns exec "$NS_SRC" tcpreplay -q --timer=nano -i "$IF_S" "$TMP/steady.pcap" \
	>"$TMP/tcpreplay.out" 2>&1 &
TR_PID=$!
EXTRA_CLEANUP='kill "$TR_PID" 2>/dev/null'
# start_daemon waits 10 s for /metrics; a million prefixes may take longer to load here.
start_daemon "$TMP/pw.ini"
for _ in $(seq 600); do
	in_rtr curl -sf "http://127.0.0.1:$PORT/metrics" -o /dev/null 2>/dev/null && break
	kill -0 "$DAEMON_PID" 2>/dev/null || break
	sleep 0.1
done
check "the daemon serves /metrics with $N prefixes" bash -c \
	"ip netns exec $NS_RTR curl -sf http://127.0.0.1:$PORT/metrics >/dev/null"
sleep 10 # past the warm-up (5 s), a baseline learned

reloaded() { metric 'prefixwatch_config_reloads_total{result="success"}'; }
for i in $(seq $RELOADS); do
	t0=$(date +%s.%N)
	kill -HUP "$DAEMON_PID"
	# One at a time: wait for this one to be done (SIGHUPs while one runs would merge).
	for _ in $(seq 300); do
		[ "$(reloaded)" = "$i" ] && break
		sleep 0.1
	done
	diag "reload $i took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s (to the page)"
	sleep 2
done
sleep 6 # three more polls: the intervals after the last reload
eq "$RELOADS reloads succeeded" "$(reloaded)" "$RELOADS"
eq "none failed" "$(metric 'prefixwatch_config_reloads_total{result="failure"}')" 0
page=$(scrape)
diag "$(grep -E '^prefixwatch_group_(baseline_pps|packets_total)' <<<"$page" | tr '\n' ' ')"
check "group a's baseline is near the 100 pps sent" grep -Eq \
	'^prefixwatch_group_baseline_pps\{group="a"\} (8[0-9]|9[0-9]|1[01][0-9])(\.|$)' <<<"$page"
check "group big is counted (a million prefixes live)" grep -q \
	'^prefixwatch_group_packets_total{group="big"} ' <<<"$page"
check "no alarm was raised (every alarms_total is 0)" bash -c \
	"grep '^prefixwatch_alarms_total' | grep -c . | grep -qx 6 && ! grep -q '^prefixwatch_alarms_total.* [1-9]'" <<<"$page"
kill "$TR_PID" 2>/dev/null
check "SIGTERM: clean exit 0" stop_daemon
check "the event_log was opened" test -e "$TMP/events.jsonl"
eq "no event at all" "$(wc -l <"$TMP/events.jsonl")" 0
[ -s "$TMP/events.jsonl" ] && sed 's/^/#   /' "$TMP/events.jsonl"
[ "$TAP_FAILED" = 0 ]
