/* SPDX-License-Identifier: MIT */
/*
 * Journaled writes (§13) cut by power failures: a workload runs through
 * the library on the write-logging memory device, syncing after each
 * round; then, for every flush the device saw, and for random subsets of
 * the writes in flight after it, the image a power cut would leave is
 * checked:
 *  - e2fsck replays its journal (-E journal_only, which repairs nothing
 *    else), then e2fsck -fn finds it clean but for the superblock's free
 *    counts, which lag while mounted (as the kernel's);
 *  - e4fuse's read-only open (its in-memory replay) reads every file of
 *    every round synced before the cut with its exact content;
 *  - at the sync points, the kernel reads the replayed copy as e4fuse
 *    does.
 * Each round only adds files (in a directory of its own) and changes
 * what it added before its sync, so a synced file's content is final.
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

#include "e4/memdev.h"
#include "e4/write.h"
#include "ondisk/ondisk.h"
#include "testutil.h"

#define ROUNDS_MAX 14
#define FILES 12

static const struct e4_cred root_cred = { 0, 0, 0 };

struct round {
	uint32_t flush;		/* durable from this flush on */
	char name[FILES][32];	/* path of each file kept, "" if gone */
	size_t size[FILES];
	unsigned seed[FILES];
};

static void pattern(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((i * 2654435761u + seed) >> 13);
}

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
 * in the middle, one truncated, one renamed, one unlinked; synced. */
static void run_round(struct e4_fs *fs, struct e4_memdev *md, int r,
		      int extra, struct round *out)
{
	struct e4_ino *root, *dir, *f;
	char dname[16];
	uint8_t *buf = malloc(70000);

	assert_int_equal(e4_iget(fs, E4_ROOT_INO, &root), 0);
	snprintf(dname, sizeof(dname), "r%d", r);
	assert_int_equal(e4_mkdir(fs, root, dname, strlen(dname), 0755,
				  &root_cred, &dir), 0);
	for (int i = 0; i < FILES; i++) {
		char name[16];
		size_t size = (size_t)((r * 7919 + i * 4111) % 66000);

		snprintf(name, sizeof(name), "f%d", i);
		assert_int_equal(e4_mknod(fs, dir, name, strlen(name), 0100644,
					  0, 0, &root_cred, &f), 0);
		out->seed[i] = (unsigned)(r * 100 + i);
		pattern(buf, size, out->seed[i]);
		assert_int_equal(e4_write(fs, f, 0, buf, size), (ssize_t)size);
		if (i == 3 && size > 100) {	/* rewritten in the middle */
			out->seed[i] += 1000;
			pattern(buf, size, out->seed[i]);
			assert_int_equal(e4_write(fs, f, 0, buf, size),
					 (ssize_t)size);
		}
		if (i == 4) {			/* cut short */
			size /= 3;
			assert_int_equal(e4_truncate(fs, f, size), 0);
		}
		e4_iput(fs, f);
		out->size[i] = size;
		snprintf(out->name[i], sizeof(out->name[i]), "/%s/%s", dname,
			 name);
	}
	/* bulk: empty files, so transactions are large enough to make the
	 * log wrap */
	for (int i = 0; i < extra; i++) {
		const char *name = tu_msg("empty-file-with-a-long-name-%d", i);

		assert_int_equal(e4_mknod(fs, dir, name, strlen(name), 0100644,
					  0, 0, &root_cred, NULL), 0);
	}
	assert_int_equal(e4_rename(fs, dir, "f5", 2, dir, "moved", 5, 0), 0);
	snprintf(out->name[5], sizeof(out->name[5]), "/%s/moved", dname);
	assert_int_equal(e4_unlink(fs, dir, "f6", 2), 0);
	out->name[6][0] = '\0';
	f = child(fs, dir, "f7");	/* a hard link elsewhere */
	assert_int_equal(e4_link(fs, f, root, tu_msg("link%d", r),
				 strlen(tu_msg("link%d", r))), 0);
	e4_iput(fs, f);
	e4_iput(fs, dir);
	e4_iput(fs, root);
	assert_int_equal(e4_fs_sync(fs), 0);
	out->flush = e4_memdev_flushes(md);
	free(buf);
}

/* Every file of rounds synced before @flush reads back exactly. */
static int nrounds;

static void expect_synced(struct e4_fs *fs, const struct round *rounds,
			  uint32_t flush)
{
	uint8_t *want = malloc(70000), *got = malloc(70000);

	for (int r = 0; r < nrounds && rounds[r].flush <= flush; r++)
		for (int i = 0; i < FILES; i++) {
			const struct round *o = &rounds[r];
			struct e4_inode in;
			uint32_t ino;

			if (!o->name[i][0])
				continue;
			if (e4_path_lookup(fs, o->name[i], &ino) != 0 &&
			    (tu_sh("cp '%s/crash.img' '%s/crash.img.failed'",
				   tu_tmpdir(), tu_tmpdir()), 1))
				fail_msg("crash after flush %u: %s missing",
					 flush, o->name[i]);
			assert_int_equal(e4_inode_read(fs, ino, &in), 0);
			assert_int_equal(in.size, o->size[i]);
			pattern(want, o->size[i], o->seed[i]);
			assert_int_equal(e4_file_read(fs, &in, 0, got, 70000),
					 (ssize_t)o->size[i]);
			if (memcmp(want, got, o->size[i]))
				fail_msg("crash after flush %u: %s differs",
					 flush, o->name[i]);
		}
	free(want);
	free(got);
}

/* The kernel reads every file of the rounds synced before @flush as
 * expect_synced does. */
static void kernel_expect_synced(const char *img, const struct round *rounds,
				 uint32_t flush)
{
	size_t cap = 1 << 16, len = 0;
	char *checks = calloc(1, cap);
	uint8_t *want = malloc(70000);

	for (int r = 0; r < nrounds && rounds[r].flush <= flush; r++)
		for (int i = 0; i < FILES; i++) {
			const struct round *o = &rounds[r];
			const char *exp;
			FILE *f;

			if (!o->name[i][0])
				continue;
			exp = tu_msg("%s/exp-%d-%d", tu_tmpdir(), r, i);
			f = fopen(exp, "wb");
			assert_non_null(f);
			pattern(want, o->size[i], o->seed[i]);
			assert_int_equal(fwrite(want, 1, o->size[i], f), o->size[i]);
			fclose(f);
			len += (size_t)snprintf(checks + len, cap - len,
						"cmp \"$m%s\" '%s'; ", o->name[i],
						exp);
			assert_true(len < cap);
		}
	len += (size_t)snprintf(checks + len, cap - len, "true");
	tu_kernel_expect(img, checks);
	free(checks);
	free(want);
}

/* The checks of one crash image (@size bytes at @image). */
static void check_crash(const char *path, const uint8_t *image, size_t size,
			const struct round *rounds, uint32_t flush,
			bool kernel)
{
	FILE *f = fopen(path, "wb");
	struct e4_fs *fs;
	char *copy;

	assert_non_null(f);
	assert_int_equal(fwrite(image, 1, size, f), size);
	fclose(f);
	/* e4fuse's view: the journal replayed in memory */
	if (tu_open(path, &fs) != 0 && (tu_sh("cp '%s' '%s.failed'", path, path), 1))
		fail_msg("crash after flush %u%s: the image does not open:\n%s",
			 flush, kernel ? "" : " (or later)", tu_log());
	expect_synced(fs, rounds, flush);
	tu_close(fs);
	/* e2fsck's: its own replay, then a full check that repairs nothing */
	copy = tu_copy(path, "replayed.img");
	tu_sh("e2fsck -y -E journal_only '%s' >/dev/null 2>&1; "
	      "test $? -le 1", copy);
	/* (the superblock's free counts lag while mounted, as the kernel's
	 * do: e2fsck corrects them silently after a crash) */
	tu_fsck_clean_live(copy);
	if (kernel) {
		/* the kernel's view of e2fsck's replay, as e4fuse's */
		assert_int_equal(tu_open(copy, &fs), 0);
		expect_synced(fs, rounds, flush);
		tu_close(fs);
		kernel_expect_synced(copy, rounds, flush);
	}
	unlink(copy);
	free(copy);
}

static void crash_layout(const char *name, const char *mkfs_args, int rounds_n,
			 int extra)
{
	char *img = tu_mkfs(name, mkfs_args, NULL, "24M");
	struct round rounds[ROUNDS_MAX];
	struct e4_open_opts o = { .read_only = false };
	struct e4_memdev_opts mo = { .log_max = (size_t)256 << 20 };
	struct e4_memdev *md;
	struct e4_dev *dev;
	struct e4_fs *fs;
	size_t size, points = 0;
	uint8_t *initial = (uint8_t *)tu_slurp(img, &size);
	uint8_t *image = malloc(size);
	uint32_t flushes;

	assert_int_equal(e4_memdev_create(initial, size, &mo, &md, &dev), 0);
	assert_int_equal(tu_open_dev(dev, &o, &fs), 0);
	assert_int_equal(e4_fs_begin_write(fs, NULL), 0);
	memset(rounds, 0, sizeof(rounds));
	nrounds = rounds_n;
	for (int r = 0; r < nrounds; r++)
		run_round(fs, md, r, extra, &rounds[r]);
	assert_int_equal(e4_fs_end_write(fs), 0);
	tu_close(fs);
	flushes = e4_memdev_flushes(md);
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
	for (uint32_t k = 0; k <= flushes; k++) {
		bool sync_point = false;

		for (int r = 0; r < nrounds; r++)
			sync_point |= rounds[r].flush == k;
		assert_int_equal(e4_memdev_image_at_flush(md, k, image, size), 0);
		check_crash(tu_msg("%s/crash.img", tu_tmpdir()), image, size,
			    rounds, k, sync_point);
		points++;
		if (!e4_memdev_writes_after(md, k))
			continue;
		/* some of what was in flight survives (whole writes: the
		 * superblocks, written in place as the kernel writes them,
		 * rely on the device not tearing a block write) */
		for (uint64_t seed = 1; seed <= 2; seed++) {
			assert_int_equal(e4_memdev_image_random(md, k, false,
								k * 31 + seed,
								image, size), 0);
			check_crash(tu_msg("%s/crash.img", tu_tmpdir()), image,
				    size, rounds, k, false);
			points++;
		}
	}
	/* everything: the clean end */
	assert_int_equal(e4_memdev_contents(md, image, size), 0);
	check_crash(tu_msg("%s/crash.img", tu_tmpdir()), image, size, rounds,
		    flushes, true);
	print_message("%s: %zu crash points over %u flushes\n", name,
		      points + 1, flushes);
	e4_memdev_free(md);
	free(initial);
	free(image);
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
