/* SPDX-License-Identifier: MIT */
/*
 * Inline directories changed in the inode (§8.3), as the kernel changes
 * them.  Their bytes are i_block (the parent's inode number, then entries
 * tiling bytes 4..59) and the value of system.data (a second area its
 * entries tile).  A name goes into the first gap of either area; with no
 * gap the value grows at once to all the inode can hold (one unused entry
 * over the new room, as the kernel grows it), and when even that is too
 * little the caller converts the directory to a block (inline_write.c)
 * and adds the name there.  A removed entry merges into the one before it
 * in its area (the first of an area is marked unused); areas never shrink.
 * A new directory starts inline, 60 bytes and an empty system.data.
 *
 * Every change is made on a copy of the bytes in a block-sized buffer (the
 * size the entry helpers work in) and stored with e4_inline_rewrite, which
 * writes the inode: one credit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/writer.h"

struct inline_dir_bytes {
	uint8_t *buf;	/* block-sized */
	uint32_t len;	/* 60 + the system.data value's length */
};

static int no_stop(void *ctx, const struct e4_dirent *d)
{
	(void)ctx;
	(void)d;
	return 0;
}

/* A copy of @dir's inline bytes, both areas verified first. */
static int bytes_load(struct e4_fs *fs, const struct e4_inode *dir,
		      struct inline_dir_bytes *b)
{
	size_t total;
	ssize_t got;
	int err = e4_dir_iterate(fs, dir, 0, no_stop, NULL);

	if (err >= 0)
		err = e4_inline_size(fs, dir, &total);
	if (err < 0)
		return err;
	if (total > fs->block_size)
		return -EFBIG;	/* an inode is never this big: refuse */
	b->buf = calloc(1, fs->block_size);
	if (!b->buf)
		return -ENOMEM;
	b->len = (uint32_t)total;
	got = e4_inline_read(fs, dir, 0, b->buf, total);
	if (got < 0 || (size_t)got != total) {
		free(b->buf);
		return got < 0 ? (int)got : -EUCLEAN;	/* iterate reported */
	}
	return 0;
}

/* Store the bytes as @dir's inline data and free them. */
static int bytes_store(struct e4_fs *fs, struct e4_handle *h,
		       struct e4_inode *dir, struct inline_dir_bytes *b)
{
	int err = e4_inline_rewrite(fs, h, dir, b->len, 0, b->buf, b->len);

	free(b->buf);
	return err;
}

/* Offset of the last entry of the value's area (which is not empty). */
static uint32_t value_last_entry(const struct e4_fs *fs,
				 const struct inline_dir_bytes *b)
{
	uint32_t off = E4_I_BLOCK_SIZE, last = off;
	struct e4_dirent_rec e;

	while (off < b->len) {
		e4_dirent_get(fs, b->buf, off, &e);
		last = off;
		if (e.rec_len < E4_DIRENT_MIN_REC_LEN)
			break;	/* verified before: cannot happen */
		off += e.rec_len;
	}
	return last;
}

/*
 * Grow the value to @cap bytes of inline data: the room goes to its last
 * entry, or to one unused entry when the value was empty.
 */
static void value_grow(const struct e4_fs *fs, struct inline_dir_bytes *b,
		       uint32_t cap)
{
	if (b->len == E4_I_BLOCK_SIZE) {
		e4_dirent_put(fs, b->buf, b->len, 0, cap - b->len, NULL, 0, 0);
	} else {
		uint32_t last = value_last_entry(fs, b);
		struct e4_dirent_rec e;

		e4_dirent_get(fs, b->buf, last, &e);
		e4_dirent_set_rec_len(fs, b->buf, last,
				      e.rec_len + cap - b->len);
	}
	b->len = cap;
}

int e4_inline_dir_add(struct e4_fs *fs, struct e4_handle *h,
		      struct e4_inode *dir, const char *name, size_t len,
		      uint32_t ino, uint8_t ftype)
{
	struct inline_dir_bytes b;
	size_t cap;
	int err = bytes_load(fs, dir, &b);

	if (err)
		return err;
	if (e4_dirent_place(fs, b.buf, E4_INLINE_DATA_DOTDOT_SIZE,
			    E4_I_BLOCK_SIZE, name, len, ino, ftype) ||
	    e4_dirent_place(fs, b.buf, E4_I_BLOCK_SIZE, b.len, name, len, ino,
			    ftype))
		return bytes_store(fs, h, dir, &b);
	err = e4_inline_capacity(fs, dir, &cap);
	if (!err && (cap > fs->block_size || cap <= b.len))
		err = -ENOSPC;
	if (!err) {
		value_grow(fs, &b, (uint32_t)cap);
		if (!e4_dirent_place(fs, b.buf, E4_I_BLOCK_SIZE, b.len, name,
				     len, ino, ftype))
			err = -ENOSPC;
	}
	if (err) {
		free(b.buf);
		return err;
	}
	return bytes_store(fs, h, dir, &b);
}

/* The entry @slot names, still there?  (The bytes are verified.) */
static bool slot_holds(const struct e4_fs *fs, const struct inline_dir_bytes *b,
		       const struct e4_dir_slot *slot)
{
	struct e4_dirent_rec e;

	if (slot->off < E4_INLINE_DATA_DOTDOT_SIZE ||
	    slot->off + E4_DIRENT_HEADER > b->len)
		return false;
	e4_dirent_get(fs, b->buf, slot->off, &e);
	return e.ino == slot->ino;
}

int e4_inline_dir_remove(struct e4_fs *fs, struct e4_handle *h,
			 struct e4_inode *dir, const struct e4_dir_slot *slot)
{
	struct inline_dir_bytes b;
	int err = bytes_load(fs, dir, &b);

	if (err)
		return err;
	if (!slot_holds(fs, &b, slot)) {	/* changed since it was found */
		free(b.buf);
		return -EAGAIN;
	}
	e4_dirent_unlink(fs, b.buf, slot->off, slot->prev);
	return bytes_store(fs, h, dir, &b);
}

int e4_inline_dir_retarget(struct e4_fs *fs, struct e4_handle *h,
			   struct e4_inode *dir,
			   const struct e4_dir_slot *slot, uint32_t ino,
			   uint8_t ftype)
{
	struct inline_dir_bytes b;
	int err = bytes_load(fs, dir, &b);

	if (err)
		return err;
	if (slot->off == 0) {	/* "..": the parent field */
		e4_put_le32(b.buf, fs->block_size, 0, ino);
		return bytes_store(fs, h, dir, &b);
	}
	if (!slot_holds(fs, &b, slot)) {
		free(b.buf);
		return -EAGAIN;
	}
	e4_put_le32(b.buf, fs->block_size, slot->off + E4_DIRENT_INODE, ino);
	if (fs->feature_incompat & E4_INCOMPAT_FILETYPE)
		b.buf[slot->off + E4_DIRENT_FILE_TYPE] = ftype;
	return bytes_store(fs, h, dir, &b);
}

int e4_inline_dir_init(struct e4_fs *fs, struct e4_handle *h,
		       struct e4_inode *dir, uint32_t parent)
{
	uint8_t *buf;
	int err;

	if (e4_xattr_ibody_size(fs, dir) == 0)
		return -ENOSPC;
	buf = calloc(1, fs->block_size);	/* the entry helpers' size */
	if (!buf)
		return -ENOMEM;
	e4_put_le32(buf, fs->block_size, 0, parent);
	e4_dirent_put(fs, buf, E4_INLINE_DATA_DOTDOT_SIZE, 0,
		      E4_I_BLOCK_SIZE - E4_INLINE_DATA_DOTDOT_SIZE, NULL, 0, 0);
	err = e4_inline_rewrite(fs, h, dir, E4_I_BLOCK_SIZE, 0, buf,
				E4_I_BLOCK_SIZE);
	free(buf);
	return err;
}
