#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/iomap-bench.sh [--mib N] [--reps N] [--out FILE]
#
# fuse-iomap against the classic READ/WRITE path, through the kernel model
# (no kernel here has fuse-iomap): bench/iomap-bench (built by make check)
# plays each workload on a fresh copy of one image, once per path, and
# counts the requests e4fuse was sent; see bench/iomap_bench.c for what
# the model's numbers mean and do not mean.  Workloads: a sequential read
# of an N MiB file (default 256) in 1 MiB reads, the same read again, 4,000
# random 4 KiB direct reads, 48 small files read whole, the file written
# anew in 1 MiB writes (buffered, then direct) with an fsync, and 4,000
# random 4 KiB overwrites with an fsync.  Each write run ends with
# e2fsck -fn of the image (a failure stops the benchmark).
#
# The median time of the repetitions (3) is kept; the counts do not vary.
# Results go to bench/results/YYYY-MM-DD-iomap.md; an existing file keeps
# everything below its "<!-- analysis -->" line.  Needs e2fsprogs; no root.
set -eu
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
mib=256
reps=3
out=""
prog=${E4_IOMAP_BENCH:-$top/bench/iomap-bench}

while [ $# -gt 0 ]; do
	case $1 in
	--mib) mib=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h|--help) sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "iomap-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ -x "$prog" ] || { echo "iomap-bench: no $prog (make check builds it; or set E4_IOMAP_BENCH)" >&2; exit 1; }

bench=iomap-bench
# shellcheck source=bench/benchlib.sh
. "$here/benchlib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$reps"); do
	"$prog" "$mib" > "$work/run$r" 2> "$work/log$r" ||
		{ cat "$work/run$r" "$work/log$r" >&2; exit 1; }
	echo "iomap-bench: round $r done" >&2
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# one table: the first round's counts, the median time of the rounds
table() {
	local first=$work/run1
	grep -E '^\| workload |^\|---' "$first"
	grep '^| ' "$first" | grep -v '^| workload ' | while IFS= read -r line; do
		key=$(echo "$line" | cut -d'|' -f2,3)
		t=$(for r in $(seq 1 "$reps"); do
			grep -F "|$key|" "$work/run$r" | cut -d'|' -f4
		done | median)
		mibps=$(echo "$line" | awk -F'|' -v t="$t" '{ s = $4 + 0; m = $5 + 0; printf "%.1f", (t > 0 && s > 0) ? m * s / t : 0 }')
		echo "$line" | awk -F'|' -v t="$t" -v m="$mibps" 'BEGIN { OFS = "|" } { $4 = " " t " "; $5 = " " m " "; print }'
	done
}

out=${out:-$top/bench/results/$(date +%F)-iomap.md}
analysis=""
[ -f "$out" ] && analysis=$(sed -n '/<!-- analysis -->/,$p' "$out")
{
	echo "# fuse-iomap through the kernel model, $(date +%F)"
	echo
	echo "Made by \`bench/iomap-bench.sh --mib $mib --reps $reps\`; $(uname -r), $(nproc) CPUs;"
	echo "e4fuse commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown);"
	echo "load average before: $load_before, after: $load_after."
	echo
	echo "No kernel here has fuse-iomap: the model of the kernel's side"
	echo "(tests/iomap/kmodel.c) plays each workload against e4fuse's engine over"
	echo "a socket, once through iomap (the model doing the data I/O on the image"
	echo "at the addresses e4fuse gave) and once through READ/WRITE (e4fuse doing"
	echo "it).  Image: 4 KiB blocks, \`mkfs.ext4 -d\` of a $mib MiB file and 48"
	echo "small files; each run on a fresh copy.  Seconds: median of $reps."
	echo "The model's classic path has no page cache and moves 64 KiB per READ"
	echo "or WRITE (the kernel: up to 1 MiB, cached), so its counts are upper"
	echo "bounds; the model is single-threaded, so times are e4fuse's work plus"
	echo "the model's, one request at a time."
	echo
	table
	echo
	if [ -n "$analysis" ]; then echo "$analysis"; else echo "<!-- analysis -->"; fi
} > "$out"
echo "iomap-bench: wrote $out" >&2
