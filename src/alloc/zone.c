/* SPDX-License-Identifier: MIT */
/*
 * The system zone (§11.6): blocks the allocator never hands out, whatever
 * a bitmap says.  A group's fixed metadata comes from the descriptors
 * (ondisk/group.c, the INSIDE view: what lies in the group's range); the
 * blocks of the journal, the resize inode's double-indirect block and the
 * MMP block are mapped once into a sorted list of runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc_int.h"
#include "e4/datazone.h"
#include "ondisk/journal.h"

struct run_list {
	struct e4_run *runs;
	size_t n, cap;
	uint64_t limit;		/* blocks the list may cover in all */
	uint64_t covered;
};

static int run_add(struct run_list *l, uint64_t start, uint64_t count)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct e4_run *r = realloc(l->runs, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		l->runs = r;
		l->cap = cap;
	}
	l->runs[l->n++] = (struct e4_run){ start, count };
	l->covered += count;
	/* an inode can own no more blocks than the file system has: this
	 * bounds the list by the device, not by what the image claims */
	return l->covered > l->limit ? -E2BIG : 0;
}

static int owned_cb(void *ctx, uint64_t pblk, uint64_t count, bool map_block)
{
	(void)map_block;
	return run_add(ctx, pblk, count);
}

static int by_start(const void *x, const void *y)
{
	const struct e4_run *a = x, *b = y;

	return (a->start > b->start) - (a->start < b->start);
}

/* Sort and merge overlapping or touching runs. */
static void runs_normalise(struct run_list *l)
{
	size_t out = 0;

	if (!l->n)
		return;
	qsort(l->runs, l->n, sizeof(*l->runs), by_start);
	for (size_t i = 1; i < l->n; i++) {
		struct e4_run *last = &l->runs[out];
		uint64_t end = last->start + last->count;

		if (l->runs[i].start <= end) {
			uint64_t e2 = l->runs[i].start + l->runs[i].count;
			if (e2 > end)
				last->count = e2 - last->start;
		} else {
			l->runs[++out] = l->runs[i];
		}
	}
	l->n = out + 1;
}

static int add_inode_blocks(struct e4_alloc *a, struct run_list *l,
			    uint32_t ino, const char *what)
{
	struct e4_inode inode;
	int err = e4_inode_load(a->fs, ino, &inode, true);

	if (!err)
		err = e4_map_for_each_owned(a->fs, &inode, owned_cb, l);
	if (err == -E2BIG)
		err = e4_corrupt(a->fs, E4_RULE_AL3, e4_obj_inode(ino),
				 "owns more blocks than the file system has");
	if (err == -EUCLEAN)
		e4_log(a->fs, E4_LOG_ERROR,
		       "the %s (inode %u) cannot be mapped: the file system cannot be written",
		       what, ino);
	return err;
}

/*
 * The resize inode's map names the reserved descriptor blocks of group 0
 * and of every backup group, which the group layout already keeps out of
 * reach: only its double-indirect block is its own.  Walking the whole
 * map would read one block per reserved descriptor block (a thousand on a
 * large file system) and make a read-write open cost more the larger the
 * file system is.
 */
static int add_resize_dind(struct e4_alloc *a, struct run_list *l)
{
	struct e4_inode inode;
	uint32_t dind;
	int err = e4_inode_load(a->fs, E4_RESIZE_INO, &inode, true);

	if (err) {
		if (err == -EUCLEAN)
			e4_log(a->fs, E4_LOG_ERROR,
			       "the resize inode (inode %u) cannot be read: the file system cannot be written",
			       E4_RESIZE_INO);
		return err;
	}
	dind = e4_le32(inode.i_block, sizeof(inode.i_block), 4 * E4_DIND_BLOCK);
	if (!dind)
		return 0;
	if (!e4_blocks_valid(a->fs, dind, 1))
		return e4_corrupt(a->fs, E4_RULE_FS_RANGE,
				  e4_obj_inode(E4_RESIZE_INO),
				  "double-indirect block %u outside the file system",
				  dind);
	return run_add(l, dind, 1);
}

int e4_zone_load(struct e4_alloc *a)
{
	struct e4_fs *fs = a->fs;
	struct run_list l = { .limit = fs->blocks_count };
	int err = 0;

	if (a->journal_mapped)
		return 0;
	if (fs->journal_inum)
		err = add_inode_blocks(a, &l, fs->journal_inum, "journal");
	if (!err && (fs->feature_compat & E4_COMPAT_RESIZE_INODE))
		err = add_resize_dind(a, &l);
	if (!err && (fs->feature_incompat & E4_INCOMPAT_MMP)) {
		uint64_t mmp = e4_le64(fs->sb_raw, E4_SB_SIZE, E4_SB_MMP_BLOCK);

		if (!e4_blocks_valid(fs, mmp, 1))
			err = e4_corrupt(fs, E4_RULE_FS_RANGE, e4_obj_superblock(),
					 "MMP block %llu outside the file system",
					 (unsigned long long)mmp);
		else
			err = run_add(&l, mmp, 1);
	}
	if (err) {
		free(l.runs);
		return err;
	}
	runs_normalise(&l);
	a->journal = l.runs;
	a->njournal = l.n;
	a->journal_mapped = true;
	return 0;
}

/* ---- marking and testing ------------------------------------------------- */

struct mark_ctx {
	struct e4_alloc *a;
	uint32_t g;
	uint8_t *bits;
	uint64_t lo, hi;	/* the group's blocks */
	bool check;
	int err;		/* the first AL3 found */
};

/* Mark [start, start+count), clipped to the group, in its bits. */
static void mark_run(struct mark_ctx *c, uint64_t start, uint64_t count,
		     const char *what)
{
	struct e4_fs *fs = c->a->fs;
	uint32_t shift = (uint32_t)__builtin_ctz(fs->cluster_ratio);
	uint64_t end = start + count, from, to;

	if (start < c->lo)
		start = c->lo;
	if (end > c->hi)
		end = c->hi;
	if (start >= end)
		return;
	from = (start - c->lo) >> shift;
	to = (end - 1 - c->lo) >> shift;
	if (c->check && !c->err &&
	    !e4_bits_all(c->bits, from, to - from + 1, true))
		c->err = e4_corrupt(fs, E4_RULE_AL3,
				    e4_obj(E4_OBJ_BLOCK_BITMAP, 0, 0, c->g),
				    "%s blocks %llu-%llu marked free",
				    what, (unsigned long long)start,
				    (unsigned long long)end - 1);
	e4_bits_set(c->bits, from, to - from + 1);
}

static const char *const kind_name[] = {
	[E4_META_SUPERBLOCK] = "superblock",
	[E4_META_GDT] = "group descriptor",
	[E4_META_RESERVED_GDT] = "reserved GDT",
	[E4_META_BLOCK_BITMAP] = "block bitmap",
	[E4_META_INODE_BITMAP] = "inode bitmap",
	[E4_META_INODE_TABLE] = "inode table",
};

static int mark_meta(void *p, uint32_t owner, enum e4_meta_kind kind,
		     uint64_t start, uint64_t count)
{
	(void)owner;
	mark_run(p, start, count, kind_name[kind]);
	return 0;
}

/* The first run of the per-file-system list ending after @blk. */
static size_t first_after(const struct e4_alloc *a, uint64_t blk)
{
	size_t lo = 0, hi = a->njournal;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct e4_run *r = &a->journal[mid];

		if (r->start + r->count <= blk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int e4_zone_mark(struct e4_alloc *a, uint32_t g, uint8_t *bits, bool check)
{
	struct e4_fs *fs = a->fs;
	struct mark_ctx c = { a, g, bits, e4_group_first_block(fs, g), 0,
			      check, 0 };
	int err;

	c.hi = c.lo + fs->blocks_per_group;
	if (c.hi > fs->blocks_count)
		c.hi = fs->blocks_count;
	err = e4_group_metadata(fs, g, E4_META_INSIDE, mark_meta, &c);
	for (size_t i = first_after(a, c.lo);
	     !err && i < a->njournal && a->journal[i].start < c.hi; i++)
		mark_run(&c, a->journal[i].start, a->journal[i].count,
			 "journal, resize inode or MMP");
	return err ? err : c.err;
}

struct overlap_ctx {
	uint64_t start, end;
};

static int overlap_meta(void *p, uint32_t owner, enum e4_meta_kind kind,
			uint64_t start, uint64_t count)
{
	struct overlap_ctx *c = p;

	(void)owner;
	(void)kind;
	return start < c->end && c->start < start + count;
}

int e4_zone_overlaps(struct e4_alloc *a, uint64_t start, uint64_t count,
		     bool *overlaps)
{
	struct e4_fs *fs = a->fs;
	struct overlap_ctx c = { start, start + count };
	uint32_t g0, g1;
	size_t i;
	int err = 0;

	*overlaps = false;
	if (!e4_blocks_valid(fs, start, count)) {
		*overlaps = true;
		return 0;
	}
	i = first_after(a, start);
	if (i < a->njournal && a->journal[i].start < c.end) {
		*overlaps = true;
		return 0;
	}
	g0 = (uint32_t)((start - fs->first_data_block) / fs->blocks_per_group);
	g1 = (uint32_t)((c.end - 1 - fs->first_data_block) / fs->blocks_per_group);
	for (uint32_t g = g0; g <= g1 && !err; g++) {
		err = e4_group_metadata(fs, g, E4_META_INSIDE, overlap_meta, &c);
		if (err == 1) {
			*overlaps = true;
			err = 0;
			break;
		}
	}
	return err;
}

/* ---- the data zone: the read side's view (e4/datazone.h) ----------------- */

struct e4_datazone {
	struct e4_alloc *a;	/* only its system-zone list is used */
};

int e4_datazone_open(struct e4_fs *fs, struct e4_datazone **out)
{
	struct e4_datazone *z = calloc(1, sizeof(*z));
	int err;

	if (!z)
		return -ENOMEM;
	err = e4_alloc_create(fs, NULL, &z->a);
	if (!err)
		err = e4_zone_load(z->a);
	if (err) {
		e4_datazone_close(z);
		return err;
	}
	*out = z;
	return 0;
}

void e4_datazone_close(struct e4_datazone *z)
{
	if (!z)
		return;
	e4_alloc_destroy(z->a);
	free(z);
}

int e4_datazone_check(struct e4_datazone *z, uint32_t ino,
		      const struct e4_range *rg)
{
	struct e4_fs *fs = z->a->fs;
	uint64_t base = e4_dev_base_offset(fs->dev);
	uint64_t mask = fs->block_size - 1u, pblk, count, lblk;
	bool overlaps = true;
	int err = 0;

	if (rg->kind != E4_MAP_MAPPED && rg->kind != E4_MAP_UNWRITTEN)
		return 0;
	lblk = rg->offset >> fs->log_block_size;
	pblk = (rg->dev_offset - base) >> fs->log_block_size;
	/* the blocks the byte range touches */
	count = (((rg->dev_offset - base) & mask) + rg->length + mask) >>
		fs->log_block_size;
	if (rg->dev_offset >= base && count)
		err = e4_zone_overlaps(z->a, pblk, count, &overlaps);
	if (err < 0)
		return err;
	if (!overlaps)
		return 0;
	return e4_corrupt(fs, E4_RULE_DATA_ZONE, e4_obj_extent(ino, lblk),
			  "data blocks %llu-%llu outside the file system or "
			  "in its metadata", (unsigned long long)pblk,
			  (unsigned long long)(pblk + count - 1));
}

size_t e4_fs_replayed_blocks(const struct e4_fs *fs)
{
	return e4_journal_replayed_blocks(fs->journal);
}
