#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The fuzz harnesses' resource oracle (resource.h) stops an operation over
# each of its budgets, in this build (plain: malloc interposed; sanitizer
# build: ASan's allocator hooks): `fuzz_replay oracle-test` makes one
# operation go over a budget set low here, and the oracle must abort it
# with its report.  Without this a broken hook would let every hostile
# input through silently.
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
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_abort=0
fail=0

# expect WHAT BUDGET_VARIABLE=VALUE MESSAGE
expect() {
	local what=$1 budget=$2 msg=$3
	# (in a subshell whose stderr is dropped: the shell's "Aborted")
	local rc
	rc=$( { env "$budget" timeout 20 "$replay" oracle-test "$what" \
		>/dev/null 2>"$tmp/err"; echo $?; } 2>/dev/null )
	if [ $rc = 0 ] || [ $rc = 124 ] || ! grep -q "==e4fuse resource oracle== $what (arg 0): $msg" "$tmp/err"; then
		echo "FAIL: $what over $budget: exit $rc, no oracle report:"
		head -n 5 "$tmp/err"
		fail=1
	else
		echo "PASS: $what: $(grep -a 'resource oracle' "$tmp/err")"
	fi
}
expect heap E4_FUZZ_HEAP_MAX_MB=1 '[0-9]* bytes of heap live above the start of the operation, budget 1048576'
expect work E4_FUZZ_WORK_MAX=100 '[0-9]* work units ([0-9]* metadata block lookups'
expect poll E4_FUZZ_WORK_MAX=100000 '[0-9]* work units'
expect time E4_FUZZ_OP_MS=100 'still running after [0-9]* ms, budget 100'
exit $fail
