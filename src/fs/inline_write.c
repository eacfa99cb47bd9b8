/* SPDX-License-Identifier: MIT */
/*
 * Inline data written (§8).  A regular file's data stays in the inode
 * while it fits, as the kernel keeps it: the first 60 bytes in i_block,
 * the rest as the value of system.data in the in-inode attribute area,
 * beside the attributes already there; an empty file with no blocks on an
 * inline_data file system becomes inline at its first write, as a new
 * file does under the kernel.  What no longer fits, and every other change
 * (a directory's names, fallocate), converts the inode to a mapped one
 * first: its bytes to a block of its own (a directory's names to a leaf,
 * with "." and ".."), the attribute removed, the inode mapped by an extent
 * tree (or a block map without the extents feature).  New directories are
 * made with a block, not inline.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/writer.h"

struct inline_names {
	struct e4_fs *fs;
	uint8_t *blk;
	uint32_t off, last, end;
	uint32_t parent;
	int err;
};

/* Append the inline directory's entries to the new leaf (its "." and
 * ".." come first, as the iteration synthesises them). */
static int add_name(void *ctx, const struct e4_dirent *d)
{
	struct inline_names *n = ctx;
	uint32_t need = e4_dirent_size(d->name_len);

	if (d->name_len == 2 && d->name[0] == '.' && d->name[1] == '.')
		n->parent = d->ino;
	if (n->off + need > n->end) {
		n->err = -ENOSPC;	/* cannot happen: an inode holds less */
		return 1;
	}
	e4_dirent_put(n->fs, n->blk, n->off, d->ino, need, d->name,
		      d->name_len, d->ftype);
	n->last = n->off;
	n->off += need;
	return 0;
}

static bool is_inline_data_attr(const struct e4_xattr_item *x)
{
	return x->index == E4_XATTR_INDEX_SYSTEM && x->name_len == 4 &&
	       !memcmp(x->name, "data", 4);
}

/*
 * Write @in with its in-inode attribute area rebuilt: the attributes it
 * holds but system.data (those in a block are not touched), after
 * @data_attr, the new system.data, when there is one (first, where the
 * kernel puts it).  -ENOSPC, nothing written, when they do not fit.
 * Without system.data they fit: they fitted beside it.
 */
static int ibody_rewrite(struct e4_fs *fs, struct e4_handle *h,
			 struct e4_inode *in, struct e4_xattr_item *data_attr)
{
	struct e4_xattr_items it;
	struct e4_xattr_item **keep = NULL;
	size_t area = e4_xattr_ibody_size(fs, in);
	uint8_t *buf = NULL;
	size_t nk = 0;
	int err;

	if (!area)
		return data_attr ? -ENOSPC : e4_inode_write(fs, h, in, false);
	err = e4_xattr_collect(fs, in, &it);
	if (err)
		return err;
	keep = malloc((it.n + 1) * sizeof(*keep));
	buf = malloc(area);
	if (!keep || !buf) {
		err = -ENOMEM;
		goto out;
	}
	if (data_attr)
		keep[nk++] = data_attr;
	for (size_t i = 0; i < it.n; i++)
		if (!it.v[i].in_block && !is_inline_data_attr(&it.v[i]))
			keep[nk++] = &it.v[i];
	err = e4_xattr_ibody_encode(fs, keep, nk, buf, area);
	if (!err)
		err = e4_inode_write_ibody(fs, h, in, buf, area);
out:
	e4_xattr_items_free(&it);
	free(keep);
	free(buf);
	return err;
}

int e4_inline_convert(struct e4_map_change *c)
{
	struct e4_fs *fs = c->fs;
	struct e4_inode *in = c->inode, before;
	bool dir = e4_inode_is_dir(in);
	uint64_t pblk = 0, n = 0, len = 0;
	uint8_t *data = NULL;
	size_t cap;
	int err;

	if (!(in->flags & E4_INLINE_DATA_FL))
		return 0;
	err = e4_inline_size(fs, in, &cap);
	if (err)
		return err;
	if (cap > fs->block_size)
		return -EFBIG;	/* more inline than a block holds: refuse */
	data = calloc(1, fs->block_size);
	if (!data)
		return -ENOMEM;
	before = *in;
	if (dir) {
		struct inline_names names = { fs, data, 0, 0,
					      e4_dir_leaf_end(fs), 0, 0 };

		e4_dir_leaf_init(fs, data);
		err = e4_dir_iterate(fs, in, 0, add_name, &names);
		if (err >= 0)
			err = names.err;
		if (!err && names.off == 0)
			err = -EUCLEAN;	/* no "." even: reported by iterate */
		if (!err)	/* the last entry reaches the end */
			e4_dirent_set_rec_len(fs, data, names.last,
					      names.end - names.last);
		len = 1;
	} else {
		ssize_t got = e4_inline_read(fs, in, 0, data,
					     in->size < cap ? (size_t)in->size :
							      cap);

		if (got < 0)
			err = (int)got;
		len = got > 0 ? 1 : 0;
	}
	if (err)
		goto out;
	/* from here on a failure cannot be undone in this handle */
	in->flags &= ~(uint32_t)E4_INLINE_DATA_FL;
	memset(in->i_block, 0, sizeof(in->i_block));
	if (fs->feature_incompat & E4_INCOMPAT_EXTENTS)
		e4_ext_tree_init(in);
	if (len)
		err = e4_alloc_for_hole(c, 0, 1, 1, 0, true, &pblk, &n);
	if (len && !err) {
		if (dir) {
			struct e4_owner o = e4_owner_of(in, 0);
			struct e4_buf *copy;

			err = e4_map_insert(c, 0, 1, pblk);
			if (!err)
				err = e4_handle_get_create_access(c->h, pblk,
								  &e4_bops_dir_leaf,
								  &o, &copy);
			if (!err) {
				memcpy(copy->data, data, fs->block_size);
				err = e4_handle_dirty(c->h, copy);
			}
			in->size = fs->block_size;
		} else {
			/* the data before the mapping that points at it */
			err = e4_dev_pwrite(fs->dev, data, fs->block_size,
					    pblk << fs->log_block_size);
			if (!err)
				err = e4_map_insert(c, 0, 1, pblk);
		}
	}
	if (!err)
		err = ibody_rewrite(fs, c->h, in, NULL);
	if (err) {
		e4_handle_abort(c->h, err);
		*in = before;
	}
out:
	free(data);
	return err;
}

/* ---- growing and shrinking in place -------------------------------------- */

int e4_inline_capacity(struct e4_fs *fs, const struct e4_inode *in,
		       size_t *cap)
{
	struct e4_xattr_item data = { .index = E4_XATTR_INDEX_SYSTEM,
				      .name_len = 4, .name = "data" };
	size_t area = e4_xattr_ibody_size(fs, in);
	size_t used = E4_XATTR_IBODY_HEADER + E4_XATTR_END_SIZE +
		      e4_xattr_item_size(&data);
	struct e4_xattr_items it;
	int err;

	*cap = E4_I_BLOCK_SIZE;
	if (area < used)
		return 0;
	err = e4_xattr_collect(fs, in, &it);
	if (err)
		return err;
	for (size_t i = 0; i < it.n; i++)
		if (!it.v[i].in_block && !is_inline_data_attr(&it.v[i]))
			used += e4_xattr_item_size(&it.v[i]);
	e4_xattr_items_free(&it);
	if (area > used)
		*cap += (area - used) & ~(size_t)3;
	return 0;
}

bool e4_inline_may_hold(const struct e4_fs *fs, const struct e4_inode *in)
{
	if (in->flags & E4_INLINE_DATA_FL)
		return true;
	/* an empty file with no blocks: what the kernel makes inline at the
	 * first write (an attribute block is all it may own) */
	return (fs->feature_incompat & E4_INCOMPAT_INLINE_DATA) &&
	       e4_inode_is_reg(in) && in->size == 0 &&
	       in->blocks_512 == (in->file_acl ? e4_blocks_to_512(fs, 1) : 0) &&
	       e4_xattr_ibody_size(fs, in) > 0;
}

/*
 * Store @n bytes of @data as @in's inline data: i_block, then the value of
 * system.data in the in-inode area beside the in-inode attributes already
 * there, and write @in in @h.  -ENOSPC, with @in unchanged, when they do
 * not fit.
 */
static int inline_store(struct e4_fs *fs, struct e4_handle *h,
			struct e4_inode *in, const uint8_t *data, size_t n)
{
	struct e4_xattr_item value = { .index = E4_XATTR_INDEX_SYSTEM,
				       .name_len = 4, .name = "data" };
	struct e4_inode before = *in;
	int err;

	if (n > E4_I_BLOCK_SIZE) {
		value.value_len = (uint32_t)(n - E4_I_BLOCK_SIZE);
		value.value = malloc(value.value_len);
		if (!value.value)
			return -ENOMEM;
		memcpy(value.value, data + E4_I_BLOCK_SIZE, value.value_len);
	}
	memset(in->i_block, 0, sizeof(in->i_block));
	memcpy(in->i_block, data, n < E4_I_BLOCK_SIZE ? n : E4_I_BLOCK_SIZE);
	in->flags |= E4_INLINE_DATA_FL;
	in->flags &= ~(uint32_t)E4_EXTENTS_FL;
	err = ibody_rewrite(fs, h, in, &value);
	if (err)
		*in = before;
	free(value.value);
	return err;
}

int e4_inline_rewrite(struct e4_fs *fs, struct e4_handle *h,
		      struct e4_inode *in, uint64_t size, uint64_t off,
		      const void *buf, size_t len)
{
	uint64_t keep = in->size < size ? in->size : size;
	uint64_t old_size = in->size;
	uint8_t *data;
	int err = 0;

	/* an upper bound first: no allocation sized by a far offset */
	if (size > E4_I_BLOCK_SIZE + e4_xattr_ibody_size(fs, in) ||
	    off + len > size)
		return -ENOSPC;
	data = calloc(1, size ? (size_t)size : 1);
	if (!data)
		return -ENOMEM;
	if (keep && (in->flags & E4_INLINE_DATA_FL)) {
		ssize_t got = e4_inline_read(fs, in, 0, data, (size_t)keep);

		err = got < 0 ? (int)got : 0;
	}
	if (!err) {
		if (len)
			memcpy(data + off, buf, len);
		in->size = size;
		err = inline_store(fs, h, in, data, (size_t)size);
		if (err)
			in->size = old_size;
	}
	free(data);
	return err;
}
