#!/bin/bash
# SPDX-License-Identifier: MIT
#
# campaign.sh BUILD SEEDS OUT SECONDS HARNESS...
#
# Run afl-fuzz on each harness in turn, one core, SECONDS each:
#   BUILD  a `build.sh afl` output directory
#   SEEDS  a `mk-seeds.sh` output (plus BUILD/seeds for the structures)
#   OUT    afl-fuzz output, one directory per harness
# Findings land in OUT/<harness>/default/{crashes,hangs}/.
set -euo pipefail
build=$1 seeds=$2 out=$3 secs=$4
shift 4
export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_NO_AFFINITY=1
# ASan needs no memory limit (-m none) and must abort so AFL sees a crash
export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
for h in "$@"; do
	in=$seeds/$h
	[ -d "$in" ] || in=$build/seeds/$h
	mkdir -p "$out"
	echo "=== $h: $secs s from $in"
	# -t: per-input time limit (ms); a slower input is a hang
	afl-fuzz -V "$secs" -m none -t 2000 -i "$in" -o "$out/$h" \
		-- "$build/fuzz_$h" >"$out/$h.log" 2>&1 || true
	tail -n 5 "$out/$h.log"
done
