/* SPDX-License-Identifier: MIT */
/* The one way to change a file's mapping, whichever kind it has (see
 * mapping.h): extent trees and block maps behind two calls. */
#include <errno.h>

#include "fs/mapping.h"

/* Have *@held at least @clusters promised (see e4_map_reserve). */
static int promise(struct e4_map_change *c, uint64_t *held, bool tree,
		   uint64_t clusters, uint64_t *added)
{
	int err = 0;

	if (added)
		*added = 0;
	if (*held >= clusters)
		return 0;
	err = e4_alloc_reserve(c->alloc, clusters - *held, c->use_reserved,
			       tree);
	if (!err) {
		if (added)
			*added = clusters - *held;
		*held = clusters;
	}
	return err;
}

static void unpromise(struct e4_map_change *c, uint64_t *held, bool tree,
		      uint64_t clusters)
{
	if (clusters > *held)
		clusters = *held;
	if (clusters)
		e4_alloc_unreserve(c->alloc, clusters, tree);
	*held -= clusters;
}

int e4_map_reserve(struct e4_map_change *c, uint64_t clusters,
		   uint64_t *added)
{
	return promise(c, &c->reserved, true, clusters, added);
}

void e4_map_release(struct e4_map_change *c, uint64_t clusters)
{
	unpromise(c, &c->reserved, true, clusters);
}

int e4_map_reserve_blocks(struct e4_map_change *c, uint64_t clusters,
			  uint64_t *added)
{
	return promise(c, &c->reserved_blocks, false, clusters, added);
}

void e4_map_release_blocks(struct e4_map_change *c, uint64_t clusters)
{
	unpromise(c, &c->reserved_blocks, false, clusters);
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

uint64_t e4_ext_inserts_need(const struct e4_inode *in, uint64_t inserts)
{
	struct e4_ext_header h;
	uint64_t k = inserts;

	e4_ext_header_get(in->i_block, sizeof(in->i_block), &h);
	/* each insert: a block per level and the root grown, and the tree
	 * one level deeper for the next */
	return k * (h.depth + 1u) + k * (k - 1u) / 2u;
}

/* A block map's indirect blocks for a run of @count blocks: the
 * indirect, double and triple blocks, and below them as many as the run
 * spans (one more where it straddles). */
static uint64_t bmap_run_need(const struct e4_fs *fs, uint64_t count)
{
	uint64_t ppb = fs->block_size / 4u;
	uint64_t spans = 5u + div_up(count, ppb) + div_up(count, ppb * ppb);

	return 3u * count < spans ? 3u * count : spans;
}

uint64_t e4_map_insert_need(const struct e4_map_change *c, uint64_t count)
{
	if (c->inode->flags & E4_EXTENTS_FL)
		return e4_ext_inserts_need(c->inode,
					   div_up(count, E4_EXT_INIT_MAX_LEN));
	return bmap_run_need(c->fs, count);
}

int e4_map_reserve_dir_blocks(struct e4_map_change *c, uint64_t n,
			      uint64_t *blocks, uint64_t *tree)
{
	/* each block its own insert (they need not be contiguous) */
	uint64_t need = (c->inode->flags & E4_EXTENTS_FL) ?
		e4_ext_inserts_need(c->inode, n) : bmap_run_need(c->fs, n);
	int err = e4_map_reserve_blocks(c, n, blocks);

	*tree = 0;
	if (!err) {
		err = e4_map_reserve(c, need, tree);
		if (err) {
			e4_map_release_blocks(c, *blocks);
			*blocks = 0;
		}
	}
	return err;
}

void e4_map_release_dir_blocks(struct e4_map_change *c, uint64_t blocks,
			       uint64_t tree)
{
	e4_map_release_blocks(c, blocks);
	e4_map_release(c, tree);
}

int e4_map_insert(struct e4_map_change *c, uint64_t lblk, uint64_t count,
		  uint64_t pblk)
{
	uint64_t added = 0;
	int err = 0;

	if (count == 0)
		return 0;
	/* one extent insert promises what it needs itself, exactly, before
	 * it changes anything; several, or a run of block-map pointers,
	 * must have theirs promised before the first */
	if (!(c->inode->flags & E4_EXTENTS_FL) || count > E4_EXT_INIT_MAX_LEN) {
		err = e4_map_reserve(c, e4_map_insert_need(c, count), &added);
		if (err)
			return err;
	}
	if (c->inode->flags & E4_EXTENTS_FL) {
		while (!err && count) {
			uint32_t n = count > E4_EXT_INIT_MAX_LEN ?
				E4_EXT_INIT_MAX_LEN : (uint32_t)count;

			err = e4_ext_insert(c, &(struct e4_extent){
				(uint32_t)lblk, n, pblk, false });
			lblk += n;
			pblk += n;
			count -= n;
		}
	} else {
		for (uint64_t i = 0; !err && i < count; i++)
			err = e4_bmap_set(c, lblk + i, pblk + i);
		if (err)	/* part of the run is mapped: cannot stand */
			e4_handle_abort(c->h, err);
	}
	e4_map_release(c, added);
	return err;
}

int e4_map_remove(struct e4_map_change *c, uint64_t *cursor, uint64_t end)
{
	int err = 0;

	if (c->inode->flags & E4_INLINE_DATA_FL) {
		*cursor = end;	/* its data is in the inode: nothing mapped */
		return 0;
	}
	if (c->inode->flags & E4_EXTENTS_FL)
		return e4_ext_remove(c, cursor, end, true);
	while (!err && *cursor < end) {
		if (c->h->credits < c->h->used + 2u * E4_BMAP_STEP_CREDITS)
			return -EAGAIN;
		err = e4_bmap_unmap_step(c, cursor, end);
	}
	if (err)
		e4_handle_abort(c->h, err);
	return err;
}

/* ---- bigalloc: one logical cluster, one physical cluster (§11.5) ------- */

int e4_cluster_sibling(struct e4_fs *fs, const struct e4_inode *in,
		       uint64_t lblk, uint64_t *pblk)
{
	uint64_t r = fs->cluster_ratio, first = lblk - lblk % r;

	for (uint64_t l = first; r > 1 && l < first + r;) {
		struct e4_mapping m;
		int err = e4_map_block(fs, in, l, &m);

		if (err)
			return err;
		if (m.kind == E4_MAP_MAPPED || m.kind == E4_MAP_UNWRITTEN) {
			/* congruent: the cluster's blocks keep their order */
			*pblk = m.pblk - (l - first) + (lblk - first);
			return 1;
		}
		l += m.len;
	}
	return 0;
}

int e4_alloc_for_hole(struct e4_map_change *c, uint64_t lblk, uint64_t want,
		      uint64_t hole_len, uint64_t goal, bool metadata,
		      uint64_t *pblk, uint64_t *n)
{
	struct e4_fs *fs = c->fs;
	uint64_t r = fs->cluster_ratio, in_cluster = lblk % r, got;
	struct e4_alloc_req req = { .ino = c->inode->ino, .goal = goal,
				    .metadata = metadata,
				    .use_reserved = c->use_reserved,
				    .reserved = metadata &&
						c->reserved_blocks > 0 };
	int err;

	if (want > hole_len)
		want = hole_len;
	if (r > 1) {
		uint64_t next = lblk + hole_len;	/* the next mapped block */

		err = e4_cluster_sibling(fs, c->inode, lblk, pblk);
		if (err < 0)
			return err;
		if (err == 1) {	/* the cluster is the file's already */
			*n = want < r - in_cluster ? want : r - in_cluster;
			return 0;
		}
		/* not into the cluster of the next mapped block: that one
		 * has its physical cluster */
		if (next % r && next / r * r > lblk &&
		    lblk + want > next / r * r)
			want = next / r * r - lblk;
		req.goal = goal ? goal - goal % r : 0;
	}
	req.len = want + in_cluster;
	if (metadata && r == 1)
		req.len = 1;
	err = e4_alloc_blocks(c->alloc, c->h, &req, pblk, &got);
	if (err)
		return err;
	if (req.reserved)
		c->reserved_blocks--;
	c->inode->blocks_512 += e4_blocks_to_512(fs, got);
	*pblk += in_cluster;
	*n = got - in_cluster < want ? got - in_cluster : want;
	return 0;
}

int e4_alloc_for_hole_undo(struct e4_map_change *c, uint64_t lblk,
			   uint64_t pblk, uint64_t blocks_512_before)
{
	struct e4_fs *fs = c->fs;
	uint64_t fresh_512 = c->inode->blocks_512 - blocks_512_before;
	uint64_t count = fresh_512 / e4_blocks_to_512(fs, 1);
	int err;

	if (c->inode->blocks_512 <= blocks_512_before)
		return 0;
	err = e4_free_blocks(c->alloc, c->h, pblk - lblk % fs->cluster_ratio,
			     count);
	if (!err)
		c->inode->blocks_512 = blocks_512_before;
	return err;
}
