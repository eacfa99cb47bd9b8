/* SPDX-License-Identifier: MIT */
/*
 * Group descriptors (§3): located per §1.6, read lazily through the cache
 * (opening reads none of them), checksummed and validated on every use.
 */
#include "ondisk/ondisk.h"

uint64_t e4_group_desc_block(const struct e4_fs *fs, uint32_t g)
{
	uint32_t meta_group = g / fs->descs_per_block;
	uint64_t sbb = 1024 / fs->block_size;

	if ((fs->feature_incompat & E4_INCOMPAT_META_BG) &&
	    meta_group >= fs->first_meta_bg) {
		uint32_t first = meta_group * fs->descs_per_block;
		return e4_group_first_block(fs, first) +
		       (e4_group_has_super(fs, first) ? 1 : 0);
	}
	return sbb + 1 + meta_group;
}

static int verify_desc_csum(struct e4_fs *fs, uint32_t g, const uint8_t *d,
			    size_t ds)
{
	uint16_t stored = e4_le16(d, ds, E4_GD_CHECKSUM);
	uint16_t calc;
	uint8_t le_g[4];

	e4_put_le32(le_g, 4, 0, g);
	if (fs->metadata_csum) {
		static const uint8_t zero[2];
		uint32_t c = e4_crc32c(fs->fs_seed, le_g, 4);
		c = e4_crc32c(c, d, E4_GD_CHECKSUM);
		c = e4_crc32c(c, zero, 2);
		c = e4_crc32c(c, d + E4_GD_CHECKSUM + 2, ds - E4_GD_CHECKSUM - 2);
		calc = (uint16_t)c;
	} else if (fs->gdt_csum) {
		uint16_t c = e4_crc16(0xFFFF, fs->sb_raw + E4_SB_UUID, 16);
		c = e4_crc16(c, le_g, 4);
		c = e4_crc16(c, d, E4_GD_CHECKSUM);
		if (ds > 32)
			c = e4_crc16(c, d + 32, ds - 32);
		calc = c;
	} else {
		return 0;
	}
	if (stored != calc)
		return e4_csum_mismatch(fs, E4_RULE_GD1, e4_obj_group(g),
					stored, calc);
	return 0;
}

/* GD2: a metadata range of a group must lie inside the file system and,
 * without flex_bg, inside the group itself. */
static int check_range(struct e4_fs *fs, uint32_t g, const char *what,
		       uint64_t blk, uint64_t count)
{
	if (!e4_blocks_valid(fs, blk, count))
		return e4_corrupt(fs, E4_RULE_GD2, e4_obj_group(g),
				  "%s at block %llu (+%llu) outside the file system",
				  what, (unsigned long long)blk,
				  (unsigned long long)count);
	if (!(fs->feature_incompat & E4_INCOMPAT_FLEX_BG)) {
		uint64_t first = e4_group_first_block(fs, g);
		uint64_t end = first + fs->blocks_per_group;
		if (blk < first || blk + count > end)
			return e4_corrupt(fs, E4_RULE_GD2, e4_obj_group(g),
					  "%s at block %llu outside its group without flex_bg",
					  what, (unsigned long long)blk);
	}
	return 0;
}

int e4_group_get(struct e4_fs *fs, uint32_t g, struct e4_group *out)
{
	struct e4_buf *buf;
	size_t ds = fs->desc_size, off;
	bool wide = ds >= E4_GD_SIZE_64;
	uint64_t blk;
	int err;

	if (g >= fs->group_count)
		return -EINVAL;
	blk = e4_group_desc_block(fs, g);
	off = (size_t)(g % fs->descs_per_block) * ds;
	err = e4_meta_get(fs, blk, &buf);
	if (err)
		return err;

	const uint8_t *d = buf->data + off;
	if (!e4_buf_is_verified(fs->cache, buf, E4_BUF_GDT, g)) {
		err = verify_desc_csum(fs, g, d, ds);
		if (err)
			goto out;
		/* a descriptor block holds many groups: remember the last */
		e4_buf_set_verified(fs->cache, buf, E4_BUF_GDT, g);
	}

#define LOHI32(lo, hi) ((uint64_t)e4_le32(d, ds, lo) | \
			(wide ? (uint64_t)e4_le32(d, ds, hi) << 32 : 0))
#define LOHI16(lo, hi) ((uint32_t)e4_le16(d, ds, lo) | \
			(wide ? (uint32_t)e4_le16(d, ds, hi) << 16 : 0))
	out->block_bitmap = LOHI32(E4_GD_BLOCK_BITMAP_LO, E4_GD_BLOCK_BITMAP_HI);
	out->inode_bitmap = LOHI32(E4_GD_INODE_BITMAP_LO, E4_GD_INODE_BITMAP_HI);
	out->inode_table = LOHI32(E4_GD_INODE_TABLE_LO, E4_GD_INODE_TABLE_HI);
	out->free_blocks = LOHI16(E4_GD_FREE_BLOCKS_LO, E4_GD_FREE_BLOCKS_HI);
	out->free_inodes = LOHI16(E4_GD_FREE_INODES_LO, E4_GD_FREE_INODES_HI);
	out->used_dirs = LOHI16(E4_GD_USED_DIRS_LO, E4_GD_USED_DIRS_HI);
	out->itable_unused = LOHI16(E4_GD_ITABLE_UNUSED_LO, E4_GD_ITABLE_UNUSED_HI);
	out->block_bitmap_csum = LOHI16(E4_GD_BLOCK_BITMAP_CSUM_LO, E4_GD_BLOCK_BITMAP_CSUM_HI);
	out->inode_bitmap_csum = LOHI16(E4_GD_INODE_BITMAP_CSUM_LO, E4_GD_INODE_BITMAP_CSUM_HI);
	out->flags = fs->uninit_flags_valid ? e4_le16(d, ds, E4_GD_FLAGS) : 0;
#undef LOHI32
#undef LOHI16

	err = check_range(fs, g, "block bitmap", out->block_bitmap, 1);
	if (!err)
		err = check_range(fs, g, "inode bitmap", out->inode_bitmap, 1);
	if (!err)
		err = check_range(fs, g, "inode table", out->inode_table,
				  fs->itable_blocks);
	if (!err && (out->free_inodes > fs->inodes_per_group ||
		     out->itable_unused > fs->inodes_per_group))
		err = e4_corrupt(fs, E4_RULE_GD4, e4_obj_group(g),
				 "free inodes %u / unused %u exceed %u inodes per group",
				 out->free_inodes, out->itable_unused,
				 fs->inodes_per_group);
out:
	e4_meta_put(fs, buf);
	return err;
}
