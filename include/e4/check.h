/* SPDX-License-Identifier: MIT */
/*
 * The offline checker behind `e4img check`: walks every structure reachable
 * through the on-disk library and reports each problem once.  Read-only; it
 * repairs nothing.
 */
#ifndef E4_CHECK_H
#define E4_CHECK_H

#include <stdint.h>

#include "e4/e4.h"

/* Called once per distinct problem: where ("inode 12", "group 3") and the
 * broken rule, as one line. */
typedef void (*e4_check_report_fn)(void *ctx, const char *problem);

/* Collects problems: both the checker's own and every error line the
 * library logs while checking (open the fs with e4_check_log as its log
 * function and the sink as log_ctx).  Identical lines are reported once. */
struct e4_check_sink {
	e4_check_report_fn report;
	void *ctx;
	uint64_t problems;
	/* private: set of lines already reported */
	char **seen;
	size_t seen_slots, seen_used;
};

void e4_check_log(void *sink, enum e4_log_level level, const char *msg);
void e4_check_sink_free(struct e4_check_sink *sink);

struct e4_check_stats {
	uint32_t groups;
	uint64_t inodes_checked;
	uint64_t directories;
	uint64_t entries;
	uint64_t problems;
};

/*
 * Walk everything reachable in @fs and report problems to @sink.  Returns 0
 * when the walk finished (problems are counted in sink->problems), -errno
 * when it could not run (e.g. -EFBIG: too many inodes to track in memory).
 */
int e4_check(struct e4_fs *fs, struct e4_check_sink *sink,
	     struct e4_check_stats *stats);

#endif /* E4_CHECK_H */
