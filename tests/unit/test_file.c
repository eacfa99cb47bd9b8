/* SPDX-License-Identifier: MIT */
/*
 * File data: e4_file_read and e4_file_seek on real images against the source
 * files (content, lseek SEEK_DATA/SEEK_HOLE), reads that bypass the metadata
 * cache, inline data, truncated images.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ondisk/ondisk.h"
#include "e4/partition.h"
#include "testutil.h"

#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#include "maputil.h"

#define MiB (1024ull * 1024ull)

static char srcdir[512];
static char *img_4k, *img_1k, *img_64k, *img_bigalloc, *img_ext3;

static int make_images(void **state)
{
	int fd;

	(void)state;
	snprintf(srcdir, sizeof(srcdir), "%s/src", tu_tmpdir());
	tu_sh("mkdir -p '%s'", srcdir);
	mu_make_contiguous(srcdir, "big", 6 * MiB + 4097);
	mu_make_alternating(srcdir, "frag", 4096, 600);
	mu_make_alternating(srcdir, "frag64k", 65536, 40);
	mu_make_contiguous(srcdir, "small", 100);
	mu_make_contiguous(srcdir, "empty", 0);
	fd = mu_create(srcdir, "sparse");	/* hole, data, trailing hole */
	mu_write(fd, 2 * MiB + 10, 20000);
	mu_write(fd, 9 * MiB, 4096);
	mu_finish(fd, 30 * MiB + 5);
	fd = mu_create(srcdir, "allhole");
	mu_finish(fd, 5 * MiB);

	img_4k = tu_mkfs("ext4-4k.img", "-b 4096", srcdir, "64M");
	img_1k = tu_mkfs("ext4-1k.img", "-b 1024", srcdir, "64M");
	img_64k = tu_mkfs("ext4-64k.img", "-b 65536", srcdir, "64M");
	img_bigalloc = tu_mkfs("ext4-bigalloc.img",
			       "-b 4096 -O bigalloc -C 16384", srcdir, "64M");
	if (asprintf(&img_ext3, "%s/ext3.img", tu_tmpdir()) < 0)
		return -1;
	tu_sh("mkfs.ext3 -q -F -b 1024 -d '%s' '%s' 64M >/dev/null 2>&1",
	      srcdir, img_ext3);
	return 0;
}


/* Content and SEEK_DATA/SEEK_HOLE of each file against the source.  The
 * 64K image only for files whose holes are 64K-aligned in the source. */
static void check_files(const char *img, bool only_64k_aligned)
{
	static const char *const all[] = {
		"big", "frag", "frag64k", "small", "empty", "sparse", "allhole",
	};
	static const char *const aligned[] = {
		"big", "frag64k", "small", "empty", "allhole",
	};
	const char *const *files = only_64k_aligned ? aligned : all;
	size_t n = only_64k_aligned ? sizeof(aligned) / sizeof(aligned[0])
				    : sizeof(all) / sizeof(all[0]);
	struct e4_fs *fs;

	assert_int_equal(tu_open(img, &fs), 0);
	for (size_t i = 0; i < n; i++) {
		struct e4_inode inode;
		char path[64], host[1024];

		snprintf(path, sizeof(path), "/%s", files[i]);
		snprintf(host, sizeof(host), "%s/%s", srcdir, files[i]);
		mu_inode(fs, img, path, &inode);
		mu_check_content(fs, &inode, host);
		mu_check_seek(fs, &inode, host);
	}
	tu_close(fs);
}

static void test_ext4_4k(void **state)
{
	(void)state;
	check_files(img_4k, false);
}

static void test_ext4_1k(void **state)
{
	(void)state;
	check_files(img_1k, false);
}

static void test_ext4_64k(void **state)
{
	(void)state;
	check_files(img_64k, true);
}

static void test_bigalloc(void **state)
{
	(void)state;
	check_files(img_bigalloc, false);
}

static void test_ext3_blockmap(void **state)
{
	(void)state;
	check_files(img_ext3, false);
}

/* Seek edge cases: the implicit hole at EOF, -ENXIO at and after EOF, a
 * file that is all hole. */
static void test_seek_edges(void **state)
{
	struct e4_fs *fs;
	struct e4_inode inode;
	uint64_t res;

	(void)state;
	assert_int_equal(tu_open(img_4k, &fs), 0);
	mu_inode(fs, img_4k, "/big", &inode);
	assert_int_equal(e4_file_seek(fs, &inode, 0, E4_SEEK_HOLE, &res), 0);
	assert_int_equal(res, inode.size);
	assert_int_equal(e4_file_seek(fs, &inode, 12345, E4_SEEK_DATA, &res),
			 0);
	assert_int_equal(res, 12345);
	assert_int_equal(e4_file_seek(fs, &inode, inode.size, E4_SEEK_DATA,
				      &res), -ENXIO);
	assert_int_equal(e4_file_seek(fs, &inode, inode.size, E4_SEEK_HOLE,
				      &res), -ENXIO);
	assert_int_equal(e4_file_seek(fs, &inode, inode.size + 99,
				      E4_SEEK_HOLE, &res), -ENXIO);

	mu_inode(fs, img_4k, "/allhole", &inode);
	assert_int_equal(e4_file_seek(fs, &inode, 0, E4_SEEK_DATA, &res),
			 -ENXIO);
	assert_int_equal(e4_file_seek(fs, &inode, 4097, E4_SEEK_HOLE, &res),
			 0);
	assert_int_equal(res, 4097);

	mu_inode(fs, img_4k, "/empty", &inode);
	assert_int_equal(e4_file_seek(fs, &inode, 0, E4_SEEK_DATA, &res),
			 -ENXIO);
	assert_int_equal(e4_file_seek(fs, &inode, 0, E4_SEEK_HOLE, &res),
			 -ENXIO);
	tu_close(fs);
}

/* Data is read straight from the device: a 6 MiB read leaves the metadata
 * cache as it was (no block of data goes through it). */
static void test_read_bypasses_cache(void **state)
{
	struct e4_fs *fs;
	struct e4_inode inode;
	struct e4_cache_stats before, after;
	size_t len;
	uint8_t *buf;

	(void)state;
	assert_int_equal(tu_open(img_4k, &fs), 0);
	mu_inode(fs, img_4k, "/big", &inode);
	len = (size_t)inode.size;
	buf = malloc(len);
	e4_cache_get_stats(fs->cache, &before);
	assert_int_equal(e4_file_read(fs, &inode, 0, buf, len), (ssize_t)len);
	e4_cache_get_stats(fs->cache, &after);
	assert_true(after.misses - before.misses <= 4);
	assert_true(after.buffers <= before.buffers + 4);
	for (size_t i = 0; i < len; i += 4093)
		assert_int_equal(buf[i], mu_byte(i));
	free(buf);
	tu_close(fs);
}

/* An image cut short under an open file system (a shrinking device, an
 * image truncated by someone else): data beyond the new end fails with -EIO
 * and a log line naming the inode.  (A short image at open time is refused
 * by e4_fs_open, L10.) */
static void test_truncated_image(void **state)
{
	struct e4_fs *fs;
	struct e4_inode inode;
	char *img;
	uint64_t last;
	uint8_t buf[8192];

	(void)state;
	img = tu_copy(img_4k, "truncated.img");
	/* the last byte of the file is alone in its block */
	last = tu_bmap(img, "/big", (6 * MiB + 4097 - 1) / 4096);
	assert_int_equal(tu_open(img, &fs), 0);
	mu_inode(fs, img, "/big", &inode);
	tu_sh("truncate -s %llu '%s'", (unsigned long long)last * 4096, img);
	tu_log_clear();
	assert_int_equal(e4_file_read(fs, &inode, 0, buf, sizeof(buf)),
			 (ssize_t)sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], mu_byte(i));
	assert_int_equal(e4_file_read(fs, &inode, inode.size - 1, buf,
				      sizeof(buf)), -EIO);
	tu_assert_rule(E4_RULE_IO_READ, e4_obj_inode(inode.ino));
	tu_assert_log(tu_msg("inode %u: reading 1 bytes of data at block %llu failed",
			     inode.ino, (unsigned long long)last));
	/* a read ending before the cut still works */
	assert_int_equal(e4_file_read(fs, &inode, 4096, buf, 4096), 4096);
	tu_close(fs);

	tu_log_clear();
	assert_int_equal(tu_open(img, &fs), -EIO);
	tu_assert_rule(E4_RULE_L10, e4_obj_fs());
	free(img);
}

/* Inline data: mapped as E4_MAP_INLINE at block 0, read from the inode. */
static void test_inline(void **state)
{
	char dir[600];
	char *img;
	struct e4_fs *fs;
	struct e4_inode inode;
	struct e4_mapping m;
	uint8_t buf[300];
	uint64_t res;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/src-inline", tu_tmpdir());
	tu_sh("mkdir -p '%s'", dir);
	mu_make_contiguous(dir, "i100", 100);
	mu_make_contiguous(dir, "i40", 40);
	img = tu_mkfs("inline.img", "-O inline_data", dir, "16M");
	assert_int_equal(tu_open(img, &fs), 0);

	mu_inode(fs, img, "/i100", &inode);
	assert_true(inode.flags & E4_INLINE_DATA_FL);
	assert_int_equal(e4_map_block(fs, &inode, 0, &m), 0);
	assert_int_equal(m.kind, E4_MAP_INLINE);
	assert_int_equal(m.len, 1);
	assert_int_equal(e4_map_block(fs, &inode, 1, &m), 0);
	assert_int_equal(m.kind, E4_MAP_HOLE);
	assert_int_equal(e4_file_read(fs, &inode, 0, buf, sizeof(buf)), 100);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(buf[i], mu_byte(i));
	assert_int_equal(e4_file_read(fs, &inode, 55, buf, 10), 10);
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(buf[i], mu_byte(55 + i));
	assert_int_equal(e4_file_seek(fs, &inode, 7, E4_SEEK_DATA, &res), 0);
	assert_int_equal(res, 7);
	assert_int_equal(e4_file_seek(fs, &inode, 7, E4_SEEK_HOLE, &res), 0);
	assert_int_equal(res, 100);

	mu_inode(fs, img, "/i40", &inode);
	assert_int_equal(e4_file_read(fs, &inode, 0, buf, sizeof(buf)), 40);
	for (size_t i = 0; i < 40; i++)
		assert_int_equal(buf[i], mu_byte(i));
	tu_close(fs);
	free(img);
}

/* e4_map_range is e4_map_block in bytes, with the device's base offset:
 * check it at odd offsets of a file, on the image as it is and behind a
 * partition offset; the device bytes it names are the file's bytes. */
static void check_ranges(const char *img, uint64_t base)
{
	struct e4_open_opts o = { .read_only = true };
	struct e4_dev *dev;
	struct e4_fs *fs;
	struct e4_inode in;
	struct e4_mapping m;

	assert_int_equal(e4_dev_open_file(img, base, 0, false, &dev), 0);
	uint32_t ino;

	assert_int_equal(tu_open_dev(dev, &o, &fs), 0);
	assert_int_equal(e4_path_lookup(fs, "/big", &ino), 0);
	assert_int_equal(e4_inode_read(fs, ino, &in), 0);
	for (uint64_t off = 0; off < in.size; off += 40961) {
		struct e4_range r;
		uint8_t byte;

		assert_int_equal(e4_map_range(fs, &in, off, 1u << 20, &r), 0);
		assert_int_equal(e4_map_block(fs, &in, off / 4096, &m), 0);
		assert_int_equal(r.offset, off);
		assert_int_equal(r.kind, m.kind);
		assert_true(r.length >= 1 && r.length <= 1u << 20);
		assert_int_equal(r.length, MIN(1u << 20, (m.lblk + m.len) * 4096 - off));
		if (r.kind != E4_MAP_MAPPED)
			continue;
		assert_int_equal(r.dev_offset, base + m.pblk * 4096 + off % 4096);
		tu_peek(img, r.dev_offset, &byte, 1);
		assert_int_equal(byte, mu_byte(off));
	}
	assert_int_equal(e4_map_range(fs, &in, 0, 0, &(struct e4_range){0}), -EINVAL);
	tu_close(fs);
}

static void test_map_range(void **state)
{
	char *shifted;

	(void)state;
	check_ranges(img_4k, 0);
	/* the same file system 1 MiB into a bigger file */
	shifted = tu_sh_out("p='%s/shifted.img'; { head -c 1048576 /dev/zero; cat '%s'; } > \"$p\"; printf %%s \"$p\"",
			    tu_tmpdir(), img_4k);
	check_ranges(shifted, 1u << 20);
	/* and found there by the locator, through a slice of the image */
	struct e4_dev *image, *dev;
	struct e4_locate_opts lo = { .offset = 1u << 20, .offset_set = true };
	assert_int_equal(e4_dev_open_file(shifted, 0, 0, false, &image), 0);
	assert_int_equal(e4_dev_open_located(image, &lo, NULL, &dev), 0);
	assert_int_equal(e4_dev_base_offset(dev), 1u << 20);
	e4_dev_close(dev);
	free(shifted);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ext4_4k),
		cmocka_unit_test(test_ext4_1k),
		cmocka_unit_test(test_ext4_64k),
		cmocka_unit_test(test_bigalloc),
		cmocka_unit_test(test_ext3_blockmap),
		cmocka_unit_test(test_seek_edges),
		cmocka_unit_test(test_read_bypasses_cache),
		cmocka_unit_test(test_map_range),
		cmocka_unit_test(test_truncated_image),
		cmocka_unit_test(test_inline),
	};

	return cmocka_run_group_tests(tests, make_images, NULL);
}
