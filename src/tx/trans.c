/* SPDX-License-Identifier: MIT */
/* Transactions and handles (see trans.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tx/trans.h"
#include "ondisk/ondisk.h"
#include "util/hmap.h"

#define TX_DEFAULT_CREDITS 4096u
#define TX_DEFAULT_DIRTY_LIMIT (16u << 20)

struct e4_tx {
	uint64_t tid;
	unsigned handles;	/* running handles */
	unsigned credits;	/* reserved by them, or used */
	struct e4_hmap *blocks;	/* blk -> struct e4_buf * (newest; ref, pin) */
};

struct e4_txm {
	struct e4_fs *fs;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct e4_tx *running;
	uint64_t next_tid;
	uint64_t durable_tid;	/* the last transaction committed */
	bool committing;	/* one commit at a time, in order */
	bool failed;		/* a commit failed: no more changes */
	bool aborted;		/* the running transaction is never written */
	struct e4_hmap *owned;	/* blk -> handle holding a private copy */
	unsigned max_credits;
	size_t dirty_limit;
	struct e4_tx_writer writer;
	struct e4_txm_stats stats;
	void (*on_commit)(void *ctx, uint64_t tid);
	void *on_commit_ctx;
};

/* ---- writing a transaction in place (no journal) -------------------- */

static int write_in_place(void *ctx, struct e4_buf *const *bufs, size_t n)
{
	struct e4_fs *fs = ctx;
	int err = e4_dev_flush(fs->dev);	/* data before the metadata */

	for (size_t i = 0; i < n && !err; i++)
		err = e4_cache_write_home(fs->cache, bufs[i]);
	if (!err)
		err = e4_dev_flush(fs->dev);
	return err;
}

/* ---- the manager ------------------------------------------------------ */

int e4_txm_create(struct e4_fs *fs, const struct e4_txm_opts *opts,
		  struct e4_txm **out)
{
	struct e4_txm *t;

	if (!e4_dev_writable(fs->dev))
		return -EROFS;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->owned = e4_hmap_new(sizeof(struct e4_handle *));
	if (!t->owned) {
		free(t);
		return -ENOMEM;
	}
	t->fs = fs;
	t->next_tid = 1;
	t->max_credits = opts && opts->max_credits ? opts->max_credits :
						     TX_DEFAULT_CREDITS;
	t->dirty_limit = opts && opts->dirty_limit ? opts->dirty_limit :
						     TX_DEFAULT_DIRTY_LIMIT;
	t->writer = (struct e4_tx_writer){ write_in_place, fs };
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	*out = t;
	return 0;
}

static void drop_tx(struct e4_txm *t, struct e4_tx *tx);

void e4_txm_set_writer(struct e4_txm *t, const struct e4_tx_writer *w)
{
	pthread_mutex_lock(&t->lock);
	t->writer = w ? *w : (struct e4_tx_writer){ write_in_place, t->fs };
	pthread_mutex_unlock(&t->lock);
}

int e4_txm_destroy(struct e4_txm *t)
{
	int err;

	if (!t)
		return 0;
	err = e4_txm_commit(t);
	if (t->aborted && t->running)
		drop_tx(t, t->running);	/* never written */
	e4_hmap_free(t->owned);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
	return err;
}

void e4_txm_on_commit(struct e4_txm *t, void (*fn)(void *ctx, uint64_t tid),
		      void *ctx)
{
	pthread_mutex_lock(&t->lock);
	t->on_commit = fn;
	t->on_commit_ctx = ctx;
	pthread_mutex_unlock(&t->lock);
}

uint64_t e4_handle_tid(const struct e4_handle *h)
{
	return h->tx->tid;
}

void e4_txm_get_stats(struct e4_txm *t, struct e4_txm_stats *out)
{
	pthread_mutex_lock(&t->lock);
	*out = t->stats;
	out->running_blocks = t->running ? e4_hmap_count(t->running->blocks) : 0;
	out->running_tid = t->running ? t->running->tid : 0;
	pthread_mutex_unlock(&t->lock);
}

/* Let go of @tx's versions without writing them. */
static void drop_tx(struct e4_txm *t, struct e4_tx *tx)
{
	size_t pos = 0;
	uint64_t blk;
	void *slot;

	while (e4_hmap_next(tx->blocks, &pos, &blk, &slot)) {
		struct e4_buf *b = *(struct e4_buf **)slot;

		e4_cache_unpin(t->fs->cache, b);
		e4_cache_put(t->fs->cache, b);
	}
	e4_hmap_free(tx->blocks);
	free(tx);
}

/* ---- commit ------------------------------------------------------------ */

static int by_block(const void *x, const void *y)
{
	const struct e4_buf *a = *(struct e4_buf *const *)x;
	const struct e4_buf *b = *(struct e4_buf *const *)y;

	return (a->blk > b->blk) - (a->blk < b->blk);
}

/* Write @tx through the writer, then let go of its versions. */
static int commit_tx(struct e4_txm *t, struct e4_tx *tx)
{
	size_t n = e4_hmap_count(tx->blocks), i = 0, pos = 0;
	struct e4_buf **bufs = malloc((n ? n : 1) * sizeof(*bufs));
	uint64_t blk;
	void *slot;
	int err;

	if (!bufs)
		return -ENOMEM;
	while (e4_hmap_next(tx->blocks, &pos, &blk, &slot))
		bufs[i++] = *(struct e4_buf **)slot;
	qsort(bufs, n, sizeof(*bufs), by_block);
	uint64_t tid = tx->tid;

	err = n ? t->writer.commit(t->writer.ctx, bufs, n) : 0;
	free(bufs);
	drop_tx(t, tx);
	if (!err && t->on_commit)
		t->on_commit(t->on_commit_ctx, tid);
	pthread_mutex_lock(&t->lock);
	t->stats.commits++;
	t->stats.blocks_committed += n;
	pthread_mutex_unlock(&t->lock);
	return err;
}

/* Commit the running transaction; called with the lock held, returns with
 * it held.  New handles start a new transaction meanwhile. */
static int commit_locked(struct e4_txm *t)
{
	struct e4_tx *tx = t->running;
	uint64_t tid;
	int err;

	if (!tx)
		return 0;
	if (t->aborted)
		return -EROFS;
	t->running = NULL;
	while (tx->handles > 0 || t->committing)
		pthread_cond_wait(&t->cond, &t->lock);
	t->committing = true;
	pthread_mutex_unlock(&t->lock);
	tid = tx->tid;
	err = commit_tx(t, tx);
	if (err)
		e4_log(t->fs, E4_LOG_ERROR,
		       "transaction commit failed (%d): no further changes are accepted", err);
	pthread_mutex_lock(&t->lock);
	t->committing = false;
	if (err)
		t->failed = true;
	else
		t->durable_tid = tid;
	pthread_cond_broadcast(&t->cond);
	return err;
}

int e4_txm_commit(struct e4_txm *t)
{
	int err;

	pthread_mutex_lock(&t->lock);
	err = commit_locked(t);
	pthread_mutex_unlock(&t->lock);
	return err;
}

int e4_txm_commit_tid(struct e4_txm *t, uint64_t tid)
{
	int err = 0;

	pthread_mutex_lock(&t->lock);
	while (t->durable_tid < tid) {
		if (t->aborted || t->failed) {
			err = -EROFS;
			break;
		}
		if (t->running && t->running->tid <= tid) {
			err = commit_locked(t);
			if (err)
				break;
			err = 1;	/* flushed after all that came before */
		} else if (t->committing) {
			/* being written; its flushes may precede the
			 * caller's writes */
			err = 0;
			pthread_cond_wait(&t->cond, &t->lock);
		} else {
			break;	/* no such transaction (it changed nothing) */
		}
	}
	pthread_mutex_unlock(&t->lock);
	return err;
}

/* ---- handles ------------------------------------------------------------ */

void e4_handle_forget(struct e4_handle *h, uint64_t blk)
{
	struct e4_txm *t = h->txm;
	struct e4_buf **slot;

	pthread_mutex_lock(&t->lock);
	slot = e4_hmap_get(h->tx->blocks, blk);
	if (slot) {
		struct e4_buf *b = *slot;

		e4_hmap_remove(h->tx->blocks, blk);
		e4_cache_unpin(t->fs->cache, b);
		e4_cache_put(t->fs->cache, b);
	}
	pthread_mutex_unlock(&t->lock);
	e4_cache_forget(t->fs->cache, blk);
}

void e4_txm_abort(struct e4_txm *t, int err)
{
	pthread_mutex_lock(&t->lock);
	if (!t->aborted)
		e4_log(t->fs, E4_LOG_ERROR,
		       "transaction %llu aborted (%d): it is not written, the file system is read-only from now on",
		       (unsigned long long)(t->running ? t->running->tid :
					    t->next_tid), err);
	t->aborted = true;
	t->failed = true;
	pthread_mutex_unlock(&t->lock);
}

void e4_handle_abort(struct e4_handle *h, int err)
{
	e4_txm_abort(h->txm, err);
}

bool e4_txm_aborted(struct e4_txm *t)
{
	bool aborted;

	pthread_mutex_lock(&t->lock);
	aborted = t->aborted;
	pthread_mutex_unlock(&t->lock);
	return aborted;
}

int e4_handle_start(struct e4_txm *t, unsigned credits, struct e4_handle *h)
{
	int err = 0;

	memset(h, 0, sizeof(*h));
	if (credits > t->max_credits)
		return -ENOSPC;
	pthread_mutex_lock(&t->lock);
	while (!err && !t->failed && t->running &&
	       t->running->credits + credits > t->max_credits)
		err = commit_locked(t);
	if (!err && t->failed)
		err = -EROFS;
	if (!err && !t->running) {
		struct e4_tx *tx = calloc(1, sizeof(*tx));

		if (tx)
			tx->blocks = e4_hmap_new(sizeof(struct e4_buf *));
		if (!tx || !tx->blocks) {
			free(tx);
			err = -ENOMEM;
		} else {
			tx->tid = t->next_tid++;
			t->running = tx;
		}
	}
	if (!err) {
		t->running->handles++;
		t->running->credits += credits;
		h->txm = t;
		h->tx = t->running;
		h->credits = credits;
	}
	pthread_mutex_unlock(&t->lock);
	return err;
}

/* Own block @blk for @h (waiting while another handle has a copy). */
static int own_block(struct e4_handle *h, uint64_t blk)
{
	struct e4_txm *t = h->txm;
	struct e4_handle **slot;
	bool added;
	int err = 0;

	if (h->open)
		return -EINVAL;	/* one private copy at a time: see trans.h */
	pthread_mutex_lock(&t->lock);
	while (e4_hmap_get(t->owned, blk))
		pthread_cond_wait(&t->cond, &t->lock);
	slot = e4_hmap_put(t->owned, blk, &added);
	if (slot)
		*slot = h;
	else
		err = -ENOMEM;
	pthread_mutex_unlock(&t->lock);
	return err;
}

static void disown_block(struct e4_handle *h, uint64_t blk)
{
	struct e4_txm *t = h->txm;

	pthread_mutex_lock(&t->lock);
	e4_hmap_remove(t->owned, blk);
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

static void open_copy(struct e4_handle *h, struct e4_buf *copy,
		      const struct e4_buf_ops *ops, const struct e4_owner *owner)
{
	h->open = copy;
	h->open_ops = ops;
	h->open_owner = *owner;
}

int e4_handle_get_write_access(struct e4_handle *h, uint64_t blk,
			       const struct e4_buf_ops *ops,
			       const struct e4_owner *owner,
			       struct e4_buf **copy)
{
	struct e4_fs *fs = h->txm->fs;
	struct e4_buf *cur = NULL;
	int err = own_block(h, blk);

	if (err)
		return err;
	err = e4_meta_get_verified(fs, blk, ops, owner, &cur);
	if (!err)
		err = e4_cache_copy(fs->cache, cur, copy);
	if (cur)
		e4_meta_put(fs, cur);
	if (err) {
		disown_block(h, blk);
		return err;
	}
	open_copy(h, *copy, ops, owner);
	return 0;
}

int e4_handle_get_create_access(struct e4_handle *h, uint64_t blk,
				const struct e4_buf_ops *ops,
				const struct e4_owner *owner,
				struct e4_buf **copy)
{
	struct e4_fs *fs = h->txm->fs;
	int err;

	if (!e4_blocks_valid(fs, blk, 1))
		return e4_corrupt(fs, E4_RULE_FS_RANGE, e4_obj(E4_OBJ_BLOCK, 0, blk, 0),
				  "outside the file system (allocating it)");
	err = own_block(h, blk);
	if (err)
		return err;
	err = e4_cache_new_version(fs->cache, blk, copy);
	if (err) {
		disown_block(h, blk);
		return err;
	}
	open_copy(h, *copy, ops, owner);
	return 0;
}

void e4_handle_release(struct e4_handle *h, struct e4_buf *copy)
{
	uint64_t blk = copy->blk;

	if (copy != h->open)
		return;
	e4_cache_discard(h->txm->fs->cache, copy);
	h->open = NULL;
	disown_block(h, blk);
}

/* Record @copy (published) as its block's newest version in the
 * transaction: the transaction holds it (a reference and a pin). */
static int record_locked(struct e4_handle *h, struct e4_buf *copy)
{
	struct e4_fs *fs = h->txm->fs;
	bool added;
	struct e4_buf **slot = e4_hmap_put(h->tx->blocks, copy->blk, &added);

	if (!slot)
		return -ENOMEM;
	if (!added) {
		e4_cache_unpin(fs->cache, *slot);
		e4_cache_put(fs->cache, *slot);
	}
	*slot = copy;
	e4_cache_pin(fs->cache, copy);
	return 0;
}

int e4_handle_dirty(struct e4_handle *h, struct e4_buf *copy)
{
	struct e4_txm *t = h->txm;
	struct e4_fs *fs = t->fs;
	const struct e4_buf_ops *ops = h->open_ops;
	const struct e4_owner *owner = &h->open_owner;
	uint64_t blk = copy->blk;
	bool new_block;
	int err = 0;

	if (copy != h->open)
		return -EINVAL;
	if (ops->verify_write)
		err = ops->verify_write(fs, copy, owner);
	if (!err) {
		pthread_mutex_lock(&t->lock);
		new_block = !e4_hmap_get(h->tx->blocks, blk);
		if (new_block && h->used >= h->credits) {
			e4_log(fs, E4_LOG_ERROR,
			       "transaction %llu: a handle dirtied more blocks than its %u credits (block %llu)",
			       (unsigned long long)h->tx->tid, h->credits,
			       (unsigned long long)blk);
			err = -EIO;
		}
		pthread_mutex_unlock(&t->lock);
	}
	if (err) {
		e4_handle_release(h, copy);
		return err;
	}
	if (ops->csum_set)
		ops->csum_set(fs, copy, owner);
	/* readers need not verify what its writer just did */
	struct e4_memo_key key = e4_owner_key(owner);

	e4_buf_memo_set(fs->cache, copy, ops, &key, 0);
	err = e4_cache_publish(fs->cache, copy);
	if (err) {
		e4_handle_release(h, copy);
		return err;
	}
	pthread_mutex_lock(&t->lock);
	err = record_locked(h, copy);
	if (!err && new_block)
		h->used++;
	pthread_mutex_unlock(&t->lock);
	h->open = NULL;
	disown_block(h, blk);
	return err;
}

int e4_handle_stop(struct e4_handle *h)
{
	struct e4_txm *t = h->txm;
	struct e4_cache_stats st;
	int err = 0;

	if (!t)
		return 0;
	if (h->open)
		e4_handle_release(h, h->open);
	pthread_mutex_lock(&t->lock);
	h->tx->credits -= h->credits - h->used;	/* unused credits back */
	h->tx->handles--;
	pthread_cond_broadcast(&t->cond);
	e4_cache_get_stats(t->fs->cache, &st);
	if (st.dirty_bytes > t->dirty_limit && t->running == h->tx)
		err = commit_locked(t);
	pthread_mutex_unlock(&t->lock);
	h->txm = NULL;
	return err;
}
