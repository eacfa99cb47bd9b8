/* SPDX-License-Identifier: MIT */
/*
 * Superblock, group descriptors and inode records: real images from
 * mkfs.ext4, broken one field at a time; each break must give its own
 * errno and a log line naming the object and the rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ondisk/ondisk.h"
#include "testutil.h"

#define SB E4_SB_OFFSET

static char *base4k;	/* mkfs.ext4 defaults (metadata_csum, 64bit) */
static char *base_gdtcsum;	/* uninit_bg, no metadata_csum */

static int setup(void **state)
{
	(void)state;
	base4k = tu_mkfs("base4k.img", "-b 4096", NULL, "64M");
	base_gdtcsum = tu_mkfs("gdtcsum.img", "-b 1024 -O ^metadata_csum,uninit_bg", NULL, "32M");
	return 0;
}

/* The open fails with @err, reporting @rule about @obj. */
static void expect_open_fails(const char *img, int err, enum e4_rule rule,
			      struct e4_object obj)
{
	struct e4_fs *fs = NULL;
	tu_log_clear();
	int r = tu_open(img, &fs);
	if (r == 0)
		tu_close(fs);
	assert_int_equal(r, err);
	tu_assert_rule(rule, obj);
}

static void test_open_clean(void **state)
{
	(void)state;
	struct e4_fs *fs;
	struct e4_fs_info info;
	struct e4_inode root;

	assert_int_equal(tu_open(base4k, &fs), 0);
	e4_fs_get_info(fs, &info);
	assert_int_equal(info.block_size, 4096);
	assert_int_equal(info.blocks_count, 16384);
	assert_true(info.feature_ro_compat & E4_RO_COMPAT_METADATA_CSUM);
	assert_int_equal(e4_inode_read(fs, E4_ROOT_INO, &root), 0);
	assert_true(e4_inode_is_dir(&root));
	assert_int_equal(root.links, 3);	/* ., .., lost+found/.. */
	assert_int_equal(e4_inode_read(fs, 0, &root), -EINVAL);
	assert_int_equal(e4_inode_read(fs, info.inodes_count + 1, &root), -EINVAL);
	assert_int_equal(e4_inode_read(fs, info.inodes_count - 1, &root), -ENOENT);
	tu_close(fs);
}

static void test_bad_magic(void **state)
{
	(void)state;
	char *img = tu_copy(base4k, "magic.img");
	tu_patch_le16(img, SB + E4_SB_MAGIC_OFF, 0x1234);
	expect_open_fails(img, -EINVAL, E4_RULE_SB1, e4_obj_fs());
	/* a refusal says why in words */
	tu_assert_log("not an ext2/ext3/ext4 file system (superblock magic 0x1234");
	free(img);
}

static void test_not_a_filesystem(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof(path), "%s/zeros.img", tu_tmpdir());
	tu_sh("head -c 1M /dev/zero > '%s'", path);
	expect_open_fails(path, -EINVAL, E4_RULE_SB1, e4_obj_fs());
	snprintf(path, sizeof(path), "%s/tiny.img", tu_tmpdir());
	tu_sh("head -c 1500 /dev/zero > '%s'", path);
	expect_open_fails(path, -EINVAL, E4_RULE_L10, e4_obj_fs());
	tu_assert_log("image too small (1500 bytes)");
}

static void test_bad_sb_checksum(void **state)
{
	(void)state;
	char *img = tu_copy(base4k, "sbcsum.img");
	/* change the volume name without fixing the checksum */
	tu_patch(img, SB + E4_SB_VOLUME_NAME, "evil", 4);
	expect_open_fails(img, -EUCLEAN, E4_RULE_SB2, e4_obj_superblock());

	/* compute-but-accept lets it through */
	struct e4_open_opts o = {.read_only = true, .csum = E4_CSUM_ACCEPT};
	struct e4_fs *fs;
	tu_log_clear();
	assert_int_equal(tu_open_opts(img, &o, &fs), 0);
	tu_assert_rule(E4_RULE_SB2, e4_obj_superblock());
	tu_assert_log("checksum accepted: superblock: checksum 0x");
	tu_close(fs);
	free(img);
}

static void test_unknown_incompat(void **state)
{
	(void)state;
	char *img = tu_copy(base4k, "incompat.img");
	uint32_t inc = tu_peek_le32(img, SB + E4_SB_FEATURE_INCOMPAT);
	tu_patch_le32(img, SB + E4_SB_FEATURE_INCOMPAT, inc | 0x800000);
	tu_fix_sb_csum(img);
	expect_open_fails(img, -EOPNOTSUPP, E4_RULE_SB3, e4_obj_fs());
	tu_assert_log("unsupported incompatible feature: 0x800000");

	tu_patch_le32(img, SB + E4_SB_FEATURE_INCOMPAT, inc | E4_INCOMPAT_COMPRESSION);
	tu_fix_sb_csum(img);
	expect_open_fails(img, -EOPNOTSUPP, E4_RULE_SB3, e4_obj_fs());
	tu_assert_log("unsupported incompatible feature: compression [SB3]");

	/* casefold is supported with the one encoding there is (SB10) */
	tu_patch_le32(img, SB + E4_SB_FEATURE_INCOMPAT, inc | E4_INCOMPAT_CASEFOLD);
	tu_fix_sb_csum(img);
	expect_open_fails(img, -EOPNOTSUPP, E4_RULE_SB10, e4_obj_fs());
	tu_assert_log("unsupported casefold encoding 0 (flags 0x0) [SB10]");
	tu_patch_le16(img, SB + E4_SB_ENCODING, E4_ENCODING_UTF8_12_1);
	tu_patch_le16(img, SB + E4_SB_ENCODING_FLAGS, 2);
	tu_fix_sb_csum(img);
	expect_open_fails(img, -EOPNOTSUPP, E4_RULE_SB10, e4_obj_fs());
	tu_assert_log("unsupported casefold encoding 1 (flags 0x2) [SB10]");
	tu_patch_le16(img, SB + E4_SB_ENCODING_FLAGS, E4_ENCODING_FLAG_STRICT);
	tu_fix_sb_csum(img);
	{
		struct e4_fs *fs = NULL;

		assert_int_equal(tu_open(img, &fs), 0);
		tu_close(fs);
	}
	tu_patch_le16(img, SB + E4_SB_ENCODING, 0);
	tu_patch_le16(img, SB + E4_SB_ENCODING_FLAGS, 0);

	tu_patch_le32(img, SB + E4_SB_FEATURE_INCOMPAT, inc | E4_INCOMPAT_JOURNAL_DEV);
	tu_fix_sb_csum(img);
	expect_open_fails(img, -EINVAL, E4_RULE_SB12, e4_obj_fs());
	tu_assert_log("external journal device");
	free(img);
}

static void test_unknown_ro_compat(void **state)
{
	(void)state;
	char *img = tu_copy(base4k, "rocompat.img");
	uint32_t ro = tu_peek_le32(img, SB + E4_SB_FEATURE_RO_COMPAT);
	tu_patch_le32(img, SB + E4_SB_FEATURE_RO_COMPAT, ro | 0x400000);
	tu_fix_sb_csum(img);
	struct e4_fs *fs;
	struct e4_fs_info info;
	tu_log_clear();
	assert_int_equal(tu_open(img, &fs), 0);
	tu_assert_rule(E4_RULE_SB3, e4_obj_fs());
	tu_assert_log("unknown read-only-compatible feature: 0x400000: read-only");
	e4_fs_get_info(fs, &info);
	assert_true(info.read_only_forced);
	tu_close(fs);
	free(img);
}

static void test_bad_geometry(void **state)
{
	(void)state;
	char *img = tu_copy(base4k, "geom.img");
	tu_patch_le32(img, SB + E4_SB_LOG_BLOCK_SIZE, 7);
	tu_fix_sb_csum(img);
	expect_open_fails(img, -EUCLEAN, E4_RULE_L1, e4_obj_superblock());
	free(img);

	img = tu_copy(base4k, "geom2.img");
	uint32_t ic = tu_peek_le32(img, SB + E4_SB_INODES_COUNT);
	tu_patch_le32(img, SB + E4_SB_INODES_COUNT, ic + 8);
	tu_fix_sb_csum(img);
	expect_open_fails(img, -EUCLEAN, E4_RULE_L5, e4_obj_superblock());
	free(img);

	img = tu_copy(base4k, "geom3.img");
	tu_patch_le32(img, SB + E4_SB_INODES_PER_GROUP, 0);
	tu_fix_sb_csum(img);
	expect_open_fails(img, -EUCLEAN, E4_RULE_L4, e4_obj_superblock());
	free(img);

	img = tu_copy(base4k, "geom4.img");
	tu_patch_le16(img, SB + E4_SB_INODE_SIZE, 384);
	tu_fix_sb_csum(img);
	expect_open_fails(img, -EUCLEAN, E4_RULE_SB5, e4_obj_superblock());
	free(img);

	img = tu_copy(base4k, "geom5.img");
	tu_patch_le16(img, SB + E4_SB_DESC_SIZE, 48);
	tu_fix_sb_csum(img);
	expect_open_fails(img, -EUCLEAN, E4_RULE_SB6, e4_obj_superblock());
	free(img);
}

static void test_truncated_image(void **state)
{
	(void)state;
	char *img = tu_copy(base4k, "trunc.img");
	tu_sh("truncate -s 40M '%s'", img);
	expect_open_fails(img, -EIO, E4_RULE_L10, e4_obj_fs());
	tu_assert_log("image is truncated: 41943040 bytes, but the file system needs 16384 blocks");
	free(img);
}

static void test_needs_recovery(void **state)
{
	(void)state;
	char *img = tu_copy(base4k, "recover.img");
	uint32_t inc = tu_peek_le32(img, SB + E4_SB_FEATURE_INCOMPAT);
	tu_patch_le32(img, SB + E4_SB_FEATURE_INCOMPAT, inc | E4_INCOMPAT_RECOVER);
	tu_fix_sb_csum(img);

	/* needs_recovery with an empty log: nothing to replay */
	struct e4_fs *fs;
	tu_log_clear();
	assert_int_equal(tu_open(img, &fs), 0);
	tu_assert_log("journal: log is empty, nothing to replay");
	tu_close(fs);

	/* a broken journal superblock refuses the open, naming the reason */
	char *out = tu_debugfs_out(img, "bmap <8> 0");
	unsigned long long jsb = strtoull(out, NULL, 10);
	free(out);
	tu_patch_le32(img, jsb * 4096, 0x12345678);
	expect_open_fails(img, -EUCLEAN, E4_RULE_J1,
			  e4_obj(E4_OBJ_JOURNAL_SB, 0, 0, 0));
	tu_assert_log("journal replay failed; the image was not changed");

	/* norecovery reads the unreplayed image, with a warning */
	struct e4_open_opts o = {.read_only = true, .norecovery = true};
	tu_log_clear();
	assert_int_equal(tu_open_opts(img, &o, &fs), 0);
	tu_assert_log("norecovery: the journal is not replayed");
	tu_close(fs);
	free(img);
}

static void test_bad_desc_checksum(void **state)
{
	(void)state;
	const char *bases[] = {base4k, base_gdtcsum};
	for (int i = 0; i < 2; i++) {
		char name[32];
		snprintf(name, sizeof(name), "gd%d.img", i);
		char *img = tu_copy(bases[i], name);
		uint32_t bs = tu_block_size(img);
		uint64_t gdt = (bs == 1024 ? 2 : 1) * (uint64_t)bs;
		/* flip a bit of group 0's free-inodes count */
		uint16_t v = tu_peek_le16(img, gdt + E4_GD_FREE_INODES_LO);
		tu_patch_le16(img, gdt + E4_GD_FREE_INODES_LO, v ^ 1);

		struct e4_fs *fs;
		struct e4_inode root;
		tu_log_clear();
		assert_int_equal(tu_open(img, &fs), 0);	/* lazy: opens */
		assert_int_equal(e4_inode_read(fs, E4_ROOT_INO, &root), -EUCLEAN);
		tu_assert_rule(E4_RULE_GD1, e4_obj_group(0));
		tu_close(fs);
		free(img);
	}
}

static void test_desc_out_of_range(void **state)
{
	(void)state;
	char *img = tu_copy(base_gdtcsum, "gdrange.img");
	uint64_t gdt = 2 * 1024;
	tu_patch_le32(img, gdt + E4_GD_INODE_TABLE_LO, 0x7FFFFFF0);
	tu_debugfs(img, "set_bg 0 checksum calc");
	struct e4_fs *fs;
	struct e4_inode root;
	tu_log_clear();
	assert_int_equal(tu_open(img, &fs), 0);
	assert_int_equal(e4_inode_read(fs, E4_ROOT_INO, &root), -EUCLEAN);
	tu_assert_rule(E4_RULE_GD2, e4_obj_group(0));
	tu_close(fs);
	free(img);
}

static void test_bad_inode(void **state)
{
	(void)state;
	char *img = tu_copy(base4k, "inode.img");
	uint64_t off = tu_inode_offset(img, E4_ROOT_INO);
	struct e4_fs *fs;
	struct e4_inode in;

	/* checksum */
	uint16_t mode = tu_peek_le16(img, off + E4_I_MODE);
	tu_patch_le16(img, off + E4_I_UID, 4242);
	tu_log_clear();
	assert_int_equal(tu_open(img, &fs), 0);
	assert_int_equal(e4_inode_read(fs, E4_ROOT_INO, &in), -EUCLEAN);
	tu_assert_rule(E4_RULE_IN2, e4_obj_inode(E4_ROOT_INO));
	tu_close(fs);

	/* invalid type, checksum fixed so the structural check speaks */
	tu_patch_le16(img, off + E4_I_MODE, (uint16_t)((mode & 0x0FFF) | 0xE000));
	tu_fix_inode_csum(img, E4_ROOT_INO);
	tu_log_clear();
	assert_int_equal(tu_open(img, &fs), 0);
	assert_int_equal(e4_inode_read(fs, E4_ROOT_INO, &in), -EUCLEAN);
	tu_assert_rule(E4_RULE_IN4, e4_obj_inode(E4_ROOT_INO));
	tu_close(fs);

	/* extra_isize not a multiple of 4 */
	tu_patch_le16(img, off + E4_I_MODE, mode);
	tu_patch_le16(img, off + E4_I_EXTRA_ISIZE, 6);
	tu_fix_inode_csum(img, E4_ROOT_INO);
	tu_log_clear();
	assert_int_equal(tu_open(img, &fs), 0);
	assert_int_equal(e4_inode_read(fs, E4_ROOT_INO, &in), -EUCLEAN);
	tu_assert_rule(E4_RULE_IN3, e4_obj_inode(E4_ROOT_INO));
	tu_close(fs);

	/* extents and inline data together */
	tu_patch_le16(img, off + E4_I_EXTRA_ISIZE, 32);
	uint32_t flags = tu_peek_le32(img, off + E4_I_FLAGS);
	tu_patch_le32(img, off + E4_I_FLAGS, flags | E4_INLINE_DATA_FL);
	tu_fix_inode_csum(img, E4_ROOT_INO);
	tu_log_clear();
	assert_int_equal(tu_open(img, &fs), 0);
	assert_int_equal(e4_inode_read(fs, E4_ROOT_INO, &in), -EUCLEAN);
	tu_assert_rule(E4_RULE_IN7, e4_obj_inode(E4_ROOT_INO));
	tu_close(fs);
	free(img);
}

static void test_timestamps(void **state)
{
	(void)state;
	struct e4_time t;
	/* §4.9 worked examples */
	t = e4_time_decode(0xF4865700u, 0x1D6F3455u, true);
	assert_int_equal(t.sec, 4102444800LL);	/* 2100-01-01 */
	assert_int_equal(t.nsec, 123456789);
	t = e4_time_decode(0xEDF86C80u, 0x77359400u, true);
	assert_int_equal(t.sec, -302486400LL);	/* 1960-06-01 */
	assert_int_equal(t.nsec, 500000000);
	t = e4_time_decode(0xEDF86C80u, 0, false);
	assert_int_equal(t.sec, -302486400LL);
}

/* Open (superblock only) plus the root inode: the first descriptor, bitmap
 * and inode-table block.  Returns milliseconds. */
static double time_open(const char *path)
{
	struct timespec a, b;
	struct e4_fs *fs;
	struct e4_inode root;

	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(tu_open(path, &fs), 0);
	assert_int_equal(e4_inode_read(fs, E4_ROOT_INO, &root), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	tu_close(fs);
	return (double)(b.tv_sec - a.tv_sec) * 1e3 +
	       (double)(b.tv_nsec - a.tv_nsec) / 1e6;
}

static void test_4tib_opens_like_4gib(void **state)
{
	(void)state;
	/* Opening reads no descriptors, bitmaps or inodes, so a sparse 4 TiB
	 * image (32768 groups) opens as fast as a 4 GiB one (32 groups). */
	const char *sizes[] = {"4G", "4T"};
	double ms[2];
	for (int i = 0; i < 2; i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/open-%s.img", tu_tmpdir(), sizes[i]);
		tu_sh("truncate -s %s '%s' && mkfs.ext4 -q -F -E lazy_itable_init=1,nodiscard -O ^has_journal '%s' >/dev/null 2>&1",
		      sizes[i], path, path);
		double best = 1e9;
		for (int r = 0; r < 5; r++) {
			tu_sh("echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true");
			double t = time_open(path);
			if (t < best)
				best = t;
		}
		ms[i] = best;
		tu_sh("rm -f '%s'", path);
	}
	print_message("open + root inode, cold cache, best of 5: 4 GiB %.3f ms, 4 TiB %.3f ms\n",
		      ms[0], ms[1]);
	/* A per-group walk at open would cost 1000x more groups; allow noise. */
	assert_true(ms[1] < 10 * ms[0] + 5.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_clean),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_not_a_filesystem),
		cmocka_unit_test(test_bad_sb_checksum),
		cmocka_unit_test(test_unknown_incompat),
		cmocka_unit_test(test_unknown_ro_compat),
		cmocka_unit_test(test_bad_geometry),
		cmocka_unit_test(test_truncated_image),
		cmocka_unit_test(test_needs_recovery),
		cmocka_unit_test(test_bad_desc_checksum),
		cmocka_unit_test(test_desc_out_of_range),
		cmocka_unit_test(test_bad_inode),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_4tib_opens_like_4gib),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
