/* SPDX-License-Identifier: MIT */
/*
 * The jbd2 journal and its in-memory replay (§13).
 *
 * Two kinds of input:
 *  - journals written by hand into clean mkfs images (struct jw below, built
 *    from §13.2-13.7 alone), so each block type can be broken precisely and
 *    the valid ones cross-checked against e2fsck's own replay;
 *  - images made dirty by the kernel (loop mount, changes, `xfs_io -x -c
 *    'shutdown -f'`), root only, read through the library and compared with
 *    what the kernel shows after replaying a copy.
 * Every open must leave the image's bytes unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ondisk/journal.h"
#include "ondisk/ondisk.h"
#include "e4/write.h"
#include "testutil.h"

#define SB E4_SB_OFFSET
/* short names for the jbd2 incompat features the journals are built with */
#define JF_REVOKE E4_JF_INCOMPAT_REVOKE
#define JF_64BIT E4_JF_INCOMPAT_64BIT
#define JF_V2 E4_JF_INCOMPAT_CSUM_V2
#define JF_V3 E4_JF_INCOMPAT_CSUM_V3
#define FILE_A_BYTES (4 * 4096)

static char *clean4k;	/* mkfs -d image with /a (4 blocks of 'A') */
static char *srcdir;

/* ---- small helpers --------------------------------------------------- */

static void put_be16(uint8_t *b, size_t off, uint16_t v)
{
	b[off] = (uint8_t)(v >> 8);
	b[off + 1] = (uint8_t)v;
}

static char *md5_of(const char *img)
{
	char *out = tu_sh_out("md5sum '%s' | cut -c1-32", img);
	return out;
}

static void assert_unchanged(const char *img, const char *before)
{
	char *after = md5_of(img);
	assert_string_equal(before, after);
	free(after);
}

/* Physical block of logical block @lblk of inode @ino, through the library
 * on an image whose journal is not replayed. */
static uint64_t map_ino(const char *img, uint32_t ino, uint64_t lblk)
{
	struct e4_open_opts o = {.read_only = true, .norecovery = true};
	struct e4_fs *fs;
	struct e4_inode in;
	struct e4_mapping m;

	assert_int_equal(tu_open_opts(img, &o, &fs), 0);
	assert_int_equal(e4_inode_read(fs, ino, &in), 0);
	assert_int_equal(e4_map_block(fs, &in, lblk, &m), 0);
	assert_int_equal(m.kind, E4_MAP_MAPPED);
	tu_close(fs);
	return m.pblk;
}

/* Open (replaying), read @len bytes of @path at @off into @buf. */
static void read_path(struct e4_fs *fs, const char *path, uint64_t off,
		      void *buf, size_t len)
{
	uint32_t ino;
	struct e4_inode in;

	assert_int_equal(e4_path_lookup(fs, path, &ino), 0);
	assert_int_equal(e4_inode_read(fs, ino, &in), 0);
	assert_int_equal(e4_file_read(fs, &in, off, buf, len), (ssize_t)len);
}

/* Byte @i of every 4 KiB block of /a as the replayed view shows it. */
static void a_block_bytes(const char *img, char out[4])
{
	struct e4_fs *fs;
	uint8_t buf[FILE_A_BYTES];

	tu_log_clear();
	assert_int_equal(tu_open(img, &fs), 0);
	read_path(fs, "/a", 0, buf, sizeof(buf));
	for (int i = 0; i < 4; i++)
		out[i] = (char)buf[i * 4096 + 100];
	tu_close(fs);
}

/* The open fails with @err, reporting @rule about @obj, and says the image
 * was not changed. */
static void expect_open_fails(const char *img, int err, enum e4_rule rule,
			      struct e4_object obj)
{
	struct e4_fs *fs = NULL;
	char *before = md5_of(img);

	tu_log_clear();
	assert_int_equal(tu_open(img, &fs), err);
	tu_assert_rule(rule, obj);
	tu_assert_log("journal replay failed; the image was not changed");
	assert_unchanged(img, before);
	/* a read-write open is refused alike, before anything is written:
	 * recovery onto the image starts only from a log that checked out */
	{
		struct e4_open_opts o = { .read_only = false };
		struct e4_dev *dev;
		int rc;

		assert_int_equal(e4_dev_open_file(img, 0, 0, true, &dev), 0);
		rc = tu_open_dev(dev, &o, &fs);
		if (rc == 0) {
			assert_int_not_equal(e4_fs_begin_write(fs, NULL), 0);
			tu_close(fs);
		} else {
			assert_int_equal(rc, err);
			e4_dev_close(dev);
		}
		assert_unchanged(img, before);
	}
	free(before);
}

/* ---- a journal writer, from §13 -------------------------------------- */

struct jw {
	char *img;
	uint32_t bs;
	uint64_t jphys[1024];	/* journal block -> device block (first 1024) */
	uint32_t maxlen, first, pos, seq;
	uint32_t incompat;
	uint32_t seed;
	uint64_t a_blk[4];	/* device blocks of /a */
};

static bool jw_csum(const struct jw *j)
{
	return j->incompat & (JF_V2 | JF_V3);
}

static void jw_read(struct jw *j, uint32_t jblk, uint8_t *b)
{
	assert_true(jblk < 1024);
	tu_peek(j->img, j->jphys[jblk] * j->bs, b, j->bs);
}

static void jw_write(struct jw *j, uint32_t jblk, const uint8_t *b)
{
	assert_true(jblk < 1024);
	tu_patch(j->img, j->jphys[jblk] * j->bs, b, j->bs);
}

static void jw_header(uint8_t *b, uint32_t bs, uint32_t type, uint32_t seq)
{
	memset(b, 0, bs);
	e4_put_be32(b, bs, E4_JH_MAGIC, E4_JBD2_MAGIC);
	e4_put_be32(b, bs, E4_JH_BLOCKTYPE, type);
	e4_put_be32(b, bs, E4_JH_SEQUENCE, seq);
}

/* Seal journal block @jblk in @b with row @ops's checksum setter: the
 * journal's seed and features are the owner (journal.c's rows). */
static void jw_seal(const struct jw *j, const struct e4_buf_ops *ops,
		    uint8_t *b, uint32_t jblk)
{
	struct e4_owner o = { .gen = j->seed, .span = j->incompat,
			      .pos = jblk };
	struct e4_buf buf = { .blk = j->jphys[jblk], .data = b,
			      .size = j->bs };

	ops->csum_set(NULL, &buf, &o);
}

/* descriptor and revoke tails (§12.4) */
static void jw_tail(const struct jw *j, uint8_t *b)
{
	jw_seal(j, &e4_bops_jbd2_tail, b, 0);
}

/* The journal superblock's checksum, when its own features ask for one. */
static void jw_sb_csum(uint8_t *b, uint32_t bs)
{
	struct e4_owner o = { .span = e4_be32(b, bs, E4_JSB_FEATURE_INCOMPAT) };
	struct e4_buf buf = { .data = b, .size = bs };

	e4_bops_jbd2_sb.csum_set(NULL, &buf, &o);
}

static uint32_t jw_next(const struct jw *j, uint32_t b)
{
	return b + 1 >= j->maxlen ? j->first : b + 1;
}

/* Patch the journal superblock: @off is a field offset, @v its new value;
 * the checksum is recomputed when the journal has one. */
static void jw_sb_set(struct jw *j, size_t off, uint32_t v, bool fix_csum)
{
	uint8_t *b = malloc(j->bs);

	jw_read(j, 0, b);
	e4_put_be32(b, j->bs, off, v);
	if (fix_csum)
		jw_sb_csum(b, j->bs);
	jw_write(j, 0, b);
	free(b);
}

/*
 * Copy the clean image to @name and turn its journal into an empty log
 * with @incompat features, starting at journal block @start with sequence
 * 100, and needs_recovery set on the file system.
 */
static void jw_begin_from(struct jw *j, const char *base, const char *name,
			  uint32_t incompat, uint32_t start)
{
	memset(j, 0, sizeof(*j));
	j->img = tu_copy(base, name);
	j->bs = tu_block_size(j->img);
	for (uint32_t i = 0; i < 1024; i++)
		j->jphys[i] = map_ino(j->img, 8, i);
	for (int i = 0; i < 4; i++)
		j->a_blk[i] = map_ino(j->img, tu_ino_of(j->img, "/a"), (uint64_t)i);
	j->incompat = incompat;

	uint8_t *b = malloc(j->bs);
	jw_read(j, 0, b);
	assert_int_equal(e4_be32(b, j->bs, E4_JH_MAGIC), E4_JBD2_MAGIC);
	j->maxlen = e4_be32(b, j->bs, E4_JSB_MAXLEN);
	j->first = e4_be32(b, j->bs, E4_JSB_FIRST);
	assert_true(j->maxlen <= 1024 && j->first == 1);
	e4_put_be32(b, j->bs, E4_JH_BLOCKTYPE, E4_JT_SB_V2);
	e4_put_be32(b, j->bs, E4_JSB_SEQUENCE, 100);
	e4_put_be32(b, j->bs, E4_JSB_START, start);
	e4_put_be32(b, j->bs, E4_JSB_FEATURE_COMPAT, 0);
	e4_put_be32(b, j->bs, E4_JSB_FEATURE_INCOMPAT, incompat);
	b[E4_JSB_CHECKSUM_TYPE] = jw_csum(j) ? E4_JCSUM_CRC32C : 0;
	j->seed = e4_crc32c(0xFFFFFFFFu, b + E4_JSB_UUID, E4_J_UUID_SIZE);
	jw_sb_csum(b, j->bs);
	jw_write(j, 0, b);
	/* a fresh log: nothing from mkfs may look like a continuation */
	memset(b, 0, j->bs);
	for (uint32_t i = 1; i < j->maxlen; i++)
		jw_write(j, i, b);
	free(b);

	uint32_t inc = tu_peek_le32(j->img, SB + E4_SB_FEATURE_INCOMPAT);
	tu_patch_le32(j->img, SB + E4_SB_FEATURE_INCOMPAT, inc | E4_INCOMPAT_RECOVER);
	tu_fix_sb_csum(j->img);
	j->pos = start;
	j->seq = 100;
}

static void jw_begin(struct jw *j, const char *name, uint32_t incompat,
		     uint32_t start)
{
	jw_begin_from(j, clean4k, name, incompat, start);
}

static size_t jw_tag_bytes(const struct jw *j)
{
	if (j->incompat & JF_V3)
		return E4_JTAG3_SIZE;
	if (j->incompat & JF_V2)
		return j->incompat & JF_64BIT ? E4_JTAG_SIZE_CSUM_V2_64 :
							     E4_JTAG_SIZE_CSUM_V2;
	return j->incompat & JF_64BIT ? E4_JTAG_SIZE_64 : E4_JTAG_SIZE;
}

/*
 * Log @n blocks: targets[i] gets a copy of datas[i] (bs bytes).  Writes the
 * descriptor at the current position and the data blocks after it; returns
 * the descriptor's journal block.  @data_jblk (if not NULL) receives the
 * journal block of each data copy.
 */
static uint32_t jw_desc(struct jw *j, int n, const uint64_t *targets,
			uint8_t *const *datas, uint32_t *data_jblk)
{
	uint32_t bs = j->bs, djblk = j->pos;
	uint8_t *d = malloc(bs), *copy = malloc(bs);
	size_t off = E4_JH_SIZE, tb = jw_tag_bytes(j);

	jw_header(d, bs, E4_JT_DESCRIPTOR, j->seq);
	j->pos = jw_next(j, j->pos);
	for (int i = 0; i < n; i++) {
		uint32_t flags = i ? E4_JTAG_SAME_UUID : 0;
		memcpy(copy, datas[i], bs);
		if (e4_be32(copy, bs, E4_JH_MAGIC) == E4_JBD2_MAGIC) {
			e4_put_be32(copy, bs, 0, 0);
			flags |= E4_JTAG_ESCAPE;
		}
		if (i == n - 1)
			flags |= E4_JTAG_LAST;
		uint8_t seqbe[4];
		e4_put_be32(seqbe, 4, 0, j->seq);
		uint32_t c = e4_crc32c(e4_crc32c(j->seed, seqbe, 4), copy, bs);

		assert_true(off + tb + (i ? 0 : E4_J_UUID_SIZE) <=
			    bs - (jw_csum(j) ? E4_JTAIL_SIZE : 0));
		if (j->incompat & JF_V3) {
			e4_put_be32(d, bs, off + E4_JTAG3_BLOCKNR, (uint32_t)targets[i]);
			e4_put_be32(d, bs, off + E4_JTAG3_FLAGS, flags);
			e4_put_be32(d, bs, off + E4_JTAG3_BLOCKNR_HIGH,
				    (uint32_t)(targets[i] >> 32));
			e4_put_be32(d, bs, off + E4_JTAG3_CHECKSUM, c);
		} else {
			e4_put_be32(d, bs, off + E4_JTAG_BLOCKNR, (uint32_t)targets[i]);
			put_be16(d, off + E4_JTAG_CHECKSUM, jw_csum(j) ? (uint16_t)c : 0);
			put_be16(d, off + E4_JTAG_FLAGS, (uint16_t)flags);
			if (j->incompat & JF_64BIT)
				e4_put_be32(d, bs, off + E4_JTAG_BLOCKNR_HIGH,
					    (uint32_t)(targets[i] >> 32));
		}
		/* the first tag carries a (zero) UUID */
		off += tb + (i ? 0 : E4_J_UUID_SIZE);
		if (data_jblk)
			data_jblk[i] = j->pos;
		jw_write(j, j->pos, copy);
		j->pos = jw_next(j, j->pos);
	}
	jw_tail(j, d);
	jw_write(j, djblk, d);
	free(d);
	free(copy);
	return djblk;
}

static uint32_t jw_revoke(struct jw *j, int n, const uint64_t *targets)
{
	uint32_t bs = j->bs, at = j->pos;
	uint8_t *b = malloc(bs);
	size_t rec = j->incompat & JF_64BIT ? E4_JREVOKE_RECORD_64 :
							   E4_JREVOKE_RECORD;

	jw_header(b, bs, E4_JT_REVOKE, j->seq);
	e4_put_be32(b, bs, E4_JREVOKE_COUNT,
		    (uint32_t)(E4_JREVOKE_HEADER + rec * (size_t)n));
	for (int i = 0; i < n; i++) {
		size_t r = E4_JREVOKE_HEADER + rec * (size_t)i;

		if (rec == E4_JREVOKE_RECORD_64) {
			e4_put_be32(b, bs, r, (uint32_t)(targets[i] >> 32));
			e4_put_be32(b, bs, r + 4, (uint32_t)targets[i]);
		} else {
			e4_put_be32(b, bs, r, (uint32_t)targets[i]);
		}
	}
	jw_tail(j, b);
	jw_write(j, at, b);
	free(b);
	j->pos = jw_next(j, j->pos);
	return at;
}

static uint32_t jw_commit(struct jw *j)
{
	uint32_t bs = j->bs, at = j->pos;
	uint8_t *b = malloc(bs);

	jw_header(b, bs, E4_JT_COMMIT, j->seq);
	e4_put_be32(b, bs, E4_JCOMMIT_SEC, 0);		/* be64 */
	e4_put_be32(b, bs, E4_JCOMMIT_SEC + 4, 1700000000u);
	jw_seal(j, &e4_bops_jbd2_commit, b, at);
	jw_write(j, at, b);
	free(b);
	j->pos = jw_next(j, j->pos);
	j->seq++;
	return at;
}

/* A block of /a's size filled with @c. */
static uint8_t *filled(uint32_t bs, char c)
{
	uint8_t *b = malloc(bs);
	memset(b, c, bs);
	return b;
}

/* One transaction logging /a's block @i as all @c. */
static uint32_t jw_log_a(struct jw *j, int i, char c)
{
	uint8_t *d = filled(j->bs, c);
	uint32_t desc = jw_desc(j, 1, &j->a_blk[i], &d, NULL);
	jw_commit(j);
	free(d);
	return desc;
}

/* /a as e2fsck's replay of a copy shows it (the oracle for valid logs). */
static void a_bytes_after_e2fsck(const char *img, char out[4])
{
	char *copy = tu_copy(img, "e2fsck-copy.img");
	/* exit 1 = fixed (the replay), anything above 2 is an error */
	tu_sh("e2fsck -fy '%s' >/dev/null 2>&1; test $? -le 2", copy);
	char *cat = tu_sh_out("debugfs -R 'cat /a' '%s' 2>/dev/null", copy);
	assert_true(strlen(cat) >= FILE_A_BYTES);
	for (int i = 0; i < 4; i++)
		out[i] = cat[i * 4096 + 100];
	free(cat);
	unlink(copy);
	free(copy);
}

/* ---- valid hand-written logs ------------------------------------------- */

static void check_two_txns(uint32_t incompat, const char *name)
{
	struct jw j;
	char got[4], want[4];

	jw_begin(&j, name, incompat, 1);
	jw_log_a(&j, 0, 'B');
	/* T101: /a block 1 and a newer copy of block 0 */
	uint8_t *d[2] = {filled(j.bs, 'C'), filled(j.bs, 'D')};
	uint64_t t[2] = {j.a_blk[1], j.a_blk[0]};
	jw_desc(&j, 2, t, d, NULL);
	jw_commit(&j);
	free(d[0]);
	free(d[1]);

	char *before = md5_of(j.img);
	a_block_bytes(j.img, got);
	tu_assert_log("journal: replayed 2 transactions, 2 blocks, in memory");
	assert_memory_equal(got, "DCAA", 4);
	assert_unchanged(j.img, before);
	a_bytes_after_e2fsck(j.img, want);
	assert_memory_equal(got, want, 4);

	/* norecovery: the image as it is, with a warning */
	struct e4_open_opts o = {.read_only = true, .norecovery = true};
	struct e4_fs *fs;
	uint8_t buf[4096];
	tu_log_clear();
	assert_int_equal(tu_open_opts(j.img, &o, &fs), 0);
	tu_assert_log("norecovery: the journal is not replayed");
	read_path(fs, "/a", 0, buf, sizeof(buf));
	assert_int_equal(buf[100], 'A');
	tu_close(fs);
	assert_unchanged(j.img, before);
	free(before);
	free(j.img);
}

static void test_replay_tag_formats(void **state)
{
	(void)state;
	check_two_txns(JF_REVOKE | JF_64BIT | JF_V3, "v3-64.img");
	check_two_txns(JF_REVOKE | JF_V3, "v3-32.img");
	check_two_txns(JF_REVOKE | JF_64BIT | JF_V2, "v2-64.img");
	check_two_txns(JF_REVOKE | JF_V2, "v2-32.img");
	check_two_txns(JF_REVOKE | JF_64BIT, "nocsum-64.img");
	check_two_txns(JF_REVOKE, "nocsum-32.img");
}

static void test_escape_restored(void **state)
{
	(void)state;
	struct jw j;
	uint8_t *d = filled(4096, 'E');
	uint8_t buf[8];

	jw_begin(&j, "escape.img", JF_64BIT | JF_V3, 1);
	e4_put_be32(d, j.bs, 0, E4_JBD2_MAGIC);
	uint32_t data_jblk;
	jw_desc(&j, 1, &j.a_blk[2], &d, &data_jblk);
	jw_commit(&j);
	/* the writer stored the escaped copy */
	uint8_t raw[4];
	tu_peek(j.img, j.jphys[data_jblk] * j.bs, raw, 4);
	assert_int_equal(e4_be32(raw, 4, 0), 0);

	struct e4_fs *fs;
	tu_log_clear();
	assert_int_equal(tu_open(j.img, &fs), 0);
	read_path(fs, "/a", 2 * 4096, buf, sizeof(buf));
	assert_int_equal(e4_be32(buf, 8, 0), E4_JBD2_MAGIC);
	assert_int_equal(buf[4], 'E');
	tu_close(fs);
	free(d);
	free(j.img);
}

static void test_revoke(void **state)
{
	(void)state;
	for (int variant = 0; variant < 2; variant++) {
		struct jw j;
		char got[4], want[4];
		uint32_t feat = JF_REVOKE | (variant ? JF_V3 : JF_64BIT | JF_V3);

		jw_begin(&j, variant ? "revoke32.img" : "revoke64.img", feat, 1);
		jw_log_a(&j, 0, 'B');			/* T100 logs block 0 */
		jw_log_a(&j, 1, 'C');			/* T101 logs block 1 */
		jw_revoke(&j, 1, &j.a_blk[0]);		/* T102 revokes block 0 */
		jw_log_a(&j, 2, 'D');			/*      and logs block 2 */
		/* T103 logs block 1 and revokes it in the same transaction:
		 * revoked in T or later -> T101's and T103's copies are skipped */
		jw_revoke(&j, 1, &j.a_blk[1]);
		jw_log_a(&j, 1, 'X');
		/* T104 logs block 3 after a revoke of it in an earlier txn */
		jw_revoke(&j, 1, &j.a_blk[3]);
		jw_commit(&j);
		jw_log_a(&j, 3, 'F');

		char *before = md5_of(j.img);
		a_block_bytes(j.img, got);
		tu_assert_log("journal: replayed 6 transactions, 2 blocks, in memory");
		assert_memory_equal(got, "AADF", 4);
		assert_unchanged(j.img, before);
		a_bytes_after_e2fsck(j.img, want);
		assert_memory_equal(got, want, 4);
		free(before);
		free(j.img);
	}
}

/* The log wraps from s_maxlen back to s_first (a smaller s_maxlen is
 * legal, §13.3). */
static void test_wrap(void **state)
{
	(void)state;
	struct jw j;
	char got[4], want[4];

	jw_begin(&j, "wrap.img", JF_64BIT | JF_V3, 1);
	jw_sb_set(&j, E4_JSB_MAXLEN, 12, true);
	j.maxlen = 12;
	jw_sb_set(&j, E4_JSB_START, 9, true);
	j.pos = 9;
	uint8_t *d[3] = {filled(j.bs, 'P'), filled(j.bs, 'Q'), filled(j.bs, 'R')};
	uint64_t t[3] = {j.a_blk[0], j.a_blk[1], j.a_blk[2]};
	uint32_t dj[3];
	jw_desc(&j, 3, t, d, dj);	/* desc 9, data 10, 11, 1 */
	assert_int_equal(dj[2], 1);
	jw_commit(&j);			/* commit 2 */
	a_block_bytes(j.img, got);
	assert_memory_equal(got, "PQRA", 4);
	a_bytes_after_e2fsck(j.img, want);
	assert_memory_equal(got, want, 4);

	/* one descriptor with more tags than the log has blocks */
	struct jw k;
	jw_begin(&k, "toolong.img", JF_64BIT | JF_V3, 1);
	jw_sb_set(&k, E4_JSB_MAXLEN, 12, true);
	k.maxlen = 12;
	uint8_t *dd[20];
	uint64_t tt[20];
	for (int i = 0; i < 20; i++) {
		dd[i] = d[0];
		tt[i] = k.a_blk[i % 4];
	}
	jw_desc(&k, 20, tt, dd, NULL);
	expect_open_fails(k.img, -EUCLEAN, E4_RULE_J3,
			  e4_obj(E4_OBJ_JOURNAL, 0, 0, 0));
	for (int i = 0; i < 3; i++)
		free(d[i]);
	free(j.img);
	free(k.img);
}

/* The superblock row's checksum setter on block 0 of @img, held in @b0
 * (a copy to be logged). */
static void fix_sb_in(const char *img, uint8_t *b0)
{
	static struct e4_fs fs;
	struct e4_owner o = { 0 };
	struct e4_buf buf = { .blk = 0, .data = b0 };

	tu_csum_fs(img, &fs);
	buf.size = fs.block_size;
	e4_bops_superblock.csum_set(&fs, &buf, &o);
}

/* A replayed copy of block 0 carries a newer superblock: it is re-read. */
static void test_superblock_replayed(void **state)
{
	(void)state;
	struct jw j;
	uint8_t *b0 = malloc(4096);

	jw_begin(&j, "sbreplay.img", JF_64BIT | JF_V3, 1);
	tu_peek(j.img, 0, b0, 4096);
	memcpy(b0 + SB + E4_SB_VOLUME_NAME, "replayed-name\0\0\0", 16);
	fix_sb_in(j.img, b0);
	uint64_t zero = 0;
	jw_desc(&j, 1, &zero, &b0, NULL);
	jw_commit(&j);

	struct e4_fs *fs;
	struct e4_fs_info info;
	tu_log_clear();
	assert_int_equal(tu_open(j.img, &fs), 0);
	e4_fs_get_info(fs, &info);
	assert_string_equal(info.volume_name, "replayed-name");
	tu_close(fs);
	free(j.img);

	/* a replayed superblock claiming more blocks than the image holds is
	 * refused as the one read from the device would be */
	jw_begin(&j, "sbgrow.img", JF_64BIT | JF_V3, 1);
	tu_peek(j.img, 0, b0, 4096);
	e4_put_le32(b0 + SB, 1024, E4_SB_BLOCKS_COUNT_LO, 8192);
	fix_sb_in(j.img, b0);
	jw_desc(&j, 1, &zero, &b0, NULL);
	jw_commit(&j);
	expect_open_fails(j.img, -EIO, E4_RULE_L10, e4_obj_fs());
	tu_assert_log("image is truncated: 16777216 bytes, but the file system needs 8192 blocks of 4096 bytes");
	free(b0);
	free(j.img);
}

/* ---- what a hostile log can cost --------------------------------------- */

static bool is_journal_block(const struct jw *j, uint64_t blk)
{
	for (uint32_t i = 0; i < j->maxlen; i++)
		if (j->jphys[i] == blk)
			return true;
	return false;
}

/* A log made of revoke records (about 500 per block, all distinct) costs
 * nothing: records only update blocks that were logged. */
static void test_revoke_flood(void **state)
{
	(void)state;
	struct jw j;
	uint64_t targets[509];
	struct e4_open_opts o = {.read_only = true, .replay_mem_max = 256u << 10};
	struct e4_fs_counters c;
	struct e4_fs *fs;
	uint8_t buf[4096];
	uint32_t nblocks = 0;

	jw_begin(&j, "revokeflood.img", JF_64BIT | JF_V3 | JF_REVOKE, 1);
	jw_log_a(&j, 0, 'B');
	jw_log_a(&j, 1, 'C');
	for (uint64_t next = 1000000; j.pos + 2 < j.maxlen; nblocks++) {
		for (size_t i = 0; i < 509; i++)
			targets[i] = next++;
		if (nblocks == 100)
			targets[17] = j.a_blk[0];	/* one real revoke among them */
		jw_revoke(&j, 509, targets);
	}
	jw_commit(&j);
	assert_true(nblocks > 900);

	tu_log_clear();
	assert_int_equal(tu_open_opts(j.img, &o, &fs), 0);
	e4_fs_get_counters(fs, &c);
	assert_true(c.replay_bytes < 16u << 10);
	read_path(fs, "/a", 0, buf, sizeof(buf));
	assert_int_equal(buf[100], 'A');	/* revoked in the later txn */
	read_path(fs, "/a", 4096, buf, sizeof(buf));
	assert_int_equal(buf[100], 'C');
	tu_close(fs);
	free(j.img);
}

/* Replay memory has a ceiling: past it the open is refused, with a
 * message, instead of growing until the OOM killer ends the server. */
static void test_replay_memory_ceiling(void **state)
{
	(void)state;
	struct jw j;
	uint64_t targets[200];
	uint8_t *datas[200];
	struct e4_open_opts o = {.read_only = true, .replay_mem_max = 32u << 10};
	struct e4_fs *fs;
	int n = 0;

	jw_begin(&j, "ceiling.img", JF_64BIT | JF_V3, 1);
	for (uint64_t blk = 3000; n < 200; blk++)
		if (!is_journal_block(&j, blk))
			targets[n++] = blk;
	for (int i = 0; i < n; i++)
		datas[i] = filled(j.bs, (char)('a' + i % 26));
	jw_desc(&j, n, targets, datas, NULL);
	jw_commit(&j);
	for (int i = 0; i < n; i++)
		free(datas[i]);

	char *before = md5_of(j.img);
	tu_log_clear();
	assert_int_equal(tu_open_opts(j.img, &o, &fs), -ENOMEM);
	tu_assert_log("journal: replay needs more than 32 KiB of memory, the ceiling");
	assert_unchanged(j.img, before);
	free(before);

	tu_log_clear();
	assert_int_equal(tu_open(j.img, &fs), 0);
	tu_assert_log("journal: replayed 1 transactions, 200 blocks, in memory");
	tu_close(fs);
	free(j.img);
}

/* An ext3 journal whose block map interleaves (every run one block): the
 * replay maps the journal once, not once per tag. */
static void test_interleaved_journal(void **state)
{
	(void)state;
	char *base = tu_mkfs("ext3.img", "-t ext3 -b 4096 -J size=4", srcdir, "16M");
	uint64_t rec = tu_inode_offset(base, 8);
	uint32_t ind = tu_peek_le32(base, rec + E4_I_BLOCK + 12 * 4);
	uint32_t *ptrs = malloc(4096);
	struct jw j;

	assert_true(ind != 0);
	tu_peek(base, (uint64_t)ind * 4096, ptrs, 4096);
	for (int i = 0; i + 1 < 1012; i += 2) {	/* journal blocks 12..1023 */
		uint32_t t = ptrs[i];
		ptrs[i] = ptrs[i + 1];
		ptrs[i + 1] = t;
	}
	tu_patch(base, (uint64_t)ind * 4096, ptrs, 4096);

	jw_begin_from(&j, base, "interleaved.img", 0, 1);
	assert_int_equal(j.jphys[13] + 1, j.jphys[12]);
	uint64_t targets[450];
	uint8_t *datas[450];
	for (int i = 0; i < 450; i++) {
		targets[i] = j.a_blk[i % 4];
		datas[i] = filled(j.bs, (char)('a' + i % 26));
	}
	jw_desc(&j, 450, targets, datas, NULL);
	jw_desc(&j, 450, targets, datas, NULL);
	jw_commit(&j);
	for (int i = 0; i < 450; i++)
		free(datas[i]);

	struct e4_fs *fs;
	struct e4_fs_counters c;
	char got[4], want[4];
	tu_log_clear();
	assert_int_equal(tu_open(j.img, &fs), 0);
	e4_fs_get_counters(fs, &c);
	/* about 1,000 runs and 900 tags; once quadratic: about a million */
	assert_true(c.meta_gets < 20000);
	tu_close(fs);
	a_block_bytes(j.img, got);
	a_bytes_after_e2fsck(j.img, want);
	assert_memory_equal(got, want, 4);
	free(j.img);

	/* two journal blocks on one device block: refused */
	ptrs[100] = ptrs[101];
	tu_patch(base, (uint64_t)ind * 4096, ptrs, 4096);
	jw_begin_from(&j, base, "aliased.img", 0, 1);
	jw_log_a(&j, 0, 'B');
	expect_open_fails(j.img, -EUCLEAN, E4_RULE_J_MAP,
			  e4_obj_journal_block(113, 0));
	free(j.img);
	free(ptrs);
	free(base);
}

/* The overlay serves the copy whose checksum was verified at open, or
 * nothing: a device that answers differently later gives -EIO. */
static void test_overlay_verified_copy(void **state)
{
	(void)state;
	struct jw j;
	uint32_t dj;
	uint8_t *d, buf[4096];
	struct e4_open_opts o = {.read_only = true};
	struct e4_fs *fs;
	struct e4_dev *dev;
	char *bytes;
	size_t size;

	jw_begin(&j, "changing.img", JF_64BIT | JF_V3, 1);
	d = filled(j.bs, 'Q');
	jw_desc(&j, 1, &j.a_blk[0], &d, &dj);
	jw_commit(&j);
	free(d);
	bytes = tu_slurp(j.img, &size);

	assert_int_equal(e4_dev_open_mem(bytes, size, &dev), 0);
	assert_int_equal(tu_open_dev(dev, &o, &fs), 0);
	read_path(fs, "/a", 0, buf, sizeof(buf));
	assert_int_equal(buf[100], 'Q');
	bytes[j.jphys[dj] * j.bs + 100] = 'q';
	uint32_t ino;
	struct e4_inode in;
	assert_int_equal(e4_path_lookup(fs, "/a", &ino), 0);
	assert_int_equal(e4_inode_read(fs, ino, &in), 0);
	tu_log_clear();
	assert_int_equal(e4_file_read(fs, &in, 0, buf, sizeof(buf)), -EIO);
	tu_assert_rule(E4_RULE_IO_CHANGED,
		       e4_obj_journal_block(dj, j.a_blk[0]));
	tu_close(fs);
	free(bytes);
	free(j.img);
}

/* ---- broken journal superblocks ---------------------------------------- */

static void test_bad_jsb(void **state)
{
	(void)state;
	const struct e4_object jsb = e4_obj(E4_OBJ_JOURNAL_SB, 0, 0, 0);
	struct jw j;
	char name[32];
	int n = 0;

#define FRESH()                                                         \
	do {                                                            \
		snprintf(name, sizeof(name), "jsb%d.img", n++);         \
		jw_begin(&j, name, JF_64BIT | JF_V3, 1);                \
		jw_log_a(&j, 0, 'B');                                   \
	} while (0)

	FRESH();
	jw_sb_set(&j, E4_JH_MAGIC, 0x12345678, true);
	expect_open_fails(j.img, -EUCLEAN, E4_RULE_J1, jsb);
	free(j.img);

	FRESH();
	/* a commit block where the sb belongs */
	jw_sb_set(&j, E4_JH_BLOCKTYPE, E4_JT_COMMIT, true);
	expect_open_fails(j.img, -EUCLEAN, E4_RULE_J1, jsb);
	free(j.img);

	FRESH();
	jw_sb_set(&j, E4_JSB_BLOCKSIZE, 1024, true);
	expect_open_fails(j.img, -EUCLEAN, E4_RULE_J1, jsb);
	free(j.img);

	FRESH();
	jw_sb_set(&j, E4_JSB_FIRST, 0, true);
	expect_open_fails(j.img, -EUCLEAN, E4_RULE_J1, jsb);
	free(j.img);

	FRESH();
	jw_sb_set(&j, E4_JSB_FIRST, 1024, true);
	expect_open_fails(j.img, -EUCLEAN, E4_RULE_J1, jsb);
	free(j.img);

	FRESH();
	jw_sb_set(&j, E4_JSB_MAXLEN, 1025, true);
	expect_open_fails(j.img, -EUCLEAN, E4_RULE_J1, jsb);
	free(j.img);

	FRESH();
	jw_sb_set(&j, E4_JSB_START, 1024, true);
	expect_open_fails(j.img, -EUCLEAN, E4_RULE_J1, jsb);
	free(j.img);

	FRESH();
	/* changed without fixing the checksum */
	jw_sb_set(&j, E4_JSB_SEQUENCE, 7, false);
	expect_open_fails(j.img, -EUCLEAN, E4_RULE_CS1, jsb);
	free(j.img);

	FRESH();
	jw_sb_set(&j, E4_JSB_FEATURE_INCOMPAT, JF_64BIT | JF_V2 | JF_V3, true);
	expect_open_fails(j.img, -EUCLEAN, E4_RULE_J2, jsb);
	free(j.img);

	FRESH();
	jw_sb_set(&j, E4_JSB_FEATURE_INCOMPAT, JF_64BIT | JF_V3 | 0x40, true);
	expect_open_fails(j.img, -EOPNOTSUPP, E4_RULE_J2, jsb);
	/* a refusal says what is not supported */
	tu_assert_log("unsupported incompatible features 0x40");
	free(j.img);

	FRESH();
	jw_sb_set(&j, E4_JSB_FEATURE_RO_COMPAT, 1, true);
	expect_open_fails(j.img, -EUCLEAN, E4_RULE_J2, jsb);
	free(j.img);

	/* with a checksummed journal the checksum type must be crc32c */
	FRESH();
	{
		uint8_t b[4096];
		jw_read(&j, 0, b);
		b[E4_JSB_CHECKSUM_TYPE] = E4_JCSUM_CRC32;
		jw_sb_csum(b, 4096);
		jw_write(&j, 0, b);
	}
	expect_open_fails(j.img, -EUCLEAN, E4_RULE_J2, jsb);
	free(j.img);

	/* s_start 0 with needs_recovery: nothing to replay, the open works */
	FRESH();
	jw_sb_set(&j, E4_JSB_START, 0, true);
	char got[4];
	a_block_bytes(j.img, got);
	tu_assert_log("journal: log is empty, nothing to replay");
	assert_memory_equal(got, "AAAA", 4);
	free(j.img);
#undef FRESH
}

/* ---- broken log blocks -------------------------------------------------- */

/* Break a byte of a block, then (optionally) recompute its tail checksum so
 * the structural check, not the checksum, is what fails. */
static void patch_block(struct jw *j, uint32_t jblk, size_t off, const void *bytes,
			size_t n, bool fix_tail)
{
	uint8_t *b = malloc(j->bs);
	jw_read(j, jblk, b);
	memcpy(b + off, bytes, n);
	if (fix_tail)
		jw_tail(j, b);
	jw_write(j, jblk, b);
	free(b);
}

static void test_bad_descriptor_tail(void **state)
{
	(void)state;
	struct jw j;
	char got[4];

	jw_begin(&j, "desctail.img", JF_64BIT | JF_V3, 1);
	jw_log_a(&j, 0, 'B');
	uint32_t d2 = jw_log_a(&j, 1, 'C');
	uint8_t junk = 0x5A;
	patch_block(&j, d2, 100, &junk, 1, false);
	char *before = md5_of(j.img);
	a_block_bytes(j.img, got);
	tu_assert_log("journal: descriptor block 4 of transaction 101 fails its checksum: log ends here");
	tu_assert_log("journal: replayed 1 transactions, 1 blocks");
	assert_memory_equal(got, "BAAA", 4);
	assert_unchanged(j.img, before);
	free(before);
	free(j.img);
}

static void test_bad_commit(void **state)
{
	(void)state;
	struct jw j;
	char got[4];

	jw_begin(&j, "commit.img", JF_64BIT | JF_V3, 1);
	jw_log_a(&j, 0, 'B');
	jw_log_a(&j, 1, 'C');
	uint32_t c3 = j.pos + 2;		/* T102's commit */
	jw_log_a(&j, 2, 'D');
	uint8_t junk = 0x77;
	patch_block(&j, c3, 0x40, &junk, 1, false);
	a_block_bytes(j.img, got);
	tu_assert_log("journal: commit block 9 of transaction 102 fails its checksum: transaction not replayed");
	tu_assert_log("journal: replayed 2 transactions, 2 blocks");
	assert_memory_equal(got, "BCAA", 4);
	free(j.img);

	/* an incomplete last transaction (no commit) is dropped, and so is
	 * anything after a block with the wrong sequence */
	jw_begin(&j, "nocommit.img", JF_64BIT | JF_V3, 1);
	jw_log_a(&j, 0, 'B');
	uint8_t *d = filled(j.bs, 'C');
	jw_desc(&j, 1, &j.a_blk[1], &d, NULL);
	a_block_bytes(j.img, got);
	assert_memory_equal(got, "BAAA", 4);
	free(j.img);

	jw_begin(&j, "seq.img", JF_64BIT | JF_V3, 1);
	jw_log_a(&j, 0, 'B');
	j.seq = 200;
	jw_log_a(&j, 1, 'C');
	a_block_bytes(j.img, got);
	assert_memory_equal(got, "BAAA", 4);
	free(d);
	free(j.img);
}

static void test_bad_revoke(void **state)
{
	(void)state;
	const struct {
		uint32_t feat, count;
	} cases[] = {
		{JF_64BIT | JF_V3 | JF_REVOKE, 17},
		{JF_64BIT | JF_V3 | JF_REVOKE, 20},	/* not a multiple of 8 */
		{JF_64BIT | JF_V3 | JF_REVOKE, 15},
		{JF_64BIT | JF_V3 | JF_REVOKE, 4096},	/* over the tail */
		{JF_REVOKE, 4097},
		{JF_REVOKE, 0xFFFFFFF0u},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jw j;
		char name[32];
		snprintf(name, sizeof(name), "revoke%zu.img", i);
		jw_begin(&j, name, cases[i].feat, 1);
		jw_log_a(&j, 0, 'B');
		uint32_t r = jw_revoke(&j, 1, &j.a_blk[1]);
		jw_commit(&j);
		uint8_t cnt[4];
		e4_put_be32(cnt, 4, 0, cases[i].count);
		patch_block(&j, r, E4_JREVOKE_COUNT, cnt, 4, true);
		expect_open_fails(j.img, -EUCLEAN, E4_RULE_J5,
				  e4_obj_journal_block(r, 0));
		free(j.img);
	}

	/* a revoke block with a bad tail ends the log there */
	struct jw j;
	char got[4];
	jw_begin(&j, "revoketail.img", JF_64BIT | JF_V3 | JF_REVOKE, 1);
	jw_log_a(&j, 0, 'B');
	uint32_t r = jw_revoke(&j, 1, &j.a_blk[0]);
	jw_log_a(&j, 1, 'C');
	uint8_t junk = 9;
	patch_block(&j, r, 30, &junk, 1, false);
	a_block_bytes(j.img, got);
	tu_assert_log("journal: revoke block 4 of transaction 101 fails its checksum: log ends here");
	assert_memory_equal(got, "BAAA", 4);
	free(j.img);
}

static void test_bad_targets(void **state)
{
	(void)state;
	struct jw j;
	uint8_t *d = filled(4096, 'T');
	uint64_t blocks = 4096;	/* 16 MiB image of 4 KiB blocks */

	assert_int_equal(tu_peek_le32(clean4k, SB + E4_SB_BLOCKS_COUNT_LO), blocks);
	const uint64_t outside[] = {blocks, blocks + 1000, (1ull << 32) | 5};
	for (int i = 0; i < 3; i++) {
		char name[32];
		uint32_t dj;
		snprintf(name, sizeof(name), "outside%d.img", i);
		jw_begin(&j, name, JF_64BIT | JF_V3, 1);
		jw_desc(&j, 1, &outside[i], &d, &dj);
		jw_commit(&j);
		expect_open_fails(j.img, -EUCLEAN, E4_RULE_J4,
				  e4_obj_journal_block(dj, outside[i]));
		free(j.img);
	}

	/* the journal's own blocks: its superblock and a log block */
	for (int i = 0; i < 2; i++) {
		char name[32];
		uint32_t dj;
		snprintf(name, sizeof(name), "ownblock%d.img", i);
		jw_begin(&j, name, JF_64BIT | JF_V3, 1);
		uint64_t t = j.jphys[i ? 500 : 0];
		jw_desc(&j, 1, &t, &d, &dj);
		jw_commit(&j);
		expect_open_fails(j.img, -EUCLEAN, E4_RULE_J_SELF,
				  e4_obj_journal_block(dj, t));
		free(j.img);
	}

	/* a revoked bad target is never looked at */
	jw_begin(&j, "revokedbad.img", JF_64BIT | JF_V3 | JF_REVOKE, 1);
	jw_desc(&j, 1, &outside[0], &d, NULL);
	jw_commit(&j);
	jw_revoke(&j, 1, &outside[0]);
	jw_commit(&j);
	char got[4];
	a_block_bytes(j.img, got);
	assert_memory_equal(got, "AAAA", 4);
	free(j.img);
	free(d);
}

static void test_bad_data_checksum(void **state)
{
	(void)state;
	const uint32_t feats[] = {JF_64BIT | JF_V3, JF_64BIT | JF_V2, JF_V2};
	for (int i = 0; i < 3; i++) {
		struct jw j;
		char name[32];
		uint32_t dj;
		uint8_t *d = filled(4096, 'Z');
		snprintf(name, sizeof(name), "datacsum%d.img", i);
		jw_begin(&j, name, feats[i], 1);
		jw_desc(&j, 1, &j.a_blk[0], &d, &dj);
		jw_commit(&j);
		uint8_t junk = 'z';
		patch_block(&j, dj, 2000, &junk, 1, false);
		expect_open_fails(j.img, -EUCLEAN, E4_RULE_CS1,
				  e4_obj_journal_block(dj, j.a_blk[0]));

		/* fuzzing builds accept it */
		struct e4_open_opts o = {.read_only = true, .csum = E4_CSUM_ACCEPT};
		struct e4_fs *fs;
		uint8_t buf[4096];
		assert_int_equal(tu_open_opts(j.img, &o, &fs), 0);
		read_path(fs, "/a", 0, buf, sizeof(buf));
		assert_int_equal(buf[2000], 'z');
		tu_close(fs);
		free(d);
		free(j.img);
	}
}

/* Every log block carries a valid header for the expected sequence and
 * nothing ever commits: the scan must stop after one lap. */
static void test_cycle_terminates(void **state)
{
	(void)state;
	for (int kind = 0; kind < 2; kind++) {
		struct jw j;
		jw_begin(&j, kind ? "cycle-desc.img" : "cycle-rev.img",
			 JF_64BIT | JF_V3 | JF_REVOKE, 1);
		uint8_t *b = malloc(j.bs);
		for (uint32_t n = j.first; n < j.maxlen; n++) {
			if (kind == 0) {
				jw_header(b, j.bs, E4_JT_REVOKE, 100);
				e4_put_be32(b, j.bs, E4_JREVOKE_COUNT,
					    E4_JREVOKE_HEADER + E4_JREVOKE_RECORD_64);
				/* one be64 record, its high half 0 */
				e4_put_be32(b, j.bs, E4_JREVOKE_HEADER + 4,
					    (uint32_t)j.a_blk[0]);
			} else {
				/* one tag per descriptor: its data block is
				 * the next descriptor, and so on round */
				jw_header(b, j.bs, E4_JT_DESCRIPTOR, 100);
				e4_put_be32(b, j.bs, E4_JH_SIZE + E4_JTAG3_BLOCKNR,
					    (uint32_t)j.a_blk[0]);
				e4_put_be32(b, j.bs, E4_JH_SIZE + E4_JTAG3_FLAGS,
					    E4_JTAG_LAST);
			}
			jw_tail(&j, b);
			jw_write(&j, n, b);
		}
		free(b);
		if (kind == 0) {
			char got[4];
			a_block_bytes(j.img, got);
			tu_assert_log("journal: replayed 0 transactions, 0 blocks");
			assert_memory_equal(got, "AAAA", 4);
		} else {
			/* a transaction longer than the log is corrupt */
			expect_open_fails(j.img, -EUCLEAN, E4_RULE_J3,
					  e4_obj(E4_OBJ_JOURNAL, 0, 0, 0));
		}
		free(j.img);
	}

	/* commits with consecutive sequences all the way round: each lap
	 * position is visited once, the wrap finds sequence 100 + 1023 != 100 */
	struct jw j;
	jw_begin(&j, "cycle-commit.img", JF_64BIT | JF_V3, 1);
	for (uint32_t n = j.first; n < j.maxlen; n++)
		jw_commit(&j);
	char got[4];
	a_block_bytes(j.img, got);
	tu_assert_log("journal: replayed 1023 transactions, 0 blocks");
	free(j.img);
}

/* ---- images made dirty by the kernel ---------------------------------- */

static bool kernel_ok(void)
{
	if (geteuid() != 0)
		return false;
	return system("command -v xfs_io >/dev/null && test -e /dev/loop-control") == 0;
}

/*
 * mkfs, mount, phase 1 (synced: in place), phase 2 (committed to the
 * journal by an fsync, not yet checkpointed), then crash:
 *  - power cut: `xfs_io -x -c shutdown` (no log flush: the journal is
 *    aborted and written no more), copy the image, unmount, keep the copy:
 *    what a power cut would leave, phase 2 in the journal.  Without the
 *    shutdown the copy was not atomic: a commit during it could move the
 *    log tail past a transaction whose home blocks the copy had read
 *    before they were written (a renamed file under both names, once in a
 *    hundred runs).  Home blocks may still be written back during the
 *    copy (a sync elsewhere on the machine), which the replay makes moot
 *    but which decides what a mount without recovery sees;
 *  - shutdown: `xfs_io -x -c 'shutdown -f'` and unmount (the unmount
 *    writes the checkpointed blocks in place, but needs_recovery stays and
 *    the log is not emptied).
 */
static char *make_dirty_mode(const char *name, const char *mkfs_args,
			     const char *mount_opts, const char *phase1,
			     const char *phase2, bool shutdown)
{
	char *img = tu_mkfs(name, mkfs_args, NULL, "64M");
	char mnt[300];

	snprintf(mnt, sizeof(mnt), "%s/mnt-%s", tu_tmpdir(), name);
	tu_sh("mkdir -p '%s' && mount -o loop%s%s '%s' '%s'", mnt,
	      *mount_opts ? "," : "", mount_opts, img, mnt);
	if (shutdown)
		tu_sh("cd '%s' && { %s ; } && sync && { %s ; } && xfs_io -x -c 'shutdown -f' . ; "
		      "rc=$?; cd / ; umount '%s'; exit $rc", mnt, phase1, phase2, mnt);
	else
		tu_sh("cd '%s' && { %s ; } && sync && { %s ; } && xfs_io -x -c shutdown . && "
		      "cp --sparse=always '%s' '%s.crash'; "
		      "rc=$?; cd / ; umount '%s' && mv '%s.crash' '%s'; exit $rc",
		      mnt, phase1, phase2, img, img, mnt, img, img);
	char *f = tu_sh_out("dumpe2fs -h '%s' 2>/dev/null | grep '^Filesystem features'", img);
	assert_non_null(strstr(f, "needs_recovery"));
	free(f);
	return img;
}

static char *make_dirty(const char *name, const char *mkfs_args,
			const char *mount_opts, const char *phase1,
			const char *phase2)
{
	return make_dirty_mode(name, mkfs_args, mount_opts, phase1, phase2, false);
}

#define PHASE1                                                               \
	"mkdir d && for i in $(seq 1 40); do echo file $i > d/f$i; done && "  \
	"head -c 300000 /dev/zero | tr '\\0' 'q' > d/big && echo keep > keep"
/* fsync commits the transaction of the file's last change, and with it
 * every earlier one: so the file fsync'd is the one changed last.  (An
 * fsync of a file whose changes a timer commit already took commits
 * nothing, leaving later changes of other files out of the log: on a
 * loaded machine that lost the symlink.) */
#define PHASE2                                                                \
	"cp d/f1 d/c1 && mv d/f2 d/moved && rm d/f3 && "                      \
	"setfattr -n user.x -v hello d/f4 && truncate -s 5 d/big && "         \
	"mkdir new && ln -s ../keep new/link && echo late > new/late && "      \
	"xfs_io -c fsync d/c1 new/late"

static void expect_content(struct e4_fs *fs, const char *path, const char *want)
{
	uint32_t ino;
	struct e4_inode in;
	char buf[256];

	assert_int_equal(e4_path_lookup(fs, path, &ino), 0);
	assert_int_equal(e4_inode_read(fs, ino, &in), 0);
	assert_int_equal(in.size, strlen(want));
	assert_int_equal(e4_file_read(fs, &in, 0, buf, sizeof(buf)), (ssize_t)strlen(want));
	assert_memory_equal(buf, want, strlen(want));
}

static void expect_absent(struct e4_fs *fs, const char *path)
{
	uint32_t ino;
	assert_int_equal(e4_path_lookup(fs, path, &ino), -ENOENT);
}

/* What the kernel reads after replaying a copy, for @path (cat). */
static char *kernel_cat(const char *img, const char *path)
{
	char *copy = tu_copy(img, "kcopy.img");
	char mnt[300];
	snprintf(mnt, sizeof(mnt), "%s/kmnt", tu_tmpdir());
	/* the kernel replays only on a writable device */
	tu_sh("mkdir -p '%s' && mount -o loop '%s' '%s' && umount '%s' && "
	      "mount -o loop,ro '%s' '%s'", mnt, copy, mnt, mnt, copy, mnt);
	char *out = tu_sh_out("cat '%s%s'; umount '%s'", mnt, path, mnt);
	unlink(copy);
	free(copy);
	return out;
}

/* What the kernel reads at @path without recovery (ro,noload; the image
 * is not written): the file's bytes, or "(absent)". */
static char *kernel_cat_noload(const char *img, const char *path)
{
	char mnt[300];

	snprintf(mnt, sizeof(mnt), "%s/kmnt", tu_tmpdir());
	return tu_sh_out("mkdir -p '%s' && mount -o loop,ro,noload '%s' '%s' && "
			 "{ cat '%s%s' 2>/dev/null || printf '(absent)'; }; umount '%s'",
			 mnt, img, mnt, mnt, path, mnt);
}

/* e4fuse without recovery reads @path as the kernel does. */
static void expect_as_kernel_noload(struct e4_fs *fs, const char *img,
				    const char *path)
{
	char *k = kernel_cat_noload(img, path);

	if (!strcmp(k, "(absent)"))
		expect_absent(fs, path);
	else
		expect_content(fs, path, k);
	free(k);
}

static void check_kernel_image(const char *name, const char *mkfs_args,
			       const char *mount_opts, const char *want_jfeat,
			       bool shutdown)
{
	char *img = make_dirty_mode(name, mkfs_args, mount_opts, PHASE1, PHASE2, shutdown);
	char *jf = tu_sh_out("dumpe2fs -h '%s' 2>/dev/null | grep '^Journal features' || true", img);
	if (want_jfeat && !strstr(jf, want_jfeat))
		fail_msg("%s: journal features '%s' lack %s", name, jf, want_jfeat);
	free(jf);
	char *before = md5_of(img);
	struct e4_fs *fs;
	uint32_t ino;
	struct e4_inode in;
	char buf[64];

	tu_log_clear();
	assert_int_equal(tu_open(img, &fs), 0);
	tu_assert_log("journal: replayed ");
	assert_true(e4_journal_replayed_blocks(fs->journal) > 0);
	expect_content(fs, "/d/c1", "file 1\n");
	expect_content(fs, "/d/moved", "file 2\n");
	expect_content(fs, "/d/f40", "file 40\n");
	expect_content(fs, "/d/big", "qqqqq");
	expect_content(fs, "/new/late", "late\n");
	expect_content(fs, "/keep", "keep\n");
	expect_absent(fs, "/d/f2");
	expect_absent(fs, "/d/f3");
	assert_int_equal(e4_path_lookup(fs, "/d/f4", &ino), 0);
	assert_int_equal(e4_inode_read(fs, ino, &in), 0);
	assert_int_equal(e4_xattr_get(fs, &in, "user.x", buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(e4_path_lookup(fs, "/new/link", &ino), 0);
	assert_int_equal(e4_inode_read(fs, ino, &in), 0);
	assert_int_equal(e4_symlink_read(fs, &in, buf, sizeof(buf)), 7);
	assert_memory_equal(buf, "../keep", 7);
	tu_close(fs);
	assert_unchanged(img, before);

	/* the kernel's replay of a copy agrees */
	char *k = kernel_cat(img, "/new/late");
	assert_string_equal(k, "late\n");
	free(k);
	k = kernel_cat(img, "/d/c1");
	assert_string_equal(k, "file 1\n");
	free(k);

	/* norecovery: the image as it is, as the kernel reads it with
	 * noload (phase 2 is missing unless writeback took its home blocks
	 * out before the power cut) */
	if (!shutdown) {
		struct e4_open_opts o = {.read_only = true, .norecovery = true};
		tu_log_clear();
		assert_int_equal(tu_open_opts(img, &o, &fs), 0);
		tu_assert_log("norecovery: the journal is not replayed");
		expect_as_kernel_noload(fs, img, "/new/late");
		expect_as_kernel_noload(fs, img, "/d/f2");
		expect_content(fs, "/keep", "keep\n");
		tu_close(fs);
		assert_unchanged(img, before);
	}
	free(before);
	unlink(img);
	free(img);
}

static void test_kernel_dirty(void **state)
{
	(void)state;
	if (!kernel_ok())
		tu_skip("needs root, xfs_io and loop devices");
	check_kernel_image("k-v3.img", "-b 4096", "", "journal_checksum_v3", false);
	check_kernel_image("k-v3-shutdown.img", "-b 4096", "", "journal_checksum_v3", true);
	check_kernel_image("k-datajournal.img", "-b 4096", "data=journal", "journal_checksum_v3", false);
	check_kernel_image("k-1k-32bit.img", "-b 1024 -O ^64bit", "", "journal_checksum_v3", false);
	check_kernel_image("k-nocsum.img", "-O ^metadata_csum", "", "journal_64bit", false);
	check_kernel_image("k-nocsum-32.img", "-O ^metadata_csum,^64bit", "", NULL, false);
	check_kernel_image("k-v1.img", "-O ^metadata_csum", "journal_checksum", "journal_checksum", false);
	check_kernel_image("k-v1-dj.img", "-b 1024 -O ^metadata_csum", "journal_checksum,data=journal",
			   "journal_checksum", true);
}

/* data=journal: file data lives only in the journal until checkpoint. */
static void test_kernel_data_journal(void **state)
{
	(void)state;
	if (!kernel_ok())
		tu_skip("needs root, xfs_io and loop devices");
	char *img = make_dirty("k-dj2.img", "-b 4096", "data=journal",
			       "echo old > x",
			       "printf 'new data in the journal' > x && "
			       "head -c 70000 /dev/zero | tr '\\0' 'j' > y && xfs_io -c fsync x y");
	struct e4_fs *fs;
	uint8_t buf[70000];
	char *before = md5_of(img);

	tu_log_clear();
	assert_int_equal(tu_open(img, &fs), 0);
	expect_content(fs, "/x", "new data in the journal");
	read_path(fs, "/y", 0, buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i] != 'j')
			fail_msg("/y byte %zu is 0x%02x", i, buf[i]);
	/* the data blocks of /y are replayed from the journal */
	uint32_t ino;
	struct e4_inode in;
	struct e4_mapping m;
	assert_int_equal(e4_path_lookup(fs, "/y", &ino), 0);
	assert_int_equal(e4_inode_read(fs, ino, &in), 0);
	assert_int_equal(e4_map_block(fs, &in, 0, &m), 0);
	assert_true(e4_journal_has_block(fs->journal, m.pblk));
	tu_close(fs);
	assert_unchanged(img, before);
	free(before);

	struct e4_open_opts o = {.read_only = true, .norecovery = true};
	assert_int_equal(tu_open_opts(img, &o, &fs), 0);
	expect_as_kernel_noload(fs, img, "/x");
	tu_close(fs);
	unlink(img);
	free(img);
}

/* Revoke records written by the kernel: directory blocks logged, then
 * freed (rm -rf) are revoked; the replay must not resurrect them. */
static void test_kernel_revoke(void **state)
{
	(void)state;
	if (!kernel_ok())
		tu_skip("needs root, xfs_io and loop devices");
	char *img = make_dirty("k-revoke.img", "-b 4096", "",
			       "mkdir r && (cd r && for i in $(seq 1 400); do : > file_with_a_long_name_$i; done)",
			       "rm -rf r && xfs_io -c fsync . && mkdir r2 && echo x > r2/x && xfs_io -c fsync r2/x");
	char *revs = tu_sh_out("debugfs -R 'logdump -a' '%s' 2>/dev/null | "
			       "sed -n 's/^ *Revoke FS block \\([0-9]*\\).*/\\1/p' | sort -u", img);
	/* the oracle: e2fsck's replay of a copy, nothing else repaired */
	char *copy = tu_copy(img, "k-revoke-e2fsck.img");
	tu_sh("e2fsck -E journal_only -y '%s' >/dev/null 2>&1; test $? -le 2", copy);
	struct e4_fs *fs;
	int nrev = 0;
	uint8_t mine[4096], want[4096];

	tu_log_clear();
	assert_int_equal(tu_open(img, &fs), 0);
	for (char *p = revs, *e; *p; p = e) {
		unsigned long long blk = strtoull(p, &e, 10);
		if (e == p)
			break;
		nrev++;
		int r = e4_journal_overlay_read(fs->journal, blk, mine);
		assert_true(r >= 0);
		if (r == 0)
			tu_peek(img, blk * 4096, mine, 4096);
		tu_peek(copy, blk * 4096, want, 4096);
		if (memcmp(mine, want, 4096))
			fail_msg("revoked block %llu: replayed view differs from e2fsck's (from journal: %d)",
				 blk, r);
	}
	if (nrev == 0)
		fail_msg("the kernel wrote no revoke records; the test proves nothing");
	expect_content(fs, "/r2/x", "x\n");
	expect_absent(fs, "/r");
	tu_close(fs);
	free(revs);
	unlink(copy);
	free(copy);
	unlink(img);
	free(img);
}

/* ---- setup ------------------------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	if (asprintf(&srcdir, "%s/src", tu_tmpdir()) < 0)
		return -1;
	tu_sh("mkdir -p '%s' && head -c %d /dev/zero | tr '\\0' 'A' > '%s/a' && echo hi > '%s/b'",
	      srcdir, FILE_A_BYTES, srcdir, srcdir);
	clean4k = tu_mkfs("clean4k.img", "-b 4096 -O metadata_csum,64bit -J size=4", srcdir, "16M");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_tag_formats),
		cmocka_unit_test(test_escape_restored),
		cmocka_unit_test(test_revoke),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_superblock_replayed),
		cmocka_unit_test(test_bad_jsb),
		cmocka_unit_test(test_bad_descriptor_tail),
		cmocka_unit_test(test_bad_commit),
		cmocka_unit_test(test_bad_revoke),
		cmocka_unit_test(test_bad_targets),
		cmocka_unit_test(test_bad_data_checksum),
		cmocka_unit_test(test_cycle_terminates),
		cmocka_unit_test(test_revoke_flood),
		cmocka_unit_test(test_replay_memory_ceiling),
		cmocka_unit_test(test_interleaved_journal),
		cmocka_unit_test(test_overlay_verified_copy),
		cmocka_unit_test(test_kernel_dirty),
		cmocka_unit_test(test_kernel_data_journal),
		cmocka_unit_test(test_kernel_revoke),
	};
	return tu_result(cmocka_run_group_tests(tests, setup, NULL));
}
