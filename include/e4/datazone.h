/* SPDX-License-Identifier: MIT */
/*
 * Where file data may be: the check e4fuse makes before it hands a data
 * run's device address to the kernel (fuse-iomap), which then reads and
 * writes there itself, past every check of the library.  A run from a
 * corrupt mapping must not reach outside the file system or into its
 * metadata: the system zone (src/alloc/zone.c: group descriptors, bitmaps,
 * inode tables, the journal, the resize inode's block, MMP).
 */
#ifndef E4_DATAZONE_H
#define E4_DATAZONE_H

#include <stddef.h>
#include <stdint.h>

#include "e4/e4.h"

struct e4_datazone;

/* Map the per-file-system part of the system zone (reads the journal
 * inode's mapping); the groups' part is computed per check. */
int e4_datazone_open(struct e4_fs *fs, struct e4_datazone **out);
void e4_datazone_close(struct e4_datazone *z);

/*
 * 0 when the data run @rg of inode @ino (an E4_MAP_MAPPED or UNWRITTEN
 * range from e4_map_range, its device address with the partition offset)
 * lies inside the file system and clear of its metadata; else the
 * corruption is reported (DATA-ZONE, the inode's extent at the range's
 * first block) and -EUCLEAN returned.  Other kinds pass.  Safe from
 * several threads at once.
 */
int e4_datazone_check(struct e4_datazone *z, uint32_t ino,
		      const struct e4_range *rg);

/* Blocks the in-memory journal replay holds newer copies of than the
 * device (0 when the journal was clean, recovered, or not replayed). */
size_t e4_fs_replayed_blocks(const struct e4_fs *fs);

#endif /* E4_DATAZONE_H */
