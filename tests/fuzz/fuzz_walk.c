/* SPDX-License-Identifier: MIT */
/* Fuzz harness: a whole image, opened from memory and walked (walk.c). */
#include <stddef.h>
#include <stdint.h>

#include "walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return e4_fuzz_walk(data, size);
}
