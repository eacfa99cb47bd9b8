/* SPDX-License-Identifier: MIT */
/*
 * The e4img harness (fuzz_e4img.c; fuzz_replay e4img): e4img's commands run
 * on a whole image, as a user of the tool would run them, each one
 * operation under the resource oracle (resource.h).
 */
#ifndef E4_FUZZ_E4IMG_H
#define E4_FUZZ_E4IMG_H

#include <stddef.h>
#include <stdint.h>

/* @data is a whole image (the input of fuzz_walk).  Always returns 0. */
int e4_fuzz_e4img(const uint8_t *data, size_t size);

#endif /* E4_FUZZ_E4IMG_H */
