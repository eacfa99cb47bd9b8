#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The tree with a 50,000-entry directory: a 1k-block large_dir image filled by
# the kernel (a deep htree), and a 4k-block mkfs -d image (a linear
# directory of 50,000 names).
. "$(dirname "$0")/lib.sh"
require_env
cache_dir

if img=$(image_get largedir big1k kernel); then
	compare_with_kernel "largedir via-kernel vs kernel" "$img"
else
	record "largedir kernel-image" 1
fi
# One 50,000-entry tree serves both (the --1k tree only has shorter
# symlinks and xattr values).
if img=$(image_get largedir-4k big1k mkfs); then
	compare "largedir-4k mkfs-d vs source" --ref=src "$img" "$(tree_get big1k)"
	compare_with_kernel "largedir-4k mkfs-d vs kernel" "$img"
else
	record "largedir-4k mkfs-image" 1
fi
summary
