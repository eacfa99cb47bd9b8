/* SPDX-License-Identifier: MIT */
/* The jbd2 journal and its in-memory replay (§13). */
#ifndef E4_ONDISK_JOURNAL_H
#define E4_ONDISK_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct e4_fs;
struct e4_journal;

/*
 * Scan and replay the journal of @fs into an in-memory map (nothing is
 * written).  On success *out holds the map (possibly empty); install it with
 * e4_cache_set_overlay(cache, e4_journal_overlay_read, *out).
 */
int e4_journal_replay(struct e4_fs *fs, struct e4_journal **out);
/* Overlay callback: 1 and @buf filled if @blk was replayed, 0 if not. */
int e4_journal_overlay_read(void *ctx, uint64_t blk, uint8_t *buf);
bool e4_journal_has_block(const struct e4_journal *j, uint64_t blk);
size_t e4_journal_replayed_blocks(const struct e4_journal *j);
/* The error an aborted journal recorded in its superblock (0: none). */
int32_t e4_journal_errno(const struct e4_journal *j);
/* Bytes of memory the replay holds (0 for NULL). */
uint64_t e4_journal_memory(const struct e4_journal *j);
void e4_journal_free(struct e4_journal *j);
/*
 * Recovery for a read-write session: write every block @j replayed to its
 * home on the device, flush, then empty the log (its superblock's start 0,
 * its sequence past the last transaction) and flush again.  The caller
 * clears needs_recovery afterwards.  A failure leaves the log as it was,
 * so the next mount replays it again.
 */
int e4_journal_recover(struct e4_fs *fs, struct e4_journal *j);

/*
 * The log writer of a read-write session (the journal recovered first, its
 * log empty): each transaction logged and checkpointed at once, see
 * journal.c.  e4_jlog_capacity: the most blocks one transaction may hold.
 * e4_jlog_commit: make @n block versions (sorted by block) durable, file
 * data written before them included.  e4_jlog_close: flush and free.
 */
struct e4_buf;
int e4_jlog_open(struct e4_fs *fs, struct e4_journal **out);
unsigned e4_jlog_capacity(const struct e4_journal *j);
int e4_jlog_commit(struct e4_journal *j, struct e4_buf *const *bufs, size_t n);
int e4_jlog_close(struct e4_journal *j);

#endif /* E4_ONDISK_JOURNAL_H */
