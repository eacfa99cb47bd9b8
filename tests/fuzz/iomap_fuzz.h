/* SPDX-License-Identifier: MIT */
#ifndef E4_FUZZ_IOMAP_H
#define E4_FUZZ_IOMAP_H

#include <stddef.h>
#include <stdint.h>

/* Splice @data into /frag's extent tree (splice.h, E4_SPLICE_EXTENT), sweep
 * the file with fuse-iomap's BEGIN, then write to it with BEGIN, END and
 * IOEND on the image made writable (format: iomap_fuzz.c).  Aborts
 * on a reply the kernel would reject. */
int e4_fuzz_iomap(const uint8_t *data, size_t size);

#endif /* E4_FUZZ_IOMAP_H */
