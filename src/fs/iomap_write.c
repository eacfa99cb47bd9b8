/* SPDX-License-Identifier: MIT */
/*
 * Writes whose data someone else puts on the device (fuse-iomap's write
 * half, see e4/write.h): the space is mapped first, as unwritten blocks
 * (fallocate's step), the data goes down, and only then are the blocks
 * marked written and the size moved on, so a crash in between shows
 * zeros, never what the blocks held before.
 */
#include <errno.h>
#include <string.h>

#include "fs/writer.h"

/* Credits of converting one unwritten run: its removal, the written run's
 * insert and the unwritten rest's put back, the inode. */
#define CONVERT_STEP_CREDITS \
	(2u * E4_EXT_INSERT_CREDITS + E4_EXT_REMOVE_STEP_CREDITS + 1u)
/* Runs converted per handle at most: one completion, one handle, unless
 * it is very fragmented. */
#define CONVERT_RUNS_PER_HANDLE 8u
/* The freeing of unused unwritten blocks: as truncate's steps. */
#define RELEASE_CREDITS (8u * E4_EXT_REMOVE_STEP_CREDITS + 1u)

int e4_unwritten_mark_written(struct e4_map_change *c, uint64_t lblk,
			      uint64_t n, uint64_t pblk)
{
	uint64_t cursor = lblk;
	int err = e4_ext_remove(c, &cursor, lblk + n, false);

	if (err == -EAGAIN)
		err = -EIO;	/* one run always fits its step */
	if (!err)
		err = e4_map_insert(c, lblk, n, pblk);
	return err;
}

static int check_file(struct e4_fs *fs, const struct e4_inode *in)
{
	if (e4_inode_is_dir(in))
		return -EISDIR;
	if (!e4_inode_is_reg(in))
		return -EINVAL;
	if (in->flags & E4_IMMUTABLE_FL)
		return -EPERM;
	if (e4_inode_is_encrypted(fs, in))
		return -ENOKEY;
	return 0;
}

int e4_map_for_write(struct e4_fs *fs, struct e4_ino *ip, uint64_t off,
		     uint64_t end, unsigned flags, struct e4_range *out,
		     bool *fresh)
{
	struct e4_writer *w = e4_writer_get(fs);
	uint64_t bs = fs->block_size, start = off / bs * bs, lblk;
	struct e4_inode in;
	struct e4_mapping m;
	int err;

	*fresh = false;
	if (!w)
		return -EROFS;
	if (end <= off)
		end = off + 1;
	e4_ino_lock(ip);
	in = ip->inode;
	err = check_file(fs, &in);
	if (err)
		goto out;
	if (start >= fs->max_file_size) {
		err = -EFBIG;
		goto out;
	}
	if (end > fs->max_file_size)
		end = fs->max_file_size;
	if (in.flags & E4_INLINE_DATA_FL) {
		/* the kernel writes an inline file's first block back with
		 * WRITE (the size the inode can hold is checked there);
		 * past it, or for I/O the kernel does itself, the data
		 * must have blocks */
		if ((flags & E4_MAPW_KEEP_INLINE) && end <= bs) {
			err = e4_map_range(fs, &in, 0, bs, out);
			goto out;
		}
		err = e4_convert_if_inline(fs, w, ip, &in);
		if (err)
			goto out;
	}
	if (!(in.flags & E4_EXTENTS_FL)) {
		err = -EOPNOTSUPP;	/* no unwritten blocks in block maps */
		goto out;
	}
	err = e4_map_range(fs, &in, start, fs->max_file_size - start, out);
	if (err || out->kind != E4_MAP_HOLE || !(flags & E4_MAPW_ALLOCATE))
		goto out;
	lblk = start >> fs->log_block_size;
	err = e4_map_block(fs, &in, lblk, &m);
	if (!err) {
		uint64_t last = (end - 1) >> fs->log_block_size, want, n;

		want = last - lblk + 1 < m.len ? last - lblk + 1 : m.len;
		err = e4_prealloc_step(fs, w, &in, lblk, want, m.len, &n);
	}
	if (!err) {
		ip->inode = in;
		/* fdatasync must wait for the extent (as fallocate's) */
		e4_fsync_note(w, ip->ino, 0, true);
		*fresh = true;
		err = e4_map_range(fs, &in, start, fs->max_file_size - start,
				   out);
	}
out:
	e4_ino_unlock(ip);
	return err;
}

/* The unwritten run at or after block @lblk before @lend: 1 and *@m it
 * (clipped to the range), 0 when there is none. */
static int next_unwritten(struct e4_fs *fs, const struct e4_inode *in,
			  uint64_t lblk, uint64_t lend, struct e4_mapping *m)
{
	while (lblk < lend) {
		int err = e4_map_block(fs, in, lblk, m);

		if (err)
			return err;
		if (m->len > lend - lblk)
			m->len = lend - lblk;
		if (m->kind == E4_MAP_UNWRITTEN)
			return 1;
		lblk += m->len;
	}
	return 0;
}

/* A handle for converting @runs runs (at most a few): as many as a
 * transaction may take, down to one. */
static int convert_handle(struct e4_writer *w, uint64_t runs,
			  struct e4_handle *h)
{
	unsigned k = runs < CONVERT_RUNS_PER_HANDLE ? (unsigned)runs :
		     CONVERT_RUNS_PER_HANDLE;
	int err;

	for (;;) {
		err = e4_handle_start(w->txm, k * CONVERT_STEP_CREDITS, h);
		if (err != -ENOSPC || k <= 1)
			return err;
		k /= 2;	/* a small journal's transactions are small */
	}
}

/* The blocks [off, off + len) of @fs covers, rounded out (@out: in),
 * within the largest file. */
static void block_range(const struct e4_fs *fs, uint64_t off, uint64_t len,
			bool out, uint64_t *lblk, uint64_t *lend)
{
	uint64_t bs = fs->block_size, max = fs->max_file_size >>
					       fs->log_block_size;

	*lblk = out ? off >> fs->log_block_size :
		(off + bs - 1) >> fs->log_block_size;
	*lend = !len ? *lblk : out ? ((off + len - 1) >> fs->log_block_size) + 1
				   : (off + len) >> fs->log_block_size;
	if (*lend > max)
		*lend = max;
}

/* How many unwritten runs [lblk, lend) holds, counting up to @max. */
static int count_unwritten(struct e4_fs *fs, const struct e4_inode *in,
			   uint64_t lblk, uint64_t lend, uint64_t max,
			   uint64_t *runs)
{
	struct e4_mapping m;
	int err = 0;

	*runs = 0;
	while (*runs < max &&
	       (err = next_unwritten(fs, in, lblk, lend, &m)) == 1) {
		++*runs;
		lblk = m.lblk + m.len;
	}
	return err < 0 ? err : 0;
}

int e4_unwritten_convert(struct e4_fs *fs, struct e4_ino *ip, uint64_t off,
			 uint64_t len, uint64_t size, uint64_t *new_size)
{
	struct e4_writer *w = e4_writer_get(fs);
	uint64_t lblk, lend;
	struct e4_inode in;
	struct e4_handle h;
	bool open = false;
	int err = 0, unconverted = 0, e2;

	if (!w)
		return -EROFS;
	if (len > UINT64_MAX - off || size > fs->max_file_size)
		return -EFBIG;
	block_range(fs, off, len, true, &lblk, &lend);
	e4_ino_lock(ip);
	in = ip->inode;
	if (!(in.flags & E4_EXTENTS_FL))
		lend = lblk;	/* nothing can be unwritten */
	while (lblk < lend) {
		struct e4_mapping m;
		struct e4_map_change c;

		err = next_unwritten(fs, &in, lblk, lend, &m);
		if (err <= 0)
			break;
		if (open && h.credits < h.used + CONVERT_STEP_CREDITS) {
			err = e4_inode_write(fs, &h, &in, false);
			e2 = e4_handle_stop(&h);
			open = false;
			if (err || (err = e2))
				break;
			ip->inode = in;
		}
		if (!open) {
			uint64_t runs;

			err = count_unwritten(fs, &in, lblk, lend,
					      CONVERT_RUNS_PER_HANDLE, &runs);
			if (!err)
				err = convert_handle(w, runs, &h);
			if (err)
				break;
			open = true;
		}
		c = e4_map_change_of(fs, w, &h, &in);
		/* the data is on the disk already: a conversion may take
		 * root's reserve, as the kernel's ext4 lets it */
		c.use_reserved = true;
		err = e4_map_reserve(&c, e4_ext_inserts_need(&in, 2), NULL);
		if (err) {
			/* nothing changed in this step: what was done
			 * stands, the rest stays unwritten (zeros) */
			unconverted = err;
			err = 0;
			break;
		}
		err = e4_unwritten_mark_written(&c, m.lblk, m.len, m.pblk);
		e4_map_release(&c, c.reserved);
		if (err) {
			if (h.used)
				e4_handle_abort(&h, err);
			break;
		}
		lblk = m.lblk + m.len;
	}
	if (!err && size > in.size) {
		in.size = size;
		if (!open) {
			err = e4_handle_start(w->txm, 1, &h);
			open = !err;
		}
	}
	if (open) {
		if (!err)
			err = e4_inode_write(fs, &h, &in, false);
		if (!err)
			e4_fsync_note(w, in.ino, e4_handle_tid(&h), true);
		else if (h.used)
			e4_handle_abort(&h, err);
		e2 = e4_handle_stop(&h);
		if (!err)
			err = e2;
		if (!err)
			ip->inode = in;
	}
	*new_size = ip->inode.size;
	e4_ino_unlock(ip);
	return err ? err : unconverted;
}

int e4_unwritten_release(struct e4_fs *fs, struct e4_ino *ip, uint64_t off,
			 uint64_t len)
{
	struct e4_writer *w = e4_writer_get(fs);
	uint64_t lblk, lend;
	struct e4_inode in;
	int err = 0;

	if (!w)
		return -EROFS;
	if (len > UINT64_MAX - off)
		return -EINVAL;
	/* whole blocks only: a partial one holds written bytes */
	block_range(fs, off, len, false, &lblk, &lend);
	e4_ino_lock(ip);
	in = ip->inode;
	if (!(in.flags & E4_EXTENTS_FL))
		lend = lblk;
	while (lblk < lend) {
		struct e4_mapping m;
		struct e4_map_change c;
		struct e4_handle h;
		uint64_t cursor;
		int e2;

		err = next_unwritten(fs, &in, lblk, lend, &m);
		if (err <= 0)
			break;
		err = e4_handle_start(w->txm, RELEASE_CREDITS, &h);
		if (err)
			break;
		c = e4_map_change_of(fs, w, &h, &in);
		cursor = m.lblk;
		err = e4_ext_remove(&c, &cursor, m.lblk + m.len, true);
		if (!err || err == -EAGAIN) {
			e2 = e4_inode_write(fs, &h, &in, false);
			if (e2) {
				e4_handle_abort(&h, e2);
				err = e2;
			}
		}
		e2 = e4_handle_stop(&h);
		if (!err || err == -EAGAIN) {
			ip->inode = in;
			if (e2)
				err = e2;
		}
		if (err && err != -EAGAIN)
			break;
		lblk = cursor;
		err = 0;
	}
	if (!err)
		e4_fsync_note(w, ip->ino, 0, true);
	e4_ino_unlock(ip);
	return err;
}
