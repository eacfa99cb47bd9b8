#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Several processes read one e4fuse mount at once (every entry, every byte,
# xattrs), from a cold and then a warm cache: each must see exactly what the
# kernel's ext4 sees.
. "$(dirname "$0")/mountlib.sh"
require_mount_env
cache_dir

NPROC=6
for config in ext4-4k ext4-1k; do
	kind=$(tree_for "$config")
	img=$(image_get "$config" "$kind" kernel) || { record "$config image" 1; continue; }
	kernel_mount "$img" || { record "$config kernel mount" 1; continue; }
	if ! fuse_start "$img"; then
		record "$config mount" 1
		umount "$KDIR"
		continue
	fi
	for round in cold warm; do
		pids=""
		for i in $(seq $NPROC); do
			timeout 600 "$FSDIFF" -q -n "$FDIR" "$KDIR" > "$CACHE/conc.$$.$i" 2>&1 &
			pids="$pids $!"
		done
		rc=0
		for p in $pids; do wait "$p" || rc=1; done
		[ $rc = 0 ] || cat "$CACHE"/conc.$$.*
		rm -f "$CACHE"/conc.$$.*
		record "$config: $NPROC concurrent readers ($round)" $rc
	done
	# and big sequential reads of one file from all of them
	f=kernel-only/written-3m
	want=$(md5sum < "$KDIR/$f")
	pids=""
	for i in $(seq $NPROC); do
		(for _ in 1 2 3; do
			[ "$(md5sum < "$FDIR/$f")" = "$want" ] || exit 1
		 done) &
		pids="$pids $!"
	done
	rc=0
	for p in $pids; do wait "$p" || rc=1; done
	record "$config: $NPROC readers of one file" $rc
	fuse_stop
	record "$config: clean unmount after concurrent use" $?
	umount "$KDIR"
done
summary
