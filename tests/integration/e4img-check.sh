#!/bin/bash
# e4img check on images made with mkfs.ext4 -d and damaged with debugfs, one
# kind of damage each: the rule reported for the damaged object (and its
# path), what e2fsck -fn says of the same image, the collapsing of many
# reports of one cause into one line (-v lists them), --json, plurals; and
# e4img info against dumpe2fs -h.
set -u
src=${E4_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${E4_BUILDDIR:-$src}
e4img=$build/e4img
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { echo "PASS: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }

tree=$tmp/tree
mkdir -p "$tree/d1/sub/deep"
for i in $(seq 1 30); do echo "file $i" >"$tree/d1/f$i"; done
echo hi >"$tree/a"; echo second >"$tree/b"; echo x >"$tree/d1/sub/deep/leaf"
base=$tmp/base.img
mkfs.ext4 -q -F -b 1024 -d "$tree" "$base" 4M || { echo "mkfs failed"; exit 1; }
ino() { debugfs -R "stat $1" "$base" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p'; }
# damage a copy of the base image with the debugfs requests on stdin
damage() { cp "$base" "$tmp/$1.img"; debugfs -w -f - "$tmp/$1.img" >/dev/null 2>&1; }
# run check on $1.img into $1.out, expecting exit status 1
check() {
	"$e4img" check "$tmp/$1.img" >"$tmp/$1.out" 2>&1; local rc=$?
	[ $rc = 1 ] || { bad "$1: check exit status $rc, want 1"; cat "$tmp/$1.out"; }
	e2fsck -fn "$tmp/$1.img" >"$tmp/$1.fsck" 2>&1
}
# the line $2 (fixed string, whole line) in $1.out
has() {
	if grep -qxF -- "$2" "$tmp/$1.out"; then ok "$1: $2"; else bad "$1: no line '$2'"; cat "$tmp/$1.out"; fi
}
fsck_says() {
	if grep -qF -- "$2" "$tmp/$1.fsck"; then ok "$1: e2fsck says '$2'"; else bad "$1: e2fsck does not say '$2'"; cat "$tmp/$1.fsck"; fi
}

"$e4img" check "$base" >"$tmp/base.out" 2>&1 && grep -qx "$base: 1 group, [0-9]* inodes, 5 directories, [0-9]* entries: 0 problems" "$tmp/base.out" &&
	ok "base image clean, plurals: 1 group" || { bad "base image"; cat "$tmp/base.out"; }

leaf=$(ino /d1/sub/deep/leaf) a=$(ino /a) b=$(ino /b)
blk=$(debugfs -R "bmap /a 0" "$base" 2>/dev/null)
bblk=$(debugfs -R "bmap /b 0" "$base" 2>/dev/null)

# wrong link count, named by path
damage links <<<"sif /d1/sub/deep/leaf links_count 3"
check links
has links "inode $leaf (/d1/sub/deep/leaf): link count 3, but 1 directory entry names it [CK-LINKS]"
fsck_says links "Inode $leaf ref count is 3, should be 1."

# a block claimed by two files: /b's extent made to point at /a's block
damage dup <<<"sif /b block[5] $blk"
check dup
has dup "inode $b (/b): 1 block (first $blk) also claimed by another inode or by file-system metadata [AL3]"
grep -qE "^group 0: block bitmap block [0-9]+: 1 block marked in use but owned by nothing \(first $bblk\) \[CK-BMAP-UNOWNED\]$" "$tmp/dup.out" &&
	ok "dup: /b's own block $bblk now unowned" || bad "dup: CK-BMAP-UNOWNED"
fsck_says dup "Multiply-claimed block(s) in inode $b: $blk"

# block bitmap: a block in use marked free
damage bbitmap <<<"freeb $blk"
check bbitmap
grep -qE "^group 0: block bitmap block [0-9]+: 1 block in use but free in the bitmap \(first $blk\) \[CK-BMAP-USED\]$" "$tmp/bbitmap.out" &&
	ok "bbitmap: CK-BMAP-USED for block $blk" || { bad "bbitmap: CK-BMAP-USED"; cat "$tmp/bbitmap.out"; }
grep -qE '^group 0: block bitmap block [0-9]+: free blocks count [0-9]+, but the bitmap has [0-9]+ free \[CK-FREE\]$' "$tmp/bbitmap.out" &&
	ok "bbitmap: CK-FREE" || bad "bbitmap: CK-FREE"
fsck_says bbitmap "Block bitmap differences:  +$blk"

# inode bitmap: an inode in use marked free
damage ibitmap <<<"freei /a"
check ibitmap
has ibitmap "inode 2 (/): directory entry 'a' names free inode $a [DIR-TARGET]"
grep -qE '^group 0: inode bitmap block [0-9]+: free inodes count [0-9]+, but the bitmap has [0-9]+ free \[CK-FREE\]$' "$tmp/ibitmap.out" &&
	ok "ibitmap: CK-FREE" || bad "ibitmap: CK-FREE"
fsck_says ibitmap "Inode bitmap differences:  +$a"

# the entry's file type disagrees with the inode's mode
damage ftype <<<"sif /a mode 0020644"
check ftype
has ftype "inode 2 (/): directory entry 'a' has type 1, but inode $a is type 3 [CK-FTYPE]"
fsck_says ftype "Inode $a (/a) is an illegal character device."

# one lost directory block orphans the 33 inodes it named: one line
damage lost <<<"zap_block -f /d1 0"
check lost
n=$(grep -c '\[CK-UNLINKED\]$' "$tmp/lost.out")
[ "$n" = 1 ] && grep -qE '^33 inodes break CK-UNLINKED \(.*\), e\.g\. inode [0-9]+: in use \(links [0-9]+\) but no directory entry names it; also inode [0-9]+, inode [0-9]+ \(check -v lists them all\) \[CK-UNLINKED\]$' "$tmp/lost.out" &&
	ok "lost: 33 CK-UNLINKED reports are one line" || { bad "lost: collapsed line ($n lines)"; cat "$tmp/lost.out"; }
"$e4img" check -v "$tmp/lost.img" >"$tmp/lostv.out" 2>&1
n=$(grep -c '^inode [0-9]*: in use (links [0-9]*) but no directory entry names it \[CK-UNLINKED\]$' "$tmp/lostv.out")
[ "$n" = 33 ] && ok "lost: -v lists the 33" || { bad "lost: -v lists $n"; cat "$tmp/lostv.out"; }
has lost "inode $(ino /d1) (/d1): link count 3, but 2 expected from its subdirectories [CK-LINKS]"
grep -qx "$tmp/lost.img: 1 group, [0-9]* inodes, 3 directories, [0-9]* entries: 36 problems" "$tmp/lost.out" &&
	ok "lost: summary" || bad "lost: summary"

# --json: one document, every report with rule, object, path where known
"$e4img" check --json "$tmp/links.img" >"$tmp/links.json"; rc=$?
[ $rc = 1 ] && python3 -m json.tool "$tmp/links.json" >/dev/null &&
python3 - "$tmp/links.json" "$leaf" <<'PY' && ok "--json: valid, verdict, counts, CK-LINKS with its path" || { bad "--json"; cat "$tmp/links.json"; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verdict"] == "problems", d["verdict"]
assert d["counts"]["problems"] == len(d["reports"]) == 1, d["counts"]
r = d["reports"][0]
assert r["rule"] == "CK-LINKS" and r["inode"] == int(sys.argv[2]), r
assert r["path"] == "/d1/sub/deep/leaf" and r["object"] == "inode " + sys.argv[2], r
assert r["message"].endswith("link count 3, but 1 directory entry names it"), r
PY
"$e4img" check --json "$tmp/lost.img" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["verdict"] == "problems" and d["counts"]["problems"] == 36
assert sum(r["rule"] == "CK-UNLINKED" for r in d["reports"]) == 33' &&
	ok "--json lists every report, uncollapsed" || bad "--json of the lost directory block"
"$e4img" check --json "$base" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["verdict"] == "clean" and d["reports"] == [] and d["counts"]["directories"] == 5' &&
	ok "--json of a clean image" || bad "--json clean"

# info against dumpe2fs -h, with the error fields set
damage info <<'DBG'
ssv state 3
ssv mnt_count 7
ssv last_mounted /mnt/data
ssv mtime 20250505101010
ssv error_count 3
ssv first_error_time 20260101120000
ssv first_error_ino 12
ssv first_error_block 1330
ssv first_error_func ext4_lookup
ssv first_error_line 77
ssv last_error_time 20260202130000
ssv last_error_ino 13
ssv last_error_block 1331
ssv last_error_func ext4_readdir
ssv last_error_line 99
DBG
"$e4img" info "$tmp/info.img" >"$tmp/info.out" 2>/dev/null
TZ=UTC dumpe2fs -h "$tmp/info.img" >"$tmp/dumpe2fs" 2>/dev/null
d() { sed -n "s/^$1: *//p" "$tmp/dumpe2fs"; }
i() { sed -n "s/^$1 *//p" "$tmp/info.out"; }
t() { [ -n "$1" ] && TZ=UTC date -d "$1" '+%Y-%m-%d %H:%M:%S UTC'; }
same() {
	if [ -n "$2" ] && [ "$2" = "$3" ]; then ok "info $1: $2"; else bad "info $1: '$2', dumpe2fs '$3'"; fi
}
same UUID "$(i UUID:)" "$(d 'Filesystem UUID')"
same state "$(i state:)" "$(d 'Filesystem state')"
same "free blocks" "$(i 'free blocks:')" "$(d 'Free blocks')"
same "free inodes" "$(i 'free inodes:')" "$(d 'Free inodes')"
same "last mounted" "$(i 'last mounted:')" "$(t "$(d 'Last mount time')")"
same "mounted on" "$(i 'mounted on:')" "$(d 'Last mounted on')"
same "last written" "$(i 'last written:')" "$(t "$(d 'Last write time')")"
same "mount count" "$(i 'mount count:' | cut -d' ' -f1)" "$(d 'Mount count')"
same "error count" "$(i 'error count:')" "$(d 'FS Error count')"
same "first error" "$(i 'first error:')" "$(t "$(d 'First error time')")"
same "last error" "$(i 'last error:')" "$(t "$(d 'Last error time')")"
same "first error function" "$(grep -A1 '^first error:' "$tmp/info.out" | sed -n 's/^  function: *//p')" "$(d 'First error function')"
same "last error inode" "$(grep -A3 '^last error:' "$tmp/info.out" | sed -n 's/^  inode: *//p')" "$(d 'Last error inode #')"
same "last error block" "$(grep -A4 '^last error:' "$tmp/info.out" | sed -n 's/^  block: *//p')" "$(d 'Last error block #')"
"$e4img" info "$base" >"$tmp/info0.out"
grep -q '^error count' "$tmp/info0.out" && bad "info: error fields on an image without errors" ||
	ok "info: no error fields when none is set"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
