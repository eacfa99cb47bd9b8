#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Random directory operations, the same seeded sequence on an e4fuse mount
# and on the kernel's ext4 from identical images: mkdir, rmdir, creat,
# unlink, link, symlink, mknod, small writes and truncates, and renameat2
# with no flag, NOREPLACE, EXCHANGE and WHITEOUT, over a few nested
# directories and names of many lengths (so inline directories fill,
# grow their system.data and move to a block, and indexed ones split).
# Every call must give the kernel's answer, errno for errno; afterwards
# e2fsck -fn finds the image clean and the two trees, both read by the
# kernel, compare equal (fsdiff -w).  E4_NAMESPACE_OPS sets the number of
# operations (default 4000), E4_NAMESPACE_SEED the seed (default 1).
. "$(dirname "$0")/mountlib.sh"
require_mount_env

W=$(new_dir)
ops=${E4_NAMESPACE_OPS:-4000}
seed=${E4_NAMESPACE_SEED:-1}

cat > "$W/ops.py" <<'EOF'
import ctypes, errno, os, random, stat, sys

root, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
shrink_only = sys.argv[4] == "shrink"
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
FLAGS = [0, 0, 0, 1, 2, 4]	# none, RENAME_NOREPLACE, EXCHANGE, WHITEOUT

def renameat2(a, b, flags):
    if libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), flags):
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))

rnd = random.Random(seed)
# names of many lengths: a few fill an inline directory, hundreds an
# indexed one
names = ["n%d%s" % (i, "x" * (i * 7 % 40)) for i in range(300)]
dirs = [root]

def rel(p):
    return os.path.relpath(p, root)

def pick_dir():
    return rnd.choice(dirs)

def path(existing=0.6):
    d = pick_dir()
    try:	# (gone since the list was made: a new name in it)
        here = sorted(os.listdir(d)) if rnd.random() < existing else []
    except OSError:
        here = []
    if here:
        return os.path.join(d, rnd.choice(here))
    return os.path.join(d, rnd.choice(names[:rnd.choice([8, 40, 300])]))

OPS = [0] * 2 + [1] * 2 + [2] * 5 + [3] * 3 + [4] * 2 + [5] + [6] + \
      [7] * 2 + [8] + [9] * 6
for i in range(count):
    if i % 25 == 0:	# the directories there are now, in one order
        dirs = sorted(d for d, _, _ in os.walk(root)
                      if "lost+found" not in d)
    op = rnd.choice(OPS)
    a, b = path(), path(0.3)
    try:
        if op == 0:
            what = "mkdir %s" % rel(a); os.mkdir(a, 0o755)
        elif op == 1:
            what = "rmdir %s" % rel(a); os.rmdir(a)
        elif op == 2:
            what = "creat %s" % rel(a)
            os.close(os.open(a, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        elif op == 3:
            what = "unlink %s" % rel(a); os.unlink(a)
        elif op == 4:
            what = "link %s %s" % (rel(a), rel(b)); os.link(a, b)
        elif op == 5:
            what = "symlink %s" % rel(a); os.symlink(rel(b) * (1 + i % 3), a)
        elif op == 6:
            what = "mkfifo %s" % rel(a); os.mkfifo(a, 0o600)
        elif op == 7:
            what = "write %s" % rel(a)
            if stat.S_ISCHR(os.lstat(a).st_mode):	# a whiteout: FUSE
                raise OSError(errno.ENODEV, "")	# mounts are nodev
            fd = os.open(a, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK)
            try:
                os.write(fd, bytes([65 + i % 26]) * rnd.choice([5, 50, 500, 5000]))
            finally:
                os.close(fd)
        elif op == 8:
            what = "truncate %s" % rel(a)
            n = rnd.choice([0, 10, 100, 70000])
            if shrink_only:
                n = min(n, os.stat(a).st_size)
            os.truncate(a, n)
        else:
            f = rnd.choice(FLAGS)
            what = "rename%d %s %s" % (f, rel(a), rel(b)); renameat2(a, b, f)
        res = "ok"
    except OSError as e:
        res = errno.errorcode.get(e.errno, str(e.errno))
    print("%d %s: %s" % (i, what, res))
# the same times everywhere, so both trees compare on them (bottom-up:
# nothing is read after its times are set)
for d, subdirs, files in os.walk(root, topdown=False):
    for n in subdirs + files:
        os.utime(os.path.join(d, n), ns=(1600000000123456789,) * 2,
                 follow_symlinks=False)
os.utime(root, ns=(1600000000123456789,) * 2)
EOF

# one NAME MKFS_ARGS: on inline_data layouts truncates only shrink.  The
# kernel's ext4 (6.18) loses bytes appended to an inline file it grew by
# truncate (50 bytes, truncate to 100, append 5: after the unmount the 5
# read as zeros), so there it is no oracle; e4fuse keeps them.
one() {
	local name=$1 args=$2 rc=0 fimg kimg kd fd2 truncates=any
	case $args in *inline_data*) truncates=shrink ;; esac
	echo "---- $name ($args)"
	fimg=$W/$name-fuse.img
	kimg=$W/$name-kernel.img
	mkfs.ext4 -q -F $args "$fimg" 64M || { record "$name (mkfs)" 1; return; }
	cp "$fimg" "$kimg"
	if fuse_start "$fimg" -o rw; then
		python3 "$W/ops.py" "$FDIR" "$seed" "$ops" "$truncates" \
			> "$W/$name-fuse.log" ||
			rc=1
		fuse_stop || rc=1
	else
		rc=1
	fi
	kd=$(new_dir)
	if rw_loop_mount "$kimg" "$kd"; then
		python3 "$W/ops.py" "$kd" "$seed" "$ops" "$truncates" > "$W/$name-kernel.log" ||
			rc=1
		umount "$kd" || rc=1
	else
		rc=1
	fi
	if ! diff "$W/$name-kernel.log" "$W/$name-fuse.log" > "$W/diff.out"; then
		echo "$name: the calls' answers differ (kernel <, e4fuse >):"
		head -20 "$W/diff.out"
		rc=1
	fi
	grep -c ': ok$' "$W/$name-fuse.log" | sed "s/^/$name: calls that succeeded: /"
	fsck_clean "$fimg" "$W/fsck.out" || {
		echo "$name: e2fsck -fn on the e4fuse image:"; cat "$W/fsck.out"; rc=1; }
	fd2=$(new_dir)
	kd=$(new_dir)
	if private_loop_mount "$fimg" "$fd2" && private_loop_mount "$kimg" "$kd"
	then
		timeout 600 "$FSDIFF" -w "$fd2" "$kd" || rc=1
	else
		rc=1
	fi
	umount "$fd2" 2>/dev/null
	umount "$kd" 2>/dev/null
	record "$name" $rc
}

one ext4-inline "-b 4096 -I 256 -O inline_data"
one ext4-1k "-b 1024"
one ext2 "-t ext2 -b 1024"
if [ "${E4_MATRIX:-full}" = full ]; then
	one ext4-inline-1k "-b 1024 -I 512 -O inline_data,^metadata_csum"
	one ext4-4k "-b 4096"
fi
summary
