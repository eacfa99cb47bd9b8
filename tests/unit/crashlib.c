/* SPDX-License-Identifier: MIT */
/* Power cuts checked against a model of the syncs (see crashlib.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashlib.h"
#include "e4/memdev.h"
#include "ondisk/ondisk.h"
#include "testutil.h"

#define SEGS_MAX 64

struct cl_seg {
	uint64_t off, len;
	unsigned seed;
};

struct cl_state {
	char *path;		/* NULL: absent */
	uint64_t size;
	size_t nseg;
	struct cl_seg *seg;
};

struct cl_version {
	uint32_t sync;		/* the state from this sync on */
	bool loose;		/* changed more than once in the window */
	struct cl_state st;
};

struct cl_obj {
	uint32_t ino;
	bool dir, dirty, loose;
	struct cl_state cur;
	struct cl_version *v;
	size_t nv;
};

struct cl_model {
	struct cl_obj *o;
	size_t n, cap;
	uint32_t *flush;	/* flush of each sync */
	size_t nsync;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	assert_non_null(p);
	return p;
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

void cl_pattern(uint8_t *buf, uint64_t off, size_t len, unsigned seed)
{
	/* the seed spread over every bit: near seeds give unlike bytes */
	uint64_t mix = (seed + 1) * 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(((off + i) * 2654435761u + mix) >> 29);
}

struct cl_model *cl_model_new(void)
{
	struct cl_model *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	cl_add(m, 2, true, "/");
	cl_synced(m, 0);
	return m;
}

static void state_free(struct cl_state *s)
{
	free(s->path);
	free(s->seg);
}

void cl_model_free(struct cl_model *m)
{
	for (size_t i = 0; i < m->n; i++) {
		state_free(&m->o[i].cur);
		for (size_t j = 0; j < m->o[i].nv; j++)
			state_free(&m->o[i].v[j].st);
		free(m->o[i].v);
	}
	free(m->o);
	free(m->flush);
	free(m);
}

size_t cl_add(struct cl_model *m, uint32_t ino, bool dir, const char *path)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->o = xrealloc(m->o, m->cap * sizeof(*m->o));
	}
	memset(&m->o[m->n], 0, sizeof(m->o[m->n]));
	m->o[m->n].ino = ino;
	m->o[m->n].dir = dir;
	m->o[m->n].cur.path = xstrdup(path);
	m->o[m->n].dirty = true;
	return m->n++;
}

void cl_path(struct cl_model *m, size_t id, const char *path)
{
	free(m->o[id].cur.path);
	m->o[id].cur.path = xstrdup(path);
	m->o[id].dirty = true;
}

void cl_move_tree(struct cl_model *m, const char *from, const char *to)
{
	size_t fl = strlen(from);

	for (size_t i = 0; i < m->n; i++) {
		const char *p = m->o[i].cur.path;
		char *np;

		if (!p || strncmp(p, from, fl) || (p[fl] && p[fl] != '/'))
			continue;
		np = malloc(strlen(to) + strlen(p + fl) + 1);
		assert_non_null(np);
		strcpy(np, to);
		strcat(np, p + fl);
		free(m->o[i].cur.path);
		m->o[i].cur.path = np;
		m->o[i].dirty = true;
	}
}

void cl_write(struct cl_model *m, size_t id, uint64_t off, uint64_t len,
	      unsigned seed)
{
	struct cl_state *s = &m->o[id].cur;

	assert_true(s->nseg < SEGS_MAX);
	s->seg = xrealloc(s->seg, (s->nseg + 1) * sizeof(*s->seg));
	s->seg[s->nseg++] = (struct cl_seg){ off, len, seed };
	if (off + len > s->size)
		s->size = off + len;
	m->o[id].dirty = true;
}

void cl_truncate(struct cl_model *m, size_t id, uint64_t size)
{
	struct cl_state *s = &m->o[id].cur;

	for (size_t i = 0; i < s->nseg; i++) {
		if (s->seg[i].off >= size)
			s->seg[i].len = 0;
		else if (s->seg[i].off + s->seg[i].len > size)
			s->seg[i].len = size - s->seg[i].off;
	}
	s->size = size;
	m->o[id].dirty = true;
}

void cl_loose(struct cl_model *m, size_t id)
{
	m->o[id].loose = true;
	m->o[id].dirty = true;
}

bool cl_dirty(const struct cl_model *m, size_t id)
{
	return m->o[id].dirty;
}

size_t cl_find(const struct cl_model *m, const char *path)
{
	for (size_t i = m->n; i-- > 0;)
		if (m->o[i].cur.path && !strcmp(m->o[i].cur.path, path))
			return i;
	return (size_t)-1;
}

const char *cl_cur_path(const struct cl_model *m, size_t id)
{
	return m->o[id].cur.path;
}

void cl_synced(struct cl_model *m, uint32_t flush)
{
	uint32_t s = (uint32_t)m->nsync;

	m->flush = xrealloc(m->flush, (m->nsync + 1) * sizeof(*m->flush));
	m->flush[m->nsync++] = flush;
	for (size_t i = 0; i < m->n; i++) {
		struct cl_obj *o = &m->o[i];
		struct cl_version *v;

		if (!o->dirty)
			continue;
		o->v = xrealloc(o->v, (o->nv + 1) * sizeof(*o->v));
		v = &o->v[o->nv++];
		v->sync = s;
		v->loose = o->loose;
		v->st.path = xstrdup(o->cur.path);
		v->st.size = o->cur.size;
		v->st.nseg = o->cur.nseg;
		v->st.seg = malloc(o->cur.nseg * sizeof(*v->st.seg) + 1);
		assert_non_null(v->st.seg);
		if (o->cur.nseg)
			memcpy(v->st.seg, o->cur.seg,
			       o->cur.nseg * sizeof(*v->st.seg));
		o->dirty = o->loose = false;
	}
}

/* ---- the state at a sync ------------------------------------------------ */

static const struct cl_version *version_at(const struct cl_obj *o, uint32_t s)
{
	const struct cl_version *best = NULL;

	for (size_t j = 0; j < o->nv && o->v[j].sync <= s; j++)
		best = &o->v[j];
	return best && best->st.path ? best : NULL;
}

/* Whether the window (@S, @N] changed @o. */
static bool changed_in(const struct cl_obj *o, uint32_t S, uint32_t N)
{
	for (size_t j = 0; j < o->nv; j++)
		if (o->v[j].sync > S && o->v[j].sync <= N)
			return true;
	return false;
}

static uint8_t *content(const struct cl_state *st)
{
	uint8_t *b = calloc(1, (size_t)st->size + 1);

	assert_non_null(b);
	for (size_t i = 0; i < st->nseg; i++)
		cl_pattern(b + st->seg[i].off, st->seg[i].off,
			   (size_t)st->seg[i].len, st->seg[i].seed);
	return b;
}

/* ---- e4fuse's view ------------------------------------------------------ */

struct cut {
	const struct cl_model *m;
	struct e4_fs *fs;
	uint32_t S, N;
	const char *what;	/* "crash after flush 5" */
	const char *img;	/* kept as .failed on a failure */
};

static void __attribute__((format(printf, 2, 3), noreturn))
cut_fail(const struct cut *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tu_sh("cp '%s' '%s.failed'", c->img, c->img);
	fail_msg("%s: %s (image kept as %s.failed)", c->what, msg, c->img);
	abort();
}

/* File @o (inode @ino) reads as @a, or (changed in the window) each block
 * as @a's or @b's, its size one of theirs. */
static void check_content(const struct cut *c, const struct cl_obj *o,
			  const struct cl_version *a,
			  const struct cl_version *b, const char *path)
{
	struct e4_inode in;
	uint8_t *got, *wa, *wb = NULL;
	uint32_t bs = c->fs->block_size;	/* what goes home whole */

	if (e4_inode_read(c->fs, o->ino, &in) != 0)
		cut_fail(c, "%s: inode %u unreadable", path, o->ino);
	if (in.size != a->st.size && (!b || in.size != b->st.size))
		cut_fail(c, "%s: size %llu, expected %llu", path,
			 (unsigned long long)in.size,
			 (unsigned long long)a->st.size);
	got = malloc((size_t)in.size + 1);
	assert_non_null(got);
	if (e4_file_read(c->fs, &in, 0, got, (size_t)in.size) !=
	    (ssize_t)in.size)
		cut_fail(c, "%s: read failed", path);
	wa = content(&a->st);
	if (b)
		wb = content(&b->st);
	for (uint64_t off = 0; off < in.size; off += bs) {
		size_t n = (size_t)(in.size - off < bs ? in.size - off : bs);
		bool ok = off + n <= a->st.size && !memcmp(got + off, wa + off, n);

		ok |= b && off + n <= b->st.size &&
		      !memcmp(got + off, wb + off, n);
		if (!ok)
			cut_fail(c, "%s differs at %llu", path,
				 (unsigned long long)off);
	}
	free(got);
	free(wa);
	free(wb);
}

/* Object @o where the window allows it. */
static void check_object(const struct cut *c, const struct cl_obj *o)
{
	const struct cl_version *a = version_at(o, c->S), *b;
	const char *at = NULL;
	unsigned found = 0;
	uint32_t ino;

	if (!changed_in(o, c->S, c->N)) {
		if (!a || o->ino == 2)
			return;
		if (e4_path_lookup(c->fs, a->st.path, &ino) != 0)
			cut_fail(c, "%s missing", a->st.path);
		if (ino != o->ino)
			cut_fail(c, "%s is inode %u, expected %u", a->st.path,
				 ino, o->ino);
		if (!o->dir)
			check_content(c, o, a, NULL, a->st.path);
		return;
	}
	b = version_at(o, c->N);
	for (int i = 0; i < 2; i++) {
		const struct cl_version *v = i ? b : a;

		if (!v || (i && a && !strcmp(a->st.path, b->st.path)))
			continue;
		if (e4_path_lookup(c->fs, v->st.path, &ino) == 0 &&
		    ino == o->ino) {
			found++;
			at = v->st.path;
		}
	}
	if (found > 1)
		cut_fail(c, "inode %u under both %s and %s", o->ino,
			 a->st.path, b->st.path);
	if (!found && a && b)
		cut_fail(c, "inode %u lost: neither %s nor %s", o->ino,
			 a->st.path, b->st.path);
	if (!found || o->dir)
		return;
	for (size_t j = 0; j < o->nv; j++)	/* content not checked: */
		if (o->v[j].sync > c->S && o->v[j].sync <= c->N &&
		    o->v[j].loose)
			return;
	if (!a || !b)
		check_content(c, o, a ? a : b, NULL, at);
	else
		check_content(c, o, a, b, at);
}

/* The names the window allows, sorted, for the readdir checks. */
struct allowed {
	const char *path;
	uint32_t ino;
	size_t obj;
	bool stable;
};

static int allowed_cmp(const void *x, const void *y)
{
	return strcmp(((const struct allowed *)x)->path,
		      ((const struct allowed *)y)->path);
}

struct listing {
	const struct cut *c;
	const char *dir;
	struct allowed *al;
	size_t nal;
	unsigned *seen;
};

static int list_one(void *ctx, const struct e4_dirent *d)
{
	struct listing *l = ctx;
	char path[4096];
	struct allowed key = { .path = path };
	const struct allowed *hit;
	bool ok = false;

	if (!strcmp(d->name, ".") || !strcmp(d->name, "..") ||
	    (!strcmp(l->dir, "/") && !strcmp(d->name, "lost+found")))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", strcmp(l->dir, "/") ? l->dir : "",
		 d->name);
	hit = bsearch(&key, l->al, l->nal, sizeof(*l->al), allowed_cmp);
	if (hit) {
		while (hit > l->al && !strcmp(hit[-1].path, path))
			hit--;
		for (; hit < l->al + l->nal && !strcmp(hit->path, path); hit++)
			if (hit->ino == d->ino) {
				ok = true;
				if (hit->stable && ++l->seen[hit->obj] > 1)
					cut_fail(l->c, "%s listed twice", path);
			}
	}
	if (!ok)
		cut_fail(l->c, "readdir lists %s (inode %u), not allowed",
			 path, d->ino);
	return 0;
}

static void check_listings(const struct cut *c)
{
	const struct cl_model *m = c->m;
	struct allowed *al = calloc(2 * m->n + 1, sizeof(*al));
	unsigned *seen = calloc(m->n + 1, sizeof(*seen));
	struct listing l = { .c = c, .al = al, .seen = seen };

	assert_true(al && seen);
	for (size_t i = 1; i < m->n; i++) {
		const struct cl_obj *o = &m->o[i];
		const struct cl_version *a = version_at(o, c->S);
		const struct cl_version *b = version_at(o, c->N);
		bool stable = !changed_in(o, c->S, c->N);

		if (a)
			al[l.nal++] = (struct allowed){ a->st.path, o->ino, i,
							stable };
		if (b && !stable)
			al[l.nal++] = (struct allowed){ b->st.path, o->ino, i,
							false };
	}
	qsort(al, l.nal, sizeof(*al), allowed_cmp);
	for (size_t i = 0; i < m->n; i++) {
		const struct cl_obj *o = &m->o[i];
		const struct cl_version *a = version_at(o, c->S);
		struct e4_inode in;

		if (!o->dir || !a || changed_in(o, c->S, c->N))
			continue;
		l.dir = a->st.path;
		assert_int_equal(e4_inode_read(c->fs, o->ino, &in), 0);
		if (e4_dir_readdir(c->fs, &in, 0, list_one, &l, NULL) != 0)
			cut_fail(c, "readdir of %s failed", l.dir);
	}
	/* every name unchanged in the window whose directory is listed */
	for (size_t i = 0; i < l.nal; i++) {
		char parent[4096];
		struct allowed key = { .path = parent };
		const struct allowed *p;
		char *slash;

		if (!al[i].stable || seen[al[i].obj])
			continue;
		snprintf(parent, sizeof(parent), "%s", al[i].path);
		slash = strrchr(parent, '/');
		if (slash == parent)	/* in the root: always listed */
			cut_fail(c, "readdir misses %s", al[i].path);
		*slash = '\0';
		p = bsearch(&key, al, l.nal, sizeof(*al), allowed_cmp);
		while (p && p > al && !strcmp(p[-1].path, parent))
			p--;
		for (; p && p < al + l.nal && !strcmp(p->path, parent); p++)
			if (p->stable && m->o[p->obj].dir)
				cut_fail(c, "readdir misses %s", al[i].path);
	}
	free(al);
	free(seen);
}

/* ---- the kernel's view ----------------------------------------------------- */

/* A copy of the model at sync @s in @dir. */
static void materialize(const struct cl_model *m, uint32_t s, const char *dir)
{
	tu_sh("rm -rf '%s' && mkdir -p '%s'", dir, dir);
	/* parents first: a parent's path sorts before its children's when
	 * made in the order of the ids (a child is made after its parent
	 * or moved under it; mkdir -p covers the rest) */
	for (size_t i = 1; i < m->n; i++) {
		const struct cl_version *v = version_at(&m->o[i], s);
		char path[4096];

		if (!v)
			continue;
		snprintf(path, sizeof(path), "%s%s", dir, v->st.path);
		if (m->o[i].dir) {
			tu_sh("mkdir -p '%s'", path);
		} else {
			uint8_t *b = content(&v->st);
			FILE *f = fopen(path, "wb");

			if (!f) {
				char *slash = strrchr(path, '/');

				*slash = '\0';
				tu_sh("mkdir -p '%s'", path);
				*slash = '/';
				f = fopen(path, "wb");
			}
			assert_non_null(f);
			assert_int_equal(fwrite(b, 1, (size_t)v->st.size, f),
					 v->st.size);
			fclose(f);
			free(b);
		}
	}
}

/* ---- one cut ------------------------------------------------------------------ */

static void check_image(const char *path, const uint8_t *image, size_t size,
			const struct cl_model *m, uint32_t flush, bool exact,
			bool kernel, const char *what)
{
	struct cut c = { .m = m, .what = what, .img = path };
	FILE *f = fopen(path, "wb");
	char *copy;

	assert_non_null(f);
	assert_int_equal(fwrite(image, 1, size, f), size);
	fclose(f);
	c.S = 0;
	for (uint32_t s = 0; s < m->nsync; s++)
		if (m->flush[s] <= flush)
			c.S = s;
	c.N = exact || c.S + 1 >= m->nsync ? c.S : c.S + 1;
	/* e4fuse's view: the journal replayed in memory */
	if (tu_open(path, &c.fs) != 0)
		cut_fail(&c, "the image does not open:\n%s", tu_log());
	for (size_t i = 0; i < m->n; i++)
		check_object(&c, &m->o[i]);
	check_listings(&c);
	tu_close(c.fs);
	/* e2fsck's: its own replay, then a full check that repairs nothing
	 * (the superblock's free counts lag while mounted, as the kernel's
	 * do: e2fsck corrects them silently after a crash) */
	copy = tu_copy(path, "replayed.img");
	tu_sh("e2fsck -y -E journal_only '%s' >/dev/null 2>&1; "
	      "test $? -le 1", copy);
	tu_fsck_clean_live(copy);
	if (kernel) {
		/* the kernel's view of e2fsck's replay, the snapshot's */
		const char *exp = tu_msg("%s/expected", tu_tmpdir());
		char *cmd;

		materialize(m, c.S, exp);
		cmd = strdup(tu_msg("diff -r -x lost+found '%s/expected' \"$m\"",
				    tu_tmpdir()));
		tu_kernel_expect(copy, cmd);
		free(cmd);
	}
	unlink(copy);
	free(copy);
}

static bool planned(uint32_t k, uint32_t flushes, const struct cl_plan *p)
{
	return p->every <= 1 || k % p->every == 0 || k < p->edge ||
	       k + p->edge > flushes;
}

size_t cl_cut_all(struct e4_memdev *md, const struct cl_model *m,
		  const char *name, const struct cl_plan *p)
{
	size_t size = e4_memdev_size(md), points = 0, syncs = 0;
	uint8_t *image = malloc(size);
	uint32_t flushes = e4_memdev_flushes(md);
	const char *img = strdup(tu_msg("%s/crash.img", tu_tmpdir()));
	char what[128];

	assert_true(image && img);
	for (uint32_t k = 0; k <= flushes; k++) {
		bool sync_point = false, kernel;

		for (size_t s = 1; s < m->nsync; s++)
			sync_point |= m->flush[s] == k;
		syncs += sync_point;
		if (!planned(k, flushes, p) && !sync_point)
			continue;
		kernel = sync_point &&
			 (p->kernel_every <= 1 || syncs % p->kernel_every == 1 ||
			  k == flushes);
		assert_int_equal(e4_memdev_image_at_flush(md, k, image, size), 0);
		snprintf(what, sizeof(what), "%s: crash after flush %u", name, k);
		check_image(img, image, size, m, k, false, kernel, what);
		points++;
		if (!e4_memdev_writes_after(md, k) || !planned(k, flushes, p))
			continue;
		/* some of what was in flight survives (whole writes: the
		 * superblocks, written in place as the kernel writes them,
		 * rely on the device not tearing a block write) */
		for (uint64_t seed = 1; seed <= p->randoms; seed++) {
			assert_int_equal(e4_memdev_image_random(md, k, false,
								k * 31 + seed,
								image, size), 0);
			snprintf(what, sizeof(what),
				 "%s: crash after flush %u, writes after it "
				 "kept by seed %llu", name, k,
				 (unsigned long long)(k * 31 + seed));
			check_image(img, image, size, m, k, false, false, what);
			points++;
		}
	}
	/* everything: the clean end */
	assert_int_equal(e4_memdev_contents(md, image, size), 0);
	snprintf(what, sizeof(what), "%s: the end", name);
	check_image(img, image, size, m, flushes, true, true, what);
	points++;
	print_message("%s: %zu crash points over %u flushes\n", name, points,
		      flushes);
	free(image);
	free((void *)img);
	return points;
}
