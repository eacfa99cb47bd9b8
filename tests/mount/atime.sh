#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Reads move atime as the kernel's ext4 moves them: under relatime (the
# default), strictatime, noatime and nodiratime, the same files (atime
# older than mtime; atime in the future; chattr +A), a directory listed and
# a symlink followed, on an e4fuse mount and on the kernel's ext4 mounted
# with the same option; which atimes moved must be the same.  Page caches
# are dropped before the reads, so they reach e4fuse (reads the kernel
# serves from its cache never do: README).  A read-only mount moves none.
. "$(dirname "$0")/mountlib.sh"
require_mount_env

W=$(new_dir)
mkfs.ext4 -q -F -b 4096 "$W/base.img" 16M

# prepare DIR: the files, with the times each case needs
prepare() {
	local d=$1
	printf 'old atime\n' > "$d/older" &&
	touch -a -d @1000000000 "$d/older" &&
	printf 'future atime\n' > "$d/future" &&
	touch -a -d '+2 hours' "$d/future" &&
	printf 'no atime\n' > "$d/flagged" && chattr +A "$d/flagged" &&
	touch -a -d @1000000000 "$d/flagged" &&
	mkdir "$d/dir" && : > "$d/dir/x" && touch -a -d @1000000000 "$d/dir" &&
	ln -s older "$d/link" && touch -h -a -d @1000000000 "$d/link"
}

# reads DIR: read everything, print which atimes moved
reads() {
	local d=$1 n before
	declare -A before
	for n in older future flagged dir link; do
		before[$n]=$(stat -c %X "$d/$n")
	done
	sync
	echo 3 > /proc/sys/vm/drop_caches
	cat "$d/older" "$d/future" "$d/flagged" > /dev/null
	ls "$d/dir" > /dev/null
	cat "$d/link" > /dev/null
	for n in older future flagged dir link; do
		if [ "$(stat -c %X "$d/$n")" != "${before[$n]}" ]; then
			echo "$n moved"
		else
			echo "$n kept"
		fi
	done
}

one() {	# one OPTION
	local opt=$1 rc=0 kd dev
	echo "---- $opt"
	cp "$W/base.img" "$W/fuse.img"
	cp "$W/base.img" "$W/kernel.img"
	if fuse_start "$W/fuse.img" -o "rw,$opt"; then
		{ prepare "$FDIR" && reads "$FDIR" > "$W/fuse.out"; } || rc=1
		fuse_stop || rc=1
	else
		rc=1
	fi
	kd=$(new_dir)
	if dev=$(losetup --find --show "$W/kernel.img") &&
	   mount -o "$opt" "$dev" "$kd"; then
		{ prepare "$kd" && reads "$kd" > "$W/kernel.out"; } || rc=1
		umount "$kd" || rc=1
	else
		rc=1
	fi
	[ -n "${dev:-}" ] && losetup -d "$dev" 2>/dev/null
	if ! diff "$W/kernel.out" "$W/fuse.out"; then
		echo "$opt: atimes moved differently (kernel <, e4fuse >)"
		rc=1
	fi
	sed "s/^/$opt: /" "$W/fuse.out"
	fsck_clean "$W/fuse.img" "$W/fsck.out" || { cat "$W/fsck.out"; rc=1; }
	record "$opt" $rc
}

one relatime
one strictatime
one noatime
one nodiratime

# a read-only mount writes nothing, atimes included
rc=0
cp "$W/base.img" "$W/fuse.img"
if fuse_start "$W/fuse.img" -o rw; then
	prepare "$FDIR" || rc=1
	fuse_stop || rc=1
fi
sum=$(md5sum < "$W/fuse.img")
if fuse_start "$W/fuse.img" -o ro; then
	reads "$FDIR" > "$W/ro.out" || rc=1
	fuse_stop || rc=1
	grep -q moved "$W/ro.out" && { echo "ro: an atime moved"; rc=1; }
else
	rc=1
fi
[ "$(md5sum < "$W/fuse.img")" = "$sum" ] || { echo "ro: the image changed"; rc=1; }
record "read-only" $rc
summary
