# SPDX-License-Identifier: MIT
# Shared by the tree-compare integration tests (sourced, not run).
#
# Trees and images are made once per build tree and kept in
# $E4_BUILDDIR/tests/cache/<hash of the fixture scripts>/, so the tests that
# run in parallel share them (flock) and a change to a fixture script makes
# a fresh cache.  `make clean` removes it.

set -u
export TZ=UTC LC_ALL=C

: "${E4_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${E4_BUILDDIR:=$E4_SRCDIR}"
FIXTURES=$E4_SRCDIR/tests/fixtures
TREE_COMPARE=$E4_BUILDDIR/tests/integration/tree_compare

n_pass=0
n_fail=0
failed_cases=""
# Mount points are recorded in a file, not a variable: kmount runs in a
# command substitution (a subshell), where a variable would be lost.
mounts_file=$(mktemp /tmp/e4mounts.XXXXXX)

lib_cleanup() {
	local m
	for m in $(cat "$mounts_file" 2>/dev/null); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		rmdir "$m" 2>/dev/null
	done
	rm -f "$mounts_file"
}
trap lib_cleanup EXIT

skip() { echo "SKIP: $*"; exit 77; }
hard_error() { echo "ERROR: $*"; exit 99; }

require_env() {
	[ "$(id -u)" = 0 ] || skip "needs root (mknod, loop mounts)"
	for t in mkfs.ext4 e2fsck dumpe2fs setfacl setfattr python3 losetup; do
		command -v $t >/dev/null || skip "missing $t"
	done
	[ -x "$TREE_COMPARE" ] || hard_error "$TREE_COMPARE not built (make check builds it)"
	[ -e /dev/loop-control ] || skip "no loop devices"
}

cache_dir() {
	local key
	key=$(cat "$FIXTURES/gen-tree.sh" "$FIXTURES/mk-image.sh" | md5sum | cut -c1-12)
	# (E4_FIXTURE_CACHE: a cache the builds share, as run-tests.sh's two
	# do: the images depend on the fixture scripts alone)
	local root=${E4_FIXTURE_CACHE:-$E4_BUILDDIR/tests/cache}
	CACHE=$root/$key
	mkdir -p "$CACHE"
	# Old caches from earlier fixture versions go.
	for d in "$root"/*; do
		[ "$d" = "$CACHE" ] || rm -rf "$d"
	done 2>/dev/null || true
}

# tree_get small|small1k|big -> prints the path of the generated tree.
tree_get() {
	local kind=$1 dir opts
	dir=$CACHE/tree-$kind
	case $kind in
	small) opts= ;;
	small1k) opts=--1k ;;
	big) opts=--big ;;
	big1k) opts="--big --1k" ;;
	*) hard_error "unknown tree $kind" ;;
	esac
	(
		flock 9
		if [ ! -e "$dir/.done" ]; then
			rm -rf "$dir"
			# shellcheck disable=SC2086
			"$FIXTURES/gen-tree.sh" "$dir" $opts >&2 || exit 1
			: > "$dir/.done-tmp" && mv "$dir/.done-tmp" "$dir/.done"
		fi
	) 9> "$CACHE/tree-$kind.lock" || hard_error "gen-tree $kind failed"
	echo "$dir"
}

# tree_for CONFIG [big] -> the tree kind that fits the config's block size.
tree_for() {
	local bs
	bs=$("$FIXTURES/mk-image.sh" --block-size "$1")
	if [ "${2:-}" = big ]; then
		[ "$bs" -lt 4096 ] && echo big1k || echo big
	else
		[ "$bs" -lt 4096 ] && echo small1k || echo small
	fi
}

# image_get CONFIG TREEKIND mkfs|kernel -> prints the image path.
image_get() {
	local config=$1 kind=$2 mode=$3 img tree
	img=$CACHE/$config-$kind-$mode.img
	tree=$(tree_get "$kind") || exit 99
	(
		flock 9
		if [ ! -e "$img" ]; then
			if [ "$mode" = kernel ]; then
				"$FIXTURES/mk-image.sh" "$config" "$tree" "$img" --via-kernel >&2
			else
				"$FIXTURES/mk-image.sh" "$config" "$tree" "$img" >&2
			fi
		fi
	) 9> "$img.lock" || return 1
	echo "$img"
}

# fsck_clean IMAGE OUT: e2fsck -fn finds nothing, its report in OUT.  Its
# exit status alone is not enough: a wrong free count in the superblock is
# reported ("Free blocks count wrong ... Fix? no") with status 0.  An offer
# to optimise a tree ("could be narrower.  Optimize? no") is not an error.
# A journal left needing recovery is (e2fsck -n skips it, status 0).
fsck_clean() {
	e2fsck -fn "$1" > "$2" 2>&1 && ! grep -v 'Optimize? no$' "$2" | grep -q '? no$' &&
		! grep -q 'skipping journal recovery' "$2"
}

# kmount IMAGE -> mounts it read-only, prints the mount point.
# `mount -o loop` reuses a loop device already attached to the same image,
# so two tests mounting one cached image would share one file system and
# its page cache, and the kernel's SEEK_DATA over unwritten extents depends
# on what is cached.  Each kernel mount gets its own loop device instead
# (detached at once: the kernel frees it at umount).
private_loop_mount() {
	local dev
	dev=$(losetup --find --show --read-only "$1") || return 1
	if ! mount -o ro "$dev" "$2"; then
		losetup -d "$dev"
		return 1
	fi
	losetup -d "$dev"
}

kmount() {
	local m
	m=$(mktemp -d /tmp/e4ro.XXXXXX)
	# ro on a cleanly unmounted image: the kernel writes nothing
	private_loop_mount "$1" "$m" || { rmdir "$m"; return 1; }
	echo "$m" >>"$mounts_file"
	echo "$m"
}

kumount() {
	umount "$1" && rmdir "$1"
	sed -i "\\#^$1\$#d" "$mounts_file"
}

# record NAME STATUS: one line per case in the log, counted for the summary.
record() {
	if [ "$2" = 0 ]; then
		echo "PASS: $1"
		n_pass=$((n_pass + 1))
	else
		echo "FAIL: $1"
		n_fail=$((n_fail + 1))
		failed_cases="$failed_cases $1"
	fi
}

# compare NAME --ref=src|kernel IMAGE REFDIR
# The first mismatches of a failed case are repeated in the summary, so the
# tail of the log says what broke.
failure_details=""
compare() {
	local name=$1 rc out
	shift
	echo "---- $name: tree_compare $*"
	out=$("$TREE_COMPARE" "$@" 2>&1)
	rc=$?
	echo "$out"
	record "$name" $rc
	if [ $rc != 0 ]; then
		failure_details="$failure_details
== $name:
$(echo "$out" | grep -E '^(MISMATCH|e4 log|tree_compare)' | head -n 8)"
	fi
}

# compare_with_kernel NAME IMAGE: mount it read-only and compare.
compare_with_kernel() {
	local name=$1 img=$2 m
	if ! m=$(kmount "$img"); then
		echo "---- $name: kernel mount failed"
		record "$name" 1
		return
	fi
	compare "$name" --ref=kernel "$img" "$m"
	kumount "$m"
}

summary() {
	echo
	if [ -n "$failed_cases" ]; then
		echo "failed:$failed_cases"
		[ -n "$failure_details" ] && echo "$failure_details"
	fi
	echo "$n_pass passed, $n_fail failed"
	[ $n_fail = 0 ]
}
