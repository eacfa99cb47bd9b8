/* SPDX-License-Identifier: MIT */
/* Journal fuzzing: see journal_fuzz.h for the input layout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal_fuzz.h"
#include "ondisk/ondisk.h"
#include "walk.h"

#ifndef E4_FUZZ_JOURNAL_TEMPLATE_PATH
#define E4_FUZZ_JOURNAL_TEMPLATE_PATH "journal-template.img"
#endif

#define LOG_BLOCKS_MAX 32
#define HEADER_BYTES 12
/* journal superblock fields (§13.3) */
#define JSB_SEQUENCE 0x18
#define JSB_START 0x1C
#define JSB_COMPAT 0x24
#define JSB_INCOMPAT 0x28
#define JSB_CSUM_TYPE 0x50

static struct {
	uint8_t *image;
	size_t size;
	uint32_t block_size;
	uint64_t jphys[LOG_BLOCKS_MAX + 1];	/* journal blocks 0..32 */
	uint64_t itable_block;	/* a metadata block for the seed to replay */
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
	const char *path = getenv("E4_FUZZ_JOURNAL_TEMPLATE");
	struct e4_dev *dev;
	struct e4_fs *fs = NULL;
	struct e4_inode j;
	struct e4_mapping m;

	if (tpl.image)
		return;
	if (!path)
		path = E4_FUZZ_JOURNAL_TEMPLATE_PATH;
	FILE *f = fopen(path, "rb");
	if (!f)
		die("set E4_FUZZ_JOURNAL_TEMPLATE to the decompressed tests/fuzz/journal-template.img.zst");
	fseek(f, 0, SEEK_END);
	tpl.size = (size_t)ftell(f);
	rewind(f);
	tpl.image = malloc(tpl.size);
	if (!tpl.image || fread(tpl.image, 1, tpl.size, f) != tpl.size)
		die("cannot read the template");
	fclose(f);

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
	uint8_t *img = malloc(tpl.size);
	if (!img)
		return 0;
	memcpy(img, tpl.image, tpl.size);

	size_t B = tpl.block_size;
	uint8_t *jsb = img + tpl.jphys[0] * B;
	memcpy(jsb + JSB_COMPAT, data, 4);
	memcpy(jsb + JSB_INCOMPAT, data + 4, 4);
	memcpy(jsb + JSB_SEQUENCE, data + 8, 4);
	e4_put_be32(jsb, B, JSB_START, 1);
	jsb[JSB_CSUM_TYPE] = 4;	/* crc32c, for inputs that turn on v2/v3 */
	size_t log = size - HEADER_BYTES;
	if (log > LOG_BLOCKS_MAX * B)
		log = LOG_BLOCKS_MAX * B;
	for (size_t k = 0; k * B < log; k++) {
		size_t n = log - k * B < B ? log - k * B : B;
		memcpy(img + tpl.jphys[k + 1] * B, data + HEADER_BYTES + k * B, n);
	}
	set_needs_recovery(img);

	/* to look at a finding with e4img, e2fsck or the kernel */
	const char *dump = getenv("E4_FUZZ_JOURNAL_DUMP");
	if (dump) {
		FILE *f = fopen(dump, "wb");
		if (f) {
			if (fwrite(img, 1, tpl.size, f) != tpl.size)
				fprintf(stderr, "journal fuzz: short write to %s\n", dump);
			fclose(f);
		}
	}

	/* the walk opens it with checksums computed but accepted, so the
	 * fuzzer reaches past the journal's own checksums */
	e4_fuzz_walk(img, tpl.size);
	free(img);
	return 0;
}

/* One transaction in the template's journal format (no features: 8-byte
 * tags): a descriptor tagging the first inode-table block, that block's
 * copy, and the commit. */
int e4_fuzz_journal_seed(const char *path)
{
	e4_fuzz_journal_init();
	size_t B = tpl.block_size;
	size_t size = HEADER_BYTES + 3 * B;
	uint8_t *s = calloc(1, size);
	if (!s)
		return -1;
	e4_put_be32(s, size, 8, 1);	/* sequence 1; no features */
	uint8_t *desc = s + HEADER_BYTES;
	e4_put_be32(desc, B, 0, E4_JBD2_MAGIC);
	e4_put_be32(desc, B, 4, 1);	/* descriptor */
	e4_put_be32(desc, B, 8, 1);
	e4_put_be32(desc, B, 12, (uint32_t)tpl.itable_block);
	e4_put_be32(desc, B, 16, 0x8);	/* be16 0, be16 flags: LAST_TAG */
	memcpy(desc + B, tpl.image + tpl.itable_block * B, B);
	uint8_t *commit = desc + 2 * B;
	e4_put_be32(commit, B, 0, E4_JBD2_MAGIC);
	e4_put_be32(commit, B, 4, 2);	/* commit */
	e4_put_be32(commit, B, 8, 1);

	FILE *f = fopen(path, "wb");
	int ret = f && fwrite(s, 1, size, f) == size ? 0 : -1;
	if (f)
		fclose(f);
	free(s);
	return ret;
}
