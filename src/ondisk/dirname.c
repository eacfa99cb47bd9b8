/* SPDX-License-Identifier: MIT */
/*
 * Names looked for in a directory, and how its entries are compared with
 * them and hashed: the directory's rule in one place, for the linear
 * walks (dir.c), the htree (htree.c) and the writer's leaf splits.
 *
 * In a casefolded directory (§7.10) a name and an entry match when their
 * folds are equal; a name that is not UTF-8 has no fold and is compared
 * and hashed as its bytes (so in non-strict mode "\xff" and "\xffA" are
 * distinct names, and "A\xff" does not match "a\xff").  In an encrypted
 * directory (without the key) the name is a no-key name (nokey.c).
 */
#include <string.h>

#include "ondisk.h"

/* a decoded no-key name shares the fold's buffer */
_Static_assert(E4_NOKEY_RAW_MAX <= E4_CASEFOLD_MAX, "no-key name buffer");

bool e4_dir_is_casefold(const struct e4_fs *fs, const struct e4_inode *dir)
{
	return (fs->feature_incompat & E4_INCOMPAT_CASEFOLD) &&
	       (dir->flags & E4_CASEFOLD_FL);
}

void e4_dir_name_init(const struct e4_fs *fs, const struct e4_inode *dir,
		      const char *name, size_t len, struct e4_dir_name *n)
{
	n->name = name;
	n->len = len;
	n->flen = 0;
	n->nokey = e4_inode_is_encrypted(fs, dir);
	if (n->nokey) {
		n->folded = false;
		if (e4_nokey_decode(name, len, n->fold, &n->flen))
			n->flen = 0;
		return;
	}
	n->folded = e4_dir_is_casefold(fs, dir) &&
		    e4_casefold(name, len, n->fold, &n->flen) == 0;
}

bool e4_dir_name_match(const struct e4_dir_name *n, const uint8_t *entry,
		       size_t elen)
{
	uint8_t fold[E4_CASEFOLD_MAX];
	size_t flen;

	if (n->nokey)
		return n->flen && e4_nokey_match(n->fold, n->flen, entry, elen);
	if (elen == n->len && memcmp(entry, n->name, elen) == 0)
		return true;
	if (!n->folded ||
	    e4_casefold((const char *)entry, elen, fold, &flen) != 0)
		return false;
	return flen == n->flen && memcmp(fold, n->fold, flen) == 0;
}

int e4_dir_name_allowed(const struct e4_fs *fs, const struct e4_inode *dir,
			const char *name, size_t len)
{
	if (fs->casefold_strict && e4_dir_is_casefold(fs, dir) &&
	    !e4_utf8_valid(name, len))
		return -EINVAL;
	return 0;
}

int e4_dir_name_hash(const struct e4_fs *fs, const struct e4_dir_name *n,
		     unsigned version, uint32_t *major, uint32_t *minor)
{
	if (n->nokey) {
		/* the hash the kernel put in the name: ciphertexts cannot be
		 * hashed from it (a long one is only partly there) */
		if (!n->flen)
			return -EINVAL;	/* the lookup's -ENOENT */
		if (major)
			*major = e4_le32(n->fold, n->flen, 0);
		if (minor)
			*minor = e4_le32(n->fold, n->flen, 4);
		return 0;
	}
	if (n->folded)
		return e4_dirhash((const char *)n->fold, n->flen, version,
				  fs->hash_seed, major, minor);
	return e4_dirhash(n->name, n->len, version, fs->hash_seed, major,
			  minor);
}

int e4_dir_entry_hash(const struct e4_fs *fs, const struct e4_inode *dir,
		      const char *name, size_t len, unsigned version,
		      uint32_t *major, uint32_t *minor)
{
	struct e4_dir_name n;

	e4_dir_name_init(fs, dir, name, len, &n);
	return e4_dir_name_hash(fs, &n, version, major, minor);
}
