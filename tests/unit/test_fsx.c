/* SPDX-License-Identifier: MIT */
/*
 * An fsx-style tester of the write side: one file and a model of it in
 * memory; random writes, truncates up and down, punched holes, zeroed,
 * collapsed and inserted ranges and preallocation, each followed by a read
 * of a random range checked against the model, and the whole file checked
 * now and then.  At the end (and at points along the way) the image is
 * closed, e2fsck -fn must find it clean, and it is reopened and checked
 * whole against the model.  make check runs a fixed set of seeds on three
 * layouts; E4_FSX_OPS=1000000 E4_FSX_SEED=N runs one long campaign.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e4/write.h"
#include "ondisk/ondisk.h"
#include "testutil.h"

#define MAX_SIZE (4u << 20)

struct fsx {
	const char *img;
	struct e4_fs *fs;
	struct e4_ino *ip;
	uint8_t *model;
	uint64_t size;
	uint32_t unit;		/* collapse/insert granule: the cluster */
	uint64_t rng, seed;
	unsigned long op;
	uint64_t max;		/* the file's size stays below it */
};

static uint64_t rnd(struct fsx *f)
{
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	return f->rng;
}

static uint64_t below(struct fsx *f, uint64_t n)
{
	return n ? rnd(f) % n : 0;
}

static void fsx_open(struct fsx *f)
{
	struct e4_open_opts o = { .read_only = false };
	struct e4_dev *dev;
	struct e4_ino *root;
	struct e4_inode rin;

	assert_int_equal(e4_dev_open_file(f->img, 0, 0, true, &dev), 0);
	assert_int_equal(tu_open_dev(dev, &o, &f->fs), 0);
	assert_int_equal(e4_fs_begin_write(f->fs, NULL), 0);
	f->unit = f->fs->block_size * f->fs->cluster_ratio;
	assert_int_equal(e4_iget(f->fs, E4_ROOT_INO, &root), 0);
	e4_ino_snapshot(root, &rin);
	if (e4_lookup(f->fs, &rin, "fsx", 3, &f->ip) == -ENOENT) {
		static const struct e4_cred cred = { 0, 0, 0 };

		assert_int_equal(e4_mknod(f->fs, root, "fsx", 3, 0100644, 0, 0,
					  &cred, &f->ip), 0);
	}
	e4_iput(f->fs, root);
}

static void fsx_close(struct fsx *f)
{
	e4_iput(f->fs, f->ip);
	assert_int_equal(e4_fs_end_write(f->fs), 0);
	tu_close(f->fs);
	f->fs = NULL;
}

static void fail_at(struct fsx *f, const char *what, uint64_t off, uint64_t len)
{
	fail_msg("seed %llu, op %lu: %s at %llu+%llu (size %llu)",
		 (unsigned long long)f->seed, f->op, what,
		 (unsigned long long)off, (unsigned long long)len,
		 (unsigned long long)f->size);
}

static void check_range(struct fsx *f, uint64_t off, uint64_t len)
{
	static uint8_t buf[1u << 16];
	struct e4_inode in;

	e4_ino_snapshot(f->ip, &in);
	if (in.size != f->size)
		fail_at(f, "size differs", in.size, f->size);
	while (len) {
		size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		ssize_t got = e4_file_read(f->fs, &in, off, buf, n);
		size_t want = off >= f->size ? 0 :
			      (size_t)(f->size - off < n ? f->size - off : n);

		if (got != (ssize_t)want)
			fail_at(f, "short read", off, n);
		if (want && memcmp(buf, f->model + off, want))
			fail_at(f, "data differs", off, want);
		if (!want)
			break;
		off += want;
		len -= want;
	}
}

static void op_write(struct fsx *f)
{
	uint64_t off = below(f, f->max - 1);
	uint64_t len = 1 + below(f, f->max < 200000 ? f->max : 200000);
	uint8_t *buf;

	if (off + len > f->max)
		len = f->max - off;
	buf = malloc(len);
	for (uint64_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(rnd(f) >> 24);
	if (e4_write(f->fs, f->ip, off, buf, len) != (ssize_t)len)
		fail_at(f, "write", off, len);
	if (off > f->size)
		memset(f->model + f->size, 0, off - f->size);
	memcpy(f->model + off, buf, len);
	if (off + len > f->size)
		f->size = off + len;
	free(buf);
}

static void op_truncate(struct fsx *f)
{
	uint64_t size = below(f, f->max);

	/* a small file is emptied now and then: it may go inline again */
	if (f->max < MAX_SIZE && below(f, 4) == 0)
		size = 0;

	if (e4_truncate(f->fs, f->ip, size))
		fail_at(f, "truncate", size, 0);
	if (size > f->size)
		memset(f->model + f->size, 0, size - f->size);
	f->size = size;
}

static void op_fallocate(struct fsx *f)
{
	static const unsigned modes[] = {
		0, E4_FALLOC_KEEP_SIZE,
		E4_FALLOC_PUNCH_HOLE | E4_FALLOC_KEEP_SIZE,
		E4_FALLOC_ZERO_RANGE, E4_FALLOC_ZERO_RANGE | E4_FALLOC_KEEP_SIZE,
		E4_FALLOC_COLLAPSE_RANGE, E4_FALLOC_INSERT_RANGE,
	};
	unsigned mode = modes[below(f, sizeof(modes) / sizeof(modes[0]))];
	uint64_t off = below(f, f->max - 1);
	uint64_t len = 1 + below(f, f->max < 300000 ? f->max : 300000);
	int err;

	if (mode & (E4_FALLOC_COLLAPSE_RANGE | E4_FALLOC_INSERT_RANGE)) {
		off -= off % f->unit;
		len = (len + f->unit - 1) / f->unit * f->unit;
	}
	if (off + len > f->max)
		return;
	if (mode == E4_FALLOC_INSERT_RANGE && f->size + len > f->max)
		return;
	err = e4_fallocate(f->fs, f->ip, mode, off, len);
	if (mode & E4_FALLOC_COLLAPSE_RANGE) {
		if (off + len >= f->size) {
			if (err != -EINVAL)
				fail_at(f, "collapse past the end", off, len);
			return;
		}
		if (err)
			fail_at(f, "collapse", off, len);
		memmove(f->model + off, f->model + off + len,
			f->size - off - len);
		f->size -= len;
		return;
	}
	if (mode & E4_FALLOC_INSERT_RANGE) {
		if (off >= f->size) {
			if (err != -EINVAL)
				fail_at(f, "insert past the end", off, len);
			return;
		}
		if (err)
			fail_at(f, "insert", off, len);
		memmove(f->model + off + len, f->model + off, f->size - off);
		memset(f->model + off, 0, len);
		f->size += len;
		return;
	}
	if (err)
		fail_at(f, "fallocate", off, len);
	if (mode & (E4_FALLOC_PUNCH_HOLE | E4_FALLOC_ZERO_RANGE)) {
		uint64_t end = off + len;

		if (mode & E4_FALLOC_KEEP_SIZE && end > f->size)
			end = f->size;
		if (off < end)
			memset(f->model + off, 0, end - off);
	}
	if (!(mode & E4_FALLOC_KEEP_SIZE) && off + len > f->size) {
		memset(f->model + f->size, 0, off + len - f->size);
		f->size = off + len;
	}
}

/* The kernel reads the file as the model has it. */
static void kernel_reads_model(const struct fsx *f)
{
	char path[4096], checks[8192];
	FILE *out;

	snprintf(path, sizeof(path), "%s/fsx.model", tu_tmpdir());
	out = fopen(path, "wb");
	assert_non_null(out);
	assert_int_equal(fwrite(f->model, 1, f->size, out), f->size);
	assert_int_equal(fclose(out), 0);
	snprintf(checks, sizeof(checks), "cmp \"$m/fsx\" '%s'", path);
	tu_kernel_expect(f->img, checks);
}

static void run_max(const char *name, const char *mkfs_args, uint64_t seed,
		    unsigned long ops, uint64_t max)
{
	struct fsx f = { .max = max };

	f.img = tu_mkfs(name, mkfs_args, NULL, "64M");
	f.model = calloc(1, MAX_SIZE * 2);
	f.seed = seed;
	f.rng = seed * 2654435761u + 1;
	fsx_open(&f);
	for (f.op = 0; f.op < ops; f.op++) {
		uint64_t r = below(&f, 100);

		if (r < 55)
			op_write(&f);
		else if (r < 70)
			op_truncate(&f);
		else
			op_fallocate(&f);
		check_range(&f, below(&f, f.size + 1), 1 + below(&f, 100000));
		if (f.op % 500 == 499) {
			check_range(&f, 0, f.size);
			fsx_close(&f);
			tu_fsck_clean(f.img);
			fsx_open(&f);
			check_range(&f, 0, f.size);
		}
	}
	check_range(&f, 0, f.size);
	fsx_close(&f);
	tu_fsck_clean(f.img);
	kernel_reads_model(&f);
	free(f.model);
	free((char *)f.img);
}

static void run(const char *name, const char *mkfs_args, uint64_t seed,
		unsigned long ops)
{
	run_max(name, mkfs_args, seed, ops, MAX_SIZE);
}

static void test_fsx_4k(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 3; seed++)
		run("fsx4k.img", "-b 4096", seed, 1500);
}

static void test_fsx_1k(void **state)
{
	(void)state;
	for (uint64_t seed = 11; seed <= 12; seed++)
		run("fsx1k.img", "-b 1024", seed, 1500);
}

static void test_fsx_nocsum(void **state)
{
	(void)state;
	run("fsxnc.img", "-b 4096 -O ^metadata_csum", 21, 1500);
}

/* inline_data, a file of at most 160 bytes: it lives in its inode (128
 * bytes here) while it fits, goes to a block when it does not (or on any
 * fallocate), and comes back inline when emptied and written small again
 * (seed 41: some thirty times in place, twenty conversions) */
static void test_fsx_inline(void **state)
{
	(void)state;
	run_max("fsxinl.img", "-b 4096 -I 256 -O inline_data", 41, 1500, 160);
}

/* bigalloc: 4 blocks a cluster; partial clusters at every edge */
static void test_fsx_bigalloc(void **state)
{
	(void)state;
	run("fsxba.img", "-b 4096 -O bigalloc -C 16384", 31, 1500);
}

/* By hand, one long campaign instead of the fixed seeds:
 * E4_FSX_OPS=1000000 E4_FSX_SEED=7 [E4_FSX_MKFS="-b 1024"]
 * [E4_FSX_MAX=BYTES, the file's size limit, 4 MiB at most] test_fsx */
static void test_fsx_long(void **state)
{
	const char *seed = getenv("E4_FSX_SEED");
	const char *mkfs = getenv("E4_FSX_MKFS");
	const char *max = getenv("E4_FSX_MAX");
	uint64_t m = max ? strtoull(max, NULL, 10) : MAX_SIZE;

	(void)state;
	run_max("fsxlong.img", mkfs ? mkfs : "-b 4096",
		seed ? strtoull(seed, NULL, 10) : 1,
		strtoul(getenv("E4_FSX_OPS"), NULL, 10),
		m >= 2 && m <= MAX_SIZE ? m : MAX_SIZE);
}

int main(void)
{
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_fsx_4k),
		cmocka_unit_test(test_fsx_1k),
		cmocka_unit_test(test_fsx_nocsum),
		cmocka_unit_test(test_fsx_bigalloc),
		cmocka_unit_test(test_fsx_inline),
	};
	const struct CMUnitTest campaign[] = {
		cmocka_unit_test(test_fsx_long),
	};

	if (getenv("E4_FSX_OPS"))
		return tu_result(cmocka_run_group_tests(campaign, NULL, NULL));
	return tu_result(cmocka_run_group_tests(fixed, NULL, NULL));
}
