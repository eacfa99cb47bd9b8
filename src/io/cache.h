/* SPDX-License-Identifier: MIT */
/*
 * The metadata block cache, built for transactions.
 *
 * File data does not pass through the cache (it is read straight from the
 * device into the caller's buffer); metadata blocks do.
 *
 * Versions, not locks, keep readers safe from writers: a buffer a reader
 * got never changes under it.  A writer takes a private copy of the block
 * (e4_cache_copy), changes it, and publishes it (e4_cache_publish): the
 * copy becomes the block's current version, and the version it replaces
 * lives on, unchanged, until its last reader (or the journal, committing
 * it) puts it.  So a reader never sees a half-changed block, readers never
 * wait for writers, and a committing transaction's "frozen" copy is simply
 * the version it holds.  Writers of one block are serialised above (the
 * transaction handle owns a block between copy and publish).
 *
 * A version is clean (same as the device), or dirty (newer: it must be
 * written home); pins hold a version back from being written home (the
 * journal pins what is in a transaction until it is committed).  Only
 * clean, unpinned, unreferenced current versions sit on the LRU and are
 * evicted to keep the cache under its bound; dirty bytes are counted
 * separately so the layer above can start writeback past a threshold.
 */
#ifndef E4_IO_CACHE_H
#define E4_IO_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "e4/e4.h"
#include "io/dev.h"

/* The kinds of metadata block, one verifier row each (ondisk/verify.h). */
enum e4_buf_kind {
	E4_BUF_UNVERIFIED = 0,
	E4_BUF_SUPERBLOCK,
	E4_BUF_GDT,
	E4_BUF_BLOCK_BITMAP,
	E4_BUF_INODE_BITMAP,
	E4_BUF_INODE_TABLE,
	E4_BUF_EXTENT,
	E4_BUF_DIR_LEAF,
	E4_BUF_DX_NODE,
	E4_BUF_XATTR,
	E4_BUF_INDIRECT,
	E4_BUF_ORPHAN,
	E4_BUF_JOURNAL,
	E4_BUF_OTHER,
};

/* Where a version stands with the journal (owned by the journal layer;
 * the cache only keeps it). */
enum e4_buf_jstate {
	E4_JS_NONE = 0,
	E4_JS_RUNNING,		/* changed by the running transaction */
	E4_JS_COMMITTING,	/* being logged by the committing transaction */
	E4_JS_CHECKPOINT,	/* logged, waiting to be written home */
};

/* What a verdict is remembered for (the verifier's owner, packed by
 * ondisk/verify.h): opaque to the cache, compared whole, so no two owners
 * can share a verdict. */
struct e4_memo_key {
	uint64_t w[3];
};

struct e4_buf {
	uint64_t blk;		/* block number on the device */
	uint8_t *data;		/* block_size bytes; never changed once
				 * published (see above) */
	uint32_t size;		/* block_size */
	/* everything below is owned by the cache */
	/* the memo: the verifier row (ondisk/verify.h) that checked this
	 * version, for which owner, and what it found */
	const void *verified_ops;
	struct e4_memo_key verified_key;
	int verified_err;
	unsigned refs;
	unsigned pins;
	bool dirty;		/* newer than the device */
	bool current;		/* the version readers get now */
	uint8_t jstate;		/* enum e4_buf_jstate */
	void *tx;		/* the transaction that changed it, if any */
	struct e4_buf *lru_prev, *lru_next;	/* clean, idle, current */
	struct e4_buf *dirty_prev, *dirty_next;	/* dirty, current */
};

struct e4_cache;

/*
 * Overlay: consulted before the device on every miss.  Returns 1 and fills
 * @buf when it holds block @blk, 0 when it does not, -errno on failure.  The
 * journal replay installs one (replayed blocks over a read-only image).
 */
typedef int (*e4_overlay_fn)(void *ctx, uint64_t blk, uint8_t *buf);

struct e4_cache_stats {
	uint64_t hits, misses, evictions;
	size_t bytes, buffers;		/* current versions held */
	size_t dirty_bytes, dirty_buffers;
	size_t retired_buffers;		/* superseded, still referenced */
	uint64_t writebacks;		/* blocks written home */
};

int e4_cache_create(struct e4_dev *dev, uint32_t block_size, size_t max_bytes,
		    struct e4_cache **out);
/* Frees every version, dirty ones too: write back first. */
void e4_cache_destroy(struct e4_cache *cache);
void e4_cache_set_overlay(struct e4_cache *cache, e4_overlay_fn fn, void *ctx);
/* Read the raw block through the overlay, then the device, uncached (data). */
int e4_cache_read_uncached(struct e4_cache *cache, uint64_t blk, uint8_t *buf);

/* Get block @blk's current version, reading it on a miss.  It stays valid,
 * and unchanged, until e4_cache_put. */
int e4_cache_get(struct e4_cache *cache, uint64_t blk, struct e4_buf **out);
void e4_cache_put(struct e4_cache *cache, struct e4_buf *buf);

/* Whether row @ops checked @buf for owner @key (and *@err its result). */
bool e4_buf_memo_get(struct e4_cache *cache, const struct e4_buf *buf,
		     const void *ops, const struct e4_memo_key *key,
		     int *err);
void e4_buf_memo_set(struct e4_cache *cache, struct e4_buf *buf,
		     const void *ops, const struct e4_memo_key *key, int err);

/* ---- writers ------------------------------------------------------------ */

/* A private copy of @buf to change: referenced once by the caller, seen
 * by nobody else, verified as @buf was. */
int e4_cache_copy(struct e4_cache *cache, const struct e4_buf *buf,
		  struct e4_buf **copy);
/* A private, zero-filled version of block @blk (a block being allocated:
 * nothing to read). */
int e4_cache_new_version(struct e4_cache *cache, uint64_t blk,
			 struct e4_buf **copy);
/* Make @copy the current, dirty version of its block; the version it
 * replaces is retired (freed when its last reference goes).  The caller
 * keeps its reference to @copy.  -ENOMEM (nothing changed) only for a
 * block not cached before. */
int e4_cache_publish(struct e4_cache *cache, struct e4_buf *copy);
/* Drop a private copy without publishing it (with its one reference). */
void e4_cache_discard(struct e4_cache *cache, struct e4_buf *copy);

/* Forget block @blk: it was freed and may come back as anything (file
 * data too), so its current version, dirty or not, leaves the cache
 * without being written home.  Whoever holds that version keeps it. */
void e4_cache_forget(struct e4_cache *cache, uint64_t blk);

void e4_cache_pin(struct e4_cache *cache, struct e4_buf *buf);
void e4_cache_unpin(struct e4_cache *cache, struct e4_buf *buf);

/*
 * Write dirty, unpinned current versions home, in block order, then make
 * them durable (e4_dev_flush).  A version published again meanwhile stays
 * dirty.  Returns the first error (the failed blocks stay dirty).
 */
int e4_cache_writeback(struct e4_cache *cache);
/* Write one version home now (the journal's checkpoint), no flush. */
int e4_cache_write_home(struct e4_cache *cache, struct e4_buf *buf);

void e4_cache_get_stats(struct e4_cache *cache, struct e4_cache_stats *out);

#endif /* E4_IO_CACHE_H */
