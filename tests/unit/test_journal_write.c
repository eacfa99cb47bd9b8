/* SPDX-License-Identifier: MIT */
/*
 * Journaled writes (§13) cut by power failures: a workload runs through
 * the library on the write-logging memory device, syncing after each
 * round; then, for every flush the device saw, and for random subsets of
 * the writes in flight after it, the image a power cut would leave is
 * checked against a model of what the syncs before the cut made durable
 * (crashlib.h: e4fuse's in-memory replay, e2fsck's replay and -fn, the
 * kernel at the sync points).  Each round only adds files (in a
 * directory of its own) and changes what it added before its sync.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crashlib.h"
#include "e4/memdev.h"
#include "e4/write.h"
#include "ondisk/ondisk.h"
#include "testutil.h"

#define FILES 12

static const struct e4_cred root_cred = { 0, 0, 0 };

static struct e4_ino *child(struct e4_fs *fs, struct e4_ino *dir,
			    const char *name)
{
	struct e4_inode d;
	struct e4_ino *ip;

	e4_ino_snapshot(dir, &d);
	assert_int_equal(e4_lookup(fs, &d, name, strlen(name), &ip), 0);
	return ip;
}

/* Round @r: directory rR with FILES files of varied sizes, one rewritten
 * in the middle, one truncated, one renamed, one unlinked; synced.  Each
 * change mirrored in @m. */
static void run_round(struct e4_fs *fs, struct e4_memdev *md, int r,
		      int extra, struct cl_model *m)
{
	struct e4_ino *root, *dir, *f;
	char dname[16];
	size_t id[FILES];
	uint8_t *buf = malloc(70000);

	assert_int_equal(e4_iget(fs, E4_ROOT_INO, &root), 0);
	snprintf(dname, sizeof(dname), "r%d", r);
	assert_int_equal(e4_mkdir(fs, root, dname, strlen(dname), 0755,
				  &root_cred, &dir), 0);
	cl_add(m, e4_ino_number(dir), true, tu_msg("/%s", dname));
	for (int i = 0; i < FILES; i++) {
		char name[16];
		size_t size = (size_t)((r * 7919 + i * 4111) % 66000);
		unsigned seed = (unsigned)(r * 100 + i);

		snprintf(name, sizeof(name), "f%d", i);
		assert_int_equal(e4_mknod(fs, dir, name, strlen(name), 0100644,
					  0, 0, &root_cred, &f), 0);
		id[i] = cl_add(m, e4_ino_number(f), false,
			       tu_msg("/%s/%s", dname, name));
		cl_pattern(buf, 0, size, seed);
		assert_int_equal(e4_write(fs, f, 0, buf, size), (ssize_t)size);
		cl_write(m, id[i], 0, size, seed);
		if (i == 3 && size > 100) {	/* rewritten in the middle */
			cl_pattern(buf, 0, size, seed + 1000);
			assert_int_equal(e4_write(fs, f, 0, buf, size),
					 (ssize_t)size);
			cl_write(m, id[i], 0, size, seed + 1000);
		}
		if (i == 4) {			/* cut short */
			assert_int_equal(e4_truncate(fs, f, size / 3), 0);
			cl_truncate(m, id[i], size / 3);
		}
		e4_iput(fs, f);
	}
	/* bulk: empty files, so transactions are large enough to make the
	 * log wrap */
	for (int i = 0; i < extra; i++) {
		char name[64];

		snprintf(name, sizeof(name), "empty-file-with-a-long-name-%d", i);
		assert_int_equal(e4_mknod(fs, dir, name, strlen(name), 0100644,
					  0, 0, &root_cred, &f), 0);
		cl_add(m, e4_ino_number(f), false,
		       tu_msg("/%s/%s", dname, name));
		e4_iput(fs, f);
	}
	assert_int_equal(e4_rename(fs, dir, "f5", 2, dir, "moved", 5, 0), 0);
	cl_path(m, id[5], tu_msg("/%s/moved", dname));
	assert_int_equal(e4_unlink(fs, dir, "f6", 2), 0);
	cl_path(m, id[6], NULL);
	f = child(fs, dir, "f7");	/* a hard link elsewhere */
	assert_int_equal(e4_link(fs, f, root, tu_msg("link%d", r),
				 strlen(tu_msg("link%d", r))), 0);
	{	/* the model's second name: an object of the same inode */
		size_t l = cl_add(m, e4_ino_number(f), false,
				  tu_msg("/link%d", r));
		size_t size = (size_t)((r * 7919 + 7 * 4111) % 66000);

		cl_write(m, l, 0, size, (unsigned)(r * 100 + 7));
	}
	e4_iput(fs, f);
	e4_iput(fs, dir);
	e4_iput(fs, root);
	assert_int_equal(e4_fs_sync(fs), 0);
	cl_synced(m, e4_memdev_flushes(md));
	free(buf);
}

static void crash_layout(const char *name, const char *mkfs_args, int rounds,
			 int extra)
{
	char *img = tu_mkfs(name, mkfs_args, NULL, "24M");
	struct e4_open_opts o = { .read_only = false };
	struct e4_memdev_opts mo = { .log_max = (size_t)256 << 20 };
	struct cl_plan plan = { .randoms = 2 };
	struct cl_model *m = cl_model_new();
	struct e4_memdev *md;
	struct e4_dev *dev;
	struct e4_fs *fs;
	size_t size;
	uint8_t *initial = (uint8_t *)tu_slurp(img, &size);

	assert_int_equal(e4_memdev_create(initial, size, &mo, &md, &dev), 0);
	assert_int_equal(tu_open_dev(dev, &o, &fs), 0);
	assert_int_equal(e4_fs_begin_write(fs, NULL), 0);
	for (int r = 0; r < rounds; r++)
		run_round(fs, md, r, extra, m);
	assert_int_equal(e4_fs_end_write(fs), 0);
	tu_close(fs);
	if (getenv("E4_JW_DUMP"))
		for (size_t i = 0, fl = 0; i < e4_memdev_log_length(md); i++) {
			struct e4_memdev_entry e;

			e4_memdev_log_entry(md, i, &e);
			if (e.op == E4_MEMDEV_FLUSH)
				print_message("-- flush %zu\n", ++fl);
			else
				print_message("   write blk %llu len %zu\n",
					      (unsigned long long)(e.off / 4096), e.len);
		}
	cl_cut_all(md, m, name, &plan);
	cl_model_free(m);
	e4_memdev_free(md);
	free(initial);
	free(img);
}

static void test_crash_csum_v3(void **state)
{
	(void)state;
	crash_layout("j1.img", "-b 4096", 5, 0);
}

static void test_crash_1k_32bit_nocsum(void **state)
{
	(void)state;
	crash_layout("j2.img", "-b 1024 -O ^metadata_csum,^64bit", 5, 0);
}

static void test_crash_64bit_nocsum(void **state)
{
	(void)state;
	crash_layout("j3.img", "-b 4096 -O ^metadata_csum", 5, 0);
}

/* A log of 1024 blocks, transactions of a few hundred: the log wraps,
 * and a transaction never lands on the one a replay would still apply. */
static void test_crash_log_wraps(void **state)
{
	(void)state;
	crash_layout("j4.img", "-b 1024 -J size=1 -N 4096", 12, 250);
}

/* A hostile journal inode mapping its log over the inode table: read-only
 * opens go on, writing is refused before anything is written. */
static void test_journal_over_metadata(void **state)
{
	char *img = tu_mkfs("j5.img", "-b 1024 -O ^metadata_csum", NULL, "16M");
	char *out = tu_sh_out("dumpe2fs '%s' 2>/dev/null | "
			      "sed -n 's/^ *Inode table at \\([0-9]*\\)-.*/\\1/p' | head -n 1",
			      img);
	uint32_t itable = (uint32_t)strtoul(out, NULL, 10);
	uint64_t ioff = tu_inode_offset(img, 8);
	struct e4_open_opts o = { .read_only = false };
	struct e4_dev *dev;
	struct e4_fs *fs;
	char *before;

	(void)state;
	assert_true(itable > 0);
	/* the first extent of the journal (i_block: header, then extents)
	 * moved so its log (from journal block 1) lies on the inode table,
	 * its superblock copied to where journal block 0 now is */
	{
		uint32_t jstart = tu_peek_le32(img, ioff + 0x28 + 12 + 8);
		uint8_t jsb[1024];

		tu_peek(img, (uint64_t)jstart * 1024, jsb, sizeof(jsb));
		tu_patch(img, (uint64_t)(itable - 1) * 1024, jsb, sizeof(jsb));
		tu_patch_le32(img, ioff + 0x28 + 12 + 8, itable - 1);
	}
	before = tu_sh_out("md5sum < '%s'", img);
	assert_int_equal(e4_dev_open_file(img, 0, 0, true, &dev), 0);
	assert_int_equal(tu_open_dev(dev, &o, &fs), 0);
	tu_log_clear();
	assert_int_equal(e4_fs_begin_write(fs, NULL), -EROFS);
	tu_assert_log("also the file system's metadata");
	tu_close(fs);
	{
		char *after = tu_sh_out("md5sum < '%s'", img);

		assert_string_equal(before, after);
		free(after);
	}
	free(before);
	free(out);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crash_csum_v3),
		cmocka_unit_test(test_crash_1k_32bit_nocsum),
		cmocka_unit_test(test_crash_64bit_nocsum),
		cmocka_unit_test(test_crash_log_wraps),
		cmocka_unit_test(test_journal_over_metadata),
	};

	return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}
