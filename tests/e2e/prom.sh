#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# prom.sh - the monitoring side of the end-to-end tests, sourced after lib.sh: a real
# Prometheus, a real Alertmanager (Debian's prometheus-alertmanager) and a webhook receiver
# (python3's http.server), each started by hand on a loopback or namespace address inside
# a namespace the test made, and stopped by lib.sh's trap (EXTRA_CLEANUP).

BG_PIDS=
# The trap stops what was started here, then lib.sh's own cleanup runs.
EXTRA_CLEANUP='kill_bg'
kill_bg() {
	local p
	for p in $BG_PIDS; do kill "$p" 2>/dev/null; done
	for p in $BG_PIDS; do wait "$p" 2>/dev/null; done
	BG_PIDS=
}

# bg NS LOG COMMAND...: run COMMAND in namespace NS in the background, output to LOG.
bg() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 &
	BG_PIDS="$BG_PIDS $!"
	LAST_PID=$!
}

# wait_http NS URL [TRIES]: until URL answers 2xx, 0.5 s apart (default 120 tries).
wait_http() {
	local i
	for i in $(seq "${3:-120}"); do
		ip netns exec "$1" curl -sf -o /dev/null "$2" 2>/dev/null && return 0
		sleep 0.5
	done
	return 1
}

# prom_start NS ADDR CONFIG NAME: a Prometheus server on ADDR (HOST:PORT) in NS, data in
# $TMP/NAME; waits until it is ready.
prom_start() {
	bg "$1" "$TMP/$4.log" prometheus --config.file="$3" --storage.tsdb.path="$TMP/$4" \
		--web.listen-address="$2" --web.enable-lifecycle
	wait_http "$1" "http://$2/-/ready" || { sed 's/^/#   /' "$TMP/$4.log" | tail -20; return 1; }
}

# am_start NS ADDR CONFIG: an Alertmanager on ADDR in NS, without clustering (which would
# listen on every address), data in $TMP/alertmanager; waits until it is ready.
am_start() {
	bg "$1" "$TMP/alertmanager.log" prometheus-alertmanager --config.file="$3" \
		--storage.path="$TMP/alertmanager" --web.listen-address="$2" --cluster.listen-address=
	wait_http "$1" "http://$2/-/ready" ||
		{ sed 's/^/#   /' "$TMP/alertmanager.log" | tail -20; return 1; }
}

# hook_start NS ADDR FILE: a webhook receiver on ADDR in NS that appends each POSTed body
# (Alertmanager's JSON) to FILE, one per line; waits until it answers.
hook_start() {
	cat >"$TMP/hook.py" <<'EOF'
import http.server, json, sys
host, port = sys.argv[1].rsplit(":", 1)
out = sys.argv[2]
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "a") as f:
            f.write(json.dumps(json.loads(body)) + "\n")
        self.send_response(200)
        self.end_headers()
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer((host, int(port)), Hook).serve_forever()
EOF
	: >"$3"
	bg "$1" "$TMP/hook.log" python3 "$TMP/hook.py" "$2" "$3"
	wait_http "$1" "http://$2/" || { sed 's/^/#   /' "$TMP/hook.log"; return 1; }
}

# prom_query NS ADDR PROMQL: the value of the first sample of an instant query, "none" if
# the result is empty, "error" if the query failed.
prom_query() {
	ip netns exec "$1" curl -s --get "http://$2/api/v1/query" --data-urlencode "query=$3" |
		python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    print("error"); sys.exit()
if d.get("status") != "success":
    print("error"); sys.exit()
r = d["data"]["result"]
print(r[0]["value"][1] if r else "none")' 2>/dev/null || echo error
}

# prom_wait NS ADDR PROMQL WANT [TRIES]: until the query's value is WANT, 0.5 s apart
# (default 240 tries: two minutes on a loaded machine); prints the last value.
prom_wait() {
	local got=none i
	for i in $(seq "${5:-240}"); do
		got=$(prom_query "$1" "$2" "$3")
		[ "$got" = "$4" ] && break
		sleep 0.5
	done
	echo "$got"
}

# replay_loop NS IFACE PCAP: send PCAP from IFACE in NS at its own pace, over and over,
# until stopped (kill "$LAST_PID"). nanosleep between frames: the default timer spins on a
# core for the whole test.
replay_loop() {
	bg "$1" "$TMP/tcpreplay-$2.log" tcpreplay -q --timer=nano -i "$2" --loop=0 "$3"
}
