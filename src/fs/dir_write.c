/* SPDX-License-Identifier: MIT */
/*
 * Adding and removing directory entries (§7.4, §7.5; see writer.h).
 *
 * A new entry takes the first gap big enough: an unused entry, or the
 * slack at the end of a live one (its rec_len beyond what its name needs),
 * which is split off.  A removed entry is merged into the one before it in
 * its block, as the kernel does (the first entry of a block is marked
 * unused instead).  A directory with no gap grows by a block, or, when its
 * one block is full, gets an index (htree_write.c); in an indexed
 * directory the entry goes to the leaf its hash belongs in.
 */
#include <errno.h>
#include <string.h>

#include "fs/writer.h"

static struct e4_owner leaf_owner(const struct e4_inode *dir, uint64_t lblk)
{
	return e4_owner_of(dir, lblk);
}

/* The device block of directory block @lblk (a hole is corruption). */
static int dir_pblk(struct e4_fs *fs, const struct e4_inode *dir,
		    uint64_t lblk, uint64_t *pblk)
{
	struct e4_mapping m;
	int err = e4_map_block(fs, dir, lblk, &m);

	if (err)
		return err;
	if (m.kind != E4_MAP_MAPPED)
		return e4_corrupt(fs, E4_RULE_DIR_MAPPED, e4_obj_inode(dir->ino),
				  "logical block %llu is not mapped",
				  (unsigned long long)lblk);
	*pblk = m.pblk;
	return 0;
}

bool e4_dirent_place(const struct e4_fs *fs, uint8_t *buf, uint32_t start,
		     uint32_t end, const char *name, size_t len, uint32_t ino,
		     uint8_t ftype)
{
	uint32_t need = e4_dirent_size((uint32_t)len);

	for (uint32_t off = start; off < end;) {
		struct e4_dirent_rec e;
		uint32_t used;

		e4_dirent_get(fs, buf, off, &e);
		if (e.rec_len < E4_DIRENT_MIN_REC_LEN)
			return false;	/* verified before: cannot happen */
		used = e.ino ? e4_dirent_size(e.name_len) : 0;
		if (e.rec_len >= used + need) {
			if (used)
				e4_dirent_set_rec_len(fs, buf, off, used);
			e4_dirent_put(fs, buf, off + used, ino,
				      e.rec_len - used, name, (uint8_t)len,
				      ftype);
			return true;
		}
		off += e.rec_len;
	}
	return false;
}

void e4_dirent_unlink(const struct e4_fs *fs, uint8_t *buf, uint32_t off,
		      uint32_t prev)
{
	struct e4_dirent_rec e, before;

	if (prev == UINT32_MAX) {
		e4_put_le32(buf, fs->block_size, off + E4_DIRENT_INODE, 0);
		return;
	}
	e4_dirent_get(fs, buf, off, &e);
	e4_dirent_get(fs, buf, prev, &before);
	e4_dirent_set_rec_len(fs, buf, prev, before.rec_len + e.rec_len);
}

int e4_dir_leaf_add(struct e4_fs *fs, struct e4_handle *h,
		    const struct e4_inode *dir, uint64_t lblk,
		    const char *name, size_t len, uint32_t ino, uint8_t ftype)
{
	struct e4_owner owner = leaf_owner(dir, lblk);
	struct e4_buf *copy;
	uint64_t pblk;
	int err = dir_pblk(fs, dir, lblk, &pblk);

	if (!err)
		err = e4_handle_get_write_access(h, pblk, &e4_bops_dir_leaf,
						 &owner, &copy);
	if (err)
		return err;
	/* the leaf row verified the tiling: rec_len moves forward */
	if (e4_dirent_place(fs, copy->data, 0, e4_dir_leaf_end(fs), name, len,
			    ino, ftype)) {
		err = e4_handle_dirty(h, copy);
		return err ? err : 1;
	}
	e4_handle_release(h, copy);
	return 0;
}

int e4_dir_append_block(struct e4_map_change *c, uint64_t *lblk,
			uint64_t *pblk)
{
	struct e4_fs *fs = c->fs;
	struct e4_inode *dir = c->inode;
	uint64_t nblocks, n, goal = 0, before;
	int err = e4_dir_nblocks(fs, dir, &nblocks);

	if (err)
		return err;
	if ((nblocks + 1) << fs->log_block_size > UINT32_MAX &&
	    !(fs->feature_incompat & E4_INCOMPAT_LARGEDIR))
		return -ENOSPC;	/* i_size is 32 bits without large_dir */
	if (nblocks && !dir_pblk(fs, dir, nblocks - 1, &goal))
		goal++;
	before = dir->blocks_512;
	err = e4_alloc_for_hole(c, nblocks, 1, 1, goal, true, pblk, &n);
	if (err)
		return err;
	err = e4_map_insert(c, nblocks, 1, *pblk);
	if (err) {
		/* no room for a tree block, nothing changed: the block
		 * goes back and the caller may give up cleanly */
		if (e4_txm_aborted(c->h->txm) ||
		    e4_alloc_for_hole_undo(c, nblocks, *pblk, before))
			e4_handle_abort(c->h, err);
		return err;
	}
	dir->size += fs->block_size;
	*lblk = nblocks;
	return 0;
}

/* A new last block holding just the entry. */
static int add_block(struct e4_map_change *c, const char *name, size_t len,
		     uint32_t ino, uint8_t ftype)
{
	struct e4_fs *fs = c->fs;
	struct e4_owner owner;
	struct e4_buf *copy;
	uint64_t lblk, pblk;
	int err = e4_dir_append_block(c, &lblk, &pblk);

	if (err)
		return err;
	owner = leaf_owner(c->inode, lblk);
	err = e4_handle_get_create_access(c->h, pblk, &e4_bops_dir_leaf,
					  &owner, &copy);
	if (!err) {
		e4_dir_leaf_init(fs, copy->data);
		e4_dirent_put(fs, copy->data, 0, ino, e4_dir_leaf_end(fs), name,
			      (uint8_t)len, ftype);
		err = e4_handle_dirty(c->h, copy);
	}
	if (err)
		e4_handle_abort(c->h, err);
	return err;
}

static bool dir_indexed(const struct e4_fs *fs, const struct e4_inode *dir)
{
	return (dir->flags & E4_INDEX_FL) &&
	       (fs->feature_compat & E4_COMPAT_DIR_INDEX);
}

int e4_dir_add(struct e4_map_change *c, const char *name, size_t len,
	       uint32_t ino, uint8_t ftype)
{
	struct e4_fs *fs = c->fs;
	const struct e4_inode *dir = c->inode;
	uint64_t nblocks;
	int err;

	if (len == 0 || len > E4_NAME_MAX)
		return -ENAMETOOLONG;
	if (dir->flags & E4_INLINE_DATA_FL) {
		err = e4_inline_dir_add(fs, c->h, c->inode, name, len, ino,
					ftype);
		if (err != -ENOSPC)
			return err;
		err = e4_inline_convert(c);	/* full: it gets a block */
		if (err)
			return err;
	}
	if (dir_indexed(fs, dir))
		return e4_htree_add(c, name, len, ino, ftype);
	err = e4_dir_nblocks(fs, dir, &nblocks);
	for (uint64_t lblk = 0; !err && lblk < nblocks; lblk++) {
		err = e4_dir_leaf_add(fs, c->h, dir, lblk, name, len, ino,
				      ftype);
		if (err == 1)
			return 0;
	}
	if (err)
		return err;
	/* a full one-block directory gets an index, as the kernel's ext4
	 * gives it, so that big directories stay fast: a block for the
	 * names, then one for the leaf's split, both promised first (short
	 * of space, the directory must not be left half converted) */
	if (nblocks == 1 && (fs->feature_compat & E4_COMPAT_DIR_INDEX)) {
		uint64_t blocks, tree;

		err = e4_map_reserve_dir_blocks(c, 2, &blocks, &tree);
		if (!err)
			err = e4_htree_make_indexed(c);
		if (!err)
			err = e4_htree_add(c, name, len, ino, ftype);
		e4_map_release_dir_blocks(c, blocks, tree);
		return err;
	}
	return add_block(c, name, len, ino, ftype);
}

/* Open the leaf holding @slot for change. */
static int slot_open(struct e4_fs *fs, struct e4_handle *h,
		     const struct e4_inode *dir, const struct e4_dir_slot *slot,
		     struct e4_buf **copy)
{
	struct e4_owner owner = leaf_owner(dir, slot->lblk);
	uint64_t pblk;
	int err = dir_pblk(fs, dir, slot->lblk, &pblk);

	return err ? err : e4_handle_get_write_access(h, pblk, &e4_bops_dir_leaf,
						      &owner, copy);
}

int e4_dir_remove(struct e4_fs *fs, struct e4_handle *h,
		  struct e4_inode *dir, const struct e4_dir_slot *slot)
{
	struct e4_dirent_rec e;
	struct e4_buf *copy;
	int err;

	if (dir->flags & E4_INLINE_DATA_FL)
		return e4_inline_dir_remove(fs, h, dir, slot);
	err = slot_open(fs, h, dir, slot, &copy);
	if (err)
		return err;
	e4_dirent_get(fs, copy->data, slot->off, &e);
	if (e.ino != slot->ino) {	/* changed since it was found */
		e4_handle_release(h, copy);
		return -EAGAIN;
	}
	e4_dirent_unlink(fs, copy->data, slot->off, slot->prev);
	return e4_handle_dirty(h, copy);
}

int e4_dir_retarget(struct e4_fs *fs, struct e4_handle *h,
		    struct e4_inode *dir, const struct e4_dir_slot *slot,
		    uint32_t ino, uint8_t ftype)
{
	struct e4_dirent_rec e;
	struct e4_buf *copy;
	int err;

	if (dir->flags & E4_INLINE_DATA_FL)
		return e4_inline_dir_retarget(fs, h, dir, slot, ino, ftype);
	err = slot_open(fs, h, dir, slot, &copy);

	if (err)
		return err;
	e4_dirent_get(fs, copy->data, slot->off, &e);
	if (e.ino != slot->ino) {
		e4_handle_release(h, copy);
		return -EAGAIN;
	}
	e4_put_le32(copy->data, copy->size, slot->off + E4_DIRENT_INODE, ino);
	if (fs->feature_incompat & E4_INCOMPAT_FILETYPE)
		copy->data[slot->off + E4_DIRENT_FILE_TYPE] = ftype;
	return e4_handle_dirty(h, copy);
}

int e4_dir_init(struct e4_map_change *c, uint32_t parent)
{
	struct e4_fs *fs = c->fs;
	struct e4_inode *dir = c->inode;
	struct e4_owner owner = leaf_owner(dir, 0);
	struct e4_buf *copy;
	uint64_t pblk, n;
	uint32_t dot = e4_dirent_size(1);
	int err;

	/* inline where the inode has room, as the kernel makes them */
	if (fs->feature_incompat & E4_INCOMPAT_INLINE_DATA) {
		err = e4_inline_dir_init(fs, c->h, dir, parent);
		if (err != -ENOSPC)
			return err;
	}
	err = e4_alloc_for_hole(c, 0, 1, 1, 0, true, &pblk, &n);
	if (err)
		return err;
	err = e4_map_insert(c, 0, 1, pblk);
	if (!err)
		err = e4_handle_get_create_access(c->h, pblk, &e4_bops_dir_leaf,
						  &owner, &copy);
	if (err)
		return err;
	e4_dir_leaf_init(fs, copy->data);
	e4_dirent_put(fs, copy->data, 0, dir->ino, dot, ".", 1, E4_FT_DIR);
	e4_dirent_put(fs, copy->data, dot, parent, e4_dir_leaf_end(fs) - dot,
		      "..", 2, E4_FT_DIR);
	err = e4_handle_dirty(c->h, copy);
	if (!err)
		dir->size = fs->block_size;
	return err;
}

static int not_dots(void *ctx, const struct e4_dirent *d)
{
	(void)ctx;
	if ((d->name_len == 1 && d->name[0] == '.') ||
	    (d->name_len == 2 && d->name[0] == '.' && d->name[1] == '.'))
		return 0;
	return 1;	/* a name: stop */
}

int e4_dir_is_empty(struct e4_fs *fs, const struct e4_inode *dir)
{
	int rc = e4_dir_iterate(fs, dir, 0, not_dots, NULL);

	return rc < 0 ? rc : rc == 0;
}
