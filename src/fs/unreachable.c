/* SPDX-License-Identifier: MIT */
/*
 * What no directory names: the inodes in use that the tree from the root
 * does not reach (a damaged directory block orphaned them), as e2fsck
 * would reconnect them into /lost+found, found without writing anything.
 * See e4_unreachable_scan in include/e4/e4.h for what counts.
 *
 * Memory is three bitmaps of one bit per inode (inodes_count / 8 bytes
 * each) while the scan runs, one (the result) after it, plus what the
 * tree walker holds for a walk.  Work: every inode-table block once,
 * every directory listed at most twice (once by a walk, once more if it
 * is unreachable, to see what it names); the listings of one scan are
 * bounded as the tree walker bounds one walk's (by the file system's
 * size), so directories sharing blocks cannot buy unbounded work.
 *
 * The steps:
 *  1. scan: @cand gets every inode in use that a name may hold, @dir the
 *     directories among them;
 *  2. walk from the root, clearing @cand for each inode an entry names and
 *     descending into each directory once: what is left is unreachable;
 *  3. list each unreachable directory, marking in @mark the unreachable
 *     inodes it names: those are reached through it, not tops;
 *  4. the tops are the unreachable inodes nobody unreachable names (into
 *     @mark); walk from each, clearing @cand for what it reaches;
 *  5. what is left is a cycle of directories naming each other (or hangs
 *     from one): its lowest-numbered directory becomes a top, walked the
 *     same way, until nothing is left;
 *  6. the regular files e2fsck deletes rather than reconnects (nothing in
 *     them: no blocks, no inline data, no xattrs) are not tops.
 * A walk descends only into a directory whose @cand bit it clears, so
 * steps 2, 4 and 5 together list each directory once, and a directory
 * that names an ancestor is never walked again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e4/tree.h"
#include "ondisk/ondisk.h"
#include "util/bits.h"

struct e4_unreachable {
	uint8_t *tops;		/* one bit per inode number */
	uint32_t inodes_count;
	struct e4_unreachable_stats stats;
};

struct scan {
	struct e4_fs *fs;
	uint8_t *cand, *dir, *mark;
	size_t bytes;			/* of each bitmap */
	uint64_t work0, work_max;	/* metadata lookups of the listings */
	bool over;
	struct e4_unreachable_stats *st;
};

static bool in_range(const struct scan *s, uint32_t ino)
{
	return ino >= 1 && ino <= s->fs->inodes_count;
}

static bool test(const uint8_t *bits, uint32_t ino)
{
	return e4_bit_test(bits, ino);
}

static void set(uint8_t *bits, uint32_t ino)
{
	bits[ino / 8] |= (uint8_t)(1u << (ino % 8));
}

static void clear(uint8_t *bits, uint32_t ino)
{
	bits[ino / 8] &= (uint8_t)~(1u << (ino % 8));
}

/* The first set bit at @from or after (up to inodes_count), 0 if none. */
static uint32_t next_set(const uint8_t *bits, uint32_t count, uint64_t from)
{
	for (uint64_t i = from; i <= count; i++) {
		if (i % 8 == 0 && bits[i / 8] == 0) {
			i += 7;
			continue;
		}
		if (e4_bit_test(bits, i))
			return (uint32_t)i;
	}
	return 0;
}

/* ---- bounded listings --------------------------------------------------- */

static uint64_t meta_gets(struct e4_fs *fs)
{
	struct e4_fs_counters c;

	e4_dev_get_counters(fs->dev, &c);	/* lock-free */
	return c.meta_gets;
}

/* The listings of the whole scan (steps 2 to 5) against their bound:
 * twice what one walk of the tree may cost, as each directory is listed
 * at most twice.  Reported once. */
static int over_budget(struct scan *s)
{
	if (s->over)
		return -EUCLEAN;
	if (meta_gets(s->fs) - s->work0 <= s->work_max)
		return 0;
	s->over = true;
	return e4_corrupt(s->fs, E4_RULE_AL3, e4_obj_fs(),
			  "the directory listings of the unreachable-inode scan read more blocks than the file system has (directories share blocks): scan stopped");
}

/* ---- step 1: what is in use -------------------------------------------- */

/* The raw links count and mode of @ino, to pass over what is not in use
 * without decoding it: an orphan (no links: e2fsck deletes it, the kernel
 * would have) or, under a bitmap that failed its checksum, a record never
 * used (mode 0).  False if neither could be read. */
static bool raw_in_use(struct e4_fs *fs, uint32_t ino, bool *in_use)
{
	struct e4_buf *buf;
	size_t off;

	if (e4_inode_raw_get(fs, ino, &buf, &off))
		return false;
	*in_use = e4_le16(buf->data, buf->size, off + E4_I_LINKS_COUNT) != 0 &&
		  e4_le16(buf->data, buf->size, off + E4_I_MODE) != 0;
	e4_meta_put(fs, buf);
	return true;
}

static int scan_inode(struct scan *s, uint32_t ino)
{
	struct e4_fs *fs = s->fs;
	struct e4_inode in;
	bool in_use;
	int err;

	/* the root and the reserved inodes are not lost; nor the journal,
	 * the orphan file and quota files past s_first_ino */
	if (ino < fs->first_ino || e4_inode_is_internal(fs, ino))
		return 0;
	if (raw_in_use(fs, ino, &in_use) && !in_use)
		return 0;
	err = e4_inode_load(fs, ino, &in, true);
	if (err == -ENOMEM)
		return err;
	if (err == -ENOENT || (!err && in.links == 0))
		return 0;
	if (err) {
		/* corruption was reported where it was found */
		if (err != -EUCLEAN)
			e4_log(fs, E4_LOG_WARN,
			       "inode %u: in use but unreadable (%s): not among the unreachable inodes",
			       ino, strerror(-err));
		s->st->unreadable++;
		return 0;
	}
	if (in.flags & E4_EA_INODE_FL)
		return 0;	/* an xattr value: a name never holds it */
	s->st->in_use++;
	set(s->cand, ino);
	if (e4_inode_is_dir(&in))
		set(s->dir, ino);
	return 0;
}

static int scan_group(struct scan *s, uint32_t g)
{
	struct e4_fs *fs = s->fs;
	struct e4_group gd;
	struct e4_buf *bitmap = NULL;
	int err = e4_group_get(fs, g, &gd);

	if (err)
		return err == -ENOMEM ? err : 0;	/* reported */
	if (gd.flags & E4_BG_INODE_UNINIT)
		return 0;
	err = e4_inode_bitmap_get(fs, g, &gd, &bitmap);
	/* a bitmap failing its checksum (reported) cannot say which inodes
	 * are free: each inode's own record decides, as for a reader */
	if (err == -EUCLEAN) {
		bitmap = NULL;
		err = 0;
	} else if (err) {
		return err == -ENOMEM ? err : 0;
	}
	for (uint32_t i = 0; i < fs->inodes_per_group && err == 0; i++) {
		uint64_t ino = (uint64_t)g * fs->inodes_per_group + i + 1;

		if (ino > fs->inodes_count || e4_inode_in_uninit_range(fs, &gd, i))
			break;
		if (bitmap && !e4_bit_test(bitmap->data, i))
			continue;
		err = scan_inode(s, (uint32_t)ino);
	}
	if (bitmap)
		e4_meta_put(fs, bitmap);
	return err;
}

/* ---- steps 2, 4, 5: walks that clear what they reach --------------------- */

static int reach_entry(void *ctx, const struct e4_tree_entry *e, bool *descend)
{
	struct scan *s = ctx;
	int err = over_budget(s);

	if (err)
		return err;
	if (!in_range(s, e->ino) || !test(s->cand, e->ino))
		return 0;
	clear(s->cand, e->ino);
	*descend = test(s->dir, e->ino);
	return 0;
}

/* Walk from directory @start (its @cand bit already cleared, its inode
 * read before).  Damage on the way is what the library reports; a walk
 * that cannot go on (no memory, the listing bound) fails the scan. */
static int walk_from(struct scan *s, uint32_t start)
{
	static const struct e4_tree_ops ops = { .entry = reach_entry };
	/* breadth first: memory per directory waiting, whatever the depth,
	 * so no depth bound; the @cand bits keep each directory to one walk */
	const struct e4_tree_opts opts = {
		.flags = E4_TREE_BREADTH_FIRST | E4_TREE_SALVAGE,
		.max_depth = UINT32_MAX,
	};
	int err = e4_tree_walk(s->fs, start, "", &opts, &ops, s);

	return err < 0 ? err : 0;
}

/* Step 2.  A root that cannot be read (reported) reaches nothing: every
 * inode in use is then unreachable, as e2fsck would find it. */
static int walk_from_root(struct scan *s)
{
	struct e4_inode root;
	int err = e4_inode_read(s->fs, E4_ROOT_INO, &root);

	if (err == -ENOMEM)
		return err;
	if (err || !e4_inode_is_dir(&root)) {
		e4_log(s->fs, E4_LOG_WARN,
		       "the root directory cannot be read: every inode in use is unreachable");
		return 0;
	}
	return walk_from(s, E4_ROOT_INO);
}

/* ---- step 3: what the unreachable directories name ----------------------- */

struct named {
	struct scan *s;
	uint32_t dir;
};

static int mark_named(void *ctx, const struct e4_dirent *d)
{
	struct named *n = ctx;
	struct scan *s = n->s;
	int err = over_budget(s);

	if (err)
		return err;
	if ((d->name_len == 1 && d->name[0] == '.') ||
	    (d->name_len == 2 && d->name[0] == '.' && d->name[1] == '.'))
		return 0;
	if (d->ino != n->dir && in_range(s, d->ino) && test(s->cand, d->ino))
		set(s->mark, d->ino);
	return 0;
}

static int mark_named_by(struct scan *s, uint32_t dir)
{
	struct named n = { s, dir };
	struct e4_inode in;
	int err = e4_inode_read(s->fs, dir, &in);

	if (!err)
		err = e4_dir_iterate_mode(s->fs, &in, 0, E4_DIR_SALVAGE,
					  mark_named, &n, NULL);
	/* a directory that cannot be listed (reported) names nothing */
	return err == -ENOMEM || s->over ? err : 0;
}

/* ---- step 6 -------------------------------------------------------------- */

static int count_xattr(void *ctx, const char *name, size_t len)
{
	(void)name;
	(void)len;
	(*(unsigned *)ctx)++;
	return 1;
}

/* e2fsck deletes an unattached regular file with nothing in it (no
 * blocks, no inline data, no attributes) instead of reconnecting it. */
static bool holds_nothing(struct e4_fs *fs, uint32_t ino)
{
	struct e4_inode in;
	unsigned xattrs = 0;

	if (e4_inode_read(fs, ino, &in) || !e4_inode_is_reg(&in) ||
	    in.blocks_512 != 0 || (in.flags & E4_INLINE_DATA_FL))
		return false;
	if (e4_xattr_list(fs, &in, count_xattr, &xattrs) < 0)
		return false;
	return xattrs == 0;
}

/* ---- the scan ------------------------------------------------------------ */

static int find_tops(struct scan *s)
{
	struct e4_fs *fs = s->fs;
	uint32_t count = fs->inodes_count, ino;
	int err = 0;

	for (ino = next_set(s->dir, count, 1); ino && !err;
	     ino = next_set(s->dir, count, (uint64_t)ino + 1))
		if (test(s->cand, ino))
			err = mark_named_by(s, ino);
	if (err)
		return err;
	/* @mark becomes the tops: unreachable and named by nothing
	 * unreachable */
	for (size_t i = 0; i < s->bytes; i++) {
		s->st->unreachable += (uint64_t)__builtin_popcount(s->cand[i]);
		s->mark[i] = (uint8_t)(s->cand[i] & ~s->mark[i]);
	}
	for (ino = next_set(s->mark, count, 1); ino && !err;
	     ino = next_set(s->mark, count, (uint64_t)ino + 1)) {
		clear(s->cand, ino);
		if (test(s->dir, ino))
			err = walk_from(s, ino);
	}
	/* cycles: a directory left is named only from within its cycle */
	for (ino = next_set(s->dir, count, 1); ino && !err;
	     ino = next_set(s->dir, count, (uint64_t)ino + 1)) {
		if (!test(s->cand, ino))
			continue;
		set(s->mark, ino);
		clear(s->cand, ino);
		err = walk_from(s, ino);
	}
	if (err)
		return err;
	/* nothing should be left; never lose what is */
	for (size_t i = 0; i < s->bytes; i++)
		s->mark[i] |= s->cand[i];
	for (ino = next_set(s->mark, count, 1); ino;
	     ino = next_set(s->mark, count, (uint64_t)ino + 1)) {
		if (holds_nothing(fs, ino)) {
			clear(s->mark, ino);
			s->st->empty++;
		} else {
			s->st->tops++;
		}
	}
	return 0;
}

uint64_t e4_unreachable_memory(const struct e4_fs *fs)
{
	return 3 * ((uint64_t)fs->inodes_count / 8 + 1);
}

int e4_unreachable_scan(struct e4_fs *fs, struct e4_unreachable **out)
{
	struct e4_unreachable *u = calloc(1, sizeof(*u));
	struct scan s = { .fs = fs, .st = u ? &u->stats : NULL };
	int err = 0;

	*out = NULL;
	s.bytes = (size_t)fs->inodes_count / 8 + 1;
	if (u) {
		s.cand = calloc(s.bytes, 1);
		s.dir = calloc(s.bytes, 1);
		s.mark = calloc(s.bytes, 1);
	}
	if (!u || !s.cand || !s.dir || !s.mark) {
		e4_log(fs, E4_LOG_ERROR,
		       "unreachable inodes: cannot allocate %llu bytes (three bitmaps of one bit per inode, %u inodes)",
		       (unsigned long long)e4_unreachable_memory(fs),
		       fs->inodes_count);
		err = -ENOMEM;
		goto out;
	}
	u->inodes_count = fs->inodes_count;
	u->stats.memory = e4_unreachable_memory(fs);
	for (uint32_t g = 0; g < fs->group_count && !err; g++)
		err = scan_group(&s, g);
	if (err)
		goto out;
	/* valid listings read each directory block once, at a mapping
	 * lookup and the block each, plus a lookup or two per directory:
	 * the tree walker's bound for one walk, twice */
	s.work0 = meta_gets(fs);
	s.work_max = 2 * (4 * fs->blocks_count + 4 * (uint64_t)fs->inodes_count +
			  1024);
	err = walk_from_root(&s);
	if (!err)
		err = find_tops(&s);
out:
	free(s.cand);
	free(s.dir);
	if (err) {
		free(s.mark);
		free(u);
		return err;
	}
	u->tops = s.mark;
	*out = u;
	return 0;
}

void e4_unreachable_free(struct e4_unreachable *u)
{
	if (!u)
		return;
	free(u->tops);
	free(u);
}

bool e4_unreachable_has(const struct e4_unreachable *u, uint32_t ino)
{
	return ino >= 1 && ino <= u->inodes_count && test(u->tops, ino);
}

uint32_t e4_unreachable_next(const struct e4_unreachable *u, uint32_t after)
{
	return next_set(u->tops, u->inodes_count, (uint64_t)after + 1);
}

void e4_unreachable_get_stats(const struct e4_unreachable *u,
			      struct e4_unreachable_stats *out)
{
	*out = u->stats;
}

size_t e4_unreachable_name(uint32_t ino, char *buf)
{
	return (size_t)snprintf(buf, E4_UNREACHABLE_NAME_MAX, "#%u", ino);
}

size_t e4_unreachable_name_parse(const char *s, size_t len, uint32_t *ino)
{
	uint64_t n = 0;
	size_t i = 1;

	if (len < 2 || s[0] != '#' || s[1] < '1' || s[1] > '9')
		return 0;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		n = n * 10 + (uint64_t)(s[i] - '0');
		if (n > UINT32_MAX)
			return 0;
	}
	*ino = (uint32_t)n;
	return i;
}
