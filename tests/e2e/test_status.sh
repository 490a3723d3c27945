#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The operator's view of a live sensor: the status page at / in a real headless Chromium,
# /api/v1/status (JSON) and `prefixwatch status`, before and during a flood and a
# blackout; the HTTP answers to other paths and methods. Leaves build/status.png, the
# screenshot of the page with both alarms raised.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prom.sh"
need_root
EXTRA_CLEANUP='[ -n "${SENDER:-}" ] && kill $SENDER 2>/dev/null; [ -n "${FLOODER:-}" ] && kill $FLOODER 2>/dev/null'
setup_net || { not_ok "create namespaces and veth"; exit 1; }

# flooded: a static flood line (400 pps sent, 50 allowed); dark: steady traffic that stops
# (a blackout, seen by the loss detector once its baseline is learned); quiet: nothing.
{
	base_config
	cat <<'EOF2'
[group flooded]
prefix = 10.1.0.0/16
flood = no
loss = no
flood_pps = 50
warmup = 0
[group dark]
prefix = 198.51.100.0/24
warmup = 5
[group quiet]
prefix = 10.3.0.0/16
EOF2
} >"$TMP/pw.ini"
"$PCAPGEN" "$TMP/steady.pcap" 2>/dev/null <<'EOF2' || { not_ok "pcapgen"; exit 1; }
0 10 200 ipv4 198.51.100.7 100
EOF2
"$PCAPGEN" "$TMP/flood.pcap" 2>/dev/null <<'EOF2' || { not_ok "pcapgen"; exit 1; }
0 40 400 ipv4 10.1.0.1 200
EOF2
start_daemon "$TMP/pw.ini" || { not_ok "daemon starts"; exit 1; }
replay_loop "$NS_SRC" "$IF_S" "$TMP/steady.pcap"
SENDER=$LAST_PID

URL=http://127.0.0.1:$PORT
api() { in_rtr curl -sf "$URL/api/v1/status${1:-}"; }
# jqs FILTER: FILTER applied to the status JSON; fails when the API or jq does.
jqs() {
	local j
	j=$(api) || { echo "GET /api/v1/status failed"; return 1; }
	jq -r "$1" <<<"$j"
}
# wait_for FILTER WANT: poll the JSON (at most 30 s) until FILTER gives WANT; prints the last.
wait_for() {
	local got=
	for _ in $(seq 150); do
		got=$(jqs "$1" 2>/dev/null)
		[ "$got" = "$2" ] && break
		sleep 0.2
	done
	echo "$got"
}
status_cmd() { in_rtr "$PW" status -l "127.0.0.1:$PORT"; }
# chromium ARGS...: a fresh headless Chromium in the router namespace, as root.
chromium_run() {
	local dir
	dir=$(mktemp -d "$TMP/chromium.XXXXXX")
	in_rtr timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --user-data-dir="$dir" "$@" 2>"$TMP/chromium.err"
}

# ---- HTTP: what is served where ----
eq "GET / answers 200" "$(in_rtr curl -s -o /dev/null -w '%{http_code}' "$URL/")" 200
eq "/ is HTML" "$(in_rtr curl -s -o /dev/null -w '%{content_type}' "$URL/")" \
	"text/html; charset=utf-8"
eq "HEAD / answers 200" "$(in_rtr curl -s -I -o /dev/null -w '%{http_code}' "$URL/")" 200
eq "/api/v1/status is JSON" \
	"$(in_rtr curl -s -o /dev/null -w '%{content_type}' "$URL/api/v1/status")" application/json
check "/api/v1/status is valid JSON" bash -c "ip netns exec $NS_RTR curl -sf $URL/api/v1/status | python3 -m json.tool"
eq "an unknown path answers 404" "$(in_rtr curl -s -o /dev/null -w '%{http_code}' "$URL/nope")" 404
eq "POST / answers 405" "$(in_rtr curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/")" 405
eq "DELETE /api/v1/status answers 405" \
	"$(in_rtr curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/api/v1/status")" 405
eq "a bad page number answers 400" \
	"$(in_rtr curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/status?page=x")" 400
eq "/metrics still answers 200" "$(in_rtr curl -s -o /dev/null -w '%{http_code}' "$URL/metrics")" 200

# ---- the sensor and its groups at rest ----
eq "version" "$(jqs .version)" "$("$PW" --version | cut -d' ' -f2)"
eq "the interface, attached" "$(jqs '.interfaces[] | "\(.name) \(.attached)"')" "$IF_R true"
eq "its XDP mode is the one /metrics reports" "$(jqs '.interfaces[0].mode')" \
	"$(scrape | sed -n "s/^prefixwatch_attached{interface=\"$IF_R\",mode=\"\\([a-z]*\\)\"} 1$/\\1/p")"
eq "every group of the config" "$(jqs '[.groups[].name] | sort | join(" ")')" "dark flooded quiet"
eq "dark has a baseline and is past its warm-up" \
	"$(wait_for '[.groups[] | select(.name == "dark") | .baseline_pps > 50 and (.history_pps | length) > 0] + [.uptime_seconds > 7] | all' true)" true
eq "no alarm yet" "$(jqs '.groups_in_alarm')" 0
check "prefixwatch status names every group" bash -c \
	"out=\$(ip netns exec $NS_RTR $PW status -l 127.0.0.1:$PORT) && for g in dark flooded quiet; do grep -q \"^\$g \" <<<\"\$out\" || exit 1; done"
check "prefixwatch status -c finds the daemon at the config's listen" bash -c \
	"ip netns exec $NS_RTR $PW status -c $TMP/pw.ini | grep -q '^groups: 3, 0 in alarm'"
eq "prefixwatch status -l with a bad address exits 2" "$(in_rtr "$PW" status -l nope >/dev/null 2>&1; echo $?)" 2
eq "paging: one group a page, three pages" \
	"$(api '?per_page=1&page=2' | jq -r '"\(.groups | length) \(.pages) \(.total_groups)"')" "1 3 3"

# ---- a flood, then a blackout while it lasts ----
bg "$NS_SRC" "$TMP/flood.log" tcpreplay -q --timer=nano -i "$IF_S" "$TMP/flood.pcap"
FLOODER=$LAST_PID
eq "the flood raises a flood alarm on flooded" \
	"$(wait_for '.groups[] | select(.name == "flooded") | [.alarms[].kind] | join(",")' flood)" flood
eq "flooded comes first (alarms first)" "$(jqs '.groups[0].name')" flooded
eq "the alarm has its start event" \
	"$(jqs '.groups[0].alarms[0].start_event | "\(.group) \(.kind) \(.state)"')" "flooded flood start"
kill "$SENDER"
wait "$SENDER" 2>/dev/null
SENDER=
eq "the blackout raises a loss alarm on dark" \
	"$(wait_for '.groups[] | select(.name == "dark") | [.alarms[].kind] | join(",")' loss)" loss
eq "two groups in alarm" "$(jqs '.groups_in_alarm')" 2
eq "the events: flood start, then loss start" \
	"$(jqs '[.events[] | "\(.group) \(.kind) \(.state)"] | reverse | join(";")')" \
	"flooded flood start;dark loss start"
status_cmd >"$TMP/status.txt" 2>&1
eq "prefixwatch status exits 0" "$?" 0
check "prefixwatch status shows flooded in flood" grep -Eq '^flooded .* flood since [0-9:]+Z' "$TMP/status.txt"
check "prefixwatch status shows dark in loss" grep -Eq '^dark .* loss since [0-9:]+Z' "$TMP/status.txt"
check "prefixwatch status lists the events" grep -q 'dark  loss start' "$TMP/status.txt"
check "prefixwatch status shows quiet without alarm" grep -Eq '^quiet .* -$' "$TMP/status.txt"
sed 's/^/# /' "$TMP/status.txt"

# ---- the page in a browser ----
chromium_run --dump-dom "$URL/" >"$TMP/dom.html"
eq "Chromium loads the page" "$?" 0
for g in flooded dark quiet; do
	check "the page names group $g" grep -q "<td class=\"name\">$g</td>" "$TMP/dom.html"
done
check "the page shows flooded's row in alarm with a flood" \
	grep -Eq '<tr class="alarm"><td class="name">flooded</td>.*<span class="kind flood">flood</span>' "$TMP/dom.html"
check "the page shows dark's row in alarm with a loss" \
	grep -Eq '<tr class="alarm"><td class="name">dark</td>.*<span class="kind loss">loss</span>' "$TMP/dom.html"
check "the page draws sparklines" grep -q '<polyline points=' "$TMP/dom.html"
check "the page refreshes itself" grep -q '<meta http-equiv="refresh"' "$TMP/dom.html"
check "the page names the interface and its mode" grep -Eq "$IF_R <span class=\"ok\">XDP (native|skb)" "$TMP/dom.html"
check "the page loads nothing from elsewhere" bash -c "! grep -Eq '(src|href)=\"(https?:)?//' $TMP/dom.html && grep -q '</html>' $TMP/dom.html"
rm -f "$ROOT/$BUILD/status.png"
chromium_run --screenshot="$ROOT/$BUILD/status.png" --window-size=1280,900 "$URL/" >/dev/null
check "Chromium writes the screenshot $BUILD/status.png" test -s "$ROOT/$BUILD/status.png"
check "it is a 1280x900 PNG" python3 -c "
import struct, sys
d = open('$ROOT/$BUILD/status.png', 'rb').read(24)
sys.exit(not (d[:8] == b'\x89PNG\r\n\x1a\n' and struct.unpack('>II', d[16:24]) == (1280, 900)))"

# ---- the end of the flood ----
kill "$FLOODER" 2>/dev/null
wait "$FLOODER" 2>/dev/null
FLOODER=
eq "the flood's end clears flooded's alarm" \
	"$(wait_for '.groups[] | select(.name == "flooded") | .alarms | length' 0)" 0
eq "its end is among the events" "$(jqs '[.events[] | select(.group == "flooded") | .state] | join(",")')" \
	"end,start"
check "SIGTERM: clean exit 0" stop_daemon
eq "prefixwatch status fails when nothing listens" "$(status_cmd >/dev/null 2>&1; echo $?)" 1
[ "$TAP_FAILED" = 0 ]
