/* SPDX-License-Identifier: MIT */
/*
 * Transaction handles (src/tx/trans.c) on a real image: what a handle
 * dirties is published at once, reaches the device only at commit, in
 * block order, once per block; verifiers run before a block leaves the
 * writer; credits are enforced; two handles never change one block at
 * once; a failed commit stops further changes.
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

#include "tx/trans.h"
#include "ondisk/ondisk.h"
#include "testutil.h"

static char *base;

static int group_setup(void **state)
{
	(void)state;
	base = tu_mkfs("trans.img", "-b 4096", NULL, "16M");
	return 0;
}

/* ---- a verifier row for the test's blocks ------------------------------ */

static unsigned verify_reads, verify_writes, csum_sets;

/* byte 0 == 0xFF is "corrupt"; the last 4 bytes hold a checksum */
static int t_verify_read(struct e4_fs *fs, const struct e4_buf *b,
			 const struct e4_owner *owner)
{
	(void)fs;
	(void)owner;
	verify_reads++;
	return b->data[0] == 0xFF ? -EUCLEAN : 0;
}

static int t_verify_write(struct e4_fs *fs, const struct e4_buf *b,
			  const struct e4_owner *owner)
{
	(void)fs;
	(void)owner;
	verify_writes++;
	return b->data[0] == 0xFF ? -EUCLEAN : 0;
}

static void t_csum_set(struct e4_fs *fs, struct e4_buf *b,
		       const struct e4_owner *owner)
{
	(void)fs;
	csum_sets++;
	e4_put_le32(b->data, b->size, b->size - 4,
		    e4_crc32c(owner->ino, b->data, b->size - 4));
}

static const struct e4_owner owner7 = { .ino = 7 };

static const struct e4_buf_ops test_ops = {
	.name = "test block", .kind = E4_BUF_OTHER,
	.verify_read = t_verify_read, .verify_write = t_verify_write,
	.csum_set = t_csum_set,
};

/* ---- helpers ------------------------------------------------------------- */

struct rig {
	char *img;
	struct e4_fs *fs;
	struct e4_txm *txm;
};

static void rig_open(struct rig *r, const char *name,
		     const struct e4_txm_opts *opts)
{
	struct e4_open_opts o = { .read_only = false };
	struct e4_dev *dev;

	r->img = tu_copy(base, name);
	assert_int_equal(e4_dev_open_file(r->img, 0, 0, true, &dev), 0);
	assert_int_equal(tu_open_dev(dev, &o, &r->fs), 0);
	assert_int_equal(e4_txm_create(r->fs, opts, &r->txm), 0);
}

static void rig_close(struct rig *r)
{
	assert_int_equal(e4_txm_destroy(r->txm), 0);
	tu_close(r->fs);
	free(r->img);
}

static uint8_t disk_byte(const struct rig *r, uint64_t blk, size_t off)
{
	uint8_t v;

	tu_peek(r->img, blk * 4096 + off, &v, 1);
	return v;
}

static uint8_t cached_byte(const struct rig *r, uint64_t blk, size_t off)
{
	struct e4_buf *b;
	uint8_t v;

	assert_int_equal(e4_meta_get(r->fs, blk, &b), 0);
	v = b->data[off];
	e4_meta_put(r->fs, b);
	return v;
}

/* One handle: set byte @off of @blk to @v. */
static int set_byte(struct rig *r, unsigned credits, uint64_t blk, size_t off,
		    uint8_t v)
{
	struct e4_handle h;
	struct e4_buf *copy;
	int err = e4_handle_start(r->txm, credits, &h);

	if (err)
		return err;
	err = e4_handle_get_write_access(&h, blk, &test_ops, &owner7, &copy);
	if (!err) {
		copy->data[off] = v;
		err = e4_handle_dirty(&h, copy);
	}
	int stop = e4_handle_stop(&h);
	return err ? err : stop;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_publish_then_commit(void **state)
{
	struct rig r;
	struct e4_txm_stats st;

	(void)state;
	rig_open(&r, "publish.img", NULL);
	verify_writes = csum_sets = 0;
	assert_int_equal(set_byte(&r, 2, 3000, 10, 0x42), 0);
	/* readers see it at once; the device only after the commit */
	assert_int_equal(cached_byte(&r, 3000, 10), 0x42);
	assert_int_equal(disk_byte(&r, 3000, 10), 0);
	assert_int_equal(verify_writes, 1);
	assert_int_equal(csum_sets, 1);
	e4_txm_get_stats(r.txm, &st);
	assert_int_equal(st.running_blocks, 1);
	assert_int_equal(e4_txm_commit(r.txm), 0);
	assert_int_equal(disk_byte(&r, 3000, 10), 0x42);
	/* the checksum the row set went with it */
	uint8_t blk[4096];
	tu_peek(r.img, 3000ull * 4096, blk, sizeof(blk));
	assert_int_equal(e4_le32(blk, 4096, 4092), e4_crc32c(7, blk, 4092));
	rig_close(&r);
}

/* The writer a commit goes through gets each block once, newest version,
 * in block order. */
struct recorded {
	uint64_t blks[64];
	uint8_t first[64];
	size_t n;
	int fail;
};

static int record_commit(void *ctx, struct e4_buf *const *bufs, size_t n)
{
	struct recorded *rec = ctx;

	for (size_t i = 0; i < n && rec->n < 64; i++) {
		rec->blks[rec->n] = bufs[i]->blk;
		rec->first[rec->n++] = bufs[i]->data[0];
	}
	return rec->fail;
}

static void test_commit_set(void **state)
{
	struct rig r;
	struct recorded rec = { .n = 0 };
	struct e4_tx_writer w = { record_commit, &rec };

	(void)state;
	rig_open(&r, "commitset.img", NULL);
	e4_txm_set_writer(r.txm, &w);
	assert_int_equal(set_byte(&r, 1, 3005, 0, 1), 0);
	assert_int_equal(set_byte(&r, 1, 3001, 0, 2), 0);
	assert_int_equal(set_byte(&r, 1, 3005, 0, 3), 0);	/* again */
	assert_int_equal(set_byte(&r, 1, 3003, 0, 4), 0);
	assert_int_equal(e4_txm_commit(r.txm), 0);
	assert_int_equal(rec.n, 3);
	assert_int_equal(rec.blks[0], 3001);
	assert_int_equal(rec.blks[1], 3003);
	assert_int_equal(rec.blks[2], 3005);
	assert_int_equal(rec.first[2], 3);	/* the newest version */
	/* nothing reached the device: the writer did not write */
	assert_int_equal(disk_byte(&r, 3005, 0), 0);
	rig_close(&r);
}

static void test_verifier_refuses(void **state)
{
	struct rig r;

	(void)state;
	rig_open(&r, "refuse.img", NULL);
	assert_int_equal(set_byte(&r, 1, 3010, 0, 0xFF), -EUCLEAN);
	assert_int_equal(cached_byte(&r, 3010, 0), 0);	/* not published */
	/* a block that fails its read verifier cannot be written either */
	tu_patch_u8(r.img, 3011ull * 4096, 0xFF);
	assert_int_equal(set_byte(&r, 1, 3011, 5, 1), -EUCLEAN);
	rig_close(&r);
}

static void test_credits(void **state)
{
	struct rig r;
	struct e4_txm_opts o = { .max_credits = 8 };
	struct e4_handle h;
	struct e4_buf *copy;
	struct e4_txm_stats st;

	(void)state;
	rig_open(&r, "credits.img", &o);
	/* more than a transaction can hold */
	assert_int_equal(e4_handle_start(r.txm, 9, &h), -ENOSPC);
	/* a handle dirtying more blocks than it reserved */
	assert_int_equal(e4_handle_start(r.txm, 1, &h), 0);
	assert_int_equal(e4_handle_get_write_access(&h, 3020, &test_ops, &owner7, &copy), 0);
	copy->data[0] = 1;
	assert_int_equal(e4_handle_dirty(&h, copy), 0);
	assert_int_equal(e4_handle_get_write_access(&h, 3020, &test_ops, &owner7, &copy), 0);
	copy->data[0] = 2;	/* the same block again: no new credit */
	assert_int_equal(e4_handle_dirty(&h, copy), 0);
	assert_int_equal(e4_handle_get_write_access(&h, 3021, &test_ops, &owner7, &copy), 0);
	copy->data[0] = 3;
	tu_log_clear();
	assert_int_equal(e4_handle_dirty(&h, copy), -EIO);
	tu_assert_log("a handle dirtied more blocks than its 1 credits (block 3021)");
	assert_int_equal(cached_byte(&r, 3021, 0), 0);
	/* one private copy at a time */
	assert_int_equal(e4_handle_get_write_access(&h, 3022, &test_ops, &owner7, &copy), 0);
	struct e4_buf *second;
	assert_int_equal(e4_handle_get_write_access(&h, 3023, &test_ops, &owner7, &second), -EINVAL);
	e4_handle_release(&h, copy);
	assert_int_equal(e4_handle_stop(&h), 0);
	/* transactions fill up: the next handle commits the full one */
	for (uint64_t b = 3030; b < 3050; b++)
		assert_int_equal(set_byte(&r, 4, b, 0, 9), 0);
	e4_txm_get_stats(r.txm, &st);
	assert_true(st.commits >= 4);
	assert_int_equal(disk_byte(&r, 3030, 0), 9);
	rig_close(&r);
}

struct counter_job {
	struct rig *r;
	int errors;
};

/* Each pass reads the counter in block 3060 and writes it + 1. */
static void *count_up(void *arg)
{
	struct counter_job *j = arg;

	for (int i = 0; i < 500; i++) {
		struct e4_handle h;
		struct e4_buf *copy;

		if (e4_handle_start(j->r->txm, 1, &h)) {
			j->errors++;
			continue;
		}
		if (e4_handle_get_write_access(&h, 3060, &test_ops, &owner7, &copy) == 0) {
			uint32_t v = e4_le32(copy->data, copy->size, 8);
			e4_put_le32(copy->data, copy->size, 8, v + 1);
			if (e4_handle_dirty(&h, copy))
				j->errors++;
		} else {
			j->errors++;
		}
		if (e4_handle_stop(&h))
			j->errors++;
	}
	return NULL;
}

static void test_concurrent_handles(void **state)
{
	struct rig r;
	struct e4_txm_opts o = { .max_credits = 16 };
	struct counter_job jobs[4];
	pthread_t t[4];
	struct e4_buf *b;

	(void)state;
	rig_open(&r, "concurrent.img", &o);
	for (int i = 0; i < 4; i++) {
		jobs[i] = (struct counter_job){ .r = &r };
		pthread_create(&t[i], NULL, count_up, &jobs[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(jobs[i].errors, 0);
	}
	assert_int_equal(e4_meta_get(r.fs, 3060, &b), 0);
	assert_int_equal(e4_le32(b->data, b->size, 8), 2000);
	e4_meta_put(r.fs, b);
	assert_int_equal(e4_txm_commit(r.txm), 0);
	uint8_t le[4];
	tu_peek(r.img, 3060ull * 4096 + 8, le, 4);
	assert_int_equal(e4_le32(le, 4, 0), 2000);
	rig_close(&r);
}

static void test_dirty_limit(void **state)
{
	struct rig r;
	struct e4_txm_opts o = { .dirty_limit = 8 * 4096 };
	struct e4_txm_stats st;

	(void)state;
	rig_open(&r, "limit.img", &o);
	for (uint64_t b = 3100; b < 3120; b++)
		assert_int_equal(set_byte(&r, 1, b, 1, 5), 0);
	e4_txm_get_stats(r.txm, &st);
	assert_true(st.commits >= 2);
	assert_int_equal(disk_byte(&r, 3100, 1), 5);
	rig_close(&r);
}

static void test_failed_commit(void **state)
{
	struct rig r;
	struct recorded rec = { .fail = -EIO };
	struct e4_tx_writer w = { record_commit, &rec };
	struct e4_handle h;

	(void)state;
	rig_open(&r, "failed.img", NULL);
	e4_txm_set_writer(r.txm, &w);
	assert_int_equal(set_byte(&r, 1, 3200, 0, 1), 0);
	tu_log_clear();
	assert_int_equal(e4_txm_commit(r.txm), -EIO);
	tu_assert_log("transaction commit failed");
	assert_int_equal(e4_handle_start(r.txm, 1, &h), -EROFS);
	assert_int_equal(e4_txm_destroy(r.txm), 0);	/* nothing left */
	tu_close(r.fs);
	free(r.img);
}

static void test_read_only_device(void **state)
{
	struct e4_fs *fs;
	struct e4_txm *txm;

	(void)state;
	assert_int_equal(tu_open(base, &fs), 0);
	assert_int_equal(e4_txm_create(fs, NULL, &txm), -EROFS);
	tu_close(fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish_then_commit),
		cmocka_unit_test(test_commit_set),
		cmocka_unit_test(test_verifier_refuses),
		cmocka_unit_test(test_credits),
		cmocka_unit_test(test_concurrent_handles),
		cmocka_unit_test(test_dirty_limit),
		cmocka_unit_test(test_failed_commit),
		cmocka_unit_test(test_read_only_device),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
