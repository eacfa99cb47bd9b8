/* SPDX-License-Identifier: MIT */
/*
 * What the journal's reader (journal.c) and its log writer (journal_log.c)
 * share: the journal's state and the jbd2 block helpers, one encoder and
 * decoder for both.
 */
#ifndef E4_ONDISK_JOURNAL_INT_H
#define E4_ONDISK_JOURNAL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ondisk/journal.h"
#include "ondisk/ondisk.h"

struct e4_hmap;

/* A physically contiguous stretch of the journal file. */
struct jrun {
	uint64_t pblk;
	uint32_t lblk, len;
};

struct e4_journal {
	struct e4_fs *fs;
	/* journal geometry (validated) */
	uint32_t maxlen, first, log_end, start, sequence;
	uint32_t compat, incompat;
	uint32_t seed;		/* j_seed, crc32c of the journal uuid */
	bool csum_v2, csum_v3, is64;
	size_t tag_bytes;
	struct e4_inode inode;
	/* the journal file mapped once: by logical block, and by device block */
	struct jrun *runs, *runs_by_pblk;
	size_t nruns;
	/* target block -> struct replay_entry */
	struct e4_hmap *map;
	size_t nreplayed;
	/* the first transaction id the log does not hold committed */
	uint32_t next_seq;
	int32_t jerrno;		/* the error an aborted journal recorded */
	/* the log writer's buffers: the journal superblock, a copy, a
	 * descriptor; where the next transaction may go, and the last one */
	uint8_t *jsb, *blk, *desc;
	uint32_t head, live_start, live_end;
	/* memory held, and the ceiling */
	uint64_t mem, mem_max;
	bool mem_reported;
};

/* v1 (COMPAT_CHECKSUM) commit sums, §13.7: e2fsprogs folds revoke blocks
 * into the sum and the kernel is believed not to, so both are kept. */
struct v1_sums {
	uint32_t without_revokes, with_revokes;
};

bool has_csum(const struct e4_journal *j);
uint32_t jbd2_sb_csum(const uint8_t *b);
uint32_t jbd2_tail_csum(uint32_t seed, const uint8_t *b, size_t B);
uint32_t jbd2_commit_csum(uint32_t seed, const uint8_t *b, size_t B);
uint32_t tag_csum_of(const struct e4_journal *j, uint32_t seq,
			    const uint8_t *data);
int journal_phys(struct e4_journal *j, uint32_t jblk, uint64_t *phys);
int journal_read(struct e4_journal *j, uint32_t jblk, uint8_t *buf,
			uint64_t *phys_out);
int load_superblock(struct e4_journal *j, const uint8_t *b);
int map_journal(struct e4_journal *j);
uint32_t next_block(const struct e4_journal *j, uint32_t b);
void v1_fold(struct v1_sums *v, const uint8_t *b, size_t len,
		    bool is_revoke);

#endif /* E4_ONDISK_JOURNAL_INT_H */
