/* SPDX-License-Identifier: MIT */
/* The block cache: contents, memory bound, concurrency, overlay, -EIO. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "io/cache.h"

#define BS 1024u
#define NBLOCKS 512u

static uint8_t *image;

static void fill(uint8_t *p, uint64_t blk)
{
	for (unsigned i = 0; i < BS; i++)
		p[i] = (uint8_t)(blk * 7 + i);
}

static int setup(void **state)
{
	(void)state;
	image = malloc((size_t)BS * NBLOCKS);
	for (uint64_t b = 0; b < NBLOCKS; b++)
		fill(image + b * BS, b);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(image);
	return 0;
}

static void check_block(const struct e4_buf *b, uint64_t blk)
{
	uint8_t want[BS];
	fill(want, blk);
	assert_int_equal(b->blk, blk);
	assert_memory_equal(b->data, want, BS);
}

static void test_bounded(void **state)
{
	(void)state;
	struct e4_dev *dev;
	struct e4_cache *c;
	struct e4_cache_stats st;

	assert_int_equal(e4_dev_open_mem(image, (size_t)BS * NBLOCKS, &dev), 0);
	assert_int_equal(e4_cache_create(dev, BS, 32 * BS, &c), 0);
	for (int pass = 0; pass < 3; pass++) {
		for (uint64_t b = 0; b < NBLOCKS; b++) {
			struct e4_buf *buf;
			assert_int_equal(e4_cache_get(c, b, &buf), 0);
			check_block(buf, b);
			e4_cache_put(c, buf);
			e4_cache_get_stats(c, &st);
			assert_true(st.bytes <= 32 * BS);
		}
	}
	/* a hot block stays cached */
	struct e4_buf *a, *b2;
	assert_int_equal(e4_cache_get(c, 5, &a), 0);
	e4_cache_put(c, a);
	e4_cache_get_stats(c, &st);
	uint64_t hits = st.hits;
	assert_int_equal(e4_cache_get(c, 5, &b2), 0);
	e4_cache_put(c, b2);
	e4_cache_get_stats(c, &st);
	assert_int_equal(st.hits, hits + 1);
	assert_true(st.evictions > 0);
	e4_cache_destroy(c);
	e4_dev_close(dev);
}

static void test_referenced_not_evicted(void **state)
{
	(void)state;
	struct e4_dev *dev;
	struct e4_cache *c;
	struct e4_buf *held[40];

	assert_int_equal(e4_dev_open_mem(image, (size_t)BS * NBLOCKS, &dev), 0);
	assert_int_equal(e4_cache_create(dev, BS, 16 * BS, &c), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(e4_cache_get(c, (uint64_t)i, &held[i]), 0);
	for (int i = 0; i < 40; i++) {	/* all still valid past the bound */
		check_block(held[i], (uint64_t)i);
		e4_cache_put(c, held[i]);
	}
	struct e4_cache_stats st;
	e4_cache_get_stats(c, &st);
	assert_true(st.bytes <= 16 * BS);
	e4_cache_destroy(c);
	e4_dev_close(dev);
}

static void test_beyond_device(void **state)
{
	(void)state;
	struct e4_dev *dev;
	struct e4_cache *c;
	struct e4_buf *b;

	assert_int_equal(e4_dev_open_mem(image, (size_t)BS * NBLOCKS, &dev), 0);
	assert_int_equal(e4_cache_create(dev, BS, 0, &c), 0);
	assert_int_equal(e4_cache_get(c, NBLOCKS, &b), -EIO);
	assert_int_equal(e4_cache_get(c, UINT64_MAX / 2, &b), -EIO);
	e4_cache_destroy(c);
	e4_dev_close(dev);
}

static int overlay_fn(void *ctx, uint64_t blk, uint8_t *buf)
{
	(void)ctx;
	if (blk != 7)
		return 0;
	memset(buf, 0xAB, BS);
	return 1;
}

static void test_overlay(void **state)
{
	(void)state;
	struct e4_dev *dev;
	struct e4_cache *c;
	struct e4_buf *b;
	uint8_t want[BS];

	assert_int_equal(e4_dev_open_mem(image, (size_t)BS * NBLOCKS, &dev), 0);
	assert_int_equal(e4_cache_create(dev, BS, 0, &c), 0);
	e4_cache_set_overlay(c, overlay_fn, NULL);
	assert_int_equal(e4_cache_get(c, 7, &b), 0);
	memset(want, 0xAB, BS);
	assert_memory_equal(b->data, want, BS);
	e4_cache_put(c, b);
	assert_int_equal(e4_cache_get(c, 8, &b), 0);
	check_block(b, 8);
	e4_cache_put(c, b);
	e4_cache_destroy(c);
	e4_dev_close(dev);
}

struct worker {
	struct e4_cache *c;
	unsigned seed;
	int errors;
};

static void *reader(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 20000; i++) {
		uint64_t blk = (uint64_t)rand_r(&w->seed) % NBLOCKS;
		struct e4_buf *b;
		uint8_t want[BS];
		if (e4_cache_get(w->c, blk, &b)) {
			w->errors++;
			continue;
		}
		fill(want, blk);
		if (b->blk != blk || memcmp(b->data, want, BS))
			w->errors++;
		e4_cache_put(w->c, b);
	}
	return NULL;
}

static void test_concurrent_readers(void **state)
{
	(void)state;
	struct e4_dev *dev;
	struct e4_cache *c;
	pthread_t t[4];
	struct worker w[4];

	assert_int_equal(e4_dev_open_mem(image, (size_t)BS * NBLOCKS, &dev), 0);
	assert_int_equal(e4_cache_create(dev, BS, 64 * BS, &c), 0);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.c = c, .seed = (unsigned)i + 1};
		pthread_create(&t[i], NULL, reader, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].errors, 0);
	}
	struct e4_cache_stats st;
	e4_cache_get_stats(c, &st);
	assert_true(st.bytes <= 64 * BS);
	e4_cache_destroy(c);
	e4_dev_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_referenced_not_evicted),
		cmocka_unit_test(test_beyond_device),
		cmocka_unit_test(test_overlay),
		cmocka_unit_test(test_concurrent_readers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
