#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A pin directory that is not on bpffs: the daemon stops with exit 1 and says why, with the
# error pinning returned (not a stale errno), and leaves no program attached.
. "$(dirname "$0")/lib.sh"
need_root
setup_net || { not_ok "create namespaces and veth"; exit 1; }

mkdir -p "$TMP/notbpffs"
{ base_config | sed "s|^pin_dir = .*|pin_dir = $TMP/notbpffs/pins|"; printf '[group g]\nprefix = 10.0.0.0/8\n'; } >"$TMP/pw.ini"
nsenter --net="/run/netns/$NS_RTR" timeout 30 "$PW" run -c "$TMP/pw.ini" >"$TMP/out" 2>"$TMP/err"
eq "exit status 1" "$?" 1
sed 's/^/#   /' "$TMP/err"
# libbpf refuses a path outside bpffs with EINVAL.
check "the message gives the error pinning returned" \
	grep -q "cannot pin maps under $TMP/notbpffs/pins: Invalid argument" "$TMP/err"
check "nothing left attached" bash -c "out=\$(ip netns exec $NS_RTR ip link show $IF_R) && ! grep -q xdp <<<\"\$out\""
[ "$TAP_FAILED" = 0 ]
