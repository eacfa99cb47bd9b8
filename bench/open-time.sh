#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/open-time.sh [--check] [TREE_COMPARE]
#
# Opening reads the superblock only: no descriptors, bitmaps or inodes.  Make
# a 4 GiB and a 4 TiB sparse image and time e4_fs_open + e4_fs_close on each
# (cold: the image's pages are dropped from the page cache before every
# open), then a read-write session (open, begin and end writing, close: a
# mount and an unmount with nothing written).  With --check, fail unless
# the 4 TiB open is under 50 ms and within 10x (+2 ms of timer noise) of the
# 4 GiB one, and unless the 4 TiB read-write session reads no more blocks
# than the 4 GiB one (no descriptor it does not use, no recount at a clean
# unmount); its time is compared with the target (within 10%, +2 ms) but a
# time is a benchmark's to judge, so that is a note.
set -eu
export LC_ALL=C
check=0
[ "${1:-}" = --check ] && { check=1; shift; }
tc=${1:-${E4_BUILDDIR:-.}/tests/integration/tree_compare}
[ -x "$tc" ] || { echo "open-time: no $tc (make check builds it)"; exit 99; }
dir=$(mktemp -d "${TMPDIR:-/var/tmp}/e4open.XXXXXX")
trap 'rm -rf "$dir"' EXIT

mk() {
	truncate -s "$2" "$dir/$1.img"
	local t0
	t0=$(date +%s%N)
	# No journal and lazy inode tables: mkfs of 4 TiB stays quick; the
	# group descriptors (32768 of them) and bitmaps are all there.
	mkfs.ext4 -q -F -O ^has_journal -E lazy_itable_init=1,nodiscard "$dir/$1.img"
	echo "open-time: mkfs $2 took $((($(date +%s%N) - t0) / 1000000)) ms"
}
mk small 4G
mk huge 4T

small=$("$tc" --open-time "$dir/small.img" 21)
huge=$("$tc" --open-time "$dir/huge.img" 21)
echo "$small"
echo "$huge"
us_small=$(echo "$small" | sed -n 's/.*median \([0-9]*\) us.*/\1/p')
us_huge=$(echo "$huge" | sed -n 's/.*median \([0-9]*\) us.*/\1/p')
echo "open-time: 4 GiB ${us_small} us, 4 TiB ${us_huge} us (median of 21 cold opens)"
small_rw=$("$tc" --open-time-rw "$dir/small.img" 21)
huge_rw=$("$tc" --open-time-rw "$dir/huge.img" 21)
echo "$small_rw"
echo "$huge_rw"
rw_small=$(echo "$small_rw" | sed -n 's/.*median \([0-9]*\) us.*/\1/p')
rw_huge=$(echo "$huge_rw" | sed -n 's/.*median \([0-9]*\) us.*/\1/p')
echo "open-time: read-write, 4 GiB ${rw_small} us, 4 TiB ${rw_huge} us (median of 21)"
if [ $check = 1 ]; then
	limit=$((us_small * 10 + 2000))
	[ $limit -gt 50000 ] && limit=50000
	if [ "$us_huge" -gt $limit ] || [ "$us_huge" -gt 50000 ]; then
		echo "FAIL: opening 4 TiB took ${us_huge} us (limit ${limit} us: 10x 4 GiB + 2 ms, at most 50 ms)"
		exit 1
	fi
	# issue 10's target, a read-write session on 4 TiB within 10% of
	# one on 4 GiB, is a time and so a benchmark's (NOTE); what makes it
	# hold is checked exactly: the session reads no more on 4 TiB
	reads_small=$(echo "$small_rw" | sed -n 's/.*, \([0-9]*\) device reads.*/\1/p')
	reads_huge=$(echo "$huge_rw" | sed -n 's/.*, \([0-9]*\) device reads.*/\1/p')
	if [ -z "$reads_huge" ] || [ "$reads_huge" -gt "$reads_small" ]; then
		echo "FAIL: a read-write session reads ${reads_huge:-?} blocks on 4 TiB, ${reads_small:-?} on 4 GiB"
		exit 1
	fi
	rw_limit=$((rw_small * 11 / 10 + 2000))
	[ "$rw_huge" -gt $rw_limit ] &&
		echo "NOTE: a read-write session on 4 TiB took ${rw_huge} us, over the target ${rw_limit} us (4 GiB's + 10% + 2 ms; timing on a loaded machine)"
	echo "PASS: open time does not grow with the image size"
fi
