/* SPDX-License-Identifier: MIT */
/* Reading the harnesses' template images, and writing the image an input
 * made (to look at a finding with e4img, e2fsck, debugfs or the kernel). */
#ifndef E4_FUZZ_TEMPLATE_IO_H
#define E4_FUZZ_TEMPLATE_IO_H

#include <stddef.h>
#include <stdint.h>

/* The template named by $@env, else @path (compiled in by build.sh); aborts
 * saying which variable to set when it cannot be read.  The image is
 * malloc'ed and never freed (one per process). */
uint8_t *e4_fuzz_template_read(const char *env, const char *path, size_t *size);

/* With $@env set, write @img (@size bytes) to the file it names. */
void e4_fuzz_image_dump(const char *env, const uint8_t *img, size_t size);

#endif /* E4_FUZZ_TEMPLATE_IO_H */
