/* SPDX-License-Identifier: MIT */
#ifndef E4_FUZZ_FUSE_H
#define E4_FUZZ_FUSE_H

#include <stddef.h>
#include <stdint.h>

/* Feed the request records in @data (format: fuzz_fuse.c) to the FUSE
 * front end over the template image.  Aborts on a protocol violation. */
int e4_fuzz_fuse(const uint8_t *data, size_t size);

#endif /* E4_FUZZ_FUSE_H */
