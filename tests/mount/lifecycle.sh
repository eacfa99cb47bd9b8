#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Mounting and unmounting: detaching only once the mount is live, SIGTERM
# and SIGINT, unmount while files are open, a killed server, clear messages
# and non-zero exits for bad images, mount(8) through the helper, and the
# options (uid=/gid=, allow_other, fsname, debug, errors=).
. "$(dirname "$0")/mountlib.sh"
require_mount_env
cache_dir

W=$(new_dir)
kind=$(tree_for ext4-4k)
img=$(image_get ext4-4k "$kind" kernel) || hard_error "no image"
file=kernel-only/written-3m
want=""

check() {	# check NAME CMD...: record whether CMD succeeds
	local name=$1
	shift
	if "$@"; then record "$name" 0; else record "$name" 1; fi
}

# pids of e4fuse supervisors serving DIR (daemon mode: we learn the pid
# here); the serving process, the supervisor's child, is left out
server_pids() {
	local p all="" ppid
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$(readlink -f "$E4FUSE")" ] || continue
		tr '\0' '\n' < "$p/cmdline" 2>/dev/null | grep -qx -- "$1" && all="$all ${p#/proc/}"
	done
	for p in $all; do
		ppid=$(awk '$1 == "PPid:" { print $2 }' /proc/"$p"/status 2>/dev/null)
		case " $all " in *" $ppid "*) ;; *) echo "$p" ;; esac
	done
}

# ---- detach: the parent returns 0 with the mount live ----------------------
D=$(new_dir)
if timeout 30 "$E4FUSE" -o ro "$img" "$D"; then
	check "daemon: mounted when the parent returns" is_mounted "$D"
	check "daemon: file readable at once" cmp -s "$D/$file" "$D/$file"
	pid=$(server_pids "$D")
	check "daemon: one server process" test -n "$pid"
	kill -TERM $pid
	check "daemon: SIGTERM unmounts" wait_for 100 eval "! is_mounted $D"
	check "daemon: server exits after SIGTERM" wait_exit "$pid"
else
	record "daemon: mount" 1
fi

# ---- foreground, SIGINT ---------------------------------------------------------
if fuse_start "$img"; then
	kill -INT "$FPID"
	check "SIGINT unmounts" wait_for 100 eval "! is_mounted $FDIR"
	wait_exit "$FPID"; wait "$FPID"
	check "SIGINT: exit status 0" test $? = 0
fi

# ---- unmount while a file is open ----------------------------------------------------
if fuse_start "$img"; then
	kernel_mount "$img"
	want=$(md5sum < "$KDIR/$file")
	umount "$KDIR"
	exec 3< "$FDIR/$file"
	check "busy: plain umount refused while a file is open" eval "! umount $FDIR 2>/dev/null"
	check "busy: still mounted" is_mounted "$FDIR"
	umount -l "$FDIR"
	check "busy: lazy umount detaches" eval "! is_mounted $FDIR"
	check "busy: open file still reads after detach" test "$(md5sum <&3)" = "$want"
	check "busy: server alive while the file is open" kill -0 "$FPID"
	exec 3<&-
	check "busy: server exits when the file is closed" wait_exit "$FPID"
	wait "$FPID"
	check "busy: exit status 0" test $? = 0
fi

# ---- SIGTERM while a file is open ---------------------------------------------------
if fuse_start "$img"; then
	exec 3< "$FDIR/$file"
	kill -TERM "$FPID"
	check "SIGTERM with open file: detached" wait_for 100 eval "! is_mounted $FDIR"
	check "SIGTERM with open file: file still reads" test "$(md5sum <&3)" = "$want"
	exec 3<&-
	check "SIGTERM with open file: server exits after close" wait_exit "$FPID"
fi

# ---- a killed server leaves an unmountable mount point ---------------------------------
if fuse_start "$img"; then
	kill -KILL "$FPID"
	wait_exit "$FPID"
	out=$(timeout 10 stat "$FDIR/$file" 2>&1)
	rc=$?
	check "killed: access fails without hanging" test $rc != 124 -a $rc != 0
	echo "$out"
	check "killed: ENOTCONN" eval "echo \"\$out\" | grep -q 'not connected'"
	check "killed: umount works" timeout 10 umount "$FDIR"
fi

# ---- bad images and arguments: clear message, non-zero exit, nothing mounted ----------
refuse "missing image" "no such file" "$W/does-not-exist.img"
head -c 4M /dev/zero > "$W/zeros.img"
refuse "zero-filled image" "zeros.img" "$W/zeros.img"
head -c 4M /dev/urandom > "$W/random.img"
refuse "random image" "random.img" "$W/random.img"
mkfs.vfat -C "$W/vfat.img" 8192 >/dev/null 2>&1 && refuse "vfat image" "vfat.img" "$W/vfat.img"
head -c 64M "$img" > "$W/trunc.img"
refuse "truncated image" "truncated" "$W/trunc.img"
# read-write (the default) is refused, naming why, where it cannot be
mkfs.ext4 -q -F -O quota "$W/quota.img" 16M
refuse "rw: feature not written yet" "quota" "$W/quota.img"
mkfs.ext4 -q -F "$W/plain.img" 16M
if rodev=$(losetup -r -f --show "$W/plain.img" 2>/dev/null); then
	refuse "rw: read-only device" "-o ro" -o rw "$rodev"
	losetup -d "$rodev"
else
	record "rw: read-only device (losetup -r)" 1
fi
refuse "unknown option" "unknown option" -o frobnicate "$img"
refuse "directory as image" "not a regular file or block device" "$W"
out=$(timeout 10 "$E4FUSE" "$img" "$W/no-such-dir" 2>&1)
check "missing mount point: non-zero exit" test $? != 0
check "missing mount point: message" eval "echo \"\$out\" | grep -q 'mount point'"

# ---- mount(8) with -t fuse.e4fuse ---------------------------------------------------
# In a mount namespace of its own, where the sbin directory mount(8)
# searches shows the helper beside its usual contents: the host's /sbin is
# never touched.  The checks run in there; each failure is one line out.
sb=$W/sbin
mkdir -p "$sb"
for f in "$(readlink -f /sbin)"/*; do ln -s "$f" "$sb/"; done
ln -sf "$E4FUSE" "$sb/mount.fuse.e4fuse"
D=$(new_dir)
out=$(in_private_ns '
	sb=$1 img=$2 D=$3 file=$4 want=$5
	mount --bind "$sb" "$(readlink -f /sbin)" || { echo "bind mount of the helper dir"; exit 1; }
	timeout 30 mount -t fuse.e4fuse "$img" "$D" -o ro || { echo "mount -t fuse.e4fuse"; exit 1; }
	[ "$(md5sum < "$D/$file")" = "$want" ] || echo "content"
	grep -q " $D fuse.e4fuse ro," /proc/self/mounts || echo "not listed as fuse.e4fuse"
	umount "$D" || echo "umount"
	for _ in $(seq 100); do
		grep -q " $D " /proc/self/mounts || break
		sleep 0.1
	done
	! grep -q " $D " /proc/self/mounts || echo "still mounted"
' _ "$sb" "$img" "$D" "$file" "$want" 2>&1)
rc=$?
[ -n "$out" ] && echo "mount -t fuse.e4fuse: $out"
check "mount -t fuse.e4fuse IMAGE DIR -o ro (helper in a private namespace)" \
	test $rc = 0 -a -z "$out"

# ---- options ----------------------------------------------------------------------------
if fuse_start "$img" -o uid=1234,gid=5678,fsname=e4test-src; then
	check "uid=/gid= override" test "$(stat -c %u:%g "$FDIR/$file")" = 1234:5678
	check "fsname= in /proc/mounts" eval "grep -q '^e4test-src $FDIR ' /proc/self/mounts"
	fuse_stop
fi
if fuse_start "$img"; then
	check "without allow_other: other users are refused" \
		eval "! setpriv --reuid=65534 --regid=65534 --clear-groups cat $FDIR/$file >/dev/null 2>&1"
	fuse_stop
fi
if fuse_start "$img" -o allow_other; then
	check "allow_other: other users can read" \
		eval "setpriv --reuid=65534 --regid=65534 --clear-groups cat $FDIR/$file | md5sum | grep -q '${want% *}'"
	# default_permissions: the kernel checks modes for them
	check "default_permissions: mode 0600 of root refused" \
		eval "! setpriv --reuid=65534 --regid=65534 --clear-groups stat $FDIR/lost+found/. >/dev/null 2>&1"
	fuse_stop
fi
FUSE_LOG=$W/debug.log fuse_start "$img" -o debug && {
	ls "$FDIR" > /dev/null
	fuse_stop
	check "debug: one line per request" grep -q 'LOOKUP\|READDIR' "$W/debug.log"
}
# a buffered write(2) of 1 MiB reaches e4fuse in WRITEs of more than a page
# (FUSE_BIG_WRITES: without it the kernel sends one per 4 KiB)
mkfs.ext4 -q -F "$W/big.img" 32M
FUSE_LOG=$W/write.log fuse_start "$W/big.img" -o rw,debug && {
	dd if=/dev/zero of="$FDIR/f" bs=1M count=1 2>/dev/null
	fuse_stop
	check "buffered writes: WRITEs of more than a page" eval \
		"grep -o 'WRITE node [0-9]* in [0-9]*' '$W/write.log' | awk '\$5 > 8192 { f = 1 } END { exit !f }'"
	check "buffered writes: e2fsck clean" fsck_clean "$W/big.img" "$W/fsck.out"
}
out=$("$E4FUSE" --help)
check "--help" eval "echo \"\$out\" | grep -q 'usage: e4fuse'"
check "-o help" eval "\"$E4FUSE\" -o help | grep -q partition="
check "--version" eval "\"$E4FUSE\" --version | grep -q '^e4fuse '"

# ---- errors=: corruption found at run time -------------------------------------------
mkdir -p "$W/t/sub"
for i in $(seq 1 40); do echo "$i" > "$W/t/sub/file-$i"; done
echo fine > "$W/t/ok"
mkfs.ext4 -q -F -t ext4 -b 4096 -O metadata_csum -d "$W/t" "$W/bad.img" 16M
blk=$(debugfs -R "bmap /sub 0" "$W/bad.img" 2>/dev/null)
# flip a byte of an entry name: the block checksum no longer matches
printf 'X' | dd of="$W/bad.img" bs=1 seek=$((blk * 4096 + 40)) conv=notrunc status=none
if fuse_start "$W/bad.img" -o errors=continue; then
	out=$(ls "$FDIR/sub" 2>&1)
	check "errors=continue: EUCLEAN reported" eval "echo \"\$out\" | grep -q 'Structure needs cleaning'"
	check "errors=continue: still serving" test "$(cat "$FDIR/ok")" = fine
	fuse_stop
fi
if FUSE_LOG=$W/panic.log fuse_start "$W/bad.img" -o errors=panic; then
	ls "$FDIR/sub" > /dev/null 2>&1
	check "errors=panic: server stops" wait_exit "$FPID"
	wait "$FPID"
	check "errors=panic: non-zero exit" test $? != 0
	check "errors=panic: mount gone" eval "! is_mounted $FDIR"
	check "errors=panic: says why" grep -q 'errors=panic' "$W/panic.log"
fi
summary
