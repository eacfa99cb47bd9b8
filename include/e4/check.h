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

/* Called once per distinct problem: the broken rule, the object and the
 * line that says both ("inode 12: link count 2, but 1 directory entries
 * name it"; e4_report_format adds " [CK-LINKS]"). */
typedef void (*e4_check_report_fn)(void *ctx, const struct e4_report *problem);

/* Collects problems: both the checker's own and every error the library
 * reports while checking (open the fs with e4_check_report as its report
 * function and the sink as report_ctx).  A problem is reported once per
 * (rule, object), however often the walk meets it. */
struct e4_check_sink {
	e4_check_report_fn report;
	void *ctx;
	uint64_t problems;
	/* private: set of (rule, object) already reported */
	struct e4_check_key *seen;
	size_t seen_slots, seen_used;
};

void e4_check_report(void *sink, const struct e4_report *r);
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
