#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Known traffic mixes through a veth: /metrics and the pinned maps equal exactly what
# was sent; promtool finds nothing to report.
. "$(dirname "$0")/lib.sh"
need_root
setup_net || { not_ok "create namespaces and veth"; exit 1; }

base_config >"$TMP/pw.ini"
cat >>"$TMP/pw.ini" <<'EOF2'
[group kp]
prefix = 175.45.176.0/22
prefix = 10.0.0.0/8
prefix = 10.1.0.0/16
[group lab]
prefix = 10.1.0.0/16
prefix = 2001:db8::/32
prefix = 2001:db8:1::/48
EOF2
start_daemon "$TMP/pw.ini" || { not_ok "daemon starts"; exit 1; }
ok "daemon starts and serves /metrics"

# 1000 + 300 + 200 to kp (two of them nested), IPv6 incl. a nested /48, VLAN, QinQ,
# fragments, unmatched of both families, ARP and runts.
send <<'EOF2' || not_ok "tcpreplay"
0 1 500 ipv4 175.45.177.9 100
0 1 500 vlan4 175.45.179.255 1514
0 1 300 qinq4 10.1.2.3 64
0 1 200 frag4 10.200.0.1 1000
0 1 100 ipv6 2001:db8:1::5 200
0 1 50 vlan6 2001:db8:ffff::1 90
0 1 70 ipv4 8.8.8.8 60
0 1 30 ipv6 2001:db9::1 80
0 1 20 arp - 60
0 1 10 runt - 20
EOF2
settle

eq "prefix 175.45.176.0/22 packets" "$(metric 'prefixwatch_prefix_packets_total{group="kp",prefix="175.45.176.0/22"}')" 1000
eq "prefix 175.45.176.0/22 bytes" "$(metric 'prefixwatch_prefix_bytes_total{group="kp",prefix="175.45.176.0/22"}')" $((500 * 100 + 500 * 1514))
eq "10.0.0.0/8 includes its nested /16" "$(metric 'prefixwatch_prefix_packets_total{group="kp",prefix="10.0.0.0/8"}')" 500
eq "10.1.0.0/16 in kp" "$(metric 'prefixwatch_prefix_packets_total{group="kp",prefix="10.1.0.0/16"}')" 300
eq "10.1.0.0/16 in lab" "$(metric 'prefixwatch_prefix_packets_total{group="lab",prefix="10.1.0.0/16"}')" 300
eq "10.1.0.0/16 bytes (QinQ frames)" "$(metric 'prefixwatch_prefix_bytes_total{group="lab",prefix="10.1.0.0/16"}')" $((300 * 64))
eq "group kp counts each packet once" "$(metric 'prefixwatch_group_packets_total{group="kp"}')" 1500
eq "group kp bytes" "$(metric 'prefixwatch_group_bytes_total{group="kp"}')" $((500 * 100 + 500 * 1514 + 300 * 64 + 200 * 1000))
eq "2001:db8::/32 includes the /48" "$(metric 'prefixwatch_prefix_packets_total{group="lab",prefix="2001:db8::/32"}')" 150
eq "2001:db8:1::/48" "$(metric 'prefixwatch_prefix_packets_total{group="lab",prefix="2001:db8:1::/48"}')" 100
eq "group lab" "$(metric 'prefixwatch_group_packets_total{group="lab"}')" 450
eq "unmatched IPv4" "$(metric 'prefixwatch_unmatched_packets_total{family="ipv4"}')" 70
eq "unmatched IPv4 bytes" "$(metric 'prefixwatch_unmatched_bytes_total{family="ipv4"}')" 4200
eq "unmatched IPv6" "$(metric 'prefixwatch_unmatched_packets_total{family="ipv6"}')" 30
eq "non-IP" "$(metric 'prefixwatch_non_ip_packets_total')" 20
eq "malformed" "$(metric 'prefixwatch_malformed_packets_total')" 10
eq "interface total" "$(metric "prefixwatch_interface_packets_total{interface=\"$IF_R\"}")" 1780
mode=$(scrape | awk -F'mode="' '/^prefixwatch_attached/ { split($2, a, "\""); print a[1] }')
eq "attached in native mode" "$mode" native

scrape >"$TMP/page.txt"
if promtool check metrics <"$TMP/page.txt" >"$TMP/promtool.out" 2>&1; then
	ok "promtool check metrics is clean"
else
	not_ok "promtool check metrics:"; sed 's/^/#   /' "$TMP/promtool.out"
fi
ctype=$(in_rtr curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$PORT/metrics")
eq "content type" "$ctype" "text/plain; version=0.0.4; charset=utf-8"
eq "other paths are 404" "$(in_rtr curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")" 404
eq "POST is refused" "$(in_rtr curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/metrics")" 405
check "/ links to /metrics" bash -c "ip netns exec $NS_RTR curl -sf http://127.0.0.1:$PORT/ | grep -q 'href=\"/metrics\"'"

# bpftool sees the pinned maps with named fields.
dump=$(bpftool map dump pinned "$PIN_DIR/pw_classes" 2>&1)
if grep -q '"packets"' <<<"$dump" && grep -q '"bytes"' <<<"$dump"; then
	ok "bpftool map dump pinned $PIN_DIR/pw_classes shows named fields"
else
	not_ok "bpftool dump: $(head -c 300 <<<"$dump")"
fi
for m in pw_counters pw_ifaces pw_ifaces_big pw_active pw_v4_0 pw_v4_1 pw_v6_0 pw_v6_1; do
	if bpftool -j map dump pinned "$PIN_DIR/$m" >/dev/null 2>&1; then
		ok "bpftool dumps $m"
	else
		not_ok "bpftool dumps $m"
	fi
done

check "SIGTERM: clean exit 0" stop_daemon
check "pins removed after a clean stop" test ! -e "$PIN_DIR"
check "detached after stop" no_xdp "$NS_RTR" "$IF_R"
[ "$TAP_FAILED" = 0 ]
