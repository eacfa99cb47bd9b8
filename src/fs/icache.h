/* SPDX-License-Identifier: MIT */
/*
 * In-core inodes: the authoritative copy of each inode someone holds.
 *
 * One struct e4_ino per inode number in use, shared by every holder (the
 * FUSE node table holds one reference per node the kernel knows), so a
 * change a writer makes is seen by every reader at once; nothing keeps a
 * stale private copy.  Readers take consistent snapshots under the inode's
 * lock (e4_ino_snapshot); a writer changes the inode under the same lock,
 * held exclusively, and marks it dirty for the write path to put back into
 * the inode table through a transaction.
 *
 * The size the kernel sees (inode.size) may run ahead of the size on disk
 * (disksize) while written data is not yet durable, as i_size and
 * i_disksize do in the kernel's ext4.
 */
#ifndef E4_FS_ICACHE_H
#define E4_FS_ICACHE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "e4/e4.h"

struct e4_ino {
	uint32_t ino;
	pthread_rwlock_t lock;	/* guards everything below */
	struct e4_inode inode;	/* as it is now, in memory */
	uint64_t disksize;	/* i_size as the inode table holds it */
	bool dirty;		/* differs from the inode table */
	bool linkable;		/* O_TMPFILE, no name yet: LINK may give it
				 * its first (the kernel's I_LINKABLE) */
	/* owned by the cache */
	unsigned refs;
};

struct e4_icache;

int e4_icache_create(struct e4_icache **out);
void e4_icache_destroy(struct e4_icache *c);
/* In-core inodes held now (for tests and the resource oracle). */
size_t e4_icache_count(struct e4_icache *c);

/* The in-core inode of @in, an inode just made (as its record was
 * written: nothing to read, and an O_TMPFILE inode has no links). */
int e4_iget_made(struct e4_fs *fs, const struct e4_inode *in,
		 struct e4_ino **out);

/* Take the inode's lock exclusively to change it; the caller marks it
 * dirty (e4_ino_mark_dirty) when it did. */
void e4_ino_lock(struct e4_ino *ip);
void e4_ino_unlock(struct e4_ino *ip);
void e4_ino_mark_dirty(struct e4_ino *ip);	/* lock held */

#endif /* E4_FS_ICACHE_H */
