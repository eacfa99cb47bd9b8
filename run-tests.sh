#!/bin/sh
# Install what is missing, build e4fuse twice (plain, and with ASan+UBSan),
# and run the whole test suite in both builds.  Needs root (loop and FUSE
# mounts).  Usage: ./run-tests.sh [--quick]   (--quick: plain build only)
set -eu
cd "$(dirname "$0")"
top=$(pwd)
./scripts/install-deps.sh
./autogen.sh >/dev/null 2>&1
jobs=$(nproc 2>/dev/null || echo 2)

pass=0; fail=0; status=0
run_build() {
	name=$1; shift
	dir="$top/build-$name"
	mkdir -p "$dir"
	echo "=== $name build: configure $*"
	(cd "$dir" && "$top/configure" -q "$@" >/dev/null)
	echo "=== $name build: make"
	make -C "$dir" -j"$jobs" >/dev/null
	echo "=== $name build: make check"
	if ! make -C "$dir" -j"$jobs" check; then
		status=1
		for log in $(find "$dir" -name '*.log' ! -name config.log ! -name test-suite.log); do
			if grep -q '^:test-result: FAIL\|^:test-result: ERROR' "${log%.log}.trs" 2>/dev/null; then
				echo "----- $log"; tail -n 40 "$log"
			fi
		done
	fi
	p=$(sed -n 's/^# PASS: *//p' "$dir/test-suite.log" | head -1)
	f=$(sed -n 's/^# FAIL: *//p' "$dir/test-suite.log" | head -1)
	e=$(sed -n 's/^# ERROR: *//p' "$dir/test-suite.log" | head -1)
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0} + ${e:-0}))
}
run_build plain
[ "${1:-}" = --quick ] || run_build sanitizers --enable-sanitizers
echo "$pass passed, $fail failed"
exit $status
