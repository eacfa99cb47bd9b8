#!/bin/bash
# SPDX-License-Identifier: MIT
#
# What no directory names (issue 15): a tree made by mkfs.ext4 -d whose
# directory /d loses blocks to dd (random bytes, or zeros without
# checksums), orphaning files, a subdirectory with its own subtree, a
# symlink, a fifo, hard links, empty files with and without an xattr.
# The oracle is e2fsck -fy on a copy: the #INO names it puts into
# /lost+found (debugfs ls), and their contents as the kernel reads the
# repaired copy.  `e4img lost` must list exactly those names, and a mount
# with -o ro,lost_found must show exactly them in its virtual directory,
# each with the same inode number, type, mode, size and bytes (trees
# compared whole) as the kernel's lost+found/#INO; `e4img cat`,
# `ls` and `extract` reach them as #INO.  A healthy image shows an empty
# virtual directory; a name the real root holds is refused, never
# shadowed; and -o lost_found needs a read-only mount.
: "${E4_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$E4_SRCDIR/tests/mount/mountlib.sh"
require_mount_env
[ -e /dev/loop-control ] || skip "no loop devices"
command -v debugfs >/dev/null || skip "missing debugfs"
E4IMG=$E4_BUILDDIR/e4img
[ -x "$E4IMG" ] || hard_error "$E4IMG not built"
VDIR=lost+found-e4fuse

W=$(new_dir)

# ---- the tree ------------------------------------------------------------
T=$W/tree
mkdir -p "$T/d/sub/subsub" "$T/keep"
python3 - "$T/d" <<'EOF' || hard_error "tree"
import os, sys
d = sys.argv[1]
for i in range(300):
    with open(os.path.join(d, "f%04d-%s" % (i, "x" * (i * 7 % 30))), "w") as f:
        f.write("file %d\n" % i * (1 + i % 5))
with open(os.path.join(d, "big"), "wb") as f:
    f.write(bytes((i * 13) & 0xff for i in range(200000)))
EOF
echo inner > "$T/d/sub/inner"
echo deep > "$T/d/sub/subsub/x"
: > "$T/d/empty"			# e2fsck deletes it: not shown
: > "$T/d/zx"				# empty, but an xattr: reconnected
setfattr -n user.keep -v this "$T/d/zx"
ln -s /etc/passwd "$T/d/link"
ln -s "/$(printf 'long%.0s' $(seq 1 60))" "$T/d/longlink"
mkfifo "$T/d/fifo"
echo hl > "$T/keep/hl"
ln "$T/keep/hl" "$T/d/hl2"		# still named from /keep
echo twice > "$T/d/both1"
ln "$T/d/both1" "$T/d/both2"		# both names lost: one #INO

# pblks IMAGE BS: the physical blocks of /d to damage: its first block,
# and every block holding one of the special names
pblks() {
	python3 - "$1" "$2" <<'EOF'
import struct, subprocess, sys
img, bs = sys.argv[1], int(sys.argv[2])
special = {b"sub", b"empty", b"zx", b"link", b"longlink", b"fifo", b"hl2",
           b"both1", b"big"}
out = set()
lblk = 0
while True:
    p = subprocess.run(["debugfs", "-R", "bmap /d %d" % lblk, img],
                       capture_output=True, text=True).stdout.strip()
    if not p.isdigit() or int(p) == 0:
        break
    with open(img, "rb") as f:
        f.seek(int(p) * bs)
        b = f.read(bs)
    off = 0
    while off + 8 <= bs:
        ino, rec_len, name_len = struct.unpack_from("<IHB", b, off)
        if rec_len < 8:
            break
        if ino and (lblk == 0 or b[off + 8:off + 8 + name_len] in special):
            out.add(int(p))
        off += rec_len
    lblk += 1
if lblk < 3:
    sys.exit("only %d blocks in /d" % lblk)
print(" ".join(str(p) for p in sorted(out)))
EOF
}

# damage IMAGE BS SOURCE: SOURCE's first block over each of those blocks
damage() {
	local p blocks
	blocks=$(pblks "$1" "$2") || hard_error "blocks of /d"
	for p in $blocks; do
		dd if="$3" of="$1" bs="$2" seek="$p" count=1 conv=notrunc \
			status=none || hard_error "dd"
	done
}

head -c 65536 /dev/urandom > "$W/random"

# the #INO names e2fsck -fy puts into /lost+found of image $1, sorted
oracle_names() {
	debugfs -R "ls /lost+found" "$1" 2>/dev/null | tr -s ' \n' '\n\n' |
		grep '^#[0-9]*$' | sort
}

# compare_lost FUSEDIR KERNELDIR NAMES: the virtual directory against the
# kernel's lost+found of the repaired copy
compare_lost() {
	python3 - "$1" "$2" "$3" <<'EOF'
import os, stat, sys
fd, kd, names = sys.argv[1], sys.argv[2], sys.argv[3]
want = [l.strip() for l in open(names) if l.strip()]
bad = []
def view(p):
    st = os.lstat(p)
    m = st.st_mode
    what = (stat.S_IFMT(m), stat.S_IMODE(m), st.st_uid, st.st_gid)
    if stat.S_ISDIR(m):
        return what + (tuple((n, view(os.path.join(p, n)))
                             for n in sorted(os.listdir(p))),)
    if stat.S_ISREG(m):
        return what + (st.st_size, open(p, "rb").read())
    if stat.S_ISLNK(m):
        return what + (os.readlink(p),)
    return what + (st.st_rdev,)
got = sorted(os.listdir(fd))
if got != sorted(want):
    bad.append("virtual directory lists %d names, e2fsck reconnected %d "
               "(extra %s, missing %s)" % (len(got), len(want),
               sorted(set(got) - set(want))[:5],
               sorted(set(want) - set(got))[:5]))
for n in sorted(set(got) & set(want)):
    f, k = os.path.join(fd, n), os.path.join(kd, n)
    if os.lstat(f).st_ino != int(n[1:]):
        bad.append("%s: st_ino %d" % (n, os.lstat(f).st_ino))
    try:
        if view(f) != view(k):
            bad.append("%s: differs from the kernel's lost+found/%s" % (n, n))
    except OSError as e:
        bad.append("%s: %s" % (n, e))
st = os.stat(fd)
if (stat.S_IMODE(st.st_mode), st.st_uid) != (0o700, 0):
    bad.append("virtual directory mode %o uid %d" %
               (stat.S_IMODE(st.st_mode), st.st_uid))
print("%d reconnected by e2fsck, %d shown" % (len(want), len(got)))
for b in bad[:10]:
    print("  " + b)
sys.exit(1 if bad else 0)
EOF
}

# e4img_views IMAGE KERNELDIR NAMES: e4img lost lists them; cat gives the
# kernel's bytes for every 10th regular file (each run scans the image
# again); extract copies each directory's tree, ls lists it
e4img_views() {
	local img=$1 kd=$2 names=$3 n i=0 ok=0
	"$E4IMG" lost "$img" 2>/dev/null | sort > "$W/e4img-lost"
	[ "${PIPESTATUS[0]}" = 0 ] || { echo "  e4img lost failed"; ok=1; }
	diff "$names" "$W/e4img-lost" > /dev/null ||
		{ echo "  e4img lost differs from e2fsck:"; diff "$names" "$W/e4img-lost" | head -5; ok=1; }
	for n in $(cat "$names"); do
		i=$((i + 1))
		if [ -f "$kd/$n" ] && [ ! -L "$kd/$n" ]; then
			[ $((i % 10)) = 1 ] || continue
			"$E4IMG" cat "$img" "$n" 2>/dev/null | cmp -s - "$kd/$n" ||
				{ echo "  e4img cat $n differs"; ok=1; }
		elif [ -d "$kd/$n" ]; then
			rm -rf "$W/x" && mkdir "$W/x"
			"$E4IMG" extract --no-progress "$img" "$n" "$W/x" 2>/dev/null ||
				{ echo "  e4img extract $n failed"; ok=1; }
			diff -r --no-dereference "$kd/$n" "$W/x" > /dev/null ||
				{ echo "  e4img extract $n differs"; ok=1; }
			"$E4IMG" ls "$img" "$n" 2>/dev/null | sort |
				cmp -s - <(ls -A "$kd/$n" | sort) ||
				{ echo "  e4img ls $n differs"; ok=1; }
		fi
	done
	return $ok
}

# run_case NAME MKFS-ARGS BS SOURCE: make, damage, check
run_case() {
	local name=$1 mkfs_args=$2 bs=$3 src=$4 img fsck ok=0
	img=$W/case.img
	fsck=$W/fsck.img
	# shellcheck disable=SC2086  # the arguments are words
	mkfs.ext4 -q -F -b "$bs" $mkfs_args -d "$T" "$img" 64M ||
		hard_error "mkfs -d ($name)"
	damage "$img" "$bs" "$src"
	cp "$img" "$fsck"
	e2fsck -fy "$fsck" > "$W/e2fsck.out" 2>&1
	[ $? -le 1 ] || { cat "$W/e2fsck.out"; hard_error "e2fsck -fy ($name)"; }
	oracle_names "$fsck" > "$W/names"
	[ "$(wc -l < "$W/names")" -ge 10 ] ||
		hard_error "e2fsck reconnected only $(wc -l < "$W/names") inodes ($name)"
	kernel_mount "$fsck" || hard_error "kernel mount ($name)"
	e4img_views "$img" "$KDIR/lost+found" "$W/names" || ok=1
	FUSE_LOG=$W/fuse.log
	: > "$FUSE_LOG"
	if fuse_start "$img" -o lost_found; then
		compare_lost "$FDIR/$VDIR" "$KDIR/lost+found" "$W/names" || ok=1
		# the real tree is still all there, the virtual directory last
		[ "$(ls -A "$FDIR" | grep -c "^$VDIR\$")" = 1 ] ||
			{ echo "  the root does not list $VDIR once"; ok=1; }
		[ -f "$FDIR/keep/hl" ] || { echo "  /keep/hl missing"; ok=1; }
		grep -q "lost_found: .* unreachable" "$FUSE_LOG" ||
			{ echo "  no summary of the scan in the log"; ok=1; }
		fuse_stop || ok=1
	else
		ok=1
	fi
	umount "$KDIR"
	record "$name" $ok
}

run_case "4 KiB blocks, metadata_csum, random bytes" "" 4096 "$W/random"
run_case "1 KiB blocks, inline_data, random bytes" "-I 256 -O inline_data" \
	1024 "$W/random"
run_case "1 KiB blocks, no checksums, zeros" "-O ^metadata_csum" 1024 /dev/zero

# ---- a healthy image: nothing is unreachable ------------------------------
img=$W/healthy.img
mkfs.ext4 -q -F -d "$T" "$img" 64M || hard_error "mkfs -d"
ok=0
out=$("$E4IMG" lost "$img" 2>&1) || { echo "  e4img lost: exit $?"; ok=1; }
[ -z "$out" ] || { echo "  e4img lost printed: $out"; ok=1; }
if fuse_start "$img" -o lost_found; then
	[ -d "$FDIR/$VDIR" ] || { echo "  no $VDIR"; ok=1; }
	[ -z "$(ls -A "$FDIR/$VDIR")" ] ||
		{ echo "  $VDIR lists: $(ls -A "$FDIR/$VDIR" | head -3)"; ok=1; }
	[ ! -e "$FDIR/$VDIR/#12" ] || { echo "  #12 found"; ok=1; }
	fuse_stop || ok=1
else
	ok=1
fi
record "a healthy image: an empty virtual directory" $ok

# ---- names: never shadowed ---------------------------------------------------
mkdir -p "$W/clash/$VDIR" && echo real > "$W/clash/$VDIR/file"
echo hash > "$W/clash/#12"
img=$W/clash.img
mkfs.ext4 -q -F -d "$W/clash" "$img" 16M || hard_error "mkfs -d"
ok=0
FUSE_LOG=$W/clash.log
: > "$FUSE_LOG"
d=$(new_dir)
timeout 20 "$E4FUSE" -f -o ro,lost_found "$img" "$d" 2>> "$FUSE_LOG" &&
	{ echo "  mounted over a real /$VDIR"; ok=1; }
is_mounted "$d" && { umount "$d"; ok=1; }
grep -q "the root has an entry named '$VDIR'" "$FUSE_LOG" ||
	{ echo "  no reason given:"; cat "$FUSE_LOG"; ok=1; }
if fuse_start "$img" -o lost_found=recovered; then
	[ "$(cat "$FDIR/$VDIR/file")" = real ] || { echo "  real /$VDIR hidden"; ok=1; }
	[ -d "$FDIR/recovered" ] || { echo "  no /recovered"; ok=1; }
	fuse_stop || ok=1
else
	ok=1
fi
# e4img: #12 is the root's real entry, written /#12; bare #12 is ambiguous
[ "$("$E4IMG" cat "$img" /#12 2>/dev/null)" = hash ] || { echo "  e4img cat /#12"; ok=1; }
"$E4IMG" cat "$img" "#12" > /dev/null 2> "$W/err" && { echo "  e4img cat #12 worked"; ok=1; }
grep -q ambiguous "$W/err" || { echo "  e4img cat #12: $(cat "$W/err")"; ok=1; }
record "a name the root holds is refused, not shadowed" $ok

# ---- only read-only ------------------------------------------------------------
ok=0
d=$(new_dir)
timeout 20 "$E4FUSE" -f -o lost_found "$img" "$d" 2> "$W/err" &&
	{ echo "  mounted read-write"; ok=1; }
is_mounted "$d" && { umount "$d"; ok=1; }
grep -q "lost_found needs a read-only mount" "$W/err" ||
	{ echo "  $(cat "$W/err")"; ok=1; }
record "lost_found on a read-write mount is refused" $ok
summary
