#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Read-write mounts: one scripted workload (files from 0 bytes to 100 MiB,
# sparse files, appends, truncates both ways, renames of every kind, hard
# links, symlinks short and long, chmod/chown/utimes with nanoseconds, setgid
# directories, the umask, inherited and changed POSIX ACLs, O_TMPFILE, a
# directory of 50,000 names then most of them removed, unlink of an open
# file) run on an e4fuse mount and on the kernel's ext4 from identical
# images.  After each: e2fsck -fn clean, and the two trees, both read back
# by the kernel, compare equal (fsdiff -w: all but what two allocators and
# two clocks decide).  Then the same with the image's free space used up.
. "$(dirname "$0")/mountlib.sh"
require_mount_env

W=$(new_dir)

# total SIZE...: their sum
total() {
	local t=0 n
	for n in "$@"; do t=$((t + n)); done
	echo $t
}

# A deterministic file of @2 bytes at @1 (no /dev/urandom: both runs must
# write the same bytes).
pattern() {
	python3 -c 'import sys
n = int(sys.argv[2]); out = open(sys.argv[1], "wb")
b = bytes((i * 2654435761 >> 13) & 255 for i in range(min(n, 1 << 20)))
while n > 0:
    out.write(b[:n]); n -= len(b)' "$1" "$2"
}

SIZES="0 1 4095 4096 4097 65536 1048579 10485760 104857600"
for n in $SIZES; do
	pattern "$W/src-$n" "$n"
done

# workload DIR: the same changes, whoever serves DIR
workload() {
	local d=$1 i
	set -e
	cd "$d"
	mkdir -p a/b/c deep/1/2/3/4/5/6/7/8
	for n in $SIZES; do
		cp "$W/src-$n" "a/f$n"
	done
	# appends, and a write in the middle
	cat "$W/src-4097" >> a/f4096
	printf 'appended\n' >> a/f1
	dd if="$W/src-65536" of=a/f1048579 bs=1000 seek=77 count=3 \
		conv=notrunc status=none
	# sparse: data far out, a hole before it
	dd if="$W/src-4096" of=a/sparse bs=4096 seek=2560 status=none
	# truncates down and up
	truncate -s 100 a/f65536
	truncate -s 3000000 a/f4097
	truncate -s 0 a/f4095
	# links
	ln a/f1 a/b/hard1
	ln -s f1 a/short
	ln -s "$(printf 'long/%.0s' $(seq 60))target" a/b/long
	# renames: within a directory, across, over a file, over an empty
	# directory, a directory across
	mv a/f0 a/f0-renamed
	mv a/f1048579 a/b/c/moved
	printf 'old\n' > a/victim
	mv a/f4096 a/victim
	mkdir a/emptydir
	mkdir x
	mv x a/emptydir
	mv a/b/c deep/c-moved
	# modes, owners, times
	chmod 0600 a/victim
	chmod 4755 a/f1
	chown 1234:5678 a/f0-renamed
	# a setgid directory: new inodes take its group, directories its bit
	mkdir sgid && chgrp 5678 sgid && chmod 2775 sgid
	touch sgid/inherits && mkdir sgid/subdir && mknod sgid/fifo p
	mkdir sticky && chmod 1777 sticky && : > sticky/file
	# the umask, and POSIX ACLs kept in step with the mode: a default
	# ACL inherited (it, not the umask, masks the new modes), an access
	# ACL that sets the mode, chmod that rewrites an ACL, an ACL the
	# mode says in full (not kept), removing ACLs that are not there
	( umask 027; : > umask-file; mkdir umask-dir; mknod umask-fifo p )
	mkdir acl
	setfacl -m u:1234:rwx,g:5678:rx acl
	setfacl -d -m u::rwx,g::rx,o::-,u:1234:rw,m::rwx acl
	( umask 077; : > acl/file; mkdir acl/sub; mknod acl/fifo p
	  ln -s file acl/link; : > acl/sub/deeper )
	setfacl -k acl/sub
	: > acl/chmodded
	setfacl -m u:42:rwx acl/chmodded
	chmod 0604 acl/chmodded
	: > acl/equiv
	setfacl -m u::rw,g::r,o::- acl/equiv
	setfacl -b a/victim
	setfacl -k a
	# O_TMPFILE: one named by linkat, one never named (gone at its
	# close), one opened O_EXCL (no name may be given to it)
	python3 - "$d" <<'EOF_TMPFILE'
import errno, os, sys
a = sys.argv[1] + "/a"
# (linkat with AT_SYMLINK_FOLLOW: os.link without a directory descriptor
# calls link(), which links the /proc symlink itself: EXDEV)
root = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
def link_fd(fd, to):
    os.link("/proc/self/fd/%d" % fd, to, src_dir_fd=root)
fd = os.open(a, os.O_TMPFILE | os.O_WRONLY, 0o640)
os.write(fd, b"written before it had a name\n" * 200)
link_fd(fd, a + "/from-tmpfile")
os.write(fd, b"and after\n")
os.close(fd)
fd = os.open(a, os.O_TMPFILE | os.O_RDWR, 0o600)
os.write(fd, b"x" * 300000)
os.close(fd)
fd = os.open(a, os.O_TMPFILE | os.O_RDWR | os.O_EXCL, 0o600)
try:
    link_fd(fd, a + "/never")
    sys.exit("an O_EXCL tmpfile got a name")
except OSError as e:
    if e.errno != errno.ENOENT:
        raise
os.close(fd)
EOF_TMPFILE
	# many names (an htree of two levels on 1 KiB blocks), then most
	# of them gone
	mkdir many
	python3 - many "$many" <<'EOF_MANY'
import os, sys
d = sys.argv[1]
names = ["%s/entry-with-a-long-name-%d" % (d, i) for i in range(1, int(sys.argv[2]) + 1)]
for n in names:
    os.close(os.open(n, os.O_CREAT | os.O_WRONLY, 0o644))
for i, n in enumerate(names, 1):
    if i % 5:
        os.unlink(n)
EOF_MANY
	# user xattrs small and large: the largest only where EA inodes
	# take it (elsewhere both servers refuse it alike); one replaced
	# by a small value, one removed, a file with them unlinked
	mkdir xa
	# shellcheck disable=SC2086
	python3 - xa "$W/src-65536" $xa_sizes <<'EOF_XA'
import os, sys
d, src = sys.argv[1], open(sys.argv[2], "rb").read()
for f in ("f", "gone"):
    open("%s/%s" % (d, f), "w").close()
    for n in map(int, sys.argv[3:]):
        try:
            os.setxattr("%s/%s" % (d, f), "user.v%d" % n, src[:n])
        except OSError as e:
            print("%s user.v%d: %s" % (f, n, e.strerror))
for name, op in (("user.v10000", lambda p: os.setxattr(p, "user.v10000", b"small")),
                 ("user.v65536", lambda p: os.removexattr(p, "user.v65536"))):
    try:
        op("%s/f" % d)
    except OSError as e:
        print("f %s: %s" % (name, e.strerror))
EOF_XA
	rm xa/gone
	# a file unlinked while open keeps its data until closed
	cp "$W/src-65536" a/open
	exec 7< a/open
	rm a/open
	cmp - "$W/src-65536" <&7
	exec 7<&-
	rmdir deep/1/2/3/4/5/6/7/8
	# the same times everywhere, so both trees compare on them
	find . -exec touch -h -d @1600000000.123456789 {} +
	touch -d @4102444800.5 a/f1	# after 2038
	cd /
}

one() {	# one NAME MKFS_ARGS SIZE [KERNEL_MKFS_ARGS]
	local name=$1 args=$2 size=$3 kargs=${4:-} rc=0 fimg kimg kd fd2
	echo "---- $name ($args)"
	fimg=$W/$name-fuse.img
	kimg=$W/$name-kernel.img
	# (-N: room for the 50,000 names whatever the inode ratio)
	mkfs.ext4 -q -F $args -N 60000 "$fimg" "$size" || { record "$name (mkfs)" 1; return; }
	# blocks larger than a page: the kernel runs the workload on a 4 KiB
	# image, and e4fuse reads its own image back
	if [ -n "$kargs" ]; then
		mkfs.ext4 -q -F $kargs -N 60000 "$kimg" "$size" || { record "$name (mkfs)" 1; return; }
	else
		cp "$fimg" "$kimg"
	fi
	# (values a block takes differ between block sizes: only those
	# every size takes where the kernel's image has other blocks)
	xa_sizes="10 2000 3500 10000 65536"
	[ -z "$kargs" ] || xa_sizes="10 1000 2000"
	if fuse_start "$fimg" -o rw; then
		# (not under ||, which would turn the workload's set -e off)
		( workload "$FDIR" ) > "$W/$name-fuse.out"
		[ $? = 0 ] || { echo "$name: workload failed on e4fuse"; rc=1; }
		fuse_stop || rc=1
	else
		rc=1
	fi
	kd=$(new_dir)
	if rw_loop_mount "$kimg" "$kd"; then
		( workload "$kd" ) > "$W/$name-kernel.out"
		[ $? = 0 ] || { echo "$name: workload failed on the kernel"; rc=1; }
		umount "$kd" || rc=1
	else
		rc=1
	fi
	# the same refusals (errno for errno) from both
	diff "$W/$name-kernel.out" "$W/$name-fuse.out" ||
		{ echo "$name: the workload's answers differ (kernel <, e4fuse >)"; rc=1; }
	fsck_clean "$fimg" "$W/fsck.out" || {
		echo "$name: e2fsck -fn on the e4fuse image:"; cat "$W/fsck.out"; rc=1; }
	kd=$(new_dir)
	if [ -n "$kargs" ]; then
		fuse_start "$fimg" && fd2=$FDIR || fd2=
	else
		fd2=$(new_dir)
		private_loop_mount "$fimg" "$fd2" || fd2=
	fi
	if [ -n "$fd2" ] && private_loop_mount "$kimg" "$kd"; then
		# (holes are block-sized: not compared across block sizes)
		timeout 600 "$FSDIFF" -w ${kargs:+-n} "$fd2" "$kd" || rc=1
	else
		rc=1
	fi
	if [ -n "$kargs" ]; then
		fuse_stop || rc=1
	else
		umount "$fd2" 2>/dev/null
	fi
	umount "$kd" 2>/dev/null
	record "$name" $rc
}

# the sanitizer build's run (E4_MATRIX=quick) takes one layout per
# mapping and directory format: extents (on 1 KiB blocks: two-level
# htrees), clusters, inline data, block maps; and 10,000 names in the
# large directory (on 1 KiB blocks still an index of two levels: the
# names' creation through the sanitizers was most of its time)
many=50000
[ "${E4_MATRIX:-full}" = full ] || many=10000
one ext4-1k "-b 1024" 256M
one ext4-bigalloc "-b 4096 -O bigalloc -C 16384" 1G
one ext4-inline "-b 4096 -I 256 -O inline_data" 256M
one ext2 "-t ext2 -b 1024" 256M
if [ "${E4_MATRIX:-full}" = full ]; then
	one ext4-4k "-b 4096" 256M
	# (EA inodes here: their value hash is kept without metadata_csum too)
	one ext4-nocsum "-b 4096 -O ^metadata_csum,ea_inode" 256M
	one ext4-metabg "-b 4096 -O meta_bg,^resize_inode" 256M
	one ext4-largedir "-b 4096 -O large_dir" 256M
	one ext4-64k "-b 65536" 512M "-b 4096"
	one ext3 "-t ext3 -b 4096" 256M
fi

# ---- a full disk: every writer gets ENOSPC, nothing written before is lost
img=$W/full.img
mkfs.ext4 -q -F -b 4096 -m 0 "$img" 32M
rc=0
if fuse_start "$img" -o rw; then
	pids=
	for i in 1 2 3; do
		( head -c 64M /dev/zero | tr '\0' "$i" > "$FDIR/w$i" ) 2> "$W/err$i" &
		pids="$pids $!"
	done
	# these three only: a bare wait would wait for the watchdog too
	# shellcheck disable=SC2086
	wait $pids
	grep -q 'No space left' "$W/err1" "$W/err2" "$W/err3" ||
		{ echo "full: no ENOSPC reported"; rc=1; }
	sizes=$(total $(stat -c %s "$FDIR"/w1 "$FDIR"/w2 "$FDIR"/w3))
	fuse_stop || rc=1
	fsck_clean "$img" "$W/fsck.out" || { cat "$W/fsck.out"; rc=1; }
	kd=$(new_dir)
	if private_loop_mount "$img" "$kd"; then
		for i in 1 2 3; do
			n=$(stat -c %s "$kd/w$i")
			cmp <(head -c "$n" /dev/zero | tr '\0' "$i") "$kd/w$i" ||
				{ echo "full: w$i reads back wrong"; rc=1; }
		done
		ksizes=$(total $(stat -c %s "$kd"/w1 "$kd"/w2 "$kd"/w3))
		[ "$ksizes" = "$sizes" ] || { echo "full: sizes $sizes vs $ksizes"; rc=1; }
		umount "$kd"
	else
		rc=1
	fi
else
	rc=1
fi
record "full disk, three writers" $rc
summary
