#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Salvage per block (issue 15): a directory of 3,000 names made by
# mkfs.ext4 -d, with one block damaged (random-looking bytes over its first
# or its 8th block, one name byte changed under metadata_csum, the root or
# a leaf of its htree destroyed), mounted by the kernel's ext4 and by
# e4fuse.  e4fuse must list exactly the names of the undamaged blocks (a
# superset of what the kernel lists), find each of them, show the same
# inode, size, mode and bytes as the kernel wherever the kernel can read
# the file, and not call a name absent that may be in the damaged block.
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

# names_in IMAGE PBLK: the names of the directory block (a clean one), as
# a linear reader sees its entries
names_in() {
	python3 - "$1" "$2" <<'EOF'
import struct, sys
img, blk = sys.argv[1], int(sys.argv[2])
with open(img, "rb") as f:
    f.seek(blk * 4096)
    b = f.read(4096)
off = 0
while off + 8 <= len(b):
    ino, rec_len, name_len = struct.unpack_from("<IHB", b, off)
    if rec_len < 8:
        break
    name = b[off + 8:off + 8 + name_len]
    if ino and name not in (b".", b".."):
        print(name.decode())
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

# flip_name IMAGE PBLK: change one byte of the first name in the block
# that is not "." or "..": the entry stays well formed, the checksum fails
flip_name() {
	python3 - "$1" "$2" <<'EOF'
import struct, sys
img, blk = sys.argv[1], int(sys.argv[2])
with open(img, "r+b") as f:
    f.seek(blk * 4096)
    b = bytearray(f.read(4096))
    off = 0
    while True:
        ino, rec_len, name_len = struct.unpack_from("<IHB", b, off)
        if ino and b[off + 8:off + 8 + name_len] not in (b".", b".."):
            break
        off += rec_len
    b[off + 9] ^= 0x01          # the name's second byte: still a name
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
    try:
        return set(os.listdir(d))
    except OSError as e:
        return set()
k, f = listing(kd), listing(fd)
bad = []
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

# run_case NAME IMAGE LBLK DAMAGE...: damage logical block LBLK of /d in a
# copy of IMAGE with DAMAGE IMG PBLK, then compare the two mounts
run_case() {
	local name=$1 src=$2 lblk=$3 img p ok=0
	shift 3
	img=$W/case.img
	cp "$src" "$img"
	p=$(pblk "$img" "$lblk")
	[ -n "$p" ] && [ "$p" -gt 0 ] || hard_error "bmap /d $lblk"
	names_in "$src" "$p" > "$W/lost"
	[ -s "$W/lost" ] || [ "$lblk" = 0 ] || hard_error "block $lblk holds no names"
	ls "$W/tree/d" | grep -vxF -f "$W/lost" > "$W/expected"
	"$@" "$img" "$p"
	kernel_mount "$img" || hard_error "kernel mount of $name"
	FUSE_LOG=$W/fuse.log
	: > "$FUSE_LOG"
	if fuse_start "$img"; then
		compare_views "$KDIR" "$FDIR" "$W/expected" \
			"$([ "$src" = "$base" ] && echo 1 || echo 0)" || ok=1
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

run_case "random bytes over the first block" "$base" 0 scribble 1
run_case "random bytes over the 8th block" "$base" 7 scribble 2
run_case "one name byte changed (bad checksum)" "$base" 3 flip_name
run_case "htree: random bytes over a leaf" "$base_dx" 9 scribble 3
run_case "htree: the root destroyed" "$base_dx" 0 scribble 4
summary
