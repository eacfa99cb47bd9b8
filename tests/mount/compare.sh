#!/bin/bash
# SPDX-License-Identifier: MIT
#
# For every image of the feature matrix, populated both by mkfs.ext4 -d and
# through a kernel loop mount (cp -a, nanosecond and post-2038 times,
# unwritten extents, punched holes): mount it with e4fuse and with the
# kernel's ext4 (ro), and compare every entry as programs see it (fsdiff:
# names, types, modes, owners, sizes, nlink, inode numbers, blocks, all
# times to the nanosecond, xattrs and ACLs, symlink targets, contents,
# SEEK_DATA/SEEK_HOLE).
. "$(dirname "$0")/mountlib.sh"
require_mount_env
cache_dir

one() {
	local name=$1 img=$2 rc=0
	echo "---- $name"
	if ! kernel_mount "$img"; then
		record "$name (kernel mount)" 1
		return
	fi
	if fuse_start "$img"; then
		timeout 600 "$FSDIFF" "$FDIR" "$KDIR" || rc=1
		fuse_stop || rc=1
	else
		rc=1
	fi
	umount "$KDIR"
	record "$name" $rc
}

for config in $("$FIXTURES/mk-image.sh" --list); do
	# the kernel cannot mount blocks larger than a page
	"$FIXTURES/mk-image.sh" --mountable "$config" || continue
	case $config in
	# mkfs -d fills a 50,000-entry directory linearly (minutes): the
	# kernel makes the large-directory images
	largedir*) modes=kernel; kind=$(tree_for "$config" big) ;;
	*) modes="mkfs kernel"; kind=$(tree_for "$config") ;;
	esac
	# the sanitizer build's run (E4_MATRIX=quick): the kernel-populated
	# images only, which hold what mkfs -d makes and more (unwritten
	# extents, holes, nanosecond times)
	[ "${E4_MATRIX:-full}" = full ] || modes=kernel
	for mode in $modes; do
		if ! img=$(image_get "$config" "$kind" "$mode"); then
			record "$config-$mode (image)" 1
			continue
		fi
		one "$config-$mode" "$img"
	done
done
summary
