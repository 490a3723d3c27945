#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# SIGHUP reloads: surviving prefixes keep counting, nothing goes backwards, a bad config
# is refused and counted, interfaces follow the config.
. "$(dirname "$0")/lib.sh"
need_root
setup_net || { not_ok "create namespaces and veth"; exit 1; }

cfg=$TMP/pw.ini
{
	base_config
	cat <<'EOF2'
[group kp]
prefix = 10.0.0.0/8
prefix = 10.1.0.0/16
[group x]
prefix = 192.0.2.0/24
EOF2
} >"$cfg"
start_daemon "$cfg" || { not_ok "daemon starts"; exit 1; }
send <<'EOF2'
0 1 100 ipv4 10.1.2.3 100
0 1 50 ipv4 10.2.0.1 100
0 1 20 ipv4 192.0.2.1 100
EOF2
settle
eq "before reload: 10.0.0.0/8" "$(metric 'prefixwatch_prefix_packets_total{group="kp",prefix="10.0.0.0/8"}')" 150
eq "before reload: 10.1.0.0/16" "$(metric 'prefixwatch_prefix_packets_total{group="kp",prefix="10.1.0.0/16"}')" 100

# Remove the nested /16 and group x, add a prefix and a group.
{
	base_config
	cat <<'EOF2'
[group kp]
prefix = 10.0.0.0/8
prefix = 198.51.100.0/24
[group y]
prefix = 192.0.2.0/25
EOF2
} >"$cfg"
kill -HUP "$DAEMON_PID"
settle
eq "reload counted as success" "$(metric 'prefixwatch_config_reloads_total{result="success"}')" 1
eq "10.0.0.0/8 keeps its count (the removed /16's packets stay in it)" \
	"$(metric 'prefixwatch_prefix_packets_total{group="kp",prefix="10.0.0.0/8"}')" 150
eq "group kp did not go backwards" "$(metric 'prefixwatch_group_packets_total{group="kp"}')" 150
eq "removed prefix is gone" "$(metric 'prefixwatch_prefix_packets_total{group="kp",prefix="10.1.0.0/16"}')" absent
eq "removed group is gone" "$(metric 'prefixwatch_group_packets_total{group="x"}')" absent
eq "new prefix starts at 0" "$(metric 'prefixwatch_prefix_packets_total{group="kp",prefix="198.51.100.0/24"}')" 0
eq "new group starts at 0" "$(metric 'prefixwatch_group_packets_total{group="y"}')" 0
send <<'EOF2'
0 1 10 ipv4 10.1.2.3 100
0 1 7 ipv4 198.51.100.9 100
0 1 5 ipv4 192.0.2.1 100
0 1 3 ipv4 192.0.2.200 100
EOF2
settle
eq "10.0.0.0/8 now counts the old /16's traffic" "$(metric 'prefixwatch_prefix_packets_total{group="kp",prefix="10.0.0.0/8"}')" 160
eq "new prefix counts" "$(metric 'prefixwatch_prefix_packets_total{group="kp",prefix="198.51.100.0/24"}')" 7
eq "new group counts" "$(metric 'prefixwatch_group_packets_total{group="y"}')" 5
eq "outside the new /25 is unmatched" "$(metric 'prefixwatch_unmatched_packets_total{family="ipv4"}')" 3

# A bad config is refused; the old one keeps running.
cp "$cfg" "$TMP/good.ini"
printf '[group z]\nprefix = 10.0.0.1/8\n' >>"$cfg"
kill -HUP "$DAEMON_PID"
settle
eq "bad reload counted as failure" "$(metric 'prefixwatch_config_reloads_total{result="failure"}')" 1
eq "successes unchanged" "$(metric 'prefixwatch_config_reloads_total{result="success"}')" 1
check "the error names file:line" grep -q "pw.ini:[0-9]*: prefix: '10.0.0.1/8' has host bits set" "$TMP/daemon.err"
send <<'EOF2'
0 1 4 ipv4 198.51.100.1 100
EOF2
settle
eq "old config still counts" "$(metric 'prefixwatch_prefix_packets_total{group="kp",prefix="198.51.100.0/24"}')" 11

# Interfaces follow the config: add a second veth, then drop the first.
ip link add "${IF_S}b" netns "$NS_SRC" type veth peer name "${IF_R}b" netns "$NS_RTR"
in_src ip link set "${IF_S}b" up
in_rtr ip link set "${IF_R}b" up
sed "s/^interface = .*/interface = $IF_R ${IF_R}b/" "$TMP/good.ini" >"$cfg"
kill -HUP "$DAEMON_PID"
settle
check "attached to the added interface" bash -c "ip netns exec $NS_RTR curl -sf http://127.0.0.1:$PORT/metrics | grep -q 'prefixwatch_attached{interface=\"${IF_R}b\"'"
sed "s/^interface = .*/interface = ${IF_R}b/" "$TMP/good.ini" >"$cfg"
kill -HUP "$DAEMON_PID"
settle
check "detached from the dropped interface" no_xdp "$NS_RTR" "$IF_R"
check "still attached to the other" bash -c "ip netns exec $NS_RTR ip link show ${IF_R}b | grep -q prog/xdp"
eq "three successful reloads" "$(metric 'prefixwatch_config_reloads_total{result="success"}')" 3
check "SIGTERM: clean exit 0" stop_daemon
[ "$TAP_FAILED" = 0 ]
