/* SPDX-License-Identifier: MIT */
/*
 * Extended attributes and POSIX ACLs (§9) on images populated by the kernel
 * through loop mounts: every attribute list is compared with what
 * `getfattr -d -m - -e hex` printed on the kernel mount.  Then the images are
 * broken byte by byte.
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

static char *img256;	/* 4 KiB blocks, 256-byte inodes, metadata_csum */
static char *img128;	/* 128-byte inodes: no in-inode area */
static char *imgea;	/* ea_inode */
static char *oracle_dir;

/* ---- image building ------------------------------------------------------ */

/* Mount @img, run @script inside the mount point ($O = oracle dir), save the
 * getfattr output of @files, unmount. */
static void kernel_populate(const char *img, const char *tag,
			    const char *script, const char *files)
{
	/* (the script's subshell stands alone, not left of an ||, so that
	 * set -e holds in it) */
	tu_sh("set -e; m='%s/mnt'; O='%s'; mkdir -p \"$m\"; mount -o loop '%s' \"$m\"; "
	      "cd \"$m\"; set +e; ( set -e; %s ) >/dev/null 2>&1; rc=$?; set -e; "
	      "if [ $rc != 0 ]; then cd /; umount \"$m\"; exit 1; fi; "
	      "for f in %s; do getfattr --absolute-names -h -d -m - -e hex \"$f\" 2>/dev/null | "
	      "grep -v '^#' | grep -v '^$' | LC_ALL=C sort > \"$O/%s.$f\"; done; "
	      "cd /; umount \"$m\"",
	      tu_tmpdir(), oracle_dir, img, script, files, tag);
}

static const char basic_script[] =
	"touch small && setfattr -n user.foo -v bar small && "
	"setfattr -n user.hello -v 'world!' small && "
	"touch ns && setfattr -n user.empty ns && setfattr -n trusted.t -v 1 ns && "
	"setfattr -n security.s -v abc ns && "
	"touch blk && setfattr -n user.big -v \"$(head -c 3000 /dev/zero | tr '\\0' B)\" blk && "
	"setfattr -n user.small -v x blk && "
	"touch many && for i in $(seq -w 0 39); do setfattr -n user.attr$i -v value-$i many; done && "
	"touch s1 s2 && v=$(head -c 1500 /dev/zero | tr '\\0' Q) && "
	"setfattr -n user.shared -v \"$v\" s1 && setfattr -n user.shared -v \"$v\" s2 && "
	"touch acl && setfacl -m u:1234:rw,g:55:r acl && "
	"mkdir dacl && setfacl -m u:7:r dacl && setfacl -d -m u:1000:rwx,g:100:rx dacl && "
	"touch plain && echo hi > plain";
static const char basic_files[] = "small ns blk many s1 s2 acl dacl plain";

static int group_setup(void **state)
{
	(void)state;
	if (!tu_can_loop_mount())
		return 0;
	oracle_dir = tu_sh_out("d='%s/oracle'; mkdir -p \"$d\"; printf %%s \"$d\"",
			       tu_tmpdir());
	img256 = tu_mkfs("x256.img", "-b 4096 -I 256", NULL, "64M");
	kernel_populate(img256, "x256", basic_script, basic_files);
	img128 = tu_mkfs("x128.img", "-b 4096 -I 128", NULL, "64M");
	kernel_populate(img128, "x128", basic_script, basic_files);
	imgea = tu_mkfs("xea.img", "-b 4096 -I 256 -O ea_inode", NULL, "64M");
	kernel_populate(imgea, "xea",
			"v=$(seq 1 3000 | tr '\\n' ,) && touch huge huge2 && "
			"setfattr -n user.huge -v \"$v\" huge && setfattr -n user.huge -v \"$v\" huge2 && "
			"setfattr -n user.small -v s huge && "
			"touch mid && setfattr -n user.mid -v \"$(seq 1 1200 | tr '\\n' .)\" mid && "
			"touch plain && echo hi > plain",
			"huge huge2 mid plain");
	return 0;
}

#define NEED_MOUNT()                                                    \
	do {                                                            \
		if (!tu_can_loop_mount())                                  \
			tu_skip("no loop mounts");                      \
	} while (0)

/* ---- helpers ---------------------------------------------------------------- */

static void open_inode(const char *img, const char *path, struct e4_fs **fs,
		       struct e4_inode *in)
{
	uint32_t ino = tu_ino_of(img, path);

	assert_int_equal(tu_open(img, fs), 0);
	assert_int_equal(e4_inode_read(*fs, ino, in), 0);
}

struct name_list {
	char names[128][300];
	size_t n;
};

static int collect_name(void *ctx, const char *name, size_t len)
{
	struct name_list *l = ctx;

	assert_true(len < sizeof(l->names[0]));
	assert_true(l->n < 128);
	memcpy(l->names[l->n], name, len);
	l->names[l->n][len] = '\0';
	l->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Our view of the attributes of @path in getfattr's format, sorted. */
static char *dump_xattrs(struct e4_fs *fs, const struct e4_inode *in)
{
	static struct name_list l;
	char *lines[128];
	size_t total = 1, i;
	char *out;

	l.n = 0;
	assert_int_equal(e4_xattr_list(fs, in, collect_name, &l), 0);
	for (i = 0; i < l.n; i++) {
		ssize_t sz = e4_xattr_get(fs, in, l.names[i], NULL, 0);
		uint8_t *v;
		char *line;

		assert_true(sz >= 0);
		v = malloc((size_t)sz + 1);
		assert_int_equal(e4_xattr_get(fs, in, l.names[i], v, (size_t)sz), sz);
		line = malloc(strlen(l.names[i]) + 4 + 2 * (size_t)sz);
		sprintf(line, "%s=0x", l.names[i]);
		for (ssize_t k = 0; k < sz; k++)
			sprintf(line + strlen(line), "%02x", v[k]);
		lines[i] = line;
		total += strlen(line) + 1;
		free(v);
	}
	qsort(lines, l.n, sizeof(lines[0]), cmp_str);
	out = malloc(total);
	out[0] = '\0';
	for (i = 0; i < l.n; i++) {
		strcat(out, lines[i]);
		strcat(out, "\n");
		free(lines[i]);
	}
	return out;
}

static void compare_with_kernel(const char *img, const char *tag,
				const char *file)
{
	struct e4_fs *fs;
	struct e4_inode in;
	char path[64];
	char *want, *got;

	snprintf(path, sizeof(path), "/%s", file);
	open_inode(img, path, &fs, &in);
	want = tu_sh_out("cat '%s/%s.%s'", oracle_dir, tag, file);
	got = dump_xattrs(fs, &in);
	if (strcmp(want, got) != 0)
		fail_msg("%s %s: kernel says\n%s\nwe say\n%s", tag, file, want, got);
	tu_close(fs);
	free(want);
	free(got);
}

/* Where things are in the image */
static uint64_t ibody_first_entry(const char *img, uint32_t ino)
{
	uint64_t off = tu_inode_offset(img, ino);

	return off + 128 + tu_peek_le16(img, off + E4_I_EXTRA_ISIZE) + 4;
}

static uint64_t xattr_block_of(const char *img, uint32_t ino)
{
	return tu_peek_le32(img, tu_inode_offset(img, ino) + E4_I_FILE_ACL_LO);
}

/* Find entry (@index, @name) in the table starting at @pos; returns its
 * image offset (fails the test if absent). */
static uint64_t find_entry(const char *img, uint64_t pos, uint8_t index,
			   const char *name)
{
	for (int i = 0; i < 200; i++) {
		uint8_t hdr[16], nm[256];

		tu_peek(img, pos, hdr, 16);
		if (e4_le32(hdr, 16, 0) == 0)
			break;
		tu_peek(img, pos + 16, nm, hdr[0]);
		if (hdr[1] == index && hdr[0] == strlen(name) &&
		    memcmp(nm, name, hdr[0]) == 0)
			return pos;
		pos += (16u + hdr[0] + 3) & ~3u;
	}
	fail_msg("entry %u/%s not found", index, name);
	return 0;
}

/* ---- kernel-written images ------------------------------------------------ */

static void test_kernel_256(void **state)
{
	(void)state;
	NEED_MOUNT();
	const char *files[] = { "small", "ns", "blk", "many", "s1", "s2",
				"acl", "dacl", "plain" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		compare_with_kernel(img256, "x256", files[i]);
}

static void test_kernel_128(void **state)
{
	(void)state;
	NEED_MOUNT();
	const char *files[] = { "small", "ns", "blk", "many", "s1", "s2",
				"acl", "dacl", "plain" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		compare_with_kernel(img128, "x128", files[i]);
	/* no in-inode area: everything is in the block */
	assert_int_not_equal(xattr_block_of(img128, tu_ino_of(img128, "/small")), 0);
}

static void test_kernel_ea_inode(void **state)
{
	(void)state;
	NEED_MOUNT();
	const char *files[] = { "huge", "huge2", "mid", "plain" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		compare_with_kernel(imgea, "xea", files[i]);
	/* the value really is in an EA inode */
	uint32_t ino = tu_ino_of(imgea, "/huge");
	uint64_t e = find_entry(imgea, ibody_first_entry(imgea, ino), 1, "huge");
	assert_int_not_equal(tu_peek_le32(imgea, e + 4), 0);
	assert_true(tu_peek_le32(imgea, e + 8) > 10000);
}

static void test_shared_block(void **state)
{
	(void)state;
	NEED_MOUNT();
	uint64_t b1 = xattr_block_of(img256, tu_ino_of(img256, "/s1"));
	uint64_t b2 = xattr_block_of(img256, tu_ino_of(img256, "/s2"));

	assert_int_not_equal(b1, 0);
	assert_int_equal(b1, b2);
	assert_int_equal(tu_peek_le32(img256, b1 * 4096 + 4), 2);
	/* read both through one fs: the block is verified once and shared */
	struct e4_fs *fs;
	struct e4_inode a, b;
	char v[2000];
	assert_int_equal(tu_open(img256, &fs), 0);
	assert_int_equal(e4_inode_read(fs, tu_ino_of(img256, "/s1"), &a), 0);
	assert_int_equal(e4_inode_read(fs, tu_ino_of(img256, "/s2"), &b), 0);
	assert_int_equal(e4_xattr_get(fs, &a, "user.shared", v, sizeof(v)), 1500);
	assert_int_equal(e4_xattr_get(fs, &b, "user.shared", v, sizeof(v)), 1500);
	assert_int_equal(v[0], 'Q');
	assert_int_equal(v[1499], 'Q');
	tu_close(fs);
}

static void test_api_errors(void **state)
{
	(void)state;
	NEED_MOUNT();
	struct e4_fs *fs;
	struct e4_inode in;
	char v[16];

	open_inode(img256, "/small", &fs, &in);
	assert_int_equal(e4_xattr_get(fs, &in, "user.foo", NULL, 0), 3);
	assert_int_equal(e4_xattr_get(fs, &in, "user.foo", v, 2), -ERANGE);
	assert_int_equal(e4_xattr_get(fs, &in, "user.foo", v, sizeof(v)), 3);
	assert_memory_equal(v, "bar", 3);
	assert_int_equal(e4_xattr_get(fs, &in, "user.nope", v, sizeof(v)), -ENODATA);
	assert_int_equal(e4_xattr_get(fs, &in, "trusted.foo", v, sizeof(v)), -ENODATA);
	assert_int_equal(e4_xattr_get(fs, &in, "user.", v, sizeof(v)), -EINVAL);
	assert_int_equal(e4_xattr_get(fs, &in, "foo.bar", v, sizeof(v)), -EOPNOTSUPP);
	assert_int_equal(e4_xattr_get(fs, &in, "system.data", v, sizeof(v)), -EOPNOTSUPP);
	assert_int_equal(e4_xattr_get(fs, &in, "system.posix_acl_access", v, sizeof(v)),
			 -ENODATA);
	/* ACL: the converted size, and -ERANGE */
	tu_close(fs);
	open_inode(img256, "/acl", &fs, &in);
	assert_int_equal(e4_xattr_get(fs, &in, "system.posix_acl_access", NULL, 0),
			 4 + 6 * 8);
	assert_int_equal(e4_xattr_get(fs, &in, "system.posix_acl_access", v, sizeof(v)),
			 -ERANGE);
	assert_int_equal(e4_xattr_get(fs, &in, "system.posix_acl_default", NULL, 0),
			 -ENODATA);
	tu_close(fs);
}

static int stop_after_one(void *ctx, const char *name, size_t len)
{
	(void)name;
	(void)len;
	++*(int *)ctx;
	return 7;
}

static void test_list_stops(void **state)
{
	(void)state;
	NEED_MOUNT();
	struct e4_fs *fs;
	struct e4_inode in;
	int calls = 0;

	open_inode(img256, "/many", &fs, &in);
	assert_int_equal(e4_xattr_list(fs, &in, stop_after_one, &calls), 7);
	assert_int_equal(calls, 1);
	tu_close(fs);
}

/* ---- broken images ------------------------------------------------------- */

/* Inode numbers come from the intact @base: debugfs cannot stat a broken
 * inode. */
static void open_broken_inode(const char *img, const char *base,
			      const char *file, struct e4_fs **fs,
			      struct e4_inode *in)
{
	assert_int_equal(tu_open(img, fs), 0);
	assert_int_equal(e4_inode_read(*fs, tu_ino_of(base, file), in), 0);
}

/* Get @attr: @want, and a report of @rule about @obj (none asked with
 * E4_RULE_NONE). */
static void expect_get(const char *img, const char *base, const char *file,
		       const char *attr, ssize_t want, enum e4_rule rule,
		       struct e4_object obj)
{
	static char v[65536];
	struct e4_fs *fs;
	struct e4_inode in;

	open_broken_inode(img, base, file, &fs, &in);
	tu_log_clear();
	assert_int_equal(e4_xattr_get(fs, &in, attr, v, sizeof(v)), want);
	if (rule != E4_RULE_NONE)
		tu_assert_rule(rule, obj);
	tu_close(fs);
}

static int count_names(void *ctx, const char *name, size_t len)
{
	(void)name;
	(void)len;
	++*(int *)ctx;
	return 0;
}

static void expect_list(const char *img, const char *base, const char *file,
			int want_rc, enum e4_rule rule, struct e4_object obj)
{
	struct e4_fs *fs;
	struct e4_inode in;
	int n = 0;

	open_broken_inode(img, base, file, &fs, &in);
	tu_log_clear();
	assert_int_equal(e4_xattr_list(fs, &in, count_names, &n), want_rc);
	if (rule != E4_RULE_NONE)
		tu_assert_rule(rule, obj);
	tu_close(fs);
}

static struct e4_object ibody(uint32_t ino)
{
	return e4_obj(E4_OBJ_XATTR_IBODY, ino, 0, 0);
}

static void test_block_bad_magic(void **state)
{
	(void)state;
	NEED_MOUNT();
	char *img;
	uint32_t ino = tu_ino_of(img256, "/blk");
	uint64_t blk = xattr_block_of(img256, ino);
	struct e4_object obj = e4_obj_xattr_block(ino, blk);

	img = tu_copy(img256, "bmagic.img");
	tu_patch_le32(img, blk * 4096, 0xEA020001);
	expect_get(img, img256, "/blk", "user.big", -EUCLEAN, E4_RULE_XA2, obj);
	expect_list(img, img256, "/blk", -EUCLEAN, E4_RULE_XA2, obj);
	free(img);
}

static void test_block_bad_csum(void **state)
{
	(void)state;
	NEED_MOUNT();
	char *img;
	uint32_t ino = tu_ino_of(img256, "/blk");
	uint64_t blk = xattr_block_of(img256, ino);

	img = tu_copy(img256, "bcsum.img");
	tu_patch_u8(img, blk * 4096 + 4095, 'C');	/* last value byte */
	expect_get(img, img256, "/blk", "user.big", -EUCLEAN, E4_RULE_XA2,
		   e4_obj_xattr_block(ino, blk));
	tu_assert_log(tu_msg("inode %u: xattr block %llu: checksum 0x", ino,
			     (unsigned long long)blk));

	/* E4_CSUM_ACCEPT reads it anyway, with the changed byte */
	struct e4_open_opts opts = { .read_only = true, .csum = E4_CSUM_ACCEPT };
	struct e4_fs *fs;
	struct e4_inode in;
	static char v[4096];
	assert_int_equal(tu_open_opts(img, &opts, &fs), 0);
	assert_int_equal(e4_inode_read(fs, ino, &in), 0);
	assert_int_equal(e4_xattr_get(fs, &in, "user.big", v, sizeof(v)), 3000);
	assert_int_equal(v[2999], 'C');
	tu_close(fs);
	free(img);
}

static void test_block_h_blocks(void **state)
{
	(void)state;
	NEED_MOUNT();
	char *img = tu_copy(img256, "hblocks.img");
	uint32_t ino = tu_ino_of(img256, "/blk");
	uint64_t blk = xattr_block_of(img, ino);

	tu_patch_le32(img, blk * 4096 + 8, 2);
	tu_fix_xattr_block_csum(img, blk);
	expect_get(img, img256, "/blk", "user.big", -EUCLEAN, E4_RULE_XA2,
		   e4_obj_xattr_block(ino, blk));
	free(img);
}

static void test_block_refcount(void **state)
{
	(void)state;
	NEED_MOUNT();
	char *img = tu_copy(img256, "refcount.img");
	uint32_t ino = tu_ino_of(img256, "/blk");
	uint64_t blk = xattr_block_of(img, ino);
	struct e4_object obj = e4_obj_xattr_block(ino, blk);

	tu_patch_le32(img, blk * 4096 + 4, 0);
	tu_fix_xattr_block_csum(img, blk);
	expect_get(img, img256, "/blk", "user.big", -EUCLEAN, E4_RULE_XA2, obj);
	tu_patch_le32(img, blk * 4096 + 4, 1025);
	tu_fix_xattr_block_csum(img, blk);
	expect_get(img, img256, "/blk", "user.big", -EUCLEAN, E4_RULE_XA2, obj);
	free(img);
}

static void test_block_value_checks(void **state)
{
	(void)state;
	NEED_MOUNT();
	char *img = tu_copy(img256, "bvalue.img");
	uint32_t ino = tu_ino_of(img256, "/blk");
	uint64_t blk = xattr_block_of(img, ino);
	struct e4_object obj = e4_obj_xattr_block(ino, blk);
	uint64_t e = find_entry(img, blk * 4096 + 32, 1, "big");
	uint16_t offs = tu_peek_le16(img, e + 2);

	/* value past the end of the block */
	tu_patch_le32(img, e + 8, 5000);
	tu_fix_xattr_block_csum(img, blk);
	expect_get(img, img256, "/blk", "user.big", -EUCLEAN, E4_RULE_XA4, obj);
	/* the message says which entry, as an offset in the block */
	tu_assert_log(tu_msg("inode %u: xattr block %llu: entry at offset %llu: value runs past the end",
			     ino, (unsigned long long)blk,
			     (unsigned long long)(e - blk * 4096)));
	/* misaligned offset */
	tu_patch_le32(img, e + 8, 3000);
	tu_patch_le16(img, e + 2, offs + 2);
	tu_fix_xattr_block_csum(img, blk);
	expect_get(img, img256, "/blk", "user.big", -EUCLEAN, E4_RULE_XA4, obj);
	/* value over the entry table */
	tu_patch_le16(img, e + 2, 32);
	tu_fix_xattr_block_csum(img, blk);
	expect_get(img, img256, "/blk", "user.big", -EUCLEAN, E4_RULE_XA4, obj);
	/* restored: readable again */
	tu_patch_le16(img, e + 2, offs);
	tu_fix_xattr_block_csum(img, blk);
	expect_get(img, img256, "/blk", "user.big", 3000, E4_RULE_NONE, obj);
	free(img);
}

static void test_block_name_past_end(void **state)
{
	(void)state;
	NEED_MOUNT();
	/* an entry near the end of the block whose name runs past it: put an
	 * entry header at B-20 by chaining a long name from the first entry */
	char *img = tu_copy(img256, "bname.img");
	uint32_t ino = tu_ino_of(img256, "/blk");
	uint64_t blk = xattr_block_of(img, ino);
	uint64_t e = blk * 4096 + 32;
	uint8_t zero[4096 - 32];

	/* wipe the block body and craft one entry at 4096-20 reached through
	 * entries whose names fill the gap */
	memset(zero, 0, sizeof(zero));
	tu_patch(img, e, zero, sizeof(zero));
	uint64_t pos = e;
	while (4096 * blk + 4096 - pos > 20 + 272) {
		uint8_t hdr[16] = { 255, 1 };	/* index 1, name "aaa..." */
		uint8_t name[255];

		memset(name, 'a' + (int)((pos / 272) % 26), sizeof(name));
		hdr[0] = 255;
		tu_patch(img, pos, hdr, 16);
		tu_patch(img, pos + 16, name, 255);
		pos += 272;
	}
	/* pad to B-20 with short entries of 20 bytes (name_len 4) */
	while (4096 * blk + 4096 - pos > 20) {
		uint8_t ent[20] = { 4, 1 };

		snprintf((char *)ent + 16, 4, "%03u", (unsigned)((pos / 20) % 1000));
		ent[19] = 'z';
		tu_patch(img, pos, ent, 20);
		pos += 20;
	}
	uint8_t last[16] = { 40, 1 };	/* name of 40 bytes: 16+40 > 20 */
	tu_patch(img, pos, last, 16);
	tu_fix_xattr_block_csum(img, blk);
	expect_list(img, img256, "/blk", -EUCLEAN, E4_RULE_XA3,
		    e4_obj_xattr_block(ino, blk));
	free(img);
}

static void test_ibody_breaks(void **state)
{
	(void)state;
	NEED_MOUNT();
	uint32_t ino = tu_ino_of(img256, "/small");
	uint64_t rec = tu_inode_offset(img256, ino);
	uint64_t e = find_entry(img256, ibody_first_entry(img256, ino), 1, "foo");
	char *img;

	/* name past the end of the inode */
	img = tu_copy(img256, "iname.img");
	tu_patch_u8(img, e, 200);
	tu_fix_inode_csum(img, ino);
	expect_list(img, img256, "/small", -EUCLEAN, E4_RULE_XA3, ibody(ino));
	/* offsets from the start of the inode record, as in a hex dump */
	tu_assert_log(tu_msg("inode %u: in-inode xattr area: entry at offset %llu: name runs past the end",
			     ino, (unsigned long long)(e - rec)));
	free(img);

	/* misaligned value offset */
	img = tu_copy(img256, "ialign.img");
	tu_patch_le16(img, e + 2, tu_peek_le16(img, e + 2) + 1);
	tu_fix_inode_csum(img, ino);
	expect_get(img, img256, "/small", "user.hello", -EUCLEAN, E4_RULE_XA4,
		   ibody(ino));
	free(img);

	/* value past the end */
	img = tu_copy(img256, "ipast.img");
	tu_patch_le32(img, e + 8, 200);
	tu_fix_inode_csum(img, ino);
	expect_get(img, img256, "/small", "user.foo", -EUCLEAN, E4_RULE_XA4,
		   ibody(ino));
	free(img);

	/* two values sharing bytes */
	img = tu_copy(img256, "ioverlap.img");
	{
		uint64_t h = find_entry(img, ibody_first_entry(img, ino), 1, "hello");
		tu_patch_le16(img, e + 2, tu_peek_le16(img, h + 2));
	}
	tu_fix_inode_csum(img, ino);
	expect_get(img, img256, "/small", "user.foo", -EUCLEAN, E4_RULE_XA4,
		   ibody(ino));
	free(img);

	/* duplicate names: rename user.attr01 to user.attr00 (same length) */
	{
		uint32_t m = tu_ino_of(img256, "/many");

		img = tu_copy(img256, "idup.img");
		e = find_entry(img, ibody_first_entry(img, m), 1, "attr01");
		tu_patch(img, e + 16, "attr00", 6);
		tu_fix_inode_csum(img, m);
		expect_list(img, img256, "/many", -EUCLEAN, E4_RULE_XA_DUP,
			    ibody(m));
		free(img);
	}

	/* wrong in-inode magic: the area does not exist (no error), so the
	 * in-inode attributes are gone */
	img = tu_copy(img256, "imagic.img");
	tu_patch_le32(img, ibody_first_entry(img, ino) - 4, 0xEA020001);
	tu_fix_inode_csum(img, ino);
	expect_get(img, img256, "/small", "user.foo", -ENODATA, E4_RULE_NONE,
		   ibody(ino));
	expect_list(img, img256, "/small", 0, E4_RULE_NONE, ibody(ino));
	free(img);
}

static void test_malformed_acl(void **state)
{
	(void)state;
	NEED_MOUNT();
	uint32_t ino = tu_ino_of(img256, "/acl");
	uint64_t e = find_entry(img256, ibody_first_entry(img256, ino), 2, "");
	uint64_t v = ibody_first_entry(img256, ino) + tu_peek_le16(img256, e + 2);
	char *img = tu_copy(img256, "badacl.img");

	tu_patch_le32(img, v, 2);	/* on-disk version must be 1 */
	tu_fix_inode_csum(img, ino);
	expect_get(img, img256, "/acl", "system.posix_acl_access", -EUCLEAN,
		   E4_RULE_XA_ACL, e4_obj_inode(ino));
	/* which rule of §9.7, in words */
	tu_assert_log(tu_msg("inode %u: xattr system.posix_acl_access: malformed POSIX ACL: not version 1",
			     ino));
	free(img);
}

static void test_ea_inode_breaks(void **state)
{
	(void)state;
	NEED_MOUNT();
	uint32_t ino = tu_ino_of(imgea, "/huge");
	uint32_t plain = tu_ino_of(imgea, "/plain");
	uint64_t e = find_entry(imgea, ibody_first_entry(imgea, ino), 1, "huge");
	uint32_t ea_ino = tu_peek_le32(imgea, e + 4);
	char *img;

	/* value inode that is not an EA inode */
	img = tu_copy(imgea, "eanot.img");
	tu_patch_le32(img, e + 4, plain);
	tu_fix_inode_csum(img, ino);
	expect_get(img, imgea, "/huge", "user.huge", -EUCLEAN, E4_RULE_XA5,
		   e4_obj(E4_OBJ_EA_INODE, ino, 0, plain));
	free(img);

	/* value inode number out of range */
	img = tu_copy(imgea, "earange.img");
	tu_patch_le32(img, e + 4, 0xFFFFFFF0u);
	tu_fix_inode_csum(img, ino);
	expect_get(img, imgea, "/huge", "user.huge", -EUCLEAN, E4_RULE_XA5,
		   e4_obj(E4_OBJ_EA_INODE, ino, 0, 0xFFFFFFF0u));
	free(img);

	/* size disagreement */
	img = tu_copy(imgea, "easize.img");
	tu_patch_le32(img, e + 8, tu_peek_le32(img, e + 8) - 1);
	tu_fix_inode_csum(img, ino);
	expect_get(img, imgea, "/huge", "user.huge", -EUCLEAN, E4_RULE_XA5,
		   e4_obj(E4_OBJ_EA_INODE, ino, 0, ea_ino));
	free(img);

	/* value hash (i_atime of the EA inode) wrong */
	img = tu_copy(imgea, "eahash.img");
	{
		uint32_t ea = tu_peek_le32(img, e + 4);
		uint64_t r = tu_inode_offset(img, ea);
		tu_patch_le32(img, r + E4_I_ATIME, tu_peek_le32(img, r + E4_I_ATIME) ^ 1);
		tu_fix_inode_csum(img, ea);
	}
	expect_get(img, imgea, "/huge", "user.huge", -EUCLEAN, E4_RULE_XA5,
		   e4_obj(E4_OBJ_EA_INODE, ino, 0, ea_ino));
	free(img);

	/* values over 64 KiB cannot go through the API */
	img = tu_copy(imgea, "eabig.img");
	tu_patch_le32(img, e + 8, 70000);
	tu_fix_inode_csum(img, ino);
	expect_get(img, imgea, "/huge", "user.huge", -E2BIG, E4_RULE_NONE,
		   e4_obj_fs());
	free(img);
}

/* ---- the ACL conversion alone --------------------------------------------- */

static void test_acl_convert(void **state)
{
	const char *why;

	(void)state;
	/* §9.7 example: u::rw, u:1000:rw, g::r, g:100:r, m::rw, o::r */
	static const uint8_t disk[] = {
		1, 0, 0, 0, 1, 0, 6, 0, 2, 0, 6, 0, 0xe8, 3, 0, 0, 4, 0, 4, 0,
		8, 0, 4, 0, 100, 0, 0, 0, 0x10, 0, 6, 0, 0x20, 0, 4, 0,
	};
	static const uint8_t want[] = {
		2, 0, 0, 0,
		1, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,
		2, 0, 6, 0, 0xe8, 3, 0, 0,
		4, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
		8, 0, 4, 0, 100, 0, 0, 0,
		0x10, 0, 6, 0, 0xff, 0xff, 0xff, 0xff,
		0x20, 0, 4, 0, 0xff, 0xff, 0xff, 0xff,
	};
	uint8_t out[64], bad[sizeof(disk)];

	assert_int_equal(e4_acl_to_xattr(disk, sizeof(disk), NULL, 0, &why), sizeof(want));
	assert_int_equal(e4_acl_to_xattr(disk, sizeof(disk), out, sizeof(want) - 1, &why),
			 -ERANGE);
	assert_int_equal(e4_acl_to_xattr(disk, sizeof(disk), out, sizeof(out), &why),
			 sizeof(want));
	assert_memory_equal(out, want, sizeof(want));

	/* minimal: u::rw g::r o::r */
	static const uint8_t min[] = { 1, 0, 0, 0, 1, 0, 6, 0, 4, 0, 4, 0, 0x20, 0, 4, 0 };
	assert_int_equal(e4_acl_to_xattr(min, sizeof(min), out, sizeof(out), &why), 28);

	/* each rule of §9.7 broken once */
	struct { size_t off; uint8_t v; } breaks[] = {
		{ 0, 2 },	/* version */
		{ 4, 0x40 },	/* unknown tag */
		{ 6, 8 },	/* perm > 7 */
		{ 8, 1 },	/* second USER_OBJ: order / duplicate */
		{ 28, 0x20 },	/* MASK replaced: two OTHER entries */
		{ 20, 0x10 },	/* GROUP_OBJ missing (becomes MASK: order) */
	};
	for (size_t i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
		memcpy(bad, disk, sizeof(disk));
		bad[breaks[i].off] = breaks[i].v;
		assert_int_equal(e4_acl_to_xattr(bad, sizeof(bad), out, sizeof(out), &why),
				 -EUCLEAN);
	}
	/* truncated entry, header only, short header */
	assert_int_equal(e4_acl_to_xattr(disk, sizeof(disk) - 2, out, sizeof(out), &why),
			 -EUCLEAN);
	assert_int_equal(e4_acl_to_xattr(disk, 4, out, sizeof(out), &why), -EUCLEAN);
	assert_int_equal(e4_acl_to_xattr(disk, 3, out, sizeof(out), &why), -EUCLEAN);
	/* USER entry cut after its tag and perm */
	assert_int_equal(e4_acl_to_xattr(disk, 12, out, sizeof(out), &why), -EUCLEAN);
	/* named entries without a mask */
	static const uint8_t nomask[] = {
		1, 0, 0, 0, 1, 0, 6, 0, 2, 0, 6, 0, 7, 0, 0, 0, 4, 0, 4, 0, 0x20, 0, 4, 0,
	};
	assert_int_equal(e4_acl_to_xattr(nomask, sizeof(nomask), out, sizeof(out), &why),
			 -EUCLEAN);
	assert_string_equal(why, "named entries and the mask go together");
	/* duplicate user id */
	static const uint8_t dupid[] = {
		1, 0, 0, 0, 1, 0, 6, 0, 2, 0, 6, 0, 7, 0, 0, 0, 2, 0, 4, 0, 7, 0, 0, 0,
		4, 0, 4, 0, 0x10, 0, 6, 0, 0x20, 0, 4, 0,
	};
	assert_int_equal(e4_acl_to_xattr(dupid, sizeof(dupid), out, sizeof(out), &why),
			 -EUCLEAN);
	assert_string_equal(why, "duplicate or unsorted entry");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acl_convert),
		cmocka_unit_test(test_kernel_256),
		cmocka_unit_test(test_kernel_128),
		cmocka_unit_test(test_kernel_ea_inode),
		cmocka_unit_test(test_shared_block),
		cmocka_unit_test(test_api_errors),
		cmocka_unit_test(test_list_stops),
		cmocka_unit_test(test_block_bad_magic),
		cmocka_unit_test(test_block_bad_csum),
		cmocka_unit_test(test_block_h_blocks),
		cmocka_unit_test(test_block_refcount),
		cmocka_unit_test(test_block_value_checks),
		cmocka_unit_test(test_block_name_past_end),
		cmocka_unit_test(test_ibody_breaks),
		cmocka_unit_test(test_malformed_acl),
		cmocka_unit_test(test_ea_inode_breaks),
	};
	return tu_result(cmocka_run_group_tests(tests, group_setup, NULL));
}
