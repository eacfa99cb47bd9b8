/* SPDX-License-Identifier: MIT */
/*
 * Writing and truncating regular files (see e4/write.h).
 *
 * File data never passes through the metadata cache: it is written to the
 * device at once.  A write into a hole allocates a run, writes the data
 * (and zeroes the rest of any partial block) to it, and only then maps it
 * in the same handle, so the transaction that makes the blocks part of the
 * file commits after the data it points at was written (the commit
 * flushes the device first).  A write into unwritten blocks does the same
 * and then converts them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/writer.h"

#define LBLK_END 0xFFFFFFFFull

/* Handle credits for one step of a write: an allocation, the data run's
 * insert (and an unwritten run's removal first), the inode. */
#define WRITE_STEP_CREDITS \
	(E4_ALLOC_BLOCK_CREDITS + 2u * E4_EXT_INSERT_CREDITS + \
	 E4_EXT_REMOVE_STEP_CREDITS + 1u)
/* The removal's handles: its steps, the inode. */
#define FREE_CREDITS (8u * E4_EXT_REMOVE_STEP_CREDITS + 1u)

static int zero_fill(struct e4_fs *fs, uint64_t off, uint64_t len)
{
	static const uint8_t zeros[4096];
	int err = 0;

	while (!err && len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);

		err = e4_dev_pwrite(fs->dev, zeros, n, off);
		off += n;
		len -= n;
	}
	return err;
}

int e4_write_fresh(struct e4_fs *fs, uint64_t pblk, uint64_t nblocks,
		       uint32_t in_blk, const void *buf, size_t len)
{
	uint64_t base = pblk << fs->log_block_size;
	uint64_t end = nblocks << fs->log_block_size;
	int err = zero_fill(fs, base, in_blk);

	if (!err)
		err = e4_dev_pwrite(fs->dev, buf, len, base + in_blk);
	if (!err && in_blk + len < end)
		err = zero_fill(fs, base + in_blk + len, end - in_blk - len);
	return err;
}

/* Where a file's block @lblk should go: after the block before it. */
static uint64_t data_goal(struct e4_fs *fs, const struct e4_inode *in,
			  uint64_t lblk)
{
	struct e4_mapping m;

	if (lblk && !e4_map_block(fs, in, lblk - 1, &m) &&
	    m.kind != E4_MAP_HOLE)
		return m.pblk + 1;
	return 0;
}

/*
 * One step: the blocks of [pos, pos+len) from logical block @lblk that
 * @m (a hole or unwritten run) covers, at most @want blocks.  Writes the
 * data, maps it, writes the inode; *@done the bytes written.
 */
static int write_unmapped(struct e4_fs *fs, struct e4_writer *w,
			  struct e4_inode *in, const struct e4_mapping *m,
			  uint64_t pos, const uint8_t *buf, size_t len,
			  uint64_t want, size_t *done)
{
	uint64_t lblk = pos >> fs->log_block_size;
	uint32_t in_blk = (uint32_t)(pos & (fs->block_size - 1));
	struct e4_map_change c;
	struct e4_handle h;
	uint64_t pblk, n, bytes, blocks_before = 0;
	bool changed = false;	/* a failure from here on aborts */
	int err = e4_handle_start(w->txm, WRITE_STEP_CREDITS, &h);

	if (err)
		return err;
	c = e4_map_change_of(fs, w, &h, in);
	if (m->kind == E4_MAP_HOLE) {
		blocks_before = in->blocks_512;
		err = e4_alloc_for_hole(&c, lblk, want, m->len,
					data_goal(fs, in, lblk), false, &pblk,
					&n);
		if (err)
			goto out;
		changed = true;	/* the bitmaps and i_blocks moved on */
	} else {
		/* converting: the unwritten run cut (its right part put
		 * back) and the written one put in, their tree blocks
		 * promised before the data goes down, so that the space
		 * cannot run out halfway */
		err = e4_map_reserve(&c, e4_ext_inserts_need(in, 2), NULL);
		if (err)
			goto out;
		pblk = m->pblk;
		n = want;
	}
	bytes = (n << fs->log_block_size) - in_blk;
	if (bytes > len)
		bytes = len;
	err = e4_write_fresh(fs, pblk, n, in_blk, buf, (size_t)bytes);
	if (err)
		goto out;
	changed = true;
	if (m->kind == E4_MAP_UNWRITTEN)
		err = e4_unwritten_mark_written(&c, lblk, n, pblk);
	else
		err = e4_map_insert(&c, lblk, n, pblk);
	if (err && m->kind == E4_MAP_HOLE && !e4_txm_aborted(w->txm) &&
	    !e4_alloc_for_hole_undo(&c, lblk, pblk, blocks_before))
		changed = false;	/* as if never begun: may be retried */
	if (err)
		goto out;
	if (pos + bytes > in->size)
		in->size = pos + bytes;
	in->mtime = in->ctime = e4_now();
	err = e4_inode_write(fs, &h, in, false);
	if (!err) {
		/* (an unwritten run converted in an extent leaf changes no
		 * field of the inode fdatasync looks at) */
		e4_fsync_note(w, in->ino, e4_handle_tid(&h), true);
		*done = (size_t)bytes;
	}
out:
	e4_map_release(&c, c.reserved);
	if (err && changed)
		e4_handle_abort(&h, err);
	{
		int e2 = e4_handle_stop(&h);

		return err ? err : e2;
	}
}

/* Size and times after writing into blocks that were mapped already. */
static int write_times(struct e4_fs *fs, struct e4_writer *w,
		       struct e4_inode *in, uint64_t end)
{
	if (end > in->size)
		in->size = end;
	in->mtime = in->ctime = e4_now();
	return e4_inode_write_alone(fs, w, in);
}

/* s_maxbytes for the file's kind of mapping (§16). */
static uint64_t max_size(const struct e4_fs *fs, const struct e4_inode *in)
{
	return (in->flags & E4_EXTENTS_FL) ? fs->max_file_size :
					     fs->max_file_size_blockmap;
}

static int check_writable_file(struct e4_fs *fs, const struct e4_inode *in)
{
	if (e4_inode_is_dir(in))
		return -EISDIR;
	if (!e4_inode_is_reg(in))
		return -EINVAL;
	if (in->flags & (E4_IMMUTABLE_FL))
		return -EPERM;
	/* its contents are ciphertext, and there is no key */
	if (e4_inode_is_encrypted(fs, in))
		return -ENOKEY;
	return 0;
}

int e4_convert_if_inline(struct e4_fs *fs, struct e4_writer *w,
			 struct e4_ino *ip, struct e4_inode *in)
{
	struct e4_map_change c;
	struct e4_handle h;
	int err, e2;

	if (!(in->flags & E4_INLINE_DATA_FL))
		return 0;
	err = e4_handle_start(w->txm, E4_INLINE_CONVERT_CREDITS, &h);
	if (err)
		return err;
	c = e4_map_change_of(fs, w, &h, in);
	err = e4_inline_convert(&c);
	e2 = e4_handle_stop(&h);
	if (!err)
		err = e2;
	if (!err)
		ip->inode = *in;
	return err;
}

/* Make @in's inline data @size bytes with @len bytes of @buf at @off, in a
 * handle of its own, mtime and ctime set: -ENOSPC, nothing changed, when
 * that does not fit in the inode. */
static int rewrite_inline(struct e4_fs *fs, struct e4_writer *w,
			  struct e4_inode *in, uint64_t size, uint64_t off,
			  const void *buf, size_t len)
{
	struct e4_inode before = *in;
	struct e4_handle h;
	int err, e2;

	if (size > fs->block_size)	/* never inline; no overflow below */
		return -ENOSPC;
	err = e4_handle_start(w->txm, 1, &h);
	if (err)
		return err;
	in->mtime = in->ctime = e4_now();
	err = e4_inline_rewrite(fs, &h, in, size, off, buf, len);
	if (err) {
		*in = before;
		if (h.used)
			e4_handle_abort(&h, err);
	}
	e2 = e4_handle_stop(&h);
	return err ? err : e2;
}

ssize_t e4_write(struct e4_fs *fs, struct e4_ino *ip, uint64_t off,
		 const void *data, size_t len)
{
	struct e4_writer *w = e4_writer_get(fs);
	const uint8_t *buf = data;
	struct e4_inode in;
	size_t done = 0;
	bool mapped_write = false;
	unsigned retries = 0;
	int err;

	if (!w)
		return -EROFS;
	e4_ino_lock(ip);
	in = ip->inode;
	err = check_writable_file(fs, &in);
	if (!err && (in.flags & E4_APPEND_FL) && off != in.size)
		err = -EPERM;
	if (!err && len && len <= fs->block_size &&
	    off <= fs->block_size - len && e4_inline_may_hold(fs, &in)) {
		/* small enough to stay in the inode: written in place */
		err = rewrite_inline(fs, w, &in,
				     off + len > in.size ? off + len : in.size,
				     off, buf, len);
		if (!err) {
			ip->inode = in;
			e4_ino_unlock(ip);
			return (ssize_t)len;
		}
		if (err == -ENOSPC)
			err = 0;	/* does not fit: converted below */
	}
	if (!err)
		err = e4_convert_if_inline(fs, w, ip, &in);
	if (!err && off >= max_size(fs, &in))
		err = -EFBIG;
	if (!err && len > max_size(fs, &in) - off)
		len = (size_t)(max_size(fs, &in) - off);
	while (!err && done < len) {
		uint64_t pos = off + done;
		uint64_t lblk = pos >> fs->log_block_size;
		uint32_t in_blk = (uint32_t)(pos & (fs->block_size - 1));
		uint64_t last = (off + len - 1) >> fs->log_block_size;
		uint64_t want;
		struct e4_mapping m;
		size_t step = 0;

		err = e4_map_block(fs, &in, lblk, &m);
		if (err)
			break;
		want = last - lblk + 1;
		if (want > m.len)
			want = m.len;
		if (m.kind == E4_MAP_MAPPED) {
			size_t bytes = (size_t)((want << fs->log_block_size) -
						in_blk);

			if (bytes > len - done)
				bytes = len - done;
			err = e4_dev_pwrite(fs->dev, buf + done, bytes,
					    (m.pblk << fs->log_block_size) +
						    in_blk);
			if (!err) {
				done += bytes;
				mapped_write = true;
			}
			continue;
		}
		if (m.kind == E4_MAP_INLINE) {
			err = -EOPNOTSUPP;
			break;
		}
		if (want > E4_EXT_UNWRITTEN_MAX_LEN)
			want = E4_EXT_UNWRITTEN_MAX_LEN;
		err = write_unmapped(fs, w, &in, &m, pos, buf + done,
				     len - done, want, &step);
		if (!err) {
			done += step;
			ip->inode = in;	/* each step is committed on its own */
		} else if (e4_writer_retry_alloc(w, err, &retries)) {
			err = 0;	/* the step failed before it changed any */
		}
	}
	if (mapped_write && (!err || done)) {
		int e2 = write_times(fs, w, &in, off + done);

		if (!e2)
			ip->inode = in;
		else if (!err)
			err = e2;
	}
	e4_ino_unlock(ip);
	if (done)
		return (ssize_t)done;
	return err;
}

void e4_file_release(struct e4_fs *fs, uint32_t ino)
{
	struct e4_writer *w = e4_writer_get(fs);

	if (w)
		e4_alloc_release(w->alloc, ino);
}

int e4_file_free_from(struct e4_fs *fs, struct e4_writer *w,
		      struct e4_inode *in, uint64_t from)
{
	uint64_t cursor = from;
	int err;

	do {
		struct e4_handle h;
		struct e4_map_change c;
		int e2;

		err = e4_handle_start(w->txm, FREE_CREDITS, &h);
		if (err)
			return err;
		c = e4_map_change_of(fs, w, &h, in);
		err = e4_map_remove(&c, &cursor, LBLK_END);
		if (!err || err == -EAGAIN) {
			e2 = e4_inode_write(fs, &h, in, false);
			if (e2) {
				e4_handle_abort(&h, e2);
				err = e2;
			}
		}
		e2 = e4_handle_stop(&h);
		if (!err)
			err = e2;
	} while (err == -EAGAIN);
	return err;
}

int e4_truncate(struct e4_fs *fs, struct e4_ino *ip, uint64_t size)
{
	struct e4_writer *w = e4_writer_get(fs);
	struct e4_inode in;
	bool freed = false;
	int err;

	if (!w)
		return -EROFS;
	e4_ino_lock(ip);
	in = ip->inode;
	err = check_writable_file(fs, &in);
	if (!err && (in.flags & E4_APPEND_FL))
		err = -EPERM;
	if (!err && (in.flags & E4_INLINE_DATA_FL)) {
		/* still fits in the inode: cut or zero-extended in place */
		err = rewrite_inline(fs, w, &in, size, 0, NULL, 0);
		if (!err) {
			ip->inode = in;
			e4_ino_unlock(ip);
			return 0;
		}
		if (err == -ENOSPC)
			err = 0;	/* converted below */
	}
	if (!err)
		err = e4_convert_if_inline(fs, w, ip, &in);
	if (!err && size > max_size(fs, &in))
		err = -EFBIG;
	if (!err && size < in.size) {
		uint32_t tail = (uint32_t)(size & (fs->block_size - 1));
		struct e4_mapping m;

		/* what is left of the last block must read as zeros if the
		 * file grows again */
		if (tail && !(err = e4_map_block(fs, &in, size >> fs->log_block_size,
						 &m)) &&
		    m.kind == E4_MAP_MAPPED)
			err = zero_fill(fs, (m.pblk << fs->log_block_size) + tail,
					fs->block_size - tail);
		if (!err) {
			in.size = size;
			freed = true;	/* its handles write @in back */
			err = e4_file_free_from(fs, w, &in,
						(size + fs->block_size - 1) >>
							fs->log_block_size);
		}
	} else if (!err) {
		in.size = size;
	}
	if (!err) {
		in.mtime = in.ctime = e4_now();
		err = e4_inode_write_alone(fs, w, &in);
	}
	if (!err || freed)
		ip->inode = in;
	e4_ino_unlock(ip);
	return err;
}

ssize_t e4_copy_range(struct e4_fs *fs, struct e4_ino *src, uint64_t off_in,
		      struct e4_ino *dst, uint64_t off_out, uint64_t len)
{
	const size_t chunk = 1u << 20;
	uint8_t *buf;
	uint64_t done = 0;
	ssize_t err = 0;

	if (!e4_writer_get(fs))
		return -EROFS;
	buf = malloc(chunk);
	if (!buf)
		return -ENOMEM;
	while (done < len) {
		struct e4_inode in;
		size_t want = len - done < chunk ? (size_t)(len - done) : chunk;
		ssize_t n, w;

		/* the source held still while it is read (it may be the
		 * destination too: never both locks at once) */
		e4_ino_read_begin(src, &in);
		n = e4_inode_is_reg(&in) ?
			e4_file_read(fs, &in, off_in + done, buf, want) :
			-EINVAL;
		e4_ino_read_end(src);
		if (n <= 0) {
			err = n;
			break;
		}
		w = e4_write(fs, dst, off_out + done, buf, (size_t)n);
		if (w <= 0) {
			err = w ? w : -EIO;
			break;
		}
		done += (uint64_t)w;
		if (w < n)
			break;
	}
	free(buf);
	return done ? (ssize_t)done : err;
}
