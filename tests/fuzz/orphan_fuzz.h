/* SPDX-License-Identifier: MIT */
/*
 * Orphan fuzzing: the input replaces the orphan list and the orphan file of
 * a valid image that has orphans (orphan-template.img.zst, made by
 * mk-orphan-template.sh), which is then opened (the open walks both: §14,
 * orphan.c) and walked.  Layout of an input (little-endian, as on disk):
 *   0..3     s_last_orphan
 *   4..7     s_orphan_file_inum
 *   8..11    bit 0: RO_COMPAT_ORPHAN_PRESENT, bit 1: COMPAT_ORPHAN_FILE
 *   12..15   the orphan file's i_size (low)
 *   16..19   its i_flags
 *   20..79   its i_block (extent root, or block pointers without EXTENTS)
 *   80..111  i_dtime (the orphan list's links) of inodes 13..20
 *   112..115 the orphan file's i_size_high
 *   116..    the orphan file's first blocks (at most 4), slots and tail
 * Bytes past the input keep the template's values, so the seed (the
 * template's own values) is valid and every mutation starts from it.  The
 * superblock checksum is kept valid; the rest is opened with checksums
 * computed but accepted.  The template is read from $E4_FUZZ_ORPHAN_TEMPLATE,
 * or from the path compiled in as E4_FUZZ_ORPHAN_TEMPLATE_PATH;
 * $E4_FUZZ_ORPHAN_DUMP=FILE writes the image built from an input.
 */
#ifndef E4_FUZZ_ORPHAN_H
#define E4_FUZZ_ORPHAN_H

#include <stddef.h>
#include <stdint.h>

void e4_fuzz_orphan_init(void);
int e4_fuzz_orphan(const uint8_t *data, size_t size);
/* Write the seeds into @dir: orphan-0 (the template's values) and
 * orphan-list (the orphan file turned off: the classic list alone);
 * 0 or -1. */
int e4_fuzz_orphan_seeds(const char *dir);

struct e4_xref_set;
/* The fields cross-reference mutation changes (xref.h): the list head and
 * links, the orphan file's inode number, mapping and slots. */
void e4_fuzz_orphan_xref(const uint8_t *data, size_t size,
			 struct e4_xref_set *s);

#endif /* E4_FUZZ_ORPHAN_H */
