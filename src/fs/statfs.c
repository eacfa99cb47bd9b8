/* SPDX-License-Identifier: MIT */
/* statfs: the superblock's counts, or while writable the allocator's exact
 * ones, with the reserves the kernel's ext4 keeps out of f_bavail, and
 * f_blocks without the metadata overhead as the kernel's ext4 reports it
 * by default (bsddf). */
#include <stdlib.h>
#include <string.h>

#include "e4/bytes.h"
#include "fs/writer.h"

struct meta_mark {
	uint8_t *bits;		/* clusters of the group in use by metadata */
	uint64_t first;		/* the group's first block */
	uint32_t shift;		/* log2 of blocks per cluster */
	uint32_t nclusters;
};

static int mark_run(void *ctx, uint32_t owner, enum e4_meta_kind kind,
		    uint64_t start, uint64_t count)
{
	struct meta_mark *m = ctx;

	(void)owner;
	(void)kind;
	if (count == 0 || start < m->first)
		return 0;
	uint64_t c0 = (start - m->first) >> m->shift;
	uint64_t c1 = (start + count - 1 - m->first) >> m->shift;

	for (uint64_t c = c0; c <= c1 && c < m->nclusters; c++)
		m->bits[c / 8] |= (uint8_t)(1u << (c % 8));
	return 0;
}

/*
 * Blocks of fixed metadata: s_overhead_clusters when the superblock has
 * it, else the clusters of each group that hold superblock and descriptor
 * copies, reserved GDT blocks, bitmaps and inode tables (a cluster holding
 * any counts whole, as the kernel counts under bigalloc), the internal
 * journal, and the blocks before s_first_data_block.  O(groups), once.
 */
static int count_overhead(struct e4_fs *fs, uint64_t *out)
{
	uint32_t shift = (uint32_t)__builtin_ctz(fs->cluster_ratio);
	uint32_t sb_clusters = e4_le32(fs->sb_raw, sizeof(fs->sb_raw),
				       E4_SB_OVERHEAD_CLUSTERS);

	if (sb_clusters) {
		*out = (uint64_t)sb_clusters << shift;
		return 0;
	}

	struct meta_mark m = { .shift = shift,
			       .nclusters = fs->clusters_per_group };
	size_t bytes = (m.nclusters + 7) / 8;
	uint64_t clusters = 0;
	int ret = 0;

	m.bits = malloc(bytes);
	if (!m.bits)
		return -ENOMEM;
	for (uint32_t g = 0; g < fs->group_count && ret == 0; g++) {
		memset(m.bits, 0, bytes);
		m.first = fs->first_data_block +
			  (uint64_t)g * fs->blocks_per_group;
		ret = e4_group_metadata(fs, g, E4_META_INSIDE, mark_run, &m);
		for (size_t i = 0; i < bytes; i++)
			clusters += (uint64_t)__builtin_popcount(m.bits[i]);
	}
	free(m.bits);
	if (ret < 0)
		return ret;
	*out = (clusters << shift) + fs->first_data_block;
	if (fs->journal_inum) {
		struct e4_inode j;

		if (e4_inode_read(fs, fs->journal_inum, &j) == 0)
			*out += (j.size / fs->block_size + fs->cluster_ratio -
				 1) >> shift << shift;
	}
	return 0;
}

int e4_fs_statfs(struct e4_fs *fs, struct e4_statfs *out)
{
	struct e4_writer *w = fs->writer;
	uint64_t bfree = fs->free_blocks_count;
	uint32_t ffree = fs->free_inodes_count;
	uint64_t keep = fs->r_blocks_count + e4_fs_meta_reserve(fs);
	uint64_t overhead = atomic_load(&fs->overhead_plus1);

	if (w) {
		int err = e4_alloc_counts(w->alloc, &bfree, &ffree);

		if (err)
			return err;
	}
	if (overhead == 0) {
		/* a descriptor that cannot be read: the whole size this
		 * time (reported by the read), counted again next time */
		if (count_overhead(fs, &overhead) < 0)
			overhead = 0;
		else
			atomic_store(&fs->overhead_plus1, overhead + 1);
	} else {
		overhead--;
	}
	/* the superblock's counters are advisory (§11.4): clamp, so a
	 * hostile image cannot make free exceed total */
	if (bfree > fs->blocks_count)
		bfree = fs->blocks_count;
	if (overhead > fs->blocks_count)
		overhead = fs->blocks_count;
	memset(out, 0, sizeof(*out));
	out->block_size = fs->block_size;
	out->blocks = fs->blocks_count - overhead;
	out->overhead = overhead;
	out->bfree = bfree;
	out->bavail = bfree > keep ? bfree - keep : 0;
	out->files = fs->inodes_count;
	out->ffree = ffree > fs->inodes_count ? fs->inodes_count : ffree;
	out->name_max = E4_NAME_MAX;
	return 0;
}
