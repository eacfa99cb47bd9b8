/* SPDX-License-Identifier: MIT */
/*
 * Orphan inodes (§14): the classic list through s_last_orphan and i_dtime,
 * and the orphan file.
 *
 * A read-only server cleans nothing up, but must show what the kernel would
 * show after its cleanup: an orphan with no links left would have been
 * deleted, so it is hidden (e4_inode_read says -ENOENT); one with links was
 * being truncated, and reads stop at i_size anyway.  Both chains come from
 * the image, so the walk is bounded and cycle-proof; a broken element ends
 * the walk with one report and hides nothing more.
 */
#include <stdlib.h>

#include "ondisk/ondisk.h"

/* The tail's fields in a block of @B bytes (§14.2, e4/format.h). */
#define OB_MAGIC(B) ((B) - E4_ORPHAN_TAIL_SIZE + E4_ORPHAN_TAIL_MAGIC)
#define OB_CHECKSUM(B) ((B) - E4_ORPHAN_TAIL_SIZE + E4_ORPHAN_TAIL_CHECKSUM)
/* The largest orphan file the kernel mounts ("orphan file too big" above,
 * measured on Linux 6.18 for 1, 2 and 4 KiB blocks and 16K to 1M inodes;
 * mke2fs makes at most 2 MiB by default).  A bound from the format, not
 * from i_size: a block-mapped orphan file whose indirect blocks all point
 * at one block could claim terabytes with a handful of blocks. */
#define ORPHAN_FILE_MAX_BYTES (2u << 20)

static int note_orphan(struct e4_fs *fs, uint32_t ino, uint16_t links)
{
	if (links != 0)
		return 0;	/* truncate in progress: still a live file */
	int ret = e4_block_set_add(fs->orphans, ino);
	return ret < 0 ? ret : 0;
}

/* Raw links and dtime of @ino, without e4_inode_read's "links 0" verdict. */
static int orphan_fields(struct e4_fs *fs, uint32_t ino, uint16_t *links,
			 uint32_t *dtime)
{
	struct e4_buf *buf;
	size_t off;
	int ret = e4_inode_raw_get(fs, ino, &buf, &off);

	if (ret)
		return ret;
	*links = e4_le16(buf->data, buf->size, off + E4_I_LINKS_COUNT);
	*dtime = e4_le32(buf->data, buf->size, off + E4_I_DTIME);
	e4_meta_put(fs, buf);
	return 0;
}

static int walk_orphan_list(struct e4_fs *fs)
{
	struct e4_block_set *seen = e4_block_set_new();
	uint32_t ino = fs->last_orphan;
	int ret = 0;

	if (!seen)
		return -ENOMEM;
	/* at most s_inodes_count elements; the visited set catches cycles */
	for (uint32_t steps = 0; ino && steps <= fs->inodes_count; steps++) {
		uint16_t links;
		uint32_t next;

		if (ino < fs->first_ino || ino > fs->inodes_count) {
			ret = e4_corrupt(fs, E4_RULE_OR1,
					 e4_obj(E4_OBJ_ORPHAN_LIST, 0, 0, 0),
					 "element %u is not a valid inode number",
					 ino);
			break;
		}
		if (e4_block_set_add(seen, ino)) {
			ret = e4_corrupt(fs, E4_RULE_OR1,
					 e4_obj(E4_OBJ_ORPHAN_LIST, 0, 0, 0),
					 "inode %u appears twice (cycle)", ino);
			break;
		}
		ret = orphan_fields(fs, ino, &links, &next);
		if (!ret)
			ret = note_orphan(fs, ino, links);
		if (ret)
			break;
		ino = next;
	}
	e4_block_set_free(seen);
	return ret;
}

/* §12.4: crc32c(the orphan file inode's seed, le64 block number, the
 * slots); the magic is not covered. */
static uint32_t orphan_block_csum(const struct e4_fs *fs,
				  const struct e4_owner *o,
				  const struct e4_buf *buf)
{
	uint8_t le[8];

	e4_put_le64(le, 8, 0, buf->blk);
	return e4_crc32c(e4_crc32c(e4_inode_csum_seed(fs, o->ino, o->gen), le, 8),
			 buf->data, fs->block_size - E4_ORPHAN_TAIL_SIZE);
}

/* The magic and the slots: each empty or an ordinary inode number. */
static int orphan_verify_write(struct e4_fs *fs, const struct e4_buf *buf,
			       const struct e4_owner *owner)
{
	uint32_t B = fs->block_size;
	const uint8_t *b = buf->data;
	struct e4_object obj = e4_obj(E4_OBJ_ORPHAN_BLOCK, 0, buf->blk, 0);

	(void)owner;
	if (e4_le32(b, B, OB_MAGIC(B)) != E4_ORPHAN_MAGIC)
		return e4_corrupt(fs, E4_RULE_OR2, obj, "bad magic 0x%08x",
				  e4_le32(b, B, OB_MAGIC(B)));
	for (uint32_t off = 0;
	     off + E4_ORPHAN_SLOT_SIZE <= B - E4_ORPHAN_TAIL_SIZE;
	     off += E4_ORPHAN_SLOT_SIZE) {
		uint32_t ino = e4_le32(b, B, off);

		if (ino && (ino < fs->first_ino || ino > fs->inodes_count))
			return e4_corrupt(fs, E4_RULE_OR2, obj,
					  "slot %u names invalid inode %u",
					  off / E4_ORPHAN_SLOT_SIZE, ino);
	}
	return 0;
}

/* The magic, the checksum, then the slots. */
static int orphan_verify_read(struct e4_fs *fs, const struct e4_buf *buf,
			      const struct e4_owner *owner)
{
	uint32_t B = fs->block_size;
	const uint8_t *b = buf->data;

	if (e4_le32(b, B, OB_MAGIC(B)) == E4_ORPHAN_MAGIC &&
	    fs->metadata_csum) {
		uint32_t c = orphan_block_csum(fs, owner, buf);
		uint32_t want = e4_le32(b, B, OB_CHECKSUM(B));

		if (c != want) {
			int ret = e4_csum_mismatch(fs, E4_RULE_OR2,
						   e4_obj(E4_OBJ_ORPHAN_BLOCK, 0,
							  buf->blk, 0),
						   want, c);
			if (ret)
				return ret;
		}
	}
	return orphan_verify_write(fs, buf, owner);
}

static void orphan_csum_set(struct e4_fs *fs, struct e4_buf *buf,
			    const struct e4_owner *owner)
{
	if (fs->metadata_csum)
		e4_put_le32(buf->data, buf->size, OB_CHECKSUM(fs->block_size),
			    orphan_block_csum(fs, owner, buf));
}

/* Owned by the orphan file's inode, whose seed the checksum uses. */
const struct e4_buf_ops e4_bops_orphan = {
	.name = "orphan file block", .kind = E4_BUF_ORPHAN,
	.verify_read = orphan_verify_read, .verify_write = orphan_verify_write,
	.csum_set = orphan_csum_set,
};

/* One orphan-file block at device block @phys: verified, then its slots
 * noted. */
static int walk_orphan_block(struct e4_fs *fs, uint64_t phys,
			     const struct e4_owner *owner)
{
	uint32_t B = fs->block_size;
	struct e4_buf *buf;
	int ret = e4_meta_get_verified(fs, phys, &e4_bops_orphan, owner, &buf);

	if (ret)
		return ret;
	for (uint32_t off = 0;
	     !ret && off + E4_ORPHAN_SLOT_SIZE <= B - E4_ORPHAN_TAIL_SIZE;
	     off += E4_ORPHAN_SLOT_SIZE) {
		uint32_t ino = e4_le32(buf->data, B, off);
		uint16_t links;
		uint32_t dtime;

		if (!ino)
			continue;
		ret = orphan_fields(fs, ino, &links, &dtime);
		if (!ret)
			ret = note_orphan(fs, ino, links);
	}
	e4_meta_put(fs, buf);
	return ret;
}

static int walk_orphan_file(struct e4_fs *fs)
{
	struct e4_block_set *seen;
	struct e4_inode of;
	int ret = e4_inode_read(fs, fs->orphan_file_inum, &of);
	struct e4_object obj = e4_obj(E4_OBJ_ORPHAN_FILE, fs->orphan_file_inum,
				      0, 0);

	if (ret)
		return ret;
	if (!e4_inode_is_reg(&of))
		return e4_corrupt(fs, E4_RULE_OR2, obj, "not a regular file");
	if (of.size > ORPHAN_FILE_MAX_BYTES)
		return e4_corrupt(fs, E4_RULE_OR2, obj,
				  "size %llu exceeds the %u bytes the kernel accepts",
				  (unsigned long long)of.size,
				  ORPHAN_FILE_MAX_BYTES);
	seen = e4_block_set_new();
	if (!seen)
		return -ENOMEM;
	struct e4_owner owner = e4_owner_of(&of, 0);
	uint64_t nblocks = of.size >> fs->log_block_size;
	for (uint64_t l = 0; l < nblocks && !ret;) {
		struct e4_mapping m;
		ret = e4_map_block(fs, &of, l, &m);
		if (ret)
			break;
		if (m.kind != E4_MAP_MAPPED) {
			ret = e4_corrupt(fs, E4_RULE_OR2, obj,
					 "block %llu is not allocated",
					 (unsigned long long)l);
			break;
		}
		for (uint64_t i = 0; i < m.len && l + i < nblocks && !ret; i++) {
			uint64_t phys = m.pblk + i;
			/* each device block once, whatever the mapping says */
			ret = e4_block_set_add(seen, phys);
			if (ret > 0)
				ret = e4_corrupt(fs, E4_RULE_OR2, obj,
						 "block %llu is mapped twice (device block %llu)",
						 (unsigned long long)(l + i),
						 (unsigned long long)phys);
			if (!ret)
				ret = walk_orphan_block(fs, phys, &owner);
		}
		l += m.len;
	}
	e4_block_set_free(seen);
	return ret;
}

int e4_orphans_load(struct e4_fs *fs)
{
	bool list = fs->last_orphan != 0;
	bool file = fs->orphan_file_inum &&
		    (fs->feature_ro_compat & E4_RO_COMPAT_ORPHAN_PRESENT);
	int ret = 0;

	if ((fs->feature_ro_compat & E4_RO_COMPAT_ORPHAN_PRESENT) &&
	    !(fs->feature_compat & E4_COMPAT_ORPHAN_FILE))
		e4_log_rule(fs, E4_LOG_WARN, E4_RULE_SB11, e4_obj_superblock(),
			    "orphan_present without orphan_file: ignored");
	if (!list && !file)
		return 0;
	fs->orphans = e4_block_set_new();
	if (!fs->orphans)
		return -ENOMEM;
	/* a broken chain is reported and hides what it hid so far: the rest
	 * of the file system stays readable */
	if (list && walk_orphan_list(fs) == -ENOMEM)
		ret = -ENOMEM;
	if (!ret && file && walk_orphan_file(fs) == -ENOMEM)
		ret = -ENOMEM;
	if (!ret)
		e4_log(fs, E4_LOG_INFO, "%zu deleted orphan inodes hidden (read-only: not cleaned up)",
		       e4_block_set_size(fs->orphans));
	return ret;
}

bool e4_inode_is_deleted_orphan(const struct e4_fs *fs, uint32_t ino)
{
	return fs->orphans && e4_block_set_has(fs->orphans, ino);
}
