#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The tree with a 50,000-entry directory, copied in by the kernel (so the
# directory is an htree): on a 1k-block large_dir image and a 4k-block one.
. "$(dirname "$0")/lib.sh"
require_env
cache_dir

if img=$(image_get largedir big1k kernel); then
	compare_with_kernel "largedir via-kernel vs kernel" "$img"
else
	record "largedir kernel-image" 1
fi
# 4k blocks, filled by the kernel too: mkfs -d links names one by one into
# a linear directory (quadratic: minutes for 50,000), so no mkfs -d image.
if img=$(image_get largedir-4k big1k kernel); then
	compare_with_kernel "largedir-4k via-kernel vs kernel" "$img"
else
	record "largedir-4k kernel-image" 1
fi
summary
