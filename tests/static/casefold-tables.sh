#!/bin/sh
# src/ondisk/casefold_tables.c is what scripts/gen-casefold-tables.py
# makes from the Unicode data files (Debian's unicode-data, which
# scripts/install-deps.sh installs): the committed tables are not edited
# by hand, and the generator still produces them.
set -eu
src=${E4_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
data=/usr/share/unicode
for f in UnicodeData.txt CaseFolding.txt DerivedAge.txt DerivedCoreProperties.txt; do
	[ -f "$data/$f" ] || { echo "SKIP: $data/$f missing (apt-get install unicode-data)"; exit 77; }
done
tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
python3 "$src/scripts/gen-casefold-tables.py" "$data" > "$tmp"
if cmp -s "$tmp" "$src/src/ondisk/casefold_tables.c"; then
	echo "PASS: casefold_tables.c is the generator's output"
	exit 0
fi
echo "FAIL: src/ondisk/casefold_tables.c differs from scripts/gen-casefold-tables.py's output:"
diff "$tmp" "$src/src/ondisk/casefold_tables.c" | head -n 20
exit 1
