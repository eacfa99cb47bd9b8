/* SPDX-License-Identifier: MIT */
/*
 * The metadata block cache.
 *
 * File data does not pass through the cache (it is read straight from the
 * device into the caller's buffer); metadata blocks do.  The cache is bounded
 * in memory, safe for concurrent readers, and carries what the write path and
 * the journal need later: a dirty flag per buffer and an overlay hook through
 * which replayed journal blocks replace what the device holds.
 */
#ifndef E4_IO_CACHE_H
#define E4_IO_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "e4/e4.h"
#include "io/dev.h"

/* ---- cache ---------------------------------------------------------- */

/* What a verifier has established about a buffer's contents.  Verification
 * depends on the owner (an inode's checksum seed), so the owner is recorded
 * too and a different claimant verifies again. */
enum e4_buf_kind {
	E4_BUF_UNVERIFIED = 0,
	E4_BUF_GDT,
	E4_BUF_BLOCK_BITMAP,
	E4_BUF_INODE_BITMAP,
	E4_BUF_INODE_TABLE,
	E4_BUF_EXTENT,
	E4_BUF_DIR_LEAF,
	E4_BUF_DX_NODE,
	E4_BUF_XATTR,
	E4_BUF_INDIRECT,
	E4_BUF_JOURNAL,
	E4_BUF_OTHER,
};

struct e4_buf {
	uint64_t blk;		/* block number on the device */
	uint8_t *data;		/* block_size bytes */
	uint32_t size;		/* block_size */
	/* everything below is owned by the cache */
	uint32_t verified_kind;
	uint64_t verified_owner;
	bool dirty;
	unsigned refs;
	struct e4_buf *hash_next;
	struct e4_buf *lru_prev, *lru_next;
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
	size_t bytes, buffers;
};

int e4_cache_create(struct e4_dev *dev, uint32_t block_size, size_t max_bytes,
		    struct e4_cache **out);
void e4_cache_destroy(struct e4_cache *cache);
void e4_cache_set_overlay(struct e4_cache *cache, e4_overlay_fn fn, void *ctx);
/* Read the raw block through the overlay, then the device, uncached (data). */
int e4_cache_read_uncached(struct e4_cache *cache, uint64_t blk, uint8_t *buf);

/* Get block @blk, reading it on a miss.  The buffer stays valid until
 * e4_cache_put; its contents must not be changed without the write path. */
int e4_cache_get(struct e4_cache *cache, uint64_t blk, struct e4_buf **out);
void e4_cache_put(struct e4_cache *cache, struct e4_buf *buf);

bool e4_buf_is_verified(struct e4_cache *cache, const struct e4_buf *buf,
			enum e4_buf_kind kind, uint64_t owner);
void e4_buf_set_verified(struct e4_cache *cache, struct e4_buf *buf,
			 enum e4_buf_kind kind, uint64_t owner);

/* Write path (later issues): mark a buffer dirty; flush writes them back. */
void e4_buf_mark_dirty(struct e4_cache *cache, struct e4_buf *buf);
int e4_cache_flush(struct e4_cache *cache);

void e4_cache_get_stats(struct e4_cache *cache, struct e4_cache_stats *out);

#endif /* E4_IO_CACHE_H */
