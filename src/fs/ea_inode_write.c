/* SPDX-License-Identifier: MIT */
/*
 * EA inodes (§9.6): an attribute value too large for the inode and the
 * xattr block lives in an inode of its own, a regular file no directory
 * names, which counts its users: every entry naming it, in an inode's
 * area or in an xattr block (a block shared by several inodes counts
 * once, as its entries do).
 *
 * The count is 64 bits split over i_ctime (high) and l_i_version (low);
 * i_atime holds the value's hash.  A count that drops to 0 leaves the
 * inode without links on the orphan list, in the same handle, and the
 * caller deletes it once that handle stopped (its blocks may take more
 * handles): a crash in between leaves an orphan, which the next mount or
 * e2fsck deletes, never an inode nobody counts.
 *
 * The owner of an attribute is charged the EA inode's blocks in its own
 * i_blocks (the quota charge), as the kernel does and e2fsck checks.
 */
#include <errno.h>
#include <string.h>

#include "fs/writer.h"
#include "util/hmap.h"

/* What the refcount of @ea reads; an older ("Lustre-style") EA inode,
 * which keeps its owner where the count would be, has one user. */
static uint64_t refcount_get(const struct e4_inode *ea)
{
	uint64_t r = (uint64_t)(uint32_t)ea->ctime.sec << 32 |
		     (uint32_t)ea->version;

	return r ? r : 1;
}

static void refcount_set(struct e4_inode *ea, uint64_t r)
{
	ea->ctime.sec = (uint32_t)(r >> 32);
	ea->ctime.nsec = 0;
	ea->version = (ea->version & ~(uint64_t)UINT32_MAX) | (uint32_t)r;
}

unsigned e4_ea_inode_create_credits(const struct e4_fs *fs, size_t len)
{
	size_t blocks = (len + fs->block_size - 1) >> fs->log_block_size;

	/* the inode, and at worst one run per block */
	return E4_ALLOC_INODE_CREDITS + 1u +
	       (unsigned)blocks * (E4_ALLOC_BLOCK_CREDITS +
				   E4_EXT_INSERT_CREDITS);
}

int e4_ea_inode_create(struct e4_fs *fs, struct e4_writer *w,
		       struct e4_handle *h, uint32_t owner, const void *value,
		       size_t len, uint32_t *inum, uint64_t *blocks_512)
{
	uint64_t nblocks = (len + fs->block_size - 1) >> fs->log_block_size;
	uint64_t lblk = 0, goal = 0;
	struct e4_map_change c;
	struct e4_inode ea;
	struct e4_time now = e4_now();
	uint32_t ino;
	int err = e4_alloc_inode(w->alloc, h, owner, false, &ino);

	if (err)
		return err;
	memset(&ea, 0, sizeof(ea));
	ea.ino = ino;
	ea.mode = E4_S_IFREG | 0600;
	ea.links = 1;
	ea.size = len;
	ea.flags = E4_EA_INODE_FL;
	ea.generation = (uint32_t)e4_random_seed();
	ea.mtime = ea.crtime = now;
	ea.atime.sec = e4_xattr_ea_value_hash(fs, value, len);
	refcount_set(&ea, 1);
	if (fs->inode_size > E4_GOOD_OLD_INODE_SIZE) {
		ea.extra_isize = 32 <= fs->inode_size - E4_GOOD_OLD_INODE_SIZE ?
				 32 : (uint16_t)(fs->inode_size -
						 E4_GOOD_OLD_INODE_SIZE);
		ea.has_crtime = E4_I_CRTIME + 4 <=
				E4_GOOD_OLD_INODE_SIZE + ea.extra_isize;
	}
	if (fs->feature_incompat & E4_INCOMPAT_EXTENTS)
		e4_ext_tree_init(&ea);
	c = e4_map_change_of(fs, w, h, &ea);
	while (!err && lblk < nblocks) {
		uint64_t pblk, n, off = lblk << fs->log_block_size;
		uint64_t before = ea.blocks_512;
		size_t bytes;

		err = e4_alloc_for_hole(&c, lblk, nblocks - lblk,
					nblocks - lblk, goal, false, &pblk, &n);
		if (err)
			break;
		bytes = len - off < (n << fs->log_block_size) ?
			(size_t)(len - off) : (size_t)(n << fs->log_block_size);
		/* the value before the inode that points at it */
		err = e4_write_fresh(fs, pblk, n, 0,
				     (const uint8_t *)value + off, bytes);
		if (!err)
			err = e4_map_insert(&c, lblk, n, pblk);
		if (err) {
			if (e4_alloc_for_hole_undo(&c, lblk, pblk, before)) {
				e4_handle_abort(h, err);
				return err;
			}
			break;
		}
		lblk += n;
		goal = pblk + n;
	}
	if (!err)
		err = e4_inode_write(fs, h, &ea, true);
	if (err) {
		/* no room (or no inode): what was taken goes back, so the
		 * operation fails with nothing changed */
		uint64_t cursor = 0;
		int undo = ea.blocks_512 ?
			   e4_map_remove(&c, &cursor, nblocks) : 0;

		if (!undo)
			undo = e4_free_inode(w->alloc, h, ino, false);
		if (undo)
			e4_handle_abort(h, err);
		return err;
	}
	*inum = ino;
	*blocks_512 = ea.blocks_512;
	return 0;
}

/* Read EA inode @inum for a change of its count, checked as a read
 * checks it (XA5). */
static int ea_read(struct e4_fs *fs, uint32_t owner, uint32_t inum,
		   struct e4_inode *ea)
{
	struct e4_object obj = e4_obj(E4_OBJ_EA_INODE, owner, 0, inum);
	int err = e4_inode_read(fs, inum, ea);

	if (err == -EINVAL || err == -ENOENT)
		return e4_corrupt(fs, E4_RULE_XA5, obj,
				  "not an allocated inode");
	if (err)
		return err;
	if (!(ea->flags & E4_EA_INODE_FL) || !e4_inode_is_reg(ea))
		return e4_corrupt(fs, E4_RULE_XA5, obj,
				  "not an EA inode (mode 0%o, flags 0x%x)",
				  ea->mode, ea->flags);
	if (ea->links == 0)
		return e4_corrupt(fs, E4_RULE_XA5, obj,
				  "named by an attribute, but has no links");
	return 0;
}

int e4_ea_inode_blocks(struct e4_fs *fs, uint32_t owner, uint32_t inum,
		       uint64_t *blocks_512)
{
	struct e4_inode ea;
	int err = ea_read(fs, owner, inum, &ea);

	if (!err)
		*blocks_512 = ea.blocks_512;
	return err;
}

int e4_ea_inode_ref(struct e4_fs *fs, struct e4_writer *w,
		    struct e4_handle *h, uint32_t owner, uint32_t inum,
		    int delta, bool *gone)
{
	struct e4_inode ea;
	uint64_t r;
	int err;

	*gone = false;
	/* the count is read, changed and published under one lock: two
	 * owners of one value change it one after the other */
	pthread_mutex_lock(&w->ea_lock);
	err = ea_read(fs, owner, inum, &ea);
	if (err)
		goto out;
	r = refcount_get(&ea);
	if (delta > 0 && r == UINT64_MAX) {
		err = -EMLINK;
		goto out;
	}
	r = delta > 0 ? r + 1 : r - 1;
	refcount_set(&ea, r);
	if (r == 0) {
		ea.links = 0;
		err = e4_orphan_add(fs, w, h, inum);
		*gone = !err;
	}
	if (!err)
		err = e4_inode_write(fs, h, &ea, false);
out:
	pthread_mutex_unlock(&w->ea_lock);
	return err;
}

int e4_ea_inode_delete(struct e4_fs *fs, uint32_t inum)
{
	struct e4_inode ea;
	int err = e4_inode_read(fs, inum, &ea);

	if (!err)
		err = e4_inode_delete_alone(fs, &ea);
	if (err)
		e4_log(fs, E4_LOG_ERROR,
		       "EA inode %u: its last user went, but freeing it failed (%d): it stays an orphan",
		       inum, err);
	return err;
}
