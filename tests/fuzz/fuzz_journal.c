/* SPDX-License-Identifier: MIT */
/* Fuzz harness: the journal log of a dirty image, replayed at open
 * (journal_fuzz.h). */
#include <stddef.h>
#include <stdint.h>

#include "journal_fuzz.h"
#include "xref.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	e4_fuzz_journal_init();
	e4_xref_register(e4_fuzz_journal_xref);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return e4_fuzz_journal(data, size);
}
