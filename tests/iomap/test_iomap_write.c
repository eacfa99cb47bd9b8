/* SPDX-License-Identifier: MIT */
/*
 * fuse-iomap's write half, proven through the kernel model (kmodel.h):
 * no kernel here has fuse-iomap.  The same workloads (append, extend,
 * hole-fill, overwrite, random mixes of buffered, direct and mmap writes
 * with truncates, fallocates and fsyncs) run on two copies of an image,
 * one through iomap (the model writing the data to the image itself at
 * the addresses e4fuse gave, e4fuse allocating unwritten extents at BEGIN
 * and converting them at IOEND) and one through the classic WRITE path;
 * both must hold what a plain buffer holds, read back through the model,
 * then e2fsck -fn clean and read by the kernel's ext4.  The requests cost
 * what they should (a pure overwrite of a mapped file: none; a written
 * back range of unwritten blocks: one IOEND); a short write gives its
 * blocks back at END; running out of space is ENOSPC with nothing half
 * done; inline files are written through WRITE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e4/datazone.h"
#include "e4/write.h"
#include "kmodel.h"
#include "testutil.h"

/* ---- fixtures ----------------------------------------------------------------- */

static void fill_pattern(uint8_t *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 7;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)((x >> 16) | 1);
	}
}

static void write_file(const char *path, uint64_t off, size_t len,
		       uint32_t seed)
{
	uint8_t *buf = malloc(len);
	int fd = open(path, O_WRONLY | O_CREAT, 0644);

	assert_true(buf && fd >= 0);
	fill_pattern(buf, len, seed);
	assert_int_equal(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
	free(buf);
}

#define ISLAND (64u << 10)

static const char *source_tree(void)
{
	static char dir[512];

	if (dir[0])
		return dir;
	snprintf(dir, sizeof(dir), "%s/wsrc", tu_tmpdir());
	tu_sh("mkdir -p '%s'", dir);
	write_file(tu_msg("%s/tiny", dir), 0, 100, 1);
	write_file(tu_msg("%s/big", dir), 0, 1u << 20, 2);
	for (unsigned i = 0; i < 6; i++)
		write_file(tu_msg("%s/sparse", dir), 2ull * i * ISLAND, ISLAND,
			   10 + i);
	tu_sh("truncate -s %u '%s/sparse'", 12 * ISLAND + 777, dir);
	return dir;
}

/* ---- one workload on two images: iomap and classic ------------------------------ */

struct side {
	struct kmodel km;
	struct e4_fs *fs;
	char *img;
	struct km_inode *f;
};

struct pair {
	struct side io, cl;	/* through iomap; through WRITE */
	uint8_t *ref;		/* what the file must hold */
	size_t size, cap;
	const char *name;
};

static void side_start(struct side *sd, const char *img, bool iomap)
{
	sd->img = strdup(img);
	sd->fs = tu_open_rw(img);
	km_start(&sd->km, sd->fs, img, iomap);
	assert_int_equal(sd->km.iomap, iomap);
}

static struct km_inode *side_file(struct side *sd, const char *name,
				  bool create)
{
	int err;
	struct km_inode *ki = create ? km_create(&sd->km, name, &err) :
				       km_lookup(&sd->km, name, &err);

	assert_int_equal(err, 0);
	assert_non_null(ki);
	assert_int_equal(ki->iomap, sd->km.iomap);
	return ki;
}

static void ref_grow(struct pair *p, size_t size)
{
	if (size > p->cap) {
		size_t cap = size * 2;

		p->ref = realloc(p->ref, cap);
		assert_non_null(p->ref);
		p->cap = cap;
	}
	if (size > p->size)
		memset(p->ref + p->size, 0, size - p->size);
	p->size = size;
}

/* Start both sides on copies of @base; @name is looked up (its bytes
 * read as the reference) or created. */
static void pair_start(struct pair *p, const char *base, const char *tag,
		       const char *name, bool create)
{
	char *a = tu_copy(base, tu_msg("%s-iomap.img", tag));
	char *b = tu_copy(base, tu_msg("%s-classic.img", tag));

	memset(p, 0, sizeof(*p));
	p->name = name;
	ref_grow(p, 1);		/* never NULL, even when empty */
	p->size = 0;
	side_start(&p->io, a, true);
	side_start(&p->cl, b, false);
	p->io.f = side_file(&p->io, name, create);
	p->cl.f = side_file(&p->cl, name, create);
	ref_grow(p, (size_t)p->cl.f->size);
	if (p->size)
		assert_int_equal(km_read_classic(&p->cl.km, p->cl.f, 0, p->ref,
						 p->size), (ssize_t)p->size);
	free(a);
	free(b);
}

/* W_SHORT: a buffered write whose user buffer faults halfway (the
 * classic side writes what the iomap side could) */
enum wkind { W_BUFFERED, W_DIRECT, W_MMAP, W_SHORT };

static void pair_write(struct pair *p, uint64_t off, size_t len,
		       enum wkind k, uint32_t seed)
{
	uint8_t *buf = malloc(len);
	ssize_t n;

	assert_non_null(buf);
	fill_pattern(buf, len, seed);
	if (k == W_SHORT) {
		size_t copied = len / 2 + 1;

		n = km_write_buffered_short(&p->io.km, p->io.f, off, buf, len,
					    copied);
		assert_int_equal(n, (ssize_t)copied);
		len = copied;
	}
	switch (k) {
	case W_SHORT:
		break;
	case W_DIRECT:
		n = km_write_direct(&p->io.km, p->io.f, off, buf, len);
		break;
	case W_MMAP:
		n = km_mmap_write(&p->io.km, p->io.f, off, buf, len);
		break;
	default:
		n = km_write_buffered(&p->io.km, p->io.f, off, buf, len);
	}
	if (n != (ssize_t)len)
		fail_msg("%s: iomap write kind %d [%llu, +%zu): %zd", p->name,
			 k, (unsigned long long)off, len, n);
	assert_int_equal(km_write_classic(&p->cl.km, p->cl.f, off, buf, len),
			 (ssize_t)len);
	if (off + len > p->size)
		ref_grow(p, (size_t)(off + len));
	memcpy(p->ref + off, buf, len);
	free(buf);
}

static void pair_truncate(struct pair *p, uint64_t size)
{
	struct fuse_setattr_in in = { .valid = FATTR_SIZE, .size = size };
	struct fuse_attr_out out;

	assert_int_equal(km_truncate(&p->io.km, p->io.f, size), 0);
	assert_int_equal(km_call(&p->cl.km, FUSE_SETATTR, p->cl.f->nodeid,
				 &in, sizeof(in), &out, sizeof(out)), 0);
	p->cl.f->size = size;
	if (size < p->size)
		p->size = (size_t)size;
	else
		ref_grow(p, (size_t)size);
}

static void pair_fallocate(struct pair *p, unsigned mode, uint64_t off,
			   uint64_t len)
{
	struct fuse_fallocate_in in = { .offset = off, .length = len,
					.mode = mode };

	assert_int_equal(km_fallocate(&p->io.km, p->io.f, mode, off, len), 0);
	assert_int_equal(km_call(&p->cl.km, FUSE_FALLOCATE, p->cl.f->nodeid,
				 &in, sizeof(in), NULL, 0), 0);
	if (mode & (E4_FALLOC_PUNCH_HOLE | E4_FALLOC_ZERO_RANGE)) {
		uint64_t end = off + len < p->size ? off + len : p->size;

		if (off < end)
			memset(p->ref + off, 0, end - off);
	}
	if (!(mode & E4_FALLOC_KEEP_SIZE) && off + len > p->size) {
		ref_grow(p, (size_t)(off + len));
		p->cl.f->size = off + len;
	}
}

/* Both sides read back whole: the reference's bytes. */
static void pair_check(struct pair *p)
{
	uint8_t *buf = malloc(p->size + 4096);

	assert_non_null(buf);
	assert_int_equal(p->io.f->size, p->size);
	assert_int_equal(km_read_buffered(&p->io.km, p->io.f, 0, buf, p->size),
			 (ssize_t)p->size);
	if (memcmp(buf, p->ref, p->size))
		fail_msg("%s: the iomap side reads other bytes", p->name);
	assert_int_equal(km_read_classic(&p->cl.km, p->cl.f, 0, buf, p->size),
			 (ssize_t)p->size);
	if (memcmp(buf, p->ref, p->size))
		fail_msg("%s: the classic side reads other bytes", p->name);
	free(buf);
}

/* fsync, unmount, then e2fsck and the kernel's ext4 on both images. */
static void pair_finish(struct pair *p)
{
	struct side *sides[2] = { &p->io, &p->cl };
	char *ref = strdup(tu_msg("%s/ref-%s.bin", tu_tmpdir(), p->name));
	int fd = open(ref, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p->ref, p->size), (ssize_t)p->size);
	close(fd);
	assert_int_equal(km_fsync(&p->io.km, p->io.f), 0);
	/* every byte on the disk now: the direct read goes there */
	assert_int_equal(p->io.f->disk_size, p->size);
	pair_check(p);
	for (int i = 0; i < 2; i++) {
		struct side *sd = sides[i];

		km_stop(&sd->km);
		tu_close_rw(sd->fs);
		tu_fsck_clean(sd->img);
		tu_kernel_expect(sd->img,
				 tu_msg("cmp \"$m/%s\" '%s'", p->name, ref));
		free(sd->img);
	}
	free(ref);
	free(p->ref);
}

/* ---- the workloads ------------------------------------------------------------------ */

static uint32_t rnd(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return *x >> 8;
}

static void workload_append(const char *img, uint32_t bs)
{
	struct pair p;
	uint32_t x = 5;

	pair_start(&p, img, "append", "appended", true);
	for (int i = 0; i < 40; i++) {
		pair_write(&p, p.size, 1 + rnd(&x) % 20000, W_BUFFERED,
			   (uint32_t)i);
		if (i % 10 == 9)
			assert_int_equal(km_writeback(&p.io.km, p.io.f, 0,
						      UINT64_MAX), 0);
	}
	/* block-aligned direct appends after an aligned truncate */
	pair_truncate(&p, (p.size + bs - 1) / bs * bs);
	for (int i = 0; i < 4; i++)
		pair_write(&p, p.size, (1 + rnd(&x) % 8) * bs, W_DIRECT,
			   100u + (uint32_t)i);
	pair_check(&p);
	pair_finish(&p);
}

static void workload_extend(const char *img, uint32_t bs)
{
	struct pair p;

	pair_start(&p, img, "extend", "extended", true);
	pair_write(&p, 0, 5000, W_BUFFERED, 1);
	pair_write(&p, 100000, 3000, W_BUFFERED, 2);	/* past EOF */
	pair_truncate(&p, 300000);			/* grow */
	pair_write(&p, 250001, 7000, W_BUFFERED, 3);
	pair_write(&p, 4000, 2000, W_MMAP, 4);
	pair_check(&p);
	pair_truncate(&p, 123457);			/* shrink */
	pair_write(&p, 1u << 20, 4u * bs, W_DIRECT, 5);	/* past EOF */
	pair_write(&p, 123000, 1000, W_BUFFERED, 6);
	/* a short write into a hole: END gives back the fresh blocks the
	 * copy did not reach */
	pair_write(&p, 400000, 50000, W_SHORT, 7);
	assert_int_equal(atomic_load(&p.io.km.s.iomap->releases), 1);
	pair_check(&p);
	pair_finish(&p);
}

static void workload_holefill(const char *img, uint32_t bs)
{
	struct pair p;

	pair_start(&p, img, "holes", "sparse", false);
	for (unsigned i = 0; i < 5; i++) {
		uint64_t hole = (2ull * i + 1) * ISLAND;

		pair_write(&p, hole + 100 * i, 3000, W_BUFFERED, 20 + i);
		pair_write(&p, hole + ISLAND / 2, 2 * bs, W_DIRECT, 30 + i);
		pair_write(&p, hole + ISLAND - 10, 20, W_BUFFERED, 40 + i);
	}
	pair_write(&p, 11 * ISLAND + 5, 100, W_MMAP, 50);
	pair_check(&p);
	pair_finish(&p);
}

static void workload_overwrite(const char *img, uint32_t bs)
{
	struct pair p;
	uint32_t x = 9;

	pair_start(&p, img, "over", "big", false);
	for (int i = 0; i < 30; i++) {
		size_t len = 1 + rnd(&x) % 30000;
		uint64_t off = rnd(&x) % (p.size - len);
		enum wkind k = (enum wkind)(i % 3);

		if (k == W_DIRECT) {
			off = off / bs * bs;
			len = (len + bs - 1) / bs * bs;
		}
		pair_write(&p, off, len, k, 60u + (uint32_t)i);
	}
	pair_check(&p);
	pair_finish(&p);
}

static void workload_random(const char *img, uint32_t bs, uint32_t seed,
			    int ops)
{
	const uint64_t max = 2u << 20;
	struct pair p;
	uint32_t x = seed;

	pair_start(&p, img, "random", "random", true);
	for (int i = 0; i < ops; i++) {
		uint32_t what = rnd(&x) % 16;
		uint64_t off = rnd(&x) % max, len = 1 + rnd(&x) % 40000;

		if (off + len > max)
			len = max - off;
		if (what < 6) {
			pair_write(&p, off, (size_t)len,
				   what == 5 ? W_SHORT : W_BUFFERED,
				   seed + (uint32_t)i);
		} else if (what < 8) {
			off = off / bs * bs;
			len = (len + bs - 1) / bs * bs;
			if (off + len > max)
				continue;
			pair_write(&p, off, (size_t)len, W_DIRECT,
				   seed + (uint32_t)i);
		} else if (what < 9) {
			if (p.size < 2)
				continue;
			off %= p.size;
			if (len > p.size - off)
				len = p.size - off;
			pair_write(&p, off, (size_t)len, W_MMAP,
				   seed + (uint32_t)i);
		} else if (what < 10) {
			pair_truncate(&p, rnd(&x) % max);
		} else if (what < 11) {
			pair_fallocate(&p, E4_FALLOC_PUNCH_HOLE |
				       E4_FALLOC_KEEP_SIZE, off, len);
		} else if (what < 12) {
			pair_fallocate(&p, E4_FALLOC_ZERO_RANGE, off, len);
		} else if (what < 13) {
			pair_fallocate(&p, E4_FALLOC_KEEP_SIZE, off, len);
		} else if (what < 14) {
			pair_fallocate(&p, 0, off, len);
		} else if (what < 15) {
			assert_int_equal(km_writeback(&p.io.km, p.io.f, 0,
						      UINT64_MAX), 0);
		} else {
			assert_int_equal(km_fsync(&p.io.km, p.io.f), 0);
			pair_check(&p);
		}
	}
	pair_check(&p);
	pair_finish(&p);
}

/* The random mix's seed and length: @seed and @ops, or longer runs by
 * hand (E4_IOMAP_WRITE_SEED, E4_IOMAP_WRITE_OPS). */
static void random_run(const char *img, uint32_t bs, uint32_t seed, int ops)
{
	const char *e = getenv("E4_IOMAP_WRITE_SEED");

	if (e)
		seed = (uint32_t)strtoul(e, NULL, 0);
	e = getenv("E4_IOMAP_WRITE_OPS");
	if (e)
		ops = atoi(e);
	workload_random(img, bs, seed, ops);
}

static void workloads(const char *name, const char *args)
{
	char *img = tu_mkfs(name, args, source_tree(), "32M");
	uint32_t bs = tu_block_size(img);

	workload_append(img, bs);
	workload_extend(img, bs);
	workload_holefill(img, bs);
	workload_overwrite(img, bs);
	random_run(img, bs, 1, 150);
	free(img);
}

static void test_workloads_4k(void **state)
{
	(void)state;
	workloads("w4k.img", "-b 4096");
}

static void test_workloads_1k(void **state)
{
	(void)state;
	workloads("w1k.img", "-b 1024");
}

static void test_workloads_bigalloc(void **state)
{
	(void)state;
	char *img = tu_mkfs("wbig.img", "-b 4096 -O bigalloc -C 16384",
			    source_tree(), "64M");

	workload_holefill(img, 4096);
	random_run(img, 4096, 7, 120);
	free(img);
}


/* ---- request counts ------------------------------------------------------------------ */

static uint64_t free_blocks(struct kmodel *km)
{
	struct fuse_statfs_out out;

	assert_int_equal(km_call(km, FUSE_STATFS, 1, NULL, 0, &out,
				 sizeof(out)), 0);
	return out.st.bfree;
}

static void test_request_counts(void **state)
{
	(void)state;
	char *img = tu_mkfs("counts-w.img", "-b 4096", source_tree(), "32M");
	struct e4_fs *fs = tu_open_rw(img);
	struct kmodel km;
	struct km_inode *big, *seq;
	struct km_extent ext[8];
	struct km_stats before;
	uint8_t *buf = malloc(1u << 20), *back = malloc(1u << 20);
	int err, n;

	assert_true(buf && back);
	km_start(&km, fs, img, true);
	big = km_lookup(&km, "big", &err);
	assert_non_null(big);

	/* a pure overwrite of a mapped file: once the mapping is known
	 * (one read), no upcall at all, buffered, faulted, direct or at
	 * writeback */
	assert_int_equal(km_read_buffered(&km, big, 0, back, 1u << 20),
			 1 << 20);
	before = km.st;
	fill_pattern(buf, 1u << 20, 77);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(km_write_buffered(&km, big, i * 100000 + 7,
						   buf + i, 30000), 30000);
	assert_int_equal(km_mmap_write(&km, big, 900001, buf, 5000), 5000);
	assert_int_equal(km_writeback(&km, big, 0, UINT64_MAX), 0);
	assert_int_equal(km_write_direct(&km, big, 8192, buf, 65536), 65536);
	assert_int_equal(km.st.begins, before.begins);
	assert_int_equal(km.st.ends, before.ends);
	assert_int_equal(km.st.ioends, before.ioends);
	assert_int_equal(atomic_load(&km.s.iomap->allocs), 0);

	/* a new file written in 64 KiB pieces: a BEGIN allocating each
	 * (and an END: the size changed), writeback from the cache, then
	 * one IOEND per written back range that the device holds in one
	 * piece, each converting it */
	seq = km_create(&km, "seq", &err);
	assert_non_null(seq);
	before = km.st;
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(km_write_buffered(&km, seq, i * 65536ull,
						   buf + i * 65536, 65536),
				 65536);
	assert_int_equal(km.st.begins - before.begins, 16);
	assert_int_equal(km.st.ends - before.ends, 16);
	assert_int_equal(atomic_load(&km.s.iomap->allocs), 16);
	before = km.st;
	assert_int_equal(km_writeback(&km, seq, 0, UINT64_MAX), 0);
	assert_int_equal(km.st.begins, before.begins);
	n = km_fiemap(&km, seq, ext, 8);
	assert_true(n >= 1 && n <= 2);
	assert_false(ext[0].unwritten);
	assert_int_equal(km.st.ioends - before.ioends, (unsigned)n);
	assert_int_equal(atomic_load(&km.s.iomap->conversions), (unsigned)n);
	assert_int_equal(seq->disk_size, 1u << 20);
	/* and the data is where the mapping says */
	assert_int_equal(km_read_direct(&km, seq, 0, back, 1u << 20), 1 << 20);
	assert_memory_equal(back, buf, 1u << 20);

	/* a direct write past EOF: one BEGIN allocating, one IOEND
	 * converting and moving the size; no END */
	before = km.st;
	assert_int_equal(km_write_direct(&km, seq, 2u << 20, buf, 65536),
			 65536);
	assert_int_equal(km.st.begins - before.begins, 1);
	assert_int_equal(km.st.ioends - before.ioends, 1);
	assert_int_equal(km.st.ends, before.ends);
	assert_int_equal(seq->disk_size, (2u << 20) + 65536);
	km_stop(&km);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	free(buf);
	free(back);
	free(img);
}

/* ---- END ------------------------------------------------------------------------------ */

static void send_end(struct kmodel *km, struct km_inode *ki, uint64_t count,
		     uint64_t written, const struct e4f_iomap_io *map)
{
	struct e4f_iomap_end_in in = {
		.opflags = E4F_IOMAP_OP_WRITE, .attr_ino = ki->attr_ino,
		.pos = 0, .count = count, .written = (int64_t)written,
		.map = *map,
	};

	assert_int_equal(km_call(km, E4F_OP_IOMAP_END, ki->nodeid, &in,
				 sizeof(in), NULL, 0), 0);
}

/* A short write into blocks its BEGIN allocated: END gives the whole
 * blocks past what was written back; blocks it did not allocate stay. */
static void test_end_gives_back(void **state)
{
	(void)state;
	char *img = tu_mkfs("end.img", "-b 4096", source_tree(), "32M");
	struct e4_fs *fs = tu_open_rw(img);
	struct kmodel km;
	struct km_inode *ki;
	struct e4f_iomap_io src, dst;
	uint64_t free0;
	unsigned invals;
	int err;

	km_start(&km, fs, img, true);
	ki = km_create(&km, "short", &err);
	assert_non_null(ki);
	free0 = free_blocks(&km);
	assert_int_equal(km_begin(&km, ki, E4F_IOMAP_OP_WRITE, 0, 8 * 4096,
				  &src, &dst), 0);
	assert_int_equal(src.type, E4F_IOMAP_TYPE_UNWRITTEN);
	assert_true(src.flags & E4F_IOMAP_F_NEW);
	assert_int_equal(src.length, 8 * 4096);
	assert_int_equal(free_blocks(&km), free0 - 8);
	invals = km.st.invals;
	/* 2 blocks and 100 bytes written: blocks 3..7 go */
	send_end(&km, ki, 8 * 4096, 2 * 4096 + 100, &dst);
	km_poll_notifications(&km);
	assert_int_equal(km.st.invals, invals + 1);
	assert_int_equal(free_blocks(&km), free0 - 3);
	/* preallocated blocks (no F_NEW at BEGIN) are the file's: kept */
	assert_int_equal(km_fallocate(&km, ki, E4_FALLOC_KEEP_SIZE, 65536,
				      65536), 0);
	free0 = free_blocks(&km);
	assert_int_equal(km_begin(&km, ki, E4F_IOMAP_OP_WRITE, 65536, 65536,
				  &src, &dst), 0);
	assert_int_equal(src.type, E4F_IOMAP_TYPE_UNWRITTEN);
	assert_false(src.flags & E4F_IOMAP_F_NEW);
	send_end(&km, ki, 65536, 0, &dst);
	assert_int_equal(free_blocks(&km), free0);
	km_stop(&km);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	free(img);
}

/* ---- out of space ----------------------------------------------------------------------- */

/* Fill a small file system through iomap: ENOSPC at a BEGIN, what was
 * written before it intact, e2fsck clean, and the classic path agrees
 * on the error. */
static void test_enospc(void **state)
{
	(void)state;
	char *img = tu_mkfs("full.img", "-b 4096", source_tree(), "8M");
	char *ref = strdup(tu_msg("%s/full-ref.bin", tu_tmpdir()));
	struct e4_fs *fs = tu_open_rw(img);
	struct kmodel km;
	struct km_inode *ki;
	uint8_t *buf = malloc(1u << 20);
	uint64_t off = 0;
	ssize_t n = 0;
	int err, fd;

	assert_non_null(buf);
	fill_pattern(buf, 1u << 20, 3);
	km_start(&km, fs, img, true);
	ki = km_create(&km, "filler", &err);
	assert_non_null(ki);
	while (off < (16u << 20)) {
		n = km_write_buffered(&km, ki, off, buf + off % (1u << 19),
				      256u << 10);
		if (n < 0)
			break;
		off += (uint64_t)n;
	}
	assert_int_equal(n, -ENOSPC);
	assert_true(off > (1u << 20));
	/* a direct write finds no room either */
	assert_int_equal(km_write_direct(&km, ki, 64u << 20, buf, 65536),
			 -ENOSPC);
	/* everything written before is there, converted */
	assert_int_equal(km_fsync(&km, ki), 0);
	assert_int_equal(ki->disk_size, off);
	km_stop(&km);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	fd = open(ref, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	for (uint64_t o = 0; o < off;) {
		size_t len = off - o < (256u << 10) ? (size_t)(off - o) :
			     256u << 10;

		assert_int_equal(write(fd, buf + o % (1u << 19), len),
				 (ssize_t)len);
		o += len;
	}
	close(fd);
	tu_kernel_expect(img, tu_msg("cmp \"$m/filler\" '%s'", ref));

	/* the classic path: the same error */
	free(img);
	img = tu_mkfs("full-classic.img", "-b 4096", source_tree(), "8M");
	fs = tu_open_rw(img);
	km_start(&km, fs, img, false);
	ki = km_create(&km, "filler", &err);
	assert_non_null(ki);
	for (off = 0; off < (16u << 20); off += (uint64_t)n) {
		n = km_write_classic(&km, ki, off, buf, 256u << 10);
		if (n <= 0)
			break;
	}
	assert_int_equal(n, -ENOSPC);
	km_stop(&km);
	tu_close_rw(fs);
	tu_fsck_clean(img);
	free(ref);
	free(buf);
	free(img);
}

/* ---- inline data (§10.9) ------------------------------------------------------------------ */

static void test_inline_write(void **state)
{
	(void)state;
	char *img = tu_mkfs("inline-w.img", "-b 4096 -O inline_data -I 256",
			    source_tree(), "32M");
	struct pair p;
	struct km_extent ext[2];
	unsigned begins, writes;

	pair_start(&p, img, "inline", "tiny", false);
	/* within the inode: INLINE both halves, READ then WRITE (fh 0) */
	begins = p.io.km.st.begins;
	writes = p.io.km.st.inline_writes;
	pair_write(&p, 10, 50, W_BUFFERED, 1);
	assert_int_equal(p.io.km.st.inline_writes - writes, 1);
	assert_true(p.io.km.st.begins - begins >= 1);
	assert_int_equal(p.io.km.st.ends, 0);	/* none for inline data */
	pair_check(&p);
	assert_int_equal(km_fiemap(&p.io.km, p.io.f, ext, 2), 1);
	assert_true(ext[0].inline_data);	/* and cached so */
	/* a direct write past the first block: converted to an
	 * extent-mapped file, the kernel's inline record dropped though
	 * the write is elsewhere, the data through the device */
	writes = p.io.km.st.inline_writes;
	pair_write(&p, 8192, 4096, W_DIRECT, 5);
	pair_check(&p);
	pair_write(&p, 5000, 3000, W_BUFFERED, 3);
	pair_write(&p, 20, 100, W_BUFFERED, 4);	/* block-mapped now */
	assert_int_equal(p.io.km.st.inline_writes, writes);
	pair_check(&p);
	pair_finish(&p);
	free(img);
}

/* ---- hostile images ------------------------------------------------------------------------ */

/* /big's first extent moved onto the inode table: a write there is
 * refused (the kernel would overwrite metadata), never mapped, nothing
 * cached; e4fuse names the broken rule. */
static void test_hostile_write(void **state)
{
	(void)state;
	char *img = tu_mkfs("hostile-w.img", "-b 4096", source_tree(), "32M");
	uint32_t ino = tu_ino_of(img, "/big");
	uint64_t at = tu_inode_offset(img, ino);
	uint64_t itable = tu_inode_offset(img, 2) / 4096;
	struct e4_fs *fs;
	struct kmodel km;
	struct km_inode *ki;
	uint8_t buf[8192] = { 1 };
	int err;

	/* i_block: the 12-byte header, then ee_block, ee_len, start_hi,
	 * start_lo */
	assert_true(tu_peek_le32(img, at + 32) & 0x80000u);
	tu_patch_le16(img, at + 40 + 12 + 6, (uint16_t)(itable >> 32));
	tu_patch_le32(img, at + 40 + 12 + 8, (uint32_t)itable);
	tu_fix_inode_csum(img, ino);
	fs = tu_open_rw(img);
	tu_log_clear();
	km_start(&km, fs, img, true);
	ki = km_lookup(&km, "big", &err);
	assert_non_null(ki);
	assert_int_equal(km_write_buffered(&km, ki, 0, buf, sizeof(buf)),
			 -EUCLEAN);
	assert_int_equal(km_write_direct(&km, ki, 0, buf, sizeof(buf)),
			 -EUCLEAN);
	assert_int_equal(km_mmap_write(&km, ki, 100, buf, 10), -EUCLEAN);
	assert_int_equal(km.st.upserts, 0);
	tu_assert_rule(E4_RULE_DATA_ZONE, e4_obj_extent(ino, 0));
	km_stop(&km);
	/* nothing was changed: the session ends as any */
	tu_close_rw(fs);
	free(img);
}

/* ---- the per-inode flags (§7) ---------------------------------------------------------- */

/* No write of an iomap file passes e4fuse's checks: the kernel is told to
 * enforce append-only, immutable and sync itself. */
static void test_attr_flags(void **state)
{
	(void)state;
	char *img = tu_mkfs("flags-w.img", "-b 4096", source_tree(), "32M");
	static const struct {
		const char *path;
		uint32_t flags, want;
	} f[] = {
		{ "/big", 0x80020, E4F_ATTR_APPEND },		/* a */
		{ "/sparse", 0x80010, E4F_ATTR_IMMUTABLE },	/* i */
		{ "/tiny", 0x80008, E4F_ATTR_SYNC },		/* S */
	};
	struct e4_fs *fs;
	struct kmodel km;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		tu_debugfs(img, tu_msg("sif %s flags 0x%x", f[i].path,
				       f[i].flags));
	fs = tu_open_rw(img);
	km_start(&km, fs, img, true);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		struct e4_inode in;

		assert_int_equal(e4_inode_read(fs, tu_ino_of(img, f[i].path),
					       &in), 0);
		assert_int_equal(e4f_iomap_attr_flags(&km.s, &in),
				 E4F_ATTR_EXCLUSIVE | E4F_ATTR_IOMAP |
				 f[i].want);
	}
	/* the kernel keeps an iomap file's times and pushes mtime and ctime
	 * when it writes the inode back (§7): taken on an append-only file
	 * too, as the writeback cache's are; an explicit utimes is not */
	{
		struct fuse_setattr_in sa = {
			.valid = FATTR_MTIME | FATTR_CTIME,
			.mtime = 1700000000, .ctime = 1700000000,
		};
		struct fuse_attr_out ao;
		int err;
		struct km_inode *ki = km_lookup(&km, "big", &err);

		assert_non_null(ki);
		assert_int_equal(km_call(&km, FUSE_SETATTR, ki->nodeid, &sa,
					 sizeof(sa), &ao, sizeof(ao)), 0);
		sa.valid = FATTR_MTIME;
		assert_int_equal(km_call(&km, FUSE_SETATTR, ki->nodeid, &sa,
					 sizeof(sa), &ao, sizeof(ao)), -EPERM);
	}
	km_stop(&km);
	tu_close_rw(fs);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workloads_4k),
		cmocka_unit_test(test_workloads_1k),
		cmocka_unit_test(test_workloads_bigalloc),
		cmocka_unit_test(test_request_counts),
		cmocka_unit_test(test_end_gives_back),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_inline_write),
		cmocka_unit_test(test_hostile_write),
		cmocka_unit_test(test_attr_flags),
	};

	return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}
