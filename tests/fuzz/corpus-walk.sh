#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Every image of the hostile corpus through the walker (tests/fuzz/walk.c),
# no mount: open, every directory entry listed and looked up again, every
# reachable inode's attributes, xattrs, symlink and file bytes, a scan of the
# inode table.  Twice per image: checksums verified (what a mount does) and
# accepted (to reach the code behind them).  Each run is bounded (10 s) and
# must exit 0: a crash, a hang, a sanitizer report or a leak fails the test.
# The outcome of each image is compared with corpus-expected.tsv:
#   ok; <counts>            walked without an error
#   eio: N files (<first paths>); <counts>
#                           N reachable inodes gave an error (EIO/EUCLEAN)
#   refused: <rule> <object>
#                           not opened (the first error reported: the rule it
#                           breaks and where), or the root directory unreadable
# After an intended change of behaviour: E4_UPDATE_EXPECTED=1 make check
# TESTS=tests/fuzz/corpus-walk.sh rewrites the table; review its diff.
. "$(dirname "$0")/corpus-lib.sh"

walker=$E4_BUILDDIR/tests/fuzz/corpus_walk
expected=$E4_SRCDIR/tests/fuzz/corpus-expected.tsv
[ -x "$walker" ] || hard_error "$walker not built (make check builds it)"
corpus_find
corpus_unpack

got=$(mktemp)
trap 'rm -f "$got"' EXIT
fail=0
n=0
printf 'image\tverify\taccept\n' > "$got"
for name in $(corpus_names); do
	img=$CORPUS_IMG/$name.img
	line=
	for mode in verify accept; do
		args=
		[ $mode = accept ] && args=--csum-accept
		out=$(timeout 10 "$walker" $args "$img" 2>"$got.err")
		rc=$?
		if [ $rc = 124 ]; then
			echo "FAIL: $name ($mode): no result within 10 s (hang)"
			fail=1
		elif [ $rc != 0 ]; then
			echo "FAIL: $name ($mode): exit $rc"
			grep -v '^  ' "$got.err" | head -n 30
			fail=1
		fi
		line="$line	${out#*	}"
	done
	n=$((n + 1))
	printf '%s%s\n' "$name" "$line" >> "$got"
done
rm -f "$got.err"

if [ "${E4_UPDATE_EXPECTED:-0}" = 1 ]; then
	cp "$got" "$expected"
	echo "wrote $expected"
elif ! diff -u "$expected" "$got" > "$got.diff"; then
	echo "FAIL: outcomes differ from tests/fuzz/corpus-expected.tsv (- expected, + now):"
	grep '^[-+][^-+]' "$got.diff"
	echo "(if the change is intended: E4_UPDATE_EXPECTED=1 make check TESTS=tests/fuzz/corpus-walk.sh)"
	fail=1
fi
rm -f "$got.diff"
echo "$n images walked twice"
exit $fail
