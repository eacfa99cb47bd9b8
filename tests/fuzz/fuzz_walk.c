/* SPDX-License-Identifier: MIT */
/* Fuzz harness: a whole image, opened from memory and walked (walk.c). */
#include "harness.h"
#include "walk.h"
#include "xref.h"

E4_FUZZ_HARNESS(e4_xref_register(e4_xref_describe_image),
		e4_fuzz_walk(data, size))
