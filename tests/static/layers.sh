#!/bin/sh
# The layers depend one way (docs/architecture.md): a file includes headers
# of its own layer and of the layers below it, and nothing of FUSE is
# included below src/fuse/.  Layers, lowest first:
#   util io ondisk tx alloc fs check e4img   (libe4 and its tool)
#   fuse                            (the front end, over libe4)
# include/e4/ is libe4's public interface and may be included anywhere.
set -eu
src=${E4_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
order="util io ondisk tx alloc fs check e4img fuse"
# The one allowed upward include: the file system object owns the in-core
# inode cache's lifetime (created at open, freed at close).
allowed="src/ondisk/fs.c:fs/icache.h"
fail=0
rank() { i=0; for l in $order; do [ "$l" = "$1" ] && { echo $i; return; }; i=$((i + 1)); done; echo 99; }
for layer in $order; do
	r=$(rank "$layer")
	for f in "$src"/src/"$layer"/*.[ch]; do
		[ -e "$f" ] || continue
		rel=${f#"$src"/}
		if [ "$layer" != fuse ] &&
		   grep -qE '#include [<"](linux/fuse\.h|fuse/|fuse_kernel\.h)' "$f"; then
			echo "FAIL: $rel includes a FUSE header below src/fuse/"
			fail=1
		fi
		for inc in $(sed -n 's/^#include "\([a-z0-9_]*\/[a-z0-9_.]*\)".*/\1/p' "$f"); do
			dir=${inc%%/*}
			[ "$dir" = e4 ] && continue
			case " $allowed " in *" $rel:$inc "*) continue ;; esac
			if [ "$(rank "$dir")" -gt "$r" ]; then
				echo "FAIL: $rel ($layer) includes $inc, a layer above it"
				fail=1
			fi
		done
	done
done
[ $fail = 0 ] && echo "layers depend one way: $order"
exit $fail
