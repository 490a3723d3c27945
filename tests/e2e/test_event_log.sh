#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# event_log and logrotate: after the log is renamed and the daemon gets SIGHUP (what
# logrotate does without copytruncate), new events go to a new file at the configured
# path, not to the renamed one.
. "$(dirname "$0")/lib.sh"
need_root
EXTRA_CLEANUP="rm -rf $PIN_DIR"
setup_net || { not_ok "create namespaces and veth"; exit 1; }

log=$TMP/events.jsonl
# A static flood line only: 2 s at 400 pps is a flood start, the silence after it an end.
{
	base_config
	cat <<EOF2
event_log = $log
[group a]
prefix = 10.1.0.0/16
flood = no
loss = no
flood_pps = 50
warmup = 0
EOF2
} >"$TMP/pw.ini"
"$PCAPGEN" "$TMP/flood.pcap" 2>/dev/null <<'EOF2' || { not_ok "pcapgen"; exit 1; }
0 2 400 ipv4 10.1.0.1 100
EOF2
start_daemon "$TMP/pw.ini" || { not_ok "daemon starts"; exit 1; }

# flood_and_wait FILE: send the flood, wait (at most 20 s) for its end event in FILE.
flood_and_wait() {
	in_src tcpreplay -q -i "$IF_S" "$TMP/flood.pcap" >"$TMP/tcpreplay.out" 2>&1 || return 1
	for _ in $(seq 100); do
		grep -q '"state":"end"' "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}
events() { grep -Eo '"group":"a","kind":"flood","state":"[a-z]+"' "$1" 2>/dev/null | tr '\n' ';'; }

check "a flood's events reach event_log" flood_and_wait "$log"
eq "its start and end" "$(events "$log")" \
	'"group":"a","kind":"flood","state":"start";"group":"a","kind":"flood","state":"end";'

# logrotate: rename, then HUP.
mv "$log" "$log.1"
kill -HUP "$DAEMON_PID"
for _ in $(seq 100); do grep -q "info: reloaded" "$TMP/daemon.err" && break; sleep 0.1; done
check "the reload is done" grep -q "info: reloaded" "$TMP/daemon.err"
check "event_log is created again at its path" test -f "$log"
check "the next flood's events go to the new file" flood_and_wait "$log"
eq "the new file has them" "$(events "$log")" \
	'"group":"a","kind":"flood","state":"start";"group":"a","kind":"flood","state":"end";'
eq "the rotated file got nothing more" "$(wc -l <"$log.1")" 2
check "SIGTERM: clean exit 0" stop_daemon
[ "$TAP_FAILED" = 0 ]
