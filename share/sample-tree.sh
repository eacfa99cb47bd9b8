#!/bin/sh
# SPDX-License-Identifier: MIT
# share/sample-tree.sh DEST: the sample tree of demo.sh and
# tests/integration/e4img.sh, made in DEST (which must not exist) from
# share/sample-tree.  Made, not used in place, so that it is the same tree
# however the sources were unpacked: files 0644 and directories 0755
# whatever the umask (a checkout with umask 002 has 0664 files) and
# however make distcheck leaves the modes (read-only); and its symlink is
# made here, as make dist's tar (tar -h) would store a shipped one as a
# hard link.
set -eu
[ $# = 1 ] || { echo "usage: $0 DEST" >&2; exit 2; }
dest=$1
[ ! -e "$dest" ] || { echo "$0: $dest exists" >&2; exit 1; }
cp -R "$(dirname "$0")/sample-tree" "$dest"
find "$dest" -type d -exec chmod 0755 {} +
find "$dest" -type f -exec chmod 0644 {} +
ln -s ../hello.txt "$dest/docs/hello-link"
