#!/bin/bash
# SPDX-License-Identifier: MIT
#
# build.sh MODE OUTDIR     build every fuzz harness, outside the autotools
#                          build (CI has neither afl++ nor needs libFuzzer)
#   MODE libfuzzer   clang -fsanitize=fuzzer,address,undefined
#   MODE afl         afl-clang-fast, persistent mode (driver.c), with
#                    ASan+UBSan unless AFL_NO_SANITIZERS=1
#   MODE replay      $CC (default cc) with ASan+UBSan and the file-reading
#                    main of driver.c: reproduce a finding, replay a corpus
#
# Every mode compiles the on-disk library from source with E4_STRICT_BOUNDS
# (an out-of-range accessor traps) and links it alone: no FUSE, except the
# fuse harness, which links the front end's request engine when present.
# OUTDIR gets one binary per harness (fuzz_walk, fuzz_sb, ...), template.img
# (decompressed) and seeds/<harness>/ from the template.
set -euo pipefail
mode=${1:?usage: build.sh libfuzzer|afl|replay OUTDIR}
out=${2:?usage: build.sh libfuzzer|afl|replay OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
mkdir -p "$out/obj"
out=$(cd "$out" && pwd)

san="-fsanitize=address,undefined -fno-sanitize-recover=all"
case $mode in
libfuzzer) CC=${CC:-clang}; cflags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"
	   ldflags="-fsanitize=fuzzer,address,undefined"; driver= ;;
afl)	   CC=afl-clang-fast
	   if [ "${AFL_NO_SANITIZERS:-0}" = 1 ]; then cflags= ; ldflags=
	   else cflags=$san; ldflags=$san; fi
	   driver=$here/driver.c ;;
replay)	   CC=${CC:-cc}; cflags=$san; ldflags=$san; driver=$here/driver.c ;;
*)	   echo "unknown mode $mode" >&2; exit 2 ;;
esac

cat > "$out/config.h" <<CFG
#define _GNU_SOURCE 1
#define PACKAGE_VERSION "fuzz"
CFG
cflags="$cflags -std=gnu11 -g -O1 -fno-omit-frame-pointer -DE4_STRICT_BOUNDS
	-I$top/include -I$top/src -I$here -include $out/config.h
	-DE4_FUZZ_TEMPLATE_PATH=\"$out/template.img\"
	-DE4_FUZZ_JOURNAL_TEMPLATE_PATH=\"$out/journal-template.img\"
	-Wall -Wextra -Wno-unused-parameter"

zstd -q -d -f "$here/template.img.zst" -o "$out/template.img"
zstd -q -d -f "$here/journal-template.img.zst" -o "$out/journal-template.img"

lib_srcs="$top/src/io/dev.c $top/src/io/cache.c $(ls "$top"/src/ondisk/*.c)"
objs=
for s in $lib_srcs $here/walk.c $here/splice.c; do
	o=$out/obj/lib_$(basename "$(dirname "$s")")_$(basename "${s%.c}").o
	$CC $cflags -c "$s" -o "$o"
	objs="$objs $o"
done
if [ -n "$driver" ]; then
	$CC $cflags -c "$driver" -o "$out/obj/driver.o"
	objs="$objs $out/obj/driver.o"
fi

# the journal harness's splicing, linked into every harness (it is small)
$CC $cflags -c "$here/journal_fuzz.c" -o "$out/obj/journal_fuzz.o"
objs="$objs $out/obj/journal_fuzz.o"

harnesses="walk sb gdt inode extent dirblock htree xattr journal"
for h in $harnesses; do
	$CC $cflags -c "$here/fuzz_$h.c" -o "$out/obj/fuzz_$h.o"
	$CC $ldflags -o "$out/fuzz_$h" "$out/obj/fuzz_$h.o" $objs -pthread
done

# the FUSE protocol harness needs the front end's engine (src/fuse/)
if [ -f "$top/src/fuse/session.c" ] && [ -f "$here/fuzz_fuse.c" ]; then
	fobjs=
	for s in "$top"/src/fuse/session.c "$top"/src/fuse/proto.c \
		 "$top"/src/fuse/nodes.c "$top"/src/fuse/ops_*.c; do
		[ -f "$s" ] || continue
		o=$out/obj/fuse_$(basename "${s%.c}").o
		$CC $cflags -c "$s" -o "$o"
		fobjs="$fobjs $o"
	done
	$CC $cflags -c "$here/fuzz_fuse.c" -o "$out/obj/fuzz_fuse.o"
	$CC $ldflags -o "$out/fuzz_fuse" "$out/obj/fuzz_fuse.o" $fobjs $objs -pthread
	harnesses="$harnesses fuse"
fi

# seeds for the structure harnesses, from the template
cc_host=${HOST_CC:-cc}
$cc_host -std=gnu11 -O1 -I$top/include -I$top/src -I$here -include "$out/config.h" \
	-DE4_FUZZ_TEMPLATE_PATH=\"$out/template.img\" -o "$out/mkseeds" \
	"$here/mkseeds.c" "$here/splice.c" "$here/walk.c" $lib_srcs -pthread
mkdir -p "$out/seeds"
"$out/mkseeds" "$out/seeds" >/dev/null
echo "built in $out: $(for h in $harnesses; do printf 'fuzz_%s ' $h; done)"
