/* SPDX-License-Identifier: MIT */
/*
 * Names in encrypted directories (INCOMPAT_ENCRYPT, ENCRYPT_FL) without
 * the key, the way Linux shows them (fscrypt's "no-key" names; observed
 * against the kernel's own listing of the same images): the directory
 * hash of the entry (le32 major, le32 minor; zeros where the kernel has
 * none), then the ciphertext, base64url-encoded without padding.  A
 * ciphertext longer than 149 bytes keeps its first 149 bytes and the
 * SHA-256 of the rest, so every no-key name fits in 252 characters.
 * Lookups decode the name and compare ciphertexts.
 */
#include <string.h>

#include "ondisk.h"
#include "util/sha256.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

bool e4_inode_is_encrypted(const struct e4_fs *fs,
			   const struct e4_inode *inode)
{
	return (fs->feature_incompat & E4_INCOMPAT_ENCRYPT) &&
	       (inode->flags & E4_ENCRYPT_FL);
}

static size_t base64url_encode(const uint8_t *in, size_t len, char *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = alphabet[(acc >> bits) & 63];
		}
	}
	if (bits)
		out[o++] = alphabet[(acc << (6 - bits)) & 63];
	out[o] = '\0';
	return o;
}

/* -1 for a character outside the alphabet, a length no encoding has, left
 * over bits that are not zero, or more than @size bytes. */
static long base64url_decode(const char *in, size_t len, uint8_t *out,
			     size_t size)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		const char *p = memchr(alphabet, in[i], 64);

		if (!p || !in[i])
			return -1;
		acc = (acc << 6) | (uint32_t)(p - alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == size)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits >= 6 || (acc & ((1u << bits) - 1)))
		return -1;
	return (long)o;
}

size_t e4_nokey_encode(const uint8_t *ct, size_t len, uint32_t hash,
		       uint32_t minor, char *out)
{
	uint8_t raw[E4_NOKEY_RAW_MAX];
	size_t n = E4_NOKEY_HASH_SIZE;

	e4_put_le32(raw, sizeof(raw), 0, hash);
	e4_put_le32(raw, sizeof(raw), 4, minor);
	if (len <= E4_NOKEY_BYTES) {
		memcpy(raw + n, ct, len);
		n += len;
	} else {
		memcpy(raw + n, ct, E4_NOKEY_BYTES);
		e4_sha256(ct + E4_NOKEY_BYTES, len - E4_NOKEY_BYTES,
			  raw + n + E4_NOKEY_BYTES);
		n = E4_NOKEY_RAW_MAX;
	}
	return base64url_encode(raw, n, out);
}

int e4_nokey_decode(const char *name, size_t len, uint8_t *raw,
		    size_t *rawlen)
{
	long n = base64url_decode(name, len, raw, E4_NOKEY_RAW_MAX);

	/* at least one byte of ciphertext; past 149 bytes only the digest
	 * form */
	if (n < E4_NOKEY_HASH_SIZE + 1 ||
	    (n > E4_NOKEY_HASH_SIZE + E4_NOKEY_BYTES && n != E4_NOKEY_RAW_MAX))
		return -ENOENT;
	*rawlen = (size_t)n;
	return 0;
}

bool e4_nokey_match(const uint8_t *raw, size_t rawlen, const uint8_t *ct,
		    size_t len)
{
	const uint8_t *bytes = raw + E4_NOKEY_HASH_SIZE;
	uint8_t digest[E4_SHA256_SIZE];

	if (rawlen < E4_NOKEY_RAW_MAX)
		return len == rawlen - E4_NOKEY_HASH_SIZE &&
		       memcmp(ct, bytes, len) == 0;
	if (len <= E4_NOKEY_BYTES || memcmp(ct, bytes, E4_NOKEY_BYTES))
		return false;
	e4_sha256(ct + E4_NOKEY_BYTES, len - E4_NOKEY_BYTES, digest);
	return memcmp(digest, bytes + E4_NOKEY_BYTES, sizeof(digest)) == 0;
}
