#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Resource limits (docs/limits.md) against images built to defeat them.
#   bigdir: a large_dir directory of 2^30 blocks that repeat four on disk
#   (mk-bigdir.sh).  One readdir, or a failed lookup, must stop at 4 GiB of
#   directory (2^20 blocks here) with EFBIG and one log line, not walk on
#   for hours.
set -u
: "${E4_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${E4_BUILDDIR:=$E4_SRCDIR}"
walker=$E4_BUILDDIR/tests/fuzz/corpus_walk
[ -x "$walker" ] || { echo "ERROR: $walker not built"; exit 99; }
for t in mkfs.ext4 debugfs python3; do
	command -v $t >/dev/null || { echo "SKIP: missing $t"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

"$E4_SRCDIR/tests/fuzz/mk-bigdir.sh" "$tmp/bigdir.img" || { echo "ERROR: mk-bigdir.sh"; exit 99; }
# The library's own limit (2^20 blocks of directory per request) is above
# the fuzz resource oracle's work budget (resource.h), which would stop the
# walk first: this test is about the library's limit, so the oracle's work
# check is off here (its heap check stays on).
out=$(timeout 60 "$walker" -v "$tmp/bigdir.img" 2>"$tmp/log")
rc=$?
if [ $rc != 0 ]; then
	echo "FAIL: bigdir: walker exit $rc (124: still walking after 60 s)"
	fail=1
fi
n=$(grep -c 'inode 12: directory walk stopped at logical block 1048576: more than 4 GiB in one request' "$tmp/log")
if [ "$n" -lt 1 ]; then
	echo "FAIL: bigdir: no 'directory walk stopped' message:"
	grep -v 'invalid file type' "$tmp/log" | head -n 20
	fail=1
fi
case "$out" in
"bigdir	eio: 1 files (/big);"*) ;;
*) echo "FAIL: bigdir: outcome '$out', expected /big alone unreadable"; fail=1 ;;
esac
[ $fail = 0 ] && echo "PASS: bigdir stopped after 4 GiB ($n requests)"
exit $fail
