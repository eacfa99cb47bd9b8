/* SPDX-License-Identifier: MIT */
/*
 * The allocator: blocks and inodes, over the bitmaps and the group
 * descriptors, every change through a transaction handle.
 *
 * Defensive first.  The fixed metadata of the file system (superblock
 * copies, descriptor tables and reserved GDT blocks, bitmaps, inode tables:
 * ondisk/group.c's e4_group_metadata), the journal's blocks and the MMP
 * block form the "system zone", which is never handed out whatever a
 * bitmap says.  When a group's block bitmap is first used it is checked:
 * a system-zone cluster marked free, or a free count that disagrees with
 * the descriptor, is corruption (AL3, AL2: reported once, errors= applies)
 * and the group is never allocated from again in this mount.
 *
 * Cheap on big file systems: nothing is read at creation; a group's
 * descriptor is read when the search first reaches it, and its counts then
 * live in a per-group summary (free clusters, free inodes, directories,
 * and the longest free run a search found), so a search on a nearly full
 * file system skips full groups in memory instead of reading bitmaps.
 *
 * Blocks are found goal first: at the goal the caller gives (after the
 * file's last block), else near the file's inode, contiguous runs first;
 * a file being written gets a reservation window of free clusters ahead of
 * its last allocation that other files' allocations step around, so two
 * files written at once do not interleave.  Reservations live in memory
 * only and give way before an allocation fails.
 *
 * Inodes: a directory goes to a group with room (Orlov's rule: top-level
 * directories spread over groups with above-average free inodes and
 * blocks, others near their parent while that group is not crowded), a
 * file near its parent.
 *
 * One mutex serialises the allocator; only it changes bitmaps and
 * descriptors, so waiting for those blocks in a handle while holding it
 * cannot deadlock.
 */
#ifndef E4_ALLOC_ALLOC_H
#define E4_ALLOC_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "tx/trans.h"

struct e4_fs;
struct e4_alloc;

/* Blocks a handle must have credit for per call of each kind: the bitmap
 * and the descriptor block (an inode: the inode bitmap and descriptor). */
#define E4_ALLOC_BLOCK_CREDITS 2u
#define E4_ALLOC_INODE_CREDITS 2u
/* e4_alloc_sync_super: the superblock. */
#define E4_ALLOC_SUPER_CREDITS 1u

struct e4_alloc_opts {
	/* clusters a file's reservation window holds ahead of its last
	 * allocation; 0: a default (8 MiB worth) */
	uint32_t window_clusters;
};

/* Reads nothing: the file system is as large as it may be. */
int e4_alloc_create(struct e4_fs *fs, const struct e4_alloc_opts *opts,
		    struct e4_alloc **out);
void e4_alloc_destroy(struct e4_alloc *a);
/* Map the system zone's per-file-system part now (the journal's and the
 * resize inode's blocks): a file system whose journal cannot be mapped
 * is not written.  Otherwise the first allocation does it. */
int e4_alloc_prepare(struct e4_alloc *a);

struct e4_alloc_req {
	uint32_t ino;		/* whose blocks (its group, its window) */
	uint64_t goal;		/* block to start at; 0: near the inode */
	uint64_t len;		/* blocks wanted, >= 1 */
	bool metadata;		/* a tree block: one, near the goal, no
				 * window */
	bool use_reserved;	/* may take the root-reserved blocks */
	/* may take the metadata reserve (e4_alloc_meta_reserve): a mapping
	 * tree's block, needed after the data it maps was allocated, where
	 * failing would undo more than the call.  Everything else (data,
	 * directory, symlink and xattr blocks) gets ENOSPC first, as the
	 * kernel's ext4 gives it. */
	bool meta_reserve;
	/* a cluster taken from the caller's promise (e4_alloc_reserve,
	 * of the same rule as @meta_reserve): promised before its change
	 * began */
	bool reserved;
};

/*
 * Allocate one physically contiguous run of at most @req->len blocks (at
 * least one cluster), whole clusters on bigalloc (@start is the first
 * block of a cluster and @count a multiple of the cluster size, possibly
 * more than asked for).  The bitmap and descriptor change through @h.
 * -ENOSPC when nothing is free (for this caller: the reserved blocks are
 * kept for root), -EUCLEAN for corruption met on the way (reported), -EIO.
 */
int e4_alloc_blocks(struct e4_alloc *a, struct e4_handle *h,
		    const struct e4_alloc_req *req, uint64_t *start,
		    uint64_t *count);
/* Free [start, start+count) (whole clusters on bigalloc: both cluster
 * aligned).  Freeing a block that is free, or part of the system zone, is
 * corruption (-EUCLEAN, reported) and changes nothing. */
int e4_free_blocks(struct e4_alloc *a, struct e4_handle *h, uint64_t start,
		   uint64_t count);
/* Transaction @tid (and every one before it) is on disk: what they freed
 * may be handed out again.  (e4_txm_on_commit.) */
void e4_alloc_committed(struct e4_alloc *a, uint64_t tid);
/* Whether blocks freed by transactions not yet on disk are waiting: a
 * commit would let an allocation that failed have them. */
bool e4_alloc_frees_pending(struct e4_alloc *a);
/* Drop the reservation window of @ino (its last writer closed it). */
void e4_alloc_release(struct e4_alloc *a, uint32_t ino);

/*
 * Allocate an inode for a new child of directory @parent: a directory
 * when @dir.  The inode bitmap and descriptor change through @h; the
 * caller writes the whole record (it may hold anything: the table is not
 * zeroed ahead).  -ENOSPC when no inode is free.
 */
int e4_alloc_inode(struct e4_alloc *a, struct e4_handle *h, uint32_t parent,
		   bool dir, uint32_t *ino);
/* Free inode @ino (a directory when @dir).  A free inode or a reserved one
 * is corruption (-EUCLEAN, reported). */
int e4_free_inode(struct e4_alloc *a, struct e4_handle *h, uint32_t ino,
		  bool dir);

/* Free blocks and inodes now, exact (reads every descriptor not read yet,
 * once). */
int e4_alloc_counts(struct e4_alloc *a, uint64_t *free_blocks,
		    uint32_t *free_inodes);
/*
 * Promise @clusters to a change about to begin, so that once it has
 * changed something it cannot run out of space halfway (allocations with
 * req.reserved draw on the promise).  @tree: for tree blocks, under the
 * metadata reserve's rule (promises come out of that reserve first, so
 * ordinary data gets ENOSPC no sooner); else under data's rule (not out
 * of the metadata reserve).  Counted against what is free now (not frees
 * waiting for their commit) less the other promises and, unless
 * @use_reserved, root's reserve: -ENOSPC when that is not enough.
 */
int e4_alloc_reserve(struct e4_alloc *a, uint64_t clusters, bool use_reserved,
		     bool tree);
/* Give back what is left of a promise. */
void e4_alloc_unreserve(struct e4_alloc *a, uint64_t clusters, bool tree);

/* Blocks kept back from ordinary data for metadata, as the kernel's ext4
 * keeps them (2% of the clusters, at most 4096): not in f_bavail. */
uint64_t e4_alloc_meta_reserve(const struct e4_alloc *a);
/* The same from the geometry alone: 2% of the clusters, at most 4096
 * (in blocks), as the kernel's ext4 keeps out of f_bavail. */
uint64_t e4_fs_meta_reserve(const struct e4_fs *fs);
/* Write the exact counts into the superblock through @h (at commit
 * points: the kernel too keeps them in memory between commits). */
int e4_alloc_sync_super(struct e4_alloc *a, struct e4_handle *h);

#endif /* E4_ALLOC_ALLOC_H */
