#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# 'prefixwatch check' on nasty configs: exit 0 or 2, never a crash or a hang, file:line on refusal.
#
# The files of tests/corpus/ say by their names what must happen (see tests/corpus/README);
# the large and the special cases (a million prefixes, 64 MiB lines, a FIFO, unreadable
# files) are made here in a temporary directory. Every run has 20 s and, outside sanitizer
# builds, 4 GiB of address space: a hang or a runaway allocation fails instead of stalling.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PW=$ROOT/$BUILD/prefixwatch
CORPUS=$ROOT/tests/corpus
TMP=$(mktemp -d /tmp/prefixwatch-badinput.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
N=0
FAILED=0

ok() { N=$((N + 1)); echo "ok $N - $*"; }
not_ok() { N=$((N + 1)); FAILED=1; echo "not ok $N - $*"; }
skip() { N=$((N + 1)); echo "ok $N # SKIP $*"; }
diag() { echo "# $*"; }

if [ ! -x "$PW" ]; then
	not_ok "$PW is not built"
	exit 1
fi

# run_check CONFIG [RUNNER...]: 'prefixwatch check -c CONFIG' under a time and memory cap;
# sets RC and SECS, output in $TMP/out and $TMP/err.
run_check() {
	local cfg=$1 start end
	shift
	start=$(date +%s%N)
	(
		[ "${SANITIZE:-}" = 1 ] || ulimit -v 4194304
		exec "$@" timeout -k 5 20 "$PW" check -c "$cfg"
	) </dev/null >"$TMP/out" 2>"$TMP/err"
	RC=$?
	end=$(date +%s%N)
	SECS=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.2f", ns / 1e9 }')
}

# A crash, a hang or a sanitizer report, whatever the exit status: the reason, or nothing.
broken() {
	if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
		echo "hung (killed after 20 s)"
	elif [ "$RC" -gt 128 ]; then
		echo "died of signal $((RC - 128))"
	elif grep -qE 'Sanitizer|runtime error:' "$TMP/err"; then
		echo "sanitizer report"
	elif [ "$RC" -ne 0 ] && [ "$RC" -ne 2 ]; then
		echo "exit status $RC (want 0 or 2)"
	fi
}

show_err() { head -c 600 "$TMP/err" | head -5 | sed 's/^/#   /'; }

# expect DESC CONFIG MODE [LINE]: MODE accept (exit 0), reject (exit 2 with "CONFIG:LINE:"
# first; any line when LINE is empty), any (one or the other), file (exit 2 with "CONFIG: ").
expect() {
	local desc=$1 cfg=$2 mode=$3 line=${4:-} why first
	why=$(broken)
	first=$(head -n 1 "$TMP/err")
	if [ -z "$why" ]; then
		case $mode in
		accept) [ "$RC" -eq 0 ] || why="refused" ;;
		reject | any)
			if [ "$RC" -eq 0 ]; then
				[ "$mode" = any ] || why="accepted"
			elif [ -n "$line" ]; then
				[ "${first#"$cfg:$line: "}" != "$first" ] ||
					why="error does not start with $cfg:$line:"
			elif ! [[ $first =~ ^"$cfg":[0-9]+:\  ]]; then
				why="error does not start with $cfg:LINE:"
			fi
			;;
		file) [ "$RC" -eq 2 ] && [ "${first#"$cfg: "}" != "$first" ] ||
			why="want exit 2 and an error starting with $cfg: " ;;
		esac
	fi
	if [ -z "$why" ]; then
		ok "$desc (exit $RC)"
	else
		not_ok "$desc: $why (exit $RC)"
		show_err
	fi
}

# ---- the corpus ----
for cfg in "$CORPUS"/*.ini; do
	name=$(basename "$cfg")
	run_check "$cfg"
	case $name in
	accept-*) expect "$name" "$cfg" accept ;;
	reject-L*)
		line=${name#reject-L}
		expect "$name" "$cfg" reject "${line%%-*}"
		;;
	*) expect "$name" "$cfg" any ;;
	esac
done

# ---- a million prefixes in a prefix_file: accepted, in a reasonable time ----
awk 'BEGIN {
	for (i = 0; i < 800000; i++)
		printf "10.%d.%d.%d/32\n", int(i / 65536), int(i / 256) % 256, i % 256
	for (i = 0; i < 200000; i++)
		printf "2001:db8:%x:%x::/64   # customer %d\n", int(i / 65536), i % 65536, i
}' >"$TMP/million.txt"
printf '[sensor]\ninterval = 1\n\n[group big]\nprefix_file = million.txt\nexport = group\n' \
	>"$TMP/million.ini"
run_check "$TMP/million.ini"
expect "10^6 prefixes in a prefix_file (800,000 IPv4, 200,000 IPv6)" "$TMP/million.ini" accept
if grep -q 'distinct prefixes: 800000 IPv4, 200000 IPv6' "$TMP/out"; then
	ok "all 10^6 prefixes counted"
else
	not_ok "all 10^6 prefixes counted"
	sed 's/^/#   /' "$TMP/out"
fi
diag "10^6-prefix prefix_file: check took $SECS s"

awk 'BEGIN { print "[group inline]"
	for (i = 0; i < 1000000; i++)
		printf "prefix = 10.%d.%d.%d/32\n", int(i / 65536), int(i / 256) % 256, i % 256 }' \
	>"$TMP/inline.ini"
run_check "$TMP/inline.ini"
expect "10^6 'prefix =' lines in the config itself" "$TMP/inline.ini" accept
diag "10^6 inline prefixes: check took $SECS s"

awk 'BEGIN { for (i = 0; i < 20000; i++) printf "[group g%d]\nprefix = 10.%d.%d.0/24\n", i,
	int(i / 256), i % 256 }' >"$TMP/groups.ini"
run_check "$TMP/groups.ini"
expect "20,000 groups" "$TMP/groups.ini" accept
diag "20,000 groups: check took $SECS s"

# ---- lines far beyond the limit: refused at their line, without reading for ever ----
{ printf '[group a]\nprefix = 10.0.0.0/8\n; '; head -c 67108864 /dev/zero | tr '\0' x; } \
	>"$TMP/longline.ini"
run_check "$TMP/longline.ini"
expect "a 64 MiB line in the config" "$TMP/longline.ini" reject 3
{ echo 10.0.0.0/8; head -c 67108864 /dev/zero | tr '\0' 1; } >"$TMP/longline.txt"
printf '[group a]\nprefix_file = longline.txt\n' >"$TMP/longline-pf.ini"
run_check "$TMP/longline-pf.ini"
expect "a 64 MiB line in a prefix_file" "$TMP/longline-pf.ini" reject 2
diag "64 MiB line in a prefix_file: refused in $SECS s"

# ---- prefix_file paths that cannot be read ----
mkfifo "$TMP/fifo"
printf '[group a]\nprefix = 10.0.0.0/8\nprefix_file = fifo\n' >"$TMP/fifo.ini"
run_check "$TMP/fifo.ini"
expect "prefix_file is a FIFO nobody writes to" "$TMP/fifo.ini" reject 3
ln -s does-not-exist "$TMP/dangling"
printf '[group a]\nprefix_file = dangling\n' >"$TMP/dangling.ini"
run_check "$TMP/dangling.ini"
expect "prefix_file is a dangling symlink" "$TMP/dangling.ini" reject 2
ln -s loop "$TMP/loop"
printf '[group a]\nprefix_file = loop\n' >"$TMP/loop.ini"
run_check "$TMP/loop.ini"
expect "prefix_file is a symlink loop" "$TMP/loop.ini" reject 2
mkdir "$TMP/cfgdir"
run_check "$TMP/cfgdir"
expect "the config is a directory" "$TMP/cfgdir" file
run_check "$TMP/absent.ini"
expect "the config does not exist" "$TMP/absent.ini" file

# Permissions bind root only through another user: run as nobody when root.
runner=()
if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null && runner=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
# nobody must reach the binary: the checkout may sit in a directory only root can enter
# (root's home, a mktemp -d), so run a copy from a 0755 directory on a file system that
# allows exec (/tmp may be mounted noexec; /dev/shm and /run are tried next).
exec_dir() {
	local base d
	for base in /tmp /dev/shm /run; do
		[ -d "$base" ] && [ -w "$base" ] || continue
		findmnt -n -o OPTIONS -T "$base" 2>/dev/null | grep -qw noexec && continue
		d=$(mktemp -d "$base/prefixwatch-nobody.XXXXXX") || continue
		chmod 755 "$d"
		echo "$d"
		return 0
	done
	return 1
}
PW_ROOT=$PW
if [ ${#runner[@]} -gt 0 ]; then
	if BIN_DIR=$(exec_dir); then
		trap 'rm -rf "$TMP" "$BIN_DIR"' EXIT
		cp "$PW_ROOT" "$BIN_DIR/prefixwatch" && chmod 755 "$BIN_DIR/prefixwatch"
		PW=$BIN_DIR/prefixwatch
	else
		runner=()
		skip_why="no directory on an exec-allowed file system for nobody's copy of the binary"
	fi
fi
if [ "$(id -u)" = 0 ] && [ ${#runner[@]} -eq 0 ]; then
	skip "unreadable files: ${skip_why:-root without setpriv cannot be denied a read}"
else
	mkdir "$TMP/perm"
	chmod 755 "$TMP" "$TMP/perm"
	printf '10.0.0.0/8\n' >"$TMP/perm/secret.txt"
	chmod 000 "$TMP/perm/secret.txt"
	printf '[group a]\nprefix_file = secret.txt\n' >"$TMP/perm/pf.ini"
	chmod 644 "$TMP/perm/pf.ini"
	run_check "$TMP/perm/pf.ini" "${runner[@]}"
	expect "prefix_file without read permission" "$TMP/perm/pf.ini" reject 2
	printf '[group a]\nprefix = 10.0.0.0/8\n' >"$TMP/perm/locked.ini"
	chmod 000 "$TMP/perm/locked.ini"
	run_check "$TMP/perm/locked.ini" "${runner[@]}"
	expect "config without read permission" "$TMP/perm/locked.ini" file
	PW=$PW_ROOT
fi

echo "1..$N"
exit "$FAILED"
