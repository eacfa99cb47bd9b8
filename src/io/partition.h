/* SPDX-License-Identifier: MIT */
/*
 * Partition tables of whole-disk images (MBR with logical partitions, GPT),
 * so that a file system can be found inside one.  Not FUSE-specific: works
 * on any readable descriptor.  Every field read from the table is checked
 * against the device size before it is returned.
 */
#ifndef E4_IO_PARTITION_H
#define E4_IO_PARTITION_H

#include <stddef.h>
#include <stdint.h>

#define E4_PART_MAX 128u

enum e4_part_scheme { E4_PART_NONE, E4_PART_MBR, E4_PART_GPT };

struct e4_part {
	unsigned number;	/* as Linux numbers them: sdaN */
	uint64_t offset;	/* bytes */
	uint64_t length;	/* bytes */
};

struct e4_part_table {
	enum e4_part_scheme scheme;
	unsigned count;
	struct e4_part part[E4_PART_MAX];
};

/*
 * Read the partition table of the device open as @fd (@dev_size bytes).
 * No table is not an error (scheme NONE, count 0).  A table that is there
 * but broken gives -EUCLEAN with the reason in @why.
 */
int e4_part_read(int fd, uint64_t dev_size, struct e4_part_table *t,
		 char *why, size_t why_size);

/* Whether the bytes at @offset start an ext2/3/4 file system (magic). */
int e4_part_has_ext_magic(int fd, uint64_t dev_size, uint64_t offset);

const char *e4_part_scheme_name(enum e4_part_scheme s);

#endif /* E4_IO_PARTITION_H */
