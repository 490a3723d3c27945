#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# serial: it changes the machine (see tests/run.sh)
# The build: 'make' says what it installs before it runs apt-get; it works against a
# libinih without Debian's run-time options (upstream inih): the Makefile's probe finds
# none, says so, and the config reader does without them.
#
# tests/tools/upstream-inih/ini.h stands in for upstream's header; the library linked is
# still Debian's, whose option variables then keep their defaults: upstream's built-in
# values (multi-line values on, ';' comments only, 200-byte lines, going on after errors).
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$BUILD/inih-upstream
N=0
FAILED=0
ok() { N=$((N + 1)); echo "ok $N - $*"; }
not_ok() { N=$((N + 1)); FAILED=1; echo "not ok $N - $*"; }

cd "$ROOT" || exit 1

# ---- make deps: a missing package is announced before apt-get runs ----
# A stand-in apt-get (under the build tree: /tmp may be noexec) logs its calls; the
# package name cannot exist, so dpkg-query reports it missing.
FAKE=$ROOT/$BUILD/tmp/fake-apt.$$
mkdir -p "$FAKE"
trap 'rm -rf "$FAKE"' EXIT
printf '#!/bin/sh\necho "fake-apt-get $*"\n' >"$FAKE/apt-get"
chmod 755 "$FAKE/apt-get"
if [ "$(id -u)" = 0 ]; then
	log=$(PATH=$FAKE:$PATH make --no-print-directory deps DEPS=pw-no-such-package 2>&1)
	first=$(grep -n 'make: installing missing packages with apt-get: pw-no-such-package' \
		<<<"$log" | head -n 1 | cut -d: -f1)
	apt=$(grep -n '^fake-apt-get update' <<<"$log" | head -n 1 | cut -d: -f1)
	if [ -n "$first" ] && [ -n "$apt" ] && [ "$first" -lt "$apt" ]; then
		ok "make deps says what it installs before apt-get runs"
	else
		not_ok "make deps says what it installs before apt-get runs"
		sed 's/^/#   /' <<<"$log" | head -10
	fi
else
	N=$((N + 1)); echo "ok $N # SKIP make deps: apt-get runs only as root"
fi

# ---- libinih without run-time options ----
log=$(make --no-print-directory BUILD="$OUT" INIH_CFLAGS="-I$ROOT/tests/tools/upstream-inih" \
	inih "$OUT/tests/unit/test_config" 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then
	ok "test_config builds against upstream inih's header"
else
	not_ok "test_config builds against upstream inih's header (make exit $rc)"
	sed 's/^/#   /' <<<"$log" | tail -20
fi
if grep -q 'libinih without run-time options' <<<"$log"; then
	ok "make says the library has no run-time options"
else
	not_ok "make says the library has no run-time options"
	sed 's/^/#   /' <<<"$log" | tail -5
fi
if [ "$rc" -eq 0 ]; then
	# Its own TAP lines, renumbered after ours.
	CMOCKA_MESSAGE_OUTPUT=TAP "$OUT/tests/unit/test_config" >"$OUT/test_config.tap" 2>&1
	trc=$?
	while read -r line; do
		case $line in
		"ok "*) ok "upstream inih: ${line#ok [0-9]* - }" ;;
		"not ok "*) not_ok "upstream inih: ${line#not ok [0-9]* - }" ;;
		"#"*) echo "$line" ;;
		esac
	done <"$OUT/test_config.tap"
	[ "$trc" -eq 0 ] || not_ok "test_config against upstream inih exited with $trc"
fi
echo "1..$N"
exit "$FAILED"
