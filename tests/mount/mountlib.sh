# SPDX-License-Identifier: MIT
# Shared by the e4fuse mount tests (sourced, not run).  Builds on
# tests/integration/lib.sh for the fixture cache (trees and images made
# once per build tree), and adds FUSE and kernel mounts that are always
# cleaned up, whatever happens, and a watchdog so that no test hangs.

. "$E4_SRCDIR/tests/integration/lib.sh"

E4FUSE=$E4_BUILDDIR/e4fuse
FSDIFF=$E4_BUILDDIR/tests/mount/fsdiff
: "${E4_MOUNT_TEST_TIMEOUT:=1500}"

# Directories we made (mount points and work directories), in a file:
# new_dir runs in command substitutions, where a variable would be lost.
m_dirs_file=$(mktemp /tmp/e4m-dirs.XXXXXX)
m_pids=""	# e4fuse processes we started

mount_cleanup() {
	local d p
	for d in $(cat "$m_dirs_file" 2>/dev/null); do
		umount -l "$d" 2>/dev/null
		# detached by now: remove what is left (work images included)
		rm -rf --one-file-system "$d" 2>/dev/null
	done
	rm -f "$m_dirs_file"
	for p in $m_pids; do
		kill -9 "$p" 2>/dev/null
	done
	[ -n "${watchdog:-}" ] && kill "$watchdog" 2>/dev/null
	lib_cleanup
}
trap mount_cleanup EXIT
trap 'exit 99' INT TERM

require_mount_env() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	[ -c /dev/fuse ] || skip "no /dev/fuse"
	for t in mkfs.ext4 e2fsck losetup setfattr setfacl python3; do
		command -v $t >/dev/null || skip "missing $t"
	done
	[ -x "$E4FUSE" ] || hard_error "$E4FUSE not built"
	[ -x "$FSDIFF" ] || hard_error "$FSDIFF not built"
	# E4_FUSE_TRANSPORT=uring|nouring: fuse_start mounts with -o that
	# (the ring needs the fuse module's enable_uring, set by hand: it is
	# global, and tests run in parallel)
	case ${E4_FUSE_TRANSPORT:-} in
	"" | nouring) ;;
	uring) grep -qx Y /sys/module/fuse/parameters/enable_uring 2>/dev/null ||
		hard_error "E4_FUSE_TRANSPORT=uring: echo Y > /sys/module/fuse/parameters/enable_uring first" ;;
	*) hard_error "E4_FUSE_TRANSPORT=$E4_FUSE_TRANSPORT: uring or nouring" ;;
	esac
	# the watchdog takes its sleep along when it is killed, so that no
	# process outlives the test holding its output open
	(trap 'kill $sp 2>/dev/null; exit 0' TERM
	 sleep "$E4_MOUNT_TEST_TIMEOUT" > /dev/null 2>&1 & sp=$!
	 wait $sp || exit 0
	 echo "TIMEOUT after $E4_MOUNT_TEST_TIMEOUT s"
	 kill -TERM $$) &
	watchdog=$!
}

new_dir() {
	local d
	d=$(mktemp -d /tmp/e4m.XXXXXX)
	echo "$d" >>"$m_dirs_file"
	echo "$d"
}

# is_mounted DIR: DIR is a mount point (even a dead FUSE one).
is_mounted() {
	awk -v d="$1" '$5 == d { found = 1 } END { exit !found }' /proc/self/mountinfo
}

# wait_for COUNT-OF-TENTHS CMD...: poll until CMD succeeds.
wait_for() {
	local n=$1
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# fuse_start IMAGE [e4fuse options...]: mount in the foreground mode in the
# background (over the transport E4_FUSE_TRANSPORT names, if set); sets
# FDIR (mount point) and FPID.  Returns 1 if not mounted
# within 10 s.  Read-only unless the options say rw (the tests that read
# must not change their images).
fuse_start() {
	local img=$1
	shift
	FDIR=$(new_dir)
	"$E4FUSE" -f -o ro ${E4_FUSE_TRANSPORT:+-o "$E4_FUSE_TRANSPORT"} "$@" \
		"$img" "$FDIR" 2>> "${FUSE_LOG:-/dev/stderr}" &
	FPID=$!
	m_pids="$m_pids $FPID"
	wait_for 100 is_mounted "$FDIR" && return 0
	echo "e4fuse did not mount $img"
	return 1
}

# refuse NAME PATTERN ARGS...: e4fuse ARGS NEWDIR (detaching: messages
# before the detach) must exit non-zero, say PATTERN (grep -i) and mount
# nothing; its output is left in $out.
refuse() {
	local name=$1 pat=$2 rc D2
	shift 2
	D2=$(new_dir)
	out=$(timeout 30 "$E4FUSE" "$@" "$D2" 2>&1)
	rc=$?
	echo "$name: exit $rc: $out"
	[ $rc != 0 ] && [ $rc != 124 ]; record "$name: non-zero exit" $?
	printf '%s\n' "$out" | grep -qi -- "$pat"; record "$name: message" $?
	! is_mounted "$D2"; record "$name: nothing mounted" $?
}

# wait_exit PID [TENTHS]: wait for a process to end; 1 if it did not.
wait_exit() {
	wait_for "${2:-100}" eval "! kill -0 $1 2>/dev/null"
}

# fuse_stop: unmount FDIR and check the server exits by itself, with 0.
fuse_stop() {
	local rc
	umount "$FDIR" || { echo "umount $FDIR failed"; return 1; }
	if ! wait_exit "$FPID"; then
		echo "e4fuse $FPID still running after umount"
		return 1
	fi
	wait "$FPID"
	rc=$?
	[ $rc = 0 ] || echo "e4fuse exited with $rc"
	return $rc
}

# in_private_ns SCRIPT NAME ARGS...: bash -c SCRIPT NAME ARGS... in a mount
# namespace of its own.  A new namespace starts with a copy of every mount,
# other tests' kernel mounts included, and a copy keeps its ext4 alive after
# the test that made it unmounts it: a read-write mount would stay in use
# (needs_recovery set on the image), and mounting that image again fails.
# So the copies of test mounts under /tmp go first.
in_private_ns() {
	local script=$1
	shift
	unshare -m --propagation private bash -c '
		findmnt -rn -o TARGET,FSTYPE | while read -r t f; do
			case "$t:$f" in
			/tmp/*:ext[234] | /tmp/*:fuse*) umount -l "$t" 2>/dev/null ;;
			esac
		done
		'"$script" "$@"
}

# kernel_mount IMAGE: read-only loop mount by the kernel's ext4; sets KDIR.
kernel_mount() {
	KDIR=$(new_dir)
	private_loop_mount "$1" "$KDIR"
}

# rw_loop_mount IMAGE DIR: the kernel's ext4, read-write (the loop device
# goes with the umount).
rw_loop_mount() {
	local dev
	dev=$(losetup --find --show "$1") || return 1
	if ! mount "$dev" "$2"; then
		losetup -d "$dev"
		return 1
	fi
	losetup -d "$dev"
}
