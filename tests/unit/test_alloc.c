/* SPDX-License-Identifier: MIT */
/*
 * The allocator (src/alloc/) on images made by mkfs: runs come out of free
 * space, contiguous and near their goal; bitmaps, descriptors and the
 * superblock's counts stay exact (e2fsck -fn clean after allocating and
 * freeing everything again); uninitialised groups are initialised on first
 * use; a bitmap that marks metadata free or disagrees with its descriptor
 * is corruption (AL3, AL2) and never costs the metadata; reservations keep
 * two files apart; ENOSPC comes when it should, and root's reserve is
 * root's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"
#include "ondisk/ondisk.h"
#include "tx/trans.h"
#include "testutil.h"

struct rig {
	char *img;
	struct e4_fs *fs;
	struct e4_txm *txm;
	struct e4_alloc *a;
};

static void committed(void *ctx, uint64_t tid)
{
	e4_alloc_committed(ctx, tid);
}

/* Open @img (the rig owns it, freed with r->img). */
static void rig_open(struct rig *r, char *img)
{
	struct e4_open_opts o = { .read_only = false };
	struct e4_dev *dev;

	r->img = img;
	assert_int_equal(e4_dev_open_file(r->img, 0, 0, true, &dev), 0);
	assert_int_equal(tu_open_dev(dev, &o, &r->fs), 0);
	assert_int_equal(e4_txm_create(r->fs, NULL, &r->txm), 0);
	assert_int_equal(e4_alloc_create(r->fs, NULL, &r->a), 0);
	e4_txm_on_commit(r->txm, committed, r->a);
}

/* Write the counts to the superblock, commit, close. */
static void rig_close(struct rig *r)
{
	struct e4_handle h;

	assert_int_equal(e4_handle_start(r->txm, E4_ALLOC_SUPER_CREDITS, &h), 0);
	assert_int_equal(e4_alloc_sync_super(r->a, &h), 0);
	assert_int_equal(e4_handle_stop(&h), 0);
	assert_int_equal(e4_txm_destroy(r->txm), 0);
	e4_alloc_destroy(r->a);
	tu_close(r->fs);
}

static int alloc_run(struct rig *r, uint32_t ino, uint64_t goal, uint64_t len,
		     uint64_t *start, uint64_t *count)
{
	struct e4_alloc_req req = { .ino = ino, .goal = goal, .len = len,
				    .use_reserved = true };
	struct e4_handle h;
	int err = e4_handle_start(r->txm, E4_ALLOC_BLOCK_CREDITS, &h);

	if (err)
		return err;
	err = e4_alloc_blocks(r->a, &h, &req, start, count);
	int e2 = e4_handle_stop(&h);
	return err ? err : e2;
}

static void free_run(struct rig *r, uint64_t start, uint64_t count)
{
	struct e4_handle h;

	/* a run may cross groups: two descriptors and bitmaps each */
	assert_int_equal(e4_handle_start(r->txm, 8 * E4_ALLOC_BLOCK_CREDITS, &h), 0);
	assert_int_equal(e4_free_blocks(r->a, &h, start, count), 0);
	assert_int_equal(e4_handle_stop(&h), 0);
}

/* debugfs's word on whether block @blk is in use. */
static bool block_in_use(const char *img, uint64_t blk)
{
	char cmd[64];
	char *out;
	bool used;

	snprintf(cmd, sizeof(cmd), "testb %llu", (unsigned long long)blk);
	out = tu_debugfs_out(img, cmd);
	used = strstr(out, "marked in use") != NULL;
	free(out);
	return used;
}

struct meta_hit {
	uint64_t start, count;
	bool hit;
};

static int meta_cb(void *ctx, uint32_t owner, enum e4_meta_kind kind,
		   uint64_t start, uint64_t count)
{
	struct meta_hit *m = ctx;

	(void)owner;
	(void)kind;
	if (start < m->start + m->count && m->start < start + count)
		m->hit = true;
	return 0;
}

/* Whether [start, start+count) touches any group's fixed metadata. */
static bool touches_metadata(struct e4_fs *fs, uint64_t start, uint64_t count)
{
	struct meta_hit m = { start, count, false };

	for (uint32_t g = 0; g < fs->group_count; g++)
		assert_int_equal(e4_group_metadata(fs, g, E4_META_OWNED,
						   meta_cb, &m), 0);
	return m.hit;
}

/* ---- tests ---------------------------------------------------------------- */

/* Runs of many sizes come out free, unused by metadata, marked in use once
 * committed; freeing them all leaves an image e2fsck calls clean. */
static void test_alloc_free_clean(void **state)
{
	static const uint64_t sizes[] = { 1, 7, 100, 2048, 5000, 1, 33 };
	uint64_t start[7], count[7];
	struct rig r;

	(void)state;
	rig_open(&r, tu_mkfs("a1.img", "-b 4096", NULL, "128M"));
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(alloc_run(&r, 12, 0, sizes[i], &start[i],
					   &count[i]), 0);
		assert_true(count[i] >= 1 && count[i] <= sizes[i]);
		assert_false(touches_metadata(r.fs, start[i], count[i]));
		for (size_t j = 0; j < i; j++)
			assert_true(start[i] + count[i] <= start[j] ||
				    start[j] + count[j] <= start[i]);
	}
	assert_int_equal(e4_txm_commit(r.txm), 0);
	for (size_t i = 0; i < 7; i++) {
		assert_true(block_in_use(r.img, start[i]));
		assert_true(block_in_use(r.img, start[i] + count[i] - 1));
	}
	for (size_t i = 0; i < 7; i++)
		free_run(&r, start[i], count[i]);
	rig_close(&r);
	tu_fsck_clean(r.img);
	free(r.img);
}

/* A run starts at its goal when the goal is free, and a big enough free
 * area gives one contiguous run. */
static void test_goal_and_contiguity(void **state)
{
	uint64_t s1, n1, s2, n2;
	struct rig r;

	(void)state;
	rig_open(&r, tu_mkfs("a2.img", "-b 4096", NULL, "256M"));
	assert_int_equal(alloc_run(&r, 12, 0, 4096, &s1, &n1), 0);
	assert_int_equal(n1, 4096);
	assert_int_equal(alloc_run(&r, 12, s1 + n1, 100, &s2, &n2), 0);
	assert_int_equal(s2, s1 + n1);
	free_run(&r, s1, n1);
	free_run(&r, s2, n2);
	rig_close(&r);
	tu_fsck_clean(r.img);
	free(r.img);
}

/* Two files allocated in turns each get runs that continue their own:
 * the reservation windows keep them from interleaving. */
static void test_windows_keep_files_apart(void **state)
{
	uint64_t sa[8], na[8], sb[8], nb[8];
	struct rig r;

	(void)state;
	rig_open(&r, tu_mkfs("a3.img", "-b 4096", NULL, "256M"));
	for (int i = 0; i < 8; i++) {
		assert_int_equal(alloc_run(&r, 12, i ? sa[i - 1] + na[i - 1] : 0,
					   16, &sa[i], &na[i]), 0);
		assert_int_equal(alloc_run(&r, 13, i ? sb[i - 1] + nb[i - 1] : 0,
					   16, &sb[i], &nb[i]), 0);
		if (i) {
			assert_int_equal(sa[i], sa[i - 1] + na[i - 1]);
			assert_int_equal(sb[i], sb[i - 1] + nb[i - 1]);
		}
	}
	e4_alloc_release(r.a, 12);
	e4_alloc_release(r.a, 13);
	for (int i = 0; i < 8; i++) {
		free_run(&r, sa[i], na[i]);
		free_run(&r, sb[i], nb[i]);
	}
	rig_close(&r);
	tu_fsck_clean(r.img);
	free(r.img);
}

/* A group mkfs left BLOCK_UNINIT gets a real bitmap on its first
 * allocation: the flag goes, the bitmap marks its metadata, e2fsck agrees. */
static void test_uninit_group(void **state)
{
	uint32_t bpg;
	uint64_t goal, s, n;
	struct rig r;
	struct e4_group gd;

	(void)state;
	rig_open(&r, tu_mkfs("a4.img", "-b 4096 -g 8192", NULL, "256M"));
	bpg = r.fs->blocks_per_group;
	assert_int_equal(e4_group_get(r.fs, r.fs->group_count - 2, &gd), 0);
	assert_true(gd.flags & E4_BG_BLOCK_UNINIT);
	goal = e4_group_first_block(r.fs, r.fs->group_count - 2) + bpg / 2;
	assert_int_equal(alloc_run(&r, 12, goal, 10, &s, &n), 0);
	assert_int_equal(s, goal);
	assert_int_equal(e4_txm_commit(r.txm), 0);
	assert_int_equal(e4_group_get(r.fs, r.fs->group_count - 2, &gd), 0);
	assert_false(gd.flags & E4_BG_BLOCK_UNINIT);
	/* still allocated: e2fsck must see a file own it, so free it first
	 * and check the group stays initialised and consistent */
	free_run(&r, s, n);
	rig_close(&r);
	tu_fsck_clean(r.img);
	free(r.img);
}

/* Blocks a hostile bitmap marks free that are metadata: corruption (AL3),
 * the group is given up, the metadata is never handed out. */
static void test_metadata_marked_free(void **state)
{
	char *img = tu_mkfs("a5.img", "-b 4096 -g 8192 -O ^flex_bg", NULL, "64M");
	struct e4_group gd;
	uint64_t table, s, n;
	struct rig r;
	char cmd[96];

	(void)state;
	rig_open(&r, strdup(img));	/* img is needed again below */
	assert_int_equal(e4_group_get(r.fs, 1, &gd), 0);
	table = gd.inode_table;
	/* the transactions first: their last commit tells the allocator */
	assert_int_equal(e4_txm_destroy(r.txm), 0);
	e4_alloc_destroy(r.a);
	tu_close(r.fs);
	free(r.img);
	/* debugfs leaves the count: make it agree, so only AL3 is wrong */
	snprintf(cmd, sizeof(cmd),
		 "freeb %llu 64\nset_bg 1 free_blocks_count %u\n"
		 "set_bg 1 checksum calc", (unsigned long long)table,
		 gd.free_blocks + 64);
	tu_debugfs(img, cmd);

	rig_open(&r, img);
	tu_log_clear();
	for (int i = 0; i < 40; i++) {
		assert_int_equal(alloc_run(&r, 12, table, 64, &s, &n), 0);
		assert_false(touches_metadata(r.fs, s, n));
	}
	tu_assert_rule_any(E4_RULE_AL3);
	/* the transactions first: their last commit tells the allocator */
	assert_int_equal(e4_txm_destroy(r.txm), 0);
	e4_alloc_destroy(r.a);
	tu_close(r.fs);
	free(r.img);
}

/* A descriptor whose free count disagrees with its bitmap: AL2, and the
 * group is not allocated from. */
static void test_count_mismatch(void **state)
{
	char *img = tu_mkfs("a6.img", "-b 4096 -g 8192 -O ^flex_bg", NULL, "64M");
	uint64_t s, n, first1, first2;
	struct rig r;

	(void)state;
	tu_debugfs(img, "set_bg 1 free_blocks_count 5\nset_bg 1 checksum calc");
	rig_open(&r, img);
	first1 = e4_group_first_block(r.fs, 1);
	first2 = e4_group_first_block(r.fs, 2);
	tu_log_clear();
	assert_int_equal(alloc_run(&r, 12, first1 + 100, 8, &s, &n), 0);
	tu_assert_rule_any(E4_RULE_AL2);
	assert_true(s < first1 || s >= first2);
	/* the transactions first: their last commit tells the allocator */
	assert_int_equal(e4_txm_destroy(r.txm), 0);
	e4_alloc_destroy(r.a);
	tu_close(r.fs);
	free(r.img);
}

/* Allocate until nothing is left: ENOSPC, never metadata, and the root
 * reserve only for a caller that may use it; freeing everything leaves the
 * counts exact. */
static void test_fill_to_enospc(void **state)
{
	struct e4_alloc_req user = { .ino = 12, .len = 1000 };
	uint64_t (*runs)[2] = calloc(100000, sizeof(*runs));
	size_t nruns = 0;
	uint64_t s, n;
	struct rig r;
	int err;

	(void)state;
	rig_open(&r, tu_mkfs("a7.img", "-b 1024 -m 5", NULL, "16M"));
	for (;;) {
		struct e4_handle h;

		assert_int_equal(e4_handle_start(r.txm, 2, &h), 0);
		err = e4_alloc_blocks(r.a, &h, &user, &s, &n);
		assert_int_equal(e4_handle_stop(&h), 0);
		if (err)
			break;
		assert_false(touches_metadata(r.fs, s, n));
		runs[nruns][0] = s;
		runs[nruns++][1] = n;
	}
	assert_int_equal(err, -ENOSPC);
	/* root may still take its reserve */
	assert_int_equal(alloc_run(&r, 12, 0, 1, &s, &n), 0);
	runs[nruns][0] = s;
	runs[nruns++][1] = n;
	while ((err = alloc_run(&r, 12, 0, 1000, &s, &n)) == 0) {
		assert_false(touches_metadata(r.fs, s, n));
		runs[nruns][0] = s;
		runs[nruns++][1] = n;
	}
	assert_int_equal(err, -ENOSPC);
	for (size_t i = 0; i < nruns; i++)
		free_run(&r, runs[i][0], runs[i][1]);
	rig_close(&r);
	tu_fsck_clean(r.img);
	free(runs);
	free(r.img);
}

/* Freeing what is free, or metadata, is corruption and changes nothing. */
static void test_bad_frees(void **state)
{
	struct rig r;
	struct e4_handle h;
	struct e4_group gd;
	uint64_t s, n;

	(void)state;
	rig_open(&r, tu_mkfs("a8.img", "-b 4096", NULL, "64M"));
	assert_int_equal(alloc_run(&r, 12, 0, 10, &s, &n), 0);
	free_run(&r, s, n);
	tu_log_clear();
	assert_int_equal(e4_handle_start(r.txm, 4, &h), 0);
	assert_int_equal(e4_free_blocks(r.a, &h, s, n), -EUCLEAN);
	assert_int_equal(e4_group_get(r.fs, 0, &gd), 0);
	assert_int_equal(e4_free_blocks(r.a, &h, gd.inode_table, 1), -EUCLEAN);
	assert_int_equal(e4_handle_stop(&h), 0);
	tu_assert_rule_any(E4_RULE_AL3);
	rig_close(&r);
	tu_fsck_clean(r.img);
	free(r.img);
}

/* Inodes: a directory in the root spreads, a file goes near its parent;
 * inodes come back free; e2fsck agrees after. */
static void test_inodes(void **state)
{
	uint32_t ino[64];
	bool dir[64];
	struct rig r;

	(void)state;
	rig_open(&r, tu_mkfs("a9.img", "-b 4096 -N 4096", NULL, "256M"));
	for (int i = 0; i < 64; i++) {
		struct e4_handle h;

		dir[i] = i % 4 == 0;
		assert_int_equal(e4_handle_start(r.txm, E4_ALLOC_INODE_CREDITS, &h), 0);
		assert_int_equal(e4_alloc_inode(r.a, &h, E4_ROOT_INO, dir[i],
						&ino[i]), 0);
		assert_int_equal(e4_handle_stop(&h), 0);
		assert_true(ino[i] >= r.fs->first_ino);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(ino[i], ino[j]);
	}
	/* files near the root's group */
	assert_int_equal((ino[1] - 1) / r.fs->inodes_per_group, 0);
	for (int i = 0; i < 64; i++) {
		struct e4_handle h;

		assert_int_equal(e4_handle_start(r.txm, E4_ALLOC_INODE_CREDITS, &h), 0);
		assert_int_equal(e4_free_inode(r.a, &h, ino[i], dir[i]), 0);
		assert_int_equal(e4_handle_stop(&h), 0);
	}
	rig_close(&r);
	tu_fsck_clean(r.img);
	free(r.img);
}

/* Opening for allocation reads nothing: the summaries are filled as the
 * allocator goes. */
static void test_create_reads_nothing(void **state)
{
	struct e4_fs_counters before, after;
	struct rig r;

	(void)state;
	rig_open(&r, tu_mkfs("a10.img", "-b 4096", NULL, "64M"));
	e4_txm_on_commit(r.txm, NULL, NULL);
	e4_alloc_destroy(r.a);
	e4_fs_get_counters(r.fs, &before);
	assert_int_equal(e4_alloc_create(r.fs, NULL, &r.a), 0);
	e4_txm_on_commit(r.txm, committed, r.a);
	e4_fs_get_counters(r.fs, &after);
	assert_int_equal(after.meta_gets, before.meta_gets);
	assert_int_equal(after.dev_reads, before.dev_reads);
	rig_close(&r);
	free(r.img);
}

/* What a transaction freed is not handed out again before it commits. */
static void test_freed_waits_for_commit(void **state)
{
	uint64_t s1, n1, s2, n2;
	struct rig r;

	(void)state;
	rig_open(&r, tu_mkfs("a11.img", "-b 4096", NULL, "64M"));
	assert_int_equal(alloc_run(&r, 12, 0, 64, &s1, &n1), 0);
	assert_int_equal(e4_txm_commit(r.txm), 0);
	free_run(&r, s1, n1);
	assert_int_equal(alloc_run(&r, 13, s1, 64, &s2, &n2), 0);
	assert_true(s2 >= s1 + n1 || s2 + n2 <= s1);
	assert_int_equal(e4_txm_commit(r.txm), 0);
	free_run(&r, s2, n2);
	assert_int_equal(e4_txm_commit(r.txm), 0);
	assert_int_equal(alloc_run(&r, 14, s1, 64, &s2, &n2), 0);
	assert_int_equal(s2, s1);
	free_run(&r, s2, n2);
	rig_close(&r);
	tu_fsck_clean(r.img);
	free(r.img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_free_clean),
		cmocka_unit_test(test_goal_and_contiguity),
		cmocka_unit_test(test_windows_keep_files_apart),
		cmocka_unit_test(test_uninit_group),
		cmocka_unit_test(test_metadata_marked_free),
		cmocka_unit_test(test_count_mismatch),
		cmocka_unit_test(test_fill_to_enospc),
		cmocka_unit_test(test_bad_frees),
		cmocka_unit_test(test_inodes),
		cmocka_unit_test(test_create_reads_nothing),
		cmocka_unit_test(test_freed_waits_for_commit),
	};

	return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}
