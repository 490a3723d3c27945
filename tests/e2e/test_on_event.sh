#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# on_event in the running daemon: a program that hangs, and a background process it
# started, are both killed at the 10 s deadline while polls go on; the daemon leaves no
# zombie behind; a hanging program does not delay SIGTERM, and is killed at the stop.
# The hook lives under the build directory, not /tmp (which may be noexec).
. "$(dirname "$0")/lib.sh"
need_root
HOOK=$ROOT/$BUILD/tests/on_event_hook.$ID
EXTRA_CLEANUP="rm -rf $PIN_DIR $HOOK"
setup_net || { not_ok "create namespaces and veth"; exit 1; }

# Start a background sleeper (in the program's process group), note both pids, hang.
cat >"$HOOK" <<EOF2
#!/bin/sh
sleep 1000 &
echo "\$\$ \$!" >>"$TMP/pids"
exec sleep 1000
EOF2
chmod 755 "$HOOK"
{
	base_config
	cat <<EOF2
on_event = $HOOK
[group a]
prefix = 10.1.0.0/16
flood = no
loss = no
flood_pps = 50
warmup = 0
EOF2
} >"$TMP/pw.ini"
"$PCAPGEN" "$TMP/flood.pcap" 2>/dev/null <<<'0 2 400 ipv4 10.1.0.1 100' || { not_ok "pcapgen"; exit 1; }
start_daemon "$TMP/pw.ini" || { not_ok "daemon starts"; exit 1; }

# alive PID: running, not a zombie waiting for its parent.
alive() { local s; s=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) && [ "$s" != Z ]; }
in_src tcpreplay -q -i "$IF_S" "$TMP/flood.pcap" >"$TMP/tcpreplay.out" 2>&1 || not_ok "tcpreplay"
for _ in $(seq 100); do [ "$(wc -l <"$TMP/pids" 2>/dev/null)" -ge 2 ] && break; sleep 0.1; done
eq "the flood's start and end each ran the program" "$(wc -l <"$TMP/pids" 2>/dev/null)" 2
read -r prog1 bg1 < <(sed -n 1p "$TMP/pids")
diag "program $prog1, its background process $bg1"
check "the first program hangs" alive "$prog1"
check "its background process runs" alive "$bg1"
polls1=$(metric prefixwatch_polls_total)
settle 1.2
polls2=$(metric prefixwatch_polls_total)
check "polls go on meanwhile ($polls1 then $polls2)" test "$polls2" -gt "$polls1"

# The deadline is 10 s after the start; give it 20.
for _ in $(seq 200); do alive "$bg1" || break; sleep 0.1; done
check "the background process is killed at the deadline" bash -c "[ -n '$bg1' ] && ! { s=\$(awk '{ print \$3 }' /proc/$bg1/stat 2>/dev/null) && [ \"\$s\" != Z ]; }"
check "so is the program" bash -c "[ -n '$prog1' ] && ! { s=\$(awk '{ print \$3 }' /proc/$prog1/stat 2>/dev/null) && [ \"\$s\" != Z ]; }"
check "the kill is logged" grep -q "on_event: $HOOK ran over 10 s; killed with what it started" "$TMP/daemon.err"
check "no zombie child of the daemon" bash -c "out=\$(ps -o stat= --ppid $DAEMON_PID; true) && ! grep -q Z <<<\"\$out\""

# Another flood, then SIGTERM while its programs hang: a prompt stop, nothing left.
: >"$TMP/pids"
in_src tcpreplay -q -i "$IF_S" "$TMP/flood.pcap" >"$TMP/tcpreplay.out" 2>&1 || not_ok "tcpreplay"
for _ in $(seq 100); do [ "$(wc -l <"$TMP/pids" 2>/dev/null)" -ge 1 ] && break; sleep 0.1; done
read -r prog2 bg2 < <(sed -n 1p "$TMP/pids")
diag "program $prog2, its background process $bg2"
check "a program hangs at the stop" alive "$prog2"
check "SIGTERM: clean exit 0" stop_daemon
check "its background process is gone" bash -c "[ -n '$bg2' ] && ! { s=\$(awk '{ print \$3 }' /proc/$bg2/stat 2>/dev/null) && [ \"\$s\" != Z ]; }"
[ "$TAP_FAILED" = 0 ]
