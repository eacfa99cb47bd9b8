/* SPDX-License-Identifier: MIT */
/* Fuzz harness: the orphan list and orphan file of an image with orphans,
 * walked at open (orphan_fuzz.h). */
#include <stddef.h>
#include <stdint.h>

#include "orphan_fuzz.h"
#include "xref.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	e4_fuzz_orphan_init();
	e4_xref_register(e4_fuzz_orphan_xref);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return e4_fuzz_orphan(data, size);
}
