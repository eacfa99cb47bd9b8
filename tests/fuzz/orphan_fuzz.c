/* SPDX-License-Identifier: MIT */
/* Orphan fuzzing: see orphan_fuzz.h for the input layout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ondisk/ondisk.h"
#include "orphan_fuzz.h"
#include "template_io.h"
#include "walk.h"
#include "xref.h"

#ifndef E4_FUZZ_ORPHAN_TEMPLATE_PATH
#define E4_FUZZ_ORPHAN_TEMPLATE_PATH "orphan-template.img"
#endif

#define IN_LAST_ORPHAN 0
#define IN_OFILE_INUM 4
#define IN_FEATURES 8
#define IN_SIZE 12
#define IN_FLAGS 16
#define IN_IBLOCK 20
#define IN_DTIME 80
#define DTIME_FIRST_INO 13
#define DTIME_INODES 8
#define IN_SIZE_HIGH 112
#define IN_BLOCKS 116
#define OFILE_BLOCKS_MAX 4

#define FEAT_PRESENT 0x1u
#define FEAT_FILE 0x2u

/* One run of input bytes and where it goes in the image. */
struct segment {
	uint32_t in;
	uint64_t img;
	uint32_t len;
};

static struct {
	uint8_t *image, *work;
	size_t size;
	uint32_t block_size;
	struct segment seg[8 + DTIME_INODES + OFILE_BLOCKS_MAX];
	unsigned nseg;
	size_t input_len;	/* all segments: the length of a seed */
	struct e4_xref_set targets;
} tpl;

static void die(const char *msg)
{
	fprintf(stderr, "orphan fuzz: %s\n", msg);
	abort();
}

static void quiet(void *ctx, enum e4_log_level level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

static void add_segment(uint32_t in, uint64_t img, uint32_t len)
{
	if (img + len > tpl.size)
		die("template structure out of the image");
	tpl.seg[tpl.nseg++] = (struct segment){ in, img, len };
	if (in + len > tpl.input_len)
		tpl.input_len = in + len;
}

static uint64_t inode_offset(struct e4_fs *fs, uint32_t ino)
{
	struct e4_buf *b;
	size_t off;

	if (e4_inode_raw_get(fs, ino, &b, &off) < 0)
		die("template inode unreadable");
	uint64_t at = b->blk * fs->block_size + off;
	e4_meta_put(fs, b);
	return at;
}

void e4_fuzz_orphan_init(void)
{
	struct e4_dev *dev;
	struct e4_fs *fs = NULL;
	struct e4_inode of;

	if (tpl.image)
		return;
	tpl.image = e4_fuzz_template_read("E4_FUZZ_ORPHAN_TEMPLATE",
					  E4_FUZZ_ORPHAN_TEMPLATE_PATH, &tpl.size);
	tpl.work = malloc(tpl.size);
	if (!tpl.work)
		die("out of memory");

	struct e4_open_opts o = { .read_only = true, .log = quiet };
	if (e4_dev_open_mem(tpl.image, tpl.size, &dev) || e4_fs_open(dev, &o, &fs))
		die("template does not open");
	if (!fs->orphan_file_inum || e4_inode_read(fs, fs->orphan_file_inum, &of))
		die("template has no orphan file");
	uint32_t B = tpl.block_size = fs->block_size;
	uint64_t oino = inode_offset(fs, of.ino);

	add_segment(IN_LAST_ORPHAN, E4_SB_OFFSET + E4_SB_LAST_ORPHAN, 4);
	add_segment(IN_OFILE_INUM, E4_SB_OFFSET + E4_SB_ORPHAN_FILE_INUM, 4);
	add_segment(IN_SIZE, oino + E4_I_SIZE_LO, 4);
	add_segment(IN_FLAGS, oino + E4_I_FLAGS, 4);
	add_segment(IN_IBLOCK, oino + E4_I_BLOCK, E4_I_BLOCK_SIZE);
	add_segment(IN_SIZE_HIGH, oino + E4_I_SIZE_HIGH, 4);
	for (uint32_t k = 0; k < DTIME_INODES; k++)
		add_segment(IN_DTIME + 4 * k,
			    inode_offset(fs, DTIME_FIRST_INO + k) + E4_I_DTIME, 4);
	for (uint32_t j = 0; j < OFILE_BLOCKS_MAX && (uint64_t)j * B < of.size; j++) {
		struct e4_mapping m;
		if (e4_map_block(fs, &of, j, &m) || m.kind != E4_MAP_MAPPED)
			die("template orphan file has a hole");
		add_segment(IN_BLOCKS + j * B, m.pblk * B, B);
	}

	e4_xref_add_fs_targets(&tpl.targets, fs);
	for (uint32_t k = 0; k < DTIME_INODES; k++)
		e4_xref_add_target(&tpl.targets, E4_XREF_INODE, DTIME_FIRST_INO + k);
	e4_xref_add_target(&tpl.targets, E4_XREF_INODE, E4_ROOT_INO);
	e4_fs_close(fs);
}

static uint32_t template_features(void)
{
	const uint8_t *sb = tpl.image + E4_SB_OFFSET;
	uint32_t f = 0;

	if (e4_le32(sb, E4_SB_SIZE, E4_SB_FEATURE_RO_COMPAT) & E4_RO_COMPAT_ORPHAN_PRESENT)
		f |= FEAT_PRESENT;
	if (e4_le32(sb, E4_SB_SIZE, E4_SB_FEATURE_COMPAT) & E4_COMPAT_ORPHAN_FILE)
		f |= FEAT_FILE;
	return f;
}

static void set_bit(uint8_t *sb, size_t off, uint32_t bit, bool on)
{
	uint32_t v = e4_le32(sb, E4_SB_SIZE, off);
	e4_put_le32(sb, E4_SB_SIZE, off, on ? v | bit : v & ~bit);
}

int e4_fuzz_orphan(const uint8_t *data, size_t size)
{
	e4_fuzz_orphan_init();
	memcpy(tpl.work, tpl.image, tpl.size);
	for (unsigned i = 0; i < tpl.nseg; i++) {
		const struct segment *s = &tpl.seg[i];
		if (s->in >= size)
			continue;
		size_t n = size - s->in < s->len ? size - s->in : s->len;
		memcpy(tpl.work + s->img, data + s->in, n);
	}
	uint8_t *sb = tpl.work + E4_SB_OFFSET;
	uint32_t feat = size >= IN_FEATURES + 4 ? e4_le32(data, size, IN_FEATURES)
						: template_features();
	set_bit(sb, E4_SB_FEATURE_RO_COMPAT, E4_RO_COMPAT_ORPHAN_PRESENT, feat & FEAT_PRESENT);
	set_bit(sb, E4_SB_FEATURE_COMPAT, E4_COMPAT_ORPHAN_FILE, feat & FEAT_FILE);
	/* the superblock stays valid: the orphans are what is tested */
	e4_put_le32(sb, E4_SB_SIZE, E4_SB_CHECKSUM, e4_crc32c(0xFFFFFFFFu, sb, E4_SB_CHECKSUM));

	e4_fuzz_image_dump("E4_FUZZ_ORPHAN_DUMP", tpl.work, tpl.size);
	e4_fuzz_walk(tpl.work, tpl.size);
	return 0;
}

static int write_seed(const char *dir, const char *name, uint32_t features)
{
	char path[4096];
	uint8_t *s = calloc(1, tpl.input_len);
	int ret = -1;

	if (!s)
		return -1;
	for (unsigned i = 0; i < tpl.nseg; i++)
		memcpy(s + tpl.seg[i].in, tpl.image + tpl.seg[i].img, tpl.seg[i].len);
	e4_put_le32(s, tpl.input_len, IN_FEATURES, features);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f) {
		ret = fwrite(s, 1, tpl.input_len, f) == tpl.input_len ? 0 : -1;
		if (fclose(f) != 0)
			ret = -1;
	}
	free(s);
	return ret;
}

int e4_fuzz_orphan_seeds(const char *dir)
{
	e4_fuzz_orphan_init();
	if (write_seed(dir, "orphan-0", template_features()))
		return -1;
	return write_seed(dir, "orphan-list", 0);
}

void e4_fuzz_orphan_xref(const uint8_t *data, size_t size,
			 struct e4_xref_set *s)
{
	e4_fuzz_orphan_init();
	memcpy(s->target, tpl.targets.target, sizeof(s->target));
	memcpy(s->n_targets, tpl.targets.n_targets, sizeof(s->n_targets));
	e4_xref_add_field(s, size, IN_LAST_ORPHAN, 4, false, E4_XREF_INODE, 0);
	e4_xref_add_field(s, size, IN_OFILE_INUM, 4, false, E4_XREF_INODE, 0);
	for (uint32_t k = 0; k < DTIME_INODES; k++)
		e4_xref_add_field(s, size, IN_DTIME + 4 * k, 4, false, E4_XREF_INODE, 1);
	uint32_t flags = size >= IN_FLAGS + 4 ? e4_le32(data, size, IN_FLAGS) : 0;
	if (flags & E4_EXTENTS_FL)
		e4_xref_extent_node(s, data, size, IN_IBLOCK, E4_I_BLOCK_SIZE, 2);
	else
		e4_xref_block_pointers(s, size, IN_IBLOCK, E4_I_BLOCK_SIZE, 2);
	uint32_t B = tpl.block_size;
	for (uint32_t j = 0; j < OFILE_BLOCKS_MAX; j++)
		e4_xref_orphan_block(s, size, IN_BLOCKS + j * B, B, (uint16_t)(3 + j));
}
