#!/bin/bash
# SPDX-License-Identifier: MIT
#
# mk-bigdir.sh OUT.img
#
# A hostile image for the per-request directory limit (docs/limits.md): 8
# GiB (sparse: a few MiB on disk), 4 KiB blocks, large_dir, block-mapped.
# Directory /big claims 8 GiB, as many blocks as the file system has (a
# directory larger than its file system is refused at once), and every
# block after the first is the same empty block, reached through an
# indirect, a double- and a triple-indirect block whose pointers all repeat:
# four blocks on disk, two million in the directory.  Without a per-request
# limit one readdir or failed lookup there walks all of them.
set -euo pipefail
out=$1
export E2FSPROGS_FAKE_TIME=1700000000
rm -f "$out"
truncate -s 8G "$out"
mkfs.ext4 -q -F -b 4096 -O ^extent,^64bit,^metadata_csum,^has_journal,large_dir "$out"
debugfs -w -R "mkdir /big" "$out" >/dev/null 2>&1
# four spare blocks near the end: the empty block, then IND, DIND, TIND
E=4000; IND=4001; DIND=4002; TIND=4003
python3 - "$out" $E $IND $DIND $TIND <<'PY'
import struct, sys
path, e, ind, dind, tind = sys.argv[1], *map(int, sys.argv[2:])
B = 4096
with open(path, 'r+b') as f:
    f.seek(e * B)                       # one unused entry spanning the block
    f.write(struct.pack('<IHBB', 0, B, 0, 0) + bytes(B - 8))
    for blk, child in ((ind, e), (dind, ind), (tind, dind)):
        f.seek(blk * B)
        f.write(struct.pack('<1024I', *([child] * 1024)))
PY
cmds=
for i in $(seq 1 11); do cmds="$cmds
sif /big block[$i] $E"; done
debugfs -w -f - "$out" >/dev/null 2>&1 <<EOF2
$cmds
sif /big block[IND] $IND
sif /big block[DIND] $DIND
sif /big block[TIND] $TIND
sif /big size 0x200000000
EOF2
