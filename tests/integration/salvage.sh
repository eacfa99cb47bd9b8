#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Salvage per block (issue 15): a directory of 3,000 names made by
# mkfs.ext4 -d, with one block damaged (random-looking bytes over its first
# or its 8th block, one name byte changed under metadata_csum, one entry
# broken mid-block without checksums, the root or a leaf of its htree
# destroyed), mounted by the kernel's ext4 and by e4fuse.  e4fuse must list
# exactly the names of the undamaged blocks and the valid entries before a
# broken one (a superset of what the kernel lists), end the listing with
# EUCLEAN (it is not whole), find each name, show the same inode, size,
# mode and bytes as the kernel wherever the kernel can read the file, and
# not call a name absent that may be in the damaged block.
: "${E4_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$E4_SRCDIR/tests/mount/mountlib.sh"
require_mount_env
[ -e /dev/loop-control ] || skip "no loop devices"
command -v debugfs >/dev/null || skip "missing debugfs"

W=$(new_dir)
N=3000

# ---- the directory -------------------------------------------------------
# names of varied lengths, each file holding its own number
mkdir -p "$W/tree/d"
python3 - "$W/tree/d" "$N" <<'EOF' || hard_error "tree"
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    name = "f%05d-%s" % (i, "x" * (i * 7919 % 40))
    with open(os.path.join(d, name), "w") as f:
        f.write("%d\n" % i)
EOF
base=$W/base.img
mkfs.ext4 -q -F -b 4096 -d "$W/tree" "$base" 64M || hard_error "mkfs -d failed"
# without metadata_csum, where a block's structure alone is checked
base_nc=$W/base_nc.img
mkfs.ext4 -q -F -b 4096 -O ^metadata_csum -d "$W/tree" "$base_nc" 64M ||
	hard_error "mkfs -d failed"
# the same directory indexed (mkfs -d makes it linear)
base_dx=$W/base_dx.img
cp "$base" "$base_dx"
e2fsck -fyD "$base_dx" >/dev/null 2>&1
[ $? -le 1 ] || hard_error "e2fsck -D failed"
debugfs -R "htree /d" "$base_dx" 2>/dev/null | grep -q "Root node" ||
	hard_error "e2fsck -D did not index /d"

# physical block of logical block $2 of /d in image $1
pblk() {
	debugfs -R "bmap /d $2" "$1" 2>/dev/null
}

# names_in IMAGE PBLK [FROM]: the names of the directory block (a clean
# one) from its FROM-th (0: all), as a linear reader sees its entries
names_in() {
	python3 - "$1" "$2" "${3:-0}" <<'EOF'
import struct, sys
img, blk, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(img, "rb") as f:
    f.seek(blk * 4096)
    b = f.read(4096)
off = 0
i = 0
while off + 8 <= len(b):
    ino, rec_len, name_len = struct.unpack_from("<IHB", b, off)
    if rec_len < 8:
        break
    name = b[off + 8:off + 8 + name_len]
    if ino and name not in (b".", b".."):
        if i >= first:
            print(name.decode())
        i += 1
    off += rec_len
EOF
}

# scribble SEED IMAGE PBLK: fixed random-looking bytes over the block
scribble() {
	python3 - "$1" "$2" "$3" <<'EOF'
import random, sys
seed, img, blk = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
r = random.Random(seed)
with open(img, "r+b") as f:
    f.seek(blk * 4096)
    f.write(bytes(r.getrandbits(8) for _ in range(4096)))
EOF
}

# patch_entry HOW N IMAGE PBLK: break the entry of the block's N-th name
# (from 0, "." and ".." not counted): HOW "name" changes a byte of its name
# (still a valid name: only the checksum fails), "rec_len" makes its
# record length odd (the entries before it stay valid; the kernel lists
# them)
patch_entry() {
	python3 - "$@" <<'EOF'
import struct, sys
how, n, img, blk = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
with open(img, "r+b") as f:
    f.seek(blk * 4096)
    b = bytearray(f.read(4096))
    off, i = 0, 0
    while True:
        ino, rec_len, name_len = struct.unpack_from("<IHB", b, off)
        if ino and b[off + 8:off + 8 + name_len] not in (b".", b".."):
            if i == n:
                break
            i += 1
        off += rec_len
    if how == "name":
        b[off + 9] ^= 0x01
    else:
        struct.pack_into("<H", b, off + 4, rec_len + 2)
    f.seek(blk * 4096)
    f.write(b)
EOF
}

# compare_views KDIR FDIR EXPECTED LINEAR: the checks above, from the two
# mounts; LINEAR 1: any name may be in the damaged block (no index says
# where a name would be)
compare_views() {
	python3 - "$1/d" "$2/d" "$3" "$4" <<'EOF'
import errno, os, sys
kd, fd, expected, linear = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
want = set(l.rstrip("\n") for l in open(expected))
def listing(d):
    """The names readdir gives, and the errno it ends with (0: none)."""
    names = set()
    try:
        with os.scandir(d) as it:
            for e in it:
                names.add(e.name)
    except OSError as e:
        return names, e.errno
    return names, 0
(k, kerr), (f, ferr) = listing(kd), listing(fd)
bad = []
# the damaged block is skipped as the kernel skips it: no error at the
# end (cp -r and tar give up a directory whose listing fails)
if ferr != 0:
    bad.append("e4fuse's listing ends with errno %d" % ferr)
if f != want:
    bad.append("e4fuse lists %d names, expected %d (missing %s, extra %s)" %
               (len(f), len(want), sorted(want - f)[:3], sorted(f - want)[:3]))
if not k <= f:
    bad.append("the kernel lists %d names e4fuse does not: %s" %
               (len(k - f), sorted(k - f)[:3]))
kstat = 0
for name in sorted(f):
    try:
        fs = os.lstat(os.path.join(fd, name))
    except OSError as e:
        bad.append("e4fuse: %s: %s" % (name, e.strerror))
        continue
    try:
        ks = os.lstat(os.path.join(kd, name))
    except OSError:
        continue        # the kernel stops at the damaged block
    kstat += 1
    if (fs.st_ino, fs.st_size, fs.st_mode) != (ks.st_ino, ks.st_size, ks.st_mode):
        bad.append("%s: e4fuse %s, kernel %s" % (name,
                   (fs.st_ino, fs.st_size, fs.st_mode),
                   (ks.st_ino, ks.st_size, ks.st_mode)))
        continue
    if open(os.path.join(fd, name), "rb").read() != \
       open(os.path.join(kd, name), "rb").read():
        bad.append("%s: different bytes" % name)
# in a linear directory a name that is not there may be in the damaged
# block: not "absent" (the kernel says EBADMSG)
try:
    os.lstat(os.path.join(fd, "no-such-name"))
    bad.append("no-such-name: found")
except OSError as e:
    if e.errno == errno.ENOENT and linear == "1":
        bad.append("no-such-name: ENOENT, though a block was skipped")
print("kernel lists %d, stats %d; e4fuse lists %d of %d expected" %
      (len(k), kstat, len(f), len(want)))
for b in bad[:10]:
    print("  " + b)
sys.exit(1 if bad else 0)
EOF
}

# run_case NAME IMAGE LBLK KEEP DAMAGE...: damage logical block LBLK of /d
# in a copy of IMAGE with DAMAGE IMG PBLK, which leaves the first KEEP
# names of the block valid, then compare the two mounts
run_case() {
	local name=$1 src=$2 lblk=$3 keep=$4 img p ok=0
	shift 4
	img=$W/case.img
	cp "$src" "$img"
	p=$(pblk "$img" "$lblk")
	[ -n "$p" ] && [ "$p" -gt 0 ] || hard_error "bmap /d $lblk"
	names_in "$src" "$p" "$keep" > "$W/lost"
	[ -s "$W/lost" ] || [ "$lblk" = 0 ] || hard_error "block $lblk holds no names"
	ls "$W/tree/d" | grep -vxF -f "$W/lost" > "$W/expected"
	"$@" "$img" "$p"
	kernel_mount "$img" || hard_error "kernel mount of $name"
	FUSE_LOG=$W/fuse.log
	: > "$FUSE_LOG"
	if fuse_start "$img"; then
		compare_views "$KDIR" "$FDIR" "$W/expected" \
			"$([ "$src" = "$base_dx" ] && echo 0 || echo 1)" || ok=1
		# what a user runs to get the files back: cp -r copies every
		# name that is listed (cp and tar give up a directory whose
		# listing fails)
		rm -rf "$W/copy"
		cp -r "$FDIR/d" "$W/copy" 2>/dev/null
		[ "$(ls "$W/copy" 2>/dev/null | wc -l)" = "$(wc -l < "$W/expected")" ] || {
			echo "  cp -r copied $(ls "$W/copy" 2>/dev/null | wc -l) of $(wc -l < "$W/expected") names"
			ok=1
		}
		# the damaged block is named in e4fuse's log
		grep -q "inode [0-9]*: .*(logical $lblk)" "$FUSE_LOG" || {
			echo "  no report of logical block $lblk:"
			head -3 "$FUSE_LOG"
			ok=1
		}
		fuse_stop || ok=1
	else
		ok=1
	fi
	umount "$KDIR"
	record "$name" $ok
}

run_case "random bytes over the first block" "$base" 0 0 scribble 1
run_case "random bytes over the 8th block" "$base" 7 0 scribble 2
run_case "one name byte changed (bad checksum)" "$base" 3 0 patch_entry name 0
run_case "no checksums: one entry broken mid-block" "$base_nc" 5 9 \
	patch_entry rec_len 9
run_case "htree: random bytes over a leaf" "$base_dx" 9 0 scribble 3
run_case "htree: the root destroyed" "$base_dx" 0 0 scribble 4
# ---- a file whose extent tree has one bad leaf ------------------------------
# 400 data runs of 4 KiB, 16 KiB apart, with 1 KiB blocks: a tree of depth
# 2 whose leaves cover about 80 runs each.  Random bytes over the third
# leaf: e4fuse reads every run the kernel reads, with the same bytes, and
# fails only inside the range that leaf covers.
mkdir -p "$W/ftree"
python3 - "$W/ftree/frag" <<'EOF' || hard_error "frag"
import sys
with open(sys.argv[1], "wb") as f:
    for i in range(400):
        f.seek(i * 16384)
        f.write(bytes((i * 7 + j) & 0xff for j in range(4096)))
    f.truncate(400 * 16384)
EOF
fimg=$W/frag.img
mkfs.ext4 -q -F -b 1024 -d "$W/ftree" "$fimg" 32M || hard_error "mkfs -d failed"
# the leaves, from the level above them: "first - last  physical"
debugfs -R "ex /frag" "$fimg" 2>/dev/null |
	awk '$1 == "1/" && $2 == "2" { print $5, $7, $8 }' > "$W/leaves"
[ "$(wc -l < "$W/leaves")" -ge 3 ] || hard_error "frag: no depth-2 tree"
read -r lo hi leaf < <(sed -n 3p "$W/leaves")
python3 - "$fimg" "$leaf" <<'EOF'
import random, sys
r = random.Random(5)
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2]) * 1024)
    f.write(bytes(r.getrandbits(8) for _ in range(1024)))
EOF
kernel_mount "$fimg" || hard_error "kernel mount of frag"
ok=1
FUSE_LOG=$W/fuse.log
: > "$FUSE_LOG"
if fuse_start "$fimg"; then
	python3 - "$KDIR/frag" "$FDIR/frag" "$lo" "$hi" <<'EOF'
import os, sys
kf, ff, lo, hi = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def reads(path):
    out = []
    fd = os.open(path, os.O_RDONLY)
    for i in range(400):
        try:
            out.append(os.pread(fd, 16384, i * 16384))
        except OSError as e:
            out.append(e.errno)
    os.close(fd)
    return out
k, f = reads(kf), reads(ff)
bad = []
for i in range(400):
    # the run's 16 KiB span logical blocks 16i .. 16i+15
    inside = 16 * i + 15 >= lo and 16 * i <= hi
    if isinstance(k[i], bytes) and k[i] != f[i]:
        bad.append("run %d: the kernel reads it, e4fuse %s" %
                   (i, "differs" if isinstance(f[i], bytes) else
                    "fails (%d)" % f[i]))
    if not isinstance(f[i], bytes) and not inside:
        bad.append("run %d: outside the bad leaf, e4fuse fails (%d)" % (i, f[i]))
print("kernel reads %d runs, e4fuse %d" %
      (sum(isinstance(x, bytes) for x in k), sum(isinstance(x, bytes) for x in f)))
for b in bad[:10]:
    print("  " + b)
sys.exit(1 if bad else 0)
EOF
	ok=$?
	grep -q "extent block $leaf" "$FUSE_LOG" || { echo "  no report of extent block $leaf"; ok=1; }
	fuse_stop || ok=1
fi
umount "$KDIR"
record "a file with one bad extent leaf: the other ranges read" $ok

# ---- a bad inode-table block, a bad xattr block ------------------------------
# 100 files with an in-inode attribute, one of them also with one in an
# xattr block; random bytes over the inode-table block of /d/f50 (it hides
# its 16 inodes, no more) and over the xattr block of /x (its in-inode
# attribute stays readable, a block one is EUCLEAN as with the kernel).
mkdir -p "$W/itree/d"
for i in $(seq 1 100); do
	echo "v$i" > "$W/itree/d/f$i"
	setfattr -n user.small -v "in$i" "$W/itree/d/f$i"
done
echo x > "$W/itree/x"
setfattr -n user.small -v small "$W/itree/x"
setfattr -n user.big -v "$(printf '%1500s' | tr ' ' b)" "$W/itree/x"
iimg=$W/itable.img
mkfs.ext4 -q -F -b 4096 -I 256 -d "$W/itree" "$iimg" 32M ||
	hard_error "mkfs -d failed"
ino=$(debugfs -R "stat /d/f50" "$iimg" 2>/dev/null | awk '/^Inode:/ { print $2 }')
itb=$(debugfs -R "imap <$ino>" "$iimg" 2>/dev/null | awk '/located at block/ { sub(",", "", $4); print $4 }')
xab=$(debugfs -R "stat /x" "$iimg" 2>/dev/null | awk '/File ACL:/ { print $3 }')
[ -n "$itb" ] && [ "$itb" -gt 0 ] && [ -n "$xab" ] && [ "$xab" -gt 0 ] ||
	hard_error "itable block '$itb', xattr block '$xab'"
scribble 6 "$iimg" "$itb"
scribble 7 "$iimg" "$xab"
kernel_mount "$iimg" || hard_error "kernel mount of itable"
ok=1
FUSE_LOG=$W/fuse.log
: > "$FUSE_LOG"
if fuse_start "$iimg"; then
	python3 - "$KDIR" "$FDIR" <<'EOF'
import errno, os, sys
kd, fd = sys.argv[1], sys.argv[2]
def view(d):
    out = {}
    for n in sorted(os.listdir(os.path.join(d, "d"))):
        p = os.path.join(d, "d", n)
        try:
            st = os.lstat(p)
            out[n] = (st.st_ino, st.st_size, st.st_mode, open(p, "rb").read(),
                      os.getxattr(p, "user.small"))
        except OSError as e:
            out[n] = e.errno
    return out
k, f = view(kd), view(fd)
bad = []
for n, v in k.items():
    if not isinstance(v, int) and f.get(n) != v:
        bad.append("%s: the kernel reads it, e4fuse gives %s" % (n, f.get(n)))
hidden = [n for n, v in f.items() if isinstance(v, int)]
if not 0 < len(hidden) <= 16:
    bad.append("e4fuse hides %d inodes, not those of one block" % len(hidden))
x = os.path.join(fd, "x")
try:
    if os.getxattr(x, "user.small") != b"small":
        bad.append("x: user.small differs")
except OSError as e:
    bad.append("x: user.small: %s" % e.strerror)
try:
    os.getxattr(x, "user.big")
    bad.append("x: user.big read from a destroyed block")
except OSError as e:
    if e.errno != errno.EUCLEAN:
        bad.append("x: user.big: %s, not EUCLEAN" % e.strerror)
if open(x, "rb").read() != b"x\n":
    bad.append("x: data differs")
print("kernel reads %d of 100 files, e4fuse %d" %
      (sum(not isinstance(v, int) for v in k.values()), 100 - len(hidden)))
for b in bad[:10]:
    print("  " + b)
sys.exit(1 if bad else 0)
EOF
	ok=$?
	fuse_stop || ok=1
fi
umount "$KDIR"
record "a bad inode-table block hides its inodes alone; a bad xattr block leaves the in-inode ones" $ok
summary
