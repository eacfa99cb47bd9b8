/* SPDX-License-Identifier: MIT */
/* Block allocation (see alloc.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc_int.h"

/* Windows kept at once; past this, files are written without one. */
#define MAX_WINDOWS 256u
/* Bitmaps a search reads without finding a whole run before it settles
 * for the longest run seen: a fragmented file system costs this many
 * bitmap reads per allocation, not one per group. */
#define SEARCH_BITMAPS 32u

static uint32_t cluster_shift(const struct e4_fs *fs)
{
	return (uint32_t)__builtin_ctz(fs->cluster_ratio);
}

static uint32_t group_of_block(const struct e4_fs *fs, uint64_t blk)
{
	return (uint32_t)((blk - fs->first_data_block) / fs->blocks_per_group);
}

/* ---- reservation windows ------------------------------------------------- */

static struct e4_window *window_of(struct e4_alloc *a, uint32_t ino)
{
	for (size_t i = 0; i < a->nwindows; i++)
		if (a->windows[i].ino == ino)
			return &a->windows[i];
	return NULL;
}

static void window_drop(struct e4_alloc *a, struct e4_window *w)
{
	struct e4_fs *fs = a->fs;
	size_t i = (size_t)(w - a->windows);

	if (w->start < w->end)	/* its clusters are free for all again */
		a->groups[group_of_block(fs, w->start)].longest =
			fs->clusters_per_group;
	memmove(w, w + 1, (a->nwindows - i - 1) * sizeof(*w));
	a->nwindows--;
}

static void window_drop_all(struct e4_alloc *a)
{
	while (a->nwindows)
		window_drop(a, &a->windows[a->nwindows - 1]);
}

/* Keep [start, end) for @ino (which has no window now). */
static void window_add(struct e4_alloc *a, uint32_t ino, uint64_t start,
		       uint64_t end)
{
	size_t i = 0;

	if (start >= end || a->nwindows >= MAX_WINDOWS)
		return;
	if (a->nwindows == a->windows_cap) {
		size_t cap = a->windows_cap ? a->windows_cap * 2 : 16;
		struct e4_window *w = realloc(a->windows, cap * sizeof(*w));

		if (!w)
			return;	/* a window is an optimisation */
		a->windows = w;
		a->windows_cap = cap;
	}
	while (i < a->nwindows && a->windows[i].start < start)
		i++;
	memmove(&a->windows[i + 1], &a->windows[i],
		(a->nwindows - i) * sizeof(*a->windows));
	a->windows[i] = (struct e4_window){ ino, start, end };
	a->nwindows++;
}

void e4_alloc_release(struct e4_alloc *a, uint32_t ino)
{
	struct e4_window *w;

	pthread_mutex_lock(&a->lock);
	w = window_of(a, ino);
	if (w)
		window_drop(a, w);
	pthread_mutex_unlock(&a->lock);
}

/* ---- frees waiting for their commit --------------------------------------- */

static void pending_add(struct e4_alloc *a, uint64_t start, uint64_t end,
			uint64_t tid)
{
	struct e4_pending_free *last = a->npending ?
		&a->pending[a->npending - 1] : NULL;

	if (last && last->tid == tid && last->end == start) {
		last->end = end;	/* a truncate frees run after run */
		a->pending_clusters += (end - start) >> cluster_shift(a->fs);
		return;
	}
	if (a->npending == a->pending_cap) {
		size_t cap = a->pending_cap ? a->pending_cap * 2 : 64;
		struct e4_pending_free *p = realloc(a->pending,
						    cap * sizeof(*p));

		if (!p)
			return;	/* then reused at once, as without this */
		a->pending = p;
		a->pending_cap = cap;
	}
	a->pending[a->npending++] = (struct e4_pending_free){ start, end, tid };
	a->pending_clusters += (end - start) >> cluster_shift(a->fs);
}

void e4_alloc_committed(struct e4_alloc *a, uint64_t tid)
{
	size_t out = 0;

	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < a->npending; i++) {
		if (a->pending[i].tid > tid)
			a->pending[out++] = a->pending[i];
		else {	/* free for everyone now */
			a->groups[group_of_block(a->fs, a->pending[i].start)]
				.longest = a->fs->clusters_per_group;
			a->pending_clusters -= (a->pending[i].end -
						a->pending[i].start) >>
					       cluster_shift(a->fs);
		}
	}
	a->npending = out;
	pthread_mutex_unlock(&a->lock);
}

bool e4_alloc_frees_pending(struct e4_alloc *a)
{
	bool any;

	pthread_mutex_lock(&a->lock);
	any = a->npending > 0;
	pthread_mutex_unlock(&a->lock);
	return any;
}

/* Set, in a->scratch (group @g from block @first to @end), the clusters of
 * [from, to) that lie in it. */
static void view_mark(struct e4_alloc *a, uint64_t first, uint64_t end,
		      uint64_t from, uint64_t to)
{
	uint32_t shift = cluster_shift(a->fs);

	if (to <= first || from >= end)
		return;
	if (from < first)
		from = first;
	if (to > end)
		to = end;
	e4_bits_set(a->scratch, (from - first) >> shift,
		    ((to - 1 - first) >> shift) - ((from - first) >> shift) + 1);
}

/* ---- a group's bitmap as the search sees it ------------------------------ */

/*
 * Fill a->scratch with group @g's cluster bitmap: the block bitmap (or the
 * one a BLOCK_UNINIT group stands for), checked against the descriptor's
 * count and the system zone on the group's first use, then the windows of
 * other files and, in the last group, a partial last cluster, as used.
 */
static int group_view(struct e4_alloc *a, uint32_t g, const struct e4_group *gd,
		      uint32_t ino)
{
	struct e4_fs *fs = a->fs;
	struct e4_group_sum *s = &a->groups[g];
	uint32_t shift = cluster_shift(fs), cpg = fs->clusters_per_group;
	uint64_t first = e4_group_first_block(fs, g), end = first +
		fs->blocks_per_group;
	int err;

	if (gd->flags & E4_BG_BLOCK_UNINIT) {
		err = e4_block_bitmap_synth(fs, g, a->scratch);
	} else {
		struct e4_buf *buf;

		err = e4_block_bitmap_get(fs, g, gd, &buf);
		if (!err) {
			memcpy(a->scratch, buf->data, fs->block_size);
			e4_meta_put(fs, buf);
		}
	}
	if (!err && !s->checked) {
		uint64_t free_bits = e4_bits_count_clear(a->scratch, cpg);

		if (free_bits != gd->free_blocks)
			err = e4_corrupt(fs, E4_RULE_AL2,
					 e4_obj(E4_OBJ_BLOCK_BITMAP, 0,
						gd->block_bitmap, g),
					 "%llu clusters free, the descriptor says %u",
					 (unsigned long long)free_bits,
					 gd->free_blocks);
		if (!err)
			err = e4_zone_mark(a, g, a->scratch, true);
		if (!err)
			s->checked = true;
	}
	if (err == -EUCLEAN)
		e4_alloc_group_bad(a, g);
	if (err)
		return err;
	for (size_t i = 0; i < a->nwindows; i++)
		if (a->windows[i].ino != ino)
			view_mark(a, first, end, a->windows[i].start,
				  a->windows[i].end);
	for (size_t i = 0; i < a->npending; i++)
		view_mark(a, first, end, a->pending[i].start,
			  a->pending[i].end);
	if (end > fs->blocks_count) {
		/* clusters reaching past the end are not the file system's */
		uint64_t whole = (fs->blocks_count - first) >> shift;
		e4_bits_set(a->scratch, whole, cpg - whole);
	}
	return 0;
}

/* ---- taking and giving back ---------------------------------------------- */

/* Set clusters [c, c+n) of group @g in use: bitmap, then descriptor. */
static int take(struct e4_alloc *a, struct e4_handle *h, uint32_t g,
		struct e4_group *gd, uint64_t c, uint64_t n)
{
	struct e4_fs *fs = a->fs;
	struct e4_owner owner = { .pos = g };
	uint64_t blk = e4_group_first_block(fs, g) + (c << cluster_shift(fs));
	struct e4_buf *copy = NULL;
	bool overlaps;
	int err;

	/* the last word, whatever the search's view said */
	err = e4_zone_overlaps(a, blk, n << cluster_shift(fs), &overlaps);
	if (!err && overlaps)
		err = e4_corrupt(fs, E4_RULE_AL3, e4_obj_group(g),
				 "blocks %llu (+%llu) of the system zone offered for allocation",
				 (unsigned long long)blk,
				 (unsigned long long)n << cluster_shift(fs));
	if (err)
		return err;
	if (gd->flags & E4_BG_BLOCK_UNINIT) {
		err = e4_handle_get_create_access(h, gd->block_bitmap,
						  &e4_bops_block_bitmap,
						  &owner, &copy);
		if (!err)
			err = e4_block_bitmap_synth(fs, g, copy->data);
		if (err && copy)
			e4_handle_release(h, copy);
	} else {
		err = e4_handle_get_write_access(h, gd->block_bitmap,
						 &e4_bops_block_bitmap, &owner,
						 &copy);
	}
	if (err)
		return err;
	if (!e4_bits_all(copy->data, c, n, false)) {
		e4_handle_release(h, copy);
		e4_alloc_group_bad(a, g);
		return e4_corrupt(fs, E4_RULE_AL3, e4_obj(E4_OBJ_BLOCK_BITMAP, 0,
							  gd->block_bitmap, g),
				  "clusters %llu (+%llu) changed under the allocator",
				  (unsigned long long)c, (unsigned long long)n);
	}
	e4_bits_set(copy->data, c, n);
	gd->block_bitmap_csum = e4_bitmap_csum(fs, E4_BUF_BLOCK_BITMAP,
					       copy->data);
	err = e4_handle_dirty(h, copy);
	if (err)
		return err;
	gd->free_blocks -= (uint32_t)n;
	gd->flags &= (uint16_t)~E4_BG_BLOCK_UNINIT;
	return e4_alloc_group_put_or_abort(a, h, g, gd);
}

/* Clusters the caller may still take (kernel ext4's rule: the root
 * reserve, and a small reserve for metadata that ordinary data may not
 * use either). */
uint64_t e4_alloc_meta_reserve(const struct e4_alloc *a)
{
	return e4_fs_meta_reserve(a->fs);
}

uint64_t e4_fs_meta_reserve(const struct e4_fs *fs)
{
	uint64_t total = (fs->blocks_count - fs->first_data_block) >>
			 cluster_shift(fs);

	return (total / 50 < 4096 ? total / 50 : 4096) << cluster_shift(fs);
}

static uint64_t available(struct e4_alloc *a, const struct e4_alloc_req *req)
{
	struct e4_fs *fs = a->fs;
	uint64_t meta = e4_alloc_meta_reserve(a) >> cluster_shift(fs);
	/* (the caller's own promise was taken off already) */
	uint64_t keep = a->data_reserved + (req->meta_reserve ?
		a->tree_reserved :
		meta > a->tree_reserved ? meta : a->tree_reserved);
	uint64_t free_c = a->known_free_clusters;

	if (!req->use_reserved)
		keep += fs->r_blocks_count >> cluster_shift(fs);
	return free_c > keep ? free_c - keep : 0;
}

/* The group to start in: the goal's, else the inode's (under flex_bg the
 * flex group's second group for files: the first holds the tables). */
static uint32_t start_group(const struct e4_alloc *a,
			    const struct e4_alloc_req *req, uint64_t *goal)
{
	const struct e4_fs *fs = a->fs;
	uint32_t g;

	if (*goal && e4_blocks_valid(fs, *goal, 1))
		return group_of_block(fs, *goal);
	*goal = 0;
	g = req->ino ? (req->ino - 1) / fs->inodes_per_group : 0;
	if (g >= fs->group_count)
		g = 0;
	if (fs->feature_incompat & E4_INCOMPAT_FLEX_BG) {
		uint32_t size = 1u << fs->log_groups_per_flex;

		g &= ~(size - 1);
		if (!req->metadata && g + 1 < fs->group_count)
			g++;
	}
	return g;
}

struct found {
	uint32_t g;
	uint64_t c, len;	/* clusters */
	struct e4_group gd;
};

/* Look for @want clusters from @goal's group on; *@f the first whole run,
 * else the longest seen (f->len 0: nothing free). */
static int search(struct e4_alloc *a, const struct e4_alloc_req *req,
		  uint64_t goal, uint64_t want, struct found *f)
{
	struct e4_fs *fs = a->fs;
	uint32_t g0 = start_group(a, req, &goal), bitmaps = 0;
	int err = 0;

	memset(f, 0, sizeof(*f));
	for (uint32_t i = 0; i < fs->group_count; i++) {
		uint32_t g = (uint32_t)(((uint64_t)g0 + i) % fs->group_count);
		struct e4_group_sum *s = &a->groups[g];
		struct e4_group gd;
		uint64_t from = 0, c, len;

		if (s->bad || (s->known && (s->free_clusters == 0 ||
					    s->longest <= f->len)))
			continue;
		err = e4_alloc_group_get(a, g, &gd);
		if (err == -EUCLEAN)
			continue;	/* reported; the group is bad */
		if (err)
			return err;
		if (gd.free_blocks == 0)
			continue;
		/* a tree block steps around its own file's window too */
		err = group_view(a, g, &gd, req->metadata ? 0 : req->ino);
		if (err == -EUCLEAN)
			continue;
		if (err)
			return err;
		if (goal && g == g0)
			from = (goal - e4_group_first_block(fs, g)) >>
			       cluster_shift(fs);
		e4_bits_find_run(a->scratch, fs->clusters_per_group, from,
				 want, &c, &len);
		if (len < want && (uint32_t)len < s->longest)
			s->longest = (uint32_t)len;
		if (len > f->len)
			*f = (struct found){ g, c, len, gd };
		if (len >= want || ++bitmaps >= SEARCH_BITMAPS)
			break;
	}
	return 0;
}

int e4_alloc_blocks(struct e4_alloc *a, struct e4_handle *h,
		    const struct e4_alloc_req *req, uint64_t *start,
		    uint64_t *count)
{
	struct e4_fs *fs = a->fs;
	uint32_t shift = cluster_shift(fs);
	uint64_t want, goal = req->goal, n;
	struct e4_window *w;
	struct found f;
	uint64_t *promise;
	bool took_promise;
	int err;

	if (req->len == 0)
		return -EINVAL;
	want = req->metadata ? 1 : ((req->len + fs->cluster_ratio - 1) >> shift);
	pthread_mutex_lock(&a->lock);
	promise = req->meta_reserve ? &a->tree_reserved : &a->data_reserved;
	took_promise = req->reserved && *promise;
	if (took_promise)
		(*promise)--;
	err = e4_zone_load(a);
	if (!err)
		err = e4_alloc_know_all(a);
	if (err)
		goto out;
	if (available(a, req) == 0) {
		err = -ENOSPC;
		goto out;
	}
	if (want > available(a, req))
		want = available(a, req);

	/* the file's own window, when it goes on where the file ends */
	w = req->ino && !req->metadata ? window_of(a, req->ino) : NULL;
	if (w && (goal == 0 || goal == w->start)) {
		uint32_t g = group_of_block(fs, w->start);
		uint64_t c = (w->start - e4_group_first_block(fs, g)) >> shift;

		n = (w->end - w->start) >> shift;
		if (n > want)
			n = want;
		err = e4_alloc_group_get(a, g, &f.gd);
		if (!err)
			err = take(a, h, g, &f.gd, c, n);
		if (!err) {
			*start = w->start;
			*count = n << shift;
			w->start += n << shift;
			if (w->start >= w->end)
				window_drop(a, w);
		}
		goto out;
	}
	if (w)
		window_drop(a, w);

	err = search(a, req, goal, want, &f);
	if (!err && f.len < want && a->nwindows) {
		window_drop_all(a);	/* reservations give way */
		err = search(a, req, goal, want, &f);
	}
	if (!err && f.len == 0)
		err = -ENOSPC;
	if (err)
		goto out;
	n = f.len < want ? f.len : want;
	err = take(a, h, f.g, &f.gd, f.c, n);
	if (err)
		goto out;
	*start = e4_group_first_block(fs, f.g) + (f.c << shift);
	*count = n << shift;
	if (req->ino && !req->metadata && f.len > n) {
		uint64_t keep = f.len - n;

		if (keep > a->window_clusters)
			keep = a->window_clusters;
		window_add(a, req->ino, *start + *count,
			   *start + *count + (keep << shift));
	}
out:
	if (err && took_promise)
		(*promise)++;	/* still the caller's */
	pthread_mutex_unlock(&a->lock);
	return err;
}

int e4_alloc_reserve(struct e4_alloc *a, uint64_t clusters, bool use_reserved,
		     bool tree)
{
	struct e4_fs *fs = a->fs;
	uint64_t meta = e4_alloc_meta_reserve(a) >> cluster_shift(fs);
	int err;

	pthread_mutex_lock(&a->lock);
	err = e4_zone_load(a);
	if (!err)
		err = e4_alloc_know_all(a);
	if (!err) {
		uint64_t keep = a->data_reserved + a->pending_clusters +
			(use_reserved ? 0 : fs->r_blocks_count >>
					    cluster_shift(fs)) +
			(tree || meta < a->tree_reserved ? a->tree_reserved :
							  meta);

		if (a->known_free_clusters < keep ||
		    a->known_free_clusters - keep < clusters)
			err = -ENOSPC;
		else if (tree)
			a->tree_reserved += clusters;
		else
			a->data_reserved += clusters;
	}
	pthread_mutex_unlock(&a->lock);
	return err;
}

void e4_alloc_unreserve(struct e4_alloc *a, uint64_t clusters, bool tree)
{
	uint64_t *promise = tree ? &a->tree_reserved : &a->data_reserved;

	pthread_mutex_lock(&a->lock);
	*promise = *promise > clusters ? *promise - clusters : 0;
	pthread_mutex_unlock(&a->lock);
}

/* Free clusters [c, c+n) of group @g. */
static int give_back(struct e4_alloc *a, struct e4_handle *h, uint32_t g,
		     uint64_t c, uint64_t n)
{
	struct e4_fs *fs = a->fs;
	struct e4_owner owner = { .pos = g };
	struct e4_group gd;
	struct e4_buf *copy;
	int err = e4_alloc_group_get(a, g, &gd);

	if (err)
		return err;
	if (gd.flags & E4_BG_BLOCK_UNINIT)
		return e4_corrupt(fs, E4_RULE_AL3, e4_obj_group(g),
				  "freeing clusters %llu (+%llu) of a group with nothing allocated",
				  (unsigned long long)c, (unsigned long long)n);
	err = e4_handle_get_write_access(h, gd.block_bitmap,
					 &e4_bops_block_bitmap, &owner, &copy);
	if (err)
		return err;
	if (!e4_bits_all(copy->data, c, n, true)) {
		e4_handle_release(h, copy);
		return e4_corrupt(fs, E4_RULE_AL3,
				  e4_obj(E4_OBJ_BLOCK_BITMAP, 0, gd.block_bitmap, g),
				  "freeing clusters %llu (+%llu), not all in use",
				  (unsigned long long)c, (unsigned long long)n);
	}
	e4_bits_clear(copy->data, c, n);
	gd.block_bitmap_csum = e4_bitmap_csum(fs, E4_BUF_BLOCK_BITMAP,
					      copy->data);
	err = e4_handle_dirty(h, copy);
	if (err)
		return err;
	gd.free_blocks += (uint32_t)n;
	err = e4_alloc_group_put_or_abort(a, h, g, &gd);
	if (!err) {
		uint64_t first = e4_group_first_block(fs, g);

		pending_add(a, first + (c << cluster_shift(fs)),
			    first + ((c + n) << cluster_shift(fs)),
			    e4_handle_tid(h));
	}
	return err;
}

int e4_free_blocks(struct e4_alloc *a, struct e4_handle *h, uint64_t start,
		   uint64_t count)
{
	struct e4_fs *fs = a->fs;
	uint32_t shift = cluster_shift(fs);
	bool overlaps;
	int err;

	if (!e4_blocks_valid(fs, start, count))
		return e4_corrupt(fs, E4_RULE_FS_RANGE,
				  e4_obj(E4_OBJ_BLOCK, 0, start, 0),
				  "freeing %llu blocks outside the file system",
				  (unsigned long long)count);
	pthread_mutex_lock(&a->lock);
	err = e4_zone_load(a);
	if (!err)
		err = e4_alloc_know_all(a);
	if (!err)
		err = e4_zone_overlaps(a, start, count, &overlaps);
	if (!err && overlaps)
		err = e4_corrupt(fs, E4_RULE_AL3, e4_obj(E4_OBJ_BLOCK, 0, start, 0),
				 "freeing %llu blocks of the system zone",
				 (unsigned long long)count);
	while (!err && count) {
		uint32_t g = group_of_block(fs, start);
		uint64_t first = e4_group_first_block(fs, g);
		uint64_t in_group = first + fs->blocks_per_group - start;
		uint64_t n = count < in_group ? count : in_group;
		uint64_t c = (start - first) >> shift;
		uint64_t last = (start + n - 1 - first) >> shift;

		err = give_back(a, h, g, c, last - c + 1);
		start += n;
		count -= n;
	}
	pthread_mutex_unlock(&a->lock);
	return err;
}
