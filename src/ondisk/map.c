/* SPDX-License-Identifier: MIT */
/*
 * e4_map_block: the one mapping function.  It decides what i_block means
 * (spec §4.11) and hands the lookup to the extent tree or the block map.
 *
 * Inline data is presented as logical block 0: E4_MAP_INLINE with len 1
 * (the data, at most a block long, lives in the inode; pblk is 0), and every
 * block after it as one hole to the last addressable block.  Callers clamp
 * all mappings to i_size; the mapping itself knows nothing of the size.
 */
#include "ondisk/ondisk.h"

/* Last logical block + 1 for any mapping (§16: at most 2^32 - 1 blocks). */
#define E4_MAP_LBLK_END 0xFFFFFFFFull

/* §10: a symlink without EXTENTS/INLINE flags stores its target in i_block
 * when it is short and owns no data blocks (an xattr block does not count). */
static bool is_fast_symlink(const struct e4_fs *fs,
			    const struct e4_inode *inode)
{
	uint64_t xattr_sectors = 0;

	if (inode->file_acl)
		xattr_sectors = ((uint64_t)fs->block_size * fs->cluster_ratio) /
				512u;
	return inode->size < E4_I_BLOCK_SIZE &&
	       inode->blocks_512 <= xattr_sectors;
}

int e4_map_block(struct e4_fs *fs, const struct e4_inode *inode, uint64_t lblk,
		 struct e4_mapping *out)
{
	uint16_t type = inode->mode & E4_S_IFMT;

	if (type != E4_S_IFREG && type != E4_S_IFDIR && type != E4_S_IFLNK)
		return -EINVAL;	/* devices, fifos, sockets: nothing mapped */
	if (lblk >= E4_MAP_LBLK_END)
		return -EINVAL;

	if (inode->flags & E4_INLINE_DATA_FL) {
		out->lblk = lblk;
		out->pblk = 0;
		if (lblk == 0) {
			out->len = 1;
			out->kind = E4_MAP_INLINE;
		} else {
			out->len = E4_MAP_LBLK_END - lblk;
			out->kind = E4_MAP_HOLE;
		}
		return 0;
	}
	if (inode->flags & E4_EXTENTS_FL)
		return e4_extent_map(fs, inode, lblk, out);
	if (type == E4_S_IFLNK && is_fast_symlink(fs, inode))
		return -EINVAL;	/* the target is in i_block, not mapped */
	return e4_blockmap_map(fs, inode, lblk, out);
}

int e4_map_range(struct e4_fs *fs, const struct e4_inode *inode, uint64_t off,
		 uint64_t len, struct e4_range *out)
{
	uint64_t lblk = off >> fs->log_block_size;
	uint64_t in_block = off & (fs->block_size - 1);
	uint64_t run_bytes;
	struct e4_mapping m;
	int err;

	if (len == 0)
		return -EINVAL;
	err = e4_map_block(fs, inode, lblk, &m);
	if (err)
		return err;
	/* m.lblk + m.len <= 2^32 and B <= 2^16: the bytes fit */
	run_bytes = (m.len << fs->log_block_size) - in_block;
	out->offset = off;
	out->length = run_bytes < len ? run_bytes : len;
	out->kind = m.kind;
	out->dev_offset = 0;
	if (m.kind == E4_MAP_MAPPED || m.kind == E4_MAP_UNWRITTEN)
		out->dev_offset = e4_dev_base_offset(fs->dev) +
				  (m.pblk << fs->log_block_size) + in_block;
	return 0;
}

int e4_map_for_each_owned(struct e4_fs *fs, const struct e4_inode *inode,
			  e4_owned_cb cb, void *ctx)
{
	uint16_t type = inode->mode & E4_S_IFMT;

	if (type != E4_S_IFREG && type != E4_S_IFDIR && type != E4_S_IFLNK)
		return 0;
	if (inode->flags & E4_INLINE_DATA_FL)
		return 0;
	if (inode->flags & E4_EXTENTS_FL)
		return e4_extent_for_each_owned(fs, inode, cb, ctx);
	if (type == E4_S_IFLNK && is_fast_symlink(fs, inode))
		return 0;
	return e4_blockmap_for_each_owned(fs, inode, cb, ctx);
}
