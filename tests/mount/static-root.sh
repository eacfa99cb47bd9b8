#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The static build (configure --enable-static, musl) in a root that holds
# nothing else, as in a FROM scratch container (contrib/container): no
# /etc/passwd (the sandbox user falls back to uid 65534), no /dev/null,
# no /proc, no shared library.  e4fuse mounts an image there with its
# sandbox on (seccomp, uid 65534, no capabilities), a file reads back
# byte for byte, files are made, renamed, removed and listed, an xattr
# set, the commit timer runs, a file written through it is read back by
# the static e4img in the same root, and no system call musl makes is
# refused.
#
# In a static build the build's own binaries are tested; in any other
# the test builds static ones (musl-gcc, Debian's musl-tools) with a
# configure --enable-static of their own, once per build tree, in
# tests/mount/static-build.
. "$(dirname "$0")/mountlib.sh"
require_mount_env
for t in unshare chroot readelf flock pgrep; do
	command -v $t >/dev/null || skip "missing $t"
done

W=$(new_dir)

# ---- the static binaries ------------------------------------------------------
static_build() {	# prints the directory holding static e4fuse and e4img
	local b=$E4_BUILDDIR/tests/mount/static-build src=$E4_SRCDIR
	mkdir -p "$b"
	(
		flock 9
		# a source tree configured in place cannot be configured again
		# elsewhere (its objects would be found through VPATH): build
		# from a copy of what the tarball holds
		if [ -f "$E4_SRCDIR/config.status" ]; then
			src=$b/src
			env -u MAKEFLAGS -u MFLAGS make -s -C "$E4_BUILDDIR" \
				distdir distdir="$src" > "$b/make.log" 2>&1 ||
				{ tail -n 30 "$b/make.log" >&2; exit 1; }
		fi
		mkdir -p "$b/obj" && cd "$b/obj" || exit 1
		if [ ! -f Makefile ]; then
			env -u CC -u CFLAGS -u CPPFLAGS -u LDFLAGS \
				"$src/configure" -q --enable-static >&2 || exit 1
		fi
		env -u MAKEFLAGS -u MFLAGS make -j2 e4fuse e4img \
			> "$b/make.log" 2>&1 || { tail -n 30 "$b/make.log" >&2; exit 1; }
	) 9> "$b/lock" || return 1
	echo "$b/obj"
}
if [ "${E4_STATIC:-no}" = yes ]; then
	bin=$E4_BUILDDIR
else
	command -v musl-gcc >/dev/null ||
		skip "no musl-gcc (Debian: musl-tools) for the static build"
	bin=$(static_build) || hard_error "the static build failed"
fi
for p in e4fuse e4img; do
	hdr=$(readelf -lW "$bin/$p" 2>&1)
	if echo "$hdr" | grep -q 'INTERP' ||
	   readelf -dW "$bin/$p" 2>/dev/null | grep -q NEEDED; then
		record "$p: statically linked (no interpreter, no library)" 1
	else
		record "$p: statically linked (no interpreter, no library)" 0
	fi
done

# ---- the image ------------------------------------------------------------------
mkdir -p "$W/tree/dir"
head -c 3000000 /dev/urandom > "$W/tree/dir/random"
echo "read back from an empty root" > "$W/tree/hello.txt"
mkfs.ext4 -q -F -b 4096 -d "$W/tree" "$W/image" 32M ||
	hard_error "mkfs.ext4 failed"
head -c 200000 /dev/urandom > "$W/written"

# ---- the empty root ----------------------------------------------------------------
# In a mount namespace of its own: a tmpfs holding the two binaries,
# /dev/fuse, the image and the mount point, and nothing else.  Each
# failed check is one line out; the serving process's credentials and
# e4fuse's log are printed for the record.
R=$W/root
mkdir "$R"
in_private_ns '
	R=$1 bin=$2 W=$3
	mount -t tmpfs -o mode=0755 e4fuse-root "$R" || { echo "tmpfs"; exit 1; }
	cp "$bin/e4fuse" "$bin/e4img" "$W/image" "$R/"
	mkdir "$R/dev" "$R/mnt"
	: > "$R/dev/fuse"
	mount --bind /dev/fuse "$R/dev/fuse" || { echo "bind /dev/fuse"; exit 1; }
	have=$(cd "$R" && find . | sort | tr "\n" " ")
	[ "$have" = ". ./dev ./dev/fuse ./e4fuse ./e4img ./image ./mnt " ] ||
		echo "the root holds more: $have"

	chroot "$R" /e4fuse -f -o rw,commit=1 /image /mnt 2> "$W/e4fuse.log" &
	pid=$!
	for _ in $(seq 100); do
		grep -q " $R/mnt fuse.e4fuse " /proc/self/mounts && break
		sleep 0.1
	done
	grep -q " $R/mnt fuse.e4fuse " /proc/self/mounts || {
		echo "not mounted"; kill -9 $pid; exit 1; }

	# the serving process, the supervisor child, is sandboxed
	child=$(pgrep -P $pid | head -n 1)
	status=$(cat "/proc/$child/status" 2>/dev/null)
	echo "$status" | grep -E "^(Uid|Gid|CapEff|Seccomp|NoNewPrivs):" >&2
	echo "$status" | grep -q "^Uid:[[:space:]]*65534[[:space:]]" ||
		echo "serving process not uid 65534"
	echo "$status" | grep -q "^Gid:[[:space:]]*65534[[:space:]]" ||
		echo "serving process not gid 65534"
	echo "$status" | grep -q "^Seccomp:[[:space:]]*2$" ||
		echo "serving process without the seccomp filter"
	echo "$status" | grep -q "^CapEff:[[:space:]]*0*$" ||
		echo "serving process has capabilities"

	cmp -s "$R/mnt/dir/random" "$W/tree/dir/random" || echo "read back: random"
	cmp -s "$R/mnt/hello.txt" "$W/tree/hello.txt" || echo "read back: hello.txt"
	[ "$(ls "$R/mnt" | tr "\n" " ")" = "dir hello.txt lost+found " ] ||
		echo "listing: $(ls "$R/mnt")"
	cp "$W/written" "$R/mnt/dir/written" && sync "$R/mnt/dir/written" ||
		echo "write through the mount"
	# more of what the serving process does, for the calls musl makes
	mkdir "$R/mnt/new" && for i in $(seq 50); do echo $i > "$R/mnt/new/f$i"; done ||
		echo "create 50 files"
	mv "$R/mnt/new/f1" "$R/mnt/new/g1" && rm "$R/mnt/new/f2" || echo "rename, unlink"
	[ "$(ls "$R/mnt/new" | wc -l)" = 49 ] || echo "listing the new directory"
	setfattr -n user.k -v v "$R/mnt/hello.txt" &&
		[ "$(getfattr --only-values -n user.k "$R/mnt/hello.txt")" = v ] ||
		echo "xattr"
	sleep 2		# the commit timer (commit=1) runs
	umount "$R/mnt" || echo "umount"
	for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	wait $pid
	rc=$?
	[ $rc = 0 ] || echo "e4fuse exited with $rc"
	# the static e4img, in the same root, reads what e4fuse wrote
	chroot "$R" /e4img cat /image /dir/written > "$W/written.back" ||
		echo "e4img cat in the root"
	cmp -s "$W/written" "$W/written.back" || echo "e4img: the written file"
	cp "$R/image" "$W/image.after"
' _ "$R" "$bin" "$W" > "$W/failures" 2> "$W/ns.err"
cat "$W/ns.err"
echo "--- e4fuse's log:"
cat "$W/e4fuse.log"
echo "---"
cat "$W/failures"
[ -s "$W/failures" ]
record "empty root: mount, read back, write, unmount, e4img reads it" $((!$?))
grep -q "forbidden system call" "$W/e4fuse.log"
record "no system call refused by the sandbox's filter" $((!$?))
fsck_clean "$W/image.after" "$W/fsck.out"
record "e2fsck clean after the write" $?
summary
