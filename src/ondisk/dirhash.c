/* SPDX-License-Identifier: MIT */
/*
 * Directory name hashes (spec §7.7): legacy, half-MD4 and TEA, each in a
 * signed-char and an unsigned-char variant.  The htree stores only the major
 * hash; the minor hash orders equal majors when leaves are split.
 *
 * SipHash (version 6) belongs to encrypted+casefolded directories, which
 * e4fuse does not support.
 */
#include "ondisk.h"

static const uint32_t default_seed[4] = {
	0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u,
};

/* A name byte as the hash sees it: the signed versions sign-extend (what a
 * signed `char` does on x86), the unsigned ones do not. */
static uint32_t name_byte(const char *name, size_t i, bool is_unsigned)
{
	uint8_t c = (uint8_t)name[i];

	if (is_unsigned)
		return c;
	return (uint32_t)(int32_t)(int8_t)c;
}

static uint32_t hash_legacy(const char *name, size_t len, bool is_unsigned)
{
	uint32_t a = 0x12A3FE2Du, b = 0x37ABE8F9u;

	for (size_t i = 0; i < len; i++) {
		uint32_t t = b + (a ^ (name_byte(name, i, is_unsigned) *
				       7152373u));

		if (t & 0x80000000u)
			t -= 0x7FFFFFFFu;
		b = a;
		a = t;
	}
	return a << 1;
}

/* §7.7.3: the next @nwords words of the name, starting at @p.  Missing bytes
 * are padded with the remaining length replicated into every byte. */
static void pack_words(const char *name, size_t len, size_t p, bool is_unsigned,
		       uint32_t *out, size_t nwords)
{
	size_t remaining = len - p;
	uint32_t pad = (uint32_t)(remaining & 0xFF) * 0x01010101u;
	uint32_t val = pad;
	size_t take = remaining < 4 * nwords ? remaining : 4 * nwords;
	size_t n = 0;

	for (size_t i = 0; i < take; i++) {
		val = name_byte(name, p + i, is_unsigned) + (val << 8);
		if (i % 4 == 3) {
			out[n++] = val;
			val = pad;
		}
	}
	if (n < nwords)
		out[n++] = val;
	while (n < nwords)
		out[n++] = pad;
}

static inline uint32_t rotl32(uint32_t x, unsigned s)
{
	return (x << s) | (x >> (32 - s));
}

#define MD4_F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MD4_G(x, y, z) (((x) & (y)) + (((x) ^ (y)) & (z)))
#define MD4_H(x, y, z) ((x) ^ (y) ^ (z))
#define MD4_STEP(f, a, b, c, d, in, k, s) \
	((a) = rotl32((a) + f((b), (c), (d)) + (in) + (k), (s)))

static void half_md4_transform(uint32_t state[4], const uint32_t in[8])
{
	const uint32_t k2 = 0x5A827999u, k3 = 0x6ED9EBA1u;
	uint32_t a = state[0], b = state[1], c = state[2], d = state[3];

	MD4_STEP(MD4_F, a, b, c, d, in[0], 0, 3);
	MD4_STEP(MD4_F, d, a, b, c, in[1], 0, 7);
	MD4_STEP(MD4_F, c, d, a, b, in[2], 0, 11);
	MD4_STEP(MD4_F, b, c, d, a, in[3], 0, 19);
	MD4_STEP(MD4_F, a, b, c, d, in[4], 0, 3);
	MD4_STEP(MD4_F, d, a, b, c, in[5], 0, 7);
	MD4_STEP(MD4_F, c, d, a, b, in[6], 0, 11);
	MD4_STEP(MD4_F, b, c, d, a, in[7], 0, 19);

	MD4_STEP(MD4_G, a, b, c, d, in[1], k2, 3);
	MD4_STEP(MD4_G, d, a, b, c, in[3], k2, 5);
	MD4_STEP(MD4_G, c, d, a, b, in[5], k2, 9);
	MD4_STEP(MD4_G, b, c, d, a, in[7], k2, 13);
	MD4_STEP(MD4_G, a, b, c, d, in[0], k2, 3);
	MD4_STEP(MD4_G, d, a, b, c, in[2], k2, 5);
	MD4_STEP(MD4_G, c, d, a, b, in[4], k2, 9);
	MD4_STEP(MD4_G, b, c, d, a, in[6], k2, 13);

	MD4_STEP(MD4_H, a, b, c, d, in[3], k3, 3);
	MD4_STEP(MD4_H, d, a, b, c, in[7], k3, 9);
	MD4_STEP(MD4_H, c, d, a, b, in[2], k3, 11);
	MD4_STEP(MD4_H, b, c, d, a, in[6], k3, 15);
	MD4_STEP(MD4_H, a, b, c, d, in[1], k3, 3);
	MD4_STEP(MD4_H, d, a, b, c, in[5], k3, 9);
	MD4_STEP(MD4_H, c, d, a, b, in[0], k3, 11);
	MD4_STEP(MD4_H, b, c, d, a, in[4], k3, 15);

	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
}

static void tea_transform(uint32_t state[4], const uint32_t in[4])
{
	uint32_t sum = 0, x = state[0], y = state[1];

	for (int round = 0; round < 16; round++) {
		sum += 0x9E3779B9u;
		x += ((y << 4) + in[0]) ^ (y + sum) ^ ((y >> 5) + in[1]);
		y += ((x << 4) + in[2]) ^ (x + sum) ^ ((x >> 5) + in[3]);
	}
	state[0] += x;
	state[1] += y;
}

int e4_dirhash(const char *name, size_t len, unsigned version,
	       const uint32_t seed[4], uint32_t *major, uint32_t *minor)
{
	uint32_t state[4], in[8];
	uint32_t hi, lo = 0;
	bool is_unsigned;

	if (version == E4_HASH_SIPHASH)
		return -EOPNOTSUPP;
	if (version > E4_HASH_TEA_UNSIGNED)
		return -EINVAL;
	/* a casefolded name's fold may be longer than a name */
	if (len > E4_CASEFOLD_MAX || (len && !name))
		return -EINVAL;
	is_unsigned = version >= E4_HASH_LEGACY_UNSIGNED;

	if (seed && (seed[0] | seed[1] | seed[2] | seed[3]))
		memcpy(state, seed, sizeof(state));
	else
		memcpy(state, default_seed, sizeof(state));

	switch (version % 3) {
	case E4_HASH_LEGACY:
		hi = hash_legacy(name, len, is_unsigned);
		break;
	case E4_HASH_HALF_MD4:
		for (size_t p = 0; p < len; p += 32) {
			pack_words(name, len, p, is_unsigned, in, 8);
			half_md4_transform(state, in);
		}
		hi = state[1];
		lo = state[2];
		break;
	default: /* E4_HASH_TEA */
		for (size_t p = 0; p < len; p += 16) {
			pack_words(name, len, p, is_unsigned, in, 4);
			tea_transform(state, in);
		}
		hi = state[0];
		lo = state[1];
		break;
	}

	/* Bit 0 is the htree continuation flag; ~1 marks end of directory. */
	hi &= ~1u;
	if (hi == 0xFFFFFFFEu)
		hi = 0xFFFFFFFCu;
	if (major)
		*major = hi;
	if (minor)
		*minor = lo;
	return 0;
}
