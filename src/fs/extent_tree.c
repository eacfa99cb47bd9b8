/* SPDX-License-Identifier: MIT */
/*
 * Changing extent trees (§5.7; see mapping.h).
 *
 * Every change starts from a fresh, validated path to the leaf
 * (e4_ext_path_find) and changes nodes one at a time: the root in the
 * in-core inode, tree blocks as private copies through the handle, which
 * verifies and checksums each before publishing it.  When a leaf is full
 * the deepest full node below one with room is split (a leaf appended to
 * gets a new leaf of its own instead, so files written in order fill
 * their leaves), or the root grows a level, and the insert starts again
 * from the top; each round makes room one level lower, so a few rounds
 * per level always suffice.
 *
 * The tree blocks a change needs are promised (e4_map_reserve) before it
 * changes anything, from the path as it is: an insert into a full leaf
 * one per full node up to the first with room, and one to grow the root
 * when all are full.  Running out of space is then an -ENOSPC that
 * changed nothing.  A change that fails after dirtying something aborts
 * the transaction (e4_handle_abort): the image keeps the last committed
 * tree.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/mapping.h"

#define LBLK_END 0xFFFFFFFFull	/* logical blocks are below 2^32 - 1 */

/* One node being changed: the root (in the inode) or a private copy. */
struct node {
	uint8_t *p;
	size_t size;
	struct e4_buf *copy;	/* NULL: the root */
	struct e4_ext_header h;
};

struct change {
	struct e4_map_change *c;
	bool dirtied;		/* something was changed: failing aborts */
	uint64_t promised;	/* clusters this change promised itself */
};

static struct e4_owner tree_owner(const struct e4_inode *inode)
{
	return e4_owner_of(inode, 0);	/* as lookups verify tree blocks */
}

static int node_open(struct change *x, const struct e4_ext_path *path,
		     unsigned level, struct node *n)
{
	struct e4_map_change *c = x->c;

	memset(n, 0, sizeof(*n));
	if (level == 0) {
		n->p = c->inode->i_block;
		n->size = sizeof(c->inode->i_block);
	} else {
		struct e4_owner o = tree_owner(c->inode);
		int err = e4_handle_get_write_access(c->h, path->blk[level],
						     &e4_bops_extent, &o,
						     &n->copy);
		if (err)
			return err;
		n->p = n->copy->data;
		n->size = n->copy->size;
	}
	e4_ext_header_get(n->p, n->size, &n->h);
	return 0;
}

/* Publish @n (its header from n->h). */
static int node_close(struct change *x, struct node *n)
{
	struct e4_buf *copy = n->copy;

	e4_ext_header_put(n->p, n->size, &n->h);
	x->dirtied = true;
	n->copy = NULL;
	return copy ? e4_handle_dirty(x->c->h, copy) : 0;
}

static void node_drop(struct change *x, struct node *n)
{
	if (n->copy)
		e4_handle_release(x->c->h, n->copy);
	n->copy = NULL;
}

static unsigned at_least_zero(int i)
{
	return i < 0 ? 0u : (unsigned)i;
}

/* A tree block, counted in i_blocks (a whole cluster on bigalloc). */
static int tree_block_alloc(struct change *x, uint64_t goal, uint64_t *blk)
{
	struct e4_map_change *c = x->c;
	struct e4_alloc_req req = {
		.ino = c->inode->ino, .goal = goal, .len = 1,
		.metadata = true, .use_reserved = c->use_reserved,
		.meta_reserve = true, .reserved = c->reserved > 0,
	};
	uint64_t count;
	int err = e4_alloc_blocks(c->alloc, c->h, &req, blk, &count);

	if (!err) {
		x->dirtied = true;
		c->inode->blocks_512 += e4_blocks_to_512(c->fs, count);
		if (req.reserved)
			c->reserved--;
	}
	return err;
}

static int tree_block_free(struct change *x, uint64_t blk)
{
	struct e4_map_change *c = x->c;
	uint64_t n = c->fs->cluster_ratio;
	uint64_t first = blk - (blk - c->fs->first_data_block) % n;
	int err;

	e4_handle_forget(c->h, blk);
	err = e4_free_blocks(c->alloc, c->h, first, n);
	x->dirtied = true;
	if (!err)
		c->inode->blocks_512 -= e4_blocks_to_512(c->fs, n);
	return err;
}

void e4_ext_tree_init(struct e4_inode *inode)
{
	struct e4_ext_header h = { 0, E4_EXT_ROOT_CAPACITY, 0 };

	memset(inode->i_block, 0, sizeof(inode->i_block));
	e4_ext_header_put(inode->i_block, sizeof(inode->i_block), &h);
	inode->flags |= E4_EXTENTS_FL;
}

/* ---- insert -------------------------------------------------------------- */

static uint32_t max_len(bool unwritten)
{
	return unwritten ? E4_EXT_UNWRITTEN_MAX_LEN : E4_EXT_INIT_MAX_LEN;
}

/* Whether @b continues @a, logically and physically, in one extent. */
static bool mergeable(const struct e4_extent *a, const struct e4_extent *b)
{
	return (uint64_t)a->lblk + a->len == b->lblk &&
	       a->pblk + a->len == b->pblk && a->unwritten == b->unwritten &&
	       (uint64_t)a->len + b->len <= max_len(a->unwritten);
}

/*
 * The first key of the node at @level is @key now (an extent inserted in
 * front, or the first one removed or cut at its start): the index entry
 * above it says so too, and so on up while that entry is its node's
 * first.  e2fsck wants each index key equal to its child's first key.
 */
static int update_first_key(struct change *x, const struct e4_ext_path *path,
			    unsigned level, uint32_t key)
{
	for (int k = (int)level - 1; k >= 0; k--) {
		unsigned at = at_least_zero(path->idx[k]);
		struct node n;
		int err = node_open(x, path, (unsigned)k, &n);

		if (err)
			return err;
		if (e4_ext_key(n.p, n.size, at) == key) {
			node_drop(x, &n);
			break;
		}
		e4_ext_index_put(n.p, n.size, at, key,
				 e4_ext_index_child(n.p, n.size, at));
		err = node_close(x, &n);
		if (err || at != 0)
			return err;
	}
	return 0;
}

static int overlap(struct change *x, const struct e4_extent *e,
		   const struct e4_extent *ext)
{
	return e4_corrupt(x->c->fs, E4_RULE_EX4, e4_obj_inode(x->c->inode->ino),
			  "mapping logical blocks %u+%u over the extent at %u+%u",
			  ext->lblk, ext->len, e->lblk, e->len);
}

/* 0 inserted, 1 the leaf is full, or -errno. */
static int insert_in_leaf(struct change *x, const struct e4_ext_path *path,
			  const struct e4_extent *ext)
{
	unsigned d = path->depth;
	int i = path->idx[d];
	struct e4_extent left = { 0 }, right = { 0 };
	bool has_left, has_right;
	struct node n;
	int err = node_open(x, path, d, &n);

	if (err)
		return err;
	has_left = i >= 0 && (unsigned)i < n.h.entries;
	has_right = (unsigned)(i + 1) < n.h.entries;
	if (has_left) {
		e4_ext_leaf_get(n.p, n.size, (unsigned)i, &left);
		if ((uint64_t)left.lblk + left.len > ext->lblk) {
			node_drop(x, &n);
			return overlap(x, &left, ext);
		}
	}
	if (has_right) {
		e4_ext_leaf_get(n.p, n.size, (unsigned)(i + 1), &right);
		if ((uint64_t)ext->lblk + ext->len > right.lblk) {
			node_drop(x, &n);
			return overlap(x, &right, ext);
		}
	}
	if (has_left && mergeable(&left, ext)) {
		left.len += ext->len;
		if (has_right && mergeable(&left, &right)) {
			left.len += right.len;
			e4_ext_move(n.p, n.size, (unsigned)i + 1u,
				    (unsigned)i + 2u,
				    n.h.entries - (unsigned)i - 2u);
			n.h.entries--;
		}
		e4_ext_leaf_put(n.p, n.size, (unsigned)i, &left);
		return node_close(x, &n);
	}
	if (has_right && mergeable(ext, &right)) {
		right.lblk = ext->lblk;
		right.pblk = ext->pblk;
		right.len += ext->len;
		e4_ext_leaf_put(n.p, n.size, (unsigned)(i + 1), &right);
		err = node_close(x, &n);
		return err || i + 1 > 0 ? err : update_first_key(x, path, d, ext->lblk);
	}
	if (n.h.entries >= n.h.max) {
		node_drop(x, &n);
		return 1;
	}
	e4_ext_move(n.p, n.size, (unsigned)(i + 2), (unsigned)(i + 1),
		    n.h.entries - (unsigned)(i + 1));
	e4_ext_leaf_put(n.p, n.size, (unsigned)(i + 1), ext);
	n.h.entries++;
	err = node_close(x, &n);
	return err || i + 1 > 0 ? err : update_first_key(x, path, d, ext->lblk);
}

/* Insert index entry (@key, @child) after the path's entry at @level. */
static int index_insert(struct change *x, const struct e4_ext_path *path,
			unsigned level, uint32_t key, uint64_t child)
{
	unsigned at = at_least_zero(path->idx[level]) + 1u;
	struct node n;
	int err = node_open(x, path, level, &n);

	if (err)
		return err;
	if (n.h.entries >= n.h.max || at > n.h.entries) {
		node_drop(x, &n);
		return -EIO;	/* the caller checked the room */
	}
	e4_ext_move(n.p, n.size, at + 1u, at, n.h.entries - at);
	e4_ext_index_put(n.p, n.size, at, key, child);
	n.h.entries++;
	return node_close(x, &n);
}

/* The root's entries move to a new block, the root indexes it: one level
 * more. */
static int grow_root(struct change *x)
{
	struct e4_map_change *c = x->c;
	uint8_t *root = c->inode->i_block;
	size_t rsize = sizeof(c->inode->i_block);
	struct e4_ext_header rh, bh;
	struct e4_owner o = tree_owner(c->inode);
	struct e4_buf *copy;
	uint64_t blk;
	int err;

	e4_ext_header_get(root, rsize, &rh);
	if (rh.depth >= E4_EXT_MAX_DEPTH)
		return -EFBIG;
	err = tree_block_alloc(x, 0, &blk);
	if (!err)
		err = e4_handle_get_create_access(c->h, blk, &e4_bops_extent,
						  &o, &copy);
	if (err)
		return err;
	bh = (struct e4_ext_header){ rh.entries,
				     (uint16_t)e4_ext_block_capacity(c->fs),
				     rh.depth };
	e4_ext_header_put(copy->data, copy->size, &bh);
	memcpy(copy->data + E4_EXT_NODE_SIZE, root + E4_EXT_NODE_SIZE,
	       (size_t)rh.entries * E4_EXT_NODE_SIZE);
	err = e4_handle_dirty(c->h, copy);
	if (err)
		return err;
	rh.depth++;
	e4_ext_index_put(root, rsize, 0,
			 rh.entries ? e4_ext_key(root, rsize, 0) : 0, blk);
	rh.entries = 1;
	e4_ext_header_put(root, rsize, &rh);
	x->dirtied = true;
	return 0;
}

/* Split full node @level (a tree block) in two, the upper half to a new
 * block indexed right after it in its parent (which has room). */
static int split(struct change *x, const struct e4_ext_path *path,
		 unsigned level)
{
	struct e4_map_change *c = x->c;
	struct e4_owner o = tree_owner(c->inode);
	struct e4_ext_header nh;
	struct e4_buf *copy;
	struct node n;
	uint8_t *moved;
	unsigned m, count;
	uint64_t blk;
	uint32_t key;
	int err;

	/* allocate first: no private copy may be held meanwhile */
	err = tree_block_alloc(x, path->blk[level] + 1, &blk);
	if (err)
		return err;
	err = node_open(x, path, level, &n);
	if (err)
		return err;
	m = n.h.entries / 2u;
	count = n.h.entries - m;
	moved = malloc((size_t)count * E4_EXT_NODE_SIZE);
	if (!moved || count == 0) {
		node_drop(x, &n);
		free(moved);
		return moved ? -EIO : -ENOMEM;
	}
	memcpy(moved, n.p + E4_EXT_NODE_SIZE * (1u + m),
	       (size_t)count * E4_EXT_NODE_SIZE);
	key = e4_ext_key(n.p, n.size, m);
	nh = (struct e4_ext_header){ (uint16_t)count, n.h.max, n.h.depth };
	n.h.entries = (uint16_t)m;
	err = node_close(x, &n);
	if (!err)
		err = e4_handle_get_create_access(c->h, blk, &e4_bops_extent,
						  &o, &copy);
	if (!err) {
		e4_ext_header_put(copy->data, copy->size, &nh);
		memcpy(copy->data + E4_EXT_NODE_SIZE, moved,
		       (size_t)count * E4_EXT_NODE_SIZE);
		err = e4_handle_dirty(c->h, copy);
	}
	free(moved);
	return err ? err : index_insert(x, path, level - 1u, key, blk);
}

/* A new leaf holding @ext alone, after the path's full leaf (whose
 * parent has room).  Files written in order fill their leaves this way. */
static int append_leaf(struct change *x, const struct e4_ext_path *path,
		       const struct e4_extent *ext)
{
	struct e4_map_change *c = x->c;
	unsigned d = path->depth;
	struct e4_owner o = tree_owner(c->inode);
	struct e4_ext_header h = { 1, (uint16_t)e4_ext_block_capacity(c->fs), 0 };
	struct e4_buf *copy;
	uint64_t blk;
	int err = tree_block_alloc(x, path->blk[d] + 1, &blk);

	if (!err)
		err = e4_handle_get_create_access(c->h, blk, &e4_bops_extent,
						  &o, &copy);
	if (err)
		return err;
	e4_ext_header_put(copy->data, copy->size, &h);
	e4_ext_leaf_put(copy->data, copy->size, 0, ext);
	err = e4_handle_dirty(c->h, copy);
	return err ? err : index_insert(x, path, d - 1u, ext->lblk, blk);
}

/* The header of the path's node at @level, as it is now. */
static int header_at(struct change *x, const struct e4_ext_path *path,
		     unsigned level, struct e4_ext_header *h)
{
	struct node n;
	int err = node_open(x, path, level, &n);

	if (!err) {
		*h = n.h;
		node_drop(x, &n);
	}
	return err;
}

/* *@k: the deepest node above the path's leaf with room, -1 if none. */
static int deepest_with_room(struct change *x, const struct e4_ext_path *path,
			     int *k)
{
	for (*k = (int)path->depth - 1; *k >= 0; (*k)--) {
		struct e4_ext_header h;
		int err = header_at(x, path, (unsigned)*k, &h);

		if (err)
			return err;
		if (h.entries < h.max)
			break;
	}
	return 0;
}

/* Have the blocks for room in the path's full leaf promised before the
 * first of them is taken: make_room's rounds take one per full node from
 * the leaf up to the first with room, or one per level and the root
 * grown when all are full. */
static int promise_room(struct change *x, const struct e4_ext_path *path)
{
	uint64_t added;
	int k, err = deepest_with_room(x, path, &k);

	if (!err)
		err = e4_map_reserve(x->c, k < 0 ? path->depth + 1u :
					   path->depth - (unsigned)k, &added);
	if (!err)
		x->promised += added;
	return err;
}

/* Make room for @ext whose leaf is full: 0 try again, 1 @ext was put in a
 * new leaf, or -errno. */
static int make_room(struct change *x, const struct e4_ext_path *path,
		     const struct e4_extent *ext)
{
	unsigned d = path->depth;
	struct e4_ext_header h;
	int k, err = deepest_with_room(x, path, &k);

	if (err)
		return err;
	if (k < 0)
		return grow_root(x);
	if ((unsigned)k + 1u == d) {
		err = header_at(x, path, d, &h);
		if (err)
			return err;
		if (path->idx[d] + 1 == (int)h.entries) {
			err = append_leaf(x, path, ext);
			return err ? err : 1;
		}
	}
	return split(x, path, (unsigned)k + 1u);
}

static int insert(struct change *x, struct e4_extent ext)
{
	struct e4_map_change *c = x->c;

	while (ext.len) {
		struct e4_extent part = ext;
		unsigned rounds = 0;
		int err;

		for (;;) {
			struct e4_ext_path path;

			if (++rounds > 3u * (E4_EXT_MAX_DEPTH + 2u)) {
				e4_log(c->fs, E4_LOG_ERROR,
				       "inode %u: extent insert at %u did not converge",
				       c->inode->ino, ext.lblk);
				return -EIO;
			}
			err = e4_ext_path_find(c->fs, c->inode, ext.lblk, &path);
			if (err)
				return err;
			/* a leaf covers keys below the next index key: the
			 * rest goes to the leaf after it */
			part = ext;
			if ((uint64_t)part.lblk + part.len > path.hi[path.depth])
				part.len = (uint32_t)(path.hi[path.depth] -
						      part.lblk);
			err = insert_in_leaf(x, &path, &part);
			if (err <= 0)
				break;
			if (rounds == 1) {
				err = promise_room(x, &path);
				if (err)
					return err;
			}
			err = make_room(x, &path, &part);
			if (err < 0)
				return err;
			if (err == 1) {
				err = 0;
				break;
			}
		}
		if (err)
			return err;
		ext.lblk += part.len;
		ext.pblk += part.len;
		ext.len -= part.len;
	}
	return 0;
}

int e4_ext_insert(struct e4_map_change *c, const struct e4_extent *ext)
{
	struct change x = { c, false, 0 };
	int err;

	if (ext->len == 0 || ext->len > max_len(ext->unwritten) ||
	    (uint64_t)ext->lblk + ext->len > LBLK_END)
		return -EINVAL;
	err = insert(&x, *ext);
	if (err && x.dirtied)
		e4_handle_abort(c->h, err);
	e4_map_release(c, x.promised);
	return err;
}

/* ---- removal ------------------------------------------------------------- */

/* The path's leaf was emptied: free it, and each index node above it that
 * its removal empties; an emptied root goes back to depth 0. */
static int remove_empty_leaf(struct change *x, const struct e4_ext_path *path)
{
	for (unsigned level = path->depth; level > 0; level--) {
		struct node parent;
		uint32_t key;
		unsigned at = at_least_zero(path->idx[level - 1u]);
		int err = tree_block_free(x, path->blk[level]);

		if (!err)
			err = node_open(x, path, level - 1u, &parent);
		if (err)
			return err;
		e4_ext_move(parent.p, parent.size, at, at + 1u,
			    parent.h.entries - at - 1u);
		parent.h.entries--;
		if (parent.h.entries == 0 && level - 1u == 0)
			parent.h.depth = 0;
		key = at == 0 && parent.h.entries > 0 ?
			e4_ext_key(parent.p, parent.size, 0) : 0;
		err = node_close(x, &parent);
		if (!err && at == 0 && parent.h.entries > 0)
			err = update_first_key(x, path, level - 1u, key);
		if (err || parent.h.entries > 0)
			return err;
	}
	return 0;
}

/* While the root indexes one block whose entries fit in the root, take
 * them up: one level less. */
static int shrink_root(struct change *x)
{
	struct e4_map_change *c = x->c;
	uint8_t *root = c->inode->i_block;
	size_t rsize = sizeof(c->inode->i_block);

	for (unsigned rounds = 0; rounds < E4_EXT_MAX_DEPTH; rounds++) {
		struct e4_ext_header rh, ch;
		struct e4_ext_path path;
		struct node child;
		uint64_t blk;
		int err;

		e4_ext_header_get(root, rsize, &rh);
		if (rh.depth == 0 || rh.entries != 1)
			return 0;
		err = e4_ext_path_find(c->fs, c->inode, 0, &path);
		if (err)
			return err;
		err = node_open(x, &path, 1, &child);
		if (err)
			return err;
		ch = child.h;
		if (ch.entries > E4_EXT_ROOT_CAPACITY) {
			node_drop(x, &child);
			return 0;
		}
		memcpy(root + E4_EXT_NODE_SIZE, child.p + E4_EXT_NODE_SIZE,
		       (size_t)ch.entries * E4_EXT_NODE_SIZE);
		node_drop(x, &child);
		blk = path.blk[1];
		rh.entries = ch.entries;
		rh.depth = ch.depth;
		e4_ext_header_put(root, rsize, &rh);
		x->dirtied = true;
		err = tree_block_free(x, blk);
		if (err)
			return err;
	}
	return 0;
}

static int free_data(struct change *x, uint64_t pblk, uint64_t count)
{
	struct e4_map_change *c = x->c;
	int err;

	/* a directory's blocks are metadata: the cache (and the running
	 * transaction) must not write them over what they become next */
	if (e4_inode_is_dir(c->inode))
		for (uint64_t b = pblk; b < pblk + count; b++)
			e4_handle_forget(c->h, b);
	err = e4_free_blocks(c->alloc, c->h, pblk, count);

	x->dirtied = true;
	if (!err)
		c->inode->blocks_512 -= e4_blocks_to_512(c->fs, count);
	return err;
}

/* Free what unmapping logical [lblk, lblk+count) (at @pblk) left unused:
 * every block without bigalloc; on bigalloc each physical cluster whose
 * logical cluster no longer maps any block (the rest of the tree is
 * already as it will be: the caller unmapped and re-inserted first). */
static int free_unmapped(struct change *x, uint64_t lblk, uint64_t pblk,
			 uint64_t count)
{
	struct e4_map_change *c = x->c;
	struct e4_fs *fs = c->fs;
	uint64_t r = fs->cluster_ratio;
	int err = 0;

	if (r == 1)
		return free_data(x, pblk, count);
	for (uint64_t lc = lblk / r; !err && lc <= (lblk + count - 1) / r;
	     lc++) {
		uint64_t l = lc * r > lblk ? lc * r : lblk, other;
		uint64_t pc = pblk + (l - lblk) - l % r;
		int used = e4_cluster_sibling(fs, c->inode, l, &other);

		if (used < 0)
			return used;
		if (used)
			continue;	/* the cluster still holds the file's */
		if (e4_inode_is_dir(c->inode))
			for (uint64_t b = pc; b < pc + r; b++)
				e4_handle_forget(c->h, b);
		err = e4_free_blocks(c->alloc, c->h, pc, r);
		x->dirtied = true;
		if (!err)
			c->inode->blocks_512 -= e4_blocks_to_512(fs, r);
	}
	return err;
}

static bool credits_left(const struct e4_handle *h, unsigned need)
{
	return h->credits >= h->used + need;
}

/* One step: unmap what the extent at or after *@cursor has below @end. */
static int remove_step(struct change *x, uint64_t *cursor, uint64_t end,
		       bool free_blocks)
{
	struct e4_map_change *c = x->c;
	struct e4_extent e = { 0 }, right = { 0 };
	struct e4_ext_path path;
	uint64_t a, b, e_end;
	unsigned d, i;
	uint32_t first_key;
	bool emptied, first_changed;
	struct node n;
	int err = e4_ext_path_find(c->fs, c->inode, *cursor, &path);

	if (err)
		return err;
	d = path.depth;
	err = node_open(x, &path, d, &n);
	if (err)
		return err;
	i = at_least_zero(path.idx[d]);
	if (path.idx[d] >= 0 && (unsigned)path.idx[d] < n.h.entries) {
		e4_ext_leaf_get(n.p, n.size, i, &e);
		if ((uint64_t)e.lblk + e.len <= *cursor)
			i++;
	}
	if (i >= n.h.entries) {		/* nothing more in this leaf */
		node_drop(x, &n);
		*cursor = path.hi[d] < end ? path.hi[d] : end;
		return 0;
	}
	e4_ext_leaf_get(n.p, n.size, i, &e);
	e_end = (uint64_t)e.lblk + e.len;
	if (e.lblk >= end) {
		node_drop(x, &n);
		*cursor = end;
		return 0;
	}
	a = e.lblk > *cursor ? e.lblk : *cursor;
	b = e_end < end ? e_end : end;
	if (a == e.lblk && b == e_end) {
		e4_ext_move(n.p, n.size, i, i + 1u, n.h.entries - i - 1u);
		n.h.entries--;
	} else if (a == e.lblk) {
		struct e4_extent t = { (uint32_t)b, (uint32_t)(e_end - b),
				       e.pblk + (b - e.lblk), e.unwritten };
		e4_ext_leaf_put(n.p, n.size, i, &t);
	} else {
		if (b < e_end && n.h.entries >= n.h.max) {
			/* what is left on the right needs room in a full
			 * leaf: promised before the leaf changes */
			node_drop(x, &n);
			err = promise_room(x, &path);
			if (!err)
				err = node_open(x, &path, d, &n);
			if (err)
				return err;
		}
		if (b < e_end)
			right = (struct e4_extent){ (uint32_t)b,
						    (uint32_t)(e_end - b),
						    e.pblk + (b - e.lblk),
						    e.unwritten };
		e.len = (uint32_t)(a - e.lblk);
		e4_ext_leaf_put(n.p, n.size, i, &e);
	}
	emptied = n.h.entries == 0 && d > 0;
	/* the leaf's first extent went or starts later: its key above too */
	first_changed = i == 0 && d > 0 && !emptied && a == e.lblk;
	first_key = first_changed ? e4_ext_key(n.p, n.size, 0) : 0;
	if (emptied) {
		node_drop(x, &n);	/* the block is freed below */
	} else {
		err = node_close(x, &n);
		if (!err && first_changed)
			err = update_first_key(x, &path, d, first_key);
		if (err)
			return err;
	}
	/* the tree as it will stay first (what is left of a split extent,
	 * an emptied leaf gone), then the blocks nothing maps any more */
	if (right.len)
		err = insert(x, right);
	if (!err && emptied)
		err = remove_empty_leaf(x, &path);
	if (!err && free_blocks)
		err = free_unmapped(x, a, e.pblk + (a - e.lblk), b - a);
	if (!err)
		*cursor = b;
	return err;
}

int e4_ext_remove(struct e4_map_change *c, uint64_t *cursor, uint64_t end,
		  bool free_blocks)
{
	struct change x = { c, false, 0 };
	int err = 0;

	if (end > LBLK_END)
		end = LBLK_END;
	while (!err && *cursor < end) {
		if (!credits_left(c->h, E4_EXT_REMOVE_STEP_CREDITS)) {
			err = -EAGAIN;
			break;
		}
		err = remove_step(&x, cursor, end, free_blocks);
	}
	if (!err)
		err = shrink_root(&x);
	if (err && err != -EAGAIN && x.dirtied)
		e4_handle_abort(c->h, err);
	e4_map_release(c, x.promised);
	return err;
}
