/* SPDX-License-Identifier: MIT */
/*
 * Directory blocks (spec §7.1-7.5, §7.8) and inline directories (§7.9,
 * §8.3): verification, iteration and linear lookup.
 *
 * An "area" is a run of bytes the entries must tile exactly: a directory
 * block up to its checksum tail, or one of the two entry areas of an inline
 * directory.  Every area is verified whole (DIR1-DIR4) before any of its
 * entries is used.  A walk meeting a corrupt block either stops there,
 * after delivering the entries of the blocks before it (E4_DIR_STRICT: a
 * directory about to be changed), or skips it and goes on (E4_DIR_SALVAGE:
 * readers); the block is reported once either way, its verdict kept with
 * the cached buffer.
 *
 * Listing and linear lookup share one walk over a directory's blocks
 * (dir_walk): the rules on holes, how far a walk may go, index blocks and
 * positions live there, and each caller only says what to do with the
 * entries of a verified block (area_emit, area_find: the same entry steps
 * serve the two areas of an inline directory).
 *
 * Index blocks of an htree directory (§7.6) look like empty blocks to a
 * linear reader, but with metadata_csum they carry a dx tail instead of a
 * leaf tail, so the kind of each block must be known before verifying it.
 * Following the spec ("decide from INDEX_FL and position"): when the inode
 * has INDEX_FL and the file system has dir_index, logical block 0 is the dx
 * root (only its "." and ".." are entries), and any other block that starts
 * with the fake entry of an interior node (inode 0, rec_len == B, name_len
 * 0) is an interior node.  A real empty leaf cannot be mistaken for one
 * under metadata_csum, because its single entry ends at B - 12, before the
 * tail; without metadata_csum both read as "no entries", so the choice does
 * not matter.  Index blocks are checked against their dx checksum; their
 * structure matters only to the htree lookup (htree.c), so the walk ignores
 * a structurally odd index block rather than failing.
 *
 * Positions (readdir cookies): byte offset in the directory (lblk * B + off)
 * for block directories; for inline directories 0 = ".", 1 = "..", and 4 and
 * up are byte offsets into the inline area (i_block bytes 4..59, then the
 * system.data value at 60 and up).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ondisk.h"

struct dir_area {
	struct e4_fs *fs;
	uint32_t ino;		/* the directory, for messages */
	const uint8_t *data;
	size_t size;		/* readable bytes at data */
	uint32_t start;		/* offset of the first entry */
	uint32_t end;		/* usable end: entries tile [start, end) */
	bool dots_first;	/* block 0: "." then ".." must open the area */
	bool is_inline;
	uint32_t inline_base;	/* inline: position of data[0] */
	uint64_t pblk, lblk;	/* block areas, for messages */
	bool quiet;		/* checked again after its report: silent */
	bool ciphertext;	/* encrypted directory: names are any bytes */
};

struct raw_dirent {
	uint32_t ino;
	uint32_t rec_len;	/* decoded */
	uint8_t name_len;
	uint8_t ftype;		/* 0 without FILETYPE */
	const uint8_t *name;
};

static bool has_filetype(const struct e4_fs *fs)
{
	return fs->feature_incompat & E4_INCOMPAT_FILETYPE;
}

static bool dir_is_indexed(const struct e4_fs *fs, const struct e4_inode *dir)
{
	return (dir->flags & E4_INDEX_FL) &&
	       (fs->feature_compat & E4_COMPAT_DIR_INDEX);
}

static bool dir_is_inline(const struct e4_inode *dir)
{
	return dir->flags & E4_INLINE_DATA_FL;
}

/* Caller has checked that the 8-byte header at @off lies inside the area. */
static void dirent_decode(const struct dir_area *a, uint32_t off,
			  struct raw_dirent *e)
{
	e->ino = e4_le32(a->data, a->size, off + E4_DIRENT_INODE);
	e->rec_len = e4_rec_len_decode(e4_le16(a->data, a->size,
					    off + E4_DIRENT_REC_LEN),
				    a->fs->block_size);
	e->name_len = e4_u8(a->data, a->size, off + E4_DIRENT_NAME_LEN);
	e->ftype = has_filetype(a->fs) ?
			   e4_u8(a->data, a->size, off + E4_DIRENT_FILE_TYPE) :
			   0;
	e->name = a->data + off + E4_DIRENT_HEADER;
}

static int area_corrupt(const struct dir_area *a, enum e4_rule rule,
			const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int area_corrupt(const struct dir_area *a, enum e4_rule rule,
			const char *fmt, ...)
{
	struct e4_object obj = a->is_inline ?
		e4_obj(E4_OBJ_INLINE_DIR, a->ino, 0, 0) :
		e4_obj_dir_block(a->ino, a->pblk, a->lblk);
	va_list ap;

	if (a->quiet)
		return -EUCLEAN;
	va_start(ap, fmt);
	e4_vcorrupt(a->fs, rule, obj, fmt, ap);
	va_end(ap);
	return -EUCLEAN;
}

static bool name_is(const struct raw_dirent *e, const char *s, size_t n)
{
	return e->name_len == n && memcmp(e->name, s, n) == 0;
}

/* DIR1-DIR4 on entry @idx of the area, at @off: its record length in
 * *@rec_len when valid. */
static int entry_verify(const struct dir_area *a, uint32_t off, unsigned idx,
			uint32_t *rec_len)
{
	struct raw_dirent e;
	uint32_t pos = a->inline_base + off;

	if (a->end - off < E4_DIRENT_HEADER)
		return area_corrupt(a, E4_RULE_DIR1,
				    "entry header at offset %u "
				    "runs past end of block", pos);
	dirent_decode(a, off, &e);
	if (e.rec_len % 4)
		return area_corrupt(a, E4_RULE_DIR1,
				    "rec_len %u not a multiple of "
				    "4 at offset %u", e.rec_len, pos);
	if (e.rec_len < E4_DIRENT_MIN_REC_LEN)
		return area_corrupt(a, E4_RULE_DIR1,
				    "rec_len %u too short at "
				    "offset %u", e.rec_len, pos);
	if (e.rec_len > a->end - off)
		return area_corrupt(a, E4_RULE_DIR1,
				    "rec_len %u past end of block "
				    "at offset %u", e.rec_len, pos);
	/* rec_len is a multiple of 4, so this is rec_len_min(). */
	if (E4_DIRENT_HEADER + (uint32_t)e.name_len > e.rec_len)
		return area_corrupt(a, E4_RULE_DIR1,
				    "name_len %u exceeds rec_len "
				    "%u at offset %u", e.name_len,
				    e.rec_len, pos);
	if (e.ino) {
		bool dot = name_is(&e, ".", 1);
		bool dotdot = name_is(&e, "..", 2);

		if (e.ino > a->fs->inodes_count)
			return area_corrupt(a, E4_RULE_DIR3,
					    "inode %u out of range "
					    "at offset %u", e.ino,
					    pos);
		if (e.name_len == 0)
			return area_corrupt(a, E4_RULE_DIR2,
					    "empty name at offset "
					    "%u", pos);
		/* ciphertext is whole cipher blocks: 16 bytes at least */
		if (a->ciphertext && !dot && !dotdot &&
		    e.name_len < E4_CRYPTO_BLOCK_SIZE)
			return area_corrupt(a, E4_RULE_DIR2,
					    "encrypted name of %u bytes at "
					    "offset %u", e.name_len, pos);
		if (!a->ciphertext && (memchr(e.name, '/', e.name_len) ||
				       memchr(e.name, '\0', e.name_len)))
			return area_corrupt(a, E4_RULE_DIR2,
					    "name contains '/' or "
					    "NUL at offset %u", pos);
		if (e.ftype >= E4_FT_COUNT)
			return area_corrupt(a, E4_RULE_DIR4,
					    "file type %u invalid "
					    "at offset %u", e.ftype,
					    pos);
		if (a->dots_first && idx < 2 &&
		    !(idx == 0 ? dot : dotdot))
			return area_corrupt(a, E4_RULE_DIR2,
					    "entry %u is not '%s'",
					    idx, idx ? ".." : ".");
		if ((dot || dotdot) && !(a->dots_first && idx < 2))
			return area_corrupt(a, E4_RULE_DIR2,
					    "'%s' entry out of "
					    "place at offset %u",
					    dot ? "." : "..", pos);
	} else if (a->dots_first && idx < 2) {
		return area_corrupt(a, E4_RULE_DIR2,
				    "entry %u is not '%s'", idx,
				    idx ? ".." : ".");
	}
	*rec_len = e.rec_len;
	return 0;
}

/*
 * DIR1-DIR4 on every entry of the area.  Stops at the first violation;
 * *@valid_end (may be NULL) is then where the entries before it end: each
 * of those is valid.
 */
static int area_verify_upto(const struct dir_area *a, uint32_t *valid_end)
{
	uint32_t off = a->start;
	unsigned idx = 0;
	int rc = 0;

	if (valid_end)
		*valid_end = a->start;
	if (a->end > a->size || a->start > a->end)
		return area_corrupt(a, E4_RULE_DIR1,
				    "entry area [%u, %u) outside the data",
				    a->start, a->end);
	while (off < a->end) {
		uint32_t rec_len = 0;

		rc = entry_verify(a, off, idx, &rec_len);
		if (rc)
			break;
		idx++;
		off += rec_len;
	}
	if (valid_end)
		*valid_end = off;
	if (!rc && a->dots_first && idx < 2)
		rc = area_corrupt(a, E4_RULE_DIR2, "'..' entry missing");
	return rc;
}

static int area_verify(const struct dir_area *a)
{
	return area_verify_upto(a, NULL);
}

/* The entry at @off of a verified area, or false past its last one. */
static bool area_entry(const struct dir_area *a, uint32_t off,
		       struct raw_dirent *e)
{
	if (off >= a->end)
		return false;
	dirent_decode(a, off, e);
	return e->rec_len >= E4_DIRENT_MIN_REC_LEN;	/* verified: always */
}

/*
 * How the names of an encrypted directory are listed without its key, as
 * the kernel lists them (nokey.c): with the hash of each entry when the
 * kernel reads the directory in hash order (an indexed, one-block or
 * inline directory of a dir_index file system), else zeros; a directory
 * also casefolded stores each entry's hash after its name (§7.1).
 */
/* How a listing delivers its entries. */
static bool is_dot_entry(const struct raw_dirent *e)
{
	return e->name_len <= 2 && e->name_len &&
	       !memcmp(e->name, "..", e->name_len);
}

/* Entry @e's hash as ext4 orders the directory (0 where it does not). */
static void entry_hash(const struct dir_area *a, const struct e4_dir_listing *o,
		       uint32_t off, const struct raw_dirent *e,
		       uint32_t *hash, uint32_t *minor)
{
	uint32_t at = off + e4_dirent_size(e->name_len);
	int rc = 0;

	*hash = *minor = 0;
	if (o->nokey && !is_dot_entry(e) && o->stored) {
		/* the hash the kernel put after the name: the ciphertext of
		 * a casefolded name cannot be hashed */
		if (e->rec_len >= at - off + E4_NOKEY_HASH_SIZE) {
			*hash = e4_le32(a->data, a->size, at);
			*minor = e4_le32(a->data, a->size, at + 4);
		}
		return;
	}
	if (!o->by_hash)
		return;
	if (o->nokey || is_dot_entry(e))	/* the bytes as they are */
		rc = e4_dirhash((const char *)e->name, e->name_len, o->version,
				a->fs->hash_seed, hash, minor);
	else
		rc = e4_dir_entry_hash(a->fs, o->dir, (const char *)e->name,
				       e->name_len, o->version, hash, minor);
	if (rc)
		*hash = *minor = 0;
}

/*
 * Deliver the live entries of a verified area at offsets >= @from.  An entry
 * whose record reaches the usable end resumes at @after (the next area).
 */
static int area_emit(const struct dir_area *a, uint32_t from,
		     uint64_t pos_base, uint64_t after,
		     const struct e4_dir_listing *o, e4_dir_cb cb, void *ctx)
{
	struct raw_dirent e;
	struct e4_dirent d;

	for (uint32_t off = a->start; area_entry(a, off, &e);
	     off += e.rec_len) {
		uint32_t next = off + e.rec_len;
		int rc;

		if (!e.ino || off < from)
			continue;
		d.ino = e.ino;
		d.ftype = e.ftype;
		d.hash = d.minor_hash = 0;
		if ((o->nokey && !is_dot_entry(&e)) || o->hashes)
			entry_hash(a, o, off, &e, &d.hash, &d.minor_hash);
		if (o->nokey && !is_dot_entry(&e)) {
			d.name_len = (uint8_t)e4_nokey_encode(e.name, e.name_len,
							      d.hash,
							      d.minor_hash,
							      d.name);
		} else {
			d.name_len = e.name_len;
			memcpy(d.name, e.name, e.name_len);
			d.name[e.name_len] = '\0';
		}
		d.next_pos = next >= a->end ? after : pos_base + next;
		rc = cb(ctx, &d);
		if (rc)
			return rc;
	}
	return 0;
}

/* Search a verified area: 0 and the entry, or -ENOENT. */
static int area_find(const struct dir_area *a, const struct e4_dir_name *name,
		     uint32_t *ino, uint8_t *ftype)
{
	struct raw_dirent e;

	for (uint32_t off = a->start; area_entry(a, off, &e);
	     off += e.rec_len) {
		if (e.ino && e4_dir_name_match(name, e.name, e.name_len)) {
			*ino = e.ino;
			if (ftype)
				*ftype = e.ftype;
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- block directories --------------------------------------------------- */

int e4_dir_nblocks(struct e4_fs *fs, const struct e4_inode *dir,
		   uint64_t *nblocks)
{
	uint64_t size = dir->size;

	/* §7.8: without large_dir a directory's size is i_size_lo alone. */
	if (!(fs->feature_incompat & E4_INCOMPAT_LARGEDIR))
		size &= 0xFFFFFFFFu;
	if (size % fs->block_size)
		return e4_corrupt(fs, E4_RULE_IN6, e4_obj_inode(dir->ino),
				  "directory size %llu is not a multiple of the "
				  "block size", (unsigned long long)size);
	/* logical block numbers are 32-bit */
	if (size / fs->block_size > 0xFFFFFFFFu)
		return e4_corrupt(fs, E4_RULE_IN6, e4_obj_inode(dir->ino),
				  "directory size %llu too large",
				  (unsigned long long)size);
	/* a directory cannot hold more blocks than its file system: a map
	 * repeating one block could otherwise claim billions, and a full
	 * listing would walk them all, 4 GiB per request */
	if (size / fs->block_size > fs->blocks_count)
		return e4_corrupt(fs, E4_RULE_IN6, e4_obj_inode(dir->ino),
				  "directory of %llu blocks is larger than the file system (%llu blocks)",
				  (unsigned long long)(size / fs->block_size),
				  (unsigned long long)fs->blocks_count);
	*nblocks = size / fs->block_size;
	return 0;
}

/* The last mapping run, so a walk maps each extent once, not every block. */
struct dir_map {
	struct e4_mapping run;
	bool valid;
};

static int dir_block_map(struct e4_fs *fs, const struct e4_inode *dir,
			 uint64_t lblk, struct dir_map *map, uint64_t *pblk)
{
	struct e4_mapping *m = &map->run;
	int rc;

	if (!map->valid || lblk < m->lblk || lblk - m->lblk >= m->len) {
		map->valid = false;
		rc = e4_map_block(fs, dir, lblk, m);
		if (rc < 0)
			return rc;
		if (m->lblk != lblk || m->len == 0)
			m->len = 1;	/* keep the run trivially correct */
		m->lblk = lblk;
		map->valid = true;
	}
	switch (m->kind) {
	case E4_MAP_MAPPED:
		*pblk = m->pblk + (lblk - m->lblk);
		return 0;
	case E4_MAP_HOLE:
		return e4_corrupt(fs, E4_RULE_DIR_MAPPED,
				  e4_obj_dir_block(dir->ino, 0, lblk),
				  "a hole");
	case E4_MAP_UNWRITTEN:
		return e4_corrupt(fs, E4_RULE_DIR_MAPPED,
				  e4_obj_dir_block(dir->ino,
						   m->pblk + (lblk - m->lblk),
						   lblk),
				  "unwritten");
	default:
		return e4_corrupt(fs, E4_RULE_DIR_MAPPED,
				  e4_obj_dir_block(dir->ino, 0, lblk),
				  "maps to inline data");
	}
}

static int dir_block_read(struct e4_fs *fs, const struct e4_inode *dir,
			  uint64_t lblk, struct dir_map *map,
			  struct e4_buf **out)
{
	uint64_t pblk = 0;
	int rc = dir_block_map(fs, dir, lblk, map, &pblk);

	if (rc < 0)
		return rc;
	return e4_meta_get(fs, pblk, out);
}

int e4_dir_block_get(struct e4_fs *fs, const struct e4_inode *dir,
		     uint64_t lblk, struct e4_buf **out)
{
	struct dir_map map = { .valid = false };

	return dir_block_read(fs, dir, lblk, &map, out);
}

static void block_area(struct e4_fs *fs, uint32_t ino, const struct e4_buf *buf,
		       uint64_t lblk, struct dir_area *a)
{
	*a = (struct dir_area){
		.fs = fs, .ino = ino, .data = buf->data, .size = buf->size,
		.start = 0, .end = fs->block_size, .dots_first = lblk == 0,
		.pblk = buf->blk, .lblk = lblk,
	};
	if (fs->metadata_csum)
		a->end = fs->block_size - E4_DIR_TAIL_SIZE;
}

/* §7.5: crc32c(inode seed, the block up to its tail). */
static uint32_t leaf_csum(const struct e4_fs *fs, const struct e4_owner *o,
			  const uint8_t *data)
{
	return e4_crc32c(e4_inode_csum_seed(fs, o->ino, o->gen), data,
			 fs->block_size - E4_DIR_TAIL_SIZE);
}

/* §7.5: with metadata_csum a leaf ends in a fake entry holding the
 * checksum: inode 0, rec_len 12, name_len 0, file type 0xDE. */
static int leaf_tail_check(const struct dir_area *a, const struct e4_buf *buf)
{
	uint32_t t = a->end;

	if (!a->fs->metadata_csum)
		return 0;
	if (e4_le32(buf->data, buf->size, t) != 0 ||
	    e4_le16(buf->data, buf->size, t + 4) != E4_DIR_TAIL_SIZE ||
	    e4_u8(buf->data, buf->size, t + 6) != 0 ||
	    e4_u8(buf->data, buf->size, t + 7) != E4_DIR_TAIL_FT)
		return area_corrupt(a, E4_RULE_DIR4, "missing checksum tail");
	return 0;
}

/* The tail's shape, with @csum its checksum (§7.5), then the entries
 * (DIR1-DIR4) of leaf @owner->pos. */
static int leaf_check(struct e4_fs *fs, const struct e4_buf *buf,
		      const struct e4_owner *owner, bool csum)
{
	struct dir_area a;
	int rc;

	block_area(fs, owner->ino, buf, owner->pos, &a);
	a.ciphertext = owner->encrypted &&
		       (fs->feature_incompat & E4_INCOMPAT_ENCRYPT);
	rc = leaf_tail_check(&a, buf);
	if (!rc && csum && fs->metadata_csum) {
		uint32_t have = e4_le32(buf->data, buf->size,
					fs->block_size - 4);
		uint32_t want = leaf_csum(fs, owner, buf->data);

		if (want != have)
			rc = e4_csum_mismatch(fs, E4_RULE_DIR4,
					      e4_obj_dir_block(owner->ino,
							       buf->blk,
							       owner->pos),
					      have, want);
	}
	return rc ? rc : area_verify(&a);
}

/* Before a write: the checksum is about to be set. */
static int leaf_verify_write(struct e4_fs *fs, const struct e4_buf *buf,
			     const struct e4_owner *owner)
{
	return leaf_check(fs, buf, owner, false);
}

static int leaf_verify_read(struct e4_fs *fs, const struct e4_buf *buf,
			    const struct e4_owner *owner)
{
	return leaf_check(fs, buf, owner, true);
}

static void leaf_csum_set(struct e4_fs *fs, struct e4_buf *buf,
			  const struct e4_owner *owner)
{
	if (fs->metadata_csum)
		e4_put_le32(buf->data, buf->size, fs->block_size - 4,
			    leaf_csum(fs, owner, buf->data));
}

/* Owned by (directory, logical block): block 0 is held to the "." and
 * ".." rule, others are not. */
const struct e4_buf_ops e4_bops_dir_leaf = {
	.name = "directory block", .kind = E4_BUF_DIR_LEAF,
	.verify_read = leaf_verify_read, .verify_write = leaf_verify_write,
	.csum_set = leaf_csum_set,
};

/* A leaf, verified once per cached block: @a is the area to walk. */
static int leaf_verify(struct e4_fs *fs, const struct e4_inode *dir,
		       struct e4_buf *buf, uint64_t lblk, struct dir_area *a)
{
	struct e4_owner owner = e4_owner_of(dir, lblk);

	block_area(fs, dir->ino, buf, lblk, a);
	a->ciphertext = e4_inode_is_encrypted(fs, dir);
	return e4_buf_verify(fs, buf, &e4_bops_dir_leaf, &owner);
}

/* The entries of the dx root: "." and "..", the root having no leaf tail. */
static void dx_root_area(struct e4_fs *fs, uint32_t ino,
			 const struct e4_buf *buf, struct dir_area *a)
{
	block_area(fs, ino, buf, 0, a);
	a->end = fs->block_size;
}

/* The dx root's "." and ".." are ordinary entries; ".." covers the rest of
 * the block, hiding the index from linear readers.  Part of the dx row's
 * read verifier, so the block's one verdict covers them too. */
int e4_dx_root_dots_verify(struct e4_fs *fs, uint32_t ino,
			   const struct e4_buf *buf)
{
	uint32_t bs = fs->block_size;
	uint32_t dotdot_len;
	struct dir_area a;
	int rc;

	dx_root_area(fs, ino, buf, &a);
	rc = area_verify(&a);
	if (rc)
		return rc;
	dotdot_len = e4_rec_len_decode(e4_le16(buf->data, buf->size,
					    E4_DIRENT_MIN_REC_LEN +
						    E4_DIRENT_REC_LEN),
				    bs);
	if (e4_le16(buf->data, buf->size, E4_DIRENT_REC_LEN) !=
		    E4_DIRENT_MIN_REC_LEN ||
	    dotdot_len != bs - E4_DIRENT_MIN_REC_LEN)
		return area_corrupt(&a, E4_RULE_DIR5,
				    "htree root: '..' does not cover the "
				    "index (rec_len %u)", dotdot_len);
	return 0;
}

/* The root's entries, verified with the rest of the block (once per
 * cached block); an unusable index alone leaves them usable. */
static int dx_root_entries(struct e4_fs *fs, const struct e4_inode *dir,
			   struct e4_buf *buf, uint64_t nblocks,
			   struct dir_area *a)
{
	int rc = e4_dx_verify(fs, dir, 0, buf, nblocks, true);

	dx_root_area(fs, dir->ino, buf, a);
	return rc == -EAGAIN ? 0 : rc;
}

static bool looks_like_dx_node(const struct e4_fs *fs, const struct e4_buf *buf)
{
	return e4_le32(buf->data, buf->size, E4_DIRENT_INODE) == 0 &&
	       e4_rec_len_decode(e4_le16(buf->data, buf->size, E4_DIRENT_REC_LEN),
			      fs->block_size) == fs->block_size &&
	       e4_u8(buf->data, buf->size, E4_DIRENT_NAME_LEN) == 0;
}

enum dir_block_kind { DIR_BLOCK_LEAF, DIR_BLOCK_DX_ROOT, DIR_BLOCK_DX_NODE };

/* A directory block, read, classified and verified: the holder puts buf. */
struct dir_block {
	struct e4_buf *buf;
	struct dir_area area;	/* its entries */
	enum dir_block_kind kind;
};

/* Classify and verify the block in @b->buf. */
static int dir_block_prepare(struct e4_fs *fs, const struct e4_inode *dir,
			     uint64_t lblk, uint64_t nblocks,
			     struct dir_block *b)
{
	int rc;

	if (dir_is_indexed(fs, dir) && lblk == 0) {
		b->kind = DIR_BLOCK_DX_ROOT;
		return dx_root_entries(fs, dir, b->buf, nblocks, &b->area);
	}
	if (dir_is_indexed(fs, dir) && looks_like_dx_node(fs, b->buf)) {
		b->kind = DIR_BLOCK_DX_NODE;
		block_area(fs, dir->ino, b->buf, lblk, &b->area);
		b->area.start = b->area.end;	/* no entries */
		rc = e4_dx_verify(fs, dir, lblk, b->buf, nblocks, true);
		return rc == -EAGAIN ? 0 : rc;
	}
	b->kind = DIR_BLOCK_LEAF;
	return leaf_verify(fs, dir, b->buf, lblk, &b->area);
}

/* How a walk treats a block it cannot use: corrupt (reported where it was
 * found) or unreadable. */
struct dir_salvage {
	bool on;	/* skip it and go on with the next (readers) */
	bool skipped;	/* out: a block was skipped */
	bool *skipped_out;	/* the caller's, set at once (may be NULL):
				 * the entries delivered after it can tell */
};

static void dir_salvage_note(struct dir_salvage *sv)
{
	sv->skipped = true;
	if (sv->skipped_out)
		*sv->skipped_out = true;
}

static bool dir_block_skippable(int rc)
{
	return rc == -EUCLEAN || rc == -EIO;
}

/*
 * What a reader can still use of a leaf that failed its read verifier
 * (reported then): the entries before the first bad one, each valid, as
 * the kernel lists them.  Nothing of a leaf failing its checksum or
 * missing its tail: such a block is not trusted at all (nor by the
 * kernel).  Shrinks @b->area to them; false when there are none.
 */
static bool leaf_valid_prefix(struct e4_fs *fs, const struct e4_inode *dir,
			      struct dir_block *b)
{
	struct dir_area *a = &b->area;
	struct e4_owner owner = e4_owner_of(dir, a->lblk);
	uint32_t valid_end;

	a->quiet = true;
	if (leaf_tail_check(a, b->buf)) {
		a->quiet = false;
		return false;
	}
	if (fs->metadata_csum && fs->opts.csum != E4_CSUM_ACCEPT &&
	    e4_le32(b->buf->data, b->buf->size, fs->block_size - 4) !=
		    leaf_csum(fs, &owner, b->buf->data)) {
		a->quiet = false;
		return false;
	}
	(void)area_verify_upto(a, &valid_end);
	a->quiet = false;
	a->end = valid_end;
	return valid_end > a->start;
}

/* Read block @lblk of a directory of @nblocks blocks (through the last
 * mapping run @map), classify and verify it.  The caller puts b->buf.
 * With @sv->on, a leaf that failed is still given with the valid entries
 * it starts with, if any (@sv->skipped then says the rest is missing). */
static int dir_block_load(struct e4_fs *fs, const struct e4_inode *dir,
			  uint64_t lblk, uint64_t nblocks, struct dir_map *map,
			  struct dir_block *b, struct dir_salvage *sv)
{
	int rc = dir_block_read(fs, dir, lblk, map, &b->buf);

	if (rc)
		return rc;
	rc = dir_block_prepare(fs, dir, lblk, nblocks, b);
	if (rc == -EUCLEAN && sv && sv->on && b->kind == DIR_BLOCK_LEAF &&
	    leaf_valid_prefix(fs, dir, b)) {
		dir_salvage_note(sv);
		return 0;
	}
	if (rc) {
		e4_meta_put(fs, b->buf);
		b->buf = NULL;
	}
	return rc;
}

/*
 * Work per request: one walk reads at most 4 GiB of directory, the most a
 * directory can hold without large_dir (i_size is 32-bit then), so the limit
 * only ever stops a large_dir directory whose logical blocks repeat a few
 * physical ones (a 2^32-block walk would take hours).  A readdir resumes
 * from its position, so a real directory is listed whole anyway.
 */
#define DIR_WALK_MAX_BYTES (1ull << 32)

static int dir_walk_limit(struct e4_fs *fs, const struct e4_inode *dir,
			  uint64_t first, uint64_t lblk)
{
	if ((lblk - first) << fs->log_block_size < DIR_WALK_MAX_BYTES)
		return 0;
	e4_log_rule(fs, E4_LOG_ERROR, E4_RULE_LIM_WORK,
		    e4_obj_inode(dir->ino),
		    "directory walk stopped at logical block %llu: more than "
		    "4 GiB in one request", (unsigned long long)lblk);
	return -EFBIG;
}

/* One block of a walk, as its visitor sees it. */
struct dir_walk_step {
	const struct dir_area *area;	/* the block's entries, verified */
	uint32_t from;		/* offset of the first entry asked for */
	uint64_t pos;		/* position (readdir cookie) of byte 0 */
	uint64_t next_pos;	/* position of the next block */
};

/* 0 goes on to the next block; anything else stops the walk and is what
 * the walk returns. */
typedef int (*dir_visit_cb)(void *ctx, const struct dir_walk_step *s);

/*
 * The one walk over the blocks of a block directory, used by listing and
 * by linear lookup: from the block holding position @pos to the last block
 * i_size covers (at least block 0, which holds "." and "..") or to block
 * @end, excluded, each block
 * mapped (a hole or an unwritten block is DIR_MAPPED corruption), read,
 * classified and verified before @visit sees it.  A bad block stops the
 * walk with its error after the blocks before it were visited, or with
 * @sv->on (salvage) is skipped: the walk goes on with the next block.
 * Index blocks reach @visit as blocks without entries.  The work is
 * bounded by i_size, which e4_dir_nblocks bounds by the file system's
 * size, and per request by DIR_WALK_MAX_BYTES.
 */
static int dir_walk(struct e4_fs *fs, const struct e4_inode *dir,
		    uint64_t pos, uint64_t end, struct dir_salvage *sv,
		    dir_visit_cb visit, void *ctx)
{
	uint32_t bs = fs->block_size;
	uint64_t first = pos / bs;
	struct dir_map map = { .valid = false };
	uint64_t nblocks;
	int rc = e4_dir_nblocks(fs, dir, &nblocks);

	if (!rc && nblocks == 0)
		rc = e4_corrupt(fs, E4_RULE_DIR2, e4_obj_inode(dir->ino),
				"directory has no blocks");
	for (uint64_t lblk = first; !rc && lblk < nblocks && lblk < end; lblk++) {
		struct dir_block b;
		struct dir_walk_step s = {
			.area = &b.area,
			.from = lblk == first ? (uint32_t)(pos % bs) : 0,
			.pos = lblk * bs, .next_pos = (lblk + 1) * bs,
		};

		rc = dir_walk_limit(fs, dir, first, lblk);
		if (rc)
			break;
		rc = dir_block_load(fs, dir, lblk, nblocks, &map, &b, sv);
		if (rc && sv && sv->on && dir_block_skippable(rc)) {
			dir_salvage_note(sv);
			rc = 0;
			continue;
		}
		if (rc)
			break;
		rc = visit(ctx, &s);
		e4_meta_put(fs, b.buf);
	}
	return rc;
}

struct dir_list {
	const struct e4_dir_listing *o;
	e4_dir_cb cb;
	void *ctx;
};

static int list_visit(void *ctx, const struct dir_walk_step *s)
{
	const struct dir_list *l = ctx;

	return area_emit(s->area, s->from, s->pos, s->next_pos, l->o, l->cb,
			 l->ctx);
}

/* The entries from position @pos, of blocks before @end. */
static int iterate_blocks(struct e4_fs *fs, const struct e4_inode *dir,
			  uint64_t pos, uint64_t end, enum e4_dir_mode mode,
			  const struct e4_dir_listing *o, e4_dir_cb cb, void *ctx,
			  bool *skipped)
{
	struct dir_list l = { .o = o, .cb = cb, .ctx = ctx };
	struct dir_salvage sv = { .on = mode == E4_DIR_SALVAGE,
				  .skipped_out = skipped };

	return dir_walk(fs, dir, pos, end, &sv, list_visit, &l);
}

struct dir_find {
	const struct e4_dir_name *name;
	uint32_t *ino;
	uint8_t *ftype;
};

/* 1 (stop) when the block holds the name. */
static int find_visit(void *ctx, const struct dir_walk_step *s)
{
	const struct dir_find *f = ctx;

	return area_find(s->area, f->name, f->ino, f->ftype) == 0;
}

/* A name not found where a block was skipped may be in that block: not
 * -ENOENT but the block's error, already reported. */
static int lookup_blocks(struct e4_fs *fs, const struct e4_inode *dir,
			 const struct e4_dir_name *name, enum e4_dir_mode mode,
			 uint32_t *ino, uint8_t *ftype)
{
	struct dir_find f = { .name = name, .ino = ino, .ftype = ftype };
	struct dir_salvage sv = { .on = mode == E4_DIR_SALVAGE };
	int rc = dir_walk(fs, dir, 0, UINT64_MAX, &sv, find_visit, &f);

	if (rc == 1)
		return 0;
	if (rc)
		return rc;
	return sv.skipped ? -EUCLEAN : -ENOENT;
}

struct dir_slot_find {
	const struct e4_dir_name *name;
	struct e4_dir_slot *slot;
};

/* 1 (stop) when the block holds the name: where, and the entry before. */
static int slot_visit(void *ctx, const struct dir_walk_step *s)
{
	const struct dir_slot_find *f = ctx;
	const struct dir_area *a = s->area;
	uint32_t prev = UINT32_MAX;
	struct raw_dirent e;

	for (uint32_t off = a->start; area_entry(a, off, &e);
	     prev = off, off += e.rec_len) {
		if (!e.ino || !e4_dir_name_match(f->name, e.name, e.name_len))
			continue;
		*f->slot = (struct e4_dir_slot){
			.lblk = s->pos / a->fs->block_size, .off = off,
			.prev = prev, .ino = e.ino, .ftype = e.ftype,
		};
		return 1;
	}
	return 0;
}

static int find_slot_inline(struct e4_fs *fs, const struct e4_inode *dir,
			    struct dir_slot_find *f);

int e4_dir_find_slot(struct e4_fs *fs, const struct e4_inode *dir,
		     const char *name, size_t len, struct e4_dir_slot *slot)
{
	struct e4_dir_name n;
	struct dir_slot_find f = { &n, slot };
	int rc;

	e4_dir_name_init(fs, dir, name, len, &n);
	if (dir_is_inline(dir))
		return find_slot_inline(fs, dir, &f);
	rc = dir_walk(fs, dir, 0, UINT64_MAX, NULL, slot_visit, &f);
	if (rc == 1)
		return 0;
	return rc ? rc : -ENOENT;
}

int e4_dir_leaf_find(struct e4_fs *fs, const struct e4_inode *dir,
		     uint64_t lblk, const struct e4_dir_name *name,
		     uint32_t *ino, uint8_t *ftype)
{
	struct dir_map map = { .valid = false };
	struct dir_block b;
	uint64_t nblocks;
	int rc = e4_dir_nblocks(fs, dir, &nblocks);

	if (rc)
		return rc;
	if (lblk == 0 || lblk >= nblocks)
		return -EAGAIN;	/* the index is wrong, not the leaf */
	rc = dir_block_load(fs, dir, lblk, nblocks, &map, &b, NULL);
	if (rc)
		return rc;
	/* Without metadata_csum an emptied leaf looks exactly like an index
	 * node and simply holds no entries; with it, a leaf cannot. */
	if (b.kind != DIR_BLOCK_LEAF && fs->metadata_csum)
		rc = -EAGAIN;
	else
		rc = area_find(&b.area, name, ino, ftype);
	e4_meta_put(fs, b.buf);
	return rc;
}

/* ---- inline directories -------------------------------------------------- */

struct inline_dir {
	uint32_t parent;
	struct dir_area head;	/* i_block bytes 4..59 */
	struct dir_area tail;	/* system.data value, may be empty */
	uint8_t *value;
};

static void inline_dir_release(struct inline_dir *id)
{
	free(id->value);
	id->value = NULL;
}

/* Load and verify both entry areas (§8.3, ID2). */
static int inline_dir_load(struct e4_fs *fs, const struct e4_inode *dir,
			   struct inline_dir *id)
{
	size_t total, value_len;
	int rc;

	*id = (struct inline_dir){ .value = NULL };
	id->head = (struct dir_area){
		.fs = fs, .ino = dir->ino, .data = dir->i_block,
		.size = E4_I_BLOCK_SIZE, .start = E4_INLINE_DATA_DOTDOT_SIZE,
		.end = E4_I_BLOCK_SIZE, .is_inline = true,
	};
	id->head.ciphertext = e4_inode_is_encrypted(fs, dir);
	id->tail = id->head;
	id->tail.start = id->tail.end = 0;
	id->tail.inline_base = E4_I_BLOCK_SIZE;

	id->parent = e4_le32(dir->i_block, E4_I_BLOCK_SIZE, 0);
	if (id->parent == 0 || id->parent > fs->inodes_count)
		return area_corrupt(&id->head, E4_RULE_ID2,
				    "parent inode %u out of range",
				    id->parent);
	rc = e4_inline_size(fs, dir, &total);
	if (rc < 0)
		return rc;
	if (total < E4_I_BLOCK_SIZE)
		return area_corrupt(&id->head, E4_RULE_ID2,
				    "inline size %zu below %u",
				    total, E4_I_BLOCK_SIZE);
	value_len = total - E4_I_BLOCK_SIZE;
	if (value_len > 0) {
		ssize_t got;

		if (value_len > UINT32_MAX / 2)
			return area_corrupt(&id->head, E4_RULE_ID2,
					    "system.data value of "
					    "%zu bytes", value_len);
		id->value = malloc(value_len);
		if (!id->value)
			return -ENOMEM;
		got = e4_inline_read(fs, dir, E4_I_BLOCK_SIZE, id->value,
				     value_len);
		if (got < 0) {
			inline_dir_release(id);
			return (int)got;
		}
		if ((size_t)got != value_len) {
			inline_dir_release(id);
			return area_corrupt(&id->head, E4_RULE_ID2,
					    "i_size %llu does not "
					    "cover the %zu-byte system.data "
					    "area",
					    (unsigned long long)dir->size,
					    value_len);
		}
		id->tail.data = id->value;
		id->tail.size = value_len;
		id->tail.end = (uint32_t)value_len;
	}
	rc = area_verify(&id->head);
	if (!rc)
		rc = area_verify(&id->tail);
	if (rc)
		inline_dir_release(id);
	return rc;
}

/* Synthesised "." and ".." of an inline directory (positions 0 and 1). */
static int inline_emit_dot(struct e4_fs *fs, const struct e4_dir_listing *o,
			   uint32_t ino, bool dotdot, e4_dir_cb cb, void *ctx)
{
	struct e4_dirent d = {
		.ino = ino,
		.ftype = has_filetype(fs) ? E4_FT_DIR : E4_FT_UNKNOWN,
		.name_len = dotdot ? 2 : 1,
		.next_pos = dotdot ? E4_INLINE_DATA_DOTDOT_SIZE : 1,
	};

	memcpy(d.name, "..", d.name_len);
	d.name[d.name_len] = '\0';
	if (o->hashes && o->by_hash &&
	    e4_dirhash(d.name, d.name_len, o->version, fs->hash_seed, &d.hash,
		       &d.minor_hash))
		d.hash = d.minor_hash = 0;
	return cb(ctx, &d);
}

static int iterate_inline(struct e4_fs *fs, const struct e4_inode *dir,
			  uint64_t pos, const struct e4_dir_listing *o,
			  e4_dir_cb cb, void *ctx)
{
	uint64_t end_pos;
	struct inline_dir id;
	int rc = inline_dir_load(fs, dir, &id);

	if (rc)
		return rc;
	end_pos = (uint64_t)E4_I_BLOCK_SIZE + id.tail.end;
	if (pos == 0)
		rc = inline_emit_dot(fs, o, dir->ino, false, cb, ctx);
	if (!rc && pos <= 1)
		rc = inline_emit_dot(fs, o, id.parent, true, cb, ctx);
	if (!rc && pos < E4_I_BLOCK_SIZE)
		rc = area_emit(&id.head, (uint32_t)pos, 0, E4_I_BLOCK_SIZE,
			       o, cb, ctx);
	if (!rc && pos < end_pos)
		rc = area_emit(&id.tail,
			       pos > E4_I_BLOCK_SIZE ?
				       (uint32_t)(pos - E4_I_BLOCK_SIZE) :
				       0,
			       E4_I_BLOCK_SIZE, end_pos, o, cb, ctx);
	inline_dir_release(&id);
	return rc;
}

static int lookup_inline(struct e4_fs *fs, const struct e4_inode *dir,
			 const struct e4_dir_name *name, uint32_t *ino,
			 uint8_t *ftype)
{
	struct inline_dir id;
	int rc = inline_dir_load(fs, dir, &id);

	if (rc)
		return rc;
	rc = area_find(&id.head, name, ino, ftype);
	if (rc == -ENOENT)
		rc = area_find(&id.tail, name, ino, ftype);
	inline_dir_release(&id);
	return rc;
}

/*
 * Where a name is in an inline directory: offsets into the inline bytes
 * (i_block, then the system.data value at 60), the entry before it in the
 * same area; ".." is the parent field at offset 0.
 */
static int find_slot_inline(struct e4_fs *fs, const struct e4_inode *dir,
			    struct dir_slot_find *f)
{
	struct dir_walk_step head, tail;
	struct inline_dir id;
	int rc = inline_dir_load(fs, dir, &id);

	if (rc)
		return rc;
	if (f->name->len == 2 && !memcmp(f->name->name, "..", 2)) {
		*f->slot = (struct e4_dir_slot){
			.off = 0, .prev = UINT32_MAX, .ino = id.parent,
			.ftype = has_filetype(fs) ? E4_FT_DIR : E4_FT_UNKNOWN,
		};
		inline_dir_release(&id);
		return 0;
	}
	head = (struct dir_walk_step){ .area = &id.head };
	tail = (struct dir_walk_step){ .area = &id.tail };
	rc = slot_visit(f, &head);
	if (!rc) {
		rc = slot_visit(f, &tail);
		if (rc == 1) {	/* the value's offsets follow i_block's */
			f->slot->off += E4_I_BLOCK_SIZE;
			if (f->slot->prev != UINT32_MAX)
				f->slot->prev += E4_I_BLOCK_SIZE;
		}
	}
	inline_dir_release(&id);
	return rc == 1 ? 0 : -ENOENT;
}

/* ---- public ------------------------------------------------------------- */

/* The effective hash version of @dir's entries (§7.7.1): its index root's,
 * or the file system's default. */
static unsigned dir_hash_version(struct e4_fs *fs, const struct e4_inode *dir)
{
	unsigned v = fs->def_hash_version;
	struct e4_buf *buf;

	if (dir_is_indexed(fs, dir) && e4_dir_block_get(fs, dir, 0, &buf) == 0) {
		v = e4_u8(buf->data, buf->size, E4_DX_ROOT_HASH_VERSION);
		e4_meta_put(fs, buf);
	}
	if (v <= E4_HASH_TEA && fs->hash_unsigned)
		v += E4_HASH_LEGACY_UNSIGNED;
	return v;
}

bool e4_dir_lists_by_hash(struct e4_fs *fs, const struct e4_inode *dir)
{
	uint64_t nblocks = 0;

	/* an index, or a directory an index would have (inline, one
	 * block): the kernel lists them all by hash */
	return (fs->feature_compat & E4_COMPAT_DIR_INDEX) &&
	       (dir_is_indexed(fs, dir) || dir_is_inline(dir) ||
		(e4_dir_nblocks(fs, dir, &nblocks) == 0 && nblocks == 1));
}

static void list_opts_init(struct e4_fs *fs, const struct e4_inode *dir,
			   bool hashes, struct e4_dir_listing *o)
{
	*o = (struct e4_dir_listing){ .dir = dir, .hashes = hashes,
				 .nokey = e4_inode_is_encrypted(fs, dir) };
	/* the hash: for the no-key names, and to list by it */
	if (!o->nokey && !hashes)
		return;
	o->stored = o->nokey && e4_dir_is_casefold(fs, dir);
	o->by_hash = e4_dir_lists_by_hash(fs, dir);
	if (o->by_hash)
		o->version = dir_hash_version(fs, dir);
}

int e4_dir_iterate_mode(struct e4_fs *fs, const struct e4_inode *dir,
			uint64_t pos, enum e4_dir_mode mode, e4_dir_cb cb,
			void *ctx, bool *skipped)
{
	struct e4_dir_listing o;

	if (!e4_inode_is_dir(dir))
		return -ENOTDIR;
	list_opts_init(fs, dir, false, &o);
	if (dir_is_inline(dir))
		return iterate_inline(fs, dir, pos, &o, cb, ctx);
	return iterate_blocks(fs, dir, pos, UINT64_MAX, mode, &o, cb, ctx,
			      skipped);
}

void e4_dir_listing_init(struct e4_fs *fs, const struct e4_inode *dir,
			 struct e4_dir_listing *l)
{
	list_opts_init(fs, dir, true, l);
}

int e4_dir_block_list(struct e4_fs *fs, const struct e4_dir_listing *l,
		      uint64_t lblk, enum e4_dir_mode mode, e4_dir_cb cb,
		      void *ctx, bool *skipped)
{
	if (!e4_inode_is_dir(l->dir))
		return -ENOTDIR;
	if (dir_is_inline(l->dir))
		return iterate_inline(fs, l->dir, 0, l, cb, ctx);
	if (lblk >= UINT64_MAX / fs->block_size)
		return -EINVAL;
	return iterate_blocks(fs, l->dir, lblk * fs->block_size, lblk + 1,
			      mode, l, cb, ctx, skipped);
}

int e4_dir_iterate(struct e4_fs *fs, const struct e4_inode *dir, uint64_t pos,
		   e4_dir_cb cb, void *ctx)
{
	return e4_dir_iterate_mode(fs, dir, pos, E4_DIR_STRICT, cb, ctx, NULL);
}

struct dots_lookup {
	bool dotdot;
	unsigned seen;
	uint32_t ino;
	uint8_t ftype;
};

/* "." and ".." are the first two entries of every walk; the htree does not
 * index them. */
static int dots_cb(void *ctx, const struct e4_dirent *d)
{
	struct dots_lookup *l = ctx;

	if (l->seen++ == (l->dotdot ? 1u : 0u)) {
		l->ino = d->ino;
		l->ftype = d->ftype;
		return 1;
	}
	return 0;
}

int e4_dir_lookup_mode(struct e4_fs *fs, const struct e4_inode *dir,
		       const char *name, size_t name_len, enum e4_dir_mode mode,
		       uint32_t *ino, uint8_t *ftype)
{
	struct e4_dir_name n;
	uint64_t nblocks;
	int rc;

	if (!e4_inode_is_dir(dir))
		return -ENOTDIR;
	if (name_len > E4_NAME_MAX)
		return -ENAMETOOLONG;
	if (name_len == 0 || memchr(name, '/', name_len) ||
	    memchr(name, '\0', name_len))
		return -ENOENT;

	if ((name_len == 1 && name[0] == '.') ||
	    (name_len == 2 && name[0] == '.' && name[1] == '.')) {
		struct dots_lookup l = { .dotdot = name_len == 2 };

		/* block 0 alone, whatever the mode: never a name from a later
		 * block taken for "." or ".." */
		rc = e4_dir_iterate(fs, dir, 0, dots_cb, &l);
		if (rc < 0)
			return rc;
		if (rc == 0)	/* verified block 0 always has both */
			return -ENOENT;
		*ino = l.ino;
		if (ftype)
			*ftype = l.ftype;
		return 0;
	}

	e4_dir_name_init(fs, dir, name, name_len, &n);
	if (dir_is_inline(dir))
		return lookup_inline(fs, dir, &n, ino, ftype);
	/* a bad size fails the directory, in either walk: reported once */
	rc = e4_dir_nblocks(fs, dir, &nblocks);
	if (rc)
		return rc;
	if (dir_is_indexed(fs, dir)) {
		rc = e4_htree_lookup(fs, dir, &n, ino, ftype);
		/* salvage: a damaged index block or leaf on the name's path
		 * leaves the linear walk, which skips it */
		if (rc != -EAGAIN && !(mode == E4_DIR_SALVAGE &&
				       dir_block_skippable(rc)))
			return rc;
	}
	return lookup_blocks(fs, dir, &n, mode, ino, ftype);
}

int e4_dir_lookup(struct e4_fs *fs, const struct e4_inode *dir,
		  const char *name, size_t name_len, uint32_t *ino,
		  uint8_t *ftype)
{
	return e4_dir_lookup_mode(fs, dir, name, name_len, E4_DIR_STRICT, ino,
				  ftype);
}

/* ---- the writer's side: entries and empty leaves (src/fs/dir_write.c) ---- */

uint16_t e4_rec_len_encode(uint32_t len, uint32_t block_size)
{
	if (len < 65536)
		return (uint16_t)len;
	/* 64 KiB blocks: a whole-block entry cannot be stored as is */
	return len == block_size ? 0xFFFF :
	       (uint16_t)((len & 0xFFFC) | ((len >> 16) & 3));
}

uint32_t e4_dir_leaf_end(const struct e4_fs *fs)
{
	return fs->metadata_csum ? fs->block_size - E4_DIR_TAIL_SIZE :
				   fs->block_size;
}

void e4_dirent_get(const struct e4_fs *fs, const uint8_t *blk, uint32_t off,
		   struct e4_dirent_rec *e)
{
	size_t size = fs->block_size;

	e->ino = e4_le32(blk, size, off + E4_DIRENT_INODE);
	e->rec_len = e4_rec_len_decode(e4_le16(blk, size, off + E4_DIRENT_REC_LEN),
				       fs->block_size);
	e->name_len = e4_u8(blk, size, off + E4_DIRENT_NAME_LEN);
	e->ftype = has_filetype(fs) ?
		   e4_u8(blk, size, off + E4_DIRENT_FILE_TYPE) : 0;
	e->name = (const char *)blk + off + E4_DIRENT_HEADER;
}

void e4_dirent_put(const struct e4_fs *fs, uint8_t *blk, uint32_t off,
		   uint32_t ino, uint32_t rec_len, const char *name,
		   uint8_t name_len, uint8_t ftype)
{
	size_t size = fs->block_size;

	e4_put_le32(blk, size, off + E4_DIRENT_INODE, ino);
	e4_put_le16(blk, size, off + E4_DIRENT_REC_LEN,
		    e4_rec_len_encode(rec_len, fs->block_size));
	blk[off + E4_DIRENT_NAME_LEN] = name_len;
	/* without the filetype feature the byte is the name length's high
	 * half, always 0 for names of at most 255 bytes */
	blk[off + E4_DIRENT_FILE_TYPE] = has_filetype(fs) ? ftype : 0;
	if (name_len)
		e4_copy_in(blk, size, off + E4_DIRENT_HEADER, name, name_len);
}

/* Rewrite only the rec_len of the entry at @off. */
void e4_dirent_set_rec_len(const struct e4_fs *fs, uint8_t *blk, uint32_t off,
			   uint32_t rec_len)
{
	e4_put_le16(blk, fs->block_size, off + E4_DIRENT_REC_LEN,
		    e4_rec_len_encode(rec_len, fs->block_size));
}

void e4_dir_leaf_init(const struct e4_fs *fs, uint8_t *blk)
{
	uint32_t end = e4_dir_leaf_end(fs);

	memset(blk, 0, fs->block_size);
	e4_dirent_put(fs, blk, 0, 0, end, NULL, 0, 0);
	if (fs->metadata_csum) {
		/* §7.5: the tail, a fake entry; the row's setter fills in
		 * its checksum */
		e4_put_le16(blk, fs->block_size, end + 4, E4_DIR_TAIL_SIZE);
		blk[end + 7] = E4_DIR_TAIL_FT;
	}
}
