/* SPDX-License-Identifier: MIT */
/*
 * What a writable file system adds to struct e4_fs (fs->writer): the
 * transaction manager and the allocator, and the helpers every operation
 * of the write side shares.
 */
#ifndef E4_FS_WRITER_H
#define E4_FS_WRITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "alloc/alloc.h"
#include "e4/write.h"
#include "fs/icache.h"
#include "fs/mapping.h"
#include "ondisk/ondisk.h"
#include "tx/trans.h"

struct e4_orphans;
struct e4_journal;

struct e4_writer {
	struct e4_txm *txm;
	struct e4_alloc *alloc;
	struct e4_orphans *orphans;	/* orphan_write.c */
	struct e4_journal *jlog;	/* the log writer, with a journal */
	pthread_mutex_t rename_lock;	/* one rename at a time */
	pthread_mutex_t ea_lock;	/* EA inode counts (ea_inode_write.c) */
	enum e4_atime_policy atime;
	bool nodiratime;
	struct e4_fsync_table *fsync;	/* fsync.c */
};

/* fsync.c: the last transaction that changed each inode (@data: what
 * reading its data needs: size, mapping, flags), for fsync and
 * fdatasync.  @tid 0: the running one. */
struct e4_fsync_table;
int e4_fsync_table_create(struct e4_fsync_table **out);
void e4_fsync_table_destroy(struct e4_fsync_table *t);
void e4_fsync_note(struct e4_writer *w, uint32_t ino, uint64_t tid, bool data);

/* The writer of @fs, or NULL (-EROFS to the caller) when it is not
 * writable or no longer (an aborted transaction). */
struct e4_writer *e4_writer_get(struct e4_fs *fs);

/* After an operation failed with @err and stopped its handle: whether to
 * run it again.  On ENOSPC while blocks freed by uncommitted transactions
 * wait, commits them and says yes, at most three times per operation
 * (*@retries counts), as kernel ext4 retries its allocations. */
bool e4_writer_retry_alloc(struct e4_writer *w, int err, unsigned *retries);

/* Write @in into its inode-table record through @h: @fresh for an inode
 * just allocated (its old record is neither read nor kept).  Updates
 * in->record_digest to the record written. */
int e4_inode_write(struct e4_fs *fs, struct e4_handle *h,
		   struct e4_inode *in, bool fresh);

/* The same in a handle of its own (one credit): an operation whose only
 * change is the inode. */
int e4_inode_write_alone(struct e4_fs *fs, struct e4_writer *w,
			 struct e4_inode *in);

/* The same, with the in-inode xattr area (@len bytes from 128 +
 * extra_isize to the record's end) replaced by @ibody. */
int e4_inode_write_ibody(struct e4_fs *fs, struct e4_handle *h,
			 struct e4_inode *in, const uint8_t *ibody,
			 size_t len);

/* The time now, as inodes store it. */
struct e4_time e4_now(void);

/* A change of @in's mapping in @h. */
static inline struct e4_map_change e4_map_change_of(struct e4_fs *fs,
						    struct e4_writer *w,
						    struct e4_handle *h,
						    struct e4_inode *in)
{
	struct e4_map_change c = { fs, w->alloc, h, in, false, 0, 0 };
	return c;
}

/* ---- dir_write.c ---------------------------------------------------------- */

/* Credits e4_dir_add may need: a leaf split at every index level and the
 * root grown, each a new block mapped (extent insert) and allocated; an
 * inline directory converted first. */
#define E4_DIR_ADD_CREDITS \
	(4u * (3u + E4_ALLOC_BLOCK_CREDITS + E4_EXT_INSERT_CREDITS) + \
	 E4_INLINE_CONVERT_CREDITS)
#define E4_DIR_REMOVE_CREDITS 1u

/* Add entry (@name, @ino, @ftype) to directory @dir (in-core copy: its
 * size and blocks change when it grows).  The caller checked the name is
 * not there. */
int e4_dir_add(struct e4_map_change *c, const char *name, size_t len,
	       uint32_t ino, uint8_t ftype);
/* Put the entry into leaf @lblk of @dir if it has a gap: 1 done, 0 no
 * room, or -errno. */
int e4_dir_leaf_add(struct e4_fs *fs, struct e4_handle *h,
		    const struct e4_inode *dir, uint64_t lblk,
		    const char *name, size_t len, uint32_t ino, uint8_t ftype);
/* A new last block of @c's directory, allocated and mapped (the caller
 * fills it); its logical and physical numbers. */
int e4_dir_append_block(struct e4_map_change *c, uint64_t *lblk,
			uint64_t *pblk);

/* ---- htree_write.c ---------------------------------------------------------- */

/* Add the entry to indexed directory @c->inode: the leaf its hash belongs
 * in, split when full (and the index nodes above it, the root growing a
 * level while the format allows: then -ENOSPC, the directory is full). */
int e4_htree_add(struct e4_map_change *c, const char *name, size_t len,
		 uint32_t ino, uint8_t ftype);
/* Turn one-block linear directory @c->inode into an indexed one: block 0
 * becomes the root, its names move to a new leaf. */
int e4_htree_make_indexed(struct e4_map_change *c);

/* Remove the entry at @slot (from e4_dir_find_slot) of @dir (in-core copy:
 * an inline directory changes in it, and is written). */
int e4_dir_remove(struct e4_fs *fs, struct e4_handle *h,
		  struct e4_inode *dir, const struct e4_dir_slot *slot);
/* Point the entry at @slot to @ino (rename over an existing name). */
int e4_dir_retarget(struct e4_fs *fs, struct e4_handle *h,
		    struct e4_inode *dir, const struct e4_dir_slot *slot,
		    uint32_t ino, uint8_t ftype);
/* Put entry (@name, @ino, @ftype) into the first gap of the entries that
 * tile [@start, @end) of @buf (a block-sized buffer): true if it went in. */
bool e4_dirent_place(const struct e4_fs *fs, uint8_t *buf, uint32_t start,
		     uint32_t end, const char *name, size_t len, uint32_t ino,
		     uint8_t ftype);
/* Remove the entry at @off of @buf: merged into the entry @prev before it,
 * or marked unused when it is the first of its area (UINT32_MAX). */
void e4_dirent_unlink(const struct e4_fs *fs, uint8_t *buf, uint32_t off,
		      uint32_t prev);
/* A new directory @dir (".", ".." -> @parent): inline on an inline_data
 * file system when the inode has room (its record written fresh already),
 * else its first block, allocated and mapped through @c. */
int e4_dir_init(struct e4_map_change *c, uint32_t parent);
/* 1 if @dir holds no names but "." and "..", 0 if it does. */
int e4_dir_is_empty(struct e4_fs *fs, const struct e4_inode *dir);

/* ---- file_write.c ---------------------------------------------------------- */

/* Free every block of @in from logical block @from on, in as many
 * handles as it takes (the inode written back after each); the caller
 * holds the inode's lock and no handle. */
int e4_file_free_from(struct e4_fs *fs, struct e4_writer *w,
		      struct e4_inode *in, uint64_t from);

/* Write @len bytes at byte @in_blk of blocks [pblk, pblk+nblocks) that
 * held nothing a file may show: the rest of the first and last blocks is
 * zeroed.  Straight to the device, before the metadata that will point
 * there. */
int e4_write_fresh(struct e4_fs *fs, uint64_t pblk, uint64_t nblocks,
		   uint32_t in_blk, const void *buf, size_t len);

/* ---- fallocate.c ------------------------------------------------------------ */

/* One step of preallocation: unwritten blocks (at most @want, the hole at
 * @lblk being @hole_len long) allocated and mapped in @in, in a handle of
 * its own, retried as allocations are; *@n the blocks mapped.  The
 * caller holds the inode's lock and installs @in after it. */
int e4_prealloc_step(struct e4_fs *fs, struct e4_writer *w,
		     struct e4_inode *in, uint64_t lblk, uint64_t want,
		     uint64_t hole_len, uint64_t *n);

/* ---- iomap_write.c ---------------------------------------------------------- */

/* Blocks [lblk, lblk + n) at @pblk, one unwritten run of @c's extent tree
 * (or part of one), made written: the run cut out (the rest stays
 * unwritten) and put in again, its tree blocks promised by the caller. */
int e4_unwritten_mark_written(struct e4_map_change *c, uint64_t lblk,
			      uint64_t n, uint64_t pblk);

/* ---- namei_write.c -------------------------------------------------------- */

/* Free everything inode @in holds and the inode itself: its last link and
 * last reference are gone (e4_iput calls it). */
int e4_inode_delete(struct e4_fs *fs, struct e4_inode *in);
/* The same without following what its attributes name (an EA inode's
 * name nothing): no deletion leads to another through it. */
int e4_inode_delete_alone(struct e4_fs *fs, struct e4_inode *in);

/* ---- xattr_write.c ------------------------------------------------------- */

/* Credits of a change of attributes: the inode, the old and the new block,
 * an allocation and a free. */
#define E4_XATTR_SET_CREDITS (3u + 2u * E4_ALLOC_BLOCK_CREDITS)
/* Let go of @in's xattr block: freed with its last user, else one user
 * less (§9.3); in->file_acl and i_blocks follow. */
int e4_xattr_block_release(struct e4_fs *fs, struct e4_writer *w,
			   struct e4_handle *h, struct e4_inode *in);

/* Before @in goes: the EA inodes its attributes hold (those of its
 * in-inode area, and of its block when it is the block's last user), one
 * reference each; *@inums malloc'd (NULL when none). */
int e4_xattr_ea_refs(struct e4_fs *fs, const struct e4_inode *in,
		     uint32_t **inums, size_t *n);

/* ---- ea_inode_write.c ---------------------------------------------------- */

/* Credits of e4_ea_inode_ref, and of e4_ea_inode_create for @len bytes. */
#define E4_EA_REF_CREDITS (1u + E4_ORPHAN_CREDITS)
unsigned e4_ea_inode_create_credits(const struct e4_fs *fs, size_t len);
/* A new EA inode holding @len bytes of @value for an attribute of inode
 * @owner, with one user, in @h: its number and i_blocks (the owner's
 * charge).  On failure nothing is left changed, or @h is aborted. */
int e4_ea_inode_create(struct e4_fs *fs, struct e4_writer *w,
		       struct e4_handle *h, uint32_t owner, const void *value,
		       size_t len, uint32_t *inum, uint64_t *blocks_512);
/* The i_blocks of EA inode @inum (an attribute of @owner names it). */
int e4_ea_inode_blocks(struct e4_fs *fs, uint32_t owner, uint32_t inum,
		       uint64_t *blocks_512);
/* One user more (@delta > 0) or less for EA inode @inum, in @h.  *@gone:
 * that was the last, the inode is an orphan now; delete it with
 * e4_ea_inode_delete once @h stopped. */
int e4_ea_inode_ref(struct e4_fs *fs, struct e4_writer *w,
		    struct e4_handle *h, uint32_t owner, uint32_t inum,
		    int delta, bool *gone);
int e4_ea_inode_delete(struct e4_fs *fs, uint32_t inum);

/* ---- orphan_write.c ------------------------------------------------------- */

/* Credits of adding or removing an orphan: the superblock, an orphan-file
 * block or a neighbour's record. */
#define E4_ORPHAN_CREDITS 1u
/* At the start of a session: the orphan file mapped, the orphans a crash
 * left processed (deleted, or cut to their size). */
int e4_orphans_start(struct e4_fs *fs, struct e4_writer *w);
void e4_orphans_stop(struct e4_writer *w);
/* Inode @ino (its last name just went) becomes an orphan, in @h. */
int e4_orphan_add(struct e4_fs *fs, struct e4_writer *w, struct e4_handle *h,
		  uint32_t ino);
/* ... and stops being one (it is being deleted). */
int e4_orphan_del(struct e4_fs *fs, struct e4_writer *w, struct e4_handle *h,
		  uint32_t ino);
/* The i_dtime @ino's record must hold: the next orphan of the classic
 * list when it is on it, 0 in the orphan file, else @dtime. */
uint32_t e4_orphan_dtime(struct e4_writer *w, uint32_t ino, uint32_t dtime);

/* ---- inline_write.c ------------------------------------------------------ */

/* Credits of converting an inline file or directory: a block allocated,
 * mapped and written, the inode. */
#define E4_INLINE_CONVERT_CREDITS \
	(E4_ALLOC_BLOCK_CREDITS + E4_EXT_INSERT_CREDITS + 2u)
/* Convert @c->inode from inline data to a mapped file (or block
 * directory) in @c's handle before it changes; 0 at once when it is not
 * inline.  The in-inode attributes without system.data are written here;
 * the caller writes the inode again afterwards as usual. */
int e4_inline_convert(struct e4_map_change *c);
/* Whether @in's data may live in the inode: it does already, or it is an
 * empty regular file with no blocks on an inline_data file system. */
bool e4_inline_may_hold(const struct e4_fs *fs, const struct e4_inode *in);
/* Make @in's inline data @size bytes, its first bytes as they were (zeros
 * past the old size) and @len bytes of @buf at @off (off + len <= size),
 * in place, and write @in in @h (one credit).  -ENOSPC, with nothing
 * changed, when the result does not fit in the inode: convert first. */
int e4_inline_rewrite(struct e4_fs *fs, struct e4_handle *h,
		      struct e4_inode *in, uint64_t size, uint64_t off,
		      const void *buf, size_t len);
/* Largest inline size @in may have beside its other in-inode attributes
 * (60 + the largest system.data value that fits), 4-byte aligned. */
int e4_inline_capacity(struct e4_fs *fs, const struct e4_inode *in,
		       size_t *cap);
/* The same in a handle of its own, for an operation about to change the
 * inline inode @ip (locked; @in its working copy, installed in @ip). */
int e4_convert_if_inline(struct e4_fs *fs, struct e4_writer *w,
			 struct e4_ino *ip, struct e4_inode *in);

/* ---- inline_dir_write.c -------------------------------------------------- */

/* Inline directory @dir changed in the inode, in @h (one credit); each
 * writes @dir.  Add: -ENOSPC, nothing changed, when even a grown
 * system.data value cannot take the entry (convert, then add). */
int e4_inline_dir_add(struct e4_fs *fs, struct e4_handle *h,
		      struct e4_inode *dir, const char *name, size_t len,
		      uint32_t ino, uint8_t ftype);
int e4_inline_dir_remove(struct e4_fs *fs, struct e4_handle *h,
			 struct e4_inode *dir, const struct e4_dir_slot *slot);
/* @slot at offset 0 is "..": the parent field. */
int e4_inline_dir_retarget(struct e4_fs *fs, struct e4_handle *h,
			   struct e4_inode *dir,
			   const struct e4_dir_slot *slot, uint32_t ino,
			   uint8_t ftype);
/* New directory @dir made inline, ".." -> @parent: -ENOSPC when its
 * inode has no in-inode attribute area for system.data. */
int e4_inline_dir_init(struct e4_fs *fs, struct e4_handle *h,
		       struct e4_inode *dir, uint32_t parent);

/* ---- acl_write.c -------------------------------------------------------- */

#define E4_XATTR_NAME_ACL_ACCESS "system.posix_acl_access"
#define E4_XATTR_NAME_ACL_DEFAULT "system.posix_acl_default"
/* The permission bits ACL @x (xattr ABI form, @len bytes) says, into the
 * low 9 bits of *@mode (the kernel's posix_acl_equiv_mode): 1 if it says
 * more than they can (named entries, a mask), 0 if not, -EINVAL for an
 * unknown tag. */
int e4_acl_equiv_mode(const uint8_t *x, size_t len, uint32_t *mode);
/* What a new inode inherits from its directory (posix_acl_create). */
struct e4_acl_inherit {
	uint8_t *access, *def;	/* xattr ABI form; NULL: none */
	size_t access_len, def_len;
};
/* Before a new inode of *@mode is made in @dir: with a default ACL on
 * @dir, *@mode masked by it and @out the ACLs the inode gets (the access
 * ACL when it says more than the mode, the default ACL again for a
 * directory); without one, *@mode masked by @umask.  Symlinks: nothing. */
int e4_acl_inherit_prepare(struct e4_fs *fs, const struct e4_inode *dir,
			   uint32_t *mode, uint32_t umask,
			   struct e4_acl_inherit *out);
/* ... and once it is made, @a set on it. */
int e4_acl_inherit_apply(struct e4_fs *fs, struct e4_ino *ip,
			 const struct e4_acl_inherit *a);
void e4_acl_inherit_free(struct e4_acl_inherit *a);
/* After a chmod of @ip: its access ACL, if any, says the new permission
 * bits (posix_acl_chmod). */
int e4_acl_chmod(struct e4_fs *fs, struct e4_ino *ip);

#endif /* E4_FS_WRITER_H */
