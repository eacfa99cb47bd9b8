/* SPDX-License-Identifier: MIT */
/*
 * The metadata block cache (see cache.h for the version model).
 *
 * One mutex guards the table and the lists; device reads and writes happen
 * outside it, so a miss does not stall other readers.  Two threads missing
 * on the same block both read it and the second insert loses (cheap, and
 * no "loading" state to manage).  The table maps a block number to its
 * current version through the seeded hash map, so an image cannot choose
 * block numbers that collide.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "e4/bytes.h"
#include "io/cache.h"
#include "util/hmap.h"

#define E4_CACHE_DEFAULT_BYTES (64u << 20)

struct e4_cache {
	pthread_mutex_t lock;
	struct e4_dev *dev;
	uint32_t block_size;
	size_t max_bytes;
	struct e4_hmap *table;	/* blk -> struct e4_buf * (current) */
	struct e4_buf lru;	/* sentinel: lru.lru_next is the oldest */
	struct e4_buf dirty;	/* sentinel of the dirty list */
	e4_overlay_fn overlay;
	void *overlay_ctx;
	struct e4_cache_stats stats;
};

/* ---- lists ---------------------------------------------------------------- */

static void lru_unlink(struct e4_buf *b)
{
	if (b->lru_next) {
		b->lru_prev->lru_next = b->lru_next;
		b->lru_next->lru_prev = b->lru_prev;
		b->lru_next = b->lru_prev = NULL;
	}
}

static void lru_push_newest(struct e4_cache *c, struct e4_buf *b)
{
	b->lru_prev = c->lru.lru_prev;
	b->lru_next = &c->lru;
	c->lru.lru_prev->lru_next = b;
	c->lru.lru_prev = b;
}

static void dirty_link(struct e4_cache *c, struct e4_buf *b)
{
	b->dirty_prev = c->dirty.dirty_prev;
	b->dirty_next = &c->dirty;
	c->dirty.dirty_prev->dirty_next = b;
	c->dirty.dirty_prev = b;
	c->stats.dirty_bytes += b->size;
	c->stats.dirty_buffers++;
}

static void dirty_unlink(struct e4_cache *c, struct e4_buf *b)
{
	if (!b->dirty_next)
		return;
	b->dirty_prev->dirty_next = b->dirty_next;
	b->dirty_next->dirty_prev = b->dirty_prev;
	b->dirty_next = b->dirty_prev = NULL;
	c->stats.dirty_bytes -= b->size;
	c->stats.dirty_buffers--;
}

/* ---- versions ------------------------------------------------------------ */

static struct e4_buf *buf_alloc(uint64_t blk, uint32_t size)
{
	struct e4_buf *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->data = malloc(size);
	if (!b->data) {
		free(b);
		return NULL;
	}
	b->blk = blk;
	b->size = size;
	b->refs = 1;
	return b;
}

static void buf_free(struct e4_buf *b)
{
	free(b->data);
	free(b);
}

static struct e4_buf *find_locked(struct e4_cache *c, uint64_t blk)
{
	struct e4_buf **slot = e4_hmap_get(c->table, blk);

	return slot ? *slot : NULL;
}

/* Insert @b as the current version of its block (none there now). */
static int insert_locked(struct e4_cache *c, struct e4_buf *b)
{
	bool added;
	struct e4_buf **slot = e4_hmap_put(c->table, b->blk, &added);

	if (!slot)
		return -ENOMEM;
	*slot = b;
	b->current = true;
	c->stats.bytes += b->size;
	c->stats.buffers++;
	return 0;
}

/* Take @b out of the table (it stays alive while referenced). */
static void retire_locked(struct e4_cache *c, struct e4_buf *b)
{
	e4_hmap_remove(c->table, b->blk);
	lru_unlink(b);
	dirty_unlink(c, b);
	b->current = false;
	c->stats.bytes -= b->size;
	c->stats.buffers--;
	if (b->refs == 0 && b->pins == 0)
		buf_free(b);
	else
		c->stats.retired_buffers++;
}

/* An idle version: back to the LRU, or gone if superseded. */
static void idle_locked(struct e4_cache *c, struct e4_buf *b)
{
	if (b->refs || b->pins)
		return;
	if (!b->current) {
		c->stats.retired_buffers--;
		buf_free(b);
	} else if (!b->dirty) {
		lru_push_newest(c, b);
	}
}

/* Evict clean, idle versions, oldest first, until under the bound. */
static void shrink_locked(struct e4_cache *c)
{
	while (c->stats.bytes > c->max_bytes && c->lru.lru_next != &c->lru) {
		struct e4_buf *b = c->lru.lru_next;

		retire_locked(c, b);	/* idle: freed */
		c->stats.evictions++;
	}
}

/* ---- the cache ----------------------------------------------------------- */

int e4_cache_create(struct e4_dev *dev, uint32_t block_size, size_t max_bytes,
		    struct e4_cache **out)
{
	struct e4_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (max_bytes == 0)
		max_bytes = E4_CACHE_DEFAULT_BYTES;
	if (max_bytes < (size_t)block_size * 16)
		max_bytes = (size_t)block_size * 16;
	c->dev = dev;
	c->block_size = block_size;
	c->max_bytes = max_bytes;
	c->table = e4_hmap_new(sizeof(struct e4_buf *));
	if (!c->table) {
		free(c);
		return -ENOMEM;
	}
	c->lru.lru_next = c->lru.lru_prev = &c->lru;
	c->dirty.dirty_next = c->dirty.dirty_prev = &c->dirty;
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void e4_cache_destroy(struct e4_cache *c)
{
	size_t pos = 0;
	uint64_t blk;
	void *slot;

	if (!c)
		return;
	while (e4_hmap_next(c->table, &pos, &blk, &slot))
		buf_free(*(struct e4_buf **)slot);
	e4_hmap_free(c->table);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void e4_cache_set_overlay(struct e4_cache *c, e4_overlay_fn fn, void *ctx)
{
	pthread_mutex_lock(&c->lock);
	c->overlay = fn;
	c->overlay_ctx = ctx;
	pthread_mutex_unlock(&c->lock);
}

static int block_offset(const struct e4_cache *c, uint64_t blk, uint64_t *off)
{
	return e4_mul_overflow(blk, (uint64_t)c->block_size, off) ? -EIO : 0;
}

int e4_cache_read_uncached(struct e4_cache *c, uint64_t blk, uint8_t *buf)
{
	uint64_t off;

	if (c->overlay) {
		int r = c->overlay(c->overlay_ctx, blk, buf);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	if (block_offset(c, blk, &off))
		return -EIO;
	return e4_dev_pread(c->dev, buf, c->block_size, off);
}

int e4_cache_get(struct e4_cache *c, uint64_t blk, struct e4_buf **out)
{
	struct e4_buf *b, *nb;
	int err;

	pthread_mutex_lock(&c->lock);
	b = find_locked(c, blk);
	if (b) {
		if (b->refs++ == 0)
			lru_unlink(b);
		c->stats.hits++;
		pthread_mutex_unlock(&c->lock);
		*out = b;
		return 0;
	}
	c->stats.misses++;
	pthread_mutex_unlock(&c->lock);

	nb = buf_alloc(blk, c->block_size);
	if (!nb)
		return -ENOMEM;
	err = e4_cache_read_uncached(c, blk, nb->data);
	if (err) {
		buf_free(nb);
		return err;
	}

	pthread_mutex_lock(&c->lock);
	b = find_locked(c, blk);
	if (b) {		/* another thread won the race */
		if (b->refs++ == 0)
			lru_unlink(b);
		pthread_mutex_unlock(&c->lock);
		buf_free(nb);
		*out = b;
		return 0;
	}
	err = insert_locked(c, nb);
	if (!err)
		shrink_locked(c);
	pthread_mutex_unlock(&c->lock);
	if (err) {
		buf_free(nb);
		return err;
	}
	*out = nb;
	return 0;
}

void e4_cache_put(struct e4_cache *c, struct e4_buf *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&c->lock);
	if (--b->refs == 0) {
		idle_locked(c, b);
		shrink_locked(c);
	}
	pthread_mutex_unlock(&c->lock);
}

bool e4_buf_memo_get(struct e4_cache *c, const struct e4_buf *b,
		     const void *ops, const struct e4_memo_key *key, int *err)
{
	bool hit;

	pthread_mutex_lock(&c->lock);
	hit = b->verified_ops == ops &&
	      memcmp(&b->verified_key, key, sizeof(*key)) == 0;
	if (hit)
		*err = b->verified_err;
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void e4_buf_memo_set(struct e4_cache *c, struct e4_buf *b, const void *ops,
		     const struct e4_memo_key *key, int err)
{
	pthread_mutex_lock(&c->lock);
	b->verified_ops = ops;
	b->verified_key = *key;
	b->verified_err = err;
	pthread_mutex_unlock(&c->lock);
}

/* ---- writers ------------------------------------------------------------- */

int e4_cache_copy(struct e4_cache *c, const struct e4_buf *buf,
		  struct e4_buf **copy)
{
	struct e4_buf *b = buf_alloc(buf->blk, c->block_size);

	if (!b)
		return -ENOMEM;
	memcpy(b->data, buf->data, c->block_size);
	pthread_mutex_lock(&c->lock);
	b->verified_ops = buf->verified_ops;
	b->verified_key = buf->verified_key;
	b->verified_err = buf->verified_err;
	c->stats.retired_buffers++;	/* not current: counted with the retired */
	pthread_mutex_unlock(&c->lock);
	*copy = b;
	return 0;
}

int e4_cache_new_version(struct e4_cache *c, uint64_t blk, struct e4_buf **copy)
{
	struct e4_buf *b = buf_alloc(blk, c->block_size);

	if (!b)
		return -ENOMEM;
	memset(b->data, 0, c->block_size);
	pthread_mutex_lock(&c->lock);
	c->stats.retired_buffers++;
	pthread_mutex_unlock(&c->lock);
	*copy = b;
	return 0;
}

int e4_cache_publish(struct e4_cache *c, struct e4_buf *copy)
{
	struct e4_buf *old;
	int err;

	pthread_mutex_lock(&c->lock);
	old = find_locked(c, copy->blk);
	if (old)
		retire_locked(c, old);	/* its slot is free: no growth below */
	err = insert_locked(c, copy);
	if (!err) {
		c->stats.retired_buffers--;
		copy->dirty = true;
		dirty_link(c, copy);
	}
	pthread_mutex_unlock(&c->lock);
	return err;
}

void e4_cache_discard(struct e4_cache *c, struct e4_buf *copy)
{
	pthread_mutex_lock(&c->lock);
	c->stats.retired_buffers--;
	pthread_mutex_unlock(&c->lock);
	buf_free(copy);
}

void e4_cache_forget(struct e4_cache *c, uint64_t blk)
{
	struct e4_buf *b;

	pthread_mutex_lock(&c->lock);
	b = find_locked(c, blk);
	if (b) {
		b->dirty = false;
		retire_locked(c, b);
	}
	pthread_mutex_unlock(&c->lock);
}

void e4_cache_pin(struct e4_cache *c, struct e4_buf *b)
{
	pthread_mutex_lock(&c->lock);
	b->pins++;
	pthread_mutex_unlock(&c->lock);
}

void e4_cache_unpin(struct e4_cache *c, struct e4_buf *b)
{
	pthread_mutex_lock(&c->lock);
	if (--b->pins == 0)
		idle_locked(c, b);
	pthread_mutex_unlock(&c->lock);
}

int e4_cache_write_home(struct e4_cache *c, struct e4_buf *b)
{
	uint64_t off;
	int err = block_offset(c, b->blk, &off);

	if (!err)
		err = e4_dev_pwrite(c->dev, b->data, b->size, off);
	if (err)
		return err;
	pthread_mutex_lock(&c->lock);
	c->stats.writebacks++;
	if (b->current && b->dirty) {
		b->dirty = false;
		dirty_unlink(c, b);
		idle_locked(c, b);
	}
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static int by_block(const void *x, const void *y)
{
	const struct e4_buf *a = *(struct e4_buf *const *)x;
	const struct e4_buf *b = *(struct e4_buf *const *)y;

	return (a->blk > b->blk) - (a->blk < b->blk);
}

int e4_cache_writeback(struct e4_cache *c)
{
	struct e4_buf **todo;
	size_t n = 0;
	int err = 0;

	pthread_mutex_lock(&c->lock);
	todo = malloc((c->stats.dirty_buffers ? c->stats.dirty_buffers : 1) *
		      sizeof(*todo));
	if (!todo) {
		pthread_mutex_unlock(&c->lock);
		return -ENOMEM;
	}
	for (struct e4_buf *b = c->dirty.dirty_next; b != &c->dirty;
	     b = b->dirty_next) {
		if (b->pins)
			continue;	/* the journal's, not yet committed */
		b->refs++;
		todo[n++] = b;
	}
	pthread_mutex_unlock(&c->lock);

	qsort(todo, n, sizeof(*todo), by_block);
	for (size_t i = 0; i < n; i++) {
		int r = e4_cache_write_home(c, todo[i]);

		if (r && !err)
			err = r;
		e4_cache_put(c, todo[i]);
	}
	free(todo);
	if (n) {
		int r = e4_dev_flush(c->dev);

		if (r && !err)
			err = r;
	}
	return err;
}

void e4_cache_get_stats(struct e4_cache *c, struct e4_cache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	pthread_mutex_unlock(&c->lock);
}
