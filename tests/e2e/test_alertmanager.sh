#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Alerts delivered: deploy/prometheus-alerts.yml evaluated by a real Prometheus, which
# sends to a real Alertmanager, which delivers to a webhook receiver. A blackout at the
# namespace gateway (the traffic towards group gw stops) reaches the receiver as a firing
# PrefixwatchLoss for gw at that site, and its resolution arrives once traffic returns.
#
# Everything runs in the test's router namespace, on its loopback. Short intervals (1 s
# scrape and evaluation, 1 s group wait and interval) keep it quick; every wait is a
# bounded poll for a condition, never a fixed delay.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prom.sh"
need_root
for c in prometheus prometheus-alertmanager tcpreplay python3; do
	command -v "$c" >/dev/null || { not_ok "$c is not installed (make deps)"; exit 1; }
done
setup_net || { not_ok "create namespaces and veth"; exit 1; }

# A short warm-up so the baseline forms in seconds rather than the default 30.
{
	base_config
	cat <<'EOF2'
[group gw]
prefix = 198.51.100.0/24
warmup = 5
EOF2
} >"$TMP/pw.ini"
start_daemon "$TMP/pw.ini" || { not_ok "daemon starts"; exit 1; }

"$PCAPGEN" "$TMP/gw.pcap" 2>/dev/null <<'EOF2' || { not_ok "pcapgen"; exit 1; }
0 10 200 ipv4 198.51.100.7 100
EOF2
replay_loop "$NS_SRC" "$IF_S" "$TMP/gw.pcap"
SENDER=$LAST_PID

PROM=127.0.0.1:$((PORT + 1))
AM=127.0.0.1:$((PORT + 2))
HOOK=127.0.0.1:$((PORT + 3))

cat >"$TMP/alertmanager.yml" <<EOF2
route:
  receiver: hook
  group_by: [alertname, group, site]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: http://$HOOK/
        send_resolved: true
EOF2
cat >"$TMP/prometheus.yml" <<EOF2
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $ROOT/deploy/prometheus-alerts.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['$AM']
scrape_configs:
  - job_name: prefixwatch
    static_configs:
      - targets: ['127.0.0.1:$PORT']
        labels:
          site: gw1
EOF2
check "promtool check config" promtool check config "$TMP/prometheus.yml"
check "amtool check-config" amtool check-config "$TMP/alertmanager.yml"
hook_start "$NS_RTR" "$HOOK" "$TMP/hook.jsonl" || { not_ok "webhook receiver starts"; exit 1; }
am_start "$NS_RTR" "$AM" "$TMP/alertmanager.yml" || { not_ok "Alertmanager starts"; exit 1; }
prom_start "$NS_RTR" "$PROM" "$TMP/prometheus.yml" prometheus || { not_ok "Prometheus starts"; exit 1; }
ok "webhook receiver, Alertmanager and Prometheus are up"

ams=none
for _ in $(seq 120); do
	ams=$(ip netns exec "$NS_RTR" curl -sf "http://$PROM/api/v1/alertmanagers" |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["activeAlertmanagers"]))' 2>/dev/null)
	[ "$ams" = 1 ] && break
	sleep 0.5
done
eq "Prometheus has found the Alertmanager" "$ams" 1
# The steady state: past the warm-up, a baseline learned, no loss alert.
eq "gw has a baseline and is past its warm-up" "$(prom_wait "$NS_RTR" "$PROM" \
	'count(prefixwatch_group_baseline_pps{group="gw"} > 50 and on() (time() - prefixwatch_last_reload_success_timestamp_seconds > 8))' 1)" 1
eq "no loss alert before the blackout" "$(prom_wait "$NS_RTR" "$PROM" \
	'count(ALERTS{alertname="PrefixwatchLoss"}) or vector(0)' 0)" 0

# The blackout: nothing reaches the gateway any more.
t_dark=$(date +%s.%N)
kill "$SENDER"
wait "$SENDER" 2>/dev/null

# find KIND SINCE [STARTS]: the startsAt of the first notification of PrefixwatchLoss for gw
# at gw1 in state KIND (firing or resolved) that began after SINCE (and, for resolved,
# whose startsAt is STARTS and whose endsAt is after SINCE). Exit status 1 while none.
find() {
	python3 - "$TMP/hook.jsonl" "$@" <<'EOF2'
import json, re, sys
from datetime import datetime, timezone
def ts(s):  # RFC 3339 in UTC as Prometheus writes it, nanoseconds cut to microseconds
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", s)
    t = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return t.timestamp() + float("0." + (m.group(2) or "0"))
path, kind, since = sys.argv[1], sys.argv[2], float(sys.argv[3])
starts = sys.argv[4] if len(sys.argv) > 4 else None
for line in open(path):
    m = json.loads(line)
    for a in m.get("alerts", []):
        l = a["labels"]
        if l.get("alertname") != "PrefixwatchLoss" or l.get("group") != "gw" or l.get("site") != "gw1":
            continue
        if a["status"] != kind:
            continue
        if kind == "firing" and ts(a["startsAt"]) > since:
            print(a["startsAt"], l.get("severity"), a["annotations"].get("summary", "").strip())
            sys.exit(0)
        if kind == "resolved" and a["startsAt"] == starts and ts(a["endsAt"]) > since:
            print(a["endsAt"])
            sys.exit(0)
sys.exit(1)
EOF2
}

fired=
for _ in $(seq 240); do
	fired=$(find firing "$t_dark") && break
	sleep 0.5
done
if [ -n "$fired" ]; then
	ok "the receiver got a firing PrefixwatchLoss for gw at gw1 ($fired)"
else
	not_ok "the receiver got a firing PrefixwatchLoss for gw at gw1 after the blackout"
	sed 's/^/#   /' "$TMP/hook.jsonl" | cut -c1-300 | tail -5
fi
starts=${fired%% *}
rest=${fired#* }
eq "it is a page" "${rest%% *}" page
eq "its summary names the group and the site" "${rest#* }" "Traffic towards gw has stopped at gw1"

# The traffic returns.
t_back=$(date +%s.%N)
replay_loop "$NS_SRC" "$IF_S" "$TMP/gw.pcap"
resolved=
for _ in $(seq 240); do
	resolved=$(find resolved "$t_back" "$starts") && break
	sleep 0.5
done
if [ -n "$resolved" ]; then
	ok "the receiver got its resolution after the traffic returned (ended $resolved)"
else
	not_ok "the receiver got the resolution of the loss alert of $starts"
	sed 's/^/#   /' "$TMP/hook.jsonl" | cut -c1-300 | tail -5
fi
check "SIGTERM: clean exit 0" stop_daemon
[ "$TAP_FAILED" = 0 ]
