/* SPDX-License-Identifier: MIT */
/*
 * More workloads cut by power failures (crashlib.h: every cut checked by
 * e4fuse's replay, e2fsck's, and at the sync points the kernel's, against
 * what the syncs before the cut made durable):
 *  - fsync-heavy: small files, appends and overwrites in place, each
 *    followed by fsync (e4_fs_fsync) of the one file it changed, or
 *    fdatasync after an overwrite in place (a flush, no commit);
 *  - rename-heavy: renames within and across directories, over existing
 *    files, of directories, syncs between;
 *  - a directory grown past htree splits to a second index level on
 *    1 KiB blocks, synced in chunks;
 *  - a file system filled to ENOSPC, then unlinks and writes again.
 * The small workloads are cut at every flush, the large ones at every
 * Nth flush and the first and last few (cl_plan), every one with one
 * random subset of the writes in flight after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crashlib.h"
#include "e4/memdev.h"
#include "e4/write.h"
#include "testutil.h"

static const struct e4_cred root_cred = { 0, 0, 0 };

struct wl {
	struct e4_fs *fs;
	struct e4_memdev *md;
	struct cl_model *m;
	char *img;
};

static void wl_start(struct wl *w, const char *name, const char *mkfs_args,
		     const char *size)
{
	struct e4_open_opts o = { .read_only = false };
	struct e4_memdev_opts mo = { .log_max = (size_t)256 << 20 };
	struct e4_dev *dev;
	size_t len;
	uint8_t *initial;

	w->img = tu_mkfs(name, mkfs_args, NULL, size);
	initial = (uint8_t *)tu_slurp(w->img, &len);
	assert_int_equal(e4_memdev_create(initial, len, &mo, &w->md, &dev), 0);
	free(initial);
	assert_int_equal(tu_open_dev(dev, &o, &w->fs), 0);
	assert_int_equal(e4_fs_begin_write(w->fs, NULL), 0);
	w->m = cl_model_new();
}

/* The session ends cleanly, then the device's log is cut. */
static void wl_end(struct wl *w)
{
	assert_int_equal(e4_fs_end_write(w->fs), 0);
	tu_close(w->fs);
}

static void wl_cut(struct wl *w, const struct cl_plan *plan)
{
	cl_cut_all(w->md, w->m, w->img + strlen(tu_tmpdir()) + 1, plan);
	cl_model_free(w->m);
	e4_memdev_free(w->md);
	free(w->img);
}

static void wl_sync(struct wl *w)
{
	assert_int_equal(e4_fs_sync(w->fs), 0);
	cl_synced(w->m, e4_memdev_flushes(w->md));
}

/* fsync(2) (@datasync: fdatasync) of file @id, the only object changed
 * since the last sync: what it promises is what the model's sync is. */
static void wl_fsync(struct wl *w, size_t id, bool datasync);

static struct e4_ino *get(struct wl *w, const char *path)
{
	struct e4_ino *ip;
	uint32_t ino;

	assert_int_equal(e4_path_lookup(w->fs, path, &ino), 0);
	assert_int_equal(e4_iget(w->fs, ino, &ip), 0);
	return ip;
}

static void split(const char *path, char *dir, const char **name)
{
	const char *slash = strrchr(path, '/');

	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (!dir[0])
		strcpy(dir, "/");
	*name = slash + 1;
}

/* A file at @path of @size bytes of pattern @seed; its model id. */
static size_t mkfile(struct wl *w, const char *path, size_t size,
		     unsigned seed)
{
	char dir[256];
	const char *name;
	struct e4_ino *d, *f;
	uint8_t *buf = malloc(size + 1);
	size_t id;

	split(path, dir, &name);
	d = get(w, dir);
	assert_int_equal(e4_mknod(w->fs, d, name, strlen(name), 0100644, 0, 0,
				  &root_cred, &f), 0);
	id = cl_add(w->m, e4_ino_number(f), false, path);
	cl_pattern(buf, 0, size, seed);
	if (size) {
		assert_int_equal(e4_write(w->fs, f, 0, buf, size), (ssize_t)size);
		cl_write(w->m, id, 0, size, seed);
	}
	e4_iput(w->fs, f);
	e4_iput(w->fs, d);
	free(buf);
	return id;
}

static size_t mkdir_at(struct wl *w, const char *path)
{
	char dir[256];
	const char *name;
	struct e4_ino *d, *n;
	size_t id;

	split(path, dir, &name);
	d = get(w, dir);
	assert_int_equal(e4_mkdir(w->fs, d, name, strlen(name), 0755,
				  &root_cred, &n), 0);
	id = cl_add(w->m, e4_ino_number(n), true, path);
	e4_iput(w->fs, n);
	e4_iput(w->fs, d);
	return id;
}

/* Write @len bytes of pattern @seed at @off of model file @id. */
static ssize_t wr(struct wl *w, size_t id, uint64_t off, size_t len,
		  unsigned seed)
{
	struct e4_ino *f = get(w, cl_cur_path(w->m, id));
	uint8_t *buf = malloc(len);
	ssize_t n;

	cl_pattern(buf, off, len, seed);
	n = e4_write(w->fs, f, off, buf, len);
	if (n > 0)	/* short where the space ran out */
		cl_write(w->m, id, off, (uint64_t)n, seed);
	e4_iput(w->fs, f);
	free(buf);
	return n;
}


static void wl_fsync(struct wl *w, size_t id, bool datasync)
{
	struct e4_ino *f = get(w, cl_cur_path(w->m, id));
	struct e4_inode in;

	e4_ino_snapshot(f, &in);
	e4_iput(w->fs, f);
	assert_int_equal(e4_fs_fsync(w->fs, in.ino, datasync), 0);
	cl_synced(w->m, e4_memdev_flushes(w->md));
}

/* rename(2) of @from to @to; what @to named goes. */
static void mv(struct wl *w, const char *from, const char *to)
{
	char od[256], nd[256];
	const char *on, *nn;
	struct e4_ino *o, *n;
	size_t victim = cl_find(w->m, to);

	split(from, od, &on);
	split(to, nd, &nn);
	o = get(w, od);
	n = get(w, nd);
	assert_int_equal(e4_rename(w->fs, o, on, strlen(on), n, nn, strlen(nn),
				   0), 0);
	if (victim != (size_t)-1)
		cl_path(w->m, victim, NULL);
	cl_move_tree(w->m, from, to);
	e4_iput(w->fs, o);
	e4_iput(w->fs, n);
}

static void test_fsync_heavy(void **state)
{
	struct cl_plan plan = { .randoms = 1 };
	struct wl w;
	size_t f[5];

	(void)state;
	wl_start(&w, "fsync.img", "-b 1024", "8M");
	for (int i = 0; i < 5; i++) {		/* small files */
		f[i] = mkfile(&w, tu_msg("/s%d", i), (size_t)(100 + i * 1700),
			      (unsigned)i);
		wl_fsync(&w, f[i], false);	/* its name with it */
	}
	assert_int_equal(wr(&w, f[0], 100, 3000, 11), 3000);	/* appends */
	wl_fsync(&w, f[0], true);	/* the size: a commit */
	assert_int_equal(wr(&w, f[4], 6900, 5000, 12), 5000);
	wl_fsync(&w, f[4], false);
	assert_int_equal(wr(&w, f[3], 1000, 2500, 13), 2500);	/* in place */
	wl_fsync(&w, f[3], true);	/* a flush alone */
	assert_int_equal(wr(&w, f[4], 0, 11900, 14), 11900);
	wl_fsync(&w, f[4], true);
	assert_int_equal(wr(&w, f[2], 3000, 400, 15), 400);	/* in the tail */
	wl_fsync(&w, f[2], true);
	wl_sync(&w);
	wl_end(&w);
	wl_cut(&w, &plan);
}

static void test_rename_heavy(void **state)
{
	struct cl_plan plan = { .randoms = 1 };
	struct wl w;

	(void)state;
	wl_start(&w, "rename.img", "-b 4096", "8M");
	mkdir_at(&w, "/a");
	mkdir_at(&w, "/b");
	for (int i = 1; i <= 4; i++)
		mkfile(&w, tu_msg("/a/x%d", i), (size_t)(i * 3000), (unsigned)i);
	for (int i = 1; i <= 3; i++)
		mkfile(&w, tu_msg("/b/y%d", i), (size_t)(i * 5000),
		       (unsigned)(10 + i));
	wl_sync(&w);
	mv(&w, "/a/x1", "/a/x1-renamed");	/* within a directory */
	mv(&w, "/a/x2", "/b/x2");		/* across */
	wl_sync(&w);
	mv(&w, "/b/y1", "/b/y2");		/* over an existing file */
	mv(&w, "/a/x3", "/b/y3");		/* across, over one */
	wl_sync(&w);
	mv(&w, "/a", "/b/sub");			/* a directory */
	wl_sync(&w);
	mkdir_at(&w, "/c");
	mv(&w, "/b/x2", "/x2");
	wl_sync(&w);
	mv(&w, "/b", "/c/bb");			/* a tree, across */
	wl_sync(&w);
	mv(&w, "/x2", "/c/bb/sub/x4");		/* deep, over one */
	wl_sync(&w);
	wl_end(&w);
	wl_cut(&w, &plan);
}

#define GROW_NAMES 2400
#define GROW_CHUNK 400

static void test_dir_growth(void **state)
{
	struct cl_plan plan = { .randoms = 1, .every = 3, .edge = 3,
				.kernel_every = 3 };
	struct wl w;
	struct e4_ino *d;

	(void)state;
	wl_start(&w, "grow.img", "-b 1024 -N 4096", "8M");
	mkdir_at(&w, "/d");
	wl_sync(&w);
	d = get(&w, "/d");
	for (int i = 0; i < GROW_NAMES; i++) {
		char name[128];
		struct e4_ino *f;

		snprintf(name, sizeof(name),
			 "a-rather-long-name-so-that-leaves-fill-up-%06d", i);
		assert_int_equal(e4_mknod(w.fs, d, name, strlen(name), 0100644,
					  0, 0, &root_cred, &f), 0);
		cl_add(w.m, e4_ino_number(f), false, tu_msg("/d/%s", name));
		e4_iput(w.fs, f);
		if ((i + 1) % GROW_CHUNK == 0)
			wl_sync(&w);
	}
	e4_iput(w.fs, d);
	wl_end(&w);
	/* the directory has an index of two levels */
	{
		size_t size = e4_memdev_size(w.md);
		uint8_t *image = malloc(size);
		const char *end = tu_msg("%s/grow-end.img", tu_tmpdir());
		FILE *fp;
		char *out;

		assert_int_equal(e4_memdev_contents(w.md, image, size), 0);
		fp = fopen(end, "wb");
		assert_non_null(fp);
		assert_int_equal(fwrite(image, 1, size, fp), size);
		fclose(fp);
		free(image);
		out = tu_debugfs_out(end, "htree /d");
		if (!strstr(out, "Indirect levels: 1"))
			fail_msg("no second index level:\n%.2000s", out);
		free(out);
	}
	wl_cut(&w, &plan);
}

/* Files of 512 KiB until the space runs out (-ENOSPC), the one cut short
 * kept at what was written whole; then unlinks, and writes again. */
static void test_enospc(void **state)
{
	struct cl_plan plan = { .randoms = 1, .every = 2, .edge = 3,
				.kernel_every = 2 };
	const size_t chunk = 128 << 10;
	struct wl w;
	size_t f[64], n = 0;
	uint64_t written = 0;
	ssize_t r = 0;

	(void)state;
	wl_start(&w, "enospc.img", "-b 4096", "8M");
	while (r >= 0) {
		assert_true(n < 64);
		f[n] = mkfile(&w, tu_msg("/f%zu", n), 0, 0);
		cl_loose(w.m, f[n]);
		for (written = 0; written < 4 * chunk; written += (size_t)r) {
			r = wr(&w, f[n], written, chunk, (unsigned)n);
			if (r != (ssize_t)chunk)
				break;
		}
		n++;
		if (r == (ssize_t)chunk)
			wl_sync(&w);
	}
	/* a short write where the space ran out, then the error */
	if (r > 0) {
		written += (size_t)r;
		r = wr(&w, f[n - 1], written, chunk, (unsigned)(n - 1));
	}
	assert_int_equal(r, -ENOSPC);
	{	/* what the failed write may have left past what it wrote */
		struct e4_ino *ip = get(&w, cl_cur_path(w.m, f[n - 1]));

		assert_int_equal(e4_truncate(w.fs, ip, written), 0);
		cl_truncate(w.m, f[n - 1], written);
		e4_iput(w.fs, ip);
	}
	wl_sync(&w);
	for (size_t i = 1; i < 4; i += 2) {	/* room again */
		struct e4_ino *root = get(&w, "/");
		const char *name = cl_cur_path(w.m, f[i]) + 1;

		assert_int_equal(e4_unlink(w.fs, root, name, strlen(name)), 0);
		cl_path(w.m, f[i], NULL);
		e4_iput(w.fs, root);
	}
	wl_sync(&w);
	f[n] = mkfile(&w, "/again", 0, 0);
	cl_loose(w.m, f[n]);
	for (size_t c = 0; c < 4; c++)
		assert_int_equal(wr(&w, f[n], c * chunk, chunk,
				    (unsigned)(900 + c)), (ssize_t)chunk);
	wl_sync(&w);
	assert_int_equal(wr(&w, f[n - 1], written, chunk, 999),
			 (ssize_t)chunk);
	wl_sync(&w);
	print_message("enospc.img: %zu files of 512 KiB filled it\n", n - 1);
	wl_end(&w);
	wl_cut(&w, &plan);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fsync_heavy),
		cmocka_unit_test(test_rename_heavy),
		cmocka_unit_test(test_dir_growth),
		cmocka_unit_test(test_enospc),
	};

	return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}
