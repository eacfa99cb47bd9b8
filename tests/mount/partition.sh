#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Whole-disk images: an ext4 file system inside an MBR (primary and logical
# partitions) or GPT table is found by itself when it is the only one, and
# chosen with -o partition=N or -o offset=BYTES otherwise.  What is mounted
# must equal the kernel's mount of the bare file system.
. "$(dirname "$0")/mountlib.sh"
require_mount_env

W=$(new_dir)
mkdir -p "$W/t/d"
echo "inside a partition" > "$W/t/hello"
head -c 300000 /dev/urandom > "$W/t/d/data"
ln -s hello "$W/t/link"
mkfs.ext4 -q -F -b 4096 -d "$W/t" "$W/fs.img" 24M
kernel_mount "$W/fs.img" || hard_error "kernel mount"

# mkdisk OUT SCHEME PART...: PART is "ext" (a copy of fs.img) or "empty"
# (8 MiB of zeros); partitions start at 1 MiB and follow each other.
mkdisk() {
	python3 - "$W/fs.img" "$@" <<'PY'
import struct, sys, zlib, uuid
fs_path, out, scheme = sys.argv[1], sys.argv[2], sys.argv[3]
parts = sys.argv[4:]
fs = open(fs_path, 'rb').read()
S = 512
blobs = [fs if p == 'ext' else bytes(8 << 20) for p in parts]
lba = 2048
layout = []
for b in blobs:
    n = len(b) // S
    layout.append((lba, n))
    lba += n + (2048 if scheme == 'mbr-logical' else 0)
total = lba + 2048
disk = bytearray(total * S)
for (start, n), b in zip(layout, blobs):
    disk[start * S:start * S + len(b)] = b
def mbr_entry(i, ptype, start, count, sector=0):
    o = sector * S + 446 + 16 * i
    disk[o + 4] = ptype
    struct.pack_into('<II', disk, o + 8, start, count)
    disk[sector * S + 510:sector * S + 512] = b'\x55\xaa'
if scheme == 'mbr':
    for i, (start, n) in enumerate(layout):
        mbr_entry(i, 0x83, start, n)
elif scheme == 'mbr-logical':
    # partition 1: a primary without a file system; the rest logical,
    # each preceded by its extended boot record
    mbr_entry(0, 0x0b, layout[0][0], layout[0][1])
    ext_start = layout[1][0] - 2048
    mbr_entry(1, 0x05, ext_start, total - 2048 - ext_start)
    for k, (start, n) in enumerate(layout[1:]):
        ebr = start - 2048
        mbr_entry(0, 0x83, start - ebr, n, sector=ebr)
        if k + 2 < len(layout):
            nxt = layout[k + 2][0] - 2048
            mbr_entry(1, 0x05, nxt - ext_start, layout[k + 2][1] + 2048, sector=ebr)
else:
    mbr_entry(0, 0xEE, 1, min(total - 1, 0xffffffff))
    ents = bytearray(128 * 128)
    for i, (start, n) in enumerate(layout):
        e = 128 * i
        ents[e:e + 16] = uuid.UUID('0fc63daf-8483-4772-8e79-3d69d8477de4').bytes_le
        ents[e + 16:e + 32] = uuid.uuid4().bytes_le
        struct.pack_into('<QQQ', ents, e + 32, start, start + n - 1, 0)
    disk[2 * S:2 * S + len(ents)] = ents
    hdr = bytearray(92)
    hdr[0:8] = b'EFI PART'
    struct.pack_into('<IIII', hdr, 8, 0x00010000, 92, 0, 0)
    struct.pack_into('<QQQQ', hdr, 24, 1, total - 1, 34, total - 34)
    hdr[56:72] = uuid.uuid4().bytes_le
    struct.pack_into('<QIII', hdr, 72, 2, 128, 128, zlib.crc32(ents))
    if scheme == 'gpt-badcrc':
        hdr[88] ^= 1
    struct.pack_into('<I', hdr, 16, zlib.crc32(hdr))
    disk[S:S + 92] = hdr
open(out, 'wb').write(disk)
PY
}

check_mount() {	# check_mount NAME DISK OPTS
	local name=$1 disk=$2 rc=0
	shift 2
	if fuse_start "$disk" "$@"; then
		timeout 120 "$FSDIFF" -q "$FDIR" "$KDIR" || rc=1
		fuse_stop || rc=1
	else
		rc=1
	fi
	record "$name" $rc
}

refuse() {	# refuse NAME PATTERN DISK OPTS
	local name=$1 pat=$2 disk=$3 out rc D2
	shift 3
	D2=$(new_dir)
	out=$(timeout 30 "$E4FUSE" "$@" "$disk" "$D2" 2>&1)
	rc=$?
	echo "$name: exit $rc: $out"
	if [ $rc != 0 ] && [ $rc != 124 ] && echo "$out" | grep -qi -- "$pat" &&
	   ! is_mounted "$D2"; then
		record "$name" 0
	else
		record "$name" 1
	fi
}

mkdisk "$W/mbr.img" mbr ext
check_mount "MBR, one partition: found by itself" "$W/mbr.img"
check_mount "MBR: partition=1" "$W/mbr.img" -o partition=1
check_mount "MBR: offset=1M" "$W/mbr.img" -o offset=1M
check_mount "MBR: offset=2048s" "$W/mbr.img" -o offset=2048s
check_mount "MBR: offset=1048576" "$W/mbr.img" -o offset=1048576
refuse "MBR: partition=2 absent" "no partition 2" "$W/mbr.img" -o partition=2
refuse "offset past the end" "past the end" "$W/mbr.img" -o offset=1G

mkdisk "$W/logical.img" mbr-logical empty ext
check_mount "MBR logical partition: found by itself" "$W/logical.img"
check_mount "MBR logical: partition=5" "$W/logical.img" -o partition=5
refuse "MBR: partition without a file system" "$W/logical.img" "$W/logical.img" -o partition=1

mkdisk "$W/gpt.img" gpt empty ext
check_mount "GPT, one ext partition of two: found by itself" "$W/gpt.img"
check_mount "GPT: partition=2" "$W/gpt.img" -o partition=2

mkdisk "$W/gpt2.img" gpt ext ext
refuse "GPT with two ext partitions: asks which" "partition=N" "$W/gpt2.img"
check_mount "GPT two: partition=1" "$W/gpt2.img" -o partition=1
check_mount "GPT two: partition=2" "$W/gpt2.img" -o partition=2

mkdisk "$W/gptbad.img" gpt-badcrc ext
refuse "GPT with a bad checksum" "checksum" "$W/gptbad.img"
check_mount "bad GPT: offset= still works" "$W/gptbad.img" -o offset=1M

refuse "offset= with partition=" "exclude" "$W/mbr.img" -o offset=1M,partition=1
summary
