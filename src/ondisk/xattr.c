/* SPDX-License-Identifier: MIT */
/*
 * Extended attributes (§9): the in-inode area, the external block and values
 * held in EA inodes.
 *
 * Each area is validated completely (XA1-XA6) before any entry is used, so
 * the lookups and the listing below walk trusted tables.  An external block
 * is validated once per cached buffer; the in-inode area is small and is
 * checked on every access (its bytes are covered by the inode checksum, but
 * the inode code does not parse them).
 *
 * Decisions:
 * - An in-inode area whose magic is not 0xEA020000 holds no attributes (that
 *   is how the format marks an unused area; mkfs leaves it zero), it is not an
 *   error.  An inline-data inode without the area is reported by inline.c.
 * - Listing shows the names a kernel mount shows: user., trusted.,
 *   security., gnu. and the two POSIX ACLs.  "system.data" (inline data) and
 *   the other namespaces without a handler (index 0, 5, 7, 8, 9, unknown) are
 *   hidden; getting them gives -EOPNOTSUPP, as on the kernel.
 * - system.data is looked up only in the in-inode area (§8.1 [R]): a copy in
 *   an external block is not inline data.
 * - Messages give entry offsets from the start of the inode record (in-inode
 *   area) or of the block, so they can be matched with a hex dump.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ondisk/ondisk.h"

#define XA_MAX_VALUE 65536u			/* through the API (§16) */
#define XA_MAX_EA_INODE_VALUE (16u << 20)	/* on disk (§16) */
#define XA_MAX_REFCOUNT 1024u
/* magic and a terminator, else unused [D] */
#define XA_MIN_IBODY (E4_XATTR_IBODY_HEADER + E4_XATTR_END_SIZE)

/* One attribute area: the bytes, where entries start and what values are
 * relative to, and who owns it (for messages). */
struct xa_area {
	const uint8_t *p;
	size_t size;
	size_t first;		/* offset of the first entry */
	size_t value_base;	/* e_value_offs is relative to this */
	size_t report_base;	/* added to offsets in messages */
	uint32_t ino;
	uint64_t blk;		/* 0: the in-inode area */
};

struct xa_entry {
	size_t pos;		/* offset of the entry in the area */
	uint8_t name_len;
	uint8_t index;
	uint16_t value_offs;
	uint32_t value_inum;
	uint32_t value_size;
	const uint8_t *name;
};

static size_t xa_entry_size(uint8_t name_len)
{
	return ((size_t)E4_XATTR_E_NAME + name_len + E4_XATTR_PAD - 1) &
	       ~(size_t)(E4_XATTR_PAD - 1);
}

static void xa_entry_decode(const struct xa_area *a, size_t pos,
			    struct xa_entry *e)
{
	e->pos = pos;
	e->name_len = e4_u8(a->p, a->size, pos + E4_XATTR_E_NAME_LEN);
	e->index = e4_u8(a->p, a->size, pos + E4_XATTR_E_NAME_INDEX);
	e->value_offs = e4_le16(a->p, a->size, pos + E4_XATTR_E_VALUE_OFFS);
	e->value_inum = e4_le32(a->p, a->size, pos + E4_XATTR_E_VALUE_INUM);
	e->value_size = e4_le32(a->p, a->size, pos + E4_XATTR_E_VALUE_SIZE);
	e->name = a->p + pos + E4_XATTR_E_NAME;
}

static struct e4_object xa_area_obj(const struct xa_area *a)
{
	return a->blk ? e4_obj_xattr_block(a->ino, a->blk) :
			e4_obj(E4_OBJ_XATTR_IBODY, a->ino, 0, 0);
}

/* Report broken rule @rule of the entry at @pos of the area.  Offsets are
 * from the start of the block, or of the inode record. */
static int xa_entry_corrupt(struct e4_fs *fs, const struct xa_area *a,
			    enum e4_rule rule, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int xa_entry_corrupt(struct e4_fs *fs, const struct xa_area *a,
			    enum e4_rule rule, size_t pos, const char *fmt, ...)
{
	char what[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return e4_corrupt(fs, rule, xa_area_obj(a), "entry at offset %zu: %s",
			  pos + a->report_base, what);
}

/* ---- validation (XA3, XA4, XA6) ---------------------------------------- */

struct xa_span {
	size_t start, end, pos;
};

static int xa_span_cmp(const void *x, const void *y)
{
	const struct xa_span *a = x, *b = y;

	return (a->start > b->start) - (a->start < b->start);
}

static int xa_name_cmp(const void *x, const void *y)
{
	const struct xa_entry *a = x, *b = y;

	if (a->index != b->index)
		return a->index - b->index;
	if (a->name_len != b->name_len)
		return a->name_len - b->name_len;
	return memcmp(a->name, b->name, a->name_len);
}

/* Walk the entry table: every entry inside the area, terminated by a zero
 * word.  Returns the number of entries and where the terminator is. */
static int xa_walk_table(struct e4_fs *fs, const struct xa_area *a,
			 size_t *count, size_t *table_end)
{
	size_t pos = a->first, n = 0;

	/* each entry takes at least 16 bytes, so this ends by itself; the
	 * bound is the area */
	for (;;) {
		uint8_t name_len, index;

		if (pos > a->size || a->size - pos < E4_XATTR_END_SIZE)
			return xa_entry_corrupt(fs, a, E4_RULE_XA3, pos,
						"entry table runs past the end (no terminator)");
		if (e4_le32(a->p, a->size, pos) == 0)
			break;
		if (a->size - pos < E4_XATTR_ENTRY_HEADER)
			return xa_entry_corrupt(fs, a, E4_RULE_XA3, pos,
						"entry header runs past the end");
		name_len = e4_u8(a->p, a->size, pos + E4_XATTR_E_NAME_LEN);
		index = e4_u8(a->p, a->size, pos + E4_XATTR_E_NAME_INDEX);
		if (a->size - pos < xa_entry_size(name_len))
			return xa_entry_corrupt(fs, a, E4_RULE_XA3, pos,
						"name runs past the end");
		if (name_len == 0 && index != E4_XATTR_INDEX_POSIX_ACL_ACCESS &&
		    index != E4_XATTR_INDEX_POSIX_ACL_DEFAULT &&
		    index != E4_XATTR_INDEX_RICHACL)
			return xa_entry_corrupt(fs, a, E4_RULE_XA6, pos,
						"empty name");
		if (name_len != 0 && (index == E4_XATTR_INDEX_POSIX_ACL_ACCESS ||
				      index == E4_XATTR_INDEX_POSIX_ACL_DEFAULT))
			return xa_entry_corrupt(fs, a, E4_RULE_XA6, pos,
						"POSIX ACL entry with a name suffix");
		pos += xa_entry_size(name_len);
		n++;
	}
	*count = n;
	*table_end = pos;
	return 0;
}

static int xa_check_value(struct e4_fs *fs, const struct xa_area *a,
			  const struct xa_entry *e, size_t table_end,
			  struct xa_span *span, bool *has_span)
{
	size_t start, end;

	*has_span = false;
	if (e->value_inum != 0) {
		if (!(fs->feature_incompat & E4_INCOMPAT_EA_INODE))
			return xa_entry_corrupt(fs, a, E4_RULE_XA5, e->pos,
						"value in an inode without the ea_inode feature");
		if (e->value_offs != 0)
			return xa_entry_corrupt(fs, a, E4_RULE_XA5, e->pos,
						"value inode with a nonzero value offset");
		if (e->value_size > XA_MAX_EA_INODE_VALUE)
			return xa_entry_corrupt(fs, a, E4_RULE_XA4, e->pos,
						"value size %u exceeds 16 MiB",
						e->value_size);
		return 0;
	}
	if (e->value_size == 0)
		return 0;
	if (e->value_offs % E4_XATTR_PAD != 0)
		return xa_entry_corrupt(fs, a, E4_RULE_XA4, e->pos,
					"value offset %u is not 4-byte aligned",
					e->value_offs);
	start = a->value_base + e->value_offs;	/* both < 2^17 */
	if (start < table_end + E4_XATTR_END_SIZE)
		return xa_entry_corrupt(fs, a, E4_RULE_XA4, e->pos,
					"value offset %u overlaps the entry table",
					e->value_offs);
	if (start > a->size || a->size - start < e->value_size)
		return xa_entry_corrupt(fs, a, E4_RULE_XA4, e->pos,
					"value runs past the end");
	end = start + e->value_size;
	span->start = start;
	span->end = end;
	span->pos = e->pos;
	*has_span = true;
	return 0;
}

/* Check the whole area: table, values, no overlapping values, no duplicate
 * names.  The area's magic has been checked by the caller. */
static int xa_area_validate(struct e4_fs *fs, const struct xa_area *a)
{
	struct xa_entry *entries = NULL;
	struct xa_span *spans = NULL;
	size_t count = 0, table_end = 0, nspans = 0, pos, i;
	int rc;

	rc = xa_walk_table(fs, a, &count, &table_end);
	if (rc < 0 || count == 0)
		return rc;
	entries = calloc(count, sizeof(*entries));
	spans = calloc(count, sizeof(*spans));
	if (!entries || !spans) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0, pos = a->first; i < count; i++) {
		bool has_span;

		xa_entry_decode(a, pos, &entries[i]);
		rc = xa_check_value(fs, a, &entries[i], table_end,
				    &spans[nspans], &has_span);
		if (rc < 0)
			goto out;
		nspans += has_span;
		pos += xa_entry_size(entries[i].name_len);
	}
	qsort(spans, nspans, sizeof(*spans), xa_span_cmp);
	for (i = 1; i < nspans; i++) {
		if (spans[i].start < spans[i - 1].end) {
			rc = xa_entry_corrupt(fs, a, E4_RULE_XA4, spans[i].pos,
					      "value overlaps the value of the entry at offset %zu",
					      spans[i - 1].pos + a->report_base);
			goto out;
		}
	}
	qsort(entries, count, sizeof(*entries), xa_name_cmp);
	for (i = 1; i < count; i++) {
		if (xa_name_cmp(&entries[i], &entries[i - 1]) == 0) {
			rc = xa_entry_corrupt(fs, a, E4_RULE_XA_DUP,
					      entries[i].pos,
					      "duplicate attribute name");
			goto out;
		}
	}
	rc = 0;
out:
	free(entries);
	free(spans);
	return rc;
}

/* ---- the two areas ----------------------------------------------------- */

size_t e4_xattr_ibody_size(const struct e4_fs *fs, const struct e4_inode *inode)
{
	size_t start = E4_GOOD_OLD_INODE_SIZE + (size_t)inode->extra_isize;

	return fs->inode_size > start ? fs->inode_size - start : 0;
}

/*
 * Get the in-inode area of @inode.  Returns 1 and holds *@buf when the area
 * exists and validated, 0 when the inode has none.
 */
static int xa_ibody_get(struct e4_fs *fs, const struct e4_inode *inode,
			struct e4_buf **buf, struct xa_area *a)
{
	size_t off, isz = fs->inode_size, start;
	const uint8_t *rec;
	uint16_t extra;
	int rc;

	if (isz <= E4_GOOD_OLD_INODE_SIZE)
		return 0;
	/* the very bytes the inode was decoded (and its checksum verified)
	 * from, not whatever the device answers now */
	rc = e4_inode_record_get(fs, inode, buf, &off);
	if (rc < 0)
		return rc;
	rec = (*buf)->data + off;
	/* inode.c validated i_extra_isize (IN3); re-check what we index with */
	extra = e4_le16(rec, isz, E4_I_EXTRA_ISIZE);
	start = E4_GOOD_OLD_INODE_SIZE + (size_t)extra;
	if (extra == 0 || extra % 4 != 0 || start > isz ||
	    isz - start < XA_MIN_IBODY ||
	    e4_le32(rec, isz, start) != E4_XATTR_MAGIC) {
		e4_meta_put(fs, *buf);
		return 0;
	}
	a->p = rec + start;
	a->size = isz - start;
	a->first = E4_XATTR_IBODY_HEADER;
	a->value_base = E4_XATTR_IBODY_HEADER;
	a->report_base = start;
	a->ino = inode->ino;
	a->blk = 0;
	rc = xa_area_validate(fs, a);
	if (rc < 0) {
		e4_meta_put(fs, *buf);
		return rc;
	}
	return 1;
}

static uint32_t xa_block_csum(const struct e4_fs *fs, uint64_t blk,
			      const uint8_t *data, size_t size)
{
	uint8_t le[8];
	uint32_t crc;

	e4_put_le64(le, sizeof(le), 0, blk);
	crc = e4_crc32c(fs->fs_seed, le, sizeof(le));
	crc = e4_crc32c(crc, data, E4_XATTR_H_CHECKSUM);
	crc = e4_crc32c_le32(crc, 0);
	return e4_crc32c(crc, data + E4_XATTR_H_CHECKSUM + 4,
			 size - E4_XATTR_H_CHECKSUM - 4);
}

/* The area of xattr block @buf, reached from inode @ino (for messages). */
static void xa_block_area(const struct e4_buf *buf, uint32_t ino,
			  struct xa_area *a)
{
	a->p = buf->data;
	a->size = buf->size;
	a->first = E4_XATTR_BLOCK_HEADER;
	a->value_base = 0;
	a->report_base = 0;
	a->ino = ino;
	a->blk = buf->blk;
}

/* XA2 (header), then the entries and values (XA3-XA6). */
static int xa_block_verify_write(struct e4_fs *fs, const struct e4_buf *buf,
				 const struct e4_owner *owner)
{
	uint32_t magic, refcount, blocks;
	struct xa_area a;

	xa_block_area(buf, owner->ino, &a);
	magic = e4_le32(a.p, a.size, E4_XATTR_H_MAGIC);
	if (magic != E4_XATTR_MAGIC)
		return e4_corrupt(fs, E4_RULE_XA2, xa_area_obj(&a),
				  "bad magic 0x%08x", magic);
	blocks = e4_le32(a.p, a.size, E4_XATTR_H_BLOCKS);
	if (blocks != 1)
		return e4_corrupt(fs, E4_RULE_XA2, xa_area_obj(&a),
				  "h_blocks is %u, not 1", blocks);
	refcount = e4_le32(a.p, a.size, E4_XATTR_H_REFCOUNT);
	if (refcount < 1 || refcount > XA_MAX_REFCOUNT)
		return e4_corrupt(fs, E4_RULE_XA2, xa_area_obj(&a),
				  "refcount %u outside 1..%u", refcount,
				  XA_MAX_REFCOUNT);
	return xa_area_validate(fs, &a);
}

/* The magic, the checksum (§9.3), then the rest. */
static int xa_block_verify_read(struct e4_fs *fs, const struct e4_buf *buf,
				const struct e4_owner *owner)
{
	struct xa_area a;
	uint32_t magic;

	xa_block_area(buf, owner->ino, &a);
	magic = e4_le32(a.p, a.size, E4_XATTR_H_MAGIC);
	if (magic == E4_XATTR_MAGIC && fs->metadata_csum &&
	    e4_le32(a.p, a.size, E4_XATTR_H_BLOCKS) == 1) {
		uint32_t stored = e4_le32(a.p, a.size, E4_XATTR_H_CHECKSUM);
		uint32_t calc = xa_block_csum(fs, a.blk, a.p, a.size);

		if (stored != calc) {
			int rc = e4_csum_mismatch(fs, E4_RULE_XA2,
						  xa_area_obj(&a), stored, calc);
			if (rc < 0)
				return rc;
		}
	}
	return xa_block_verify_write(fs, buf, owner);
}

static void xa_block_csum_set(struct e4_fs *fs, struct e4_buf *buf,
			      const struct e4_owner *owner)
{
	(void)owner;
	if (fs->metadata_csum)
		e4_put_le32(buf->data, buf->size, E4_XATTR_H_CHECKSUM,
			    xa_block_csum(fs, buf->blk, buf->data, buf->size));
}

/* The checksum is seeded with the block number, not an owner: the block
 * may be shared by several inodes (h_refcount). */
const struct e4_buf_ops e4_bops_xattr = {
	.name = "xattr block", .kind = E4_BUF_XATTR,
	.verify_read = xa_block_verify_read,
	.verify_write = xa_block_verify_write,
	.csum_set = xa_block_csum_set,
};

/* Returns 1 and holds *@buf when @inode has a valid xattr block, 0 if none. */
static int xa_block_get(struct e4_fs *fs, const struct e4_inode *inode,
			struct e4_buf **buf, struct xa_area *a)
{
	int rc;

	if (inode->file_acl == 0)
		return 0;
	if (!e4_blocks_valid(fs, inode->file_acl, 1))
		return e4_corrupt(fs, E4_RULE_IN8, e4_obj_inode(inode->ino),
				  "xattr block %llu outside the file system",
				  (unsigned long long)inode->file_acl);
	struct e4_owner owner = e4_owner_of(inode, 0);

	rc = e4_meta_get_verified(fs, inode->file_acl, &e4_bops_xattr, &owner,
				  buf);
	if (rc < 0)
		return rc;
	xa_block_area(*buf, inode->ino, a);
	return 1;
}

/* ---- names ------------------------------------------------------------- */

struct xa_prefix {
	uint8_t index;
	const char *prefix;
	bool whole;		/* the prefix is the whole name (ACLs) */
};

/* The namespaces a kernel mount exposes (see the decisions above). */
static const struct xa_prefix xa_prefixes[] = {
	{ E4_XATTR_INDEX_USER, "user.", false },
	{ E4_XATTR_INDEX_POSIX_ACL_ACCESS, "system.posix_acl_access", true },
	{ E4_XATTR_INDEX_POSIX_ACL_DEFAULT, "system.posix_acl_default", true },
	{ E4_XATTR_INDEX_TRUSTED, "trusted.", false },
	{ E4_XATTR_INDEX_SECURITY, "security.", false },
	{ E4_XATTR_INDEX_HURD, "gnu.", false },
};

static const struct xa_prefix *xa_prefix_of_index(uint8_t index)
{
	for (size_t i = 0; i < sizeof(xa_prefixes) / sizeof(xa_prefixes[0]); i++)
		if (xa_prefixes[i].index == index)
			return &xa_prefixes[i];
	return NULL;
}

/* Split a full name into (index, suffix) like the kernel's handlers do. */
static int xa_parse_name(const char *name, uint8_t *index,
			 const char **suffix, size_t *suffix_len)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(xa_prefixes) / sizeof(xa_prefixes[0]); i++) {
		const struct xa_prefix *p = &xa_prefixes[i];
		size_t plen = strlen(p->prefix);

		if (p->whole) {
			if (strcmp(name, p->prefix) != 0)
				continue;
		} else if (strncmp(name, p->prefix, plen) != 0) {
			continue;
		}
		*index = p->index;
		*suffix = name + plen;
		*suffix_len = len - plen;
		if (!p->whole && *suffix_len == 0)
			return -EINVAL;
		if (*suffix_len > E4_NAME_MAX)
			return -ERANGE;
		return 0;
	}
	return -EOPNOTSUPP;
}

/* ---- values ------------------------------------------------------------ */

/* §9.6: the EA-inode value hash uses the fs seed even without
 * metadata_csum, so compute it here rather than rely on fs->fs_seed. */
static uint32_t xa_ea_seed(const struct e4_fs *fs)
{
	if (fs->feature_incompat & E4_INCOMPAT_CSUM_SEED)
		return e4_le32(fs->sb_raw, sizeof(fs->sb_raw), E4_SB_CHECKSUM_SEED);
	return e4_crc32c(0xFFFFFFFFu, fs->sb_raw + E4_SB_UUID, 16);
}

uint32_t e4_xattr_ea_value_hash(const struct e4_fs *fs, const void *value,
				size_t len)
{
	return e4_crc32c(xa_ea_seed(fs), value, len);
}

/* Read a value held in EA inode @inum (XA5).  With @buf NULL only the
 * inode is checked. */
static int xa_ea_inode_read(struct e4_fs *fs, const struct e4_inode *owner,
			    uint32_t inum, uint32_t value_size, uint8_t *buf)
{
	struct e4_object obj = e4_obj(E4_OBJ_EA_INODE, owner->ino, 0, inum);
	struct e4_inode ea;
	size_t done = 0;
	int rc;

	rc = e4_inode_read(fs, inum, &ea);
	if (rc == -EINVAL || rc == -ENOENT)
		return e4_corrupt(fs, E4_RULE_XA5, obj,
				  "not an allocated inode");
	if (rc < 0)
		return rc;
	if (!(ea.flags & E4_EA_INODE_FL))
		return e4_corrupt(fs, E4_RULE_XA5, obj,
				  "lacks the EA_INODE flag");
	if (!e4_inode_is_reg(&ea))
		return e4_corrupt(fs, E4_RULE_XA5, obj,
				  "not a regular file");
	if (ea.size != value_size)
		return e4_corrupt(fs, E4_RULE_XA5, obj,
				  "size %llu, the entry says %u",
				  (unsigned long long)ea.size, value_size);
	if (!buf)
		return 0;
	while (done < value_size) {
		ssize_t n = e4_file_read_mapped(fs, &ea, done, buf + done,
						value_size - done);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return e4_corrupt(fs, E4_RULE_XA5, obj,
					  "value ends at %zu of %u bytes", done,
					  value_size);
		done += (size_t)n;
	}
	/* i_atime holds the value hash; Lustre-style EA inodes instead hold
	 * the owner in i_mtime and i_generation (§9.6) */
	if (e4_xattr_ea_value_hash(fs, buf, value_size) !=
		    (uint32_t)ea.atime.sec &&
	    !((uint32_t)ea.mtime.sec == owner->ino &&
	      ea.generation == owner->generation))
		return e4_corrupt(fs, E4_RULE_XA5, obj,
				  "value hash mismatch");
	return 0;
}

/* What a lookup found: enough to finish after the area's buffer is put. */
struct xa_found {
	uint32_t value_inum;
	uint32_t value_size;
};

static bool xa_area_find(const struct xa_area *a, uint8_t index,
			 const char *name, size_t name_len, struct xa_entry *out)
{
	size_t pos = a->first;

	while (e4_le32(a->p, a->size, pos) != 0) {
		xa_entry_decode(a, pos, out);
		if (out->index == index && out->name_len == name_len &&
		    memcmp(out->name, name, name_len) == 0)
			return true;
		pos += xa_entry_size(out->name_len);
	}
	return false;
}

/* Look in one area.  1 = found (inline values already copied when @buf can
 * hold them), 0 = absent. */
static int xa_area_lookup(const struct xa_area *a, uint8_t index,
			  const char *name, size_t name_len, void *buf,
			  size_t size, struct xa_found *found)
{
	struct xa_entry e;

	if (!xa_area_find(a, index, name, name_len, &e))
		return 0;
	found->value_inum = e.value_inum;
	found->value_size = e.value_size;
	if (e.value_inum == 0 && buf && size >= e.value_size && e.value_size)
		memcpy(buf, a->p + a->value_base + e.value_offs, e.value_size);
	return 1;
}

/* system.data: the inline-data attribute (§8.1) */
static bool xa_is_inline_data(uint8_t index, const char *name, size_t name_len)
{
	return index == E4_XATTR_INDEX_SYSTEM && name_len == 4 &&
	       memcmp(name, "data", 4) == 0;
}

static ssize_t xa_get(struct e4_fs *fs, const struct e4_inode *inode,
		      uint8_t index, const char *name, size_t name_len,
		      void *buf, size_t size)
{
	struct xa_found found = { 0, 0 };
	struct xa_area a;
	struct e4_buf *b;
	int rc, hit = 0;

	rc = xa_ibody_get(fs, inode, &b, &a);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		hit = xa_area_lookup(&a, index, name, name_len, buf, size, &found);
		e4_meta_put(fs, b);
	}
	if (!hit && !xa_is_inline_data(index, name, name_len)) {
		rc = xa_block_get(fs, inode, &b, &a);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			hit = xa_area_lookup(&a, index, name, name_len, buf,
					     size, &found);
			e4_meta_put(fs, b);
		}
	}
	if (!hit)
		return -ENODATA;
	if (found.value_inum && xa_is_inline_data(index, name, name_len))
		return e4_corrupt(fs, E4_RULE_ID1, e4_obj_inode(inode->ino),
				  "inline data (system.data) held in xattr value inode %u",
				  found.value_inum);
	if (found.value_size > XA_MAX_VALUE)
		return -E2BIG;
	if (buf && size < found.value_size)
		return -ERANGE;
	if (found.value_inum) {
		rc = xa_ea_inode_read(fs, inode, found.value_inum,
				      found.value_size, size ? buf : NULL);
		if (rc < 0)
			return rc;
	}
	return (ssize_t)found.value_size;
}

ssize_t e4_xattr_get_raw(struct e4_fs *fs, const struct e4_inode *inode,
			 uint8_t index, const char *name, size_t name_len,
			 void *buf, size_t size)
{
	return xa_get(fs, inode, index, name, name_len, size ? buf : NULL, size);
}

ssize_t e4_xattr_get(struct e4_fs *fs, const struct e4_inode *inode,
		     const char *name, void *buf, size_t size)
{
	const char *suffix;
	size_t suffix_len;
	uint8_t index;
	ssize_t raw_len, n;
	uint8_t *raw;
	int rc;

	rc = xa_parse_name(name, &index, &suffix, &suffix_len);
	if (rc < 0)
		return rc;
	if (index != E4_XATTR_INDEX_POSIX_ACL_ACCESS &&
	    index != E4_XATTR_INDEX_POSIX_ACL_DEFAULT)
		return e4_xattr_get_raw(fs, inode, index, suffix, suffix_len,
					buf, size);

	/* ACLs are converted, so the stored value is needed even for a size
	 * query */
	raw_len = xa_get(fs, inode, index, suffix, suffix_len, NULL, 0);
	if (raw_len < 0)
		return raw_len;
	raw = malloc(raw_len ? (size_t)raw_len : 1);
	if (!raw)
		return -ENOMEM;
	n = xa_get(fs, inode, index, suffix, suffix_len, raw, (size_t)raw_len);
	if (n >= 0 && n != raw_len)
		n = -EIO;	/* changed under us: cannot happen read-only */
	if (n >= 0) {
		const char *why;

		n = e4_acl_to_xattr(raw, (size_t)raw_len, buf, size, &why);
		if (n == -EUCLEAN)
			n = e4_corrupt(fs, E4_RULE_XA_ACL,
				       e4_obj_inode(inode->ino),
				       "xattr %s: malformed POSIX ACL: %s", name,
				       why);
	}
	free(raw);
	return n;
}

/* ---- listing ------------------------------------------------------------- */

static int xa_area_list(const struct xa_area *a, e4_xattr_name_cb cb,
			void *ctx)
{
	char full[32 + E4_NAME_MAX];
	size_t pos = a->first;

	while (e4_le32(a->p, a->size, pos) != 0) {
		const struct xa_prefix *pfx;
		struct xa_entry e;
		size_t plen;
		int rc;

		xa_entry_decode(a, pos, &e);
		pos += xa_entry_size(e.name_len);
		pfx = xa_prefix_of_index(e.index);
		if (!pfx)
			continue;
		plen = strlen(pfx->prefix);
		memcpy(full, pfx->prefix, plen);
		memcpy(full + plen, e.name, e.name_len);
		rc = cb(ctx, full, plen + e.name_len);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int e4_xattr_list(struct e4_fs *fs, const struct e4_inode *inode,
		  e4_xattr_name_cb cb, void *ctx)
{
	struct xa_area a;
	struct e4_buf *b;
	int rc;

	rc = xa_ibody_get(fs, inode, &b, &a);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		rc = xa_area_list(&a, cb, ctx);
		e4_meta_put(fs, b);
		if (rc != 0)
			return rc;
	}
	rc = xa_block_get(fs, inode, &b, &a);
	if (rc <= 0)
		return rc;
	rc = xa_area_list(&a, cb, ctx);
	e4_meta_put(fs, b);
	return rc;
}

/* §9.5: the name's part of an entry hash, and one word mixed in */
static uint32_t xa_name_hash(const char *name, size_t len)
{
	uint32_t h = 0;

	for (size_t i = 0; i < len; i++)
		h = (h << 5) ^ (h >> 27) ^ (uint8_t)name[i];
	return h;
}

static uint32_t xa_hash_mix(uint32_t h, uint32_t w)
{
	return (h << 16) ^ (h >> 16) ^ w;
}

/* ---- the writer's side ------------------------------------------------------ */

int e4_xattr_name_parse(const char *name, uint8_t *index,
			const char **suffix, size_t *suffix_len)
{
	return xa_parse_name(name, index, suffix, suffix_len);
}

void e4_xattr_items_free(struct e4_xattr_items *it)
{
	for (size_t i = 0; i < it->n; i++)
		free(it->v[i].value);
	free(it->v);
	it->v = NULL;
	it->n = it->cap = 0;
}

/* Copy the entries of validated area @a into @out. */
static int xa_area_collect(const struct xa_area *a, struct e4_xattr_items *out)
{
	bool in_block = a->blk != 0;

	size_t pos = a->first;

	while (e4_le32(a->p, a->size, pos) != 0) {
		struct e4_xattr_item *it;
		struct xa_entry e;

		xa_entry_decode(a, pos, &e);
		pos += xa_entry_size(e.name_len);
		if (out->n == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 8;
			struct e4_xattr_item *v = realloc(out->v,
							  cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			out->v = v;
			out->cap = cap;
		}
		it = &out->v[out->n];
		memset(it, 0, sizeof(*it));
		it->index = e.index;
		it->in_block = in_block;
		it->name_len = e.name_len;
		memcpy(it->name, e.name, e.name_len);
		it->value_inum = e.value_inum;
		it->value_len = e.value_size;
		/* the EA inode's value hash, as the entry hash carries it: it
		 * is written back as it was, the value unread */
		if (e.value_inum)
			it->ea_hash = xa_hash_mix(xa_name_hash(it->name,
							       it->name_len),
						  0) ^
				      e4_le32(a->p, a->size,
					      e.pos + E4_XATTR_E_HASH);
		if (!e.value_inum && e.value_size) {
			it->value = malloc(e.value_size);
			if (!it->value)
				return -ENOMEM;
			/* the area was validated: the value lies inside */
			memcpy(it->value, a->p + a->value_base + e.value_offs,
			       e.value_size);
		}
		out->n++;
	}
	return 0;
}

int e4_xattr_collect(struct e4_fs *fs, const struct e4_inode *inode,
		     struct e4_xattr_items *out)
{
	struct xa_area a;
	struct e4_buf *b;
	int rc;

	memset(out, 0, sizeof(*out));
	out->ibody_has_room = fs->inode_size > E4_GOOD_OLD_INODE_SIZE &&
		inode->extra_isize &&
		fs->inode_size - E4_GOOD_OLD_INODE_SIZE - inode->extra_isize >=
			XA_MIN_IBODY;
	rc = xa_ibody_get(fs, inode, &b, &a);
	if (rc > 0) {
		rc = xa_area_collect(&a, out);
		e4_meta_put(fs, b);
	}
	if (rc >= 0) {
		rc = xa_block_get(fs, inode, &b, &a);
		if (rc > 0) {
			rc = xa_area_collect(&a, out);
			e4_meta_put(fs, b);
		}
	}
	if (rc < 0)
		e4_xattr_items_free(out);
	return rc < 0 ? rc : 0;
}

static size_t xa_value_size(uint32_t len)
{
	return ((size_t)len + E4_XATTR_PAD - 1) & ~(size_t)(E4_XATTR_PAD - 1);
}

size_t e4_xattr_item_size(const struct e4_xattr_item *it)
{
	return xa_entry_size(it->name_len) +
	       (it->value_inum ? 0 : xa_value_size(it->value_len));
}

static uint32_t xa_entry_hash(const struct e4_xattr_item *it)
{
	uint32_t h = xa_name_hash(it->name, it->name_len);

	if (it->value_inum)
		return xa_hash_mix(h, it->ea_hash);
	for (size_t i = 0; i < it->value_len; i += 4) {
		uint8_t w[4] = { 0 };

		memcpy(w, it->value + i, it->value_len - i < 4 ?
					 it->value_len - i : 4);
		h = xa_hash_mix(h, e4_le32(w, 4, 0));
	}
	return h;
}

/* Entries from @first, values down from @size (relative to @base); the
 * terminator after the last entry. */
static int xa_layout(struct e4_xattr_item *const *items, size_t n,
		     uint8_t *p, size_t size, size_t first, size_t base,
		     bool hashes)
{
	size_t pos = first, vend = size;

	for (size_t i = 0; i < n; i++) {
		const struct e4_xattr_item *it = items[i];
		size_t esz = xa_entry_size(it->name_len);
		size_t vsz = it->value_inum ? 0 : xa_value_size(it->value_len);
		size_t voff = 0;

		if (vend < vsz || pos + esz + E4_XATTR_END_SIZE > vend - vsz)
			return -ENOSPC;
		if (vsz) {
			vend -= vsz;
			memset(p + vend, 0, vsz);
			memcpy(p + vend, it->value, it->value_len);
			voff = vend - base;
		}
		memset(p + pos, 0, esz);
		p[pos + E4_XATTR_E_NAME_LEN] = it->name_len;
		p[pos + E4_XATTR_E_NAME_INDEX] = it->index;
		e4_put_le16(p, size, pos + E4_XATTR_E_VALUE_OFFS, (uint16_t)voff);
		e4_put_le32(p, size, pos + E4_XATTR_E_VALUE_INUM, it->value_inum);
		e4_put_le32(p, size, pos + E4_XATTR_E_VALUE_SIZE, it->value_len);
		e4_put_le32(p, size, pos + E4_XATTR_E_HASH,
			    hashes || it->value_inum ? xa_entry_hash(it) : 0);
		memcpy(p + pos + E4_XATTR_E_NAME, it->name, it->name_len);
		pos += esz;
	}
	e4_put_le32(p, size, pos, 0);	/* the terminator */
	return 0;
}

int e4_xattr_ibody_encode(const struct e4_fs *fs,
			  struct e4_xattr_item *const *items, size_t n,
			  uint8_t *area, size_t size)
{
	(void)fs;
	if (size < XA_MIN_IBODY)
		return n ? -ENOSPC : 0;
	memset(area, 0, size);
	if (n == 0)
		return 0;	/* no magic: no attributes (mkfs leaves it so) */
	e4_put_le32(area, size, E4_XATTR_H_MAGIC, E4_XATTR_MAGIC);
	/* in-inode values are relative to the first entry (§9.2); the
	 * kernel writes hash 0 there */
	return xa_layout(items, n, area, size, E4_XATTR_IBODY_HEADER,
			 E4_XATTR_IBODY_HEADER, false);
}

static int xa_item_cmp(const void *x, const void *y)
{
	const struct e4_xattr_item *a = *(struct e4_xattr_item *const *)x;
	const struct e4_xattr_item *b = *(struct e4_xattr_item *const *)y;

	if (a->index != b->index)
		return a->index - b->index;
	if (a->name_len != b->name_len)
		return a->name_len - b->name_len;
	return memcmp(a->name, b->name, a->name_len);
}

int e4_xattr_block_encode(const struct e4_fs *fs,
			  struct e4_xattr_item **items, size_t n, uint8_t *blk)
{
	size_t size = fs->block_size, pos = E4_XATTR_BLOCK_HEADER;
	uint32_t h = 0;
	int rc;

	qsort(items, n, sizeof(*items), xa_item_cmp);
	memset(blk, 0, size);
	e4_put_le32(blk, size, E4_XATTR_H_MAGIC, E4_XATTR_MAGIC);
	e4_put_le32(blk, size, E4_XATTR_H_REFCOUNT, 1);
	e4_put_le32(blk, size, E4_XATTR_H_BLOCKS, 1);
	rc = xa_layout(items, n, blk, size, E4_XATTR_BLOCK_HEADER, 0, true);
	if (rc < 0)
		return rc;
	/* §9.5: the block hash over the entries' hashes in table order */
	for (size_t i = 0; i < n; i++) {
		uint32_t eh = e4_le32(blk, size, pos + E4_XATTR_E_HASH);

		if (eh == 0) {
			h = 0;
			break;
		}
		h = xa_hash_mix(h, eh);
		pos += xa_entry_size(items[i]->name_len);
	}
	e4_put_le32(blk, size, E4_XATTR_H_HASH, h);
	return 0;
}
