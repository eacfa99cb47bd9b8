/* SPDX-License-Identifier: MIT */
/*
 * The walker (see walk.h).  It links against the on-disk library alone and
 * bounds its own work: every inode is handled once (a visited set), and the
 * counts of directories, entries, attribute names and file bytes are capped,
 * so a hostile image (a directory cycle, a million hard links, a 16 TiB
 * sparse file) costs no more than a well-formed one of the same size.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ondisk/ondisk.h"
#include "walk.h"

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

struct name {
	uint32_t ino;
	uint8_t ftype;
	uint8_t len;
	char s[256];
	uint64_t next_pos;
};

struct queued_dir {
	uint32_t ino;
	char *path;
};

struct walker {
	struct e4_fs *fs;
	const struct e4_walk_limits *lim;
	struct e4_walk_result *res;

	uint32_t *seen;			/* open addressing, 0 = empty */
	size_t seen_cap, seen_used;

	struct queued_dir *queue;
	size_t q_head, q_tail, q_cap;

	struct name *names;		/* entries of the directory at hand */
	size_t n_names, names_cap;
	unsigned entries_left;
	unsigned xattrs_left;

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

/* Returns true if @ino was not seen before (and records it), false if it was
 * seen or the set is full (the walk is then limited). */
static bool seen_add(struct walker *w, uint32_t ino)
{
	if (ino == 0)
		return false;
	if (w->seen_used * 2 >= w->seen_cap) {
		w->res->limited = true;
		return false;
	}
	size_t mask = w->seen_cap - 1;
	size_t i = (ino * 2654435761u) & mask;
	while (w->seen[i]) {
		if (w->seen[i] == ino)
			return false;
		i = (i + 1) & mask;
	}
	w->seen[i] = ino;
	w->seen_used++;
	return true;
}

static bool seen_has(const struct walker *w, uint32_t ino)
{
	size_t mask = w->seen_cap - 1;
	size_t i = (ino * 2654435761u) & mask;
	while (w->seen[i]) {
		if (w->seen[i] == ino)
			return true;
		i = (i + 1) & mask;
	}
	return false;
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
	int err = e4_xattr_list(w->fs, in, collect_xattr, &x);

	if (err < 0)
		return err;
	for (size_t i = 0; i < x.n; i++) {
		ssize_t sz = e4_xattr_get(w->fs, in, names[i], NULL, 0);
		if (sz < 0)
			return (int)sz;
		ssize_t got = e4_xattr_get(w->fs, in, names[i], w->value,
					   XATTR_VALUE_MAX);
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
		ssize_t r = e4_xattr_get(w->fs, in, absent[i], w->value,
					 XATTR_VALUE_MAX);
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
		ssize_t got = e4_file_read(w->fs, in, from, w->chunk, n);
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
	got = e4_file_read(w->fs, in, 0, w->chunk, 4096);
	if (got < 0)
		return (int)got;
	got = e4_file_read(w->fs, in, in->size, w->chunk, 16);
	if (got != 0)
		return got < 0 ? (int)got : -EPROTO;

	for (unsigned step = 0; off < in->size; step++) {
		uint64_t data, hole;
		int err;

		if (step == SEEK_STEPS_MAX || w->res->bytes >= w->lim->max_file_bytes) {
			w->res->limited = true;
			return 0;
		}
		err = e4_file_seek(w->fs, in, off, E4_SEEK_DATA, &data);
		if (err == -ENXIO)
			return 0;
		if (err < 0)
			return err;
		if (data < off || data >= in->size)
			return -EPROTO;
		err = e4_file_seek(w->fs, in, data, E4_SEEK_HOLE, &hole);
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
		ssize_t n = e4_symlink_read(w->fs, in, w->link, SYMLINK_MAX);
		if (n < 0)
			return (int)n;
	} else if (e4_inode_is_reg(in)) {
		err = walk_file_data(w, in);
		if (err < 0)
			return err;
	}
	if (e4_inode_is_reg(in) || e4_inode_is_dir(in)) {
		err = e4_map_block(w->fs, in, 0, &m);
		if (err < 0)
			return err;
		if (m.len == 0)
			return -EPROTO;
	}
	return 0;
}

/* ---- directories ----------------------------------------------------------- */

static int collect_name(void *ctx, const struct e4_dirent *d)
{
	struct walker *w = ctx;

	if (w->entries_left == 0) {
		w->res->limited = true;
		return 1;
	}
	w->entries_left--;
	if (w->n_names == w->names_cap) {
		size_t cap = w->names_cap ? w->names_cap * 2 : 64;
		struct name *p = realloc(w->names, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		w->names = p;
		w->names_cap = cap;
	}
	struct name *n = &w->names[w->n_names++];
	n->ino = d->ino;
	n->ftype = d->ftype;
	n->len = d->name_len;
	memcpy(n->s, d->name, d->name_len);
	n->s[d->name_len] = '\0';
	n->next_pos = d->next_pos;
	return 0;
}

static bool is_dot(const struct name *n)
{
	return (n->len == 1 && n->s[0] == '.') ||
	       (n->len == 2 && n->s[0] == '.' && n->s[1] == '.');
}

static char *join(const char *dir, const struct name *n)
{
	size_t a = strlen(dir);
	char *p = malloc(a + n->len + 2);

	if (!p)
		return NULL;
	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, n->s, n->len);
	p[a + 1 + n->len] = '\0';
	return p;
}

struct first_name {
	char s[256];
	bool got;
};

static int first_cb(void *ctx, const struct e4_dirent *d)
{
	struct first_name *f = ctx;

	memcpy(f->s, d->name, d->name_len);
	f->s[d->name_len] = '\0';
	f->got = true;
	return 1;
}

/* Look each name up again (htree where indexed, linear otherwise) and
 * resume the listing from a middle cookie. */
static int check_dir_names(struct walker *w, const struct e4_inode *dir,
			   const char *path)
{
	for (size_t i = 0; i < w->n_names; i++) {
		const struct name *n = &w->names[i];
		uint32_t ino;
		uint8_t ft;
		int err;

		if (n->len == 0 || memchr(n->s, '/', n->len) ||
		    memchr(n->s, '\0', n->len))
			continue;	/* unreachable by name, by design */
		err = e4_dir_lookup(w->fs, dir, n->s, n->len, &ino, &ft);
		if (err < 0) {
			report(w, path, "lookup of listed name \"%s\": %s",
			       n->s, strerror(-err));
			return err;
		}
		if (!is_dot(n) && (dir->flags & E4_INDEX_FL)) {
			err = e4_htree_lookup(w->fs, dir, n->s, n->len, &ino, &ft);
			if (err < 0 && err != -EAGAIN && err != -ENOENT &&
			    err != -EUCLEAN)
				return err;
		}
	}
	uint32_t ino;
	uint8_t ft0;
	int err = e4_dir_lookup(w->fs, dir, "e4walk-no-such-name", 19, &ino, &ft0);
	if (err != -ENOENT && err != -EUCLEAN)
		return err < 0 ? err : -EPROTO;

	if (w->n_names >= 3) {
		size_t mid = w->n_names / 2;
		struct first_name f = { .got = false };
		err = e4_dir_iterate(w->fs, dir, w->names[mid].next_pos,
				     first_cb, &f);
		if (err < 0)
			return err;
		if (!f.got || strcmp(f.s, w->names[mid + 1].s) != 0) {
			report(w, path, "resuming after \"%s\" gave \"%s\"",
			       w->names[mid].s, f.got ? f.s : "(nothing)");
			return -EPROTO;
		}
	}
	return 0;
}

static void enqueue_dir(struct walker *w, uint32_t ino, char *path)
{
	if (w->q_tail == w->q_cap) {
		free(path);
		w->res->limited = true;
		return;
	}
	w->queue[w->q_tail].ino = ino;
	w->queue[w->q_tail].path = path;
	w->q_tail++;
}

/* Read inode @ino (first time seen), count it, do its body; queue it when it
 * is a directory.  Takes @path. */
static void visit(struct walker *w, uint32_t ino, char *path)
{
	struct e4_inode in;
	int err = e4_inode_read(w->fs, ino, &in);

	if (err < 0) {
		report(w, path, "inode %u: %s", ino, strerror(-err));
		count_bad(w, path);
		free(path);
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
		report(w, path, "%s", strerror(-err));
		count_bad(w, path);
		free(path);
		return;
	}
	if (e4_inode_is_dir(&in))
		enqueue_dir(w, ino, path);
	else
		free(path);
}

static void walk_dir(struct walker *w, uint32_t ino, const char *path)
{
	struct e4_inode dir;
	int err = e4_inode_read(w->fs, ino, &dir);
	int iter_err;

	if (err < 0)
		return;		/* read fine a moment ago; counted then */
	w->n_names = 0;
	iter_err = e4_dir_iterate(w->fs, &dir, 0, collect_name, w);
	if (iter_err < 0)
		report(w, path, "readdir: %s", strerror(-iter_err));
	w->res->entries += (unsigned)w->n_names;

	err = check_dir_names(w, &dir, path);
	if (iter_err < 0 || err < 0)
		count_bad(w, path);

	/* names are reused by the next directory: copy what visit needs */
	size_t n = w->n_names;
	if (n == 0)
		return;
	struct name *mine = malloc(n * sizeof(*mine));
	if (!mine)
		return;
	memcpy(mine, w->names, n * sizeof(*mine));
	for (size_t i = 0; i < n; i++) {
		if (is_dot(&mine[i]) || !seen_add(w, mine[i].ino))
			continue;
		char *child = join(path, &mine[i]);
		if (child)
			visit(w, mine[i].ino, child);
	}
	free(mine);
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

		if (seen_has(w, ino))
			continue;
		err = e4_inode_read(w->fs, ino, &in);
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

	e4_fs_statfs(w->fs, &st);
	e4_fs_get_info(w->fs, &info);
	e4_fs_describe_features(w->fs, feat, sizeof(feat));
	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++)
		(void)e4_path_lookup(w->fs, paths[i], &ino);
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
	err = e4_fs_open(dev, &opts, &w.fs);
	if (err < 0) {
		e4_dev_close(dev);
		res->open_err = err;
		if (!res->refusal[0])
			snprintf(res->refusal, sizeof(res->refusal), "%s",
				 strerror(-err));
		return err;
	}
	err = e4_inode_read(w.fs, E4_ROOT_INO, &root);
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

	w.seen_cap = 64;
	while (w.seen_cap < 2 * ((size_t)lim->max_entries + lim->max_dirs + 16))
		w.seen_cap *= 2;
	w.seen = calloc(w.seen_cap, sizeof(*w.seen));
	w.q_cap = lim->max_dirs;
	w.queue = calloc(w.q_cap + 1, sizeof(*w.queue));
	w.chunk = malloc(CHUNK);
	w.value = malloc(XATTR_VALUE_MAX);
	w.link = malloc(SYMLINK_MAX);
	w.entries_left = lim->max_entries;
	w.xattrs_left = lim->max_xattrs;
	if (!w.seen || !w.queue || !w.chunk || !w.value || !w.link) {
		err = -ENOMEM;
		goto out;
	}

	seen_add(&w, E4_ROOT_INO);
	visit(&w, E4_ROOT_INO, strdup(""));
	while (w.q_head < w.q_tail) {
		struct queued_dir *q = &w.queue[w.q_head++];
		walk_dir(&w, q->ino, q->path);
		free(q->path);
		q->path = NULL;
	}
	walk_misc(&w);
	scan_inodes(&w);
	err = 0;
out:
	for (size_t i = w.q_head; i < w.q_tail; i++)
		free(w.queue[i].path);
	free(w.queue);
	free(w.seen);
	free(w.names);
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
