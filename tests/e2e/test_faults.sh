#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Faults: an interface removed and re-created while attached; SIGKILL and restart; a clean
# stop leaves nothing attached; bpffs not mounted.
. "$(dirname "$0")/lib.sh"
need_root
setup_net || { not_ok "create namespaces and veth"; exit 1; }
IF_S2=${IF_S}b IF_R2=${IF_R}b
add_second() {
	ip link add "$IF_S2" netns "$NS_SRC" type veth peer name "$IF_R2" netns "$NS_RTR" &&
		in_src ip link set "$IF_S2" up && in_rtr ip link set "$IF_R2" up
}
add_second || { not_ok "second veth"; exit 1; }
{
	base_config | sed "s/^interface = .*/interface = $IF_R $IF_R2/"
	printf '[group kp]\nprefix = 175.45.176.0/22\n'
} >"$TMP/pw.ini"
start_daemon "$TMP/pw.ini" || { not_ok "daemon starts"; exit 1; }

send <<<'0 1 100 ipv4 175.45.176.1 100'
settle
eq "counts on the first interface" "$(metric 'prefixwatch_group_packets_total{group="kp"}')" 100

check "the second interface is reported as attached" \
	grep -q "^prefixwatch_attached{interface=\"$IF_R2\"" <<<"$(scrape)"

# Remove the second interface: logged, the first keeps counting.
ip -n "$NS_RTR" link del "$IF_R2"
settle
check "the removal is logged" grep -q "interface $IF_R2 disappeared" "$TMP/daemon.err"
check "no longer reported as attached (in any mode)" absent "^prefixwatch_attached\\{interface=\"$IF_R2\","
send <<<'0 1 50 ipv4 175.45.176.2 100'
settle
eq "the other interface keeps counting" "$(metric 'prefixwatch_group_packets_total{group="kp"}')" 150
check "the daemon is still running" kill -0 "$DAEMON_PID"

# Re-create it: attached again, counting on it.
add_second
settle
check "the return is logged" grep -q "interface $IF_R2 is back: attached again" "$TMP/daemon.err"
eq "reported as attached again" "$(metric "prefixwatch_attached{interface=\"$IF_R2\",mode=\"native\"}")" 1
in_src tcpreplay -q -i "$IF_S2" --topspeed "$TMP/send.pcap" >/dev/null 2>&1
settle
eq "counts on the re-created interface" "$(metric 'prefixwatch_group_packets_total{group="kp"}')" 200
eq "its interface counter continued" "$(metric "prefixwatch_interface_packets_total{interface=\"$IF_R2\"}")" 50

# SIGKILL: the program stays attached (nobody detached it) ...
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
check "after SIGKILL the program is still attached" bash -c "ip netns exec $NS_RTR ip link show $IF_R | grep -q prog/xdp"
check "and its maps are still pinned" test -e "$PIN_DIR/pw_counters"
# ... and a restart takes over: removes the orphan, attaches, counts afresh.
start_daemon "$TMP/pw.ini" || { not_ok "restart after SIGKILL"; exit 1; }
ok "restart after SIGKILL"
check "the orphan program is removed, and said so" grep -q "removed the prefixwatch program an earlier run left attached to $IF_R" "$TMP/daemon.err"
eq "one program on the interface" "$(ip netns exec "$NS_RTR" ip link show "$IF_R" | grep -c 'prog/xdp')" 1
send <<<'0 1 30 ipv4 175.45.176.3 100'
settle
eq "counters restart from zero after a restart (a Prometheus counter reset)" \
	"$(metric 'prefixwatch_group_packets_total{group="kp"}')" 30
check "SIGTERM: clean exit 0" stop_daemon
check "nothing left attached after a clean stop" no_xdp "$NS_RTR"
check "no pins left after a clean stop" test ! -e "$PIN_DIR"

# bpffs not mounted: the daemon mounts it (in a private mount namespace, not the host's).
unshare -m --propagation private bash -c "
	umount /sys/fs/bpf 2>/dev/null
	grep -q ' /sys/fs/bpf bpf ' /proc/mounts && exit 3
	nsenter --net=/run/netns/$NS_RTR timeout --preserve-status -s TERM 3 $PW run -c $TMP/pw.ini -l off
" >"$TMP/nobpffs.out" 2>&1
rc=$?
eq "without bpffs: mounted, ran, stopped cleanly" "$rc" 0
check "says it mounted bpffs" grep -q "mounted bpffs at /sys/fs/bpf" "$TMP/nobpffs.out"
[ "$TAP_FAILED" = 0 ]
