#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Mounts by a user who is not root, through fusermount3 (fuse3), for real:
# the user mounts an image of their own read-only and read-write, reads,
# writes, unmounts with fusermount3 -u; root is kept out as the kernel keeps
# it out of another user's FUSE mount; allow_other works only where
# /etc/fuse.conf says user_allow_other, else fusermount3 refuses it; an
# image the user cannot read is refused by e4fuse with the reason.
#
# Debian's udev makes /dev/fuse 0666 so that users can mount; a machine
# without it (a container) has it 0600: the test opens it up for its run
# and puts the mode back, and puts /etc/fuse.conf back as it found it.
. "$(dirname "$0")/mountlib.sh"
require_mount_env
for t in fusermount3 setpriv; do
	command -v $t >/dev/null || skip "missing $t"
done
id nobody >/dev/null 2>&1 || skip "no user nobody"

W=$(new_dir)
chmod 755 "$W"
U=$(id -u nobody)
G=$(id -g nobody)
as_user() {
	setpriv --reuid="$U" --regid="$G" --clear-groups "$@"
}

fuse_mode=$(stat -c %a /dev/fuse)
conf_saved=no
if [ -e /etc/fuse.conf ]; then
	cp -p /etc/fuse.conf "$W/fuse.conf.saved" && conf_saved=yes
fi
restore() {
	chmod "$fuse_mode" /dev/fuse
	if [ $conf_saved = yes ]; then
		cp -p "$W/fuse.conf.saved" /etc/fuse.conf
	else
		rm -f /etc/fuse.conf
	fi
	mount_cleanup
}
trap restore EXIT
chmod 0666 /dev/fuse

check() {	# NAME COMMAND...: one case
	local name=$1
	shift
	if "$@"; then record "$name" 0; else record "$name" 1; fi
}

# the binary, the image and the mount point where the user reaches them
cp "$E4FUSE" "$W/e4fuse" && chmod 755 "$W/e4fuse"
mkdir "$W/src" "$W/m"
echo "hello from the image" > "$W/src/greeting"
# (the root directory the user's, as on a stick they formatted)
mkfs.ext4 -q -F -E root_owner="$U:$G" -d "$W/src" "$W/img" 16M ||
	hard_error "mkfs.ext4"
chown "$U:$G" "$W/img" "$W/m"

mounted() { grep -q " $W/m fuse.e4fuse " /proc/mounts; }
gone() { wait_for 50 eval '! mounted'; }

# ---- read-only ----------------------------------------------------------------
as_user "$W/e4fuse" -o ro "$W/img" "$W/m" 2> "$W/err"
check "ro: e4fuse as nobody exits 0 once mounted" test $? = 0
check "ro: mounted, owned by the user (user_id=$U)" \
	grep -q " $W/m fuse.e4fuse ro,.*user_id=$U," /proc/mounts
check "ro: the user reads the file" \
	test "$(as_user cat "$W/m/greeting" 2>&1)" = "hello from the image"
check "ro: root is kept out without allow_other (EACCES)" \
	eval "! cat '$W/m/greeting' 2>&1 | grep -q hello"
# the serving process confined as it is for root (Landlock for the empty
# root, which /proc does not show)
confined() {
	local p
	for p in $(pgrep -u "$U" -f "$W/e4fuse"); do
		grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$p/status" &&
			grep -q '^Seccomp:[[:space:]]*2' "/proc/$p/status" &&
			grep -q '^CapEff:[[:space:]]*0*$' "/proc/$p/status" &&
			return 0
	done
	return 1
}
check "ro: the serving process: no_new_privs, seccomp, no capabilities" confined
# (what the Landlock step forbids: tests/unit/test_sandbox_landlock)
check "ro: confined by Landlock, not left with the file system" \
	eval "! grep -q 'neither a mount namespace' '$W/err'"
as_user fusermount3 -u "$W/m"
check "ro: fusermount3 -u by the user" test $? = 0
check "ro: gone after fusermount3 -u" gone

# ---- read-write ---------------------------------------------------------------
as_user "$W/e4fuse" "$W/img" "$W/m" 2> "$W/err"
check "rw: e4fuse as nobody mounts read-write" test $? = 0
as_user sh -c "echo 'written by nobody' > '$W/m/new' && mkdir '$W/m/dir'" 2>> "$W/err"
check "rw: the user creates a file and a directory" test $? = 0
check "rw: new files are the user's" \
	test "$(as_user stat -c %u:%g "$W/m/new" 2>/dev/null)" = "$U:$G"
as_user fusermount3 -u "$W/m"
check "rw: fusermount3 -u" test $? = 0
check "rw: gone, the server done" gone
sleep 0.5
check "rw: e2fsck -fn clean" fsck_clean "$W/img" "$W/fsck.out"
kd=$(new_dir)
if private_loop_mount "$W/img" "$kd"; then
	check "rw: the kernel reads the new file" \
		test "$(cat "$kd/new")" = "written by nobody"
	check "rw: the kernel sees the user as its owner" \
		test "$(stat -c %u:%g "$kd/new" "$kd/dir" | sort -u)" = "$U:$G"
	umount "$kd"
else
	record "rw: kernel mount" 1
fi

# ---- allow_other --------------------------------------------------------------
# without user_allow_other fusermount3 refuses it
grep -v '^ *user_allow_other' "$W/fuse.conf.saved" > /etc/fuse.conf 2>/dev/null ||
	: > /etc/fuse.conf
as_user "$W/e4fuse" -o ro,allow_other "$W/img" "$W/m" 2> "$W/err"
rc=$?
check "allow_other refused without user_allow_other: non-zero exit" test $rc != 0
check "allow_other refused: says why" grep -q "user_allow_other" "$W/err"
check "allow_other refused: nothing mounted" eval '! mounted'
mounted && as_user fusermount3 -u "$W/m"

echo user_allow_other >> /etc/fuse.conf
as_user "$W/e4fuse" -o ro,allow_other "$W/img" "$W/m" 2> "$W/err"
check "allow_other with user_allow_other: mounted" test $? = 0
check "allow_other: root reads the user's mount" \
	test "$(cat "$W/m/greeting" 2>&1)" = "hello from the image"
as_user fusermount3 -u "$W/m"
check "allow_other: fusermount3 -u" gone

# ---- an image the user cannot read ------------------------------------------
chown root:root "$W/img"
chmod 600 "$W/img"
as_user "$W/e4fuse" -o ro "$W/img" "$W/m" 2> "$W/err"
rc=$?
check "unreadable image: non-zero exit" test $rc != 0
check "unreadable image: says so" grep -qi "permission denied" "$W/err"
check "unreadable image: nothing mounted" eval '! mounted'

summary
