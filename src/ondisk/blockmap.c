/* SPDX-License-Identifier: MIT */
/*
 * Legacy block maps (spec §6): 12 direct pointers, then single, double and
 * triple indirect trees of P = B/4 le32 pointers per block.
 *
 * A zero pointer is a hole for everything below it.  Indirect blocks come
 * from the metadata cache and have all their pointers checked (BM1) once per
 * cached buffer, as the kernel does when it reads one.  Runs of physically
 * consecutive pointers are returned as one mapping (bounded by the block that
 * holds them) so readers issue one device read per run; runs of zero
 * pointers are merged across slots and levels so holes are skipped in one
 * step.
 */
#include "ondisk/ondisk.h"

/* Logical block numbers stay below 2^32 - 1 as for extents (§16). */
#define E4_BM_LBLK_LIMIT 0xFFFFFFFFull
/* Extending a hole looks at this many further slots at most: beyond, the
 * caller simply asks again from where the hole ended. */
#define E4_BM_HOLE_STEPS 64

static const char *const level_name[] = {
	"data", "indirect", "double indirect", "triple indirect",
};

struct bm_geom {
	uint64_t per_block;		/* P */
	uint64_t slot_first[3];		/* first lblk under i_block[12..14] */
	uint64_t end;			/* first lblk beyond the map */
};

static void bm_geom_init(const struct e4_fs *fs, struct bm_geom *g)
{
	uint64_t p = fs->block_size / 4;

	g->per_block = p;
	g->slot_first[0] = E4_NDIR_BLOCKS;
	g->slot_first[1] = g->slot_first[0] + p;
	g->slot_first[2] = g->slot_first[1] + p * p;
	g->end = g->slot_first[2] + p * p * p;	/* P <= 2^14: no overflow */
	if (g->end > E4_BM_LBLK_LIMIT)
		g->end = E4_BM_LBLK_LIMIT;
}

static uint32_t i_block_ptr(const struct e4_inode *inode, unsigned slot)
{
	return e4_le32(inode->i_block, sizeof(inode->i_block), slot * 4u);
}

/* BM1 for a pointer stored in i_block. */
static int check_i_block_ptr(struct e4_fs *fs, const struct e4_inode *inode,
			     unsigned slot, uint32_t ptr)
{
	if (ptr == 0 || e4_blocks_valid(fs, ptr, 1))
		return 0;
	return e4_corrupt(fs, E4_RULE_BM1, e4_obj_indirect(inode->ino, 0, 0),
			  "i_block[%u] (%s): block %u outside the file system",
			  slot,
			  slot < E4_NDIR_BLOCKS ? "direct"
						: level_name[slot - 11u], ptr);
}

/* BM1 on every pointer of an indirect block (no checksum: §6); @owner->pos
 * is its level, for the report. */
static int indirect_verify(struct e4_fs *fs, const struct e4_buf *buf,
			   const struct e4_owner *owner)
{
	for (uint32_t i = 0; i < buf->size / 4u; i++) {
		uint32_t ptr = e4_le32(buf->data, buf->size, i * 4u);

		if (ptr != 0 && !e4_blocks_valid(fs, ptr, 1))
			return e4_corrupt(fs, E4_RULE_BM1,
					  e4_obj_indirect(owner->ino, buf->blk,
							  (unsigned)owner->pos),
					  "entry %u: block %u outside the file system",
					  i, ptr);
	}
	return 0;
}

const struct e4_buf_ops e4_bops_indirect = {
	.name = "indirect block", .kind = E4_BUF_INDIRECT,
	.verify_read = indirect_verify, .verify_write = indirect_verify,
};

/* Fetch indirect block @blk at @level (3 = triple ... 1 = holds data
 * pointers), its pointers checked once per cached buffer. */
static int get_indirect(struct e4_fs *fs, const struct e4_inode *inode,
			uint64_t blk, unsigned level, struct e4_buf **out)
{
	struct e4_owner owner = e4_owner_of(inode, level);

	return e4_meta_get_verified(fs, blk, &e4_bops_indirect, &owner, out);
}

/*
 * Within an array of pointers (i_block or an indirect block), entry @idx
 * covers logical blocks [base + idx*span, base + (idx+1)*span).  Fill @out
 * for the run starting at @lblk when the entry is zero (a hole through all
 * following zero entries) or, at the data level, non-zero (a run through
 * all following consecutive pointers).
 */
static void array_run(const uint8_t *arr, size_t size, uint32_t idx,
		      uint32_t count, uint64_t base, uint64_t span,
		      uint64_t lblk, struct e4_mapping *out)
{
	uint32_t ptr = e4_le32(arr, size, idx * 4u);
	uint32_t j = idx + 1;

	out->lblk = lblk;
	if (ptr == 0) {
		while (j < count && e4_le32(arr, size, j * 4u) == 0)
			j++;
		out->kind = E4_MAP_HOLE;
		out->pblk = 0;
		out->len = base + j * span - lblk;
		return;
	}
	/* data level (span 1): consecutive physical blocks (compared in 64
	 * bits: a run never wraps around 2^32) */
	while (j < count && (uint64_t)e4_le32(arr, size, j * 4u) ==
				    (uint64_t)ptr + (j - idx))
		j++;
	out->kind = E4_MAP_MAPPED;
	out->pblk = ptr;
	out->len = j - idx;
}

/* Map @lblk without extending holes beyond the array they were found in. */
static int bm_resolve(struct e4_fs *fs, const struct e4_inode *inode,
		      const struct bm_geom *g, uint64_t lblk,
		      struct e4_mapping *out)
{
	unsigned slot, level;
	uint64_t base, span, rel;
	uint32_t ptr;
	struct e4_buf *buf = NULL;
	int ret;

	if (lblk < E4_NDIR_BLOCKS) {
		ret = check_i_block_ptr(fs, inode, (unsigned)lblk,
					i_block_ptr(inode, (unsigned)lblk));
		if (ret < 0)
			return ret;
		array_run(inode->i_block, sizeof(inode->i_block),
			  (uint32_t)lblk, E4_NDIR_BLOCKS, 0, 1, lblk, out);
		if (out->kind == E4_MAP_MAPPED &&
		    !e4_blocks_valid(fs, out->pblk, out->len))
			return e4_corrupt(fs, E4_RULE_BM1,
					  e4_obj_indirect(inode->ino, 0, 0),
					  "i_block[%llu] (direct): blocks %llu+%llu outside the file system",
					  (unsigned long long)lblk,
					  (unsigned long long)out->pblk,
					  (unsigned long long)out->len);
		return 0;
	}

	for (level = 3; level > 1 && lblk < g->slot_first[level - 1]; level--)
		;
	slot = E4_IND_BLOCK + level - 1;
	base = g->slot_first[level - 1];
	span = 1;
	for (unsigned k = 0; k < level; k++)
		span *= g->per_block;
	ptr = i_block_ptr(inode, slot);
	ret = check_i_block_ptr(fs, inode, slot, ptr);
	if (ret < 0)
		return ret;
	if (ptr == 0) {
		out->lblk = lblk;
		out->kind = E4_MAP_HOLE;
		out->pblk = 0;
		out->len = base + span - lblk;
		return 0;
	}

	/* Descend: at each level the array is block ptr, covering [base,
	 * base + span); its entries each cover span / P blocks. */
	for (; level >= 1; level--) {
		uint32_t idx;

		if (buf)
			e4_meta_put(fs, buf);
		ret = get_indirect(fs, inode, ptr, level, &buf);
		if (ret < 0)
			return ret;
		span /= g->per_block;
		rel = lblk - base;
		idx = (uint32_t)(rel / span);
		ptr = e4_le32(buf->data, buf->size, idx * 4u);
		if (ptr == 0 || level == 1) {
			array_run(buf->data, buf->size, idx,
				  (uint32_t)g->per_block, base, span, lblk,
				  out);
			break;
		}
		base += (uint64_t)idx * span;
	}
	e4_meta_put(fs, buf);
	return 0;
}

int e4_blockmap_map(struct e4_fs *fs, const struct e4_inode *inode,
		    uint64_t lblk, struct e4_mapping *out)
{
	struct bm_geom g;
	int ret;

	bm_geom_init(fs, &g);
	if (lblk >= g.end)
		return -EINVAL;
	ret = bm_resolve(fs, inode, &g, lblk, out);
	if (ret < 0 || out->kind != E4_MAP_HOLE)
		return ret;

	/* Merge the following holes (zero slots at other levels, zero
	 * entries in the next indirect block) into this one.  A failure
	 * further on ends the hole there: it is reported, and the blocks
	 * asked for are still a hole. */
	for (unsigned step = 0; step < E4_BM_HOLE_STEPS; step++) {
		struct e4_mapping next;
		uint64_t end = out->lblk + out->len;

		if (end >= g.end)
			break;
		if (bm_resolve(fs, inode, &g, end, &next) < 0 ||
		    next.kind != E4_MAP_HOLE)
			break;
		out->len += next.len;
	}
	if (out->lblk + out->len > g.end)
		out->len = g.end - out->lblk;
	return 0;
}

/* ---- walking the whole map (the checker) -------------------------------- */

struct bm_walk {
	struct e4_fs *fs;
	const struct e4_inode *inode;
	e4_owned_cb cb;
	void *ctx;
	struct e4_block_set *seen;	/* indirect blocks, each visited once */
};

/* Pointer array @arr of @count entries at @level (0: data pointers).
 * Recursive over the levels, which only go down from 3 (triple indirect):
 * at most four frames.  The check is the second line. */
static int walk_array(struct bm_walk *w, const uint8_t *arr, size_t size,
		      uint32_t count, unsigned level)
{
	if (level > 3)
		return -EIO;	/* a bug, not the image: levels only go down */
	for (uint32_t i = 0; i < count; i++) {
		uint32_t ptr = e4_le32(arr, size, i * 4u);
		struct e4_buf *buf;
		int ret;

		if (ptr == 0)
			continue;
		if (level == 0) {
			ret = w->cb(w->ctx, ptr, 1, false);
			if (ret)
				return ret;
			continue;
		}
		ret = e4_block_set_add(w->seen, ptr);
		if (ret > 0)
			return e4_corrupt(w->fs, E4_RULE_BM2,
					  e4_obj_indirect(w->inode->ino, ptr, level),
					  "referenced twice");
		if (ret < 0)
			return ret;
		ret = get_indirect(w->fs, w->inode, ptr, level, &buf);
		if (ret)
			return ret;
		ret = w->cb(w->ctx, ptr, 1, true);
		if (!ret)
			ret = walk_array(w, buf->data, buf->size, buf->size / 4u,
					 level - 1u);
		e4_meta_put(w->fs, buf);
		if (ret)
			return ret;
	}
	return 0;
}

int e4_blockmap_for_each_owned(struct e4_fs *fs, const struct e4_inode *inode,
			       e4_owned_cb cb, void *ctx)
{
	struct bm_walk w = { .fs = fs, .inode = inode, .cb = cb, .ctx = ctx };
	const uint8_t *ib = inode->i_block;
	size_t isz = sizeof(inode->i_block);
	int ret = 0;

	for (unsigned slot = 0; slot < 15 && !ret; slot++)
		ret = check_i_block_ptr(fs, inode, slot, i_block_ptr(inode, slot));
	if (ret)
		return ret;
	w.seen = e4_block_set_new();
	if (!w.seen)
		return -ENOMEM;
	ret = walk_array(&w, ib, isz, E4_NDIR_BLOCKS, 0);
	for (unsigned level = 1; level <= 3 && !ret; level++)
		ret = walk_array(&w, ib + (E4_NDIR_BLOCKS + level - 1u) * 4u,
				 4, 1, level);
	e4_block_set_free(w.seen);
	return ret;
}
