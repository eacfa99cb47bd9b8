#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Another user on a read-write mount (allow_other): the same calls, made
# as uid/gid 65534 on an e4fuse mount and on the kernel's ext4 from
# identical images, must get the same answers and leave the same trees:
# creating in a directory not theirs, the sticky bit (removing and
# renaming others' files), chmod/chown/utimes of others' files, reading a
# private file, writing a group-writable setuid/setgid file (the bits go)
# and their own files, which work.  Then the setuid/setgid bits and file
# capabilities as writes, truncates and chowns by the user and by root
# leave them (e4fuse kills them itself: FUSE_HANDLE_KILLPRIV_V2), with
# the requests of appends counted (no GETXATTR each).  e2fsck -fn clean
# afterwards.
. "$(dirname "$0")/mountlib.sh"
require_mount_env
command -v setpriv >/dev/null || skip "missing setpriv"
# (a python the other user may run: not one under /root)
[ -x /usr/bin/python3 ] || skip "missing /usr/bin/python3"

W=$(new_dir)
mkfs.ext4 -q -F -b 4096 "$W/base.img" 16M

# prepare DIR (as root): what the other user meets
prepare() {
	local d=$1
	chmod 0755 "$d" &&
	mkdir "$d/sticky" && chmod 1777 "$d/sticky" &&
	echo root > "$d/sticky/roots" && chmod 0666 "$d/sticky/roots" &&
	mkdir "$d/closed" && chmod 0755 "$d/closed" &&
	echo secret > "$d/private" && chmod 0600 "$d/private" &&
	echo shared > "$d/shared" && chmod 0666 "$d/shared" &&
	echo suid > "$d/setid" && chgrp 65534 "$d/setid" &&
	chmod 6775 "$d/setid" &&
	mkdir "$d/mine" && chown 65534:65534 "$d/mine" &&
	for f in w-suid w-sgid-x w-sgid t-suid root-w c-own c-grp cap; do
		echo data > "$d/$f" || return 1
	done &&
	chmod 4777 "$d/w-suid" && chmod 2777 "$d/w-sgid-x" &&
	chmod 2767 "$d/w-sgid" && chmod 6777 "$d/t-suid" &&
	chmod 6755 "$d/root-w" && chmod 6755 "$d/c-own" &&
	chmod 2745 "$d/c-grp" && chmod 0777 "$d/cap" &&
	setcap cap_net_raw+ep "$d/cap"
}

# privs DIR: writes, a truncate and chowns, by 65534 and by root, and the
# modes and capabilities they leave
privs() {
	local d=$1 f
	setpriv --reuid=65534 --regid=65534 --clear-groups sh -c '
		for f in w-suid w-sgid-x w-sgid cap; do
			echo more >> "$1/$f" || echo "write $f failed"
		done
		truncate -s 2 "$1/t-suid" || echo "truncate failed"' sh "$d"
	echo more >> "$d/root-w"
	chown 0:0 "$d/c-own"
	chgrp 65534 "$d/c-grp"
	for f in w-suid w-sgid-x w-sgid t-suid root-w c-own c-grp cap; do
		echo "$f: $(stat -c '%a %s' "$d/$f") caps '$(getcap "$d/$f")'" |
			sed "s|$d/||"
	done
}

# calls DIR (as 65534): each call and its answer
calls() {
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		/usr/bin/python3 - "$1" <<'EOF'
import errno, os, sys
d = sys.argv[1]
def run(what, f, *a):
    try:
        f(*a)
        res = "ok"
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    print("%s: %s" % (what, res))
def write(p, data, flags=os.O_WRONLY | os.O_APPEND):
    fd = os.open(p, flags, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
run("create in closed", write, d + "/closed/x", b"x", os.O_WRONLY | os.O_CREAT)
run("mkdir in closed", os.mkdir, d + "/closed/y")
run("create in sticky", write, d + "/sticky/mine", b"x", os.O_WRONLY | os.O_CREAT)
run("unlink others in sticky", os.unlink, d + "/sticky/roots")
run("rename others in sticky", os.rename, d + "/sticky/roots", d + "/sticky/r2")
run("rename own in sticky", os.rename, d + "/sticky/mine", d + "/sticky/mine2")
run("unlink own in sticky", os.unlink, d + "/sticky/mine2")
run("write others in sticky", write, d + "/sticky/roots", b"more\n")
run("read private", os.open, d + "/private", os.O_RDONLY)
run("chmod others", os.chmod, d + "/shared", 0o777)
run("chown others", os.chown, d + "/shared", 65534, 65534)
run("utime others to a time", os.utime, d + "/shared", (1, 1))
run("utime others to now", os.utime, d + "/shared", None)
run("write shared", write, d + "/shared", b"appended\n")
run("write setid", write, d + "/setid", b"appended\n")
run("mkdir own", os.mkdir, d + "/mine/sub")
run("chmod own", os.chmod, d + "/mine/sub", 0o2700)
run("chown own to root", os.chown, d + "/mine/sub", 0, 0)
run("rmdir own", os.rmdir, d + "/mine/sub")
run("link others", os.link, d + "/private", d + "/mine/hard")
for p in ("shared", "setid", "sticky/roots"):
    st = os.stat(d + "/" + p)
    print("%s: mode %o size %d" % (p, st.st_mode, st.st_size))
EOF
}

rc=0
cp "$W/base.img" "$W/fuse.img"
cp "$W/base.img" "$W/kernel.img"
if fuse_start "$W/fuse.img" -o rw,allow_other; then
	{ prepare "$FDIR" && calls "$FDIR" > "$W/fuse.out" &&
	  privs "$FDIR" >> "$W/fuse.out"; } || rc=1
	fuse_stop || rc=1
else
	rc=1
fi
kd=$(new_dir)
if rw_loop_mount "$W/kernel.img" "$kd"; then
	{ prepare "$kd" && calls "$kd" > "$W/kernel.out" &&
	  privs "$kd" >> "$W/kernel.out"; } || rc=1
	umount "$kd" || rc=1
else
	rc=1
fi
if ! diff "$W/kernel.out" "$W/fuse.out"; then
	echo "another user's calls answered differently (kernel <, e4fuse >)"
	rc=1
fi
cat "$W/fuse.out"
fsck_clean "$W/fuse.img" "$W/fsck.out" || { cat "$W/fsck.out"; rc=1; }
record "another user" $rc

# appends to a file without setuid bits or capabilities: no GETXATTR of
# security.capability before each WRITE once the kernel knows (S_NOSEC)
cp "$W/base.img" "$W/count.img"
log=$W/debug.log
if FUSE_LOG=$log fuse_start "$W/count.img" -o rw,debug; then
	echo a > "$FDIR/plain"
	sleep 0.3
	mark=$(wc -l < "$log")
	for i in $(seq 1 50); do echo "$i" >> "$FDIR/plain"; done
	sleep 0.5
	writes=$(tail -n +"$((mark + 1))" "$log" | grep -ac 'req [0-9]* WRITE node')
	getx=$(tail -n +"$((mark + 1))" "$log" | grep -ac 'req [0-9]* GETXATTR node')
	echo "50 appends: $writes WRITE, $getx GETXATTR"
	[ "$writes" = 50 ] && [ "$getx" = 0 ]
	record "appends: no GETXATTR per WRITE" $?
	fuse_stop || record "umount" 1
else
	record "mount (counting)" 1
fi
summary
