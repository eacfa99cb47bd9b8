/* SPDX-License-Identifier: MIT */
/*
 * The libFuzzer entry points of a structure harness (splice.h): each
 * fuzz_<structure>.c is one E4_SPLICE_HARNESS(kind) line, so the harnesses
 * stay one source each (as the fuzzers build them) with one body.
 */
#ifndef E4_FUZZ_SPLICE_HARNESS_H
#define E4_FUZZ_SPLICE_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "splice.h"

#define E4_SPLICE_HARNESS(kind)                                           \
	int LLVMFuzzerInitialize(int *argc, char ***argv);                \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);     \
	int LLVMFuzzerInitialize(int *argc, char ***argv)                 \
	{                                                                 \
		(void)argc;                                               \
		(void)argv;                                               \
		e4_fuzz_splice_xref_init(kind);                           \
		return 0;                                                 \
	}                                                                 \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)      \
	{                                                                 \
		return e4_fuzz_splice_walk(kind, data, size);             \
	}

#endif /* E4_FUZZ_SPLICE_HARNESS_H */
