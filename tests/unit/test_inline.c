/* SPDX-License-Identifier: MIT */
/*
 * Inline data (§8) on files written by the kernel through a loop mount:
 * whole and partial reads compared with the source bytes, the capacity
 * boundary (the kernel moves a 200-byte file to a block), then ID1/ID2
 * broken by hand.
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

static const unsigned sizes[] = { 0, 10, 60, 61, 100, 128, 200 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static char *img;
static bool have_mount;

static void content(unsigned size, uint8_t *out)
{
	for (unsigned i = 0; i < size; i++)
		out[i] = (uint8_t)(i * 31 + size + 1);
}

static int group_setup(void **state)
{
	char *r, *src;
	uint8_t data[256];

	(void)state;
	img = tu_mkfs("inl.img", "-b 4096 -I 256 -O inline_data", NULL, "32M");
	src = tu_sh_out("d='%s/src'; mkdir -p \"$d\"; printf %%s \"$d\"", tu_tmpdir());
	for (size_t i = 0; i < NSIZES; i++) {
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/f%u", src, sizes[i]);
		f = fopen(path, "wb");
		assert_non_null(f);
		content(sizes[i], data);
		assert_int_equal(fwrite(data, 1, sizes[i], f), sizes[i]);
		fclose(f);
	}
	r = tu_sh_out("m='%s/mnt'; mkdir -p \"$m\" && mount -o loop '%s' \"$m\" "
		      ">/dev/null 2>&1 && { cp '%s'/f* \"$m\"/ && "
		      "getfattr --absolute-names -m - -d \"$m\"/f100 > '%s/f100.attrs'; "
		      "umount \"$m\"; } && echo yes",
		      tu_tmpdir(), img, src, tu_tmpdir());
	have_mount = strncmp(r, "yes", 3) == 0;
	free(r);
	free(src);
	return 0;
}

#define NEED_MOUNT()                                \
	do {                                        \
		if (!have_mount)                    \
			tu_skip("no loop mounts");  \
	} while (0)

static void open_file(const char *image, unsigned size, struct e4_fs **fs,
		      struct e4_inode *in)
{
	char path[32];

	snprintf(path, sizeof(path), "/f%u", size);
	assert_int_equal(tu_open(image, fs), 0);
	assert_int_equal(e4_inode_read(*fs, tu_ino_of(image, path), in), 0);
}

static int count_names(void *ctx, const char *name, size_t len)
{
	(void)name;
	(void)len;
	++*(int *)ctx;
	return 0;
}

/* The kernel hides system.data: getfattr -m - -d lists nothing for an
 * inline file, and getting it is "Operation not supported". */
static void test_system_data_hidden(void **state)
{
	(void)state;
	NEED_MOUNT();
	struct e4_fs *fs;
	struct e4_inode in;
	char *kernel = tu_sh_out("cat '%s/f100.attrs'", tu_tmpdir());
	char v[64];
	int n = 0;

	assert_string_equal(kernel, "");
	free(kernel);
	open_file(img, 100, &fs, &in);
	assert_true(in.flags & E4_INLINE_DATA_FL);
	assert_int_equal(e4_xattr_list(fs, &in, count_names, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(e4_xattr_get(fs, &in, "system.data", v, sizeof(v)), -EOPNOTSUPP);
	/* but the raw interface finds it: 40 bytes beyond i_block */
	assert_int_equal(e4_xattr_get_raw(fs, &in, E4_XATTR_INDEX_SYSTEM, "data", 4,
					  v, sizeof(v)), 40);
	tu_close(fs);
}

static void test_kernel_files(void **state)
{
	(void)state;
	NEED_MOUNT();
	for (size_t i = 0; i < NSIZES; i++) {
		unsigned size = sizes[i];
		uint8_t want[256], got[300];
		struct e4_fs *fs;
		struct e4_inode in;
		size_t cap;

		content(size, want);
		open_file(img, size, &fs, &in);
		assert_int_equal(in.size, size);
		if (size == 0 || size > 128) {
			/* over the in-inode capacity the kernel uses a block;
			 * an empty file copied by cp is extent-mapped too */
			assert_false(in.flags & E4_INLINE_DATA_FL);
			assert_int_equal(e4_inline_read(fs, &in, 0, got, sizeof(got)),
					 -EINVAL);
			assert_int_equal(e4_inline_size(fs, &in, &cap), -EINVAL);
			tu_close(fs);
			continue;
		}
		assert_true(in.flags & E4_INLINE_DATA_FL);
		assert_int_equal(e4_inline_size(fs, &in, &cap), 0);
		assert_int_equal(cap, size > 60 ? size : 60);
		/* whole file, with a buffer larger than the file */
		memset(got, 0xAA, sizeof(got));
		assert_int_equal(e4_inline_read(fs, &in, 0, got, sizeof(got)), size);
		assert_memory_equal(got, want, size);
		/* every (offset, length) pair, across the i_block/xattr seam */
		for (unsigned off = 0; off <= size; off += 7) {
			for (unsigned len = 0; len <= size + 3; len += 5) {
				unsigned expect = off + len > size ? size - off : len;

				assert_int_equal(e4_inline_read(fs, &in, off, got, len),
						 expect);
				if (expect)
					assert_memory_equal(got, want + off, expect);
			}
		}
		assert_int_equal(e4_inline_read(fs, &in, size + 10, got, 5), 0);
		tu_close(fs);
	}
}

/* Copy, patch the inode of /f@size, fix its checksum, expect @rc and
 * @rule broken in that inode. */
static void expect_broken(unsigned size, uint64_t patch_off, const void *bytes,
			  size_t n, ssize_t rc, enum e4_rule rule)
{
	char *bad = tu_copy(img, "broken.img");
	char path[32];
	uint32_t ino;
	struct e4_fs *fs;
	struct e4_inode in;
	uint8_t buf[256];

	snprintf(path, sizeof(path), "/f%u", size);
	ino = tu_ino_of(bad, path);
	tu_patch(bad, tu_inode_offset(bad, ino) + patch_off, bytes, n);
	tu_fix_inode_csum(bad, ino);
	assert_int_equal(tu_open(bad, &fs), 0);
	if (e4_inode_read(fs, ino, &in) != 0)
		fail_msg("inode %u unreadable: %s", ino, tu_log());
	tu_log_clear();
	assert_int_equal(e4_inline_read(fs, &in, 0, buf, sizeof(buf)), rc);
	tu_assert_rule(rule, e4_obj_inode(ino));
	tu_close(fs);
	free(bad);
}

/* Offset in the inode record of the system.data entry's name. */
static uint64_t data_entry_name(unsigned size)
{
	char path[32];
	uint32_t ino;
	uint64_t rec, pos;

	snprintf(path, sizeof(path), "/f%u", size);
	ino = tu_ino_of(img, path);
	rec = tu_inode_offset(img, ino);
	pos = 128 + tu_peek_le16(img, rec + E4_I_EXTRA_ISIZE) + 4;
	for (int i = 0; i < 8; i++) {
		uint8_t hdr[20];

		tu_peek(img, rec + pos, hdr, sizeof(hdr));
		if (hdr[0] == 4 && hdr[1] == E4_XATTR_INDEX_SYSTEM &&
		    memcmp(hdr + 16, "data", 4) == 0)
			return pos + 16;
		pos += (16u + hdr[0] + 3) & ~3u;
	}
	fail_msg("no system.data entry in /f%u", size);
	return 0;
}

static void test_broken(void **state)
{
	(void)state;
	NEED_MOUNT();
	uint8_t le[4];

	/* ID1: the attribute renamed */
	expect_broken(100, data_entry_name(100), "dat!", 4, -EUCLEAN,
		      E4_RULE_ID1);
	/* ID1: the whole in-inode area gone (bad magic = no area) */
	expect_broken(10, data_entry_name(10) - 16 - 4, "\0\0\0\0", 4, -EUCLEAN,
		      E4_RULE_ID1);
	(void)le;
}

/* A regular file longer than its inline data (mkfs.ext4 -d stores all-zero
 * files so; e2fsck calls it clean) reads zeros past the data, like the
 * kernel.  ID2 still holds for symlinks (test_symlink). */
static void test_longer_than_data(void **state)
{
	(void)state;
	NEED_MOUNT();
	char *img2 = tu_copy(img, "longer.img");
	uint32_t ino = tu_ino_of(img2, "/f100");
	struct e4_fs *fs;
	struct e4_inode in;
	uint8_t buf[300], want[300];

	tu_patch_le32(img2, tu_inode_offset(img2, ino) + E4_I_SIZE_LO, 300);
	tu_fix_inode_csum(img2, ino);
	assert_int_equal(tu_open(img2, &fs), 0);
	assert_int_equal(e4_inode_read(fs, ino, &in), 0);
	tu_log_clear();
	memset(buf, 0xAA, sizeof(buf));
	assert_int_equal(e4_file_read(fs, &in, 0, buf, sizeof(buf)), 300);
	memset(want, 0, sizeof(want));
	assert_memory_equal(buf + 100, want, 200);	/* zeros past the data */
	assert_int_equal(e4_file_read(fs, &in, 150, buf, 10), 10);
	assert_memory_equal(buf, want, 10);
	assert_int_equal(e4_file_read(fs, &in, 90, buf, 20), 20);
	assert_memory_equal(buf + 10, want, 10);
	assert_string_equal(tu_log(), "");
	tu_close(fs);
	free(img2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_files),
		cmocka_unit_test(test_system_data_hidden),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_longer_than_data),
	};
	return tu_result(cmocka_run_group_tests(tests, group_setup, NULL));
}
