#!/bin/bash
# SPDX-License-Identifier: MIT
#
# campaign.sh BUILD SEEDS OUT SECONDS HARNESS...
#
# Run a fuzzer on each harness in turn, one core, SECONDS each:
#   BUILD  a `build.sh afl` output directory (or `build.sh libfuzzer` with
#          FUZZER=libfuzzer)
#   SEEDS  a `mk-seeds.sh` output (plus BUILD/seeds for the structures,
#          the journal and the orphan harness; tests/fuzz/seeds/fuse); the
#          e4img and write harnesses take the walk harness's seeds (whole
#          images)
#   OUT    fuzzer output, one directory per harness
# Environment:
#   FUZZER=afl|libfuzzer   (default afl)
#   XREF=0                 without the cross-reference mutator (xref.h);
#                          by default AFL++ loads BUILD/xref-mutator.so and
#                          libFuzzer uses the one linked into the harness
# Every harness runs under the resource oracle (resource.h): an input over
# its budgets aborts and is a crash.  Findings: afl: OUT/<harness>/default/
# {crashes,hangs}/; libfuzzer: OUT/<harness>/crash-*, leak-*, timeout-*
# (OUT/<harness>/corpus/ is the corpus it grew).  OUT/<harness>.log is the
# fuzzer's output; its last lines are printed.
set -euo pipefail
build=$1 seeds=$2 out=$3 secs=$4
shift 4
fuzzer=${FUZZER:-afl}
xref=${XREF:-1}
# ASan needs no memory limit (-m none) and must abort so the fuzzer sees a
# crash
export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_NO_AFFINITY=1
mkdir -p "$out"
for h in "$@"; do
	in=$seeds/$h
	[ -d "$in" ] || in=$build/seeds/$h
	# e4img and write take whole images, as walk does
	case $h in e4img|write) [ -d "$in" ] || in=$seeds/walk ;; esac
	echo "=== $h ($fuzzer, xref=$xref): $secs s from $in"
	case $fuzzer in
	afl)
		unset AFL_CUSTOM_MUTATOR_LIBRARY E4_XREF_HARNESS
		if [ "$xref" = 1 ] && [ "$h" != fuse ]; then
			export AFL_CUSTOM_MUTATOR_LIBRARY=$build/xref-mutator.so
			export E4_XREF_HARNESS=$h
		fi
		# -t: per-input time limit (ms); a slower input is a hang
		afl-fuzz -V "$secs" -m none -t 2000 -i "$in" -o "$out/$h" \
			-- "$build/fuzz_$h" >"$out/$h.log" 2>&1 || true
		tail -n 5 "$out/$h.log"
		;;
	libfuzzer)
		mkdir -p "$out/$h/corpus"
		args=
		[ "$h" = fuse ] && args=-close_fd_mask=2	# its log lines
		# the whole log: costs that grow with its length show on long ones
		[ "$h" = journal ] && args=-max_len=1048576
		unset E4_XREF_OFF
		[ "$xref" = 1 ] || export E4_XREF_OFF=1
		# shellcheck disable=SC2086
		"$build/fuzz_$h" -max_total_time="$secs" -timeout=10 \
			-rss_limit_mb=4096 -print_final_stats=1 $args \
			-artifact_prefix="$out/$h/" "$out/$h/corpus" "$in" \
			>"$out/$h.log" 2>&1 || true
		grep -E '^#[0-9]+.*(DONE|pulse|NEW)|stat::|^==[0-9]+==|oracle' "$out/$h.log" | tail -n 6
		;;
	*)	echo "FUZZER must be afl or libfuzzer" >&2; exit 2 ;;
	esac
done
