/* SPDX-License-Identifier: MIT */
/*
 * fuse-iomap against the classic path, through the kernel model
 * (tests/iomap/kmodel.h): no kernel here has fuse-iomap, so this measures
 * what e4fuse's side costs: requests per workload, and the time of the
 * workload as the model plays it (e4fuse's engine over a socket, the
 * model doing the data I/O on the image itself for iomap, e4fuse doing it
 * for READ and WRITE).  The model's classic path has no page cache and
 * moves at most 64 KiB per READ or WRITE (the real kernel: up to 1 MiB,
 * and a page cache), so its request counts are an upper bound: compare
 * the kinds of requests, and the time per MiB, not the totals alone.
 *
 * bench/iomap-bench.sh runs it and writes the results file; it can be run
 * by hand: bench/iomap-bench [MiB] (the sequential file's size, default
 * 64).  Built with make check (never run by it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "e4/write.h"
#include "kmodel.h"
#include "testutil.h"

#define MIB (1u << 20)
#define SMALL_FILES 48u		/* the model keeps 64 inodes */
#define RANDOM_IOS 4000u

static unsigned seq_mib = 64;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* ---- one run: a workload on a fresh model, iomap or classic ------------------- */

struct run {
	const char *workload, *path;
	double seconds;
	uint64_t bytes;
	struct km_stats st;
};

static void report(const struct run *r)
{
	double mib = (double)r->bytes / MIB;

	printf("| %s | %s | %.3f | %.1f | %u | %u | %u | %u | %u | %u | %u |\n",
	       r->workload, r->path, r->seconds,
	       r->seconds > 0 ? mib / r->seconds : 0.0, r->st.requests,
	       r->st.reads, r->st.writes, r->st.begins, r->st.ends,
	       r->st.ioends, r->st.cache_hits);
	fflush(stdout);
}

typedef uint64_t (*workload_fn)(struct kmodel *km, bool iomap, uint8_t *buf);

/* the file "seq" read in 1 MiB reads, start to end */
static uint64_t read_seq(struct kmodel *km, bool iomap, uint8_t *buf)
{
	int err;
	struct km_inode *ki = km_lookup(km, "seq", &err);
	uint64_t done = 0;

	assert_non_null(ki);
	for (uint64_t off = 0; off < ki->size; off += MIB) {
		ssize_t n = iomap ? km_read_buffered(km, ki, off, buf, MIB) :
				    km_read_classic(km, ki, off, buf, MIB);

		assert_true(n > 0);
		done += (uint64_t)n;
	}
	return done;
}

/* the same file twice: what a reread costs once mappings are known */
static uint64_t reread_seq(struct kmodel *km, bool iomap, uint8_t *buf)
{
	struct km_stats before;
	uint64_t n = read_seq(km, iomap, buf);

	before = km->st;
	n = read_seq(km, iomap, buf);
	/* only the second pass counts */
	km->st.requests -= before.requests;
	km->st.reads -= before.reads;
	km->st.begins -= before.begins;
	km->st.cache_hits -= before.cache_hits;
	return n;
}

/* 4 KiB at random places of the file "seq": direct reads, or buffered
 * overwrites and an fsync */
static uint64_t random_4k(struct kmodel *km, bool iomap, uint8_t *buf,
			  bool write)
{
	int err;
	struct km_inode *ki = km_lookup(km, "seq", &err);
	uint64_t x = 88172645463325252ull, blocks;

	assert_non_null(ki);
	blocks = ki->size / 4096;
	for (unsigned i = 0; i < RANDOM_IOS; i++) {
		uint64_t off = (rng_next(&x) % blocks) * 4096;
		ssize_t n =
			!write ? (iomap ? km_read_direct(km, ki, off, buf, 4096) :
				  km_read_classic(km, ki, off, buf, 4096)) :
			iomap ? km_write_buffered(km, ki, off, buf, 4096) :
				km_write_classic(km, ki, off, buf, 4096);

		assert_int_equal(n, 4096);
	}
	if (write)
		assert_int_equal(km_fsync(km, ki), 0);
	return (uint64_t)RANDOM_IOS * 4096;
}

static uint64_t read_random(struct kmodel *km, bool iomap, uint8_t *buf)
{
	return random_4k(km, iomap, buf, false);
}

static uint64_t read_small(struct kmodel *km, bool iomap, uint8_t *buf)
{
	uint64_t done = 0;

	for (unsigned i = 0; i < SMALL_FILES; i++) {
		int err;
		struct km_inode *ki = km_lookup(km, tu_msg("small/f%u", i),
						&err);
		ssize_t n;

		assert_non_null(ki);
		n = iomap ? km_read_buffered(km, ki, 0, buf, (size_t)ki->size) :
			    km_read_classic(km, ki, 0, buf, (size_t)ki->size);
		assert_int_equal(n, (ssize_t)ki->size);
		done += (uint64_t)n;
	}
	return done;
}

/* a new file written in 1 MiB writes (buffered, or @direct), then fsync */
static uint64_t write_new(struct kmodel *km, bool iomap, uint8_t *buf,
			  bool direct)
{
	int err;
	struct km_inode *ki = km_create(km, "new", &err);

	assert_non_null(ki);
	for (unsigned i = 0; i < seq_mib; i++) {
		uint64_t off = (uint64_t)i * MIB;
		ssize_t n = !iomap ? km_write_classic(km, ki, off, buf, MIB) :
			    direct ? km_write_direct(km, ki, off, buf, MIB) :
				     km_write_buffered(km, ki, off, buf, MIB);

		assert_int_equal(n, (ssize_t)MIB);
	}
	assert_int_equal(km_fsync(km, ki), 0);
	return (uint64_t)seq_mib * MIB;
}

static uint64_t write_seq(struct kmodel *km, bool iomap, uint8_t *buf)
{
	return write_new(km, iomap, buf, false);
}

static uint64_t write_direct(struct kmodel *km, bool iomap, uint8_t *buf)
{
	return write_new(km, iomap, buf, true);
}

static uint64_t overwrite_random(struct kmodel *km, bool iomap, uint8_t *buf)
{
	return random_4k(km, iomap, buf, true);
}

static const struct {
	const char *name;
	workload_fn fn;
	bool writes;
} workloads[] = {
	{ "seq-read (1 MiB reads)", read_seq, false },
	{ "reread (the same again)", reread_seq, false },
	{ "rand-4k-read (direct)", read_random, false },
	{ "small-files (48, 1-16 KiB)", read_small, false },
	{ "seq-write (1 MiB, fsync)", write_seq, true },
	{ "direct-write (1 MiB, fsync)", write_direct, true },
	{ "overwrite-4k (random, fsync)", overwrite_random, true },
};

static void one_run(const char *img, size_t w, bool iomap, uint8_t *buf)
{
	char *copy = tu_copy(img, iomap ? "run-iomap.img" : "run-classic.img");
	struct e4_fs *fs;
	struct kmodel km;
	struct run r = {
		.workload = workloads[w].name,
		.path = iomap ? "iomap" : "classic",
	};
	double t0;

	if (workloads[w].writes)
		fs = tu_open_rw(copy);
	else
		assert_int_equal(tu_open(copy, &fs), 0);
	km_start(&km, fs, copy, iomap);
	assert_int_equal(km.iomap, iomap);
	memset(&km.st, 0, sizeof(km.st));	/* INIT and CONFIG not counted */
	t0 = now();
	r.bytes = workloads[w].fn(&km, iomap, buf);
	r.seconds = now() - t0;
	r.st = km.st;
	km_stop(&km);
	if (workloads[w].writes) {
		tu_close_rw(fs);
		tu_fsck_clean(copy);
	} else {
		tu_close(fs);
	}
	report(&r);
	unlink(copy);
	free(copy);
}

static void bench(void **state)
{
	uint8_t *buf = malloc(MIB);
	char src[512], *img;

	(void)state;
	assert_non_null(buf);
	memset(buf, 0xa5, MIB);
	snprintf(src, sizeof(src), "%s/bench-src", tu_tmpdir());
	tu_sh("mkdir -p '%s/small' && head -c %uM /dev/urandom > '%s/seq'",
	      src, seq_mib, src);
	for (unsigned i = 0; i < SMALL_FILES; i++)
		tu_sh("head -c %u /dev/urandom > '%s/small/f%u'",
		      1024u + (i * 7919u) % (15u * 1024u), src, i);
	img = tu_mkfs("bench.img", "-b 4096", src,
		      tu_msg("%uM", 3 * seq_mib + 64));
	printf("| workload | path | seconds | MiB/s | requests | READ | WRITE "
	       "| BEGIN | END | IOEND | cache hits |\n"
	       "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t w = 0; w < sizeof(workloads) / sizeof(workloads[0]); w++) {
		one_run(img, w, false, buf);
		one_run(img, w, true, buf);
	}
	free(img);
	free(buf);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bench),
	};

	if (argc > 1)
		seq_mib = (unsigned)strtoul(argv[1], NULL, 10);
	if (seq_mib == 0 || seq_mib > 4096) {
		fprintf(stderr, "iomap-bench: MiB between 1 and 4096\n");
		return 2;
	}
	return tu_result(cmocka_run_group_tests(tests, NULL, NULL));
}
