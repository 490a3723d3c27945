#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# 'prefixwatch replay' on broken captures: exit 0 or 2, a clear error or a summary of every frame.
#
# Made here from a pcapgen capture, as pcap and as pcapng: empty files, headers alone, cuts
# at many offsets (the summary then holds exactly the whole frames before the cut), random
# bytes in the file header and in the body, oversized and empty records, timestamps years
# apart. Then every file of the shared capture sets (tcpdump's test captures, real DDoS
# captures) at ROOT/../shared/data. Replay loads BPF: it needs root.
# timeout-factor: 2 (about 1,700 replays, each loading and verifying the program)
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PW=$ROOT/$BUILD/prefixwatch
PCAPGEN=$ROOT/$BUILD/tests/pcapgen
SHARED=$ROOT/../shared/data
TMP=$(mktemp -d /tmp/prefixwatch-captures.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
N=0
FAILED=0

ok() { N=$((N + 1)); echo "ok $N - $*"; }
not_ok() { N=$((N + 1)); FAILED=1; echo "not ok $N - $*"; }
skip() { N=$((N + 1)); echo "ok $N # SKIP $*"; }
diag() { echo "# $*"; }

if [ "$(id -u)" != 0 ]; then
	if [ "${CI:-}" = true ]; then
		not_ok "replay needs root to load BPF (CI runs as root)"
		exit 1
	fi
	skip "replay needs root to load BPF"
	exit 0
fi

# Disjoint groups, so that groups and classes add up to the frames replayed.
cat >"$TMP/pw.ini" <<'EOF'
[sensor]
interval = 1

[group victim]
prefix = 10.10.10.0/24

[group doc]
prefix = 192.0.2.0/24
prefix = 2001:db8::/32

[group private]
prefix = 172.16.0.0/12
prefix = 192.168.0.0/16
prefix = fe80::/10
EOF

# Frames counted by the summary on stderr: "FRAMES ACCOUNTED", or "none" without a summary.
account() {
	awk '
	/^replay: .* frames over / {
		for (i = 1; i < NF; i++) if ($(i + 1) == "frames" && $(i + 2) == "over") n = $i
		seen = 1
	}
	/^  group / { s += $3 }
	/^  unmatched / { e = $10; gsub(/[^0-9]/, "", e); s += $2 + $4 + $7 + $9 + e }
	/^  [0-9]+ frames could not be run/ { s += $1 }
	END { if (seen) print n, s; else print "none" }' "$1"
}

# replay CAPTURE [WANT_FRAMES [MUST_BE_CLEAN]]: run it and judge. Prints nothing when all is
# well, else the reason. WANT_FRAMES: the summary, when there is one, must count exactly so
# many frames; MUST_BE_CLEAN=1: the replay must succeed (exit 0).
replay() {
	local cap=$1 want=${2:-} clean=${3:-} rc acct
	local err=${ERR:-$TMP/err}
	timeout -k 5 20 "$PW" replay -c "$TMP/pw.ini" "$cap" </dev/null >/dev/null 2>"$err"
	rc=$?
	acct=$(account "$err")
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "hung (killed after 20 s)"
	elif [ "$rc" -gt 128 ]; then
		echo "died of signal $((rc - 128))"
	elif grep -qE 'Sanitizer|runtime error:' "$err"; then
		echo "sanitizer report"
	elif [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then
		echo "exit status $rc: $(head -n 1 "$err")"
	elif [ "$rc" -eq 0 ] && [ "$acct" = none ]; then
		echo "exit 0 without a summary"
	elif [ "$rc" -eq 2 ] && ! grep -qF "$cap: " "$err"; then
		echo "exit 2 without an error naming the capture: $(head -n 1 "$err")"
	elif [ "$acct" != none ] && [ "${acct% *}" != "${acct#* }" ]; then
		echo "summary counts ${acct% *} frames but accounts for ${acct#* }"
	elif [ -n "$want" ] && [ "$acct" != none ] && [ "${acct%% *}" != "$want" ]; then
		echo "summary counts ${acct%% *} frames, want $want"
	elif [ "$clean" = 1 ] && [ "$rc" -ne 0 ]; then
		echo "exit $rc, want 0: $(head -n 1 "$err")"
	fi
}

# judge DESC REASON: one TAP line.
judge() {
	if [ -z "$2" ]; then ok "$1"; else not_ok "$1: $2"; sed 's/^/#   /' "$TMP/err" | head -8; fi
}

# ---- byte tools: little-endian fields, hex in and out, in-place overwrites ----
u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
le32() {
	printf '%02x%02x%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) \
		$(($1 >> 24 & 255))
}
unhex() { printf '%b' "$(sed 's/../\\x&/g')"; }
poke() { printf '%s' "$3" | unhex | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
size() { stat -c %s "$1"; }

# ---- the base capture ----
"$PCAPGEN" "$TMP/base.pcap" 2>"$TMP/gen.err" <<'EOF'
0   2 4 ipv4  10.10.10.10 60
0.1 2 3 ipv6  2001:db8::1 86
0.2 2 2 vlan4 192.0.2.7   64
0.3 2 1 qinq4 172.16.1.1  68
0.4 2 1 vlan6 fe80::1     90
0.5 2 1 frag4 10.10.10.1  60
0.6 2 1 arp   0.0.0.0     60
0.7 2 1 runt  0.0.0.0     20
0.8 2 1 ipv4  8.8.8.8     1514
EOF
# Record ends: ENDS[k] is the offset just past record k+1.
ENDS=()
off=24
while [ "$off" -lt "$(size "$TMP/base.pcap")" ]; do
	off=$((off + 16 + $(u32 "$TMP/base.pcap" $((off + 8)))))
	ENDS+=("$off")
done
K=${#ENDS[@]}
judge "base pcap ($K frames) replays in full" "$(replay "$TMP/base.pcap" "$K" 1)"

# The same frames as pcapng: a section header, one Ethernet interface, enhanced packets.
{
	unhex <<<"0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000"
	unhex <<<"01000000140000000100000000000400""14000000"
	off=24
	for end in "${ENDS[@]}"; do
		sec=$(u32 "$TMP/base.pcap" "$off")
		usec=$(u32 "$TMP/base.pcap" $((off + 4)))
		len=$(u32 "$TMP/base.pcap" $((off + 8)))
		pad=$(((4 - len % 4) % 4))
		ts=$((sec * 1000000 + usec))
		# type 6, length, interface 0, time high and low (microseconds), lengths
		unhex <<<"06000000$(le32 $((32 + len + pad)))00000000"
		unhex <<<"$(le32 $((ts >> 32)))$(le32 $((ts & 0xffffffff)))"
		unhex <<<"$(le32 "$len")$(le32 "$len")"
		dd if="$TMP/base.pcap" bs=1 skip=$((off + 16)) count="$len" status=none
		head -c "$pad" /dev/zero
		unhex <<<"$(le32 $((32 + len + pad)))"
		off=$end
	done
} >"$TMP/base.pcapng"
NG_ENDS=()
off=48
while [ "$off" -lt "$(size "$TMP/base.pcapng")" ]; do
	off=$((off + $(u32 "$TMP/base.pcapng" $((off + 4)))))
	NG_ENDS+=("$off")
done
judge "base pcapng (${#NG_ENDS[@]} frames) replays in full" "$(replay "$TMP/base.pcapng" "$K" 1)"

# ---- empty files and headers alone ----
: >"$TMP/empty.pcap"
judge "empty file" "$(replay "$TMP/empty.pcap")"
head -c 24 "$TMP/base.pcap" >"$TMP/header.pcap"
judge "pcap file header alone" "$(replay "$TMP/header.pcap")"
head -c 28 "$TMP/base.pcapng" >"$TMP/shb.pcapng"
judge "pcapng section header alone" "$(replay "$TMP/shb.pcapng")"
head -c 48 "$TMP/base.pcapng" >"$TMP/idb.pcapng"
judge "pcapng section and interface headers alone" "$(replay "$TMP/idb.pcapng")"

# ---- cuts: at and around every record boundary, all through the headers, every 61st byte ----
# complete CUT ENDS...: how many records end at or before CUT.
complete() {
	local cut=$1 n=0 e
	shift
	for e in "$@"; do [ "$e" -le "$cut" ] && n=$((n + 1)); done
	echo "$n"
}
cut_test() { # NAME FILE FIRST ENDS...
	local name=$1 file=$2 first=$3 total cuts=() bad=0 n=0 c why k
	shift 3
	total=$(size "$file")
	for ((c = 0; c < first + 20 && c < total; c++)); do cuts+=("$c"); done
	for e in "$@"; do cuts+=($((e - 1)) "$e" $((e + 1))); done
	for ((c = first; c < total; c += 61)); do cuts+=("$c"); done
	for c in $(printf '%s\n' "${cuts[@]}" | sort -un); do
		if [ "$c" -lt 0 ] || [ "$c" -ge "$total" ]; then continue; fi
		head -c "$c" "$file" >"$TMP/cut"
		k=$(complete "$c" "$@")
		# At a record boundary past the headers the file is whole: it must replay cleanly.
		clean=
		for e in "$@"; do [ "$e" -eq "$c" ] && clean=1; done
		why=$(replay "$TMP/cut" "$k" "$clean")
		n=$((n + 1))
		if [ -n "$why" ]; then
			bad=$((bad + 1))
			[ "$bad" -le 5 ] && diag "$name cut at $c of $total: $why"
		fi
	done
	if [ "$bad" -eq 0 ]; then
		ok "$name cut at $n offsets: exit 0 or 2, whole frames before the cut all counted"
	else
		not_ok "$name cut at $n offsets: $bad went wrong"
	fi
}
cut_test "pcap" "$TMP/base.pcap" 24 "${ENDS[@]}"
cut_test "pcapng" "$TMP/base.pcapng" 48 "${NG_ENDS[@]}"

# ---- random bytes: every header byte, then the body ----
RANDOM=20141222
rand_hex() { local i; for ((i = 0; i < $1; i++)); do printf '%02x' $((RANDOM % 256)); done; }
corrupt_test() { # NAME FILE HEADER_LEN BODY_TRIES
	local name=$1 file=$2 hlen=$3 tries=$4 total bad=0 n=0 why pos v fixed
	total=$(size "$file")
	for ((pos = 0; pos < hlen; pos++)); do
		fixed=00
		[ $((pos & 1)) -eq 1 ] && fixed=ff
		for v in "$fixed" "$(rand_hex 1)"; do
			cp "$file" "$TMP/bad"
			poke "$TMP/bad" "$pos" "$v"
			why=$(replay "$TMP/bad")
			n=$((n + 1))
			if [ -n "$why" ]; then
				bad=$((bad + 1))
				[ "$bad" -le 5 ] && diag "$name: header byte $pos set to $v: $why"
			fi
		done
	done
	if [ "$bad" -eq 0 ]; then
		ok "$name: $n header corruptions, exit 0 or 2, every frame of a summary accounted"
	else
		not_ok "$name: $n header corruptions, $bad went wrong"
	fi
	bad=0
	n=0
	for ((t = 0; t < tries; t++)); do
		cp "$file" "$TMP/bad"
		for ((k = 0; k < 1 + RANDOM % 8; k++)); do
			pos=$((hlen + (RANDOM * 32768 + RANDOM) % (total - hlen)))
			poke "$TMP/bad" "$pos" "$(rand_hex $((1 + RANDOM % 4)))"
		done
		why=$(replay "$TMP/bad")
		n=$((n + 1))
		if [ -n "$why" ]; then
			bad=$((bad + 1))
			[ "$bad" -le 5 ] && diag "$name: body corruption $t: $why"
		fi
	done
	if [ "$bad" -eq 0 ]; then
		ok "$name: $n captures with random bytes in the body, exit 0 or 2, all accounted"
	else
		not_ok "$name: $n body corruptions, $bad went wrong"
	fi
}
corrupt_test pcap "$TMP/base.pcap" 24 60
corrupt_test pcapng "$TMP/base.pcapng" 48 60

# ---- odd records ----
# A record that claims more bytes than the file holds, one of 0 bytes, one of 70,000 bytes.
{
	head -c 24 "$TMP/base.pcap"
	unhex <<<"0000000000000000$(le32 0)$(le32 60)"
	unhex <<<"0100000000000000$(le32 70000)$(le32 70000)"
	head -c 70000 /dev/zero
	unhex <<<"0200000000000000$(le32 200)$(le32 200)"
	head -c 100 /dev/zero
} >"$TMP/odd.pcap"
poke "$TMP/odd.pcap" 16 "$(le32 262144)" # snaplen, room for the big one
judge "pcap with an empty record, a 70,000-byte record and a record cut short" \
	"$(replay "$TMP/odd.pcap" 2)"

# Timestamps 89 years apart, and going backwards: no interval-by-interval crawl.
"$PCAPGEN" "$TMP/gaps.pcap" 2>/dev/null <<'EOF'
0          1 10 ipv4 10.10.10.10 60
2800000000 1 10 ipv4 10.10.10.10 60
5          1 10 ipv4 192.0.2.1   60
EOF
# pcapgen sorts by time: rewrite the last record's time to the epoch, before all others.
poke "$TMP/gaps.pcap" $(($(size "$TMP/gaps.pcap") - 76)) 00000000
judge "timestamps 89 years apart and going backwards" "$(replay "$TMP/gaps.pcap" 30 1)"

# ---- the shared capture sets ----
for set in tcpdump-tests attacks; do
	dir=$SHARED/$set
	if [ ! -d "$dir" ]; then
		if [ "${CI:-}" = true ]; then
			not_ok "$set: $dir is missing (CI must have shared/ beside the clone)"
		else
			skip "shared data not present ($dir)"
		fi
		continue
	fi
	files=0 summaries=0 refused=0 frames=0 bad=0
	start=$(date +%s)
	# Two workers, each on every other file (loading the program costs each replay
	# some 0.05 s of verification); each writes one line per file.
	for w in 0 1; do
		(
			i=0
			for f in "$dir"/*; do
				[ -f "$f" ] || continue
				i=$((i + 1))
				[ $((i % 2)) -eq "$w" ] || continue
				why=$(ERR=$TMP/err.$w replay "$f")
				if [ -n "$why" ]; then
					echo "bad $(basename "$f"): $why"
				else
					echo "acct $(account "$TMP/err.$w")"
				fi
			done >"$TMP/worker.$w"
		) &
	done
	wait
	while read -r kind rest; do
		files=$((files + 1))
		if [ "$kind" = bad ]; then
			bad=$((bad + 1))
			[ "$bad" -le 10 ] && diag "$set/$rest"
		elif [ "$rest" = none ]; then
			refused=$((refused + 1))
		else
			summaries=$((summaries + 1))
			frames=$((frames + ${rest%% *}))
		fi
	done < <(cat "$TMP/worker.0" "$TMP/worker.1")
	want=$(find "$dir" -maxdepth 1 -type f | wc -l)
	[ "$files" -eq "$want" ] || { bad=$((bad + 1)); diag "$set: $files results for $want files"; }
	diag "$set: $files files in $(($(date +%s) - start)) s: $summaries summaries" \
		"($frames frames), $refused refused with an error"
	if [ "$bad" -eq 0 ] && [ "$files" -gt 0 ]; then
		ok "$set: all $files files exit 0 or 2, every frame of every summary accounted"
	else
		not_ok "$set: $bad of $files files went wrong"
	fi
done

echo "1..$N"
exit "$FAILED"
