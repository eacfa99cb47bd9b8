#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Case-insensitive directories through a real FUSE mount.  This kernel has
# no CONFIG_UNICODE, so it cannot mount the image: debugfs makes the
# directories (mkfs.ext4 -O casefold, the flag set on empty directories,
# an htree from e2fsck -D) and e2fsck -fn judges what e4fuse wrote.
# Read-only: names found in any case and normalisation, listed as stored.
# Read-write: creating another case of a name is EEXIST, removing by
# another case removes it, and the kernel's dentry cache never answers
# for a name e4fuse would answer differently.
. "$(dirname "$0")/mountlib.sh"
require_mount_env
command -v debugfs >/dev/null || skip "missing debugfs"

W=$(new_dir)
img=$W/cf.img
mkfs.ext4 -q -F -b 1024 -O casefold "$img" 16M || hard_error "mkfs.ext4"
echo "the content" > "$W/content"
{
	echo "mkdir cf"
	echo "set_inode_field cf flags 0x40080000"
	echo "mkdir big"
	echo "set_inode_field big flags 0x40080000"
	echo "write $W/content cf/Straße"
	echo "mkdir cf/Ångström"
	for i in $(seq 1 400); do echo "write /dev/null big/Fichier-Été-$i"; done
} > "$W/cmds"
debugfs -w -f "$W/cmds" "$img" >/dev/null 2>&1 || hard_error "debugfs"
e2fsck -fyD "$img" >/dev/null 2>&1
e2fsck -fn "$img" >/dev/null 2>&1 || hard_error "the image is not clean"
debugfs -R "stat big" "$img" 2>/dev/null | grep -q 'Flags: 0x40081000' ||
	hard_error "big is not an indexed casefolded directory"

check() {	# NAME COMMAND...: one case
	local name=$1
	shift
	if "$@"; then record "$name" 0; else record "$name" 1; fi
}

FUSE_LOG=$W/fuse.log
if fuse_start "$img"; then
	check "read: Straße as STRASSE" \
		grep -qx "the content" "$FDIR/cf/STRASSE"
	check "read: as strasse" grep -qx "the content" "$FDIR/cf/strasse"
	check "stat: Ångström decomposed and in capitals" \
		test -d "$FDIR/cf/A"$'\xcc\x8a'"NGSTRO"$'\xcc\x88'"M"
	check "ls: names as stored" \
		test "$(ls "$FDIR/cf" | tr '\n' /)" = "Straße/Ångström/"
	check "missing: strass" test ! -e "$FDIR/cf/strass"
	miss=0
	for i in $(seq 1 400); do
		[ -e "$FDIR/big/FICHIER-ÉTÉ-$i" ] || miss=$((miss + 1))
	done
	check "htree: 400 names in capitals" test $miss = 0
	check "htree: listing" test "$(ls "$FDIR/big" | wc -l)" = 400
	fuse_stop || record "e4fuse: clean unmount (ro)" 1
else
	record "e4fuse mount (ro)" 1
fi

if fuse_start "$img" -o rw; then
	# a negative lookup first: its answer must not outlive the create
	check "rw: neu absent" test ! -e "$FDIR/cf/neu"
	check "rw: create Neu" sh -c "echo x > '$FDIR/cf/Neu'"
	check "rw: neu now there" test -e "$FDIR/cf/neu"
	check "rw: mkdir NEU refused" \
		sh -c "mkdir '$FDIR/cf/NEU' 2>&1 | grep -q 'File exists'"
	check "rw: exclusive create of STRASSE refused" python3 -c '
import errno, os, sys
try:
    os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
except FileExistsError:
    sys.exit(0)
sys.exit(1)' "$FDIR/cf/STRASSE"
	check "rw: remove by NEU" rm "$FDIR/cf/NEU"
	check "rw: Neu gone" test ! -e "$FDIR/cf/Neu"
	check "rw: mkdir Sub" mkdir "$FDIR/cf/Sub"
	check "rw: sub inherits: Sub/x as SUB/X" \
		sh -c "echo y > '$FDIR/cf/Sub/x' && grep -qx y '$FDIR/cf/SUB/X'"
	check "rw: chattr +F on an empty directory" \
		sh -c "mkdir '$FDIR/new' && chattr +F '$FDIR/new' &&
		       touch '$FDIR/new/Abc' && test -e '$FDIR/new/ABC'"
	check "rw: chattr +F on a non-empty one refused" \
		sh -c "mkdir '$FDIR/full' && touch '$FDIR/full/x' &&
		       ! chattr +F '$FDIR/full' 2>/dev/null &&
		       ! test -e '$FDIR/full/X'"
	for i in $(seq 1 300); do
		echo > "$FDIR/big/Neue-Datei-$i" || break
	done
	miss=0
	for i in $(seq 1 300); do
		[ -e "$FDIR/big/NEUE-DATEI-$i" ] || miss=$((miss + 1))
	done
	check "rw: 300 new names in the htree, found in capitals" test $miss = 0
	fuse_stop || record "e4fuse: clean unmount (rw)" 1
	fsck_clean "$img" "$W/fsck.out"
	rc=$?
	check "rw: e2fsck -fn clean" test $rc = 0
	[ $rc = 0 ] || cat "$W/fsck.out"
else
	record "e4fuse mount (rw)" 1
fi
summary
