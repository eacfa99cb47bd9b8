/* SPDX-License-Identifier: MIT */
/*
 * Legacy block maps (spec §6): ext2/ext3 images from mkfs -d with files
 * reaching the direct, single, double and triple indirect ranges, compared
 * with debugfs bmap and the source files; holes of whole subtrees; corrupt
 * pointers at each level with their exact errno and log line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ondisk/ondisk.h"
#include "testutil.h"
#include "maputil.h"

/* Last logical block + 1 of a 1K-block map: 12 + 256 + 256^2 + 256^3. */
#define BM_END_1K 16843020ull

static char srcdir[512];
static char *img_ext3, *img_ext2, *img_ext2_4k;

/* The §6.1 example: blocks at the edges of every range on 1K blocks. */
static const uint64_t sparse_blocks[] = {
	0, 11, 12, 267, 268, 65803, 65804, 70000,
};
#define N_SPARSE (sizeof(sparse_blocks) / sizeof(sparse_blocks[0]))

static char *mkfs_legacy(const char *tool, const char *name, const char *args)
{
	char *img = NULL;

	if (asprintf(&img, "%s/%s", tu_tmpdir(), name) < 0)
		fail_msg("oom");
	tu_sh("%s -q -F %s -d '%s' '%s' 64M >/dev/null 2>&1", tool, args,
	      srcdir, img);
	return img;
}

static int make_images(void **state)
{
	int fd;

	(void)state;
	snprintf(srcdir, sizeof(srcdir), "%s/src", tu_tmpdir());
	tu_sh("mkdir -p '%s'", srcdir);

	fd = mu_create(srcdir, "sparse");
	for (size_t i = 0; i < N_SPARSE; i++)
		mu_write(fd, sparse_blocks[i] * 1024, 1024);
	mu_finish(fd, (sparse_blocks[N_SPARSE - 1] + 1) * 1024);
	/* direct, single and into the double indirect range */
	mu_make_contiguous(srcdir, "contig", 400 * 1024 + 17);
	mu_make_alternating(srcdir, "frag", 4096, 200);
	mu_make_contiguous(srcdir, "small", 100);
	mu_make_contiguous(srcdir, "empty", 0);
	/* data crossing from the double into the triple range (1K) */
	fd = mu_create(srcdir, "triple");
	mu_write(fd, 65500 * 1024ull, 600 * 1024);
	mu_finish(fd, 66100 * 1024ull);

	img_ext3 = mkfs_legacy("mkfs.ext3", "ext3-1k.img", "-b 1024");
	img_ext2 = mkfs_legacy("mkfs.ext2", "ext2-1k.img", "-b 1024");
	img_ext2_4k = mkfs_legacy("mkfs.ext2", "ext2-4k.img", "-b 4096");
	return 0;
}

static const char *const files[] = {
	"sparse", "contig", "frag", "small", "empty", "triple",
};

static void check_image(const char *img)
{
	struct e4_fs *fs;

	assert_int_equal(tu_open(img, &fs), 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct e4_inode inode;
		char path[64], host[1024];

		snprintf(path, sizeof(path), "/%s", files[i]);
		snprintf(host, sizeof(host), "%s/%s", srcdir, files[i]);
		mu_inode(fs, img, path, &inode);
		assert_false(inode.flags & E4_EXTENTS_FL);
		mu_check_map(fs, &inode, img, path, false);
		mu_check_content(fs, &inode, host);
	}
	tu_close(fs);
}

static void test_ext3_1k(void **state)
{
	(void)state;
	check_image(img_ext3);
}

static void test_ext2_1k(void **state)
{
	(void)state;
	check_image(img_ext2);
}

static void test_ext2_4k(void **state)
{
	(void)state;
	check_image(img_ext2_4k);
}

static void expect_run(struct e4_fs *fs, const struct e4_inode *inode,
		       uint64_t lblk, enum e4_map_kind kind, uint64_t len)
{
	struct e4_mapping m;
	int ret = e4_map_block(fs, inode, lblk, &m);

	if (ret != 0)
		fail_msg("map %llu: %d\n%s", (unsigned long long)lblk, ret,
			 tu_log());
	assert_int_equal(m.lblk, lblk);
	if (m.kind != kind || m.len != len)
		fail_msg("map %llu: kind %d len %llu, expected kind %d len %llu",
			 (unsigned long long)lblk, m.kind,
			 (unsigned long long)m.len, kind,
			 (unsigned long long)len);
}

static bool is_sparse_data(uint64_t blk)
{
	for (size_t i = 0; i < N_SPARSE; i++)
		if (sparse_blocks[i] == blk)
			return true;
	return false;
}

/* Expected lseek results on "sparse" at 1K granularity. */
static void check_seek_1k(struct e4_fs *fs, const struct e4_inode *inode,
			  uint64_t off)
{
	uint64_t size = inode->size, res, blk;
	int want_data_err = -ENXIO, ret;
	uint64_t want_data = 0, want_hole;

	if (off < size) {
		for (blk = off / 1024; blk * 1024 < size; blk++) {
			if (is_sparse_data(blk)) {
				want_data_err = 0;
				want_data = blk * 1024 > off ? blk * 1024 : off;
				break;
			}
		}
	}
	ret = e4_file_seek(fs, inode, off, E4_SEEK_DATA, &res);
	assert_int_equal(ret, want_data_err);
	if (ret == 0)
		assert_int_equal(res, want_data);

	ret = e4_file_seek(fs, inode, off, E4_SEEK_HOLE, &res);
	if (off >= size) {
		assert_int_equal(ret, -ENXIO);
		return;
	}
	for (blk = off / 1024; is_sparse_data(blk); blk++)
		;
	want_hole = blk * 1024 > off ? blk * 1024 : off;
	if (want_hole > size)
		want_hole = size;
	assert_int_equal(ret, 0);
	assert_int_equal(res, want_hole);
}

/* Every block of the example maps to what debugfs says, and holes span
 * whole zero subtrees up to the next mapped block. */
static void test_sparse_ranges(void **state)
{
	struct e4_fs *fs;
	struct e4_inode inode;
	struct e4_mapping m;

	(void)state;
	assert_int_equal(tu_open(img_ext3, &fs), 0);
	mu_inode(fs, img_ext3, "/sparse", &inode);
	for (size_t i = 0; i < N_SPARSE; i++) {
		assert_int_equal(e4_map_block(fs, &inode, sparse_blocks[i], &m),
				 0);
		assert_int_equal(m.kind, E4_MAP_MAPPED);
		assert_int_equal(m.pblk,
				 tu_bmap(img_ext3, "/sparse", sparse_blocks[i]));
	}
	assert_true(inode.i_block[14 * 4] | inode.i_block[14 * 4 + 1] |
		    inode.i_block[14 * 4 + 2] | inode.i_block[14 * 4 + 3]);
	expect_run(fs, &inode, 1, E4_MAP_HOLE, 10);		/* direct */
	expect_run(fs, &inode, 13, E4_MAP_HOLE, 254);		/* single */
	expect_run(fs, &inode, 269, E4_MAP_HOLE, 65803 - 269);	/* double */
	expect_run(fs, &inode, 65805, E4_MAP_HOLE, 70000 - 65805); /* triple */
	expect_run(fs, &inode, 70001, E4_MAP_HOLE, BM_END_1K - 70001);
	assert_int_equal(e4_map_block(fs, &inode, BM_END_1K, &m), -EINVAL);

	/* SEEK_DATA/SEEK_HOLE at the 1K layout (finer than the source's) */
	for (size_t i = 0; i < N_SPARSE; i++) {
		for (int d = -1; d <= 1025; d += 513) {
			int64_t at = (int64_t)sparse_blocks[i] * 1024 + d;

			if (at >= 0)
				check_seek_1k(fs, &inode, (uint64_t)at);
		}
	}
	for (uint64_t at = 0; at < inode.size + 3000; at += 70001)
		check_seek_1k(fs, &inode, at);
	tu_close(fs);
}

/* Runs of consecutive pointers come back as one mapping. */
static void test_contiguous_runs(void **state)
{
	struct e4_fs *fs;
	struct e4_inode inode;
	struct e4_mapping m;
	uint64_t p0 = tu_bmap(img_ext2_4k, "/contig", 0);

	(void)state;
	assert_int_equal(tu_open(img_ext2_4k, &fs), 0);
	mu_inode(fs, img_ext2_4k, "/contig", &inode);
	assert_int_equal(e4_map_block(fs, &inode, 0, &m), 0);
	assert_int_equal(m.kind, E4_MAP_MAPPED);
	assert_int_equal(m.pblk, p0);
	/* mke2fs lays the 12 direct blocks out contiguously */
	if (tu_bmap(img_ext2_4k, "/contig", 11) == p0 + 11)
		assert_int_equal(m.len, 12);
	assert_int_equal(e4_map_block(fs, &inode, 12, &m), 0);
	assert_int_equal(m.kind, E4_MAP_MAPPED);
	assert_true(m.len > 1);
	tu_close(fs);
}

/* ---- corrupt pointers ----------------------------------------------- */

struct broken {
	char *img;
	uint32_t ino;
	uint64_t iblock;	/* byte offset of i_block */
	uint64_t blocks_count;
};

static void break_copy(const char *name, struct broken *b)
{
	struct e4_fs *fs;
	struct e4_fs_info info;

	b->img = tu_copy(img_ext3, name);
	b->ino = tu_ino_of(b->img, "/sparse");
	b->iblock = tu_inode_offset(b->img, b->ino) + E4_I_BLOCK;
	assert_int_equal(tu_open(b->img, &fs), 0);
	e4_fs_get_info(fs, &info);
	tu_close(fs);
	b->blocks_count = info.blocks_count;
}

/* Map @lblk: BM1 broken in @obj (i_block: e4_obj_indirect(ino, 0, 0)). */
static void expect_error(struct broken *b, uint64_t lblk, struct e4_object obj)
{
	mu_expect_map_error(b->img, b->ino, lblk, -EUCLEAN, E4_RULE_BM1, obj);
	free(b->img);
}


static void test_direct_pointer_beyond_fs(void **state)
{
	struct broken b;

	(void)state;
	break_copy("b-direct.img", &b);
	tu_patch_le32(b.img, b.iblock + 11 * 4, (uint32_t)b.blocks_count + 1);
	expect_error(&b, 11, e4_obj_indirect(b.ino, 0, 0));
	/* the message still says which slot */
	tu_assert_log(tu_msg("inode %u: i_block[11] (direct): block %llu outside the file system",
			     b.ino, (unsigned long long)b.blocks_count + 1));
}

static void test_triple_slot_beyond_fs(void **state)
{
	struct broken b;

	(void)state;
	break_copy("b-tind.img", &b);
	tu_patch_le32(b.img, b.iblock + 14 * 4, (uint32_t)b.blocks_count);
	expect_error(&b, 70000, e4_obj_indirect(b.ino, 0, 0));
}

/* Block 70000 = TIND[0] -> [16] -> [100] on 1K blocks. */
static void test_triple_range_pointers(void **state)
{
	struct broken b;
	uint32_t tind, dind, ind;

	(void)state;
	break_copy("b-tdata.img", &b);
	tind = tu_peek_le32(b.img, b.iblock + 14 * 4);
	dind = tu_peek_le32(b.img, tind * 1024ull);
	ind = tu_peek_le32(b.img, dind * 1024ull + 16 * 4);
	assert_int_equal(tu_peek_le32(b.img, ind * 1024ull + 100 * 4),
			 tu_bmap(b.img, "/sparse", 70000));
	tu_patch_le32(b.img, ind * 1024ull + 100 * 4, 0xFFFFFFF0u);
	expect_error(&b, 70000, e4_obj_indirect(b.ino, ind, 1));

	break_copy("b-tmid.img", &b);
	tu_patch_le32(b.img, tind * 1024ull, (uint32_t)b.blocks_count + 3);
	expect_error(&b, 70000, e4_obj_indirect(b.ino, tind, 3));
}

/* A corrupt pointer elsewhere in the map does not break the blocks before
 * it: the hole before it still maps (it ends where the damage is). */
static void test_damage_bounds_hole(void **state)
{
	struct broken b;
	struct e4_fs *fs;
	struct e4_inode inode;
	struct e4_mapping m;
	uint32_t dind, ind;

	(void)state;
	break_copy("b-hole.img", &b);
	/* unmap block 65803 (DIND[255][255]): the hole from 269 now runs
	 * into the triple range, whose slot is broken */
	dind = tu_peek_le32(b.img, b.iblock + 13 * 4);
	ind = tu_peek_le32(b.img, dind * 1024ull + 255 * 4);
	tu_patch_le32(b.img, ind * 1024ull + 255 * 4, 0);
	tu_patch_le32(b.img, b.iblock + 14 * 4, (uint32_t)b.blocks_count);
	assert_int_equal(tu_open(b.img, &fs), 0);
	assert_int_equal(e4_inode_read(fs, b.ino, &inode), 0);
	tu_log_clear();
	assert_int_equal(e4_map_block(fs, &inode, 269, &m), 0);
	assert_int_equal(m.kind, E4_MAP_HOLE);
	assert_int_equal(m.len, 65804 - 269);
	tu_assert_rule(E4_RULE_BM1, e4_obj_indirect(b.ino, 0, 0));
	assert_int_equal(e4_map_block(fs, &inode, 65804, &m), -EUCLEAN);
	assert_int_equal(e4_map_block(fs, &inode, 0, &m), 0);
	assert_int_equal(m.kind, E4_MAP_MAPPED);
	tu_close(fs);
	free(b.img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ext3_1k),
		cmocka_unit_test(test_ext2_1k),
		cmocka_unit_test(test_ext2_4k),
		cmocka_unit_test(test_sparse_ranges),
		cmocka_unit_test(test_contiguous_runs),
		cmocka_unit_test(test_direct_pointer_beyond_fs),
		cmocka_unit_test(test_triple_slot_beyond_fs),
		cmocka_unit_test(test_triple_range_pointers),
		cmocka_unit_test(test_damage_bounds_hole),
	};

	return cmocka_run_group_tests(tests, make_images, NULL);
}
