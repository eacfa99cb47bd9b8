#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The serving process's sandbox (docs/security.md) holds: it runs with no
# capabilities as the sandbox user, no_new_privs, under the seccomp filter,
# in an empty root with only its own descriptors, no core dumps, its memory
# limit; what it may not do (tests/mount/sandbox_probe.c, in the test
# binary e4fuse-probe) fails or stops it alone, leaving a mount point that
# fails with ENOTCONN and unmounts; the options; -o nosandbox warns, serves
# and lets the probe through (so the probes can tell).
. "$(dirname "$0")/mountlib.sh"
require_mount_env
cache_dir

PROBE=$E4_BUILDDIR/tests/mount/e4fuse-probe
[ -x "$PROBE" ] || hard_error "$PROBE not built"
getent passwd nobody >/dev/null || hard_error "no user nobody"
nobody_uid=$(getent passwd nobody | cut -d: -f3)
nobody_gid=$(getent passwd nobody | cut -d: -f4)

W=$(new_dir)
mkdir -p "$W/t/d"
echo hello > "$W/t/d/f"
mkfs.ext4 -q -F -d "$W/t" "$W/rw.img" 32M

check() {	# check NAME CMD...: record whether CMD succeeds
	local name=$1
	shift
	if "$@"; then record "$name" 0; else record "$name" 1; fi
}

# the serving process: the supervisor's one child
server_of() {
	local c
	c=$(cat /proc/"$1"/task/*/children 2>/dev/null | tr -s ' ' '\n' | grep . | head -n 1)
	echo "$c"
}

# status_field PID FIELD: the value of FIELD in /proc/PID/status
status_field() {
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ +/, ""); print }' /proc/"$1"/status
}

# ---- a read-write mount with the sandbox on (the default) --------------------
FUSE_LOG=$W/rw.log
if FUSE_LOG=$W/rw.log fuse_start "$W/rw.img" -o rw; then
	S=$(server_of "$FPID")
	check "serving process found" test -n "$S"
	echo "serving process $S:"
	grep -E '^(Uid|Gid|Groups|Cap...|NoNewPrivs|Seccomp):' /proc/"$S"/status
	check "CapEff 0" test "$(status_field "$S" CapEff)" = 0000000000000000
	check "CapPrm 0" test "$(status_field "$S" CapPrm)" = 0000000000000000
	check "CapBnd 0" test "$(status_field "$S" CapBnd)" = 0000000000000000
	check "NoNewPrivs 1" test "$(status_field "$S" NoNewPrivs)" = 1
	check "Seccomp 2 (filter)" test "$(status_field "$S" Seccomp)" = 2
	check "runs as nobody" test "$(status_field "$S" Uid | tr -s '\t ' ' ')" = \
		"$nobody_uid $nobody_uid $nobody_uid $nobody_uid"
	check "group nobody's" test "$(status_field "$S" Gid | tr -s '\t ' ' ')" = \
		"$nobody_gid $nobody_gid $nobody_gid $nobody_gid"
	check "no supplementary groups" test -z "$(status_field "$S" Groups)"
	# not dumpable: its /proc files belong to root, not to its user
	check "not dumpable" test "$(stat -c %u /proc/"$S"/status)" = 0
	check "no core dumps" eval "grep -q '^Max core file size *0 *0 ' /proc/$S/limits"
	if [ "$E4_SANITIZERS" = yes ]; then
		check "no memory limit under the sanitizers" \
			eval "grep -q '^Max data size *unlimited' /proc/$S/limits"
	else
		check "memory limit 2G by default" \
			eval "grep -q '^Max data size *2147483648 *2147483648 ' /proc/$S/limits"
	fi
	# its root is an empty read-only tmpfs, the only mount it sees
	# (the sanitizer build mounts /proc in it for LeakSanitizer)
	cat /proc/"$S"/mountinfo
	check "empty root" test -z "$(ls -A /proc/"$S"/root/ | grep -vx proc)"
	check "root is a read-only tmpfs" \
		eval "awk '\$5 == \"/\"' /proc/$S/mountinfo | grep -q ' ro,.* - tmpfs '"
	check "no other mount" test "$(grep -vc ' /proc ' /proc/"$S"/mountinfo)" = 1
	# its descriptors: stdin (/dev/null), the log pipe, the channel to
	# the supervisor, the image, /dev/fuse; and one io_uring per ring
	# entry when the kernel offered FUSE over io_uring (uring.sh may have
	# turned it on for a moment)
	ls -l /proc/"$S"/fd | tail -n +2
	fds=$(ls -l /proc/"$S"/fd | tail -n +2 | grep -vc 'anon_inode:\[io_uring\]$')
	check "six descriptors" test "$fds" = 6
	check "the image is open" eval "ls -l /proc/$S/fd | grep -q ' -> $W/rw.img\$'"
	check "/dev/fuse is open" eval "ls -l /proc/$S/fd | grep -q ' -> /dev/fuse\$'"
	check "no other file" eval "! ls -l /proc/$S/fd | sed -n 's/.* -> //p' |
		grep -v -e '^/dev/null\$' -e '^pipe:' -e '^socket:' -e '^/dev/fuse\$' -e '^$W/rw.img\$' \
			-e '^anon_inode:\[io_uring\]\$'"
	# and it serves, writing as it did before
	check "reads" test "$(cat "$FDIR/d/f")" = hello
	echo world > "$FDIR/d/g"
	mkdir "$FDIR/e"
	dd if=/dev/urandom of="$FDIR/e/big" bs=1M count=4 status=none
	sum=$(md5sum < "$FDIR/e/big")
	check "writes" test "$(cat "$FDIR/d/g")" = world
	check "clean unmount" fuse_stop
	check "e2fsck -fn clean after unmount" fsck_clean "$W/rw.img" "$W/fsck.out" ||
		cat "$W/fsck.out"
	if fuse_start "$W/rw.img"; then
		check "written data back" test "$(md5sum < "$FDIR/e/big")" = "$sum"
		fuse_stop
	fi
else
	record "sandboxed mount" 1
fi
cat "$W/rw.log"

# ---- sandbox_user=, sandbox_memory= ---------------------------------------------
daemon_uid=$(getent passwd daemon | cut -d: -f3)
if [ -n "$daemon_uid" ] && fuse_start "$W/rw.img" -o sandbox_user=daemon,sandbox_memory=300M; then
	S=$(server_of "$FPID")
	check "sandbox_user=daemon" test "$(status_field "$S" Uid | awk '{ print $1 }')" = "$daemon_uid"
	if [ "$E4_SANITIZERS" != yes ]; then
		check "sandbox_memory=300M" \
			eval "grep -q '^Max data size *314572800 *314572800 ' /proc/$S/limits"
	fi
	check "sandbox_user=daemon: serves" test "$(cat "$FDIR/d/f")" = hello
	fuse_stop
fi
D=$(new_dir)
out=$(timeout 30 "$E4FUSE" -o ro,sandbox_user=no-such-user-e4 "$W/rw.img" "$D" 2>&1)
rc=$?
echo "$out"
check "unknown sandbox_user: refused" test $rc != 0 -a $rc != 124
check "unknown sandbox_user: says so" eval "echo \"\$out\" | grep -q \"sandbox_user 'no-such-user-e4': no such user\""
check "unknown sandbox_user: nothing mounted" eval "! is_mounted $D"
out=$(timeout 30 "$E4FUSE" -o ro,sandbox_user=root "$W/rw.img" "$D" 2>&1)
check "sandbox_user=root refused" eval "echo \"\$out\" | grep -q 'does not run as root'"

# ---- -o nosandbox: a warning, and the probe gets through ---------------------------
if E4FUSE=$PROBE E4F_SANDBOX_PROBE=open FUSE_LOG=$W/nosandbox.log \
	fuse_start "$W/rw.img" -o nosandbox; then
	S=$(server_of "$FPID")
	check "nosandbox: serves" test "$(cat "$FDIR/d/f")" = hello
	check "nosandbox: no filter" test "$(status_field "$S" Seccomp)" = 0
	wait_for 100 grep -q 'sandbox probe: open: ALLOWED' "$W/nosandbox.log"
	check "nosandbox: the open probe gets through" \
		grep -q 'sandbox probe: open: ALLOWED' "$W/nosandbox.log"
	fuse_stop
	check "nosandbox: exit 0" test $? = 0
fi
cat "$W/nosandbox.log"
check "nosandbox: warns" grep -q 'warning: -o nosandbox' "$W/nosandbox.log"

# ---- what the sandbox forbids ---------------------------------------------------
# Each probe either stops the serving process alone (the filter: always
# so in a release build but for opens, which fail with EACCES) or fails
# (the sanitizer build allows a few calls the sanitizers need: they fail
# in the empty root, or for want of privilege, instead).
ended() {	# ended LOG: the probe has had its effect
	grep -q 'forbidden system call\|sandbox probe: .*: refused\|ALLOWED' "$1"
}
for p in open write socket execve ptrace mount kill fork ioctl; do
	log=$W/probe-$p.log
	if ! E4FUSE=$PROBE E4F_SANDBOX_PROBE=$p FUSE_LOG=$log fuse_start "$W/rw.img"; then
		record "$p: mount" 1
		continue
	fi
	S=$(server_of "$FPID")
	wait_for 100 ended "$log"
	cat "$log"
	check "$p: not allowed" eval "ended $log && ! grep -q ALLOWED $log"
	if grep -q 'forbidden system call' "$log"; then
		check "$p: the serving process is gone" wait_exit "$S"
		check "$p: the supervisor exits" wait_exit "$FPID"
		wait "$FPID"
		check "$p: with a non-zero status" test $? != 0
		# (musl's fork blocks every signal around its clone: the
		# filter's SIGSYS arrives blocked and kills before the call can
		# be named; the supervisor says so instead)
		if [ "${E4_STATIC:-no}" = yes ] && [ "$p" = fork ]; then
			check "$p: the supervisor says the call was made with signals blocked" \
				grep -q 'forbidden system call made with signals blocked' "$log"
		else
			check "$p: the filter names the call" \
				grep -q 'forbidden system call [0-9]* (.*): serving process stopped' "$log"
		fi
		check "$p: the supervisor says why" \
			grep -q 'stopped by its sandbox' "$log"
		out=$(timeout 10 stat "$FDIR/d/f" 2>&1)
		echo "$out"
		check "$p: the mount point fails with ENOTCONN" \
			eval "echo \"\$out\" | grep -q 'not connected'"
		check "$p: and unmounts" timeout 10 umount "$FDIR"
	else
		case $p in
		open|write)
			# opens fail with EACCES (glibc's malloc tries one)
			[ "$E4_SANITIZERS" = yes ] ||
				check "$p: EACCES from the filter" \
					grep -q "probe: $p: refused: Permission denied" "$log" ;;
		*)
			check "$p: stopped by the filter (release build)" \
				test "$E4_SANITIZERS" = yes ;;
		esac
		check "$p: still serving" test "$(cat "$FDIR/d/f")" = hello
		check "$p: clean unmount" fuse_stop
	fi
done

# ---- the one ioctl it may make -----------------------------------------------------
# fuse-iomap's BACKING_OPEN passes the filter (the kernel, which has no
# fuse-iomap here and is given stdin, refuses it): the serving process
# goes on serving
log=$W/probe-backing.log
if E4FUSE=$PROBE E4F_SANDBOX_PROBE=backing FUSE_LOG=$log fuse_start "$W/rw.img"; then
	wait_for 100 ended "$log"
	cat "$log"
	check "backing: let through to the kernel" \
		eval "grep -q 'sandbox probe: backing: refused' $log &&
		      ! grep -q 'forbidden system call' $log"
	check "backing: still serving" test "$(cat "$FDIR/d/f")" = hello
	check "backing: clean unmount" fuse_stop
else
	record "backing: mount" 1
fi
summary
