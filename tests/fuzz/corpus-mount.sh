#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A few images of the hostile corpus through a real e4fuse mount and a full
# walk by ordinary means (mount-walk.py: readdir, lstat, read, readlink,
# xattrs).  Per image: the mount is refused with a message, or it mounts,
# the walk finishes within its time limit, the unmount is clean and e4fuse
# (run in the foreground so its stderr is kept) exits 0 without a sanitizer
# report.  Outcomes are compared with corpus-mount-expected.tsv:
#   mounted; entries=N errors=M (<first paths>)   M paths gave an error
#   refused: <the rules the library's messages name ("... [SB1]")>
# E4_UPDATE_EXPECTED=1 rewrites the table (review its diff).
. "$(dirname "$0")/corpus-lib.sh"

E4FUSE=$E4_BUILDDIR/e4fuse
expected=$E4_SRCDIR/tests/fuzz/corpus-mount-expected.tsv
[ "$(id -u)" = 0 ] || skip "needs root (FUSE mounts)"
[ -c /dev/fuse ] || skip "no /dev/fuse"
command -v python3 >/dev/null || skip "missing python3"
[ -x "$E4FUSE" ] || hard_error "$E4FUSE not built"
corpus_find
corpus_unpack

# varied outcomes, small trees: a mount walk costs far more than corpus_walk
images="d_inline_dump f_badsymlinks f_baddir f_extents f_ea_checks f_holedir
f_zero_super f_detect_xfs f_inlinedata_repair f_dir_bad_csum f_big_sparse
f_extent_bad_node f_htree_bad_csum f_special_ea f_unused_itable f_orphan
f_bad_encryption j_recover_csum2_32bit"

work=$(mktemp -d)
mp=$work/mnt
mkdir "$mp"
pid=
cleanup() {
	umount -l "$mp" 2>/dev/null
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

got=$work/got
fail=0
printf 'image\toutcome\n' > "$got"
for name in $images; do
	img=$CORPUS_IMG/$name.img
	log=$work/$name.log
	# the image is never written, but keep the corpus pristine regardless
	"$E4FUSE" -f "$img" "$mp" -o ro >"$log" 2>&1 &
	pid=$!
	mounted=0
	for _ in $(seq 100); do
		if mountpoint -q "$mp"; then mounted=1; break; fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ $mounted = 0 ]; then
		wait "$pid"
		rc=$?
		pid=
		# the rules of the library's reasons ("... [SB1]"); e4fuse's own
		# summary names the image
		msg=$(grep -vF "$img" "$log" | grep -o '\[[A-Z0-9-]*\]$' | tr -d '[]' | paste -sd ' ' -)
		outcome="refused: ${msg:-(no rule named)}"
		[ $rc = 0 ] && { echo "FAIL: $name: e4fuse exited 0 without mounting"; fail=1; }
		[ $rc -gt 1 ] && { echo "FAIL: $name: e4fuse exit $rc"; cat "$log"; fail=1; }
	else
		outcome=$(timeout 20 python3 "$E4_SRCDIR/tests/fuzz/mount-walk.py" "$mp" 2>"$work/$name.walk")
		wrc=$?
		[ $wrc = 124 ] && { echo "FAIL: $name: walk did not finish in 20 s"; fail=1; }
		[ $wrc != 0 ] && [ $wrc != 124 ] && { echo "FAIL: $name: walk exit $wrc"; cat "$work/$name.walk"; fail=1; }
		outcome="mounted; $outcome"
		umount "$mp" || { umount -l "$mp"; echo "FAIL: $name: busy at unmount"; fail=1; }
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$pid" 2>/dev/null; then
			echo "FAIL: $name: e4fuse still running 10 s after unmount"
			kill -9 "$pid"
			fail=1
		fi
		wait "$pid"
		rc=$?
		pid=
		[ $rc != 0 ] && { echo "FAIL: $name: e4fuse exit $rc after unmount"; tail -n 30 "$log"; fail=1; }
	fi
	if grep -q 'AddressSanitizer\|LeakSanitizer\|runtime error' "$log"; then
		echo "FAIL: $name: sanitizer report"
		grep -A 20 'AddressSanitizer\|LeakSanitizer\|runtime error' "$log" | head -n 40
		fail=1
	fi
	printf '%s\t%s\n' "$name" "$outcome" >> "$got"
done

if [ "${E4_UPDATE_EXPECTED:-0}" = 1 ]; then
	cp "$got" "$expected"
	echo "wrote $expected"
elif ! diff -u "$expected" "$got" > "$work/diff"; then
	echo "FAIL: outcomes differ from tests/fuzz/corpus-mount-expected.tsv (- expected, + now):"
	grep '^[-+][^-+]' "$work/diff"
	fail=1
fi
echo "$(echo $images | wc -w) images mounted and walked"
exit $fail
