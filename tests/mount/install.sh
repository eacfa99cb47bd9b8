#!/bin/bash
# SPDX-License-Identifier: MIT
#
# make install and make uninstall under DESTDIR with another prefix: the
# programs, the manual pages and the mount helper land where prefix says
# and nowhere else (the host's /sbin is never touched; the helper's
# directory follows mounthelperdir, configure --with-mount-helper-dir);
# the installed programs say their version; and the installed helper
# mounts for mount(8), both with -t fuse.e4fuse and from an fstab line
# (mount -T FILE), in a mount namespace of its own whose /sbin shows it.
. "$(dirname "$0")/mountlib.sh"
require_mount_env
cache_dir

W=$(new_dir)
D=$W/dest
P=$W/prefix	# made only inside DESTDIR; bound here in the namespace below
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$E4_BUILDDIR/config.h")
[ -n "$version" ] || hard_error "no PACKAGE_VERSION in config.h"

check() {	# check NAME CMD...: record whether CMD succeeds
	local name=$1
	shift
	if "$@"; then record "$name" 0; else record "$name" 1; fi
}
sbin_helper=$(readlink -f /sbin)/mount.fuse.e4fuse
host_helper() { stat -c '%F %N %s %Y' "$sbin_helper" 2>/dev/null || echo absent; }
before=$(host_helper)

mk() {	# mk TARGET [VAR=VALUE...]: make in the build tree, quietly
	env -u MAKEFLAGS -u MFLAGS make -s -C "$E4_BUILDDIR" "$@" \
		> "$W/make.log" 2>&1 || { cat "$W/make.log"; return 1; }
}
installed() {	# the files and links under DESTDIR, one a line
	(cd "$D" && find . ! -type d | sort)
}

# ---- the default: the helper in sbindir -------------------------------------------
check "make install DESTDIR= prefix=" mk install DESTDIR="$D" prefix="$P"
want=".$P/bin/e4fuse
.$P/bin/e4img
.$P/sbin/mount.fuse.e4fuse
.$P/share/man/man1/e4img.1
.$P/share/man/man8/e4fuse.8"
have=$(installed)
[ "$have" = "$want" ] || printf 'installed:\n%s\nwanted:\n%s\n' "$have" "$want"
check "installed files: the programs, the helper, the manual pages" test "$have" = "$want"
check "the helper links to the installed e4fuse (not under DESTDIR)" \
	test "$(readlink "$D$P/sbin/mount.fuse.e4fuse")" = "$P/bin/e4fuse"
check "nothing written at the prefix itself" test ! -e "$P"
check "e4fuse --version" test "$("$D$P/bin/e4fuse" --version | head -n 1 | cut -d' ' -f1-2)" = "e4fuse $version"
check "e4img --version" test "$("$D$P/bin/e4img" --version)" = "e4img $version"
check "e4fuse.8 is the manual of this version" \
	grep -q "^\.TH E4FUSE 8 .* \"e4fuse $version\"" "$D$P/share/man/man8/e4fuse.8"
check "e4img.1 is the manual of this version" \
	grep -q "^\.TH E4IMG 1 .* \"e4fuse $version\"" "$D$P/share/man/man1/e4img.1"
if command -v groff >/dev/null; then
	check "e4fuse.8 formats without warnings" eval \
		"[ -z \"\$(groff -man -Tutf8 -ww -z '$D$P/share/man/man8/e4fuse.8' 2>&1)\" ]"
	check "e4img.1 formats without warnings" eval \
		"[ -z \"\$(groff -man -Tutf8 -ww -z '$D$P/share/man/man1/e4img.1' 2>&1)\" ]"
fi

# ---- the installed helper, for mount(8) ----------------------------------------------
# mount(8) runs /sbin/mount.fuse.e4fuse; in the namespace /sbin shows the
# host's own programs and the installed helper, and the prefix is where
# the helper's link points.  Each failed check is one line out.
kind=$(tree_for ext4-4k)
img=$(image_get ext4-4k "$kind" kernel) || hard_error "no image"
file=kernel-only/written-3m
M1=$(new_dir) M2=$(new_dir)
cp "$img" "$W/rw.img"
kernel_mount "$img"
cp "$KDIR/$file" "$W/want"
umount "$KDIR"
cat > "$W/fstab" <<EOF
# a read-only mount, and one with the defaults (read-write)
$img	$M1	fuse.e4fuse	ro,noauto,nofail,x-comment=e4fuse	0	0
$W/rw.img	$M2	fuse.e4fuse	defaults,noauto	0	0
EOF
mkdir "$W/sbin"
for f in "$(readlink -f /sbin)"/*; do ln -s "$f" "$W/sbin/"; done
ln -sfn "$(readlink "$D$P/sbin/mount.fuse.e4fuse")" "$W/sbin/mount.fuse.e4fuse"
M3=$(new_dir)
in_private_ns '
	W=$1 D=$2 P=$3 img=$4 file=$5 M1=$6 M2=$7 M3=$8
	mkdir "$P" && mount --bind "$D$P" "$P" || { echo "bind the prefix"; exit 1; }
	mount --bind "$W/sbin" "$(readlink -f /sbin)" || { echo "bind /sbin"; exit 1; }
	until_gone() {
		for _ in $(seq 100); do
			grep -q " $1 " /proc/self/mounts || return 0
			sleep 0.1
		done
		echo "$1 still mounted"
	}
	timeout 30 mount -t fuse.e4fuse "$img" "$M3" -o ro || echo "mount -t fuse.e4fuse"
	cmp -s "$M3/$file" "$W/want" || echo "-t fuse.e4fuse: content"
	umount "$M3" && until_gone "$M3" || echo "-t fuse.e4fuse: umount"

	timeout 30 mount -T "$W/fstab" "$M1" || echo "mount -T fstab (ro line)"
	grep -q "^$img $M1 fuse.e4fuse ro," /proc/self/mounts ||
		echo "fstab ro line: not listed as a read-only fuse.e4fuse mount"
	cmp -s "$M1/$file" "$W/want" || echo "fstab ro line: content"
	umount "$M1" && until_gone "$M1" || echo "fstab ro line: umount"

	timeout 30 mount -T "$W/fstab" "$M2" || echo "mount -T fstab (defaults line)"
	grep -q "^$W/rw.img $M2 fuse.e4fuse rw," /proc/self/mounts ||
		echo "fstab defaults line: not listed as a read-write mount"
	echo written > "$M2/new-file" || echo "fstab defaults line: write"
	umount "$M2" && until_gone "$M2" || echo "fstab defaults line: umount"
' _ "$W" "$D" "$P" "$img" "$file" "$M1" "$M2" "$M3" > "$W/failures" 2>&1
cat "$W/failures"
check "the installed helper: mount -t fuse.e4fuse, and mount -T FSTAB for a ro and a defaults line" \
	test ! -s "$W/failures"
check "the defaults line wrote to its image" \
	eval "[ \"\$('$E4_BUILDDIR/e4img' cat '$W/rw.img' /new-file)\" = written ]"
check "and the image is clean" fsck_clean "$W/rw.img" "$W/fsck.out"

check "make uninstall DESTDIR= prefix=" mk uninstall DESTDIR="$D" prefix="$P"
check "uninstall leaves no file" test -z "$(installed)"

# ---- the helper's directory: configure --with-mount-helper-dir=/sbin ----------------
rm -rf "$D"
check "make install mounthelperdir=/sbin" \
	mk install DESTDIR="$D" prefix="$P" mounthelperdir=/sbin
check "the helper in DESTDIR/sbin" \
	test "$(readlink "$D/sbin/mount.fuse.e4fuse")" = "$P/bin/e4fuse"
check "no helper in sbindir then" test ! -e "$D$P/sbin/mount.fuse.e4fuse"
check "make uninstall mounthelperdir=/sbin" \
	mk uninstall DESTDIR="$D" prefix="$P" mounthelperdir=/sbin
check "uninstall leaves no file" test -z "$(installed)"
check "the host's /sbin untouched" test "$(host_helper)" = "$before"
summary
