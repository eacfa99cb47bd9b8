/* SPDX-License-Identifier: MIT */
/*
 * The write side (include/e4/write.h) on images made by mkfs: files,
 * directories, symlinks and links created, written, truncated and removed
 * through libe4; after each test e2fsck -fn finds the image clean and the
 * kernel's ext4 (a read-only loop mount) reads back exactly what the test
 * wrote.  Also the refusals: features not written yet, a read-only device,
 * the valid bit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e4/write.h"
#include "ondisk/ondisk.h"
#include "testutil.h"

static const struct e4_cred root_cred = { 0, 0, 0 };

/* A deterministic pattern: byte i of stream @seed. */
static void pattern(uint8_t *buf, size_t len, uint64_t from, unsigned seed)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t x = (from + i) * 2654435761u + seed;
		buf[i] = (uint8_t)(x >> 13);
	}
}

/* The expected contents of a file, kept in the scratch dir for cmp. */
static const char *expect_file(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/exp_%s", tu_tmpdir(), name);
	return path;
}

static void expect_write(const char *name, const void *buf, size_t len,
			 uint64_t off)
{
	int fd = open(expect_file(name), O_WRONLY | O_CREAT, 0644);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void expect_truncate(const char *name, uint64_t size)
{
	int fd = open(expect_file(name), O_WRONLY | O_CREAT, 0644);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

static struct e4_ino *root_of(struct e4_fs *fs)
{
	struct e4_ino *ip;

	assert_int_equal(e4_iget(fs, E4_ROOT_INO, &ip), 0);
	return ip;
}

static struct e4_ino *new_file(struct e4_fs *fs, struct e4_ino *dir,
			       const char *name)
{
	struct e4_ino *ip;

	assert_int_equal(e4_mknod(fs, dir, name, strlen(name), 0100644, 0, 0,
				  &root_cred, &ip), 0);
	return ip;
}

/* Write @len pattern bytes at @off to @ip and to the expected file. */
static void write_both(struct e4_fs *fs, struct e4_ino *ip, const char *name,
		       uint64_t off, size_t len, unsigned seed)
{
	uint8_t *buf = malloc(len ? len : 1);

	pattern(buf, len, off, seed);
	assert_int_equal(e4_write(fs, ip, off, buf, len), (ssize_t)len);
	expect_write(name, buf, len, off);
	free(buf);
}

/* ---- tests ---------------------------------------------------------------- */

/* Files of every size class, a sparse one, a directory with a file in it,
 * fast and slow symlinks, a hard link: e2fsck clean, the kernel reads it
 * all back. */
static void test_create_and_write(void **state)
{
	char *img = tu_mkfs("w1.img", "-b 4096", NULL, "64M");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *root = root_of(fs), *ip, *dir;
	char longtarget[301];

	(void)state;
	ip = new_file(fs, root, "empty");
	expect_truncate("empty", 0);
	e4_iput(fs, ip);
	ip = new_file(fs, root, "small");
	write_both(fs, ip, "small", 0, 6, 1);
	e4_iput(fs, ip);
	ip = new_file(fs, root, "block");
	write_both(fs, ip, "block", 0, 4096, 2);
	e4_iput(fs, ip);
	ip = new_file(fs, root, "big");
	for (uint64_t off = 0; off < (3u << 20) + 123; off += 131072)
		write_both(fs, ip, "big", off,
			   off + 131072 > (3u << 20) + 123 ?
				   (size_t)((3u << 20) + 123 - off) : 131072, 3);
	e4_iput(fs, ip);
	ip = new_file(fs, root, "sparse");
	write_both(fs, ip, "sparse", 10u << 20, 10, 4);
	write_both(fs, ip, "sparse", 5000, 3, 5);
	e4_iput(fs, ip);
	assert_int_equal(e4_mkdir(fs, root, "dir", 3, 0755, &root_cred, &dir), 0);
	ip = new_file(fs, dir, "inner");
	write_both(fs, ip, "inner", 0, 5000, 6);
	assert_int_equal(e4_link(fs, ip, dir, "hard", 4), 0);
	e4_iput(fs, ip);
	assert_int_equal(e4_symlink(fs, root, "short", 5, "small", 5,
				    &root_cred, &ip), 0);
	e4_iput(fs, ip);
	memset(longtarget, 'x', 300);
	for (int i = 7; i < 300; i += 8)
		longtarget[i] = '/';
	longtarget[300] = '\0';
	assert_int_equal(e4_symlink(fs, dir, "long", 4, longtarget, 300,
				    &root_cred, &ip), 0);
	e4_iput(fs, ip);
	e4_iput(fs, dir);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	char checks[4096];
	snprintf(checks, sizeof(checks),
		 "e='%s/exp_'; for f in empty small block big sparse; do cmp \"$m/$f\" \"$e$f\"; done; "
		 "cmp \"$m/dir/inner\" \"${e}inner\"; cmp \"$m/dir/hard\" \"${e}inner\"; "
		 "test \"$(stat -c %%h \"$m/dir/inner\")\" = 2; "
		 "test \"$(stat -c %%h \"$m/dir\")\" = 2; "
		 "test \"$(stat -c %%h \"$m\")\" = 4; "
		 "test \"$(readlink \"$m/short\")\" = small; "
		 "test \"$(readlink \"$m/dir/long\")\" = '%s'; "
		 "test \"$(stat -c %%s \"$m/sparse\")\" = %u; "
		 "test \"$(stat -c %%a \"$m/dir\")\" = 755",
		 tu_tmpdir(), longtarget, (10u << 20) + 10);
	tu_kernel_expect(img, checks);
	free(img);
}

/* Hundreds of names in one directory on 1 KiB blocks: it grows block by
 * block; removing every other name leaves the rest readable. */
static void test_many_names(void **state)
{
	char *img = tu_mkfs("w2.img", "-b 1024", NULL, "32M");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *root = root_of(fs), *dir, *ip;
	char name[64];

	(void)state;
	assert_int_equal(e4_mkdir(fs, root, "d", 1, 0700, &root_cred, &dir), 0);
	for (int i = 0; i < 600; i++) {
		snprintf(name, sizeof(name), "file-with-a-longish-name-%04d", i);
		ip = new_file(fs, dir, name);
		e4_iput(fs, ip);
	}
	for (int i = 0; i < 600; i += 2) {
		snprintf(name, sizeof(name), "file-with-a-longish-name-%04d", i);
		assert_int_equal(e4_unlink(fs, dir, name, strlen(name)), 0);
	}
	snprintf(name, sizeof(name), "file-with-a-longish-name-%04d", 0);
	assert_int_equal(e4_unlink(fs, dir, name, strlen(name)), -ENOENT);
	e4_iput(fs, dir);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	tu_kernel_expect(img,
		      "test \"$(ls \"$m/d\" | wc -l)\" = 300; "
		      "test -e \"$m/d/file-with-a-longish-name-0001\"; "
		      "test ! -e \"$m/d/file-with-a-longish-name-0000\"; "
		      "test -e \"$m/d/file-with-a-longish-name-0599\"");
	free(img);
}

/* Look @name up in the root. */
static struct e4_ino *lookup_root(struct e4_fs *fs, const char *name)
{
	struct e4_ino *root = root_of(fs), *ip;
	struct e4_inode rin;

	e4_ino_snapshot(root, &rin);
	assert_int_equal(e4_lookup(fs, &rin, name, strlen(name), &ip), 0);
	e4_iput(fs, root);
	return ip;
}

static void kernel_cmp(const char *img, const char *path, const char *name)
{
	char checks[PATH_MAX + 1024];

	snprintf(checks, sizeof(checks), "cmp \"$m/%s\" '%s'", path,
		 expect_file(name));
	tu_kernel_expect(img, checks);
}

/* One block in every other: thousands of extents, a tree two levels
 * deep; then truncated to half, then to nothing, freeing its tree. */
static void test_extent_tree(void **state)
{
	char *img = tu_mkfs("w3.img", "-b 1024", NULL, "64M");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *root = root_of(fs), *ip;
	struct e4_inode snap;

	(void)state;
	ip = new_file(fs, root, "holes");
	for (uint64_t b = 0; b < 4000; b += 2)
		write_both(fs, ip, "holes", b * 1024 + 100, 1, 7);
	e4_ino_snapshot(ip, &snap);
	assert_true(e4_le16(snap.i_block, 60, E4_EH_DEPTH) >= 2);
	e4_iput(fs, ip);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	kernel_cmp(img, "holes", "holes");

	fs = tu_open_rw(img);
	ip = lookup_root(fs, "holes");
	assert_int_equal(e4_truncate(fs, ip, 2001 * 1024), 0);
	expect_truncate("holes", 2001 * 1024);
	e4_iput(fs, ip);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	kernel_cmp(img, "holes", "holes");

	fs = tu_open_rw(img);
	ip = lookup_root(fs, "holes");
	assert_int_equal(e4_truncate(fs, ip, 0), 0);
	e4_ino_snapshot(ip, &snap);
	assert_int_equal(snap.blocks_512, 0);
	assert_int_equal(e4_le16(snap.i_block, 60, E4_EH_DEPTH), 0);
	/* and grown again, sparse: reads as zeros */
	assert_int_equal(e4_truncate(fs, ip, 12345), 0);
	expect_truncate("holes", 0);
	expect_truncate("holes", 12345);
	e4_iput(fs, ip);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	kernel_cmp(img, "holes", "holes");
	free(img);
}

/* A name removed while the inode is still held: the inode lives until the
 * last reference goes, then its blocks and itself are freed. */
static void test_unlink_held(void **state)
{
	char *img = tu_mkfs("w4.img", "-b 4096", NULL, "32M");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *root = root_of(fs), *ip;

	(void)state;
	ip = new_file(fs, root, "victim");
	write_both(fs, ip, "victim", 0, 100000, 8);
	assert_int_equal(e4_unlink(fs, root, "victim", 6), 0);
	/* still readable through the held reference */
	{
		struct e4_inode snap;
		char buf[16];

		e4_ino_snapshot(ip, &snap);
		assert_int_equal(snap.links, 0);
		assert_int_equal(e4_file_read(fs, &snap, 0, buf, sizeof(buf)),
				 (ssize_t)sizeof(buf));
	}
	e4_iput(fs, ip);	/* deletes it */
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	tu_kernel_expect(img, "test ! -e \"$m/victim\"; test \"$(ls -A \"$m\" | grep -v lost+found | wc -l)\" = 0");
	free(img);
}

/* The kernel's errno for each misuse, and nothing changed by any. */
static void test_errors(void **state)
{
	char *img = tu_mkfs("w5.img", "-b 4096", NULL, "32M");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *root = root_of(fs), *ip, *dir, *sub;
	char longname[300];

	(void)state;
	memset(longname, 'n', sizeof(longname));
	ip = new_file(fs, root, "f");
	assert_int_equal(e4_mkdir(fs, root, "d", 1, 0755, &root_cred, &dir), 0);
	assert_int_equal(e4_mkdir(fs, dir, "sub", 3, 0755, &root_cred, &sub), 0);
	assert_int_equal(e4_mknod(fs, root, "f", 1, 0100644, 0, 0, &root_cred,
				  NULL), -EEXIST);
	assert_int_equal(e4_mkdir(fs, root, "d", 1, 0755, &root_cred, NULL),
			 -EEXIST);
	assert_int_equal(e4_mknod(fs, root, longname, 256, 0100644, 0, 0,
				  &root_cred, NULL), -ENAMETOOLONG);
	assert_int_equal(e4_unlink(fs, root, "d", 1), -EISDIR);
	assert_int_equal(e4_rmdir(fs, root, "f", 1), -ENOTDIR);
	assert_int_equal(e4_rmdir(fs, root, "d", 1), -ENOTEMPTY);
	assert_int_equal(e4_unlink(fs, root, "nothing", 7), -ENOENT);
	assert_int_equal(e4_rmdir(fs, root, ".", 1), -EINVAL);
	assert_int_equal(e4_link(fs, dir, root, "dl", 2), -EPERM);
	assert_int_equal(e4_mknod(fs, ip, "x", 1, 0100644, 0, 0, &root_cred,
				  NULL), -ENOTDIR);
	assert_int_equal(e4_write(fs, dir, 0, "x", 1), -EISDIR);
	assert_int_equal(e4_rmdir(fs, dir, "sub", 3), 0);
	assert_int_equal(e4_rmdir(fs, root, "d", 1), 0);
	/* a removed directory takes no new names */
	assert_int_equal(e4_mknod(fs, dir, "late", 4, 0100644, 0, 0,
				  &root_cred, NULL), -ENOENT);
	e4_iput(fs, sub);
	e4_iput(fs, dir);
	e4_iput(fs, ip);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	tu_kernel_expect(img, "test -f \"$m/f\"; test ! -e \"$m/d\"; "
		      "test \"$(stat -c %h \"$m\")\" = 3");
	free(img);
}

/* Fill the file system: ENOSPC, then everything written before it reads
 * back and e2fsck agrees with the counts. */
static void test_full_disk(void **state)
{
	char *img = tu_mkfs("w6.img", "-b 1024 -m 0", NULL, "8M");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *root = root_of(fs), *ip;
	uint8_t buf[65536];
	uint64_t off = 0;
	ssize_t n;

	(void)state;
	ip = new_file(fs, root, "fill");
	for (;;) {
		pattern(buf, sizeof(buf), off, 9);
		n = e4_write(fs, ip, off, buf, sizeof(buf));
		if (n <= 0)
			break;
		expect_write("fill", buf, (size_t)n, off);
		off += (uint64_t)n;
	}
	assert_int_equal(n, -ENOSPC);
	assert_true(off > (4u << 20));
	/* the metadata reserve is the mapping trees': a directory or a
	 * symlink needing a block gets ENOSPC, as under the kernel, and
	 * nothing is lost (an empty file still fits in its inode) */
	assert_int_equal(e4_mkdir(fs, root, "dir", 3, 0755, &root_cred, NULL),
			 -ENOSPC);
	memset(buf, 'l', 200);
	assert_int_equal(e4_symlink(fs, root, "link", 4, (char *)buf, 200,
				    &root_cred, NULL), -ENOSPC);
	assert_true(e4_fs_writable(fs));
	e4_iput(fs, new_file(fs, root, "empty"));
	pattern(buf, 4096, 0, 9);
	assert_int_equal(e4_write(fs, ip, 0, buf, 4096), 4096);
	e4_iput(fs, ip);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	kernel_cmp(img, "fill", "fill");
	tu_kernel_expect(img, "test ! -e \"$m/dir\"; test ! -e \"$m/link\"; "
			      "test -f \"$m/empty\"");
	free(img);
}

/* Make subdirectories 00000.. of @dir up to @upto (exclusive) from @from. */
static void mkdirs(struct e4_fs *fs, struct e4_ino *dir, unsigned from,
		   unsigned upto)
{
	char name[16];

	for (unsigned i = from; i < upto; i++) {
		snprintf(name, sizeof(name), "%05u", i);
		assert_int_equal(e4_mkdir(fs, dir, name, strlen(name), 0755,
					  &root_cred, NULL), 0);
	}
}

static unsigned links_of(struct e4_ino *ip)
{
	struct e4_inode in;

	e4_ino_snapshot(ip, &in);
	return in.links;
}

/* §4.7: a directory takes 65,000 links (64,998 subdirectories); with
 * dir_nlink, indexed, the next makes its count 1 ("many") and it stays 1
 * after; without, the next is EMLINK.  (Inline directories: no blocks.) */
static void test_dir_nlink(void **state)
{
	static const char *const mkfs[2] = {
		"-b 4096 -I 256 -O inline_data -N 66000",
		"-b 4096 -I 256 -O inline_data,^dir_nlink -N 66000",
	};

	const char *matrix = getenv("E4_MATRIX");
	/* the sanitizer build's run (E4_MATRIX=quick): with dir_nlink only
	 * (65,000 mkdirs each way are most of this program's time there) */
	int last = matrix && !strcmp(matrix, "quick") ? 1 : 0;

	(void)state;
	for (int with = 1; with >= last; with--) {
		char *img = tu_mkfs(with ? "nlink.img" : "nlink0.img",
				    mkfs[with ? 0 : 1], NULL, "96M");
		struct e4_fs *fs = tu_open_rw(img);
		struct e4_ino *root = root_of(fs), *dir;

		assert_int_equal(e4_mkdir(fs, root, "d", 1, 0755, &root_cred,
					  &dir), 0);
		mkdirs(fs, dir, 0, 64998);
		assert_int_equal(links_of(dir), 65000);
		if (with) {
			mkdirs(fs, dir, 64998, 65000);
			assert_int_equal(links_of(dir), 1);
			assert_int_equal(e4_rmdir(fs, dir, "00000", 5), 0);
			assert_int_equal(links_of(dir), 1);
		} else {
			assert_int_equal(e4_mkdir(fs, dir, "more", 4, 0755,
						  &root_cred, NULL), -EMLINK);
			assert_int_equal(links_of(dir), 65000);
		}
		e4_iput(fs, dir);
		e4_iput(fs, root);
		tu_close_rw(fs);
		tu_fsck_clean(img);
		tu_kernel_expect(img, with ?
			"test \"$(stat -c %h \"$m/d\")\" = 1; "
			"test \"$(ls \"$m/d\" | wc -l)\" = 64999" :
			"test \"$(stat -c %h \"$m/d\")\" = 65000; "
			"test ! -e \"$m/d/more\"");
		free(img);
	}
}

/* What cannot be written is refused with the reason, read-only opens go
 * on working; while writable the valid bit is clear (no journal) or
 * needs_recovery set (journal), and both as before after. */
static void test_refusals_and_state(void **state)
{
	char *inl = tu_mkfs("w7.img", "-b 4096 -O quota", NULL, "16M");
	char *plain = tu_mkfs("w8.img", "-b 4096", NULL, "16M");
	char *nojournal = tu_mkfs("w8n.img", "-b 4096 -O ^has_journal", NULL, "16M");
	struct e4_open_opts o = { .read_only = false };
	struct e4_dev *dev;
	struct e4_fs *fs;

	(void)state;
	assert_int_equal(e4_dev_open_file(inl, 0, 0, true, &dev), 0);
	assert_int_equal(tu_open_dev(dev, &o, &fs), 0);
	tu_log_clear();
	assert_int_equal(e4_fs_begin_write(fs, NULL), -EROFS);
	tu_assert_log("quota");
	tu_close(fs);

	assert_int_equal(e4_dev_open_file(plain, 0, 0, false, &dev), 0);
	assert_int_equal(tu_open_dev(dev, &o, &fs), 0);
	tu_log_clear();
	assert_int_equal(e4_fs_begin_write(fs, NULL), -EROFS);
	tu_assert_log("read-only");
	tu_close(fs);

	/* journaled: the valid bit stays, needs_recovery is set while
	 * writable (a crash is recovered), as the kernel keeps them */
	fs = tu_open_rw(plain);
	assert_int_equal(tu_peek_le16(plain, 1024 + E4_SB_STATE) & E4_STATE_VALID,
			 E4_STATE_VALID);
	assert_int_equal(tu_peek_le32(plain, 1024 + E4_SB_FEATURE_INCOMPAT) &
			 E4_INCOMPAT_RECOVER, E4_INCOMPAT_RECOVER);
	tu_close_rw(fs);
	assert_int_equal(tu_peek_le32(plain, 1024 + E4_SB_FEATURE_INCOMPAT) &
			 E4_INCOMPAT_RECOVER, 0);
	tu_fsck_clean(plain);
	/* without a journal the valid bit is clear while writable */
	fs = tu_open_rw(nojournal);
	assert_int_equal(tu_peek_le16(nojournal, 1024 + E4_SB_STATE) & E4_STATE_VALID, 0);
	assert_int_equal(tu_peek_le32(nojournal, 1024 + E4_SB_FEATURE_INCOMPAT) &
			 E4_INCOMPAT_RECOVER, 0);
	tu_close_rw(fs);
	assert_int_equal(tu_peek_le16(nojournal, 1024 + E4_SB_STATE) & E4_STATE_VALID,
			 E4_STATE_VALID);
	tu_fsck_clean(nojournal);
	free(inl);
	free(plain);
	free(nojournal);
}

/* Twenty thousand names on 1 KiB blocks: the directory gets an index,
 * its leaves split, the root grows a level; e2fsck checks the index, the
 * kernel finds every name; then most names go again. */
static void test_big_directory(void **state)
{
	char *img = tu_mkfs("w9.img", "-b 1024 -N 30000", NULL, "128M");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *root = root_of(fs), *dir;
	struct e4_inode snap;
	char name[64];

	(void)state;
	assert_int_equal(e4_mkdir(fs, root, "big", 3, 0755, &root_cred, &dir), 0);
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "entry-%06d-with-padding", i);
		assert_int_equal(e4_mknod(fs, dir, name, strlen(name), 0100644,
					  0, 0, &root_cred, NULL), 0);
	}
	e4_ino_snapshot(dir, &snap);
	assert_true(snap.flags & E4_INDEX_FL);
	e4_iput(fs, dir);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	tu_kernel_expect(img, "test \"$(ls \"$m/big\" | wc -l)\" = 20000; "
		      "test -e \"$m/big/entry-012345-with-padding\"");

	fs = tu_open_rw(img);
	dir = lookup_root(fs, "big");
	for (int i = 0; i < 20000; i++) {
		if (i % 4 == 0)
			continue;
		snprintf(name, sizeof(name), "entry-%06d-with-padding", i);
		assert_int_equal(e4_unlink(fs, dir, name, strlen(name)), 0);
	}
	e4_iput(fs, dir);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	tu_kernel_expect(img, "test \"$(ls \"$m/big\" | wc -l)\" = 5000; "
		      "test -e \"$m/big/entry-012344-with-padding\"; "
		      "test ! -e \"$m/big/entry-012345-with-padding\"");
	free(img);
}

/* Attributes small and large, an ACL, replaced and removed; a block the
 * kernel shares between two files is copied before it changes. */
static void test_xattrs(void **state)
{
	char *img = tu_mkfs("w10.img", "-b 4096 -I 256", NULL, "32M");
	static const uint8_t acl[] = {	/* u::rw, u:1000:r, g::r, m::r, o::- */
		2, 0, 0, 0, 1, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,
		2, 0, 4, 0, 0xe8, 3, 0, 0,  4, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
		0x10, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
		0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
	};
	char big[3000];
	struct e4_fs *fs;
	struct e4_ino *a, *b;

	(void)state;
	if (tu_can_loop_mount())	/* two files sharing one xattr block, by the kernel */
		tu_sh("set -e; m='%s/kmnt'; mkdir -p \"$m\"; mount -o loop '%s' \"$m\"; "
		      "touch \"$m/s1\"; setfattr -n user.shared -v \"$(head -c 2000 /dev/zero | tr '\\0' S)\" \"$m/s1\"; "
		      "cp --preserve=xattr \"$m/s1\" \"$m/s2\"; umount \"$m\"",
		      tu_tmpdir(), img);
	fs = tu_open_rw(img);
	b = root_of(fs);
	a = new_file(fs, b, "x");
	e4_iput(fs, b);
	memset(big, 'B', sizeof(big));
	assert_int_equal(e4_setxattr(fs, a, "user.small", "v1", 2, 0), 0);
	assert_int_equal(e4_setxattr(fs, a, "user.small", "v2", 2,
				     E4_XATTR_CREATE), -EEXIST);
	assert_int_equal(e4_setxattr(fs, a, "user.none", "v", 1,
				     E4_XATTR_REPLACE), -ENODATA);
	assert_int_equal(e4_setxattr(fs, a, "user.big", big, sizeof(big), 0), 0);
	assert_int_equal(e4_setxattr(fs, a, "system.posix_acl_access", acl,
				     sizeof(acl), 0), 0);
	assert_int_equal(e4_setxattr(fs, a, "user.small", "changed", 7,
				     E4_XATTR_REPLACE), 0);
	assert_int_equal(e4_setxattr(fs, a, "user.gone", "x", 1, 0), 0);
	assert_int_equal(e4_removexattr(fs, a, "user.gone"), 0);
	assert_int_equal(e4_removexattr(fs, a, "user.gone"), -ENODATA);
	assert_int_equal(e4_setxattr(fs, a, "bogus.name", "x", 1, 0),
			 -EOPNOTSUPP);
	e4_iput(fs, a);
	if (tu_can_loop_mount()) {
		b = lookup_root(fs, "s2");
		assert_int_equal(e4_setxattr(fs, b, "user.shared", "own", 3,
					     E4_XATTR_REPLACE), 0);
		e4_iput(fs, b);
	}
	tu_close_rw(fs);
	tu_fsck_clean(img);
	tu_kernel_expect(img,
		      "test \"$(getfattr --only-values -n user.small \"$m/x\")\" = changed; "
		      "test \"$(getfattr --only-values -n user.big \"$m/x\" | wc -c)\" = 3000; "
		      "getfacl -n \"$m/x\" | grep -q '^user:1000:r--'; "
		      "if getfattr -n user.gone \"$m/x\" 2>/dev/null; then exit 1; fi; "
		      "if [ -e \"$m/s1\" ]; then "
		      "test \"$(getfattr --only-values -n user.shared \"$m/s2\")\" = own; "
		      "test \"$(getfattr --only-values -n user.shared \"$m/s1\" | wc -c)\" = 2000; fi");
	free(img);
}

/* Every fallocate mode, checked against the same operations on a buffer. */
static void test_fallocate(void **state)
{
	char *img = tu_mkfs("w11.img", "-b 4096", NULL, "64M");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *ip;
	size_t size = 64 * 4096;
	uint8_t *model = malloc(size * 2);
	struct e4_inode snap;

	(void)state;
	{
		struct e4_ino *root = root_of(fs);

		ip = new_file(fs, root, "fa");
		e4_iput(fs, root);
	}
	pattern(model, size, 0, 11);
	assert_int_equal(e4_write(fs, ip, 0, model, size), (ssize_t)size);
	/* preallocate past the end, keeping the size */
	assert_int_equal(e4_fallocate(fs, ip, E4_FALLOC_KEEP_SIZE, size,
				      8 * 4096), 0);
	e4_ino_snapshot(ip, &snap);
	assert_int_equal(snap.size, size);
	/* punch a hole across blocks, partial at both ends */
	assert_int_equal(e4_fallocate(fs, ip, E4_FALLOC_PUNCH_HOLE |
				      E4_FALLOC_KEEP_SIZE, 3 * 4096 + 100,
				      5 * 4096), 0);
	memset(model + 3 * 4096 + 100, 0, 5 * 4096);
	/* zero a range */
	assert_int_equal(e4_fallocate(fs, ip, E4_FALLOC_ZERO_RANGE,
				      20 * 4096 + 7, 3 * 4096), 0);
	memset(model + 20 * 4096 + 7, 0, 3 * 4096);
	/* collapse 4 blocks at block 30 */
	assert_int_equal(e4_fallocate(fs, ip, E4_FALLOC_COLLAPSE_RANGE,
				      30 * 4096, 4 * 4096), 0);
	memmove(model + 30 * 4096, model + 34 * 4096, size - 34 * 4096);
	size -= 4 * 4096;
	/* insert 2 blocks at block 10 */
	assert_int_equal(e4_fallocate(fs, ip, E4_FALLOC_INSERT_RANGE,
				      10 * 4096, 2 * 4096), 0);
	memmove(model + 12 * 4096, model + 10 * 4096, size - 10 * 4096);
	memset(model + 10 * 4096, 0, 2 * 4096);
	size += 2 * 4096;
	/* the kernel's answers to misuse */
	assert_int_equal(e4_fallocate(fs, ip, E4_FALLOC_COLLAPSE_RANGE,
				      100, 4096), -EINVAL);
	assert_int_equal(e4_fallocate(fs, ip, E4_FALLOC_PUNCH_HOLE, 0, 4096),
			 -EOPNOTSUPP);
	/* data written into preallocated blocks */
	assert_int_equal(e4_write(fs, ip, size + 4096, "tail", 4), 4);
	memset(model + size, 0, 4096);
	memcpy(model + size + 4096, "tail", 4);
	size += 4096 + 4;
	expect_truncate("fa", 0);
	expect_write("fa", model, size, 0);
	e4_iput(fs, ip);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	kernel_cmp(img, "fa", "fa");
	free(model);
	free(img);
}

/* ext2: block maps through the direct, indirect and double-indirect
 * blocks, truncated and deleted. */
static void test_ext2(void **state)
{
	char *img = tu_mkfs("w12.img", "-t ext2 -b 1024", NULL, "32M");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *root = root_of(fs), *ip, *d;

	(void)state;
	ip = new_file(fs, root, "map");
	write_both(fs, ip, "map", 0, 5000, 12);		/* direct */
	write_both(fs, ip, "map", 20 * 1024, 3000, 13);	/* indirect */
	write_both(fs, ip, "map", 600 * 1024, 70000, 14);	/* double */
	assert_int_equal(e4_truncate(fs, ip, 300 * 1024), 0);
	expect_truncate("map", 300 * 1024);
	e4_iput(fs, ip);
	ip = new_file(fs, root, "gone");
	write_both(fs, ip, "gone", 0, 400000, 15);
	e4_iput(fs, ip);
	assert_int_equal(e4_unlink(fs, root, "gone", 4), 0);
	assert_int_equal(e4_mkdir(fs, root, "d", 1, 0755, &root_cred, &d), 0);
	for (int i = 0; i < 200; i++) {
		char name[32];

		snprintf(name, sizeof(name), "f%03d", i);
		assert_int_equal(e4_mknod(fs, d, name, strlen(name), 0100644,
					  0, 0, &root_cred, NULL), 0);
	}
	e4_iput(fs, d);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	kernel_cmp(img, "map", "map");
	tu_kernel_expect(img, "test \"$(ls \"$m/d\" | wc -l)\" = 200; test ! -e \"$m/gone\"");
	free(img);
}

/* Renames of every kind, and the kernel's answers to the impossible ones. */
static void test_renames(void **state)
{
	char *img = tu_mkfs("w13.img", "-b 4096", NULL, "32M");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *root = root_of(fs), *a, *b, *sub, *ip;

	(void)state;
	assert_int_equal(e4_mkdir(fs, root, "a", 1, 0755, &root_cred, &a), 0);
	assert_int_equal(e4_mkdir(fs, root, "b", 1, 0755, &root_cred, &b), 0);
	assert_int_equal(e4_mkdir(fs, a, "sub", 3, 0755, &root_cred, &sub), 0);
	ip = new_file(fs, a, "f");
	write_both(fs, ip, "f", 0, 10, 16);
	e4_iput(fs, ip);
	ip = new_file(fs, b, "g");
	e4_iput(fs, ip);
	ip = new_file(fs, b, "h");
	e4_iput(fs, ip);
	/* within a directory, across, over a file */
	assert_int_equal(e4_rename(fs, a, "f", 1, a, "f2", 2, 0), 0);
	assert_int_equal(e4_rename(fs, a, "f2", 2, b, "g", 1,
				   E4_RENAME_NOREPLACE), -EEXIST);
	assert_int_equal(e4_rename(fs, a, "f2", 2, b, "g", 1, 0), 0);
	/* exchange a file and a directory across directories */
	assert_int_equal(e4_rename(fs, b, "h", 1, a, "sub", 3,
				   E4_RENAME_EXCHANGE), 0);
	/* a directory into itself (b/h is sub now), into itself named
	 * directly, and over its own parent, as the kernel answers them */
	assert_int_equal(e4_rename(fs, root, "b", 1, sub, "x", 1, 0), -EINVAL);
	assert_int_equal(e4_rename(fs, root, "a", 1, a, "x", 1, 0), -EINVAL);
	assert_int_equal(e4_rename(fs, b, "h", 1, root, "b", 1, 0), -ENOTEMPTY);
	/* a directory over an empty one, and a whiteout */
	assert_int_equal(e4_mkdir(fs, root, "empty", 5, 0755, &root_cred, NULL), 0);
	assert_int_equal(e4_rename(fs, root, "b", 1, root, "empty", 5, 0), 0);
	assert_int_equal(e4_rename(fs, root, "a", 1, root, "a2", 2,
				   E4_RENAME_WHITEOUT), 0);
	assert_int_equal(e4_rename(fs, root, "a2", 2, root, "empty", 5, 0),
			 -ENOTEMPTY);
	e4_iput(fs, sub);
	e4_iput(fs, b);
	e4_iput(fs, a);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	tu_kernel_expect(img,
		      "test \"$(stat -c %F \"$m/a\")\" = 'character special file'; "
		      "test -d \"$m/empty/h\"; test -f \"$m/empty/g\"; "
		      "test -f \"$m/a2/sub\"; test ! -e \"$m/a2/h\"; "
		      "test ! -e \"$m/b\"; test \"$(stat -c %h \"$m/empty\")\" = 3; "
		      "test \"$(stat -c %h \"$m/a2\")\" = 2");
	free(img);
}

/* A file unlinked while open and then a crash: the orphan is on disk, and
 * the next session deletes it. */
static void test_orphan_after_crash(void **state)
{
	char *img = tu_mkfs("w14.img", "-b 4096", NULL, "32M");
	char *crash = NULL;
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *root = root_of(fs), *ip;

	(void)state;
	ip = new_file(fs, root, "open");
	write_both(fs, ip, "open", 0, 50000, 17);
	assert_int_equal(e4_unlink(fs, root, "open", 4), 0);
	assert_int_equal(e4_fs_sync(fs), 0);
	crash = tu_copy(img, "w14-crash.img");	/* the power goes here */
	e4_iput(fs, ip);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);

	/* the crashed image is marked not clean (e4fuse would refuse it and
	 * e2fsck would run); marked clean, as a kernel leaves an image whose
	 * orphans it did not process, e4fuse's next session deletes the
	 * orphan */
	tu_debugfs(crash, "ssv state 1");
	fs = tu_open_rw(crash);
	tu_close_rw(fs);
	tu_fsck_clean(crash);
	free(crash);
	free(img);
}

/* Inline files and directories (made by mkfs -d) converted to blocks as
 * they change: their contents and names kept, e2fsck clean. */
static void test_inline_convert(void **state)
{
	char tree[4096];
	char *img;
	struct e4_fs *fs;
	struct e4_ino *root, *f, *d;

	(void)state;
	snprintf(tree, sizeof(tree), "%s/inltree", tu_tmpdir());
	tu_sh("rm -rf '%s' && mkdir -p '%s/dir' '%s/dir2' && printf 'small file\\n' > '%s/small' "
	      "&& printf 'x' > '%s/dir/a' && printf 'y' > '%s/dir/b' && printf 'z' > '%s/dir2/c'",
	      tree, tree, tree, tree, tree, tree, tree);
	img = tu_mkfs("w15.img", "-b 4096 -I 256 -O inline_data", tree, "32M");
	fs = tu_open_rw(img);
	root = root_of(fs);
	f = lookup_root(fs, "small");
	assert_int_equal(e4_write(fs, f, 11, " and more", 9), 9);
	expect_truncate("small", 0);
	expect_write("small", "small file\n and more", 20, 0);
	e4_iput(fs, f);
	d = lookup_root(fs, "dir");
	assert_int_equal(e4_mknod(fs, d, "new", 3, 0100644, 0, 0, &root_cred,
				  NULL), 0);
	assert_int_equal(e4_unlink(fs, d, "a", 1), 0);
	e4_iput(fs, d);
	/* an inline directory moved under another: its ".." changes */
	assert_int_equal(e4_rename(fs, root, "dir2", 4, root, "dir/moved", 9, 0),
			 -EINVAL);	/* (a name with a slash) */
	d = lookup_root(fs, "dir");
	assert_int_equal(e4_rename(fs, root, "dir2", 4, d, "moved", 5, 0), 0);
	e4_iput(fs, d);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	tu_kernel_expect(img, "test -e \"$m/dir/new\"; test ! -e \"$m/dir/a\"; test -e \"$m/dir/b\"; "
		      "test \"$(cat \"$m/dir/moved/c\")\" = z; "
		      "test \"$(stat -c %h \"$m/dir\")\" = 3");
	kernel_cmp(img, "small", "small");
	free(img);
}


static bool is_inline(struct e4_ino *ip)
{
	struct e4_inode snap;

	e4_ino_snapshot(ip, &snap);
	return (snap.flags & E4_INLINE_DATA_FL) != 0;
}

/* Size and flags of @name as debugfs reads them from @img. */
static void expect_dir_form(const char *img, const char *name,
			    const char *size, bool inline_data)
{
	char *out = tu_sh_out("debugfs -R 'stat %s' '%s' 2>/dev/null | "
			      "sed -n 's/.*Flags: \\(0x[0-9a-f]*\\).*/\\1/p; "
			      "s/^User:.*  Size: \\([0-9]*\\).*/\\1/p' | tr '\\n' ' '",
			      name, img);
	char want[64];

	snprintf(want, sizeof(want), "%s %s ",
		 inline_data ? "0x10000000" : "0x80000", size);
	assert_string_equal(out, want);
	free(out);
}

/*
 * Inline directories change in the inode as the kernel changes them: new
 * directories start inline (60 bytes), names fill i_block, then
 * system.data grows at once to all the inode holds (128 bytes in a
 * 256-byte inode), then the directory gets a block; removals, renames
 * within and across them (".." is the parent field), exchanges, whiteouts,
 * links and rmdir of an inline directory stay in the inode.
 */
static void test_inline_dirs(void **state)
{
	char *img = tu_mkfs("w22.img", "-b 4096 -I 256 -O inline_data", NULL,
			    "32M");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *root = root_of(fs), *a, *b, *e, *c, *ip;
	char name[16];

	(void)state;
	assert_int_equal(e4_mkdir(fs, root, "a", 1, 0755, &root_cred, &a), 0);
	assert_true(is_inline(a));
	assert_int_equal(e4_mkdir(fs, root, "b", 1, 0755, &root_cred, &b), 0);
	assert_int_equal(e4_mkdir(fs, root, "e", 1, 0755, &root_cred, &e), 0);
	assert_int_equal(e4_mkdir(fs, root, "full", 4, 0755, &root_cred, &c),
			 0);
	for (int i = 0; i < 4; i++) {	/* 3 in i_block, the 4th in the value */
		snprintf(name, sizeof(name), "name_%d", i);
		ip = new_file(fs, a, name);
		e4_iput(fs, ip);
		assert_true(is_inline(a));
	}
	/* a directory inside, moved across: its ".." follows */
	assert_int_equal(e4_mkdir(fs, a, "sub", 3, 0755, &root_cred, NULL), 0);
	assert_int_equal(e4_rename(fs, a, "sub", 3, b, "sub", 3, 0), 0);
	assert_int_equal(e4_rename(fs, a, "name_0", 6, a, "renamed", 7, 0), 0);
	assert_int_equal(e4_rename(fs, a, "name_1", 6, b, "moved", 5, 0), 0);
	assert_int_equal(e4_rename(fs, a, "name_2", 6, a, "renamed", 7, 0), 0);
	assert_int_equal(e4_rename(fs, a, "name_3", 6, a, "wh", 2,
				   E4_RENAME_WHITEOUT), 0);
	assert_int_equal(e4_rename(fs, root, "e", 1, b, "sub", 3,
				   E4_RENAME_EXCHANGE), 0);
	assert_int_equal(e4_symlink(fs, b, "ln", 2, "target", 6, &root_cred,
				    NULL), 0);
	assert_int_equal(e4_mkdir(fs, root, "gone", 4, 0755, &root_cred, NULL),
			 0);
	assert_int_equal(e4_rmdir(fs, root, "gone", 4), 0);
	assert_true(is_inline(a));
	assert_true(is_inline(b));
	/* "full": outgrows the inode and gets a block, names kept */
	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "entry_%02d", i);
		ip = new_file(fs, c, name);
		assert_int_equal(e4_link(fs, ip, b, name, strlen(name)), 0);
		e4_iput(fs, ip);
	}
	assert_false(is_inline(c));
	assert_false(is_inline(b));
	assert_int_equal(e4_unlink(fs, c, "entry_03", 8), 0);
	e4_iput(fs, a);
	e4_iput(fs, b);
	e4_iput(fs, c);
	e4_iput(fs, e);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	expect_dir_form(img, "/a", "128", true);
	expect_dir_form(img, "/e", "60", true);	/* "sub", exchanged */
	expect_dir_form(img, "/b/sub", "60", true);
	expect_dir_form(img, "/full", "4096", false);
	tu_kernel_expect(img,
		"test \"$(ls \"$m/a\" | tr '\\n' ' ')\" = 'name_3 renamed wh '; "
		"test \"$(stat -c %F \"$m/a/name_3\")\" = 'character special file'; "
		"test -f \"$m/a/wh\"; "
		"test -f \"$m/b/moved\"; test -d \"$m/b/sub\"; test -d \"$m/e\"; "
		"test \"$(readlink \"$m/b/ln\")\" = target; "
		"test \"$(ls \"$m/full\" | wc -l)\" = 11; "
		"test \"$(ls \"$m/b\" | wc -l)\" = 15; "
		"test \"$(stat -c %h \"$m/full/entry_00\")\" = 2; "
		"test ! -e \"$m/gone\"; test \"$(stat -c %h \"$m\")\" = 7");
	free(img);
}

/*
 * Inline files grow and shrink in place while they fit in the inode
 * (i_block and system.data beside the other in-inode attributes, 128
 * bytes in a 256-byte inode here), as the kernel keeps them; an empty new
 * file becomes inline at its first write; what outgrows the inode, or
 * finds the attribute area taken, goes to blocks.  An attribute that does
 * not fit beside the inline data goes to a block; system.data stays.
 */
static void test_inline_grow(void **state)
{
	char tree[4096];
	uint8_t buf[300];
	char *img;
	struct e4_fs *fs;
	struct e4_ino *root, *f;

	(void)state;
	snprintf(tree, sizeof(tree), "%s/inlgrow", tu_tmpdir());
	tu_sh("rm -rf '%s' && mkdir -p '%s' && printf 'small file\\n' > '%s/small'",
	      tree, tree, tree);
	img = tu_mkfs("w21.img", "-b 4096 -I 256 -O inline_data", tree, "32M");
	fs = tu_open_rw(img);
	root = root_of(fs);

	f = new_file(fs, root, "grow");
	write_both(fs, f, "grow", 0, 30, 40);
	assert_true(is_inline(f));
	write_both(fs, f, "grow", 30, 60, 41);		/* 90: i_block and value */
	assert_true(is_inline(f));
	write_both(fs, f, "grow", 10, 20, 42);		/* overwritten inside */
	assert_true(is_inline(f));
	write_both(fs, f, "grow", 90, 110, 43);		/* 200: to a block */
	assert_false(is_inline(f));
	e4_iput(fs, f);

	f = new_file(fs, root, "cut");
	write_both(fs, f, "cut", 10, 100, 44);		/* a hole first */
	assert_true(is_inline(f));
	assert_int_equal(e4_truncate(fs, f, 5), 0);
	expect_truncate("cut", 5);
	assert_true(is_inline(f));
	assert_int_equal(e4_truncate(fs, f, 120), 0);	/* zeros, in place */
	expect_truncate("cut", 120);
	assert_true(is_inline(f));
	assert_int_equal(e4_truncate(fs, f, 5000), 0);	/* to blocks */
	expect_truncate("cut", 5000);
	assert_false(is_inline(f));
	e4_iput(fs, f);

	/* grown by truncate, then appended to in place: the bytes stay
	 * (the kernel's ext4 6.18 loses them; e4fuse must not) */
	f = new_file(fs, root, "grown");
	write_both(fs, f, "grown", 0, 50, 49);
	assert_int_equal(e4_truncate(fs, f, 100), 0);
	expect_truncate("grown", 100);
	write_both(fs, f, "grown", 100, 5, 50);
	assert_true(is_inline(f));
	e4_iput(fs, f);

	f = lookup_root(fs, "small");			/* inline from mkfs */
	expect_write("small", "small file\n", 11, 0);
	write_both(fs, f, "small", 6, 40, 45);
	assert_true(is_inline(f));
	e4_iput(fs, f);

	f = new_file(fs, root, "xattr-first");		/* the area taken */
	memset(buf, 'v', sizeof(buf));
	assert_int_equal(e4_setxattr(fs, f, "user.big", buf, 60, 0), 0);
	write_both(fs, f, "xattr-first", 0, 30, 46);
	assert_false(is_inline(f));
	e4_iput(fs, f);

	f = new_file(fs, root, "xattr-after");		/* system.data stays */
	write_both(fs, f, "xattr-after", 0, 100, 47);
	assert_true(is_inline(f));
	assert_int_equal(e4_setxattr(fs, f, "user.big", buf, 64, 0), 0);
	assert_true(is_inline(f));
	write_both(fs, f, "xattr-after", 100, 10, 48);
	e4_iput(fs, f);

	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	kernel_cmp(img, "grow", "grow");
	kernel_cmp(img, "cut", "cut");
	kernel_cmp(img, "grown", "grown");
	kernel_cmp(img, "small", "small");
	kernel_cmp(img, "xattr-first", "xattr-first");
	kernel_cmp(img, "xattr-after", "xattr-after");
	tu_kernel_expect(img, "test \"$(getfattr --only-values -n user.big \"$m/xattr-after\")\" = "
			      "\"$(head -c 64 /dev/zero | tr '\\0' v)\"");
	free(img);
}

/* O_TMPFILE: an inode with no name, an orphan from the start; one given a
 * name by e4_link keeps its data, one never named goes with its last
 * reference, and an unlinked open file cannot be named again. */
static void test_tmpfile(void **state)
{
	char *img = tu_mkfs("w16.img", "-b 4096 -O ^orphan_file", NULL, "32M");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *root = root_of(fs), *t1, *t2, *gone, *held;
	struct e4_inode snap;
	struct e4_statfs before, after;

	(void)state;
	assert_int_equal(e4_fs_statfs(fs, &before), 0);
	assert_int_equal(e4_tmpfile(fs, root, 0100640, &root_cred, &t1), 0);
	assert_int_equal(e4_tmpfile(fs, root, 0040755, &root_cred, &gone),
			 -EINVAL);
	assert_int_equal(e4_tmpfile(fs, root, 0100600, &root_cred, &t2), 0);
	e4_ino_snapshot(t1, &snap);
	assert_int_equal(snap.links, 0);
	write_both(fs, t1, "tmp1", 0, 70000, 21);
	write_both(fs, t2, "tmp2", 0, 300000, 22);
	assert_int_equal(e4_link(fs, t1, root, "named", 5), 0);
	e4_ino_snapshot(t1, &snap);
	assert_int_equal(snap.links, 1);
	assert_int_equal(snap.dtime, 0);
	write_both(fs, t1, "tmp1", 70000, 5000, 23);
	e4_iput(fs, t1);
	e4_iput(fs, t2);	/* never named: deleted */
	/* an unlinked open file is no tmpfile: no new name for it */
	held = new_file(fs, root, "held");
	assert_int_equal(e4_unlink(fs, root, "held", 4), 0);
	assert_int_equal(e4_link(fs, held, root, "again", 5), -ENOENT);
	e4_iput(fs, held);
	assert_int_equal(e4_fs_sync(fs), 0);
	assert_int_equal(e4_fs_statfs(fs, &after), 0);
	/* what is left: the named file's 19 blocks and its inode */
	assert_int_equal(before.ffree - after.ffree, 1);
	assert_int_equal(before.bfree - after.bfree, 19);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	kernel_cmp(img, "named", "tmp1");
	tu_kernel_expect(img, "test \"$(stat -c '%a %h' \"$m/named\")\" = '640 1'; "
			 "test ! -e \"$m/again\"; test ! -e \"$m/held\"");
	free(img);
}

/* A directory entry naming its own directory (a crafted image): removing
 * or renaming it would lock the directory twice; it is refused as
 * corruption, and nothing changes. */
static void test_entry_naming_own_directory(void **state)
{
	char *img = tu_mkfs("w17.img", "-b 4096", NULL, "16M");
	struct e4_fs *fs;
	struct e4_ino *root, *d;

	(void)state;
	tu_debugfs(img, "mkdir d\nln d d/loop\nwrite /dev/null x");
	fs = tu_open_rw(img);
	root = root_of(fs);
	d = lookup_root(fs, "d");
	assert_int_equal(e4_unlink(fs, d, "loop", 4), -EUCLEAN);
	assert_int_equal(e4_rmdir(fs, d, "loop", 4), -EUCLEAN);
	assert_int_equal(e4_rename(fs, d, "loop", 4, root, "y", 1, 0),
			 -EUCLEAN);
	assert_int_equal(e4_rename(fs, root, "x", 1, d, "loop", 4, 0),
			 -EUCLEAN);
	e4_iput(fs, d);
	e4_iput(fs, root);
	tu_close_rw(fs);
	/* the entry is still there, and nothing else moved */
	tu_sh("debugfs -R 'ls -l /d' '%s' 2>/dev/null | grep -q ' loop' && "
	      "debugfs -R 'ls -l /' '%s' 2>/dev/null | grep -q ' x *$'",
	      img, img);
	free(img);
}

/* The classic orphan list patches a neighbour's i_dtime in place: the
 * record another holder decoded changes under it, and its attributes must
 * still read (the record's digest leaves i_dtime out). */
static void test_orphan_neighbour_dtime(void **state)
{
	char *img = tu_mkfs("w18.img", "-b 4096 -I 256 -O ^orphan_file",
			    NULL, "16M");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *root = root_of(fs), *a, *b;
	struct e4_inode snap;
	char v[8];

	(void)state;
	a = new_file(fs, root, "a");
	b = new_file(fs, root, "b");
	assert_int_equal(e4_setxattr(fs, b, "user.x", "kept", 4, 0), 0);
	assert_int_equal(e4_unlink(fs, root, "a", 1), 0);
	assert_int_equal(e4_unlink(fs, root, "b", 1), 0);
	/* the list: b -> a; deleting a patches b's i_dtime */
	e4_iput(fs, a);
	e4_ino_snapshot(b, &snap);
	assert_int_equal(e4_xattr_get(fs, &snap, "user.x", v, sizeof(v)), 4);
	assert_memory_equal(v, "kept", 4);
	e4_iput(fs, b);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	free(img);
}

/* A write into a hole whose block was found but whose extent did not fit
 * (a full in-inode root, and the only block left for a leaf freed in the
 * running transaction): the data block goes back in the same handle, the
 * transaction commits and the write is tried again, and then fits.  Before,
 * the handle was aborted and the file system went read-only. */
static void test_enospc_extent_split(void **state)
{
	/* 64 blocks: the metadata reserve is one block */
	char *img = tu_mkfs("w19.img", "-b 1024 -m 0 -N 16 "
			    "-O ^has_journal,^resize_inode", NULL, "64K");
	struct e4_fs *fs;
	struct e4_ino *root, *frag, *fill;
	struct e4_statfs st;
	uint8_t buf[1024];
	uint64_t off = 0;
	ssize_t n;

	(void)state;
	/* (mkfs writes nothing near the end of so small a file system) */
	tu_sh("truncate -s 64K '%s'", img);
	fs = tu_open_rw(img);
	root = root_of(fs);
	frag = new_file(fs, root, "frag");
	for (uint64_t b = 0; b < 8; b += 2)	/* four extents: a full root */
		write_both(fs, frag, "frag", b * 1024, 1024, 24);
	fill = new_file(fs, root, "fill");
	memset(buf, 'f', sizeof(buf));
	while ((n = e4_write(fs, fill, off, buf, sizeof(buf))) > 0)
		off += (uint64_t)n;
	assert_int_equal(n, -ENOSPC);
	assert_int_equal(e4_fs_sync(fs), 0);
	assert_int_equal(e4_fs_statfs(fs, &st), 0);
	assert_int_equal(st.bfree, 1);		/* the reserve */
	/* one block more, freed in the running transaction */
	assert_int_equal(e4_truncate(fs, fill, off - 1024), 0);
	assert_int_equal(e4_fs_statfs(fs, &st), 0);
	assert_int_equal(st.bfree, 2);
	write_both(fs, frag, "frag", 10 * 1024, 1024, 25);
	assert_true(e4_fs_writable(fs));
	assert_int_equal(e4_fs_sync(fs), 0);
	assert_int_equal(e4_fs_statfs(fs, &st), 0);
	assert_int_equal(st.bfree, 0);
	e4_iput(fs, fill);
	e4_iput(fs, frag);
	e4_iput(fs, root);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	kernel_cmp(img, "frag", "frag");
	free(img);
}

/*
 * The free counts a clean unmount writes to the superblock: exact (strict
 * e2fsck: a wrong superblock count is reported with exit status 0), and
 * without reading the descriptors of groups the session never used (the
 * counts it started with plus what it changed).  Once every descriptor has
 * been read (statfs), the counts are their sums, whatever the superblock
 * said before.
 */
static void test_super_counts_at_unmount(void **state)
{
	struct e4_fs_counters before, after;
	uint8_t buf[4096];

	(void)state;
	memset(buf, 'c', sizeof(buf));
	for (int statfs_first = 0; statfs_first < 2; statfs_first++) {
		/* 64 groups, their descriptors in four blocks */
		char *img = tu_mkfs(tu_msg("w20-%d.img", statfs_first),
				    "-b 1024", NULL, "512M");
		struct e4_fs *fs;
		struct e4_ino *root, *ip;
		struct e4_statfs st;

		if (statfs_first)	/* wrong, but not impossibly so */
			tu_debugfs(img, "ssv free_blocks_count 1000");
		fs = tu_open_rw(img);
		if (statfs_first)
			assert_int_equal(e4_fs_statfs(fs, &st), 0);
		root = root_of(fs);
		ip = new_file(fs, root, "f");
		for (uint64_t off = 0; off < 300 * 1024; off += sizeof(buf))
			assert_int_equal(e4_write(fs, ip, off, buf, sizeof(buf)),
					 (ssize_t)sizeof(buf));
		e4_iput(fs, ip);
		e4_iput(fs, root);
		assert_int_equal(e4_fs_sync(fs), 0);
		e4_fs_get_counters(fs, &before);
		assert_int_equal(e4_fs_end_write(fs), 0);
		e4_fs_get_counters(fs, &after);
		/* the superblock at most, no descriptor */
		assert_true(after.dev_reads - before.dev_reads <= 1);
		tu_close(fs);
		tu_fsck_clean(img);
		free(img);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_and_write),
		cmocka_unit_test(test_many_names),
		cmocka_unit_test(test_extent_tree),
		cmocka_unit_test(test_unlink_held),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_full_disk),
		cmocka_unit_test(test_dir_nlink),
		cmocka_unit_test(test_refusals_and_state),
		cmocka_unit_test(test_big_directory),
		cmocka_unit_test(test_xattrs),
		cmocka_unit_test(test_fallocate),
		cmocka_unit_test(test_ext2),
		cmocka_unit_test(test_renames),
		cmocka_unit_test(test_orphan_after_crash),
		cmocka_unit_test(test_inline_convert),
		cmocka_unit_test(test_inline_grow),
		cmocka_unit_test(test_inline_dirs),
		cmocka_unit_test(test_tmpfile),
		cmocka_unit_test(test_entry_naming_own_directory),
		cmocka_unit_test(test_orphan_neighbour_dtime),
		cmocka_unit_test(test_enospc_extent_split),
		cmocka_unit_test(test_super_counts_at_unmount),
	};

	return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}
