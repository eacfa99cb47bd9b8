/* SPDX-License-Identifier: MIT */
/*
 * Changing the block maps of ext2/ext3-style files (§6; see mapping.h).
 *
 * A logical block is reached through at most three indirect blocks from
 * i_block; mapping one allocates the missing indirect blocks on the way
 * (zero-filled, counted in i_blocks) and sets its pointer.  Unmapping works
 * through at most one indirect block's worth of pointers per call, freeing
 * the data blocks and every indirect block that becomes empty, up to
 * i_block, so a truncate is a loop of small steps (each its own handle when
 * the caller wants).  No recursion: the path is at most four slots long.
 */
#include <errno.h>
#include <string.h>

#include "fs/mapping.h"

#define MAX_DEPTH 3u

/* The slots leading to logical block @lblk: slot[0] in i_block, slot[k]
 * in the indirect block at step k (of @depth steps). */
struct bm_path {
	unsigned depth;
	uint32_t slot[MAX_DEPTH + 1];
	uint64_t blk[MAX_DEPTH + 1];	/* [k]: the indirect block at step k */
	uint64_t span;			/* blocks the last step's block maps */
};

static int bm_path(const struct e4_fs *fs, uint64_t lblk, struct bm_path *p)
{
	uint64_t per = fs->block_size / 4u;

	memset(p, 0, sizeof(*p));
	if (lblk < E4_NDIR_BLOCKS) {
		p->slot[0] = (uint32_t)lblk;
		return 0;
	}
	lblk -= E4_NDIR_BLOCKS;
	if (lblk < per) {
		p->depth = 1;
		p->slot[0] = E4_IND_BLOCK;
		p->slot[1] = (uint32_t)lblk;
		return 0;
	}
	lblk -= per;
	if (lblk < per * per) {
		p->depth = 2;
		p->slot[0] = E4_IND_BLOCK + 1;
		p->slot[1] = (uint32_t)(lblk / per);
		p->slot[2] = (uint32_t)(lblk % per);
		return 0;
	}
	lblk -= per * per;
	if (lblk < per * per * per) {
		p->depth = 3;
		p->slot[0] = E4_IND_BLOCK + 2;
		p->slot[1] = (uint32_t)(lblk / (per * per));
		p->slot[2] = (uint32_t)(lblk / per % per);
		p->slot[3] = (uint32_t)(lblk % per);
		return 0;
	}
	return -EFBIG;
}

static uint32_t iblock_get(const struct e4_inode *in, uint32_t slot)
{
	return e4_le32(in->i_block, sizeof(in->i_block), slot * 4u);
}

static void iblock_set(struct e4_inode *in, uint32_t slot, uint32_t v)
{
	e4_put_le32(in->i_block, sizeof(in->i_block), slot * 4u, v);
}

/* Entry @slot of indirect block @blk at @level (3 = triple ... 1). */
static int entry_get(struct e4_map_change *c, uint64_t blk, unsigned level,
		     uint32_t slot, uint32_t *v)
{
	struct e4_owner o = e4_owner_of(c->inode, level);
	struct e4_buf *b;
	int err = e4_meta_get_verified(c->fs, blk, &e4_bops_indirect, &o, &b);

	if (err)
		return err;
	*v = e4_le32(b->data, b->size, slot * 4u);
	e4_meta_put(c->fs, b);
	return 0;
}

static int entry_set(struct e4_map_change *c, uint64_t blk, unsigned level,
		     uint32_t slot, uint32_t v)
{
	struct e4_owner o = e4_owner_of(c->inode, level);
	struct e4_buf *copy;
	int err = e4_handle_get_write_access(c->h, blk, &e4_bops_indirect, &o,
					     &copy);

	if (err)
		return err;
	e4_put_le32(copy->data, copy->size, slot * 4u, v);
	return e4_handle_dirty(c->h, copy);
}

/* A zero-filled indirect block at @level, near @goal. */
static int new_indirect(struct e4_map_change *c, unsigned level,
			uint64_t goal, uint32_t *blk)
{
	struct e4_alloc_req req = { .ino = c->inode->ino, .goal = goal,
				    .len = 1, .metadata = true,
				    .use_reserved = c->use_reserved,
				    .meta_reserve = true,
				    .reserved = c->reserved > 0 };
	struct e4_owner o = e4_owner_of(c->inode, level);
	struct e4_buf *copy;
	uint64_t b, n;
	int err = e4_alloc_blocks(c->alloc, c->h, &req, &b, &n);

	if (err)
		return err;
	if (req.reserved)
		c->reserved--;
	if (b > UINT32_MAX)
		return -EFBIG;	/* block maps hold 32-bit pointers */
	c->inode->blocks_512 += e4_blocks_to_512(c->fs, n);
	err = e4_handle_get_create_access(c->h, b, &e4_bops_indirect, &o,
					  &copy);
	if (!err)
		err = e4_handle_dirty(c->h, copy);
	*blk = (uint32_t)b;
	return err;
}

int e4_bmap_set(struct e4_map_change *c, uint64_t lblk, uint64_t pblk)
{
	struct bm_path p;
	uint32_t cur;
	int err = bm_path(c->fs, lblk, &p);

	if (err)
		return err;
	if (pblk > UINT32_MAX)
		return -EFBIG;
	if (p.depth == 0) {
		iblock_set(c->inode, p.slot[0], (uint32_t)pblk);
		return 0;
	}
	cur = iblock_get(c->inode, p.slot[0]);
	if (!cur) {
		err = new_indirect(c, p.depth, pblk ? pblk - 1 : 0, &cur);
		if (err)
			return err;
		iblock_set(c->inode, p.slot[0], cur);
	}
	/* step k: block cur, at level depth - k + 1 */
	for (unsigned k = 1; k < p.depth; k++) {
		unsigned level = p.depth - k + 1;
		uint32_t child;

		err = entry_get(c, cur, level, p.slot[k], &child);
		if (!err && !child) {
			err = new_indirect(c, level - 1, pblk ? pblk - 1 : 0,
					   &child);
			if (!err)
				err = entry_set(c, cur, level, p.slot[k], child);
		}
		if (err)
			return err;
		cur = child;
	}
	return entry_set(c, cur, 1, p.slot[p.depth], (uint32_t)pblk);
}

/* Whether the pointers of indirect block @blk are all zero. */
static int all_zero(struct e4_map_change *c, uint64_t blk, unsigned level,
		    bool *zero)
{
	struct e4_owner o = e4_owner_of(c->inode, level);
	struct e4_buf *b;
	int err = e4_meta_get_verified(c->fs, blk, &e4_bops_indirect, &o, &b);

	if (err)
		return err;
	*zero = true;
	for (uint32_t i = 0; i < b->size / 4u && *zero; i++)
		*zero = e4_le32(b->data, b->size, i * 4u) == 0;
	e4_meta_put(c->fs, b);
	return 0;
}

static int free_block(struct e4_map_change *c, uint64_t blk, bool meta)
{
	int err;

	if (meta)
		e4_handle_forget(c->h, blk);
	err = e4_free_blocks(c->alloc, c->h, blk, 1);
	if (!err)
		c->inode->blocks_512 -= e4_blocks_to_512(c->fs, 1);
	return err;
}

int e4_bmap_unmap_step(struct e4_map_change *c, uint64_t *cursor,
		       uint64_t end)
{
	struct e4_fs *fs = c->fs;
	uint64_t per = fs->block_size / 4u, lblk = *cursor, n;
	/* a directory's blocks are metadata the cache may hold */
	bool dir = e4_inode_is_dir(c->inode);
	struct bm_path p;
	int err = bm_path(fs, lblk, &p);

	if (err == -EFBIG) {
		*cursor = end;	/* nothing is mapped past the map's reach */
		return 0;
	}
	if (err)
		return err;
	if (p.depth == 0) {
		for (; lblk < end && lblk < E4_NDIR_BLOCKS; lblk++) {
			uint32_t b = iblock_get(c->inode, (uint32_t)lblk);

			if (b && (err = free_block(c, b, dir)))
				return err;
			iblock_set(c->inode, (uint32_t)lblk, 0);
		}
		*cursor = lblk;
		return 0;
	}
	/* the rest of this last-level block's pointers, at most */
	n = per - p.slot[p.depth];
	if (n > end - lblk)
		n = end - lblk;
	{
		uint32_t cur = iblock_get(c->inode, p.slot[0]);
		unsigned k = 1;

		for (; cur && k <= p.depth; k++) {
			p.blk[k] = cur;
			if (k < p.depth &&
			    (err = entry_get(c, cur, p.depth - k + 1, p.slot[k],
					     &cur)))
				return err;
		}
		if (!cur) {
			/* a zero pointer at slot k - 1 of step k - 1 (i_block
			 * for k = 1): the subtree under it, slots k.., is a
			 * hole, skipped in one step */
			uint64_t span = 1, off = 0;

			for (unsigned j = p.depth; j >= k && j >= 1; j--) {
				off += p.slot[j] * span;
				span *= per;
			}
			*cursor = lblk - off + span;
			if (*cursor > end)
				*cursor = end;
			return 0;
		}
	}
	/* the data pointers of the last block: freed first (a free takes
	 * private copies of a bitmap and a descriptor, and a handle holds one
	 * copy at a time), then zeroed in one copy of the block; the inode's
	 * lock keeps every other handle off this file's map meanwhile */
	{
		struct e4_owner o = e4_owner_of(c->inode, 1);
		uint64_t leaf = p.blk[p.depth];
		uint32_t first = p.slot[p.depth], i;
		struct e4_buf *b, *copy;

		err = e4_meta_get_verified(fs, leaf, &e4_bops_indirect, &o, &b);
		if (err)
			return err;
		for (i = first; i < first + n; i++) {
			uint32_t ptr = e4_le32(b->data, b->size, i * 4u);

			/* the data may lie in as many groups as there are
			 * pointers: stop while the handle can still finish
			 * the path (the next step goes on from here) */
			if (i > first &&
			    c->h->credits < c->h->used + E4_BMAP_STEP_CREDITS)
				break;
			if (ptr && (err = free_block(c, ptr, dir)))
				break;
		}
		e4_meta_put(fs, b);
		if (err)
			return err;	/* the caller aborts the handle */
		n = i - first;
		err = e4_handle_get_write_access(c->h, leaf, &e4_bops_indirect,
						 &o, &copy);
		if (err)
			return err;
		memset(copy->data + (size_t)first * 4u, 0, (size_t)n * 4u);
		err = e4_handle_dirty(c->h, copy);
		if (err)
			return err;
	}
	/* indirect blocks left empty go, from the bottom up */
	for (unsigned k = p.depth; k >= 1; k--) {
		bool zero;

		err = all_zero(c, p.blk[k], p.depth - k + 1, &zero);
		if (err || !zero)
			break;
		err = free_block(c, p.blk[k], true);
		if (!err && k == 1)
			iblock_set(c->inode, p.slot[0], 0);
		else if (!err)
			err = entry_set(c, p.blk[k - 1], p.depth - k + 2,
					p.slot[k - 1], 0);
		if (err)
			break;
	}
	if (!err)
		*cursor = lblk + n;
	return err;
}
