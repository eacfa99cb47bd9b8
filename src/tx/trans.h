/* SPDX-License-Identifier: MIT */
/*
 * Transactions: every metadata change goes through a handle.
 *
 *   e4_handle_start(fs, credits)        join the running transaction,
 *                                       reserving @credits blocks
 *   e4_handle_get_write_access(h, blk)  a private copy of the block
 *   ... change copy->data ...
 *   e4_handle_dirty(h, copy)            verify the structure again, set the
 *                                       checksum, publish the copy, record
 *                                       the block in the transaction
 *   e4_handle_stop(h)
 *
 * Handles join one running transaction until it commits, so a transaction
 * holds exactly the blocks its handles dirtied (one entry per block, its
 * newest version): what the journal will log.  Without a journal a commit
 * writes them in place, in a safe order: first a device flush (so file data
 * written before the handles dirtied the metadata pointing at it is
 * durable), then the blocks in block order, then a flush again.
 *
 * Two handles never change one block at once: a block a handle holds a
 * private copy of waits for it in e4_handle_get_write_access.  A handle
 * holds at most one private copy at a time (it dirties or releases one
 * before taking the next), so handles never wait for each other in a
 * cycle.  Readers never wait: see the version model in io/cache.h.
 */
#ifndef E4_FS_TRANS_H
#define E4_FS_TRANS_H

#include <stdbool.h>
#include <stdint.h>

#include "io/cache.h"
#include "ondisk/verify.h"

struct e4_fs;
struct e4_txm;
struct e4_tx;

struct e4_handle {
	struct e4_txm *txm;
	struct e4_tx *tx;
	unsigned credits;	/* blocks it may dirty */
	unsigned used;		/* distinct blocks it dirtied */
	struct e4_buf *open;	/* its private copy, if any */
	const struct e4_buf_ops *open_ops;	/* and the copy's verifier row */
	struct e4_owner open_owner;
};

/* How a transaction reaches the disk.  Without a journal the in-place
 * writer below; the journal installs its own (it logs tx blocks). */
struct e4_tx_writer {
	/* make @bufs (n versions, sorted by block) durable */
	int (*commit)(void *ctx, struct e4_buf *const *bufs, size_t n);
	void *ctx;
};

struct e4_txm_opts {
	unsigned max_credits;	/* per transaction; 0: a default */
	size_t dirty_limit;	/* commit when dirty bytes pass it; 0: default */
};

/* The transaction manager of @fs (which must be on a writable device). */
int e4_txm_create(struct e4_fs *fs, const struct e4_txm_opts *opts,
		  struct e4_txm **out);
/* Commits what is running, then frees. */
int e4_txm_destroy(struct e4_txm *txm);
/* How commits reach the disk from now on (NULL: in place). */
void e4_txm_set_writer(struct e4_txm *txm, const struct e4_tx_writer *w);

/* Reserve @credits blocks in the running transaction (committing it first
 * if it cannot take them).  -ENOSPC if @credits alone exceed a
 * transaction; -EROFS after an error made the file system read-only. */
int e4_handle_start(struct e4_txm *txm, unsigned credits,
		    struct e4_handle *h);
/* A private copy of block @blk to change, read and verified through its
 * verifier row @ops (ondisk/verify.h) for @owner. */
int e4_handle_get_write_access(struct e4_handle *h, uint64_t blk,
			       const struct e4_buf_ops *ops,
			       const struct e4_owner *owner,
			       struct e4_buf **copy);
/* The same for a block being allocated: nothing to read, zero-filled. */
int e4_handle_get_create_access(struct e4_handle *h, uint64_t blk,
				const struct e4_buf_ops *ops,
				const struct e4_owner *owner,
				struct e4_buf **copy);
/* Verify (ops->verify_write), set the checksum, publish @copy and record
 * its block in the transaction.  On a verifier failure nothing is
 * published and the copy is dropped: the change is refused (-EUCLEAN), the
 * block stays as it was. */
int e4_handle_dirty(struct e4_handle *h, struct e4_buf *copy);
/* Drop the open copy unchanged. */
void e4_handle_release(struct e4_handle *h, struct e4_buf *copy);
/* Block @blk was freed by this handle's change: the version the running
 * transaction holds is not written, and the cache forgets the block (a
 * freed tree or directory block may come back as file data). */
void e4_handle_forget(struct e4_handle *h, uint64_t blk);
/*
 * Abort: a change could not be completed and what its handle dirtied so far
 * would leave the metadata inconsistent (a bitmap changed, its descriptor
 * not).  The running transaction is never written (its versions stay
 * pinned in the cache until the manager is destroyed), no handle starts
 * again (-EROFS), and the image stays as the last commit left it: the
 * file system goes read-only, as the kernel's does when jbd2 aborts.
 */
void e4_handle_abort(struct e4_handle *h, int err);
/* The same from outside any handle (errors=remount-ro). */
void e4_txm_abort(struct e4_txm *txm, int err);
bool e4_txm_aborted(struct e4_txm *txm);
/* End the handle; commits when the dirty limit is passed.  Returns the
 * commit's error, if it ran. */
int e4_handle_stop(struct e4_handle *h);

/* The transaction @h belongs to (ids grow with time). */
uint64_t e4_handle_tid(const struct e4_handle *h);
/* Call @fn(ctx, tid) after transaction @tid is durable (the allocator
 * reuses what it freed only then). */
void e4_txm_on_commit(struct e4_txm *txm, void (*fn)(void *ctx, uint64_t tid),
		      void *ctx);

/* Commit the running transaction now (fsync, unmount).  Waits for its
 * handles to stop. */
int e4_txm_commit(struct e4_txm *txm);
/* Make transaction @tid durable: commit it if it is running, wait for it
 * if it is being committed; 0 at once if it is durable already (fsync of
 * a file whose last change an earlier commit took).  1 when this call
 * committed (and so flushed the device after everything written before
 * it), 0 when it did not, or -errno. */
int e4_txm_commit_tid(struct e4_txm *txm, uint64_t tid);

struct e4_txm_stats {
	uint64_t commits;
	uint64_t blocks_committed;
	uint64_t running_blocks;	/* in the running transaction */
	uint64_t running_tid;
};
void e4_txm_get_stats(struct e4_txm *txm, struct e4_txm_stats *out);

#endif /* E4_FS_TRANS_H */
