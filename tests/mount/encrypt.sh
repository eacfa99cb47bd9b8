#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Encrypted directories without the key, e4fuse against the kernel.  The
# kernel makes the image (mkfs.ext4 -O encrypt, a v2 policy on an empty
# directory with a test key, tests/mount/fscrypt_setup.py): files with
# names short and long (past the 149 bytes a no-key name keeps whole), an
# htree directory, a one-block subdirectory, symlinks short and long.
# Mounted again without the key, the kernel is the oracle: every name
# listed (its "no-key" name), every stat, readlink and open errno, and
# lookups of names that are no no-key name, must be e4fuse's answers too,
# read-only and read-write.
. "$(dirname "$0")/mountlib.sh"
require_mount_env
[ -e /sys/fs/ext4/features/encryption ] ||
	skip "the kernel's ext4 has no encryption"

W=$(new_dir)
img=$W/enc.img
mkfs.ext4 -q -F -b 1024 -O encrypt "$img" 32M || hard_error "mkfs.ext4"
D=$(new_dir)
rw_loop_mount "$img" "$D" || hard_error "kernel read-write mount"
made=0
if mkdir "$D/d" && python3 "$E4_SRCDIR/tests/mount/fscrypt_setup.py" "$D/d"; then
	(
	set -e
	cd "$D/d"
	echo hello > short
	mkdir subdir
	echo inner > subdir/f
	ln -s short link
	ln -s "$(printf 't%.0s' $(seq 300))" longlink
	touch "$(printf 'L%.0s' $(seq 140))"
	touch "$(printf 'M%.0s' $(seq 200))"
	touch "$(printf 'N%.0s' $(seq 255))"
	for i in $(seq 1 300); do echo "$i" > "file-number-$i-with-some-padding"; done
	) && made=1
fi
echo plain > "$D/plain"
umount "$D" || hard_error "umount $D"
[ $made = 1 ] || hard_error "could not make the encrypted directory"

# What a program sees: the tree (paths relative, names as listed), each
# name's stat, readlink and open errno, and lookups of non-names.
probe() {
	(cd "$1" && python3 - <<'PY'
import errno, os, stat
def err(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
def show(path):
    st = os.lstat(path)
    line = "%s mode=%o size=%d nlink=%d" % (path, st.st_mode, st.st_size, st.st_nlink)
    if stat.S_ISLNK(st.st_mode):
        line += " -> " + os.readlink(path)
    elif stat.S_ISREG(st.st_mode):
        line += " open=" + err(lambda: os.close(os.open(path, os.O_RDONLY)))
    print(line)
    if stat.S_ISDIR(st.st_mode):
        for n in sorted(os.listdir(path)):
            show(os.path.join(path, n))
show(".")
for bogus in ["d/nosuchname", "d/AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "d/-_-_",
              "d/" + "A" * 255, "d/short"]:
    print(bogus[:40], err(lambda: os.lstat(bogus)))
PY
	)
}

K=$(new_dir)
private_loop_mount "$img" "$K" || hard_error "kernel read-only mount"
want=$(probe "$K")
umount "$K"
echo "$want" | grep -q 'open=ENOKEY' || hard_error "the kernel opened a file without the key"
[ "$(echo "$want" | wc -l)" -gt 300 ] || hard_error "the kernel listed too little"
echo "the kernel's answers (some):"
echo "$want" | grep -E -e '->|subdir|open=|^d/' | cut -c1-160 | head -n 12

FUSE_LOG=$W/fuse.log
if fuse_start "$img"; then
	got=$(probe "$FDIR")
	fuse_stop || record "e4fuse: clean unmount" 1
	if [ "$got" = "$want" ]; then
		record "names, stat, readlink, open and lookups as the kernel's" 0
	else
		diff <(echo "$want") <(echo "$got") | head -n 20
		record "names, stat, readlink, open and lookups as the kernel's" 1
	fi
else
	record "e4fuse read-only mount" 1
fi

# Read-write without the key: the same calls on a copy under the kernel
# and on a copy under e4fuse answer the same (ENOKEY for what needs the
# key: new names in an encrypted directory, renames out of or into one,
# writes and truncates of encrypted files; unlink, rmdir and chmod work),
# and leave the same trees; e4fuse's copy is clean for e2fsck.
changes() {
	(cd "$1" && python3 - <<'PY'
import errno, os
def err(what, fn):
    try:
        fn()
        r = "ok"
    except OSError as e:
        r = errno.errorcode[e.errno]
    print(what, r)
names = sorted(os.listdir("d"))
files = [n for n in names if os.path.isfile(os.path.join("d", n))]
dirs = [n for n in names if os.path.isdir(os.path.join("d", n))]
err("create", lambda: os.close(os.open("d/new", os.O_CREAT | os.O_WRONLY, 0o644)))
err("create existing", lambda: os.close(os.open("d/" + files[0], os.O_CREAT | os.O_WRONLY)))
err("mkdir", lambda: os.mkdir("d/nd"))
err("symlink", lambda: os.symlink("x", "d/sl"))
err("link in", lambda: os.link("plain", "d/hl"))
err("rename within", lambda: os.rename("d/" + files[1], "d/renamed"))
err("rename in", lambda: os.rename("plain", "d/plain2"))
err("rename out", lambda: os.rename("d/" + files[2], "out"))
err("truncate", lambda: os.truncate("d/" + files[3], 0))
err("open for write", lambda: os.close(os.open("d/" + files[4], os.O_WRONLY)))
err("chmod", lambda: os.chmod("d/" + files[5], 0o600))
err("unlink", lambda: os.unlink("d/" + files[6]))
err("rmdir non-empty", lambda: os.rmdir("d/" + dirs[0]))
inner = os.listdir("d/" + dirs[0])[0]
err("unlink inner", lambda: os.unlink("d/" + dirs[0] + "/" + inner))
err("rmdir", lambda: os.rmdir("d/" + dirs[0]))
err("mkdir outside", lambda: os.mkdir("newdir"))
err("rename the directory", lambda: os.rename("d", "d2"))
PY
	)
}
kimg=$W/kernel-rw.img
fimg=$W/e4fuse-rw.img
cp "$img" "$kimg" && cp "$img" "$fimg" || hard_error "copy"
K=$(new_dir)
rw_loop_mount "$kimg" "$K" || hard_error "kernel read-write mount"
want=$(changes "$K"; probe "$K")
umount "$K" || hard_error "umount $K"
echo "the kernel's answers without the key:"
echo "$want" | grep -v '^\./' | head -n 20
if fuse_start "$fimg" -o rw; then
	got=$(changes "$FDIR"; probe "$FDIR")
	fuse_stop || record "e4fuse: clean unmount (rw)" 1
	if [ "$got" = "$want" ]; then
		record "rw: answers and tree as the kernel's" 0
	else
		diff <(echo "$want") <(echo "$got") | head -n 20
		record "rw: answers and tree as the kernel's" 1
	fi
	fsck_clean "$fimg" "$W/fsck.out"
	rc=$?
	[ $rc = 0 ] || cat "$W/fsck.out"
	record "rw: e2fsck -fn clean" $rc
else
	record "e4fuse read-write mount" 1
fi
summary
