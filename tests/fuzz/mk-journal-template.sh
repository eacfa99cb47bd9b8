#!/bin/bash
# SPDX-License-Identifier: MIT
# Make tests/fuzz/journal-template.img(.zst): a small clean image with a
# 1024-block journal, for the journal harness (journal_fuzz.c), which writes
# the fuzz input into the log and marks the image as needing recovery.
#   tests/fuzz/mk-journal-template.sh OUT.img
set -euo pipefail
out=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/d"
echo hello >"$tmp/src/a"
echo x >"$tmp/src/d/b"
rm -f "$out"
truncate -s 4M "$out"
E2FSPROGS_FAKE_TIME=1700000000 mkfs.ext4 -q -F -b 1024 -N 64 \
	-O ^resize_inode,metadata_csum -J size=1 \
	-U 01234567-89ab-cdef-0123-456789abcdef \
	-E hash_seed=01234567-89ab-cdef-0123-456789abcdef,root_owner=0:0 \
	-d "$tmp/src" "$out"
e2fsck -fn "$out" >/dev/null
