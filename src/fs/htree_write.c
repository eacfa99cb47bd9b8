/* SPDX-License-Identifier: MIT */
/*
 * Keeping hashed directory indexes (§7.6, "Maintaining an htree"; see
 * writer.h).
 *
 * A name goes to the leaf its hash belongs in.  When that leaf is full it
 * is split: its entries sorted by (hash, minor hash), the upper half moved
 * to a new block appended to the directory, and an index entry for the new
 * block put after the leaf's in its parent (with bit 0 set when the split
 * falls inside a run of equal hashes, so lookups continue into it).  A
 * leaf is split only when its parent has room; otherwise the deepest full
 * index node under one with room is split first, or the root grows a level
 * (two at most, three with large_dir: beyond that the directory is full).
 * Each round starts again from a fresh path, and each makes room one level
 * lower, so a few rounds always suffice.  Index blocks are never removed
 * (as in the kernel): removing names only edits leaves.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/writer.h"

/* One live entry of a leaf being split. */
struct moving {
	uint32_t hash, minor;
	uint32_t off;		/* in the old copy of the leaf */
	uint32_t size;		/* what it needs: e4_dirent_size */
};

static struct e4_owner dx_owner(const struct e4_inode *dir, uint64_t lblk,
				uint64_t nblocks)
{
	struct e4_owner o = e4_owner_of(dir, lblk);

	o.span = nblocks;
	return o;
}

static int by_hash(const void *x, const void *y)
{
	const struct moving *a = x, *b = y;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	return (a->off > b->off) - (a->off < b->off);
}

/* Lay @n entries of @from (offsets in @m) out in leaf @blk, packed, the
 * last one reaching the end of the entry area. */
static void pack_leaf(struct e4_fs *fs, uint8_t *blk, const uint8_t *from,
		      const struct moving *m, size_t n)
{
	uint32_t off = 0, end = e4_dir_leaf_end(fs);

	e4_dir_leaf_init(fs, blk);
	for (size_t i = 0; i < n; i++) {
		struct e4_dirent_rec e;
		uint32_t rec = i + 1 == n ? end - off : m[i].size;

		e4_dirent_get(fs, from, m[i].off, &e);
		e4_dirent_put(fs, blk, off, e.ino, rec, e.name, e.name_len,
			      e.ftype);
		off += rec;
	}
}

/* An index node block at @lblk holding @n entries of @src (hash, block
 * pairs as e4_dx_entry_get gives them). */
static void init_node(struct e4_fs *fs, uint8_t *blk, uint64_t lblk,
		      const uint32_t (*src)[2], uint32_t n)
{
	memset(blk, 0, fs->block_size);
	/* the fake entry that hides the node from linear readers */
	e4_dirent_put(fs, blk, 0, 0, fs->block_size, NULL, 0, 0);
	e4_dx_set_counts(blk, fs->block_size, lblk,
			 (uint16_t)e4_dx_limit(fs, lblk), (uint16_t)n);
	for (uint32_t i = 0; i < n; i++)
		e4_dx_entry_put(blk, fs->block_size, lblk, i, src[i][0],
				src[i][1]);
}

/* Insert (@hash, @block) after entry @at of index block @lblk, which has
 * room. */
static int index_insert(struct e4_map_change *c, const struct e4_dx_path *p,
			unsigned level, uint32_t hash, uint32_t block,
			uint64_t nblocks)
{
	struct e4_fs *fs = c->fs;
	uint64_t lblk = p->lblk[level], pblk;
	struct e4_owner o = dx_owner(c->inode, lblk, nblocks);
	uint32_t at = p->at[level] + 1, count = p->count[level];
	struct e4_mapping m;
	struct e4_buf *copy;
	int err = e4_map_block(fs, c->inode, lblk, &m);

	if (err)
		return err;
	pblk = m.pblk;
	err = e4_handle_get_write_access(c->h, pblk, &e4_bops_dx_node, &o,
					 &copy);
	if (err)
		return err;
	for (uint32_t i = count; i > at; i--) {
		uint32_t h, b;

		e4_dx_entry_get(copy->data, copy->size, lblk, i - 1, &h, &b);
		e4_dx_entry_put(copy->data, copy->size, lblk, i, h, b);
	}
	e4_dx_entry_put(copy->data, copy->size, lblk, at, hash, block);
	e4_dx_set_counts(copy->data, copy->size, lblk,
			 (uint16_t)p->limit[level], (uint16_t)(count + 1));
	return e4_handle_dirty(c->h, copy);
}

/* The directory's current block count. */
static int dir_blocks(struct e4_map_change *c, uint64_t *n)
{
	return e4_dir_nblocks(c->fs, c->inode, n);
}

/* Split the full leaf of @p (its parent has room). */
static int split_leaf(struct e4_map_change *c, const struct e4_dx_path *p)
{
	struct e4_fs *fs = c->fs;
	uint32_t end = e4_dir_leaf_end(fs), total = 0, half = 0, split;
	struct e4_owner o = e4_owner_of(c->inode, p->leaf);
	struct moving *m = NULL;
	uint8_t *old = NULL;
	struct e4_buf *copy;
	struct e4_mapping map;
	uint64_t newl, newp, nblocks;
	size_t n = 0;
	int err;

	/* the new block first: no private copy may be held meanwhile */
	err = e4_dir_append_block(c, &newl, &newp);
	if (!err)
		err = e4_map_block(fs, c->inode, p->leaf, &map);
	if (!err)
		err = e4_handle_get_write_access(c->h, map.pblk,
						 &e4_bops_dir_leaf, &o, &copy);
	if (err)
		return err;
	old = malloc(fs->block_size);
	m = malloc(sizeof(*m) * (fs->block_size / E4_DIRENT_MIN_REC_LEN + 1));
	if (!old || !m) {
		e4_handle_release(c->h, copy);
		err = -ENOMEM;
		goto out;
	}
	memcpy(old, copy->data, fs->block_size);
	for (uint32_t off = 0; off < end;) {
		struct e4_dirent_rec e;

		e4_dirent_get(fs, old, off, &e);
		if (e.ino) {
			m[n] = (struct moving){ 0, 0, off,
						e4_dirent_size(e.name_len) };
			err = e4_dir_entry_hash(fs, c->inode, e.name,
						e.name_len, p->version,
						&m[n].hash, &m[n].minor);
			if (err)
				break;
			total += m[n++].size;
		}
		off += e.rec_len;	/* verified: never 0 */
	}
	if (!err && n < 2)
		err = -ENOSPC;	/* one name filling a leaf: nothing to split */
	if (err) {
		e4_handle_release(c->h, copy);
		goto out;
	}
	qsort(m, n, sizeof(*m), by_hash);
	/* the upper half by size stays together */
	for (split = 0; split + 1 < n && half + m[split].size <= total / 2;
	     split++)
		half += m[split].size;
	if (split == 0)
		split = 1;
	pack_leaf(fs, copy->data, old, m, split);
	err = e4_handle_dirty(c->h, copy);
	if (!err) {
		o = e4_owner_of(c->inode, newl);
		err = e4_handle_get_create_access(c->h, newp, &e4_bops_dir_leaf,
						  &o, &copy);
	}
	if (!err) {
		pack_leaf(fs, copy->data, old, m + split, n - split);
		err = e4_handle_dirty(c->h, copy);
	}
	if (!err)
		err = dir_blocks(c, &nblocks);
	if (!err) {
		uint32_t hash = m[split].hash;

		/* a run of equal hashes split in two: lookups go on */
		if (m[split - 1].hash == hash)
			hash |= 1;
		err = index_insert(c, p, p->levels, hash, (uint32_t)newl,
				   nblocks);
	}
out:
	free(old);
	free(m);
	if (err)
		e4_handle_abort(c->h, err);
	return err;
}

/* Split full index node @level (not the root; its parent has room). */
static int split_node(struct e4_map_change *c, const struct e4_dx_path *p,
		      unsigned level)
{
	struct e4_fs *fs = c->fs;
	uint64_t lblk = p->lblk[level], newl, newp, nblocks;
	uint32_t count = p->count[level], mid = count / 2;
	uint32_t (*moved)[2] = NULL;
	struct e4_owner o;
	struct e4_mapping map;
	struct e4_buf *copy;
	int err = e4_dir_append_block(c, &newl, &newp);

	if (!err)
		err = dir_blocks(c, &nblocks);
	if (!err)
		err = e4_map_block(fs, c->inode, lblk, &map);
	if (err)
		goto out;
	o = dx_owner(c->inode, lblk, nblocks);
	err = e4_handle_get_write_access(c->h, map.pblk, &e4_bops_dx_node, &o,
					 &copy);
	if (err)
		goto out;
	moved = malloc(sizeof(*moved) * (count - mid));
	if (!moved) {
		e4_handle_release(c->h, copy);
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t i = mid; i < count; i++)
		e4_dx_entry_get(copy->data, copy->size, lblk, i,
				&moved[i - mid][0], &moved[i - mid][1]);
	e4_dx_set_counts(copy->data, copy->size, lblk,
			 (uint16_t)p->limit[level], (uint16_t)mid);
	err = e4_handle_dirty(c->h, copy);
	if (!err) {
		o = dx_owner(c->inode, newl, nblocks);
		err = e4_handle_get_create_access(c->h, newp, &e4_bops_dx_node,
						  &o, &copy);
	}
	if (!err) {
		init_node(fs, copy->data, newl,
			  (const uint32_t (*)[2])moved, count - mid);
		err = e4_handle_dirty(c->h, copy);
	}
	if (!err)
		err = index_insert(c, p, level - 1, moved[0][0],
				   (uint32_t)newl, nblocks);
out:
	free(moved);
	if (err)
		e4_handle_abort(c->h, err);
	return err;
}

/* The root's entries move to a new node under it: one level more. */
static int grow_root(struct e4_map_change *c, const struct e4_dx_path *p)
{
	struct e4_fs *fs = c->fs;
	uint32_t count = p->count[0], (*moved)[2];
	uint64_t newl, newp, nblocks;
	struct e4_owner o;
	struct e4_mapping map;
	struct e4_buf *copy;
	int err;

	moved = malloc(sizeof(*moved) * count);
	if (!moved)
		return -ENOMEM;
	err = e4_dir_append_block(c, &newl, &newp);
	if (!err)
		err = dir_blocks(c, &nblocks);
	if (!err)
		err = e4_map_block(fs, c->inode, 0, &map);
	if (err)
		goto out;
	o = dx_owner(c->inode, 0, nblocks);
	err = e4_handle_get_write_access(c->h, map.pblk, &e4_bops_dx_node, &o,
					 &copy);
	if (err)
		goto out;
	for (uint32_t i = 0; i < count; i++)
		e4_dx_entry_get(copy->data, copy->size, 0, i, &moved[i][0],
				&moved[i][1]);
	e4_dx_set_counts(copy->data, copy->size, 0, (uint16_t)p->limit[0], 1);
	e4_dx_entry_put(copy->data, copy->size, 0, 0, 0, (uint32_t)newl);
	copy->data[E4_DX_ROOT_LEVELS] = (uint8_t)(p->levels + 1);
	err = e4_handle_dirty(c->h, copy);
	if (!err) {
		o = dx_owner(c->inode, newl, nblocks);
		err = e4_handle_get_create_access(c->h, newp, &e4_bops_dx_node,
						  &o, &copy);
	}
	if (!err) {
		init_node(fs, copy->data, newl, (const uint32_t (*)[2])moved,
			  count);
		err = e4_handle_dirty(c->h, copy);
	}
out:
	free(moved);
	if (err)
		e4_handle_abort(c->h, err);
	return err;
}

/* Make room for one more leaf under the path's last index block. */
static int make_room(struct e4_map_change *c, const struct e4_dx_path *p)
{
	unsigned max = (c->fs->feature_incompat & E4_INCOMPAT_LARGEDIR) ?
		E4_DX_LEVELS_MAX_LARGEDIR : E4_DX_LEVELS_MAX;
	int k;

	if (p->count[p->levels] < p->limit[p->levels])
		return split_leaf(c, p);
	/* the deepest index block above with room */
	for (k = (int)p->levels - 1; k >= 0; k--)
		if (p->count[k] < p->limit[k])
			break;
	if (k >= 0)
		return split_node(c, p, (unsigned)k + 1u);
	if (p->levels + 1u >= max) {
		e4_log(c->fs, E4_LOG_WARN,
		       "inode %u: directory index full (%u levels)%s",
		       c->inode->ino, p->levels + 1u,
		       max == E4_DX_LEVELS_MAX ? "; large_dir would allow more" : "");
		return -ENOSPC;
	}
	return grow_root(c, p);
}

/* The rounds of make_room that give the path's full leaf a sibling, each
 * a new directory block: a split of every full index node from the
 * deepest with room down (or a new root level, when all are full), then
 * the leaf's. */
static unsigned rounds_needed(const struct e4_dx_path *p)
{
	if (p->count[p->levels] < p->limit[p->levels])
		return 1;
	for (int k = (int)p->levels - 1; k >= 0; k--)
		if (p->count[k] < p->limit[k])
			return p->levels - (unsigned)k + 1u;
	return p->levels + 2u;
}

int e4_htree_add(struct e4_map_change *c, const char *name, size_t len,
		 uint32_t ino, uint8_t ftype)
{
	uint64_t blocks = 0, tree = 0;
	unsigned round;
	int err = 0;

	for (round = 0; round < 4u * E4_DX_LEVELS_MAX_LARGEDIR; round++) {
		struct e4_dx_path p;

		err = e4_htree_find_path(c->fs, c->inode, name, len, &p);
		if (err == -EAGAIN)	/* an unusable index (reported) */
			err = -EUCLEAN;
		if (err)
			break;
		err = e4_dir_leaf_add(c->fs, c->h, c->inode, p.leaf, name, len,
				      ino, ftype);
		if (err) {
			err = err < 0 ? err : 0;
			break;
		}
		/* the blocks of every round promised before the first
		 * changes anything: the index cannot be left half grown */
		if (round == 0)
			err = e4_map_reserve_dir_blocks(c, rounds_needed(&p),
							&blocks, &tree);
		if (!err)
			err = make_room(c, &p);
		if (err)
			break;
	}
	if (round == 4u * E4_DX_LEVELS_MAX_LARGEDIR) {
		e4_log(c->fs, E4_LOG_ERROR,
		       "inode %u: directory insert did not converge",
		       c->inode->ino);
		err = -EIO;
	}
	e4_map_release_dir_blocks(c, blocks, tree);
	return err;
}

int e4_htree_make_indexed(struct e4_map_change *c)
{
	struct e4_fs *fs = c->fs;
	struct e4_inode *dir = c->inode;
	uint32_t bs = fs->block_size, end = e4_dir_leaf_end(fs);
	uint32_t dot = e4_dirent_size(1);
	struct moving *m = NULL;
	uint8_t *old = malloc(bs);
	struct e4_buf *b0 = NULL, *copy;
	struct e4_owner o;
	struct e4_mapping map;
	uint64_t newl, newp;
	uint32_t parent = 0;
	bool changed = false;
	size_t n = 0;
	int err;

	m = malloc(sizeof(*m) * (bs / E4_DIRENT_MIN_REC_LEN + 1));
	if (!old || !m) {
		err = -ENOMEM;
		goto out;
	}
	/* the names of block 0, as a linear reader verified them */
	err = e4_dir_block_get(fs, dir, 0, &b0);
	if (!err) {
		o = e4_owner_of(dir, 0);
		err = e4_buf_verify(fs, b0, &e4_bops_dir_leaf, &o);
		if (!err)
			memcpy(old, b0->data, bs);
		e4_meta_put(fs, b0);
	}
	for (uint32_t off = 0; !err && off < end;) {
		struct e4_dirent_rec e;

		e4_dirent_get(fs, old, off, &e);
		if (off == 0 || (e.name_len == 2 && e.name[0] == '.' &&
				 e.name[1] == '.' && !parent)) {
			if (off)
				parent = e.ino;
		} else if (e.ino) {
			m[n++] = (struct moving){ 0, 0, off,
						  e4_dirent_size(e.name_len) };
		}
		off += e.rec_len;
	}
	if (!err && !parent)
		err = e4_corrupt(fs, E4_RULE_DIR2, e4_obj_inode(dir->ino),
				 "no \"..\" entry in block 0");
	/* the new leaf first: no private copy may be held meanwhile */
	if (!err) {
		err = e4_dir_append_block(c, &newl, &newp);
		changed = !err;
	}
	if (!err) {
		o = e4_owner_of(dir, newl);
		err = e4_handle_get_create_access(c->h, newp, &e4_bops_dir_leaf,
						  &o, &copy);
	}
	if (!err) {
		pack_leaf(fs, copy->data, old, m, n);
		err = e4_handle_dirty(c->h, copy);
	}
	if (!err)
		err = e4_map_block(fs, dir, 0, &map);
	if (!err) {
		/* block 0 becomes the root: "." and "..", then the index */
		o = dx_owner(dir, 0, newl + 1);
		err = e4_handle_get_create_access(c->h, map.pblk,
						  &e4_bops_dx_node, &o, &copy);
	}
	if (!err) {
		uint8_t *r = copy->data;

		memset(r, 0, bs);
		e4_dirent_put(fs, r, 0, dir->ino, dot, ".", 1, E4_FT_DIR);
		e4_dirent_put(fs, r, dot, parent, bs - dot, "..", 2, E4_FT_DIR);
		r[E4_DX_ROOT_HASH_VERSION] = fs->def_hash_version <= E4_HASH_TEA ?
			fs->def_hash_version : E4_HASH_HALF_MD4;
		r[E4_DX_ROOT_INFO_LENGTH] = E4_DX_ROOT_INFO_SIZE;
		e4_dx_set_counts(r, bs, 0, (uint16_t)e4_dx_limit(fs, 0), 1);
		e4_dx_entry_put(r, bs, 0, 0, 0, (uint32_t)newl);
		err = e4_handle_dirty(c->h, copy);
	}
	if (!err)
		dir->flags |= E4_INDEX_FL;
	else if (changed)
		e4_handle_abort(c->h, err);
out:
	free(old);
	free(m);
	return err;
}
