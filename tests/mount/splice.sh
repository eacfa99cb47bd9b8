#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Zero-copy READ replies (src/fuse/splice.c) on the /dev/fuse loop: large
# files read through a real mount, with splice on and with -o nosplice,
# byte for byte what the kernel's ext4 reads: a file of many extents
# (written interleaved with another by the kernel), a sparse one with
# holes and an unwritten (fallocated) range, one whose size is not a
# multiple of the block, a small one (copied: below the splice minimum);
# buffered and O_DIRECT, page-aligned and not, several readers at once.
# The count at unmount says READs were spliced, and none with nosplice.
# Then a journal replay held in memory (data=journal: file data in the
# journal): the file reads as replayed, not as the device's stale copy
# (which -o norecovery shows, spliced), and nothing is spliced.
. "$(dirname "$0")/mountlib.sh"
require_mount_env
command -v xfs_io >/dev/null || skip "missing xfs_io"

W=$(new_dir)
img=$W/splice.img
mkfs.ext4 -q -F -b 4096 -O ^has_journal "$img" 96M || hard_error "mkfs"
K=$(new_dir)
rw_loop_mount "$img" "$K" || hard_error "rw loop mount"
(
	set -e
	cd "$K"
	# two files grown in turns, each chunk on the device before the
	# next: many extents
	for i in $(seq 0 23); do
		for f in frag other; do
			head -c 262144 /dev/urandom |
				dd of=$f bs=262144 seek="$i" conv=notrunc,fsync status=none
		done
	done
	# data, holes, an unwritten range
	truncate -s 12M sparse
	for i in 0 3 4 9 15 22; do
		head -c 524288 /dev/urandom |
			dd of=sparse bs=524288 seek="$i" conv=notrunc status=none
	done
	fallocate -o 6M -l 1M sparse
	head -c 5000003 /dev/urandom > odd
	head -c 10000 /dev/urandom > small
	sync
) || hard_error "making the files"
umount "$K"
e2fsck -fn "$img" > "$W/fsck.out" 2>&1 || { cat "$W/fsck.out"; hard_error "e2fsck"; }
kernel_mount "$img" || hard_error "kernel mount"
echo "frag: $(filefrag "$KDIR/frag" 2>/dev/null | sed 's/.*: //')"

files="frag sparse odd small"

# same NAME A B: the two files' bytes are equal
same() {
	cmp "$2" "$3"
	record "$1" $?
}

# direct FILE BS [SKIP_BYTES]: the file read with O_DIRECT, to stdout
direct() {
	dd if="$1" bs="$2" iflag=direct,skip_bytes skip="${3:-0}" status=none
}

# spliced LOG: how many READ replies the unmount line says were spliced
spliced() {
	sed -n 's/.*splice: \([0-9]*\) READ replies spliced.*/\1/p' "$1"
}

read_all() {	# read_all MODE: every comparison through the mount in FDIR
	local mode=$1 f bs ok pids
	for f in $files; do
		same "$mode: $f buffered" "$FDIR/$f" "$KDIR/$f"
		for bs in 1M 256K 64K; do
			same "$mode: $f O_DIRECT bs=$bs" <(direct "$FDIR/$f" $bs) \
				"$KDIR/$f"
		done
		# offsets that are not page aligned (512-byte aligned)
		same "$mode: $f O_DIRECT from byte 4608" \
			<(direct "$FDIR/$f" 1M 4608) <(tail -c +4609 "$KDIR/$f")
	done
	# readers at once, each its own file and block size
	ok=0
	pids=""
	for f in frag sparse odd frag sparse odd; do
		bs=$(( (RANDOM % 8 + 1) * 131072 ))
		( direct "$FDIR/$f" $bs | cmp - "$KDIR/$f" ) &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || ok=1; done
	record "$mode: six concurrent O_DIRECT readers" $ok
}

for mode in splice nosplice; do
	log=$W/$mode.log
	opts=nouring
	[ $mode = nosplice ] && opts=nouring,nosplice
	if FUSE_LOG=$log fuse_start "$img" -o $opts; then
		read_all $mode
		fuse_stop; record "$mode: clean unmount" $?
	else
		record "$mode: mount" 1
	fi
	cat "$log"
	n=$(spliced "$log")
	if [ $mode = splice ]; then
		grep -q 'splice: READ replies of ' "$log"
		record "splice: said at mount" $?
		[ -n "$n" ] && [ "$n" -gt 100 ]
		record "splice: READ replies were spliced (${n:-none})" $?
	else
		[ -z "$n" ] && ! grep -q 'splice: READ' "$log"
		record "nosplice: nothing spliced" $?
	fi
done
umount "$KDIR"

# ---- a journal replay in memory ---------------------------------------------
jimg=$W/journal.img
# (a 16 MiB journal: 2 MiB of journaled data puts it under no pressure
# to checkpoint before the shutdown)
mkfs.ext4 -q -F -b 4096 "$jimg" 256M || hard_error "mkfs (journal)"
head -c 2097152 /dev/urandom > "$W/old"
head -c 2097152 /dev/urandom > "$W/new"
K=$(new_dir)
jmount() {	# jmount [OPTIONS]
	local dev
	dev=$(losetup --find --show "$jimg") || hard_error "losetup"
	mount -o data=journal${1:+,$1} "$dev" "$K" ||
		{ losetup -d "$dev"; hard_error "data=journal mount"; }
	losetup -d "$dev"
}
# the old bytes home on the device (the unmount checkpoints them)
jmount
cp "$W/old" "$K/jdata"
umount "$K"
# the new bytes go to the journal only: committed within a second, and
# not written home for 30 s (an fsync or sync would write them home)
jmount commit=1
dd if="$W/new" of="$K/jdata" bs=1M conv=notrunc status=none
sleep 2.5
xfs_io -x -c 'shutdown -f' "$K"
umount "$K"
dumpe2fs -h "$jimg" 2>/dev/null | grep -q '^Filesystem features:.*needs_recovery'
record "journal: the image needs recovery" $?

log=$W/replay.log
if FUSE_LOG=$log fuse_start "$jimg" -o nouring; then
	same "replay: jdata buffered reads as replayed" "$FDIR/jdata" "$W/new"
	same "replay: jdata O_DIRECT reads as replayed" \
		<(direct "$FDIR/jdata" 1M) "$W/new"
	fuse_stop; record "replay: clean unmount" $?
else
	record "replay: mount" 1
fi
cat "$log"
grep -q 'splice: not used while the journal replay holds' "$log"
record "replay: splice said to be off" $?
[ -z "$(spliced "$log")" ]
record "replay: nothing spliced" $?

# the device's own copy is stale (what a splice from it would send): not
# the replayed bytes (the old ones, unless the kernel checkpointed some
# of the new ones home before the shutdown after all)
log=$W/norecovery.log
if FUSE_LOG=$log fuse_start "$jimg" -o nouring,norecovery; then
	! cmp -s <(direct "$FDIR/jdata" 1M) "$W/new"
	record "norecovery: jdata reads as the device's stale copy" $?
	fuse_stop; record "norecovery: clean unmount" $?
else
	record "norecovery: mount" 1
fi
cat "$log"
n=$(spliced "$log")
[ -n "$n" ] && [ "$n" -gt 0 ]
record "norecovery: spliced (${n:-none})" $?
summary
