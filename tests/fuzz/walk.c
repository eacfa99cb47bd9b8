/* SPDX-License-Identifier: MIT */
/*
 * The walker (see walk.h).  It links against the on-disk library alone.  The
 * tree is walked by the library's own walker, e4_tree_walk (each directory
 * once, no recursion, a depth bound), and the inode an entry names is read
 * with the rule a mount applies (e4_inode_read_named: no name may hold a
 * reserved, internal, free or EA inode).  Its own bounds: every inode is
 * handled once (a visited set), and the counts of directories, entries,
 * attribute names and file bytes are capped, so a hostile image (a
 * directory cycle, a million hard links, a 16 TiB sparse file) costs no
 * more than a well-formed one of the same size.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e4/check.h"
#include "e4/tree.h"
#include "ondisk/ondisk.h"
#include "resource.h"
#include "walk.h"

/* One library call, measured by the resource oracle (resource.h): @what
 * names it in a report, @arg says on what (an inode number). */
#define OP(w, what, arg, call)                                  \
	({                                                      \
		e4_res_begin((w)->fs, NULL, what, arg);         \
		__typeof__(call) op_ret_ = (call);              \
		e4_res_end(NULL);                               \
		op_ret_;                                        \
	})

#define CHUNK (64u * 1024)
#define XATTR_VALUE_MAX (64u * 1024)
#define SYMLINK_MAX 4096u
#define SEEK_STEPS_MAX 4096u	/* data/hole runs followed per file */

void e4_walk_limits_fuzz(struct e4_walk_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->max_dirs = 64;
	l->max_entries = 2048;
	l->max_scan = 512;
	l->max_xattrs = 256;
	l->max_file_bytes = 4u << 20;
	/* small: eviction runs too, and a 64 MiB default cache costs more
	 * to set up and tear down than the whole walk of a small image */
	l->cache_bytes = 256u << 10;
	l->csum_accept = true;
	l->run_check = true;
}

void e4_walk_limits_corpus(struct e4_walk_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->max_dirs = 100000;
	l->max_entries = 400000;
	l->max_scan = 1u << 20;
	l->max_xattrs = 100000;
	l->max_file_bytes = 1ull << 30;
}

struct walker {
	struct e4_fs *fs;
	const struct e4_walk_limits *lim;
	struct e4_walk_result *res;

	struct e4_block_set *seen;	/* inodes handled (or failed to read) */
	unsigned dirs_left;		/* directories the walk may still enter */
	unsigned entries_left;
	unsigned xattrs_left;

	/* the directory being listed, between dir_begin and dir_end */
	struct e4_inode dir;
	size_t dir_entries;
	bool lookup_failed;		/* then the directory is bad */

	uint8_t *chunk;
	uint8_t *value;
	char *link;
	bool opening;
};

/* ---- log sink ------------------------------------------------------------ */

static void walk_log(void *ctx, enum e4_log_level level, const char *msg)
{
	struct walker *w = ctx;

	(void)level;
	if (w->lim->verbose)
		fprintf(stderr, "  log: %s\n", msg);
}

/* The refusal is the first error while opening: its rule and object
 * ("GD1 group 0 descriptor"), or its text when it names no rule. */
static void walk_report(void *ctx, const struct e4_report *r)
{
	struct walker *w = ctx;
	char obj[160];

	if (!w->opening || r->level != E4_LOG_ERROR || w->res->refusal[0])
		return;
	if (r->rule == E4_RULE_NONE) {
		snprintf(w->res->refusal, sizeof(w->res->refusal), "%s", r->msg);
		return;
	}
	e4_object_describe(&r->obj, obj, sizeof(obj));
	snprintf(w->res->refusal, sizeof(w->res->refusal), "%s%s%s",
		 e4_rule_id(r->rule), obj[0] ? " " : "", obj);
}

static void report(struct walker *w, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void report(struct walker *w, const char *path, const char *fmt, ...)
{
	va_list ap;

	if (!w->lim->verbose)
		return;
	fprintf(stderr, "  bad: %s: ", path[0] ? path : "/");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Count a reachable inode whose reading failed; remember the first paths. */
static void count_bad(struct walker *w, const char *path)
{
	struct e4_walk_result *r = w->res;

	if (r->bad < sizeof(r->bad_paths) / sizeof(r->bad_paths[0])) {
		char *out = r->bad_paths[r->bad];
		size_t n = 0, max = sizeof(r->bad_paths[0]) - 1;

		if (!path[0])
			path = "/";
		for (; path[n] && n < max; n++) {
			unsigned char c = (unsigned char)path[n];
			out[n] = c >= 0x20 && c < 0x7f && c != ',' ? (char)c : '?';
		}
		out[n] = '\0';
	}
	r->bad++;
}

/* ---- visited set ----------------------------------------------------------- */

/* Returns true if @ino was not seen before (and records it). */
static bool seen_add(struct walker *w, uint32_t ino)
{
	int rc;

	if (ino == 0)
		return false;
	rc = e4_block_set_add(w->seen, ino);
	if (rc < 0)
		w->res->limited = true;	/* out of memory: handled as seen */
	return rc == 0;
}

/* ---- per-inode work -------------------------------------------------------- */

struct xattr_names {
	struct walker *w;
	char (*names)[256];
	size_t n, cap;
};

static int collect_xattr(void *ctx, const char *name, size_t len)
{
	struct xattr_names *x = ctx;

	if (x->w->xattrs_left == 0) {
		x->w->res->limited = true;
		return 1;
	}
	x->w->xattrs_left--;
	if (len >= 256 || x->n == x->cap)
		return 0;	/* no valid name is that long; 64 names is plenty */
	memcpy(x->names[x->n], name, len);
	x->names[x->n][len] = '\0';
	x->n++;
	return 0;
}

static int walk_xattrs(struct walker *w, const struct e4_inode *in)
{
	char names[64][256];
	struct xattr_names x = { w, names, 0, 64 };
	int err = OP(w, "xattr list", in->ino,
		     e4_xattr_list(w->fs, in, collect_xattr, &x));

	if (err < 0)
		return err;
	for (size_t i = 0; i < x.n; i++) {
		ssize_t sz = OP(w, "xattr size", in->ino,
				e4_xattr_get(w->fs, in, names[i], NULL, 0));
		if (sz < 0)
			return (int)sz;
		ssize_t got = OP(w, "xattr get", in->ino,
				 e4_xattr_get(w->fs, in, names[i], w->value,
					      XATTR_VALUE_MAX));
		if (got < 0 && got != -ERANGE)
			return (int)got;
		if (got >= 0 && got != sz)
			return -EPROTO;	/* size query and read disagree */
	}
	/* names that are not there, in each namespace */
	static const char *const absent[] = {
		"user.e4walk.absent", "trusted.x", "security.selinux",
		"system.posix_acl_access", "system.posix_acl_default",
		"system.data", "bogus.name",
	};
	for (size_t i = 0; i < sizeof(absent) / sizeof(*absent); i++) {
		ssize_t r = OP(w, "xattr get (absent)", in->ino,
			       e4_xattr_get(w->fs, in, absent[i], w->value,
					    XATTR_VALUE_MAX));
		if (r < 0 && r != -ENODATA && r != -EOPNOTSUPP && r != -ERANGE &&
		    r != -EINVAL)
			return (int)r;
	}
	return 0;
}

static int read_range(struct walker *w, const struct e4_inode *in,
		      uint64_t from, uint64_t to)
{
	while (from < to) {
		uint64_t left = w->lim->max_file_bytes - w->res->bytes;
		size_t n = to - from < CHUNK ? (size_t)(to - from) : CHUNK;

		if (left == 0) {
			w->res->limited = true;
			return 0;
		}
		if (n > left)
			n = (size_t)left;
		ssize_t got = OP(w, "file read", in->ino,
				 e4_file_read(w->fs, in, from, w->chunk, n));
		if (got < 0)
			return (int)got;
		if (got == 0)
			return -EPROTO;	/* EOF before i_size */
		w->res->bytes += (uint64_t)got;
		from += (uint64_t)got;
	}
	return 0;
}

/* Every data byte of a file, skipping holes with SEEK_DATA/SEEK_HOLE. */
static int walk_file_data(struct walker *w, const struct e4_inode *in)
{
	uint64_t off = 0;
	ssize_t got;

	/* the first bytes and the bytes at EOF, whatever the mapping says */
	got = OP(w, "file read", in->ino, e4_file_read(w->fs, in, 0, w->chunk, 4096));
	if (got < 0)
		return (int)got;
	got = OP(w, "file read at EOF", in->ino,
		 e4_file_read(w->fs, in, in->size, w->chunk, 16));
	if (got != 0)
		return got < 0 ? (int)got : -EPROTO;

	for (unsigned step = 0; off < in->size; step++) {
		uint64_t data, hole;
		int err;

		if (step == SEEK_STEPS_MAX || w->res->bytes >= w->lim->max_file_bytes) {
			w->res->limited = true;
			return 0;
		}
		err = OP(w, "seek data", in->ino,
			 e4_file_seek(w->fs, in, off, E4_SEEK_DATA, &data));
		if (err == -ENXIO)
			return 0;
		if (err < 0)
			return err;
		if (data < off || data >= in->size)
			return -EPROTO;
		err = OP(w, "seek hole", in->ino,
			 e4_file_seek(w->fs, in, data, E4_SEEK_HOLE, &hole));
		if (err < 0)
			return err;
		if (hole <= data || hole > in->size)
			return -EPROTO;
		err = read_range(w, in, data, hole);
		if (err < 0)
			return err;
		off = hole;
	}
	return 0;
}

/* Attributes, xattrs, the symlink target, the file bytes and the first
 * mapping: everything but the directory entries. */
static int walk_inode_body(struct walker *w, const struct e4_inode *in)
{
	struct e4_mapping m;
	int err = walk_xattrs(w, in);

	if (err < 0)
		return err;
	if (e4_inode_is_symlink(in)) {
		ssize_t n = OP(w, "symlink read", in->ino,
			       e4_symlink_read(w->fs, in, w->link, SYMLINK_MAX));
		if (n < 0)
			return (int)n;
	} else if (e4_inode_is_reg(in)) {
		err = walk_file_data(w, in);
		if (err < 0)
			return err;
	}
	if (e4_inode_is_reg(in) || e4_inode_is_dir(in)) {
		err = OP(w, "map block", in->ino, e4_map_block(w->fs, in, 0, &m));
		if (err < 0)
			return err;
		if (m.len == 0)
			return -EPROTO;
	}
	return 0;
}

/* ---- the tree --------------------------------------------------------------- */

static bool is_dot(const char *name, size_t len)
{
	return (len == 1 && name[0] == '.') ||
	       (len == 2 && name[0] == '.' && name[1] == '.');
}

/* Attributes, xattrs, symlink target, bytes of the inode entry @e names, read
 * as a mount reads it; *@dir tells whether to walk into it.  Counted in the
 * result, bad or not. */
static void visit(struct walker *w, const struct e4_tree_entry *e, bool *dir)
{
	struct e4_inode in;
	int err = OP(w, "inode read", e->ino,
		     e4_inode_read_named(w->fs, e->dir, e->name, e->ino, &in));

	if (err < 0) {
		report(w, e->path, "inode %u: %s", e->ino, strerror(-err));
		count_bad(w, e->path);
		return;
	}
	if (e4_inode_is_dir(&in))
		w->res->dirs++;
	else if (e4_inode_is_reg(&in))
		w->res->files++;
	else if (e4_inode_is_symlink(&in))
		w->res->symlinks++;
	else
		w->res->others++;

	err = walk_inode_body(w, &in);
	if (err < 0) {
		report(w, e->path, "%s", strerror(-err));
		count_bad(w, e->path);
		return;
	}
	*dir = e4_inode_is_dir(&in);
}

/* Look a listed name up again: linearly or through the htree as the
 * directory is indexed (e4_dir_lookup), and through the htree alone. */
static int lookup_again(struct walker *w, const struct e4_tree_entry *e)
{
	const struct e4_inode *dir = &w->dir;
	uint32_t ino;
	uint8_t ft;
	int err;

	if (e->name_len == 0 || memchr(e->name, '/', e->name_len) ||
	    memchr(e->name, '\0', e->name_len))
		return 0;	/* unreachable by name, by design */
	err = OP(w, "lookup", dir->ino,
		 e4_dir_lookup(w->fs, dir, e->name, e->name_len, &ino, &ft));
	if (err < 0) {
		report(w, e->path, "lookup of listed name: %s", strerror(-err));
		return err;
	}
	if (!is_dot(e->name, e->name_len) && (dir->flags & E4_INDEX_FL)) {
		struct e4_dir_name dn;

		e4_dir_name_init(w->fs, dir, e->name, e->name_len, &dn);
		err = OP(w, "htree lookup", dir->ino,
			 e4_htree_lookup(w->fs, dir, &dn, &ino, &ft));
		if (err < 0 && err != -EAGAIN && err != -ENOENT &&
		    err != -EUCLEAN)
			return err;
	}
	return 0;
}

/* One entry as listed: counted, looked up again, and the inode it names
 * handled the first time it is met. */
static int tree_entry(struct walker *w, const struct e4_tree_entry *e,
		      bool *descend)
{
	bool is_dir = false;

	if (w->entries_left == 0) {
		w->res->limited = true;
		return 1;	/* the walk ends here */
	}
	w->entries_left--;
	w->res->entries++;
	w->dir_entries++;
	if (!w->lookup_failed && lookup_again(w, e) < 0)
		w->lookup_failed = true;
	if (is_dot(e->name, e->name_len) || !seen_add(w, e->ino))
		return 0;
	visit(w, e, &is_dir);
	if (is_dir && w->dirs_left == 0)
		w->res->limited = true;
	else if (is_dir) {
		w->dirs_left--;
		*descend = true;
	}
	return 0;
}

/* Listing from the start: the cookie after entry @at and the entry after it;
 * with @at 0 on a resumed listing, the first entry's name. */
struct middle {
	size_t at, seen;
	uint64_t next_pos;
	char name[256];
	bool got;
};

static int middle_cb(void *ctx, const struct e4_dirent *d)
{
	struct middle *m = ctx;

	if (m->seen++ < m->at)
		return 0;
	if (m->seen == m->at + 1 && m->at) {
		m->next_pos = d->next_pos;
		return 0;
	}
	memcpy(m->name, d->name, d->name_len);
	m->name[d->name_len] = '\0';
	m->got = true;
	return 1;
}

/* The same in the kernel's order (e4_dir_readdir: by hash through the
 * index where there is one), which may list fewer (a damaged index: block
 * order; a crafted run of equal hashes: cut short). */
static int check_kernel_order(struct walker *w, const char *path)
{
	const struct e4_inode *dir = &w->dir;
	struct middle whole = { .at = w->dir_entries / 2 }, resumed = { .at = 0 };
	int err = OP(w, "readdir by hash (to the middle)", dir->ino,
		     e4_dir_readdir(w->fs, dir, 0, middle_cb, &whole, NULL));

	if (err < 0 || !whole.got)
		return err < 0 ? err : 0;
	err = OP(w, "readdir by hash (resumed)", dir->ino,
		 e4_dir_readdir(w->fs, dir, whole.next_pos, middle_cb,
				&resumed, NULL));
	if (err < 0)
		return err;
	if (!resumed.got || strcmp(resumed.name, whole.name) != 0) {
		report(w, path, "by hash: resuming before \"%s\" gave \"%s\"",
		       whole.name, resumed.got ? resumed.name : "(nothing)");
		return -EPROTO;
	}
	return 0;
}

/* After the listing: a name that is not there, and the listing resumed
 * from the cookie of its middle entry, which must go on with the entry a
 * listing from the start has next. */
static int check_listing(struct walker *w, const char *path)
{
	const struct e4_inode *dir = &w->dir;
	uint32_t ino;
	uint8_t ft;
	int err = OP(w, "lookup (absent)", dir->ino,
		     e4_dir_lookup(w->fs, dir, "e4walk-no-such-name", 19, &ino, &ft));

	if (err != -ENOENT && err != -EUCLEAN)
		return err < 0 ? err : -EPROTO;
	if (w->dir_entries < 3)
		return 0;

	struct middle whole = { .at = w->dir_entries / 2 }, resumed = { .at = 0 };

	err = OP(w, "readdir (to the middle)", dir->ino,
		 e4_dir_iterate(w->fs, dir, 0, middle_cb, &whole));
	if (err < 0)
		return err;
	if (!whole.got)
		return -EPROTO;	/* shorter than the walker's listing */
	err = OP(w, "readdir (resumed)", dir->ino,
		 e4_dir_iterate(w->fs, dir, whole.next_pos, middle_cb, &resumed));
	if (err < 0)
		return err;
	if (!resumed.got || strcmp(resumed.name, whole.name) != 0) {
		report(w, path, "resuming before \"%s\" gave \"%s\"", whole.name,
		       resumed.got ? resumed.name : "(nothing)");
		return -EPROTO;
	}
	return check_kernel_order(w, path);
}

/*
 * The callbacks of e4_tree_walk.  The resource oracle measures each of
 * their library calls as its own operation; between two callbacks, the
 * tree walker's own work (reading a directory's inode again, listing it)
 * is one more, "tree walk".
 */
static void tree_work_begin(struct walker *w, uint32_t ino)
{
	e4_res_begin(w->fs, NULL, "tree walk", ino);
}

static int on_dir_begin(void *ctx, const char *path, const struct e4_inode *dir,
			uint32_t parent)
{
	struct walker *w = ctx;

	(void)path;
	(void)parent;
	e4_res_end(NULL);
	w->dir = *dir;
	w->dir_entries = 0;
	w->lookup_failed = false;
	tree_work_begin(w, dir->ino);
	return 0;
}

static int on_entry(void *ctx, const struct e4_tree_entry *e, bool *descend)
{
	e4_res_end(NULL);
	int rc = tree_entry(ctx, e, descend);
	tree_work_begin(ctx, e->dir);
	return rc;
}

/* @err: why the listing was cut short.  A directory whose inode could not
 * be read again (@dir NULL) was counted when its entry was read. */
static int on_dir_end(void *ctx, const char *path, const struct e4_inode *dir,
		      int err)
{
	struct walker *w = ctx;

	e4_res_end(NULL);
	if (dir) {
		bool bad = w->lookup_failed || check_listing(w, path) < 0;

		if (err < 0)
			report(w, path, "readdir: %s", strerror(-err));
		if (bad || err < 0)
			count_bad(w, path);
	}
	tree_work_begin(w, dir ? dir->ino : 0);
	return 0;
}

/* Deeper than E4_TREE_MAX_DEPTH (an entry met again is never walked into:
 * the visited set saw it first). */
static void on_refused(void *ctx, const struct e4_tree_entry *e,
		       enum e4_tree_refusal why)
{
	(void)e;
	(void)why;
	((struct walker *)ctx)->res->limited = true;
}

/* The root (already read) and everything below it, depth first in the
 * order of the directories' blocks. */
static void walk_tree(struct walker *w, const struct e4_inode *root)
{
	static const struct e4_tree_ops ops = {
		.dir_begin = on_dir_begin, .entry = on_entry,
		.dir_end = on_dir_end, .refused = on_refused,
	};
	struct e4_tree_opts opts = { .flags = E4_TREE_DOTS };
	int err;

	seen_add(w, E4_ROOT_INO);
	w->res->dirs++;
	err = walk_inode_body(w, root);
	if (err < 0) {
		report(w, "", "%s", strerror(-err));
		count_bad(w, "");
		return;
	}
	if (w->lim->max_dirs == 0) {
		w->res->limited = true;
		return;
	}
	w->dirs_left = w->lim->max_dirs - 1;
	tree_work_begin(w, E4_ROOT_INO);
	(void)e4_tree_walk(w->fs, E4_ROOT_INO, "", &opts, &ops, w);
	e4_res_end(NULL);
}

/* Inodes the tree does not reach: orphans, the journal, reserved ones. */
static void scan_inodes(struct walker *w)
{
	struct e4_fs_info info;

	e4_fs_get_info(w->fs, &info);
	uint32_t last = info.inodes_count;
	if (last > w->lim->max_scan) {
		last = w->lim->max_scan;
		w->res->limited = true;
	}
	for (uint32_t ino = 1; ino <= last; ino++) {
		struct e4_inode in;
		int err;

		if (e4_block_set_has(w->seen, ino))
			continue;
		err = OP(w, "inode read (scan)", ino, e4_inode_read(w->fs, ino, &in));
		if (err == -ENOENT)
			continue;
		if (err == 0)
			err = walk_inode_body(w, &in);
		if (err < 0)
			w->res->scanned_bad++;
		else
			w->res->scanned_ok++;
	}
}

static void walk_misc(struct walker *w)
{
	static const char *const paths[] = {
		"/", "/lost+found", "lost+found/..", "/a/b/c", "//x",
		"/../..", "/nonexistent",
	};
	struct e4_statfs st;
	struct e4_fs_info info;
	char feat[1024];
	uint32_t ino;

	(void)OP(w, "statfs", 0, e4_fs_statfs(w->fs, &st));
	e4_fs_get_info(w->fs, &info);
	e4_fs_describe_features(w->fs, feat, sizeof(feat));
	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++)
		(void)OP(w, "path lookup", i, e4_path_lookup(w->fs, paths[i], &ino));
}

static void ignore_problem(void *ctx, const struct e4_report *problem)
{
	(void)ctx;
	(void)problem;
}

/* The offline checker over the same file system: its own walk (bitmaps,
 * every inode, the tree) is one more reader of every structure. */
static void run_check(struct walker *w)
{
	struct e4_check_sink sink = { .report = ignore_problem };
	struct e4_check_stats st;

	e4_res_begin_fs_wide(w->fs, "check");
	(void)e4_check(w->fs, &sink, &st);
	e4_res_end(NULL);
	e4_check_sink_free(&sink);
}

int e4_walk_dev(struct e4_dev *dev, const struct e4_walk_limits *lim,
		struct e4_walk_result *res)
{
	struct walker w = { .lim = lim, .res = res };
	struct e4_open_opts opts = {
		.read_only = true,
		.csum = lim->csum_accept ? E4_CSUM_ACCEPT : E4_CSUM_VERIFY,
		.cache_bytes = lim->cache_bytes,
		.log = walk_log,
		.log_ctx = &w,
		.report = walk_report,
		.report_ctx = &w,
		.log_level = lim->verbose ? E4_LOG_DEBUG : E4_LOG_ERROR,
	};
	struct e4_inode root;
	int err;

	memset(res, 0, sizeof(*res));
	w.opening = true;
	e4_res_begin(NULL, dev, "open", 0);
	err = e4_fs_open(dev, &opts, &w.fs);
	e4_res_end(err < 0 ? NULL : w.fs);
	if (err < 0) {
		e4_dev_close(dev);
		res->open_err = err;
		if (!res->refusal[0])
			snprintf(res->refusal, sizeof(res->refusal), "%s",
				 strerror(-err));
		return err;
	}
	err = OP(&w, "inode read", E4_ROOT_INO, e4_inode_read(w.fs, E4_ROOT_INO, &root));
	if (err == 0 && !e4_inode_is_dir(&root)) {
		snprintf(res->refusal, sizeof(res->refusal),
			 "root inode is not a directory");
		err = -ENOTDIR;
	}
	if (err < 0) {
		if (!res->refusal[0])
			snprintf(res->refusal, sizeof(res->refusal),
				 "root inode: %s", strerror(-err));
		res->open_err = err;
		e4_fs_close(w.fs);
		return err;
	}
	w.opening = false;

	w.seen = e4_block_set_new();
	w.chunk = malloc(CHUNK);
	w.value = malloc(XATTR_VALUE_MAX);
	w.link = malloc(SYMLINK_MAX);
	w.entries_left = lim->max_entries;
	w.xattrs_left = lim->max_xattrs;
	if (!w.seen || !w.chunk || !w.value || !w.link) {
		err = -ENOMEM;
		goto out;
	}

	walk_tree(&w, &root);
	walk_misc(&w);
	scan_inodes(&w);
	if (lim->run_check)
		run_check(&w);
	err = 0;
out:
	if (w.seen)
		e4_block_set_free(w.seen);
	free(w.chunk);
	free(w.value);
	free(w.link);
	e4_fs_close(w.fs);
	return err;
}

int e4_fuzz_walk(const uint8_t *data, size_t size)
{
	struct e4_walk_limits lim;
	struct e4_walk_result res;
	struct e4_dev *dev;

	e4_walk_limits_fuzz(&lim);
	if (e4_dev_open_mem(data, size, &dev) < 0)
		return 0;
	(void)e4_walk_dev(dev, &lim, &res);
	return 0;
}

void e4_walk_outcome(const struct e4_walk_result *r, char *buf, size_t size)
{
	if (r->open_err) {
		snprintf(buf, size, "refused: %s", r->refusal);
		return;
	}
	char counts[160];
	snprintf(counts, sizeof(counts),
		 "dirs=%u files=%u symlinks=%u other=%u entries=%u scan=%u/%u%s",
		 r->dirs, r->files, r->symlinks, r->others, r->entries,
		 r->scanned_ok, r->scanned_bad, r->limited ? " limited" : "");
	if (r->bad) {
		char paths[200] = "";
		size_t shown = r->bad < 3 ? r->bad : 3;
		for (size_t i = 0; i < shown; i++) {
			strcat(paths, i ? ", " : "");
			strcat(paths, r->bad_paths[i]);
		}
		snprintf(buf, size, "eio: %u files (%s%s); %s", r->bad, paths,
			 r->bad > shown ? ", ..." : "", counts);
	}
	else
		snprintf(buf, size, "ok; %s", counts);
}
