/* SPDX-License-Identifier: MIT */
/*
 * libe4: whole-disk images.  The partition tables (MBR with logical
 * partitions, GPT) and where in an image the file system is: at a byte
 * offset, in partition N, or in the one partition that holds an ext2/3/4
 * file system.  Used by e4fuse and e4img alike.
 *
 * Every field read from a table is checked against the device before it is
 * used or returned.  Functions return a negative errno; the reason for a
 * refusal is reported once through the log callback of the request, as one
 * line without the image's name (the caller prefixes it).
 */
#ifndef E4_PARTITION_H
#define E4_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

#include "e4/e4.h"

/* Partitions kept from one table; GPT entry numbers go up to 1024. */
#define E4_PART_MAX 128u
#define E4_PART_NUMBER_MAX 1024u

enum e4_part_scheme { E4_PART_NONE, E4_PART_MBR, E4_PART_GPT };

struct e4_part {
	unsigned number;	/* as Linux numbers them: sdaN */
	uint64_t offset;	/* bytes from the start of the device */
	uint64_t length;	/* bytes */
};

struct e4_part_table {
	enum e4_part_scheme scheme;
	unsigned count;
	struct e4_part part[E4_PART_MAX];
};

/*
 * Read the partition table of @dev.  No table is not an error (scheme
 * NONE, count 0).  A table that is there but broken is -EUCLEAN, reported
 * through @log ("GPT header checksum mismatch").  @log may be NULL.
 */
int e4_part_read(struct e4_dev *dev, struct e4_part_table *t, e4_log_fn log,
		 void *log_ctx);

/* Whether the bytes at @offset of @dev start with an ext2/3/4 superblock
 * (its magic number; nothing else is checked). */
bool e4_has_ext_magic(struct e4_dev *dev, uint64_t offset);

/* What another kind of file system at the start of @dev looks like, by its
 * magic bytes ("a FAT file system", ...), or NULL when none is known. */
const char *e4_other_fs_guess(struct e4_dev *dev);

/* "MBR", "GPT", "none" */
const char *e4_part_scheme_name(enum e4_part_scheme s);

/* ---- where the file system is ----------------------------------------- */

struct e4_locate_opts {
	bool offset_set;	/* the file system starts at @offset */
	uint64_t offset;	/* bytes */
	unsigned partition;	/* 1..E4_PART_NUMBER_MAX: in this partition;
				 * 0: at the start of the image, else in the
				 * one partition that holds one */
	/* how the user chooses a partition, named when several hold a file
	 * system ("-o partition=N"); NULL: "a partition number" */
	const char *choose_hint;
	e4_log_fn log;		/* why the file system was not found */
	void *log_ctx;
};

struct e4_location {
	uint64_t offset;	/* bytes from the start of the image */
	uint64_t length;	/* bytes; 0: to the end of the image */
	unsigned partition;	/* 0: not taken from a partition table */
	enum e4_part_scheme scheme;
};

/*
 * Find the file system in the image @dev as @o asks.  -EINVAL for an offset
 * past the end, offset and partition both set, no ext2/3/4 partition or
 * more than one; -ENOENT for a partition number the table does not have;
 * -EUCLEAN for a broken table.  Each is reported through @o->log.  Only the
 * magic number is looked at: whether the file system is usable is for
 * e4_fs_open to say.
 */
int e4_locate_fs(struct e4_dev *dev, const struct e4_locate_opts *o,
		 struct e4_location *out);

/*
 * The file system @o asks for in @image, as a device of its own: on success
 * *@out owns @image (and may be @image itself, for a file system that
 * starts the image); on failure @image is still the caller's.  @where, if
 * not NULL, receives the location.
 */
int e4_dev_open_located(struct e4_dev *image, const struct e4_locate_opts *o,
			struct e4_location *where, struct e4_dev **out);

/*
 * A device over bytes [@offset, @offset + @length) of @parent (@length 0:
 * to its end), readable and writable as @parent is.  On success the new
 * device owns @parent, which it returns itself for the whole range; on
 * failure (-EINVAL: @offset past the end; -ENOMEM) @parent is the caller's.
 */
int e4_dev_open_slice(struct e4_dev *parent, uint64_t offset, uint64_t length,
		      struct e4_dev **out);

#endif /* E4_PARTITION_H */
