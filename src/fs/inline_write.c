/* SPDX-License-Identifier: MIT */
/*
 * Inline data written (§8): a file or directory whose data lives in the
 * inode (i_block and the system.data attribute) is converted to a mapped
 * one before it changes: its bytes to a block of its own (a directory's
 * names to a leaf, with "." and ".."), the attribute removed, the inode
 * mapped by an extent tree (or a block map without the extents feature).
 * New files are never made inline.  Keeping small files inline, as the
 * kernel does, is a later refinement: a converted file reads the same.
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

/* Take system.data out of @in's in-inode attributes, writing the area
 * back with the inode (the rest of the record as @in has it). */
static int drop_inline_attr(struct e4_fs *fs, struct e4_handle *h,
			    struct e4_inode *in)
{
	struct e4_xattr_items it;
	struct e4_xattr_item **keep = NULL;
	size_t area = e4_xattr_ibody_size(fs, in);
	uint8_t *buf = NULL;
	size_t nk = 0;
	int err = e4_xattr_collect(fs, in, &it);

	if (err)
		return err;
	keep = malloc((it.n + 1) * sizeof(*keep));
	buf = malloc(area ? area : 1);
	if (!keep || !buf) {
		err = -ENOMEM;
		goto out;
	}
	/* the in-inode ones stay (they fitted with system.data, so they
	 * fit without it), system.data goes; the block is not touched */
	for (size_t i = 0; i < it.n; i++) {
		struct e4_xattr_item *x = &it.v[i];

		if (x->in_block || (x->index == E4_XATTR_INDEX_SYSTEM &&
				    x->name_len == 4 &&
				    !memcmp(x->name, "data", 4)))
			continue;
		keep[nk++] = x;
	}
	err = area ? e4_xattr_ibody_encode(fs, keep, nk, buf, area) : 0;
	if (!err)
		err = area ? e4_inode_write_ibody(fs, h, in, buf, area) :
			     e4_inode_write(fs, h, in, false);
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
		err = drop_inline_attr(fs, c->h, in);
	if (err) {
		e4_handle_abort(c->h, err);
		*in = before;
	}
out:
	free(data);
	return err;
}
