#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Coexistence with another libxdp program (xdp-filter) on the same interface.
#
# Where the kernel lets libxdp build its dispatcher (freplace programs), both run: the
# sensor counts and xdp-filter stays loaded. Where it does not, libxdp falls back to one
# program per interface; then the sensor must refuse clearly and leave xdp-filter alone.
. "$(dirname "$0")/lib.sh"
need_root
command -v xdp-filter >/dev/null || { not_ok "xdp-filter is not installed (make deps)"; exit 1; }
setup_net || { not_ok "create namespaces and veth"; exit 1; }

nsenter --net="/run/netns/$NS_RTR" xdp-filter load -m native "$IF_R" >"$TMP/filter.out" 2>&1 ||
	{ not_ok "xdp-filter load"; sed 's/^/#   /' "$TMP/filter.out"; exit 1; }
EXTRA_CLEANUP="nsenter --net=/run/netns/$NS_RTR xdp-filter unload $IF_R >/dev/null 2>&1"
ok "xdp-filter loaded on $IF_R"
nsenter --net="/run/netns/$NS_RTR" xdp-loader status "$IF_R" >"$TMP/status.out" 2>&1
if grep -q xdp_dispatcher "$TMP/status.out"; then
	{
		base_config
		printf '[group kp]\nprefix = 175.45.176.0/22\n'
	} >"$TMP/pw.ini"
	start_daemon "$TMP/pw.ini" || { not_ok "daemon starts beside xdp-filter"; exit 1; }
	send <<<'0 1 42 ipv4 175.45.176.7 100'
	settle
	eq "counts beside xdp-filter" "$(metric 'prefixwatch_group_packets_total{group="kp"}')" 42
	nsenter --net="/run/netns/$NS_RTR" xdp-loader status "$IF_R" >"$TMP/status.out" 2>&1
	check "xdp-filter still loaded" grep -q xdpfilt "$TMP/status.out"
	check "prefixwatch in the same dispatcher" grep -q prefixwatch "$TMP/status.out"
	check "SIGTERM: clean exit 0" stop_daemon
	nsenter --net="/run/netns/$NS_RTR" xdp-loader status "$IF_R" >"$TMP/status.out" 2>&1
	check "xdp-filter survives the sensor's stop" grep -q xdpfilt "$TMP/status.out"
else
	diag "this kernel refuses libxdp's dispatcher (freplace programs); libxdp runs one program per interface"
	skip_test "coexistence in one dispatcher: the kernel lacks freplace support for libxdp"
	{
		base_config
		printf '[group kp]\nprefix = 175.45.176.0/22\n'
	} >"$TMP/pw.ini"
	rc=0
	nsenter --net="/run/netns/$NS_RTR" "$PW" run -c "$TMP/pw.ini" >"$TMP/out" 2>"$TMP/err" || rc=$?
	eq "the sensor refuses an interface held by another program" "$rc" 1
	check "the error names the interface, the mode and what to try" \
		grep -q "attach to $IF_R in native and skb mode: .*xdp-loader status $IF_R" "$TMP/err"
	nsenter --net="/run/netns/$NS_RTR" xdp-loader status "$IF_R" >"$TMP/status.out" 2>&1
	check "xdp-filter is left in place" grep -q xdpfilt "$TMP/status.out"
fi
[ "$TAP_FAILED" = 0 ]
