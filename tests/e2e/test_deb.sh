#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# serial: it changes the machine (see tests/run.sh)
# The Debian package: 'make deb' builds it, lintian finds no error or warning, dpkg
# installs it where Debian policy says, the installed binary runs (--version, check of the
# packaged example configuration, a real run counting traffic in a namespace), both man
# pages render without a groff warning, and remove then purge leave nothing behind.
#
# It installs the package on this machine for the length of the test, so it refuses to run
# where a prefixwatch package is already installed (it would remove it).
. "$(dirname "$0")/lib.sh"
need_root

for c in dpkg-deb lintian man go-md2man; do
	command -v "$c" >/dev/null || { not_ok "$c is not installed (make deps)"; exit 1; }
done
# One package test at a time on this machine (checkouts side by side may run theirs).
exec 9>/run/lock/prefixwatch-test-deb.lock
flock -w 900 9 || { not_ok "another package test held the lock for 15 minutes"; exit 1; }
if dpkg-query -W -f='${Status}\n' prefixwatch 2>/dev/null | grep -q 'installed$'; then
	not_ok "a prefixwatch package is already installed here; remove it to run this test"
	exit 1
fi
for d in /var/lib/prefixwatch /var/log/prefixwatch /etc/prefixwatch /usr/share/prefixwatch; do
	if [ -e "$d" ]; then
		not_ok "$d exists before the package is installed; remove it to run this test"
		exit 1
	fi
done

INSTALLED=
EXTRA_CLEANUP='[ -n "$INSTALLED" ] && dpkg --purge prefixwatch >/dev/null 2>&1'

version=$(sed -n 's/^VERSION *?= *//p' "$ROOT/Makefile")
arch=$(dpkg --print-architecture)
deb=$ROOT/build/prefixwatch_${version}-1_${arch}.deb
rm -f "$deb"
check "make deb" make -C "$ROOT" --no-print-directory deb
[ -f "$deb" ] || { not_ok "make deb wrote $deb"; exit 1; }

# lintian: any error or warning fails (the one warning that cannot apply outside Debian's
# archive is overridden in the package, deploy/debian/lintian-overrides).
lintian --fail-on error,warning --tag-display-limit 0 "$deb" >"$TMP/lintian.out" 2>&1
rc=$?
grep -v '^running with root privileges' "$TMP/lintian.out" | sed 's/^/#   /'
eq "lintian: no error and no warning (exit status)" "$rc" 0

check "the control file names its shared-library dependencies" \
	sh -c "dpkg-deb -f '$deb' Depends | grep -q 'libxdp1' && dpkg-deb -f '$deb' Depends | grep -q libbpf1"

check "dpkg -i" dpkg -i "$deb"
INSTALLED=1
eq "dpkg says installed" "$(dpkg-query -W -f='${Status}' prefixwatch 2>&1)" "install ok installed"

# The layout of Debian policy and of the issue.
for f in /usr/sbin/prefixwatch /lib/systemd/system/prefixwatch.service \
	/etc/prefixwatch/prefixwatch.ini /etc/prefixwatch/kp.prefixes \
	/usr/share/man/man8/prefixwatch.8.gz /usr/share/man/man5/prefixwatch.ini.5.gz \
	/usr/share/prefixwatch/prometheus-alerts.yml /usr/share/prefixwatch/prometheus-scrape.yml \
	/usr/share/prefixwatch/grafana/prefixwatch.json \
	/usr/share/doc/prefixwatch/copyright /usr/share/doc/prefixwatch/changelog.Debian.gz; do
	check "installed: $f" test -f "$f"
done
conffiles=$(dpkg-query -W -f='${Conffiles}' prefixwatch)
case $conffiles in
*/etc/prefixwatch/prefixwatch.ini*) ok "prefixwatch.ini is a conffile" ;;
*) not_ok "prefixwatch.ini is a conffile: got '$conffiles'" ;;
esac
check "the unit sets StateDirectory=prefixwatch" \
	grep -qx 'StateDirectory=prefixwatch' /lib/systemd/system/prefixwatch.service
check "the unit runs /usr/sbin/prefixwatch" \
	grep -q '^ExecStart=/usr/sbin/prefixwatch run' /lib/systemd/system/prefixwatch.service
check "systemd-analyze verify the installed unit" \
	systemd-analyze verify /lib/systemd/system/prefixwatch.service

eq "prefixwatch --version" "$(/usr/sbin/prefixwatch --version 2>&1)" "prefixwatch $version"
check "prefixwatch check of the packaged example configuration" \
	/usr/sbin/prefixwatch check -c /etc/prefixwatch/prefixwatch.ini

# man renders both pages, with their NAME and their sections, and groff has nothing to say.
for page in "8 prefixwatch" "5 prefixwatch.ini"; do
	# shellcheck disable=SC2086
	MANWIDTH=80 MANPAGER=cat man --warnings $page >"$TMP/man.out" 2>"$TMP/man.err"
	rc=$?
	eq "man $page: exit status" "$rc" 0
	eq "man $page: no groff warning" "$(cat "$TMP/man.err")" ""
	name=${page#* }
	check "man $page: NAME line" grep -Eq "^ *$name +- " "$TMP/man.out"
done
check "man prefixwatch: SYNOPSIS and EXIT STATUS" \
	sh -c "MANPAGER=cat man 8 prefixwatch >'$TMP/man8' && grep -q '^SYNOPSIS' '$TMP/man8' && grep -q '^EXIT STATUS' '$TMP/man8'"
check "man prefixwatch.ini: the [group NAME] section" \
	sh -c "MANPAGER=cat man 5 prefixwatch.ini | grep -q '^\[GROUP NAME\]'"

# The installed (hardened, stripped) binary counts traffic: run it as the tests run the
# build's, in a namespace, on the test's veth.
setup_net || { not_ok "create namespaces and veth"; exit 1; }
{
	base_config
	printf '[group kp]\nprefix = 175.45.176.0/22\n'
} >"$TMP/pw.ini"
PW=/usr/sbin/prefixwatch
if start_daemon "$TMP/pw.ini"; then
	send <<'EOF2' || not_ok "send the test traffic (pcapgen, tcpreplay: make first)"
0 1 37 ipv4 175.45.176.9 100
EOF2
	got=absent
	for _ in $(seq 100); do
		got=$(metric 'prefixwatch_group_packets_total{group="kp"}')
		[ "$got" = 37 ] && break
		sleep 0.2
	done
	eq "the installed binary counts the packets sent" "$got" 37
	check "the installed binary stops cleanly on SIGTERM" stop_daemon
else
	not_ok "the installed binary runs"
fi

# What systemd makes for the unit (StateDirectory=, LogsDirectory=), as if it had run.
mkdir -p /var/lib/prefixwatch /var/log/prefixwatch
echo state >/var/lib/prefixwatch/x
echo '{}' >/var/log/prefixwatch/events.jsonl
# An administrator's edit of the configuration, which remove must keep and purge drop.
echo '; edited' >>/etc/prefixwatch/prefixwatch.ini

dpkg -L prefixwatch >"$TMP/files"
check "dpkg -r" dpkg -r prefixwatch
check "removed: the binary is gone" test ! -e /usr/sbin/prefixwatch
check "removed: the edited conffile stays" grep -q '^; edited' /etc/prefixwatch/prefixwatch.ini
check "dpkg -P" dpkg -P prefixwatch
INSTALLED=
eq "dpkg no longer knows the package" \
	"$(dpkg-query -W -f='${Status}' prefixwatch 2>/dev/null || echo unknown)" "unknown"
# Nothing left: no file of the package, none of its own directories, no state.
left=
while read -r f; do
	[ -d "$f" ] && continue    # directories shared with others (/usr/sbin, /lib, ...)
	[ -e "$f" ] && left="$left $f"
done <"$TMP/files"
for d in /etc/prefixwatch /usr/share/prefixwatch /usr/share/doc/prefixwatch \
	/var/lib/prefixwatch /var/log/prefixwatch; do
	[ -e "$d" ] && left="$left $d"
done
eq "purged: nothing left" "${left:-none}" none
check "the file list held the binary (the check above looked at something)" \
	grep -qx /usr/sbin/prefixwatch "$TMP/files"

[ "$TAP_FAILED" = 0 ]
