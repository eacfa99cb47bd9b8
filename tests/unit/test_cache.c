/* SPDX-License-Identifier: MIT */
/* The block cache: contents, memory bound, concurrency, overlay, -EIO. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ---- versions, for writers ---------------------------------------------- */

/* A writable device over a temporary copy of the image. */
static struct e4_dev *writable_dev(char *path)
{
	struct e4_dev *dev;
	int fd;

	strcpy(path, "/tmp/e4-test-cache-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, image, (size_t)BS * NBLOCKS), (ssize_t)BS * NBLOCKS);
	close(fd);
	assert_int_equal(e4_dev_open_file(path, 0, 0, true, &dev), 0);
	return dev;
}

static uint8_t on_disk(const char *path, uint64_t blk)
{
	FILE *f = fopen(path, "rb");
	uint8_t v = 0;

	assert_non_null(f);
	assert_int_equal(fseek(f, (long)(blk * BS), SEEK_SET), 0);
	assert_int_equal(fread(&v, 1, 1, f), 1);
	fclose(f);
	return v;
}

/* A reader's version never changes; a writer's copy becomes current only
 * when published, and the old version goes when its last reader does. */
static void test_versions(void **state)
{
	(void)state;
	char path[64];
	struct e4_dev *dev = writable_dev(path);
	struct e4_cache *c;
	struct e4_buf *old, *copy, *now;
	struct e4_cache_stats st;
	uint8_t want[BS];

	assert_int_equal(e4_cache_create(dev, BS, 32 * BS, &c), 0);
	assert_int_equal(e4_cache_get(c, 9, &old), 0);
	static const int row;	/* a verifier row's address */
	int memo_err = 1;
	const struct e4_memo_key k9 = { { 9, 0, 0 } }, k9b = { { 9, 0, 1 } };

	e4_buf_memo_set(c, old, &row, &k9, 0);
	assert_int_equal(e4_cache_copy(c, old, &copy), 0);
	/* the whole key is compared */
	assert_false(e4_buf_memo_get(c, copy, &row, &k9b, &memo_err));
	assert_true(e4_buf_memo_get(c, copy, &row, &k9, &memo_err));
	assert_int_equal(memo_err, 0);
	memset(copy->data, 0x11, BS);
	/* not yet published: readers see the old version */
	assert_int_equal(e4_cache_get(c, 9, &now), 0);
	assert_ptr_equal(now, old);
	e4_cache_put(c, now);
	assert_int_equal(e4_cache_publish(c, copy), 0);
	assert_int_equal(e4_cache_get(c, 9, &now), 0);
	assert_ptr_equal(now, copy);
	e4_cache_put(c, now);
	check_block(old, 9);	/* the reader's bytes did not change */
	e4_cache_get_stats(c, &st);
	assert_int_equal(st.retired_buffers, 1);
	assert_int_equal(st.dirty_buffers, 1);
	e4_cache_put(c, old);	/* the last reader: freed */
	e4_cache_get_stats(c, &st);
	assert_int_equal(st.retired_buffers, 0);

	/* dirty versions are not evicted, however much is read */
	for (uint64_t b = 100; b < 300; b++) {
		assert_int_equal(e4_cache_get(c, b, &now), 0);
		e4_cache_put(c, now);
	}
	assert_int_equal(e4_cache_get(c, 9, &now), 0);
	memset(want, 0x11, BS);
	assert_memory_equal(now->data, want, BS);
	e4_cache_put(c, now);
	assert_int_equal(on_disk(path, 9), image[9 * BS]);

	/* a private copy can be dropped */
	assert_int_equal(e4_cache_get(c, 10, &now), 0);
	assert_int_equal(e4_cache_copy(c, now, &copy), 0);
	e4_cache_put(c, now);
	e4_cache_discard(c, copy);	/* takes the copy's only reference */
	e4_cache_get_stats(c, &st);
	assert_int_equal(st.retired_buffers, 0);
	e4_cache_destroy(c);
	e4_dev_close(dev);
	unlink(path);
}

/* Writeback writes dirty, unpinned versions home and leaves them clean;
 * pinned ones wait; a version published during writeback stays dirty. */
static void test_writeback(void **state)
{
	(void)state;
	char path[64];
	struct e4_dev *dev = writable_dev(path);
	struct e4_cache *c;
	struct e4_buf *b, *copy, *pinned = NULL;
	struct e4_cache_stats st;

	assert_int_equal(e4_cache_create(dev, BS, 32 * BS, &c), 0);
	for (uint64_t blk = 20; blk < 25; blk++) {
		assert_int_equal(e4_cache_new_version(c, blk, &copy), 0);
		memset(copy->data, (int)blk, BS);
		assert_int_equal(e4_cache_publish(c, copy), 0);
		if (blk == 22) {
			e4_cache_pin(c, copy);
			pinned = copy;
		} else {
			e4_cache_put(c, copy);
		}
	}
	assert_int_equal(e4_cache_writeback(c), 0);
	for (uint64_t blk = 20; blk < 25; blk++)
		assert_int_equal(on_disk(path, blk), blk == 22 ? image[22 * BS] : blk);
	e4_cache_get_stats(c, &st);
	assert_int_equal(st.dirty_buffers, 1);
	assert_int_equal(st.writebacks, 4);
	e4_cache_unpin(c, pinned);
	e4_cache_put(c, pinned);
	assert_int_equal(e4_cache_writeback(c), 0);
	assert_int_equal(on_disk(path, 22), 22);
	e4_cache_get_stats(c, &st);
	assert_int_equal(st.dirty_buffers, 0);

	/* write_home of a version superseded since: the newer stays dirty */
	assert_int_equal(e4_cache_get(c, 30, &b), 0);
	assert_int_equal(e4_cache_copy(c, b, &copy), 0);
	e4_cache_put(c, b);
	copy->data[0] = 1;
	assert_int_equal(e4_cache_publish(c, copy), 0);
	struct e4_buf *newer;
	assert_int_equal(e4_cache_copy(c, copy, &newer), 0);
	newer->data[0] = 2;
	assert_int_equal(e4_cache_publish(c, newer), 0);
	assert_int_equal(e4_cache_write_home(c, copy), 0);
	e4_cache_get_stats(c, &st);
	assert_int_equal(st.dirty_buffers, 1);
	e4_cache_put(c, copy);
	e4_cache_put(c, newer);
	assert_int_equal(e4_cache_writeback(c), 0);
	assert_int_equal(on_disk(path, 30), 2);
	e4_cache_destroy(c);
	e4_dev_close(dev);
	unlink(path);
}

/* Readers hammering one block while a writer publishes versions: each
 * version is one byte value throughout, so a torn read shows. */
struct tear {
	struct e4_cache *c;
	atomic_bool stop;
	atomic_int reads;
	int torn;
};

static void *tear_reader(void *arg)
{
	struct tear *t = arg;

	while (!atomic_load(&t->stop)) {
		struct e4_buf *b;

		if (e4_cache_get(t->c, 40, &b)) {
			t->torn++;
			continue;
		}
		for (unsigned i = 1; i < BS; i++)
			if (b->data[i] != b->data[0]) {
				t->torn++;
				break;
			}
		atomic_fetch_add(&t->reads, 1);
		e4_cache_put(t->c, b);
	}
	return NULL;
}

static bool all_read(struct tear *t, int n, int min)
{
	for (int i = 0; i < n; i++)
		if (atomic_load(&t[i].reads) < min)
			return false;
	return true;
}

static void test_no_torn_reads(void **state)
{
	(void)state;
	char path[64];
	struct e4_dev *dev = writable_dev(path);
	struct tear t[3];
	pthread_t th[3];
	struct e4_cache *c;
	struct e4_buf *b, *copy;

	assert_int_equal(e4_cache_create(dev, BS, 32 * BS, &c), 0);
	assert_int_equal(e4_cache_new_version(c, 40, &copy), 0);
	assert_int_equal(e4_cache_publish(c, copy), 0);
	e4_cache_put(c, copy);
	for (int i = 0; i < 3; i++) {
		t[i] = (struct tear){ .c = c };
		pthread_create(&th[i], NULL, tear_reader, &t[i]);
	}
	/* Keep publishing until every reader has overlapped the writer for
	 * a while: on a loaded machine the readers may not be scheduled at
	 * all during a fixed number of versions. */
	for (int v = 1; v < 3000 || !all_read(t, 3, 200); v++) {
		assert_int_equal(e4_cache_get(c, 40, &b), 0);
		assert_int_equal(e4_cache_copy(c, b, &copy), 0);
		e4_cache_put(c, b);
		for (unsigned i = 0; i < BS; i++)	/* slowly, byte by byte */
			copy->data[i] = (uint8_t)v;
		assert_int_equal(e4_cache_publish(c, copy), 0);
		e4_cache_put(c, copy);
	}
	for (int i = 0; i < 3; i++) {
		atomic_store(&t[i].stop, true);
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].torn, 0);
		assert_true(atomic_load(&t[i].reads) >= 200);
	}
	struct e4_cache_stats st;
	e4_cache_get_stats(c, &st);
	assert_int_equal(st.retired_buffers, 0);
	e4_cache_destroy(c);
	e4_dev_close(dev);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_referenced_not_evicted),
		cmocka_unit_test(test_beyond_device),
		cmocka_unit_test(test_overlay),
		cmocka_unit_test(test_concurrent_readers),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_writeback),
		cmocka_unit_test(test_no_torn_reads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
