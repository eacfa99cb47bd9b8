/* SPDX-License-Identifier: MIT */
/*
 * The verifier table (xfsprogs' buf_ops): one row per kind of metadata
 * block, each with a read verifier (checksum, then structure), a write
 * verifier (the structure again) and a checksum setter.
 *
 * Readers get a metadata block through its row (e4_meta_get_verified): the
 * row is attached to the cached buffer with the owner it was verified for
 * and the result, so it runs once per block read, and a block that failed
 * is reported once, not on every use.  A buffer remembers one verdict: a
 * block several owners reach (an inode-table block holds many inodes) is
 * verified again, and a bad part reported again, when the owner changes.  Writers change a private copy and
 * hand it to a transaction handle, which runs the row's write verifier and
 * checksum setter before the copy is published (src/tx/trans.c): a block
 * never leaves its writer unverified or with a stale checksum.
 */
#ifndef E4_ONDISK_VERIFY_H
#define E4_ONDISK_VERIFY_H

#include <stdint.h>

#include "e4/format.h"

#include "io/cache.h"

struct e4_fs;

/* Whose block it is, as far as verifying it goes. */
struct e4_owner {
	uint32_t ino;	/* the inode it belongs to (0: none) */
	uint32_t gen;	/* that inode's generation: checksum seeds use it;
			 * journal blocks: the journal's seed */
	uint64_t pos;	/* where: a logical block, a group number */
	uint64_t span;	/* how far its pointers may reach (a directory's
			 * blocks, for index nodes) */
	bool encrypted;	/* the inode has ENCRYPT_FL: a directory's names
			 * are ciphertext, any bytes (§7.1) */
};

struct e4_buf_ops {
	const char *name;
	enum e4_buf_kind kind;
	/* checksum, then structure, on a block just read */
	int (*verify_read)(struct e4_fs *fs, const struct e4_buf *buf,
			   const struct e4_owner *owner);
	/* the structure again, on a block a writer changed */
	int (*verify_write)(struct e4_fs *fs, const struct e4_buf *buf,
			    const struct e4_owner *owner);
	/* set the checksum; NULL when the kind keeps it elsewhere (bitmaps:
	 * in their group descriptor) */
	void (*csum_set)(struct e4_fs *fs, struct e4_buf *buf,
			 const struct e4_owner *owner);
};

/* The rows, one per kind (each defined next to its structure's parser). */
extern const struct e4_buf_ops e4_bops_superblock;	/* superblock.c */
extern const struct e4_buf_ops e4_bops_gdt;		/* group.c */
extern const struct e4_buf_ops e4_bops_block_bitmap;	/* bitmap.c */
extern const struct e4_buf_ops e4_bops_inode_bitmap;	/* bitmap.c */
extern const struct e4_buf_ops e4_bops_inode_table;	/* inode.c */
extern const struct e4_buf_ops e4_bops_inode_new;	/* inode.c: a free
							 * record taken */
extern const struct e4_buf_ops e4_bops_extent;		/* extent.c */
extern const struct e4_buf_ops e4_bops_indirect;	/* blockmap.c */
extern const struct e4_buf_ops e4_bops_dir_leaf;	/* dir.c */
extern const struct e4_buf_ops e4_bops_dx_node;		/* htree.c */
extern const struct e4_buf_ops e4_bops_xattr;		/* xattr.c */
extern const struct e4_buf_ops e4_bops_orphan;		/* orphan.c */
extern const struct e4_buf_ops e4_bops_jbd2_sb;		/* journal.c */
extern const struct e4_buf_ops e4_bops_jbd2_tail;	/* journal.c */
extern const struct e4_buf_ops e4_bops_jbd2_commit;	/* journal.c */

/* Every row, for tests and tools: NULL-terminated. */
extern const struct e4_buf_ops *const e4_bops_table[];

/* What the memo on a buffer is keyed by: the whole owner (a block reached
 * for another inode, generation, position or span is verified again). */
static inline struct e4_memo_key e4_owner_key(const struct e4_owner *o)
{
	struct e4_memo_key k = {
		{ (uint64_t)o->gen << 32 | o->ino, o->pos, o->span } };
	return k;
}

/* The owner of a block of @inode's at logical block @pos. */
static inline struct e4_owner e4_owner_of(const struct e4_inode *inode,
					  uint64_t pos)
{
	struct e4_owner o = { inode->ino, inode->generation, pos, 0,
			      (inode->flags & E4_ENCRYPT_FL) != 0 };
	return o;
}

/*
 * Get block @blk verified by @ops for @owner: the read verifier runs on
 * the first use of each cached version; its result stays with the buffer,
 * so a block that failed fails again without a second report.
 */
int e4_meta_get_verified(struct e4_fs *fs, uint64_t blk,
			 const struct e4_buf_ops *ops,
			 const struct e4_owner *owner, struct e4_buf **out);
/* The same on a buffer the caller already holds (0 or the verifier's
 * error; the buffer stays held). */
int e4_buf_verify(struct e4_fs *fs, struct e4_buf *buf,
		  const struct e4_buf_ops *ops, const struct e4_owner *owner);

#endif /* E4_ONDISK_VERIFY_H */
