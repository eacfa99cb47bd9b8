#!/bin/sh
# The rule table (include/e4/rules.h) lists only rules the code enforces,
# and docs/rules.md lists exactly the table: every enumerator is used
# somewhere under src/, every id has its row in the document and every row
# an id.
set -eu
src=${E4_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
sed -n 's/^[[:space:]]*X(\([A-Z0-9_]*\), "\([^"]*\)".*/\1 \2/p' \
	"$src/include/e4/rules.h" | grep -v '^NONE ' > "$tmp/rules"
[ -s "$tmp/rules" ] || { echo "FAIL: no rules found in rules.h"; exit 1; }
while read -r sym id; do
	if ! grep -rqw "E4_RULE_$sym" "$src/src"; then
		echo "FAIL: E4_RULE_$sym ($id) is used nowhere in src/"
		fail=1
	fi
done < "$tmp/rules"
cut -d' ' -f2 "$tmp/rules" | sort > "$tmp/ids"
sed -n 's/^| `\([^`]*\)` |.*/\1/p' "$src/docs/rules.md" | sort > "$tmp/doc"
if ! cmp -s "$tmp/ids" "$tmp/doc"; then
	echo "FAIL: docs/rules.md and include/e4/rules.h list different ids (< header, > document):"
	diff "$tmp/ids" "$tmp/doc" | grep '^[<>]'
	fail=1
fi
[ $fail = 0 ] && echo "$(wc -l < "$tmp/ids") rules, each used and documented"
exit $fail
