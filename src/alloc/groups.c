/* SPDX-License-Identifier: MIT */
/* The allocator object, its group summaries and the descriptors they are
 * read from and written to (see alloc.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc_int.h"

#define WINDOW_BYTES (8u << 20)

int e4_alloc_create(struct e4_fs *fs, const struct e4_alloc_opts *opts,
		    struct e4_alloc **out)
{
	struct e4_alloc *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->fs = fs;
	/* calloc: untouched pages cost nothing, so a 4 TiB file system's
	 * summaries cost what the groups used cost */
	a->groups = calloc(fs->group_count, sizeof(*a->groups));
	a->scratch = malloc(fs->block_size);
	if (!a->groups || !a->scratch) {
		free(a->groups);
		free(a->scratch);
		free(a);
		return -ENOMEM;
	}
	a->window_clusters = opts && opts->window_clusters ?
		opts->window_clusters :
		WINDOW_BYTES / (fs->block_size * fs->cluster_ratio);
	if (a->window_clusters == 0)
		a->window_clusters = 1;
	pthread_mutex_init(&a->lock, NULL);
	*out = a;
	return 0;
}

void e4_alloc_destroy(struct e4_alloc *a)
{
	if (!a)
		return;
	pthread_mutex_destroy(&a->lock);
	free(a->groups);
	free(a->journal);
	free(a->windows);
	free(a->pending);
	free(a->scratch);
	free(a);
}

int e4_alloc_prepare(struct e4_alloc *a)
{
	int err;

	pthread_mutex_lock(&a->lock);
	err = e4_zone_load(a);
	pthread_mutex_unlock(&a->lock);
	return err;
}

void e4_alloc_group_bad(struct e4_alloc *a, uint32_t g)
{
	a->groups[g].bad = true;
}

int e4_alloc_group_get(struct e4_alloc *a, uint32_t g, struct e4_group *gd)
{
	struct e4_group_sum *s = &a->groups[g];
	int err = e4_group_get(a->fs, g, gd);

	if (err == -EUCLEAN)
		s->bad = true;
	if (err || s->known)
		return err;
	s->known = true;
	s->free_clusters = gd->free_blocks;
	s->free_inodes = gd->free_inodes;
	s->used_dirs = gd->used_dirs;
	s->longest = a->fs->clusters_per_group;
	a->known_groups++;
	a->known_free_clusters += gd->free_blocks;
	a->known_free_inodes += gd->free_inodes;
	a->known_dirs += gd->used_dirs;
	return 0;
}

int e4_alloc_group_put(struct e4_alloc *a, struct e4_handle *h, uint32_t g,
		       const struct e4_group *gd)
{
	struct e4_fs *fs = a->fs;
	struct e4_group_sum *s = &a->groups[g];
	struct e4_owner owner = { .pos = g };
	struct e4_buf *copy;
	int err;

	err = e4_handle_get_write_access(h, e4_group_desc_block(fs, g),
					 &e4_bops_gdt, &owner, &copy);
	if (err)
		return err;
	e4_group_encode(fs, gd, copy->data + e4_group_desc_offset(fs, g));
	err = e4_handle_dirty(h, copy);
	if (err)
		return err;
	/* the summary was filled when the caller read @gd */
	a->known_free_clusters += gd->free_blocks;
	a->known_free_clusters -= s->free_clusters;
	a->known_free_inodes += gd->free_inodes;
	a->known_free_inodes -= s->free_inodes;
	a->known_dirs += gd->used_dirs;
	a->known_dirs -= s->used_dirs;
	a->changed_free_clusters += (int64_t)gd->free_blocks - s->free_clusters;
	a->changed_free_inodes += (int64_t)gd->free_inodes - s->free_inodes;
	s->free_clusters = gd->free_blocks;
	s->free_inodes = gd->free_inodes;
	s->used_dirs = gd->used_dirs;
	return 0;
}

int e4_alloc_group_put_or_abort(struct e4_alloc *a, struct e4_handle *h,
				uint32_t g, const struct e4_group *gd)
{
	int err = e4_alloc_group_put(a, h, g, gd);

	if (err)
		e4_handle_abort(h, err);
	return err;
}

int e4_alloc_know_all(struct e4_alloc *a)
{
	struct e4_group gd;

	for (uint32_t g = 0; g < a->fs->group_count &&
			     a->known_groups < a->fs->group_count; g++) {
		int err;

		if (a->groups[g].known || a->groups[g].bad)
			continue;
		err = e4_alloc_group_get(a, g, &gd);
		if (err && err != -EUCLEAN)
			return err;
	}
	return 0;
}

int e4_alloc_counts(struct e4_alloc *a, uint64_t *free_blocks,
		    uint32_t *free_inodes)
{
	int err;

	pthread_mutex_lock(&a->lock);
	err = e4_alloc_know_all(a);
	*free_blocks = a->known_free_clusters * a->fs->cluster_ratio;
	*free_inodes = (uint32_t)a->known_free_inodes;
	pthread_mutex_unlock(&a->lock);
	return err;
}

/*
 * The counts a clean unmount leaves in the superblock.  Writing needs a
 * cleanly unmounted image, whose superblock counts are exact (the kernel
 * and mkfs leave them so); so unless every descriptor has been read
 * anyway, the counts the session started with plus what it changed are the
 * exact ones, and unmounting does not read every descriptor of a large
 * file system.  Counts that could not be right (past the file system's
 * size) are recounted from the descriptors.
 */
static int super_counts(struct e4_alloc *a, const uint8_t *sb,
			uint64_t *free_clusters, uint64_t *free_inodes)
{
	struct e4_fs *fs = a->fs;
	uint64_t blocks = e4_le32(sb, E4_SB_SIZE, E4_SB_FREE_BLOCKS_COUNT_LO);
	uint64_t inodes = e4_le32(sb, E4_SB_SIZE, E4_SB_FREE_INODES_COUNT);
	int64_t c, i;
	int err;

	if (fs->feature_incompat & E4_INCOMPAT_64BIT)
		blocks |= (uint64_t)e4_le32(sb, E4_SB_SIZE,
					    E4_SB_FREE_BLOCKS_COUNT_HI) << 32;
	if (a->known_groups < fs->group_count &&
	    blocks <= fs->blocks_count && inodes <= fs->inodes_count) {
		c = (int64_t)(blocks / fs->cluster_ratio) + a->changed_free_clusters;
		i = (int64_t)inodes + a->changed_free_inodes;
		if (c >= 0 && (uint64_t)c * fs->cluster_ratio <= fs->blocks_count &&
		    i >= 0 && (uint64_t)i <= fs->inodes_count) {
			*free_clusters = (uint64_t)c;
			*free_inodes = (uint64_t)i;
			return 0;
		}
	}
	err = e4_alloc_know_all(a);
	*free_clusters = a->known_free_clusters;
	*free_inodes = a->known_free_inodes;
	return err;
}

int e4_alloc_sync_super(struct e4_alloc *a, struct e4_handle *h)
{
	struct e4_fs *fs = a->fs;
	uint64_t sb_block = E4_SB_OFFSET / fs->block_size;
	size_t off = E4_SB_OFFSET % fs->block_size;
	struct e4_owner owner = { 0 };
	uint64_t blocks, clusters, inodes;
	struct e4_buf *copy;
	uint8_t *sb;
	int err;

	pthread_mutex_lock(&a->lock);
	err = e4_handle_get_write_access(h, sb_block, &e4_bops_superblock,
					 &owner, &copy);
	if (err)
		goto out;
	sb = copy->data + off;
	err = super_counts(a, sb, &clusters, &inodes);
	if (err)
		goto out;
	blocks = clusters * fs->cluster_ratio;
	e4_put_le32(sb, E4_SB_SIZE, E4_SB_FREE_BLOCKS_COUNT_LO, (uint32_t)blocks);
	if (fs->feature_incompat & E4_INCOMPAT_64BIT)
		e4_put_le32(sb, E4_SB_SIZE, E4_SB_FREE_BLOCKS_COUNT_HI,
			    (uint32_t)(blocks >> 32));
	e4_put_le32(sb, E4_SB_SIZE, E4_SB_FREE_INODES_COUNT, (uint32_t)inodes);
	err = e4_handle_dirty(h, copy);
out:
	pthread_mutex_unlock(&a->lock);
	return err;
}
