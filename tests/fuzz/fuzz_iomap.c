/* SPDX-License-Identifier: MIT */
/* Fuzz harness: fuse-iomap's BEGIN, END and IOEND over a mutated extent tree
 * (iomap_fuzz.c). */
#include "harness.h"
#include "iomap_fuzz.h"
#include "splice.h"

E4_FUZZ_HARNESS(e4_fuzz_splice_xref_init(E4_SPLICE_EXTENT),
		e4_fuzz_iomap(data, size))
