#!/bin/sh
# Install what is missing, build e4fuse twice (plain, and with ASan+UBSan),
# and run the whole test suite in both builds.  Needs root (loop and FUSE
# mounts).  Usage: ./run-tests.sh [--quick]   (--quick: plain build only)
#
# Results come from make check's exit status and each test's .trs file.
# A test may skip (exit 77) only for something this machine lacks: root,
# loop devices, /dev/fuse, the e2fsprogs corpus (../shared/corpus), musl
# for the static build (scripts/install-deps.sh installs it).  Any
# other skip fails the run.  E4_ALLOW_SKIP adds shell patterns of test
# names that may skip here, e.g. E4_ALLOW_SKIP='tests/static/recursion.sh'.
set -eu
cd "$(dirname "$0")"
top=$(pwd)
./scripts/install-deps.sh
./autogen.sh >/dev/null 2>&1
jobs=$(nproc 2>/dev/null || echo 2)
# the fixture images (mkfs, kernel-populated) made once for both builds
export E4_FIXTURE_CACHE="$top/build-fixtures"

# ---- which tests may skip here, and why ------------------------------------
loop_tests='tests/mount/* tests/integration/tree-compare-*.sh
	tests/integration/open-time.sh tests/integration/journal.sh
	tests/integration/e4img-extract.sh tests/integration/salvage.sh
	tests/unit/test_symlink tests/unit/test_inline tests/unit/test_xattr
	tests/unit/test_journal tests/unit/test_write tests/unit/test_acl_write
	tests/unit/test_full_disk'
root_tests="$loop_tests tests/fuzz/corpus-mount.sh"
fuse_tests='tests/mount/* tests/fuzz/corpus-mount.sh
	tests/integration/salvage.sh'
corpus_tests='tests/check/corpus.sh tests/fuzz/corpus-walk.sh
	tests/fuzz/corpus-mount.sh tests/fuzz/corpus-write.sh'
allow=${E4_ALLOW_SKIP:-}
why_allowed=""
allow_for() {	# allow_for REASON TESTS
	allow="$allow $2"; why_allowed="$why_allowed, $1"
}
[ "$(id -u)" = 0 ] || allow_for "not root" "$root_tests"
[ -e /dev/loop-control ] || allow_for "no loop devices" "$loop_tests"
[ -c /dev/fuse ] || allow_for "no /dev/fuse" "$fuse_tests"
command -v musl-gcc >/dev/null ||
	allow_for "no musl-gcc" tests/mount/static-root.sh
# where tests/check/corpus.sh and tests/fuzz/corpus-lib.sh look
[ -f "$top/../shared/corpus/e2fsprogs/INDEX.tsv" ] ||
	[ -f /work/shared/corpus/e2fsprogs/INDEX.tsv ] ||
	allow_for "no corpus in ../shared/corpus" "$corpus_tests"
[ -z "${E4_ALLOW_SKIP:-}" ] || why_allowed="$why_allowed, E4_ALLOW_SKIP"
if [ -n "$why_allowed" ]; then
	echo "=== some tests may skip here: ${why_allowed#, }"
else
	echo "=== every test must run here (none may skip)"
fi

may_skip() {	# may_skip TEST: whether TEST is allowed to skip here
	set -f
	for pat in $allow; do
		# shellcheck disable=SC2254
		case $1 in $pat) set +f; return 0 ;; esac
	done
	set +f
	return 1
}

pass=0; fail=0; skip=0; status=0
skipped_ok=""; skipped_bad=""
nl='
'
run_build() {
	name=$1; shift
	dir="$top/build-$name"
	mkdir -p "$dir"
	echo "=== $name build: configure $*"
	(cd "$dir" && "$top/configure" -q "$@" >/dev/null)
	echo "=== $name build: make"
	make -C "$dir" -j"$jobs" >/dev/null
	echo "=== $name build: make check"
	# no result of an earlier run may stand in for one of this run
	find "$dir" -name '*.trs' -exec rm -f {} +
	make -C "$dir" -j"$jobs" check || status=1
	tally "$name" "$dir"
}

# tally BUILD DIR: count the results of every test in TESTS from its .trs
tally() {
	name=$1 dir=$2
	# shellcheck disable=SC2016  # $(TESTS) is make's
	tests=$(make -s -C "$dir" --no-print-directory \
		--eval 'e4-list-tests: ; @echo $(TESTS)' e4-list-tests)
	for t in $tests; do
		base=$dir/${t%.sh}
		if grep -q '^:test-result: \(FAIL\|ERROR\|XPASS\)' "$base.trs" 2>/dev/null ||
		   ! [ -f "$base.trs" ]; then
			fail=$((fail + 1)); status=1
			echo "----- $name: $t failed; its log ($base.log) ends:"
			tail -n 40 "$base.log" 2>/dev/null || echo "(no log: it did not run)"
		elif grep -q '^:test-result: SKIP' "$base.trs"; then
			skip=$((skip + 1))
			why=$(sed -n 's/^SKIP: //p' "$base.log" 2>/dev/null | head -n 1)
			line="  $name: $t (${why:-no reason given})"
			if may_skip "$t"; then
				skipped_ok="$skipped_ok$nl$line"
			else
				skipped_bad="$skipped_bad$nl$line"; status=1
			fi
		else
			pass=$((pass + 1))
		fi
	done
}

run_build plain
[ "${1:-}" = --quick ] || run_build sanitizers --enable-sanitizers

[ -z "$skipped_ok" ] || echo "skipped (${why_allowed#, }):$skipped_ok"
[ -z "$skipped_bad" ] ||
	echo "SKIPPED, but should have run here (E4_ALLOW_SKIP to accept):$skipped_bad"
echo "$pass passed, $fail failed, $skip skipped"
exit $status
