/* SPDX-License-Identifier: MIT */
/*
 * fsync and fdatasync (e4_fs_fsync) on the write-logging memory device: each
 * returns only when what it promises is on the device (a power cut right
 * after it, with everything unflushed lost, keeps it), and commits only as
 * far as it needs: an overwrite in place costs fdatasync one flush, not a
 * journal commit (three).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e4/memdev.h"
#include "e4/write.h"
#include "testutil.h"

static const struct e4_cred root_cred = { 0, 0, 0 };

struct rig {
	struct e4_memdev *md;
	struct e4_fs *fs;
	struct e4_ino *file;
	size_t size;
	uint8_t *image;
};

static void rig_open(struct rig *r, const char *mkfs_args)
{
	char *img = tu_mkfs("fsync.img", mkfs_args, NULL, "16M");
	struct e4_open_opts o = { .read_only = false };
	struct e4_memdev_opts mo = { .log_max = (size_t)64 << 20 };
	struct e4_ino *root;
	struct e4_dev *dev;
	uint8_t *initial = (uint8_t *)tu_slurp(img, &r->size);

	assert_int_equal(e4_memdev_create(initial, r->size, &mo, &r->md, &dev),
			 0);
	free(initial);
	free(img);
	r->image = malloc(r->size);
	assert_int_equal(tu_open_dev(dev, &o, &r->fs), 0);
	assert_int_equal(e4_fs_begin_write(r->fs, NULL), 0);
	assert_int_equal(e4_iget(r->fs, E4_ROOT_INO, &root), 0);
	assert_int_equal(e4_mknod(r->fs, root, "f", 1, 0100644, 0, 0,
				  &root_cred, &r->file), 0);
	e4_iput(r->fs, root);
}

static void rig_close(struct rig *r)
{
	e4_iput(r->fs, r->file);
	assert_int_equal(e4_fs_end_write(r->fs), 0);
	tu_close(r->fs);
	e4_memdev_free(r->md);
	free(r->image);
}

/* Write @len bytes of @c at @off. */
static void put(struct rig *r, uint64_t off, size_t len, int c)
{
	uint8_t *b = malloc(len);

	memset(b, c, len);
	assert_int_equal(e4_write(r->fs, r->file, off, b, len), (ssize_t)len);
	free(b);
}

/* fsync (@datasync: fdatasync); the flushes it took. */
static uint32_t sync_file(struct rig *r, bool datasync)
{
	uint32_t before = e4_memdev_flushes(r->md);
	struct e4_inode in;

	e4_ino_snapshot(r->file, &in);
	assert_int_equal(e4_fs_fsync(r->fs, in.ino, datasync), 0);
	return e4_memdev_flushes(r->md) - before;
}

/* The power cut now, everything after the last flush lost: /f as e4fuse
 * then reads it (its journal replayed) has @size bytes, @c at @off for
 * @len, and (@mtime_sec not 0) that mtime. */
static void expect_after_cut(struct rig *r, uint64_t size, uint64_t off,
			     size_t len, int c, int64_t mtime_sec)
{
	const char *path = tu_msg("%s/cut.img", tu_tmpdir());
	struct e4_fs *fs;
	struct e4_inode in;
	uint32_t ino;
	uint8_t *got = malloc(len);
	FILE *f;

	assert_int_equal(e4_memdev_image_at_flush(r->md,
						  e4_memdev_flushes(r->md),
						  r->image, r->size), 0);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(r->image, 1, r->size, f), r->size);
	fclose(f);
	assert_int_equal(tu_open(path, &fs), 0);
	assert_int_equal(e4_path_lookup(fs, "/f", &ino), 0);
	assert_int_equal(e4_inode_read(fs, ino, &in), 0);
	assert_int_equal(in.size, size);
	if (mtime_sec)
		assert_int_equal(in.mtime.sec, mtime_sec);
	assert_int_equal(e4_file_read(fs, &in, off, got, len), (ssize_t)len);
	for (size_t i = 0; i < len; i++)
		if (got[i] != c)
			fail_msg("byte %zu after the cut: %#x, not %#x", i,
				 got[i], c);
	tu_close(fs);
	free(got);
}

static void fsync_semantics(const char *mkfs_args)
{
	struct rig r;

	rig_open(&r, mkfs_args);
	put(&r, 0, 65536, 'a');
	/* new blocks and a new size: fdatasync commits them */
	assert_true(sync_file(&r, true) >= 2);
	expect_after_cut(&r, 65536, 0, 65536, 'a', 0);

	/* an overwrite in place: fdatasync flushes the data, no commit */
	put(&r, 4096, 4096, 'b');
	assert_int_equal(sync_file(&r, true), 1);
	expect_after_cut(&r, 65536, 4096, 4096, 'b', 0);
	/* nothing changed since: one flush still (data written without
	 * the library knowing, e.g. through a mapping, must not be lost) */
	assert_int_equal(sync_file(&r, true), 1);

	/* fsync makes the new mtime durable too: a commit */
	{
		struct e4_inode now;

		e4_ino_snapshot(r.file, &now);
		assert_true(sync_file(&r, false) >= 2);
		expect_after_cut(&r, 65536, 4096, 4096, 'b', now.mtime.sec);
	}
	/* and, with nothing left to commit, a flush */
	assert_int_equal(sync_file(&r, false), 1);

	/* an append: the size, so a commit */
	put(&r, 65536, 100, 'c');
	assert_true(sync_file(&r, true) >= 2);
	expect_after_cut(&r, 65636, 65536, 100, 'c', 0);

	/* a zeroed range (its blocks made unwritten in the extent tree, the
	 * inode's fields fdatasync looks at unchanged): a commit */
	assert_int_equal(e4_fallocate(r.fs, r.file,
				      E4_FALLOC_ZERO_RANGE | E4_FALLOC_KEEP_SIZE,
				      8192, 16384), 0);
	assert_true(sync_file(&r, true) >= 2);
	expect_after_cut(&r, 65636, 8192, 16384, 0, 0);
	rig_close(&r);
}

/* A write into preallocated blocks of a file whose extents fill a leaf
 * block: the conversion changes the leaf alone, none of the inode's
 * fields; fdatasync must still commit it (else the cut reads zeros). */
static void test_fdatasync_converts_in_leaf(void **state)
{
	struct rig r;
	uint64_t bs = 4096;

	(void)state;
	rig_open(&r, "-b 4096");
	for (uint64_t b = 0; b < 24; b += 2)	/* 12 extents: a leaf */
		put(&r, b * bs, bs, 'x');
	assert_int_equal(e4_fallocate(r.fs, r.file, E4_FALLOC_KEEP_SIZE,
				      5 * bs, bs), 0);
	assert_true(sync_file(&r, false) >= 2);
	put(&r, 5 * bs, bs, 'y');
	assert_true(sync_file(&r, true) >= 2);
	expect_after_cut(&r, 23 * bs, 5 * bs, bs, 'y', 0);
	rig_close(&r);
}

static void test_fsync_journaled(void **state)
{
	(void)state;
	fsync_semantics("-b 4096");
}

static void test_fsync_no_journal(void **state)
{
	(void)state;
	fsync_semantics("-b 1024 -O ^has_journal");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fsync_journaled),
		cmocka_unit_test(test_fsync_no_journal),
		cmocka_unit_test(test_fdatasync_converts_in_leaf),
	};

	return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}
