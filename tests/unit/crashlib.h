/* SPDX-License-Identifier: MIT */
/*
 * Power cuts on the write-logging memory device (e4/memdev.h), checked
 * against an exact model of what each sync made durable.
 *
 * A workload runs through the library and mirrors each change in the
 * model: the objects (files and directories, by inode number), their
 * paths and contents.  After each e4_fs_sync it calls cl_synced() with the
 * device's flush count.  A cut after flush k lies in the window between
 * the last sync durable at k (S) and the next one (N): the library may
 * commit on its own between them, so an object the window changed may be
 * in its S or its N state, one or the other whole (the workloads change an
 * object and a path at most once per window), an object it did not change
 * exactly in its S state.  Checks of each crash image:
 *  - e4fuse's read-only open (in-memory replay): every object found by
 *    lookup under exactly one of its S and N paths (never lost, never
 *    under both), under its own path if unchanged; a file's content
 *    exact if unchanged, else its S or N size with each block of the
 *    S or N content (data goes home in place); a full readdir of every
 *    unchanged directory lists each unchanged name once and no name the
 *    model does not allow;
 *  - e2fsck replays the journal (-E journal_only), then e2fsck -fn finds
 *    it clean but for the superblock's lagging free counts;
 *  - at the sync points, the kernel reads the replayed copy exactly as
 *    the model's snapshot (diff -r against a copy made from the model).
 */
#ifndef E4_CRASHLIB_H
#define E4_CRASHLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct e4_memdev;
struct cl_model;

struct cl_model *cl_model_new(void);
void cl_model_free(struct cl_model *m);

/* A new object (inode @ino) at @path; returns its id. */
size_t cl_add(struct cl_model *m, uint32_t ino, bool dir, const char *path);
/* Object @id now at @path (NULL: gone). */
void cl_path(struct cl_model *m, size_t id, const char *path);
/* Every object at @from or below it now at @to (a directory rename). */
void cl_move_tree(struct cl_model *m, const char *from, const char *to);
/* @len bytes of cl_pattern(@seed) written at @off of file @id. */
void cl_write(struct cl_model *m, size_t id, uint64_t off, uint64_t len,
	      unsigned seed);
void cl_truncate(struct cl_model *m, size_t id, uint64_t size);
/* The file changes more than once in this window: only where it is is
 * checked while the window is open. */
void cl_loose(struct cl_model *m, size_t id);
/* Whether @id changed since the last sync (a workload changes an object
 * once per window). */
bool cl_dirty(const struct cl_model *m, size_t id);
/* The object at @path now, or (size_t)-1. */
size_t cl_find(const struct cl_model *m, const char *path);
const char *cl_cur_path(const struct cl_model *m, size_t id);
/* What changed so far is durable from flush @flush on. */
void cl_synced(struct cl_model *m, uint32_t flush);

/* The bytes of pattern @seed at [@off, @off + @len). */
void cl_pattern(uint8_t *buf, uint64_t off, size_t len, unsigned seed);

struct cl_plan {
	unsigned randoms;	/* random subsets per flush with writes in flight */
	uint32_t every;		/* cut every Nth flush (0, 1: all)... */
	uint32_t edge;		/* ...and the first and last @edge */
	uint32_t kernel_every;	/* the kernel at every Nth sync point (0, 1: all) */
};

/* Cut the device's log at the plan's points and check each image; prints
 * and returns how many cut points were checked. */
size_t cl_cut_all(struct e4_memdev *md, const struct cl_model *m,
		  const char *name, const struct cl_plan *plan);

#endif /* E4_CRASHLIB_H */
