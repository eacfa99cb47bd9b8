#!/bin/bash
# SPDX-License-Identifier: MIT
#
# readdir order: a directory lists in the order the kernel's ext4 lists it
# (ls -f, getdents as it comes), so that a tar or a find of the same tree
# is the same.  ext4 lists by hash where a directory could have an index
# (an index, one block, inline data), in block order elsewhere.  Each
# layout's directories are made by the kernel (indexes of one and two
# levels, small and empty directories, inline ones) and by mkfs -d (linear
# ones), listed by e4fuse and by the kernel from the same image; then the
# same after e4fuse itself grew and shrank a directory read-write.
. "$(dirname "$0")/mountlib.sh"
require_mount_env

W=$(new_dir)

check() {	# NAME COMMAND...: one case
	local name=$1
	shift
	if "$@"; then record "$name" 0; else record "$name" 1; fi
}

# listings MOUNT: every directory's unsorted listing, one file per directory
listings() {
	local m=$1 out=$2 d
	mkdir -p "$out"
	(cd "$m" && find . -type d | sort) > "$out/.dirs"
	while read -r d; do
		ls -f "$m/$d" > "$out/dir$(echo "${d#.}" | tr / _)"
	done < "$out/.dirs"
}

# compare NAME IMAGE [E4FUSE OPTIONS]: e4fuse's listings are the kernel's
compare() {
	local name=$1 img=$2 rc=0
	shift 2
	rm -rf "$W/k" "$W/f"
	kernel_mount "$img" || { record "$name: kernel mount" 1; return; }
	listings "$KDIR" "$W/k"
	umount "$KDIR"
	if fuse_start "$img" "$@"; then
		listings "$FDIR" "$W/f"
		fuse_stop || rc=1
	else
		rc=1
	fi
	diff -r "$W/k" "$W/f" > "$W/diff" || { head -n 20 "$W/diff"; rc=1; }
	record "$name: $(wc -l < "$W/k/.dirs") directories listed as the kernel lists them" $rc
}

# populate DIR: what the kernel's ext4 makes of these changes
populate() {
	local d=$1
	mkdir "$d/empty" "$d/small" "$d/one-level" "$d/two-levels" "$d/shrunk"
	for i in $(seq 1 12); do : > "$d/small/file-$i"; done
	python3 - "$d" <<'EOF'
import os, sys
d = sys.argv[1]
for sub, n in (("one-level", 3000), ("two-levels", 20000), ("shrunk", 4000)):
    for i in range(n):
        open("%s/%s/entry-with-a-long-name-%d" % (d, sub, i), "w").close()
for i in range(4000):
    if i % 7:
        os.unlink("%s/shrunk/entry-with-a-long-name-%d" % (d, i))
EOF
}

one() {	# one NAME MKFS_ARGS [TUNE2FS_ARGS]
	local name=$1 args=$2 tune=${3:-} img=$W/$1.img kd
	echo "---- $name ($args)"
	rm -rf "$W/tree" && mkdir -p "$W/tree/linear"
	for i in $(seq 1 2000); do : > "$W/tree/linear/mkfs-made-$i"; done
	# shellcheck disable=SC2086
	mkfs.ext4 -q -F $args -N 40000 -d "$W/tree" "$img" 64M ||
		{ record "$name: mkfs" 1; return; }
	if [ -n "$tune" ]; then
		# shellcheck disable=SC2086
		tune2fs $tune "$img" >/dev/null || { record "$name: tune2fs" 1; return; }
	fi
	kd=$(new_dir)
	rw_loop_mount "$img" "$kd" || { record "$name: kernel rw mount" 1; return; }
	populate "$kd"
	umount "$kd"
	compare "$name" "$img"
	# e4fuse's own index, grown and shrunk, read by both
	if fuse_start "$img" -o rw; then
		mkdir "$FDIR/by-e4fuse"
		for i in $(seq 1 1500); do : > "$FDIR/by-e4fuse/made-$i"; done
		for i in $(seq 1 3 1500); do rm "$FDIR/by-e4fuse/made-$i"; done
		: > "$FDIR/small/added"
		fuse_stop || record "$name: rw unmount" 1
	else
		record "$name: rw mount" 1
	fi
	compare "$name after writes" "$img"
}

one ext4-1k "-b 1024"
one inline "-b 4096 -I 256 -O inline_data"
# the sanitizer build's run (E4_MATRIX=quick): the code paths above
if [ "${E4_MATRIX:-full}" = full ]; then
	one ext4-4k "-b 4096"
	one tea-hash "-b 1024" "-E hash_alg=tea"
	one legacy-hash "-b 4096" "-E hash_alg=legacy"
	one no-dir-index "-b 1024 -O ^dir_index"
fi

summary
