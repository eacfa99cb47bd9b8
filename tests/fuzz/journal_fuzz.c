/* SPDX-License-Identifier: MIT */
/* Journal fuzzing: see journal_fuzz.h for the input layout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal_fuzz.h"
#include "ondisk/ondisk.h"
#include "resource.h"
#include "template_io.h"
#include "walk.h"
#include "xref.h"

#ifndef E4_FUZZ_JOURNAL_TEMPLATE_PATH
#define E4_FUZZ_JOURNAL_TEMPLATE_PATH "journal-template.img"
#endif

/* the whole log of the template's 1024-block journal: replay costs that
 * grow with the log's length (memory per record, work per transaction)
 * show only on long logs */
#define LOG_BLOCKS_MAX 1023
#define HEADER_BYTES 12
/* The heap budget of one operation here (resource.h): a replay holds a
 * small map entry per logged block, so a valid 1 MiB log needs well under
 * 1 MiB (the seeds: 30 KiB); memory that grows faster than that with the
 * log's length goes over it. */
#define JOURNAL_HEAP_MB 8

static struct {
	uint8_t *image, *work;
	size_t size;
	uint32_t block_size;
	uint64_t jphys[LOG_BLOCKS_MAX + 1];	/* journal blocks 0..1023 */
	uint64_t itable_block;	/* a metadata block for the seed to replay */
	struct e4_xref_set targets;	/* what tags and revokes may name */
} tpl;

static void die(const char *msg)
{
	fprintf(stderr, "journal fuzz: %s\n", msg);
	abort();
}

static void quiet(void *ctx, enum e4_log_level level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

void e4_fuzz_journal_init(void)
{
	struct e4_dev *dev;
	struct e4_fs *fs = NULL;
	struct e4_inode j;
	struct e4_mapping m;

	if (tpl.image)
		return;
	e4_res_set_heap_default_mb(JOURNAL_HEAP_MB);
	tpl.image = e4_fuzz_template_read("E4_FUZZ_JOURNAL_TEMPLATE",
					  E4_FUZZ_JOURNAL_TEMPLATE_PATH, &tpl.size);
	tpl.work = malloc(tpl.size);
	if (!tpl.work)
		die("out of memory");

	struct e4_open_opts o = {.read_only = true, .log = quiet};
	if (e4_dev_open_mem(tpl.image, tpl.size, &dev) || e4_fs_open(dev, &o, &fs))
		die("template does not open");
	if (e4_inode_read(fs, fs->journal_inum, &j))
		die("template has no journal");
	for (uint64_t l = 0; l <= LOG_BLOCKS_MAX; l++) {
		if (e4_map_block(fs, &j, l, &m) || m.kind != E4_MAP_MAPPED)
			die("template journal has a hole");
		tpl.jphys[l] = m.pblk;
	}
	tpl.block_size = fs->block_size;
	struct e4_group gd;
	if (e4_group_get(fs, 0, &gd))
		die("template group 0 unreadable");
	tpl.itable_block = gd.inode_table;
	e4_xref_add_fs_targets(&tpl.targets, fs);
	static const unsigned jblocks[] = { 1, 2, 3, 32, 512, LOG_BLOCKS_MAX };
	for (size_t i = 0; i < sizeof(jblocks) / sizeof(*jblocks); i++)
		e4_xref_add_target(&tpl.targets, E4_XREF_BLOCK, tpl.jphys[jblocks[i]]);
	e4_xref_add_target(&tpl.targets, E4_XREF_BLOCK, tpl.itable_block + 1);
	e4_fs_close(fs);
}

/* Mark the superblock as needing recovery, keeping its checksum valid so
 * the input, not the superblock, is what gets tested. */
static void set_needs_recovery(uint8_t *img)
{
	uint8_t *sb = img + E4_SB_OFFSET;
	uint32_t inc = e4_le32(sb, E4_SB_SIZE, E4_SB_FEATURE_INCOMPAT);

	e4_put_le32(sb, E4_SB_SIZE, E4_SB_FEATURE_INCOMPAT, inc | E4_INCOMPAT_RECOVER);
	e4_put_le32(sb, E4_SB_SIZE, E4_SB_CHECKSUM,
		    e4_crc32c(0xFFFFFFFFu, sb, E4_SB_CHECKSUM));
}

int e4_fuzz_journal(const uint8_t *data, size_t size)
{
	e4_fuzz_journal_init();
	if (size < HEADER_BYTES)
		return 0;
	/* one buffer for every input: a fresh 4 MiB allocation per input
	 * made the harness three times slower under ASan */
	uint8_t *img = tpl.work;
	memcpy(img, tpl.image, tpl.size);

	size_t B = tpl.block_size;
	uint8_t *jsb = img + tpl.jphys[0] * B;
	memcpy(jsb + E4_JSB_FEATURE_COMPAT, data, 4);
	memcpy(jsb + E4_JSB_FEATURE_INCOMPAT, data + 4, 4);
	memcpy(jsb + E4_JSB_SEQUENCE, data + 8, 4);
	e4_put_be32(jsb, B, E4_JSB_START, 1);
	/* for inputs that turn on v2/v3 */
	jsb[E4_JSB_CHECKSUM_TYPE] = E4_JCSUM_CRC32C;
	/* the journal superblock stays valid (§12.4): the log is what is
	 * tested, not the superblock's checksum */
	e4_put_be32(jsb, B, E4_JSB_CHECKSUM, 0);
	e4_put_be32(jsb, B, E4_JSB_CHECKSUM,
		    e4_crc32c(0xFFFFFFFFu, jsb, E4_JSB_SIZE));
	size_t log = size - HEADER_BYTES;
	if (log > LOG_BLOCKS_MAX * B)
		log = LOG_BLOCKS_MAX * B;
	for (size_t k = 0; k * B < log; k++) {
		size_t n = log - k * B < B ? log - k * B : B;
		memcpy(img + tpl.jphys[k + 1] * B, data + HEADER_BYTES + k * B, n);
	}
	set_needs_recovery(img);

	e4_fuzz_image_dump("E4_FUZZ_JOURNAL_DUMP", img, tpl.size);

	/* the walk opens it with checksums computed but accepted, so the
	 * fuzzer reaches past the journal's own checksums */
	e4_fuzz_walk(img, tpl.size);
	return 0;
}

void e4_fuzz_journal_xref(const uint8_t *data, size_t size,
			  struct e4_xref_set *s)
{
	e4_fuzz_journal_init();
	if (size < HEADER_BYTES)
		return;
	memcpy(s->target, tpl.targets.target, sizeof(s->target));
	memcpy(s->n_targets, tpl.targets.n_targets, sizeof(s->n_targets));
	uint32_t incompat = e4_be32(data, size, 4);
	e4_xref_journal_log(s, data, size, HEADER_BYTES, tpl.block_size, incompat, 0);
}

/* Building a log: block @k of the seed, after the 12-byte header. */
struct log_builder {
	uint8_t *s;
	size_t size, B;
	size_t blocks;
};

static uint8_t *log_block(struct log_builder *l, uint32_t type, uint32_t seq)
{
	uint8_t *b = l->s + HEADER_BYTES + l->blocks++ * l->B;

	if (type) {
		e4_put_be32(b, l->B, E4_JH_MAGIC, E4_JBD2_MAGIC);
		e4_put_be32(b, l->B, E4_JH_BLOCKTYPE, type);
		e4_put_be32(b, l->B, E4_JH_SEQUENCE, seq);
	}
	return b;
}

/* A transaction logging @blk (one tag, the block's copy, the commit). */
static void log_tx(struct log_builder *l, uint32_t seq, uint64_t blk, bool b64)
{
	uint8_t *desc = log_block(l, E4_JT_DESCRIPTOR, seq);
	size_t tag = E4_JH_SIZE;	/* one tag, without csum v2/v3 */

	e4_put_be32(desc, l->B, tag + E4_JTAG_BLOCKNR, (uint32_t)blk);
	/* be16 checksum 0, be16 flags */
	e4_put_be32(desc, l->B, tag + E4_JTAG_CHECKSUM, E4_JTAG_LAST);
	if (b64)
		e4_put_be32(desc, l->B, tag + E4_JTAG_BLOCKNR_HIGH,
			    (uint32_t)(blk >> 32));
	memcpy(log_block(l, 0, seq), tpl.image + blk * l->B, l->B);
	log_block(l, E4_JT_COMMIT, seq);
}

static int write_seed(const char *path, const uint8_t *s, size_t size)
{
	FILE *f = fopen(path, "wb");
	int ret = f && fwrite(s, 1, size, f) == size ? 0 : -1;

	if (f && fclose(f) != 0)
		ret = -1;
	return ret;
}

/* One transaction in the template's journal format (no features: 8-byte
 * tags): a descriptor tagging the first inode-table block, that block's
 * copy, and the commit. */
int e4_fuzz_journal_seed(const char *path)
{
	e4_fuzz_journal_init();
	struct log_builder l = { .B = tpl.block_size };
	l.size = HEADER_BYTES + 3 * l.B;
	l.s = calloc(1, l.size);
	if (!l.s)
		return -1;
	e4_put_be32(l.s, l.size, 8, 1);	/* sequence 1; no features */
	log_tx(&l, 1, tpl.itable_block, false);
	int ret = write_seed(path, l.s, l.size);
	free(l.s);
	return ret;
}

/* T1 logs the inode-table block, T2 revokes it (so T1's copy is not
 * replayed), T3 logs the next block and the revoked one again (replayed:
 * newer than the revoke). */
static int revoke_seed(const char *path, bool b64)
{
	struct log_builder l = { .B = tpl.block_size };
	uint64_t blk = tpl.itable_block;

	l.size = HEADER_BYTES + 10 * l.B;
	l.s = calloc(1, l.size);
	if (!l.s)
		return -1;
	e4_put_be32(l.s, l.size, 4, E4_JF_INCOMPAT_REVOKE |
				    (b64 ? E4_JF_INCOMPAT_64BIT : 0));
	e4_put_be32(l.s, l.size, 8, 1);
	log_tx(&l, 1, blk, b64);
	uint8_t *rv = log_block(&l, E4_JT_REVOKE, 2);
	if (b64) {
		e4_put_be32(rv, l.B, E4_JREVOKE_COUNT,
			    E4_JREVOKE_HEADER + E4_JREVOKE_RECORD_64);
		e4_put_be32(rv, l.B, E4_JREVOKE_HEADER, (uint32_t)(blk >> 32));
		e4_put_be32(rv, l.B, E4_JREVOKE_HEADER + 4, (uint32_t)blk);
	} else {
		e4_put_be32(rv, l.B, E4_JREVOKE_COUNT,
			    E4_JREVOKE_HEADER + E4_JREVOKE_RECORD);
		e4_put_be32(rv, l.B, E4_JREVOKE_HEADER, (uint32_t)blk);
	}
	log_block(&l, E4_JT_COMMIT, 2);
	log_tx(&l, 3, blk + 1, b64);
	log_tx(&l, 4, blk, b64);
	l.size = HEADER_BYTES + l.blocks * l.B;
	int ret = write_seed(path, l.s, l.size);
	free(l.s);
	return ret;
}

int e4_fuzz_journal_seeds(const char *dir)
{
	char path[4096];

	e4_fuzz_journal_init();
	snprintf(path, sizeof(path), "%s/journal-0", dir);
	if (e4_fuzz_journal_seed(path))
		return -1;
	snprintf(path, sizeof(path), "%s/journal-revoke", dir);
	if (revoke_seed(path, false))
		return -1;
	snprintf(path, sizeof(path), "%s/journal-revoke64", dir);
	return revoke_seed(path, true);
}
