#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Images populated through the kernel (loop mount, cp -a, fallocate, touch
# with nanoseconds and dates past 2038): everything the library reads,
# timestamps to the nanosecond, holes and unwritten extents included, must
# equal what the kernel reads from the same image.
. "$(dirname "$0")/lib.sh"
require_env
cache_dir

for config in $("$FIXTURES/mk-image.sh" --list); do
	case $config in largedir*) continue ;; esac	# tree-compare-largedir.sh
	"$FIXTURES/mk-image.sh" --mountable "$config" || continue
	kind=$(tree_for "$config")
	if ! img=$(image_get "$config" "$kind" kernel); then
		record "$config kernel-image" 1
		continue
	fi
	compare_with_kernel "$config via-kernel vs kernel" "$img"
done
summary
