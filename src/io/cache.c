/* SPDX-License-Identifier: MIT */
/*
 * The metadata block cache: a hash table of reference-counted block buffers
 * with an LRU list of the unreferenced ones, bounded in memory.
 *
 * One mutex guards the table; device reads happen outside it, so a miss does
 * not stall other readers.  Two threads missing on the same block both read
 * it and the second insert loses (cheap, and no "loading" state to manage).
 * Dirty buffers are never evicted: the write path flushes them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "e4/bytes.h"
#include "io/cache.h"

#define E4_CACHE_DEFAULT_BYTES (64u << 20)

struct e4_cache {
	pthread_mutex_t lock;
	struct e4_dev *dev;
	uint32_t block_size;
	size_t max_bytes;
	struct e4_buf **buckets;
	size_t nbuckets;	/* power of two */
	struct e4_buf lru;	/* sentinel: lru.lru_next is the oldest */
	e4_overlay_fn overlay;
	void *overlay_ctx;
	struct e4_cache_stats stats;
};

static size_t bucket_of(const struct e4_cache *c, uint64_t blk)
{
	return (size_t)((blk * 0x9E3779B97F4A7C15ull) >> 20) & (c->nbuckets - 1);
}

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

int e4_cache_create(struct e4_dev *dev, uint32_t block_size, size_t max_bytes,
		    struct e4_cache **out)
{
	struct e4_cache *c = calloc(1, sizeof(*c));
	size_t want;

	if (!c)
		return -ENOMEM;
	if (max_bytes == 0)
		max_bytes = E4_CACHE_DEFAULT_BYTES;
	if (max_bytes < (size_t)block_size * 16)
		max_bytes = (size_t)block_size * 16;
	c->dev = dev;
	c->block_size = block_size;
	c->max_bytes = max_bytes;
	want = max_bytes / block_size;
	c->nbuckets = 64;
	while (c->nbuckets < want && c->nbuckets < (1u << 20))
		c->nbuckets <<= 1;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return -ENOMEM;
	}
	c->lru.lru_next = c->lru.lru_prev = &c->lru;
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

static void buf_free(struct e4_buf *b)
{
	free(b->data);
	free(b);
}

void e4_cache_destroy(struct e4_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct e4_buf *b = c->buckets[i];
		while (b) {
			struct e4_buf *next = b->hash_next;
			buf_free(b);
			b = next;
		}
	}
	free(c->buckets);
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

int e4_cache_read_uncached(struct e4_cache *c, uint64_t blk, uint8_t *buf)
{
	uint64_t off;

	if (c->overlay) {
		int r = c->overlay(c->overlay_ctx, blk, buf);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	if (e4_mul_overflow(blk, (uint64_t)c->block_size, &off))
		return -EIO;
	return e4_dev_pread(c->dev, buf, c->block_size, off);
}

static struct e4_buf *find_locked(struct e4_cache *c, uint64_t blk)
{
	for (struct e4_buf *b = c->buckets[bucket_of(c, blk)]; b; b = b->hash_next)
		if (b->blk == blk)
			return b;
	return NULL;
}

static void unhash_locked(struct e4_cache *c, struct e4_buf *victim)
{
	struct e4_buf **pp = &c->buckets[bucket_of(c, victim->blk)];

	while (*pp != victim)
		pp = &(*pp)->hash_next;
	*pp = victim->hash_next;
}

/* Evict clean, unreferenced buffers, oldest first, until under the bound. */
static void shrink_locked(struct e4_cache *c)
{
	struct e4_buf *b = c->lru.lru_next;

	while (c->stats.bytes > c->max_bytes && b != &c->lru) {
		struct e4_buf *next = b->lru_next;
		if (!b->dirty) {
			lru_unlink(b);
			unhash_locked(c, b);
			c->stats.bytes -= b->size;
			c->stats.buffers--;
			c->stats.evictions++;
			buf_free(b);
		}
		b = next;
	}
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

	nb = calloc(1, sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	nb->data = malloc(c->block_size);
	if (!nb->data) {
		free(nb);
		return -ENOMEM;
	}
	nb->blk = blk;
	nb->size = c->block_size;
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
	nb->refs = 1;
	size_t i = bucket_of(c, blk);
	nb->hash_next = c->buckets[i];
	c->buckets[i] = nb;
	c->stats.bytes += nb->size;
	c->stats.buffers++;
	shrink_locked(c);
	pthread_mutex_unlock(&c->lock);
	*out = nb;
	return 0;
}

void e4_cache_put(struct e4_cache *c, struct e4_buf *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&c->lock);
	if (--b->refs == 0) {
		lru_push_newest(c, b);
		if (c->stats.bytes > c->max_bytes)
			shrink_locked(c);
	}
	pthread_mutex_unlock(&c->lock);
}

bool e4_buf_is_verified(struct e4_cache *c, const struct e4_buf *b,
			enum e4_buf_kind kind, uint64_t owner)
{
	bool ok;

	pthread_mutex_lock(&c->lock);
	ok = b->verified_kind == (uint32_t)kind && b->verified_owner == owner;
	pthread_mutex_unlock(&c->lock);
	return ok;
}

void e4_buf_set_verified(struct e4_cache *c, struct e4_buf *b,
			 enum e4_buf_kind kind, uint64_t owner)
{
	pthread_mutex_lock(&c->lock);
	b->verified_kind = (uint32_t)kind;
	b->verified_owner = owner;
	pthread_mutex_unlock(&c->lock);
}

void e4_buf_mark_dirty(struct e4_cache *c, struct e4_buf *b)
{
	pthread_mutex_lock(&c->lock);
	b->dirty = true;
	b->verified_kind = E4_BUF_UNVERIFIED;
	pthread_mutex_unlock(&c->lock);
}

int e4_cache_flush(struct e4_cache *c)
{
	int err = 0;

	/* Single-threaded use only until the write path adds transactions. */
	for (size_t i = 0; i < c->nbuckets; i++) {
		for (struct e4_buf *b = c->buckets[i]; b; b = b->hash_next) {
			if (!b->dirty)
				continue;
			int r = e4_dev_pwrite(c->dev, b->data, b->size,
					      b->blk * c->block_size);
			if (r && !err)
				err = r;
			if (!r)
				b->dirty = false;
		}
	}
	return err;
}

void e4_cache_get_stats(struct e4_cache *c, struct e4_cache_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	pthread_mutex_unlock(&c->lock);
}
