#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Several processes at once on one read-write e4fuse mount: creating,
# writing, renaming (within and across three shared directories, over
# each other's files), linking and removing, for a fixed time.  The server
# must neither crash nor hang; after the unmount e2fsck -fn finds the image
# clean and the kernel reads every file that is left, with a size that is
# one its writer wrote.  E4_STRESS_SECONDS sets the time (default 20).
. "$(dirname "$0")/mountlib.sh"
require_mount_env

W=$(new_dir)
secs=${E4_STRESS_SECONDS:-20}
img=$W/stress.img
mkfs.ext4 -q -F -b 4096 "$img" 256M
rc=0
if fuse_start "$img" -o rw; then
	mkdir "$FDIR/a" "$FDIR/b" "$FDIR/c"
	python3 - "$FDIR" "$secs" <<'EOF' || rc=1
import os, random, sys, time, errno
from multiprocessing import Process

root, secs = sys.argv[1], float(sys.argv[2])
dirs = [os.path.join(root, d) for d in "abc"]
OK = {errno.ENOENT, errno.EEXIST, errno.ENOTEMPTY, errno.EISDIR,
      errno.ENOTDIR}

def worker(n):
    rnd = random.Random(n)
    end = time.time() + secs
    while time.time() < end:
        d = rnd.choice(dirs)
        name = os.path.join(d, "f%d" % rnd.randrange(60))
        op = rnd.randrange(6)
        try:
            if op == 0:
                # sizes a writer writes: a multiple of 4099 bytes
                with open(name, "wb") as f:
                    f.write(b"%c" % (65 + n) * (4099 * rnd.randrange(1, 20)))
            elif op == 1:
                os.rename(name, os.path.join(rnd.choice(dirs),
                                             "f%d" % rnd.randrange(60)))
            elif op == 2:
                os.unlink(name)
            elif op == 3:
                os.link(name, os.path.join(rnd.choice(dirs),
                                           "l%d" % rnd.randrange(60)))
            elif op == 4:
                os.mkdir(os.path.join(d, "d%d" % rnd.randrange(10)))
            else:
                os.rmdir(os.path.join(d, "d%d" % rnd.randrange(10)))
        except OSError as e:
            if e.errno not in OK:
                print("worker %d: %s" % (n, e))
                sys.exit(1)

ps = [Process(target=worker, args=(n,)) for n in range(6)]
for p in ps: p.start()
for p in ps: p.join()
sys.exit(1 if any(p.exitcode for p in ps) else 0)
EOF
	fuse_stop || rc=1
else
	rc=1
fi
fsck_clean "$img" "$W/fsck.out" || { cat "$W/fsck.out"; rc=1; }
kd=$(new_dir)
if private_loop_mount "$img" "$kd"; then
	for f in "$kd"/*/f* "$kd"/*/l*; do
		[ -f "$f" ] || continue
		n=$(stat -c %s "$f")
		[ $((n % 4099)) = 0 ] || { echo "$f: size $n"; rc=1; }
		cat "$f" > /dev/null || rc=1
	done
	umount "$kd"
else
	rc=1
fi
record "six processes, $secs s" $rc
summary
