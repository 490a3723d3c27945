#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Flood anatomy through a veth: exact per-group class counters on /metrics (overlapping
# groups, a real SYN flood capture, UDP, fragments), their sum equal to the group totals,
# a class flood event naming the class, vector and victim, and counters that never go
# back across a reload.
. "$(dirname "$0")/lib.sh"
need_root
ATTACKS=${PW_ATTACKS_DIR:-$ROOT/../shared/data/attacks}
SYN=$ATTACKS/pkt.TCP.synflood.spoofed.pcap
if [ ! -r "$SYN" ]; then
	if [ "${CI:-}" = true ]; then
		not_ok "$SYN is missing"
		exit 1
	fi
	skip_test "$SYN not present (shared data)"
	exit 0
fi
setup_net || { not_ok "create namespaces and veth"; exit 1; }

base_config >"$TMP/pw.ini"
cat >>"$TMP/pw.ini" <<EOF2
event_log = $TMP/events.json
[group kp]
prefix = 175.45.176.0/22
flood_syn_pps = 2000
[group lab]
prefix = 175.45.177.0/24
EOF2
start_daemon "$TMP/pw.ini" || { not_ok "daemon starts"; exit 1; }
ok "daemon starts"

send <<'EOF2' || not_ok "tcpreplay"
0 1 500 ipv4 175.45.177.9 100
0 1 200 frag4 175.45.176.1 1000
0 1 70 ipv4 8.8.8.8 60
EOF2
# The real SYN flood (37,841 SYNs), every destination rewritten to a host of lab, at
# 10,000 packets/s: a few intervals over kp's static SYN threshold.
tcprewrite --dstipmap=0.0.0.0/0:175.45.177.80/32 -i "$SYN" -o "$TMP/syn.pcap" 2>"$TMP/tcprewrite.err" \
	|| not_ok "tcprewrite: $(cat "$TMP/tcprewrite.err")"
in_src tcpreplay -q -i "$IF_S" --pps=10000 "$TMP/syn.pcap" >"$TMP/tcpreplay2.out" 2>&1 \
	|| not_ok "tcpreplay of the SYN flood"
settle

cls() { metric "prefixwatch_group_class_packets_total{group=\"$1\",class=\"$2\"}"; }
eq "kp tcp-syn (the capture)" "$(cls kp tcp-syn)" 37841
eq "lab tcp-syn (inside kp too)" "$(cls lab tcp-syn)" 37841
eq "kp udp" "$(cls kp udp)" 500
eq "lab udp" "$(cls lab udp)" 500
eq "kp ip-fragments" "$(cls kp ip-fragments)" 200
eq "lab ip-fragments (sent outside lab)" "$(cls lab ip-fragments)" 0
eq "kp tcp-ack" "$(cls kp tcp-ack)" 0
eq "kp udp bytes" "$(metric 'prefixwatch_group_class_bytes_total{group="kp",class="udp"}')" 50000
for g in kp lab; do
	sum=$(scrape | awk -v g="$g" -F'[{} ]' '$1 == "prefixwatch_group_class_packets_total" &&
		index($2, "group=\"" g "\"") { s += $4; n++ } END { print n == 9 ? s : "absent" }')
	eq "group $g: the nine classes add up to the group" "$sum" \
		"$(metric "prefixwatch_group_packets_total{group=\"$g\"}")"
done
scrape >"$TMP/page.txt"
if promtool check metrics <"$TMP/page.txt" >"$TMP/promtool.out" 2>&1; then
	ok "promtool check metrics is clean"
else
	not_ok "promtool check metrics:"; sed 's/^/#   /' "$TMP/promtool.out"
fi

# The static SYN threshold raised one flood, announced by the tcp-syn class detector.
start=$(grep '"kind":"flood","state":"start"' "$TMP/events.json" 2>/dev/null)
eq "one flood start" "$(grep -c . <<<"$start")" 1
check "its class is tcp-syn" grep -q '"class":"tcp-syn"' <<<"$start"
check "its first vector is tcp-syn" grep -q '"vectors":\[{"vector":"tcp-syn"' <<<"$start"
check "its first target is the victim" grep -q '"targets":\[{"address":"175.45.177.80"' <<<"$start"

# A reload that drops lab and changes kp: kp's class counters continue.
before=$(cls kp tcp-syn)
base_config >"$TMP/pw2.ini"
cat >>"$TMP/pw2.ini" <<EOF2
event_log = $TMP/events.json
[group extra]
prefix = 175.45.178.0/24
[group kp]
prefix = 175.45.176.0/22
prefix = 10.0.0.0/8
EOF2
cp "$TMP/pw2.ini" "$TMP/pw.ini"
kill -HUP "$DAEMON_PID"
settle
send <<'EOF2' || not_ok "tcpreplay"
0 1 100 ipv4 175.45.178.1 100
EOF2
settle
eq "kp tcp-syn kept across the reload" "$(cls kp tcp-syn)" "$before"
eq "kp udp counts on" "$(cls kp udp)" 600
eq "extra udp" "$(cls extra udp)" 100
eq "lab is gone" "$(cls lab udp)" absent

check "SIGTERM: clean exit 0" stop_daemon
[ "$TAP_FAILED" = 0 ]
