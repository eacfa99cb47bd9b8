#!/bin/bash
# SPDX-License-Identifier: MIT
#
# FUSE over io_uring (src/fuse/uring.c).  The fuse module's enable_uring
# parameter is global: it is set to Y only around each mount that wants
# the ring (the kernel reads it when it sends INIT; a connection that has
# negotiated the ring keeps it) and put back as it was found right after,
# and at exit.  Another test mounting in that window gets the ring too (it
# is e4fuse's default when offered), and passes either way.
#
# Over the ring, checked in e4fuse's log (the transport line, and at
# unmount how many requests each transport served): the tree compared with
# the kernel's ext4, a write workload (files small and large, a directory
# of 1,000 names, renames, xattrs, truncates, symlinks) read back after a
# remount and e2fsck -fn clean, the whole tree again compared with the
# kernel's; the sandbox with the rings in it.  Then -o uring with
# enable_uring=N falls back and says so, -o nouring reads /dev/fuse, and
# a killed server and an aborted connection end without a hang.
#
# E4_FUSE_TRANSPORT=uring runs other mount tests' fuse_start mounts over
# the ring (mountlib.sh).
. "$(dirname "$0")/mountlib.sh"
require_mount_env
param=/sys/module/fuse/parameters/enable_uring
[ -w "$param" ] || skip "no FUSE over io_uring in this kernel ($param)"
[ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" = 0 ] ||
	skip "io_uring disabled (kernel.io_uring_disabled)"
cache_dir
uring_was=$(cat "$param")
trap 'echo "$uring_was" > "$param"; mount_cleanup' EXIT

W=$(new_dir)

check() {
	local name=$1
	shift
	"$@"
	record "$name" $?
}

# ring_start IMAGE LOG [options...]: mount with enable_uring=Y until INIT
# is answered (the mount is there before: the transport line says when).
# Were it put back sooner, the kernel would not take the ring e4fuse
# chose, and e4fuse would fall back to /dev/fuse.
ring_start() {
	local img=$1 log=$2 rc
	shift 2
	echo Y > "$param"
	FUSE_LOG=$log fuse_start "$img" "$@" &&
		wait_for 100 grep -q 'transport: ' "$log"
	rc=$?
	echo "$uring_was" > "$param"
	return $rc
}

# on_ring LOG: the ring carried the requests (the count at unmount), and
# /dev/fuse only the few it still carries (INIT, FORGET, INTERRUPT).
on_ring() {
	local ring dev
	grep -q 'transport: io_uring, ' "$1" || return 1
	ring=$(sed -n 's/.*transport: io_uring,.* served \([0-9]*\) requests, \/dev\/fuse \([0-9]*\)/\1/p' "$1")
	dev=$(sed -n 's/.*transport: io_uring,.* served \([0-9]*\) requests, \/dev\/fuse \([0-9]*\)/\2/p' "$1")
	echo "ring: ${ring:-?} requests, /dev/fuse: ${dev:-?}"
	[ -n "$ring" ] && [ "$ring" -gt 100 ] && [ "$dev" -lt "$ring" ]
}

# the serving process: the supervisor's one child
server_of() {
	cat /proc/"$1"/task/*/children 2>/dev/null | tr -s ' ' '\n' | grep . | head -n 1
}

# ---- reading: the tree as the kernel's ext4 shows it -----------------------
for config in ext4-4k; do
	img=$(image_get "$config" "$(tree_for "$config")" mkfs) ||
		hard_error "image $config"
	kernel_mount "$img" || hard_error "kernel mount of $config"
	log=$W/read-$config.log
	if ring_start "$img" "$log" -o uring; then
		check "$config over the ring: same tree as the kernel's" \
			timeout 300 "$FSDIFF" -q "$FDIR" "$KDIR"
		check "$config: ls -lR the same" \
			eval "diff <(cd $FDIR && ls -lRn --time-style=+%s) <(cd $KDIR && ls -lRn --time-style=+%s)"
		check "$config: clean unmount" fuse_stop
		check "$config: served over the ring" on_ring "$log"
	else
		record "$config: mount over the ring" 1
	fi
	cat "$log"
	umount "$KDIR"
done

# ---- writing ------------------------------------------------------------------
mkdir -p "$W/t/d"
echo hello > "$W/t/d/f"
mkfs.ext4 -q -F -b 4096 -O metadata_csum -d "$W/t" "$W/rw.img" 128M
head -c 12M /dev/urandom > "$W/big"
head -c 1048579 /dev/urandom > "$W/mid"
cp "$W/big" "$W/big.want"
dd if="$W/mid" of="$W/big.want" bs=4096 seek=100 count=10 conv=notrunc status=none
workload() {
	set -e
	cd "$1"
	cp "$W/big" big
	cp "$W/mid" d/mid
	printf x > one
	mkdir many
	for i in $(seq 1 1000); do echo "$i" > many/"name-$i"; done
	for i in $(seq 1 1000 | grep '7$'); do rm many/"name-$i"; done
	mv many/name-1 d/moved
	mv d/mid d/mid2
	ln -s d/moved link
	ln d/f hard
	setfattr -n user.k -v "$(head -c 3000 /dev/zero | tr '\0' v)" d/f
	setfattr -n user.small -v 1 one
	truncate -s 5000 d/moved
	dd if="$W/mid" of=big bs=4096 seek=100 count=10 conv=notrunc status=none
	sync
}
log=$W/rw.log
if ring_start "$W/rw.img" "$log" -o rw,uring; then
	S=$(server_of "$FPID")
	check "write: workload over the ring" eval "(workload $FDIR)"
	check "write: readdir of 1,000 - 100 names" \
		test "$(ls "$FDIR/many" | wc -l)" = 899
	check "write: the sandbox's filter is on" \
		eval "grep -q '^Seccomp:.*2' /proc/$S/status"
	check "write: one ring per entry in the serving process" \
		test "$(ls -l /proc/"$S"/fd | grep -c 'io_uring')" -ge 2
	check "write: clean unmount" fuse_stop
	check "write: served over the ring" on_ring "$log"
	check "write: e2fsck -fn clean" fsck_clean "$W/rw.img" "$W/fsck.out" ||
		cat "$W/fsck.out"
else
	record "write: mount over the ring" 1
fi
cat "$log"
# read back over the ring, against the kernel's view of the same image
log=$W/back.log
kernel_mount "$W/rw.img" || hard_error "kernel mount of the written image"
if ring_start "$W/rw.img" "$log" -o uring; then
	check "written: data back" eval "cmp $W/big.want $FDIR/big &&
		cmp $W/mid $FDIR/d/mid2"
	check "written: xattr back" \
		test "$(getfattr --only-values -n user.k "$FDIR/d/f" | wc -c)" = 3000
	check "written: same tree as the kernel's" \
		timeout 300 "$FSDIFF" -q "$FDIR" "$KDIR"
	check "written: clean unmount" fuse_stop
	check "written: read over the ring" on_ring "$log"
fi
umount "$KDIR"

# ---- fallback and choice --------------------------------------------------------
echo N > "$param"
log=$W/fallback.log
if FUSE_LOG=$log fuse_start "$W/rw.img" -o uring; then
	check "enable_uring=N: serves" test "$(cat "$FDIR/d/f")" = hello
	check "enable_uring=N: clean unmount" fuse_stop
	check "enable_uring=N: -o uring says it falls back" \
		grep -q -- '-o uring: the kernel does not offer .*falling back' "$log"
	check "enable_uring=N: the read loop in use" \
		grep -q 'transport: /dev/fuse read/write loop' "$log"
fi
cat "$log"
echo "$uring_was" > "$param"
log=$W/nouring.log
if ring_start "$W/rw.img" "$log" -o nouring; then
	check "nouring: serves" test "$(cat "$FDIR/d/f")" = hello
	check "nouring: clean unmount" fuse_stop
	check "nouring: the read loop, saying why" \
		grep -q 'transport: /dev/fuse read/write loop (-o nouring)' "$log"
	check "nouring: no ring" eval "! grep -q 'transport: io_uring' $log"
fi
cat "$log"
log=$W/default.log
if ring_start "$W/rw.img" "$log"; then
	check "default: serves" test "$(cat "$FDIR/d/f")" = hello
	fuse_stop
	check "default: the ring when offered" grep -q 'transport: io_uring, ' "$log"
fi

# detached (as mount(8) runs it): nothing on stderr, the transport at
# unmount in logfile=
D=$(new_dir)
echo Y > "$param"
out=$(timeout 30 "$E4FUSE" -o ro,uring,logfile="$W/daemon.log" "$W/rw.img" "$D" 2>&1)
rc=$?
echo "$uring_was" > "$param"
check "detached: mounts, saying nothing" test $rc = 0 -a -z "$out"
echo "$out"
check "detached: serves" test "$(cat "$D/d/f")" = hello
umount "$D"
check "detached: the transport in logfile= at unmount" \
	wait_for 100 grep -q 'transport: io_uring, .* served [1-9]' "$W/daemon.log"
cat "$W/daemon.log"

# ---- teardown: a killed server, an aborted connection (read-only) -------------
log=$W/kill.log
if ring_start "$W/rw.img" "$log" -o uring; then
	S=$(server_of "$FPID")
	cat "$FDIR/d/f" > /dev/null
	kill -KILL "$S"
	check "killed: supervisor exits" wait_exit "$FPID"
	out=$(timeout 10 stat "$FDIR/d/f" 2>&1)
	rc=$?
	echo "$out"
	check "killed: access fails without hanging" test $rc != 124 -a $rc != 0
	check "killed: umount works" timeout 10 umount "$FDIR"
fi
log=$W/abort.log
if ring_start "$W/rw.img" "$log" -o uring; then
	minor=$(mountpoint -d "$FDIR" | cut -d: -f2)
	cat "$FDIR/d/f" > /dev/null
	# (fusectl, in a namespace of our own if it is not mounted here)
	in_private_ns 'mountpoint -q /sys/fs/fuse/connections ||
		mount -t fusectl none /sys/fs/fuse/connections
		echo 1 > /sys/fs/fuse/connections/$1/abort' _ "$minor"
	check "aborted: server exits" wait_exit "$FPID"
	out=$(timeout 10 stat "$FDIR/d/f" 2>&1)
	check "aborted: access fails without hanging" test $? != 124
	check "aborted: umount works" timeout 10 umount "$FDIR"
	cat "$log"
fi
check "enable_uring as it was" test "$(cat "$param")" = "$uring_was"
summary
