/* SPDX-License-Identifier: MIT */
/* Fuzz harness: a whole image, opened from memory and walked (walk.c). */
#include <stddef.h>
#include <stdint.h>

#include "walk.h"
#include "xref.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	e4_xref_register(e4_xref_describe_image);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return e4_fuzz_walk(data, size);
}
