#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A watched interface renamed away is detached from (the program is not left behind on an
# interface the config does not name), and attached again when an interface of the
# configured name is back; nothing is left attached after the daemon stops.
. "$(dirname "$0")/lib.sh"
need_root
EXTRA_CLEANUP="rm -rf $PIN_DIR"
setup_net || { not_ok "create namespaces and veth"; exit 1; }

{ base_config; printf '[group g]\nprefix = 10.0.0.0/8\n'; } >"$TMP/pw.ini"
start_daemon "$TMP/pw.ini" || { not_ok "daemon starts"; exit 1; }

NEW=pwn$ID
# has_xdp IFACE / no_xdp IFACE: fail when ip itself fails.
has_xdp() { local out; out=$(in_rtr ip link show "$1") && grep -q xdp <<<"$out"; }
no_xdp() { local out; out=$(in_rtr ip link show "$1") && ! grep -q xdp <<<"$out"; }

check "attached at start" has_xdp "$IF_R"
in_rtr ip link set "$IF_R" down && in_rtr ip link set "$IF_R" name "$NEW" &&
	in_rtr ip link set "$NEW" up || { not_ok "rename $IF_R to $NEW"; exit 1; }
settle
check "the renamed interface has no program left" no_xdp "$NEW"
check "the rename is logged" grep -q "interface $IF_R was renamed to $NEW: detached" "$TMP/daemon.err"
not_attached_series() { local page; page=$(scrape) && ! grep -q "^prefixwatch_attached{interface=\"$1\"" <<<"$page"; }
check "not reported attached (on a page that was served)" not_attached_series "$IF_R"
check "the daemon runs on" kill -0 "$DAEMON_PID"

in_rtr ip link set "$NEW" down && in_rtr ip link set "$NEW" name "$IF_R" &&
	in_rtr ip link set "$IF_R" up || { not_ok "rename $NEW back to $IF_R"; exit 1; }
settle
check "renamed back: attached again" has_xdp "$IF_R"
check "SIGTERM: clean exit 0" stop_daemon
check "nothing left attached after the stop" no_xdp "$IF_R"
[ "$TAP_FAILED" = 0 ]
