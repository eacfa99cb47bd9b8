/* SPDX-License-Identifier: MIT */
/*
 * Attribute values in EA inodes (§9.6) written through libe4: values
 * larger than most of a block, or with no room left beside the others, get
 * an inode of their own; replacing or removing them, and deleting their
 * owner, lets go of it (freed with its last user, also when the kernel
 * made it and shares it between two files, or names it from an xattr
 * block two files share).  After each test e2fsck -fn (which checks every
 * EA inode's count, hash and the owners' i_blocks) finds the image clean
 * and the kernel reads the values back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e4/write.h"
#include "ondisk/ondisk.h"
#include "testutil.h"

static const struct e4_cred root_cred = { 0, 0, 0 };

static struct e4_ino *root_of(struct e4_fs *fs)
{
	struct e4_ino *ip;

	assert_int_equal(e4_iget(fs, E4_ROOT_INO, &ip), 0);
	return ip;
}

static struct e4_ino *new_file(struct e4_fs *fs, const char *name)
{
	struct e4_ino *dir = root_of(fs), *ip;

	assert_int_equal(e4_mknod(fs, dir, name, strlen(name), 0100644, 0, 0,
				  &root_cred, &ip), 0);
	e4_iput(fs, dir);
	return ip;
}

static struct e4_ino *lookup(struct e4_fs *fs, const char *name)
{
	struct e4_ino *dir = root_of(fs), *ip;
	struct e4_inode d;

	e4_ino_snapshot(dir, &d);
	assert_int_equal(e4_lookup(fs, &d, name, strlen(name), &ip), 0);
	e4_iput(fs, dir);
	return ip;
}

static void remove_file(struct e4_fs *fs, const char *name)
{
	struct e4_ino *dir = root_of(fs);

	assert_int_equal(e4_unlink(fs, dir, name, strlen(name)), 0);
	e4_iput(fs, dir);
}

/* Set user.NAME to @len bytes of @c. */
static int set_fill(struct e4_fs *fs, struct e4_ino *ip, const char *name,
		    char c, size_t len)
{
	char *v = malloc(len ? len : 1);
	int err;

	memset(v, c, len);
	err = e4_setxattr(fs, ip, tu_msg("user.%s", name), v, len, 0);
	free(v);
	return err;
}

/* A count dumpe2fs -h shows ("Free inodes", "Free blocks"). */
static unsigned long sb_count(const char *img, const char *what)
{
	char *out = tu_sh_out("dumpe2fs -h '%s' 2>/dev/null | "
			      "sed -n 's/^%s: *//p'", img, what);
	unsigned long n = strtoul(out, NULL, 10);

	free(out);
	return n;
}

static unsigned long free_inodes(const char *img)
{
	return sb_count(img, "Free inodes");
}

static unsigned long free_blocks(const char *img)
{
	return sb_count(img, "Free blocks");
}

/* Whether @path has an xattr block (debugfs's "File ACL"). */
static bool has_xattr_block(const char *img, const char *path)
{
	char *out = tu_debugfs_out(img, tu_msg("stat %s", path));
	bool yes = strstr(out, "File ACL: 0") == NULL;

	assert_non_null(strstr(out, "File ACL: "));
	free(out);
	return yes;
}

/* The kernel check that user.NAME of @path is @len bytes of @c. */
static const char *kernel_value(const char *path, const char *name, char c,
				size_t len)
{
	return tu_msg("v=$(getfattr --absolute-names --only-values -n user.%s \"$m/%s\" | "
		      "od -An -v -tx1 | tr -s ' \\n' '\\n\\n' | grep -c .); "
		      "test \"$v\" = %zu; "
		      "test \"$(getfattr --absolute-names --only-values -n user.%s \"$m/%s\" | "
		      "tr -d '%c' | wc -c)\" = 0; ",
		      name, path, len, name, path, c);
}

/* ---- tests ---------------------------------------------------------------- */

/* Placement as the kernel places (the kernel's choices, read off this
 * kernel: more than 7/8 of a block goes to an EA inode at once), values
 * replaced both ways and removed, on 4 KiB, 1 KiB and bigalloc file
 * systems; the EA inodes freed are free again. */
static void test_values(void **state)
{
	static const struct {
		const char *name, *mkfs;
	} layouts[] = {
		{ "e1.img", "-b 4096 -I 256 -O ea_inode" },
		{ "e2.img", "-b 1024 -I 256 -O ea_inode" },
		{ "e3.img", "-b 4096 -I 256 -O ea_inode,bigalloc -C 16384" },
	};

	(void)state;
	for (size_t l = 0; l < sizeof(layouts) / sizeof(layouts[0]); l++) {
		char *img = tu_mkfs(layouts[l].name, layouts[l].mkfs, NULL,
				    "64M");
		uint32_t bs = tu_block_size(img);
		size_t edge = bs - bs / 8;
		unsigned long inodes0 = free_inodes(img);
		unsigned long blocks0 = free_blocks(img);
		char checks[4096] = "";
		struct e4_fs *fs = tu_open_rw(img);
		struct e4_ino *a = new_file(fs, "a"), *b = new_file(fs, "b"),
			      *c = new_file(fs, "c"), *d = new_file(fs, "d");

		assert_int_equal(set_fill(fs, a, "v", 'a', edge), 0);
		assert_int_equal(set_fill(fs, b, "v", 'b', edge + 1), 0);
		assert_int_equal(set_fill(fs, c, "v", 'c', 65536), 0);
		assert_int_equal(set_fill(fs, d, "v", 'd', 10000), 0);
		assert_int_equal(set_fill(fs, d, "w", 'w', 20000), 0);
		e4_iput(fs, a);
		e4_iput(fs, b);
		e4_iput(fs, c);
		e4_iput(fs, d);
		tu_close_rw(fs);
		tu_fsck_clean(img);
		/* four files and four EA inodes */
		assert_int_equal(free_inodes(img), inodes0 - 8);
		assert_true(has_xattr_block(img, "/a"));
		assert_false(has_xattr_block(img, "/b"));
		assert_false(has_xattr_block(img, "/c"));
		strcat(checks, kernel_value("a", "v", 'a', edge));
		strcat(checks, kernel_value("b", "v", 'b', edge + 1));
		strcat(checks, kernel_value("c", "v", 'c', 65536));
		strcat(checks, kernel_value("d", "v", 'd', 10000));
		strcat(checks, kernel_value("d", "w", 'w', 20000));
		tu_kernel_expect(img, checks);

		/* large to small, small to large, removed, replaced by
		 * another large one */
		fs = tu_open_rw(img);
		a = lookup(fs, "a");
		c = lookup(fs, "c");
		d = lookup(fs, "d");
		assert_int_equal(set_fill(fs, c, "v", 'C', 7), 0);
		assert_int_equal(set_fill(fs, a, "v", 'A', 30000), 0);
		assert_int_equal(e4_removexattr(fs, d, "user.w"), 0);
		assert_int_equal(e4_removexattr(fs, d, "user.w"), -ENODATA);
		assert_int_equal(set_fill(fs, d, "v", 'D', 12345), 0);
		e4_iput(fs, a);
		e4_iput(fs, c);
		e4_iput(fs, d);
		tu_close_rw(fs);
		tu_fsck_clean(img);
		/* EA inodes now: a, b, d */
		assert_int_equal(free_inodes(img), inodes0 - 7);
		checks[0] = '\0';
		strcat(checks, kernel_value("a", "v", 'A', 30000));
		strcat(checks, kernel_value("b", "v", 'b', edge + 1));
		strcat(checks, kernel_value("c", "v", 'C', 7));
		strcat(checks, kernel_value("d", "v", 'D', 12345));
		strcat(checks, "if getfattr --absolute-names -n user.w \"$m/d\" 2>/dev/null; then exit 1; fi; ");
		tu_kernel_expect(img, checks);

		/* the owners go, and their values with them */
		fs = tu_open_rw(img);
		remove_file(fs, "a");
		remove_file(fs, "b");
		remove_file(fs, "c");
		remove_file(fs, "d");
		tu_close_rw(fs);
		tu_fsck_clean(img);
		assert_int_equal(free_inodes(img), inodes0);
		assert_int_equal(free_blocks(img), blocks0);
		free(img);
	}
}

/* Values with no room beside the others: the new one goes to an EA inode
 * and its entry stays in the inode, as the kernel does it. */
static void test_no_room_beside(void **state)
{
	char *img = tu_mkfs("e4.img", "-b 4096 -I 256 -O ea_inode", NULL, "32M");
	unsigned long inodes0 = free_inodes(img);
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *h = new_file(fs, "h");

	(void)state;
	assert_int_equal(set_fill(fs, h, "s", 's', 5), 0);
	assert_int_equal(set_fill(fs, h, "b", 'b', 3000), 0);
	assert_int_equal(set_fill(fs, h, "c", 'c', 3000), 0);
	e4_iput(fs, h);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	assert_int_equal(free_inodes(img), inodes0 - 2);
	assert_true(has_xattr_block(img, "/h"));
	tu_kernel_expect(img, tu_msg("%s%s%s", kernel_value("h", "s", 's', 5),
				     kernel_value("h", "b", 'b', 3000),
				     kernel_value("h", "c", 'c', 3000)));
	free(img);
}

/* An EA inode the kernel shares between two files (refcount 2), and one
 * named from an xattr block two files share: each owner lets go of its
 * reference; the last one frees it. */
static void test_kernel_shared(void **state)
{
	char *img = tu_mkfs("e5.img", "-b 4096 -I 256 -O ea_inode", NULL, "32M");
	unsigned long inodes0 = free_inodes(img);
	struct e4_fs *fs;
	struct e4_ino *ip;

	(void)state;
	if (!tu_can_loop_mount()) {
		free(img);
		tu_skip("needs a loop mount (the kernel makes the shared values)");
	}
	tu_sh("set -e; m='%s/kmnt'; mkdir -p \"$m\"; mount -o loop '%s' \"$m\"; "
	      "v=$(head -c 10000 /dev/zero | tr '\\0' S); "
	      "touch \"$m/s1\" \"$m/s2\"; "
	      "setfattr -n user.big -v \"$v\" \"$m/s1\"; "
	      "setfattr -n user.big -v \"$v\" \"$m/s2\"; "
	      "touch \"$m/k1\"; "
	      "for i in 1 2 3 4; do setfattr -n user.f$i -v 0123456789 \"$m/k1\"; done; "
	      "setfattr -n user.large_value_name_x -v \"$(head -c 5000 /dev/zero | tr '\\0' L)\" \"$m/k1\"; "
	      "cp --preserve=xattr \"$m/k1\" \"$m/k2\"; umount \"$m\"",
	      tu_tmpdir(), img);
	/* what the kernel made: one EA inode for s1 and s2, one for k1's
	 * value, whose entry sits in the block k2 shares (its name too long
	 * for the in-inode area the four small ones filled) */
	assert_int_equal(free_inodes(img), inodes0 - 6);
	{
		char *blk = tu_sh_out("debugfs -R 'stat /k1' '%s' 2>/dev/null | "
				      "sed -n 's/.*File ACL: \\([0-9]*\\).*/\\1/p'", img);
		char *in_block = tu_sh_out("dd if='%s' bs=4096 skip=%lu count=1 2>/dev/null | "
					   "grep -a -c large_value_name_x", img,
					   strtoul(blk, NULL, 10));

		assert_int_equal(atoi(in_block), 1);
		free(blk);
		free(in_block);
	}
	{
		char *k1 = tu_debugfs_out(img, "stat /k1");
		char *k2 = tu_debugfs_out(img, "stat /k2");
		const char *p1 = strstr(k1, "File ACL: "), *p2 = strstr(k2, "File ACL: ");

		assert_non_null(p1);
		assert_non_null(p2);
		assert_true(strtoul(p1 + 10, NULL, 10) != 0);
		assert_int_equal(strtoul(p1 + 10, NULL, 10),
				 strtoul(p2 + 10, NULL, 10));
		free(k1);
		free(k2);
	}
	tu_fsck_clean(img);

	fs = tu_open_rw(img);
	ip = lookup(fs, "s1");
	assert_int_equal(e4_removexattr(fs, ip, "user.big"), 0);
	e4_iput(fs, ip);
	/* k2's block is copied: the copy names the EA inode too */
	ip = lookup(fs, "k2");
	assert_int_equal(set_fill(fs, ip, "n", 'n', 40), 0);
	e4_iput(fs, ip);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	assert_int_equal(free_inodes(img), inodes0 - 6);
	tu_kernel_expect(img, tu_msg("%s%s%s%s"
				     "if getfattr --absolute-names -n user.big \"$m/s1\" 2>/dev/null; then exit 1; fi; ",
				     kernel_value("s2", "big", 'S', 10000),
				     kernel_value("k1", "large_value_name_x", 'L', 5000),
				     kernel_value("k2", "large_value_name_x", 'L', 5000),
				     kernel_value("k2", "n", 'n', 40)));

	fs = tu_open_rw(img);
	remove_file(fs, "s2");
	remove_file(fs, "k1");
	tu_close_rw(fs);
	tu_fsck_clean(img);
	/* s2's value went with it; k1's stays, k2 names it */
	assert_int_equal(free_inodes(img), inodes0 - 3);
	tu_kernel_expect(img, kernel_value("k2", "large_value_name_x", 'L', 5000));

	fs = tu_open_rw(img);
	remove_file(fs, "k2");
	remove_file(fs, "s1");
	tu_close_rw(fs);
	tu_fsck_clean(img);
	assert_int_equal(free_inodes(img), inodes0);
	free(img);
}

/* No room for the value's blocks: ENOSPC, and nothing changed. */
static void test_full(void **state)
{
	char *img = tu_mkfs("e6.img", "-b 1024 -I 256 -m 0 -O ea_inode", NULL,
			    "4M");
	struct e4_fs *fs = tu_open_rw(img);
	struct e4_ino *f = new_file(fs, "f"), *g;
	unsigned long inodes, blocks;
	char *buf = calloc(1, 1 << 20);
	uint64_t off = 0;
	ssize_t n;

	(void)state;
	/* fill the disk but for a few blocks */
	while ((n = e4_write(fs, f, off, buf, 1 << 20)) > 0)
		off += (uint64_t)n;
	assert_int_equal(n, -ENOSPC);
	assert_int_equal(e4_truncate(fs, f, off - 20 * 1024), 0);
	e4_iput(fs, f);
	tu_close_rw(fs);
	inodes = free_inodes(img);
	blocks = free_blocks(img);

	fs = tu_open_rw(img);
	g = new_file(fs, "g");
	assert_int_equal(set_fill(fs, g, "big", 'x', 65536), -ENOSPC);
	assert_int_equal(set_fill(fs, g, "fits", 'y', 8000), 0);
	e4_iput(fs, g);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	/* g and its value's inode; the value's 8 blocks */
	assert_int_equal(free_inodes(img), inodes - 2);
	assert_int_equal(free_blocks(img), blocks - 8);
	tu_kernel_expect(img, tu_msg("%s if getfattr --absolute-names -n user.big \"$m/g\" 2>/dev/null; then exit 1; fi",
				     kernel_value("g", "fits", 'y', 8000)));
	free(buf);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_no_room_beside),
		cmocka_unit_test(test_kernel_shared),
		cmocka_unit_test(test_full),
	};

	return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}
