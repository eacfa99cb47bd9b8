#!/bin/bash
# SPDX-License-Identifier: MIT
#
# What a user meets: a dead FUSE mount point refused, auto_unmount, the
# options brought from libfuse and fuse2fs, statfs equal to the kernel's
# ext4 (stat -f), and the messages for other file systems, a file as mount
# point, a wrong partition, a missing /dev/fuse, and logfile=.
. "$(dirname "$0")/mountlib.sh"
require_mount_env
command -v sfdisk >/dev/null || skip "missing sfdisk"

W=$(new_dir)
check() {	# check NAME CMD...
	local name=$1
	shift
	if "$@"; then record "$name" 0; else record "$name" 1; fi
}
has() {		# has FILE-OR-TEXT PATTERN: grep -q in a variable's text
	printf '%s\n' "$1" | grep -qi -- "$2"
}
mounts_at() { awk -v d="$1" '$5 == d' /proc/self/mountinfo | wc -l; }

mkdir -p "$W/t/sub"
echo hello > "$W/t/file"
chmod 0640 "$W/t/file"
echo secret > "$W/t/private"
chmod 0600 "$W/t/private"
mkfs.ext4 -q -F -b 4096 -d "$W/t" "$W/a.img" 32M

# ---- 1. a mount point whose server died ----------------------------------
if fuse_start "$W/a.img"; then
	kill -KILL "$FPID"	# the supervisor; the serving process dies with it
	wait_exit "$FPID"
	n0=$(mounts_at "$FDIR")
	out=$(timeout 20 "$E4FUSE" -o ro "$W/a.img" "$FDIR" 2>&1)
	rc=$?
	echo "dead mount point: exit $rc: $out"
	check "dead mount point: non-zero exit" test $rc != 0 -a $rc != 124
	check "dead mount point: says the server is gone" has "$out" "server is gone.*umount -l"
	check "dead mount point: nothing stacked" test "$(mounts_at "$FDIR")" = "$n0"
	umount -l "$FDIR"
fi

# ---- 2. auto_unmount: the serving process dies, the mount goes -----------
# (without it the mount point stays, failing with ENOTCONN, as FUSE does)
for opt in "" auto_unmount; do
	if FUSE_LOG=$W/au.log fuse_start "$W/a.img" ${opt:+-o $opt}; then
		child=$(pgrep -P "$FPID")
		check "${opt:-no auto_unmount}: serving process found" test -n "$child"
		[ -n "$child" ] && kill -KILL $child
		wait_exit "$FPID"
		if [ -n "$opt" ]; then
			check "auto_unmount: mount gone after kill -9 of the server" \
				eval "! is_mounted $FDIR"
			check "auto_unmount: says so" grep -q 'auto_unmount: .* unmounted' "$W/au.log"
		else
			check "no auto_unmount: dead mount stays" is_mounted "$FDIR"
			umount -l "$FDIR"
		fi
	fi
done

# ---- 3. options from libfuse and fuse2fs --------------------------------------
# subtype= names the type in /proc/mounts; umask= clears shown mode bits
if fuse_start "$W/a.img" -o subtype=myext,umask=027; then
	check "subtype=: fuse.myext in /proc/mounts" \
		eval "grep -q ' $FDIR fuse.myext ' /proc/self/mounts"
	check "umask=027: 0640 shown as 0640" test "$(stat -c %a "$FDIR/file")" = 640
	check "umask=027: 0755 dir shown as 0750" test "$(stat -c %a "$FDIR/sub")" = 750
	fuse_stop
fi
# timeouts: how often the kernel asks again (requests in the debug log)
lookups() {	# lookups OPTS: LOOKUPs of "file" and "nothere" for 2 stats each
	local log=$W/to.$RANDOM.log
	FUSE_LOG=$log fuse_start "$W/a.img" -o debug${1:+,$1} || return
	stat "$FDIR/file" "$FDIR/file" >/dev/null
	stat "$FDIR/nothere" "$FDIR/nothere" >/dev/null 2>&1
	ls -l "$FDIR/file" >/dev/null; ls -l "$FDIR/file" >/dev/null
	fuse_stop
	echo "$(grep -c "LOOKUP.*'file'\|LOOKUP.* file\b" "$log")" \
	     "$(grep -c "LOOKUP.*nothere" "$log")" "$(grep -c "GETATTR" "$log")"
}
d=$(lookups "")
z=$(lookups "entry_timeout=0,negative_timeout=0,attr_timeout=0")
echo "timeouts: default $d, zero $z"
set -- $d; d1=$1 d2=$2 d3=$3
set -- $z
check "entry_timeout=0: names looked up again" test "$1" -gt "$d1"
check "negative_timeout=0: absent names looked up again" test "$2" -gt "$d2"
check "attr_timeout=0: attributes asked again" test "$(($1 + $3))" -gt "$((d1 + d3))"
refuse_opt() {	# refuse_opt NAME PATTERN OPTS
	local out rc
	out=$(timeout 20 "$E4FUSE" -o "$3" "$W/a.img" "$W" 2>&1)
	rc=$?
	check "$1: refused" test $rc != 0 -a $rc != 124
	check "$1: message" has "$out" "$2"
}
refuse_opt "entry_timeout=x" "entry_timeout" "entry_timeout=x"
refuse_opt "umask=9" "umask" "umask=9"
refuse_opt "subtype=a.b" "subtype" "subtype=a.b"
# allow_root: root and the mounter only
if fuse_start "$W/a.img" -o allow_root; then
	check "allow_root: root reads" test "$(cat "$FDIR/file")" = hello
	check "allow_root: another user is refused" \
		eval "! setpriv --reuid=65534 --regid=65534 --clear-groups cat $FDIR/file >/dev/null 2>&1"
	fuse_stop
fi
# fakeroot: everyone passes the permission checks as root
if fuse_start "$W/a.img" -o allow_other,fakeroot; then
	check "fakeroot: another user reads a 0600 root file" \
		eval "setpriv --reuid=65534 --regid=65534 --clear-groups cat $FDIR/private | grep -q secret"
	fuse_stop
fi
if fuse_start "$W/a.img" -o allow_other; then
	check "without fakeroot: 0600 root file refused" \
		eval "! setpriv --reuid=65534 --regid=65534 --clear-groups cat $FDIR/private >/dev/null 2>&1"
	fuse_stop
fi
# accepted with a reason, or doing what they say
if FUSE_LOG=$W/kc.log fuse_start "$W/a.img" -o kernel_cache,nonempty; then
	check "kernel_cache: says why" grep -q 'kernel_cache:' "$W/kc.log"
	fuse_stop
fi
NE=$(new_dir)
echo x > "$NE/present"
if timeout 20 "$E4FUSE" -o ro,nonempty "$W/a.img" "$NE"; then
	check "nonempty: mounted over a non-empty directory" test "$(cat "$NE/file")" = hello
	umount "$NE"
else
	record "nonempty: mount" 1
fi

# ---- 4. statfs: what the kernel's ext4 reports (and minixdf/bsddf) ---------
sf() { stat -f -c '%b %f %a %c %d %l %S' "$1"; }
for layout in "-b 4096" "-b 1024" "-b 4096 -m 0" "-b 1024 -m 5" \
	      "-O bigalloc -C 16384" "-O meta_bg,^resize_inode" \
	      "-b 1024 -O ^has_journal,^resize_inode -m 0" "-b 4096 -N 20000 -O flex_bg -G 4"; do
	rm -f "$W/s.img"
	# shellcheck disable=SC2086
	mkfs.ext4 -q -F $layout -d "$W/t" "$W/s.img" 96M >/dev/null 2>&1 ||
		{ record "statfs $layout: mkfs" 1; continue; }
	kernel_mount "$W/s.img" || { record "statfs $layout: kernel mount" 1; continue; }
	k=$(sf "$KDIR")
	umount "$KDIR"
	if fuse_start "$W/s.img"; then
		f=$(sf "$FDIR")
		echo "statfs $layout: kernel $k, e4fuse $f"
		check "statfs $layout: equal to the kernel's" test "$k" = "$f"
		fuse_stop
	fi
	if [ "$layout" = "-b 1024" ]; then
		KDIR=$(new_dir)
		dev=$(losetup --find --show --read-only "$W/s.img")
		mount -o ro,minixdf "$dev" "$KDIR"
		k=$(sf "$KDIR"); umount "$KDIR"; losetup -d "$dev"
		if fuse_start "$W/s.img" -o minixdf; then
			f=$(sf "$FDIR")
			echo "statfs minixdf: kernel $k, e4fuse $f"
			check "minixdf: equal to the kernel's" test "$k" = "$f"
			fuse_stop
		fi
	fi
done
# a read-write mount counts the same
mkfs.ext4 -q -F -b 4096 -d "$W/t" "$W/rw.img" 96M
kernel_mount "$W/rw.img" && { k=$(sf "$KDIR"); umount "$KDIR"; }
if fuse_start "$W/rw.img" -o rw; then
	check "statfs rw: equal to the kernel's" test "$(sf "$FDIR")" = "$k"
	fuse_stop
fi

# ---- 5. messages -------------------------------------------------------------------
other_fs() {	# other_fs NAME PATTERN IMAGE: refused, and no partition-table talk
	refuse "$@"
	! has "$out" "partition table with"; record "$1: no partition-table talk" $?
}
# other file systems by their magic (mkfs where installed, else crafted)
craft() {	# craft FILE OFFSET BYTES (printf format)
	[ -f "$1" ] || truncate -s 4M "$1"
	printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
if command -v mkfs.vfat >/dev/null; then
	mkfs.vfat -C "$W/fat.img" 8192 >/dev/null
else
	craft "$W/fat.img" 0 '\xeb\x3c\x90mkfs.fat'
	craft "$W/fat.img" 54 'FAT16   '
	craft "$W/fat.img" 510 '\x55\xaa'
fi
other_fs "FAT image" "looks like a FAT file system, not ext2/3/4" "$W/fat.img"
if command -v mkfs.ntfs >/dev/null; then
	truncate -s 8M "$W/ntfs.img"; mkfs.ntfs -q -F "$W/ntfs.img" >/dev/null 2>&1
else
	craft "$W/ntfs.img" 0 '\xeb\x52\x90NTFS    '
	craft "$W/ntfs.img" 510 '\x55\xaa'
fi
other_fs "NTFS image" "looks like an NTFS file system" "$W/ntfs.img"
if command -v mkfs.xfs >/dev/null; then
	truncate -s 320M "$W/xfs.img"; mkfs.xfs -q -f "$W/xfs.img"
else
	craft "$W/xfs.img" 0 'XFSB'
fi
other_fs "XFS image" "looks like an XFS file system" "$W/xfs.img"
craft "$W/btrfs.img" $((0x10040)) '_BHRfS_M'
other_fs "btrfs image" "looks like a btrfs file system" "$W/btrfs.img"
head -c 4M /dev/zero > "$W/zero.img"
other_fs "zero image" "not an ext2/ext3/ext4 file system" "$W/zero.img"
# a regular file as mount point
out=$(timeout 10 "$E4FUSE" -o ro "$W/a.img" "$W/t/file" 2>&1)
check "file as mount point: refused" test $? = 1
check "file as mount point: not a directory" has "$out" "not a directory"
# a wrong partition number lists the valid ones
truncate -s 80M "$W/disk.img"
printf 'start=2048, size=40960, type=83\nstart=43008, size=40960, type=83\n' |
	sfdisk -q "$W/disk.img" >/dev/null
dd if="$W/a.img" of="$W/disk.img" bs=512 seek=2048 conv=notrunc status=none count=40960
refuse "partition=3 of 2" "no partition 3.*partitions: 1, 2" -o ro,partition=3 "$W/disk.img"
# no /dev/fuse: one line, not a second wrong one
out=$(in_private_ns 'mount -t tmpfs none /dev && timeout 20 "$1" -o ro "$2" "$3" 2>&1; echo "rc=$?"' \
	_ "$E4FUSE" "$W/a.img" "$W" 2>&1)
echo "no /dev/fuse: $out"
check "no /dev/fuse: says so" has "$out" "cannot open /dev/fuse"
check "no /dev/fuse: one line" test "$(printf '%s\n' "$out" | grep -c '^e4fuse:')" = 1
check "no /dev/fuse: non-zero exit" has "$out" "rc=1"
# corruption in daemon mode: stderr before the detach, logfile= after
mkdir -p "$W/c/sub"
for i in $(seq 1 40); do echo "$i" > "$W/c/sub/file-$i"; done
mkfs.ext4 -q -F -b 4096 -O metadata_csum -d "$W/c" "$W/bad.img" 16M
blk=$(debugfs -R "bmap /sub 0" "$W/bad.img" 2>/dev/null)
printf 'X' | dd of="$W/bad.img" bs=1 seek=$((blk * 4096 + 40)) conv=notrunc status=none
cp "$W/bad.img" "$W/badsb.img"
printf '\xff' | dd of="$W/badsb.img" bs=1 seek=$((1024 + 0x3fc)) conv=notrunc status=none
refuse "daemon: superblock checksum on stderr" "checksum" -o ro "$W/badsb.img"
D=$(new_dir)
if timeout 20 "$E4FUSE" -o ro,errors=continue,logfile="$W/e4.log" "$W/bad.img" "$D"; then
	ls "$D/sub" >/dev/null 2>&1
	check "logfile=: corruption after detach written there" \
		wait_for 50 grep -q "sub\|checksum" "$W/e4.log"
	umount "$D"
else
	record "logfile=: mount" 1
fi
summary
