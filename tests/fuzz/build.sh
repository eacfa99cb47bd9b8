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
# Every mode compiles the library from source with E4_STRICT_BOUNDS (an
# out-of-range accessor traps) and links it alone: every .c of src/io,
# src/ondisk, src/check and, where they exist, src/util, src/tx, src/alloc and src/fs (so a new
# library file needs no edit here); no FUSE, except the fuse harness, which
# links the front end's request engine when present, and the e4img harness,
# which links e4img's commands (src/e4img/ls.c and show.c, not main.c).  Every harness runs
# under the resource oracle (resource.h) and, with libFuzzer, the
# cross-reference mutator (xref.h).
# OUTDIR gets one binary per harness (fuzz_walk, fuzz_sb, ...), the
# templates (decompressed), seeds/<harness>/ from the templates, and in afl
# mode xref-mutator.so, the mutator for AFL_CUSTOM_MUTATOR_LIBRARY.
set -euo pipefail
mode=${1:?usage: build.sh libfuzzer|afl|replay OUTDIR}
out=${2:?usage: build.sh libfuzzer|afl|replay OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
mkdir -p "$out/obj"
out=$(cd "$out" && pwd)

san="-fsanitize=address,undefined -fno-sanitize-recover=all"
# res_*: the resource oracle (resource.c) is built without the fuzzers'
# coverage instrumentation: its watchdog thread's edges, hit a varying
# number of times per input, would make every harness look unstable
case $mode in
libfuzzer) CC=${CC:-clang}; cflags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"
	   ldflags="-fsanitize=fuzzer,address,undefined"; driver=
	   res_cc=$CC; res_cflags=$san ;;
afl)	   CC=afl-clang-fast; res_cc=clang
	   if [ "${AFL_NO_SANITIZERS:-0}" = 1 ]; then cflags= ; ldflags=
	   else cflags=$san; ldflags=$san; fi
	   res_cflags=$cflags
	   driver=$here/driver.c ;;
replay)	   CC=${CC:-cc}; cflags=$san; ldflags=$san; driver=$here/driver.c
	   res_cc=$CC; res_cflags=$san ;;
*)	   echo "unknown mode $mode" >&2; exit 2 ;;
esac

cat > "$out/config.h" <<CFG
#define _GNU_SOURCE 1
#define PACKAGE_VERSION "fuzz"
CFG
common="-std=gnu11 -g -O1 -fno-omit-frame-pointer -DE4_STRICT_BOUNDS
	-I$top/include -I$top/src -I$here -include $out/config.h
	-DE4_FUZZ_TEMPLATE_PATH=\"$out/template.img\"
	-DE4_FUZZ_JOURNAL_TEMPLATE_PATH=\"$out/journal-template.img\"
	-DE4_FUZZ_ORPHAN_TEMPLATE_PATH=\"$out/orphan-template.img\"
	-Wall -Wextra -Wno-unused-parameter"
cflags="$cflags $common"
res_cflags="$res_cflags $common"

zstd -q -d -f "$here/template.img.zst" -o "$out/template.img"
zstd -q -d -f "$here/journal-template.img.zst" -o "$out/journal-template.img"
zstd -q -d -f "$here/orphan-template.img.zst" -o "$out/orphan-template.img"

lib_srcs=
for d in io ondisk check util tx alloc fs; do
	[ -d "$top/src/$d" ] || continue
	lib_srcs="$lib_srcs $(ls "$top/src/$d"/*.c)"
done
# the library's hashing (src/util) needs libxxhash (libxxhash-dev)
libs=-pthread
if [ -d "$top/src/util" ] || grep -qs 'xxhash\.h' $lib_srcs; then
	libs="$libs -lxxhash"
fi
# the harnesses' own code, linked into every harness (it is small)
fuzz_srcs="walk.c splice.c resource.c xref.c journal_fuzz.c orphan_fuzz.c
	template_io.c write_fuzz.c"
objs=
for s in $lib_srcs; do
	o=$out/obj/lib_$(basename "$(dirname "$s")")_$(basename "${s%.c}").o
	$CC $cflags -c "$s" -o "$o"
	objs="$objs $o"
done
for s in $fuzz_srcs; do
	o=$out/obj/aux_$(basename "${s%.c}").o
	if [ "$s" = resource.c ]; then
		$res_cc $res_cflags -c "$here/$s" -o "$o"
	else
		$CC $cflags -c "$here/$s" -o "$o"
	fi
	objs="$objs $o"
done
if [ -n "$driver" ]; then
	$CC $cflags -c "$driver" -o "$out/obj/driver.o"
	objs="$objs $out/obj/driver.o"
fi

harnesses="walk sb gdt inode extent dirblock htree xattr journal orphan write"
for h in $harnesses; do
	$CC $cflags -c "$here/fuzz_$h.c" -o "$out/obj/fuzz_$h.o"
	$CC $ldflags -o "$out/fuzz_$h" "$out/obj/fuzz_$h.o" $objs $libs
done

# link_harness NAME SOURCE...: fuzz_NAME with more code than the library
# and the harnesses' own (sources that do not exist are left out)
link_harness() {
	local name=$1 more= s o
	shift
	for s in "$@"; do
		[ -f "$s" ] || continue
		o=$out/obj/${name}_$(basename "${s%.c}").o
		$CC $cflags -c "$s" -o "$o"
		more="$more $o"
	done
	$CC $cflags -c "$here/fuzz_$name.c" -o "$out/obj/fuzz_$name.o"
	# shellcheck disable=SC2086
	$CC $ldflags -o "$out/fuzz_$name" "$out/obj/fuzz_$name.o" $more $objs $libs
	harnesses="$harnesses $name"
}

# the e4img harness runs e4img's commands: ls.c and show.c, not main.c
if [ -f "$top/src/e4img/ls.c" ] && [ -f "$here/fuzz_e4img.c" ]; then
	link_harness e4img "$top"/src/e4img/ls.c "$top"/src/e4img/show.c \
		"$here"/e4img_fuzz.c
fi

# the FUSE protocol harness needs the front end's engine (src/fuse/)
if [ -f "$top/src/fuse/session.c" ] && [ -f "$here/fuzz_fuse.c" ]; then
	link_harness fuse "$top"/src/fuse/session.c "$top"/src/fuse/proto.c \
		"$top"/src/fuse/nodes.c "$top"/src/fuse/lost_found.c \
		"$top"/src/fuse/uring.c "$top"/src/fuse/ops_*.c
fi
# fuse-iomap's BEGIN, END and IOEND over mutated extent trees: the engine,
# and the kernel's rules from the model (tests/iomap/)
if [ -f "$top/src/fuse/ops_iomap.c" ] && [ -f "$here/fuzz_iomap.c" ]; then
	link_harness iomap "$top"/src/fuse/session.c "$top"/src/fuse/proto.c \
		"$top"/src/fuse/nodes.c "$top"/src/fuse/lost_found.c \
		"$top"/src/fuse/uring.c "$top"/src/fuse/ops_*.c "$here"/iomap_fuzz.c \
		"$top"/tests/iomap/iomap_rules.c
fi

# host tools: no instrumentation, no sanitizers
cc_host=${HOST_CC:-cc}
host_cflags="-std=gnu11 -O1 -I$top/include -I$top/src -I$here -include $out/config.h
	-DE4_FUZZ_TEMPLATE_PATH=\"$out/template.img\"
	-DE4_FUZZ_JOURNAL_TEMPLATE_PATH=\"$out/journal-template.img\"
	-DE4_FUZZ_ORPHAN_TEMPLATE_PATH=\"$out/orphan-template.img\""
fuzz_paths=$(for s in $fuzz_srcs; do printf '%s/%s ' "$here" "$s"; done)

# the seeds, from the templates
# shellcheck disable=SC2086
$cc_host $host_cflags -o "$out/mkseeds" "$here/mkseeds.c" $fuzz_paths $lib_srcs $libs
mkdir -p "$out/seeds"
"$out/mkseeds" "$out/seeds" >/dev/null

# the cross-reference mutator as an AFL++ custom mutator library; no
# resource oracle in it (it would interpose afl-fuzz's malloc)
if [ "$mode" = afl ]; then
	# shellcheck disable=SC2086
	$cc_host $host_cflags -fPIC -shared -DE4_RES_NO_INTERPOSE \
		-o "$out/xref-mutator.so" "$here/afl_xref.c" $fuzz_paths $lib_srcs $libs
fi
echo "built in $out: $(for h in $harnesses; do printf 'fuzz_%s ' $h; done)"
