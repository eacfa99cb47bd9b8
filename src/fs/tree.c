/* SPDX-License-Identifier: MIT */
/*
 * e4_tree_walk: the whole-tree walker (see include/e4/tree.h).
 *
 * Depth first without recursion: the stack holds, per directory on the
 * current path, the subdirectories still to walk.  The path is one buffer
 * that grows and shrinks with the stack.  Breadth first, a queue of
 * directories replaces the stack and no path is kept.  A directory is walked once: its
 * inode number goes into the visited set when it is queued, so an entry
 * naming an ancestor (a cycle) or a second link to a directory is refused
 * and reported through ops->refused.
 *
 * Each listing is bounded by the directory code (4 GiB per call), but a
 * whole walk could still list the same blocks again and again: many
 * directories whose mappings share blocks (which no valid file system
 * has).  So the walk counts the metadata lookups its listings cost, and
 * stops when they pass twice what listing every block of the file system
 * once could cost.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "e4/tree.h"
#include "ondisk/ondisk.h"

/* One directory's entries: names packed in one arena. */
struct tree_name {
	uint32_t ino;
	uint32_t off;		/* of the name in the arena */
	uint8_t len;
	uint8_t ftype;
};

struct listing {
	struct tree_name *v;
	size_t n, cap;
	char *arena;
	size_t used, size;
};

struct frame {
	struct listing kids;	/* subdirectories to walk */
	size_t next;		/* next kid */
	size_t path_len;	/* this directory's path length in the buffer */
	uint32_t ino;
	unsigned depth;		/* the start is 0 */
};

struct queued {
	uint32_t ino, parent;
	unsigned depth;
};

struct walker {
	struct e4_fs *fs;
	uint64_t listing_work, listing_max;	/* metadata lookups */
	const struct e4_tree_ops *ops;
	void *ctx;
	unsigned flags, max_depth;
	struct e4_block_set *walked;	/* directory inodes walked or queued */
	char *path;
	size_t path_len, path_size;
	struct frame *stack;
	size_t depth, stack_size;
	struct queued *queue;		/* breadth first */
	size_t qhead, qtail, qsize;
};

static bool breadth_first(const struct walker *w)
{
	return w->flags & E4_TREE_BREADTH_FIRST;
}

static int queue_push(struct walker *w, uint32_t ino, uint32_t parent,
		      unsigned depth)
{
	if (w->qtail == w->qsize) {
		/* reclaim the consumed head before growing */
		if (w->qhead > 0) {
			memmove(w->queue, w->queue + w->qhead,
				(w->qtail - w->qhead) * sizeof(*w->queue));
			w->qtail -= w->qhead;
			w->qhead = 0;
		}
		if (w->qtail == w->qsize) {
			size_t size = w->qsize ? w->qsize * 2 : 64;
			struct queued *q = realloc(w->queue, size * sizeof(*q));

			if (!q)
				return -ENOMEM;
			w->queue = q;
			w->qsize = size;
		}
	}
	w->queue[w->qtail++] = (struct queued){ ino, parent, depth };
	return 0;
}

static void listing_free(struct listing *l)
{
	free(l->v);
	free(l->arena);
	memset(l, 0, sizeof(*l));
}

static int listing_add(struct listing *l, uint32_t ino, uint8_t ftype,
		       const char *name, uint8_t len)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct tree_name *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if (l->size - l->used < (size_t)len + 1) {
		size_t size = l->size ? l->size : 1024;
		char *a;

		while (size - l->used < (size_t)len + 1)
			size *= 2;
		a = realloc(l->arena, size);
		if (!a)
			return -ENOMEM;
		l->arena = a;
		l->size = size;
	}
	if (l->used > UINT32_MAX)
		return -EFBIG;	/* more than the 4 GiB a directory walk reads */
	memcpy(l->arena + l->used, name, len);
	l->arena[l->used + len] = '\0';
	l->v[l->n++] = (struct tree_name){ .ino = ino, .ftype = ftype,
					   .len = len,
					   .off = (uint32_t)l->used };
	l->used += (size_t)len + 1;
	return 0;
}

/* ---- the path buffer -------------------------------------------------- */

/* Append "/name" (no second slash after one already there); with @root,
 * the start path as given. */
static int path_append(struct walker *w, const char *name, size_t len,
		       bool root)
{
	bool slash = !root && (w->path_len == 0 ||
			       w->path[w->path_len - 1] != '/');
	size_t need = w->path_len + slash + len + 1;

	if (need > w->path_size) {
		size_t size = w->path_size ? w->path_size : 256;
		char *p;

		while (size < need)
			size *= 2;
		p = realloc(w->path, size);
		if (!p)
			return -ENOMEM;
		w->path = p;
		w->path_size = size;
	}
	if (slash)
		w->path[w->path_len++] = '/';
	memcpy(w->path + w->path_len, name, len);
	w->path_len += len;
	w->path[w->path_len] = '\0';
	return 0;
}

/* Breadth first: the path of an entry is its name alone. */
static int path_set_name(struct walker *w, const char *name, size_t len)
{
	w->path_len = 0;
	return path_append(w, name, len, true);
}

static void path_cut(struct walker *w, size_t len)
{
	w->path_len = len;
	w->path[len] = '\0';
}

/* ---- listing one directory -------------------------------------------- */

struct collect {
	struct listing *l;
	bool dots;
	struct walker *w;
	uint64_t meta0;		/* the device's lookups when listing began */
	bool over;		/* the walk's listings went over their bound */
};

static uint64_t meta_gets(struct e4_fs *fs)
{
	struct e4_fs_counters c;

	e4_dev_get_counters(fs->dev, &c);
	return c.meta_gets;
}

/* The walk's listings so far, with the one running (see the top). */
static bool listings_too_costly(const struct collect *c)
{
	struct walker *w = c->w;

	return w->listing_work + (meta_gets(w->fs) - c->meta0) > w->listing_max;
}

static int collect(void *ctx, const struct e4_dirent *d)
{
	struct collect *c = ctx;

	if (listings_too_costly(c)) {
		c->over = true;
		return -EFBIG;
	}

	if (!c->dots && ((d->name_len == 1 && d->name[0] == '.') ||
			 (d->name_len == 2 && d->name[0] == '.' &&
			  d->name[1] == '.')))
		return 0;
	return listing_add(c->l, d->ino, d->ftype, d->name, d->name_len);
}

/* Names sort by bytes, then length; the original index breaks ties so the
 * order is total (qsort is not stable). */
struct sort_key {
	const char *name;
	uint8_t len;
	size_t index;
};

static int by_key(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->name, y->name, n);

	if (c)
		return c;
	if (x->len != y->len)
		return (x->len > y->len) - (x->len < y->len);
	return (x->index > y->index) - (x->index < y->index);
}

static int listing_sort(struct listing *l)
{
	struct sort_key *keys;
	struct tree_name *sorted;

	if (l->n < 2)
		return 0;
	keys = malloc(l->n * sizeof(*keys));
	sorted = malloc(l->n * sizeof(*sorted));
	if (!keys || !sorted) {
		free(keys);
		free(sorted);
		return -ENOMEM;
	}
	for (size_t i = 0; i < l->n; i++)
		keys[i] = (struct sort_key){ l->arena + l->v[i].off,
					     l->v[i].len, i };
	qsort(keys, l->n, sizeof(*keys), by_key);
	for (size_t i = 0; i < l->n; i++)
		sorted[i] = l->v[keys[i].index];
	free(l->v);
	free(keys);
	l->v = sorted;
	l->cap = l->n;
	return 0;
}

/*
 * List directory @ino (its path is in the buffer), deliver its entries and
 * fill @f->kids with the subdirectories to walk.  Returns <0 to abort, >0
 * when a callback stopped the walk, 0 to go on.
 */
static int walk_dir(struct walker *w, uint32_t ino, uint32_t parent,
		    struct frame *f)
{
	struct listing all = { 0 };
	struct collect c = { &all, (w->flags & E4_TREE_DOTS) != 0, w, 0, false };
	struct e4_inode dir;
	size_t dir_len = w->path_len;
	const char *dir_path = breadth_first(w) ? NULL : w->path;
	bool skipped = false;
	int err, rc;

	err = e4_inode_read(w->fs, ino, &dir);
	if (err) {
		if (f->depth == 0)
			return err;
		return w->ops->dir_end ?
			w->ops->dir_end(w->ctx, dir_path, NULL, err) : 0;
	}
	if (w->ops->dir_begin) {
		rc = w->ops->dir_begin(w->ctx, dir_path, &dir, parent);
		if (rc)
			return rc < 0 ? rc : 0;
	}
	c.meta0 = meta_gets(w->fs);
	err = e4_dir_iterate_mode(w->fs, &dir, 0,
				  (w->flags & E4_TREE_SALVAGE) ?
					  E4_DIR_SALVAGE : E4_DIR_STRICT,
				  collect, &c, &skipped);
	/* the entries of the others are delivered, but the listing is not
	 * whole: dir_end hears of the damage */
	if (!err && skipped)
		err = -EUCLEAN;
	if (c.over || listings_too_costly(&c)) {
		/* the directory is told it failed, then the walk stops: one
		 * more listing could cost as much again */
		listing_free(&all);
		err = e4_corrupt(w->fs, E4_RULE_AL3, e4_obj_inode(ino),
				 "directory listings of this walk read more blocks than the file system has (directories share blocks): walk stopped");
		if (w->ops->dir_end)
			(void)w->ops->dir_end(w->ctx, dir_path, &dir, err);
		return err;
	}
	w->listing_work += meta_gets(w->fs) - c.meta0;
	if (err == -ENOMEM) {
		listing_free(&all);
		return err;
	}
	if ((w->flags & E4_TREE_SORTED) && listing_sort(&all) < 0) {
		listing_free(&all);
		return -ENOMEM;
	}
	rc = 0;
	for (size_t i = 0; i < all.n && rc == 0; i++) {
		const struct tree_name *n = &all.v[i];
		const char *name = all.arena + n->off;
		bool descend = false;

		if (breadth_first(w))
			rc = path_set_name(w, name, n->len);
		else
			rc = path_append(w, name, n->len, false);
		if (rc)
			break;
		struct e4_tree_entry e = {
			.path = w->path, .name = w->path + w->path_len - n->len,
			.name_len = n->len, .dir = ino, .ino = n->ino,
			.ftype = n->ftype, .depth = f->depth + 1u,
			.index = (unsigned)i,
		};
		rc = w->ops->entry(w->ctx, &e, &descend);
		if (rc == 0 && descend) {
			int seen = e.depth > w->max_depth ? 0 :
				   e4_block_set_add(w->walked, n->ino);

			if (seen < 0)
				rc = seen;
			else if (e.depth > w->max_depth || seen > 0) {
				if (w->ops->refused)
					w->ops->refused(w->ctx, &e,
							seen ? E4_TREE_WALKED_BEFORE :
							       E4_TREE_TOO_DEEP);
			} else if (breadth_first(w)) {
				rc = queue_push(w, n->ino, ino, e.depth);
			} else {
				rc = listing_add(&f->kids, n->ino, n->ftype,
						 name, n->len);
			}
		}
		if (!breadth_first(w))
			path_cut(w, dir_len);
	}
	listing_free(&all);
	if (rc)
		return rc;
	return w->ops->dir_end ? w->ops->dir_end(w->ctx, dir_path, &dir, err) : 0;
}

static int push_frame(struct walker *w, uint32_t ino, unsigned depth,
		      struct frame **out)
{
	if (w->depth == w->stack_size) {
		size_t size = w->stack_size ? w->stack_size * 2 : 16;
		struct frame *s = realloc(w->stack, size * sizeof(*s));

		if (!s)
			return -ENOMEM;
		w->stack = s;
		w->stack_size = size;
	}
	*out = &w->stack[w->depth++];
	**out = (struct frame){ .ino = ino, .depth = depth,
				.path_len = w->path_len };
	return 0;
}

int e4_tree_walk(struct e4_fs *fs, uint32_t start, const char *start_path,
		 const struct e4_tree_opts *opts, const struct e4_tree_ops *ops,
		 void *ctx)
{
	struct walker w = { .fs = fs, .ops = ops, .ctx = ctx };
	struct frame *f;
	int rc;

	if (opts) {
		w.flags = opts->flags;
		w.max_depth = opts->max_depth;
	}
	if (!w.max_depth)
		w.max_depth = E4_TREE_MAX_DEPTH;
	/* valid listings read each directory block once, at a mapping
	 * lookup and the block each, plus a lookup or two per directory
	 * (inline ones read their inode): twice that */
	w.listing_max = 4 * fs->blocks_count + 4 * (uint64_t)fs->inodes_count +
			1024;
	w.walked = e4_block_set_new();
	if (!w.walked)
		return -ENOMEM;
	rc = e4_block_set_add(w.walked, start);
	if (rc >= 0)
		rc = path_append(&w, start_path, strlen(start_path), true);
	if (rc >= 0)
		rc = push_frame(&w, start, 0, &f);
	if (rc >= 0)
		rc = walk_dir(&w, start, start, f);
	while (rc == 0 && breadth_first(&w) && w.qhead < w.qtail) {
		struct queued q = w.queue[w.qhead++];
		struct frame bf = { .ino = q.ino, .depth = q.depth };

		rc = walk_dir(&w, q.ino, q.parent, &bf);
	}
	while (rc == 0 && !breadth_first(&w) && w.depth > 0) {
		struct frame *top = &w.stack[w.depth - 1];

		if (top->next == top->kids.n) {
			listing_free(&top->kids);
			w.depth--;
			if (w.depth > 0)
				path_cut(&w, w.stack[w.depth - 1].path_len);
			continue;
		}
		const struct tree_name *kid = &top->kids.v[top->next++];
		uint32_t parent = top->ino, ino = kid->ino;
		unsigned depth = top->depth + 1u;

		path_cut(&w, top->path_len);
		rc = path_append(&w, top->kids.arena + kid->off, kid->len,
				 false);
		if (rc == 0)
			rc = push_frame(&w, ino, depth, &f);	/* moves the stack */
		if (rc == 0)
			rc = walk_dir(&w, ino, parent, f);
	}
	while (w.depth > 0)
		listing_free(&w.stack[--w.depth].kids);
	free(w.stack);
	free(w.queue);
	free(w.path);
	e4_block_set_free(w.walked);
	return rc;
}
