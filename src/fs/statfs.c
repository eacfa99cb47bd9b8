/* SPDX-License-Identifier: MIT */
/* statfs: the superblock's counts, or while writable the allocator's exact
 * ones, with the reserves the kernel's ext4 keeps out of f_bavail. */
#include <string.h>

#include "fs/writer.h"

int e4_fs_statfs(struct e4_fs *fs, struct e4_statfs *out)
{
	struct e4_writer *w = fs->writer;
	uint64_t bfree = fs->free_blocks_count;
	uint32_t ffree = fs->free_inodes_count;
	uint64_t keep = fs->r_blocks_count;

	if (w) {
		int err = e4_alloc_counts(w->alloc, &bfree, &ffree);

		if (err)
			return err;
		keep += e4_alloc_meta_reserve(w->alloc);
	}
	/* the superblock's counters are advisory (§11.4): clamp, so a
	 * hostile image cannot make free exceed total */
	if (bfree > fs->blocks_count)
		bfree = fs->blocks_count;
	memset(out, 0, sizeof(*out));
	out->block_size = fs->block_size;
	out->blocks = fs->blocks_count - fs->first_data_block;
	out->bfree = bfree;
	out->bavail = bfree > keep ? bfree - keep : 0;
	out->files = fs->inodes_count;
	out->ffree = ffree > fs->inodes_count ? fs->inodes_count : ffree;
	out->name_max = E4_NAME_MAX;
	return 0;
}
