#!/bin/bash
# SPDX-License-Identifier: MIT
#
# e4img extract: a tree copied out of an image equals the kernel's view of
# the same image (types, contents, sizes, holes, modes, times, hard links,
# symlink targets), with device nodes, setuid/setgid bits, xattrs, ACLs and
# owners only when asked; and a hostile image (names "..", "a/b", a
# symlink and a directory of one name, a second name of a directory) never
# writes outside DEST and says what it skipped.
. "$(dirname "$0")/lib.sh"
require_env
[ "$(id -u)" = 0 ] || skip "needs root (device nodes, owners, loop mounts)"
for t in mkfs.ext4 debugfs setfattr setfacl python3; do
	command -v $t >/dev/null || skip "missing $t"
done
E4IMG=$E4_BUILDDIR/e4img
W=$(mktemp -d /tmp/e4x.XXXXXX)
KM=""
cleanup_x() {
	[ -n "$KM" ] && umount "$KM" 2>/dev/null
	rm -rf "$W"
}
trap 'cleanup_x; lib_cleanup' EXIT

# ---- a tree with one of everything ----------------------------------------
T=$W/tree
mkdir -p "$T/dir/deep/er" "$T/ro"
printf 'hello\n' > "$T/dir/hello"
python3 -c 'import os; f = open(os.sys.argv[1], "wb"); f.seek(5 << 20); f.write(b"tail"); f.truncate(9 << 20)' "$T/sparse"
head -c 300000 /dev/urandom > "$T/dir/deep/er/random"
ln "$T/dir/hello" "$T/hardlink"
ln -s hello "$T/dir/rel-link"
ln -s /etc/passwd "$T/abs-link"
ln -s ../../outside "$T/dir/up-link"
mkfifo "$T/fifo"
mknod "$T/null" c 1 3
: > "$T/setuid" && chmod 4755 "$T/setuid"
: > "$T/attrs" && setfattr -n user.color -v blue "$T/attrs"
setfacl -m u:1234:rw "$T/attrs"
: > "$T/owned" && chown 1234:5678 "$T/owned"
: > "$T/ro/file"
chmod 0555 "$T/ro"
touch -h -d @1600000000.25 "$T/dir/hello" "$T/dir/rel-link" "$T/dir"
img=$W/tree.img
mkfs.ext4 -q -F -b 4096 -d "$T" "$img" 64M || hard_error "mkfs -d failed"

KM=$W/kmnt
mkdir -p "$KM"
private_loop_mount "$img" "$KM" || hard_error "cannot loop-mount the image"

# compare DEST: the kernel's view, with what extract leaves out by default
# left out (EXTRAS: the options given)
compare_x() {	# compare_x NAME DEST EXTRAS
	python3 - "$KM" "$2" "$3" <<'EOF'
import os, stat, sys
k, d, extras = sys.argv[1], sys.argv[2], sys.argv[3].split()
bad = []
inos = {}
for root, dirs, files in os.walk(k):
    for n in dirs + files:
        kp = os.path.join(root, n)
        rel = os.path.relpath(kp, k)
        if rel.startswith("lost+found"):
            continue
        dp = os.path.join(d, rel)
        ks = os.lstat(kp)
        if stat.S_ISCHR(ks.st_mode) and "--devices" not in extras:
            if os.path.lexists(dp):
                bad.append(rel + ": a device made without --devices")
            continue
        if not os.path.lexists(dp):
            bad.append(rel + ": missing")
            continue
        ds = os.lstat(dp)
        want = ks.st_mode if "--setid" in extras else ks.st_mode & ~0o6000
        if ds.st_mode != want:
            bad.append("%s: mode %o, want %o" % (rel, ds.st_mode, want))
        if not stat.S_ISDIR(ks.st_mode) and ds.st_size != ks.st_size:
            bad.append("%s: size %d, want %d" % (rel, ds.st_size, ks.st_size))
        if ds.st_mtime_ns != ks.st_mtime_ns:
            bad.append("%s: mtime %d, want %d" % (rel, ds.st_mtime_ns, ks.st_mtime_ns))
        if "--owners" in extras and (ds.st_uid, ds.st_gid) != (ks.st_uid, ks.st_gid):
            bad.append(rel + ": owner")
        if stat.S_ISLNK(ks.st_mode):
            if os.readlink(dp) != os.readlink(kp):
                bad.append(rel + ": symlink target")
        elif stat.S_ISREG(ks.st_mode):
            if open(dp, "rb").read() != open(kp, "rb").read():
                bad.append(rel + ": contents")
            if ds.st_blocks > ks.st_blocks + 8:
                bad.append("%s: %d blocks, the image's %d (holes filled?)"
                           % (rel, ds.st_blocks, ks.st_blocks))
            inos.setdefault(ks.st_ino, set()).add(ds.st_ino)
        kx = set(os.listxattr(kp, follow_symlinks=False))
        dx = set(os.listxattr(dp, follow_symlinks=False))
        if "--xattrs" in extras:
            kx = {x for x in kx if x.startswith("user.") or x.startswith("system.posix_acl")}
            for x in kx:
                if x not in dx or os.getxattr(dp, x, follow_symlinks=False) != \
                        os.getxattr(kp, x, follow_symlinks=False):
                    bad.append(rel + ": xattr " + x)
        elif dx:
            bad.append(rel + ": xattrs copied without --xattrs: " + " ".join(dx))
for ino, got in inos.items():
    if len(got) != 1:
        bad.append("inode %d: hard links not kept (%d inodes)" % (ino, len(got)))
for b in bad:
    print("MISMATCH", b)
sys.exit(1 if bad else 0)
EOF
}

D=$W/plain
mkdir "$D"
"$E4IMG" extract --no-progress "$img" "$D" > "$W/out" 2>&1; rc=$?
cat "$W/out"
# 0, or 1 for the device skipped by default: its line says so
[ $rc -le 1 ] && grep -q 'skipped 1 (device nodes' "$W/out"
record "extract: exit $rc, the device named as skipped" $?
compare_x plain "$D" ""
record "extract: the kernel's view, setid bits and devices left out" $?

D=$W/full
mkdir "$D"
"$E4IMG" extract --no-progress --devices --setid --xattrs --owners "$img" "$D" > "$W/out" 2>&1
record "extract --devices --setid --xattrs --owners: exit 0" $?
compare_x full "$D" "--devices --setid --xattrs --owners"
record "extract with every option: the kernel's view" $?

D=$W/one
mkdir "$D"
"$E4IMG" extract --no-progress "$img" /dir/deep/er/random "$D" > "$W/out" 2>&1 &&
	cmp "$D/random" "$KM/dir/deep/er/random"
record "extract of one file" $?

# nothing is replaced: a second extract into the same DEST skips all
"$E4IMG" extract --no-progress "$img" /dir/deep/er/random "$D" > "$W/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'already present' "$W/out" && cmp "$D/random" "$KM/dir/deep/er/random"
record "an existing file is not replaced (exit $rc)" $?
umount "$KM"; KM=""

# ---- a hostile image -------------------------------------------------------
# names made on purpose to be patched: PWNED1 -> "..", PWNED2 -> "a/b/c!"
# (each in a directory of its own: the library refuses such a block whole,
# and extract checks every name again), SUBDIR (a symlink to OUTSIDE) ->
# "subdir", the name of a directory, and a second link to a directory in
# that directory (in one of its own: the directory named subdir may be
# skipped if the symlink comes first)
H=$W/htree
OUT=$W/outside
mkdir -p "$H/subdir" "$H/loop" "$H/bad1" "$H/bad2" "$OUT"
: > "$H/bad1/PWNED1"
: > "$H/bad2/PWNED2"
printf 'inside\n' > "$H/subdir/f"
ln -s "$OUT" "$H/SUBDIR"
himg=$W/hostile.img
mkfs.ext4 -q -F -b 1024 -O ^metadata_csum,^dir_index -d "$H" "$himg" 16M ||
	hard_error "mkfs -d failed"
debugfs -w -R "ln loop loop/again" "$himg" >/dev/null 2>&1
python3 - "$himg" <<'EOF'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
def patch(old, new, name_len=None):
    at = data.find(old)
    assert at > 0 and data.find(old, at + 1) < 0, old
    data[at:at + len(new)] = new
    if name_len is not None:
        data[at - 2] = name_len
patch(b"PWNED1", b"..", 2)
patch(b"PWNED2", b"a/b/c!")
patch(b"SUBDIR", b"subdir")
open(sys.argv[1], "wb").write(data)
EOF
D=$W/hdest
mkdir "$D"
timeout 60 "$E4IMG" extract --no-progress "$himg" "$D" > "$W/out" 2>&1; rc=$?
cat "$W/out"
[ $rc = 1 ] && grep -q '^e4img: /bad1: unreadable in the image' "$W/out" &&
	grep -q '^e4img: /bad2: unreadable in the image' "$W/out" &&
	grep -q 'already present' "$W/out" &&
	grep -q 'already extracted' "$W/out" &&
	[ -z "$(find "$D/bad1" "$D/bad2" -mindepth 1 2>/dev/null)" ]
record "hostile names: refused, said so, exit $rc" $?
[ -z "$(ls -A "$OUT")" ] && [ ! -e "$W/a" ] && [ ! -e "$W/hdest/a" ]
record "hostile image: nothing written outside DEST" $?
# whichever of the directory and the symlink came first, nothing reached
# OUTSIDE through it, and the directory's file is there if it was made
if [ -d "$D/subdir" ] && [ ! -L "$D/subdir" ]; then
	cmp -s "$D/subdir/f" <(printf 'inside\n')
else
	[ -L "$D/subdir" ] && [ "$(readlink "$D/subdir")" = "$OUT" ]
fi
record "a symlink and a directory of one name: one of them, safely" $?
summary
