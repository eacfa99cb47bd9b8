/* SPDX-License-Identifier: MIT */
/*
 * Symbolic links (§10): fast, slow (extent- and block-mapped), inline
 * (debugfs-written) and a fast symlink that also owns an xattr block, on
 * images written by the kernel through loop mounts; then broken inodes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ondisk/ondisk.h"
#include "testutil.h"

static const unsigned lengths[] = { 1, 12, 59, 60, 100, 200, 1023, 4000, 4095 };
#define NLEN (sizeof(lengths) / sizeof(lengths[0]))

static char *img4k;	/* extents + inline_data, 4 KiB blocks */
static char *imgmap;	/* no extents: block-mapped slow symlinks */
static char *img1k;	/* 1 KiB blocks: targets up to 1023 bytes */
static bool have_mount;

/* Deterministic target of @n bytes: path-like, no quotes. */
static char *target(unsigned n)
{
	char *t = malloc(n + 1);

	for (unsigned i = 0; i < n; i++)
		t[i] = (i % 8 == 7) ? '/' : (char)('a' + (i * 7 + n) % 26);
	t[n] = '\0';
	return t;
}

static void make_links(const char *img, unsigned max_len, bool xattr_block)
{
	char *script = calloc(1, 65536);
	size_t len = 0;

	for (size_t i = 0; i < NLEN; i++) {
		char *t;

		if (lengths[i] > max_len)
			continue;
		t = target(lengths[i]);
		len += (size_t)snprintf(script + len, 65536 - len,
					"ln -s '%s' \"$m/l%u\" && ", t, lengths[i]);
		free(t);
	}
	if (xattr_block)
		len += (size_t)snprintf(script + len, 65536 - len,
					"ln -s '%s' \"$m/lx\" && setfattr -h -n trusted.big -v "
					"\"$(head -c 3000 /dev/zero | tr '\\0' X)\" \"$m/lx\" && ",
					"short-with-xattr");
	snprintf(script + len, 65536 - len, "true");
	tu_sh("set -e; m='%s/mnt'; mkdir -p \"$m\"; mount -o loop '%s' \"$m\"; "
	      "( %s ) || { umount \"$m\"; exit 1; }; umount \"$m\"",
	      tu_tmpdir(), img, script);
	free(script);
}

static int group_setup(void **state)
{
	(void)state;
	have_mount = tu_can_loop_mount();
	if (!have_mount)
		return 0;

	img4k = tu_mkfs("s4k.img", "-b 4096 -I 256 -O inline_data", NULL, "32M");
	make_links(img4k, 4095, true);
	/* debugfs writes inline symlinks on an inline_data file system */
	char *t = target(100);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "symlink /d100 %s", t);
	tu_debugfs(img4k, cmd);
	free(t);
	t = target(40);
	snprintf(cmd, sizeof(cmd), "symlink /d40 %s", t);
	tu_debugfs(img4k, cmd);
	free(t);

	imgmap = tu_mkfs("smap.img", "-b 4096 -O ^extents,^64bit,^huge_file", NULL, "32M");
	make_links(imgmap, 4095, false);
	img1k = tu_mkfs("s1k.img", "-b 1024", NULL, "16M");
	make_links(img1k, 1023, false);
	return 0;
}

#define NEED_MOUNT()                                \
	do {                                        \
		if (!have_mount)                    \
			tu_skip("no loop mounts");  \
	} while (0)

static void read_link(struct e4_fs *fs, const char *img, const char *path,
		      const char *want, struct e4_inode *in)
{
	char buf[4096];

	assert_int_equal(e4_inode_read(fs, tu_ino_of(img, path), in), 0);
	assert_true(e4_inode_is_symlink(in));
	ssize_t n = e4_symlink_read(fs, in, buf, sizeof(buf));
	if (n < 0)
		fail_msg("%s: %zd (%s)", path, n, tu_log());
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, (size_t)n);
}

static void check_all(const char *img, unsigned max_len, uint32_t slow_flags)
{
	struct e4_fs *fs;
	struct e4_inode in;

	assert_int_equal(tu_open(img, &fs), 0);
	for (size_t i = 0; i < NLEN; i++) {
		char path[32], *t;

		if (lengths[i] > max_len)
			continue;
		snprintf(path, sizeof(path), "/l%u", lengths[i]);
		t = target(lengths[i]);
		read_link(fs, img, path, t, &in);
		free(t);
		/* the kernel's choice of kind, which the reader had to follow */
		if (lengths[i] < 60) {
			assert_int_equal(in.flags & (E4_EXTENTS_FL | E4_INLINE_DATA_FL), 0);
			assert_int_equal(in.blocks_512, 0);
		} else {
			assert_int_equal(in.flags & (E4_EXTENTS_FL | E4_INLINE_DATA_FL),
					 slow_flags);
			assert_true(in.blocks_512 > 0);
		}
	}
	tu_close(fs);
}

static void test_extent_and_fast(void **state)
{
	(void)state;
	NEED_MOUNT();
	check_all(img4k, 4095, E4_EXTENTS_FL);
}

static void test_block_mapped(void **state)
{
	(void)state;
	NEED_MOUNT();
	check_all(imgmap, 4095, 0);
}

static void test_1k_blocks(void **state)
{
	(void)state;
	NEED_MOUNT();
	check_all(img1k, 1023, E4_EXTENTS_FL);
}

static void test_inline_symlinks(void **state)
{
	(void)state;
	NEED_MOUNT();
	struct e4_fs *fs;
	struct e4_inode in;
	char *t;

	assert_int_equal(tu_open(img4k, &fs), 0);
	t = target(100);
	read_link(fs, img4k, "/d100", t, &in);
	assert_true(in.flags & E4_INLINE_DATA_FL);
	free(t);
	t = target(40);
	read_link(fs, img4k, "/d40", t, &in);
	free(t);
	tu_close(fs);
}

static void test_fast_with_xattr_block(void **state)
{
	(void)state;
	NEED_MOUNT();
	struct e4_fs *fs;
	struct e4_inode in;

	assert_int_equal(tu_open(img4k, &fs), 0);
	read_link(fs, img4k, "/lx", "short-with-xattr", &in);
	/* i_blocks is not zero, but it is all xattr block */
	assert_int_not_equal(in.file_acl, 0);
	assert_int_equal(in.blocks_512, 8);
	tu_close(fs);
}

static void test_small_buffer(void **state)
{
	(void)state;
	NEED_MOUNT();
	struct e4_fs *fs;
	struct e4_inode in;
	char buf[100];

	assert_int_equal(tu_open(img4k, &fs), 0);
	assert_int_equal(e4_inode_read(fs, tu_ino_of(img4k, "/l100"), &in), 0);
	assert_int_equal(e4_symlink_read(fs, &in, buf, 99), -ENAMETOOLONG);
	assert_int_equal(e4_symlink_read(fs, &in, buf, 100), 100);
	/* not a symlink */
	assert_int_equal(e4_inode_read(fs, E4_ROOT_INO, &in), 0);
	assert_int_equal(e4_symlink_read(fs, &in, buf, sizeof(buf)), -EINVAL);
	tu_close(fs);
}

/* Patch inode @path of a copy of @base, fix its checksum, expect @rc and @log
 * from e4_symlink_read. */
typedef void (*patch_fn)(const char *img, uint64_t rec);

/* Break @path with @patch: reading the target gives @rc, and @rule is
 * reported broken in the symlink's inode. */
static void expect_broken(const char *base, const char *path, patch_fn patch,
			  ssize_t rc, enum e4_rule rule)
{
	char *img = tu_copy(base, "broken.img");
	uint32_t ino = tu_ino_of(img, path);
	struct e4_fs *fs;
	struct e4_inode in;
	char buf[4096];

	patch(img, tu_inode_offset(img, ino));
	tu_fix_inode_csum(img, ino);
	assert_int_equal(tu_open(img, &fs), 0);
	if (e4_inode_read(fs, ino, &in) != 0)
		fail_msg("inode %u unreadable: %s", ino, tu_log());
	tu_log_clear();
	assert_int_equal(e4_symlink_read(fs, &in, buf, sizeof(buf)), rc);
	tu_assert_rule(rule, e4_obj_inode(ino));
	tu_close(fs);
	free(img);
}

static void nul_in_fast(const char *img, uint64_t rec)
{
	tu_patch_u8(img, rec + E4_I_BLOCK + 5, 0);
}

static void nul_in_slow(const char *img, uint64_t rec)
{
	(void)rec;
	uint64_t blk = tu_bmap(img, "/l100", 0);
	tu_patch_u8(img, blk * tu_block_size(img) + 50, 0);
}

static void size_4096(const char *img, uint64_t rec)
{
	tu_patch_le32(img, rec + E4_I_SIZE_LO, 4096);
}

static void size_1024(const char *img, uint64_t rec)
{
	tu_patch_le32(img, rec + E4_I_SIZE_LO, 1024);
}

static void size_0(const char *img, uint64_t rec)
{
	tu_patch_le32(img, rec + E4_I_SIZE_LO, 0);
}

static void fast_size_60(const char *img, uint64_t rec)
{
	tu_patch_le32(img, rec + E4_I_SIZE_LO, 60);
}

static void slow_longer_than_block_data(const char *img, uint64_t rec)
{
	/* a 200-byte target claimed to be 300 bytes: the block holds zeros
	 * after the target, which the NUL rule catches */
	tu_patch_le32(img, rec + E4_I_SIZE_LO, 300);
}

static void test_broken(void **state)
{
	(void)state;
	NEED_MOUNT();
	expect_broken(img4k, "/l12", nul_in_fast, -EUCLEAN, E4_RULE_SL1);
	expect_broken(img4k, "/l100", nul_in_slow, -EUCLEAN, E4_RULE_SL1);
	expect_broken(img4k, "/l4000", size_4096, -EUCLEAN, E4_RULE_SL2);
	expect_broken(img1k, "/l1023", size_1024, -EUCLEAN, E4_RULE_SL2);
	/* the limit depends on the block size, and the message says it */
	tu_assert_log("symlink size 1024 outside 1..1023");
	expect_broken(img4k, "/l12", size_0, -EUCLEAN, E4_RULE_SL2);
	expect_broken(img4k, "/l12", fast_size_60, -EUCLEAN, E4_RULE_SL1);
	expect_broken(imgmap, "/l200", slow_longer_than_block_data, -EUCLEAN,
		      E4_RULE_SL1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extent_and_fast),
		cmocka_unit_test(test_block_mapped),
		cmocka_unit_test(test_1k_blocks),
		cmocka_unit_test(test_inline_symlinks),
		cmocka_unit_test(test_fast_with_xattr_block),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_broken),
	};
	return tu_result(cmocka_run_group_tests(tests, group_setup, NULL));
}
