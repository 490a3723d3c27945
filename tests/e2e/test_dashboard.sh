#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The Grafana dashboard, deploy/grafana/prefixwatch.json: its model is importable (a
# datasource variable used by every panel, a group variable), and every PromQL expression
# in it - panel targets, the alarm annotation, the variables' label_values() queries - is
# run against a real Prometheus scraping a running sensor that sees traffic of every kind
# and has a flood alarm raised: each must parse and return data.
#
# The class-mix panel reads prefixwatch_group_class_packets_total, which the sensor may not
# export yet; while its /metrics page lacks that family, its expression must still parse
# and the test says that it returned no data, and once the family is there it must return
# data like every other.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prom.sh"
need_root
command -v prometheus >/dev/null || { not_ok "prometheus is not installed (make deps)"; exit 1; }
DASH=$ROOT/deploy/grafana/prefixwatch.json
[ -f "$DASH" ] || { not_ok "$DASH exists"; exit 1; }
setup_net || { not_ok "create namespaces and veth"; exit 1; }

# gw has a static flood threshold far below the traffic sent, so its flood alarm is raised
# from the first intervals on (a static threshold works during the warm-up).
{
	base_config
	cat <<'EOF2'
[group gw]
prefix = 198.51.100.0/24
prefix = 198.51.100.128/25
flood_pps = 20
[group other]
prefix = 203.0.113.0/24
EOF2
} >"$TMP/pw.ini"
start_daemon "$TMP/pw.ini" || { not_ok "daemon starts"; exit 1; }

# Traffic of every class the dashboard shows, looped until the end of the test.
"$PCAPGEN" "$TMP/loop.pcap" 2>/dev/null <<'EOF2' || { not_ok "pcapgen"; exit 1; }
0 10 100 ipv4 198.51.100.7 100
0 10 20 ipv4 198.51.100.200 200
0 10 10 ipv4 203.0.113.9 80
0 10 5 ipv4 192.0.2.1 80
0 10 5 ipv6 2001:db8::1 100
0 10 2 arp - 60
0 10 2 runt - 18
EOF2
replay_loop "$NS_SRC" "$IF_S" "$TMP/loop.pcap"

PROM=127.0.0.1:$((PORT + 1))
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
prom_start "$NS_RTR" "$PROM" "$TMP/prometheus.yml" prometheus || { not_ok "Prometheus starts"; exit 1; }

# Is the class-mix family on the sensor's page yet?
scrape >"$TMP/page" || { not_ok "scrape the sensor"; exit 1; }
if grep -q '^prefixwatch_group_class_packets_total{' "$TMP/page"; then class=1; else class=0; fi

# The checker: structure first, then each expression, retried until it returns data (rate()
# needs two samples in its window; the flood alarm a few polls) within a generous bound.
cat >"$TMP/check.py" <<'EOF2'
import json, re, sys, time, urllib.parse, urllib.request

dash_file, prom, have_class = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
d = json.load(open(dash_file))

def out(ok, what):
    print(("ok\t" if ok else "fail\t") + what, flush=True)

# Structure: what Grafana needs to import it anywhere.
tv = {v["name"]: v for v in d["templating"]["list"]}
out(tv.get("datasource", {}).get("type") == "datasource"
    and tv["datasource"].get("query") == "prometheus", "a datasource variable of type prometheus")
out("group" in tv and tv["group"].get("type") == "query", "a group variable")
panels = [p for p in d["panels"] if p["type"] != "row"]
ids = [p["id"] for p in d["panels"]]
out(len(ids) == len(set(ids)), "panel ids are unique")
bad = [p["title"] for p in panels
       if p.get("datasource", {}).get("uid") != "${datasource}"
       or any(t.get("datasource", {}).get("uid") != "${datasource}" for t in p["targets"])]
out(not bad, "every panel and target uses the datasource variable" + (": not " + ", ".join(bad) if bad else ""))
out(d.get("uid") == "prefixwatch" and d.get("schemaVersion", 0) >= 36, "uid and schemaVersion")

exprs = []
for p in panels:
    for t in p["targets"]:
        exprs.append(("panel '%s' %s" % (p["title"], t["refId"]), t["expr"]))
for a in d["annotations"]["list"]:
    if a.get("expr"):
        exprs.append(("annotation '%s'" % a["name"], a["expr"]))
for v in d["templating"]["list"]:
    if v["type"] == "query":
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q)
        out(m is not None, "variable %s is a label_values() query" % v["name"])
        if m:
            exprs.append(("variable %s" % v["name"], "count by (%s) (%s)" % (m.group(2), m.group(1))))
out(len(exprs) >= 15, "the dashboard holds %d expressions" % len(exprs))

# What Grafana puts in: "All" is the allValue .*, one group selected, the intervals of a
# 1 s scrape interval.
subst = {"$__rate_interval": "10s", "$__interval": "2s", "$__range": "1m",
         "$instance": ".*", "$group": "gw"}

def query(e):
    url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": e})
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as err:
        return json.load(err)
    except Exception as err:
        return {"status": "error", "error": str(err)}

deadline = time.time() + 120
for what, e in exprs:
    for k in sorted(subst, key=len, reverse=True):
        e = e.replace(k, subst[k])
    leftover = re.findall(r"\$\w+", e)
    if leftover:
        out(False, "%s: unknown variable %s" % (what, leftover))
        continue
    nodata_ok = "prefixwatch_group_class_packets_total" in e and not have_class
    while True:
        r = query(e)
        n = len(r.get("data", {}).get("result", [])) if r.get("status") == "success" else -1
        if n > 0 or n < 0 or nodata_ok or time.time() > deadline:
            break
        time.sleep(1)
    if n < 0:
        out(False, "%s: %s: %s" % (what, e, r.get("error")))
    elif nodata_ok:
        out(n == 0, "%s parses; no data until the sensor exports "
            "prefixwatch_group_class_packets_total (another change adds it)" % what)
    else:
        out(n > 0, "%s returns data (%d series): %s" % (what, n, e))
EOF2

# Wait for Prometheus to have seen the alarm, so the annotation has something to show.
got=$(prom_wait "$NS_RTR" "$PROM" 'prefixwatch_alarm{group="gw",kind="flood"}' 1)
eq "Prometheus sees gw's flood alarm raised" "$got" 1

while IFS=$'\t' read -r res what; do
	if [ "$res" = ok ]; then ok "$what"; else not_ok "$what"; fi
done < <(in_rtr python3 "$TMP/check.py" "$DASH" "http://$PROM" "$class" 2>&1 |
	sed 's/^Traceback/fail\tthe checker crashed: Traceback/')
[ "$TAP_N" -gt 20 ] || not_ok "the checker ran (only $TAP_N results)"
check "SIGTERM: clean exit 0" stop_daemon
[ "$TAP_FAILED" = 0 ]
