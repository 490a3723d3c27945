#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Reloads that change the interface set wholesale: from 1 interface to 64 others (the
# table holds at most 64; an old bug appended the new ones before dropping the old and
# wrote past its end), then to a set where one cannot be attached (the reload is counted
# as a failure, the others stay attached, the daemon runs on).
. "$(dirname "$0")/lib.sh"
need_root
EXTRA_CLEANUP="rm -rf $PIN_DIR"
setup_net || { not_ok "create namespaces and veth"; exit 1; }

cfg=$TMP/pw.ini
groups() { printf '[group g]\nprefix = 10.0.0.0/8\n'; }
{ base_config; groups; } >"$cfg"
start_daemon "$cfg" || { not_ok "daemon starts"; exit 1; }

DUMMIES=()
for i in $(seq 64); do
	DUMMIES+=("d${ID}x$i")
	# veth pairs with both ends in the router namespace (no dummy driver everywhere)
	in_rtr ip link add "d${ID}x$i" type veth peer name "e${ID}x$i" &&
		in_rtr ip link set "d${ID}x$i" up && in_rtr ip link set "e${ID}x$i" up ||
		{ not_ok "create interface pair $i"; exit 1; }
done

# reloads_done: success + failure reloads on the page, or "down" when /metrics does not answer.
reloads_done() {
	scrape | awk '/^prefixwatch_config_reloads_total\{/ { n += $2; seen = 1 }
		END { if (seen) print n; else print "down" }'
}
# hup_and_wait N: send SIGHUP, wait until N reloads are done (attaching takes a while).
hup_and_wait() {
	kill -HUP "$DAEMON_PID" || return 1
	for _ in $(seq 300); do
		[ "$(reloads_done)" = "$1" ] && { settle 1.2; return 0; }
		kill -0 "$DAEMON_PID" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}
attached_count() {
	scrape >"$TMP/page" || { echo down; return; }
	grep -c '^prefixwatch_attached{' "$TMP/page"
}

sed "s/^interface = .*/interface = ${DUMMIES[*]}/" "$cfg" >"$TMP/64.ini"
cp "$TMP/64.ini" "$cfg"
check "reload from 1 interface to 64 others completes" hup_and_wait 1
check "the daemon is still running" kill -0 "$DAEMON_PID"
eq "reload counted as success" "$(metric 'prefixwatch_config_reloads_total{result="success"}')" 1
eq "attached to all 64" "$(attached_count)" 64
check "the last of them has the program" bash -c "out=\$(ip netns exec $NS_RTR ip link show ${DUMMIES[63]}) && grep -q xdp <<<\"\$out\""
check "the dropped interface has no program left" bash -c "out=\$(ip netns exec $NS_RTR ip link show $IF_R) && ! grep -q xdp <<<\"\$out\""

# 63 of them and one that does not exist: a partial failure, counted as one.
sed "s/^interface = .*/interface = ${DUMMIES[*]:0:63} nx$ID/" "$cfg" >"$TMP/63.ini"
cp "$TMP/63.ini" "$cfg"
check "reload with an unattachable interface completes" hup_and_wait 2
check "the daemon is still running" kill -0 "$DAEMON_PID"
eq "partly failed reload counted as failure" "$(metric 'prefixwatch_config_reloads_total{result="failure"}')" 1
eq "successes unchanged" "$(metric 'prefixwatch_config_reloads_total{result="success"}')" 1
eq "the 63 stay attached" "$(attached_count)" 63
check "the error names the interface" grep -q "attach to nx$ID: no such interface" "$TMP/daemon.err"
check "the dropped interface has no program left" bash -c "out=\$(ip netns exec $NS_RTR ip link show ${DUMMIES[63]}) && ! grep -q xdp <<<\"\$out\""
check "SIGTERM: clean exit 0" stop_daemon
check "no program left on any of the 64" bash -c "out=\$(ip netns exec $NS_RTR ip -o link show) && [ \$(grep -c ': d${ID}x' <<<\"\$out\") = 64 ] && ! grep -q xdp <<<\"\$out\""
[ "$TAP_FAILED" = 0 ]
