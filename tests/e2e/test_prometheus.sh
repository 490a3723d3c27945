#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A real Prometheus server scrapes the daemon; PromQL returns the expected series.
. "$(dirname "$0")/lib.sh"
need_root
command -v prometheus >/dev/null || { not_ok "prometheus is not installed (make deps)"; exit 1; }
setup_net || { not_ok "create namespaces and veth"; exit 1; }

{
	base_config
	cat <<'EOF2'
[group kp]
prefix = 175.45.176.0/22
[group v6]
prefix = 2001:db8::/32
EOF2
} >"$TMP/pw.ini"
start_daemon "$TMP/pw.ini" || { not_ok "daemon starts"; exit 1; }
send <<'EOF2'
0 1 321 ipv4 175.45.176.1 100
0 1 123 vlan6 2001:db8::42 100
EOF2

PROM_PORT=$((PORT + 1))
cat >"$TMP/prometheus.yml" <<EOF2
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: prefixwatch
    static_configs:
      - targets: ['127.0.0.1:$PORT']
        labels:
          site: test
EOF2
check "promtool check config" promtool check config "$TMP/prometheus.yml"
ip netns exec "$NS_RTR" prometheus --config.file="$TMP/prometheus.yml" \
	--storage.tsdb.path="$TMP/tsdb" --web.listen-address="127.0.0.1:$PROM_PORT" \
	>"$TMP/prometheus.log" 2>&1 &
PROM_PID=$!
EXTRA_CLEANUP="kill $PROM_PID 2>/dev/null; wait $PROM_PID 2>/dev/null"

query() { # PROMQL -> the first sample's value, or "none"
	in_rtr curl -sf --get "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" |
		python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")' 2>/dev/null ||
		echo none
}

got=none
for _ in $(seq 60); do
	got=$(query 'prefixwatch_group_packets_total{group="kp",site="test"}')
	[ "$got" = 321 ] && break
	sleep 0.5
done
eq "PromQL: kp packets through Prometheus" "$got" 321
eq "PromQL: IPv6 prefix series" "$(query 'prefixwatch_prefix_packets_total{prefix="2001:db8::/32"}')" 123
eq "PromQL: target is up" "$(query 'up{job="prefixwatch"}')" 1
eq "PromQL: build_info" "$(query 'count(prefixwatch_build_info)')" 1
check "SIGTERM: clean exit 0" stop_daemon
[ "$TAP_FAILED" = 0 ]
