/* SPDX-License-Identifier: MIT */
/*
 * The offline checker (`e4img check`).  It adds no parsing of its own: it
 * drives every reader of the on-disk library over everything reachable
 * (which reports what each structure breaks) and adds the cross-structure
 * rules no single reader can see: reachability, link counts, directory
 * entry types, "." and "..", htree consistency, bitmap and counter
 * agreement.  What it does not check yet is listed in docs/check.md.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e4/check.h"
#include "e4/tree.h"
#include "ondisk/ondisk.h"

/* Above this the per-inode tables would not fit in reasonable memory. */
#define CHECK_MAX_INODES (64u << 20)

/* ---- the sink: report each (rule, object) once ----------------------- */

/* A reported problem: its rule and object, and for a message that names
 * no rule the hash of its text (those are told apart by what they say). */
struct e4_check_key {
	struct e4_object obj;
	enum e4_rule rule;
	uint64_t text;
	bool used;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 1099511628211ull;
}

static uint64_t text_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	while (*s)
		h = mix(h, (uint8_t)*s++);
	return h;
}

static uint64_t key_hash(const struct e4_check_key *k)
{
	uint64_t h = 1469598103934665603ull;

	h = mix(h, (uint64_t)k->rule);
	h = mix(h, (uint64_t)k->obj.kind);
	h = mix(h, k->obj.ino);
	h = mix(h, k->obj.blk);
	h = mix(h, k->obj.idx);
	return mix(h, k->text);
}

static bool key_equal(const struct e4_check_key *a, const struct e4_check_key *b)
{
	return a->rule == b->rule && a->text == b->text &&
	       e4_object_equal(&a->obj, &b->obj);
}

/* Add @key; false if it was there already. */
static bool sink_remember(struct e4_check_sink *k, const struct e4_check_key *key)
{
	if ((k->seen_used + 1) * 2 > k->seen_slots) {
		size_t n = k->seen_slots ? k->seen_slots * 2 : 64;
		struct e4_check_key *fresh = calloc(n, sizeof(*fresh));
		if (!fresh)
			return true;	/* cannot dedupe: report anyway */
		for (size_t i = 0; i < k->seen_slots; i++) {
			if (!k->seen[i].used)
				continue;
			size_t j = key_hash(&k->seen[i]) & (n - 1);
			while (fresh[j].used)
				j = (j + 1) & (n - 1);
			fresh[j] = k->seen[i];
		}
		free(k->seen);
		k->seen = fresh;
		k->seen_slots = n;
	}
	size_t j = key_hash(key) & (k->seen_slots - 1);
	while (k->seen[j].used) {
		if (key_equal(&k->seen[j], key))
			return false;
		j = (j + 1) & (k->seen_slots - 1);
	}
	k->seen[j] = *key;
	k->seen[j].used = true;
	k->seen_used++;
	return true;
}

void e4_check_report(void *sink, const struct e4_report *r)
{
	struct e4_check_sink *k = sink;
	struct e4_check_key key = { .obj = r->obj, .rule = r->rule };

	if (r->level != E4_LOG_ERROR)
		return;
	if (r->rule == E4_RULE_NONE)
		key.text = text_hash(r->msg);
	if (!sink_remember(k, &key))
		return;
	k->problems++;
	if (k->report)
		k->report(k->ctx, r);
}

void e4_check_sink_free(struct e4_check_sink *k)
{
	free(k->seen);
	k->seen = NULL;
	k->seen_slots = k->seen_used = 0;
}

/* A problem of the checker's own: worded and counted like the library's,
 * object first. */
static void problem(struct e4_check_sink *k, enum e4_rule rule,
		    struct e4_object obj, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void problem(struct e4_check_sink *k, enum e4_rule rule,
		    struct e4_object obj, const char *fmt, ...)
{
	struct e4_report r = { .level = E4_LOG_ERROR, .rule = rule, .obj = obj,
			       .corruption = true };
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	e4_message_vformat(line, sizeof(line), &obj, fmt, ap);
	va_end(ap);
	r.msg = line;
	e4_check_report(k, &r);
}

/* ---- per-inode state ------------------------------------------------- */

/* ST_EA: a good inode holding an xattr value (§9.6); ST_ORPHAN: a deleted
 * orphan awaiting cleanup (§14).  No dirent names either. */
enum { ST_FREE = 0, ST_BAD, ST_OK, ST_EA, ST_ORPHAN };

struct checker {
	struct e4_fs *fs;
	struct e4_check_sink *sink;
	struct e4_check_stats *stats;
	uint8_t *state;		/* ST_* per inode */
	uint16_t *mode;		/* file type bits of good inodes */
	uint16_t *links;	/* i_links_count of good inodes */
	uint32_t *refs;		/* directory entries naming the inode */
	uint32_t *subdirs;	/* for directories: children that are dirs */
	uint32_t *parent;	/* for directories: where it was reached from */
	struct e4_inode dir;	/* the directory being walked */
	unsigned dir_entries;	/* entries of it seen so far */
	uint8_t *claimed;	/* one bit per block: owned by something */
	uint32_t owner;		/* inode whose blocks are being claimed */
	uint64_t owner_dups;
	uint64_t first_dup;
	struct e4_block_set *xattr_seen;
};

static uint8_t ftype_of_mode(uint16_t mode)
{
	switch (mode & E4_S_IFMT) {
	case E4_S_IFREG: return E4_FT_REG;
	case E4_S_IFDIR: return E4_FT_DIR;
	case E4_S_IFCHR: return E4_FT_CHR;
	case E4_S_IFBLK: return E4_FT_BLK;
	case E4_S_IFIFO: return E4_FT_FIFO;
	case E4_S_IFSOCK: return E4_FT_SOCK;
	case E4_S_IFLNK: return E4_FT_SYMLINK;
	default: return E4_FT_UNKNOWN;
	}
}

/* ---- groups and bitmaps ---------------------------------------------- */

static unsigned popcount_bytes(const uint8_t *p, size_t bits)
{
	unsigned n = 0;
	for (size_t i = 0; i < bits; i++)
		n += (p[i / 8] >> (i % 8)) & 1;
	return n;
}

static void check_groups(struct checker *c)
{
	struct e4_fs *fs = c->fs;

	for (uint32_t g = 0; g < fs->group_count; g++) {
		struct e4_group gd;
		struct e4_buf *buf;

		c->stats->groups++;
		if (e4_group_get(fs, g, &gd))
			continue;	/* reported by the reader */
		if (!(gd.flags & E4_BG_BLOCK_UNINIT) &&
		    !e4_block_bitmap_get(fs, g, &gd, &buf))
			e4_meta_put(fs, buf);
		if (gd.flags & E4_BG_INODE_UNINIT)
			continue;
		if (e4_inode_bitmap_get(fs, g, &gd, &buf))
			continue;
		uint32_t used = popcount_bytes(buf->data, fs->inodes_per_group);
		e4_meta_put(fs, buf);
		if (gd.free_inodes != fs->inodes_per_group - used)
			problem(c->sink, E4_RULE_CK_FREE,
				e4_obj(E4_OBJ_INODE_BITMAP, 0, gd.inode_bitmap, g),
				"free inodes count %u, but the bitmap has %u free",
				gd.free_inodes, fs->inodes_per_group - used);
	}
}

/* ---- block accounting --------------------------------------------------- */

/* Above this the claimed-blocks bitmap would not fit in reasonable memory:
 * block accounting is then skipped (said in the report). */
#define CHECK_MAX_BLOCKS (1ull << 32)

static bool claim_one(struct checker *c, uint64_t blk)
{
	uint8_t bit = (uint8_t)(1u << (blk % 8));
	bool dup = c->claimed[blk / 8] & bit;

	c->claimed[blk / 8] |= bit;
	return dup;
}

/* Mark [blk, blk+count) owned; blocks already owned are counted against
 * the current owner and reported once per owner. */
static void claim(struct checker *c, uint64_t blk, uint64_t count)
{
	if (!c->claimed || count == 0)
		return;
	for (uint64_t b = blk; b < blk + count && b < c->fs->blocks_count; b++) {
		if (claim_one(c, b) && c->owner_dups++ == 0)
			c->first_dup = b;
	}
}

static void claim_done(struct checker *c, struct e4_object owner)
{
	/* shared_blocks (deduplicated images) allows blocks owned twice */
	if (c->fs->feature_ro_compat & E4_RO_COMPAT_SHARED_BLOCKS)
		c->owner_dups = 0;
	if (c->owner_dups)
		problem(c->sink, E4_RULE_AL3, owner,
			"%s%llu block%s (first %llu) also claimed by another inode or by file-system metadata",
			owner.kind == E4_OBJ_FS ? "file-system metadata: " : "",
			(unsigned long long)c->owner_dups,
			c->owner_dups == 1 ? "" : "s",
			(unsigned long long)c->first_dup);
	c->owner_dups = 0;
}

static int claim_owned(void *ctx, uint64_t pblk, uint64_t count, bool map_block)
{
	(void)map_block;
	claim(ctx, pblk, count);
	return 0;
}

static int claim_meta_run(void *ctx, uint32_t owner, enum e4_meta_kind kind,
			  uint64_t start, uint64_t count)
{
	(void)owner;
	(void)kind;
	claim(ctx, start, count);
	return 0;
}

/* The fixed metadata of every group, each block once (E4_META_OWNED):
 * superblock and descriptor copies, reserved descriptor blocks, bitmaps
 * and inode tables (§1.4-1.6); then the MMP block, the file system's. */
static void claim_metadata(struct checker *c)
{
	struct e4_fs *fs = c->fs;

	if (!c->claimed)
		return;
	for (uint32_t g = 0; g < fs->group_count; g++)	/* errors: reported */
		(void)e4_group_metadata(fs, g, E4_META_OWNED, claim_meta_run, c);
	if (fs->feature_incompat & E4_INCOMPAT_MMP)
		claim(c, e4_le64(fs->sb_raw, E4_SB_SIZE, E4_SB_MMP_BLOCK), 1);
	claim_done(c, e4_obj_fs());
}

static void claim_inode(struct checker *c, const struct e4_inode *in)
{
	c->owner = in->ino;
	if (in->ino == 7) {
		/* the resize inode's map points at reserved descriptor blocks,
		 * already claimed as metadata: only its DIND is its own */
		claim(c, e4_le32(in->i_block, sizeof(in->i_block), 4 * E4_DIND_BLOCK), 1);
	} else {
		(void)e4_map_for_each_owned(c->fs, in, claim_owned, c);
	}
	claim_done(c, e4_obj_inode(in->ino));
}

/* Shared xattr blocks are claimed once, by the first inode naming them. */
static void claim_xattr_blocks(struct checker *c, const struct e4_inode *in,
			       struct e4_block_set *xattr_seen)
{
	if (in->file_acl && e4_block_set_add(xattr_seen, in->file_acl) == 0) {
		claim(c, in->file_acl, 1);
		claim_done(c, e4_obj_xattr_block(in->ino, in->file_acl));
	}
}

/* Compare the claims with each group's block bitmap, cluster by cluster. */
static void compare_block_bitmaps(struct checker *c)
{
	struct e4_fs *fs = c->fs;
	uint32_t ratio = fs->cluster_ratio;

	if (!c->claimed)
		return;
	for (uint32_t g = 0; g < fs->group_count; g++) {
		struct e4_group gd;
		struct e4_buf *buf;
		uint64_t used_free = 0, unused_set = 0, first_a = 0, first_b = 0;
		uint32_t free_bits = 0;

		if (e4_group_get(fs, g, &gd) || (gd.flags & E4_BG_BLOCK_UNINIT))
			continue;
		if (e4_block_bitmap_get(fs, g, &gd, &buf))
			continue;
		uint64_t first = e4_group_first_block(fs, g);
		for (uint32_t i = 0; i < fs->clusters_per_group; i++) {
			uint64_t blk = first + (uint64_t)i * ratio;
			if (blk >= fs->blocks_count)
				break;
			bool set = buf->data[i / 8] & (1u << (i % 8));
			bool used = false;
			for (uint32_t k = 0; k < ratio && blk + k < fs->blocks_count; k++)
				used |= (c->claimed[(blk + k) / 8] >> ((blk + k) % 8)) & 1;
			if (!set)
				free_bits++;
			if (used && !set && used_free++ == 0)
				first_a = blk;
			if (!used && set && unused_set++ == 0)
				first_b = blk;
		}
		e4_meta_put(fs, buf);
		struct e4_object bitmap = e4_obj(E4_OBJ_BLOCK_BITMAP, 0,
						 gd.block_bitmap, g);
		if (used_free)
			problem(c->sink, E4_RULE_CK_BMAP_USED, bitmap,
				"%llu block%s in use but free in the bitmap (first %llu)",
				(unsigned long long)used_free, used_free == 1 ? "" : "s",
				(unsigned long long)first_a);
		if (unused_set)
			problem(c->sink, E4_RULE_CK_BMAP_UNOWNED, bitmap,
				"%llu block%s marked in use but owned by nothing (first %llu)",
				(unsigned long long)unused_set, unused_set == 1 ? "" : "s",
				(unsigned long long)first_b);
		if (gd.free_blocks != free_bits)
			problem(c->sink, E4_RULE_CK_FREE, bitmap,
				"free blocks count %u, but the bitmap has %u free",
				gd.free_blocks, free_bits);
	}
}

/* ---- every allocated inode -------------------------------------------- */

static bool is_special_unlinked(const struct e4_fs *fs, uint32_t ino)
{
	return e4_inode_is_internal(fs, ino);
}

static int xattr_visit(void *ctx, const char *name, size_t len)
{
	void **p = ctx;
	struct e4_fs *fs = p[0];
	const struct e4_inode *in = p[1];
	char full[300];

	if (len >= sizeof(full))
		return 0;
	memcpy(full, name, len);
	full[len] = '\0';
	(void)e4_xattr_get(fs, in, full, NULL, 0);
	return 0;
}

/* Exercise every reader on one inode; each reports its own problems. */
static void check_inode_content(struct checker *c, const struct e4_inode *in)
{
	struct e4_fs *fs = c->fs;
	void *ctx[2] = {fs, (void *)in};

	e4_xattr_list(fs, in, xattr_visit, ctx);
	if (e4_inode_is_symlink(in)) {
		char target[4096];
		(void)e4_symlink_read(fs, in, target, sizeof(target));
		return;
	}
	if (!e4_inode_is_reg(in) && !e4_inode_is_dir(in))
		return;
	if (in->flags & E4_INLINE_DATA_FL) {
		size_t n;
		(void)e4_inline_size(fs, in, &n);
	}
	/* every tree block of a mapped file is verified by claim_inode's
	 * walk, which visits each once (a block map aliasing its indirect
	 * blocks cannot make it walk i_size block by block) */
}

/* Without a trustworthy bitmap: has inode @ino a mode (ever been used)? */
static bool inode_ever_used(struct e4_fs *fs, uint32_t ino)
{
	struct e4_buf *buf;
	size_t off;
	bool used;

	if (e4_inode_raw_get(fs, ino, &buf, &off))
		return false;
	used = e4_le16(buf->data, buf->size, off + E4_I_MODE) != 0;
	e4_meta_put(fs, buf);
	return used;
}

static void check_inodes(struct checker *c)
{
	struct e4_fs *fs = c->fs;

	for (uint32_t g = 0; g < fs->group_count; g++) {
		struct e4_group gd;
		struct e4_buf *bitmap;

		if (e4_group_get(fs, g, &gd) || (gd.flags & E4_BG_INODE_UNINIT))
			continue;
		/* a bitmap failing its checksum (reported) cannot be trusted:
		 * then every inode that was ever used (non-zero mode) counts */
		int err = e4_inode_bitmap_get(fs, g, &gd, &bitmap);
		if (err && err != -EUCLEAN)
			continue;
		if (err)
			bitmap = NULL;
		for (uint32_t i = 0; i < fs->inodes_per_group; i++) {
			uint32_t ino = g * fs->inodes_per_group + i + 1;
			struct e4_inode in;

			if (bitmap ? !(bitmap->data[i / 8] & (1u << (i % 8)))
				   : !inode_ever_used(fs, ino))
				continue;
			if (e4_inode_in_uninit_range(fs, &gd, i)) {
				problem(c->sink, E4_RULE_CK_UNINIT, e4_obj_inode(ino),
					"marked in use but inside the group's never-used range");
				continue;
			}
			/* reserved inodes other than root, journal and resize
			 * have no meaning to check (bad blocks, quota...) */
			if (ino < fs->first_ino && ino != E4_ROOT_INO &&
			    !is_special_unlinked(fs, ino) &&
			    !(ino == 7 && (fs->feature_compat & E4_COMPAT_RESIZE_INODE)))
				continue;
			c->stats->inodes_checked++;
			/* orphans waiting for cleanup own their blocks still */
			bool orphan = e4_inode_is_deleted_orphan(fs, ino);
			if (e4_inode_load(fs, ino, &in, orphan)) {
				c->state[ino] = ST_BAD;
				continue;
			}
			c->state[ino] = orphan ? ST_ORPHAN :
				(in.flags & E4_EA_INODE_FL) ? ST_EA : ST_OK;
			if (orphan)	/* e2fsck too calls this unclean */
				problem(c->sink, E4_RULE_CK_ORPHAN, e4_obj_inode(ino),
					"deleted orphan awaiting cleanup (hidden)");
			c->mode[ino] = in.mode;
			c->links[ino] = (uint16_t)in.links;
			check_inode_content(c, &in);
			claim_inode(c, &in);
			claim_xattr_blocks(c, &in, c->xattr_seen);
		}
		if (bitmap)
			e4_meta_put(fs, bitmap);
	}
}

/* ---- the directory tree ----------------------------------------------- */

static int check_dir_begin(void *ctx, const char *path,
			   const struct e4_inode *dir, uint32_t parent)
{
	struct checker *c = ctx;

	(void)path;
	(void)parent;
	c->dir = *dir;
	c->dir_entries = 0;
	c->stats->directories++;
	return 0;
}

static int check_dir_end(void *ctx, const char *path,
			 const struct e4_inode *dir, int err)
{
	struct checker *c = ctx;

	(void)path;
	(void)err;	/* reported by the directory code */
	if (dir && c->dir_entries < 2)
		problem(c->sink, E4_RULE_DIR2, e4_obj_inode(dir->ino),
			"missing \".\" or \"..\"");
	return 0;
}

/* The library's rule (e4_inode_read_named) reads the inode; the checker
 * already knows every inode's state, so it applies the same rule to its
 * tables and words the problem as a checker line. */
static int check_entry(void *ctx, const struct e4_tree_entry *te,
		       bool *descend)
{
	struct checker *c = ctx;
	struct e4_fs *fs = c->fs;
	uint32_t dino = te->dir;
	unsigned index = c->dir_entries++;
	const struct e4_tree_entry *d = te;
	struct e4_object entry = e4_obj_dirent(dino, te->ino);

	c->stats->entries++;
	if (index == 0 || index == 1) {
		const char *want = index == 0 ? "." : "..";
		if (strcmp(d->name, want)) {
			problem(c->sink, E4_RULE_DIR2, entry,
				"entry %u is \"%s\", expected \"%s\"", index,
				d->name, want);
		} else if (index == 0 && d->ino != dino) {
			problem(c->sink, E4_RULE_CK_DOTS, entry,
				"\".\" names inode %u", d->ino);
		} else if (index == 1 && d->ino != c->parent[dino]) {
			problem(c->sink, E4_RULE_CK_DOTS, entry,
				"\"..\" names inode %u, but its parent is %u",
				d->ino, c->parent[dino]);
		}
		if (!strcmp(d->name, ".") || !strcmp(d->name, ".."))
			return 0;
	} else if (!strcmp(d->name, ".") || !strcmp(d->name, "..")) {
		problem(c->sink, E4_RULE_DIR2, entry, "extra \"%s\" entry",
			d->name);
		return 0;
	}

	if (d->ino == 0 || d->ino > fs->inodes_count) {
		problem(c->sink, E4_RULE_DIR3, entry,
			"directory entry '%s' names out-of-range inode %u",
			d->name, d->ino);
		return 0;
	}
	if (c->state[d->ino] == ST_FREE) {
		problem(c->sink, E4_RULE_DIR_TARGET, entry,
			"directory entry '%s' names free inode %u", d->name,
			d->ino);
		return 0;
	}
	if (d->ino < fs->first_ino && d->ino != E4_ROOT_INO) {
		problem(c->sink, E4_RULE_IN1, entry,
			"directory entry '%s' names reserved inode %u", d->name,
			d->ino);
		return 0;
	}
	c->refs[d->ino]++;
	if (c->state[d->ino] == ST_EA || c->state[d->ino] == ST_ORPHAN)
		problem(c->sink, E4_RULE_DIR_TARGET, entry,
			"directory entry '%s' names %s inode %u", d->name,
			c->state[d->ino] == ST_EA ? "xattr value" : "deleted orphan",
			d->ino);
	if (c->state[d->ino] != ST_OK)
		return 0;

	uint16_t mode = c->mode[d->ino];
	/* Hurd file systems never store dirent types (§2.1 s_creator_os) */
	if ((fs->feature_incompat & E4_INCOMPAT_FILETYPE) &&
	    e4_le32(fs->sb_raw, E4_SB_SIZE, E4_SB_CREATOR_OS) != 1 &&
	    d->ftype != ftype_of_mode(mode))
		problem(c->sink, E4_RULE_CK_FTYPE, entry,
			"directory entry '%s' has type %u, but inode %u is type %u",
			d->name, d->ftype, d->ino, ftype_of_mode(mode));

	/* the index must find what the linear walk sees */
	uint32_t found = 0;
	int err = e4_dir_lookup(fs, &c->dir, d->name, d->name_len, &found, NULL);
	if (err == -ENOENT || (!err && found != d->ino))
		problem(c->sink, E4_RULE_CK_LOOKUP, entry,
			"lookup of '%s' finds %s%u, the entry names %u",
			d->name, err ? "nothing" : "inode ", found, d->ino);

	if ((mode & E4_S_IFMT) == E4_S_IFDIR) {
		c->subdirs[dino]++;
		if (d->ino == E4_ROOT_INO || c->parent[d->ino]) {
			problem(c->sink, E4_RULE_CK_DIRLINK, e4_obj_inode(d->ino),
				"directory linked from more than one directory (%u and %u)",
				c->parent[d->ino] ? c->parent[d->ino] : E4_ROOT_INO,
				dino);
		} else {
			c->parent[d->ino] = dino;
			*descend = true;
		}
	}
	return 0;
}

static void walk_tree(struct checker *c)
{
	static const struct e4_tree_ops ops = {
		.dir_begin = check_dir_begin, .entry = check_entry,
		.dir_end = check_dir_end,
	};
	/* breadth first: memory per waiting directory, not per level, so no
	 * depth bound is needed; each directory is walked once (parent[] is
	 * set before it is queued, and the walker refuses a second visit) */
	struct e4_tree_opts opts = { .flags = E4_TREE_DOTS | E4_TREE_BREADTH_FIRST,
				     .max_depth = UINT32_MAX };
	int err;

	if (c->state[E4_ROOT_INO] != ST_OK) {
		problem(c->sink, E4_RULE_CK_ROOT, e4_obj_inode(E4_ROOT_INO),
			"the root directory is unreadable or free");
		return;
	}
	if ((c->mode[E4_ROOT_INO] & E4_S_IFMT) != E4_S_IFDIR) {
		problem(c->sink, E4_RULE_CK_ROOT, e4_obj_inode(E4_ROOT_INO),
			"the root is not a directory");
		return;
	}
	c->parent[E4_ROOT_INO] = E4_ROOT_INO;
	err = e4_tree_walk(c->fs, E4_ROOT_INO, "/", &opts, &ops, c);
	if (err < 0)
		problem(c->sink, E4_RULE_CK_WALK, e4_obj_fs(),
			"directory tree walk stopped: %s", strerror(-err));
}

static void check_links(struct checker *c)
{
	struct e4_fs *fs = c->fs;
	bool dir_nlink = fs->feature_ro_compat & E4_RO_COMPAT_DIR_NLINK;

	for (uint32_t ino = 1; ino <= fs->inodes_count; ino++) {
		if (c->state[ino] != ST_OK)
			continue;
		if (ino < fs->first_ino && ino != E4_ROOT_INO)
			continue;
		bool is_dir = (c->mode[ino] & E4_S_IFMT) == E4_S_IFDIR;
		if (c->refs[ino] == 0 && ino != E4_ROOT_INO) {
			if (!is_special_unlinked(fs, ino))
				problem(c->sink, E4_RULE_CK_UNLINKED, e4_obj_inode(ino),
					"in use (links %u) but no directory entry names it",
					c->links[ino]);
			continue;
		}
		/* a directory: its entry in the parent, its ".", and each
		 * subdirectory's ".." (the root is its own parent) */
		uint64_t want = is_dir ? 2 + (uint64_t)c->subdirs[ino] : c->refs[ino];
		if (c->links[ino] == want)
			continue;
		if (is_dir && dir_nlink && c->links[ino] == 1 && want > E4_LINK_MAX)
			continue;
		problem(c->sink, E4_RULE_CK_LINKS, e4_obj_inode(ino),
			"link count %u, but %llu %s", c->links[ino],
			(unsigned long long)want,
			is_dir ? "expected from its subdirectories" :
			want == 1 ? "directory entry names it" :
				    "directory entries name it");
	}
}

int e4_check(struct e4_fs *fs, struct e4_check_sink *sink,
	     struct e4_check_stats *stats)
{
	struct checker c = {.fs = fs, .sink = sink, .stats = stats};
	size_t n = (size_t)fs->inodes_count + 1;
	int err = 0;

	memset(stats, 0, sizeof(*stats));
	if (fs->inodes_count > CHECK_MAX_INODES)
		return -EFBIG;
	c.state = calloc(n, 1);
	c.mode = calloc(n, sizeof(*c.mode));
	c.links = calloc(n, sizeof(*c.links));
	c.refs = calloc(n, sizeof(*c.refs));
	c.subdirs = calloc(n, sizeof(*c.subdirs));
	c.parent = calloc(n, sizeof(*c.parent));
	if (!c.state || !c.mode || !c.links || !c.refs || !c.subdirs ||
	    !c.parent) {
		err = -ENOMEM;
		goto out;
	}
	if (fs->blocks_count <= CHECK_MAX_BLOCKS) {
		c.claimed = calloc((size_t)(fs->blocks_count / 8 + 1), 1);
		if (!c.claimed) {
			err = -ENOMEM;
			goto out;
		}
	}
	c.xattr_seen = e4_block_set_new();
	if (!c.xattr_seen) {
		err = -ENOMEM;
		goto out;
	}
	check_groups(&c);
	claim_metadata(&c);
	check_inodes(&c);
	compare_block_bitmaps(&c);
	walk_tree(&c);
	check_links(&c);
	stats->problems = sink->problems;
out:
	free(c.claimed);
	e4_block_set_free(c.xattr_seen);
	free(c.state);
	free(c.mode);
	free(c.links);
	free(c.refs);
	free(c.subdirs);
	free(c.parent);
	return err;
}
