/* SPDX-License-Identifier: MIT */
/*
 * Allocation bitmaps (§11): read through the cache with their checksums
 * verified (§11.2).  The read side needs "is this inode in use"; the
 * checker reads whole bitmaps.
 */
#include "ondisk/ondisk.h"

/* The bytes a bitmap's checksum covers: the group's bits. */
static size_t bitmap_bytes(const struct e4_fs *fs, enum e4_buf_kind kind)
{
	return kind == E4_BUF_INODE_BITMAP ? fs->inodes_per_group / 8 :
					     fs->clusters_per_group / 8;
}

uint32_t e4_bitmap_csum(const struct e4_fs *fs, enum e4_buf_kind kind,
			const uint8_t *data)
{
	uint32_t c = e4_crc32c(fs->fs_seed, data, bitmap_bytes(fs, kind));

	return fs->desc_size < E4_GD_SIZE_64 ? c & 0xFFFF : c;
}

/* §11.2: the checksum is kept in the group's descriptor, so the row reads
 * the descriptor (group @owner->pos) to compare, and sets nothing: the
 * writer of a bitmap sets its descriptor's field (e4_bitmap_csum). */
static int bitmap_verify_read(struct e4_fs *fs, const struct e4_buf *buf,
			      const struct e4_owner *owner,
			      enum e4_buf_kind kind)
{
	uint32_t g = (uint32_t)owner->pos;
	enum e4_object_kind what = kind == E4_BUF_INODE_BITMAP ?
		E4_OBJ_INODE_BITMAP : E4_OBJ_BLOCK_BITMAP;
	struct e4_group gd;
	uint32_t stored, calc;
	int err;

	if (!fs->metadata_csum)
		return 0;
	err = e4_group_get(fs, g, &gd);
	if (err)
		return err;
	stored = kind == E4_BUF_INODE_BITMAP ? gd.inode_bitmap_csum :
					       gd.block_bitmap_csum;
	if (fs->desc_size < E4_GD_SIZE_64)
		stored &= 0xFFFF;
	calc = e4_bitmap_csum(fs, kind, buf->data);
	if (calc != stored)
		return e4_csum_mismatch(fs, E4_RULE_AL1,
					e4_obj(what, 0, buf->blk, g), stored,
					calc);
	return 0;
}

static int block_bitmap_verify_read(struct e4_fs *fs, const struct e4_buf *buf,
				    const struct e4_owner *owner)
{
	return bitmap_verify_read(fs, buf, owner, E4_BUF_BLOCK_BITMAP);
}

static int inode_bitmap_verify_read(struct e4_fs *fs, const struct e4_buf *buf,
				    const struct e4_owner *owner)
{
	return bitmap_verify_read(fs, buf, owner, E4_BUF_INODE_BITMAP);
}

/* Any bit pattern is a valid bitmap: no structure to check on write. */
const struct e4_buf_ops e4_bops_block_bitmap = {
	.name = "block bitmap", .kind = E4_BUF_BLOCK_BITMAP,
	.verify_read = block_bitmap_verify_read,
};

const struct e4_buf_ops e4_bops_inode_bitmap = {
	.name = "inode bitmap", .kind = E4_BUF_INODE_BITMAP,
	.verify_read = inode_bitmap_verify_read,
};

int e4_inode_bitmap_get(struct e4_fs *fs, uint32_t g, const struct e4_group *gd,
			struct e4_buf **out)
{
	struct e4_owner owner = { .pos = g };

	return e4_meta_get_verified(fs, gd->inode_bitmap, &e4_bops_inode_bitmap,
				    &owner, out);
}

int e4_block_bitmap_get(struct e4_fs *fs, uint32_t g, const struct e4_group *gd,
			struct e4_buf **out)
{
	struct e4_owner owner = { .pos = g };

	return e4_meta_get_verified(fs, gd->block_bitmap, &e4_bops_block_bitmap,
				    &owner, out);
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
