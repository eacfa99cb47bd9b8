/* SPDX-License-Identifier: MIT */
/*
 * The verifier table (src/ondisk/verify.h), row by row, on real blocks of
 * images made here by Debian's mkfs.ext4 (and debugfs, for the journal's
 * blocks): a block as made passes the read verifier; a flipped byte in its
 * checksummed area fails it (-EUCLEAN, the kind's checksum rule); the
 * row's checksum setter repairs it; a structural break behind a correct
 * checksum fails the write verifier as well as the read one.  And
 * e4_meta_get_verified remembers a verdict per block and owner.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ondisk/ondisk.h"
#include "testutil.h"
#include "maputil.h"

#define JF_INCOMPAT_CSUM_V3 0x10	/* §13.3 */

static char *img;	/* 4 KiB, metadata_csum, orphan_file, everything */
static char *jimg;	/* the same with two transactions in its journal */
static char *indimg;	/* 1 KiB, block-mapped files (no extents) */

static int group_setup(void **state)
{
	const char *tmp = tu_tmpdir();
	char src[512];

	(void)state;
	snprintf(src, sizeof(src), "%s/src", tmp);
	tu_sh("mkdir -p '%s/d' '%s/big' && echo a > '%s/a' && echo b > '%s/b' "
	      "&& touch '%s/x' '%s/d/one' '%s/d/two' && "
	      "for i in $(seq 1 300); do touch '%s/big/name-of-some-length-'$i; done",
	      src, src, src, src, src, src, src, src);
	mu_make_alternating(src, "frag", 4096, 1000);	/* a depth-1 tree */
	img = tu_mkfs("verify.img", "-b 4096 -I 256 -O metadata_csum,orphan_file",
		      src, "64M");
	/* index /big (mkfs -d leaves directories linear) */
	tu_sh("e2fsck -fyD '%s' >/dev/null 2>&1; test $? -le 1", img);
	/* a value too big for the inode goes to an xattr block */
	tu_sh("debugfs -w -R \"ea_set /x user.big $(head -c 300 /dev/zero | tr '\\0' V)\" '%s' >/dev/null 2>&1",
	      img);

	/*
	 * mkfs leaves the journal without checksums and empty; debugfs turns
	 * on csum v3 (as the kernel does at mount with metadata_csum) and
	 * writes a transaction logging one block, then one revoking another:
	 * descriptor 1, data 2, commit 3, revoke 4, commit 5.
	 */
	jimg = tu_copy(img, "verify-j.img");
	snprintf(src, sizeof(src), "%s/jdata", tmp);
	tu_sh("head -c 4096 /dev/urandom > '%s' && "
	      "printf 'jo -c\\njw -b 3000 %s\\njw -r 3001\\njc\\n' > '%s.cmds' && "
	      "debugfs -w -f '%s.cmds' '%s' >/dev/null 2>&1",
	      src, src, src, src, jimg);

	snprintf(src, sizeof(src), "%s/isrc", tmp);
	tu_sh("mkdir -p '%s' && head -c 20480 /dev/urandom > '%s/f'", src, src);
	indimg = tu_mkfs("verify-ind.img", "-b 1024 -O ^extent,^64bit,metadata_csum",
			 src, "8M");
	return 0;
}

/* ---- one row on one block ------------------------------------------------ */

#define NO_CSUM SIZE_MAX

struct rowcase {
	const struct e4_buf_ops *ops;
	uint64_t blk;
	struct e4_owner owner;
	/* (b): the byte flipped in the checksummed area (NO_CSUM: the kind
	 * has none), with @mask, and what is then reported */
	size_t flip;
	uint8_t mask;
	enum e4_rule csum_rule;
	struct e4_object csum_obj;
	/* (d): a structural break (NULL: the kind has no structure) */
	void (*brk)(uint8_t *b, uint32_t size);
	int brk_err;
	enum e4_rule brk_rule;
	struct e4_object brk_obj;
};

/* A private copy of block @blk: verifiers look at data, size and blk. */
static struct e4_buf *load(struct e4_fs *fs, uint64_t blk)
{
	struct e4_buf *cached, *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	assert_int_equal(e4_meta_get(fs, blk, &cached), 0);
	b->blk = blk;
	b->size = cached->size;
	b->data = malloc(b->size);
	assert_non_null(b->data);
	memcpy(b->data, cached->data, b->size);
	e4_meta_put(fs, cached);
	return b;
}

static void unload(struct e4_buf *b)
{
	free(b->data);
	free(b);
}

static int vread(struct e4_fs *fs, const struct rowcase *c,
		 const struct e4_buf *b)
{
	return c->ops->verify_read(fs, b, &c->owner);
}

/* The checksum was right: no mismatch was reported. */
static void assert_no_csum_report(void)
{
	if (strstr(tu_log(), ", computed 0x"))
		fail_msg("a checksum mismatch was reported:\n%s", tu_log());
}

static void check_row(struct e4_fs *fs, const struct rowcase *c)
{
	struct e4_buf *b = load(fs, c->blk);

	/* (a) the block as made */
	tu_log_clear();
	assert_int_equal(vread(fs, c, b), 0);
	if (c->ops->verify_write)
		assert_int_equal(c->ops->verify_write(fs, b, &c->owner), 0);
	assert_string_equal(tu_log(), "");

	/* (b) a flipped byte, (c) repaired by the setter */
	if (c->flip != NO_CSUM) {
		b->data[c->flip] ^= c->mask;
		tu_log_clear();
		assert_int_equal(vread(fs, c, b), -EUCLEAN);
		tu_assert_rule(c->csum_rule, c->csum_obj);
		if (c->ops->csum_set) {
			c->ops->csum_set(fs, b, &c->owner);
			tu_log_clear();
			assert_int_equal(vread(fs, c, b), 0);
			assert_string_equal(tu_log(), "");
		}
	}
	unload(b);

	/* (d) a broken structure behind a correct checksum */
	if (c->brk) {
		b = load(fs, c->blk);
		c->brk(b->data, b->size);
		if (c->ops->csum_set)
			c->ops->csum_set(fs, b, &c->owner);
		tu_log_clear();
		assert_int_equal(vread(fs, c, b), c->brk_err);
		tu_assert_rule(c->brk_rule, c->brk_obj);
		assert_no_csum_report();
		tu_log_clear();
		assert_non_null(c->ops->verify_write);
		assert_int_equal(c->ops->verify_write(fs, b, &c->owner),
				 c->brk_err);
		tu_assert_rule(c->brk_rule, c->brk_obj);
		unload(b);
	}
}

/* ---- what the tests need of the images ---------------------------------- */

static struct e4_fs *open_img(const char *path)
{
	struct e4_fs *fs;

	assert_int_equal(tu_open(path, &fs), 0);
	return fs;
}

static struct e4_inode inode_of(struct e4_fs *fs, uint32_t ino)
{
	struct e4_inode in;

	assert_int_equal(e4_inode_read(fs, ino, &in), 0);
	return in;
}

/* Open @image for the blocks of @path: its inode number and inode. */
static struct e4_fs *open_for(const char *image, const char *path,
			      uint32_t *ino, struct e4_inode *in)
{
	struct e4_fs *fs;

	*ino = tu_ino_of(image, path);
	fs = open_img(image);
	*in = inode_of(fs, *ino);
	return fs;
}

static uint64_t pblk_of(struct e4_fs *fs, const struct e4_inode *in,
			uint64_t lblk)
{
	struct e4_mapping m;

	assert_int_equal(e4_map_block(fs, in, lblk, &m), 0);
	assert_int_equal(m.kind, E4_MAP_MAPPED);
	return m.pblk;
}

/* Structural breaks, one per kind. */
static void put_le16_at(uint8_t *b, uint32_t size, size_t off, uint16_t v)
{
	e4_put_le16(b, size, off, v);
}

static void brk_sb_magic(uint8_t *b, uint32_t size)
{
	b[E4_SB_OFFSET % size + E4_SB_MAGIC_OFF] ^= 0xFF;
}

static void brk_gd_free_inodes(uint8_t *b, uint32_t size)
{
	/* group 0's descriptor: more free inodes than a group has */
	put_le16_at(b, size, E4_GD_FREE_INODES_LO, 0xFFFF);
}

static size_t rec_off;	/* the inode record broken by brk_inode_type */

static void brk_inode_type(uint8_t *b, uint32_t size)
{
	put_le16_at(b, size, rec_off + E4_I_MODE, 0x3000 | 0644);
}

static void brk_magic16(uint8_t *b, uint32_t size)
{
	put_le16_at(b, size, 0, 0x0000);
}

static void brk_first_ptr(uint8_t *b, uint32_t size)
{
	e4_put_le32(b, size, 0, 0xFFFFFFF0u);
}

static void brk_third_entry_ino(uint8_t *b, uint32_t size)
{
	e4_put_le32(b, size, 24, 0xFFFFFFF0u);	/* after "." and ".." */
}

static void brk_dx_info_len(uint8_t *b, uint32_t size)
{
	(void)size;
	b[E4_DX_ROOT_INFO_OFF + 5] = 9;	/* info_length */
}

static void brk_xattr_refcount(uint8_t *b, uint32_t size)
{
	e4_put_le32(b, size, 4, 0);
}

static void brk_orphan_slot(uint8_t *b, uint32_t size)
{
	e4_put_le32(b, size, 0, 1);	/* a reserved inode */
}

static void brk_jmagic(uint8_t *b, uint32_t size)
{
	e4_put_be32(b, size, 0, 0);
}

static void brk_jtype_commit(uint8_t *b, uint32_t size)
{
	e4_put_be32(b, size, 4, 2);
}

static void brk_jtype_descriptor(uint8_t *b, uint32_t size)
{
	e4_put_be32(b, size, 4, 1);
}

/* ---- the rows ------------------------------------------------------------ */

static void test_superblock(void **state)
{
	struct e4_fs *fs = open_img(img);
	struct rowcase c = {
		.ops = &e4_bops_superblock, .blk = 0,
		.flip = E4_SB_OFFSET + E4_SB_VOLUME_NAME, .mask = 'A',
		.csum_rule = E4_RULE_SB2, .csum_obj = e4_obj_superblock(),
		.brk = brk_sb_magic, .brk_err = -EUCLEAN,
		.brk_rule = E4_RULE_SB1, .brk_obj = e4_obj_superblock(),
	};

	(void)state;
	check_row(fs, &c);
	tu_close(fs);
}

static void test_gdt(void **state)
{
	struct e4_fs *fs = open_img(img);
	struct rowcase c = {
		.ops = &e4_bops_gdt, .blk = e4_group_desc_block(fs, 0),
		.owner = { .pos = 0 },
		.flip = E4_GD_FREE_BLOCKS_LO, .mask = 1,
		.csum_rule = E4_RULE_GD1, .csum_obj = e4_obj_group(0),
		.brk = brk_gd_free_inodes, .brk_err = -EUCLEAN,
		.brk_rule = E4_RULE_GD4, .brk_obj = e4_obj_group(0),
	};

	(void)state;
	assert_true(fs->inodes_per_group < 0xFFFF);
	check_row(fs, &c);
	tu_close(fs);
}

/*
 * Bitmaps keep their checksums in the group descriptor: the rows have no
 * setter ((c) is the writer's business, through the descriptor) and no
 * structure (any bit pattern is valid), so there is no (d) and no write
 * verifier to fail.
 */
static void check_bitmap(const struct e4_buf_ops *ops, bool inodes)
{
	struct e4_fs *fs = open_img(img);
	struct e4_group gd;

	assert_int_equal(e4_group_get(fs, 0, &gd), 0);
	uint64_t blk = inodes ? gd.inode_bitmap : gd.block_bitmap;
	struct rowcase c = {
		.ops = ops, .blk = blk, .owner = { .pos = 0 },
		.flip = 0, .mask = 0x80,
		.csum_rule = E4_RULE_AL1,
		.csum_obj = e4_obj(inodes ? E4_OBJ_INODE_BITMAP :
					    E4_OBJ_BLOCK_BITMAP, 0, blk, 0),
	};

	assert_null(ops->csum_set);
	assert_null(ops->verify_write);
	check_row(fs, &c);
	tu_close(fs);
}

static void test_block_bitmap(void **state)
{
	(void)state;
	check_bitmap(&e4_bops_block_bitmap, false);
}

static void test_inode_bitmap(void **state)
{
	(void)state;
	check_bitmap(&e4_bops_inode_bitmap, true);
}

static void test_inode_table(void **state)
{
	uint32_t ino = tu_ino_of(img, "/a");
	uint64_t off = tu_inode_offset(img, ino);
	struct e4_fs *fs = open_img(img);
	struct rowcase c = {
		.ops = &e4_bops_inode_table, .blk = off / fs->block_size,
		.owner = { .ino = ino },
		.csum_rule = E4_RULE_IN2, .csum_obj = e4_obj_inode(ino),
		.brk = brk_inode_type, .brk_err = -EUCLEAN,
		.brk_rule = E4_RULE_IN4, .brk_obj = e4_obj_inode(ino),
	};

	(void)state;
	rec_off = (size_t)(off % fs->block_size);
	c.flip = rec_off + E4_I_MTIME;
	c.mask = 1;
	check_row(fs, &c);
	tu_close(fs);
}

/* A record being given to a new inode: whatever the free record holds is
 * accepted on read (it is never read), what is written is held to the
 * inode-table rules, and its checksum is the one the inode-table row
 * then accepts. */
static void test_inode_new(void **state)
{
	uint32_t ino = tu_ino_of(img, "/a");
	uint64_t off = tu_inode_offset(img, ino);
	struct e4_fs *fs = open_img(img);
	struct e4_owner o = { .ino = ino };
	struct e4_buf *b = load(fs, off / fs->block_size);
	size_t r = (size_t)(off % fs->block_size);

	(void)state;
	memset(b->data + r, 0xA5, fs->inode_size);	/* garbage */
	assert_int_equal(e4_bops_inode_new.verify_read(fs, b, &o), 0);
	tu_log_clear();
	assert_int_equal(e4_bops_inode_new.verify_write(fs, b, &o), -EUCLEAN);
	tu_assert_rule_any(E4_RULE_IN3);
	memset(b->data + r, 0, fs->inode_size);
	e4_put_le16(b->data, b->size, r + E4_I_MODE, 0100644);
	e4_put_le16(b->data, b->size, r + E4_I_EXTRA_ISIZE, 32);
	assert_int_equal(e4_bops_inode_new.verify_write(fs, b, &o), 0);
	e4_bops_inode_new.csum_set(fs, b, &o);
	tu_log_clear();
	assert_int_equal(e4_bops_inode_table.verify_read(fs, b, &o), 0);
	assert_no_csum_report();
	unload(b);
	tu_close(fs);
}

static void test_extent(void **state)
{
	uint32_t ino;
	struct e4_inode in;
	struct e4_fs *fs = open_for(img, "/frag", &ino, &in);
	uint32_t isz = sizeof(in.i_block);

	(void)state;
	assert_int_equal(e4_le16(in.i_block, isz, 6), 1);	/* depth */
	/* the first index entry's leaf (ei_leaf_lo, ei_leaf_hi) */
	uint64_t blk = e4_le32(in.i_block, isz, 12 + 4) |
		       (uint64_t)e4_le16(in.i_block, isz, 12 + 8) << 32;
	struct rowcase c = {
		.ops = &e4_bops_extent, .blk = blk,
		.owner = e4_owner_of(&in, 0),
		/* the first extent's ee_start_lo, still inside the fs */
		.flip = 12 + 8, .mask = 1,
		.csum_rule = E4_RULE_EX7, .csum_obj = e4_obj_extent(ino, blk),
		.brk = brk_magic16, .brk_err = -EUCLEAN,
		.brk_rule = E4_RULE_EX1, .brk_obj = e4_obj_extent(ino, blk),
	};

	check_row(fs, &c);
	tu_close(fs);
}

/* Indirect blocks carry no checksum (§6): no (b), no (c). */
static void test_indirect(void **state)
{
	uint32_t ino;
	struct e4_inode in;
	struct e4_fs *fs = open_for(indimg, "/f", &ino, &in);
	uint64_t blk = e4_le32(in.i_block, sizeof(in.i_block), 12 * 4);
	struct rowcase c = {
		.ops = &e4_bops_indirect, .blk = blk,
		.owner = e4_owner_of(&in, 1),	/* pos: the level */
		.flip = NO_CSUM,
		.brk = brk_first_ptr, .brk_err = -EUCLEAN,
		.brk_rule = E4_RULE_BM1, .brk_obj = e4_obj_indirect(ino, blk, 1),
	};

	(void)state;
	assert_true(fs->metadata_csum);
	assert_true(blk != 0);
	assert_null(e4_bops_indirect.csum_set);
	check_row(fs, &c);
	tu_close(fs);
}

static void test_dir_leaf(void **state)
{
	uint32_t ino;
	struct e4_inode in;
	struct e4_fs *fs = open_for(img, "/d", &ino, &in);
	uint64_t blk = pblk_of(fs, &in, 0);
	struct rowcase c = {
		.ops = &e4_bops_dir_leaf, .blk = blk,
		.owner = e4_owner_of(&in, 0),
		/* the first letter of the third entry's name */
		.flip = 24 + 8, .mask = 1,
		.csum_rule = E4_RULE_DIR4,
		.csum_obj = e4_obj_dir_block(ino, blk, 0),
		.brk = brk_third_entry_ino, .brk_err = -EUCLEAN,
		.brk_rule = E4_RULE_DIR3,
		.brk_obj = e4_obj_dir_block(ino, blk, 0),
	};

	(void)state;
	check_row(fs, &c);
	tu_close(fs);
}

/* An unusable index is -EAGAIN, not -EUCLEAN: lookups fall back to a
 * linear search (htree.c). */
static void test_dx_node(void **state)
{
	uint32_t ino;
	struct e4_inode in;
	struct e4_fs *fs = open_for(img, "/big", &ino, &in);
	uint64_t blk = pblk_of(fs, &in, 0);
	struct rowcase c = {
		.ops = &e4_bops_dx_node, .blk = blk,
		.owner = e4_owner_of(&in, 0),
		/* the second entry's hash: its low bit keeps the order */
		.flip = E4_DX_ROOT_COUNT_OFF + 8, .mask = 1,
		.csum_rule = E4_RULE_DIR5,
		.csum_obj = e4_obj_dx_node(ino, blk, 0),
		.brk = brk_dx_info_len, .brk_err = -EAGAIN,
		.brk_rule = E4_RULE_DIR5,
		.brk_obj = e4_obj_dx_node(ino, blk, 0),
	};

	(void)state;
	assert_true(in.flags & E4_INDEX_FL);
	c.owner.span = in.size / fs->block_size;
	assert_true(c.owner.span > 2);
	check_row(fs, &c);
	tu_close(fs);
}

static void test_xattr(void **state)
{
	uint32_t ino;
	struct e4_inode in;
	struct e4_fs *fs = open_for(img, "/x", &ino, &in);
	uint64_t blk = in.file_acl;
	struct rowcase c = {
		.ops = &e4_bops_xattr, .blk = blk,
		.owner = e4_owner_of(&in, 0),
		/* the last byte of the value (values end the block) */
		.flip = fs->block_size - 1, .mask = 1,
		.csum_rule = E4_RULE_XA2,
		.csum_obj = e4_obj_xattr_block(ino, blk),
		.brk = brk_xattr_refcount, .brk_err = -EUCLEAN,
		.brk_rule = E4_RULE_XA2,
		.brk_obj = e4_obj_xattr_block(ino, blk),
	};

	(void)state;
	assert_true(blk != 0);
	check_row(fs, &c);
	tu_close(fs);
}

static void test_orphan(void **state)
{
	struct e4_fs *fs = open_img(img);
	struct e4_inode in = inode_of(fs, fs->orphan_file_inum);
	uint64_t blk = pblk_of(fs, &in, 0);
	struct e4_object obj = e4_obj(E4_OBJ_ORPHAN_BLOCK, 0, blk, 0);
	struct rowcase c = {
		.ops = &e4_bops_orphan, .blk = blk,
		.owner = e4_owner_of(&in, 0),
		/* an empty slot comes to name first_ino */
		.flip = 0,
		.csum_rule = E4_RULE_OR2, .csum_obj = obj,
		.brk = brk_orphan_slot, .brk_err = -EUCLEAN,
		.brk_rule = E4_RULE_OR2, .brk_obj = obj,
	};

	(void)state;
	assert_true(fs->orphan_file_inum != 0);
	assert_true(fs->first_ino < 0x100);
	c.mask = (uint8_t)fs->first_ino;
	check_row(fs, &c);
	tu_close(fs);
}

/* ---- the journal's rows ---------------------------------------------------- */

struct jrig {
	struct e4_fs *fs;
	struct e4_inode jin;
	uint32_t seed, incompat;
};

static void jrig_open(struct jrig *r)
{
	struct e4_buf *sb;

	r->fs = open_img(jimg);
	r->jin = inode_of(r->fs, r->fs->journal_inum);
	assert_int_equal(e4_meta_get(r->fs, pblk_of(r->fs, &r->jin, 0), &sb), 0);
	r->incompat = e4_be32(sb->data, sb->size, 0x28);
	/* j_seed: crc32c(~0, s_uuid) (§12.4), the owner's seed */
	r->seed = e4_crc32c(0xFFFFFFFFu, sb->data + 0x30, 16);
	e4_meta_put(r->fs, sb);
	assert_true(r->incompat & JF_INCOMPAT_CSUM_V3);
}

/* Journal block @jblk of type @type as debugfs wrote it. */
static struct rowcase jcase(struct jrig *r, const struct e4_buf_ops *ops,
			    uint32_t jblk, uint32_t type)
{
	uint64_t blk = pblk_of(r->fs, &r->jin, jblk);
	struct e4_buf *b;
	struct rowcase c = {
		.ops = ops, .blk = blk,
		.owner = { .gen = r->seed, .span = r->incompat, .pos = jblk },
		.csum_rule = E4_RULE_CS1,
		.csum_obj = e4_obj_journal_block(jblk, 0),
		.brk_err = -EUCLEAN, .brk_rule = E4_RULE_J1,
		.brk_obj = e4_obj_journal_block(jblk, 0),
	};

	assert_int_equal(e4_meta_get(r->fs, blk, &b), 0);
	assert_int_equal(e4_be32(b->data, b->size, 0), 0xC03B3998u);
	assert_int_equal(e4_be32(b->data, b->size, 4), type);
	e4_meta_put(r->fs, b);
	return c;
}

/* Row @ops on journal block @jblk (of @type): a flip of byte @flip, then
 * @brk. */
static void check_journal_row(const struct e4_buf_ops *ops, uint32_t jblk,
			      uint32_t type, size_t flip,
			      void (*brk)(uint8_t *b, uint32_t size))
{
	struct jrig r;

	jrig_open(&r);
	struct rowcase c = jcase(&r, ops, jblk, type);
	c.flip = flip;
	c.mask = 1;
	c.brk = brk;
	/* the superblock is named as one object by every report */
	if (ops == &e4_bops_jbd2_sb)
		c.csum_obj = c.brk_obj = e4_obj(E4_OBJ_JOURNAL_SB, 0, 0, 0);
	check_row(r.fs, &c);
	tu_close(r.fs);
}

static void test_jbd2_sb(void **state)
{
	(void)state;
	/* a byte of s_users; the checksum covers the first 1024 bytes */
	check_journal_row(&e4_bops_jbd2_sb, 0, 4, 0x100, brk_jmagic);
}

static void test_jbd2_descriptor(void **state)
{
	(void)state;
	/* the first tag's t_blocknr */
	check_journal_row(&e4_bops_jbd2_tail, 1, 1, 12 + 3, brk_jtype_commit);
}

static void test_jbd2_revoke(void **state)
{
	(void)state;
	/* the revoked block's low byte (be64 records) */
	check_journal_row(&e4_bops_jbd2_tail, 4, 5, 16 + 7, brk_jmagic);
}

static void test_jbd2_commit(void **state)
{
	(void)state;
	/* h_commit_sec's low byte */
	check_journal_row(&e4_bops_jbd2_commit, 3, 2, 0x37,
			  brk_jtype_descriptor);
}

/* Every row of the table is exercised above. */
static void test_every_row(void **state)
{
	static const struct e4_buf_ops *const tested[] = {
		&e4_bops_superblock, &e4_bops_gdt, &e4_bops_block_bitmap,
		&e4_bops_inode_bitmap, &e4_bops_inode_table,
		&e4_bops_inode_new, &e4_bops_extent,
		&e4_bops_indirect, &e4_bops_dir_leaf, &e4_bops_dx_node,
		&e4_bops_xattr, &e4_bops_orphan, &e4_bops_jbd2_sb,
		&e4_bops_jbd2_tail, &e4_bops_jbd2_commit,
	};
	size_t n = 0;

	(void)state;
	for (; e4_bops_table[n]; n++) {
		bool found = false;

		for (size_t i = 0; i < sizeof(tested) / sizeof(tested[0]); i++)
			found |= tested[i] == e4_bops_table[n];
		if (!found)
			fail_msg("row \"%s\" has no test", e4_bops_table[n]->name);
		assert_non_null(e4_bops_table[n]->verify_read);
	}
	assert_int_equal(n, sizeof(tested) / sizeof(tested[0]));
}

/* ---- the verdict stays with the buffer --------------------------------- */

/*
 * Two inodes in one inode-table block, the second one's record broken:
 * verified for the first, the block passes; reached for the second (another
 * owner key), it is verified again and fails, twice with the same error but
 * one report; reached for the first again, it passes again.
 */
static void test_memo(void **state)
{
	char *bad = tu_copy(img, "memo.img");
	uint32_t a = tu_ino_of(bad, "/a"), b = tu_ino_of(bad, "/b");
	uint64_t aoff = tu_inode_offset(bad, a), boff = tu_inode_offset(bad, b);
	struct e4_owner oa = { .ino = a }, ob = { .ino = b };
	static struct e4_buf dummy;
	struct e4_buf *buf;
	struct e4_fs *fs;

	(void)state;
	assert_int_equal(aoff / 4096, boff / 4096);
	tu_patch_u8(bad, boff + E4_I_MTIME,
		    (uint8_t)(tu_peek_le32(bad, boff + E4_I_MTIME) ^ 1));
	fs = open_img(bad);
	uint64_t blk = aoff / 4096;

	tu_log_clear();
	assert_int_equal(e4_meta_get_verified(fs, blk, &e4_bops_inode_table,
					      &oa, &buf), 0);
	e4_meta_put(fs, buf);
	for (int i = 0; i < 2; i++) {
		buf = &dummy;
		assert_int_equal(e4_meta_get_verified(fs, blk,
						      &e4_bops_inode_table,
						      &ob, &buf), -EUCLEAN);
		assert_null(buf);
	}
	assert_int_equal(tu_rule_reports(E4_RULE_IN2, e4_obj_inode(b)), 1);
	assert_int_equal(e4_meta_get_verified(fs, blk, &e4_bops_inode_table,
					      &oa, &buf), 0);
	e4_meta_put(fs, buf);
	assert_int_equal(tu_rule_reports(E4_RULE_IN2, e4_obj_inode(a)), 0);
	tu_close(fs);
	free(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_superblock),
		cmocka_unit_test(test_gdt),
		cmocka_unit_test(test_block_bitmap),
		cmocka_unit_test(test_inode_bitmap),
		cmocka_unit_test(test_inode_table),
		cmocka_unit_test(test_inode_new),
		cmocka_unit_test(test_extent),
		cmocka_unit_test(test_indirect),
		cmocka_unit_test(test_dir_leaf),
		cmocka_unit_test(test_dx_node),
		cmocka_unit_test(test_xattr),
		cmocka_unit_test(test_orphan),
		cmocka_unit_test(test_jbd2_sb),
		cmocka_unit_test(test_jbd2_descriptor),
		cmocka_unit_test(test_jbd2_revoke),
		cmocka_unit_test(test_jbd2_commit),
		cmocka_unit_test(test_every_row),
		cmocka_unit_test(test_memo),
	};

	return tu_result(cmocka_run_group_tests(tests, group_setup, NULL));
}
