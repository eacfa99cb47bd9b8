#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The walker itself must catch differences: compare an image with a copy of
# its source tree changed in one field at a time, and expect exit 1 and a
# MISMATCH line naming that path and field.  (A comparison that cannot fail
# proves nothing.)
. "$(dirname "$0")/lib.sh"
require_env
cache_dir

tree=$(tree_get small) || exit 99
img=$(image_get ext4-4k small mkfs) || hard_error "no image"
work=$(mktemp -d "$CACHE/selftest.XXXXXX")
trap 'lib_cleanup; rm -rf "$work"' EXIT

# expect_mismatch NAME 'PATTERN' COMMAND...: break a fresh copy, compare
# (with $bad_img instead of the image when set).
expect_mismatch() {
	local name=$1 pattern=$2 ref=$work/ref out rc
	shift 2
	rm -rf "$ref"
	cp -a "$tree" "$ref"
	(cd "$ref" && eval "$*") || hard_error "$name: setup failed"
	out=$("$TREE_COMPARE" --ref=src "${bad_img:-$img}" "$ref" 2>&1)
	rc=$?
	if [ $rc = 1 ] && echo "$out" | grep -q -- "$pattern"; then
		record "detects $name" 0
	else
		echo "$out" | tail -5
		echo "(wanted exit 1 and a line matching '$pattern', got exit $rc)"
		record "detects $name" 1
	fi
}

# The unchanged copy compares clean (cp -a keeps everything compared).
rm -rf "$work/ref" && cp -a "$tree" "$work/ref"
"$TREE_COMPARE" --ref=src "$img" "$work/ref" > "$work/out" 2>&1
rc=$?
tail -1 "$work/out"
record "unchanged copy compares clean" $rc

expect_mismatch "one changed byte" 'MISMATCH /files/size-1048579: content: byte 1000000' \
	"printf 'Z' | dd of=files/size-1048579 bs=1 seek=1000000 conv=notrunc status=none"
expect_mismatch "a changed byte in a hole" 'MISMATCH /sparse/holes: content' \
	"printf 'Z' | dd of=sparse/holes bs=1 seek=5 conv=notrunc status=none"
expect_mismatch "mode" 'MISMATCH /modes/file-0644: mode' "chmod 0640 modes/file-0644"
expect_mismatch "owner" 'MISMATCH /modes/file-0644: uid' "chown 1001 modes/file-0644"
expect_mismatch "mtime" 'MISMATCH /files/size-0: mtime' "touch -d '2001-02-03 04:05:07' files/size-0"
expect_mismatch "missing name" 'entry "new" missing from image' ": > deep/new"
expect_mismatch "extra name" 'extra entry "leaf" in image' "rm deep/a/bb/ccc/dddd/eeeee/leaf"
expect_mismatch "xattr value" 'MISMATCH /xattr/few: xattr user.bb: value differs' \
	"setfattr -n user.bb -v 'other value' xattr/few"
expect_mismatch "missing xattr" 'attribute user.extra missing from image' \
	"setfattr -n user.extra -v 1 xattr/few"
expect_mismatch "ACL" 'xattr system.posix_acl_access' "setfacl -m u:1000:r xattr/few"
expect_mismatch "symlink target" 'MISMATCH /links/sym-500: symlink target' \
	"rm links/sym-500 && ln -s elsewhere links/sym-500"
expect_mismatch "device number" 'MISMATCH /dev/null: rdev' "rm dev/null && mknod dev/null c 1 5"
expect_mismatch "file type" 'MISMATCH /dev/fifo: type' "rm dev/fifo && : > dev/fifo"
expect_mismatch "link count" 'MISMATCH /hard/one: nlink' "ln hard/one hard/four"
expect_mismatch "size" 'MISMATCH /files/size-61: size' "truncate -s 62 files/size-61"

# A directory with a second link, in a copy of the image (the reference has
# a directory by that name): the walker walks a directory once, and the
# second visit it refuses is a mismatch.
cp "$img" "$work/linked.img"
debugfs -w -R "link /deep/a/bb /deep/a/twice" "$work/linked.img" >/dev/null 2>&1 ||
	hard_error "debugfs link failed"
bad_img=$work/linked.img expect_mismatch "a directory linked twice" \
	'MISMATCH /deep/a/twice: tree: directory inode walked before' "mkdir deep/a/twice"
summary
