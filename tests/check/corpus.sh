#!/bin/bash
# e4img check over every image of the e2fsprogs corpus: no crash, no hang,
# no sanitizer report, and the same outcome as recorded in corpus-expected.tsv
# (clean / problems / unreadable, and the ids of the rules broken, as
# docs/rules.md lists them), so a change of behaviour is seen.  Prints how
# often the verdict agrees with e2fsck -fn (INDEX.tsv).
#   tests/check/corpus.sh            run (as a test: E4_SRCDIR, E4_BUILDDIR)
#   tests/check/corpus.sh --record   rewrite corpus-expected.tsv
set -u
src=${E4_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${E4_BUILDDIR:-$src}
expected=$src/tests/check/corpus-expected.tsv
corpus=""
for d in "$src/../shared/corpus/e2fsprogs" /work/shared/corpus/e2fsprogs; do
	[ -f "$d/INDEX.tsv" ] && { corpus=$d; break; }
done
[ -n "$corpus" ] || { echo "SKIP: no e2fsprogs corpus"; exit 77; }
command -v zstd >/dev/null || { echo "SKIP: zstd missing"; exit 77; }

cache=$build/tests/corpus
mkdir -p "$cache"
export ASAN_OPTIONS=exitcode=86:detect_leaks=1 LSAN_OPTIONS=exitcode=86 UBSAN_OPTIONS=exitcode=87:print_stacktrace=1

record=0; [ "${1:-}" = --record ] && record=1
out=$(mktemp); trap 'rm -f "$out"' EXIT
fail=0; agree=0; total=0
while IFS=$'\t' read -r img desc size bs feat verdict; do
	[ "$img" = image ] && continue
	f=$cache/$img.img
	[ -s "$f" ] || zstd -q -d -f "$corpus/$img.img.zst" -o "$f" || { echo "$img: cannot decompress"; fail=1; continue; }
	timeout 30 "$build/e4img" check "$f" >"$cache/$img.check" 2>&1
	rc=$?
	case $rc in
	0) got=clean ;; 1) got=problems ;; 2) got=unreadable ;;
	124) got=hang ;; *) got="crash($rc)" ;;
	esac
	# the rules broken: the ids that end the lines ("... [EX1]")
	rules=$(grep -o '\[[A-Z0-9-]*\]$' "$cache/$img.check" | tr -d '[]' | sort -u | paste -sd, -)
	printf '%s\t%s\t%s\n' "$img" "$got" "${rules:--}" >>"$out"
	total=$((total + 1))
	case "$verdict:$got" in
	clean:clean | corrupt:problems | corrupt:unreadable) agree=$((agree + 1)) ;;
	esac
	case $got in
	hang | crash*) echo "FAIL $img: $got"; tail -20 "$cache/$img.check"; fail=1 ;;
	esac
	if [ $record = 0 ]; then
		want=$(awk -F'\t' -v i="$img" '$1 == i {print $2 " " $3}' "$expected")
		if [ "$want" != "$got ${rules:--}" ]; then
			echo "FAIL $img: expected '$want', got '$got ${rules:--}': $(head -2 "$cache/$img.check" | tr '\n' ' ')"
			fail=1
		fi
	fi
done <"$corpus/INDEX.tsv"
[ $record = 1 ] && { cp "$out" "$expected"; echo "recorded $expected"; }
echo "e4img check on $total corpus images: agrees with e2fsck -fn on $agree (clean vs not clean)"
exit $fail
