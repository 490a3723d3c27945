#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Shared counters (issue 13): prefixes nobody reads on their own share a counter slot, so
# a large export = group group takes a few counters, not one per prefix; counts stay
# exact; a reload that would need more counters than were sized at start is refused
# whole, and a group continues across reloads that change how its prefixes are counted.
. "$(dirname "$0")/lib.sh"
need_root
setup_net || { not_ok "create namespaces and veth"; exit 1; }

# 20,000 /24s under 10.0.0.0/8, and the /8 itself.
pfx=$TMP/big.prefixes
{
	echo 10.0.0.0/8
	for a in $(seq 0 78); do
		for b in $(seq 0 255); do
			echo "10.$a.$b.0/24"
		done
	done | head -n 20000
} >"$pfx"
check "the prefix file holds 20,001 prefixes" test "$(wc -l <"$pfx")" -eq 20001

cfg=$TMP/pw.ini
write_cfg() { # EXPORT_OF_BIG [EXTRA]
	{
		base_config
		printf '[group big]\nexport = %s\nprefix_file = %s\n' "$1" "$pfx"
		printf '[group kp]\nprefix = 192.0.2.0/24\n'
		printf '%s' "${2:-}"
	} >"$cfg"
}
write_cfg group
start_daemon "$cfg" || { not_ok "daemon starts"; exit 1; }

# Two classes (big's prefixes; kp's /24): the counters are the daemon's minimum of
# 16,384 slots, not twice the 65,536 prefixes of capacity per family as before.
show=$(bpftool -j map show pinned "$PIN_DIR/pw_counters")
eq "pw_counters has 16384 slots" "$(jq -r .max_entries <<<"$show")" 16384

send <<'EOF2'
0 1 30 ipv4 10.1.2.3 100
0 1 20 ipv4 10.200.0.1 100
0 1 7 ipv4 192.0.2.1 100
0 1 4 ipv4 11.0.0.1 100
EOF2
settle
eq "group big counts both of its prefixes' traffic" "$(metric 'prefixwatch_group_packets_total{group="big"}')" 50
eq "group big's bytes" "$(metric 'prefixwatch_group_bytes_total{group="big"}')" 5000
eq "kp's prefix series" "$(metric 'prefixwatch_prefix_packets_total{group="kp",prefix="192.0.2.0/24"}')" 7
eq "unmatched" "$(metric 'prefixwatch_unmatched_packets_total{family="ipv4"}')" 4

# export = prefix would read 20,001 prefixes on their own: more counters than sized.
write_cfg prefix
kill -HUP "$DAEMON_PID"
settle
eq "the reload needing more counters is refused" \
	"$(metric 'prefixwatch_config_reloads_total{result="failure"}')" 1
check "the error says how many counters it needs" \
	grep -q "pw.ini: its prefixes need 20002 counters.*more than the 16384 set at start" "$TMP/daemon.err"
send <<'EOF2'
0 1 5 ipv4 10.1.2.3 100
EOF2
settle
eq "the old config still counts" "$(metric 'prefixwatch_group_packets_total{group="big"}')" 55

# A prefix of big read on its own (per_prefix in a small group), and a group overlapping
# big: the classes change, big continues from its count, the new read prefix from zero.
write_cfg group "$(printf '[group one]\nexport = prefix\nprefix = 10.1.2.0/24\n[group ten]\nexport = group\nprefix = 10.0.0.0/8\n')"
kill -HUP "$DAEMON_PID"
settle
eq "the reload succeeds" "$(metric 'prefixwatch_config_reloads_total{result="success"}')" 1
eq "big continues from its count" "$(metric 'prefixwatch_group_packets_total{group="big"}')" 55
eq "the newly read prefix starts at 0" \
	"$(metric 'prefixwatch_prefix_packets_total{group="one",prefix="10.1.2.0/24"}')" 0
send <<'EOF2'
0 1 3 ipv4 10.1.2.3 100
0 1 2 ipv4 10.77.0.1 100
0 1 1 ipv4 10.250.0.1 100
EOF2
settle
eq "big after the reload" "$(metric 'prefixwatch_group_packets_total{group="big"}')" 61
eq "ten, new, counts from the reload" "$(metric 'prefixwatch_group_packets_total{group="ten"}')" 6
eq "the read prefix" "$(metric 'prefixwatch_prefix_packets_total{group="one",prefix="10.1.2.0/24"}')" 3
eq "kp unchanged" "$(metric 'prefixwatch_prefix_packets_total{group="kp",prefix="192.0.2.0/24"}')" 7

stop_daemon
check "SIGTERM: clean exit 0" test $? -eq 0
[ "$TAP_FAILED" = 0 ]
