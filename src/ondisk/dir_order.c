/* SPDX-License-Identifier: MIT */
/*
 * Directory listings in the kernel's order (e4_dir_readdir), so that what a
 * program walking a tree sees (ls -f, find, a tar of it) is what the
 * kernel's ext4 would show it.
 *
 * ext4 lists a directory by hash (§7.7) wherever it could have an index
 * (dir_index, and an index, inline data or a single block), in block order
 * elsewhere.  In hash order "." and ".." come first where there is an index
 * (they are not among its leaves), and take their place by their own hash
 * otherwise.  A listing by hash visits the index's leaves in order, each
 * leaf's entries sorted by (hash, minor hash).
 *
 * Positions.  A block-order position is a byte offset (below 2^62).  A
 * hash-order position has bit 62 set; under it, 0 is "..", 1 the first
 * hashed entry, and 2 + (key << 8 | i) the i-th entry of those sharing the
 * 53-bit key (hash >> 1, minor hash >> 10): a place that names added or
 * removed elsewhere do not move.  More than 256 names on one key (only a
 * crafted image has that) are listed up to the 256th, with a warning.
 * Which order a listing uses is settled at position 0, where an index that
 * does not check out whole sends it to block order (salvage: the linear
 * walk skips the bad blocks).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ondisk.h"

#define HASH_POS (1ull << 62)
#define HASH_DOTDOT 0u		/* ".." next (indexed directories) */
#define HASH_FIRST 1u		/* the first hashed entry next */
#define HASH_BASE 2u		/* + (key << 8 | i) */
#define GROUP_MAX 256u

/* One leaf's (or a small directory's) entries, to sort. */
struct entries {
	struct e4_dirent *v;
	size_t n, cap;
};

static int entries_add(void *ctx, const struct e4_dirent *d)
{
	struct entries *e = ctx;

	if (e->n == e->cap) {
		/* a block holds at most block_size / 12 entries */
		size_t cap = e->cap ? e->cap * 2 : 64;
		struct e4_dirent *v = realloc(e->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = *d;
	return 0;
}

static int by_hash(const void *x, const void *y)
{
	const struct e4_dirent *a = x, *b = y;
	size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
	int c;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	if (a->minor_hash != b->minor_hash)
		return a->minor_hash < b->minor_hash ? -1 : 1;
	/* equal hashes (the legacy hash has no minor): in block order, as
	 * the kernel lists them; positions grow through a block */
	if (a->next_pos != b->next_pos)
		return a->next_pos < b->next_pos ? -1 : 1;
	c = memcmp(a->name, b->name, n);
	return c ? c : (int)a->name_len - (int)b->name_len;
}

static uint64_t hash_key(const struct e4_dirent *d)
{
	return (uint64_t)(d->hash >> 1) << 22 | d->minor_hash >> 10;
}

/* A listing by hash from (from_key, from_i), the running group counted
 * from the first leaf visited (which holds the start of from_key's run). */
struct hash_listing {
	struct e4_fs *fs;
	const struct e4_inode *dir;
	struct e4_dir_listing how;
	uint64_t from_key;
	unsigned from_i;
	uint64_t key;		/* the group counted, and its next index */
	unsigned i;
	bool counting;
	bool warned;
	struct entries e;
	bool *skipped;
	e4_dir_cb cb;
	void *ctx;
};

static int emit_sorted(struct hash_listing *l)
{
	if (l->e.n == 0)
		return 0;	/* (a block skipped: nothing collected) */
	qsort(l->e.v, l->e.n, sizeof(*l->e.v), by_hash);
	for (size_t k = 0; k < l->e.n; k++) {
		struct e4_dirent *d = &l->e.v[k];
		uint64_t key = hash_key(d);
		unsigned i;
		int rc;

		if (!l->counting || key != l->key) {
			l->key = key;
			l->i = 0;
			l->counting = true;
		}
		i = l->i++;
		if (i >= GROUP_MAX) {
			if (!l->warned)
				e4_log(l->fs, E4_LOG_WARN,
				       "directory %u: more than %u names share hash %08x:%08x; the rest are not listed",
				       l->dir->ino, GROUP_MAX, d->hash,
				       d->minor_hash);
			l->warned = true;
			continue;
		}
		if (key < l->from_key || (key == l->from_key && i < l->from_i))
			continue;
		d->next_pos = HASH_POS | (HASH_BASE +
				(i + 1 < GROUP_MAX ? key << 8 | (i + 1) :
						     (key + 1) << 8));
		rc = l->cb(l->ctx, d);
		if (rc)
			return rc;
	}
	return 0;
}

static int list_leaf(void *ctx, uint64_t lblk)
{
	struct hash_listing *l = ctx;
	int rc;

	l->e.n = 0;
	rc = e4_dir_block_list(l->fs, &l->how, lblk, E4_DIR_SALVAGE,
			       entries_add, &l->e, l->skipped);
	return rc ? rc : emit_sorted(l);
}

/* "." and ".." of an indexed directory, from position @pos (0 or 1). */
static int list_dots(struct hash_listing *l, uint64_t pos)
{
	int rc;

	l->e.n = 0;
	rc = e4_dir_block_list(l->fs, &l->how, 0, E4_DIR_SALVAGE,
			       entries_add, &l->e, l->skipped);
	for (size_t k = 0; !rc && k < l->e.n && k < 2; k++) {
		struct e4_dirent *d = &l->e.v[k];

		if (k < pos)
			continue;
		d->next_pos = HASH_POS | (k ? HASH_FIRST : HASH_DOTDOT);
		rc = l->cb(l->ctx, d);
	}
	return rc;
}

static int list_by_hash(struct e4_fs *fs, const struct e4_inode *dir,
			uint64_t pos, bool indexed, e4_dir_cb cb, void *ctx,
			bool *skipped)
{
	struct hash_listing l = { .fs = fs, .dir = dir, .cb = cb, .ctx = ctx,
				  .skipped = skipped };
	uint64_t at = pos & ~HASH_POS;
	int rc = 0;

	e4_dir_listing_init(fs, dir, &l.how);
	if (indexed && (pos == 0 || at == HASH_DOTDOT))
		rc = list_dots(&l, pos ? 1 : 0);
	if (!rc && at >= HASH_BASE) {
		l.from_key = (at - HASH_BASE) >> 8;
		l.from_i = (unsigned)((at - HASH_BASE) & 0xff);
	}
	if (rc)
		;
	else if (indexed)
		rc = e4_htree_leaves(fs, dir, (uint32_t)(l.from_key >> 22) << 1,
				     list_leaf, &l);
	else
		rc = list_leaf(&l, 0);
	free(l.e.v);
	return rc;
}

int e4_dir_readdir(struct e4_fs *fs, const struct e4_inode *dir, uint64_t pos,
		   e4_dir_cb cb, void *ctx, bool *skipped)
{
	bool indexed;
	int rc;

	if (!e4_inode_is_dir(dir))
		return -ENOTDIR;
	if (!e4_dir_lists_by_hash(fs, dir))
		/* (a hash position of a directory listed by hash before:
		 * its listing ends) */
		return pos & HASH_POS ? 0 :
		       e4_dir_iterate_mode(fs, dir, pos, E4_DIR_SALVAGE, cb,
					   ctx, skipped);
	if (pos && !(pos & HASH_POS))	/* a listing in block order */
		return e4_dir_iterate_mode(fs, dir, pos, E4_DIR_SALVAGE, cb,
					   ctx, skipped);
	indexed = (dir->flags & E4_INDEX_FL) && !(dir->flags & E4_INLINE_DATA_FL);
	if (indexed && pos == 0) {
		/* the whole index checks out, or the listing is linear */
		rc = e4_htree_leaves(fs, dir, 0, NULL, NULL);
		if (rc == -EAGAIN || rc == -EUCLEAN || rc == -EIO)
			return e4_dir_iterate_mode(fs, dir, 0, E4_DIR_SALVAGE,
						   cb, ctx, skipped);
		if (rc)
			return rc;
	}
	return list_by_hash(fs, dir, pos, indexed, cb, ctx, skipped);
}

static int prefetch_run(void *ctx, uint64_t pblk, uint64_t count,
			bool map_block)
{
	struct e4_fs *fs = ctx;

	(void)map_block;
	if (pblk > UINT64_MAX >> fs->log_block_size ||
	    count > UINT64_MAX >> fs->log_block_size)
		return 1;	/* nonsense: the listing will say so */
	e4_dev_willneed(fs->dev, pblk << fs->log_block_size,
			count << fs->log_block_size);
	return 0;
}

void e4_dir_prefetch(struct e4_fs *fs, const struct e4_inode *dir)
{
	/* one block (or inline): the listing's first read is all there is */
	if (!e4_inode_is_dir(dir) || dir->size <= fs->block_size)
		return;
	(void)e4_map_for_each_owned(fs, dir, prefetch_run, fs);
}
