/* SPDX-License-Identifier: MIT */
/* The resource oracle (see resource.h). */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ondisk/ondisk.h"
#include "resource.h"

#if defined(__SANITIZE_ADDRESS__)
#define E4_RES_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define E4_RES_ASAN 1
#endif
#endif

/* ---- budgets --------------------------------------------------------------- */

static uint64_t heap_max;	/* bytes; 0: off */
static uint64_t heap_default_mb = E4_RES_HEAP_DEFAULT_MB;
static uint64_t work_max;	/* units; 0: off */
static uint64_t time_max_ns;	/* 0: off */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	char *end;

	if (!v || !*v)
		return dflt;
	unsigned long long n = strtoull(v, &end, 0);
	if (*end) {
		fprintf(stderr, "resource oracle: %s=%s is not a number\n", name, v);
		abort();
	}
	return n;
}

/* ---- the operation at hand ------------------------------------------------- */

static struct {
	const char *what;
	uint64_t arg;
	struct e4_fs *fs;	/* NULL while opening */
	struct e4_dev *dev;
	uint32_t block_size;
	uint64_t meta0, bytes0;
	uint64_t start_ns;
	uint64_t work_max;
} op;

/* The watchdog reads the operation (and its file system's counters) only
 * between setting `watching` and clearing it, and only while `active`; an
 * operation ends by clearing `active` and waiting for `watching` to clear,
 * so the caller may close the file system as soon as e4_res_end returns.
 * (Sequentially consistent atomics: either the watchdog sees the end or the
 * end sees the watchdog.)  No lock: the walker makes millions of calls. */
static atomic_bool active;	/* an operation is being measured */
static atomic_bool watching;	/* the watchdog is reading it */
static atomic_bool reporting;
static atomic_int_least64_t live;	/* heap bytes live (relative) */
static atomic_int_least64_t base;	/* live when the operation began */
static atomic_int_least64_t over_max;	/* peak of live - base in this op */

static struct e4_res_peak peak;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);	/* ms are plenty */
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Report without allocating: this may run inside malloc. */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (atomic_exchange(&reporting, true)) {
		for (;;)
			pause();	/* the other thread is aborting */
	}
	int n = snprintf(line, sizeof(line), "==e4fuse resource oracle== %s (arg %llu): ",
			 op.what ? op.what : "?", (unsigned long long)op.arg);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(2, line, (size_t)n);
	abort();
}

/* ---- heap ------------------------------------------------------------------ */

static void note_heap(int64_t delta)
{
	int64_t now = atomic_fetch_add_explicit(&live, delta, memory_order_relaxed) + delta;

	if (delta <= 0 || !atomic_load_explicit(&active, memory_order_relaxed))
		return;
	int64_t over = now - atomic_load_explicit(&base, memory_order_relaxed);
	int64_t seen = atomic_load_explicit(&over_max, memory_order_relaxed);
	while (over > seen &&
	       !atomic_compare_exchange_weak(&over_max, &seen, over))
		;
	if (heap_max && over > (int64_t)heap_max)
		die("%lld bytes of heap live above the start of the operation, budget %llu (E4_FUZZ_HEAP_MAX_MB)",
		    (long long)over, (unsigned long long)heap_max);
}

#if defined(E4_RES_NO_INTERPOSE)
/* linked into a tool that must keep its own malloc (the AFL++ mutator
 * library): no heap tracking */
static void heap_tracking_start(void)
{
}

#elif defined(E4_RES_ASAN)
/* <sanitizer/allocator_interface.h> comes with clang, not with gcc, whose
 * libasan has the same functions */
int __sanitizer_install_malloc_and_free_hooks(
	void (*malloc_hook)(const volatile void *, size_t),
	void (*free_hook)(const volatile void *));
size_t __sanitizer_get_allocated_size(const volatile void *p);

static void malloc_hook(const volatile void *p, size_t size)
{
	(void)p;
	note_heap((int64_t)size);
}

static void free_hook(const volatile void *p)
{
	if (p)
		note_heap(-(int64_t)__sanitizer_get_allocated_size(p));
}

static void heap_tracking_start(void)
{
	__sanitizer_install_malloc_and_free_hooks(malloc_hook, free_hook);
}

#else
/* Plain builds: the program's malloc family, forwarded to glibc's. */
#include <errno.h>
#include <malloc.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t size);

static void heap_tracking_start(void)
{
}

static void *noted(void *p)
{
	if (p)
		note_heap((int64_t)malloc_usable_size(p));
	return p;
}

void *malloc(size_t size)
{
	return noted(__libc_malloc(size));
}

void *calloc(size_t n, size_t size)
{
	return noted(__libc_calloc(n, size));
}

void free(void *p)
{
	if (p)
		note_heap(-(int64_t)malloc_usable_size(p));
	__libc_free(p);
}

void *realloc(void *p, size_t size)
{
	int64_t old = p ? (int64_t)malloc_usable_size(p) : 0;
	void *q = __libc_realloc(p, size);

	if (q) {
		note_heap(-old);
		noted(q);
	} else if (p && size == 0) {
		note_heap(-old);	/* freed */
	}
	return q;
}

void *memalign(size_t align, size_t size)
{
	return noted(__libc_memalign(align, size));
}

void *aligned_alloc(size_t align, size_t size)
{
	return noted(__libc_memalign(align, size));
}

int posix_memalign(void **out, size_t align, size_t size)
{
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	void *p = noted(__libc_memalign(align, size));
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}
#endif

/* ---- work ------------------------------------------------------------------ */

/* The device's counters: an open is watched like any operation, its file
 * system not existing yet does not hide its work. */
static void counters(struct e4_fs *fs, struct e4_dev *dev, uint64_t *meta,
		     uint64_t *bytes)
{
	struct e4_fs_counters c;

	if (fs)
		e4_fs_get_counters(fs, &c);
	else
		e4_dev_get_counters(dev, &c);
	*meta = c.meta_gets;
	*bytes = c.dev_read_bytes;
}

/* Work units of the operation so far. */
static uint64_t op_work(struct e4_fs *fs, uint64_t *meta, uint64_t *bytes)
{
	uint32_t bs = fs ? fs->block_size : op.block_size;

	counters(fs, op.dev, meta, bytes);
	*meta -= op.meta0;	/* the same device's counters throughout */
	*bytes -= op.bytes0;
	return *meta + (*bytes + bs - 1) / bs;
}

static void check_work(uint64_t work, uint64_t meta, uint64_t bytes)
{
	if (op.work_max && work > op.work_max)
		die("%llu work units (%llu metadata block lookups, %llu bytes read), budget %llu (E4_FUZZ_WORK_MAX%s)",
		    (unsigned long long)work, (unsigned long long)meta,
		    (unsigned long long)bytes, (unsigned long long)op.work_max,
		    op.work_max == work_max ? "" : " x E4_RES_FS_WIDE");
}

/* Polls the operation at hand, so one that would run for hours is stopped
 * at its budget. */
static void *watchdog(void *unused)
{
	(void)unused;
	for (;;) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		atomic_store(&watching, true);
		if (atomic_load(&active)) {
			uint64_t meta, bytes;
			uint64_t work = op_work(op.fs, &meta, &bytes);
			check_work(work, meta, bytes);
			uint64_t t = now_ns() - op.start_ns;
			if (time_max_ns && t > time_max_ns)
				die("still running after %llu ms, budget %llu (E4_FUZZ_OP_MS)",
				    (unsigned long long)(t / 1000000),
				    (unsigned long long)(time_max_ns / 1000000));
		}
		atomic_store(&watching, false);
	}
	return NULL;
}

static void init(void)
{
	pthread_t t;

	heap_max = env_u64("E4_FUZZ_HEAP_MAX_MB", heap_default_mb) << 20;
	work_max = env_u64("E4_FUZZ_WORK_MAX", E4_RES_WORK_DEFAULT);
	time_max_ns = env_u64("E4_FUZZ_OP_MS", E4_RES_OP_MS_DEFAULT) * 1000000u;
	heap_tracking_start();
	if ((work_max || time_max_ns) && pthread_create(&t, NULL, watchdog, NULL) == 0)
		pthread_detach(t);
}

void e4_res_set_heap_default_mb(uint64_t mb)
{
	heap_default_mb = mb;
	heap_max = env_u64("E4_FUZZ_HEAP_MAX_MB", heap_default_mb) << 20;
}

/* ---- operations ------------------------------------------------------------ */

static void begin(struct e4_fs *fs, struct e4_dev *dev, const char *what,
		  uint64_t arg, uint64_t factor)
{
	pthread_once(&once, init);
	if (atomic_load(&active)) {
		const char *outer = op.what;
		op.what = what;
		die("begins inside operation %s (harness bug)", outer);
	}
	op.what = what;
	op.arg = arg;
	op.fs = fs;
	op.dev = fs ? fs->dev : dev;
	op.block_size = fs ? fs->block_size : 1024;	/* opening: the least */
	counters(fs, op.dev, &op.meta0, &op.bytes0);
	op.start_ns = now_ns();
	op.work_max = work_max * factor;
	atomic_store_explicit(&base, atomic_load_explicit(&live, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(&over_max, 0, memory_order_relaxed);
	atomic_store(&active, true);	/* publishes op to the watchdog */
}

void e4_res_begin(struct e4_fs *fs, struct e4_dev *dev, const char *what,
		  uint64_t arg)
{
	begin(fs, dev, what, arg, 1);
}

void e4_res_begin_fs_wide(struct e4_fs *fs, const char *what)
{
	begin(fs, NULL, what, 0, E4_RES_FS_WIDE);
}

void e4_res_end(struct e4_fs *opened)
{
	uint64_t meta, bytes, work;

	atomic_store(&active, false);
	while (atomic_load(&watching))
		sched_yield();
	work = op_work(opened ? opened : op.fs, &meta, &bytes);
	check_work(work, meta, bytes);
	uint64_t heap = (uint64_t)atomic_load(&over_max);
	if (heap > peak.heap) {
		peak.heap = heap;
		peak.heap_what = op.what;
	}
	if (work > peak.work) {
		peak.work = work;
		peak.work_what = op.what;
	}
	op.what = NULL;
}

void e4_res_take_peak(struct e4_res_peak *out)
{
	*out = peak;
	memset(&peak, 0, sizeof(peak));
}
