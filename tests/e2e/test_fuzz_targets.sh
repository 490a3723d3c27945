#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Run each libFuzzer target of tests/fuzz/ for FUZZ_SECONDS (default 10): a TAP line per target.
#
# Each starts from its committed seeds (tests/fuzz/seeds/NAME, and tests/corpus/ for the
# config target) and the corpus it grew in earlier runs (build/fuzz/corpus/NAME). A crash,
# a leak, undefined behaviour, a broken invariant, a timeout or running out of memory fails
# the target; its input is kept in build/fuzz/crashes/ for 'build/fuzz/NAME FILE' to replay.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FUZZ=$ROOT/$BUILD/fuzz
SECS=${FUZZ_SECONDS:-10}
TMP=$(mktemp -d /tmp/prefixwatch-fuzz.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
N=0
FAILED=0

ok() { N=$((N + 1)); echo "ok $N - $*"; }
not_ok() { N=$((N + 1)); FAILED=1; echo "not ok $N - $*"; }

case $SECS in
'' | *[!0-9]*) echo "not ok 1 - FUZZ_SECONDS=$SECS is not a whole number of seconds"; exit 1 ;;
esac

if [ "${PW_SKIP_FUZZ_TARGETS:-}" = 1 ]; then
	# make check SANITIZE=1: the targets carry ASan and UBSan in every build and ran in
	# the plain make check already.
	echo "ok 1 # SKIP libFuzzer targets run in the plain make check"
	exit 0
fi
targets=("$ROOT"/tests/fuzz/fuzz_*.c)
echo "1..${#targets[@]}"
mkdir -p "$FUZZ/crashes"
for src in "${targets[@]}"; do
	name=$(basename "$src" .c)
	bin=$FUZZ/$name
	if [ ! -x "$bin" ]; then
		not_ok "$name: not built ($bin is missing: run make)"
		continue
	fi
	corpus=$FUZZ/corpus/$name
	mkdir -p "$corpus"
	seeds=("$ROOT/tests/fuzz/seeds/$name")
	[ "$name" = fuzz_config ] && seeds+=("$ROOT/tests/corpus")
	dict=()
	[ -f "$ROOT/tests/fuzz/$name.dict" ] && dict=(-dict="$ROOT/tests/fuzz/$name.dict")
	log=$TMP/$name.log
	# The targets write their scratch files under TMPDIR, removed with $TMP. The outer
	# timeout only guards against libFuzzer itself wedging; -timeout catches a slow input.
	TMPDIR=$TMP timeout -k 10 $((SECS + 120)) "$bin" -max_total_time="$SECS" -timeout=10 \
		-rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 "${dict[@]}" \
		-artifact_prefix="$FUZZ/crashes/$name-" "$corpus" "${seeds[@]}" \
		</dev/null >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(sed -n 's/^#[0-9]*[[:space:]]*DONE *cov: \([0-9]*\).*/\1/p' "$log" | tail -1)
	size=$(find "$corpus" -type f | wc -l)
	if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
		ok "$name: $runs execs in $SECS s, no crash (${cov:-?} edges covered, corpus $size)"
		echo "# $name: $((runs / (SECS > 0 ? SECS : 1))) execs/s"
	else
		not_ok "$name: exit status $rc after ${runs:-?} execs"
		grep -E 'ERROR|SUMMARY|invariant broken|runtime error|Test unit written' "$log" |
			head -20 | sed 's/^/#   /'
		tail -5 "$log" | sed 's/^/#   /'
	fi
done
exit "$FAILED"
