#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Hostile images written to: every image of the corpus, in memory, made
# writable (or refused, which is a fine answer) and changed by the write
# harness's fixed sequence (tests/fuzz/write_fuzz.c).  Each run is bounded
# (20 s) and must exit 0: a crash, a hang, a sanitizer report, a leak, a
# device write outside the file system or a new file's block on the
# image's metadata (whatever its bitmaps say) fails the test.
. "$(dirname "$0")/corpus-lib.sh"

runner=$E4_BUILDDIR/tests/fuzz/corpus_write
[ -x "$runner" ] || hard_error "$runner not built (make check builds it)"
corpus_find
corpus_unpack

fail=0
written=0
n=0
for name in $(corpus_names); do
	img=$CORPUS_IMG/$name.img
	out=$(timeout 20 "$runner" "$img" 2>&1)
	rc=$?
	n=$((n + 1))
	case $out in *"	written"*) written=$((written + 1)) ;; esac
	if [ $rc = 124 ]; then
		echo "FAIL: $name: no result within 20 s (hang)"
		fail=1
	elif [ $rc != 0 ]; then
		echo "FAIL: $name: exit $rc"
		echo "$out" | head -n 30
		fail=1
	fi
done
echo "$n images, $written written to"
[ $fail = 0 ] && echo "PASS: every image written or refused, nothing outside, no metadata lost"
exit $fail
