#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The Prometheus alerting rules in deploy/ are valid and pass their promtool unit tests.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1

TAP_N=0
TAP_FAILED=0
ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=1; echo "not ok $TAP_N - $*"; }
# check DESCRIPTION COMMAND...: one TAP line; the command's output becomes diagnostics on failure.
check() {
	local d=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$d"
	else
		not_ok "$d"
		printf '%s\n' "$out" | sed 's/^/#   /' | head -60
	fi
}

if ! command -v promtool >/dev/null; then
	not_ok "promtool is not installed (make deps; Debian: prometheus)"
	exit 1
fi
check "promtool check rules deploy/prometheus-alerts.yml" \
	promtool check rules deploy/prometheus-alerts.yml
check "promtool test rules deploy/prometheus-alerts.test.yml" \
	promtool test rules deploy/prometheus-alerts.test.yml
echo "1..$TAP_N"
exit "$TAP_FAILED"
