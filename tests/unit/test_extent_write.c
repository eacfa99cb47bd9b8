/* SPDX-License-Identifier: MIT */
/*
 * The extent tree writer (src/fs/extent_tree.c) against a model: runs
 * mapped into holes in random order (splits in the middle of leaves and
 * index nodes, keys lowered, the tree three levels deep on 1 KiB blocks),
 * ranges removed (extents trimmed and split, leaves and index blocks freed,
 * the tree shrinking back), every mapping compared with the model, and
 * e2fsck -fn clean after the inserts, after the removals (each index key
 * its child's first key) and after the file is emptied.  The same on a block-mapped
 * file (src/fs/blockmap_write.c) through the one mapping dispatch.
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

#define NBLK 24000u

struct model {
	struct e4_fs *fs;
	struct e4_writer *w;
	struct e4_ino *ip;
	struct e4_inode in;
	uint64_t *pblk;	/* NBLK: 0 = hole */
	uint64_t rng;
};

static uint64_t rnd(struct model *m)
{
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return m->rng;
}

static void check_all(struct model *m)
{
	for (uint64_t l = 0; l < NBLK;) {
		struct e4_mapping map;

		assert_int_equal(e4_map_block(m->fs, &m->in, l, &map), 0);
		assert_int_equal(map.lblk, l);
		for (uint64_t i = 0; i < map.len && l + i < NBLK; i++) {
			if (map.kind == E4_MAP_HOLE) {
				if (m->pblk[l + i])
					fail_msg("block %llu: a hole, model %llu",
						 (unsigned long long)(l + i),
						 (unsigned long long)m->pblk[l + i]);
			} else if (m->pblk[l + i] != map.pblk + i) {
				fail_msg("block %llu: mapped to %llu, model %llu",
					 (unsigned long long)(l + i),
					 (unsigned long long)(map.pblk + i),
					 (unsigned long long)m->pblk[l + i]);
			}
		}
		l += map.len;
	}
}

/* Map [l, l+n) (a hole in the model) to fresh blocks. */
static void map_run(struct model *m, uint64_t l, uint64_t n)
{
	struct e4_alloc_req req = { .ino = m->in.ino, .len = n };
	struct e4_map_change c;
	struct e4_handle h;
	uint64_t pblk, got;

	assert_int_equal(e4_handle_start(m->w->txm, 400, &h), 0);
	assert_int_equal(e4_alloc_blocks(m->w->alloc, &h, &req, &pblk, &got), 0);
	if (got > n)
		got = n;
	c = e4_map_change_of(m->fs, m->w, &h, &m->in);
	m->in.blocks_512 += e4_blocks_to_512(m->fs, got);
	assert_int_equal(e4_map_insert(&c, l, got, pblk), 0);
	assert_int_equal(e4_inode_write(m->fs, &h, &m->in, false), 0);
	assert_int_equal(e4_handle_stop(&h), 0);
	for (uint64_t i = 0; i < got; i++)
		m->pblk[l + i] = pblk + i;
}

static void unmap(struct model *m, uint64_t l, uint64_t end)
{
	uint64_t cursor = l;
	int err;

	do {
		struct e4_map_change c;
		struct e4_handle h;

		assert_int_equal(e4_handle_start(m->w->txm, 600, &h), 0);
		c = e4_map_change_of(m->fs, m->w, &h, &m->in);
		err = e4_map_remove(&c, &cursor, end);
		if (err && err != -EAGAIN)
			fail_msg("remove [%llu, %llu) at %llu: %d",
				 (unsigned long long)l, (unsigned long long)end,
				 (unsigned long long)cursor, err);
		assert_int_equal(e4_inode_write(m->fs, &h, &m->in, false), 0);
		assert_int_equal(e4_handle_stop(&h), 0);
	} while (err == -EAGAIN);
	for (uint64_t i = l; i < end && i < NBLK; i++)
		m->pblk[i] = 0;
}

/* e2fsck's word on the tree as it is (committed, the file's size
 * covering every block): each index key equal to its child's first key,
 * no block twice, counts right. */
static void fsck_now(struct model *m, const char *img)
{
	struct e4_handle h;

	m->in.size = (uint64_t)NBLK << m->fs->log_block_size;
	assert_int_equal(e4_handle_start(m->w->txm, 1, &h), 0);
	assert_int_equal(e4_inode_write(m->fs, &h, &m->in, false), 0);
	assert_int_equal(e4_handle_stop(&h), 0);
	assert_int_equal(e4_fs_sync(m->fs), 0);
	tu_fsck_clean_live(img);
}

/* Open @img for writing with an empty file "t" in its root to map. */
static void model_open(struct model *m, const char *img)
{
	struct e4_open_opts o = { .read_only = false };
	static const struct e4_cred cred = { 0, 0, 0 };
	struct e4_ino *root;
	struct e4_dev *dev;

	m->pblk = calloc(NBLK, sizeof(*m->pblk));
	assert_int_equal(e4_dev_open_file(img, 0, 0, true, &dev), 0);
	assert_int_equal(tu_open_dev(dev, &o, &m->fs), 0);
	assert_int_equal(e4_fs_begin_write(m->fs, NULL), 0);
	m->w = e4_writer_get(m->fs);
	assert_int_equal(e4_iget(m->fs, E4_ROOT_INO, &root), 0);
	assert_int_equal(e4_mknod(m->fs, root, "t", 1, 0100644, 0, 0, &cred,
				  &m->ip), 0);
	e4_iput(m->fs, root);
	e4_ino_snapshot(m->ip, &m->in);
}

/* Unmount cleanly; e2fsck -fn must find @img clean (and it is freed). */
static void model_close(struct model *m, char *img)
{
	m->ip->inode = m->in;	/* (the in-core inode: written with each step) */
	e4_iput(m->fs, m->ip);
	assert_int_equal(e4_fs_end_write(m->fs), 0);
	tu_close(m->fs);
	tu_fsck_clean(img);
	free(m->pblk);
	free(img);
}

static void run(const char *name, const char *mkfs_args, uint64_t seed)
{
	char *img = tu_mkfs(name, mkfs_args, NULL, "256M");
	struct model m = { .rng = seed };

	model_open(&m, img);

	/* every other block first, in random order: ~12,000 extents */
	for (unsigned k = 0; k < NBLK / 2; k++) {
		uint64_t l = (rnd(&m) % (NBLK / 2)) * 2;

		if (!m.pblk[l])
			map_run(&m, l, 1);
	}
	check_all(&m);
	/* runs into the gaps, merging with neighbours where they continue */
	for (unsigned k = 0; k < 3000; k++) {
		uint64_t l = rnd(&m) % NBLK, n = 1 + rnd(&m) % 6;

		while (n && (l + n > NBLK || m.pblk[l + n - 1]))
			n--;
		for (uint64_t i = 0; i < n; i++)
			if (m.pblk[l + i])
				n = i;
		if (n)
			map_run(&m, l, n);
	}
	check_all(&m);
	fsck_now(&m, img);
	/* random ranges removed, splitting extents in two */
	for (unsigned k = 0; k < 800; k++) {
		uint64_t l = rnd(&m) % NBLK, n = 1 + rnd(&m) % 40;

		unmap(&m, l, l + n);
	}
	check_all(&m);
	fsck_now(&m, img);
	/* everything: the tree goes back to an empty root */
	unmap(&m, 0, 0xFFFFFFFFull);
	check_all(&m);
	assert_int_equal(m.in.blocks_512, 0);
	model_close(&m, img);
}

static void test_extents_1k(void **state)
{
	(void)state;
	run("ew1k.img", "-b 1024", 7);
}

static void test_extents_4k(void **state)
{
	(void)state;
	run("ew4k.img", "-b 4096", 8);
}

static void test_blockmap_1k(void **state)
{
	(void)state;
	run("bm1k.img", "-t ext3 -b 1024", 9);
}

/* ---- space promised before a change begins --------------------------------- */

/* What a change may still be promised: free now, less root's reserve. */
static uint64_t promisable(struct model *m)
{
	uint64_t free_blocks;
	uint32_t free_inodes;

	assert_int_equal(e4_alloc_counts(m->w->alloc, &free_blocks,
					 &free_inodes), 0);
	return free_blocks - m->fs->r_blocks_count;
}

/* With all but @left clusters promised to other changes: inserting a
 * block into the hole at @l (its leaf and the root full: a new root level
 * and a split, two blocks) and punching the block after it out of the
 * middle of its extent (the right part needs room in the full leaf too)
 * each fail with -ENOSPC and change nothing: the transaction goes on, the
 * tree maps what it did. */
static void expect_clean_enospc(struct model *m, uint64_t l, uint64_t left)
{
	struct e4_alloc_req req = { .ino = m->in.ino, .len = 1 };
	struct e4_map_change c;
	struct e4_handle h;
	uint64_t pblk, got, others, cursor = l + 2;
	struct e4_inode before;

	assert_int_equal(e4_handle_start(m->w->txm, 400, &h), 0);
	assert_int_equal(e4_alloc_blocks(m->w->alloc, &h, &req, &pblk, &got), 0);
	others = promisable(m) - left;
	assert_int_equal(e4_alloc_reserve(m->w->alloc, others, false, true), 0);
	before = m->in;
	c = e4_map_change_of(m->fs, m->w, &h, &m->in);
	assert_int_equal(e4_map_insert(&c, l, 1, pblk), -ENOSPC);
	assert_int_equal(c.reserved, 0);
	assert_memory_equal(m->in.i_block, before.i_block, sizeof(before.i_block));
	assert_int_equal(m->in.blocks_512, before.blocks_512);
	assert_int_equal(e4_map_remove(&c, &cursor, l + 3), -ENOSPC);
	assert_int_equal(cursor, l + 2);
	assert_memory_equal(m->in.i_block, before.i_block, sizeof(before.i_block));
	assert_false(e4_txm_aborted(m->w->txm));
	assert_int_equal(e4_free_blocks(m->w->alloc, &h, pblk, got), 0);
	assert_int_equal(e4_handle_stop(&h), 0);
	e4_alloc_unreserve(m->w->alloc, others, true);
	check_all(m);
	/* the data block's free committed: free for everyone again */
	assert_int_equal(e4_fs_sync(m->fs), 0);
}

/* An extent tree one level deep with its root and four leaves full (336
 * extents of 3 blocks, a hole after each): changes that need two new
 * tree blocks get -ENOSPC, nothing changed, when one is left to promise
 * (before, the root grew and the split then found no block: the
 * transaction aborted and the session stopped writing); with two they
 * go through. */
static void test_split_promised(void **state)
{
	char *img = tu_mkfs("promise.img", "-b 1024", NULL, "64M");
	struct model m = { .rng = 1 };
	struct e4_ext_header rh;

	(void)state;
	model_open(&m, img);
	for (uint64_t i = 0; i < 4 * 84; i++)
		map_run(&m, 4 * i, 3);
	e4_ext_header_get(m.in.i_block, sizeof(m.in.i_block), &rh);
	assert_int_equal(rh.depth, 1);
	assert_int_equal(rh.entries, rh.max);
	/* frees of this session committed: what is free may be promised */
	assert_int_equal(e4_fs_sync(m.fs), 0);

	expect_clean_enospc(&m, 4 * 100 + 3, 0);
	expect_clean_enospc(&m, 4 * 100 + 3, 1);
	/* with two to spare, both go through */
	{
		uint64_t others = promisable(&m) - 2 - 1;	/* (1: the data) */

		assert_int_equal(e4_alloc_reserve(m.w->alloc, others, false, true), 0);
		map_run(&m, 4 * 100 + 3, 1);
		e4_alloc_unreserve(m.w->alloc, others, true);
	}
	e4_ext_header_get(m.in.i_block, sizeof(m.in.i_block), &rh);
	assert_int_equal(rh.depth, 2);
	unmap(&m, 4 * 200 + 1, 4 * 200 + 2);
	check_all(&m);
	fsck_now(&m, img);
	model_close(&m, img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extents_1k),
		cmocka_unit_test(test_extents_4k),
		cmocka_unit_test(test_blockmap_1k),
		cmocka_unit_test(test_split_promised),
	};

	return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}
