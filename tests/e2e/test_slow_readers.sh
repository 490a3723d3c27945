#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Slow /metrics readers cannot grow the daemon: at 100,000 per-prefix series (a page of
# about 10 MB), 80 readers that each read 16 bytes a second, one starting every 0.25 s so
# that they ask at different polls, while the daemon polls every 0.5 s. The daemon's RSS
# must stay under a bound from the page size and the cap on pages kept for readers, polls
# must go on, and a normal scrape must still get the whole page.
. "$(dirname "$0")/lib.sh"
need_root
setup_net || { not_ok "create namespaces and veth"; exit 1; }

# Under ASan freed memory waits in a quarantine (256 MB by default) before it is reused:
# the pages the daemon frees would count against it. No quarantine for this daemon.
[ "${SANITIZE:-}" = 1 ] && export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0

# The cap in user/exporter.c: pages kept alive for readers, the current one included.
MAX_PAGES=4
READERS=80

awk 'BEGIN { for (i = 0; i < 100000; i++)
	printf "%d.%d.%d.0/24\n", 10 + int(i / 65536), int(i / 256) % 256, i % 256 }' \
	>"$TMP/big.txt"
{
	base_config
	printf '[group big]\nprefix_file = %s\nexport = prefix\n' "$TMP/big.txt"
} >"$TMP/pw.ini"
start_daemon "$TMP/pw.ini" || { not_ok "daemon starts with 100,000 prefixes"; exit 1; }
ok "daemon starts with 100,000 prefixes"

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status" 2>/dev/null; }
polls() { metric prefixwatch_polls_total; }

# The page, and the RSS at rest: after a few polls and full scrapes, so that the current
# page, the one being rendered and the allocator's high-water mark are all in it.
for _ in 1 2 3 4; do scrape >"$TMP/page" || break; settle 0.5; done
PAGE=$(stat -c %s "$TMP/page")
series=$(grep -c '^prefixwatch_prefix_packets_total{' "$TMP/page")
eq "the page has a series per prefix" "$series" 100000
BASE=$(rss)
PAGE_KB=$((PAGE / 1024))
# Readers may keep MAX_PAGES pages, of which the current one is already in BASE; allow
# two more pages for pages being cut (freed once libmicrohttpd closes their connections,
# a moment later) and for the allocator's slack.
BOUND=$((BASE + (MAX_PAGES + 1) * PAGE_KB))
diag "page $PAGE bytes; RSS at rest $BASE kB; bound $BOUND kB (rest + $((MAX_PAGES + 1)) pages)"

p0=$(polls)
in_rtr python3 "$ROOT/tests/tools/slowread.py" "$PORT" "$READERS" 0.25 16 "$TMP/stop" \
	>"$TMP/slow.out" 2>&1 &
slow_pid=$!
EXTRA_CLEANUP="kill $slow_pid 2>/dev/null"

# While the readers come (20 s) and read: the highest RSS, and a full scrape now and then.
max=$BASE scrapes=0 good=0
for i in $(seq 60); do
	r=$(rss)
	[ -n "$r" ] && [ "$r" -gt "$max" ] && max=$r
	if [ $((i % 10)) -eq 0 ]; then
		scrapes=$((scrapes + 1))
		if in_rtr curl -sf --max-time 20 "http://127.0.0.1:$PORT/metrics" -o "$TMP/scrape" &&
			[ "$(grep -c '^prefixwatch_prefix_bytes_total{' "$TMP/scrape")" = 100000 ]; then
			good=$((good + 1))
		fi
	fi
	sleep 0.5
done
p1=$(polls)
touch "$TMP/stop"
wait "$slow_pid"
EXTRA_CLEANUP=
read -r _ opened _ answered _ cut _ bytes <"$TMP/slow.out" || opened=0
diag "slow readers: $(cat "$TMP/slow.out"); RSS at most $max kB; polls $p0 -> $p1"

eq "all slow readers connected" "$opened" "$READERS"
check "the slow readers were answered ($answered of $opened)" test "${answered:-0}" -gt $((READERS / 2))
check "slow readers were cut ($cut)" test "${cut:-0}" -gt 0
check "RSS stayed under the bound ($max <= $BOUND kB)" test "$max" -le "$BOUND"
check "polls went on ($p0 -> $p1)" test "$p1" -gt "$((p0 + 20))"
eq "full scrapes during the slow readers" "$good" "$scrapes"
check "daemon still running" kill -0 "$DAEMON_PID"
check "daemon stops cleanly" stop_daemon
echo "1..$TAP_N"
exit "$TAP_FAILED"
