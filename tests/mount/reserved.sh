#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Directory entries that name inodes no name may hold, as a hostile image
# has them: reserved inodes (1, 3, 5, the resize inode 7, the journal 8),
# the orphan file and an EA inode (the value of a large xattr).  The kernel's
# ext4 lists the names but refuses to look them up (EUCLEAN, "bad inode
# number" / "unexpected EA_INODE flag" in its log).  e4fuse must answer the
# same errno for every call, report the corruption naming the directory and
# the entry, and keep serving the good files, the EA inode's value included.
. "$(dirname "$0")/mountlib.sh"
require_mount_env
command -v debugfs >/dev/null || skip "missing debugfs"

W=$(new_dir)
mkdir -p "$W/t/sub"
echo hello > "$W/t/file"
echo inner > "$W/t/sub/ok"
img=$W/reserved.img
mkfs.ext4 -q -F -b 4096 -O resize_inode,has_journal,ea_inode,orphan_file \
	-d "$W/t" "$img" 32M || hard_error "mkfs.ext4"

# An EA inode: a value larger than a block, written by the kernel.
D=$(new_dir)
mount -o loop "$img" "$D" || hard_error "kernel read-write mount"
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.big", b"x" * 9000)' \
	"$D/file"
rc=$?
umount "$D" || hard_error "umount $D"
[ $rc = 0 ] || hard_error "setxattr of a 9000-byte value"
ea=""
for i in $(seq 12 64); do
	fl=$(debugfs -R "stat <$i>" "$img" 2>/dev/null |
		sed -n 's/.*Flags: \(0x[0-9a-f]*\).*/\1/p' | head -n 1)
	if [ -n "$fl" ] && [ $((fl & 0x200000)) != 0 ]; then
		ea=$i
		break
	fi
done
[ -n "$ea" ] || hard_error "no EA inode made"
orphan=$(dumpe2fs -h "$img" 2>/dev/null | sed -n 's/^Orphan file inode: *//p')
[ -n "$orphan" ] || hard_error "no orphan file"

# name:inode
bad="one:1 three:3 five:5 resize:7 journal:8 orphanfile:$orphan eainode:$ea sub/jsub:8"
for b in $bad; do
	out=$(debugfs -w -R "ln <${b#*:}> /${b%%:*}" "$img" 2>&1)
	echo "$out" | grep -qi 'not found\|invalid\|couldn' && hard_error "ln: $out"
done

# What programs see: every call's errno per name, ls and ls -l as a user
# runs them (the paths relative, so both mounts print the same).
probe() {
	(cd "$1" && python3 - $bad <<'PY'
import errno, os, sys
def t(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def rd(p):
    with open(p, "rb") as f:
        f.read(16)
names = [b.split(":")[0] for b in sys.argv[1:]] + ["file", "sub/ok"]
for n in names:
    print(n, "lstat", t(lambda: os.lstat(n)), "stat", t(lambda: os.stat(n)),
          "read", t(lambda: rd(n)),
          "listxattr", t(lambda: os.listxattr(n, follow_symlinks=False)))
for d in (".", "sub"):
    print(d, sorted((e.name, e.inode()) for e in os.scandir(d)))
print("user.big", len(os.getxattr("file", "user.big")))
PY
	ls -1 . sub
	ls -l . sub 2>&1 >/dev/null | sort)
}

kernel_mount "$img" || hard_error "kernel mount"
want=$(probe "$KDIR")
umount "$KDIR"
echo "the kernel's ext4:"
echo "$want"
for b in $bad; do
	n=${b%%:*}
	echo "$want" | grep -q "^$n lstat EUCLEAN stat EUCLEAN read EUCLEAN listxattr EUCLEAN$"
	record "kernel: every call on $n fails with EUCLEAN" $?
done

FUSE_LOG=$W/fuse.log
if fuse_start "$img"; then
	got=$(probe "$FDIR")
	fuse_stop || record "e4fuse: clean unmount" 1
	if [ "$got" = "$want" ]; then
		record "e4fuse answers as the kernel does" 0
	else
		echo "e4fuse:"
		echo "$got"
		diff <(echo "$want") <(echo "$got")
		record "e4fuse answers as the kernel does" 1
	fi
	log_has() {
		if grep -q -- "$2" "$FUSE_LOG"; then record "$1" 0; else
			record "$1" 1; fi
	}
	log_has "log: journal entry named" \
		"corrupt: inode 2: directory entry 'journal' names reserved inode 8 \\[IN1\\]"
	log_has "log: entry in a subdirectory named" \
		"directory entry 'jsub' names reserved inode 8 \\[IN1\\]"
	log_has "log: EA inode entry named" \
		"directory entry 'eainode' names xattr value inode $ea \\[DIR-TARGET\\]"
	log_has "log: orphan file entry named" \
		"directory entry 'orphanfile' names reserved inode $orphan \\[IN1\\]"
else
	record "e4fuse mount" 1
fi
summary
