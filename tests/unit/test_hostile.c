/* SPDX-License-Identifier: MIT */
/*
 * Hostile images that once cost the server its life or its time, each built
 * here from a clean mkfs image and broken by hand:
 *  - an inline-data file whose system.data names an EA inode that is itself
 *    inline (or itself): the reads recursed until the stack overflowed;
 *  - an orphan file claiming a terabyte through indirect blocks that all
 *    point at one block: every open walked 2^28 blocks;
 *  - a device that answers differently the second time: the in-inode xattr
 *    area was used unverified;
 * and the library run on a small stack, so any recursion the image can
 * drive shows up as a crash here rather than in the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e4/check.h"
#include "e4/tree.h"
#include "ondisk/ondisk.h"
#include "testutil.h"

static char *inline_img;	/* inline_data + ea_inode, /f inline, /g too */
static char *orphan_img;	/* orphan_file without metadata_csum */

static int group_setup(void **state)
{
	char *src = tu_sh_out("d='%s/src'; mkdir -p \"$d/sub/deeper\"; printf %%s \"$d\"",
			      tu_tmpdir());
	(void)state;
	tu_sh("head -c 100 /dev/zero | tr '\\0' f > '%s/f'", src);
	tu_sh("head -c 100 /dev/zero | tr '\\0' g > '%s/g'", src);
	tu_sh("head -c 9000 /dev/zero | tr '\\0' b > '%s/sub/big'", src);
	tu_sh("echo hi > '%s/sub/deeper/x' && ln -s ../f '%s/sub/link'", src, src);
	inline_img = tu_mkfs("inline.img", "-b 4096 -I 256 -O inline_data,ea_inode",
			     src, "16M");
	orphan_img = tu_mkfs("orphan.img", "-b 4096 -O orphan_file,^metadata_csum",
			     src, "16M");
	free(src);
	return 0;
}

/* Offset in inode @ino's record of its system.data entry. */
static uint64_t system_data_entry(const char *img, uint32_t ino)
{
	uint64_t rec = tu_inode_offset(img, ino);
	uint64_t pos = E4_GOOD_OLD_INODE_SIZE +
		       tu_peek_le16(img, rec + E4_I_EXTRA_ISIZE) +
		       E4_XATTR_IBODY_HEADER;

	for (int i = 0; i < 8; i++) {
		uint8_t hdr[20];

		tu_peek(img, rec + pos, hdr, sizeof(hdr));
		if (hdr[E4_XATTR_E_NAME_LEN] == 4 &&
		    hdr[E4_XATTR_E_NAME_INDEX] == E4_XATTR_INDEX_SYSTEM &&
		    memcmp(hdr + E4_XATTR_E_NAME, "data", 4) == 0)
			return rec + pos;
		pos += (E4_XATTR_ENTRY_HEADER + hdr[E4_XATTR_E_NAME_LEN] + 3u) &
		       ~3u;
	}
	fail_msg("inode %u: no system.data entry", ino);
	return 0;
}

/* Point @ino's system.data at EA inode @target holding @size bytes. */
static void data_in_ea_inode(const char *img, uint32_t ino, uint32_t target,
			     uint32_t size)
{
	uint64_t e = system_data_entry(img, ino);

	tu_patch_le16(img, e + E4_XATTR_E_VALUE_OFFS, 0);
	tu_patch_le32(img, e + E4_XATTR_E_VALUE_INUM, target);
	tu_patch_le32(img, e + E4_XATTR_E_VALUE_SIZE, size);
	tu_fix_inode_csum(img, ino);
}

static void add_inode_flags(const char *img, uint32_t ino, uint32_t flags)
{
	uint64_t rec = tu_inode_offset(img, ino);

	tu_patch_le32(img, rec + E4_I_FLAGS, tu_peek_le32(img, rec + E4_I_FLAGS) | flags);
	tu_fix_inode_csum(img, ino);
}

/* Read @path whole: the return value of the first failing read, or the
 * length. */
static ssize_t read_all(struct e4_fs *fs, const char *path)
{
	struct e4_inode in;
	uint32_t ino;
	uint8_t buf[4096];
	int err = e4_path_lookup(fs, path, &ino);

	if (!err)
		err = e4_inode_read(fs, ino, &in);
	if (err)
		return err;
	return e4_file_read(fs, &in, 0, buf, sizeof(buf));
}

/* ---- EA inode / inline data recursion --------------------------------- */

static void test_ea_inode_names_itself(void **state)
{
	char *img = tu_copy(inline_img, "self.img");
	uint32_t f = tu_ino_of(img, "/f");
	struct e4_fs *fs;

	(void)state;
	/* /f: inline, an EA inode, its system.data held in itself */
	data_in_ea_inode(img, f, f, 100);
	add_inode_flags(img, f, E4_EA_INODE_FL);
	assert_int_equal(tu_open(img, &fs), 0);
	tu_log_clear();
	assert_int_equal(read_all(fs, "/f"), -EUCLEAN);
	tu_assert_rule(E4_RULE_IN7, e4_obj_inode(f));
	assert_int_equal(read_all(fs, "/g"), 100);	/* the rest still reads */
	tu_close(fs);
	free(img);
}

static void test_inline_data_in_inline_ea_inode(void **state)
{
	char *img = tu_copy(inline_img, "chain.img");
	uint32_t f = tu_ino_of(img, "/f"), g = tu_ino_of(img, "/g");
	struct e4_fs *fs;
	struct e4_inode in;

	(void)state;
	/* /f's system.data names /g, an inline EA inode whose own
	 * system.data names /g again: the chain the reads once followed */
	data_in_ea_inode(img, f, g, 100);
	data_in_ea_inode(img, g, g, 100);
	add_inode_flags(img, g, E4_EA_INODE_FL);
	assert_int_equal(tu_open(img, &fs), 0);
	tu_log_clear();
	assert_int_equal(read_all(fs, "/f"), -EUCLEAN);
	tu_assert_rule(E4_RULE_ID1, e4_obj_inode(f));
	tu_log_clear();
	assert_int_equal(e4_inode_read(fs, g, &in), -EUCLEAN);
	tu_assert_rule(E4_RULE_IN7, e4_obj_inode(g));
	tu_close(fs);
	free(img);
}

static void test_inline_data_in_proper_ea_inode(void **state)
{
	char *img = tu_copy(inline_img, "proper.img");
	uint32_t f = tu_ino_of(img, "/f"), big = tu_ino_of(img, "/sub/big");
	struct e4_fs *fs;

	(void)state;
	/* an EA inode that is not inline still may not hold system.data:
	 * the kernel never stores inline data there */
	add_inode_flags(img, big, E4_EA_INODE_FL);
	data_in_ea_inode(img, f, big, 9000);
	assert_int_equal(tu_open(img, &fs), 0);
	tu_log_clear();
	assert_int_equal(read_all(fs, "/f"), -EUCLEAN);
	tu_assert_rule(E4_RULE_ID1, e4_obj_inode(f));
	tu_assert_log(tu_msg("held in xattr value inode %u", big));
	tu_close(fs);
	free(img);
}

/* ---- the orphan file -------------------------------------------------- */

/*
 * Turn orphan file inode 12 into a block-mapped file of @size bytes whose
 * every pointer (direct, and in the indirect blocks) names device block
 * @y, a valid orphan block whose slots all name inode @y (with
 * @orphan_tail; without it every word of the block is @y, so every
 * logical block maps).  Set orphan_present so that every open walks it.
 */
static char *aliased_file(const char *name, uint64_t size, bool orphan_tail)
{
	char *img = tu_copy(orphan_img, name);
	uint32_t bs = tu_block_size(img), of = 12;
	uint64_t rec = tu_inode_offset(img, of);
	uint32_t y = (uint32_t)tu_bmap(img, "<12>", 0);
	uint8_t *b = malloc(bs);

	assert_int_equal(tu_peek_le32(img, 1024 + E4_SB_ORPHAN_FILE_INUM), of);
	/* y is also a valid inode number (> 11, < inodes_count): as an
	 * orphan slot it names a free inode, which nothing names, and as a
	 * block pointer it names itself */
	assert_true(y > 11 && y < tu_peek_le32(img, 1024 + E4_SB_INODES_COUNT));
	for (uint32_t off = 0; off < bs; off += 4)
		e4_put_le32(b, bs, off, y);
	if (orphan_tail) {
		uint32_t tail = bs - E4_ORPHAN_TAIL_SIZE;

		e4_put_le32(b, bs, tail + E4_ORPHAN_TAIL_MAGIC, E4_ORPHAN_MAGIC);
		e4_put_le32(b, bs, tail + E4_ORPHAN_TAIL_CHECKSUM, 0);
	}
	tu_patch(img, (uint64_t)y * bs, b, bs);
	free(b);

	tu_patch_le32(img, rec + E4_I_FLAGS,
		      tu_peek_le32(img, rec + E4_I_FLAGS) & ~(uint32_t)E4_EXTENTS_FL);
	for (int i = 0; i < 15; i++)
		tu_patch_le32(img, rec + E4_I_BLOCK + 4u * (unsigned)i, y);
	tu_patch_le32(img, rec + E4_I_SIZE_LO, (uint32_t)size);
	tu_patch_le32(img, rec + E4_I_SIZE_HIGH, (uint32_t)(size >> 32));
	uint32_t ro = tu_peek_le32(img, 1024 + E4_SB_FEATURE_RO_COMPAT);
	tu_patch_le32(img, 1024 + E4_SB_FEATURE_RO_COMPAT,
		      ro | E4_RO_COMPAT_ORPHAN_PRESENT);
	return img;
}

static void open_counting(const char *img, struct e4_fs_counters *c)
{
	struct e4_fs *fs;

	tu_log_clear();
	assert_int_equal(tu_open(img, &fs), 0);
	e4_fs_get_counters(fs, c);
	/* the damage hides nothing: the files are all there */
	assert_int_equal(read_all(fs, "/g"), 100);
	tu_close(fs);
}

static void test_orphan_file_terabyte(void **state)
{
	char *img = aliased_file("of-tib.img", 1ull << 40, true);
	struct e4_fs_counters c;

	(void)state;
	open_counting(img, &c);
	tu_assert_rule(E4_RULE_OR2, e4_obj(E4_OBJ_ORPHAN_FILE, 12, 0, 0));
	tu_assert_log("size 1099511627776 exceeds the 2097152 bytes the kernel accepts");
	assert_true(c.meta_gets < 100);
	free(img);
}

static void test_orphan_file_aliased_blocks(void **state)
{
	char *img = aliased_file("of-alias.img", 2u << 20, true);
	struct e4_fs_counters c;

	(void)state;
	open_counting(img, &c);
	tu_assert_rule(E4_RULE_OR2, e4_obj(E4_OBJ_ORPHAN_FILE, 12, 0, 0));
	tu_assert_log("block 1 is mapped twice");
	/* one orphan block walked (a lookup or two per slot), not 512 */
	assert_true(c.meta_gets < 3 * 1024);
	free(img);
}

/* SEEK_DATA/SEEK_HOLE over a file whose every run is one block because its
 * indirect blocks alias: bounded, and a POSIX-valid answer. */
static void test_seek_aliased_file(void **state)
{
	char *img = aliased_file("seek-alias.img", 1ull << 40, false);
	struct e4_fs_counters before, after;
	struct e4_fs *fs;
	struct e4_inode in;
	uint64_t pos;

	(void)state;
	assert_int_equal(tu_open(img, &fs), 0);
	assert_int_equal(e4_inode_load(fs, 12, &in, true), 0);
	e4_fs_get_counters(fs, &before);
	assert_int_equal(e4_file_seek(fs, &in, 0, E4_SEEK_HOLE, &pos), 0);
	assert_int_equal(pos, 1ull << 40);	/* the rest treated as data */
	assert_int_equal(e4_file_seek(fs, &in, 4096, E4_SEEK_DATA, &pos), 0);
	assert_int_equal(pos, 4096);
	e4_fs_get_counters(fs, &after);
	/* 65,536 one-block runs at most, a few lookups each */
	assert_true(after.meta_gets - before.meta_gets < 5u * 65536);
	tu_close(fs);
	free(img);
}

/* ---- a device that answers differently the second time ----------------- */

static void test_inode_record_changed(void **state)
{
	char *img = tu_copy(inline_img, "changing.img");
	uint32_t f = tu_ino_of(img, "/f");
	uint64_t rec = tu_inode_offset(img, f);
	struct e4_open_opts o = { .read_only = true, .cache_bytes = 1 };
	struct e4_fs *fs;
	struct e4_dev *dev;
	struct e4_inode in;
	uint8_t buf[128];
	size_t size;
	char *bytes = tu_slurp(img, &size);

	(void)state;

	assert_int_equal(e4_dev_open_mem(bytes, size, &dev), 0);
	assert_int_equal(tu_open_dev(dev, &o, &fs), 0);
	assert_int_equal(e4_inode_read(fs, f, &in), 0);
	assert_int_equal(e4_file_read(fs, &in, 0, buf, sizeof(buf)), 100);
	assert_int_equal(buf[99], 'f');
	/* the device now holds other bytes in /f's xattr area (its inline
	 * data); a cache of 16 blocks forgets the old copy after 32 reads */
	bytes[rec + 128 + 32 + 60] ^= 0x20;
	for (uint64_t blk = 100; blk < 132; blk++) {
		struct e4_buf *b;

		assert_int_equal(e4_meta_get(fs, blk, &b), 0);
		e4_meta_put(fs, b);
	}
	tu_log_clear();
	assert_int_equal(e4_file_read(fs, &in, 0, buf, sizeof(buf)), -EIO);
	tu_assert_rule(E4_RULE_IO_CHANGED, e4_obj_inode(f));
	/* read afresh, the inode is what the device says now */
	assert_int_equal(e4_inode_read(fs, f, &in), -EUCLEAN);
	tu_close(fs);
	free(bytes);
	free(img);
}

/* ---- the library on a small stack -------------------------------------- */

struct reader {
	struct e4_fs *fs;
	const struct e4_inode *in;
	unsigned files;
};

static int read_xattr(void *ctx, const char *name, size_t len)
{
	struct reader *r = ctx;
	char full[300];
	uint8_t value[1024];

	snprintf(full, sizeof(full), "%.*s", (int)len, name);
	(void)e4_xattr_get(r->fs, r->in, full, value, sizeof(value));
	return 0;
}

static int read_entry(void *ctx, const struct e4_tree_entry *e, bool *descend)
{
	struct reader *r = ctx;
	struct e4_inode in;
	uint8_t buf[4096];
	char target[4096];

	if (e4_inode_read_named(r->fs, e->dir, e->name, e->ino, &in))
		return 0;
	r->files++;
	r->in = &in;
	(void)e4_xattr_list(r->fs, &in, read_xattr, r);
	if (e4_inode_is_symlink(&in))
		(void)e4_symlink_read(r->fs, &in, target, sizeof(target));
	if (e4_inode_is_reg(&in))
		for (uint64_t off = 0; off < in.size; off += sizeof(buf))
			if (e4_file_read(r->fs, &in, off, buf, sizeof(buf)) <= 0)
				break;
	*descend = e4_inode_is_dir(&in);
	return 0;
}

/* Everything the library offers, on @img: open, walk, read, check. */
static void *exercise(void *arg)
{
	static const struct e4_tree_ops ops = { .entry = read_entry };
	const char *img = arg;
	struct e4_check_sink sink = { 0 };
	struct e4_check_stats st;
	struct reader r = { 0 };
	struct e4_fs *fs;

	if (tu_open(img, &fs) != 0)
		return NULL;
	r.fs = fs;
	(void)e4_tree_walk(fs, E4_ROOT_INO, "/", NULL, &ops, &r);
	(void)read_all(fs, "/f");
	(void)e4_check(fs, &sink, &st);
	e4_check_sink_free(&sink);
	tu_close(fs);
	return NULL;
}

/* ---- directories sharing blocks ------------------------------------------ */

/*
 * Twenty directories whose extents all map their 7,999 logical blocks onto
 * the same 4,000 blocks (a "." and ".." block, then twice the same 3,999
 * blocks of empty entries): each listing is within the per-request bound
 * and no directory is larger than the file system, but a whole-tree walk
 * would list the same blocks forty times.  The walk stops once its
 * listings cost more than the file system's size allows.
 */
static void test_walk_shared_directory_blocks(void **state)
{
	char *src = tu_sh_out("d='%s/shared-src'; mkdir -p \"$d\"; for i in $(seq 0 19); do mkdir \"$d/d$i\"; done; printf %%s \"$d\"",
			      tu_tmpdir());
	char *img = tu_mkfs("shared.img", "-b 1024 -N 256 -O ^has_journal,^metadata_csum",
			    src, "8M");
	const uint32_t P = 4000, L = 4000;
	uint8_t *blk = calloc(1, 1024);
	struct e4_check_sink sink = { 0 };
	struct e4_check_stats st;
	struct e4_fs *fs;

	(void)state;
	/* one empty entry spanning the block: a valid directory block */
	e4_put_le16(blk, 1024, 4, 1024);
	for (uint32_t b = P + 1; b < P + L; b++)
		tu_patch(img, (uint64_t)b * 1024, blk, 1024);
	/* the first: "." and ".." (naming the root: it serves them all) */
	memset(blk, 0, 1024);
	e4_put_le32(blk, 1024, 0, 2);
	e4_put_le16(blk, 1024, 4, 12);
	blk[6] = 1;
	blk[7] = 2;
	blk[8] = '.';
	e4_put_le32(blk, 1024, 12, 2);
	e4_put_le16(blk, 1024, 16, 1012);
	blk[18] = 2;
	blk[19] = 2;
	blk[20] = '.';
	blk[21] = '.';
	tu_patch(img, (uint64_t)P * 1024, blk, 1024);
	for (int i = 0; i < 20; i++) {
		char path[16];
		uint64_t rec;
		uint8_t root[60] = { 0 };

		snprintf(path, sizeof(path), "/d%d", i);
		rec = tu_inode_offset(img, tu_ino_of(img, path));
		e4_put_le16(root, 60, 0, 0xF30A);
		e4_put_le16(root, 60, 2, 3);	/* entries */
		e4_put_le16(root, 60, 4, 4);	/* max */
		for (unsigned k = 0; k < 3; k++) {
			size_t e = 12 + 12 * k;

			/* logical 0 -> P; 1 + (k-1)L.. -> P + 1.. */
			e4_put_le32(root, 60, e, k ? 1 + (k - 1) * (L - 1) : 0);
			e4_put_le16(root, 60, e + 4, (uint16_t)(k ? L - 1 : 1));
			e4_put_le32(root, 60, e + 8, k ? P + 1 : P);
		}
		tu_patch(img, rec + E4_I_BLOCK, root, 60);
		tu_patch_le32(img, rec + E4_I_SIZE_LO, (1 + 2 * (L - 1)) * 1024);
	}
	free(blk);

	assert_int_equal(tu_open(img, &fs), 0);
	tu_log_clear();
	assert_int_equal(e4_tree_walk(fs, E4_ROOT_INO, "/", NULL,
				      &(struct e4_tree_ops){ .entry = read_entry },
				      &(struct reader){ .fs = fs }),
			 -EUCLEAN);
	tu_assert_log("directory listings of this walk read more blocks than the file system has");
	/* the checker walks breadth first: stopped the same way */
	tu_log_clear();
	assert_int_equal(e4_check(fs, &sink, &st), 0);
	assert_true(st.directories < 20);
	e4_check_sink_free(&sink);
	tu_close(fs);
	free(img);
	free(src);
}

/*
 * Run exercise() on a thread whose stack is painted, and return how much of
 * it was touched.  A recursion the image can drive overflows it: the guard
 * page makes that a crash (a failed test) instead of a silent pass.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SMALL_STACK (512u << 10)	/* ASan's redzones grow every frame */
#else
#define SMALL_STACK (128u << 10)
#endif
#define PAINT 0xA5

static size_t stack_used(const char *img)
{
	pthread_attr_t attr;
	pthread_t t;
	uint8_t *stack = NULL;
	size_t used;

	assert_int_equal(posix_memalign((void **)&stack, 4096, SMALL_STACK), 0);
	memset(stack, PAINT, SMALL_STACK);
	assert_int_equal(pthread_attr_init(&attr), 0);
	assert_int_equal(pthread_attr_setstack(&attr, stack, SMALL_STACK), 0);
	assert_int_equal(pthread_create(&t, &attr, exercise, (void *)img), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	pthread_attr_destroy(&attr);
	/* the stack grows down: the lowest touched byte tells the depth */
	for (used = SMALL_STACK; used > 0; used--)
		if (stack[SMALL_STACK - used] != PAINT)
			break;
	free(stack);
	return used;
}

static void test_small_stack(void **state)
{
	char *self = tu_copy(inline_img, "stack-self.img");
	char *chain = tu_copy(inline_img, "stack-chain.img");
	char *cycle = tu_copy(inline_img, "stack-cycle.img");
	uint32_t f = tu_ino_of(self, "/f"), g = tu_ino_of(chain, "/g");
	const char *imgs[] = { inline_img, self, chain, cycle, orphan_img };
	size_t most = 0;

	(void)state;
	data_in_ea_inode(self, f, f, 100);
	add_inode_flags(self, f, E4_EA_INODE_FL);
	data_in_ea_inode(chain, f, g, 100);
	data_in_ea_inode(chain, g, g, 100);
	add_inode_flags(chain, g, E4_EA_INODE_FL);
	tu_debugfs(cycle, "ln sub sub/deeper/up");
	for (size_t i = 0; i < sizeof(imgs) / sizeof(imgs[0]); i++) {
		size_t used = stack_used(imgs[i]);

		if (used > most)
			most = used;
	}
	print_message("deepest stack: %zu of %u bytes\n", most, SMALL_STACK);
	assert_true(most < SMALL_STACK / 2);
	free(self);
	free(chain);
	free(cycle);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ea_inode_names_itself),
		cmocka_unit_test(test_inline_data_in_inline_ea_inode),
		cmocka_unit_test(test_inline_data_in_proper_ea_inode),
		cmocka_unit_test(test_orphan_file_terabyte),
		cmocka_unit_test(test_orphan_file_aliased_blocks),
		cmocka_unit_test(test_seek_aliased_file),
		cmocka_unit_test(test_walk_shared_directory_blocks),
		cmocka_unit_test(test_inode_record_changed),
		cmocka_unit_test(test_small_stack),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
