/* SPDX-License-Identifier: MIT */
/*
 * The write harness (see write_fuzz.h): a whole image, made writable in
 * memory (the logging memory device, its log capped), then a fixed
 * sequence of changes through the write side: files created, written,
 * grown and truncated, a directory filled past a block and emptied, names
 * renamed and removed, in the root and in the first directories the image
 * has.  Whatever the image holds, the sequence must end without a crash, a
 * hang or a sanitizer report, inside the resource oracle's budgets;
 * refusing to write (a feature, a flag) or giving up with EUCLEAN/EROFS
 * are fine answers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e4/memdev.h"
#include "e4/write.h"
#include "ondisk/ondisk.h"
#include "resource.h"
#include "write_fuzz.h"

#define LOG_MAX (8u << 20)
#define DIRS_MAX 4u

static void quiet(void *ctx, enum e4_log_level level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

struct first_dirs {
	struct e4_fs *fs;
	uint32_t dir;
	uint32_t ino[DIRS_MAX];
	unsigned n;
};

static int pick_dir(void *ctx, const struct e4_dirent *d)
{
	struct first_dirs *f = ctx;

	if (d->ftype == E4_FT_DIR && d->name[0] != '.' && f->n < DIRS_MAX)
		f->ino[f->n++] = d->ino;
	return f->n == DIRS_MAX;
}

/* ---- judging (corpus runs) ------------------------------------------------- */

#define ZONE_GROUPS_MAX 4096u	/* corpus images are small; fuzz inputs too */

struct judge {
	struct e4_write_fuzz_result *res;
	uint64_t (*zone)[2];	/* fixed metadata runs of the image as it was */
	size_t nzone, cap;
};

static int zone_cb(void *ctx, uint32_t owner, enum e4_meta_kind kind,
		   uint64_t start, uint64_t count)
{
	struct judge *j = ctx;

	(void)owner;
	(void)kind;
	if (j->nzone == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 256;
		uint64_t (*z)[2] = realloc(j->zone, cap * sizeof(*z));

		if (!z)
			return -ENOMEM;
		j->zone = z;
		j->cap = cap;
	}
	j->zone[j->nzone][0] = start;
	j->zone[j->nzone++][1] = count;
	return 0;
}

static void zone_load(struct e4_fs *fs, struct judge *j)
{
	for (uint32_t g = 0; g < fs->group_count && g < ZONE_GROUPS_MAX; g++)
		if (e4_group_metadata(fs, g, E4_META_OWNED, zone_cb, j) ==
		    -ENOMEM)
			break;
}

static int overlap_cb(void *ctx, uint64_t pblk, uint64_t count, bool map_block)
{
	struct judge *j = ctx;

	(void)map_block;
	for (size_t i = 0; i < j->nzone; i++)
		if (pblk < j->zone[i][0] + j->zone[i][1] &&
		    j->zone[i][0] < pblk + count)
			j->res->overlaps++;
	return 0;
}

/* The blocks of @ip: none may be the image's metadata. */
static void judge_inode(struct e4_fs *fs, struct judge *j, struct e4_ino *ip)
{
	struct e4_inode in;

	if (!j || !j->res)
		return;
	e4_ino_snapshot(ip, &in);
	(void)e4_map_for_each_owned(fs, &in, overlap_cb, j);
}

/* The sequence in directory @dir. */
static void changes(struct e4_fs *fs, struct e4_ino *dir, struct judge *j)
{
	static const struct e4_cred cred = { 1000, 1000, 0 };
	static uint8_t buf[65536];
	struct e4_ino *f = NULL, *sub = NULL;
	char name[32];

	memset(buf, 'x', sizeof(buf));
	if (e4_mknod(fs, dir, "fz-file", 7, 0100644, 0, 0, &cred, &f) == 0) {
		(void)e4_write(fs, f, 0, buf, sizeof(buf));
		(void)e4_write(fs, f, 1u << 20, buf, 100);
		(void)e4_write(fs, f, 4096 * 3 + 7, buf, 5000);
		(void)e4_truncate(fs, f, 70000);
		judge_inode(fs, j, f);
		(void)e4_truncate(fs, f, 10);
		/* a value for an EA inode where the feature is on, which
		 * goes with the file (renamed over below) */
		(void)e4_setxattr(fs, f, "user.fz-big", buf, 10000, 0);
		e4_iput(fs, f);
	}
	/* the directory's own attributes, whatever the image holds there */
	(void)e4_setxattr(fs, dir, "user.fz-big", buf, 20000, 0);
	(void)e4_setxattr(fs, dir, "user.fz-small", buf, 10, 0);
	(void)e4_removexattr(fs, dir, "user.fz-big");
	if (e4_mkdir(fs, dir, "fz-dir", 6, 0755, &cred, &sub) == 0) {
		for (int i = 0; i < 150; i++) {
			snprintf(name, sizeof(name), "n-%04d-padding-name", i);
			if (e4_mknod(fs, sub, name, strlen(name), 0100600, 0, 0,
				     &cred, NULL) < 0)
				break;
		}
		judge_inode(fs, j, sub);
		for (int i = 0; i < 150; i += 2) {
			snprintf(name, sizeof(name), "n-%04d-padding-name", i);
			(void)e4_unlink(fs, sub, name, strlen(name));
		}
		(void)e4_rename(fs, dir, "fz-file", 7, sub, "moved", 5, 0);
		(void)e4_symlink(fs, sub, "link", 4, "../fz-file", 10, &cred,
				 NULL);
		(void)e4_rename(fs, sub, "link", 4, sub, "moved", 5,
				E4_RENAME_EXCHANGE);
		e4_iput(fs, sub);
	}
	(void)e4_rmdir(fs, dir, "fz-dir", 6);
}

int e4_fuzz_write(const uint8_t *data, size_t size,
		  struct e4_write_fuzz_result *res)
{
	struct e4_memdev_opts mo = { .log_max = LOG_MAX };
	struct e4_open_opts oo = { .log = quiet, .log_level = E4_LOG_ERROR };
	struct first_dirs fd = { 0 };
	struct judge j = { .res = res };
	struct e4_memdev *md;
	struct e4_dev *dev;
	struct e4_fs *fs;
	struct e4_ino *root;
	struct e4_inode rin;
	uint64_t fs_bytes;

	if (res)
		memset(res, 0, sizeof(*res));
	if (e4_memdev_create(data, size, &mo, &md, &dev) < 0)
		return 0;
	e4_res_begin(NULL, dev, "open", 0);
	if (e4_fs_open(dev, &oo, &fs) < 0) {
		e4_res_end(NULL);
		e4_dev_close(dev);
		e4_memdev_free(md);
		return 0;
	}
	e4_res_end(fs);
	if (res) {
		res->opened = true;
		zone_load(fs, &j);
	}
	fs_bytes = fs->blocks_count << fs->log_block_size;
	e4_res_begin(fs, NULL, "begin_write", 0);
	if (e4_fs_begin_write(fs, NULL) < 0) {
		e4_res_end(NULL);
		goto out;
	}
	e4_res_end(NULL);
	if (res)
		res->written = true;
	if (e4_iget(fs, E4_ROOT_INO, &root) == 0) {
		e4_ino_snapshot(root, &rin);
		e4_res_begin(fs, NULL, "changes", E4_ROOT_INO);
		changes(fs, root, &j);
		e4_res_end(NULL);
		fd.fs = fs;
		(void)e4_dir_iterate(fs, &rin, 0, pick_dir, &fd);
		e4_iput(fs, root);
	}
	for (unsigned i = 0; i < fd.n; i++) {
		struct e4_ino *dir;

		if (e4_iget(fs, fd.ino[i], &dir) < 0)
			continue;
		e4_res_begin(fs, NULL, "changes", fd.ino[i]);
		changes(fs, dir, &j);
		e4_res_end(NULL);
		e4_iput(fs, dir);
	}
	(void)e4_fs_end_write(fs);
out:
	e4_fs_close(fs);
	/* every byte written lies inside the file system */
	for (size_t i = 0; res && i < e4_memdev_log_length(md); i++) {
		struct e4_memdev_entry e;

		if (e4_memdev_log_entry(md, i, &e) == 0 &&
		    e.op == E4_MEMDEV_WRITE && e.off + e.len > fs_bytes)
			res->outside++;
	}
	e4_memdev_free(md);
	free(j.zone);
	return 0;
}
