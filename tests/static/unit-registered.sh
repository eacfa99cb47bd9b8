#!/bin/sh
# Every unit test program (tests/unit/test_*.c) is registered in
# Makefile.am's unit_tests, the list make check runs.  A program added to
# check_PROGRAMS alone is built but never run, and nothing would say so.
set -eu
src=${E4_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
status=0
for c in "$src"/tests/unit/test_*.c; do
	t=tests/unit/$(basename "$c" .c)
	if ! grep -q "^unit_tests += $t\$" "$src/Makefile.am"; then
		echo "FAIL: $t is not in unit_tests (Makefile.am)"
		status=1
	fi
done
if grep -n '^check_PROGRAMS += tests/unit/' "$src/Makefile.am"; then
	echo "FAIL: unit tests go in unit_tests, not check_PROGRAMS"
	status=1
fi
[ $status = 0 ] && echo "PASS: every tests/unit/test_*.c is run by make check"
exit $status
