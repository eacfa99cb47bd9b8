#!/bin/sh
# Every recursion in the library (src/ondisk, src/io, src/tx, src/alloc,
# src/fs, src/util, src/check) is listed, with its bound, in docs/limits.md: the call graph
# gcc computes (-fcallgraph-info, at -O0 so nothing is inlined away) is
# compared with the document.  A new recursion fails here until it has a
# bound and a line in the document.
set -eu
src=${E4_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${E4_BUILDDIR:-$src}
cc=${CC:-gcc}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if ! echo 'int main(void){return 0;}' | $cc -x c -fcallgraph-info=su -c - -o "$tmp/probe.o" 2>/dev/null; then
	echo "SKIP: $cc has no -fcallgraph-info"; exit 77
fi
for f in "$src"/src/ondisk/*.c "$src"/src/io/*.c "$src"/src/tx/*.c \
	 "$src"/src/alloc/*.c "$src"/src/fs/*.c "$src"/src/util/*.c \
	 "$src"/src/check/*.c; do
	[ -f "$f" ] || continue
	o=$tmp/$(basename "$(dirname "$f")")_$(basename "$f" .c)
	$cc -std=gnu11 -O0 -I"$src/include" -I"$src/src" -include "$build/config.h" \
		-fcallgraph-info=su -dumpdir "$tmp/" -c "$f" -o "$o.o"
done
exec python3 "$src/tests/static/callgraph.py" "$tmp" "$src/docs/limits.md"
