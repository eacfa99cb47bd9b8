#!/bin/bash
# SPDX-License-Identifier: MIT
#
# A killed server on a real journaled mount: files written and fsync'd,
# then a writer busy creating, renaming, appending and removing while the
# serving process and its supervisor are killed with SIGKILL.  The image
# must then be consistent by every reader's recovery, with every fsync'd
# byte there:
#  - e2fsck's own replay (-E journal_only) leaves it clean for e2fsck -fn
#    (but for the superblock's free counts, which lag while mounted);
#  - a read-write e4fuse mount recovers it, serves the fsync'd files
#    exactly, and leaves it clean after unmount;
#  - the kernel reads the fsync'd files the same.
. "$(dirname "$0")/mountlib.sh"
require_mount_env

W=$(new_dir)

# fsck_clean_live IMAGE OUT: as fsck_clean, but for the superblock's free
# counts, which lag while mounted (e2fsck corrects them silently)
fsck_clean_live() {
	e2fsck -fn "$1" > "$2" 2>&1
	awk '/^Free (blocks|inodes) count wrong \(/ { sb = 1; next }
	     /Optimize\? no$/ { next }
	     /\? no$/ && !sb { bad = 1 } { sb = 0 } END { exit bad }' "$2"
}

# the serving process: the supervisor's one child
server_of() {
	cat /proc/"$1"/task/*/children 2>/dev/null | tr -s ' ' '\n' | grep . | head -n 1
}

# synced DIR: 60 files of varied sizes in DIR/keep, each fsync'd, and the
# directories too; their sums in $W/sums
synced() {
	python3 - "$1" <<'EOF_SYNC'
import os, sys
d = os.path.join(sys.argv[1], "keep")
os.mkdir(d)
for i in range(60):
    p = os.path.join(d, "f%02d" % i)
    n = (i * 7919) % 300000
    with open(p, "wb") as f:
        f.write(bytes(((j * 2654435761 + i) >> 13) & 255 for j in range(n)))
        f.flush()
        os.fsync(f.fileno())
for p in (d, sys.argv[1]):
    fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY)
    os.fsync(fd)
    os.close(fd)
EOF_SYNC
	(cd "$1" && md5sum keep/*) > "$W/sums"
}

# busy DIR: changes without end, none of them synced
busy() {
	local d=$1/busy i=0
	mkdir -p "$d" 2>/dev/null || return
	while :; do
		i=$((i + 1))
		head -c $(( (i * 4099) % 200000 )) /dev/zero > "$d/n$i" 2>/dev/null || return
		mv "$d/n$i" "$d/m$i" 2>/dev/null || return
		echo "$i" >> "$d/log" 2>/dev/null || return
		[ $((i % 3)) = 0 ] && rm -f "$d/m$((i - 2))"
	done
}

one() {	# one NAME MKFS_ARGS
	local name=$1 args=$2 img rc=0 S bpid copy out
	echo "---- $name ($args)"
	img=$W/$name.img
	mkfs.ext4 -q -F $args "$img" 256M || { record "$name (mkfs)" 1; return; }
	if ! fuse_start "$img" -o rw; then
		record "$name: mount" 1
		return
	fi
	synced "$FDIR" || rc=1
	busy "$FDIR" &
	bpid=$!
	sleep 3
	S=$(server_of "$FPID")
	kill -KILL "$S" "$FPID" 2>/dev/null
	wait_exit "$FPID"
	kill "$bpid" 2>/dev/null
	wait "$bpid" 2>/dev/null
	timeout 10 umount "$FDIR" 2>/dev/null || umount -l "$FDIR" 2>/dev/null
	# the crash left the journal in use
	dumpe2fs -h "$img" 2>/dev/null | grep -q '^Filesystem features:.*needs_recovery' || rc=1
	record "$name: workload, then SIGKILL: needs_recovery" $rc

	# e2fsck's recovery
	copy=$W/$name-fsck.img
	cp --sparse=always "$img" "$copy"
	e2fsck -y -E journal_only "$copy" > "$W/replay.out" 2>&1
	[ $? -le 1 ] || { cat "$W/replay.out"; rc=1; }
	fsck_clean_live "$copy" "$W/fsck.out" || { cat "$W/fsck.out"; rc=1; }
	record "$name: e2fsck's replay leaves it clean" $rc
	rm -f "$copy"

	# e4fuse's recovery, read-write
	rc=0
	FUSE_LOG=$W/recover.log
	if FUSE_LOG=$W/recover.log fuse_start "$img" -o rw; then
		(cd "$FDIR" && md5sum -c --quiet "$W/sums") || rc=1
		# (busy/ is there or not: nothing of it was synced)
		ls -R "$FDIR" > /dev/null || rc=1
		fuse_stop || rc=1
		grep -q 'journal: recovered onto the image' "$W/recover.log" ||
			{ cat "$W/recover.log"; rc=1; }
	else
		cat "$W/recover.log"
		rc=1
	fi
	record "$name: e4fuse recovers it, the fsync'd files intact" $rc
	rc=0
	fsck_clean "$img" "$W/fsck.out" || { cat "$W/fsck.out"; rc=1; }
	out=$(dumpe2fs -h "$img" 2>/dev/null)
	echo "$out" | grep -q '^Filesystem features:.*needs_recovery' && rc=1
	record "$name: clean after the recovering mount" $rc

	# the kernel's view
	rc=0
	kernel_mount "$img" || rc=1
	if [ $rc = 0 ]; then
		(cd "$KDIR" && md5sum -c --quiet "$W/sums") || rc=1
		umount "$KDIR"
	fi
	record "$name: the kernel reads the fsync'd files" $rc
	rm -f "$img"
}

one ext4-4k "-b 4096"
one ext4-1k-nocsum "-b 1024 -O ^metadata_csum"
summary
