#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A fleet of two: sensors on two namespace routers (sites ams1 and fra1) watch the same
# group gw. A regional Prometheus scrapes both over a management network; a central one
# federates from it, as a central site would, and evaluates deploy/prometheus-alerts.yml.
# When gw goes dark behind ams1 only, PrefixwatchDarkAtOneSite fires for ams1 alone and
# PrefixwatchDarkEverywhere stays quiet; when it goes dark behind fra1 too,
# PrefixwatchDarkEverywhere fires for gw at 2 sites and PrefixwatchDarkAtOneSite ends;
# when traffic returns at both, both end.
#
#   src-a -> rtr-a (sensor, 10.201.1.1) --+
#                                          +-- mgmt (Prometheus regional, central)
#   src-b -> rtr-b (sensor, 10.201.2.1) --+
#
# All in namespaces the test makes; Prometheus listens on the management namespace's
# loopback. Every wait is a bounded poll for a condition.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prom.sh"
need_root
for c in prometheus tcpreplay python3; do
	command -v "$c" >/dev/null || { not_ok "$c is not installed (make deps)"; exit 1; }
done

NS_SRC2=pwt-src2-$ID
NS_RTR2=pwt-rtr2-$ID
NS_MGMT=pwt-mgmt-$ID
IF_S2=pwS$ID
IF_R2=pwR$ID
PIN_A=$PIN_DIR-a
PIN_B=$PIN_DIR-b
EXTRA_CLEANUP='kill_bg; ip netns del $NS_SRC2 2>/dev/null; ip netns del $NS_RTR2 2>/dev/null;
	ip netns del $NS_MGMT 2>/dev/null; rm -rf $PIN_A $PIN_B'

newns() {
	ip netns add "$1" || return 1
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip netns exec "$1" ip link set lo up
}
# link NS1 IF1 NS2 IF2 [ADDR1 ADDR2]: a veth pair between two namespaces, up, addressed.
link() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || return 1
	ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up || return 1
	if [ -n "${5:-}" ]; then
		ip -n "$1" addr add "$5/30" dev "$2" && ip -n "$3" addr add "$6/30" dev "$4"
	fi
}
setup_fleet() {
	setup_net || return 1
	newns "$NS_SRC2" && newns "$NS_RTR2" && newns "$NS_MGMT" || return 1
	link "$NS_SRC2" "$IF_S2" "$NS_RTR2" "$IF_R2" || return 1
	link "$NS_RTR" "pwma$ID" "$NS_MGMT" "pwMa$ID" 10.201.1.1 10.201.1.2 || return 1
	link "$NS_RTR2" "pwmb$ID" "$NS_MGMT" "pwMb$ID" 10.201.2.1 10.201.2.2
}
setup_fleet || { not_ok "create the namespaces of the fleet"; exit 1; }
ok "two routers, two sources and a management network"

# sensor NS IFACE ADDR PIN: a sensor watching gw on IFACE, metrics on ADDR. As lib.sh
# does, only the network namespace changes, so the pins land on the host's bpffs.
sensor() {
	cat >"$TMP/pw-$1.ini" <<EOC
[sensor]
interface = $2
listen = $3
pin_dir = $4
state_dir = $TMP/state-$1
interval = 0.5
[group gw]
prefix = 198.51.100.0/24
warmup = 5
EOC
	nsenter --net="/run/netns/$1" "$PW" run -c "$TMP/pw-$1.ini" >"$TMP/pw-$1.out" 2>&1 &
	BG_PIDS="$BG_PIDS $!"
	wait_http "$1" "http://$3/metrics" || { sed 's/^/#   /' "$TMP/pw-$1.out" | tail; return 1; }
}
sensor "$NS_RTR" "$IF_R" "10.201.1.1:$PORT" "$PIN_A" || { not_ok "sensor at ams1 starts"; exit 1; }
sensor "$NS_RTR2" "$IF_R2" "10.201.2.1:$PORT" "$PIN_B" || { not_ok "sensor at fra1 starts"; exit 1; }
check "the management network reaches both sensors" sh -c "
	ip netns exec $NS_MGMT curl -sf http://10.201.1.1:$PORT/metrics >/dev/null &&
	ip netns exec $NS_MGMT curl -sf http://10.201.2.1:$PORT/metrics >/dev/null"

"$PCAPGEN" "$TMP/gw.pcap" 2>/dev/null <<'EOF2' || { not_ok "pcapgen"; exit 1; }
0 10 200 ipv4 198.51.100.7 100
EOF2
replay_loop "$NS_SRC" "$IF_S" "$TMP/gw.pcap"
SEND_A=$LAST_PID
replay_loop "$NS_SRC2" "$IF_S2" "$TMP/gw.pcap"
SEND_B=$LAST_PID

REGIONAL=127.0.0.1:$((PORT + 1))
CENTRAL=127.0.0.1:$((PORT + 2))
cat >"$TMP/regional.yml" <<EOF2
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: prefixwatch
    static_configs:
      - targets: ['10.201.1.1:$PORT']
        labels:
          site: ams1
      - targets: ['10.201.2.1:$PORT']
        labels:
          site: fra1
EOF2
# The central server takes only the sensors' series (and their up) from the regional one,
# keeping their labels, and alerts on them.
cat >"$TMP/central.yml" <<EOF2
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $ROOT/deploy/prometheus-alerts.yml
scrape_configs:
  - job_name: federate
    honor_labels: true
    metrics_path: /federate
    params:
      'match[]': ['{job="prefixwatch"}']
    static_configs:
      - targets: ['$REGIONAL']
EOF2
check "promtool check config (regional)" promtool check config "$TMP/regional.yml"
check "promtool check config (central)" promtool check config "$TMP/central.yml"
prom_start "$NS_MGMT" "$REGIONAL" "$TMP/regional.yml" regional || { not_ok "regional Prometheus starts"; exit 1; }
prom_start "$NS_MGMT" "$CENTRAL" "$TMP/central.yml" central || { not_ok "central Prometheus starts"; exit 1; }
ok "regional and central Prometheus are up"

q() { prom_wait "$NS_MGMT" "$CENTRAL" "$@"; }
eq "central has both sites' gw through federation" \
	"$(q 'count(prefixwatch_group_packets_total{group="gw",job="prefixwatch",site=~"ams1|fra1"})' 2)" 2
eq "both sensors have a baseline and are past their warm-up" "$(q 'count(prefixwatch_group_baseline_pps{group="gw"} > 50 and on(instance) (time() - prefixwatch_last_reload_success_timestamp_seconds > 8))' 2)" 2
eq "no loss alarm anywhere before the outages" \
	"$(q 'count(prefixwatch_alarm{kind="loss"} == 1) or vector(0)' 0)" 0

firing() { # ALERTNAME [MATCHERS]: how many of that alert are firing at the central server
	echo "count(ALERTS{alertname=\"$1\",alertstate=\"firing\"${2:+,$2}}) or vector(0)"
}

# gw goes dark behind ams1 only.
kill "$SEND_A"
wait "$SEND_A" 2>/dev/null
eq "dark at ams1: PrefixwatchDarkAtOneSite fires for gw at ams1" \
	"$(q "$(firing PrefixwatchDarkAtOneSite 'group="gw",site="ams1"')" 1)" 1
eq "... for ams1 alone" "$(prom_query "$NS_MGMT" "$CENTRAL" "$(firing PrefixwatchDarkAtOneSite)")" 1
eq "... and PrefixwatchDarkEverywhere does not" \
	"$(prom_query "$NS_MGMT" "$CENTRAL" "$(firing PrefixwatchDarkEverywhere)")" 0
eq "... while fra1 still sees gw" \
	"$(prom_query "$NS_MGMT" "$CENTRAL" 'prefixwatch_alarm{group="gw",kind="loss",site="fra1"}')" 0

# And behind fra1 too.
kill "$SEND_B"
wait "$SEND_B" 2>/dev/null
eq "dark at both: PrefixwatchDarkEverywhere fires for gw" \
	"$(q "$(firing PrefixwatchDarkEverywhere 'group="gw"')" 1)" 1
eq "... with the description naming 2 sites" "$(ip netns exec "$NS_MGMT" curl -sf "http://$CENTRAL/api/v1/alerts" |
	python3 -c '
import json, sys
for a in json.load(sys.stdin)["data"]["alerts"]:
    if a["labels"]["alertname"] == "PrefixwatchDarkEverywhere" and a["state"] == "firing":
        print(a["annotations"]["summary"])' 2>&1)" "gw is dark at every site (2 sites)"
eq "... and PrefixwatchDarkAtOneSite has ended" "$(q "$(firing PrefixwatchDarkAtOneSite)" 0)" 0

# Traffic returns at both sites.
replay_loop "$NS_SRC" "$IF_S" "$TMP/gw.pcap"
replay_loop "$NS_SRC2" "$IF_S2" "$TMP/gw.pcap"
eq "traffic back: PrefixwatchDarkEverywhere ends" "$(q "$(firing PrefixwatchDarkEverywhere)" 0)" 0
eq "... every loss alarm ends" "$(q 'count(prefixwatch_alarm{kind="loss"} == 1) or vector(0)' 0)" 0
eq "... and PrefixwatchDarkAtOneSite is quiet" "$(q "$(firing PrefixwatchDarkAtOneSite)" 0)" 0
[ "$TAP_FAILED" = 0 ]
