#!/bin/sh
# Install what building and testing e4fuse needs on Debian 12 (run as root).
# Skips apt entirely when everything is already there.
set -eu
PKGS="build-essential autoconf automake pkg-config linux-libc-dev libcmocka-dev libxxhash-dev
      e2fsprogs fuse3 fuse2fs xfsprogs zstd attr acl util-linux python3 kmod
      fdisk gdisk unicode-data musl-tools"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	if [ "$(id -u)" != 0 ]; then
		echo "run as root (or install:$missing)" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
# /dev/fuse for the mount tests
[ -e /dev/fuse ] || modprobe fuse 2>/dev/null || true
