/* SPDX-License-Identifier: MIT */
/*
 * Orphans (§14): an inode whose last name went while it is still open is
 * recorded as an orphan until it is deleted, so that a crash in between
 * leaves it for the next mount (or e2fsck) to delete, not lost in use.
 * With the orphan_file feature in a slot of the orphan file, else in the
 * classic list through s_last_orphan and i_dtime.
 *
 * The classic list lives in memory too (head first): it is the truth for
 * the chain, and an orphan's i_dtime is taken from it whenever its record
 * is written (e4_orphan_dtime), so no in-core inode has to be changed when
 * its neighbour leaves the list: the neighbour's record is patched in
 * place.  One mutex orders the list; it is never held while a handle holds
 * a private copy for someone else.
 *
 * At the start of a read-write session the orphans a crash left are
 * processed as the kernel does: unlinked ones deleted, truncated ones cut
 * to their size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/writer.h"
#include "util/hmap.h"

struct e4_orphans {
	pthread_mutex_t lock;
	uint32_t *list;		/* the classic list, head first */
	size_t n, cap;
	/* the orphan file: its device blocks, and where each orphan sits */
	bool use_file;
	struct e4_inode ofile;
	uint64_t *blocks;
	size_t nblocks;
	struct e4_hmap *slots;	/* ino -> (block index << 16 | slot) */
};

static uint32_t slots_per_block(const struct e4_fs *fs)
{
	return (fs->block_size - E4_ORPHAN_TAIL_SIZE) / E4_ORPHAN_SLOT_SIZE;
}

/* ---- the superblock's head -------------------------------------------------- */

static int set_head(struct e4_fs *fs, struct e4_handle *h, uint32_t ino)
{
	struct e4_owner owner = { 0 };
	struct e4_buf *copy;
	int err = e4_handle_get_write_access(h, E4_SB_OFFSET / fs->block_size,
					     &e4_bops_superblock, &owner,
					     &copy);

	if (err)
		return err;
	e4_put_le32(copy->data + E4_SB_OFFSET % fs->block_size, E4_SB_SIZE,
		    E4_SB_LAST_ORPHAN, ino);
	return e4_handle_dirty(h, copy);
}

/* Patch the i_dtime of inode @ino's record in place (a list neighbour). */
static int patch_dtime(struct e4_fs *fs, struct e4_handle *h, uint32_t ino,
		       uint32_t dtime)
{
	struct e4_owner owner = { .ino = ino };
	struct e4_buf *rec, *copy;
	size_t off;
	int err = e4_inode_raw_get(fs, ino, &rec, &off);

	if (err)
		return err;
	err = e4_handle_get_write_access(h, rec->blk, &e4_bops_inode_table,
					 &owner, &copy);
	e4_meta_put(fs, rec);
	if (err)
		return err;
	e4_put_le32(copy->data + off, fs->inode_size, E4_I_DTIME, dtime);
	return e4_handle_dirty(h, copy);
}

/* ---- the orphan file ---------------------------------------------------------- */

static int file_slot_set(struct e4_orphans *o, struct e4_handle *h,
			 size_t bi, uint32_t slot, uint32_t ino)
{
	struct e4_owner owner = e4_owner_of(&o->ofile, 0);
	struct e4_buf *copy;
	int err = e4_handle_get_write_access(h, o->blocks[bi], &e4_bops_orphan,
					     &owner, &copy);

	if (err)
		return err;
	e4_put_le32(copy->data, copy->size, slot * E4_ORPHAN_SLOT_SIZE, ino);
	return e4_handle_dirty(h, copy);
}

/* A free slot: 1 and where, or 0 when the file is full. */
static int file_find_free(struct e4_fs *fs, struct e4_orphans *o, size_t *bi,
			  uint32_t *slot)
{
	struct e4_owner owner = e4_owner_of(&o->ofile, 0);

	for (size_t i = 0; i < o->nblocks; i++) {
		struct e4_buf *b;
		int err = e4_meta_get_verified(fs, o->blocks[i],
					       &e4_bops_orphan, &owner, &b);

		if (err)
			return err;
		for (uint32_t s = 0; s < slots_per_block(fs); s++) {
			if (e4_le32(b->data, b->size,
				    s * E4_ORPHAN_SLOT_SIZE) == 0) {
				e4_meta_put(fs, b);
				*bi = i;
				*slot = s;
				return 1;
			}
		}
		e4_meta_put(fs, b);
	}
	return 0;
}

static int map_orphan_file(struct e4_fs *fs, struct e4_orphans *o)
{
	uint64_t n;
	int err = e4_inode_read(fs, fs->orphan_file_inum, &o->ofile);

	if (err)
		return err;
	n = o->ofile.size >> fs->log_block_size;
	if (n > (1u << 16))	/* the kernel's cap is far below */
		return -EUCLEAN;
	o->blocks = calloc(n ? n : 1, sizeof(*o->blocks));
	if (!o->blocks)
		return -ENOMEM;
	for (uint64_t l = 0; l < n;) {
		struct e4_mapping m;

		err = e4_map_block(fs, &o->ofile, l, &m);
		if (err)
			return err;
		if (m.kind != E4_MAP_MAPPED)
			return e4_corrupt(fs, E4_RULE_OR2,
					  e4_obj(E4_OBJ_ORPHAN_FILE,
						 fs->orphan_file_inum, 0, 0),
					  "block %llu is not allocated",
					  (unsigned long long)l);
		for (uint64_t i = 0; i < m.len && l < n; i++, l++)
			o->blocks[o->nblocks++] = m.pblk + i;
	}
	return 0;
}

/* ---- the list's public face ----------------------------------------------------- */

uint32_t e4_orphan_dtime(struct e4_writer *w, uint32_t ino, uint32_t dtime)
{
	struct e4_orphans *o = w->orphans;

	if (!o)
		return dtime;
	pthread_mutex_lock(&o->lock);
	for (size_t i = 0; i < o->n; i++) {
		if (o->list[i] == ino) {
			dtime = i + 1 < o->n ? o->list[i + 1] : 0;
			break;
		}
	}
	if (o->slots && e4_hmap_get(o->slots, ino))
		dtime = 0;	/* the orphan file's keep i_dtime 0 */
	pthread_mutex_unlock(&o->lock);
	return dtime;
}

int e4_orphan_add(struct e4_fs *fs, struct e4_writer *w, struct e4_handle *h,
		  uint32_t ino)
{
	struct e4_orphans *o = w->orphans;
	int err = 0;

	pthread_mutex_lock(&o->lock);
	if (o->use_file) {
		size_t bi = 0;
		uint32_t slot = 0;

		err = file_find_free(fs, o, &bi, &slot);
		if (err == 1) {
			bool added;
			uint64_t *v = e4_hmap_put(o->slots, ino, &added);

			err = v ? file_slot_set(o, h, bi, slot, ino) :
				  -ENOMEM;
			if (!err)
				*v = (uint64_t)bi << 16 | slot;
			else if (v)
				e4_hmap_remove(o->slots, ino);
			goto out;
		}
		if (err < 0)
			goto out;
		/* the orphan file is full: the classic list takes it */
	}
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;
		uint32_t *l = realloc(o->list, cap * sizeof(*l));

		if (!l) {
			err = -ENOMEM;
			goto out;
		}
		o->list = l;
		o->cap = cap;
	}
	err = set_head(fs, h, ino);
	if (!err) {
		memmove(o->list + 1, o->list, o->n * sizeof(*o->list));
		o->list[0] = ino;
		o->n++;
	}
out:
	pthread_mutex_unlock(&o->lock);
	return err < 0 ? err : 0;
}

int e4_orphan_del(struct e4_fs *fs, struct e4_writer *w, struct e4_handle *h,
		  uint32_t ino)
{
	struct e4_orphans *o = w->orphans;
	uint64_t *where;
	int err = 0;

	pthread_mutex_lock(&o->lock);
	where = o->slots ? e4_hmap_get(o->slots, ino) : NULL;
	if (where) {
		err = file_slot_set(o, h, (size_t)(*where >> 16),
				    (uint32_t)(*where & 0xFFFF), 0);
		if (!err)
			e4_hmap_remove(o->slots, ino);
		goto out;
	}
	for (size_t i = 0; i < o->n; i++) {
		uint32_t next;

		if (o->list[i] != ino)
			continue;
		next = i + 1 < o->n ? o->list[i + 1] : 0;
		err = i == 0 ? set_head(fs, h, next) :
			       patch_dtime(fs, h, o->list[i - 1], next);
		if (!err) {
			memmove(o->list + i, o->list + i + 1,
				(o->n - i - 1) * sizeof(*o->list));
			o->n--;
		}
		break;
	}
out:
	pthread_mutex_unlock(&o->lock);
	return err;
}

/* ---- the session's start and end ------------------------------------------------ */

/* An orphan a crash left: deleted if unlinked, else cut to its size. */
static int process_one(struct e4_fs *fs, struct e4_writer *w, uint32_t ino)
{
	struct e4_inode in;
	int err = e4_inode_load(fs, ino, &in, true);

	if (err == -ENOENT || err == -EINVAL)
		return 0;	/* free already, or not an inode: nothing */
	if (err)
		return err;
	if (in.links == 0)
		return e4_inode_delete(fs, &in);
	if (e4_inode_is_reg(&in)) {
		err = e4_file_free_from(fs, w, &in,
					(in.size + fs->block_size - 1) >>
						fs->log_block_size);
		if (!err) {
			in.dtime = 0;
			err = e4_inode_write_alone(fs, w, &in);
		}
	}
	return err;
}

/* The classic list as the image has it (bounded: each inode once, at most
 * s_inodes_count of them), then the orphan file's slots. */
static int pending(struct e4_fs *fs, struct e4_orphans *o, uint32_t **out,
		   size_t *n)
{
	struct e4_block_set *seen = e4_block_set_new();
	size_t cap = 0;
	uint32_t ino = fs->last_orphan;
	int err = seen ? 0 : -ENOMEM;

	*out = NULL;
	*n = 0;
	while (!err && ino) {
		struct e4_inode in;

		if (e4_block_set_add(seen, ino) != 0 ||
		    ino < fs->first_ino || ino > fs->inodes_count) {
			err = e4_corrupt(fs, E4_RULE_OR1,
					 e4_obj_inode(ino),
					 "orphan list loops or leaves the inodes");
			break;
		}
		err = e4_inode_load(fs, ino, &in, true);
		if (err)
			break;
		if (*n == cap) {
			uint32_t *v;

			cap = cap ? cap * 2 : 16;
			v = realloc(*out, cap * sizeof(*v));
			if (!v) {
				err = -ENOMEM;
				break;
			}
			*out = v;
		}
		(*out)[(*n)++] = ino;
		ino = in.dtime;
	}
	for (size_t i = 0; !err && o->use_file &&
			   (fs->feature_ro_compat & E4_RO_COMPAT_ORPHAN_PRESENT) &&
			   i < o->nblocks; i++) {
		struct e4_owner owner = e4_owner_of(&o->ofile, 0);
		struct e4_buf *b;

		err = e4_meta_get_verified(fs, o->blocks[i], &e4_bops_orphan,
					   &owner, &b);
		if (err)
			break;
		for (uint32_t s = 0; !err && s < slots_per_block(fs); s++) {
			uint32_t v = e4_le32(b->data, b->size,
					     s * E4_ORPHAN_SLOT_SIZE);

			if (!v || e4_block_set_add(seen, v) != 0)
				continue;
			if (*n == cap) {
				uint32_t *nv;

				cap = cap ? cap * 2 : 16;
				nv = realloc(*out, cap * sizeof(*nv));
				if (!nv) {
					err = -ENOMEM;
					break;
				}
				*out = nv;
			}
			(*out)[(*n)++] = v;
		}
		e4_meta_put(fs, b);
	}
	e4_block_set_free(seen);
	return err;
}

/* Empty the orphan file's slots and the list's head. */
static int clear_pending(struct e4_fs *fs, struct e4_writer *w)
{
	struct e4_orphans *o = w->orphans;
	struct e4_handle h;
	int err = e4_handle_start(w->txm, (unsigned)o->nblocks + 2u, &h), e2;

	if (err)
		return err;
	if (fs->last_orphan)
		err = set_head(fs, &h, 0);
	for (size_t i = 0; !err && o->use_file && i < o->nblocks; i++) {
		struct e4_owner owner = e4_owner_of(&o->ofile, 0);
		struct e4_buf *copy;

		err = e4_handle_get_write_access(&h, o->blocks[i],
						 &e4_bops_orphan, &owner,
						 &copy);
		if (!err) {
			memset(copy->data, 0,
			       (size_t)slots_per_block(fs) * E4_ORPHAN_SLOT_SIZE);
			err = e4_handle_dirty(&h, copy);
		}
	}
	e2 = e4_handle_stop(&h);
	return err ? err : e2;
}

int e4_orphans_start(struct e4_fs *fs, struct e4_writer *w)
{
	struct e4_orphans *o = calloc(1, sizeof(*o));
	uint32_t *todo = NULL;
	size_t n = 0;
	int err = 0;

	if (!o)
		return -ENOMEM;
	pthread_mutex_init(&o->lock, NULL);
	w->orphans = o;
	if ((fs->feature_compat & E4_COMPAT_ORPHAN_FILE) &&
	    fs->orphan_file_inum) {
		o->use_file = true;
		o->slots = e4_hmap_new(sizeof(uint64_t));
		err = o->slots ? map_orphan_file(fs, o) : -ENOMEM;
	}
	if (!err)
		err = pending(fs, o, &todo, &n);
	if (!err && n)
		e4_log(fs, E4_LOG_INFO, "%zu orphan inodes to clean up", n);
	for (size_t i = 0; !err && i < n; i++)
		err = process_one(fs, w, todo[i]);
	if (!err && (n || fs->last_orphan))
		err = clear_pending(fs, w);
	free(todo);
	return err;
}

void e4_orphans_stop(struct e4_writer *w)
{
	struct e4_orphans *o = w->orphans;

	if (!o)
		return;
	pthread_mutex_destroy(&o->lock);
	free(o->list);
	free(o->blocks);
	e4_hmap_free(o->slots);
	free(o);
	w->orphans = NULL;
}
