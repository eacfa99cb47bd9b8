/* SPDX-License-Identifier: MIT */
/*
 * A writable memory device that records what is written to it, for the
 * tests and fuzz harnesses of the write path and the journal: they write to
 * it through the library, then ask what the disk would hold had the power
 * been cut at any point, and check that the file system survives.
 *
 * The device starts as a copy of an image.  Every write (offset, length and
 * the bytes) and every flush is appended to a log, in the order the device
 * applied them.  Flush k (counted from 1) splits the log: the writes issued
 * before it are durable once it completes, the writes after it are "in
 * flight" until flush k+1.  From the log the device builds the image a power
 * cut would leave:
 *
 *   - at flush k: every write issued before flush k, nothing after it
 *     (k = 0 is the initial image, k = e4_memdev_flushes() everything
 *     flushed);
 *   - after flush k with writes in flight: everything before flush k, plus
 *     a subset of the writes issued between flush k and flush k+1 (or the
 *     end of the log), chosen by the caller or by a seed.  A subset covers
 *     every moment of that stretch: writes not yet issued at the cut are
 *     among the lost ones.  Torn writes are supported at sector
 *     granularity: each 512-byte sector a write covers (sectors aligned to
 *     the device, so an unaligned write has partial first and last pieces)
 *     is kept or lost on its own.  A sector is never torn inside.
 *   - everything written: the device's contents now.
 *
 * The kept writes are applied in the order they were issued: where two
 * overlap and both are kept the later one shows.  A drive's cache persists
 * in any order, but does not put an older version of a sector over a newer
 * one it was given.
 *
 * Two handles: the struct e4_memdev (the log, crash images, faults) and the
 * struct e4_dev it serves I/O through, which may be given to e4_fs_open.
 * Each is released on its own, with e4_memdev_free() and e4_dev_close()
 * (which e4_fs_close() calls); the memory goes with the last, so crash
 * images can still be made after the file system was closed.
 *
 * Every function is safe to call from several threads.  One lock orders
 * the writes and the log: the log's order is the order in which the writes
 * changed the contents.  Memory: two copies of the image (initial and
 * current) and the log, which is capped.
 */
#ifndef E4_MEMDEV_H
#define E4_MEMDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct e4_dev;
struct e4_memdev;

#define E4_MEMDEV_SECTOR 512u
#define E4_MEMDEV_LOG_DEFAULT ((size_t)64 << 20)

struct e4_memdev_opts {
	/* Memory the log may hold: the bytes of every write plus a small
	 * record per write and per flush.  A write or flush that would go
	 * past it fails with -ENOBUFS and changes nothing (neither the
	 * contents nor the log).  0 = E4_MEMDEV_LOG_DEFAULT. */
	size_t log_max;
};

/*
 * A device of @size bytes holding a copy of @image.  @opts may be NULL.
 * Both handles are returned; release each (see above).  A write of 0 bytes
 * succeeds and is not recorded.
 */
int e4_memdev_create(const void *image, size_t size,
		     const struct e4_memdev_opts *opts,
		     struct e4_memdev **md, struct e4_dev **dev);
void e4_memdev_free(struct e4_memdev *md);
size_t e4_memdev_size(struct e4_memdev *md);

/* ---- the log ------------------------------------------------------------ */

enum e4_memdev_op { E4_MEMDEV_WRITE, E4_MEMDEV_FLUSH };

struct e4_memdev_entry {
	enum e4_memdev_op op;
	uint64_t off;		/* writes: where, how long, what */
	size_t len;
	const uint8_t *data;	/* valid until the memory goes */
};

/* Entries recorded so far, writes and flushes. */
size_t e4_memdev_log_length(struct e4_memdev *md);
/* Entry @i (0 = the first); -EINVAL past the end. */
int e4_memdev_log_entry(struct e4_memdev *md, size_t i,
			struct e4_memdev_entry *out);
/* Memory the log holds, as counted against log_max. */
size_t e4_memdev_log_bytes(struct e4_memdev *md);

/* ---- crash points -------------------------------------------------------- */

/* The crash points are flush = 0 .. e4_memdev_flushes(), and for each the
 * subsets of what came after it. */
uint32_t e4_memdev_flushes(struct e4_memdev *md);
/* Writes issued after flush @flush (0: from the start) and before the
 * next one; 0 if @flush is past the last. */
size_t e4_memdev_writes_after(struct e4_memdev *md, uint32_t flush);
/* What a power cut after flush @flush can keep or lose, one by one: those
 * writes, or with @torn their sector pieces (in log order, and within a
 * write in address order). */
size_t e4_memdev_crash_units(struct e4_memdev *md, uint32_t flush, bool torn);

/*
 * The crash images.  @image has room for exactly @size bytes, the size of
 * the device (-EINVAL otherwise); -EINVAL if @flush is past the last flush.
 */
/* Power cut right after flush @flush: nothing after it survives. */
int e4_memdev_image_at_flush(struct e4_memdev *md, uint32_t flush,
			     void *image, size_t size);
/* Power cut after flush @flush, unit i of e4_memdev_crash_units(@torn)
 * kept where keep[i] is nonzero.  @nkeep must be that number of units. */
int e4_memdev_image_keeping(struct e4_memdev *md, uint32_t flush, bool torn,
			    const uint8_t *keep, size_t nkeep,
			    void *image, size_t size);
/* The same with the units kept chosen by e4_memdev_pick(@seed). */
int e4_memdev_image_random(struct e4_memdev *md, uint32_t flush, bool torn,
			   uint64_t seed, void *image, size_t size);
/* Everything written: the device's contents now. */
int e4_memdev_contents(struct e4_memdev *md, void *image, size_t size);

/* keep[0..n) each 0 or 1, about half of them 1, the same for the same
 * @seed on every machine. */
void e4_memdev_pick(uint64_t seed, uint8_t *keep, size_t n);

/* ---- fault injection ------------------------------------------------------ */

/*
 * Counted from the call that sets them.  A failed write or flush changes
 * nothing and is not recorded.  Each Nth failure happens once; call again
 * for more.  NULL clears every fault.
 */
struct e4_memdev_faults {
	uint64_t fail_write;	/* write N (1 = the next) fails: -EIO; 0 = none */
	uint64_t fail_flush;	/* flush N fails: -EIO; 0 = none */
	/* a write reaching byte @enospc_from or beyond fails with -ENOSPC
	 * (a thin device out of space); 0 = none */
	uint64_t enospc_from;
};
void e4_memdev_set_faults(struct e4_memdev *md,
			  const struct e4_memdev_faults *faults);

#endif /* E4_MEMDEV_H */
