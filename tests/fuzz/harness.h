/* SPDX-License-Identifier: MIT */
/*
 * The libFuzzer entry points of a harness, so that each fuzz_<name>.c is
 * one line: @init runs once (LLVMFuzzerInitialize: register the
 * cross-reference mutator's fields, load a template), @run per input, with
 * the input as `data` and `size`.
 */
#ifndef E4_FUZZ_HARNESS_H
#define E4_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#define E4_FUZZ_HARNESS(init, run)                                        \
	int LLVMFuzzerInitialize(int *argc, char ***argv);                \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);     \
	int LLVMFuzzerInitialize(int *argc, char ***argv)                 \
	{                                                                 \
		(void)argc;                                               \
		(void)argv;                                               \
		init;                                                     \
		return 0;                                                 \
	}                                                                 \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)      \
	{                                                                 \
		return run;                                               \
	}

#endif /* E4_FUZZ_HARNESS_H */
