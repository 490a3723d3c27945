#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The same capture, sent live with tcpreplay at its own pace and replayed offline, gives
# the same events; events reach event_log and the on_event program; alarm metrics show.
#
# On a busy machine tcpreplay can stall, and a stall is a real gap in the traffic the
# daemon sees (a loss it rightly reports) that the capture does not hold. So the live
# events are compared with a replay of what the router received, captured on its side
# (netsniff-ng) with the times the frames arrived; the capture as generated must give the
# scripted events, and the received one must hold every frame sent.
. "$(dirname "$0")/lib.sh"
need_root
setup_net || { not_ok "create namespaces and veth"; exit 1; }

# 30 s: group a floods 20x from 12 s to 18 s; group b goes dark at 24 s.
"$PCAPGEN" "$TMP/capture.pcap" 2>/dev/null <<'EOF2'
0 30 200 ipv4 10.1.0.1 100
12 6 4000 ipv4 10.1.0.2 100
0 24 100 ipv4 10.2.0.1 80
EOF2
HOOK=$(executable hook.sh) || { not_ok "make the on_event program"; exit 1; }
cat >"$HOOK" <<EOF2
#!/bin/sh
cat >>"$TMP/hook.out"
EOF2
{
	base_config | sed 's/^interval = .*/interval = 1/'
	cat <<EOF2
event_log = $TMP/events.jsonl
on_event = $HOOK
[group a]
prefix = 10.1.0.0/16
warmup = 5
[group b]
prefix = 10.2.0.0/16
warmup = 5
EOF2
} >"$TMP/pw.ini"

# Offline first.
if "$PW" replay -c "$TMP/pw.ini" "$TMP/capture.pcap" >"$TMP/replay.jsonl" 2>"$TMP/replay.err"; then
	ok "replay runs"
else
	not_ok "replay runs"; sed 's/^/#   /' "$TMP/replay.err"
fi
check "replay prints a per-group summary" grep -q "group a .* alarms: flood 1" "$TMP/replay.err"

# The capture first, so the traffic starts as soon as the daemon is up (the warm-up learns
# it whole). Plain pcap (-T): the replay reads it with libpcap. Not through in_rtr: $! must
# be netsniff-ng itself (ip netns exec execs it), to stop it.
ip netns exec "$NS_RTR" netsniff-ng --in "$IF_R" --out "$TMP/received.pcap" -T 0xa1b2c3d4 \
	--silent </dev/null >"$TMP/sniff.out" 2>&1 &
SNIFF_PID=$!
EXTRA_CLEANUP='kill "$SNIFF_PID" 2>/dev/null'
for _ in $(seq 50); do grep -q 'Running' "$TMP/sniff.out" 2>/dev/null && break; sleep 0.1; done
check "netsniff-ng captures on the router's side" grep -q 'Running' "$TMP/sniff.out"
start_daemon "$TMP/pw.ini" || { not_ok "daemon starts"; exit 1; }
in_src tcpreplay -q -i "$IF_S" "$TMP/capture.pcap" >"$TMP/tcpreplay.out" 2>&1 ||
	not_ok "tcpreplay"
scrape >"$TMP/page.txt"
stop_daemon
kill -INT "$SNIFF_PID"
wait "$SNIFF_PID"
if "$PW" replay -c "$TMP/pw.ini" "$TMP/received.pcap" >"$TMP/received.jsonl" \
	2>"$TMP/received.err"; then
	ok "replay of the received frames runs"
else
	not_ok "replay of the received frames runs"; sed 's/^/#   /' "$TMP/received.err"
fi
# Per group, the packets sent and those captured on the router's side: all, but for a
# rare frame the capture's ring may miss (which the comparison below would show anyway).
totals() { grep -E '^  group ' "$1" | awk '{ print $2, $3 }'; }
check "the capture on the router's side holds (nearly) every frame sent" awk '
	NR == FNR { sent[$1] = $2; next }
	{ got[$1] = $2 }
	END { for (g in sent) if (!(got[g] >= 0.999 * sent[g])) { print g, got[g], "of", sent[g]; bad = 1 }
	      exit bad }' <(totals "$TMP/replay.err") <(totals "$TMP/received.err")

summarise() { sed -E 's/.*"group":"([^"]*)".*"kind":"([^"]*)","state":"([^"]*)".*/\1 \2 \3/' "$1"; }
summarise "$TMP/replay.jsonl" >"$TMP/replay.sum"
summarise "$TMP/received.jsonl" >"$TMP/received.sum"
summarise "$TMP/events.jsonl" >"$TMP/live.sum"
diag "replay:   $(tr '\n' ';' <"$TMP/replay.sum")"
diag "received: $(tr '\n' ';' <"$TMP/received.sum")"
diag "live:     $(tr '\n' ';' <"$TMP/live.sum")"
eq "replay finds flood start, flood end, loss start" "$(tr '\n' ';' <"$TMP/replay.sum")" \
	"a flood start;a flood end;b loss start;"
[ "$(cat "$TMP/received.sum")" = "$(cat "$TMP/replay.sum")" ] ||
	diag "the frames arrived with other gaps than sent (tcpreplay stalled): compared as received"
# Group by group, in order: between groups, events seconds apart may swap with the phase
# of the live polls against the replay's intervals cut on the capture's timestamps.
eq "live gives the same events as a replay of what it received, group by group" \
	"$(sort -s -k1,1 "$TMP/live.sum" | tr '\n' ';')" \
	"$(sort -s -k1,1 "$TMP/received.sum" | tr '\n' ';')"
check "events are JSON objects with the documented fields" grep -Eq \
	'^\{"time":[0-9.]+,"group":"a","kind":"flood","state":"start","pps":[0-9.e+]+,"bps":[0-9.e+]+,"baseline_pps":[0-9.e+]+,"baseline_bps":[0-9.e+]+,"vectors":\[\{"vector":"udp".*\],"targets":\[\{"address":"[0-9.]+".*\]\}$' \
	"$TMP/events.jsonl"
for _ in $(seq 50); do [ "$(wc -l <"$TMP/hook.out" 2>/dev/null)" -ge 3 ] && break; sleep 0.1; done
eq "on_event received every event on stdin" "$(summarise "$TMP/hook.out" 2>/dev/null | sort | tr '\n' ';')" \
	"$(sort "$TMP/live.sum" | tr '\n' ';')"
check "alarm metric: b in loss" grep -q '^prefixwatch_alarm{group="b",kind="loss"} 1' "$TMP/page.txt"
check "alarm metric: a not flooding any more" grep -q '^prefixwatch_alarm{group="a",kind="flood"} 0' "$TMP/page.txt"
# One flood, or more when tcpreplay stalled (above): as many as the live events say.
a_floods=$(grep -c '^a flood start$' "$TMP/live.sum")
check "a flooded live ($a_floods times)" [ "$a_floods" -ge 1 ]
check "alarms_total counts a's floods" grep -q \
	"^prefixwatch_alarms_total{group=\"a\",kind=\"flood\"} $a_floods\$" "$TMP/page.txt"
check "baseline exported, near the 200 pps sent" grep -Eq '^prefixwatch_group_baseline_pps\{group="a"\} (1[5-9][0-9]|2[0-4][0-9])' "$TMP/page.txt"
[ "$TAP_FAILED" = 0 ]
