/* SPDX-License-Identifier: MIT */
/*
 * The walker shared by the fuzz harnesses and the corpus test: open an image
 * and touch everything the library can answer about it (every directory
 * entry, looked up again linearly and through the htree; every reachable
 * inode's attributes, xattrs, symlink target and file bytes; a scan of the
 * inode table), within fixed limits so a hostile image cannot make a run
 * slow.
 */
#ifndef E4_FUZZ_WALK_H
#define E4_FUZZ_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "e4/e4.h"

struct e4_walk_limits {
	unsigned max_dirs;		/* directories walked */
	unsigned max_entries;		/* directory entries handled, in all */
	unsigned max_scan;		/* inode numbers tried by the table scan */
	unsigned max_xattrs;		/* attribute names handled, in all */
	uint64_t max_file_bytes;	/* file data read, in all */
	size_t cache_bytes;		/* metadata cache bound (0: default) */
	bool csum_accept;		/* open with E4_CSUM_ACCEPT */
	bool run_check;			/* then e4_check (check.h) */
	bool verbose;			/* print every error to stderr */
};

struct e4_walk_result {
	int open_err;			/* 0: opened and root readable */
	char refusal[256];		/* first error while opening: "RULE object" */
	unsigned dirs, files, symlinks, others, entries;
	unsigned bad;			/* reachable inodes with a failed read */
	char bad_paths[3][48];		/* the first ones, printable, cut */
	unsigned scanned_ok, scanned_bad; /* inode-table scan */
	bool limited;			/* a limit cut the walk short */
	uint64_t bytes;			/* file bytes read */
};

/* Small limits for fuzzing (milliseconds per input), or generous ones for
 * the corpus test (every byte of every image in the corpus). */
void e4_walk_limits_fuzz(struct e4_walk_limits *l);
void e4_walk_limits_corpus(struct e4_walk_limits *l);

/* Walk the file system on @dev.  The device is always consumed (closed).
 * Returns 0 when the walk ran (errors are counted in @res), or the open
 * error. */
int e4_walk_dev(struct e4_dev *dev, const struct e4_walk_limits *lim,
		struct e4_walk_result *res);

/* The fuzz entry: @data is a whole image.  Always returns 0. */
int e4_fuzz_walk(const uint8_t *data, size_t size);

/* One-line outcome for the corpus table: "ok ...", "eio: N files ...",
 * "refused: <rule> <object>" (docs/rules.md). */
void e4_walk_outcome(const struct e4_walk_result *res, char *buf, size_t size);

#endif /* E4_FUZZ_WALK_H */
