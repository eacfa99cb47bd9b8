#!/bin/bash
# SPDX-License-Identifier: MIT
#
# fsx through a read-write mount: one file and a model of it in memory;
# random writes (some through O_APPEND), shared-mmap writes and reads,
# truncates up and down, and fallocate in every mode (allocate, keep-size,
# punch, zero, collapse, insert: the last two only where the kernel's FUSE
# passes them on, which it does not do today) with ext4's errno where a
# mode does not apply; after each operation a random range is read and checked against
# the model, and the whole file now and then.  The kernel's page cache sits
# in between (and twice the writeback cache: -o writeback_cache), so this
# is what an application sees.  At the end: unmount, e2fsck -fn clean, and the
# kernel's ext4 reads back exactly the model.  A fixed set of seeds;
# E4_FSX_MOUNT_OPS sets the operations per run (default 2000).
. "$(dirname "$0")/mountlib.sh"
require_mount_env

W=$(new_dir)
ops=${E4_FSX_MOUNT_OPS:-2000}

# run NAME MKFS_ARGS GRANULE SEED [e4fuse options]: GRANULE, the cluster
# (what collapse and insert move by)
run() {
	local name=$1 args=$2 granule=$3 seed=$4 rc=0 kd
	shift 4
	local img=$W/$name.img
	mkfs.ext4 -q -F $args "$img" 64M || { record "$name (mkfs)" 1; return; }
	if fuse_start "$img" -o rw "$@"; then
		python3 - "$FDIR/file" "$W/$name.model" "$seed" "$ops" \
			"$granule" <<'EOF' || rc=1
import ctypes, errno, mmap, os, random, sys

path, model_path = sys.argv[1], sys.argv[2]
seed, nops, BS = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
KEEP, PUNCH, COLLAPSE, ZERO, INSERT = 1, 2, 8, 0x10, 0x20
MAX = 8 << 20
shifts = True      # whether the kernel sends COLLAPSE and INSERT at all
rnd = random.Random(seed)
model = bytearray()
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
afd = os.open(path, os.O_WRONLY | os.O_APPEND)
log = []

def fail(msg):
    print("seed %d, op %d: %s" % (seed, len(log), msg))
    print("last operations:", log[-8:])
    sys.exit(1)

def fallocate(mode, off, length):
    if libc.fallocate(fd, mode, off, length) != 0:
        return ctypes.get_errno()
    return 0

def zeros_to(n):
    if len(model) < n:
        model.extend(bytes(n - len(model)))

def check(off, length):
    data = os.pread(fd, length, off)
    want = bytes(model[off:off + length])
    if data != want:
        bad = next((i for i in range(min(len(data), len(want))) if data[i] != want[i]),
                   min(len(data), len(want)))
        fail("read %d+%d: differs at %d (got %d bytes, want %d)"
             % (off, length, off + bad, len(data), len(want)))
    st = os.fstat(fd)
    if st.st_size != len(model):
        fail("size %d, want %d" % (st.st_size, len(model)))

def data(n):
    return rnd.randbytes(n)

def aligned(x):
    return x - x % BS

for i in range(nops):
    size = len(model)
    op = rnd.randrange(12)
    off = rnd.randrange(0, max(size, 1) + (256 << 10))
    off = min(off, MAX - 1)
    length = min(rnd.choice([1, 7, 512, 4096, 5000, 65536, 300000]), MAX - off)
    log.append((op, off, length))
    if op <= 2:                                   # pwrite
        b = data(length)
        if os.pwrite(fd, b, off) != length:
            fail("short pwrite")
        zeros_to(off)
        model[off:off + length] = b
    elif op == 3:                                 # append
        if size + length > MAX:
            continue
        b = data(length)
        os.write(afd, b)
        model.extend(b)
    elif op == 4:                                 # truncate
        n = rnd.randrange(0, MAX // 2)
        os.ftruncate(fd, n)
        if n < size:
            del model[n:]
        else:
            zeros_to(n)
    elif op == 5 and size:                        # shared mmap write
        m = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        o = rnd.randrange(size)
        n = min(length, size - o)
        b = data(n)
        m[o:o + n] = b
        model[o:o + n] = b
        if rnd.randrange(2):
            m.flush()
        m.close()
    elif op == 6 and size:                        # mmap read
        m = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ)
        o = rnd.randrange(size)
        if m[o:o + length] != bytes(model[o:o + length]):
            fail("mmap read %d+%d differs" % (o, length))
        m.close()
    elif op == 7:                                 # allocate, maybe keep size
        mode = rnd.choice([0, KEEP])
        err = fallocate(mode, off, length)
        if err:
            fail("fallocate %d: errno %d" % (mode, err))
        if mode == 0:
            zeros_to(off + length)
    elif op == 8:                                 # punch a hole
        err = fallocate(PUNCH | KEEP, off, length)
        if err:
            fail("punch: errno %d" % err)
        end = min(off + length, size)
        if off < end:
            model[off:end] = bytes(end - off)
    elif op == 9:                                 # zero a range
        mode = rnd.choice([ZERO, ZERO | KEEP])
        err = fallocate(mode, off, length)
        if err:
            fail("zero %d: errno %d" % (mode, err))
        end = min(off + length, size) if mode & KEEP else off + length
        zeros_to(end)
        if off < end:
            model[off:end] = bytes(end - off)
    elif op == 10 and shifts:                     # collapse a range
        o, n = aligned(off), max(aligned(length), BS)
        err = fallocate(COLLAPSE, o, n)
        if err == errno.EOPNOTSUPP:
            print("note: the kernel does not pass COLLAPSE_RANGE/INSERT_RANGE to FUSE")
            shifts = False
        elif o + n >= size:                         # must end inside the file
            if err != errno.EINVAL:
                fail("collapse past the end: errno %d, want EINVAL" % err)
        elif err:
            fail("collapse %d+%d: errno %d" % (o, n, err))
        else:
            del model[o:o + n]
        if err == 0 and fallocate(COLLAPSE, o + 1, BS) != errno.EINVAL:
            fail("unaligned collapse: not EINVAL")
    elif op == 11 and shifts:                     # insert a range
        o, n = aligned(off), max(aligned(length), BS)
        if size + n > MAX:
            continue
        err = fallocate(INSERT, o, n)
        if err == errno.EOPNOTSUPP:
            print("note: the kernel does not pass COLLAPSE_RANGE/INSERT_RANGE to FUSE")
            shifts = False
        elif o >= size:                             # must start inside
            if err != errno.EINVAL:
                fail("insert past the end: errno %d, want EINVAL" % err)
        elif err:
            fail("insert %d+%d: errno %d" % (o, n, err))
        else:
            model[o:o] = bytes(n)
    if model and rnd.randrange(4) == 0:
        o = rnd.randrange(len(model))
        check(o, rnd.choice([1, 4096, 70000]))
    if i % 200 == 199:
        check(0, len(model))
        os.fsync(fd)
check(0, len(model))
os.close(afd)
os.close(fd)
open(model_path, "wb").write(model)
EOF
		fuse_stop || rc=1
	else
		rc=1
	fi
	fsck_clean "$img" "$W/fsck.out" || {
		echo "$name: e2fsck -fn:"; cat "$W/fsck.out"; rc=1; }
	kd=$(new_dir)
	if [ $rc = 0 ] && private_loop_mount "$img" "$kd"; then
		cmp "$kd/file" "$W/$name.model" || { echo "$name: the kernel reads another file"; rc=1; }
		umount "$kd"
	else
		rc=1
	fi
	record "$name: $ops operations, seed $seed" $rc
}

run fsx-4k "-b 4096" 4096 1
run fsx-bigalloc "-b 4096 -O bigalloc -C 16384" 16384 3
run fsx-wbc-1k "-b 1024" 1024 5 -o writeback_cache
# the sanitizer build's run (E4_MATRIX=quick) stops here
if [ "${E4_MATRIX:-full}" = full ]; then
	run fsx-1k "-b 1024" 1024 2
	run fsx-wbc-4k "-b 4096" 4096 4 -o writeback_cache
fi
summary
