/* SPDX-License-Identifier: MIT */
/*
 * A change that must grow metadata on a full disk grows it whole or not
 * at all: ENOSPC, everything as it was, the session still writing.
 *
 * A full one-block directory becomes indexed when it takes one more name:
 * a block for its names and, when the new name does not fit beside them,
 * one for the split of that leaf.  With one block left, the old order of
 * things took the first, failed on the second and handed back ENOSPC
 * with the directory half converted (its first block rewritten as an
 * index root, its inode not).  Both blocks are promised first now
 * (e4_map_reserve_blocks): ENOSPC, and the directory as it was.
 *
 * An indexed directory whose root is full grows a level to take a name
 * whose leaf is full: an index block and a leaf, both promised before
 * the root changes (e4_htree_add's rounds).
 *
 * A write into the middle of an unwritten run in a full extent leaf cuts
 * it in three: the leaf splits and a full root grows a level.  The tree
 * blocks are promised before the data goes down (write_unmapped); else
 * the data was written, the conversion found no block and the
 * transaction aborted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/writer.h"
#include "testutil.h"

static const struct e4_cred root_cred = { 0, 0, 0 };

/* Promise all but @left blocks of what data (or, @tree, what extent and
 * index blocks: the metadata reserve too) may still take to "another
 * change": what that leaves is what the next change may have. */
static uint64_t hold_all_but(struct e4_fs *fs, uint64_t left, bool tree)
{
	struct e4_writer *w = e4_writer_get(fs);
	uint64_t free_blocks, hold;
	uint32_t free_inodes;

	/* frees of this session committed: all that is free is free */
	assert_int_equal(e4_fs_sync(fs), 0);
	assert_int_equal(e4_alloc_counts(w->alloc, &free_blocks, &free_inodes),
			 0);
	hold = free_blocks - fs->r_blocks_count - left -
	       (tree ? 0 : e4_alloc_meta_reserve(w->alloc));
	assert_int_equal(e4_alloc_reserve(w->alloc, hold, false, tree), 0);
	return hold;
}

static void unhold(struct e4_fs *fs, uint64_t hold, bool tree)
{
	struct e4_writer *w = e4_writer_get(fs);

	if (w)	/* (gone when the session stopped writing: a failure) */
		e4_alloc_unreserve(w->alloc, hold, tree);
}

static uint64_t dir_size(struct e4_ino *dir)
{
	struct e4_inode in;

	e4_ino_snapshot(dir, &in);
	return in.size;
}

static void test_one_block_dir_on_full_disk(void **state)
{
	char *img = tu_mkfs("dirfull.img", "-b 1024 -m 0", NULL, "8M");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *root, *dir, *ip;
	struct e4_inode din;
	char checks[160];
	char name[32];
	unsigned n = 0;
	uint64_t hold;

	(void)state;
	assert_int_equal(e4_iget(fs, E4_ROOT_INO, &root), 0);
	assert_int_equal(e4_mkdir(fs, root, "d", 1, 0755, &root_cred, &dir), 0);
	/* the one block full: ".", ".." and the checksum tail take 36
	 * bytes, each name 20 */
	for (n = 0; n < (1024 - 36) / 20; n++) {
		snprintf(name, sizeof(name), "entry-%04u", n);
		assert_int_equal(e4_mknod(fs, dir, name, strlen(name), 0100644,
					  0, 0, &root_cred, NULL), 0);
	}
	assert_int_equal(dir_size(dir), 1024);
	/* a long name: moved to a block of their own the names leave it
	 * 24 bytes, too few: that block is split too */
	memset(name, 'L', 30);
	name[30] = 0;
	hold = hold_all_but(fs, 1, false);
	assert_int_equal(e4_mknod(fs, dir, name, strlen(name), 0100644, 0, 0,
				  &root_cred, NULL), -ENOSPC);
	unhold(fs, hold, false);
	assert_true(e4_fs_writable(fs));
	assert_int_equal(dir_size(dir), 1024);
	/* every name still there, the long one not */
	e4_ino_snapshot(dir, &din);
	assert_false(din.flags & E4_INDEX_FL);
	assert_int_equal(e4_lookup(fs, &din, name, strlen(name), &ip), -ENOENT);
	for (unsigned i = 0; i < n; i++) {
		char old[32];

		snprintf(old, sizeof(old), "entry-%04u", i);
		assert_int_equal(e4_lookup(fs, &din, old, strlen(old), &ip), 0);
		e4_iput(fs, ip);
	}
	/* with two blocks it goes through: the directory indexed */
	hold = hold_all_but(fs, 2, false);
	assert_int_equal(e4_mknod(fs, dir, name, strlen(name), 0100644, 0, 0,
				  &root_cred, NULL), 0);
	unhold(fs, hold, false);
	e4_ino_snapshot(dir, &din);
	assert_true(din.flags & E4_INDEX_FL);
	assert_int_equal(din.size, 3072);
	e4_iput(fs, dir);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	/* the kernel lists them all, the last one too */
	snprintf(checks, sizeof(checks),
		 "test \"$(ls \"$m/d\" | wc -l)\" = %u; test -f \"$m/d/%s\"",
		 n + 1, name);
	tu_kernel_expect(img, checks);
	free(img);
}

/* a long name (4 to a 1 KiB leaf): few names fill many leaves */
static void long_name(char *buf, size_t cap, unsigned n)
{
	int len = snprintf(buf, cap, "%08u-", n);

	memset(buf + len, 'n', cap - 1 - (size_t)len);
	buf[cap - 1] = 0;
}

#define LONG_NAME 201

static void dx_path_of(struct e4_fs *fs, struct e4_ino *dir, const char *name,
		       struct e4_dx_path *p)
{
	struct e4_inode din;

	e4_ino_snapshot(dir, &din);
	assert_true(din.flags & E4_INDEX_FL);
	assert_int_equal(e4_htree_find_path(fs, &din, name, strlen(name), p),
			 0);
}

static void test_htree_level_on_full_disk(void **state)
{
	char *img = tu_mkfs("dirgrow.img", "-b 1024 -m 0 -O large_dir", NULL,
			    "16M");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *root, *dir, *ip;
	struct e4_inode din;
	struct e4_dx_path p;
	char checks[160];
	char name[LONG_NAME];
	unsigned n, added, failed = 0;
	uint64_t hold;
	int err = 0;

	(void)state;
	assert_int_equal(e4_iget(fs, E4_ROOT_INO, &root), 0);
	assert_int_equal(e4_mkdir(fs, root, "d", 1, 0755, &root_cred, &dir), 0);
	/* names until the index root is full (one level, every slot used) */
	for (n = 0;; n++) {
		long_name(name, sizeof(name), n);
		assert_int_equal(e4_mknod(fs, dir, name, strlen(name), 0100644,
					  0, 0, &root_cred, NULL), 0);
		if (n < 8)
			continue;
		dx_path_of(fs, dir, name, &p);
		assert_int_equal(p.levels, 0);
		if (p.count[0] == p.limit[0])
			break;
		assert_true(n < 2000);
	}
	added = n + 1;
	/* one block left: names go in while their leaf has room; the first
	 * whose leaf is full needs two (a level, then the split) */
	hold = hold_all_but(fs, 1, false);
	for (n = added; n < added + 1000; n++) {
		long_name(name, sizeof(name), n);
		err = e4_mknod(fs, dir, name, strlen(name), 0100644, 0, 0,
			       &root_cred, NULL);
		if (err)
			break;
	}
	assert_int_equal(err, -ENOSPC);
	failed = n;
	added = n;
	unhold(fs, hold, false);
	assert_true(e4_fs_writable(fs));
	/* the index as it was: one level, every name there, not the last */
	dx_path_of(fs, dir, name, &p);
	assert_int_equal(p.levels, 0);
	e4_ino_snapshot(dir, &din);
	assert_int_equal(e4_lookup(fs, &din, name, strlen(name), &ip), -ENOENT);
	for (n = 0; n < added; n++) {
		long_name(name, sizeof(name), n);
		assert_int_equal(e4_lookup(fs, &din, name, strlen(name), &ip),
				 0);
		e4_iput(fs, ip);
	}
	/* with room it goes in: a second level */
	long_name(name, sizeof(name), failed);
	assert_int_equal(e4_mknod(fs, dir, name, strlen(name), 0100644, 0, 0,
				  &root_cred, NULL), 0);
	dx_path_of(fs, dir, name, &p);
	assert_int_equal(p.levels, 1);
	e4_iput(fs, dir);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	snprintf(checks, sizeof(checks),
		 "test \"$(ls \"$m/d\" | wc -l)\" = %u", added + 1);
	tu_kernel_expect(img, checks);
	free(img);
}

static void test_unwritten_write_on_full_disk(void **state)
{
	char *img = tu_mkfs("unwritten.img", "-b 1024 -m 0", NULL, "32M");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *root, *ip;
	struct e4_inode in;
	uint8_t data[1024], back[1024];
	const uint64_t runs = 4 * 84, bs = 1024;	/* a full leaf each */
	const uint64_t target = (4 * 100 + 1) * bs;	/* a run's middle */
	char checks[200];
	uint64_t hold;

	(void)state;
	memset(data, 0x5a, sizeof(data));
	assert_int_equal(e4_iget(fs, E4_ROOT_INO, &root), 0);
	assert_int_equal(e4_mknod(fs, root, "f", 1, 0100644, 0, 0, &root_cred,
				  &ip), 0);
	/* runs of 3 unwritten blocks, a hole after each: a full root of
	 * full leaves */
	for (uint64_t i = 0; i < runs; i++)
		assert_int_equal(e4_fallocate(fs, ip, 0, 4 * i * bs, 3 * bs),
				 0);
	hold = hold_all_but(fs, 1, true);
	assert_int_equal(e4_write(fs, ip, target, data, sizeof(data)),
			 -ENOSPC);
	unhold(fs, hold, true);
	assert_true(e4_fs_writable(fs));
	e4_ino_snapshot(ip, &in);
	assert_int_equal(e4_file_read(fs, &in, target, back, sizeof(back)),
			 (ssize_t)sizeof(back));
	for (size_t i = 0; i < sizeof(back); i++)
		assert_int_equal(back[i], 0);
	/* with room it goes through */
	assert_int_equal(e4_write(fs, ip, target, data, sizeof(data)),
			 (ssize_t)sizeof(data));
	e4_iput(fs, ip);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	snprintf(checks, sizeof(checks),
		 "test \"$(dd if=\"$m/f\" bs=1024 skip=%llu count=1 "
		 "status=none | tr -d Z | wc -c)\" = 0",
		 (unsigned long long)(target / bs));
	tu_kernel_expect(img, checks);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_block_dir_on_full_disk),
		cmocka_unit_test(test_htree_level_on_full_disk),
		cmocka_unit_test(test_unwritten_write_on_full_disk),
	};

	return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}
