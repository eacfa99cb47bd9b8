/* SPDX-License-Identifier: MIT */
/* Inode allocation (see alloc.h). */
#include <errno.h>
#include <string.h>

#include "alloc/alloc_int.h"

/* Inodes of group @g below the never-used tail (§3.3). */
static uint32_t used_line(const struct e4_fs *fs, const struct e4_group *gd)
{
	if (gd->flags & E4_BG_INODE_UNINIT)
		return 0;
	if (!fs->uninit_flags_valid)
		return fs->inodes_per_group;
	return fs->inodes_per_group - gd->itable_unused;
}

/* Group @g's first index a new inode may take (the reserved inodes of
 * group 0 never). */
static uint32_t first_index(const struct e4_fs *fs, uint32_t g)
{
	return g == 0 ? fs->first_ino - 1 : 0;
}

/* On the first use of group @g's inode bitmap: its free count and the
 * reserved inodes in use. */
static int check_inode_bitmap(struct e4_alloc *a, uint32_t g,
			      const struct e4_group *gd, const uint8_t *bits)
{
	struct e4_fs *fs = a->fs;
	uint64_t free_bits = e4_bits_count_clear(bits, fs->inodes_per_group);
	int err = 0;

	if (a->groups[g].inodes_checked)
		return 0;
	if (free_bits != gd->free_inodes)
		err = e4_corrupt(fs, E4_RULE_AL2,
				 e4_obj(E4_OBJ_INODE_BITMAP, 0, gd->inode_bitmap, g),
				 "%llu inodes free, the descriptor says %u",
				 (unsigned long long)free_bits, gd->free_inodes);
	else if (!e4_bits_all(bits, 0, first_index(fs, g), true))
		err = e4_corrupt(fs, E4_RULE_AL3,
				 e4_obj(E4_OBJ_INODE_BITMAP, 0, gd->inode_bitmap, g),
				 "a reserved inode (below %u) is marked free",
				 fs->first_ino);
	if (err)
		e4_alloc_group_bad(a, g);
	else
		a->groups[g].inodes_checked = true;
	return err;
}

/* Take the first free inode of group @g: -ENOSPC when it has none. */
static int take_inode(struct e4_alloc *a, struct e4_handle *h, uint32_t g,
		      bool dir, uint32_t *ino)
{
	struct e4_fs *fs = a->fs;
	struct e4_owner owner = { .pos = g };
	uint32_t ipg = fs->inodes_per_group, line, i;
	struct e4_group gd;
	struct e4_buf *copy = NULL;
	uint64_t run_start, run_len;
	int err = e4_alloc_group_get(a, g, &gd);

	if (err)
		return err;
	if (gd.free_inodes == 0)
		return -ENOSPC;
	line = used_line(fs, &gd);
	if (gd.flags & E4_BG_INODE_UNINIT) {
		err = e4_handle_get_create_access(h, gd.inode_bitmap,
						  &e4_bops_inode_bitmap,
						  &owner, &copy);
		if (!err) {
			e4_inode_bitmap_init(fs, copy->data);
			if (g == 0)	/* never: mkfs initialises group 0 */
				e4_bits_set(copy->data, 0, first_index(fs, g));
		}
	} else {
		err = e4_handle_get_write_access(h, gd.inode_bitmap,
						 &e4_bops_inode_bitmap, &owner,
						 &copy);
		if (!err)
			err = check_inode_bitmap(a, g, &gd, copy->data);
		if (err && copy)
			e4_handle_release(h, copy);
	}
	if (err)
		return err;

	/* the lowest free inode below the line, else the line itself: the
	 * table past it was never written (so never taken past it, §3.3) */
	e4_bits_find_run(copy->data, line, first_index(fs, g), 1, &run_start,
			 &run_len);
	if (run_len && run_start >= first_index(fs, g))
		i = (uint32_t)run_start;
	else if (line < ipg && line >= first_index(fs, g) &&
		 !e4_bit_test(copy->data, line))
		i = line;
	else
		i = ipg;
	if (i == ipg) {
		e4_handle_release(h, copy);
		e4_alloc_group_bad(a, g);
		return e4_corrupt(fs, E4_RULE_AL2,
				  e4_obj(E4_OBJ_INODE_BITMAP, 0, gd.inode_bitmap, g),
				  "no usable free inode, the descriptor says %u",
				  gd.free_inodes);
	}
	e4_bits_set(copy->data, i, 1);
	gd.inode_bitmap_csum = e4_bitmap_csum(fs, E4_BUF_INODE_BITMAP,
					      copy->data);
	err = e4_handle_dirty(h, copy);
	if (err)
		return err;
	gd.free_inodes--;
	if (dir)
		gd.used_dirs++;
	gd.flags &= (uint16_t)~E4_BG_INODE_UNINIT;
	if (fs->uninit_flags_valid && i >= line)
		gd.itable_unused = ipg - (i + 1);
	err = e4_alloc_group_put_or_abort(a, h, g, &gd);
	if (!err)
		*ino = g * ipg + i + 1;
	return err;
}

/* ---- where a new inode goes ------------------------------------------------ */

static bool usable(const struct e4_group_sum *s)
{
	return s->known && !s->bad && s->free_inodes > 0;
}

/*
 * Orlov's rule.  A directory made at the top (in the root) goes to the
 * group with the fewest directories among those with at least average
 * free inodes and free clusters, looking from just past where the last one
 * went, so top-level trees spread over the disk.  A directory deeper down
 * stays near its parent while the group is not crowded with directories
 * and has a fair share of free inodes and clusters.
 */
static uint32_t orlov_group(struct e4_alloc *a, uint32_t parent, uint32_t pg)
{
	struct e4_fs *fs = a->fs;
	uint32_t n = fs->group_count, best = UINT32_MAX;
	uint64_t avefreei = a->known_free_inodes / n;
	uint64_t avefreec = a->known_free_clusters / n;
	uint64_t best_dirs = UINT64_MAX;

	if (parent == E4_ROOT_INO) {
		uint32_t start = (a->last_topdir_group + 1) % n;

		for (uint32_t i = 0; i < n; i++) {
			uint32_t g = (start + i) % n;
			const struct e4_group_sum *s = &a->groups[g];

			if (!usable(s) || s->free_inodes < avefreei ||
			    s->free_clusters < avefreec)
				continue;
			if (s->used_dirs < best_dirs) {
				best_dirs = s->used_dirs;
				best = g;
			}
		}
		if (best != UINT32_MAX) {
			a->last_topdir_group = best;
			return best;
		}
	} else {
		uint64_t max_dirs = a->known_dirs / n + fs->inodes_per_group / 16;
		uint64_t min_inodes = avefreei > fs->inodes_per_group / 4 ?
			avefreei - fs->inodes_per_group / 4 : 1;
		uint64_t min_clusters = avefreec > fs->clusters_per_group / 4 ?
			avefreec - fs->clusters_per_group / 4 : 0;

		for (uint32_t i = 0; i < n; i++) {
			uint32_t g = (pg + i) % n;
			const struct e4_group_sum *s = &a->groups[g];

			if (usable(s) && s->used_dirs < max_dirs &&
			    s->free_inodes >= min_inodes &&
			    s->free_clusters >= min_clusters)
				return g;
		}
	}
	/* no group with its share: any with average free inodes, any at all */
	for (uint32_t i = 0; i < n; i++) {
		uint32_t g = (pg + i) % n;

		if (usable(&a->groups[g]) &&
		    a->groups[g].free_inodes >= avefreei)
			return g;
	}
	return pg;
}

/* A file goes in its parent's group if it has inodes and clusters, else
 * in one a quadratic step away (spreading without scanning), else the next
 * with an inode. */
static uint32_t file_group(struct e4_alloc *a, uint32_t pg)
{
	uint32_t n = a->fs->group_count, g = pg;

	if (usable(&a->groups[pg]) && a->groups[pg].free_clusters)
		return pg;
	for (uint32_t step = 1; step < n; step <<= 1) {
		g = (uint32_t)(((uint64_t)g + step) % n);
		if (usable(&a->groups[g]) && a->groups[g].free_clusters)
			return g;
	}
	return pg;
}

int e4_alloc_inode(struct e4_alloc *a, struct e4_handle *h, uint32_t parent,
		   bool dir, uint32_t *ino)
{
	struct e4_fs *fs = a->fs;
	uint32_t n = fs->group_count, pg, g0;
	int err;

	if (parent == 0 || parent > fs->inodes_count)
		return -EINVAL;
	pg = (parent - 1) / fs->inodes_per_group;
	pthread_mutex_lock(&a->lock);
	err = e4_alloc_know_all(a);
	if (err)
		goto out;
	g0 = dir ? orlov_group(a, parent, pg) : file_group(a, pg);
	err = -ENOSPC;
	for (uint32_t i = 0; i < n && err; i++) {
		uint32_t g = (g0 + i) % n;

		if (!usable(&a->groups[g]))
			continue;
		err = take_inode(a, h, g, dir, ino);
		if (err != -ENOSPC && err != -EUCLEAN)
			break;
		err = -ENOSPC;
	}
out:
	pthread_mutex_unlock(&a->lock);
	return err;
}

int e4_free_inode(struct e4_alloc *a, struct e4_handle *h, uint32_t ino,
		  bool dir)
{
	struct e4_fs *fs = a->fs;
	uint32_t g, i;
	struct e4_owner owner;
	struct e4_group gd;
	struct e4_buf *copy;
	int err;

	if (ino < fs->first_ino || ino > fs->inodes_count ||
	    e4_inode_is_internal(fs, ino))
		return e4_corrupt(fs, E4_RULE_IN1, e4_obj_inode(ino),
				  "freeing a reserved inode");
	g = (ino - 1) / fs->inodes_per_group;
	i = (ino - 1) % fs->inodes_per_group;
	owner = (struct e4_owner){ .pos = g };
	pthread_mutex_lock(&a->lock);
	err = e4_alloc_group_get(a, g, &gd);
	if (!err && i >= used_line(fs, &gd))
		err = e4_corrupt(fs, E4_RULE_AL3, e4_obj_inode(ino),
				 "freeing an inode of the group's never-used tail");
	if (!err)
		err = e4_handle_get_write_access(h, gd.inode_bitmap,
						 &e4_bops_inode_bitmap, &owner,
						 &copy);
	if (err)
		goto out;
	if (!e4_bit_test(copy->data, i)) {
		e4_handle_release(h, copy);
		err = e4_corrupt(fs, E4_RULE_AL3, e4_obj_inode(ino),
				 "freeing an inode that is free");
		goto out;
	}
	e4_bits_clear(copy->data, i, 1);
	gd.inode_bitmap_csum = e4_bitmap_csum(fs, E4_BUF_INODE_BITMAP,
					      copy->data);
	err = e4_handle_dirty(h, copy);
	if (err)
		goto out;
	gd.free_inodes++;
	if (dir && gd.used_dirs)
		gd.used_dirs--;
	err = e4_alloc_group_put_or_abort(a, h, g, &gd);
out:
	pthread_mutex_unlock(&a->lock);
	return err;
}
