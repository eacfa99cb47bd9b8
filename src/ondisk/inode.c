/* SPDX-License-Identifier: MIT */
/*
 * Inodes (§4): locate the record, verify its checksum, validate it (§4.13)
 * and decode it into struct e4_inode.  The mapping in i_block is validated
 * later, by the code that interprets it, before any block is read.
 */
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "ondisk/ondisk.h"

int e4_inode_raw_get(struct e4_fs *fs, uint32_t ino, struct e4_buf **out,
		     size_t *off)
{
	uint32_t g = (ino - 1) / fs->inodes_per_group;
	uint32_t index = (ino - 1) % fs->inodes_per_group;
	uint64_t byte = (uint64_t)index * fs->inode_size;
	struct e4_group gd;
	int err;

	if (ino == 0 || ino > fs->inodes_count)
		return -EINVAL;
	err = e4_group_get(fs, g, &gd);
	if (err)
		return err;
	err = e4_meta_get(fs, gd.inode_table + byte / fs->block_size, out);
	if (err)
		return err;
	*off = (size_t)(byte % fs->block_size);
	return 0;
}

uint64_t e4_inode_record_digest(const struct e4_fs *fs, const uint8_t *r)
{
	/* all but i_dtime and the checksum: the classic orphan list patches
	 * a neighbour's i_dtime (its checksum with it) in place, and that
	 * link is the list's, not a field the in-core inode is read from */
	static const struct { size_t from, to; } parts[] = {
		{ 0, E4_I_DTIME },
		{ E4_I_DTIME + 4, E4_I_CHECKSUM_LO },
		{ E4_I_CHECKSUM_LO + 2, E4_I_CHECKSUM_HI },
		{ E4_I_CHECKSUM_HI + 2, SIZE_MAX },
	};
	XXH3_state_t st;

	memset(&st, 0, sizeof(st));	/* (gcc cannot see reset fill it) */
	XXH3_64bits_reset_withSeed(&st, fs->record_seed);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		size_t to = parts[i].to < fs->inode_size ? parts[i].to :
							   fs->inode_size;

		if (parts[i].from < to)
			XXH3_64bits_update(&st, r + parts[i].from,
					   to - parts[i].from);
	}
	return XXH3_64bits_digest(&st);
}

int e4_inode_record_get(struct e4_fs *fs, const struct e4_inode *inode,
			struct e4_buf **buf, size_t *off)
{
	int err = e4_inode_raw_get(fs, inode->ino, buf, off);

	if (err)
		return err;
	if (*off > (*buf)->size || (*buf)->size - *off < fs->inode_size ||
	    e4_inode_record_digest(fs, (*buf)->data + *off) != inode->record_digest) {
		e4_meta_put(fs, *buf);
		e4_log_rule(fs, E4_LOG_ERROR, E4_RULE_IO_CHANGED,
			    e4_obj_inode(inode->ino),
			    "record changed on the device since it was read");
		return -EIO;
	}
	return 0;
}

struct e4_time e4_time_decode(uint32_t base, uint32_t extra, bool has_extra)
{
	struct e4_time t;

	t.sec = (int64_t)(int32_t)base;
	t.nsec = 0;
	if (has_extra) {
		t.sec += (int64_t)(extra & 3) << 32;
		t.nsec = extra >> 2;
		if (t.nsec > 999999999u)
			t.nsec = 999999999u;	/* out of range: clamp (§4.9) */
	}
	return t;
}

/* §12.3: crc32c of the record with both checksum fields taken as zero;
 * the low 16 bits alone when the record has no room for the high half. */
static uint32_t inode_csum(const struct e4_fs *fs, uint32_t ino,
			   const uint8_t *r, size_t isz, bool *has_hi)
{
	static const uint8_t zero[2];
	uint32_t gen = e4_le32(r, isz, E4_I_GENERATION);
	uint32_t c = e4_crc32c(e4_inode_csum_seed(fs, ino, gen), r,
			       E4_I_CHECKSUM_LO);

	*has_hi = isz > E4_GOOD_OLD_INODE_SIZE &&
		  e4_le16(r, isz, E4_I_EXTRA_ISIZE) >= 4;
	c = e4_crc32c(c, zero, 2);
	if (!*has_hi)
		return e4_crc32c(c, r + E4_I_CHECKSUM_LO + 2,
				 isz - E4_I_CHECKSUM_LO - 2) & 0xFFFF;
	c = e4_crc32c(c, r + E4_I_CHECKSUM_LO + 2,
		      E4_I_CHECKSUM_HI - E4_I_CHECKSUM_LO - 2);
	c = e4_crc32c(c, zero, 2);
	return e4_crc32c(c, r + E4_I_CHECKSUM_HI + 2, isz - E4_I_CHECKSUM_HI - 2);
}

static bool valid_type(uint16_t mode)
{
	switch (mode & E4_S_IFMT) {
	case E4_S_IFIFO: case E4_S_IFCHR: case E4_S_IFDIR: case E4_S_IFBLK:
	case E4_S_IFREG: case E4_S_IFLNK: case E4_S_IFSOCK:
		return true;
	default:
		return false;
	}
}

static int check_flags(struct e4_fs *fs, const struct e4_inode *in)
{
	uint32_t f = in->flags;

	if ((f & E4_EXTENTS_FL) && (f & E4_INLINE_DATA_FL))
		return e4_corrupt(fs, E4_RULE_IN7, e4_obj_inode(in->ino),
				  "both extents and inline data flags set");
	if ((f & E4_INLINE_DATA_FL) &&
	    !(fs->feature_incompat & E4_INCOMPAT_INLINE_DATA))
		return e4_corrupt(fs, E4_RULE_IN7, e4_obj_inode(in->ino),
				  "inline data flag without the inline_data feature");
	if ((f & E4_EA_INODE_FL) &&
	    !(fs->feature_incompat & E4_INCOMPAT_EA_INODE))
		return e4_corrupt(fs, E4_RULE_IN7, e4_obj_inode(in->ino),
				  "EA inode flag without the ea_inode feature");
	/* the kernel never stores an xattr value inline: an EA inode whose
	 * data lived in its own xattrs could name itself */
	if ((f & E4_EA_INODE_FL) && (f & E4_INLINE_DATA_FL))
		return e4_corrupt(fs, E4_RULE_IN7, e4_obj_inode(in->ino),
				  "EA inode with the inline data flag");
	if ((f & E4_HUGE_FILE_FL) &&
	    !(fs->feature_ro_compat & E4_RO_COMPAT_HUGE_FILE))
		return e4_corrupt(fs, E4_RULE_IN7, e4_obj_inode(in->ino),
				  "huge file flag without the huge_file feature");
	return 0;
}

/* The record of inode @ino in its inode-table block @buf. */
static const uint8_t *record_in(const struct e4_fs *fs, const struct e4_buf *buf,
				uint32_t ino)
{
	uint64_t byte = (uint64_t)((ino - 1) % fs->inodes_per_group) *
			fs->inode_size;

	return buf->data + (size_t)(byte % fs->block_size);
}

/* IN3, IN4, IN7: what must hold of any inode in use, read or written. */
static int inode_check_record(struct e4_fs *fs, uint32_t ino, const uint8_t *r)
{
	size_t isz = fs->inode_size;
	struct e4_inode in = { .ino = ino };

	if (isz > E4_GOOD_OLD_INODE_SIZE) {
		uint16_t extra = e4_le16(r, isz, E4_I_EXTRA_ISIZE);

		if (extra % 4 || E4_GOOD_OLD_INODE_SIZE + (size_t)extra > isz)
			return e4_corrupt(fs, E4_RULE_IN3, e4_obj_inode(ino),
					  "extra inode size %u invalid (inode size %zu)",
					  extra, isz);
	}
	in.mode = e4_le16(r, isz, E4_I_MODE);
	in.flags = e4_le32(r, isz, E4_I_FLAGS);
	if (!valid_type(in.mode))
		return e4_corrupt(fs, E4_RULE_IN4, e4_obj_inode(ino),
				  "invalid file type in mode 0%o", in.mode);
	return check_flags(fs, &in);
}

/* IN2, then the record's structure. */
static int itable_verify_read(struct e4_fs *fs, const struct e4_buf *buf,
			      const struct e4_owner *owner)
{
	const uint8_t *r = record_in(fs, buf, owner->ino);
	size_t isz = fs->inode_size;

	if (fs->metadata_csum) {
		bool has_hi;
		uint32_t calc = inode_csum(fs, owner->ino, r, isz, &has_hi);
		uint32_t stored = e4_le16(r, isz, E4_I_CHECKSUM_LO);

		if (has_hi)
			stored |= (uint32_t)e4_le16(r, isz, E4_I_CHECKSUM_HI) << 16;
		if (calc != stored) {
			int err = e4_csum_mismatch(fs, E4_RULE_IN2,
						   e4_obj_inode(owner->ino),
						   stored, calc);
			if (err)
				return err;
		}
	}
	return inode_check_record(fs, owner->ino, r);
}

static int itable_verify_write(struct e4_fs *fs, const struct e4_buf *buf,
			       const struct e4_owner *owner)
{
	return inode_check_record(fs, owner->ino,
				  record_in(fs, buf, owner->ino));
}

static void itable_csum_set(struct e4_fs *fs, struct e4_buf *buf,
			    const struct e4_owner *owner)
{
	size_t isz = fs->inode_size;
	size_t off = (size_t)(record_in(fs, buf, owner->ino) - buf->data);
	uint8_t *r = buf->data + off;
	bool has_hi;
	uint32_t c;

	if (!fs->metadata_csum)
		return;
	c = inode_csum(fs, owner->ino, r, isz, &has_hi);
	e4_put_le16(r, isz, E4_I_CHECKSUM_LO, (uint16_t)c);
	if (has_hi)
		e4_put_le16(r, isz, E4_I_CHECKSUM_HI, (uint16_t)(c >> 16));
}

/* One record per owner (the inode): a block holds several inodes, each
 * checksummed on its own. */
const struct e4_buf_ops e4_bops_inode_table = {
	.name = "inode table", .kind = E4_BUF_INODE_TABLE,
	.verify_read = itable_verify_read, .verify_write = itable_verify_write,
	.csum_set = itable_csum_set,
};

/* A record being given to a new inode was free: whatever it holds (a
 * deleted inode, or garbage where the table was never zeroed) is not read,
 * so there is nothing to verify on read; what is written is checked as
 * every record is. */
static int inode_new_verify_read(struct e4_fs *fs, const struct e4_buf *buf,
				 const struct e4_owner *owner)
{
	(void)fs;
	(void)buf;
	(void)owner;
	return 0;	/* what a free record holds is nobody's */
}

const struct e4_buf_ops e4_bops_inode_new = {
	.name = "new inode", .kind = E4_BUF_INODE_TABLE,
	.verify_read = inode_new_verify_read,
	.verify_write = itable_verify_write, .csum_set = itable_csum_set,
};

static void decode(struct e4_fs *fs, const uint8_t *r, size_t isz,
		   struct e4_inode *in)
{
	size_t fits = E4_GOOD_OLD_INODE_SIZE + in->extra_isize;
	uint32_t v;

#define FITS(off) ((size_t)(off) + 4 <= fits)
	in->mode = e4_le16(r, isz, E4_I_MODE);
	in->uid = e4_le16(r, isz, E4_I_UID) |
		  (uint32_t)e4_le16(r, isz, E4_I_UID_HIGH) << 16;
	in->gid = e4_le16(r, isz, E4_I_GID) |
		  (uint32_t)e4_le16(r, isz, E4_I_GID_HIGH) << 16;
	in->links = e4_le16(r, isz, E4_I_LINKS_COUNT);
	in->flags = e4_le32(r, isz, E4_I_FLAGS);
	in->generation = e4_le32(r, isz, E4_I_GENERATION);
	in->dtime = e4_le32(r, isz, E4_I_DTIME);

	in->size = e4_le32(r, isz, E4_I_SIZE_LO);
	if ((in->mode & E4_S_IFMT) == E4_S_IFREG ||
	    ((in->mode & E4_S_IFMT) == E4_S_IFDIR &&
	     (fs->feature_incompat & E4_INCOMPAT_LARGEDIR)))
		in->size |= (uint64_t)e4_le32(r, isz, E4_I_SIZE_HIGH) << 32;

	uint64_t blocks = e4_le32(r, isz, E4_I_BLOCKS_LO);
	if (fs->feature_ro_compat & E4_RO_COMPAT_HUGE_FILE) {
		blocks |= (uint64_t)e4_le16(r, isz, E4_I_BLOCKS_HIGH) << 32;
		if (in->flags & E4_HUGE_FILE_FL)
			blocks <<= fs->log_block_size - 9;
	}
	in->blocks_512 = blocks;

	in->file_acl = e4_le32(r, isz, E4_I_FILE_ACL_LO);
	if (fs->feature_incompat & E4_INCOMPAT_64BIT)
		in->file_acl |= (uint64_t)e4_le16(r, isz, E4_I_FILE_ACL_HIGH) << 32;

	in->atime = e4_time_decode(e4_le32(r, isz, E4_I_ATIME),
				   FITS(E4_I_ATIME_EXTRA) ? e4_le32(r, isz, E4_I_ATIME_EXTRA) : 0,
				   FITS(E4_I_ATIME_EXTRA));
	in->mtime = e4_time_decode(e4_le32(r, isz, E4_I_MTIME),
				   FITS(E4_I_MTIME_EXTRA) ? e4_le32(r, isz, E4_I_MTIME_EXTRA) : 0,
				   FITS(E4_I_MTIME_EXTRA));
	in->ctime = e4_time_decode(e4_le32(r, isz, E4_I_CTIME),
				   FITS(E4_I_CTIME_EXTRA) ? e4_le32(r, isz, E4_I_CTIME_EXTRA) : 0,
				   FITS(E4_I_CTIME_EXTRA));
	in->has_crtime = FITS(E4_I_CRTIME);
	if (in->has_crtime)
		in->crtime = e4_time_decode(e4_le32(r, isz, E4_I_CRTIME),
					    FITS(E4_I_CRTIME_EXTRA) ? e4_le32(r, isz, E4_I_CRTIME_EXTRA) : 0,
					    FITS(E4_I_CRTIME_EXTRA));
	in->version = e4_le32(r, isz, E4_I_VERSION_LO);
	if (FITS(E4_I_VERSION_HI))
		in->version |= (uint64_t)e4_le32(r, isz, E4_I_VERSION_HI) << 32;
	in->projid = FITS(E4_I_PROJID) ? e4_le32(r, isz, E4_I_PROJID) : 0;
#undef FITS

	e4_copy_out(in->i_block, r, isz, E4_I_BLOCK, E4_I_BLOCK_SIZE);
	if ((in->mode & E4_S_IFMT) == E4_S_IFCHR ||
	    (in->mode & E4_S_IFMT) == E4_S_IFBLK) {
		uint32_t old = e4_le32(in->i_block, 60, 0);
		v = e4_le32(in->i_block, 60, 4);
		if (old) {
			in->rdev_major = (old >> 8) & 0xFF;
			in->rdev_minor = old & 0xFF;
		} else {
			in->rdev_major = (v >> 8) & 0xFFF;
			in->rdev_minor = (v & 0xFF) | ((v >> 12) & 0xFFF00);
		}
	}
}

/* ---- encoding ------------------------------------------------------------ */

/* §4.9: the low 32 bits in the base field; with an extra field its two
 * epoch bits extend the range to 2446, nanoseconds above them.  Times out
 * of range are clamped, as the kernel clamps to s_time_min/max. */
void e4_time_encode(struct e4_time t, bool has_extra, uint32_t *base,
		    uint32_t *extra)
{
	int64_t min = INT32_MIN;
	int64_t max = has_extra ? ((int64_t)1 << 34) - 1 + INT32_MIN : INT32_MAX;
	int64_t sec = t.sec < min ? min : t.sec > max ? max : t.sec;
	int64_t epoch = (sec - (int64_t)(int32_t)(uint32_t)sec) >> 32;

	*base = (uint32_t)sec;
	*extra = has_extra ? (uint32_t)(epoch & 3) |
			     (t.nsec > 999999999u ? 999999999u : t.nsec) << 2 : 0;
}

/* §4.8: i_blocks in 512-byte units, or in blocks with HUGE_FILE_FL when
 * it needs more than 48 bits.  -EFBIG when the file system cannot count
 * that many. */
static int encode_blocks(const struct e4_fs *fs, uint64_t blocks,
			 uint32_t *flags, uint8_t *r, size_t isz)
{
	bool huge = fs->feature_ro_compat & E4_RO_COMPAT_HUGE_FILE;

	*flags &= ~(uint32_t)E4_HUGE_FILE_FL;
	if (blocks > UINT32_MAX && !huge)
		return -EFBIG;
	if (blocks >> 48) {
		blocks >>= fs->log_block_size - 9;
		if (blocks >> 48)
			return -EFBIG;
		*flags |= E4_HUGE_FILE_FL;
	}
	e4_put_le32(r, isz, E4_I_BLOCKS_LO, (uint32_t)blocks);
	if (huge)
		e4_put_le16(r, isz, E4_I_BLOCKS_HIGH, (uint16_t)(blocks >> 32));
	return 0;
}

/* §4.12: the old 16-bit form when both numbers fit in a byte, as the
 * kernel writes it, else the new form in the second word. */
static void encode_rdev(const struct e4_inode *in, uint8_t *r, size_t isz)
{
	uint32_t ma = in->rdev_major, mi = in->rdev_minor;

	if (ma < 256 && mi < 256) {
		e4_put_le32(r, isz, E4_I_BLOCK, ma << 8 | mi);
		e4_put_le32(r, isz, E4_I_BLOCK + 4, 0);
	} else {
		e4_put_le32(r, isz, E4_I_BLOCK, 0);
		e4_put_le32(r, isz, E4_I_BLOCK + 4,
			    (mi & 0xFF) | (ma & 0xFFF) << 8 | (mi & ~0xFFu) << 12);
		e4_put_le32(r, isz, E4_I_BLOCK + 8, 0);
	}
}

int e4_inode_encode(const struct e4_fs *fs, const struct e4_inode *in,
		    uint8_t *r)
{
	size_t isz = fs->inode_size;
	size_t fits = E4_GOOD_OLD_INODE_SIZE;
	uint32_t flags = in->flags, base, extra;
	uint16_t type = in->mode & E4_S_IFMT;
	int err;

	if (isz > E4_GOOD_OLD_INODE_SIZE) {
		if (in->extra_isize % 4 ||
		    E4_GOOD_OLD_INODE_SIZE + (size_t)in->extra_isize > isz)
			return -EINVAL;
		e4_put_le16(r, isz, E4_I_EXTRA_ISIZE, in->extra_isize);
		fits += in->extra_isize;
	}
#define FITS(off) ((size_t)(off) + 4 <= fits)
	err = encode_blocks(fs, in->blocks_512, &flags, r, isz);
	if (err)
		return err;
	if (in->file_acl >> 32 && !(fs->feature_incompat & E4_INCOMPAT_64BIT))
		return -EINVAL;
	e4_put_le16(r, isz, E4_I_MODE, in->mode);
	e4_put_le16(r, isz, E4_I_UID, (uint16_t)in->uid);
	e4_put_le16(r, isz, E4_I_UID_HIGH, (uint16_t)(in->uid >> 16));
	e4_put_le16(r, isz, E4_I_GID, (uint16_t)in->gid);
	e4_put_le16(r, isz, E4_I_GID_HIGH, (uint16_t)(in->gid >> 16));
	e4_put_le16(r, isz, E4_I_LINKS_COUNT, (uint16_t)in->links);
	e4_put_le32(r, isz, E4_I_FLAGS, flags);
	e4_put_le32(r, isz, E4_I_GENERATION, in->generation);
	e4_put_le32(r, isz, E4_I_DTIME, in->dtime);
	e4_put_le32(r, isz, E4_I_SIZE_LO, (uint32_t)in->size);
	e4_put_le32(r, isz, E4_I_SIZE_HIGH, (uint32_t)(in->size >> 32));
	e4_put_le32(r, isz, E4_I_FILE_ACL_LO, (uint32_t)in->file_acl);
	if (fs->feature_incompat & E4_INCOMPAT_64BIT)
		e4_put_le16(r, isz, E4_I_FILE_ACL_HIGH,
			    (uint16_t)(in->file_acl >> 32));

	e4_time_encode(in->atime, FITS(E4_I_ATIME_EXTRA), &base, &extra);
	e4_put_le32(r, isz, E4_I_ATIME, base);
	if (FITS(E4_I_ATIME_EXTRA))
		e4_put_le32(r, isz, E4_I_ATIME_EXTRA, extra);
	e4_time_encode(in->mtime, FITS(E4_I_MTIME_EXTRA), &base, &extra);
	e4_put_le32(r, isz, E4_I_MTIME, base);
	if (FITS(E4_I_MTIME_EXTRA))
		e4_put_le32(r, isz, E4_I_MTIME_EXTRA, extra);
	e4_time_encode(in->ctime, FITS(E4_I_CTIME_EXTRA), &base, &extra);
	e4_put_le32(r, isz, E4_I_CTIME, base);
	if (FITS(E4_I_CTIME_EXTRA))
		e4_put_le32(r, isz, E4_I_CTIME_EXTRA, extra);
	if (FITS(E4_I_CRTIME)) {
		e4_time_encode(in->crtime, FITS(E4_I_CRTIME_EXTRA), &base,
			       &extra);
		e4_put_le32(r, isz, E4_I_CRTIME, base);
		if (FITS(E4_I_CRTIME_EXTRA))
			e4_put_le32(r, isz, E4_I_CRTIME_EXTRA, extra);
	}
	e4_put_le32(r, isz, E4_I_VERSION_LO, (uint32_t)in->version);
	if (FITS(E4_I_VERSION_HI))
		e4_put_le32(r, isz, E4_I_VERSION_HI, (uint32_t)(in->version >> 32));
	if (FITS(E4_I_PROJID))
		e4_put_le32(r, isz, E4_I_PROJID, in->projid);
#undef FITS
	e4_copy_in(r, isz, E4_I_BLOCK, in->i_block, E4_I_BLOCK_SIZE);
	if (type == E4_S_IFCHR || type == E4_S_IFBLK)
		encode_rdev(in, r, isz);
	return 0;
}

int e4_inode_read(struct e4_fs *fs, uint32_t ino, struct e4_inode *out)
{
	return e4_inode_load(fs, ino, out, false);
}

int e4_inode_load(struct e4_fs *fs, uint32_t ino, struct e4_inode *out,
		  bool unlinked_ok)
{
	struct e4_buf *buf;
	size_t off, isz = fs->inode_size;
	bool allocated;
	int err;

	if (ino == 0 || ino > fs->inodes_count)
		return -EINVAL;
	err = e4_inode_bitmap_test(fs, ino, &allocated);
	if (err)
		return err;
	if (!allocated)
		return -ENOENT;
	err = e4_inode_raw_get(fs, ino, &buf, &off);
	if (err)
		return err;

	const uint8_t *r = buf->data + off;
	struct e4_owner owner = { .ino = ino };

	err = e4_buf_verify(fs, buf, &e4_bops_inode_table, &owner);
	if (err)
		goto out;
	memset(out, 0, sizeof(*out));
	out->ino = ino;
	if (isz > E4_GOOD_OLD_INODE_SIZE)
		out->extra_isize = e4_le16(r, isz, E4_I_EXTRA_ISIZE);
	decode(fs, r, isz, out);
	out->record_digest = e4_inode_record_digest(fs, r);
	if (out->links == 0 && unlinked_ok)
		goto out;
	if (out->links == 0 && e4_inode_is_deleted_orphan(fs, ino)) {
		err = -ENOENT;	/* the kernel would have deleted it (§14) */
		goto out;
	}
	if (out->links == 0 && (ino == E4_ROOT_INO || ino >= fs->first_ino) &&
	    !(out->flags & E4_EA_INODE_FL)) {
		err = e4_corrupt(fs, E4_RULE_IN5, e4_obj_inode(ino),
				 "in use but link count is 0 (orphan?)");
		goto out;
	}
	if (e4_inode_is_reg(out)) {
		uint64_t max = (out->flags & E4_EXTENTS_FL) ?
			fs->max_file_size : fs->max_file_size_blockmap;
		if (out->size > max) {
			err = e4_corrupt(fs, E4_RULE_IN6, e4_obj_inode(ino),
					 "size %llu exceeds the maximum file size %llu",
					 (unsigned long long)out->size,
					 (unsigned long long)max);
			goto out;
		}
	}
	if (out->file_acl && !e4_blocks_valid(fs, out->file_acl, 1)) {
		err = e4_corrupt(fs, E4_RULE_IN8, e4_obj_inode(ino),
				 "xattr block %llu outside the file system",
				 (unsigned long long)out->file_acl);
		goto out;
	}
out:
	e4_meta_put(fs, buf);
	return err;
}

bool e4_inode_is_internal(const struct e4_fs *fs, uint32_t ino)
{
	const uint8_t *sb = fs->sb_raw;

	return ino == fs->journal_inum || ino == fs->orphan_file_inum ||
	       ino == e4_le32(sb, E4_SB_SIZE, E4_SB_USR_QUOTA_INUM) ||
	       ino == e4_le32(sb, E4_SB_SIZE, E4_SB_GRP_QUOTA_INUM) ||
	       ino == e4_le32(sb, E4_SB_SIZE, E4_SB_PRJ_QUOTA_INUM);
}

const char *e4_name_number_refusal(const struct e4_fs *fs, uint32_t ino,
				   enum e4_rule *rule)
{
	if (ino == 0 || ino > fs->inodes_count) {
		*rule = E4_RULE_DIR3;
		return "out-of-range";
	}
	if ((ino < fs->first_ino && ino != E4_ROOT_INO) ||
	    e4_inode_is_internal(fs, ino)) {
		*rule = E4_RULE_IN1;
		return "reserved";
	}
	return NULL;
}

const char *e4_name_inode_refusal(int read_err, const struct e4_inode *in,
				  enum e4_rule *rule)
{
	*rule = E4_RULE_DIR_TARGET;
	if (read_err == -ENOENT)
		return "free";
	if (!read_err && (in->flags & E4_EA_INODE_FL))
		return "xattr value";
	return NULL;
}

int e4_name_refused(struct e4_fs *fs, uint32_t dir, const char *name,
		    uint32_t ino, const char *what, enum e4_rule rule,
		    int read_err)
{
	if (!dir)	/* a stale node id */
		return read_err ? read_err : -EINVAL;
	return e4_corrupt(fs, rule, e4_obj_dirent(dir, ino),
			  "directory entry '%s' names %s inode %u", name, what,
			  ino);
}

int e4_inode_read_named(struct e4_fs *fs, uint32_t dir, const char *name,
			uint32_t ino, struct e4_inode *out)
{
	enum e4_rule rule;
	const char *what = e4_name_number_refusal(fs, ino, &rule);
	int err = -EINVAL;

	if (!what) {
		err = e4_inode_read(fs, ino, out);
		what = e4_name_inode_refusal(err, out, &rule);
		if (!what)
			return err;	/* read, or damaged (reported) */
	}
	return e4_name_refused(fs, dir, name, ino, what, rule, err);
}
