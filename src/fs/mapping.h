/* SPDX-License-Identifier: MIT */
/*
 * Changing a file's mapping (the writer's side of ondisk/map.c): extent
 * trees (extent_tree.c) and the block maps of ext2/ext3 files
 * (blockmap_write.c).
 *
 * Every change is made in one transaction handle with the file's in-core
 * inode locked: tree blocks through the handle (the extent row verifies
 * and checksums each before it is published), the root and i_blocks in
 * @inode, which the caller writes back through the same handle.  Blocks
 * come from the allocator and go back to it.
 */
#ifndef E4_FS_MAPPING_H
#define E4_FS_MAPPING_H

#include <stdbool.h>
#include <stdint.h>

#include "alloc/alloc.h"
#include "ondisk/ondisk.h"
#include "tx/trans.h"

struct e4_map_change {
	struct e4_fs *fs;
	struct e4_alloc *alloc;
	struct e4_handle *h;
	struct e4_inode *inode;	/* i_block and blocks_512 change here */
	bool use_reserved;	/* the writer may take root's reserve */
	/* clusters promised to this change and not yet taken: its tree
	 * blocks (e4_map_reserve), its directory blocks
	 * (e4_map_reserve_blocks) */
	uint64_t reserved, reserved_blocks;
};

/*
 * Have at least @clusters promised to @c's tree blocks (e4_alloc_reserve),
 * *@added (NULL: not wanted) what this call promised more: -ENOSPC, and
 * nothing promised, when there is not that much.  A change that may take
 * several tree blocks promises them before it changes anything, so it
 * never runs out of space halfway.
 */
int e4_map_reserve(struct e4_map_change *c, uint64_t clusters,
		   uint64_t *added);
/* Give back up to @clusters of what @c holds promised. */
void e4_map_release(struct e4_map_change *c, uint64_t clusters);
/* The same for the blocks of a directory or symlink (e4_alloc_for_hole
 * with @metadata), under data's rule: not out of the metadata reserve. */
int e4_map_reserve_blocks(struct e4_map_change *c, uint64_t clusters,
			  uint64_t *added);
void e4_map_release_blocks(struct e4_map_change *c, uint64_t clusters);
/* An upper bound on the tree blocks @inserts extent inserts into @in's
 * tree may take one after the other. */
uint64_t e4_ext_inserts_need(const struct e4_inode *in, uint64_t inserts);
/* An upper bound on the tree blocks mapping a run of @count blocks (in
 * e4_map_insert's extents of at most 32,768, or a block map's indirect
 * blocks) may take. */
uint64_t e4_map_insert_need(const struct e4_map_change *c, uint64_t count);
/* Promise @n directory blocks and the tree blocks mapping them one by one
 * may take: *@blocks and *@tree what was promised here (nothing when it
 * fails), for e4_map_release_dir_blocks. */
int e4_map_reserve_dir_blocks(struct e4_map_change *c, uint64_t n,
			      uint64_t *blocks, uint64_t *tree);
void e4_map_release_dir_blocks(struct e4_map_change *c, uint64_t blocks,
			       uint64_t tree);

/* Credits one e4_ext_insert may need: a leaf and every index level split
 * or grown (each a new block, its parent, an allocation), key fixes up the
 * path. */
#define E4_EXT_INSERT_CREDITS \
	(3u * (E4_EXT_MAX_DEPTH + 1u) * (1u + E4_ALLOC_BLOCK_CREDITS))
/* Credits a removal keeps in hand for its next step (a leaf, a split
 * extent's insert, the frees of one run, an emptied path). */
#define E4_EXT_REMOVE_STEP_CREDITS \
	(E4_EXT_INSERT_CREDITS + 2u * E4_ALLOC_BLOCK_CREDITS + \
	 E4_EXT_MAX_DEPTH + 1u)

/* An empty extent tree in @inode's i_block (a new file on an extents
 * file system). */
void e4_ext_tree_init(struct e4_inode *inode);

/*
 * Map [ext->lblk, ext->lblk + ext->len), a hole, to ext->pblk (unwritten
 * when ext->unwritten), merging with a neighbour it continues.  Splits
 * full nodes and grows the tree as needed (-EFBIG past five levels).  A
 * range that is not a hole is corruption (EX4, -EUCLEAN).  i_blocks grows
 * by the tree blocks allocated, not by the extent (the caller allocated
 * and counted it).
 */
int e4_ext_insert(struct e4_map_change *c, const struct e4_extent *ext);

/*
 * Unmap the blocks of [*@cursor, @end) (logical blocks), freeing them when
 * @free_blocks, and the tree blocks left empty; i_blocks shrinks by what is
 * freed.  Works until the handle has fewer than E4_EXT_REMOVE_STEP_CREDITS
 * left: then returns -EAGAIN with *@cursor where it stopped (write the
 * inode back, start a new handle, call again); 0 when done.
 */
int e4_ext_remove(struct e4_map_change *c, uint64_t *cursor, uint64_t end,
		  bool free_blocks);

/* Block maps (blockmap_write.c): map logical block @lblk, a hole, to
 * @pblk (indirect blocks allocated on the way; -EFBIG past the map's
 * reach or a block above 2^32). */
int e4_bmap_set(struct e4_map_change *c, uint64_t lblk, uint64_t pblk);
/* Unmap from *@cursor towards @end, at most one indirect block's worth of
 * pointers: the data blocks freed, indirect blocks left empty freed up to
 * i_block.  *@cursor moves past what was done (holes skipped whole). */
int e4_bmap_unmap_step(struct e4_map_change *c, uint64_t *cursor,
		       uint64_t end);
/* Credits an unmap step keeps in hand: the blocks of its path and the
 * frees of a few groups (it stops early when its pointers reach more). */
#define E4_BMAP_STEP_CREDITS (8u + 4u * E4_ALLOC_BLOCK_CREDITS)

/* Whichever mapping the file has (mapping.c): map [lblk, lblk+count), a
 * hole, to the physical run at @pblk; unmap and free from *@cursor to
 * @end (-EAGAIN: the handle's credits ran short, go on in a new one). */
int e4_map_insert(struct e4_map_change *c, uint64_t lblk, uint64_t count,
		  uint64_t pblk);
int e4_map_remove(struct e4_map_change *c, uint64_t *cursor, uint64_t end);

/* Bigalloc (§11.5): when another block of @lblk's logical cluster is
 * mapped, the physical block @lblk must map to (1), else 0. */
int e4_cluster_sibling(struct e4_fs *fs, const struct e4_inode *in,
		       uint64_t lblk, uint64_t *pblk);
/*
 * Physical blocks for the hole at @lblk (@hole_len blocks long, at most
 * @want of them asked): on bigalloc the cluster the file owns there
 * already, else fresh clusters (i_blocks counts them whole) placed so the
 * logical block keeps its offset in the cluster, and never reaching into
 * the logical cluster of the next mapped block.  *@pblk and *@n: the run
 * for [lblk, lblk + n).  @metadata: a directory's or symlink's block.
 */
int e4_alloc_for_hole(struct e4_map_change *c, uint64_t lblk, uint64_t want,
		      uint64_t hole_len, uint64_t goal, bool metadata,
		      uint64_t *pblk, uint64_t *n);

/*
 * Give back what e4_alloc_for_hole took for [lblk, ...) at @pblk when the
 * mapping could not take it and changed nothing (no room for a tree
 * block, the handle not aborted): i_blocks past @blocks_512_before says
 * how many clusters were fresh (none when the file owned the cluster).
 * The handle then stands as if the step had not begun, so its caller may
 * commit and try again (e4_writer_retry_alloc).
 */
int e4_alloc_for_hole_undo(struct e4_map_change *c, uint64_t lblk,
			   uint64_t pblk, uint64_t blocks_512_before);

/* Bytes of i_blocks (512-byte units) @blocks file-system blocks count. */
static inline uint64_t e4_blocks_to_512(const struct e4_fs *fs,
					uint64_t blocks)
{
	return blocks << (fs->log_block_size - 9);
}

#endif /* E4_FS_MAPPING_H */
