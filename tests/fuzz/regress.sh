#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Replay every saved fuzz finding (tests/fuzz/regress/<harness>/*) and the
# committed seeds (tests/fuzz/seeds/<harness>/*: the template's structures,
# FUSE request sequences; the template for the whole-image harnesses, walk
# and e4img) through their harness: each must finish (10 s) with exit 0, no
# sanitizer report and no resource oracle report (resource.h).  E4_REGRESS_PENDING=1 replays tests/fuzz/regress-pending/
# too: inputs of known bugs whose fixes have not landed (see its README).
# See docs/fuzzing.md.
set -u
: "${E4_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${E4_BUILDDIR:=$E4_SRCDIR}"
replay=$E4_BUILDDIR/tests/fuzz/fuzz_replay
[ -x "$replay" ] || { echo "ERROR: $replay not built"; exit 99; }
command -v zstd >/dev/null || { echo "SKIP: zstd missing"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
zstd -q -d "$E4_SRCDIR/tests/fuzz/template.img.zst" -o "$tmp/template.img" || exit 99
export E4_FUZZ_TEMPLATE=$tmp/template.img
zstd -q -d "$E4_SRCDIR/tests/fuzz/journal-template.img.zst" -o "$tmp/journal-template.img" || exit 99
export E4_FUZZ_JOURNAL_TEMPLATE=$tmp/journal-template.img
zstd -q -d "$E4_SRCDIR/tests/fuzz/orphan-template.img.zst" -o "$tmp/orphan-template.img" || exit 99
export E4_FUZZ_ORPHAN_TEMPLATE=$tmp/orphan-template.img

fail=0 n=0
# replay_one HARNESS INPUT
replay_one() {
	n=$((n + 1))
	timeout 10 "$replay" "$1" "$2" 2>"$tmp/err" >/dev/null
	local rc=$?
	if [ $rc != 0 ]; then
		echo "FAIL: $1 $(basename "$2"): exit $rc"
		grep -v '^e4fuse:' "$tmp/err" | head -n 30
		fail=1
	fi
}
dirs=("$E4_SRCDIR"/tests/fuzz/regress/*/ "$E4_SRCDIR"/tests/fuzz/seeds/*/)
[ "${E4_REGRESS_PENDING:-0}" = 1 ] && dirs+=("$E4_SRCDIR"/tests/fuzz/regress-pending/*/)
for dir in "${dirs[@]}"; do
	h=$(basename "$dir")
	for input in "$dir"*; do
		[ "$(basename "$input")" = README ] && continue
		[ -f "$input" ] || continue
		replay_one "$h" "$input"
	done
done
# the whole-image harnesses' committed seed: the template itself
replay_one walk "$tmp/template.img"
replay_one e4img "$tmp/template.img"
echo "$n regression inputs replayed"
exit $fail
