/* SPDX-License-Identifier: MIT */
/*
 * The one whole-tree walker: e4img ls -R, the checker and the test walkers
 * all go through it, so the defences against a hostile tree live in one
 * place.  It never recurses (an explicit stack on the heap), walks each
 * directory inode at most once (a directory entry naming its own directory,
 * or an ancestor, is refused, not followed) and stops at a depth bound.
 * Memory is the listings of the directories on the current path plus the
 * path itself: bounded by what those directories hold on disk.  Work is
 * bounded by the file system's size: listings that together read more than
 * every block a few times over (directories sharing blocks) stop the walk
 * as corruption (-EUCLEAN, reported).
 */
#ifndef E4_TREE_H
#define E4_TREE_H

#include <stdbool.h>
#include <stdint.h>

#include "e4/e4.h"

/* Default depth bound: deeper than any path the kernel can open in one go
 * (PATH_MAX 4096 allows at most 2048 components). */
#define E4_TREE_MAX_DEPTH 4096u

enum e4_tree_flags {
	/* entries by name: memcmp over the shorter length, then the shorter
	 * name first (strcmp order for names without NUL); else on-disk order */
	E4_TREE_SORTED = 1u << 0,
	E4_TREE_DOTS = 1u << 1,		/* deliver "." and ".." too */
	/* Level by level instead of depth first, without paths (an entry's
	 * path is its name, a directory's path is NULL): memory is then 12
	 * bytes per directory waiting, whatever the depth (the checker). */
	E4_TREE_BREADTH_FIRST = 1u << 2,
	/* List directories with E4_DIR_SALVAGE: a damaged block is skipped
	 * (reported by the library), the entries of the others delivered,
	 * and dir_end told -EUCLEAN; else a damaged block ends its
	 * directory's listing. */
	E4_TREE_SALVAGE = 1u << 3,
};

struct e4_tree_entry {
	const char *path;	/* full path of the entry ("/a/b"), NUL-terminated */
	const char *name;	/* last component (points into @path) */
	uint8_t name_len;
	uint32_t dir;		/* the directory holding the entry */
	uint32_t ino;		/* what the entry names */
	uint8_t ftype;		/* enum e4_ftype, from the entry */
	unsigned depth;		/* 1 for entries of the starting directory */
	unsigned index;		/* position in the listing as delivered */
};

enum e4_tree_refusal {
	E4_TREE_WALKED_BEFORE,	/* a directory already walked: a cycle or a
				 * second link to a directory */
	E4_TREE_TOO_DEEP,	/* beyond the depth bound */
};

struct e4_tree_ops {
	/* Directory @dir (at @path, reached from @parent; the start is its own
	 * parent) is about to be listed.  <0 aborts the walk, >0 skips it. */
	int (*dir_begin)(void *ctx, const char *path, const struct e4_inode *dir,
			 uint32_t parent);
	/* One entry.  Set *@descend to walk into it (for directories: the
	 * callback has usually read the inode anyway).  <0 aborts the walk,
	 * >0 stops it without error. */
	int (*entry)(void *ctx, const struct e4_tree_entry *e, bool *descend);
	/* The listing of @dir ended; @err is why it was cut short or, with
	 * E4_TREE_SALVAGE, -EUCLEAN when damaged blocks were skipped (0: it
	 * is whole).  Called after every dir_begin that returned 0 (one
	 * directory's entries all come between the two) unless a callback
	 * stopped or aborted the walk meanwhile, and alone, with @dir NULL,
	 * for a directory asked for whose inode could not be read again.
	 * Its return value is treated like entry's.  May be NULL. */
	int (*dir_end)(void *ctx, const char *path, const struct e4_inode *dir,
		       int err);
	/* A descent that was asked for and refused.  May be NULL. */
	void (*refused)(void *ctx, const struct e4_tree_entry *e,
			enum e4_tree_refusal why);
};

struct e4_tree_opts {
	unsigned flags;		/* enum e4_tree_flags */
	unsigned max_depth;	/* 0: E4_TREE_MAX_DEPTH */
};

/*
 * Walk from directory @start (shown as @start_path, which may be "": its
 * entries are then "/name") depth first: each
 * directory's entries are all delivered, then its subdirectories that
 * were asked for are walked in that order (the order of `ls -R`); or
 * breadth first (E4_TREE_BREADTH_FIRST).
 * Returns 0 when the walk ended, the callback's positive value when it
 * stopped the walk, or a negative errno (a callback's, -ENOMEM, or the
 * start directory's read error).
 */
int e4_tree_walk(struct e4_fs *fs, uint32_t start, const char *start_path,
		 const struct e4_tree_opts *opts, const struct e4_tree_ops *ops,
		 void *ctx);

#endif /* E4_TREE_H */
