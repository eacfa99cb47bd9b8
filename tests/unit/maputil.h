/* SPDX-License-Identifier: MIT */
/*
 * Shared by test_extent, test_blockmap and test_file: build source files with
 * a known layout of data and holes, and compare what e4fuse maps, reads and
 * seeks against the source file (content, SEEK_DATA/SEEK_HOLE) and against
 * debugfs (physical blocks).
 *
 * Include after testutil.h.
 */
#ifndef E4_TEST_MAPUTIL_H
#define E4_TEST_MAPUTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e4/e4.h"

/* Deterministic, never-zero bytes: a block of data is never mistaken for a
 * hole by mkfs -d. */
static inline uint8_t mu_byte(uint64_t off)
{
	uint64_t x = off * 0x9E3779B97F4A7C15ull + 0x1234567ull;

	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 32;
	return (uint8_t)(x % 255u + 1u);
}

static inline int mu_create(const char *dir, const char *name)
{
	char path[1024];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		fail_msg("create %s: %s", path, strerror(errno));
	return fd;
}

/* Write [off, off+len) of the pattern. */
static inline void mu_write(int fd, uint64_t off, uint64_t len)
{
	uint8_t buf[65536];

	while (len > 0) {
		size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);

		for (size_t i = 0; i < n; i++)
			buf[i] = mu_byte(off + i);
		if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
			fail_msg("pwrite: %s", strerror(errno));
		off += n;
		len -= n;
	}
}

static inline void mu_finish(int fd, uint64_t size)
{
	if (ftruncate(fd, (off_t)size) != 0)
		fail_msg("ftruncate: %s", strerror(errno));
	close(fd);
}

/* A file of @chunks chunks of @chunk bytes, every other one written (the
 * first written), so each written chunk becomes its own extent. */
static inline void mu_make_alternating(const char *dir, const char *name,
				       uint64_t chunk, unsigned chunks)
{
	int fd = mu_create(dir, name);

	for (unsigned i = 0; i < chunks; i += 2)
		mu_write(fd, (uint64_t)i * chunk, chunk);
	mu_finish(fd, (uint64_t)chunks * chunk);
}

static inline void mu_make_contiguous(const char *dir, const char *name,
				      uint64_t size)
{
	int fd = mu_create(dir, name);

	mu_write(fd, 0, size);
	mu_finish(fd, size);
}

static inline uint8_t *mu_slurp(const char *path, uint64_t *size)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) != 0)
		fail_msg("open %s: %s", path, strerror(errno));
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		fail_msg("oom");
	if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size)
		fail_msg("read %s", path);
	close(fd);
	*size = (uint64_t)st.st_size;
	return buf;
}

static inline void mu_inode(struct e4_fs *fs, const char *img,
			    const char *path, struct e4_inode *inode)
{
	uint32_t ino = tu_ino_of(img, path);
	int ret = e4_inode_read(fs, ino, inode);

	if (ret != 0)
		fail_msg("e4_inode_read(%u) for %s: %d\n%s", ino, path, ret,
			 tu_log());
}

/* Whole-file read in one call and in odd-sized pieces, compared with the
 * source file; reads at and past EOF. */
static inline void mu_check_content(struct e4_fs *fs, const struct e4_inode *inode,
				    const char *host_path)
{
	uint64_t size;
	uint8_t *want = mu_slurp(host_path, &size);
	/* room for the whole file and for the largest piece below */
	uint8_t *got = malloc((size_t)size + 10000);
	uint64_t off;
	ssize_t n;

	assert_int_equal(inode->size, size);
	memset(got, 0xAA, (size_t)size + 100);
	n = e4_file_read(fs, inode, 0, got, (size_t)size + 100);
	if (n != (ssize_t)size)
		fail_msg("%s: read %zd of %llu bytes\n%s", host_path, n,
			 (unsigned long long)size, tu_log());
	if (memcmp(want, got, (size_t)size) != 0)
		fail_msg("%s: content differs", host_path);

	for (off = 0; off < size; off += 7777) {
		size_t len = 7777 + (off % 3) * 1000;

		memset(got, 0xAA, len);
		n = e4_file_read(fs, inode, off, got, len);
		if (len > size - off)
			len = (size_t)(size - off);
		assert_int_equal(n, (ssize_t)len);
		if (memcmp(want + off, got, len) != 0)
			fail_msg("%s: content differs at %llu+%zu", host_path,
				 (unsigned long long)off, len);
	}
	assert_int_equal(e4_file_read(fs, inode, size, got, 10), 0);
	assert_int_equal(e4_file_read(fs, inode, size + 5000, got, 10), 0);
	free(want);
	free(got);
}

/* e4_file_seek against lseek on the source file at @off. */
static inline void mu_seek_one(struct e4_fs *fs, const struct e4_inode *inode,
			       int fd, uint64_t off)
{
	static const int whence[2] = { SEEK_DATA, SEEK_HOLE };
	static const enum e4_seek_whence e4w[2] = { E4_SEEK_DATA, E4_SEEK_HOLE };

	for (int w = 0; w < 2; w++) {
		off_t host = lseek(fd, (off_t)off, whence[w]);
		int host_err = host < 0 ? -errno : 0;
		uint64_t res = ~0ull;
		int ret = e4_file_seek(fs, inode, off, e4w[w], &res);

		if (ret != host_err || (ret == 0 && res != (uint64_t)host))
			fail_msg("seek %s from %llu: e4 %d/%llu, host %d/%lld",
				 w ? "HOLE" : "DATA", (unsigned long long)off,
				 ret, (unsigned long long)res, host_err,
				 (long long)host);
	}
}

/* Compare seeks around every data/hole boundary of the source file, and
 * at a spread of other offsets. */
static inline void mu_check_seek(struct e4_fs *fs, const struct e4_inode *inode,
				 const char *host_path)
{
	int fd = open(host_path, O_RDONLY);
	struct stat st;
	uint64_t size, step;

	if (fd < 0 || fstat(fd, &st) != 0)
		fail_msg("open %s", host_path);
	size = (uint64_t)st.st_size;
	step = size / 500 + 1;
	for (uint64_t off = 0; off < size + step; off += step)
		mu_seek_one(fs, inode, fd, off);
	for (off_t pos = 0; pos < (off_t)size;) {
		off_t next = lseek(fd, pos, SEEK_HOLE);

		for (int d = -1; d <= 1; d++)
			if ((int64_t)next + d >= 0)
				mu_seek_one(fs, inode, fd, (uint64_t)(next + d));
		if (next >= (off_t)size)
			break;
		pos = lseek(fd, next, SEEK_DATA);
		if (pos < 0)
			break;
		for (int d = -1; d <= 1; d++)
			mu_seek_one(fs, inode, fd, (uint64_t)(pos + d));
	}
	mu_seek_one(fs, inode, fd, size - 1);
	mu_seek_one(fs, inode, fd, size);
	close(fd);
}

/* Runs from e4_map_block over the whole file, each checked with debugfs bmap
 * at its first, second and last block.  Also checks that runs are maximal:
 * a hole is never followed by a hole, and extents' mapped runs by a run
 * that continues them physically.  Returns the number of hole runs. */
static inline unsigned mu_check_map(struct e4_fs *fs, const struct e4_inode *inode,
				    const char *img, const char *path,
				    bool merged_runs)
{
	uint32_t bs = 1024u << (tu_peek_le32(img, 1024 + 0x18));
	uint64_t nblocks = (inode->size + bs - 1) / bs;
	char cmdfile[1024];
	FILE *f;
	struct probe {
		uint64_t lblk, want;
		enum e4_map_kind kind;
	} *probes = NULL;
	size_t nprobes = 0, cap = 0;
	struct e4_mapping prev = { .len = 0 };
	unsigned runs = 0, holes = 0;
	char *out, *line, *save;
	size_t k = 0;

	for (uint64_t lblk = 0; lblk < nblocks;) {
		struct e4_mapping m;
		int ret = e4_map_block(fs, inode, lblk, &m);

		if (ret != 0)
			fail_msg("%s: map %llu: %d\n%s", path,
				 (unsigned long long)lblk, ret, tu_log());
		assert_int_equal(m.lblk, lblk);
		assert_true(m.len >= 1);
		if (runs > 0 && prev.kind == E4_MAP_HOLE)
			assert_int_not_equal(m.kind, E4_MAP_HOLE);
		if (merged_runs && runs > 0 && prev.kind == m.kind &&
		    m.kind != E4_MAP_HOLE && prev.pblk + prev.len == m.pblk)
			fail_msg("%s: runs at %llu and %llu not merged", path,
				 (unsigned long long)prev.lblk,
				 (unsigned long long)m.lblk);
		uint64_t pts[3] = { 0, 1, m.len - 1 };
		for (int i = 0; i < 3; i++) {
			uint64_t at = pts[i];

			if (at >= m.len || m.lblk + at >= nblocks ||
			    (i > 0 && at == pts[i - 1]))
				continue;
			if (nprobes == cap) {
				cap = cap ? cap * 2 : 256;
				probes = realloc(probes, cap * sizeof(*probes));
			}
			probes[nprobes].lblk = m.lblk + at;
			probes[nprobes].want =
				m.kind == E4_MAP_HOLE ? 0 : m.pblk + at;
			probes[nprobes].kind = m.kind;
			nprobes++;
		}
		prev = m;
		runs++;
		holes += m.kind == E4_MAP_HOLE;
		lblk += m.len;
	}

	snprintf(cmdfile, sizeof(cmdfile), "%s/bmap.cmds", tu_tmpdir());
	f = fopen(cmdfile, "w");
	for (size_t i = 0; i < nprobes; i++)
		fprintf(f, "bmap \"%s\" %llu\n", path,
			(unsigned long long)probes[i].lblk);
	fclose(f);
	out = tu_sh_out("debugfs -f '%s' '%s' 2>/dev/null", cmdfile, img);
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long blk;

		if (strncmp(line, "debugfs:", 8) == 0)
			continue;
		if (k >= nprobes || sscanf(line, "%llu", &blk) != 1)
			fail_msg("%s: unexpected debugfs output: %s", path, line);
		if (blk != probes[k].want ||
		    (strstr(line, "uninit") != NULL) !=
			    (probes[k].kind == E4_MAP_UNWRITTEN))
			fail_msg("%s: lblk %llu: e4 kind %d pblk %llu, debugfs %s",
				 path, (unsigned long long)probes[k].lblk,
				 probes[k].kind,
				 (unsigned long long)probes[k].want, line);
		k++;
	}
	assert_int_equal(k, nprobes);
	free(out);
	free(probes);
	return holes;
}

/* Open @img, map logical block @lblk of inode @ino and expect @err with
 * a report of @rule about @obj; reading the file there must fail the same
 * way (a block's own verdict is remembered with it and not reported
 * again; what its place in the tree demands is checked on every walk). */
static inline void mu_expect_map_error(const char *img, uint32_t ino,
				       uint64_t lblk, int err,
				       enum e4_rule rule, struct e4_object obj)
{
	struct e4_fs *fs;
	struct e4_inode inode;
	struct e4_mapping m;
	uint8_t buf[4096];

	assert_int_equal(tu_open(img, &fs), 0);
	tu_log_clear();
	assert_int_equal(e4_inode_read(fs, ino, &inode), 0);
	assert_int_equal(e4_map_block(fs, &inode, lblk, &m), err);
	assert_true(tu_rule_reports(rule, obj) >= 1);
	assert_int_equal(e4_file_read(fs, &inode, lblk * tu_block_size(img),
				      buf, sizeof(buf)),
			 err);
	tu_close(fs);
}

#endif /* E4_TEST_MAPUTIL_H */
