/* SPDX-License-Identifier: MIT */
/* Fuzz harness: the dirblock structure of the template image (splice.h). */
#include <stddef.h>
#include <stdint.h>

#include "splice.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	e4_fuzz_splice_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return e4_fuzz_splice_walk(E4_SPLICE_DIRBLOCK, data, size);
}
