/* SPDX-License-Identifier: MIT */
/*
 * Group descriptors (§3): located per §1.6, read lazily through the cache
 * (opening reads none of them), checksummed and validated on every use.
 */
#include "ondisk/ondisk.h"

bool e4_group_has_super(const struct e4_fs *fs, uint32_t g)
{
	if (g == 0)
		return true;
	if (fs->feature_compat & E4_COMPAT_SPARSE_SUPER2)
		return g == fs->backup_bgs[0] || g == fs->backup_bgs[1];
	if (g == 1 || !(fs->feature_ro_compat & E4_RO_COMPAT_SPARSE_SUPER))
		return true;
	for (uint32_t base = 3; base <= 7; base += 2) {
		uint64_t p = base;
		while (p < g)
			p *= base;
		if (p == g)
			return true;
	}
	return false;
}

uint64_t e4_group_super_block(const struct e4_fs *fs, uint32_t g)
{
	return g == 0 ? E4_SB_OFFSET / fs->block_size :
			e4_group_first_block(fs, g);
}

/*
 * Each group follows the layout of its own meta group: below
 * s_first_meta_bg (or without meta_bg) the classic one, a copy of the
 * table's classic part and the reserved blocks after each superblock
 * copy; from it on one descriptor block per meta group, in its first,
 * second and last group, after the superblock copy if there is one.
 * (Both at once would put two blocks at the same place.)
 */
uint32_t e4_group_gdt_blocks(const struct e4_fs *fs, uint32_t g,
			     uint64_t *start, uint32_t *reserved)
{
	bool super = e4_group_has_super(fs, g);
	uint32_t d = fs->descs_per_block;
	uint32_t idx = g % d;

	*start = e4_group_super_block(fs, g) + (super ? 1 : 0);
	*reserved = 0;
	if (!(fs->feature_incompat & E4_INCOMPAT_META_BG) ||
	    g / d < fs->first_meta_bg) {
		if (!super)
			return 0;
		*reserved = fs->reserved_gdt_blocks;
		return (fs->feature_incompat & E4_INCOMPAT_META_BG) ?
			fs->first_meta_bg : fs->gdt_blocks;
	}
	return (idx == 0 || idx == 1 || idx == d - 1) ? 1 : 0;
}

uint64_t e4_group_desc_block(const struct e4_fs *fs, uint32_t g)
{
	uint32_t meta_group = g / fs->descs_per_block;
	uint64_t blk;
	uint32_t reserved;

	if ((fs->feature_incompat & E4_INCOMPAT_META_BG) &&
	    meta_group >= fs->first_meta_bg) {
		(void)e4_group_gdt_blocks(fs, meta_group * fs->descs_per_block,
					  &blk, &reserved);
		return blk;
	}
	return E4_SB_OFFSET / fs->block_size + 1 + meta_group;
}

/* §3.4: the descriptor's checksum, over @d with its checksum field taken
 * as zero (0 when the file system keeps none). */
static uint16_t desc_csum(const struct e4_fs *fs, uint32_t g, const uint8_t *d,
			  size_t ds)
{
	uint8_t le_g[4];

	e4_put_le32(le_g, 4, 0, g);
	if (fs->metadata_csum) {
		static const uint8_t zero[2];
		uint32_t c = e4_crc32c(fs->fs_seed, le_g, 4);
		c = e4_crc32c(c, d, E4_GD_CHECKSUM);
		c = e4_crc32c(c, zero, 2);
		c = e4_crc32c(c, d + E4_GD_CHECKSUM + 2, ds - E4_GD_CHECKSUM - 2);
		return (uint16_t)c;
	}
	if (fs->gdt_csum) {
		uint16_t c = e4_crc16(0xFFFF, fs->sb_raw + E4_SB_UUID, 16);
		c = e4_crc16(c, le_g, 4);
		c = e4_crc16(c, d, E4_GD_CHECKSUM);
		if (ds > 32)
			c = e4_crc16(c, d + 32, ds - 32);
		return c;
	}
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

/* Descriptor of group @g inside its descriptor block @buf. */
static const uint8_t *desc_in(const struct e4_fs *fs, const struct e4_buf *buf,
			      uint32_t g)
{
	return buf->data + e4_group_desc_offset(fs, g);
}

static void desc_decode(const struct e4_fs *fs, const uint8_t *d,
			struct e4_group *out)
{
	size_t ds = fs->desc_size;
	bool wide = ds >= E4_GD_SIZE_64;

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
}

size_t e4_group_desc_offset(const struct e4_fs *fs, uint32_t g)
{
	return (size_t)(g % fs->descs_per_block) * fs->desc_size;
}

/* The inverse of desc_decode for what a writer changes: counters, flags
 * and bitmap checksums.  The locations, the exclude bitmap and the
 * reserved bytes stay as they are; the row's setter does the checksum. */
void e4_group_encode(const struct e4_fs *fs, const struct e4_group *gd,
		     uint8_t *d)
{
	size_t ds = fs->desc_size;
	bool wide = ds >= E4_GD_SIZE_64;

#define PUT16(lo, hi, v) do {						\
		e4_put_le16(d, ds, lo, (uint16_t)(v));			\
		if (wide)						\
			e4_put_le16(d, ds, hi, (uint16_t)((v) >> 16));	\
	} while (0)
	PUT16(E4_GD_FREE_BLOCKS_LO, E4_GD_FREE_BLOCKS_HI, gd->free_blocks);
	PUT16(E4_GD_FREE_INODES_LO, E4_GD_FREE_INODES_HI, gd->free_inodes);
	PUT16(E4_GD_USED_DIRS_LO, E4_GD_USED_DIRS_HI, gd->used_dirs);
	PUT16(E4_GD_ITABLE_UNUSED_LO, E4_GD_ITABLE_UNUSED_HI, gd->itable_unused);
	if (fs->metadata_csum) {
		PUT16(E4_GD_BLOCK_BITMAP_CSUM_LO, E4_GD_BLOCK_BITMAP_CSUM_HI,
		      gd->block_bitmap_csum);
		PUT16(E4_GD_INODE_BITMAP_CSUM_LO, E4_GD_INODE_BITMAP_CSUM_HI,
		      gd->inode_bitmap_csum);
	}
#undef PUT16
	/* without a checksum feature the flags mean nothing: keep them */
	if (fs->uninit_flags_valid)
		e4_put_le16(d, ds, E4_GD_FLAGS, gd->flags);
}

/* GD2, GD4 on group @owner->pos's descriptor in @buf. */
static int gdt_verify_write(struct e4_fs *fs, const struct e4_buf *buf,
			    const struct e4_owner *owner)
{
	uint32_t g = (uint32_t)owner->pos;
	struct e4_group gd;
	int err;

	desc_decode(fs, desc_in(fs, buf, g), &gd);
	err = check_range(fs, g, "block bitmap", gd.block_bitmap, 1);
	if (!err)
		err = check_range(fs, g, "inode bitmap", gd.inode_bitmap, 1);
	if (!err)
		err = check_range(fs, g, "inode table", gd.inode_table,
				  fs->itable_blocks);
	if (!err && (gd.free_inodes > fs->inodes_per_group ||
		     gd.itable_unused > fs->inodes_per_group))
		err = e4_corrupt(fs, E4_RULE_GD4, e4_obj_group(g),
				 "free inodes %u / unused %u exceed %u inodes per group",
				 gd.free_inodes, gd.itable_unused,
				 fs->inodes_per_group);
	return err;
}

/* GD1, then the structure. */
static int gdt_verify_read(struct e4_fs *fs, const struct e4_buf *buf,
			   const struct e4_owner *owner)
{
	uint32_t g = (uint32_t)owner->pos;
	const uint8_t *d = desc_in(fs, buf, g);
	uint16_t stored = e4_le16(d, fs->desc_size, E4_GD_CHECKSUM);
	uint16_t calc = desc_csum(fs, g, d, fs->desc_size);

	if ((fs->metadata_csum || fs->gdt_csum) && stored != calc) {
		int err = e4_csum_mismatch(fs, E4_RULE_GD1, e4_obj_group(g),
					   stored, calc);
		if (err)
			return err;
	}
	return gdt_verify_write(fs, buf, owner);
}

static void gdt_csum_set(struct e4_fs *fs, struct e4_buf *buf,
			 const struct e4_owner *owner)
{
	uint32_t g = (uint32_t)owner->pos;
	size_t off = e4_group_desc_offset(fs, g);

	if (fs->metadata_csum || fs->gdt_csum)
		e4_put_le16(buf->data, buf->size, off + E4_GD_CHECKSUM,
			    desc_csum(fs, g, buf->data + off, fs->desc_size));
}

/* One descriptor per owner (the group): a block holds many groups, each
 * verified and checksummed on its own. */
const struct e4_buf_ops e4_bops_gdt = {
	.name = "group descriptor", .kind = E4_BUF_GDT,
	.verify_read = gdt_verify_read, .verify_write = gdt_verify_write,
	.csum_set = gdt_csum_set,
};

int e4_group_get(struct e4_fs *fs, uint32_t g, struct e4_group *out)
{
	struct e4_owner owner = { .pos = g };
	struct e4_buf *buf;
	int err;

	if (g >= fs->group_count)
		return -EINVAL;
	err = e4_meta_get_verified(fs, e4_group_desc_block(fs, g), &e4_bops_gdt,
				   &owner, &buf);
	if (err)
		return err;
	desc_decode(fs, desc_in(fs, buf, g), out);
	e4_meta_put(fs, buf);
	return 0;
}

/* ---- the fixed metadata of a group -------------------------------------- */

/* Report [start, start+count) of group @g's fixed metadata, clipped to the
 * file system (a backup in a last group too short for it: FS-RANGE). */
static int fixed_run(struct e4_fs *fs, uint32_t g, enum e4_meta_kind kind,
		     uint64_t start, uint64_t count, e4_meta_cb cb, void *ctx)
{
	if (count == 0)
		return 0;
	if (start + count > fs->blocks_count) {
		(void)e4_corrupt(fs, E4_RULE_FS_RANGE, e4_obj_group(g),
				 "superblock or descriptor copy at %llu (+%llu) past the end of the file system",
				 (unsigned long long)start,
				 (unsigned long long)count);
		if (start >= fs->blocks_count)
			return 0;
		count = fs->blocks_count - start;
	}
	return cb(ctx, g, kind, start, count);
}

/* Report the part of [start, start+count) inside [lo, hi). */
static int clipped_run(uint32_t owner, enum e4_meta_kind kind, uint64_t start,
		       uint64_t count, uint64_t lo, uint64_t hi, e4_meta_cb cb,
		       void *ctx)
{
	uint64_t end = start + count;

	if (start < lo)
		start = lo;
	if (end > hi)
		end = hi;
	return start < end ? cb(ctx, owner, kind, start, end - start) : 0;
}

int e4_group_metadata(struct e4_fs *fs, uint32_t g, enum e4_meta_scope scope,
		      e4_meta_cb cb, void *ctx)
{
	uint64_t lo = 0, hi = UINT64_MAX, gdt;
	uint32_t first = g, n = 1, ngdt, reserved;
	int err = 0;

	if (g >= fs->group_count)
		return -EINVAL;
	ngdt = e4_group_gdt_blocks(fs, g, &gdt, &reserved);
	if (e4_group_has_super(fs, g))
		err = fixed_run(fs, g, E4_META_SUPERBLOCK,
				e4_group_super_block(fs, g), 1, cb, ctx);
	if (!err)
		err = fixed_run(fs, g, E4_META_GDT, gdt, ngdt, cb, ctx);
	if (!err)
		err = fixed_run(fs, g, E4_META_RESERVED_GDT, gdt + ngdt,
				reserved, cb, ctx);
	if (err)
		return err;

	if (scope == E4_META_INSIDE) {
		lo = e4_group_first_block(fs, g);
		hi = lo + fs->blocks_per_group;
		if (fs->feature_incompat & E4_INCOMPAT_FLEX_BG) {
			/* g's flex group, cut at the last group */
			uint64_t size = 1ull << fs->log_groups_per_flex;
			first = (uint32_t)(g / size * size);
			n = (uint32_t)(fs->group_count - first < size ?
				       fs->group_count - first : size);
		}
	}
	for (uint32_t i = 0; i < n && !err; i++) {
		uint32_t h = first + i;
		struct e4_group gd;

		err = e4_group_get(fs, h, &gd);
		if (!err)
			err = clipped_run(h, E4_META_BLOCK_BITMAP,
					  gd.block_bitmap, 1, lo, hi, cb, ctx);
		if (!err)
			err = clipped_run(h, E4_META_INODE_BITMAP,
					  gd.inode_bitmap, 1, lo, hi, cb, ctx);
		if (!err)
			err = clipped_run(h, E4_META_INODE_TABLE,
					  gd.inode_table, fs->itable_blocks,
					  lo, hi, cb, ctx);
	}
	return err;
}
