/* SPDX-License-Identifier: MIT */
/*
 * The resource oracle of the fuzz harnesses: one library operation (an
 * open, one directory iteration, one lookup, one read, one xattr get, one
 * FUSE request, one check...) may not use more than a fixed budget, whatever
 * the image says.  A crash is not the only bug a hostile image can cause:
 * memory or work bounded only by a value the image chooses (a count, a size,
 * a block repeated a billion times) is one too, and the sanitizers do not
 * see it.  Going over a budget is reported like a crash: one line on stderr
 * naming the operation and the amounts, then abort().
 *
 * Budgets (environment, read once; 0 turns that check off):
 *   E4_FUZZ_HEAP_MAX_MB   peak live heap above what was live when the
 *                         operation began, MiB (default 64)
 *   E4_FUZZ_WORK_MAX      work units: one per metadata block lookup (cache
 *                         hits included) plus one per block's worth of
 *                         bytes read from the device (default
 *                         E4_RES_WORK_DEFAULT)
 *   E4_FUZZ_OP_MS         wall-clock time of one operation, ms (default
 *                         E4_RES_OP_MS_DEFAULT, far above any valid
 *                         operation even under ASan on a loaded machine).
 *
 * The work counters live in the device (e4_dev_get_counters), so an open
 * is watched while it runs, like any other operation.
 *
 * Heap: AddressSanitizer's allocator hooks in sanitizer builds, otherwise
 * malloc/calloc/realloc/free (and the aligned variants) interposed and
 * forwarded to glibc.  Work: the library's counters (e4_fs_get_counters);
 * a watchdog thread polls them while an operation runs, so an operation
 * that would go on for hours is stopped at its budget, not at the fuzzer's
 * timeout.
 */
#ifndef E4_FUZZ_RESOURCE_H
#define E4_FUZZ_RESOURCE_H

#include <stdint.h>

#include "e4/e4.h"

/* Far above what any valid input of the harnesses or the e2fsprogs corpus
 * needs for one operation (docs/fuzzing.md has the measured peaks). */
/* 2^22: twice what the library's own largest designed bound costs (one
 * readdir or failed lookup may walk 4 GiB of a large_dir directory: 2^20
 * blocks of 4 KiB, a mapping lookup and the block each, docs/limits.md),
 * so that bound passes and anything beyond it is a finding. */
#define E4_RES_WORK_DEFAULT (1u << 22)
#define E4_RES_HEAP_DEFAULT_MB 64u
#define E4_RES_OP_MS_DEFAULT 5000u

/* A harness whose valid inputs need far less than the default heap budget
 * may set a lower default for itself (E4_FUZZ_HEAP_MAX_MB still wins): the
 * journal harness, whose whole log is 1 MiB, so that memory growing with
 * the log's length shows on a log of that size. */
void e4_res_set_heap_default_mb(uint64_t mb);

/*
 * Start measuring operation @what on @fs.  For an open, @fs is NULL and
 * @dev the device being opened (its reads are what can be seen until the
 * file system exists).  @arg is shown in the report (an inode number, a
 * request opcode; 0 for none).  Operations do not nest.
 */
void e4_res_begin(struct e4_fs *fs, struct e4_dev *dev, const char *what,
		  uint64_t arg);

/* The same for an operation over the whole file system (e4_check): its
 * work grows with the image, not with one request, so its work budget is
 * E4_RES_FS_WIDE times the other's. */
#define E4_RES_FS_WIDE 16u
void e4_res_begin_fs_wide(struct e4_fs *fs, const char *what);

/* End the operation begun last; abort with a report if it went over a
 * budget.  @opened: for an open that succeeded, the file system it made
 * (its counters hold the open's own work), else NULL. */
void e4_res_end(struct e4_fs *opened);

/* The largest amounts one operation used since the last call (or since
 * the start), and which operation; then start over.  For measuring valid
 * inputs (corpus_walk --peaks). */
struct e4_res_peak {
	uint64_t heap;		/* bytes */
	const char *heap_what;
	uint64_t work;		/* units */
	const char *work_what;
};
void e4_res_take_peak(struct e4_res_peak *out);

#endif /* E4_FUZZ_RESOURCE_H */
