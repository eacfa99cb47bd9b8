/* SPDX-License-Identifier: MIT */
/*
 * The libFuzzer entry points of a structure harness (splice.h): each
 * fuzz_<structure>.c is one E4_SPLICE_HARNESS(kind) line, so the harnesses
 * stay one source each (as the fuzzers build them) with one body.
 */
#ifndef E4_FUZZ_SPLICE_HARNESS_H
#define E4_FUZZ_SPLICE_HARNESS_H

#include "harness.h"
#include "splice.h"

#define E4_SPLICE_HARNESS(kind)                                           \
	E4_FUZZ_HARNESS(e4_fuzz_splice_xref_init(kind),                   \
			e4_fuzz_splice_walk(kind, data, size))

#endif /* E4_FUZZ_SPLICE_HARNESS_H */
