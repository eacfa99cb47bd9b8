/* SPDX-License-Identifier: MIT */
/*
 * Allocation bitmaps (§11): read through the cache with their checksums
 * verified (§11.2).  The read side needs "is this inode in use"; the
 * checker reads whole bitmaps.
 */
#include "ondisk/ondisk.h"

/* Owner tag of a bitmap buffer whose checksum failed: reported once, and
 * known bad on every later use. */
#define BITMAP_BAD (1ull << 63)

static int verify_bitmap(struct e4_fs *fs, uint32_t g, struct e4_buf *buf,
			 enum e4_buf_kind kind, uint32_t stored, size_t nbytes)
{
	enum e4_object_kind what = kind == E4_BUF_INODE_BITMAP ?
		E4_OBJ_INODE_BITMAP : E4_OBJ_BLOCK_BITMAP;
	uint32_t calc;

	if (!fs->metadata_csum || e4_buf_is_verified(fs->cache, buf, kind, g))
		return 0;
	if (e4_buf_is_verified(fs->cache, buf, kind, g | BITMAP_BAD))
		return -EUCLEAN;
	calc = e4_crc32c(fs->fs_seed, buf->data, nbytes);
	if (fs->desc_size < E4_GD_SIZE_64) {
		calc &= 0xFFFF;
		stored &= 0xFFFF;
	}
	if (calc != stored) {
		int err = e4_csum_mismatch(fs, E4_RULE_AL1,
					   e4_obj(what, 0, buf->blk, g),
					   stored, calc);
		if (err) {
			e4_buf_set_verified(fs->cache, buf, kind, g | BITMAP_BAD);
			return err;
		}
	}
	e4_buf_set_verified(fs->cache, buf, kind, g);
	return 0;
}

int e4_inode_bitmap_get(struct e4_fs *fs, uint32_t g, const struct e4_group *gd,
			struct e4_buf **out)
{
	int err = e4_meta_get(fs, gd->inode_bitmap, out);

	if (err)
		return err;
	err = verify_bitmap(fs, g, *out, E4_BUF_INODE_BITMAP,
			    gd->inode_bitmap_csum, fs->inodes_per_group / 8);
	if (err)
		e4_meta_put(fs, *out);
	return err;
}

int e4_block_bitmap_get(struct e4_fs *fs, uint32_t g, const struct e4_group *gd,
			struct e4_buf **out)
{
	int err = e4_meta_get(fs, gd->block_bitmap, out);

	if (err)
		return err;
	err = verify_bitmap(fs, g, *out, E4_BUF_BLOCK_BITMAP,
			    gd->block_bitmap_csum, fs->clusters_per_group / 8);
	if (err)
		e4_meta_put(fs, *out);
	return err;
}

bool e4_inode_in_uninit_range(const struct e4_fs *fs, const struct e4_group *gd,
			      uint32_t index)
{
	if (gd->flags & E4_BG_INODE_UNINIT)
		return true;
	return fs->uninit_flags_valid &&
	       index >= fs->inodes_per_group - gd->itable_unused;
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
	if (e4_inode_in_uninit_range(fs, &gd, index)) {
		*allocated = false;
		return 0;
	}
	err = e4_inode_bitmap_get(fs, g, &gd, &buf);
	if (err == -EUCLEAN) {
		/* A bitmap that fails its checksum (reported once) cannot say
		 * which inodes are free; reading needs no bitmap, so the
		 * inode's own checks decide, as in the kernel.  Only the
		 * allocator must refuse such a group. */
		*allocated = true;
		return 0;
	}
	if (err)
		return err;
	*allocated = e4_u8(buf->data, buf->size, index / 8) & (1u << (index % 8));
	e4_meta_put(fs, buf);
	return 0;
}
