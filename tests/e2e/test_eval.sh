#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The detection evaluation (make eval) as a test: every scenario meets its targets.
# PW_EVAL_SCENARIOS (names, space-separated) runs only those; empty runs them all.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" != 0 ]; then
	if [ "${CI:-}" = true ]; then echo "not ok 1 - the evaluation needs root (replay loads BPF)"; exit 1; fi
	echo "ok 1 # SKIP the evaluation needs root (replay loads BPF)"
	exit 0
fi
WORK=$(mktemp -d /tmp/prefixwatch-eval.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
PW_ATTACKS_DIR=${PW_ATTACKS_DIR:-$ROOT/../shared/data/attacks} \
	"$ROOT/$BUILD/tests/pweval" "$ROOT/$BUILD/prefixwatch" "$WORK" ${PW_EVAL_SCENARIOS:-}
