/* SPDX-License-Identifier: MIT */
/*
 * Setting and removing extended attributes (§9; see e4/write.h).
 *
 * A change reads every attribute of the inode (both areas, validated as a
 * read validates them), changes the list, and lays it out again: the
 * in-inode area first (the attributes that were there, then the changed
 * one, then those of the block, as long as they fit), the rest in the
 * block, sorted as the format wants.  A block shared with other inodes
 * (h_refcount > 1) is never changed in place: the inode gets a block of its
 * own and the shared one a user less (copy on write).  Values held in EA
 * inodes (ea_inode_write.c) hold values too large for the rest; the
 * entries naming them count as their users.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/writer.h"

int e4_xattr_block_release(struct e4_fs *fs, struct e4_writer *w,
			   struct e4_handle *h, struct e4_inode *in)
{
	struct e4_owner owner = e4_owner_of(in, 0);
	uint64_t blk = in->file_acl;
	struct e4_buf *copy;
	uint32_t refs;
	int err;

	if (!blk)
		return 0;
	err = e4_handle_get_write_access(h, blk, &e4_bops_xattr, &owner,
					 &copy);
	if (err)
		return err;
	refs = e4_le32(copy->data, copy->size, E4_XATTR_H_REFCOUNT);
	if (refs <= 1) {
		e4_handle_release(h, copy);
		e4_handle_forget(h, blk);
		err = e4_free_blocks(w->alloc, h, blk, fs->cluster_ratio);
	} else {
		e4_put_le32(copy->data, copy->size, E4_XATTR_H_REFCOUNT,
			    refs - 1);
		err = e4_handle_dirty(h, copy);
	}
	if (!err) {
		in->blocks_512 -= e4_blocks_to_512(fs, fs->cluster_ratio);
		in->file_acl = 0;
	}
	return err;
}

/* The users of xattr block @blk (0 for none). */
static int block_refs(struct e4_fs *fs, const struct e4_inode *in,
		      uint32_t *refs)
{
	struct e4_owner owner = e4_owner_of(in, 0);
	struct e4_buf *b;
	int err;

	*refs = 0;
	if (!in->file_acl)
		return 0;
	err = e4_meta_get_verified(fs, in->file_acl, &e4_bops_xattr, &owner,
				   &b);
	if (err)
		return err;
	*refs = e4_le32(b->data, b->size, E4_XATTR_H_REFCOUNT);
	e4_meta_put(fs, b);
	return 0;
}

/* Write @items (n, already sorted out for the block) as @in's block: in
 * place when only @in uses it, else in a new block of its own. */
static int write_block(struct e4_fs *fs, struct e4_writer *w,
		       struct e4_handle *h, struct e4_inode *in,
		       struct e4_xattr_item **items, size_t n)
{
	struct e4_owner owner = e4_owner_of(in, 0);
	struct e4_buf *copy;
	uint32_t refs;
	int err = block_refs(fs, in, &refs);

	if (err)
		return err;
	if (refs == 1) {
		err = e4_handle_get_write_access(h, in->file_acl,
						 &e4_bops_xattr, &owner,
						 &copy);
	} else {
		struct e4_alloc_req req = { .ino = in->ino, .len = 1,
					    .metadata = true };
		uint64_t blk, count;

		/* a shared block keeps its other users; ours is new, and
		 * found first: without it nothing has changed */
		err = e4_alloc_blocks(w->alloc, h, &req, &blk, &count);
		if (!err)
			err = e4_xattr_block_release(fs, w, h, in);
		if (!err) {
			in->file_acl = blk;
			in->blocks_512 += e4_blocks_to_512(fs, count);
			err = e4_handle_get_create_access(h, blk,
							  &e4_bops_xattr,
							  &owner, &copy);
		}
	}
	if (err)
		return err;
	err = e4_xattr_block_encode(fs, items, n, copy->data);
	if (err) {
		e4_handle_release(h, copy);
		return err;
	}
	return e4_handle_dirty(h, copy);
}

/* Where each attribute goes: the in-inode area as far as it holds them, in
 * order, the block for the rest.  -ENOSPC when the rest do not fit in a
 * block either. */
static int place(struct e4_fs *fs, const struct e4_inode *in,
		 struct e4_xattr_items *it, struct e4_xattr_item **ibody, size_t *ni,
		 struct e4_xattr_item **block, size_t *nb)
{
	/* (items come in area order: the in-inode ones first, a new one
	 * last, so an attribute keeps its area when it still fits) */
	size_t room = 0, used = 2 * E4_XATTR_END_SIZE;	/* magic, end */
	size_t bused = E4_XATTR_BLOCK_HEADER + E4_XATTR_END_SIZE;

	if (it->ibody_has_room)
		room = e4_xattr_ibody_size(fs, in);
	*ni = *nb = 0;
	/* inline data's system.data lives in the inode or nowhere: placed
	 * first, it fits there, since it was there */
	for (size_t k = 1; k < it->n; k++) {
		struct e4_xattr_item t = it->v[k];

		if (t.index == E4_XATTR_INDEX_SYSTEM && t.name_len == 4 &&
		    !memcmp(t.name, "data", 4)) {
			memmove(&it->v[1], &it->v[0], k * sizeof(t));
			it->v[0] = t;
			break;
		}
	}
	for (size_t k = 0; k < it->n; k++) {
		struct e4_xattr_item *x = &it->v[k];
		size_t sz = e4_xattr_item_size(x);

		if (used + sz <= room) {
			ibody[(*ni)++] = x;
			used += sz;
		} else {
			block[(*nb)++] = x;
			bused += sz;
		}
	}
	return bused > fs->block_size ? -ENOSPC : 0;
}

/* A value not yet in the EA inode it will get: placed as an entry with
 * no value bytes. */
#define EA_PENDING UINT32_MAX

static bool is_inline_data(const struct e4_xattr_item *x)
{
	return x->index == E4_XATTR_INDEX_SYSTEM && x->name_len == 4 &&
	       !memcmp(x->name, "data", 4);
}

/* The references an attribute set changes: for each EA inode named
 * before or after, one user less for each of the inode's own entries
 * that named it (its in-inode ones, and its block's when it was the only
 * user), one more for each entry that names it now (a new block, or the
 * old one in place, is its own).  An EA inode made for the value being
 * set starts with its user and is not among @after. */
struct ea_refs {
	uint32_t *inum;
	int *delta;
	size_t n;
};

static void ea_refs_add(struct ea_refs *r, uint32_t inum, int d)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->inum[i] == inum) {
			r->delta[i] += d;
			return;
		}
	r->inum[r->n] = inum;
	r->delta[r->n++] = d;
}

/* How many of @it's entries name an EA inode. */
static size_t ea_count(const struct e4_xattr_items *it)
{
	size_t n = 0;

	for (size_t k = 0; k < it->n; k++)
		n += it->v[k].value_inum != 0;
	return n;
}

static int ea_refs_init(struct ea_refs *r, size_t cap)
{
	r->n = 0;
	r->inum = malloc((cap ? cap : 1) * sizeof(*r->inum));
	r->delta = malloc((cap ? cap : 1) * sizeof(*r->delta));
	return r->inum && r->delta ? 0 : -ENOMEM;
}

static void ea_refs_free(struct ea_refs *r)
{
	free(r->inum);
	free(r->delta);
}

int e4_xattr_ea_refs(struct e4_fs *fs, const struct e4_inode *in,
		     uint32_t **inums, size_t *n)
{
	struct e4_xattr_items it;
	uint32_t users;
	int err;

	*inums = NULL;
	*n = 0;
	if (!(fs->feature_incompat & E4_INCOMPAT_EA_INODE))
		return 0;
	err = e4_xattr_collect(fs, in, &it);
	if (!err)
		err = block_refs(fs, in, &users);
	if (!err && ea_count(&it)) {
		*inums = malloc(ea_count(&it) * sizeof(**inums));
		if (!*inums)
			err = -ENOMEM;
		for (size_t k = 0; !err && k < it.n; k++)
			if (it.v[k].value_inum &&
			    (!it.v[k].in_block || users <= 1))
				(*inums)[(*n)++] = it.v[k].value_inum;
	}
	e4_xattr_items_free(&it);
	return err;
}

/* Make the EA inode of the pending item @x (its value in x->value), in
 * @h; @in is charged its blocks. */
static int ea_make(struct e4_fs *fs, struct e4_writer *w, struct e4_handle *h,
		   struct e4_inode *in, struct e4_xattr_item *x)
{
	uint64_t blocks;
	uint32_t inum;
	int err = e4_ea_inode_create(fs, w, h, in->ino, x->value, x->value_len,
				     &inum, &blocks);

	if (err)
		return err;
	x->value_inum = inum;
	x->ea_hash = e4_xattr_ea_value_hash(fs, x->value, x->value_len);
	in->blocks_512 += blocks;
	return 0;
}

/* Apply @r in @h; the EA inodes left without users go on @gone (room for
 * r->n). */
static int ea_refs_apply(struct e4_fs *fs, struct e4_writer *w,
			 struct e4_handle *h, uint32_t owner,
			 const struct ea_refs *r, uint32_t *gone, size_t *ngone)
{
	int err = 0;

	for (size_t i = 0; !err && i < r->n; i++) {
		int d = r->delta[i];

		while (!err && d != 0) {
			bool last = false;

			err = e4_ea_inode_ref(fs, w, h, owner, r->inum[i],
					      d > 0 ? 1 : -1, &last);
			if (last)
				gone[(*ngone)++] = r->inum[i];
			d += d > 0 ? -1 : 1;
		}
	}
	return err;
}

static void ea_delete_all(struct e4_fs *fs, const uint32_t *gone, size_t n)
{
	for (size_t i = 0; i < n; i++)
		e4_ea_inode_delete(fs, gone[i]);
}

/* The index of attribute (@index, @suffix) in @it, or it->n. */
static size_t find_item(const struct e4_xattr_items *it, uint8_t index,
			const char *suffix, size_t len)
{
	size_t k;

	for (k = 0; k < it->n; k++)
		if (it->v[k].index == index && it->v[k].name_len == len &&
		    memcmp(it->v[k].name, suffix, len) == 0)
			break;
	return k;
}

static int set(struct e4_fs *fs, struct e4_ino *ip, const char *name,
	       const void *value, size_t size, bool remove, unsigned flags)
{
	struct e4_writer *w = e4_writer_get(fs);
	struct e4_xattr_items it;
	struct e4_xattr_item **ibody = NULL, **block = NULL;
	struct e4_inode in;
	struct e4_handle h;
	struct ea_refs refs = { 0 };
	const char *suffix;
	size_t suffix_len, ni, nb, found, area, nbefore, ngone = 0;
	uint8_t index, *disk = NULL, *area_buf = NULL;
	uint32_t acl_mode = 0, users = 0, old_inum = 0, *gone = NULL;
	uint64_t old_blocks = 0;
	bool is_acl, sets_mode = false, untouched, ea_feature;
	unsigned retries = 0, credits;
	int err, e2;

	if (!w)
		return -EROFS;
	err = e4_xattr_name_parse(name, &index, &suffix, &suffix_len);
	if (err)
		return err;
	if (!remove && size > 65536)
		return -E2BIG;
	ea_feature = fs->feature_incompat & E4_INCOMPAT_EA_INODE;
	is_acl = index == E4_XATTR_INDEX_POSIX_ACL_ACCESS ||
		 index == E4_XATTR_INDEX_POSIX_ACL_DEFAULT;
	if (is_acl)	/* the VFS's set_acl path takes no flags */
		flags &= ~(unsigned)(E4_XATTR_CREATE | E4_XATTR_REPLACE);
	if (!remove && is_acl) {
		ssize_t n;

		disk = malloc(size ? size : 1);
		if (!disk)
			return -ENOMEM;
		n = e4_acl_from_xattr(value, size, disk, size);
		if (n >= 0 && index == E4_XATTR_INDEX_POSIX_ACL_ACCESS) {
			/* posix_acl_update_mode(): the ACL sets the mode
			 * and, saying no more than it, is not kept */
			int more = e4_acl_equiv_mode(value, size, &acl_mode);

			n = more < 0 ? more : n;
			sets_mode = true;
			remove = more == 0;
		}
		if (n < 0) {
			free(disk);
			return (int)n;
		}
		value = disk;
		size = (size_t)n;
	}
	e4_ino_lock(ip);
	in = ip->inode;
	err = e4_xattr_collect(fs, &in, &it);
	if (err)
		goto unlock;
	if (in.flags & (E4_IMMUTABLE_FL | E4_APPEND_FL)) {
		err = -EPERM;
		goto out;
	}
	if (index == E4_XATTR_INDEX_POSIX_ACL_DEFAULT && !remove &&
	    !e4_inode_is_dir(&in)) {
		err = -EACCES;
		goto out;
	}
	found = find_item(&it, index, suffix, suffix_len);
	if ((flags & E4_XATTR_CREATE) && found < it.n)
		err = -EEXIST;
	else if ((remove || (flags & E4_XATTR_REPLACE)) && found == it.n &&
		 !is_acl)
		err = -ENODATA;
	if (err)
		goto out;
	/* an ACL that is not there, removed: nothing changes (ext4) */
	if (remove && found == it.n && !sets_mode)
		goto out;
	/* the references held before: the block's only when it is ours */
	nbefore = ea_count(&it);
	err = block_refs(fs, &in, &users);
	if (!err)
		err = ea_refs_init(&refs, nbefore + 1);
	if (!err && found < it.n && it.v[found].value_inum) {
		old_inum = it.v[found].value_inum;
		err = e4_ea_inode_blocks(fs, in.ino, old_inum, &old_blocks);
	}
	if (err)
		goto out;
	for (size_t k = 0; k < it.n; k++)
		if (it.v[k].value_inum && (!it.v[k].in_block || users <= 1))
			ea_refs_add(&refs, it.v[k].value_inum, -1);
	if (sets_mode) {
		in.mode = (uint16_t)((in.mode & ~0777u) | (acl_mode & 0777u));
		if (flags & E4_XATTR_KILL_SGID)
			in.mode &= (uint16_t)~02000u;
	}
	if (remove) {
		if (found < it.n) {
			free(it.v[found].value);
			memmove(&it.v[found], &it.v[found + 1],
				(it.n - found - 1) * sizeof(*it.v));
			it.n--;
		}
	} else {
		uint8_t *copy = NULL;

		if (size) {
			copy = malloc(size);
			if (!copy) {
				err = -ENOMEM;
				goto out;
			}
			memcpy(copy, value, size);
		}
		if (found == it.n) {
			if (it.n == it.cap) {
				size_t cap = it.cap ? it.cap * 2 : 8;
				struct e4_xattr_item *v = realloc(it.v,
						cap * sizeof(*v));

				if (!v) {
					free(copy);
					err = -ENOMEM;
					goto out;
				}
				it.v = v;
				it.cap = cap;
			}
			memset(&it.v[it.n], 0, sizeof(*it.v));
			it.v[it.n].index = index;
			it.v[it.n].name_len = (uint8_t)suffix_len;
			memcpy(it.v[it.n].name, suffix, suffix_len);
			it.n++;
		}
		free(it.v[found].value);
		it.v[found].value = copy;
		it.v[found].value_len = (uint32_t)size;
		it.v[found].ea_hash = 0;
		/* a value larger than most of a block goes to an EA inode
		 * at once (as the kernel sends it) */
		it.v[found].value_inum = ea_feature &&
			!is_inline_data(&it.v[found]) &&
			size > fs->block_size - fs->block_size / 8 ?
			EA_PENDING : 0;
	}
	ibody = malloc((it.n + 1) * sizeof(*ibody));
	block = malloc((it.n + 1) * sizeof(*block));
	area = e4_xattr_ibody_size(fs, &in);
	area_buf = malloc(area ? area : 1);
	gone = malloc((nbefore + 1) * sizeof(*gone));
	if (!ibody || !block || !area_buf || !gone) {
		err = -ENOMEM;
		goto out;
	}
	err = place(fs, &in, &it, ibody, &ni, block, &nb);
	found = find_item(&it, index, suffix, suffix_len); /* place() sorts */
	/* no room for the value beside the others: an EA inode takes it */
	if (err == -ENOSPC && !remove && ea_feature && size &&
	    !it.v[found].value_inum && !is_inline_data(&it.v[found])) {
		it.v[found].value_inum = EA_PENDING;
		err = place(fs, &in, &it, ibody, &ni, block, &nb);
	}
	if (err)
		goto out;
	for (size_t k = 0; k < it.n; k++)
		if (it.v[k].value_inum && it.v[k].value_inum != EA_PENDING)
			ea_refs_add(&refs, it.v[k].value_inum, 1);
	credits = E4_XATTR_SET_CREDITS + (unsigned)refs.n * E4_EA_REF_CREDITS;
	for (size_t k = 0; k < it.n; k++)
		if (it.v[k].value_inum == EA_PENDING)
			credits += e4_ea_inode_create_credits(fs,
							      it.v[k].value_len);
retry:
	err = e4_handle_start(w->txm, credits, &h);
	if (err)
		goto out;
	for (size_t k = 0; !err && k < it.n; k++)
		if (it.v[k].value_inum == EA_PENDING)
			err = ea_make(fs, w, &h, &in, &it.v[k]);
	/* a failed EA inode was given back: the handle stands */
	untouched = err && !e4_txm_aborted(w->txm);
	if (!err && area)
		err = e4_xattr_ibody_encode(fs, ibody, ni, area_buf, area);
	if (!err && nb)
		err = write_block(fs, w, &h, &in, block, nb);
	else if (!err)
		err = e4_xattr_block_release(fs, w, &h, &in);
	if (!err)
		err = ea_refs_apply(fs, w, &h, in.ino, &refs, gone, &ngone);
	if (!err) {
		in.blocks_512 -= old_blocks < in.blocks_512 ? old_blocks :
							      in.blocks_512;
		in.ctime = e4_now();
		err = area ? e4_inode_write_ibody(fs, &h, &in, area_buf, area) :
			     e4_inode_write(fs, &h, &in, false);
	}
	/* a failure before anything changed (no space for a block of our
	 * own) changes nothing, and may be tried again once blocks freed
	 * by uncommitted transactions are free; after, the transaction
	 * cannot stand */
	untouched = untouched || h.used == 0;
	if (err && !untouched)
		e4_handle_abort(&h, err);
	e2 = e4_handle_stop(&h);
	if (!err)
		err = e2;
	if (err && untouched && e4_writer_retry_alloc(w, err, &retries))
		goto retry;
	if (!err) {
		ip->inode = in;
		ea_delete_all(fs, gone, ngone);
	}
out:
	e4_xattr_items_free(&it);
unlock:
	e4_ino_unlock(ip);
	ea_refs_free(&refs);
	free(gone);
	free(ibody);
	free(block);
	free(area_buf);
	free(disk);
	return err;
}

int e4_setxattr(struct e4_fs *fs, struct e4_ino *ip, const char *name,
		const void *value, size_t size, unsigned flags)
{
	return set(fs, ip, name, value, size, false, flags);
}

int e4_removexattr(struct e4_fs *fs, struct e4_ino *ip, const char *name)
{
	return set(fs, ip, name, NULL, 0, true, 0);
}
