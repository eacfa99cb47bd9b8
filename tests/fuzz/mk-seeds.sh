#!/bin/bash
# SPDX-License-Identifier: MIT
#
# mk-seeds.sh OUTDIR [CORPUS_DIR]
#
# Seed corpora for the fuzz harnesses:
#   OUTDIR/walk/      the corpus images of at most 256 KiB (decompressed),
#                     the template, and a miniature of each configuration of
#                     the feature matrix (tests/fixtures/mk-image.sh) made
#                     from a small tree
#   OUTDIR/e4img      the same (a link to walk/: the e4img harness takes
#                     whole images too)
#   OUTDIR/sb/        the template's superblock, then each corpus image's
#   OUTDIR/gdt/       the template's GDT block, then corpus ones (1 KiB
#                     blocks: the block after the superblock)
#   OUTDIR/<kind>/    for the other structure harnesses: the template's own
#                     structures (written by build.sh through mkseeds)
# Structure seeds carry the selector byte first (splice.h).
set -euo pipefail
out=${1:?usage: mk-seeds.sh OUTDIR [CORPUS_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
corpus=${2:-}
if [ -z "$corpus" ]; then
	for c in "$here/../../../shared/corpus/e2fsprogs" /work/shared/corpus/e2fsprogs; do
		[ -d "$c" ] && corpus=$c && break
	done
fi
export TZ=UTC LC_ALL=C E2FSPROGS_FAKE_TIME=1700000000
mkdir -p "$out/walk" "$out/sb" "$out/gdt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

zstd -q -d -f "$here/template.img.zst" -o "$out/walk/template.img"

if [ -n "$corpus" ]; then
	for z in "$corpus"/*.img.zst; do
		name=$(basename "${z%.img.zst}")
		zstd -q -d -f "$z" -o "$tmp/img"
		size=$(stat -c %s "$tmp/img")
		[ "$size" -le 262144 ] && cp "$tmp/img" "$out/walk/$name.img"
		[ "$size" -ge 2048 ] || continue
		{ printf '\0'; dd if="$tmp/img" bs=1024 skip=1 count=1 status=none; } > "$out/sb/$name"
		bs=$(od -An -tu4 -j $((1024 + 24)) -N4 "$tmp/img" | tr -d ' ')
		if [ "$bs" = 0 ] && [ "$size" -ge 3072 ]; then
			{ printf '\0'; dd if="$tmp/img" bs=1024 skip=2 count=1 status=none; } > "$out/gdt/$name"
		fi
	done
fi

# the feature matrix in miniature: same mkfs options, tiny images
src=$tmp/tree
mkdir -p "$src/d/e"
printf 'hello\n' > "$src/small"
head -c 9000 /dev/zero | tr '\0' 'z' > "$src/d/nine-k"
ln -s small "$src/link"
ln -s "$(printf 'l%.0s' $(seq 1 100))" "$src/d/longlink"
for i in $(seq 1 40); do : > "$src/d/e/entry-with-a-long-name-$i"; done
setfattr -n user.x -v 1 "$src/small" 2>/dev/null || true
python3 -c "
f = open('$src/sparse', 'wb')
for i in range(6):
    f.seek(i * 16384); f.write(b'S' * 100)
"
matrix='
ext4-1k|-t ext4 -b 1024 -I 256 -O ^has_journal|256K
ext4-4k|-t ext4 -b 4096 -I 256 -O ^has_journal|512K
ext4-nocsum|-t ext4 -b 1024 -I 256 -O ^has_journal,^metadata_csum,uninit_bg|256K
ext4-i128|-t ext4 -b 1024 -I 128 -O ^has_journal|256K
ext3-1k|-t ext3 -b 1024 -I 128|2M
ext2|-t ext2 -b 1024 -I 128|256K
inline|-t ext4 -b 1024 -I 256 -O inline_data,^has_journal|256K
bigalloc|-t ext4 -b 1024 -I 256 -O bigalloc,^has_journal,^resize_inode -C 4096|512K
no64bit|-t ext4 -b 1024 -I 256 -O ^64bit,^has_journal|256K
metabg|-t ext4 -b 1024 -I 256 -O meta_bg,^resize_inode,^has_journal|256K
largedir|-t ext4 -b 1024 -I 256 -O large_dir,^has_journal|256K
'
printf '%s\n' "$matrix" | while IFS='|' read -r name args size; do
	[ -n "$name" ] || continue
	img=$out/walk/mini-$name.img
	rm -f "$img"
	truncate -s "$size" "$img"
	# shellcheck disable=SC2086
	if ! mkfs.ext4 -q -F -N 96 $args -d "$src" "$img" >/dev/null 2>&1; then
		echo "mk-seeds: mkfs failed for $name" >&2
		rm -f "$img"
	fi
done
ln -sfn walk "$out/e4img"
echo "seeds: $(ls "$out/walk" | wc -l) walk and e4img, $(ls "$out/sb" | wc -l) sb, $(ls "$out/gdt" | wc -l) gdt"
