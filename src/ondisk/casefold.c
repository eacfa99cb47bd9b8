/* SPDX-License-Identifier: MIT */
/*
 * The casefold of ext4's case-insensitive directories (spec §7.10):
 * each code point is replaced by its mapping NFD(casefold(NFD(c)))
 * (Unicode 12.1, full folding, default-ignorable code points dropped,
 * Hangul syllables decomposed by arithmetic), then each run of
 * combining marks is put in canonical order, once, over the whole
 * result.  Ordering once at the end, with the classes of the mapped
 * characters, is what the ext4 tools do: U+03B1 U+0345 U+0301 folds like
 * U+03B1 U+03B9 U+0301 (U+0345 folds to the starter U+03B9 before any
 * reordering), not like U+03B1 U+0301 U+03B9 (`debugfs dx_hash -c`).
 *
 * A code point unassigned in 12.1 is its own mapping, a starter; a name
 * that is not UTF-8 (a bad or truncated sequence, an overlong form, a
 * surrogate, beyond U+10FFFF) has no fold: -EINVAL, and the callers
 * compare and hash its bytes, as ext4 documents it.  (e2fsprogs differs
 * there: `dx_hash -c` folds the valid parts of such a name around its bad
 * bytes, and e2fsck -D cannot index a directory holding one; the kernel
 * here has no CONFIG_UNICODE to ask.)
 */
#include <errno.h>
#include <string.h>

#include "ondisk/casefold.h"

#define HANGUL_S 0xAC00u
#define HANGUL_L 0x1100u
#define HANGUL_V 0x1161u
#define HANGUL_T 0x11A7u
#define HANGUL_VCOUNT 21u
#define HANGUL_TCOUNT 28u
#define HANGUL_COUNT (19u * HANGUL_VCOUNT * HANGUL_TCOUNT)

/* One code point of @s at *@i, advancing *@i; -1 when the bytes there
 * are not a UTF-8 sequence. */
static int32_t utf8_next(const uint8_t *s, size_t len, size_t *i)
{
	uint8_t c = s[*i];
	uint32_t cp, min;
	size_t n;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 1; cp = c & 0x1Fu; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 2; cp = c & 0x0Fu; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 3; cp = c & 0x07u; min = 0x10000;
	} else {
		return -1;
	}
	if (len - *i <= n)
		return -1;
	for (size_t k = 1; k <= n; k++) {
		uint8_t t = s[*i + k];

		if ((t & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (t & 0x3Fu);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*i += n + 1;
	return (int32_t)cp;
}

size_t e4_utf8_put(uint32_t cp, uint8_t *out)
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xC0 | (cp >> 6));
		out[1] = (uint8_t)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xE0 | (cp >> 12));
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (uint8_t)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (uint8_t)(0xF0 | (cp >> 18));
	out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (uint8_t)(0x80 | (cp & 0x3F));
	return 4;
}

/* Index of the entry of sorted @keys whose key >> @shift is @cp, or -1. */
static long table_find(const uint32_t *keys, size_t n, unsigned shift,
		       uint32_t cp)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t k = keys[mid] >> shift;

		if (k == cp)
			return (long)mid;
		if (k < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Index of @cp in sorted @keys, or -1. */
static long table16_find(const uint16_t *keys, size_t n, uint32_t cp)
{
	size_t lo = 0, hi = n;

	if (cp > 0xFFFF)
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (keys[mid] == cp)
			return (long)mid;
		if (keys[mid] < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static uint8_t combining_class(uint32_t cp)
{
	long i = table_find(e4_cf_ccc, e4_cf_ccc_len, 8, cp);

	return i < 0 ? 0 : (uint8_t)(e4_cf_ccc[i] & 0xFF);
}

static bool is_ignorable(uint32_t cp)
{
	size_t lo = 0, hi = e4_cf_ignorable_len / 2;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < e4_cf_ignorable[2 * mid])
			hi = mid;
		else if (cp > e4_cf_ignorable[2 * mid + 1])
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/*
 * A default-ignorable code point leaves nothing in the fold, but it still
 * ends a run of combining marks: U+0591 U+200B U+0F72 folds to U+0591
 * U+0F72, where U+0591 U+0F72 is reordered to U+0F72 U+0591 (`debugfs
 * dx_hash -c`).  It stays in the code points as this starter, and is
 * dropped when they are written out.
 */
#define IGNORED 0xFFFFFFFFu

/* Append the mapping of @cp to the code points at @cps. */
static size_t fold_one(uint32_t cp, uint32_t *cps)
{
	long i;

	if (cp >= HANGUL_S && cp < HANGUL_S + HANGUL_COUNT) {
		uint32_t s = cp - HANGUL_S, t = s % HANGUL_TCOUNT;

		cps[0] = HANGUL_L + s / (HANGUL_VCOUNT * HANGUL_TCOUNT);
		cps[1] = HANGUL_V + (s % (HANGUL_VCOUNT * HANGUL_TCOUNT)) /
					    HANGUL_TCOUNT;
		if (!t)
			return 2;
		cps[2] = HANGUL_T + t;
		return 3;
	}
	if (is_ignorable(cp)) {
		cps[0] = IGNORED;
		return 1;
	}
	i = table16_find(e4_cf_one_in, e4_cf_one_in_len, cp);
	if (i >= 0) {
		cps[0] = e4_cf_one_out[i];
		return 1;
	}
	i = table16_find(e4_cf_two_in, e4_cf_two_in_len, cp);
	if (i >= 0) {
		cps[0] = e4_cf_two_out[2 * i];
		cps[1] = e4_cf_two_out[2 * i + 1];
		return 2;
	}
	i = table_find(e4_cf_map_key, e4_cf_map_key_len, 5, cp);
	if (i < 0) {
		cps[0] = cp;
		return 1;
	} else {
		/* the generator's own output: valid UTF-8, inside the pool */
		size_t off = e4_cf_map_off[i], end = off + (e4_cf_map_key[i] & 31);
		size_t n = 0;

		while (off < end)
			cps[n++] = (uint32_t)utf8_next(e4_cf_pool, end, &off);
		return n;
	}
}

/* Canonical ordering: a stable sort by class of each run of non-starters. */
static void canonical_order(uint32_t *cps, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint32_t c = cps[i];
		uint8_t cc = combining_class(c);
		size_t j = i;

		if (!cc)
			continue;
		while (j > 0) {
			uint8_t prev = combining_class(cps[j - 1]);

			if (!prev || prev <= cc)
				break;
			cps[j] = cps[j - 1];
			j--;
		}
		cps[j] = c;
	}
}

bool e4_utf8_valid(const char *name, size_t len)
{
	const uint8_t *s = (const uint8_t *)name;

	for (size_t i = 0; i < len;)
		if (utf8_next(s, len, &i) < 0)
			return false;
	return true;
}

int e4_casefold(const char *name, size_t len, uint8_t *out, size_t *outlen)
{
	const uint8_t *s = (const uint8_t *)name;
	/* every code point of the result takes at least one byte */
	uint32_t cps[E4_CASEFOLD_MAX];
	size_t n = 0, o = 0;

	if (len > E4_NAME_MAX)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < len;) {
		int32_t cp = utf8_next(s, len, &i);

		if (cp < 0)
			return -EINVAL;
		n += fold_one((uint32_t)cp, cps + n);
	}
	canonical_order(cps, n);
	for (size_t i = 0; i < n; i++)
		if (cps[i] != IGNORED)
			o += e4_utf8_put(cps[i], out + o);
	*outlen = o;
	return 0;
}
