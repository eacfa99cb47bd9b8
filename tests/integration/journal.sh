#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Journal replay, end to end: images made dirty by the kernel (loop mount,
# changes, then a crash: the image copied while still mounted, or
# `xfs_io -x -c 'shutdown -f'`) must read, through the library (and e4fuse
# when it is built), exactly what the kernel reads after replaying a copy
# itself; the dirty image's bytes never change; --norecovery shows the
# unreplayed image.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (loop mounts)"
for t in mkfs.ext4 dumpe2fs xfs_io setfattr getfattr md5sum; do
	command -v $t >/dev/null || skip "missing $t"
done
[ -e /dev/loop-control ] || skip "no loop devices"
E4IMG=$E4_BUILDDIR/e4img
E4FUSE=$E4_BUILDDIR/e4fuse
[ -x "$E4IMG" ] || hard_error "$E4IMG not built"

WORK=$(mktemp -d /tmp/e4journal.XXXXXX)
cleanup() {
	lib_cleanup
	rm -rf "$WORK"
}
trap cleanup EXIT

# Phase 1 is synced (in place); phase 2 is only committed to the journal
# (fsync) when the crash comes.
phase1() {
	mkdir d dd big
	for i in $(seq 1 60); do echo "file $i" > d/f$i; done
	# a directory with an htree
	for i in $(seq 1 300); do : > "dd/entry-with-a-long-name-$i"; done
	head -c 1000000 /dev/urandom > big/data
	head -c 200000 /dev/urandom > big/tail
	echo keep > keep
	ln keep keep.hard
	setfattr -n user.old -v old d/f10
}

phase2() {
	cp d/f1 d/c1
	mv d/f2 d/moved
	mv -f d/f5 d/f6				# rename over an existing file
	rm d/f3 dd/entry-with-a-long-name-7
	rm -rf dd/entry-with-a-long-name-2*	# 11 entries of the htree
	setfattr -n user.x -v hello d/f4
	setfattr -x user.old d/f10
	setfattr -n user.big -v "$(head -c 900 /dev/zero | tr '\0' v)" d/f11	# xattr block
	truncate -s 5000 big/tail
	dd if=/dev/urandom of=big/data bs=4096 seek=10 count=3 conv=notrunc status=none
	fallocate -l 1M big/falloc 2>/dev/null || :
	mkdir new
	echo late > new/late
	ln -s ../keep new/link
	ln keep new/keep.hard2
	rmdir big/../dd/. 2>/dev/null || :	# not empty: stays
	touch -d '2031-02-03 04:05:06.123456789' new/late
	xfs_io -c fsync d/c1 new/late big/data big/tail d/f11
	xfs_io -c fsync . d dd new
}

# make_dirty IMG "mkfs args" "mount opts" copy|shutdown
make_dirty() {
	local img=$1 mk=$2 mo=$3 mode=$4 m=$WORK/mnt
	mkdir -p "$m"
	# shellcheck disable=SC2086
	mkfs.ext4 -q -F $mk "$img" 64M >/dev/null 2>&1 || return 1
	mount -o "loop${mo:+,$mo}" "$img" "$m" || return 1
	(cd "$m" && phase1) && sync && (cd "$m" && phase2) || { umount "$m"; return 1; }
	if [ "$mode" = copy ]; then
		cp --sparse=always "$img" "$img.crash"
		umount "$m" && mv "$img.crash" "$img"
	else
		xfs_io -x -c 'shutdown -f' "$m"
		umount "$m"
	fi
	dumpe2fs -h "$img" 2>/dev/null | grep -q '^Filesystem features:.*needs_recovery'
}

# kernel_replay IMG -> mount point of a kernel-replayed copy, read-only
kernel_replay() {
	local copy=$1.kernel m
	cp --sparse=always "$1" "$copy"
	m=$(mktemp -d "$WORK/kref.XXXXXX")
	# the kernel replays only on a writable device
	mount -o loop "$copy" "$m" && umount "$m" || return 1
	mount -o loop,ro "$copy" "$m" || return 1
	echo "$m" >>"$mounts_file"
	echo "$m"
}

# Without tree_compare: names, modes, sizes, times and contents through
# e4img against the kernel's view.
compare_e4img() {
	local img=$1 ref=$2 rc=0 p t
	while IFS= read -r -d '' p; do
		p=${p#"$ref"}
		[ -z "$p" ] && continue
		t=$(stat -c %F "$ref$p")
		case $t in
		"regular file"|"regular empty file")
			if ! "$E4IMG" cat "$img" "$p" 2>/dev/null | cmp -s - "$ref$p"; then
				echo "MISMATCH $p: content"; rc=1
			fi ;;
		"symbolic link")
			;;
		esac
	done < <(find "$ref" -print0)
	# the listings: name, type+mode, size (no directory sizes: same image)
	diff <(cd "$ref" && find . -mindepth 1 ! -name lost+found -printf '%P %M %s\n' | sort) \
	     <("$E4IMG" ls -lR "$img" / 2>/dev/null | awk '
		/^\/.*:$/ { dir = substr($0, 2, length($0) - 2); next }
		NF >= 8 { name = $8; for (i = 9; i <= NF; i++) name = name " " $i
			  sub(/ -> .*/, "", name)
			  p = (dir == "" ? "" : dir "/") name
			  if (p != "lost+found" && p !~ /^lost\+found\//) print p, $1, $5 }' | sort) ||
		rc=1
	return $rc
}

# rw_recovery NAME IMG REF: a read-write mount of a copy recovers the
# journal onto it, as a kernel mount does: what it serves, and what the
# kernel reads of the copy afterwards, is the kernel's replay; e2fsck finds
# it clean, needs_recovery gone, the log empty.
rw_recovery() {
	local name=$1 rw=$2.rw ref=$3 fm pid i rc=0
	cp --sparse=always "$2" "$rw"
	fm=$(mktemp -d "$WORK/fuse.XXXXXX")
	"$E4FUSE" -f "$rw" "$fm" 2> "$WORK/fuse-rw.err" &
	pid=$!
	for i in $(seq 1 100); do
		mountpoint -q "$fm" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	if ! mountpoint -q "$fm"; then
		cat "$WORK/fuse-rw.err"
		record "$name: e4fuse mounts the dirty image read-write" 1
		wait $pid
		return
	fi
	echo "$fm" >>"$mounts_file"
	grep -q 'journal: recovered onto the image' "$WORK/fuse-rw.err" || rc=1
	diff -r --no-dereference "$ref" "$fm" || rc=1
	diff <(cd "$ref" && find . -printf '%P %M %s %n %U %G %T@ %l\n' | sort) \
	     <(cd "$fm" && find . -printf '%P %M %s %n %U %G %T@ %l\n' | sort) || rc=1
	record "$name: read-write mount recovers = kernel replay" $rc
	kumount "$fm"
	wait $pid
	record "$name: e4fuse read-write exits 0" $?
	e2fsck -fn "$rw" > "$WORK/fsck.out" 2>&1
	rc=$?
	[ $rc = 0 ] || cat "$WORK/fsck.out"
	record "$name: recovered image: e2fsck -fn clean" $rc
	dumpe2fs -h "$rw" 2>/dev/null | grep -q '^Filesystem features:.*needs_recovery'
	[ $? = 1 ] && dumpe2fs -h "$rw" 2>/dev/null | grep -q '^Journal start: *0$'
	record "$name: recovered image: needs_recovery clear, log empty" $?
	fm=$(mktemp -d "$WORK/krw.XXXXXX")
	if mount -o loop,ro "$rw" "$fm"; then
		echo "$fm" >>"$mounts_file"
		diff -r --no-dereference "$ref" "$fm" &&
			diff <(cd "$ref" && find . -printf '%P %M %s %n %U %G %T@ %l\n' | sort) \
			     <(cd "$fm" && find . -printf '%P %M %s %n %U %G %T@ %l\n' | sort)
		record "$name: the kernel reads the recovered image as its replay" $?
		kumount "$fm"
	else
		record "$name: the kernel mounts the recovered image" 1
	fi
	rm -f "$rw"
}

run_case() {
	local name=$1 mk=$2 mo=$3 mode=$4 img ref sum rc
	img=$WORK/$name.img
	echo "==== $name: mkfs $mk, mount ${mo:-defaults}, crash by $mode"
	if ! make_dirty "$img" "$mk" "$mo" "$mode"; then
		record "$name: make a dirty image" 1
		return
	fi
	dumpe2fs -h "$img" 2>/dev/null | grep -E '^Journal (features|start|sequence)'
	sum=$(md5sum < "$img")
	if ! ref=$(kernel_replay "$img"); then
		record "$name: kernel replay of a copy" 1
		return
	fi
	if [ -x "$TREE_COMPARE" ]; then
		"$TREE_COMPARE" --ref=kernel "$img" "$ref"
		rc=$?
	else
		compare_e4img "$img" "$ref"
		rc=$?
	fi
	record "$name: library replay = kernel replay" $rc
	[ "$(md5sum < "$img")" = "$sum" ]
	record "$name: image unchanged after the library read it" $?

	# e4img shows the replayed view; --norecovery the image as it is
	"$E4IMG" ls -lR "$img" / > "$WORK/replayed.ls" 2>/dev/null
	"$E4IMG" --norecovery ls -lR "$img" / > "$WORK/raw.ls" 2> "$WORK/raw.err"
	grep -q 'norecovery: the journal is not replayed' "$WORK/raw.err"
	record "$name: --norecovery warns" $?
	if [ "$mode" = copy ]; then
		# phase 2 is only in the journal: /new is missing without replay
		grep -q '^/new:$' "$WORK/replayed.ls" && ! grep -q '^/new:$' "$WORK/raw.ls"
		record "$name: --norecovery shows the unreplayed image" $?
	fi

	if "$E4FUSE" --help 2>&1 | grep -qi usage; then
		local fm
		fm=$(mktemp -d "$WORK/fuse.XXXXXX")
		if "$E4FUSE" "$img" "$fm" -o ro 2> "$WORK/fuse.err"; then
			echo "$fm" >>"$mounts_file"
			diff -r --no-dereference "$ref" "$fm" &&
				diff <(cd "$ref" && find . -printf '%P %M %s %n %U %G %T@ %l\n' | sort) \
				     <(cd "$fm" && find . -printf '%P %M %s %n %U %G %T@ %l\n' | sort) &&
				diff <(cd "$ref" && find . -print0 | sort -z | xargs -0 getfattr -h -d -m - 2>/dev/null) \
				     <(cd "$fm" && find . -print0 | sort -z | xargs -0 getfattr -h -d -m - 2>/dev/null)
			record "$name: e4fuse mount = kernel replay" $?
			kumount "$fm"
			if [ "$mode" = copy ]; then
				fm=$(mktemp -d "$WORK/fuse.XXXXXX")
				if "$E4FUSE" "$img" "$fm" -o ro,norecovery 2> "$WORK/fuse.err"; then
					echo "$fm" >>"$mounts_file"
					[ -d "$fm/keep" ] || [ -f "$fm/keep" ] && [ ! -e "$fm/new" ]
					record "$name: e4fuse -o norecovery shows the unreplayed image" $?
					kumount "$fm"
				else
					cat "$WORK/fuse.err"
					record "$name: e4fuse -o norecovery mounts" 1
				fi
			fi
			[ "$(md5sum < "$img")" = "$sum" ]
			record "$name: image unchanged after the e4fuse mount" $?
			rw_recovery "$name" "$img" "$ref"
		else
			cat "$WORK/fuse.err"
			record "$name: e4fuse mounts the dirty image" 1
		fi
	else
		echo "SKIP: $name: e4fuse not built yet (no usage from --help)"
	fi
	kumount "$ref"
	rm -f "$img" "$img.kernel"
}

run_case v3-copy "-b 4096" "" copy
run_case v3-shutdown "-b 4096" "" shutdown
run_case datajournal-copy "-b 4096" "data=journal" copy
run_case 1k-32bit-copy "-b 1024 -O ^64bit" "" copy
run_case nocsum-copy "-O ^metadata_csum" "" copy
run_case nocsum-32bit-shutdown "-O ^metadata_csum,^64bit" "" shutdown
run_case v1csum-copy "-O ^metadata_csum" "journal_checksum" copy
run_case v1csum-dj-1k-copy "-b 1024 -O ^metadata_csum" "journal_checksum,data=journal" copy
run_case inline-copy "-b 4096 -O inline_data" "" copy
summary
