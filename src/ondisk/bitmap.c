/* SPDX-License-Identifier: MIT */
/* Allocation bitmaps (§11): the read side needs only "is this inode in use". */
#include "ondisk/ondisk.h"

static int verify_inode_bitmap(struct e4_fs *fs, uint32_t g,
			       const struct e4_group *gd, struct e4_buf *buf)
{
	uint32_t calc, stored = gd->inode_bitmap_csum;

	if (!fs->metadata_csum ||
	    e4_buf_is_verified(fs->cache, buf, E4_BUF_INODE_BITMAP, g))
		return 0;
	calc = e4_crc32c(fs->fs_seed, buf->data, fs->inodes_per_group / 8);
	if (fs->desc_size < E4_GD_SIZE_64) {
		calc &= 0xFFFF;
		stored &= 0xFFFF;
	}
	if (calc != stored) {
		int err = e4_csum_mismatch(fs, "group %u: inode bitmap block %llu: checksum 0x%08x does not match computed 0x%08x",
					   g, (unsigned long long)buf->blk, stored, calc);
		if (err)
			return err;
	}
	e4_buf_set_verified(fs->cache, buf, E4_BUF_INODE_BITMAP, g);
	return 0;
}

int e4_inode_bitmap_test(struct e4_fs *fs, uint32_t ino, bool *allocated)
{
	uint32_t g = (ino - 1) / fs->inodes_per_group;
	uint32_t index = (ino - 1) % fs->inodes_per_group;
	struct e4_group gd;
	struct e4_buf *buf;
	int err;

	err = e4_group_get(fs, g, &gd);
	if (err)
		return err;
	if (gd.flags & E4_BG_INODE_UNINIT) {
		*allocated = false;
		return 0;
	}
	if (fs->uninit_flags_valid &&
	    index >= fs->inodes_per_group - gd.itable_unused) {
		*allocated = false;
		return 0;
	}
	err = e4_meta_get(fs, gd.inode_bitmap, &buf);
	if (err)
		return err;
	err = verify_inode_bitmap(fs, g, &gd, buf);
	if (!err)
		*allocated = e4_u8(buf->data, buf->size, index / 8) & (1u << (index % 8));
	e4_meta_put(fs, buf);
	return err;
}
