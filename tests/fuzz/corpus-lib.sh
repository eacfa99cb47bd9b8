# SPDX-License-Identifier: MIT
# Shared by corpus-walk.sh and corpus-mount.sh (sourced): find the corpus of
# hostile images and decompress it once per build tree.
set -u
export TZ=UTC LC_ALL=C
: "${E4_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${E4_BUILDDIR:=$E4_SRCDIR}"

skip() { echo "SKIP: $*"; exit 77; }
hard_error() { echo "ERROR: $*"; exit 99; }

corpus_find() {
	local c
	for c in "$E4_SRCDIR/../shared/corpus/e2fsprogs" /work/shared/corpus/e2fsprogs; do
		if [ -f "$c/INDEX.tsv" ]; then
			CORPUS_SRC=$(cd "$c" && pwd)
			return 0
		fi
	done
	skip "no corpus (../shared/corpus/e2fsprogs)"
}

# Decompress every image into $CORPUS_IMG (sparse; ~70 MiB on disk) once.
# Concurrent tests wait on the lock.
corpus_unpack() {
	command -v zstd >/dev/null || skip "zstd missing"
	CORPUS_IMG=$E4_BUILDDIR/tests/fuzz/corpus-img
	mkdir -p "$CORPUS_IMG"
	(
		flock 9
		[ -f "$CORPUS_IMG/.stamp" ] && cmp -s "$CORPUS_IMG/.stamp" "$CORPUS_SRC/INDEX.tsv" && exit 0
		for z in "$CORPUS_SRC"/*.img.zst; do
			zstd -q -d -f --sparse "$z" -o "$CORPUS_IMG/$(basename "${z%.zst}")" ||
				exit 1
		done
		cp "$CORPUS_SRC/INDEX.tsv" "$CORPUS_IMG/.stamp"
	) 9>"$CORPUS_IMG.lock" || hard_error "cannot decompress the corpus"
}

# The images in INDEX.tsv order.
corpus_names() {
	tail -n +2 "$CORPUS_SRC/INDEX.tsv" | cut -f1
}
