#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# HTTP abuse against the real daemon's /metrics server: other methods, oversized request
# lines and headers, a flood of 2000 idle connections, 200 slowloris clients. The daemon
# never crashes, keeps its threads and memory bounded, refuses or serves newcomers at once,
# keeps polling, and exits 0 on SIGTERM.
. "$(dirname "$0")/lib.sh"
need_root
setup_net || { not_ok "create namespaces and veth"; exit 1; }
ABUSE="python3 $ROOT/tests/tools/httpabuse.py"
URL=http://127.0.0.1:$PORT/metrics

MAX_CONNS=512		# user/exporter.c: PW_HTTP_MAX_CONNS
MAX_THREADS=8		# main + libmicrohttpd's one; room for libraries, not one per client
# Each connection's memory pool is capped at 32 KiB (MHD_OPTION_CONNECTION_MEMORY_LIMIT):
# the flood may grow RSS by at most that for every connection served at once.
RSS_BOUND_KB=$((MAX_CONNS * 32))

{
	base_config
	printf '[group kp]\nprefix = 10.0.0.0/8\n'
} >"$TMP/pw.ini"
start_daemon "$TMP/pw.ini" || { not_ok "daemon starts"; exit 1; }
ok "daemon starts"

status_of() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$DAEMON_PID/status"; }
alive() { kill -0 "$DAEMON_PID" 2>/dev/null; }
# code ARGS...: the HTTP status of one request (000 when there was no answer).
code() { in_rtr curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@"; }
polls() { metric prefixwatch_polls_total; }

eq "GET /metrics" "$(code "$URL")" 200
eq "HEAD /metrics" "$(code -I "$URL")" 200

# Other methods: 405 with the methods that are allowed.
for m in POST PUT DELETE OPTIONS; do
	in_rtr curl -s -o /dev/null -D "$TMP/hdr" --max-time 2 -X "$m" "$URL"
	st=$(awk 'NR == 1 { print $2 }' "$TMP/hdr")
	allow=$(tr -d '\r' <"$TMP/hdr" | awk -F': ' 'tolower($1) == "allow" { print $2 }')
	eq "$m: 405 with Allow: GET, HEAD" "$st/$allow" "405/GET, HEAD"
done
eq "POST with a body: 405" "$(code --data 'x=1' "$URL")" 405

# Oversized requests: answered with a 4xx (414/431/400) or closed, never a crash.
for where in line header; do
	r=$(in_rtr $ABUSE big "$PORT" "$where" 100000)
	check "100 KB request $where: 4xx or closed ($r)" test "${r#status 4}" != "$r" -o "$r" = closed
done
check "the daemon survived the oversized requests" alive
eq "and still answers" "$(code "$URL")" 200

# 2000 idle connections held open: at most MAX_CONNS are served, the rest closed at once;
# a fresh client is answered or refused at once (never left waiting), threads and memory
# stay bounded, and service is back as soon as the flood lets go.
threads0=$(status_of Threads)
rss0=$(status_of VmRSS)
polls0=$(polls)
t0=$(date +%s)
in_rtr $ABUSE flood "$PORT" 2000 "$TMP/flood.ready" "$TMP/flood.stop" >"$TMP/flood.out" 2>&1 &
flood_pid=$!
EXTRA_CLEANUP="touch $TMP/flood.stop; wait $flood_pid 2>/dev/null"
for _ in $(seq 300); do
	[ -e "$TMP/flood.ready" ] || ! kill -0 "$flood_pid" 2>/dev/null && break
	sleep 0.1
done
read -r _ held _ closed _ failed <"$TMP/flood.ready" 2>/dev/null || held=absent
threads1=$(status_of Threads)
rss1=$(status_of VmRSS)
prompt=0 answered=0
for _ in 1 2 3 4 5; do
	in_rtr curl -s -o /dev/null --max-time 2 "$URL"
	case $? in
	0) answered=$((answered + 1)) prompt=$((prompt + 1)) ;;
	7 | 52 | 56) prompt=$((prompt + 1)) ;; # refused, closed or reset: the limit at work
	esac
	sleep 0.2
done
diag "flood: 2000 connections, held by the server: $held, closed by it: ${closed:-?}, failed to connect: ${failed:-?}"
diag "during the flood: threads $threads1 (before $threads0), RSS $rss1 kB (before $rss0 kB)"
diag "fresh requests during the flood: $answered of 5 answered, $((prompt - answered)) refused at once"
check "the server holds at most $MAX_CONNS of them" test "$held" -le "$MAX_CONNS"
check "and holds some (it is not refusing everyone)" test "$held" -gt 0
eq "fresh requests during the flood are answered or refused at once, never left hanging" "$prompt" 5
check "threads stay bounded ($threads1 <= $MAX_THREADS)" test "$threads1" -le "$MAX_THREADS"
check "RSS growth under the flood $((rss1 - rss0)) kB below $RSS_BOUND_KB kB" \
	test $((rss1 - rss0)) -lt "$RSS_BOUND_KB"
touch "$TMP/flood.stop"
wait "$flood_pid"
EXTRA_CLEANUP=
back=none
for i in $(seq 20); do
	if [ "$(code "$URL")" = 200 ]; then
		back=$i
		break
	fi
	sleep 0.1
done
diag "after the flood: /metrics answered at try $back"
check "after the flood /metrics answers within 20 tries" test "$back" != none
polls1=$(polls)
t1=$(date +%s)
check "polls went on through the flood ($polls0 -> $polls1 in $((t1 - t0)) s)" \
	test "$polls1" -ge $((polls0 + (t1 - t0) / 2))

# 200 slowloris clients trickling header lines: the poll loop never waits on a client,
# and other clients are still served.
in_rtr $ABUSE slow "$PORT" 200 8 "$TMP/slow.ready" >"$TMP/slow.out" 2>&1 &
slow_pid=$!
EXTRA_CLEANUP="kill $slow_pid 2>/dev/null"
for _ in $(seq 100); do
	[ -e "$TMP/slow.ready" ] || ! kill -0 "$slow_pid" 2>/dev/null && break
	sleep 0.1
done
read -r _ started <"$TMP/slow.ready" 2>/dev/null || started=0
sleep 1
p1=$(polls)
sleep 3
p2=$(polls)
sleep 3
p3=$(polls)
threads2=$(status_of Threads)
rss2=$(status_of VmRSS)
wait "$slow_pid"
EXTRA_CLEANUP=
diag "slowloris: $started clients started; at the end: $(cat "$TMP/slow.out")"
diag "during slowloris: polls $p1 -> $p2 -> $p3, threads $threads2, RSS $rss2 kB"
eq "200 slow clients connected" "$started" 200
check "polls kept advancing under slowloris ($p1 -> $p2 -> $p3)" test "$p1" -lt "$p2" -a "$p2" -lt "$p3"
check "threads stay bounded under slowloris ($threads2 <= $MAX_THREADS)" test "$threads2" -le "$MAX_THREADS"

# Still correct afterwards: counts what is sent, and stops cleanly.
send <<<'0 1 10 ipv4 10.9.9.9 100'
settle
check "the daemon survived" alive
eq "still counts correctly afterwards" "$(metric 'prefixwatch_group_packets_total{group="kp"}')" 10
check "SIGTERM: clean exit 0" stop_daemon
[ "$TAP_FAILED" = 0 ]
