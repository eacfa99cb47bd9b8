/* SPDX-License-Identifier: MIT */
/* What the allocator's files share (see alloc.h). */
#ifndef E4_ALLOC_INT_H
#define E4_ALLOC_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/alloc.h"
#include "ondisk/ondisk.h"
#include "util/bits.h"

/* What the allocator knows of a group (all zero: nothing yet). */
struct e4_group_sum {
	uint32_t free_clusters;
	uint32_t free_inodes;
	uint32_t used_dirs;
	/* no free run is longer than this many clusters (a search found so);
	 * freeing in the group resets it to the group's size */
	uint32_t longest;
	bool known;		/* the counts above are the descriptor's */
	bool checked;		/* its block bitmap agreed with the zone and
				 * the count */
	bool inodes_checked;	/* its inode bitmap agreed with the count */
	bool bad;		/* corrupt: never allocate from it again */
};

/* A run of blocks [start, start + count). */
struct e4_run {
	uint64_t start, count;
};

/* A file's reservation: clusters [start, end) kept for its next blocks. */
struct e4_window {
	uint32_t ino;
	uint64_t start, end;	/* blocks, cluster aligned */
};

/* Clusters freed by a transaction not yet committed: not handed out
 * again until it is (a freed directory block written home by a commit
 * still in flight must not land on the file data it became). */
struct e4_pending_free {
	uint64_t start, end;	/* blocks */
	uint64_t tid;
};

struct e4_alloc {
	struct e4_fs *fs;
	pthread_mutex_t lock;	/* everything below */
	struct e4_group_sum *groups;	/* group_count of them */
	uint32_t known_groups;
	/* sums over the groups whose descriptor was read */
	uint64_t known_free_clusters, known_free_inodes, known_dirs;
	/* what this session's writes changed the free counts by */
	int64_t changed_free_clusters, changed_free_inodes;
	/* the journal's blocks, sorted and merged; the MMP block (0: none) */
	struct e4_run *journal;
	size_t njournal;
	uint64_t mmp_block;
	bool journal_mapped;
	/* reservation windows, sorted by start, none overlapping */
	struct e4_window *windows;
	size_t nwindows, windows_cap;
	uint32_t window_clusters;
	struct e4_pending_free *pending;
	size_t npending, pending_cap;
	uint64_t pending_clusters;	/* what those runs hold */
	/* clusters promised to changes under way (e4_alloc_reserve): no one
	 * else may take them; tree blocks (the metadata reserve's rule)
	 * and other blocks (data's rule) */
	uint64_t tree_reserved, data_reserved;
	uint8_t *scratch;	/* a block: the search's view of a bitmap */
	uint32_t last_topdir_group;	/* Orlov: where the last top-level
					 * directory went */
};

/* ---- groups.c: summaries and descriptors --------------------------------- */

/* Read group @g's descriptor into its summary if not yet; @gd gets it.
 * -EUCLEAN marks the group bad. */
int e4_alloc_group_get(struct e4_alloc *a, uint32_t g, struct e4_group *gd);
/* Write @gd as group @g's descriptor through @h and keep the summary's
 * counts in step (the caller changed the counts, flags, checksums). */
int e4_alloc_group_put(struct e4_alloc *a, struct e4_handle *h, uint32_t g,
		       const struct e4_group *gd);
/* The same after the group's bitmap was dirtied in @h: a descriptor that
 * cannot follow it (it was read and verified under the same lock, so only
 * for memory) aborts the transaction rather than leave the two apart. */
int e4_alloc_group_put_or_abort(struct e4_alloc *a, struct e4_handle *h,
				uint32_t g, const struct e4_group *gd);
/* Read every descriptor not read yet (for exact totals and Orlov). */
int e4_alloc_know_all(struct e4_alloc *a);
/* Mark group @g bad (corruption found in it): no more allocation there. */
void e4_alloc_group_bad(struct e4_alloc *a, uint32_t g);

/* ---- zone.c: the system zone -------------------------------------------- */

/* Map the journal (once): its blocks join the zone. */
int e4_zone_load(struct e4_alloc *a);
/* Set, in the cluster bitmap @bits of group @g (clusters_per_group bits),
 * every cluster of the system zone inside the group.  With @check, a zone
 * cluster whose bit is clear in @bits first is corruption (AL3, reported,
 * -EUCLEAN); the bits are set either way. */
int e4_zone_mark(struct e4_alloc *a, uint32_t g, uint8_t *bits, bool check);
/* Whether [start, start+count) touches the system zone. */
int e4_zone_overlaps(struct e4_alloc *a, uint64_t start, uint64_t count,
		     bool *overlaps);

#endif /* E4_ALLOC_INT_H */
