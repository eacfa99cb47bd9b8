#!/bin/sh
# Install what is missing, build e4fuse, make a demo ext4 image from the
# bundled sample tree and mount it at ./demo/mnt (as root).
set -eu
cd "$(dirname "$0")"
./scripts/install-deps.sh
if [ ! -x ./e4fuse ] || [ ! -x ./e4img ]; then
	./autogen.sh >/dev/null 2>&1
	./configure -q
	make -j"$(nproc)" >/dev/null
fi
mkdir -p demo/mnt
if mountpoint -q demo/mnt; then umount demo/mnt; fi
rm -rf demo/demo.img demo/tree
./share/sample-tree.sh demo/tree
mkfs.ext4 -q -F -L e4demo -d demo/tree demo/demo.img 16M
./e4fuse -o ro demo/demo.img demo/mnt
echo "demo image mounted at $(pwd)/demo/mnt:"
ls -lR demo/mnt
echo
echo "unmount with: umount $(pwd)/demo/mnt"
