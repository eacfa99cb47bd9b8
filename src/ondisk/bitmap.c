/* SPDX-License-Identifier: MIT */
/*
 * Allocation bitmaps (§11): read through the cache with their checksums
 * verified (§11.2).  The read side needs "is this inode in use"; the
 * checker reads whole bitmaps.
 */
#include <string.h>

#include "ondisk/ondisk.h"
#include "util/bits.h"

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

/* ---- fresh bitmaps for uninitialised groups (§11.3) ---------------------- */

/* Past the group's bits a bitmap block is padding, all ones (§11.1). */
static void pad_bitmap(uint8_t *data, size_t size, size_t bytes)
{
	if (bytes < size)
		memset(data + bytes, 0xFF, size - bytes);
}

void e4_inode_bitmap_init(const struct e4_fs *fs, uint8_t *data)
{
	size_t bytes = bitmap_bytes(fs, E4_BUF_INODE_BITMAP);

	memset(data, 0, fs->block_size);
	pad_bitmap(data, fs->block_size, bytes);
}

struct synth_ctx {
	const struct e4_fs *fs;
	uint8_t *data;
	uint64_t first;		/* the group's first block */
};

static int synth_mark(void *p, uint32_t owner, enum e4_meta_kind kind,
		      uint64_t start, uint64_t count)
{
	struct synth_ctx *c = p;
	uint32_t shift = (uint32_t)__builtin_ctz(c->fs->cluster_ratio);
	uint64_t from, to;

	(void)owner;
	(void)kind;
	if (start + count <= c->first)
		return 0;	/* group 0's superblock block on 1 KiB bigalloc */
	if (start < c->first) {
		count -= c->first - start;
		start = c->first;
	}
	from = (start - c->first) >> shift;
	to = (start + count - 1 - c->first) >> shift;
	e4_bits_set(c->data, from, to - from + 1);
	return 0;
}

int e4_block_bitmap_synth(struct e4_fs *fs, uint32_t g, uint8_t *data)
{
	size_t bytes = bitmap_bytes(fs, E4_BUF_BLOCK_BITMAP);
	struct synth_ctx c = { fs, data, e4_group_first_block(fs, g) };
	uint64_t blocks = fs->blocks_count - c.first;
	uint64_t clusters;

	memset(data, 0, fs->block_size);
	pad_bitmap(data, fs->block_size, bytes);
	/* the last group: clusters past the end of the file system */
	if (blocks < fs->blocks_per_group) {
		clusters = (blocks + fs->cluster_ratio - 1) / fs->cluster_ratio;
		e4_bits_set(data, clusters, fs->clusters_per_group - clusters);
	}
	return e4_group_metadata(fs, g, E4_META_INSIDE, synth_mark, &c);
}
