#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make demo: prefixwatch on a virtual gateway made of network namespaces.
#
#   [pwdemo-inet] --veth--> [pwdemo-gw: prefixwatch on gw-up] --veth--> [pwdemo-kp]
#
# The "internet" namespace sends a generated capture through the gateway to the watched
# networks: steady traffic, then a flood on one network and a blackout of another, then
# recovery. Events are printed as they happen; the metrics and one bpftool dump follow.
# Everything stays inside the three namespaces, which are removed at the end.
set -u
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PW=$ROOT/$BUILD/prefixwatch
TMP=$(mktemp -d /tmp/prefixwatch-demo.XXXXXX)
INET=pwdemo-inet GW=pwdemo-gw KP=pwdemo-kp
PIN=/sys/fs/bpf/prefixwatch-demo
PID= RP= TAILS=

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
in_gw() { nsenter --net=/run/netns/$GW "$@"; }
cleanup() {
	[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ -n "$RP" ] && kill "$RP" 2>/dev/null
	# shellcheck disable=SC2086
	[ -n "$TAILS" ] && pkill -P "$$" tail 2>/dev/null
	for ns in $INET $GW $KP; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
if [ "$(id -u)" != 0 ]; then
	echo "make demo needs root (it creates network namespaces and loads XDP)" >&2
	exit 1
fi
for ns in $INET $GW $KP; do ip netns del "$ns" 2>/dev/null; done

say "Building a virtual gateway from three network namespaces"
for ns in $INET $GW $KP; do
	ip netns add "$ns"
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
ip link add inet0 netns $INET type veth peer name gw-up netns $GW
ip link add gw-down netns $GW type veth peer name kp0 netns $KP
# The generated frames are addressed to this MAC, so the gateway routes them on.
ip -n $GW link set gw-up address 02:00:00:00:00:02
ip -n $INET addr add 198.18.0.1/30 dev inet0
ip -n $GW addr add 198.18.0.2/30 dev gw-up
ip -n $GW addr add 198.18.1.1/30 dev gw-down
ip -n $KP addr add 198.18.1.2/30 dev kp0
ip -n $KP addr add 175.45.176.1/22 dev lo
ip -n $KP addr add 210.52.109.1/24 dev lo
ip -n $INET link set inet0 up
ip -n $GW link set gw-up up
ip -n $GW link set gw-down up
ip -n $KP link set kp0 up
ip netns exec $GW sysctl -qw net.ipv4.ip_forward=1
ip netns exec $GW sysctl -qw net.ipv4.conf.all.rp_filter=0
ip netns exec $GW sysctl -qw net.ipv4.conf.gw-up.rp_filter=0
ip -n $GW route add 175.45.176.0/22 via 198.18.1.2
ip -n $GW route add 210.52.109.0/24 via 198.18.1.2
ip -n $GW route add default via 198.18.0.1
ip -n $KP route add default via 198.18.1.1
echo "  inet0 --> gw-up [gateway] gw-down --> kp0, behind which: 175.45.176.0/22, 210.52.109.0/24"

cat >"$TMP/demo.ini" <<EOF
; prefixwatch demo: the gateway's upstream interface and two watched networks.
[sensor]
interface = gw-up
interval = 1
listen = 127.0.0.1:9473
pin_dir = $PIN
state_dir = $TMP/state

[group kp]          ; the country's main block
prefix = 175.45.176.0/22
warmup = 8

[group web]         ; a hosting network
prefix = 210.52.109.0/24
warmup = 8
EOF
say "Config"
sed 's/^/  /' "$TMP/demo.ini"
"$PW" check -c "$TMP/demo.ini" | sed 's/^/  /'

# 60 s of traffic: steady; a 20x flood on kp at 20-30 s; web dark at 28-42 s.
"$ROOT/$BUILD/tests/pcapgen" "$TMP/traffic.pcap" 2>/dev/null <<EOF
0 60 300 ipv4 175.45.177.10 120
20 10 6000 ipv4 175.45.176.80 64
0 28 100 ipv4 210.52.109.5 200
42 18 100 ipv4 210.52.109.5 200
0 60 5 ipv4 192.0.2.1 80
0 60 1 arp - 60
EOF

say "Starting prefixwatch on gw-up; events are printed as they happen"
nsenter --net=/run/netns/$GW "$PW" run -c "$TMP/demo.ini" >"$TMP/events" 2>"$TMP/log" &
PID=$!
tail -f "$TMP/events" 2>/dev/null | sed -u 's/^/  EVENT /' &
TAILS=$!
tail -f "$TMP/log" 2>/dev/null | sed -u 's/^/  log:  /' &
TAILS="$TAILS $!"
for _ in $(seq 50); do
	in_gw curl -sf http://127.0.0.1:9473/metrics -o /dev/null && break
	sleep 0.1
done

say "Sending traffic: steady, a flood on kp (20-30 s), web dark (28-42 s), recovery"
ip netns exec $INET tcpreplay -q -i inet0 "$TMP/traffic.pcap" >/dev/null 2>&1 &
RP=$!
for t in 5 10 15 20 25 30 35 40 45 50 55; do
	sleep 5
	rates=$(in_gw curl -s http://127.0.0.1:9473/metrics |
		awk -F'[{}" ]' '/^prefixwatch_group_rate_pps/ { printf "%-4s %6.0f pps   ", $3, $NF }')
	echo "  t=${t}s  $rates"
done

say "GET http://127.0.0.1:9473/metrics (a selection)"
in_gw curl -s http://127.0.0.1:9473/metrics |
	grep -E '^prefixwatch_(group_packets|prefix_packets|alarm\{|alarms_total|unmatched_packets|non_ip|interface_packets|attached)' |
	sed 's/^/  /'
say "The sensor changed nothing: the watched networks received the traffic"
ip -n $KP -s link show kp0 | awk '/RX:/ { getline; print "  kp0 received " $2 " packets" }'
say "bpftool map dump pinned $PIN/pw_classes (per-CPU values: unmatched v4/v6, non-IP, malformed)"
bpftool map dump pinned $PIN/pw_classes | head -20 | sed 's/^/  /'
say "Stopping: SIGTERM detaches and unpins"
kill -TERM "$PID"
wait "$PID" 2>/dev/null
PID=
kill "$RP" 2>/dev/null
sleep 0.5
ls "$PIN" >/dev/null 2>&1 && echo "  pins still present!" || echo "  $PIN removed"
echo "  Next: 'make check' runs every test; README.md explains the rest."
