/* SPDX-License-Identifier: MIT */
/*
 * The logging memory device: reads see writes, the log, crash images
 * against a model the test keeps of what it wrote (at each flush; every
 * subset, whole and torn, of a small case; seeded subsets), the log's
 * memory cap, fault injection, concurrent writers, and one end-to-end use
 * under the library on a real mkfs.ext4 image.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e4/memdev.h"
#include "io/dev.h"
#include "testutil.h"

#define DEV_SIZE (64u * 1024u)
#define SECTOR E4_MEMDEV_SECTOR

static uint8_t initial[DEV_SIZE];

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < DEV_SIZE; i++)
		initial[i] = (uint8_t)(i * 31 + 5);
	return 0;
}

/* ---- the model: what the test wrote, and the images that follow -------- */

struct op {
	bool flush;
	uint64_t off;
	size_t len;
	uint8_t *data;
};

struct model {
	struct op *ops;
	size_t n, cap;
	uint32_t flushes;
};

static void model_add(struct model *m, struct op op)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->ops = realloc(m->ops, m->cap * sizeof(*m->ops));
		assert_non_null(m->ops);
	}
	m->ops[m->n++] = op;
	if (op.flush)
		m->flushes++;
}

static void model_free(struct model *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->ops[i].data);
	free(m->ops);
	memset(m, 0, sizeof(*m));
}

/* Write @len bytes at @off, bytes made from @tag, and record it. */
static void do_write(struct e4_dev *dev, struct model *m, uint64_t off,
		     size_t len, unsigned tag)
{
	uint8_t *data = malloc(len);

	assert_non_null(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(tag * 13 + i * 7 + 1);
	assert_int_equal(e4_dev_pwrite(dev, data, len, off), 0);
	model_add(m, (struct op){ .off = off, .len = len, .data = data });
}

static void do_flush(struct e4_dev *dev, struct model *m)
{
	assert_int_equal(e4_dev_flush(dev), 0);
	model_add(m, (struct op){ .flush = true });
}

static size_t sectors_touched(const struct op *op)
{
	return (size_t)((op->off + op->len - 1) / SECTOR - op->off / SECTOR + 1);
}

/* The writes after flush @flush, counted as the device should count them. */
static size_t model_units(const struct model *m, uint32_t flush, bool torn)
{
	uint32_t epoch = 0;
	size_t units = 0;

	for (size_t i = 0; i < m->n; i++) {
		if (m->ops[i].flush)
			epoch++;
		else if (epoch == flush)
			units += torn ? sectors_touched(&m->ops[i]) : 1;
	}
	return units;
}

/*
 * Byte by byte: a byte written before flush @flush is on the disk; one
 * written after it (and before the next) is if its unit is kept, the unit
 * being the write, or when torn the write's sector that holds the byte.
 * Later writes over earlier ones.  @keep NULL keeps nothing.
 */
static void model_image(const struct model *m, uint32_t flush, bool torn,
			const uint8_t *keep, uint8_t *out)
{
	uint32_t epoch = 0;
	size_t first_unit = 0;

	memcpy(out, initial, DEV_SIZE);
	for (size_t i = 0; i < m->n; i++) {
		const struct op *op = &m->ops[i];
		if (op->flush) {
			epoch++;
			continue;
		}
		if (epoch > flush)
			break;
		for (uint64_t b = op->off; b < op->off + op->len; b++) {
			size_t unit = first_unit +
				(torn ? (size_t)(b / SECTOR - op->off / SECTOR) : 0);
			if (epoch < flush || (keep && keep[unit]))
				out[b] = op->data[b - op->off];
		}
		if (epoch == flush)
			first_unit += torn ? sectors_touched(op) : 1;
	}
}

/* Everything written: every write, in order. */
static void model_contents(const struct model *m, uint8_t *out)
{
	memcpy(out, initial, DEV_SIZE);
	for (size_t i = 0; i < m->n; i++)
		if (!m->ops[i].flush)
			memcpy(out + m->ops[i].off, m->ops[i].data,
			       m->ops[i].len);
}

static void create(struct e4_memdev **md, struct e4_dev **dev)
{
	assert_int_equal(e4_memdev_create(initial, DEV_SIZE, NULL, md, dev), 0);
}

static void destroy(struct e4_memdev *md, struct e4_dev *dev)
{
	e4_dev_close(dev);
	e4_memdev_free(md);
}

/*
 * The small case: overlapping writes, unaligned writes that cross sectors,
 * two flushes in a row (an empty stretch) and writes after the last flush.
 */
static void small_case(struct e4_dev *dev, struct model *m)
{
	do_write(dev, m, 0, 1024, 1);
	do_write(dev, m, 4096, 512, 2);
	do_flush(dev, m);
	do_write(dev, m, 8192, 1024, 3);
	do_write(dev, m, 8704, 1024, 4);	/* over the second half of 3 */
	do_write(dev, m, 8192, 100, 5);		/* over the start of 3 */
	do_write(dev, m, 16384, 1024, 6);
	do_flush(dev, m);
	do_flush(dev, m);
	do_write(dev, m, 700, 1000, 7);		/* 3 pieces, over 1 */
	do_write(dev, m, 30000, 10, 8);
	do_write(dev, m, 1000, 30, 9);		/* across 1024, over 7 */
}

/* ---- reads, writes, the log ----------------------------------------------- */

static void test_reads_see_writes(void **state)
{
	(void)state;
	struct e4_memdev *md;
	struct e4_dev *dev;
	struct model m = { 0 };
	static uint8_t buf[DEV_SIZE], want[DEV_SIZE], copy[DEV_SIZE];

	/* the device holds a copy of the image it was made from */
	memcpy(copy, initial, DEV_SIZE);
	assert_int_equal(e4_memdev_create(copy, DEV_SIZE, NULL, &md, &dev), 0);
	memset(copy, 0, DEV_SIZE);
	assert_true(e4_dev_writable(dev));
	assert_int_equal(e4_dev_size(dev), DEV_SIZE);
	assert_int_equal(e4_memdev_size(md), DEV_SIZE);
	assert_int_equal(e4_dev_pread(dev, buf, DEV_SIZE, 0), 0);
	assert_memory_equal(buf, initial, DEV_SIZE);

	small_case(dev, &m);
	assert_int_equal(e4_dev_pread(dev, buf, DEV_SIZE, 0), 0);
	model_contents(&m, want);
	assert_memory_equal(buf, want, DEV_SIZE);
	assert_int_equal(e4_memdev_contents(md, buf, DEV_SIZE), 0);
	assert_memory_equal(buf, want, DEV_SIZE);

	/* the log, entry by entry */
	assert_int_equal(e4_memdev_log_length(md), m.n);
	for (size_t i = 0; i < m.n; i++) {
		struct e4_memdev_entry e;
		assert_int_equal(e4_memdev_log_entry(md, i, &e), 0);
		if (m.ops[i].flush) {
			assert_int_equal(e.op, E4_MEMDEV_FLUSH);
			continue;
		}
		assert_int_equal(e.op, E4_MEMDEV_WRITE);
		assert_int_equal(e.off, m.ops[i].off);
		assert_int_equal(e.len, m.ops[i].len);
		assert_memory_equal(e.data, m.ops[i].data, e.len);
	}
	struct e4_memdev_entry e;
	assert_int_equal(e4_memdev_log_entry(md, m.n, &e), -EINVAL);

	/* not recorded: empty writes, writes refused by the size check */
	assert_int_equal(e4_dev_pwrite(dev, buf, 0, 5), 0);
	assert_int_equal(e4_dev_pwrite(dev, buf, 2, DEV_SIZE - 1), -EIO);
	assert_int_equal(e4_dev_pwrite(dev, buf, 1, UINT64_MAX), -EIO);
	assert_int_equal(e4_memdev_log_length(md), m.n);
	assert_int_equal(e4_dev_pread(dev, buf, 2, DEV_SIZE - 1), -EIO);

	/* the memory goes with the second handle, in either order */
	e4_memdev_free(md);
	assert_int_equal(e4_dev_pread(dev, buf, 16, 0), 0);
	e4_dev_close(dev);
	create(&md, &dev);
	e4_dev_close(dev);
	assert_int_equal(e4_memdev_contents(md, buf, DEV_SIZE), 0);
	assert_memory_equal(buf, initial, DEV_SIZE);
	e4_memdev_free(md);
	model_free(&m);
}

/* ---- crash images ---------------------------------------------------------- */

static void test_crash_at_each_flush(void **state)
{
	(void)state;
	struct e4_memdev *md;
	struct e4_dev *dev;
	struct model m = { 0 };
	static uint8_t got[DEV_SIZE], want[DEV_SIZE];
	unsigned seed = 7;

	create(&md, &dev);
	/* a longer, random script: 300 writes, about 30 flushes */
	for (unsigned i = 0; i < 330; i++) {
		if (rand_r(&seed) % 11 == 0) {
			do_flush(dev, &m);
			continue;
		}
		size_t len = 1 + (size_t)rand_r(&seed) % 3000;
		uint64_t off = (uint64_t)rand_r(&seed) % (DEV_SIZE - len);
		do_write(dev, &m, off, len, i);
	}
	assert_int_equal(e4_memdev_flushes(md), m.flushes);
	assert_true(m.flushes > 10);

	size_t writes = 0;
	for (uint32_t k = 0; k <= m.flushes; k++) {
		assert_int_equal(e4_memdev_image_at_flush(md, k, got, DEV_SIZE), 0);
		model_image(&m, k, false, NULL, want);
		assert_memory_equal(got, want, DEV_SIZE);
		assert_int_equal(e4_memdev_writes_after(md, k),
				 model_units(&m, k, false));
		writes += e4_memdev_writes_after(md, k);
	}
	assert_int_equal(writes + m.flushes, m.n);
	assert_int_equal(e4_memdev_writes_after(md, m.flushes + 1), 0);

	/* flush 0 is the initial image; everything kept is the contents */
	assert_int_equal(e4_memdev_image_at_flush(md, 0, got, DEV_SIZE), 0);
	assert_memory_equal(got, initial, DEV_SIZE);
	size_t n = e4_memdev_crash_units(md, m.flushes, false);
	uint8_t *all = malloc(n);
	memset(all, 1, n);
	assert_int_equal(e4_memdev_image_keeping(md, m.flushes, false, all, n,
						 got, DEV_SIZE), 0);
	assert_int_equal(e4_memdev_contents(md, want, DEV_SIZE), 0);
	assert_memory_equal(got, want, DEV_SIZE);

	/* crash points that are not, and wrong sizes */
	assert_int_equal(e4_memdev_image_at_flush(md, m.flushes + 1, got,
						  DEV_SIZE), -EINVAL);
	assert_int_equal(e4_memdev_image_at_flush(md, 0, got, DEV_SIZE - 1),
			 -EINVAL);
	assert_int_equal(e4_memdev_contents(md, got, DEV_SIZE + 1), -EINVAL);
	assert_int_equal(e4_memdev_image_keeping(md, m.flushes, false, all,
						 n - 1, got, DEV_SIZE), -EINVAL);
	assert_int_equal(e4_memdev_image_keeping(md, m.flushes, true, all, n,
						 got, DEV_SIZE), -EINVAL);
	assert_int_equal(e4_memdev_image_keeping(md, m.flushes, false, NULL, n,
						 got, DEV_SIZE), -EINVAL);
	assert_int_equal(e4_memdev_image_random(md, m.flushes + 1, true, 1,
						got, DEV_SIZE), -EINVAL);
	free(all);
	destroy(md, dev);
	model_free(&m);
}

/* Every subset of every stretch of the small case, whole and torn. */
static void test_every_subset(void **state)
{
	(void)state;
	struct e4_memdev *md;
	struct e4_dev *dev;
	struct model m = { 0 };
	static uint8_t got[DEV_SIZE], want[DEV_SIZE], none[DEV_SIZE];
	static const size_t expect_units[2][4] = {
		{ 2, 4, 0, 3 },		/* whole writes after flush 0..3 */
		{ 3, 7, 0, 6 },		/* their sector pieces */
	};
	unsigned checked = 0;

	create(&md, &dev);
	small_case(dev, &m);
	assert_int_equal(e4_memdev_flushes(md), 3);
	for (int torn = 0; torn < 2; torn++) {
		for (uint32_t k = 0; k <= 3; k++) {
			size_t n = e4_memdev_crash_units(md, k, torn);
			assert_int_equal(n, expect_units[torn][k]);
			assert_int_equal(n, model_units(&m, k, torn));
			assert_int_equal(e4_memdev_image_at_flush(md, k, none,
								  DEV_SIZE), 0);
			for (unsigned mask = 0; mask < 1u << n; mask++) {
				uint8_t keep[8];
				for (size_t u = 0; u < n; u++)
					keep[u] = (uint8_t)(mask >> u & 1);
				assert_int_equal(e4_memdev_image_keeping(md, k,
						 torn, keep, n, got, DEV_SIZE), 0);
				model_image(&m, k, torn, keep, want);
				assert_memory_equal(got, want, DEV_SIZE);
				/* keeping one more unit changes the image:
				 * the units here all hold new bytes */
				if (mask == 0)
					assert_memory_equal(got, none, DEV_SIZE);
				else
					assert_memory_not_equal(got, none,
								DEV_SIZE);
				checked++;
			}
		}
	}
	assert_int_equal(checked, 4 + 16 + 1 + 8 + 8 + 128 + 1 + 64);
	destroy(md, dev);
	model_free(&m);
}

/* Seeded subsets: reproducible, the same as the pick they come from. */
static void test_random_subsets(void **state)
{
	(void)state;
	struct e4_memdev *md;
	struct e4_dev *dev;
	struct model m = { 0 };
	static uint8_t got[DEV_SIZE], again[DEV_SIZE], want[DEV_SIZE];
	uint8_t keep[16], keep2[16];

	create(&md, &dev);
	small_case(dev, &m);
	for (int torn = 0; torn < 2; torn++) {
		for (uint32_t k = 0; k <= 3; k++) {
			size_t n = e4_memdev_crash_units(md, k, torn);
			for (uint64_t seed = 0; seed < 40; seed++) {
				assert_int_equal(e4_memdev_image_random(md, k,
						 torn, seed, got, DEV_SIZE), 0);
				assert_int_equal(e4_memdev_image_random(md, k,
						 torn, seed, again, DEV_SIZE), 0);
				assert_memory_equal(got, again, DEV_SIZE);
				e4_memdev_pick(seed, keep, n);
				model_image(&m, k, torn, keep, want);
				assert_memory_equal(got, want, DEV_SIZE);
			}
		}
	}

	/* the pick: 0 or 1, the same for a seed, different across seeds,
	 * about half kept, and fixed across machines and versions (a seed
	 * that found a bug must find it again) */
	e4_memdev_pick(42, keep, 16);
	e4_memdev_pick(42, keep2, 16);
	assert_memory_equal(keep, keep2, 16);
	e4_memdev_pick(43, keep2, 16);
	assert_memory_not_equal(keep, keep2, 16);
	static const uint8_t seed1[16] = {
		1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1, 0, 0,
	};
	e4_memdev_pick(1, keep, 16);
	assert_memory_equal(keep, seed1, 16);
	static uint8_t many[100000];
	size_t ones = 0;
	e4_memdev_pick(5, many, sizeof(many));
	for (size_t i = 0; i < sizeof(many); i++) {
		assert_true(many[i] <= 1);
		ones += many[i];
	}
	assert_in_range(ones, 49000, 51000);
	destroy(md, dev);
	model_free(&m);
}

/* Torn by hand, not through the model: an unaligned write in four pieces. */
static void test_torn_write(void **state)
{
	(void)state;
	struct e4_memdev *md;
	struct e4_dev *dev;
	uint8_t data[1536];
	static uint8_t got[DEV_SIZE];

	create(&md, &dev);
	memset(data, 0xEE, sizeof(data));
	assert_int_equal(e4_dev_flush(dev), 0);
	assert_int_equal(e4_dev_pwrite(dev, data, sizeof(data), 256), 0);
	assert_int_equal(e4_memdev_crash_units(md, 1, false), 1);
	assert_int_equal(e4_memdev_crash_units(md, 1, true), 4);
	assert_int_equal(e4_memdev_crash_units(md, 0, true), 0);

	const uint8_t keep[4] = { 0, 1, 0, 1 };
	assert_int_equal(e4_memdev_image_keeping(md, 1, true, keep, 4, got,
						 DEV_SIZE), 0);
	for (size_t b = 0; b < 2048; b++) {
		bool kept = (b >= 512 && b < 1024) || (b >= 1536 && b < 1792);
		if (got[b] != (kept ? 0xEE : initial[b]))
			fail_msg("byte %zu: 0x%02x, want %s", b, got[b],
				 kept ? "written" : "initial");
	}
	assert_memory_equal(got + 2048, initial + 2048, DEV_SIZE - 2048);
	destroy(md, dev);
}

/* ---- the memory cap, faults ------------------------------------------------ */

static void test_memory_cap(void **state)
{
	(void)state;
	const struct e4_memdev_opts opts = { .log_max = 64 * 1024 };
	struct e4_memdev *md;
	struct e4_dev *dev;
	uint8_t block[4096], buf[4096];
	int err = 0, writes = 0;

	assert_int_equal(e4_memdev_create(initial, DEV_SIZE, &opts, &md, &dev), 0);
	memset(block, 0x5A, sizeof(block));
	while (writes < 100) {
		err = e4_dev_pwrite(dev, block, sizeof(block),
				    (uint64_t)(writes % 16) * 4096);
		if (err)
			break;
		writes++;
	}
	/* 15 blocks and their records fit in 64 KiB, the 16th does not */
	assert_int_equal(err, -ENOBUFS);
	assert_int_equal(writes, 15);
	assert_true(e4_memdev_log_bytes(md) <= opts.log_max);
	assert_true(e4_memdev_log_bytes(md) >= 15 * 4096);
	/* the refused write changed nothing */
	assert_int_equal(e4_memdev_log_length(md), 15);
	assert_int_equal(e4_dev_pread(dev, buf, 4096, 15 * 4096), 0);
	assert_memory_equal(buf, initial + 15 * 4096, 4096);
	/* small writes and flushes fill the rest, then flushes fail too */
	while (!(err = e4_dev_pwrite(dev, block, 64, 0)))
		;
	assert_int_equal(err, -ENOBUFS);
	size_t len = e4_memdev_log_length(md);
	while (!(err = e4_dev_flush(dev)))
		;
	assert_int_equal(err, -ENOBUFS);
	assert_true(e4_memdev_log_bytes(md) <= opts.log_max);
	assert_int_equal(e4_memdev_flushes(md), e4_memdev_log_length(md) - len);
	destroy(md, dev);
}

static void test_faults(void **state)
{
	(void)state;
	struct e4_memdev *md;
	struct e4_dev *dev;
	uint8_t block[1024], buf[1024];

	create(&md, &dev);
	memset(block, 0x77, sizeof(block));
	assert_int_equal(e4_dev_pwrite(dev, block, 16, 0), 0);	/* not counted */
	e4_memdev_set_faults(md, &(struct e4_memdev_faults){
		.fail_write = 3, .fail_flush = 2 });
	for (int i = 1; i <= 5; i++)
		assert_int_equal(e4_dev_pwrite(dev, block, sizeof(block),
					       (uint64_t)i * 1024),
				 i == 3 ? -EIO : 0);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(e4_dev_flush(dev), i == 2 ? -EIO : 0);
	/* the failed write and flush left no trace */
	assert_int_equal(e4_memdev_log_length(md), 1 + 4 + 2);
	assert_int_equal(e4_memdev_flushes(md), 2);
	assert_int_equal(e4_dev_pread(dev, buf, sizeof(buf), 3 * 1024), 0);
	assert_memory_equal(buf, initial + 3 * 1024, sizeof(buf));

	/* no space from byte 8192 on: writes reaching it fail */
	e4_memdev_set_faults(md, &(struct e4_memdev_faults){
		.enospc_from = 8192 });
	assert_int_equal(e4_dev_pwrite(dev, block, 1024, 7168), 0);
	assert_int_equal(e4_dev_pwrite(dev, block, 1024, 7169), -ENOSPC);
	assert_int_equal(e4_dev_pwrite(dev, block, 10, 20000), -ENOSPC);
	assert_int_equal(e4_dev_flush(dev), 0);
	assert_int_equal(e4_dev_pread(dev, buf, 10, 20000), 0);
	assert_memory_equal(buf, initial + 20000, 10);

	/* counted from when they are set, and cleared with NULL */
	e4_memdev_set_faults(md, &(struct e4_memdev_faults){ .fail_write = 1 });
	assert_int_equal(e4_dev_pwrite(dev, block, 10, 20000), -EIO);
	assert_int_equal(e4_dev_pwrite(dev, block, 10, 20000), 0);
	e4_memdev_set_faults(md, &(struct e4_memdev_faults){ .fail_flush = 1,
		.enospc_from = 1 });
	e4_memdev_set_faults(md, NULL);
	assert_int_equal(e4_dev_flush(dev), 0);
	assert_int_equal(e4_dev_pwrite(dev, block, 10, 20000), 0);
	destroy(md, dev);
}

/* ---- concurrent writers ------------------------------------------------------ */

#define THREADS 4
#define PHASES 20
#define WRITES_PER_PHASE 30	/* per thread */
#define FLUSH_EVERY 10		/* writes of a thread */
#define SLOTS 4
#define REC 16384u	/* a record: many sectors, a long copy */

/* The writers run in bursts that start together (so they overlap) and end
 * together (so the test can hold the contents against the log). */
static pthread_barrier_t burst_start, burst_end;

struct writer {
	struct e4_dev *dev;
	unsigned id;
	int errors;
};

/* A slot's record: one 64-bit word, (thread << 32 | seq), repeated. */
static void fill_record(uint64_t *rec, unsigned id, unsigned seq)
{
	for (size_t i = 0; i < REC / 8; i++)
		rec[i] = (uint64_t)id << 32 | seq;
}

static bool record_whole(const uint8_t *bytes)
{
	uint64_t rec[REC / 8];

	memcpy(rec, bytes, REC);
	for (size_t i = 1; i < REC / 8; i++)
		if (rec[i] != rec[0])
			return false;
	return true;
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	unsigned seed = w->id, seq = 0;
	uint64_t rec[REC / 8];
	uint8_t seen[REC];

	for (unsigned phase = 0; phase < PHASES; phase++) {
		pthread_barrier_wait(&burst_start);
		for (unsigned i = 0; i < WRITES_PER_PHASE; i++) {
			uint64_t slot = (uint64_t)rand_r(&seed) % SLOTS;
			fill_record(rec, w->id, ++seq);
			if (e4_dev_pwrite(w->dev, rec, REC, slot * REC))
				w->errors++;
			if (seq % FLUSH_EVERY == 0 && e4_dev_flush(w->dev))
				w->errors++;
			/* readers never see half a write */
			slot = (uint64_t)rand_r(&seed) % SLOTS;
			if (e4_dev_pread(w->dev, seen, REC, slot * REC) ||
			    !record_whole(seen))
				w->errors++;
		}
		pthread_barrier_wait(&burst_end);
	}
	return NULL;
}

/* The initial image and every write of the log, in log order. */
static void replay_log(struct e4_memdev *md, const uint8_t *start,
		       uint8_t *out)
{
	size_t n = e4_memdev_log_length(md);

	memcpy(out, start, DEV_SIZE);
	for (size_t i = 0; i < n; i++) {
		struct e4_memdev_entry e;
		assert_int_equal(e4_memdev_log_entry(md, i, &e), 0);
		if (e.op == E4_MEMDEV_WRITE)
			memcpy(out + e.off, e.data, e.len);
	}
}

static void test_concurrent_writers(void **state)
{
	(void)state;
	static uint64_t blank[DEV_SIZE / 8];
	static uint8_t got[DEV_SIZE], replay[DEV_SIZE];
	struct e4_memdev *md;
	struct e4_dev *dev;
	pthread_t t[THREADS];
	struct writer w[THREADS];
	unsigned last_seq[THREADS + 1] = { 0 };
	unsigned torn_images = 0, stale_contents = 0;

	assert_int_equal(pthread_barrier_init(&burst_start, NULL, THREADS + 1), 0);
	assert_int_equal(pthread_barrier_init(&burst_end, NULL, THREADS + 1), 0);
	/* slots start as whole records of thread 0 */
	for (unsigned s = 0; s < SLOTS; s++)
		fill_record(blank + s * REC / 8, 0, s);
	assert_int_equal(e4_memdev_create(blank, DEV_SIZE, NULL, &md, &dev), 0);
	for (unsigned i = 0; i < THREADS; i++) {
		w[i] = (struct writer){ .dev = dev, .id = i + 1 };
		assert_int_equal(pthread_create(&t[i], NULL, writer_main, &w[i]), 0);
	}
	for (unsigned phase = 0; phase < PHASES; phase++) {
		pthread_barrier_wait(&burst_start);
		/* a crash image made during the burst: whole records only */
		uint32_t flush = e4_memdev_flushes(md);
		if (e4_memdev_image_random(md, flush, false, phase, got,
					   DEV_SIZE))
			torn_images++;
		for (unsigned s = 0; s < SLOTS; s++)
			torn_images += !record_whole(got + s * REC);
		pthread_barrier_wait(&burst_end);
		/* the contents are the log replayed */
		replay_log(md, (const uint8_t *)blank, replay);
		assert_int_equal(e4_memdev_contents(md, got, DEV_SIZE), 0);
		stale_contents += memcmp(got, replay, DEV_SIZE) != 0;
	}
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].errors, 0);
	}
	pthread_barrier_destroy(&burst_start);
	pthread_barrier_destroy(&burst_end);
	assert_int_equal(torn_images, 0);
	assert_int_equal(stale_contents, 0);

	/* every write and flush once, each thread's in its own order */
	size_t n = e4_memdev_log_length(md), writes = 0;
	assert_int_equal(e4_memdev_flushes(md),
			 THREADS * PHASES * WRITES_PER_PHASE / FLUSH_EVERY);
	for (size_t i = 0; i < n; i++) {
		struct e4_memdev_entry e;
		assert_int_equal(e4_memdev_log_entry(md, i, &e), 0);
		if (e.op == E4_MEMDEV_FLUSH)
			continue;
		writes++;
		assert_int_equal(e.len, REC);
		assert_int_equal(e.off % REC, 0);
		assert_true(e.off < SLOTS * REC);
		assert_true(record_whole(e.data));
		uint64_t word;
		memcpy(&word, e.data, sizeof(word));
		unsigned id = (unsigned)(word >> 32), seq = (unsigned)word;
		assert_in_range(id, 1, THREADS);
		assert_int_equal(seq, last_seq[id] + 1);
		last_seq[id] = seq;
	}
	assert_int_equal(writes, THREADS * PHASES * WRITES_PER_PHASE);
	assert_int_equal(writes + e4_memdev_flushes(md), n);
	destroy(md, dev);
}

/* ---- end to end: a real image under the library ------------------------------ */

#define E2E_BS 4096u
#define E2E_BLOCKS 3u

/* The file /data of an image in memory, read through the library. */
static void read_data_file(const uint8_t *image, size_t size, uint8_t *out)
{
	struct e4_dev *dev;
	struct e4_fs *fs;
	struct e4_open_opts opts = { .read_only = true };
	struct e4_inode inode;
	uint32_t ino;

	assert_int_equal(e4_dev_open_mem(image, size, &dev), 0);
	assert_int_equal(tu_open_dev(dev, &opts, &fs), 0);
	assert_int_equal(e4_path_lookup(fs, "/data", &ino), 0);
	assert_int_equal(e4_inode_read(fs, ino, &inode), 0);
	assert_int_equal(e4_file_read(fs, &inode, 0, out, E2E_BS * E2E_BLOCKS),
			 E2E_BS * E2E_BLOCKS);
	tu_close(fs);
}

static void test_end_to_end(void **state)
{
	(void)state;
	char src[512], path[600];
	static uint8_t orig[E2E_BS * E2E_BLOCKS], now[E2E_BS * E2E_BLOCKS];
	static uint8_t new0[E2E_BS], new1[E2E_BS];

	snprintf(src, sizeof(src), "%s/e2e-src", tu_tmpdir());
	tu_sh("mkdir -p '%s'", src);
	memset(orig, 'o', sizeof(orig));
	snprintf(path, sizeof(path), "%s/data", src);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(orig, 1, sizeof(orig), f), sizeof(orig));
	fclose(f);
	char *img = tu_mkfs("e2e.img", "-b 4096", src, "8M");
	size_t size;
	uint8_t *bytes = (uint8_t *)tu_slurp(img, &size);

	struct e4_memdev *md;
	struct e4_dev *dev;
	struct e4_fs *fs;
	struct e4_open_opts opts = { .read_only = true };
	struct e4_inode inode;
	struct e4_mapping map0, map1;
	uint32_t ino;

	assert_int_equal(e4_memdev_create(bytes, size, NULL, &md, &dev), 0);
	assert_int_equal(tu_open_dev(dev, &opts, &fs), 0);
	assert_int_equal(e4_path_lookup(fs, "/data", &ino), 0);
	assert_int_equal(e4_inode_read(fs, ino, &inode), 0);
	assert_int_equal(e4_file_read(fs, &inode, 0, now, sizeof(now)),
			 sizeof(now));
	assert_memory_equal(now, orig, sizeof(now));
	assert_int_equal(e4_memdev_log_length(md), 0);	/* reading wrote nothing */

	/* block 0 of the file written and flushed, block 1 written after */
	assert_int_equal(e4_map_block(fs, &inode, 0, &map0), 0);
	assert_int_equal(e4_map_block(fs, &inode, 1, &map1), 0);
	assert_int_equal(map0.kind, E4_MAP_MAPPED);
	assert_int_equal(map1.kind, E4_MAP_MAPPED);
	memset(new0, 'A', sizeof(new0));
	memset(new1, 'B', sizeof(new1));
	assert_int_equal(e4_dev_pwrite(dev, new0, E2E_BS, map0.pblk * E2E_BS), 0);
	assert_int_equal(e4_dev_flush(dev), 0);
	assert_int_equal(e4_dev_pwrite(dev, new1, E2E_BS, map1.pblk * E2E_BS), 0);
	/* file data is read from the device, not the metadata cache */
	assert_int_equal(e4_file_read(fs, &inode, 0, now, sizeof(now)),
			 sizeof(now));
	assert_memory_equal(now, new0, E2E_BS);
	assert_memory_equal(now + E2E_BS, new1, E2E_BS);
	e4_fs_close(fs);	/* releases the device handle */

	uint8_t *crash = malloc(size);
	assert_non_null(crash);
	/* at flush 0: the file as mkfs made it */
	assert_int_equal(e4_memdev_image_at_flush(md, 0, crash, size), 0);
	assert_memory_equal(crash, bytes, size);
	read_data_file(crash, size, now);
	assert_memory_equal(now, orig, sizeof(now));
	/* at flush 1: block 0 new, block 1 old */
	assert_int_equal(e4_memdev_image_at_flush(md, 1, crash, size), 0);
	read_data_file(crash, size, now);
	assert_memory_equal(now, new0, E2E_BS);
	assert_memory_equal(now + E2E_BS, orig + E2E_BS, 2 * E2E_BS);
	/* in flight after flush 1: block 1 old or new, sector by sector */
	assert_int_equal(e4_memdev_crash_units(md, 1, false), 1);
	assert_int_equal(e4_memdev_crash_units(md, 1, true), E2E_BS / SECTOR);
	bool seen_torn = false;
	for (uint64_t seed = 0; seed < 8; seed++) {
		assert_int_equal(e4_memdev_image_random(md, 1, true, seed,
							crash, size), 0);
		read_data_file(crash, size, now);
		assert_memory_equal(now, new0, E2E_BS);
		size_t kept = 0;
		for (size_t s = 0; s < E2E_BS / SECTOR; s++) {
			const uint8_t *sec = now + E2E_BS + s * SECTOR;
			bool is_new = !memcmp(sec, new1, SECTOR);
			assert_true(is_new || !memcmp(sec, orig, SECTOR));
			kept += is_new;
		}
		seen_torn |= kept > 0 && kept < E2E_BS / SECTOR;
	}
	assert_true(seen_torn);
	uint8_t one = 1, zero = 0;
	assert_int_equal(e4_memdev_image_keeping(md, 1, false, &one, 1, crash,
						 size), 0);
	read_data_file(crash, size, now);
	assert_memory_equal(now + E2E_BS, new1, E2E_BS);
	assert_int_equal(e4_memdev_image_keeping(md, 1, false, &zero, 1, crash,
						 size), 0);
	read_data_file(crash, size, now);
	assert_memory_equal(now + E2E_BS, orig + E2E_BS, E2E_BS);
	/* everything written */
	assert_int_equal(e4_memdev_contents(md, crash, size), 0);
	read_data_file(crash, size, now);
	assert_memory_equal(now, new0, E2E_BS);
	assert_memory_equal(now + E2E_BS, new1, E2E_BS);
	assert_memory_equal(now + 2 * E2E_BS, orig + 2 * E2E_BS, E2E_BS);

	free(crash);
	free(bytes);
	free(img);
	e4_memdev_free(md);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_see_writes),
		cmocka_unit_test(test_crash_at_each_flush),
		cmocka_unit_test(test_every_subset),
		cmocka_unit_test(test_random_subsets),
		cmocka_unit_test(test_torn_write),
		cmocka_unit_test(test_memory_cap),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_concurrent_writers),
		cmocka_unit_test(test_end_to_end),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
