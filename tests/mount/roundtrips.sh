#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The requests the kernel sends a read-only mount, counted in the debug
# log (one line per request): what can go without a round trip does.
#   - files and directories open without OPEN/OPENDIR, FLUSH or RELEASE
#     once the first OPEN and FLUSH were declined (ENOSYS), and the page
#     cache is still kept across opens;
#   - a second `ls -lR` sends no LOOKUP, GETATTR, READDIR or OPENDIR;
#   - a plain `find` does not get attributes for every entry (a stat
#     afterwards has to look names up), but once names listed without
#     them are looked up, the next directory comes with them, and
#     `find | xargs stat` there sends no LOOKUP;
#   - stat asks for the birth time with one STATX per file; with
#     -o nobtime the first is declined and no other is sent (and stat
#     shows no birth time);
#   - a read-write mount still opens files with OPEN, but FLUSH is
#     declined there too (written data needs nothing at close).
. "$(dirname "$0")/mountlib.sh"
require_mount_env

W=$(new_dir)
mkdir -p "$W/tree"
for d in d1 d2 d3; do
	mkdir "$W/tree/$d"
	for i in $(seq 100 699); do echo "$d $i" > "$W/tree/$d/f-$i"; done
done
mkfs.ext4 -q -F -b 4096 -d "$W/tree" "$W/ro.img" 32M
cp "$W/ro.img" "$W/rw.img"

log=$W/debug.log
mark=0
# segment: start counting the requests logged from now on
segment() {
	mark=$(wc -l < "$log")
}
# count OPCODE...: requests of these kinds since the last segment
count() {
	local ops
	ops=$(printf '%s|' "$@")
	tail -n +"$((mark + 1))" "$log" |
		grep -aEc "req [0-9]+ (${ops%|}) node"
}

# check NAME WANT OPCODE...: exactly WANT such requests in this segment
check() {
	local name=$1 want=$2 got
	shift 2
	got=$(count "$@")
	echo "$name: $* sent $got times (want $want)"
	[ "$got" = "$want" ]; record "$name" $?
}

# ---- opening without OPEN, FLUSH or RELEASE ---------------------------------------
: > "$log"
if FUSE_LOG=$log fuse_start "$W/ro.img" -o debug; then
	M=$FDIR
	cat "$M/d1/f-100" > /dev/null
	segment
	ok=0
	for i in $(seq 101 119); do
		[ "$(cat "$M/d1/f-$i")" = "d1 $i" ] || ok=1
	done
	record "no open: contents" $ok
	check "no open: 19 files read" 0 OPEN FLUSH RELEASE
	check "no open: each file read once" 19 READ
	segment
	cat "$M/d1/f-101" "$M/d1/f-102" > /dev/null
	check "no open: page cache kept across opens" 0 READ OPEN
	ls "$M/d1" > /dev/null
	segment
	ls "$M/d1" > /dev/null
	check "no opendir: a directory listed again" 0 OPENDIR RELEASEDIR \
		READDIR READDIRPLUS

	# ---- a second walk is free ------------------------------------------------------
	ls -lR "$M" > /dev/null
	segment
	ls -lR "$M" > /dev/null
	check "second ls -lR" 0 LOOKUP GETATTR STATX OPENDIR READDIR READDIRPLUS
	fuse_stop || record "umount" 1
else
	record "mount" 1
fi

# ---- READDIRPLUS with attributes when they are used --------------------------------
: > "$log"
if FUSE_LOG=$log fuse_start "$W/ro.img" -o debug; then
	M=$FDIR
	find "$M/d2" > /dev/null
	segment
	find "$M/d2" -print0 | xargs -0 stat > /dev/null
	got=$(count LOOKUP)
	echo "plain find, then stat: $got LOOKUPs"
	[ "$got" -gt 100 ]; record "plain find: not every entry with attributes" $?
	stat "$M/d3" > /dev/null
	segment
	find "$M/d3" -print0 | xargs -0 stat > /dev/null
	check "find | xargs stat after stats: with attributes" 0 LOOKUP
	fuse_stop || record "umount" 1
else
	record "mount" 1
fi

# ---- the birth time costs a STATX per file; nobtime declines it once --------------
for opt in btime nobtime; do
	extra=ro
	[ $opt = nobtime ] && extra=nobtime
	: > "$log"
	if FUSE_LOG=$log fuse_start "$W/ro.img" -o "debug,$extra"; then
		M=$FDIR
		find "$M/d3" > /dev/null
		stat "$M/d3" > /dev/null
		find "$M/d3" -print0 | xargs -0 stat > /dev/null
		segment
		find "$M/d1" -print0 | xargs -0 stat > /dev/null
		birth=$(stat -c %w "$M/d1/f-100")
		size=$(stat -c %s "$M/d1/f-100")
		[ "$size" = 7 ]; record "$opt: stat's size" $?
		if [ $opt = nobtime ]; then
			check "nobtime: find | xargs stat" 0 STATX
			[ "$birth" = "-" ]; record "nobtime: no birth time shown" $?
		else
			got=$(count STATX)
			echo "btime: find | xargs stat sent $got STATX (want 601)"
			[ "$got" = 601 ]; record "btime: one STATX per file" $?
			[ "$birth" != "-" ]; record "btime: birth time shown" $?
		fi
		fuse_stop || record "umount" 1
	else
		record "mount $opt" 1
	fi
done

# ---- read-write: OPEN as before ---------------------------------------------------
: > "$log"
if FUSE_LOG=$log fuse_start "$W/rw.img" -o rw,debug; then
	segment
	cat "$FDIR/d1/f-100" "$FDIR/d1/f-101" "$FDIR/d1/f-102" > /dev/null
	check "read-write: files opened with OPEN" 3 OPEN
	echo new > "$FDIR/d1/new"
	cp "$FDIR/d1/f-100" "$FDIR/d1/copy"
	sleep 0.5	# the last lines logged after their replies
	check "read-write: FLUSH declined once (6 closes)" 1 FLUSH
	fuse_stop || record "umount" 1
	e2fsck -fn "$W/rw.img" > /dev/null 2>&1
	record "read-write: e2fsck -fn clean" $?
	if kernel_mount "$W/rw.img"; then
		[ "$(cat "$KDIR/d1/new")" = new ] &&
			cmp -s "$KDIR/d1/copy" "$KDIR/d1/f-100"
		record "read-write: the kernel reads what was written" $?
		umount "$KDIR"
	else
		record "kernel mount" 1
	fi
else
	record "mount rw" 1
fi
summary
