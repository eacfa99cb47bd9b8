#!/bin/bash
# SPDX-License-Identifier: MIT
#
# mk-template.sh OUT.img
#
# Make the small image the per-structure fuzz harnesses splice their input
# into (tests/fuzz/template.img.zst is its committed output; the harnesses
# and their regression inputs depend on its exact layout, so regenerate it
# only together with new seeds).  384 KiB, 1 KiB blocks, metadata_csum,
# 64bit, inline_data, no journal; it holds one of each structure:
#   /lin        linear directory (one block)
#   /htree      indexed directory (dx root + leaves), 60 long names
#   /frag       extent tree of depth 1 (12 extents, one leaf block)
#   /medium     xattr block (user.big), random bytes
#   /small      inline data with an in-inode xattr
#   /fastlink, /slowlink, /fifo
set -euo pipefail
out=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TZ=UTC LC_ALL=C E2FSPROGS_FAKE_TIME=1700000000
src=$tmp/src
mkdir -p "$src/lin" "$src/htree"
for i in $(seq 1 12); do echo "file $i" > "$src/lin/f$i"; done
for i in $(seq 1 60); do : > "$src/htree/$(printf 'name-%03d-%055d' "$i" 0)"; done
python3 - "$src" <<'PY'
import random, sys
d = sys.argv[1]
with open(d + '/frag', 'wb') as f:
    for i in range(12):
        f.seek(i * 2048)
        f.write(bytes([65 + i]) * 1024)
open(d + '/small', 'w').write('hello\n')
random.seed(4)
open(d + '/medium', 'wb').write(bytes(random.randrange(256) for _ in range(5000)))
PY
ln -s small "$src/fastlink"
ln -s "$(printf 'x%.0s' $(seq 1 200))" "$src/slowlink"
mkfifo "$src/fifo"
setfattr -n user.small -v v "$src/small"
setfattr -n user.big -v "$(printf 'y%.0s' $(seq 1 300))" "$src/medium"
find "$src" -exec touch -h -d @1700000000 {} +
rm -f "$out"
truncate -s 384K "$out"
mkfs.ext4 -q -F -b 1024 -I 256 -N 128 \
	-O ^has_journal,^resize_inode,metadata_csum,64bit,inline_data \
	-U 01234567-89ab-cdef-0123-456789abcdef \
	-E hash_seed=01234567-89ab-cdef-0123-456789abcdef,root_owner=0:0 \
	-d "$src" "$out"
# index the big directory
e2fsck -fyD "$out" >/dev/null 2>&1 || [ $? -le 2 ]
e2fsck -fn "$out" >/dev/null
