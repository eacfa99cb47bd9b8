/* SPDX-License-Identifier: MIT */
/* The write harness's body (write_fuzz.c), shared by fuzz_write and the
 * corpus run (corpus_write). */
#ifndef E4_WRITE_FUZZ_H
#define E4_WRITE_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct e4_write_fuzz_result {
	bool opened;		/* e4_fs_open succeeded */
	bool written;		/* e4_fs_begin_write succeeded */
	unsigned long outside;	/* device writes past the file system */
	unsigned long overlaps;	/* blocks of the new files on metadata */
};

/*
 * Make the image @data (a copy, in memory) writable and apply a fixed
 * sequence of changes in its root and first directories.  With @res, also
 * judge the result: no device write outside the file system's blocks, and
 * no block of the files the sequence made on the fixed metadata of the
 * image as it was (whatever its bitmaps said).
 */
int e4_fuzz_write(const uint8_t *data, size_t size,
		  struct e4_write_fuzz_result *res);

#endif /* E4_WRITE_FUZZ_H */
