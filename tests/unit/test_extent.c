/* SPDX-License-Identifier: MIT */
/*
 * Extent trees (spec §5): mappings of real mkfs.ext4 -d images (1K, 4K, 64K
 * blocks, bigalloc; depth 0, 1 and 2 trees; unwritten extents made with
 * debugfs fallocate) against debugfs bmap and the source files, and
 * hand-broken trees, each with its exact errno and log line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ondisk/ondisk.h"
#include "testutil.h"
#include "maputil.h"

#define MiB (1024ull * 1024ull)
#define LBLK_END 0xFFFFFFFFull

static char srcdir[512];
static char *img_4k, *img_1k, *img_64k, *img_bigalloc, *img_no64;

static int make_images(void **state)
{
	(void)state;
	snprintf(srcdir, sizeof(srcdir), "%s/src", tu_tmpdir());
	tu_sh("mkdir -p '%s'", srcdir);

	mu_make_contiguous(srcdir, "big", 3 * MiB + 123);
	mu_make_alternating(srcdir, "frag", 4096, 1000);	/* 500 extents */
	mu_make_alternating(srcdir, "frag64k", 65536, 60);
	/* 4 extents of 2 (4K) blocks at 0, 4, 8, 12: fills the root */
	mu_make_alternating(srcdir, "four", 8192, 8);
	mu_make_contiguous(srcdir, "small", 100);
	mu_make_contiguous(srcdir, "empty", 0);
	{
		int fd = mu_create(srcdir, "sparse");

		mu_write(fd, 0, 4096);
		mu_write(fd, 1 * MiB, 8192);
		mu_write(fd, 40 * MiB + 100, 4096);
		mu_finish(fd, 48 * MiB);
	}
	img_4k = tu_mkfs("ext4-4k.img", "-b 4096", srcdir, "64M");
	img_1k = tu_mkfs("ext4-1k.img", "-b 1024", srcdir, "64M");
	img_64k = tu_mkfs("ext4-64k.img", "-b 65536", srcdir, "64M");
	img_bigalloc = tu_mkfs("ext4-bigalloc.img",
			       "-b 4096 -O bigalloc -C 16384", srcdir, "64M");
	img_no64 = tu_mkfs("ext4-no64.img", "-b 4096 -O ^64bit", srcdir, "64M");
	return 0;
}

static const char *const files[] = {
	"big", "frag", "frag64k", "four", "small", "empty", "sparse",
};

static void host_path(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", srcdir, name);
}

/* Root header field of a file's inode, from the image bytes. */
static uint16_t root_field(const char *img, const char *path, unsigned off)
{
	uint32_t ino = tu_ino_of(img, path);

	return tu_peek_le16(img, tu_inode_offset(img, ino) + E4_I_BLOCK + off);
}

static void check_image(const char *img)
{
	struct e4_fs *fs;
	char host[1024];

	assert_int_equal(tu_open(img, &fs), 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct e4_inode inode;
		char path[64];

		snprintf(path, sizeof(path), "/%s", files[i]);
		host_path(files[i], host, sizeof(host));
		mu_inode(fs, img, path, &inode);
		assert_true(inode.flags & E4_EXTENTS_FL);
		mu_check_map(fs, &inode, img, path, true);
		mu_check_content(fs, &inode, host);
	}
	tu_close(fs);
}

/* Holes of "frag" (alternating data/hole chunks) seen through e4_map_block:
 * each is found as one run. */
static void check_frag_runs(const char *img, unsigned expect_holes,
			    unsigned min_depth)
{
	struct e4_fs *fs;
	struct e4_inode inode;

	assert_true(root_field(img, "/frag", 6) >= min_depth);
	assert_int_equal(tu_open(img, &fs), 0);
	mu_inode(fs, img, "/frag", &inode);
	assert_int_equal(mu_check_map(fs, &inode, img, "/frag", true),
			 expect_holes);
	tu_close(fs);
}

static void test_map_4k(void **state)
{
	(void)state;
	check_image(img_4k);
	/* 500 holes (the last chunk is a trailing hole), two leaves under
	 * an index root */
	check_frag_runs(img_4k, 500, 1);
}

static void test_map_1k_depth2(void **state)
{
	(void)state;
	check_image(img_1k);
	/* 500 extents > 4 * 84: the root indexes index blocks */
	assert_int_equal(root_field(img_1k, "/frag", 6), 2);
	check_frag_runs(img_1k, 500, 2);
}

static void test_map_64k(void **state)
{
	(void)state;
	check_image(img_64k);
	assert_int_equal(root_field(img_64k, "/frag64k", 6), 1);
}

static void test_map_bigalloc(void **state)
{
	(void)state;
	check_image(img_bigalloc);
	check_frag_runs(img_bigalloc, 500, 1);
}

/* Holes reach the next mapped block, also across leaves, and the last one
 * reaches the last addressable block. */
static void test_hole_lengths(void **state)
{
	struct e4_fs *fs;
	struct e4_inode inode;
	struct e4_mapping m;
	uint64_t last_data;

	(void)state;
	assert_int_equal(tu_open(img_4k, &fs), 0);
	mu_inode(fs, img_4k, "/sparse", &inode);
	assert_int_equal(e4_map_block(fs, &inode, 1, &m), 0);
	assert_int_equal(m.kind, E4_MAP_HOLE);
	assert_int_equal(m.lblk, 1);
	assert_int_equal(m.len, 255);	/* next data at 1 MiB = block 256 */
	last_data = (40 * MiB + 100 + 4096 - 1) / 4096;
	assert_int_equal(e4_map_block(fs, &inode, last_data + 1, &m), 0);
	assert_int_equal(m.kind, E4_MAP_HOLE);
	assert_int_equal(m.len, LBLK_END - (last_data + 1));
	/* the root's last extent ends the tree: the same far hole */
	assert_int_equal(e4_map_block(fs, &inode, LBLK_END - 1, &m), 0);
	assert_int_equal(m.len, 1);
	assert_int_equal(e4_map_block(fs, &inode, LBLK_END, &m), -EINVAL);
	tu_close(fs);

	/* depth 2 on 1K: every hole of "frag" is exactly one 4-block chunk,
	 * including the ones between leaves and between index blocks */
	assert_int_equal(tu_open(img_1k, &fs), 0);
	mu_inode(fs, img_1k, "/frag", &inode);
	for (uint64_t lblk = 4; lblk < 4000; lblk += 8) {
		assert_int_equal(e4_map_block(fs, &inode, lblk, &m), 0);
		assert_int_equal(m.kind, E4_MAP_HOLE);
		if (lblk + 4 < 4000)
			assert_int_equal(m.len, 4);
		else
			assert_int_equal(m.len, LBLK_END - lblk);
	}
	tu_close(fs);
}

/* Unwritten extents made by debugfs fallocate inside and past EOF. */
static void test_unwritten(void **state)
{
	char dir[600], host[700];
	char *img;
	struct e4_fs *fs;
	struct e4_inode inode;
	struct e4_mapping m;
	int fd;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/src-unwritten", tu_tmpdir());
	tu_sh("mkdir -p '%s'", dir);
	fd = mu_create(dir, "d");
	mu_write(fd, 0, 4 * 4096);
	mu_write(fd, 16 * 4096, 2);
	mu_finish(fd, 16 * 4096 + 2);
	img = tu_mkfs("unwritten.img", "-b 4096", dir, "16M");
	tu_debugfs(img, "fallocate /d 4 9");
	tu_debugfs(img, "fallocate /d 20 29");

	assert_int_equal(tu_open(img, &fs), 0);
	mu_inode(fs, img, "/d", &inode);
	assert_int_equal(e4_map_block(fs, &inode, 4, &m), 0);
	assert_int_equal(m.kind, E4_MAP_UNWRITTEN);
	assert_int_equal(m.len, 6);
	assert_int_equal(m.pblk, tu_bmap(img, "/d", 4));
	assert_int_equal(e4_map_block(fs, &inode, 7, &m), 0);
	assert_int_equal(m.kind, E4_MAP_UNWRITTEN);
	assert_int_equal(m.len, 3);
	assert_int_equal(m.pblk, tu_bmap(img, "/d", 7));
	assert_int_equal(e4_map_block(fs, &inode, 10, &m), 0);
	assert_int_equal(m.kind, E4_MAP_HOLE);
	assert_int_equal(m.len, 6);
	/* past EOF: mapped as blocks, callers clamp to i_size */
	assert_int_equal(e4_map_block(fs, &inode, 20, &m), 0);
	assert_int_equal(m.kind, E4_MAP_UNWRITTEN);
	assert_int_equal(m.len, 10);
	mu_check_map(fs, &inode, img, "/d", true);
	/* the source has holes where the image has unwritten extents: both
	 * read as zeros and seek as holes */
	snprintf(host, sizeof(host), "%s/d", dir);
	mu_check_content(fs, &inode, host);
	mu_check_seek(fs, &inode, host);
	tu_close(fs);
	free(img);
}

/* ---- hand-broken trees ------------------------------------------------ */

struct broken {
	char *img;
	uint32_t ino;
	uint64_t root;		/* byte offset of i_block in the image */
};

static void break_copy(const char *base, const char *name, const char *path,
		       struct broken *b)
{
	b->img = tu_copy(base, name);
	b->ino = tu_ino_of(b->img, path);
	b->root = tu_inode_offset(b->img, b->ino) + E4_I_BLOCK;
}

/* Open, map @lblk, expect @err and a report of @rule about the extent node
 * at block @node (0: the root); a read of the file fails the same way. */
static void expect_map_error(struct broken *b, uint64_t lblk, int err,
			     enum e4_rule rule, uint64_t node)
{
	mu_expect_map_error(b->img, b->ino, lblk, err, rule,
			    e4_obj_extent(b->ino, node));
	free(b->img);
}


static void patch_root(struct broken *b, unsigned off, uint16_t v16)
{
	tu_patch_le16(b->img, b->root + off, v16);
	tu_fix_inode_csum(b->img, b->ino);
}

static void test_root_bad_magic(void **state)
{
	struct broken b;

	(void)state;
	break_copy(img_4k, "b-magic.img", "/four", &b);
	patch_root(&b, 0, 0x0000);
	expect_map_error(&b, 0, -EUCLEAN, E4_RULE_EX1, 0);
}

static void test_root_entries_over_max(void **state)
{
	struct broken b;

	(void)state;
	break_copy(img_4k, "b-entries.img", "/four", &b);
	patch_root(&b, 2, 5);
	expect_map_error(&b, 0, -EUCLEAN, E4_RULE_EX2, 0);
}

static void test_root_max_over_capacity(void **state)
{
	struct broken b;

	(void)state;
	break_copy(img_4k, "b-max.img", "/four", &b);
	patch_root(&b, 4, 5);
	expect_map_error(&b, 0, -EUCLEAN, E4_RULE_EX2, 0);
}

/* The kernel accepts a root eh_max below capacity: so do we. */
static void test_root_small_max_ok(void **state)
{
	struct broken b;
	struct e4_fs *fs;
	struct e4_inode inode;
	struct e4_mapping m;

	(void)state;
	break_copy(img_4k, "b-max3.img", "/small", &b);
	patch_root(&b, 4, 3);
	assert_int_equal(tu_open(b.img, &fs), 0);
	assert_int_equal(e4_inode_read(fs, b.ino, &inode), 0);
	assert_int_equal(e4_map_block(fs, &inode, 0, &m), 0);
	assert_int_equal(m.kind, E4_MAP_MAPPED);
	assert_int_equal(m.pblk, tu_bmap(b.img, "/small", 0));
	tu_close(fs);
	free(b.img);
}

static void test_root_depth6(void **state)
{
	struct broken b;

	(void)state;
	break_copy(img_4k, "b-depth6.img", "/four", &b);
	patch_root(&b, 6, 6);
	expect_map_error(&b, 0, -EUCLEAN, E4_RULE_EX3, 0);
}

static uint64_t first_child(const struct broken *b)
{
	return tu_peek_le32(b->img, b->root + 12 + 4);
}

static void test_child_depth_mismatch(void **state)
{
	struct broken b;
	uint64_t child;

	(void)state;
	break_copy(img_4k, "b-childdepth.img", "/frag", &b);
	child = first_child(&b);
	patch_root(&b, 6, 2);	/* root claims two levels, the leaf says 0 */
	expect_map_error(&b, 0, -EUCLEAN, E4_RULE_EX3, child);
}

/* Extents of "four": (0,2) (4,2) (8,2) (12,2) */
static void test_unsorted_extents(void **state)
{
	struct broken b;

	(void)state;
	break_copy(img_4k, "b-unsorted.img", "/four", &b);
	tu_patch_le32(b.img, b.root + 12 + 2 * 12, 0); /* extent 2 at lblk 0 */
	tu_fix_inode_csum(b.img, b.ino);
	expect_map_error(&b, 0, -EUCLEAN, E4_RULE_EX4, 0);
}

static void test_overlapping_extents(void **state)
{
	struct broken b;

	(void)state;
	break_copy(img_4k, "b-overlap.img", "/four", &b);
	tu_patch_le32(b.img, b.root + 12 + 1 * 12, 1); /* extent 1 at lblk 1 */
	tu_fix_inode_csum(b.img, b.ino);
	expect_map_error(&b, 0, -EUCLEAN, E4_RULE_EX4, 0);
}

static void test_zero_length(void **state)
{
	struct broken b;

	(void)state;
	break_copy(img_4k, "b-len0.img", "/four", &b);
	patch_root(&b, 12 + 4, 0);
	expect_map_error(&b, 0, -EUCLEAN, E4_RULE_EX5, 0);
}

static void test_start_beyond_fs(void **state)
{
	struct broken b;
	struct e4_fs *fs;
	struct e4_fs_info info;

	(void)state;
	assert_int_equal(tu_open(img_4k, &fs), 0);
	e4_fs_get_info(fs, &info);
	tu_close(fs);
	break_copy(img_4k, "b-start.img", "/four", &b);
	tu_patch_le32(b.img, b.root + 12 + 8, (uint32_t)info.blocks_count + 5);
	tu_fix_inode_csum(b.img, b.ino);
	expect_map_error(&b, 0, -EUCLEAN, E4_RULE_EX6, 0);
}

static void test_start_hi_without_64bit(void **state)
{
	struct broken b;

	(void)state;
	break_copy(img_no64, "b-hi.img", "/four", &b);
	patch_root(&b, 12 + 6, 1);
	expect_map_error(&b, 0, -EUCLEAN, E4_RULE_EX6, 0);
}

static void test_logical_end_overflow(void **state)
{
	struct broken b;

	(void)state;
	break_copy(img_4k, "b-lend.img", "/four", &b);
	/* last extent (2 blocks) starting at 2^32 - 2 ends past 2^32 - 1 */
	tu_patch_le32(b.img, b.root + 12 + 3 * 12, 0xFFFFFFFEu);
	tu_fix_inode_csum(b.img, b.ino);
	expect_map_error(&b, 0, -EUCLEAN, E4_RULE_EX4, 0);
}

/* Recompute the tail checksum of extent block @blk (§5.5) after a patch:
 * the extent row's setter. */
static void fix_block_csum(const char *img, uint32_t ino, uint64_t blk)
{
	tu_fix_owned_csum(img, blk, &e4_bops_extent, ino, 0);
}

static void test_block_bad_magic(void **state)
{
	struct broken b;
	uint64_t child;

	(void)state;
	break_copy(img_4k, "b-bmagic.img", "/frag", &b);
	child = first_child(&b);
	tu_patch_le16(b.img, child * 4096, 0x0000);
	expect_map_error(&b, 0, -EUCLEAN, E4_RULE_EX1, child);
}

static void test_block_bad_checksum(void **state)
{
	struct broken b;
	uint64_t child;
	uint32_t tail;

	(void)state;
	break_copy(img_4k, "b-bcsum.img", "/frag", &b);
	child = first_child(&b);
	tail = tu_peek_le32(b.img, child * 4096 + 12 + 12 * 340);
	tu_patch_le32(b.img, child * 4096 + 12 + 12 * 340, tail ^ 1);

	/* E4_CSUM_ACCEPT (fuzzing) maps through the bad checksum */
	{
		struct e4_open_opts opts = { .read_only = true,
					     .csum = E4_CSUM_ACCEPT };
		struct e4_fs *fs;
		struct e4_inode inode;
		struct e4_mapping m;

		assert_int_equal(tu_open_opts(b.img, &opts, &fs), 0);
		assert_int_equal(e4_inode_read(fs, b.ino, &inode), 0);
		assert_int_equal(e4_map_block(fs, &inode, 0, &m), 0);
		assert_int_equal(m.kind, E4_MAP_MAPPED);
		assert_int_equal(m.pblk, tu_bmap(img_4k, "/frag", 0));
		tu_close(fs);
	}
	expect_map_error(&b, 0, -EUCLEAN, E4_RULE_EX7, child);
	/* one phrasing for every checksum mismatch */
	tu_assert_log(tu_msg("corrupt: inode %u: extent block %llu: checksum 0x%08x, computed 0x%08x [EX7]",
			     b.ino, (unsigned long long)child, tail ^ 1, tail));
}

/* A corrupted eh_max in a tree block changes the checksummed range. */
static void test_block_entries_over_max(void **state)
{
	struct broken b;
	uint64_t child;

	(void)state;
	break_copy(img_4k, "b-bentries.img", "/frag", &b);
	child = first_child(&b);
	tu_patch_le16(b.img, child * 4096 + 4, 341);
	expect_map_error(&b, 0, -EUCLEAN, E4_RULE_EX2, child);
}

/* The root's key for the leaf above the leaf's first key (EX8). */
static void test_child_key_below_index(void **state)
{
	struct broken b;
	uint64_t child;

	(void)state;
	break_copy(img_4k, "b-ex8.img", "/frag", &b);
	child = first_child(&b);
	tu_patch_le32(b.img, b.root + 12, 1);
	tu_fix_inode_csum(b.img, b.ino);
	expect_map_error(&b, 2, -EUCLEAN, E4_RULE_EX8, child);
}

/* An index block whose only entry points at itself. */
static void test_index_loop(void **state)
{
	struct broken b;
	uint64_t child;

	(void)state;
	break_copy(img_4k, "b-loop.img", "/frag", &b);
	child = first_child(&b);
	tu_patch_le16(b.img, child * 4096 + 2, 1);		/* entries */
	tu_patch_le16(b.img, child * 4096 + 6, 1);		/* depth */
	tu_patch_le32(b.img, child * 4096 + 12, 0);		/* ei_block */
	tu_patch_le32(b.img, child * 4096 + 16, (uint32_t)child);
	tu_patch_le32(b.img, child * 4096 + 20, 0);		/* hi, unused */
	fix_block_csum(b.img, b.ino, child);
	patch_root(&b, 6, 2);
	expect_map_error(&b, 0, -EUCLEAN, E4_RULE_EX7, child);
}

/* A leaf block with unsorted extents behind a valid checksum. */
static void test_block_unsorted(void **state)
{
	struct broken b;
	uint64_t child;

	(void)state;
	break_copy(img_4k, "b-bunsorted.img", "/frag", &b);
	child = first_child(&b);
	/* extent 5 (lblk 10) moved to lblk 3, below extent 4 (lblk 8) */
	tu_patch_le32(b.img, child * 4096 + 12 + 5 * 12, 3);
	fix_block_csum(b.img, b.ino, child);
	expect_map_error(&b, 0, -EUCLEAN, E4_RULE_EX4, child);
}

/* Devices, fifos and sockets have no mapping; fast symlinks neither. */
static void test_unmapped_types(void **state)
{
	char *img;
	struct e4_fs *fs;
	struct e4_inode inode;
	struct e4_mapping m;

	(void)state;
	img = tu_copy(img_4k, "types.img");
	tu_debugfs(img, "mknod fifo p");
	tu_debugfs(img, "symlink fast small");
	assert_int_equal(tu_open(img, &fs), 0);
	mu_inode(fs, img, "/fifo", &inode);
	assert_int_equal(e4_map_block(fs, &inode, 0, &m), -EINVAL);
	mu_inode(fs, img, "/fast", &inode);
	if (!(inode.flags & (E4_EXTENTS_FL | E4_INLINE_DATA_FL)))
		assert_int_equal(e4_map_block(fs, &inode, 0, &m), -EINVAL);
	tu_close(fs);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_4k),
		cmocka_unit_test(test_map_1k_depth2),
		cmocka_unit_test(test_map_64k),
		cmocka_unit_test(test_map_bigalloc),
		cmocka_unit_test(test_hole_lengths),
		cmocka_unit_test(test_unwritten),
		cmocka_unit_test(test_root_bad_magic),
		cmocka_unit_test(test_root_entries_over_max),
		cmocka_unit_test(test_root_max_over_capacity),
		cmocka_unit_test(test_root_small_max_ok),
		cmocka_unit_test(test_root_depth6),
		cmocka_unit_test(test_child_depth_mismatch),
		cmocka_unit_test(test_unsorted_extents),
		cmocka_unit_test(test_overlapping_extents),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_start_beyond_fs),
		cmocka_unit_test(test_start_hi_without_64bit),
		cmocka_unit_test(test_logical_end_overflow),
		cmocka_unit_test(test_block_bad_magic),
		cmocka_unit_test(test_block_bad_checksum),
		cmocka_unit_test(test_block_entries_over_max),
		cmocka_unit_test(test_child_key_below_index),
		cmocka_unit_test(test_index_loop),
		cmocka_unit_test(test_block_unsorted),
		cmocka_unit_test(test_unmapped_types),
	};

	return cmocka_run_group_tests(tests, make_images, NULL);
}
