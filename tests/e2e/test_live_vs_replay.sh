#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The same capture, sent live with tcpreplay at its own pace and replayed offline, gives
# the same events; events reach event_log and the on_event program; alarm metrics show.
. "$(dirname "$0")/lib.sh"
need_root
setup_net || { not_ok "create namespaces and veth"; exit 1; }

# 30 s: group a floods 20x from 12 s to 18 s; group b goes dark at 24 s.
"$PCAPGEN" "$TMP/capture.pcap" 2>/dev/null <<'EOF2'
0 30 200 ipv4 10.1.0.1 100
12 6 4000 ipv4 10.1.0.2 100
0 24 100 ipv4 10.2.0.1 80
EOF2
cat >"$TMP/hook.sh" <<EOF2
#!/bin/sh
cat >>"$TMP/hook.out"
EOF2
chmod +x "$TMP/hook.sh"
{
	base_config | sed 's/^interval = .*/interval = 1/'
	cat <<EOF2
event_log = $TMP/events.jsonl
on_event = $TMP/hook.sh
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

start_daemon "$TMP/pw.ini" || { not_ok "daemon starts"; exit 1; }
in_src tcpreplay -q -i "$IF_S" "$TMP/capture.pcap" >"$TMP/tcpreplay.out" 2>&1 ||
	not_ok "tcpreplay"
scrape >"$TMP/page.txt"
stop_daemon

summarise() { sed -E 's/.*"group":"([^"]*)".*"kind":"([^"]*)","state":"([^"]*)".*/\1 \2 \3/' "$1"; }
summarise "$TMP/replay.jsonl" >"$TMP/replay.sum"
summarise "$TMP/events.jsonl" >"$TMP/live.sum"
diag "replay: $(tr '\n' ';' <"$TMP/replay.sum")"
diag "live:   $(tr '\n' ';' <"$TMP/live.sum")"
eq "replay finds flood start, flood end, loss start" "$(tr '\n' ';' <"$TMP/replay.sum")" \
	"a flood start;a flood end;b loss start;"
eq "live gives the same events as replay" "$(tr '\n' ';' <"$TMP/live.sum")" \
	"$(tr '\n' ';' <"$TMP/replay.sum")"
check "events are JSON objects with the documented fields" grep -Eq \
	'^\{"time":[0-9.]+,"group":"a","kind":"flood","state":"start","pps":[0-9.e+]+,"bps":[0-9.e+]+,"baseline_pps":[0-9.e+]+,"baseline_bps":[0-9.e+]+,"vectors":\[\{"vector":"udp".*\],"targets":\[\{"address":"[0-9.]+".*\]\}$' \
	"$TMP/events.jsonl"
for _ in $(seq 50); do [ "$(wc -l <"$TMP/hook.out" 2>/dev/null)" -ge 3 ] && break; sleep 0.1; done
eq "on_event received every event on stdin" "$(summarise "$TMP/hook.out" 2>/dev/null | sort | tr '\n' ';')" \
	"$(sort "$TMP/live.sum" | tr '\n' ';')"
check "alarm metric: b in loss" grep -q '^prefixwatch_alarm{group="b",kind="loss"} 1' "$TMP/page.txt"
check "alarm metric: a not flooding any more" grep -q '^prefixwatch_alarm{group="a",kind="flood"} 0' "$TMP/page.txt"
check "alarms_total counts a's flood" grep -q '^prefixwatch_alarms_total{group="a",kind="flood"} 1' "$TMP/page.txt"
check "baseline exported, near the 200 pps sent" grep -Eq '^prefixwatch_group_baseline_pps\{group="a"\} (1[5-9][0-9]|2[0-4][0-9])' "$TMP/page.txt"
[ "$TAP_FAILED" = 0 ]
