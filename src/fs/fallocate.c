/* SPDX-License-Identifier: MIT */
/*
 * fallocate(2) with ext4's modes and rules (see e4/write.h): preallocation
 * as unwritten extents, punching and zeroing ranges, and collapsing or
 * inserting whole blocks (the extents after the range shift, one by one,
 * each in its handle).  Extent files only: block-mapped ones cannot hold
 * unwritten blocks (-EOPNOTSUPP, as the kernel answers).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/writer.h"

#define LBLK_END 0xFFFFFFFFull
#define STEP_CREDITS \
	(E4_ALLOC_BLOCK_CREDITS + 2u * E4_EXT_INSERT_CREDITS + \
	 2u * E4_EXT_REMOVE_STEP_CREDITS + 1u)

static int zero_bytes(struct e4_fs *fs, const struct e4_inode *in,
		      uint64_t off, uint64_t len)
{
	static const uint8_t zeros[4096];

	while (len) {
		struct e4_mapping m;
		uint64_t lblk = off >> fs->log_block_size;
		uint64_t in_blk = off & (fs->block_size - 1);
		uint64_t n = fs->block_size - in_blk;
		int err = e4_map_block(fs, in, lblk, &m);

		if (err)
			return err;
		if (n > len)
			n = len;
		if (n > sizeof(zeros))
			n = sizeof(zeros);
		/* holes and unwritten blocks read as zeros already */
		if (m.kind == E4_MAP_MAPPED) {
			err = e4_dev_pwrite(fs->dev, zeros, (size_t)n,
					    (m.pblk << fs->log_block_size) +
						    in_blk);
			if (err)
				return err;
		}
		off += n;
		len -= n;
	}
	return 0;
}

int e4_prealloc_step(struct e4_fs *fs, struct e4_writer *w,
		     struct e4_inode *in, uint64_t lblk, uint64_t want,
		     uint64_t hole_len, uint64_t *n)
{
	unsigned retries = 0;

	if (want > E4_EXT_UNWRITTEN_MAX_LEN)
		want = E4_EXT_UNWRITTEN_MAX_LEN;
	for (;;) {
		struct e4_handle h;
		struct e4_map_change c;
		uint64_t pblk, goal = 0, before;
		int err = e4_handle_start(w->txm, STEP_CREDITS, &h), e2;

		if (err)
			return err;
		if (lblk) {
			struct e4_mapping prev;

			if (!e4_map_block(fs, in, lblk - 1, &prev) &&
			    prev.kind != E4_MAP_HOLE)
				goal = prev.pblk + 1;
		}
		c = e4_map_change_of(fs, w, &h, in);
		before = in->blocks_512;
		err = e4_alloc_for_hole(&c, lblk, want, hole_len, goal, false,
					&pblk, n);
		if (!err) {
			bool undone = false;

			err = e4_ext_insert(&c, &(struct e4_extent){
				(uint32_t)lblk, (uint32_t)*n, pblk, true });
			if (!err)
				err = e4_inode_write(fs, &h, in, false);
			else if (!e4_txm_aborted(w->txm) &&
				 !e4_alloc_for_hole_undo(&c, lblk, pblk, before))
				undone = true;	/* may be retried */
			if (err && !undone)
				e4_handle_abort(&h, err);
		}
		e2 = e4_handle_stop(&h);
		if (!err)
			err = e2;
		/* the step failed before it changed anything: again */
		if (!e4_writer_retry_alloc(w, err, &retries))
			return err;
	}
}

/* Unwritten extents over the holes of blocks [first, end). */
static int preallocate(struct e4_fs *fs, struct e4_writer *w,
		       struct e4_ino *ip, struct e4_inode *in, uint64_t first,
		       uint64_t end)
{
	uint64_t lblk = first;

	while (lblk < end) {
		struct e4_mapping m;
		uint64_t want, n;
		int err = e4_map_block(fs, in, lblk, &m);

		if (err)
			return err;
		want = end - lblk < m.len ? end - lblk : m.len;
		if (m.kind != E4_MAP_HOLE) {
			lblk += want;
			continue;
		}
		err = e4_prealloc_step(fs, w, in, lblk, want, m.len, &n);
		if (err)
			return err;
		ip->inode = *in;	/* committed step by step */
		lblk += n;
	}
	return 0;
}

/* Free blocks [first, end), in as many handles as it takes. */
static int punch_blocks(struct e4_fs *fs, struct e4_writer *w,
			struct e4_ino *ip, struct e4_inode *in, uint64_t first,
			uint64_t end)
{
	uint64_t cursor = first;
	int err;

	do {
		struct e4_handle h;
		struct e4_map_change c;
		int e2;

		err = e4_handle_start(w->txm, 8u * E4_EXT_REMOVE_STEP_CREDITS + 1u,
				      &h);
		if (err)
			return err;
		c = e4_map_change_of(fs, w, &h, in);
		err = e4_ext_remove(&c, &cursor, end, true);
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
		if (!err || err == -EAGAIN)
			ip->inode = *in;
	} while (err == -EAGAIN);
	return err;
}

/* The extents from block @from on, as runs, ascending. */
struct runs {
	struct e4_extent *v;
	size_t n, cap;
};

static int collect_from(struct e4_fs *fs, const struct e4_inode *in,
			uint64_t from, struct runs *r)
{
	uint64_t lblk = from;

	while (lblk < LBLK_END) {
		struct e4_mapping m;
		int err = e4_map_block(fs, in, lblk, &m);

		if (err)
			return err;
		if (m.kind == E4_MAP_MAPPED || m.kind == E4_MAP_UNWRITTEN) {
			uint64_t len = m.len;

			while (len) {
				uint32_t n = len > E4_EXT_UNWRITTEN_MAX_LEN ?
					E4_EXT_UNWRITTEN_MAX_LEN : (uint32_t)len;

				if (r->n == r->cap) {
					size_t cap = r->cap ? r->cap * 2 : 64;
					struct e4_extent *v = realloc(r->v,
						cap * sizeof(*v));

					if (!v)
						return -ENOMEM;
					r->v = v;
					r->cap = cap;
				}
				r->v[r->n++] = (struct e4_extent){
					(uint32_t)lblk, n,
					m.pblk + (lblk - m.lblk),
					m.kind == E4_MAP_UNWRITTEN };
				lblk += n;
				len -= n;
			}
			continue;
		}
		if (m.lblk + m.len >= LBLK_END)
			break;
		lblk = m.lblk + m.len;
	}
	return 0;
}

/* Move run @e by @delta blocks (negative: left) in one handle. */
static int move_run(struct e4_fs *fs, struct e4_writer *w,
		    struct e4_inode *in, const struct e4_extent *e,
		    int64_t delta)
{
	struct e4_handle h;
	struct e4_map_change c;
	struct e4_extent moved = *e;
	uint64_t cursor = e->lblk;
	int err = e4_handle_start(w->txm, STEP_CREDITS, &h), e2;

	if (err)
		return err;
	c = e4_map_change_of(fs, w, &h, in);
	/* the insert's tree blocks promised before the run comes out */
	err = e4_map_reserve(&c, e4_ext_inserts_need(in, 1), NULL);
	if (err) {
		e2 = e4_handle_stop(&h);
		return err;
	}
	err = e4_ext_remove(&c, &cursor, (uint64_t)e->lblk + e->len, false);
	if (err == -EAGAIN)
		err = -EIO;
	moved.lblk = (uint32_t)((int64_t)e->lblk + delta);
	if (!err)
		err = e4_ext_insert(&c, &moved);
	if (!err)
		err = e4_inode_write(fs, &h, in, false);
	e4_map_release(&c, c.reserved);
	if (err)
		e4_handle_abort(&h, err);
	e2 = e4_handle_stop(&h);
	return err ? err : e2;
}

static int shift(struct e4_fs *fs, struct e4_writer *w, struct e4_ino *ip,
		 struct e4_inode *in, uint64_t from, int64_t delta)
{
	struct runs r = { 0 };
	int err = collect_from(fs, in, from, &r);

	if (!err && delta > 0 && r.n &&
	    (uint64_t)r.v[r.n - 1].lblk + r.v[r.n - 1].len + (uint64_t)delta >
		    LBLK_END)
		err = -EFBIG;
	/* left: in order, each into the gap before it; right: from the
	 * last, each into the room after it */
	for (size_t i = 0; !err && i < r.n; i++) {
		size_t k = delta < 0 ? i : r.n - 1 - i;

		err = move_run(fs, w, in, &r.v[k], delta);
		if (!err)
			ip->inode = *in;
	}
	free(r.v);
	return err;
}

int e4_fallocate(struct e4_fs *fs, struct e4_ino *ip, unsigned mode,
		 uint64_t off, uint64_t len)
{
	struct e4_writer *w = e4_writer_get(fs);
	uint64_t bs = fs->block_size, end, first, last;
	bool keep = mode & E4_FALLOC_KEEP_SIZE;
	struct e4_inode in;
	int err = 0;

	if (!w)
		return -EROFS;
	if (len == 0 || off + len < off)
		return -EINVAL;
	if (mode & ~(unsigned)(E4_FALLOC_KEEP_SIZE | E4_FALLOC_PUNCH_HOLE |
			       E4_FALLOC_ZERO_RANGE | E4_FALLOC_COLLAPSE_RANGE |
			       E4_FALLOC_INSERT_RANGE))
		return -EOPNOTSUPP;
	/* the VFS's rules on combining the modes */
	if ((mode & E4_FALLOC_PUNCH_HOLE) &&
	    (!(mode & E4_FALLOC_KEEP_SIZE) || (mode & E4_FALLOC_ZERO_RANGE)))
		return -EOPNOTSUPP;
	if ((mode & (E4_FALLOC_COLLAPSE_RANGE | E4_FALLOC_INSERT_RANGE)) &&
	    mode != E4_FALLOC_COLLAPSE_RANGE && mode != E4_FALLOC_INSERT_RANGE)
		return -EINVAL;
	end = off + len;
	e4_ino_lock(ip);
	in = ip->inode;
	if (e4_inode_is_dir(&in))
		err = -EISDIR;
	else if (!e4_inode_is_reg(&in))
		err = -ENODEV;
	else if ((in.flags & E4_INLINE_DATA_FL) &&
		 (err = e4_convert_if_inline(fs, w, ip, &in)))
		;	/* (its error) */
	else if (!(in.flags & E4_EXTENTS_FL))
		err = -EOPNOTSUPP;
	else if (in.flags & E4_IMMUTABLE_FL)
		err = -EPERM;
	else if ((in.flags & E4_APPEND_FL) &&
		 (mode & (E4_FALLOC_PUNCH_HOLE | E4_FALLOC_ZERO_RANGE |
			  E4_FALLOC_COLLAPSE_RANGE | E4_FALLOC_INSERT_RANGE)))
		err = -EPERM;
	else if (end > fs->max_file_size)
		err = -EFBIG;
	if (err)
		goto out;
	first = (off + bs - 1) / bs;	/* the whole blocks inside */
	last = end / bs;

	if (mode & (E4_FALLOC_COLLAPSE_RANGE | E4_FALLOC_INSERT_RANGE)) {
		/* whole clusters on bigalloc: blocks keep their offsets */
		uint64_t unit = bs * fs->cluster_ratio;

		if (off % unit || len % unit) {
			err = -EINVAL;
		} else if (mode & E4_FALLOC_COLLAPSE_RANGE) {
			if (end >= in.size) {
				err = -EINVAL;
			} else {
				err = punch_blocks(fs, w, ip, &in, off / bs,
						   end / bs);
				if (!err)
					err = shift(fs, w, ip, &in, end / bs,
						    -(int64_t)(len / bs));
				if (!err)
					in.size -= len;
			}
		} else {
			if (off >= in.size)
				err = -EINVAL;
			else if (in.size + len > fs->max_file_size)
				err = -EFBIG;
			else
				err = shift(fs, w, ip, &in, off / bs,
					    (int64_t)(len / bs));
			if (!err)
				in.size += len;
		}
	} else if (mode & (E4_FALLOC_PUNCH_HOLE | E4_FALLOC_ZERO_RANGE)) {
		uint64_t zend = (mode & E4_FALLOC_PUNCH_HOLE) &&
			end > in.size ? in.size : end;

		/* the partial blocks at the edges are zeroed in place */
		if (first > last) {
			if (off < zend)
				err = zero_bytes(fs, &in, off, zend - off);
		} else {
			if (off < first * bs && off < zend)
				err = zero_bytes(fs, &in, off,
						 (first * bs < zend ? first * bs :
						  zend) - off);
			if (!err && last * bs < zend)
				err = zero_bytes(fs, &in, last * bs,
						 zend - last * bs);
			if (!err && first < last)
				err = punch_blocks(fs, w, ip, &in, first, last);
			if (!err && (mode & E4_FALLOC_ZERO_RANGE) &&
			    first < last)
				err = preallocate(fs, w, ip, &in, first, last);
		}
		if (!err && (mode & E4_FALLOC_ZERO_RANGE) && !keep &&
		    end > in.size)
			in.size = end;
	} else {
		err = preallocate(fs, w, ip, &in, off / bs, (end + bs - 1) / bs);
		if (!err && !keep && end > in.size)
			in.size = end;
	}
	if (!err) {
		in.ctime = e4_now();
		if (!(mode & E4_FALLOC_KEEP_SIZE) || (mode & E4_FALLOC_PUNCH_HOLE))
			in.mtime = in.ctime;
		err = e4_inode_write_alone(fs, w, &in);
		if (!err)
			ip->inode = in;
	}
out:
	/* extent leaves may have changed alone (a zeroed range made
	 * unwritten): fdatasync must wait for them */
	if (!err)
		e4_fsync_note(w, ip->ino, 0, true);
	e4_ino_unlock(ip);
	return err;
}
