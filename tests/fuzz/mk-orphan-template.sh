#!/bin/bash
# SPDX-License-Identifier: MIT
# Make tests/fuzz/orphan-template.img(.zst): a small image with orphans, for
# the orphan harness (orphan_fuzz.c), which writes its input over the orphan
# list and orphan file of this image and opens it.
#   tests/fuzz/mk-orphan-template.sh OUT.img
# 4 MiB, 1 KiB blocks, metadata_csum, a 1024-block journal (orphan_file
# needs one; it is clean), orphan_file (inode 12, 32 blocks) with
# orphan_present set, and, as a crash while files were open would leave them:
#   /o1 /o2   unlinked (links 0), recorded in orphan file block 0, slots 0-1
#   /live     still linked (a truncate in progress), slot 2
#   /o3 /o4   unlinked, the classic list: s_last_orphan = o3, o3.dtime = o4
#   /keep, /d/f   ordinary files
# Orphan slots are written by hand (debugfs has no command for them), with
# the block checksum of the format (§14.2, §12.4).
set -euo pipefail
out=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TZ=UTC LC_ALL=C E2FSPROGS_FAKE_TIME=1700000000
mkdir -p "$tmp/src/d"
for f in o1 o2 o3 o4 live keep d/f; do
	head -c 3000 /dev/zero | tr '\0' "${f:0:1}" >"$tmp/src/$f"
done
find "$tmp/src" -exec touch -h -d @1700000000 {} +
rm -f "$out"
truncate -s 4M "$out"
mkfs.ext4 -q -F -b 1024 -N 64 -J size=1 \
	-O ^resize_inode,metadata_csum,orphan_file \
	-U 01234567-89ab-cdef-0123-456789abcdef \
	-E hash_seed=01234567-89ab-cdef-0123-456789abcdef,root_owner=0:0 \
	-d "$tmp/src" "$out"
ino() { debugfs -R "stat /$1" "$out" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p'; }
o1=$(ino o1) o2=$(ino o2) o3=$(ino o3) o4=$(ino o4) live=$(ino live)
{
	for f in o1 o2 o3 o4; do echo "unlink /$f"; done
	for i in $o1 $o2 $o3 $o4; do echo "sif <$i> links_count 0"; done
	echo "sif <$o3> dtime $o4"
	echo "ssv last_orphan $o3"
	echo "feature orphan_present"
	# mkfs -d keeps the tree's real ctimes, debugfs stamps what it changes:
	# the same time everywhere
	for i in 2 $(seq 13 20); do
		echo "sif <$i> ctime 1700000000"
		echo "sif <$i> mtime 1700000000"
	done
	echo "ssv wtime 1700000000"
} | debugfs -w -f - "$out" >/dev/null 2>&1
# the slots of orphan file block 0, and its checksum
python3 - "$out" "$o1" "$o2" "$live" <<'PY'
import struct, subprocess, sys
img, slots = sys.argv[1], [int(x) for x in sys.argv[2:]]
def crc32c(crc, data):
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc
with open(img, 'r+b') as f:
    f.seek(1024)
    sb = f.read(1024)
    B = 1024 << struct.unpack_from('<I', sb, 24)[0]
    if struct.unpack_from('<I', sb, 0x60)[0] & 0x2000:	# csum_seed
        seed = struct.unpack_from('<I', sb, 0x270)[0]
    else:
        seed = crc32c(0xFFFFFFFF, sb[0x68:0x78])
    oino = struct.unpack_from('<I', sb, 0x280)[0]
    out = subprocess.run(['debugfs', '-R', 'stat <%d>' % oino, img],
                         capture_output=True, text=True).stdout
    gen = int(out.split('Generation: ')[1].split()[0])
    phys = int(out.split('EXTENTS:')[1].split(':')[1].split('-')[0])
    f.seek(phys * B)
    blk = bytearray(f.read(B))
    assert struct.unpack_from('<I', blk, B - 8)[0] == 0x0B10CA04
    for i, ino in enumerate(slots):
        struct.pack_into('<I', blk, 4 * i, ino)
    iseed = crc32c(crc32c(seed, struct.pack('<I', oino)), struct.pack('<I', gen))
    c = crc32c(crc32c(iseed, struct.pack('<Q', phys)), bytes(blk[:B - 8]))
    struct.pack_into('<I', blk, B - 4, c)
    f.seek(phys * B)
    f.write(blk)
PY
