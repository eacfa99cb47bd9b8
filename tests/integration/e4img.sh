#!/bin/bash
# e4img over an image of the bundled sample tree: ls -lR names every entry,
# cat gives back each file byte for byte, stat describes it, check finds it
# clean, and bad invocations exit non-zero with a message.
set -u
src=${E4_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${E4_BUILDDIR:-$src}
e4img=$build/e4img
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# the sample tree with its modes and symlink made here (not the
# checkout's modes, which follow its umask)
tree=$tmp/tree
"$src/share/sample-tree.sh" "$tree" || { echo "share/sample-tree.sh failed"; exit 1; }
pass=0; fail=0
ok() { echo "PASS: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }

img=$tmp/sample.img
mkfs.ext4 -q -F -d "$tree" "$img" 16M || { echo "mkfs failed"; exit 1; }

# every entry of the tree appears in ls -lR, and nothing else
"$e4img" ls -R "$img" / >"$tmp/ls" 2>&1 || bad "ls -R exits 0"
(cd "$tree" && find . -mindepth 1 -printf '%f\n' | sort) >"$tmp/want"
grep -v -e '^$' -e ':$' -e '^lost+found$' "$tmp/ls" | sort >"$tmp/got"
if cmp -s "$tmp/want" "$tmp/got"; then ok "ls -R names every entry"; else bad "ls -R names"; diff "$tmp/want" "$tmp/got"; fi
"$e4img" ls -lR "$img" >"$tmp/lsl" 2>&1 && grep -q 'hello-link -> ../hello.txt' "$tmp/lsl" &&
	ok "ls -lR shows the symlink target" || bad "ls -lR symlink target"

# cat of every regular file equals the source
while IFS= read -r f; do
	if "$e4img" cat "$img" "/$f" | cmp -s - "$tree/$f"; then ok "cat /$f"; else bad "cat /$f"; fi
done < <(cd "$tree" && find . -type f -printf '%P\n')

# stat
"$e4img" stat "$img" /hello.txt >"$tmp/stat" 2>&1
size=$(stat -c %s "$tree/hello.txt")
mode=$(stat -c %A "$tree/hello.txt")
grep -q "size $size " "$tmp/stat" && grep -q "mode $mode " "$tmp/stat" &&
	ok "stat shows size and mode" || { bad "stat"; cat "$tmp/stat"; }

# check: clean image
"$e4img" check "$img" >"$tmp/check" 2>&1 && grep -q ': 0 problems' "$tmp/check" &&
	ok "check: clean" || { bad "check clean"; cat "$tmp/check"; }

# errors: missing path (1), not a file system (2), usage (2)
"$e4img" cat "$img" /nope 2>"$tmp/err"; rc=$?
[ $rc = 1 ] && grep -q 'No such file' "$tmp/err" && ok "missing path: exit 1 with message" || bad "missing path (rc $rc)"
head -c 1M /dev/zero >"$tmp/zero.img"
"$e4img" ls "$tmp/zero.img" 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q 'not an ext2/ext3/ext4 file system' "$tmp/err" && ok "not ext4: exit 2 with message" || bad "not ext4 (rc $rc)"
"$e4img" frobnicate "$img" 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q "unknown command" "$tmp/err" && ok "unknown command: exit 2" || bad "unknown command (rc $rc)"
"$e4img" cat "$img" /docs 2>"$tmp/err"; rc=$?
[ $rc = 1 ] && grep -q 'not a regular file' "$tmp/err" && ok "cat of a directory refused" || bad "cat dir (rc $rc)"

# a directory entry naming its own directory, and one naming an ancestor:
# ls -R lists each directory once, says why it stops, and exits 1
cyc=$tmp/cycle.img
cp "$img" "$cyc"
debugfs -w -R "ln docs docs/loop" "$cyc" >/dev/null 2>&1
debugfs -w -R "ln src src/lib/up" "$cyc" >/dev/null 2>&1
timeout 60 "$e4img" ls -R "$cyc" >"$tmp/cyc.out" 2>"$tmp/cyc.err"; rc=$?
[ $rc = 1 ] && grep -q '^/docs/loop: directory already listed' <(sed 's/^e4img: //' "$tmp/cyc.err") &&
	grep -q '^/src/lib/up: directory already listed' <(sed 's/^e4img: //' "$tmp/cyc.err") &&
	[ "$(grep -c '^/docs:$' "$tmp/cyc.out")" = 1 ] &&
	ok "ls -R: a directory cycle is listed once and reported (exit 1)" ||
	{ bad "ls -R cycle (rc $rc)"; cat "$tmp/cyc.err"; }
"$e4img" check "$cyc" >"$tmp/cyc.check" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'linked from more than one directory.*\[CK-DIRLINK\]$' "$tmp/cyc.check" &&
	ok "check: the cycle is a problem" || { bad "check cycle (rc $rc)"; cat "$tmp/cyc.check"; }

# numbers are decimal: a leading zero is not octal, hex is refused
off=$tmp/offset.img
{ head -c 4096 /dev/zero; cat "$img"; } >"$off"
"$e4img" --offset=04096 cat "$off" /hello.txt | cmp -s - "$tree/hello.txt" &&
	ok "--offset=04096 is 4096" || bad "--offset with a leading zero"
"$e4img" --offset=0x1000 info "$off" 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q 'expected a decimal number' "$tmp/err" &&
	ok "--offset=0x1000 refused" || bad "--offset hex (rc $rc)"
# the suffixes e4fuse takes: 4K and 8s are 4096
"$e4img" --offset=4K cat "$off" /hello.txt | cmp -s - "$tree/hello.txt" &&
	ok "--offset=4K is 4096" || bad "--offset=4K"
"$e4img" --offset=8s cat "$off" /hello.txt | cmp -s - "$tree/hello.txt" &&
	ok "--offset=8s is 4096" || bad "--offset=8s"
"$e4img" --offset=1KB info "$off" 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q 'K, M, G, T or s suffix' "$tmp/err" &&
	ok "--offset=1KB refused" || bad "--offset=1KB (rc $rc)"
"$e4img" --replay-mem=12X info "$img" 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q 'K, M, G, T or s suffix' "$tmp/err" &&
	ok "--replay-mem with a bad suffix refused" || bad "--replay-mem suffix (rc $rc)"

# whole-disk images: the one ext partition is found by itself, or chosen
# with --partition=N; the tables are written by sfdisk and sgdisk
PATH=$PATH:/sbin:/usr/sbin
if command -v sfdisk >/dev/null && command -v sgdisk >/dev/null; then
	mbr=$tmp/mbr.img gpt=$tmp/gpt.img
	truncate -s 40M "$mbr" "$gpt"
	echo 'start=2048, size=16M, type=83' | sfdisk -q "$mbr" >/dev/null
	sgdisk -o -n 1:2048:+16M -n 2:0:+16M "$gpt" >/dev/null
	dd if="$img" of="$mbr" bs=512 seek=2048 conv=notrunc status=none
	dd if="$img" of="$gpt" bs=512 seek=2048 conv=notrunc status=none
	"$e4img" cat "$mbr" /hello.txt | cmp -s - "$tree/hello.txt" &&
		ok "MBR: the ext partition is found by itself" || bad "MBR found by itself"
	"$e4img" --partition=1 cat "$mbr" /hello.txt | cmp -s - "$tree/hello.txt" &&
		ok "MBR: --partition=1" || bad "MBR --partition=1"
	"$e4img" --partition=2 info "$mbr" 2>"$tmp/err"; rc=$?
	[ $rc = 2 ] && grep -q "^e4img: $mbr: no partition 2 (MBR partition table with 1 partition: 1)\$" "$tmp/err" &&
		ok "MBR: --partition=2 absent" || { bad "MBR --partition=2 (rc $rc)"; cat "$tmp/err"; }
	"$e4img" --offset=1048576 cat "$mbr" /hello.txt | cmp -s - "$tree/hello.txt" &&
		ok "MBR: --offset=1048576" || bad "MBR --offset"
	"$e4img" info "$gpt" >/dev/null && ok "GPT: one ext partition of two found" || bad "GPT one of two"
	"$e4img" info "$gpt" --partition=3 2>"$tmp/err"; rc=$?
	[ $rc = 2 ] && grep -q "^e4img: $gpt: no partition 3 (GPT partition table with 2 partitions: 1, 2)\$" "$tmp/err" &&
		ok "GPT: --partition=3 after the command lists 1, 2" || { bad "GPT --partition=3 (rc $rc)"; cat "$tmp/err"; }
	"$e4img" cat "$mbr" /hello.txt --offset=1M | cmp -s - "$tree/hello.txt" &&
		ok "MBR: --offset=1M after the command" || bad "MBR --offset=1M after the command"
	dd if="$img" of="$gpt" bs=512 seek=34816 conv=notrunc status=none
	"$e4img" ls "$gpt" 2>"$tmp/err"; rc=$?
	[ $rc = 2 ] && grep -q '2 partitions hold an ext2/3/4 file system; choose one with --partition=N' "$tmp/err" &&
		ok "GPT with two ext partitions: asks which" || { bad "GPT two (rc $rc)"; cat "$tmp/err"; }
	"$e4img" --partition=2 check "$gpt" >/dev/null && ok "GPT: --partition=2 checks clean" ||
		bad "GPT --partition=2"
	"$e4img" --partition=1 --offset=4096 info "$gpt" 2>"$tmp/err"; rc=$?
	[ $rc = 2 ] && grep -q 'exclude each other' "$tmp/err" &&
		ok "--offset with --partition refused" || bad "--offset with --partition (rc $rc)"
	for n in 0 1025 x; do
		"$e4img" --partition=$n info "$gpt" 2>"$tmp/err"; rc=$?
		[ $rc = 2 ] && grep -q -e 'not between 1 and 1024' -e 'expected a decimal number' "$tmp/err" &&
			ok "--partition=$n refused" || bad "--partition=$n (rc $rc)"
	done
	"$e4img" --offset=41943040 info "$gpt" 2>"$tmp/err"; rc=$?
	[ $rc = 2 ] && grep -q 'offset 41943040 is past the end of the 41943040-byte image' "$tmp/err" &&
		ok "--offset past the end refused" || { bad "--offset past the end (rc $rc)"; cat "$tmp/err"; }
	head -c 4 /dev/zero | dd of="$gpt" bs=1 seek=528 conv=notrunc status=none	# header CRC
	"$e4img" --partition=2 info "$gpt" 2>"$tmp/err"; rc=$?
	[ $rc = 2 ] && grep -q "^e4img: $gpt: bad partition table: GPT header checksum mismatch\$" "$tmp/err" &&
		ok "GPT with a bad checksum refused" || { bad "bad GPT (rc $rc)"; cat "$tmp/err"; }
	"$e4img" --offset=1048576 cat "$gpt" /hello.txt | cmp -s - "$tree/hello.txt" &&
		ok "bad GPT: --offset still works" || bad "bad GPT --offset"
else
	bad "sfdisk or sgdisk missing (Debian packages fdisk, gdisk)"
fi

# the version is the package's, from config.h
want=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$build/config.h")
for v in --version -V; do
	[ -n "$want" ] && [ "$("$e4img" $v)" = "e4img $want" ] &&
		ok "$v prints e4img $want" || bad "$v: '$("$e4img" $v)', want 'e4img $want'"
done
# options before or after the command word mean the same
"$e4img" --offset=4K cat "$off" /hello.txt >"$tmp/a" && "$e4img" cat "$off" /hello.txt --offset=4K >"$tmp/b" &&
	cmp -s "$tmp/a" "$tmp/b" && cmp -s "$tmp/a" "$tree/hello.txt" &&
	ok "--offset=4K before and after the command" || bad "--offset after the command"
"$e4img" info "$img" --bogus 2>"$tmp/err"; rc=$?
[ $rc = 2 ] && grep -q "^usage: e4img " "$tmp/err" && ok "unknown option after the command refused" ||
	{ bad "unknown option after the command (rc $rc)"; cat "$tmp/err"; }
# the library's warnings carry e4img's name, not e4fuse's
cp "$img" "$tmp/errs.img"
debugfs -w -R "ssv state 3" "$tmp/errs.img" 2>/dev/null
"$e4img" info "$tmp/errs.img" >/dev/null 2>"$tmp/err"
grep -q '^e4img: warning: file system has errors recorded' "$tmp/err" && ! grep -q e4fuse "$tmp/err" &&
	ok "library warnings say e4img" || { bad "library warning name"; cat "$tmp/err"; }

echo "$pass passed, $fail failed"
[ $fail = 0 ]
