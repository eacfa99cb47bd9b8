/* SPDX-License-Identifier: MIT */
/* Cross-reference mutation (see xref.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ondisk/ondisk.h"
#include "xref.h"

/* ---- reading the input: never trusts it, never traps ------------------------ */

static uint64_t rd(const uint8_t *d, size_t size, size_t off, unsigned bytes,
		   bool be)
{
	uint64_t v = 0;

	if (off > size || bytes > size - off)
		return 0;
	for (unsigned i = 0; i < bytes; i++) {
		unsigned shift = be ? 8 * (bytes - 1 - i) : 8 * i;
		v |= (uint64_t)d[off + i] << shift;
	}
	return v;
}

static void wr(uint8_t *d, size_t size, size_t off, unsigned bytes, bool be,
	       uint64_t v)
{
	if (off > size || bytes > size - off)
		return;
	for (unsigned i = 0; i < bytes; i++) {
		unsigned shift = be ? 8 * (bytes - 1 - i) : 8 * i;
		d[off + i] = (uint8_t)(v >> shift);
	}
}

/* ---- building the set ------------------------------------------------------- */

void e4_xref_add_field_hi(struct e4_xref_set *s, size_t size, uint32_t off,
			  uint8_t bytes, uint32_t off_hi, uint8_t hi_bytes,
			  enum e4_xref_kind kind, uint16_t group)
{
	if (s->n_fields == E4_XREF_FIELDS_MAX || off > size || bytes > size - off)
		return;
	if (hi_bytes && (off_hi > size || hi_bytes > size - off_hi))
		hi_bytes = 0;	/* the input ends before the high half */
	s->field[s->n_fields++] = (struct e4_xref_field){
		.off = off, .off_hi = off_hi, .bytes = bytes, .hi_bytes = hi_bytes,
		.kind = (uint8_t)kind, .group = group,
	};
}

void e4_xref_add_field(struct e4_xref_set *s, size_t size, uint32_t off,
		       uint8_t bytes, bool be, enum e4_xref_kind kind,
		       uint16_t group)
{
	size_t n = s->n_fields;

	e4_xref_add_field_hi(s, size, off, bytes, 0, 0, kind, group);
	if (s->n_fields > n)
		s->field[n].be = be;
}

void e4_xref_add_target(struct e4_xref_set *s, enum e4_xref_kind kind,
			uint64_t value)
{
	for (size_t i = 0; i < s->n_targets[kind]; i++)
		if (s->target[kind][i] == value)
			return;
	if (s->n_targets[kind] < E4_XREF_TARGETS_MAX)
		s->target[kind][s->n_targets[kind]++] = value;
}

static void add_file_blocks(struct e4_xref_set *s, struct e4_fs *fs,
			    uint32_t ino)
{
	struct e4_inode in;
	struct e4_mapping m;

	if (!ino || e4_inode_read(fs, ino, &in) < 0)
		return;
	uint64_t n = in.size >> fs->log_block_size;
	uint64_t lblks[] = { 0, 1, n ? n - 1 : 0 };
	for (size_t i = 0; i < sizeof(lblks) / sizeof(*lblks); i++)
		if (e4_map_block(fs, &in, lblks[i], &m) == 0 && m.kind == E4_MAP_MAPPED)
			e4_xref_add_target(s, E4_XREF_BLOCK, m.pblk);
}

void e4_xref_add_fs_targets(struct e4_xref_set *s, struct e4_fs *fs)
{
	uint32_t ino;

	for (uint32_t i = 1; i <= 11; i++)
		e4_xref_add_target(s, E4_XREF_INODE, i);
	e4_xref_add_target(s, E4_XREF_INODE, fs->first_ino);
	if (e4_path_lookup(fs, "/lost+found", &ino) == 0)
		e4_xref_add_target(s, E4_XREF_INODE, ino);
	if (fs->journal_inum)
		e4_xref_add_target(s, E4_XREF_INODE, fs->journal_inum);
	if (fs->orphan_file_inum)
		e4_xref_add_target(s, E4_XREF_INODE, fs->orphan_file_inum);
	e4_xref_add_target(s, E4_XREF_INODE, fs->inodes_count);
	e4_xref_add_target(s, E4_XREF_INODE, (uint64_t)fs->inodes_count + 1);
	e4_xref_add_target(s, E4_XREF_INODE, 0);

	e4_xref_add_target(s, E4_XREF_BLOCK, 0);
	e4_xref_add_target(s, E4_XREF_BLOCK, fs->first_data_block);
	e4_xref_add_target(s, E4_XREF_BLOCK, E4_SB_OFFSET / fs->block_size);
	for (uint32_t g = 0; g < fs->group_count && g < 4; g++) {
		struct e4_group gd;
		e4_xref_add_target(s, E4_XREF_BLOCK, e4_group_desc_block(fs, g));
		if (e4_group_get(fs, g, &gd) < 0)
			continue;
		e4_xref_add_target(s, E4_XREF_BLOCK, gd.block_bitmap);
		e4_xref_add_target(s, E4_XREF_BLOCK, gd.inode_bitmap);
		e4_xref_add_target(s, E4_XREF_BLOCK, gd.inode_table);
		e4_xref_add_target(s, E4_XREF_BLOCK, gd.inode_table + fs->itable_blocks - 1);
	}
	add_file_blocks(s, fs, fs->journal_inum);
	add_file_blocks(s, fs, fs->orphan_file_inum);
	e4_xref_add_target(s, E4_XREF_BLOCK, fs->blocks_count - 1);
	e4_xref_add_target(s, E4_XREF_BLOCK, fs->blocks_count);
	e4_xref_add_target(s, E4_XREF_BLOCK, 0xFFFFFFFFu);
	e4_xref_add_target(s, E4_XREF_BLOCK, 1ull << 32);
}

/* ---- structure parsers ------------------------------------------------------ */

void e4_xref_extent_node(struct e4_xref_set *s, const uint8_t *data,
			 size_t size, uint32_t off, uint32_t len, uint16_t group)
{
	if (len < E4_EXT_NODE_SIZE)
		return;
	unsigned depth = (unsigned)rd(data, size, off + 6, 2, false);
	unsigned cap = (len - E4_EXT_NODE_SIZE) / E4_EXT_NODE_SIZE;
	for (unsigned k = 0; k < cap; k++) {
		uint32_t e = off + E4_EXT_NODE_SIZE * (1 + k);
		if (depth == 0)	/* leaf: ee_start_hi at 6, ee_start_lo at 8 */
			e4_xref_add_field_hi(s, size, e + 8, 4, e + 6, 2,
					     E4_XREF_BLOCK, group);
		else		/* index: ei_leaf_lo at 4, ei_leaf_hi at 8 */
			e4_xref_add_field_hi(s, size, e + 4, 4, e + 8, 2,
					     E4_XREF_BLOCK, group);
	}
}

void e4_xref_block_pointers(struct e4_xref_set *s, size_t size, uint32_t off,
			    uint32_t len, uint16_t group)
{
	for (uint32_t p = 0; p + 4 <= len; p += 4)
		e4_xref_add_field(s, size, off + p, 4, false, E4_XREF_BLOCK, group);
}

void e4_xref_xattr_entries(struct e4_xref_set *s, const uint8_t *data,
			   size_t size, uint32_t off, uint32_t len,
			   uint16_t group)
{
	uint32_t pos = off, end = off + len;

	while (pos + E4_XATTR_ENTRY_HEADER <= end &&
	       rd(data, size, pos, 4, false) != 0) {
		unsigned name_len = (unsigned)rd(data, size,
						 pos + E4_XATTR_E_NAME_LEN, 1, false);
		e4_xref_add_field(s, size, pos + E4_XATTR_E_VALUE_INUM, 4, false,
				  E4_XREF_INODE, group);
		pos += (E4_XATTR_ENTRY_HEADER + name_len + 3) & ~3u;
	}
}

void e4_xref_inode_record(struct e4_xref_set *s, const uint8_t *data,
			  size_t size, uint32_t off, uint32_t len, uint16_t group)
{
	uint32_t flags = (uint32_t)rd(data, size, off + E4_I_FLAGS, 4, false);
	uint16_t mode = (uint16_t)rd(data, size, off + E4_I_MODE, 2, false);

	/* i_dtime: the next orphan in the classic list */
	e4_xref_add_field(s, size, off + E4_I_DTIME, 4, false, E4_XREF_INODE, group);
	e4_xref_add_field_hi(s, size, off + E4_I_FILE_ACL_LO, 4, off + E4_I_FILE_ACL_HIGH,
			     2, E4_XREF_BLOCK, group);
	if (flags & E4_EXTENTS_FL)
		e4_xref_extent_node(s, data, size, off + E4_I_BLOCK,
				    E4_I_BLOCK_SIZE, (uint16_t)(group + 1));
	else if (!(flags & E4_INLINE_DATA_FL) && (mode & E4_S_IFMT) != E4_S_IFLNK)
		e4_xref_block_pointers(s, size, off + E4_I_BLOCK,
				       E4_I_BLOCK_SIZE, (uint16_t)(group + 1));
	if (len > E4_GOOD_OLD_INODE_SIZE + 4) {
		uint32_t extra = (uint32_t)rd(data, size, off + E4_I_EXTRA_ISIZE, 2,
					      false);
		uint32_t area = E4_GOOD_OLD_INODE_SIZE + extra;
		if (area + E4_XATTR_IBODY_HEADER < len &&
		    rd(data, size, off + area, 4, false) == E4_XATTR_MAGIC)
			e4_xref_xattr_entries(s, data, size,
					      off + area + E4_XATTR_IBODY_HEADER,
					      len - area - E4_XATTR_IBODY_HEADER,
					      (uint16_t)(group + 2));
	}
}

void e4_xref_dir_block(struct e4_xref_set *s, const uint8_t *data, size_t size,
		       uint32_t off, uint32_t len, uint16_t group)
{
	uint32_t pos = 0;

	while (pos + 8 <= len) {
		uint32_t rec = (uint32_t)rd(data, size, off + pos + 4, 2, false);
		e4_xref_add_field(s, size, off + pos, 4, false, E4_XREF_INODE, group);
		if (rec < 8 || rec % 4)
			break;
		pos += rec;
	}
}

void e4_xref_superblock(struct e4_xref_set *s, size_t size, uint32_t off,
			uint16_t group)
{
	static const uint16_t inode_fields[] = {
		E4_SB_LAST_ORPHAN, E4_SB_JOURNAL_INUM, E4_SB_ORPHAN_FILE_INUM,
		E4_SB_LPF_INO, E4_SB_USR_QUOTA_INUM, E4_SB_GRP_QUOTA_INUM,
		E4_SB_PRJ_QUOTA_INUM,
	};
	for (size_t i = 0; i < sizeof(inode_fields) / sizeof(*inode_fields); i++)
		e4_xref_add_field(s, size, off + inode_fields[i], 4, false,
				  E4_XREF_INODE, group);
	e4_xref_add_field(s, size, off + E4_SB_MMP_BLOCK, 8, false, E4_XREF_BLOCK,
			  group);
}

void e4_xref_group_descs(struct e4_xref_set *s, size_t size, uint32_t off,
			 uint32_t len, uint32_t desc_size, uint16_t group)
{
	if (desc_size < 32)
		return;
	for (uint32_t d = 0; d + desc_size <= len && d / desc_size < 64; d += desc_size) {
		/* block bitmap, inode bitmap, inode table; high halves at +0x20 */
		for (uint32_t f = 0; f < 12; f += 4) {
			if (desc_size >= 64)
				e4_xref_add_field_hi(s, size, off + d + f, 4,
						     off + d + 0x20 + f, 4,
						     E4_XREF_BLOCK, group);
			else
				e4_xref_add_field(s, size, off + d + f, 4, false,
						  E4_XREF_BLOCK, group);
		}
	}
}

void e4_xref_orphan_block(struct e4_xref_set *s, size_t size, uint32_t off,
			  uint32_t len, uint16_t group)
{
	for (uint32_t p = 0; p + E4_ORPHAN_SLOT_SIZE + E4_ORPHAN_TAIL_SIZE <= len;
	     p += E4_ORPHAN_SLOT_SIZE)
		e4_xref_add_field(s, size, off + p, 4, false, E4_XREF_INODE, group);
}

void e4_xref_journal_log(struct e4_xref_set *s, const uint8_t *data,
			 size_t size, uint32_t off, uint32_t B,
			 uint32_t incompat, uint16_t group)
{
	bool b64 = incompat & E4_JF_INCOMPAT_64BIT;
	bool v3 = incompat & E4_JF_INCOMPAT_CSUM_V3, v2 = !v3 && (incompat & E4_JF_INCOMPAT_CSUM_V2);
	uint32_t tag = v3 ? E4_JTAG3_SIZE :
		       v2 ? (b64 ? E4_JTAG_SIZE_CSUM_V2_64 : E4_JTAG_SIZE_CSUM_V2) :
			    (b64 ? E4_JTAG_SIZE_64 : E4_JTAG_SIZE);
	uint32_t flags_at = v3 ? E4_JTAG3_FLAGS : E4_JTAG_FLAGS;
	uint32_t flags_bytes = v3 ? 4 : 2;
	uint32_t tail = v2 || v3 ? E4_JTAIL_SIZE : 0;

	for (size_t b = off; b + B <= size; b += B, group++) {
		if (rd(data, size, b + E4_JH_MAGIC, 4, true) != E4_JBD2_MAGIC)
			continue;
		uint32_t type = (uint32_t)rd(data, size, b + E4_JH_BLOCKTYPE, 4, true);
		if (type == E4_JT_DESCRIPTOR) {	/* tags, each a data block */
			uint32_t pos = E4_JH_SIZE, tags = 0;
			while (pos + tag + tail <= B) {
				uint32_t t = (uint32_t)b + pos;
				uint32_t fl = (uint32_t)rd(data, size, t + flags_at,
							   flags_bytes, true);
				if (b64 || v3) {	/* be32 low, be32 high */
					size_t n = s->n_fields;
					e4_xref_add_field_hi(s, size, t + E4_JTAG_BLOCKNR, 4,
							     t + E4_JTAG_BLOCKNR_HIGH, 4,
							     E4_XREF_BLOCK, group);
					if (s->n_fields > n)
						s->field[n].be = true;
				} else {
					e4_xref_add_field(s, size, t + E4_JTAG_BLOCKNR,
							  4, true,
							  E4_XREF_BLOCK, group);
				}
				tags++;
				pos += tag + (fl & E4_JTAG_SAME_UUID ? 0 : E4_J_UUID_SIZE);
				if (fl & E4_JTAG_LAST)
					break;
			}
			b += (size_t)tags * B;	/* skip the data blocks */
		} else if (type == E4_JT_REVOKE) {	/* revoke records */
			uint32_t count = (uint32_t)rd(data, size, b + E4_JREVOKE_COUNT,
						      4, true);
			uint32_t rec = b64 ? E4_JREVOKE_RECORD_64 : E4_JREVOKE_RECORD;
			if (count > B - tail)
				count = B - tail;
			for (uint32_t p = E4_JREVOKE_HEADER; p + rec <= count; p += rec)
				e4_xref_add_field(s, size, (uint32_t)b + p, (uint8_t)rec,
						  true, E4_XREF_BLOCK, group);
		}
	}
}

/* ---- the walk harness: a whole image, parsed raw ---------------------------- */

/*
 * A directory's first block (the first extent of a depth-0 tree, or the
 * first direct pointer): its entries' inode fields, and the directory's own
 * number as a target, so an entry can be made to name the directory it is
 * in, or its parent through "..": the cycles whole-tree walks must refuse.
 */
static void dir_first_block(struct e4_xref_set *s, const uint8_t *d,
			    size_t size, uint64_t at, uint32_t flags, uint32_t B,
			    uint32_t index)
{
	uint64_t blk = rd(d, size, at + E4_I_BLOCK, 4, false);

	if (flags & E4_EXTENTS_FL) {
		if (rd(d, size, at + E4_I_BLOCK, 2, false) != E4_EXT_MAGIC ||
		    rd(d, size, at + E4_I_BLOCK + 6, 2, false) != 0 ||
		    rd(d, size, at + E4_I_BLOCK + 2, 2, false) == 0)
			return;
		blk = rd(d, size, at + E4_I_BLOCK + E4_EXT_NODE_SIZE + 8, 4, false) |
		      rd(d, size, at + E4_I_BLOCK + E4_EXT_NODE_SIZE + 6, 2, false) << 32;
	}
	if (blk == 0 || size < B || blk > (size - B) / B)
		return;
	e4_xref_add_target(s, E4_XREF_INODE, index + 1);
	e4_xref_dir_block(s, d, size, (uint32_t)(blk * B), B, (uint16_t)(400 + index));
}

void e4_xref_describe_image(const uint8_t *d, size_t size, struct e4_xref_set *s)
{
	const uint32_t sb = E4_SB_OFFSET;
	if (size < sb + E4_SB_SIZE)
		return;
	uint32_t log = (uint32_t)rd(d, size, sb + E4_SB_LOG_BLOCK_SIZE, 4, false);
	uint32_t B = log <= 6 ? 1024u << log : 1024u;
	uint32_t fdb = (uint32_t)rd(d, size, sb + E4_SB_FIRST_DATA_BLOCK, 4, false);
	uint32_t inodes = (uint32_t)rd(d, size, sb + E4_SB_INODES_COUNT, 4, false);
	uint64_t blocks = rd(d, size, sb + E4_SB_BLOCKS_COUNT_LO, 4, false);
	uint32_t ipg = (uint32_t)rd(d, size, sb + E4_SB_INODES_PER_GROUP, 4, false);
	uint32_t isz = (uint32_t)rd(d, size, sb + E4_SB_INODE_SIZE, 2, false);
	bool b64 = rd(d, size, sb + E4_SB_FEATURE_INCOMPAT, 4, false) &
		   E4_INCOMPAT_64BIT;
	uint32_t dsz = b64 ? (uint32_t)rd(d, size, sb + E4_SB_DESC_SIZE, 2, false) :
			     E4_GD_SIZE_MIN;

	for (uint32_t i = 1; i <= 11; i++)
		e4_xref_add_target(s, E4_XREF_INODE, i);
	static const uint16_t sb_inodes[] = {
		E4_SB_FIRST_INO, E4_SB_JOURNAL_INUM, E4_SB_LAST_ORPHAN,
		E4_SB_ORPHAN_FILE_INUM,
	};
	for (size_t i = 0; i < sizeof(sb_inodes) / sizeof(*sb_inodes); i++)
		e4_xref_add_target(s, E4_XREF_INODE, rd(d, size, sb + sb_inodes[i], 4, false));
	e4_xref_add_target(s, E4_XREF_INODE, inodes);
	e4_xref_add_target(s, E4_XREF_INODE, (uint64_t)inodes + 1);
	uint64_t gdt = (uint64_t)fdb + 1;
	uint64_t fixed[] = { 0, 1, fdb, gdt, blocks ? blocks - 1 : 0, blocks };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++)
		e4_xref_add_target(s, E4_XREF_BLOCK, fixed[i]);

	e4_xref_superblock(s, size, sb, 0);
	if (dsz < 32 || dsz > B || gdt * B >= size)
		return;
	uint32_t gd = (uint32_t)(gdt * B);
	e4_xref_group_descs(s, size, gd, B, dsz, 1);
	uint64_t itable = rd(d, size, gd + E4_GD_INODE_TABLE_LO, 4, false);
	e4_xref_add_target(s, E4_XREF_BLOCK,
			   rd(d, size, gd + E4_GD_BLOCK_BITMAP_LO, 4, false));
	e4_xref_add_target(s, E4_XREF_BLOCK,
			   rd(d, size, gd + E4_GD_INODE_BITMAP_LO, 4, false));
	e4_xref_add_target(s, E4_XREF_BLOCK, itable);
	if (isz < E4_GOOD_OLD_INODE_SIZE || isz > B || itable == 0 || itable * B >= size)
		return;
	for (uint32_t i = 0; i < ipg && i < 64; i++) {
		uint64_t at = itable * B + (uint64_t)i * isz;
		if (at + isz > size)
			break;
		e4_xref_inode_record(s, d, size, (uint32_t)at, isz, (uint16_t)(2 + 3 * i));
		uint32_t flags = (uint32_t)rd(d, size, at + E4_I_FLAGS, 4, false);
		uint16_t mode = (uint16_t)rd(d, size, at + E4_I_MODE, 2, false);
		if ((mode & E4_S_IFMT) == E4_S_IFDIR && !(flags & E4_INLINE_DATA_FL))
			dir_first_block(s, d, size, at, flags, B, i);
		/* a block-mapped file's indirect and double indirect blocks:
		 * "every pointer names the same block" lives there */
		if ((flags & (E4_EXTENTS_FL | E4_INLINE_DATA_FL)) || (mode & E4_S_IFMT) == E4_S_IFLNK)
			continue;
		for (uint32_t level = 0; level < 2; level++) {
			uint64_t blk = rd(d, size, at + E4_I_BLOCK + 4 * (E4_IND_BLOCK + level),
					  4, false);
			if (blk && blk * B + B <= size)
				e4_xref_block_pointers(s, size, (uint32_t)(blk * B), B,
						       (uint16_t)(200 + 2 * i + level));
		}
	}
}

/* ---- mutation ---------------------------------------------------------------- */

static uint32_t next_rand(uint32_t *x)
{
	/* xorshift32: deterministic from the fuzzer's seed */
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void write_field(uint8_t *d, size_t size, const struct e4_xref_field *f,
			uint64_t v)
{
	unsigned lo_bits = 8u * f->bytes;

	if (f->be && f->hi_bytes) {	/* jbd2: two big-endian words */
		wr(d, size, f->off, f->bytes, true, v & 0xFFFFFFFFu);
		wr(d, size, f->off_hi, f->hi_bytes, true, v >> 32);
		return;
	}
	wr(d, size, f->off, f->bytes, f->be, lo_bits >= 64 ? v : v & ((1ull << lo_bits) - 1));
	if (f->hi_bytes)
		wr(d, size, f->off_hi, f->hi_bytes, f->be, lo_bits >= 64 ? 0 : v >> lo_bits);
}

static uint64_t read_field(const uint8_t *d, size_t size,
			   const struct e4_xref_field *f)
{
	uint64_t v = rd(d, size, f->off, f->bytes, f->be);
	if (f->hi_bytes && f->bytes < 8)
		v |= rd(d, size, f->off_hi, f->hi_bytes, f->be) << (8 * f->bytes);
	return v;
}

static uint64_t pick_target(const struct e4_xref_set *s, unsigned kind,
			    uint32_t *rng)
{
	static const uint64_t edges[] = { 0, 1, 0xFFFFFFFFu, 0x7FFFFFFFu };
	uint32_t r = next_rand(rng);

	if (s->n_targets[kind] == 0 || r % 16 == 0)
		return edges[(r >> 4) % (sizeof(edges) / sizeof(*edges))];
	uint64_t t = s->target[kind][(r >> 4) % s->n_targets[kind]];
	switch ((r >> 12) % 8) {
	case 0: return t + 1;	/* the neighbours of a target, too */
	case 1: return t ? t - 1 : t;
	default: return t;
	}
}

static struct e4_xref_set set;
static e4_xref_describe_fn registered;

void e4_xref_register(e4_xref_describe_fn fn)
{
	registered = fn;
}

e4_xref_describe_fn e4_xref_registered(void)
{
	return registered;
}

bool e4_xref_mutate(uint8_t *data, size_t size, e4_xref_describe_fn describe,
		    uint32_t seed)
{
	uint32_t rng = seed | 1;

	set.n_fields = 0;
	memset(set.n_targets, 0, sizeof(set.n_targets));
	describe(data, size, &set);
	if (set.n_fields == 0)
		return false;

	/* a group is chosen first, so a block of 250 slots does not drown
	 * the one superblock field beside it */
	size_t groups = 1;
	for (size_t i = 1; i < set.n_fields; i++)
		groups += set.field[i].group != set.field[i - 1].group;
	size_t g = next_rand(&rng) % groups, first = 0;
	for (size_t i = 1; i < set.n_fields && g; i++)
		if (set.field[i].group != set.field[i - 1].group && --g == 0)
			first = i;
	size_t last = first + 1;
	while (last < set.n_fields && set.field[last].group == set.field[first].group)
		last++;
	const struct e4_xref_field *f = &set.field[first + next_rand(&rng) % (last - first)];
	uint32_t mode = next_rand(&rng) % 8;

	if (mode == 0) {
		/* every field of the group at one target: all the pointers
		 * of a node naming one block, all the slots one inode */
		uint64_t t = pick_target(&set, f->kind, &rng);
		for (size_t i = first; i < last; i++)
			if (set.field[i].kind == f->kind)
				write_field(data, size, &set.field[i], t);
	} else if (mode == 1) {
		/* the value another field of the input holds: a second
		 * reference to the same object */
		const struct e4_xref_field *o = &set.field[next_rand(&rng) % set.n_fields];
		if (o->kind == f->kind)
			write_field(data, size, f, read_field(data, size, o));
		else
			write_field(data, size, f, pick_target(&set, f->kind, &rng));
	} else {
		write_field(data, size, f, pick_target(&set, f->kind, &rng));
	}
	return true;
}

/* ---- libFuzzer --------------------------------------------------------------- */

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size)
	__attribute__((weak));
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed)
{
	static int off = -1;	/* E4_XREF_OFF=1: libFuzzer's own alone */

	if (off < 0)
		off = getenv("E4_XREF_OFF") != NULL;
	/* a third of the mutations; the rest are libFuzzer's own */
	if (registered && !off && seed % 3 == 0 &&
	    e4_xref_mutate(data, size, registered, seed))
		return size;
	return LLVMFuzzerMutate ? LLVMFuzzerMutate(data, size, max_size) : size;
}
