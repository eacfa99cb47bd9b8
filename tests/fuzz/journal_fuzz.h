/* SPDX-License-Identifier: MIT */
/*
 * Journal fuzzing: the input becomes the log of a small image that is then
 * marked as needing recovery, so every open replays it (journal.c) before
 * the walk.  Layout of an input:
 *   bytes 0..3    journal superblock s_feature_compat   (be32)
 *   bytes 4..7    journal superblock s_feature_incompat (be32)
 *   bytes 8..11   s_sequence, the first transaction id (be32)
 *   bytes 12..    journal blocks 1, 2, ... (the log), up to the whole log
 *                 (1023 blocks of 1 KiB)
 * The template is read from $E4_FUZZ_JOURNAL_TEMPLATE, or from the path
 * compiled in as E4_FUZZ_JOURNAL_TEMPLATE_PATH.  With $E4_FUZZ_JOURNAL_DUMP
 * set, the dirty image built from an input is also written there (to look
 * at a finding with e4img, e2fsck or the kernel).
 */
#ifndef E4_FUZZ_JOURNAL_H
#define E4_FUZZ_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

void e4_fuzz_journal_init(void);
int e4_fuzz_journal(const uint8_t *data, size_t size);
/* Write a seed holding one valid transaction to @path; 0 or -1. */
int e4_fuzz_journal_seed(const char *path);

/* Write the seeds: journal-0 (as above), journal-revoke and
 * journal-revoke64 (a block logged, revoked by a later transaction, and
 * logged again after the revoke, with 32- and 64-bit block numbers) into
 * @dir; 0 or -1. */
int e4_fuzz_journal_seeds(const char *dir);

struct e4_xref_set;
/* The fields cross-reference mutation changes (xref.h): descriptor tags and
 * revoke records of the log, in the layout the input's features select. */
void e4_fuzz_journal_xref(const uint8_t *data, size_t size,
			  struct e4_xref_set *s);

#endif /* E4_FUZZ_JOURNAL_H */
