/* SPDX-License-Identifier: MIT */
/*
 * Hash-tree (htree) directory index (spec §7.6): verification of the dx root
 * and interior nodes, and lookup through them.
 *
 * The index is an accelerator: every name is also reachable by a linear
 * scan.  So a structurally broken index (DIR5/DIR6) is reported once and
 * answered with -EAGAIN, and the caller scans linearly (DIR7, as the kernel
 * does for reads).  A dx block whose checksum fails is not trusted at all:
 * -EUCLEAN.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ondisk.h"

/* Path nodes plus the leaves a continuation run may cross; a run of equal
 * hashes longer than this is absurd, and ends in a linear scan. */
#define HTREE_VISIT_MAX 64

struct dx_node {
	struct e4_buf *buf;
	uint64_t lblk;
	uint32_t entries;	/* count_offset: limit, count, block 0 */
	uint32_t count;
	uint32_t idx;		/* entry followed */
};

static uint32_t dx_count_offset(uint64_t lblk)
{
	return lblk == 0 ? E4_DX_ROOT_COUNT_OFF : E4_DX_NODE_COUNT_OFF;
}

static uint32_t dx_expected_limit(const struct e4_fs *fs, uint32_t co)
{
	return (fs->block_size - co) / E4_DX_ENTRY_SIZE -
	       (fs->metadata_csum ? 1 : 0);
}

/* Entry 0's hash slot holds limit/count; it covers hashes from 0. */
static uint32_t dx_hash(const struct e4_buf *b, uint32_t co, uint32_t i)
{
	return i ? e4_le32(b->data, b->size, co + E4_DX_ENTRY_SIZE * i) : 0;
}

static uint32_t dx_block(const struct e4_buf *b, uint32_t co, uint32_t i)
{
	return e4_le32(b->data, b->size, co + E4_DX_ENTRY_SIZE * i + 4);
}

/* A structurally broken index: reported (unless @quiet), and the caller
 * scans linearly (DIR7). */
static int dx_unusable(struct e4_fs *fs, uint32_t ino,
		       const struct e4_buf *buf, uint64_t lblk, bool quiet,
		       enum e4_rule rule, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
static int dx_unusable(struct e4_fs *fs, uint32_t ino,
		       const struct e4_buf *buf, uint64_t lblk, bool quiet,
		       enum e4_rule rule, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	if (quiet)
		return -EAGAIN;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	e4_corrupt(fs, rule, e4_obj_dx_node(ino, buf->blk, lblk),
		   "%s; using linear search", what);
	return -EAGAIN;
}

/* §12.4: crc32c(inode seed, the header and count entries, then the tail
 * with its checksum taken as zero); the tail sits right after a full-size
 * entry array (B - 8). */
static uint32_t dx_tail_off(const struct e4_fs *fs, uint32_t co)
{
	return co + E4_DX_ENTRY_SIZE * dx_expected_limit(fs, co);
}

static uint32_t dx_csum(const struct e4_fs *fs, const struct e4_owner *o,
			const struct e4_buf *buf, uint32_t co, uint32_t count)
{
	uint8_t tail_in[8] = { 0 };
	uint32_t c = e4_crc32c(e4_inode_csum_seed(fs, o->ino, o->gen),
			       buf->data, co + E4_DX_ENTRY_SIZE * count);

	/* dt_reserved as stored (it may hold a stale leaf tail), then zeros */
	e4_copy_out(tail_in, buf->data, buf->size, dx_tail_off(fs, co), 4);
	return e4_crc32c(c, tail_in, sizeof(tail_in));
}

/* The structure of dx root (@o->pos 0) or interior node @buf, pointers
 * below @o->span; -EAGAIN (reported unless @quiet) when unusable. */
static int dx_check(struct e4_fs *fs, const struct e4_owner *o,
		    const struct e4_buf *buf, bool quiet)
{
	const uint8_t *d = buf->data;
	size_t sz = buf->size;
	uint64_t lblk = o->pos;
	uint32_t co = dx_count_offset(lblk);
	uint32_t expected = dx_expected_limit(fs, co);
	uint32_t limit = e4_le16(d, sz, co), count = e4_le16(d, sz, co + 2);
	uint32_t prev_hash = 0;

	if (lblk == 0) {
		uint8_t info_len = e4_u8(d, sz, E4_DX_ROOT_INFO_LENGTH);
		uint8_t hv = e4_u8(d, sz, E4_DX_ROOT_HASH_VERSION);
		uint8_t levels = e4_u8(d, sz, E4_DX_ROOT_LEVELS);
		unsigned max_levels = (fs->feature_incompat &
				       E4_INCOMPAT_LARGEDIR) ?
					      E4_DX_LEVELS_MAX_LARGEDIR :
					      E4_DX_LEVELS_MAX;

		if (e4_le32(d, sz, E4_DX_ROOT_INFO_OFF) != 0)
			return dx_unusable(fs, o->ino, buf, lblk, quiet,
					   E4_RULE_DIR5,
					   "reserved_zero is 0x%08x",
					   e4_le32(d, sz,
						   E4_DX_ROOT_INFO_OFF));
		if (info_len != E4_DX_ROOT_INFO_SIZE)
			return dx_unusable(fs, o->ino, buf, lblk, quiet,
					   E4_RULE_DIR5,
					   "info_length %u, expected %u",
					   info_len, E4_DX_ROOT_INFO_SIZE);
		if (hv > E4_HASH_TEA_UNSIGNED)
			return dx_unusable(fs, o->ino, buf, lblk, quiet,
					   E4_RULE_DIR5,
					   "unsupported hash_version %u", hv);
		if (levels >= max_levels)
			return dx_unusable(fs, o->ino, buf, lblk, quiet,
					   E4_RULE_DIR5,
					   "indirect_levels %u, at most %u",
					   levels, max_levels - 1);
	} else if (e4_le32(d, sz, E4_DIRENT_INODE) != 0 ||
		   e4_rec_len_decode(e4_le16(d, sz, E4_DIRENT_REC_LEN),
				     fs->block_size) != fs->block_size ||
		   e4_u8(d, sz, E4_DIRENT_NAME_LEN) != 0) {
		return dx_unusable(fs, o->ino, buf, lblk, quiet,
				   E4_RULE_DIR5,
				   "not an index block (no fake entry "
				   "covering the block)");
	}
	if (limit != expected)
		return dx_unusable(fs, o->ino, buf, lblk, quiet,
				   E4_RULE_DIR5,
				   "limit %u, expected %u", limit, expected);
	if (count == 0 || count > limit)
		return dx_unusable(fs, o->ino, buf, lblk, quiet,
				   E4_RULE_DIR5,
				   "count %u exceeds limit %u", count, limit);
	for (uint32_t i = 0; i < count; i++) {
		uint32_t h = dx_hash(buf, co, i);
		uint32_t b = dx_block(buf, co, i);

		if (b == 0 || b >= o->span)
			return dx_unusable(fs, o->ino, buf, lblk, quiet,
					   E4_RULE_DIR6,
					   "entry %u points to block %u, "
					   "directory has %llu blocks",
					   i, b, (unsigned long long)o->span);
		if (h < prev_hash)
			return dx_unusable(fs, o->ino, buf, lblk, quiet,
					   E4_RULE_DIR6,
					   "entry %u hash 0x%08x out of order",
					   i, h);
		prev_hash = h;
	}
	return 0;
}

/* With metadata_csum: 0, -EUCLEAN (a mismatch: the block is not trusted
 * at all), or -EAGAIN when the count leaves the checksummed range
 * undefined (the index is unusable). */
static int dx_csum_verify(struct e4_fs *fs, const struct e4_owner *o,
			  const struct e4_buf *buf, bool quiet)
{
	uint32_t co = dx_count_offset(o->pos);
	uint32_t count = e4_le16(buf->data, buf->size, co + 2);
	uint32_t expected = dx_expected_limit(fs, co);
	uint32_t have, want;

	if (!fs->metadata_csum)
		return 0;
	if (count > expected)
		return dx_unusable(fs, o->ino, buf, o->pos, quiet,
				   E4_RULE_DIR5, "count %u exceeds limit %u",
				   count, expected);
	have = e4_le32(buf->data, buf->size, dx_tail_off(fs, co) + 4);
	want = dx_csum(fs, o, buf, co, count);
	if (want == have)
		return 0;
	return e4_csum_mismatch(fs, E4_RULE_DIR5,
				e4_obj_dx_node(o->ino, buf->blk, o->pos),
				have, want);
}

/* The root's "." and ".." first (what a linear reader uses of the block:
 * broken, the block is not used at all, and one report says why), then
 * the checksum (-EUCLEAN), then the index's structure (-EAGAIN when
 * unusable). */
static int dx_verify(struct e4_fs *fs, const struct e4_owner *o,
		     const struct e4_buf *buf, bool quiet)
{
	int rc = o->pos == 0 ? e4_dx_root_dots_verify(fs, o->ino, buf) : 0;

	if (!rc)
		rc = dx_csum_verify(fs, o, buf, quiet);
	return rc ? rc : dx_check(fs, o, buf, quiet);
}

static int dx_verify_read(struct e4_fs *fs, const struct e4_buf *buf,
			  const struct e4_owner *owner)
{
	return dx_verify(fs, owner, buf, false);
}

static int dx_verify_write(struct e4_fs *fs, const struct e4_buf *buf,
			   const struct e4_owner *owner)
{
	return dx_check(fs, owner, buf, false);
}

static void dx_csum_set(struct e4_fs *fs, struct e4_buf *buf,
			const struct e4_owner *owner)
{
	uint32_t co = dx_count_offset(owner->pos);
	uint32_t count = e4_le16(buf->data, buf->size, co + 2);

	if (fs->metadata_csum && count <= dx_expected_limit(fs, co))
		e4_put_le32(buf->data, buf->size, dx_tail_off(fs, co) + 4,
			    dx_csum(fs, owner, buf, co, count));
}

/* Owned by (directory, logical block), with the directory's block count
 * as the reach of its pointers. */
const struct e4_buf_ops e4_bops_dx_node = {
	.name = "htree index block", .kind = E4_BUF_DX_NODE,
	.verify_read = dx_verify_read, .verify_write = dx_verify_write,
	.csum_set = dx_csum_set,
};

int e4_dx_verify(struct e4_fs *fs, const struct e4_inode *dir, uint64_t lblk,
		 struct e4_buf *buf, uint64_t nblocks, bool quiet)
{
	struct e4_owner owner = e4_owner_of(dir, lblk);
	int err;

	owner.span = nblocks;
	struct e4_memo_key key = e4_owner_key(&owner);

	if (e4_buf_memo_get(fs->cache, buf, &e4_bops_dx_node, &key, &err))
		return err;
	err = dx_verify(fs, &owner, buf, quiet);
	/* an unusable index found quietly is reported by the next lookup */
	if (!(quiet && err == -EAGAIN) && err != -ENOMEM && err != -EIO)
		e4_buf_memo_set(fs->cache, buf, &e4_bops_dx_node, &key, err);
	return err;
}

struct htree_walk {
	struct e4_fs *fs;
	const struct e4_inode *dir;
	uint64_t nblocks;
	unsigned levels;	/* indirect_levels: path[0..levels] */
	struct dx_node path[E4_DX_LEVELS_MAX_LARGEDIR];
	uint64_t visited[HTREE_VISIT_MAX];
	unsigned nvisited;
	/* a walk over the whole index (e4_htree_leaves) counts the blocks
	 * it reads instead: no more than the directory has */
	bool whole;
	uint64_t reads;
};

/* Every block at most once per lookup (rule 4). */
static int htree_visit(struct htree_walk *w, const struct e4_buf *from,
		       uint64_t from_lblk, uint64_t lblk)
{
	if (w->whole) {
		if (++w->reads <= w->nblocks)
			return 0;
		return dx_unusable(w->fs, w->dir->ino, from, from_lblk, false,
				   E4_RULE_DIR6,
				   "its index reaches more blocks than the directory has (%llu)",
				   (unsigned long long)w->nblocks);
	}
	for (unsigned i = 0; i < w->nvisited; i++)
		if (w->visited[i] == lblk)
			return dx_unusable(w->fs, w->dir->ino, from, from_lblk,
					   false, E4_RULE_DIR6,
					   "block %llu reached twice",
					   (unsigned long long)lblk);
	if (w->nvisited == HTREE_VISIT_MAX)
		return dx_unusable(w->fs, w->dir->ino, from, from_lblk, false,
				   E4_RULE_DIR6,
				   "more than %u blocks for one hash",
				   HTREE_VISIT_MAX);
	w->visited[w->nvisited++] = lblk;
	return 0;
}

/* Last entry whose stored hash is <= @hash (entry 0 always qualifies). */
static uint32_t dx_search(const struct dx_node *n, uint32_t hash)
{
	uint32_t lo = 1, hi = n->count, found = 0;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (dx_hash(n->buf, n->entries, mid) <= hash) {
			found = mid;
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return found;
}

static int htree_load(struct htree_walk *w, unsigned level, uint64_t lblk)
{
	struct dx_node *n = &w->path[level];
	int rc;

	if (level) {
		const struct dx_node *parent = &w->path[level - 1];

		rc = htree_visit(w, parent->buf, parent->lblk, lblk);
		if (rc)
			return rc;
	}
	rc = e4_dir_block_get(w->fs, w->dir, lblk, &n->buf);
	if (rc)
		return rc;
	n->lblk = lblk;
	rc = e4_dx_verify(w->fs, w->dir, lblk, n->buf, w->nblocks, false);
	if (rc) {
		e4_meta_put(w->fs, n->buf);
		n->buf = NULL;
		return rc;
	}
	n->entries = dx_count_offset(lblk);
	n->count = e4_le16(n->buf->data, n->buf->size, n->entries + 2);
	n->idx = 0;
	return 0;
}

/* From path[level] down, follow the entries for @hash to the last level. */
static int htree_descend(struct htree_walk *w, unsigned level, uint32_t hash,
			 bool first_entries)
{
	for (;;) {
		struct dx_node *n = &w->path[level];
		int rc;

		if (!first_entries)
			n->idx = dx_search(n, hash);
		if (level == w->levels)
			return 0;
		rc = htree_load(w, level + 1,
				dx_block(n->buf, n->entries, n->idx));
		if (rc)
			return rc;
		level++;
	}
}

/*
 * Step to the next leaf in hash order.  Returns 1 and the stored hash of the
 * entry stepped onto, 0 at the end of the index, or -errno.
 */
static int htree_next(struct htree_walk *w, uint32_t *stored_hash)
{
	int level = (int)w->levels;

	while (level >= 0 && w->path[level].idx + 1 >= w->path[level].count)
		level--;
	if (level < 0)
		return 0;
	struct dx_node *n = &w->path[level];

	n->idx++;
	*stored_hash = dx_hash(n->buf, n->entries, n->idx);
	for (unsigned l = (unsigned)level + 1; l <= w->levels; l++) {
		e4_meta_put(w->fs, w->path[l].buf);
		w->path[l].buf = NULL;
	}
	if ((unsigned)level < w->levels) {
		int rc = htree_load(w, (unsigned)level + 1,
				    dx_block(n->buf, n->entries, n->idx));

		if (rc)
			return rc;
		rc = htree_descend(w, (unsigned)level + 1, 0, true);
		if (rc)
			return rc;
	}
	return 1;
}

static uint32_t htree_leaf(const struct htree_walk *w)
{
	const struct dx_node *n = &w->path[w->levels];

	return dx_block(n->buf, n->entries, n->idx);
}

/* The name's hash as the directory's index orders it. */
static int htree_hash(const struct htree_walk *w,
		      const struct e4_dir_name *name, uint32_t *hash)
{
	const struct dx_node *root = &w->path[0];
	unsigned version = e4_u8(root->buf->data, root->buf->size,
				 E4_DX_ROOT_HASH_VERSION);

	/* §7.7.1: the root stores the base version; s_flags picks the
	 * unsigned-char variant. */
	if (version <= E4_HASH_TEA && w->fs->hash_unsigned)
		version += E4_HASH_LEGACY_UNSIGNED;
	return e4_dir_name_hash(w->fs, name, version, hash, NULL);
}

static int htree_search(struct htree_walk *w, const struct e4_dir_name *name,
			uint32_t *ino, uint8_t *ftype)
{
	uint32_t hash, stored;
	int rc = htree_hash(w, name, &hash);

	if (rc)
		return rc == -EINVAL ? -ENOENT : rc;

	rc = htree_descend(w, 0, hash, false);
	if (rc)
		return rc;
	for (;;) {
		const struct dx_node *n = &w->path[w->levels];
		uint32_t leaf = htree_leaf(w);

		rc = htree_visit(w, n->buf, n->lblk, leaf);
		if (rc)
			return rc;
		rc = e4_dir_leaf_find(w->fs, w->dir, leaf, name, ino, ftype);
		if (rc == -EAGAIN)
			return dx_unusable(w->fs, w->dir->ino, n->buf, n->lblk,
					   false, E4_RULE_DIR6,
					   "entry %u points to index block %u "
					   "as a leaf", n->idx, leaf);
		if (rc != -ENOENT)
			return rc;
		/* Bit 0 marks a leaf continuing the previous one's hash. */
		rc = htree_next(w, &stored);
		if (rc <= 0)
			return rc ? rc : -ENOENT;
		if ((stored & ~1u) != hash)
			return -ENOENT;
	}
}

/* Start a walk of @dir's index at its root; -EAGAIN when it has none. */
static int htree_begin(struct htree_walk *w)
{
	struct e4_fs *fs = w->fs;
	const struct e4_inode *dir = w->dir;
	int rc;

	if (!(dir->flags & E4_INDEX_FL) ||
	    !(fs->feature_compat & E4_COMPAT_DIR_INDEX) ||
	    (dir->flags & E4_INLINE_DATA_FL))
		return -EAGAIN;
	rc = e4_dir_nblocks(fs, dir, &w->nblocks);
	if (rc)
		return rc;
	w->visited[w->nvisited++] = 0;
	rc = htree_load(w, 0, 0);
	if (rc)
		return rc;
	w->levels = e4_u8(w->path[0].buf->data, w->path[0].buf->size,
			  E4_DX_ROOT_LEVELS);
	return 0;
}

static void htree_end(struct htree_walk *w)
{
	for (unsigned l = 0; l <= w->levels; l++)
		if (w->path[l].buf)
			e4_meta_put(w->fs, w->path[l].buf);
}

int e4_htree_lookup(struct e4_fs *fs, const struct e4_inode *dir,
		    const struct e4_dir_name *name, uint32_t *ino,
		    uint8_t *ftype)
{
	struct htree_walk w = { .fs = fs, .dir = dir };
	int rc = htree_begin(&w);

	if (rc)
		return rc;
	rc = htree_search(&w, name, ino, ftype);
	htree_end(&w);
	return rc;
}

int e4_htree_find_path(struct e4_fs *fs, const struct e4_inode *dir,
		       const char *name, size_t len, struct e4_dx_path *p)
{
	struct htree_walk w = { .fs = fs, .dir = dir };
	struct e4_dir_name dn;
	int rc = htree_begin(&w);

	if (rc)
		return rc;
	memset(p, 0, sizeof(*p));
	e4_dir_name_init(fs, dir, name, len, &dn);
	rc = htree_hash(&w, &dn, &p->hash);
	if (!rc)
		rc = htree_descend(&w, 0, p->hash, false);
	if (!rc) {
		p->levels = w.levels;
		p->nblocks = w.nblocks;
		p->version = e4_u8(w.path[0].buf->data, w.path[0].buf->size,
				   E4_DX_ROOT_HASH_VERSION);
		if (p->version <= E4_HASH_TEA && fs->hash_unsigned)
			p->version += E4_HASH_LEGACY_UNSIGNED;
		for (unsigned l = 0; l <= w.levels; l++) {
			const struct dx_node *n = &w.path[l];

			p->lblk[l] = n->lblk;
			p->at[l] = n->idx;
			p->count[l] = n->count;
			p->limit[l] = dx_expected_limit(fs, n->entries);
		}
		p->leaf = htree_leaf(&w);
	}
	htree_end(&w);
	return rc;
}

int e4_htree_leaves(struct e4_fs *fs, const struct e4_inode *dir,
		    uint32_t start, int (*leaf)(void *ctx, uint64_t lblk),
		    void *ctx)
{
	struct htree_walk w = { .fs = fs, .dir = dir, .whole = true };
	uint32_t stored;
	int rc = htree_begin(&w);

	if (rc)
		return rc;
	rc = htree_descend(&w, 0, start, false);
	while (!rc) {
		const struct dx_node *n = &w.path[w.levels];
		uint64_t lblk = htree_leaf(&w);

		rc = htree_visit(&w, n->buf, n->lblk, lblk);
		if (!rc && leaf)
			rc = leaf(ctx, lblk);
		if (rc)
			break;
		rc = htree_next(&w, &stored);
		if (rc == 0)
			break;	/* the last leaf */
		if (rc == 1)
			rc = 0;
	}
	htree_end(&w);
	return rc;
}

/* ---- entries, for the writer ------------------------------------------------ */

uint32_t e4_dx_count_offset(uint64_t lblk)
{
	return dx_count_offset(lblk);
}

uint32_t e4_dx_limit(const struct e4_fs *fs, uint64_t lblk)
{
	return dx_expected_limit(fs, dx_count_offset(lblk));
}

void e4_dx_entry_get(const uint8_t *blk, size_t size, uint64_t lblk,
		     uint32_t i, uint32_t *hash, uint32_t *block)
{
	uint32_t co = dx_count_offset(lblk);

	*hash = i ? e4_le32(blk, size, co + E4_DX_ENTRY_SIZE * i) : 0;
	*block = e4_le32(blk, size, co + E4_DX_ENTRY_SIZE * i + 4);
}

void e4_dx_entry_put(uint8_t *blk, size_t size, uint64_t lblk, uint32_t i,
		     uint32_t hash, uint32_t block)
{
	uint32_t co = dx_count_offset(lblk);

	if (i)	/* entry 0's hash slot is limit and count */
		e4_put_le32(blk, size, co + E4_DX_ENTRY_SIZE * i, hash);
	e4_put_le32(blk, size, co + E4_DX_ENTRY_SIZE * i + 4, block);
}

void e4_dx_set_counts(uint8_t *blk, size_t size, uint64_t lblk,
		      uint16_t limit, uint16_t count)
{
	uint32_t co = dx_count_offset(lblk);

	e4_put_le16(blk, size, co, limit);
	e4_put_le16(blk, size, co + 2, count);
}
