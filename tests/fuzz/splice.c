/* SPDX-License-Identifier: MIT */
/*
 * Per-structure fuzzing over the template image (see splice.h).  Where each
 * structure lives is found once, at start-up, with the library itself
 * (path lookup, inode location, block mapping) on the pristine template.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ondisk/ondisk.h"
#include "splice.h"
#include "template_io.h"
#include "walk.h"
#include "xref.h"

#ifndef E4_FUZZ_TEMPLATE_PATH
#define E4_FUZZ_TEMPLATE_PATH "template.img"
#endif

#define MAX_SITES 12

struct site {
	uint64_t off;	/* byte offset in the image */
	uint32_t len;
	/* for cross-reference mutation (xref.h): the inode the structure
	 * belongs to, its parent directory, the block holding it */
	uint32_t ino, parent;
	uint64_t blk;
};

struct kind_sites {
	const char *name;
	struct site site[MAX_SITES];
	unsigned n;
};

static uint8_t *tpl;
static size_t tpl_size;
static uint8_t *work;
static struct e4_xref_set tpl_targets;	/* the template's geometry */
static uint32_t tpl_block_size;
static struct kind_sites sites[E4_SPLICE_KINDS] = {
	[E4_SPLICE_SB] = { .name = "sb" },
	[E4_SPLICE_GDT] = { .name = "gdt" },
	[E4_SPLICE_INODE] = { .name = "inode" },
	[E4_SPLICE_EXTENT] = { .name = "extent" },
	[E4_SPLICE_DIRBLOCK] = { .name = "dirblock" },
	[E4_SPLICE_HTREE] = { .name = "htree" },
	[E4_SPLICE_XATTR] = { .name = "xattr" },
};

static void quiet(void *ctx, enum e4_log_level level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

static void die(const char *what) __attribute__((noreturn));
static void die(const char *what)
{
	fprintf(stderr, "fuzz template: %s\n", what);
	abort();
}

static void add_site(enum e4_splice_kind k, uint64_t off, uint32_t len)
{
	struct kind_sites *s = &sites[k];

	if (s->n < MAX_SITES && off + len <= tpl_size)
		s->site[s->n++] = (struct site){ off, len, 0, 0, 0 };
}

/* Whose structure the last site of @k is (cross-reference targets). */
static void own_site(struct e4_fs *fs, enum e4_splice_kind k, const char *path,
		     uint64_t blk)
{
	struct site *site = &sites[k].site[sites[k].n - 1];
	char parent[256];
	const char *slash = strrchr(path, '/');

	if (path[0] && e4_path_lookup(fs, path, &site->ino) < 0)
		die(path);
	snprintf(parent, sizeof(parent), "%.*s", slash && slash != path ?
		 (int)(slash - path) : 1, path);
	if (path[0] && e4_path_lookup(fs, parent, &site->parent) < 0)
		die(parent);
	site->blk = blk ? blk : site->off / fs->block_size;
}

static void inode_site(struct e4_fs *fs, const char *path, bool whole_inode,
		       enum e4_splice_kind k)
{
	struct e4_buf *b;
	size_t off;
	uint32_t ino;

	if (e4_path_lookup(fs, path, &ino) < 0 || e4_inode_raw_get(fs, ino, &b, &off) < 0)
		die(path);
	uint64_t at = b->blk * fs->block_size + off;
	e4_meta_put(fs, b);
	if (whole_inode)
		add_site(k, at, fs->inode_size);
	else	/* the in-inode xattr area, after i_extra_isize */
		add_site(k, at + 128 + 32, fs->inode_size - 128 - 32);
	own_site(fs, k, path, 0);
}

static uint64_t block_of(struct e4_fs *fs, const char *path, uint64_t lblk)
{
	struct e4_inode in;
	struct e4_mapping m;
	uint32_t ino;

	if (e4_path_lookup(fs, path, &ino) < 0 || e4_inode_read(fs, ino, &in) < 0 ||
	    e4_map_block(fs, &in, lblk, &m) < 0 || m.kind != E4_MAP_MAPPED)
		die(path);
	return m.pblk * fs->block_size;
}

static void find_sites(void)
{
	struct e4_open_opts o = { .read_only = true, .log = quiet };
	struct e4_dev *dev;
	struct e4_fs *fs;
	struct e4_inode in;
	uint32_t ino;

	if (e4_dev_open_mem(tpl, tpl_size, &dev) < 0 || e4_fs_open(dev, &o, &fs) < 0)
		die("cannot open");
	uint32_t B = fs->block_size;
	tpl_block_size = B;

	e4_xref_add_fs_targets(&tpl_targets, fs);
	add_site(E4_SPLICE_SB, E4_SB_OFFSET, E4_SB_SIZE);
	own_site(fs, E4_SPLICE_SB, "", 0);
	add_site(E4_SPLICE_GDT, e4_group_desc_block(fs, 0) * B, B);
	own_site(fs, E4_SPLICE_GDT, "", 0);

	static const char *const inodes[] = {
		"/", "/lost+found", "/fastlink", "/fifo", "/frag", "/htree",
		"/lin", "/medium", "/slowlink", "/small", "/lin/f1",
	};
	for (size_t i = 0; i < sizeof(inodes) / sizeof(*inodes); i++)
		inode_site(fs, inodes[i], true, E4_SPLICE_INODE);

	/* /frag: the root in i_block, then the leaf block it points to */
	struct e4_buf *b;
	size_t off;
	if (e4_path_lookup(fs, "/frag", &ino) < 0 || e4_inode_read(fs, ino, &in) < 0 ||
	    e4_inode_raw_get(fs, ino, &b, &off) < 0)
		die("/frag");
	add_site(E4_SPLICE_EXTENT, b->blk * B + off + E4_I_BLOCK, E4_I_BLOCK_SIZE);
	own_site(fs, E4_SPLICE_EXTENT, "/frag", b->blk);
	e4_meta_put(fs, b);
	uint64_t leaf = e4_le32(in.i_block, 60, 12 + 4) |
			(uint64_t)e4_le16(in.i_block, 60, 12 + 8) << 32;
	add_site(E4_SPLICE_EXTENT, leaf * B, B);
	own_site(fs, E4_SPLICE_EXTENT, "/frag", 0);

	static const char *const dirs[] = { "/lin", "/htree", "/", "/lost+found" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
		add_site(E4_SPLICE_DIRBLOCK, block_of(fs, dirs[i], i == 1), B);
		own_site(fs, E4_SPLICE_DIRBLOCK, dirs[i], 0);
	}

	add_site(E4_SPLICE_HTREE, block_of(fs, "/htree", 0), B);
	own_site(fs, E4_SPLICE_HTREE, "/htree", 0);

	if (e4_path_lookup(fs, "/medium", &ino) < 0 || e4_inode_read(fs, ino, &in) < 0 ||
	    !in.file_acl)
		die("/medium xattr block");
	add_site(E4_SPLICE_XATTR, in.file_acl * B, B);
	own_site(fs, E4_SPLICE_XATTR, "/medium", 0);
	inode_site(fs, "/small", false, E4_SPLICE_XATTR);
	e4_fs_close(fs);
}

static void load_template(void)
{
	if (tpl)
		return;
	tpl = e4_fuzz_template_read("E4_FUZZ_TEMPLATE", E4_FUZZ_TEMPLATE_PATH,
				    &tpl_size);
	work = malloc(tpl_size);
	if (!work)
		die("out of memory");
	find_sites();
}

void e4_fuzz_splice_init(void)
{
	load_template();
}

const char *e4_fuzz_splice_name(enum e4_splice_kind kind)
{
	return sites[kind].name;
}

const uint8_t *e4_fuzz_splice_image(enum e4_splice_kind kind,
				    const uint8_t *data, size_t size,
				    size_t *used, size_t *image_size)
{
	load_template();
	const struct kind_sites *s = &sites[kind];
	if (size < 1 || s->n == 0)
		return NULL;
	const struct site *site = &s->site[data[0] % s->n];
	size_t n = size - 1 < site->len ? size - 1 : site->len;

	memcpy(work, tpl, tpl_size);
	memcpy(work + site->off, data + 1, n);
	if (used)
		*used = 1 + n;
	*image_size = tpl_size;
	return work;
}

int e4_fuzz_splice_walk(enum e4_splice_kind kind, const uint8_t *data,
			size_t size)
{
	struct e4_walk_limits lim;
	struct e4_walk_result res;
	struct e4_dev *dev;
	size_t img_size;
	const uint8_t *img = e4_fuzz_splice_image(kind, data, size, NULL,
						  &img_size);

	if (!img)
		return 0;
	e4_walk_limits_fuzz(&lim);
	if (e4_dev_open_mem(img, img_size, &dev) < 0)
		return 0;
	(void)e4_walk_dev(dev, &lim, &res);
	return 0;
}

/* The reference fields of an input of @kind (xref.h): the structure is at
 * input offset 1, after the selector. */
static void describe(enum e4_splice_kind kind, const uint8_t *data, size_t size,
		     struct e4_xref_set *s)
{
	load_template();
	const struct kind_sites *ks = &sites[kind];
	if (size < 2 || ks->n == 0)
		return;
	const struct site *site = &ks->site[data[0] % ks->n];
	uint32_t len = site->len;

	memcpy(s->target, tpl_targets.target, sizeof(s->target));
	memcpy(s->n_targets, tpl_targets.n_targets, sizeof(s->n_targets));
	if (site->ino)
		e4_xref_add_target(s, E4_XREF_INODE, site->ino);
	if (site->parent)
		e4_xref_add_target(s, E4_XREF_INODE, site->parent);
	e4_xref_add_target(s, E4_XREF_BLOCK, site->blk);
	switch (kind) {
	case E4_SPLICE_SB:
		e4_xref_superblock(s, size, 1, 0);
		break;
	case E4_SPLICE_GDT: {
		uint32_t dsz = e4_le16(tpl + E4_SB_OFFSET, E4_SB_SIZE, 0xFE);
		e4_xref_group_descs(s, size, 1, len, dsz ? dsz : 32, 0);
		break;
	}
	case E4_SPLICE_INODE:
		e4_xref_inode_record(s, data, size, 1, len, 0);
		break;
	case E4_SPLICE_EXTENT:
		e4_xref_extent_node(s, data, size, 1, len, 0);
		break;
	case E4_SPLICE_DIRBLOCK:
	case E4_SPLICE_HTREE:	/* its "." and ".." */
		e4_xref_dir_block(s, data, size, 1, len, 0);
		break;
	case E4_SPLICE_XATTR:	/* a block: 32-byte header; in-inode: magic */
		if (len == tpl_block_size)
			e4_xref_xattr_entries(s, data, size, 1 + 32, len - 32, 0);
		else
			e4_xref_xattr_entries(s, data, size, 1 + 4, len - 4, 0);
		break;
	case E4_SPLICE_KINDS:
		break;
	}
}

static enum e4_splice_kind xref_kind;

static void describe_registered(const uint8_t *data, size_t size,
				struct e4_xref_set *s)
{
	describe(xref_kind, data, size, s);
}

void e4_fuzz_splice_xref_init(enum e4_splice_kind kind)
{
	load_template();
	xref_kind = kind;
	e4_xref_register(describe_registered);
}

int e4_fuzz_splice_seeds(enum e4_splice_kind kind, const char *dir)
{
	load_template();
	const struct kind_sites *s = &sites[kind];
	for (unsigned i = 0; i < s->n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s-%u", dir, s->name, i);
		FILE *f = fopen(path, "wb");
		if (!f)
			return -1;
		uint8_t sel = (uint8_t)i;
		fwrite(&sel, 1, 1, f);
		fwrite(tpl + s->site[i].off, 1, s->site[i].len, f);
		if (fclose(f) != 0)
			return -1;
	}
	return (int)s->n;
}
