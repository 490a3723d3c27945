#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The command line: help, version, exit statuses, check, errors that name the place,
# and one daemon per pin directory.
. "$(dirname "$0")/lib.sh"

status() { "$@" >"$TMP/out" 2>"$TMP/err"; echo $?; }

eq "--help exits 0" "$(status "$PW" --help)" 0
check "--help shows the synopsis" grep -q 'prefixwatch run   -c FILE' "$TMP/out"
check "--help documents exit statuses" grep -q 'Exit status: 0 success, 1 runtime failure' "$TMP/out"
eq "--version exits 0" "$(status "$PW" --version)" 0
check "--version prints a version" grep -Eq '^prefixwatch [0-9]+\.[0-9]+' "$TMP/out"
eq "no command: usage error" "$(status "$PW")" 2
eq "unknown command: usage error" "$(status "$PW" frobnicate -c x)" 2
eq "unknown option: usage error" "$(status "$PW" check --frob)" 2
eq "check without -c: usage error" "$(status "$PW" check)" 2
check "says -c is required" grep -q -- '-c FILE is required' "$TMP/err"

cat >"$TMP/good.ini" <<'EOF2'
[sensor]
interface = eth0
[group kp]
prefix = 175.45.176.0/22
prefix = 210.52.109.0/24
[group v6]
prefix = 2001:db8::/32
EOF2
eq "check of a good config exits 0" "$(status "$PW" check -c "$TMP/good.ini")" 0
check "check summarises groups and families" grep -q 'groups: 2, distinct prefixes: 2 IPv4, 1 IPv6' "$TMP/out"

printf '[sensor]\ninterface = eth0\nfrobs = yes\n[group a]\nprefix = 10.0.0.0/8\n' >"$TMP/bad.ini"
eq "check of a bad config exits 2" "$(status "$PW" check -c "$TMP/bad.ini")" 2
check "the error names file:line" grep -q "bad.ini:3: unknown key 'frobs' in \[sensor\]" "$TMP/err"
eq "check of a missing file exits 2" "$(status "$PW" check -c "$TMP/missing.ini")" 2
check "the error names the file" grep -q "missing.ini: cannot open" "$TMP/err"

printf '[group a]\nprefix = 10.0.0.0/8\n' >"$TMP/noif.ini"
eq "run without an interface exits 2" "$(status "$PW" run -c "$TMP/noif.ini")" 2
check "says how to give one" grep -q 'give -i IFACE' "$TMP/err"
eq "bad --mode exits 2" "$(status "$PW" run -c "$TMP/good.ini" -m turbo)" 2
eq "bad --interval exits 2" "$(status "$PW" run -c "$TMP/good.ini" --interval 0)" 2
eq "bad --listen exits 2" "$(status "$PW" run -c "$TMP/good.ini" -l nowhere)" 2
eq "bad --state-dir exits 2" "$(status "$PW" run -c "$TMP/good.ini" --state-dir rel/dir)" 2
check "and says what to give" grep -q -- '--state-dir rel/dir: give an absolute path or off' "$TMP/err"
eq "check with --state-dir exits 0" "$(status "$PW" check -c "$TMP/good.ini" --state-dir /srv/pw)" 0
check "--state-dir overrides the default" grep -q 'state_dir: /srv/pw$' "$TMP/out"
eq "check with --state-dir off exits 0" "$(status "$PW" check -c "$TMP/good.ini" --state-dir off)" 0
check "--state-dir off turns it off" grep -q 'state_dir: off$' "$TMP/out"
eq "check exits 0" "$(status "$PW" check -c "$TMP/good.ini")" 0
check "state_dir defaults to /var/lib/prefixwatch" grep -q 'state_dir: /var/lib/prefixwatch$' "$TMP/out"
check "--help documents --state-dir" bash -c "'$PW' --help | grep -q -- '--state-dir DIR'"

# One prefix more than the maps hold: refused by check, naming the limit.
awk 'BEGIN { for (i = 0; i <= 1048576; i++) printf "11.%d.%d.%d/32\n", int(i / 65536), int(i / 256) % 256, i % 256 }' >"$TMP/big.prefixes"
printf '[group big]\nprefix_file = big.prefixes\n' >"$TMP/big.ini"
eq "check refuses more prefixes than the maps hold" "$(status "$PW" check -c "$TMP/big.ini")" 2
check "and names the limit" grep -q "1048577 IPv4 and 0 IPv6 distinct prefixes: more than the maps allow (at most 1048576 IPv4" "$TMP/err"
head -n 1048576 "$TMP/big.prefixes" >"$TMP/full.prefixes"
printf '[group big]\nprefix_file = full.prefixes\n' >"$TMP/full.ini"
eq "check accepts exactly the limit" "$(status "$PW" check -c "$TMP/full.ini")" 0

need_root
setup_net || { not_ok "create namespaces and veth"; exit 1; }
eq "run on a missing interface exits 1" \
	"$(status ip netns exec "$NS_RTR" "$PW" run -c "$TMP/good.ini" -i nosuch0 -l off --pin-dir "$PIN_DIR")" 1
check "the error names the interface and what to try" grep -q "attach to nosuch0: no such interface" "$TMP/err"

base_config >"$TMP/pw.ini"
printf '[group a]\nprefix = 10.0.0.0/8\n' >>"$TMP/pw.ini"
start_daemon "$TMP/pw.ini" || { not_ok "daemon starts"; exit 1; }
second=$(nsenter --net="/run/netns/$NS_RTR" "$PW" run -c "$TMP/pw.ini" -l off 2>&1; echo "rc=$?")
check "a second instance on the same pin directory refuses" grep -q "another prefixwatch is running with pin directory $PIN_DIR" <<<"$second"
check "and exits 1" grep -q 'rc=1' <<<"$second"
check "the first keeps serving" bash -c "ip netns exec $NS_RTR curl -sf http://127.0.0.1:$PORT/metrics >/dev/null"
check "pins made while running" test -e "$PIN_DIR"
check "SIGTERM: clean exit 0" stop_daemon
check "pins removed after a clean stop" test ! -e "$PIN_DIR"
[ "$TAP_FAILED" = 0 ]
