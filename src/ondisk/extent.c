/* SPDX-License-Identifier: MIT */
/*
 * Extent trees (spec §5): lookup of one logical block, validating every node
 * on the way down (EX1-EX8).
 *
 * The root lives in i_block and is checked on every lookup (it is at most
 * four entries).  Tree blocks come from the metadata cache; their
 * self-contained checks (header, tail checksum, entry order, lengths,
 * physical ranges) are the extent-block verifier row, run once per cached
 * buffer (e4_meta_get_verified).  What depends on the path taken to reach a block
 * (its expected depth, the key range its parent gives it) is checked on
 * every visit, which is cheap.
 */
#include <string.h>

#include "ondisk/ondisk.h"

/* Logical blocks are 0 .. 2^32 - 2: a tree covers [0, E4_EXT_LBLK_END). */
#define E4_EXT_LBLK_END 0xFFFFFFFFull

/* One node of the tree as it is being looked at. */
struct ext_node {
	const uint8_t *p;
	size_t size;		/* bytes of p available */
	uint64_t blk;		/* tree block number; 0 for the root */
	uint16_t entries, max, depth;
};


/* The node as reports name it. */
static struct e4_object node_obj(uint32_t ino, const struct ext_node *n)
{
	return e4_obj_extent(ino, n->blk);
}

static size_t entry_off(unsigned i)
{
	return E4_EXT_NODE_SIZE + (size_t)i * E4_EXT_NODE_SIZE;
}

/* ---- entries, both ways (the tree writer, src/fs/extent_tree.c, uses
 * the same encoders) ------------------------------------------------------- */

uint32_t e4_ext_key(const uint8_t *node, size_t size, unsigned i)
{
	return e4_le32(node, size, entry_off(i) + E4_EE_BLOCK);
}

uint64_t e4_ext_index_child(const uint8_t *node, size_t size, unsigned i)
{
	size_t off = entry_off(i);

	return (uint64_t)e4_le32(node, size, off + E4_EI_LEAF_LO) |
	       ((uint64_t)e4_le16(node, size, off + E4_EI_LEAF_HI) << 32);
}

void e4_ext_index_put(uint8_t *node, size_t size, unsigned i, uint32_t key,
		      uint64_t child)
{
	size_t off = entry_off(i);

	e4_put_le32(node, size, off + E4_EI_BLOCK, key);
	e4_put_le32(node, size, off + E4_EI_LEAF_LO, (uint32_t)child);
	e4_put_le16(node, size, off + E4_EI_LEAF_HI, (uint16_t)(child >> 32));
	e4_put_le16(node, size, off + E4_EI_UNUSED, 0);
}

void e4_ext_leaf_get(const uint8_t *node, size_t size, unsigned i,
		     struct e4_extent *out)
{
	size_t off = entry_off(i);
	uint16_t raw_len = e4_le16(node, size, off + E4_EE_LEN);

	out->lblk = e4_le32(node, size, off + E4_EE_BLOCK);
	out->unwritten = raw_len > E4_EXT_INIT_MAX_LEN;
	out->len = out->unwritten ? raw_len - E4_EXT_UNWRITTEN_FLAG : raw_len;
	out->pblk = (uint64_t)e4_le32(node, size, off + E4_EE_START_LO) |
		    ((uint64_t)e4_le16(node, size, off + E4_EE_START_HI) << 32);
}

void e4_ext_leaf_put(uint8_t *node, size_t size, unsigned i,
		     const struct e4_extent *e)
{
	size_t off = entry_off(i);

	e4_put_le32(node, size, off + E4_EE_BLOCK, e->lblk);
	e4_put_le16(node, size, off + E4_EE_LEN,
		    (uint16_t)(e->unwritten ? e->len + E4_EXT_UNWRITTEN_FLAG :
					      e->len));
	e4_put_le16(node, size, off + E4_EE_START_HI, (uint16_t)(e->pblk >> 32));
	e4_put_le32(node, size, off + E4_EE_START_LO, (uint32_t)e->pblk);
}

void e4_ext_header_get(const uint8_t *node, size_t size,
		       struct e4_ext_header *h)
{
	h->entries = e4_le16(node, size, E4_EH_ENTRIES);
	h->max = e4_le16(node, size, E4_EH_MAX);
	h->depth = e4_le16(node, size, E4_EH_DEPTH);
}

void e4_ext_header_put(uint8_t *node, size_t size,
		       const struct e4_ext_header *h)
{
	e4_put_le16(node, size, E4_EH_MAGIC, E4_EXT_MAGIC);
	e4_put_le16(node, size, E4_EH_ENTRIES, h->entries);
	e4_put_le16(node, size, E4_EH_MAX, h->max);
	e4_put_le16(node, size, E4_EH_DEPTH, h->depth);
}

/* Move entries [from, from+n) to [to, to+n) inside one node. */
void e4_ext_move(uint8_t *node, size_t size, unsigned to, unsigned from,
		 unsigned n)
{
	if (n && e4_in_bounds(size, entry_off(to), (size_t)n * E4_EXT_NODE_SIZE) &&
	    e4_in_bounds(size, entry_off(from), (size_t)n * E4_EXT_NODE_SIZE))
		memmove(node + entry_off(to), node + entry_off(from),
			(size_t)n * E4_EXT_NODE_SIZE);
}

unsigned e4_ext_block_capacity(const struct e4_fs *fs)
{
	return (fs->block_size - E4_EXT_NODE_SIZE) / E4_EXT_NODE_SIZE;
}

static uint32_t entry_key(const struct ext_node *n, unsigned i)
{
	return e4_ext_key(n->p, n->size, i);
}

static uint64_t index_child(const struct ext_node *n, unsigned i)
{
	return e4_ext_index_child(n->p, n->size, i);
}

static void leaf_decode(const struct ext_node *n, unsigned i,
			struct e4_extent *out)
{
	e4_ext_leaf_get(n->p, n->size, i, out);
}

/*
 * EX1-EX3 for one node: magic, eh_entries <= eh_max <= capacity, depth.
 * @expected_depth is negative for the root (any depth up to 5).
 */
static int check_header(struct e4_fs *fs, uint32_t ino, struct ext_node *n,
			unsigned capacity, int expected_depth)
{
	uint16_t magic = e4_le16(n->p, n->size, E4_EH_MAGIC);

	n->entries = e4_le16(n->p, n->size, E4_EH_ENTRIES);
	n->max = e4_le16(n->p, n->size, E4_EH_MAX);
	n->depth = e4_le16(n->p, n->size, E4_EH_DEPTH);

	if (magic != E4_EXT_MAGIC)
		return e4_corrupt(fs, E4_RULE_EX1, node_obj(ino, n),
				  "bad magic 0x%04x", magic);
	if (n->max > capacity)
		return e4_corrupt(fs, E4_RULE_EX2, node_obj(ino, n),
				  "eh_max %u > capacity %u", n->max, capacity);
	if (n->entries > n->max)
		return e4_corrupt(fs, E4_RULE_EX2, node_obj(ino, n),
				  "eh_entries %u > eh_max %u", n->entries,
				  n->max);
	if (expected_depth < 0) {
		if (n->depth > E4_EXT_MAX_DEPTH)
			return e4_corrupt(fs, E4_RULE_EX3, node_obj(ino, n),
					  "eh_depth %u > %u", n->depth,
					  E4_EXT_MAX_DEPTH);
	} else if (n->depth != (unsigned)expected_depth) {
		return e4_corrupt(fs, E4_RULE_EX3, node_obj(ino, n),
				  "eh_depth %u, parent expects %d",
				  n->depth, expected_depth);
	}
	return 0;
}

/* §5.5: crc32c(inode seed, block[0 .. 12 + 12 * eh_max)), kept right
 * after the entry array. */
static size_t tail_off(const struct ext_node *n)
{
	return entry_off(n->max);
}

static uint32_t tail_csum(const struct e4_fs *fs, const struct e4_owner *o,
			  const struct ext_node *n)
{
	return e4_crc32c(e4_inode_csum_seed(fs, o->ino, o->gen), n->p,
			 tail_off(n));
}

static int check_tail_csum(struct e4_fs *fs, const struct e4_owner *o,
			   const struct ext_node *n)
{
	size_t tail = tail_off(n);
	uint32_t want, got;

	if (!fs->metadata_csum)
		return 0;
	if (!e4_in_bounds(n->size, tail, E4_EXT_TAIL_SIZE))
		return e4_corrupt(fs, E4_RULE_EX7, node_obj(o->ino, n),
				  "no room for the checksum tail (eh_max %u)",
				  n->max);
	want = e4_le32(n->p, n->size, tail);
	got = tail_csum(fs, o, n);
	if (want != got)
		return e4_csum_mismatch(fs, E4_RULE_EX7, node_obj(o->ino, n),
					want, got);
	return 0;
}

/* EX4, EX7 (bounds) for index entries: keys strictly increasing, inside the
 * addressable range; children inside the file system. */
static int check_index_entries(struct e4_fs *fs, uint32_t ino,
			       const struct ext_node *n)
{
	bool has_64bit = fs->feature_incompat & E4_INCOMPAT_64BIT;

	for (unsigned i = 0; i < n->entries; i++) {
		uint32_t key = entry_key(n, i);
		uint64_t child = index_child(n, i);

		if (key >= E4_EXT_LBLK_END)
			return e4_corrupt(fs, E4_RULE_EX4, node_obj(ino, n),
					  "index %u: logical block %u beyond the last addressable block",
					  i, key);
		if (i > 0 && key <= entry_key(n, i - 1))
			return e4_corrupt(fs, E4_RULE_EX4, node_obj(ino, n),
					  "index %u: key %u not above previous key %u (unsorted)",
					  i, key, entry_key(n, i - 1));
		if ((child >> 32) && !has_64bit)
			return e4_corrupt(fs, E4_RULE_EX7, node_obj(ino, n),
					  "index %u: child block %llu above 2^32 without 64bit",
					  i, (unsigned long long)child);
		if (!e4_blocks_valid(fs, child, 1))
			return e4_corrupt(fs, E4_RULE_EX7, node_obj(ino, n),
					  "index %u: child block %llu outside the file system",
					  i, (unsigned long long)child);
	}
	return 0;
}

/* EX4-EX6 for leaf entries: non-zero lengths, sorted and non-overlapping,
 * logical end within 2^32 - 1, physical range inside the file system. */
static int check_leaf_entries(struct e4_fs *fs, uint32_t ino,
			      const struct ext_node *n)
{
	bool has_64bit = fs->feature_incompat & E4_INCOMPAT_64BIT;
	uint64_t prev_end = 0;

	for (unsigned i = 0; i < n->entries; i++) {
		struct e4_extent e;
		uint64_t end;

		leaf_decode(n, i, &e);
		if (e.len == 0)
			return e4_corrupt(fs, E4_RULE_EX5, node_obj(ino, n),
					  "extent %u: length 0", i);
		end = (uint64_t)e.lblk + e.len;
		if (end > E4_EXT_LBLK_END)
			return e4_corrupt(fs, E4_RULE_EX4, node_obj(ino, n),
					  "extent %u: logical blocks %u+%u beyond 2^32-1",
					  i, e.lblk, e.len);
		if (i > 0 && e.lblk < prev_end) {
			if (e.lblk <= entry_key(n, i - 1))
				return e4_corrupt(fs, E4_RULE_EX4, node_obj(ino, n),
						  "extent %u: logical block %u not above previous %u (unsorted)",
						  i, e.lblk, entry_key(n, i - 1));
			return e4_corrupt(fs, E4_RULE_EX4, node_obj(ino, n),
					  "extent %u: logical block %u overlaps previous extent ending at %llu",
					  i, e.lblk, (unsigned long long)prev_end);
		}
		if ((e.pblk >> 32) && !has_64bit)
			return e4_corrupt(fs, E4_RULE_EX6, node_obj(ino, n),
					  "extent %u: physical block %llu above 2^32 without 64bit",
					  i, (unsigned long long)e.pblk);
		if (!e4_blocks_valid(fs, e.pblk, e.len))
			return e4_corrupt(fs, E4_RULE_EX6, node_obj(ino, n),
					  "extent %u: physical blocks %llu+%u outside the file system",
					  i, (unsigned long long)e.pblk, e.len);
		prev_end = end;
	}
	return 0;
}

static int check_entries(struct e4_fs *fs, uint32_t ino,
			 const struct ext_node *n)
{
	return n->depth > 0 ? check_index_entries(fs, ino, n)
			    : check_leaf_entries(fs, ino, n);
}

/* ---- the verifier row of extent tree blocks --------------------------- */

static unsigned block_capacity(const struct e4_fs *fs)
{
	return e4_ext_block_capacity(fs);
}

static struct ext_node block_node(const struct e4_buf *buf)
{
	struct ext_node n = { .p = buf->data, .size = buf->size,
			      .blk = buf->blk };
	return n;
}

/* What a tree block is by itself (header, entries); what its place in the
 * tree demands (depth, key range) is checked by the walk. */
static int extent_verify_write(struct e4_fs *fs, const struct e4_buf *buf,
			       const struct e4_owner *owner)
{
	struct ext_node n = block_node(buf);
	int ret = check_header(fs, owner->ino, &n, block_capacity(fs), -1);

	return ret ? ret : check_entries(fs, owner->ino, &n);
}

/* EX1-EX3, the tail checksum (EX7), then the entries. */
static int extent_verify_read(struct e4_fs *fs, const struct e4_buf *buf,
			      const struct e4_owner *owner)
{
	struct ext_node n = block_node(buf);
	int ret = check_header(fs, owner->ino, &n, block_capacity(fs), -1);

	if (!ret)
		ret = check_tail_csum(fs, owner, &n);
	return ret ? ret : check_entries(fs, owner->ino, &n);
}

static void extent_csum_set(struct e4_fs *fs, struct e4_buf *buf,
			    const struct e4_owner *owner)
{
	struct ext_node n = block_node(buf);

	n.max = e4_le16(n.p, n.size, E4_EH_MAX);
	if (fs->metadata_csum &&
	    e4_in_bounds(n.size, tail_off(&n), E4_EXT_TAIL_SIZE))
		e4_put_le32(buf->data, buf->size, tail_off(&n),
			    tail_csum(fs, owner, &n));
}

const struct e4_buf_ops e4_bops_extent = {
	.name = "extent block", .kind = E4_BUF_EXTENT,
	.verify_read = extent_verify_read, .verify_write = extent_verify_write,
	.csum_set = extent_csum_set,
};

/* EX8: a child's keys lie inside [lo, hi), the range its parent gives it. */
static int check_child_range(struct e4_fs *fs, uint32_t ino,
			     const struct ext_node *n, uint64_t lo, uint64_t hi)
{
	unsigned last;
	uint64_t last_end;

	if (n->entries == 0)
		return 0;
	last = n->entries - 1u;
	if (entry_key(n, 0) < lo)
		return e4_corrupt(fs, E4_RULE_EX8, node_obj(ino, n),
				  "first key %u below its index key %llu",
				  entry_key(n, 0), (unsigned long long)lo);
	if (n->depth > 0) {
		last_end = (uint64_t)entry_key(n, last) + 1;
	} else {
		struct e4_extent e;

		leaf_decode(n, last, &e);
		last_end = (uint64_t)e.lblk + e.len;
	}
	if (last_end > hi)
		return e4_corrupt(fs, E4_RULE_EX8, node_obj(ino, n),
				  "entries reach logical block %llu, past the next index key %llu",
				  (unsigned long long)(last_end - 1),
				  (unsigned long long)hi);
	return 0;
}

/* Index of the last entry whose key is <= lblk, or -1 if there is none.
 * Keys were validated as sorted. */
static int find_last_le(const struct ext_node *n, uint64_t lblk)
{
	int lo = 0, hi = (int)n->entries - 1, found = -1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (entry_key(n, (unsigned)mid) <= lblk) {
			found = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return found;
}

static void set_hole(struct e4_mapping *out, uint64_t lblk, uint64_t end)
{
	out->lblk = lblk;
	out->len = end - lblk;
	out->pblk = 0;
	out->kind = E4_MAP_HOLE;
}

/* Map @lblk inside leaf @n whose keys lie in [.., hi).  Physically and
 * logically contiguous extents of the same kind are merged into one run. */
static void leaf_lookup(const struct ext_node *n, uint64_t lblk, uint64_t hi,
			struct e4_mapping *out)
{
	int i = find_last_le(n, lblk);
	struct e4_extent e, next;
	uint64_t end;

	if (i < 0) {
		set_hole(out, lblk, n->entries ? entry_key(n, 0) : hi);
		return;
	}
	leaf_decode(n, (unsigned)i, &e);
	end = (uint64_t)e.lblk + e.len;
	if (lblk >= end) {
		set_hole(out, lblk,
			 (unsigned)i + 1u < n->entries
				 ? entry_key(n, (unsigned)i + 1u) : hi);
		return;
	}
	out->lblk = lblk;
	out->pblk = e.pblk + (lblk - e.lblk);
	out->kind = e.unwritten ? E4_MAP_UNWRITTEN : E4_MAP_MAPPED;
	for (unsigned j = (unsigned)i + 1u; j < n->entries; j++) {
		leaf_decode(n, j, &next);
		if (next.lblk != end || next.unwritten != e.unwritten ||
		    next.pblk != out->pblk + (end - lblk))
			break;
		end += next.len;
	}
	out->len = end - lblk;
}

/* Load tree block @blk as a child at @depth; validates it once per cached
 * buffer, and its depth and key range on every visit. */
static int load_child(struct e4_fs *fs, const struct e4_inode *inode,
		      uint64_t blk, unsigned depth, uint64_t lo, uint64_t hi,
		      struct e4_buf **bufp, struct ext_node *n)
{
	unsigned capacity = block_capacity(fs);
	struct e4_owner owner = e4_owner_of(inode, 0);
	struct e4_buf *buf;
	int ret;

	ret = e4_meta_get_verified(fs, blk, &e4_bops_extent, &owner, &buf);
	if (ret < 0)
		return ret;
	*n = block_node(buf);
	/* the header again, for the depth this place in the tree expects */
	ret = check_header(fs, inode->ino, n, capacity, (int)depth);
	if (ret == 0)
		ret = check_child_range(fs, inode->ino, n, lo, hi);
	if (ret < 0) {
		e4_meta_put(fs, buf);
		return ret;
	}
	*bufp = buf;
	return 0;
}

int e4_extent_map(struct e4_fs *fs, const struct e4_inode *inode,
		  uint64_t lblk, struct e4_mapping *out)
{
	struct ext_node n = { .p = inode->i_block,
			      .size = sizeof(inode->i_block) };
	/* Blocks on the current path: a child equal to one of them is a loop
	 * (the depth rule would catch it too, this names it). */
	uint64_t path[E4_EXT_MAX_DEPTH + 1];
	unsigned path_len = 0;
	struct e4_buf *buf = NULL;
	uint64_t lo = 0, hi = E4_EXT_LBLK_END;
	int ret;

	if (lblk >= E4_EXT_LBLK_END)
		return -EINVAL;
	ret = check_header(fs, inode->ino, &n, E4_EXT_ROOT_CAPACITY, -1);
	if (ret == 0)
		ret = check_entries(fs, inode->ino, &n);
	if (ret < 0)
		return ret;

	while (n.depth > 0) {
		int i = find_last_le(&n, lblk);
		uint64_t child;
		struct e4_buf *child_buf;
		struct ext_node child_node;

		if (i < 0) {
			set_hole(out, lblk, n.entries ? entry_key(&n, 0) : hi);
			goto out;
		}
		lo = entry_key(&n, (unsigned)i);
		if ((unsigned)i + 1u < n.entries)
			hi = entry_key(&n, (unsigned)i + 1u);
		child = index_child(&n, (unsigned)i);
		for (unsigned k = 0; k < path_len; k++) {
			if (path[k] == child) {
				ret = e4_corrupt(fs, E4_RULE_EX7,
						 e4_obj_extent(inode->ino, child),
						 "index loop (block already on the lookup path)");
				goto out;
			}
		}
		ret = load_child(fs, inode, child, n.depth - 1u, lo, hi,
				 &child_buf, &child_node);
		if (ret < 0)
			goto out;
		if (buf)
			e4_meta_put(fs, buf);
		buf = child_buf;
		n = child_node;
		path[path_len++] = child;
	}
	leaf_lookup(&n, lblk, hi, out);
out:
	if (buf)
		e4_meta_put(fs, buf);
	return ret;
}

/* ---- the path to a leaf, for the tree writer ------------------------------ */

int e4_ext_path_find(struct e4_fs *fs, const struct e4_inode *inode,
		     uint64_t lblk, struct e4_ext_path *path)
{
	struct ext_node n = { .p = inode->i_block,
			      .size = sizeof(inode->i_block) };
	struct e4_buf *buf = NULL;
	uint64_t lo = 0, hi = E4_EXT_LBLK_END;
	unsigned level = 0;
	int ret;

	ret = check_header(fs, inode->ino, &n, E4_EXT_ROOT_CAPACITY, -1);
	if (ret == 0)
		ret = check_entries(fs, inode->ino, &n);
	if (ret < 0)
		return ret;
	memset(path, 0, sizeof(*path));
	path->depth = n.depth;
	for (;;) {
		int i = find_last_le(&n, lblk);

		path->idx[level] = i;
		path->hi[level] = hi;
		if (n.depth == 0 || n.entries == 0)
			break;
		/* before the first key: the first child, whose first key the
		 * writer lowers when it inserts there */
		unsigned at = i < 0 ? 0u : (unsigned)i;
		uint64_t child = index_child(&n, at);
		struct e4_buf *child_buf;
		struct ext_node child_node;

		lo = entry_key(&n, at);
		if (at + 1u < n.entries)
			hi = entry_key(&n, at + 1u);
		for (unsigned k = 1; k <= level; k++) {
			if (path->blk[k] == child) {
				ret = e4_corrupt(fs, E4_RULE_EX7,
						 e4_obj_extent(inode->ino, child),
						 "index loop (block already on the path)");
				goto out;
			}
		}
		ret = load_child(fs, inode, child, n.depth - 1u, lo, hi,
				 &child_buf, &child_node);
		if (ret < 0)
			goto out;
		if (buf)
			e4_meta_put(fs, buf);
		buf = child_buf;
		n = child_node;
		path->blk[++level] = child;
	}
	if (level != path->depth)	/* an index node with no entries */
		ret = e4_corrupt(fs, E4_RULE_EX2,
				 e4_obj_extent(inode->ino, path->blk[level]),
				 "index node with no entries");
out:
	if (buf)
		e4_meta_put(fs, buf);
	return ret;
}

/* ---- walking the whole tree (the checker) ------------------------------ */

struct ext_walk {
	struct e4_fs *fs;
	const struct e4_inode *inode;
	e4_owned_cb cb;
	void *ctx;
	struct e4_block_set *seen;	/* tree blocks, each visited once */
};

/* Recursive over the tree's levels.  Each child's depth is checked to be
 * its parent's minus one and the root's is at most 5 (EX3), so @nesting
 * never exceeds E4_EXT_MAX_DEPTH; the check below is the second line. */
static int walk_node(struct ext_walk *w, const struct ext_node *n,
		     uint64_t hi, unsigned nesting)
{
	if (nesting > E4_EXT_MAX_DEPTH)
		return e4_corrupt(w->fs, E4_RULE_EX3,
				  e4_obj_inode(w->inode->ino),
				  "extent tree nested deeper than %u levels",
				  E4_EXT_MAX_DEPTH);
	for (unsigned i = 0; i < n->entries; i++) {
		int ret;

		if (n->depth == 0) {
			struct e4_extent e;
			leaf_decode(n, i, &e);
			ret = w->cb(w->ctx, e.pblk, e.len, false);
			if (ret)
				return ret;
			continue;
		}
		uint64_t lo = entry_key(n, i);
		uint64_t next_hi = i + 1u < n->entries ? entry_key(n, i + 1u) : hi;
		uint64_t child = index_child(n, i);
		struct e4_buf *buf;
		struct ext_node c;

		/* a DAG or cycle of tree blocks would multiply the work */
		ret = e4_block_set_add(w->seen, child);
		if (ret > 0)
			return e4_corrupt(w->fs, E4_RULE_EX7,
					  e4_obj_extent(w->inode->ino, child),
					  "referenced twice");
		if (ret < 0)
			return ret;
		ret = load_child(w->fs, w->inode, child, n->depth - 1u, lo,
				 next_hi, &buf, &c);
		if (ret)
			return ret;
		ret = w->cb(w->ctx, child, 1, true);
		if (!ret)
			ret = walk_node(w, &c, next_hi, nesting + 1u);
		e4_meta_put(w->fs, buf);
		if (ret)
			return ret;
	}
	return 0;
}

int e4_extent_for_each_owned(struct e4_fs *fs, const struct e4_inode *inode,
			     e4_owned_cb cb, void *ctx)
{
	struct ext_node root = { .p = inode->i_block,
				 .size = sizeof(inode->i_block) };
	struct ext_walk w = { .fs = fs, .inode = inode, .cb = cb, .ctx = ctx };
	int ret = check_header(fs, inode->ino, &root, E4_EXT_ROOT_CAPACITY, -1);

	if (ret == 0)
		ret = check_entries(fs, inode->ino, &root);
	if (ret)
		return ret;
	w.seen = e4_block_set_new();
	if (!w.seen)
		return -ENOMEM;
	ret = walk_node(&w, &root, E4_EXT_LBLK_END, 0);
	e4_block_set_free(w.seen);
	return ret;
}
